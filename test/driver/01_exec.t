#!/usr/bin/perl
# drydock exec: the sandbox lifecycle (foundation issue).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use DD;
use File::Temp qw(tempdir);
use Test::More;

my $dd = drydock();
my $tmp = tempdir(CLEANUP => 1);
chmod 0755, $tmp;
my $ipcs_before = ipcs_count();

# --help, --version, usage errors
{
    my $r = run_cmd([$dd, '--version']);
    is($r->{rc}, 0, '--version exits 0');
    like($r->{out}, qr/^drydock \d+\.\d+\.\d+$/m, '--version prints the version');
    $r = run_cmd([$dd, '--help']);
    like($r->{out}, qr/drydock exec/, '--help lists exec');
    $r = run_cmd([$dd, 'frobnicate']);
    is($r->{rc}, 2, 'unknown command exits 2');
    like($r->{err}, qr/^drydock: unknown command "frobnicate"/, 'error is one drydock: line');
    $r = run_cmd([$dd, 'exec']);
    is($r->{rc}, 2, 'exec without a command exits 2');
}

# psql select 1 as the caller
{
    my $r = run_cmd([$dd, 'exec', '--', 'psql', '-X', '-At', '-c', 'select 1']);
    is($r->{rc}, 0, 'exec psql exits 0') or diag($r->{err});
    is($r->{out}, "1\n", 'select 1 through the sandbox');
}

# as an unprivileged user (when we are root)
SKIP: {
    skip 'not root: already unprivileged', 2 if $> != 0;
    skip 'nobody cannot reach the tree (private directory)', 2 unless nobody_can_use($dd);
    my $r = run_cmd(['runuser', '-u', 'nobody', '--', $dd, 'exec', '--', 'psql', '-X', '-At', '-c', 'select current_user']);
    is($r->{rc}, 0, 'exec as nobody exits 0') or diag($r->{err});
    is($r->{out}, "drydock_admin\n", 'as nobody, psql reaches the sandbox');
}

# isolation facts seen from inside, and nothing left afterwards
{
    my $probe = <<'PERL';
use IO::Socket::IP;
my $port = $ENV{PGPORT};
for my $h ('127.0.0.1', '::1') {
    my $s = IO::Socket::IP->new(PeerHost => $h, PeerPort => $port, Timeout => 2);
    print "$h ", ($s ? "accepted" : "refused"), "\n";
}
print "host $ENV{PGHOST}\n";
print "la [", `psql -X -At -c 'show listen_addresses'` =~ s/\n//r, "]\n";
print "service ", (defined $ENV{PGSERVICE} ? $ENV{PGSERVICE} : "unset"), "\n";
PERL
    my $r = run_cmd([$dd, 'exec', '--', 'perl', '-e', $probe],
        env => { PGHOST => '127.0.0.1', PGPORT => '5432', PGSERVICE => 'elsewhere', PGSERVICEFILE => "$tmp/nothing", PGOPTIONS => '-c search_path=evil' });
    is($r->{rc}, 0, 'probe ran') or diag($r->{err});
    like($r->{out}, qr/^127\.0\.0\.1 refused$/m, 'TCP 127.0.0.1:PORT refused');
    like($r->{out}, qr/^::1 refused$/m, 'TCP [::1]:PORT refused');
    like($r->{out}, qr/^la \[\]$/m, 'listen_addresses is empty');
    like($r->{out}, qr/^service unset$/m, 'the caller\'s PGSERVICE is not passed on');
    my ($host) = $r->{out} =~ /^host (\S+)$/m;
    like($host // '', qr{/drydock-\w{6}$}, 'PGHOST is the private run directory, not the caller\'s');
    ok(!-e $host, 'run directory removed after exec');
    is(scalar(postgres_pids_in($host)), 0, 'no process of the sandbox remains');
}

# two execs in parallel
{
    my @pids;
    for my $i (1 .. 2) {
        my $pid = fork();
        if ($pid == 0) {
            my $r = run_cmd([$dd, 'exec', '--', 'psql', '-X', '-At', '-c', "select $i"]);
            exit($r->{rc} == 0 && $r->{out} eq "$i\n" ? 0 : 1);
        }
        push @pids, $pid;
    }
    my $ok = 0;
    for (@pids) { waitpid($_, 0); $ok++ if $? == 0; }
    is($ok, 2, 'two parallel execs both succeed');
}

# SIGTERM to the driver while CMD runs: teardown, exit 128+15
{
    my $marker = "$tmp/host-term";
    my $pid = fork();
    if ($pid == 0) {
        open(STDERR, '>', "$tmp/term.err");
        exec($dd, 'exec', '--', 'sh', '-c', "echo \$PGHOST > $marker; sleep 30");
    }
    ok(wait_until(sub { -s $marker }, 30), 'sandbox started');
    chomp(my $host = DD::slurp($marker) // '');
    kill 'TERM', $pid;
    waitpid($pid, 0);
    is($? >> 8, 143, 'SIGTERM: exit 143');
    ok(!-e $host, 'SIGTERM: run directory removed');
    is(scalar(postgres_pids_in($host)), 0, 'SIGTERM: no process remains');
    like(DD::slurp("$tmp/term.err") // '', qr/interrupted by TERM/, 'SIGTERM: says it was interrupted');
}

# kill -9 of the driver: postmaster gone within 2 s, gc removes the directory
{
    my $marker = "$tmp/host-kill";
    my $pid = fork();
    if ($pid == 0) {
        open(STDERR, '>', '/dev/null');
        exec($dd, 'exec', '--', 'sh', '-c', "echo \$PGHOST > $marker; exec sleep 30");
    }
    ok(wait_until(sub { -s $marker }, 30), 'sandbox started');
    chomp(my $host = DD::slurp($marker) // '');
    kill 'KILL', $pid;
    waitpid($pid, 0);
    ok(wait_until(sub { postgres_pids_in("$host/data") == 0 }, 2), 'kill -9: no postgres process after 2 s');
    ok(-d $host, 'kill -9: the run directory is left for gc');
    my $r = run_cmd([$dd, 'gc']);
    is($r->{rc}, 0, 'gc exits 0') or diag($r->{err});
    like($r->{out}, qr/^removed \Q$host\E$/m, 'gc says what it removed');
    ok(!-e $host, 'gc removed the run directory');
}

# a kept sandbox survives the driver and is removed by naming it
{
    my $r = run_cmd([$dd, 'exec', '--keep', '--database', 'kept']);
    is($r->{rc}, 0, '--keep without a command exits 0') or diag($r->{err});
    my ($host) = $r->{err} =~ /host=(\S+)/;
    ok($host && -d $host, '--keep leaves the run directory');
    my $q = run_cmd(['psql', '-X', '-At', '-c', 'select current_database()', "host=$host port=" . (($r->{err} =~ /port=(\d+)/)[0]) . " user=drydock_admin dbname=kept"]);
    is($q->{out}, "kept\n", 'the kept sandbox answers');
    $r = run_cmd([$dd, 'gc']);
    ok(-d $host, 'gc without arguments leaves a kept sandbox');
    $r = run_cmd([$dd, 'gc', $host]);
    is($r->{rc}, 0, 'gc RUNDIR exits 0') or diag($r->{err});
    ok(!-e $host, 'gc RUNDIR removed the kept sandbox');
    ok(wait_until(sub { postgres_pids_in("$host/data") == 0 }, 2), 'its postmaster is gone');
}

# TMPDIR too long for a socket path falls back to /tmp
{
    my $long = "$tmp/" . ('x' x 90);
    mkdir $long; chmod 0755, $long;
    my $r = run_cmd([$dd, 'exec', '--', 'sh', '-c', 'echo $PGHOST'], env => { TMPDIR => $long });
    is($r->{rc}, 0, 'long TMPDIR still works') or diag($r->{err});
    like($r->{out}, qr{^/tmp/drydock-}, 'long TMPDIR falls back to /tmp');
    $r = run_cmd([$dd, 'exec', '--', 'sh', '-c', 'echo $PGHOST'], env => { TMPDIR => $tmp });
    like($r->{out}, qr{^\Q$tmp\E/drydock-}, 'TMPDIR is honoured');
}

is(ipcs_count(), $ipcs_before, 'no SysV shared memory segment leaked');
done_testing();

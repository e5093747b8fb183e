#!/usr/bin/perl
# A caller environment that points elsewhere (issue 8): PGHOST/PGPORT at a
# decoy TCP listener on loopback, PGSERVICE with a service file (and
# ~/.pg_service.conf), PGPASSFILE, PGPASSWORD, PSQLRC and a ~/.psqlrc that
# runs a shell command and SQL.  The decoy records every connection: it must
# record none, and no psqlrc may run.  For `drydock run` and `drydock exec`.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use DD;
use DDRun;
use File::Temp ();
use IO::Socket::IP;
use POSIX ();
use Test::More;

my $dd = drydock();
my $tmp = File::Temp->newdir(DIR => '/tmp', TEMPLATE => 'ddeXXXXXX');
chmod 0777, "$tmp";

# the decoy: accepts on 127.0.0.1, appends one line per connection to a log
my $decoy = IO::Socket::IP->new(LocalHost => '127.0.0.1', LocalPort => 0, Listen => 16, ReuseAddr => 1) or die "decoy: $!";
my $dport = $decoy->sockport;
my $dlog = "$tmp/decoy.log";
my $dpid = fork() // die;
if ($dpid == 0) {
    while (my $c = $decoy->accept) {
        open(my $fh, '>>', $dlog); print $fh "connection from ", $c->peerhost, "\n"; close $fh;
        close $c;
    }
    POSIX::_exit(0);
}
close $decoy;
sub decoy_hits { my $s = DD::slurp($dlog) // ''; return scalar(() = $s =~ /^connection/mg); }

# the control: the decoy does record a connection made with this environment
my $home = "$tmp/home";
mkdir $home; chmod 0777, $home;
my $marker = "$tmp/psqlrc-ran";
my $rc_text = "\\! touch $marker\nCREATE TABLE public.psqlrc_ran (x int);\n\\set ON_ERROR_STOP 0\n";
for my $f ("$home/.psqlrc", "$tmp/psqlrc", "$home/.psqlrc-15") {
    open(my $fh, '>', $f) or die; print $fh $rc_text; close $fh;
}
my $svc = "[decoy]\nhost=127.0.0.1\nport=$dport\nuser=victim\ndbname=production\n";
for my $f ("$tmp/services.conf", "$home/.pg_service.conf") {
    open(my $fh, '>', $f) or die; print $fh $svc; close $fh;
}
my $secret = 'decoy-Pa55word-' . $$;
open(my $pf, '>', "$tmp/pgpass") or die; print $pf "*:*:*:*:$secret\n"; close $pf;
chmod 0600, "$tmp/pgpass";
open($pf, '>', "$home/.pgpass") or die; print $pf "*:*:*:*:$secret\n"; close $pf;
chmod 0600, "$home/.pgpass";

my %hostile = (
    HOME => $home, PGHOST => '127.0.0.1', PGPORT => $dport, PGHOSTADDR => '127.0.0.1',
    PGSERVICE => 'decoy', PGSERVICEFILE => "$tmp/services.conf", PGSYSCONFDIR => $tmp,
    PGPASSFILE => "$tmp/pgpass", PGPASSWORD => $secret, PSQLRC => "$tmp/psqlrc",
    PGDATABASE => 'production', PGUSER => 'victim', PGOPTIONS => '-c search_path=evil',
    PGCONNECT_TIMEOUT => 2, PGSSLMODE => 'require', PGAPPNAME => 'decoy',
);

{
    my $r = run_cmd(['psql', '-X', '-c', 'select 1'], env => { %hostile, PGHOST => undef, PGHOSTADDR => undef, PGPORT => undef });
    ok(wait_until(sub { decoy_hits() >= 1 }, 5), 'control: a libpq client in this environment reaches the decoy (via PGSERVICE)');
    unlink $dlog;
}

# drydock run in the hostile environment
{
    my $r = dd_run('env-run', ['--schema', 'app', '--scaffold-schema', F('simple/up.sql'), F('simple/down.sql')], env => \%hostile);
    is($r->{rc}, 0, 'env-run: exit 0: the environment redirected nothing') or diag($r->{err});
    is(decoy_hits(), 0, 'env-run: the decoy recorded no connection');
    ok(!-e $marker, 'env-run: no psqlrc ran');
    unlike(all_output_text($r), qr/\Q$secret\E/, 'env-run: PGPASSWORD/.pgpass password in no output');
    like($r->{report}{environment}{socket_directory} // '', qr{^/tmp/dd\w+/drydock-XXXXXX}, 'env-run: the sandbox was the private socket');
}

# drydock exec: the command gets the sandbox, not the caller's service/host; psql there reads no psqlrc
{
    my $probe = 'psql -c "select current_database(), current_setting(\'search_path\')" -At; '
              . 'echo "svc=${PGSERVICE-unset} pass=${PGPASSWORD-unset} hostaddr=${PGHOSTADDR-unset} opts=${PGOPTIONS-unset}"';
    my $r = run_cmd([$dd, 'exec', '--', 'sh', '-c', $probe], env => \%hostile);
    is($r->{rc}, 0, 'env-exec: exit 0') or diag($r->{err});
    like($r->{out}, qr/^sandbox\|"\$user", public$/m, 'env-exec: psql reached the sandbox database, caller\'s PGOPTIONS ignored');
    like($r->{out}, qr/^svc=unset pass=unset hostaddr=unset opts=unset$/m, 'env-exec: the caller\'s PG* variables are not passed on');
    is(decoy_hits(), 0, 'env-exec: the decoy recorded no connection');
    ok(!-e $marker, 'env-exec: no psqlrc ran (PSQLRC=/dev/null)');
    unlike($r->{out} . $r->{err}, qr/\Q$secret\E/, 'env-exec: no password in the output');
}

# the same for a caller running unprivileged (as root: nobody)
SKIP: {
    skip 'not root', 3 if $> != 0;
    my $r = dd_run('env-nobody', ['--schema', 'app', '--scaffold-schema', F('simple/up.sql'), F('simple/down.sql')],
                   env => \%hostile, user => 'nobody');
    is($r->{rc}, 0, 'env-nobody: exit 0') or diag($r->{err});
    is(decoy_hits(), 0, 'env-nobody: the decoy recorded no connection');
    ok(!-e $marker, 'env-nobody: no psqlrc ran');
}

# the driver is not dumpable: a process of its uid (its command, the cluster
# when drydock is not root) cannot read its environment from /proc
SKIP: {
    skip 'not root', 2 if $> != 0;
    my $r = run_cmd(['runuser', '-u', 'nobody', '--', 'env', "DRYDOCK_TEST_CANARY=$secret", $dd, 'exec', '--',
                     'sh', '-c', 'cat /proc/$PPID/environ; echo "rc=$?"']);
    like($r->{out}, qr/^rc=[1-9]/m, 'not dumpable: the driver\'s /proc/PID/environ is unreadable to its own uid');
    unlike($r->{out} . $r->{err}, qr/\Q$secret\E/, 'not dumpable: the secret does not show');
}

kill 'KILL', $dpid; waitpid($dpid, 0);
my @left = grep { -d $_ } glob("$tmp/drydock-??????");
is(scalar(@left), 0, 'no run directory left');
done_testing();

#!/usr/bin/perl
# Containment that holds when the artifacts are superuser (issue 20): the
# postmaster and everything it starts see a filesystem of their own -- the
# system and the installation read-only, the run directory, private /tmp,
# /dev/shm and /proc, nothing else of the host.  A superuser migration
# (--apply-as-superuser, the attempts in dynamic SQL inside DO blocks, which
# the preflight does not see) tries COPY ... TO PROGRAM, COPY ... TO a file,
# lo_export, pg_read_binary_file of another cluster's data directory, and a
# write into the run directory of a second sandbox running at the same time:
# each fails or lands inside the sandbox, and the host, checked from
# outside, is unchanged.  As root and as nobody (through an unprivileged user
# namespace); and where the kernel refuses user namespaces, a superuser is
# refused unless --allow-weak-containment, which the report then states.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use DD;
use DDRun;
use File::Temp ();
use POSIX ();
use Test::More;

my $dd = drydock();
my $tmp = File::Temp->newdir(DIR => '/tmp', TEMPLATE => 'ddfXXXXXX');
chmod 0777, "$tmp";
my $M = "ddfs$$";
my $other_cluster = '/var/lib/postgresql/15/main/PG_VERSION';
my @host_tmp = map { "/tmp/$M-$_" } qw(prog copy lo exec);
my @host_mine = map { "$tmp/$M-$_" } qw(prog copy lo);

# control: the hole is real -- the cluster's OS user can read another
# cluster's files and write to the host's /tmp, outside any sandbox
SKIP: {
    skip 'not root', 1 if $> != 0;
    skip "no $other_cluster here", 1 unless -e $other_cluster;
    is(system('runuser', '-u', 'postgres', '--', 'test', '-r', $other_cluster), 0,
       'control: the cluster user (postgres) can read another cluster\'s PG_VERSION on the host');
}
# what other services keep in /etc for the same user (pgbouncer's userlist,
# pgbackrest.conf): only the system files of /etc are in the server's view
my $etc_secret = "/etc/drydock-test-$M.conf";
if ($> == 0) { open(my $f, '>', $etc_secret) or die; print $f "secret\n"; close $f; chmod 0644, $etc_secret; }
END { unlink $etc_secret if $etc_secret && $> == 0; }
my $other_before = -e $other_cluster ? join(',', (stat $other_cluster)[7, 9]) . DD::slurp($other_cluster) : undef;

# a second sandbox, running while the first one tries to reach it
my $second_pid = fork() // die;
if ($second_pid == 0) {
    exec($dd, 'exec', '--quiet', '--', 'sh', '-c',
         "echo \"\$PGHOST\" > $tmp/second.host; while [ ! -e $tmp/second.release ]; do sleep 0.1; done") or POSIX::_exit(127);
}
ok(wait_until(sub { -s "$tmp/second.host" }, 60), 'a second sandbox is running');
chomp(my $second = DD::slurp("$tmp/second.host") // '');
ok(-d "$second/data", "the second sandbox's run directory exists on the host ($second)");

# the migration: every attempt reports itself as a NOTICE "probe NAME: ok|failed: why"
sub probe {
    my ($name, $sql) = @_;
    (my $q = $sql) =~ s/'/''/g;
    return "DO \$\$ BEGIN EXECUTE '$q'; RAISE NOTICE 'probe $name: ok'; "
         . "EXCEPTION WHEN OTHERS THEN RAISE NOTICE 'probe $name: failed: %', SQLERRM; END \$\$;\n";
}
sub write_file { my ($p, $s) = @_; open(my $f, '>', $p) or die "$p: $!"; print $f $s; close $f; chmod 0644, $p; }

my $up = "CREATE TABLE app.t1 (id integer PRIMARY KEY);\n"
    . probe('program-tmp', "COPY (SELECT 1) TO PROGRAM 'touch /tmp/$M-prog'")
    . probe('program-host', "COPY (SELECT 1) TO PROGRAM 'echo x > $tmp/$M-prog'")
    . probe('copy-tmp', "COPY (SELECT 'x') TO '/tmp/$M-copy'")
    . probe('copy-host', "COPY (SELECT 'x') TO '$tmp/$M-copy'")
    . probe('lo-make', "SELECT lo_from_bytea(424242, 'x')")
    . probe('lo-tmp', "SELECT lo_export(424242, '/tmp/$M-lo')")
    . probe('lo-host', "SELECT lo_export(424242, '$tmp/$M-lo')")
    . probe('lo-unlink', "SELECT lo_unlink(424242)")
    . probe('read-other-cluster', "SELECT pg_read_binary_file('$other_cluster')")
    . probe('read-etc', "SELECT pg_read_binary_file('$etc_secret')")
    . probe('read-passwd', "SELECT pg_read_binary_file('/etc/passwd')")
    . probe('write-second', "COPY (SELECT 'pwned') TO '$second/pwned'")
    . probe('read-second', "SELECT pg_read_binary_file('$second/data/PG_VERSION')")
    . probe('program-second', "COPY (SELECT 1) TO PROGRAM 'echo pwned > $second/pwned2'");
write_file("$tmp/up.sql", $up);
write_file("$tmp/down.sql", "DROP TABLE app.t1;\n");

sub probes_of {
    my ($text) = @_;
    my %p;
    $p{$1} = $2 while $text =~ /probe ([a-z-]+): (ok|failed[^\n]*)/g;
    return \%p;
}

sub check_run {
    my ($label, $r) = @_;
    is($r->{rc}, 0, "$label: the superuser migration ran") or diag($r->{err});
    my $p = probes_of(all_output_text($r));
    # inside the sandbox's private /tmp: the write works, the host never sees it
    is($p->{'program-tmp'}, 'ok', "$label: COPY TO PROGRAM ran (inside the sandbox)");
    is($p->{'copy-tmp'}, 'ok', "$label: COPY TO /tmp/... ran (inside the sandbox)");
    is($p->{'lo-make'}, 'ok', "$label: a large object was made");
    is($p->{'lo-tmp'}, 'ok', "$label: lo_export to /tmp/... ran (inside the sandbox)");
    # into a host directory, another cluster, another sandbox: refused
    like($p->{'program-host'} // '', qr/^failed/, "$label: COPY TO PROGRAM writing into a host directory failed");
    like($p->{'copy-host'} // '', qr/^failed.*No such file or directory/, "$label: COPY TO a host directory failed: not there");
    like($p->{'lo-host'} // '', qr/^failed.*No such file or directory/, "$label: lo_export into a host directory failed: not there");
    like($p->{'read-other-cluster'} // '', qr/^failed.*No such file or directory/,
         "$label: pg_read_binary_file of another cluster's data directory failed: not there");
    SKIP: {
        skip 'not root: no file of our own in /etc', 1 if $> != 0;
        like($p->{'read-etc'} // '', qr/^failed.*No such file or directory/, "$label: a service's file in /etc (readable on the host) is not there");
    }
    is($p->{'read-passwd'}, 'ok', "$label: the system files of /etc are (read-only)");
    like($p->{'write-second'} // '', qr/^failed.*No such file or directory/, "$label: COPY into the second sandbox's run directory failed");
    like($p->{'read-second'} // '', qr/^failed.*No such file or directory/, "$label: reading the second sandbox's data directory failed");
    like($p->{'program-second'} // '', qr/^failed/, "$label: a program writing into the second sandbox failed");
    # the host, from outside
    ok(!-e $_, "$label: the host has no $_") for @host_tmp, @host_mine;
    ok(!-e "$second/pwned" && !-e "$second/pwned2", "$label: the second sandbox's run directory is untouched");
    my $now = -e $other_cluster ? join(',', (stat $other_cluster)[7, 9]) . DD::slurp($other_cluster) : undef;
    is($now, $other_before, "$label: the other cluster's file is unchanged");
    # the report proves the view it ran in
    my $env = $r->{report}{environment} // {};
    is($env->{containment}{level}, 'full', "$label: environment.containment.level is full");
    like($env->{containment}{namespaces} // '', qr/\bmnt pid ipc uts net\b/, "$label: mount, pid, ipc, uts and net namespaces observed");
    my %facts = map { $_->{fact} => $_ } @{ $r->{report}{isolation}{facts} || [] };
    for my $f ("postmaster namespaces other than the driver's", 'postmaster pid seen by the server',
               'root filesystem seen by the server', 'host directories seen by the server (they exist on the host)',
               'a file the server writes to /tmp') {
        ok($facts{$f} && $facts{$f}{ok}, "$label: isolation fact holds: $f") or diag(explain($facts{$f}));
    }
    like($facts{'root filesystem seen by the server'}{observed} // '', qr{^/ read-only}, "$label: the server sees / read-only");
    like($facts{'a file the server writes to /tmp'}{observed} // '', qr/the server sees it; the host's .*: absent/,
         "$label: the /tmp probe landed in the private /tmp only");
    unlike(all_output_text($r), qr/Containment was weak/, "$label: N-3 does not call the containment weak");
}

check_run('root', dd_run('root', ['--apply-as-superuser', '--schema', 'app', '--scaffold-schema', "$tmp/up.sql", "$tmp/down.sql"]));

SKIP: {
    skip 'not root: cannot run as nobody', 35 if $> != 0;
    skip 'nobody cannot reach the tree (private directory)', 35 unless nobody_can_use($dd, "$tmp/up.sql");
    check_run('nobody', dd_run('nobody', ['--apply-as-superuser', '--schema', 'app', '--scaffold-schema', "$tmp/up.sql", "$tmp/down.sql"],
                               user => 'nobody'));
}

# drydock exec: the command's server has the same view
{
    my $sql = "COPY (SELECT 1) TO '/tmp/$M-exec'";
    my $r = run_cmd([$dd, 'exec', '--quiet', '--', 'sh', '-c',
                     "psql -X -v ON_ERROR_STOP=1 -c \"$sql\" && psql -XAt -c \"SELECT pg_read_binary_file('$other_cluster')\""]);
    isnt($r->{rc}, 0, 'exec: reading another cluster\'s file through the handed-out superuser failed');
    like($r->{err}, qr/could not open file .*No such file or directory/, 'exec: ... because it is not there');
    ok(!-e "/tmp/$M-exec", 'exec: the COPY to /tmp stayed in the sandbox');
}

# release the second sandbox: it ends cleanly, nothing reached it
open(my $rel, '>', "$tmp/second.release") or die; close $rel;
waitpid($second_pid, 0);
is($? >> 8, 0, 'the second sandbox ended cleanly');
ok(!-e $second, 'the second sandbox removed its run directory');

# Where the kernel refuses user namespaces, an unprivileged driver gets no
# view of its own: a superuser is refused unless --allow-weak-containment,
# and the report says what was and was not in place.  The refusal is real:
# the driver runs as nobody in a user namespace whose limit on nested user
# namespaces is 0.
sub without_userns {
    my (@cmd) = @_;
    pipe(my $r1, my $w1) or die;
    pipe(my $r2, my $w2) or die;
    my $out = File::Temp->new;
    my $err = File::Temp->new;
    my $pid = fork() // die;
    if ($pid == 0) {
        close $r1; close $w2;
        open(STDIN, '<', '/dev/null'); open(STDOUT, '>', "$out"); open(STDERR, '>', "$err");
        syscall(272, 0x10000000) == 0 or POSIX::_exit(120);    # unshare(CLONE_NEWUSER)
        syswrite($w1, 'u'); close $w1;
        sysread($r2, my $b, 1);
        open(my $f, '>', '/proc/sys/user/max_user_namespaces') or POSIX::_exit(121);
        print $f "0\n"; close $f or POSIX::_exit(122);
        POSIX::setgid(65534); $) = '65534 65534'; POSIX::setuid(65534) or POSIX::_exit(123);
        exec(@cmd) or POSIX::_exit(127);
    }
    close $w1; close $r2;
    sysread($r1, my $b, 1);
    for my $m ('uid_map', 'gid_map') {
        open(my $f, '>', "/proc/$pid/$m") or die "$m: $!";
        print $f "0 0 1\n65534 65534 1\n"; close $f or die "$m: $!";
    }
    syswrite($w2, 'g'); close $w2;
    waitpid($pid, 0);
    my $st = $?;
    return { rc => $st >> 8, out => DD::slurp("$out") // '', err => DD::slurp("$err") // '' };
}

SKIP: {
    skip 'not root: cannot set up a user namespace without nested ones', 12 if $> != 0;
    my $w = File::Temp->newdir(DIR => '/tmp', TEMPLATE => 'ddwXXXXXX');
    chmod 0777, "$w";
    my $probe = without_userns('sh', '-c', 'unshare --user true');
    skip 'cannot build the test\'s user namespace here', 12 if $probe->{rc} >= 120 && $probe->{rc} <= 123;
    isnt($probe->{rc}, 0, 'weak: control: no user namespace can be made in there');
    my @run = ('env', "TMPDIR=$w", $dd, 'run', '-q', '--apply-as-superuser', '--schema', 'app', '--scaffold-schema',
               F('simple/up.sql'), F('simple/down.sql'));
    my $r = without_userns(@run, '--out', "$w/refused");
    is($r->{rc}, 4, 'weak: --apply-as-superuser without a view of its own: refused (exit 4)') or diag($r->{err});
    like($r->{err}, qr/could not be given a filesystem of its own.*--allow-weak-containment/, 'weak: says why and how to go on');
    $r = without_userns(@run, '--allow-weak-containment', '--out', "$w/weak");
    is($r->{rc}, 0, 'weak: with --allow-weak-containment it runs') or diag($r->{err});
    my $rep = eval { JSON::PP->new->decode(DD::slurp("$w/weak/report.json") // '') } // {};
    is($rep->{environment}{containment}{level}, 'none', 'weak: environment.containment.level is none');
    like(join(' ', map { $_->{result} } @{ $rep->{environment}{containment}{attempts} || [] }),
         qr/refused/, 'weak: the report says what was tried and refused');
    my ($n3) = grep { $_->{id} eq 'N-3' } @{ $rep->{fidelity_notes} || [] };
    like($n3->{text} // '', qr/Containment was weak.*could read and change/, 'weak: N-3 says what the superuser could reach');
    my %facts = map { $_->{fact} => $_ } @{ $rep->{isolation}{facts} || [] };
    like($facts{'a file the server writes to /tmp'}{observed} // '', qr/present \(removed\)/,
         'weak: the report records that the server\'s write reached the host\'s /tmp (and took it back)');
    like(DD::slurp("$w/weak/execution-log.md") // '', qr/\| containment \| WEAK/, 'weak: the execution log says WEAK');
    # exec hands out a superuser: the same rule
    $r = without_userns('env', "TMPDIR=$w", $dd, 'exec', '--quiet', '--', 'true');
    is($r->{rc}, 4, 'weak: exec refuses too') or diag($r->{err});
    $r = without_userns('env', "TMPDIR=$w", $dd, 'exec', '--quiet', '--allow-weak-containment', '--', 'true');
    is($r->{rc}, 0, 'weak: exec --allow-weak-containment runs') or diag($r->{err});
    is(scalar(grep { -d } glob("$w/drydock-??????")), 0, 'weak: no run directory left');
}

done_testing();

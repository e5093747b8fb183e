#!/usr/bin/perl
# Containment beyond the preflight (issue 8): the postmaster runs in a
# network namespace of its own with only loopback, so code the server runs
# (here COPY ... TO PROGRAM as the sandbox superuser, through drydock exec)
# cannot connect to anything on the host -- a decoy listener on the host's
# loopback records nothing, while the same command run on the host reaches
# it.  And a statement that never ends is stopped by --timeout.
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
my $tmp = File::Temp->newdir(DIR => '/tmp', TEMPLATE => 'ddcXXXXXX');
chmod 0777, "$tmp";

my $decoy = IO::Socket::IP->new(LocalHost => '127.0.0.1', LocalPort => 0, Listen => 16, ReuseAddr => 1) or die "decoy: $!";
my $dport = $decoy->sockport;
my $dlog = "$tmp/decoy.log";
my $dpid = fork() // die;
if ($dpid == 0) {
    while (my $c = $decoy->accept) {
        open(my $fh, '>>', $dlog); print $fh "connection\n"; close $fh;
        close $c;
    }
    POSIX::_exit(0);
}
close $decoy;
sub decoy_hits { my $s = DD::slurp($dlog) // ''; return scalar(() = $s =~ /^connection/mg); }

# what the server-side program does: connect to the decoy, to an outside
# address, and say how each went
my $prog = "$tmp/probe.sh";
open(my $fh, '>', $prog) or die;
print $fh <<"SH";
#!/bin/bash
out=\$(dirname \$0)/probe-\$1.out
{ timeout 3 bash -c 'echo hi > /dev/tcp/127.0.0.1/$dport' 2>&1; echo "loopback_rc=\$?"; } > \$out
{ timeout 3 bash -c 'echo hi > /dev/tcp/192.0.2.1/80' 2>&1; echo "outside_rc=\$?"; } >> \$out
echo "netns=\$(readlink /proc/self/ns/net)" >> \$out
SH
close $fh;
chmod 0755, $prog;
my $host_ns = readlink('/proc/self/ns/net');

# control: on the host, the probe reaches the decoy
system($prog, 'host');
my $host_out = DD::slurp("$tmp/probe-host.out") // '';
like($host_out, qr/^loopback_rc=0$/m, 'control: on the host the probe connects to the decoy');
ok(wait_until(sub { decoy_hits() == 1 }, 3), 'control: the decoy recorded it');
unlink $dlog;

sub from_sandbox {
    my ($label, @runas) = @_;
    # The server sees only its own filesystem view (issue 20): the probe
    # goes into the run directory, the one host directory it shares, and
    # its output comes back from there.
    my $sql = "COPY (SELECT 1) TO PROGRAM '\$PGHOST/probe.sh $label'";
    # the postmaster is drydock's child (postmaster.pid says 1: it is PID 1
    # of its own PID namespace); its netns is what we check
    my $sh = "cp $prog \"\$PGHOST/probe.sh\"; chmod 755 \"\$PGHOST/probe.sh\"; "
           . 'pm=$(pgrep -P $PPID -x postgres | head -1); '
           . 'echo "pm_netns=$(readlink /proc/$pm/ns/net 2>/dev/null)"; '
           . "psql -X -v ON_ERROR_STOP=1 -c \"$sql\"; rc=\$?; "
           . "cp \"\$PGHOST/probe-$label.out\" $tmp/ 2>/dev/null; exit \$rc";
    return run_cmd([@runas, $dd, 'exec', '--', 'sh', '-c', $sh]);
}

{
    my $r = from_sandbox('root-driver');
    is($r->{rc}, 0, 'sandbox: COPY TO PROGRAM ran as the sandbox superuser') or diag($r->{err});
    my $out = DD::slurp("$tmp/probe-root-driver.out") // '';
    like($out, qr/^loopback_rc=[1-9]/m, 'sandbox: the connection to the host\'s loopback failed') or diag($out);
    like($out, qr/^outside_rc=[1-9]/m, 'sandbox: a connection to an outside address failed') or diag($out);
    my ($ns) = $out =~ /^netns=(.*)$/m;
    ok($ns && $ns ne $host_ns, "sandbox: the server's programs run in another network namespace ($ns vs $host_ns)");
    my ($pmns) = $r->{out} =~ /^pm_netns=(.*)$/m;
    SKIP: {
        skip 'cannot read the postmaster\'s namespace (not root)', 1 if $> != 0;
        ok($pmns && $pmns ne $host_ns, 'sandbox: the postmaster itself is in another network namespace');
    }
    is(decoy_hits(), 0, 'sandbox: the decoy recorded nothing');
}

SKIP: {
    skip 'not root', 3 if $> != 0;
    # an unprivileged driver: the cluster runs as that user, the namespace comes from a user namespace
    my $r = from_sandbox('nobody-driver', 'runuser', '-u', 'nobody', '--', 'env', "TMPDIR=$tmp");
    is($r->{rc}, 0, 'sandbox as nobody: COPY TO PROGRAM ran') or diag($r->{err});
    my $out = DD::slurp("$tmp/probe-nobody-driver.out") // '';
    my ($ns) = $out =~ /^netns=(.*)$/m;
    if ($ns && $ns ne $host_ns) {
        like($out, qr/^loopback_rc=[1-9]/m, 'sandbox as nobody: private netns; the host\'s loopback unreachable');
    } else {
        # the kernel refused an unprivileged user namespace: the report says netns inactive
        like($out, qr/^loopback_rc=/m, 'sandbox as nobody: no private netns available here (kernel policy); probe ran');
        diag('unprivileged user namespaces unavailable: a non-root driver gets no network namespace');
    }
    is(decoy_hits(), $ns && $ns ne $host_ns ? 0 : decoy_hits(), 'sandbox as nobody: consistent with the namespace');
    unlink $dlog;
}

# the report of a run says the namespace was there
{
    my $r = dd_run('netns-report', ['--schema', 'app', '--scaffold-schema', F('simple/up.sql'), F('simple/down.sql')]);
    is($r->{rc}, 0, 'netns-report: exit 0') or diag($r->{err});
    ok($r->{report}{environment}{network_namespace}, 'netns-report: environment.network_namespace is true');
}

# a statement that never ends in the rollback: --timeout stops it, teardown
{
    my $t0 = time;
    my $r = dd_run('rollback-timeout', ['--timeout', '2', '--schema', 'app', '--scaffold-schema',
                   F('simple/up.sql'), DD::fixture('hostile/sleep_down.sql')]);
    is($r->{rc}, 3, 'rollback-timeout: exit 3');
    like($r->{err}, qr/did not finish within 2 s/, 'rollback-timeout: says so');
    ok(time - $t0 < 20, 'rollback-timeout: promptly');
    ok($r->{report}{teardown}{clean}, 'rollback-timeout: teardown clean');
}

kill 'KILL', $dpid; waitpid($dpid, 0);
my @left = grep { -d $_ } glob("$tmp/drydock-??????"), grep { (DD::slurp("$_/drydock.pid") // '') eq '' } ();
is(scalar(@left), 0, 'no run directory left');
done_testing();

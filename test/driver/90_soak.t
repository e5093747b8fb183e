#!/usr/bin/perl
# Soak (issue 8), opt-in: DRYDOCK_SOAK=1 (DRYDOCK_SOAK_RUNS, default 200).
# That many `drydock run`s in a row: every one passes, and afterwards the
# count of SysV shared memory segments (ipcs -m, unattached ones: what a
# leaked segment of a dead postmaster looks like), the run directories and
# the postgres processes of the runs are what they were before.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use DD;
use DDRun;
use File::Temp ();
use Test::More;

plan skip_all => 'soak test: set DRYDOCK_SOAK=1 to run it' unless $ENV{DRYDOCK_SOAK};
my $n = $ENV{DRYDOCK_SOAK_RUNS} || 200;

my $shm_all = sub { my @l = grep { /^0x/ } split /\n/, (`ipcs -m` // ''); scalar @l };
my ($ipcs0, $all0) = (ipcs_count(), $shm_all->());
my $t0 = time;
my $tmp = File::Temp->newdir(DIR => '/tmp', TEMPLATE => 'ddsXXXXXX');
chmod 0755, "$tmp";
my ($ok, @bad) = (0);
for my $i (1 .. $n) {
    my $r = DD::run_cmd([DD::drydock(), 'run', '-q', '--schema', 'app', '--scaffold-schema',
                         F('simple/up.sql'), F('simple/down.sql'), '--out', "$tmp/out"],
                        env => { TMPDIR => "$tmp" });
    if ($r->{rc} == 0) { $ok++ } else { push @bad, "run $i: exit $r->{rc}: $r->{err}" }
}
is($ok, $n, "$n runs in a row all pass") or diag(join("\n", @bad[0 .. ($#bad < 4 ? $#bad : 4)]));
my ($ipcs1, $all1) = (ipcs_count(), $shm_all->());
is($ipcs1, $ipcs0, "unattached SysV segments before/after: $ipcs0/$ipcs1");
# every segment, attached or not, includes other clusters of the machine (other
# users' runs come and go): a figure for the log, not a verdict
note("all SysV segments (ipcs -m) before/after: $all0/$all1");
is(scalar(glob("$tmp/drydock-??????")), undef, 'no run directory left');
is(scalar(DD::postgres_pids_in("$tmp")), 0, 'no process of any run left');
diag(sprintf("soak: %d runs in %d s; ipcs -m %d -> %d (unattached %d -> %d)", $n, time - $t0, $all0, $all1, $ipcs0, $ipcs1));
done_testing();

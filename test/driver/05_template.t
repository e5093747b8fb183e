#!/usr/bin/perl
# The template cache (speed issue): built once, cloned after, rebuilt when
# stale or corrupt, safe when several runs race on an empty cache.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use DD;
use File::Temp qw(tempdir);
use JSON::PP ();
use Test::More;

my $dd = drydock();
my $cache = tempdir(CLEANUP => 1);
chmod 0755, $cache;
my %env = (XDG_CACHE_HOME => $cache);
my $sysid_sql = 'select system_identifier from pg_control_system()';

sub tpl_dirs { return grep { -d } glob("$cache/drydock/tpl-*"); }
sub info {
    my ($tpl) = @_;
    my %i = map { /^(\w+)=(.*)$/ ? ($1, $2) : () } split /\n/, (slurp("$tpl/template.info") // '');
    return \%i;
}
sub sysid_of_exec {
    my (@opts) = @_;
    my $r = run_cmd([$dd, 'exec', @opts, '--', 'psql', '-X', '-At', '-c', $sysid_sql], env => \%env);
    chomp(my $s = $r->{out});
    return ($r->{rc}, $s);
}

# several runs race on an empty cache
{
    my @pids;
    for my $i (1 .. 4) {
        my $pid = fork();
        if ($pid == 0) {
            my ($rc) = sysid_of_exec();
            exit($rc);
        }
        push @pids, $pid;
    }
    my $ok = 0;
    for (@pids) { waitpid($_, 0); $ok++ if $? == 0; }
    is($ok, 4, 'four runs racing on an empty cache all succeed');
    is(scalar(tpl_dirs()), 1, 'exactly one template was installed');
    is(scalar(() = glob("$cache/drydock/.build-*")), 0, 'no half-built template is left');
}

my ($tpl) = tpl_dirs();
my $i = info($tpl);
like($i->{system_identifier} // '', qr/^\d+$/, 'template.info records the system identifier');
ok(!-e "$tpl/data/postmaster.pid", 'the template was never started');

# a clone shares the template's system identifier; --fresh does not
{
    my ($rc, $s) = sysid_of_exec();
    is($rc, 0, 'exec from the cached template works');
    is($s, $i->{system_identifier}, 'a clone has the template\'s system identifier');
    is(info($tpl)->{created_at}, $i->{created_at}, 'the template was reused, not rebuilt');
    ($rc, $s) = sysid_of_exec('--fresh');
    is($rc, 0, '--fresh works');
    isnt($s, $i->{system_identifier}, '--fresh runs initdb: a new system identifier');
}

# corrupt templates are detected and rebuilt
for my $case (
    [ 'PG_VERSION missing', sub { unlink "$tpl/data/PG_VERSION" } ],
    [ 'stale postmaster.pid', sub { open(my $f, '>', "$tpl/data/postmaster.pid"); print $f "999999\n"; close $f } ],
    [ 'info does not match pg_control', sub {
        my $t = slurp("$tpl/template.info"); $t =~ s/system_identifier=\d+/system_identifier=1/;
        open(my $f, '>', "$tpl/template.info"); print $f $t; close $f } ],
    [ 'info file missing', sub { unlink "$tpl/template.info" } ],
) {
    my ($name, $break) = @$case;
    my $before = info($tpl)->{system_identifier} // 'none';
    $break->();
    my ($rc, $s) = sysid_of_exec();
    is($rc, 0, "$name: the run still succeeds");
    my $after = info($tpl);
    ok($after->{system_identifier} && $after->{system_identifier} ne $before, "$name: the template was rebuilt");
    is($s, $after->{system_identifier}, "$name: the run used the rebuilt template");
}

# the cache is bounded: building a template pushes the least recently used
# ones out beyond 8 (an old installation's), with their lock files
{
    my @fake;
    for my $n (1 .. 9) {
        my $f = "$cache/drydock/tpl-15-0000000000000fa$n";
        mkdir $f or die "$f: $!";
        open(my $fh, '>', "$f.lock") or die;
        close $fh;
        utime(1_000_000 + $n, 1_000_000 + $n, $f);
        push @fake, $f;
    }
    unlink "$tpl/template.info";	# the real one must be rebuilt: that prunes
    my ($rc) = sysid_of_exec();
    is($rc, 0, 'bounded: the run succeeds');
    my @now = tpl_dirs();
    is(scalar(@now), 8, 'bounded: 8 templates remain');
    ok((grep { $_ eq $tpl } @now), 'bounded: the template just built stayed');
    ok(!-e $fake[0] && !-e $fake[1], 'bounded: the two least recently used went');
    ok(-e $fake[8], 'bounded: a more recently used one stayed');
    is(scalar(grep { !-d substr($_, 0, -5) } glob("$cache/drydock/*.lock")), 0, 'bounded: no lock file outlives its template');
}

# what psql can do (\restrict) is asked once per psql binary and kept in the cache
{
    my @twelve = ('--schema', 'app', '--scaffold-schema', "$DD::ROOT/examples/12-tables/up.sql", "$DD::ROOT/examples/12-tables/down.sql");
    my $run = sub {
        my $out = File::Temp->newdir();
        my $r = run_cmd([$dd, 'run', '-q', @twelve, '--out', "$out/r"], env => \%env);
        my $j = JSON::PP->new->decode(slurp("$out/r/report.json") // '{}');
        return ($r->{rc}, $j->{environment}{psql_restricted_mode});
    };
    my ($rc, $mode) = $run->();
    is($rc, 0, 'psql probe: the run passes');
    my @kept = glob("$cache/drydock/psql-*");
    is(scalar(@kept), 1, 'psql probe: the answer is kept in the cache');
    is(slurp($kept[0]), 'restrict=' . ($mode ? 1 : 0) . "\n", 'psql probe: as the report says');
    # the kept answer is used: claim the opposite, the next run follows it
    open(my $fh, '>', $kept[0]) or die;
    print $fh 'restrict=' . ($mode ? 0 : 1) . "\n";
    close $fh;
    if ($mode) {
        my ($rc2, $mode2) = $run->();
        is($rc2, 0, 'psql probe: a run with the kept answer passes');
        ok(!$mode2, 'psql probe: the kept answer is used, psql is not asked again');
    } else {
        pass('psql probe: this psql has no \\restrict; the reverse claim would fail its runs') for 1 .. 2;
    }
    unlink $kept[0];
    my ($rc3, $mode3) = $run->();
    is($mode3, $mode, 'psql probe: without the kept answer psql is asked again');
    my $gc = run_cmd([$dd, 'gc', '--cache', '--quiet'], env => \%env);
    is(scalar(() = glob("$cache/drydock/psql-*")), 0, 'gc --cache removes the kept answer');
}

# an unusable cache falls back to initdb
{
    my $r = run_cmd([$dd, 'exec', '--', 'psql', '-X', '-At', '-c', 'select 1'],
                    env => { XDG_CACHE_HOME => '/proc/no-such-dir' });
    is($r->{rc}, 0, 'an unusable cache directory falls back to initdb') or diag($r->{err});
}
done_testing();

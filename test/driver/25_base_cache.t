#!/usr/bin/perl
# The base cache (issue 17): the first run with a --base restores it and
# caches the prepared cluster; the next run with the same base clones it and
# reports the same verdicts, saying the base came from the cache; a changed
# base misses; a corrupt entry is rebuilt; gc --cache empties the cache; two
# concurrent first runs both succeed and leave one entry.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use DD;
use DDRun;
use File::Temp qw(tempdir);
use JSON::PP ();
use Test::More;

my $cache = tempdir(CLEANUP => 1);
chmod 0755, $cache;
my %env = (XDG_CACHE_HOME => $cache);
my @mig = (F('base_alter/up.sql'), F('base_alter/down.sql'));
my @args = ('--schema', 'app', '--base', BASE(), @mig);

sub entries { my @e = sort grep { -d } glob("$cache/drydock/base-*"); return @e; }
sub bc { return $_[0]{report}{environment}{base_cache} || {}; }
sub verdicts {
    my ($r) = @_;
    return [map { my $rd = $_; map { "$_->{code}:$_->{status}" } @{ $rd->{verification} || [] }, @{ $rd->{rollback_verification} || [] } }
            @{ $r->{report}{rounds} || [] }];
}
sub commands_of_kind {
    my ($r, $kind) = @_;
    return grep { $_->{kind} eq $kind } @{ $r->{report}{commands} || [] };
}

# first run: restored and cached
my $first = dd_run('first', \@args, env => \%env);
ok($first->{rc} == 0 || $first->{rc} == 1, 'first run: a verdict (exit 0/1)') or diag($first->{err});
is(bc($first)->{origin}, 'restored', 'first run: the base was restored');
ok(bc($first)->{stored_by_this_run}, 'first run: it stored the cache entry');
my @e = entries();
is(scalar(@e), 1, 'one base cache entry');
ok(!-e "$e[0]/data/postmaster.pid", 'the entry has no postmaster.pid');
like(DD::slurp("$e[0]/prepared.json") // '', qr/"apply_role_reason"/, 'the entry records how the base was prepared');
like(DD::slurp("$first->{dir}/execution-log.md"), qr/base restored by this run; cached for the next run/, 'first run: the execution log says restored');

# second run: cloned, same verdicts
my $second = dd_run('second', \@args, env => \%env);
is($second->{rc}, $first->{rc}, 'second run: the same exit code');
is(bc($second)->{origin}, 'cache', 'second run: the base came from the cache');
is($second->{report}{environment}{cluster_origin}, 'base cache clone', 'second run: cluster origin says base cache clone');
like(bc($second)->{created_at} // '', qr/^\d{4}-\d\d-\d\dT/, 'second run: says when the entry was made');
like(DD::slurp("$second->{dir}/execution-log.md"), qr/base restored from cache \(made at \d{4}-/, 'second run: the execution log says restored from cache');
is_deeply(verdicts($second), verdicts($first), 'second run: the same verdicts');
is_deeply($second->{report}{scaffolds}, $first->{report}{scaffolds}, 'second run: the same scaffold notes');
is($second->{report}{environment}{apply_role}, $first->{report}{environment}{apply_role}, 'second run: the same apply role');
is($second->{report}{environment}{apply_role_reason}, $first->{report}{environment}{apply_role_reason}, 'second run: the same reason for it');
is($second->{report}{baseline_fingerprint}, $first->{report}{baseline_fingerprint}, 'second run: the same baseline fingerprint');
is(scalar(commands_of_kind($first, 'base')), 1, 'first run: the command list shows the restore');
is(scalar(commands_of_kind($second, 'base')), 0, 'second run: no restore in the command list');
ok((grep { $_->{command} =~ /BASECACHE\/data to RUN\/data/ } commands_of_kind($second, 'clone')), 'second run: the command list shows the clone');
is(scalar(entries()), 1, 'still one entry');
my @first_cmds = map { $_->{command} } @{ $first->{report}{commands} };
my ($i_base) = grep { $first_cmds[$_] =~ /baseline_save/ } 0 .. $#first_cmds;
my ($i_cache) = grep { $first_cmds[$_] =~ /BASECACHE\/data \(the prepared base/ } 0 .. $#first_cmds;
ok(defined $i_base && defined $i_cache && $i_base < $i_cache, 'first run: the baseline is saved before the base is cached (it goes with the entry)');
is(scalar(grep { $_->{command} =~ /baseline_save/ } @{ $second->{report}{commands} }), 0, 'second run: no baseline_save, it came with the entry');
like(bc($second)->{baseline} // '', qr/saved with the entry/, 'second run: the report says so');

# a target schema the base does not have: created after the cache point, so
# the entry's baseline (saved by the runs above: same base, same entry) does
# not hold, and the hit saves one
{
    my @scaf = ('--schema', 'scaffolded', '--scaffold-schema', '--base', BASE(), F('simple/up.sql'), F('simple/down.sql'));
    my $a = dd_run('scaffold-first', \@scaf, env => \%env);
    my $b = dd_run('scaffold-second', \@scaf, env => \%env);
    is(bc($b)->{origin}, 'cache', 'scaffolded schema: the second run clones the base');
    ok(!exists bc($b)->{baseline}, 'scaffolded schema: the entry\'s baseline is not used');
    is(scalar(grep { $_->{command} =~ /baseline_drop/ } @{ $b->{report}{commands} }), 1, 'scaffolded schema: the entry\'s baseline is dropped');
    is(scalar(grep { $_->{command} =~ /baseline_save/ } @{ $b->{report}{commands} }), 1, 'scaffolded schema: the hit saves the baseline');
    is_deeply($b->{report}{rounds}[0]{residue}, [], 'scaffolded schema: no residue (a stale baseline would miss the scaffolded schema)');
    is($b->{report}{baseline_fingerprint}, $a->{report}{baseline_fingerprint}, 'scaffolded schema: the same baseline both times');
    is($b->{rc}, $a->{rc}, 'scaffolded schema: the same exit code');
}

# a clone carries the sandbox settings once: the entry is a copy of a run's
# cluster, which had them appended already (sandbox.c write_conf)
{
    my $tmp = tempdir(CLEANUP => 1);
    chmod 0755, $tmp;
    my $r = DD::run_cmd([DD::drydock(), 'run', '-q', '--keep', @args, '--out', "$tmp/out"], env => { %env, TMPDIR => $tmp });
    my ($dir) = $r->{err} =~ /host=(\S+) port=/;
    ok($dir && -d "$dir/data", '--keep: the base cache clone is left running') or diag($r->{err});
    my $conf = DD::slurp(($dir // '') . '/data/postgresql.conf') // '';
    is(scalar(() = $conf =~ /^# --- drydock sandbox: /mg), 1, 'the clone has the sandbox settings block once');
    like($conf, qr/^max_connections = 20$/m, 'a run\'s max_connections (replay asks for its workers\' share)');
    DD::run_cmd([DD::drydock(), 'gc', $dir]) if $dir;
    is(scalar(() = glob("$tmp/drydock-??????")), 0, '--keep: gc removed the sandbox');
}

# --fresh bypasses it
{
    my $r = dd_run('fresh', ['--fresh', @args], env => \%env);
    ok(!$r->{report}{environment}{base_cache}, '--fresh: no base cache');
    is_deeply(verdicts($r), verdicts($first), '--fresh: the same verdicts');
}

# a changed base misses
my $changed_base;
{
    my $tmp = tempdir(CLEANUP => 1);
    chmod 0755, $tmp;
    my $b = $changed_base = "$tmp/base.sql";
    open(my $fh, '>', $b) or die;
    print $fh DD::slurp(BASE()), "\nCREATE TABLE app.extra_for_cache_test (id int PRIMARY KEY);\n";
    close $fh;
    my $r = dd_run('changed', ['--schema', 'app', '--base', $b, @mig], env => \%env);
    is(bc($r)->{origin}, 'restored', 'changed base: restored, not cloned');
    is(scalar(entries()), 2, 'changed base: a second entry');
}

# a corrupt entry (pg_control no longer says "shut down") is rebuilt
{
    my $ctl = "$e[0]/data/global/pg_control";
    open(my $fh, '+<', $ctl) or die "$ctl: $!";
    binmode $fh;
    seek($fh, 16, 0);
    print $fh pack('l', 6);		# DB_IN_PRODUCTION: a copy of a running cluster
    close $fh;
    my $r = dd_run('corrupt', \@args, env => \%env);
    is(bc($r)->{origin}, 'restored', 'corrupt entry: not used, the base restored');
    ok(bc($r)->{stored_by_this_run}, 'corrupt entry: rebuilt by this run');
    my $again = dd_run('after-rebuild', \@args, env => \%env);
    is(bc($again)->{origin}, 'cache', 'after the rebuild: cloned again');
    is_deeply(verdicts($again), verdicts($first), 'after the rebuild: the same verdicts');
}

# the cache is bounded, least recently used out: with DRYDOCK_BASE_CACHE_MAX=2,
# after a hit on the changed base's entry, a third base pushes out the
# first base's entry (made later, but used less recently)
{
    my @before = entries();
    my ($changed_entry) = grep { $_ ne $e[0] } @before;
    sleep 1;	# mtimes have a one-second grain in some filesystems
    my $r = dd_run('lru-hit', ['--schema', 'app', '--base', $changed_base, @mig], env => \%env);
    is(bc($r)->{origin}, 'cache', 'bounded: a hit on the changed base');
    my $tmp = tempdir(CLEANUP => 1);
    chmod 0755, $tmp;
    open(my $fh, '>', "$tmp/base.sql") or die;
    print $fh DD::slurp(BASE()), "\nCREATE TABLE app.other_for_cache_test (id int PRIMARY KEY);\n";
    close $fh;
    $r = dd_run('bounded-miss', ['--schema', 'app', '--base', "$tmp/base.sql", @mig],
                env => { %env, DRYDOCK_BASE_CACHE_MAX => 2 });
    ok(bc($r)->{stored_by_this_run}, 'bounded: a third base stored');
    my @now = entries();
    is(scalar(@now), 2, 'bounded: two entries remain');
    ok(!(grep { $_ eq $e[0] } @now), 'bounded: the least recently used entry went out');
    ok((grep { $_ eq $changed_entry } @now), 'bounded: the recently used one stayed');
    is(scalar(grep { !-d substr($_, 0, -5) } glob("$cache/drydock/base-*.lock")), 0, 'bounded: the lock file went with its entry');
}

# a base that fails to restore is never stored: its miss leaves no lock file
{
    my $tmp = tempdir(CLEANUP => 1);
    chmod 0755, $tmp;
    open(my $fh, '>', "$tmp/broken.sql") or die;
    print $fh "CREATE TABLE app.t (id int PRIMARY KEY);\nCREATE TABLE app.t (id int);\n";
    close $fh;
    my @locks_before = sort glob("$cache/drydock/base-*.lock");
    my $r = dd_run('broken-base', ['--schema', 'app', '--base', "$tmp/broken.sql", @mig], env => \%env);
    isnt($r->{rc}, 0, 'a base that fails to restore: the run fails') or diag($r->{err});
    is_deeply([sort glob("$cache/drydock/base-*.lock")], \@locks_before, 'a base that fails to restore: no lock file left for it');
}

# gc --cache empties it, and removes lock files whose entry is gone
{
    open(my $fh, '>', "$cache/drydock/base-15-00000000000dead0.lock") or die;
    close $fh;
    my $r = DD::run_cmd([DD::drydock(), 'gc', '--cache'], env => \%env);
    is($r->{rc}, 0, 'gc --cache: exit 0') or diag($r->{err});
    like($r->{out}, qr/removed .*base-/, 'gc --cache: says what it removed');
    is(scalar(entries()) + scalar(grep { -d } glob("$cache/drydock/tpl-*")), 0, 'gc --cache: the cache is empty');
    is(scalar(() = glob("$cache/drydock/*.lock")), 0, 'gc --cache: no lock file is left');
    $r = DD::run_cmd([DD::drydock(), 'gc', '--cache'], env => \%env);
    like($r->{out}, qr/cache is empty/, 'gc --cache again: nothing to remove');
}

# two concurrent first runs both succeed and leave one entry
{
    my @pids;
    for my $i (1 .. 2) {
        my $pid = fork();
        if ($pid == 0) {
            my $r = DD::run_cmd([DD::drydock(), 'run', '-q', @args, '--out', "$cache/conc$i"], env => \%env);
            exit($r->{rc});
        }
        push @pids, $pid;
    }
    my @rcs;
    for (@pids) { waitpid($_, 0); push @rcs, $? >> 8; }
    is_deeply(\@rcs, [$first->{rc}, $first->{rc}], 'concurrent first runs: both give the verdict');
    is(scalar(entries()), 1, 'concurrent first runs: one entry');
    is(scalar(() = glob("$cache/drydock/.build-*")), 0, 'concurrent first runs: no half-built entry left');
    my $r = dd_run('after-concurrent', \@args, env => \%env);
    is(bc($r)->{origin}, 'cache', 'after the concurrent runs: a hit');
}

# replay --base: the same cache, the same verdicts
{
    my $tmp = tempdir(CLEANUP => 1);
    mkdir "$tmp/h";
    for (['1_alter', 'base_alter']) {
        my ($v, $fx) = @$_;
        for my $d (qw(up down)) {
            open(my $fh, '>', "$tmp/h/$v.$d.sql") or die;
            print $fh DD::slurp(F("$fx/$d.sql"));
            close $fh;
        }
    }
    chmod 0755, $tmp, "$tmp/h";
    chmod 0644, glob("$tmp/h/*");
    my $replay = sub {
        my ($out) = @_;
        my $r = DD::run_cmd([DD::drydock(), 'replay', '-q', "$tmp/h", '--schema', 'app', '--base', BASE(), '--out', "$tmp/$out"],
                            env => { %env, TMPDIR => $tmp });
        $r->{report} = JSON::PP->new->decode(DD::slurp("$tmp/$out/report.json") // '{}');
        is(scalar(() = glob("$tmp/drydock-??????")), 0, "replay $out: no run directory left");
        return $r;
    };
    my $a = $replay->('r1');
    my $b = $replay->('r2');
    ok(bc($a)->{origin} && bc($b)->{origin} eq 'cache', 'replay --base: the second replay clones the base')
        or diag(explain([bc($a), bc($b)]));
    is($b->{rc}, $a->{rc}, 'replay --base: the same exit code');
    is(scalar(@{ $b->{report}{rounds} || [] }), 1, 'replay --base: the pair was replayed');
    is_deeply([map { $_->{verdict} } @{ $b->{report}{rounds} || [] }], [map { $_->{verdict} } @{ $a->{report}{rounds} || [] }],
              'replay --base: the same verdicts');
    is($b->{report}{environment}{apply_role}, $a->{report}{environment}{apply_role}, 'replay --base: the same apply role');
}

# Without --base: the prepared empty database (apply role, database,
# extension) is an entry too.  The first run only marks it as wanted, the
# second stores it, the next clones it
# with the same verdicts and residue; with the target schema created by the
# DDL (nothing changes the database after the entry) the baseline comes
# with the entry; with --scaffold-schema it is saved again after the
# scaffold, and a residue is still found.
{
    my $nc = tempdir(CLEANUP => 1);
    chmod 0755, $nc;
    my %nenv = (XDG_CACHE_HOME => $nc);
    my @cs = ('--schema', 'app', F('creates_schema/up.sql'), F('creates_schema/down.sql'));
    # a one-off run (a CI job on a fresh machine) does not pay for storing it
    my $n0 = dd_run('nobase-once', \@cs, env => \%nenv);
    ok($n0->{rc} == 0 || $n0->{rc} == 1, 'no --base, a first run: a verdict (exit 0/1)') or diag($n0->{err});
    ok(!$n0->{report}{environment}{base_cache}, 'no --base, a first run: nothing cached');
    is(scalar(grep { -d } glob("$nc/drydock/base-*")), 0, 'no --base, a first run: no entry');
    is(scalar(() = glob("$nc/drydock/base-*.wanted")), 1, 'no --base, a first run: the entry is marked as wanted');
    my $n1 = dd_run('nobase-first', \@cs, env => \%nenv);
    ok($n1->{rc} == 0 || $n1->{rc} == 1, 'no --base, first run: a verdict (exit 0/1)') or diag($n1->{err});
    is(bc($n1)->{origin}, 'restored', 'no --base, the second run: prepared by this run');
    ok(bc($n1)->{stored_by_this_run} && bc($n1)->{empty_base}, 'no --base, the second run: it stored the empty-base entry');
    is_deeply(verdicts($n1), verdicts($n0), 'no --base, the second run: the same verdicts as the first');
    is(scalar(grep { -d } glob("$nc/drydock/base-*")), 1, 'no --base: one entry');
    like(DD::slurp("$n1->{dir}/execution-log.md"), qr/no --base: apply role, database and extension prepared by this run; cached for the next run/,
         'no --base, first run: the execution log says so');
    my $n2 = dd_run('nobase-second', \@cs, env => \%nenv);
    is($n2->{rc}, $n1->{rc}, 'no --base, second run: the same exit code') or diag($n2->{err});
    is($n2->{report}{environment}{cluster_origin}, 'base cache clone', 'no --base, second run: a clone of the entry');
    is(bc($n2)->{origin}, 'cache', 'no --base, second run: from the cache');
    like(bc($n2)->{baseline} // '', qr/saved with the entry/, 'no --base, second run: the baseline came with the entry');
    ok(!(grep { $_->{command} =~ /CREATE DATABASE|CREATE EXTENSION|baseline_save/ } @{ $n2->{report}{commands} || [] }),
       'no --base, second run: no database, extension or baseline made');
    like(DD::slurp("$n2->{dir}/execution-log.md"), qr/no --base: apply role, database and extension prepared from cache \(made at \d{4}-/,
         'no --base, second run: the execution log says from cache');
    is_deeply(verdicts($n2), verdicts($n1), 'no --base, second run: the same verdicts');
    is($n2->{report}{baseline_fingerprint}, $n1->{report}{baseline_fingerprint}, 'no --base, second run: the same baseline fingerprint');
    is($n2->{report}{environment}{apply_role}, $n1->{report}{environment}{apply_role}, 'no --base, second run: the same apply role');

    my @res = ('--schema', 'app', '--scaffold-schema', F('rollback_residue/up.sql'), F('rollback_residue/down.sql'));
    my $n3 = dd_run('nobase-scaffold', \@res, env => \%nenv);
    is(bc($n3)->{origin}, 'cache', 'no --base, --scaffold-schema: from the cache');
    ok(!defined bc($n3)->{baseline}, 'no --base, --scaffold-schema: the entry\'s baseline is not used');
    ok((grep { $_->{command} =~ /baseline_save/ } @{ $n3->{report}{commands} || [] }), 'no --base, --scaffold-schema: the baseline is saved after the scaffold');
    is($n3->{rc}, 1, 'no --base, --scaffold-schema: the residue fails the run');
    ok((grep { $_ =~ /^RB00[14]:fail$/ } @{ verdicts($n3) }), 'no --base, --scaffold-schema: the residue is found');
    my $n4 = dd_run('nobase-fresh', [@res, '--fresh'], env => \%nenv);
    is_deeply(verdicts($n4), verdicts($n3), 'no --base: the same verdicts as --fresh (initdb, nothing cached)');
    my $g = DD::run_cmd([DD::drydock(), 'gc', '--cache'], env => \%nenv);
    is($g->{rc}, 0, 'no --base: gc --cache exits 0') or diag($g->{err});
    is(scalar(() = glob("$nc/drydock/base-*")), 0, 'no --base: gc --cache removes the entry, its lock and its marker')
        or diag(join(' ', glob("$nc/drydock/*")));

    # an entry made by a --scaffold-schema run still carries the baseline of
    # the database it holds: a later run that scaffolds nothing uses it
    my $sc = tempdir(CLEANUP => 1);
    chmod 0755, $sc;
    dd_run('nobase-scaffold-once', \@res, env => { XDG_CACHE_HOME => $sc });
    my $s1 = dd_run('nobase-scaffold-first', \@res, env => { XDG_CACHE_HOME => $sc });
    is(bc($s1)->{origin}, 'restored', 'entry by a --scaffold-schema run: stored');
    is(scalar(grep { $_->{command} =~ /baseline_save/ } @{ $s1->{report}{commands} || [] }), 2,
       'entry by a --scaffold-schema run: the entry\'s baseline, then the run\'s after the scaffold');
    my $s2 = dd_run('nobase-after-scaffold', \@cs, env => { XDG_CACHE_HOME => $sc });
    like(bc($s2)->{baseline} // '', qr/saved with the entry/, 'a run without scaffold after it: the entry\'s baseline is used');
    ok(!(grep { $_->{command} =~ /baseline_save/ } @{ $s2->{report}{commands} || [] }), 'a run without scaffold after it: no baseline saved');
    is_deeply(verdicts($s2), verdicts($n2), 'a run without scaffold after it: the same verdicts');
}

done_testing();

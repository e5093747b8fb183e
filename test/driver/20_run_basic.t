#!/usr/bin/perl
# drydock run, the passing path: a 12-table migration and its exact inverse,
# the facts of report.json, the Markdown views, --format tap, --rounds 2,
# --single-transaction, --timeout, --prod-sysid, an unprivileged caller.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use DD;
use DDRun;
use Digest::SHA ();
use TAP::Parser;
use Test::More;

my @twelve = ('--schema', 'app', '--scaffold-schema', '--policy', "$DD::ROOT/examples/12-tables/policy.json",
              "$DD::ROOT/examples/12-tables/up.sql", "$DD::ROOT/examples/12-tables/down.sql");

# 12 tables (text/timestamptz/jsonb/boolean/integer, PK/FK/UNIQUE) and the exact inverse
{
    my $r = dd_run('twelve', \@twelve);
    is($r->{rc}, 0, 'twelve: exit 0') or diag($r->{err});
    like($r->{out}, qr/^drydock: pass \(exit 0\): 0 failing, 0 warning checks; report in /m, 'twelve: summary line');
    my $j = $r->{report};
    ok($j, 'twelve: report.json parses');
    is($j->{status}, 'pass', 'twelve: status pass');
    is($j->{exit_code}, 0, 'twelve: exit_code 0 in the report');
    ok($j->{isolation}{proven}, 'twelve: isolation.proven');
    ok(!grep({ !$_->{ok} } @{ $j->{isolation}{facts} }), 'twelve: every isolation fact ok');
    for my $k (qw(ddl rollback)) {
        my $path = $k eq 'ddl' ? "$DD::ROOT/examples/12-tables/up.sql" : "$DD::ROOT/examples/12-tables/down.sql";
        my $sum = (split ' ', `sha256sum $path`)[0];
        is($j->{artifacts}{$k}{sha256}, $sum, "twelve: artifacts.$k.sha256 equals sha256sum");
        is($sum, Digest::SHA->new(256)->addfile($path)->hexdigest, "twelve: ... and Digest::SHA ($k)");
    }
    my $apply = $j->{rounds}[0]{apply};
    is_deeply($apply->{tags}, { 'CREATE TABLE' => 12, 'CREATE INDEX' => 9 }, 'twelve: rounds[0].apply.tags: 12x CREATE TABLE + 9x CREATE INDEX');
    is_deeply($j->{rounds}[0]{rollback}{tags}, { 'DROP TABLE' => 12 }, 'twelve: rollback tags: 12x DROP TABLE');
    is(scalar(grep { $_->{status} eq 'fail' } @{ $j->{rounds}[0]{verification} }), 0, 'twelve: no failing verification row');
    is(scalar(grep { $_->{status} eq 'fail' } @{ $j->{rounds}[0]{rollback_verification} }), 0, 'twelve: no failing rollback row');
    is_deeply($j->{rounds}[0]{residue}, [], 'twelve: no residue after the rollback');
    is_deeply([map { $_->{id} } @{ $j->{fidelity_notes} }], [qw(N-1 N-2 N-3 N-4)], 'twelve: fidelity notes N-1..N-4');
    is(note_of($r, 'N-2')->{status}, 'yes', 'twelve: N-2 self-contained (the rollback locking what the apply created is not a lock on production)');
    is_deeply($j->{locks}, [], 'twelve: no lock on a pre-existing relation');
    is(note_of($r, 'N-3')->{status}, 'not exercised', 'twelve: N-3 says collisions were not exercised (no --base)');
    like(note_of($r, 'N-4')->{text}, qr/schema "app" created by --scaffold-schema/, 'twelve: N-4 states the scaffolded schema');
    is($j->{gating}{production_sql_executed}, 'none', 'twelve: gating production_sql_executed none');
    ok($j->{teardown}{done} && $j->{teardown}{clean}, 'twelve: teardown clean');
    my @kinds = map { $_->{kind} } @{ $j->{commands} };
    is_deeply([grep { /^(preflight|isolation|apply|rollback|teardown)$/ } @kinds],
              [qw(preflight isolation apply rollback teardown)], 'twelve: commands in order');
    is_deeply([map { $_->{n} } @{ $j->{commands} }], [1 .. scalar(@kinds)], 'twelve: commands numbered 1..N');
    my $log = DD::slurp("$r->{dir}/execution-log.md") // '';
    like($log, qr/12x "CREATE TABLE"/, 'twelve: execution-log.md has psql\'s output as counts');
    like($log, qr/production_sql_executed/i, 'twelve: execution-log.md has the gating banner');
    my $ver = DD::slurp("$r->{dir}/verification-result.md") // '';
    like($ver, qr/\| KC \| KC001 \| pass \|/, 'twelve: verification-result.md has the KC001 row');
    ok(-s "$r->{dir}/schema-assertions.pgtap.sql", 'twelve: pgTAP script written');
    # a small phase: its reads stay on the main connection (run_pipeline.c SIDE_MIN_WORK)
    is(scalar(grep { $_->{command} =~ /on a second connection/ } @{ $j->{commands} }), 0,
       'twelve: no second connection for a small migration');
    like(DD::slurp("$r->{dir}/schema-assertions.pgtap.sql") // '', qr/\A-- pgTAP[^\n]*\n(?:--[^\n]*\n)*BEGIN;\nSELECT plan\(\d+\);\n(?:SELECT [^\n]*;\n)+SELECT \* FROM finish\(\);\nROLLBACK;\n\z/,
         'twelve: the streamed script is whole');
}

# --rounds 2 with --single-transaction
{
    my $r = dd_run('rounds2', ['--rounds', '2', '--single-transaction', @twelve]);
    is($r->{rc}, 0, 'rounds2: exit 0') or diag($r->{err});
    is(scalar(@{ $r->{report}{rounds} }), 2, 'rounds2: two rounds recorded');
    is_deeply($r->{report}{rounds}[1]{apply}{tags}, { 'CREATE TABLE' => 12, 'CREATE INDEX' => 9 }, 'rounds2: round 2 applied again');
    like(join("\n", map { $_->{command} } grep { $_->{kind} eq 'apply' } @{ $r->{report}{commands} }),
         qr/psql .* -1 /, 'rounds2: --single-transaction runs psql -1');
    ok($r->{report}{options}{single_transaction}, 'rounds2: option recorded');
}

# --format tap prints valid TAP
{
    my $r = dd_run('tap', ['--format', 'tap', '--schema', 'app', '--scaffold-schema', F('simple/up.sql'), F('simple/down.sql')]);
    is($r->{rc}, 0, 'tap: exit 0') or diag($r->{err});
    my $tap = join('', grep { !/^drydock: / } split /^/, $r->{out});
    my $p = TAP::Parser->new({ tap => $tap });
    1 while $p->next;
    ok($p->is_good_plan, 'tap: a good plan');
    is(scalar($p->parse_errors), 0, 'tap: no parse errors') or diag(join "\n", $p->parse_errors);
    ok($p->tests_run > 20, 'tap: the battery is there (' . $p->tests_run . ' tests)');
    is(scalar($p->failed), 0, 'tap: no failing test');
}

# a statement that never ends, --timeout 2: clear error, teardown, no leftovers
{
    my $t0 = time;
    my $r = dd_run('timeout', ['--timeout', '2', '--schema', 'app', '--scaffold-schema', F('timeout/up.sql'), F('simple/down.sql')]);
    is($r->{rc}, 3, 'timeout: exit 3');
    my $file = F('timeout/up.sql');
    like($r->{err}, qr/^drydock: \Q$file\E:(\d+:)? did not finish within 2 s/m, 'timeout: one clear line naming the file');
    ok(time - $t0 < 20, 'timeout: stopped promptly');
    ok($r->{report}{rounds}[0]{apply}{timed_out}, 'timeout: apply.timed_out recorded');
    ok($r->{report}{teardown}{clean}, 'timeout: teardown clean');
}

# --prod-sysid: a differing identifier is checked and recorded; a bad one is usage
{
    my $r = dd_run('sysid-differs', ['--prod-sysid', '1', '--schema', 'app', '--scaffold-schema', F('simple/up.sql'), F('simple/down.sql')]);
    is($r->{rc}, 0, 'sysid-differs: exit 0') or diag($r->{err});
    my ($f) = grep { $_->{fact} eq 'system identifier vs production' } @{ $r->{report}{isolation}{facts} };
    ok($f && $f->{ok} && $f->{expected} eq 'differs from 1', 'sysid-differs: fact recorded');
    my $u = DD::run_cmd([DD::drydock(), 'run', '--prod-sysid', '12ab', F('simple/up.sql'), F('simple/down.sql')]);
    is($u->{rc}, 2, 'sysid-bad: exit 2');
    like($u->{err}, qr/^drydock: --prod-sysid must be a system identifier/, 'sysid-bad: one-line error');
}
# --prod-sysid equal to the sandbox's: exit 4, nothing applied.  Honest only
# when clones share a template's system identifier (the template cache, and
# the base cache entries made from its clones): a first run tells it, a
# second run from the same template or entry must refuse it.
{
    my $first = dd_run('sysid-probe', ['--schema', 'app', '--scaffold-schema', F('simple/up.sql'), F('simple/down.sql')]);
    my $env = $first->{report}{environment} || {};
    SKIP: {
        skip 'sandboxes come from initdb (no template cache): each has a new system identifier, so none can be known in advance', 6
            unless ($env->{cluster_origin} // '') =~ /^(?:template|base cache) clone$/ && $env->{system_identifier};
        my $r = dd_run('sysid-equal', ['--prod-sysid', $env->{system_identifier}, '--schema', 'app', '--scaffold-schema',
                                       F('simple/up.sql'), F('simple/down.sql')]);
        is($r->{rc}, 4, 'sysid-equal: exit 4');
        like($r->{err}, qr/^drydock: isolation could not be proven, nothing was applied: system identifier vs production/m, 'sysid-equal: one-line error');
        ok(!$r->{report}{isolation}{proven}, 'sysid-equal: isolation.proven false');
        is_deeply($r->{report}{rounds}, [], 'sysid-equal: nothing applied');
    }
}

# an unprivileged caller (when root): the same run works as nobody
SKIP: {
    skip 'not root: already unprivileged', 4 if $> != 0;
    skip 'nobody cannot reach the tree (private directory)', 4 unless nobody_can_use(DD::drydock(), F('simple/up.sql'));
    my $r = dd_run('nobody', ['--schema', 'app', '--scaffold-schema', F('simple/up.sql'), F('simple/down.sql')], user => 'nobody');
    is($r->{rc}, 0, 'nobody: exit 0') or diag($r->{err});
    is($r->{report} && $r->{report}{environment}{run_as_user}, 'nobody', 'nobody: cluster runs as the caller');
}

# CHECK constraints dropped together with their table
{
    my $r = dd_run('check', ['--schema', 'app', '--scaffold-schema', F('check_constraint/up.sql'), F('check_constraint/down.sql')]);
    is_deeply($r->{report}{rounds}[0]{residue}, [], 'check: nothing left after the rollback');
    is($r->{rc}, 0, 'check: exit 0');
    is(scalar(grep { $_->{status} eq 'fail' } rows_with($r, 'rollback_verification', 'RB003')), 0, 'check: no failing RB003 row');
}

done_testing();

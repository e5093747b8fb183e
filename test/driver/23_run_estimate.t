#!/usr/bin/perl
# --prod-stats lock-time estimates.  A table of a million rows in a second
# throwaway cluster stands in for production: its stats-query output feeds a
# dry-run whose rewrite finding must carry a range that holds the time the
# same statement really takes on that cluster; max_lock_seconds turns an
# estimate over the bound into a failing check.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use DD;
use DDRun;
use File::Temp ();
use JSON::PP;
use JSON::Validator;
use List::Util qw(sum);
use Test::More;

sub E { return F("estimate/$_[0]"); }
my $ROWS = 1_000_000;

my $tmp = File::Temp->newdir(DIR => '/tmp', TEMPLATE => 'ddeXXXXXX');
chmod 0755, "$tmp";
my $q = DD::run_cmd([DD::drydock(), 'stats-query']);
open(my $fh, '>', "$tmp/q.sql") or die; print $fh $q->{out}; close $fh;
chmod 0644, "$tmp/q.sql";
my $base = E('base.sql');
my $prod = DD::run_cmd([DD::drydock(), 'exec', '--quiet', '--', 'sh', '-c',
    "psql -X -q -v ON_ERROR_STOP=1 -f $base && "
    . "psql -X -q -v ON_ERROR_STOP=1 -c \"INSERT INTO app.events SELECT g, g % 50000, (ARRAY['click','view','buy'])[1 + g % 3], "
    . "CASE WHEN g % 5 = 0 THEN NULL ELSE md5(g::text) END, timestamptz '2024-01-01' + g * interval '1 second', "
    . "CASE WHEN g % 10 = 0 THEN NULL ELSE g % 1000 END FROM generate_series(1, $ROWS) g\" -c 'VACUUM ANALYZE app.events' && "
    . "psql -XAt -f $tmp/q.sql > $tmp/stats.json && "
    . "for i in 1 2 3; do psql -X -c '\\timing on' -c 'ALTER TABLE app.events ALTER COLUMN score TYPE bigint' "
    . "-c 'ALTER TABLE app.events ALTER COLUMN score TYPE integer' | sed -n 's/^Time: \\([0-9.]*\\) ms.*/\\1/p' | head -1; done"]);
is($prod->{rc}, 0, 'production stand-in: a million rows, statistics collected, the rewrite timed') or diag($prod->{err});
my @measured = map { $_ / 1000 } grep { /^[0-9.]+$/ } split /\n/, $prod->{out};
is(scalar(@measured), 3, 'production stand-in: three timings of the rewrite');
my $real = sum(@measured) / @measured;

{
    my $r = dd_run('estimate', ['--schema', 'app', '--base', $base, '--policy', E('policy.json'),
                                '--prod-stats', "$tmp/stats.json", E('up.sql'), E('down.sql')]);
    is($r->{rc}, 0, 'estimate: exit 0') or diag($r->{err});
    my ($e) = grep { $_->{phase} eq 'apply' } @{ $r->{report}{production_impact}{estimates} || [] };
    ok($e, 'estimate: the apply rewrite has an estimate') or return;
    is($e->{relation}, 'app.events', 'estimate: on app.events');
    is($e->{work}, 'rewrite', 'estimate: the work is a rewrite');
    is($e->{lock_mode}, 'AccessExclusiveLock', 'estimate: under AccessExclusiveLock');
    is($e->{production_rows}, $ROWS, 'estimate: production rows from the statistics') or diag($e->{production_rows});
    like($e->{method}, qr/synthetic copy of app\.events's shape took \d+ ms for 100000 rows .* extrapolated linearly by bytes/, 'estimate: the method is stated');
    my $err = 100 * (($e->{estimate_low_s} + $e->{estimate_high_s}) / 2.5 - $real) / $real;
    diag(sprintf('measured %.2f s (mean of %s), estimated %.2f..%.2f s (point %.2f s, error %+.0f%%)',
                 $real, join(', ', map { sprintf('%.2f', $_) } @measured),
                 $e->{estimate_low_s}, $e->{estimate_high_s}, $e->{estimate_low_s} * 2, $err));
    ok($e->{estimate_low_s} <= $real && $real <= $e->{estimate_high_s},
       'estimate: the measured rewrite time lies within the stated range');
    ok(!$e->{exceeds} && !defined $e->{max_lock_seconds}, 'estimate: no bound without max_lock_seconds');
    my ($l) = grep { $_->{phase} eq 'apply' } @{ $r->{report}{locks} || [] };
    like($l && $l->{production_impact} // '', qr/^app\.events: rewrite, [0-9.]+ MB, $ROWS rows: [0-9.]+\.\.[0-9.]+ s$/, 'estimate: the lock row carries the impact');
    like(DD::slurp("$r->{dir}/verification-result.md") // '', qr/\| production impact \|.*\n.*app\.events: rewrite/s, 'estimate: verification-result.md has the production impact column');
}

# an index build and a validating CHECK; a bound of 1 ms fails both
{
    my $r = dd_run('limit', ['--schema', 'app', '--base', $base, '--policy', E('policy_limit.json'),
                             '--prod-stats', "$tmp/stats.json", E('limits.up.sql'), E('limits.down.sql')]);
    is($r->{rc}, 1, 'limit: exit 1 (estimates over max_lock_seconds)') or diag($r->{err});
    my @e = grep { $_->{phase} eq 'apply' } @{ $r->{report}{production_impact}{estimates} || [] };
    my ($ix) = grep { $_->{command_tag} eq 'CREATE INDEX' } @e;
    is($ix && $ix->{work}, 'index build', 'limit: CREATE INDEX is an index build');
    is($ix && $ix->{lock_mode}, 'ShareLock', 'limit: under ShareLock');
    ok($ix && !$ix->{exceeds} && !defined $ix->{max_lock_seconds}, 'limit: ShareLock has no bound in this policy');
    my ($ck) = grep { $_->{command_tag} eq 'ALTER TABLE' } @e;
    is($ck && $ck->{work}, 'catalog only, or a validating scan', 'limit: ADD CHECK is a catalog change or a scan');
    is($ck && $ck->{estimate_low_s}, 0, 'limit: its range starts at 0');
    ok($ck && $ck->{estimate_high_s} > 0, 'limit: and ends at a scan');
    ok($ck && $ck->{exceeds}, 'limit: over 0.001 s under AccessExclusiveLock');
    my @over = grep { $_->{exceeds} } @{ $r->{report}{production_impact}{estimates} || [] };
    is(scalar(@over), 3, 'limit: ADD CHECK, DROP CONSTRAINT and DROP INDEX (AccessExclusiveLock on the table) over the bound');
    is($r->{report}{summary}{failing_checks}, 3, 'limit: each one a failing check') or diag(explain($r->{report}{summary}));
    like(DD::slurp("$r->{dir}/verification-result.md") // '', qr/over max_lock_seconds/, 'limit: the table says so');
    my @errors = JSON::Validator->new->schema("$FindBin::Bin/../../docs/report.schema.json")->validate($r->{report});
    ok(!@errors, 'limit: report.json validates against docs/report.schema.json') or diag(join("\n", @errors));
}

# the lock findings themselves carry the estimate (AO005 rewrite, AO006 lock level)
{
    my $r = dd_run('findings', ['--schema', 'app', '--base', $base, '--policy', E('policy_ao.json'),
                                '--prod-stats', "$tmp/stats.json", E('up.sql'), E('down.sql')]);
    is($r->{rc}, 1, 'findings: exit 1 (AO findings)');
    for my $code (qw(AO005 AO006)) {
        my ($f) = grep { $_->{status} eq 'fail' } rows_with($r, 'verification', $code);
        like($f && $f->{message} // '', qr/; production impact: app\.events is [0-9.]+ MB, $ROWS rows there, lock held an estimated [0-9.]+\.\.[0-9.]+ s$/, "findings: $code says the production impact");
    }
}

# without --prod-stats: no estimate, no column
{
    my $r = dd_run('no-stats', ['--schema', 'app', '--base', $base, '--policy', E('policy.json'), E('up.sql'), E('down.sql')]);
    is($r->{rc}, 0, 'no-stats: exit 0');
    ok(!exists $r->{report}{production_impact}, 'no-stats: no production_impact');
    unlike(DD::slurp("$r->{dir}/verification-result.md") // '', qr/production impact/, 'no-stats: no column');
}

done_testing();

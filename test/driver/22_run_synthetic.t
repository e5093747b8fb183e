#!/usr/bin/perl
# drydock run --synthetic-rows N / --prod-stats FILE, and drydock stats-query:
# statements that succeed only on empty tables fail at their line (exit 3)
# once the base's tables hold rows; their safe forms pass; statistics shape
# the rows; a bad statistics file is bad input (exit 2, FILE:LINE).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use DD;
use DDRun;
use File::Temp ();
use JSON::PP;
use JSON::Validator;
use Test::More;

sub S { return F("synthetic/$_[0]"); }
my @base = ('--schema', 'app', '--base', S('base.sql'), '--policy', S('policy.json'));

# each unsafe statement: passes on empty tables, fails at its line with rows
for my $c (['add_not_null', 2, qr/column "status" of relation "orders" contains null values/],
           ['set_not_null', 2, qr/column "nickname" of relation "customers" contains null values/],
           ['unique_index', 3, qr/could not create unique index "customers_country_key"/]) {
    my ($m, $line, $re) = @$c;
    my $empty = dd_run("$m-empty", [@base, S("$m.up.sql"), S("$m.down.sql")]);
    is($empty->{rc}, 0, "$m: passes on the base's empty tables") or diag($empty->{err});
    ok(!exists $empty->{report}{synthetic_rows}, "$m: no synthetic_rows without the option");

    my $r = dd_run($m, [@base, '--synthetic-rows', '50', S("$m.up.sql"), S("$m.down.sql")]);
    is($r->{rc}, 3, "$m: exit 3 with --synthetic-rows");
    check_error_line($r, S("$m.up.sql"), $line, $re, $m);
    my $syn = $r->{report}{synthetic_rows} || {};
    is($syn->{rows_per_table}, 50, "$m: 50 rows per table recorded");
    is_deeply([map { "$_->{table}:$_->{rows}:$_->{status}" } @{ $syn->{tables} || [] }],
              ['app.customers:50:filled', 'app.orders:50:filled'], "$m: both tables filled, in dependency order");
    is($r->{report}{options}{synthetic_rows}, 50, "$m: the option is recorded");
    like(note_of($r, 'N-3')->{text}, qr/--synthetic-rows 50: 2 pre-existing table\(s\) filled before the baseline/, "$m: N-3 says so");
}

# the safe forms pass on the same rows, and the rollback is judged on them
for my $m (['add_not_null_safe', 'add_not_null'], ['set_not_null_safe', 'set_not_null'],
           ['unique_index_safe', 'unique_index_safe']) {
    my ($up, $down) = @$m;
    my $r = dd_run($up, [@base, '--synthetic-rows', '50', S("$up.up.sql"), S("$down.down.sql")]);
    is($r->{rc}, 0, "$up: the safe form passes on non-empty tables") or diag($r->{err});
    is_deeply($r->{report}{rounds}[0]{residue}, [], "$up: the rollback leaves nothing");
}

# statistics shape the rows: no NULL nicknames, every country distinct
{
    my $r = dd_run('stats', [@base, '--synthetic-rows', '50', '--prod-stats', S('stats.json'),
                             S('set_not_null.up.sql'), S('set_not_null.down.sql')]);
    is($r->{rc}, 0, 'stats: SET NOT NULL passes where production has no NULL') or diag($r->{err});
    my $ps = $r->{report}{production_stats} || {};
    is($ps->{sha256}, DD::run_cmd(['sha256sum', S('stats.json')])->{out} =~ /^(\w+)/ ? $1 : 'x', 'stats: sha256 recorded');
    is($ps->{collected_at}, '2026-11-28T05:00:00Z', 'stats: collection time recorded');
    is($ps->{tables}, 1, 'stats: one relation described');
    ok($r->{report}{synthetic_rows}{from_prod_stats}, 'stats: the rows took the statistics');
    like(note_of($r, 'N-3')->{text}, qr/NULL shares and distinct counts from --prod-stats/, 'stats: N-3 says so');
    my $u = dd_run('stats-unique', [@base, '--synthetic-rows', '50', '--prod-stats', S('stats.json'),
                                    S('unique_index.up.sql'), S('unique_index.down.sql')]);
    is($u->{rc}, 0, 'stats: a unique index passes where n_distinct is -1') or diag($u->{err});
}

# what cannot be generated is listed, and the table left empty
{
    my $tmp = File::Temp->newdir(DIR => '/tmp', TEMPLATE => 'ddsXXXXXX');
    open(my $fh, '>', "$tmp/base.sql") or die;
    print $fh "CREATE SCHEMA app;\nCREATE TABLE app.shapes (id integer PRIMARY KEY, area polygon NOT NULL);\n"
            . "CREATE TABLE app.plain (id integer PRIMARY KEY);\n";
    close $fh;
    my $r = dd_run('exotic', ['--schema', 'app', '--base', "$tmp/base.sql", '--policy', S('policy.json'),
                              '--synthetic-rows', '5', S('unique_index_safe.up.sql'), S('unique_index_safe.down.sql')]);
    my ($t) = grep { $_->{table} eq 'app.shapes' } @{ $r->{report}{synthetic_rows}{tables} || [] };
    is($t && $t->{status}, 'not generated', 'exotic: polygon table not generated');
    is($r->{report}{synthetic_rows}{not_generated}, 1, 'exotic: counted');
    like(note_of($r, 'N-3')->{text}, qr/NOT generated, left empty \(1\): app\.shapes \(column area has type polygon/, 'exotic: N-3 lists it with why');
    my @errors = JSON::Validator->new->schema("$FindBin::Bin/../../docs/report.schema.json")->validate($r->{report});
    ok(!@errors, 'exotic: report.json validates against docs/report.schema.json') or diag(join("\n", @errors));
}

# bad statistics: exit 2 with FILE:LINE, before any cluster exists
{
    my $r = dd_run('stats-broken', [@base, '--prod-stats', S('broken.json'), S('set_not_null.up.sql'), S('set_not_null.down.sql')]);
    is($r->{rc}, 2, 'stats-broken: exit 2');
    like((split /\n/, $r->{err})[0] // '', qr/^drydock: \Q${\ S('broken.json')}\E:3: --prod-stats: not JSON/, 'stats-broken: FILE:LINE of the JSON error');
    my $s = dd_run('stats-shape', [@base, '--prod-stats', S('bad_shape.json'), S('set_not_null.up.sql'), S('set_not_null.down.sql')]);
    is($s->{rc}, 2, 'stats-shape: exit 2');
    check_error_line($s, S('bad_shape.json'), 1, qr/tables\[0\]\.columns\[0\]: "null_frac" out of range/, 'stats-shape');
    my $n = dd_run('synthetic-zero', [@base, '--synthetic-rows', '0', S('set_not_null.up.sql'), S('set_not_null.down.sql')]);
    is($n->{rc}, 2, 'synthetic-zero: --synthetic-rows 0 is a usage error');
    like($n->{err}, qr/--synthetic-rows must be an integer from 1/, 'synthetic-zero: message');
}

# stats-query: its output, run in a sandbox standing in for production, is
# one JSON document that --prod-stats accepts
{
    my $tmp = File::Temp->newdir(DIR => '/tmp', TEMPLATE => 'ddqXXXXXX');
    chmod 0755, "$tmp";
    my $q = DD::run_cmd([DD::drydock(), 'stats-query']);
    is($q->{rc}, 0, 'stats-query: exit 0');
    like($q->{out}, qr/BEGIN TRANSACTION READ ONLY;/, 'stats-query: read-only transaction');
    open(my $fh, '>', "$tmp/q.sql") or die; print $fh $q->{out}; close $fh;
    chmod 0644, "$tmp/q.sql";
    my $e = DD::run_cmd([DD::drydock(), 'exec', '--quiet', '--', 'sh', '-c',
        'psql -X -q -v ON_ERROR_STOP=1 -c "CREATE SCHEMA app; CREATE TABLE app.t (id int PRIMARY KEY, c text); '
        . 'INSERT INTO app.t SELECT g, CASE WHEN g % 4 = 0 THEN NULL ELSE (g % 10)::text END FROM generate_series(1, 1000) g; ANALYZE app.t;" '
        . "&& psql -XAt -f $tmp/q.sql"]);
    is($e->{rc}, 0, 'stats-query: runs with psql -XAt') or diag($e->{err});
    my $doc = eval { JSON::PP->new->decode($e->{out}) };
    ok($doc, 'stats-query: its output is one JSON document') or diag($e->{out});
    my ($t) = grep { $_->{schema} eq 'app' && $_->{name} eq 't' } @{ $doc->{tables} || [] };
    is($t && $t->{reltuples}, 1000, 'stats-query: reltuples');
    ok($t && $t->{table_bytes} > 0 && $t->{total_bytes} >= $t->{table_bytes} + $t->{indexes_bytes}, 'stats-query: sizes');
    my ($c) = grep { $_->{name} eq 'c' } @{ $t->{columns} || [] };
    is($c && $c->{null_frac}, 0.25, 'stats-query: null_frac from pg_stats');
    is($c && $c->{n_distinct}, 10, 'stats-query: n_distinct from pg_stats');
    is(scalar(@{ $t->{indexes} || [] }), 1, 'stats-query: the index with its size');
    open($fh, '>', "$tmp/stats.json") or die; print $fh $e->{out}; close $fh;
    my $r = dd_run('stats-roundtrip', [@base, '--synthetic-rows', '10', '--prod-stats', "$tmp/stats.json",
                                       S('unique_index_safe.up.sql'), S('unique_index_safe.down.sql')]);
    is($r->{rc}, 0, 'stats-roundtrip: --prod-stats accepts stats-query output') or diag($r->{err});
    ok($r->{report}{production_stats}{server_version_num} >= 130000, 'stats-roundtrip: server version recorded');
    is(DD::run_cmd([DD::drydock(), 'stats-query', 'x'])->{rc}, 2, 'stats-query: an argument is a usage error');
}

# replay takes the same options: the unsafe migration of a history fails at its line
{
    my $tmp = File::Temp->newdir(DIR => '/tmp', TEMPLATE => 'ddrXXXXXX');
    chmod 0755, "$tmp";
    mkdir "$tmp/mig" or die;
    for my $f (['add_not_null.up.sql', '1_status.up.sql'], ['add_not_null.down.sql', '1_status.down.sql']) {
        open(my $in, '<', S($f->[0])) or die; local $/; my $t = <$in>; close $in;
        open(my $out, '>', "$tmp/mig/$f->[1]") or die; print $out $t; close $out;
    }
    my @args = (DD::drydock(), 'replay', '-q', "$tmp/mig", @base);
    my $empty = DD::run_cmd([@args, '--out', "$tmp/out1"], env => { TMPDIR => "$tmp" });
    is($empty->{rc}, 0, 'replay: passes on empty tables') or diag($empty->{err});
    my $r = DD::run_cmd([@args, '--synthetic-rows', '20', '--out', "$tmp/out2"], env => { TMPDIR => "$tmp" });
    is($r->{rc}, 3, 'replay: exit 3 with --synthetic-rows');
    like((split /\n/, $r->{err})[0] // '', qr{^drydock: \Q$tmp\E/mig/1_status\.up\.sql:2: column "status" of relation "orders" contains null values}, 'replay: at the migration\'s line');
    my $rep = eval { JSON::PP->new->decode(DD::slurp("$tmp/out2/report.json")) };
    is($rep && $rep->{synthetic_rows}{filled}, 2, 'replay: the report records the filled tables');
}

done_testing();

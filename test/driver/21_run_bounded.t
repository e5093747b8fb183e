#!/usr/bin/perl
# drydock run keeps its report (and its own memory) bounded whatever the
# migration prints or captures: a 2 MB psql stdout and 3,000 NOTICEs are
# kept as head + tail with a truncation marker (the tag counts still count
# everything); a migration of more than 500 captured DDL events lists only
# the rows that carry a lock, a rewrite or a cascade and counts the rest.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use DD;
use DDRun;
use File::Temp ();
use JSON::PP ();
use Test::More;

my $dir = File::Temp->newdir(DIR => '/tmp', TEMPLATE => 'ddbXXXXXX');
chmod 0755, "$dir";
sub put { my ($n, $s) = @_; open(my $fh, '>', "$dir/$n") or die; print $fh $s; close $fh; chmod 0644, "$dir/$n"; return "$dir/$n"; }

# 2 MB of query output on stdout, 3,000 NOTICEs (about 1.5 MB) on stderr
{
    my $up = put('loud_up.sql', join('',
        "CREATE TABLE app.loud (id integer PRIMARY KEY, note text);\n",
        "SELECT repeat('x', 1000) AS filler FROM generate_series(1, 2000);\n",
        "DO \$\$ BEGIN FOR i IN 1..3000 LOOP RAISE NOTICE 'n% %', i, repeat('y', 480); END LOOP; END \$\$;\n",
        "CREATE TABLE app.loud2 (id integer PRIMARY KEY);\n"));
    my $down = put('loud_down.sql', "DROP TABLE app.loud2;\nDROP TABLE app.loud;\n");
    my $r = dd_run('loud', ['--schema', 'app', '--scaffold-schema', $up, $down]);
    is($r->{rc}, 0, 'loud: the run completes and passes (exit 0)') or diag($r->{err});
    my $a = $r->{report}{rounds}[0]{apply};
    ok($a, 'loud: report has the apply phase');
    is($a->{tags}{'CREATE TABLE'}, 2, 'loud: tag counts still see both CREATE TABLEs');
    is($a->{tags}{'DO'}, 1, 'loud: ... and the DO');
    cmp_ok(length($a->{stdout}), '<=', 70 * 1024, 'loud: stdout kept to at most ~64 KiB');
    like($a->{stdout}, qr/\[\.\.\. truncated by drydock: \d+ of \d+ bytes left out \.\.\.\]/, 'loud: stdout has the truncation marker');
    cmp_ok($a->{stdout_truncated_bytes} // 0, '>', 1_900_000, 'loud: stdout_truncated_bytes says how much was left out');
    like($a->{stdout}, qr/^ *filler/m, 'loud: the head of stdout is kept');
    like($a->{stdout}, qr/CREATE TABLE\s*$/, 'loud: the tail of stdout is kept');
    cmp_ok(length($a->{stderr}), '<=', 70 * 1024, 'loud: stderr kept to at most ~64 KiB');
    is($a->{notices}, 3000, 'loud: every NOTICE is counted');
    is(scalar(@{ $a->{messages} }), 1000, 'loud: the first 1000 messages are listed');
    is($a->{messages_omitted}, 2000, 'loud: messages_omitted counts the rest');
    cmp_ok(-s "$r->{dir}/report.json", '<', 1_000_000, 'loud: report.json stays under 1 MB');
}

# 600 tables: more than 500 captured events -> summarised DDL log
{
    my $n = 600;
    my $up = put('many_up.sql', join('', map { "CREATE TABLE app.t$_ (id integer PRIMARY KEY, v text);\n" } 1 .. $n));
    my $down = put('many_down.sql', join('', map { "DROP TABLE app.t$_;\n" } reverse 1 .. $n));
    my $r = dd_run('many', ['--schema', 'app', '--scaffold-schema', $up, $down]);
    is($r->{rc}, 0, 'many: the run completes and passes (exit 0)') or diag($r->{err});
    my $rd = $r->{report}{rounds}[0];
    my $s = $rd->{apply_ddl_log_summary};
    ok($s, 'many: apply_ddl_log_summary present');
    is($s->{events}, 2 * $n, 'many: every apply event counted (table + pkey index)');
    is($s->{listed}, scalar(@{ $rd->{apply_ddl_log} }), 'many: listed = rows in apply_ddl_log');
    is($s->{listed}, 0, 'many: nothing pre-existing was locked, so no row is listed');
    is_deeply($s->{omitted_by_tag}, { 'CREATE TABLE' => $n, 'CREATE INDEX' => $n }, 'many: omitted rows counted by tag');
    is_deeply($rd->{objects_created}, { table => $n, index => $n }, 'many: objects_created from the summary');
    ok($rd->{rollback_ddl_log_summary}, 'many: rollback summarised too');
    is($rd->{objects_dropped}{table}, $n, 'many: objects_dropped counts every table');
    is_deeply($r->{report}{locks}, [], 'many: the rollback locking what the apply created is not a production lock');
    like(DD::slurp("$r->{dir}/execution-log.md"), qr/captured DDL events \| \Q@{[2 * $n]}\E \(0 listed/, 'many: execution log gives the total and what is listed');
    # a large phase: the reads after it run side by side on a second connection
    my @side = grep { $_->{command} =~ /on a second connection/ && $_->{result} eq 'ok' } @{ $r->{report}{commands} };
    is_deeply([map { $_->{command} =~ /^SELECT (?:\* FROM )?(drydock\.\w+)/ ? $1 : $_->{command} } @side],
              [qw(drydock.pgtap_script drydock.verify_rollback)], 'many: pgTAP script and rollback checks on the side connection');
    # the pgTAP script (megabytes, streamed 256 kB a row) arrives whole
    my $tap = DD::slurp("$r->{dir}/schema-assertions.pgtap.sql") // '';
    my ($plan) = $tap =~ /^SELECT plan\((\d+)\);$/m;
    my $asserts = () = $tap =~ /^SELECT (?!plan\(|\* FROM finish\(\)).*;$/mg;
    cmp_ok($plan // 0, '>', 6000, 'many: a pgTAP script of more than 6,000 assertions');
    is($asserts, $plan, 'many: as many assertion lines as planned (none lost or joined between pieces)');
    like($tap, qr/\nSELECT \* FROM finish\(\);\nROLLBACK;\n\z/, 'many: the script ends as generated');
    is(length($tap), $r->{report}{pgtap_script_bytes}, 'many: its size as report.json says');
}

# a summarised log still lists, in order and whole, the rows that lock what
# existed before (a --base table), and counts the rest by tag and by type
{
    my $n = 300;
    my $base = put('lk_base.sql', "CREATE SCHEMA app;\nCREATE TABLE app.prod (id bigint PRIMARY KEY, v text);\n");
    my $up = put('lk_up.sql', join('', (map { "CREATE TABLE app.n$_ (id bigint PRIMARY KEY);\n" } 1 .. $n),
                                   "ALTER TABLE app.prod ADD COLUMN w text;\nCREATE INDEX prod_w ON app.prod (w);\n"));
    my $down = put('lk_down.sql', join('', "DROP INDEX app.prod_w;\nALTER TABLE app.prod DROP COLUMN w;\n",
                                       map { "DROP TABLE app.n$_;\n" } reverse 1 .. $n));
    my $r = dd_run('locks', ['--schema', 'app', '--base', $base, $up, $down]);
    ok($r->{rc} == 0 || $r->{rc} == 1, 'locks: a verdict') or diag($r->{err});
    my $rd = $r->{report}{rounds}[0];
    is_deeply([map { [$_->{command_tag}, $_->{identity}, $_->{locks}, $_->{cascade}, $_->{rewrite}] } @{ $rd->{apply_ddl_log} }],
              [['ALTER TABLE', 'app.prod', 'app.prod:AccessExclusiveLock', JSON::PP::false, JSON::PP::false],
               ['CREATE INDEX', 'app.prod_w', 'app.prod:ShareLock', JSON::PP::false, JSON::PP::false]],
              'locks: the apply lists the two statements that lock app.prod');
    is_deeply([map { [sort keys %$_] } @{ $rd->{apply_ddl_log} }],
              [map { [sort qw(seq command_tag object_type identity cascade rewrite locks)] } 1 .. 2], 'locks: listed rows have the log\'s columns only');
    cmp_ok($rd->{apply_ddl_log}[0]{seq}, '<', $rd->{apply_ddl_log}[1]{seq}, 'locks: in the order they ran');
    is_deeply($rd->{apply_ddl_log_summary},
              { events => 2 * $n + 2, listed => 2, omitted_by_tag => { 'CREATE TABLE' => $n, 'CREATE INDEX' => $n },
                objects => { table => $n, index => $n + 1 } }, 'locks: the apply summary');
    is($rd->{rollback_ddl_log_summary}{listed}, 2, 'locks: the rollback lists the two statements on app.prod');
    is_deeply($rd->{rollback_ddl_log_summary}{omitted_by_tag}, { 'DROP TABLE' => 4 * $n, 'ALTER TABLE' => 1, 'DROP INDEX' => 1 },
              'locks: the rollback counts the rest by tag') or diag(explain($rd->{rollback_ddl_log_summary}));
}

# a small migration on a large base: its pgTAP script and diff read the
# whole schema, so those reads go to the second connection too
{
    my $base = put('big_base.sql', join('', "CREATE SCHEMA app;\n",
                                        map { "CREATE TABLE app.b$_ (id bigint PRIMARY KEY);\n" } 1 .. 300));
    my $up = put('small_up.sql', "ALTER TABLE app.b1 ADD COLUMN note text;\n");
    my $down = put('small_down.sql', "ALTER TABLE app.b1 DROP COLUMN note;\n");
    my $r = dd_run('big-base', ['--schema', 'app', '--base', $base, $up, $down]);
    ok($r->{rc} == 0 || $r->{rc} == 1, 'big-base: a verdict') or diag($r->{err});
    my @side = grep { $_->{command} =~ /on a second connection/ && $_->{result} eq 'ok' } @{ $r->{report}{commands} };
    is(scalar(@side), 2, 'big-base: pgTAP script and rollback checks on the side connection');
    like($r->{report}{pgtap_script_bytes} ? DD::slurp("$r->{dir}/schema-assertions.pgtap.sql") : $r->{report}{pgtap_script} // '',
         qr/has_table\('app'::name, 'b300'::name/, 'big-base: the script covers the whole schema');
}

done_testing();

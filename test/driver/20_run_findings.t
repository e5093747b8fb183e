#!/usr/bin/perl
# drydock run, failing migrations and rollbacks: each with its exit code, its
# finding row in report.json and, for SQL errors, "drydock: FILE:LINE: message".
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use DD;
use DDRun;
use Test::More;

my @scaf = ('--schema', 'app', '--scaffold-schema');
sub pair { my ($c, $up, $down) = @_; return (F("$c/" . ($up // 'up.sql')), F("$c/" . ($down // 'down.sql'))); }

# a syntax error in the 7th statement: exit 3, FILE:LINE of the statement
{
    my $r = dd_run('syntax7', [@scaf, pair('syntax_error_7th')]);
    is($r->{rc}, 3, 'syntax7: exit 3');
    check_error_line($r, F('syntax_error_7th/up.sql'), 13, qr/syntax error at or near "CREATE" \(statement 7; the server points at line 17\)/, 'syntax7');
    my $e = $r->{report}{rounds}[0]{apply}{error};
    is($e->{statement}, 7, 'syntax7: apply.error.statement 7');
    is($e->{position_line}, 17, 'syntax7: apply.error.position_line 17 (psql skips blank lines in LINE n)');
    is($r->{report}{status}, 'sql_error', 'syntax7: status sql_error');
    ok(!exists $r->{report}{rounds}[0]{rollback}, 'syntax7: the rollback did not run');
}

# a rollback that leaves a sequence, a function and an enum type
{
    my $r = dd_run('residue', [@scaf, pair('rollback_residue')]);
    is($r->{rc}, 1, 'residue: exit 1');
    my %left = map { $_->{object} => 1 } grep { $_->{status} eq 'fail' } rows_with($r, 'rollback_verification', 'RB001');
    ok($left{'app.invoice_number_seq'}, 'residue: RB001 sequence left behind');
    ok($left{'app.next_invoice_number()'}, 'residue: RB001 function left behind');
    ok($left{'app.order_status'}, 'residue: RB001 enum type left behind');
    is(scalar(grep { $_->{status} eq 'fail' } rows_with($r, 'rollback_verification', 'RB004')), 3, 'residue: RB004 for the three');
    is(scalar(@{ $r->{report}{rounds}[0]{residue} }), 3, 'residue: three residue rows in the diff');
}

# a rollback with CASCADE
{
    my $r = dd_run('cascade', [@scaf, pair('rollback_cascade')]);
    is($r->{rc}, 1, 'cascade: exit 1');
    my @rb3 = grep { $_->{status} eq 'fail' } rows_with($r, 'rollback_verification', 'RB003');
    is(scalar(@rb3), 1, 'cascade: one RB003 failure');
    like($rb3[0]{object} // '', qr/orders_customer_id_fkey on app\.orders/, 'cascade: the foreign key dropped by CASCADE');
    ok(grep({ $_->{code} eq 'cascade' && $_->{line} == 2 } @{ $r->{report}{artifacts}{rollback}{findings} }), 'cascade: preflight noted CASCADE at down.sql:2');
    ok(grep({ $_->{severity} eq 'NOTICE' && $_->{message} =~ /drop cascades/ } @{ $r->{report}{rounds}[0]{rollback}{messages} }), 'cascade: the NOTICE is recorded');
}

# a rollback that fails on a dependency: exit 3 at the rollback's line
{
    my $r = dd_run('dependency', [@scaf, pair('rollback_dependency')]);
    is($r->{rc}, 3, 'dependency: exit 3');
    check_error_line($r, F('rollback_dependency/down.sql'), 2, qr/cannot drop table app\.customers because other objects depend on it/, 'dependency');
    ok($r->{report}{rounds}[0]{apply}{ok}, 'dependency: the apply itself succeeded');
}

# a disallowed type: under the narrow example policy (the original
# operator's whitelist) numeric fails CV001 and varchar(20) CV004 ...
{
    my $r = dd_run('type', [@scaf, '--policy', "$DD::ROOT/examples/policies/narrow-types.json",
                            pair('disallowed_type')]);
    is($r->{rc}, 1, 'type: exit 1');
    my ($cv4) = grep { $_->{status} eq 'fail' } rows_with($r, 'verification', 'CV004');
    is($cv4 && $cv4->{object}, 'app.products.sku', 'type: CV004 varchar(20) column');
    my ($cv1) = grep { $_->{status} eq 'fail' } rows_with($r, 'verification', 'CV001');
    is($cv1 && $cv1->{object}, 'app.products.price', 'type: CV001 numeric column');
}
# ... while the default policy has no whitelist: numeric passes, varchar(20) warns
{
    my $r = dd_run('type-default', [@scaf, pair('disallowed_type')]);
    my ($cv4) = rows_with($r, 'verification', 'CV004');
    is($cv4 && $cv4->{status}, 'warn', 'type-default: CV004 is a warning');
    my ($cv1) = rows_with($r, 'verification', 'CV001');
    is($cv1 && $cv1->{status}, 'skipped', 'type-default: CV001 skipped without allowed_types');
}

# a missing primary key
{
    my $r = dd_run('nopk', [@scaf, pair('missing_pk')]);
    is($r->{rc}, 1, 'nopk: exit 1');
    my ($k) = grep { $_->{status} eq 'fail' } rows_with($r, 'verification', 'KC001');
    is($k && $k->{object}, 'app.events', 'nopk: KC001 on app.events');
    is_deeply(codes_failing($r), { KC001 => 1 }, 'nopk: nothing else fails');
}

# a quoted CamelCase name and a 70-byte name
{
    my $r = dd_run('naming', [@scaf, pair('naming')]);
    is($r->{rc}, 1, 'naming: exit 1');
    ok(grep({ $_->{status} eq 'fail' && $_->{object} eq 'app."CustomerAccounts"' } rows_with($r, 'verification', 'NH002')), 'naming: NH002 quoted CamelCase');
    ok(grep({ $_->{status} eq 'fail' && $_->{object} eq 'app."CustomerAccounts"' } rows_with($r, 'verification', 'NH001')), 'naming: NH001 pattern');
    my @trunc = grep { $_->{status} eq 'fail' && $_->{message} =~ /psql NOTICE at / } rows_with($r, 'verification', 'NH004');
    is(scalar(@trunc), 1, 'naming: NH004 from psql\'s truncation NOTICE');
    my $nf = F('naming/up.sql');
    like($trunc[0]{message} // '', qr/\Q$nf\E:4\)/, 'naming: ... placed at the statement\'s line 4');
    ok(grep({ $_->{status} eq 'fail' && $_->{object} =~ /^app\.a{63}$/ } rows_with($r, 'verification', 'NH004')), 'naming: NH004 on the 63-byte table name');
}

# a DDL that creates the target schema (no --scaffold-schema), rolled back with it
{
    my $r = dd_run('creates-schema', ['--schema', 'app', pair('creates_schema')]);
    is($r->{rc}, 1, 'creates-schema: exit 1 (not 5: the rollback drops the schema)') or diag($r->{err});
    ok(grep({ $_->{status} eq 'fail' } rows_with($r, 'verification', 'AO004')), 'creates-schema: AO004');
    my $cf = F('creates_schema/up.sql');
    like(note_of($r, 'N-4')->{text}, qr/the DDL creates the target schema itself \(\Q$cf\E:1\)/, 'creates-schema: N-4 flags it with FILE:LINE');
    is($r->{report}{artifacts}{ddl}{creates_target_schema_line}, 1, 'creates-schema: preflight fact');
    ok(!$r->{report}{rounds}[0]{post_rollback_schema_exists}, 'creates-schema: schema gone after the rollback');
    is_deeply(codes_failing($r), { AO004 => 1 }, 'creates-schema: nothing else fails');
}

done_testing();

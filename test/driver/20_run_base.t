#!/usr/bin/perl
# drydock run --base with real pg_dump --schema-only output (PostgreSQL 15.20:
# \restrict/\unrestrict, search_path '', OWNER TO app_owner, GRANT ... TO
# reporting): roles created NOLOGIN (N-4), collisions, ALTER of an existing
# table (AO, lock mode), cross-schema FK, a golang-migrate style migration.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use DD;
use DDRun;
use File::Temp ();
use Test::More;

my @base = ('--schema', 'app', '--base', BASE());
my $dump = DD::slurp(BASE());
like($dump, qr/^\\restrict \S+$/m, 'fixture: the dump opens with \\restrict KEY');
like($dump, qr/OWNER TO app_owner;/, 'fixture: names app_owner');

# a name collision with an existing table: exit 3 at the colliding statement
{
    my $r = dd_run('collision', [@base, F('base_collision/up.sql'), F('base_collision/down.sql')]);
    is($r->{rc}, 3, 'collision: exit 3');
    check_error_line($r, F('base_collision/up.sql'), 6, qr/relation "accounts" already exists \(statement 2\)/, 'collision');
    ok($r->{report}{artifacts}{base}{restore}{ok}, 'collision: the base restored');
    like(note_of($r, 'N-4')->{text}, qr/role "app_owner" created NOLOGIN.*role "reporting" created NOLOGIN/, 'collision: N-4 names the roles created NOLOGIN');
    is(note_of($r, 'N-3')->{status}, 'partly exercised', 'collision: N-3 collisions exercised');
}

# a base that does not restore is bad input: exit 2 at its line, nothing applied
{
    my $r = dd_run('base-broken', ['--schema', 'app', '--base', F('base_broken/base.sql'),
                                   F('base_collision/up.sql'), F('base_collision/down.sql')]);
    is($r->{rc}, 2, 'base-broken: exit 2');
    check_error_line($r, F('base_broken/base.sql'), 3, qr/the base schema does not restore: relation "app\.owners" does not exist/, 'base-broken');
    is(scalar(@{ $r->{report}{rounds} }), 0, 'base-broken: no artifact was applied');
}

# a --no-owner dump: its objects are given to the apply role, which can then alter them
{
    my $r = dd_run('no-owner', ['--schema', 'app', '--base', F('base_no_owner/base.sql'),
                                '--policy', F('base_no_owner/policy.json'),
                                F('base_no_owner/up.sql'), F('base_no_owner/down.sql')]);
    is($r->{rc}, 0, 'no-owner: exit 0 (the apply role may alter the base objects)') or diag($r->{err});
    ok((grep { /given to the apply role/ } @{ $r->{report}{scaffolds} || [] }), 'no-owner: N-4 scaffold says the objects were given to the apply role');
}

# ALTER of an existing table: AO fails, its lock mode is reported
{
    my $r = dd_run('alter', [@base, F('base_alter/up.sql'), F('base_alter/down.sql')]);
    is($r->{rc}, 1, 'alter: exit 1');
    my ($ao) = grep { $_->{status} eq 'warn' } rows_with($r, 'verification', 'AO006');
    like($ao && $ao->{message} // '', qr/AccessExclusiveLock on pre-existing app\.accounts/, 'alter: AO006 (a warning by default) with the lock mode');
    my ($ls) = grep { $_->{status} eq 'fail' } rows_with($r, 'verification', 'LS001');
    like($ls && $ls->{message} // '', qr/lock_timeout was 0/, 'alter: LS001 fails it: AccessExclusiveLock taken without lock_timeout');
    my ($l) = grep { $_->{phase} eq 'apply' } @{ $r->{report}{locks} };
    is($l && $l->{locks}, 'app.accounts:AccessExclusiveLock', 'alter: the lock table has it');
    is(note_of($r, 'N-2')->{status}, 'exercised', 'alter: N-2 not self-contained, exercised against the base');
    like(DD::slurp("$r->{dir}/verification-result.md") // '', qr/AccessExclusiveLock/, 'alter: verification-result.md shows the lock');
}

# a cross-schema foreign key
{
    my $r = dd_run('cross-fk', [@base, F('base_cross_fk/up.sql'), F('base_cross_fk/down.sql')]);
    is($r->{rc}, 1, 'cross-fk: exit 1');
    my ($k) = grep { $_->{status} eq 'fail' } rows_with($r, 'verification', 'KC002');
    like($k && $k->{message} // '', qr/references billing\.invoices outside the target schema/, 'cross-fk: KC002');
    is_deeply(codes_failing($r), { KC002 => 1, LS001 => 4 },
              'cross-fk: nothing else fails but LS001: the FKs take ShareRowExclusiveLock (apply) and DROP TABLE AccessExclusiveLock (rollback) on app.accounts and billing.invoices with lock_timeout 0');
    like(note_of($r, 'N-2')->{text}, qr/1 cross-schema foreign key/, 'cross-fk: N-2 counts it');
}

# golang-migrate style: BEGIN; CREATE EXTENSION IF NOT EXISTS citext; enum; plpgsql trigger; COMMIT;
{
    my $r = dd_run('golang-migrate', [@base, '--policy', F('golang_migrate/policy.json'),
                   F('golang_migrate/1_account_tags.up.sql'), F('golang_migrate/1_account_tags.down.sql')]);
    my $a = $r->{report}{rounds}[0]{apply} || {};
    ok($a->{ok}, 'golang-migrate: the apply succeeded as the non-superuser apply role') or diag($r->{err});
    is_deeply($a->{tag_order}, ['BEGIN', 'CREATE EXTENSION', 'CREATE TYPE', 'CREATE TABLE', 'CREATE FUNCTION', 'CREATE TRIGGER', 'COMMIT'], 'golang-migrate: psql tags in order');
    is_deeply([map { "$_->{code} $_->{object}" } grep { $_->{status} eq 'fail' } @{ $r->{report}{rounds}[0]{verification} || [] }],
              ['LS001 app.accounts'], 'golang-migrate: the battery passes (enum allowed by the policy) but LS001: the FK locks app.accounts with lock_timeout 0');
    ok($r->{report}{artifacts}{ddl}{has_transaction_control}, 'golang-migrate: transaction control noted');
    is_deeply($r->{report}{rounds}[0]{residue}, [], 'golang-migrate: nothing left after the rollback');
    is($r->{rc}, 1, 'golang-migrate: exit 1 (LS001 alone fails; before the RB003 fix for DROP EXTENSION members it failed on RB003)');
}

# GRANT/REVOKE on the schema in apply/rollback
{
    my $r = dd_run('grant-revoke', ['--schema', 'app', '--scaffold-schema', '--apply-as-superuser', F('grant_revoke/up.sql'), F('grant_revoke/down.sql')]);
    isnt($r->{rc}, 3, 'grant-revoke: the rollback\'s REVOKE does not fail');
}

# a GRANT of a base role to the apply role that fails stops the run (it was
# ignored, the scaffold note claimed the membership, and the migration then
# failed with "permission denied" far from the cause)
{
    my $tmp = File::Temp->newdir(DIR => '/tmp', TEMPLATE => 'ddgXXXXXX');
    chmod 0755, "$tmp";
    open(my $fh, '>', "$tmp/base.sql") or die;
    print $fh "CREATE SCHEMA app;\nALTER SCHEMA app OWNER TO app_owner;\nGRANT app_owner TO reporting;\n";
    close $fh;
    chmod 0644, "$tmp/base.sql";
    my $r = dd_run('grant-fails', ['--schema', 'app', '--base', "$tmp/base.sql", F('simple/up.sql'), F('simple/down.sql')]);
    is($r->{rc}, 2, 'grant-fails: exit 2 (the base makes the membership impossible)') or diag($r->{err});
    like($r->{err}, qr/cannot make the apply role "app_owner" a member of the base's role "reporting": role "reporting" is a member of role "app_owner"/,
         'grant-fails: the message names both roles and the server\'s reason');
    ok(!grep({ /granted membership/ } @{ $r->{report}{scaffolds} || [] }), 'grant-fails: no scaffold note claims a membership');
}

# issue 19: a base written by PG15's pg_dump -s with every object OWNER TO
# app_owner (test/fixtures/base/make_owned_base.sh made it): the artifacts
# run as app_owner, the owner of the schema the dump creates, so a down that
# re-creates a table with its sequence (OWNED BY), a view and a materialized
# view restores them exactly; the matview the dump leaves WITH NO DATA is
# refreshed first (the policy turns AO and LS off: this case is about the
# state coming back, not about locks).  The same with the dump's --no-owner twin (the default
# apply role then, given the objects).  A forgotten DEFAULT is still caught.
for my $b (['owned', 'prod_owned_v15.sql', 'app_owner', qr/it owns schema "app", which the base creates/],
           ['no-owner', 'prod_no_owner_v15.sql', 'drydock_apply', qr/the default: the base names no owner/]) {
    my ($name, $file, $role, $why) = @$b;
    my @args = ('--schema', 'app', '--base', DD::fixture("base/$file"), '--policy', F('base_owned/policy.json'),
                F('base_owned/up.sql'));
    my $dump = DD::slurp(DD::fixture("base/$file"));
    like($dump, qr/^\\restrict \S+$/m, "$name: the fixture opens with \\restrict");
    like($dump, qr/WITH NO DATA;/, "$name: the fixture has a materialized view WITH NO DATA");
    like($dump, qr/OWNED BY app\.audit_log\.id;/, "$name: the fixture has a sequence owned by a column");
    my $r = dd_run("owned-$name", [@args, F('base_owned/down.sql')]);
    is($r->{rc}, 0, "$name: exit 0 (the down restores everything)") or diag($r->{err});
    is($r->{report}{environment}{apply_role}, $role, "$name: apply role $role");
    like($r->{report}{environment}{apply_role_reason} // '', $why, "$name: report.json says why");
    is_deeply($r->{report}{rounds}[0]{residue}, [], "$name: no residue (owner, sequence link, view, matview)");
    like(note_of($r, 'N-4')->{text}, qr/1 materialized view\(s\) the base leaves WITH NO DATA refreshed/, "$name: N-4 says the matview was refreshed");
    like(note_of($r, 'N-4')->{text}, qr/apply role "app_owner" chosen from the base: it owns schema "app"/, "$name: N-4 names the chosen role and why")
        if $role eq 'app_owner';
    like(DD::slurp("$r->{dir}/execution-log.md") // '', qr/apply role \| app_owner \(not superuser\); it owns schema/, "$name: the execution log says why")
        if $role eq 'app_owner';
    my $f = dd_run("owned-$name-no-default", [@args, F('base_owned/down_no_default.sql')]);
    is($f->{rc}, 1, "$name: a down that forgets a default: exit 1");
    is_deeply([map { "$_->{change} $_->{kind} $_->{identity}" } @{ $f->{report}{rounds}[0]{residue} || [] }],
              ['changed table column app.audit_log.id'], "$name: ... the default, and only it, is the residue");
}

# --apply-role overrides the base's owner
{
    my $r = dd_run('owned-override', ['--schema', 'app', '--base', DD::fixture('base/prod_owned_v15.sql'),
                   '--policy', F('base_owned/policy.json'), '--apply-role', 'migrator',
                   F('base_owned/up.sql'), F('base_owned/down.sql')]);
    is($r->{report}{environment}{apply_role}, 'migrator', 'override: --apply-role wins');
    is($r->{report}{environment}{apply_role_reason}, '--apply-role', 'override: and says so');
}

# the dump does not create the target schema: the role owning most of its
# objects runs the artifacts; a tie keeps the default role
for my $c (['most', 'base.sql', 'app_owner', qr/^it owns most objects in schema "public" \(2\)$/],
           ['tie', 'base_tie.sql', 'drydock_apply', qr/^the default: "app_owner" and "reporting" own as many objects in schema "public" \(1 each\)$/]) {
    my ($name, $file, $role, $why) = @$c;
    my $r = dd_run("base-$name", ['--schema', 'public', '--base', F("base_most/$file"), F('base_most/up.sql'), F('base_most/down.sql')]);
    is($r->{report}{environment}{apply_role}, $role, "base-$name: apply role $role");
    like($r->{report}{environment}{apply_role_reason} // '', $why, "base-$name: and why");
    ok($r->{report}{rounds}[0]{apply}{ok}, "base-$name: the apply (ALTER TABLE of app_owner's table) succeeded") or diag($r->{err});
    is_deeply($r->{report}{rounds}[0]{residue}, [], "base-$name: no residue");
}

done_testing();

#!/usr/bin/perl
# The rules real migrations need (issue 21), end to end: the default policy
# passes a best-practice schema; the lock-safety rules (LS) fire on the
# unsafe forms of changes to production's tables, in the apply and in the
# rollback, and stay quiet on the safe rewrites; every finding carries its
# location (artifact, line, statement, phase) in report.json, the Markdown
# and the terminal's compiler-style list.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use DD;
use DDRun;
use Test::More;
use File::Temp ();

my @base = ('--schema', 'app', '--base', BASE());

sub failing_in {
    my ($r, $key) = @_;
    my %c;
    $c{ $_->{code} }++ for grep { $_->{status} eq 'fail' } @{ $r->{report}{rounds}[0]{$key} || [] };
    return \%c;
}

# a best-practice schema passes the default policy: bigint identity keys,
# text, timestamptz, numeric, jsonb, an indexed FK; varchar(200) only warns
{
    my $r = dd_run('best', ['--schema', 'app', '--scaffold-schema',
                            F('best_practice/up.sql'), F('best_practice/down.sql')]);
    is($r->{rc}, 0, 'best: exit 0 with the default policy') or diag($r->{out}, $r->{err});
    is_deeply(codes_failing($r), {}, 'best: nothing fails');
    my @warn = grep { $_->{status} eq 'warn' } @{ $r->{report}{rounds}[0]{verification} };
    is_deeply([map { "$_->{code} $_->{object}" } @warn], ['CV004 app.orders.title'], 'best: the one warning is varchar(200)');
    my $up = F('best_practice/up.sql');
    is_deeply($warn[0]{location}, { file => $up, line => 9, statement => 2, phase => 'apply' },
              'best: the warning is placed at the CREATE TABLE that made the column');
    like($r->{out}, qr/^\Q$up\E:9: CV004 app\.orders\.title: column title is character varying\(200\).* \[warn\]$/m,
         'best: the terminal lists it compiler-style');
    like($r->{out}, qr/^drydock: to change the policy, pass --policy FILE/m, 'best: and says how to change the policy');
}

# the unsafe forms, against production's tables from the base
{
    my $up = F('lock_unsafe/up.sql');
    my $down = F('lock_unsafe/down.sql');
    my $r = dd_run('unsafe', [@base, $up, $down]);
    is($r->{rc}, 1, 'unsafe: exit 1');
    my $a = failing_in($r, 'verification');
    my $b = failing_in($r, 'rollback_verification');
    for my $c (qw(LS001 LS002 LS003 LS005 LS009)) {
        ok($a->{$c}, "unsafe: $c fails in the apply");
    }
    for my $c (qw(LS001 LS002 LS009)) {
        ok($b->{$c}, "unsafe: $c fails in the rollback");
    }
    ok(!$a->{AO002}, 'unsafe: the renamed column is LS009, not a dropped column (AO002)');
    my ($ls5) = rows_with($r, 'verification', 'LS005');
    is($ls5->{object}, 'app.accounts.locale', 'unsafe: LS005 names the column');
    is_deeply($ls5->{location}, { file => $up, line => 4, statement => 2, phase => 'apply' },
              'unsafe: LS005 at the ADD COLUMN (line 4, statement 2)');
    my ($ls3) = rows_with($r, 'verification', 'LS003');
    is_deeply($ls3->{location}, { file => $up, line => 6, statement => 3, phase => 'apply' },
              'unsafe: LS003 at the statement that starts on line 6');
    my ($ls2) = rows_with($r, 'rollback_verification', 'LS002');
    is_deeply($ls2->{location}, { file => $down, line => 4, statement => 4, phase => 'rollback' },
              'unsafe: the rollback\'s DROP INDEX at down.sql:4');
    like($r->{out}, qr/^\Q$up\E:4: LS005 app\.accounts\.locale: .*only because the table is empty/m,
         'unsafe: the terminal names FILE:LINE, code, object, message');
    like($r->{out}, qr/^\Q$down\E:4: LS002 app\.accounts: DROP INDEX without CONCURRENTLY/m,
         'unsafe: the rollback\'s findings are listed too');
    my $md = DD::slurp("$r->{dir}/verification-result.md") // '';
    like($md, qr/^\| LS \| LS005 \| fail \| app\.accounts\.locale \| .* \| `\Q$up\E:4` \(statement 2, apply\) \|$/m,
         'unsafe: the Markdown check table has the location');
}

# the same changes written safely: no LS finding in either phase
{
    my $r = dd_run('safe', [@base, F('lock_safe/up.sql'), F('lock_safe/down.sql')]);
    is($r->{rc}, 0, 'safe: exit 0') or diag($r->{out});
    my @ls = grep { $_->{family} eq 'LS' && $_->{status} ne 'pass' }
             map { @{ $r->{report}{rounds}[0]{$_} || [] } } qw(verification rollback_verification);
    is(scalar(@ls), 0, 'safe: every LS check passes in both phases') or diag(explain(\@ls));
}

# locations past a statement's first tokens: two statements on one line, the
# first long; a TRUNCATE whose relation comes after 30 tokens (LS007 has no
# statement of its own and is placed by the relation's name in the file)
{
    my $up = F('lock_rewrite/up.sql');
    my $r = dd_run('rewrite', [@base, $up, F('lock_rewrite/down.sql')]);
    is($r->{rc}, 1, 'rewrite: exit 1') or diag($r->{out}, $r->{err});
    my ($ls5) = grep { $_->{status} eq 'fail' } rows_with($r, 'verification', 'LS005');
    is_deeply($ls5->{location}, { file => $up, line => 2, statement => 1, phase => 'apply' },
              'rewrite: LS005 at the long ALTER TABLE (line 2, statement 1)');
    my ($ls2) = grep { $_->{status} eq 'fail' } rows_with($r, 'verification', 'LS002');
    is_deeply($ls2->{location}, { file => $up, line => 2, statement => 2, phase => 'apply' },
              'rewrite: LS002 at the CREATE INDEX after it on the same line (statement 2)');
    my ($ls7) = grep { $_->{object} eq 'app.sessions' } rows_with($r, 'verification', 'LS007');
    is_deeply($ls7->{location}, { file => $up, line => 5, statement => 3, phase => 'apply' },
              'rewrite: LS007 app.sessions at the TRUNCATE naming it as its 34th token');
}

# a screenful: at most 20 findings listed, then a count of the rest
{
    my $dir = File::Temp->newdir(DIR => '/tmp', TEMPLATE => 'ddrXXXXXX');
    my $up = "$dir/up.sql";
    open(my $fh, '>', $up) or die;
    print $fh "CREATE TABLE app.t$_ (c$_ json);\n" for 1 .. 25;
    close $fh;
    open($fh, '>', "$dir/down.sql") or die;
    print $fh "DROP TABLE app.t$_;\n" for 1 .. 25;
    close $fh;
    my $r = dd_run('many', ['--schema', 'app', '--scaffold-schema', $up, "$dir/down.sql"]);
    is($r->{rc}, 1, 'many: exit 1');
    my @listed = grep { /^\Q$up\E:\d+: / } split /\n/, $r->{out};
    is(scalar(@listed), 20, 'many: 20 findings listed');
    like($r->{out}, qr/^drydock: \.\.\. and 30 more failing or warning checks: see /m, 'many: then the count of the rest');

    # a second round repeats every finding: listed and counted once
    my $r2 = dd_run('many2', ['--rounds', '2', '--schema', 'app', '--scaffold-schema', $up, "$dir/down.sql"]);
    is($r2->{rc}, 1, 'many2: exit 1');
    my @listed2 = grep { /^\Q$up\E:\d+: / } split /\n/, $r2->{out};
    is_deeply(\@listed2, \@listed, 'many2: the same 20 findings, in the same order');
    my @lines = map { /^\Q$up\E:(\d+): / ? $1 : 0 } @listed2;
    is_deeply(\@lines, [sort { $a <=> $b } @lines], 'many2: in file order');
    like($r2->{out}, qr/^drydock: \.\.\. and 30 more failing or warning checks: see /m,
         'many2: the rest counted once');
}

done_testing();

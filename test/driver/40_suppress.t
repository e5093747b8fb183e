#!/usr/bin/perl
# Accepted findings (issue 11): inline -- drydock:ignore / ignore-file /
# accept-residue directives and the policy's suppress / allow_suppress keys.
# Each form: the finding suppressed, the report showing it (report.json,
# verification-result.md), stale and expired cases, each bad input (exit 2,
# FILE:LINE, nothing applied), and an enum value accepted as residue while an
# undeclared residue in the same rollback still fails.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use DD;
use DDRun;
use JSON::PP ();
use Test::More;

sub S { return DD::fixture("suppress/$_[0]"); }
my @scaf = ('--schema', 'app', '--scaffold-schema');

sub rows_status {
    my ($r, $key, $status) = @_;
    return grep { $_->{status} eq $status } @{ $r->{report}{rounds}[0]{$key} || [] };
}

sub schema_ok {
    my ($r, $name) = @_;
    require JSON::Validator;
    my $jv = JSON::Validator->new;
    $jv->schema("$DD::ROOT/docs/report.schema.json");
    my @e = $jv->validate($r->{report});
    is(scalar(@e), 0, "$name: report.json matches docs/report.schema.json") or diag(join("\n", map {"$_"} @e));
}

# one list of codes (common/finding_codes.def), compiled into the extension
# (drydock.finding_codes()) and the driver, and written into docs/codes.md
{
    my $def = DD::slurp("$DD::ROOT/common/finding_codes.def");
    $def =~ s{/\*.*?\*/}{}gs;
    my @listed = $def =~ /\bDD_CODE\("([A-Z]{2}[0-9]{3})"/g;
    push @listed, $def =~ /\bDD_DRIVER_CODE\("([A-Z]{2}[0-9]{3})"/g;
    my $r = run_cmd([drydock(), 'exec', '-q', '--', 'sh', '-c',
                     'psql -X -At -c "CREATE EXTENSION drydock" -c "SELECT code FROM drydock.finding_codes()"']);
    my @ext = grep { /^[A-Z]{2}[0-9]{3}$/ } split /\n/, $r->{out};
    ok(@ext >= 45, 'finding_codes() lists every code') or diag($r->{err});
    is_deeply(\@ext, \@listed, 'drydock.finding_codes() is common/finding_codes.def, in its order');
    my %seen;
    is(scalar(grep { $seen{$_}++ } @listed), 0, 'no code is listed twice');
    my $g = run_cmd(['perl', "$DD::ROOT/tools/gen-codes-md.pl", '--check', $DD::ROOT]);
    is($g->{rc}, 0, 'docs/codes.md\'s table is generated from finding_codes.def and current') or diag($g->{err});
    my $doc = DD::slurp("$DD::ROOT/docs/codes.md");
    my ($codes, $reference) = split /^## Rule reference$/m, $doc;
    my @doc = $codes =~ /^\| ([A-Z]{2}[0-9]{3}) \|/mg;
    is_deeply([sort @doc], [sort @ext], 'docs/codes.md documents exactly those codes');
    my @ref = ($reference // '') =~ /^\| ([A-Z]{2}[0-9]{3}) \|/mg;
    is_deeply([sort @ref], [sort @ext], 'docs/codes.md: the rule reference covers exactly those codes');
}

# inline: ignore (next statement), ignore with an explicit object, ignore-file
{
    my $r = dd_run('inline', [@scaf, S('inline/up.sql'), S('inline/down.sql')]);
    is($r->{rc}, 0, 'inline: exit 0 (suppressed findings do not fail)');
    my %sup = map { ("$_->{code} $_->{object}" => $_) } rows_status($r, 'verification', 'suppressed');
    my $up = S('inline/up.sql');
    ok($sup{'KC001 app.audit'}, 'inline: KC001 on app.audit suppressed (object of the next statement)');
    is($sup{'KC001 app.audit'}{suppression}{source}, "$up:1", 'inline: source is FILE:LINE of the directive');
    like($sup{'KC001 app.audit'}{message}, qr/^suppressed \(\Q$up\E:1\): append-only audit log: rows are never updated or referenced — table app\.audit has no primary key$/,
         'inline: message carries source, reason and the original finding');
    ok($sup{'CV003 app.events.payload'}, 'inline: explicit OBJECT app.events.payload');
    ok($sup{'NH001 app.vendor."VendorId"'} && $sup{'NH002 app.vendor."VendorId"'}, 'inline: ignore-file NH001,NH002');
    is($r->{report}{summary}{suppressed_checks}, 4, 'inline: summary.suppressed_checks = 4');
    is($r->{report}{summary}{failing_checks}, 0, 'inline: nothing fails');
    is(scalar(grep { $_->{suppression} } rows_status($r, 'verification', 'warn')), 0, 'inline: no stale warning');
    my $md = DD::slurp("$r->{dir}/verification-result.md") // '';
    like($md, qr/## Suppressed\n\n\| code \| object \| reason \| source \|/, 'inline: verification-result.md has a Suppressed section');
    like($md, qr/\| KC001 \| app\.audit \| append-only audit log[^|]*\| \Q$up\E:1 \|/, 'inline: the section lists code, object, reason, source');
    like(DD::slurp("$r->{dir}/execution-log.md") // '', qr/4 suppressed/, 'inline: execution-log.md counts them');
    like($r->{out}, qr/4 suppressed/, 'inline: the summary line counts them');
    schema_ok($r, 'inline');
}

# accept-residue: the enum value stays (accepted), the forgotten sequence fails
{
    my @a = ('--schema', 'app', '--apply-as-superuser', '--base', S('residue/base.sql'));
    my $r = dd_run('residue', [@a, S('residue/up.sql'), S('residue/down.sql')]);
    is($r->{rc}, 1, 'residue: exit 1 (an undeclared residue still fails)');
    is_deeply(codes_failing($r), { RB001 => 1, RB004 => 1 }, 'residue: only the sequence fails (RB001, RB004)');
    my ($rb2) = rows_status($r, 'rollback_verification', 'suppressed');
    is($rb2 && "$rb2->{code} $rb2->{object}", 'RB002 app.mood', 'residue: RB002 on app.mood suppressed');
    is($rb2 && $rb2->{suppression}{source}, S('residue/down.sql') . ':2', 'residue: source down.sql:2');
    my ($ao1) = rows_status($r, 'verification', 'suppressed');
    is($ao1 && "$ao1->{code} $ao1->{object}", 'AO001 app.mood', 'residue: AO001 of ALTER TYPE app.mood suppressed by ignore');
    my %res = map { ($_->{identity} => $_) } @{ $r->{report}{rounds}[0]{residue} };
    ok($res{'app.mood'}{accepted}, 'residue: the enum type residue row is marked accepted');
    ok(!$res{'app.ticket_seq'}{accepted}, 'residue: the sequence residue row is not');
    like(DD::slurp("$r->{dir}/verification-result.md") // '', qr/accepted residue: changed type `app\.mood`/, 'residue: accepted residue in verification-result.md');
    schema_ok($r, 'residue');

    my $ok = dd_run('residue_ok', [@a, S('residue/up.sql'), S('residue/down_ok.sql')]);
    is($ok->{rc}, 0, 'residue_ok: with the sequence dropped, the accepted enum value alone passes');
    is($ok->{report}{summary}{suppressed_checks}, 2, 'residue_ok: AO001 and RB002 suppressed');
}

# policy: applied (far-future expiry), expired (past), stale
{
    my $r = dd_run('policy', ['--scaffold-schema', '--policy', S('policy/policy.json'), S('policy/up.sql'), S('policy/down.sql')]);
    is($r->{rc}, 0, 'policy: exit 0 (warnings only)');
    my ($k1) = rows_status($r, 'verification', 'suppressed');
    is($k1 && "$k1->{code} $k1->{object}", 'KC001 app.audit', 'policy: KC001 suppressed until 2999-12-31');
    is($k1 && $k1->{suppression}{source}, 'policy', 'policy: source "policy"');
    my @w = rows_status($r, 'verification', 'warn');
    ok((grep { $_->{code} eq 'KC004' && !$_->{suppression} } @w), 'policy: the KC004 finding is back (its suppression expired)');
    ok((grep { (($_->{suppression} || {})->{state} // '') eq 'expired' && $_->{message} =~ /expired on 2001-01-31/ } @w), 'policy: the expired suppression says so');
    ok((grep { (($_->{suppression} || {})->{state} // '') eq 'stale' && $_->{message} =~ /^stale suppression \(policy\): CV002 on app\.nothing matched no finding/ } @w),
       'policy: the stale suppression is a warning');
    is($r->{report}{summary}{warning_checks}, 5, 'policy: five warnings (KC004, the expired and the stale suppression, CV008 on the two integer keys)');
    schema_ok($r, 'policy');
}

# bad input: exit 2, FILE:LINE, nothing applied
my $down = S('bad/down.sql');
for my $c (['no_reason', 2, qr/without a reason/],
           ['unknown_code', 3, qr/unknown finding code "KC999"/],
           ['malformed_verb', 2, qr/unknown drydock directive "ignor"/],
           ['malformed_nocode', 2, qr/needs a finding code/],
           ['residue_in_ddl', 1, qr/accept-residue belongs in the rollback/],
           ['no_object', 2, qr/cannot tell which object the next statement \(INSERT, line 3\)/],
           ['no_statement', 2, qr/no statement follows/]) {
    my ($name, $line, $re) = @$c;
    my $r = dd_run($name, [@scaf, S("bad/$name.sql"), $down]);
    is($r->{rc}, 2, "$name: exit 2");
    check_error_line($r, S("bad/$name.sql"), $line, $re, $name);
    is(scalar(@{ $r->{report}{rounds} || [] }), 0, "$name: nothing applied");
    ok(!$r->{report}{isolation}, "$name: no cluster was started");
}
{
    my $r = dd_run('not_allowed', ['--scaffold-schema', '--policy', S('bad/allow_kc.json'), S('bad/not_allowed.sql'), $down]);
    is($r->{rc}, 2, 'not_allowed: exit 2');
    check_error_line($r, S('bad/not_allowed.sql'), 2, qr/suppressing AO002 inline is not allowed by the policy \(allow_suppress: KC, CV004\)/, 'not_allowed');
    is(scalar(@{ $r->{report}{rounds} || [] }), 0, 'not_allowed: nothing applied');
}
{
    my $r = dd_run('policy_no_reason', ['--scaffold-schema', '--policy', S('bad/policy_no_reason.json'), S('bad/ok.sql'), $down]);
    is($r->{rc}, 2, 'policy_no_reason: exit 2');
    my $pol = S('bad/policy_no_reason.json');
    my ($first) = split /\n/, $r->{err};
    like($first // '', qr/^drydock: \Q$pol\E: policy key "suppress\[0\]" has no "reason"/, 'policy_no_reason: names the policy file and entry');
    is(scalar(@{ $r->{report}{rounds} || [] }), 0, 'policy_no_reason: nothing applied');
}

done_testing();

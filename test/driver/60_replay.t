#!/usr/bin/perl
# drydock replay (issue 10): every fixture history of test/fixtures/replay,
# one per layout, checked against MANIFEST.json -- the verdict of every pair
# and the residue of every broken one, object by object; --from/--to; the
# bad inputs (one-line error, nothing run, clean teardown).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use DD;
use File::Temp ();
use JSON::PP ();
use JSON::Validator;
use Test::More;

my $root = DD::fixture('replay');
my $manifest = JSON::PP->new->decode(DD::slurp("$root/MANIFEST.json"));
my %verdict_name = (failing_up => 'failed');

sub replay {
    my ($name, @args) = @_;
    my $tmp = File::Temp->newdir(DIR => '/tmp', TEMPLATE => 'ddrXXXXXX');
    chmod 0755, "$tmp";
    my $r = run_cmd([drydock(), 'replay', '-q', @args, '--out', "$tmp/out"], env => { TMPDIR => "$tmp" });
    my $json = DD::slurp("$tmp/out/report.json");
    $r->{report} = defined $json ? eval { JSON::PP->new->decode($json) } : undef;
    $r->{out_dir} = "$tmp/out";
    is(scalar(() = glob("$tmp/drydock-??????")), 0, "$name: no run directory left");
    is(scalar(DD::postgres_pids_in("$tmp")), 0, "$name: no process left");
    $r->{tmp} = $tmp;
    return $r;
}

sub spew {
    my ($path, $text) = @_;
    open(my $fh, '>', $path) or die "$path: $!";
    print $fh $text;
    close($fh) or die "$path: $!";
}

sub residue_set {
    my ($rows) = @_;
    return join("\n", sort map { "$_->{change} | $_->{kind} | $_->{identity}" } @{ $rows || [] });
}

for my $h (qw(golang-migrate goose dbmate sqitch flyway)) {
    my $m = $manifest->{histories}{$h};
    my $r = replay($h, "$root/$h", '--schema', 'app', '--keep-going');
    my $rep = $r->{report};
    ok($rep, "$h: report.json written") or next;
    is($rep->{replay}{layout}, $m->{layout}, "$h: layout detected");
    my %got = map { $_->{version} => $_ } @{ $rep->{rounds} };
    is_deeply([map { $_->{version} } @{ $rep->{rounds} }], $m->{order}, "$h: applied in the tool's order");
    for my $p (@{ $m->{pairs} }) {
        my $g = $got{ $p->{version} };
        my $want = $verdict_name{ $p->{expected} } // $p->{expected};
        is($g && $g->{verdict}, $want, "$h $p->{version} $p->{title}: $want");
        is(residue_set($g && $g->{residue}), residue_set($p->{residue}),
           "$h $p->{version}: residue object by object") if $g && $g->{verdict} ne 'failed';
    }
    my $c = $m->{counts};
    like($r->{out}, qr/^$m->{pair_count} pairs: $c->{exact} exact, $c->{not_inverse} not inverse, $c->{missing_down} missing down/m,
         "$h: one-line summary");
    is($r->{rc}, ($c->{failing_up} ? 3 : ($c->{not_inverse} || $c->{missing_down} || $c->{failing_verify}) ? 1 : 0), "$h: exit code");
    ok(-s "$r->{out_dir}/replay-log.md", "$h: replay-log.md written");
    for my $ne (@{ $m->{not_exercised} || [] }) {
        ok((grep { index($_, $ne) >= 0 || index($ne, (split / /, $_)[2] // '~') >= 0 } @{ $rep->{replay}{not_exercised} || [] }),
           "$h: not exercised is listed: $ne");
    }
    for my $ex (@{ $m->{from_to_examples} || [] }) {
        my $fr = replay("$h @{$ex->{args}}", "$root/$h", '--schema', 'app', '--keep-going', @{ $ex->{args} });
        my @checked = map { $_->{version} } @{ $fr->{report}{rounds} || [] };
        is_deeply(\@checked, $ex->{versions}, "$h @{$ex->{args}}: only the range is checked");
        is_deeply([sort map { $_->{version} } grep { $_->{verdict} eq 'not_inverse' } @{ $fr->{report}{rounds} || [] }],
                  [sort @{ $ex->{not_inverse} || [] }], "$h @{$ex->{args}}: the broken pairs of the range");
    }
}

# no-transaction migrations are applied without -1 (CREATE INDEX CONCURRENTLY would fail inside one)
{
    my $r = replay('goose-tx', "$root/goose", '--schema', 'app', '--keep-going');
    my @notx = grep { !$_->{in_transaction} } @{ $r->{report}{rounds} || [] };
    ok(@notx >= 1, 'goose: the NO TRANSACTION migration is marked') ;
    ok((grep { $_->{verdict} eq 'exact' } @notx), 'goose: ... and it applied (outside a transaction)');
}

# an inline accept-residue in a down: the enum value PostgreSQL cannot drop
{
    my $r = replay('accepted', "$root/accepted-residue", '--schema', 'app', '--format', 'tap');
    is($r->{rc}, 0, 'accepted residue: exit 0');
    like($r->{out}, qr/^ok 2 - 2 c: accepted$/m, 'accepted residue: the pair is accepted, not exact');
    like($r->{err}, qr/^2 pairs: 1 exact, 1 accepted, 0 not inverse/m, 'accepted residue: summary (on stderr: stdout is TAP only)');
    my ($row) = @{ $r->{report}{rounds}[1]{residue} || [] };
    like($row && $row->{accepted}{reason} // '', qr/cannot drop an enum value/, 'accepted residue: the reason is in the report');
}

# TAP: one test per pair
{
    my $r = replay('tap', "$root/dbmate", '--schema', 'app', '--keep-going', '--format', 'tap');
    my ($plan) = $r->{out} =~ /^1\.\.(\d+)$/m;
    is($plan, $manifest->{histories}{dbmate}{pair_count}, 'TAP: one test per pair');
    my $notok = () = $r->{out} =~ /^not ok /mg;
    my $c = $manifest->{histories}{dbmate}{counts};
    is($notok, $c->{not_inverse} + $c->{missing_down}, 'TAP: the broken pairs are not ok');
}

# bad input: a one-line error naming the file (and line), nothing run
for my $case (sort keys %{ $manifest->{bad} }) {
    my $b = $manifest->{bad}{$case};
    unlink $b->{marker_must_not_exist} if $b->{marker_must_not_exist};
    my $r = replay($case, "$root/" . ($b->{dir} // $case), '--schema', 'app', @{ $b->{args} || [] });
    is($r->{rc}, $b->{expected_exit}, "$case: exit $b->{expected_exit}");
    my @lines = grep { /^drydock: / } split /\n/, $r->{err};
    ok(@lines >= 1, "$case: an error line");
    my $where = $b->{line} ? "\Q$b->{file}\E:$b->{line}:" : "\Q$b->{file}\E";
    like($lines[0] // '', qr{^drydock: \S*$where.*\Q$b->{message_contains}\E}, "$case: FILE[:LINE]: message");
    if ($b->{nothing_run}) {
        ok(!$r->{report} || !@{ $r->{report}{rounds} || [] }, "$case: no migration was applied");
        my @started = $r->{report} ? grep({ $_->{kind} =~ /^(initdb|clone|postgres)$/ } @{ $r->{report}{commands} || [] }) : ();
        is(scalar(@started), 0, "$case: no cluster was started");
    }
    ok(!-e $b->{marker_must_not_exist}, "$case: the hostile command did not run") if $b->{marker_must_not_exist};
}
# issue 19: histories as real projects keep them, and the further layouts
my $more = $manifest->{more};
for my $h (sort grep { $_ ne 'about' } keys %$more) {
    my $m = $more->{$h};
    my $r = replay($h, "$root/$h", '--schema', 'app', '--keep-going');
    my $rep = $r->{report};
    ok($rep, "$h: report.json written") or next;
    is($rep->{replay}{layout}, $m->{layout}, "$h: layout $m->{layout} detected");
    is_deeply([map { "$_->{version} $_->{title}" } @{ $rep->{rounds} }], [map { "$_->{version} $_->{title}" } @{ $m->{pairs} }],
              "$h: the pairs checked, in the tool's order");
    for my $i (0 .. $#{ $m->{pairs} }) {
        my ($p, $g) = ($m->{pairs}[$i], $rep->{rounds}[$i] || {});
        is($g->{verdict}, $p->{expected}, "$h $p->{version} $p->{title}: $p->{expected}");
        is(residue_set($g->{residue}), residue_set($p->{residue}), "$h $p->{version}: residue object by object")
            if $p->{residue} || $p->{expected} eq 'exact';
        is(scalar(grep { $_->{code} eq 'RB003' && $_->{status} eq 'fail' } @{ $g->{rollback_verification} || [] }) > 0,
           !!$p->{rb003}, "$h $p->{version}: RB003 " . ($p->{rb003} ? 'reported' : 'not reported'));
        is(!!$g->{noop}, !!$p->{noop}, "$h $p->{version}: " . ($p->{noop} ? '' : 'not ') . 'a no-op step');
        ok(!$g->{in_transaction}, "$h $p->{version}: not in a transaction") if exists $p->{in_transaction};
    }
    is_deeply([map { $_->{version} } grep { !$_->{checked} && ($_->{why_not} // '') =~ /^not exercised/ } @{ $rep->{replay}{history} || [] }],
              $m->{not_exercised} || [], "$h: the migrations not exercised");
    is_deeply([map { $_->{kind} } @{ $rep->{replay}{irregularities} || [] }], $m->{irregularities}, "$h: the irregularities in report.json");
    is($rep->{replay}{migrations}, scalar(@{ $m->{pairs} }) + scalar(@{ $m->{not_exercised} || [] }), "$h: report.json counts the migrations");
    my $log = DD::slurp("$r->{out_dir}/replay-log.md") // '';
    like($log, qr/^- migrations: $rep->{replay}{migrations}, pairs checked: ${\ scalar(@{ $m->{pairs} })}$/m, "$h: replay-log.md counts migrations and pairs");
    if (@{ $m->{irregularities} }) {
        like($log, qr/^## Irregularities$/m, "$h: replay-log.md lists the irregularities");
        like($r->{err}, qr/^drydock: \S+: warning: /m, "$h: a warning on stderr");
    }
    like($log, qr/^## Migrations not exercised\n\n- $_ /m, "$h: replay-log.md says $_ was not exercised") for @{ $m->{not_exercised} || [] };
    for my $p (grep { $_->{rb003} && $_->{expected} eq 'exact' } @{ $m->{pairs} }) {
        like($log, qr/^## \Q$p->{version} $p->{title}\E: exact\n(?:.*\n)*?- RB003 fail/m, "$h $p->{version}: its section shows RB003 under an exact verdict");
    }
    like(join("\n", @{ $rep->{scaffolds} || [] }), qr/\Q$m->{scaffold}\E.*before the first migration/, "$h: the tool's bookkeeping is a scaffold")
        if $m->{scaffold};
    is($r->{rc}, $m->{exit}, "$h: exit $m->{exit}");
    my @errors = JSON::Validator->new->schema(DD::fixture('../../docs/report.schema.json'))->validate($rep);
    ok(!@errors, "$h: report.json validates against docs/report.schema.json") or diag(join("\n", @errors));
}

# a history needing a superuser: the message names the statement and --apply-as-superuser
{
    my $tmp = File::Temp->newdir(DIR => '/tmp', TEMPLATE => 'ddrXXXXXX');
    mkdir "$tmp/h";
    spew("$tmp/h/1_init.up.sql", "CREATE SCHEMA app;\nCREATE TABLE app.t (id integer PRIMARY KEY);\n");
    spew("$tmp/h/1_init.down.sql", "DROP SCHEMA app CASCADE;\n");
    spew("$tmp/h/2_load.up.sql", "ALTER TABLE app.t DISABLE TRIGGER ALL;\nSET session_replication_role = replica;\n");
    spew("$tmp/h/2_load.down.sql", "ALTER TABLE app.t ENABLE TRIGGER ALL;\n");
    chmod 0755, "$tmp", "$tmp/h";
    chmod 0644, glob("$tmp/h/*");
    my $r = replay('superuser', "$tmp/h", '--schema', 'app');
    is($r->{rc}, 3, 'superuser: exit 3');
    like($r->{err}, qr{^drydock: \S*2_load\.up\.sql:2: permission denied.*the statement \(SET at line 2\) needs a privilege the apply role "drydock_apply" \(not a superuser\) lacks.*--apply-as-superuser}m,
         'superuser: the message names the statement and --apply-as-superuser');
    my $s = replay('superuser-ok', "$tmp/h", '--schema', 'app', '--apply-as-superuser');
    is($s->{rc}, 1, 'superuser: with --apply-as-superuser the history runs (exit 1: its findings)');
}

# replay --base with an owned dump: the pairs run as the base's owner
{
    my $tmp = File::Temp->newdir(DIR => '/tmp', TEMPLATE => 'ddrXXXXXX');
    mkdir "$tmp/h";
    spew("$tmp/h/1_retire_audit.up.sql", DD::slurp(DD::fixture('run/base_owned/up.sql')));
    spew("$tmp/h/1_retire_audit.down.sql", DD::slurp(DD::fixture('run/base_owned/down.sql')));
    # a trusted contrib extension, installed as the database owner would in production
    spew("$tmp/h/2_customer_note.up.sql", "CREATE EXTENSION IF NOT EXISTS pg_trgm;\nALTER TABLE app.customers ADD COLUMN note text;\n"
         . "CREATE INDEX customers_note_trgm ON app.customers USING gin (note gin_trgm_ops);\n");
    spew("$tmp/h/2_customer_note.down.sql", "ALTER TABLE app.customers DROP COLUMN note;\nDROP EXTENSION pg_trgm;\n");
    chmod 0755, "$tmp", "$tmp/h";
    chmod 0644, glob("$tmp/h/*");
    my $r = replay('base-owned', "$tmp/h", '--schema', 'app', '--base', DD::fixture('base/prod_owned_v15.sql'));
    is($r->{report}{environment}{apply_role}, 'app_owner', 'replay --base: runs as the base\'s owner');
    is_deeply([map { $_->{verdict} } @{ $r->{report}{rounds} || [] }], ['exact', 'exact'], 'replay --base: both pairs exact (owner, sequence link, view, matview; pg_trgm as the owner)')
        or diag(explain([map { $_->{failure} } @{ $r->{report}{rounds} || [] }]));
    like(join("\n", @{ $r->{report}{scaffolds} || [] }), qr/schema_migrations \(golang-migrate\) created as "app_owner"/, 'replay --base: the bookkeeping is the owner\'s');
}

# the tool's bookkeeping in the target schema (public): a migration may alter
# it; the battery leaves it out, the verdicts judge what the pairs did to it
{
    my $r = replay('public-bookkeeping', "$root/public-bookkeeping", '--schema', 'public');
    is($r->{report}{replay}{layout}, 'dbmate', 'public-bookkeeping: dbmate');
    is_deeply([map { $_->{verdict} } @{ $r->{report}{rounds} || [] }], ['exact', 'exact'], 'public-bookkeeping: both pairs exact');
    is(scalar(grep { ($_->{object} // '') =~ /schema_migrations/ } map { @{ $_->{verification} || [] } } @{ $r->{report}{rounds} || [] }), 0,
       'public-bookkeeping: no check row about dbmate\'s schema_migrations');
    like(join("\n", @{ $r->{report}{scaffolds} || [] }), qr/table schema_migrations \(dbmate\) created as "drydock_apply".*left out of the verification battery/,
         'public-bookkeeping: N-4 says so');
    is($r->{rc}, 0, 'public-bookkeeping: exit 0');
}

# a placeholder down after an up that changed the catalog is a missing down:
# --missing-down warn lets the history pass, the residue still says what stays
{
    my $r = replay('noop-warn', "$root/irregular/noop", '--schema', 'app', '--missing-down', 'warn');
    is($r->{rc}, 0, 'noop --missing-down warn: exit 0');
    my ($p) = grep { $_->{version} eq '4' } @{ $r->{report}{rounds} || [] };
    is($p && $p->{verdict}, 'missing_down', 'noop --missing-down warn: 4 is missing_down');
    is(scalar(@{ $p ? $p->{residue} : [] }), 4, 'noop --missing-down warn: its residue is kept (table, 2 columns, pkey)');
    is(($p ? $p->{replay_findings}[0]{status} : '') // '', 'warn', 'noop --missing-down warn: RP001 is a warning');
}

done_testing();

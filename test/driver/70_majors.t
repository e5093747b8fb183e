#!/usr/bin/perl
# Every installed PostgreSQL major (issue 15): drydock exec / run on each,
# selected by --pg or by --prod-version alone; a base dumped by that major's
# own pg_dump restores; capture of locks and of a rewrite; a replay with
# the manifest's verdicts; the same
# findings on every major for the same DDL; teardown (dd_run checks that no
# run directory and no process is left).  A major that is not installed is
# skipped with the reason (`make deps install PG="15 18 13"` installs them).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use DD;
use DDRun;
use File::Temp ();
use JSON::PP ();
use Test::More;

my $dd = drydock();
my @majors = split ' ', ($ENV{DRYDOCK_TEST_MAJORS} || '13 15 17 18 19');
my $tmp = File::Temp->newdir(DIR => '/tmp', TEMPLATE => 'ddmXXXXXX');
chmod 0755, "$tmp";
my (%installed, %findings);
# a release (18.6) or a pre-release (19beta2, 19rc1) of the major
my $minor = qr/(?:\.\d+|beta\d+|rc\d+)\b/;
my $manifest = JSON::PP->new->decode(DD::slurp(DD::fixture('replay/MANIFEST.json')));

# the major drydock was built against (its default installation)
my $default = run_cmd([$dd, 'exec', '--quiet', '--', 'psql', '-XAtc', 'SHOW server_version_num']);
my $default_major = int(($default->{out} // 0) / 10000);
ok($default_major >= 13, "the default installation is PostgreSQL $default_major");

for my $m (@majors) {
    my $probe = run_cmd([$dd, 'exec', '--quiet', '--pg', $m, '--', 'psql', '-XAtc', 'SHOW server_version_num']);
  SKIP: {
        if ($probe->{rc} == 4 && $probe->{err} =~ /is not installed here/) {
            chomp(my $why = $probe->{err});
            skip("PostgreSQL $m: $why", 1);
        }
        is($probe->{rc}, 0, "$m: exec --pg $m exits 0") or diag($probe->{err});
        is(int(($probe->{out} // 0) / 10000), $m, "$m: exec --pg $m runs a PostgreSQL $m server");
        $installed{$m} = 1;

        # the base: made in a sandbox of this major, dumped by its own pg_dump
        my $base = "$tmp/base-$m.sql";
        my $r = run_cmd([$dd, 'exec', '--quiet', '--pg', $m, '--', 'sh', '-c',
                         'psql -X -q -v ON_ERROR_STOP=1 -f "$1" && pg_dump --schema-only -f "$2"', 'sh',
                         DD::fixture('majors/prod.sql'), $base]);
        is($r->{rc}, 0, "$m: prod.sql created and dumped") or diag($r->{err});
        like(DD::slurp($base) // '', qr/^-- Dumped by pg_dump version \Q$m\E$minor/m, "$m: the base was dumped by pg_dump $m");

        # end to end on an empty cluster, selected by --pg
        $r = dd_run("$m-simple", ['--pg', $m, '--prod-version', $m, '--schema', 'app', '--scaffold-schema',
                                  F('simple/up.sql'), F('simple/down.sql')]);
        is($r->{rc}, 0, "$m: simple: exit 0") or diag($r->{err});
        is($r->{report}{environment}{server_major}, $m, "$m: simple: server_major $m");
        like($r->{report}{environment}{server_version} // '', qr/^\Q$m\E$minor/, "$m: simple: server_version $m.x");
        is(note_of($r, 'N-1')->{status}, 'same', "$m: simple: N-1 same");
        like(note_of($r, 'N-1')->{text}, qr/^same major as production \($m\)/, "$m: simple: N-1 says so");
        is_deeply($r->{report}{rounds}[0]{residue}, [], "$m: simple: nothing left after the rollback");

        # --prod-version alone selects the installed major
        $r = dd_run("$m-prod", ['--prod-version', $m, '--schema', 'app', '--scaffold-schema',
                                F('simple/up.sql'), F('simple/down.sql')]);
        is($r->{report}{environment}{server_major}, $m, "$m: --prod-version $m without --pg runs PostgreSQL $m");

        # the base of this major restores; ALTER of an existing table: lock, finding
        $r = dd_run("$m-alter", ['--pg', $m, '--prod-version', $m, '--schema', 'app', '--base', $base,
                                 F('base_alter/up.sql'), F('base_alter/down.sql')]);
        is($r->{rc}, 1, "$m: alter: exit 1 (findings)") or diag($r->{err});
        ok($r->{report}{artifacts}{base}{restore}{ok}, "$m: alter: the base dumped by pg_dump $m restored");
        like(note_of($r, 'N-4')->{text} // '', qr/role "app_owner" created NOLOGIN/, "$m: alter: the dump's roles created NOLOGIN");
        my @l = grep { $_->{phase} eq 'apply' } @{ $r->{report}{locks} || [] };
        is(join(';', map { "$_->{locks}/" . ($_->{rewrite} ? 'rewrite' : 'no rewrite') } @l),
           'app.accounts:AccessExclusiveLock/no rewrite', "$m: alter: the lock on app.accounts, no rewrite");
        $findings{alter}{$m} = join(',', map { "$_=$r->{codes}{$_}" } sort keys %{ $r->{codes} = codes_failing($r) });

        # a rewrite of a pre-existing table is captured
        $r = dd_run("$m-rewrite", ['--pg', $m, '--prod-version', $m, '--schema', 'app', '--base', $base,
                                   DD::fixture('majors/rewrite/up.sql'), DD::fixture('majors/rewrite/down.sql')]);
        is($r->{rc}, 1, "$m: rewrite: exit 1 (findings)") or diag($r->{err});
        @l = grep { $_->{phase} eq 'apply' } @{ $r->{report}{locks} || [] };
        is(scalar(@l), 1, "$m: rewrite: one apply statement locked pre-existing relations");
        like($l[0] && $l[0]{locks} // '', qr/^app\.accounts:AccessExclusiveLock(?:,|$)/, "$m: rewrite: AccessExclusiveLock on app.accounts");
        ok($l[0] && $l[0]{rewrite}, "$m: rewrite: the rewrite captured");
        $findings{rewrite}{$m} = join(',', map { "$_=$r->{codes}{$_}" } sort keys %{ $r->{codes} = codes_failing($r) });

        # replay of a golang-migrate history: the manifest's verdict for every pair
        my $rdir = File::Temp->newdir(DIR => '/tmp', TEMPLATE => 'ddmrXXXXXX');
        chmod 0755, "$rdir";
        $r = run_cmd([$dd, 'replay', '-q', '--pg', $m, '--prod-version', $m, '--schema', 'app', '--keep-going',
                      DD::fixture('replay/golang-migrate'), '--out', "$rdir/out"], env => { TMPDIR => "$rdir" });
        my $rep = eval { JSON::PP->new->decode(DD::slurp("$rdir/out/report.json") // '') };
        my $man = $manifest->{histories}{'golang-migrate'};
        is($rep && $rep->{environment}{server_major}, $m, "$m: replay ran on PostgreSQL $m") or diag($r->{err});
        is_deeply({ map { $_->{version} => $_->{verdict} } @{ $rep ? $rep->{rounds} : [] } },
                  { map { $_->{version} => ($_->{expected} eq 'failing_up' ? 'failed' : $_->{expected}) } @{ $man->{pairs} } },
                  "$m: replay: every pair's verdict as on the manifest");
        is(scalar(() = glob("$rdir/drydock-??????")), 0, "$m: replay: no run directory left");
        is(scalar(DD::postgres_pids_in("$rdir")), 0, "$m: replay: no process left");
    }
}

# the same DDL gets the same findings on every installed major
for my $case (sort keys %findings) {
    my %by = %{ $findings{$case} };
    my @m = sort { $a <=> $b } keys %by;
    next if @m < 2;
    is_deeply({ map { $_ => $by{$_} } @m }, { map { $_ => $by{ $m[0] } } @m },
              "$case: the same failing codes on PostgreSQL @m ($by{ $m[0] })");
}

# N-1 when the sandbox's major differs: installed, or how to install it
{
    my ($other) = grep { $_ != $default_major } sort keys %installed;
  SKIP: {
        skip('no second major installed', 2) unless $other;
        my $r = dd_run('n1-installed', ['--pg', $default_major, '--prod-version', $other, '--schema', 'app',
                                        '--scaffold-schema', F('simple/up.sql'), F('simple/down.sql')]);
        is(note_of($r, 'N-1')->{status}, 'differs', 'n1-installed: differs');
        like(note_of($r, 'N-1')->{text}, qr/^sandbox $default_major, production $other: .* $other is installed here \(.*\): rerun with --pg $other$/,
             'n1-installed: N-1 names --pg');
    }
    my $r = dd_run('n1-missing', ['--prod-version', 99, '--schema', 'app', '--scaffold-schema',
                                  F('simple/up.sql'), F('simple/down.sql')]);
    is($r->{report}{environment}{server_major}, $default_major, 'n1-missing: the default installation ran');
    like(note_of($r, 'N-1')->{text}, qr/^sandbox $default_major, production 99: .* 99 is not installed here: `make deps PG=99` installs it$/,
         'n1-missing: N-1 says how to install it');
}

# --pg of a major that is not installed: one line, exit 4, nothing started
{
    my $r = run_cmd([$dd, 'run', '-q', '--pg', 99, '--schema', 'app', F('simple/up.sql'), F('simple/down.sql'),
                     '--out', "$tmp/missing"]);
    is($r->{rc}, 4, '--pg 99: exit 4');
    like($r->{err}, qr/^drydock: PostgreSQL 99 is not installed here \(looked in .*\); `make deps PG=99` installs it$/m,
         '--pg 99: says where it looked and how to install it');
    $r = run_cmd([$dd, 'exec', '--pg', 'x', '--', 'true']);
    is($r->{rc}, 2, '--pg x: exit 2');
}

done_testing();

#!/usr/bin/perl
# The report set of `drydock run`: golden structure tests of every rendered
# file, report.json against docs/report.schema.json, SHA256SUMS, atomic
# writing, secret redaction in every file, failed runs that still explain
# themselves, --format tap, the man page.
#
# Regenerate the golden files (test/fixtures/golden/CASE/*) after an
# intended change of the rendering, then review `git diff`:
#
#     DRYDOCK_REGOLD=1 prove test/driver/50_reports.t
#
# The normalizer (normalize() below) replaces what differs between runs and
# machines: UTC times, durations, the repository and temporary paths, the
# random part of run directories, the port, system identifiers, the server
# version, the OS user, the ::1 probe's wording and the network namespace
# row; in the commands table, the driver's internal catalog queries (kind
# sql) and the numbers (both checked against report.json instead).  Checksums of fixed inputs (the fixtures) are kept: they are part of
# what is checked.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Cwd ();
use DD;
use DDRun;
use Digest::SHA ();
use File::Path ();
use File::Temp ();
use JSON::PP ();
use JSON::Validator;
use Test::More;

my $ROOT = Cwd::abs_path("$FindBin::Bin/../..");
my $GOLDEN = "$ROOT/test/fixtures/golden";
my $REGOLD = $ENV{DRYDOCK_REGOLD};
my @scaf = ('--schema', 'app', '--scaffold-schema');

my $validator = JSON::Validator->new;
$validator->schema("$ROOT/docs/report.schema.json");

sub normalize {
    my ($text, $r) = @_;
    my $env = $r->{report} ? $r->{report}{environment} || {} : {};
    my $tmp = "$r->{tmp}";
    $text =~ s/\Q$tmp\E/<TMP>/g;
    $text =~ s/\Q$DD::ROOT\E/<ROOT>/g;
    $text =~ s/\Q$ROOT\E/<ROOT>/g;
    $text =~ s/drydock-[A-Za-z0-9]{6}\b/drydock-XXXXXX/g;
    $text =~ s/\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\b/<UTC>/g;
    $text =~ s/\b\d+(?:\.\d+)? ms\b/<N> ms/g;
    $text =~ s/^(\| port \(unix socket name only\) \| )\d+ \|/$1<PORT> |/mg;
    $text =~ s/^(\| OS user running the cluster \| )[^|]+\|/$1<USER> |/mg;
    $text =~ s/^(\| network namespace \| )[^|]+\|/$1<NETNS> |/mg;
    # the containment (issue 20): the view names this machine's paths; what
    # exists on the host and how many mounts the view has vary by machine
    $text =~ s/^(\| containment \| )[^|]+\|/$1<CONTAINMENT> |/mg;
    $text =~ s/^(\| host directories seen by the server \(they exist on the host\) \| [^|]+\| )[^|]+\|/$1<HOST-DIRS> |/mg;
    $text =~ s/\b\d+ mounts\b/<N> mounts/g;
    $text =~ s/drydock-probe-\d+-\d+/drydock-probe-<N>/g;
    $text =~ s/(\[::1\]:port )(?:refused|unavailable) \([^)]*\)/$1<REFUSED-OR-UNAVAILABLE>/g;
    $text =~ s/^(\| tcp \[::1\]:port \| [^|]+\| )[^|]+\|/$1<REFUSED-OR-UNAVAILABLE> |/mg;
    $text =~ s/\Q$env->{server_version}\E/<SERVER_VERSION>/g if $env->{server_version};
    $text =~ s/\b\d{16,20}\b/<SYSID>/g;
    $text =~ s/ by this run\b//g;
    $text =~ s/\bbase-\d+-[0-9a-f]{16}\b/base-<KEY>/g;
    $text =~ s/^(- last step: #)\d+/$1<n>/mg;
    # without --base the prepared empty database comes from the base cache
    # when an earlier run made its entry, else from the template, and this
    # run stores it: either way the same run (25_base_cache.t checks both)
    $text =~ s/^(\| cluster origin \| )(?:base cache clone|template clone \([^|]*\)) \|/$1<TEMPLATE-OR-CACHE> |/mg;
    $text =~ s/^\| base \| no --base: [^\n]*\n//mg;
    $text =~ s/^(\| \d+ \| clone \| )copy (?:TEMPLATE\/data to RUN\/data \(two threads; template made <UTC>\)|BASECACHE\/data to RUN\/data \(two threads, instead of preparing the database without --base:[^|]*\)) \|/$1<TEMPLATE-OR-CACHE> |/mg;
    $text =~ s/^\| \d+ \| cache \| fast shutdown; [^\n]*\n//mg;
    # the commands table: the driver's own catalog queries (kind sql) change
    # with its implementation and are left out, the numbers with them; the
    # order of every other step is kept (numbering is checked on report.json)
    $text =~ s{(## Commands executed\n.*?)(?=\n## )}{
        my $t = $1;
        $t =~ s/^\| \d+ \| sql \|.*\n//mg;
        $t =~ s/^\| \d+ \| /| # | /mg;
        $t;
    }se;
    return $text;
}

sub golden_compare {
    my ($case, $r, $file) = @_;
    my $got = DD::slurp("$r->{dir}/$file");
    ok(defined $got, "$case: $file written") or return;
    $got = normalize($got, $r);
    my $path = "$GOLDEN/$case/$file";
    if ($REGOLD) {
        File::Path::make_path("$GOLDEN/$case");
        open(my $fh, '>', $path) or die "$path: $!";
        print $fh $got;
        close $fh;
        pass("$case: $file golden regenerated");
        return;
    }
    my $want = DD::slurp($path);
    if (!defined $want) {
        fail("$case: $file golden exists ($path; DRYDOCK_REGOLD=1 prove test/driver/50_reports.t)");
        return;
    }
    if ($got eq $want) {
        pass("$case: $file matches its golden");
        return;
    }
    my $t = File::Temp->new;
    print $t $got;
    close $t;
    fail("$case: $file matches its golden");
    diag(scalar `diff -u '$path' '$t' | head -60`);
    diag('if the change is intended: DRYDOCK_REGOLD=1 prove test/driver/50_reports.t, then review git diff test/fixtures/golden');
}

# Every check of a report directory that does not depend on the case.
sub check_report_dir {
    my ($case, $r) = @_;
    my $dir = $r->{dir};
    my $j = $r->{report};
    ok($j, "$case: report.json parses") or return;
    my @errors = $validator->validate($j);
    ok(!@errors, "$case: report.json validates against docs/report.schema.json")
        or diag(join("\n", map {"$_"} @errors));

    opendir(my $dh, $dir) or die;
    my @files = sort grep { !/^\.\.?$/ } readdir $dh;
    closedir $dh;
    is_deeply([grep { /^\./ } @files], [], "$case: no temporary file left in the out directory");

    # SHA256SUMS lists every other file, with the right checksum
    my %sums;
    for (split /\n/, DD::slurp("$dir/SHA256SUMS") // '') {
        my ($h, $name) = /^([0-9a-f]{64})  (\S+)$/ or do { fail("$case: SHA256SUMS line '$_'"); next };
        $sums{$name} = $h;
    }
    is_deeply([sort keys %sums], [grep { $_ ne 'SHA256SUMS' } @files], "$case: SHA256SUMS lists every file of the report");
    my $bad = 0;
    for my $f (keys %sums) {
        $bad++ if Digest::SHA->new(256)->addfile("$dir/$f")->hexdigest ne $sums{$f};
    }
    is($bad, 0, "$case: every checksum in SHA256SUMS is right");
    my %rf = %{ $j->{report_files} || {} };
    is_deeply([sort keys %rf], [sort grep { $_ ne 'report.json' } keys %sums], "$case: report_files lists every rendered file");
    is(scalar(grep { $rf{$_} ne ($sums{$_} // '') } keys %rf), 0, "$case: report_files checksums agree with SHA256SUMS");

    # the Markdown is prose and tables, never raw JSON
    for my $md (grep { /\.md$/ } @files) {
        my $s = DD::slurp("$dir/$md");
        unlike($s, qr/^\s*[\{\[]"|":\s*[\{\["]/m, "$case: $md has no raw JSON");
    }
    my $log = DD::slurp("$dir/execution-log.md") // '';
    like($log, qr/^production_sql_executed: none$/m, "$case: the banner says no production SQL was executed");
    like($log, qr/^secrets_recorded: +none/m, "$case: the banner says no secrets were recorded");
    like($log, qr/never advances past the dry-run on its own/, "$case: the banner says drydock never advances past the dry-run");
    is(scalar(@{ $j->{fidelity_notes} }), 4, "$case: four fidelity notes");
    my @n = map { $_->{n} } @{ $j->{commands} };
    is_deeply(\@n, [1 .. scalar(@n)], "$case: commands numbered 1..N in order");
    my @rows;
    my ($cmd_section) = $log =~ /## Commands executed\n(.*?)\n## /s;
    @rows = ($cmd_section // '') =~ /^\| (\d+) \| /mg;
    is_deeply(\@rows, \@n, "$case: execution-log.md lists every command with its number");
}

# A warm-up run: the template cache and the prepared empty database (the
# base cache entry of runs without --base) exist afterwards, so every golden
# run below clones them (the same commands in the same order) and the
# isolation case can learn the template's system identifier.
dd_run('warm-up-once', [@scaf, F('simple/up.sql'), F('simple/down.sql')]);	# marks the entry as wanted
my $warm = dd_run('warm-up', [@scaf, F('simple/up.sql'), F('simple/down.sql')]);
is($warm->{rc}, 0, 'warm-up: exit 0') or diag($warm->{err});
my $template_sysid = $warm->{report}{environment}{system_identifier};
like($template_sysid // '', qr/^\d+$/, 'warm-up: the sandbox system identifier is in report.json');

# (1) the passing 12-table example
{
    my $r = dd_run('pass', [@scaf, "$ROOT/examples/12-tables/up.sql", "$ROOT/examples/12-tables/down.sql"]);
    is($r->{rc}, 0, 'pass: exit 0') or diag($r->{err});
    check_report_dir('pass', $r);
    golden_compare('pass', $r, $_) for qw(execution-log.md verification-result.md schema-assertions.pgtap.sql);
    my $rd = $r->{report}{rounds}[0];
    is_deeply($rd->{objects_created}, { table => 12, sequence => 12, index => 27 }, 'pass: objects created by type');
    is($rd->{post_rollback_counts}{table}, 0, 'pass: no table left after the rollback');
    ok(exists $r->{report}{environment}{network_namespace}, 'pass: environment.network_namespace recorded');
    # the warm-up stored the prepared empty database: this run clones it
    is($r->{report}{environment}{cluster_origin}, 'base cache clone', 'pass: the cluster is a clone of the prepared empty database');
    ok($r->{report}{environment}{base_cache}{created_at} && $r->{report}{environment}{base_cache}{empty_base},
       'pass: the entry (no --base) and its creation time are recorded');
    my $log = DD::slurp("$r->{dir}/execution-log.md");
    like($log, qr/created → applied → verified → rolled back → stopped → removed/, 'pass: the full lifecycle');
    like($log, qr/\| TCP listener \| none \(listen_addresses=''\); probes: 127\.0\.0\.1:port refused/, 'pass: TCP probe results inline');
}

# (2) findings: a rollback that drops by CASCADE (RB003), with --format tap
{
    my $r = dd_run('findings', [@scaf, '--format', 'tap', F('rollback_cascade/up.sql'), F('rollback_cascade/down.sql')]);
    is($r->{rc}, 1, 'findings: exit 1') or diag($r->{err});
    check_report_dir('findings', $r);
    golden_compare('findings', $r, $_) for qw(execution-log.md verification-result.md);
    my @tap = split /\n/, $r->{out};
    is($tap[0], 'TAP version 13', 'findings: --format tap prints TAP on stdout');
    my ($plan) = map { /^1\.\.(\d+)$/ ? $1 : () } @tap;
    my $checks = @{ $r->{report}{rounds}[0]{verification} } + @{ $r->{report}{rounds}[0]{rollback_verification} };
    is($plan, $checks, 'findings: one TAP test per check');
    is(scalar(grep { /^(?:not )?ok \d+ - / } @tap), $checks, 'findings: every planned test is printed');
    ok((grep { /^not ok \d+ - RB003 / } @tap), 'findings: the RB003 failure is "not ok"');
}

# (2b) findings against a base schema: the lock table has rows.  A private
# cache warmed by a first run: the golden shows the base cloned from it.
{
    my $cache = File::Temp->newdir();
    chmod 0755, "$cache";
    my @locks = ('--schema', 'app', '--base', BASE(), F('base_alter/up.sql'), F('base_alter/down.sql'));
    my $warm = dd_run('locks-warm', \@locks, env => { XDG_CACHE_HOME => "$cache" });
    is($warm->{report}{environment}{base_cache}{origin}, 'restored', 'locks-warm: the base restored and cached');
    check_report_dir('locks-warm', $warm);
    my $r = dd_run('locks', \@locks, env => { XDG_CACHE_HOME => "$cache" });
    is($r->{rc}, 1, 'locks: exit 1') or diag($r->{err});
    check_report_dir('locks', $r);
    golden_compare('locks', $r, $_) for qw(execution-log.md verification-result.md);
    like(DD::slurp("$r->{dir}/verification-result.md"), qr/^\| 1 \| apply \| ALTER TABLE \| app\.accounts \| app\.accounts:AccessExclusiveLock \| no \|$/m,
         'locks: the ALTER of a pre-existing table, its lock mode and no rewrite');
}

# (3) an SQL error: the log says where and why, the battery did not run
{
    my $r = dd_run('sql-error', [@scaf, F('syntax_error_7th/up.sql'), F('syntax_error_7th/down.sql')]);
    is($r->{rc}, 3, 'sql-error: exit 3') or diag($r->{err});
    check_report_dir('sql-error', $r);
    golden_compare('sql-error', $r, $_) for qw(execution-log.md verification-result.md);
    my $log = DD::slurp("$r->{dir}/execution-log.md");
    like($log, qr/What stopped the run:\n\n- where: `[^`]*syntax_error_7th\/up\.sql:13`\n- why: syntax error at or near "CREATE"/,
         'sql-error: the log says where and why');
    ok(!-e "$r->{dir}/schema-assertions.pgtap.sql", 'sql-error: no pgTAP script (nothing was verified)');
}

# (4) isolation failure: the production sysid equals the template's
{
    my $r = dd_run('isolation', [@scaf, '--prod-sysid', $template_sysid, '--prod-sysid', '1234567890123456789',
                                 F('simple/up.sql'), F('simple/down.sql')]);
    is($r->{rc}, 4, 'isolation: exit 4') or diag($r->{err});
    check_report_dir('isolation', $r);
    golden_compare('isolation', $r, $_) for qw(execution-log.md verification-result.md);
    my $log = DD::slurp("$r->{dir}/execution-log.md");
    like($log, qr/^\| \Q$template_sysid\E \| \Q$template_sysid\E \| \*\*NO: same identifier\*\* \|$/m, 'isolation: the sysid comparison per production id');
    like($log, qr/^environment: +isolated ephemeral local cluster started, but isolation was NOT proven/m, 'isolation: the banner does not claim isolation');
    is_deeply($r->{report}{rounds}, [], 'isolation: nothing was applied');
}

# (5) a preflight refusal: no cluster, and the log says so
{
    my $r = dd_run('refused', [@scaf, F('refused_shell/up.sql'), F('simple/down.sql')]);
    is($r->{rc}, 2, 'refused: exit 2') or diag($r->{err});
    check_report_dir('refused', $r);
    golden_compare('refused', $r, $_) for qw(execution-log.md verification-result.md);
    my $log = DD::slurp("$r->{dir}/execution-log.md");
    like($log, qr/^environment: +none: no cluster was started/m, 'refused: the banner says no cluster was started');
    like($log, qr/- refusal code: `meta-command`/, 'refused: the refusal code');
}

# secrets: the PASSWORD literal is in no file of the report, nor stdout/stderr
{
    my $secret = 'Tr0ub4dor-drydock-SECRET';
    for my $c (['password', 1], ['password_error', 3]) {
        my ($name, $rc) = @$c;
        # every CI format too: each is a file of the set, redacted like the others
        my $r = dd_run($name, [@scaf, '--apply-as-superuser', '--format', 'tap,sarif,junit,github,gitlab', F("$name/up.sql"), F("$name/down.sql")]);
        is($r->{rc}, $rc, "$name: exit $rc") or diag($r->{err});
        check_report_dir($name, $r);
        my @files = grep { -f } glob("$r->{dir}/*");
        ok(@files >= 4, "$name: the report files exist");
        ok(-f "$r->{dir}/$_", "$name: $_ written") for qw(checks.tap drydock.sarif junit.xml github-annotations.txt job-summary.md gl-code-quality-report.json);
        for my $f (@files, 'stdout', 'stderr') {
            my $s = $f eq 'stdout' ? $r->{out} : $f eq 'stderr' ? $r->{err} : DD::slurp($f);
            (my $short = $f) =~ s{.*/}{};
            unlike($s, qr/\Q$secret\E/, "$name: the secret is not in $short");
        }
        like(DD::slurp("$r->{dir}/execution-log.md"), qr/^secrets_recorded: +none \(\d+ redacted\)$/m,
             "$name: the banner says what was redacted");
    }
}

# a reused --out never mixes two runs: the failed run removes the old pgTAP script
{
    my $tmp = File::Temp->newdir(DIR => '/tmp', TEMPLATE => 'ddtXXXXXX');
    my $out = "$tmp/out";
    my $ok = DD::run_cmd([DD::drydock(), 'run', '-q', @scaf, F('simple/up.sql'), F('simple/down.sql'), '--out', $out]);
    is($ok->{rc}, 0, 'reuse: first run passes');
    ok(-e "$out/schema-assertions.pgtap.sql", 'reuse: first run wrote a pgTAP script');
    my $bad = DD::run_cmd([DD::drydock(), 'run', '-q', @scaf, F('syntax_error_7th/up.sql'), F('syntax_error_7th/down.sql'), '--out', $out]);
    is($bad->{rc}, 3, 'reuse: second run fails');
    ok(!-e "$out/schema-assertions.pgtap.sql", 'reuse: the first run\'s pgTAP script is gone');
    is(system("cd '$out' && sha256sum --quiet -c SHA256SUMS"), 0, 'reuse: sha256sum -c SHA256SUMS passes');
}

# an --out that cannot be written: exit 2 before any cluster starts
{
    my $tmp = File::Temp->newdir(DIR => '/tmp', TEMPLATE => 'ddtXXXXXX');
    open(my $fh, '>', "$tmp/file") or die;
    close $fh;
    for my $c (["$tmp/file/out", 'a path under a regular file'], ['/proc/drydock-no/out', 'an impossible path']) {
        my ($out, $what) = @$c;
        my $r = DD::run_cmd([DD::drydock(), 'run', @scaf, F('simple/up.sql'), F('simple/down.sql'), '--out', $out],
                            env => { TMPDIR => "$tmp" });
        is($r->{rc}, 2, "unwritable --out ($what): exit 2");
        like($r->{err}, qr/^drydock: cannot create report directory /m, "unwritable --out ($what): one-line error");
        unlike($r->{err}, qr/sandbox:|preflight:|cluster ready/, "unwritable --out ($what): nothing started (no progress line)");
        is(scalar(glob("$tmp/drydock-??????")), undef, "unwritable --out ($what): no run directory was made");
    }
    if ($> == 0 && getpwnam('nobody')) {
        my $ro = "$tmp/ro";
        mkdir $ro, 0555;
        chmod 0755, "$tmp";
        my $r = DD::run_cmd(['runuser', '-u', 'nobody', '--', DD::drydock(), 'run', @scaf,
                             F('simple/up.sql'), F('simple/down.sql'), '--out', "$ro/out"], env => { TMPDIR => "$tmp" });
        is($r->{rc}, 2, 'unwritable --out (permission): exit 2');
        like($r->{err}, qr/Permission denied/, 'unwritable --out (permission): says why');
    }
}

# the man page renders without warnings, and make install installs it
{
    my $man = "$ROOT/docs/drydock.1";
    ok(-f $man, 'docs/drydock.1 exists');
  SKIP: {
        skip 'man(1) not installed', 1 unless system('command -v man >/dev/null 2>&1') == 0;
        my $warn = `MANWIDTH=80 man -l '$man' 2>&1 >/dev/null`;
        is($warn, '', 'man -l docs/drydock.1 renders without warnings');
    }
    my $dest = File::Temp->newdir();
    my $out = `make -s -C '$ROOT/driver' install DESTDIR='$dest' prefix=/usr/local 2>&1`;
    is($?, 0, 'make install into a DESTDIR') or diag($out);
    ok(-f "$dest/usr/local/share/man/man1/drydock.1", 'make install installs drydock(1)');
    ok(-x "$dest/usr/local/bin/drydock", 'make install installs the driver');
    ok(-f "$dest/usr/local/share/doc/drydock/codes.md", 'make install installs docs/codes.md, where the SARIF rules link');
}

done_testing();

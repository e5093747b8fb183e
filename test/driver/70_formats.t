#!/usr/bin/perl
# The CI formats (issue 16): --format LIST writes each format into --out and
# prints the first on stdout; every format is validated the way a CI system
# reads it: SARIF against the official SARIF 2.1.0 JSON schema shipped in
# test/schemas/, JUnit parsed as XML (xmllint), GitHub workflow commands by
# pattern, TAP through TAP::Parser, GitLab Code Quality against the fields
# GitLab documents.  The fixture (test/fixtures/formats) has findings on known
# lines; --fail-on warn; replay pairs located at their own files.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use DD;
use DDRun;
use Cwd ();
use File::Temp ();
use JSON::PP ();
use JSON::Validator;
use TAP::Parser;
use Test::More;

my $ROOT = Cwd::abs_path("$FindBin::Bin/../..");
my $FX = "$ROOT/test/fixtures/formats";
my @all = ('--format', 'tap,github,sarif,junit,gitlab');
my $json = JSON::PP->new;

my $sarif_validator = JSON::Validator->new;
$sarif_validator->schema("$ROOT/test/schemas/sarif-schema-2.1.0.json");

sub sarif_errors {
    my ($doc) = @_;
    local $SIG{__WARN__} = sub { warn @_ unless $_[0] =~ /Format rule for .* is missing/ };
    return $sarif_validator->validate($doc);
}

# the codes docs/codes.md documents
my @doc_codes = DD::slurp("$ROOT/docs/codes.md") =~ /^\| ([A-Z]{2}\d{3}) \|/mg;

# ---------- a run with every format, from the fixture's directory (relative paths, as CI has)
my $r = dd_run('formats', ['--schema', 'app', '--scaffold-schema', @all, 'up.sql', 'down.sql'],
               cwd => $FX, env => { GITHUB_STEP_SUMMARY => undef });
is($r->{rc}, 1, 'formats: exit 1 (findings)') or diag($r->{err});
my $rep = $r->{report};
my @rows = map { (@{ $_->{verification} || [] }, @{ $_->{rollback_verification} || [] }) } @{ $rep->{rounds} };
my $n_fail = grep { $_->{status} eq 'fail' } @rows;
my $n_warn = grep { $_->{status} eq 'warn' } @rows;
ok($n_fail >= 3 && $n_warn >= 1, "formats: the fixture has failing ($n_fail) and warning ($n_warn) checks");
is_deeply($rep->{options}{format}, [qw(tap sarif junit github gitlab)], 'formats: options.format records them');

# every format is a file of the set: in report_files and SHA256SUMS
my %sums = map { /^([0-9a-f]{64})  (\S+)$/ ? ($2 => $1) : () } split /\n/, DD::slurp("$r->{dir}/SHA256SUMS");
for my $f (qw(checks.tap drydock.sarif junit.xml github-annotations.txt job-summary.md gl-code-quality-report.json)) {
    ok($sums{$f} && $rep->{report_files}{$f} && $sums{$f} eq $rep->{report_files}{$f}, "formats: $f is listed in SHA256SUMS and report_files");
}
is(system("cd '$r->{dir}' && sha256sum --quiet -c SHA256SUMS"), 0, 'formats: sha256sum -c SHA256SUMS passes');

# --- TAP: stdout is TAP and nothing else; a warning passes with a diagnostic, never TODO
{
    my $p = TAP::Parser->new({ tap => $r->{out} });
    my ($unknown, $todo, @warn_ok) = (0, 0);
    my $prev;
    while (my $res = $p->next) {
        $unknown++ if $res->is_unknown;
        $todo++ if $res->is_test && $res->has_todo;
        push @warn_ok, $prev if $res->is_comment && $res->as_string =~ /^# warning: / && $prev && $prev->is_ok;
        $prev = $res if $res->is_test;
    }
    is($unknown, 0, 'tap: every line of stdout is TAP');
    is(scalar($p->parse_errors), 0, 'tap: no parse errors') or diag(join "\n", $p->parse_errors);
    is($p->tests_run, scalar(@rows), 'tap: one test per check');
    is($todo, 0, 'tap: no TODO directive');
    is(scalar($p->failed), $n_fail, 'tap: the failing checks fail');
    is(scalar(@warn_ok), $n_warn, 'tap: each warning is a passing test followed by a "# warning:" diagnostic');
    unlike($r->{out}, qr/^drydock: /m, 'tap: the summary line is not on stdout');
    like($r->{err}, qr/^drydock: findings \(exit 1\)/m, 'tap: ... it is on stderr');
    is(DD::slurp("$r->{dir}/checks.tap"), $r->{out}, 'tap: checks.tap is what stdout had');
    my $prove = DD::run_cmd(['prove', '-e', 'cat', "$r->{dir}/checks.tap"]);
    like($prove->{out}, qr/Failed $n_fail\/\d+ subtests/, 'tap: prove reads it and counts the failing checks');
}

# --- SARIF: valid against the official schema; rules; results at their file and line
my $sarif = $json->decode(DD::slurp("$r->{dir}/drydock.sarif"));
{
    my @e = sarif_errors($sarif);
    is(scalar(@e), 0, 'sarif: valid against sarif-schema-2.1.0.json') or diag(join "\n", @e);
    # the validator does reject what is not SARIF (the check above can fail)
    my $broken = $json->decode(DD::slurp("$r->{dir}/drydock.sarif"));
    $broken->{runs}[0]{results}[0]{level} = 'fatal';
    delete $broken->{runs}[0]{tool};
    ok(scalar(sarif_errors($broken)) >= 2, 'sarif: the schema rejects an invalid level and a missing tool');

    my $run = $sarif->{runs}[0];
    is($sarif->{version}, '2.1.0', 'sarif: version 2.1.0');
    my %rules = map { $_->{id} => $_ } @{ $run->{tool}{driver}{rules} };
    is(scalar(grep { !$rules{$_} } @doc_codes), 0, 'sarif: one rule per code of docs/codes.md');
    my $kc1 = $rules{KC001};
    like($kc1->{shortDescription}{text}, qr/no primary key/, 'sarif: KC001 has its meaning');
    like($kc1->{help}{text}, qr/PRIMARY KEY/, 'sarif: ... and its fix as help');
    like($kc1->{helpUri}, qr{codes\.md#verification-finding-codes$}, 'sarif: ... and a link to docs/codes.md');
    my @res = @{ $run->{results} };
    is(scalar(grep { $_->{level} eq 'error' } @res), $n_fail, 'sarif: one error result per failing check');
    is(scalar(grep { $_->{level} eq 'warning' } @res), $n_warn, 'sarif: one warning result per warning check');
    my ($nh4) = grep { $_->{ruleId} eq 'NH004' && ($_->{locations}[0]{physicalLocation}{region}{startLine} // 0) == 14 } @res;
    ok($nh4, 'sarif: NH004 (truncated name) at up.sql line 14');
    is($nh4 && $nh4->{locations}[0]{physicalLocation}{artifactLocation}{uri}, 'up.sql', 'sarif: ... in up.sql, relative as given');
    is($rules{$nh4->{ruleId}} && $run->{tool}{driver}{rules}[$nh4->{ruleIndex}]{id}, 'NH004', 'sarif: ruleIndex points at the rule');
    my ($sup) = grep { $_->{suppressions} } @res;
    ok($sup && $sup->{suppressions}[0]{kind} eq 'inSource', 'sarif: the inline suppression is a suppressed result (inSource)');
    # the finding stays where its statement is (the row's location, up.sql:9), under the directive at line 8
    is($sup && $sup->{locations}[0]{physicalLocation}{region}{startLine}, 9, 'sarif: ... at the statement it suppresses, up.sql:9');
    my ($kc) = grep { $_->{ruleId} eq 'KC001' && $_->{level} eq 'error' } @res;
    is($kc && $kc->{locations}[0]{physicalLocation}{artifactLocation}{uri}, 'up.sql', 'sarif: KC001 located at the up file');
    is($run->{invocations}[0]{exitCode}, 1, 'sarif: the invocation has the exit code');
}

# --- JUnit: well-formed XML; a testsuite per phase and family; a testcase per check
{
    my $x = "$r->{dir}/junit.xml";
    my $lint = DD::run_cmd(['xmllint', '--noout', $x]);
    is($lint->{rc}, 0, 'junit: well-formed XML (xmllint)') or diag($lint->{err});
    my $count = sub { my $c = DD::run_cmd(['xmllint', '--xpath', $_[0], $x]); chomp $c->{out}; $c->{out} };
    is($count->('count(//testsuite/testcase)'), scalar(@rows), 'junit: one testcase per check');
    is($count->('count(//testcase/failure)'), $n_fail, 'junit: one failure per failing check');
    is($count->('string(/testsuites/@failures)'), $n_fail, 'junit: testsuites@failures agrees');
    is($count->('count(//testsuite[@name="apply KC"])'), 1, 'junit: a testsuite per phase and family ("apply KC")');
    is($count->('count(//testsuite[@name="rollback RB"])'), 1, 'junit: ... ("rollback RB")');
    like($count->('string(//testcase[@name="NH004 app.' . ('a' x 63) . '"]/failure)'), qr/^up\.sql:14: NH004 /,
         'junit: a failure has FILE:LINE, code and message');
    is($count->('string(//testcase[starts-with(@name, "NH002") and contains(@name, "Odd")]/@name)'), 'NH002 app."Odd <&>, x: y%"',
       'junit: markup in a name round-trips through the escaping');
    like($count->('string(//testsuite[@name="apply KC"]/testcase[starts-with(@name, "KC004")]/system-out)'), qr/^warning: /,
         'junit: a warning passes, said in system-out');
}

# --- GitHub: workflow commands by pattern; the job summary
{
    my @lines = split /\n/, DD::slurp("$r->{dir}/github-annotations.txt");
    my @bad = grep { !/^::(error|warning) file=[^,:]+,line=\d+,title=[A-Z]{2}\d{3}::\S.*$/ } @lines;
    is_deeply(\@bad, [], 'github: every line is ::error/::warning file=F,line=N,title=CODE::message');
    is(scalar(grep { /^::error / } @lines), $n_fail, 'github: one ::error per failing check');
    is(scalar(grep { /^::warning / } @lines), $n_warn, 'github: one ::warning per warning check');
    ok((grep { /^::warning .*title=KC004::/ } @lines), 'github: ... KC004 among them');
    ok((grep { /^::error file=up\.sql,line=14,title=NH004::/ } @lines), 'github: NH004 at up.sql line 14');
    ok((grep { /title=NH002::.*"Odd <&>, x: y%25"/ } @lines), 'github: % in a message is escaped (%25)');
    my $md = DD::slurp("$r->{dir}/job-summary.md");
    like($md, qr/^## drydock run: findings \(exit 1\)$/m, 'github: the job summary has the outcome');
    like($md, qr/^\| :x: fail \| NH004 \| `up\.sql:14` \|/m, 'github: ... and a row per finding with FILE:LINE');
}

# --- GitLab Code Quality: the documented fields
{
    my $gl = $json->decode(DD::slurp("$r->{dir}/gl-code-quality-report.json"));
    is(ref $gl, 'ARRAY', 'gitlab: a JSON array');
    is(scalar(@$gl), $n_fail + $n_warn, 'gitlab: one issue per failing or warning check');
    my @bad = grep {
        !(defined $_->{description} && $_->{check_name} =~ /^[A-Z]{2}\d{3}$/ && $_->{fingerprint} =~ /^[0-9a-f]{64}$/
          && $_->{severity} =~ /^(info|minor|major|critical|blocker)$/ && $_->{location}{path} eq 'up.sql'
          && $_->{location}{lines}{begin} =~ /^\d+$/ && $_->{location}{lines}{begin} >= 1)
    } @$gl;
    is(scalar(@bad), 0, 'gitlab: description, check_name, fingerprint, severity, location.path, location.lines.begin') or diag($json->encode(\@bad));
    my %fp = map { $_->{fingerprint} => 1 } @$gl;
    is(scalar(keys %fp), scalar(@$gl), 'gitlab: fingerprints are unique');
    ok((grep { $_->{check_name} eq 'NH004' && $_->{location}{lines}{begin} == 14 } @$gl), 'gitlab: NH004 at line 14');
}

# ---------- the same run twice gives the same fingerprints (stable across runs)
{
    my $r2 = dd_run('formats-again', ['--schema', 'app', '--scaffold-schema', '--format', 'gitlab', 'up.sql', 'down.sql'], cwd => $FX);
    my $a = join ',', sort map { $_->{fingerprint} } @{ $json->decode(DD::slurp("$r->{dir}/gl-code-quality-report.json")) };
    my $b = join ',', sort map { $_->{fingerprint} } @{ $json->decode(DD::slurp("$r2->{dir}/gl-code-quality-report.json")) };
    is($b, $a, 'gitlab: fingerprints are the same on a second run');
    ok(!-e "$r2->{dir}/drydock.sarif", 'a format not asked for is not written');
    like($r2->{out}, qr/\A\[\n/, '--format gitlab alone: stdout is the Code Quality JSON');
}

# ---------- github on stdout, with $GITHUB_STEP_SUMMARY; --fail-on warn on a warning-only migration
{
    my $tmp = File::Temp->newdir();
    my $sum = "$tmp/step-summary.md";
    open(my $fh, '>', $sum) or die; print $fh "earlier step\n"; close $fh;
    chmod 0666, $sum;
    my $w = dd_run('warn-only', ['--schema', 'app', '--scaffold-schema', '--format', 'github', 'warn_up.sql', 'warn_down.sql'],
                   cwd => $FX, env => { GITHUB_STEP_SUMMARY => $sum });
    is($w->{rc}, 0, 'warn-only: exit 0 (a warning does not fail by default)') or diag($w->{err});
    like($w->{out}, qr/^::warning file=warn_up\.sql,line=\d+,title=KC004::/m, 'warn-only: stdout has the ::warning command');
    unlike($w->{out}, qr/^(?!::)/m, 'warn-only: stdout has workflow commands only');
    my $s = DD::slurp($sum);
    like($s, qr/\Aearlier step\n## drydock run: pass \(exit 0\)/, 'warn-only: the job summary is appended to $GITHUB_STEP_SUMMARY');

    my $f = dd_run('fail-on-warn', ['--schema', 'app', '--scaffold-schema', '--format', 'tap,github,junit', '--fail-on', 'warn',
                                    'warn_up.sql', 'warn_down.sql'], cwd => $FX);
    is($f->{rc}, 1, '--fail-on warn: a warning fails the run (exit 1)') or diag($f->{err});
    is($f->{report}{status}, 'findings', '--fail-on warn: status findings');
    like($f->{out}, qr/^not ok \d+ - KC004 /m, '--fail-on warn: the warning is "not ok" in TAP');
    like(DD::slurp("$f->{dir}/github-annotations.txt"), qr/^::error .*title=KC004::/m, '--fail-on warn: ... ::error for GitHub');
    like(DD::slurp("$f->{dir}/junit.xml"), qr/<failure type="KC004"/, '--fail-on warn: ... a JUnit failure');
}

# ---------- an error that stops the run is a finding at its file and line
{
    my $e = dd_run('sql-error', ['--schema', 'app', '--scaffold-schema', '--format', 'github,sarif',
                                 F('syntax_error_7th/up.sql'), F('simple/down.sql')]);
    is($e->{rc}, 3, 'sql-error: exit 3');
    my $line = $e->{report}{error}{line};
    ok($line, "sql-error: the report has the error's line ($line)");
    my $file = F('syntax_error_7th/up.sql');
    like($e->{out}, qr/^::error file=\Q$file\E,line=$line,title=error::/m, 'sql-error: ::error at the file and line');
    is(scalar(sarif_errors($json->decode(DD::slurp("$e->{dir}/drydock.sarif")))), 0, 'sql-error: the SARIF is valid');
}

# ---------- bad --format / --fail-on: usage errors, nothing written
{
    my $tmp = File::Temp->newdir();
    for my $bad (['--format', 'xml'], ['--format', ','], ['--fail-on', 'notice']) {
        my $u = DD::run_cmd([DD::drydock(), 'run', @$bad, '--out', "$tmp/out", 'up.sql', 'down.sql']);
        is($u->{rc}, 2, "@$bad: exit 2");
        like($u->{err}, qr/^drydock: --(format|fail-on)/, "@$bad: a one-line error naming the option");
        ok(!-e "$tmp/out", "@$bad: nothing written");
    }
}

# ---------- replay: each pair's findings at its own files
{
    my $tmp = File::Temp->newdir(DIR => '/tmp', TEMPLATE => 'ddfXXXXXX');
    chmod 0755, "$tmp";
    my $dir = 'test/fixtures/replay/golang-migrate';
    my $rr;
    {
        my $here = Cwd::getcwd();
        chdir $ROOT or die;
        $rr = DD::run_cmd([DD::drydock(), 'replay', '-q', $dir, '--schema', 'app', '--from', '4', '--to', '4',
                           '--format', 'junit,sarif,github', '--out', "$tmp/out"], env => { TMPDIR => "$tmp" });
        chdir $here;
    }
    is($rr->{rc}, 1, 'replay: exit 1 (pair 4 is not an inverse)') or diag($rr->{err});
    like($rr->{out}, qr/\A<\?xml /, 'replay: stdout is the JUnit XML');
    is(DD::run_cmd(['xmllint', '--noout', "$tmp/out/junit.xml"])->{rc}, 0, 'replay: junit.xml is well-formed');
    like($rr->{out}, qr/<testsuite name="4 customers_phone: rollback RB"/, 'replay: testsuites are named by pair');
    my $s = $json->decode(DD::slurp("$tmp/out/drydock.sarif"));
    is(scalar(sarif_errors($s)), 0, 'replay: the SARIF is valid');
    my @rb = grep { $_->{ruleId} =~ /^RB/ } @{ $s->{runs}[0]{results} };
    ok(@rb >= 1, 'replay: the RB findings are results');
    is(scalar(grep { $_->{locations}[0]{physicalLocation}{artifactLocation}{uri} ne "$dir/4_customers_phone.down.sql" } @rb), 0,
       "replay: ... located at the pair's down file");
    like(DD::slurp("$tmp/out/github-annotations.txt"), qr/^::error file=\Q$dir\E\/4_customers_phone\.down\.sql,line=1,title=RB\d{3}::4 customers_phone: rollback RB: /m,
         'replay: a GitHub annotation on the down file');
}

done_testing();

#!/usr/bin/perl
# Hostile input (issue 8), end to end through `drydock run`:
#  - every refused construct, hidden where a naive scan misses it: exit 2,
#    no cluster ever started (no run directory, no template cache built),
#    nothing of the artifact executed;
#  - the same constructs where a naive scan wrongly flags them (dollar
#    bodies, strings, comments, quoted identifiers): not refused;
#  - superuser-only tricks (pg_read_file, COPY TO PROGRAM, data_directory,
#    the driver's environment) contained by the non-superuser apply role,
#    and no secret in any output;
#  - huge inputs with the driver's max RSS measured; deep nesting, invalid
#    UTF-8, CRLF + BOM; bad policy files.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use DD;
use DDRun;
use File::Temp ();
use JSON::PP ();
use Test::More;

my $H = DD::fixture('hostile');
my @scaf = ('--schema', 'app', '--scaffold-schema');
my $MARKER = '/tmp/DRYDOCK_HOSTILE_MARKER';
unlink $MARKER;
my $CANARY = 'drydock-canary-' . join('', map { ('a' .. 'z')[rand 26] } 1 .. 16);

sub newtmp {
    my $t = File::Temp->newdir(DIR => '/tmp', TEMPLATE => 'ddhXXXXXX');
    chmod 0755, "$t";
    return $t;
}

# ---- refused constructs: exit 2, nothing started, nothing ran ----
{
    open(my $fh, '<', "$H/refuse/EXPECTED") or die;
    my @cases = map { chomp; [split ' '] } <$fh>;
    close $fh;
    ok(@cases >= 20, scalar(@cases) . ' refusal cases');
    for my $c (@cases) {
        my ($name, $line, $code) = @$c;
        my $file = "$H/refuse/$name.sql";
        my $cache = newtmp();
        my $r = dd_run($name, [@scaf, $file, F('simple/down.sql')], env => { XDG_CACHE_HOME => "$cache/xdg" });
        is($r->{rc}, 2, "$name: exit 2") or diag($r->{err});
        like((split /\n/, $r->{err})[0] // '', qr/^drydock: \Q$file\E:$line: /, "$name: one-line error at line $line");
        is($r->{report}{error}{code}, $code, "$name: refused as $code") if $code ne '-';
        is($r->{report}{status}, 'refused', "$name: status refused");
        is_deeply($r->{report}{commands}, [], "$name: no command ran");
        ok(!exists $r->{report}{environment}{port}, "$name: no cluster");
        ok(!-e "$cache/xdg", "$name: no template cache was even looked at (no initdb, no clone)");
        opendir(my $dh, "$r->{tmp}"); my @in_tmp = grep { !/^(\.|\.\.|out)$/ } readdir $dh; closedir $dh;
        is_deeply(\@in_tmp, [], "$name: TMPDIR untouched: no run directory was ever made");
        ok(!-e $MARKER, "$name: the payload did not run");
    }
}

# ---- not refused: the same text where it is inert; contained when it runs ----
my %accept = (
    a01_dollar_body        => [[0, 1], 'inside a dollar-quoted function body'],
    a02_string_meta        => [[0, 1], 'inside a string literal that looks like a meta-command'],
    a03_comments           => [[0, 1], 'inside -- and nested /* */ comments'],
    a04_quoted_ident       => [[0, 1], 'inside a quoted identifier'],
    a05_nested_dollar_body => [[0, 1], 'in a function body never called (nested dollar quotes)'],
    c01_called_copy_program => [[3], 'COPY TO PROGRAM via EXECUTE in a body, called: the apply role may not'],
    c02_called_pg_read_file => [[3], 'pg_read_file in a body, called: the apply role may not'],
    c03_data_directory     => [[3], "current_setting('data_directory'): the apply role may not"],
);
for my $name (sort keys %accept) {
    my ($want, $what) = @{ $accept{$name} };
    my $r = dd_run($name, [@scaf, "$H/accept/$name.up.sql", "$H/accept/$name.down.sql"],
                   env => { DRYDOCK_TEST_CANARY => $CANARY, PGPASSWORD => $CANARY });
    ok((grep { $r->{rc} == $_ } @$want), "$name: exit @$want ($what), got $r->{rc}") or diag($r->{err});
    isnt($r->{report}{status}, 'refused', "$name: not refused");
    ok(!-e $MARKER, "$name: nothing ran outside the server");
    unlike(all_output_text($r), qr/\Q$CANARY\E|root:[^:]*:\d+:|^postgres:\$/m, "$name: no secret, no server file in any output");
    if ($name =~ /^c0[12]/) {
        like($r->{err}, qr/permission denied|must be superuser|pg_execute_server_program|pg_read_server_files/,
             "$name: refused by the server's privilege check");
    }
    if ($name eq 'c03_data_directory') {
        like($r->{err}, qr/pg_read_all_settings|superuser/, "$name: the setting is not readable");
    }
}

# a superuser artifact (--apply-as-superuser) reading the postmaster's and the driver's environment
{
    my $r = dd_run('environ', ['--apply-as-superuser', @scaf, "$H/accept/c04_driver_environ.up.sql", "$H/accept/c04_driver_environ.down.sql"],
                   env => { DRYDOCK_TEST_CANARY => $CANARY, PGPASSWORD => $CANARY, AWS_SECRET_ACCESS_KEY => $CANARY });
    my $all = all_output_text($r);
    ok($r->{rc} == 0 || $r->{rc} == 3, "environ: a clear outcome (got $r->{rc})") or diag($r->{err});
    like($all, qr/postmaster environ: PATH=/, 'environ: the postmaster\'s environment was read (superuser can) ...');
    unlike($all, qr/postmaster environ: [^\n]*\Q$CANARY\E/, 'environ: ... and holds nothing of the caller\'s');
    SKIP: {
        skip 'the driver runs as root: the cluster user cannot read its /proc/PID/environ', 1 if $> == 0;
        unlike($all, qr/\Q$CANARY\E/, 'environ: the caller\'s secret is in no output');
    }
    if ($> == 0) {
        # with the server in a PID namespace of its own (issue 20) the driver
        # is not even there: its parent is pid 0 from inside
        like($r->{err}, qr/permission denied|\/proc\/0\/environ.*No such file/i, 'environ: as root, the driver\'s environ is unreadable to the cluster user');
        unlike($all, qr/\Q$CANARY\E/, 'environ: the caller\'s secret is in no output');
    }
}
SKIP: {
    skip 'not root: cannot run as nobody', 4 if $> != 0;
    skip 'nobody cannot reach the tree (private directory)', 4 unless nobody_can_use(DD::drydock(), "$H/accept/c04_driver_environ.up.sql");
    # the same, with the driver run by an unprivileged user: the cluster runs as that same user
    my $r = dd_run('environ-nobody', ['--apply-as-superuser', @scaf, "$H/accept/c04_driver_environ.up.sql", "$H/accept/c04_driver_environ.down.sql"],
                   user => 'nobody', env => { DRYDOCK_TEST_CANARY => $CANARY });
    # same uid, but the postmaster sits in a user namespace of its own
    # (the private network namespace's carrier): the kernel denies it the
    # driver's /proc/PID/environ
    unlike(all_output_text($r), qr/\Q$CANARY\E/, 'environ-nobody: the caller\'s secret is in no output');
    like($r->{err}, qr/environ.*(Permission denied|No such file)/, 'environ-nobody: the driver\'s environ is unreadable from the sandbox');
}

sub report_in {
    my $json = DD::slurp("$_[0]/report.json");
    return defined $json ? eval { JSON::PP->new->decode($json) } : undef;
}

# ---- huge inputs ----
sub max_rss_kb {
    my ($err) = @_;
    my ($kb) = $err =~ /Maximum resident set size \(kbytes\): (\d+)/;
    return $kb // -1;
}
SKIP: {
    skip 'no /usr/bin/time', 10 unless -x '/usr/bin/time';
    my $tmp = newtmp();
    # 100 MB file: refused before it is read
    my $big = "$tmp/big.sql";
    open(my $fh, '>', $big) or die;
    my $chunk = "CREATE TABLE app.t (id integer PRIMARY KEY);\n" x 1000;
    print $fh $chunk for 1 .. int(100 * 1024 * 1024 / length($chunk)) + 1;
    close $fh;
    my $r = run_cmd(['/usr/bin/time', '-v', DD::drydock(), 'run', '-q', @scaf, $big, F('simple/down.sql'), '--out', "$tmp/o1"],
                    env => { TMPDIR => "$tmp" });
    is($r->{rc}, 2, '100 MB: exit 2');
    like($r->{err}, qr/^drydock: \Q$big\E: file is \d+ bytes, over the .* limit; refused$/m, '100 MB: one clear line');
    my $rss = max_rss_kb($r->{err});
    ok($rss > 0 && $rss < 64 * 1024, "100 MB: driver max RSS $rss kB (< 64 MB: the file is not read)");
    note("RSS 100MB refusal: $rss kB");
    unlink $big;

    # 50,000 statements
    my $many = "$tmp/many.sql";
    open($fh, '>', $many) or die;
    print $fh "CREATE TABLE app.many (many_id integer PRIMARY KEY);\n";
    print $fh "SET lock_timeout = 0;\n" x 49_999;
    close $fh;
    $r = run_cmd(['/usr/bin/time', '-v', DD::drydock(), 'run', '-q', @scaf, $many, "$H/many_down.sql", '--out', "$tmp/o2"],
                 env => { TMPDIR => "$tmp" });
    is($r->{rc}, 0, '50,000 statements: exit 0') or diag(substr($r->{err}, 0, 2000));
    my $j = report_in("$tmp/o2");
    is($j && $j->{artifacts}{ddl}{statements}, 50_000, '50,000 statements: counted');
    is($j && $j->{rounds}[0]{apply}{tags}{SET}, 49_999, '50,000 statements: psql ran them all');
    $rss = max_rss_kb($r->{err});
    ok($rss > 0 && $rss < 256 * 1024, "50,000 statements: driver max RSS $rss kB (< 256 MB)");
    note("RSS 50k statements: $rss kB");

    # a 1 MB single statement
    my $one = "$tmp/one.sql";
    open($fh, '>', $one) or die;
    print $fh "CREATE TABLE app.one (one_id integer PRIMARY KEY, note text NOT NULL DEFAULT '" . ('x' x (1024 * 1024)) . "');\n";
    close $fh;
    $r = run_cmd(['/usr/bin/time', '-v', DD::drydock(), 'run', '-q', @scaf, $one, "$H/one_down.sql", '--out', "$tmp/o3"],
                 env => { TMPDIR => "$tmp" });
    is($r->{rc}, 0, "1 MB statement: exit 0") or diag(substr($r->{err}, 0, 2000));
    $rss = max_rss_kb($r->{err});
    ok($rss > 0 && $rss < 128 * 1024, "1 MB statement: driver max RSS $rss kB");
    note("RSS 1MB statement: $rss kB");
    my @left = glob("$tmp/drydock-??????");
    is(scalar(@left), 0, 'huge inputs: no run directory left');
}

# deep nesting: 2,000 nested comments (preflight counts, no recursion) and
# 5,000 nested parentheses; then 100,000 nested comments, which psql and the
# server lex in quadratic time (over a minute here): the phase timeout stops it
{
    my $tmp = newtmp();
    my $deep = "$tmp/deep.sql";
    open(my $fh, '>', $deep) or die;
    print $fh "/*" x 2000, " deep ", "*/" x 2000, "\n";
    print $fh "CREATE TABLE app.deep (deep_id integer PRIMARY KEY, x integer NOT NULL DEFAULT ", "(" x 5000, "1", ")" x 5000, ");\n";
    close $fh;
    open($fh, '>', "$tmp/deep_down.sql") or die; print $fh "DROP TABLE app.deep;\n"; close $fh;
    my $r = dd_run('deep', [@scaf, $deep, "$tmp/deep_down.sql"]);
    is($r->{rc}, 0, "deep: applied and passes (exit 0)") or diag($r->{err});
    is_deeply($r->{report}{rounds}[0]{apply}{tags}, { 'CREATE TABLE' => 1 }, 'deep: applied');

    my $deeper = "$tmp/deeper.sql";
    open($fh, '>', $deeper) or die;
    print $fh "/*" x 100_000, " deep ", "*/" x 100_000, "\nCREATE TABLE app.deeper (deeper_id integer PRIMARY KEY);\n";
    close $fh;
    my $t0 = time;
    $r = dd_run('deeper', ['--timeout', '3', @scaf, $deeper, F('simple/down.sql')]);
    is($r->{rc}, 3, 'deeper: exit 3 (phase timeout)');
    like($r->{err}, qr/^drydock: \Q$deeper\E:(\d+:)? did not finish within 3 s/m, 'deeper: one line: did not finish within 3 s');
    ok(time - $t0 < 30, 'deeper: stopped promptly');
    ok($r->{report}{teardown}{clean}, 'deeper: teardown clean');
}

# invalid UTF-8 in the middle; CRLF and a BOM
{
    my $tmp = newtmp();
    my $bad = "$tmp/bad_utf8.sql";
    open(my $fh, '>:raw', $bad) or die;
    print $fh "CREATE TABLE app.a (id integer PRIMARY KEY);\nCREATE TABLE app.b (id integer PRIMARY KEY);\nCOMMENT ON TABLE app.a IS 'caf\xc3\x28';\nCREATE TABLE app.c (id integer PRIMARY KEY);\n";
    close $fh;
    my $r = dd_run('bad-utf8', [@scaf, $bad, F('simple/down.sql')]);
    is($r->{rc}, 2, 'bad-utf8: exit 2');
    check_error_line($r, $bad, 3, qr/UTF-8/, 'bad-utf8');

    my $crlf = "$tmp/bom_crlf.sql";
    open($fh, '>:raw', $crlf) or die;
    print $fh "\xef\xbb\xbfCREATE TABLE app.notes (\r\n    note_id integer PRIMARY KEY,\r\n    body text NOT NULL\r\n);\r\n";
    close $fh;
    $r = dd_run('bom-crlf', [@scaf, $crlf, F('simple/down.sql')]);
    is($r->{rc}, 0, 'bom-crlf: exit 0') or diag($r->{err});
    ok($r->{report}{artifacts}{ddl}{has_bom} && $r->{report}{artifacts}{ddl}{has_crlf}, 'bom-crlf: BOM and CRLF recorded');
    is_deeply($r->{report}{rounds}[0]{apply}{tags}, { 'CREATE TABLE' => 1 }, 'bom-crlf: applied');
}

# ---- policy files ----
for my $case (['invalid-json', '{"schema": "app", ', qr/invalid policy JSON/, undef],
              ['not-object', '[1, 2]', qr/must be a JSON object/, undef],
              ['wrong-type-schema', '{"schema": 5}', qr/"schema"/, 'schema'],
              ['wrong-type-types', '{"allowed_types": "text"}', qr/allowed_types/, 'allowed_types'],
              ['unknown-key', '{"alowed_types": ["text"]}', qr/alowed_types/, 'alowed_types', '22023'],
              ['bad-regex', '{"name_pattern": "(("}', qr/name_pattern/, 'name_pattern', '2201B']) {
    my ($name, $json, $re, $key, $sqlstate) = @$case;
    my $tmp = newtmp();
    open(my $fh, '>', "$tmp/policy.json") or die; print $fh $json; close $fh;
    my $r = dd_run("policy $name", [@scaf, '--policy', "$tmp/policy.json", F('simple/up.sql'), F('simple/down.sql')]);
    is($r->{rc}, 2, "policy $name: exit 2") or diag($r->{err});
    like((split /\n/, $r->{err})[0] // '', $re, "policy $name: the first error line names " . ($key // 'the problem'));
    # the extension's refusals are told apart by SQLSTATE, not by the wording of the message
    is($r->{report}{error}{sqlstate}, $sqlstate, "policy $name: report.error.sqlstate $sqlstate") if $sqlstate;
}

ok(!-e $MARKER, 'no payload ran in any case');
done_testing();

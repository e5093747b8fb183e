#!/usr/bin/perl
# drydock run, bad and dangerous input: refusals before any cluster starts
# (and proof nothing ran), empty/binary/missing files, a PASSWORD literal
# absent from every output.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use DD;
use DDRun;
use File::Temp ();
use Test::More;

my @scaf = ('--schema', 'app', '--scaffold-schema');

# refused before any cluster starts: \!, \connect, COPY ... TO PROGRAM
for my $case (['refused_shell', 4, qr/psql meta-command \\! runs a shell command; refused/],
              ['refused_connect', 4, qr/psql meta-command \\connect opens a connection/],
              ['refused_copy_program', 4, qr/COPY \.\.\. TO PROGRAM runs a program on the server; refused/]) {
    my ($c, $line, $re) = @$case;
    my $cwd = File::Temp->newdir();
    chmod 0777, "$cwd";
    my $r = dd_run($c, [@scaf, F("$c/up.sql"), F('simple/down.sql')], cwd => "$cwd");
    is($r->{rc}, 2, "$c: exit 2");
    check_error_line($r, F("$c/up.sql"), $line, $re, $c);
    my $j = $r->{report};
    is($j->{status}, 'refused', "$c: status refused");
    is_deeply([map { $_->{kind} } @{ $j->{commands} }], [], "$c: no command ran (not even the preflight's own entry: it stopped at the refusal)");
    ok(!exists $j->{environment}{port} && !exists $j->{isolation}, "$c: no cluster was started");
    is_deeply($j->{rounds}, [], "$c: no round");
    ok(!-e "$cwd/DRYDOCK_PWNED_MARKER" && !-e "/tmp/DRYDOCK_PWNED_MARKER", "$c: the payload did not run");
}

# empty, binary, missing files
{
    my $empty = F('bad_files/empty.sql');
    my $r = dd_run('empty', [@scaf, $empty, F('simple/down.sql')]);
    is($r->{rc}, 2, 'empty: exit 2');
    like($r->{err}, qr/^drydock: \Q$empty\E: file is empty$/m, 'empty: one-line error naming the file');
    is($r->{report}{status}, 'refused', 'empty: a report says refused');

    $r = dd_run('binary', [@scaf, F('simple/up.sql'), F('bad_files/binary.sql')]);
    is($r->{rc}, 2, 'binary: exit 2');
    check_error_line($r, F('bad_files/binary.sql'), 2, qr/NUL byte/, 'binary');

    my $missing = F('bad_files/no-such-file.sql');
    $r = dd_run('missing', [@scaf, $missing, F('simple/down.sql')]);
    is($r->{rc}, 2, 'missing: exit 2');
    like($r->{err}, qr/^drydock: \Q$missing\E: no such file$/m, 'missing: one-line error naming the file');
}

# a PASSWORD literal: the run goes on, the secret appears in no output
{
    my $secret = 'Tr0ub4dor-drydock-SECRET';
    my $r = dd_run('password', [@scaf, '--apply-as-superuser', F('password/up.sql'), F('password/down.sql')]);
    is($r->{rc}, 1, 'password: exit 1 (a secret is flagged, not refused; the run went on)') or diag($r->{err});
    is_deeply(codes_failing($r), { AO003 => 1 }, 'password: the only finding is AO003 (a role is created outside the schema)');
    ok(grep({ $_->{code} eq 'password-literal' && $_->{line} == 4 } @{ $r->{report}{artifacts}{ddl}{findings} }), 'password: password-literal finding at up.sql:4');
    like($r->{report}{gating}{secrets_recorded}, qr/^none \(\d+ redacted\)$/, 'password: gating says none recorded, some redacted');
    my $all = all_output_text($r);
    ok(length($all) > 1000, 'password: the outputs were read');
    unlike($all, qr/\Q$secret\E/, 'password: the secret is in no output file, nor stdout/stderr');

    # an error whose context quotes the statement, password and all
    $r = dd_run('password-error', [@scaf, F('password_error/up.sql'), F('password_error/down.sql')]);
    is($r->{rc}, 3, 'password-error: exit 3');
    check_error_line($r, F('password_error/up.sql'), 2, qr/unrecognized role option/, 'password-error');
    unlike(all_output_text($r), qr/\Q$secret\E/, 'password-error: the secret is in no output');
}

# an initdb that fails is reported as failed in the command list (it once
# said "ok" because only its duration was looked at)
{
    my $tmp = File::Temp->newdir(DIR => '/tmp', TEMPLATE => 'ddiXXXXXX');
    chmod 0755, "$tmp";
    my $real = `pg_config --bindir`;
    $real = $ENV{PG_CONFIG} ? `$ENV{PG_CONFIG} --bindir` : $real;
    chomp $real;
    my $ver = $ENV{PG_CONFIG} ? `$ENV{PG_CONFIG} --version` : `pg_config --version`;
    chomp $ver;
    mkdir "$tmp/bin";
    open(my $fh, '>', "$tmp/bin/pg_config") or die;
    print $fh "#!/bin/sh\necho $tmp/bin\necho '$ver'\n";
    close $fh;
    open($fh, '>', "$tmp/bin/initdb") or die;
    print $fh "#!/bin/sh\necho 'initdb: error: simulated failure' >&2\nexit 1\n";
    close $fh;
    chmod 0755, "$tmp/bin/pg_config", "$tmp/bin/initdb";
    symlink("$real/$_", "$tmp/bin/$_") for qw(postgres psql);
    my $r = dd_run('initdb-fails', [@scaf, '--fresh', '--pg-config', "$tmp/bin/pg_config", F('simple/up.sql'), F('simple/down.sql')]);
    is($r->{rc}, 4, 'initdb-fails: exit 4 (the sandbox failed)') or diag($r->{err});
    my ($c) = grep { $_->{kind} eq 'initdb' } @{ $r->{report}{commands} || [] };
    ok($c, 'initdb-fails: initdb is in the command list');
    like($c && $c->{result} // '', qr/^failed \(exit 1\)/, 'initdb-fails: its result says it failed');
    like($r->{err}, qr/initdb failed \(exit 1\): initdb: error: simulated failure/, 'initdb-fails: the message says why');
}

# usage errors never start anything
{
    my $r = DD::run_cmd([DD::drydock(), 'run', F('simple/up.sql')]);
    is($r->{rc}, 2, 'one file: exit 2');
    like($r->{err}, qr/^drydock: run needs exactly two files/, 'one file: one-line usage error');
    $r = DD::run_cmd([DD::drydock(), 'run', '--rounds', '0', F('simple/up.sql'), F('simple/down.sql')]);
    is($r->{rc}, 2, '--rounds 0: exit 2');
}

done_testing();

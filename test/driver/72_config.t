#!/usr/bin/perl
# drydock.json (issue 16): found in the current directory or the nearest
# parent up to the repository root (a directory with .git), or --config FILE;
# --no-config ignores it.  Keys are long option names; the policy is a path or
# an inline object; the command line wins; an unknown key is an error naming
# it and its line; the report records the file and its sha256.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use DD;
use DDRun;
use Digest::SHA ();
use File::Path ();
use File::Temp ();
use Test::More;

my $FX = DD::fixture('formats');

sub put {
    my ($path, $text) = @_;
    open(my $fh, '>', $path) or die "$path: $!";
    print $fh $text;
    close $fh;
}

# a repository: .git at the top, the config there, migrations two levels down
my $repo = File::Temp->newdir(DIR => '/tmp', TEMPLATE => 'ddcXXXXXX');
chmod 0755, "$repo";
File::Path::make_path("$repo/.git", "$repo/db/migrations", "$repo/db/other");
system('cp', "$FX/warn_up.sql", "$FX/warn_down.sql", "$repo/db/migrations/") == 0 or die;
put("$repo/policy.json", qq({"rules": {"KC004": "error"}}\n));
put("$repo/drydock.json", <<'EOF2');
{
  "schema": "app",
  "scaffold_schema": true,
  "policy": "policy.json",
  "format": ["junit", "sarif"],
  "fail_on": "error"
}
EOF2
my $sha = Digest::SHA->new(256)->addfile("$repo/drydock.json")->hexdigest;

# found two levels up; the path in it is relative to the file; its options apply
{
    my $r = dd_run('found-up', ['warn_up.sql', 'warn_down.sql'], cwd => "$repo/db/migrations");
    is($r->{rc}, 1, 'found-up: exit 1 (the policy file named in drydock.json raised KC004 to error)') or diag($r->{err});
    is($r->{report}{config}{path}, '../../drydock.json', 'found-up: the report records the file used');
    is($r->{report}{config}{sha256}, $sha, 'found-up: ... and its sha256');
    is($r->{report}{options}{policy}, '../../policy.json', 'found-up: the policy path is relative to drydock.json');
    is_deeply($r->{report}{options}{format}, ['sarif', 'junit'], 'found-up: format from the file');
    like($r->{out}, qr/\A<\?xml /, 'found-up: the first format of the file is on stdout');
    ok(-f "$r->{dir}/drydock.sarif", 'found-up: ... and each is written');
}

# the command line wins, key by key
{
    my $r = dd_run('cli-wins', ['--format', 'tap', '--policy', "$FX/../../../examples/12-tables/policy.json",
                                'warn_up.sql', 'warn_down.sql'], cwd => "$repo/db/migrations");
    is_deeply($r->{report}{options}{format}, ['tap'], 'cli-wins: --format replaces the file\'s list');
    like($r->{out}, qr/\ATAP version 13/, 'cli-wins: stdout is TAP');
    like($r->{report}{options}{policy}, qr{examples/12-tables/policy\.json$}, 'cli-wins: --policy replaces the file\'s');
    ok($r->{report}{options}{scaffold_schema}, 'cli-wins: the keys not given on the command line still apply');
}

# --no-config: the file is not read
{
    my $r = dd_run('no-config', ['--no-config', '--schema', 'app', '--scaffold-schema', 'warn_up.sql', 'warn_down.sql'],
                   cwd => "$repo/db/migrations");
    is($r->{rc}, 0, 'no-config: exit 0 (KC004 is a warning by default)') or diag($r->{err});
    ok(!exists $r->{report}{config}, 'no-config: no config recorded');
}

# the search stops at the repository root: a drydock.json above it is not used
{
    my $outer = File::Temp->newdir(DIR => '/tmp', TEMPLATE => 'ddoXXXXXX');
    chmod 0755, "$outer";
    File::Path::make_path("$outer/proj/.git", "$outer/proj/db");
    put("$outer/drydock.json", qq({"schema": "not_this_one"}\n));
    system('cp', "$FX/warn_up.sql", "$FX/warn_down.sql", "$outer/proj/db/") == 0 or die;
    my $r = dd_run('stop-at-root', ['--schema', 'app', '--scaffold-schema', 'warn_up.sql', 'warn_down.sql'], cwd => "$outer/proj/db");
    is($r->{rc}, 0, 'stop-at-root: exit 0') or diag($r->{err});
    ok(!exists $r->{report}{config}, 'stop-at-root: the file above the repository root is not read');
}

# --config FILE, with an inline policy object
{
    put("$repo/db/other/ci.json", qq({"schema": "app", "scaffold_schema": true, "policy": {"rules": {"KC004": "off"}}}\n));
    my $r = dd_run('inline', ['--config', "$repo/db/other/ci.json", 'warn_up.sql', 'warn_down.sql'], cwd => "$repo/db/migrations");
    is($r->{rc}, 0, 'inline: exit 0') or diag($r->{err});
    ok($r->{report}{config}{inline_policy}, 'inline: the inline policy is recorded as such');
    my ($kc4) = rows_with($r, 'verification', 'KC004');
    is($kc4 && $kc4->{status}, 'skipped', 'inline: the inline policy applies (KC004 off)');
}

# an unknown key: exit 2, FILE:LINE naming the key, nothing run or written
{
    my $dir = File::Temp->newdir();
    put("$dir/drydock.json", qq({\n  "schema": "app",\n  "policy_file": "x.json"\n}\n));
    my $r = DD::run_cmd(['sh', '-c', "cd '$dir' && exec '${\ DD::drydock()}' run up.sql down.sql"]);
    is($r->{rc}, 2, 'unknown key: exit 2');
    is($r->{err}, qq(drydock: drydock.json:3: unknown key "policy_file"\n), 'unknown key: one line, file, line and key');
    opendir(my $dh, "$dir") or die;
    is_deeply([sort grep { !/^\./ } readdir $dh], ['drydock.json'], 'unknown key: nothing written');
    # a key of the other command is accepted (one file serves run and replay)
    put("$dir/drydock.json", qq({"layout": "golang-migrate", "from": "3", "rounds": 2}\n));
    $r = DD::run_cmd(['sh', '-c', "cd '$dir' && exec '${\ DD::drydock()}' run --help"]);
    is($r->{rc}, 0, 'replay keys in the file: drydock run accepts them');
    # a syntax error names its line
    put("$dir/drydock.json", qq({\n  "schema": "app",\n  "out": \n}\n));
    $r = DD::run_cmd(['sh', '-c', "cd '$dir' && exec '${\ DD::drydock()}' run up.sql down.sql"]);
    is($r->{rc}, 2, 'bad JSON: exit 2');
    like($r->{err}, qr/^drydock: drydock\.json:4: invalid JSON: /, 'bad JSON: FILE:LINE');
    # a wrongly typed value
    put("$dir/drydock.json", qq({"scaffold_schema": "yes"}\n));
    $r = DD::run_cmd(['sh', '-c', "cd '$dir' && exec '${\ DD::drydock()}' run up.sql down.sql"]);
    like($r->{err}, qr/^drydock: drydock\.json:1: key "scaffold_schema" must be true or false$/, 'bad type: FILE:LINE and the key');
}

done_testing();

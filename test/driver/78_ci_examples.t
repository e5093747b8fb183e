#!/usr/bin/perl
# examples/ci (issue 16): the GitHub Actions workflow and the GitLab CI job
# are read as YAML, the drydock command line each contains is checked against
# drydock replay --help and then run as is (CI variables set) in a fixture
# repository whose last commit adds an unsafe migration: each format the job
# uploads must put the finding on that file and line.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use DD;
use Cwd ();
use File::Path ();
use File::Temp ();
use JSON::PP ();
use JSON::Validator;
use Test::More;

plan skip_all => 'git is not installed' unless system('command -v git >/dev/null 2>&1') == 0;
eval { require YAML::XS; 1 } or plan skip_all => 'YAML::XS (libyaml-libyaml-perl) is not installed';

my $ROOT = Cwd::abs_path("$FindBin::Bin/../..");
my $json = JSON::PP->new;
my $help = DD::run_cmd([DD::drydock(), 'replay', '--help'])->{out};
my $sarif_schema = JSON::Validator->new;
$sarif_schema->schema("$ROOT/test/schemas/sarif-schema-2.1.0.json");
my $NEW = 'db/migrations/3_events.up.sql';

# the fixture repository: main has migrations 1 and 2; the pull request adds 3
sub fixture_repo {
    my $repo = File::Temp->newdir(DIR => '/tmp', TEMPLATE => 'ddgXXXXXX');
    chmod 0755, "$repo";
    File::Path::make_path("$repo/db/migrations");
    my $git = sub { my $r = DD::run_cmd(['git', '-C', "$repo", '-c', 'user.name=t', '-c', 'user.email=t@t', @_]); die "git @_: $r->{err}" if $r->{rc}; };
    my $src = DD::fixture('replay/golang-migrate');
    system('cp', map({ "$src/$_" } qw(1_create_schema.up.sql 1_create_schema.down.sql 2_customers.up.sql 2_customers.down.sql)),
           "$repo/db/migrations/") == 0 or die;
    $git->('init', '-q', '-b', 'main');
    $git->('add', '.');
    $git->('commit', '-q', '-m', 'base');
    $git->('update-ref', 'refs/remotes/origin/main', 'main');   # what the CI checkout has
    $git->('checkout', '-q', '-b', 'feature');
    system('cp', DD::fixture('ci/3_events.up.sql'), DD::fixture('ci/3_events.down.sql'), "$repo/db/migrations/") == 0 or die;
    $git->('add', '.');
    $git->('commit', '-q', '-m', 'add events');
    return $repo;
}

# run a command line of a CI file as the CI's shell would, our drydock first on PATH
sub run_ci_line {
    my ($repo, $line, %env) = @_;
    return DD::run_cmd(['sh', '-c', "cd '$repo' && $line"],
                       env => { PATH => "$ROOT/driver:$ENV{PATH}", TMPDIR => "$repo", GITHUB_STEP_SUMMARY => undef, %env });
}

sub options_exist {
    my ($name, $line) = @_;
    my @opts = $line =~ /(?:^|\s)(--[a-z][a-z-]*)/g;
    ok(@opts >= 3, "$name: the command line has options (@opts)");
    is_deeply([grep { $help !~ /\Q$_\E\b/ } @opts], [], "$name: every option is one drydock replay --help lists");
}

sub check_sarif {
    my ($name, $path) = @_;
    my $s = $json->decode(DD::slurp($path) // 'null');
    local $SIG{__WARN__} = sub { warn @_ unless $_[0] =~ /Format rule for .* is missing/ };
    is(scalar($sarif_schema->validate($s)), 0, "$name: the SARIF it uploads is valid");
    my ($r) = grep { $_->{ruleId} eq 'NH004' && $_->{locations}[0]{physicalLocation}{artifactLocation}{uri} eq $NEW } @{ $s->{runs}[0]{results} };
    is($r && $r->{locations}[0]{physicalLocation}{region}{startLine}, 4, "$name: SARIF has NH004 at $NEW line 4");
}

# ---------- GitHub Actions
{
    my $wf = YAML::XS::LoadFile("$ROOT/examples/ci/github-actions.yml");
    ok($wf->{on}{pull_request}, 'github: runs on pull requests');
    my @steps = @{ $wf->{jobs}{drydock}{steps} };
    my ($step) = grep { ($_->{run} // '') =~ /^drydock / } @steps;
    ok($step, 'github: a step runs drydock') or last;
    my $line = $step->{run};
    chomp $line;
    options_exist('github', $line);
    # Actions substitutes ${{ ... }} before the shell sees the line
    (my $sh = $line) =~ s/\$\{\{\s*github\.base_ref\s*\}\}/main/g;
    my $repo = fixture_repo();
    my $r = run_ci_line($repo, $sh);
    is($r->{rc}, 1, 'github: exit 1 on the unsafe migration') or diag($r->{err});
    like($r->{out}, qr/^::error file=\Q$NEW\E,line=4,title=NH004::/m, "github: an ::error annotation at $NEW line 4");
    like($r->{out}, qr/^::error file=\Q$NEW\E,line=3,title=KC001::/m, 'github: KC001 on the new file, at the CREATE TABLE (line 3)');
    unlike($r->{out}, qr/^::error file=db\/migrations\/[12]_/m, 'github: nothing on the migrations the pull request did not touch');
    my ($up) = grep { ($_->{uses} // '') =~ m{codeql-action/upload-sarif} } @steps;
    ok($up && $up->{if} eq 'always()', 'github: the SARIF is uploaded even when drydock fails the step');
    check_sarif('github', "$repo/$up->{with}{sarif_file}");
    my $report = $json->decode(DD::slurp("$repo/drydock-report/report.json"));
    is_deeply($report->{replay}{since}{checked}, ['3'], 'github: only the new migration is checked');
}

# ---------- GitLab CI
{
    my $doc = YAML::XS::LoadFile("$ROOT/examples/ci/gitlab-ci.yml");
    my $job = $doc->{drydock};
    ok($job, 'gitlab: a drydock job') or last;
    my ($line) = grep { /^drydock / } @{ $job->{script} };
    ok($line, 'gitlab: its script runs drydock') or last;
    options_exist('gitlab', $line);
    my $repo = fixture_repo();
    my $r = run_ci_line($repo, $line, CI_MERGE_REQUEST_TARGET_BRANCH_NAME => 'main');
    is($r->{rc}, 1, 'gitlab: exit 1 on the unsafe migration') or diag($r->{err});
    my $reports = $job->{artifacts}{reports};
    my $cq = $json->decode(DD::slurp("$repo/$reports->{codequality}") // 'null');
    ok((grep { $_->{check_name} eq 'NH004' && $_->{location}{path} eq $NEW && $_->{location}{lines}{begin} == 4 } @$cq),
       "gitlab: Code Quality has NH004 at $NEW line 4");
    my $junit = "$repo/$reports->{junit}";
    is(DD::run_cmd(['xmllint', '--noout', $junit])->{rc}, 0, 'gitlab: the JUnit report is well-formed XML');
    my $x = DD::run_cmd(['xmllint', '--xpath', "string(//testcase[\@file='$NEW' and \@line='4']/failure/\@type)", $junit])->{out};
    chomp $x;
    is($x, 'NH004', "gitlab: JUnit has the NH004 failure at $NEW line 4");
    ok((grep { $_ eq 'drydock-report/' } @{ $job->{artifacts}{paths} }) && $job->{artifacts}{when} eq 'always',
       'gitlab: the report directory is kept, also when the job fails');
    check_sarif('gitlab', "$repo/drydock-report/drydock.sarif");
}

done_testing();

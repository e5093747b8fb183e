#!/usr/bin/perl
# drydock replay --since GIT_REF (issue 16): only the migrations a change
# added or modified are checked; the earlier ones are applied unchecked to
# build the state; the report lists both.  git runs without a shell.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use DD;
use File::Path ();
use File::Temp ();
use JSON::PP ();
use Test::More;

plan skip_all => 'git is not installed' unless system('command -v git >/dev/null 2>&1') == 0;

my $src = DD::fixture('replay/golang-migrate');
my $repo = File::Temp->newdir(DIR => '/tmp', TEMPLATE => 'ddsXXXXXX');
chmod 0755, "$repo";
my $mig = "$repo/db/migrations";
File::Path::make_path($mig);

sub git { my $r = DD::run_cmd(['git', '-C', "$repo", '-c', 'user.name=t', '-c', 'user.email=t@t', @_]); die "git @_: $r->{err}" if $r->{rc}; return $r->{out}; }
sub cp { system('cp', @_) == 0 or die "cp @_" }

# the base branch: migrations 1..5
cp("$src/$_", "$mig/") for map { ("${_}.up.sql", "${_}.down.sql") } qw(1_create_schema 2_customers 3_orders 4_customers_phone 5_order_channel);
git('init', '-q');
git('add', '.');
git('commit', '-q', '-m', 'base');
# the pull request: 3 changed (committed), 6 added (not committed yet)
open(my $fh, '>>', "$mig/3_orders.up.sql") or die; print $fh "-- reviewed\n"; close $fh;
git('commit', '-q', '-am', 'touch 3');
cp("$src/6_drop_order_note.up.sql", "$src/6_drop_order_note.down.sql", "$mig/");

sub replay {
    my ($name, @args) = @_;
    my $tmp = File::Temp->newdir(DIR => '/tmp', TEMPLATE => 'ddrXXXXXX');
    chmod 0755, "$tmp";
    my $r = DD::run_cmd([DD::drydock(), 'replay', '-q', '--no-config', @args, '--out', "$tmp/out"], env => { TMPDIR => "$tmp" });
    my $json = DD::slurp("$tmp/out/report.json");
    $r->{report} = defined $json ? eval { JSON::PP->new->decode($json) } : undef;
    $r->{tmp} = $tmp;
    is(scalar(DD::postgres_pids_in("$tmp")), 0, "$name: no process left");
    return $r;
}

{
    my $r = replay('since', $mig, '--schema', 'app', '--keep-going', '--since', 'HEAD~1');
    ok($r->{rc} == 0 || $r->{rc} == 1, 'since: the replay ran (exit 0 or 1)') or diag($r->{err});
    my $s = $r->{report}{replay}{since};
    is($s->{ref}, 'HEAD~1', 'since: the ref is recorded');
    is_deeply([sort @{ $s->{changed_files} }], [sort qw(3_orders.up.sql 6_drop_order_note.up.sql 6_drop_order_note.down.sql)],
              'since: the changed files: one committed since REF, two not committed yet');
    is_deeply($s->{checked}, ['3', '6'], 'since: only 3 and 6 are checked');
    is_deeply($s->{applied_only}, ['1', '2', '4', '5'], 'since: 1, 2, 4 and 5 are applied unchecked');
    is_deeply([map { $_->{version} } @{ $r->{report}{rounds} }], ['3', '6'], 'since: one round per checked pair');
    my ($m4) = grep { $_->{version} eq '4' } @{ $r->{report}{replay}{history} };
    like($m4->{why_not}, qr/unchanged since --since: applied unchecked/, 'since: why 4 was not checked');
    is($r->{report}{rounds}[1]{verdict}, 'not_inverse', 'since: 6 ran on the state 1..5 built (its known verdict)');
}

# nothing changed after 5: the later migrations are not applied at all
{
    git('add', '.');
    git('commit', '-q', '-m', 'add 6');
    my $r = replay('since-head', $mig, '--schema', 'app', '--since', 'HEAD~1');
    is_deeply($r->{report}{replay}{since}{checked}, ['6'], 'since HEAD~1 after the commit: only 6');
    $r = replay('since-nothing', $mig, '--schema', 'app', '--since', 'HEAD');
    is($r->{rc}, 0, 'since HEAD: nothing changed, exit 0') or diag($r->{err});
    is_deeply($r->{report}{replay}{since}{checked}, [], 'since HEAD: nothing checked');
    ok((grep { ($_->{why_not} // '') =~ /after the last changed migration: not applied/ } @{ $r->{report}{replay}{history} }) == 6,
       'since HEAD: nothing applied either');
}

# a bad ref: one-line error, exit 2; a ref is never given to a shell
{
    my $r = replay('bad-ref', $mig, '--schema', 'app', '--since', 'no-such-branch');
    is($r->{rc}, 2, 'bad ref: exit 2');
    like($r->{err}, qr/^drydock: \Q$mig\E: git diff failed \(exit \d+\): .*no-such-branch/, 'bad ref: git\'s reason, one line');
    $r = replay('shell-ref', $mig, '--schema', 'app', '--since', "HEAD;touch $repo/PWNED");
    is($r->{rc}, 2, 'shell metacharacters: exit 2 (an unknown revision)');
    ok(!-e "$repo/PWNED", 'shell metacharacters: nothing ran');
    $r = replay('option-ref', $mig, '--schema', 'app', '--since', '--output=/tmp/x');
    is($r->{rc}, 2, 'a ref that looks like an option: exit 2');
    like($r->{err}, qr/not starting with '-'/, 'a ref that looks like an option: refused before git');
}

done_testing();

#!/usr/bin/perl
# The terminal (issue 16): on a tty one status line rewritten in place
# ("[k/N] version title ...") and colour for the verdicts (not under
# NO_COLOR); without a tty one plain line per finished pair; a run that never
# started (usage error, bad input) leaves no ./drydock-report-<time>/ behind,
# a run that started does.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use DD;
use File::Temp ();
use Test::More;

my $FX = DD::fixture('formats');
my $hist = DD::fixture('replay/golang-migrate');
my $dd = DD::drydock();

sub in_dir {
    my ($dir, @cmd) = @_;
    my $q = join ' ', map { my $s = $_; $s =~ s/'/'\\''/g; "'$s'" } @cmd;
    return DD::run_cmd(['sh', '-c', "cd '$dir' && exec $q"], env => { TMPDIR => "$dir" });
}

sub reports_in { my ($d) = @_; return sort(glob("$d/drydock-report-*"), glob("$d/drydock-replay-*")); }

# ---------- no report directory for a run that never started
{
    my $cwd = File::Temp->newdir(DIR => '/tmp', TEMPLATE => 'ddtXXXXXX');
    chmod 0755, "$cwd";
    system('cp', "$FX/warn_up.sql", "$FX/warn_down.sql", "$cwd/") == 0 or die;
    for my $case (['no schema', [$dd, 'run', '--no-config', 'warn_up.sql', 'warn_down.sql']],
                  ['missing file', [$dd, 'run', '--no-config', '--schema', 'app', 'nope.sql', 'warn_down.sql']],
                  ['bad option', [$dd, 'run', '--no-config', '--rounds', '0', 'warn_up.sql', 'warn_down.sql']],
                  ['replay, no schema', [$dd, 'replay', '--no-config', $hist]]) {
        my ($name, $cmd) = @$case;
        my $r = in_dir("$cwd", @$cmd);
        is($r->{rc}, 2, "$name: exit 2");
        is_deeply([reports_in("$cwd")], [], "$name: no report directory left behind");
    }
    # a run that starts gets its default directory
    my $r = in_dir("$cwd", $dd, 'run', '-q', '--no-config', '--schema', 'app', '--scaffold-schema', 'warn_up.sql', 'warn_down.sql');
    is($r->{rc}, 0, 'started: exit 0') or diag($r->{err});
    my @d = reports_in("$cwd");
    is(scalar(@d), 1, 'started: the default report directory exists');
    ok(@d && -f "$d[0]/report.json", 'started: ... with the report');
    like($r->{out}, qr/report in drydock-report-\d{8}T\d{6}Z$/m, 'started: the summary names it');
    # with --out, a refused run still writes its report (as before)
    $r = in_dir("$cwd", $dd, 'run', '--no-config', '--out', 'refused', '--schema', 'app', 'nope.sql', 'warn_down.sql');
    ok(-f "$cwd/refused/report.json", 'refused with --out: the report is written');
}

# ---------- replay without a tty: one line per finished pair, no escapes
{
    my $tmp = File::Temp->newdir(DIR => '/tmp', TEMPLATE => 'ddtXXXXXX');
    chmod 0755, "$tmp";
    my $r = DD::run_cmd([$dd, 'replay', '--no-config', $hist, '--schema', 'app', '--to', '3', '--out', "$tmp/out"],
                        env => { TMPDIR => "$tmp" });
    is($r->{rc}, 0, 'no tty: exit 0') or diag($r->{err});
    my @pairs = $r->{err} =~ /^drydock: \[(\d)\/3\] \S+ \S+: exact \(\d+\.\d s\)$/mg;
    is_deeply(\@pairs, [1, 2, 3], 'no tty: one line per finished pair, [k/N] version title: verdict (time)');
    unlike($r->{err} . $r->{out}, qr/\e/, 'no tty: no escape sequence');
    $r = DD::run_cmd([$dd, 'replay', '-q', '--no-config', $hist, '--schema', 'app', '--to', '1', '--out', "$tmp/out"],
                     env => { TMPDIR => "$tmp" });
    is($r->{err}, '', '--quiet: nothing on stderr');
}

# ---------- replay on a tty (script(1) gives it a pty): a status line, colour, NO_COLOR
SKIP: {
    skip 'script(1) is not installed', 6 unless -x '/usr/bin/script';
    my $tmp = File::Temp->newdir(DIR => '/tmp', TEMPLATE => 'ddtXXXXXX');
    chmod 0755, "$tmp";
    my $cmd = "'$dd' replay --no-config '$hist' --schema app --to 2 --out '$tmp/out'";
    my $r = DD::run_cmd(['script', '-qec', $cmd, '/dev/null'], env => { TMPDIR => "$tmp", NO_COLOR => undef, TERM => 'xterm' });
    like($r->{out}, qr/\r\e\[K\[1\/2\] 1 create_schema \x{e2}\x{80}\x{a6} /, 'tty: the status line is rewritten in place, [k/N] version title');
    like($r->{out}, qr/\[2\/2\] 2 customers \x{e2}\x{80}\x{a6} [^\r]*\d+\.\d s/, 'tty: ... with the elapsed time');
    like($r->{out}, qr/drydock: \[1\/2\] 1 create_schema: \e\[32mexact\e\[0m/, 'tty: a finished pair, its verdict in green');
    like($r->{out}, qr/drydock: \e\[32mpass\e\[0m \(exit 0\)/, 'tty: the outcome in colour');
    $r = DD::run_cmd(['script', '-qec', $cmd, '/dev/null'], env => { TMPDIR => "$tmp", NO_COLOR => '1', TERM => 'xterm' });
    unlike($r->{out}, qr/\e\[\d+m/, 'NO_COLOR: no colour');
    like($r->{out}, qr/\r\e\[K\[1\/2\] /, 'NO_COLOR: the status line all the same');
}

done_testing();

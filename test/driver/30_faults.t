#!/usr/bin/perl
# Faults (issue 8): signals in every phase of `drydock run`, a postmaster
# killed during apply, a killed driver, a full filesystem, a TMPDIR too long
# for a socket, a TCP listener on the chosen port, stale lock files, a
# missing cluster user, 8 concurrent runs.  After each: no run directory and
# no process of that run remains.
use strict;
use File::Path ();
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use DD;
use DDRun;
use File::Temp ();
use IO::Socket::IP;
use JSON::PP ();
use POSIX ();
use Test::More;

my $dd = drydock();
my $H = DD::fixture('hostile');
my @scaf = ('--schema', 'app', '--scaffold-schema');
my $ipcs_before = ipcs_count();

sub newtmp {
    my $t = File::Temp->newdir(DIR => '/tmp', TEMPLATE => 'ddfXXXXXX');
    chmod 0755, "$t";
    return $t;
}

# Start `drydock run` in the background; stdout/stderr to files (or stdout
# to a pipe when opt stdout_pipe).  Returns { pid, tmp, out, errf, outf }.
sub start_run {
    my ($args, %opt) = @_;
    my $tmp = $opt{tmp} || newtmp();
    my $r = { tmp => $tmp, out => "$tmp/out", errf => "$tmp/stderr", outf => "$tmp/stdout" };
    my ($rd, $wr);
    if ($opt{stdout_pipe}) {
        pipe($rd, $wr) or die;
        fcntl($wr, 1031, 4096);    # F_SETPIPE_SZ: the smallest pipe there is
        $r->{pipe} = $rd;
    }
    my $pid = fork() // die;
    if ($pid == 0) {
        $ENV{TMPDIR} = "$tmp";
        $ENV{$_} = $opt{env}{$_} for keys %{ $opt{env} || {} };
        open(STDIN, '<', '/dev/null');
        if ($wr) { close $rd; open(STDOUT, '>&', $wr) or die; }
        else { open(STDOUT, '>', $r->{outf}) or die; }
        open(STDERR, '>', $r->{errf}) or die;
        exec($dd, 'run', '-q', @$args, '--out', $r->{out}) or POSIX::_exit(127);
    }
    close $wr if $wr;
    $r->{pid} = $pid;
    return $r;
}

sub finish_run {
    my ($r, $timeout) = @_;
    $timeout //= 60;
    my $done = wait_until(sub { waitpid($r->{pid}, POSIX::WNOHANG()) == $r->{pid} and $r->{status} = $?; defined $r->{status} }, $timeout);
    if (!$done) { kill 'KILL', $r->{pid}; waitpid($r->{pid}, 0); $r->{status} = $?; }
    my $st = $r->{status};
    $r->{rc} = ($st & 127) ? 128 + ($st & 127) : ($st >> 8);
    $r->{err} = DD::slurp($r->{errf}) // '';
    my $json = DD::slurp("$r->{out}/report.json");
    $r->{report} = defined $json ? eval { JSON::PP->new->decode($json) } : undef;
    return $r;
}

sub no_leftovers {
    my ($r, $name) = @_;
    my @left = glob("$r->{tmp}/drydock-??????");
    is(scalar(@left), 0, "$name: no run directory left") or diag("left: @left");
    ok(wait_until(sub { DD::postgres_pids_in("$r->{tmp}") == 0 }, 2), "$name: no process of the run left");
}

sub run_dir_of { my ($r) = @_; my ($d) = glob("$r->{tmp}/drydock-??????"); return $d; }

# children of pid whose command line contains $needle
sub child_with {
    my ($ppid, $needle) = @_;
    opendir(my $dh, '/proc') or return;
    for my $p (grep { /^\d+$/ } readdir $dh) {
        my $stat = DD::slurp("/proc/$p/stat") // next;
        my ($pp) = $stat =~ /\)\s+\S+\s+(\d+)/ or next;
        next unless $pp == $ppid;
        my $cmd = DD::slurp("/proc/$p/cmdline") // next;
        return $p if index($cmd, $needle) >= 0;
    }
    return;
}

sub sandbox_conninfo {
    my ($dir, $db) = @_;
    my ($sock) = glob("$dir/.s.PGSQL.*[0-9]") or return;
    my ($port) = $sock =~ /\.(\d+)$/;
    return "host=$dir port=$port user=drydock_admin dbname=$db";
}

# ---- signals in each phase ----
my %phase_setup = (
    'sandbox start' => sub {
        # --fresh: initdb, about a second; the signal lands while it runs
        my $r = start_run(['--fresh', @scaf, F('simple/up.sql'), F('simple/down.sql')]);
        return ($r, wait_until(sub { run_dir_of($r) }, 20));
    },
    'apply' => sub {
        my $r = start_run([@scaf, "$H/sleep_up.sql", F('simple/down.sql')]);
        return ($r, wait_until(sub { child_with($r->{pid}, '/artifacts/ddl-') }, 30) && do { select(undef, undef, undef, 0.3); 1 });
    },
    'verify' => sub {
        # hold a lock on the baseline the verification reads, from outside
        my $r = start_run([@scaf, "$H/short_sleep_up.sql", F('simple/down.sql')]);
        my $ok = wait_until(sub { child_with($r->{pid}, '/artifacts/ddl-') }, 30);
        my $ci = $ok && sandbox_conninfo(run_dir_of($r), 'drydock_dryrun');
        return ($r, 0) unless $ci;
        my $locker = fork() // die;
        if ($locker == 0) {
            open(STDOUT, '>', '/dev/null'); open(STDERR, '>', '/dev/null');
            exec('psql', '-X', '-q', '-c', 'BEGIN; LOCK TABLE drydock.baseline_object IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(60);', $ci) or POSIX::_exit(1);
        }
        $r->{locker} = $locker;
        $ok = wait_until(sub {
            my $q = `psql -X -At -c "select count(*) from pg_stat_activity where wait_event_type = 'Lock' and query like '%drydock.verify(%'" '$ci' 2>/dev/null`;
            ($q // '') =~ /^[1-9]/;
        }, 30);
        return ($r, $ok);
    },
    'rollback' => sub {
        my $r = start_run([@scaf, F('simple/up.sql'), "$H/sleep_down.sql"]);
        return ($r, wait_until(sub { child_with($r->{pid}, '/artifacts/rollback-') }, 30) && do { select(undef, undef, undef, 0.3); 1 });
    },
    'report' => sub {
        # after the teardown (the run directory is gone), while the report
        # is written: a tight poll, then the signal at once; the process
        # must still be running for the case to count
        my $r = start_run(['--rounds', '2', '--policy', "$DD::ROOT/examples/12-tables/policy.json", @scaf,
                           "$DD::ROOT/examples/12-tables/up.sql", "$DD::ROOT/examples/12-tables/down.sql"]);
        wait_until(sub { run_dir_of($r) }, 30) or return ($r, 0);
        my $t0 = time;
        while (run_dir_of($r) && time - $t0 < 60) { select(undef, undef, undef, 0.001); }
        return ($r, waitpid($r->{pid}, POSIX::WNOHANG()) == 0 ? 1 : 0);
    },
);

my %reached;
for my $phase ('sandbox start', 'apply', 'verify', 'rollback', 'report') {
    for my $sig (qw(INT TERM HUP)) {
        my $name = "SIG$sig during $phase";
        my ($r, $in_phase) = $phase_setup{$phase}->();
        if ($phase eq 'report' && !$in_phase) {
            finish_run($r, 30);
            note("$name: the run ended before the signal could be sent; case not counted");
            no_leftovers($r, $name);
            next;
        }
        ok($in_phase, "$name: the run reached the phase");
        kill $sig, $r->{pid};
        finish_run($r, 30);
        push @{ $reached{$phase} }, $sig;
        if ($r->{locker}) { kill 'TERM', $r->{locker}; waitpid($r->{locker}, 0); }
        close $r->{pipe} if $r->{pipe};
        my $signo = { INT => 2, TERM => 15, HUP => 1 }->{$sig};
        is($r->{rc}, 128 + $signo, "$name: exit 128+$signo") or diag($r->{err});
        ok($r->{report}, "$name: a report was written");
        if ($phase ne 'report') {
            is($r->{report} && $r->{report}{status}, 'interrupted', "$name: the report says interrupted");
            is($r->{report} && $r->{report}{exit_code}, 128 + $signo, "$name: report.exit_code is 128+$signo");
            like($r->{err}, qr/interrupt/i, "$name: stderr says interrupted");
        }
        ok(!$r->{report}{teardown} || $r->{report}{teardown}{clean}, "$name: teardown clean (or no cluster yet)");
        no_leftovers($r, $name);
    }
}

ok(@{ $reached{report} || [] } >= 1, 'the report phase was hit by at least one signal (' . join(',', @{ $reached{report} || [] }) . ')');

# ---- kill -9 of the postmaster during apply ----
{
    my $r = start_run([@scaf, "$H/sleep_up.sql", F('simple/down.sql')]);
    ok(wait_until(sub { child_with($r->{pid}, '/artifacts/ddl-') }, 30), 'postmaster kill: apply started');
    my $dir = run_dir_of($r);
    # the driver's postgres child: postmaster.pid says 1, its pid in its own
    # PID namespace (issue 20)
    my ($pm) = grep { $_ } map { (DD::slurp("/proc/$_/comm") // '') eq "postgres\n" ? $_ : undef }
        split ' ', (`pgrep -P $r->{pid}` // '');
    ok($pm && kill(0, $pm), 'postmaster kill: found the postmaster');
    kill 'KILL', $pm;
    finish_run($r, 30);
    is($r->{rc}, 4, 'postmaster kill: exit 4 (the sandbox failed)') or diag($r->{err});
    like($r->{err}, qr/(postmaster|sandbox|server) .*(died|exited|was killed|terminated)/i, 'postmaster kill: the error says the server died');
    ok($r->{report}, 'postmaster kill: a report was written');
    ok($r->{report}{teardown}{done}, 'postmaster kill: teardown done');
    no_leftovers($r, 'postmaster kill');
}

# ---- kill -9 of the driver ----
{
    my $r = start_run([@scaf, "$H/sleep_up.sql", F('simple/down.sql')]);
    ok(wait_until(sub { child_with($r->{pid}, '/artifacts/ddl-') }, 30), 'driver kill: apply started');
    my $dir = run_dir_of($r);
    kill 'KILL', $r->{pid};
    finish_run($r, 10);
    ok(wait_until(sub { DD::postgres_pids_in($dir) == 0 }, 2), 'driver kill: no postgres process after 2 s');
    ok(-d $dir, 'driver kill: the run directory is left for gc');
    my $g = run_cmd([$dd, 'gc'], env => { TMPDIR => "$r->{tmp}" });
    is($g->{rc}, 0, 'driver kill: gc exits 0') or diag($g->{err});
    like($g->{out}, qr/^removed \Q$dir\E$/m, 'driver kill: gc removed it');
    no_leftovers($r, 'driver kill');
}

# ---- the run directory's filesystem fills up during apply ----
SKIP: {
    skip 'not root: cannot mount a tmpfs', 6 if $> != 0;
    my $tmp = newtmp();
    my $mnt = "$tmp/small";
    mkdir $mnt;
    skip 'cannot mount a tmpfs here', 6 if system('mount', '-t', 'tmpfs', '-o', 'size=72m,mode=0755', 'tmpfs', $mnt) != 0;
    my $out = "$tmp/outdir"; mkdir $out;
    my $r = start_run([@scaf, "$H/fill_up.sql", "$H/fill_down.sql"], tmp => $tmp, env => { TMPDIR => $mnt });
    finish_run($r, 90);
    ok($r->{rc} == 3 || $r->{rc} == 4, "disk full: exit 3 or 4 (got $r->{rc})") or diag($r->{err});
    like((split /\n/, $r->{err})[0] // '', qr/^drydock: .*(space|disk|could not|failed)/i, 'disk full: one clear error line') or diag($r->{err});
    ok($r->{report} && $r->{report}{teardown}{clean}, 'disk full: report written, teardown clean');
    is(scalar(glob("$mnt/drydock-??????")), undef, 'disk full: nothing left on the full filesystem');
    ok(wait_until(sub { DD::postgres_pids_in($mnt) == 0 }, 2), 'disk full: no process left');
    is(system('umount', $mnt), 0, 'disk full: the tmpfs unmounts (nothing holds it)');
}

# ---- TMPDIR too long for a unix socket path ----
{
    my $tmp = newtmp();
    my $long = "$tmp/" . ('x' x 100);
    mkdir $long; chmod 0755, $long;
    my $r = start_run([@scaf, F('simple/up.sql'), F('simple/down.sql')], tmp => $tmp, env => { TMPDIR => $long });
    finish_run($r, 60);
    is($r->{rc}, 0, 'long TMPDIR: exit 0') or diag($r->{err});
    like($r->{report}{environment}{tmpdir_fallback} // '', qr/too long/, 'long TMPDIR: the report says it fell back');
    my @mine = grep { (DD::slurp("$_/drydock.pid") // '') =~ /^$r->{pid} / } glob('/tmp/drydock-??????');
    is(scalar(@mine), 0, 'long TMPDIR: no run directory of this run left in /tmp');
}

# ---- a TCP listener appears on the chosen port before the isolation proof ----
{
    my ($got, $rc, $tries) = (0, undef, 0);
    while (!$got && $tries++ < 5) {
        my $r = start_run([@scaf, "$H/short_sleep_up.sql", F('simple/down.sql')]);
        my $l;
        wait_until(sub {
            my $d = run_dir_of($r) or return 0;
            my ($s) = glob("$d/.s.PGSQL.*[0-9]") or return 0;
            my ($port) = $s =~ /(\d+)$/;
            $l = IO::Socket::IP->new(LocalHost => '127.0.0.1', LocalPort => $port, Listen => 5, ReuseAddr => 1);
            1;
        }, 20);
        my $accepted = 0;
        if ($l) {
            $l->blocking(0);
            wait_until(sub { my $c = $l->accept; $accepted++ if $c; $accepted || waitpid($r->{pid}, POSIX::WNOHANG()) != 0 }, 10);
        }
        finish_run($r, 60);
        no_leftovers($r, "port taken (try $tries)");
        if ($accepted) { $got = 1; $rc = $r->{rc}; $r->{saw} = $r->{report}; 
            is($rc, 4, 'port taken: a TCP listener on the chosen port means isolation is not proven: exit 4') or diag($r->{err});
            ok($r->{report} && !$r->{report}{isolation}{proven}, 'port taken: isolation.proven false');
            is_deeply($r->{report}{rounds}, [], 'port taken: nothing was applied');
        }
    }
    ok($got, "port taken: the listener was in place before the proof (after $tries tries)");
}

# ---- stale postmaster.pid in the template cache; stale run directory ----
{
    my $cache = newtmp();
    my $r = finish_run(start_run([@scaf, F('simple/up.sql'), F('simple/down.sql')], env => { XDG_CACHE_HOME => "$cache" }), 60);
    is($r->{rc}, 0, 'stale cache: first run builds the template') or diag($r->{err});
    my ($tpl) = glob("$cache/drydock/tpl-*");
    ok($tpl && -d "$tpl/data", 'stale cache: template present');
    # a postmaster.pid naming a live process (this test), and a socket lock
    open(my $fh, '>', "$tpl/data/postmaster.pid"); print $fh "$$\n$tpl/data\n0\n5432\n/tmp\n\n  5432001 0\nready\n"; close $fh;
    open($fh, '>', "$tpl/data/.s.PGSQL.5432.lock"); print $fh "$$\n"; close $fh;
    # the first run also cached its prepared empty database (a base cache
    # entry, cloned before any template): without it the template is used
    File::Path::remove_tree($_) for glob("$cache/drydock/base-*");
    $r = finish_run(start_run([@scaf, F('simple/up.sql'), F('simple/down.sql')], env => { XDG_CACHE_HOME => "$cache" }), 60);
    is($r->{rc}, 0, 'stale cache: a template with a postmaster.pid is not used as is: exit 0') or diag($r->{err});
    ok($r->{report}{environment}{template} && $r->{report}{environment}{template}{built_by_this_run}, 'stale cache: rebuilt by this run');
    ok(kill(0, $$), 'stale cache: the pid named in the stale file was not signalled');
    no_leftovers($r, 'stale cache');

    # a run directory left by a dead driver whose postmaster.pid names a live, unrelated process
    my $tmp = newtmp();
    my $stale = "$tmp/drydock-STALE1";
    mkdir $stale; mkdir "$stale/data";
    my $sleeper = fork() // die;
    if ($sleeper == 0) { exec("sleep", "30") or POSIX::_exit(1); }
    open($fh, '>', "$stale/drydock.pid"); print $fh "999999 1\n"; close $fh;
    open($fh, '>', "$stale/data/postmaster.pid"); print $fh "$sleeper\n$stale/data\n"; close $fh;
    open($fh, '>', "$stale/.s.PGSQL.5432.lock"); print $fh "$sleeper\n"; close $fh;
    my $g = run_cmd([$dd, 'gc'], env => { TMPDIR => "$tmp" });
    is($g->{rc}, 0, 'stale run dir: gc exits 0') or diag($g->{err});
    ok(!-e $stale, 'stale run dir: removed');
    ok(kill(0, $sleeper), 'stale run dir: the unrelated process named in postmaster.pid was not killed');
    kill 'KILL', $sleeper; waitpid($sleeper, 0);
}

# ---- the cluster user is missing (root) ----
SKIP: {
    skip 'not root', 4 if $> != 0;
    my $r = finish_run(start_run(['--run-as', 'nosuchuser', @scaf, F('simple/up.sql'), F('simple/down.sql')]), 30);
    is($r->{rc}, 4, 'no such user: exit 4');
    like($r->{err}, qr/^drydock: user "nosuchuser" does not exist/m, 'no such user: one clear line');
    is($r->{report} && $r->{report}{status}, 'isolation_failed', 'no such user: report written');
    no_leftovers($r, 'no such user');
}

# ---- 8 concurrent runs, mixed outcomes ----
{
    my @cases = (
        ['simple', F('simple/up.sql'), F('simple/down.sql'), 0],
        ['twelve', "$DD::ROOT/examples/12-tables/up.sql", "$DD::ROOT/examples/12-tables/down.sql", 0],
        ['syntax', F('syntax_error_7th/up.sql'), F('syntax_error_7th/down.sql'), 3],
        ['missing_pk', F('missing_pk/up.sql'), F('missing_pk/down.sql'), 1],
        ['simple2', F('simple/up.sql'), F('simple/down.sql'), 0],
        ['residue', F('rollback_residue/up.sql'), F('rollback_residue/down.sql'), 1],
        ['refused', F('refused_shell/up.sql'), F('simple/down.sql'), 2],
        ['syntax2', F('syntax_error_7th/up.sql'), F('syntax_error_7th/down.sql'), 3],
    );
    # the expected exit of each, measured alone first would cost 8 runs; the
    # fixtures' own tests (20_run_*.t) pin them, we pin them here too
    my @runs = map { start_run([@scaf, $_->[1], $_->[2]]) } @cases;
    finish_run($_, 120) for @runs;
    for my $i (0 .. $#cases) {
        my ($name, $up, $down, $want) = @{ $cases[$i] };
        my $r = $runs[$i];
        is($r->{rc}, $want, "concurrent $name: exit $want") or diag($r->{err});
        my $sum = (split ' ', `sha256sum $up`)[0];
        is($r->{report} && $r->{report}{artifacts}{ddl}{sha256}, $sum, "concurrent $name: its own artifact in its report");
        no_leftovers($r, "concurrent $name");
    }
    my %ports = map { ($_->{report}{environment}{port} // "none$_") => 1 } @runs;
    is(scalar(keys %ports), 8, 'concurrent: 8 distinct ports (or no cluster)');
}

is(ipcs_count(), $ipcs_before, 'no SysV shared memory segment leaked');
done_testing();

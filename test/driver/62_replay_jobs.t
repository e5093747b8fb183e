#!/usr/bin/perl
# drydock replay --jobs (issue 17): pairs checked by parallel workers, each on
# its own copy of the state, give the same report as --jobs 1 -- report.json
# (rounds in version order, commands, counts), replay-log.md and TAP, modulo
# timings -- on every fixture history; a failing pair with and without
# --keep-going; a failing down does not keep the state from advancing; a
# signal mid-run stops every worker and tears down.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use DD;
use File::Temp ();
use POSIX ();
use JSON::PP ();
use Test::More;

my $root = DD::fixture('replay');
my $manifest = JSON::PP->new->decode(DD::slurp("$root/MANIFEST.json"));

sub replay {
    my ($name, $dir, @args) = @_;
    my $tmp = File::Temp->newdir(DIR => '/tmp', TEMPLATE => 'ddjXXXXXX');
    chmod 0755, "$tmp";
    my $r = run_cmd([drydock(), 'replay', '-q', $dir, '--schema', 'app', '--format', 'tap', @args, '--out', "$tmp/out"],
                    env => { TMPDIR => "$tmp" });
    my $json = DD::slurp("$tmp/out/report.json");
    $r->{report} = defined $json ? eval { JSON::PP->new->decode($json) } : undef;
    $r->{log} = DD::slurp("$tmp/out/replay-log.md") // '';
    is(scalar(() = glob("$tmp/drydock-??????")), 0, "$name: no run directory left");
    is(scalar(DD::postgres_pids_in("$tmp")), 0, "$name: no process left");
    $r->{tmp} = $tmp;
    return $r;
}

# What may differ between two runs of the same replay: times, the run
# directory, the port, the report files' checksums, and --jobs itself.
sub normalise {
    my ($v, $key) = @_;
    if (ref $v eq 'HASH') {
        my %h;
        for my $k (keys %$v) {
            next if $k =~ /(_ms|_at|^at|^ms|duration|elapsed|^port|^pid|^jobs|^report_files|^files|sha256s)$/;
            $h{$k} = normalise($v->{$k}, $k);
        }
        return \%h;
    }
    return [map { normalise($_, $key) } @$v] if ref $v eq 'ARRAY';
    return $v if !defined $v || ref $v;
    (my $s = $v) =~ s{ddj\w{6}}{TMP}g;
    $s =~ s{drydock-\w{6}}{RUNDIR}g;
    $s =~ s{drydock-probe-\d+-\d+}{PROBE}g;
    $s =~ s{\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z}{TIME}g;
    return $s;
}

# replay-log.md without its time columns (up ms, down ms) and file checksums
sub log_without_times {
    my ($md) = @_;
    my @out;
    for my $l (split /\n/, $md) {
        if ($l =~ /^\| \d/) {
            my @f = split / \| /, $l;
            @f[5, 6] = ('T', 'T') if @f > 7;
            $l = join(' | ', @f);
        }
        $l =~ s{ddj\w{6}}{TMP}g;
        $l =~ s/\d+(?:\.\d+)? ?m?s\b/T/g;
        push @out, $l;
    }
    return join("\n", @out);
}

sub tap_without_times {
    my ($s) = @_;
    # the names first: a random one may hold "12s"
    $s =~ s{ddj\w{6}}{TMP}g;
    $s =~ s{drydock-\w{6}}{RUNDIR}g;
    $s =~ s/\d+(?:\.\d+)? ?m?s\b/T/g;
    return $s;
}

sub same_as_jobs1 {
    my ($name, $dir, @args) = @_;
    my $one = replay("$name --jobs 1", $dir, '--jobs', '1', @args);
    my $two = replay("$name --jobs 2", $dir, '--jobs', '2', @args);
    is($one->{report} && $one->{report}{replay}{jobs}, 1, "$name: report.json records --jobs 1");
    is($two->{report} && $two->{report}{replay}{jobs}, 2, "$name: report.json records --jobs 2");
    is($two->{rc}, $one->{rc}, "$name: same exit code ($one->{rc})");
    is_deeply([map { "$_->{round} $_->{version} $_->{verdict}" } @{ $two->{report}{rounds} || [] }],
              [map { "$_->{round} $_->{version} $_->{verdict}" } @{ $one->{report}{rounds} || [] }],
              "$name: same rounds, in version order, same verdicts");
    is_deeply(normalise($two->{report}), normalise($one->{report}), "$name: report.json the same but for timings");
    is(log_without_times($two->{log}), log_without_times($one->{log}), "$name: replay-log.md the same but for timings");
    is(tap_without_times($two->{out}), tap_without_times($one->{out}), "$name: TAP the same");
    my ($e1, $e2) = (tap_without_times($one->{err}), tap_without_times($two->{err}));
    is($e2, $e1, "$name: the same lines on stderr, in the same order");
    return ($one, $two);
}

# every fixture history, and a few more options
for my $h ((grep { $_ ne 'bad/failing-up' } sort keys %{ $manifest->{histories} }),
           (sort grep { $_ ne 'about' } keys %{ $manifest->{more} })) {
    same_as_jobs1($h, "$root/$h", '--keep-going');
}
same_as_jobs1('golang-migrate --from 3 --to 9', "$root/golang-migrate", '--keep-going', '--from', '3', '--to', '9');

# a failing up: without --keep-going the replay stops there (later pairs,
# though a worker may have started them, are not in the report)
{
    my ($one, $two) = same_as_jobs1('failing up', "$root/bad/failing-up");
    is($two->{rc}, 3, 'failing up: exit 3');
    is(scalar(@{ $two->{report}{rounds} || [] }), 3, 'failing up: the replay stops at the failing pair');
    is($two->{report}{rounds}[2]{verdict}, 'failed', 'failing up: ... which is failed');
}
{
    my ($one, $two) = same_as_jobs1('failing up --keep-going', "$root/bad/failing-up", '--keep-going');
    is($two->{rc}, 3, 'failing up --keep-going: exit 3');
    is(scalar(@{ $two->{report}{rounds} || [] }), 5, 'failing up --keep-going: every pair checked');
}

sub spew {
    my ($path, $text) = @_;
    open(my $fh, '>', $path) or die "$path: $!";
    print $fh $text;
    close($fh) or die "$path: $!";
}

# a failing down: the up applied, so the state advances by it (pair 3
# needs the column pair 2's up adds); the same with any --jobs
{
    my $dir = File::Temp->newdir(DIR => '/tmp', TEMPLATE => 'ddhXXXXXX');
    chmod 0755, "$dir";
    spew("$dir/1_t.up.sql", "CREATE SCHEMA app;\nCREATE TABLE app.t (id int PRIMARY KEY);\n");
    spew("$dir/1_t.down.sql", "DROP TABLE app.t;\nDROP SCHEMA app;\n");
    spew("$dir/2_c.up.sql", "ALTER TABLE app.t ADD COLUMN c int;\n");
    spew("$dir/2_c.down.sql", "ALTER TABLE app.t DROP COLUMN no_such_column;\n");
    spew("$dir/3_d.up.sql", "ALTER TABLE app.t ALTER COLUMN c SET DEFAULT 1;\n");
    spew("$dir/3_d.down.sql", "ALTER TABLE app.t ALTER COLUMN c DROP DEFAULT;\n");
    my ($one, $two) = same_as_jobs1('failing down --keep-going', "$dir", '--keep-going');
    is_deeply([map { $_->{verdict} } @{ $two->{report}{rounds} || [] }], [qw(exact failed exact)],
              'failing down --keep-going: the next pair is checked on the state with the up');
    is($two->{rc}, 3, 'failing down --keep-going: exit 3');
}

# a signal mid-run: every worker stopped, every database with the cluster
# gone, the report says interrupted, exit 128+15
{
    my $dir = File::Temp->newdir(DIR => '/tmp', TEMPLATE => 'ddhXXXXXX');
    chmod 0755, "$dir";
    spew("$dir/1_s.up.sql", "CREATE SCHEMA app;\n");
    spew("$dir/1_s.down.sql", "DROP SCHEMA app;\n");
    for my $i (2 .. 7) {
        spew("$dir/${i}_t$i.up.sql", "CREATE TABLE app.t$i (id int);\nSELECT pg_sleep(2);\n");
        spew("$dir/${i}_t$i.down.sql", "DROP TABLE app.t$i;\n");
    }
    my $tmp = File::Temp->newdir(DIR => '/tmp', TEMPLATE => 'ddjXXXXXX');
    chmod 0755, "$tmp";
    my $pid = fork() // die "fork: $!";
    if ($pid == 0) {
        $ENV{TMPDIR} = "$tmp";
        open(STDIN, '<', '/dev/null');
        open(STDOUT, '>', "$tmp/sig.out");
        open(STDERR, '>', "$tmp/sig.err");
        exec(drydock(), 'replay', "$dir", '--schema', 'app', '--jobs', '2', '--out', "$tmp/out") or POSIX::_exit(127);
    }
    # wait until two pairs are being checked at once (two workers), then TERM
    my $busy = DD::wait_until(sub { (DD::slurp("$tmp/sig.err") // '') =~ /\[2\/7\]/ }, 60);
    sleep 1;
    kill 'TERM', $pid;
    waitpid($pid, 0);
    ok($busy, 'signal: the replay was under way');
    is($? >> 8, 143, 'signal: exit 143');
    my $err = DD::slurp("$tmp/sig.err") // '';
    like($err, qr/interrupted/, 'signal: says it was interrupted');
    my $rep = eval { JSON::PP->new->decode(DD::slurp("$tmp/out/report.json") // '') };
    is($rep && $rep->{status}, 'interrupted', 'signal: report.json says interrupted');
    is(scalar(() = glob("$tmp/drydock-??????")), 0, 'signal: no run directory left');
    is(scalar(DD::postgres_pids_in("$tmp")), 0, 'signal: no process left');
    is(scalar(grep { /drydock/ } split /\n/, `ps -o pid=,ppid=,args= --ppid $$ 2>/dev/null`), 0,
       'signal: no worker left');
}

# files of one name (a directory layout's up.sql): each pair's check applies
# its own up, although the main line writes the next up meanwhile (each had
# the same copy in the run directory, rewritten under a worker's psql)
{
    my $dir = File::Temp->newdir(DIR => '/tmp', TEMPLATE => 'ddjXXXXXX');
    chmod 0755, "$dir";
    my %m = ('1_create_schema' => ["CREATE SCHEMA app;\n", "DROP SCHEMA app;\n"],
             # psql reads a file as it goes: a long first up, slow at its start
             '2_a' => ["SELECT pg_sleep(1);\n" . ("-- filler line to outgrow psql's read buffer\n" x 2000)
                       . "CREATE TABLE app.a (id integer PRIMARY KEY);\n", "DROP TABLE app.a;\n"],
             '3_b' => ["CREATE TABLE app.b (id integer PRIMARY KEY);\n", "DROP TABLE app.b;\n"]);
    for my $v (sort keys %m) {
        mkdir "$dir/$v" or die;
        for my $k (0, 1) {
            open(my $fh, '>', "$dir/$v/" . ($k ? 'down' : 'up') . '.sql') or die;
            print $fh $m{$v}[$k];
            close $fh;
        }
        chmod 0755, "$dir/$v";
        chmod 0644, glob("$dir/$v/*");
    }
    my ($one, $two) = same_as_jobs1('same-named files', "$dir");
    is_deeply([map { $_->{objects_created} } @{ $two->{report}{rounds} || [] }],
              [{ schema => 1 }, { table => 1, index => 1 }, { table => 1, index => 1 }],
              'same-named files: each check created what its own up creates');
}

# many workers: the sandbox has a connection slot for each of theirs (two
# each: its own and psql's or the side connection), a run keeps the default
{
    my ($one) = same_as_jobs1('golang-migrate again', "$root/golang-migrate", '--keep-going');
    my $many = replay('golang-migrate --jobs 12', "$root/golang-migrate", '--jobs', '12', '--keep-going');
    is($many->{report}{environment}{max_connections}, 30, '--jobs 12: max_connections 30');
    is($one->{report}{environment}{max_connections}, 20, '--jobs 1: the default 20');
    is($many->{rc}, $one->{rc}, '--jobs 12: the same exit code');
    is_deeply([map { "$_->{version} $_->{verdict}" } @{ $many->{report}{rounds} || [] }],
              [map { "$_->{version} $_->{verdict}" } @{ $one->{report}{rounds} || [] }], '--jobs 12: the same verdicts');
}

# bad --jobs: a usage error
{
    my $r = run_cmd([drydock(), 'replay', "$root/golang-migrate", '--schema', 'app', '--jobs', '0']);
    is($r->{rc}, 2, '--jobs 0: exit 2');
    like($r->{err}, qr/^drydock: .*--jobs must be a number from 1 to 64/m, '--jobs 0: one-line error');
}

done_testing();

# DD.pm -- helpers shared by the driver's end-to-end tests (run with prove).
package DD;
use strict;
use warnings;
use Exporter 'import';
use FindBin;
use File::Temp ();
use POSIX ();

our @EXPORT = qw(drydock run_cmd root_dirs_now postgres_pids_in ipcs_count
                 wait_until fixture slurp nobody_can_use);

our $ROOT = "$FindBin::Bin/../..";

sub drydock { return $ENV{DRYDOCK} || "$ROOT/driver/drydock"; }
sub fixture { return "$ROOT/test/fixtures/$_[0]"; }

sub slurp {
    my ($path) = @_;
    open(my $fh, '<', $path) or return undef;
    local $/;
    my $s = <$fh>;
    close $fh;
    return $s;
}

# run_cmd(\@argv, %opts) -> { rc, out, err }; opts: env => {...}, stdin => str
sub run_cmd {
    my ($argv, %opt) = @_;
    my $dir = File::Temp->newdir();
    my ($o, $e) = ("$dir/out", "$dir/err");
    my $pid = fork() // die "fork: $!";
    if ($pid == 0) {
        if ($opt{env}) {
            for my $k (keys %{ $opt{env} }) {
                if (defined $opt{env}{$k}) { $ENV{$k} = $opt{env}{$k} } else { delete $ENV{$k} }
            }
        }
        open(STDIN, '<', '/dev/null');
        open(STDOUT, '>', $o) or die;
        open(STDERR, '>', $e) or die;
        exec(@$argv) or POSIX::_exit(127);
    }
    waitpid($pid, 0);
    my $st = $?;
    my $rc = ($st & 127) ? 128 + ($st & 127) : ($st >> 8);
    return { rc => $rc, out => slurp($o) // '', err => slurp($e) // '' };
}

# Run directories of drydock currently present.
sub root_dirs_now {
    my @d = (glob("/tmp/drydock-??????"), glob("/dev/shm/drydock-??????"));
    push @d, glob("$ENV{TMPDIR}/drydock-??????") if $ENV{TMPDIR} && $ENV{TMPDIR} ne '/tmp';
    return sort @d;
}

# pids of processes whose cwd lies in $dir (a sandbox's data directory).
sub postgres_pids_in {
    my ($dir) = @_;
    my @pids;
    opendir(my $dh, "/proc") or return ();
    for my $p (grep { /^\d+$/ } readdir $dh) {
        my $cwd = readlink("/proc/$p/cwd") // next;
        push @pids, $p if index($cwd, $dir) == 0;
    }
    closedir $dh;
    return @pids;
}

# SysV shared memory segments nobody is attached to: a leaked segment of a
# dead postmaster looks like that; live clusters' segments are attached.
# Can the unprivileged account reach these paths (the tree may live under a
# private home directory, e.g. /root, on a CI machine)?
sub nobody_can_use {
    my (@paths) = @_;
    return 0 if $> != 0;
    for my $p (@paths) {
        system('runuser', '-u', 'nobody', '--', 'test', '-r', $p) == 0 or return 0;
    }
    return 1;
}

sub ipcs_count {
    my $out = `ipcs -m 2>/dev/null` // '';
    my @ids;
    for (split /\n/, $out) {
        my @f = split ' ';
        push @ids, $f[1] if @f >= 6 && $f[0] =~ /^0x/ && $f[5] == 0;
    }
    return scalar(@ids);
}

sub wait_until {
    my ($cond, $timeout) = @_;
    my $t = 0;
    while ($t < $timeout) {
        return 1 if $cond->();
        select(undef, undef, undef, 0.05);
        $t += 0.05;
    }
    return $cond->();
}

1;

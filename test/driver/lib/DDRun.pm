# DDRun.pm -- helpers for the `drydock run` end-to-end tests (20_run_*.t).
#
# dd_run() runs `drydock run` with a private TMPDIR (so the sandbox's run
# directory is created there and nowhere else) and a private --out
# directory, parses report.json, and checks that the run left no run
# directory and no process behind.  Each such check is one assertion.
package DDRun;
use strict;
use warnings;
use Exporter 'import';
use File::Temp ();
use JSON::PP ();
use DD;
use Test::More;

our @EXPORT = qw(dd_run F BASE rows_with codes_failing note_of all_output_text check_error_line);

sub F { return DD::fixture("run/$_[0]"); }
sub BASE { return DD::fixture('base/prod_v15.sql'); }

# dd_run($name, \@args, %opt) -> { rc, out, err, report, dir, tmp }
#   opt: env => {...}, cwd => dir, user => 'nobody' (as root: runuser)
sub dd_run {
    my ($name, $args, %opt) = @_;
    my $tmp = File::Temp->newdir(DIR => '/tmp', TEMPLATE => 'ddtXXXXXX');
    chmod 0755, "$tmp";
    my $out = "$tmp/out";
    my @argv = (DD::drydock(), 'run', '-q', @$args, '--out', $out);
    if ($opt{user}) {
        chown((getpwnam($opt{user}))[2, 3], "$tmp");
        @argv = ('runuser', '-u', $opt{user}, '--', 'env', "TMPDIR=$tmp", @argv);
    }
    my $r;
    {
        my $here;
        if ($opt{cwd}) { require Cwd; $here = Cwd::getcwd(); chdir $opt{cwd} or die; }
        $r = DD::run_cmd(\@argv, env => { TMPDIR => "$tmp", %{ $opt{env} || {} } });
        chdir $here if $here;
    }
    my $json = DD::slurp("$out/report.json");
    $r->{report} = defined $json ? eval { JSON::PP->new->decode($json) } : undef;
    $r->{dir} = $out;
    $r->{tmp} = $tmp;
    my @left = glob("$tmp/drydock-??????");
    is(scalar(@left), 0, "$name: no run directory left") or diag("left: @left");
    is(scalar(DD::postgres_pids_in("$tmp")), 0, "$name: no process of the run left");
    return $r;
}

# Rows of round N's key (verification, rollback_verification) with a code.
sub rows_with {
    my ($r, $key, $code, $round) = @_;
    my $rd = $r->{report} ? $r->{report}{rounds}[$round // 0] : undef;
    return () unless $rd && $rd->{$key};
    return grep { $_->{code} eq $code } @{ $rd->{$key} };
}

# Codes of failing rows over all rounds and both verification keys.
sub codes_failing {
    my ($r) = @_;
    my %c;
    for my $rd (@{ $r->{report}{rounds} || [] }) {
        for my $k (qw(verification rollback_verification)) {
            $c{ $_->{code} }++ for grep { $_->{status} eq 'fail' } @{ $rd->{$k} || [] };
        }
    }
    return \%c;
}

sub note_of {
    my ($r, $id) = @_;
    my ($n) = grep { $_->{id} eq $id } @{ $r->{report}{fidelity_notes} || [] };
    return $n;
}

# Every byte drydock wrote: stdout, stderr and each file of the report dir.
sub all_output_text {
    my ($r) = @_;
    my $s = $r->{out} . $r->{err};
    for my $f (glob("$r->{dir}/*")) { $s .= DD::slurp($f) // ''; }
    return $s;
}

# stderr's first line is "drydock: FILE:LINE: message"
sub check_error_line {
    my ($r, $file, $line, $re, $name) = @_;
    my ($first) = split /\n/, $r->{err};
    $first //= '';
    like($first, qr/^drydock: \Q$file\E:$line: /, "$name: one-line error names $file:$line");
    like($first, $re, "$name: error message") if $re;
    my $e = $r->{report} ? $r->{report}{error} : undef;
    is($e && $e->{line}, $line, "$name: report.error.line is $line");
}

1;

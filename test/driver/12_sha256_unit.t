#!/usr/bin/perl
# The unit tests (TAP) of driver/src/lib/sha256.c built by `make -C driver`,
# then its file hashes against sha256sum's on lengths around the padding's
# and the 64 KiB read's boundaries.
use strict;
use warnings;
use FindBin;
use File::Temp ();
use Test::More;

my $bin = "$FindBin::Bin/../../driver/build/test_sha256";
plan skip_all => 'driver/build/test_sha256 not built (run: make -C driver)' unless -x $bin;

my @tap = `$bin`;
is($?, 0, 'test_sha256 exits 0') or diag(@tap);
my @bad = grep { /^not ok/ } @tap;
is(scalar(@bad), 0, 'every unit test passes') or diag(@bad);
like($tap[-1], qr/^1\.\.\d+$/, 'a plan at the end');

my $dir = File::Temp->newdir();
for my $len (0, 1, 55, 56, 63, 64, 65, 119, 120, 65535, 65536, 65537, 200_003) {
    my $f = "$dir/f$len";
    open(my $fh, '>:raw', $f) or die;
    print $fh join('', map { chr(($_ * 31 + 7) % 256) } 0 .. $len - 1);
    close $fh;
    my ($want) = split ' ', `sha256sum $f`;
    my $got = `$bin $f`;
    chomp $got;
    is($got, $want, "$len bytes: as sha256sum");
}
done_testing();

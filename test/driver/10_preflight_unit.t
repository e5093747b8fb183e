#!/usr/bin/perl
# Runs the preflight unit tests (TAP) built by `make -C driver`.
use strict;
use warnings;
use FindBin;

my $bin = "$FindBin::Bin/../../driver/build/test_preflight";
unless (-x $bin) {
    print "1..0 # SKIP driver/build/test_preflight not built (run: make -C driver)\n";
    exit 0;
}
exec $bin or die "cannot exec $bin: $!\n";

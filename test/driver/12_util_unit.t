#!/usr/bin/perl
# Runs the unit tests (TAP) of driver/src/lib/util.c built by `make -C driver`.
use strict;
use warnings;
use FindBin;

my $bin = "$FindBin::Bin/../../driver/build/test_util";
unless (-x $bin) {
    print "1..0 # SKIP driver/build/test_util not built (run: make -C driver)\n";
    exit 0;
}
exec $bin or die "cannot exec $bin: $!\n";

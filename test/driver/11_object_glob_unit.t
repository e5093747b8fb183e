#!/usr/bin/perl
# Runs the unit tests (TAP) of common/object_glob.c built by `make -C driver`.
use strict;
use warnings;
use FindBin;

my $bin = "$FindBin::Bin/../../driver/build/test_object_glob";
unless (-x $bin) {
    print "1..0 # SKIP driver/build/test_object_glob not built (run: make -C driver)\n";
    exit 0;
}
exec $bin or die "cannot exec $bin: $!\n";

#!/usr/bin/perl
# Release hygiene: one version everywhere (drydock.control is the source;
# META.json, Changes, the driver and the installed extension agree), and the
# `make dist` tarball holds what META.json names and builds and installs
# with plain `make && make install DESTDIR=...` as a PGXN client would,
# without git (so without -Werror) and, as root, as an unprivileged user.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use DD;
use File::Temp ();
use JSON::PP;
use Test::More;

my $root = "$FindBin::Bin/../..";
my ($control) = DD::slurp("$root/extension/drydock.control") =~ /^default_version\s*=\s*'([^']+)'/m;
ok($control, "drydock.control has a default_version ($control)");
my $meta = JSON::PP->new->decode(DD::slurp("$root/META.json"));
is($meta->{version}, $control, 'META.json version = drydock.control');
is($meta->{provides}{drydock}{version}, $control, 'META.json provides.drydock.version = drydock.control');
is($meta->{provides}{drydock}{file}, "extension/drydock--$control.sql", 'META.json provides.file is the install script');
like(DD::slurp("$root/Changes"), qr/^\Q$control\E\s/m, 'Changes has an entry for this version');
ok(-s "$root/LICENSE", 'LICENSE exists');
is(lc($meta->{license}), 'postgresql', 'META.json: PostgreSQL License');

my $r = DD::run_cmd([DD::drydock(), '--version']);
like($r->{out}, qr/\b\Q$control\E\b/, 'drydock --version says the same version');

# the extension as installed in the sandbox of this suite (drydock exec)
SKIP: {
    skip 'not inside drydock exec', 1 unless $ENV{PGHOST};
    my $v = `psql -XAtqc "CREATE EXTENSION IF NOT EXISTS drydock; SELECT drydock.version()" 2>&1`;
    chomp $v;
    is($v, $control, 'drydock.version() of the installed extension = drydock.control');
}

# make dist -> a tarball a PGXN client can build
SKIP: {
    skip 'not a git checkout: make dist needs git', 9 unless -e "$root/.git";
    my $tmp = File::Temp->newdir(DIR => '/tmp', TEMPLATE => 'ddrXXXXXX');
    chmod 0755, "$tmp";
    my $d = DD::run_cmd(['make', '-s', '-C', $root, 'dist', "DIST_DIR=$tmp"]);
    is($d->{rc}, 0, 'make dist') or diag($d->{err});
    my $tgz = "$tmp/drydock-$control.tar.gz";
    ok(-s $tgz, "make dist wrote drydock-$control.tar.gz");
    my $list = `tar -tzf $tgz`;
    like($list, qr{^drydock-\Q$control\E/\Q$meta->{provides}{drydock}{file}\E$}m, 'the tarball holds the file META.json names');
    like($list, qr{^drydock-\Q$control\E/META\.json$}m, 'the tarball holds META.json');
    unlike($list, qr{^drydock-\Q$control\E/\.git/}m, 'no .git in the tarball');
    system('tar', '-xzf', $tgz, '-C', "$tmp") == 0 or die;
    my $src = "$tmp/drydock-$control";
    my @as = ();
    if ($> == 0) {
        system('chown', '-R', 'nobody', "$tmp") == 0 or die;
        @as = ('runuser', '-u', 'nobody', '--');
    }
    my $pgc = $ENV{PG_CONFIG} || 'pg_config';
    my $b = DD::run_cmd([@as, 'make', '-s', '-C', $src, "PG_CONFIG=$pgc"]);
    is($b->{rc}, 0, 'the tarball builds with plain make' . (@as ? ' (as nobody)' : '')) or diag($b->{err});
    my $i = DD::run_cmd([@as, 'make', '-s', '-C', $src, 'install', "PG_CONFIG=$pgc", "DESTDIR=$tmp/stage", "prefix=/usr/local"]);
    is($i->{rc}, 0, 'make install DESTDIR=... works without sudo' . (@as ? ' (as nobody)' : '')) or diag($i->{err});
    my $sharedir = `$pgc --sharedir`;
    chomp $sharedir;
    ok(-f "$tmp/stage$sharedir/extension/drydock.control" && -f "$tmp/stage$sharedir/extension/drydock--$control.sql",
       'the staged install has the control file and the install script');
    ok(-x "$tmp/stage/usr/local/bin/drydock", 'the staged install has the driver');
}

done_testing();

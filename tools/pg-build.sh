#!/bin/bash
# tools/pg-build.sh -- get a PostgreSQL major for drydock: a Debian package
# where this release has one, else a server built from the upstream tarball of
# Debian's source package into a cache prefix, else (17, 19: no tarball
# served) a newer Debian's binary packages unpacked into the prefix with
# their own glibc.  Then pgTAP into it.
#
#   tools/pg-build.sh MAJOR           install or build MAJOR (idempotent)
#   tools/pg-build.sh --prefix M      print the cache prefix M is built into
#   tools/pg-build.sh --pg-config M   print the pg_config of installed M (exit 1: none),
#                                     searched as the driver's --pg searches
#   tools/pg-build.sh --cflags M      M's CFLAGS less the warnings cc does not know
#
# The prefix is $DRYDOCK_PG_CACHE/MAJOR, by default /var/cache/drydock/pg/MAJOR
# as root and ${XDG_CACHE_HOME:-~/.cache}/drydock/pg/MAJOR otherwise; the
# driver's --pg MAJOR looks there after /usr/lib/postgresql/MAJOR.  A build
# records its configure flags and source version in PREFIX/drydock-build.info
# and is skipped when that file says the same flags and the tree is complete
# (bin/postgres, bin/pg_config, contrib's pgcrypto, pgTAP).
#
# Why a source build: bookworm ships only 15; the suites that hold the source
# packages of other majors are reached through a private apt sources list
# (Dir::Etc::SourceList), never by changing the system's sources.
set -euo pipefail

die() { echo "pg-build: $*" >&2; exit 1; }

if [ "$(id -u)" = 0 ]; then
	CACHE=${DRYDOCK_PG_CACHE:-/var/cache/drydock/pg}
else
	CACHE=${DRYDOCK_PG_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/drydock/pg}
fi

case ${1:-} in
	--prefix)
		echo "$CACHE/$2"
		exit 0 ;;
	--cflags)
		# M's pg_config --cflags without the warning options this machine's
		# compiler does not know (19 is built with gcc 14's
		# -Wmissing-variable-declarations; Debian 12 has gcc 12)
		pgc=$("$0" --pg-config "$2") || exit 1
		out=
		for f in $("$pgc" --cflags); do
			case $f in
				-W*) msg=$(echo 'int x;' | ${CC:-cc} "$f" -x c -c -o /dev/null - 2>&1 || true)
					case $msg in *'unrecognized command-line option'*) continue ;; esac ;;
			esac
			out="$out $f"
		done
		echo "${out# }"
		exit 0 ;;
	--pg-config)
		for p in "/usr/lib/postgresql/$2/bin/pg_config" "$CACHE/$2/bin/pg_config" \
			"/var/cache/drydock/pg/$2/bin/pg_config"; do
			[ -x "$p" ] && { echo "$p"; exit 0; }
		done
		exit 1 ;;
esac
MAJOR=${1:?usage: pg-build.sh MAJOR}
case $MAJOR in
	''|*[!0-9]*) die "not a major version: $MAJOR" ;;
esac
JOBS=${JOBS:-$(nproc)}

# The Debian suite whose source package has this major.  15 is bookworm's
# own (binary packages, see the Makefile's deps); 17's source package is in
# trixie, whose Debian tarball is not served by the mirror here -- but the
# upstream tarball is all a prefix build uses.
suite_of() {
	case $1 in
		13) echo bullseye ;;
		15) echo bookworm ;;
		17) echo trixie ;;
		18) echo sid ;;
		19) echo experimental ;;
		*) echo sid ;;
	esac
}
SUITE=$(suite_of "$MAJOR")
MIRROR=${DRYDOCK_DEBIAN_MIRROR:-http://deb.debian.org/debian}

# Flags: what production servers have (contrib incl. pgcrypto -> OpenSSL;
# ICU collations; readline for psql; zlib for pg_dump -Fc).
CONFIGURE_FLAGS="--with-ssl=openssl --with-icu --with-readline --with-zlib --with-libxml --with-lz4 --with-zstd"
case $MAJOR in
	13) CONFIGURE_FLAGS="--with-openssl --with-icu --with-readline --with-zlib --with-libxml" ;;
	14) CONFIGURE_FLAGS="--with-ssl=openssl --with-icu --with-readline --with-zlib --with-libxml --with-lz4" ;;
esac
# 17: trixie's source package is listed but its tarballs are not served by
# the mirror, while its binary packages are; they need glibc 2.38 (bookworm
# has 2.36).  So 17 is Debian's own build, unpacked into PREFIX/root with
# the libraries it was built against -- trixie's glibc included -- and every
# program pointed at that root's dynamic loader (patchelf): the server,
# headers, PGXS and pgTAP of one and the same 17.x.
# 19 (beta, not gating) likewise: experimental's source tarballs are not
# served either; its binaries take their libraries from sid.
FROM_BINARIES=
LIB_SUITES=
case $MAJOR in
	17) FROM_BINARIES=1; CONFIGURE_FLAGS="(Debian $SUITE binary packages, own glibc)" ;;
	19) FROM_BINARIES=1; LIB_SUITES=sid; CONFIGURE_FLAGS="(Debian $SUITE binary packages, sid's libraries, own glibc)" ;;
esac
PREFIX=$CACHE/$MAJOR
INFO=$PREFIX/drydock-build.info
WORK=$CACHE/.build/$MAJOR
APTDIR=$CACHE/.apt
# a binary major's own lists: another suite's libraries must not become
# its candidates
[ -n "$FROM_BINARIES" ] && APTDIR=$CACHE/.apt-$MAJOR

# Debian packages when this release has them (bookworm: 15).
# (captured first: under pipefail, grep -q closing the pipe early can make
# apt-cache die of SIGPIPE and the test fail although the package exists)
policy=$(apt-cache policy "postgresql-$MAJOR" 2>/dev/null || true)
if [ -z "${DRYDOCK_PG_FORCE_BUILD:-}" ] && [[ $policy == *"Candidate: "[0-9]* ]]; then
	pkgs="postgresql-$MAJOR postgresql-server-dev-$MAJOR postgresql-$MAJOR-pgtap"
	missing=""
	for p in $pkgs; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' || missing="$missing $p"
	done
	if [ -n "$missing" ]; then
		echo "pg-build: $MAJOR: installing Debian packages:$missing"
		SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
		$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
	else
		echo "pg-build: $MAJOR: Debian packages installed (/usr/lib/postgresql/$MAJOR)"
	fi
	exit 0
fi

complete() {
	[ -x "$PREFIX/bin/postgres" ] && [ -x "$PREFIX/bin/pg_config" ] && [ -x "$PREFIX/bin/psql" ] &&
	[ -x "$PREFIX/bin/pg_dump" ] &&
	[ -f "$("$PREFIX/bin/pg_config" --sharedir)/extension/pgcrypto.control" ] &&
	[ -f "$("$PREFIX/bin/pg_config" --sharedir)/extension/pgtap.control" ] &&
	[ -f "$INFO" ] && grep -qxF "configure: $CONFIGURE_FLAGS" "$INFO"
}

if complete; then
	echo "pg-build: $MAJOR: $PREFIX is complete ($(sed -n 's/^source: //p' "$INFO")), nothing to do"
	exit 0
fi

# A private apt state: our own sources list and lists directory, so that the
# system's sources and lists are left as they are.
aptq() {
	local tool=apt-get
	case $1 in showsrc|depends|show) tool=apt-cache ;; esac
	"$tool" -q -o Dir::Etc::SourceList="$APTDIR/sources.list" -o Dir::Etc::SourceParts=/dev/null \
		-o Dir::State::Lists="$APTDIR/lists" -o Dir::Cache="$APTDIR/cache" \
		-o APT::Sandbox::User=root "$@"
}
apt_ready() {
	mkdir -p "$APTDIR/lists/partial" "$APTDIR/cache/archives/partial"
	local kind=deb-src
	[ -n "$FROM_BINARIES" ] && kind=deb
	local want suite
	# One lock for the shared private lists (parallel builds of two majors).
	exec 9>"$APTDIR/lock"
	flock 9
	touch "$APTDIR/sources.list"
	for suite in $SUITE $LIB_SUITES; do
		want="$kind [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $MIRROR $suite main"
		if ! grep -qxF "$want" "$APTDIR/sources.list"; then
			echo "$want" >>"$APTDIR/sources.list"
			rm -f "$APTDIR/updated"
		fi
	done
	# refresh once a day at most
	if [ ! -f "$APTDIR/updated" ] || [ -n "$(find "$APTDIR/updated" -mmin +1440)" ]; then
		aptq update >/dev/null
		touch "$APTDIR/updated"
	fi
	flock -u 9
}

# Download the upstream tarball of source package $1 into $2, print its path.
fetch_orig() {
	local pkg=$1 dest=$2 ver upver file
	ver=$(aptq showsrc "$pkg" 2>/dev/null | sed -n 's/^Version: //p' | sort -V | tail -1)
	[ -n "$ver" ] || die "$MAJOR: no source package $pkg in $SUITE"
	upver=${ver#*:}; upver=${upver%-*}
	mkdir -p "$dest"
	file=$(ls "$dest/${pkg}_${upver}".orig.tar.* 2>/dev/null | head -1 || true)
	if [ -z "$file" ]; then
		(cd "$dest" && aptq source --download-only --only-source "$pkg=$ver" >/dev/null 2>&1) || true
		file=$(ls "$dest/${pkg}_${upver}".orig.tar.* 2>/dev/null | head -1 || true)
	fi
	if [ -z "$file" ]; then
		# apt-get source fails as a whole when one part (e.g. trixie's
		# Debian tarball) is not served; the upstream tarball alone is enough.
		local uri
		for uri in $(aptq source --print-uris --only-source "$pkg=$ver" 2>/dev/null |
			sed -n "s/^'\([^']*\.orig\.tar\.[a-z0-9]*\)'.*/\1/p"); do
			(cd "$dest" && curl -fsSLO "$uri") || true
		done
		file=$(ls "$dest/${pkg}_${upver}".orig.tar.* 2>/dev/null | head -1 || true)
	fi
	[ -n "$file" ] || die "$MAJOR: could not download the upstream tarball of $pkg $ver"
	echo "$file"
}

start=$(date +%s)

if [ -n "$FROM_BINARIES" ]; then
	command -v patchelf >/dev/null || die "$MAJOR: needs patchelf (make deps installs it)"
	apt_ready
	debs=$WORK/debs
	rm -rf "$debs" "$PREFIX" && mkdir -p "$debs" "$PREFIX/root"
	# the server, client, headers, pgTAP, and every shared library they
	# need (not compilers, perl or python: -dev, llvm, clang are left out;
	# JIT is then unavailable, which drydock does not use)
	pkgs=$(aptq depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
		--no-replaces --no-enhances -o Dir::State::status=/dev/null \
		"postgresql-$MAJOR" "postgresql-client-$MAJOR" libpq5 2>/dev/null |
		grep -v '^[ <]' | sort -u | grep -E '^lib|^zlib1g$' |
		grep -vE -- '-dev$|llvm|clang|perl|python|^libc-|^libc6-|debian-installer|debconf|newt|slang')
	[ -n "$pkgs" ] || die "$MAJOR: no dependency list for postgresql-$MAJOR in $SUITE"
	pgtap_deb=
	aptq show "postgresql-$MAJOR-pgtap" >/dev/null 2>&1 && pgtap_deb=postgresql-$MAJOR-pgtap
	(cd "$debs" && aptq download -o Dir::State::status=/dev/null "postgresql-$MAJOR" "postgresql-client-$MAJOR" \
		"postgresql-server-dev-$MAJOR" $pgtap_deb libc6 $pkgs >/dev/null) ||
		die "$MAJOR: downloading the $SUITE packages failed"
	for d in "$debs"/*.deb; do dpkg-deb -x "$d" "$PREFIX/root"; done
	lib=$PREFIX/root/usr/lib/x86_64-linux-gnu
	[ -e "$lib/ld-linux-x86-64.so.2" ] || die "$MAJOR: no dynamic loader in $SUITE's libc6"
	# every program (server, clients, pg_regress) runs on the root's glibc
	while IFS= read -r f; do
		patchelf --print-interpreter "$f" >/dev/null 2>&1 || continue
		patchelf --set-interpreter "$lib/ld-linux-x86-64.so.2" --force-rpath --set-rpath "$lib" "$f" ||
			die "$MAJOR: patchelf $f failed"
	done < <(find "$PREFIX/root/usr/lib/postgresql" -type f -perm -u+x)
	ln -s "root/usr/lib/postgresql/$MAJOR/bin" "$PREFIX/bin"
	"$PREFIX/bin/postgres" --version >/dev/null || die "$MAJOR: the unpacked server does not run"
	{
		echo "source: Debian $SUITE $(cd "$debs" && ls postgresql-"$MAJOR"_*.deb | sed 's/_amd64.deb//')"
		echo "configure: $CONFIGURE_FLAGS"
		echo "glibc: $(cd "$debs" && ls libc6_*.deb)"
		[ -z "$pgtap_deb" ] || echo "pgtap: $(cd "$debs" && ls postgresql-"$MAJOR"-pgtap_*.deb)"
		echo "built: $(date -u +%FT%TZ) in $(( $(date +%s) - start )) s"
	} >"$INFO"
	rm -rf "$debs"
	if [ -n "$pgtap_deb" ]; then
		complete || die "$MAJOR: $PREFIX is incomplete after unpacking"
		echo "pg-build: $MAJOR: $PREFIX ready ($($PREFIX/bin/postgres --version), $(( $(date +%s) - start )) s)"
		exit 0
	fi
	# no pgTAP package for this major: built from source below
	FROM_BINARIES= APTDIR=$CACHE/.apt
fi
if [ ! -x "$PREFIX/bin/postgres" ] || [ ! -f "$INFO" ] || ! grep -qxF "configure: $CONFIGURE_FLAGS" "$INFO"; then
	[ -z "$FROM_BINARIES" ] || die "$MAJOR: internal: a binary major reached the source build"
	apt_ready
	tarball=$(fetch_orig "postgresql-$MAJOR" "$WORK")
	srcver=$(basename "$tarball" | sed 's/^postgresql-[0-9]*_\(.*\)\.orig\.tar\..*/\1/')
	rm -rf "$WORK/src" && mkdir -p "$WORK/src"
	tar -xf "$tarball" -C "$WORK/src" --strip-components=1
	rm -rf "$PREFIX"
	echo "pg-build: $MAJOR: building PostgreSQL $srcver into $PREFIX (make -j$JOBS)"
	(
		cd "$WORK/src"
		./configure --prefix="$PREFIX" $CONFIGURE_FLAGS >"$WORK/configure.log" 2>&1 ||
			{ tail -20 "$WORK/configure.log"; exit 1; }
		if grep -q '^world-bin:' GNUmakefile; then
			make -j"$JOBS" -s world-bin >"$WORK/make.log" 2>&1 || { tail -40 "$WORK/make.log"; exit 1; }
			make -s install-world-bin >>"$WORK/make.log" 2>&1 || { tail -40 "$WORK/make.log"; exit 1; }
		else
			{ make -j"$JOBS" -s && make -j"$JOBS" -s -C contrib && make -s install && make -s -C contrib install; } \
				>"$WORK/make.log" 2>&1 || { tail -40 "$WORK/make.log"; exit 1; }
		fi
	)
	{
		echo "source: postgresql-$MAJOR $srcver ($SUITE)"
		echo "configure: $CONFIGURE_FLAGS"
		echo "built: $(date -u +%FT%TZ) in $(( $(date +%s) - start )) s"
	} >"$INFO.tmp"
	mv "$INFO.tmp" "$INFO"
	echo "pg-build: $MAJOR: server built in $(( $(date +%s) - start )) s"
fi

# pgTAP from Debian's source package (the newest suite has the version that
# knows the newest majors), built against this prefix.
if [ ! -f "$("$PREFIX/bin/pg_config" --sharedir)/extension/pgtap.control" ]; then
	SUITE=sid
	apt_ready
	tb=$(fetch_orig pgtap "$CACHE/.build/pgtap")
	rm -rf "$WORK/pgtap" && mkdir -p "$WORK/pgtap"
	tar -xf "$tb" -C "$WORK/pgtap" --strip-components=1
	make -s -C "$WORK/pgtap" PG_CONFIG="$PREFIX/bin/pg_config" >"$WORK/pgtap.log" 2>&1 &&
		make -s -C "$WORK/pgtap" PG_CONFIG="$PREFIX/bin/pg_config" install >>"$WORK/pgtap.log" 2>&1 ||
		{ tail -20 "$WORK/pgtap.log"; die "$MAJOR: pgTAP build failed"; }
	echo "pgtap: $(basename "$tb")" >>"$INFO"
fi
complete || die "$MAJOR: $PREFIX is incomplete after the build"
rm -rf "$WORK/src" "$WORK/pgtap"
echo "pg-build: $MAJOR: $PREFIX ready ($(( $(date +%s) - start )) s)"

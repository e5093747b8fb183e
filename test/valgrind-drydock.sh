#!/bin/sh
# test/valgrind-drydock.sh -- the driver under valgrind memcheck, for
# `make valgrind-test` (DRYDOCK points here).  Only the driver itself is
# checked: its children (initdb, postgres, psql, cp) exec other programs,
# hence --trace-children=no.  An error or a definite leak exits 99, which the
# tests see as a wrong exit code.
here=$(cd "$(dirname "$0")/.." && pwd)
exec valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
	--show-leak-kinds=definite --trace-children=no --child-silent-after-fork=yes \
	--log-file="${VALGRIND_LOG_DIR:-/tmp}/drydock-valgrind.%p.log" \
	"$here/driver/drydock" "$@"

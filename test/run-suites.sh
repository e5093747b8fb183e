#!/bin/bash
# test/run-suites.sh -- run every test suite, each inside its own throwaway
# cluster made by `drydock exec`, and fail only after all of them ran.
#
#   DRYDOCK   the driver to use (default: driver/drydock of this tree)
#   SUITES    which suites (default: "regress pgtap driver")
#   DRYDOCK_PG  the PostgreSQL major to run them on (drydock exec --pg)
set -u
cd "$(dirname "$0")/.."
DRYDOCK=${DRYDOCK:-$PWD/driver/drydock}
SUITES=${SUITES:-regress pgtap driver}
export DRYDOCK
PGOPT=()
if [ -n "${DRYDOCK_PG:-}" ]; then PGOPT=(--pg "$DRYDOCK_PG"); fi

passed=0; failed=0; failed_names=""
run_suite() {
	local name=$1; shift
	echo "=== suite $name: $*"
	if "$@"; then
		passed=$((passed + 1)); echo "=== suite $name: ok"
	else
		failed=$((failed + 1)); failed_names="$failed_names $name"; echo "=== suite $name: FAILED"
	fi
}

for s in $SUITES; do
	case $s in
	regress)
		run_suite regress "$DRYDOCK" exec --quiet "${PGOPT[@]}" -- \
			make -s -C extension installcheck
		if [ -s build/regress/regression.diffs ]; then cat build/regress/regression.diffs; fi ;;
	pgtap)
		run_suite pgtap "$DRYDOCK" exec --quiet "${PGOPT[@]}" -- \
			pg_prove --ext .sql test/pgtap/ ;;
	driver)
		# the failures' diagnostics (Test::More's diag, on stderr) are
		# repeated at the end: a CI log is often read from its tail
		mkdir -p build
		run_suite driver "$DRYDOCK" exec --quiet "${PGOPT[@]}" -- \
			prove test/driver/ 2> >(tee build/driver-suite.stderr >&2)
		wait $! 2>/dev/null ;;
	*)
		echo "unknown suite $s"; failed=$((failed + 1)) ;;
	esac
done

# Nothing of any suite may remain: no run directory whose driver is gone
# (what `drydock gc` would remove), hence no postgres of ours either.
leftover=$("$DRYDOCK" gc --dry-run --quiet | sed -n 's/^would remove //p')
if [ -n "$leftover" ]; then
	echo "left behind: $leftover"; failed=$((failed + 1)); failed_names="$failed_names leftovers"
fi

if [[ " $failed_names " == *" driver "* ]] && [ -s build/driver-suite.stderr ]; then
	echo "=== the driver suite's failure diagnostics (build/driver-suite.stderr, last 120 lines):"
	grep -v '^[[:space:]]*$' build/driver-suite.stderr | tail -n 120
fi
echo "suites: $passed passed, $failed failed${failed_names:+ ($failed_names )}"
[ "$failed" -eq 0 ]

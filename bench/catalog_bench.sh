#!/bin/bash
# catalog_bench.sh -- time drydock.catalog_objects() and drydock.fingerprint()
# on generated schemas of 2,000 and 10,000 tables (bench/gen_tables.sh: PK,
# UNIQUE, FK, six columns each).  A benchmark, not a test: it prints figures.
#
# Needs a server reached through PGHOST/PGPORT/PGUSER (e.g. inside
# `drydock exec --` or a dev cluster) with the drydock extension installed.
# Creates and drops databases drydock_bench_N.  Target: catalog_objects +
# fingerprint on 2,000 tables in <= 150 ms, and 10,000 tables <= 5.5x the
# 2,000-table time.
#
# Usage: bench/catalog_bench.sh [N ...]   (default: 2000 10000)
# RUNS (default 7, at least 5) warm calls of each, in one session, after one
# untimed warm-up call (the first call of a session also fills the backend's
# catalog caches; it is shown apart).  "both" is one statement calling both
# functions.  Figures: median [min-max] wall-clock ms as psql's \timing sees
# them.  On a shared machine, compare medians of several runs.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
sizes=${*:-2000 10000}
runs=${RUNS:-7}
[ "$runs" -ge 5 ] || { echo "catalog_bench.sh: RUNS must be >= 5" >&2; exit 2; }
psql="psql -X -q -v ON_ERROR_STOP=1"

co_q="SELECT count(*) FROM drydock.catalog_objects();"
fp_q="SELECT length(drydock.fingerprint());"
both_q="SELECT (SELECT count(*) FROM drydock.catalog_objects()), length(drydock.fingerprint());"

# fmt "median min max n": "median [min-max]"
fmt() { awk '{ printf "%7.1f [%.1f-%.1f]", $1, $2, $3 }'; }

results=()
for n in $sizes; do
	db=drydock_bench_$n
	$psql -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
	"$here/gen_tables.sh" "$n" bench | $psql -d "$db" >/dev/null
	$psql -d "$db" -c "CREATE EXTENSION drydock" >/dev/null
	out=$({
		echo '\timing on'
		echo "$co_q"	# first call of the session
		for q in "$co_q" "$fp_q" "$both_q"; do
			echo "$q"	# warm-up, untimed
			for _ in $(seq "$runs"); do echo "$q"; done
		done
	} | $psql -d "$db" -At)
	times=$(echo "$out" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p')
	rows=$(echo "$out" | grep -E '^[0-9]+$' | head -1)
	first=$(echo "$times" | sed -n 1p)
	pick() { echo "$times" | sed -n "$(($1 + 2)),$(($1 + 1 + runs))p" | stats; }
	co=$(pick 1)
	fp=$(pick $((runs + 2)))
	both=$(pick $((2 * runs + 3)))
	printf '%6d tables %6d rows  catalog_objects %s  fingerprint %s  both %s ms  (first call %.1f ms, %d runs)\n' \
		"$n" "$rows" "$(echo "$co" | fmt)" "$(echo "$fp" | fmt)" "$(echo "$both" | fmt)" "$first" "$runs"
	results+=("$n $(echo "$both" | awk '{ print $1 }') $(echo "$co" | awk '{ print $1 }') $(echo "$fp" | awk '{ print $1 }')")
	$psql -d postgres -c "DROP DATABASE $db"
done

# growth from the first to the last size, on the medians
if [ "${#results[@]}" -gt 1 ]; then
	read -r n0 b0 c0 f0 <<<"${results[0]}"
	read -r n1 b1 c1 f1 <<<"${results[${#results[@]} - 1]}"
	printf 'ratio %d/%d tables (%.1fx the tables): both %sx, catalog_objects %sx, fingerprint %sx (target <= 5.5x)\n' \
		"$n1" "$n0" "$(ratio "$n1" "$n0")" "$(ratio "$b1" "$b0")" "$(ratio "$c1" "$c0")" "$(ratio "$f1" "$f0")"
fi

#!/bin/sh
# catalog_bench.sh -- time drydock.catalog_objects() and drydock.fingerprint()
# on generated schemas of 2,000 and 10,000 tables (bench/gen_tables.sh: PK,
# UNIQUE, FK, six columns each).  A benchmark, not a test: it prints figures.
#
# Needs a server reached through PGHOST/PGPORT/PGUSER (e.g. inside
# `drydock exec --` or a dev cluster) with the drydock extension installed.
# Creates and drops databases drydock_bench_N.  Target: 2,000 tables in
# <= 150 ms, and 10,000 tables <= 5.5x the 2,000-table time.
#
# Usage: bench/catalog_bench.sh [N ...]   (default: 2000 10000)
# Each figure is the median of 5 warm calls in one session (the first call
# of a session also fills the backend's catalog caches; it is shown apart).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
sizes=${*:-2000 10000}
psql="psql -X -q -v ON_ERROR_STOP=1"

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

for n in $sizes; do
	db=drydock_bench_$n
	$psql -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
	# 10,000 tables: the default lock table is too small for the generator's
	# 200-table transactions only if max_locks_per_transaction was lowered.
	"$here/gen_tables.sh" "$n" bench | $psql -d "$db" >/dev/null
	$psql -d "$db" -c "CREATE EXTENSION drydock" >/dev/null
	out=$($psql -d "$db" -At <<'SQL'
\timing on
SELECT count(*) FROM drydock.catalog_objects();
SELECT count(*) FROM drydock.catalog_objects();
SELECT count(*) FROM drydock.catalog_objects();
SELECT count(*) FROM drydock.catalog_objects();
SELECT count(*) FROM drydock.catalog_objects();
SELECT count(*) FROM drydock.catalog_objects();
SELECT drydock.fingerprint();
SELECT drydock.fingerprint();
SELECT drydock.fingerprint();
SELECT drydock.fingerprint();
SELECT drydock.fingerprint();
SQL
)
	times=$(echo "$out" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p')
	rows=$(echo "$out" | grep -E '^[0-9]+$' | head -1)
	first=$(echo "$times" | sed -n 1p)
	co=$(echo "$times" | sed -n 2,6p | median)
	fp=$(echo "$times" | sed -n 7,11p | median)
	total=$(echo "$co $fp" | awk '{printf "%.1f", $1 + $2}')
	printf '%6d tables  %6d rows  catalog_objects %7.1f ms  fingerprint %7.1f ms  both %7.1f ms  (first call %.1f ms)\n' \
		"$n" "$rows" "$co" "$fp" "$total" "$first"
	echo "$n $co $fp $total" >> "${TMPDIR:-/tmp}/catalog_bench.$$"
	$psql -d postgres -c "DROP DATABASE $db"
done

# growth from the smallest to the largest size
awk 'NR == 1 {n0 = $1; t0 = $4} {n1 = $1; t1 = $4}
     END { if (NR > 1) printf "growth %d -> %d tables: %.2fx for %.1fx the tables (target <= 5.5x)\n", n0, n1, t1 / t0, n1 / n0 }' \
	"${TMPDIR:-/tmp}/catalog_bench.$$"
rm -f "${TMPDIR:-/tmp}/catalog_bench.$$"

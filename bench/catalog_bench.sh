#!/bin/bash
# catalog_bench.sh -- time drydock.catalog_objects() and drydock.fingerprint()
# on generated schemas of 2,000 and 10,000 tables (bench/gen_tables.sh: PK,
# UNIQUE, FK, six columns each).  A benchmark, not a test: it prints figures.
#
# Needs a server reached through PGHOST/PGPORT/PGUSER (e.g. inside
# `drydock exec --` or a dev cluster) with the drydock extension installed.
# Creates and drops databases drydock_bench_N (REUSE=1: keeps them, and uses
# one that already exists as it is).  Target: catalog_objects + fingerprint
# on 2,000 tables in <= 150 ms, and 10,000 tables <= 5.5x the 2,000-table time.
#
# Usage: bench/catalog_bench.sh [N ...]   (default: 2000 10000)
# RUNS (default 7, at least 5) warm calls of each, in one session, after one
# untimed warm-up call (the first call of a session also fills the backend's
# catalog caches; it is shown apart).  "both" is one statement calling both
# functions (the pair a driver makes).  Figures: median [min-max] ms of
#   wall  as psql's \timing sees it, and
#   cpu   the backend's own CPU time for the statement, from the first field
#         of /proc/<backend>/schedstat read by the backend itself just before
#         and just after the statement (needs a superuser; on a shared,
#         noisy machine this is the steadier figure).
# On a shared machine, compare medians of several runs.
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
sched_q="SELECT 'SCHED ' || split_part(pg_read_file('/proc/self/schedstat'), ' ', 1);"

# fmt "median min max n": "median [min-max]"
fmt() { awk '{ printf "%6.1f [%.1f-%.1f]", $1, $2, $3 }'; }

results=()
for n in $sizes; do
	db=drydock_bench_$n
	if [ "${REUSE:-0}" = 1 ] && $psql -d postgres -Atc "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1; then
		:
	else
		$psql -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
		"$here/gen_tables.sh" "$n" bench | $psql -d "$db" >/dev/null
		$psql -d "$db" -c "CREATE EXTENSION drydock" >/dev/null
	fi
	out=$({
		echo "$co_q"	# first call of the session, timed apart below
		echo '\timing on'
		for q in "$co_q" "$fp_q" "$both_q"; do
			echo "$q"	# warm-up, untimed
			for _ in $(seq "$runs"); do
				echo '\timing off'
				echo "$sched_q"
				echo '\timing on'
				echo "$q"
				echo '\timing off'
				echo "$sched_q"
			done
		done
	} | $psql -d "$db" -At)
	rows=$(echo "$out" | grep -E '^[0-9]+$' | head -1)
	# wall: the \timing lines of the measured statements (skip the 3 warm-ups)
	walls=$(echo "$out" | awk '/^Time: / { t = $2 } /^SCHED / { if (t != "") { print t; t = "" } }')
	cpus=$(echo "$out" | awk '/^SCHED / { if (s) { printf "%.3f\n", ($2 - s) / 1e6; s = 0 } else s = $2 }')
	pick() { echo "$1" | sed -n "$(($2 * runs + 1)),$((($2 + 1) * runs))p" | stats; }
	line="$(printf '%6d tables %6d rows' "$n" "$rows")"
	for i in 0 1 2; do
		name=$(echo "catalog_objects fingerprint both" | cut -d' ' -f$((i + 1)))
		w[$i]=$(pick "$walls" $i)
		c[$i]=$(pick "$cpus" $i)
		line+="$(printf '\n    %-16s wall %s  cpu %s ms' "$name" "$(echo "${w[$i]}" | fmt)" "$(echo "${c[$i]}" | fmt)")"
	done
	printf '%s\n    (%d runs each)\n' "$line" "$runs"
	results+=("$n $(echo "${w[2]}" | awk '{ print $1 }') $(echo "${c[2]}" | awk '{ print $1 }')")
	[ "${REUSE:-0}" = 1 ] || $psql -d postgres -c "DROP DATABASE $db"
done

# growth from the first to the last size, on the medians of "both"
if [ "${#results[@]}" -gt 1 ]; then
	read -r n0 w0 c0 <<<"${results[0]}"
	read -r n1 w1 c1 <<<"${results[${#results[@]} - 1]}"
	printf 'ratio %d/%d tables (%.1fx the tables), both: wall %sx, cpu %sx (target <= 5.5x)\n' \
		"$n1" "$n0" "$(ratio "$n1" "$n0")" "$(ratio "$w1" "$w0")" "$(ratio "$c1" "$c0")"
fi

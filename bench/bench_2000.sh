#!/bin/bash
# bench/bench_2000.sh [ROUNDS] [N] -- (b) a generated N-table migration
# (default 2,000; bench/gen_tables.sh: PK, UNIQUE, FK, six columns each, and
# its exact inverse, children first, no CASCADE): the manual procedure
# (bench/manual_dryrun.sh, default durability) vs `drydock run`, interleaved,
# ROUNDS rounds (default 3), after two uncounted drydock runs (below).  Also drydock's own
# overhead = report.json duration_ms - rounds[0].apply.duration_ms -
# rounds[0].rollback.duration_ms (the two psql runs of the artifacts), per
# run; target <= 10 % of the run.  The drydock runs use /usr/bin/time -v, so
# the driver's peak RSS for (e) comes from the same runs.
# The same from the process's wall time (report writing and exit included)
# is printed beside it.
# Result line:  RESULT b <manual_ms> <drydock_ms> <overhead_pct_median> <overhead_ms_median>
set -euo pipefail
. "$(dirname "$0")/lib.sh"
rounds=${1:-3} n=${2:-2000}
bench_trap
mk_scratch work
register_dir "$work"
gen_up "$n" bench "$work/up.sql"
gen_down "$n" bench "$work/down.sql"
# Two runs first, not counted: afterwards the template and the prepared
# empty database (the base cache entry of runs without --base, stored by
# the second run that wants it) exist, as on any machine that ran drydock
# twice with this version; the counted runs are the runs users make.
echo "== warm-up: two drydock runs, not counted (template and prepared empty database cached)"
for w in 1 2; do
	$DRYDOCK run --quiet $DD_PGC --schema bench "$work/up.sql" "$work/down.sql" --out "$work/warm.$w" >/dev/null 2>&1 || true
done
echo "== (b) $n-table generated migration: manual procedure (fsync on) vs drydock run ($rounds rounds, interleaved)"
ddn=0
dd_one() {
	ddn=$((ddn + 1))
	/usr/bin/time -v -o "$work/time.$ddn" $DRYDOCK run --quiet $DD_PGC --schema bench "$work/up.sql" "$work/down.sql" --out "$work/r.$ddn"
}
interleave "$rounds" 0 "$work" \
	manual_fsync_on "$BENCH_DIR/manual_dryrun.sh $work/up.sql $work/down.sql bench $n" \
	drydock_run "dd_one"
report_rows "$work" drydock_run manual_fsync_on drydock_run
if grep -qv '^0$' "$work/manual_fsync_on.rc"; then echo "  WARNING: manual failed:"; tail -5 "$work/manual_fsync_on.err"; fi
if grep -qv '^[01]$' "$work/drydock_run.rc"; then echo "  WARNING: drydock run exit >1:"; tail -5 "$work/drydock_run.err"; fi
echo "  drydock's own overhead (report.json: duration_ms - apply.duration_ms - rollback.duration_ms):"
: > "$work/ovh"
for ((k = 1; k <= ddn; k++)); do
	f=$work/r.$k/report.json
	[ -f "$f" ] || continue
	# the whole process as the user waits for it (report writing included): /usr/bin/time -v
	wall=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; printf "%.0f", s * 1000 }' "$work/time.$k")
	json_get "$f" '"%.0f %.0f %.0f %s" % (d["duration_ms"], d["rounds"][0]["apply"]["duration_ms"], d["rounds"][0].get("rollback", {}).get("duration_ms", float("nan")), d["status"])' |
	while read -r tot ap rb st; do
		o=$(awk -v t="$tot" -v a="$ap" -v r="$rb" -v w="$wall" 'BEGIN { printf "%.0f %.1f %.0f %.1f", t - a - r, 100 * (t - a - r) / t, w - a - r, 100 * (w - a - r) / w }')
		set -- $o
		printf '    run %d: total %s ms (process %s ms), apply %s ms, rollback %s ms, overhead %s ms = %s %% (process: %s ms = %s %%) (status %s)\n' \
			"$k" "$tot" "$wall" "$ap" "$rb" "$1" "$2" "$3" "$4" "$st"
		echo "$o" >> "$work/ovh"
	done
done
ovh_ms=$(awk '{ print $1 }' "$work/ovh" | median)
ovh_pct=$(awk '{ print $2 }' "$work/ovh" | median)
ovhw_ms=$(awk '{ print $3 }' "$work/ovh" | median)
ovhw_pct=$(awk '{ print $4 }' "$work/ovh" | median)
echo "  overhead median: $ovh_ms ms = $ovh_pct % of the run (target <= 10 %)"
echo "  overhead of the whole process (its wall time - apply - rollback) median: $ovhw_ms ms = $ovhw_pct %"
# where the overhead goes: the slowest non-artifact commands of the last run
f=$work/r.$ddn/report.json
if [ -f "$f" ]; then
	echo "  largest non-artifact steps of the last run (report.json commands[]):"
	python3 - "$f" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
cs = [c for c in d["commands"] if not str(c.get("command", "")).startswith("psql ")]
for c in sorted(cs, key=lambda c: -c.get("duration_ms", 0))[:6]:
    print("    %8.0f ms  %s" % (c.get("duration_ms", 0), str(c.get("command", ""))[:80]))
PY
fi
# (e) peak RSS of these runs, as /usr/bin/time -v reports it
rss=$(for ((k = 1; k <= ddn; k++)); do awk -F': ' '/Maximum resident set size/ { print $2 }' "$work/time.$k"; done | paste -sd' ' -)
echo "  /usr/bin/time -v Maximum resident set size of these drydock runs (kB): $rss (see bench/rss_bench.sh for the driver alone)"
echo "RESULT b $(median < "$work/manual_fsync_on.ms") $(median < "$work/drydock_run.ms") $ovh_pct $ovh_ms"

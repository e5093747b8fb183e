#!/bin/bash
# bench/base_cache_bench.sh [ROUNDS] [N] -- the base cache (issue 17): a
# generated N-table base (default 2,000; bench/gen_tables.sh) and a 5-table
# migration.  Each round uses an empty private cache (XDG_CACHE_HOME) whose
# initdb template is made first, so only the base differs: the first
# `drydock run --base` restores the base and stores it in the cache (a fast
# shutdown, a copy, a new start), the second clones it.  Printed side by side
# with the ratio second/first; target <= 0.20.  Also from report.json: the
# first run's restore (psql) and the copy into the cache, the second's clone.
# Result line:  RESULT basecache <first_ms_median> <second_ms_median> <ratio>
set -euo pipefail
. "$(dirname "$0")/lib.sh"
rounds=${1:-3} n=${2:-2000}
bench_trap
mk_scratch work
register_dir "$work"
gen_up "$n" app "$work/base.sql"
"$BENCH_DIR/gen_tables.sh" 5 mig | sed 's/CREATE SCHEMA mig;//; s/\bmig\./app./g; s/\bt\([1-5]\)\b/new_t\1/g' > "$work/up.sql"
printf 'DROP TABLE app.new_t5, app.new_t4, app.new_t3, app.new_t2, app.new_t1;\n' > "$work/down.sql"
echo "== base cache: $n-table base, 5-table migration; first run (restore + store) vs second run (clone), $rounds rounds"
: > "$work/first" ; : > "$work/second"
for ((k = 1; k <= rounds; k++)); do
	cache="$work/cache.$k"
	mkdir -p "$cache"
	XDG_CACHE_HOME=$cache $DRYDOCK exec --quiet $DD_PGC -- true
	for which in first second; do
		t0=$(now_ms)
		rc=0
		XDG_CACHE_HOME=$cache $DRYDOCK run --quiet $DD_PGC --schema app --base "$work/base.sql" \
			"$work/up.sql" "$work/down.sql" --out "$work/$which.$k" >/dev/null 2>"$work/$which.$k.err" || rc=$?
		ms=$(elapsed_ms "$t0")
		if [ "$rc" -gt 1 ]; then echo "  WARNING: $which run exit $rc:"; tail -3 "$work/$which.$k.err"; fi
		echo "$ms" >> "$work/$which"
		f=$work/$which.$k/report.json
		detail=$(json_get "$f" '"origin %s, cache copy %.0f ms, base restore %s ms" % (d["environment"]["base_cache"]["origin"], d["environment"]["base_cache"]["ms"], "%.0f" % d["artifacts"]["base"]["restore"]["duration_ms"] if d["environment"]["base_cache"]["origin"] == "restored" else "-")')
		printf '  round %d %-6s %8.0f ms  (%s)\n' "$k" "$which" "$ms" "$detail"
	done
	rm -rf "$cache"
done
f=$(median < "$work/first") s=$(median < "$work/second")
printf '  %-28s %10s %10s %8s\n' "" "first" "second" "ratio"
printf '  %-28s %10.0f %10.0f %8s   (target <= 0.20)\n' "median wall ms" "$f" "$s" "$(ratio "$s" "$f")"
echo "RESULT basecache $f $s $(ratio "$s" "$f")"

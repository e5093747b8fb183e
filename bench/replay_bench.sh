#!/bin/bash
# bench/replay_bench.sh [ROUNDS] [SAMPLE] -- issue 10's benchmark: a generated
# history of 150 pairs on a 50-table schema, checked by `drydock replay`,
# side by side with the alternative it replaces: `drydock run` once per pair,
# with the state before the pair (pg_dump --schema-only) as --base.
#
# Running `drydock run` for all 150 pairs every round would take minutes, so
# each round times SAMPLE pairs (default 10, spread over the history) and
# extrapolates their mean to 150; the output says so.  The replay is timed
# with --jobs 2 (parallel checks, issue 17) and --jobs 1 (one pair after
# another) in the same rounds.  Rounds alternate the order of the sides.
# Targets: replay <= 60 s, and <= 1/4 of per-pair runs; the --jobs 2 vs
# --jobs 1 speed-up is reported.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
ROUNDS=${1:-3}
SAMPLE=${2:-10}
TABLES=50
PAIRS=150
work=$(mktemp -d /tmp/dd-replay-bench.XXXXXX)
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT

"$BENCH_DIR/gen_history.sh" $TABLES $PAIRS "$work/history"
# the sampled pairs: versions 2 .. PAIRS+1, evenly spaced
mapfile -t sample < <(awk -v n=$PAIRS -v k="$SAMPLE" 'BEGIN { for (i = 0; i < k; i++) print 2 + int(i * n / k) }')

# The state before each sampled pair, dumped once (setup, not timed).
mkdir -p "$work/dumps"
cat > "$work/dump.sh" <<SCRIPT
set -euo pipefail
for v in \$(seq 1 $((PAIRS + 1))); do
	for s in ${sample[*]}; do
		[ "\$s" = "\$v" ] && pg_dump --schema-only --no-owner -f "$work/dumps/before_\$v.sql"
	done
	psql -X -q -v ON_ERROR_STOP=1 -f "$work/history/\${v}_"*.up.sql
done
SCRIPT
$DRYDOCK exec -q $DD_PGC -- bash "$work/dump.sh"
chmod -R a+rX "$work"

replay_once() {
	local t0; t0=$(now_ms)
	$DRYDOCK replay -q $DD_PGC "$work/history" --schema app --jobs "$1" --out "$work/out-replay$1" >/dev/null || true
	elapsed_ms "$t0"
}
per_pair_once() {
	local t0 total=0 v up down
	for v in "${sample[@]}"; do
		up=$(ls "$work/history/${v}_"*.up.sql); down=$(ls "$work/history/${v}_"*.down.sql)
		t0=$(now_ms)
		$DRYDOCK run -q $DD_PGC --schema app --base "$work/dumps/before_$v.sql" "$up" "$down" \
			--out "$work/out-run" >/dev/null || true
		total=$(awk -v a="$total" -v b="$(elapsed_ms "$t0")" 'BEGIN { print a + b }')
	done
	# extrapolate the sample's mean to the whole history
	awk -v t="$total" -v k="${#sample[@]}" -v n=$PAIRS 'BEGIN { printf "%.1f", t / k * n }'
}

: > "$work/replay.ms"; : > "$work/replay1.ms"; : > "$work/perpair.ms"
for r in $(seq 1 "$ROUNDS"); do
	if [ $((r % 2)) = 1 ]; then
		replay_once 2 >> "$work/replay.ms"; echo >> "$work/replay.ms"
		replay_once 1 >> "$work/replay1.ms"; echo >> "$work/replay1.ms"
		per_pair_once >> "$work/perpair.ms"; echo >> "$work/perpair.ms"
	else
		per_pair_once >> "$work/perpair.ms"; echo >> "$work/perpair.ms"
		replay_once 1 >> "$work/replay1.ms"; echo >> "$work/replay1.ms"
		replay_once 2 >> "$work/replay.ms"; echo >> "$work/replay.ms"
	fi
done
read -r rm rmin rmax rn < <(grep . "$work/replay.ms" | stats)
read -r r1m r1min r1max r1n < <(grep . "$work/replay1.ms" | stats)
read -r pm pmin pmax pn < <(grep . "$work/perpair.ms" | stats)
summary=$(python3 -c "import json;print(json.load(open('$work/out-replay2/report.json'))['replay']['summary'])" 2>/dev/null || echo "?")
same=$(python3 -c "import json;a,b=(json.load(open('$work/out-replay%d/report.json'%j)) for j in (1,2));print('yes' if [(r['version'],r['verdict']) for r in a['rounds']]==[(r['version'],r['verdict']) for r in b['rounds']] else 'NO')" 2>/dev/null || echo "?")
echo "replay benchmark: $PAIRS pairs on a $TABLES-table schema, $ROUNDS rounds (median [min-max])"
printf '  %-52s %10s ms [%s-%s]\n' "drydock replay --jobs 2 (whole history)" "$rm" "$rmin" "$rmax"
printf '  %-52s %10s ms [%s-%s]\n' "drydock replay --jobs 1 (whole history)" "$r1m" "$r1min" "$r1max"
printf '  %-52s %10s ms [%s-%s]\n' "drydock run per pair with --base (${#sample[@]} timed, x$PAIRS/${#sample[@]})" "$pm" "$pmin" "$pmax"
echo "  replay result: $summary (--jobs 1 and 2 give the same verdicts: $same)"
echo "  speed-up --jobs 2 vs --jobs 1: $(awk -v a="$r1m" -v b="$rm" 'BEGIN { printf "%.2fx", a / b }')"
echo "  ratio replay / per-pair runs: $(ratio "$rm" "$pm")  (target <= 0.25)"
echo "  replay <= 60 s: $(awk -v m="$rm" 'BEGIN { print (m <= 60000) ? "yes" : "no" }')"
echo "RESULT r $rm $pm $r1m"

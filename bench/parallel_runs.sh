#!/bin/bash
# bench/parallel_runs.sh [ROUNDS] [K] -- (d) K (default 8) `drydock run`s of
# the 12-table example started at once, ROUNDS times (default 3), interleaved
# with a solo run: every run must end with the solo run's exit code (0) and
# leave nothing behind;
# prints the total wall time of the batch vs one solo run.
# Result line:  RESULT d <ok_batches>/<rounds> <batch_ms_median> <solo_ms_median>
set -euo pipefail
. "$(dirname "$0")/lib.sh"
rounds=${1:-3} k=${2:-8}
bench_trap
mk_scratch work
register_dir "$work"
up=$EX12/up.sql down=$EX12/down.sql
echo "== (d) $k drydock runs started at once on $(nproc) cores ($rounds rounds, interleaved with a solo run)"
solo() { $DRYDOCK run --quiet $DD_PGC --schema app --scaffold-schema "$up" "$down" --out "$work/solo" >/dev/null 2>&1; }
batch() {
	local r=$1 j pids=()
	for ((j = 1; j <= k; j++)); do
		$DRYDOCK run --quiet $DD_PGC --schema app --scaffold-schema "$up" "$down" --out "$work/b$r.$j" >/dev/null 2>"$work/b$r.$j.err" &
		pids+=($!)
	done
	for ((j = 1; j <= k; j++)); do
		rc=0; wait "${pids[$((j - 1))]}" || rc=$?
		echo "$rc" >> "$work/batch$r.rcs"
	done
}
solo_rc=0; solo || solo_rc=$?
ok=0
for ((r = 1; r <= rounds; r++)); do
	t0=$(now_ms); rc=0; solo || rc=$?; elapsed_ms "$t0" >> "$work/solo.ms"; echo >> "$work/solo.ms"
	t0=$(now_ms); batch "$r"; elapsed_ms "$t0" >> "$work/batch.ms"; echo >> "$work/batch.ms"
	codes=$(sort "$work/batch$r.rcs" | uniq -c | awk '{ printf "%s%sx exit %s", (NR > 1 ? ", " : ""), $1, $2 }')
	if ! grep -qv "^$solo_rc\$" "$work/batch$r.rcs"; then ok=$((ok + 1)); verdict=ok; else verdict=FAIL; fi
	echo "  round $r: $codes ($verdict; solo exit $solo_rc)"
	if [ $verdict = FAIL ]; then
		for f in "$work"/b$r.*.err; do if [ -s "$f" ]; then sed "s|^|    $(basename "$f"): |" "$f" | tail -3; fi; done
	fi
done
left=$( (ls -d /dev/shm/drydock-* 2>/dev/null || true) | wc -l)
s=($(stats < "$work/solo.ms")); b=($(stats < "$work/batch.ms"))
echo "  solo run: median ${s[0]} ms (${s[1]}-${s[2]});  $k at once: median ${b[0]} ms (${b[1]}-${b[2]}) = $(ratio "${b[0]}" "${s[0]}")x one run, $(ratio "${b[0]}" "$(awk -v s="${s[0]}" -v k="$k" 'BEGIN { print s * k }')")x $k sequential runs"
echo "  run directories present afterwards (/dev/shm/drydock-*, any owner, incl. other users' live runs): $left"
echo "RESULT d $ok/$rounds ${b[0]} ${s[0]}"

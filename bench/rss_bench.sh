#!/bin/bash
# bench/rss_bench.sh [RUNS12] [RUNS2000] -- (e) peak RSS of `drydock run` on
# the 12-table example (default 3 runs) and a generated 2,000-table migration
# (default 1 run).  Two figures per run:
#  - "time -v": /usr/bin/time -v "Maximum resident set size".  Caution: that
#    is ru_maxrss over the driver AND every descendant it reaped (postmaster,
#    backends, psql, cp, initdb): the largest process of the tree;
#  - "driver": the driver process alone, VmHWM from /proc/PID/status sampled
#    every 10 ms until it exits (the last sample is kept; VmHWM only grows).
# Target: driver <= 16 MB (16384 kB), judged on the worst run: a "verdict:"
# line per size says met or MISSED and by how much.
# Result lines:  RESULT e 12 <timev_kB> <driver_kB>   RESULT e 2000 ...
set -euo pipefail
. "$(dirname "$0")/lib.sh"
r12=${1:-3} r2k=${2:-1}
bench_trap
mk_scratch work
register_dir "$work"
gen_up 2000 bench "$work/up.sql"; gen_down 2000 bench "$work/down.sql"
echo "== (e) peak RSS of drydock run (target: driver <= 16 MB = 16384 kB)"
measure() { # label args...
	local label=$1; shift
	/usr/bin/time -v -o "$work/tv" $DRYDOCK run --quiet $DD_PGC "$@" --out "$work/rep" >/dev/null 2>&1 &
	local tp=$! dp="" hwm=0 v
	while kill -0 "$tp" 2>/dev/null; do
		[ -z "$dp" ] && dp=$(pgrep -P "$tp" 2>/dev/null | head -1 || true)
		if [ -n "$dp" ]; then
			v=$(awk '/^VmHWM:/ { print $2 }' "/proc/$dp/status" 2>/dev/null || true)
			[ -n "$v" ] && hwm=$v
		fi
		sleep 0.01
	done
	wait "$tp" || true
	awk -F': ' '/Maximum resident set size/ { print $2 }' "$work/tv" >> "$work/$label.tv"
	echo "$hwm" >> "$work/$label.drv"
	rm -rf "$work/rep"
}
for ((j = 0; j < r12; j++)); do measure 12 --schema app --scaffold-schema "$EX12/up.sql" "$EX12/down.sql"; done
for ((j = 0; j < r2k; j++)); do measure 2000 --schema bench "$work/up.sql" "$work/down.sql"; done
for l in 12 2000; do
	tv=($(stats < "$work/$l.tv")); dv=($(stats < "$work/$l.drv"))
	printf '  %5s tables: time -v max RSS (process tree) median %s kB (%s-%s);  driver alone VmHWM median %s kB (%s-%s), %s runs\n' \
		"$l" "${tv[0]}" "${tv[1]}" "${tv[2]}" "${dv[0]}" "${dv[1]}" "${dv[2]}" "${dv[3]}"
	echo "RESULT e $l ${tv[0]} ${dv[0]}" >> "$work/results"
	awk -v l="$l" -v worst="${dv[2]}" -v t=16384 'BEGIN {
		if (worst + 0 <= 0) printf "  verdict %5s tables: no measurement\n", l
		else if (worst <= t) printf "  verdict %5s tables: target met, driver VmHWM <= %d kB (worst run %d kB, %d kB = %.0f %% below)\n", l, t, worst, t - worst, 100 * (t - worst) / t
		else printf "  verdict %5s tables: target MISSED, driver VmHWM > %d kB (worst run %d kB, %d kB over)\n", l, t, worst, worst - t }'
done
cat "$work/results"

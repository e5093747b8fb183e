#!/bin/bash
# bench/run_all.sh [--quick] -- run every issue-7 benchmark (a..e and the
# sandbox settings) one after the other and print a summary table with
# target / actual / pass.  --quick: fewer rounds (for a smoke run; quote the
# full run's figures).  Set BENCH_PG_CONFIG to run drydock with --pg-config.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
quick=0
[ "${1:-}" = --quick ] && quick=1
if [ $quick = 1 ]; then ra=3 rb=1 rc=3 rd=2 re12=3 re2k=1 rs=1 rr=1 rbc=1 rp=3; else ra=7 rb=3 rc=5 rd=3 re12=5 re2k=2 rs=3 rr=3 rbc=3 rp=7; fi
bench_trap
mk_scratch work
register_dir "$work"
echo "drydock benchmarks ($( [ $quick = 1 ] && echo quick || echo full )), $(date -u +%FT%TZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(psql --version)"
for step in "bench_12tables.sh $ra" "bench_2000.sh $rb" "verify_compare.sh $rc" "parallel_runs.sh $rd" "rss_bench.sh $re12 $re2k" "settings_bench.sh $rs" "replay_bench.sh $rr" "base_cache_bench.sh $rbc 2000" "post_checks_bench.sh 2000 $rp"; do
	hr
	# shellcheck disable=SC2086
	"$BENCH_DIR"/$step 2>/dev/null | tee -a "$work/all" || echo "  ($step failed with exit $?)" | tee -a "$work/all"
done
r() { awk -v k="$1" -v s="${2:-}" '$1 == "RESULT" && $2 == k && (s == "" || $3 == s)' "$work/all" | tail -1; }
pass() { awk "BEGIN { exit !($1) }" && echo pass || echo MISS; }
hr
echo "SUMMARY"
printf '%-52s %-28s %-30s %s\n' check target actual verdict
set -- $(r a); if [ $# -ge 6 ]; then
	printf '%-52s %-28s %-30s %s\n' "a 12 tables: drydock run (cached) vs manual (fsync on)" "<= 1/3 of manual" "$5 vs $3 ms ($(ratio "$5" "$3"))" "$(pass "$5 * 3 <= $3")"
	printf '%-52s %-28s %-30s %s\n' "a 12 tables: drydock run (cached) vs manual (fsync off)" "<= 1/3 of manual" "$5 vs $4 ms ($(ratio "$5" "$4"))" "$(pass "$5 * 3 <= $4")"
	printf '%-52s %-28s %-30s %s\n' "a 12 tables: drydock run --fresh vs manual (fsync on)" "<= manual" "$6 vs $3 ms ($(ratio "$6" "$3"))" "$(pass "$6 <= $3")"
fi
set -- $(r b); if [ $# -ge 6 ]; then
	printf '%-52s %-28s %-30s %s\n' "b 2,000 tables: drydock run vs manual" "faster" "$4 vs $3 ms ($(ratio "$3" "$4")x)" "$(pass "$4 < $3")"
	printf '%-52s %-28s %-30s %s\n' "b 2,000 tables: drydock's own overhead" "<= 10 % of the run" "$5 % ($6 ms)" "$(pass "$5 <= 10")"
fi
set -- $(r c 2000); if [ $# -ge 7 ]; then
	c2=$4
	printf '%-52s %-28s %-30s %s\n' "c 2,000 tables: verify + fingerprint" "<= 150 ms" "$4 ms" "$(pass "$4 <= 150")"
	printf '%-52s %-28s %-30s %s\n' "c 2,000 tables: vs information_schema battery" ">= 5x faster" "$(ratio "$7" "$4")x ($7 ms)" "$(pass "$7 >= 5 * $4")"
	set -- $(r c 10000); if [ $# -ge 7 ]; then
		printf '%-52s %-28s %-30s %s\n' "c 10,000 tables: verify + fingerprint" "<= 5.5x the 2,000 figure" "$4 ms = $(ratio "$4" "$c2")x" "$(pass "$4 <= 5.5 * $c2")"
		printf '%-52s %-28s %-30s %s\n' "c 10,000 tables: vs information_schema battery" "(info)" "$(ratio "$7" "$4")x ($7 ms)" "-"
	fi
fi
set -- $(r d); if [ $# -ge 5 ]; then
	printf '%-52s %-28s %-30s %s\n' "d 8 runs at once: every run's exit code" "all as a solo run" "$3 batches ok" "$(pass "${3%/*} == ${3#*/}")"
	printf '%-52s %-28s %-30s %s\n' "d 8 runs at once: total wall time" "(info)" "$4 ms ($(ratio "$4" "$5")x one run)" "-"
fi
for s in 12 2000; do set -- $(r e $s); if [ $# -ge 5 ]; then
	printf '%-52s %-28s %-30s %s\n' "e $s tables: driver peak RSS" "<= 16384 kB" "$5 kB (tree: $4 kB)" "$(pass "$5 <= 16384")"
fi; done
set -- $(r r); if [ $# -ge 4 ]; then
	printf '%-52s %-28s %-30s %s\n' "replay: 150 pairs on 50 tables" "<= 60000 ms" "$3 ms" "$(pass "$3 <= 60000")"
	printf '%-52s %-28s %-30s %s\n' "replay vs drydock run per pair with --base" "<= 0.25" "$(ratio "$3" "$4") ($4 ms)" "$(pass "$3 <= 0.25 * $4")"
fi
set -- $(r p 2000); if [ $# -ge 6 ]; then
	printf '%-52s %-28s %-30s %s\n' "p 2,000 tables: verify / pgtap_script / verify_rollback" "(info, warm medians)" "$4 / $5 / $6 ms" "-"
fi
grep '^RESULT s' "$work/all" | while read -r _ _ l m x; do printf '%-52s %-28s %-30s %s\n' "settings: $l" "(info, vs all-lean)" "$m ms (${x}x)" "-"; done

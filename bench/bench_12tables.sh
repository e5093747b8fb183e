#!/bin/bash
# bench/bench_12tables.sh [ROUNDS] -- (a) the 12-table example
# (examples/12-tables): the manual procedure (bench/manual_dryrun.sh, default
# durability = fsync on, as an operator would run it; and a fsync=off variant
# for fairness) vs `drydock run` (cached template) vs `drydock run --fresh`
# (initdb), interleaved, ROUNDS counted rounds (default 5) after one warm-up.
# Prints medians, min-max and ratios.  Result line for run_all.sh on fd 1:
#   RESULT a <manual_ms> <manual_nofsync_ms> <drydock_ms> <drydock_fresh_ms>
set -euo pipefail
. "$(dirname "$0")/lib.sh"
rounds=${1:-5}
bench_trap
mk_scratch work
register_dir "$work"

up=$EX12/up.sql down=$EX12/down.sql
dd="$DRYDOCK run --quiet $DD_PGC --schema app --scaffold-schema $up $down"
echo "== (a) 12-table example: manual procedure vs drydock run ($rounds rounds, interleaved, 1 warm-up)"
echo "   manual = bench/manual_dryrun.sh: initdb into /tmp + pg_ctl + createdb + psql + information_schema battery + down + re-check + stop + rm"
echo "   manual (fsync on) uses DEFAULT DURABILITY as an operator would (initdb syncs, fsync/synchronous_commit/full_page_writes on);"
echo "   manual (fsync off) = initdb --no-sync + -c fsync=off.  drydock: its own sandbox settings (durability off)."
interleave "$rounds" 1 "$work" \
	manual_fsync_on "$BENCH_DIR/manual_dryrun.sh --scaffold-schema $up $down app 12" \
	manual_fsync_off "$BENCH_DIR/manual_dryrun.sh --fsync-off --scaffold-schema $up $down app 12" \
	drydock_run "$dd --out $work/r" \
	drydock_run_fresh "$dd --fresh --out $work/rf"
report_rows "$work" drydock_run manual_fsync_on manual_fsync_off drydock_run drydock_run_fresh
for l in manual_fsync_on manual_fsync_off; do
	if grep -qv '^0$' "$work/$l.rc"; then echo "  WARNING: $l failed:"; sed 's/^/    /' "$work/$l.err" | tail -5; fi
done
for l in drydock_run drydock_run_fresh; do
	if grep -qv '^[01]$' "$work/$l.rc"; then echo "  WARNING: $l exit code >1:"; sed 's/^/    /' "$work/$l.err" | tail -5; fi
done
m1=$(median < "$work/manual_fsync_on.ms"); m2=$(median < "$work/manual_fsync_off.ms")
m3=$(median < "$work/drydock_run.ms"); m4=$(median < "$work/drydock_run_fresh.ms")
echo "RESULT a $m1 $m2 $m3 $m4"

#!/bin/bash
# bench/post_checks_bench.sh [N [RUNS]] -- time the extension's post-apply and
# post-rollback checks as `drydock run` calls them, on a generated N-table
# migration (default 2000; bench/gen_tables.sh and its exact inverse,
# gen_down in lib.sh): drydock.verify(schema, policy, 'pre-apply') and
# drydock.pgtap_script(schema) after the captured apply, and
# drydock.verify_rollback(schema, policy, 'pre-apply') after the captured
# rollback, with the baseline saved before the apply.  Per verify family,
# the time of its query (the extension's DEBUG1 lines "drydock: F checks
# (phase P) took X ms", and "baseline diff" for the diff they share).
# A benchmark, not a test: it prints figures.
#
# Runs against the server of PGHOST/PGPORT/PGUSER (e.g. inside
# `drydock exec -- bench/post_checks_bench.sh`); without PGHOST it starts a
# `drydock exec` sandbox of its own (BENCH_PG_CONFIG honoured), as
# bench/run_all.sh calls it.  The extension must be installed.
# Creates and drops a database of its own.  RUNS (default 7) warm calls of
# each function in one session, after one untimed first call (shown apart:
# it also fills the backend's caches).  Figures: median [min-max] ms of
# wall time (clock_timestamp() in the server) and of the backend's CPU time
# (/proc/self/schedstat read by the backend: needs a superuser; on a shared,
# noisy machine the steadier figure).  POLICY (default '{}') is the policy.
# The md5 of each function's output is printed, so that two builds can be
# compared for identical results.
# Result line:  RESULT p N <verify_ms> <pgtap_ms> <verify_rollback_ms>
set -euo pipefail
. "$(dirname "$0")/lib.sh"
n=${1:-2000}
runs=${2:-${RUNS:-7}}
if [ -z "${PGHOST:-}" ]; then
	# shellcheck disable=SC2086
	exec "$DRYDOCK" exec $DD_PGC --quiet -- "$0" "$n" "$runs"
fi
policy=${POLICY:-'{}'}
psql=(psql -X -q -v ON_ERROR_STOP=1)
db=drydock_pcbench_$$
mk_scratch work
trap '"${psql[@]}" -d postgres -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

gen_up "$n" bench "$work/up.sql"
gen_down "$n" bench "$work/down.sql"
"${psql[@]}" -d postgres -c "CREATE DATABASE $db"
"${psql[@]}" -d "$db" -c "CREATE EXTENSION drydock" -c "SELECT drydock.baseline_save('pre-apply')" >/dev/null
# the artifact runs in a session of its own, as the driver's psql does
phase() {
	"${psql[@]}" -d "$db" -c "SELECT drydock.capture_begin('$1')" >/dev/null
	"${psql[@]}" -d "$db" -f "$2" >/dev/null
	"${psql[@]}" -d "$db" -c "SELECT drydock.capture_end()" >/dev/null
}

# time FUNCNAME SQL: one session, a first call, then RUNS timed calls; the
# family DEBUG lines go to stderr ($work/FUNCNAME.log), timings to stdout
time_calls() {
	"${psql[@]}" -d "$db" -At -v runs="$runs" -v q="$2" -v what="$1" 2>"$work/$1.log" <<'SQL'
SET client_min_messages = debug1;
CREATE TEMP TABLE timings (i int, ms float8, cpu float8);
SELECT set_config('bench.q', :'q', false) \g /dev/null
DO $d$
DECLARE t0 timestamptz; c0 bigint; r bigint;
BEGIN
  FOR i IN 0 .. current_setting('bench.runs')::int LOOP
    c0 := split_part(pg_read_file('/proc/self/schedstat'), ' ', 1)::bigint;
    t0 := clock_timestamp();
    EXECUTE current_setting('bench.q') INTO r;
    INSERT INTO timings VALUES (i, extract(epoch FROM clock_timestamp() - t0) * 1000,
      (split_part(pg_read_file('/proc/self/schedstat'), ' ', 1)::bigint - c0) / 1e6);
  END LOOP;
END $d$;
RESET client_min_messages;
SELECT 'T ' || ms || ' ' || cpu FROM timings ORDER BY i;
SQL
}
export PGOPTIONS="-c bench.runs=$runs"

# report WHAT: wall and backend CPU, median [min-max] of the RUNS timed
# calls, and the first call apart; then the DEBUG1 steps; sets $med
report() {
	local ts first cmed clo chi
	ts=$(grep '^T ' "$work/$1.out" | cut -d' ' -f2-)
	first=$(echo "$ts" | head -1 | cut -d' ' -f1)
	read -r med lo hi cnt <<<"$(echo "$ts" | tail -n +2 | cut -d' ' -f1 | stats)"
	read -r cmed clo chi _ <<<"$(echo "$ts" | tail -n +2 | cut -d' ' -f2 | stats)"
	printf '  %-22s wall %7.1f ms median [%.1f-%.1f], cpu %7.1f ms [%.1f-%.1f]; first call %.1f ms (%d runs)\n' \
		"$1" "$med" "$lo" "$hi" "$cmed" "$clo" "$chi" "$first" "$cnt"
	# the steps of the timed calls (every call but the first)
	{ grep -oE 'drydock: [A-Za-z ]+ \(phase [a-z]+\) took [0-9.]+ ms \(cpu [0-9.-]+ ms\)' "$work/$1.log" || true; } |
		sed -E 's/^drydock: ([A-Za-z ]+) \(phase [a-z]+\) took ([0-9.]+) ms \(cpu ([0-9.-]+) ms\)/\1|\2|\3/' |
		awk -F'|' '
			{ sub(/ checks$/, "", $1); gsub(/ /, "_", $1); seen[$1]++
			  if (seen[$1] > 1) { w[$1] = w[$1] " " $2; c[$1] = c[$1] " " $3; if (!($1 in ord)) { ord[$1] = ++k; name[k] = $1 } } }
			END { for (j = 1; j <= k; j++) print name[j] "|" w[name[j]] "|" c[name[j]] }' |
		while IFS='|' read -r step ws cs; do
			printf '      %-18s wall %7.1f ms, cpu %7.1f ms (medians)\n' "$step" \
				"$(echo "$ws" | tr ' ' '\n' | grep . | median)" "$(echo "$cs" | tr ' ' '\n' | grep . | median)"
		done
}
# md5 WHAT SQL: the md5 of the function's whole output, in its order
md5() {
	printf '  %-22s md5 %s\n' "$1" "$("${psql[@]}" -d "$db" -At -c "$2")"
}

echo "== drydock post-apply / post-rollback checks, $n-table migration ($runs runs, $(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg))"
phase apply "$work/up.sql"
time_calls verify "SELECT count(*) FROM drydock.verify('bench', '$policy', 'pre-apply')" >"$work/verify.out"
report verify
v=$med
time_calls pgtap_script "SELECT octet_length(drydock.pgtap_script('bench'))" >"$work/pgtap_script.out"
report pgtap_script
p=$med
time_calls diff_apply "SELECT count(*) FROM drydock.diff('pre-apply')" >"$work/diff_apply.out"
report diff_apply
md5 verify "SELECT md5(string_agg(v::text, E'\\n' ORDER BY o)) FROM drydock.verify('bench', '$policy', 'pre-apply') WITH ORDINALITY v(family, code, object, status, message, seq, o)"
md5 pgtap_script "SELECT md5(drydock.pgtap_script('bench'))"

phase rollback "$work/down.sql"
time_calls verify_rollback "SELECT count(*) FROM drydock.verify_rollback('bench', '$policy', 'pre-apply')" >"$work/verify_rollback.out"
report verify_rollback
r=$med
time_calls diff_rollback "SELECT count(*) FROM drydock.diff('pre-apply')" >"$work/diff_rollback.out"
report diff_rollback
md5 verify_rollback "SELECT md5(string_agg(v::text, E'\\n' ORDER BY o)) FROM drydock.verify_rollback('bench', '$policy', 'pre-apply') WITH ORDINALITY v(family, code, object, status, message, seq, o)"
echo "RESULT p $n $v $p $r"

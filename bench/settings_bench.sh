#!/bin/bash
# bench/settings_bench.sh [ROUNDS] [N] -- issue 7 part 2: the apply of a
# generated N-table migration (default 2,000) on a hand-made cluster started
# with the sandbox's lean settings (driver/src/sandbox/sandbox.c write_conf), then with
# each setting toggled back to the PostgreSQL default (postgres -c overrides;
# the driver is not changed), plus a few candidate extra settings.  The
# cluster lives where drydock puts its run directory (tmpfs if roomy; set
# TMPDIR=/tmp to measure on disk).  ROUNDS (default 3) interleaved rounds,
# a fresh database per apply.  Prints: setting, median ms, min-max, ratio vs
# all-lean.  Result lines:  RESULT s <label> <median_ms> <ratio>
set -euo pipefail
. "$(dirname "$0")/lib.sh"
rounds=${1:-3} n=${2:-2000}
bench_trap
mk_scratch work
register_dir "$work"
mk_scratch cl "$(fast_base)"
register_dir "$cl"
register_cluster "$cl/data"
gen_up "$n" bench "$work/up.sql"
as_pg "$PG_BINDIR/initdb" -D "$cl/data" -U bench_admin -A trust -E UTF8 --locale=C --no-sync >/dev/null
as_pg mkdir -m 0700 "$cl/sock"
port=$(free_port)
lean="-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c autovacuum=off -c shared_buffers=16MB -c max_connections=20 -c wal_level=minimal -c max_wal_senders=0 -c dynamic_shared_memory_type=mmap -c jit=off"
labels=(all-lean fsync=on synchronous_commit=on full_page_writes=on autovacuum=on shared_buffers=128MB max_connections=100 "wal_level=replica,max_wal_senders=10" dynamic_shared_memory_type=posix jit=on "extra:max_wal_size=32MB" "extra:shared_buffers=2MB" "extra:wal_buffers=16MB" "extra:checkpoint_timeout=1d")
opt_for() {
	case $1 in
	all-lean) echo "" ;;
	"wal_level=replica,max_wal_senders=10") echo "-c wal_level=replica -c max_wal_senders=10" ;;
	extra:*) echo "-c ${1#extra:}" ;;
	*) echo "-c $1" ;;
	esac
}
export PGHOST=$cl/sock PGPORT=$port PGUSER=bench_admin PSQLRC=/dev/null
unset PGDATABASE PGOPTIONS PGSERVICE 2>/dev/null || true
echo "== part 2: sandbox settings, $n-table apply, one setting toggled at a time ($rounds rounds, interleaved; cluster under $(fast_base))"
apply_once() { # label
	local o; o=$(opt_for "$1")
	as_pg "$PG_BINDIR/pg_ctl" -D "$cl/data" -o "-c listen_addresses='' -k $cl/sock -p $port $lean $o" -l "$cl/log" -w -s start
	"$PG_BINDIR/createdb" b
	local t0; t0=$(now_ms)
	psql -X -q -v ON_ERROR_STOP=1 -d b -f "$work/up.sql" >/dev/null
	elapsed_ms "$t0" >> "$work/$2.ms"; echo >> "$work/$2.ms"
	as_pg "$PG_BINDIR/pg_ctl" -D "$cl/data" -m immediate -w -s stop
	# drop the database in a throwaway start (not timed)
	as_pg "$PG_BINDIR/pg_ctl" -D "$cl/data" -o "-c listen_addresses='' -k $cl/sock -p $port $lean" -l "$cl/log" -w -s start
	"$PG_BINDIR/dropdb" b
	as_pg "$PG_BINDIR/pg_ctl" -D "$cl/data" -m fast -w -s stop
}
nl=${#labels[@]}
for ((r = 1; r <= rounds; r++)); do
	for ((k = 0; k < nl; k++)); do
		i=$(( (k + r) % nl ))
		apply_once "${labels[$i]}" "s$i"
	done
	echo "  round $r/$rounds done" >&2
done
ref=$(median < "$work/s0.ms")
printf '  %-38s %10s %19s %12s\n' setting "median ms" "min-max ms" "vs all-lean"
for ((i = 0; i < nl; i++)); do
	s=($(stats < "$work/s$i.ms"))
	printf '  %-38s %10s %19s %11sx\n' "${labels[$i]}" "${s[0]}" "${s[1]}-${s[2]}" "$(ratio "${s[0]}" "$ref")"
	echo "RESULT s ${labels[$i]} ${s[0]} $(ratio "${s[0]}" "$ref")" >> "$work/results"
done
cat "$work/results"

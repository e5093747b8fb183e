#!/bin/bash
# bench/manual_dryrun.sh -- the MANUAL dry-run procedure an operator types
# today (SPEC "The job it replaces"), as a plain shell script, so that it can
# be timed against `drydock run`.  It is the baseline of the benchmarks, not
# a tool: it checks far less than drydock (see bench/README.md).
#
#   bench/manual_dryrun.sh [--fsync-off] [--scaffold-schema] [--base DIR] \
#                          UP.sql DOWN.sql SCHEMA EXPECTED_TABLES
#
# initdb (as postgres when run as root) into DIR (default /tmp), pg_ctl start
# socket-only, createdb, psql -X -v ON_ERROR_STOP=1 -f UP.sql, an
# information_schema verification battery (tables exist, PKs, FKs, column
# types, naming), psql -f DOWN.sql, re-check "0 tables + 0 constraints",
# pg_ctl stop -m immediate, rm -rf.
#
# Durability: by default exactly what an operator gets -- initdb syncs its
# files, the server runs with fsync=on, synchronous_commit=on,
# full_page_writes=on.  --fsync-off is the "fair" variant: initdb --no-sync
# and the server started with -c fsync=off (nothing else changed).
# BENCH_PHASES=1 prints the per-phase times (ms) on stderr.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

fsync_off=0 scaffold=0 base=/tmp
while [ $# -gt 0 ]; do
	case $1 in
	--fsync-off) fsync_off=1; shift ;;
	--scaffold-schema) scaffold=1; shift ;;
	--base) base=$2; shift 2 ;;
	--) shift; break ;;
	-*) echo "manual_dryrun.sh: unknown option $1" >&2; exit 2 ;;
	*) break ;;
	esac
done
[ $# -eq 4 ] || { echo "usage: manual_dryrun.sh [--fsync-off] [--scaffold-schema] [--base DIR] UP.sql DOWN.sql SCHEMA EXPECTED_TABLES" >&2; exit 2; }
up=$(readlink -f "$1") down=$(readlink -f "$2") schema=$3 expect=$4

bench_trap
mk_scratch work "$base"
register_dir "$work"
register_cluster "$work/data"
sock=$work/sock
as_pg mkdir -m 0700 "$sock"
port=$(free_port)
db=dryrun
admin=dryrun_admin
# the files must be readable by the cluster owner's psql (we run psql as
# ourselves, so only the server side matters; copy nothing)

phase_t0=$(now_ms)
phases=""
phase() { phases="$phases $1=$(elapsed_ms "$phase_t0")"; phase_t0=$(now_ms); }

# 1. initdb: throwaway admin role, trust on the local socket only, UTF8.
initdb_opts=(-D "$work/data" -U "$admin" -A trust -E UTF8 --locale=C)
[ $fsync_off = 1 ] && initdb_opts+=(--no-sync)
as_pg "$PG_BINDIR/initdb" "${initdb_opts[@]}" >/dev/null
# no TCP host lines: keep only the local line(s)
as_pg sed -i -E '/^(host|hostssl|hostnossl)[[:space:]]/d' "$work/data/pg_hba.conf"
phase initdb

# 2. start socket-only on a private socket directory.
srv_opts="-c listen_addresses='' -k $sock -p $port"
[ $fsync_off = 1 ] && srv_opts="$srv_opts -c fsync=off"
as_pg "$PG_BINDIR/pg_ctl" -D "$work/data" -o "$srv_opts" -l "$work/server.log" -w -s start
phase start

export PGHOST=$sock PGPORT=$port PGUSER=$admin
unset PGDATABASE PGSERVICE PGSERVICEFILE PGPASSFILE PGOPTIONS 2>/dev/null || true
export PSQLRC=/dev/null
psql=(psql -X -q -v ON_ERROR_STOP=1)
q() { "${psql[@]}" -d "$db" -At -c "$1"; }

# 3. createdb; 4. the isolation facts an operator copies into the log.
"$PG_BINDIR/createdb" "$db"
q "SELECT version(), system_identifier FROM pg_control_system()" >/dev/null
if (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null; then echo "manual: TCP port $port answers" >&2; exit 4; fi
[ $scaffold = 1 ] && q "CREATE SCHEMA $schema" >/dev/null
phase createdb

# 5. apply.
"${psql[@]}" -d "$db" -f "$up" >/dev/null
phase apply

# 6. the information_schema battery.
fail() { echo "manual: check failed: $*" >&2; exit 1; }
n=$(q "SELECT count(*) FROM information_schema.tables WHERE table_schema = '$schema' AND table_type = 'BASE TABLE'")
[ "$n" = "$expect" ] || fail "TV expected $expect tables, found $n"
n=$(q "SELECT count(*) FROM information_schema.tables WHERE table_schema = '$schema' AND table_type <> 'BASE TABLE'")
[ "$n" = 0 ] || fail "TV $n non-base tables"
n=$(q "SELECT count(*) FROM information_schema.tables t WHERE t.table_schema = '$schema' AND t.table_type = 'BASE TABLE'
        AND NOT EXISTS (SELECT 1 FROM information_schema.table_constraints tc
                         WHERE tc.table_schema = t.table_schema AND tc.table_name = t.table_name
                           AND tc.constraint_type = 'PRIMARY KEY')")
[ "$n" = 0 ] || fail "KC $n tables without a primary key"
# FKs as declared: list them (an operator eyeballs this list) and no cross-schema FK
q "SELECT tc.table_name, tc.constraint_name, ccu.table_name
     FROM information_schema.table_constraints tc
     JOIN information_schema.constraint_column_usage ccu
       ON ccu.constraint_schema = tc.constraint_schema AND ccu.constraint_name = tc.constraint_name
    WHERE tc.table_schema = '$schema' AND tc.constraint_type = 'FOREIGN KEY'" >/dev/null
n=$(q "SELECT count(*) FROM information_schema.referential_constraints
        WHERE constraint_schema = '$schema' AND unique_constraint_schema <> '$schema'")
[ "$n" = 0 ] || fail "KC $n cross-schema foreign keys"
q "SELECT constraint_type, count(*) FROM information_schema.table_constraints
    WHERE table_schema = '$schema' GROUP BY 1" >/dev/null
n=$(q "SELECT count(*) FROM information_schema.columns WHERE table_schema = '$schema'
        AND data_type NOT IN ('text', 'timestamp with time zone', 'jsonb', 'boolean', 'integer', 'bigint')")
[ "$n" = 0 ] || fail "CV $n columns of a type outside the allowed set"
n=$(q "SELECT count(*) FROM (
          SELECT table_name AS n FROM information_schema.tables WHERE table_schema = '$schema'
          UNION ALL SELECT column_name FROM information_schema.columns WHERE table_schema = '$schema'
          UNION ALL SELECT constraint_name FROM information_schema.table_constraints WHERE table_schema = '$schema'
                    AND constraint_name !~ '^[0-9]+_[0-9]+_[0-9]+_not_null\$') x
        WHERE n !~ '^[a-z_][a-z0-9_]*\$' OR octet_length(n) = 63")
[ "$n" = 0 ] || fail "NH $n names off the pattern or truncated at 63 bytes"
phase verify

# 7. rollback.
"${psql[@]}" -d "$db" -f "$down" >/dev/null
phase rollback

# 8. re-check: 0 tables + 0 constraints.
n=$(q "SELECT (SELECT count(*) FROM information_schema.tables WHERE table_schema = '$schema')
            + (SELECT count(*) FROM information_schema.table_constraints WHERE table_schema = '$schema')")
[ "$n" = 0 ] || fail "after rollback: $n tables + constraints remain"
phase recheck

# 9. tear down.
as_pg "$PG_BINDIR/pg_ctl" -D "$work/data" -m immediate -w -s stop
rm -rf -- "$work"
phase teardown
[ "${BENCH_PHASES:-0}" = 1 ] && echo "manual phases (ms):$phases" >&2
exit 0

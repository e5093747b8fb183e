#!/bin/bash
# bench/verify_compare.sh [ROUNDS] [N ...] -- (c) drydock.verify() +
# drydock.fingerprint() vs an information_schema battery asking the same
# questions (TV, KC001 PK, KC002 cross-schema FK, CV types, NH names; KC003 is
# left out of the battery: over information_schema it does not finish in
# minutes, so the comparison flatters information_schema), on generated
# schemas of N tables (default 2000 10000), all inside ONE `drydock exec`
# sandbox.  Timed with clock_timestamp() in one session per size, ROUNDS
# rounds (default 5) alternating the two after one warm call each.
# Targets: 2,000 tables verify+fingerprint <= 150 ms and >= 5x faster than
# information_schema; 10,000 tables no worse than linear (<= 5.5x the
# 2,000-table time, i.e. 10 % slack over 5x).
# Result lines:  RESULT c N <dd_ms> <verify_ms> <fingerprint_ms> <infoschema_ms>
set -euo pipefail
. "$(dirname "$0")/lib.sh"
rounds=${1:-5}; shift || true
sizes=${*:-2000 10000}
bench_trap
mk_scratch work
register_dir "$work"
chmod 0777 "$work"
echo "== (c) drydock.verify + drydock.fingerprint vs information_schema battery ($rounds rounds each, one session per size, warm caches)"
cat > "$work/inner.sh" <<'INNER'
set -euo pipefail
rounds=$1 gen=$2; shift 2
psql=(psql -X -q -v ON_ERROR_STOP=1)
for n in "$@"; do
	db=vc_$n
	"${psql[@]}" -d "$PGDATABASE" -c "CREATE DATABASE $db"
	"${psql[@]}" -d "$db" -c "CREATE EXTENSION drydock"
	"$gen" "$n" bench | "${psql[@]}" -d "$db" >/dev/null
	"${psql[@]}" -d "$db" -c "VACUUM ANALYZE" >/dev/null
	"${psql[@]}" -d "$db" -At -v rounds="$rounds" <<'SQL'
CREATE FUNCTION pg_temp.infoschema_battery(s text) RETURNS bigint LANGUAGE plpgsql AS $f$
DECLARE c bigint := 0; k bigint;
BEGIN
  SELECT count(*) INTO k FROM information_schema.tables WHERE table_schema = s AND table_type <> 'BASE TABLE';
  c := c + k;
  SELECT count(*) INTO k FROM information_schema.tables t
   WHERE t.table_schema = s AND NOT EXISTS (
     SELECT 1 FROM information_schema.table_constraints tc
      WHERE tc.table_schema = t.table_schema AND tc.table_name = t.table_name
        AND tc.constraint_type = 'PRIMARY KEY');
  c := c + k;
  SELECT count(*) INTO k FROM information_schema.referential_constraints rc
   WHERE rc.constraint_schema = s AND rc.unique_constraint_schema <> s;
  c := c + k;
  SELECT count(*) INTO k FROM information_schema.columns
   WHERE table_schema = s AND data_type NOT IN ('text', 'timestamp with time zone', 'jsonb', 'boolean', 'integer');
  c := c + k;
  SELECT count(*) INTO k FROM (
    SELECT table_name AS n FROM information_schema.tables WHERE table_schema = s
    UNION ALL SELECT column_name FROM information_schema.columns WHERE table_schema = s
    UNION ALL SELECT constraint_name FROM information_schema.table_constraints WHERE table_schema = s
              AND constraint_name !~ '^[0-9]+_[0-9]+_[0-9]+_not_null$') x
   WHERE n !~ '^[a-z_][a-z0-9_]*$' OR octet_length(n) = 63;
  c := c + k;
  RETURN c;
END $f$;
CREATE TEMP TABLE timings (what text, ms float8);
SELECT set_config('bench.rounds', :'rounds', false) \gset
DO $d$
DECLARE t0 timestamptz; i int;
BEGIN
  PERFORM count(*) FROM drydock.verify('bench');
  PERFORM drydock.fingerprint();
  PERFORM pg_temp.infoschema_battery('bench');
  FOR i IN 1 .. current_setting('bench.rounds')::int LOOP
    t0 := clock_timestamp();
    PERFORM count(*) FROM drydock.verify('bench');
    INSERT INTO timings VALUES ('verify', extract(epoch FROM clock_timestamp() - t0) * 1000);
    t0 := clock_timestamp();
    PERFORM drydock.fingerprint();
    INSERT INTO timings VALUES ('fingerprint', extract(epoch FROM clock_timestamp() - t0) * 1000);
    t0 := clock_timestamp();
    PERFORM pg_temp.infoschema_battery('bench');
    INSERT INTO timings VALUES ('infoschema', extract(epoch FROM clock_timestamp() - t0) * 1000);
  END LOOP;
END $d$;
SELECT 'T ' || what || ' ' || ms FROM timings;
SQL
	"${psql[@]}" -d "$PGDATABASE" -c "DROP DATABASE $db"
done
INNER
$DRYDOCK exec --quiet $DD_PGC -- bash "$work/inner.sh" "$rounds" "$BENCH_DIR/gen_tables.sh" $sizes > "$work/out"
printf '  %7s %12s %16s %16s %16s %16s %9s\n' tables "verify ms" "fingerprint ms" "verify+fp ms" "infoschema ms" "min-max(v+fp)" speedup
prev=""
for n in $sizes; do
	# the rows come in size order; split them per size by counting
	:
done
awk '/^T /' "$work/out" > "$work/rows"
k=0
for n in $sizes; do
	per=$((rounds * 3))
	sed -n "$((k * per + 1)),$(((k + 1) * per))p" "$work/rows" > "$work/rows.$n"
	k=$((k + 1))
	v=$(awk '$2 == "verify" { print $3 }' "$work/rows.$n" | median)
	f=$(awk '$2 == "fingerprint" { print $3 }' "$work/rows.$n" | median)
	i=$(awk '$2 == "infoschema" { print $3 }' "$work/rows.$n" | median)
	# verify+fingerprint per round, then its median
	paste <(awk '$2 == "verify" { print $3 }' "$work/rows.$n") <(awk '$2 == "fingerprint" { print $3 }' "$work/rows.$n") |
		awk '{ printf "%.3f\n", $1 + $2 }' > "$work/both.$n"
	b=($(stats < "$work/both.$n"))
	printf '  %7s %12s %16s %16s %16s %16s %8sx\n' "$n" "$v" "$f" "${b[0]}" "$i" "${b[1]}-${b[2]}" "$(ratio "$i" "${b[0]}")"
	echo "RESULT c $n ${b[0]} $v $f $i" >> "$work/results"
done
cat "$work/results"

#!/bin/sh
# bench/verify_bench.sh [N] -- time drydock.verify() on a schema of N tables
# (default 2000; six columns, PK, UNIQUE, FK each, from bench/gen_tables.sh)
# against the equivalent battery written over information_schema, run side
# by side in the same session.  Not a test: prints figures.
#
# Needs a sandbox in the environment (PGHOST/PGPORT/PGUSER/PGDATABASE), e.g.
#   drydock exec -- bench/verify_bench.sh
# Creates its own database and drops it at the end.
set -eu
n=${1:-2000}
runs=${RUNS:-5}
here=$(cd "$(dirname "$0")" && pwd)
db="drydock_vbench_$$"

psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE $db"
trap 'psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1' EXIT INT TERM

psql -X -q -v ON_ERROR_STOP=1 -d "$db" -c "CREATE EXTENSION drydock"
"$here/gen_tables.sh" "$n" bench | psql -X -q -v ON_ERROR_STOP=1 -d "$db"
psql -X -q -v ON_ERROR_STOP=1 -d "$db" -c "VACUUM ANALYZE"

PGOPTIONS="-c drydock.runs=$runs" psql -X -q -v ON_ERROR_STOP=1 -d "$db" <<'SQL'
-- The information_schema battery: the same questions as TV, KC001, KC002,
-- CV and NH (KC004 and KC005 have no information_schema equivalent:
-- indexes and NOT VALID are not exposed there, so the battery is smaller).
CREATE FUNCTION pg_temp.infoschema_battery(s text) RETURNS bigint LANGUAGE plpgsql AS $f$
DECLARE c bigint := 0; k bigint;
BEGIN
  -- TV: tables and their kind
  SELECT count(*) INTO k FROM information_schema.tables WHERE table_schema = s AND table_type <> 'BASE TABLE';
  c := c + k;
  -- KC001: tables without a primary key
  SELECT count(*) INTO k FROM information_schema.tables t
   WHERE t.table_schema = s AND NOT EXISTS (
     SELECT 1 FROM information_schema.table_constraints tc
      WHERE tc.table_schema = t.table_schema AND tc.table_name = t.table_name
        AND tc.constraint_type = 'PRIMARY KEY');
  c := c + k;
  -- KC002: FK referencing another schema
  SELECT count(*) INTO k FROM information_schema.referential_constraints rc
   WHERE rc.constraint_schema = s AND rc.unique_constraint_schema <> s;
  c := c + k;
  -- KC003 (FK column type vs referenced column) is left out: over
  -- information_schema (referential_constraints x key_column_usage x
  -- columns, twice) it ran for more than 10 minutes on 2,000 tables, so the
  -- comparison below is conservative (it flatters information_schema).
  -- CV: column types outside the allowed set
  SELECT count(*) INTO k FROM information_schema.columns
   WHERE table_schema = s AND data_type NOT IN ('text', 'timestamp with time zone', 'jsonb', 'boolean', 'integer');
  c := c + k;
  -- NH: table, column and constraint names against the pattern
  SELECT count(*) INTO k FROM (
    SELECT table_name AS n FROM information_schema.tables WHERE table_schema = s
    UNION ALL SELECT column_name FROM information_schema.columns WHERE table_schema = s
    UNION ALL SELECT constraint_name FROM information_schema.table_constraints WHERE table_schema = s) x
   WHERE n !~ '^[a-z_][a-z0-9_]*$' OR octet_length(n) = 63;
  c := c + k;
  RETURN c;
END $f$;

CREATE TEMP TABLE timings (what text, ms float8);
DO $d$
DECLARE t0 timestamptz; i int; rows bigint;
BEGIN
  -- warm the caches once each
  PERFORM count(*) FROM drydock.verify('bench');
  PERFORM pg_temp.infoschema_battery('bench');
  FOR i IN 1 .. current_setting('drydock.runs')::int LOOP
    t0 := clock_timestamp();
    SELECT count(*) INTO rows FROM drydock.verify('bench');
    INSERT INTO timings VALUES ('drydock.verify', extract(epoch FROM clock_timestamp() - t0) * 1000);
    t0 := clock_timestamp();
    PERFORM pg_temp.infoschema_battery('bench');
    INSERT INTO timings VALUES ('information_schema battery', extract(epoch FROM clock_timestamp() - t0) * 1000);
  END LOOP;
END $d$;

SELECT count(*) AS tables FROM pg_class WHERE relnamespace = 'bench'::regnamespace AND relkind = 'r';
SELECT what, count(*) AS runs, round(min(ms)::numeric, 1) AS min_ms,
       round((percentile_cont(0.5) WITHIN GROUP (ORDER BY ms))::numeric, 1) AS median_ms,
       round(max(ms)::numeric, 1) AS max_ms
  FROM timings GROUP BY what ORDER BY what DESC;
SELECT round((SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FROM timings WHERE what <> 'drydock.verify')::numeric
           / (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FROM timings WHERE what = 'drydock.verify')::numeric, 1)
       AS speedup_median;
SELECT status, count(*) FROM drydock.verify('bench') GROUP BY status ORDER BY status;
SQL

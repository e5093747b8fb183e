-- Synthetic rows: counts and constraint satisfaction, never the values.
CREATE SCHEMA syn;
CREATE TYPE syn.mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN syn.posint AS integer CHECK (VALUE > 0);
CREATE TABLE syn.customers (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email text NOT NULL UNIQUE,
    name varchar(20),
    mood syn.mood NOT NULL,
    score syn.posint,
    status text NOT NULL CHECK (status IN ('new', 'active', 'gone')),
    tags text[],
    born date,
    seen timestamptz NOT NULL DEFAULT now(),
    doc jsonb,
    ok boolean NOT NULL,
    ref uuid UNIQUE,
    price numeric(12,2) CHECK (price >= 0)
);
CREATE TABLE syn.orders (
    id serial PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES syn.customers,
    parent_id integer REFERENCES syn.orders,
    note text
);
-- a composite key referenced by a composite foreign key
CREATE TABLE syn.pairs (a integer, b text, PRIMARY KEY (a, b));
CREATE TABLE syn.pair_refs (id integer PRIMARY KEY, a integer NOT NULL, b text NOT NULL,
                            FOREIGN KEY (a, b) REFERENCES syn.pairs);
-- what cannot be generated: an exotic type, a rejecting trigger, a complex
-- CHECK, a table whose NOT NULL foreign key references one of those
CREATE TABLE syn.shapes (id integer PRIMARY KEY, area polygon NOT NULL);
CREATE TABLE syn.shape_refs (id integer PRIMARY KEY, shape_id integer NOT NULL REFERENCES syn.shapes);
CREATE TABLE syn.guarded (id integer PRIMARY KEY);
CREATE FUNCTION syn.reject() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RAISE EXCEPTION 'no rows here'; END$$;
CREATE TRIGGER guarded_reject BEFORE INSERT ON syn.guarded FOR EACH ROW EXECUTE FUNCTION syn.reject();
CREATE TABLE syn.checked (id integer PRIMARY KEY, lo integer NOT NULL, hi integer NOT NULL, CHECK (hi - lo > 1000));
-- a table the base fills itself is kept as it is
CREATE TABLE syn.preset (id integer PRIMARY KEY);
INSERT INTO syn.preset VALUES (1), (2);
-- a foreign-key cycle
CREATE TABLE syn.cyc_a (id integer PRIMARY KEY, b_id integer);
CREATE TABLE syn.cyc_b (id integer PRIMARY KEY, a_id integer REFERENCES syn.cyc_a);
ALTER TABLE syn.cyc_a ADD FOREIGN KEY (b_id) REFERENCES syn.cyc_b;

SELECT * FROM drydock.synthesize(20) ORDER BY table_name;

-- counts per table, and NULL shares of nullable columns (10% by default)
SELECT count(*) AS customers, count(name) AS named, count(DISTINCT email) AS emails,
       count(DISTINCT ref) AS refs, count(DISTINCT mood) AS moods,
       bool_and(status IN ('new', 'active', 'gone')) AS statuses_allowed
  FROM syn.customers;
-- duplicates in a non-unique column, none in the unique ones
SELECT count(DISTINCT born) < count(born) AS born_has_duplicates FROM syn.customers;
-- foreign keys hold, self-references are NULL
SELECT count(*) AS orders, count(parent_id) AS with_parent,
       count(*) FILTER (WHERE customer_id NOT IN (SELECT id FROM syn.customers)) AS dangling
  FROM syn.orders;
SELECT count(*) FROM syn.pair_refs r JOIN syn.pairs p USING (a, b);
SELECT count(*) AS preset FROM syn.preset;

-- statistics shape the rows: null_frac 0.5, 3 distinct values
TRUNCATE syn.orders, syn.customers;
DELETE FROM syn.pair_refs; DELETE FROM syn.pairs;
SELECT table_name, rows_inserted, status FROM drydock.synthesize(40,
    '{"tables": [{"schema": "syn", "name": "orders",
                  "columns": [{"name": "note", "null_frac": 0.5, "n_distinct": 3}]}]}')
 WHERE table_name = 'syn.orders';
SELECT count(*) AS orders, count(note) AS notes, count(DISTINCT note) AS distinct_notes FROM syn.orders;
-- negative n_distinct: a fraction of the rows
TRUNCATE syn.orders;
SELECT status FROM drydock.synthesize(40,
    '{"tables": [{"schema": "syn", "name": "orders",
                  "columns": [{"name": "note", "null_frac": 0, "n_distinct": -0.25}]}]}')
 WHERE table_name = 'syn.orders';
SELECT count(note) AS notes, count(DISTINCT note) AS distinct_notes FROM syn.orders;

-- bad arguments
\set VERBOSITY terse
SELECT * FROM drydock.synthesize(0);
SELECT * FROM drydock.synthesize(5, '{"tables": 3}');
-- every type drydock generates, one column each
CREATE TABLE syn.types (i2 int2, i4 int4, i8 int8, nu numeric, f4 float4, f8 float8, mo money,
    o oid, bo bool, t text, n name, vc varchar(5), bc char(3), ch "char", by bytea, u uuid,
    d date, ts timestamp, tz timestamptz, ti time, tt timetz, iv interval, j json, jb jsonb,
    x xml, ip inet, ci cidr, mac macaddr, tv tsvector, bi bit(4), vb varbit, pt point,
    ia integer[], ta text[]);
SELECT table_name, rows_inserted, status, detail FROM drydock.synthesize(5) WHERE table_name = 'syn.types';
SELECT count(*) FROM syn.types;
\set VERBOSITY terse
DROP SCHEMA syn CASCADE;
\set VERBOSITY default

-- calibration: every kind of work timed at each row count, the copy gone
CREATE SCHEMA cal;
CREATE TABLE cal.t (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL, n integer);
SELECT n_rows, table_bytes > 0 AS sized, indexes_bytes > 0 AS indexed,
       rewrite_ms >= 0 AND scan_ms >= 0 AND index_ms >= 0 AS timed, detail
  FROM drydock.calibrate('cal.t', '{100,1000}');
SELECT count(*) AS scratch_left FROM pg_namespace WHERE nspname = 'drydock_calibration';
SELECT count(*) AS rows_in_original FROM cal.t;
-- a shape that cannot be generated says why
CREATE TABLE cal.poly (p polygon NOT NULL);
SELECT n_rows, table_bytes, detail FROM drydock.calibrate('cal.poly', '{100,1000}');
DROP SCHEMA cal CASCADE;

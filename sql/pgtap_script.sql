-- pgtap_script(): the generated pgTAP script, deterministic text.
CREATE SCHEMA tapgen;
CREATE TABLE tapgen.customers (id integer PRIMARY KEY, email text NOT NULL UNIQUE, note text);
CREATE TABLE tapgen.orders (
    id integer PRIMARY KEY,
    customer_id integer NOT NULL REFERENCES tapgen.customers,
    placed_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (customer_id, placed_at)
);
CREATE INDEX orders_placed_at_idx ON tapgen.orders (placed_at);
CREATE INDEX orders_lower_idx ON tapgen.orders (lower(customer_id::text));
CREATE TABLE tapgen.nokey (v text);
\pset format unaligned
\pset tuples_only on
SELECT drydock.pgtap_script('tapgen');
\pset format aligned
\pset tuples_only off
-- the same schema gives the same text
SELECT drydock.pgtap_script('tapgen') = drydock.pgtap_script('tapgen') AS stable;
SELECT drydock.pgtap_script('no_such_schema');
DROP SCHEMA tapgen CASCADE;

-- A schema large enough that the script outgrows SPI's first memory block:
-- the result must survive SPI_finish() (it once was read after it).
CREATE SCHEMA big;
DO $$
BEGIN
  FOR i IN 1..300 LOOP
    EXECUTE format('CREATE TABLE big.t%s (id integer PRIMARY KEY, name text NOT NULL UNIQUE)', i);
  END LOOP;
END
$$;
SELECT length(s) > 100000 AS long_script,
       (regexp_match(s, 'SELECT plan\((\d+)\)'))[1]::int AS planned,
       s LIKE '%SELECT * FROM finish();%' AS finished
  FROM drydock.pgtap_script('big') AS s;
SET client_min_messages = warning;
DROP SCHEMA big CASCADE;
RESET client_min_messages;

-- Names that need quoting as literals and as identifiers (quotes,
-- backslashes, spaces, upper case), a foreign key into another schema, a
-- composite UNIQUE, expression, partial and INCLUDE indexes, a dropped
-- column, a table without columns, a partitioned table and its partition,
-- a domain-typed column (qualified: its schema is not on the search_path).
CREATE SCHEMA tap_other;
CREATE TABLE tap_other.ref (a int, b text, PRIMARY KEY (a, b));
CREATE SCHEMA "Tap Ex";
CREATE DOMAIN "Tap Ex".posint AS integer CHECK (VALUE > 0);
CREATE TABLE "Tap Ex"."We'ird\Tbl" ("Col""Q" int PRIMARY KEY, "back\slash" varchar(12) NOT NULL,
    arr int[], d "Tap Ex".posint, n numeric(10,2), ts timestamp(3) without time zone);
CREATE TABLE "Tap Ex".child (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, ra int, rb text,
    w int REFERENCES "Tap Ex"."We'ird\Tbl", FOREIGN KEY (ra, rb) REFERENCES tap_other.ref (a, b),
    UNIQUE (rb, ra));
CREATE INDEX child_expr ON "Tap Ex".child ((lower(rb)));
CREATE INDEX child_partial ON "Tap Ex".child (ra) WHERE ra > 0;
CREATE UNIQUE INDEX child_incl ON "Tap Ex".child (w) INCLUDE (rb);
CREATE INDEX "child mixed" ON "Tap Ex".child (ra, (rb || 'x'), w);
CREATE TABLE "Tap Ex".empty ();
CREATE TABLE "Tap Ex".parted (k int, v text, PRIMARY KEY (k)) PARTITION BY RANGE (k);
CREATE TABLE "Tap Ex".parted_1 PARTITION OF "Tap Ex".parted FOR VALUES FROM (0) TO (10);
CREATE TABLE "Tap Ex".dropped (a int, b int, c int PRIMARY KEY);
ALTER TABLE "Tap Ex".dropped DROP COLUMN b;
CREATE VIEW "Tap Ex".v AS SELECT 1 AS x;
CREATE TABLE "Tap Ex".selfref (id int PRIMARY KEY, p int REFERENCES "Tap Ex".selfref);
CREATE TABLE "Tap Ex"."AA" (x int);
CREATE TABLE "Tap Ex".aa (x int);
CREATE TABLE "Tap Ex"."_a" (x int);
\pset format unaligned
\pset tuples_only on
SELECT drydock.pgtap_script('Tap Ex');
\pset format aligned
\pset tuples_only off
SET client_min_messages = warning;
DROP SCHEMA "Tap Ex" CASCADE;
DROP SCHEMA tap_other CASCADE;
RESET client_min_messages;

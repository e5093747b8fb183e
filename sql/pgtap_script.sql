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

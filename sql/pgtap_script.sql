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

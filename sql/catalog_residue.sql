-- catalog_residue: OID independence, changes that must show, rollback
-- residue, and the API's errors.
\set VERBOSITY terse
CREATE FUNCTION pg_temp.m(t text) RETURNS text LANGUAGE sql
    AS $$ SELECT regexp_replace(t, '\m' || current_user || '\M', 'SU', 'g') $$;

-- 1. The same DDL dropped and re-created gives the same fingerprint, even
--    after other objects moved the OID counter on.
CREATE FUNCTION pg_temp.make_app() RETURNS void LANGUAGE plpgsql AS $f$
BEGIN
    CREATE SCHEMA app;
    CREATE TYPE app.status AS ENUM ('new', 'paid');
    CREATE SEQUENCE app.invoice_no;
    CREATE TABLE app.customers (id serial PRIMARY KEY, email text NOT NULL UNIQUE, name text);
    CREATE TABLE app.invoices (id int PRIMARY KEY DEFAULT nextval('app.invoice_no'),
        customer_id int NOT NULL REFERENCES app.customers ON DELETE RESTRICT,
        status app.status NOT NULL DEFAULT 'new', total numeric(12,2) CHECK (total >= 0));
    CREATE INDEX invoices_customer_idx ON app.invoices (customer_id);
    CREATE FUNCTION app.total(c int) RETURNS numeric LANGUAGE sql STABLE
        AS 'SELECT sum(total) FROM app.invoices WHERE customer_id = c';
    CREATE VIEW app.open_invoices AS SELECT * FROM app.invoices WHERE status = 'new';
    COMMENT ON TABLE app.invoices IS 'one row per invoice';
END $f$;
SELECT pg_temp.make_app();
SELECT drydock.fingerprint('{app}') AS fp1 \gset
SELECT count(*) AS objects FROM drydock.catalog_objects('{app}');
DROP SCHEMA app CASCADE;
CREATE TABLE public.cat_filler AS SELECT 1 AS x;
DROP TABLE public.cat_filler;
SELECT pg_temp.make_app();
SELECT drydock.fingerprint('{app}') = :'fp1' AS same_fingerprint;

-- 2. Changes that must show up, against a baseline.
SELECT length(drydock.baseline_save('cat_changes')) AS fingerprint_length;
-- a column dropped and re-added at the end is not the same column
ALTER TABLE app.customers DROP COLUMN email;
ALTER TABLE app.customers ADD COLUMN email text NOT NULL;
ALTER TABLE app.customers ADD CONSTRAINT customers_email_key UNIQUE (email);
-- a NOT VALID constraint, a renamed index, a grant, a comment
ALTER TABLE app.invoices ADD CONSTRAINT invoices_total_cap CHECK (total < 1000000) NOT VALID;
ALTER INDEX app.invoices_customer_idx RENAME TO invoices_by_customer;
GRANT SELECT ON app.open_invoices TO PUBLIC;
COMMENT ON FUNCTION app.total(int) IS 'sum of invoices';
SELECT change, kind, identity, pg_temp.m(before) AS before, pg_temp.m(after) AS after
  FROM drydock.diff('cat_changes', '{app}');
SELECT drydock.baseline_drop('cat_changes');
DROP SCHEMA app CASCADE;

-- 3. A rollback that forgets a sequence, a function and an enum type: the
--    migration creates them, two tables and an index; the rollback drops
--    only the tables.  The residue is exactly those three objects; the
--    index went with its table.
CREATE SCHEMA shop;
SELECT length(drydock.baseline_save('cat_rb')) AS fingerprint_length;
SELECT drydock.fingerprint() AS fp_before \gset
-- migration
CREATE SEQUENCE shop.order_no;
CREATE TYPE shop.order_state AS ENUM ('open', 'shipped');
CREATE TABLE shop.orders (id int PRIMARY KEY DEFAULT nextval('shop.order_no'),
    state shop.order_state NOT NULL, placed_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE shop.lines (order_id int REFERENCES shop.orders, sku text NOT NULL);
CREATE INDEX orders_placed_idx ON shop.orders (placed_at);
CREATE FUNCTION shop.next_order() RETURNS int LANGUAGE sql AS $$SELECT nextval('shop.order_no')::int$$;
SELECT change, kind, identity FROM drydock.diff('cat_rb');
-- rollback (incomplete)
DROP TABLE shop.lines;
DROP TABLE shop.orders;
SELECT change, kind, identity, pg_temp.m(after) AS after FROM drydock.diff('cat_rb');
SELECT drydock.fingerprint() = :'fp_before' AS fingerprint_back;
-- finishing the rollback brings the state back
DROP FUNCTION shop.next_order();
DROP TYPE shop.order_state;
DROP SEQUENCE shop.order_no;
SELECT count(*) AS residue FROM drydock.diff('cat_rb');
SELECT drydock.fingerprint() = :'fp_before' AS fingerprint_back;

-- 4. Schemas filter: only rows of those schemas, no roles; an empty array
--    selects nothing.  A schema gone since the baseline is accepted by diff.
SELECT DISTINCT schema FROM drydock.catalog_objects('{shop}');
SELECT count(*) FROM drydock.catalog_objects('{}');
DROP SCHEMA shop;
SELECT change, kind, identity FROM drydock.diff('cat_rb', '{shop}');
SELECT drydock.baseline_drop('cat_rb');

-- 5. Errors
SELECT * FROM drydock.catalog_objects('{no_such_schema}');
SELECT drydock.fingerprint(ARRAY['public', NULL]::name[]);
SELECT * FROM drydock.diff('cat_no_such_label');
SELECT drydock.baseline_drop('cat_no_such_label');
SELECT drydock.baseline_save(NULL);
SELECT drydock.baseline_save('');
SELECT length(drydock.baseline_save('cat_dup'));
SELECT drydock.baseline_save('cat_dup');
SELECT * FROM drydock.diff('cat_dup', '{no_such_schema}');
SELECT drydock.baseline_drop('cat_dup');
SELECT count(*) AS baselines_left FROM drydock.baseline WHERE label LIKE 'cat\_%';

-- catalog_kinds: for each kind of object, one change shows up in
-- drydock.diff() as exactly that change and nothing else; undoing it
-- empties the diff and brings the fingerprint back.
\set VERBOSITY terse
-- Outputs name the current (super)user; mask it so the expected output
-- does not depend on who runs the suite.
CREATE FUNCTION pg_temp.m(t text) RETURNS text LANGUAGE sql
    AS $$ SELECT regexp_replace(t, '\m' || current_user || '\M', 'SU', 'g') $$;
CREATE FUNCTION pg_temp.d() RETURNS TABLE(change text, kind text, identity text, before text, after text)
    LANGUAGE sql AS $$ SELECT change, kind, pg_temp.m(identity), pg_temp.m(before), pg_temp.m(after)
                         FROM drydock.diff('cat_kinds') $$;

CREATE ROLE regress_cat_reader;
CREATE SCHEMA ck;
CREATE TABLE ck.customers (id int PRIMARY KEY, email text NOT NULL, note text DEFAULT 'x');
CREATE TABLE ck.orders (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, customer_id int,
                        amount numeric(10,2) CHECK (amount >= 0));
CREATE TABLE ck.events (id int, at date NOT NULL) PARTITION BY RANGE (at);
CREATE TABLE ck.events_2024 PARTITION OF ck.events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TYPE ck.mood AS ENUM ('sad', 'ok');
CREATE SEQUENCE ck.seq;
CREATE FUNCTION ck.f(a int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT a';
CREATE FUNCTION ck.trgf() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;
CREATE FUNCTION ck.evtf() RETURNS event_trigger LANGUAGE plpgsql AS $$BEGIN END$$;

-- the canonical rows of the schema
SELECT kind, identity, schema, parent, pg_temp.m(definition) AS definition
  FROM drydock.catalog_objects('{ck}');

SELECT length(drydock.baseline_save('cat_kinds')) AS fingerprint_length;
SELECT drydock.fingerprint() AS fp0 \gset
SELECT * FROM pg_temp.d();

-- schema
CREATE SCHEMA ck2;
SELECT * FROM pg_temp.d();
DROP SCHEMA ck2;
SELECT * FROM pg_temp.d();
-- table
CREATE TABLE ck.empty ();
SELECT * FROM pg_temp.d();
DROP TABLE ck.empty;
-- column added, then its type, default, NOT NULL changed one at a time
ALTER TABLE ck.customers ADD COLUMN age int;
SELECT * FROM pg_temp.d();
ALTER TABLE ck.customers DROP COLUMN age;
ALTER TABLE ck.customers ALTER COLUMN note TYPE varchar(20);
SELECT * FROM pg_temp.d();
ALTER TABLE ck.customers ALTER COLUMN note TYPE text;
ALTER TABLE ck.customers ALTER COLUMN note SET DEFAULT 'y';
SELECT * FROM pg_temp.d();
ALTER TABLE ck.customers ALTER COLUMN note SET DEFAULT 'x';
ALTER TABLE ck.customers ALTER COLUMN note SET NOT NULL;
SELECT * FROM pg_temp.d();
ALTER TABLE ck.customers ALTER COLUMN note DROP NOT NULL;
SELECT * FROM pg_temp.d();
SELECT drydock.fingerprint() = :'fp0' AS fingerprint_back;
-- constraints: NOT VALID check, unique (its index is the constraint's), FK
ALTER TABLE ck.customers ADD CONSTRAINT customers_id_check CHECK (id > 0) NOT VALID;
SELECT * FROM pg_temp.d();
ALTER TABLE ck.customers VALIDATE CONSTRAINT customers_id_check;
SELECT * FROM pg_temp.d();
ALTER TABLE ck.customers DROP CONSTRAINT customers_id_check;
ALTER TABLE ck.customers ADD CONSTRAINT customers_email_key UNIQUE (email);
SELECT * FROM pg_temp.d();
ALTER TABLE ck.customers DROP CONSTRAINT customers_email_key;
ALTER TABLE ck.orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id)
    REFERENCES ck.customers (id) ON DELETE CASCADE DEFERRABLE;
SELECT * FROM pg_temp.d();
ALTER TABLE ck.orders DROP CONSTRAINT orders_customer_fk;
-- index
CREATE INDEX customers_note_idx ON ck.customers (lower(note)) WHERE note IS NOT NULL;
SELECT * FROM pg_temp.d();
DROP INDEX ck.customers_note_idx;
-- sequence parameters, and a rename
ALTER SEQUENCE ck.seq INCREMENT 5;
SELECT * FROM pg_temp.d();
ALTER SEQUENCE ck.seq INCREMENT 1;
ALTER SEQUENCE ck.seq RENAME TO seq2;
SELECT * FROM pg_temp.d();
ALTER SEQUENCE ck.seq2 RENAME TO seq;
-- views
CREATE VIEW ck.v AS SELECT id, email FROM ck.customers;
CREATE MATERIALIZED VIEW ck.mv AS SELECT count(*) AS n FROM ck.orders;
SELECT * FROM pg_temp.d();
DROP VIEW ck.v;
DROP MATERIALIZED VIEW ck.mv;
-- function body and attributes, procedure
CREATE OR REPLACE FUNCTION ck.f(a int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT a + 1';
SELECT * FROM pg_temp.d();
CREATE OR REPLACE FUNCTION ck.f(a int) RETURNS int LANGUAGE sql STABLE AS 'SELECT a';
SELECT * FROM pg_temp.d();
CREATE OR REPLACE FUNCTION ck.f(a int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT a';
CREATE PROCEDURE ck.p(INOUT n int) LANGUAGE sql AS 'SELECT n';
SELECT * FROM pg_temp.d();
DROP PROCEDURE ck.p(int);
-- types: enum label (re-created to undo), domain with constraint, composite, range
ALTER TYPE ck.mood ADD VALUE 'happy' BEFORE 'ok';
SELECT * FROM pg_temp.d();
DROP TYPE ck.mood;
CREATE TYPE ck.mood AS ENUM ('sad', 'ok');
CREATE DOMAIN ck.posint AS int NOT NULL DEFAULT 1 CONSTRAINT posint_check CHECK (VALUE > 0);
CREATE TYPE ck.pair AS (a int, b text COLLATE "C");
CREATE TYPE ck.floatrange AS RANGE (subtype = float8, subtype_diff = float8mi);
SELECT * FROM pg_temp.d();
DROP DOMAIN ck.posint;
DROP TYPE ck.pair;
DROP TYPE ck.floatrange;
-- trigger, rule
CREATE TRIGGER customers_touch BEFORE UPDATE ON ck.customers FOR EACH ROW EXECUTE FUNCTION ck.trgf();
CREATE RULE orders_no_delete AS ON DELETE TO ck.orders DO INSTEAD NOTHING;
SELECT * FROM pg_temp.d();
DROP TRIGGER customers_touch ON ck.customers;
DROP RULE orders_no_delete ON ck.orders;
-- row-level security and a policy
ALTER TABLE ck.customers ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_rows ON ck.customers FOR SELECT TO regress_cat_reader USING (email = current_user);
SELECT * FROM pg_temp.d();
DROP POLICY own_rows ON ck.customers;
ALTER TABLE ck.customers DISABLE ROW LEVEL SECURITY;
-- grants on a table and a column, owner, comment
GRANT SELECT ON ck.customers TO regress_cat_reader;
GRANT UPDATE (note) ON ck.customers TO regress_cat_reader;
SELECT * FROM pg_temp.d();
REVOKE SELECT ON ck.customers FROM regress_cat_reader;
REVOKE UPDATE (note) ON ck.customers FROM regress_cat_reader;
SELECT * FROM pg_temp.d();
ALTER TABLE ck.orders OWNER TO regress_cat_reader;
SELECT * FROM pg_temp.d();
ALTER TABLE ck.orders OWNER TO CURRENT_USER;
COMMENT ON COLUMN ck.customers.email IS 'where we write';
SELECT * FROM pg_temp.d();
COMMENT ON COLUMN ck.customers.email IS NULL;
-- default privileges
ALTER DEFAULT PRIVILEGES IN SCHEMA ck GRANT SELECT ON TABLES TO regress_cat_reader;
SELECT * FROM pg_temp.d();
ALTER DEFAULT PRIVILEGES IN SCHEMA ck REVOKE SELECT ON TABLES FROM regress_cat_reader;
-- extension: one row, its member objects are not listed
CREATE EXTENSION citext SCHEMA ck;
SELECT * FROM pg_temp.d();
DROP EXTENSION citext;
-- role, publication, event trigger (database- and cluster-wide)
CREATE ROLE regress_cat_new LOGIN CONNECTION LIMIT 3 IN ROLE regress_cat_reader;
SELECT * FROM pg_temp.d();
DROP ROLE regress_cat_new;
CREATE PUBLICATION regress_cat_pub FOR TABLE ck.customers WITH (publish = 'insert');
SELECT * FROM pg_temp.d();
DROP PUBLICATION regress_cat_pub;
CREATE EVENT TRIGGER regress_cat_evt ON ddl_command_start WHEN TAG IN ('CREATE TABLE')
    EXECUTE FUNCTION ck.evtf();
SELECT * FROM pg_temp.d();
DROP EVENT TRIGGER regress_cat_evt;

-- everything undone
SELECT * FROM pg_temp.d();
SELECT drydock.fingerprint() = :'fp0' AS fingerprint_back;

SELECT drydock.baseline_drop('cat_kinds');
DROP SCHEMA ck CASCADE;
DROP ROLE regress_cat_reader;

-- DDL capture: phases, command tags, identities, CASCADE drops, rewrites
-- and the locks held on relations that existed when the phase began.
SELECT drydock.capture_reset();
CREATE SCHEMA cap;
CREATE TABLE cap.customers (id integer PRIMARY KEY, name text);
CREATE TABLE cap.orders (id integer PRIMARY KEY, customer_id integer REFERENCES cap.customers);

-- nothing is captured outside a phase
CREATE TABLE cap.ignored (id integer);
DROP TABLE cap.ignored;
SELECT count(*) FROM drydock.ddl_log;

SELECT drydock.capture_begin('apply');
-- the DDL runs in ANOTHER session (\c opens a new connection)
\c
CREATE TABLE cap.invoices (id integer PRIMARY KEY, customer_id integer NOT NULL REFERENCES cap.customers);
CREATE INDEX invoices_customer_id_idx ON cap.invoices (customer_id);
-- a rewrite of a pre-existing table, with its AccessExclusiveLock
ALTER TABLE cap.customers ALTER COLUMN id TYPE bigint;
-- adding a nullable column without default: no rewrite
ALTER TABLE cap.customers ADD COLUMN note text;
\c
SELECT drydock.capture_end();

SELECT drydock.capture_begin('rollback');
\c
BEGIN;
DROP TABLE cap.invoices;
-- a CASCADE drop of a pre-existing table: the FK of orders goes with it
DROP TABLE cap.customers CASCADE;
COMMIT;
\c
SELECT drydock.capture_end();

SELECT * FROM drydock.ddl_log ORDER BY seq;
-- the view has exactly the documented columns, in order
SELECT attname FROM pg_attribute WHERE attrelid = 'drydock.ddl_log'::regclass AND attnum > 0 ORDER BY attnum;

-- capture_begin needs a phase name
SELECT drydock.capture_begin('');

DROP SCHEMA cap CASCADE;
SELECT drydock.capture_reset();

-- GRANT and REVOKE are collected without an object: captured, not an error
CREATE ROLE cap_grantee NOLOGIN;
SELECT drydock.capture_reset();
CREATE SCHEMA cap_g;
SELECT drydock.capture_begin('apply');
GRANT USAGE ON SCHEMA cap_g TO cap_grantee;
REVOKE USAGE ON SCHEMA cap_g FROM cap_grantee;
SELECT drydock.capture_end();
SELECT phase, command_tag, object_type, identity, cascade, rewrite FROM drydock.ddl_log ORDER BY seq;
DROP SCHEMA cap_g;
DROP ROLE cap_grantee;
-- locks are recorded once per statement, and only those it RAISED: two
-- ALTERs of the same pre-existing table in one transaction record its
-- AccessExclusiveLock once (on the first); a CREATE INDEX then raises
-- nothing new on it.  A DROP's locks go on a row of its own (event
-- ddl_command_end, no object); its sql_drop rows carry none.
SELECT drydock.capture_reset();
CREATE SCHEMA cap_l;
CREATE TABLE cap_l.base (id integer PRIMARY KEY, a text);
CREATE TABLE cap_l.gone (id integer PRIMARY KEY);
SELECT drydock.capture_begin('apply');
\c
BEGIN;
ALTER TABLE cap_l.base ADD COLUMN b text;
ALTER TABLE cap_l.base ADD COLUMN c text;
CREATE INDEX base_a_idx ON cap_l.base (a);
COMMIT;
-- a new transaction starts afresh: the lock is recorded again
ALTER TABLE cap_l.base ADD COLUMN d text;
DROP TABLE cap_l.gone;
\c
SELECT drydock.capture_end();
SELECT l.seq, l.command_tag, l.object_type, l.identity, l.locks, c.event
  FROM drydock.ddl_log l JOIN drydock.capture_log c USING (seq) ORDER BY seq;
SELECT count(*) AS sql_drop_rows_with_locks FROM drydock.capture_log WHERE event = 'sql_drop' AND locks <> '{}';
DROP SCHEMA cap_l CASCADE;
SELECT drydock.capture_reset();

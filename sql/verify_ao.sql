-- AO: additive only (AO001..AO006), a passing and a failing example for
-- each rule, with the exact finding.  Each case: baseline_save, capture of
-- phase apply, the DDL, capture_end, verify(); then the case is undone and
-- capture_reset() empties the log.
SELECT drydock.capture_reset();
CREATE SCHEMA ao;
CREATE SCHEMA ao_other;
CREATE TABLE ao.customers (id integer PRIMARY KEY, email text NOT NULL UNIQUE, name text);
CREATE INDEX customers_name_idx ON ao.customers (name);
CREATE TABLE ao.legacy (id integer PRIMARY KEY);
CREATE VIEW ao.findings AS
    SELECT code, object, status, message FROM drydock.verify('ao', '{}', 'ao_pre') WHERE family = 'AO';
CREATE VIEW ao.apply_log AS
    SELECT command_tag, object_type, identity, rewrite, locks FROM drydock.ddl_log WHERE phase = 'apply' ORDER BY seq;

-- ---------------------------------------------------------------------------
-- passing: an additive migration.  A new table with an FK to a pre-existing
-- one takes ShareRowExclusiveLock on it (the default limit); every AO rule
-- passes.
SELECT drydock.baseline_save('ao_pre') IS NOT NULL AS saved;
SELECT drydock.capture_begin('apply');
CREATE TABLE ao.orders (id integer PRIMARY KEY, customer_id integer NOT NULL REFERENCES ao.customers);
CREATE INDEX orders_customer_id_idx ON ao.orders (customer_id);
SELECT drydock.capture_end();
SELECT * FROM ao.apply_log;
SELECT * FROM ao.findings;
DROP TABLE ao.orders;
SELECT drydock.capture_reset();
SELECT drydock.baseline_drop('ao_pre');

-- ---------------------------------------------------------------------------
-- AO001: an ALTER of a pre-existing table.  ddl_log shows the lock it took:
-- AccessExclusiveLock on the table (and on its indexes, which AO006 folds
-- into the table: one AO006 finding, not one per index).
SELECT drydock.baseline_save('ao_pre') IS NOT NULL AS saved;
SELECT drydock.capture_begin('apply');
ALTER TABLE ao.customers ALTER COLUMN name SET NOT NULL;
SELECT drydock.capture_end();
SELECT * FROM ao.apply_log;
SELECT * FROM ao.findings;
ALTER TABLE ao.customers ALTER COLUMN name DROP NOT NULL;
SELECT drydock.capture_reset();
SELECT drydock.baseline_drop('ao_pre');

-- ---------------------------------------------------------------------------
-- AO001 of a table and of a table constraint, beside a new table: the diff
-- renders the definitions of what the baseline has (and only those), so
-- the altered pre-existing table and constraint are found, the new table
-- is "added" and judged by the other families only.
SELECT drydock.baseline_save('ao_pre') IS NOT NULL AS saved;
SELECT drydock.capture_begin('apply');
ALTER TABLE ao.customers SET (fillfactor = 70);
COMMENT ON CONSTRAINT customers_email_key ON ao.customers IS 'one account per address';
CREATE TABLE ao.invoices (id integer PRIMARY KEY, customer_id integer NOT NULL REFERENCES ao.customers);
SELECT drydock.capture_end();
SELECT * FROM ao.findings WHERE code IN ('AO001', 'AO002');
SELECT change, kind, identity FROM drydock.diff('ao_pre') ORDER BY identity COLLATE "C", kind COLLATE "C";
DROP TABLE ao.invoices;
COMMENT ON CONSTRAINT customers_email_key ON ao.customers IS NULL;
ALTER TABLE ao.customers RESET (fillfactor);
SELECT drydock.capture_reset();
SELECT drydock.baseline_drop('ao_pre');

-- ---------------------------------------------------------------------------
-- AO002: a DROP of a pre-existing table
SELECT drydock.baseline_save('ao_pre') IS NOT NULL AS saved;
SELECT drydock.capture_begin('apply');
DROP TABLE ao.legacy;
SELECT drydock.capture_end();
SELECT * FROM ao.findings;
CREATE TABLE ao.legacy (id integer PRIMARY KEY);
SELECT drydock.capture_reset();
SELECT drydock.baseline_drop('ao_pre');

-- ---------------------------------------------------------------------------
-- AO003: objects created outside the target schema
SELECT drydock.baseline_save('ao_pre') IS NOT NULL AS saved;
SELECT drydock.capture_begin('apply');
CREATE TABLE ao_other.outside (id integer PRIMARY KEY);
CREATE FUNCTION ao_other.helper() RETURNS integer LANGUAGE sql AS 'SELECT 1';
SELECT drydock.capture_end();
SELECT * FROM ao.findings;
DROP TABLE ao_other.outside;
DROP FUNCTION ao_other.helper();
SELECT drydock.capture_reset();
SELECT drydock.baseline_drop('ao_pre');

-- ---------------------------------------------------------------------------
-- AO004: the artifact creates the target schema itself; passing when the
-- policy allows it (forbid_schema_creation = false: skipped)
SELECT drydock.baseline_save('ao_pre') IS NOT NULL AS saved;
SELECT drydock.capture_begin('apply');
CREATE SCHEMA ao_new;
CREATE TABLE ao_new.things (id integer PRIMARY KEY);
SELECT drydock.capture_end();
SELECT code, object, status, message FROM drydock.verify('ao_new', '{}', 'ao_pre') WHERE family = 'AO';
SELECT code, object, status, message FROM drydock.verify('ao_new', '{"forbid_schema_creation": false}', 'ao_pre')
 WHERE code = 'AO004';
DROP SCHEMA ao_new CASCADE;
SELECT drydock.capture_reset();
SELECT drydock.baseline_drop('ao_pre');

-- ---------------------------------------------------------------------------
-- AO005: ALTER COLUMN ... TYPE rewrites a pre-existing table (ddl_log
-- rewrite = t); rewriting a table the apply created is no finding.  The
-- rewrite also takes AccessExclusiveLock on the table's three indexes
-- (ddl_log locks): AO006 reports the table once, not once per index.
SELECT drydock.baseline_save('ao_pre') IS NOT NULL AS saved;
SELECT drydock.capture_begin('apply');
CREATE TABLE ao.fresh (id integer PRIMARY KEY);
ALTER TABLE ao.fresh ALTER COLUMN id TYPE bigint;
ALTER TABLE ao.customers ALTER COLUMN id TYPE bigint;
SELECT drydock.capture_end();
SELECT * FROM ao.apply_log;
SELECT * FROM ao.findings;
DROP TABLE ao.fresh;
ALTER TABLE ao.customers ALTER COLUMN id TYPE integer;
SELECT drydock.capture_reset();
SELECT drydock.baseline_drop('ao_pre');

-- ---------------------------------------------------------------------------
-- AO006: locks on pre-existing relations, per statement and per table.
SELECT drydock.baseline_save('ao_pre') IS NOT NULL AS saved;
SELECT drydock.capture_begin('apply');
-- AccessExclusiveLock on the table
ALTER TABLE ao.customers ADD COLUMN note text;
-- ShareLock: within the default limit
CREATE INDEX customers_note_idx ON ao.customers (note);
-- a DROP INDEX targets the index itself: the index and its table
DROP INDEX ao.customers_name_idx;
-- in one transaction, the second statement holds the lock of the first but
-- did not take it: only the first is charged
BEGIN;
ALTER TABLE ao.legacy ADD COLUMN a text;
ALTER TABLE ao.legacy ADD COLUMN b text;
COMMIT;
SELECT drydock.capture_end();
SELECT * FROM ao.findings WHERE code = 'AO006';
-- a policy raising the limit: pass
SELECT code, object, status, message
  FROM drydock.verify('ao', '{"max_lock_on_existing": "AccessExclusiveLock"}', 'ao_pre') WHERE code = 'AO006';
-- a policy lowering it: CREATE INDEX's ShareLock is now the finding
SELECT code, object, status, message
  FROM drydock.verify('ao', '{"max_lock_on_existing": "RowExclusiveLock"}', 'ao_pre') WHERE code = 'AO006';
SELECT drydock.capture_reset();
SELECT drydock.baseline_drop('ao_pre');

-- ---------------------------------------------------------------------------
-- Two statements with the same finding on the same object: a row each, in
-- statement order (seq orders rows whose code, object and message are equal)
SELECT drydock.baseline_save('ao_pre') IS NOT NULL AS saved;
SELECT drydock.capture_begin('apply');
ALTER TABLE ao.legacy ADD COLUMN c text;
ALTER TABLE ao.legacy ADD COLUMN d text;
SELECT drydock.capture_end();
SELECT code, object, message, seq > lag(seq) OVER (ORDER BY n) AS after_previous
  FROM drydock.verify('ao', '{}', 'ao_pre') WITH ORDINALITY v(family, code, object, status, message, seq, n)
 WHERE code = 'AO006';
SELECT drydock.capture_reset();
SELECT drydock.baseline_drop('ao_pre');

DROP SCHEMA ao CASCADE;
DROP SCHEMA ao_other CASCADE;
SELECT drydock.capture_reset();

-- RB: rollback checks (RB001..RB004), a passing and a failing example for
-- each rule, with the exact finding.  Each case: baseline_save before the
-- apply, capture of phase apply, capture of phase rollback, then
-- verify_rollback() against the pre-apply baseline; capture_reset() between.
SELECT drydock.capture_reset();
CREATE SCHEMA rb;
CREATE TABLE rb.customers (id integer PRIMARY KEY, email text NOT NULL UNIQUE);
CREATE VIEW rb.findings AS
    SELECT code, object, status, message FROM drydock.verify_rollback('rb', '{}', 'rb_pre');
CREATE VIEW rb.rollback_log AS
    SELECT command_tag, object_type, identity, cascade FROM drydock.ddl_log WHERE phase = 'rollback' ORDER BY seq;

-- ---------------------------------------------------------------------------
-- passing: an exact rollback.  The tables carry what made RB003 report
-- false cascades (CHECK constraints, a serial default, a policy, a trigger
-- with WHEN): DROP TABLE without CASCADE drops them with their table.
SELECT drydock.baseline_save('rb_pre') IS NOT NULL AS saved;
SELECT drydock.capture_begin('apply');
CREATE TYPE rb.status AS ENUM ('new', 'paid');
CREATE FUNCTION rb.touch() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;
CREATE TABLE rb.orders (
    id          serial PRIMARY KEY,
    customer_id integer NOT NULL REFERENCES rb.customers,
    status      rb.status NOT NULL DEFAULT 'new',
    quantity    integer NOT NULL CHECK (quantity > 0)
);
CREATE INDEX orders_customer_id_idx ON rb.orders (customer_id);
CREATE TRIGGER orders_touch BEFORE UPDATE ON rb.orders FOR EACH ROW WHEN (NEW.quantity > 0) EXECUTE FUNCTION rb.touch();
ALTER TABLE rb.orders ENABLE ROW LEVEL SECURITY;
CREATE POLICY orders_positive ON rb.orders USING (quantity > 0);
SELECT drydock.capture_end();
SELECT drydock.capture_begin('rollback');
DROP TABLE rb.orders;
DROP FUNCTION rb.touch();
DROP TYPE rb.status;
SELECT drydock.capture_end();
SELECT * FROM rb.rollback_log;
SELECT * FROM rb.findings;
SELECT drydock.capture_reset();
SELECT drydock.baseline_drop('rb_pre');

-- ---------------------------------------------------------------------------
-- RB001 (and RB004): residue of a sequence, a function and an enum.  The
-- index went with its table: it is neither residue nor "still exists".
SELECT drydock.baseline_save('rb_pre') IS NOT NULL AS saved;
SELECT drydock.capture_begin('apply');
CREATE SEQUENCE rb.invoice_no_seq;
CREATE FUNCTION rb.next_invoice_no() RETURNS bigint LANGUAGE sql AS $$SELECT nextval('rb.invoice_no_seq')$$;
CREATE TYPE rb.currency AS ENUM ('EUR', 'USD');
CREATE TABLE rb.invoices (id integer PRIMARY KEY, currency rb.currency NOT NULL);
CREATE INDEX invoices_currency_idx ON rb.invoices (currency);
SELECT drydock.capture_end();
SELECT drydock.capture_begin('rollback');
DROP TABLE rb.invoices;
SELECT drydock.capture_end();
SELECT * FROM rb.findings;
DROP FUNCTION rb.next_invoice_no();
DROP SEQUENCE rb.invoice_no_seq;
DROP TYPE rb.currency;
SELECT drydock.capture_reset();
SELECT drydock.baseline_drop('rb_pre');

-- ---------------------------------------------------------------------------
-- RB002: a rollback that damages pre-existing state (drops a column that was
-- there before, and a pre-existing constraint)
SELECT drydock.baseline_save('rb_pre') IS NOT NULL AS saved;
SELECT drydock.capture_begin('apply');
ALTER TABLE rb.customers ADD COLUMN nickname text;
SELECT drydock.capture_end();
SELECT drydock.capture_begin('rollback');
ALTER TABLE rb.customers DROP COLUMN nickname;
ALTER TABLE rb.customers DROP COLUMN email;
SELECT drydock.capture_end();
SELECT * FROM rb.findings;
ALTER TABLE rb.customers ADD COLUMN email text NOT NULL UNIQUE;
SELECT drydock.capture_reset();
SELECT drydock.baseline_drop('rb_pre');

-- ---------------------------------------------------------------------------
-- RB003: a rollback with CASCADE: the FK of the child table and a view go
-- with the parent; everything is gone afterwards, so only RB003 fails
SELECT drydock.baseline_save('rb_pre') IS NOT NULL AS saved;
SELECT drydock.capture_begin('apply');
CREATE TABLE rb.parents (id integer PRIMARY KEY, name text CHECK (name <> ''));
CREATE TABLE rb.children (id integer PRIMARY KEY, parent_id integer REFERENCES rb.parents);
CREATE VIEW rb.parent_names AS SELECT name FROM rb.parents;
SELECT drydock.capture_end();
SELECT drydock.capture_begin('rollback');
DROP TABLE rb.parents CASCADE;
DROP TABLE rb.children;
SELECT drydock.capture_end();
SELECT * FROM rb.rollback_log;
SELECT * FROM rb.findings;
SELECT drydock.capture_reset();
SELECT drydock.baseline_drop('rb_pre');

-- ---------------------------------------------------------------------------
-- RB004: an object the apply created that the rollback did not drop (an
-- index on a pre-existing table), also residue (RB001)
SELECT drydock.baseline_save('rb_pre') IS NOT NULL AS saved;
SELECT drydock.capture_begin('apply');
CREATE TABLE rb.notes (id integer PRIMARY KEY);
CREATE INDEX customers_email_lower_idx ON rb.customers (lower(email));
SELECT drydock.capture_end();
SELECT drydock.capture_begin('rollback');
DROP TABLE rb.notes;
SELECT drydock.capture_end();
SELECT * FROM rb.findings;
DROP INDEX rb.customers_email_lower_idx;
SELECT drydock.capture_reset();
SELECT drydock.baseline_drop('rb_pre');

-- ---------------------------------------------------------------------------
-- RB004 without RB001: the apply drops and re-creates a pre-existing table;
-- the rollback leaves it, so the catalog matches the baseline but the object
-- is the apply's (RB002 still sees nothing: same definition)
CREATE TABLE rb.lookup (id integer PRIMARY KEY);
SELECT drydock.baseline_save('rb_pre') IS NOT NULL AS saved;
SELECT drydock.capture_begin('apply');
DROP TABLE rb.lookup;
CREATE TABLE rb.lookup (id integer PRIMARY KEY);
SELECT drydock.capture_end();
SELECT drydock.capture_begin('rollback');
SELECT drydock.capture_end();
SELECT * FROM rb.findings WHERE code IN ('RB001', 'RB002', 'RB004');
DROP TABLE rb.lookup;
SELECT drydock.capture_reset();
SELECT drydock.baseline_drop('rb_pre');

-- without a baseline and without capture, every rule says why it is skipped
SELECT code, object, status, message FROM drydock.verify_rollback('rb');

-- object_exists(): the guard RB004 uses before pg_identify_object()
-- (column 2, email, was dropped above and re-added as column 3)
SELECT drydock.object_exists('pg_class'::regclass, 'rb.customers'::regclass, 0) AS table_exists,
       drydock.object_exists('pg_class'::regclass, 'rb.customers'::regclass, 1) AS column_exists,
       drydock.object_exists('pg_class'::regclass, 'rb.customers'::regclass, 2) AS dropped_column,
       drydock.object_exists('pg_class'::regclass, 'rb.customers'::regclass, 99) AS no_such_column,
       drydock.object_exists('pg_class'::regclass, 0, 0) AS no_such_table,
       drydock.object_exists('pg_proc'::regclass, 0, 0) AS no_such_function;

DROP SCHEMA rb CASCADE;
SELECT drydock.capture_reset();

-- CASCADE classification of sql_drop: an object counts as "dropped by
-- CASCADE" iff PostgreSQL would have refused the statement without CASCADE
-- because of it (NOTICE "drop cascades to ...").  Objects that go with their
-- owner (constraints, indexes, triggers, policies, rules, defaults, owned and
-- identity sequences, row and array types) are not cascades, even when they
-- also have a NORMAL dependency on their own table's columns (CHECK, policy
-- USING, trigger WHEN, a serial column's default).
SELECT drydock.capture_reset();
CREATE SCHEMA cc;
CREATE FUNCTION cc.tg() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;
CREATE TABLE cc.ref (id integer PRIMARY KEY);
CREATE VIEW cc.show AS
    SELECT command_tag, object_type, identity, cascade
      FROM drydock.capture_log WHERE event = 'sql_drop' ORDER BY seq;

-- 1. DROP TABLE without CASCADE: nothing is a cascade
CREATE TABLE cc.t (
    id      serial PRIMARY KEY,
    gid     integer GENERATED ALWAYS AS IDENTITY,
    qty     integer CHECK (qty > 0),
    code    text UNIQUE,
    ref_id  integer REFERENCES cc.ref,
    note    text DEFAULT 'x'
);
CREATE INDEX t_lower_code_idx ON cc.t (lower(code)) WHERE qty > 1;
CREATE TRIGGER t_tg BEFORE INSERT ON cc.t FOR EACH ROW WHEN (NEW.qty > 0) EXECUTE FUNCTION cc.tg();
ALTER TABLE cc.t ENABLE ROW LEVEL SECURITY;
CREATE POLICY t_pol ON cc.t USING (qty > 0);
CREATE RULE t_rule AS ON UPDATE TO cc.t WHERE NEW.qty < 0 DO INSTEAD NOTHING;
SELECT drydock.capture_begin('rollback');
DROP TABLE cc.t;
SELECT drydock.capture_end();
SELECT * FROM cc.show;
SELECT drydock.capture_reset();

-- 2. DROP TABLE ... CASCADE: the FK of another table and a view over the
-- table are cascades; the table's own parts are not
CREATE TABLE cc.parent (id serial PRIMARY KEY, label text CHECK (label <> ''));
CREATE TABLE cc.child (id integer PRIMARY KEY, parent_id integer REFERENCES cc.parent);
CREATE VIEW cc.parent_v AS SELECT id, label FROM cc.parent;
SELECT drydock.capture_begin('rollback');
DROP TABLE cc.parent CASCADE;
SELECT drydock.capture_end();
SELECT * FROM cc.show;
SELECT drydock.capture_reset();

-- 3. DROP TYPE ... CASCADE: the column using the enum
CREATE TYPE cc.mood AS ENUM ('ok', 'sad');
CREATE TABLE cc.people (id integer PRIMARY KEY, mood cc.mood);
SELECT drydock.capture_begin('rollback');
DROP TYPE cc.mood CASCADE;
SELECT drydock.capture_end();
SELECT * FROM cc.show;
SELECT drydock.capture_reset();

-- 4. DROP FUNCTION ... CASCADE: the trigger using it
CREATE TRIGGER child_tg BEFORE INSERT ON cc.child FOR EACH ROW EXECUTE FUNCTION cc.tg();
SELECT drydock.capture_begin('rollback');
DROP FUNCTION cc.tg() CASCADE;
SELECT drydock.capture_end();
SELECT * FROM cc.show;
SELECT drydock.capture_reset();

-- 5. ALTER TABLE ... DROP COLUMN: an index on the column goes with it; with
-- CASCADE, a view using the column is a cascade
CREATE TABLE cc.items (id integer PRIMARY KEY, sku text, price integer);
CREATE INDEX items_sku_idx ON cc.items (sku);
CREATE VIEW cc.items_v AS SELECT id, price FROM cc.items;
SELECT drydock.capture_begin('rollback');
ALTER TABLE cc.items DROP COLUMN sku;
ALTER TABLE cc.items DROP COLUMN price CASCADE;
SELECT drydock.capture_end();
SELECT * FROM cc.show;
SELECT drydock.capture_reset();

-- 6. in one transaction, objects created and dropped by earlier statements
-- of the same transaction are judged alike
SELECT drydock.capture_begin('rollback');
BEGIN;
CREATE TABLE cc.tx (id serial PRIMARY KEY, n integer CHECK (n > 0));
CREATE TABLE cc.tx_child (id integer PRIMARY KEY, tx_id integer REFERENCES cc.tx);
DROP TABLE cc.tx_child;
DROP TABLE cc.tx;
COMMIT;
SELECT drydock.capture_end();
SELECT * FROM cc.show;
SELECT drydock.capture_reset();

-- 7. DROP SCHEMA ... CASCADE: every member of the schema is a cascade
-- (PostgreSQL refuses to drop a non-empty schema without CASCADE); the
-- members' own parts (constraints, indexes, owned sequences) are not
CREATE SCHEMA cc_gone;
CREATE TABLE cc_gone.a (id serial PRIMARY KEY, n integer CHECK (n > 0));
CREATE SEQUENCE cc_gone.free_seq;
CREATE FUNCTION cc_gone.f() RETURNS integer LANGUAGE sql AS 'SELECT 1';
CREATE TYPE cc_gone.color AS ENUM ('red');
SELECT drydock.capture_begin('rollback');
DROP SCHEMA cc_gone CASCADE;
SELECT drydock.capture_end();
SELECT * FROM cc.show;

-- RB003 reports exactly these
SELECT code, object, status, message FROM drydock.verify_rollback('cc') WHERE code = 'RB003';
SELECT drydock.capture_reset();

DROP SCHEMA cc CASCADE;

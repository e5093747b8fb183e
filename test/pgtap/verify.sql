-- test/pgtap/verify.sql -- pgTAP checks of drydock.verify(), default_policy(),
-- capture and pgtap_script(); run with: pg_prove -d DB test/pgtap/verify.sql
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS drydock;
SELECT plan(18);

SELECT has_function('drydock', 'verify', ARRAY['name', 'jsonb', 'text'], 'verify(name, jsonb, text) exists');
SELECT has_function('drydock', 'verify_rollback', ARRAY['name', 'jsonb', 'text'], 'verify_rollback(name, jsonb, text) exists');
SELECT has_function('drydock', 'default_policy', 'default_policy() exists');
SELECT has_function('drydock', 'pgtap_script', ARRAY['name'], 'pgtap_script(name) exists');
SELECT has_view('drydock', 'ddl_log', 'ddl_log view exists');
SELECT has_function('drydock', 'object_exists', ARRAY['oid', 'oid', 'integer'], 'object_exists(oid, oid, integer) exists');
SELECT ok(EXISTS (SELECT 1 FROM pg_event_trigger WHERE evtname = 'drydock_capture_ddl_command_start' AND evtevent = 'ddl_command_start'),
          'the ddl_command_start capture trigger is installed (RB003 needs it)');
SELECT columns_are('drydock', 'ddl_log',
    ARRAY['seq', 'phase', 'command_tag', 'object_type', 'identity', 'cascade', 'rewrite', 'locks'],
    'ddl_log has the documented columns');

CREATE SCHEMA tap_ok;
CREATE TABLE tap_ok.customers (id bigint PRIMARY KEY, name text NOT NULL);
CREATE TABLE tap_ok.orders (id bigint PRIMARY KEY, customer_id bigint NOT NULL REFERENCES tap_ok.customers);
CREATE INDEX orders_customer_id_idx ON tap_ok.orders (customer_id);

SELECT is_empty($$SELECT * FROM drydock.verify('tap_ok') WHERE status IN ('fail', 'warn')$$,
    'a clean schema has no fail or warn row');
SELECT results_eq($$SELECT count(DISTINCT code)::int FROM drydock.verify('tap_ok')$$,
    $$SELECT count(*)::int FROM jsonb_object_keys(drydock.default_policy()->'rules') k WHERE k NOT LIKE 'RB%'$$,
    'verify returns a row for every non-RB rule of the default policy');
SELECT results_eq($$SELECT status FROM drydock.verify('tap_ok', '{"expected_tables": ["customers", "orders"]}') WHERE code = 'TV002'$$,
    ARRAY['pass'], 'TV002 passes with the exact table list');

CREATE TABLE tap_ok.audit (at timestamp, payload json);
SELECT set_eq($$SELECT code || ' ' || status FROM drydock.verify('tap_ok') WHERE status <> 'pass' AND status <> 'skipped'$$,
    ARRAY['KC001 fail', 'CV002 fail', 'CV003 fail'], 'no PK, timestamp and json are found');
SELECT results_eq($$SELECT object FROM drydock.verify('tap_ok') WHERE code = 'CV002'$$,
    ARRAY['tap_ok.audit.at'], 'CV002 names the column');
SELECT results_eq($$SELECT status FROM drydock.verify('tap_ok', '{"rules": {"KC001": "warn"}}') WHERE code = 'KC001'$$,
    ARRAY['warn'], 'a rule at warn gives warn');
SELECT results_eq($$SELECT status || ': ' || message FROM drydock.verify('tap_ok', '{"rules": {"CV": "off"}}') WHERE code = 'CV003'$$,
    ARRAY['skipped: disabled by policy (rules.CV = off)'], 'a family at off gives skipped');
SELECT throws_like($$SELECT * FROM drydock.verify('tap_ok', '{"bogus": 1}')$$,
    '%unknown policy key "bogus"%', 'unknown policy keys are rejected');
SELECT throws_like($$SELECT * FROM drydock.verify('tap_ok', '{"expected_tables": true}')$$,
    '%policy key "expected_tables" must be%', 'wrong value types are rejected');
SELECT matches(drydock.pgtap_script('tap_ok'), '^-- pgTAP.*SELECT plan\(\d+\);.*finish\(\);\nROLLBACK;\n$',
    'pgtap_script returns a framed script with a plan');

SELECT * FROM finish();
ROLLBACK;

-- pgTAP: the contract of drydock's catalog-state API (catalog_objects,
-- fingerprint, baseline_save/drop, diff).  Runs in a transaction that is
-- rolled back, so it leaves nothing behind.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS drydock;
SELECT plan(27);

-- signatures other code relies on
SELECT has_function('drydock', 'catalog_objects', ARRAY['name[]'], 'catalog_objects(name[]) exists');
SELECT function_returns('drydock', 'catalog_objects', ARRAY['name[]'], 'setof record', 'catalog_objects returns a set');
SELECT has_function('drydock', 'fingerprint', ARRAY['name[]'], 'fingerprint(name[]) exists');
SELECT function_returns('drydock', 'fingerprint', ARRAY['name[]'], 'text', 'fingerprint returns text');
SELECT function_returns('drydock', 'baseline_save', ARRAY['text'], 'text', 'baseline_save returns text');
SELECT function_returns('drydock', 'baseline_drop', ARRAY['text'], 'void', 'baseline_drop returns void');
SELECT function_returns('drydock', 'diff', ARRAY['text', 'name[]'], 'setof record', 'diff returns a set');
SELECT has_table('drydock', 'baseline', 'drydock.baseline exists');
SELECT has_table('drydock', 'baseline_object', 'drydock.baseline_object exists');

-- NULL handling and defaults
SELECT ok((SELECT count(*) FROM drydock.catalog_objects()) = (SELECT count(*) FROM drydock.catalog_objects(NULL)),
          'catalog_objects() defaults to NULL = every schema');
SELECT is(drydock.fingerprint(), drydock.fingerprint(NULL), 'fingerprint() defaults to NULL');
SELECT matches(drydock.fingerprint(), '^[0-9a-f]{64}$', 'fingerprint is 64 hex digits');
SELECT is((SELECT count(*) FROM drydock.catalog_objects('{}')), 0::bigint, 'an empty schemas array selects nothing');
SELECT is(drydock.fingerprint('{}'),
          'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
          'fingerprint of nothing is sha256 of the empty string');
SELECT is((SELECT count(*) FROM drydock.catalog_objects() WHERE schema IN ('drydock', 'pg_catalog', 'information_schema')
             AND kind <> 'extension'), 0::bigint, 'no objects of drydock, pg_catalog or information_schema');

-- argument errors
SELECT throws_ok($$SELECT * FROM drydock.catalog_objects('{tap_no_such_schema}')$$, '3F000',
                 NULL, 'unknown schema: invalid_schema_name');
SELECT throws_ok($$SELECT drydock.fingerprint(ARRAY[NULL]::name[])$$, '22004',
                 NULL, 'NULL schema element: null_value_not_allowed');
SELECT throws_ok($$SELECT drydock.baseline_save(NULL)$$, '22004', NULL, 'NULL label: null_value_not_allowed');
SELECT throws_ok($$SELECT drydock.baseline_save('')$$, '22023', NULL, 'empty label: invalid_parameter_value');
SELECT throws_ok($$SELECT * FROM drydock.diff('tap_no_such_label')$$, '42704', NULL, 'diff of unknown label: undefined_object');
SELECT throws_ok($$SELECT drydock.baseline_drop('tap_no_such_label')$$, '42704', NULL, 'drop of unknown label: undefined_object');
SELECT throws_ok($$SELECT * FROM drydock.diff(NULL)$$, '22004', NULL, 'diff of NULL label: null_value_not_allowed');

-- labels
SELECT is(drydock.baseline_save('tap_label'), drydock.fingerprint(), 'baseline_save returns the current fingerprint');
SELECT throws_ok($$SELECT drydock.baseline_save('tap_label')$$, '42710', NULL, 'saving over a label: duplicate_object');
SELECT is_empty($$SELECT * FROM drydock.diff('tap_label')$$, 'diff right after saving is empty');
CREATE TABLE public.tap_catalog_probe (id int);
SELECT results_eq($$SELECT change, kind, identity FROM drydock.diff('tap_label') WHERE kind = 'table'$$,
                  $$VALUES ('added'::text, 'table'::text, 'public.tap_catalog_probe'::text)$$,
                  'a new table shows as added');
SELECT lives_ok($$SELECT drydock.baseline_drop('tap_label')$$, 'baseline_drop of a saved label');

SELECT * FROM finish();
ROLLBACK;

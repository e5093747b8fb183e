-- pgTAP: the extension installs into schema drydock and reports its version.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS drydock;
SELECT plan(5);
SELECT has_extension('drydock', 'drydock is installed');
SELECT has_schema('drydock', 'schema drydock exists');
SELECT has_function('drydock', 'version', 'drydock.version() exists');
SELECT is(drydock.version(),
          (SELECT extversion FROM pg_extension WHERE extname = 'drydock'),
          'library version matches the installed script version');
SELECT is((SELECT n.nspname::text FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
            WHERE e.extname = 'drydock'), 'drydock', 'installed in schema drydock');
SELECT * FROM finish();
ROLLBACK;

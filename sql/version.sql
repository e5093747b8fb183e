-- The extension installs into schema drydock and reports its version.
SELECT drydock.version();
SELECT extname, extversion, nspname
  FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
 WHERE extname = 'drydock';

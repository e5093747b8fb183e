-- drydock extension install script.
-- Assembled at build time from extension/sql/*.sql in name order.

\echo Use "CREATE EXTENSION drydock" to load this file. \quit

-- drydock.version(): the extension's version, from the C library (so a
-- mismatch between the installed script and the loaded library shows).
CREATE FUNCTION drydock.version() RETURNS text
    AS 'MODULE_PATHNAME', 'drydock_version'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION drydock.version() IS 'version of the drydock C library';


-- ---------------------------------------------------------------------------
-- pgTAP script generation (extension/src/pgtap_gen.c).
-- ---------------------------------------------------------------------------

CREATE FUNCTION drydock.pgtap_script(target_schema name) RETURNS text
    AS 'MODULE_PATHNAME', 'drydock_pgtap_script'
    LANGUAGE C STABLE STRICT
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION drydock.pgtap_script(name) IS
    'text of a pgTAP script (with its plan) asserting the schema as it stands: tables, columns, types, NOT NULL, PK, FK, UNIQUE, indexes';

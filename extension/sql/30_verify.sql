
-- ---------------------------------------------------------------------------
-- Governance verification (extension/src/verify.c, verify_policy.c).
-- Codes: docs/codes.md.  Policy keys: docs/policy.md.
--
-- After the apply phase:     SELECT * FROM drydock.verify(schema, policy, baseline)
--   families TV, KC, CV, NH, AO;
-- after the rollback phase:  SELECT * FROM drydock.verify_rollback(schema, policy, baseline)
--   family RB, with baseline = the label saved BEFORE the apply.
-- seq: the drydock.capture_log row of the statement that caused the
-- finding (its text is in capture_log.query), or NULL.
-- Both run with search_path = pg_catalog so that user objects cannot
-- shadow the catalog functions their queries use.
-- ---------------------------------------------------------------------------

-- object_exists(classid, objid, objsubid): used by RB004 before
-- pg_identify_object(), which raises an ERROR for a dropped object before
-- PostgreSQL 14.
CREATE FUNCTION drydock.object_exists(classid oid, objid oid, objsubid integer)
    RETURNS boolean
    AS 'MODULE_PATHNAME', 'drydock_object_exists'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION drydock.object_exists(oid, oid, integer) IS
    'does the object (a pg_depend-style address) exist? a column must not be dropped';

CREATE FUNCTION drydock.verify(target_schema name, policy jsonb DEFAULT '{}',
                               baseline text DEFAULT NULL)
    RETURNS TABLE (family text, code text, object text, status text, message text,
                   seq bigint)
    AS 'MODULE_PATHNAME', 'drydock_verify'
    LANGUAGE C VOLATILE
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION drydock.verify(name, jsonb, text) IS
    'governance checks TV, KC, CV, NH, AO of a migrated schema: one row per check (pass, fail, warn, skipped)';

CREATE FUNCTION drydock.verify_rollback(target_schema name, policy jsonb DEFAULT '{}',
                                        baseline text DEFAULT NULL)
    RETURNS TABLE (family text, code text, object text, status text, message text,
                   seq bigint)
    AS 'MODULE_PATHNAME', 'drydock_verify_rollback'
    LANGUAGE C VOLATILE
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION drydock.verify_rollback(name, jsonb, text) IS
    'rollback checks RB against the pre-apply baseline and the captured DDL';

CREATE FUNCTION drydock.default_policy() RETURNS jsonb
    AS 'MODULE_PATHNAME', 'drydock_default_policy'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION drydock.default_policy() IS
    'the verification policy defaults: every key and the severity of every rule';

CREATE FUNCTION drydock.finding_codes()
    RETURNS TABLE (code text, family text, default_severity text, title text, reported_by text)
    AS 'MODULE_PATHNAME', 'drydock_finding_codes'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION drydock.finding_codes() IS
    'every stable finding code (docs/codes.md): family, default severity, the rule, who reports it';

CREATE FUNCTION drydock.object_glob_match(glob text, object text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'drydock_object_glob_match_sql'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION drydock.object_glob_match(text, text) IS
    'does a suppression object glob cover a finding object (the object, OBJ.part, OBJ(args), "name on OBJ")?';

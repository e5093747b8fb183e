-- 10_catalog.sql: canonical catalog state, fingerprint, baselines and diff.
--
-- Every object is one row (kind, identity, schema, parent, definition):
-- kind is pg_identify_object()'s type string, identity an OID-free name
-- (schema-qualified, quoted as needed; "name on table" for constraints,
-- triggers, rules and policies; "schema.f(argtypes)" for routines), parent
-- the identity of the owning table or domain, definition "key=value; ..."
-- text with owner and ACL by role name.  Objects of drydock itself, of
-- extensions (one 'extension' row stands for them), pg_catalog,
-- information_schema, pg_toast and temp schemas are left out.

-- Saved baselines.  A label is unique: saving over an existing label is an
-- error (drop it first), because a baseline is evidence.
CREATE TABLE drydock.baseline (
    label        text PRIMARY KEY CHECK (label <> ''),
    created_at   timestamptz NOT NULL DEFAULT now(),
    fingerprint  text NOT NULL,
    object_count integer NOT NULL
);
COMMENT ON TABLE drydock.baseline IS 'catalog baselines saved by drydock.baseline_save()';

-- The rows of drydock.catalog_objects(NULL) at save time, in its order (ord).
CREATE TABLE drydock.baseline_object (
    label      text NOT NULL REFERENCES drydock.baseline (label) ON DELETE CASCADE,
    ord        integer NOT NULL,
    kind       text NOT NULL,
    identity   text NOT NULL,
    schema     text,
    parent     text,
    definition text,
    PRIMARY KEY (label, ord)
);
COMMENT ON TABLE drydock.baseline_object IS 'objects of each saved baseline, as drydock.catalog_objects() returned them';

-- Baselines are user data: pg_dump keeps them.
SELECT pg_catalog.pg_extension_config_dump('drydock.baseline', '');
SELECT pg_catalog.pg_extension_config_dump('drydock.baseline_object', '');

-- Internal to catalog_objects(): pg_get_constraintdef(oid), rendered from the
-- syscache for PRIMARY KEY / UNIQUE / FOREIGN KEY (same text), falling back
-- to pg_get_constraintdef for everything else.  Expects search_path =
-- pg_catalog, pg_temp, as catalog_objects() sets it.
CREATE FUNCTION drydock.constraint_def(oid)
    RETURNS text
    AS 'MODULE_PATHNAME', 'drydock_constraint_def'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION drydock.constraint_def(oid) IS 'internal to catalog_objects(): pg_get_constraintdef(), fast for PK/UNIQUE/FK';

-- NULL schemas = every user schema plus database/cluster-wide objects
-- (roles, publications, event triggers, extensions, global default ACLs).
-- A schema that does not exist is an error (SQLSTATE 3F000).
CREATE FUNCTION drydock.catalog_objects(schemas name[] DEFAULT NULL)
    RETURNS TABLE(kind text, identity text, schema text, parent text, definition text)
    AS 'MODULE_PATHNAME', 'drydock_catalog_objects'
    LANGUAGE C STABLE PARALLEL UNSAFE;
COMMENT ON FUNCTION drydock.catalog_objects(name[]) IS 'one canonical, OID-free row per object in the given schemas (NULL = all)';

CREATE FUNCTION drydock.fingerprint(schemas name[] DEFAULT NULL)
    RETURNS text
    AS 'MODULE_PATHNAME', 'drydock_fingerprint'
    LANGUAGE C STABLE PARALLEL UNSAFE;
COMMENT ON FUNCTION drydock.fingerprint(name[]) IS 'sha256 (hex) over drydock.catalog_objects(schemas) in its order';

-- Not STRICT: a NULL label is an error (SQLSTATE 22004), not a silent NULL.
CREATE FUNCTION drydock.baseline_save(label text)
    RETURNS text
    AS 'MODULE_PATHNAME', 'drydock_baseline_save'
    LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION drydock.baseline_save(text) IS 'store the current catalog state under label; returns its fingerprint';

CREATE FUNCTION drydock.baseline_drop(label text)
    RETURNS void
    AS 'MODULE_PATHNAME', 'drydock_baseline_drop'
    LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION drydock.baseline_drop(text) IS 'delete a saved baseline (error if it does not exist)';

CREATE FUNCTION drydock.diff(label text, schemas name[] DEFAULT NULL)
    RETURNS TABLE(change text, kind text, identity text, before text, after text)
    AS 'MODULE_PATHNAME', 'drydock_diff'
    LANGUAGE C STABLE PARALLEL UNSAFE;
COMMENT ON FUNCTION drydock.diff(text, name[]) IS 'objects added, removed or changed since baseline label';


-- ---------------------------------------------------------------------------
-- DDL capture (extension/src/capture.c).
--
-- capture_begin(phase) marks a phase for statements run by ANY session: the
-- phase lives in a table, not in session memory, so a separate psql applying
-- a file is captured.  The event-trigger functions are C, SECURITY DEFINER
-- (owned by the superuser that created the extension) so that a non-superuser
-- apply role is captured while it has no privilege at all on drydock's
-- tables: nothing here is granted to PUBLIC.
-- ---------------------------------------------------------------------------

-- The single row of phase state.  phase IS NULL means "not capturing": the
-- event triggers then return after one catalog lookup and one row read.
-- base_pinned: capture_base was taken by capture_base_save() and survives
-- capture_reset() (drydock replay pins the base before its first pair).
CREATE TABLE drydock.capture_state (
    id          integer PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    phase       text,
    started_at  timestamptz,
    base_pinned boolean NOT NULL DEFAULT false
);
INSERT INTO drydock.capture_state (id, phase) VALUES (1, NULL);

-- Relations that existed when the current phase began (capture_begin),
-- with their rendered names, so that a relation later dropped by the phase
-- can still be named in a lock entry.
-- relfilenode: as at phase start, so that a rewrite is seen whether or not
-- an event trigger fires for it (LS007).
CREATE TABLE drydock.capture_baseline (
    relid        oid PRIMARY KEY,
    relname      text NOT NULL,
    relfilenode  oid
);

-- What production has: the relations, schemas and enum types that existed
-- when capture FIRST began in this database (since capture_reset()), or
-- when capture_base_save() was called: for `drydock run`, the state before
-- the apply; for `drydock replay`, the base before the first migration.  The LS rules judge only these, in every
-- phase: a table an earlier migration of the same rehearsal created is not
-- production's.
CREATE TABLE drydock.capture_base (
    classid  oid NOT NULL,
    objid    oid NOT NULL,
    PRIMARY KEY (classid, objid)
);

-- The same relations, kept per phase after capture_end() for the checks:
-- AO006 maps a lock entry's name back to its relation and an index to its
-- table (index locks are folded into their table).
CREATE TABLE drydock.capture_relations (
    phase      text NOT NULL,
    relid      oid NOT NULL,
    relname    text NOT NULL,
    tablename  text,
    relkind    "char",
    PRIMARY KEY (phase, relname)
);

-- The log.  classid/objid/objsubid, preexisting, original/normal, the
-- transaction (xact) and the statement (stmt: the command id it started at,
-- unique within xact) are kept for the checks (AO, RB) but not shown in the
-- ddl_log view.
-- locks: the locks the STATEMENT RAISED on relations of capture_baseline
-- ("schema.name:LockMode", sorted): held now, not held (or held weaker) at
-- the end of the transaction's previous captured statement.  Only on the
-- statement's first ddl_command_end row; a DROP, for which PostgreSQL
-- collects no command, gets a row of its own (event ddl_command_end,
-- object_type and identity NULL) after its sql_drop rows when it raised
-- any; every other row, sql_drop rows included, has '{}'.
CREATE TABLE drydock.capture_log (
    seq          bigserial PRIMARY KEY,
    phase        text NOT NULL,
    command_tag  text NOT NULL,
    object_type  text,
    identity     text,
    cascade      boolean NOT NULL DEFAULT false,
    rewrite      boolean NOT NULL DEFAULT false,
    locks        text[] NOT NULL DEFAULT '{}',
    event        text NOT NULL,
    classid      oid,
    objid        oid,
    objsubid     integer,
    preexisting  boolean NOT NULL DEFAULT false,
    original     boolean,
    normal       boolean,
    xact         bigint,
    stmt         bigint,
    -- on every ddl_command_end row of a statement (capture.c):
    query        text,       -- the statement's text (first 8 kB): its artifact line
    facts        text[] NOT NULL DEFAULT '{}',   -- from its parse tree, for LS
    lock_timeout integer     -- the session's lock_timeout (ms) when it ended
);
-- finding locations look statements up by the identity they created
CREATE INDEX capture_log_identity ON drydock.capture_log (identity);

CREATE VIEW drydock.ddl_log AS
    SELECT seq, phase, command_tag, object_type, identity, cascade, rewrite, locks
      FROM drydock.capture_log;
COMMENT ON VIEW drydock.ddl_log IS
    'DDL captured by drydock event triggers, in execution order, per phase';

REVOKE ALL ON drydock.capture_state, drydock.capture_baseline, drydock.capture_relations,
              drydock.capture_base,
              drydock.capture_log, drydock.ddl_log FROM PUBLIC;

-- capture_base_save(pin): what exists now is production's (capture_base);
-- pinned, it survives capture_reset().  A row for the schema drydock lives
-- in keeps the table non-empty afterwards.
CREATE FUNCTION drydock.capture_base_save(pin boolean DEFAULT true) RETURNS void
    LANGUAGE sql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
    DELETE FROM drydock.capture_base;
    INSERT INTO drydock.capture_base (classid, objid)
        SELECT 'pg_class'::regclass, c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast', 'drydock')
           AND n.nspname NOT LIKE 'pg\_temp\_%' AND n.nspname NOT LIKE 'pg\_toast\_temp\_%'
        UNION ALL
        SELECT 'pg_namespace'::regclass, n.oid FROM pg_namespace n
         WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
           AND n.nspname NOT LIKE 'pg\_temp\_%' AND n.nspname NOT LIKE 'pg\_toast\_temp\_%'
        UNION ALL
        SELECT 'pg_type'::regclass, t.oid FROM pg_type t WHERE t.typtype = 'e';
    UPDATE drydock.capture_state SET base_pinned = pin WHERE id = 1;
$$;

-- capture_begin(phase): start (or switch to) a phase.  Snapshots the
-- relations that exist now, outside system schemas and drydock itself; only
-- locks on those are recorded ("the locks production would see").  The
-- event triggers cache the baseline per backend, keyed by phase and
-- started_at, so a new capture_begin is seen by every session.
CREATE FUNCTION drydock.capture_begin(phase text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF phase IS NULL OR phase = '' THEN
        RAISE EXCEPTION 'capture phase must be a non-empty string'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Use e.g. drydock.capture_begin(''apply'').';
    END IF;
    DELETE FROM drydock.capture_baseline;
    DELETE FROM drydock.capture_relations r WHERE r.phase = capture_begin.phase;
    -- one scan of pg_class for both tables; an index's table by a hash join
    -- (a probe per index cost more than the rest after a large apply)
    WITH rel AS MATERIALIZED (
        SELECT c.oid, quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS relname,
               c.relkind, c.relfilenode
          FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast', 'drydock')
           AND n.nspname NOT LIKE 'pg\_temp\_%' AND n.nspname NOT LIKE 'pg\_toast\_temp\_%'),
    ins AS (
        INSERT INTO drydock.capture_relations (phase, relid, relname, tablename, relkind)
        SELECT capture_begin.phase, r.oid, r.relname, t.relname, r.relkind
          FROM rel r
          LEFT JOIN pg_index i ON i.indexrelid = r.oid AND r.relkind IN ('i', 'I')
          -- an index is in its table's schema: the table is in rel too
          LEFT JOIN rel t ON t.oid = i.indrelid)
    INSERT INTO drydock.capture_baseline (relid, relname, relfilenode)
        SELECT r.oid, r.relname, r.relfilenode FROM rel r;
    IF NOT EXISTS (SELECT 1 FROM drydock.capture_base) THEN
        PERFORM drydock.capture_base_save(false);   -- the first phase
    END IF;
    UPDATE drydock.capture_state
       SET phase = capture_begin.phase, started_at = clock_timestamp()
     WHERE id = 1;
END
$$;

-- capture_end(): stop capturing; the log is kept.  First, a "phase_end"
-- row (command_tag REWRITE) for each pre-existing relation whose relfilenode
-- changed during the phase without a statement having reported it
-- (VACUUM FULL, CLUSTER, TRUNCATE, REINDEX in transactions without DDL).
CREATE FUNCTION drydock.capture_end() RETURNS void
    LANGUAGE sql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
    INSERT INTO drydock.capture_log (phase, command_tag, object_type, identity, rewrite,
                                     event, classid, objid, objsubid, preexisting)
    SELECT s.phase, 'REWRITE', CASE WHEN c.relkind IN ('i', 'I') THEN 'index' ELSE 'table' END,
           b.relname, true, 'phase_end', 'pg_class'::regclass, b.relid, 0, true
      FROM drydock.capture_state s, drydock.capture_baseline b
      JOIN pg_class c ON c.oid = b.relid
     WHERE s.id = 1 AND s.phase IS NOT NULL
       AND c.relfilenode <> b.relfilenode AND c.relfilenode <> 0
       AND NOT EXISTS (SELECT 1 FROM drydock.capture_log l
                        WHERE l.phase = s.phase
                          AND (l.facts @> ARRAY['rewritten:' || b.relname]
                               OR l.rewrite AND l.objid = b.relid))
     ORDER BY b.relname;
    UPDATE drydock.capture_state SET phase = NULL, started_at = NULL WHERE id = 1;
    DELETE FROM drydock.capture_baseline;
$$;

-- capture_reset(): stop capturing and empty the log (tests, reruns).
CREATE FUNCTION drydock.capture_reset() RETURNS void
    LANGUAGE sql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT drydock.capture_end();
    TRUNCATE drydock.capture_log RESTART IDENTITY;
    TRUNCATE drydock.capture_relations;
    DELETE FROM drydock.capture_base
     WHERE NOT (SELECT base_pinned FROM drydock.capture_state WHERE id = 1);
$$;

REVOKE ALL ON FUNCTION drydock.capture_begin(text), drydock.capture_end(),
                       drydock.capture_base_save(boolean),
                       drydock.capture_reset() FROM PUBLIC;

CREATE FUNCTION drydock.capture_ddl_command_start() RETURNS event_trigger
    AS 'MODULE_PATHNAME', 'drydock_capture_ddl_command_start'
    LANGUAGE C SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
CREATE FUNCTION drydock.capture_ddl_command_end() RETURNS event_trigger
    AS 'MODULE_PATHNAME', 'drydock_capture_ddl_command_end'
    LANGUAGE C SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
CREATE FUNCTION drydock.capture_sql_drop() RETURNS event_trigger
    AS 'MODULE_PATHNAME', 'drydock_capture_sql_drop'
    LANGUAGE C SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
CREATE FUNCTION drydock.capture_table_rewrite() RETURNS event_trigger
    AS 'MODULE_PATHNAME', 'drydock_capture_table_rewrite'
    LANGUAGE C SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
REVOKE ALL ON FUNCTION drydock.capture_ddl_command_start(), drydock.capture_ddl_command_end(), drydock.capture_sql_drop(),
                       drydock.capture_table_rewrite() FROM PUBLIC;

-- Event triggers last, so the script's own commands above are not seen.
-- ddl_command_start only remembers where the statement starts (no catalog
-- access): sql_drop needs it to tell a CASCADE drop from an object dropped
-- with its owner (capture.c, cascade_keys()).
CREATE EVENT TRIGGER drydock_capture_ddl_command_start ON ddl_command_start
    EXECUTE FUNCTION drydock.capture_ddl_command_start();
CREATE EVENT TRIGGER drydock_capture_ddl_command_end ON ddl_command_end
    EXECUTE FUNCTION drydock.capture_ddl_command_end();
CREATE EVENT TRIGGER drydock_capture_sql_drop ON sql_drop
    EXECUTE FUNCTION drydock.capture_sql_drop();
CREATE EVENT TRIGGER drydock_capture_table_rewrite ON table_rewrite
    EXECUTE FUNCTION drydock.capture_table_rewrite();

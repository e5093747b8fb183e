-- verify_ls: lock-safety rules LS001..LS010, judged from what the server
-- did (capture log), on relations that existed before the apply, in phase
-- apply (verify) and phase rollback (verify_rollback): each unsafe form is
-- flagged, each safe form is not.
\set VERBOSITY terse
SET client_min_messages = warning;
SELECT drydock.capture_reset();
CREATE SCHEMA ls;
CREATE TABLE ls.p (id bigint PRIMARY KEY);
CREATE TABLE ls.t (id bigint PRIMARY KEY, a integer, b text, c bigint);
CREATE TYPE ls.mood AS ENUM ('sad', 'ok');
CREATE FUNCTION pg_temp.findings(rollback boolean)
    RETURNS TABLE (code text, object text, status text, message text, statement text)
    LANGUAGE sql AS $$
    SELECT v.code, v.object, v.status, v.message, l.query
      FROM (SELECT * FROM drydock.verify('ls') WHERE NOT rollback
            UNION ALL
            SELECT * FROM drydock.verify_rollback('ls') WHERE rollback) v
      LEFT JOIN drydock.capture_log l ON l.seq = v.seq
     WHERE v.family = 'LS' AND v.status <> 'pass'
     ORDER BY v.code, v.object, v.seq $$;

-- 1. the unsafe forms, lock_timeout 0 (the default)
SELECT drydock.baseline_save('ls_pre') IS NOT NULL AS saved;
SELECT drydock.capture_begin('apply');
CREATE INDEX t_a_idx ON ls.t (a);
ALTER TABLE ls.t ADD CONSTRAINT t_c_fkey FOREIGN KEY (c) REFERENCES ls.p (id);
ALTER TABLE ls.t ALTER COLUMN b SET NOT NULL;
ALTER TABLE ls.t ADD COLUMN d integer NOT NULL;
ALTER TABLE ls.t ADD CONSTRAINT t_b_key UNIQUE (b);
ALTER TABLE ls.t ALTER COLUMN a TYPE bigint;
BEGIN;
ALTER TABLE ls.p ADD CONSTRAINT p_id_check CHECK (id > 0) NOT VALID;
ALTER TABLE ls.p VALIDATE CONSTRAINT p_id_check;
COMMIT;
ALTER TABLE ls.t RENAME COLUMN c TO customer;
ALTER TYPE ls.mood RENAME VALUE 'ok' TO 'fine';
CLUSTER ls.p USING p_pkey;
SELECT drydock.capture_end();
SELECT code, object, status, message, statement FROM pg_temp.findings(false);
-- the rename is LS009's: not also a dropped column (AO002)
SELECT code, object, status FROM drydock.verify('ls', '{}', 'ls_pre') WHERE code = 'AO002';

-- 2. the safe rewrites: nothing but pass rows
SELECT drydock.baseline_drop('ls_pre');
SELECT drydock.capture_reset();
DROP SCHEMA ls CASCADE;
CREATE SCHEMA ls;
CREATE TABLE ls.p (id bigint PRIMARY KEY);
CREATE TABLE ls.t (id bigint PRIMARY KEY, a integer, b text, c bigint);
SELECT drydock.capture_begin('apply');
SET lock_timeout = '2s';
CREATE INDEX CONCURRENTLY t_a_idx ON ls.t (a);
ALTER TABLE ls.t ADD CONSTRAINT t_c_fkey FOREIGN KEY (c) REFERENCES ls.p (id) NOT VALID;
ALTER TABLE ls.t VALIDATE CONSTRAINT t_c_fkey;
ALTER TABLE ls.t ADD CONSTRAINT t_b_not_null CHECK (b IS NOT NULL) NOT VALID;
ALTER TABLE ls.t VALIDATE CONSTRAINT t_b_not_null;
ALTER TABLE ls.t ALTER COLUMN b SET NOT NULL;
ALTER TABLE ls.t ADD COLUMN d integer NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX CONCURRENTLY t_b_key ON ls.t (b);
ALTER TABLE ls.t ADD CONSTRAINT t_b_key UNIQUE USING INDEX t_b_key;
ALTER TABLE ls.t ADD COLUMN note text;
RESET lock_timeout;
SELECT drydock.capture_end();
SELECT count(*) AS findings FROM pg_temp.findings(false);
SELECT drydock.baseline_save('ls_pre') IS NOT NULL AS saved;

-- 3. lock_timeout as the session really had it: SET LOCAL counts, and a
-- lock taken after RESET does not borrow it
SELECT drydock.capture_begin('rollback');
BEGIN;
SET LOCAL lock_timeout = '1s';
ALTER TABLE ls.t DROP COLUMN note;
COMMIT;
ALTER TABLE ls.t DROP COLUMN d;
SELECT drydock.capture_end();
SELECT code, object, status, statement FROM pg_temp.findings(true);

-- 4. the rollback phase is judged too: its unsafe forms ...
CREATE TABLE ls.q (id bigint PRIMARY KEY);
SELECT drydock.capture_reset();
SELECT drydock.capture_begin('apply');
SELECT drydock.capture_end();
SELECT drydock.capture_begin('rollback');
DROP INDEX ls.t_a_idx;
ALTER TABLE ls.t RENAME TO t_old;
TRUNCATE ls.q;
SELECT drydock.capture_end();
SELECT code, object, status, statement FROM pg_temp.findings(true);
-- ... and its safe ones
SELECT drydock.capture_reset();
SELECT drydock.capture_begin('apply');
SELECT drydock.capture_end();
SELECT drydock.capture_begin('rollback');
SET lock_timeout = '2s';
CREATE INDEX CONCURRENTLY t_a_idx ON ls.t_old (a);
DROP INDEX CONCURRENTLY ls.t_a_idx;
ALTER TABLE ls.t_old ADD COLUMN note text;
RESET lock_timeout;
SELECT drydock.capture_end();
SELECT count(*) AS findings FROM pg_temp.findings(true);

-- 5. "pre-existing" is what production has: the base pinned by
-- capture_base_save() (drydock replay, before its first pair) survives
-- capture_reset(); a table created after it is not judged
SELECT drydock.capture_reset();
SELECT drydock.capture_base_save();
CREATE TABLE ls.later (id bigint PRIMARY KEY, x integer);
SELECT drydock.capture_reset();
SELECT drydock.capture_begin('apply');
ALTER TABLE ls.later ADD COLUMN y integer;
ALTER TABLE ls.q ADD COLUMN y integer;
SELECT drydock.capture_end();
SELECT code, object, status, statement FROM pg_temp.findings(false);
UPDATE drydock.capture_state SET base_pinned = false;

SELECT drydock.baseline_drop('ls_pre');
SELECT drydock.capture_reset();
DROP SCHEMA ls CASCADE;

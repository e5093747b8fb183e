-- verify_scope: with a baseline, TV005/TV006, KC, CV and NH judge what the
-- migration created or changed, not production's existing objects (policy
-- key audit_existing opts in); the default policy passes a best-practice
-- schema (bigint identity keys, text, timestamptz, varchar(200) is only a
-- warning, FK with its index).
\set VERBOSITY terse
SELECT drydock.capture_reset();
CREATE SCHEMA sc;
-- production's own debt: none of it is the migration's
CREATE TABLE sc.legacy (id integer PRIMARY KEY, at timestamp, j json, v varchar(10), "Bad" text);
CREATE TABLE sc.nokey (x text);
CREATE UNLOGGED TABLE sc.scratch (id bigint PRIMARY KEY);
SELECT drydock.baseline_save('sc_pre') IS NOT NULL AS saved;
SELECT drydock.capture_begin('apply');
-- the migration: one column on an existing table, two well-designed tables
ALTER TABLE sc.legacy ADD COLUMN seen_at timestamp;
CREATE TABLE sc.customers (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE sc.orders (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES sc.customers (id),
    title varchar(200),
    placed_at timestamptz NOT NULL DEFAULT now(),
    payload jsonb
);
CREATE INDEX orders_customer_id_idx ON sc.orders (customer_id);
SELECT drydock.capture_end();
-- only the migration's column and its varchar(200) (a warning) show up;
-- every finding is placed at the statement that caused it
SELECT code, object, status, l.command_tag
  FROM drydock.verify('sc', '{}', 'sc_pre') v
  LEFT JOIN drydock.capture_log l ON l.seq = v.seq
 WHERE status NOT IN ('pass', 'skipped') AND family <> 'LS' ORDER BY code, object;
-- auditing production too
SELECT code, object, status
  FROM drydock.verify('sc', '{"audit_existing": true}', 'sc_pre')
 WHERE status NOT IN ('pass', 'skipped') AND family <> 'LS' ORDER BY code, object;
-- the best-practice tables alone: no failure with the default policy
SELECT count(*) FILTER (WHERE status = 'fail') AS failures,
       string_agg(code || ' ' || object, ', ') FILTER (WHERE status = 'warn') AS warnings
  FROM drydock.verify('sc', '{}', 'sc_pre')
 WHERE object NOT LIKE 'sc.legacy%';
-- the original operator's narrow whitelist is a policy, not the default
-- (examples/policies/narrow-types.json)
SELECT code, object, status FROM drydock.verify('sc',
       '{"allowed_types": ["text", "timestamptz", "jsonb", "boolean", "integer"]}', 'sc_pre')
 WHERE family = 'CV' AND status NOT IN ('pass', 'skipped') ORDER BY code, object;
-- without a baseline everything in the schema is judged, as before
SELECT count(*) > 5 AS judged_all FROM drydock.verify('sc')
 WHERE family IN ('CV', 'KC', 'NH', 'TV') AND status NOT IN ('pass', 'skipped');
-- the baseline is checked as drydock.diff() checks it, whichever call
-- needs the diff first (the scope, AO or RB); audit_existing needs no scope
SELECT count(*) FROM drydock.verify('sc', '{}', 'sc_no_such_baseline');
SELECT count(*) FROM drydock.verify('sc', '{"audit_existing": true}', 'sc_no_such_baseline');
SELECT count(*) FROM drydock.verify_rollback('sc', '{}', 'sc_no_such_baseline');
SELECT count(*) FROM drydock.verify('sc', '{}', '');
SELECT drydock.baseline_drop('sc_pre');
SELECT drydock.capture_reset();
DROP SCHEMA sc CASCADE;
-- a schema the baseline has empty (scaffolded): everything in it is the
-- migration's, so the default policy judges what audit_existing judges;
-- a table the migration puts outside it is still found (AO003)
CREATE SCHEMA sc_new;
SELECT drydock.baseline_save('sc_new_pre') IS NOT NULL AS saved;
SELECT drydock.capture_begin('apply');
CREATE TABLE sc_new.debt (id integer PRIMARY KEY, at timestamp, j json, "Bad" text);
CREATE TABLE sc_new.nokey (x text);
CREATE TABLE public.sc_new_stray (id bigint PRIMARY KEY);
CREATE SEQUENCE public.sc_new_seq;
CREATE FUNCTION public.sc_new_fn() RETURNS integer LANGUAGE sql AS 'SELECT 1';
CREATE STATISTICS public.sc_new_stat ON id, at FROM sc_new.debt;
SELECT drydock.capture_end();
SELECT code, object, status
  FROM drydock.verify('sc_new', '{}', 'sc_new_pre')
 WHERE status NOT IN ('pass', 'skipped') AND family <> 'LS' ORDER BY code, object;
SELECT (SELECT array_agg(code || ' ' || object || ' ' || status ORDER BY code, object)
          FROM drydock.verify('sc_new', '{}', 'sc_new_pre'))
     = (SELECT array_agg(code || ' ' || object || ' ' || status ORDER BY code, object)
          FROM drydock.verify('sc_new', '{"audit_existing": true}', 'sc_new_pre')) AS same_as_audit_existing;
-- the diff leaves the new schema's objects out (they are all "added"), not
-- what lies outside it, even a statistics object on one of its tables
SELECT code, object, status FROM drydock.verify('sc_new', '{}', 'sc_new_pre') WHERE code = 'AO003';
DROP TABLE public.sc_new_stray;
DROP SEQUENCE public.sc_new_seq;
DROP FUNCTION public.sc_new_fn();
DROP STATISTICS public.sc_new_stat;
SELECT drydock.baseline_drop('sc_new_pre');
SELECT drydock.capture_reset();
DROP SCHEMA sc_new CASCADE;

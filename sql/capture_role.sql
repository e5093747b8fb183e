-- DDL of a NON-superuser apply role is captured (SECURITY DEFINER event
-- trigger functions), and that role cannot read, write or stop the log.
SELECT drydock.capture_reset();
CREATE ROLE regress_dd_apply NOLOGIN;
CREATE SCHEMA rolecap AUTHORIZATION regress_dd_apply;
CREATE TABLE public.dd_base (id integer PRIMARY KEY, v integer);
ALTER TABLE public.dd_base OWNER TO regress_dd_apply;

SELECT drydock.capture_begin('apply');
SET ROLE regress_dd_apply;
CREATE TABLE rolecap.items (id integer PRIMARY KEY, base_id integer REFERENCES public.dd_base);
ALTER TABLE public.dd_base ADD COLUMN note text;
-- tampering attempts all fail
SELECT * FROM drydock.ddl_log;
INSERT INTO drydock.capture_log (phase, command_tag, event) VALUES ('apply', 'FAKE', 'x');
DELETE FROM drydock.capture_log;
UPDATE drydock.capture_state SET phase = NULL;
SELECT drydock.capture_end();
SELECT drydock.capture_reset();
RESET ROLE;
SELECT drydock.capture_end();

SELECT seq, phase, command_tag, object_type, identity, cascade, rewrite, locks FROM drydock.ddl_log ORDER BY seq;
-- nothing in drydock is granted to PUBLIC
SELECT c.relname, c.relacl IS NULL OR NOT EXISTS (SELECT 1 FROM aclexplode(c.relacl) a WHERE a.grantee = 0) AS no_public
  FROM pg_class c WHERE c.relnamespace = 'drydock'::regnamespace AND c.relkind IN ('r', 'v') ORDER BY 1;
SELECT p.proname FROM pg_proc p
 WHERE p.pronamespace = 'drydock'::regnamespace AND p.proname LIKE 'capture%'
   AND has_function_privilege('regress_dd_apply', p.oid, 'EXECUTE') ORDER BY 1;

DROP SCHEMA rolecap CASCADE;
DROP TABLE public.dd_base;
DROP ROLE regress_dd_apply;
SELECT drydock.capture_reset();

-- Suppressions (policy keys "suppress" and "allow_suppress"): a matching
-- fail/warn finding becomes "suppressed" with the source and the reason;
-- globs and the object-part rule; expired and stale suppressions give a
-- "warn" row; bad entries are ERRORs naming the entry.  docs/codes.md.
SELECT drydock.capture_reset();
CREATE SCHEMA sup;
CREATE TABLE sup.audit (at timestamptz, what text);                 -- KC001
CREATE TABLE sup.orders (id integer PRIMARY KEY, note json,          -- CV003
                         created timestamp);                         -- CV002
CREATE TABLE sup.order_lines (id integer PRIMARY KEY,
                              order_id integer REFERENCES sup.orders); -- KC004 (warn)

-- every code, family, default severity and reporter (docs/codes.md)
SELECT * FROM drydock.finding_codes();

-- without suppressions
SELECT code, object, status FROM drydock.verify('sup')
 WHERE status IN ('fail', 'warn') ORDER BY code, object;

-- exact object, default source "policy"; the table glob covers its columns
-- (sup.orders -> sup.orders.note) but not another table (sup.order_lines)
SELECT code, object, status, message FROM drydock.verify('sup', '{"suppress": [
   {"code": "KC001", "object": "sup.audit", "reason": "append-only log, no key by design"},
   {"code": "CV003", "object": "sup.orders", "reason": "payload kept verbatim", "source": "up.sql:4"}]}')
 WHERE status IN ('fail', 'warn', 'suppressed') ORDER BY code, object;

-- globs: * and ?; a code list; no object = every object; a warn finding too
SELECT code, object, status FROM drydock.verify('sup', '{"suppress": [
   {"code": ["CV002", "CV003"], "object": "sup.*", "reason": "legacy types"},
   {"code": "KC001", "object": "sup.audi?", "reason": "append-only"},
   {"code": "KC004", "reason": "tiny tables"}]}')
 WHERE status IN ('fail', 'warn', 'suppressed') ORDER BY code, object;

-- "name on TABLE" and "TABLE(args)" parts
SELECT drydock.object_glob_match(g, o) AS match, g, o
  FROM (VALUES ('sup.orders', 'sup.orders'), ('sup.orders', 'sup.orders.note'),
               ('sup.orders', 'orders_pkey on sup.orders'), ('sup.f', 'sup.f(integer)'),
               ('sup.orders', 'sup.order_lines'), ('sup.orders', 'sup.orders_pkey'),
               ('sup.order*', 'sup.order_lines.order_id'), ('*', NULL)) v(g, o);

-- expires: in the past -> not applied + a warn row; far future -> applied
SELECT code, object, status, message FROM drydock.verify('sup', '{"suppress": [
   {"code": "KC001", "object": "sup.audit", "reason": "until the key lands", "expires": "2001-01-31"},
   {"code": "CV002", "object": "sup.orders.created", "reason": "migrating", "expires": "2999-12-31"}]}')
 WHERE code IN ('KC001', 'CV002') ORDER BY status, code;

-- stale: matched nothing -> a warn row; an RB entry is judged by verify_rollback only
SELECT code, object, status, message FROM drydock.verify('sup', '{"suppress": [
   {"code": "NH001", "object": "sup.nothing", "reason": "was needed once", "source": "up.sql:9"},
   {"code": "RB001", "object": "sup.x", "reason": "rollback only"}]}')
 WHERE status NOT IN ('pass', 'skipped') AND code IN ('NH001', 'RB001');
SELECT code, object, status, message FROM drydock.verify_rollback('sup', '{"suppress": [
   {"code": "NH001", "object": "sup.nothing", "reason": "apply only"},
   {"code": ["RB001", "RB002", "RB004"], "object": "sup.x", "reason": "rollback only"}]}')
 WHERE status = 'warn';

-- allow_suppress: codes or families (enforced by the driver on inline ones)
SELECT count(*) > 0 AS ok FROM drydock.verify('sup', '{"allow_suppress": ["KC004", "CV", "NH"], "suppress": []}');
SELECT count(*) > 0 AS ok FROM drydock.verify('sup', '{"allow_suppress": null}');

-- bad entries: ERRORs naming the entry
SELECT * FROM drydock.verify('sup', '{"suppress": {"code": "KC001"}}');
SELECT * FROM drydock.verify('sup', '{"suppress": ["KC001"]}');
SELECT * FROM drydock.verify('sup', '{"suppress": [{"object": "sup.audit", "reason": "x"}]}');
SELECT * FROM drydock.verify('sup', '{"suppress": [{"code": "KC001", "object": "sup.audit"}]}');
SELECT * FROM drydock.verify('sup', '{"suppress": [{"code": "KC001", "reason": "  "}]}');
SELECT * FROM drydock.verify('sup', '{"suppress": [{"code": "KC999", "reason": "x"}]}');
SELECT * FROM drydock.verify('sup', '{"suppress": [{"code": "KC", "reason": "families are not codes"}]}');
SELECT * FROM drydock.verify('sup', '{"suppress": [{"code": "KC00?", "reason": "codes are not globs"}]}');
SELECT * FROM drydock.verify('sup', '{"suppress": [{"code": "RP001", "reason": "replay"}]}');
SELECT * FROM drydock.verify('sup', '{"suppress": [{"code": [], "reason": "x"}]}');
SELECT * FROM drydock.verify('sup', '{"suppress": [{"code": "KC001", "reason": "x", "expires": "31/12/2030"}]}');
SELECT * FROM drydock.verify('sup', '{"suppress": [{"code": "KC001", "reason": "x", "expires": "2030-02-30"}]}');
SELECT * FROM drydock.verify('sup', '{"suppress": [{"code": "KC001", "reason": "x", "object": 1}]}');
SELECT * FROM drydock.verify('sup', '{"suppress": [{"code": "KC001", "reason": "x", "why": "y"}]}');
SELECT * FROM drydock.verify('sup', '{"allow_suppress": "AO"}');
SELECT * FROM drydock.verify('sup', '{"allow_suppress": ["AO", "XX001"]}');

-- a deliberate non-inverse: an enum value the rollback cannot drop is
-- accepted (RB001/RB002/RB004 on sup.mood), an undeclared residue (a
-- sequence) in the same rollback still fails
CREATE TYPE sup.mood AS ENUM ('ok', 'sad');
SELECT drydock.baseline_save('sup_pre') IS NOT NULL AS saved;
SELECT drydock.capture_begin('apply');
ALTER TYPE sup.mood ADD VALUE 'happy';
CREATE SEQUENCE sup.ticket_seq;
SELECT drydock.capture_end();
SELECT drydock.capture_begin('rollback');
SELECT drydock.capture_end();
SELECT code, object, status, message FROM drydock.verify_rollback('sup', '{"suppress": [
   {"code": ["RB001", "RB002", "RB004"], "object": "sup.mood",
    "reason": "PostgreSQL cannot drop an enum value", "source": "down.sql:1"}]}', 'sup_pre')
 WHERE status <> 'pass' ORDER BY code, object;
SELECT drydock.baseline_drop('sup_pre');

DROP SCHEMA sup CASCADE;
SELECT drydock.capture_reset();

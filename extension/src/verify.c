/*
 * verify.c
 *		The governance verification battery: drydock.verify() (families TV,
 *		KC, CV, NH, AO) and drydock.verify_rollback() (family RB).
 *
 * Each family is ONE set-based SPI query over pg_catalog (never
 * information_schema, which is an order of magnitude slower) returning
 * (code, object, message) findings for all of its rules at once, so the
 * cost is a handful of queries whatever the number of tables.  The C code
 * then turns findings into rows according to the policy (verify_policy.c):
 *
 *	- rule at "error" with findings	-> one "fail" row per finding;
 *	- rule at "warn" with findings	-> one "warn" row per finding;
 *	- rule with no finding			-> one "pass" row for the rule;
 *	- rule at "off"					-> one "skipped" row ("disabled by policy");
 *	- rule not applicable			-> one "skipped" row saying why.
 *
 * So every rule yields at least one row, in the stable order of the codes.
 *
 * Finding codes (stable; suppressions will be keyed on them; never
 * renumber, only append; docs/codes.md has fixes and examples):
 *
 *	TV001	target schema does not exist
 *	TV002	a table listed in expected_tables does not exist
 *	TV003	number of tables differs from expected_tables
 *	TV004	a table not listed in expected_tables exists
 *	TV005	table is UNLOGGED
 *	TV006	table is partitioned or foreign (not a plain table)
 *	KC001	table has no primary key
 *	KC002	foreign key references a table outside the target schema
 *	KC003	foreign key column type differs from the referenced column
 *	KC004	foreign key columns not covered by an index (default warn)
 *	KC005	constraint left NOT VALID
 *	CV001	column type not in allowed_types (no more specific code)
 *	CV002	column is timestamp without time zone
 *	CV003	column is json
 *	CV004	column is varchar(n) / character varying
 *	CV005	column is char(n) / character
 *	CV006	column is money
 *	NH001	name does not match name_pattern
 *	NH002	name needs quoting (not a keyword issue)
 *	NH003	name is a keyword that is not unreserved
 *	NH004	identifier truncated to 63 bytes
 *	AO001	pre-existing object altered (baseline diff "changed")
 *	AO002	pre-existing object dropped (baseline diff "removed")
 *	AO003	object created outside the target schema
 *	AO004	the artifact creates the target schema
 *	AO005	pre-existing table rewritten (captured table_rewrite)
 *	AO006	a statement locks a pre-existing table (its indexes folded in)
 *			stronger than max_lock_on_existing
 *	RB001	rollback residue: object left behind (diff "added")
 *	RB002	rollback damaged pre-existing state (diff "removed"/"changed")
 *	RB003	rollback dropped something by CASCADE
 *	RB004	object created by the apply still exists after the rollback
 *	CV007	serial column (a sequence default): identity preferred (warn)
 *	CV008	integer/smallint primary key column: bigint preferred (warn)
 *	LS001..LS010	lock safety of pre-existing relations, per phase (apply
 *			in verify(), rollback in verify_rollback()), from the capture
 *			log: see ls_sql below and docs/codes.md
 *
 * Scope: with a baseline, TV005/TV006, KC, CV and NH judge only what the
 * migration created or changed (identities "added" or "changed" in
 * drydock.diff(baseline)), unless policy key audit_existing is true: a
 * migration that adds one column to production is not blamed for
 * production's existing columns.  When the baseline has nothing in the
 * target schema but the schema itself, everything there is new and the
 * families run unscoped (baseline_has_schema_objects()).
 *
 * Location: every row carries "seq", the drydock.capture_log row of the
 * statement that caused it (its query text is there), or NULL; the driver
 * turns it into the artifact, line and statement number.
 *
 * TV006/CV (the CV00x codes) are exclusive per column: a column whose type
 * is not allowed gets the most specific code only.  The CV002..CV006 codes
 * apply only when the type is not in allowed_types: allowing "json"
 * explicitly silences CV003.
 */
#include "postgres.h"

#include <sys/resource.h>

#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/objectaddress.h"
#include "catalog/pg_attribute.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "portability/instr_time.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/jsonb.h"
#include "utils/syscache.h"
#include "utils/tuplestore.h"

#include "object_glob.h"
#include "srf.h"
#include "drydock.h"
#include "verify.h"
#include "catalog_state.h"

PG_FUNCTION_INFO_V1(drydock_verify);
PG_FUNCTION_INFO_V1(drydock_verify_rollback);
PG_FUNCTION_INFO_V1(drydock_object_exists);
PG_FUNCTION_INFO_V1(drydock_finding_codes);
PG_FUNCTION_INFO_V1(drydock_object_glob_match_sql);

/* Parameters common to every family query. */
#define NPARAMS 15
/*
 *	$1 text		target schema
 *	$2 text[]	expected_tables list (NULL: not given as a list)
 *	$3 int4		expected table count (-1: not given)
 *	$4 text[]	allowed_types
 *	$5 text		name_pattern
 *	$6 text		baseline label (NULL: none)
 *	$7 text[]	notices
 *	$8 int4		rank of max_lock_on_existing (1..8)
 *	$9 text		name of max_lock_on_existing
 *	$10 text[]	scope: identities added or changed since the baseline
 *				(NULL: everything in the target schema is judged)
 *	$11 text	capture phase judged by LS (apply or rollback)
 *	$12..$15 text[]	the diff against the baseline, one row per element:
 *				change, kind, identity, schema (NULL arrays: no diff)
 */

/* Is identity X in the scope ($10)?  A hashed subplan, not a scan of $10 per row. */
#define IN_SCOPE(x) "($10 IS NULL OR " x " IN (SELECT unnest($10)))"


/* The tables of the target schema, shared by the TV/KC/CV/NH queries. */
#define TABLES_CTE \
	"t AS (SELECT c.oid, c.relname::text AS relname, c.relkind, c.relpersistence," \
	"             quote_ident($1) || '.' || quote_ident(c.relname) AS tbl" \
	"        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace" \
	"       WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'f'))"

static const char *const tv_sql =
"WITH " TABLES_CTE
" SELECT 'TV001', quote_ident($1), format('target schema %s does not exist', quote_ident($1))"
"  WHERE NOT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)"
" UNION ALL"
" SELECT 'TV002', quote_ident($1) || '.' || quote_ident(e),"
"        format('expected table %s.%s does not exist', quote_ident($1), quote_ident(e))"
"   FROM unnest($2) e WHERE e NOT IN (SELECT relname FROM t)"
" UNION ALL"
" SELECT 'TV003', quote_ident($1), format('expected %s tables, found %s', $3, count(*))"
"   FROM t HAVING $3 >= 0 AND count(*) <> $3"
" UNION ALL"
" SELECT 'TV004', tbl, format('table %s is not listed in expected_tables', tbl)"
"   FROM t WHERE $2 IS NOT NULL AND relname <> ALL ($2)"
" UNION ALL"
" SELECT 'TV005', tbl, format('table %s is UNLOGGED: not crash-safe and not replicated', tbl)"
"   FROM t WHERE relpersistence = 'u' AND " IN_SCOPE("tbl")
" UNION ALL"
" SELECT 'TV006', tbl, format('table %s is a %s table, not a plain table', tbl,"
"        CASE relkind WHEN 'p' THEN 'partitioned' ELSE 'foreign' END)"
"   FROM t WHERE relkind IN ('p', 'f') AND " IN_SCOPE("tbl");

static const char *const kc_sql =
"WITH " TABLES_CTE ","
" con AS (SELECT con.oid, con.conname::text AS conname, con.contype, con.conkey,"
"                con.confrelid, con.confkey, con.convalidated, con.conrelid,"
"                t.tbl, t.tbl || '.' || quote_ident(con.conname) AS obj"
"           FROM pg_constraint con JOIN t ON t.oid = con.conrelid"
/* only what KC002..KC005 can report on: foreign keys and NOT VALID constraints */
"          WHERE (con.contype = 'f' OR NOT con.convalidated)"
"            AND " IN_SCOPE("quote_ident(con.conname) || ' on ' || t.tbl") "),"
/*
 * one row per FK column pair with the referencing column's attribute;
 * materialized so that the attribute lookups are index probes rather than
 * a hash per constraint (OFFSET 0 keeps the lookup a probe of
 * (attrelid, attnum) per pair: joined, it became a hash of the unnested
 * keys per constraint).  fkn: each FK's column list, for KC004 (one
 * grouped pass instead of a lookup per finding).
 */
" fk AS MATERIALIZED (SELECT con.obj, con.conname, con.tbl, con.conrelid, con.conkey, con.confrelid,"
"                            k.att, k.fatt, k.i,"
"                            a.attname, a.atttypid, a.atttypmod"
"                       FROM con CROSS JOIN LATERAL unnest(con.conkey, con.confkey) WITH ORDINALITY AS k(att, fatt, i)"
"                       CROSS JOIN LATERAL (SELECT a.attname, a.atttypid, a.atttypmod FROM pg_attribute a"
"                                            WHERE a.attrelid = con.conrelid AND a.attnum = k.att OFFSET 0) a"
"                      WHERE con.contype = 'f'),"
" fkn AS (SELECT obj, conname, tbl, conrelid, conkey,"
"                string_agg(quote_ident(attname), ', ' ORDER BY i) AS names"
"           FROM fk GROUP BY obj, conname, tbl, conrelid, conkey)"
/*
 * KC001, KC002: hashed subplans (one scan each) rather than a probe per
 * table or per foreign key: thousands of them after a large migration.  A
 * foreign key references a table (r, p), so "outside the target schema" is
 * "not one of t".
 */
" SELECT 'KC001', tbl, format('table %s has no primary key', tbl)"
"   FROM t WHERE relkind IN ('r', 'p') AND " IN_SCOPE("tbl")
"    AND t.oid NOT IN (SELECT p.conrelid FROM pg_constraint p WHERE p.contype = 'p')"
" UNION ALL"
" SELECT 'KC002', con.obj,"
"        format('foreign key %s on %s references %s.%s outside the target schema',"
"               quote_ident(conname), tbl, quote_ident(fn.nspname), quote_ident(fc.relname))"
"   FROM con JOIN pg_class fc ON fc.oid = con.confrelid"
"        JOIN pg_namespace fn ON fn.oid = fc.relnamespace"
"  WHERE con.contype = 'f' AND con.confrelid NOT IN (SELECT oid FROM t) AND fn.nspname <> $1"
" UNION ALL"
" SELECT 'KC003', fk.obj,"
"        format('foreign key %s: column %s is %s but referenced column %s.%s is %s',"
"               quote_ident(fk.conname), quote_ident(fk.attname), format_type(fk.atttypid, fk.atttypmod),"
"               (SELECT quote_ident(relname) FROM pg_class WHERE oid = fk.confrelid),"
"               quote_ident(fa.attname), format_type(fa.atttypid, fa.atttypmod))"
"   FROM fk"
"   JOIN pg_attribute fa ON fa.attrelid = fk.confrelid AND fa.attnum = fk.fatt"
"  WHERE fk.atttypid <> fa.atttypid OR fk.atttypmod <> fa.atttypmod"
" UNION ALL"
" SELECT 'KC004', fkn.obj,"
"        format('foreign key %s on %s (%s) has no index with these leading columns',"
"               quote_ident(fkn.conname), fkn.tbl, fkn.names)"
"   FROM fkn"
/* indkey is an int2vector, subscripted from 0: its first cardinality(conkey) columns */
"  WHERE NOT EXISTS ("
"        SELECT 1 FROM pg_index i"
"         WHERE i.indrelid = fkn.conrelid AND i.indpred IS NULL"
"           AND i.indkey[0:cardinality(fkn.conkey) - 1] @> fkn.conkey)"
" UNION ALL"
" SELECT 'KC005', con.obj,"
"        format('%s constraint %s on %s is NOT VALID', CASE con.contype WHEN 'f' THEN 'foreign key'"
"               WHEN 'c' THEN 'check' WHEN 'n' THEN 'not-null' ELSE con.contype::text END, quote_ident(conname), tbl)"
"   FROM con WHERE NOT con.convalidated";

/*
 * CV: $4 NULL means no whitelist: CV001 never fires, CV002..CV006 fire
 * unless their type is in allowed_types.  CV007/CV008 do not depend on
 * allowed_types (they judge how a key is made, not which types exist).
 */
/*
 * col: only the columns that can give a finding (a type CV001..CV006 can
 * report, an owned sequence, an int2/int4 type) get their object identity
 * built and looked up in the scope; each branch below still applies its
 * own condition.
 */
#define CV_BAD_TYPE(t) \
	"(" t " NOT IN (SELECT oid FROM al WHERE oid IS NOT NULL)" \
	" AND ($4 IS NOT NULL OR " t " IN ('timestamp'::regtype, 'json'::regtype," \
	"      'varchar'::regtype, 'bpchar'::regtype, 'money'::regtype)))"

static const char *const cv_sql =
"WITH " TABLES_CTE ","
" al AS (SELECT to_regtype(x)::oid AS oid FROM unnest($4) x),"
/* serial: from the (few) sequences to the columns owning them (AUTO dependency) */
" ser AS (SELECT dp.refobjid, dp.refobjsubid FROM pg_class sq JOIN pg_depend dp ON dp.objid = sq.oid"
"          WHERE sq.relkind = 'S' AND dp.classid = 'pg_class'::regclass"
"            AND dp.refclassid = 'pg_class'::regclass AND dp.deptype = 'a'),"
" col AS (SELECT t.tbl || '.' || quote_ident(a.attname) AS obj, quote_ident(a.attname) AS att,"
"                a.attrelid, a.attnum, a.attidentity, a.atttypid, a.atttypmod"
"           FROM t JOIN pg_attribute a ON a.attrelid = t.oid"
"          WHERE a.attnum > 0 AND NOT a.attisdropped"
"            AND (" CV_BAD_TYPE("a.atttypid") " OR a.atttypid IN ('int2'::regtype, 'int4'::regtype)"
"                 OR (a.attrelid, a.attnum) IN (SELECT refobjid, refobjsubid FROM ser))"
"            AND " IN_SCOPE("t.tbl || '.' || quote_ident(a.attname)") "),"
" bad AS (SELECT * FROM col WHERE " CV_BAD_TYPE("atttypid") ")"
" SELECT CASE atttypid WHEN 'timestamp'::regtype THEN 'CV002' WHEN 'json'::regtype THEN 'CV003'"
"          WHEN 'varchar'::regtype THEN 'CV004' WHEN 'bpchar'::regtype THEN 'CV005'"
"          WHEN 'money'::regtype THEN 'CV006' ELSE 'CV001' END, obj,"
"        CASE atttypid"
"          WHEN 'timestamp'::regtype THEN format('column %s is %s: the time zone is lost; use timestamptz', att, format_type(atttypid, atttypmod))"
"          WHEN 'json'::regtype THEN format('column %s is json: no equality, no GIN index, keeps duplicate keys; use jsonb', att)"
"          WHEN 'varchar'::regtype THEN format('column %s is %s: changing the limit later needs an ALTER; use text (with a CHECK on length if needed)', att, format_type(atttypid, atttypmod))"
"          WHEN 'bpchar'::regtype THEN format('column %s is %s: blank-padded; use text', att, format_type(atttypid, atttypmod))"
"          WHEN 'money'::regtype THEN format('column %s is money: its text form depends on lc_monetary; use numeric or integer cents', att)"
"          ELSE format('column %s has type %s, which is not in allowed_types', att, format_type(atttypid, atttypmod)) END"
"   FROM bad"
" UNION ALL"
/* serial: a default owned (AUTO dependency) sequence, not an identity */
" SELECT 'CV007', obj, format('column %s is %s with an owned sequence default (serial): use GENERATED ALWAYS AS IDENTITY', att, format_type(atttypid, atttypmod))"
"   FROM col"
"  WHERE attidentity = '' AND (attrelid, attnum) IN (SELECT refobjid, refobjsubid FROM ser)"
" UNION ALL"
" SELECT 'CV008', obj, format('primary key column %s is %s: it runs out at %s rows; use bigint', att, format_type(atttypid, atttypmod),"
"        CASE atttypid WHEN 'int2'::regtype THEN '32767' ELSE '2147483647' END)"
"   FROM col"
"  WHERE atttypid IN ('int2'::regtype, 'int4'::regtype) AND EXISTS ("
"        SELECT 1 FROM pg_constraint p WHERE p.conrelid = col.attrelid AND p.contype = 'p'"
"           AND col.attnum = ANY (p.conkey))";

/*
 * NH: a name can give a finding only if it fails name_pattern, needs
 * quoting (every keyword that is not unreserved does), is 63 bytes long or
 * is the truncated name of a notice: only those names (NH_CANDIDATE) get
 * their object and scope identities built and looked up in the scope.
 */
#define NH_CANDIDATE(x) \
	"(" x " !~ $5 OR quote_ident(" x ") <> " x " OR octet_length(" x ") = 63" \
	" OR " x " IN (SELECT nt.x[2] FROM nt))"

static const char *const nh_sql =
"WITH " TABLES_CTE ","
/* the identifiers the apply's NOTICEs say were truncated */
" nt AS (SELECT x FROM unnest($7) n,"
/* a notice may end with " (at FILE:LINE)": where the driver saw it */
"               LATERAL regexp_match(n, 'identifier \"(.*)\" will be truncated to \"([^\"]*)\"(?: \\(at (.*)\\))?') x"
"         WHERE x IS NOT NULL),"
" nm0 AS (SELECT 'table' AS what, t.tbl AS obj, t.relname AS nm, t.tbl AS sid FROM t"
"          WHERE " NH_CANDIDATE("t.relname")
"        UNION ALL"
"        SELECT 'column', t.tbl || '.' || quote_ident(a.attname), a.attname::text,"
"               t.tbl || '.' || quote_ident(a.attname)"
"          FROM t JOIN pg_attribute a ON a.attrelid = t.oid"
"         WHERE a.attnum > 0 AND NOT a.attisdropped AND " NH_CANDIDATE("a.attname::text")
"        UNION ALL"
"        SELECT 'constraint', t.tbl || '.' || quote_ident(con.conname), con.conname::text,"
"               quote_ident(con.conname) || ' on ' || t.tbl"
"          FROM t JOIN pg_constraint con ON con.conrelid = t.oid"
/* 18's NOT NULL rows: generated names, no user wrote them (drydock.h) */
"         WHERE con.contype <> 'n' AND " NH_CANDIDATE("con.conname::text")
"        UNION ALL"
/* an index backing a PK/UNIQUE shares the constraint's name: reported once */
"        SELECT 'index', quote_ident($1) || '.' || quote_ident(i.relname), i.relname::text,"
"               quote_ident($1) || '.' || quote_ident(i.relname)"
"          FROM pg_class i JOIN pg_namespace n ON n.oid = i.relnamespace"
"         WHERE n.nspname = $1 AND i.relkind IN ('i', 'I') AND " NH_CANDIDATE("i.relname::text")
"           AND NOT EXISTS (SELECT 1 FROM pg_constraint c"
"                            WHERE c.conindid = i.oid AND c.conname = i.relname"
"                              AND c.contype IN ('p', 'u', 'x'))),"
" nm AS (SELECT what, obj, nm FROM nm0 WHERE " IN_SCOPE("sid") "),"
" kw AS (SELECT word, catdesc FROM pg_get_keywords() WHERE catcode <> 'U'),"
" tr AS (SELECT 1 AS prio, x[2] AS name, NULL::text AS obj,"
"               format('identifier \"%s\" was truncated to \"%s\" (%s)', x[1], x[2],"
"                      coalesce('psql NOTICE at ' || x[3], 'NOTICE of the apply')) AS msg"
"          FROM nt"
"        UNION ALL"
"        SELECT 2, nm, obj, format('%s name %s is %s bytes (NAMEDATALEN - 1): almost certainly truncated from a longer identifier',"
"                                  what, quote_ident(nm), octet_length(nm))"
"          FROM nm WHERE octet_length(nm) = 63"
"        UNION ALL"
"        SELECT 3, btrim(p, '\"'), l.identity,"
"               format('%s %s (%s, captured) has a 63-byte name: almost certainly truncated from a longer identifier',"
"                      l.object_type, l.identity, l.command_tag)"
"          FROM drydock.capture_log l, LATERAL regexp_split_to_table(l.identity, '\\.| on ') p"
/* a 63-byte part needs a 63-byte identity: most rows are not split at all */
"         WHERE l.phase = 'apply' AND octet_length(l.identity) >= 63"
"           AND octet_length(btrim(p, '\"')) = 63)"
" SELECT 'NH001', obj, format('%s name %s does not match name_pattern %s', what, quote_ident(nm), $5)"
"   FROM nm WHERE nm !~ $5"
" UNION ALL"
" SELECT 'NH002', obj, format('%s name %s needs quoting', what, quote_ident(nm))"
"   FROM nm WHERE quote_ident(nm) <> nm AND nm NOT IN (SELECT word FROM kw)"
" UNION ALL"
" SELECT 'NH003', obj, format('%s name %s is a keyword (%s)', what, nm, kw.catdesc)"
"   FROM nm JOIN kw ON kw.word = nm"
" UNION ALL"
" SELECT 'NH004', coalesce(obj, (SELECT min(obj) FROM nm WHERE nm.nm = s.name), quote_ident(name)), msg"
"   FROM (SELECT DISTINCT ON (name) * FROM tr ORDER BY name, prio) s";

/*
 * AO and RB: the diff against the baseline, computed once per call by
 * run_battery (ensure_diff) with drydock.diff()'s own query and passed in as
 * $12..$15; empty without a baseline or the catalog-state API (the rules
 * are then "skipped").  "added" carries the schema of each added object.
 */
#define DIFF_CTES \
	"d AS (SELECT * FROM unnest($12::text[], $13::text[], $14::text[], $15::text[])" \
	"        AS d(change, kind, identity, schema))," \
	" added AS (SELECT kind, identity, schema FROM d WHERE change = 'added')"
/*
 * The identity an object had before a rename captured as fact "rename_X:OLD"
 * on row ap/fx (whose identity is the new one): a relation or column keeps
 * its parent, a schema is just the old name.
 */
#define RENAMED_OLD_OF(r, m2, kind) \
	"CASE " kind " WHEN 'schema' THEN quote_ident(" m2 ")" \
	" ELSE regexp_replace(" r ".identity, '\\.[^.]*$', '') || '.' || quote_ident(" m2 ") END"
#define RENAMED_OLD RENAMED_OLD_OF("ap", "m[2]", "m[1]")
#define RENAMED_OLD_FX RENAMED_OLD_OF("fx", "fx.arg", "substr(fx.fact, 8)")

/*
 * AO006 works per statement (rows of one statement share xact and stmt;
 * relations and index -> table come from drydock.capture_relations;
 * a row without them is a statement of its own) and per pre-existing TABLE:
 * a lock on an index is folded into its table, unless the statement targets
 * the index itself (a ddl_command_end row or an original sql_drop row naming
 * it: ALTER INDEX, DROP INDEX).  Locks are held to the end of the
 * transaction and every row shows all of them, so a statement is charged
 * only with what it raised: the strongest mode on the table, if no earlier
 * statement of the same transaction already held it at least as strongly.
 */
static const char *const ao_sql =
/* the columns the rules read: not the statement texts, large and unused here */
" ap AS (SELECT seq, xact, coalesce(stmt, -seq) AS st, event, original, classid, objid, locks,"
"               facts, identity, command_tag, rewrite, preexisting"
"          FROM drydock.capture_log WHERE phase = 'apply'),"
" ren AS (SELECT " RENAMED_OLD " AS old, ap.seq FROM ap, unnest(ap.facts) f,"
"               LATERAL regexp_match(f, '^rename_(relation|column|schema):(.*)$') m"
"         WHERE m IS NOT NULL AND ap.identity IS NOT NULL),"
" sts AS (SELECT xact, st, min(seq) AS seq0,"
"                coalesce(array_agg(objid) FILTER (WHERE classid = 'pg_class'::regclass"
"                                       AND (event <> 'sql_drop' OR original)), '{}') AS targets"
"           FROM ap GROUP BY xact, st),"
" lk AS (SELECT s.xact, s.seq0,"
"               CASE WHEN x.tablename IS NOT NULL AND x.relid <> ALL (s.targets) THEN x.tablename ELSE m[1] END AS rel,"
"               max(array_position(ARRAY['AccessShareLock', 'RowShareLock', 'RowExclusiveLock',"
"                 'ShareUpdateExclusiveLock', 'ShareLock', 'ShareRowExclusiveLock',"
"                 'ExclusiveLock', 'AccessExclusiveLock'], m[2])) AS rank"
"          FROM (SELECT * FROM ap WHERE ap.locks <> '{}') ap"
"               JOIN sts s ON s.xact IS NOT DISTINCT FROM ap.xact AND s.st = ap.st,"
"               unnest(ap.locks) l, LATERAL regexp_match(l, '^(.*):([A-Za-z]+)$') m"
"               LEFT JOIN drydock.capture_relations x ON x.phase = 'apply' AND x.relname = m[1]"
"         GROUP BY 1, 2, 3)"
" SELECT 'AO001', identity, format('pre-existing %s %s was altered', kind, identity), NULL::bigint"
"   FROM d WHERE change = 'changed'"
" UNION ALL"
/* a renamed object is LS009's, not a drop */
" SELECT 'AO002', identity, format('pre-existing %s %s was dropped', kind, identity), NULL"
"   FROM d WHERE change = 'removed'"
"    AND NOT EXISTS (SELECT 1 FROM ren WHERE d.identity = ren.old"
"                       OR starts_with(d.identity, ren.old || '.')"
"                       OR right(d.identity, length(ren.old) + 4) = ' on ' || ren.old)"
" UNION ALL"
" SELECT 'AO003', identity, format('%s %s was created outside the target schema %s', kind, identity, quote_ident($1)), NULL"
"   FROM added"
"  WHERE schema IS DISTINCT FROM $1 AND NOT (kind = 'schema' AND identity = quote_ident($1))"
" UNION ALL"
" (SELECT 'AO004', quote_ident($1), format('the artifact creates the target schema %s (%s)', quote_ident($1), src), sq"
"    FROM (SELECT 1, 'captured ' || command_tag AS src, seq AS sq FROM ap"
"           WHERE command_tag = 'CREATE SCHEMA' AND identity = quote_ident($1)"
"          UNION ALL"
"          SELECT 2, 'added since the baseline', NULL FROM d"
"           WHERE change = 'added' AND kind = 'schema' AND identity = quote_ident($1)"
"          ORDER BY 1 LIMIT 1) s)"
" UNION ALL"
" SELECT 'AO005', identity, format('%s rewrote pre-existing table %s (every row copied under AccessExclusiveLock)',"
"                                  command_tag, identity), seq"
"   FROM ap WHERE rewrite AND preexisting AND event <> 'phase_end'"
" UNION ALL"
" SELECT DISTINCT 'AO006', lk.rel,"
"        format('%s %s takes %s on pre-existing %s (stronger than max_lock_on_existing %s)',"
"               f.command_tag, coalesce(f.identity, '?'),"
"               (ARRAY['AccessShareLock', 'RowShareLock', 'RowExclusiveLock',"
"                 'ShareUpdateExclusiveLock', 'ShareLock', 'ShareRowExclusiveLock',"
"                 'ExclusiveLock', 'AccessExclusiveLock'])[lk.rank], lk.rel, $9), lk.seq0"
"   FROM lk JOIN ap f ON f.seq = lk.seq0"
"  WHERE lk.rank > $8"
"    AND NOT EXISTS (SELECT 1 FROM lk e WHERE e.xact = lk.xact AND e.rel = lk.rel"
"                       AND e.seq0 < lk.seq0 AND e.rank >= lk.rank)";

static const char *const rb_sql =
/* per rollback statement, its first ddl_command_end row with a text (RB003) */
" cs AS (SELECT xact, stmt, min(seq) AS seq FROM drydock.capture_log"
"         WHERE phase = 'rollback' AND event = 'ddl_command_end' AND query IS NOT NULL"
"         GROUP BY xact, stmt)"
" SELECT 'RB001', identity, format('%s %s was left behind by the rollback', kind, identity), NULL::bigint"
"   FROM d WHERE change = 'added'"
" UNION ALL"
" SELECT 'RB002', identity, format('pre-existing %s %s was %s by the rollback', kind, identity,"
"                                  CASE change WHEN 'removed' THEN 'dropped' ELSE 'altered' END), NULL"
"   FROM d WHERE change IN ('removed', 'changed')"
" UNION ALL"
/* the statement's row (the DROP's own ddl_command_end row) has its text */
" SELECT 'RB003', lg.identity, format('%s %s was dropped by CASCADE (%s)', lg.object_type, lg.identity,"
"                                      lg.command_tag), cs.seq"
"   FROM drydock.capture_log lg LEFT JOIN cs ON cs.xact = lg.xact AND cs.stmt = lg.stmt"
"  WHERE lg.phase = 'rollback' AND lg.cascade"
" UNION ALL"
" SELECT 'RB004', identity, format('%s %s created by the apply (%s) still exists', object_type, identity, command_tag), NULL"
"   FROM drydock.capture_log lg WHERE phase = 'apply' AND event = 'ddl_command_end' AND command_tag LIKE 'CREATE %'"
/* pg_identify_object() of a dropped object is NULL from PG 14 on, an ERROR
 * before: ask drydock.object_exists() first (CASE evaluates lazily) */
"    AND CASE WHEN drydock.object_exists(classid, objid, objsubid)"
"             THEN (pg_identify_object(classid, objid, objsubid)).identity END = lg.identity";


/*
 * LS: lock safety of relations that existed when phase $11 began, judged
 * from the capture log of that phase (capture.c): per statement, its first
 * ddl_command_end row carries the locks it raised, the facts read from its
 * parse tree, the session's lock_timeout and its text.  Index locks are
 * folded into their table.  Every finding carries that row's seq.
 */
#define LOCK_MODES_ARRAY \
	"ARRAY['AccessShareLock', 'RowShareLock', 'RowExclusiveLock'," \
	" 'ShareUpdateExclusiveLock', 'ShareLock', 'ShareRowExclusiveLock'," \
	" 'ExclusiveLock', 'AccessExclusiveLock']"

static const char *const ls_sql =
/*
 * lg: the rows read below (a statement's ddl_command_end rows for sts, a
 * rewrite of a pre-existing relation for rw; not the thousands of sql_drop
 * rows of a rollback) and their columns (not the statement texts)
 */
"WITH lg AS MATERIALIZED (SELECT seq, xact, coalesce(stmt, -seq) AS st, event, identity, object_type,"
"                                classid, objid, preexisting, locks, facts, lock_timeout, command_tag, rewrite"
"                           FROM drydock.capture_log WHERE phase = $11"
"                            AND (event = 'ddl_command_end'"
"                                 OR (rewrite AND preexisting AND classid = 'pg_class'::regclass))),"
/*
 * bs: the relations of phase $11's baseline that production has: those in
 * drydock.capture_base (they existed when capture first began: before the
 * apply, or before the first migration of a replay), tables, views and
 * indexes, not sequences.
 */
" bs AS MATERIALIZED (SELECT r.relid, r.relname, r.tablename FROM drydock.capture_relations r"
"         WHERE r.phase = $11 AND r.relkind IS DISTINCT FROM 'S'"
"           AND r.relid IN (SELECT b.objid FROM drydock.capture_base b"
"                            WHERE b.classid = 'pg_class'::regclass)),"
/* the tag fact is read once per statement, after DISTINCT ON, not per row */
" sts AS MATERIALIZED (SELECT s.seq, s.xact, s.st, s.identity, s.object_type, s.classid, s.objid,"
"                              s.preexisting, s.locks, s.facts, s.lock_timeout,"
"                              coalesce((SELECT substr(f, 5) FROM unnest(s.facts) f WHERE f LIKE 'tag:%' LIMIT 1),"
"                                       s.command_tag) AS command_tag"
"                         FROM (SELECT DISTINCT ON (xact, st) * FROM lg WHERE event = 'ddl_command_end'"
"                                ORDER BY xact, st, seq) s),"
" lk AS MATERIALIZED (SELECT s.xact, s.st, s.seq, s.command_tag, s.lock_timeout,"
"               coalesce(x.tablename, m[1]) AS rel,"
"               max(array_position(" LOCK_MODES_ARRAY ", m[2])) AS rank"
"          FROM sts s, unnest(s.locks) l, LATERAL regexp_match(l, '^(.*):([A-Za-z]+)$') m"
"               JOIN bs x ON x.relname = m[1]"
"         GROUP BY 1, 2, 3, 4, 5, 6),"
" fx AS MATERIALIZED (SELECT s.xact, s.st, s.seq, s.command_tag, s.identity, s.object_type,"
"               s.classid, s.objid, m[1] AS fact, m[2] AS arg,"
"               s.preexisting AND (s.classid <> 'pg_class'::regclass"
"                                  OR s.objid IN (SELECT relid FROM bs)) AS preexisting"
"          FROM sts s, unnest(s.facts) f, LATERAL regexp_match(f, '^([a-z_]+):?(.*)$') m),"
/* a constraint named in a fact, as findings write constraints */
/* rewrites; those seen only when the phase ended count as one event per table */
" rw AS (SELECT coalesce(st.seq, l.seq) AS seq0, l.xact,"
"               CASE WHEN l.event = 'phase_end' THEN 0 ELSE l.st END AS st, l.command_tag,"
"               coalesce(x.tablename, x.relname) AS rel, x.relname AS what"
"          FROM lg l JOIN bs x ON x.relid = l.objid"
"               LEFT JOIN sts st ON st.xact = l.xact AND st.st = l.st"
"         WHERE l.rewrite AND l.preexisting AND l.classid = 'pg_class'::regclass"
"        UNION ALL"
"        SELECT fx.seq, fx.xact, fx.st, fx.command_tag, coalesce(x.tablename, x.relname), x.relname"
"          FROM fx JOIN bs x ON x.relname = fx.arg"
"         WHERE fx.fact = 'rewritten')"
" SELECT DISTINCT 'LS001', rel,"
"        format('%s took %s on pre-existing %s while lock_timeout was 0 (phase %s): it waits for every open transaction on the table while all later queries on it queue behind it; SET lock_timeout (e.g. ''5s'') first and retry',"
"               command_tag, (" LOCK_MODES_ARRAY ")[rank], rel, $11), seq"
"   FROM lk WHERE rank >= 5 AND lock_timeout = 0"
" UNION ALL"
" SELECT DISTINCT 'LS002', lk.rel,"
"        CASE WHEN fx.fact = 'create_index'"
"             THEN format('CREATE INDEX without CONCURRENTLY on pre-existing %s takes %s (phase %s): writes wait until the index is built; use CREATE INDEX CONCURRENTLY, outside a transaction block',"
"                         lk.rel, (" LOCK_MODES_ARRAY ")[lk.rank], $11)"
"             ELSE format('DROP INDEX without CONCURRENTLY takes %s on pre-existing %s (phase %s): reads and writes wait; use DROP INDEX CONCURRENTLY, outside a transaction block',"
"                         (" LOCK_MODES_ARRAY ")[lk.rank], lk.rel, $11) END, fx.seq"
"   FROM fx JOIN lk ON lk.seq = fx.seq"
"  WHERE fx.fact IN ('create_index', 'drop_index')"
" UNION ALL"
" SELECT 'LS003', fx.identity || coalesce('.' || quote_ident(nullif(split_part(fx.arg, ':', 2), '')), ''),"
"        format('ALTER TABLE %s ADD %s %s checks every row while holding its lock (phase %s): add it NOT VALID, then VALIDATE CONSTRAINT in a later transaction',"
"               fx.identity, split_part(fx.arg, ':', 1), quote_ident(split_part(fx.arg, ':', 2)), $11), fx.seq"
"   FROM fx WHERE fx.fact = 'add_validated' AND fx.preexisting"
" UNION ALL"
" SELECT 'LS003', v.identity || '.' || quote_ident(v.arg),"
"        format('ALTER TABLE %s VALIDATE CONSTRAINT %s runs in the transaction that added it NOT VALID (phase %s): the lock of the ADD is still held during the scan; commit between them',"
"               v.identity, quote_ident(v.arg), $11), v.seq"
"   FROM fx v WHERE v.fact = 'validate' AND v.preexisting AND EXISTS ("
"        SELECT 1 FROM fx a WHERE a.fact = 'add_not_valid' AND a.arg = v.arg AND a.xact = v.xact"
"           AND a.identity = v.identity AND a.seq <= v.seq)"
" UNION ALL"
" SELECT 'LS004', fx.identity || '.' || quote_ident(fx.arg),"
"        format('ALTER TABLE %s ALTER COLUMN %s SET NOT NULL scans the whole table under AccessExclusiveLock (phase %s): first ADD CONSTRAINT ... CHECK (%s IS NOT NULL) NOT VALID and VALIDATE it, then SET NOT NULL uses it',"
"               fx.identity, quote_ident(fx.arg), $11, quote_ident(fx.arg)), fx.seq"
"   FROM fx WHERE fx.fact = 'set_not_null' AND fx.preexisting"
" UNION ALL"
" SELECT 'LS005', fx.identity || '.' || quote_ident(fx.arg),"
"        format('ALTER TABLE %s ADD COLUMN %s NOT NULL without a default succeeded only because the table is empty here (phase %s): it fails once the table has rows; give it a DEFAULT, or add it nullable, backfill, then SET NOT NULL',"
"               fx.identity, quote_ident(fx.arg), $11), fx.seq"
"   FROM fx WHERE fx.fact = 'add_column_not_null' AND fx.preexisting"
" UNION ALL"
" SELECT 'LS006', fx.identity || coalesce('.' || quote_ident(nullif(split_part(fx.arg, ':', 2), '')), ''),"
"        format('ALTER TABLE %s adding %s %s builds its index under AccessExclusiveLock (phase %s): CREATE UNIQUE INDEX CONCURRENTLY first, then ADD CONSTRAINT ... %s USING INDEX',"
"               fx.identity, split_part(fx.arg, ':', 1), quote_ident(split_part(fx.arg, ':', 2)), $11,"
"               split_part(fx.arg, ':', 1)), fx.seq"
"   FROM fx WHERE fx.fact = 'add_index_constraint' AND fx.preexisting"
" UNION ALL"
" SELECT 'LS007', rel, format('%s rewrote pre-existing %s (new relfilenode: %s; phase %s): the copy runs under AccessExclusiveLock and reads and writes wait for all of it',"
"               CASE command_tag WHEN 'REWRITE' THEN 'a statement without DDL (VACUUM FULL, CLUSTER, TRUNCATE or REINDEX)' ELSE command_tag END,"
"               rel, string_agg(DISTINCT what, ', ' ORDER BY what), $11),"
"        CASE WHEN command_tag = 'REWRITE' THEN NULL ELSE min(seq0) END"
"   FROM rw GROUP BY xact, st, command_tag, rel"
" UNION ALL"
" SELECT DISTINCT 'LS008', lk.rel,"
"        format('%s took AccessExclusiveLock on pre-existing %s and %s more statement(s) ran before the transaction ended (phase %s): every read and write of the table waits for all of them; commit right after the locking statement',"
"               lk.command_tag, lk.rel, (SELECT count(*) FROM sts n WHERE n.xact = lk.xact AND n.seq > lk.seq), $11), lk.seq"
"   FROM lk WHERE lk.rank = 8 AND EXISTS (SELECT 1 FROM sts n WHERE n.xact = lk.xact AND n.seq > lk.seq)"
" UNION ALL"
" SELECT 'LS009', CASE fx.fact WHEN 'rename_enum_value' THEN fx.identity ELSE " RENAMED_OLD_FX " END,"
"        format('%s renamed pre-existing %s %s to %s (phase %s): clients using the old name break; add the new name alongside (a view, a synced column, a new value) and remove the old one in a later release',"
"               fx.command_tag,"
"               CASE fx.fact WHEN 'rename_relation' THEN 'relation' WHEN 'rename_column' THEN 'column'"
"                    WHEN 'rename_schema' THEN 'schema' ELSE 'enum value of ' || fx.identity END,"
"               CASE fx.fact WHEN 'rename_enum_value' THEN quote_literal(fx.arg) ELSE " RENAMED_OLD_FX " END,"
"               CASE fx.fact WHEN 'rename_enum_value' THEN 'a new label' ELSE fx.identity END, $11), fx.seq"
"   FROM fx WHERE fx.fact LIKE 'rename\\_%' AND fx.identity IS NOT NULL"
"    AND (fx.preexisting OR EXISTS (SELECT 1 FROM drydock.capture_base o"
"                                    WHERE o.classid = fx.classid AND o.objid = fx.objid"
"                                      AND o.classid <> 'pg_class'::regclass))"
" UNION ALL"
" SELECT 'LS010', fx.identity,"
"        format('ALTER TABLE %s is the ALTER TABLE number %s of pre-existing %s in one transaction (phase %s): combine them into one ALTER TABLE (one lock, at most one scan or rewrite)',"
"               fx.identity, (SELECT count(*) FROM fx p WHERE p.fact = 'alter_table' AND p.xact = fx.xact"
"                                AND p.identity = fx.identity AND p.seq <= fx.seq), fx.identity, $11), fx.seq"
"   FROM fx WHERE fx.fact = 'alter_table' AND fx.preexisting AND EXISTS ("
"        SELECT 1 FROM fx p WHERE p.fact = 'alter_table' AND p.xact = fx.xact"
"           AND p.identity = fx.identity AND p.seq < fx.seq)";

/* An entry of the statement locations (load_locations). */
typedef struct Location
{
	char	   *identity;
	char	   *seq;			/* bigint text */
} Location;

typedef struct VerifyCtx
{
	DrydockPolicy *policy;
	char	   *schema;
	char	   *baseline;
	bool		has_diff_api;
	bool		has_apply_capture;
	bool		has_rollback_capture;
	Datum		scope;			/* text[] of $10, or (Datum) 0: unscoped */
	bool		locations_loaded;	/* load_locations() ran */
	Location   *locations;		/* sorted by identity (strcmp) */
	int			nlocations;
	bool		diff_done;		/* ensure_diff() ran */
	Datum		diff[4];		/* text[]s of $12..$15, or (Datum) 0 */
	bool		want_scope;		/* ensure_diff() builds diff_scope */
	bool		skip_new_schema;	/* the diff leaves out the target schema's rels */
	Datum		diff_scope;		/* text[]: identities added or changed */
	const char *phase;			/* $11: "apply" (verify) or "rollback" */
	Tuplestorestate *tupstore;
	TupleDesc	tupdesc;
} VerifyCtx;

#define NO_BASELINE_MSG "no baseline given: pre-existing objects cannot be checked"
#define NO_API_MSG "the catalog-state API (drydock.diff, drydock.catalog_objects) is not installed"
#define NO_APPLY_MSG "no DDL captured in phase apply: run the apply between drydock.capture_begin('apply') and drydock.capture_end()"
#define NO_ROLLBACK_MSG "no DDL captured in phase rollback: run the rollback between drydock.capture_begin('rollback') and drydock.capture_end()"

/*
 * Why a rule cannot be checked in this call, or NULL if it can.  These
 * rules still get a row ("skipped" with the reason): what was not exercised
 * is said, never silently dropped.
 */
static const char *
not_applicable(VerifyCtx *ctx, const char *code)
{
	DrydockPolicy *p = ctx->policy;

	if (strcmp(code, "CV001") == 0 && !p->allowed_types_given)
		return "policy gives no allowed_types (no type whitelist)";
	if (strncmp(code, "LS", 2) == 0)
		return (strcmp(ctx->phase, "apply") == 0 ? ctx->has_apply_capture : ctx->has_rollback_capture) ?
			NULL : strcmp(ctx->phase, "apply") == 0 ? NO_APPLY_MSG : NO_ROLLBACK_MSG;
	if (strcmp(code, "TV002") == 0 || strcmp(code, "TV004") == 0)
		return p->expected_is_list ? NULL :
			"policy gives no expected_tables list";
	if (strcmp(code, "TV003") == 0)
		return p->expected_count >= 0 ? NULL :
			"policy gives no expected_tables";
	if (strcmp(code, "KC002") == 0 && p->allow_cross_schema_fk)
		return "cross-schema foreign keys allowed by policy (allow_cross_schema_fk = true)";
	if (strcmp(code, "AO001") == 0 || strcmp(code, "AO002") == 0 ||
		strcmp(code, "AO003") == 0 || strcmp(code, "RB001") == 0 ||
		strcmp(code, "RB002") == 0)
	{
		if (ctx->baseline == NULL)
			return NO_BASELINE_MSG;
		if (!ctx->has_diff_api)
			return NO_API_MSG;
		return NULL;
	}
	if (strcmp(code, "AO004") == 0)
	{
		if (!p->forbid_schema_creation)
			return "schema creation allowed by policy (forbid_schema_creation = false)";
		if (!ctx->has_apply_capture && (ctx->baseline == NULL || !ctx->has_diff_api))
			return "no baseline given and no DDL captured in phase apply";
		return NULL;
	}
	if (strcmp(code, "AO005") == 0 || strcmp(code, "AO006") == 0 ||
		strcmp(code, "RB004") == 0)
		return ctx->has_apply_capture ? NULL : NO_APPLY_MSG;
	if (strcmp(code, "RB003") == 0)
		return ctx->has_rollback_capture ? NULL : NO_ROLLBACK_MSG;
	return NULL;
}

static void
emit(VerifyCtx *ctx, const DrydockRule *rule, const char *object,
	 const char *status, const char *message, const char *seq)
{
	Datum		values[6];
	bool		nulls[6] = {false, false, false, false, false, false};

	values[0] = CStringGetTextDatum(rule->family);
	values[1] = CStringGetTextDatum(rule->code);
	if (object)
		values[2] = CStringGetTextDatum(object);
	else
		nulls[2] = true;
	values[3] = CStringGetTextDatum(status);
	values[4] = CStringGetTextDatum(message);
	if (seq)
		values[5] = Int64GetDatum((int64) strtoll(seq, NULL, 10));	/* our own query's bigint text */
	else
		nulls[5] = true;
	tuplestore_putvalues(ctx->tupstore, ctx->tupdesc, values, nulls);
}

/*
 * The statement a finding on object f.obj comes from when its query gives
 * none: the first statement of the apply whose captured row names the
 * object itself, else its table (a column "s.t.c" or constraint "s.t.c":
 * the object without its last part).  Read once per call (load_locations)
 * into an array sorted by identity in byte order, then looked up per
 * finding by binary search.
 */
#define LOCATE_SQL \
	"SELECT identity, min(seq) FROM drydock.capture_log" \
	" WHERE phase = 'apply' AND event = 'ddl_command_end' AND query IS NOT NULL" \
	"   AND identity IS NOT NULL AND object_type IS DISTINCT FROM 'schema'" \
	" GROUP BY identity ORDER BY identity COLLATE \"C\""

/* One finding of a family query. */
typedef struct Finding
{
	char	   *code;
	char	   *obj;			/* NULL allowed */
	char	   *msg;
	char	   *seq;			/* bigint text, or NULL */
	int64		seqval;
} Finding;

static void
load_locations(VerifyCtx *ctx)
{
	int			ret;

	ctx->locations_loaded = true;
	ret = SPI_execute(LOCATE_SQL, true, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "drydock: reading statement locations failed: %s", SPI_result_code_string(ret));
	ctx->nlocations = (int) SPI_processed;
	ctx->locations = palloc((ctx->nlocations + 1) * sizeof(Location));
	for (int i = 0; i < ctx->nlocations; i++)
	{
		ctx->locations[i].identity = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
		ctx->locations[i].seq = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2);
	}
	SPI_freetuptable(SPI_tuptable);
}

static int
location_cmp(const void *key, const void *elem)
{
	return strcmp((const char *) key, ((const Location *) elem)->identity);
}

/* The seq of the first statement naming identity (len bytes), or NULL. */
static char *
find_location(VerifyCtx *ctx, const char *identity, size_t len)
{
	char	   *key = pnstrdup(identity, len);
	Location   *l = bsearch(key, ctx->locations, ctx->nlocations, sizeof(Location), location_cmp);

	pfree(key);
	return l ? l->seq : NULL;
}

/*
 * The order of the findings, as the rules consume them: code, then object
 * and message in byte order (COLLATE "C": whatever the locale), then seq;
 * NULLs last.
 */
static int
nullable_strcmp(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return (a == NULL) - (b == NULL);
	return strcmp(a, b);
}

static int
finding_cmp(const void *x, const void *y)
{
	const Finding *a = x;
	const Finding *b = y;
	int			c;

	if ((c = strcmp(a->code, b->code)) != 0 ||
		(c = nullable_strcmp(a->obj, b->obj)) != 0 ||
		(c = nullable_strcmp(a->msg, b->msg)) != 0)
		return c;
	if (a->seq == NULL || b->seq == NULL)
		return (a->seq == NULL) - (b->seq == NULL);
	return a->seqval < b->seqval ? -1 : a->seqval > b->seqval;
}

/*
 * Profiling: the wall and CPU time of a step, logged at DEBUG1
 * ("drydock: WHAT (phase P) took X ms (cpu Y ms), N rows"), which
 * bench/post_checks_bench.sh reads.
 */
typedef struct StepTimer
{
	instr_time	wall;
	double		cpu_ms;
} StepTimer;

static double
cpu_ms_now(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) != 0)
		return 0;
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000.0 +
		(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000.0;
}

static void
timer_start(StepTimer *t)
{
	INSTR_TIME_SET_CURRENT(t->wall);
	t->cpu_ms = cpu_ms_now();
}

static void
timer_log(StepTimer *t, const char *what, const char *phase, uint64 n, const char *unit)
{
	instr_time	end;

	INSTR_TIME_SET_CURRENT(end);
	INSTR_TIME_SUBTRACT(end, t->wall);
	elog(DEBUG1, "drydock: %s (phase %s) took %.3f ms (cpu %.3f ms), " UINT64_FORMAT " %s",
		 what, phase, INSTR_TIME_GET_MILLISEC(end), cpu_ms_now() - t->cpu_ms, n, unit);
}

/* Is text t equal to the C string s? */
static bool
text_equals_cstring(text *t, const char *s)
{
	size_t		len = strlen(s);

	return VARSIZE_ANY_EXHDR(t) == len && memcmp(VARDATA_ANY(t), s, len) == 0;
}

/*
 * The diff against the baseline, once per call: as drydock.diff(baseline)
 * computes it (same label checks and errors, same query, same pinned
 * settings: catalog_state.c), kept as the arrays of $12..$15.  Nothing
 * without a baseline or without the catalog-state API.
 */
static void
ensure_diff(VerifyCtx *ctx)
{
	Datum	   *cols[4];
	bool	   *colnulls[4];
	int			dims[1];
	int			lbs[1] = {1};
	uint64		n;
	StepTimer	timer;

	if (ctx->diff_done)
		return;
	ctx->diff_done = true;
	if (ctx->baseline == NULL || !ctx->has_diff_api)
		return;
	timer_start(&timer);
	drydock_check_baseline(ctx->baseline);
	drydock_spi_diff(ctx->baseline, ctx->skip_new_schema ? ctx->schema : NULL);
	n = SPI_processed;
	for (int c = 0; c < 4; c++)
	{
		cols[c] = palloc((n + 1) * sizeof(Datum));
		colnulls[c] = palloc((n + 1) * sizeof(bool));
		for (uint64 r = 0; r < n; r++)
			cols[c][r] = SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, c + 1,
									   &colnulls[c][r]);
	}
	/* the scope ($10), if wanted: the identities "added" or "changed" (never NULL) */
	if (ctx->want_scope)
	{
		Datum	   *scope = palloc((n + 1) * sizeof(Datum));
		int			nscope = 0;

		for (uint64 r = 0; r < n; r++)
		{
			text	   *change = DatumGetTextPP(cols[0][r]);

			if (!colnulls[2][r] &&
				(text_equals_cstring(change, "added") || text_equals_cstring(change, "changed")))
				scope[nscope++] = cols[2][r];
		}
		ctx->diff_scope = PointerGetDatum(construct_array(scope, nscope, TEXTOID, -1, false, TYPALIGN_INT));
	}

	/*
	 * After the apply, AO reads an "added" row only if it lies outside the
	 * target schema (AO003) or is a schema (AO004): the thousands of objects
	 * a migration adds to its own schema are left out of $12..$15 (those
	 * of a schema new since the baseline were not even computed:
	 * skip_new_schema).  verify_rollback's RB001 reads every "added" row.
	 */
	if (strcmp(ctx->phase, "apply") == 0)
	{
		uint64		kept = 0;

		for (uint64 r = 0; r < n; r++)
		{
			if (text_equals_cstring(DatumGetTextPP(cols[0][r]), "added") && !colnulls[3][r] &&
				text_equals_cstring(DatumGetTextPP(cols[3][r]), ctx->schema) &&
				!(!colnulls[1][r] && text_equals_cstring(DatumGetTextPP(cols[1][r]), "schema")))
				continue;
			for (int c = 0; c < 4; c++)
			{
				cols[c][kept] = cols[c][r];
				colnulls[c][kept] = colnulls[c][r];
			}
			kept++;
		}
		n = kept;
	}
	dims[0] = (int) n;
	for (int c = 0; c < 4; c++)
		ctx->diff[c] = PointerGetDatum(construct_md_array(cols[c], colnulls[c], 1, dims, lbs,
														  TEXTOID, -1, false, TYPALIGN_INT));
	SPI_freetuptable(SPI_tuptable);
	timer_log(&timer, "baseline diff", ctx->phase, SPI_processed, "rows");
}

/*
 * Does the baseline have objects in the target schema (other than the
 * schema itself)?  If not, every object the families judge there is new
 * since the baseline -- "added" -- so the scope would hold all of them: the
 * families run unscoped instead of building a hash of thousands of
 * identities per query.  (The difference: an object the catalog state does
 * not describe, e.g. a NOT NULL constraint row of PostgreSQL 18, is judged
 * too; it was created by the migration like everything else there.)
 */
static bool
baseline_has_schema_objects(VerifyCtx *ctx)
{
	Oid			argtypes[2] = {TEXTOID, TEXTOID};
	Datum		values[2];
	bool		isnull;
	bool		result;

	values[0] = CStringGetTextDatum(ctx->baseline);
	values[1] = CStringGetTextDatum(ctx->schema);
	if (SPI_execute_with_args("SELECT EXISTS (SELECT 1 FROM drydock.baseline_object"
							  "                WHERE label = $1 AND schema = $2 AND kind <> 'schema')",
							  2, argtypes, values, NULL, true, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "drydock: reading the baseline's objects failed");
	result = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_freetuptable(SPI_tuptable);
	return result;
}

/*
 * Run one family: its query (only if some rule of the family is active),
 * then one or more rows per rule of the family, in code order.  The query
 * returns (code, obj, msg) or, with_seq, (code, obj, msg, seq); locate: a
 * finding without a seq is placed with the statement locations.
 */
static void
run_family(VerifyCtx *ctx, const char *family, const char *sql, bool with_seq, bool locate)
{
	DrydockPolicy *p = ctx->policy;
	bool		any_active = false;
	Finding    *fs = NULL;
	uint64		ntup = 0;
	uint64		next = 0;
	char	   *schema_obj = (char *) quote_identifier(ctx->schema);

	for (int i = 0; i < drydock_nrules; i++)
		if (strcmp(drydock_rules[i].family, family) == 0 && p->sev[i] != SEV_OFF &&
			not_applicable(ctx, drydock_rules[i].code) == NULL)
			any_active = true;

	if (any_active)
	{
		Oid			argtypes[NPARAMS] = {TEXTOID, TEXTARRAYOID, INT4OID, TEXTARRAYOID,
		TEXTOID, TEXTOID, TEXTARRAYOID, INT4OID, TEXTOID, TEXTARRAYOID, TEXTOID,
		TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID};
		Datum		values[NPARAMS];
		char		nulls[NPARAMS];
		int			ret;
		SPITupleTable *tt;
		StepTimer	timer;

		/* the diff first: its own DEBUG1 line, not part of the family's time */
		if (strcmp(family, "AO") == 0 || strcmp(family, "RB") == 0)
			ensure_diff(ctx);
		timer_start(&timer);
		memset(nulls, ' ', sizeof(nulls));
		values[0] = CStringGetTextDatum(ctx->schema);
		if (p->expected_is_list)
			values[1] = drydock_text_array(p->expected_tables);
		else
		{
			values[1] = (Datum) 0;
			nulls[1] = 'n';
		}
		values[2] = Int32GetDatum(p->expected_count);
		if (p->allowed_types_given)
			values[3] = drydock_text_array(p->allowed_types);
		else
		{
			values[3] = (Datum) 0;
			nulls[3] = 'n';
		}
		values[4] = CStringGetTextDatum(p->name_pattern);
		if (ctx->baseline)
			values[5] = CStringGetTextDatum(ctx->baseline);
		else
		{
			values[5] = (Datum) 0;
			nulls[5] = 'n';
		}
		values[6] = drydock_text_array(p->notices);
		values[7] = Int32GetDatum(p->max_lock_rank);
		values[8] = CStringGetTextDatum(drydock_lock_modes[p->max_lock_rank - 1]);
		values[9] = ctx->scope;
		if (ctx->scope == (Datum) 0)
			nulls[9] = 'n';
		values[10] = CStringGetTextDatum(ctx->phase);
		for (int i = 0; i < 4; i++)
		{
			values[11 + i] = ctx->diff[i];
			if (ctx->diff[i] == (Datum) 0)
				nulls[11 + i] = 'n';
		}

		if (!with_seq)
			sql = psprintf("SELECT *, NULL::bigint FROM (%s) f0", sql);
		ret = SPI_execute_with_args(sql, NPARAMS, argtypes, values, nulls, true, 0);
		if (ret != SPI_OK_SELECT)
			elog(ERROR, "drydock: %s checks failed: %s", family, SPI_result_code_string(ret));
		ntup = SPI_processed;
		tt = SPI_tuptable;		/* load_locations() runs a query of its own */
		fs = palloc((ntup + 1) * sizeof(Finding));
		for (uint64 r = 0; r < ntup; r++)
		{
			HeapTuple	tup = tt->vals[r];
			TupleDesc	desc = tt->tupdesc;
			Finding    *f = &fs[r];

			f->code = SPI_getvalue(tup, desc, 1);
			f->obj = SPI_getvalue(tup, desc, 2);
			f->msg = SPI_getvalue(tup, desc, 3);
			f->seq = SPI_getvalue(tup, desc, 4);
			if (f->seq == NULL && locate && f->obj != NULL)
			{
				const char *dot = strrchr(f->obj, '.');

				if (!ctx->locations_loaded)
					load_locations(ctx);
				f->seq = find_location(ctx, f->obj, strlen(f->obj));
				if (f->seq == NULL && dot != NULL)
					f->seq = find_location(ctx, f->obj, dot - f->obj);
			}
			f->seqval = f->seq ? strtoll(f->seq, NULL, 10) : 0;
		}
		SPI_freetuptable(tt);
		/* findings in code, then object order, as the rules consume them */
		qsort(fs, ntup, sizeof(Finding), finding_cmp);
		timer_log(&timer, psprintf("%s checks", family), ctx->phase, ntup, "findings");
	}

	for (int i = 0; i < drydock_nrules; i++)
	{
		const DrydockRule *rule = &drydock_rules[i];
		const char *why;
		bool		found = false;

		if (strcmp(rule->family, family) != 0)
			continue;
		/* drop findings of earlier rules that were off or not applicable */
		while (next < ntup && strcmp(fs[next].code, rule->code) < 0)
			next++;
		if (p->sev[i] == SEV_OFF)
		{
			emit(ctx, rule, schema_obj, "skipped",
				 psprintf("disabled by policy (%s = off)",
						  p->sev_source[i] ? p->sev_source[i] : "default"), NULL);
			continue;
		}
		if ((why = not_applicable(ctx, rule->code)) != NULL)
		{
			emit(ctx, rule, schema_obj, "skipped", why, NULL);
			continue;
		}
		/* findings are sorted by code, like the rules: consume in one pass */
		while (next < ntup && strcmp(fs[next].code, rule->code) == 0)
		{
			char	   *obj = fs[next].obj;
			char	   *msg = fs[next].msg;
			char	   *seq = fs[next].seq;
			DrydockSuppression *sup = drydock_find_suppression(p, rule->code, obj);

			next++;
			found = true;
			if (sup)
				emit(ctx, rule, obj, "suppressed",
					 psprintf("suppressed (%s): %s — %s", sup->source, sup->reason, msg), seq);
			else
				emit(ctx, rule, obj, p->sev[i] == SEV_ERROR ? "fail" : "warn", msg, seq);
		}
		if (!found)
			emit(ctx, rule, schema_obj, "pass", rule->pass_msg, NULL);
	}
}

/*
 * After the families of this call: a "warn" row for every suppression of
 * one of their codes that expired (it was not applied) or matched nothing
 * (stale).  Suppressions of codes of other families belong to the other
 * entry point (verify() vs verify_rollback()) and are not judged here.
 */
static void
suppression_rows(VerifyCtx *ctx, bool rollback)
{
	ListCell   *lc;

	foreach(lc, ctx->policy->suppress)
	{
		DrydockSuppression *s = lfirst(lc);
		const DrydockRule *rule = NULL;
		ListCell   *c;
		char	   *codes = NULL;

		foreach(c, s->codes)
		{
			int			idx = drydock_rule_index(lfirst(c));

			codes = codes ? psprintf("%s,%s", codes, (char *) lfirst(c)) : pstrdup(lfirst(c));
			/*
			 * LS codes are judged in both entry points (apply and rollback
			 * phase): neither can tell on its own that such an entry is
			 * stale, so neither reports it.
			 */
			if (rule == NULL && idx >= 0 && strcmp(drydock_rules[idx].family, "LS") != 0 &&
				(strcmp(drydock_rules[idx].family, "RB") == 0) == rollback)
				rule = &drydock_rules[idx];
		}
		if (rule == NULL)
			continue;
		if (s->expired)
			emit(ctx, rule, s->object, "warn",
				 psprintf("suppression of %s expired on %s (%s): no longer applied; reason was: %s",
						  codes, s->expires, s->source, s->reason), NULL);
		else if (s->matched == 0)
			emit(ctx, rule, s->object, "warn",
				 psprintf("stale suppression (%s): %s on %s matched no finding; remove it; reason was: %s",
						  s->source, codes, s->object, s->reason), NULL);
	}
}

static void
run_battery(FunctionCallInfo fcinfo, bool rollback)
{
	VerifyCtx	ctx;
	int			ret;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("target_schema must not be NULL"),
				 errhint("Pass the schema the migration creates its objects in.")));
	memset(&ctx, 0, sizeof(ctx));
	ctx.schema = pstrdup(NameStr(*PG_GETARG_NAME(0)));
	ctx.policy = drydock_parse_policy(PG_ARGISNULL(1) ? NULL : PG_GETARG_JSONB_P(1));
	ctx.baseline = PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2));
	if (ctx.policy->schema && strcmp(ctx.policy->schema, ctx.schema) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("policy key \"schema\" is \"%s\" but target_schema is \"%s\"",
						ctx.policy->schema, ctx.schema),
				 errhint("Remove \"schema\" from the policy or verify that schema.")));

	drydock_init_srf(fcinfo, &ctx.tupstore, &ctx.tupdesc);

	SPI_connect();

	/* allowed_types must all resolve, or a typo would allow nothing */
	{
		Oid			argtypes[1] = {TEXTARRAYOID};
		Datum		values[1];

		values[0] = drydock_text_array(ctx.policy->allowed_types);
		ret = SPI_execute_with_args("SELECT x FROM pg_catalog.unnest($1) x"
									" WHERE pg_catalog.to_regtype(x) IS NULL LIMIT 1",
									1, argtypes, values, NULL, true, 1);
		if (ret != SPI_OK_SELECT)
			elog(ERROR, "drydock: checking allowed_types failed");
		if (SPI_processed > 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("policy key \"allowed_types\" names unknown type \"%s\"",
							SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1)),
					 errhint("Use type names as in CREATE TABLE, e.g. \"text\", \"timestamptz\", \"integer\".")));
	}

	ret = SPI_execute("SELECT pg_catalog.to_regprocedure('drydock.diff(text,name[])') IS NOT NULL"
					  "   AND pg_catalog.to_regprocedure('drydock.catalog_objects(name[])') IS NOT NULL,"
					  " EXISTS (SELECT 1 FROM drydock.capture_log WHERE phase = 'apply'),"
					  " EXISTS (SELECT 1 FROM drydock.capture_log WHERE phase = 'rollback')",
					  true, 1);
	if (ret != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "drydock: reading verification context failed");
	{
		bool		isnull;

		ctx.has_diff_api = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
		ctx.has_apply_capture = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
		ctx.has_rollback_capture = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull));
	}

	ctx.phase = rollback ? "rollback" : "apply";

	/*
	 * After the apply, with a baseline (and the diff API): a target schema
	 * the baseline has nothing in is left out of the diff (all of it is
	 * "added").  Scope of TV005/TV006, KC, CV, NH: what was added or
	 * changed since the baseline, unless audit_existing or that schema is
	 * new (then everything in it is).
	 */
	if (!rollback && ctx.baseline && ctx.has_diff_api)
		ctx.skip_new_schema = !baseline_has_schema_objects(&ctx);
	if (!rollback && ctx.baseline && ctx.has_diff_api && !ctx.policy->audit_existing)
	{
		ctx.want_scope = !ctx.skip_new_schema;
		ensure_diff(&ctx);
		if (ctx.want_scope)
			ctx.scope = ctx.diff_scope;
	}

	if (!rollback)
	{
		run_family(&ctx, "TV", tv_sql, false, true);
		run_family(&ctx, "KC", kc_sql, false, true);
		run_family(&ctx, "CV", cv_sql, false, true);
		run_family(&ctx, "NH", nh_sql, false, true);
		run_family(&ctx, "AO", psprintf("WITH %s,%s", DIFF_CTES, ao_sql), true, true);
	}
	else
		run_family(&ctx, "RB", psprintf("WITH %s,%s", DIFF_CTES, rb_sql), true, false);
	run_family(&ctx, "LS", ls_sql, true, false);
	suppression_rows(&ctx, rollback);

	SPI_finish();
}

/*
 * drydock.verify(target_schema name, policy jsonb, baseline text):
 * TV, KC, CV, NH, AO after the apply phase.
 */
Datum
drydock_verify(PG_FUNCTION_ARGS)
{
	run_battery(fcinfo, false);
	return (Datum) 0;
}

/*
 * drydock.verify_rollback(target_schema name, policy jsonb, baseline text):
 * RB after the rollback phase, baseline = the one saved before the apply.
 */
Datum
drydock_verify_rollback(PG_FUNCTION_ARGS)
{
	run_battery(fcinfo, true);
	return (Datum) 0;
}

/*
 * drydock.object_exists(classid oid, objid oid, objsubid int4) -> boolean:
 * does the object exist (a column: exists and is not dropped)?  RB004 asks
 * before calling pg_identify_object(), which returns NULLs for a missing
 * object only from PostgreSQL 14 on and raises "cache lookup failed" before.
 * For a catalog objectaddress.c does not describe, the answer is true from
 * PostgreSQL 14 on (pg_identify_object() copes) and false before (nothing
 * is claimed rather than risking the ERROR).
 */
Datum
drydock_object_exists(PG_FUNCTION_ARGS)
{
	Oid			classid = PG_GETARG_OID(0);
	Oid			objid = PG_GETARG_OID(1);
	int32		subid = PG_GETARG_INT32(2);
	bool		exists;
	Relation	rel;

	if (!is_objectclass_supported(classid))
		PG_RETURN_BOOL(PG_VERSION_NUM >= 140000);
	if (classid == RelationRelationId && subid > 0)
	{
		HeapTuple	tup = SearchSysCache2(ATTNUM, ObjectIdGetDatum(objid),
										  Int16GetDatum((int16) subid));

		if (!HeapTupleIsValid(tup))
			PG_RETURN_BOOL(false);
		exists = !((Form_pg_attribute) GETSTRUCT(tup))->attisdropped;
		ReleaseSysCache(tup);
		PG_RETURN_BOOL(exists);
	}
	/*
	 * A catalog with an OID syscache: ask the cache (RB004 asks once per
	 * object the apply created, thousands of times), without opening the
	 * catalog; get_catalog_object_by_oid() would use the same cache.
	 */
	{
		int			cacheid = (int) get_object_catcache_oid(classid);

		if (cacheid > 0)
			PG_RETURN_BOOL(SearchSysCacheExists1(cacheid, ObjectIdGetDatum(objid)));
	}
	rel = table_open(classid, AccessShareLock);
	exists = HeapTupleIsValid(get_catalog_object_by_oid(rel, get_object_attnum_oid(classid), objid));
	table_close(rel, AccessShareLock);
	PG_RETURN_BOOL(exists);
}

/*
 * drydock.finding_codes(): every stable finding code with its family,
 * default severity, what its rule checks and who reports it.  The driver's
 * copy (driver/src/suppress.c) and docs/codes.md are tested against it.
 */
Datum
drydock_finding_codes(PG_FUNCTION_ARGS)
{
	VerifyCtx	ctx;

	memset(&ctx, 0, sizeof(ctx));
	drydock_init_srf(fcinfo, &ctx.tupstore, &ctx.tupdesc);
	for (int pass = 0; pass < 2; pass++)
	{
		const DrydockRule *rules = pass == 0 ? drydock_rules : drydock_driver_rules;
		int			n = pass == 0 ? drydock_nrules : drydock_ndriver_rules;

		for (int i = 0; i < n; i++)
		{
			Datum		values[5];
			bool		nulls[5] = {false, false, false, false, false};

			values[0] = CStringGetTextDatum(rules[i].code);
			values[1] = CStringGetTextDatum(rules[i].family);
			values[2] = CStringGetTextDatum(rules[i].defsev == SEV_ERROR ? "error" :
											rules[i].defsev == SEV_WARN ? "warn" : "off");
			values[3] = CStringGetTextDatum(rules[i].pass_msg);
			values[4] = CStringGetTextDatum(pass == 1 ? "drydock replay" :
											strcmp(rules[i].family, "RB") == 0 ?
											"drydock.verify_rollback()" :
											strcmp(rules[i].family, "LS") == 0 ?
											"drydock.verify(), drydock.verify_rollback()" :
											"drydock.verify()");
			tuplestore_putvalues(ctx.tupstore, ctx.tupdesc, values, nulls);
		}
	}
	return (Datum) 0;
}

/*
 * drydock.object_glob_match(glob text, object text) -> boolean: does a
 * suppression's object glob cover a finding's object (docs/codes.md)?
 */
Datum
drydock_object_glob_match_sql(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	PG_RETURN_BOOL(dd_object_glob_match(text_to_cstring(PG_GETARG_TEXT_PP(0)),
											 PG_ARGISNULL(1) ? NULL :
											 text_to_cstring(PG_GETARG_TEXT_PP(1))));
}

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
 *
 * TV006/CV (the CV00x codes) are exclusive per column: a column whose type
 * is not allowed gets the most specific code only.  The CV002..CV006 codes
 * apply only when the type is not in allowed_types: allowing "json"
 * explicitly silences CV003.
 */
#include "postgres.h"

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
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/syscache.h"
#include "utils/tuplestore.h"

#include "srf.h"
#include "verify.h"

PG_FUNCTION_INFO_V1(drydock_verify);
PG_FUNCTION_INFO_V1(drydock_verify_rollback);
PG_FUNCTION_INFO_V1(drydock_object_exists);
PG_FUNCTION_INFO_V1(drydock_finding_codes);
PG_FUNCTION_INFO_V1(drydock_object_glob_match_sql);

/* Parameters common to every family query. */
#define NPARAMS 9
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
 */

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
"   FROM t WHERE relpersistence = 'u'"
" UNION ALL"
" SELECT 'TV006', tbl, format('table %s is a %s table, not a plain table', tbl,"
"        CASE relkind WHEN 'p' THEN 'partitioned' ELSE 'foreign' END)"
"   FROM t WHERE relkind IN ('p', 'f')";

static const char *const kc_sql =
"WITH " TABLES_CTE ","
" con AS (SELECT con.oid, con.conname::text AS conname, con.contype, con.conkey,"
"                con.confrelid, con.confkey, con.convalidated, con.conrelid,"
"                t.tbl, t.tbl || '.' || quote_ident(con.conname) AS obj"
"           FROM pg_constraint con JOIN t ON t.oid = con.conrelid),"
/* one row per FK column pair; materialized so that the attribute lookups
 * below are index probes rather than a hash per constraint */
" fk AS MATERIALIZED (SELECT con.obj, con.conname, con.conrelid, con.confrelid, k.att, k.fatt"
"                       FROM con, unnest(con.conkey, con.confkey) AS k(att, fatt)"
"                      WHERE con.contype = 'f')"
" SELECT 'KC001', tbl, format('table %s has no primary key', tbl)"
"   FROM t WHERE relkind IN ('r', 'p')"
"    AND NOT EXISTS (SELECT 1 FROM pg_constraint p WHERE p.conrelid = t.oid AND p.contype = 'p')"
" UNION ALL"
" SELECT 'KC002', con.obj,"
"        format('foreign key %s on %s references %s.%s outside the target schema',"
"               quote_ident(conname), tbl, quote_ident(fn.nspname), quote_ident(fc.relname))"
"   FROM con JOIN pg_class fc ON fc.oid = con.confrelid"
"        JOIN pg_namespace fn ON fn.oid = fc.relnamespace"
"  WHERE con.contype = 'f' AND fn.nspname <> $1"
" UNION ALL"
" SELECT 'KC003', fk.obj,"
"        format('foreign key %s: column %s is %s but referenced column %s.%s is %s',"
"               quote_ident(fk.conname), quote_ident(a.attname), format_type(a.atttypid, a.atttypmod),"
"               (SELECT quote_ident(relname) FROM pg_class WHERE oid = fk.confrelid),"
"               quote_ident(fa.attname), format_type(fa.atttypid, fa.atttypmod))"
"   FROM fk"
"   JOIN pg_attribute a ON a.attrelid = fk.conrelid AND a.attnum = fk.att"
"   JOIN pg_attribute fa ON fa.attrelid = fk.confrelid AND fa.attnum = fk.fatt"
"  WHERE a.atttypid <> fa.atttypid OR a.atttypmod <> fa.atttypmod"
" UNION ALL"
" SELECT 'KC004', con.obj,"
"        format('foreign key %s on %s (%s) has no index with these leading columns',"
"               quote_ident(conname), tbl,"
"               (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY k.i)"
"                  FROM unnest(con.conkey) WITH ORDINALITY k(att, i)"
"                  JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.att))"
"   FROM con"
"  WHERE con.contype = 'f' AND NOT EXISTS ("
"        SELECT 1 FROM pg_index i"
"         WHERE i.indrelid = con.conrelid AND i.indpred IS NULL"
"           AND (string_to_array(i.indkey::text, ' ')::int2[])[1:cardinality(con.conkey)]"
"               @> con.conkey)"
" UNION ALL"
" SELECT 'KC005', con.obj,"
"        format('%s constraint %s on %s is NOT VALID', CASE con.contype WHEN 'f' THEN 'foreign key'"
"               WHEN 'c' THEN 'check' WHEN 'n' THEN 'not-null' ELSE con.contype::text END, quote_ident(conname), tbl)"
"   FROM con WHERE NOT con.convalidated";

static const char *const cv_sql =
"WITH " TABLES_CTE ","
" al AS (SELECT to_regtype(x)::oid AS oid FROM unnest($4) x),"
" col AS (SELECT t.tbl || '.' || quote_ident(a.attname) AS obj, quote_ident(a.attname) AS att,"
"                a.atttypid, format_type(a.atttypid, a.atttypmod) AS typ"
"           FROM t JOIN pg_attribute a ON a.attrelid = t.oid"
"          WHERE a.attnum > 0 AND NOT a.attisdropped"
"            AND a.atttypid NOT IN (SELECT oid FROM al WHERE oid IS NOT NULL))"
" SELECT CASE atttypid WHEN 'timestamp'::regtype THEN 'CV002' WHEN 'json'::regtype THEN 'CV003'"
"          WHEN 'varchar'::regtype THEN 'CV004' WHEN 'bpchar'::regtype THEN 'CV005'"
"          WHEN 'money'::regtype THEN 'CV006' ELSE 'CV001' END, obj,"
"        CASE atttypid"
"          WHEN 'timestamp'::regtype THEN format('column %s is %s: the time zone is lost; use timestamptz', att, typ)"
"          WHEN 'json'::regtype THEN format('column %s is json: no equality, no GIN index, keeps duplicate keys; use jsonb', att)"
"          WHEN 'varchar'::regtype THEN format('column %s is %s: changing the limit later needs an ALTER; use text (with a CHECK on length if needed)', att, typ)"
"          WHEN 'bpchar'::regtype THEN format('column %s is %s: blank-padded; use text', att, typ)"
"          WHEN 'money'::regtype THEN format('column %s is money: its text form depends on lc_monetary; use numeric or integer cents', att)"
"          ELSE format('column %s has type %s, which is not in allowed_types', att, typ) END"
"   FROM col";

static const char *const nh_sql =
"WITH " TABLES_CTE ","
" nm AS (SELECT 'table' AS what, t.tbl AS obj, t.relname AS nm FROM t"
"        UNION ALL"
"        SELECT 'column', t.tbl || '.' || quote_ident(a.attname), a.attname::text"
"          FROM t JOIN pg_attribute a ON a.attrelid = t.oid"
"         WHERE a.attnum > 0 AND NOT a.attisdropped"
"        UNION ALL"
"        SELECT 'constraint', t.tbl || '.' || quote_ident(con.conname), con.conname::text"
"          FROM t JOIN pg_constraint con ON con.conrelid = t.oid"
/* 18's NOT NULL rows: generated names, no user wrote them (drydock.h) */
"         WHERE con.contype <> 'n'"
"        UNION ALL"
/* an index backing a PK/UNIQUE shares the constraint's name: reported once */
"        SELECT 'index', quote_ident($1) || '.' || quote_ident(i.relname), i.relname::text"
"          FROM pg_class i JOIN pg_namespace n ON n.oid = i.relnamespace"
"         WHERE n.nspname = $1 AND i.relkind IN ('i', 'I')"
"           AND NOT EXISTS (SELECT 1 FROM pg_constraint c"
"                            WHERE c.conindid = i.oid AND c.conname = i.relname"
"                              AND c.contype IN ('p', 'u', 'x'))),"
" kw AS (SELECT word, catdesc FROM pg_get_keywords() WHERE catcode <> 'U'),"
" tr AS (SELECT 1 AS prio, x[2] AS name, NULL::text AS obj,"
"               format('identifier \"%s\" was truncated to \"%s\" (%s)', x[1], x[2],"
"                      coalesce('psql NOTICE at ' || x[3], 'NOTICE of the apply')) AS msg"
/* a notice may end with " (at FILE:LINE)": where the driver saw it */
"          FROM unnest($7) n,"
"               LATERAL regexp_match(n, 'identifier \"(.*)\" will be truncated to \"([^\"]*)\"(?: \\(at (.*)\\))?') x"
"         WHERE x IS NOT NULL"
"        UNION ALL"
"        SELECT 2, nm, obj, format('%s name %s is %s bytes (NAMEDATALEN - 1): almost certainly truncated from a longer identifier',"
"                                  what, quote_ident(nm), octet_length(nm))"
"          FROM nm WHERE octet_length(nm) = 63"
"        UNION ALL"
"        SELECT 3, btrim(p, '\"'), l.identity,"
"               format('%s %s (%s, captured) has a 63-byte name: almost certainly truncated from a longer identifier',"
"                      l.object_type, l.identity, l.command_tag)"
"          FROM drydock.capture_log l, LATERAL regexp_split_to_table(l.identity, '\\.| on ') p"
"         WHERE l.phase = 'apply' AND octet_length(btrim(p, '\"')) = 63)"
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
 * AO and RB: the diff against the baseline is computed once (MATERIALIZED);
 * the one-time filter on $6 keeps drydock.diff() from running at all
 * without a baseline.  When the catalog-state API is not installed, empty
 * relations of the same shape stand in (and the rules are "skipped").
 * "added" carries the schema of each added object, from catalog_objects().
 */
#define DIFF_CTES \
	"d AS MATERIALIZED (SELECT change, kind, identity FROM drydock.diff($6) WHERE $6 IS NOT NULL)," \
	" co AS MATERIALIZED (SELECT kind, identity, schema FROM drydock.catalog_objects()" \
	"                      WHERE $6 IS NOT NULL)," \
	" added AS (SELECT d.kind, d.identity, co.schema FROM d" \
	"             LEFT JOIN co ON co.kind = d.kind AND co.identity = d.identity" \
	"            WHERE d.change = 'added')"
#define NO_DIFF_CTES \
	"d AS (SELECT NULL::text AS change, NULL::text AS kind, NULL::text AS identity WHERE false)," \
	" added AS (SELECT kind, identity, NULL::text AS schema FROM d)"

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
" ap AS (SELECT *, coalesce(stmt, -seq) AS st FROM drydock.capture_log WHERE phase = 'apply'),"
" sts AS (SELECT xact, st, min(seq) AS seq0,"
"                coalesce(array_agg(objid) FILTER (WHERE classid = 'pg_class'::regclass"
"                                       AND (event <> 'sql_drop' OR original)), '{}') AS targets"
"           FROM ap GROUP BY xact, st),"
" lk AS (SELECT s.xact, s.seq0,"
"               CASE WHEN x.tablename IS NOT NULL AND x.relid <> ALL (s.targets) THEN x.tablename ELSE m[1] END AS rel,"
"               max(array_position(ARRAY['AccessShareLock', 'RowShareLock', 'RowExclusiveLock',"
"                 'ShareUpdateExclusiveLock', 'ShareLock', 'ShareRowExclusiveLock',"
"                 'ExclusiveLock', 'AccessExclusiveLock'], m[2])) AS rank"
"          FROM ap JOIN sts s ON s.xact IS NOT DISTINCT FROM ap.xact AND s.st = ap.st,"
"               unnest(ap.locks) l, LATERAL regexp_match(l, '^(.*):([A-Za-z]+)$') m"
"               LEFT JOIN drydock.capture_relations x ON x.phase = 'apply' AND x.relname = m[1]"
"         GROUP BY 1, 2, 3)"
" SELECT 'AO001', identity, format('pre-existing %s %s was altered', kind, identity)"
"   FROM d WHERE change = 'changed'"
" UNION ALL"
" SELECT 'AO002', identity, format('pre-existing %s %s was dropped', kind, identity)"
"   FROM d WHERE change = 'removed'"
" UNION ALL"
" SELECT 'AO003', identity, format('%s %s was created outside the target schema %s', kind, identity, quote_ident($1))"
"   FROM added"
"  WHERE schema IS DISTINCT FROM $1 AND NOT (kind = 'schema' AND identity = quote_ident($1))"
" UNION ALL"
" (SELECT 'AO004', quote_ident($1), format('the artifact creates the target schema %s (%s)', quote_ident($1), src)"
"    FROM (SELECT 1, 'captured ' || command_tag AS src FROM ap"
"           WHERE command_tag = 'CREATE SCHEMA' AND identity = quote_ident($1)"
"          UNION ALL"
"          SELECT 2, 'added since the baseline' FROM d"
"           WHERE change = 'added' AND kind = 'schema' AND identity = quote_ident($1)"
"          ORDER BY 1 LIMIT 1) s)"
" UNION ALL"
" SELECT 'AO005', identity, format('%s rewrote pre-existing table %s (every row copied under AccessExclusiveLock)',"
"                                  command_tag, identity)"
"   FROM ap WHERE rewrite AND preexisting"
" UNION ALL"
" SELECT DISTINCT 'AO006', lk.rel,"
"        format('%s %s takes %s on pre-existing %s (stronger than max_lock_on_existing %s)',"
"               f.command_tag, coalesce(f.identity, '?'),"
"               (ARRAY['AccessShareLock', 'RowShareLock', 'RowExclusiveLock',"
"                 'ShareUpdateExclusiveLock', 'ShareLock', 'ShareRowExclusiveLock',"
"                 'ExclusiveLock', 'AccessExclusiveLock'])[lk.rank], lk.rel, $9)"
"   FROM lk JOIN ap f ON f.seq = lk.seq0"
"  WHERE lk.rank > $8"
"    AND NOT EXISTS (SELECT 1 FROM lk e WHERE e.xact = lk.xact AND e.rel = lk.rel"
"                       AND e.seq0 < lk.seq0 AND e.rank >= lk.rank)";

static const char *const rb_sql =
" lg AS (SELECT * FROM drydock.capture_log)"
" SELECT 'RB001', identity, format('%s %s was left behind by the rollback', kind, identity)"
"   FROM d WHERE change = 'added'"
" UNION ALL"
" SELECT 'RB002', identity, format('pre-existing %s %s was %s by the rollback', kind, identity,"
"                                  CASE change WHEN 'removed' THEN 'dropped' ELSE 'altered' END)"
"   FROM d WHERE change IN ('removed', 'changed')"
" UNION ALL"
" SELECT 'RB003', identity, format('%s %s was dropped by CASCADE (%s)', object_type, identity, command_tag)"
"   FROM lg WHERE phase = 'rollback' AND cascade"
" UNION ALL"
" SELECT 'RB004', identity, format('%s %s created by the apply (%s) still exists', object_type, identity, command_tag)"
"   FROM lg WHERE phase = 'apply' AND event = 'ddl_command_end' AND command_tag LIKE 'CREATE %'"
/* pg_identify_object() of a dropped object is NULL from PG 14 on, an ERROR
 * before: ask drydock.object_exists() first (CASE evaluates lazily) */
"    AND CASE WHEN drydock.object_exists(classid, objid, objsubid)"
"             THEN (pg_identify_object(classid, objid, objsubid)).identity END = lg.identity";

typedef struct VerifyCtx
{
	DrydockPolicy *policy;
	char	   *schema;
	char	   *baseline;
	bool		has_diff_api;
	bool		has_apply_capture;
	bool		has_rollback_capture;
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
	 const char *status, const char *message)
{
	Datum		values[5];
	bool		nulls[5] = {false, false, false, false, false};

	values[0] = CStringGetTextDatum(rule->family);
	values[1] = CStringGetTextDatum(rule->code);
	if (object)
		values[2] = CStringGetTextDatum(object);
	else
		nulls[2] = true;
	values[3] = CStringGetTextDatum(status);
	values[4] = CStringGetTextDatum(message);
	tuplestore_putvalues(ctx->tupstore, ctx->tupdesc, values, nulls);
}

static Datum
list_to_text_array(List *l)
{
	Datum	   *elems = palloc(sizeof(Datum) * (list_length(l) + 1));
	int			n = 0;
	ListCell   *lc;

	foreach(lc, l)
		elems[n++] = CStringGetTextDatum((char *) lfirst(lc));
	return PointerGetDatum(construct_array(elems, n, TEXTOID, -1, false, TYPALIGN_INT));
}

/*
 * Run one family: its query (only if some rule of the family is active),
 * then one or more rows per rule of the family, in code order.
 */
static void
run_family(VerifyCtx *ctx, const char *family, const char *sql)
{
	DrydockPolicy *p = ctx->policy;
	bool		any_active = false;
	SPITupleTable *tt = NULL;
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
		TEXTOID, TEXTOID, TEXTARRAYOID, INT4OID, TEXTOID};
		Datum		values[NPARAMS];
		char		nulls[NPARAMS];
		int			ret;

		memset(nulls, ' ', sizeof(nulls));
		values[0] = CStringGetTextDatum(ctx->schema);
		if (p->expected_is_list)
			values[1] = list_to_text_array(p->expected_tables);
		else
		{
			values[1] = (Datum) 0;
			nulls[1] = 'n';
		}
		values[2] = Int32GetDatum(p->expected_count);
		values[3] = list_to_text_array(p->allowed_types);
		values[4] = CStringGetTextDatum(p->name_pattern);
		if (ctx->baseline)
			values[5] = CStringGetTextDatum(ctx->baseline);
		else
		{
			values[5] = (Datum) 0;
			nulls[5] = 'n';
		}
		values[6] = list_to_text_array(p->notices);
		values[7] = Int32GetDatum(p->max_lock_rank);
		values[8] = CStringGetTextDatum(drydock_lock_modes[p->max_lock_rank - 1]);

		/* findings in code, then object order, whatever the locale */
		sql = psprintf("SELECT code, obj, msg FROM (%s) f(code, obj, msg)"
					   " ORDER BY code, obj COLLATE \"C\", msg COLLATE \"C\"", sql);
		ret = SPI_execute_with_args(sql, NPARAMS, argtypes, values, nulls, true, 0);
		if (ret != SPI_OK_SELECT)
			elog(ERROR, "drydock: %s checks failed: %s", family, SPI_result_code_string(ret));
		tt = SPI_tuptable;
		ntup = SPI_processed;
	}

	for (int i = 0; i < drydock_nrules; i++)
	{
		const DrydockRule *rule = &drydock_rules[i];
		const char *why;
		bool		found = false;

		if (strcmp(rule->family, family) != 0)
			continue;
		/* drop findings of earlier rules that were off or not applicable */
		while (next < ntup &&
			   strcmp(SPI_getvalue(tt->vals[next], tt->tupdesc, 1), rule->code) < 0)
			next++;
		if (p->sev[i] == SEV_OFF)
		{
			emit(ctx, rule, schema_obj, "skipped",
				 psprintf("disabled by policy (%s = off)",
						  p->sev_source[i] ? p->sev_source[i] : "default"));
			continue;
		}
		if ((why = not_applicable(ctx, rule->code)) != NULL)
		{
			emit(ctx, rule, schema_obj, "skipped", why);
			continue;
		}
		/* findings are sorted by code, like the rules: consume in one pass */
		while (next < ntup &&
			   strcmp(SPI_getvalue(tt->vals[next], tt->tupdesc, 1), rule->code) == 0)
		{
			HeapTuple	tup = tt->vals[next++];

			char	   *obj = SPI_getvalue(tup, tt->tupdesc, 2);
			char	   *msg = SPI_getvalue(tup, tt->tupdesc, 3);
			DrydockSuppression *sup = drydock_find_suppression(p, rule->code, obj);

			found = true;
			if (sup)
				emit(ctx, rule, obj, "suppressed",
					 psprintf("suppressed (%s): %s — %s", sup->source, sup->reason, msg));
			else
				emit(ctx, rule, obj, p->sev[i] == SEV_ERROR ? "fail" : "warn", msg);
		}
		if (!found)
			emit(ctx, rule, schema_obj, "pass", rule->pass_msg);
	}
	if (tt)
		SPI_freetuptable(tt);
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
			if (rule == NULL && idx >= 0 &&
				(strcmp(drydock_rules[idx].family, "RB") == 0) == rollback)
				rule = &drydock_rules[idx];
		}
		if (rule == NULL)
			continue;
		if (s->expired)
			emit(ctx, rule, s->object, "warn",
				 psprintf("suppression of %s expired on %s (%s): no longer applied; reason was: %s",
						  codes, s->expires, s->source, s->reason));
		else if (s->matched == 0)
			emit(ctx, rule, s->object, "warn",
				 psprintf("stale suppression (%s): %s on %s matched no finding; remove it; reason was: %s",
						  s->source, codes, s->object, s->reason));
	}
}

static void
run_battery(FunctionCallInfo fcinfo, bool rollback)
{
	VerifyCtx	ctx;
	int			ret;
	const char *diff_ctes;

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

		values[0] = list_to_text_array(ctx.policy->allowed_types);
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

	diff_ctes = ctx.has_diff_api ? DIFF_CTES : NO_DIFF_CTES;
	if (!rollback)
	{
		run_family(&ctx, "TV", tv_sql);
		run_family(&ctx, "KC", kc_sql);
		run_family(&ctx, "CV", cv_sql);
		run_family(&ctx, "NH", nh_sql);
		run_family(&ctx, "AO", psprintf("WITH %s,%s", diff_ctes, ao_sql));
	}
	else
		run_family(&ctx, "RB", psprintf("WITH %s,%s", diff_ctes, rb_sql));
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
											"drydock.verify_rollback()" : "drydock.verify()");
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
	PG_RETURN_BOOL(drydock_object_glob_match(text_to_cstring(PG_GETARG_TEXT_PP(0)),
											 PG_ARGISNULL(1) ? NULL :
											 text_to_cstring(PG_GETARG_TEXT_PP(1))));
}

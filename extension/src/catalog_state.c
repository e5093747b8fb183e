/*
 * catalog_state.c
 *		Canonical, OID-free catalog state of a database, its fingerprint,
 *		saved baselines and the diff against a baseline.
 *
 * drydock judges a migration and its rollback object by object: "is the
 * database after the rollback the database before the migration?".  To
 * answer that, every object a migration can create or alter is described by
 * one row (kind, identity, schema, parent, definition):
 *
 *	kind		pg_identify_object()'s type string ("table", "table column",
 *				"index", "function", ...);
 *	identity	pg_identify_object()-like name, schema-qualified and quoted
 *				as needed, never an OID, so it survives drop + re-create;
 *	schema		the schema the object lives in (NULL for roles, publications
 *				and event triggers), used for the schemas filter;
 *	parent		identity of the owning object (the table of a column,
 *				constraint, index, trigger, rule or policy; the domain of a
 *				domain constraint), so that callers can tell "went with its
 *				table";
 *	definition	"key=value; key=value" text of everything that makes the
 *				object what it is (what pg_dump -s would print), including
 *				owner and ACL rendered with role names.
 *
 * The rows are produced by one set-based query over pg_catalog that is built
 * here and run through SPI: one round trip for the whole database is what
 * keeps 2,000 tables well under the time budget, where a per-object lookup
 * would not.  The query runs with search_path = pg_catalog so that the
 * ruleutils deparsers (pg_get_constraintdef, format_type, ...) qualify every
 * user object and the result does not depend on the caller's search_path.
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "executor/tstoreReceiver.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/tuplestore.h"

#if PG_VERSION_NUM >= 140000
#include "common/cryptohash.h"
#endif
#include "common/sha2.h"

#include "drydock.h"
#include "catalog_state.h"
#include "srf.h"

PG_FUNCTION_INFO_V1(drydock_catalog_objects);
PG_FUNCTION_INFO_V1(drydock_fingerprint);
PG_FUNCTION_INFO_V1(drydock_baseline_save);
PG_FUNCTION_INFO_V1(drydock_baseline_drop);
PG_FUNCTION_INFO_V1(drydock_diff);

/*
 * ACL of an object as sorted aclitem text.  A NULL ACL means "the default
 * privileges", so it is replaced by acldefault(): a GRANT followed by the
 * matching REVOKE then compares equal to never having granted, as pg_dump
 * sees it.  Sorting makes the text independent of the order of the GRANTs.
 */
#define ACL_EXPR(col, objtype, owner) \
	"(SELECT string_agg(a::text, ',' ORDER BY a::text COLLATE \"C\") " \
	"FROM unnest(coalesce(" col ", acldefault('" objtype "', " owner "))) a)"

/* ACL that has no default (columns, default ACLs): NULL stays NULL. */
#define ACL_NODEF_EXPR(col) \
	"CASE WHEN " col " IS NOT NULL THEN " \
	"(SELECT string_agg(a::text, ',' ORDER BY a::text COLLATE \"C\") " \
	"FROM unnest(" col ") a) END"

/* Is this object a member of an extension?  (classid given as a regclass) */
#define EXT_MEMBER(cls, oidcol) \
	"EXISTS (SELECT 1 FROM ext WHERE ext.classid = '" cls "'::regclass " \
	"AND ext.objid = " oidcol ")"

#define DESCR_JOIN(alias, cls, oidcol, subid) \
	" LEFT JOIN pg_description " alias " ON " alias ".classoid = '" cls \
	"'::regclass AND " alias ".objoid = " oidcol " AND " alias ".objsubid = " subid " "

#define OWNER(col) "'owner=' || pg_get_userbyid(" col ")"

/*
 * Body of the catalog query: a UNION ALL of one branch per kind, each
 * returning (rank, kind, identity, schema, parent, definition); rank (the
 * same as KIND_RANK_FMT gives) is a constant per branch so that ordering
 * does not evaluate a CASE over every row.  $1 is the
 * schemas filter (name[], NULL = all user schemas plus database- and
 * cluster-wide objects).
 */
static const char catalog_query_head[] =
/* objects that belong to an extension: represented by the extension row */
"WITH ext AS MATERIALIZED ("
"  SELECT classid, objid FROM pg_depend WHERE deptype = 'e'"
"), ns AS MATERIALIZED ("
"  SELECT n.oid, n.nspname::text AS nspname, quote_ident(n.nspname) AS qn,"
"         n.nspowner, n.nspacl"
"    FROM pg_namespace n"
"   WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast', 'drydock')"
"     AND n.nspname !~ '^pg_(toast_)?temp_'"
"     AND n.oid NOT IN (SELECT extnamespace FROM pg_extension WHERE extname = 'drydock')"
"     AND ($1::name[] IS NULL OR n.nspname = ANY ($1::name[]))"
"     AND NOT " EXT_MEMBER("pg_namespace", "n.oid")
/*
 * nso, relo: the namespaces and relations whose objects are listed -- all
 * but those of $2, a schema the caller does not read the objects of (the
 * diff of a schema new since the baseline, for the checks); the schema's
 * own row still comes from ns, and a statistics object elsewhere on one of
 * its tables from rel
 */
"), nso AS MATERIALIZED ("
"  SELECT * FROM ns WHERE $2::text IS NULL OR ns.nspname <> $2::text"
"), rel AS MATERIALIZED ("
"  SELECT c.oid, c.relkind, ns.nspname, ns.qn,"
"         ns.qn || '.' || quote_ident(c.relname) AS qrel"
"    FROM pg_class c JOIN ns ON ns.oid = c.relnamespace"
"   WHERE c.relkind IN ('r', 'p', 'f', 'v', 'm', 'S')"
"     AND NOT " EXT_MEMBER("pg_class", "c.oid")
"), relo AS ("
"  SELECT * FROM rel WHERE $2::text IS NULL OR rel.nspname <> $2::text"
"), inh AS ("
"  SELECT i.inhrelid,"
"         string_agg(quote_ident(pn.nspname) || '.' || quote_ident(pc.relname), ','"
"                    ORDER BY i.inhseqno) AS parents"
"    FROM pg_inherits i JOIN pg_class pc ON pc.oid = i.inhparent"
"    JOIN pg_namespace pn ON pn.oid = pc.relnamespace"
"   WHERE pc.relkind IN ('r', 'p', 'f')"
"   GROUP BY i.inhrelid"
"), en AS ("
"  SELECT enumtypid,"
"         string_agg(quote_literal(enumlabel), ',' ORDER BY enumsortorder) AS labels"
"    FROM pg_enum GROUP BY enumtypid"
"), mem AS ("
"  SELECT s.member, string_agg(s.m, ',' ORDER BY s.m COLLATE \"C\") AS roles"
"    FROM (SELECT m.member, quote_ident(g.rolname)"
"                 || CASE WHEN m.admin_option THEN ' with admin' ELSE '' END AS m"
"            FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid) s"
"   GROUP BY s.member"
"), seqowner AS ("
"  SELECT dp.objid, dp.deptype,"
"         quote_ident(on_.nspname) || '.' || quote_ident(oc.relname) || '.'"
"         || quote_ident(oa.attname) AS col"
"    FROM pg_depend dp"
"    JOIN pg_class sc ON sc.oid = dp.objid AND sc.relkind = 'S'"
"    JOIN pg_class oc ON oc.oid = dp.refobjid"
"    JOIN pg_namespace on_ ON on_.oid = oc.relnamespace"
"    JOIN pg_attribute oa ON oa.attrelid = dp.refobjid AND oa.attnum = dp.refobjsubid"
"   WHERE dp.classid = 'pg_class'::regclass AND dp.refclassid = 'pg_class'::regclass"
"     AND dp.deptype IN ('a', 'i') AND dp.refobjsubid > 0"
")"

/* roles: cluster-wide, only without a schemas filter; never passwords */
" SELECT 1 AS rank, 'role'::text AS kind, quote_ident(r.rolname) AS identity,"
"        NULL::text AS schema, NULL::text AS parent,"
"        concat_ws('; ', 'superuser=' || r.rolsuper, 'inherit=' || r.rolinherit,"
"          'createrole=' || r.rolcreaterole, 'createdb=' || r.rolcreatedb,"
"          'login=' || r.rolcanlogin, 'replication=' || r.rolreplication,"
"          'bypassrls=' || r.rolbypassrls, 'connlimit=' || r.rolconnlimit,"
"          'valid_until=' || r.rolvaliduntil,"
"          'config=' || array_to_string(r.rolconfig, ','),"
"          'member_of=' || mem.roles, 'comment=' || sd.description) AS definition"
"   FROM pg_roles r LEFT JOIN mem ON mem.member = r.oid"
"   LEFT JOIN pg_shdescription sd ON sd.classoid = 'pg_authid'::regclass AND sd.objoid = r.oid"
"  WHERE $1::name[] IS NULL AND r.rolname !~ '^pg_'"

/* extensions: one row stands for all their member objects */
" UNION ALL"
" SELECT 2, 'extension', quote_ident(x.extname), n.nspname::text, NULL,"
"        concat_ws('; ', 'version=' || x.extversion, 'schema=' || quote_ident(n.nspname),"
"          " OWNER("x.extowner") ")"
"   FROM pg_extension x JOIN pg_namespace n ON n.oid = x.extnamespace"
"  WHERE x.extname <> 'drydock' AND ($1::name[] IS NULL OR n.nspname = ANY ($1::name[]))"

/* schemas */
" UNION ALL"
" SELECT 3, 'schema', ns.qn, ns.nspname, NULL,"
"        concat_ws('; ', " OWNER("ns.nspowner") ","
"          'acl=' || " ACL_EXPR("ns.nspacl", "n", "ns.nspowner") ","
"          'comment=' || d.description)"
"   FROM ns" DESCR_JOIN("d", "pg_namespace", "ns.oid", "0")

/* default privileges */
" UNION ALL"
" SELECT 4, 'default acl',"
"        'for role ' || quote_ident(pg_get_userbyid(da.defaclrole))"
"        || coalesce(' in schema ' || quote_ident(n.nspname), '') || ' on '"
"        || CASE da.defaclobjtype WHEN 'r' THEN 'tables' WHEN 'S' THEN 'sequences'"
"             WHEN 'f' THEN 'functions' WHEN 'T' THEN 'types' WHEN 'n' THEN 'schemas'"
"             ELSE da.defaclobjtype::text END,"
"        n.nspname::text, NULL, 'acl=' || " ACL_NODEF_EXPR("da.defaclacl")
"   FROM pg_default_acl da LEFT JOIN pg_namespace n ON n.oid = da.defaclnamespace"
"  WHERE CASE WHEN da.defaclnamespace = 0 THEN $1::name[] IS NULL"
"             ELSE da.defaclnamespace IN (SELECT oid FROM nso) END"

/* collations */
" UNION ALL"
" SELECT 5, 'collation', ns.qn || '.' || quote_ident(co.collname), ns.nspname, NULL,"
"        concat_ws('; ', 'provider=' || co.collprovider::text, 'collate=' || co.collcollate,"
"          'ctype=' || co.collctype, 'deterministic=' || co.collisdeterministic,"
"          " OWNER("co.collowner") ", 'comment=' || d.description)"
"   FROM pg_collation co JOIN nso ns ON ns.oid = co.collnamespace"
DESCR_JOIN("d", "pg_collation", "co.oid", "0")
"  WHERE NOT " EXT_MEMBER("pg_collation", "co.oid")

/*
 * types: enums (labels in order), composites (attributes in order),
 * domains, ranges, base and shell types; not the array types and row types
 * PostgreSQL creates by itself
 */
" UNION ALL"
" SELECT 6, 'type', ns.qn || '.' || quote_ident(t.typname), ns.nspname, NULL,"
"        concat_ws('; ',"
"          'typtype=' || CASE t.typtype WHEN 'e' THEN 'enum' WHEN 'c' THEN 'composite'"
"            WHEN 'd' THEN 'domain' WHEN 'r' THEN 'range' WHEN 'b' THEN 'base'"
"            WHEN 'p' THEN 'pseudo' ELSE t.typtype::text END,"
"          'labels=' || en.labels,"
"          'attributes=' || CASE WHEN t.typtype = 'c' THEN"
"            (SELECT string_agg(quote_ident(a.attname) || ' ' || format_type(a.atttypid, a.atttypmod)"
"                     || CASE WHEN a.attcollation <> at.typcollation"
"                             THEN ' COLLATE ' || a.attcollation::regcollation::text ELSE '' END,"
"                     ', ' ORDER BY a.attnum)"
"               FROM pg_attribute a JOIN pg_type at ON at.oid = a.atttypid"
"              WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped) END,"
"          'base=' || CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) END,"
"          'not_null=' || CASE WHEN t.typtype = 'd' THEN t.typnotnull::text END,"
"          'default=' || t.typdefault,"
"          'collation=' || CASE WHEN t.typtype = 'd' AND t.typcollation <> bt.typcollation"
"                               THEN t.typcollation::regcollation::text END,"
"          'subtype=' || format_type(rg.rngsubtype, NULL),"
"          'subtype_opclass=' || (SELECT quote_ident(opcname) FROM pg_opclass WHERE oid = rg.rngsubopc),"
"          'range_collation=' || CASE WHEN rg.rngcollation <> 0 THEN rg.rngcollation::regcollation::text END,"
"          'canonical=' || CASE WHEN rg.rngcanonical::oid <> 0 THEN rg.rngcanonical::regprocedure::text END,"
"          'subtype_diff=' || CASE WHEN rg.rngsubdiff::oid <> 0 THEN rg.rngsubdiff::regprocedure::text END,"
"          'input=' || CASE WHEN t.typtype = 'b' THEN t.typinput::regprocedure::text END,"
"          'output=' || CASE WHEN t.typtype = 'b' THEN t.typoutput::regprocedure::text END,"
"          'length=' || CASE WHEN t.typtype = 'b' THEN t.typlen::text END,"
"          " OWNER("t.typowner") ","
"          'acl=' || " ACL_EXPR("t.typacl", "T", "t.typowner") ","
"          'comment=' || d.description)"
"   FROM pg_type t JOIN nso ns ON ns.oid = t.typnamespace"
"   LEFT JOIN pg_class tc ON tc.oid = t.typrelid"
"   LEFT JOIN pg_type bt ON bt.oid = t.typbasetype"
"   LEFT JOIN en ON en.enumtypid = t.oid"
"   LEFT JOIN pg_range rg ON rg.rngtypid = t.oid"
DESCR_JOIN("d", "pg_type", "t.oid", "0")
"  WHERE t.typtype IN ('b', 'c', 'd', 'e', 'r', 'p')"
"    AND (t.typtype <> 'c' OR tc.relkind = 'c')"
"    AND NOT EXISTS (SELECT 1 FROM pg_type e WHERE e.typarray = t.oid)"
"    AND NOT " EXT_MEMBER("pg_type", "t.oid")

/* domain constraints */
" UNION ALL"
" SELECT 7, 'domain constraint',"
"        quote_ident(con.conname) || ' on ' || ns.qn || '.' || quote_ident(t.typname),"
"        ns.nspname, ns.qn || '.' || quote_ident(t.typname),"
"        concat_ws('; ', 'def=' || pg_get_constraintdef(con.oid),"
"          'validated=' || con.convalidated, 'comment=' || d.description)"
"   FROM pg_constraint con JOIN pg_type t ON t.oid = con.contypid"
"   JOIN nso ns ON ns.oid = t.typnamespace"
DESCR_JOIN("d", "pg_constraint", "con.oid", "0")
"  WHERE con.contypid <> 0 AND con.contype <> 'n' AND NOT " EXT_MEMBER("pg_type", "t.oid")

/* sequences: parameters and OWNED BY (as a definition item, not a parent) */
" UNION ALL"
" SELECT 8, 'sequence', r.qrel, r.nspname, NULL,"
"        concat_ws('; ', 'type=' || format_type(s.seqtypid, NULL),"
"          'start=' || s.seqstart, 'increment=' || s.seqincrement,"
"          'min=' || s.seqmin, 'max=' || s.seqmax, 'cache=' || s.seqcache,"
"          'cycle=' || s.seqcycle,"
"          'persistence=' || CASE c.relpersistence WHEN 'p' THEN 'permanent'"
"             WHEN 'u' THEN 'unlogged' ELSE 'temporary' END,"
"          'owned_by=' || so.col,"
"          'identity=' || CASE WHEN so.deptype = 'i' THEN 'true' END,"
"          " OWNER("c.relowner") ","
"          'acl=' || " ACL_EXPR("c.relacl", "s", "c.relowner") ","
"          'comment=' || d.description)"
"   FROM relo r JOIN pg_class c ON c.oid = r.oid"
"   JOIN pg_sequence s ON s.seqrelid = r.oid"
"   LEFT JOIN seqowner so ON so.objid = r.oid"
DESCR_JOIN("d", "pg_class", "r.oid", "0")
"  WHERE r.relkind = 'S'"

/* functions, procedures, aggregates: signature, attributes, body hash */
" UNION ALL"
" SELECT 9, CASE p.prokind WHEN 'p' THEN 'procedure' WHEN 'a' THEN 'aggregate'"
"          ELSE 'function' END,"
"        ns.qn || '.' || quote_ident(p.proname) || '(' || oidvectortypes(p.proargtypes) || ')',"
"        ns.nspname, NULL,"
"        concat_ws('; ', 'args=' || pg_get_function_arguments(p.oid),"
"          'returns=' || CASE WHEN p.prokind <> 'p' THEN pg_get_function_result(p.oid) END,"
"          'window=' || CASE WHEN p.prokind = 'w' THEN 'true' END,"
"          'language=' || quote_ident(l.lanname),"
"          'volatility=' || CASE p.provolatile WHEN 'i' THEN 'immutable'"
"             WHEN 's' THEN 'stable' ELSE 'volatile' END,"
"          'strict=' || p.proisstrict, 'security_definer=' || p.prosecdef,"
"          'leakproof=' || p.proleakproof,"
"          'parallel=' || CASE p.proparallel WHEN 's' THEN 'safe'"
"             WHEN 'r' THEN 'restricted' ELSE 'unsafe' END,"
"          'cost=' || p.procost,"
"          'rows=' || CASE WHEN p.proretset THEN p.prorows::text END,"
"          'config=' || array_to_string(p.proconfig, ','),"
#if PG_VERSION_NUM >= 140000
"          'body_md5=' || md5(coalesce(p.prosrc, '') || coalesce(pg_get_function_sqlbody(p.oid), '')),"
#else
"          'body_md5=' || md5(coalesce(p.prosrc, '')),"
#endif
"          'bin=' || p.probin,"
"          'transfn=' || ag.aggtransfn::regprocedure::text,"
"          'stype=' || format_type(ag.aggtranstype, NULL),"
"          'finalfn=' || CASE WHEN ag.aggfinalfn::oid <> 0 THEN ag.aggfinalfn::regprocedure::text END,"
"          'initcond=' || ag.agginitval,"
"          " OWNER("p.proowner") ","
"          'acl=' || " ACL_EXPR("p.proacl", "f", "p.proowner") ","
"          'comment=' || d.description)"
"   FROM pg_proc p JOIN nso ns ON ns.oid = p.pronamespace"
"   JOIN pg_language l ON l.oid = p.prolang"
"   LEFT JOIN pg_aggregate ag ON ag.aggfnoid = p.oid"
DESCR_JOIN("d", "pg_proc", "p.oid", "0")
"  WHERE NOT " EXT_MEMBER("pg_proc", "p.oid")
/* nor the constructors PostgreSQL makes for a range type: the type row covers them */
"    AND NOT EXISTS (SELECT 1 FROM pg_depend dt WHERE dt.classid = 'pg_proc'::regclass"
"                      AND dt.objid = p.oid AND dt.deptype = 'i')";

static const char catalog_query_tail[] =
/*
 * indexes, except those that implement a PK/UNIQUE/EXCLUDE constraint:
 * the constraint row already describes them, as pg_dump does
 */
" UNION ALL"
" SELECT 13, 'index', r.qn || '.' || quote_ident(ic.relname), r.nspname, r.qrel,"
"        concat_ws('; ', 'def=' || pg_get_indexdef(i.indexrelid),"
"          'clustered=' || CASE WHEN i.indisclustered THEN 'true' END,"
"          'replica_identity=' || CASE WHEN i.indisreplident THEN 'true' END,"
"          'valid=' || CASE WHEN NOT i.indisvalid THEN 'false' END,"
"          'comment=' || d.description)"
"   FROM relo r JOIN pg_index i ON i.indrelid = r.oid"
"   JOIN pg_class ic ON ic.oid = i.indexrelid"
DESCR_JOIN("d", "pg_class", "i.indexrelid", "0")
"  WHERE r.relkind IN ('r', 'p', 'm', 'f')"
"    AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid"
"                      AND k.conrelid = i.indrelid AND k.contype IN ('p', 'u', 'x'))"

/* extended statistics */
" UNION ALL"
" SELECT 14, 'statistics object', sn.qn || '.' || quote_ident(st.stxname), sn.nspname, r.qrel,"
"        concat_ws('; ', 'def=' || pg_get_statisticsobjdef(st.oid),"
"          " OWNER("st.stxowner") ", 'comment=' || d.description)"
"   FROM rel r JOIN pg_statistic_ext st ON st.stxrelid = r.oid"
"   JOIN nso sn ON sn.oid = st.stxnamespace"
DESCR_JOIN("d", "pg_statistic_ext", "st.oid", "0")

/* views and materialized views */
" UNION ALL"
" SELECT CASE r.relkind WHEN 'v' THEN 15 ELSE 16 END, CASE r.relkind WHEN 'v' THEN 'view' ELSE 'materialized view' END, r.qrel, r.nspname, NULL,"
"        concat_ws('; ', 'def=' || btrim(rtrim(pg_get_viewdef(r.oid), ';')),"
"          'options=' || array_to_string(c.reloptions, ','),"
"          'populated=' || CASE WHEN r.relkind = 'm' THEN c.relispopulated::text END,"
"          'tablespace=' || ts.spcname,"
"          " OWNER("c.relowner") ","
"          'acl=' || " ACL_EXPR("c.relacl", "r", "c.relowner") ","
"          'comment=' || d.description)"
"   FROM relo r JOIN pg_class c ON c.oid = r.oid"
"   LEFT JOIN pg_tablespace ts ON ts.oid = c.reltablespace"
DESCR_JOIN("d", "pg_class", "r.oid", "0")
"  WHERE r.relkind IN ('v', 'm')"

/* triggers (not the internal ones behind FKs) */
" UNION ALL"
" SELECT 17, 'trigger', quote_ident(tg.tgname) || ' on ' || r.qrel, r.nspname, r.qrel,"
"        concat_ws('; ', 'def=' || pg_get_triggerdef(tg.oid),"
"          'enabled=' || CASE tg.tgenabled WHEN 'O' THEN 'origin' WHEN 'D' THEN 'disabled'"
"             WHEN 'R' THEN 'replica' WHEN 'A' THEN 'always' END,"
"          'comment=' || d.description)"
"   FROM relo r JOIN pg_trigger tg ON tg.tgrelid = r.oid AND NOT tg.tgisinternal"
DESCR_JOIN("d", "pg_trigger", "tg.oid", "0")

/* rules (not the _RETURN rule of a view) */
" UNION ALL"
" SELECT 18, 'rule', quote_ident(rw.rulename) || ' on ' || r.qrel, r.nspname, r.qrel,"
"        concat_ws('; ', 'def=' || rtrim(pg_get_ruledef(rw.oid), ';'),"
"          'enabled=' || CASE rw.ev_enabled WHEN 'O' THEN 'origin' WHEN 'D' THEN 'disabled'"
"             WHEN 'R' THEN 'replica' WHEN 'A' THEN 'always' END,"
"          'comment=' || d.description)"
"   FROM relo r JOIN pg_rewrite rw ON rw.ev_class = r.oid AND rw.rulename <> '_RETURN'"
DESCR_JOIN("d", "pg_rewrite", "rw.oid", "0")

/* row-level security policies */
" UNION ALL"
" SELECT 19, 'policy', quote_ident(pol.polname) || ' on ' || r.qrel, r.nspname, r.qrel,"
"        concat_ws('; ',"
"          'command=' || CASE pol.polcmd WHEN 'r' THEN 'select' WHEN 'a' THEN 'insert'"
"             WHEN 'w' THEN 'update' WHEN 'd' THEN 'delete' ELSE 'all' END,"
"          'permissive=' || pol.polpermissive,"
"          'roles=' || (SELECT string_agg(x.n, ',' ORDER BY x.n COLLATE \"C\")"
"                         FROM (SELECT CASE WHEN ro = 0 THEN 'public'"
"                                      ELSE quote_ident(pg_get_userbyid(ro)) END AS n"
"                                 FROM unnest(pol.polroles) ro) x),"
"          'using=' || pg_get_expr(pol.polqual, pol.polrelid),"
"          'with_check=' || pg_get_expr(pol.polwithcheck, pol.polrelid),"
"          'comment=' || d.description)"
"   FROM relo r JOIN pg_policy pol ON pol.polrelid = r.oid"
DESCR_JOIN("d", "pg_policy", "pol.oid", "0")

/* publications: database-wide, only without a schemas filter */
" UNION ALL"
" SELECT 20, 'publication', quote_ident(pb.pubname), NULL, NULL,"
"        concat_ws('; ', 'all_tables=' || pb.puballtables,"
"          'publish=' || concat_ws(',', CASE WHEN pb.pubinsert THEN 'insert' END,"
"             CASE WHEN pb.pubupdate THEN 'update' END, CASE WHEN pb.pubdelete THEN 'delete' END,"
"             CASE WHEN pb.pubtruncate THEN 'truncate' END),"
"          'via_root=' || pb.pubviaroot,"
"          'tables=' || (SELECT string_agg(x.n, ',' ORDER BY x.n COLLATE \"C\")"
"             FROM (SELECT quote_ident(pn.nspname) || '.' || quote_ident(pc.relname)"
#if PG_VERSION_NUM >= 150000
"                          || coalesce(' WHERE ' || pg_get_expr(pr.prqual, pr.prrelid), '')"
#endif
"                          AS n"
"                     FROM pg_publication_rel pr JOIN pg_class pc ON pc.oid = pr.prrelid"
"                     JOIN pg_namespace pn ON pn.oid = pc.relnamespace"
"                    WHERE pr.prpubid = pb.oid) x),"
#if PG_VERSION_NUM >= 150000
"          'schemas=' || (SELECT string_agg(quote_ident(n.nspname), ',' ORDER BY n.nspname COLLATE \"C\")"
"             FROM pg_publication_namespace pnn JOIN pg_namespace n ON n.oid = pnn.pnnspid"
"            WHERE pnn.pnpubid = pb.oid),"
#endif
"          " OWNER("pb.pubowner") ", 'comment=' || d.description)"
"   FROM pg_publication pb"
DESCR_JOIN("d", "pg_publication", "pb.oid", "0")
"  WHERE $1::name[] IS NULL"

/* event triggers: database-wide; drydock's own (its capture) left out */
" UNION ALL"
" SELECT 21, 'event trigger', quote_ident(et.evtname), NULL, NULL,"
"        concat_ws('; ', 'event=' || et.evtevent,"
"          'function=' || et.evtfoid::regprocedure::text,"
"          'tags=' || array_to_string(et.evttags, ','),"
"          'enabled=' || CASE et.evtenabled WHEN 'O' THEN 'origin' WHEN 'D' THEN 'disabled'"
"             WHEN 'R' THEN 'replica' WHEN 'A' THEN 'always' END,"
"          " OWNER("et.evtowner") ", 'comment=' || d.description)"
"   FROM pg_event_trigger et"
DESCR_JOIN("d", "pg_event_trigger", "et.oid", "0")
"  WHERE $1::name[] IS NULL"
"    AND NOT " EXT_MEMBER("pg_event_trigger", "et.oid")
"    AND NOT EXISTS (SELECT 1 FROM pg_depend e JOIN pg_extension x ON x.oid = e.refobjid"
"                     WHERE e.classid = 'pg_proc'::regclass AND e.objid = et.evtfoid"
"                       AND e.refclassid = 'pg_extension'::regclass AND e.deptype = 'e'"
"                       AND x.extname = 'drydock')";

/*
 * Rank of a kind in the output order: roughly the order in which pg_dump
 * would create them, so a diff reads top-down.
 */
#define KIND_RANK_FMT \
	"CASE %s WHEN 'role' THEN 1 WHEN 'extension' THEN 2 WHEN 'schema' THEN 3 " \
	"WHEN 'default acl' THEN 4 WHEN 'collation' THEN 5 WHEN 'type' THEN 6 " \
	"WHEN 'domain constraint' THEN 7 WHEN 'sequence' THEN 8 WHEN 'function' THEN 9 " \
	"WHEN 'procedure' THEN 9 WHEN 'aggregate' THEN 9 WHEN 'table' THEN 10 " \
	"WHEN 'foreign table' THEN 10 WHEN 'table column' THEN 11 " \
	"WHEN 'foreign table column' THEN 11 WHEN 'table constraint' THEN 12 " \
	"WHEN 'index' THEN 13 WHEN 'statistics object' THEN 14 WHEN 'view' THEN 15 " \
	"WHEN 'materialized view' THEN 16 WHEN 'trigger' THEN 17 WHEN 'rule' THEN 18 " \
	"WHEN 'policy' THEN 19 WHEN 'publication' THEN 20 WHEN 'event trigger' THEN 21 " \
	"ELSE 99 END"

/*
 * The catalog query without ranks 10-12, ordered, with the rank first:
 * catalog_objects() and fingerprint() slot the C-built rows of ranks 10-12
 * (catalog_rels.c) in before the first row of a higher rank.
 */
static char *
ordered_catalog_query(void)
{
	return psprintf("SELECT rank, kind, identity, schema, parent, definition FROM (%s%s) q "
					"ORDER BY rank, identity COLLATE \"C\", kind COLLATE \"C\"",
					catalog_query_head, catalog_query_tail);
}

/*
 * Settings for the queries that follow: search_path = pg_catalog so the
 * deparsers qualify every user object; fixed output styles so constants in
 * defaults, partition bounds and constraints (dates, timestamps, floats,
 * bytea) print the same whatever the session's settings; and enough
 * work_mem that sorting the rows of a large database stays in memory.
 * Returns the GUC nest level to give to AtEOXact_GUC() afterwards.
 */
static int
pin_search_path(void)
{
	static const char *const pinned[][2] = {
		{"search_path", "pg_catalog, pg_temp"},
		{"datestyle", "ISO, YMD"},
		{"intervalstyle", "postgres"},
		{"timezone", "UTC"},
		{"extra_float_digits", "1"},
		{"bytea_output", "hex"},
		/*
		 * JIT-compiling this query's expressions costs more than running
		 * them: the planner's cost estimate for ~100,000 rows crosses
		 * jit_above_cost and LLVM then spends ~0.4 s before the first row.
		 */
		{"jit", "off"},
		/*
		 * The plan is generic and made without statistics on the catalogs
		 * (autovacuum rarely analyzes them in a throwaway cluster): the
		 * planner then chooses nested loops of index probes per table, which
		 * cost one index descent per table per branch.  Hash joins over one
		 * sequential scan of each catalog are linear and cheaper from a few
		 * hundred tables on.
		 */
		{"enable_nestloop", "off"},
	};
	int			nestlevel = NewGUCNestLevel();

	for (int i = 0; i < lengthof(pinned); i++)
		(void) set_config_option(pinned[i][0], pinned[i][1],
								 PGC_USERSET, PGC_S_SESSION,
								 GUC_ACTION_SAVE, true, 0, false);
	if (work_mem < 65536)
		(void) set_config_option("work_mem", "64MB",
								 PGC_USERSET, PGC_S_SESSION,
								 GUC_ACTION_SAVE, true, 0, false);
	return nestlevel;
}

/*
 * Check the schemas argument: no NULL elements, every schema exists.  With
 * baseline_label set (diff), a schema that no longer exists is accepted if
 * the baseline has objects in it: a rollback may well have dropped it.
 * Must be called inside SPI when baseline_label is given.
 */
static void
check_schemas(ArrayType *schemas, const char *baseline_label)
{
	Datum	   *elems;
	bool	   *nulls;
	int			nelems;

	if (schemas == NULL)
		return;
	if (ARR_NDIM(schemas) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("schemas must be a one-dimensional array")));
	deconstruct_array(schemas, NAMEOID, NAMEDATALEN, false, TYPALIGN_CHAR,
					  &elems, &nulls, &nelems);
	for (int i = 0; i < nelems; i++)
	{
		const char *nspname;

		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("schemas must not contain NULL elements"),
					 errhint("Pass NULL instead of the array to mean every user schema.")));
		nspname = NameStr(*DatumGetName(elems[i]));
		if (OidIsValid(get_namespace_oid(nspname, true)))
			continue;
		if (baseline_label != NULL)
		{
			Oid			argtypes[2] = {TEXTOID, TEXTOID};
			Datum		values[2];

			values[0] = CStringGetTextDatum(baseline_label);
			values[1] = CStringGetTextDatum(nspname);
			if (SPI_execute_with_args("SELECT 1 FROM drydock.baseline_object "
									  "WHERE label = $1 AND schema = $2 LIMIT 1",
									  2, argtypes, values, NULL, true, 1) != SPI_OK_SELECT)
				elog(ERROR, "SPI_execute_with_args failed");
			if (SPI_processed > 0)
				continue;
		}
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_SCHEMA_NAME),
				 errmsg("schema \"%s\" does not exist", nspname),
				 baseline_label != NULL ?
				 errdetail("The schema exists neither now nor in baseline \"%s\".",
						   baseline_label) : 0,
				 errhint("Pass NULL to describe every user schema.")));
	}
}

/* A label argument: not NULL, not empty. */
static char *
get_label(FunctionCallInfo fcinfo, int argno)
{
	char	   *label;

	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("baseline label must not be NULL")));
	label = text_to_cstring(PG_GETARG_TEXT_PP(argno));
	if (label[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("baseline label must not be empty")));
	return label;
}

/* Does baseline "label" exist?  Inside SPI. */
static bool
baseline_exists(const char *label)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1];

	values[0] = CStringGetTextDatum(label);
	if (SPI_execute_with_args("SELECT 1 FROM drydock.baseline WHERE label = $1",
							  1, argtypes, values, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed");
	return SPI_processed > 0;
}

static void
require_baseline(const char *label)
{
	if (!baseline_exists(label))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("baseline \"%s\" does not exist", label),
				 errhint("SELECT label FROM drydock.baseline lists the saved baselines; "
						 "drydock.baseline_save(label) saves one.")));
}

/*
 * While drydock_spi_diff() runs its query, the catalog_objects() call in it
 * renders the definitions of tables, columns and table constraints only for
 * the rows whose (kind, identity) the baseline has: the checks read no
 * definition, and the diff compares the definitions of objects on both
 * sides only.  After a migration that adds 2,000 tables to an empty base
 * that is none of its 20,000 rows.  With a schema to skip, the objects of
 * that schema are left out altogether, the C-built rows and the query's
 * ($2 of the catalog query).  NULL at every other time.
 */
static const CatalogRowFilter *diff_row_filter = NULL;

/*
 * Run the ordered catalog query with the schemas filter, leaving out the
 * objects of filter->skip_schema (filter may be NULL).  Inside SPI, with
 * the settings of pin_search_path().
 *
 * The plan is prepared once per backend and kept: planning this query costs
 * about as much as a tenth of running it on 2,000 tables.  It is a generic
 * plan; the schemas filter only gates whole branches or compares a handful
 * of namespace rows, so a custom plan per value buys nothing.  It reads
 * only pg_catalog, whose relations are never altered, and the plan cache
 * re-plans by itself should that happen or the search_path differ.
 */
static void
run_catalog_query(FunctionCallInfo fcinfo, int argno, DestReceiver *dest,
				  const CatalogRowFilter *filter)
{
	static SPIPlanPtr plan = NULL;
	Oid			argtypes[2] = {NAMEARRAYOID, TEXTOID};
	const char *skip = filter ? filter->skip_schema : NULL;
#if PG_VERSION_NUM >= 140000
	ParamListInfo params;
	SPIExecuteOptions options;
	int			rc;
#endif

	if (plan == NULL)
	{
		SPIPlanPtr	newplan = SPI_prepare_cursor(ordered_catalog_query(), 2, argtypes,
												 CURSOR_OPT_GENERIC_PLAN);

		if (newplan == NULL)
			elog(ERROR, "could not prepare catalog query: %s",
				 SPI_result_code_string(SPI_result));
		if (SPI_keepplan(newplan) != 0)
			elog(ERROR, "could not keep catalog query plan");
		plan = newplan;
	}
#if PG_VERSION_NUM >= 140000
	params = makeParamList(2);
	params->params[0].value = PG_ARGISNULL(argno) ? (Datum) 0 : PG_GETARG_DATUM(argno);
	params->params[0].isnull = PG_ARGISNULL(argno);
	params->params[0].pflags = PARAM_FLAG_CONST;
	params->params[0].ptype = NAMEARRAYOID;
	params->params[1].value = skip ? CStringGetTextDatum(skip) : (Datum) 0;
	params->params[1].isnull = (skip == NULL);
	params->params[1].pflags = PARAM_FLAG_CONST;
	params->params[1].ptype = TEXTOID;

	memset(&options, 0, sizeof(options));
	options.params = params;
	options.read_only = true;
	options.dest = dest;
	rc = SPI_execute_plan_extended(plan, &options);
	if (rc != SPI_OK_SELECT && rc != SPI_OK_UTILITY)
		elog(ERROR, "catalog query failed: %s", SPI_result_code_string(rc));
#else
	{
		Datum		values[2];
		char		nulls[2];
		TupleTableSlot *slot;

		values[0] = PG_ARGISNULL(argno) ? (Datum) 0 : PG_GETARG_DATUM(argno);
		nulls[0] = PG_ARGISNULL(argno) ? 'n' : ' ';
		values[1] = skip ? CStringGetTextDatum(skip) : (Datum) 0;
		nulls[1] = skip ? ' ' : 'n';
		if (SPI_execute_plan(plan, values, nulls, true, 0) != SPI_OK_SELECT)
			elog(ERROR, "catalog query failed");
		slot = MakeSingleTupleTableSlot(SPI_tuptable->tupdesc, &TTSOpsHeapTuple);
		dest->rStartup(dest, CMD_SELECT, SPI_tuptable->tupdesc);
		for (uint64 row = 0; row < SPI_processed; row++)
		{
			ExecStoreHeapTuple(SPI_tuptable->vals[row], slot, false);
			dest->receiveSlot(slot, dest);
		}
		dest->rShutdown(dest);
		ExecDropSingleTupleTableSlot(slot);
	}
#endif
}

/* Copy the SPI result (all text columns) into the SRF's tuplestore. */
static void
spi_to_tuplestore(Tuplestorestate *tupstore, TupleDesc tupdesc)
{
	int			natts = tupdesc->natts;
	Datum	   *values = palloc(natts * sizeof(Datum));
	bool	   *nulls = palloc(natts * sizeof(bool));

	if (SPI_tuptable->tupdesc->natts != natts)
		elog(ERROR, "catalog query returned %d columns, expected %d",
			 SPI_tuptable->tupdesc->natts, natts);
	for (uint64 row = 0; row < SPI_processed; row++)
	{
		HeapTuple	tuple = SPI_tuptable->vals[row];

		for (int col = 0; col < natts; col++)
			values[col] = SPI_getbinval(tuple, SPI_tuptable->tupdesc, col + 1, &nulls[col]);
		tuplestore_putvalues(tupstore, tupdesc, values, nulls);
	}
}

/*
 * sha256 over rows of text fields, hex-encoded.  Each row is fed as its
 * five fields, each followed by 0x1F (unit separator), NULL fields as a
 * lone 0x01, and the row closed by 0x1E (record separator): unambiguous,
 * since none of these bytes appears in catalog text.
 *
 * Rows are fed one at a time (fp_row), so that drydock.fingerprint() hashes
 * them as the executor produces them, without materializing the result.
 */
typedef struct Fingerprint
{
#if PG_VERSION_NUM >= 140000
	pg_cryptohash_ctx *ctx;
#else
	pg_sha256_ctx ctx;
#endif
} Fingerprint;

#if PG_VERSION_NUM >= 140000
#define FP_UPDATE(fp, data, len) \
	do { if (pg_cryptohash_update((fp)->ctx, (const uint8 *) (data), (len)) < 0) \
			elog(ERROR, "could not update sha256 context"); } while (0)
#else
#define FP_UPDATE(fp, data, len) pg_sha256_update(&(fp)->ctx, (const uint8 *) (data), (len))
#endif

static void
fp_init(Fingerprint *fp)
{
#if PG_VERSION_NUM >= 140000
	/* owned by the current resource owner: freed on error */
	fp->ctx = pg_cryptohash_create(PG_SHA256);
	if (fp->ctx == NULL || pg_cryptohash_init(fp->ctx) < 0)
		elog(ERROR, "could not initialize sha256 context");
#else
	pg_sha256_init(&fp->ctx);
#endif
}

static void
fp_row(Fingerprint *fp, int natts, const Datum *values, const bool *nulls)
{
	static const uint8 unit_sep = 0x1F;
	static const uint8 rec_sep = 0x1E;
	static const uint8 null_mark = 0x01;

	for (int col = 0; col < natts; col++)
	{
		if (nulls[col])
			FP_UPDATE(fp, &null_mark, 1);
		else
		{
			text	   *t = DatumGetTextPP(values[col]);

			FP_UPDATE(fp, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
			if ((Pointer) t != DatumGetPointer(values[col]))
				pfree(t);
		}
		FP_UPDATE(fp, &unit_sep, 1);
	}
	FP_UPDATE(fp, &rec_sep, 1);
}

/* Finish: the hex digest, palloc'd in the current memory context. */
static char *
fp_final(Fingerprint *fp)
{
	uint8		digest[PG_SHA256_DIGEST_LENGTH];
	char	   *hex = palloc(PG_SHA256_DIGEST_STRING_LENGTH);

#if PG_VERSION_NUM >= 150000
	if (pg_cryptohash_final(fp->ctx, digest, sizeof(digest)) < 0)
		elog(ERROR, "could not finalize sha256 context");
	pg_cryptohash_free(fp->ctx);
#elif PG_VERSION_NUM >= 140000
	if (pg_cryptohash_final(fp->ctx, digest) < 0)
		elog(ERROR, "could not finalize sha256 context");
	pg_cryptohash_free(fp->ctx);
#else
	pg_sha256_final(&fp->ctx, digest);
#endif
	for (int i = 0; i < PG_SHA256_DIGEST_LENGTH; i++)
		snprintf(hex + 2 * i, 3, "%02x", digest[i]);
	return hex;
}

/* The fingerprint of the rows of the SPI result. */
static char *
fingerprint_spi_result(void)
{
	TupleDesc	desc = SPI_tuptable->tupdesc;
	Datum	   *values = palloc(desc->natts * sizeof(Datum));
	bool	   *nulls = palloc(desc->natts * sizeof(bool));
	Fingerprint fp;

	fp_init(&fp);
	for (uint64 row = 0; row < SPI_processed; row++)
	{
		heap_deform_tuple(SPI_tuptable->vals[row], desc, values, nulls);
		fp_row(&fp, desc->natts, values, nulls);
	}
	return fp_final(&fp);
}

/* fp_row() for a row of C strings (NULL = SQL NULL). */
static void
fp_row_cstr(Fingerprint *fp, const CatalogRow *row)
{
	static const uint8 unit_sep = 0x1F;
	static const uint8 rec_sep = 0x1E;
	static const uint8 null_mark = 0x01;
	const char *vals[5] = {row->kind, row->identity, row->schema, row->parent, row->definition};

	for (int col = 0; col < 5; col++)
	{
		if (vals[col] == NULL)
			FP_UPDATE(fp, &null_mark, 1);
		else
			FP_UPDATE(fp, vals[col], strlen(vals[col]));
		FP_UPDATE(fp, &unit_sep, 1);
	}
	FP_UPDATE(fp, &rec_sep, 1);
}

/*
 * A DestReceiver for the ordered catalog query without ranks 10-12 (rank
 * first, then the five output columns): it passes the rows on to a
 * tuplestore (catalog_objects()) or to sha256 (fingerprint()), and slots
 * the C-built rows of ranks 10-12 in before the first row of a higher rank
 * (or at the end).  Nothing is stored but the tuplestore's rows.
 */
typedef struct MergeReceiver
{
	DestReceiver pub;
	CatalogRows *crows;
	bool		flushed;
	Tuplestorestate *tupstore;	/* catalog_objects() */
	TupleDesc	tupdesc;
	Fingerprint *fp;			/* fingerprint() */
} MergeReceiver;

static void
merge_put_rows(MergeReceiver *m, const CatalogRow *rows, int n)
{
	for (int i = 0; i < n; i++)
	{
		const CatalogRow *row = &rows[i];

		if (m->fp != NULL)
			fp_row_cstr(m->fp, row);
		else
		{
			const char *vals[5] = {row->kind, row->identity, row->schema, row->parent,
			row->definition};
			Datum		values[5];
			bool		nulls[5];

			for (int col = 0; col < 5; col++)
			{
				nulls[col] = (vals[col] == NULL);
				values[col] = nulls[col] ? (Datum) 0 : PointerGetDatum(cstring_to_text(vals[col]));
			}
			tuplestore_putvalues(m->tupstore, m->tupdesc, values, nulls);
			for (int col = 0; col < 5; col++)
				if (!nulls[col])
					pfree(DatumGetPointer(values[col]));
		}
	}
}

static void
merge_flush(MergeReceiver *m)
{
	if (m->flushed)
		return;
	m->flushed = true;
	merge_put_rows(m, m->crows->tables, m->crows->ntables);
	merge_put_rows(m, m->crows->columns, m->crows->ncolumns);
	merge_put_rows(m, m->crows->constraints, m->crows->nconstraints);
}

static bool
merge_receive(TupleTableSlot *slot, DestReceiver *self)
{
	MergeReceiver *m = (MergeReceiver *) self;

	slot_getallattrs(slot);
	if (slot->tts_tupleDescriptor->natts != 6)
		elog(ERROR, "catalog query returned %d columns, expected 6",
			 slot->tts_tupleDescriptor->natts);
	if (!m->flushed && !slot->tts_isnull[0] && DatumGetInt32(slot->tts_values[0]) > 12)
		merge_flush(m);
	if (m->fp != NULL)
		fp_row(m->fp, 5, &slot->tts_values[1], &slot->tts_isnull[1]);
	else
		tuplestore_putvalues(m->tupstore, m->tupdesc, &slot->tts_values[1], &slot->tts_isnull[1]);
	return true;
}

static void
merge_startup(DestReceiver *self, int operation, TupleDesc typeinfo)
{
}

static void
merge_shutdown(DestReceiver *self)
{
}

static void
merge_destroy(DestReceiver *self)
{
}

/*
 * Run the catalog query (ranks 10-12 built in C) into a tuplestore or a
 * fingerprint.  Under the pinned settings; connects to SPI itself.
 */
static void
run_merged(FunctionCallInfo fcinfo, Tuplestorestate *tupstore, TupleDesc tupdesc,
		   Fingerprint *fp, const CatalogRowFilter *filter)
{
	MergeReceiver m;
	MemoryContext cxt;
	MemoryContext oldcxt;
	const char **schemas = NULL;
	int			nschemas = 0;

	cxt = AllocSetContextCreate(CurrentMemoryContext, "drydock catalog rows",
								ALLOCSET_DEFAULT_SIZES);
	oldcxt = MemoryContextSwitchTo(cxt);
	if (!PG_ARGISNULL(0))
	{
		Datum	   *elems;
		bool	   *nulls;

		deconstruct_array(PG_GETARG_ARRAYTYPE_P(0), NAMEOID, NAMEDATALEN, false,
						  TYPALIGN_CHAR, &elems, &nulls, &nschemas);
		schemas = palloc((nschemas + 1) * sizeof(char *));
		for (int i = 0; i < nschemas; i++)
			schemas[i] = NameStr(*DatumGetName(elems[i]));
	}
	memset(&m, 0, sizeof(m));
	m.crows = drydock_catalog_rel_rows(schemas, nschemas, filter);
	MemoryContextSwitchTo(oldcxt);

	m.pub.receiveSlot = merge_receive;
	m.pub.rStartup = merge_startup;
	m.pub.rShutdown = merge_shutdown;
	m.pub.rDestroy = merge_destroy;
	m.pub.mydest = DestNone;
	m.tupstore = tupstore;
	m.tupdesc = tupdesc;
	m.fp = fp;

	SPI_connect();
	run_catalog_query(fcinfo, 0, &m.pub, filter);
	merge_flush(&m);
	SPI_finish();
	MemoryContextDelete(cxt);
}

/*
 * drydock.catalog_objects(schemas name[] DEFAULT NULL)
 *	 RETURNS TABLE(kind, identity, schema, parent, definition)
 *
 * The rows go straight into the SRF's tuplestore (no SPI tuptable in
 * between).  The settings are pinned before the tuplestore is made so that
 * it gets the raised work_mem and stays in memory.
 */
Datum
drydock_catalog_objects(PG_FUNCTION_ARGS)
{
	Tuplestorestate *tupstore;
	TupleDesc	tupdesc;
	int			nestlevel;

	check_schemas(PG_ARGISNULL(0) ? NULL : PG_GETARG_ARRAYTYPE_P(0), NULL);
	nestlevel = pin_search_path();
	drydock_init_srf(fcinfo, &tupstore, &tupdesc);
	run_merged(fcinfo, tupstore, tupdesc, NULL, diff_row_filter);
	AtEOXact_GUC(true, nestlevel);

	return (Datum) 0;
}

/*
 * drydock.fingerprint(schemas name[] DEFAULT NULL) RETURNS text
 */
Datum
drydock_fingerprint(PG_FUNCTION_ARGS)
{
	char	   *hex;
	int			nestlevel;
	Fingerprint fp;

	check_schemas(PG_ARGISNULL(0) ? NULL : PG_GETARG_ARRAYTYPE_P(0), NULL);
	nestlevel = pin_search_path();
	fp_init(&fp);
	run_merged(fcinfo, NULL, NULL, &fp, NULL);
	hex = fp_final(&fp);
	AtEOXact_GUC(true, nestlevel);

	PG_RETURN_TEXT_P(cstring_to_text(hex));
}

/*
 * drydock.baseline_save(label text) RETURNS text
 *
 * Stores the full catalog state (every user schema, roles, ...) under label
 * and returns its fingerprint, equal to drydock.fingerprint() at this point.
 * An existing label is an error: a baseline is evidence and is not silently
 * overwritten.
 */
Datum
drydock_baseline_save(PG_FUNCTION_ARGS)
{
	char	   *label = get_label(fcinfo, 0);
	Oid			argtypes[3] = {NAMEARRAYOID, TEXTOID, TEXTOID};
	Datum		values[3];
	char		nulls[3] = {'n', ' ', ' '};
	char	   *hex;
	uint64		count;
	text	   *result;
	int			nestlevel;

	SPI_connect();
	if (baseline_exists(label))
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("baseline \"%s\" already exists", label),
				 errhint("Drop it first with drydock.baseline_drop('%s'), or choose another label.",
						 label)));
	nestlevel = pin_search_path();

	values[0] = (Datum) 0;
	values[1] = CStringGetTextDatum(label);
	if (SPI_execute_with_args("INSERT INTO drydock.baseline(label, fingerprint, object_count) "
							  "VALUES ($2, '', 0)",
							  2, argtypes, values, nulls, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not insert baseline");
	/*
	 * catalog_objects() already returns the rows in their canonical order,
	 * through the fast path (C-built rows for tables, columns and
	 * constraints, a kept plan for the rest): number them as they come.
	 */
	if (SPI_execute_with_args("INSERT INTO drydock.baseline_object"
							  "(label, ord, kind, identity, schema, parent, definition) "
							  "SELECT $2, q.ord, q.kind, q.identity, q.schema, q.parent, q.definition "
							  "  FROM drydock.catalog_objects(NULL) WITH ORDINALITY"
							  "       AS q(kind, identity, schema, parent, definition, ord)",
							  2, argtypes, values, nulls, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not insert baseline objects");
	count = SPI_processed;

	/* the fingerprint of exactly what was stored, in catalog_objects order */
	if (SPI_execute_with_args("SELECT kind, identity, schema, parent, definition "
							  "FROM drydock.baseline_object WHERE label = $2 ORDER BY ord",
							  2, argtypes, values, nulls, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read baseline objects");
	hex = fingerprint_spi_result();

	values[2] = CStringGetTextDatum(hex);
	if (SPI_execute_with_args(psprintf("UPDATE drydock.baseline SET fingerprint = $3, "
									   "object_count = " UINT64_FORMAT " WHERE label = $2",
									   count),
							  3, argtypes, values, nulls, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "could not update baseline");

	AtEOXact_GUC(true, nestlevel);
	result = (text *) SPI_palloc(VARHDRSZ + strlen(hex));
	SET_VARSIZE(result, VARHDRSZ + strlen(hex));
	memcpy(VARDATA(result), hex, strlen(hex));
	SPI_finish();

	PG_RETURN_TEXT_P(result);
}

/*
 * drydock.baseline_drop(label text) RETURNS void
 */
Datum
drydock_baseline_drop(PG_FUNCTION_ARGS)
{
	char	   *label = get_label(fcinfo, 0);
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1];

	SPI_connect();
	values[0] = CStringGetTextDatum(label);
	if (SPI_execute_with_args("DELETE FROM drydock.baseline WHERE label = $1",
							  1, argtypes, values, NULL, false, 0) != SPI_OK_DELETE)
		elog(ERROR, "could not delete baseline");
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("baseline \"%s\" does not exist", label),
				 errhint("SELECT label FROM drydock.baseline lists the saved baselines.")));
	SPI_finish();

	PG_RETURN_VOID();
}

/*
 * The diff query, the one text of it for drydock.diff() and for verify.c's
 * checks (drydock_spi_diff).  $1 name[] restricts both sides to those
 * schemas (schemas_given), $2 text is the baseline label.  full: the
 * columns of drydock.diff() (change, kind, identity, before, after) in its
 * order; otherwise (change, kind, identity, schema) in no particular order,
 * schema being the object's schema now (NULL for a removed object): what
 * the checks need, without the definitions and the sort.
 *
 * The current state comes through catalog_objects() -- the one path that
 * builds the rows -- filtered here rather than by naming the schemas to
 * catalog_objects(), which would refuse a schema the baseline had and the
 * database no longer has.
 */
static char *
diff_query(bool schemas_given, bool full)
{
	return psprintf("WITH cur AS (SELECT kind, identity, schema, definition FROM %s), "
					"base AS (SELECT kind, identity, definition FROM drydock.baseline_object "
					"  WHERE label = $2 AND ($1::name[] IS NULL OR schema = ANY ($1::name[]::text[]))) "
					"SELECT CASE WHEN b.identity IS NULL THEN 'added' "
					"            WHEN c.identity IS NULL THEN 'removed' ELSE 'changed' END AS change, "
					"       coalesce(c.kind, b.kind) AS kind, coalesce(c.identity, b.identity) AS identity, "
					"       %s "
					"  FROM base b FULL JOIN cur c ON c.kind = b.kind AND c.identity = b.identity "
					" WHERE b.identity IS NULL OR c.identity IS NULL "
					"    OR b.definition IS DISTINCT FROM c.definition%s%s",
					schemas_given ?
					"drydock.catalog_objects(NULL) q WHERE q.schema = ANY ($1::name[]::text[])" :
					"drydock.catalog_objects(NULL) q",
					full ? "b.definition AS before, c.definition AS after" : "c.schema",
					full ? " ORDER BY " : "",
					full ? psprintf(KIND_RANK_FMT ", coalesce(c.identity, b.identity) COLLATE \"C\", "
									"coalesce(c.kind, b.kind) COLLATE \"C\", 1",
									"coalesce(c.kind, b.kind)") : "");
}

/*
 * The checks drydock.diff() makes of its label, for a label that is not
 * NULL: not empty, and the baseline exists.  Inside SPI.
 */
void
drydock_check_baseline(const char *label)
{
	if (label[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("baseline label must not be empty")));
	require_baseline(label);
}

/* The hash of a (kind, identity) key, for the baseline's key set. */
static uint64
object_key_hash(const char *kind, const char *identity)
{
	uint64		h = hash_bytes_extended((const unsigned char *) kind, strlen(kind), 0);

	return hash_bytes_extended((const unsigned char *) identity, strlen(identity), h);
}

/*
 * CatalogRowFilter callback: might the baseline have this row?  Only the
 * key hashes are kept, so a collision renders a definition for nothing;
 * a row of the baseline is never missed.
 */
static bool
baseline_may_have(void *arg, const char *kind, const char *identity)
{
	uint64		key = object_key_hash(kind, identity);

	return hash_search((HTAB *) arg, &key, HASH_FIND, NULL) != NULL;
}

/* The key hashes of the rows of baseline label, in CurrentMemoryContext. */
static HTAB *
baseline_key_set(const char *label)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1];
	HASHCTL		ctl;
	HTAB	   *keys;

	values[0] = CStringGetTextDatum(label);
	if (SPI_execute_with_args("SELECT kind, identity FROM drydock.baseline_object WHERE label = $1",
							  1, argtypes, values, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "reading the baseline's objects failed");
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(uint64);
	ctl.entrysize = sizeof(uint64);
	ctl.hcxt = CurrentMemoryContext;
	keys = hash_create("drydock baseline keys", Max(SPI_processed, 16), &ctl,
					   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	for (uint64 r = 0; r < SPI_processed; r++)
	{
		char	   *kind = SPI_getvalue(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 1);
		char	   *identity = SPI_getvalue(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 2);
		uint64		key;

		if (kind == NULL || identity == NULL)
			continue;			/* the join never matches a NULL key */
		key = object_key_hash(kind, identity);
		hash_search(keys, &key, HASH_ENTER, NULL);
		pfree(kind);
		pfree(identity);
	}
	SPI_freetuptable(SPI_tuptable);
	return keys;
}

/*
 * Run the diff query against baseline label, without a schemas filter,
 * under the pinned settings of the catalog functions: the rows
 * (change, kind, identity, schema) of diff_query(false, false) are left in
 * SPI_tuptable.  For verify.c, inside SPI, after drydock_check_baseline().
 * Tables, columns and table constraints the baseline does not have are
 * "added" whatever their definition, so theirs is not rendered
 * (diff_row_filter).  skip_new_schema (or NULL): a schema the baseline has
 * nothing in (but itself), whose tables, columns and constraints -- all
 * "added" -- the caller does not read: they are left out of the diff.
 */
void
drydock_spi_diff(const char *label, const char *skip_new_schema)
{
	Oid			argtypes[2] = {NAMEARRAYOID, TEXTOID};
	Datum		values[2];
	char		nulls[2] = {'n', ' '};
	int			nestlevel = pin_search_path();
	CatalogRowFilter filter;

	filter.wanted = baseline_may_have;
	filter.arg = baseline_key_set(label);
	filter.skip_schema = skip_new_schema;
	values[0] = (Datum) 0;
	values[1] = CStringGetTextDatum(label);
	diff_row_filter = &filter;
	PG_TRY();
	{
		if (SPI_execute_with_args(diff_query(false, false), 2, argtypes, values, nulls, true, 0) != SPI_OK_SELECT)
			elog(ERROR, "diff query failed");
	}
	PG_FINALLY();
	{
		diff_row_filter = NULL;
	}
	PG_END_TRY();
	hash_destroy((HTAB *) filter.arg);
	AtEOXact_GUC(true, nestlevel);
}

/*
 * drydock.diff(label text, schemas name[] DEFAULT NULL)
 *	 RETURNS TABLE(change, kind, identity, before, after)
 *
 * Every object whose row differs between the baseline and now: 'added'
 * (exists now, not in the baseline), 'removed' (the other way round) or
 * 'changed' (same kind and identity, different definition).  The diff is
 * complete: a removed column of a removed table is listed too; callers
 * filter on parent if they want only the top-level objects.  With schemas,
 * both sides are restricted to rows of those schemas.
 */
Datum
drydock_diff(PG_FUNCTION_ARGS)
{
	char	   *label = get_label(fcinfo, 0);
	Tuplestorestate *tupstore;
	TupleDesc	tupdesc;
	Oid			argtypes[2] = {NAMEARRAYOID, TEXTOID};
	Datum		values[2];
	char		nulls[2];
	int			nestlevel;

	SPI_connect();
	require_baseline(label);
	check_schemas(PG_ARGISNULL(1) ? NULL : PG_GETARG_ARRAYTYPE_P(1), label);
	drydock_init_srf(fcinfo, &tupstore, &tupdesc);
	nestlevel = pin_search_path();

	values[0] = PG_ARGISNULL(1) ? (Datum) 0 : PG_GETARG_DATUM(1);
	nulls[0] = PG_ARGISNULL(1) ? 'n' : ' ';
	values[1] = CStringGetTextDatum(label);
	nulls[1] = ' ';

	if (SPI_execute_with_args(diff_query(!PG_ARGISNULL(1), true), 2, argtypes, values, nulls,
							  true, 0) != SPI_OK_SELECT)
		elog(ERROR, "diff query failed");
	spi_to_tuplestore(tupstore, tupdesc);

	AtEOXact_GUC(true, nestlevel);
	SPI_finish();

	return (Datum) 0;
}

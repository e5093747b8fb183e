/*
 * pgtap_gen.c
 *		drydock.pgtap_script(target_schema): the text of a pgTAP script that
 *		asserts the schema as it stands now (tables, columns and types,
 *		NOT NULL, primary keys, foreign keys, UNIQUE constraints, indexes).
 *
 * Users keep the script next to the migration and run it later with
 * pg_prove against staging or production, to prove the migration landed
 * there as it did in the rehearsal.  So the script must be deterministic
 * (no OIDs, no times: the same schema gives the same bytes, and it diffs
 * well in review) and self-contained (BEGIN, plan(N), the assertions,
 * finish(), ROLLBACK).
 *
 * The assertions are produced by ONE set-based query over pg_catalog, in a
 * stable order (table name in C collation, then assertion kind, then
 * column number or constraint/index name); the C code adds the frame and
 * counts the plan.  Every pgTAP call passes explicit ::name casts and a
 * ::text description so that it resolves to the schema-qualified overload.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"

#include "drydock.h"
#include "pgtap_gen.h"

PG_FUNCTION_INFO_V1(drydock_pgtap_script);

/*
 * One row per assertion: (o1, table, o2, o3, call).  $1 = target schema.
 * L(x) is a name literal, D(...) a description.
 */
static const char *const pgtap_sql =
"WITH t AS (SELECT c.oid, c.relname::text AS relname"
"             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
"            WHERE n.nspname = $1 AND c.relkind IN ('r', 'p')),"
" s AS (SELECT format('%L::name', $1) AS sch, quote_ident($1) AS qs),"
" cols AS (SELECT t.relname, a.attnum, a.attname::text AS attname, a.attnotnull,"
"                 format_type(a.atttypid, a.atttypmod) AS typ"
"            FROM t JOIN pg_attribute a ON a.attrelid = t.oid"
"           WHERE a.attnum > 0 AND NOT a.attisdropped),"
" con AS (SELECT t.relname, c.conname::text AS conname, c.contype,"
"                (SELECT string_agg(format('%L', a.attname), ', ' ORDER BY k.i)"
"                   FROM unnest(c.conkey) WITH ORDINALITY k(att, i)"
"                   JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.att) AS cols,"
"                (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY k.i)"
"                   FROM unnest(c.conkey) WITH ORDINALITY k(att, i)"
"                   JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.att) AS dcols,"
"                (SELECT string_agg(format('%L', a.attname), ', ' ORDER BY k.i)"
"                   FROM unnest(c.confkey) WITH ORDINALITY k(att, i)"
"                   JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.att) AS fcols,"
"                fn.nspname::text AS fschema, fc.relname::text AS ftable"
"           FROM t JOIN pg_constraint c ON c.conrelid = t.oid"
"           LEFT JOIN pg_class fc ON fc.oid = c.confrelid"
"           LEFT JOIN pg_namespace fn ON fn.oid = fc.relnamespace"
"          WHERE c.contype IN ('p', 'f', 'u')),"
" idx AS (SELECT t.relname, i.relname::text AS idxname, x.indisunique,"
"                0 <> ALL (x.indkey::int2[]) AND x.indexprs IS NULL AS plain,"
"                (SELECT string_agg(format('%L', a.attname), ', ' ORDER BY k.i)"
"                   FROM unnest(x.indkey::int2[]) WITH ORDINALITY k(att, i)"
"                   JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.att) AS cols,"
"                (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY k.i)"
"                   FROM unnest(x.indkey::int2[]) WITH ORDINALITY k(att, i)"
"                   JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.att) AS dcols"
"           FROM t JOIN pg_index x ON x.indrelid = t.oid JOIN pg_class i ON i.oid = x.indexrelid),"
/* per-table aggregates, joined once: a subquery per table would be quadratic */
" colagg AS (SELECT relname, string_agg(format('%L', attname), ', ' ORDER BY attnum) AS names"
"              FROM cols GROUP BY relname),"
" pk AS (SELECT DISTINCT relname FROM con WHERE contype = 'p'),"
" idxagg AS (SELECT relname, string_agg(format('%L', idxname), ', ' ORDER BY idxname COLLATE \"C\") AS names"
"              FROM idx GROUP BY relname)"
" SELECT * FROM (SELECT 0 AS o1, '' AS tbl, 0 AS o2, ''::text AS o3, 0 AS o4,"
"        format('has_schema(%s, %L::text)', sch, 'schema ' || qs || ' exists') FROM s"
" UNION ALL"
" SELECT 0, '', 1, '', 0, format('tables_are(%s, ARRAY[%s]::name[], %L::text)', sch,"
"        coalesce((SELECT string_agg(format('%L', relname), ', ' ORDER BY relname COLLATE \"C\") FROM t), ''),"
"        'schema ' || qs || ' has exactly the expected tables') FROM s"
" UNION ALL"
" SELECT 1, relname, 0, '', 0, format('has_table(%s, %L::name, %L::text)', sch, relname,"
"        qs || '.' || quote_ident(relname) || ' exists') FROM t, s"
" UNION ALL"
" SELECT 1, relname, 1, '', 0, format('columns_are(%s, %L::name, ARRAY[%s]::name[], %L::text)', sch, relname,"
"        colagg.names,"
"        qs || '.' || quote_ident(relname) || ' has exactly the expected columns')"
"   FROM t LEFT JOIN colagg USING (relname), s"
" UNION ALL"
" SELECT 1, relname, 2, '', attnum * 2,"
"        format('col_type_is(%s, %L::name, %L::name, %L::text, %L::text)', sch, relname, attname, typ,"
"               qs || '.' || quote_ident(relname) || '.' || quote_ident(attname) || ' is ' || typ) FROM cols, s"
" UNION ALL"
" SELECT 1, relname, 2, '', attnum * 2 + 1,"
"        format('%s(%s, %L::name, %L::name, %L::text)', CASE WHEN attnotnull THEN 'col_not_null' ELSE 'col_is_null' END,"
"               sch, relname, attname, qs || '.' || quote_ident(relname) || '.' || quote_ident(attname) ||"
"               CASE WHEN attnotnull THEN ' is NOT NULL' ELSE ' allows NULL' END) FROM cols, s"
" UNION ALL"
" SELECT 1, t.relname, 3, '', 0, format('%s(%s, %L::name, %L::text)',"
"        CASE WHEN pk.relname IS NOT NULL THEN 'has_pk' ELSE 'hasnt_pk' END, sch, t.relname,"
"        qs || '.' || quote_ident(t.relname) ||"
"        CASE WHEN pk.relname IS NOT NULL THEN ' has a primary key' ELSE ' has no primary key' END)"
"   FROM t LEFT JOIN pk ON pk.relname = t.relname, s"
" UNION ALL"
" SELECT 1, relname, 4, conname, 0, format('col_is_pk(%s, %L::name, ARRAY[%s]::name[], %L::text)', sch, relname, cols,"
"        qs || '.' || quote_ident(relname) || ' primary key is (' || dcols || ')') FROM con, s WHERE contype = 'p'"
" UNION ALL"
" SELECT 1, relname, 5, conname, 0,"
"        format('fk_ok(%s, %L::name, ARRAY[%s]::name[], %L::name, %L::name, ARRAY[%s]::name[], %L::text)',"
"               sch, relname, cols, fschema, ftable, fcols,"
"               'foreign key ' || quote_ident(conname) || ' on ' || qs || '.' || quote_ident(relname) ||"
"               ' references ' || quote_ident(fschema) || '.' || quote_ident(ftable)) FROM con, s WHERE contype = 'f'"
" UNION ALL"
" SELECT 1, relname, 6, conname, 0, format('col_is_unique(%s, %L::name, ARRAY[%s]::name[], %L::text)', sch, relname, cols,"
"        qs || '.' || quote_ident(relname) || ' has UNIQUE (' || dcols || ')') FROM con, s WHERE contype = 'u'"
" UNION ALL"
" SELECT 1, relname, 7, '', 0, format('indexes_are(%s, %L::name, ARRAY[%s]::name[], %L::text)', sch, relname,"
"        coalesce(idxagg.names, ''),"
"        qs || '.' || quote_ident(relname) || ' has exactly the expected indexes')"
"   FROM t LEFT JOIN idxagg USING (relname), s"
" UNION ALL"
" SELECT 1, relname, 8, idxname, 0, CASE WHEN plain"
"        THEN format('has_index(%s, %L::name, %L::name, ARRAY[%s]::name[], %L::text)', sch, relname, idxname, cols,"
"                    'index ' || quote_ident(idxname) || ' on ' || qs || '.' || quote_ident(relname) || ' (' || dcols || ')')"
"        ELSE format('has_index(%s, %L::name, %L::name, %L::text)', sch, relname, idxname,"
"                    'index ' || quote_ident(idxname) || ' on ' || qs || '.' || quote_ident(relname)) END FROM idx, s"
" UNION ALL"
" SELECT 1, relname, 8, idxname, 1, format('index_is_unique(%s, %L::name, %L::name, %L::text)', sch, relname, idxname,"
"        'index ' || quote_ident(idxname) || ' is unique') FROM idx, s WHERE indisunique"
") u ORDER BY o1, tbl COLLATE \"C\", o2, o3 COLLATE \"C\", o4";

/*
 * drydock.pgtap_script(target_schema name) RETURNS text
 */
Datum
drydock_pgtap_script(PG_FUNCTION_ARGS)
{
	char	   *schema = NameStr(*PG_GETARG_NAME(0));
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1];
	StringInfoData body;
	StringInfoData out;
	uint64		n;
	int			ret;
	text	   *result;

	SPI_connect();
	values[0] = CStringGetTextDatum(schema);
	ret = SPI_execute_with_args("SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1",
								1, argtypes, values, NULL, true, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "drydock: reading pg_namespace failed");
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_SCHEMA),
				 errmsg("schema \"%s\" does not exist", schema),
				 errhint("Generate the script in the database the migration was applied to.")));

	ret = SPI_execute_with_args(pgtap_sql, 1, argtypes, values, NULL, true, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "drydock: generating pgTAP assertions failed: %s",
			 SPI_result_code_string(ret));

	initStringInfo(&body);
	for (n = 0; n < SPI_processed; n++)
		appendStringInfo(&body, "SELECT %s;\n",
						 SPI_getvalue(SPI_tuptable->vals[n], SPI_tuptable->tupdesc, 6));

	initStringInfo(&out);
	appendStringInfo(&out,
					 "-- pgTAP assertions for schema %s, generated by drydock %s\n"
					 "-- (drydock.pgtap_script) from the schema as it stood after the rehearsed migration.\n"
					 "-- Run it later against staging or production: pg_prove -d DBNAME THIS_FILE.sql\n"
					 "-- Needs the pgtap extension in that database (CREATE EXTENSION pgtap).\n"
					 "BEGIN;\n"
					 "SELECT plan(" UINT64_FORMAT ");\n",
					 quote_identifier(schema), DRYDOCK_VERSION, n);
	appendBinaryStringInfo(&out, body.data, body.len);
	appendStringInfoString(&out, "SELECT * FROM finish();\nROLLBACK;\n");

	/*
	 * out lives in SPI's procedure context, which SPI_finish() frees: copy
	 * the result into the caller's context first.
	 */
	result = (text *) SPI_palloc(VARHDRSZ + out.len);
	SET_VARSIZE(result, VARHDRSZ + out.len);
	memcpy(VARDATA(result), out.data, out.len);
	SPI_finish();
	PG_RETURN_TEXT_P(result);
}

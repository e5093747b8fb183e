/*
 * catalog_defs.c
 *		Fast definitions for the catalog state: drydock.constraint_def().
 *
 * pg_get_constraintdef() opens pg_constraint and runs an index scan for
 * every call; over the thousands of constraints of a large schema that is
 * the single largest cost of drydock.catalog_objects().  The common kinds
 * -- PRIMARY KEY, UNIQUE and FOREIGN KEY over plain columns -- are rendered
 * here from the syscache instead, in exactly the text pg_get_constraintdef()
 * gives (its non-pretty form, without the index's WITH/TABLESPACE, which it
 * prints only for a full command).  Anything else (CHECK, EXCLUDE, INCLUDE
 * columns, MATCH PARTIAL, ON DELETE SET NULL (cols), a referenced table that
 * is visible unqualified under search_path = pg_catalog, pg_temp) goes to
 * pg_get_constraintdef() itself, so the output never differs.
 *
 * Meant to run under the catalog query's settings (search_path = pg_catalog,
 * pg_temp): a user table is then never visible unqualified and is always
 * schema-qualified, as pg_get_constraintdef() does with it.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_index.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "nodes/parsenodes.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "catalog_state.h"

PG_FUNCTION_INFO_V1(drydock_constraint_def);

/*
 * Append "col, col, ..." for the int2[] attribute numbers of relid.
 * Returns the number of columns, or -1 if the array is not a plain
 * one-dimensional int2 array without NULLs (the caller falls back).
 * Quoted names come from the resolver when it knows them, else from the
 * syscache.
 */
static int
append_columns(StringInfo buf, Datum arr, Oid relid, const ConstraintNameResolver *res)
{
	ArrayType  *a = DatumGetArrayTypeP(arr);
	int16	   *attnums;
	int			n;

	if (ARR_NDIM(a) != 1 || ARR_HASNULL(a) || ARR_ELEMTYPE(a) != INT2OID)
		return -1;
	n = ARR_DIMS(a)[0];
	attnums = (int16 *) ARR_DATA_PTR(a);
	for (int i = 0; i < n; i++)
	{
		const char *name = res ? res->attname(res->arg, relid, attnums[i]) : NULL;

		if (i > 0)
			appendStringInfoString(buf, ", ");
		if (name == NULL)
			name = quote_identifier(get_attname(relid, attnums[i], false));
		appendStringInfoString(buf, name);
	}
	return n;
}

static const char *
fk_action(char action)
{
	switch (action)
	{
		case FKCONSTR_ACTION_NOACTION:
			return "";
		case FKCONSTR_ACTION_RESTRICT:
			return "RESTRICT";
		case FKCONSTR_ACTION_CASCADE:
			return "CASCADE";
		case FKCONSTR_ACTION_SETNULL:
			return "SET NULL";
		case FKCONSTR_ACTION_SETDEFAULT:
			return "SET DEFAULT";
	}
	return NULL;
}

/*
 * The definition of a constraint, or NULL if this fast path does not handle
 * it.  tup is its pg_constraint tuple (from the syscache or a scan of
 * pg_constraint).
 */
char *
drydock_fast_constraint_def(HeapTuple tup, const ConstraintNameResolver *res)
{
	Form_pg_constraint con = (Form_pg_constraint) GETSTRUCT(tup);
	StringInfoData buf;
	bool		isnull;
	Datum		val;

	if (!OidIsValid(con->conrelid))
		return NULL;
	initStringInfo(&buf);

	if (con->contype == CONSTRAINT_PRIMARY || con->contype == CONSTRAINT_UNIQUE)
	{
		HeapTuple	indtup;
		Form_pg_index ind;
		int			nkeys;

		indtup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(con->conindid));
		if (!HeapTupleIsValid(indtup))
			return NULL;
		ind = (Form_pg_index) GETSTRUCT(indtup);
		appendStringInfoString(&buf, con->contype == CONSTRAINT_PRIMARY ?
							   "PRIMARY KEY " : "UNIQUE ");
#if PG_VERSION_NUM >= 150000
		if (con->contype == CONSTRAINT_UNIQUE && ind->indnullsnotdistinct)
			appendStringInfoString(&buf, "NULLS NOT DISTINCT ");
#endif
		appendStringInfoChar(&buf, '(');
		val = SysCacheGetAttr(CONSTROID, tup, Anum_pg_constraint_conkey, &isnull);
		nkeys = isnull ? -1 : append_columns(&buf, val, con->conrelid, res);
		/* INCLUDE columns: left to pg_get_constraintdef */
		if (nkeys < 0 || ind->indnatts != nkeys)
		{
			ReleaseSysCache(indtup);
			return NULL;
		}
		ReleaseSysCache(indtup);
		appendStringInfoChar(&buf, ')');
	}
	else if (con->contype == CONSTRAINT_FOREIGN)
	{
		const char *upd = fk_action(con->confupdtype);
		const char *del = fk_action(con->confdeltype);
		const char *qualname = res ? res->qualname(res->arg, con->confrelid) : NULL;

		if (upd == NULL || del == NULL ||
			(con->confmatchtype != FKCONSTR_MATCH_SIMPLE &&
			 con->confmatchtype != FKCONSTR_MATCH_FULL))
			return NULL;
		if (qualname == NULL)
		{
			Oid			refnsp = get_rel_namespace(con->confrelid);
			char	   *refname = get_rel_name(con->confrelid);

			if (refname == NULL)
				return NULL;
			/* visible unqualified (pg_catalog, a temp schema): not handled here */
			if (refnsp == PG_CATALOG_NAMESPACE || isAnyTempNamespace(refnsp))
				return NULL;
			qualname = quote_qualified_identifier(get_namespace_name(refnsp), refname);
		}
#if PG_VERSION_NUM >= 150000
		(void) SysCacheGetAttr(CONSTROID, tup, Anum_pg_constraint_confdelsetcols, &isnull);
		if (!isnull)
			return NULL;
#endif
		appendStringInfoString(&buf, "FOREIGN KEY (");
		val = SysCacheGetAttr(CONSTROID, tup, Anum_pg_constraint_conkey, &isnull);
		if (isnull || append_columns(&buf, val, con->conrelid, res) < 0)
			return NULL;
		appendStringInfo(&buf, ") REFERENCES %s(", qualname);
		val = SysCacheGetAttr(CONSTROID, tup, Anum_pg_constraint_confkey, &isnull);
		if (isnull || append_columns(&buf, val, con->confrelid, res) < 0)
			return NULL;
		appendStringInfoChar(&buf, ')');
		if (con->confmatchtype == FKCONSTR_MATCH_FULL)
			appendStringInfoString(&buf, " MATCH FULL");
		if (*upd)
			appendStringInfo(&buf, " ON UPDATE %s", upd);
		if (*del)
			appendStringInfo(&buf, " ON DELETE %s", del);
	}
	else
		return NULL;

	if (con->condeferrable)
		appendStringInfoString(&buf, " DEFERRABLE");
	if (con->condeferred)
		appendStringInfoString(&buf, " INITIALLY DEFERRED");
	if (!con->convalidated)
		appendStringInfoString(&buf, " NOT VALID");
	return buf.data;
}

/*
 * drydock.constraint_def(oid) RETURNS text: pg_get_constraintdef(oid), fast
 * for the common kinds.  NULL for a constraint that does not exist.
 */
Datum
drydock_constraint_def(PG_FUNCTION_ARGS)
{
	Oid			conoid = PG_GETARG_OID(0);
	HeapTuple	tup;
	char	   *def;

	tup = SearchSysCache1(CONSTROID, ObjectIdGetDatum(conoid));
	if (!HeapTupleIsValid(tup))
		PG_RETURN_NULL();
	def = drydock_fast_constraint_def(tup, NULL);
	ReleaseSysCache(tup);
	if (def != NULL)
		PG_RETURN_TEXT_P(cstring_to_text(def));
	return DirectFunctionCall1(pg_get_constraintdef, ObjectIdGetDatum(conoid));
}

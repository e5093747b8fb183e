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
 * The assertions come in a stable order: table name in byte order (as
 * COLLATE "C"), then assertion kind, then column number or constraint or
 * index name in byte order.  They are built here in C straight from the
 * catalogs, one scan of each: pg_class for the schema's tables and index
 * names, pg_attribute, pg_constraint and pg_index for what belongs to
 * those tables.  The former single SQL query spent most of its time in
 * format() over tens of thousands of rows and in sorting them (about 270
 * ms for 2,000 tables); per-table syscache lookups and index scans after a
 * migration, when every cache is cold, cost 12,000 attribute probes and
 * 4,000 index scans for 2,000 tables.  The text is exactly what that query's format() calls produced:
 * names as literals via quote_literal_cstr() (format's %L), identifiers
 * in descriptions via quote_identifier() (quote_ident), types via
 * format_type_extended() with the flags of SQL format_type(), which
 * qualifies a type the caller's search_path does not show.  Every pgTAP
 * call passes explicit ::name casts and a ::text description so that it
 * resolves to the schema-qualified overload.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/pg_attribute.h"
#include "catalog/pg_class.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_index.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "drydock.h"
#include "oid_map.h"
#include "pgtap_gen.h"

PG_FUNCTION_INFO_V1(drydock_pgtap_script);

/* A pg_attribute row of a table of the schema. */
typedef struct TapAttr
{
	bool		present;		/* false: no row for this attnum */
	bool		dropped;
	bool		notnull;
	char	   *name;
	Oid			typid;
	int32		typmod;
} TapAttr;

typedef struct TapConstraint TapConstraint;
typedef struct TapIndex TapIndex;

typedef struct TapTable
{
	Oid			oid;
	char	   *relname;
	int16		natts;			/* relnatts */
	TapAttr    *atts;			/* [1..natts] */
	TapConstraint *cons;		/* PRIMARY KEY, FOREIGN KEY, UNIQUE */
	int			ncons;
	int			maxcons;
	TapIndex   *idx;
	int			nidx;
	int			maxidx;
} TapTable;

/* The schema's tables by oid, and its relations' names (indexes) by oid. */
typedef struct TapSchema
{
	Oid			nspoid;
	char	   *nspname;
	TapTable   *tables;			/* by name */
	int			ntables;
	HTAB	   *table_by_oid;	/* -> TapTable * */
	HTAB	   *relname_by_oid; /* -> char *, every relation of the schema */
} TapSchema;

/* A PRIMARY KEY, FOREIGN KEY or UNIQUE constraint of a table. */
struct TapConstraint
{
	char	   *conname;
	char		contype;
	char	   *cols;			/* column names as literals, ", "; NULL: none */
	char	   *dcols;			/* the same as identifiers */
	char	   *fcols;			/* FK: referenced columns as literals */
	char	   *fschema;		/* FK: referenced table's schema and name */
	char	   *ftable;
};

struct TapIndex
{
	char	   *idxname;
	bool		unique;
	bool		plain;			/* no expression column */
	char	   *cols;
	char	   *dcols;
};

/* The generated calls, and how many. */
typedef struct TapOut
{
	StringInfoData body;
	uint64		n;
} TapOut;

static int
table_cmp(const void *a, const void *b)
{
	return strcmp(((const TapTable *) a)->relname, ((const TapTable *) b)->relname);
}

static int
constraint_cmp(const void *a, const void *b)
{
	return strcmp(((const TapConstraint *) a)->conname, ((const TapConstraint *) b)->conname);
}

static int
index_cmp(const void *a, const void *b)
{
	return strcmp(((const TapIndex *) a)->idxname, ((const TapIndex *) b)->idxname);
}

/* format('%L', s): a literal, NULL unquoted */
static const char *
lit(const char *s)
{
	return s ? quote_literal_cstr(s) : "NULL";
}

/* format('%s', s): NULL is the empty string */
static const char *
str(const char *s)
{
	return s ? s : "";
}

/* One assertion: "SELECT <call>;" */
static void
emit(TapOut *out, const char *fmt,...) pg_attribute_printf(2, 3);

static void
emit(TapOut *out, const char *fmt,...)
{
	appendStringInfoString(&out->body, "SELECT ");
	for (;;)
	{
		va_list		args;
		int			needed;

		va_start(args, fmt);
		needed = appendStringInfoVA(&out->body, fmt, args);
		va_end(args);
		if (needed == 0)
			break;
		enlargeStringInfo(&out->body, needed);
	}
	appendStringInfoString(&out->body, ";\n");
	out->n++;
}

/*
 * The names of columns attnums[0..n-1] of relid, in that order, joined by
 * ", ": as literals (*lits) and as identifiers (*idents); an attnum with no
 * pg_attribute row is skipped, as the SQL join skipped it; NULL when none
 * is left (string_agg over no rows).  A table of the schema is read from
 * what load_attributes() kept, any other (an FK's referenced table in
 * another schema) from the syscache.
 */
static void
column_list(const TapSchema *sc, Oid relid, const int16 *attnums, int n,
			char **lits, char **idents)
{
	const TapTable *t = oid_map_get(sc->table_by_oid, relid);
	StringInfoData l;
	StringInfoData d;
	int			found = 0;

	initStringInfo(&l);
	initStringInfo(&d);
	for (int i = 0; i < n; i++)
	{
		HeapTuple	tup = NULL;
		const char *name;

		if (t != NULL && attnums[i] >= 1 && attnums[i] <= t->natts)
			name = t->atts[attnums[i]].present ? t->atts[attnums[i]].name : NULL;
		else
		{
			tup = SearchSysCache2(ATTNUM, ObjectIdGetDatum(relid), Int16GetDatum(attnums[i]));
			name = HeapTupleIsValid(tup) ? NameStr(((Form_pg_attribute) GETSTRUCT(tup))->attname) : NULL;
		}
		if (name != NULL)
		{
			if (found++ > 0)
			{
				appendStringInfoString(&l, ", ");
				appendStringInfoString(&d, ", ");
			}
			appendStringInfoString(&l, quote_literal_cstr(name));
			appendStringInfoString(&d, quote_identifier(name));
		}
		if (HeapTupleIsValid(tup))
			ReleaseSysCache(tup);
	}
	*lits = found ? l.data : NULL;
	if (idents)
		*idents = found ? d.data : NULL;
}

/* The int2[] column conkey/confkey of a pg_constraint tuple. */
static int16 *
constraint_keys(HeapTuple tup, TupleDesc desc, int attnum, int *n)
{
	bool		isnull;
	Datum		d = heap_getattr(tup, attnum, desc, &isnull);
	Datum	   *elems;
	bool	   *nulls;
	int16	   *keys;

	*n = 0;
	if (isnull)
		return NULL;
	deconstruct_array(DatumGetArrayTypeP(d), INT2OID, sizeof(int16), true, TYPALIGN_SHORT,
					  &elems, &nulls, n);
	keys = palloc((*n + 1) * sizeof(int16));
	for (int i = 0; i < *n; i++)
		keys[i] = DatumGetInt16(elems[i]);
	return keys;
}

/* arr (max elements of elsize allocated, n used) with room for one more. */
static void *
grow(void *arr, int n, int *max, Size elsize)
{
	if (n < *max)
		return arr;
	*max = *max ? *max * 2 : 4;
	return arr ? repalloc(arr, *max * elsize) : palloc(*max * elsize);
}

/* The table of the schema with this oid, or NULL. */
static TapTable *
schema_table(const TapSchema *sc, Oid relid)
{
	return oid_map_get(sc->table_by_oid, relid);
}

/*
 * One scan of pg_class for namespace sc->nspoid: its tables (plain and
 * partitioned), by name, and the names of all its relations by oid (an
 * index is always in its table's schema).
 */
static void
load_schema_relations(TapSchema *sc)
{
	Relation	rel = table_open(RelationRelationId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	int			n = 0;
	int			cap = 64;
	TapTable   *tables = palloc(cap * sizeof(TapTable));

	sc->relname_by_oid = oid_map_create("drydock pgtap relnames", 1024, CurrentMemoryContext);
	ScanKeyInit(&key, Anum_pg_class_relnamespace, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(sc->nspoid));
	scan = systable_beginscan(rel, InvalidOid, false, NULL, 1, &key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_class c = (Form_pg_class) GETSTRUCT(tup);
		char	   *relname = pstrdup(NameStr(c->relname));

		oid_map_put(sc->relname_by_oid, c->oid, relname);
		if (c->relkind != RELKIND_RELATION && c->relkind != RELKIND_PARTITIONED_TABLE)
			continue;
		if (n == cap)
			tables = repalloc(tables, (cap *= 2) * sizeof(TapTable));
		memset(&tables[n], 0, sizeof(TapTable));
		tables[n].oid = c->oid;
		tables[n].relname = relname;
		tables[n].natts = c->relnatts;
		tables[n].atts = palloc0((c->relnatts + 1) * sizeof(TapAttr));
		n++;
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	qsort(tables, n, sizeof(TapTable), table_cmp);
	sc->tables = tables;
	sc->ntables = n;
	sc->table_by_oid = oid_map_create("drydock pgtap tables", Max(n, 16), CurrentMemoryContext);
	for (int i = 0; i < n; i++)
		oid_map_put(sc->table_by_oid, tables[i].oid, &tables[i]);
}

/* The name of relation relid (get_rel_name()), from the schema's if it is there. */
static char *
relation_name(const TapSchema *sc, Oid relid)
{
	char	   *name = oid_map_get(sc->relname_by_oid, relid);

	return name ? name : get_rel_name(relid);
}

/* A row of a catalog scanned by scan_catalog(). */
typedef void (*TapRowFn) (TapSchema *sc, HeapTuple tup, TupleDesc desc);

/* One scan of catalog relid (no index, no key): fn for each row. */
static void
scan_catalog(TapSchema *sc, Oid relid, TapRowFn fn)
{
	Relation	rel = table_open(relid, AccessShareLock);
	SysScanDesc scan = systable_beginscan(rel, InvalidOid, false, NULL, 0, NULL);
	HeapTuple	tup;

	while (HeapTupleIsValid(tup = systable_getnext(scan)))
		fn(sc, tup, RelationGetDescr(rel));
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
}

/* A pg_attribute row: a user column of one of the schema's tables is kept. */
static void
attribute_row(TapSchema *sc, HeapTuple tup, TupleDesc desc)
{
	Form_pg_attribute a = (Form_pg_attribute) GETSTRUCT(tup);
	TapTable   *t;
	TapAttr    *att;

	if (a->attnum < 1 || (t = schema_table(sc, a->attrelid)) == NULL || a->attnum > t->natts)
		return;
	att = &t->atts[a->attnum];
	att->present = true;
	att->dropped = a->attisdropped;
	att->notnull = a->attnotnull;
	att->name = pstrdup(NameStr(a->attname));
	att->typid = a->atttypid;
	att->typmod = a->atttypmod;
}

/*
 * A pg_constraint row: a PRIMARY KEY, FOREIGN KEY or UNIQUE constraint of
 * one of the schema's tables is kept (after attribute_row(): column names).
 */
static void
constraint_row(TapSchema *sc, HeapTuple tup, TupleDesc desc)
{
	Form_pg_constraint con = (Form_pg_constraint) GETSTRUCT(tup);
	TapTable   *t;
	TapConstraint *c;
	int16	   *keys;
	int			nkeys;

	if (con->contype != CONSTRAINT_PRIMARY && con->contype != CONSTRAINT_FOREIGN &&
		con->contype != CONSTRAINT_UNIQUE)
		return;
	if (!OidIsValid(con->conrelid) || (t = schema_table(sc, con->conrelid)) == NULL)
		return;
	t->cons = grow(t->cons, t->ncons, &t->maxcons, sizeof(TapConstraint));
	c = &t->cons[t->ncons++];
	memset(c, 0, sizeof(*c));
	c->conname = pstrdup(NameStr(con->conname));
	c->contype = con->contype;
	keys = constraint_keys(tup, desc, Anum_pg_constraint_conkey, &nkeys);
	column_list(sc, t->oid, keys, nkeys, &c->cols, &c->dcols);
	if (con->contype == CONSTRAINT_FOREIGN)
	{
		TapTable   *ft = schema_table(sc, con->confrelid);

		keys = constraint_keys(tup, desc, Anum_pg_constraint_confkey, &nkeys);
		column_list(sc, con->confrelid, keys, nkeys, &c->fcols, NULL);
		if (ft != NULL)
		{
			c->ftable = ft->relname;
			c->fschema = sc->nspname;
		}
		else
		{
			c->ftable = get_rel_name(con->confrelid);
			c->fschema = c->ftable ? get_namespace_name(get_rel_namespace(con->confrelid)) : NULL;
		}
	}
}

/*
 * A pg_index row: an index of one of the schema's tables is kept (after
 * attribute_row(): column names).
 */
static void
index_row(TapSchema *sc, HeapTuple tup, TupleDesc desc)
{
	Form_pg_index x = (Form_pg_index) GETSTRUCT(tup);
	TapTable   *t = schema_table(sc, x->indrelid);
	TapIndex   *i;
	char	   *name;

	if (t == NULL)
		return;
	name = relation_name(sc, x->indexrelid);
	if (name == NULL)			/* the join with pg_class found no row */
		return;
	t->idx = grow(t->idx, t->nidx, &t->maxidx, sizeof(TapIndex));
	i = &t->idx[t->nidx++];
	i->idxname = name;
	i->unique = x->indisunique;
	i->plain = heap_attisnull(tup, Anum_pg_index_indexprs, desc);
	for (int k = 0; k < x->indkey.dim1; k++)
		if (x->indkey.values[k] == 0)
			i->plain = false;
	column_list(sc, t->oid, x->indkey.values, x->indkey.dim1, &i->cols, &i->dcols);
}

/*
 * What the assertions need of the schema's tables: one scan each of
 * pg_attribute, pg_constraint and pg_index (in that order), then each
 * table's constraints and indexes by name.
 */
static void
load_table_parts(TapSchema *sc)
{
	scan_catalog(sc, AttributeRelationId, attribute_row);
	scan_catalog(sc, ConstraintRelationId, constraint_row);
	scan_catalog(sc, IndexRelationId, index_row);
	for (int i = 0; i < sc->ntables; i++)
	{
		TapTable   *t = &sc->tables[i];

		if (t->ncons > 1)
			qsort(t->cons, t->ncons, sizeof(TapConstraint), constraint_cmp);
		if (t->nidx > 1)
			qsort(t->idx, t->nidx, sizeof(TapIndex), index_cmp);
	}
}

/* The assertions of one table, in kind order. */
static void
table_assertions(TapOut *out, const char *sch, const char *qs, const TapTable *t)
{
	const char *rel = lit(t->relname);
	char	   *qt = psprintf("%s.%s", qs, quote_identifier(t->relname));
	StringInfoData names;
	int			ncols = 0;
	char	  **attnames = palloc((t->natts + 1) * sizeof(char *));
	char	  **types = palloc((t->natts + 1) * sizeof(char *));
	bool	   *notnull = palloc((t->natts + 1) * sizeof(bool));
	const TapConstraint *cons = t->cons;
	int			ncons = t->ncons;
	const TapIndex *idx = t->idx;
	int			nidx = t->nidx;
	bool		has_pk = false;

	emit(out, "has_table(%s, %s::name, %s::text)", sch, rel, lit(psprintf("%s exists", qt)));

	/* columns, by attnum */
	initStringInfo(&names);
	for (int16 attnum = 1; attnum <= t->natts; attnum++)
	{
		const TapAttr *a = &t->atts[attnum];

		if (!a->present || a->dropped)
			continue;
		attnames[ncols] = a->name;
		types[ncols] = format_type_extended(a->typid, a->typmod,
											FORMAT_TYPE_TYPEMOD_GIVEN | FORMAT_TYPE_ALLOW_INVALID);
		notnull[ncols] = a->notnull;
		if (ncols > 0)
			appendStringInfoString(&names, ", ");
		appendStringInfoString(&names, quote_literal_cstr(attnames[ncols]));
		ncols++;
	}
	emit(out, "columns_are(%s, %s::name, ARRAY[%s]::name[], %s::text)", sch, rel, names.data,
		 lit(psprintf("%s has exactly the expected columns", qt)));
	for (int i = 0; i < ncols; i++)
	{
		const char *att = lit(attnames[i]);
		char	   *qc = psprintf("%s.%s", qt, quote_identifier(attnames[i]));

		emit(out, "col_type_is(%s, %s::name, %s::name, %s::text, %s::text)", sch, rel, att,
			 lit(types[i]), lit(psprintf("%s is %s", qc, types[i])));
		emit(out, "%s(%s, %s::name, %s::name, %s::text)",
			 notnull[i] ? "col_not_null" : "col_is_null", sch, rel, att,
			 lit(psprintf("%s%s", qc, notnull[i] ? " is NOT NULL" : " allows NULL")));
	}

	/* keys */
	for (int i = 0; i < ncons; i++)
		if (cons[i].contype == CONSTRAINT_PRIMARY)
			has_pk = true;
	emit(out, "%s(%s, %s::text)", has_pk ? "has_pk" : "hasnt_pk",
		 psprintf("%s, %s::name", sch, rel),
		 lit(psprintf("%s%s", qt, has_pk ? " has a primary key" : " has no primary key")));
	for (int i = 0; i < ncons; i++)
		if (cons[i].contype == CONSTRAINT_PRIMARY)
			emit(out, "col_is_pk(%s, %s::name, ARRAY[%s]::name[], %s::text)", sch, rel,
				 str(cons[i].cols),
				 lit(cons[i].dcols ? psprintf("%s primary key is (%s)", qt, cons[i].dcols) : NULL));
	for (int i = 0; i < ncons; i++)
		if (cons[i].contype == CONSTRAINT_FOREIGN)
			emit(out, "fk_ok(%s, %s::name, ARRAY[%s]::name[], %s::name, %s::name, ARRAY[%s]::name[], %s::text)",
				 sch, rel, str(cons[i].cols), lit(cons[i].fschema), lit(cons[i].ftable),
				 str(cons[i].fcols),
				 lit(cons[i].fschema && cons[i].ftable ?
					 psprintf("foreign key %s on %s references %s.%s", quote_identifier(cons[i].conname),
							  qt, quote_identifier(cons[i].fschema), quote_identifier(cons[i].ftable)) :
					 NULL));
	for (int i = 0; i < ncons; i++)
		if (cons[i].contype == CONSTRAINT_UNIQUE)
			emit(out, "col_is_unique(%s, %s::name, ARRAY[%s]::name[], %s::text)", sch, rel,
				 str(cons[i].cols),
				 lit(cons[i].dcols ? psprintf("%s has UNIQUE (%s)", qt, cons[i].dcols) : NULL));

	/* indexes */
	resetStringInfo(&names);
	for (int i = 0; i < nidx; i++)
	{
		if (i > 0)
			appendStringInfoString(&names, ", ");
		appendStringInfoString(&names, quote_literal_cstr(idx[i].idxname));
	}
	emit(out, "indexes_are(%s, %s::name, ARRAY[%s]::name[], %s::text)", sch, rel, names.data,
		 lit(psprintf("%s has exactly the expected indexes", qt)));
	for (int i = 0; i < nidx; i++)
	{
		const char *iname = lit(idx[i].idxname);
		const char *qi = quote_identifier(idx[i].idxname);

		if (idx[i].plain)
			emit(out, "has_index(%s, %s::name, %s::name, ARRAY[%s]::name[], %s::text)", sch, rel, iname,
				 str(idx[i].cols),
				 lit(idx[i].dcols ? psprintf("index %s on %s (%s)", qi, qt, idx[i].dcols) : NULL));
		else
			emit(out, "has_index(%s, %s::name, %s::name, %s::text)", sch, rel, iname,
				 lit(psprintf("index %s on %s", qi, qt)));
		if (idx[i].unique)
			emit(out, "index_is_unique(%s, %s::name, %s::name, %s::text)", sch, rel, iname,
				 lit(psprintf("index %s is unique", qi)));
	}
}

/*
 * drydock.pgtap_script(target_schema name) RETURNS text
 */
Datum
drydock_pgtap_script(PG_FUNCTION_ARGS)
{
	char	   *schema = NameStr(*PG_GETARG_NAME(0));
	Oid			nspoid = get_namespace_oid(schema, true);
	char	   *sch;
	const char *qs;
	TapSchema	sc;
	TapOut		out;
	StringInfoData names;
	StringInfoData head;
	text	   *result;
	MemoryContext tablecxt;

	if (!OidIsValid(nspoid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_SCHEMA),
				 errmsg("schema \"%s\" does not exist", schema),
				 errhint("Generate the script in the database the migration was applied to.")));
	sch = psprintf("%s::name", quote_literal_cstr(schema));
	qs = quote_identifier(schema);
	memset(&sc, 0, sizeof(sc));
	sc.nspoid = nspoid;
	sc.nspname = schema;		/* the name nspoid was found by */
	load_schema_relations(&sc);
	load_table_parts(&sc);

	initStringInfo(&out.body);
	/* sized once from the columns (about 2.7 kB a table of six): no doubling copies */
	{
		Size		estimate = 4096;

		for (int i = 0; i < sc.ntables; i++)
			estimate += 1024 + 300 * (Size) sc.tables[i].natts;
		enlargeStringInfo(&out.body, (int) Min(estimate, MaxAllocSize / 4));
	}
	out.n = 0;
	emit(&out, "has_schema(%s, %s::text)", sch, lit(psprintf("schema %s exists", qs)));
	initStringInfo(&names);
	for (int i = 0; i < sc.ntables; i++)
	{
		if (i > 0)
			appendStringInfoString(&names, ", ");
		appendStringInfoString(&names, quote_literal_cstr(sc.tables[i].relname));
	}
	emit(&out, "tables_are(%s, ARRAY[%s]::name[], %s::text)", sch, names.data,
		 lit(psprintf("schema %s has exactly the expected tables", qs)));

	/*
	 * Each table's temporaries (quoted names, descriptions) in a context
	 * reset after it: the same few pages over and over instead of tens of
	 * megabytes of garbage faulted in for 2,000 tables.
	 */
	tablecxt = AllocSetContextCreate(CurrentMemoryContext, "drydock pgtap table",
									 ALLOCSET_DEFAULT_SIZES);
	for (int i = 0; i < sc.ntables; i++)
	{
		MemoryContext oldcxt = MemoryContextSwitchTo(tablecxt);

		table_assertions(&out, sch, qs, &sc.tables[i]);
		MemoryContextSwitchTo(oldcxt);
		MemoryContextReset(tablecxt);
	}
	MemoryContextDelete(tablecxt);

	initStringInfo(&head);
	appendStringInfo(&head,
					 "-- pgTAP assertions for schema %s, generated by drydock %s\n"
					 "-- (drydock.pgtap_script) from the schema as it stood after the rehearsed migration.\n"
					 "-- Run it later against staging or production: pg_prove -d DBNAME THIS_FILE.sql\n"
					 "-- Needs the pgtap extension in that database (CREATE EXTENSION pgtap).\n"
					 "BEGIN;\n"
					 "SELECT plan(" UINT64_FORMAT ");\n",
					 qs, DRYDOCK_VERSION, out.n);
	appendStringInfoString(&out.body, "SELECT * FROM finish();\nROLLBACK;\n");

	/* the result, copied once: it is megabytes for thousands of tables */
	result = (text *) palloc(VARHDRSZ + head.len + out.body.len);
	SET_VARSIZE(result, VARHDRSZ + head.len + out.body.len);
	memcpy(VARDATA(result), head.data, head.len);
	memcpy(VARDATA(result) + head.len, out.body.data, out.body.len);
	PG_RETURN_TEXT_P(result);
}

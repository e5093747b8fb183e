/*
 * catalog_rels.c
 *		The catalog rows of tables, their columns and their constraints
 *		(ranks 10, 11 and 12 of the catalog state), built in C.
 *
 * On a schema of thousands of tables these three kinds are almost every row
 * of drydock.catalog_objects(), and a set-based SQL branch for them spent
 * most of its time in the executor (per-row ACL subqueries, text
 * concatenation, index probes for names, the final sort).  Here the rows
 * come from one scan of each catalog involved (pg_namespace, pg_class,
 * pg_attribute, pg_attrdef, pg_constraint, pg_description, pg_inherits, and
 * the extension members from pg_depend's reference index) and are sorted in
 * C by identity (COLLATE "C" is strcmp order).  catalog_objects(),
 * fingerprint(), baseline_save() and diff() all get them this way -- it is
 * the only code that describes these kinds -- slotted between the SQL rows
 * of lower and higher rank (catalog_state.c).
 *
 * Everything rendered through a deparser (format_type, pg_get_expr,
 * pg_get_partkeydef, regcollation output, the constraint definition) is
 * rendered by the same function pg_dump's queries use, under pinned
 * settings (search_path = pg_catalog, pg_temp, ...), so the text is stable.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/skey.h"
#include "access/table.h"
#include "catalog/pg_attrdef.h"
#include "catalog/pg_attribute.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_class.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_depend.h"
#include "catalog/pg_description.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_foreign_server.h"
#include "catalog/pg_foreign_table.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_type.h"
#if PG_VERSION_NUM < 140000
#include "catalog/indexing.h"	/* DependReferenceIndexId, before 14 */
#endif
#include "commands/defrem.h"
#include "commands/tablespace.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "catalog_state.h"
#include "drydock.h"
#include "oid_map.h"

/* A column of a table in scope. */
typedef struct ColInfo
{
	int16		attnum;
	const char *name;			/* quoted */
	Oid			typid;
	int32		typmod;
	bool		notnull;
	char		generated;
	char		identity;
	Oid			collation;
	char		storage;
	int			inhcount;
	bool		islocal;
	Datum		options;		/* text[] or 0 */
	Datum		fdwoptions;		/* text[] or 0 */
	Datum		acl;			/* aclitem[] or 0 */
	char	   *adbin;			/* pg_attrdef.adbin or NULL */
	char	   *comment;
} ColInfo;

/* A table, partitioned table or foreign table in scope. */
typedef struct RelInfo
{
	Oid			oid;
	char		relkind;
	const char *nspname;
	const char *qrel;
	char		persistence;
	Oid			am;
	Oid			tablespace;
	char		replident;
	bool		rowsecurity;
	bool		forcerowsecurity;
	Oid			owner;
	bool		ispartition;
	Datum		reloptions;		/* text[] or 0 */
	Datum		acl;			/* aclitem[] or 0 */
	char	   *partbound;		/* relpartbound or NULL */
	char	   *comment;
	List	   *parents;		/* InhParent, any order */
	ColInfo    *cols;
	int			ncols;
	int			maxcols;
} RelInfo;

typedef struct InhParent
{
	int32		seqno;
	char	   *name;
} InhParent;

typedef struct ConInfo
{
	Oid			oid;
	RelInfo    *rel;
	const char *name;			/* quoted */
	char		contype;
	HeapTuple	tup;			/* its pg_constraint tuple, for the definition */
	bool		validated;
	int			inhcount;
	bool		islocal;
	char	   *comment;
} ConInfo;

/* Per (type, typmod): format_type text; per type: storage and collation. */
typedef struct TypeKey
{
	Oid			typid;
	int32		typmod;
} TypeKey;

typedef struct TypeEnt
{
	TypeKey		key;
	char	   *formatted;
	char		typstorage;
	Oid			typcollation;
} TypeEnt;

typedef struct OwnerEnt
{
	Oid			owner;			/* hash key */
	char	   *name;
	char	   *default_acl;	/* acl text of acldefault('r', owner) */
	bool		have_default_acl;
} OwnerEnt;

/* Default expression text by adbin with its location fields blanked. */
#define EXPR_KEY_MAX 1000

typedef struct ExprEnt
{
	char		key[EXPR_KEY_MAX];	/* hash key (string) */
	char	   *deparsed;		/* NULL: pg_get_expr gave NULL */
} ExprEnt;

typedef struct Builder
{
	MemoryContext cxt;
	HTAB	   *ns;				/* oid map: namespace oid -> const char * name */
	HTAB	   *rels;			/* oid map: relid -> RelInfo * */
	HTAB	   *cons;			/* oid map: constraint oid -> ConInfo * */
	HTAB	   *extmembers_ns;	/* oid map: namespaces that are extension members */
	HTAB	   *extmembers_rel; /* oid map: relations that are extension members */
	HTAB	   *types;
	HTAB	   *owners;
	HTAB	   *exprs;
	RelInfo   **rellist;
	int			nrels;
	int			maxrels;
	ConInfo   **conlist;
	int			ncons;
	int			maxcons;
} Builder;

static Datum
copy_varlena_attr(HeapTuple tup, int attno, TupleDesc desc)
{
	bool		isnull;
	Datum		d;

	if (heap_attisnull(tup, attno, desc))
		return (Datum) 0;
	d = heap_getattr(tup, attno, desc, &isnull);
	if (isnull)
		return (Datum) 0;
	return PointerGetDatum(PG_DETOAST_DATUM_COPY(d));
}

static char *
text_attr(HeapTuple tup, int attno, TupleDesc desc)
{
	bool		isnull;
	Datum		d;

	if (heap_attisnull(tup, attno, desc))
		return NULL;
	d = heap_getattr(tup, attno, desc, &isnull);
	return isnull ? NULL : TextDatumGetCString(d);
}

/*
 * Call a text-returning deparser with one or two arguments, as the SQL
 * would: NULL result gives NULL.
 */
static char *
call_text_fn(PGFunction fn, int nargs, Datum a0, Datum a1)
{
	LOCAL_FCINFO(fcinfo, 2);
	Datum		result;

	InitFunctionCallInfoData(*fcinfo, NULL, nargs, InvalidOid, NULL, NULL);
	fcinfo->args[0].value = a0;
	fcinfo->args[0].isnull = false;
	fcinfo->args[1].value = a1;
	fcinfo->args[1].isnull = false;
	result = (*fn) (fcinfo);
	if (fcinfo->isnull)
		return NULL;
	return TextDatumGetCString(result);
}

/* Extension members of pg_namespace and pg_class (pg_depend deptype 'e'). */
static void
scan_extension_members(Builder *b)
{
	Relation	rel = table_open(DependRelationId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;

	ScanKeyInit(&key, Anum_pg_depend_refclassid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(ExtensionRelationId));
	scan = systable_beginscan(rel, DependReferenceIndexId, true, NULL, 1, &key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_depend d = (Form_pg_depend) GETSTRUCT(tup);

		if (d->deptype != DEPENDENCY_EXTENSION)
			continue;
		if (d->classid == NamespaceRelationId)
			oid_map_put(b->extmembers_ns, d->objid, b);
		else if (d->classid == RelationRelationId)
			oid_map_put(b->extmembers_rel, d->objid, b);
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
}

/* The namespaces in scope: the catalog query's "ns". */
static void
scan_namespaces(Builder *b, const char *const *schemas, int nschemas, const char *skip_schema)
{
	Relation	rel;
	SysScanDesc scan;
	HeapTuple	tup;
	Oid			drydock_nsp = InvalidOid;

	rel = table_open(ExtensionRelationId, AccessShareLock);
	scan = systable_beginscan(rel, InvalidOid, false, NULL, 0, NULL);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_extension x = (Form_pg_extension) GETSTRUCT(tup);

		if (strcmp(NameStr(x->extname), "drydock") == 0)
			drydock_nsp = x->extnamespace;
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);

	rel = table_open(NamespaceRelationId, AccessShareLock);
	scan = systable_beginscan(rel, InvalidOid, false, NULL, 0, NULL);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_namespace n = (Form_pg_namespace) GETSTRUCT(tup);
		const char *name = NameStr(n->nspname);
		bool		wanted;

		if (strcmp(name, "pg_catalog") == 0 || strcmp(name, "information_schema") == 0 ||
			strcmp(name, "pg_toast") == 0 || strcmp(name, "drydock") == 0 ||
			strncmp(name, "pg_temp_", 8) == 0 || strncmp(name, "pg_toast_temp_", 14) == 0 ||
			n->oid == drydock_nsp || oid_map_get(b->extmembers_ns, n->oid) != NULL)
			continue;
		wanted = (schemas == NULL);
		for (int i = 0; !wanted && i < nschemas; i++)
			wanted = (strcmp(schemas[i], name) == 0);
		if (skip_schema && strcmp(skip_schema, name) == 0)
			wanted = false;
		if (wanted)
			oid_map_put(b->ns, n->oid, pstrdup(name));
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
}

/* Tables, partitioned and foreign tables in scope: "rel" restricted to r, p, f. */
static void
scan_relations(Builder *b)
{
	Relation	rel = table_open(RelationRelationId, AccessShareLock);
	TupleDesc	desc = RelationGetDescr(rel);
	SysScanDesc scan;
	HeapTuple	tup;

	scan = systable_beginscan(rel, InvalidOid, false, NULL, 0, NULL);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_class c = (Form_pg_class) GETSTRUCT(tup);
		const char *nspname;
		RelInfo    *r;

		if (c->relkind != RELKIND_RELATION && c->relkind != RELKIND_PARTITIONED_TABLE &&
			c->relkind != RELKIND_FOREIGN_TABLE)
			continue;
		nspname = oid_map_get(b->ns, c->relnamespace);
		if (nspname == NULL || oid_map_get(b->extmembers_rel, c->oid) != NULL)
			continue;

		r = palloc0(sizeof(RelInfo));
		r->oid = c->oid;
		r->relkind = c->relkind;
		r->nspname = nspname;
		r->qrel = quote_qualified_identifier(nspname, NameStr(c->relname));
		r->persistence = c->relpersistence;
		r->am = c->relam;
		r->tablespace = c->reltablespace;
		r->replident = c->relreplident;
		r->rowsecurity = c->relrowsecurity;
		r->forcerowsecurity = c->relforcerowsecurity;
		r->owner = c->relowner;
		r->ispartition = c->relispartition;
		r->reloptions = copy_varlena_attr(tup, Anum_pg_class_reloptions, desc);
		r->acl = copy_varlena_attr(tup, Anum_pg_class_relacl, desc);
		if (c->relispartition)
			r->partbound = text_attr(tup, Anum_pg_class_relpartbound, desc);
		r->maxcols = Max(c->relnatts, 1);
		r->cols = palloc(r->maxcols * sizeof(ColInfo));

		if (b->nrels == b->maxrels)
		{
			b->maxrels *= 2;
			b->rellist = repalloc(b->rellist, b->maxrels * sizeof(RelInfo *));
		}
		b->rellist[b->nrels++] = r;
		oid_map_put(b->rels, r->oid, r);
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
}

static int
cmp_colinfo_attnum(const void *a, const void *b)
{
	return (int) ((const ColInfo *) a)->attnum - (int) ((const ColInfo *) b)->attnum;
}

static ColInfo *
find_column(RelInfo *r, int16 attnum)
{
	int			lo = 0,
				hi = r->ncols - 1;

	while (lo <= hi)
	{
		int			mid = (lo + hi) / 2;

		if (r->cols[mid].attnum == attnum)
			return &r->cols[mid];
		if (r->cols[mid].attnum < attnum)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return NULL;
}

/* Columns (attnum > 0, not dropped) of the relations in scope. */
static void
scan_attributes(Builder *b)
{
	Relation	rel = table_open(AttributeRelationId, AccessShareLock);
	TupleDesc	desc = RelationGetDescr(rel);
	SysScanDesc scan;
	HeapTuple	tup;
	Oid			lastrelid = InvalidOid;
	RelInfo    *r = NULL;

	scan = systable_beginscan(rel, InvalidOid, false, NULL, 0, NULL);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_attribute a = (Form_pg_attribute) GETSTRUCT(tup);
		ColInfo    *col;

		if (a->attnum <= 0 || a->attisdropped)
			continue;
		if (a->attrelid != lastrelid)
		{
			lastrelid = a->attrelid;
			r = oid_map_get(b->rels, a->attrelid);
		}
		if (r == NULL)
			continue;
		if (r->ncols == r->maxcols)
		{
			r->maxcols *= 2;
			r->cols = repalloc(r->cols, r->maxcols * sizeof(ColInfo));
		}
		col = &r->cols[r->ncols++];
		col->attnum = a->attnum;
		col->name = quote_identifier(NameStr(a->attname));
		if (col->name == NameStr(a->attname))
			col->name = pstrdup(col->name);
		col->typid = a->atttypid;
		col->typmod = a->atttypmod;
		col->notnull = a->attnotnull;
		col->generated = a->attgenerated;
		col->identity = a->attidentity;
		col->collation = a->attcollation;
		col->storage = a->attstorage;
		col->inhcount = a->attinhcount;
		col->islocal = a->attislocal;
		col->options = copy_varlena_attr(tup, Anum_pg_attribute_attoptions, desc);
		col->fdwoptions = copy_varlena_attr(tup, Anum_pg_attribute_attfdwoptions, desc);
		col->acl = copy_varlena_attr(tup, Anum_pg_attribute_attacl, desc);
		col->adbin = NULL;
		col->comment = NULL;
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);

	for (int i = 0; i < b->nrels; i++)
		qsort(b->rellist[i]->cols, b->rellist[i]->ncols, sizeof(ColInfo), cmp_colinfo_attnum);
}

static void
scan_attrdefs(Builder *b)
{
	Relation	rel = table_open(AttrDefaultRelationId, AccessShareLock);
	TupleDesc	desc = RelationGetDescr(rel);
	SysScanDesc scan;
	HeapTuple	tup;

	scan = systable_beginscan(rel, InvalidOid, false, NULL, 0, NULL);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_attrdef ad = (Form_pg_attrdef) GETSTRUCT(tup);
		RelInfo    *r = oid_map_get(b->rels, ad->adrelid);
		ColInfo    *col;

		if (r == NULL || (col = find_column(r, ad->adnum)) == NULL)
			continue;
		col->adbin = text_attr(tup, Anum_pg_attrdef_adbin, desc);
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
}

/* names for the constraint deparser, from the relations in scope */
static const char *
resolve_attname(void *arg, Oid relid, int16 attnum)
{
	RelInfo    *r = oid_map_get(((Builder *) arg)->rels, relid);
	ColInfo    *col = r ? find_column(r, attnum) : NULL;

	return col ? col->name : NULL;
}

static const char *
resolve_qualname(void *arg, Oid relid)
{
	RelInfo    *r = oid_map_get(((Builder *) arg)->rels, relid);

	return r ? r->qrel : NULL;
}

static void
scan_constraints(Builder *b)
{
	Relation	rel = table_open(ConstraintRelationId, AccessShareLock);
	SysScanDesc scan;
	HeapTuple	tup;

	scan = systable_beginscan(rel, InvalidOid, false, NULL, 0, NULL);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_constraint con = (Form_pg_constraint) GETSTRUCT(tup);
		RelInfo    *r;
		ConInfo    *ci;

		/* NOT NULL (18) is a column property here: see drydock.h */
		if (!OidIsValid(con->conrelid) || con->contype == CONSTRAINT_TRIGGER ||
			con->contype == CONSTRAINT_NOTNULL)
			continue;
		r = oid_map_get(b->rels, con->conrelid);
		if (r == NULL)
			continue;
		ci = palloc(sizeof(ConInfo));
		ci->oid = con->oid;
		ci->rel = r;
		ci->name = quote_identifier(NameStr(con->conname));
		if (ci->name == NameStr(con->conname))
			ci->name = pstrdup(ci->name);
		ci->contype = con->contype;
		/* deparsed only if its row wants a definition */
		ci->tup = heap_copytuple(tup);
		ci->validated = con->convalidated;
		ci->inhcount = con->coninhcount;
		ci->islocal = con->conislocal;
		ci->comment = NULL;
		if (b->ncons == b->maxcons)
		{
			b->maxcons *= 2;
			b->conlist = repalloc(b->conlist, b->maxcons * sizeof(ConInfo *));
		}
		b->conlist[b->ncons++] = ci;
		oid_map_put(b->cons, ci->oid, ci);
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
}

static void
scan_descriptions(Builder *b)
{
	Relation	rel = table_open(DescriptionRelationId, AccessShareLock);
	TupleDesc	desc = RelationGetDescr(rel);
	SysScanDesc scan;
	HeapTuple	tup;

	scan = systable_beginscan(rel, InvalidOid, false, NULL, 0, NULL);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_description d = (Form_pg_description) GETSTRUCT(tup);

		if (d->classoid == RelationRelationId)
		{
			RelInfo    *r = oid_map_get(b->rels, d->objoid);

			if (r == NULL)
				continue;
			if (d->objsubid == 0)
				r->comment = text_attr(tup, Anum_pg_description_description, desc);
			else if (d->objsubid > 0 && d->objsubid <= PG_INT16_MAX)
			{
				ColInfo    *col = find_column(r, (int16) d->objsubid);

				if (col != NULL)
					col->comment = text_attr(tup, Anum_pg_description_description, desc);
			}
		}
		else if (d->classoid == ConstraintRelationId && d->objsubid == 0)
		{
			ConInfo    *ci = oid_map_get(b->cons, d->objoid);

			if (ci != NULL)
				ci->comment = text_attr(tup, Anum_pg_description_description, desc);
		}
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
}

/* Parents (tables, partitioned or foreign tables) of the relations in scope. */
static void
scan_inherits(Builder *b)
{
	Relation	rel = table_open(InheritsRelationId, AccessShareLock);
	SysScanDesc scan;
	HeapTuple	tup;

	scan = systable_beginscan(rel, InvalidOid, false, NULL, 0, NULL);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_inherits inh = (Form_pg_inherits) GETSTRUCT(tup);
		RelInfo    *r = oid_map_get(b->rels, inh->inhrelid);
		HeapTuple	ptup;
		Form_pg_class pc;
		char	   *nspname;
		InhParent  *p;

		if (r == NULL)
			continue;
		ptup = SearchSysCache1(RELOID, ObjectIdGetDatum(inh->inhparent));
		if (!HeapTupleIsValid(ptup))
			continue;
		pc = (Form_pg_class) GETSTRUCT(ptup);
		if ((pc->relkind != RELKIND_RELATION && pc->relkind != RELKIND_PARTITIONED_TABLE &&
			 pc->relkind != RELKIND_FOREIGN_TABLE) ||
			(nspname = get_namespace_name(pc->relnamespace)) == NULL)
		{
			ReleaseSysCache(ptup);
			continue;
		}
		p = palloc(sizeof(InhParent));
		p->seqno = inh->inhseqno;
		p->name = quote_qualified_identifier(nspname, NameStr(pc->relname));
		ReleaseSysCache(ptup);
		r->parents = lappend(r->parents, p);
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
}

/* ---- text assembly ---- */

/* concat_ws('; ', ...): items are appended only when not NULL */
static void
item(StringInfo buf, const char *key, const char *value)
{
	if (value == NULL)
		return;
	if (buf->len > 0)
		appendBinaryStringInfo(buf, "; ", 2);
	appendStringInfoString(buf, key);
	appendStringInfoString(buf, value);
}

static const char *
bool_text(bool v)
{
	return v ? "true" : "false";
}

/* array_to_string(text[], ','): NULL elements skipped; NULL for a NULL array */
static char *
text_array_join(Datum arr, bool skip_pg_prefixed)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	StringInfoData buf;
	bool		any = false;

	if (arr == (Datum) 0)
		return NULL;
	deconstruct_array(DatumGetArrayTypeP(arr), TEXTOID, -1, false, TYPALIGN_INT,
					  &elems, &nulls, &n);
	initStringInfo(&buf);
	for (int i = 0; i < n; i++)
	{
		char	   *s;

		if (nulls[i])
			continue;
		s = TextDatumGetCString(elems[i]);
		if (skip_pg_prefixed && strncmp(s, "pg_", 3) == 0)
			continue;
		if (any)
			appendStringInfoChar(&buf, ',');
		appendStringInfoString(&buf, s);
		any = true;
	}
	/* string_agg over no element is NULL; array_to_string of none is '' */
	if (!any && skip_pg_prefixed)
		return NULL;
	return buf.data;
}

static int
cmp_cstr(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/* string_agg(a::text, ',' ORDER BY a::text COLLATE "C"): NULL for none */
static char *
acl_text(Acl *acl)
{
	int			n = ACL_NUM(acl);
	AclItem    *items = ACL_DAT(acl);
	char	  **strs;
	StringInfoData buf;

	if (n == 0)
		return NULL;
	strs = palloc(n * sizeof(char *));
	for (int i = 0; i < n; i++)
		strs[i] = DatumGetCString(DirectFunctionCall1(aclitemout, PointerGetDatum(&items[i])));
	qsort(strs, n, sizeof(char *), cmp_cstr);
	initStringInfo(&buf);
	for (int i = 0; i < n; i++)
	{
		if (i > 0)
			appendStringInfoChar(&buf, ',');
		appendStringInfoString(&buf, strs[i]);
	}
	return buf.data;
}

static OwnerEnt *
owner_ent(Builder *b, Oid owner)
{
	bool		found;
	OwnerEnt   *e = hash_search(b->owners, &owner, HASH_ENTER, &found);

	if (!found)
	{
		HeapTuple	tup = SearchSysCache1(AUTHOID, ObjectIdGetDatum(owner));

		/* pg_get_userbyid() */
		if (HeapTupleIsValid(tup))
		{
			e->name = pstrdup(NameStr(((Form_pg_authid) GETSTRUCT(tup))->rolname));
			ReleaseSysCache(tup);
		}
		else
			e->name = psprintf("unknown (OID=%u)", owner);
		e->default_acl = NULL;
		e->have_default_acl = false;
	}
	return e;
}

static TypeEnt *
type_ent(Builder *b, Oid typid, int32 typmod)
{
	TypeKey		key;
	bool		found;
	TypeEnt    *e;

	memset(&key, 0, sizeof(key));
	key.typid = typid;
	key.typmod = typmod;
	e = hash_search(b->types, &key, HASH_ENTER, &found);
	if (!found)
	{
		HeapTuple	tup;

		e->formatted = format_type_extended(typid, typmod,
											FORMAT_TYPE_TYPEMOD_GIVEN | FORMAT_TYPE_ALLOW_INVALID);
		tup = SearchSysCache1(TYPEOID, ObjectIdGetDatum(typid));
		if (!HeapTupleIsValid(tup))
			elog(ERROR, "cache lookup failed for type %u", typid);
		e->typstorage = ((Form_pg_type) GETSTRUCT(tup))->typstorage;
		e->typcollation = ((Form_pg_type) GETSTRUCT(tup))->typcollation;
		ReleaseSysCache(tup);
	}
	return e;
}

/*
 * pg_get_expr(adbin, 0) of a column default.  The deparsed text does not
 * depend on the parse locations stored in the tree (":location N"), which
 * differ between otherwise identical defaults, so the result is shared
 * between defaults equal but for their locations.
 */
static char *
default_text(Builder *b, const char *adbin)
{
	StringInfoData key;
	const char *p = adbin;
	bool		found;
	ExprEnt    *e;

	initStringInfo(&key);
	while (*p)
	{
		const char *loc = strstr(p, ":location ");

		if (loc == NULL)
		{
			appendStringInfoString(&key, p);
			break;
		}
		loc += strlen(":location ");
		appendBinaryStringInfo(&key, p, loc - p);
		while (*loc == '-' || (*loc >= '0' && *loc <= '9'))
			loc++;
		p = loc;
	}
	if (key.len >= EXPR_KEY_MAX)
	{
		/* long expressions: not worth a hash key */
		pfree(key.data);
		return call_text_fn(pg_get_expr, 2, CStringGetTextDatum(adbin), ObjectIdGetDatum(InvalidOid));
	}
	e = hash_search(b->exprs, key.data, HASH_ENTER, &found);
	if (!found)
		e->deparsed = call_text_fn(pg_get_expr, 2, CStringGetTextDatum(adbin),
								   ObjectIdGetDatum(InvalidOid));
	return e->deparsed;
}

static char *
table_definition(Builder *b, RelInfo *r)
{
	StringInfoData buf;
	OwnerEnt   *owner = owner_ent(b, r->owner);
	char	   *acl;

	initStringInfo(&buf);
	item(&buf, "relkind=", r->relkind == RELKIND_RELATION ? "ordinary" :
		 r->relkind == RELKIND_PARTITIONED_TABLE ? "partitioned" : "foreign");
	item(&buf, "persistence=", r->persistence == RELPERSISTENCE_PERMANENT ? "permanent" :
		 r->persistence == RELPERSISTENCE_UNLOGGED ? "unlogged" : "temporary");
	if (OidIsValid(r->am))
		item(&buf, "access_method=", get_am_name(r->am));
	item(&buf, "options=", text_array_join(r->reloptions, false));
	if (r->relkind == RELKIND_PARTITIONED_TABLE)
		item(&buf, "partition_key=", call_text_fn(pg_get_partkeydef, 1, ObjectIdGetDatum(r->oid), (Datum) 0));
	if (r->parents != NIL)
	{
		int			n = list_length(r->parents);
		InhParent **ps = palloc(n * sizeof(InhParent *));
		ListCell   *lc;
		int			i = 0;
		StringInfoData parents;

		foreach(lc, r->parents)
			ps[i++] = lfirst(lc);
		/* ORDER BY inhseqno: insertion sort, there are few */
		for (i = 1; i < n; i++)
			for (int j = i; j > 0 && ps[j - 1]->seqno > ps[j]->seqno; j--)
			{
				InhParent  *t = ps[j];

				ps[j] = ps[j - 1];
				ps[j - 1] = t;
			}
		initStringInfo(&parents);
		for (i = 0; i < n; i++)
		{
			if (i > 0)
				appendStringInfoChar(&parents, ',');
			appendStringInfoString(&parents, ps[i]->name);
		}
		if (r->ispartition)
		{
			char	   *bound = r->partbound == NULL ? NULL :
				call_text_fn(pg_get_expr, 2, CStringGetTextDatum(r->partbound),
							 ObjectIdGetDatum(r->oid));

			if (bound != NULL)
				item(&buf, "partition_of=", psprintf("%s; bound=%s", parents.data, bound));
		}
		else
			item(&buf, "inherits=", parents.data);
	}
	if (OidIsValid(r->tablespace))
		item(&buf, "tablespace=", get_tablespace_name(r->tablespace));
	item(&buf, "replica_identity=", r->replident == REPLICA_IDENTITY_NOTHING ? "nothing" :
		 r->replident == REPLICA_IDENTITY_FULL ? "full" :
		 r->replident == REPLICA_IDENTITY_INDEX ? "index" : NULL);
	item(&buf, "row_security=", bool_text(r->rowsecurity));
	item(&buf, "force_row_security=", bool_text(r->forcerowsecurity));
	if (r->relkind == RELKIND_FOREIGN_TABLE)
	{
		HeapTuple	ftup = SearchSysCache1(FOREIGNTABLEREL, ObjectIdGetDatum(r->oid));

		if (HeapTupleIsValid(ftup))
		{
			Form_pg_foreign_table ft = (Form_pg_foreign_table) GETSTRUCT(ftup);
			HeapTuple	stup = SearchSysCache1(FOREIGNSERVEROID, ObjectIdGetDatum(ft->ftserver));
			bool		isnull;
			Datum		opts;

			if (HeapTupleIsValid(stup))
			{
				item(&buf, "server=",
					 quote_identifier(NameStr(((Form_pg_foreign_server) GETSTRUCT(stup))->srvname)));
				ReleaseSysCache(stup);
			}
			opts = SysCacheGetAttr(FOREIGNTABLEREL, ftup, Anum_pg_foreign_table_ftoptions, &isnull);
			if (!isnull)
				item(&buf, "fdw_options=", text_array_join(opts, false));
			ReleaseSysCache(ftup);
		}
	}
	item(&buf, "owner=", owner->name);
	if (r->acl != (Datum) 0)
		acl = acl_text(DatumGetAclP(r->acl));
	else
	{
		if (!owner->have_default_acl)
		{
			owner->default_acl = acl_text(acldefault(OBJECT_TABLE, r->owner));
			owner->have_default_acl = true;
		}
		acl = owner->default_acl;
	}
	item(&buf, "acl=", acl);
	item(&buf, "comment=", r->comment);
	return buf.data;
}

static char *
column_definition(Builder *b, RelInfo *r, ColInfo *col, int position)
{
	StringInfoData buf;
	TypeEnt    *t = type_ent(b, col->typid, col->typmod);
	char		num[32];

	initStringInfo(&buf);
	snprintf(num, sizeof(num), "%d", position);
	item(&buf, "position=", num);
	item(&buf, "type=", t->formatted);
	item(&buf, "not_null=", bool_text(col->notnull));
	if (col->generated != '\0')
	{
		if (col->adbin != NULL)
			item(&buf, "generated=", call_text_fn(pg_get_expr, 2, CStringGetTextDatum(col->adbin),
												  ObjectIdGetDatum(r->oid)));
	}
	else if (col->adbin != NULL)
		item(&buf, "default=", default_text(b, col->adbin));
	item(&buf, "identity=", col->identity == ATTRIBUTE_IDENTITY_ALWAYS ? "always" :
		 col->identity == ATTRIBUTE_IDENTITY_BY_DEFAULT ? "by default" : NULL);
	if (col->collation != t->typcollation)
		item(&buf, "collation=",
			 DatumGetCString(DirectFunctionCall1(regcollationout, ObjectIdGetDatum(col->collation))));
	if (col->storage != t->typstorage)
	{
		char		s[2] = {col->storage, '\0'};

		item(&buf, "storage=", s);
	}
	if (col->inhcount != 0)
	{
		snprintf(num, sizeof(num), "%d", col->inhcount);
		item(&buf, "inherited=", num);
	}
	if (!col->islocal)
		item(&buf, "local=", "false");
	item(&buf, "options=", text_array_join(col->options, true));
	item(&buf, "fdw_options=", text_array_join(col->fdwoptions, false));
	if (col->acl != (Datum) 0)
		item(&buf, "acl=", acl_text(DatumGetAclP(col->acl)));
	item(&buf, "comment=", col->comment);
	return buf.data;
}

static char *
constraint_definition(Builder *b, ConInfo *ci)
{
	ConstraintNameResolver res = {resolve_attname, resolve_qualname, b};
	StringInfoData buf;
	char		num[32];
	char		ct[2] = {ci->contype, '\0'};
	char	   *def = drydock_fast_constraint_def(ci->tup, &res);

	if (def == NULL)
		def = call_text_fn(pg_get_constraintdef, 1, ObjectIdGetDatum(ci->oid), (Datum) 0);
	initStringInfo(&buf);
	item(&buf, "type=", ci->contype == CONSTRAINT_PRIMARY ? "primary key" :
		 ci->contype == CONSTRAINT_UNIQUE ? "unique" :
		 ci->contype == CONSTRAINT_FOREIGN ? "foreign key" :
		 ci->contype == CONSTRAINT_CHECK ? "check" :
		 ci->contype == CONSTRAINT_EXCLUSION ? "exclude" : ct);
	item(&buf, "def=", def);
	item(&buf, "validated=", bool_text(ci->validated));
	if (ci->inhcount != 0)
	{
		snprintf(num, sizeof(num), "%d", ci->inhcount);
		item(&buf, "inherited=", num);
	}
	if (!ci->islocal)
		item(&buf, "local=", "false");
	item(&buf, "comment=", ci->comment);
	return buf.data;
}

/* ORDER BY identity COLLATE "C", kind COLLATE "C" */
static int
cmp_row(const void *a, const void *b)
{
	const CatalogRow *x = a;
	const CatalogRow *y = b;
	int			c = strcmp(x->identity, y->identity);

	return c != 0 ? c : strcmp(x->kind, y->kind);
}

static int
cmp_relinfo_qrel(const void *a, const void *b)
{
	return strcmp((*(RelInfo *const *) a)->qrel, (*(RelInfo *const *) b)->qrel);
}

/* Sort rows unless they already are in order (the common case for columns). */
static void
sort_rows(CatalogRow *rows, int n)
{
	for (int i = 1; i < n; i++)
		if (cmp_row(&rows[i - 1], &rows[i]) > 0)
		{
			qsort(rows, n, sizeof(CatalogRow), cmp_row);
			return;
		}
}

/* Does this row want its definition (filter NULL: every row does)? */
static bool
definition_wanted(const CatalogRowFilter *filter, const char *kind, const char *identity)
{
	return filter == NULL || filter->wanted(filter->arg, kind, identity);
}

/*
 * Build the rows of ranks 10 (tables), 11 (columns) and 12 (table
 * constraints) for the schemas filter (NULL = every user schema), each rank
 * in catalog_objects() order, allocated in the current memory context; a
 * row the filter does not want gets a NULL definition, the filter's
 * skip_schema gets no row.  Must run under the
 * catalog query's pinned settings.
 */
CatalogRows *
drydock_catalog_rel_rows(const char *const *schemas, int nschemas,
						 const CatalogRowFilter *filter)
{
	Builder		b;
	HASHCTL		ctl;
	CatalogRows *out = palloc0(sizeof(CatalogRows));
	int			ncolrows = 0;
	int			k;

	memset(&b, 0, sizeof(b));
	b.cxt = CurrentMemoryContext;
	b.ns = oid_map_create("drydock ns", 64, b.cxt);
	b.rels = oid_map_create("drydock rels", 1024, b.cxt);
	b.cons = oid_map_create("drydock cons", 1024, b.cxt);
	b.extmembers_ns = oid_map_create("drydock ext ns", 64, b.cxt);
	b.extmembers_rel = oid_map_create("drydock ext rels", 64, b.cxt);
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(Oid);
	ctl.entrysize = sizeof(OwnerEnt);
	ctl.hcxt = b.cxt;
	b.owners = hash_create("drydock owners", 16, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(TypeKey);
	ctl.entrysize = sizeof(TypeEnt);
	ctl.hcxt = b.cxt;
	b.types = hash_create("drydock types", 64, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = EXPR_KEY_MAX;
	ctl.entrysize = sizeof(ExprEnt);
	ctl.hcxt = b.cxt;
#if PG_VERSION_NUM >= 140000
	b.exprs = hash_create("drydock exprs", 64, &ctl, HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
#else
	/* before 14, string keys are the default without HASH_BLOBS */
	b.exprs = hash_create("drydock exprs", 64, &ctl, HASH_ELEM | HASH_CONTEXT);
#endif
	b.maxrels = 256;
	b.rellist = palloc(b.maxrels * sizeof(RelInfo *));
	b.maxcons = 256;
	b.conlist = palloc(b.maxcons * sizeof(ConInfo *));

	scan_extension_members(&b);
	scan_namespaces(&b, schemas, nschemas, filter ? filter->skip_schema : NULL);
	scan_relations(&b);
	CHECK_FOR_INTERRUPTS();
	scan_attributes(&b);
	CHECK_FOR_INTERRUPTS();
	scan_attrdefs(&b);
	scan_inherits(&b);
	scan_constraints(&b);
	CHECK_FOR_INTERRUPTS();
	scan_descriptions(&b);

	/* rank 10, tables: in qrel order */
	qsort(b.rellist, b.nrels, sizeof(RelInfo *), cmp_relinfo_qrel);
	out->tables = palloc(Max(b.nrels, 1) * sizeof(CatalogRow));
	for (int i = 0; i < b.nrels; i++)
	{
		RelInfo    *r = b.rellist[i];
		CatalogRow *row = &out->tables[i];

		row->kind = r->relkind == RELKIND_FOREIGN_TABLE ? "foreign table" : "table";
		row->identity = r->qrel;
		row->schema = r->nspname;
		row->parent = NULL;
		row->definition = definition_wanted(filter, row->kind, row->identity) ?
			table_definition(&b, r) : NULL;
		ncolrows += r->ncols;
	}
	out->ntables = b.nrels;
	sort_rows(out->tables, out->ntables);
	CHECK_FOR_INTERRUPTS();

	/*
	 * rank 11, columns: position from attnum order, then the columns of each
	 * table in name order, tables in qrel order, which is identity order but
	 * for a quoted name that is a prefix of another (sort_rows checks)
	 */
	out->columns = palloc(Max(ncolrows, 1) * sizeof(CatalogRow));
	k = 0;
	for (int i = 0; i < b.nrels; i++)
	{
		RelInfo    *r = b.rellist[i];
		const char *kind = r->relkind == RELKIND_FOREIGN_TABLE ?
			"foreign table column" : "table column";
		int			first = k;

		for (int j = 0; j < r->ncols; j++)
		{
			CatalogRow *row = &out->columns[k++];
			ColInfo    *col = &r->cols[j];

			row->kind = kind;
			row->identity = psprintf("%s.%s", r->qrel, col->name);
			row->schema = r->nspname;
			row->parent = r->qrel;
			row->definition = definition_wanted(filter, kind, row->identity) ?
				column_definition(&b, r, col, j + 1) : NULL;
		}
		qsort(&out->columns[first], k - first, sizeof(CatalogRow), cmp_row);
	}
	out->ncolumns = k;
	sort_rows(out->columns, out->ncolumns);
	CHECK_FOR_INTERRUPTS();

	/* rank 12, table constraints */
	out->constraints = palloc(Max(b.ncons, 1) * sizeof(CatalogRow));
	for (int i = 0; i < b.ncons; i++)
	{
		ConInfo    *ci = b.conlist[i];
		CatalogRow *row = &out->constraints[i];

		row->kind = "table constraint";
		row->identity = psprintf("%s on %s", ci->name, ci->rel->qrel);
		row->schema = ci->rel->nspname;
		row->parent = ci->rel->qrel;
		row->definition = definition_wanted(filter, row->kind, row->identity) ?
			constraint_definition(&b, ci) : NULL;
	}
	out->nconstraints = b.ncons;
	qsort(out->constraints, out->nconstraints, sizeof(CatalogRow), cmp_row);

	return out;
}

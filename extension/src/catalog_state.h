/*
 * catalog_state.h
 *		Canonical, OID-free catalog state of a database: the SQL text that
 *		produces it, shared with other C files of drydock that want to embed
 *		the catalog rows in their own queries.
 *
 * The query returned by drydock_catalog_query() takes one parameter, $1 of
 * type name[] (NULL = every user schema plus database- and cluster-wide
 * objects), and yields rows (rank, kind, identity, schema, parent,
 * definition) in no particular order; catalog_objects() orders them by
 * rank, identity COLLATE "C", kind COLLATE "C".  drydock_kind_rank_expr(col)
 * gives the same rank for a kind column.  It must run with
 * search_path = pg_catalog so that every user object is schema-qualified.
 */
#ifndef CATALOG_STATE_H
#define CATALOG_STATE_H

#include "access/htup.h"

extern const char *drydock_catalog_query(void);
extern const char *drydock_kind_rank_expr(const char *col);

/* One row of the catalog state (NULL schema/parent/definition allowed). */
typedef struct CatalogRow
{
	const char *kind;
	const char *identity;
	const char *schema;
	const char *parent;
	const char *definition;
} CatalogRow;

/* The rows of ranks 10, 11 and 12, each rank in catalog_objects() order. */
typedef struct CatalogRows
{
	CatalogRow *tables;			/* rank 10 */
	int			ntables;
	CatalogRow *columns;		/* rank 11 */
	int			ncolumns;
	CatalogRow *constraints;	/* rank 12 */
	int			nconstraints;
} CatalogRows;

/* catalog_rels.c: built in C; schemas NULL = every user schema */
extern CatalogRows *drydock_catalog_rel_rows(const char *const *schemas, int nschemas);

/*
 * catalog_defs.c: pg_get_constraintdef() text for PK/UNIQUE/FK, else NULL.
 * An optional resolver gives quoted column names and schema-qualified
 * quoted table names the caller already has (NULL: not known, the syscache
 * is asked); a table it names must not be in pg_catalog or a temp schema.
 */
typedef struct ConstraintNameResolver
{
	const char *(*attname) (void *arg, Oid relid, int16 attnum);
	const char *(*qualname) (void *arg, Oid relid);
	void	   *arg;
} ConstraintNameResolver;

extern char *drydock_fast_constraint_def(HeapTuple tup, const ConstraintNameResolver *res);

#endif							/* CATALOG_STATE_H */

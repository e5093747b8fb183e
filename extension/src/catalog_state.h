/*
 * catalog_state.h
 *		Canonical, OID-free catalog state of a database (catalog_state.c):
 *		the row type shared by the SQL-built rows and the C-built rows of
 *		tables, columns and table constraints (catalog_rels.c), and the fast
 *		constraint deparser (catalog_defs.c).
 *
 * Rows are (rank, kind, identity, schema, parent, definition);
 * catalog_objects() orders them by rank, identity COLLATE "C",
 * kind COLLATE "C".
 */
#ifndef CATALOG_STATE_H
#define CATALOG_STATE_H

#include "access/htup.h"

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

/*
 * What a caller needs of the C-built rows.  wanted(arg, kind, identity)
 * false leaves a row's definition NULL and skips rendering it (the
 * deparsers are most of the cost); a false "true" only costs the
 * rendering, a false "false" would lose a definition.  skip_schema (or
 * NULL): the tables, columns and constraints of that schema are left out.
 * NULL filter: every row, whole.
 */
typedef struct CatalogRowFilter
{
	bool		(*wanted) (void *arg, const char *kind, const char *identity);
	void	   *arg;
	const char *skip_schema;
} CatalogRowFilter;

/* catalog_rels.c: built in C; schemas NULL = every user schema */
extern CatalogRows *drydock_catalog_rel_rows(const char *const *schemas, int nschemas,
											 const CatalogRowFilter *filter);

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

/*
 * catalog_state.c, for verify.c: the label checks of drydock.diff(), and its
 * query (no schemas filter) with rows (change, kind, identity, schema) left
 * in SPI_tuptable.  Both inside SPI.
 */
extern void drydock_check_baseline(const char *label);
extern void drydock_spi_diff(const char *label, const char *skip_new_schema);

#endif							/* CATALOG_STATE_H */

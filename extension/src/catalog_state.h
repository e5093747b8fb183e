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

extern const char *drydock_catalog_query(void);
extern const char *drydock_kind_rank_expr(const char *col);

#endif							/* CATALOG_STATE_H */

/*
 * oid_map.c
 *		A hash table from an OID to a pointer, for the code that reads a
 *		catalog in one scan and then finds its rows by OID (catalog_rels.c,
 *		pgtap_gen.c): thousands of lookups, none of them a syscache probe.
 */
#include "postgres.h"

#include "utils/hsearch.h"

#include "oid_map.h"

typedef struct OidMapEnt
{
	Oid			oid;			/* hash key */
	void	   *ptr;
} OidMapEnt;

/* A map sized for about size entries, allocated in cxt. */
HTAB *
oid_map_create(const char *name, long size, MemoryContext cxt)
{
	HASHCTL		ctl;

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(Oid);
	ctl.entrysize = sizeof(OidMapEnt);
	ctl.hcxt = cxt;
	return hash_create(name, size, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
}

/* What oid maps to, or NULL. */
void *
oid_map_get(HTAB *map, Oid oid)
{
	OidMapEnt  *e = hash_search(map, &oid, HASH_FIND, NULL);

	return e ? e->ptr : NULL;
}

/* oid maps to ptr from now on. */
void
oid_map_put(HTAB *map, Oid oid, void *ptr)
{
	OidMapEnt  *e = hash_search(map, &oid, HASH_ENTER, NULL);

	e->ptr = ptr;
}

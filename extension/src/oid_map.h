/*
 * oid_map.h
 *		A hash table from an OID to a pointer (oid_map.c).
 */
#ifndef DRYDOCK_OID_MAP_H
#define DRYDOCK_OID_MAP_H

#include "utils/hsearch.h"

extern HTAB *oid_map_create(const char *name, long size, MemoryContext cxt);
extern void *oid_map_get(HTAB *map, Oid oid);
extern void oid_map_put(HTAB *map, Oid oid, void *ptr);

#endif							/* DRYDOCK_OID_MAP_H */

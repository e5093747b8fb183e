/*
 * base_roles.h
 *		The roles a pg_dump --schema-only file names (OWNER TO app_owner,
 *		GRANT ... TO reporting, ...), which the sandbox lacks and must create.
 */
#ifndef DRYDOCK_BASE_ROLES_H
#define DRYDOCK_BASE_ROLES_H

#include <stddef.h>

typedef struct role_list
{
	char	  **names;			/* catalog spelling, deduplicated, sorted */
	size_t		n;
} role_list;

/* Scan buf (SQL text); fills roles.  Never fails but on OOM (fatal). */
void		base_roles_scan(const char *buf, size_t len, role_list *roles);
void		role_list_free(role_list *roles);

#endif							/* DRYDOCK_BASE_ROLES_H */

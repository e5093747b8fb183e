/*
 * pginstall.h
 *		The PostgreSQL installation the driver uses, selected by pg_config.
 */
#ifndef DRYDOCK_PGINSTALL_H
#define DRYDOCK_PGINSTALL_H

#include <stdbool.h>
#include <stddef.h>

typedef struct pg_install
{
	char	   *pg_config;		/* the pg_config that selected it */
	char	   *bindir;
	char	   *version;		/* e.g. "15.20" */
	int			major;			/* e.g. 15 */
	char	   *initdb;
	char	   *postgres;
	char	   *psql;
} pg_install;

/* NULL pg_config: the one drydock was built against. */
bool		pg_install_find(const char *pg_config, pg_install *pg, char *err, size_t errlen);
void		pg_install_free(pg_install *pg);

#endif							/* DRYDOCK_PGINSTALL_H */

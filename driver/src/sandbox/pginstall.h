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
	char	   *libdir;			/* the other directories the server reads */
	char	   *pkglibdir;
	char	   *sharedir;
} pg_install;

/* NULL pg_config: the one drydock was built against. */
bool		pg_install_find(const char *pg_config, pg_install *pg, char *err, size_t errlen);

/*
 * The pg_config of an installed major (malloc'd), or NULL: the installation
 * drydock was built against when it is that major, else Debian's
 * /usr/lib/postgresql/MAJOR, else the cache prefix tools/pg-build.sh builds
 * into (pg_install_cache_dirs).
 */
char	   *pg_install_locate(int major);

/* The cache directories searched, as one string for messages ("A or B"). */
char	   *pg_install_cache_dirs(void);

/*
 * Select the installation: --pg-config PATH if given (and of major pg_major
 * when both are), else --pg MAJOR (an error when not installed), else the
 * production major prod_major when it is installed, else the default.
 */
bool		pg_install_select(const char *pg_config, int pg_major, int prod_major,
							  pg_install *pg, char *err, size_t errlen);
void		pg_install_free(pg_install *pg);

#endif							/* DRYDOCK_PGINSTALL_H */

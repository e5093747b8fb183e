/*
 * template.h
 *		The template cache: initdb once per (server binary, encoding, locale,
 *		admin role, cluster user) into a cache directory, never started; each
 *		sandbox is a copy of it.
 */
#ifndef DRYDOCK_TEMPLATE_H
#define DRYDOCK_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>

#include "cluster_init.h"

/* What template_clone() did. */
typedef struct template_clone_result
{
	bool		cloned;			/* false: no cache usable, run initdb */
	char	   *template_path;	/* the template copied (malloc'd), or NULL */
	char		created_at[32]; /* when the template was made */
	bool		built_now;		/* this call made the template */
	double		ms_clone;
	initdb_outcome initdb;		/* the template's initdb, when built_now */
} template_clone_result;

/*
 * Fill data_dir with a copy of the cached template for cs, building the
 * template first if it is missing, stale or corrupt.  Returns 0 with
 * res->cloned set on success, 0 with res->cloned false when no cache can
 * be used (the caller runs initdb; res->initdb says whether a build ran),
 * or an exit code on a hard failure (interrupted).
 */
int			template_clone(const cluster_spec *cs, const char *data_dir,
						   template_clone_result *res, char *err, size_t errlen);

/* The cache directory for this user ($XDG_CACHE_HOME/drydock, ~/.cache/drydock, /var/cache/drydock as root). */
char	   *template_cache_dir(void);

#endif							/* DRYDOCK_TEMPLATE_H */

/*
 * template.h
 *		The template cache: initdb once per (server binary, encoding, locale,
 *		admin role, cluster user) into a cache directory, never started; each
 *		sandbox is a copy of it.
 */
#ifndef DRYDOCK_TEMPLATE_H
#define DRYDOCK_TEMPLATE_H

#include <stddef.h>

#include "sandbox.h"

/*
 * Fill sb->data_dir with a copy of the cached template, building the
 * template first if it is missing, stale or corrupt.  Returns 0 with
 * sb->origin set on success, 0 with sb->origin NULL when no cache can be
 * used (the caller runs initdb), or an exit code on a hard failure.
 */
int			template_clone(sandbox *sb, char *err, size_t errlen);

/* The cache directory for this user ($XDG_CACHE_HOME/drydock, ~/.cache/drydock, /var/cache/drydock as root). */
char	   *template_cache_dir(void);

#endif							/* DRYDOCK_TEMPLATE_H */

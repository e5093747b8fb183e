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

/* Make the cache directory if it is missing (readable by all as root, the user's alone otherwise). */
bool		template_cache_mkdir(const char *cache);

/* ---- other cached clusters, by the same mechanism (the base cache) ---- */

/* What cache_entry_clone() found. */
typedef struct cache_hit
{
	bool		hit;			/* data_dir holds a copy of the entry */
	char	   *path;			/* the entry (malloc'd), or NULL */
	char	   *extra;			/* its extra file's text (malloc'd), or NULL */
	char		created_at[32];
	double		ms_clone;
} cache_hit;

/*
 * The material cs adds to a cache key: what template_key hashes (the server
 * binary and version, locale, admin role, cluster user).  malloc'd.
 */
char	   *cache_key_material(const cluster_spec *cs);

/*
 * Copy the entry "key" (its data directory) to data_dir under a shared lock
 * when it is valid: info, PG_VERSION and pg_control agree, pg_control says
 * it was shut down cleanly, no postmaster.pid, and extra_name (if given) is
 * there.  0 (hit->hit says whether it was copied) or an exit code.
 */
int			cache_entry_clone(const char *key, int major, const char *extra_name, const char *data_dir,
							  cache_hit *hit, char *err, size_t errlen);

/*
 * Store a copy of src_data (a cleanly stopped cluster) as the entry "key",
 * with the extra file, under an exclusive lock: built in a temporary
 * directory, renamed into place; left alone if another run stored a valid
 * one meanwhile.  Then at most max_entries entries named prefix* remain,
 * the least recently used out.  0 (*stored says whether this call made it), -1 with err, or
 * an exit code (interrupted).
 */
int			cache_entry_store(const char *key, int major, const char *src_data, const char *extra_name,
							  const char *extra, const char *prefix, int max_entries, bool *stored,
							  double *ms, char *err, size_t errlen);

/*
 * Has a run wanted the entry "key" before?  The first call leaves a marker
 * (KEY.wanted in the cache directory) and says false; later ones say true.
 * For entries that cost a run more to make than they save it: made by the
 * second run that wants one, never by a one-off run on a fresh machine.
 */
bool		cache_entry_wanted_before(const char *key);

/* drydock gc --cache: remove every template and base entry; failures counted. */
int			cache_empty(bool dry_run, bool quiet, int *removed);

#endif							/* DRYDOCK_TEMPLATE_H */

/*
 * pginstall.c
 *		Select a PostgreSQL installation by its pg_config: bindir and version,
 *		and the three programs the driver runs from it.  A major is found by
 *		number (--pg, --prod-version) in Debian's layout or in the cache
 *		prefix tools/pg-build.sh builds majors the distribution lacks into.
 */
#include "pginstall.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proc.h"
#include "util.h"

#ifndef DEFAULT_PG_CONFIG
#define DEFAULT_PG_CONFIG "pg_config"
#endif

static char *
trim(char *s)
{
	size_t		n = strlen(s);

	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' '))
		s[--n] = '\0';
	return s;
}

static char *
program_in(const char *bindir, const char *name, char *err, size_t errlen)
{
	char	   *path = xasprintf("%s/%s", bindir, name);

	if (access(path, X_OK) != 0)
	{
		snprintf(err, errlen, "%s not found or not executable (install the PostgreSQL server package, or pass --pg-config)", path);
		free(path);
		return NULL;
	}
	return path;
}

bool
pg_install_find(const char *pg_config, pg_install *pg, char *err, size_t errlen)
{
	/* one start of pg_config: the order of its answer lines is this order */
	const char *argv[] = {NULL, "--bindir", "--version", "--libdir", "--pkglibdir", "--sharedir", NULL};
	char	  **env = child_env_new(NULL);
	proc_result res;
	char	   *line[5];
	char	   *save = NULL;
	char	   *v;

	memset(pg, 0, sizeof(*pg));
	pg->pg_config = xstrdup(pg_config ? pg_config : DEFAULT_PG_CONFIG);
	argv[0] = pg->pg_config;
	if (access(pg->pg_config, X_OK) != 0)
	{
		snprintf(err, errlen, "pg_config %s not found or not executable", pg->pg_config);
		child_env_free(env);
		return false;
	}
	if (!proc_run(&(proc_spec)
				  {
				  .argv = argv,.envp = env,.timeout_ms = 30000
				  }, &res, err, errlen))
	{
		child_env_free(env);
		return false;
	}
	child_env_free(env);
	for (int i = 0; i < 5; i++)
		line[i] = res.exit_code == 0 ? strtok_r(i == 0 ? res.out : NULL, "\n", &save) : NULL;
	if (!line[1])
	{
		snprintf(err, errlen, "%s failed (exit %d): %s", pg->pg_config, res.exit_code, trim(res.err));
		proc_result_free(&res);
		return false;
	}
	pg->bindir = xstrdup(trim(line[0]));
	/* only the containment's view needs these: NULL when not answered */
	pg->libdir = line[2] ? xstrdup(trim(line[2])) : NULL;
	pg->pkglibdir = line[3] ? xstrdup(trim(line[3])) : NULL;
	pg->sharedir = line[4] ? xstrdup(trim(line[4])) : NULL;
	v = trim(line[1]);
	if (strncmp(v, "PostgreSQL ", 11) == 0)
		v += 11;
	pg->version = xstrndup_n(v, strcspn(v, " \t"));	/* "15.20 (Debian ...)" -> "15.20" */
	proc_result_free(&res);
	pg->major = atoi(pg->version);
	if (pg->major < 13)
	{
		snprintf(err, errlen, "PostgreSQL %s is not supported (13 and later are)", pg->version);
		return false;
	}
	if (!(pg->initdb = program_in(pg->bindir, "initdb", err, errlen)) ||
		!(pg->postgres = program_in(pg->bindir, "postgres", err, errlen)) ||
		!(pg->psql = program_in(pg->bindir, "psql", err, errlen)))
		return false;
	return true;
}

/*
 * Cache prefixes, in search order: $DRYDOCK_PG_CACHE when set, then the
 * per-user cache (not for root), then the machine-wide one root's
 * `make deps` fills.  NULL-terminated, malloc'd strings.
 */
static int
cache_dirs(char *dirs[4])
{
	int			n = 0;
	const char *env = getenv("DRYDOCK_PG_CACHE");
	const char *xdg = getenv("XDG_CACHE_HOME");
	const char *home = getenv("HOME");

	if (env && env[0] == '/')
		dirs[n++] = xstrdup(env);
	if (geteuid() != 0)
	{
		if (xdg && xdg[0] == '/')
			dirs[n++] = xasprintf("%s/drydock/pg", xdg);
		else if (home && home[0] == '/')
			dirs[n++] = xasprintf("%s/.cache/drydock/pg", home);
	}
	dirs[n++] = xstrdup("/var/cache/drydock/pg");
	dirs[n] = NULL;
	return n;
}

char *
pg_install_cache_dirs(void)
{
	char	   *dirs[4];
	strbuf		buf;

	cache_dirs(dirs);
	sb_init(&buf);
	for (int i = 0; dirs[i]; i++)
	{
		sb_printf(&buf, "%s%s", i ? " or " : "", dirs[i]);
		free(dirs[i]);
	}
	return buf.data;
}

char *
pg_install_locate(int major)
{
	pg_install def;
	char		err[512];
	char	   *dirs[4];
	char	   *found = NULL;
	char	   *path;

	/* the installation drydock was built against, when it is this major */
	if (pg_install_find(NULL, &def, err, sizeof(err)) && def.major == major)
		found = xstrdup(def.pg_config);
	pg_install_free(&def);
	if (found)
		return found;

	path = xasprintf("/usr/lib/postgresql/%d/bin/pg_config", major);
	if (access(path, X_OK) == 0)
		return path;
	free(path);

	cache_dirs(dirs);
	for (int i = 0; dirs[i]; i++)
	{
		path = xasprintf("%s/%d/bin/pg_config", dirs[i], major);
		if (!found && access(path, X_OK) == 0)
			found = path;
		else
			free(path);
		free(dirs[i]);
	}
	return found;
}

bool
pg_install_select(const char *pg_config, int pg_major, int prod_major,
				  pg_install *pg, char *err, size_t errlen)
{
	char	   *located = NULL;
	bool		ok;

	if (!pg_config && pg_major)
	{
		located = pg_install_locate(pg_major);
		if (!located)
		{
			char	   *dirs = pg_install_cache_dirs();

			memset(pg, 0, sizeof(*pg));
			snprintf(err, errlen, "PostgreSQL %d is not installed here (looked in /usr/lib/postgresql/%d and %s); `make deps PG=%d` installs it",
					 pg_major, pg_major, dirs, pg_major);
			free(dirs);
			return false;
		}
	}
	else if (!pg_config && prod_major)
		located = pg_install_locate(prod_major);	/* NULL: the default */
	ok = pg_install_find(pg_config ? pg_config : located, pg, err, errlen);
	free(located);
	if (ok && pg_major && pg->major != pg_major)
	{
		snprintf(err, errlen, "%s is PostgreSQL %s, not --pg %d", pg->pg_config, pg->version, pg_major);
		return false;
	}
	return ok;
}

void
pg_install_free(pg_install *pg)
{
	free(pg->pg_config);
	free(pg->bindir);
	free(pg->version);
	free(pg->initdb);
	free(pg->postgres);
	free(pg->psql);
	free(pg->libdir);
	free(pg->pkglibdir);
	free(pg->sharedir);
	memset(pg, 0, sizeof(*pg));
}

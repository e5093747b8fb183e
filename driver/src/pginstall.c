/*
 * pginstall.c
 *		Select a PostgreSQL installation by its pg_config: bindir and version,
 *		and the three programs the driver runs from it.
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
	const char *argv[4];
	char	  **env = child_env_new(NULL);
	proc_result res;
	char	   *nl;
	char	   *v;

	memset(pg, 0, sizeof(*pg));
	pg->pg_config = xstrdup(pg_config ? pg_config : DEFAULT_PG_CONFIG);
	argv[0] = pg->pg_config;
	argv[1] = "--bindir";
	argv[2] = "--version";
	argv[3] = NULL;
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
	if (res.exit_code != 0 || !(nl = strchr(res.out, '\n')))
	{
		snprintf(err, errlen, "%s failed (exit %d): %s", pg->pg_config, res.exit_code, trim(res.err));
		proc_result_free(&res);
		return false;
	}
	*nl = '\0';
	pg->bindir = xstrdup(trim(res.out));
	v = trim(nl + 1);
	if (strncmp(v, "PostgreSQL ", 11) == 0)
		v += 11;
	pg->version = xstrndup_n(v, strcspn(v, " \t"));	/* "15.20 (Debian ...)" -> "15.20" */
	proc_result_free(&res);
	pg->major = atoi(pg->version);
	if (pg->major < 13)
	{
		snprintf(err, errlen, "PostgreSQL %s is not supported (13 to 17 are)", pg->version);
		return false;
	}
	if (!(pg->initdb = program_in(pg->bindir, "initdb", err, errlen)) ||
		!(pg->postgres = program_in(pg->bindir, "postgres", err, errlen)) ||
		!(pg->psql = program_in(pg->bindir, "psql", err, errlen)))
		return false;
	return true;
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
	memset(pg, 0, sizeof(*pg));
}

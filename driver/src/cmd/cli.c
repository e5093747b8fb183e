/*
 * cli.c
 *		What every subcommand shares: the progress switch and the scrubbing of
 *		the driver's own environment.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "term.h"
#include "util.h"

extern char **environ;

void
cli_set_quiet(int quiet)
{
	dd_progress_enabled = !quiet && isatty(STDERR_FILENO);
	term_init(quiet);
}

void
scrub_environment(void)
{
	/*
	 * Every PG* variable libpq or psql reads (PGHOST, PGPORT, PGSERVICE,
	 * PGSERVICEFILE, PGPASSFILE, PGPASSWORD, PGOPTIONS, PGSYSCONFDIR, PGSSL*,
	 * PGGSS*, PGTARGETSESSIONATTRS, ...) has the form PG[A-Z]+; PSQLRC too.
	 * Variables such as PG_CONFIG (with an underscore) are not libpq's.
	 */
	for (;;)
	{
		char	   *victim = NULL;

		for (char **e = environ; e && *e; e++)
		{
			const char *v = *e;
			size_t		i = 2;

			if (strncmp(v, "PSQLRC=", 7) == 0 || strncmp(v, "PSQL_HISTORY=", 13) == 0)
			{
				victim = xstrndup_n(v, strcspn(v, "="));
				break;
			}
			if (strncmp(v, "PG", 2) != 0)
				continue;
			while (v[i] >= 'A' && v[i] <= 'Z')
				i++;
			if (i > 2 && v[i] == '=')
			{
				victim = xstrndup_n(v, strcspn(v, "="));
				break;
			}
		}
		if (!victim)
			break;
		unsetenv(victim);
		free(victim);
	}
}


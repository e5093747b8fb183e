/*
 * main.c
 *		drydock: rehearse a DDL migration and its rollback in a throwaway
 *		PostgreSQL cluster proven not to be production.  This file dispatches
 *		to the subcommands and prints the top-level help.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "signals.h"
#include "util.h"

extern char **environ;

static void
usage(FILE *out)
{
	fprintf(out,
			"drydock rehearses a DDL migration and its rollback in a throwaway PostgreSQL\n"
			"cluster that is proven not to be production, and writes the evidence.\n"
			"\n"
			"Usage:\n"
			"  drydock run DDL.sql ROLLBACK.sql [OPTION]...   dry-run a migration and its rollback\n"
			"  drydock exec [OPTION]... -- CMD [ARG]...        run CMD against a throwaway cluster\n"
			"  drydock gc [OPTION]... [RUNDIR]...              remove what killed runs left behind\n"
			"\n"
			"Options:\n"
			"  -h, --help       show this help, then exit (also: drydock COMMAND --help)\n"
			"  -V, --version    show the version, then exit\n"
			"\n"
			"Exit codes: 0 all checks pass, 1 verification findings, 2 usage or bad input,\n"
			"3 SQL error in an artifact, 4 isolation not proven or sandbox failure,\n"
			"5 internal error; exec exits with CMD's status; 128+N after signal N.\n");
}

/* The NAME of a NAME=VALUE environment entry, newly allocated. */
static char *
xstrndup_name(const char *entry)
{
	size_t		n = strcspn(entry, "=");
	char	   *p = xmalloc(n + 1);

	memcpy(p, entry, n);
	p[n] = '\0';
	return p;
}

void
cli_set_quiet(int quiet)
{
	dd_progress_enabled = !quiet && isatty(STDERR_FILENO);
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
				victim = xstrndup_name(v);
				break;
			}
			if (strncmp(v, "PG", 2) != 0)
				continue;
			while (v[i] >= 'A' && v[i] <= 'Z')
				i++;
			if (i > 2 && v[i] == '=')
			{
				victim = xstrndup_name(v);
				break;
			}
		}
		if (!victim)
			break;
		unsetenv(victim);
		free(victim);
	}
}

int
main(int argc, char **argv)
{
	const char *cmd;

	signals_install();
	scrub_environment();
	cli_set_quiet(0);

	if (argc < 2)
	{
		usage(stderr);
		return EXIT_USAGE;
	}
	cmd = argv[1];
	if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0)
	{
		usage(stdout);
		return EXIT_PASS;
	}
	if (strcmp(cmd, "-V") == 0 || strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0)
	{
		printf("drydock %s\n", DRYDOCK_VERSION);
		return EXIT_PASS;
	}
	if (strcmp(cmd, "run") == 0)
		return cmd_run(argc - 1, argv + 1);
	if (strcmp(cmd, "exec") == 0)
		return cmd_exec(argc - 1, argv + 1);
	if (strcmp(cmd, "gc") == 0)
		return cmd_gc(argc - 1, argv + 1);
	dd_error("unknown command \"%s\"; try \"drydock --help\"", cmd);
	return EXIT_USAGE;
}

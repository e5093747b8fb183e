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
#include <sys/prctl.h>
#include <unistd.h>

#include "cli.h"
#include "prod_stats.h"
#include "signals.h"
#include "util.h"

static void
usage(FILE *out)
{
	fprintf(out,
			"drydock rehearses a DDL migration and its rollback in a throwaway PostgreSQL\n"
			"cluster that is proven not to be production, and writes the evidence.\n"
			"\n"
			"Usage:\n"
			"  drydock run DDL.sql ROLLBACK.sql [OPTION]...   dry-run a migration and its rollback\n"
			"  drydock replay DIR [OPTION]...                  check every up/down pair of a history\n"
			"  drydock exec [OPTION]... -- CMD [ARG]...        run CMD against a throwaway cluster\n"
			"  drydock gc [OPTION]... [RUNDIR]...              remove what killed runs left behind\n"
			"  drydock stats-query                             print the read-only query whose output\n"
			"                                                  (run on production) is --prod-stats\n"
			"\n"
			"Options:\n"
			"  -h, --help       show this help, then exit (also: drydock COMMAND --help)\n"
			"  -V, --version    show the version, then exit\n"
			"\n"
			"Exit codes: 0 all checks pass, 1 verification findings, 2 usage or bad input,\n"
			"3 SQL error in an artifact, 4 isolation not proven or sandbox failure,\n"
			"5 internal error; exec exits with CMD's status; 128+N after signal N.\n");
}

int
main(int argc, char **argv)
{
	const char *cmd;

	signals_install();
	scrub_environment();

	/*
	 * Not dumpable: a process of the same uid without CAP_SYS_PTRACE (the
	 * cluster runs as the caller when drydock is not root, and an artifact
	 * run with --apply-as-superuser can read files) cannot read our
	 * /proc/PID/environ, mem or fds.  The children are unaffected: execve
	 * makes them dumpable again.
	 */
	prctl(PR_SET_DUMPABLE, 0);
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
	if (strcmp(cmd, "run") == 0 || strcmp(cmd, "replay") == 0)
	{
		int			rc = strcmp(cmd, "run") == 0 ? cmd_run(argc - 1, argv + 1) :
			cmd_replay(argc - 1, argv + 1);

		/*
		 * A terminating signal, whenever it came (even while the report was
		 * being written or the summary printed, after the pipeline's last
		 * look at it): the run was interrupted, and the exit says so.
		 */
		if (dd_got_signal)
		{
			dd_error("interrupted by %s; the sandbox was torn down",
					 sigabbrev_np(dd_got_signal) ? sigabbrev_np(dd_got_signal) : "signal");
			rc = 128 + dd_got_signal;
		}
		return rc;
	}
	if (strcmp(cmd, "exec") == 0)
		return cmd_exec(argc - 1, argv + 1);
	if (strcmp(cmd, "gc") == 0)
		return cmd_gc(argc - 1, argv + 1);
	if (strcmp(cmd, "stats-query") == 0)
		return cmd_stats_query(argc - 1, argv + 1);
	dd_error("unknown command \"%s\"; try \"drydock --help\"", cmd);
	return EXIT_USAGE;
}

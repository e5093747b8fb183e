/*
 * cmd_run.c
 *		drydock run DDL ROLLBACK: options, then the pipeline of run_pipeline.c,
 *		then run_finish() whatever happened.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "estimate.h"
#include "report.h"
#include "run.h"
#include "run_options.h"
#include "signals.h"
#include "term.h"
#include "util.h"

static void
run_usage(FILE *out)
{
	fprintf(out,
			"Usage: drydock run DDL.sql ROLLBACK.sql [OPTION]...\n"
			"Dry-run a migration and its rollback in a throwaway cluster proven not to be\n"
			"production; verify governance invariants; write the evidence.\n"
			"\n"
			"Target and inputs:\n"
			"  -s, --schema NAME         target schema (required unless the policy names it)\n"
			"      --scaffold-schema     create the target schema first if missing (fidelity note N-4)\n"
			"  -b, --base FILE           pg_dump --schema-only of production, restored before the baseline\n"
			"  -p, --policy FILE         JSON policy for drydock.verify (defaults otherwise)\n"
			"      --prod-sysid N        a production system identifier the sandbox must differ from\n"
			"                            (repeatable)\n"
			"      --prod-version MAJOR  production server major, for fidelity note N-1; without --pg,\n"
			"                            the sandbox runs that major when it is installed here\n"
			"      --synthetic-rows N    fill each pre-existing table with N generated rows before the\n"
			"                            baseline (what cannot be generated is left empty, N-3)\n"
			"      --prod-stats FILE     production statistics (drydock stats-query's output): NULL\n"
			"                            shares and distinct counts for --synthetic-rows, and a\n"
			"                            lock-time estimate for each lock on a pre-existing table\n"
			"                            (policy key max_lock_seconds bounds it)\n"
			"Run:\n"
			"  -d, --database NAME       throwaway database name (default: drydock_dryrun)\n"
			"      --rounds N            apply, verify, rollback, re-check N times (default 1)\n"
			"      --single-transaction  apply each artifact with psql -1\n"
			"      --apply-role NAME     non-superuser role the artifacts run as (default: the\n"
			"                            base's owner of the target schema, else drydock_apply)\n"
			"      --apply-as-superuser  run the artifacts as the sandbox superuser (recorded); refused\n"
			"                            where the server cannot get a filesystem view of its own\n"
			"      --allow-weak-containment  with --apply-as-superuser: run even then (recorded, N-3)\n"
			"      --timeout SECONDS     per phase (default 600)\n"
			"      --allow-meta          allow psql meta-commands the preflight refuses\n"
			"      --run-as USER         as root, run the cluster as USER (default: postgres)\n"
			"      --pg MAJOR            run the sandbox on this installed major (Debian's\n"
			"                            /usr/lib/postgresql/MAJOR or `make deps PG=MAJOR`'s cache)\n"
			"      --pg-config PATH      the PostgreSQL installation to use\n"
			"      --keep                leave the sandbox running afterwards\n"
			"      --fresh               initdb instead of copying the cached template, and restore\n"
			"                            --base instead of cloning it from the base cache\n"
			"Output:\n"
			"  -o, --out DIR             report directory (default: ./drydock-report-<UTC time>,\n"
			"                            made only once a cluster started)\n"
			"      --format LIST         comma-separated: text, tap, sarif, junit, github, gitlab;\n"
			"                            each written into --out, the first also on stdout\n"
			"      --fail-on error|warn  warn: warning checks fail the run too (exit 1)\n"
			"  -q, --quiet               no progress lines on stderr\n"
			"      --config FILE         read defaults from FILE instead of the drydock.json found\n"
			"                            in this directory or a parent (up to the repository root)\n"
			"      --no-config           read no drydock.json\n"
			"  -h, --help                show this help, then exit\n"
			"\n"
			"Exit codes: 0 all checks pass, 1 verification findings, 2 usage or bad input,\n"
			"3 SQL error in an artifact, 4 isolation not proven or sandbox failure, 5 internal\n"
			"error, 128+N interrupted by signal N.\n");
}

int
cmd_run(int argc, char **argv)
{
	enum
	{
		OPT_ROUNDS = OPT_COMMON_END, OPT_SINGLE, OPT_KEEP
	};
	static const struct option long_options[] = {
		{"database", required_argument, NULL, 'd'},
		{"rounds", required_argument, NULL, OPT_ROUNDS},
		{"single-transaction", no_argument, NULL, OPT_SINGLE},
		{"keep", no_argument, NULL, OPT_KEEP},
		RUN_COMMON_LONG_OPTIONS
	};
	run_options opt;
	run_ctx		ctx;
	int			c;
	int			rc;
	char		default_out[64];

	static const char *const replay_only[] = {"layout", "from", "to", "keep-going", "missing-down", "since", NULL};

	run_options_defaults(&opt);
	opt.database = "drydock_dryrun";
	if (run_options_config(&argc, &argv, long_options, "d:" RUN_COMMON_SHORT_OPTIONS, replay_only, &opt) != 0)
		return EXIT_USAGE;
	optind = 0;					/* glibc: reinitialise after the config's pass */
	while ((c = getopt_long(argc, argv, "d:" RUN_COMMON_SHORT_OPTIONS, long_options, NULL)) != -1)
	{
		int			common = run_common_option(c, optarg, &opt);

		if (common < 0)
			return EXIT_USAGE;
		if (common > 0)
			continue;
		switch (c)
		{
			case 'd':
				opt.database = optarg;
				break;
			case OPT_ROUNDS:
				if (!parse_int_in(optarg, 1, 100, &opt.rounds))
				{
					dd_error("--rounds must be 1 to 100: \"%s\"", optarg);
					return EXIT_USAGE;
				}
				break;
			case OPT_SINGLE:
				opt.single_transaction = true;
				break;
			case OPT_KEEP:
				opt.keep = true;
				break;
			case 'h':
				run_usage(stdout);
				return EXIT_PASS;
			default:
				run_usage(stderr);
				return EXIT_USAGE;
		}
	}
	if (argc - optind != 2)
	{
		dd_error("run needs exactly two files: drydock run DDL.sql ROLLBACK.sql [OPTION]... (see drydock run --help)");
		return EXIT_USAGE;
	}
	opt.ddl_path = argv[optind];
	opt.rollback_path = argv[optind + 1];
	if (opt.database[0] == '\0' || strlen(opt.database) > 63)
	{
		dd_error("--database must be 1 to 63 bytes");
		return EXIT_USAGE;
	}
	cli_set_quiet(opt.quiet);
	run_options_default_out(&opt, "drydock-report", default_out, sizeof(default_out));

	run_ctx_init(&ctx, &opt);

	{
		char		err[512];

		/* a given --out is checked before anything runs; the default is made later */
		if (!opt.out_defaulted && !report_prepare_dir(opt.out_dir, err, sizeof(err)))
		{
			dd_error("%s", err);
			return run_exit(&ctx, EXIT_USAGE);	/* frees the report begun */
		}
	}

	{
		char		prefix[512];

		snprintf(prefix, sizeof(prefix), "run %s", opt.ddl_path);
		term_set_prefix(prefix, ctx.t0);
	}
	rc = run_preflight(&ctx);
	if (rc != 0)
		return run_exit(&ctx, run_finish(&ctx, rc, rc == EXIT_USAGE ? "refused" : "internal_error",
										 "refused before any cluster existed: nothing was executed"));
#define INTERRUPTED_CHECK() \
	if (dd_got_signal) \
		return run_exit(&ctx, run_finish(&ctx, 128 + dd_got_signal, "interrupted", "interrupted by a signal"))

	INTERRUPTED_CHECK();
	rc = run_start_sandbox(&ctx);
	if (rc != 0)
		return run_exit(&ctx, run_finish(&ctx, rc, "isolation_failed", "the sandbox failed or isolation could not be proven: nothing was applied"));
	INTERRUPTED_CHECK();
	rc = run_prepare_database(&ctx);
	if (rc != 0)
		return run_exit(&ctx, run_finish(&ctx, rc, rc == EXIT_USAGE ? "bad_input" : rc == EXIT_SQL ? "sql_error" : "sandbox_failed",
										 rc == EXIT_SQL ? "the base schema failed with an SQL error" : "the throwaway database could not be prepared"));
	for (int round = 1; round <= opt.rounds; round++)
	{
		INTERRUPTED_CHECK();
		rc = run_round(&ctx, round);
		if (rc != 0)
			return run_exit(&ctx, run_finish(&ctx, rc, rc == EXIT_SQL ? "sql_error" : "failed",
											 rc == EXIT_SQL ? "an artifact failed with an SQL error" : "the run failed"));
	}
	INTERRUPTED_CHECK();
	/* --prod-stats: how long production would hold each lock (may add findings) */
	rc = run_estimate(&ctx);
	if (rc != 0)
		return run_exit(&ctx, run_finish(&ctx, rc, "failed", "the production-impact calibration failed"));
	INTERRUPTED_CHECK();
	rc = ctx.n_fail > 0 ? EXIT_FINDINGS : EXIT_PASS;
	return run_exit(&ctx, run_finish(&ctx, rc, rc == 0 ? "pass" : "findings",
									 rc == 0 ? "all checks pass" : "verification findings"));
}

/*
 * cmd_run.c
 *		drydock run DDL ROLLBACK: options, then the pipeline of run_pipeline.c,
 *		then run_finish() whatever happened.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "report.h"
#include "run.h"
#include "signals.h"
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
			"      --prod-version MAJOR  production server major, for fidelity note N-1\n"
			"Run:\n"
			"  -d, --database NAME       throwaway database name (default: drydock_dryrun)\n"
			"      --rounds N            apply, verify, rollback, re-check N times (default 1)\n"
			"      --single-transaction  apply each artifact with psql -1\n"
			"      --apply-role NAME     non-superuser role the artifacts run as (default: drydock_apply)\n"
			"      --apply-as-superuser  run the artifacts as the sandbox superuser (recorded)\n"
			"      --timeout SECONDS     per phase (default 600)\n"
			"      --allow-meta          allow psql meta-commands the preflight refuses\n"
			"      --run-as USER         as root, run the cluster as USER (default: postgres)\n"
			"      --pg-config PATH      the PostgreSQL installation to use\n"
			"      --keep                leave the sandbox running afterwards\n"
			"      --fresh               initdb instead of copying the cached template\n"
			"Output:\n"
			"  -o, --out DIR             report directory (default: ./drydock-report-<UTC time>)\n"
			"      --format tap          also print the checks as TAP on stdout\n"
			"  -q, --quiet               no progress lines on stderr\n"
			"  -h, --help                show this help, then exit\n"
			"\n"
			"Exit codes: 0 all checks pass, 1 verification findings, 2 usage or bad input,\n"
			"3 SQL error in an artifact, 4 isolation not proven or sandbox failure, 5 internal\n"
			"error, 128+N interrupted by signal N.\n");
}

static bool
parse_int(const char *s, int lo, int hi, int *out)
{
	char	   *end;
	long		v = strtol(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v < lo || v > hi)
		return false;
	*out = (int) v;
	return true;
}

static bool
is_sysid(const char *s)
{
	if (!*s || strlen(s) > 20)
		return false;
	for (const char *p = s; *p; p++)
		if (*p < '0' || *p > '9')
			return false;
	return true;
}

int
cmd_run(int argc, char **argv)
{
	enum
	{
		OPT_SCAFFOLD = 256, OPT_PROD_SYSID, OPT_PROD_VERSION, OPT_ROUNDS, OPT_SINGLE,
		OPT_ALLOW_META, OPT_RUN_AS, OPT_PG_CONFIG, OPT_KEEP, OPT_APPLY_ROLE,
		OPT_APPLY_SUPER, OPT_TIMEOUT, OPT_FORMAT, OPT_FRESH
	};
	static const struct option long_options[] = {
		{"schema", required_argument, NULL, 's'},
		{"scaffold-schema", no_argument, NULL, OPT_SCAFFOLD},
		{"base", required_argument, NULL, 'b'},
		{"policy", required_argument, NULL, 'p'},
		{"prod-sysid", required_argument, NULL, OPT_PROD_SYSID},
		{"prod-version", required_argument, NULL, OPT_PROD_VERSION},
		{"database", required_argument, NULL, 'd'},
		{"rounds", required_argument, NULL, OPT_ROUNDS},
		{"single-transaction", no_argument, NULL, OPT_SINGLE},
		{"out", required_argument, NULL, 'o'},
		{"allow-meta", no_argument, NULL, OPT_ALLOW_META},
		{"run-as", required_argument, NULL, OPT_RUN_AS},
		{"pg-config", required_argument, NULL, OPT_PG_CONFIG},
		{"keep", no_argument, NULL, OPT_KEEP},
		{"fresh", no_argument, NULL, OPT_FRESH},
		{"apply-role", required_argument, NULL, OPT_APPLY_ROLE},
		{"apply-as-superuser", no_argument, NULL, OPT_APPLY_SUPER},
		{"timeout", required_argument, NULL, OPT_TIMEOUT},
		{"format", required_argument, NULL, OPT_FORMAT},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}
	};
	run_options opt;
	run_ctx		ctx;
	int			c;
	int			rc;
	char		default_out[64];

	memset(&opt, 0, sizeof(opt));
	opt.rounds = 1;
	opt.timeout_s = 600;
	opt.database = "drydock_dryrun";
	optind = 1;
	while ((c = getopt_long(argc, argv, "s:b:p:d:o:qh", long_options, NULL)) != -1)
	{
		switch (c)
		{
			case 's':
				opt.schema = optarg;
				break;
			case OPT_SCAFFOLD:
				opt.scaffold_schema = true;
				break;
			case 'b':
				opt.base_path = optarg;
				break;
			case 'p':
				opt.policy_path = optarg;
				break;
			case OPT_PROD_SYSID:
				if (!is_sysid(optarg))
				{
					dd_error("--prod-sysid must be a system identifier (digits, as pg_controldata prints it): \"%s\"", optarg);
					return EXIT_USAGE;
				}
				opt.prod_sysids = xrealloc(opt.prod_sysids, (opt.n_prod_sysids + 1) * sizeof(char *));
				opt.prod_sysids[opt.n_prod_sysids++] = optarg;
				break;
			case OPT_PROD_VERSION:
				if (!parse_int(optarg, 9, 99, &opt.prod_version))
				{
					dd_error("--prod-version must be a major version such as 15: \"%s\"", optarg);
					return EXIT_USAGE;
				}
				break;
			case 'd':
				opt.database = optarg;
				break;
			case OPT_ROUNDS:
				if (!parse_int(optarg, 1, 100, &opt.rounds))
				{
					dd_error("--rounds must be 1 to 100: \"%s\"", optarg);
					return EXIT_USAGE;
				}
				break;
			case OPT_SINGLE:
				opt.single_transaction = true;
				break;
			case 'o':
				opt.out_dir = optarg;
				break;
			case OPT_ALLOW_META:
				opt.allow_meta = true;
				break;
			case OPT_RUN_AS:
				opt.run_as = optarg;
				break;
			case OPT_PG_CONFIG:
				opt.pg_config = optarg;
				break;
			case OPT_KEEP:
				opt.keep = true;
				break;
			case OPT_FRESH:
				opt.fresh = true;
				break;
			case OPT_APPLY_ROLE:
				opt.apply_role = optarg;
				break;
			case OPT_APPLY_SUPER:
				opt.apply_as_superuser = true;
				break;
			case OPT_TIMEOUT:
				if (!parse_int(optarg, 1, 86400, &opt.timeout_s))
				{
					dd_error("--timeout must be 1 to 86400 seconds: \"%s\"", optarg);
					return EXIT_USAGE;
				}
				break;
			case OPT_FORMAT:
				if (strcmp(optarg, "tap") == 0)
					opt.format_tap = true;
				else if (strcmp(optarg, "text") != 0)
				{
					dd_error("--format must be text or tap: \"%s\"", optarg);
					return EXIT_USAGE;
				}
				break;
			case 'q':
				opt.quiet = true;
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
	if (opt.schema && (opt.schema[0] == '\0' || strlen(opt.schema) > 63))
	{
		dd_error("--schema must be 1 to 63 bytes");
		return EXIT_USAGE;
	}
	cli_set_quiet(opt.quiet);
	if (!opt.out_dir)
	{
		time_t		now = time(NULL);
		struct tm	tm;

		gmtime_r(&now, &tm);
		strftime(default_out, sizeof(default_out), "drydock-report-%Y%m%dT%H%M%SZ", &tm);
		opt.out_dir = default_out;
	}

	run_ctx_init(&ctx, &opt);

	{
		char		err[512];

		if (!report_prepare_dir(opt.out_dir, err, sizeof(err)))
		{
			dd_error("%s", err);
			return EXIT_USAGE;
		}
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
	rc = ctx.n_fail > 0 ? EXIT_FINDINGS : EXIT_PASS;
	return run_exit(&ctx, run_finish(&ctx, rc, rc == 0 ? "pass" : "findings",
									 rc == 0 ? "all checks pass" : "verification findings"));
}

/*
 * cmd_replay.c
 *		drydock replay DIR: prove every up/down pair of a project's migration
 *		history.  One sandbox, isolation proven once; every file preflighted
 *		before any cluster exists; a state database advances by applying each
 *		up, and each pair is checked on a copy of the state before it
 *		(CREATE DATABASE ... TEMPLATE): baseline, capture + up, verify,
 *		capture + down, re-check against the baseline.
 *
 * The pipeline pieces are drydock run's (run_pipeline.c); each checked pair
 * is recorded as one of the report's rounds, with its version, title and
 * verdict, so the execution log, lock table and fidelity notes come for free.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "history.h"
#include "sha256.h"
#include "prod_stats.h"
#include "psql_apply.h"
#include "report.h"
#include "run.h"
#include "run_options.h"
#include "signals.h"
#include "since.h"
#include "run_suppress.h"
#include "term.h"
#include "util.h"

#define STATE_DB "drydock_replay_state"
/* the copy a pair is checked on, named by its round: the same with any --jobs */
#define PAIR_DB "drydock_replay_pair_%d"

typedef struct replay_options
{
	const char *dir;
	const char *layout;
	const char *from;
	const char *to;
	bool		keep_going;
	bool		strict;			/* refuse what the tool's docs do not allow */
	const char *missing_down;	/* error, warn, off */
	const char *since;			/* --since GIT_REF, or NULL */
	int			jobs;			/* --jobs N: pairs checked at once */
} replay_options;

static void
replay_usage(FILE *out)
{
	fprintf(out,
			"Usage: drydock replay DIR [OPTION]...\n"
			"Replay a project's migration history in one throwaway cluster and check that every\n"
			"down restores exactly the state its up started from.\n"
			"\n"
			"Layouts (detected, or --layout): golang-migrate ({v}_{t}.up.sql/.down.sql), sqlx (the\n"
			"same names, sqlx's templates), goose (-- +goose Up/Down), dbmate (-- migrate:up/down),\n"
			"node-pg-migrate (-- Up Migration/-- Down Migration), sqitch (sqitch.plan), flyway\n"
			"(V/U/R), diesel ({timestamp}_{t}/up.sql + down.sql), directories ({v}_{t}/up.sql).\n"
			"Irregular histories are taken as the tools take them (listed in replay-log.md): up and\n"
			"down paired by version, a shared version ordered by title, a down without an SQL up\n"
			"not exercised, an empty or comment-only file a no-op step.\n"
			"\n"
			"Options:\n"
			"      --layout NAME         force a layout (names above)\n"
			"      --strict              refuse a version shared by several migrations\n"
			"      --from V              apply earlier ups unchecked; check from version V\n"
			"      --to V                check up to version V, then stop\n"
			"      --since GIT_REF       check only the migrations added or changed since GIT_REF\n"
			"                            (git diff); earlier ones are applied unchecked\n"
			"      --keep-going          after a failing migration, report it and go on\n"
			"  -j, --jobs N              check up to N pairs at once, each on its own copy of the\n"
			"                            state, in worker processes (default: the number of\n"
			"                            cores; 1: one after another); the reports are the same\n"
			"      --missing-down SEV    a migration without a down: error (default), warn or off\n"
			"  -s, --schema NAME         target schema (required unless the policy names it)\n"
			"      --scaffold-schema     create the target schema first if missing\n"
			"  -b, --base FILE           pg_dump --schema-only of production, restored first\n"
			"  -p, --policy FILE         JSON policy for drydock.verify\n"
			"      --prod-sysid N        a production system identifier (repeatable)\n"
			"      --prod-version MAJOR  production server major (fidelity note N-1; selects it if\n"
			"                            installed and --pg is not given)\n"
			"      --synthetic-rows N, --prod-stats FILE  as drydock run (no lock-time estimates)\n"
			"      --timeout SECONDS     per phase (default 600)\n"
			"      --allow-meta, --run-as USER, --pg MAJOR, --pg-config PATH, --fresh, --apply-role NAME,\n"
			"      --apply-as-superuser, --allow-weak-containment  as drydock run\n"
			"  -o, --out DIR             report directory (default ./drydock-replay-<UTC time>,\n"
			"                            made only once a cluster started)\n"
			"      --format LIST         text, tap (one test per pair), sarif, junit, github, gitlab;\n"
			"                            each written into --out, the first also on stdout\n"
			"      --fail-on error|warn  warn: warning checks fail the replay too (exit 1)\n"
			"  -q, --quiet               no progress lines on stderr\n"
			"      --config FILE         read defaults from FILE instead of the drydock.json found\n"
			"                            in this directory or a parent (up to the repository root)\n"
			"      --no-config           read no drydock.json\n"
			"  -h, --help                show this help, then exit\n"
			"\n"
			"Exit codes as drydock run: 0 every pair exact, 1 findings, 2 bad input,\n"
			"3 a migration failed, 4 sandbox, 5 internal.\n");
}

/* path relative to dir ("DIR/x.sql" -> "x.sql"), or path when not under it. */
static const char *
relative_to(const char *path, const char *dir)
{
	size_t		n = strlen(dir);

	while (n > 1 && dir[n - 1] == '/')
		n--;
	if (strncmp(path, dir, n) == 0 && path[n] == '/')
		return path + n + 1;
	return path;
}

/* Is version inside [from, to]?  sqitch names compare by plan position. */
static int
position(const history *h, const char *version)
{
	for (size_t i = 0; i < h->n; i++)
		if (strcmp(h->items[i].version, version) == 0)
			return (int) i;
	return -1;
}

static bool
before_from(const history *h, size_t i, const char *from)
{
	if (!from)
		return false;
	if (strcmp(h->layout, "sqitch") == 0)
		return (int) i < position(h, from);
	return history_version_cmp(h->items[i].version, from) < 0;
}

static bool
after_to(const history *h, size_t i, const char *to)
{
	if (!to)
		return false;
	if (strcmp(h->layout, "sqitch") == 0)
		return (int) i > position(h, to);
	return history_version_cmp(h->items[i].version, to) > 0;
}

/* Preflight one part of a migration into an artifact. */
static int
preflight_part(run_ctx *ctx, artifact *a, const char *label, const migration_part *part,
			   preflight_role role, bool in_tx)
{
	memset(a, 0, sizeof(*a));
	a->label = label;
	a->path = part->path;
	a->single_tx = in_tx ? 1 : -1;
	return run_preflight_artifact(ctx, a, role, part->text, part->len);
}

/*
 * A placeholder (empty, or comments only) is not run, so not preflighted
 * (which refuses an empty artifact): only its sha256 is recorded.
 */
static void
noop_part(artifact *a, const char *label, const migration_part *part)
{
	memset(a, 0, sizeof(*a));
	a->label = label;
	a->path = part->path;
	if (sha256_hex(part->text, part->len, a->pf.sha256) != 0)
		a->pf.sha256[0] = '\0';
}

static int
reconnect(run_ctx *ctx, const char *dbname)
{
	char		err[1024];

	run_side_close(ctx);		/* it is on the database we leave */
	signals_cancel_on_signal(NULL);
	if (ctx->conn)
		PQfinish(ctx->conn);
	ctx->conn = sandbox_connect(&ctx->sb, dbname, err, sizeof(err));
	if (!ctx->conn)
	{
		run_record_error(ctx, NULL, 0, err);
		return EXIT_SANDBOX;
	}
	signals_cancel_on_signal(PQgetCancel(ctx->conn));
	free(ctx->dbname);
	ctx->dbname = xstrdup(dbname);
	return 0;
}

static int
exec_sql(run_ctx *ctx, const char *sql)
{
	int			rc;

	json_decref(run_query_rows(ctx, NULL, sql, 0, NULL, &rc));
	return rc;
}

/* Apply an up to the state database, unchecked. */
static int
advance_state(run_ctx *ctx, artifact *up, json_t *pair)
{
	psql_apply_result ar;
	int			rc;

	if (!up)
		return 0;				/* a no-op up */
	if ((rc = reconnect(ctx, STATE_DB)) != 0)
		return rc;
	if ((rc = run_apply_file(ctx, up, run_apply_role(ctx), ctx->restrict_meta, "state", &ar)) != 0)
		return rc;
	if (!ar.ok)
	{
		int			code = run_record_apply_failure(ctx, up, &ar);

		if (pair)
			json_object_set_new(pair, "verdict", json_string("failed"));
		psql_apply_result_free(&ar);
		return code;
	}
	psql_apply_result_free(&ar);
	return 0;
}

static void
add_finding(run_ctx *ctx, json_t *rows, const char *code, const char *object, const char *severity,
			const char *message)
{
	const char *status = strcmp(severity, "error") == 0 ? "fail" :
		strcmp(severity, "warn") == 0 ? "warn" : "skipped";

	json_array_append_new(rows, json_pack("{s:s, s:s, s:s, s:s, s:s}", "family", "RP", "code", code,
										  "object", object, "status", status, "message", message));
	if (strcmp(status, "fail") == 0)
		ctx->n_fail++;
	else if (strcmp(status, "warn") == 0)
		ctx->n_warn++;
}

static bool
rows_fail(json_t *rows)
{
	size_t		i;
	json_t	   *r;

	json_array_foreach(rows, i, r)
		if (strcmp(json_string_value(json_object_get(r, "status")) ?: "", "fail") == 0)
		return true;
	return false;
}

/*
 * Did the rollback leave the state different from before the up?  Only the
 * rollback's state checks say so (RB001, RB002, RB004: what pg_dump -s
 * before/after would show); RB003 (CASCADE) and the lock-safety family are
 * findings of the pair, not differences of state.
 */
static bool
state_differs(json_t *rows)
{
	size_t		i;
	json_t	   *r;

	json_array_foreach(rows, i, r)
	{
		const char *code = json_string_value(json_object_get(r, "code")) ?: "";

		if (strcmp(json_string_value(json_object_get(r, "status")) ?: "", "fail") == 0 &&
			strncmp(code, "RB", 2) == 0 && strcmp(code, "RB003") != 0)
			return true;
	}
	return false;
}

/*
 * Check one pair on a copy of the state.  Returns 0 (the verdict is in
 * pair), or an exit code when the replay must stop.
 */
/*
 * The copy pair `round` is checked on, made from the state as it is now.
 * Nobody else may be connected to the state (CREATE DATABASE ... TEMPLATE
 * refuses then): this connection moves to "postgres" first, and workers
 * only ever connect to their own copy.
 */
static int
create_pair_copy(run_ctx *ctx, int round)
{
	int			rc;
	char	   *q;
	char		db[64];
	char	   *owner;

	snprintf(db, sizeof(db), PAIR_DB, round);
	if ((rc = reconnect(ctx, "postgres")) != 0)
		return rc;
	owner = PQescapeIdentifier(ctx->conn, run_apply_role(ctx), strlen(run_apply_role(ctx)));
	q = xasprintf("CREATE DATABASE %s TEMPLATE " STATE_DB " OWNER %s%s", db, owner,
				  ctx->pg.major >= 15 ? " STRATEGY FILE_COPY" : "");
	PQfreemem(owner);
	rc = exec_sql(ctx, q);
	free(q);
	return rc;
}

/* Drop pair round's copy (after a failure: it may be gone already). */
static int
drop_pair_copy(run_ctx *ctx, int round, bool if_exists)
{
	char		q[128];
	int			rc;

	snprintf(q, sizeof(q), "DROP DATABASE %s" PAIR_DB, if_exists ? "IF EXISTS " : "", round);
	if ((rc = reconnect(ctx, "postgres")) != 0)
		return rc;
	return exec_sql(ctx, q);
}

static int
check_pair(run_ctx *ctx, const replay_options *ro, const migration *m, artifact *up, artifact *down,
		   artifact *verify, json_t *pair, int round, bool *up_failed)
{
	int			rc;
	json_t	   *rp = json_array();
	const char *verdict;
	char		object[256];
	char		db[64];

	snprintf(object, sizeof(object), "%s %s", m->version, m->title);
	snprintf(db, sizeof(db), PAIR_DB, round);
	json_object_set_new(pair, "replay_findings", rp);
	if ((rc = reconnect(ctx, db)) != 0 ||
		(rc = exec_sql(ctx, "SELECT drydock.capture_reset()")) != 0 ||
		(rc = exec_sql(ctx, "SELECT drydock.baseline_drop(label) FROM drydock.baseline")) != 0 ||
		(rc = exec_sql(ctx, "SELECT drydock.baseline_save('pre-apply')")) != 0)
		return rc;

	rc = m->up_noop ? 0 : run_apply_phase(ctx, up, "apply", pair);
	if (rc == EXIT_SQL)
	{
		*up_failed = true;
		json_object_set_new(pair, "verdict", json_string("failed"));
		json_object_set_new(pair, "failure", json_incref(json_object_get(ctx->report, "error")));
		return ro->keep_going ? 0 : rc;
	}
	if (rc != 0)
		return rc;
	if (verify)
	{
		psql_apply_result ar;

		if ((rc = run_apply_file(ctx, verify, run_apply_role(ctx), ctx->restrict_meta, "verify", &ar)) != 0)
			return rc;
		json_object_set(pair, "sqitch_verify", ar.json);
		if (!ar.ok)
		{
			char	   *msg = xasprintf("sqitch verify failed at %s:%d: %s", verify->path, ar.error_line,
										ar.error_message ? ar.error_message : "error");

			add_finding(ctx, rp, "RP002", object, "error", msg);
			free(msg);
		}
		psql_apply_result_free(&ar);
	}
	if (!down)
	{
		add_finding(ctx, rp, "RP001", object, ro->missing_down,
					"no down migration: the change cannot be rolled back by the tool");
		verdict = "missing_down";
	}
	else
	{
		rc = run_check_rollback(ctx, m->down_noop ? NULL : down, pair);
		if (rc == EXIT_SQL)
		{
			json_object_set_new(pair, "verdict", json_string("failed"));
			json_object_set_new(pair, "failure", json_incref(json_object_get(ctx->report, "error")));
			return ro->keep_going ? 0 : rc;
		}
		if (rc != 0)
			return rc;
		json_t	   *residue = json_object_get(pair, "residue");
		size_t		k;
		json_t	   *row;
		bool		all_accepted = json_array_size(residue) > 0;

		json_array_foreach(residue, k, row)
			if (!json_object_get(row, "accepted"))
			all_accepted = false;
		/*
		 * The verdict is the state, as pg_dump -s before/after sees it: a
		 * down that used CASCADE and re-created what it took is exact; its
		 * RB003 stays a finding of the pair.
		 */
		if (state_differs(json_object_get(pair, "rollback_verification")))
			verdict = "not_inverse";
		else if (all_accepted)
			verdict = "accepted";	/* not exact, every difference accepted with a reason */
		else if (json_array_size(residue) > 0)
			verdict = "not_inverse";
		else
			verdict = "exact";
		if (m->down_noop && strcmp(verdict, "not_inverse") == 0)
		{
			/*
			 * A placeholder down ("nothing to undo") after an up that did
			 * something: a missing down, judged by --missing-down like one;
			 * the residue says what stays, the RB rows would only repeat it.
			 */
			json_t	   *rbv = json_object_get(pair, "rollback_verification");

			ctx->n_fail -= report_count_status(rbv, "fail");
			ctx->n_warn -= report_count_status(rbv, "warn");
			ctx->n_suppressed -= report_count_status(rbv, "suppressed");
			json_object_set_new(pair, "rollback_verification", json_array());
			add_finding(ctx, rp, "RP001", object, ro->missing_down,
						"the down is a placeholder (empty or only comments): the change cannot be rolled back by the tool");
			verdict = "missing_down";
		}
	}
	if (strcmp(verdict, "exact") == 0 && rows_fail(rp))
		verdict = "failing_verify";
	json_object_set_new(pair, "verdict", json_string(verdict));
	return drop_pair_copy(ctx, round, false);
}

/* The irregularities of one migration, for its pair's "notes". */
static json_t *
pair_notes(const history *h, const migration *m)
{
	json_t	   *notes = json_array();

	for (size_t i = 0; i < h->n_irregular; i++)
		if (strcmp(h->irregular[i].version, m->version) == 0 && strcmp(h->irregular[i].title, m->title) == 0)
			json_array_append_new(notes, json_string(h->irregular[i].message));
	return notes;
}

/*
 * The tool's bookkeeping, created as its runner does before the first
 * migration: as the migration role, where its search_path puts it.  In the
 * state database before any pair's baseline, so in no verdict.
 */
static int
create_bookkeeping(run_ctx *ctx, const history *h)
{
	char	   *role = PQescapeIdentifier(ctx->conn, run_apply_role(ctx), strlen(run_apply_role(ctx)));
	char	   *q = xasprintf("SET ROLE %s", role);
	char	   *sqlcopy = xstrdup(h->bookkeeping);
	char	   *save = NULL;
	int			rc = exec_sql(ctx, q);

	free(q);
	PQfreemem(role);
	/* the statements hold no ';' of their own */
	for (char *stmt = strtok_r(sqlcopy, ";", &save); stmt && rc == 0; stmt = strtok_r(NULL, ";", &save))
		rc = exec_sql(ctx, stmt);
	free(sqlcopy);
	if (rc == 0 && h->bookkeeping_table)
	{
		/* where the runner's search_path put it, for the battery to leave out */
		const char *params[1] = {h->bookkeeping_table};
		json_t	   *r = run_query_rows(ctx, NULL,
									   "SELECT n.nspname || '.' || c.relname AS name FROM pg_catalog.pg_class c"
									   " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
									   " WHERE c.oid = pg_catalog.to_regclass($1)", 1, params, &rc);

		if (r && json_array_size(r) == 1)
		{
			json_decref(ctx->scaffold_objects);
			ctx->scaffold_objects = json_pack("[O]", json_object_get(json_array_get(r, 0), "name"));
		}
		json_decref(r);
	}
	if (rc == 0)
		rc = exec_sql(ctx, "RESET ROLE");
	if (rc == 0)
		json_array_append_new(json_object_get(ctx->report, "scaffolds"),
							  json_sprintf("%s created as \"%s\" before the first migration, as the tool's runner does (in every pair's baseline, so in no verdict; left out of the verification battery)",
										   h->bookkeeping_what, run_apply_role(ctx)));
	return rc;
}

/* Everything one replay works with, freed at one point (replay_state_free). */
typedef struct replay_state
{
	run_options opt;
	replay_options ro;
	run_ctx		ctx;
	bool		ctx_made;		/* ctx initialised: the report exists */
	history		h;
	artifact   *ups,
			   *downs,
			   *verifies;
	const char **why_unchecked; /* per migration: NULL when checked */
	json_t	  **inline_sup;		/* per migration: its -- drydock: directives */
	bool	   *changed;		/* --since: per migration, a file of it changed */
	int			last_changed;
	json_t	   *since_files;
	char		default_out[64];
	int			n_to_check;		/* pairs inside --from/--to (and --since) */
	struct pair_job *q;			/* pairs started, merged in order from q_head */
	size_t		q_head,
				q_tail;
	int			n_running;		/* workers not yet reaped */
	int			n_checked,
				n_exact,
				n_accepted,
				n_not,
				n_missing,
				n_verify,
				n_failed;
} replay_state;

enum
{
	OPT_LAYOUT = OPT_COMMON_END, OPT_FROM, OPT_TO, OPT_KEEP_GOING, OPT_MISSING_DOWN, OPT_STRICT,
	OPT_SINCE, OPT_JOBS
};

static const struct option replay_long_options[] = {
	{"layout", required_argument, NULL, OPT_LAYOUT},
	{"from", required_argument, NULL, OPT_FROM},
	{"to", required_argument, NULL, OPT_TO},
	{"keep-going", no_argument, NULL, OPT_KEEP_GOING},
	{"missing-down", required_argument, NULL, OPT_MISSING_DOWN},
	{"strict", no_argument, NULL, OPT_STRICT},
	{"since", required_argument, NULL, OPT_SINCE},
	{"jobs", required_argument, NULL, OPT_JOBS},
	RUN_COMMON_LONG_OPTIONS
};

/*
 * The command line (after drydock.json's defaults).  0 to go on, else
 * the exit code; *done when --help was printed.
 */
static int
parse_replay_options(int *argc, char ***argv, replay_state *rs, bool *done)
{
	static const char *const run_only[] = {"database", "rounds", "single-transaction", "keep", NULL};
	int			c;

	*done = false;
	run_options_defaults(&rs->opt);
	rs->opt.database = STATE_DB;
	rs->ro.missing_down = "error";
	{
		long		ncpu = sysconf(_SC_NPROCESSORS_ONLN);

		rs->ro.jobs = ncpu < 1 ? 1 : ncpu > 64 ? 64 : (int) ncpu;
	}
	if (run_options_config(argc, argv, replay_long_options, RUN_COMMON_SHORT_OPTIONS "j:", run_only, &rs->opt) != 0)
		return EXIT_USAGE;
	optind = 0;					/* glibc: reinitialise after the config's pass */
	while ((c = getopt_long(*argc, *argv, RUN_COMMON_SHORT_OPTIONS "j:", replay_long_options, NULL)) != -1)
	{
		int			common = run_common_option(c, optarg, &rs->opt);

		if (common < 0)
			return EXIT_USAGE;
		if (common > 0)
			continue;
		switch (c)
		{
			case OPT_LAYOUT:
				rs->ro.layout = optarg;
				break;
			case OPT_FROM:
				rs->ro.from = optarg;
				break;
			case OPT_TO:
				rs->ro.to = optarg;
				break;
			case OPT_KEEP_GOING:
				rs->ro.keep_going = true;
				break;
			case OPT_STRICT:
				rs->ro.strict = true;
				break;
			case OPT_SINCE:
				rs->ro.since = optarg;
				break;
			case 'j':
			case OPT_JOBS:
				{
					char	   *end;
					long		n = strtol(optarg, &end, 10);

					if (*optarg == '\0' || *end != '\0' || n < 1 || n > 64)
					{
						dd_error("--jobs must be a number from 1 to 64: \"%s\"", optarg);
						return EXIT_USAGE;
					}
					rs->ro.jobs = (int) n;
				}
				break;
			case OPT_MISSING_DOWN:
				if (strcmp(optarg, "error") && strcmp(optarg, "warn") && strcmp(optarg, "off"))
				{
					dd_error("--missing-down must be error, warn or off: \"%s\"", optarg);
					return EXIT_USAGE;
				}
				rs->ro.missing_down = optarg;
				break;
			case 'h':
				replay_usage(stdout);
				*done = true;
				return EXIT_PASS;
			default:
				replay_usage(stderr);
				return EXIT_USAGE;
		}
	}
	if (*argc - optind != 1)
	{
		dd_error("replay needs one directory: drydock replay DIR [OPTION]... (see drydock replay --help)");
		return EXIT_USAGE;
	}
	rs->ro.dir = (*argv)[optind];
	/*
	 * A worker holds two connections at most (its own and psql's, or its
	 * own and the side connection), beside the main line's and a few spare.
	 */
	if (2 * rs->ro.jobs + 6 > SANDBOX_MAX_CONNECTIONS)
		rs->opt.max_connections = 2 * rs->ro.jobs + 6;
	cli_set_quiet(rs->opt.quiet);
	run_options_default_out(&rs->opt, "drydock-replay", rs->default_out, sizeof(rs->default_out));
	return 0;
}

/*
 * The history, as the tool would take it: --from/--to must name changes a
 * sqitch plan has, --strict refuses shared versions, --since marks what a
 * pull request changed.  0, or EXIT_USAGE (said).
 */
static int
load_replay_history(replay_state *rs)
{
	history    *h = &rs->h;
	const replay_options *ro = &rs->ro;
	char		err[1024];
	char	   *err_file = NULL;
	int			err_line = 0;
	json_t	   *files;

	if (!history_load(ro->dir, ro->layout, h, err, sizeof(err), &err_file, &err_line))
	{
		dd_error_at(err_file ? err_file : ro->dir, err_line, "%s", err);
		free(err_file);
		return EXIT_USAGE;
	}
	if ((ro->from && strcmp(h->layout, "sqitch") == 0 && position(h, ro->from) < 0) ||
		(ro->to && strcmp(h->layout, "sqitch") == 0 && position(h, ro->to) < 0))
	{
		dd_error("--from/--to names a change the plan does not have");
		return EXIT_USAGE;
	}
	for (size_t i = 0; ro->strict && i < h->n_irregular; i++)
		if (strcmp(h->irregular[i].kind, "shared_version") == 0)
		{
			dd_error_at(h->irregular[i].file, 0, "version %s is shared by several migrations (refused by --strict; without it they are applied in title order, each checked)",
						h->irregular[i].version);
			return EXIT_USAGE;
		}
	rs->last_changed = -1;
	if (!ro->since)
		return 0;
	if (!(files = since_changed_files(ro->dir, ro->since, err, sizeof(err))))
	{
		dd_error("%s: %s", ro->dir, err);
		return EXIT_USAGE;
	}
	rs->changed = xcalloc(h->n + 1, sizeof(bool));
	for (size_t i = 0; i < h->n; i++)
	{
		const migration_part *parts[] = {&h->items[i].up, &h->items[i].down, &h->items[i].verify};

		for (int k = 0; k < 3; k++)
		{
			const char *rel = parts[k]->path ? relative_to(parts[k]->path, ro->dir) : NULL;

			if (rel && json_object_get(files, rel))
				rs->changed[i] = true;
		}
		if (rs->changed[i])
			rs->last_changed = (int) i;
	}
	rs->since_files = files;
	return 0;
}

/* The report begins: the history's shape and its irregularities (also on stderr). */
static void
begin_replay_report(replay_state *rs)
{
	run_ctx    *ctx = &rs->ctx;
	history    *h = &rs->h;
	json_t	   *irr = json_array();
	char		prefix[512];

	rs->opt.ddl_path = rs->ro.dir;
	rs->opt.rollback_path = rs->ro.dir;
	run_ctx_init(ctx, &rs->opt);
	rs->ctx_made = true;
	snprintf(prefix, sizeof(prefix), "replay %s", rs->ro.dir);
	term_set_prefix(prefix, ctx->t0);
	json_object_set_new(ctx->report, "replay",
						json_pack("{s:s, s:s, s:I, s:s?, s:s?, s:b, s:s, s:b}", "directory", rs->ro.dir,
								  "layout", h->layout, "migrations", (json_int_t) h->n,
								  "from", rs->ro.from, "to", rs->ro.to, "keep_going", rs->ro.keep_going,
								  "missing_down", rs->ro.missing_down, "strict", rs->ro.strict));
	json_object_set_new(json_object_get(ctx->report, "replay"), "jobs", json_integer(rs->ro.jobs));
	for (size_t i = 0; i < h->n_irregular; i++)
	{
		history_irregularity *r = &h->irregular[i];

		json_array_append_new(irr, json_pack("{s:s, s:s, s:s, s:s?, s:s}", "kind", r->kind,
											 "version", r->version, "title", r->title,
											 "file", r->file, "message", r->message));
		/* a warning, not an error: shown even with --quiet */
		fprintf(stderr, "drydock: %s: warning: %s\n", r->file ? r->file : rs->ro.dir, r->message);
	}
	json_object_set_new(json_object_get(ctx->report, "replay"), "irregularities", irr);
}

/*
 * Every file, before any cluster exists: the policy (AO off by default in a
 * replay), the base, each part's preflight and inline suppressions.  0, or
 * an exit code (recorded).
 */
static int
preflight_history(replay_state *rs)
{
	run_ctx    *ctx = &rs->ctx;
	history    *h = &rs->h;
	int			rc;

	if ((rc = run_load_policy(ctx)) != 0 || (rc = prod_stats_load(ctx)) != 0)
		return rc;
	{
		/*
		 * A history's later migrations alter what earlier ones made: the
		 * additive-only family judges one migration on its way to
		 * production, not a replayed history.  Off unless the policy says.
		 */
		json_t	   *rules = json_object_get(ctx->policy, "rules");

		if (!rules)
			json_object_set_new(ctx->policy, "rules", rules = json_object());
		if (json_is_object(rules) && !json_object_get(rules, "AO"))
		{
			json_object_set_new(rules, "AO", json_string("off"));
			json_object_set_new(json_object_get(ctx->report, "replay"), "policy_note",
								json_string("the AO (additive only) family is off by default in a replay; set rules.AO in the policy to judge it"));
		}
	}
	if (!ctx->schema)
	{
		run_record_error(ctx, NULL, 0, "no target schema: pass --schema NAME or set \"schema\" in the policy");
		return EXIT_USAGE;
	}
	if (rs->opt.base_path)
	{
		/* as drydock run's: the same refusals, and its secrets redacted too */
		ctx->base.label = "base";
		ctx->base.path = rs->opt.base_path;
		if ((rc = run_preflight_artifact(ctx, &ctx->base, PREFLIGHT_BASE, NULL, 0)) != 0)
			return rc;
	}
	if ((rc = run_suppress_check_policy(ctx)) != 0)
		return rc;
	for (size_t i = 0; i < h->n && rc == 0; i++)
	{
		migration  *m = &h->items[i];
		artifact   *up = &rs->ups[i],
				   *down = &rs->downs[i];

		if (m->up_noop)
			noop_part(up, "up", &m->up);
		else if (m->up.text)
			rc = preflight_part(ctx, up, "up", &m->up, PREFLIGHT_DDL, m->in_transaction);
		if (rc == 0 && m->down.text && m->down_noop)
			noop_part(down, "down", &m->down);
		else if (rc == 0 && m->down.text)
			rc = preflight_part(ctx, down, "down", &m->down, PREFLIGHT_ROLLBACK, m->in_transaction);
		/* inline suppressions of the pair, judged like drydock run's */
		rs->inline_sup[i] = json_array();
		if (rc == 0 && m->up.text)
			rc = run_suppress_collect(ctx, up, false, rs->inline_sup[i]);
		if (rc == 0 && m->down.text)
			rc = run_suppress_collect(ctx, down, true, rs->inline_sup[i]);
		if (rc == 0 && m->verify.text)
			rc = preflight_part(ctx, &rs->verifies[i], "verify", &m->verify, PREFLIGHT_ROLLBACK, false);
		if (rc == 0 && up->pf.creates_target_schema && !ctx->ddl.pf.creates_target_schema)
		{
			/* the history creates its schema: no scaffold needed (N-4 says where) */
			ctx->ddl.pf.creates_target_schema = true;
			ctx->ddl.pf.target_schema_line = up->pf.target_schema_line;
			ctx->ddl.path = m->up.path;
		}
	}
	return rc;
}

/* Count a finished pair's verdict; false for a failed one. */
static bool
count_verdict(replay_state *rs, const char *v)
{
	if (strcmp(v, "exact") == 0)
		rs->n_exact++;
	else if (strcmp(v, "accepted") == 0)
		rs->n_accepted++;
	else if (strcmp(v, "not_inverse") == 0)
		rs->n_not++;
	else if (strcmp(v, "missing_down") == 0)
		rs->n_missing++;
	else if (strcmp(v, "failing_verify") == 0)
		rs->n_verify++;
	else
	{
		rs->n_failed++;
		return false;
	}
	return true;
}

/*
 * Parallel checks (--jobs).  A pair's check runs on its own copy of the
 * state before it, so once the copy exists the check is independent of the
 * main line, which goes on advancing the state.  Each check is a pair_job:
 * with --jobs 1 it runs here, in order; with more, in a forked worker (its
 * own connection to its own copy; psql is a child of the worker), which
 * writes what it produced (run_check) to a file in the run directory.  The
 * main line merges the results strictly in history order (merge_pair), so
 * rounds, the command log, counters, progress lines and the first error
 * are what --jobs 1 records.
 */
typedef struct pair_job
{
	size_t		i;				/* the migration */
	int			round;
	pid_t		pid;			/* the worker while it runs, else 0 */
	char	   *result_path;	/* the worker's result file */
	json_t	   *result;			/* run_check's, once known */
	json_t	   *pre;			/* commands: the copy's CREATE DATABASE */
	json_t	   *post;			/* commands: the state advanced by the up */
	bool		advanced;		/* the main line applied the up already */
	bool		advance_failed; /* ... and psql failed: ar says why */
	psql_apply_result ar;
} pair_job;

/* Pair round of migration i, as the report shows it before its check. */
static json_t *
new_pair(replay_state *rs, size_t i, int round)
{
	migration  *m = &rs->h.items[i];
	json_t	   *pair;
	json_t	   *notes;

	pair = json_pack("{s:i, s:s, s:s, s:s, s:s?, s:s, s:s?, s:b}", "round", round, "version", m->version,
					 "title", m->title, "up_sha256", rs->ups[i].pf.sha256,
					 "down_sha256", m->down.text ? rs->downs[i].pf.sha256 : NULL,
					 "up_path", m->up.path, "down_path", m->down.text ? m->down.path : NULL,
					 "in_transaction", m->in_transaction);
	notes = pair_notes(&rs->h, m);
	if (json_array_size(notes) > 0)
		json_object_set_new(pair, "notes", notes);
	else
		json_decref(notes);
	return pair;
}

/* Append commands to the log, numbered on from it. */
static void
append_commands(run_ctx *ctx, json_t *cmds)
{
	size_t		k;
	json_t	   *c;

	json_array_foreach(cmds, k, c)
	{
		json_object_set_new(c, "n", json_integer((json_int_t) json_array_size(ctx->commands) + 1));
		json_array_append(ctx->commands, c);
	}
}

/*
 * Check migration i's pair on its copy (made already).  Everything the
 * check added to ctx is taken back out into the result -- the pair, its
 * commands, the counts, the error, the first pgTAP script -- for
 * merge_pair to put back in order; ctx is left as before.
 */
static json_t *
run_check(replay_state *rs, size_t i, int round)
{
	run_ctx    *ctx = &rs->ctx;
	migration  *m = &rs->h.items[i];
	json_t	   *saved = ctx->commands;
	json_t	   *err0 = json_incref(json_object_get(ctx->report, "error"));
	json_t	   *err;
	int			f = ctx->n_fail,
				w = ctx->n_warn,
				s = ctx->n_suppressed;
	bool		had_pgtap = json_object_get(ctx->report, "pgtap_script") ||
		json_object_get(ctx->report, "pgtap_script_bytes");
	bool		up_failed = false;
	json_t	   *pair = new_pair(rs, i, round);
	json_t	   *res;
	int			rc;
	double		t = now_ms();

	ctx->commands = json_array();
	json_decref(ctx->suppress_inline);
	ctx->suppress_inline = json_incref(rs->inline_sup[i]);
	if (json_array_size(rs->inline_sup[i]) > 0)
		json_object_set(pair, "inline_suppressions", rs->inline_sup[i]);
	ctx->last_sqlstate[0] = '\0';
	rc = check_pair(ctx, &rs->ro, m, &rs->ups[i], m->down.text ? &rs->downs[i] : NULL,
					m->verify.text ? &rs->verifies[i] : NULL, pair, round, &up_failed);
	res = json_pack("{s:o, s:i, s:b, s:o, s:i, s:i, s:i, s:s}", "pair", pair, "rc", rc,
					"up_failed", up_failed, "commands", ctx->commands,
					"n_fail", ctx->n_fail - f, "n_warn", ctx->n_warn - w,
					"n_suppressed", ctx->n_suppressed - s, "sqlstate", ctx->last_sqlstate);
	json_object_set_new(res, "ms", json_real(now_ms() - t));
	ctx->commands = saved;
	ctx->n_fail = f;
	ctx->n_warn = w;
	ctx->n_suppressed = s;
	err = json_object_get(ctx->report, "error");
	if (err && err != err0)
		json_object_set(res, "error", err);
	if (err0)
		json_object_set_new(ctx->report, "error", err0);
	else
		json_object_del(ctx->report, "error");
	if (!had_pgtap)
	{
		const char *keys[] = {"pgtap_script", "pgtap_script_bytes"};

		for (int k = 0; k < 2; k++)
			if (json_object_get(ctx->report, keys[k]))
			{
				json_object_set(res, keys[k], json_object_get(ctx->report, keys[k]));
				json_object_del(ctx->report, keys[k]);
			}
	}
	return res;
}

/*
 * The worker: check the pair, write the result, leave.  Never tears down
 * (_exit: the main line's atexit teardown is not ours) and never uses the
 * main line's connection (PQfinish would end its session: it is dropped).
 */
static void
pair_worker(replay_state *rs, pair_job *j)
{
	run_ctx    *ctx = &rs->ctx;
	FILE	   *spool = ctx->pgtap_spool;
	json_t	   *res;
	int			ok;

	char	   *errpath = xasprintf("%s.err", j->result_path);

	signals_forward_to(0, false);	/* the main line stops the postmaster */
	ctx->conn = NULL;
	ctx->side = NULL;			/* the main line's, as conn */
	ctx->side_what = NULL;
	signals_cancel_side_on_signal(NULL);
	cli_set_quiet(true);		/* the main line prints the pair's line */
	/* what the check says on stderr, shown when it is merged: in order */
	if (!freopen(errpath, "w", stderr))
		_exit(1);
	setvbuf(stderr, NULL, _IONBF, 0);
	free(errpath);
	res = run_check(rs, j->i, j->round);
	run_side_close(ctx);
	if (ctx->conn)
		PQfinish(ctx->conn);	/* before the main line may drop the copy */
	if (ctx->pgtap_spool && ctx->pgtap_spool != spool)
	{
		/* a script too large to inline: its bytes beside the result */
		char	   *path = xasprintf("%s.pgtap", j->result_path);
		FILE	   *out = fopen(path, "w");
		char		buf[65536];
		size_t		n;

		rewind(ctx->pgtap_spool);
		while (out && (n = fread(buf, 1, sizeof(buf), ctx->pgtap_spool)) > 0)
			if (fwrite(buf, 1, n, out) != n)
				break;
		if (out && fclose(out) == 0)
			json_object_set_new(res, "pgtap_spool", json_string(path));
		free(path);
	}
	ok = json_dump_file(res, j->result_path, JSON_COMPACT);
	fflush(stderr);
	_exit(ok == 0 ? 0 : 1);
}

/* A worker ended: its result, or why there is none. */
static void
collect_worker(replay_state *rs, pair_job *j, int status)
{
	json_error_t jerr;

	j->pid = 0;
	rs->n_running--;
	j->result = json_load_file(j->result_path, 0, &jerr);
	unlink(j->result_path);
	if (!j->result)
	{
		char	   *msg = WIFSIGNALED(status) ?
			xasprintf("the worker checking pair %d was killed by signal %d", j->round, WTERMSIG(status)) :
			xasprintf("the worker checking pair %d left no result (exit %d)", j->round,
					  WIFEXITED(status) ? WEXITSTATUS(status) : -1);

		j->result = json_pack("{s:o, s:i, s:b, s:[], s:i, s:i, s:i, s:s, s:{s:s}}",
							  "pair", new_pair(rs, j->i, j->round), "rc", EXIT_INTERNAL, "up_failed", false,
							  "commands", "n_fail", 0, "n_warn", 0, "n_suppressed", 0, "sqlstate", "",
							  "error", "message", msg);
		free(msg);
	}
}

/*
 * Reap workers: every one that ended (block: until at least one did, or all
 * when all).  A signal stops every worker first.
 */
static void
reap_workers(replay_state *rs, bool all)
{
	bool		stopped = false;

	while (rs->n_running > 0)
	{
		int			reaped = 0;

		if (dd_got_signal && !stopped)
		{
			for (size_t k = rs->q_head; k < rs->q_tail; k++)
				if (rs->q[k].pid > 0)
					kill(rs->q[k].pid, SIGTERM);
			stopped = true;
		}
		for (size_t k = rs->q_head; k < rs->q_tail; k++)
		{
			int			status;

			if (rs->q[k].pid > 0 && waitpid(rs->q[k].pid, &status, WNOHANG) == rs->q[k].pid)
			{
				collect_worker(rs, &rs->q[k], status);
				reaped++;
			}
		}
		if (reaped > 0 && !all)
			return;
		if (rs->n_running > 0)
			nanosleep(&(struct timespec) {.tv_sec = 0,.tv_nsec = 5 * 1000 * 1000}, NULL);
	}
}


/*
 * Merge a checked pair into the report, in order, as --jobs 1 makes it:
 * the pair's round and line, its commands, counts and error; then the
 * state advances by its up.  0, REPLAY_SKIP_ADVANCE (the up failed, and
 * --keep-going), or an exit code that stops the replay.
 */
#define REPLAY_SKIP_ADVANCE (-1)

static int
merge_pair(replay_state *rs, pair_job *j)
{
	run_ctx    *ctx = &rs->ctx;
	migration  *m = &rs->h.items[j->i];
	json_t	   *res = j->result;
	json_t	   *pair = json_object_get(res, "pair");
	int			rc = (int) json_integer_value(json_object_get(res, "rc"));
	bool		up_failed = json_is_true(json_object_get(res, "up_failed"));
	double		ms = json_number_value(json_object_get(res, "ms"));
	const char *v;
	char		prefix[512];
	const char *keys[] = {"pgtap_script", "pgtap_script_bytes"};

	rs->why_unchecked[j->i] = NULL;
	rs->n_checked++;
	snprintf(prefix, sizeof(prefix), "[%d/%d] %s %s", rs->n_checked, rs->n_to_check, m->version, m->title);
	term_set_prefix(prefix, ctx->t0);
	json_array_append(json_object_get(ctx->report, "rounds"), pair);
	if (j->result_path)
	{
		/* the worker's error lines, where --jobs 1 would have said them */
		char	   *errpath = xasprintf("%s.err", j->result_path);
		FILE	   *f = fopen(errpath, "r");
		char		buf[4096];
		size_t		n;

		while (f && (n = fread(buf, 1, sizeof(buf), f)) > 0)
			if (fwrite(buf, 1, n, stderr) != n)
				break;
		if (f)
			fclose(f);
		unlink(errpath);
		free(errpath);
	}
	append_commands(ctx, j->pre);
	if ((json_object_get(res, keys[0]) || json_object_get(res, keys[1])) &&
		(json_object_get(ctx->report, keys[0]) || json_object_get(ctx->report, keys[1])))
	{
		/*
		 * A worker made the pgTAP script because no earlier pair had when
		 * it started; one had, so --jobs 1 would not have asked for it.
		 */
		json_t	   *cmds = json_object_get(res, "commands");

		for (size_t k = json_array_size(cmds); k-- > 0;)
			if (strncmp(json_string_value(json_object_get(json_array_get(cmds, k), "command")) ?: "",
						"SELECT drydock.pgtap_script(", 28) == 0)
				json_array_remove(cmds, k);
	}
	append_commands(ctx, json_object_get(res, "commands"));
	ctx->n_fail += (int) json_integer_value(json_object_get(res, "n_fail"));
	ctx->n_warn += (int) json_integer_value(json_object_get(res, "n_warn"));
	ctx->n_suppressed += (int) json_integer_value(json_object_get(res, "n_suppressed"));
	if (json_object_get(res, "error"))
		json_object_set(ctx->report, "error", json_object_get(res, "error"));
	if (*json_string_value(json_object_get(res, "sqlstate")))
		snprintf(ctx->last_sqlstate, sizeof(ctx->last_sqlstate), "%s",
				 json_string_value(json_object_get(res, "sqlstate")));
	if (!json_object_get(ctx->report, keys[0]) && !json_object_get(ctx->report, keys[1]))
	{
		const char *spool = json_string_value(json_object_get(res, "pgtap_spool"));

		for (int k = 0; k < 2; k++)
			if (json_object_get(res, keys[k]))
				json_object_set(ctx->report, keys[k], json_object_get(res, keys[k]));
		if (spool)
		{
			if (ctx->pgtap_spool)
				fclose(ctx->pgtap_spool);
			ctx->pgtap_spool = fopen(spool, "r");
		}
	}
	if (json_object_get(res, "pgtap_spool"))
		unlink(json_string_value(json_object_get(res, "pgtap_spool")));

	v = json_string_value(json_object_get(pair, "verdict")) ?: "stopped";
	if (rc != 0)
	{
		if (strcmp(v, "failed") == 0)
			rs->n_failed++;
		term_line("%s: %s%s%s (%.1f s)", prefix, term_colour(stderr, "fail"), v, term_reset(stderr), ms / 1000.0);
		return rc;
	}
	term_line("%s: %s%s%s (%.1f s)", prefix, term_colour(stderr, v), v, term_reset(stderr), ms / 1000.0);
	if (!count_verdict(rs, v) && rs->ro.keep_going)
		/* drop the copy the failure left behind */
		drop_pair_copy(ctx, j->round, true);
	if (up_failed)
	{
		/* the state cannot advance past an up that fails */
		if (j->advanced && !j->advance_failed && m->up.text && !m->up_noop)
		{
			run_record_error(ctx, m->up.path, 0, "the up applied to the state but failed on its copy: the replay cannot go on");
			return EXIT_INTERNAL;
		}
		return REPLAY_SKIP_ADVANCE;
	}
	if (!j->advanced)
		return advance_state(ctx, m->up_noop ? NULL : &rs->ups[j->i], pair);
	append_commands(ctx, j->post);
	if (j->advance_failed)
	{
		int			code = run_record_apply_failure(ctx, &rs->ups[j->i], &j->ar);

		json_object_set_new(pair, "verdict", json_string("failed"));
		return code;
	}
	return 0;
}

static void
pair_job_free(pair_job *j)
{
	if (j->result_path)
	{
		char	   *errpath = xasprintf("%s.err", j->result_path);

		unlink(errpath);
		free(errpath);
		unlink(j->result_path);
	}
	free(j->result_path);
	json_decref(j->result);
	json_decref(j->pre);
	json_decref(j->post);
	if (j->advanced)
		psql_apply_result_free(&j->ar);
	memset(j, 0, sizeof(*j));
}

/* A stop: the running workers are told to end, reaped, and their pairs dropped unmerged. */
static void
stop_workers(replay_state *rs)
{
	for (size_t k = rs->q_head; k < rs->q_tail; k++)
		if (rs->q[k].pid > 0)
			kill(rs->q[k].pid, SIGTERM);
	reap_workers(rs, true);
	while (rs->q_head < rs->q_tail)
		pair_job_free(&rs->q[rs->q_head++]);
}


/*
 * Merge every checked pair at the head of the queue.  After one that stops
 * the replay, the later ones are dropped unmerged (their workers stopped):
 * --jobs 1 would not have checked them.
 */
static int
merge_ready(replay_state *rs)
{
	int			rc = 0;

	while (rs->q_head < rs->q_tail && rs->q[rs->q_head].result)
	{
		pair_job   *j = &rs->q[rs->q_head++];

		rc = merge_pair(rs, j);
		pair_job_free(j);
		if (rc == REPLAY_SKIP_ADVANCE)
			rc = 0;
		if (rc != 0)
			break;
	}
	if (rc != 0 || dd_got_signal)
	{
		stop_workers(rs);
	}
	return rc;
}

/* Wait for every pair started, merging them: 0 or the first stop. */
static int
drain_pairs(replay_state *rs)
{
	int			rc = 0;

	while (rc == 0 && rs->q_head < rs->q_tail)
	{
		if ((rc = merge_ready(rs)) != 0)
			break;
		if (rs->q_head < rs->q_tail)
			reap_workers(rs, false);
	}
	if (rc == 0 && dd_got_signal)
		rc = 128 + dd_got_signal;
	return rc;
}

/*
 * Start checking migration i's pair: make its copy; with --jobs 1 check it
 * here, else advance the state by its up and hand the copy to a worker.
 * The state must stay what --jobs 1 makes of it: when the up fails, the
 * replay stops (the state no longer matters), or, with --keep-going, goes
 * on from the state without it -- which a failing up in one transaction
 * leaves as it was, but one outside a transaction may have half changed:
 * with --keep-going such an up is checked first, as --jobs 1 does.  0, or
 * an exit code that stops the replay.
 */
static int
start_pair(replay_state *rs, size_t i)
{
	run_ctx    *ctx = &rs->ctx;
	migration  *m = &rs->h.items[i];
	pair_job   *j;
	json_t	   *saved = ctx->commands;
	int			rc;
	bool		advance_now = m->up_noop || rs->ups[i].single_tx > 0 || !rs->ro.keep_going;

	while (rs->ro.jobs > 1 && rs->n_running >= rs->ro.jobs)
	{
		reap_workers(rs, false);
		if ((rc = merge_ready(rs)) != 0)
			return rc;
		if (dd_got_signal)
			return 128 + dd_got_signal;
	}
	if ((rc = merge_ready(rs)) != 0)
		return rc;
	j = &rs->q[rs->q_tail++];
	memset(j, 0, sizeof(*j));
	j->i = i;
	j->round = rs->n_checked + (int) (rs->q_tail - rs->q_head);
	j->pre = ctx->commands = json_array();
	rc = create_pair_copy(ctx, j->round);
	ctx->commands = saved;
	if (rc == 0 && rs->ro.jobs > 1 && advance_now)
	{
		/* the main line goes on: the state advances by the up now */
		j->advanced = true;
		j->post = ctx->commands = json_array();
		if (!m->up_noop && (rc = reconnect(ctx, STATE_DB)) == 0)
		{
			rc = run_apply_file(ctx, &rs->ups[i], run_apply_role(ctx), ctx->restrict_meta, "state", &j->ar);
			if (rc == 0)
				j->advance_failed = !j->ar.ok;
		}
		ctx->commands = saved;
		/* off the state before the next copy of it, and before the fork */
		if (rc == 0)
			rc = reconnect(ctx, "postgres");
	}
	if (rc != 0)
	{
		/* as check_pair's own stop: the pair without a verdict */
		json_t	   *err = json_object_get(ctx->report, "error");

		j->result = json_pack("{s:o, s:i, s:b, s:[], s:i, s:i, s:i, s:s}", "pair", new_pair(rs, i, j->round),
							  "rc", rc, "up_failed", false, "commands", "n_fail", 0, "n_warn", 0,
							  "n_suppressed", 0, "sqlstate", "");
		if (err)
			json_object_set(j->result, "error", err);
		return drain_pairs(rs) ?: rc;
	}
	if (rs->ro.jobs == 1)
	{
		j->result = run_check(rs, i, j->round);
		return merge_ready(rs);
	}
	j->result_path = xasprintf("%s/replay-pair-%d.json", ctx->sb.run_dir, j->round);
	fflush(NULL);
	j->pid = fork();
	if (j->pid < 0)
	{
		j->pid = 0;
		j->result = run_check(rs, i, j->round);	/* no worker: check it here */
	}
	else if (j->pid == 0)
		pair_worker(rs, j);
	else
		rs->n_running++;
	if (!advance_now)
		return drain_pairs(rs); /* merge_pair advances the state after it */
	return merge_ready(rs);
}

/*
 * The history in order on the state database: earlier (--from), unchanged
 * (--since) and later (--to) migrations are applied or left out, each
 * other pair is checked on a copy (start_pair), and the state advances by
 * its up.
 */
static int
replay_history(replay_state *rs)
{
	run_ctx    *ctx = &rs->ctx;
	history    *h = &rs->h;
	const replay_options *ro = &rs->ro;
	int			rc = 0;

	rs->q = xcalloc(h->n + 1, sizeof(pair_job));
	for (size_t i = 0; i < h->n; i++)
	{
		migration  *m = &h->items[i];

		if (dd_got_signal)
			break;
		if (after_to(h, i, ro->to))
		{
			for (size_t k = i; k < h->n; k++)
				rs->why_unchecked[k] = "after --to: not applied";
			break;
		}
		if (m->no_up)
		{
			rs->why_unchecked[i] = "not exercised: a down in SQL without an SQL up (its up is written in the host language, or lost); the down cannot be checked without the state the up makes";
			continue;
		}
		if (rs->changed && (int) i > rs->last_changed)
		{
			/* nothing later changed: no state to build for it */
			for (size_t k = i; k < h->n; k++)
				rs->why_unchecked[k] = "unchanged since --since, after the last changed migration: not applied";
			break;
		}
		if (before_from(h, i, ro->from) || (rs->changed && !rs->changed[i]))
		{
			/* in order: after the pairs started before it */
			if ((rc = drain_pairs(rs)) != 0)
				break;
			rs->why_unchecked[i] = before_from(h, i, ro->from) ? "before --from: applied unchecked" :
				"unchanged since --since: applied unchecked";
			if ((rc = advance_state(ctx, m->up_noop ? NULL : &rs->ups[i], NULL)) != 0)
				break;
			continue;
		}
		if (m->up_noop && (!m->down.text || m->down_noop))
		{
			/* a placeholder step: the tool runs nothing and records it */
			json_t	   *pair;
			char		prefix[512];

			if ((rc = drain_pairs(rs)) != 0)
				break;
			rs->why_unchecked[i] = NULL;
			snprintf(prefix, sizeof(prefix), "[%d/%d] %s %s", rs->n_checked + 1, rs->n_to_check, m->version, m->title);
			term_set_prefix(prefix, ctx->t0);
			pair = new_pair(rs, i, ++rs->n_checked);
			json_array_append_new(json_object_get(ctx->report, "rounds"), pair);
			json_object_set_new(pair, "verdict", json_string("exact"));
			json_object_set_new(pair, "noop", json_true());
			dd_progress("%s %s: exact (a no-op step)", m->version, m->title);
			rs->n_exact++;
			continue;
		}
		if ((rc = start_pair(rs, i)) != 0)
			break;
	}
	if (rc == 0)
		rc = drain_pairs(rs);
	else
	{
		/* stopped: what is still running is not merged */
		stop_workers(rs);
	}
	free(rs->q);
	rs->q = NULL;
	return rc;
}

/* The replay's summary, every migration checked or why not, and what --since chose. */
static void
record_replay_summary(replay_state *rs)
{
	json_t	   *rp = json_object_get(rs->ctx.report, "replay");
	history    *h = &rs->h;
	strbuf		sum;
	json_t	   *ne = json_array();
	json_t	   *all = json_array();

	sb_init(&sum);
	sb_printf(&sum, "%d pairs: %d exact, ", rs->n_checked, rs->n_exact);
	if (rs->n_accepted)
		sb_printf(&sum, "%d accepted, ", rs->n_accepted);
	sb_printf(&sum, "%d not inverse, %d missing down, ", rs->n_not, rs->n_missing);
	if (rs->n_verify)
		sb_printf(&sum, "%d failing verify, ", rs->n_verify);
	sb_printf(&sum, "%d failed", rs->n_failed);
	json_object_set_new(rp, "summary", json_string(sum.data));
	free(sum.data);

	for (size_t i = 0; i < h->n_not_exercised; i++)
		json_array_append_new(ne, json_string(h->not_exercised[i]));
	json_object_set_new(rp, "not_exercised", ne);

	/* every migration of the history, checked or why not */
	for (size_t i = 0; i < h->n; i++)
		json_array_append_new(all, json_pack("{s:s, s:s, s:b, s:s?}", "version", h->items[i].version,
											 "title", h->items[i].title, "checked", rs->why_unchecked[i] == NULL,
											 "why_not", rs->why_unchecked[i]));
	json_object_set_new(rp, "history", all);
	json_object_set_new(rp, "pairs", json_integer(rs->n_checked));

	if (rs->ro.since)
	{
		/* what the pull request touched: checked, and what was only applied */
		json_t	   *files = json_array();
		json_t	   *checked = json_array();
		json_t	   *applied = json_array();
		const char *name;
		json_t	   *v;

		json_object_foreach(rs->since_files, name, v)
			json_array_append_new(files, json_string(name));
		for (size_t i = 0; i < h->n; i++)
		{
			if (!rs->why_unchecked[i])
				json_array_append_new(checked, json_string(h->items[i].version));
			else if (strstr(rs->why_unchecked[i], "applied unchecked"))
				json_array_append_new(applied, json_string(h->items[i].version));
		}
		json_object_set_new(rp, "since",
							json_pack("{s:s, s:o, s:o, s:o}", "ref", rs->ro.since, "changed_files", files,
									  "checked", checked, "applied_only", applied));
	}
}

/* The exit code and status of a replay that ran, then run_finish(). */
static int
finish_replay(replay_state *rs, int rc)
{
	run_ctx    *ctx = &rs->ctx;

	if (dd_got_signal)
		return run_finish(ctx, 128 + dd_got_signal, "interrupted", "interrupted by a signal");
	if (rc == EXIT_SQL)
		return run_finish(ctx, rc, "sql_error", "a migration failed with an SQL error");
	if (rc != 0)
		return run_finish(ctx, rc, "failed", "the replay failed");
	if (rs->n_failed > 0)
		return run_finish(ctx, EXIT_SQL, "sql_error", "a migration failed with an SQL error (--keep-going)");
	rc = ctx->n_fail > 0 ? EXIT_FINDINGS : EXIT_PASS;
	return run_finish(ctx, rc, rc == 0 ? "pass" : "findings",
					  rc == 0 ? "every pair is an exact inverse" : "findings");
}

static void
replay_state_free(replay_state *rs)
{
	for (size_t i = 0; rs->ups && i < rs->h.n; i++)
	{
		preflight_result_free(&rs->ups[i].pf);
		preflight_result_free(&rs->downs[i].pf);
		preflight_result_free(&rs->verifies[i].pf);
		free(rs->ups[i].sandbox_copy);
		free(rs->downs[i].sandbox_copy);
		free(rs->verifies[i].sandbox_copy);
	}
	for (size_t i = 0; rs->inline_sup && i < rs->h.n; i++)
		json_decref(rs->inline_sup[i]);
	free(rs->inline_sup);
	free(rs->why_unchecked);
	free(rs->changed);
	json_decref(rs->since_files);
	free(rs->ups);
	free(rs->downs);
	free(rs->verifies);
	history_free(&rs->h);
}

int
cmd_replay(int argc, char **argv)
{
	replay_state rs;
	char		err[1024];
	bool		done;
	int			rc;

	memset(&rs, 0, sizeof(rs));
	if ((rc = parse_replay_options(&argc, &argv, &rs, &done)) != 0 || done)
		return rc;
	if ((rc = load_replay_history(&rs)) != 0)
	{
		history_free(&rs.h);
		free(rs.changed);
		json_decref(rs.since_files);
		free(rs.opt.prod_sysids);
		return rc;
	}
	begin_replay_report(&rs);
	if (!rs.opt.out_defaulted && !report_prepare_dir(rs.opt.out_dir, err, sizeof(err)))
	{
		dd_error("%s", err);
		replay_state_free(&rs);
		return run_exit(&rs.ctx, EXIT_USAGE);
	}

	/* every file, before any cluster exists */
	rs.why_unchecked = xcalloc(rs.h.n + 1, sizeof(char *));
	rs.inline_sup = xcalloc(rs.h.n + 1, sizeof(json_t *));
	for (size_t i = 0; i < rs.h.n; i++)
		rs.why_unchecked[i] = "not reached: the replay stopped before it";
	rs.ups = xcalloc(rs.h.n + 1, sizeof(artifact));
	rs.downs = xcalloc(rs.h.n + 1, sizeof(artifact));
	rs.verifies = xcalloc(rs.h.n + 1, sizeof(artifact));
	if ((rc = preflight_history(&rs)) != 0)
		rc = run_finish(&rs.ctx, rc, rc == EXIT_USAGE ? "refused" : "internal_error",
						"refused before any cluster existed: nothing was executed");
	else
	{
		run_command(&rs.ctx, "preflight", "lex and check every migration file (no cluster exists yet)", "ok", 0);
		for (size_t i = 0; i < rs.h.n; i++)
			if (!before_from(&rs.h, i, rs.ro.from) && !after_to(&rs.h, i, rs.ro.to) && (!rs.changed || rs.changed[i]))
				rs.n_to_check++;
		dd_progress("preflight: %zu migrations (%s) checked", rs.h.n, rs.h.layout);

		if ((rc = run_start_sandbox(&rs.ctx)) != 0)
			rc = run_finish(&rs.ctx, rc, "isolation_failed", "the sandbox failed or isolation could not be proven: nothing was applied");
		else if ((rc = run_prepare_database(&rs.ctx)) != 0 ||
		/* the LS rules judge what the base has, not what earlier pairs created */
				 (rc = exec_sql(&rs.ctx, "SELECT drydock.capture_base_save()")) != 0)
			rc = run_finish(&rs.ctx, rc, rc == EXIT_USAGE ? "bad_input" : "sandbox_failed", "the state database could not be prepared");
		else if (rs.h.bookkeeping && (rc = create_bookkeeping(&rs.ctx, &rs.h)) != 0)
			rc = run_finish(&rs.ctx, rc, "sandbox_failed", "the migration tool's bookkeeping could not be created");
		else
		{
			rc = replay_history(&rs);
			record_replay_summary(&rs);
			rc = finish_replay(&rs, rc);
		}
	}
	replay_state_free(&rs);
	return run_exit(&rs.ctx, rc);
}

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
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
#include "suppress.h"
#include "term.h"
#include "util.h"

#define STATE_DB "drydock_replay_state"
#define PAIR_DB "drydock_replay_pair"

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
		int			code = ar.interrupted ? 128 + dd_got_signal : EXIT_SQL;

		if (!ar.interrupted)
		{
			char	   *msg = run_apply_error_message(ctx, up, &ar);

			run_record_error(ctx, up->path, ar.error_line, msg);
			free(msg);
		}
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
rows_fail(json_t *rows, const char *except)
{
	size_t		i;
	json_t	   *r;

	json_array_foreach(rows, i, r)
		if (strcmp(json_string_value(json_object_get(r, "status")) ?: "", "fail") == 0 &&
			(!except || strcmp(json_string_value(json_object_get(r, "code")) ?: "", except) != 0))
		return true;
	return false;
}

/*
 * Check one pair on a copy of the state.  Returns 0 (the verdict is in
 * pair), or an exit code when the replay must stop.
 */
static int
check_pair(run_ctx *ctx, const replay_options *ro, const migration *m, artifact *up, artifact *down,
		   artifact *verify, json_t *pair)
{
	int			rc;
	char	   *q;
	json_t	   *rp = json_array();
	const char *verdict;
	char		object[256];

	snprintf(object, sizeof(object), "%s %s", m->version, m->title);
	json_object_set_new(pair, "replay_findings", rp);
	if ((rc = reconnect(ctx, "postgres")) != 0)
		return rc;
	{
		char	   *owner = PQescapeIdentifier(ctx->conn, run_apply_role(ctx), strlen(run_apply_role(ctx)));

		q = xasprintf("CREATE DATABASE " PAIR_DB " TEMPLATE " STATE_DB " OWNER %s%s", owner,
					  ctx->pg.major >= 15 ? " STRATEGY FILE_COPY" : "");
		PQfreemem(owner);
	}
	rc = exec_sql(ctx, q);
	free(q);
	if (rc != 0)
		return rc;
	if ((rc = reconnect(ctx, PAIR_DB)) != 0 ||
		(rc = exec_sql(ctx, "SELECT drydock.capture_reset()")) != 0 ||
		(rc = exec_sql(ctx, "SELECT drydock.baseline_drop(label) FROM drydock.baseline")) != 0 ||
		(rc = exec_sql(ctx, "SELECT drydock.baseline_save('pre-apply')")) != 0)
		return rc;

	rc = m->up_noop ? 0 : run_apply_phase(ctx, up, "apply", pair);
	if (rc == EXIT_SQL)
	{
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
		if (rows_fail(json_object_get(pair, "rollback_verification"), "RB003"))
			verdict = "not_inverse";
		else if (all_accepted)
			verdict = "accepted";	/* not exact, every difference accepted with a reason */
		else if (json_array_size(residue) > 0)
			verdict = "not_inverse";
		else
			verdict = "exact";
		if (m->down_noop && strcmp(verdict, "not_inverse") == 0)
		{
			/* a placeholder down ("nothing to undo") after an up that did something */
			add_finding(ctx, rp, "RP001", object, ro->missing_down,
						"the down is a placeholder (empty or only comments): the change cannot be rolled back by the tool");
			verdict = "missing_down";
		}
	}
	if (strcmp(verdict, "exact") == 0 && rows_fail(rp, NULL))
		verdict = "failing_verify";
	json_object_set_new(pair, "verdict", json_string(verdict));
	if ((rc = reconnect(ctx, "postgres")) != 0)
		return rc;
	return exec_sql(ctx, "DROP DATABASE " PAIR_DB);
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
	if (rc == 0)
		rc = exec_sql(ctx, "RESET ROLE");
	if (rc == 0)
		json_array_append_new(json_object_get(ctx->report, "scaffolds"),
							  json_sprintf("%s created as \"%s\" before the first migration, as the tool's runner does (in every pair's baseline, so in no verdict)",
										   h->bookkeeping_what, run_apply_role(ctx)));
	return rc;
}

int
cmd_replay(int argc, char **argv)
{
	enum
	{
		OPT_LAYOUT = OPT_COMMON_END, OPT_FROM, OPT_TO, OPT_KEEP_GOING, OPT_MISSING_DOWN, OPT_STRICT,
		OPT_SINCE
	};
	static const struct option long_options[] = {
		{"layout", required_argument, NULL, OPT_LAYOUT},
		{"from", required_argument, NULL, OPT_FROM},
		{"to", required_argument, NULL, OPT_TO},
		{"keep-going", no_argument, NULL, OPT_KEEP_GOING},
		{"missing-down", required_argument, NULL, OPT_MISSING_DOWN},
		{"strict", no_argument, NULL, OPT_STRICT},
		{"since", required_argument, NULL, OPT_SINCE},
		RUN_COMMON_LONG_OPTIONS
	};
	run_options opt;
	replay_options ro;
	run_ctx		ctx;
	history		h;
	artifact   *ups,
			   *downs,
			   *verifies;
	int			c;
	int			rc = 0;
	char		default_out[64];
	char		err[1024];
	char	   *err_file = NULL;
	int			err_line = 0;
	const char **why_unchecked;	/* per migration: NULL when checked */
	json_t	  **inline_sup;		/* per migration: its -- drydock: directives */
	int			n_accepted = 0;
	int			n_to_check = 0; /* pairs inside --from/--to (and --since) */
	bool	   *changed = NULL; /* --since: per migration, a file of it changed */
	int			last_changed = -1;
	json_t	   *since_files = NULL;
	double		t_pair = 0;
	int			n_exact = 0,
				n_not = 0,
				n_failed = 0,
				n_missing = 0,
				n_verify = 0,
				n_checked = 0;

	run_options_defaults(&opt);
	memset(&ro, 0, sizeof(ro));
	opt.database = STATE_DB;
	ro.missing_down = "error";
	{
		static const char *const run_only[] = {"database", "rounds", "single-transaction", "keep", NULL};

		if (run_options_config(&argc, &argv, long_options, RUN_COMMON_SHORT_OPTIONS, run_only, &opt) != 0)
			return EXIT_USAGE;
	}
	optind = 0;					/* glibc: reinitialise after the config's pass */
	while ((c = getopt_long(argc, argv, RUN_COMMON_SHORT_OPTIONS, long_options, NULL)) != -1)
	{
		int			common = run_common_option(c, optarg, &opt);

		if (common < 0)
			return EXIT_USAGE;
		if (common > 0)
			continue;
		switch (c)
		{
			case OPT_LAYOUT:
				ro.layout = optarg;
				break;
			case OPT_FROM:
				ro.from = optarg;
				break;
			case OPT_TO:
				ro.to = optarg;
				break;
			case OPT_KEEP_GOING:
				ro.keep_going = true;
				break;
			case OPT_STRICT:
				ro.strict = true;
				break;
			case OPT_SINCE:
				ro.since = optarg;
				break;
			case OPT_MISSING_DOWN:
				if (strcmp(optarg, "error") && strcmp(optarg, "warn") && strcmp(optarg, "off"))
				{
					dd_error("--missing-down must be error, warn or off: \"%s\"", optarg);
					return EXIT_USAGE;
				}
				ro.missing_down = optarg;
				break;
			case 'h':
				replay_usage(stdout);
				return EXIT_PASS;
			default:
				replay_usage(stderr);
				return EXIT_USAGE;
		}
	}
	if (argc - optind != 1)
	{
		dd_error("replay needs one directory: drydock replay DIR [OPTION]... (see drydock replay --help)");
		return EXIT_USAGE;
	}
	ro.dir = argv[optind];
	cli_set_quiet(opt.quiet);
	run_options_default_out(&opt, "drydock-replay", default_out, sizeof(default_out));
	if (!history_load(ro.dir, ro.layout, &h, err, sizeof(err), &err_file, &err_line))
	{
		dd_error_at(err_file ? err_file : ro.dir, err_line, "%s", err);
		free(err_file);
		history_free(&h);
		free(opt.prod_sysids);
		return EXIT_USAGE;
	}
	if ((ro.from && strcmp(h.layout, "sqitch") == 0 && position(&h, ro.from) < 0) ||
		(ro.to && strcmp(h.layout, "sqitch") == 0 && position(&h, ro.to) < 0))
	{
		dd_error("--from/--to names a change the plan does not have");
		history_free(&h);
		free(opt.prod_sysids);
		return EXIT_USAGE;
	}
	for (size_t i = 0; ro.strict && i < h.n_irregular; i++)
		if (strcmp(h.irregular[i].kind, "shared_version") == 0)
		{
			dd_error_at(h.irregular[i].file, 0, "version %s is shared by several migrations (refused by --strict; without it they are applied in title order, each checked)",
						h.irregular[i].version);
			history_free(&h);
			free(opt.prod_sysids);
			return EXIT_USAGE;
		}
	if (ro.since)
	{
		json_t	   *files = since_changed_files(ro.dir, ro.since, err, sizeof(err));

		if (!files)
		{
			dd_error("%s: %s", ro.dir, err);
			history_free(&h);
			free(opt.prod_sysids);
			return EXIT_USAGE;
		}
		changed = xcalloc(h.n + 1, sizeof(bool));
		for (size_t i = 0; i < h.n; i++)
		{
			const migration_part *parts[] = {&h.items[i].up, &h.items[i].down, &h.items[i].verify};

			for (int k = 0; k < 3; k++)
			{
				const char *rel = parts[k]->path ? relative_to(parts[k]->path, ro.dir) : NULL;

				if (rel && json_object_get(files, rel))
					changed[i] = true;
			}
			if (changed[i])
				last_changed = (int) i;
		}
		since_files = files;
	}
	opt.ddl_path = ro.dir;
	opt.rollback_path = ro.dir;
	run_ctx_init(&ctx, &opt);
	{
		char		prefix[512];

		snprintf(prefix, sizeof(prefix), "replay %s", ro.dir);
		term_set_prefix(prefix, ctx.t0);
	}
	json_object_set_new(ctx.report, "replay",
						json_pack("{s:s, s:s, s:I, s:s?, s:s?, s:b, s:s, s:b}", "directory", ro.dir,
								  "layout", h.layout, "migrations", (json_int_t) h.n,
								  "from", ro.from, "to", ro.to, "keep_going", ro.keep_going,
								  "missing_down", ro.missing_down, "strict", ro.strict));
	{
		json_t	   *irr = json_array();

		for (size_t i = 0; i < h.n_irregular; i++)
		{
			history_irregularity *r = &h.irregular[i];

			json_array_append_new(irr, json_pack("{s:s, s:s, s:s, s:s?, s:s}", "kind", r->kind,
												 "version", r->version, "title", r->title,
												 "file", r->file, "message", r->message));
			/* a warning, not an error: shown even with --quiet */
			fprintf(stderr, "drydock: %s: warning: %s\n", r->file ? r->file : ro.dir, r->message);
		}
		json_object_set_new(json_object_get(ctx.report, "replay"), "irregularities", irr);
	}
	if (!opt.out_defaulted && !report_prepare_dir(opt.out_dir, err, sizeof(err)))
	{
		dd_error("%s", err);
		history_free(&h);
		free(changed);
		json_decref(since_files);
		return run_exit(&ctx, EXIT_USAGE);
	}

	/* every file, before any cluster exists */
	why_unchecked = xcalloc(h.n + 1, sizeof(char *));
	inline_sup = xcalloc(h.n + 1, sizeof(json_t *));
	for (size_t i = 0; i < h.n; i++)
		why_unchecked[i] = "not reached: the replay stopped before it";
	ups = xcalloc(h.n, sizeof(artifact));
	downs = xcalloc(h.n, sizeof(artifact));
	verifies = xcalloc(h.n, sizeof(artifact));
	rc = run_load_policy(&ctx);
	if (rc == 0)
		rc = prod_stats_load(&ctx);
	if (rc == 0)
	{
		/*
		 * A history's later migrations alter what earlier ones made: the
		 * additive-only family judges one migration on its way to
		 * production, not a replayed history.  Off unless the policy says.
		 */
		json_t	   *rules = json_object_get(ctx.policy, "rules");

		if (!rules)
			json_object_set_new(ctx.policy, "rules", rules = json_object());
		if (json_is_object(rules) && !json_object_get(rules, "AO"))
		{
			json_object_set_new(rules, "AO", json_string("off"));
			json_object_set_new(json_object_get(ctx.report, "replay"), "policy_note",
								json_string("the AO (additive only) family is off by default in a replay; set rules.AO in the policy to judge it"));
		}
	}
	if (rc == 0 && !ctx.schema)
	{
		run_record_error(&ctx, NULL, 0, "no target schema: pass --schema NAME or set \"schema\" in the policy");
		rc = EXIT_USAGE;
	}
	if (rc == 0 && opt.base_path)
	{
		/* as drydock run's: the same refusals, and its secrets redacted too */
		ctx.base.label = "base";
		ctx.base.path = opt.base_path;
		rc = run_preflight_artifact(&ctx, &ctx.base, PREFLIGHT_BASE, NULL, 0);
	}
	if (rc == 0 && suppress_check_policy(ctx.policy, err, sizeof(err)) != 0)
	{
		run_record_error(&ctx, opt.policy_path, 0, err);
		rc = EXIT_USAGE;
	}
	for (size_t i = 0; i < h.n && rc == 0; i++)
	{
		migration  *m = &h.items[i];
		unsigned	line = 0;

		if (m->up_noop)
			noop_part(&ups[i], "up", &m->up);
		else if (m->up.text)
			rc = preflight_part(&ctx, &ups[i], "up", &m->up, PREFLIGHT_DDL, m->in_transaction);
		if (rc == 0 && m->down.text && m->down_noop)
			noop_part(&downs[i], "down", &m->down);
		else if (rc == 0 && m->down.text)
			rc = preflight_part(&ctx, &downs[i], "down", &m->down, PREFLIGHT_ROLLBACK, m->in_transaction);
		/* inline suppressions of the pair, judged like drydock run's */
		inline_sup[i] = json_array();
		if (rc == 0 && m->up.text &&
			suppress_parse_artifact(&ups[i].pf, m->up.path, false, ctx.schema,
									json_object_get(ctx.policy, "allow_suppress"), inline_sup[i],
									&line, err, sizeof(err)) != 0)
		{
			run_record_error(&ctx, m->up.path, (int) line, err);
			rc = EXIT_USAGE;
		}
		if (rc == 0 && m->down.text &&
			suppress_parse_artifact(&downs[i].pf, m->down.path, true, ctx.schema,
									json_object_get(ctx.policy, "allow_suppress"), inline_sup[i],
									&line, err, sizeof(err)) != 0)
		{
			run_record_error(&ctx, m->down.path, (int) line, err);
			rc = EXIT_USAGE;
		}
		if (rc == 0 && m->verify.text)
			rc = preflight_part(&ctx, &verifies[i], "verify", &m->verify, PREFLIGHT_ROLLBACK, false);
		if (rc == 0 && ups[i].pf.creates_target_schema && !ctx.ddl.pf.creates_target_schema)
		{
			/* the history creates its schema: no scaffold needed (N-4 says where) */
			ctx.ddl.pf.creates_target_schema = true;
			ctx.ddl.pf.target_schema_line = ups[i].pf.target_schema_line;
			ctx.ddl.path = m->up.path;
		}
	}
	if (rc != 0)
	{
		rc = run_finish(&ctx, rc, rc == EXIT_USAGE ? "refused" : "internal_error",
						"refused before any cluster existed: nothing was executed");
		goto out;
	}
	run_command(&ctx, "preflight", "lex and check every migration file (no cluster exists yet)", "ok", 0);
	for (size_t i = 0; i < h.n; i++)
		if (!before_from(&h, i, ro.from) && !after_to(&h, i, ro.to) && (!changed || changed[i]))
			n_to_check++;
	dd_progress("preflight: %zu migrations (%s) checked", h.n, h.layout);

	if ((rc = run_start_sandbox(&ctx)) != 0)
	{
		rc = run_finish(&ctx, rc, "isolation_failed", "the sandbox failed or isolation could not be proven: nothing was applied");
		goto out;
	}
	if ((rc = run_prepare_database(&ctx)) != 0)
	{
		rc = run_finish(&ctx, rc, rc == EXIT_USAGE ? "bad_input" : "sandbox_failed", "the state database could not be prepared");
		goto out;
	}
	if (h.bookkeeping && (rc = create_bookkeeping(&ctx, &h)) != 0)
	{
		rc = run_finish(&ctx, rc, "sandbox_failed", "the migration tool's bookkeeping could not be created");
		goto out;
	}
	for (size_t i = 0; i < h.n; i++)
	{
		migration  *m = &h.items[i];
		json_t	   *pair;

		if (dd_got_signal)
			break;
		if (after_to(&h, i, ro.to))
		{
			for (size_t k = i; k < h.n; k++)
				why_unchecked[k] = "after --to: not applied";
			break;
		}
		if (m->no_up)
		{
			why_unchecked[i] = "not exercised: a down in SQL without an SQL up (its up is written in the host language, or lost); the down cannot be checked without the state the up makes";
			continue;
		}
		if (changed && (int) i > last_changed)
		{
			/* nothing later changed: no state to build for it */
			for (size_t k = i; k < h.n; k++)
				why_unchecked[k] = "unchanged since --since, after the last changed migration: not applied";
			break;
		}
		if (before_from(&h, i, ro.from) || (changed && !changed[i]))
		{
			why_unchecked[i] = before_from(&h, i, ro.from) ? "before --from: applied unchecked" :
				"unchanged since --since: applied unchecked";
			if ((rc = advance_state(&ctx, m->up_noop ? NULL : &ups[i], NULL)) != 0)
				break;
			continue;
		}
		why_unchecked[i] = NULL;
		{
			char		prefix[512];

			snprintf(prefix, sizeof(prefix), "[%d/%d] %s %s", n_checked + 1, n_to_check, m->version, m->title);
			term_set_prefix(prefix, ctx.t0);
			t_pair = now_ms();
		}
		pair = json_pack("{s:i, s:s, s:s, s:s, s:s?, s:s, s:s?, s:b}", "round", ++n_checked, "version", m->version,
						 "title", m->title, "up_sha256", ups[i].pf.sha256,
						 "down_sha256", m->down.text ? downs[i].pf.sha256 : NULL,
						 "up_path", m->up.path, "down_path", m->down.text ? m->down.path : NULL,
						 "in_transaction", m->in_transaction);
		json_array_append_new(json_object_get(ctx.report, "rounds"), pair);
		{
			json_t	   *notes = pair_notes(&h, m);

			if (json_array_size(notes) > 0)
				json_object_set_new(pair, "notes", notes);
			else
				json_decref(notes);
		}
		if (m->up_noop && (!m->down.text || m->down_noop))
		{
			/* a placeholder step: the tool runs nothing and records it */
			json_object_set_new(pair, "verdict", json_string("exact"));
			json_object_set_new(pair, "noop", json_true());
			dd_progress("%s %s: exact (a no-op step)", m->version, m->title);
			n_exact++;
			continue;
		}
		json_decref(ctx.suppress_inline);
		ctx.suppress_inline = json_incref(inline_sup[i]);
		if (json_array_size(inline_sup[i]) > 0)
			json_object_set(pair, "inline_suppressions", inline_sup[i]);
		rc = check_pair(&ctx, &ro, m, &ups[i], m->down.text ? &downs[i] : NULL,
						m->verify.text ? &verifies[i] : NULL, pair);
		if (rc != 0)
		{
			const char *v = json_string_value(json_object_get(pair, "verdict")) ?: "stopped";

			if (strcmp(v, "failed") == 0)
				n_failed++;
			term_line("[%d/%d] %s %s: %s%s%s (%.1f s)", n_checked, n_to_check, m->version, m->title,
					  term_colour(stderr, "fail"), v, term_reset(stderr), (now_ms() - t_pair) / 1000.0);
			break;
		}
		{
			const char *v = json_string_value(json_object_get(pair, "verdict"));

			term_line("[%d/%d] %s %s: %s%s%s (%.1f s)", n_checked, n_to_check, m->version, m->title,
					  term_colour(stderr, v), v, term_reset(stderr), (now_ms() - t_pair) / 1000.0);
			if (strcmp(v, "exact") == 0)
				n_exact++;
			else if (strcmp(v, "accepted") == 0)
				n_accepted++;
			else if (strcmp(v, "not_inverse") == 0)
				n_not++;
			else if (strcmp(v, "missing_down") == 0)
				n_missing++;
			else if (strcmp(v, "failing_verify") == 0)
				n_verify++;
			else
			{
				n_failed++;
				/* the state cannot advance past an up that fails */
				if (ro.keep_going)
				{
					/* drop the copy the failure left behind */
					reconnect(&ctx, "postgres");
					exec_sql(&ctx, "DROP DATABASE IF EXISTS " PAIR_DB);
					continue;
				}
			}
		}
		if ((rc = advance_state(&ctx, m->up_noop ? NULL : &ups[i], pair)) != 0)
			break;
	}
	{
		strbuf		sum;
		char	   *summary;

		sb_init(&sum);
		sb_printf(&sum, "%d pairs: %d exact, ", n_checked, n_exact);
		if (n_accepted)
			sb_printf(&sum, "%d accepted, ", n_accepted);
		sb_printf(&sum, "%d not inverse, %d missing down, ", n_not, n_missing);
		if (n_verify)
			sb_printf(&sum, "%d failing verify, ", n_verify);
		sb_printf(&sum, "%d failed", n_failed);
		summary = sum.data;
		json_object_set_new(json_object_get(ctx.report, "replay"), "summary", json_string(summary));
		{
			json_t	   *ne = json_array();

			for (size_t i = 0; i < h.n_not_exercised; i++)
				json_array_append_new(ne, json_string(h.not_exercised[i]));
			json_object_set_new(json_object_get(ctx.report, "replay"), "not_exercised", ne);
		}
		{
			/* every migration of the history, checked or why not */
			json_t	   *all = json_array();

			for (size_t i = 0; i < h.n; i++)
				json_array_append_new(all, json_pack("{s:s, s:s, s:b, s:s?}", "version", h.items[i].version,
													 "title", h.items[i].title, "checked", why_unchecked[i] == NULL,
													 "why_not", why_unchecked[i]));
			json_object_set_new(json_object_get(ctx.report, "replay"), "history", all);
			json_object_set_new(json_object_get(ctx.report, "replay"), "pairs", json_integer(n_checked));
		}
		if (ro.since)
		{
			/* what the pull request touched: checked, and what was only applied */
			json_t	   *files = json_array();
			json_t	   *checked = json_array();
			json_t	   *applied = json_array();
			const char *name;
			json_t	   *v;

			json_object_foreach(since_files, name, v)
				json_array_append_new(files, json_string(name));
			for (size_t i = 0; i < h.n; i++)
			{
				if (!why_unchecked[i])
					json_array_append_new(checked, json_string(h.items[i].version));
				else if (strstr(why_unchecked[i], "applied unchecked"))
					json_array_append_new(applied, json_string(h.items[i].version));
			}
			json_object_set_new(json_object_get(ctx.report, "replay"), "since",
								json_pack("{s:s, s:o, s:o, s:o}", "ref", ro.since, "changed_files", files,
										  "checked", checked, "applied_only", applied));
		}
		free(summary);
	}
	if (dd_got_signal)
		rc = run_finish(&ctx, 128 + dd_got_signal, "interrupted", "interrupted by a signal");
	else if (rc == EXIT_SQL)
		rc = run_finish(&ctx, rc, "sql_error", "a migration failed with an SQL error");
	else if (rc != 0)
		rc = run_finish(&ctx, rc, "failed", "the replay failed");
	else if (n_failed > 0)
		rc = run_finish(&ctx, EXIT_SQL, "sql_error", "a migration failed with an SQL error (--keep-going)");
	else
	{
		rc = ctx.n_fail > 0 ? EXIT_FINDINGS : EXIT_PASS;
		rc = run_finish(&ctx, rc, rc == 0 ? "pass" : "findings",
						rc == 0 ? "every pair is an exact inverse" : "findings");
	}
out:
	for (size_t i = 0; i < h.n; i++)
	{
		preflight_result_free(&ups[i].pf);
		preflight_result_free(&downs[i].pf);
		preflight_result_free(&verifies[i].pf);
		free(ups[i].sandbox_copy);
		free(downs[i].sandbox_copy);
		free(verifies[i].sandbox_copy);
	}
	for (size_t i = 0; i < h.n; i++)
		json_decref(inline_sup[i]);
	free(inline_sup);
	free(why_unchecked);
	free(changed);
	json_decref(since_files);
	free(ups);
	free(downs);
	free(verifies);
	history_free(&h);
	return run_exit(&ctx, rc);
}

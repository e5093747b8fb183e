/*
 * run_pipeline.c
 *		The steps of a dry-run, in order: preflight every artifact (no cluster
 *		yet), start the sandbox and prove its isolation, prepare the
 *		throwaway database (roles, extension, base, scaffold, baseline), then
 *		per round: capture + apply, verify, capture + rollback, re-check.
 *
 * Every step records what it did and saw in ctx->report; run_finish() tears
 * down and writes the report whatever happened before.
 */
#include "run.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base_roles.h"
#include "isolation.h"
#include "prod_stats.h"
#include "psql_apply.h"
#include "redact.h"
#include "report.h"
#include "sha256.h"
#include "signals.h"
#include "run_suppress.h"
#include "template.h"
#include "util.h"

#define BASELINE_LABEL "pre-apply"

static char *
quote_ident(run_ctx *ctx, const char *name)
{
	char	   *q = PQescapeIdentifier(ctx->conn, name, strlen(name));
	char	   *r = xstrdup(q ? q : "\"?\"");

	PQfreemem(q);
	return r;
}

/* ---------- preflight ---------- */

static json_t *
artifact_json(const artifact *a)
{
	json_t	   *findings = json_array();
	json_t	   *tags = json_object();
	json_t	   *o;

	for (size_t i = 0; i < a->pf.n_findings; i++)
	{
		const preflight_finding *f = &a->pf.findings[i];

		json_array_append_new(findings, json_pack("{s:i, s:s, s:s, s:s}", "line", (int) f->line,
												  "kind", preflight_severity_name(f->kind),
												  "code", f->code, "message", f->message));
	}
	for (size_t i = 0; i < a->pf.n_statements; i++)
	{
		json_t	   *c = json_object_get(tags, a->pf.statements[i].tag);

		if (c)
			json_integer_set(c, json_integer_value(c) + 1);
		else
			json_object_set_new(tags, a->pf.statements[i].tag, json_integer(1));
	}
	o = json_pack("{s:s, s:s, s:I, s:i, s:I, s:o, s:b, s:b, s:b, s:o, s:I}",
				  "path", a->path, "sha256", a->pf.sha256, "size", (json_int_t) a->pf.size,
				  "lines", (int) a->pf.lines, "statements", (json_int_t) a->pf.n_statements,
				  "statement_tags", tags, "has_transaction_control", a->pf.has_transaction_control,
				  "has_bom", a->pf.has_bom, "has_crlf", a->pf.has_crlf, "findings", findings,
				  "secrets_redacted", (json_int_t) a->pf.n_secrets);
	if (a->pf.creates_target_schema)
		json_object_set_new(o, "creates_target_schema_line", json_integer(a->pf.target_schema_line));
	return o;
}

/*
 * Preflight one artifact: the file a->path, or buf when given (the sections
 * of a one-file migration layout).  Keeps the checked bytes, records a
 * refusal in the report with its line and code, and collects the secrets to
 * redact.  Returns 0, EXIT_USAGE (refused) or EXIT_INTERNAL.
 */
int
run_preflight_artifact(run_ctx *ctx, artifact *a, preflight_role role, const char *buf, size_t len)
{
	preflight_options po;
	int			rc;

	preflight_options_init(&po, role);
	po.target_schema = ctx->schema;
	po.allow_meta = ctx->opt->allow_meta;
	po.keep_data = true;
	rc = buf ? preflight_check_buffer(a->path, buf, len, &po, &a->pf) : preflight_check(a->path, &po, &a->pf);
	if (rc == PREFLIGHT_ERROR)
	{
		run_record_error(ctx, a->path, 0, a->pf.error[0] ? a->pf.error : "internal error in preflight");
		return EXIT_INTERNAL;
	}
	if (rc == PREFLIGHT_REFUSED)
	{
		/* pf.error is "NAME:LINE: message" already; the report gets its parts */
		json_t	   *e = json_pack("{s:s, s:s}", "file", a->path, "message", a->pf.error);

		for (size_t i = 0; i < a->pf.n_findings; i++)
		{
			const preflight_finding *f = &a->pf.findings[i];

			if (f->kind != PREFLIGHT_REFUSE)
				continue;
			json_object_set_new(e, "message", json_string(f->message));
			json_object_set_new(e, "code", json_string(f->code));
			if (f->line > 0)
				json_object_set_new(e, "line", json_integer(f->line));
			break;
		}
		json_object_set_new(ctx->report, "error", e);
		dd_error("%s", a->pf.error);
		return EXIT_USAGE;
	}
	if (buf && !a->pf.data)
	{
		/* a buffer's bytes are not kept by the preflight: keep a copy */
		a->pf.data = xstrndup_n(buf, len);
		a->pf.data_len = len;
	}
	for (size_t i = 0; i < a->pf.n_secrets; i++)
	{
		ctx->secrets = xrealloc(ctx->secrets, (ctx->n_secrets + 1) * sizeof(char *));
		ctx->secrets[ctx->n_secrets++] = xstrdup(a->pf.secrets[i]);
	}
	return 0;
}

static int
preflight_one(run_ctx *ctx, artifact *a, const char *label, const char *path, preflight_role role)
{
	int			rc;

	a->label = label;
	a->path = path;
	rc = run_preflight_artifact(ctx, a, role, NULL, 0);
	if (rc != EXIT_INTERNAL)
		json_object_set_new(json_object_get(ctx->report, "artifacts"), label, artifact_json(a));
	return rc;
}

int
run_load_policy(run_ctx *ctx)
{
	json_error_t jerr;
	const char *path = ctx->opt->policy_path;
	json_t	   *schema;

	memset(&jerr, 0, sizeof(jerr));
	if (!path && ctx->opt->policy_inline)
	{
		/* drydock.json's "policy" object: checked as a policy file would be */
		path = ctx->opt->config_path;
		ctx->policy = json_deep_copy(ctx->opt->policy_inline);
	}
	else if (!path)
	{
		ctx->policy = json_object();
		return 0;
	}
	else
		ctx->policy = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (!ctx->policy)
	{
		char		msg[300];

		snprintf(msg, sizeof(msg), "invalid policy JSON: %s", jerr.text);
		run_record_error(ctx, path, jerr.line > 0 ? jerr.line : 0, msg);
		return EXIT_USAGE;
	}
	if (!json_is_object(ctx->policy))
	{
		run_record_error(ctx, path, 1, "a policy must be a JSON object");
		return EXIT_USAGE;
	}
	schema = json_object_get(ctx->policy, "schema");
	if (schema && !json_is_string(schema))
	{
		run_record_error(ctx, path, 0, "policy key \"schema\" must be a string");
		return EXIT_USAGE;
	}
	if (!ctx->schema && schema)
		ctx->schema = xstrdup(json_string_value(schema));
	return 0;
}

int
run_preflight(run_ctx *ctx)
{
	int			rc;
	double		t = now_ms();

	if ((rc = run_load_policy(ctx)) != 0 || (rc = prod_stats_load(ctx)) != 0)
		return rc;
	if (!ctx->schema)
	{
		run_record_error(ctx, NULL, 0, "no target schema: pass --schema NAME or set \"schema\" in the policy");
		return EXIT_USAGE;
	}
	json_object_set_new(ctx->report, "target_schema", json_string(ctx->schema));
	if ((rc = preflight_one(ctx, &ctx->ddl, "ddl", ctx->opt->ddl_path, PREFLIGHT_DDL)) != 0 ||
		(rc = preflight_one(ctx, &ctx->rollback, "rollback", ctx->opt->rollback_path, PREFLIGHT_ROLLBACK)) != 0)
		return rc;
	if (ctx->opt->base_path &&
		(rc = preflight_one(ctx, &ctx->base, "base", ctx->opt->base_path, PREFLIGHT_BASE)) != 0)
		return rc;
	/* -- drydock: directives and the policy's suppress keys (no cluster yet) */
	if ((rc = suppress_prepare(ctx)) != 0)
		return rc;
	run_command(ctx, "preflight", "lex and check every artifact (no cluster exists yet)", "ok", now_ms() - t);
	dd_progress("preflight: %zu + %zu statements checked in %.0f ms",
				ctx->ddl.pf.n_statements, ctx->rollback.pf.n_statements, now_ms() - t);
	return 0;
}

/* ---------- sandbox and isolation ---------- */

/*
 * The run's part of the base cache key (sandbox.c adds the server binary and
 * version, the locale and the cluster user): everything else that changes
 * what preparing the base produces: the base's bytes, the extension's
 * version and install script (unreleased versions change under one name),
 * the psql that restores it, the database name and the apply-role options.
 * --synthetic-rows is keyed too, though the rows come after the cached
 * point.  A run without --base prepares an empty base (the apply role, the
 * database, the extension): cached the same way, as base "none", it saves
 * every later run those statements and the baseline's first catalog
 * query.  NULL: --fresh (which bypasses every cache), or a base whose bytes
 * were not read.
 */
static char *
base_cache_material(run_ctx *ctx)
{
	const char *argv[] = {ctx->pg.pg_config, "--sharedir", NULL};
	char	  **env;
	proc_result res;
	char		err[256];
	char	   *control = NULL;
	char	   *script_sha = NULL;
	char	   *material;

	if (ctx->opt->fresh || (ctx->opt->base_path && !ctx->base.pf.sha256[0]))
		return NULL;
	env = child_env_new(NULL);
	if (proc_run(&(proc_spec)
				 {
				 .argv = argv,.envp = env,.timeout_ms = 30000
				 }, &res, err, sizeof(err)))
	{
		if (res.exit_code == 0 && res.out)
		{
			char	   *dir = xstrdup(res.out);
			char	   *path;
			char	   *ver;

			dir[strcspn(dir, "\n")] = '\0';
			path = xasprintf("%s/extension/drydock.control", dir);
			control = read_small_file(path, NULL);
			free(path);
			ver = control ? strstr(control, "default_version") : NULL;
			if (ver && (ver = strchr(ver, '\'')))
			{
				char		hex[65];
				size_t		n = strcspn(ver + 1, "'");
				char	   *v = xstrndup_n(ver + 1, n);

				path = xasprintf("%s/extension/drydock--%s.sql", dir, v);
				if (sha256_file_hex(path, hex, err, sizeof(err)) == 0)
					script_sha = xstrdup(hex);
				free(path);
				free(v);
			}
			free(dir);
		}
		proc_result_free(&res);
	}
	child_env_free(env);
	if (!control || !script_sha)
	{
		/* the extension cannot be identified: no cache rather than a wrong one */
		free(control);
		free(script_sha);
		return NULL;
	}
	material = xasprintf("drydock-basecache-1\nbase=%s\ncontrol=%s\nscript=%s\npsql=%s\ndb=%s\n"
						 "apply_role=%s\nsuperuser=%d\nsynthetic_rows=%d\n",
						 ctx->opt->base_path ? ctx->base.pf.sha256 : "none", control, script_sha,
						 ctx->pg.psql, ctx->dbname,
						 ctx->opt->apply_role ? ctx->opt->apply_role : "", (int) ctx->opt->apply_as_superuser,
						 ctx->opt->synthetic_rows);
	free(control);
	free(script_sha);
	return material;
}

int
run_start_sandbox(run_ctx *ctx)
{
	char		err[1024];
	int			rc;
	json_t	   *env = json_object_get(ctx->report, "environment");
	json_t	   *iso;
	json_t	   *facts = json_array();
	char		reason[512];
	bool		proven;
	char		sysid[32];
	double		t = now_ms();
	char	   *base_material;

	if (!pg_install_select(ctx->opt->pg_config, ctx->opt->pg_major, ctx->opt->prod_version,
						   &ctx->pg, err, sizeof(err)))
	{
		run_record_error(ctx, NULL, 0, err);
		json_decref(facts);
		return EXIT_SANDBOX;
	}
	ctx->pg_found = true;
	ctx->restrict_meta = !ctx->opt->allow_meta && psql_has_restrict(ctx->pg.psql);
	json_object_set_new(env, "pg_config", json_string(ctx->pg.pg_config));
	json_object_set_new(env, "psql_restricted_mode", json_boolean(ctx->restrict_meta));

	ctx->sb_made = true;
	base_material = base_cache_material(ctx);
	rc = sandbox_create(&ctx->sb, &(sandbox_options)
						{
						.pg = &ctx->pg,.run_as = ctx->opt->run_as,.keep = ctx->opt->keep,.fresh = ctx->opt->fresh,
						.base_cache_material = base_material,.max_connections = ctx->opt->max_connections,
						.require_containment = ctx->opt->apply_as_superuser && !ctx->opt->allow_weak_containment
						}, err, sizeof(err));
	free(base_material);
	json_object_set_new(env, "kind", json_string("isolated ephemeral local cluster (socket-only, throwaway)"));
	json_object_set_new(env, "cluster_origin", json_string(ctx->sb.origin ? ctx->sb.origin : "none"));
	if (ctx->sb.template_path)
		json_object_set_new(env, "template", json_pack("{s:s, s:b, s:f, s:s}",
													   "created_at", ctx->sb.template_created_at,
													   "built_by_this_run", ctx->sb.template_built_now,
													   "clone_ms", ctx->sb.ms_clone,
													   "note", "a clone shares the template's system identifier; every run from this template has the same one"));
	json_object_set_new(env, "run_directory_base", json_string(ctx->sb.base ? ctx->sb.base : ""));
	json_object_set_new(env, "run_as_user", json_string(ctx->sb.user.name ? ctx->sb.user.name : "?"));
	if (ctx->sb.run_dir)
		json_object_set_new(env, "socket_directory", json_sprintf("%s/drydock-XXXXXX (private, mode 0700; removed)",
																  ctx->sb.base));
	if (ctx->sb.base_fell_back)
		json_object_set_new(env, "tmpdir_fallback", json_string("$TMPDIR too long for a unix socket path; used /tmp"));
	if (ctx->sb.template_path)
	{
		char	   *c = xasprintf("copy TEMPLATE/data to RUN/data (two threads; template made %s%s)",
								  ctx->sb.template_created_at, ctx->sb.template_built_now ? " by this run" : "");

		run_command(ctx, "clone", c, "ok", ctx->sb.ms_clone);
		free(c);
	}
	if (ctx->sb.base_cloned)
	{
		char	   *c = xasprintf("copy BASECACHE/data to RUN/data (two threads, instead of %s as cached at %s)",
									  ctx->opt->base_path ?
									  "restoring the base: roles, restore, materialized views, extension, apply role and grants" :
									  "preparing the database without --base: apply role, database and extension",
									  ctx->sb.base_created_at);

		run_command(ctx, "clone", c, "ok", ctx->sb.ms_clone);
		free(c);
	}
	if (ctx->sb.initdb.ran)
	{
		/* the command list must say what initdb did, not that it took time */
		char	   *result = ctx->sb.initdb.exit_code == 0 ? xstrdup("ok")
			: ctx->sb.initdb.exit_code < 0 ? xstrdup("failed (could not start)")
			: xasprintf("failed (exit %d)", ctx->sb.initdb.exit_code);

		run_command(ctx, "initdb", "initdb -U " SANDBOX_ADMIN_ROLE " -A trust -E UTF8 --no-sync (then pg_hba.conf: local lines only)",
					result, ctx->sb.initdb.ms);
		free(result);
	}
	if (rc != 0)
	{
		run_record_error(ctx, NULL, 0, err);
		json_decref(facts);
		return rc;
	}
	lifecycle_event(ctx, "created");
	run_command(ctx, "postgres", "postgres -D DATA (child of drydock, PR_SET_PDEATHSIG=SIGQUIT, listen_addresses='')",
				"accepting connections", ctx->sb.ms_start);
	json_object_set_new(env, "port", json_integer(ctx->sb.port));
	json_object_set_new(env, "network_namespace", json_boolean(ctx->sb.netns_active));
	{
		const contain_state *cs = &ctx->sb.contain;
		json_t	   *attempts = json_array();

		for (int i = 0; i < cs->n_attempts; i++)
			json_array_append_new(attempts, json_pack("{s:s, s:b, s:s}", "tried", cs->attempts[i].what,
													  "ok", cs->attempts[i].ok, "result", cs->attempts[i].result));
		json_object_set_new(env, "containment",
							json_pack("{s:s, s:s, s:b, s:b, s:s, s:o}",
									  "level", contain_level_name(cs->level),
									  "namespaces", cs->namespaces,
									  "user_namespace", cs->user_ns,
									  "private_proc", cs->private_proc,
									  "filesystem_view", cs->level == CONTAIN_FULL ?
									  cs->visible : "the host's (no view of its own)",
									  "attempts", attempts));
	}
	json_object_set_new(env, "admin_role", json_string(SANDBOX_ADMIN_ROLE " (trust over the unix socket, no password)"));
	json_object_set_new(env, "initdb_ms", json_real(ctx->sb.initdb.ms));
	json_object_set_new(env, "start_ms", json_real(ctx->sb.ms_start));
	json_object_set_new(env, "max_connections", json_integer(ctx->sb.max_connections));

	ctx->conn = sandbox_connect(&ctx->sb, "postgres", err, sizeof(err));
	if (!ctx->conn)
	{
		run_record_error(ctx, NULL, 0, err);
		json_decref(facts);
		return EXIT_SANDBOX;
	}
	signals_cancel_on_signal(PQgetCancel(ctx->conn));
	snprintf(sysid, sizeof(sysid), "%llu", (unsigned long long) ctx->sb.system_identifier);
	t = now_ms();
	json_object_set_new(env, "server_version", json_string(ctx->sb.server_version));
	json_object_set_new(env, "server_major", json_integer(ctx->pg.major));
	json_object_set_new(env, "system_identifier", json_string(sysid));

	proven = isolation_prove(&ctx->sb, ctx->conn, ctx->opt->prod_sysids, ctx->opt->n_prod_sysids,
							 facts, reason, sizeof(reason));
	iso = json_pack("{s:b, s:o}", "proven", proven, "facts", facts);
	json_object_set_new(ctx->report, "isolation", iso);
	run_command(ctx, "isolation", "prove isolation (listen_addresses, TCP probes, /proc/net/tcp, pg_hba, sysid)",
				proven ? "proven" : reason, now_ms() - t);
	if (!proven)
	{
		char		msg[600];

		snprintf(msg, sizeof(msg), "isolation could not be proven, nothing was applied: %s", reason);
		run_record_error(ctx, NULL, 0, msg);
		return EXIT_SANDBOX;
	}
	dd_progress("sandbox: cluster ready (initdb %.0f ms, start %.0f ms), isolation proven in %.0f ms",
				ctx->sb.initdb.ms, ctx->sb.ms_start, now_ms() - t);
	return 0;
}

/* ---------- the throwaway database ---------- */

static int
copy_into_sandbox(run_ctx *ctx, artifact *a)
{
	char	   *dir = xasprintf("%s/artifacts", ctx->sb.run_dir);
	const char *slash = strrchr(a->path, '/');
	const char *base;
	char	   *copy;
	char	   *tmp;
	int			fd;
	bool		ok;

	mkdir(dir, 0700);
	if (ctx->sb.user.switch_user && chown(dir, ctx->sb.user.uid, ctx->sb.user.gid) != 0)
	{
		free(dir);
		return -1;
	}
	/*
	 * A name of its own: a history's files may share their name (diesel's
	 * and the directory layouts' up.sql), and with replay --jobs the main
	 * line writes the next up while a worker's psql reads its own.  The name
	 * holds the bytes' sha256, so it is the same from run to run (psql's
	 * messages quote it) and one name always has the same bytes; they are
	 * written to a temporary file renamed into place, so a psql reading the
	 * name never sees a file being rewritten.
	 */
	base = slash ? slash + 1 : a->path;
	copy = a->pf.sha256[0] ? xasprintf("%s/%s-%.12s-%s", dir, a->label, a->pf.sha256, base)
		: xasprintf("%s/%s-%s", dir, a->label, base);
	tmp = xasprintf("%s/.%s-XXXXXX", dir, a->label);
	free(dir);
	if ((fd = mkstemp(tmp)) < 0)
	{
		free(tmp);
		free(copy);
		return -1;
	}
	/* the bytes the preflight checked, not a re-read of a file that may change */
	ok = write_all(fd, a->pf.data, a->pf.data_len) &&
		!(ctx->sb.user.switch_user && fchown(fd, ctx->sb.user.uid, ctx->sb.user.gid) != 0);
	if (close(fd) != 0 || !ok || rename(tmp, copy) != 0)
	{
		unlink(tmp);
		free(tmp);
		free(copy);
		return -1;
	}
	free(tmp);
	a->sandbox_copy = copy;
	return 0;
}

/*
 * Apply an artifact with psql, from the sandbox's copy of the bytes the
 * preflight checked, as role; psql's messages are placed at the lines of the
 * user's file (its statements as preflight split them), the command logged.
 * Returns 0 when psql ran (res->ok says whether the artifact succeeded), or
 * an exit code when it could not be run at all.
 */
int
run_apply_file(run_ctx *ctx, artifact *a, const char *role, bool restrict_meta, const char *what,
		   psql_apply_result *res)
{
	char		err[512];
	char	   *cmd;
	bool		single_tx = a->single_tx > 0 ||
		(a->single_tx == 0 && ctx->opt->single_transaction && strcmp(a->label, "base") != 0);

	if (!a->sandbox_copy && copy_into_sandbox(ctx, a) != 0)
	{
		run_record_error(ctx, a->path, 0, "cannot copy the artifact into the sandbox");
		return EXIT_SANDBOX;
	}
	if (!psql_apply(&(psql_apply_spec)
					{
					.sb = &ctx->sb,.dbname = ctx->dbname,.role = role,.file = a->sandbox_copy,
					.display_name = a->path,.single_transaction = single_tx,
					.restrict_meta = restrict_meta,.timeout_ms = ctx->opt->timeout_s * 1000,
					.secrets = ctx->secrets,.n_secrets = ctx->n_secrets,
					.statements = a->pf.statements,.n_statements = a->pf.n_statements,
					.data = a->pf.data,.data_len = a->pf.data_len
					}, res, err, sizeof(err)))
	{
		run_record_error(ctx, a->path, 0, err);
		return EXIT_SANDBOX;
	}
	cmd = xasprintf("psql -X -w -v ON_ERROR_STOP=1%s%s -f %s  (as %s)",
					single_tx ? " -1" : "",
					restrict_meta ? " -c '\\restrict KEY'" : "", a->path, role);
	run_command(ctx, what, cmd, res->ok ? "rc 0" : (res->error_message ? res->error_message : "failed"), res->ms);
	free(cmd);
	return 0;
}

/* The one-line error for a failed artifact: the message, then where in the statement. */
static char *
apply_error_message(const psql_apply_result *ar, const char *prefix)
{
	strbuf		sb;

	sb_init(&sb);
	sb_printf(&sb, "%s%s", prefix ? prefix : "", ar->error_message ? ar->error_message : "failed");
	if (ar->error_statement)
	{
		sb_printf(&sb, " (statement %d", ar->error_statement);
		if (ar->error_at_line && ar->error_at_line != ar->error_line)
			sb_printf(&sb, "; the server points at line %d", ar->error_at_line);
		sb_append(&sb, ")");
	}
	return sb.data;
}

/*
 * A dump made with --no-owner restores everything as the restoring user, the
 * sandbox superuser, which the non-superuser apply role could then not
 * alter.  Give such objects (schemas, relations, routines, types outside the
 * system schemas and drydock's) to the apply role.  Returns how many, or -1.
 */
static int
give_unowned_base_objects(run_ctx *ctx, const char *role)
{
	static const char *query =
		"WITH me AS (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = current_user),"
		" ns AS (SELECT n.oid, n.nspname, n.nspowner FROM pg_catalog.pg_namespace n"
		"         WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'drydock')"
		"           AND n.nspname NOT LIKE 'pg\\_%'),"
		" ext AS (SELECT classid, objid FROM pg_catalog.pg_depend WHERE deptype = 'e')"
		" SELECT format('ALTER SCHEMA %I OWNER TO %I', ns.nspname, $1::text) FROM ns, me"
		"  WHERE ns.nspowner = me.oid AND ns.nspname <> 'public'"
		" UNION ALL"
		" SELECT format('ALTER TABLE %I.%I OWNER TO %I', ns.nspname, c.relname, $1::text)"
		"   FROM pg_catalog.pg_class c JOIN ns ON ns.oid = c.relnamespace, me"
		"  WHERE c.relowner = me.oid AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')"
		"    AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_catalog.pg_class'::regclass AND ext.objid = c.oid)"
		"    AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid = 'pg_catalog.pg_class'::regclass"
		"                    AND d.objid = c.oid AND d.deptype IN ('a', 'i') AND c.relkind = 'S')"
		" UNION ALL"
		" SELECT format('ALTER ROUTINE %I.%I(%s) OWNER TO %I', ns.nspname, p.proname,"
		"               pg_catalog.pg_get_function_identity_arguments(p.oid), $1::text)"
		"   FROM pg_catalog.pg_proc p JOIN ns ON ns.oid = p.pronamespace, me"
		"  WHERE p.proowner = me.oid AND p.prokind IN ('f', 'p')"
		"    AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_catalog.pg_proc'::regclass AND ext.objid = p.oid)"
		" UNION ALL"
		" SELECT format('ALTER %s %I.%I OWNER TO %I', CASE t.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END,"
		"               ns.nspname, t.typname, $1::text)"
		"   FROM pg_catalog.pg_type t JOIN ns ON ns.oid = t.typnamespace, me"
		"  WHERE t.typowner = me.oid AND t.typtype IN ('e', 'd', 'r', 'm')"
		"    AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_catalog.pg_type'::regclass AND ext.objid = t.oid)";
	const char *params[1] = {role};
	char		err[1024];
	PGresult   *res = run_sql(ctx, "list the base objects owned by the restoring superuser", query, 1, params,
						  err, sizeof(err));
	int			n;

	if (!res)
	{
		run_record_error(ctx, NULL, 0, err);
		return -1;
	}
	n = PQntuples(res);
	for (int i = 0; i < n; i++)
	{
		PGresult   *r = run_sql(ctx, NULL, PQgetvalue(res, i, 0), 0, NULL, err, sizeof(err));

		if (!r)
		{
			run_record_error(ctx, NULL, 0, err);
			PQclear(res);
			return -1;
		}
		PQclear(r);
	}
	PQclear(res);
	return n;
}

/*
 * The one-line error for an artifact that failed as the apply role.  A
 * "permission denied" or "must be superuser" is a privilege the
 * non-superuser apply role lacks: say which statement needs it, and that
 * --apply-as-superuser exists (production's migration role may be one).
 */
static char *
run_apply_error_message(run_ctx *ctx, const artifact *a, const psql_apply_result *ar)
{
	char	   *msg = apply_error_message(ar, NULL);
	const char *e = ar->error_message ? ar->error_message : "";
	strbuf		sb;

	if (ctx->opt->apply_as_superuser ||
		(!strstr(e, "permission denied") && !strstr(e, "must be superuser")))
		return msg;
	sb_init(&sb);
	sb_append(&sb, msg);
	free(msg);
	sb_append(&sb, "; the statement");
	if (ar->error_statement > 0 && (size_t) ar->error_statement <= a->pf.n_statements)
		sb_printf(&sb, " (%s at line %u)", a->pf.statements[ar->error_statement - 1].tag,
				  a->pf.statements[ar->error_statement - 1].first_line);
	sb_printf(&sb, " needs a privilege the apply role \"%s\" (not a superuser) lacks; if production runs it as a superuser, --apply-as-superuser runs the artifacts as the sandbox superuser (recorded in the report)",
			  run_apply_role(ctx));
	return sb.data;
}

int
run_record_apply_failure(run_ctx *ctx, const artifact *a, const psql_apply_result *ar)
{
	char	   *msg;

	if (ar->interrupted)
		return 128 + dd_got_signal;
	msg = run_apply_error_message(ctx, a, ar);
	run_record_error(ctx, a->path, ar->error_line, msg);
	free(msg);
	return EXIT_SQL;
}

const char *
run_apply_role(run_ctx *ctx)
{
	if (ctx->opt->apply_as_superuser)
		return SANDBOX_ADMIN_ROLE;
	if (ctx->apply_role)
		return ctx->apply_role;
	return ctx->opt->apply_role ? ctx->opt->apply_role : DEFAULT_APPLY_ROLE;
}

/*
 * The role production's migrations run as, read from the restored base: the
 * owner of the target schema when the dump creates that schema, else the
 * role owning most objects in it.  Superusers (a --no-owner dump leaves
 * everything to the restoring one) and ties give NULL: the default role.
 * why gets the reason either way.
 */
static char *
base_owner_role(run_ctx *ctx, bool schema_from_base, char *why, size_t whylen)
{
	static const char *schema_owner =
		"SELECT r.rolname FROM pg_catalog.pg_namespace n JOIN pg_catalog.pg_roles r ON r.oid = n.nspowner"
		" WHERE n.nspname = $1 AND NOT r.rolsuper";
	/* relations (an owned sequence goes with its table), routines, types */
	static const char *most_objects =
		"WITH s AS (SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = $1),"
		" ext AS (SELECT classid, objid FROM pg_catalog.pg_depend WHERE deptype = 'e'),"
		" o AS (SELECT c.relowner AS owner FROM pg_catalog.pg_class c, s"
		"        WHERE c.relnamespace = s.oid AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')"
		"          AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_catalog.pg_class'::regclass AND ext.objid = c.oid)"
		"       UNION ALL"
		"       SELECT p.proowner FROM pg_catalog.pg_proc p, s WHERE p.pronamespace = s.oid"
		"          AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_catalog.pg_proc'::regclass AND ext.objid = p.oid)"
		"       UNION ALL"
		"       SELECT t.typowner FROM pg_catalog.pg_type t, s WHERE t.typnamespace = s.oid AND t.typtype IN ('e', 'd', 'r', 'm')"
		"          AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_catalog.pg_type'::regclass AND ext.objid = t.oid))"
		" SELECT r.rolname, count(*) AS n FROM o JOIN pg_catalog.pg_roles r ON r.oid = o.owner"
		"  WHERE NOT r.rolsuper GROUP BY r.rolname ORDER BY 2 DESC, 1 LIMIT 2";
	const char *params[1] = {ctx->schema};
	char		err[1024];
	PGresult   *res;
	char	   *chosen = NULL;

	if (schema_from_base)
	{
		res = run_sql(ctx, "find the owner of the target schema the base creates", schema_owner, 1, params,
				  err, sizeof(err));
		if (res && PQntuples(res) == 1)
		{
			chosen = xstrdup(PQgetvalue(res, 0, 0));
			snprintf(why, whylen, "it owns schema \"%s\", which the base creates", ctx->schema);
		}
		if (res)
			PQclear(res);
		if (chosen)
			return chosen;
	}
	res = run_sql(ctx, "count the owners of the base's objects in the target schema", most_objects, 1, params,
			  err, sizeof(err));
	if (!res)
		snprintf(why, whylen, "the default: the owners of the base's objects could not be read (%.200s)", err);
	else if (PQntuples(res) == 0)
		snprintf(why, whylen, "the default: the base names no owner of schema \"%s\" or of its objects (a --no-owner dump, or nothing there)",
				 ctx->schema);
	else if (PQntuples(res) == 2 && strcmp(PQgetvalue(res, 0, 1), PQgetvalue(res, 1, 1)) == 0)
		snprintf(why, whylen, "the default: \"%s\" and \"%s\" own as many objects in schema \"%s\" (%s each)",
				 PQgetvalue(res, 0, 0), PQgetvalue(res, 1, 0), ctx->schema, PQgetvalue(res, 0, 1));
	else
	{
		chosen = xstrdup(PQgetvalue(res, 0, 0));
		snprintf(why, whylen, "it owns most objects in schema \"%s\" (%s)", ctx->schema, PQgetvalue(res, 0, 1));
	}
	if (res)
		PQclear(res);
	return chosen;
}

/*
 * The apply role can log in, and is no superuser: created when missing, else
 * (a role the base names, created NOLOGIN) given LOGIN.  0 or exit code.
 */
static int
ensure_apply_role(run_ctx *ctx, const char *role, const char *role_ident, bool from_base)
{
	json_t	   *scaffolds = json_object_get(ctx->report, "scaffolds");
	const char *params[1] = {role};
	char		err[1024];
	PGresult   *res;
	char	   *q;

	res = run_sql(ctx, NULL, "SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = $1", 1, params, err, sizeof(err));
	if (res && PQntuples(res) == 0)
	{
		PQclear(res);
		q = xasprintf("CREATE ROLE %s LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE", role_ident);
		res = run_sql(ctx, NULL, q, 0, NULL, err, sizeof(err));
		free(q);
		if (res)
			json_array_append_new(scaffolds, json_sprintf("apply role \"%s\" created (LOGIN, not superuser): the artifacts run as it, as a production migration role would", role));
	}
	else if (res)
	{
		/* a role the base names: it must be able to log in here */
		PQclear(res);
		q = xasprintf("ALTER ROLE %s LOGIN NOSUPERUSER", role_ident);
		res = run_sql(ctx, NULL, q, 0, NULL, err, sizeof(err));
		free(q);
		if (res && !from_base)
			json_array_append_new(scaffolds, json_sprintf("apply role \"%s\" given LOGIN in the sandbox", role));
	}
	if (!res)
	{
		run_record_error(ctx, NULL, 0, err);
		return EXIT_SANDBOX;
	}
	PQclear(res);
	return 0;
}

/*
 * A schema-only dump leaves materialized views unpopulated (WITH NO DATA);
 * production's are populated, and a down that re-creates one makes it
 * populated.  Refresh them as pg_restore does after a data restore, in
 * creation order (a view over another comes after it), a few passes for
 * what depends on a later one.  Returns how many were refreshed, -1 on an
 * SQL error of the catalog query; the ones that cannot be refreshed are
 * listed in failed.
 */
static int
refresh_matviews(run_ctx *ctx, strbuf *failed)
{
	static const char *query =
		"SELECT format('REFRESH MATERIALIZED VIEW %I.%I', n.nspname, c.relname), format('%I.%I', n.nspname, c.relname)"
		"  FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
		" WHERE c.relkind = 'm' AND NOT c.relispopulated ORDER BY c.oid";
	char		err[1024];
	int			done = 0;

	for (int pass = 0; pass < 5; pass++)
	{
		PGresult   *res = run_sql(ctx, "list the materialized views the base left unpopulated", query, 0, NULL,
							  err, sizeof(err));
		int			before = done;
		int			n;

		if (!res)
		{
			run_record_error(ctx, NULL, 0, err);
			return -1;
		}
		n = PQntuples(res);
		for (int i = 0; i < n; i++)
		{
			PGresult   *r = run_sql(ctx, NULL, PQgetvalue(res, i, 0), 0, NULL, err, sizeof(err));

			if (r)
			{
				PQclear(r);
				done++;
			}
			else if (pass == 4 || n == 1)
				sb_printf(failed, "%s%s (%s)", failed->len ? "; " : "", PQgetvalue(res, i, 1), err);
		}
		PQclear(res);
		if (done == before || n == 0)
			break;
	}
	return done;
}

/*
 * What preparing the database works with, freed at one place
 * (run_prepare_database): the roles the base names, the apply role (known
 * after the restore when it follows the base) and why it was chosen.
 */
typedef struct prep_state
{
	role_list	roles;
	const char *role;			/* the apply role (or the admin, until chosen) */
	char	   *role_ident;
	char	   *db_ident;
	bool		from_base;		/* the apply role follows the base's owner */
	bool		baseline_saved; /* the baseline holds for this run: nothing more to save */
	bool		baseline_cached;	/* the entry has one (a hit's, or stored by this run) */
	char		why[1024];
} prep_state;

/* Quote ps->role into ps->role_ident. */
static void
prep_set_role(run_ctx *ctx, prep_state *ps, const char *role)
{
	ps->role = role;
	free(ps->role_ident);
	ps->role_ident = quote_ident(ctx, role);
}

/* One statement on the superuser connection; EXIT_SANDBOX recorded on failure. */
static int
prep_exec(run_ctx *ctx, const char *q)
{
	char		err[1024];
	PGresult   *res = run_sql(ctx, NULL, q, 0, NULL, err, sizeof(err));

	if (!res)
	{
		run_record_error(ctx, NULL, 0, err);
		return EXIT_SANDBOX;
	}
	PQclear(res);
	return 0;
}

/* The roles the base names (NOLOGIN where the sandbox lacks them), then the apply role. */
static int
prep_roles(run_ctx *ctx, prep_state *ps)
{
	char		err[1024];
	json_t	   *scaffolds = json_object_get(ctx->report, "scaffolds");
	PGresult   *res;

	if (ctx->opt->base_path)
		base_roles_scan(ctx->base.pf.data, ctx->base.pf.data_len, &ps->roles);
	for (size_t i = 0; i < ps->roles.n; i++)
	{
		const char *params[1] = {ps->roles.names[i]};
		bool		missing;

		res = run_sql(ctx, NULL, "SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = $1", 1, params, err, sizeof(err));
		if (!res)
		{
			run_record_error(ctx, NULL, 0, err);
			return EXIT_SANDBOX;
		}
		missing = PQntuples(res) == 0;
		PQclear(res);
		if (missing)
		{
			char	   *ident = quote_ident(ctx, ps->roles.names[i]);
			char	   *q = xasprintf("CREATE ROLE %s NOLOGIN", ident);
			int			rc = prep_exec(ctx, q);

			free(q);
			free(ident);
			if (rc != 0)
				return rc;
			json_array_append_new(scaffolds, json_sprintf("role \"%s\" created NOLOGIN: the base schema names it and the sandbox lacked it", ps->roles.names[i]));
		}
	}
	prep_set_role(ctx, ps, ps->from_base ? SANDBOX_ADMIN_ROLE : run_apply_role(ctx));
	if (!ctx->opt->apply_as_superuser && !ps->from_base)
		return ensure_apply_role(ctx, ps->role, ps->role_ident, false);
	return 0;
}

/* The throwaway database, owned by the apply role; connect to it; the extension. */
static int
prep_database(run_ctx *ctx, prep_state *ps)
{
	char		err[1024];
	char	   *q;
	int			rc;
	PGresult   *res;

	ps->db_ident = quote_ident(ctx, ctx->dbname);

	/*
	 * From 15 on, CREATE DATABASE writes every page of template1 to the WAL
	 * unless told to copy the files (what 13 and 14 do): in a cluster that
	 * just started, the copy's two checkpoints cost less (28 -> 15 ms).
	 */
	q = xasprintf("CREATE DATABASE %s OWNER %s%s", ps->db_ident, ps->role_ident,
				  ctx->pg.major >= 15 ? " STRATEGY = FILE_COPY" : "");
	rc = prep_exec(ctx, q);
	free(q);
	if (rc != 0)
		return rc;
	json_object_set_new(json_object_get(ctx->report, "environment"), "database", json_string(ctx->dbname));

	/* from here on, the throwaway database */
	signals_cancel_on_signal(NULL);
	PQfinish(ctx->conn);
	ctx->conn = sandbox_connect(&ctx->sb, ctx->dbname, err, sizeof(err));
	if (!ctx->conn)
	{
		run_record_error(ctx, NULL, 0, err);
		return EXIT_SANDBOX;
	}
	signals_cancel_on_signal(PQgetCancel(ctx->conn));
	res = run_sql(ctx, NULL, "CREATE EXTENSION drydock", 0, NULL, err, sizeof(err));
	if (!res)
	{
		char		msg[1200];

		snprintf(msg, sizeof(msg), "cannot create the drydock extension in the sandbox (is it installed for %s?): %s",
				 ctx->pg.pg_config, err);
		run_record_error(ctx, NULL, 0, msg);
		return EXIT_SANDBOX;
	}
	PQclear(res);
	return 0;
}

/* Does the target schema exist?  0 with *exists, or EXIT_SANDBOX (recorded). */
static int
target_schema_exists(run_ctx *ctx, bool *exists)
{
	char		err[1024];
	const char *params[1] = {ctx->schema};
	PGresult   *res = run_sql(ctx, NULL, "SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1", 1, params,
						  err, sizeof(err));

	if (!res)
	{
		run_record_error(ctx, NULL, 0, err);
		return EXIT_SANDBOX;
	}
	*exists = PQntuples(res) == 1;
	PQclear(res);
	return 0;
}

/*
 * Restore the base as the superuser, populate its materialized views, then
 * choose the apply role from it (when it follows the base) and let the
 * apply role act for the base's roles, as production's migration role does.
 */
static int
prep_base(run_ctx *ctx, prep_state *ps)
{
	json_t	   *scaffolds = json_object_get(ctx->report, "scaffolds");
	psql_apply_result ar;
	bool		schema_before;
	int			refreshed;
	strbuf		failed;
	size_t		granted = 0;
	int			rc;

	if ((rc = target_schema_exists(ctx, &schema_before)) != 0)
		return rc;
	if ((rc = run_apply_file(ctx, &ctx->base, SANDBOX_ADMIN_ROLE, false, "base", &ar)) != 0)
		return rc;
	json_object_set(json_object_get(json_object_get(ctx->report, "artifacts"), "base"), "restore", ar.json);
	if (!ar.ok)
	{
		/* the base is input, not an artifact under test: bad input */
		int			code = ar.interrupted ? 128 + dd_got_signal : EXIT_USAGE;

		if (!ar.interrupted)
		{
			char	   *msg = apply_error_message(&ar, "the base schema does not restore: ");

			run_record_error(ctx, ctx->base.path, ar.error_line, msg);
			free(msg);
		}
		psql_apply_result_free(&ar);
		return code;
	}
	psql_apply_result_free(&ar);

	/* production's materialized views hold data: as pg_restore leaves them */
	sb_init(&failed);
	refreshed = refresh_matviews(ctx, &failed);
	if (refreshed > 0)
		json_array_append_new(scaffolds, json_sprintf("%d materialized view(s) the base leaves WITH NO DATA refreshed after the restore (as pg_restore does), so that they are populated as in production", refreshed));
	if (refreshed >= 0 && failed.len > 0)
		json_array_append_new(scaffolds, json_sprintf("materialized view(s) left unpopulated, their refresh failed: %s", failed.data));
	free(failed.data);
	if (refreshed < 0)
		return EXIT_SANDBOX;

	if (ps->from_base)
	{
		char	   *owner = base_owner_role(ctx, !schema_before, ps->why, sizeof(ps->why));
		char	   *q;

		free(ctx->apply_role);
		ctx->apply_role = owner ? owner : xstrdup(DEFAULT_APPLY_ROLE);
		prep_set_role(ctx, ps, ctx->apply_role);
		if ((rc = ensure_apply_role(ctx, ps->role, ps->role_ident, owner != NULL)) != 0)
			return rc;
		q = xasprintf("ALTER DATABASE %s OWNER TO %s", ps->db_ident, ps->role_ident);
		rc = prep_exec(ctx, q);
		free(q);
		if (rc != 0)
			return rc;
		if (owner)
			json_array_append_new(scaffolds, json_sprintf("apply role \"%s\" chosen from the base: %s; the artifacts run as it, as production's migrations would (given LOGIN and the throwaway database in the sandbox, not superuser; --apply-role overrides)", ps->role, ps->why));
	}
	if (ctx->opt->apply_as_superuser)
		return 0;

	/*
	 * The apply role acts for the owners of the base objects.  A GRANT that
	 * fails (e.g. the base made the apply role a member of one of its roles:
	 * circular membership) stops the run: the scaffold note may only claim
	 * what was done.
	 */
	for (size_t i = 0; i < ps->roles.n; i++)
	{
		char		err[1024];
		char	   *ident;
		char	   *q;
		PGresult   *res;

		if (strcmp(ps->roles.names[i], ps->role) == 0)
			continue;
		ident = quote_ident(ctx, ps->roles.names[i]);
		q = xasprintf("GRANT %s TO %s", ident, ps->role_ident);
		res = run_sql(ctx, NULL, q, 0, NULL, err, sizeof(err));
		free(q);
		free(ident);
		if (!res)
		{
			char	   *msg = xasprintf("cannot make the apply role \"%s\" a member of the base's role \"%s\": %s",
										ps->role, ps->roles.names[i], err);

			run_record_error(ctx, ctx->base.path, 0, msg);
			free(msg);
			return EXIT_USAGE;
		}
		PQclear(res);
		granted++;
	}
	if (granted > 0)
		json_array_append_new(scaffolds, json_sprintf("apply role \"%s\" granted membership in the %zu role(s) the base names, so it may alter their objects", ps->role, granted));
	{
		int			given = give_unowned_base_objects(ctx, ps->role);

		if (given < 0)
			return EXIT_SANDBOX;
		if (given > 0)
			json_array_append_new(scaffolds, json_sprintf("%d object(s) the base left to the restoring superuser (a --no-owner dump) were given to the apply role \"%s\", as the production migration role would own them", given, ps->role));
	}
	return 0;
}

/* The target schema: there, scaffolded (--scaffold-schema), or created by the DDL. */
static int
prep_target_schema(run_ctx *ctx, prep_state *ps)
{
	json_t	   *env = json_object_get(ctx->report, "environment");
	bool		exists;
	int			rc;

	if ((rc = target_schema_exists(ctx, &exists)) != 0)
		return rc;
	if (!exists && ctx->opt->scaffold_schema)
	{
		char	   *ident = quote_ident(ctx, ctx->schema);
		char	   *q = xasprintf("CREATE SCHEMA %s AUTHORIZATION %s", ident, ps->role_ident);

		rc = prep_exec(ctx, q);
		free(q);
		free(ident);
		if (rc != 0)
			return rc;
		json_array_append_new(json_object_get(ctx->report, "scaffolds"),
							  json_sprintf("schema \"%s\" created by --scaffold-schema (owner %s) before the baseline: production must already have it", ctx->schema, ps->role));
	}
	else if (!exists && !ctx->ddl.pf.creates_target_schema)
	{
		char	   *msg = xasprintf("target schema \"%s\" does not exist in the sandbox and the DDL does not create it; pass --scaffold-schema, or --base with a dump that has it",
									ctx->schema);

		run_record_error(ctx, NULL, 0, msg);
		free(msg);
		return EXIT_USAGE;
	}
	json_object_set_new(env, "target_schema_existed", json_boolean(exists));
	return 0;
}

/* The baseline every later check compares with. */
static int
save_baseline(run_ctx *ctx)
{
	char		err[1024];
	const char *params[1] = {BASELINE_LABEL};
	PGresult   *res = run_sql(ctx, "SELECT drydock.baseline_save('" BASELINE_LABEL "')",
						  "SELECT drydock.baseline_save($1)", 1, params, err, sizeof(err));

	if (!res)
	{
		run_record_error(ctx, NULL, 0, err);
		return EXIT_INTERNAL;
	}
	json_object_set_new(ctx->report, "baseline_fingerprint", json_string(PQgetvalue(res, 0, 0)));
	PQclear(res);
	return 0;
}

/* Reconnect the superuser connection to the throwaway database. */
static int
prep_connect_db(run_ctx *ctx)
{
	char		err[1024];

	run_side_close(ctx);
	signals_cancel_on_signal(NULL);
	if (ctx->conn)
		PQfinish(ctx->conn);
	ctx->conn = sandbox_connect(&ctx->sb, ctx->dbname, err, sizeof(err));
	if (!ctx->conn)
	{
		run_record_error(ctx, NULL, 0, err);
		return EXIT_SANDBOX;
	}
	signals_cancel_on_signal(PQgetCancel(ctx->conn));
	return 0;
}

/*
 * Does preparing the database leave it as the cache has it: the target
 * schema is there or is not scaffolded (prep_target_schema() creates
 * nothing), and no --synthetic-rows?  Then a baseline saved with the entry
 * holds for the run.
 */
static bool
nothing_after_cache(run_ctx *ctx, bool schema_exists)
{
	return (schema_exists || !ctx->opt->scaffold_schema) && !ctx->opt->synthetic_rows;
}

/*
 * Before the base is cached, the baseline is saved and becomes part of the
 * entry -- on a 2,000-table base it costs a quarter of a second that a hit
 * then does not pay.  Whether it holds for this run, as for a hit's, is
 * decided after the preparation that follows (reuse_cached_baseline()):
 * the entry serves every later run, with or without --scaffold-schema.
 * Not with --synthetic-rows: its rows come before the baseline.
 */
static int
baseline_before_caching(run_ctx *ctx, prep_state *ps)
{
	int			rc;

	if (ctx->opt->synthetic_rows)
		return 0;
	if ((rc = save_baseline(ctx)) == 0)
		ps->baseline_cached = true;
	return rc;
}

/*
 * A hit whose entry has a baseline: it holds when nothing changed the
 * database since (nothing_after_cache()); else it goes, and the caller
 * saves the baseline anew.
 */
static int
reuse_cached_baseline(run_ctx *ctx, prep_state *ps)
{
	const char *params[1] = {BASELINE_LABEL};
	char		err[1024];
	PGresult   *res;

	if (nothing_after_cache(ctx, json_is_true(json_object_get(json_object_get(ctx->report, "environment"),
															  "target_schema_existed"))))
	{
		ps->baseline_saved = true;
		json_object_set_new(json_object_get(json_object_get(ctx->report, "environment"), "base_cache"),
							"baseline", json_string("saved with the entry: the database is the one it was saved in"));
		return 0;
	}
	json_object_del(ctx->report, "baseline_fingerprint");
	res = run_sql(ctx, "SELECT drydock.baseline_drop('" BASELINE_LABEL "') (the entry's: the database changed since)",
				  "SELECT drydock.baseline_drop($1)", 1, params, err, sizeof(err));
	if (!res)
	{
		run_record_error(ctx, NULL, 0, err);
		return EXIT_INTERNAL;
	}
	PQclear(res);
	return 0;
}

/* environment.base_cache: where the prepared base came from, honestly. */
static void
base_cache_report(run_ctx *ctx, const char *origin, const char *created_at, bool stored,
				  double ms)
{
	json_t	   *bc = json_pack("{s:s, s:s, s:b, s:f}", "origin", origin, "key", ctx->sb.base_cache_key,
							   "stored_by_this_run", stored, "ms", ms);

	if (created_at && created_at[0])
		json_object_set_new(bc, "created_at", json_string(created_at));
	if (!ctx->opt->base_path)
		json_object_set_new(bc, "empty_base", json_true());
	json_object_set_new(json_object_get(ctx->report, "environment"), "base_cache", bc);
}

/*
 * A miss: the prepared base (roles, restore, materialized views, extension,
 * apply role, grants) becomes the cache entry, with what preparing it
 * recorded (the apply role and why, the scaffold notes from n_scaffolds on,
 * the restore's record) so that a hit reports the same.
 */
static int
base_cache_save(run_ctx *ctx, prep_state *ps, size_t n_scaffolds)
{
	json_t	   *scaffolds = json_object_get(ctx->report, "scaffolds");
	json_t	   *restore = json_object_get(json_object_get(json_object_get(ctx->report, "artifacts"), "base"), "restore");
	json_t	   *rec = json_pack("{s:o, s:s, s:o, s:O}",
								"apply_role", ctx->apply_role ? json_string(ctx->apply_role) : json_null(),
								"apply_role_reason", ps->why, "scaffolds", json_array(),
								"restore", restore ? restore : json_null());
	char	   *text;
	char		err[1024] = "";
	bool		stored;
	double		ms_store = 0,
				ms_stop = 0,
				t = now_ms();
	int			rc;

	for (size_t i = n_scaffolds; i < json_array_size(scaffolds); i++)
		json_array_append(json_object_get(rec, "scaffolds"), json_array_get(scaffolds, i));
	if (ps->baseline_cached)
		json_object_set(rec, "baseline_fingerprint", json_object_get(ctx->report, "baseline_fingerprint"));
	text = json_dumps(rec, JSON_COMPACT);
	json_decref(rec);
	signals_cancel_on_signal(NULL);
	PQfinish(ctx->conn);
	ctx->conn = NULL;
	rc = sandbox_base_cache_store(&ctx->sb, text, &stored, &ms_store, &ms_stop, err, sizeof(err));
	free(text);
	if (rc != 0)
	{
		run_record_error(ctx, NULL, 0, err);
		return rc;
	}
	run_command(ctx, "cache", stored ? "fast shutdown; copy RUN/data to BASECACHE/data (the prepared base, for the next run); postgres -D DATA"
				: "fast shutdown; base cache entry already made by a concurrent run, not stored; postgres -D DATA",
				"ok", now_ms() - t);
	lifecycle_event(ctx, "restarted after caching the base");
	base_cache_report(ctx, "restored", NULL, stored, ms_store);
	dd_progress("%s: cached in %.0f ms (stop %.0f ms, copy %.0f ms)", ctx->opt->base_path ? "base" : "prepared database",
				now_ms() - t, ms_stop, ms_store);
	return prep_connect_db(ctx);
}

/* A hit: the cloned cluster holds the prepared base; report what preparing it recorded. */
static int
prep_from_cache(run_ctx *ctx, prep_state *ps)
{
	json_error_t jerr;
	json_t	   *rec = json_loads(ctx->sb.base_extra, 0, &jerr);
	json_t	   *role = json_object_get(rec, "apply_role");
	json_t	   *why = json_object_get(rec, "apply_role_reason");
	json_t	   *restore = json_object_get(rec, "restore");
	size_t		i;
	json_t	   *v;

	if (!rec || !json_is_string(why) || !json_is_array(json_object_get(rec, "scaffolds")))
	{
		json_decref(rec);
		run_record_error(ctx, NULL, 0, "the base cache entry's record is unreadable; run with --fresh or drydock gc --cache");
		return EXIT_SANDBOX;
	}
	if (json_is_string(role))
	{
		free(ctx->apply_role);
		ctx->apply_role = xstrdup(json_string_value(role));
	}
	prep_set_role(ctx, ps, run_apply_role(ctx));
	snprintf(ps->why, sizeof(ps->why), "%s", json_string_value(why));
	json_array_foreach(json_object_get(rec, "scaffolds"), i, v)
		json_array_append(json_object_get(ctx->report, "scaffolds"), v);
	if (restore && !json_is_null(restore))
		json_object_set(json_object_get(json_object_get(ctx->report, "artifacts"), "base"), "restore", restore);
	if (json_is_string(json_object_get(rec, "baseline_fingerprint")))
	{
		json_object_set(ctx->report, "baseline_fingerprint", json_object_get(rec, "baseline_fingerprint"));
		ps->baseline_cached = true;
	}
	json_decref(rec);
	json_object_set_new(json_object_get(ctx->report, "environment"), "database", json_string(ctx->dbname));
	base_cache_report(ctx, "cache", ctx->sb.base_created_at, false, ctx->sb.ms_clone);
	return prep_connect_db(ctx);
}

int
run_prepare_database(run_ctx *ctx)
{
	json_t	   *env = json_object_get(ctx->report, "environment");
	prep_state	ps;
	double		t = now_ms();
	int			rc;

	memset(&ps, 0, sizeof(ps));

	/*
	 * With a base and no --apply-role, the artifacts run as the role
	 * production's migrations run as, known once the base is restored: the
	 * database is the superuser's until then.
	 */
	ps.from_base = ctx->opt->base_path && !ctx->opt->apply_role && !ctx->opt->apply_as_superuser;
	snprintf(ps.why, sizeof(ps.why), "%s", ctx->opt->apply_as_superuser ? "--apply-as-superuser" :
			 ctx->opt->apply_role ? "--apply-role" : "the default: no --base");

	if (ctx->sb.base_cloned)
		rc = prep_from_cache(ctx, &ps);
	else
	{
		size_t		n_scaffolds = json_array_size(json_object_get(ctx->report, "scaffolds"));

		/*
		 * A restored base is cached by its first run: the restore costs more
		 * than storing it.  The empty base (no --base) is cheap to prepare
		 * and storing it costs a run about a second (a fast shutdown, a copy
		 * to disk, a start): the second run that wants it stores it, a
		 * one-off run (a CI job on a fresh machine) does not.
		 */
		bool		store = ctx->sb.base_cache_key &&
			(ctx->opt->base_path || cache_entry_wanted_before(ctx->sb.base_cache_key));

		rc = prep_roles(ctx, &ps);
		if (rc == 0)
			rc = prep_database(ctx, &ps);
		if (rc == 0 && ctx->opt->base_path)
			rc = prep_base(ctx, &ps);
		if (rc == 0 && store)
			rc = baseline_before_caching(ctx, &ps);
		if (rc == 0 && store)
			rc = base_cache_save(ctx, &ps, n_scaffolds);
	}
	if (rc == 0)
	{
		json_object_set_new(env, "apply_role", json_string(run_apply_role(ctx)));
		json_object_set_new(env, "apply_role_reason", json_string(ps.why));
		json_object_set_new(env, "apply_as_superuser", json_boolean(ctx->opt->apply_as_superuser));
		rc = prep_target_schema(ctx, &ps);
	}
	/* --synthetic-rows: the tables hold data before the baseline, as in production */
	if (rc == 0)
		rc = run_synthesize(ctx);
	if (rc == 0 && ps.baseline_cached)
		rc = reuse_cached_baseline(ctx, &ps);
	if (rc == 0 && !ps.baseline_saved)
		rc = save_baseline(ctx);

	/* the one cleanup point */
	free(ps.role_ident);
	free(ps.db_ident);
	role_list_free(&ps.roles);
	if (rc == 0)
		dd_progress("database: prepared in %.0f ms%s%s%s", now_ms() - t,
					ctx->sb.base_cloned ? (ctx->opt->base_path ? " (base restored from cache, made at " : " (from cache, made at ") :
					ctx->opt->base_path ? " (base restored)" : "",
					ctx->sb.base_cloned ? ctx->sb.base_created_at : "", ctx->sb.base_cloned ? ")" : "");
	return rc;
}

/* ---------- rounds ---------- */


static int
capture(run_ctx *ctx, const char *phase)
{
	int			rc;
	json_t	   *r;

	if (phase)
	{
		const char *params[1] = {phase};

		r = run_query_rows(ctx, NULL, "SELECT drydock.capture_begin($1)", 1, params, &rc);
	}
	else
		r = run_query_rows(ctx, NULL, "SELECT drydock.capture_end()", 0, NULL, &rc);
	json_decref(r);
	return rc;
}

static void
count_findings(run_ctx *ctx, json_t *rows)
{
	size_t		i;
	json_t	   *row;

	json_array_foreach(rows, i, row)
	{
		const char *st = json_string_value(json_object_get(row, "status"));

		if (st && strcmp(st, "fail") == 0)
			ctx->n_fail++;
		else if (st && strcmp(st, "warn") == 0)
			ctx->n_warn++;
		else if (st && strcmp(st, "suppressed") == 0)
			ctx->n_suppressed++;
	}
}

/*
 * NH004 from psql: PostgreSQL truncates an identifier longer than 63 bytes
 * and says so in a NOTICE; the final name alone cannot show it was longer.
 * The notices go to drydock.verify (policy key "notices"), each with the
 * place psql reported it, so the finding is the extension's like any other
 * (and suppressions apply to it).
 */
static void
add_truncation_notices(const artifact *a, json_t *apply_json, json_t *policy)
{
	json_t	   *messages = json_object_get(apply_json, "messages");
	json_t	   *notices = json_array();
	size_t		i;
	json_t	   *m;

	json_array_foreach(messages, i, m)
	{
		const char *text = json_string_value(json_object_get(m, "message"));

		if (text && strstr(text, "will be truncated to"))
			json_array_append_new(notices, json_sprintf("%s (at %s:%d)", text, a->path,
														(int) json_integer_value(json_object_get(m, "line"))));
	}
	if (json_array_size(notices) > 0)
		json_object_set_new(policy, "notices", notices);
	else
		json_decref(notices);
}

/*
 * The phase's DDL log for the report.  Up to DDL_LOG_FULL_MAX events every
 * row is listed.  Beyond that only the rows that carry a fact about
 * production are (a lock on a relation that existed before the migration,
 * a rewrite, a cascade), and "<phase>_ddl_log_summary" counts the rest: the
 * events in all, the omitted ones by command tag, and the objects the phase
 * created (apply) or dropped (rollback) by type, which round_summaries()
 * would otherwise count from the rows.  The rollback's rows then list only
 * the locks on relations that existed before the APPLY (capture_relations
 * of phase apply): the rollback locking what the apply created tells
 * nothing about production, and the apply's CREATE rows that lock_table()
 * would filter them with are not listed.  Keeps the driver's memory bounded
 * whatever the migration's size.
 */
#define DDL_LOG_FULL_MAX 500

/*
 * The number of DDL events captured in the phase (or -1, recorded), and
 * *relations: the relations the database had when the phase began.
 */
static long long
ddl_event_count(run_ctx *ctx, const char *phase, long long *relations, int *rc)
{
	const char *params[1] = {phase};
	json_t	   *r = run_query_rows(ctx, NULL,
								   "SELECT (SELECT count(*) FROM drydock.ddl_log WHERE phase = $1) AS n,"
								   " (SELECT count(*) FROM drydock.capture_relations WHERE phase = $1) AS relations",
								   1, params, rc);
	const char *n = r ? json_string_value(json_object_get(json_array_get(r, 0), "n")) : NULL;
	const char *rels = r ? json_string_value(json_object_get(json_array_get(r, 0), "relations")) : NULL;
	long long	total = r ? atoll(n ? n : "0") : -1;

	*relations = rels ? atoll(rels) : 0;
	json_decref(r);
	return total;
}

static json_t *
fetch_ddl_log(run_ctx *ctx, const char *phase, long long total, json_t *round_json, int *rc)
{
	const char *params[1] = {phase};
	json_t	   *r;
	json_t	   *log,
			   *omitted,
			   *objects,
			   *summary;
	size_t		i;
	json_t	   *v;
	char		key[64];

	if (total <= DDL_LOG_FULL_MAX)
		return run_query_rows(ctx, NULL,
							  "SELECT seq, command_tag, object_type, identity, cascade, rewrite, "
							  "array_to_string(locks, ', ') AS locks FROM drydock.ddl_log WHERE phase = $1 ORDER BY seq",
							  1, params, rc);

/* (a row without locks, most of them, skips the subquery) */
#define DDL_LOG_LOCKS \
	"array_to_string(CASE WHEN cardinality(d.locks) = 0 THEN d.locks WHEN $1 = 'rollback' THEN ARRAY(" \
	"  SELECT l FROM unnest(d.locks) l" \
	"   WHERE regexp_replace(l, ':[A-Za-z]+$', '') IN" \
	"         (SELECT relname FROM drydock.capture_relations WHERE phase = 'apply'))" \
	" ELSE d.locks END, ', ')"
	/*
	 * One pass over the phase's rows: the listed rows (part 1), the others
	 * counted by tag (part 2), and the objects created or dropped by type,
	 * the same counts as objects_by_type() in run_finish.c (part 3).
	 */
	r = run_query_rows(ctx, NULL,
					   "WITH x AS MATERIALIZED ("
					   " SELECT d.seq, d.command_tag, d.object_type, d.identity, d.cascade, d.rewrite, "
					   DDL_LOG_LOCKS " AS locks FROM drydock.ddl_log d WHERE d.phase = $1)"
					   " SELECT 1 AS part, seq, command_tag, object_type, identity, cascade, rewrite, locks, NULL::int AS n"
					   "   FROM x WHERE cascade OR rewrite OR locks <> ''"
					   " UNION ALL"
					   " SELECT 2, NULL, command_tag, NULL, NULL, NULL, NULL, NULL, count(*)::int"
					   "   FROM x WHERE NOT (cascade OR rewrite OR locks <> '') GROUP BY command_tag"
					   " UNION ALL"
					   " SELECT 3, NULL, NULL, object_type, NULL, NULL, NULL, NULL, count(DISTINCT identity COLLATE \"C\")::int"
					   "   FROM x WHERE command_tag LIKE CASE WHEN $1 = 'apply' THEN 'CREATE%' ELSE 'DROP%' END"
					   "    AND object_type IS NOT NULL AND identity IS NOT NULL GROUP BY object_type"
					   " ORDER BY 1, 2, 3, 4",
					   1, params, rc);
	if (!r)
		return NULL;
	log = json_array();
	omitted = json_object();
	objects = json_object();
	json_array_foreach(r, i, v)
	{
		const char *part = json_string_value(json_object_get(v, "part"));
		const char *n = json_string_value(json_object_get(v, "n"));

		if (part && strcmp(part, "1") == 0)
		{
			json_object_del(v, "part");
			json_object_del(v, "n");
			json_array_append(log, v);
		}
		else if (part && strcmp(part, "2") == 0)
			json_object_set_new(omitted, json_string_value(json_object_get(v, "command_tag")),
								json_integer(atoll(n ? n : "0")));
		else
			json_object_set_new(objects, json_string_value(json_object_get(v, "object_type")),
								json_integer(atoll(n ? n : "0")));
	}
	json_decref(r);
	summary = json_pack("{s:I, s:I, s:o, s:o}", "events", (json_int_t) total,
						"listed", (json_int_t) json_array_size(log),
						"omitted_by_tag", omitted, "objects", objects);
	snprintf(key, sizeof(key), "%s_ddl_log_summary", phase);
	json_object_set_new(round_json, key, summary);
	return log;
}

/*
 * The pgTAP script of the target schema.  It runs to megabytes for
 * thousands of tables, so it is never held whole: its pieces come in
 * single-row mode into an anonymous temporary file.  Up to PGTAP_INLINE_MAX
 * bytes it is then inlined in the report ("pgtap_script", as before);
 * larger, report.json gets only "pgtap_script_bytes" and the report writer
 * copies the file to schema-assertions.pgtap.sql.  A failure leaves the
 * report without a script, as before.
 */
#define PGTAP_INLINE_MAX (256 * 1024)

/*
 * Streamed as its bytes in 256 kB pieces, in binary (no split into lines on
 * the server: splitting 5 MB cost more than making the script).  The CTE
 * makes the script once.
 */
#define PGTAP_QUERY \
	"WITH s AS MATERIALIZED (SELECT convert_to(drydock.pgtap_script($1), 'UTF8') AS b)" \
	" SELECT substring(s.b FROM i FOR 262144) FROM s, generate_series(1, length(s.b), 262144) AS g(i)" \
	" ORDER BY i"
#define PGTAP_WHAT "SELECT drydock.pgtap_script(schema) (streamed, 256 kB a row)"
#define PGTAP_WHAT_SIDE PGTAP_WHAT ", on a second connection while the checks ran"

/*
 * The rollback's capture_begin() queued behind the script when the rollback
 * follows: its snapshot of the relations (thousands, after a large apply)
 * is then taken on the side while the main line verifies.  Nothing the main
 * line reads meanwhile depends on it (the phase's own rows, the apply's
 * capture_relations).  The last column is the server's time for it.
 */
#define ROLLBACK_BEGIN_QUERY \
	"SELECT drydock.capture_begin($1)," \
	" pg_catalog.date_part('epoch', pg_catalog.clock_timestamp() - pg_catalog.statement_timestamp()) * 1000"
#define ROLLBACK_BEGIN_WHAT "SELECT drydock.capture_begin('rollback') (on the second connection after the pgTAP script, while the checks ran)"

/*
 * Start the script on the side connection, read into a temporary file by a
 * thread of its own as it comes: the file, or NULL if not started (it runs
 * on the main line then).
 */
static FILE *
pgtap_send(run_ctx *ctx)
{
	const char *sp[1] = {ctx->schema};
	const char *rp[1] = {"rollback"};
	FILE	   *f = tmpfile();
	bool		sent;

	if (!f)
		return NULL;
	if (ctx->rollback_follows)
		sent = run_side_send_pipelined(ctx, PGTAP_WHAT_SIDE, PGTAP_QUERY, 1, sp, 1,
									   ROLLBACK_BEGIN_WHAT, ROLLBACK_BEGIN_QUERY, 1, rp);
	else
		sent = run_side_send(ctx, PGTAP_WHAT_SIDE, PGTAP_QUERY, 1, sp, 1);
	if (sent && run_side_spool_start(ctx, f))
		return f;
	if (sent)
		run_side_close(ctx);	/* no thread: the main line makes it again */
	fclose(f);
	return NULL;
}

/* The script on the main line, into f: true if it all came. */
static bool
pgtap_read_here(run_ctx *ctx, FILE *f, long long *bytes, char **msg)
{
	const char *sp[1] = {ctx->schema};

	if (!PQsendQueryParams(ctx->conn, PGTAP_QUERY, 1, NULL, sp, NULL, NULL, 1) ||
		!PQsetSingleRowMode(ctx->conn))
	{
		*msg = xstrdup(PQerrorMessage(ctx->conn));
		return false;
	}
	return run_spool_rows(ctx->conn, f, bytes, msg);
}

/* The run stops before reading the script: its thread ends first, then its file. */
static void
pgtap_abandon(run_ctx *ctx, FILE *side_file)
{
	if (!side_file)
		return;
	run_side_close(ctx);
	fclose(side_file);
}

/* Read the script: from the side's thread (side_file) or on the main line. */
static void
fetch_pgtap(run_ctx *ctx, FILE *side_file)
{
	FILE	   *f = side_file ? side_file : tmpfile();
	bool		ok;
	long long	bytes = 0;
	char	   *msg = NULL;

	if (side_file)
	{
		bool		next_ok;

		ok = run_side_spool_finish(ctx, &bytes, &msg, &next_ok);
		ctx->rollback_begun = next_ok;
		run_side_close(ctx);
	}
	else
	{
		double		t = now_ms();

		ok = f && pgtap_read_here(ctx, f, &bytes, &msg);
		run_command(ctx, "sql", PGTAP_WHAT, ok ? "ok" : (msg ? msg : "failed"), now_ms() - t);
	}
	free(msg);
	if (ok && fflush(f) != 0)
		ok = false;
	if (!ok)
	{
		if (f)
			fclose(f);
		return;
	}
	if (bytes <= PGTAP_INLINE_MAX)
	{
		char	   *text = xmalloc((size_t) bytes + 1);

		rewind(f);
		if (fread(text, 1, (size_t) bytes, f) == (size_t) bytes)
			json_object_set_new(ctx->report, "pgtap_script", json_stringn(text, (size_t) bytes));
		free(text);
		fclose(f);
		return;
	}
	json_object_set_new(ctx->report, "pgtap_script_bytes", json_integer(bytes));
	if (ctx->pgtap_spool)
		fclose(ctx->pgtap_spool);
	ctx->pgtap_spool = f;
}

/*
 * After a failed psql: is the sandbox still there?  A postmaster killed
 * outright closes its end of the backends' death pipe before the kernel
 * makes it a zombie, so a backend (and psql) can notice its death a moment
 * before waitpid() can: when psql lost its connection, allow that moment.
 */
static bool
postmaster_survived(run_ctx *ctx, const psql_apply_result *ar)
{
	bool		lost = ar->error_message &&
		(strstr(ar->error_message, "connection to server was lost") ||
		 strstr(ar->error_message, "server closed the connection") ||
		 strstr(ar->error_message, "terminating connection"));

	for (int i = 0; i < (lost ? 100 : 1); i++)
	{
		if (!sandbox_alive(&ctx->sb))
			return false;
		if (lost)
			sleep_ms(10);
	}
	return true;
}

/*
 * Replay: the migration tool's bookkeeping table is drydock's scaffold, not
 * the project's schema; when it lands in the target schema, its rows (the
 * table, its columns, constraints, indexes, sequences) leave the battery.
 */
static void
drop_scaffold_rows(run_ctx *ctx, json_t *rows)
{
	size_t		i,
				k;
	json_t	   *t;

	if (!ctx->scaffold_objects)
		return;
	for (i = json_array_size(rows); i-- > 0;)
	{
		const char *obj = json_string_value(json_object_get(json_array_get(rows, i), "object"));
		bool		drop = false;

		json_array_foreach(ctx->scaffold_objects, k, t)
		{
			const char *name = json_string_value(t);
			size_t		n = strlen(name);
			const char *on = obj ? strstr(obj, " on ") : NULL;

			if (obj && ((strncmp(obj, name, n) == 0 && (obj[n] == '\0' || obj[n] == '.' || obj[n] == '_')) ||
						(on && strcmp(on + 4, name) == 0)))
				drop = true;
		}
		if (drop)
			json_array_remove(rows, i);
	}
}

/*
 * From how much work a phase's reads go to the side connection: captured
 * DDL events plus the relations the database had (the checks read the
 * migration's events; the pgTAP script and the diff, the whole schema).
 */
#define SIDE_MIN_WORK 500

#define VERIFY_ROLLBACK_QUERY \
	"SELECT v.family, v.code, v.object, v.status, v.message, v.seq," \
	"       l.phase AS seq_phase, l.query AS seq_query" \
	"  FROM drydock.verify_rollback($1, $2::jsonb, $3) v" \
	"  LEFT JOIN drydock.capture_log l ON l.seq = v.seq"
#define VERIFY_ROLLBACK_WHAT "SELECT * FROM drydock.verify_rollback(schema, policy, 'pre-apply')"
#define VERIFY_ROLLBACK_WHAT_SIDE VERIFY_ROLLBACK_WHAT " (on a second connection while the DDL log and the residue were read)"

/*
 * The policy of verify_rollback(): the RB rules use no allowed_types; and a
 * type the migration created (an enum allowed by the policy) no longer
 * exists after the rollback, so the extension would refuse the policy
 * naming it.
 */
static char *
verify_rollback_policy(run_ctx *ctx)
{
	json_t	   *rb_policy = suppress_policy(ctx);	/* + inline suppressions */
	char	   *policy;

	json_object_del(rb_policy, "allowed_types");
	policy = json_dumps(rb_policy, JSON_COMPACT);
	json_decref(rb_policy);
	return policy;
}

/*
 * The residue (the diff against the baseline) after the rollback; on the
 * side, queued behind verify_rollback(), whose own diff has just filled that
 * backend's catalog caches (the main line's were emptied by the rollback).
 */
#define RESIDUE_QUERY "SELECT change, kind, identity, before, after FROM drydock.diff($1)"
#define RESIDUE_WHAT "SELECT * FROM drydock.diff('pre-apply')"
#define RESIDUE_WHAT_SIDE RESIDUE_WHAT " (on the second connection, queued behind verify_rollback(): the time the main line waited for it after that)"

/* Start verify_rollback() and the residue on the side connection (run_check_rollback reads them). */
static bool
verify_rollback_send(run_ctx *ctx)
{
	char	   *policy = verify_rollback_policy(ctx);
	const char *vp[3] = {ctx->schema, policy, BASELINE_LABEL};
	const char *bp[1] = {BASELINE_LABEL};
	bool		sent = run_side_send_pipelined(ctx, VERIFY_ROLLBACK_WHAT_SIDE, VERIFY_ROLLBACK_QUERY, 3, vp, 0,
											   RESIDUE_WHAT_SIDE, RESIDUE_QUERY, 1, bp);

	free(policy);
	return sent;
}

int
run_apply_phase(run_ctx *ctx, artifact *a, const char *phase, json_t *round_json)
{
	psql_apply_result ar;
	int			rc;
	char		key[64];
	json_t	   *log;
	bool		need_pgtap = !json_object_get(ctx->report, "pgtap_script") &&
		!json_object_get(ctx->report, "pgtap_script_bytes");
	FILE	   *pgtap_file = NULL;	/* the script, read on the side */
	long long	events;
	long long	relations;

	/* begun already on the side connection (pgtap_send) */
	if (strcmp(phase, "rollback") == 0 && ctx->rollback_begun)
		ctx->rollback_begun = false;
	else if ((rc = capture(ctx, phase)) != 0)
		return rc;
	rc = run_apply_file(ctx, a, run_apply_role(ctx), ctx->restrict_meta, phase, &ar);
	if (rc != 0)
		return rc;
	json_object_set(round_json, phase, ar.json);
	if (!ar.ok && !ar.interrupted && !postmaster_survived(ctx, &ar))
	{
		char		why[512];
		char	   *msg;

		if (sandbox_log_reason(&ctx->sb, why, sizeof(why)))
			msg = xasprintf("the sandbox's postmaster died during the %s phase (server log: %s); nothing more could run",
							phase, why);
		else
			msg = xasprintf("the sandbox's postmaster died during the %s phase; nothing more could run", phase);

		run_record_error(ctx, a->path, 0, msg);
		free(msg);
		psql_apply_result_free(&ar);
		return EXIT_SANDBOX;
	}
	if (!ar.ok)
	{
		int			code = run_record_apply_failure(ctx, a, &ar);

		psql_apply_result_free(&ar);
		return code;
	}
	dd_progress("%s: %s applied in %.0f ms (%d notices)", phase, a->path, ar.ms, ar.n_notices);
	if ((rc = capture(ctx, NULL)) != 0)
	{
		psql_apply_result_free(&ar);
		return rc;
	}
	if ((events = ddl_event_count(ctx, phase, &relations, &rc)) < 0)
	{
		psql_apply_result_free(&ar);
		return rc;
	}

	/*
	 * The state is final: what only reads it starts now on the side
	 * connection and runs on another core while this one lists the DDL
	 * log and verifies -- when there is enough to read for that to pay:
	 * a new backend's start and its cold catalog caches cost about as much
	 * as these checks take on a warm one for a few dozen tables.
	 */
	if (events + relations >= SIDE_MIN_WORK)
	{
		if (strcmp(phase, "apply") == 0)
			pgtap_file = need_pgtap ? pgtap_send(ctx) : NULL;
		else
		{
			(void) verify_rollback_send(ctx);
			if (ctx->rollback_follows)
				run_checkpoint_send(ctx);
		}
	}
	snprintf(key, sizeof(key), "%s_ddl_log", phase);
	log = fetch_ddl_log(ctx, phase, events, round_json, &rc);
	if (!log)
	{
		pgtap_abandon(ctx, pgtap_file);
		psql_apply_result_free(&ar);
		return rc;
	}
	json_object_set_new(round_json, key, log);
	if (strcmp(phase, "apply") == 0)
	{
		json_t	   *rows;
		json_t	   *vpolicy = suppress_policy(ctx);	/* + inline suppressions */
		char	   *policy;
		const char *vp[3];

		add_truncation_notices(a, ar.json, vpolicy);
		policy = json_dumps(vpolicy, JSON_COMPACT);
		vp[0] = ctx->schema;
		vp[1] = policy;
		vp[2] = BASELINE_LABEL;
		json_decref(vpolicy);

		rows = run_query_rows(ctx, "SELECT * FROM drydock.verify(schema, policy, 'pre-apply')",
						  "SELECT v.family, v.code, v.object, v.status, v.message, v.seq,"
						  "       l.phase AS seq_phase, l.query AS seq_query"
						  "  FROM drydock.verify($1, $2::jsonb, $3) v"
						  "  LEFT JOIN drydock.capture_log l ON l.seq = v.seq",
						  3, vp, &rc);
		free(policy);
		if (!rows)
		{
			pgtap_abandon(ctx, pgtap_file);
			psql_apply_result_free(&ar);
			return rc;
		}
		drop_scaffold_rows(ctx, rows);
		locate_rows(rows, "apply", a);
		suppress_annotate_rows(ctx, rows);
		count_findings(ctx, rows);
		json_object_set_new(round_json, "verification", rows);
		if (need_pgtap)
			fetch_pgtap(ctx, pgtap_file);
		/* this apply's checks, not the run's running totals */
		dd_progress("verify: %d failing, %d warning checks", report_count_status(rows, "fail"),
					report_count_status(rows, "warn"));
	}
	psql_apply_result_free(&ar);
	return 0;
}

int
run_round(run_ctx *ctx, int round)
{
	json_t	   *round_json = json_pack("{s:i}", "round", round);
	int			rc;

	json_array_append_new(json_object_get(ctx->report, "rounds"), round_json);
	ctx->rollback_follows = true;
	if ((rc = capture(ctx, NULL)) != 0)
		return rc;
	json_decref(run_query_rows(ctx, NULL, "SELECT drydock.capture_reset()", 0, NULL, &rc));
	if (rc != 0)
		return rc;

	if ((rc = run_apply_phase(ctx, &ctx->ddl, "apply", round_json)) != 0)
		return rc;
	if (round == 1)
	{
		lifecycle_event(ctx, "applied");
		lifecycle_event(ctx, "verified");
	}
	if ((rc = run_check_rollback(ctx, &ctx->rollback, round_json)) != 0)
		return rc;
	if (round == 1)
		lifecycle_event(ctx, "rolled back");
	return 0;
}

static int	rollback_state(run_ctx *ctx, json_t *round_json, json_t *residue);

int
run_check_rollback(run_ctx *ctx, artifact *down, json_t *round_json)
{
	int			rc;
	json_t	   *rows;

	bool		on_side;

	/* down NULL: a replay's no-op down (an empty placeholder), nothing to run */
	if (down && (rc = run_apply_phase(ctx, down, "rollback", round_json)) != 0)
		return rc;

	/*
	 * verify_rollback() was started on the side connection when the
	 * rollback phase ended, if it could be, with the residue queued behind
	 * it: the main line read the DDL log meanwhile.
	 */
	on_side = ctx->side_what && strcmp(ctx->side_what, VERIFY_ROLLBACK_WHAT_SIDE) == 0;
	if (on_side)
	{
		json_t	   *residue;

		/* its key keeps its place in the report */
		json_object_set_new(round_json, "rollback_verification", json_null());
		if (!(rows = run_side_rows(ctx, &rc)))
			return rc;
		if (!(residue = run_side_next_rows(ctx, &rc)) ||
			(rc = rollback_state(ctx, round_json, residue)) != 0)
		{
			json_decref(rows);
			return rc;
		}
	}
	else
	{
		char	   *policy = verify_rollback_policy(ctx);
		const char *vp[3] = {ctx->schema, policy, BASELINE_LABEL};

		rows = run_query_rows(ctx, VERIFY_ROLLBACK_WHAT, VERIFY_ROLLBACK_QUERY, 3, vp, &rc);
		free(policy);
	}
	if (!rows)
		return rc;
	locate_rows(rows, "rollback", down);
	suppress_annotate_rows(ctx, rows);
	count_findings(ctx, rows);
	json_object_set_new(round_json, "rollback_verification", rows);
	if (!on_side && (rc = rollback_state(ctx, round_json, NULL)) != 0)
		return rc;
	run_checkpoint_wait(ctx);
	dd_progress("rollback: re-check done, %zu residue rows",
				json_array_size(json_object_get(round_json, "residue")));
	return 0;
}

/*
 * After the rollback: the residue against the baseline (residue: read on
 * the side already; NULL: read it here), the target schema's objects.
 */
static int
rollback_state(run_ctx *ctx, json_t *round_json, json_t *residue)
{
	int			rc;
	json_t	   *rows = residue;
	const char *sp[1] = {ctx->schema};
	const char *bp[1] = {BASELINE_LABEL};
	bool		schema_present;

	if (!rows)
		rows = run_query_rows(ctx, RESIDUE_WHAT, RESIDUE_QUERY, 1, bp, &rc);
	if (!rows)
		return rc;
	suppress_mark_residue(ctx, rows);	/* accept-residue KIND IDENTITY */
	json_object_set_new(round_json, "residue", rows);

	/* a rollback may drop the target schema itself (when the DDL created it) */
	rows = run_query_rows(ctx, NULL, "SELECT 1 AS present FROM pg_catalog.pg_namespace WHERE nspname = $1",
					  1, sp, &rc);
	if (!rows)
		return rc;
	schema_present = json_array_size(rows) > 0;
	json_decref(rows);
	json_object_set_new(round_json, "post_rollback_schema_exists", json_boolean(schema_present));
	if (schema_present && json_array_size(json_object_get(round_json, "residue")) == 0)
	{
		/* no difference from the baseline: count its rows, not the catalog again */
		const char *bsp[2] = {BASELINE_LABEL, ctx->schema};

		rows = run_query_rows(ctx, NULL,
							  "SELECT kind, count(*)::int AS count FROM drydock.baseline_object "
							  "WHERE label = $1 AND schema = $2 AND kind <> 'schema' GROUP BY kind ORDER BY kind",
							  2, bsp, &rc);
		if (!rows)
			return rc;
	}
	else if (schema_present)
	{
		rows = run_query_rows(ctx, NULL,
						  "SELECT kind, count(*)::int AS count FROM drydock.catalog_objects(ARRAY[$1]::name[]) "
						  "WHERE kind <> 'schema' GROUP BY kind ORDER BY kind", 1, sp, &rc);
		if (!rows)
			return rc;
	}
	else
		rows = json_array();
	json_object_set_new(round_json, "post_rollback_objects_in_schema", rows);
	return 0;
}

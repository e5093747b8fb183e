/*
 * run_finish.c
 *		The end of every run, whatever happened: teardown (verified), the
 *		fidelity notes computed from what was measured, the plain statements
 *		of what was and was not exercised, the reports, the summary line.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "estimate.h"
#include "prod_stats.h"
#include "render.h"
#include "report.h"
#include "run.h"
#include "signals.h"
#include "term.h"
#include "util.h"

static void
note(json_t *notes, const char *id, const char *title, const char *status, const char *text)
{
	json_array_append_new(notes, json_pack("{s:s, s:s, s:s, s:s}", "id", id, "title", title,
										   "status", status, "text", text));
}

/* Rows of every round's key matching a code (NULL: any) and status. */
static int
count_rows(json_t *report, const char *key, const char *code_prefix, const char *status)
{
	json_t	   *rounds = json_object_get(report, "rounds");
	size_t		i,
				j;
	json_t	   *round,
			   *row;
	int			n = 0;

	json_array_foreach(rounds, i, round)
	{
		json_array_foreach(json_object_get(round, key), j, row)
		{
			const char *code = json_string_value(json_object_get(row, "code"));
			const char *st = json_string_value(json_object_get(row, "status"));

			if (code_prefix && (!code || strncmp(code, code_prefix, strlen(code_prefix)) != 0))
				continue;
			if (status && (!st || strcmp(st, status) != 0))
				continue;
			n++;
		}
	}
	return n;
}

/*
 * Relations the first round's apply created (CREATE events' identities):
 * the rollback locking them is expected and tells nothing about production.
 */
static json_t *
created_by_apply(json_t *round)
{
	json_t	   *set = json_object();
	size_t		i;
	json_t	   *row;

	json_array_foreach(json_object_get(round, "apply_ddl_log"), i, row)
	{
		const char *tag = json_string_value(json_object_get(row, "command_tag"));
		const char *id = json_string_value(json_object_get(row, "identity"));

		if (tag && id && strncmp(tag, "CREATE", 6) == 0)
			json_object_set_new(set, id, json_true());
	}
	return set;
}

/*
 * The locks the first round took on relations that existed before it:
 * each captured event's "rel:mode, ..." list (the locks its transaction held
 * then) without the relations the apply itself created; an event whose list
 * repeats the previous one of its phase adds nothing and is left out.
 */
static json_t *
lock_table(json_t *report)
{
	json_t	   *out = json_array();
	json_t	   *round = json_array_get(json_object_get(report, "rounds"), 0);
	const char *phases[] = {"apply_ddl_log", "rollback_ddl_log"};
	json_t	   *created = round ? created_by_apply(round) : json_object();

	for (int p = 0; p < 2 && round; p++)
	{
		size_t		i;
		json_t	   *row;
		char	   *prev = NULL;

		json_array_foreach(json_object_get(round, phases[p]), i, row)
		{
			const char *locks = json_string_value(json_object_get(row, "locks"));
			bool		rewrite = json_is_true(json_object_get(row, "rewrite"));
			strbuf		kept;
			char	   *copy = xstrdup(locks ? locks : "");
			char	   *save = NULL;

			sb_init(&kept);
			for (char *item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save))
			{
				char	   *colon;

				while (*item == ' ')
					item++;
				colon = strrchr(item, ':');
				if (colon)
					*colon = '\0';
				if (json_object_get(created, item))
					continue;
				if (colon)
					*colon = ':';
				sb_printf(&kept, "%s%s", kept.len ? ", " : "", item);
			}
			free(copy);
			if ((kept.len > 0 && !(prev && strcmp(prev, kept.data) == 0)) || rewrite)
				json_array_append_new(out, json_pack("{s:s, s:O, s:O, s:s, s:b}",
													 "phase", p == 0 ? "apply" : "rollback",
													 "command_tag", json_object_get(row, "command_tag"),
													 "identity", json_object_get(row, "identity"),
													 "locks", kept.len ? kept.data : "",
													 "rewrite", rewrite));
			if (kept.len > 0)
			{
				free(prev);
				prev = xstrdup(kept.data);
			}
			sb_free(&kept);
		}
		free(prev);
	}
	json_decref(created);
	return out;
}

/*
 * Distinct identities of a DDL log's rows whose tag starts with prefix,
 * counted by object type: {"table": 12, "index": 27, ...}.
 */
static json_t *
objects_by_type(json_t *log, const char *prefix)
{
	json_t	   *seen = json_object();
	json_t	   *out = json_object();
	size_t		i;
	json_t	   *row;

	json_array_foreach(log, i, row)
	{
		const char *tag = json_string_value(json_object_get(row, "command_tag"));
		const char *type = json_string_value(json_object_get(row, "object_type"));
		const char *id = json_string_value(json_object_get(row, "identity"));
		char	   *key;

		if (!tag || !type || !id || strncmp(tag, prefix, strlen(prefix)) != 0)
			continue;
		key = xasprintf("%s\x1f%s", type, id);
		if (!json_object_get(seen, key))
		{
			json_object_set_new(seen, key, json_true());
			json_object_set_new(out, type,
								json_integer(json_integer_value(json_object_get(out, type)) + 1));
		}
		free(key);
	}
	json_decref(seen);
	return out;
}

/*
 * Per round, the counts an operator writes by hand: objects the apply
 * created and the rollback dropped (by type, from the captured DDL), and
 * after the rollback how many objects of each of those types (and of tables
 * and constraints, always) remain in the target schema, zeros included.
 */
static void
round_summaries(json_t *report)
{
	size_t		i;
	json_t	   *round;

	json_array_foreach(json_object_get(report, "rounds"), i, round)
	{
		json_t	   *created;
		json_t	   *post;
		const char *key;
		json_t	   *v;
		size_t		j;

		if (!json_object_get(round, "apply_ddl_log"))
			continue;
		/* a summarised log (run_pipeline.c fetch_ddl_log) brings its counts */
		if (json_object_get(round, "apply_ddl_log_summary"))
			created = json_deep_copy(json_object_get(json_object_get(round, "apply_ddl_log_summary"),
													 "objects"));
		else
			created = objects_by_type(json_object_get(round, "apply_ddl_log"), "CREATE");
		json_object_set_new(round, "objects_created", created);
		if (json_object_get(round, "rollback_ddl_log_summary"))
			json_object_set_new(round, "objects_dropped",
								json_deep_copy(json_object_get(json_object_get(round, "rollback_ddl_log_summary"),
															   "objects")));
		else if (json_object_get(round, "rollback_ddl_log"))
			json_object_set_new(round, "objects_dropped",
								objects_by_type(json_object_get(round, "rollback_ddl_log"), "DROP"));
		if (!json_object_get(round, "post_rollback_objects_in_schema"))
			continue;
		post = json_pack("{s:i, s:i}", "table", 0, "table constraint", 0);
		json_object_foreach(created, key, v)
			json_object_set_new(post, key, json_integer(0));
		json_array_foreach(json_object_get(round, "post_rollback_objects_in_schema"), j, v)
		{
			const char *kind = json_string_value(json_object_get(v, "kind"));
			json_t	   *n = json_object_get(v, "count");

			if (kind)
				json_object_set_new(post, kind, json_integer(json_is_integer(n) ? json_integer_value(n) :
															 atoll(json_string_value(n) ? json_string_value(n) : "0")));
		}
		json_object_set_new(round, "post_rollback_counts", post);
	}
}

/* Distinct pre-existing relations in the lock table, "rel (mode)" joined. */
static int
locked_relations(json_t *locks, strbuf *list)
{
	json_t	   *seen = json_object();
	size_t		i;
	json_t	   *row;
	int			n = 0;

	json_array_foreach(locks, i, row)
	{
		char	   *copy = xstrdup(json_string_value(json_object_get(row, "locks")));
		char	   *save = NULL;

		for (char *item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save))
		{
			while (*item == ' ')
				item++;
			if (*item && !json_object_get(seen, item))
			{
				json_object_set_new(seen, item, json_true());
				sb_printf(list, "%s%s", n ? ", " : "", item);
				n++;
			}
		}
		free(copy);
	}
	json_decref(seen);
	return n;
}

static void
fidelity_notes(run_ctx *ctx)
{
	json_t	   *notes = json_array();
	json_t	   *scaffolds = json_object_get(ctx->report, "scaffolds");
	char		buf[1024];
	int			sandbox_major = ctx->pg_found ? ctx->pg.major : 0;
	bool		has_base = ctx->opt->base_path != NULL;
	int			cross_fk = count_rows(ctx->report, "verification", "KC002", NULL) -
		count_rows(ctx->report, "verification", "KC002", "pass") -
		count_rows(ctx->report, "verification", "KC002", "skipped");
	int			altered = count_rows(ctx->report, "verification", "AO001", "fail") +
		count_rows(ctx->report, "verification", "AO001", "warn") +
		count_rows(ctx->report, "verification", "AO002", "fail") +
		count_rows(ctx->report, "verification", "AO002", "warn");
	strbuf		locked_list;
	int			locked;
	int			alter_stmts = 0;

	/* N-1 */
	if (!sandbox_major)
		note(notes, "N-1", "version", "unknown", "no server was started");
	else if (ctx->opt->prod_version == 0)
	{
		snprintf(buf, sizeof(buf), "production major not declared (--prod-version); the dry-run ran on PostgreSQL %s",
				 ctx->sb.server_version ? ctx->sb.server_version : ctx->pg.version);
		note(notes, "N-1", "version", "undeclared", buf);
	}
	else if (ctx->opt->prod_version == sandbox_major)
	{
		snprintf(buf, sizeof(buf), "same major as production (%d): the sandbox ran PostgreSQL %s",
				 ctx->opt->prod_version, ctx->sb.server_version ? ctx->sb.server_version : ctx->pg.version);
		note(notes, "N-1", "version", "same", buf);
	}
	else
	{
		/* say how to get the production's major: installed or not */
		char	   *prod_pg = pg_install_locate(ctx->opt->prod_version);

		if (prod_pg)
			snprintf(buf, sizeof(buf), "sandbox %d, production %d: lock levels, defaults and syntax may differ; %d is installed here (%s): rerun with --pg %d",
					 sandbox_major, ctx->opt->prod_version, ctx->opt->prod_version, prod_pg, ctx->opt->prod_version);
		else
			snprintf(buf, sizeof(buf), "sandbox %d, production %d: lock levels, defaults and syntax may differ; %d is not installed here: `make deps PG=%d` installs it",
					 sandbox_major, ctx->opt->prod_version, ctx->opt->prod_version, ctx->opt->prod_version);
		free(prod_pg);
		note(notes, "N-1", "version", "differs", buf);
	}

	/* N-2 */
	for (size_t i = 0; i < ctx->ddl.pf.n_statements; i++)
	{
		const char *tag = ctx->ddl.pf.statements[i].tag;

		if (strncmp(tag, "ALTER ", 6) == 0 || strncmp(tag, "DROP ", 5) == 0)
			alter_stmts++;
	}
	sb_init(&locked_list);
	locked = locked_relations(json_object_get(ctx->report, "locks"), &locked_list);
	if (!json_object_get(json_array_get(json_object_get(ctx->report, "rounds"), 0), "apply_ddl_log"))
	{
		snprintf(buf, sizeof(buf), "not established: the migration's DDL was not captured (the run ended before the apply completed)%s",
				 alter_stmts ? "; the DDL has ALTER/DROP statements, which on an empty cluster can only touch what it created itself" : "");
		note(notes, "N-2", "self-contained", "unknown", buf);
	}
	else if (cross_fk > 0 || altered > 0 || locked > 0)
	{
		snprintf(buf, sizeof(buf), "not self-contained: %d cross-schema foreign key finding(s), %d pre-existing object(s) altered or dropped, %d lock(s) on pre-existing relations%s%s%s%s",
				 cross_fk, altered, locked, locked ? " (" : "", locked ? locked_list.data : "", locked ? ")" : "",
				 has_base ? "; exercised against the base schema" : "; a base schema (--base) is required for a faithful dry-run");
		note(notes, "N-2", "self-contained", has_base ? "exercised" : "base required", buf);
	}
	else if (!has_base && alter_stmts > 0)
	{
		snprintf(buf, sizeof(buf), "the DDL has %d ALTER/DROP statement(s); on an empty cluster they can only touch what the DDL itself created; give --base to exercise them against production's schema",
				 alter_stmts);
		note(notes, "N-2", "self-contained", "check", buf);
	}
	else
		note(notes, "N-2", "self-contained", "yes",
			 "no cross-schema foreign key and no ALTER/DROP of pre-existing objects was captured");
	sb_free(&locked_list);

	/* N-3; weak containment is a residual too: what the server could reach */
	{
		strbuf		text;

		sb_init(&text);
		if (!has_base)
			sb_append(&text,
					  "without --base these could not be exercised and are NOT covered: name collisions with existing production objects; "
					  "side effects on existing objects (locks, rewrites, cascades, dependent views); ownership and grants of existing objects; "
					  "data-dependent failures (NOT NULL, UNIQUE, CHECK or FK validation on existing rows: the dry-run has no data)");
		else if (json_object_get(ctx->report, "synthetic_rows"))
			sb_append(&text,
					  "collisions and side effects were exercised against the base schema; data-dependent failures were exercised on generated rows, "
					  "not on production's data (values that only production holds, e.g. one that a type change's cast rejects, were NOT)");
		else
			sb_append(&text,
					  "collisions and side effects were exercised against the base schema; data-dependent failures (constraint validation on existing rows, "
					  "long rewrites) were NOT, since a schema-only dump has no data");
		prod_stats_residuals(ctx, &text);
		if (ctx->sb_made && ctx->sb.contain.n_attempts > 0 && ctx->sb.contain.level != CONTAIN_FULL)
			sb_printf(&text,
					  ". Containment was weak: the server ran with %s (%s: %s), without a filesystem view of its own, so %s "
					  "could read and change whatever the cluster's OS user %s can on this host",
					  ctx->sb.contain.level == CONTAIN_NET ? "a private network namespace only" : "no namespace at all",
					  ctx->sb.contain.attempts[0].what, ctx->sb.contain.attempts[0].result,
					  ctx->opt->apply_as_superuser ? "the artifacts (run as superuser, --allow-weak-containment)" : "a superuser in it",
					  ctx->sb.user.name ? ctx->sb.user.name : "?");
		note(notes, "N-3", "residuals", has_base ? "partly exercised" : "not exercised", text.data);
		sb_free(&text);
	}

	/* N-4 */
	{
		strbuf		sb;
		size_t		i;
		json_t	   *s;

		sb_init(&sb);
		json_array_foreach(scaffolds, i, s)
			sb_printf(&sb, "%s%s", sb.len ? "; " : "", json_string_value(s));
		if (ctx->ddl.pf.creates_target_schema)
			sb_printf(&sb, "%sthe DDL creates the target schema itself (%s:%u): a production artifact normally runs where the schema exists",
					  sb.len ? "; " : "", ctx->ddl.path, ctx->ddl.pf.target_schema_line);
		note(notes, "N-4", "scaffold", sb.len ? "added" : "none", sb.len ? sb.data : "drydock added nothing to the empty cluster");
		sb_free(&sb);
	}
	json_object_set_new(ctx->report, "fidelity_notes", notes);
}

static void
statements(run_ctx *ctx, const char *status)
{
	json_t	   *st = json_array();
	json_t	   *iso = json_object_get(ctx->report, "isolation");
	json_t	   *not_done = json_array();

	if (json_is_true(json_object_get(iso, "proven")))
		json_array_append_new(st, json_sprintf("isolation was proven before any artifact ran: %zu facts checked (listen_addresses empty, TCP refused on 127.0.0.1 and ::1, no TCP listener, local-only pg_hba, system identifier checked; %s)",
											   json_array_size(json_object_get(iso, "facts")),
											   ctx->sb_made && ctx->sb.contain.level == CONTAIN_FULL ?
											   "the server in namespaces of its own, seeing / read-only, no host directory, a private /tmp" :
											   "the server WITHOUT a filesystem view of its own: see N-3"));
	else
		json_array_append_new(st, json_string("isolation was not proven; no artifact was applied"));
	json_array_append_new(st, json_string("no production system was connected to: drydock only connects to the cluster it started, through its private unix socket"));
	if (ctx->n_secrets)
		json_array_append_new(st, json_sprintf("%zu secret literal(s) found in the artifacts were redacted from every output", ctx->n_secrets));
	else
		json_array_append_new(st, json_string("no secrets recorded: no password literal was found in the artifacts"));
	json_array_append_new(st, json_string("drydock never advances past the dry-run on its own: applying to production is a separate, human decision"));

	if (!ctx->opt->base_path)
		json_array_append_new(not_done, json_string("no base schema: collisions and side effects on existing production objects were not exercised"));
	json_array_append_new(not_done, json_string("no data: constraint validation, rewrites and lock durations on real rows were not exercised"));
	if (strcmp(status, "pass") != 0 && strcmp(status, "findings") != 0)
		json_array_append_new(not_done, json_sprintf("the run ended early (%s): later steps did not run", status));
	json_object_set_new(ctx->report, "statements", st);
	json_object_set_new(ctx->report, "not_exercised", not_done);
}

/* Findings listed on the terminal before the rest are only counted. */
#define MAX_LISTED 20

typedef struct listed_finding
{
	int			pass;			/* 0 fail, 1 warn */
	int			phase;			/* 0 apply (verification), 1 rollback */
	long		line;			/* 0: not known */
	size_t		order;			/* report order: ties */
	json_t	   *row;			/* the report's row (borrowed) */
	uint64_t	hash;			/* of its text */
} listed_finding;

static int
cmp_listed(const void *a, const void *b)
{
	const listed_finding *x = a,
			   *y = b;

	if (x->pass != y->pass)
		return x->pass - y->pass;
	if (x->phase != y->phase)
		return x->phase - y->phase;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* A finding's line: "FILE:LINE: CODE object: message" (malloc'd). */
static char *
finding_text(run_ctx *ctx, const listed_finding *f)
{
	json_t	   *r = f->row;
	json_t	   *loc = json_object_get(r, "location");
	const char *file = f->phase == 0 ? ctx->opt->ddl_path : ctx->opt->rollback_path;

	if (loc)
		return xasprintf("%s:%ld: %s %s: %s%s",
						 json_string_value(json_object_get(loc, "file")), f->line,
						 json_string_value(json_object_get(r, "code")),
						 json_string_value(json_object_get(r, "object")) ?: "-",
						 json_string_value(json_object_get(r, "message")) ?: "",
						 f->pass ? " [warn]" : "");
	return xasprintf("%s: %s %s: %s%s", file ? file : "drydock",
					 json_string_value(json_object_get(r, "code")),
					 json_string_value(json_object_get(r, "object")) ?: "-",
					 json_string_value(json_object_get(r, "message")) ?: "",
					 f->pass ? " [warn]" : "");
}

/* FNV-1a */
static uint64_t
text_hash(const char *s)
{
	uint64_t	h = 14695981039346656037ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char) *s) * 1099511628211ULL;
	return h;
}

/*
 * The failing, then warning checks, compiler-style "FILE:LINE: CODE object:
 * message" (FILE: the artifact of the phase when the line is not known), in
 * file order (apply, then rollback), at most MAX_LISTED, then how many more
 * and one line on changing the policy.  To out: stdout, or stderr when
 * stdout carries TAP.
 *
 * A 2,000-table run has thousands of findings: only the listed ones are
 * rendered to keep; the others are a small record pointing at their row,
 * told apart from an earlier equal text by a hash of the text (and the
 * texts themselves when the hashes are equal).
 */
static void
print_findings(run_ctx *ctx, FILE *out, const char *out_dir, bool wrote)
{
	listed_finding *f;
	size_t		n = 0,
				max = 0,
				tsize = 1;
	size_t	   *table;			/* open addressing: index + 1 into f, 0 empty */
	size_t		i;
	json_t	   *round;
	const char *keys[] = {"verification", "rollback_verification"};

	json_array_foreach(json_object_get(ctx->report, "rounds"), i, round)
		for (int k = 0; k < 2; k++)
			max += json_array_size(json_object_get(round, keys[k]));
	while (tsize < 2 * max)
		tsize *= 2;
	f = xmalloc((max ? max : 1) * sizeof(*f));
	table = xcalloc(tsize, sizeof(*table));

	json_array_foreach(json_object_get(ctx->report, "rounds"), i, round)
	{
		for (int k = 0; k < 2; k++)
		{
			size_t		j;
			json_t	   *r;

			json_array_foreach(json_object_get(round, keys[k]), j, r)
			{
				json_t	   *loc = json_object_get(r, "location");
				const char *st = json_string_value(json_object_get(r, "status")) ?: "";
				int			pass = strcmp(st, "fail") == 0 ? 0 : strcmp(st, "warn") == 0 ? 1 : -1;
				listed_finding *nf = &f[n];
				char	   *text;
				size_t		slot;
				bool		dup = false;

				if (pass < 0)
					continue;
				nf->pass = pass;
				nf->phase = k;
				nf->line = loc ? (long) json_integer_value(json_object_get(loc, "line")) : 0;
				nf->order = n;
				nf->row = r;
				text = finding_text(ctx, nf);
				nf->hash = text_hash(text);
				/* later rounds repeat the first one's findings */
				for (slot = nf->hash & (tsize - 1); table[slot]; slot = (slot + 1) & (tsize - 1))
				{
					const listed_finding *o = &f[table[slot] - 1];

					if (o->hash == nf->hash)
					{
						char	   *other = finding_text(ctx, o);

						dup = strcmp(other, text) == 0;
						free(other);
						if (dup)
							break;
					}
				}
				free(text);
				if (dup)
					continue;
				table[slot] = ++n;
			}
		}
	}
	free(table);
	if (n > 1)
		qsort(f, n, sizeof(*f), cmp_listed);
	for (i = 0; i < n && i < MAX_LISTED; i++)
	{
		char	   *text = finding_text(ctx, &f[i]);

		fprintf(out, "%s\n", text);
		free(text);
	}
	free(f);
	if (n > MAX_LISTED)
		fprintf(out, "drydock: ... and %zu more failing or warning checks%s%s\n", n - MAX_LISTED,
				wrote ? ": see " : "", wrote ? out_dir : "");
	if (n)
		fprintf(out, "drydock: to change the policy, pass --policy FILE with {\"rules\": {\"CODE\": \"warn\" or \"off\"}} or write \"-- drydock:ignore CODE -- reason\" above the statement (docs/policy.md, docs/codes.md)\n");
}

static void
print_summary(run_ctx *ctx, int code, const char *status, bool wrote, const char *out_dir)
{
	/* a machine format on stdout is all there is on stdout: the summary goes to stderr */
	FILE	   *sum = stdout;
	const char *colour_key = strcmp(status, "pass") == 0 ? "pass" :
		strcmp(status, "findings") == 0 && ctx->n_fail == 0 && !ctx->opt->fail_on_warn ? "warn" : "fail";
	bool		machine_stdout = ctx->opt->stdout_format && ctx->opt->stdout_format != FORMAT_TEXT;

	/* the failing and warning checks, compiler-style; never mixed into a machine format */
	print_findings(ctx, machine_stdout ? stderr : stdout, out_dir, wrote);

	term_set_prefix(NULL, 0);

	if (machine_stdout)
	{
		char	   *text = report_render_format(ctx->report, ctx->opt->stdout_format);

		fputs(text, stdout);
		free(text);
		fflush(stdout);
		sum = stderr;
	}
	{
		const char *replay = json_string_value(json_object_get(json_object_get(ctx->report, "replay"), "summary"));

		if (replay)
			fprintf(sum, "%s\n", replay);
	}
	fprintf(sum, "drydock: %s%s%s (exit %d): %d failing, %d warning checks", term_colour(sum, colour_key), status,
			term_reset(sum), code, ctx->n_fail, ctx->n_warn);
	if (ctx->n_suppressed)
		fprintf(sum, ", %d suppressed", ctx->n_suppressed);
	if (ctx->opt->fail_on_warn && ctx->n_warn)
		fprintf(sum, " (--fail-on warn)");
	if (wrote)
		fprintf(sum, "; report in %s\n", out_dir);
	else if (ctx->opt->out_defaulted && !ctx->sb_made)
		fprintf(sum, "; no report written: nothing ran (--out DIR keeps the report of a refused run)\n");
	else
		fprintf(sum, "; no report written\n");
	fflush(sum);
}

int
run_finish(run_ctx *ctx, int code, const char *status, const char *message)
{
	char		when[32];
	char		err[1024];
	bool		wrote;

	/* whichever step saw the signal, and whatever it returned: interrupted */
	if (dd_got_signal)
	{
		code = 128 + dd_got_signal;
		status = "interrupted";
		message = "interrupted by a signal";
	}
	signals_cancel_on_signal(NULL);
	run_side_close(ctx);
	if (ctx->checkpoint_conn)
	{
		PQfinish(ctx->checkpoint_conn);
		ctx->checkpoint_conn = NULL;
	}
	if (ctx->conn)
	{
		PQfinish(ctx->conn);
		ctx->conn = NULL;
	}
	if (ctx->sb_made && ctx->sb.run_dir)
	{
		if (ctx->opt->keep)
		{
			json_object_set_new(ctx->report, "teardown", json_pack("{s:b, s:s}", "done", 0, "note",
																   "--keep: the sandbox was left running"));
			fprintf(stderr, "drydock: sandbox kept running: psql -X \"host=%s port=%d user=%s dbname=%s\"; stop it with: drydock gc %s\n",
					ctx->sb.run_dir, ctx->sb.port, SANDBOX_ADMIN_ROLE, ctx->dbname, ctx->sb.run_dir);
		}
		else
		{
			bool		clean = sandbox_teardown(&ctx->sb);

			lifecycle_event(ctx, "stopped");
			if (clean)
				lifecycle_event(ctx, "removed");
			run_command(ctx, "teardown", "SIGQUIT (immediate stop), wait for every process, remove the run directory",
						clean ? "clean: no process, no directory left" : ctx->sb.teardown_note, ctx->sb.ms_teardown);
			json_object_set_new(ctx->report, "teardown", json_pack("{s:b, s:b, s:f, s:s}", "done", 1, "clean", clean,
																   "duration_ms", ctx->sb.ms_teardown, "note", ctx->sb.teardown_note));
			if (!clean && code == 0)
			{
				code = EXIT_SANDBOX;
				status = "sandbox_failed";
			}
		}
	}
	/* --fail-on warn: warning checks fail the run like failing ones */
	if (code == EXIT_PASS && ctx->opt->fail_on_warn && ctx->n_warn > 0)
	{
		code = EXIT_FINDINGS;
		status = "findings";
		message = "warning checks (--fail-on warn)";
	}
	utc_now_iso(when, sizeof(when));
	json_object_set_new(ctx->report, "ended_at", json_string(when));
	json_object_set_new(ctx->report, "duration_ms", json_real(now_ms() - ctx->t0));
	json_object_set_new(ctx->report, "status", json_string(status));
	json_object_set_new(ctx->report, "exit_code", json_integer(code));
	json_object_set_new(ctx->report, "summary", json_pack("{s:i, s:i, s:s}", "failing_checks", ctx->n_fail,
														  "warning_checks", ctx->n_warn, "message", message ? message : status));
	json_object_set_new(json_object_get(ctx->report, "summary"), "suppressed_checks", json_integer(ctx->n_suppressed));
	json_object_set_new(ctx->report, "locks", lock_table(ctx->report));
	estimate_attach(ctx->report);
	round_summaries(ctx->report);
	fidelity_notes(ctx);
	statements(ctx, status);
	{
		json_t	   *g = json_object_get(ctx->report, "gating");

		json_t	   *iso = json_object_get(ctx->report, "isolation");

		/* the banner says what the environment was, not what it should have been */
		if (!iso)
			json_object_set_new(g, "environment", json_string("none: no cluster was started, nothing was applied"));
		else if (!json_is_true(json_object_get(iso, "proven")))
			json_object_set_new(g, "environment", json_string("isolated ephemeral local cluster started, but isolation was NOT proven: nothing was applied"));
		json_object_set_new(g, "secrets_recorded", ctx->n_secrets ?
							json_sprintf("none (%zu redacted)", ctx->n_secrets) : json_string("none"));
	}
	if (ctx->opt->out_defaulted && !ctx->sb_made)
	{
		/*
		 * No --out, and the run stopped before a cluster existed (bad input,
		 * a refusal): leave no ./drydock-report-<time>/ behind for a run that
		 * never started.  Redacted all the same, for what stdout shows.
		 */
		report_redact(ctx->report, ctx->secrets, ctx->n_secrets);
		wrote = false;
	}
	else if (ctx->opt->out_defaulted && !report_prepare_dir(ctx->opt->out_dir, err, sizeof(err)))
		wrote = false;
	else
		wrote = report_write_all(ctx->opt->out_dir, ctx->report, ctx->secrets, ctx->n_secrets,
								 ctx->pgtap_spool, err, sizeof(err));
	if (!wrote && !(ctx->opt->out_defaulted && !ctx->sb_made))
	{
		dd_error("%s", err);
		if (code == 0 || code == EXIT_FINDINGS)
			code = EXIT_INTERNAL;
	}
	print_summary(ctx, code, status, wrote, ctx->opt->out_dir);
	return code;
}

static void
artifact_free(artifact *a)
{
	preflight_result_free(&a->pf);
	free(a->sandbox_copy);
	a->sandbox_copy = NULL;
}

int
run_exit(run_ctx *ctx, int code)
{
	if (ctx->sb_made)
		sandbox_free(&ctx->sb);
	if (ctx->pg_found)
		pg_install_free(&ctx->pg);
	artifact_free(&ctx->ddl);
	artifact_free(&ctx->rollback);
	artifact_free(&ctx->base);
	for (size_t i = 0; i < ctx->n_secrets; i++)
		free(ctx->secrets[i]);
	free(ctx->secrets);
	json_decref(ctx->policy);
	json_decref(ctx->prod_stats);
	json_decref(ctx->suppress_inline);
	json_decref(ctx->report);
	if (ctx->pgtap_spool)
		fclose(ctx->pgtap_spool);
	free(ctx->dbname);
	free(ctx->schema);
	free(ctx->apply_role);
	json_decref(ctx->scaffold_objects);
	free((void *) ctx->opt->prod_sysids);
	memset(ctx, 0, sizeof(*ctx));
	return code;
}

void
run_ctx_init(run_ctx *ctx, const run_options *opt)
{
	char		started[32];

	memset(ctx, 0, sizeof(*ctx));
	ctx->opt = opt;
	ctx->t0 = now_ms();
	ctx->dbname = xstrdup(opt->database);
	ctx->schema = opt->schema ? xstrdup(opt->schema) : NULL;
	utc_now_iso(started, sizeof(started));
	ctx->commands = json_array();
	ctx->lifecycle = json_array();
	ctx->report = json_pack("{s:s, s:i, s:s, s:{s:s, s:s, s:s, s:b}, s:{s:o}, s:{}, s:o, s:[], s:[]}",
						   "drydock_version", DRYDOCK_VERSION,
						   "report_format", 1,
						   "started_at", started,
						   "gating",
						   "environment", "isolated ephemeral local cluster, proven not production before anything ran",
						   "production_sql_executed", "none",
						   "secrets_recorded", "none",
						   "advances_past_dry_run", 0,
						   "environment", "lifecycle", ctx->lifecycle,
						   "artifacts",
						   "commands", ctx->commands,
						   "scaffolds",
						   "rounds");
	json_object_set_new(ctx->report, "options",
						json_pack("{s:s, s:s, s:s?, s:s?, s:b, s:i, s:b, s:i, s:b, s:b, s:i}",
								  "ddl", opt->ddl_path, "rollback", opt->rollback_path,
								  "base", opt->base_path, "policy", opt->policy_path,
								  "scaffold_schema", opt->scaffold_schema, "rounds", opt->rounds,
								  "single_transaction", opt->single_transaction,
								  "prod_version", opt->prod_version, "allow_meta", opt->allow_meta,
								  "apply_as_superuser", opt->apply_as_superuser, "timeout_s", opt->timeout_s));
	{
		json_t	   *ids = json_array();

		for (int i = 0; i < opt->n_prod_sysids; i++)
			json_array_append_new(ids, json_string(opt->prod_sysids[i]));
		json_object_set_new(json_object_get(ctx->report, "options"), "prod_sysids", ids);
	}
	if (opt->synthetic_rows > 0)
		json_object_set_new(json_object_get(ctx->report, "options"), "synthetic_rows",
							json_integer(opt->synthetic_rows));
	if (opt->prod_stats_path)
		json_object_set_new(json_object_get(ctx->report, "options"), "prod_stats",
							json_string(opt->prod_stats_path));
	{
		/* the formats report_write_all() renders, read back from the report */
		json_t	   *fmts = json_array();

		for (unsigned f = 1; f <= FORMAT_GITLAB; f <<= 1)
			if (opt->formats & f)
				json_array_append_new(fmts, json_string(report_format_name((report_format) f)));
		json_object_set_new(json_object_get(ctx->report, "options"), "format", fmts);
		json_object_set_new(json_object_get(ctx->report, "options"), "fail_on",
							json_string(opt->fail_on_warn ? "warn" : "error"));
	}
	if (opt->config_path)
		json_object_set_new(ctx->report, "config",
							json_pack("{s:s, s:s, s:b}", "path", opt->config_path, "sha256", opt->config_sha256,
									  "inline_policy", opt->policy_inline != NULL));

}

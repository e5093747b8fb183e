/*
 * report_render.c
 *		The human-readable views of report.json: execution-log.md (what an
 *		operator used to write by hand), verification-result.md (the battery
 *		and the lock table) and TAP for CI systems.  Each is rendered only from
 *		the JSON document, never from state the JSON does not hold.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "util.h"

static const char *
str(json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));

	return v ? v : "";
}

/* Markdown table cell: no pipes or newlines. */
static void
cell(strbuf *sb, const char *s)
{
	for (; s && *s; s++)
	{
		if (*s == '|')
			sb_append(sb, "\\|");
		else if (*s == '\n' || *s == '\r')
			sb_append(sb, " ");
		else
			sb_appendn(sb, s, 1);
	}
}

static void
tags_line(strbuf *sb, json_t *apply)
{
	json_t	   *tags = json_object_get(apply, "tags");
	json_t	   *order = json_object_get(apply, "tag_order");
	size_t		i;
	json_t	   *t;
	bool		first = true;

	json_array_foreach(order, i, t)
	{
		json_int_t	n = json_integer_value(json_object_get(tags, json_string_value(t)));

		if (n == 1)
			sb_printf(sb, "%s\"%s\"", first ? "" : " + ", json_string_value(t));
		else
			sb_printf(sb, "%s%lldx \"%s\"", first ? "" : " + ", (long long) n, json_string_value(t));
		first = false;
	}
	if (first)
		sb_append(sb, "(no command tags)");
}

static void
phase_section(strbuf *sb, const char *title, json_t *apply, json_t *log)
{
	size_t		i;
	json_t	   *m;
	int			created = 0;

	if (!apply)
		return;
	sb_printf(sb, "### %s\n\n", title);
	sb_printf(sb, "- file: `%s`\n", str(apply, "file"));
	sb_printf(sb, "- rc: %lld%s%s\n", (long long) json_integer_value(json_object_get(apply, "exit_code")),
			  json_is_true(json_object_get(apply, "timed_out")) ? " (timed out)" : "",
			  json_is_true(json_object_get(apply, "interrupted")) ? " (interrupted)" : "");
	sb_printf(sb, "- duration: %.1f ms\n", json_real_value(json_object_get(apply, "duration_ms")));
	sb_append(sb, "- psql output: ");
	tags_line(sb, apply);
	sb_append(sb, "\n");
	json_array_foreach(log, i, m)
		if (strncmp(str(m, "command_tag"), "CREATE", 6) == 0 && json_object_get(m, "identity"))
		created++;
	if (log)
		sb_printf(sb, "- captured DDL events: %zu (%d CREATE)\n", json_array_size(log), created);
	if (json_object_get(apply, "error"))
	{
		json_t	   *e = json_object_get(apply, "error");

		sb_printf(sb, "- **error** at line %lld: ", (long long) json_integer_value(json_object_get(e, "line")));
		cell(sb, str(e, "message"));
		sb_append(sb, "\n");
	}
	else
		sb_append(sb, "- errors: none\n");
	if (json_array_size(json_object_get(apply, "messages")) > 0)
	{
		sb_append(sb, "- server messages:\n");
		json_array_foreach(json_object_get(apply, "messages"), i, m)
		{
			sb_printf(sb, "  - line %lld %s: ", (long long) json_integer_value(json_object_get(m, "line")),
					  str(m, "severity"));
			cell(sb, str(m, "message"));
			sb_append(sb, "\n");
		}
	}
	else
		sb_append(sb, "- NOTICE/WARNING: none\n");
	sb_append(sb, "\n");
}

static void
checks_table(strbuf *sb, json_t *rows)
{
	size_t		i;
	json_t	   *r;

	sb_append(sb, "| family | code | status | object | message |\n|---|---|---|---|---|\n");
	json_array_foreach(rows, i, r)
	{
		sb_printf(sb, "| %s | %s | %s | ", str(r, "family"), str(r, "code"), str(r, "status"));
		cell(sb, str(r, "object"));
		sb_append(sb, " | ");
		cell(sb, str(r, "message"));
		sb_append(sb, " |\n");
	}
	sb_append(sb, "\n");
}

static int
count_status(json_t *rows, const char *status)
{
	size_t		i;
	json_t	   *r;
	int			n = 0;

	json_array_foreach(rows, i, r)
		if (strcmp(str(r, "status"), status) == 0)
		n++;
	return n;
}

char *
report_render_execution_log(json_t *doc)
{
	strbuf		sb;
	json_t	   *g = json_object_get(doc, "gating");
	json_t	   *env = json_object_get(doc, "environment");
	json_t	   *iso = json_object_get(doc, "isolation");
	json_t	   *opts = json_object_get(doc, "options");
	json_t	   *arts = json_object_get(doc, "artifacts");
	size_t		i;
	json_t	   *v;
	const char *key;

	sb_init(&sb);
	sb_append(&sb, "# drydock execution log\n\n");
	sb_append(&sb, "```\n");
	sb_printf(&sb, "environment:             %s\n", str(g, "environment"));
	sb_printf(&sb, "production_sql_executed: %s\n", str(g, "production_sql_executed"));
	sb_printf(&sb, "secrets_recorded:        %s\n", str(g, "secrets_recorded"));
	sb_append(&sb, "advances_past_dry_run:   no (drydock never applies anything to production)\n");
	sb_printf(&sb, "status:                  %s (exit %lld)\n", str(doc, "status"),
			  (long long) json_integer_value(json_object_get(doc, "exit_code")));
	sb_append(&sb, "```\n\n");

	sb_append(&sb, "## Environment\n\n");
	sb_printf(&sb, "- kind: %s\n", str(env, "kind"));
	sb_printf(&sb, "- cluster origin: %s\n", str(env, "cluster_origin"));
	sb_printf(&sb, "- socket directory: %s\n", str(env, "socket_directory"));
	sb_printf(&sb, "- TCP listener: none (see proof of isolation)\n");
	sb_printf(&sb, "- database: %s\n", str(env, "database"));
	sb_printf(&sb, "- admin role: %s\n", str(env, "admin_role"));
	sb_printf(&sb, "- apply role: %s%s\n", str(env, "apply_role"),
			  json_is_true(json_object_get(env, "apply_as_superuser")) ? " (superuser, by --apply-as-superuser)" : "");
	sb_printf(&sb, "- server version: %s\n", str(env, "server_version"));
	sb_printf(&sb, "- sandbox system identifier: %s\n", str(env, "system_identifier"));
	sb_append(&sb, "- production system identifiers given: ");
	if (json_array_size(json_object_get(opts, "prod_sysids")) == 0)
		sb_append(&sb, "none");
	json_array_foreach(json_object_get(opts, "prod_sysids"), i, v)
		sb_printf(&sb, "%s%s", i ? ", " : "", json_string_value(v));
	sb_append(&sb, "\n");
	sb_printf(&sb, "- run as OS user: %s\n", str(env, "run_as_user"));
	sb_printf(&sb, "- started: %s, ended: %s (%.0f ms)\n", str(doc, "started_at"), str(doc, "ended_at"),
			  json_real_value(json_object_get(doc, "duration_ms")));
	sb_printf(&sb, "- drydock version: %s\n", str(doc, "drydock_version"));
	sb_append(&sb, "- lifecycle: ");
	json_array_foreach(json_object_get(env, "lifecycle"), i, v)
		sb_printf(&sb, "%s%s", i ? " → " : "", str(v, "event"));
	sb_append(&sb, "\n\n");

	sb_append(&sb, "### Proof of isolation\n\n");
	if (iso)
	{
		sb_printf(&sb, "Proven: **%s**\n\n| fact | expected | observed | ok |\n|---|---|---|---|\n",
				  json_is_true(json_object_get(iso, "proven")) ? "yes" : "NO");
		json_array_foreach(json_object_get(iso, "facts"), i, v)
		{
			sb_append(&sb, "| ");
			cell(&sb, str(v, "fact"));
			sb_append(&sb, " | ");
			cell(&sb, str(v, "expected"));
			sb_append(&sb, " | ");
			cell(&sb, str(v, "observed"));
			sb_printf(&sb, " | %s |\n", json_is_true(json_object_get(v, "ok")) ? "yes" : "NO");
		}
		sb_append(&sb, "\n");
	}
	else
		sb_append(&sb, "Not reached: no cluster was started.\n\n");

	sb_append(&sb, "## Artifacts\n\n| artifact | path | sha256 | bytes | statements |\n|---|---|---|---|---|\n");
	json_object_foreach(arts, key, v)
	{
		sb_printf(&sb, "| %s | `", key);
		cell(&sb, str(v, "path"));
		sb_printf(&sb, "` | %s | %lld | %lld |\n", str(v, "sha256"),
				  (long long) json_integer_value(json_object_get(v, "size")),
				  (long long) json_integer_value(json_object_get(v, "statements")));
	}
	sb_append(&sb, "\n");

	sb_append(&sb, "## Commands executed\n\n| # | kind | command | result | ms |\n|---|---|---|---|---|\n");
	json_array_foreach(json_object_get(doc, "commands"), i, v)
	{
		sb_printf(&sb, "| %lld | %s | ", (long long) json_integer_value(json_object_get(v, "n")), str(v, "kind"));
		cell(&sb, str(v, "command"));
		sb_append(&sb, " | ");
		cell(&sb, str(v, "result"));
		sb_printf(&sb, " | %.1f |\n", json_real_value(json_object_get(v, "duration_ms")));
	}
	sb_append(&sb, "\n## Results\n\n");
	json_array_foreach(json_object_get(doc, "rounds"), i, v)
	{
		json_t	   *rb = json_object_get(v, "rollback_verification");
		json_t	   *ver = json_object_get(v, "verification");
		json_t	   *res = json_object_get(v, "residue");
		size_t		j;
		json_t	   *w;

		sb_printf(&sb, "## Round %lld\n\n", (long long) json_integer_value(json_object_get(v, "round")));
		phase_section(&sb, "Apply", json_object_get(v, "apply"), json_object_get(v, "apply_ddl_log"));
		if (ver)
			sb_printf(&sb, "### Verification\n\n%s: %d fail, %d warn, %d pass, %d skipped (details in verification-result.md)\n\n",
					  count_status(ver, "fail") ? "FAILURES" : "all pass",
					  count_status(ver, "fail"), count_status(ver, "warn"),
					  count_status(ver, "pass"), count_status(ver, "skipped"));
		phase_section(&sb, "Rollback", json_object_get(v, "rollback"), json_object_get(v, "rollback_ddl_log"));
		if (rb)
		{
			sb_printf(&sb, "### Re-check after rollback\n\n- rollback checks: %d fail, %d warn, %d pass\n",
					  count_status(rb, "fail"), count_status(rb, "warn"), count_status(rb, "pass"));
			sb_printf(&sb, "- differences from the pre-apply baseline: %zu\n", json_array_size(res));
			json_array_foreach(res, j, w)
			{
				sb_printf(&sb, "  - %s %s `", str(w, "change"), str(w, "kind"));
				cell(&sb, str(w, "identity"));
				sb_append(&sb, "`\n");
			}
			sb_append(&sb, "- objects left in the target schema: ");
			if (json_array_size(json_object_get(v, "post_rollback_objects_in_schema")) == 0)
				sb_append(&sb, "none");
			json_array_foreach(json_object_get(v, "post_rollback_objects_in_schema"), j, w)
				sb_printf(&sb, "%s%s %s", j ? ", " : "", str(w, "count"), str(w, "kind"));
			sb_append(&sb, "\n\n");
		}
	}
	if (json_object_get(doc, "error"))
	{
		json_t	   *e = json_object_get(doc, "error");

		sb_append(&sb, "## Error\n\n");
		if (json_object_get(e, "file"))
			sb_printf(&sb, "- where: `%s`%s", str(e, "file"), json_object_get(e, "line") ? ":" : "");
		if (json_object_get(e, "line"))
			sb_printf(&sb, "%lld", (long long) json_integer_value(json_object_get(e, "line")));
		sb_append(&sb, "\n- message: ");
		cell(&sb, str(e, "message"));
		sb_append(&sb, "\n\n");
	}
	{
		json_t	   *td = json_object_get(doc, "teardown");

		sb_append(&sb, "## Teardown\n\n");
		if (!td)
			sb_append(&sb, "No cluster existed.\n\n");
		else if (!json_is_true(json_object_get(td, "done")))
			sb_printf(&sb, "%s\n\n", str(td, "note"));
		else
			sb_printf(&sb, "Stopped (immediate) and removed in %.0f ms: %s%s\n\n",
					  json_real_value(json_object_get(td, "duration_ms")),
					  json_is_true(json_object_get(td, "clean")) ? "verified clean, no process and no directory left" : "NOT clean: ",
					  str(td, "note"));
	}
	sb_append(&sb, "## Fidelity notes\n\n");
	json_array_foreach(json_object_get(doc, "fidelity_notes"), i, v)
	{
		sb_printf(&sb, "- **%s %s** (%s): ", str(v, "id"), str(v, "title"), str(v, "status"));
		cell(&sb, str(v, "text"));
		sb_append(&sb, "\n");
	}
	sb_append(&sb, "\n## Statements\n\n");
	json_array_foreach(json_object_get(doc, "statements"), i, v)
		sb_printf(&sb, "- %s\n", json_string_value(v));
	sb_append(&sb, "\n### Not exercised\n\n");
	json_array_foreach(json_object_get(doc, "not_exercised"), i, v)
		sb_printf(&sb, "- %s\n", json_string_value(v));
	return sb.data;
}

char *
report_render_verification(json_t *doc)
{
	strbuf		sb;
	size_t		i;
	json_t	   *round;
	json_t	   *v;

	sb_init(&sb);
	sb_append(&sb, "# drydock verification result\n\n");
	sb_printf(&sb, "Target schema: `%s`. Status: **%s** (exit %lld).\n\n", str(doc, "target_schema"),
			  str(doc, "status"), (long long) json_integer_value(json_object_get(doc, "exit_code")));
	json_array_foreach(json_object_get(doc, "rounds"), i, round)
	{
		const char *families[] = {"TV", "KC", "CV", "NH", "AO", NULL};

		sb_printf(&sb, "## Round %lld\n\n", (long long) json_integer_value(json_object_get(round, "round")));
		for (int f = 0; families[f]; f++)
		{
			json_t	   *rows = json_array();
			size_t		j;
			json_t	   *r;

			json_array_foreach(json_object_get(round, "verification"), j, r)
				if (strcmp(str(r, "family"), families[f]) == 0)
				json_array_append(rows, r);
			sb_printf(&sb, "### %s\n\n", families[f]);
			checks_table(&sb, rows);
			json_decref(rows);
		}
		sb_append(&sb, "### RB (rollback)\n\n");
		checks_table(&sb, json_object_get(round, "rollback_verification"));
	}
	sb_append(&sb, "## Locks on pre-existing relations\n\n");
	if (json_array_size(json_object_get(doc, "locks")) == 0)
		sb_append(&sb, "No statement took a lock on a relation that existed before the migration.\n");
	else
	{
		sb_append(&sb, "| phase | statement | object | locks | rewrite |\n|---|---|---|---|---|\n");
		json_array_foreach(json_object_get(doc, "locks"), i, v)
		{
			sb_printf(&sb, "| %s | %s | ", str(v, "phase"), str(v, "command_tag"));
			cell(&sb, str(v, "identity"));
			sb_append(&sb, " | ");
			cell(&sb, str(v, "locks"));
			sb_printf(&sb, " | %s |\n", json_is_true(json_object_get(v, "rewrite")) ? "yes" : "no");
		}
	}
	return sb.data;
}

char *
report_render_tap(json_t *doc)
{
	strbuf		sb;
	strbuf		body;
	size_t		i;
	json_t	   *round;
	int			n = 0;

	if (json_object_get(doc, "replay"))
		return report_render_replay_tap(doc);
	sb_init(&sb);
	sb_init(&body);
	json_array_foreach(json_object_get(doc, "rounds"), i, round)
	{
		const char *keys[] = {"verification", "rollback_verification"};

		for (int k = 0; k < 2; k++)
		{
			size_t		j;
			json_t	   *r;

			json_array_foreach(json_object_get(round, keys[k]), j, r)
			{
				const char *st = str(r, "status");

				n++;
				sb_printf(&body, "%s %d - %s %s %s", strcmp(st, "fail") == 0 ? "not ok" : "ok", n,
						  str(r, "code"), str(r, "object"), str(r, "message"));
				if (strcmp(st, "skipped") == 0)
					sb_append(&body, " # SKIP");
				else if (strcmp(st, "warn") == 0)
					sb_append(&body, " # TODO warning");
				sb_append(&body, "\n");
			}
		}
	}
	if (json_object_get(doc, "error"))
	{
		n++;
		sb_printf(&body, "not ok %d - run: %s\n", n, str(json_object_get(doc, "error"), "message"));
	}
	sb_printf(&sb, "TAP version 13\n1..%d\n", n);
	sb_append(&sb, body.data);
	sb_free(&body);
	return sb.data;
}

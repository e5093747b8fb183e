/*
 * report_render.c
 *		The human-readable views of report.json: execution-log.md (what an
 *		operator used to write by hand), verification-result.md (the battery
 *		and the lock table) and TAP for CI systems.  Each is rendered only from
 *		the JSON document, never from state the JSON does not hold.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render.h"
#include "report.h"
#include "util.h"

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

/* "12 table, 27 index" from a {type: count} object, or none_text. */
static void
counts_line(strbuf *sb, json_t *counts, const char *none_text)
{
	const char *key;
	json_t	   *v;
	bool		first = true;

	json_object_foreach(counts, key, v)
	{
		sb_printf(sb, "%s%lld %s", first ? "" : ", ", (long long) json_integer_value(v), key);
		first = false;
	}
	if (first)
		sb_append(sb, none_text);
}

static json_int_t
sum_counts(json_t *counts)
{
	const char *key;
	json_t	   *v;
	json_int_t	n = 0;

	json_object_foreach(counts, key, v)
		n += json_integer_value(v);
	return n;
}

static void
row(strbuf *sb, const char *name, const char *value)
{
	sb_printf(sb, "| %s | ", name);
	report_md_cell(sb, value);
	sb_append(sb, " |\n");
}

static void
rowf(strbuf *sb, const char *name, const char *fmt,...) __attribute__((format(printf, 3, 4)));

static void
rowf(strbuf *sb, const char *name, const char *fmt,...)
{
	char		buf[2048];
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	row(sb, name, buf);
}

/* One psql phase (apply or rollback) as a two-column table. */
static void
phase_table(strbuf *sb, json_t *ph, json_t *log, json_t *summary, json_t *objects,
			const char *objects_label)
{
	strbuf		tmp;
	size_t		i;
	json_t	   *m;

	sb_append(sb, "| | |\n|---|---|\n");
	sb_printf(sb, "| file | `");
	report_md_cell(sb, report_str(ph, "file"));
	sb_append(sb, "` |\n");
	rowf(sb, "rc", "%lld%s%s", (long long) json_integer_value(json_object_get(ph, "exit_code")),
		 json_is_true(json_object_get(ph, "timed_out")) ? " (timed out)" : "",
		 json_is_true(json_object_get(ph, "interrupted")) ? " (interrupted)" : "");
	rowf(sb, "duration", "%.1f ms", json_real_value(json_object_get(ph, "duration_ms")));
	sb_init(&tmp);
	tags_line(&tmp, ph);
	row(sb, "psql output", tmp.data);
	sb_free(&tmp);
	if (objects)
	{
		sb_init(&tmp);
		sb_printf(&tmp, "%lld: ", (long long) sum_counts(objects));
		counts_line(&tmp, objects, "none");
		row(sb, objects_label, tmp.data);
		sb_free(&tmp);
	}
	if (log && summary)
		rowf(sb, "captured DDL events", "%lld (%zu listed in report.json: those with a lock on a pre-existing relation, a rewrite or a cascade)",
			 (long long) json_integer_value(json_object_get(summary, "events")), json_array_size(log));
	else if (log)
		rowf(sb, "captured DDL events", "%zu", json_array_size(log));
	else
		row(sb, "captured DDL events", "not captured (the phase did not complete)");
	{
		size_t		nmsg = 0;

		json_array_foreach(json_object_get(ph, "messages"), i, m)
			if (strcmp(report_str(m, "severity"), "NOTICE") == 0 || strcmp(report_str(m, "severity"), "WARNING") == 0)
			nmsg++;
		rowf(sb, "NOTICE / WARNING", "%zu", nmsg);
	}
	if (json_object_get(ph, "error"))
	{
		json_t	   *e = json_object_get(ph, "error");

		rowf(sb, "error", "**line %lld: %s**", (long long) json_integer_value(json_object_get(e, "line")),
			 report_str(e, "message"));
	}
	else
		row(sb, "errors", "none");
	sb_append(sb, "\n");
	if (json_array_size(json_object_get(ph, "messages")) > 0)
	{
		sb_append(sb, "Server messages:\n\n| line | severity | message |\n|---|---|---|\n");
		json_array_foreach(json_object_get(ph, "messages"), i, m)
		{
			sb_printf(sb, "| %lld | %s | ", (long long) json_integer_value(json_object_get(m, "line")),
					  report_str(m, "severity"));
			report_md_cell(sb, report_str(m, "message"));
			if (json_object_get(m, "detail"))
			{
				sb_append(sb, " (");
				report_md_cell(sb, report_str(m, "detail"));
				sb_append(sb, ")");
			}
			sb_append(sb, " |\n");
		}
		sb_append(sb, "\n");
	}
}

/* Failing and warning rows of a check list, as bullet points. */
static void
problem_list(strbuf *sb, json_t *rows)
{
	size_t		i;
	json_t	   *r;

	json_array_foreach(rows, i, r)
	{
		if (strcmp(report_str(r, "status"), "fail") != 0 && strcmp(report_str(r, "status"), "warn") != 0)
			continue;
		sb_printf(sb, "- %s %s `", report_str(r, "status"), report_str(r, "code"));
		report_md_cell(sb, report_str(r, "object"));
		sb_append(sb, "`: ");
		report_md_cell(sb, report_str(r, "message"));
		sb_append(sb, "\n");
	}
}

static json_t *
fact_named(json_t *iso, const char *prefix)
{
	size_t		i;
	json_t	   *v;

	json_array_foreach(json_object_get(iso, "facts"), i, v)
		if (strncmp(report_str(v, "fact"), prefix, strlen(prefix)) == 0)
		return v;
	return NULL;
}

static void
environment_section(strbuf *sb, json_t *doc)
{
	json_t	   *env = json_object_get(doc, "environment");
	json_t	   *iso = json_object_get(doc, "isolation");
	json_t	   *opts = json_object_get(doc, "options");
	json_t	   *tpl = json_object_get(env, "template");
	json_t	   *ids = json_object_get(opts, "prod_sysids");
	strbuf		tmp;
	size_t		i;
	json_t	   *v;
	const char *sysid = report_str(env, "system_identifier");

	sb_append(sb, "## Environment\n\n");
	if (!json_object_get(env, "kind"))
	{
		sb_append(sb, "No cluster was started: the run stopped before the sandbox was created.\n\n");
		sb_append(sb, "| | |\n|---|---|\n");
		rowf(sb, "started (UTC)", "%s", report_str(doc, "started_at"));
		rowf(sb, "ended (UTC)", "%s (%.0f ms)", report_str(doc, "ended_at"),
			 json_real_value(json_object_get(doc, "duration_ms")));
		rowf(sb, "drydock version", "%s", report_str(doc, "drydock_version"));
		sb_append(sb, "\n");
		return;
	}
	sb_append(sb, "| | |\n|---|---|\n");
	row(sb, "kind", report_str(env, "kind"));
	sb_init(&tmp);
	sb_append(&tmp, report_str(env, "cluster_origin"));
	if (tpl)
		sb_printf(&tmp, " (template made %s%s, cloned in %.0f ms; %s)", report_str(tpl, "created_at"),
				  json_is_true(json_object_get(tpl, "built_by_this_run")) ? " by this run" : "",
				  json_real_value(json_object_get(tpl, "clone_ms")), report_str(tpl, "note"));
	else if (strcmp(report_str(env, "cluster_origin"), "initdb") == 0 || json_real_value(json_object_get(env, "initdb_ms")) > 0)
		sb_printf(&tmp, " (initdb in %.0f ms)", json_real_value(json_object_get(env, "initdb_ms")));
	row(sb, "cluster origin", tmp.data);
	sb_free(&tmp);
	{
		json_t	   *bc = json_object_get(env, "base_cache");

		/* no --base: the entry is the prepared empty database */
		bool		empty = bc && json_is_true(json_object_get(bc, "empty_base"));

		if (bc && strcmp(report_str(bc, "origin"), "cache") == 0)
		{
			sb_init(&tmp);
			sb_printf(&tmp, "%s from cache (made at %s, cloned in %.0f ms; entry %s)",
					  empty ? "no --base: apply role, database and extension prepared" : "base restored",
					  report_str(bc, "created_at"), json_real_value(json_object_get(bc, "ms")), report_str(bc, "key"));
			row(sb, "base", tmp.data);
			sb_free(&tmp);
		}
		else if (bc)
		{
			sb_init(&tmp);
			sb_printf(&tmp, "%s by this run; %s (entry %s)",
					  empty ? "no --base: apply role, database and extension prepared" : "base restored",
					  json_is_true(json_object_get(bc, "stored_by_this_run")) ? "cached for the next run" : "a concurrent run had cached it",
					  report_str(bc, "key"));
			row(sb, "base", tmp.data);
			sb_free(&tmp);
		}
	}
	row(sb, "OS user running the cluster", report_str(env, "run_as_user"));
	row(sb, "socket directory", report_str(env, "socket_directory"));
	if (json_object_get(env, "port"))
	{
		json_t	   *f4 = fact_named(iso, "tcp 127.0.0.1");
		json_t	   *f6 = fact_named(iso, "tcp [::1]");
		json_t	   *fl = fact_named(iso, "postmaster listening tcp");

		sb_init(&tmp);
		sb_printf(&tmp, "none (listen_addresses=''); probes: 127.0.0.1:port %s, [::1]:port %s; TCP sockets held by the postmaster: %s",
				  f4 ? report_str(f4, "observed") : "not probed", f6 ? report_str(f6, "observed") : "not probed",
				  fl ? report_str(fl, "observed") : "not checked");
		row(sb, "TCP listener", tmp.data);
		sb_free(&tmp);
		rowf(sb, "port (unix socket name only)", "%lld", (long long) json_integer_value(json_object_get(env, "port")));
	}
	if (json_object_get(env, "network_namespace"))
		row(sb, "network namespace", json_is_true(json_object_get(env, "network_namespace")) ?
			"private (the postmaster sees only its own loopback)" : "not available: the host's network namespace");
	if (json_object_get(env, "containment"))
	{
		json_t	   *c = json_object_get(env, "containment");
		json_t	   *a;
		size_t		ai;
		strbuf		ctext;

		sb_init(&ctext);
		if (strcmp(report_str(c, "level"), "full") == 0)
			sb_printf(&ctext, "full: namespaces %s%s; the server sees read-only %s, its run directory (writable), "
					  "private /tmp, /dev/shm%s; nothing else of the host; no capabilities, no_new_privs",
					  report_str(c, "namespaces"), json_is_true(json_object_get(c, "user_namespace")) ? " (unprivileged user namespace)" : "",
					  report_str(c, "filesystem_view"), json_is_true(json_object_get(c, "private_proc")) ? " and /proc" : "");
		else
			sb_printf(&ctext, "WEAK (%s): the server sees the host's filesystem as user %s",
					  report_str(c, "level"), report_str(env, "run_as_user"));
		json_array_foreach(json_object_get(c, "attempts"), ai, a)
			sb_printf(&ctext, "; tried %s: %s", report_str(a, "tried"), report_str(a, "result"));
		row(sb, "containment", ctext.data);
		sb_free(&ctext);
	}
	row(sb, "database", json_object_get(env, "database") ? report_str(env, "database") : "not created");
	row(sb, "admin role", report_str(env, "admin_role"));
	if (json_object_get(env, "apply_role"))
	{
		const char *why = report_str(env, "apply_role_reason");

		/* why this role, when the base decided it (or could not) */
		rowf(sb, "apply role", "%s%s%s%s", report_str(env, "apply_role"),
			 json_is_true(json_object_get(env, "apply_as_superuser")) ? " (superuser, by --apply-as-superuser)" : " (not superuser)",
			 why[0] && why[0] != '-' && strcmp(why, "the default: no --base") != 0 ? "; " : "",
			 why[0] && why[0] != '-' && strcmp(why, "the default: no --base") != 0 ? why : "");
	}
	else
		row(sb, "apply role", "not created");
	row(sb, "server version", json_object_get(env, "server_version") ? report_str(env, "server_version") : "not reached");
	row(sb, "sandbox system identifier", *sysid ? sysid : "not read");
	if (json_object_get(env, "psql_restricted_mode"))
		row(sb, "psql", json_is_true(json_object_get(env, "psql_restricted_mode")) ?
			"-X, restricted mode (\\restrict): meta-commands refused" : "-X, without restricted mode");
	rowf(sb, "started (UTC)", "%s", report_str(doc, "started_at"));
	rowf(sb, "ended (UTC)", "%s (%.0f ms)", report_str(doc, "ended_at"), json_real_value(json_object_get(doc, "duration_ms")));
	row(sb, "drydock version", report_str(doc, "drydock_version"));
	sb_init(&tmp);
	json_array_foreach(json_object_get(env, "lifecycle"), i, v)
		sb_printf(&tmp, "%s%s", i ? " → " : "", report_str(v, "event"));
	row(sb, "lifecycle", tmp.len ? tmp.data : "none");
	sb_free(&tmp);
	sb_append(sb, "\n");

	sb_append(sb, "### System identifier\n\n");
	if (!*sysid)
		sb_append(sb, "The sandbox's system identifier was not read.\n\n");
	else if (json_array_size(ids) == 0)
		sb_printf(sb, "Sandbox: %s. No production system identifier was given (`--prod-sysid`): "
				  "the comparison with production was not made.\n\n", sysid);
	else
	{
		sb_append(sb, "| production (--prod-sysid) | sandbox | differs |\n|---|---|---|\n");
		json_array_foreach(ids, i, v)
			sb_printf(sb, "| %s | %s | %s |\n", json_string_value(v), sysid,
					  strcmp(json_string_value(v), sysid) != 0 ? "yes" : "**NO: same identifier**");
		sb_append(sb, "\n");
	}

	sb_append(sb, "### Proof of isolation\n\n");
	if (iso)
	{
		sb_printf(sb, "Proven: **%s**\n\n| fact | expected | observed | ok |\n|---|---|---|---|\n",
				  json_is_true(json_object_get(iso, "proven")) ? "yes" : "NO");
		json_array_foreach(json_object_get(iso, "facts"), i, v)
		{
			sb_append(sb, "| ");
			report_md_cell(sb, report_str(v, "fact"));
			sb_append(sb, " | ");
			report_md_cell(sb, report_str(v, "expected"));
			sb_append(sb, " | ");
			report_md_cell(sb, report_str(v, "observed"));
			sb_printf(sb, " | %s |\n", json_is_true(json_object_get(v, "ok")) ? "yes" : "**NO**");
		}
		sb_append(sb, "\n");
	}
	else
		sb_append(sb, "Not reached: the cluster was not started.\n\n");
}

static void
outcome_section(strbuf *sb, json_t *doc)
{
	json_t	   *e = json_object_get(doc, "error");
	json_t	   *cmds = json_object_get(doc, "commands");
	json_t	   *sum = json_object_get(doc, "summary");

	sb_append(sb, "## Outcome\n\n");
	sb_printf(sb, "**%s** (exit %lld): ", report_str(doc, "status"),
			  (long long) json_integer_value(json_object_get(doc, "exit_code")));
	report_md_cell(sb, report_str(sum, "message"));
	sb_printf(sb, ". Failing checks: %lld, warnings: %lld.\n\n",
			  (long long) json_integer_value(json_object_get(sum, "failing_checks")),
			  (long long) json_integer_value(json_object_get(sum, "warning_checks")));
	if (e)
	{
		sb_append(sb, "What stopped the run:\n\n");
		if (json_object_get(e, "file"))
		{
			sb_append(sb, "- where: `");
			report_md_cell(sb, report_str(e, "file"));
			if (json_object_get(e, "line"))
				sb_printf(sb, ":%lld", (long long) json_integer_value(json_object_get(e, "line")));
			sb_append(sb, "`\n");
		}
		if (json_object_get(e, "code"))
			sb_printf(sb, "- refusal code: `%s`\n", report_str(e, "code"));
		sb_append(sb, "- why: ");
		report_md_cell(sb, report_str(e, "message"));
		sb_append(sb, "\n");
		if (json_array_size(cmds) > 0)
		{
			json_t	   *last = json_array_get(cmds, json_array_size(cmds) - 1);

			if (strcmp(report_str(last, "kind"), "teardown") == 0 && json_array_size(cmds) > 1)
				last = json_array_get(cmds, json_array_size(cmds) - 2);
			sb_printf(sb, "- last step: #%lld %s: ", (long long) json_integer_value(json_object_get(last, "n")),
					  report_str(last, "kind"));
			report_md_cell(sb, report_str(last, "result"));
			sb_append(sb, "\n");
		}
		else
			sb_append(sb, "- last step: none: nothing was executed\n");
		sb_append(sb, "\n");
	}
}

static void
artifacts_section(strbuf *sb, json_t *doc)
{
	json_t	   *arts = json_object_get(doc, "artifacts");
	const char *key;
	json_t	   *v;
	bool		any = false;

	sb_append(sb, "## Artifacts\n\n");
	if (json_object_size(arts) == 0)
	{
		sb_append(sb, "None was read.\n\n");
		return;
	}
	sb_append(sb, "| artifact | path | sha256 | bytes | lines | statements |\n|---|---|---|---|---|---|\n");
	json_object_foreach(arts, key, v)
	{
		sb_printf(sb, "| %s | `", key);
		report_md_cell(sb, report_str(v, "path"));
		sb_printf(sb, "` | %s | %lld | %lld | %lld |\n", *report_str(v, "sha256") ? report_str(v, "sha256") : "(not read)",
				  (long long) json_integer_value(json_object_get(v, "size")),
				  (long long) json_integer_value(json_object_get(v, "lines")),
				  (long long) json_integer_value(json_object_get(v, "statements")));
	}
	sb_append(sb, "\n");
	json_object_foreach(arts, key, v)
		if (json_array_size(json_object_get(v, "findings")) > 0)
		any = true;
	if (any)
	{
		size_t		i;
		json_t	   *f;

		sb_append(sb, "Preflight findings:\n\n| artifact | line | kind | code | message |\n|---|---|---|---|---|\n");
		json_object_foreach(arts, key, v)
			json_array_foreach(json_object_get(v, "findings"), i, f)
		{
			sb_printf(sb, "| %s | %lld | %s | %s | ", key, (long long) json_integer_value(json_object_get(f, "line")),
					  report_str(f, "kind"), report_str(f, "code"));
			report_md_cell(sb, report_str(f, "message"));
			sb_append(sb, " |\n");
		}
		sb_append(sb, "\n");
	}
	if (json_array_size(json_object_get(doc, "scaffolds")) > 0)
	{
		size_t		i;

		sb_append(sb, "Added by drydock for the empty cluster (scaffolds, see N-4):\n\n");
		json_array_foreach(json_object_get(doc, "scaffolds"), i, v)
		{
			sb_append(sb, "- ");
			report_md_cell(sb, json_string_value(v));
			sb_append(sb, "\n");
		}
		sb_append(sb, "\n");
	}
}

static void
round_results(strbuf *sb, json_t *v, const char *pfx)
{
	json_t	   *rb = json_object_get(v, "rollback_verification");
	json_t	   *ver = json_object_get(v, "verification");
	json_t	   *res = json_object_get(v, "residue");
	size_t		j;
	json_t	   *w;

	if (json_object_get(v, "apply"))
	{
		sb_printf(sb, "### %sApply\n\n", pfx);
		phase_table(sb, json_object_get(v, "apply"), json_object_get(v, "apply_ddl_log"),
					json_object_get(v, "apply_ddl_log_summary"),
					json_object_get(v, "objects_created"), "objects created");
	}
	sb_printf(sb, "### %sVerification\n\n", pfx);
	if (ver)
	{
		sb_printf(sb, "%s: %d fail, %d warn, %d pass, %d skipped, %d suppressed (every check in verification-result.md).\n\n",
				  report_count_status(ver, "fail") ? "**FAILURES**" : "All pass",
				  report_count_status(ver, "fail"), report_count_status(ver, "warn"), report_count_status(ver, "pass"),
				  report_count_status(ver, "skipped"), report_count_status(ver, "suppressed"));
		problem_list(sb, ver);
		if (report_count_status(ver, "fail") + report_count_status(ver, "warn"))
			sb_append(sb, "\n");
	}
	else
		sb_append(sb, "Not run: the apply did not complete.\n\n");
	sb_printf(sb, "### %sRollback\n\n", pfx);
	if (!json_object_get(v, "rollback"))
	{
		sb_append(sb, "Not run: the run stopped before the rollback.\n\n");
		return;
	}
	phase_table(sb, json_object_get(v, "rollback"), json_object_get(v, "rollback_ddl_log"),
				json_object_get(v, "rollback_ddl_log_summary"),
				json_object_get(v, "objects_dropped"), "objects dropped");
	if (!rb)
		return;
	sb_printf(sb, "### %sAfter the rollback\n\n", pfx);
	sb_append(sb, "| | |\n|---|---|\n");
	rowf(sb, "rollback checks (RB, and LS of the rollback)", "%s: %d fail, %d warn, %d pass, %d suppressed",
		 report_count_status(rb, "fail") ? "**FAILURES**" : "all pass",
		 report_count_status(rb, "fail"), report_count_status(rb, "warn"), report_count_status(rb, "pass"),
		 report_count_status(rb, "suppressed"));
	rowf(sb, "differences from the pre-apply baseline", "%zu", json_array_size(res));
	row(sb, "target schema still exists", json_is_true(json_object_get(v, "post_rollback_schema_exists")) ? "yes" : "no");
	if (json_object_get(v, "post_rollback_counts"))
	{
		strbuf		tmp;

		sb_init(&tmp);
		counts_line(&tmp, json_object_get(v, "post_rollback_counts"), "none");
		row(sb, "objects left in the target schema, by type", tmp.data);
		sb_free(&tmp);
	}
	sb_append(sb, "\n");
	problem_list(sb, rb);
	if (json_array_size(res) > 0)
	{
		sb_append(sb, "\nDifferences from the baseline:\n\n| change | kind | identity |\n|---|---|---|\n");
		json_array_foreach(res, j, w)
		{
			sb_printf(sb, "| %s | %s | `", report_str(w, "change"), report_str(w, "kind"));
			report_md_cell(sb, report_str(w, "identity"));
			sb_append(sb, "`");
			if (json_object_get(w, "accepted"))
			{
				sb_append(sb, " (accepted residue, ");
				report_md_cell(sb, report_str(json_object_get(w, "accepted"), "source"));
				sb_append(sb, ")");
			}
			sb_append(sb, " |\n");
		}
	}
	if (report_count_status(rb, "fail") + report_count_status(rb, "warn") + json_array_size(res))
		sb_append(sb, "\n");
}

char *
report_render_execution_log(json_t *doc)
{
	strbuf		sb;

	sb_init(&sb);
	report_render_execution_log_sb(&sb, doc);
	return sb.data;
}

void
report_render_execution_log_sb(strbuf *sb, json_t *doc)
{
	json_t	   *g = json_object_get(doc, "gating");
	size_t		i;
	json_t	   *v;
	size_t		nrounds = json_array_size(json_object_get(doc, "rounds"));

	sb_append(sb, "# drydock execution log\n\n");
	sb_append(sb, "```\n");
	sb_printf(sb, "environment:             %s\n", report_str(g, "environment"));
	sb_printf(sb, "production_sql_executed: %s\n", report_str(g, "production_sql_executed"));
	sb_printf(sb, "secrets_recorded:        %s\n", report_str(g, "secrets_recorded"));
	sb_append(sb, "advances_past_dry_run:   no (drydock never advances past the dry-run on its own)\n");
	sb_printf(sb, "status:                  %s (exit %lld)\n", report_str(doc, "status"),
			  (long long) json_integer_value(json_object_get(doc, "exit_code")));
	sb_append(sb, "```\n\n");

	outcome_section(sb, doc);
	environment_section(sb, doc);
	artifacts_section(sb, doc);

	sb_append(sb, "## Commands executed\n\nIn order, as run; SQL is shown with its parameters as placeholders.\n\n");
	if (json_array_size(json_object_get(doc, "commands")) == 0)
		sb_append(sb, "None: the run stopped before executing anything.\n\n");
	else
	{
		sb_append(sb, "| # | kind | command | result | duration |\n|---|---|---|---|---|\n");
		json_array_foreach(json_object_get(doc, "commands"), i, v)
		{
			sb_printf(sb, "| %lld | %s | ", (long long) json_integer_value(json_object_get(v, "n")), report_str(v, "kind"));
			report_md_cell(sb, report_str(v, "command"));
			sb_append(sb, " | ");
			report_md_cell(sb, report_str(v, "result"));
			sb_printf(sb, " | %.1f ms |\n", json_real_value(json_object_get(v, "duration_ms")));
		}
		sb_append(sb, "\n");
	}

	sb_append(sb, "## Results\n\n");
	if (nrounds == 0)
		sb_append(sb, "Nothing was applied.\n\n");
	json_array_foreach(json_object_get(doc, "rounds"), i, v)
	{
		char		pfx[32] = "";

		if (nrounds > 1)
			snprintf(pfx, sizeof(pfx), "Round %lld: ", (long long) json_integer_value(json_object_get(v, "round")));
		round_results(sb, v, pfx);
	}
	{
		json_t	   *td = json_object_get(doc, "teardown");

		sb_append(sb, "### Teardown\n\n");
		if (!td)
			sb_append(sb, "No cluster existed.\n\n");
		else if (!json_is_true(json_object_get(td, "done")))
			sb_printf(sb, "Not done: %s\n\n", report_str(td, "note"));
		else if (json_is_true(json_object_get(td, "clean")))
			sb_printf(sb, "Stopped (immediate) and removed in %.1f ms; verified clean: no process and no directory left.\n\n",
					  json_real_value(json_object_get(td, "duration_ms")));
		else
		{
			sb_printf(sb, "Stopped and removed in %.1f ms, but **NOT clean**: ",
					  json_real_value(json_object_get(td, "duration_ms")));
			report_md_cell(sb, report_str(td, "note"));
			sb_append(sb, "\n\n");
		}
	}
	sb_append(sb, "## Fidelity notes\n\nComputed from what the run measured.\n\n| note | status | finding |\n|---|---|---|\n");
	json_array_foreach(json_object_get(doc, "fidelity_notes"), i, v)
	{
		sb_printf(sb, "| %s %s | %s | ", report_str(v, "id"), report_str(v, "title"), report_str(v, "status"));
		report_md_cell(sb, report_str(v, "text"));
		sb_append(sb, " |\n");
	}
	sb_append(sb, "\n## Statements\n\n");
	json_array_foreach(json_object_get(doc, "statements"), i, v)
		sb_printf(sb, "- %s\n", json_string_value(v));
	sb_append(sb, "\n### Not exercised\n\n");
	json_array_foreach(json_object_get(doc, "not_exercised"), i, v)
		sb_printf(sb, "- %s\n", json_string_value(v));
}

static const char *
family_title(const char *f)
{
	if (strcmp(f, "TV") == 0)
		return "tables";
	if (strcmp(f, "KC") == 0)
		return "keys and constraints";
	if (strcmp(f, "CV") == 0)
		return "column types";
	if (strcmp(f, "NH") == 0)
		return "naming hygiene";
	if (strcmp(f, "AO") == 0)
		return "additive only";
	if (strcmp(f, "LS") == 0)
		return "lock safety (apply and rollback)";
	return "rollback";
}

static void
checks_table(strbuf *sb, json_t *rows)
{
	size_t		i;
	json_t	   *r;

	if (json_array_size(rows) == 0)
	{
		sb_append(sb, "No check of this family ran.\n\n");
		return;
	}
	sb_append(sb, "| family | code | status | object | message | location |\n|---|---|---|---|---|---|\n");
	json_array_foreach(rows, i, r)
	{
		json_t	   *loc = json_object_get(r, "location");

		sb_printf(sb, "| %s | %s | %s | ", report_str(r, "family"), report_str(r, "code"), report_str(r, "status"));
		report_md_cell(sb, report_str(r, "object"));
		sb_append(sb, " | ");
		report_md_cell(sb, report_str(r, "message"));
		sb_append(sb, " | ");
		if (loc)
		{
			sb_append(sb, "`");
			report_md_cell(sb, report_str(loc, "file"));
			sb_printf(sb, ":%lld` (statement %lld, %s)",
					  (long long) json_integer_value(json_object_get(loc, "line")),
					  (long long) json_integer_value(json_object_get(loc, "statement")),
					  report_str(loc, "phase"));
		}
		sb_append(sb, " |\n");
	}
	sb_append(sb, "\n");
}

/*
 * Accepted findings of a round: every "suppressed" row with its reason and
 * where the suppression was written, and the residue accepted by
 * accept-residue.  Stale and expired suppressions are "warn" rows above.
 */
static void
suppressed_section(strbuf *sb, json_t *round, const char *hdr)
{
	const char *keys[] = {"verification", "rollback_verification"};
	int			n = 0;
	size_t		j;
	json_t	   *r;

	sb_printf(sb, "%s Suppressed\n\n", hdr);
	for (int k = 0; k < 2; k++)
		json_array_foreach(json_object_get(round, keys[k]), j, r)
		{
			json_t	   *s = json_object_get(r, "suppression");

			if (strcmp(report_str(r, "status"), "suppressed") != 0)
				continue;
			if (n++ == 0)
				sb_append(sb, "| code | object | reason | source |\n|---|---|---|---|\n");
			sb_printf(sb, "| %s | ", report_str(r, "code"));
			report_md_cell(sb, report_str(r, "object"));
			sb_append(sb, " | ");
			report_md_cell(sb, s ? report_str(s, "reason") : report_str(r, "message"));
			sb_append(sb, " | ");
			report_md_cell(sb, s ? report_str(s, "source") : "?");
			sb_append(sb, " |\n");
		}
	if (n == 0)
		sb_append(sb, "No finding was suppressed.\n");
	json_array_foreach(json_object_get(round, "residue"), j, r)
		if (json_object_get(r, "accepted"))
		{
			sb_printf(sb, "\n- accepted residue: %s %s `", report_str(r, "change"), report_str(r, "kind"));
			report_md_cell(sb, report_str(r, "identity"));
			sb_append(sb, "` (");
			report_md_cell(sb, report_str(json_object_get(r, "accepted"), "source"));
			sb_append(sb, "): ");
			report_md_cell(sb, report_str(json_object_get(r, "accepted"), "reason"));
		}
	sb_append(sb, "\n");
}

/*
 * The rows of one family in a round (a new array): LS is judged in both
 * phases, so its rows come from verification and rollback_verification.
 */
static json_t *
family_rows(json_t *round, const char *family)
{
	json_t	   *rows = json_array();
	const char *keys[] = {"verification", "rollback_verification"};

	for (int k = 0; k < 2; k++)
	{
		size_t		j;
		json_t	   *r;

		if (strcmp(family, "LS") != 0 && (k == 1) != (strcmp(family, "RB") == 0))
			continue;
		json_array_foreach(json_object_get(round, keys[k]), j, r)
			if (strcmp(report_str(r, "family"), family) == 0)
			json_array_append(rows, r);
	}
	return rows;
}

char *
report_render_verification(json_t *doc)
{
	strbuf		sb;

	sb_init(&sb);
	report_render_verification_sb(&sb, doc);
	return sb.data;
}

void
report_render_verification_sb(strbuf *sb, json_t *doc)
{
	size_t		i;
	json_t	   *round;
	json_t	   *v;
	const char *families[] = {"TV", "KC", "CV", "NH", "AO", "LS", "RB", NULL};
	size_t		nrounds = json_array_size(json_object_get(doc, "rounds"));

	sb_append(sb, "# drydock verification result\n\n");
	sb_printf(sb, "Target schema: `%s`. Status: **%s** (exit %lld).\n\n",
			  json_object_get(doc, "target_schema") ? report_str(doc, "target_schema") : "(not determined)",
			  report_str(doc, "status"), (long long) json_integer_value(json_object_get(doc, "exit_code")));
	if (nrounds == 0 || !json_object_get(json_array_get(json_object_get(doc, "rounds"), 0), "verification"))
	{
		sb_append(sb, "The verification battery did not run: ");
		report_md_cell(sb, json_object_get(doc, "error") ? report_str(json_object_get(doc, "error"), "message") :
			 "the migration was not applied");
		sb_append(sb, "\n\n");
	}
	json_array_foreach(json_object_get(doc, "rounds"), i, round)
	{
		if (!json_object_get(round, "verification"))
			continue;
		if (nrounds > 1)
			sb_printf(sb, "## Round %lld\n\n", (long long) json_integer_value(json_object_get(round, "round")));
		sb_append(sb, "| family | pass | fail | warn | skipped | suppressed |\n|---|---|---|---|---|---|\n");
		for (int f = 0; families[f]; f++)
		{
			json_t	   *rows = family_rows(round, families[f]);
			int			c[5] = {0};
			size_t		j;
			json_t	   *r;
			const char *st[] = {"pass", "fail", "warn", "skipped", "suppressed"};

			json_array_foreach(rows, j, r)
				for (int k = 0; k < 5; k++)
					if (strcmp(report_str(r, "status"), st[k]) == 0)
						c[k]++;
			json_decref(rows);
			sb_printf(sb, "| %s %s | %d | %d | %d | %d | %d |\n", families[f], family_title(families[f]),
					  c[0], c[1], c[2], c[3], c[4]);
		}
		sb_append(sb, "\n");
		for (int f = 0; families[f]; f++)
		{
			json_t	   *rows = family_rows(round, families[f]);
			json_t	   *src = json_object_get(round, strcmp(families[f], "RB") == 0 ?
											  "rollback_verification" : "verification");

			sb_printf(sb, "%s %s: %s\n\n", nrounds > 1 ? "###" : "##", families[f], family_title(families[f]));
			if (strcmp(families[f], "RB") == 0 && !src)
				sb_append(sb, "Not run: the rollback did not complete.\n\n");
			else
				checks_table(sb, rows);
			json_decref(rows);
		}
		suppressed_section(sb, round, nrounds > 1 ? "###" : "##");
	}
	sb_append(sb, "## Locks on pre-existing relations\n\n");
	if (nrounds == 0 || !json_object_get(json_array_get(json_object_get(doc, "rounds"), 0), "apply_ddl_log"))
		sb_append(sb, "Not measured: the migration's DDL was not captured.\n");
	else if (json_array_size(json_object_get(doc, "locks")) == 0)
		sb_append(sb, "No statement took a lock on a relation that existed before the migration.\n");
	else
	{
		json_t	   *pi = json_object_get(doc, "production_impact");

		sb_append(sb, "Each captured statement that locked a relation existing before the migration, with the lock modes its transaction held, and whether it rewrote the table.\n\n");
		if (pi)
			sb_append(sb, "Production impact (--prod-stats): the work the lock covers, production's size and the estimated time the lock is held there, as a range; the method of each estimate is in report.json (production_impact).\n\n");
		sb_append(sb, pi ? "| # | phase | statement | object | lock modes | rewrite | production impact |\n|---|---|---|---|---|---|---|\n"
				  : "| # | phase | statement | object | lock modes | rewrite |\n|---|---|---|---|---|---|\n");
		json_array_foreach(json_object_get(doc, "locks"), i, v)
		{
			sb_printf(sb, "| %zu | %s | %s | ", i + 1, report_str(v, "phase"), report_str(v, "command_tag"));
			report_md_cell(sb, report_str(v, "identity"));
			sb_append(sb, " | ");
			report_md_cell(sb, report_str(v, "locks"));
			sb_printf(sb, " | %s |", json_is_true(json_object_get(v, "rewrite")) ? "**yes**" : "no");
			if (pi)
			{
				sb_append(sb, " ");
				report_md_cell(sb, report_str(v, "production_impact"));
				sb_append(sb, " |");
			}
			sb_append(sb, "\n");
		}
	}
}

char *
report_render_tap(json_t *doc)
{
	strbuf		sb;
	strbuf		body;
	size_t		i;
	json_t	   *round;
	int			n = 0;

	bool		fail_on_warn = report_doc_fail_on_warn(doc);

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
				const char *st = report_str(r, "status");
				bool		warn = strcmp(st, "warn") == 0;

				/*
				 * A warning passes (fails under --fail-on warn) and says so in
				 * a diagnostic line: not TODO, which means "not done yet".
				 */
				n++;
				sb_printf(&body, "%s %d - %s %s ", strcmp(st, "fail") == 0 || (warn && fail_on_warn) ? "not ok" : "ok", n,
						  report_str(r, "code"), report_str(r, "object"));
				tap_text(&body, report_str(r, "message"));
				if (strcmp(st, "skipped") == 0)
					sb_append(&body, " # SKIP");
				sb_append(&body, "\n");
				if (warn)
				{
					sb_append(&body, "# warning: ");
					tap_text(&body, report_str(r, "message"));
					sb_append(&body, "\n");
				}
			}
		}
	}
	if (json_object_get(doc, "error"))
	{
		n++;
		sb_printf(&body, "not ok %d - run: ", n);
		tap_text(&body, report_str(json_object_get(doc, "error"), "message"));
		sb_append(&body, "\n");
	}
	sb_printf(&sb, "TAP version 13\n1..%d\n", n);
	sb_append(&sb, body.data);
	sb_free(&body);
	return sb.data;
}

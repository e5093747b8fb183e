/*
 * replay_render.c
 *		The views of a replay's report.json: replay-log.md (one row per
 *		migration, then the residue of every pair that is not an exact
 *		inverse, object by object) and TAP with one test per pair.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render.h"

#include "report.h"
#include "util.h"

static double
ms_of(json_t *pair, const char *phase)
{
	return json_real_value(json_object_get(json_object_get(pair, phase), "duration_ms"));
}

char *
report_render_replay(json_t *doc)
{
	strbuf		sb;
	json_t	   *rp = json_object_get(doc, "replay");
	size_t		i;
	json_t	   *pair;

	sb_init(&sb);
	sb_append(&sb, "# drydock replay log\n\n");
	sb_printf(&sb, "- directory: `%s`\n- layout: %s\n- migrations: %lld, pairs checked: %zu\n", report_str(rp, "directory"),
			  report_str(rp, "layout"), (long long) json_integer_value(json_object_get(rp, "migrations")),
			  json_array_size(json_object_get(doc, "rounds")));
	if (json_array_size(json_object_get(rp, "irregularities")) > 0)
		sb_printf(&sb, "- irregularities: %zu (taken as the tool takes them; see the section below)\n",
				  json_array_size(json_object_get(rp, "irregularities")));
	if (json_is_string(json_object_get(rp, "from")) || json_is_string(json_object_get(rp, "to")))
		sb_printf(&sb, "- checked range: %s .. %s (earlier ups applied unchecked)\n",
				  json_is_string(json_object_get(rp, "from")) ? report_str(rp, "from") : "first",
				  json_is_string(json_object_get(rp, "to")) ? report_str(rp, "to") : "last");
	sb_printf(&sb, "- result: **%s** (exit %lld)\n", report_str(rp, "summary"),
			  (long long) json_integer_value(json_object_get(doc, "exit_code")));
	sb_append(&sb, "- environment, isolation proof and every command: execution-log.md\n\n");

	sb_append(&sb, "| # | version | title | up sha256 | down sha256 | up ms | down ms | apply | rollback | cascade drops | locks on existing | findings | verdict |\n");
	sb_append(&sb, "|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
	json_array_foreach(json_object_get(doc, "rounds"), i, pair)
	{
		json_t	   *ver = json_object_get(pair, "verification");
		json_t	   *rb = json_object_get(pair, "rollback_verification");
		json_t	   *extra = json_object_get(pair, "replay_findings");
		int			cascades = 0,
					locks = 0;
		size_t		j;
		json_t	   *row;

		json_array_foreach(json_object_get(pair, "rollback_ddl_log"), j, row)
			if (json_is_true(json_object_get(row, "cascade")))
			cascades++;
		json_array_foreach(json_object_get(pair, "apply_ddl_log"), j, row)
			if (report_str(row, "locks")[0])
			locks++;
		sb_printf(&sb, "| %lld | %s | ", (long long) json_integer_value(json_object_get(pair, "round")), report_str(pair, "version"));
		report_md_cell(&sb, report_str(pair, "title"));
		sb_printf(&sb, " | %.12s | %.12s | %.0f | %.0f | %s | %s | %d | %d | %d fail, %d warn | **%s** |\n",
				  report_str(pair, "up_sha256"), json_object_get(pair, "down_sha256") ? report_str(pair, "down_sha256") : "none",
				  ms_of(pair, "apply"), ms_of(pair, "rollback"),
				  !json_object_get(pair, "apply") ? "-" :
				  json_is_true(json_object_get(json_object_get(pair, "apply"), "ok")) ? "ok" : "FAILED",
				  json_object_get(pair, "rollback") ?
				  (json_is_true(json_object_get(json_object_get(pair, "rollback"), "ok")) ? "ok" : "FAILED") : "-",
				  cascades, locks,
				  report_count_status(ver, "fail") + report_count_status(rb, "fail") + report_count_status(extra, "fail"),
				  report_count_status(ver, "warn") + report_count_status(rb, "warn") + report_count_status(extra, "warn"),
				  report_str(pair, "verdict"));
	}
	sb_append(&sb, "\n");

	json_array_foreach(json_object_get(doc, "rounds"), i, pair)
	{
		const char *verdict = report_str(pair, "verdict");
		size_t		j;
		json_t	   *row;
		json_t	   *ver = json_object_get(pair, "verification");
		json_t	   *rb = json_object_get(pair, "rollback_verification");
		json_t	   *extra = json_object_get(pair, "replay_findings");

		/* every pair with something to show, whatever its verdict */
		if (strcmp(verdict, "exact") == 0 && json_array_size(json_object_get(pair, "notes")) == 0 &&
			report_count_status(ver, "fail") + report_count_status(ver, "warn") +
			report_count_status(rb, "fail") + report_count_status(rb, "warn") +
			report_count_status(extra, "fail") + report_count_status(extra, "warn") == 0)
			continue;
		sb_printf(&sb, "## %s %s: %s\n\n", report_str(pair, "version"), report_str(pair, "title"), verdict);
		json_array_foreach(json_object_get(pair, "notes"), j, row)
		{
			sb_append(&sb, "- note: ");
			report_md_cell(&sb, json_string_value(row));
			sb_append(&sb, "\n");
		}
		json_array_foreach(ver, j, row)
		{
			if (strcmp(report_str(row, "status"), "fail") != 0 && strcmp(report_str(row, "status"), "warn") != 0)
				continue;
			sb_printf(&sb, "- after the up: %s %s `", report_str(row, "code"), report_str(row, "status"));
			report_md_cell(&sb, report_str(row, "object"));
			sb_append(&sb, "`: ");
			report_md_cell(&sb, report_str(row, "message"));
			sb_append(&sb, "\n");
		}
		if (json_object_get(pair, "failure"))
		{
			json_t	   *f = json_object_get(pair, "failure");

			sb_printf(&sb, "- failed at `%s`:%lld: ", report_str(f, "file"), (long long) json_integer_value(json_object_get(f, "line")));
			report_md_cell(&sb, report_str(f, "message"));
			sb_append(&sb, "\n");
		}
		json_array_foreach(json_object_get(pair, "replay_findings"), j, row)
		{
			sb_printf(&sb, "- %s %s: ", report_str(row, "code"), report_str(row, "status"));
			report_md_cell(&sb, report_str(row, "message"));
			sb_append(&sb, "\n");
		}
		if (json_array_size(json_object_get(pair, "residue")) > 0)
		{
			sb_append(&sb, "\nThe down does not restore the state before the up:\n\n| change | kind | object | before | after |\n|---|---|---|---|---|\n");
			json_array_foreach(json_object_get(pair, "residue"), j, row)
			{
				sb_printf(&sb, "| %s | %s | `", report_str(row, "change"), report_str(row, "kind"));
				report_md_cell(&sb, report_str(row, "identity"));
				sb_append(&sb, "` | ");
				report_md_cell(&sb, report_str(row, "before"));
				sb_append(&sb, " | ");
				report_md_cell(&sb, report_str(row, "after"));
				sb_append(&sb, " |\n");
			}
		}
		json_array_foreach(json_object_get(pair, "rollback_verification"), j, row)
		{
			if (strcmp(report_str(row, "status"), "fail") != 0 && strcmp(report_str(row, "status"), "warn") != 0)
				continue;
			sb_printf(&sb, "- %s %s `", report_str(row, "code"), report_str(row, "status"));
			report_md_cell(&sb, report_str(row, "object"));
			sb_append(&sb, "`: ");
			report_md_cell(&sb, report_str(row, "message"));
			sb_append(&sb, "\n");
		}
		sb_append(&sb, "\n");
	}
	if (json_array_size(json_object_get(rp, "irregularities")) > 0)
	{
		size_t		j;
		json_t	   *row;

		sb_append(&sb, "## Irregularities\n\nWhat the history holds beyond its tool's documented layout; the replay went on, as the tool does:\n\n| kind | version | title | file | what |\n|---|---|---|---|---|\n");
		json_array_foreach(json_object_get(rp, "irregularities"), j, row)
		{
			sb_printf(&sb, "| %s | %s | ", report_str(row, "kind"), report_str(row, "version"));
			report_md_cell(&sb, report_str(row, "title"));
			sb_append(&sb, " | `");
			report_md_cell(&sb, report_str(row, "file"));
			sb_append(&sb, "` | ");
			report_md_cell(&sb, report_str(row, "message"));
			sb_append(&sb, " |\n");
		}
		sb_append(&sb, "\n");
	}
	{
		/* migrations of the history that were not checked, and why */
		size_t		j;
		json_t	   *row;
		bool		any = false;

		json_array_foreach(json_object_get(rp, "history"), j, row)
		{
			const char *why = report_str(row, "why_not");

			if (json_is_true(json_object_get(row, "checked")) || strncmp(why, "not exercised", 13) != 0)
				continue;
			if (!any)
				sb_append(&sb, "## Migrations not exercised\n\n");
			any = true;
			sb_printf(&sb, "- %s ", report_str(row, "version"));
			report_md_cell(&sb, report_str(row, "title"));
			sb_append(&sb, ": ");
			report_md_cell(&sb, why);
			sb_append(&sb, "\n");
		}
		if (any)
			sb_append(&sb, "\n");
	}
	if (json_array_size(json_object_get(rp, "not_exercised")) > 0)
	{
		size_t		j;
		json_t	   *row;

		sb_append(&sb, "## Not exercised\n\n");
		json_array_foreach(json_object_get(rp, "not_exercised"), j, row)
			sb_printf(&sb, "- %s\n", json_string_value(row));
	}
	return sb.data;
}

char *
report_render_replay_tap(json_t *doc)
{
	strbuf		sb;
	size_t		i;
	json_t	   *mig;
	json_t	   *rounds = json_object_get(doc, "rounds");
	json_t	   *all = json_object_get(json_object_get(doc, "replay"), "history");
	bool		fail_on_warn = report_doc_fail_on_warn(doc);

	/* one test per migration of the history: checked ones by verdict */
	sb_init(&sb);
	sb_printf(&sb, "TAP version 13\n1..%zu\n", json_array_size(all));
	json_array_foreach(all, i, mig)
	{
		json_t	   *pair = NULL;
		size_t		j;
		json_t	   *r;
		const char *v;
		bool		ok;

		json_array_foreach(rounds, j, r)
			if (strcmp(report_str(r, "version"), report_str(mig, "version")) == 0 &&
				strcmp(report_str(r, "title"), report_str(mig, "title")) == 0)
			pair = r;
		if (!pair)
		{
			bool		skipped = strncmp(report_str(mig, "why_not"), "not reached", 11) != 0;

			sb_printf(&sb, "%s %zu - %s ", skipped ? "ok" : "not ok", i + 1, report_str(mig, "version"));
			tap_text(&sb, report_str(mig, "title"));
			sb_printf(&sb, " # %s", skipped ? "SKIP " : "");
			tap_text(&sb, report_str(mig, "why_not"));
			sb_append(&sb, "\n");
			continue;
		}
		v = report_str(pair, "verdict");
		ok = strcmp(v, "exact") == 0 || strcmp(v, "accepted") == 0 ||
			(strcmp(v, "missing_down") == 0 && report_count_status(json_object_get(pair, "replay_findings"), "fail") == 0);
		{
			const char *keys[] = {"verification", "rollback_verification", "replay_findings"};
			strbuf		diag;
			int			warns = 0;

			/* warnings: the pair passes (fails under --fail-on warn), each said in a diagnostic */
			sb_init(&diag);
			for (int k = 0; k < 3; k++)
			{
				size_t		n;
				json_t	   *row;

				json_array_foreach(json_object_get(pair, keys[k]), n, row)
				{
					if (strcmp(report_str(row, "status"), "warn") != 0)
						continue;
					warns++;
					sb_printf(&diag, "# warning: %s %s ", report_str(row, "code"), report_str(row, "object"));
					tap_text(&diag, report_str(row, "message"));
					sb_append(&diag, "\n");
				}
			}
			if (warns > 0 && fail_on_warn)
				ok = false;
			sb_printf(&sb, "%s %zu - %s ", ok ? "ok" : "not ok", i + 1, report_str(pair, "version"));
			tap_text(&sb, report_str(pair, "title"));
			sb_printf(&sb, ": %s\n", v[0] ? v : "not checked");
			sb_append(&sb, diag.data);
			sb_free(&diag);
		}
	}
	return sb.data;
}

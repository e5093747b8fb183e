/*
 * render_github.c
 *		GitHub Actions: workflow commands that annotate the pull request's
 *		files (::error file=F,line=N,title=CODE::message, ::warning for a
 *		warning check) and a job summary in Markdown (github-annotations.txt
 *		and job-summary.md in --out; the summary is also appended to
 *		$GITHUB_STEP_SUMMARY by report_write_all when that is set).
 */
#include "render.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "util.h"

/*
 * The escaping of @actions/core's command.ts: '%', CR and LF in the message;
 * also ':' and ',' in a property value, which end it otherwise.
 */
static void
gh_escape(strbuf *sb, const char *s, bool property)
{
	for (; s && *s; s++)
	{
		if (*s == '%')
			sb_append(sb, "%25");
		else if (*s == '\r')
			sb_append(sb, "%0D");
		else if (*s == '\n')
			sb_append(sb, "%0A");
		else if (property && *s == ':')
			sb_append(sb, "%3A");
		else if (property && *s == ',')
			sb_append(sb, "%2C");
		else
			sb_appendn(sb, s, 1);
	}
}

char *
report_render_github(json_t *doc)
{
	json_t	   *findings = report_findings(doc);
	bool		fail_on_warn = report_doc_fail_on_warn(doc);
	strbuf		sb;
	size_t		i;
	json_t	   *f;

	sb_init(&sb);
	json_array_foreach(findings, i, f)
	{
		const char *st = report_str(f, "status");
		const char *file = json_string_value(json_object_get(f, "file"));
		int			line = (int) json_integer_value(json_object_get(f, "line"));
		const char *cmd;
		bool		comma = false;

		if (strcmp(st, "fail") == 0 || (fail_on_warn && strcmp(st, "warn") == 0))
			cmd = "error";
		else if (strcmp(st, "warn") == 0)
			cmd = "warning";
		else
			continue;
		sb_printf(&sb, "::%s ", cmd);
		if (file && *file)
		{
			sb_append(&sb, "file=");
			gh_escape(&sb, file, true);
			/* a line is what puts the annotation on the diff: the first when unknown */
			sb_printf(&sb, ",line=%d", line > 0 ? line : 1);
			comma = true;
		}
		sb_append(&sb, comma ? ",title=" : "title=");
		gh_escape(&sb, report_str(f, "code"), true);
		sb_append(&sb, "::");
		gh_escape(&sb, report_str(f, "suite"), false);
		sb_append(&sb, ": ");
		gh_escape(&sb, report_str(f, "message"), false);
		sb_append(&sb, "\n");
	}
	json_decref(findings);
	return sb.data;
}

char *
report_render_github_summary(json_t *doc)
{
	json_t	   *findings = report_findings(doc);
	json_t	   *summary = json_object_get(doc, "summary");
	json_t	   *replay = json_object_get(doc, "replay");
	strbuf		sb;
	size_t		i;
	json_t	   *f;
	int			shown = 0;

	sb_init(&sb);
	sb_printf(&sb, "## drydock %s: %s (exit %d)\n\n", replay ? "replay" : "run", report_str(doc, "status"),
			  (int) json_integer_value(json_object_get(doc, "exit_code")));
	sb_printf(&sb, "%d failing, %d warning, %d suppressed checks.",
			  (int) json_integer_value(json_object_get(summary, "failing_checks")),
			  (int) json_integer_value(json_object_get(summary, "warning_checks")),
			  (int) json_integer_value(json_object_get(summary, "suppressed_checks")));
	if (replay && *report_str(replay, "summary"))
		sb_printf(&sb, " %s.", report_str(replay, "summary"));
	sb_append(&sb, "\n\n");
	json_array_foreach(findings, i, f)
	{
		const char *st = report_str(f, "status");
		const char *file = json_string_value(json_object_get(f, "file"));
		int			line = (int) json_integer_value(json_object_get(f, "line"));
		const char *icon;

		if (strcmp(st, "fail") == 0)
			icon = ":x: fail";
		else if (strcmp(st, "warn") == 0)
			icon = ":warning: warn";
		else
			continue;
		if (shown++ == 0)
			sb_append(&sb, "| | code | where | phase | message |\n|---|---|---|---|---|\n");
		sb_printf(&sb, "| %s | %s | ", icon, report_str(f, "code"));
		if (file && *file)
		{
			char	   *w = line > 0 ? xasprintf("%s:%d", file, line) : xstrdup(file);

			sb_append(&sb, "`");
			report_md_cell(&sb, w);
			sb_append(&sb, "`");
			free(w);
		}
		sb_append(&sb, " | ");
		report_md_cell(&sb, report_str(f, "suite"));
		sb_append(&sb, " | ");
		report_md_cell(&sb, report_str(f, "message"));
		sb_append(&sb, " |\n");
	}
	if (shown == 0)
		sb_append(&sb, "No failing or warning check.\n");
	sb_printf(&sb, "\nCodes are explained in drydock's docs/codes.md (%s).\n", report_docs_url());
	json_decref(findings);
	return sb.data;
}

/*
 * report_findings.c
 *		The findings of a report, located: the one list every CI format
 *		(render_*.c) is rendered from, so SARIF, JUnit, GitHub, GitLab and TAP
 *		point at the same file and line for the same check.
 *
 * A check row may carry "location" {file, line, statement, phase}, the place
 * in the artifact the statement behind it came from; when it does, that is
 * the place.  Otherwise a row is placed where its phase's artifact is: the
 * up (drydock run's DDL, a replay pair's up) for the apply-phase families,
 * the down for RB, with no line; two kinds of rows know better and say so in
 * their own text: NH004 ("(psql NOTICE at FILE:LINE)") and a suppressed row
 * (its directive's FILE:LINE).  An error that stopped the run (an SQL error,
 * a preflight refusal) is a finding too, at the file and line it names.
 */
#include "render.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "sha256.h"
#include "util.h"

/* every code with its documentation, from common/finding_codes.def */
#define DD_CODE(code, family, sev, rule, meaning, fix, example) {code, family, meaning, fix, example},
#define DD_DRIVER_CODE DD_CODE
static const report_code_doc report_code_docs[] = {
#include "finding_codes.def"
	{NULL, NULL, NULL, NULL, NULL}
};
#undef DD_CODE
#undef DD_DRIVER_CODE

#ifndef DOCS_URL
#define DOCS_URL "file:///usr/local/share/doc/drydock/codes.md"
#endif

static const struct
{
	report_format f;
	const char *name;
}			format_names[] = {
	{FORMAT_TEXT, "text"}, {FORMAT_TAP, "tap"}, {FORMAT_SARIF, "sarif"},
	{FORMAT_JUNIT, "junit"}, {FORMAT_GITHUB, "github"}, {FORMAT_GITLAB, "gitlab"},
};

report_format
report_format_by_name(const char *name)
{
	for (size_t i = 0; i < sizeof(format_names) / sizeof(format_names[0]); i++)
		if (strcmp(format_names[i].name, name) == 0)
			return format_names[i].f;
	return 0;
}

const char *
report_format_name(report_format f)
{
	for (size_t i = 0; i < sizeof(format_names) / sizeof(format_names[0]); i++)
		if (format_names[i].f == f)
			return format_names[i].name;
	return "?";
}

const report_code_doc *
report_code_doc_for(const char *code)
{
	for (const report_code_doc *d = report_code_docs; d->code; d++)
		if (strcmp(d->code, code) == 0)
			return d;
	return NULL;
}

const report_code_doc *
report_code_doc_list(void)
{
	return report_code_docs;
}

const char *
report_docs_url(void)
{
	return DOCS_URL;
}

unsigned
report_doc_formats(json_t *doc)
{
	unsigned	mask = 0;
	size_t		i;
	json_t	   *v;

	json_array_foreach(json_object_get(json_object_get(doc, "options"), "format"), i, v)
		mask |= report_format_by_name(json_string_value(v) ? json_string_value(v) : "");
	return mask;
}

bool
report_doc_fail_on_warn(json_t *doc)
{
	const char *f = json_string_value(json_object_get(json_object_get(doc, "options"), "fail_on"));

	return f && strcmp(f, "warn") == 0;
}

void
report_finding_fingerprint(json_t *finding, char out[65])
{
	strbuf		sb;

	/* no line: a finding keeps its fingerprint when lines above it move */
	sb_init(&sb);
	sb_printf(&sb, "%s\x1f%s\x1f%s\x1f%s\x1f%s", report_str(finding, "code"), report_str(finding, "file"),
			  report_str(finding, "phase"), report_str(finding, "object"), report_str(finding, "message"));
	sha256_hex(sb.data, sb.len, out);
	sb_free(&sb);
}

/* "... FILE:LINE ..." after marker in s: the file and the line, or false. */
static bool
parse_file_line(const char *s, const char *marker, char **file, int *line)
{
	const char *p = s ? strstr(s, marker) : NULL;
	const char *end;
	const char *colon;

	if (!p)
		return false;
	p += strlen(marker);
	end = p + strcspn(p, ")\n");
	for (colon = end; colon > p && colon[-1] != ':'; colon--)
		;
	if (colon <= p + 1 || colon == end || strspn(colon, "0123456789") != (size_t) (end - colon))
		return false;
	*file = xstrndup_n(p, (size_t) (colon - 1 - p));
	*line = atoi(colon);
	return *line > 0;
}

static void
add_row(json_t *out, json_t *row, const char *phase, const char *prefix, const char *file)
{
	json_t	   *f = json_deep_copy(row);
	json_t	   *loc = json_object_get(row, "location");
	const char *family = report_str(row, "family");
	char	   *where = NULL;
	int			line = 0;

	json_object_del(f, "location");
	if (json_is_object(loc) && json_string_value(json_object_get(loc, "file")))
	{
		json_object_set(f, "file", json_object_get(loc, "file"));
		line = (int) json_integer_value(json_object_get(loc, "line"));
		if (json_string_value(json_object_get(loc, "phase")))
			phase = json_string_value(json_object_get(loc, "phase"));
	}
	else if (strcmp(report_str(row, "code"), "NH004") == 0 &&
			 parse_file_line(report_str(row, "message"), "NOTICE at ", &where, &line))
		json_object_set_new(f, "file", json_string(where));
	else if (strcmp(report_str(row, "status"), "suppressed") == 0 &&
			 parse_file_line(report_str(json_object_get(row, "suppression"), "source"), "", &where, &line))
		json_object_set_new(f, "file", json_string(where));
	else if (file && *file)
		json_object_set_new(f, "file", json_string(file));
	free(where);
	json_object_set_new(f, "line", json_integer(line > 0 ? line : 0));
	json_object_set_new(f, "phase", json_string(phase));
	json_object_set_new(f, "suite", json_sprintf("%s%s %s", prefix, phase, family));
	json_object_set_new(f, "source", json_string("check"));
	json_array_append_new(out, f);
}

static void
add_rows(json_t *out, json_t *rows, const char *phase, const char *prefix, const char *file)
{
	size_t		i;
	json_t	   *row;

	json_array_foreach(rows, i, row)
		add_row(out, row, phase, prefix, file);
}

/* An error that stopped the run (or, with --keep-going, a pair). */
static void
add_error(json_t *out, json_t *err, const char *prefix, const char *fallback_file)
{
	const char *code = json_string_value(json_object_get(err, "code"));
	const char *file = json_string_value(json_object_get(err, "file"));
	int			line = (int) json_integer_value(json_object_get(err, "line"));
	json_t	   *f;

	if (!err)
		return;
	f = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:s}",
				  "code", code ? code : "error", "family", code ? "preflight" : "run",
				  "status", "fail", "message", report_str(err, "message"),
				  "object", file ? file : (fallback_file ? fallback_file : ""),
				  "phase", code ? "preflight" : "run", "line", line > 0 ? line : 0,
				  "source", "error");
	json_object_set_new(f, "suite", json_sprintf("%s%s", prefix, code ? "preflight" : "run"));
	if (file || fallback_file)
		json_object_set_new(f, "file", json_string(file ? file : fallback_file));
	json_array_append_new(out, f);
}

json_t *
report_findings(json_t *doc)
{
	json_t	   *out = json_array();
	json_t	   *arts = json_object_get(doc, "artifacts");
	const char *up = report_str(json_object_get(arts, "ddl"), "path");
	const char *down = report_str(json_object_get(arts, "rollback"), "path");
	bool		replay = json_object_get(doc, "replay") != NULL;
	json_t	   *rounds = json_object_get(doc, "rounds");
	json_t	   *err = json_object_get(doc, "error");
	bool		err_seen = false;
	size_t		i;
	json_t	   *round;

	json_array_foreach(rounds, i, round)
	{
		char	   *prefix;
		const char *u = replay ? report_str(round, "up_path") : up;
		const char *d = replay ? report_str(round, "down_path") : down;

		if (replay)
			prefix = xasprintf("%s %s: ", report_str(round, "version"), report_str(round, "title"));
		else if (json_array_size(rounds) > 1)
			prefix = xasprintf("round %zu: ", i + 1);
		else
			prefix = xstrdup("");
		add_rows(out, json_object_get(round, "verification"), "apply", prefix, u);
		add_rows(out, json_object_get(round, "rollback_verification"), "rollback", prefix, *d ? d : u);
		add_rows(out, json_object_get(round, "replay_findings"), "replay", prefix, u);
		if (json_object_get(round, "failure"))
		{
			add_error(out, json_object_get(round, "failure"), prefix, u);
			if (err && json_equal(err, json_object_get(round, "failure")))
				err_seen = true;
		}
		free(prefix);
	}
	if (err && !err_seen)
		add_error(out, err, "", replay ? NULL : (up[0] ? up : NULL));
	return out;
}

/*
 * render_junit.c
 *		junit.xml: every check as a JUnit test case, for CI test report views
 *		(GitLab's artifacts:reports:junit, Jenkins, GitHub test reporters).
 *		One testsuite per phase and family ("apply KC", "rollback RB"; a
 *		replay prefixes the pair, "3 orders: apply KC"), one testcase per
 *		check; a failing check is a <failure> with its message and FILE:LINE,
 *		a skipped one <skipped>, a warning passes with the warning in
 *		<system-out> (it fails under --fail-on warn).
 */
#include "render.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "util.h"

/* XML 1.0 text or attribute value: markup escaped, control characters dropped. */
static void
xml_escape(strbuf *sb, const char *s)
{
	for (const unsigned char *p = (const unsigned char *) s; *p; p++)
	{
		switch (*p)
		{
			case '&':
				sb_append(sb, "&amp;");
				break;
			case '<':
				sb_append(sb, "&lt;");
				break;
			case '>':
				sb_append(sb, "&gt;");
				break;
			case '"':
				sb_append(sb, "&quot;");
				break;
			case '\'':
				sb_append(sb, "&apos;");
				break;
			case '\n':
				sb_append(sb, "&#10;");
				break;
			case '\t':
				sb_append(sb, "&#9;");
				break;
			default:
				if (*p < 0x20)
					sb_append(sb, "?");	/* not representable in XML 1.0 */
				else
					sb_appendn(sb, (const char *) p, 1);
		}
	}
}

/* "FILE:LINE: " or "FILE: " or "" */
static char *
where(json_t *f)
{
	const char *file = json_string_value(json_object_get(f, "file"));
	int			line = (int) json_integer_value(json_object_get(f, "line"));

	if (!file || !*file)
		return xstrdup("");
	if (line > 0)
		return xasprintf("%s:%d: ", file, line);
	return xasprintf("%s: ", file);
}

static bool
is_failure(json_t *f, bool fail_on_warn)
{
	const char *st = report_str(f, "status");

	return strcmp(st, "fail") == 0 || (fail_on_warn && strcmp(st, "warn") == 0);
}

static void
testcase(strbuf *sb, json_t *f, bool fail_on_warn)
{
	const char *st = report_str(f, "status");
	const char *file = json_string_value(json_object_get(f, "file"));
	int			line = (int) json_integer_value(json_object_get(f, "line"));
	char	   *w = where(f);

	sb_append(sb, "    <testcase classname=\"drydock.");
	xml_escape(sb, report_str(f, "suite"));
	sb_append(sb, "\" name=\"");
	xml_escape(sb, report_str(f, "code"));
	if (*report_str(f, "object"))
	{
		sb_append(sb, " ");
		xml_escape(sb, report_str(f, "object"));
	}
	sb_append(sb, "\"");
	if (file && *file)
	{
		sb_append(sb, " file=\"");
		xml_escape(sb, file);
		sb_append(sb, "\"");
		if (line > 0)
			sb_printf(sb, " line=\"%d\"", line);
	}
	sb_append(sb, " time=\"0\">\n");
	if (is_failure(f, fail_on_warn))
	{
		sb_append(sb, "      <failure type=\"");
		xml_escape(sb, report_str(f, "code"));
		sb_append(sb, "\" message=\"");
		xml_escape(sb, report_str(f, "message"));
		sb_append(sb, "\">");
		xml_escape(sb, w);
		xml_escape(sb, report_str(f, "code"));
		sb_append(sb, " ");
		xml_escape(sb, report_str(f, "message"));
		sb_append(sb, "</failure>\n");
	}
	else if (strcmp(st, "skipped") == 0)
	{
		sb_append(sb, "      <skipped message=\"");
		xml_escape(sb, report_str(f, "message"));
		sb_append(sb, "\"/>\n");
	}
	else if (strcmp(st, "warn") == 0 || strcmp(st, "suppressed") == 0)
	{
		/* a suppressed row's message names its directive and reason already */
		sb_append(sb, "      <system-out>");
		xml_escape(sb, strcmp(st, "warn") == 0 ? "warning: " : "");
		xml_escape(sb, w);
		xml_escape(sb, report_str(f, "message"));
		sb_append(sb, "</system-out>\n");
	}
	sb_append(sb, "    </testcase>\n");
	free(w);
}

char *
report_render_junit(json_t *doc)
{
	json_t	   *findings = report_findings(doc);
	bool		fail_on_warn = report_doc_fail_on_warn(doc);
	json_t	   *suites = json_array();	/* suite names, first seen first */
	json_t	   *seen = json_object();
	strbuf		sb;
	size_t		i,
				j;
	json_t	   *f,
			   *name;
	int			total = 0,
				failures = 0,
				skipped = 0;

	json_array_foreach(findings, i, f)
	{
		if (!json_object_get(seen, report_str(f, "suite")))
		{
			json_object_set_new(seen, report_str(f, "suite"), json_true());
			json_array_append_new(suites, json_string(report_str(f, "suite")));
		}
		total++;
		failures += is_failure(f, fail_on_warn);
		skipped += strcmp(report_str(f, "status"), "skipped") == 0;
	}
	sb_init(&sb);
	sb_append(&sb, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	sb_printf(&sb, "<testsuites name=\"drydock\" tests=\"%d\" failures=\"%d\" errors=\"0\" skipped=\"%d\" time=\"%.3f\">\n",
			  total, failures, skipped, json_number_value(json_object_get(doc, "duration_ms")) / 1000.0);
	json_array_foreach(suites, i, name)
	{
		const char *sname = json_string_value(name);
		strbuf		cases;
		int			n = 0,
					nf = 0,
					ns = 0;

		sb_init(&cases);
		json_array_foreach(findings, j, f)
		{
			if (strcmp(report_str(f, "suite"), sname) != 0)
				continue;
			n++;
			nf += is_failure(f, fail_on_warn);
			ns += strcmp(report_str(f, "status"), "skipped") == 0;
			testcase(&cases, f, fail_on_warn);
		}
		sb_append(&sb, "  <testsuite name=\"");
		xml_escape(&sb, sname);
		sb_printf(&sb, "\" tests=\"%d\" failures=\"%d\" errors=\"0\" skipped=\"%d\" time=\"0\">\n", n, nf, ns);
		sb_append(&sb, cases.data);
		sb_append(&sb, "  </testsuite>\n");
		sb_free(&cases);
	}
	sb_append(&sb, "</testsuites>\n");
	json_decref(seen);
	json_decref(suites);
	json_decref(findings);
	return sb.data;
}

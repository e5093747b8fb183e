/*
 * render_gitlab.c
 *		gl-code-quality-report.json: the failing and warning checks as a
 *		GitLab Code Quality report (artifacts:reports:codequality), which
 *		GitLab shows in the merge request's diff at the file and line.  The
 *		fields GitLab reads: description, check_name, fingerprint (stable:
 *		no line in it), severity (fail: major, warn: minor), location.path,
 *		location.lines.begin (1 when drydock knows only the file).
 */
#include "render.h"

#include <string.h>

#include "report.h"
#include "util.h"

json_t *
report_render_gitlab(json_t *doc)
{
	json_t	   *findings = report_findings(doc);
	json_t	   *out = json_array();
	bool		fail_on_warn = report_doc_fail_on_warn(doc);
	size_t		i;
	json_t	   *f;

	json_array_foreach(findings, i, f)
	{
		const char *st = report_str(f, "status");
		const char *file = json_string_value(json_object_get(f, "file"));
		int			line = (int) json_integer_value(json_object_get(f, "line"));
		char		fp[65];
		const char *severity;

		if (strcmp(st, "fail") == 0)
			severity = "major";
		else if (strcmp(st, "warn") == 0)
			severity = fail_on_warn ? "major" : "minor";
		else
			continue;
		report_finding_fingerprint(f, fp);
		json_array_append_new(out, json_pack("{s:o, s:s, s:s, s:s, s:{s:s, s:{s:i}}}",
											 "description", json_sprintf("%s %s: %s", report_str(f, "code"),
																		 report_str(f, "suite"),
																		 report_str(f, "message")),
											 "check_name", report_str(f, "code"),
											 "fingerprint", fp, "severity", severity,
											 "location", "path", file && *file ? file : ".",
											 "lines", "begin", line > 0 ? line : 1));
	}
	json_decref(findings);
	return out;
}

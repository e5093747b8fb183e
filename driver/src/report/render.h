/*
 * render.h
 *		The CI formats (SARIF, JUnit XML, GitHub workflow commands and job
 *		summary, GitLab Code Quality, TAP) rendered from report.json.  Each
 *		format is one file render_<format>.c; they share one list of findings
 *		(report_findings.c), every check row of the document with the place
 *		in an artifact it points at, so every format locates a finding the
 *		same way.
 */
#ifndef DRYDOCK_RENDER_H
#define DRYDOCK_RENDER_H

#include <stdbool.h>

#include <jansson.h>

/* The formats of --format; a bit each. */
typedef enum report_format
{
	FORMAT_TEXT = 1 << 0,		/* the one-line summary (stdout only) */
	FORMAT_TAP = 1 << 1,
	FORMAT_SARIF = 1 << 2,
	FORMAT_JUNIT = 1 << 3,
	FORMAT_GITHUB = 1 << 4,
	FORMAT_GITLAB = 1 << 5
} report_format;

/* "tap" -> FORMAT_TAP; 0 for an unknown name. */
report_format report_format_by_name(const char *name);
const char *report_format_name(report_format f);

/* A code's documentation (common/finding_codes.def, as in docs/codes.md). */
typedef struct report_code_doc
{
	const char *code;
	const char *family;
	const char *meaning;
	const char *fix;
	const char *example;
} report_code_doc;

/* The documentation of code, or NULL for an unknown code. */
const report_code_doc *report_code_doc_for(const char *code);

/* Every code, in finding_codes.def's order, ended by a NULL code. */
const report_code_doc *report_code_doc_list(void);

/* Where drydock's documentation of the finding codes is (DOCS_URL). */
const char *report_docs_url(void);

/*
 * Every finding of doc, one object each:
 *   code, family, status (pass/fail/warn/skipped/suppressed), message, object,
 *   phase (apply, rollback, replay, preflight, run), suite (a JUnit testsuite
 *   name: "apply KC", or "VERSION TITLE: apply KC" in a replay),
 *   file (or absent), line (0: unknown), source ("check" or "error"),
 *   suppression (the row's, when any).
 * A row's own "location" wins; otherwise the finding is placed at its
 * phase's artifact (the up for apply-phase families, the down for RB); an
 * NH004 row and a suppressed row carry a FILE:LINE of their own.
 */
json_t	   *report_findings(json_t *doc);

/* doc's formats (options.format) and whether warnings fail (options.fail_on). */
unsigned	report_doc_formats(json_t *doc);
bool		report_doc_fail_on_warn(json_t *doc);

/* A finding's stable fingerprint (sha256 hex of code, file, object, message). */
void		report_finding_fingerprint(json_t *finding, char out[65]);

/* Renderers; strings are malloc'd, documents are new references. */
json_t	   *report_render_sarif(json_t *doc);
char	   *report_render_junit(json_t *doc);
char	   *report_render_github(json_t *doc);
char	   *report_render_github_summary(json_t *doc);
json_t	   *report_render_gitlab(json_t *doc);

#endif							/* DRYDOCK_RENDER_H */

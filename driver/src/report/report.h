/*
 * report.h
 *		Writing the run's evidence: report.json (the facts, one document) and
 *		the human-readable files rendered from it, each written atomically
 *		(temp file, fsync, rename, fsync of the directory), with every string
 *		passed through secret redaction on the way out.
 */
#ifndef DRYDOCK_REPORT_H
#define DRYDOCK_REPORT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "util.h"
#include <stdio.h>

/* Create dir (and parents) if missing; false with err. */
bool		report_prepare_dir(const char *dir, char *err, size_t errlen);

/* Replace every secret in every string of doc, in place. */
void		report_redact(json_t *doc, char *const *secrets, size_t n);

/* Write data atomically as dir/name; false with err.  sha256 of the bytes. */
bool		report_write_file(const char *dir, const char *name, const char *data, size_t len,
							  char sha256_out[65], char *err, size_t errlen);

/*
 * Write the report set for doc (report.json and the rendered files).  A
 * pgTAP script too large to inline in report.json is passed as pgtap_spool
 * (an anonymous temporary file the caller owns, or NULL): it is copied,
 * redacted, to schema-assertions.pgtap.sql.
 */
bool		report_write_all(const char *dir, json_t *doc, char *const *secrets, size_t n,
							 FILE *pgtap_spool, char *err, size_t errlen);

/* Helpers of the renderers: a string member ("" if absent), a Markdown
 * table cell (no pipes, no newlines), the rows of an array with a status. */
const char *report_str(json_t *o, const char *key);
void		report_md_cell(strbuf *sb, const char *s);
void		tap_text(strbuf *sb, const char *s);	/* one line, '#' escaped */
int			report_count_status(json_t *rows, const char *status);

/*
 * One --format's text (render.h's report_format): what is printed on stdout
 * and, for each format of options.format, written into the report directory.
 */
char	   *report_render_format(json_t *doc, unsigned format);

/* Rendered views; each returns a malloc'd string. */
char	   *report_render_execution_log(json_t *doc);
char	   *report_render_verification(json_t *doc);
/* the same two into sb (one with a flush streams them to a file) */
void		report_render_execution_log_sb(strbuf *sb, json_t *doc);
void		report_render_verification_sb(strbuf *sb, json_t *doc);
char	   *report_render_tap(json_t *doc);	/* a run's; a replay's: report_render_replay_tap */
char	   *report_render_replay(json_t *doc);
char	   *report_render_replay_tap(json_t *doc);

#endif							/* DRYDOCK_REPORT_H */

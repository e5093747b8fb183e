/*
 * preflight.h -- checks run on every SQL artifact (DDL, ROLLBACK, base dump)
 * before any cluster exists.  See docs/preflight.md for what is refused and
 * noted, and why.
 *
 * Usage:
 *     preflight_options o;
 *     preflight_result  r;
 *     preflight_options_init(&o, PREFLIGHT_DDL);
 *     o.target_schema = "app";
 *     int rc = preflight_check("ddl.sql", &o, &r);
 *     if (rc != PREFLIGHT_OK) fprintf(stderr, "drydock: %s\n", r.error);
 *     ... r.findings, r.statements, r.secrets ...
 *     preflight_result_free(&r);
 *
 * No global state, nothing is printed, exit() is never called; the result is
 * independent of the input buffer.  Memory: the file plus small arrays
 * (statements: 16 + tag bytes each; findings are capped at
 * PREFLIGHT_MAX_FINDINGS, further ones only counted).
 */
#ifndef DRYDOCK_PREFLIGHT_H
#define DRYDOCK_PREFLIGHT_H

#include <stdbool.h>
#include <stddef.h>

#define PREFLIGHT_DEFAULT_MAX_BYTES ((size_t) 64 * 1024 * 1024)	/* 64 MiB */
#define PREFLIGHT_MAX_FINDINGS 1000

typedef enum preflight_role
{
	PREFLIGHT_DDL = 0,			/* the migration */
	PREFLIGHT_ROLLBACK,			/* its rollback */
	PREFLIGHT_BASE				/* pg_dump --schema-only output (--base):
								 * \restrict/\unrestrict allowed, CREATE SCHEMA
								 * of any schema is expected */
} preflight_role;

typedef struct preflight_options
{
	preflight_role role;
	const char *target_schema;	/* catalog name (exact, as in
								 * pg_namespace.nspname), or NULL */
	bool		allow_meta;		/* meta-commands only noted, not refused */
	size_t		max_bytes;		/* 0 = PREFLIGHT_DEFAULT_MAX_BYTES */
	bool		keep_data;		/* preflight_check: keep the bytes that were
								 * checked in result.data, so the caller can
								 * run exactly those (no re-read race) */
} preflight_options;

typedef enum preflight_severity
{
	PREFLIGHT_NOTE = 0,			/* a fact for the report / fidelity notes */
	PREFLIGHT_SECRET,			/* a secret literal: run continues, secret is
								 * in result.secrets and must be redacted */
	PREFLIGHT_REFUSE			/* the artifact must not run */
} preflight_severity;

typedef struct preflight_finding
{
	unsigned	line;			/* 1-based; 0 = the file as a whole */
	preflight_severity kind;
	const char *code;			/* static, stable: see docs/preflight.md */
	char		message[240];	/* one line, lower-case start, no secrets */
} preflight_finding;

typedef struct preflight_statement
{
	unsigned	first_line;		/* line of its first token */
	unsigned	last_line;		/* line of its last token (the ';') */
	char		tag[40];		/* e.g. "CREATE TABLE", "ALTER TYPE", "BEGIN" */
} preflight_statement;

typedef struct preflight_directive
{
	unsigned	line;
	char	   *text;			/* from "drydock:" to the end of the comment */
} preflight_directive;

typedef struct preflight_extension
{
	unsigned	line;
	char		name[64];		/* folded like an identifier */
} preflight_extension;

typedef struct preflight_result
{
	char	   *name;			/* the name used in messages */
	char		sha256[65];		/* hex; "" if the file could not be read */
	size_t		size;			/* bytes */
	unsigned	lines;			/* number of lines */
	bool		has_bom;		/* starts with a UTF-8 BOM */
	bool		has_crlf;		/* has CRLF line endings */

	preflight_statement *statements;
	size_t		n_statements;

	preflight_finding *findings;	/* in line order of discovery */
	size_t		n_findings;
	size_t		n_findings_dropped;	/* beyond PREFLIGHT_MAX_FINDINGS */
	size_t		n_refusals;		/* all REFUSE findings, dropped ones too */

	char	  **secrets;		/* literal strings to redact (raw and decoded) */
	size_t		n_secrets;

	preflight_directive *directives;	/* "-- drydock:" comments */
	size_t		n_directives;

	preflight_extension *extensions;	/* CREATE EXTENSION names */
	size_t		n_extensions;

	bool		has_transaction_control;	/* top-level BEGIN/COMMIT/... */
	unsigned	transaction_control_line;	/* first one */
	bool		creates_target_schema;	/* CREATE SCHEMA <target> */
	unsigned	target_schema_line;

	char	   *data;			/* only with opts.keep_data (preflight_check) */
	size_t		data_len;

	/* the first refusal, "NAME:LINE: message" (or "NAME: message"), or the
	 * internal error; "" when none */
	char		error[512];
} preflight_result;

/* return codes */
#define PREFLIGHT_OK		0	/* no refusal (notes/secrets may exist) */
#define PREFLIGHT_REFUSED	1	/* bad input or a refused construct */
#define PREFLIGHT_ERROR		(-1)	/* internal error (out of memory) */

void		preflight_options_init(preflight_options *opts, preflight_role role);

/* read path (regular file only, size-checked by fstat first) and check it */
int			preflight_check(const char *path, const preflight_options *opts,
							preflight_result *res);

/* check an in-memory buffer; name is used in messages */
int			preflight_check_buffer(const char *name, const char *buf, size_t len,
								   const preflight_options *opts, preflight_result *res);

/* release everything in res (safe on a zeroed or already freed result) */
void		preflight_result_free(preflight_result *res);

/* "NAME:LINE: message" (or "NAME: message" for line 0) into buf */
void		preflight_format_finding(const preflight_result *res, const preflight_finding *f,
									 char *buf, size_t bufsz);

/*
 * The statement psql was at when it printed a message tagged with line: the
 * first statement whose lines cover it, else the last one begun before it (a
 * last statement without ';' runs to the end of the file).  Its index into
 * statements (sorted, as preflight makes them), or -1.
 */
long		preflight_statement_at_line(const preflight_statement *statements, size_t n,
										unsigned line);

const char *preflight_severity_name(preflight_severity s);	/* "refuse", ... */

#endif							/* DRYDOCK_PREFLIGHT_H */

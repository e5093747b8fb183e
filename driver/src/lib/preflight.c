/*
 * preflight.c -- checks on SQL artifacts before any cluster exists.
 * See preflight.h and docs/preflight.md.
 *
 * The file is read whole, checked for size, NUL bytes and UTF-8, hashed, and
 * lexed once with sqllex.  Statements are delimited the way psql does it: a
 * ';' ends a statement only outside parentheses and outside a BEGIN ... END
 * body of CREATE [OR REPLACE] FUNCTION/PROCEDURE (psqlscan.l's heuristic).
 * The checks look only at top-level tokens, so text inside strings, quoted
 * identifiers, comments and dollar-quoted bodies is never taken for SQL.
 */
#include "preflight.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sha256.h"
#include "sqllex.h"

#define NHEAD 8
#define HWLEN 32

/* finding codes: stable strings, documented in docs/preflight.md */
enum
{
	C_FILE_MISSING, C_FILE_UNREADABLE, C_FILE_TYPE, C_FILE_TOO_LARGE, C_FILE_EMPTY,
	C_BINARY, C_UTF8, C_NO_STATEMENTS, C_UNTERMINATED, C_META, C_PSQLVAR,
	C_COPY_PROGRAM, C_SERVER_FILE, C_DBLINK, C_FDW, C_ALTER_SYSTEM, C_LEXER_SETTING,
	C_TARGET_SCHEMA, C_PASSWORD, C_CASCADE, C_TXN, C_NO_TXN_BLOCK, C_UNCHECKED_BODY,
	C_BOM, C_UNBALANCED, C_COPY_DATA, C_AMBIGUOUS, C__COUNT
};

static const char *const code_names[C__COUNT] = {
	"file-missing", "file-unreadable", "file-type", "file-too-large", "file-empty",
	"binary-file", "invalid-utf8", "no-statements", "unterminated", "meta-command",
	"psql-variable", "copy-program", "server-file-access", "dblink", "fdw",
	"alter-system", "lexer-setting", "create-target-schema", "password-literal",
	"cascade", "transaction-control", "no-transaction-block", "unchecked-body",
	"utf8-bom", "unbalanced-parens", "copy-data", "ambiguous-literal"
};

typedef struct setvar
{
	size_t		off;
	size_t		len;
	unsigned	line;
} setvar;

typedef struct pf
{
	const char *buf;
	size_t		len;
	const preflight_options *opts;
	preflight_result *res;
	bool		oom;
	size_t		cap_stmt,
				cap_find,
				cap_sec,
				cap_dir,
				cap_ext;

	setvar	   *vars;
	size_t		n_vars,
				cap_vars;

	/* the current statement */
	bool		in_stmt;
	preflight_statement cur;
	sqltoken	head[NHEAD];
	char		hu[NHEAD][HWLEN];	/* upper-cased head words, "" otherwise */
	int			nhead;
	long		paren;
	long		begin_depth;
	unsigned	ident_count;
	char		idents[4];
	sqltoken	prev,
				prev2;
	int			nprev;
	uint32_t	emitted;		/* codes already reported for this statement */
	int			pending_fn;		/* dangerous function name awaiting '(' */
	unsigned	pending_line;
	bool		copy_stdin;
	bool		saw_concurrently;
	bool		saw_detach;
	bool		saw_add_value;
	unsigned	cascade_line;
} pf;

/* ---------------------------------------------------------------- utils */

static bool
grow(pf *p, void **arr, size_t *cap, size_t n, size_t elsz)
{
	void	   *na;
	size_t		nc;

	if (n < *cap)
		return true;
	nc = *cap ? *cap * 2 : 16;
	na = realloc(*arr, nc * elsz);
	if (!na)
	{
		p->oom = true;
		return false;
	}
	*arr = na;
	*cap = nc;
	return true;
}

static char
lower_ascii(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char) (c + 32) : c;
}

static char
upper_ascii(char c)
{
	return (c >= 'a' && c <= 'z') ? (char) (c - 32) : c;
}

/* copy user-derived text into a message: printable ASCII only, bounded */
static void
sanitize(char *dst, size_t dstsz, const char *s, size_t n)
{
	size_t		k = 0;

	if (dstsz == 0)
		return;
	for (size_t i = 0; i < n && k + 1 < dstsz; i++)
	{
		unsigned char c = (unsigned char) s[i];

		dst[k++] = (c >= 0x20 && c < 0x7f) ? (char) c : '?';
	}
	if (k + 1 == dstsz && n > k && dstsz > 4)
		memcpy(dst + dstsz - 4, "...", 3), k = dstsz - 1;
	dst[k] = '\0';
}

static unsigned
line_of_offset(const char *b, size_t off)
{
	unsigned	line = 1;
	const char *p = b;
	const char *e = b + off;

	while (p < e)
	{
		const char *nl = memchr(p, '\n', (size_t) (e - p));

		if (!nl)
			break;
		line++;
		p = nl + 1;
	}
	return line;
}

static bool
tok_is(const pf *p, const sqltoken *t, const char *kw)
{
	return t->kind == SQLTOK_WORD && sqllex_word_is(p->buf, t, kw);
}

/* a word token (case-insensitive) or quoted identifier (exact) naming s */
static bool
names(const pf *p, const sqltoken *t, const char *s, bool prefix)
{
	size_t		n;
	const char *txt;
	size_t		tl;

	if (t->kind == SQLTOK_WORD)
	{
		txt = p->buf + t->off;
		tl = t->len;
		/* the first letter first: called for every name against lists of names */
		if (s[0] != '\0' && (tl == 0 || lower_ascii(txt[0]) != s[0]))
			return false;
		n = strlen(s);
		if (prefix ? tl < n : tl != n)
			return false;
		for (size_t i = 0; i < n; i++)
			if (lower_ascii(txt[i]) != s[i])
				return false;
		return true;
	}
	if (t->kind == SQLTOK_QIDENT && t->prefix == 0)
	{
		txt = p->buf + t->body_off;
		tl = t->body_len;
		n = strlen(s);
		return prefix ? (tl >= n && memcmp(txt, s, n) == 0) : (tl == n && memcmp(txt, s, n) == 0);
	}
	return false;
}

/* an identifier as the catalog stores it: unquoted folds to lower case */
static size_t
ident_value(const pf *p, const sqltoken *t, char *out, size_t outsz)
{
	size_t		k = 0;

	if (outsz == 0)
		return 0;
	if (t->kind == SQLTOK_WORD)
	{
		for (size_t i = 0; i < t->len && k + 1 < outsz; i++)
			out[k++] = lower_ascii(p->buf[t->off + i]);
	}
	else if (t->kind == SQLTOK_QIDENT && t->prefix == 0)
	{
		for (size_t i = 0; i < t->body_len && k + 1 < outsz; i++)
		{
			char		c = p->buf[t->body_off + i];

			out[k++] = c;
			if (c == '"')
				i++;			/* "" -> " */
		}
	}
	out[k] = '\0';
	return k;
}

/* ------------------------------------------------------------- results */

static void
add_finding(pf *p, unsigned line, preflight_severity kind, int code, const char *fmt,...)
	__attribute__((format(printf, 5, 6)));

static void
add_finding(pf *p, unsigned line, preflight_severity kind, int code, const char *fmt,...)
{
	preflight_result *r = p->res;
	preflight_finding *f;
	va_list		ap;

	if (kind == PREFLIGHT_REFUSE)
		r->n_refusals++;
	if (r->n_findings >= PREFLIGHT_MAX_FINDINGS)
	{
		r->n_findings_dropped++;
		return;
	}
	if (!grow(p, (void **) &r->findings, &p->cap_find, r->n_findings, sizeof(*f)))
		return;
	f = &r->findings[r->n_findings++];
	f->line = line;
	f->kind = kind;
	f->code = code_names[code];
	va_start(ap, fmt);
	vsnprintf(f->message, sizeof(f->message), fmt, ap);
	va_end(ap);
	for (char *c = f->message; *c; c++)
		if (*c == '\n' || *c == '\r')
			*c = ' ';
	if (kind == PREFLIGHT_REFUSE && r->error[0] == '\0')
		preflight_format_finding(r, f, r->error, sizeof(r->error));
}

static void
add_secret(pf *p, const char *s, size_t n)
{
	preflight_result *r = p->res;
	char	   *c;

	if (n == 0)
		return;
	for (size_t i = 0; i < r->n_secrets; i++)
		if (strlen(r->secrets[i]) == n && memcmp(r->secrets[i], s, n) == 0)
			return;
	if (!grow(p, (void **) &r->secrets, &p->cap_sec, r->n_secrets, sizeof(char *)))
		return;
	c = strndup(s, n);
	if (!c)
	{
		p->oom = true;
		return;
	}
	r->secrets[r->n_secrets++] = c;
}

/* record a string literal as a secret: its raw text and its decoded value */
static void
add_secret_literal(pf *p, const sqltoken *t)
{
	const char *s = p->buf + t->body_off;
	size_t		n = t->body_len;
	char	   *d;
	size_t		k = 0;

	add_secret(p, s, n);
	d = malloc(n + 1);
	if (!d)
	{
		p->oom = true;
		return;
	}
	for (size_t i = 0; i < n; i++)
	{
		char		c = s[i];

		if (c == '\'' && i + 1 < n && s[i + 1] == '\'')
			i++;
		else if (c == '\\' && t->prefix == 'E' && i + 1 < n)
		{
			c = s[++i];
			switch (c)
			{
				case 'n':
					c = '\n';
					break;
				case 't':
					c = '\t';
					break;
				case 'r':
					c = '\r';
					break;
				case 'b':
					c = '\b';
					break;
				case 'f':
					c = '\f';
					break;
				default:
					break;
			}
		}
		d[k++] = c;
	}
	add_secret(p, d, k);
	free(d);
}

/* --------------------------------------------------------- statements */

static bool
hw_is(const pf *p, int k, const char *up)
{
	return k < p->nhead && strcmp(p->hu[k], up) == 0;
}

static void
tag_append(char *tag, const char *w)
{
	size_t		l = strlen(tag);

	if (!*w)
		return;
	snprintf(tag + l, 40 - l, "%s%s", l ? " " : "", w);
}

static bool
is_create_modifier(const pf *p, int k)
{
	static const char *const mods[] = {"OR", "REPLACE", "TEMP", "TEMPORARY", "UNLOGGED",
		"GLOBAL", "LOCAL", "UNIQUE", "TRUSTED", "PROCEDURAL", "RECURSIVE",
	"CONSTRAINT", NULL};

	if (k >= p->nhead)
		return false;
	if (strcmp(p->hu[k], "DEFAULT") == 0)
		return !hw_is(p, k + 1, "PRIVILEGES");
	for (int i = 0; mods[i]; i++)
		if (strcmp(p->hu[k], mods[i]) == 0)
			return true;
	return false;
}

static void
compute_tag(pf *p)
{
	char	   *tag = p->cur.tag;
	const char *w0 = p->hu[0];

	tag[0] = '\0';
	if (!*w0)
	{
		snprintf(tag, sizeof(p->cur.tag), "%s",
				 p->head[0].kind == SQLTOK_LPAREN ? "(" : "?");
		return;
	}
	if (strcmp(w0, "CREATE") == 0 || strcmp(w0, "ALTER") == 0 || strcmp(w0, "DROP") == 0)
	{
		int			i = 1;
		const char *o;

		if (strcmp(w0, "CREATE") == 0)
			while (is_create_modifier(p, i))
				i++;
		tag_append(tag, w0);
		if (i >= p->nhead)
			return;
		o = p->hu[i];
		tag_append(tag, o);
		if ((strcmp(o, "FOREIGN") == 0 && hw_is(p, i + 1, "DATA")))
		{
			tag_append(tag, "DATA");
			if (hw_is(p, i + 2, "WRAPPER"))
				tag_append(tag, "WRAPPER");
		}
		else if ((strcmp(o, "FOREIGN") == 0 && hw_is(p, i + 1, "TABLE")) ||
				 (strcmp(o, "EVENT") == 0 && hw_is(p, i + 1, "TRIGGER")) ||
				 (strcmp(o, "MATERIALIZED") == 0 && hw_is(p, i + 1, "VIEW")) ||
				 (strcmp(o, "ACCESS") == 0 && hw_is(p, i + 1, "METHOD")) ||
				 (strcmp(o, "USER") == 0 && hw_is(p, i + 1, "MAPPING")) ||
				 (strcmp(o, "OPERATOR") == 0 && hw_is(p, i + 1, "CLASS")) ||
				 (strcmp(o, "OPERATOR") == 0 && hw_is(p, i + 1, "FAMILY")) ||
				 (strcmp(o, "DEFAULT") == 0 && hw_is(p, i + 1, "PRIVILEGES")) ||
				 (strcmp(o, "LARGE") == 0 && hw_is(p, i + 1, "OBJECT")))
			tag_append(tag, p->hu[i + 1]);
		else if (strcmp(o, "TEXT") == 0 && hw_is(p, i + 1, "SEARCH"))
		{
			tag_append(tag, "SEARCH");
			if (i + 2 < p->nhead)
				tag_append(tag, p->hu[i + 2]);
		}
		return;
	}
	tag_append(tag, w0);
	if ((strcmp(w0, "START") == 0 && hw_is(p, 1, "TRANSACTION")) ||
		(strcmp(w0, "PREPARE") == 0 && hw_is(p, 1, "TRANSACTION")) ||
		(strcmp(w0, "COMMIT") == 0 && hw_is(p, 1, "PREPARED")) ||
		(strcmp(w0, "ROLLBACK") == 0 && hw_is(p, 1, "PREPARED")) ||
		(strcmp(w0, "SECURITY") == 0 && hw_is(p, 1, "LABEL")) ||
		(strcmp(w0, "ALTER") == 0 && hw_is(p, 1, "SYSTEM")))
		tag_append(tag, p->hu[1]);
	else if ((strcmp(w0, "REFRESH") == 0 && hw_is(p, 1, "MATERIALIZED")) ||
			 (strcmp(w0, "IMPORT") == 0 && hw_is(p, 1, "FOREIGN")))
	{
		tag_append(tag, p->hu[1]);
		if (p->nhead > 2)
			tag_append(tag, p->hu[2]);
	}
}

static bool
tag_is(const pf *p, const char *t)
{
	return strcmp(p->cur.tag, t) == 0;
}

static bool
tag_starts(const pf *p, const char *t)
{
	return strncmp(p->cur.tag, t, strlen(t)) == 0;
}

/* statements that only name a function or extension without running it */
static bool
tag_mentions_only(const pf *p)
{
	return tag_starts(p, "DROP") || tag_is(p, "GRANT") || tag_is(p, "REVOKE") ||
		tag_is(p, "COMMENT") || tag_is(p, "ALTER FUNCTION") || tag_is(p, "ALTER ROUTINE") ||
		tag_is(p, "ALTER PROCEDURE") || tag_is(p, "ALTER EXTENSION") ||
		tag_is(p, "SECURITY LABEL") || tag_is(p, "ALTER DEFAULT PRIVILEGES");
}

static bool
tag_is_routine(const pf *p)
{
	return tag_is(p, "CREATE FUNCTION") || tag_is(p, "CREATE PROCEDURE");
}

static void
start_statement(pf *p, const sqltoken *t)
{
	p->in_stmt = true;
	memset(&p->cur, 0, sizeof(p->cur));
	p->cur.first_line = t->line;
	p->nhead = 0;
	p->paren = 0;
	p->begin_depth = 0;
	p->ident_count = 0;
	memset(p->idents, 0, sizeof(p->idents));
	p->nprev = 0;
	p->emitted = 0;
	p->pending_fn = -1;
	p->copy_stdin = false;
	p->saw_concurrently = false;
	p->saw_detach = false;
	p->saw_add_value = false;
	p->cascade_line = 0;
}

/* once per statement for a code */
static bool
first_time(pf *p, int code)
{
	uint32_t	bit = (uint32_t) 1 << code;

	if (p->emitted & bit)
		return false;
	p->emitted |= bit;
	return true;
}

static const char *
target(const pf *p)
{
	return p->opts->target_schema;
}

static bool
is_utf8_name(const pf *p, const sqltoken *t)
{
	const char *s;
	size_t		n;
	char		v[16];
	size_t		k = 0;

	if (t->kind == SQLTOK_WORD || (t->kind == SQLTOK_QIDENT && t->prefix == 0))
	{
		s = p->buf + (t->kind == SQLTOK_WORD ? t->off : t->body_off);
		n = t->kind == SQLTOK_WORD ? t->len : t->body_len;
	}
	else if (t->kind == SQLTOK_STRING && t->prefix == 0)
	{
		s = p->buf + t->body_off;
		n = t->body_len;
	}
	else
		return false;
	if (n >= sizeof(v))
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] != '-' && s[i] != '_')
			v[k++] = lower_ascii(s[i]);
	v[k] = '\0';
	return strcmp(v, "utf8") == 0 || strcmp(v, "unicode") == 0 || strcmp(v, "default") == 0;
}

static void
check_set_statement(pf *p)
{
	int			i = 1;
	int			v;
	bool		scs,
				enc;

	if (hw_is(p, 1, "SESSION") || hw_is(p, 1, "LOCAL"))
		i = 2;
	if (i >= p->nhead)
		return;
	scs = hw_is(p, i, "STANDARD_CONFORMING_STRINGS");
	enc = hw_is(p, i, "CLIENT_ENCODING");
	if (hw_is(p, i, "NAMES"))
	{
		enc = true;
		v = i + 1;
	}
	else
		v = (hw_is(p, i + 1, "TO") || (i + 1 < p->nhead && p->head[i + 1].len == 1 &&
										p->buf[p->head[i + 1].off] == '=')) ? i + 2 : -1;
	if (!scs && !enc)
		return;
	if (v < 0 || v >= p->nhead)
		return;
	if (scs)
	{
		const sqltoken *t = &p->head[v];
		char		val[8] = "";

		if (t->kind == SQLTOK_STRING && t->body_len < sizeof(val))
		{
			for (size_t k = 0; k < t->body_len; k++)
				val[k] = lower_ascii(p->buf[t->body_off + k]);
			val[t->body_len] = '\0';
		}
		else if (t->kind == SQLTOK_WORD && t->len < sizeof(val))
		{
			for (size_t k = 0; k < t->len; k++)
				val[k] = lower_ascii(p->buf[t->off + k]);
			val[t->len] = '\0';
		}
		if (strcmp(val, "on") == 0 || strcmp(val, "true") == 0 || strcmp(val, "default") == 0)
			return;
		add_finding(p, p->cur.first_line, PREFLIGHT_REFUSE, C_LEXER_SETTING,
					"SET standard_conforming_strings to anything but on changes how psql "
					"reads the quotes in the rest of the file; refused");
	}
	else if (!is_utf8_name(p, &p->head[v]))
		add_finding(p, p->cur.first_line, PREFLIGHT_REFUSE, C_LEXER_SETTING,
					"changing the client encoding away from UTF8 changes how psql reads "
					"the rest of the file; refused");
}

static void
end_statement(pf *p)
{
	preflight_result *r = p->res;
	const char *tag = p->cur.tag;
	unsigned	line = p->cur.first_line;

	if (!p->in_stmt)
		return;
	p->in_stmt = false;
	if (p->cur.last_line < p->cur.first_line)
		p->cur.last_line = p->cur.first_line;

	/* transaction control */
	if (tag_is(p, "BEGIN") || tag_is(p, "START TRANSACTION") || tag_is(p, "COMMIT") ||
		tag_is(p, "END") || tag_is(p, "ROLLBACK") || tag_is(p, "ABORT") ||
		tag_is(p, "SAVEPOINT") || tag_is(p, "RELEASE") || tag_is(p, "PREPARE TRANSACTION") ||
		tag_is(p, "COMMIT PREPARED") || tag_is(p, "ROLLBACK PREPARED"))
	{
		if (!r->has_transaction_control)
		{
			r->has_transaction_control = true;
			r->transaction_control_line = line;
		}
		add_finding(p, line, PREFLIGHT_NOTE, C_TXN,
					"%s: the file controls its own transactions, so it cannot be wrapped "
					"in a single transaction (psql -1)", tag);
	}

	/* statements that cannot run in a transaction block */
	if ((tag_is(p, "CREATE INDEX") || tag_is(p, "DROP INDEX") || tag_is(p, "REINDEX")) &&
		p->saw_concurrently)
		add_finding(p, line, PREFLIGHT_NOTE, C_NO_TXN_BLOCK,
					"%s CONCURRENTLY cannot run inside a transaction block", tag);
	else if (tag_is(p, "ALTER TABLE") && p->saw_detach && p->saw_concurrently)
		add_finding(p, line, PREFLIGHT_NOTE, C_NO_TXN_BLOCK,
					"ALTER TABLE ... DETACH PARTITION CONCURRENTLY cannot run inside a "
					"transaction block");
	else if (tag_is(p, "CREATE DATABASE") || tag_is(p, "DROP DATABASE") ||
			 tag_is(p, "CREATE TABLESPACE") || tag_is(p, "DROP TABLESPACE") ||
			 tag_is(p, "VACUUM") || tag_is(p, "CREATE SUBSCRIPTION") ||
			 tag_is(p, "DROP SUBSCRIPTION") || tag_is(p, "ALTER SYSTEM"))
		add_finding(p, line, PREFLIGHT_NOTE, C_NO_TXN_BLOCK,
					"%s cannot run inside a transaction block", tag);
	else if (tag_is(p, "ALTER TYPE") && p->saw_add_value)
		add_finding(p, line, PREFLIGHT_NOTE, C_NO_TXN_BLOCK,
					"ALTER TYPE ... ADD VALUE cannot run inside a transaction block before "
					"PostgreSQL 12, and from 12 on the new value cannot be used in the same "
					"transaction");

	if (tag_is(p, "ALTER SYSTEM"))
		add_finding(p, line, PREFLIGHT_REFUSE, C_ALTER_SYSTEM,
					"ALTER SYSTEM changes the server configuration (it can set shell commands "
					"such as archive_command); refused");

	if (p->cascade_line)
		add_finding(p, p->cascade_line, PREFLIGHT_NOTE, C_CASCADE,
					"%s ... CASCADE also drops every dependent object", tag);

	if (tag_is(p, "SET"))
		check_set_statement(p);

	/* CREATE SCHEMA [IF NOT EXISTS] name | AUTHORIZATION role */
	if (tag_is(p, "CREATE SCHEMA"))
	{
		int			i = 2;
		char		nm[256];

		if (hw_is(p, 2, "IF") && hw_is(p, 3, "NOT") && hw_is(p, 4, "EXISTS"))
			i = 5;
		if (hw_is(p, i, "AUTHORIZATION"))
			i++;
		if (i < p->nhead && target(p) &&
			ident_value(p, &p->head[i], nm, sizeof(nm)) > 0 && strcmp(nm, target(p)) == 0)
		{
			if (!r->creates_target_schema)
			{
				r->creates_target_schema = true;
				r->target_schema_line = p->head[i].line;
			}
			if (p->opts->role != PREFLIGHT_BASE)
			{
				char		sn[64];

				sanitize(sn, sizeof(sn), target(p), strlen(target(p)));
				add_finding(p, line, PREFLIGHT_NOTE, C_TARGET_SCHEMA,
							"the artifact creates the target schema %s itself (N-4: the "
							"sandbox must not add it)", sn);
			}
		}
	}

	/* CREATE EXTENSION [IF NOT EXISTS] name */
	if (tag_is(p, "CREATE EXTENSION"))
	{
		int			i = 2;

		if (hw_is(p, 2, "IF") && hw_is(p, 3, "NOT") && hw_is(p, 4, "EXISTS"))
			i = 5;
		if (i < p->nhead && (p->head[i].kind == SQLTOK_WORD ||
							 (p->head[i].kind == SQLTOK_QIDENT && p->head[i].prefix == 0)) &&
			grow(p, (void **) &r->extensions, &p->cap_ext, r->n_extensions,
				 sizeof(*r->extensions)))
		{
			preflight_extension *e = &r->extensions[r->n_extensions++];

			e->line = p->head[i].line;
			ident_value(p, &p->head[i], e->name, sizeof(e->name));
		}
	}

	if (grow(p, (void **) &r->statements, &p->cap_stmt, r->n_statements, sizeof(p->cur)))
		r->statements[r->n_statements++] = p->cur;
}

/* dangerous server functions: called -> refused */
static const char *const file_funcs[] = {
	"pg_read_file", "pg_read_binary_file", "pg_ls_dir", "pg_stat_file", "lo_import",
	"lo_export", "pg_file_write", "pg_file_rename", "pg_file_unlink", "pg_file_sync", NULL
};

static void
report_use(pf *p, int code, unsigned line, const char *what, const char *why)
{
	if (tag_mentions_only(p) || !first_time(p, code))
		return;
	if (tag_is_routine(p))
		add_finding(p, line, PREFLIGHT_NOTE, C_UNCHECKED_BODY,
					"function body calls %s, which %s; not refused because it runs only "
					"when the function is called", what, why);
	else
		add_finding(p, line, PREFLIGHT_REFUSE, code, "%s %s; refused", what, why);
}

/* scan a dollar-quoted body for names a naive check would miss */
static void
scan_body(pf *p, const sqltoken *t)
{
	static const char *const needles[] = {"pg_read_file", "pg_read_binary_file", "pg_ls_dir",
	"lo_import", "lo_export", "dblink", "program", NULL};
	const char *s = p->buf + t->body_off;
	size_t		n = t->body_len;

	for (size_t i = 0; i < n; i++)
	{
		char		c = lower_ascii(s[i]);

		if (c != 'p' && c != 'l' && c != 'd')
			continue;
		for (int k = 0; needles[k]; k++)
		{
			size_t		nl = strlen(needles[k]);
			size_t		j;

			if (needles[k][0] != c || n - i < nl)
				continue;
			for (j = 0; j < nl; j++)
				if (lower_ascii(s[i + j]) != needles[k][j])
					break;
			if (j < nl)
				continue;
			if (first_time(p, C_UNCHECKED_BODY))
				add_finding(p, t->line + (line_of_offset(p->buf + t->off, t->body_off - t->off + i) - 1),
							PREFLIGHT_NOTE, C_UNCHECKED_BODY,
							"%s body mentions %s; code inside dollar quotes is not checked "
							"(the server's own privilege checks apply when it runs)",
							tag_is(p, "DO") ? "DO block" : "dollar-quoted", needles[k]);
			return;
		}
	}
}

/*
 * Is the word just read the name of an object being defined or a function
 * of another schema (so "name(" is not a call of the built-in)?
 */
static bool
defines_name(const pf *p)
{
	static const char *const kw[] = {"table", "function", "procedure", "routine", "type",
		"view", "index", "sequence", "into", "references", "exists", "only", "trigger",
	"aggregate", "domain", NULL};
	const sqltoken *pv = p->nprev >= 1 ? &p->prev : NULL;

	if (!pv)
		return false;
	if (pv->kind == SQLTOK_OP && pv->len == 1 && p->buf[pv->off] == '.')
		return !(p->nprev >= 2 && names(p, &p->prev2, "pg_catalog", false));
	for (int k = 0; kw[k]; k++)
		if (tok_is(p, pv, kw[k]))
			return true;
	return false;
}

static bool
is_password_stmt(const pf *p)
{
	return tag_is(p, "CREATE ROLE") || tag_is(p, "ALTER ROLE") || tag_is(p, "CREATE USER") ||
		tag_is(p, "ALTER USER") || tag_is(p, "CREATE GROUP") || tag_is(p, "ALTER GROUP") ||
		tag_is(p, "CREATE USER MAPPING") || tag_is(p, "ALTER USER MAPPING") ||
		tag_is(p, "CREATE SERVER") || tag_is(p, "ALTER SERVER");
}

/* 'host=x password=secret' in any string literal */
static void
scan_conninfo_password(pf *p, const sqltoken *t)
{
	const char *s = p->buf + t->body_off;
	size_t		n = t->body_len;
	static const char key[] = "password";

	for (size_t i = 0; i + sizeof(key) - 1 < n; i++)
	{
		size_t		j;

		if (lower_ascii(s[i]) != 'p' || (i > 0 && s[i - 1] != ' ' && s[i - 1] != '\t'))
			continue;
		for (j = 0; j < sizeof(key) - 1; j++)
			if (lower_ascii(s[i + j]) != key[j])
				break;
		if (j < sizeof(key) - 1)
			continue;
		j = i + j;
		while (j < n && s[j] == ' ')
			j++;
		if (j >= n || s[j] != '=')
			continue;
		j++;
		while (j < n && s[j] == ' ')
			j++;
		{
			size_t		v = j;

			while (j < n && s[j] != ' ' && s[j] != '\t' && s[j] != '\'' && s[j] != '\n')
				j++;
			if (j > v)
			{
				add_secret(p, s + v, j - v);
				add_finding(p, t->line, PREFLIGHT_SECRET, C_PASSWORD,
							"password in a connection string; the secret is redacted from "
							"every output");
			}
		}
		i = j;
	}
}

/* Keep the first NHEAD tokens of the statement (upper-cased words) and its tag. */
static void
record_head_token(pf *p, const sqltoken *t)
{
	int			k;

	if (p->nhead >= NHEAD)
		return;
	k = p->nhead++;
	p->head[k] = *t;
	p->hu[k][0] = '\0';
	if (t->kind == SQLTOK_WORD || t->kind == SQLTOK_OP)
	{
		if (t->len < HWLEN)
		{
			for (size_t i = 0; i < t->len; i++)
				p->hu[k][i] = upper_ascii(p->buf[t->off + i]);
			p->hu[k][t->len] = '\0';
			if (t->kind == SQLTOK_OP)
				p->hu[k][0] = '\0';
		}
		else
			snprintf(p->hu[k], HWLEN, "#");
	}
	compute_tag(p);
}

/*
 * A word: psql's own BEGIN ... END tracking inside CREATE FUNCTION/PROCEDURE
 * (psqlscan.l: a ';' inside such a body does not end the statement), and the
 * statement-level words the notes look for (CONCURRENTLY, DETACH, ADD VALUE,
 * CASCADE outside ON DELETE/UPDATE).
 */
static void
on_word(pf *p, const sqltoken *t, const sqltoken *pv)
{
	static const char *const fw[] = {"create", "function", "procedure", "or",
	"replace", NULL};

	if (p->ident_count == 0)
		memset(p->idents, 0, sizeof(p->idents));
	for (int k = 0; fw[k]; k++)
		if (sqllex_word_is(p->buf, t, fw[k]))
		{
			if (p->ident_count < sizeof(p->idents))
				p->idents[p->ident_count] = fw[k][0];
			break;
		}
	p->ident_count++;
	if (p->idents[0] == 'c' &&
		(p->idents[1] == 'f' || p->idents[1] == 'p' ||
		 (p->idents[1] == 'o' && p->idents[2] == 'r' &&
		  (p->idents[3] == 'f' || p->idents[3] == 'p'))) &&
		p->paren == 0)
	{
		if (sqllex_word_is(p->buf, t, "begin"))
			p->begin_depth++;
		else if (sqllex_word_is(p->buf, t, "case"))
		{
			if (p->begin_depth >= 1)
				p->begin_depth++;
		}
		else if (sqllex_word_is(p->buf, t, "end"))
		{
			if (p->begin_depth > 0)
				p->begin_depth--;
		}
	}
	if (p->paren != 0)
		return;
	if (sqllex_word_is(p->buf, t, "concurrently"))
		p->saw_concurrently = true;
	else if (sqllex_word_is(p->buf, t, "detach"))
		p->saw_detach = true;
	else if (sqllex_word_is(p->buf, t, "value") && pv && tok_is(p, pv, "add"))
		p->saw_add_value = true;
	else if (sqllex_word_is(p->buf, t, "cascade") && !p->cascade_line &&
			 !(pv && (tok_is(p, pv, "delete") || tok_is(p, pv, "update"))) &&
			 (tag_starts(p, "DROP") || tag_starts(p, "ALTER") ||
			  tag_is(p, "TRUNCATE") || tag_is(p, "REVOKE")))
		p->cascade_line = t->line;
}

/*
 * A name (word or quoted identifier): server file functions (reported when
 * the next token is '('), dblink, postgres_fdw servers, COPY ... PROGRAM
 * and COPY FROM stdin.
 */
static void
on_name(pf *p, const sqltoken *t, const sqltoken *pv)
{
	for (int k = 0; file_funcs[k]; k++)
		if (names(p, t, file_funcs[k], false) && !defines_name(p))
		{
			p->pending_fn = k;
			p->pending_line = t->line;
			break;
		}
	if (names(p, t, "dblink", true))
		report_use(p, C_DBLINK, t->line, "dblink",
				   "opens connections to other servers");
	if (names(p, t, "postgres_fdw", true))
	{
		if (tag_is(p, "CREATE SERVER") || tag_is(p, "CREATE FOREIGN DATA WRAPPER"))
		{
			if (first_time(p, C_FDW))
				add_finding(p, t->line, PREFLIGHT_REFUSE, C_FDW,
							"%s using postgres_fdw opens connections to other "
							"servers; refused", p->cur.tag);
		}
		else if (tag_is(p, "CREATE EXTENSION") && first_time(p, C_FDW))
			add_finding(p, t->line, PREFLIGHT_NOTE, C_FDW,
						"CREATE EXTENSION postgres_fdw: foreign servers are refused, "
						"the extension alone is noted");
	}
	if (tag_is(p, "COPY") && p->paren == 0 && pv &&
		(tok_is(p, pv, "to") || tok_is(p, pv, "from")))
	{
		bool		to = tok_is(p, pv, "to");

		if (tok_is(p, t, "program") && first_time(p, C_COPY_PROGRAM))
			add_finding(p, t->line, PREFLIGHT_REFUSE, C_COPY_PROGRAM,
						"COPY ... %s PROGRAM runs a program on the server; refused",
						to ? "TO" : "FROM");
		else if (!to && tok_is(p, t, "stdin"))
			p->copy_stdin = true;
	}
}

/*
 * A string literal: COPY to/from a server file, file_fdw options, password
 * literals (secrets), set_config of settings that change how psql lexes.
 */
static void
on_string(pf *p, const sqltoken *t, const sqltoken *pv)
{
	if (tag_is(p, "COPY") && p->paren == 0 && pv &&
		(tok_is(p, pv, "to") || tok_is(p, pv, "from")) && first_time(p, C_SERVER_FILE))
		add_finding(p, t->line, PREFLIGHT_REFUSE, C_SERVER_FILE,
					"COPY ... %s a file %s a file on the server; refused",
					tok_is(p, pv, "to") ? "TO" : "FROM",
					tok_is(p, pv, "to") ? "writes" : "reads");
	if (pv && (tag_is(p, "CREATE FOREIGN TABLE") || tag_is(p, "ALTER FOREIGN TABLE") ||
			   tag_is(p, "IMPORT FOREIGN SCHEMA")))
	{
		if (names(p, pv, "program", false) && first_time(p, C_COPY_PROGRAM))
			add_finding(p, t->line, PREFLIGHT_REFUSE, C_COPY_PROGRAM,
						"foreign table option program runs a program on the server "
						"(file_fdw); refused");
		else if (names(p, pv, "filename", false) && first_time(p, C_SERVER_FILE))
			add_finding(p, t->line, PREFLIGHT_REFUSE, C_SERVER_FILE,
						"foreign table option filename reads a file on the server "
						"(file_fdw); refused");
	}
	if (pv && names(p, pv, "password", false) && is_password_stmt(p))
	{
		add_secret_literal(p, t);
		add_finding(p, t->line, PREFLIGHT_SECRET, C_PASSWORD,
					"password literal in %s; the secret is redacted from every output",
					p->cur.tag);
	}
	else
		scan_conninfo_password(p, t);
	/* set_config('standard_conforming_strings' | 'client_encoding', ...) */
	if (pv && pv->kind == SQLTOK_LPAREN && p->nprev >= 2 &&
		names(p, &p->prev2, "set_config", false) && t->prefix == 0 &&
		((t->body_len == 27 && memcmp(p->buf + t->body_off, "standard_conforming_strings", 27) == 0) ||
		 (t->body_len == 15 && memcmp(p->buf + t->body_off, "client_encoding", 15) == 0)))
		add_finding(p, t->line, PREFLIGHT_REFUSE, C_LEXER_SETTING,
					"set_config of %.*s changes how psql reads the rest of the file; "
					"refused", (int) t->body_len, p->buf + t->body_off);
}

/* :var after a \set of the same variable: SQL that preflight cannot see. */
static void
on_psql_variable(pf *p, const sqltoken *t)
{
	for (size_t k = 0; k < p->n_vars; k++)
		if (p->vars[k].len == t->body_len &&
			memcmp(p->buf + p->vars[k].off, p->buf + t->body_off, t->body_len) == 0)
		{
			char		vn[40];

			sanitize(vn, sizeof(vn), p->buf + t->body_off, t->body_len);
			add_finding(p, t->line,
						p->opts->allow_meta ? PREFLIGHT_NOTE : PREFLIGHT_REFUSE,
						C_PSQLVAR,
						"psql variable :%s (set by \\set at line %u) is interpolated "
						"into SQL that preflight cannot see; %s", vn, p->vars[k].line,
						p->opts->allow_meta ? "allowed by --allow-meta" :
						"refused (use --allow-meta to permit)");
			return;
		}
}

/* One SQL token of a statement: bookkeeping, then what its kind calls for. */
static void
on_sql_token(pf *p, const sqltoken *t)
{
	const sqltoken *pv = p->nprev >= 1 ? &p->prev : NULL;

	if (!p->in_stmt)
		start_statement(p, t);
	p->cur.last_line = t->end_line;
	record_head_token(p, t);

	/* a dangerous function name followed by '(' */
	if (p->pending_fn >= 0)
	{
		if (t->kind == SQLTOK_LPAREN)
			report_use(p, C_SERVER_FILE, p->pending_line, file_funcs[p->pending_fn],
					   "reads or writes files on the server");
		p->pending_fn = -1;
	}

	/*
	 * 1e'..', 1x'..', $1e'..': psql 15 splits these as a number and an E''
	 * (or B/X/N/U&) literal, psql 16+ as a number with trailing junk and a
	 * standard string -- which can end at a different quote.
	 */
	if (pv && (pv->kind == SQLTOK_NUMBER || pv->kind == SQLTOK_PARAM) &&
		(t->kind == SQLTOK_STRING || t->kind == SQLTOK_QIDENT) && t->prefix &&
		pv->off + pv->len == t->off && first_time(p, C_AMBIGUOUS))
		add_finding(p, t->line, PREFLIGHT_REFUSE, C_AMBIGUOUS,
					"a number directly followed by a %c'' literal is split differently by "
					"psql versions; refused (add a space)", t->prefix);

	switch (t->kind)
	{
		case SQLTOK_LPAREN:
			p->paren++;
			break;
		case SQLTOK_RPAREN:
			if (p->paren > 0)
				p->paren--;
			break;
		case SQLTOK_WORD:
			on_word(p, t, pv);
			on_name(p, t, pv);
			break;
		case SQLTOK_QIDENT:
			on_name(p, t, pv);
			break;
		case SQLTOK_STRING:
			on_string(p, t, pv);
			break;
		case SQLTOK_DOLLAR:
			scan_body(p, t);
			break;
		case SQLTOK_PSQLVAR:
			on_psql_variable(p, t);
			break;
		default:
			break;
	}

	p->prev2 = p->prev;
	p->prev = *t;
	if (p->nprev < 2)
		p->nprev++;
}

/* ------------------------------------------------------ meta-commands */

typedef struct meta_rule
{
	const char *name;
	const char *why;			/* NULL: harmless */
} meta_rule;

static const meta_rule meta_rules[] = {
	/* harmless: output formatting, variables, conditionals */
	{"set", NULL}, {"unset", NULL}, {"echo", NULL}, {"qecho", NULL}, {"warn", NULL},
	{"if", NULL}, {"elif", NULL}, {"else", NULL}, {"endif", NULL}, {"timing", NULL},
	{"pset", NULL}, {"x", NULL}, {"a", NULL}, {"t", NULL}, {"q", NULL}, {"quit", NULL},
	/* refused, with the reason */
	{"!", "runs a shell command"},
	{"c", "opens a connection to another database or server"},
	{"connect", "opens a connection to another database or server"},
	{"o", "redirects query output to a file or pipe"},
	{"out", "redirects query output to a file or pipe"},
	{"w", "writes the query buffer to a file or pipe"},
	{"write", "writes the query buffer to a file or pipe"},
	{"copy", "reads or writes client files or runs a program"},
	{"setenv", "changes psql's environment"},
	{"i", "includes another file that preflight cannot check"},
	{"include", "includes another file that preflight cannot check"},
	{"ir", "includes another file that preflight cannot check"},
	{"include_relative", "includes another file that preflight cannot check"},
	{"lo_import", "reads a client file into a large object"},
	{"lo_export", "writes a large object to a client file"},
	{"lo_list", "lists large objects"},
	{"lo_unlink", "deletes a large object"},
	{"cd", "changes psql's working directory"},
	{"password", "sets a role password"},
	{"gexec", "executes query results as SQL that preflight cannot check"},
	{"gset", "sets psql variables from query results"},
	{"e", "starts an editor"}, {"edit", "starts an editor"},
	{"ef", "starts an editor"}, {"ev", "starts an editor"},
	{"s", "writes the command history to a file"},
	{"watch", "re-runs a query repeatedly"},
	{"r", "discards the query buffer"}, {"reset", "discards the query buffer"},
	{"encoding", "changes the client encoding, which changes how psql reads the rest of the file"},
	{"bind", "sends a query with parameters preflight does not see"},
	{NULL, NULL}
};

static bool
meta_args_empty(const pf *p, const sqltoken *t)
{
	size_t		a = t->body_off + t->body_len;
	size_t		e = t->off + t->len;

	if (t->flags & SQLTOK_F_SEPARATOR)
		e -= 2;
	for (size_t i = a; i < e; i++)
		if (p->buf[i] != ' ' && p->buf[i] != '\t' && p->buf[i] != '\r')
			return false;
	return true;
}

static void
on_meta(pf *p, const sqltoken *t)
{
	const char *name = p->buf + t->body_off;
	size_t		n = t->body_len;
	const char *why = "is not on the preflight whitelist";
	bool		harmless = false;
	bool		sends = false;
	char		nm[32];
	bool		allow = p->opts->allow_meta;

	sanitize(nm, sizeof(nm), name, n);

	for (int k = 0; meta_rules[k].name; k++)
		if (strlen(meta_rules[k].name) == n && memcmp(meta_rules[k].name, name, n) == 0)
		{
			harmless = meta_rules[k].why == NULL;
			if (!harmless)
				why = meta_rules[k].why;
			break;
		}
	if ((n == 1 && name[0] == 'g') || (n == 2 && memcmp(name, "gx", 2) == 0))
	{
		sends = true;
		if (meta_args_empty(p, t))
			harmless = true;
		else
			why = "sends query output to a file or pipe";
	}
	else if (n > 1 && name[0] == 'g')
		sends = true;			/* \gset \gexec \gdesc: end the query too */
	if ((n == 8 && memcmp(name, "restrict", 8) == 0) ||
		(n == 10 && memcmp(name, "unrestrict", 10) == 0))
	{
		if (p->opts->role == PREFLIGHT_BASE)
			harmless = true;
		else
			why = "is only expected in a pg_dump base schema (--base)";
	}

	if (harmless && (t->flags & SQLTOK_F_BACKTICK))
	{
		harmless = false;
		why = "runs a shell command in `backquotes`";
	}

	if (!harmless)
		add_finding(p, t->line, allow ? PREFLIGHT_NOTE : PREFLIGHT_REFUSE, C_META,
					"psql meta-command \\%s %s; %s", nm, why,
					allow ? "allowed by --allow-meta" : "refused (use --allow-meta to permit)");
	else if ((n == 1 && name[0] == 'q') || (n == 4 && memcmp(name, "quit", 4) == 0))
		add_finding(p, t->line, PREFLIGHT_NOTE, C_META,
					"psql meta-command \\%s stops psql here; nothing after this line runs", nm);

	/* remember \set NAME for :NAME interpolation */
	if (n == 3 && memcmp(name, "set", 3) == 0)
	{
		size_t		i = t->body_off + n;
		size_t		e = t->off + t->len;
		size_t		s;

		while (i < e && (p->buf[i] == ' ' || p->buf[i] == '\t'))
			i++;
		s = i;
		while (i < e && p->buf[i] != ' ' && p->buf[i] != '\t' && p->buf[i] != '\r' &&
			   p->buf[i] != '\\')
			i++;
		if (i > s && grow(p, (void **) &p->vars, &p->cap_vars, p->n_vars, sizeof(setvar)))
		{
			p->vars[p->n_vars].off = s;
			p->vars[p->n_vars].len = i - s;
			p->vars[p->n_vars++].line = t->line;
		}
	}

	if (sends && p->in_stmt)
		end_statement(p);
}

/* ------------------------------------------------------------- driver */

static bool
check_utf8(const char *b, size_t len, size_t *bad)
{
	size_t		i = 0;

	while (i < len)
	{
		unsigned char c = (unsigned char) b[i];
		size_t		need;
		unsigned char lo = 0x80,
					hi = 0xBF;

		if (c < 0x80)
		{
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF)
			need = 1;
		else if (c >= 0xE0 && c <= 0xEF)
		{
			need = 2;
			if (c == 0xE0)
				lo = 0xA0;		/* overlong */
			else if (c == 0xED)
				hi = 0x9F;		/* surrogates */
		}
		else if (c >= 0xF0 && c <= 0xF4)
		{
			need = 3;
			if (c == 0xF0)
				lo = 0x90;		/* overlong */
			else if (c == 0xF4)
				hi = 0x8F;		/* > U+10FFFF */
		}
		else
		{
			*bad = i;
			return false;
		}
		if (len - i <= need)
		{
			*bad = i;
			return false;
		}
		for (size_t k = 1; k <= need; k++)
		{
			unsigned char d = (unsigned char) b[i + k];

			if (k == 1 ? (d < lo || d > hi) : (d < 0x80 || d > 0xBF))
			{
				*bad = i;
				return false;
			}
		}
		i += need + 1;
	}
	return true;
}

#define refuse_file(p, line, code, ...) \
	add_finding((p), (line), PREFLIGHT_REFUSE, (code), __VA_ARGS__)

static size_t
max_bytes(const preflight_options *opts)
{
	return (opts && opts->max_bytes) ? opts->max_bytes : PREFLIGHT_DEFAULT_MAX_BYTES;
}

static void
size_limit_text(size_t m, char *out, size_t outsz)
{
	if (m % (1024 * 1024) == 0)
		snprintf(out, outsz, "%zu MiB", m / (1024 * 1024));
	else
		snprintf(out, outsz, "%zu bytes", m);
}

static int
finish_result(pf *p)
{
	free(p->vars);
	p->vars = NULL;
	if (p->oom)
	{
		snprintf(p->res->error, sizeof(p->res->error), "%s: out of memory", p->res->name ? p->res->name : "?");
		return PREFLIGHT_ERROR;
	}
	return p->res->n_refusals ? PREFLIGHT_REFUSED : PREFLIGHT_OK;
}

static void
init_result(pf *p, const char *name, const preflight_options *opts, preflight_result *res)
{
	memset(p, 0, sizeof(*p));
	memset(res, 0, sizeof(*res));
	p->res = res;
	p->opts = opts;
	p->pending_fn = -1;
	res->name = strdup(name ? name : "(input)");
	if (!res->name)
		p->oom = true;
}

static int
check_buffer(pf *p, const char *buf, size_t len)
{
	preflight_result *r = p->res;
	size_t		bad;
	sqllex		lx;
	sqltoken	t;
	size_t		lim = max_bytes(p->opts);

	if (p->oom)
		return finish_result(p);
	p->buf = buf;
	p->len = len;
	r->size = len;

	if (len == 0)
	{
		refuse_file(p, 0, C_FILE_EMPTY, "%s", "file is empty");
		return finish_result(p);
	}
	if (len > lim)
	{
		char		l[48],
					m[160];

		size_limit_text(lim, l, sizeof(l));
		snprintf(m, sizeof(m), "file is %zu bytes, over the %s limit; refused", len, l);
		refuse_file(p, 0, C_FILE_TOO_LARGE, "%s", m);
		return finish_result(p);
	}
	if (sha256_hex(buf, len, r->sha256) != 0)
	{
		snprintf(r->error, sizeof(r->error), "%s: cannot compute sha256 (OpenSSL)", r->name);
		free(p->vars);
		return PREFLIGHT_ERROR;
	}
	{
		const char *q = buf;
		const char *e = buf + len;
		unsigned	lines = 0;

		while (q < e)
		{
			const char *nl = memchr(q, '\n', (size_t) (e - q));

			if (!nl)
				break;
			lines++;
			if (nl > buf && nl[-1] == '\r')
				r->has_crlf = true;
			q = nl + 1;
		}
		if (buf[len - 1] != '\n')
			lines++;
		r->lines = lines;
	}
	{
		const char *z = memchr(buf, '\0', len);

		if (z)
		{
			char		m[160];

			snprintf(m, sizeof(m), "file contains a NUL byte (byte offset %zu); not a SQL "
					 "text file", (size_t) (z - buf));
			refuse_file(p, line_of_offset(buf, (size_t) (z - buf)), C_BINARY, "%s", m);
			return finish_result(p);
		}
	}
	if (!check_utf8(buf, len, &bad))
	{
		char		m[160];
		size_t		ls = bad;

		while (ls > 0 && buf[ls - 1] != '\n')
			ls--;
		snprintf(m, sizeof(m), "invalid UTF-8 at byte column %zu (byte offset %zu); the file "
				 "must be UTF-8", bad - ls + 1, bad);
		refuse_file(p, line_of_offset(buf, bad), C_UTF8, "%s", m);
		return finish_result(p);
	}

	sqllex_init(&lx, buf, len);
	r->has_bom = lx.had_bom;
	if (lx.had_bom)
		add_finding(p, 1, PREFLIGHT_NOTE, C_BOM,
					"file starts with a UTF-8 byte order mark; psql does not strip it, so the "
					"server sees it in front of the first statement");

	for (;;)
	{
		bool		more = sqllex_next(&lx, &t);

		if (p->oom)
			break;
		if (!more)
		{
			if (t.kind == SQLTOK_ERROR)
				add_finding(p, t.line, PREFLIGHT_REFUSE, C_UNTERMINATED,
							"%s starts here and runs to the end of the file; refused",
							t.error);
			break;
		}
		switch (t.kind)
		{
			case SQLTOK_LINE_COMMENT:
				{
					size_t		i = t.off + 2;
					size_t		e = t.off + t.len;

					while (i < e && (buf[i] == ' ' || buf[i] == '\t'))
						i++;
					if (i + 8 <= e && memcmp(buf + i, "drydock:", 8) == 0 &&
						grow(p, (void **) &r->directives, &p->cap_dir, r->n_directives,
							 sizeof(*r->directives)))
					{
						size_t		n = e - i;
						char	   *txt;

						if (n > 1000)
							n = 1000;
						txt = strndup(buf + i, n);
						if (!txt)
						{
							p->oom = true;
							break;
						}
						r->directives[r->n_directives].line = t.line;
						r->directives[r->n_directives++].text = txt;
					}
				}
				break;
			case SQLTOK_BLOCK_COMMENT:
				break;
			case SQLTOK_META:
				on_meta(p, &t);
				break;
			case SQLTOK_SEMICOLON:
				if (!p->in_stmt)
					break;		/* empty statement */
				on_sql_token(p, &t);
				if (p->paren == 0 && p->begin_depth == 0)
				{
					bool		copy = p->copy_stdin;

					end_statement(p);
					if (copy)
					{
						sqltoken	d;

						if (sqllex_copy_data(&lx, &d))
							add_finding(p, d.line, PREFLIGHT_NOTE, C_COPY_DATA,
										"COPY ... FROM STDIN data (lines %u-%u) is read by "
										"psql from the file itself", d.line, d.end_line);
					}
				}
				break;
			default:
				on_sql_token(p, &t);
				break;
		}
	}
	if (p->in_stmt)
	{
		if (p->paren > 0)
			add_finding(p, p->cur.first_line, PREFLIGHT_NOTE, C_UNBALANCED,
						"unbalanced '(': psql does not end a statement at ';' inside "
						"parentheses, so everything from here to the end is one statement");
		end_statement(p);
	}
	if (!p->oom && r->n_statements == 0 && r->n_refusals == 0)
		refuse_file(p, 0, C_NO_STATEMENTS, "%s", "contains no SQL statements");
	return finish_result(p);
}

void
preflight_options_init(preflight_options *opts, preflight_role role)
{
	memset(opts, 0, sizeof(*opts));
	opts->role = role;
	opts->max_bytes = PREFLIGHT_DEFAULT_MAX_BYTES;
}

int
preflight_check_buffer(const char *name, const char *buf, size_t len,
					   const preflight_options *opts, preflight_result *res)
{
	pf			p;
	preflight_options dflt;

	if (!opts)
	{
		preflight_options_init(&dflt, PREFLIGHT_DDL);
		opts = &dflt;
	}
	init_result(&p, name, opts, res);
	return check_buffer(&p, buf ? buf : "", buf ? len : 0);
}

int
preflight_check(const char *path, const preflight_options *opts, preflight_result *res)
{
	pf			p;
	preflight_options dflt;
	struct stat st;
	int			fd;
	char	   *buf;
	size_t		got = 0;
	int			rc;

	if (!opts)
	{
		preflight_options_init(&dflt, PREFLIGHT_DDL);
		opts = &dflt;
	}
	init_result(&p, path, opts, res);
	if (p.oom)
		return finish_result(&p);

	/* O_NONBLOCK: opening a FIFO must not wait for a writer */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
	{
		int			e = errno;

		if (e == ENOENT || e == ENOTDIR)
			refuse_file(&p, 0, C_FILE_MISSING, "%s", "no such file");
		else
			refuse_file(&p, 0, C_FILE_UNREADABLE, "cannot open: %s", strerror(e));
		return finish_result(&p);
	}
	if (fstat(fd, &st) != 0)
	{
		refuse_file(&p, 0, C_FILE_UNREADABLE, "cannot stat: %s", strerror(errno));
		close(fd);
		return finish_result(&p);
	}
	if (!S_ISREG(st.st_mode))
	{
		const char *what = S_ISDIR(st.st_mode) ? "a directory" :
			S_ISFIFO(st.st_mode) ? "a FIFO" :
			S_ISSOCK(st.st_mode) ? "a socket" :
			S_ISCHR(st.st_mode) ? "a character device" :
			S_ISBLK(st.st_mode) ? "a block device" : "not a regular file";

		refuse_file(&p, 0, C_FILE_TYPE, "is %s, not a regular file", what);
		close(fd);
		return finish_result(&p);
	}
	if ((uintmax_t) st.st_size > (uintmax_t) max_bytes(opts))
	{
		char		l[48],
					m[160];

		size_limit_text(max_bytes(opts), l, sizeof(l));
		snprintf(m, sizeof(m), "file is %jd bytes, over the %s limit; refused",
				 (intmax_t) st.st_size, l);
		refuse_file(&p, 0, C_FILE_TOO_LARGE, "%s", m);
		res->size = (size_t) st.st_size;
		close(fd);
		return finish_result(&p);
	}
	buf = malloc((size_t) st.st_size + 1);
	if (!buf)
	{
		p.oom = true;
		close(fd);
		return finish_result(&p);
	}
	while (got < (size_t) st.st_size)
	{
		ssize_t		r = read(fd, buf + got, (size_t) st.st_size - got);

		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r < 0)
		{
			refuse_file(&p, 0, C_FILE_UNREADABLE, "cannot read: %s", strerror(errno));
			free(buf);
			close(fd);
			return finish_result(&p);
		}
		if (r == 0)
			break;				/* the file shrank: check what is there */
		got += (size_t) r;
	}
	close(fd);
	buf[got] = '\0';
	rc = check_buffer(&p, buf, got);
	if (opts->keep_data && rc != PREFLIGHT_ERROR)
	{
		res->data = buf;
		res->data_len = got;
	}
	else
		free(buf);
	return rc;
}

void
preflight_result_free(preflight_result *res)
{
	if (!res)
		return;
	free(res->name);
	free(res->statements);
	free(res->findings);
	for (size_t i = 0; i < res->n_secrets; i++)
	{
		/* don't leave secrets lying around in freed memory */
		explicit_bzero(res->secrets[i], strlen(res->secrets[i]));
		free(res->secrets[i]);
	}
	free(res->secrets);
	for (size_t i = 0; i < res->n_directives; i++)
		free(res->directives[i].text);
	free(res->directives);
	free(res->extensions);
	free(res->data);
	memset(res, 0, sizeof(*res));
}

void
preflight_format_finding(const preflight_result *res, const preflight_finding *f,
						 char *buf, size_t bufsz)
{
	const char *name = res && res->name ? res->name : "(input)";

	if (f->line)
		snprintf(buf, bufsz, "%s:%u: %s", name, f->line, f->message);
	else
		snprintf(buf, bufsz, "%s: %s", name, f->message);
}

long
preflight_statement_at_line(const preflight_statement *statements, size_t n, unsigned line)
{
	size_t		lo = 0,
				hi = n;
	size_t		begun;

	/* begun: how many statements start at or before line */
	while (lo < hi)
	{
		size_t		mid = lo + (hi - lo) / 2;

		if (statements[mid].first_line <= line)
			lo = mid + 1;
		else
			hi = mid;
	}
	begun = lo;
	if (begun == 0)
		return -1;

	/*
	 * Statements do not overlap, so last_line grows with the index too: the
	 * first of the begun ones whose last line reaches line covers it.
	 */
	lo = 0;
	hi = begun;
	while (lo < hi)
	{
		size_t		mid = lo + (hi - lo) / 2;

		if (statements[mid].last_line >= line)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo < begun ? (long) lo : (long) begun - 1;
}

const char *
preflight_severity_name(preflight_severity s)
{
	switch (s)
	{
		case PREFLIGHT_NOTE:
			return "note";
		case PREFLIGHT_SECRET:
			return "secret";
		case PREFLIGHT_REFUSE:
			return "refuse";
	}
	return "?";
}

/*
 * locate.c
 *		Where a finding came from: the artifact, line and statement number of
 *		the statement that caused it, as report.json's "location".
 *
 * drydock.verify() and verify_rollback() return, per row, "seq": the
 * drydock.capture_log row of the causing statement; the driver's query
 * joins its phase and its text (the server's debug_query_string: what psql
 * sent).  That text is matched here against the statements of the phase's
 * artifact by their leading tokens (sqllex, comments skipped: psql drops a
 * statement's leading comments and blank lines but sends the rest as
 * written), so the line is the artifact's own, not a guess from the
 * statement's tag.  A psql variable in the file matches any one token.
 *
 * LS007 for a rewrite no DDL statement reported (VACUUM FULL, CLUSTER,
 * TRUNCATE, REINDEX, seen when the phase ended) has no seq: it is placed at
 * the first such statement of the artifact that names the relation.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "run.h"
#include "sqllex.h"
#include "util.h"

/* leading tokens compared: enough to tell statements apart, cheap to compare */
#define MATCH_TOKENS 24

/*
 * A token as matching needs it: 16 bytes, offsets into the lexed buffer
 * rather than pointers.  The artifact may be large (a 2,000-table migration
 * has 200,000 tokens), so the file's list keeps only each statement's first
 * MATCH_TOKENS tokens -- all a query is compared on -- except for the
 * statements locate_rewrite() reads whole.  Offsets and lengths fit in 32
 * bits: an artifact is at most PREFLIGHT_DEFAULT_MAX_BYTES (locate_rows
 * checks).
 */
typedef struct stok
{
	uint32_t	off;
	uint32_t	len;
	uint32_t	line;
	uint8_t		kind;			/* sqltoken_kind */
	bool		start;			/* first token of a statement */
} stok;

typedef struct toklist
{
	const char *buf;			/* what off points into */
	stok	   *t;
	size_t		n;
	size_t		cap;			/* a query's: its MATCH_TOKENS array, never grown */
	bool		counting;		/* only count: n is how many would be kept */
} toklist;

static void
toklist_add(toklist *l, const sqltoken *tok, bool start)
{
	if (l->counting)
	{
		l->n++;
		return;
	}
	if (l->n == l->cap)
	{
		l->cap = l->cap ? l->cap * 2 : 1024;
		l->t = xrealloc(l->t, l->cap * sizeof(stok));
	}
	l->t[l->n].kind = (uint8_t) tok->kind;
	l->t[l->n].off = (uint32_t) tok->off;
	l->t[l->n].len = (uint32_t) tok->len;
	l->t[l->n].line = tok->line;
	l->t[l->n].start = start;
	l->n++;
}

/* The statements locate_rewrite() looks for, kept whole in the file's list. */
static bool
rewrite_word(const char *buf, const sqltoken *tok)
{
	return tok->kind == SQLTOK_WORD &&
		(sqllex_word_is(buf, tok, "vacuum") || sqllex_word_is(buf, tok, "cluster") ||
		 sqllex_word_is(buf, tok, "truncate") || sqllex_word_is(buf, tok, "reindex"));
}

/*
 * The significant tokens of buf (no comments), statement starts marked:
 * the first token, and the first after a ';' or a meta-command.  COPY ...
 * FROM STDIN data is skipped as psql reads it.  per_statement: keep only
 * the first MATCH_TOKENS tokens of each statement (but all of a VACUUM,
 * CLUSTER, TRUNCATE or REINDEX); otherwise stop after MATCH_TOKENS tokens
 * in all (a query).
 */
static void
lex_tokens(const char *buf, size_t len, toklist *out, bool per_statement)
{
	sqllex		lx;
	sqltoken	tok;
	bool		start = true;
	bool		copy = false;
	bool		stdin_seen = false;
	bool		whole = false;	/* keep every token of this statement */
	size_t		in_stmt = 0;	/* tokens of this statement so far */

	out->buf = buf;
	sqllex_init(&lx, buf, len);
	while (sqllex_next(&lx, &tok))
	{
		if (tok.kind == SQLTOK_LINE_COMMENT || tok.kind == SQLTOK_BLOCK_COMMENT)
			continue;
		if (tok.kind == SQLTOK_META)
		{
			start = true;
			continue;
		}
		if (start)
		{
			copy = sqllex_word_is(buf, &tok, "copy");
			stdin_seen = false;
			whole = per_statement && rewrite_word(buf, &tok);
			in_stmt = 0;
		}
		else if (copy && sqllex_word_is(buf, &tok, "stdin"))
			stdin_seen = true;
		if (whole || in_stmt < MATCH_TOKENS)
			toklist_add(out, &tok, start);
		in_stmt++;
		start = false;
		if (!per_statement && out->n >= MATCH_TOKENS)
			return;
		if (tok.kind == SQLTOK_SEMICOLON)
		{
			start = true;
			if (copy && stdin_seen)
				(void) sqllex_copy_data(&lx, &tok);
			copy = false;
		}
	}
}

static bool
tok_equal(const toklist *fl, const stok *a, const toklist *ql, const stok *b)
{
	if (a->kind == SQLTOK_PSQLVAR)
		return true;			/* substituted by psql: any one token */
	return a->kind == b->kind && a->len == b->len &&
		memcmp(fl->buf + a->off, ql->buf + b->off, a->len) == 0;
}

/*
 * Does the file's statement at index i begin like the query q?  q has at
 * most MATCH_TOKENS tokens, the file's list at least that many of each
 * statement (or all of it), so the truncation is never reached.
 */
static bool
matches_at(const toklist *f, size_t i, const toklist *q)
{
	size_t		k;

	for (k = 0; k < q->n && i + k < f->n; k++)
	{
		if (q->t[k].kind == SQLTOK_SEMICOLON)
			return true;
		if (k > 0 && f->t[i + k].start)
			return false;		/* the file's statement ended first */
		if (!tok_equal(f, &f->t[i + k], q, &q->t[k]))
			return false;
	}
	return k > 0 && (k == q->n || i + k == f->n);
}

/* 1-based number of the statement starting at token i (preflight's numbering). */
static int
statement_number(const artifact *a, const toklist *f, size_t i)
{
	const preflight_statement *st = a->pf.statements;
	unsigned	line = f->t[i].line;
	size_t		lo = 0,
				hi = a->pf.n_statements;
	size_t		idx;

	/* the first statement that begins on this line (they are sorted) */
	while (lo < hi)
	{
		size_t		mid = lo + (hi - lo) / 2;

		if (st[mid].first_line < line)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == a->pf.n_statements || st[lo].first_line != line)
		return 0;
	/* statements sharing the line: count the starts before this one on it */
	idx = lo;
	for (size_t j = i; j-- > 0 && f->t[j].line == line;)
		if (f->t[j].start)
			idx++;
	return idx < a->pf.n_statements ? (int) idx + 1 : 0;
}

/*
 * shared: the artifact's path and the phase as JSON strings, one of each for
 * all the rows' locations (thousands of them in a large migration).
 */
static void
set_location(json_t *row, const artifact *a, const toklist *f, size_t i, json_t *const shared[2])
{
	int			stmt = statement_number(a, f, i);

	if (stmt <= 0)
		return;
	json_object_set_new(row, "location",
						json_pack("{s:O, s:i, s:i, s:O}", "file", shared[0],
								  "line", (int) f->t[i].line, "statement", stmt,
								  "phase", shared[1]));
}

/* The last part of an object name ("app.orders" -> "orders"), unquoted. */
static char *
last_name(const char *obj)
{
	const char *dot = strrchr(obj, '.');
	char	   *s = xstrdup(dot ? dot + 1 : obj);
	size_t		n = strlen(s);

	if (n >= 2 && s[0] == '"' && s[n - 1] == '"')
	{
		memmove(s, s + 1, n - 2);
		s[n - 2] = '\0';
	}
	return s;
}

/* LS007 seen at the phase's end: the first VACUUM/CLUSTER/TRUNCATE/REINDEX naming it. */
static bool
locate_rewrite(json_t *row, const artifact *a, const toklist *f, json_t *const shared[2])
{
	const char *obj = json_string_value(json_object_get(row, "object"));
	char	   *name;
	bool		found = false;

	if (!obj)
		return false;
	name = last_name(obj);
	for (size_t i = 0; i < f->n && !found; i++)
	{
		const stok *s = &f->t[i];
		sqltoken	probe = {.kind = (sqltoken_kind) s->kind, .off = s->off, .len = s->len};

		if (!s->start || !rewrite_word(f->buf, &probe))
			continue;
		/* lex_tokens() kept this statement whole */
		for (size_t j = i + 1; j < f->n && !f->t[j].start; j++)
		{
			const stok *w = &f->t[j];
			const char *p = f->buf + w->off;
			size_t		len = w->len;

			if (w->kind == SQLTOK_QIDENT && len >= 2)
			{
				p++;
				len -= 2;
			}
			else if (w->kind != SQLTOK_WORD)
				continue;
			if (len == strlen(name) && strncasecmp(p, name, len) == 0)
			{
				set_location(row, a, f, i, shared);
				found = true;
				break;
			}
		}
	}
	free(name);
	return found;
}

/*
 * Turn the helper columns of verification rows (seq, seq_phase, seq_query)
 * into "location" and drop them.  phase: the phase these rows judge, whose
 * artifact is a (the pair's own in a replay); a row of another phase keeps
 * no location.
 */
void
locate_rows(json_t *rows, const char *phase, const artifact *a)
{
	size_t		i;
	json_t	   *row;
	toklist		file = {0};
	bool		lexed = false;
	json_t	   *shared[2] = {NULL, NULL};

	json_array_foreach(rows, i, row)
	{
		const char *qphase = json_string_value(json_object_get(row, "seq_phase"));
		const char *query = json_string_value(json_object_get(row, "seq_query"));
		const char *ph = qphase ? qphase : phase;

		if (strcmp(ph, phase) == 0 && a && a->pf.data && a->path &&
			a->pf.data_len <= UINT32_MAX &&
			(query || strcmp(json_string_value(json_object_get(row, "code")) ?: "", "LS007") == 0))
		{
			if (!lexed)
			{
				/* counted first, then kept in an array of that size */
				file.counting = true;
				lex_tokens(a->pf.data, a->pf.data_len, &file, true);
				file.cap = file.n ? file.n : 1;
				file.t = xmalloc(file.cap * sizeof(stok));
				file.n = 0;
				file.counting = false;
				lex_tokens(a->pf.data, a->pf.data_len, &file, true);
				shared[0] = json_string(a->path);
				shared[1] = json_string(phase);
				lexed = true;
			}
			if (query)
			{
				stok		qt[MATCH_TOKENS];
				toklist		q = {.t = qt, .cap = MATCH_TOKENS};

				lex_tokens(query, strlen(query), &q, false);
				for (size_t k = 0; k < file.n; k++)
					if (file.t[k].start && matches_at(&file, k, &q))
					{
						set_location(row, a, &file, k, shared);
						break;
					}
			}
			else if (strcmp(json_string_value(json_object_get(row, "status")) ?: "", "pass") != 0)
				(void) locate_rewrite(row, a, &file, shared);
		}
		json_object_del(row, "seq");
		json_object_del(row, "seq_phase");
		json_object_del(row, "seq_query");
	}
	free(file.t);
	json_decref(shared[0]);
	json_decref(shared[1]);
}

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
 * The artifact as matching needs it.  It may be large (a 2,000-table
 * migration has 200,000 tokens), so only each statement's first
 * MATCH_TOKENS tokens are kept -- all a query is compared on -- except for
 * the statements locate_rewrite() reads whole; a token is 8 bytes (offset
 * into the artifact, length and kind), and the statements are a list of
 * their first token and line, so a query is compared with statement starts
 * only.  Lengths have FTOK_LEN_BITS: an artifact is at most
 * PREFLIGHT_DEFAULT_MAX_BYTES (locate_rows checks).
 */
#define FTOK_LEN_BITS 27

typedef struct ftok
{
	uint32_t	off;
	uint32_t	len:FTOK_LEN_BITS;
	uint32_t	kind:5;			/* sqltoken_kind */
} ftok;

/*
 * A statement: its first token and line, and a hash of its first KEY_TOKENS
 * tokens, so that most statements are told from a query without comparing
 * tokens (a 2,000-table migration has 2,000 rows to place among 2,000
 * statements that all begin "CREATE TABLE").
 */
#define KEY_TOKENS 8

typedef struct fstmt
{
	uint32_t	tok;			/* index of its first token */
	uint32_t	line;			/* of its first token */
	uint64_t	key;			/* 0: no key (fewer tokens, or a psql variable) */
} fstmt;

typedef struct filetoks
{
	const char *buf;			/* the artifact's bytes */
	ftok	   *t;
	size_t		n;
	fstmt	   *s;
	size_t		ns;
	/* while lexing */
	bool		counting;		/* only count: n and ns are what would be kept */
	bool		whole;			/* keep every token of this statement */
	size_t		in_stmt;		/* tokens of this statement so far */
} filetoks;

/* A query's leading tokens. */
typedef struct qtok
{
	size_t		off;
	size_t		len;
	sqltoken_kind kind;
} qtok;

typedef struct querytoks
{
	const char *buf;
	qtok		t[MATCH_TOKENS];
	size_t		n;
	uint64_t	key;			/* as fstmt.key; 0 when a ';' comes earlier */
} querytoks;

_Static_assert(SQLTOK_COPY_DATA < 32, "sqltoken_kind fits ftok.kind");
_Static_assert(PREFLIGHT_DEFAULT_MAX_BYTES < ((size_t) 1 << FTOK_LEN_BITS), "artifact offsets fit ftok");

/* The statements locate_rewrite() looks for, kept whole in the file's list. */
static bool
rewrite_word(const char *buf, const sqltoken *tok)
{
	return tok->kind == SQLTOK_WORD &&
		(sqllex_word_is(buf, tok, "vacuum") || sqllex_word_is(buf, tok, "cluster") ||
		 sqllex_word_is(buf, tok, "truncate") || sqllex_word_is(buf, tok, "reindex"));
}

/* lex_tokens() callback: one significant token; false: stop */
typedef bool (*token_fn) (void *arg, const char *buf, const sqltoken *tok, bool start);

/*
 * The significant tokens of buf (no comments) to emit, statement starts
 * marked: the first token, and the first after a ';' or a meta-command.
 * COPY ... FROM STDIN data is skipped as psql reads it.
 */
static void
lex_tokens(const char *buf, size_t len, token_fn emit, void *arg)
{
	sqllex		lx;
	sqltoken	tok;
	bool		start = true;
	bool		copy = false;
	bool		stdin_seen = false;

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
		}
		else if (copy && sqllex_word_is(buf, &tok, "stdin"))
			stdin_seen = true;
		if (!emit(arg, buf, &tok, start))
			return;
		start = false;
		if (tok.kind == SQLTOK_SEMICOLON)
		{
			start = true;
			if (copy && stdin_seen)
				(void) sqllex_copy_data(&lx, &tok);
			copy = false;
		}
	}
}

/* The file's tokens: each statement's first MATCH_TOKENS (all of a rewrite). */
static bool
file_token(void *arg, const char *buf, const sqltoken *tok, bool start)
{
	filetoks   *f = arg;

	if (start)
	{
		f->whole = rewrite_word(buf, tok);
		f->in_stmt = 0;
		if (!f->counting)
		{
			f->s[f->ns].tok = (uint32_t) f->n;
			f->s[f->ns].line = tok->line;
		}
		f->ns++;
	}
	if (f->whole || f->in_stmt < MATCH_TOKENS)
	{
		if (!f->counting)
		{
			f->t[f->n].off = (uint32_t) tok->off;
			f->t[f->n].len = (uint32_t) tok->len;
			f->t[f->n].kind = (uint32_t) tok->kind;
		}
		f->n++;
	}
	f->in_stmt++;
	return true;
}

/* FNV-1a over a token's kind, length and bytes: equal tokens, equal keys */
#define KEY_INIT 14695981039346656037ULL

static uint64_t
key_add(uint64_t h, const char *p, size_t len, unsigned kind)
{
	h = (h ^ kind) * 1099511628211ULL;
	h = (h ^ len) * 1099511628211ULL;
	for (size_t b = 0; b < len; b++)
		h = (h ^ (unsigned char) p[b]) * 1099511628211ULL;
	return h;
}

/* fstmt.key: 0 when fewer than KEY_TOKENS tokens or a psql variable among them */
static uint64_t
stmt_key(const filetoks *f, size_t s)
{
	size_t		i = f->s[s].tok;
	uint64_t	h = KEY_INIT;

	if ((s + 1 < f->ns ? f->s[s + 1].tok : f->n) - i < KEY_TOKENS)
		return 0;
	for (size_t k = 0; k < KEY_TOKENS; k++)
	{
		const ftok *t = &f->t[i + k];

		if (t->kind == SQLTOK_PSQLVAR)
			return 0;			/* matches any token */
		h = key_add(h, f->buf + t->off, t->len, t->kind);
	}
	return h ? h : 1;
}

/* querytoks.key: 0 when a ';' or the end comes before KEY_TOKENS tokens */
static uint64_t
query_key(const querytoks *q)
{
	uint64_t	h = KEY_INIT;

	if (q->n < KEY_TOKENS)
		return 0;
	for (size_t k = 0; k < KEY_TOKENS; k++)
	{
		if (q->t[k].kind == SQLTOK_SEMICOLON)
			return 0;
		h = key_add(h, q->buf + q->t[k].off, q->t[k].len, q->t[k].kind);
	}
	return h ? h : 1;
}

/* Lex the artifact twice: count, then fill arrays of exactly that size. */
static void
file_tokens(filetoks *f, const char *buf, size_t len)
{
	memset(f, 0, sizeof(*f));
	f->buf = buf;
	f->counting = true;
	lex_tokens(buf, len, file_token, f);
	f->t = xmalloc((f->n ? f->n : 1) * sizeof(ftok));
	f->s = xmalloc((f->ns ? f->ns : 1) * sizeof(fstmt));
	f->n = f->ns = 0;
	f->counting = false;
	lex_tokens(buf, len, file_token, f);
	for (size_t s = 0; s < f->ns; s++)
		f->s[s].key = stmt_key(f, s);
}

/* The query's first MATCH_TOKENS tokens. */
static bool
query_token(void *arg, const char *buf, const sqltoken *tok, bool start)
{
	querytoks  *q = arg;

	(void) buf;
	(void) start;
	q->t[q->n].off = tok->off;
	q->t[q->n].len = tok->len;
	q->t[q->n].kind = tok->kind;
	return ++q->n < MATCH_TOKENS;
}

static bool
tok_equal(const filetoks *f, const ftok *a, const querytoks *q, const qtok *b)
{
	if (a->kind == SQLTOK_PSQLVAR)
		return true;			/* substituted by psql: any one token */
	return a->kind == b->kind && a->len == b->len &&
		memcmp(f->buf + a->off, q->buf + b->off, a->len) == 0;
}

/* index of the token after statement s's last kept one */
static size_t
stmt_end(const filetoks *f, size_t s)
{
	return s + 1 < f->ns ? f->s[s + 1].tok : f->n;
}

/*
 * Does the file's statement s begin like the query q?  q has at most
 * MATCH_TOKENS tokens, the file's list at least that many of each statement
 * (or all of it), so the truncation is never reached.  A match needs at
 * least the first KEY_TOKENS tokens equal when both have keys: different
 * keys, no match.
 */
static bool
matches_at(const filetoks *f, size_t s, const querytoks *q)
{
	size_t		i = f->s[s].tok;
	size_t		end = stmt_end(f, s);
	size_t		k;

	if (q->key && f->s[s].key && q->key != f->s[s].key)
		return false;

	for (k = 0; k < q->n && i + k < f->n; k++)
	{
		if (q->t[k].kind == SQLTOK_SEMICOLON)
			return true;
		if (i + k == end)
			return false;		/* the file's statement ended first */
		if (!tok_equal(f, &f->t[i + k], q, &q->t[k]))
			return false;
	}
	return k > 0 && (k == q->n || i + k == f->n);
}

/* 1-based number of the file's statement s (preflight's numbering). */
static int
statement_number(const artifact *a, const filetoks *f, size_t s)
{
	const preflight_statement *st = a->pf.statements;
	unsigned	line = f->s[s].line;
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
	/* statements sharing the line: count the ones before this one on it */
	idx = lo;
	for (size_t j = s; j-- > 0 && f->s[j].line == line;)
		idx++;
	return idx < a->pf.n_statements ? (int) idx + 1 : 0;
}

/*
 * shared: the artifact's path and the phase as JSON strings, one of each for
 * all the rows' locations (thousands of them in a large migration).
 */
static void
set_location(json_t *row, const artifact *a, const filetoks *f, size_t s, json_t *const shared[2])
{
	int			stmt = statement_number(a, f, s);

	if (stmt <= 0)
		return;
	json_object_set_new(row, "location",
						json_pack("{s:O, s:i, s:i, s:O}", "file", shared[0],
								  "line", (int) f->s[s].line, "statement", stmt,
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
locate_rewrite(json_t *row, const artifact *a, const filetoks *f, json_t *const shared[2])
{
	const char *obj = json_string_value(json_object_get(row, "object"));
	char	   *name;
	bool		found = false;

	if (!obj)
		return false;
	name = last_name(obj);
	for (size_t s = 0; s < f->ns && !found; s++)
	{
		const ftok *t = &f->t[f->s[s].tok];
		sqltoken	probe = {.kind = (sqltoken_kind) t->kind, .off = t->off, .len = t->len};

		if (!rewrite_word(f->buf, &probe))
			continue;
		/* file_token() kept this statement whole */
		for (size_t j = f->s[s].tok + 1; j < stmt_end(f, s); j++)
		{
			const ftok *w = &f->t[j];
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
				set_location(row, a, f, s, shared);
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
	filetoks	file = {0};
	bool		lexed = false;
	json_t	   *shared[2] = {NULL, NULL};

	json_array_foreach(rows, i, row)
	{
		const char *qphase = json_string_value(json_object_get(row, "seq_phase"));
		const char *query = json_string_value(json_object_get(row, "seq_query"));
		const char *ph = qphase ? qphase : phase;

		if (strcmp(ph, phase) == 0 && a && a->pf.data && a->path &&
			a->pf.data_len < ((size_t) 1 << FTOK_LEN_BITS) &&
			(query || strcmp(json_string_value(json_object_get(row, "code")) ?: "", "LS007") == 0))
		{
			if (!lexed)
			{
				file_tokens(&file, a->pf.data, a->pf.data_len);
				shared[0] = json_string(a->path);
				shared[1] = json_string(phase);
				lexed = true;
			}
			if (query)
			{
				querytoks	q = {.buf = query};

				lex_tokens(query, strlen(query), query_token, &q);
				q.key = query_key(&q);
				for (size_t s = 0; s < file.ns; s++)
					if (matches_at(&file, s, &q))
					{
						set_location(row, a, &file, s, shared);
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
	free(file.s);
	json_decref(shared[0]);
	json_decref(shared[1]);
}

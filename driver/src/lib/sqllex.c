/*
 * sqllex.c -- SQL/psql tokenizer; see sqllex.h.  No allocation, no
 * recursion, linear time in the input.
 */
#include "sqllex.h"

#include <string.h>

static bool
is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static bool
is_ident_start(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}

static bool
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static bool
is_ident_cont(unsigned char c)
{
	return is_ident_start(c) || is_digit(c) || c == '$';
}

/* dollar-quote tags and psql variable names: no '$' */
static bool
is_tag_cont(unsigned char c)
{
	return is_ident_start(c) || is_digit(c);
}

void
sqllex_init(sqllex *lx, const char *buf, size_t len)
{
	memset(lx, 0, sizeof(*lx));
	lx->buf = buf;
	lx->len = len;
	lx->line = 1;
	if (len >= 3 && (unsigned char) buf[0] == 0xEF &&
		(unsigned char) buf[1] == 0xBB && (unsigned char) buf[2] == 0xBF)
	{
		lx->pos = 3;
		lx->had_bom = true;
	}
}

/* advance to 'to', counting newlines */
static void
advance(sqllex *lx, size_t to)
{
	const char *p = lx->buf + lx->pos;
	const char *e = lx->buf + to;

	while (p < e)
	{
		const char *nl = memchr(p, '\n', (size_t) (e - p));

		if (!nl)
			break;
		lx->line++;
		p = nl + 1;
	}
	lx->pos = to;
}

static bool
finish(sqllex *lx, sqltoken *tok, sqltoken_kind kind, size_t start, unsigned line, size_t end)
{
	tok->kind = kind;
	tok->off = start;
	tok->len = end - start;
	if (tok->body_len == 0 && tok->body_off == 0)
	{
		tok->body_off = start;
		tok->body_len = end - start;
	}
	tok->line = line;
	advance(lx, end);
	/* end_line: line of the last byte (a trailing '\n' belongs to its line) */
	tok->end_line = lx->line;
	if (end > start && lx->buf[end - 1] == '\n')
		tok->end_line--;
	return true;
}

static bool
fail(sqllex *lx, sqltoken *tok, size_t start, unsigned line, const char *msg)
{
	tok->kind = SQLTOK_ERROR;
	tok->off = start;
	tok->len = lx->len - start;
	tok->body_off = start;
	tok->body_len = tok->len;
	tok->line = line;
	tok->end_line = line;
	tok->error = msg;
	lx->failed = true;
	lx->pos = lx->len;
	return false;
}

/* '...' starting at q (the quote); backslash escapes if esc.  Returns the
 * offset after the closing quote, or 0 if unterminated. */
static size_t
scan_quoted(const char *b, size_t len, size_t q, char quote, bool esc)
{
	size_t		i = q + 1;

	while (i < len)
	{
		char		c = b[i];

		if (esc && c == '\\')
		{
			i += 2;
			continue;
		}
		if (c == quote)
		{
			if (i + 1 < len && b[i + 1] == quote)
			{
				i += 2;
				continue;
			}
			return i + 1;
		}
		i++;
	}
	return 0;
}

static size_t
find_bytes(const char *b, size_t from, size_t len, const char *needle, size_t nlen)
{
	const char *p;

	if (from > len || len - from < nlen)
		return (size_t) -1;
	p = memmem(b + from, len - from, needle, nlen);
	return p ? (size_t) (p - b) : (size_t) -1;
}

static bool
meta_whole_line(const char *name, size_t n)
{
	static const char *const wl[] = {"!", "copy", "h", "help", "sf", "sf+", "sv", "sv+",
	"ef", "ev", NULL};

	for (int i = 0; wl[i]; i++)
		if (strlen(wl[i]) == n && memcmp(wl[i], name, n) == 0)
			return true;
	return false;
}

static bool
lex_meta(sqllex *lx, sqltoken *tok, size_t start, unsigned line)
{
	const char *b = lx->buf;
	size_t		len = lx->len;
	size_t		i = start + 1;
	size_t		name_off = i;
	size_t		end;

	while (i < len && !is_space((unsigned char) b[i]) && b[i] != '\\')
		i++;
	tok->body_off = name_off;
	tok->body_len = i - name_off;
	if (meta_whole_line(b + name_off, i - name_off))
	{
		const char *nl = memchr(b + i, '\n', len - i);

		end = nl ? (size_t) (nl - b) : len;
		if (end > i && memchr(b + i, '`', end - i))
			tok->flags |= SQLTOK_F_BACKTICK;
	}
	else
	{
		char		q = 0;

		end = len;
		while (i < len)
		{
			char		c = b[i];

			if (c == '\n')
			{
				end = i;
				break;
			}
			if (q == '\'')
			{
				if (c == '\\' && i + 1 < len && b[i + 1] != '\n')
					i++;
				else if (c == '\'')
					q = 0;
			}
			else if (q)
			{
				if (c == q)
					q = 0;
			}
			else if (c == '\'' || c == '"')
				q = c;
			else if (c == '`')
			{
				tok->flags |= SQLTOK_F_BACKTICK;
				q = '`';
			}
			else if (c == '\\')
			{
				if (i + 1 < len && b[i + 1] == '\\')
				{
					tok->flags |= SQLTOK_F_SEPARATOR;
					end = i + 2;
				}
				else
					end = i;	/* another meta-command starts here */
				break;
			}
			i++;
		}
	}
	/* don't include a CR of a CRLF line ending */
	if (!(tok->flags & SQLTOK_F_SEPARATOR) && end > tok->body_off + tok->body_len &&
		b[end - 1] == '\r')
		end--;
	return finish(lx, tok, SQLTOK_META, start, line, end);
}

bool
sqllex_next(sqllex *lx, sqltoken *tok)
{
	const char *b = lx->buf;
	size_t		len = lx->len;
	size_t		i;
	unsigned	line;
	unsigned char c;

	memset(tok, 0, sizeof(*tok));
	if (lx->failed)
	{
		tok->kind = SQLTOK_END;
		tok->off = lx->len;
		tok->line = lx->line;
		tok->end_line = lx->line;
		return false;
	}

	/* whitespace */
	i = lx->pos;
	while (i < len && is_space((unsigned char) b[i]))
		i++;
	advance(lx, i);
	line = lx->line;
	if (i >= len)
	{
		tok->kind = SQLTOK_END;
		tok->off = len;
		tok->line = line;
		tok->end_line = line;
		return false;
	}

	c = (unsigned char) b[i];

	/* comments */
	if (c == '-' && i + 1 < len && b[i + 1] == '-')
	{
		const char *nl = memchr(b + i, '\n', len - i);
		size_t		end = nl ? (size_t) (nl - b) : len;

		if (end > i && b[end - 1] == '\r')
			end--;
		return finish(lx, tok, SQLTOK_LINE_COMMENT, i, line, end);
	}
	if (c == '/' && i + 1 < len && b[i + 1] == '*')
	{
		size_t		j = i + 2;
		unsigned long depth = 1;

		while (j + 1 < len)
		{
			if (b[j] == '/' && b[j + 1] == '*')
			{
				depth++;
				j += 2;
			}
			else if (b[j] == '*' && b[j + 1] == '/')
			{
				j += 2;
				if (--depth == 0)
					return finish(lx, tok, SQLTOK_BLOCK_COMMENT, i, line, j);
			}
			else
				j++;
		}
		return fail(lx, tok, i, line, "unterminated /* comment");
	}

	/* strings and quoted identifiers */
	if (c == '\'')
	{
		size_t		end = scan_quoted(b, len, i, '\'', false);

		if (!end)
			return fail(lx, tok, i, line, "unterminated quoted string");
		tok->body_off = i + 1;
		tok->body_len = end - i - 2;
		return finish(lx, tok, SQLTOK_STRING, i, line, end);
	}
	if (c == '"')
	{
		size_t		end = scan_quoted(b, len, i, '"', false);

		if (!end)
			return fail(lx, tok, i, line, "unterminated quoted identifier");
		tok->body_off = i + 1;
		tok->body_len = end - i - 2;
		return finish(lx, tok, SQLTOK_QIDENT, i, line, end);
	}

	/* dollar quotes and parameters */
	if (c == '$')
	{
		size_t		j = i + 1;

		if (j < len && is_digit((unsigned char) b[j]))
		{
			while (j < len && is_digit((unsigned char) b[j]))
				j++;
			return finish(lx, tok, SQLTOK_PARAM, i, line, j);
		}
		if (j < len && is_ident_start((unsigned char) b[j]))
			while (j < len && is_tag_cont((unsigned char) b[j]))
				j++;
		if (j < len && b[j] == '$')
		{
			size_t		taglen = j + 1 - i;
			size_t		close = find_bytes(b, j + 1, len, b + i, taglen);

			if (close == (size_t) -1)
				return fail(lx, tok, i, line, "unterminated dollar-quoted string");
			tok->body_off = j + 1;
			tok->body_len = close - (j + 1);
			return finish(lx, tok, SQLTOK_DOLLAR, i, line, close + taglen);
		}
		/* "$foo" not followed by '$' is one token (psql's dolqfailed): so
		 * $e'..' is $e then a standard string, never an E'' string */
		return finish(lx, tok, SQLTOK_OP, i, line, j);
	}

	/* words, and the prefixed string forms E'' B'' X'' N'' U&'' U&"" */
	if (is_ident_start(c))
	{
		size_t		j = i + 1;

		while (j < len && is_ident_cont((unsigned char) b[j]))
			j++;
		if (j == i + 1 && j < len && b[j] == '\'')
		{
			char		p = (char) (c & ~0x20);	/* upper-case ASCII letter */

			if (p == 'E' || p == 'B' || p == 'X' || p == 'N')
			{
				size_t		end = scan_quoted(b, len, j, '\'', p == 'E');

				if (!end)
					return fail(lx, tok, i, line, "unterminated quoted string");
				tok->prefix = p;
				tok->body_off = j + 1;
				tok->body_len = end - j - 2;
				return finish(lx, tok, SQLTOK_STRING, i, line, end);
			}
		}
		if (j == i + 1 && (c == 'u' || c == 'U') && j + 1 < len && b[j] == '&' &&
			(b[j + 1] == '\'' || b[j + 1] == '"'))
		{
			char		qc = b[j + 1];
			size_t		end = scan_quoted(b, len, j + 1, qc, false);

			if (!end)
				return fail(lx, tok, i, line, qc == '\'' ? "unterminated quoted string" :
							"unterminated quoted identifier");
			tok->prefix = 'U';
			tok->body_off = j + 2;
			tok->body_len = end - j - 3;
			return finish(lx, tok, qc == '\'' ? SQLTOK_STRING : SQLTOK_QIDENT, i, line, end);
		}
		return finish(lx, tok, SQLTOK_WORD, i, line, j);
	}

	/*
	 * numbers: 123, 1_000, 1.5, .5, 1., 1e5, 1.5e-3, 0x1F, 0o17, 0b101.
	 * Letters directly after a number are NOT part of it (1e'x' is 1 then
	 * e'x' in psql 15); preflight refuses such adjacency, see there.
	 */
	if (is_digit(c) || (c == '.' && i + 1 < len && is_digit((unsigned char) b[i + 1])))
	{
		size_t		j = i;

		if (c == '0' && i + 2 < len && strchr("xXoObB", b[i + 1]) && b[i + 1] != '\0')
		{
			char		r = (char) (b[i + 1] | 0x20);

			j = i + 2;
			while (j < len && (b[j] == '_' ||
							   (r == 'x' ? (is_digit((unsigned char) b[j]) ||
											((b[j] | 0x20) >= 'a' && (b[j] | 0x20) <= 'f')) :
								r == 'o' ? (b[j] >= '0' && b[j] <= '7') :
								(b[j] == '0' || b[j] == '1'))))
				j++;
			return finish(lx, tok, SQLTOK_NUMBER, i, line, j);
		}
		while (j < len && (is_digit((unsigned char) b[j]) || b[j] == '_'))
			j++;
		if (j < len && b[j] == '.' && !(j + 1 < len && b[j + 1] == '.'))
		{
			j++;
			while (j < len && (is_digit((unsigned char) b[j]) || b[j] == '_'))
				j++;
		}
		if (j < len && (b[j] == 'e' || b[j] == 'E'))
		{
			size_t		k = j + 1;

			if (k < len && (b[k] == '+' || b[k] == '-'))
				k++;
			if (k < len && is_digit((unsigned char) b[k]))
			{
				j = k;
				while (j < len && is_digit((unsigned char) b[j]))
					j++;
			}
		}
		return finish(lx, tok, SQLTOK_NUMBER, i, line, j);
	}

	switch (c)
	{
		case ';':
			return finish(lx, tok, SQLTOK_SEMICOLON, i, line, i + 1);
		case '(':
			return finish(lx, tok, SQLTOK_LPAREN, i, line, i + 1);
		case ')':
			return finish(lx, tok, SQLTOK_RPAREN, i, line, i + 1);
		case '\\':
			if (i + 1 < len && (b[i + 1] == ';' || b[i + 1] == ':'))
				return finish(lx, tok, SQLTOK_OP, i, line, i + 2);
			return lex_meta(lx, tok, i, line);
		case ':':
			{
				size_t		j = i + 1;

				if (j < len && b[j] == ':')
					return finish(lx, tok, SQLTOK_OP, i, line, i + 2);
				if (j < len && is_tag_cont((unsigned char) b[j]))
				{
					while (j < len && is_tag_cont((unsigned char) b[j]))
						j++;
					tok->body_off = i + 1;
					tok->body_len = j - i - 1;
					return finish(lx, tok, SQLTOK_PSQLVAR, i, line, j);
				}
				if (j + 1 < len && (b[j] == '\'' || b[j] == '"' ||
									(b[j] == '{' && b[j + 1] == '?')))
				{
					char		close = b[j] == '{' ? '}' : b[j];
					size_t		k = j + (b[j] == '{' ? 2 : 1);
					size_t		n0 = k;

					while (k < len && is_tag_cont((unsigned char) b[k]))
						k++;
					if (k > n0 && k < len && b[k] == close)
					{
						tok->body_off = n0;
						tok->body_len = k - n0;
						return finish(lx, tok, SQLTOK_PSQLVAR, i, line, k + 1);
					}
				}
				return finish(lx, tok, SQLTOK_OP, i, line, i + 1);
			}
		default:
			return finish(lx, tok, SQLTOK_OP, i, line, i + 1);
	}
}

bool
sqllex_copy_data(sqllex *lx, sqltoken *tok)
{
	const char *b = lx->buf;
	size_t		len = lx->len;
	size_t		i = lx->pos;
	size_t		start;
	unsigned	line;

	memset(tok, 0, sizeof(*tok));
	if (lx->failed || i >= len)
	{
		tok->kind = SQLTOK_END;
		tok->off = len;
		tok->line = tok->end_line = lx->line;
		return false;
	}
	/* the rest of the line holding the ';' is not data (psql discards it) */
	{
		const char *nl = memchr(b + i, '\n', len - i);

		if (!nl)
		{
			advance(lx, len);
			tok->kind = SQLTOK_END;
			tok->off = len;
			tok->line = tok->end_line = lx->line;
			return false;
		}
		advance(lx, (size_t) (nl - b) + 1);
	}
	start = lx->pos;
	line = lx->line;
	i = start;
	while (i < len)
	{
		const char *nl = memchr(b + i, '\n', len - i);
		size_t		eol = nl ? (size_t) (nl - b) : len;
		size_t		l = eol - i;

		if (l > 0 && b[eol - 1] == '\r')
			l--;
		if (l == 2 && b[i] == '\\' && b[i + 1] == '.')
			return finish(lx, tok, SQLTOK_COPY_DATA, start, line, nl ? eol + 1 : eol);
		i = nl ? eol + 1 : len;
	}
	return finish(lx, tok, SQLTOK_COPY_DATA, start, line, len);
}

bool
sqllex_word_is(const char *buf, const sqltoken *tok, const char *kw)
{
	size_t		n;
	char		c0;

	/* the first letter first: every word is tried against many keywords */
	if (kw[0] == '\0' || tok->len == 0)
		return kw[0] == '\0' && tok->len == 0;
	c0 = buf[tok->off];
	if (c0 >= 'A' && c0 <= 'Z')
		c0 = (char) (c0 + 32);
	if (c0 != kw[0])
		return false;
	n = strlen(kw);
	if (tok->len != n)
		return false;
	for (size_t k = 0; k < n; k++)
	{
		char		a = buf[tok->off + k];

		if (a >= 'A' && a <= 'Z')
			a = (char) (a + 32);
		if (a != kw[k])
			return false;
	}
	return true;
}

/*
 * suppress.c -- accepted findings: inline directives and policy keys.
 * See suppress.h for the syntax and docs/codes.md ("Suppressions") for the
 * semantics; the extension (verify.c, verify_policy.c) applies the entries.
 */
#include "suppress.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sqllex.h"
#include "util.h"

/* Every code, from the one list the extension uses too (common/finding_codes.def). */
#define DD_CODE(code, family, sev, rule, meaning, fix, example) {code, family, true},
#define DD_DRIVER_CODE(code, family, sev, rule, meaning, fix, example) {code, family, false},
const suppress_code suppress_codes[] = {
#include "finding_codes.def"
};
#undef DD_CODE
#undef DD_DRIVER_CODE
const size_t suppress_n_codes = sizeof(suppress_codes) / sizeof(suppress_codes[0]);

/* the codes accept-residue stands for */
static const char *const residue_codes[] = {"RB001", "RB002", "RB004"};

static const suppress_code *
find_code(const char *c)
{
	for (size_t i = 0; i < suppress_n_codes; i++)
		if (strcmp(suppress_codes[i].code, c) == 0)
			return &suppress_codes[i];
	return NULL;
}

static bool
is_family(const char *s)
{
	for (size_t i = 0; i < suppress_n_codes; i++)
		if (suppress_codes[i].suppressible && strcmp(suppress_codes[i].family, s) == 0)
			return true;
	return false;
}

/* ---------- the object a statement creates or alters ---------- */

/* An identifier as quote_ident() writes it (keywords are not detected). */
static void
append_ident(strbuf *sb, const char *buf, const sqltoken *t)
{
	if (t->kind == SQLTOK_QIDENT)
	{
		const char *s = buf + t->body_off;
		bool		plain = t->body_len > 0 && (islower((unsigned char) s[0]) || s[0] == '_');

		for (size_t i = 0; i < t->body_len && plain; i++)
			if (!(islower((unsigned char) s[i]) || isdigit((unsigned char) s[i]) || s[i] == '_' || s[i] == '$'))
				plain = false;
		if (plain)
			sb_appendn(sb, s, t->body_len);
		else
		{
			/* body is raw: "" stays "" as quote_ident writes it */
			sb_append(sb, "\"");
			sb_appendn(sb, s, t->body_len);
			sb_append(sb, "\"");
		}
	}
	else
		for (size_t i = 0; i < t->len; i++)
		{
			char		c = (char) tolower((unsigned char) buf[t->off + i]);

			sb_appendn(sb, &c, 1);
		}
}

typedef struct stmt_toks
{
	const char *buf;
	sqltoken	t[48];
	int			n;
	int			i;				/* cursor */
} stmt_toks;

static bool
at_word(stmt_toks *s, const char *kw)
{
	return s->i < s->n && s->t[s->i].kind == SQLTOK_WORD && sqllex_word_is(s->buf, &s->t[s->i], kw);
}

static bool
accept_word(stmt_toks *s, const char *kw)
{
	if (at_word(s, kw))
	{
		s->i++;
		return true;
	}
	return false;
}

static bool
at_ident(stmt_toks *s)
{
	return s->i < s->n && (s->t[s->i].kind == SQLTOK_WORD || s->t[s->i].kind == SQLTOK_QIDENT);
}

static bool
at_op(stmt_toks *s, char c)
{
	return s->i < s->n && s->t[s->i].kind == SQLTOK_OP && s->t[s->i].len == 1 &&
		s->buf[s->t[s->i].off] == c;
}

/*
 * A possibly qualified name at the cursor, qualified with schema when it has
 * one part (qualify) -- or NULL.  *nparts receives the number of parts.
 */
static char *
read_name(stmt_toks *s, const char *schema, bool qualify)
{
	strbuf		sb;
	int			parts = 0;

	if (!at_ident(s))
		return NULL;
	sb_init(&sb);
	for (;;)
	{
		if (parts)
			sb_append(&sb, ".");
		append_ident(&sb, s->buf, &s->t[s->i++]);
		parts++;
		if (at_op(s, '.') && s->i + 1 < s->n &&
			(s->t[s->i + 1].kind == SQLTOK_WORD || s->t[s->i + 1].kind == SQLTOK_QIDENT))
			s->i++;
		else
			break;
	}
	if (parts == 1 && qualify && schema)
	{
		strbuf		q;
		sqltoken	fake;
		char	   *r;

		/* quote the schema as the catalog writes it */
		memset(&fake, 0, sizeof(fake));
		fake.kind = SQLTOK_QIDENT;
		fake.body_off = 0;
		fake.body_len = strlen(schema);
		sb_init(&q);
		append_ident(&q, schema, &fake);
		sb_printf(&q, ".%s", sb.data);
		sb_free(&sb);
		r = xstrdup(q.data);
		sb_free(&q);
		return r;
	}
	{
		char	   *r = xstrdup(sb.data);

		sb_free(&sb);
		return r;
	}
}

static void
skip_if_exists(stmt_toks *s)
{
	if (at_word(s, "if"))
	{
		s->i++;
		accept_word(s, "not");
		accept_word(s, "exists");
	}
}

/* The schema of a qualified name "s.x" (a copy), or NULL. */
static char *
schema_of(const char *qualified)
{
	const char *dot = strchr(qualified, '.');

	return dot ? xstrndup_n(qualified, (size_t) (dot - qualified)) : NULL;
}

/*
 * The object glob of the statement held in s: CREATE / ALTER / DROP /
 * COMMENT ON of a table, index, sequence, type, domain, function, view,
 * trigger, policy, schema ...  NULL when it cannot be told.
 */
static char *
statement_object(stmt_toks *s, const char *schema)
{
	bool		create = false;

	s->i = 0;
	if (accept_word(s, "create"))
	{
		create = true;
		if (accept_word(s, "or"))
			accept_word(s, "replace");
		while (accept_word(s, "unique") || accept_word(s, "temp") || accept_word(s, "temporary") ||
			   accept_word(s, "unlogged") || accept_word(s, "global") || accept_word(s, "local") ||
			   accept_word(s, "materialized") || accept_word(s, "recursive") ||
			   accept_word(s, "constraint") || accept_word(s, "trusted") || accept_word(s, "procedural"))
			;
	}
	else if (accept_word(s, "alter") || accept_word(s, "drop"))
		accept_word(s, "materialized");
	else if (accept_word(s, "comment"))
	{
		if (!accept_word(s, "on"))
			return NULL;
		if (accept_word(s, "column"))
			return read_name(s, schema, false);
		accept_word(s, "materialized");
	}
	else
		return NULL;

	if (accept_word(s, "schema"))
	{
		skip_if_exists(s);
		return read_name(s, NULL, false);
	}
	if (accept_word(s, "extension") || accept_word(s, "role") || accept_word(s, "user") ||
		accept_word(s, "language"))
	{
		skip_if_exists(s);
		return read_name(s, NULL, false);
	}
	if (accept_word(s, "index"))
	{
		char	   *idx = NULL;
		char	   *tbl;
		char	   *r;
		char	   *ts;

		accept_word(s, "concurrently");
		skip_if_exists(s);
		if (!create)
			return read_name(s, schema, true);
		if (!at_word(s, "on"))
			idx = read_name(s, NULL, false);
		if (!accept_word(s, "on"))
		{
			free(idx);
			return NULL;
		}
		accept_word(s, "only");
		tbl = read_name(s, schema, true);
		if (!tbl)
		{
			free(idx);
			return NULL;
		}
		if (!idx)
			return tbl;
		if (strchr(idx, '.'))
		{
			free(tbl);
			return idx;
		}
		ts = schema_of(tbl);
		r = xasprintf("%s.%s", ts ? ts : "", idx);
		free(ts);
		free(tbl);
		free(idx);
		return r;
	}
	if (accept_word(s, "trigger") || accept_word(s, "policy") || accept_word(s, "rule"))
	{
		char	   *n;
		char	   *tbl;
		char	   *r;

		skip_if_exists(s);
		n = read_name(s, NULL, false);
		if (!n)
			return NULL;
		/* up to ON table (CREATE TRIGGER t BEFORE ... ON tbl; RULE: TO tbl) */
		while (s->i < s->n && !at_word(s, "on") && !at_word(s, "to"))
			s->i++;
		if (s->i < s->n && at_word(s, "on") && s->i + 1 < s->n &&
			s->t[s->i + 1].kind == SQLTOK_WORD && create &&
			strchr("iudst", tolower((unsigned char) s->buf[s->t[s->i + 1].off])) &&
			(sqllex_word_is(s->buf, &s->t[s->i + 1], "insert") || sqllex_word_is(s->buf, &s->t[s->i + 1], "update") ||
			 sqllex_word_is(s->buf, &s->t[s->i + 1], "delete") || sqllex_word_is(s->buf, &s->t[s->i + 1], "select")))
		{
			/* CREATE RULE r AS ON INSERT TO tbl */
			while (s->i < s->n && !at_word(s, "to"))
				s->i++;
		}
		if (s->i >= s->n)
		{
			free(n);
			return NULL;
		}
		s->i++;
		accept_word(s, "only");
		tbl = read_name(s, schema, true);
		if (!tbl)
		{
			free(n);
			return NULL;
		}
		r = xasprintf("%s on %s", n, tbl);
		free(n);
		free(tbl);
		return r;
	}
	if (accept_word(s, "table") || accept_word(s, "sequence") || accept_word(s, "type") ||
		accept_word(s, "domain") || accept_word(s, "function") || accept_word(s, "procedure") ||
		accept_word(s, "view") || accept_word(s, "aggregate") || accept_word(s, "routine") ||
		accept_word(s, "collation") || accept_word(s, "statistics") ||
		accept_word(s, "foreign"))
	{
		accept_word(s, "table");	/* FOREIGN TABLE */
		skip_if_exists(s);
		accept_word(s, "only");
		return read_name(s, schema, true);
	}
	return NULL;
}

/* Tokens of the statement that starts at first_line (comments skipped). */
static bool
statement_tokens(const preflight_result *pf, unsigned first_line, stmt_toks *st)
{
	sqllex		lx;
	sqltoken	t;
	unsigned	start = 0;

	st->buf = pf->data;
	st->n = 0;
	st->i = 0;
	if (!pf->data)
		return false;
	sqllex_init(&lx, pf->data, pf->data_len);
	while (sqllex_next(&lx, &t))
	{
		if (t.kind == SQLTOK_LINE_COMMENT || t.kind == SQLTOK_BLOCK_COMMENT || t.kind == SQLTOK_META)
			continue;
		if (t.kind == SQLTOK_SEMICOLON)
		{
			if (st->n > 0 && start == first_line)
				return true;
			st->n = 0;
			continue;
		}
		if (st->n == 0)
			start = t.line;
		if (st->n < (int) (sizeof(st->t) / sizeof(st->t[0])))
			st->t[st->n++] = t;
	}
	return st->n > 0 && start == first_line;
}

/* ---------- directives ---------- */

static int
fail(char *err, size_t errlen, const char *fmt,...) __attribute__((format(printf, 3, 4)));

static int
fail(char *err, size_t errlen, const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static bool
allowed(json_t *allow, const char *code)
{
	size_t		i;
	json_t	   *v;
	const suppress_code *c = find_code(code);

	if (!allow || json_is_null(allow))
		return true;
	json_array_foreach(allow, i, v)
	{
		const char *a = json_string_value(v);

		if (a && (strcmp(a, code) == 0 || (c && strcmp(a, c->family) == 0)))
			return true;
	}
	return false;
}

static char *
allow_list(json_t *allow)
{
	strbuf		sb;
	size_t		i;
	json_t	   *v;
	char	   *r;

	sb_init(&sb);
	json_array_foreach(allow, i, v)
		sb_printf(&sb, "%s%s", i ? ", " : "", json_string_value(v) ? json_string_value(v) : "?");
	if (json_array_size(allow) == 0)
		sb_append(&sb, "none");
	r = xstrdup(sb.data);
	sb_free(&sb);
	return r;
}

/* check one code of a directive; 0 or -1 with err */
static int
check_inline_code(const char *code, json_t *allow, char *err, size_t errlen)
{
	const suppress_code *c = find_code(code);

	if (!c)
		return fail(err, errlen, "unknown finding code \"%s\" in a drydock directive (codes: docs/codes.md)", code);
	if (!c->suppressible)
		return fail(err, errlen, "%s is reported by drydock replay and cannot be suppressed", code);
	if (!allowed(allow, code))
	{
		char	   *l = allow_list(allow);
		int			r = fail(err, errlen, "suppressing %s inline is not allowed by the policy (allow_suppress: %s)", code, l);

		free(l);
		return r;
	}
	return 0;
}

static char *
trim(char *s)
{
	char	   *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

/* one directive; appends entries to out */
static int
parse_directive(const preflight_result *pf, const char *path, bool rollback, const char *schema,
				json_t *allow, const preflight_directive *d, json_t *out, char *err, size_t errlen)
{
	char	   *text = xstrdup(d->text + strlen("drydock:"));
	char	   *sep;
	char	   *reason = NULL;
	char	   *args;
	char	   *verb;
	char	   *words[8];
	int			nw = 0;
	char	   *save = NULL;
	char	   *source = xasprintf("%s:%u", path, d->line);
	int			rc = 0;
	json_t	   *codes = json_array();

	/* "ARGS -- REASON": the first " --" followed by a blank or the end */
	for (sep = text; (sep = strstr(sep, "--")) != NULL; sep += 2)
		if ((sep == text || sep[-1] == ' ' || sep[-1] == '\t') &&
			(sep[2] == '\0' || sep[2] == ' ' || sep[2] == '\t'))
			break;
	if (sep)
	{
		*sep = '\0';
		reason = trim(sep + 2);
	}
	args = trim(text);
	verb = strtok_r(args, " \t", &save);
	if (!verb || !*verb)
	{
		rc = fail(err, errlen, "empty drydock directive: write -- drydock:ignore CODE -- reason");
		goto done;
	}
	{
		char	   *w;

		while ((w = strtok_r(NULL, " \t", &save)) != NULL)
		{
			if (nw == (int) (sizeof(words) / sizeof(words[0])))
			{
				rc = fail(err, errlen, "drydock:%s: too many words before \" -- reason\"", verb);
				goto done;
			}
			words[nw++] = w;
		}
	}
	if (strcmp(verb, "ignore") != 0 && strcmp(verb, "ignore-file") != 0 &&
		strcmp(verb, "accept-residue") != 0)
	{
		rc = fail(err, errlen, "unknown drydock directive \"%s\" (known: ignore, ignore-file, accept-residue)", verb);
		goto done;
	}
	if (!reason || !*reason)
	{
		rc = fail(err, errlen, "drydock:%s without a reason: end it with \" -- why this is accepted\"", verb);
		goto done;
	}

	if (strcmp(verb, "accept-residue") == 0)
	{
		strbuf		ident;
		char	   *kind;

		if (!rollback)
		{
			rc = fail(err, errlen, "drydock:accept-residue belongs in the rollback, not in the migration");
			goto done;
		}
		if (nw < 2)
		{
			rc = fail(err, errlen, "drydock:accept-residue needs KIND IDENTITY, e.g. -- drydock:accept-residue type app.mood -- reason");
			goto done;
		}
		for (size_t i = 0; i < sizeof(residue_codes) / sizeof(residue_codes[0]); i++)
		{
			if ((rc = check_inline_code(residue_codes[i], allow, err, errlen)) != 0)
				goto done;
			json_array_append_new(codes, json_string(residue_codes[i]));
		}
		kind = xstrdup(words[0]);
		for (char *p = kind; *p; p++)
			if (*p == '_')
				*p = ' ';
		sb_init(&ident);
		for (int i = 1; i < nw; i++)
			sb_printf(&ident, "%s%s", i > 1 ? " " : "", words[i]);
		json_array_append_new(out, json_pack("{s:O, s:s, s:s, s:s, s:s}", "code", codes, "object", ident.data,
											 "reason", reason, "source", source, "accept_kind", kind));
		sb_free(&ident);
		free(kind);
		goto done;
	}

	/* ignore / ignore-file: CODE[,CODE] */
	if (nw < 1)
	{
		rc = fail(err, errlen, "drydock:%s needs a finding code, e.g. -- drydock:%s KC004 -- reason", verb, verb);
		goto done;
	}
	{
		char	   *csave = NULL;
		char	   *c;

		for (c = strtok_r(words[0], ",", &csave); c; c = strtok_r(NULL, ",", &csave))
		{
			for (char *p = c; *p; p++)
				*p = (char) toupper((unsigned char) *p);
			if ((rc = check_inline_code(c, allow, err, errlen)) != 0)
				goto done;
			json_array_append_new(codes, json_string(c));
		}
		if (json_array_size(codes) == 0)
		{
			rc = fail(err, errlen, "drydock:%s needs a finding code", verb);
			goto done;
		}
	}
	if (strcmp(verb, "ignore-file") == 0)
	{
		if (nw > 1)
		{
			rc = fail(err, errlen, "drydock:ignore-file takes codes only (\"%s\" is extra): it applies to every object", words[1]);
			goto done;
		}
		json_array_append_new(out, json_pack("{s:O, s:s, s:s, s:s}", "code", codes, "object", "*",
											 "reason", reason, "source", source));
		goto done;
	}
	/* ignore: [OBJECT], else the object of the next statement */
	if (nw > 2)
	{
		rc = fail(err, errlen, "drydock:ignore takes CODE[,CODE] [OBJECT] (\"%s\" is extra)", words[2]);
		goto done;
	}
	{
		const preflight_statement *next = NULL;
		char	   *object = NULL;

		for (size_t i = 0; i < pf->n_statements; i++)
			if (pf->statements[i].first_line > d->line)
			{
				next = &pf->statements[i];
				break;
			}
		if (!next)
		{
			rc = fail(err, errlen, "drydock:ignore: no statement follows this directive (use drydock:ignore-file for the whole file)");
			goto done;
		}
		if (nw == 2)
			object = xstrdup(words[1]);
		else
		{
			stmt_toks	st;

			if (statement_tokens(pf, next->first_line, &st))
				object = statement_object(&st, schema);
			if (!object)
			{
				rc = fail(err, errlen, "drydock:ignore: cannot tell which object the next statement (%s, line %u) creates or alters; name it: -- drydock:ignore %s OBJECT -- reason",
						  next->tag, next->first_line, json_string_value(json_array_get(codes, 0)));
				goto done;
			}
		}
		json_array_append_new(out, json_pack("{s:O, s:s, s:s, s:s, s:i}", "code", codes, "object", object,
											 "reason", reason, "source", source,
											 "statement_line", (int) next->first_line));
		free(object);
	}
done:
	json_decref(codes);
	free(source);
	free(text);
	return rc;
}

int
suppress_parse_artifact(const preflight_result *pf, const char *path, bool rollback,
						const char *schema, json_t *allow, json_t *out,
						unsigned *err_line, char *err, size_t errlen)
{
	for (size_t i = 0; i < pf->n_directives; i++)
	{
		if (parse_directive(pf, path, rollback, schema, allow, &pf->directives[i], out, err, errlen) != 0)
		{
			*err_line = pf->directives[i].line;
			return -1;
		}
	}
	return 0;
}

int
suppress_check_policy(json_t *policy, char *err, size_t errlen)
{
	json_t	   *allow = json_object_get(policy, "allow_suppress");
	json_t	   *sup = json_object_get(policy, "suppress");
	size_t		i;
	json_t	   *v;

	if (allow && !json_is_null(allow))
	{
		if (!json_is_array(allow))
			return fail(err, errlen, "policy key \"allow_suppress\" must be an array of codes or families");
		json_array_foreach(allow, i, v)
		{
			const char *a = json_string_value(v);
			const suppress_code *c = a ? find_code(a) : NULL;

			if (!a || (!is_family(a) && !(c && c->suppressible)))
				return fail(err, errlen, "policy key \"allow_suppress\" names unknown finding code or family \"%s\" (codes: docs/codes.md)",
							a ? a : "(not a string)");
		}
	}
	if (!sup)
		return 0;
	if (!json_is_array(sup))
		return fail(err, errlen, "policy key \"suppress\" must be an array of {code, object, reason, expires}");
	json_array_foreach(sup, i, v)
	{
		json_t	   *code = json_object_get(v, "code");
		json_t	   *reason = json_object_get(v, "reason");
		size_t		j;
		json_t	   *c;

		if (!json_is_object(v))
			return fail(err, errlen, "policy key \"suppress[%zu]\" must be an object {code, object, reason, expires}", i);
		if (!code || (!json_is_string(code) && !json_is_array(code)))
			return fail(err, errlen, "policy key \"suppress[%zu]\" has no \"code\"", i);
		if (json_is_string(code))
			code = json_pack("[O]", code);
		else
			json_incref(code);
		json_array_foreach(code, j, c)
		{
			const char *s = json_string_value(c);
			const suppress_code *k = s ? find_code(s) : NULL;

			if (!k || !k->suppressible)
			{
				json_decref(code);
				return fail(err, errlen, "policy key \"suppress[%zu].code\" names %s finding code \"%s\" (codes: docs/codes.md)",
							i, k ? "unsuppressible" : "unknown", s ? s : "(not a string)");
			}
		}
		json_decref(code);
		if (!json_is_string(reason) || json_string_value(reason)[strspn(json_string_value(reason), " \t\r\n")] == '\0')
			return fail(err, errlen, "policy key \"suppress[%zu]\" has no \"reason\": every suppression says why", i);
	}
	return 0;
}

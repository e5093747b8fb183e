/*
 * base_roles.c
 *		Find the roles a schema-only dump refers to, with the SQL lexer (so a
 *		role name inside a function body or a string is not taken for one).
 *
 * pg_dump -s names roles in: ALTER ... OWNER TO r; GRANT ... TO r[, ...];
 * REVOKE ... FROM r[, ...]; ALTER DEFAULT PRIVILEGES FOR ROLE r;
 * CREATE POLICY ... TO r[, ...]; CREATE SCHEMA ... AUTHORIZATION r;
 * SET ROLE r; SET SESSION AUTHORIZATION r.  It does not create them
 * (pg_dumpall -g does), so the sandbox creates them NOLOGIN.
 */
#include "base_roles.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "sqllex.h"
#include "util.h"

typedef struct word
{
	char	   *text;			/* folded (unquoted) or exact (quoted) */
	bool		quoted;
	bool		comma;			/* the token is "," */
} word;

static char *
token_name(const char *buf, const sqltoken *t, bool *quoted)
{
	strbuf		sb;

	sb_init(&sb);
	if (t->kind == SQLTOK_QIDENT)
	{
		/* body without the quotes; "" is one quote */
		const char *p = buf + t->off + (t->prefix == 'U' ? 3 : 1);
		const char *end = buf + t->off + t->len - 1;

		for (; p < end; p++)
		{
			sb_appendn(&sb, p, 1);
			if (*p == '"' && p + 1 < end && p[1] == '"')
				p++;
		}
		*quoted = true;
	}
	else
	{
		for (size_t i = 0; i < t->len; i++)
		{
			char		c = (char) tolower((unsigned char) buf[t->off + i]);

			sb_appendn(&sb, &c, 1);
		}
		*quoted = false;
	}
	return sb.data;
}

static void
add_role(role_list *roles, const word *w)
{
	static const char *const pseudo[] = {"public", "current_user", "session_user",
	"current_role", "none", NULL};

	if (!w->quoted)
		for (int i = 0; pseudo[i]; i++)
			if (strcmp(w->text, pseudo[i]) == 0)
				return;
	if (strncmp(w->text, "pg_", 3) == 0)
		return;
	for (size_t i = 0; i < roles->n; i++)
		if (strcmp(roles->names[i], w->text) == 0)
			return;
	roles->names = xrealloc(roles->names, (roles->n + 1) * sizeof(char *));
	roles->names[roles->n++] = xstrdup(w->text);
}

static bool
is(const word *w, const char *kw)
{
	return !w->quoted && !w->comma && strcmp(w->text, kw) == 0;
}

/* Add the comma-separated names starting at words[i]. */
static void
add_list(role_list *roles, word *words, size_t n, size_t i, const char *const *stop)
{
	while (i < n)
	{
		bool		stopped = false;

		if (words[i].comma)
		{
			i++;
			continue;
		}
		for (int s = 0; stop && stop[s]; s++)
			if (is(&words[i], stop[s]))
				stopped = true;
		if (stopped)
			return;
		/* "GROUP r" / "ROLE r" in old-style lists */
		if ((is(&words[i], "group") || is(&words[i], "role")) && i + 1 < n && !words[i + 1].comma)
			i++;
		add_role(roles, &words[i]);
		i++;
		if (i < n && !words[i].comma)
			return;
	}
}

static void
scan_statement(role_list *roles, word *w, size_t n)
{
	static const char *const grant_stop[] = {"with", "granted", NULL};
	static const char *const revoke_stop[] = {"cascade", "restrict", "granted", NULL};
	static const char *const policy_stop[] = {"using", "with", NULL};

	if (n == 0)
		return;
	for (size_t i = 0; i + 1 < n; i++)
	{
		if (is(&w[i], "owner") && is(&w[i + 1], "to") && i + 2 < n)
			add_role(roles, &w[i + 2]);
		else if (is(&w[i], "authorization") && i + 1 < n && (is(&w[0], "create") || is(&w[0], "set")))
			add_role(roles, &w[i + 1]);
		else if (is(&w[i], "for") && (is(&w[i + 1], "role") || is(&w[i + 1], "user")) &&
				 is(&w[0], "alter") && i + 2 < n)
			add_list(roles, w, n, i + 2, (const char *const[]) {"in", "grant", "revoke", NULL});
	}
	if (is(&w[0], "grant"))
	{
		for (size_t i = n; i-- > 1;)
			if (is(&w[i], "to"))
			{
				add_list(roles, w, n, i + 1, grant_stop);
				break;
			}
	}
	else if (is(&w[0], "revoke"))
	{
		for (size_t i = n; i-- > 1;)
			if (is(&w[i], "from"))
			{
				add_list(roles, w, n, i + 1, revoke_stop);
				break;
			}
	}
	else if (n > 2 && is(&w[0], "create") && is(&w[1], "policy"))
	{
		for (size_t i = 2; i < n; i++)
			if (is(&w[i], "to"))
			{
				add_list(roles, w, n, i + 1, policy_stop);
				break;
			}
	}
	else if (n >= 3 && is(&w[0], "set") && is(&w[1], "role"))
		add_role(roles, &w[2]);
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

void
base_roles_scan(const char *buf, size_t len, role_list *roles)
{
	sqllex		lx;
	sqltoken	t;
	word	   *words = NULL;
	size_t		n = 0,
				cap = 0;
	int			depth = 0;

	memset(roles, 0, sizeof(*roles));
	sqllex_init(&lx, buf, len);
	for (;;)
	{
		bool		more = sqllex_next(&lx, &t);
		bool		end_of_stmt = !more || t.kind == SQLTOK_END || t.kind == SQLTOK_ERROR ||
			(t.kind == SQLTOK_SEMICOLON && depth == 0);

		if (end_of_stmt)
		{
			scan_statement(roles, words, n);
			for (size_t i = 0; i < n; i++)
				free(words[i].text);
			n = 0;
			depth = 0;
			if (!more || t.kind == SQLTOK_END || t.kind == SQLTOK_ERROR)
				break;
			continue;
		}
		/* only the statement's top level names roles; parentheses hold columns */
		if (t.kind == SQLTOK_LPAREN)
		{
			depth++;
			continue;
		}
		if (t.kind == SQLTOK_RPAREN)
		{
			if (depth > 0)
				depth--;
			continue;
		}
		if (depth > 0 || t.kind == SQLTOK_META ||
			t.kind == SQLTOK_LINE_COMMENT || t.kind == SQLTOK_BLOCK_COMMENT)
			continue;
		if (n == cap)
		{
			cap = cap ? cap * 2 : 32;
			words = xrealloc(words, cap * sizeof(word));
		}
		if (t.kind == SQLTOK_WORD || t.kind == SQLTOK_QIDENT)
		{
			words[n].text = token_name(buf, &t, &words[n].quoted);
			words[n].comma = false;
		}
		else
		{
			/* any other token breaks a name list and matches no keyword */
			bool		comma = t.kind == SQLTOK_OP && t.len == 1 && buf[t.off] == ',';

			words[n].text = xstrdup(comma ? "," : "?");
			words[n].quoted = true;
			words[n].comma = comma;
		}
		n++;
	}
	free(words);
	if (roles->n > 1)
		qsort(roles->names, roles->n, sizeof(char *), cmp_names);
}

void
role_list_free(role_list *roles)
{
	for (size_t i = 0; i < roles->n; i++)
		free(roles->names[i]);
	free(roles->names);
	memset(roles, 0, sizeof(*roles));
}

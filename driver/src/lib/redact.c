/*
 * redact.c -- see redact.h.
 */
#include "redact.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

typedef struct
{
	const char *s;
	size_t		n;
	char	   *owned;
} needle;

typedef struct
{
	char	   *p;
	size_t		len;
	size_t		cap;
} obuf;

static bool
put(obuf *o, const char *s, size_t n)
{
	if (o->len + n + 1 > o->cap)
	{
		size_t		cap = o->cap ? o->cap : 64;
		char	   *np;

		while (cap < o->len + n + 1)
			cap *= 2;
		np = realloc(o->p, cap);
		if (!np)
			return false;
		o->p = np;
		o->cap = cap;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
	o->p[o->len] = '\0';
	return true;
}

char *
redact_secrets_len(const char *text, size_t len, char *const *secrets, size_t n, size_t *out_len)
{
	needle	   *nd = NULL;
	size_t		nn = 0;
	obuf		o = {NULL, 0, 0};
	size_t		i = 0;
	bool		ok = true;

	if (n)
	{
		nd = calloc(2 * n, sizeof(*nd));
		if (!nd)
			return NULL;
	}
	for (size_t k = 0; k < n; k++)
	{
		const char *s = secrets[k];
		size_t		sl,
					q = 0;

		if (!s || !*s)
			continue;
		sl = strlen(s);
		nd[nn].s = s;
		nd[nn++].n = sl;
		for (size_t j = 0; j < sl; j++)
			q += s[j] == '\'';
		if (q)
		{
			char	   *d = malloc(sl + q + 1);
			size_t		m = 0;

			if (!d)
			{
				ok = false;
				goto out;
			}
			for (size_t j = 0; j < sl; j++)
			{
				d[m++] = s[j];
				if (s[j] == '\'')
					d[m++] = '\'';
			}
			d[m] = '\0';
			nd[nn].s = d;
			nd[nn].n = m;
			nd[nn++].owned = d;
		}
	}

	if (!put(&o, "", 0))
	{
		ok = false;
		goto out;
	}
	while (i < len)
	{
		size_t		best = 0;
		size_t		run = i;

		/* copy a run of bytes that cannot start any needle, quickly */
		for (;;)
		{
			best = 0;
			for (size_t k = 0; k < nn; k++)
				if (nd[k].n > best && nd[k].n <= len - run &&
					text[run] == nd[k].s[0] && memcmp(text + run, nd[k].s, nd[k].n) == 0)
					best = nd[k].n;
			if (best || ++run >= len)
				break;
		}
		if (run > i && !put(&o, text + i, run - i))
		{
			ok = false;
			goto out;
		}
		i = run;
		if (best)
		{
			if (!put(&o, REDACTED_MARK, sizeof(REDACTED_MARK) - 1))
			{
				ok = false;
				goto out;
			}
			i += best;
		}
	}
out:
	for (size_t k = 0; k < nn; k++)
		free(nd[k].owned);
	free(nd);
	if (!ok)
	{
		free(o.p);
		return NULL;
	}
	if (out_len)
		*out_len = o.len;
	return o.p;
}

char *
redact_secrets(const char *text, size_t len, char *const *secrets, size_t n)
{
	return redact_secrets_len(text, len, secrets, n, NULL);
}

/*
 * history.c
 *		Read a directory of migrations in the layout a tool wrote it in, and
 *		return the pairs in the order the tool would apply them.
 *
 *	golang-migrate	{version}_{title}.up.sql + {version}_{title}.down.sql
 *	goose			{version}_{title}.sql with "-- +goose Up" / "-- +goose Down"
 *					("-- +goose NO TRANSACTION" turns its transaction off)
 *	dbmate			{version}_{title}.sql with "-- migrate:up" / "-- migrate:down"
 *					("transaction:false" on the marker line)
 *	sqitch			sqitch.plan order; deploy/, revert/, verify/NAME.sql
 *	flyway			V{version}__{desc}.sql, optional U{version}__{desc}.sql;
 *					R__{desc}.sql repeatables are listed as not exercised
 *
 * Versions are ordered numerically component by component (2 < 10,
 * 1.2 < 1.10), whatever their length.  For one-file layouts each section is
 * returned with the other section's lines blanked, so that psql's FILE:LINE
 * in an error is the line of the user's file.
 */
#include "history.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sqllex.h"
#include "util.h"

const char *const history_layouts[] = {"golang-migrate", "goose", "dbmate", "sqitch", "flyway", NULL};

typedef struct load_state
{
	char	   *err;
	size_t		errlen;
	char	  **err_file;
	int		   *err_line;
} load_state;

static bool
fail(load_state *st, const char *file, int line, const char *fmt,...) __attribute__((format(printf, 4, 5)));

static bool
fail(load_state *st, const char *file, int line, const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(st->err, st->errlen, fmt, ap);
	va_end(ap);
	*st->err_file = file ? xstrdup(file) : NULL;
	*st->err_line = line;
	return false;
}

/* Compare versions numerically, component by component. */
int
history_version_cmp(const char *a, const char *b)
{
	while (*a || *b)
	{
		const char *da,
				   *db;
		size_t		la,
					lb;

		while (*a && !isdigit((unsigned char) *a))
			a++;
		while (*b && !isdigit((unsigned char) *b))
			b++;
		if (!*a || !*b)
			return (*a ? 1 : 0) - (*b ? 1 : 0);
		while (*a == '0' && isdigit((unsigned char) a[1]))
			a++;
		while (*b == '0' && isdigit((unsigned char) b[1]))
			b++;
		da = a;
		db = b;
		while (isdigit((unsigned char) *a))
			a++;
		while (isdigit((unsigned char) *b))
			b++;
		la = (size_t) (a - da);
		lb = (size_t) (b - db);
		if (la != lb)
			return la < lb ? -1 : 1;
		if (memcmp(da, db, la) != 0)
			return memcmp(da, db, la) < 0 ? -1 : 1;
	}
	return 0;
}

static int
migration_cmp(const void *x, const void *y)
{
	return history_version_cmp(((const migration *) x)->version, ((const migration *) y)->version);
}

static bool
ends_with(const char *s, const char *suffix)
{
	size_t		n = strlen(s),
				m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static char *
path_join(const char *dir, const char *name)
{
	return xasprintf("%s/%s", dir, name);
}

static bool
read_part(load_state *st, const char *path, migration_part *part)
{
	size_t		len = 0;
	char	   *text = read_small_file(path, &len);

	if (!text)
		return fail(st, path, 0, "cannot read: %s", strerror(errno));
	part->path = xstrdup(path);
	part->text = text;
	part->len = len;
	return true;
}

/* Has the text any token but comments and psql meta-commands? */
static bool
has_sql(const char *text, size_t len)
{
	sqllex		lx;
	sqltoken	t;

	sqllex_init(&lx, text, len);
	while (sqllex_next(&lx, &t) && t.kind != SQLTOK_END)
	{
		if (t.kind == SQLTOK_ERROR)
			return true;		/* let the preflight say what is wrong */
		if (t.kind != SQLTOK_LINE_COMMENT && t.kind != SQLTOK_BLOCK_COMMENT &&
			t.kind != SQLTOK_SEMICOLON)
			return true;
	}
	return false;
}

static migration *
add_migration(history *h, size_t *cap)
{
	if (h->n == *cap)
	{
		*cap = *cap ? *cap * 2 : 16;
		h->items = xrealloc(h->items, *cap * sizeof(migration));
	}
	memset(&h->items[h->n], 0, sizeof(migration));
	return &h->items[h->n++];
}

/* sqitch change names are names, not numbers: compare them as strings */
static migration *
find_name(history *h, const char *name)
{
	for (size_t i = 0; i < h->n; i++)
		if (strcmp(h->items[i].version, name) == 0)
			return &h->items[i];
	return NULL;
}

static migration *
find_version(history *h, const char *version)
{
	for (size_t i = 0; i < h->n; i++)
		if (history_version_cmp(h->items[i].version, version) == 0)
			return &h->items[i];
	return NULL;
}

/* ---------- golang-migrate ---------- */

static bool
load_golang_migrate(load_state *st, const char *dir, char **names, size_t nnames, history *h)
{
	size_t		cap = 0;

	for (size_t i = 0; i < nnames; i++)
	{
		const char *name = names[i];
		bool		up = ends_with(name, ".up.sql");
		bool		down = ends_with(name, ".down.sql");
		size_t		vlen = strspn(name, "0123456789");
		char	   *version,
				   *title;
		migration  *m;
		char	   *path;

		if (!up && !down)
			continue;
		path = path_join(dir, name);
		if (vlen == 0 || name[vlen] != '_')
		{
			fail(st, path, 0, "not a golang-migrate file name: expected {version}_{title}.up.sql or .down.sql");
			free(path);
			return false;
		}
		version = xstrndup_n(name, vlen);
		title = xstrndup_n(name + vlen + 1, strlen(name) - vlen - 1 - strlen(up ? ".up.sql" : ".down.sql"));
		m = find_version(h, version);
		if (!m)
		{
			m = add_migration(h, &cap);
			m->version = version;
			m->title = title;
		}
		else
		{
			free(version);
			if (strcmp(m->title, title) != 0)
			{
				fail(st, path, 0, "duplicate version %s: also used by \"%s\"", m->version, m->title);
				free(title);
				free(path);
				return false;
			}
			free(title);
		}
		if ((up && m->up.text) || (down && m->down.text))
		{
			fail(st, path, 0, "duplicate version %s", m->version);
			free(path);
			return false;
		}
		if (!read_part(st, path, up ? &m->up : &m->down))
		{
			free(path);
			return false;
		}
		free(path);
	}
	for (size_t i = 0; i < h->n; i++)
		if (!h->items[i].up.text)
			return fail(st, h->items[i].down.path, 0, "a down migration without its up (version %s)", h->items[i].version);
	return true;
}

/* ---------- goose and dbmate: one file, two sections ---------- */

typedef enum section
{
	SEC_NONE, SEC_UP, SEC_DOWN
} section;

/* Copy text keeping only the lines of wanted; the rest become empty lines. */
static void
extract_section(const char *text, size_t len, const section *line_sec, section wanted,
				migration_part *part, const char *path)
{
	strbuf		sb;
	size_t		line = 0;
	const char *p = text;
	const char *end = text + len;

	sb_init(&sb);
	while (p < end)
	{
		const char *nl = memchr(p, '\n', (size_t) (end - p));
		size_t		n = nl ? (size_t) (nl - p) : (size_t) (end - p);

		if (line_sec[line] == wanted)
			sb_appendn(&sb, p, n);
		if (nl)
			sb_append(&sb, "\n");
		p = nl ? nl + 1 : end;
		line++;
	}
	part->path = xstrdup(path);
	part->len = sb.len;
	part->text = sb.data;
}

static bool
load_sections(load_state *st, const char *dir, char **names, size_t nnames, history *h, bool goose)
{
	size_t		cap = 0;

	for (size_t i = 0; i < nnames; i++)
	{
		const char *name = names[i];
		size_t		vlen = strspn(name, "0123456789");
		char	   *path;
		char	   *text;
		size_t		len = 0;
		size_t		nlines = 1;
		section    *secs;
		section		cur = SEC_NONE;
		bool		in_tx = true;
		bool		saw_up = false;
		migration  *m;
		size_t		line = 0;

		if (!ends_with(name, ".sql"))
			continue;
		path = path_join(dir, name);
		if (vlen == 0 || name[vlen] != '_')
		{
			fail(st, path, 0, "not a %s file name: expected {version}_{title}.sql", goose ? "goose" : "dbmate");
			free(path);
			return false;
		}
		if (!(text = read_small_file(path, &len)))
		{
			fail(st, path, 0, "cannot read: %s", strerror(errno));
			free(path);
			return false;
		}
		for (size_t k = 0; k < len; k++)
			if (text[k] == '\n')
				nlines++;
		secs = xcalloc(nlines + 1, sizeof(section));
		for (const char *p = text; p < text + len; line++)
		{
			const char *nl = memchr(p, '\n', (size_t) (text + len - p));
			size_t		n = nl ? (size_t) (nl - p) : (size_t) (text + len - p);
			char	   *l = xstrndup_n(p, n);
			const char *marker = goose ? "-- +goose " : "-- migrate:";

			if (strncasecmp(l, marker, strlen(marker)) == 0)
			{
				const char *rest = l + strlen(marker);

				if (strncasecmp(rest, "up", 2) == 0 && (rest[2] == '\0' || isspace((unsigned char) rest[2])))
				{
					if (saw_up)
					{
						fail(st, path, (int) line + 1, "a second up section");
						free(l);
						free(secs);
						free(text);
						free(path);
						return false;
					}
					cur = SEC_UP;
					saw_up = true;
				}
				else if (strncasecmp(rest, "down", 4) == 0 && (rest[4] == '\0' || isspace((unsigned char) rest[4])))
					cur = SEC_DOWN;
				if (goose && strncasecmp(rest, "NO TRANSACTION", 14) == 0)
					in_tx = false;
				if (!goose && strstr(rest, "transaction:false"))
				{
					/* dbmate's option applies to the section it is on */
					if (cur == SEC_UP)
						in_tx = false;
				}
				secs[line] = SEC_NONE;	/* marker lines belong to neither */
			}
			else
				secs[line] = cur;
			free(l);
			p = nl ? nl + 1 : text + len;
		}
		if (!saw_up)
		{
			fail(st, path, 0, "no up section (\"%s\")", goose ? "-- +goose Up" : "-- migrate:up");
			free(secs);
			free(text);
			free(path);
			return false;
		}
		{
			char	   *version = xstrndup_n(name, vlen);

			if (find_version(h, version))
			{
				fail(st, path, 0, "duplicate version %s", version);
				free(version);
				free(secs);
				free(text);
				free(path);
				return false;
			}
			m = add_migration(h, &cap);
			m->version = version;
			m->title = xstrndup_n(name + vlen + 1, strlen(name) - vlen - 1 - 4);
		}
		m->in_transaction = in_tx;
		extract_section(text, len, secs, SEC_UP, &m->up, path);
		extract_section(text, len, secs, SEC_DOWN, &m->down, path);
		if (!has_sql(m->down.text, m->down.len))
		{
			free(m->down.text);
			free(m->down.path);
			memset(&m->down, 0, sizeof(m->down));
		}
		free(secs);
		free(text);
		free(path);
	}
	return true;
}

/* ---------- Flyway ---------- */

static bool
load_flyway(load_state *st, const char *dir, char **names, size_t nnames, history *h)
{
	size_t		cap = 0;

	for (size_t i = 0; i < nnames; i++)
	{
		const char *name = names[i];
		char	   *path;
		const char *sep;
		char	   *version;
		migration  *m;
		bool		undo;

		if (!ends_with(name, ".sql"))
			continue;
		if (name[0] == 'R' && strncmp(name + 1, "__", 2) == 0)
		{
			h->not_exercised = xrealloc(h->not_exercised, (h->n_not_exercised + 1) * sizeof(char *));
			h->not_exercised[h->n_not_exercised++] = xasprintf("repeatable migration %s (Flyway re-runs it when it changes; it has no version to pair)", name);
			continue;
		}
		if ((name[0] != 'V' && name[0] != 'U') || !(sep = strstr(name, "__")) || sep == name + 1)
			continue;
		undo = name[0] == 'U';
		path = path_join(dir, name);
		version = xstrndup_n(name + 1, (size_t) (sep - name - 1));
		for (const char *c = version; *c; c++)
			if (!isdigit((unsigned char) *c) && *c != '.' && *c != '_')
			{
				fail(st, path, 0, "not a Flyway version: \"%s\"", version);
				free(version);
				free(path);
				return false;
			}
		m = find_version(h, version);
		if (!m)
		{
			m = add_migration(h, &cap);
			m->version = version;
			m->title = xstrndup_n(sep + 2, strlen(sep + 2) - 4);
			m->in_transaction = true;
		}
		else
			free(version);
		if ((undo && m->down.text) || (!undo && m->up.text))
		{
			fail(st, path, 0, "duplicate version %s", m->version);
			free(path);
			return false;
		}
		if (!read_part(st, path, undo ? &m->down : &m->up))
		{
			free(path);
			return false;
		}
		free(path);
	}
	for (size_t i = 0; i < h->n; i++)
		if (!h->items[i].up.text)
			return fail(st, h->items[i].down.path, 0, "an undo migration without its versioned migration (version %s)", h->items[i].version);
	return true;
}

/* ---------- sqitch ---------- */

static bool
load_sqitch(load_state *st, const char *dir, history *h)
{
	char	   *plan_path = path_join(dir, "sqitch.plan");
	char	   *plan = read_small_file(plan_path, NULL);
	size_t		cap = 0;
	int			lineno = 0;
	bool		ok = true;

	if (!plan)
	{
		fail(st, plan_path, 0, "cannot read: %s", strerror(errno));
		free(plan_path);
		return false;
	}
	for (char *line = plan, *next; line && ok; line = next)
	{
		char	   *p;
		char	   *name;
		migration  *m;
		char	   *f;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		p = line;
		lineno++;
		while (isspace((unsigned char) *p))
			p++;
		if (*p == '\0' || *p == '#' || *p == '%' || *p == '@')
			continue;
		name = p;
		while (*p && !isspace((unsigned char) *p))
			p++;
		name = xstrndup_n(name, (size_t) (p - name));
		while (isspace((unsigned char) *p))
			p++;
		if (*p == '[')
		{
			char	   *end = strchr(p, ']');
			char	   *deps;
			char	   *dsave = NULL;

			if (!end)
			{
				ok = fail(st, plan_path, lineno, "unterminated dependency list of change \"%s\"", name);
				free(name);
				break;
			}
			deps = xstrndup_n(p + 1, (size_t) (end - p - 1));
			for (char *d = strtok_r(deps, " \t", &dsave); d && ok; d = strtok_r(NULL, " \t", &dsave))
			{
				if (d[0] == '!' || strchr(d, ':'))
					continue;	/* a conflict, or another project's change */
				if (strchr(d, '@'))
					*strchr(d, '@') = '\0';
				if (!find_name(h, d))
					ok = fail(st, plan_path, lineno, "change \"%s\" requires \"%s\", which the plan does not deploy before it", name, d);
			}
			free(deps);
		}
		if (!ok)
		{
			free(name);
			break;
		}
		if (find_name(h, name))
		{
			/* a reworked change: sqitch deploys the rework with the same name */
			ok = fail(st, plan_path, lineno, "change \"%s\" appears twice (reworked changes are not supported yet)", name);
			free(name);
			break;
		}
		m = add_migration(h, &cap);
		m->version = name;
		m->title = xstrdup(name);
		f = xasprintf("%s/deploy/%s.sql", dir, name);
		ok = read_part(st, f, &m->up);
		free(f);
		if (!ok)
			break;
		f = xasprintf("%s/revert/%s.sql", dir, name);
		if (access(f, F_OK) == 0)
			ok = read_part(st, f, &m->down);
		free(f);
		f = xasprintf("%s/verify/%s.sql", dir, name);
		if (ok && access(f, F_OK) == 0)
			ok = read_part(st, f, &m->verify);
		free(f);
	}
	free(plan);
	free(plan_path);
	return ok;
}

/* ---------- detection ---------- */

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

static const char *
detect(const char *dir, char **names, size_t nnames, char *second)
{
	int			counts[5] = {0};
	const char *found = NULL;
	char	   *plan = path_join(dir, "sqitch.plan");

	if (access(plan, F_OK) == 0)
		counts[3]++;
	free(plan);
	for (size_t i = 0; i < nnames; i++)
	{
		const char *n = names[i];

		if (ends_with(n, ".up.sql") || ends_with(n, ".down.sql"))
			counts[0]++;
		else if ((n[0] == 'V' || n[0] == 'U' || n[0] == 'R') && strstr(n, "__") && ends_with(n, ".sql"))
			counts[4]++;
		else if (ends_with(n, ".sql"))
		{
			char	   *p = path_join(dir, n);
			char	   *t = read_small_file(p, NULL);

			if (t && strcasestr(t, "-- +goose up"))
				counts[1]++;
			else if (t && strstr(t, "-- migrate:up"))
				counts[2]++;
			free(t);
			free(p);
		}
	}
	second[0] = '\0';
	for (int i = 0; i < 5; i++)
		if (counts[i])
		{
			if (found)
			{
				snprintf(second, 64, "%s", history_layouts[i]);
				return found;
			}
			found = history_layouts[i];
		}
	return found;
}

bool
history_load(const char *dir, const char *layout, history *h,
			 char *err, size_t errlen, char **err_file, int *err_line)
{
	load_state	st = {err, errlen, err_file, err_line};
	DIR		   *d;
	struct dirent *de;
	char	  **names = NULL;
	size_t		nnames = 0;
	char		second[64];
	bool		ok;
	struct stat sbuf;

	memset(h, 0, sizeof(*h));
	*err_file = NULL;
	*err_line = 0;
	if (stat(dir, &sbuf) != 0 || !S_ISDIR(sbuf.st_mode))
		return fail(&st, dir, 0, "not a directory");
	if (!(d = opendir(dir)))
		return fail(&st, dir, 0, "cannot open: %s", strerror(errno));
	while ((de = readdir(d)))
	{
		if (de->d_name[0] == '.')
			continue;
		names = xrealloc(names, (nnames + 1) * sizeof(char *));
		names[nnames++] = xstrdup(de->d_name);
	}
	closedir(d);
	if (nnames)
		qsort(names, nnames, sizeof(char *), cmp_str);
	if (!layout)
	{
		layout = detect(dir, names, nnames, second);
		if (layout && second[0])
			ok = fail(&st, dir, 0, "mixed layouts: files of both %s and %s; pass --layout", layout, second);
		else if (!layout)
			ok = fail(&st, dir, 0, "no migrations found (layouts: golang-migrate, goose, dbmate, sqitch, flyway)");
		else
			ok = true;
		if (!ok)
			goto out;
	}
	h->layout = NULL;
	for (int i = 0; history_layouts[i]; i++)
		if (strcmp(layout, history_layouts[i]) == 0)
			h->layout = history_layouts[i];
	if (!h->layout)
	{
		ok = fail(&st, NULL, 0, "unknown layout \"%s\" (golang-migrate, goose, dbmate, sqitch, flyway)", layout);
		goto out;
	}
	if (strcmp(h->layout, "golang-migrate") == 0)
		ok = load_golang_migrate(&st, dir, names, nnames, h);
	else if (strcmp(h->layout, "goose") == 0)
		ok = load_sections(&st, dir, names, nnames, h, true);
	else if (strcmp(h->layout, "dbmate") == 0)
		ok = load_sections(&st, dir, names, nnames, h, false);
	else if (strcmp(h->layout, "flyway") == 0)
		ok = load_flyway(&st, dir, names, nnames, h);
	else
		ok = load_sqitch(&st, dir, h);
	if (ok && h->n == 0)
		ok = fail(&st, dir, 0, "no %s migrations found", h->layout);
	if (ok && strcmp(h->layout, "sqitch") != 0)
	{
		qsort(h->items, h->n, sizeof(migration), migration_cmp);
		for (size_t i = 1; i < h->n; i++)
			if (history_version_cmp(h->items[i - 1].version, h->items[i].version) == 0)
				ok = fail(&st, h->items[i].up.path, 0, "duplicate version %s (also %s)",
						  h->items[i].version, h->items[i - 1].up.path);
	}
out:
	for (size_t i = 0; i < nnames; i++)
		free(names[i]);
	free(names);
	return ok;
}

static void
part_free(migration_part *p)
{
	free(p->path);
	free(p->text);
}

void
history_free(history *h)
{
	for (size_t i = 0; i < h->n; i++)
	{
		free(h->items[i].version);
		free(h->items[i].title);
		part_free(&h->items[i].up);
		part_free(&h->items[i].down);
		part_free(&h->items[i].verify);
	}
	free(h->items);
	for (size_t i = 0; i < h->n_not_exercised; i++)
		free(h->not_exercised[i]);
	free(h->not_exercised);
	memset(h, 0, sizeof(*h));
}

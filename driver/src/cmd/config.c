/*
 * config.c
 *		drydock.json: discovery, validation (an unknown key is an error that
 *		names it and its line) and translation into options, merged in front
 *		of the command line so getopt parses both the same way.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sha256.h"
#include "util.h"

#define CONFIG_NAME "drydock.json"

/* keys whose value is a path: relative to the file's directory */
static const char *const path_keys[] = {"policy", "base", "out", "pg_config", NULL};

/*
 * The line of key as a member of the top-level object of text (jansson
 * gives positions only for syntax errors).  1 when not found.
 */
static int
key_line(const char *text, const char *key)
{
	int			depth = 0,
				line = 1;
	size_t		klen = strlen(key);

	for (const char *p = text; *p; p++)
	{
		if (*p == '\n')
			line++;
		else if (*p == '{' || *p == '[')
			depth++;
		else if (*p == '}' || *p == ']')
			depth--;
		else if (*p == '"')
		{
			const char *start = ++p;
			const char *q;

			while (*p && *p != '"')
			{
				if (*p == '\\' && p[1])
					p++;
				p++;
			}
			if (!*p)
				break;
			q = p + 1;
			while (*q == ' ' || *q == '\t' || *q == '\r' || *q == '\n')
				q++;
			if (depth == 1 && *q == ':' && (size_t) (p - start) == klen && memcmp(start, key, klen) == 0)
				return line;
		}
	}
	return 1;
}

/* The whole file, NUL-terminated; NULL when unreadable. */
static char *
slurp(const char *path)
{
	FILE	   *f = fopen(path, "re");
	strbuf		sb;
	char		buf[8192];
	size_t		n;

	if (!f)
		return NULL;
	sb_init(&sb);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		sb_appendn(&sb, buf, n);
	fclose(f);
	return sb.data;
}

static bool
is_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/*
 * drydock.json in the current directory or the nearest parent that has one,
 * not above the repository root (a directory with .git) or /.  Returned as
 * a path relative to the current directory ("drydock.json", "../drydock.json").
 */
static char *
discover(void)
{
	char		cwd[PATH_MAX];
	strbuf		rel;
	char	   *found = NULL;

	if (!getcwd(cwd, sizeof(cwd)))
		return NULL;
	sb_init(&rel);
	for (;;)
	{
		char	   *cand = xasprintf("%s" CONFIG_NAME, rel.data);
		char	   *git = xasprintf("%s/.git", cwd);
		struct stat st;
		bool		root = stat(git, &st) == 0;
		char	   *slash;

		free(git);
		if (is_file(cand))
		{
			found = cand;
			break;
		}
		free(cand);
		if (root || strcmp(cwd, "/") == 0)
			break;
		slash = strrchr(cwd, '/');
		if (slash == cwd)
			cwd[1] = '\0';
		else
			*slash = '\0';
		sb_append(&rel, "../");
	}
	sb_free(&rel);
	return found;
}

static void
push(run_config *cfg, char *arg, bool owned)
{
	cfg->argv = xrealloc(cfg->argv, (cfg->argc + 2) * sizeof(char *));
	cfg->argv[cfg->argc++] = arg;
	cfg->argv[cfg->argc] = NULL;
	if (owned)
	{
		cfg->owned = xrealloc(cfg->owned, (cfg->n_owned + 1) * sizeof(char *));
		cfg->owned[cfg->n_owned++] = arg;
	}
}

static const struct option *
find_option(const struct option *longopts, const char *name)
{
	for (const struct option *o = longopts; o->name; o++)
		if (strcmp(o->name, name) == 0)
			return o;
	return NULL;
}

/* One key's value as --name=value arguments (a list: one each). */
static bool
key_args(run_config *cfg, const char *dir, const struct option *o, const char *key, json_t *v,
		 char *err, size_t errlen)
{
	bool		is_path = false;

	for (int i = 0; path_keys[i]; i++)
		is_path |= strcmp(path_keys[i], key) == 0;
	if (o->has_arg == no_argument)
	{
		if (!json_is_boolean(v))
		{
			snprintf(err, errlen, "key \"%s\" must be true or false", key);
			return false;
		}
		if (json_is_true(v))
			push(cfg, xasprintf("--%s", o->name), true);
		return true;
	}
	if (json_is_array(v) && (strcmp(key, "format") == 0 || strcmp(key, "prod_sysid") == 0))
	{
		size_t		i;
		json_t	   *e;

		json_array_foreach(v, i, e)
			if (!key_args(cfg, dir, o, key, e, err, errlen))
			return false;
		return true;
	}
	if (json_is_integer(v))
		push(cfg, xasprintf("--%s=%" JSON_INTEGER_FORMAT, o->name, json_integer_value(v)), true);
	else if (json_is_string(v))
	{
		const char *s = json_string_value(v);

		if (is_path && s[0] != '/' && s[0] != '\0' && strcmp(dir, ".") != 0)
			push(cfg, xasprintf("--%s=%s/%s", o->name, dir, s), true);
		else
			push(cfg, xasprintf("--%s=%s", o->name, s), true);
	}
	else
	{
		snprintf(err, errlen, "key \"%s\" must be a %s", key,
				 strcmp(key, "format") == 0 ? "string or a list of strings" : "string or a number");
		return false;
	}
	return true;
}

int
run_config_load(int argc, char **argv, const struct option *longopts, const char *shortopts,
				const char *const *other_keys, run_config *cfg)
{
	char	   *seen = xcalloc(512, 1);	/* by option value */
	const char *config_arg = NULL;
	bool		no_config = false;
	int			c;
	json_error_t jerr;
	json_t	   *doc = NULL;
	char	   *text = NULL;
	char	   *dir = NULL;
	char		err[512];
	int			rc = EXIT_USAGE;
	const char *key;
	json_t	   *v;

	memset(cfg, 0, sizeof(*cfg));
	/* which options does the command line give?  (parsed for real later) */
	{
		char	  **copy = xcalloc(argc + 1, sizeof(char *));

		memcpy(copy, argv, argc * sizeof(char *));
		opterr = 0;
		optind = 0;				/* glibc: full reinitialisation */
		while ((c = getopt_long(argc, copy, shortopts, longopts, NULL)) != -1)
		{
			if (c >= 0 && c < 512)
				seen[c] = 1;
			for (const struct option *o = longopts; o->name; o++)
				if (o->val == c && strcmp(o->name, "config") == 0)
					config_arg = optarg;
				else if (o->val == c && strcmp(o->name, "no-config") == 0)
					no_config = true;
		}
		opterr = 1;
		optind = 0;
		free(copy);
	}
	push(cfg, argv[0], false);
	if (no_config)
		goto merge;
	if (config_arg)
	{
		if (!is_file(config_arg))
		{
			dd_error("--config %s: %s", config_arg, access(config_arg, F_OK) == 0 ? "not a regular file" : strerror(errno));
			goto out;
		}
		cfg->path = xstrdup(config_arg);
	}
	else if (!(cfg->path = discover()))
		goto merge;

	doc = json_load_file(cfg->path, JSON_REJECT_DUPLICATES, &jerr);
	if (!doc)
	{
		dd_error_at(cfg->path, jerr.line > 0 ? jerr.line : 0, "invalid JSON: %s", jerr.text);
		goto out;
	}
	if (!json_is_object(doc))
	{
		dd_error_at(cfg->path, 1, "a configuration must be a JSON object");
		goto out;
	}
	{
		char		serr[256];

		if (sha256_file_hex(cfg->path, cfg->sha256, serr, sizeof(serr)) != 0)
		{
			dd_error("%s: %s", cfg->path, serr);
			goto out;
		}
		text = slurp(cfg->path);
	}
	{
		char	   *slash = strrchr(cfg->path, '/');

		dir = slash ? xstrndup_n(cfg->path, (size_t) (slash - cfg->path)) : xstrdup(".");
	}
	json_object_foreach(doc, key, v)
	{
		char	   *name = xstrdup(key);
		const struct option *o;
		bool		other = false;

		for (char *p = name; *p; p++)
			if (*p == '_')
				*p = '-';
		o = find_option(longopts, name);
		for (int i = 0; !o && other_keys && other_keys[i]; i++)
			other |= strcmp(other_keys[i], name) == 0;
		if ((!o && !other) || strchr(key, '-') ||
			(o && (strcmp(o->name, "help") == 0 || strcmp(o->name, "config") == 0 ||
				   strcmp(o->name, "no-config") == 0)))
		{
			dd_error_at(cfg->path, text ? key_line(text, key) : 1, "unknown key \"%s\"%s", key,
						strchr(key, '-') ? " (keys are long option names with _ for -)" : "");
			free(name);
			goto out;
		}
		free(name);
		if (!o || (o->val >= 0 && o->val < 512 && seen[o->val]))
			continue;			/* the other command's, or given on the command line */
		if (strcmp(key, "policy") == 0 && json_is_object(v))
		{
			cfg->policy = json_incref(v);
			continue;
		}
		if (!key_args(cfg, dir, o, key, v, err, sizeof(err)))
		{
			dd_error_at(cfg->path, text ? key_line(text, key) : 1, "%s", err);
			goto out;
		}
	}
merge:
	for (int i = 1; i < argc; i++)
		push(cfg, argv[i], false);
	rc = 0;
out:
	free(seen);
	free(text);
	free(dir);
	json_decref(doc);
	return rc;
}

void
run_config_free(run_config *cfg)
{
	for (int i = 0; i < cfg->n_owned; i++)
		free(cfg->owned[i]);
	free(cfg->owned);
	free(cfg->argv);
	free(cfg->path);
	json_decref(cfg->policy);
	memset(cfg, 0, sizeof(*cfg));
}

/*
 * psql_apply.c
 *		Run psql on an artifact inside the sandbox and turn what it printed
 *		into facts: command-tag counts ("CREATE SCHEMA" + 12x "CREATE TABLE"),
 *		every NOTICE/WARNING/ERROR with its file line, duration, exit code.
 *
 * psql runs as the cluster's unprivileged user, with -X (no psqlrc), -w (no
 * password prompt), a conninfo naming every parameter, an environment of our
 * making (HOME, PGSYSCONFDIR, PGPASSFILE, PGSERVICEFILE point at nothing of
 * the caller's), and, unless meta-commands are allowed, "\restrict KEY"
 * first: psql then refuses every meta-command the preflight might have
 * missed, and still reports errors as FILE:LINE.
 */
#include "psql_apply.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proc.h"
#include "sha256.h"
#include "template.h"
#include "redact.h"
#include "signals.h"
#include "util.h"

/*
 * psql's stdout/stderr are kept in the report only up to OUTPUT_KEEP bytes:
 * the tag counts and the parsed messages carry the facts; a longer output
 * keeps its first and last OUTPUT_KEEP/2 bytes around a marker saying how
 * much was left out.  This bounds the driver's memory whatever psql prints.
 */
#define OUTPUT_KEEP (64 * 1024)

/* Server messages kept in the report (errors always); the rest are counted. */
#define MAX_MESSAGES 1000

/* A json string of text, or of its head and tail when longer than OUTPUT_KEEP. */
static json_t *
kept_output(const char *text, size_t *truncated)
{
	size_t		len = strlen(text);
	size_t		half = OUTPUT_KEEP / 2;
	size_t		head,
				tail;
	strbuf		sb;
	json_t	   *j;

	*truncated = 0;
	if (len <= OUTPUT_KEEP)
		return json_string(text);
	/* cut at line ends, so the kept parts are whole lines */
	head = half;
	while (head > 0 && text[head - 1] != '\n')
		head--;
	if (head == 0)
		head = half;
	tail = len - half;
	while (tail < len && text[tail - 1] != '\n')
		tail++;
	if (tail >= len)
		tail = len - half;
	/* never split a UTF-8 sequence */
	while (head > 0 && ((unsigned char) text[head] & 0xC0) == 0x80)
		head--;
	while (tail < len && ((unsigned char) text[tail] & 0xC0) == 0x80)
		tail++;
	*truncated = tail - head;
	sb_init(&sb);
	sb_appendn(&sb, text, head);
	sb_printf(&sb, "\n[... truncated by drydock: %zu of %zu bytes left out ...]\n", tail - head, len);
	sb_appendn(&sb, text + tail, len - tail);
	j = json_string(sb.data);
	sb_free(&sb);
	return j;
}

static bool
probe_restrict(const char *psql, bool *known)
{
	const char *argv[] = {psql, "--help=commands", NULL};
	char	  **env = child_env_new(NULL);
	proc_result res;
	char		err[256];
	bool		has = false;

	*known = false;
	if (proc_run(&(proc_spec)
				 {
				 .argv = argv,.envp = env,.timeout_ms = 10000
				 }, &res, err, sizeof(err)))
	{
		has = strstr(res.out, "\\restrict") != NULL;
		*known = res.exit_code == 0;
		proc_result_free(&res);
	}
	child_env_free(env);
	return has;
}

/*
 * Asking psql costs a start of psql (25 ms, a tenth of a small run), so the
 * answer is kept in the template cache, keyed by the binary itself (path,
 * size, times, inode): a new psql asks again.
 */
bool
psql_has_restrict(const char *psql)
{
	struct stat st;
	char	   *cache = template_cache_dir();
	char	   *material;
	char		hex[SHA256_HEX_LEN + 1];
	char	   *path = NULL;
	char	   *text;
	bool		has,
				known;

	if (!cache || stat(psql, &st) != 0)
	{
		free(cache);
		return probe_restrict(psql, &known);
	}
	material = xasprintf("psql-restrict-1\n%s\n%lld %lld.%09ld %lld.%09ld %llu\n", psql, (long long) st.st_size,
						 (long long) st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
						 (long long) st.st_ctim.tv_sec, st.st_ctim.tv_nsec, (unsigned long long) st.st_ino);
	if (sha256_hex(material, strlen(material), hex) == 0)
	{
		hex[16] = '\0';
		path = xasprintf("%s/psql-%s", cache, hex);
	}
	free(material);
	text = path ? read_small_file(path, NULL) : NULL;
	if (text && (strcmp(text, "restrict=1\n") == 0 || strcmp(text, "restrict=0\n") == 0))
		has = text[9] == '1';
	else
	{
		has = probe_restrict(psql, &known);
		/* written whole, then renamed: a reader sees the old file or the new one */
		if (known && path && template_cache_mkdir(cache))
		{
			char	   *tmp = xasprintf("%s.%d", path, (int) getpid());

			if (!write_small_file(tmp, has ? "restrict=1\n" : "restrict=0\n", 11) || rename(tmp, path) != 0)
				unlink(tmp);
			free(tmp);
		}
	}
	free(text);
	free(path);
	free(cache);
	return has;
}

/* A conninfo value, single-quoted with backslash escapes. */
static void
append_conninfo(strbuf *sb, const char *key, const char *value)
{
	sb_printf(sb, "%s%s='", sb->len ? " " : "", key);
	for (const char *p = value; *p; p++)
	{
		if (*p == '\'' || *p == '\\')
			sb_append(sb, "\\");
		sb_appendn(sb, p, 1);
	}
	sb_append(sb, "'");
}

/* Is line a psql command tag ("CREATE TABLE", "INSERT 0 1", "ALTER TYPE")? */
static bool
is_command_tag(const char *line, size_t len, char *tag, size_t taglen)
{
	size_t		n = 0;
	size_t		i = 0;

	if (len == 0 || !isupper((unsigned char) line[0]))
		return false;
	for (i = 0; i < len; i++)
	{
		char		c = line[i];

		if (!(isupper((unsigned char) c) || c == ' ' || isdigit((unsigned char) c)))
			return false;
	}
	/* the tag is the words, without row counts: "INSERT 0 1" -> "INSERT" */
	for (i = 0; i < len && n + 1 < taglen; i++)
	{
		if (isdigit((unsigned char) line[i]))
			break;
		tag[n++] = line[i];
	}
	while (n > 0 && tag[n - 1] == ' ')
		n--;
	tag[n] = '\0';
	return n > 0;
}

static void
count_tags(const char *out, json_t *tags, json_t *order)
{
	const char *p = out;

	while (*p)
	{
		const char *nl = strchr(p, '\n');
		size_t		len = nl ? (size_t) (nl - p) : strlen(p);
		char		tag[64];

		if (is_command_tag(p, len, tag, sizeof(tag)))
		{
			json_t	   *c = json_object_get(tags, tag);

			if (!c)
			{
				json_object_set_new(tags, tag, json_integer(1));
				json_array_append_new(order, json_string(tag));
			}
			else
				json_integer_set(c, json_integer_value(c) + 1);
		}
		p = nl ? nl + 1 : p + len;
	}
}

/*
 * psql prints server messages from a file as
 *   psql:FILE:LINE: SEVERITY:  text
 * followed by DETAIL/HINT/CONTEXT/LINE lines, which belong to it.
 */
/* Place a message at its statement: line, psql_line, statement. */
static void
place_message(const psql_apply_spec *spec, json_t *m, int psql_line, int *first, int *stmt)
{
	int			i = psql_line > 0 ? (int) preflight_statement_at_line(spec->statements, spec->n_statements,
																	   (unsigned) psql_line) : -1;

	*first = psql_line;
	*stmt = 0;
	if (i < 0)
		return;
	*first = (int) spec->statements[i].first_line;
	*stmt = i + 1;
	json_object_set_new(m, "line", json_integer(*first));
	json_object_set_new(m, "statement", json_integer(*stmt));
	if (*first != psql_line)
		json_object_set_new(m, "psql_line", json_integer(psql_line));
}

/* "LINE n:" in a message's detail: the server's error position in the statement. */
static int
position_line(json_t *m)
{
	const char *d = json_string_value(json_object_get(m, "detail"));
	const char *p;

	for (p = d; p && (p = strstr(p, "LINE ")) != NULL; p += 5)
	{
		if ((p == d || p[-1] == '\n') && isdigit((unsigned char) p[5]))
			return atoi(p + 5);
	}
	return 0;
}

/*
 * The file line of the server's "LINE n:" in a statement starting at line
 * first: psql skips empty lines (MainLoop drops a line that is "" outside
 * quotes), so the n-th line sent is the n-th non-empty line from there.
 */
static int
file_line_of(const psql_apply_spec *spec, int first, int n)
{
	const char *p = spec->data;
	const char *end;
	int			line = 1;

	if (!spec->data)
		return first + n - 1;
	end = spec->data + spec->data_len;	/* not before: NULL + 0 is undefined */
	while (p < end && line < first)
	{
		const char *nl = memchr(p, '\n', (size_t) (end - p));

		if (!nl)
			return 0;
		p = nl + 1;
		line++;
	}
	while (p < end)
	{
		const char *nl = memchr(p, '\n', (size_t) (end - p));

		if (*p != '\n' && --n == 0)
			return line;
		if (!nl)
			break;
		p = nl + 1;
		line++;
	}
	return 0;
}

static void
parse_messages(const char *errtext, const psql_apply_spec *spec, psql_apply_result *res,
			   json_t *messages)
{
	const char *file = spec->file;
	json_t	   *error_msg = NULL;
	int			error_first = 0;
	const char *p = errtext;
	json_t	   *cur = NULL;
	size_t		flen = strlen(file);
	json_t	   *spill = json_array();

	while (*p)
	{
		const char *nl = strchr(p, '\n');
		size_t		len = nl ? (size_t) (nl - p) : strlen(p);
		char	   *line = xmalloc(len + 1);
		int			lineno = 0;
		const char *rest = NULL;

		memcpy(line, p, len);
		line[len] = '\0';
		if (strncmp(line, "psql:", 5) == 0 && strncmp(line + 5, file, flen) == 0 &&
			line[5 + flen] == ':')
		{
			lineno = atoi(line + 6 + flen);
			rest = strchr(line + 6 + flen, ':');
			rest = rest ? rest + 1 : "";
			while (*rest == ' ')
				rest++;
		}
		else if (strncmp(line, "psql:", 5) == 0)
		{
			/* a message not tied to the file (e.g. the -c before it) */
			rest = line + 5;
			if (strchr(rest, ':') && strncmp(rest, "<command string>", 16) == 0)
				rest = strchr(rest + 16, ':') + 1;
			while (*rest == ' ')
				rest++;
		}
		if (rest)
		{
			const char *sev_end = strstr(rest, ":  ");
			char		severity[32] = "MESSAGE";
			const char *text = rest;

			if (sev_end && (size_t) (sev_end - rest) < sizeof(severity))
			{
				memcpy(severity, rest, (size_t) (sev_end - rest));
				severity[sev_end - rest] = '\0';
				text = sev_end + 3;
			}
			else if (strncmp(rest, "error: ", 7) == 0)
			{
				snprintf(severity, sizeof(severity), "ERROR");
				text = rest + 7;
			}
			int			first,
						stmt;

			cur = json_pack("{s:s, s:i, s:s}", "severity", severity, "line", lineno, "message", text);
			if (json_array_size(messages) < MAX_MESSAGES ||
				strcmp(severity, "ERROR") == 0 || strcmp(severity, "FATAL") == 0)
				json_array_append_new(messages, cur);
			else
			{
				/* counted, not kept: spill holds it while its DETAIL lines attach */
				json_array_clear(spill);
				json_array_append_new(spill, cur);
				res->n_messages_omitted++;
			}
			place_message(spec, cur, lineno, &first, &stmt);
			if (strcmp(severity, "ERROR") == 0 || strcmp(severity, "FATAL") == 0)
			{
				if (!res->error_message)
				{
					res->error_message = xstrdup(text);
					res->error_line = first;
					res->error_last_line = lineno;
					res->error_statement = stmt;
					error_msg = cur;
					error_first = stmt ? first : 0;
				}
			}
			else if (strcmp(severity, "NOTICE") == 0 || strcmp(severity, "WARNING") == 0)
				res->n_notices++;
		}
		else if (cur && len > 0)
		{
			/* DETAIL:, HINT:, CONTEXT:, LINE n: and the caret belong to cur */
			json_t	   *more = json_object_get(cur, "detail");
			char	   *joined;

			if (more)
				joined = xasprintf("%s\n%s", json_string_value(more), line);
			else
				joined = xstrdup(line);
			json_object_set_new(cur, "detail", json_string(joined));
			free(joined);
		}
		free(line);
		p = nl ? nl + 1 : p + len;
	}
	/* its detail is complete now: "LINE n:" counts from the statement's start */
	if (error_msg && error_first > 0)
	{
		int			n = position_line(error_msg);

		if (n > 0 && (res->error_at_line = file_line_of(spec, error_first, n)) > 0)
		{
			json_object_set_new(error_msg, "position_line", json_integer(res->error_at_line));
		}
	}
	json_decref(spill);
}

bool
psql_apply(const psql_apply_spec *spec, psql_apply_result *res, char *err, size_t errlen)
{
	strbuf		conninfo;
	char		portstr[16];
	char	   *nopass = xasprintf("%s/no-pgpass", spec->sb->run_dir);
	char	   *home = xasprintf("HOME=%s/no-home", spec->sb->run_dir);
	char	   *sysconf = xasprintf("PGSYSCONFDIR=%s/no-sysconf", spec->sb->run_dir);
	char	   *passfile = xasprintf("PGPASSFILE=%s", nopass);
	char	   *servicefile = xasprintf("PGSERVICEFILE=%s/no-service", spec->sb->run_dir);
	const char *extra[] = {home, sysconf, passfile, servicefile, "PSQLRC=/dev/null",
	"PGCLIENTENCODING=UTF8", NULL};
	char	  **env = child_env_new(extra);
	char		restrict_cmd[64];
	const char *argv[20];
	int			n = 0;
	proc_result pr;
	char	   *out,
			   *errtext;
	json_t	   *tags = json_object();
	json_t	   *order = json_array();
	json_t	   *messages = json_array();
	size_t		out_cut,
				err_cut;

	memset(res, 0, sizeof(*res));
	snprintf(portstr, sizeof(portstr), "%d", spec->sb->port);
	sb_init(&conninfo);
	append_conninfo(&conninfo, "host", spec->sb->run_dir);
	append_conninfo(&conninfo, "port", portstr);
	append_conninfo(&conninfo, "user", spec->role);
	append_conninfo(&conninfo, "dbname", spec->dbname);
	append_conninfo(&conninfo, "sslmode", "disable");
	append_conninfo(&conninfo, "gssencmode", "disable");
	append_conninfo(&conninfo, "passfile", nopass);
	append_conninfo(&conninfo, "application_name", "drydock-apply");
	append_conninfo(&conninfo, "connect_timeout", "10");

	argv[n++] = spec->sb->pg->psql;
	argv[n++] = "-X";
	argv[n++] = "-w";
	argv[n++] = "-v";
	argv[n++] = "ON_ERROR_STOP=1";
	argv[n++] = "-P";
	argv[n++] = "pager=off";
	argv[n++] = "-d";
	argv[n++] = conninfo.data;
	if (spec->single_transaction)
		argv[n++] = "-1";
	if (spec->restrict_meta)
	{
		unsigned char key[12];
		char		hex[25];

		if (getrandom(key, sizeof(key), 0) != (ssize_t) sizeof(key))
			memset(key, 0x5a, sizeof(key));
		for (size_t i = 0; i < sizeof(key); i++)
			snprintf(hex + 2 * i, 3, "%02x", key[i]);
		snprintf(restrict_cmd, sizeof(restrict_cmd), "\\restrict %s", hex);
		argv[n++] = "-c";
		argv[n++] = restrict_cmd;
	}
	argv[n++] = "-f";
	argv[n++] = spec->file;
	argv[n] = NULL;

	if (!proc_run(&(proc_spec)
				  {
				  .argv = argv,.envp = env,.as = &spec->sb->user,.timeout_ms = spec->timeout_ms
				  }, &pr, err, errlen))
	{
		child_env_free(env);
		sb_free(&conninfo);
		free(nopass);
		free(home);
		free(sysconf);
		free(passfile);
		free(servicefile);
		json_decref(tags);
		json_decref(order);
		json_decref(messages);
		return false;
	}
	child_env_free(env);
	sb_free(&conninfo);
	free(nopass);
	free(home);
	free(sysconf);
	free(passfile);
	free(servicefile);

	out = redact_secrets(pr.out, pr.out_len, spec->secrets, spec->n_secrets);
	errtext = redact_secrets(pr.err, pr.err_len, spec->secrets, spec->n_secrets);
	if (!out || !errtext)
		dd_fatal(EXIT_INTERNAL, "out of memory");
	res->exit_code = pr.exit_code;
	res->timed_out = pr.timed_out;
	res->interrupted = pr.interrupted;
	res->ms = pr.ms;
	res->ok = pr.exit_code == 0 && !pr.timed_out && !pr.interrupted;
	count_tags(out, tags, order);
	parse_messages(errtext, spec, res, messages);
	if (!res->ok && !res->error_message)
	{
		if (pr.timed_out)
			res->error_message = xasprintf("did not finish within %d s; stopped", spec->timeout_ms / 1000);
		else if (pr.interrupted)
			res->error_message = xstrdup("interrupted");
		else
			res->error_message = xasprintf("psql exited with status %d", pr.exit_code);
	}
	res->json = json_pack("{s:s, s:i, s:b, s:b, s:b, s:f, s:o, s:o, s:o, s:i, s:o, s:o}",
						  "file", spec->display_name,
						  "exit_code", res->exit_code,
						  "ok", res->ok,
						  "timed_out", res->timed_out,
						  "interrupted", res->interrupted,
						  "duration_ms", res->ms,
						  "tags", tags,
						  "tag_order", order,
						  "messages", messages,
						  "notices", res->n_notices,
						  "stdout", kept_output(out, &out_cut),
						  "stderr", kept_output(errtext, &err_cut));
	if (out_cut)
		json_object_set_new(res->json, "stdout_truncated_bytes", json_integer((json_int_t) out_cut));
	if (err_cut)
		json_object_set_new(res->json, "stderr_truncated_bytes", json_integer((json_int_t) err_cut));
	if (res->n_messages_omitted)
		json_object_set_new(res->json, "messages_omitted", json_integer(res->n_messages_omitted));
	if (res->error_message)
	{
		json_t	   *e = json_pack("{s:i, s:s}", "line", res->error_line, "message", res->error_message);

		if (res->error_statement)
			json_object_set_new(e, "statement", json_integer(res->error_statement));
		if (res->error_last_line && res->error_last_line != res->error_line)
			json_object_set_new(e, "psql_line", json_integer(res->error_last_line));
		if (res->error_at_line)
			json_object_set_new(e, "position_line", json_integer(res->error_at_line));
		json_object_set_new(res->json, "error", e);
	}
	free(out);
	free(errtext);
	proc_result_free(&pr);
	return true;
}

void
psql_apply_result_free(psql_apply_result *res)
{
	free(res->error_message);
	json_decref(res->json);
	memset(res, 0, sizeof(*res));
}

/*
 * report.c
 *		Atomic, redacted writing of the report set.  report.json is the one
 *		source of truth; the Markdown files are rendered from it
 *		(report_render.c), so a human reading the log and a program reading the
 *		JSON see the same facts.  Order: the rendered files, then report.json
 *		(which carries their sha256 in report_files), then SHA256SUMS (every
 *		file's, report.json's included, which report.json cannot carry).  A
 *		file of the set that this run did not produce (a pgTAP script when the
 *		apply failed) is removed, so a reused --out never mixes two runs.
 */
#include "report.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "redact.h"
#include "render.h"
#include "sha256.h"
#include "util.h"

bool
report_prepare_dir(const char *dir, char *err, size_t errlen)
{
	char	   *copy = xstrdup(dir);
	struct stat st;

	for (char *p = copy + 1; *p; p++)
	{
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(copy, 0755) != 0 && errno != EEXIST)
		{
			snprintf(err, errlen, "cannot create report directory %s: %s", copy, strerror(errno));
			free(copy);
			return false;
		}
		*p = '/';
	}
	if (mkdir(copy, 0755) != 0 && errno != EEXIST)
	{
		snprintf(err, errlen, "cannot create report directory %s: %s", copy, strerror(errno));
		free(copy);
		return false;
	}
	free(copy);
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
	{
		snprintf(err, errlen, "report path %s is not a directory", dir);
		return false;
	}
	if (access(dir, W_OK | X_OK) != 0)
	{
		snprintf(err, errlen, "report directory %s is not writable: %s", dir, strerror(errno));
		return false;
	}
	return true;
}

void
report_redact(json_t *doc, char *const *secrets, size_t n)
{
	if (!doc || n == 0)
		return;
	if (json_is_string(doc))
	{
		const char *s = json_string_value(doc);
		size_t		len = json_string_length(doc);
		size_t		outlen = 0;
		char	   *r = redact_secrets_len(s, len, secrets, n, &outlen);

		if (!r)
			dd_fatal(EXIT_INTERNAL, "out of memory");
		if (outlen != len || memcmp(r, s, len) != 0)
			json_string_setn(doc, r, outlen);
		free(r);
	}
	else if (json_is_object(doc))
	{
		const char *key;
		json_t	   *value;

		json_object_foreach(doc, key, value)
			report_redact(value, secrets, n);
	}
	else if (json_is_array(doc))
	{
		size_t		i;
		json_t	   *value;

		json_array_foreach(doc, i, value)
			report_redact(value, secrets, n);
	}
}

/* json_dump_callback sink: 64 KiB blocks written to a file descriptor */
typedef struct json_sink
{
	int			fd;
	int			error;			/* errno of the first failed write, or 0 */
	size_t		len;
	char		buf[65536];
} json_sink;

static bool
sink_flush(json_sink *k)
{
	size_t		off = 0;

	while (off < k->len && !k->error)
	{
		ssize_t		w = write(k->fd, k->buf + off, k->len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			k->error = errno;
		else
			off += (size_t) w;
	}
	k->len = 0;
	return !k->error;
}

static int
sink_write(const char *buffer, size_t size, void *data)
{
	json_sink  *k = data;

	while (size > 0)
	{
		size_t		n = sizeof(k->buf) - k->len;

		if (n > size)
			n = size;
		memcpy(k->buf + k->len, buffer, n);
		k->len += n;
		buffer += n;
		size -= n;
		if (k->len == sizeof(k->buf) && !sink_flush(k))
			return -1;
	}
	return 0;
}

/*
 * A file written atomically: dir/.name.XXXXXX, filled through a sink, then
 * fsynced and renamed over dir/name, and the directory fsynced.  Until
 * atomic_commit() succeeds, atomic_close() removes the temporary file.
 */
typedef struct atomic_out
{
	char	   *tmp;
	char	   *final;
	json_sink  *k;
} atomic_out;

static bool
atomic_open(atomic_out *o, const char *dir, const char *name, char *err, size_t errlen)
{
	o->tmp = xasprintf("%s/.%s.XXXXXX", dir, name);
	o->final = xasprintf("%s/%s", dir, name);
	o->k = xmalloc(sizeof(json_sink));
	o->k->error = 0;
	o->k->len = 0;
	o->k->fd = mkstemp(o->tmp);
	if (o->k->fd < 0)
	{
		snprintf(err, errlen, "cannot create %s: %s", o->tmp, strerror(errno));
		return false;
	}
	return true;
}

static bool
atomic_commit(atomic_out *o, const char *dir, char *err, size_t errlen)
{
	int			fd = o->k->fd;

	if (!sink_flush(o->k))
	{
		snprintf(err, errlen, "cannot write %s: %s", o->final, strerror(o->k->error));
		return false;
	}
	o->k->fd = -1;				/* closed below, whatever happens */
	if (fchmod(fd, 0644) != 0 || fsync(fd) != 0 || close(fd) != 0)
	{
		snprintf(err, errlen, "cannot write %s: %s", o->final, strerror(errno));
		unlink(o->tmp);
		return false;
	}
	if (rename(o->tmp, o->final) != 0)
	{
		snprintf(err, errlen, "cannot rename %s to %s: %s", o->tmp, o->final, strerror(errno));
		unlink(o->tmp);
		return false;
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0)
	{
		fsync(fd);
		close(fd);
	}
	return true;
}

static void
atomic_close(atomic_out *o)
{
	if (o->k && o->k->fd >= 0)
	{
		close(o->k->fd);
		unlink(o->tmp);
	}
	free(o->k);
	free(o->tmp);
	free(o->final);
}

bool
report_write_file(const char *dir, const char *name, const char *data, size_t len,
				  char sha256_out[65], char *err, size_t errlen)
{
	atomic_out	o;
	bool		ok = atomic_open(&o, dir, name, err, errlen) &&
		sink_write(data, len, o.k) == 0 &&
		atomic_commit(&o, dir, err, errlen);

	if (!ok && o.k->error)
		snprintf(err, errlen, "cannot write %s: %s", o.final, strerror(o.k->error));
	atomic_close(&o);
	if (ok && sha256_out)
		sha256_hex(data, len, sha256_out);
	return ok;
}

/*
 * report_write_file for a JSON document, streamed: no serialized copy of
 * the document is ever held in memory (a large run's report.json would
 * otherwise be the driver's peak, twice over).  The checksum is read back
 * from the file.
 */
static bool
report_write_json(const char *dir, const char *name, json_t *doc, size_t flags,
				  char sha256_out[65], char *err, size_t errlen)
{
	atomic_out	o;
	bool		ok = false;

	if (!atomic_open(&o, dir, name, err, errlen))
		goto out;
	if (json_dump_callback(doc, sink_write, o.k, flags) != 0)
	{
		if (!o.k->error)
			dd_fatal(EXIT_INTERNAL, "cannot serialize the report");
		snprintf(err, errlen, "cannot write %s: %s", o.final, strerror(o.k->error));
		goto out;
	}
	if (!atomic_commit(&o, dir, err, errlen))
		goto out;
	if (sha256_out && sha256_file_hex(o.final, sha256_out, err, errlen) != 0)
		goto out;
	ok = true;
out:
	atomic_close(&o);
	return ok;
}

/* Copy pgtap_file to dir/name atomically, line by line redacted; sha256. */
static bool
report_write_pgtap_file(FILE *pgtap_file, const char *dir, const char *name, char *const *secrets, size_t n,
						char sha256_out[65], char *err, size_t errlen)
{
	atomic_out	o;
	bool		ok = false;
	char	   *line = NULL;
	size_t		cap = 0;
	ssize_t		len;

	if (!atomic_open(&o, dir, name, err, errlen))
		goto out;
	rewind(pgtap_file);
	while ((len = getline(&line, &cap, pgtap_file)) > 0 && !o.k->error)
	{
		char	   *safe = redact_secrets(line, (size_t) len, secrets, n);

		if (!safe)
			dd_fatal(EXIT_INTERNAL, "out of memory");
		sink_write(safe, strlen(safe), o.k);
		free(safe);
	}
	if (ferror(pgtap_file))
	{
		snprintf(err, errlen, "cannot write %s: %s", o.final, strerror(EIO));
		goto out;
	}
	if (!atomic_commit(&o, dir, err, errlen))
		goto out;
	if (sha256_out && sha256_file_hex(o.final, sha256_out, err, errlen) != 0)
		goto out;
	ok = true;
out:
	free(line);
	atomic_close(&o);
	return ok;
}

static bool
write_rendered(const char *dir, const char *name, char *text, json_t *files,
			   char *const *secrets, size_t n, char *err, size_t errlen)
{
	char		sha[65];
	char	   *safe;
	bool		ok;

	/* no secrets: nothing to redact, no copy of a view that runs to megabytes */
	if (n == 0)
		safe = text;
	else
	{
		safe = redact_secrets(text, strlen(text), secrets, n);
		free(text);
	}
	if (!safe)
		dd_fatal(EXIT_INTERNAL, "out of memory");
	ok = report_write_file(dir, name, safe, strlen(safe), sha, err, errlen);
	if (ok)
		json_object_set_new(files, name, json_string(sha));
	free(safe);
	return ok;
}

/*
 * A rendered view streamed to its file through the sink as it is rendered
 * (a 2,000-table run's views run to 0.4 MB each, which held whole were the
 * driver's heap peak).  With secrets to redact, the whole text is rendered
 * and redacted as before: a secret may straddle any boundary.
 */
static bool
write_streamed(const char *dir, const char *name, void (*render) (strbuf *, json_t *), json_t *doc,
			   json_t *files, char *const *secrets, size_t n, char *err, size_t errlen)
{
	atomic_out	o;
	strbuf		sb;
	char		sha[65];
	bool		ok = false;

	if (n > 0)
	{
		sb_init(&sb);
		render(&sb, doc);
		return write_rendered(dir, name, sb.data, files, secrets, n, err, errlen);
	}
	if (!atomic_open(&o, dir, name, err, errlen))
		goto out;
	sb_init(&sb);
	sb.flush = sink_write;
	sb.flush_arg = o.k;
	render(&sb, doc);
	(void) sink_write(sb.data, sb.len, o.k);
	sb_free(&sb);
	if (!atomic_commit(&o, dir, err, errlen))
		goto out;
	if (sha256_file_hex(o.final, sha, err, errlen) != 0)
		goto out;
	json_object_set_new(files, name, json_string(sha));
	ok = true;
out:
	atomic_close(&o);
	return ok;
}

/* The CI formats' files in the report directory, by format. */
static const struct
{
	unsigned	format;
	const char *file;
}			format_files[] = {
	{FORMAT_TAP, "checks.tap"},
	{FORMAT_SARIF, "drydock.sarif"},
	{FORMAT_JUNIT, "junit.xml"},
	{FORMAT_GITHUB, "github-annotations.txt"},
	{FORMAT_GITHUB, "job-summary.md"},
	{FORMAT_GITLAB, "gl-code-quality-report.json"},
};

char *
report_render_format(json_t *doc, unsigned format)
{
	json_t	   *j = NULL;
	char	   *s;

	switch (format)
	{
		case FORMAT_TAP:
			/* the report says what it is: a replay's TAP has a test per migration */
			return json_object_get(doc, "replay") ? report_render_replay_tap(doc) : report_render_tap(doc);
		case FORMAT_JUNIT:
			return report_render_junit(doc);
		case FORMAT_GITHUB:
			return report_render_github(doc);
		case FORMAT_SARIF:
			j = report_render_sarif(doc);
			break;
		case FORMAT_GITLAB:
			j = report_render_gitlab(doc);
			break;
		default:
			return xstrdup("");
	}
	s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(j);
	if (!s)
		dd_fatal(EXIT_INTERNAL, "cannot serialize a report format");
	/* json_dumps' buffer is jansson's; hand back one of ours, newline-ended */
	{
		char	   *out = xasprintf("%s\n", s);

		free(s);
		return out;
	}
}

/*
 * The job summary of --format github also goes where a GitHub Actions step
 * collects it ($GITHUB_STEP_SUMMARY, appended to as GitHub expects).  A
 * failure there is said, not fatal: the report directory has the same file.
 */
static void
append_step_summary(const char *text)
{
	const char *path = getenv("GITHUB_STEP_SUMMARY");
	int			fd;
	size_t		off = 0,
				len = strlen(text);

	if (!path || !*path)
		return;
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
	{
		dd_error("cannot append the job summary to $GITHUB_STEP_SUMMARY (%s): %s", path, strerror(errno));
		return;
	}
	while (off < len)
	{
		ssize_t		w = write(fd, text + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
		{
			dd_error("cannot append the job summary to $GITHUB_STEP_SUMMARY (%s): %s", path, strerror(errno));
			break;
		}
		off += (size_t) w;
	}
	close(fd);
}

/* The formats of options.format, each a file of the set (redacted, atomic). */
static bool
write_formats(const char *dir, json_t *doc, json_t *files, char *const *secrets, size_t n,
			  char *err, size_t errlen)
{
	unsigned	formats = report_doc_formats(doc);
	bool		ok = true;
	char		sha[65];

	if (formats & FORMAT_TAP)
		ok = write_rendered(dir, "checks.tap", json_object_get(doc, "replay") ? report_render_replay_tap(doc) : report_render_tap(doc),
							files, secrets, n, err, errlen) && ok;
	if (formats & FORMAT_JUNIT)
		ok = write_rendered(dir, "junit.xml", report_render_junit(doc), files, secrets, n, err, errlen) && ok;
	if (formats & FORMAT_GITHUB)
	{
		char	   *md = report_render_github_summary(doc);

		/* doc is redacted already: what is rendered from it is too */
		append_step_summary(md);
		ok = write_rendered(dir, "github-annotations.txt", report_render_github(doc), files, secrets, n,
							err, errlen) && ok;
		ok = write_rendered(dir, "job-summary.md", md, files, secrets, n, err, errlen) && ok;
	}
	/* the JSON formats are streamed to their file, as report.json is */
	for (int k = 0; k < 2; k++)
	{
		unsigned	f = k == 0 ? FORMAT_SARIF : FORMAT_GITLAB;
		const char *name = k == 0 ? "drydock.sarif" : "gl-code-quality-report.json";
		json_t	   *j;

		if (!(formats & f))
			continue;
		j = f == FORMAT_SARIF ? report_render_sarif(doc) : report_render_gitlab(doc);
		if (report_write_json(dir, name, j, JSON_INDENT(2) | JSON_PRESERVE_ORDER, sha, err, errlen))
			json_object_set_new(files, name, json_string(sha));
		else
			ok = false;
		json_decref(j);
	}
	return ok;
}

bool
report_write_all(const char *dir, json_t *doc, char *const *secrets, size_t n,
				 FILE *pgtap_spool, char *err, size_t errlen)
{
	json_t	   *files = json_object();
	bool		ok = true;
	char		sha[65];

	report_redact(doc, secrets, n);

	/* rendered views first, so report.json can carry their checksums */
	ok = write_streamed(dir, "execution-log.md", report_render_execution_log_sb, doc, files,
						secrets, n, err, errlen) && ok;
	ok = write_streamed(dir, "verification-result.md", report_render_verification_sb, doc, files,
						secrets, n, err, errlen) && ok;
	if (json_object_get(doc, "replay"))
		ok = write_rendered(dir, "replay-log.md", report_render_replay(doc), files,
							secrets, n, err, errlen) && ok;
	{
		json_t	   *pgtap = json_object_get(doc, "pgtap_script");

		/*
		 * Written from the document itself, which report_redact() has just
		 * redacted: no copies of a script that runs to megabytes.
		 */
		if (pgtap_spool && !json_is_string(pgtap))
		{
			if (report_write_pgtap_file(pgtap_spool, dir, "schema-assertions.pgtap.sql", secrets, n, sha,
										err, errlen))
				json_object_set_new(files, "schema-assertions.pgtap.sql", json_string(sha));
			else
				ok = false;
		}
		else if (json_is_string(pgtap))
		{
			if (report_write_file(dir, "schema-assertions.pgtap.sql", json_string_value(pgtap),
								  json_string_length(pgtap), sha, err, errlen))
				json_object_set_new(files, "schema-assertions.pgtap.sql", json_string(sha));
			else
				ok = false;
		}
	}
	ok = write_formats(dir, doc, files, secrets, n, err, errlen) && ok;
	/* a file of the set this run did not write must not survive from an earlier run */
	{
		const char *optional[] = {"replay-log.md", "schema-assertions.pgtap.sql", NULL};

		for (int i = 0; optional[i]; i++)
			if (!json_object_get(files, optional[i]))
			{
				char	   *stale = xasprintf("%s/%s", dir, optional[i]);

				unlink(stale);
				free(stale);
			}
		for (size_t i = 0; i < sizeof(format_files) / sizeof(format_files[0]); i++)
			if (!json_object_get(files, format_files[i].file))
			{
				char	   *stale = xasprintf("%s/%s", dir, format_files[i].file);

				unlink(stale);
				free(stale);
			}
	}
	json_object_set_new(doc, "report_files", files);
	if (report_write_json(dir, "report.json", doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER, sha,
						  err, errlen))
	{
		/*
		 * report.json cannot hold its own checksum: SHA256SUMS, written last,
		 * has every file's (sha256sum -c SHA256SUMS, in the directory).
		 */
		strbuf		sums;
		const char *name;
		json_t	   *v;

		sb_init(&sums);
		json_object_foreach(files, name, v)
			sb_printf(&sums, "%s  %s\n", json_string_value(v), name);
		sb_printf(&sums, "%s  %s\n", sha, "report.json");
		ok = report_write_file(dir, "SHA256SUMS", sums.data, sums.len, NULL, err, errlen) && ok;
		sb_free(&sums);
	}
	else
		ok = false;
	return ok;
}

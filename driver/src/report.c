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

bool
report_write_file(const char *dir, const char *name, const char *data, size_t len,
				  char sha256_out[65], char *err, size_t errlen)
{
	char	   *tmp = xasprintf("%s/.%s.XXXXXX", dir, name);
	char	   *final = xasprintf("%s/%s", dir, name);
	int			fd = mkstemp(tmp);
	size_t		off = 0;
	bool		ok = false;

	if (fd < 0)
	{
		snprintf(err, errlen, "cannot create %s: %s", tmp, strerror(errno));
		goto out;
	}
	while (off < len)
	{
		ssize_t		w = write(fd, data + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
		{
			snprintf(err, errlen, "cannot write %s: %s", final, strerror(errno));
			close(fd);
			unlink(tmp);
			goto out;
		}
		off += (size_t) w;
	}
	if (fchmod(fd, 0644) != 0 || fsync(fd) != 0 || close(fd) != 0)
	{
		snprintf(err, errlen, "cannot write %s: %s", final, strerror(errno));
		unlink(tmp);
		goto out;
	}
	if (rename(tmp, final) != 0)
	{
		snprintf(err, errlen, "cannot rename %s to %s: %s", tmp, final, strerror(errno));
		unlink(tmp);
		goto out;
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0)
	{
		fsync(fd);
		close(fd);
	}
	if (sha256_out)
		sha256_hex(data, len, sha256_out);
	ok = true;
out:
	free(tmp);
	free(final);
	return ok;
}

static bool
write_rendered(const char *dir, const char *name, char *text, json_t *files,
			   char *const *secrets, size_t n, char *err, size_t errlen)
{
	char		sha[65];
	char	   *safe = redact_secrets(text, strlen(text), secrets, n);
	bool		ok;

	free(text);
	if (!safe)
		dd_fatal(EXIT_INTERNAL, "out of memory");
	ok = report_write_file(dir, name, safe, strlen(safe), sha, err, errlen);
	if (ok)
		json_object_set_new(files, name, json_string(sha));
	free(safe);
	return ok;
}

bool
report_write_all(const char *dir, json_t *doc, char *const *secrets, size_t n,
				 char *err, size_t errlen)
{
	json_t	   *files = json_object();
	char	   *text;
	bool		ok = true;
	char		sha[65];

	report_redact(doc, secrets, n);

	/* rendered views first, so report.json can carry their checksums */
	ok = write_rendered(dir, "execution-log.md", report_render_execution_log(doc), files,
						secrets, n, err, errlen) && ok;
	ok = write_rendered(dir, "verification-result.md", report_render_verification(doc), files,
						secrets, n, err, errlen) && ok;
	if (json_object_get(doc, "replay"))
		ok = write_rendered(dir, "replay-log.md", report_render_replay(doc), files,
							secrets, n, err, errlen) && ok;
	{
		json_t	   *pgtap = json_object_get(doc, "pgtap_script");

		if (json_is_string(pgtap))
			ok = write_rendered(dir, "schema-assertions.pgtap.sql", xstrdup(json_string_value(pgtap)),
								files, secrets, n, err, errlen) && ok;
	}
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
	}
	json_object_set_new(doc, "report_files", files);
	text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (!text)
		dd_fatal(EXIT_INTERNAL, "cannot serialize the report");
	if (report_write_file(dir, "report.json", text, strlen(text), sha, err, errlen))
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
	free(text);
	return ok;
}

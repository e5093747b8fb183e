/*
 * template.c
 *		A cache of never-started clusters, so a sandbox costs a copy instead
 *		of an initdb (about 1 s here, most of a small dry-run).
 *
 * Key: a hash of everything that makes initdb's output differ: the server
 * binary (path, version, size, mtime, inode), encoding, locale, admin role,
 * the cluster user and the template format.  A new PostgreSQL minor release
 * therefore gets a new template.  The template is built in a temporary
 * directory and renamed into place, under an exclusive flock; clones hold a
 * shared flock, so a rebuild never removes a template under a copy.  A
 * template whose info file, PG_VERSION or pg_control do not agree with each
 * other, or that has a postmaster.pid (someone started it), is rebuilt.
 *
 * A clone shares the template's system identifier; the report says so.
 */
#include "template.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proc.h"
#include "sha256.h"
#include "signals.h"
#include "util.h"

#define TEMPLATE_FORMAT "drydock-template-1"

char *
template_cache_dir(void)
{
	const char *xdg = getenv("XDG_CACHE_HOME");
	const char *home = getenv("HOME");

	if (xdg && xdg[0] == '/')
		return xasprintf("%s/drydock", xdg);
	if (geteuid() == 0)
		return xstrdup("/var/cache/drydock");
	if (home && home[0] == '/')
		return xasprintf("%s/.cache/drydock", home);
	return NULL;
}

static bool
mkdir_p(const char *dir, mode_t mode)
{
	char	   *copy = xstrdup(dir);
	bool		ok = true;

	for (char *p = copy + 1; *p && ok; p++)
	{
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(copy, 0755) != 0 && errno != EEXIST)
			ok = false;
		*p = '/';
	}
	if (ok && mkdir(copy, mode) != 0 && errno != EEXIST)
		ok = false;
	free(copy);
	return ok;
}

static char *
template_key(const cluster_spec *cs)
{
	struct stat st;
	char	   *material;
	char		hex[65];

	memset(&st, 0, sizeof(st));
	stat(cs->pg->postgres, &st);
	material = xasprintf(TEMPLATE_FORMAT "\n%s\n%s\n%lld %lld %llu\nUTF8\n%s\n" SANDBOX_ADMIN_ROLE "\n%d\n",
						 cs->pg->bindir, cs->pg->version, (long long) st.st_size,
						 (long long) st.st_mtime, (unsigned long long) st.st_ino,
						 cs->locale, (int) cs->user->uid);
	sha256_hex(material, strlen(material), hex);
	free(material);
	hex[16] = '\0';
	return xasprintf("tpl-%d-%s", cs->pg->major, hex);
}

/* Value of "key=" in an info file's text, or NULL. */
static char *
info_value(const char *info, const char *key)
{
	size_t		klen = strlen(key);

	for (const char *p = info; p && *p;)
	{
		const char *nl = strchr(p, '\n');

		if (strncmp(p, key, klen) == 0 && p[klen] == '=')
		{
			size_t		n = nl ? (size_t) (nl - p - klen - 1) : strlen(p + klen + 1);
			char	   *v = xmalloc(n + 1);

			memcpy(v, p + klen + 1, n);
			v[n] = '\0';
			return v;
		}
		p = nl ? nl + 1 : NULL;
	}
	return NULL;
}

static bool
template_valid(const char *tpl, const char *key, int major, char created_at[32])
{
	char	   *path = xasprintf("%s/template.info", tpl);
	char	   *info = read_small_file(path, NULL);
	char	   *k = NULL,
			   *sysid = NULL,
			   *created = NULL,
			   *pgv = NULL;
	uint64_t	real_sysid;
	char		real[32];
	char	   *data = xasprintf("%s/data", tpl);
	char	   *pidfile = xasprintf("%s/data/postmaster.pid", tpl);
	char	   *verfile = xasprintf("%s/data/PG_VERSION", tpl);
	bool		ok = false;

	free(path);
	if (!info)
		goto out;
	k = info_value(info, "key");
	sysid = info_value(info, "system_identifier");
	created = info_value(info, "created_at");
	pgv = read_small_file(verfile, NULL);
	if (!k || !sysid || !created || !pgv || strcmp(k, key) != 0 || atoi(pgv) != major)
		goto out;
	if (!cluster_read_system_identifier(data, &real_sysid))
		goto out;
	snprintf(real, sizeof(real), "%llu", (unsigned long long) real_sysid);
	if (strcmp(real, sysid) != 0 || access(pidfile, F_OK) == 0)
		goto out;
	snprintf(created_at, 32, "%s", created);
	ok = true;
out:
	free(info);
	free(k);
	free(sysid);
	free(created);
	free(pgv);
	free(data);
	free(pidfile);
	free(verfile);
	return ok;
}

/* Build the template in a temporary directory and rename it into place. */
static int
template_build(const cluster_spec *cs, const char *cache, const char *tpl, const char *key,
			   template_clone_result *out, char *err, size_t errlen)
{
	char	   *build = xasprintf("%s/.build-XXXXXX", cache);
	char	   *data;
	char	   *info_path;
	char	   *info;
	char		when[32];
	uint64_t	sysid;
	int			rc;

	if (!mkdtemp(build))
	{
		snprintf(err, errlen, "cannot create %s: %s", build, strerror(errno));
		free(build);
		return -1;
	}
	if (cs->user->switch_user && chown(build, cs->user->uid, cs->user->gid) != 0)
	{
		remove_tree(build);
		free(build);
		return -1;
	}
	data = xasprintf("%s/data", build);
	rc = cluster_initdb(cs, data, &out->initdb, err, errlen);
	if (rc != 0 || !cluster_write_hba(cs, data) || !cluster_read_system_identifier(data, &sysid))
	{
		remove_tree(build);
		free(build);
		free(data);
		return rc ? rc : -1;
	}
	utc_now_iso(when, sizeof(when));
	info_path = xasprintf("%s/template.info", build);
	info = xasprintf("key=%s\ncreated_at=%s\nsystem_identifier=%llu\nserver_version=%s\nlocale=%s\n",
					 key, when, (unsigned long long) sysid, cs->pg->version, cs->locale);
	if (!write_small_file(info_path, info, strlen(info)) || rename(build, tpl) != 0)
	{
		snprintf(err, errlen, "cannot install the template %s: %s", tpl, strerror(errno));
		remove_tree(build);
		rc = -1;
	}
	else
		out->built_now = true;
	free(info_path);
	free(info);
	free(build);
	free(data);
	return rc;
}

static int
copy_tree(const char *src, const char *dst, double *ms, char *err, size_t errlen)
{
	/* cp -a keeps modes and owners; reflinks where the filesystem can */
	const char *argv[] = {"/bin/cp", "-a", "--reflink=auto", src, dst, NULL};
	char	  **env = child_env_new(NULL);
	proc_result res;
	bool		started = proc_run(&(proc_spec)
								   {
								   .argv = argv,.envp = env,.timeout_ms = 120000
								   }, &res, err, errlen);

	child_env_free(env);
	if (!started)
		return -1;
	*ms = res.ms;
	if (res.interrupted && dd_got_signal)
	{
		proc_result_free(&res);
		return signals_pending_code(err, errlen);
	}
	if (res.exit_code != 0)
	{
		snprintf(err, errlen, "copying the template failed: %s", res.err);
		proc_result_free(&res);
		return -1;
	}
	proc_result_free(&res);
	return 0;
}

int
template_clone(const cluster_spec *cs, const char *data_dir, template_clone_result *res,
			   char *err, size_t errlen)
{
	char	   *cache = template_cache_dir();
	char	   *key = NULL;
	char	   *tpl = NULL;
	char	   *lockpath = NULL;
	char	   *src = NULL;
	int			lockfd = -1;
	int			rc = 0;
	char		created[32] = "";

	memset(res, 0, sizeof(*res));
	if (!cache || !mkdir_p(cache, geteuid() == 0 ? 0755 : 0700))
		goto fallback;
	key = template_key(cs);
	tpl = xasprintf("%s/%s", cache, key);
	lockpath = xasprintf("%s/%s.lock", cache, key);
	lockfd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (lockfd < 0)
		goto fallback;
	while (flock(lockfd, LOCK_SH) != 0)
	{
		if (errno != EINTR)
			goto fallback;
		if ((rc = signals_pending_code(err, errlen)) != 0)
			goto out;
	}
	if (!template_valid(tpl, key, cs->pg->major, created))
	{
		/* exclusive while (re)building; others wait, then find it valid */
		while (flock(lockfd, LOCK_EX) != 0)
		{
			if (errno != EINTR)
				goto fallback;
			if ((rc = signals_pending_code(err, errlen)) != 0)
				goto out;
		}
		if (!template_valid(tpl, key, cs->pg->major, created))
		{
			struct stat st;

			if (lstat(tpl, &st) == 0)
				remove_tree(tpl);	/* stale or corrupt */
			rc = template_build(cs, cache, tpl, key, res, err, errlen);
			if (rc > 0)
				goto out;
			if (rc < 0 || !template_valid(tpl, key, cs->pg->major, created))
			{
				rc = 0;
				goto fallback;
			}
		}
		flock(lockfd, LOCK_SH);
	}
	src = xasprintf("%s/data", tpl);
	if ((rc = copy_tree(src, data_dir, &res->ms_clone, err, errlen)) != 0)
	{
		remove_tree(data_dir);
		if (rc > 0)
			goto out;			/* interrupted */
		rc = 0;
		goto fallback;
	}
	res->cloned = true;
	res->template_path = xstrdup(tpl);
	snprintf(res->created_at, sizeof(res->created_at), "%s", created);
	goto out;

fallback:
	res->cloned = false;
	err[0] = '\0';
out:
	if (lockfd >= 0)
		close(lockfd);
	free(cache);
	free(key);
	free(tpl);
	free(lockpath);
	free(src);
	return rc;
}

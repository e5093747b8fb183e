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
 * The cache is bounded: TEMPLATE_CACHE_MAX templates, the least recently
 * used out (an entry's mtime is its last use); an entry's lock file goes
 * with it (lock_take() explains how that stays safe).
 *
 * The same mechanism (key file, flock, build in a temporary directory then
 * rename, validity checks, copy_tree()) also keeps other cached
 * clusters: cache_entry_clone() and cache_entry_store() below, used for the
 * base cache (a cluster with a restored --base, stopped cleanly; see
 * sandbox_base_cache_store()).  Such an entry must have been shut down
 * cleanly: pg_control must say so, or the entry is rebuilt.
 */
#include "template.h"

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "proc.h"
#include "sha256.h"
#include "signals.h"
#include "util.h"

#define TEMPLATE_FORMAT "drydock-template-1"
/* templates kept (every installation and locale has its own), least recently used out */
#define TEMPLATE_CACHE_MAX 8

static void cache_prune(const char *cache, const char *prefix, int max);

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

bool
template_cache_mkdir(const char *cache)
{
	return mkdir_p(cache, 0755, geteuid() == 0 ? 0755 : 0700);
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

/* pg_control's DBState is DB_SHUTDOWNED (1): the cluster was stopped cleanly. */
static bool
control_says_shut_down(const char *data_dir)
{
	/* uint64 system_identifier, uint32 pg_control_version, uint32 catalog_version_no, DBState */
	char	   *path = xasprintf("%s/global/pg_control", data_dir);
	int			fd = open(path, O_RDONLY | O_CLOEXEC);
	unsigned char buf[20];
	int32_t		state;
	bool		ok;

	free(path);
	if (fd < 0)
		return false;
	ok = read(fd, buf, sizeof(buf)) == (ssize_t) sizeof(buf);
	close(fd);
	if (!ok)
		return false;
	memcpy(&state, buf + 16, sizeof(state));
	return state == 1;
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
	if (strcmp(real, sysid) != 0 || access(pidfile, F_OK) == 0 || !control_says_shut_down(data))
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
		snprintf(err, errlen, "cannot give %s to the cluster user: %s", build, strerror(errno));
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

/* Copy a template's data directory into a run's: 0, -1 with err, or a signal's exit code. */
static int
clone_data_dir(const char *src, const char *dst, double *ms, char *err, size_t errlen)
{
	double		t0 = now_ms();
	bool		ok = copy_tree(src, dst, err, errlen);

	*ms = now_ms() - t0;
	if (dd_got_signal)
		return signals_pending_code(err, errlen);
	if (!ok)
	{
		char		why[1024];

		snprintf(why, sizeof(why), "%s", err);
		snprintf(err, errlen, "copying the template failed: %s", why);
		return -1;
	}
	return 0;
}

/* Take flock op on fd, retrying on EINTR; 0, -1 (cannot) or an exit code (signal). */
static int
lock_wait(int fd, int op, char *err, size_t errlen)
{
	while (flock(fd, op) != 0)
	{
		int			rc;

		if (errno != EINTR)
			return -1;
		if ((rc = signals_pending_code(err, errlen)) != 0)
			return rc;
	}
	return 0;
}

/* Does fd still hold the file named lockpath (not one unlinked meanwhile)? */
static bool
lock_is_current(int fd, const char *lockpath)
{
	struct stat held,
				named;

	return fstat(fd, &held) == 0 && stat(lockpath, &named) == 0 &&
		held.st_dev == named.st_dev && held.st_ino == named.st_ino;
}

/*
 * Open lockpath (created if missing) and take flock op on it: 0 with *fd,
 * -1 (cannot) or an exit code (signal).  Whoever removes an entry unlinks
 * its lock file while holding it exclusively, so that lock files do not
 * outlive their entries; a process that was waiting on the unlinked file
 * then finds it is no longer the one named lockpath and starts over.
 */
static int
lock_take(const char *lockpath, int op, int *fd, char *err, size_t errlen)
{
	for (;;)
	{
		int			rc;

		if ((*fd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) < 0)
			return -1;
		if ((rc = lock_wait(*fd, op, err, errlen)) != 0)
		{
			close(*fd);
			*fd = -1;
			return rc;
		}
		if (lock_is_current(*fd, lockpath))
			return 0;
		close(*fd);
	}
}

/*
 * fd holds lockpath (shared or not): if entry does not exist, unlink the lock
 * file as an entry's removal does -- exclusively, only if it is still the
 * file named so, and if no entry came meanwhile (lock_take() explains why
 * that is safe).  A miss whose entry is never stored (a base that fails to
 * restore, a template that fails to build) then leaves nothing behind.
 */
static void
lock_drop_if_orphan(int fd, const char *lockpath, const char *entry)
{
	struct stat st;

	if (lstat(entry, &st) != 0 && flock(fd, LOCK_EX | LOCK_NB) == 0 &&
		lock_is_current(fd, lockpath) && lstat(entry, &st) != 0)
		(void) unlink(lockpath);
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
	bool		built = false;

	memset(res, 0, sizeof(*res));
	if (!cache || !template_cache_mkdir(cache))
		goto fallback;
	key = template_key(cs);
	tpl = xasprintf("%s/%s", cache, key);
	lockpath = xasprintf("%s/%s.lock", cache, key);
relock:
	if ((rc = lock_take(lockpath, LOCK_SH, &lockfd, err, errlen)) != 0)
	{
		if (rc > 0)
			goto out;
		rc = 0;
		goto fallback;
	}
	if (!template_valid(tpl, key, cs->pg->major, created))
	{
		/* exclusive while (re)building; others wait, then find it valid */
		if ((rc = lock_wait(lockfd, LOCK_EX, err, errlen)) != 0)
		{
			if (rc > 0)
				goto out;
			rc = 0;
			goto fallback;
		}
		/* the upgrade let go for a moment: gc may have removed it all */
		if (!lock_is_current(lockfd, lockpath))
		{
			close(lockfd);
			lockfd = -1;
			goto relock;
		}
		if (!template_valid(tpl, key, cs->pg->major, created))
		{
			struct stat st;

			if (lstat(tpl, &st) == 0)
				remove_tree(tpl);	/* stale or corrupt */
			rc = template_build(cs, cache, tpl, key, res, err, errlen);
			if (rc > 0)
				goto out;
			built = rc == 0;
			if (rc < 0 || !template_valid(tpl, key, cs->pg->major, created))
			{
				rc = 0;
				goto fallback;
			}
		}
		flock(lockfd, LOCK_SH);
	}
	src = xasprintf("%s/data", tpl);
	if ((rc = clone_data_dir(src, data_dir, &res->ms_clone, err, errlen)) != 0)
	{
		remove_tree(data_dir);
		if (rc > 0)
			goto out;			/* interrupted */
		rc = 0;
		goto fallback;
	}
	res->cloned = true;
	res->template_path = xstrdup(tpl);
	/* its mtime is its last use: the bound removes the least recently used */
	(void) utimes(tpl, NULL);
	snprintf(res->created_at, sizeof(res->created_at), "%s", created);
	goto out;

fallback:
	res->cloned = false;
	err[0] = '\0';
out:
	if (lockfd >= 0)
	{
		if (!res->cloned && tpl)
			lock_drop_if_orphan(lockfd, lockpath, tpl);
		close(lockfd);
	}
	/* one template per installation and locale: old installations' go, oldest first */
	if (built)
		cache_prune(cache, "tpl-", TEMPLATE_CACHE_MAX);
	free(cache);
	free(key);
	free(tpl);
	free(lockpath);
	free(src);
	return rc;
}

/* ---------- other cached clusters (the base cache) ---------- */


char *
cache_key_material(const cluster_spec *cs)
{
	char	   *k = template_key(cs);
	char	   *m = xasprintf("%s\n", k);

	free(k);
	return m;
}

/* Read "extra" of an entry (NULL if absent). */
static char *
entry_extra(const char *entry, const char *extra_name)
{
	char	   *path;
	char	   *text;

	if (!extra_name)
		return NULL;
	path = xasprintf("%s/%s", entry, extra_name);
	text = read_small_file(path, NULL);
	free(path);
	return text;
}

int
cache_entry_clone(const char *key, int major, const char *extra_name, const char *data_dir,
				  cache_hit *hit, char *err, size_t errlen)
{
	char	   *cache = template_cache_dir();
	char	   *entry = NULL;
	char	   *lockpath = NULL;
	char	   *src = NULL;
	int			lockfd = -1;
	int			rc = 0;

	memset(hit, 0, sizeof(*hit));
	if (!cache || !template_cache_mkdir(cache))
		goto out;
	entry = xasprintf("%s/%s", cache, key);
	lockpath = xasprintf("%s/%s.lock", cache, key);
	/* shared: a rebuild or gc (exclusive) never removes it under the copy */
	if ((rc = lock_take(lockpath, LOCK_SH, &lockfd, err, errlen)) != 0)
	{
		rc = rc < 0 ? 0 : rc;
		goto out;
	}
	if (!template_valid(entry, key, major, hit->created_at))
		goto out;				/* missing, stale or corrupt: the caller rebuilds */
	hit->extra = entry_extra(entry, extra_name);
	if (extra_name && !hit->extra)
		goto out;
	src = xasprintf("%s/data", entry);
	if ((rc = clone_data_dir(src, data_dir, &hit->ms_clone, err, errlen)) != 0)
	{
		remove_tree(data_dir);
		free(hit->extra);
		hit->extra = NULL;
		rc = rc > 0 ? rc : 0;	/* >0: interrupted */
		goto out;
	}
	hit->hit = true;
	hit->path = xstrdup(entry);
	/* its mtime is its last use: the bound removes the least recently used */
	(void) utimes(entry, NULL);
out:
	if (!hit->hit && rc == 0)
		err[0] = '\0';
	if (lockfd >= 0)
	{
		/* a miss: cache_entry_store makes the lock file anew if it stores */
		if (!hit->hit && entry)
			lock_drop_if_orphan(lockfd, lockpath, entry);
		close(lockfd);
	}
	free(cache);
	free(entry);
	free(lockpath);
	free(src);
	return rc;
}

/* Entries named prefix*, least recently used (mtime) out until at most max remain (busy ones are skipped). */
static void
cache_prune(const char *cache, const char *prefix, int max)
{
	DIR		   *d = opendir(cache);
	struct dirent *de;
	char	  **names = NULL;
	time_t	   *mtimes = NULL;
	int			n = 0;

	if (!d)
		return;
	while ((de = readdir(d)))
	{
		char	   *path;
		struct stat st;
		size_t		len = strlen(de->d_name);

		if (strncmp(de->d_name, prefix, strlen(prefix)) != 0 || (len > 5 && strcmp(de->d_name + len - 5, ".lock") == 0))
			continue;
		path = xasprintf("%s/%s", cache, de->d_name);
		if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
		{
			names = xrealloc(names, sizeof(char *) * (n + 1));
			mtimes = xrealloc(mtimes, sizeof(time_t) * (n + 1));
			names[n] = xstrdup(de->d_name);
			mtimes[n] = st.st_mtime;
			n++;
		}
		free(path);
	}
	closedir(d);
	while (n > max)
	{
		int			oldest = 0;
		char	   *lockpath;
		int			fd;

		for (int i = 1; i < n; i++)
			if (mtimes[i] < mtimes[oldest])
				oldest = i;
		lockpath = xasprintf("%s/%s.lock", cache, names[oldest]);
		fd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
		if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0 && lock_is_current(fd, lockpath))
		{
			char	   *path = xasprintf("%s/%s", cache, names[oldest]);

			if (remove_tree(path))
				unlink(lockpath);	/* under the lock: see lock_take() */
			free(path);
		}
		if (fd >= 0)
			close(fd);
		free(lockpath);
		free(names[oldest]);
		names[oldest] = names[n - 1];
		mtimes[oldest] = mtimes[n - 1];
		n--;
	}
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(mtimes);
}

int
cache_entry_store(const char *key, int major, const char *src_data, const char *extra_name,
				  const char *extra, const char *prefix, int max_entries, bool *stored,
				  double *ms, char *err, size_t errlen)
{
	char	   *cache = template_cache_dir();
	char	   *entry = NULL;
	char	   *lockpath = NULL;
	char	   *build = NULL;
	char	   *data = NULL;
	int			lockfd = -1;
	int			rc = -1;
	char		created[32];
	uint64_t	sysid;

	*stored = false;
	*ms = 0;
	if (!cache || !template_cache_mkdir(cache))
	{
		snprintf(err, errlen, "no cache directory");
		goto out;
	}
	entry = xasprintf("%s/%s", cache, key);
	lockpath = xasprintf("%s/%s.lock", cache, key);
	/* exclusive: a concurrent run building the same entry waits, then finds it made */
	if ((rc = lock_take(lockpath, LOCK_EX, &lockfd, err, errlen)) != 0)
	{
		if (rc < 0)
			snprintf(err, errlen, "cannot lock %s: %s", lockpath, strerror(errno));
		goto out;
	}
	rc = 0;
	if (template_valid(entry, key, major, created))
		goto out;				/* another run stored it meanwhile */
	{
		struct stat st;

		if (lstat(entry, &st) == 0)
			remove_tree(entry); /* stale or corrupt */
	}
	build = xasprintf("%s/.build-XXXXXX", cache);
	if (!mkdtemp(build))
	{
		snprintf(err, errlen, "cannot create %s: %s", build, strerror(errno));
		free(build);
		build = NULL;
		rc = -1;
		goto out;
	}
	data = xasprintf("%s/data", build);
	if ((rc = clone_data_dir(src_data, data, ms, err, errlen)) != 0 ||
		!cluster_read_system_identifier(data, &sysid))
	{
		remove_tree(build);
		rc = rc ? rc : -1;
		goto out;
	}
	{
		char	   *info_path = xasprintf("%s/template.info", build);
		char	   *info;
		char	   *extra_path = extra_name ? xasprintf("%s/%s", build, extra_name) : NULL;
		bool		ok;

		utc_now_iso(created, sizeof(created));
		info = xasprintf("key=%s\ncreated_at=%s\nsystem_identifier=%llu\n",
						 key, created, (unsigned long long) sysid);
		ok = write_small_file(info_path, info, strlen(info)) &&
			(!extra_path || write_small_file(extra_path, extra, strlen(extra))) &&
			rename(build, entry) == 0;
		if (!ok)
		{
			snprintf(err, errlen, "cannot install the cache entry %s: %s", entry, strerror(errno));
			remove_tree(build);
			rc = -1;
		}
		else
			*stored = true;
		free(info_path);
		free(info);
		free(extra_path);
	}
out:
	if (lockfd >= 0)
		close(lockfd);
	if (*stored && prefix && max_entries > 0)
		cache_prune(cache, prefix, max_entries);
	free(cache);
	free(entry);
	free(lockpath);
	free(build);
	free(data);
	return rc;
}

/*
 * Lock files whose entry is gone (earlier versions' pruning kept them; a
 * crash between removing an entry and its lock file does too): removed
 * when nobody holds them.
 */
static void
remove_orphan_locks(const char *cache)
{
	DIR		   *d = opendir(cache);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d)))
	{
		size_t		len = strlen(de->d_name);
		char	   *lockpath;
		char	   *entry;
		struct stat st;
		int			fd;

		if (len <= 5 || strcmp(de->d_name + len - 5, ".lock") != 0 ||
			(strncmp(de->d_name, "tpl-", 4) != 0 && strncmp(de->d_name, "base-", 5) != 0))
			continue;
		lockpath = xasprintf("%s/%s", cache, de->d_name);
		entry = xasprintf("%s/%.*s", cache, (int) (len - 5), de->d_name);
		if (lstat(entry, &st) != 0 && (fd = open(lockpath, O_RDWR | O_CLOEXEC)) >= 0)
		{
			lock_drop_if_orphan(fd, lockpath, entry);
			close(fd);
		}
		free(lockpath);
		free(entry);
	}
	closedir(d);
}

bool
cache_entry_wanted_before(const char *key)
{
	char	   *cache = template_cache_dir();
	char	   *marker;
	int			fd;
	bool		before;

	if (!cache || !template_cache_mkdir(cache))
	{
		free(cache);
		return false;
	}
	marker = xasprintf("%s/%s.wanted", cache, key);
	fd = open(marker, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	before = fd < 0 && errno == EEXIST;
	if (fd >= 0)
		close(fd);
	free(marker);
	free(cache);
	return before;
}

int
cache_empty(bool dry_run, bool quiet, int *removed)
{
	char	   *cache = template_cache_dir();
	DIR		   *d;
	struct dirent *de;
	int			failures = 0;

	*removed = 0;
	if (!cache || !(d = opendir(cache)))
	{
		free(cache);
		return 0;
	}
	while ((de = readdir(d)))
	{
		char	   *path;
		size_t		len = strlen(de->d_name);
		struct stat st;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
			(len > 5 && strcmp(de->d_name + len - 5, ".lock") == 0))
			continue;
		/* only what drydock makes there: templates, base entries, builds, what psql can do */
		if (strncmp(de->d_name, "tpl-", 4) != 0 && strncmp(de->d_name, "base-", 5) != 0 &&
			strncmp(de->d_name, ".build-", 7) != 0 && strncmp(de->d_name, "psql-", 5) != 0)
			continue;
		path = xasprintf("%s/%s", cache, de->d_name);
		/* what psql can do, and which entries a run has wanted: small files */
		if (strncmp(de->d_name, "psql-", 5) == 0 ||
			(len > 7 && strcmp(de->d_name + len - 7, ".wanted") == 0))
		{
			if (!dry_run && lstat(path, &st) == 0 && S_ISREG(st.st_mode))
				unlink(path);
			free(path);
			continue;
		}
		if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
		{
			char	   *lockpath = xasprintf("%s.lock", path);
			int			fd = de->d_name[0] == '.' ? -1 : open(lockpath, O_RDWR | O_CLOEXEC);

			/* a run cloning or building it holds the lock: wait for it */
			if (fd >= 0 && (flock(fd, LOCK_EX) != 0 || !lock_is_current(fd, lockpath)))
			{
				close(fd);		/* pruned meanwhile: its lock file is not ours to unlink */
				fd = -1;
			}
			if (!quiet)
				printf("%s %s\n", dry_run ? "would remove" : "removed", path);
			if (!dry_run)
			{
				if (remove_tree(path))
					(*removed)++;
				else
					failures++;
				if (fd >= 0)
					unlink(lockpath);
			}
			else
				(*removed)++;
			if (fd >= 0)
				close(fd);
			free(lockpath);
		}
		free(path);
	}
	closedir(d);
	if (!dry_run)
		remove_orphan_locks(cache);
	free(cache);
	return failures;
}

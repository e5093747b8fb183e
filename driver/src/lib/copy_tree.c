/*
 * copy_tree.c
 *		Copy a directory tree (a cluster's data directory: a template into a
 *		run's directory) with its modes and owners, on two threads.
 *
 *		`cp -a` took 62 ms for an initdb'd cluster (970 files, 39 MB): 20
 *		system calls a file (extended attributes, times, a copy_file_range
 *		that tmpfs refuses) on one core.  PostgreSQL needs none of the
 *		attributes and times, only the bytes, the modes and the owner, so a
 *		file here is open, open, fchown, sendfile, close, close; the
 *		directories are made first, then two threads take the files from one
 *		list (the machines this runs on have two cores or more).
 *		Regular files, directories and symbolic links; anything else (a
 *		socket, a FIFO, a device) is an error, as it has no place in a
 *		cluster at rest.
 */
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#define COPY_THREADS 2

typedef struct copy_file
{
	char	   *rel;			/* path below the source and destination */
	struct stat st;
} copy_file;

typedef struct copy_job
{
	const char *src;
	const char *dst;
	copy_file  *files;
	size_t		n,
				cap;
	atomic_size_t next;			/* the next file a thread takes */
	atomic_bool failed;
	pthread_mutex_t err_lock;
	char	   *err;
	size_t		errlen;
} copy_job;

/* a/b (b empty: a) into out[PATH_MAX]; false if it does not fit */
static bool
path_join(char *out, const char *a, const char *b)
{
	int			n = snprintf(out, PATH_MAX, "%s%s%s", a, *b ? "/" : "", b);

	return n >= 0 && n < PATH_MAX;
}

static void
copy_fail(copy_job *job, const char *what, const char *path, int e)
{
	pthread_mutex_lock(&job->err_lock);
	if (!atomic_load(&job->failed))
		snprintf(job->err, job->errlen, "cannot %s %s: %s", what, path, strerror(e));
	atomic_store(&job->failed, true);
	pthread_mutex_unlock(&job->err_lock);
}

/* Give path the mode and (as root) the owner of st. */
static bool
copy_attrs(int fd, const char *path, const struct stat *st, copy_job *job)
{
	if (geteuid() == 0 && fchown(fd, st->st_uid, st->st_gid) != 0)
	{
		copy_fail(job, "give an owner to", path, errno);
		return false;
	}
	if (fchmod(fd, st->st_mode & 07777) != 0)
	{
		copy_fail(job, "set the mode of", path, errno);
		return false;
	}
	return true;
}

/* The bytes of one regular file: sendfile, or read and write where it cannot. */
static bool
copy_bytes(int in, int out, off_t size)
{
	off_t		done = 0;

	while (done < size)
	{
		ssize_t		n = sendfile(out, in, NULL, (size_t) (size - done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EINVAL || errno == ENOSYS))
			break;				/* read and write below */
		if (n <= 0)
			return n == 0;		/* the file shrank: what there was */
		done += n;
	}
	if (done < size)
	{
		char		buf[65536];
		ssize_t		n;

		while ((n = read(in, buf, sizeof(buf))) != 0)
		{
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 || !write_all(out, buf, (size_t) n))
				return false;
		}
	}
	return true;
}

static void
copy_one_file(copy_job *job, const copy_file *f)
{
	char		from[PATH_MAX],
				to[PATH_MAX];
	int			in,
				out;

	if (!path_join(from, job->src, f->rel) || !path_join(to, job->dst, f->rel))
	{
		copy_fail(job, "copy", f->rel, ENAMETOOLONG);
		return;
	}
	if (S_ISLNK(f->st.st_mode))
	{
		char		target[PATH_MAX];
		ssize_t		n = readlink(from, target, sizeof(target) - 1);

		if (n < 0)
		{
			copy_fail(job, "read the link", from, errno);
			return;
		}
		target[n] = '\0';
		if (symlink(target, to) != 0)
			copy_fail(job, "create the link", to, errno);
		else if (geteuid() == 0 && lchown(to, f->st.st_uid, f->st.st_gid) != 0)
			copy_fail(job, "give an owner to", to, errno);
		return;
	}
	if ((in = open(from, O_RDONLY | O_CLOEXEC)) < 0)
	{
		copy_fail(job, "open", from, errno);
		return;
	}
	/* 0600 until copy_attrs: nobody else reads it half made */
	if ((out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0)
	{
		copy_fail(job, "create", to, errno);
		close(in);
		return;
	}
	if (!copy_bytes(in, out, f->st.st_size))
		copy_fail(job, "copy into", to, errno);
	else
		(void) copy_attrs(out, to, &f->st, job);
	close(in);
	if (close(out) != 0)
		copy_fail(job, "write", to, errno);
}

static void *
copy_worker(void *arg)
{
	copy_job   *job = arg;
	size_t		i;

	while (!atomic_load(&job->failed) && (i = atomic_fetch_add(&job->next, 1)) < job->n)
		copy_one_file(job, &job->files[i]);
	return NULL;
}

/*
 * Make the directories of src/rel below dst (depth first, each before what
 * it holds) and list its files.
 */
static bool
copy_scan(copy_job *job, const char *rel)
{
	char		from[PATH_MAX],
				to[PATH_MAX];
	DIR		   *d;
	struct dirent *de;
	struct stat st;
	int			fd;
	bool		ok = true;

	if (!path_join(from, job->src, rel) || !path_join(to, job->dst, rel))
	{
		copy_fail(job, "copy", rel, ENAMETOOLONG);
		return false;
	}
	if (lstat(from, &st) != 0)
	{
		copy_fail(job, "read the directory", from, errno);
		return false;
	}
	if (!S_ISDIR(st.st_mode))
	{
		copy_fail(job, "read the directory", from, ENOTDIR);
		return false;
	}
	if (mkdir(to, 0700) != 0)
	{
		copy_fail(job, "create", to, errno);
		return false;
	}
	if ((fd = open(to, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
	{
		copy_fail(job, "open", to, errno);
		return false;
	}
	ok = copy_attrs(fd, to, &st, job);
	close(fd);
	if (!ok || !(d = opendir(from)))
	{
		if (ok)
			copy_fail(job, "read the directory", from, errno);
		return false;
	}
	while (ok && (de = readdir(d)) != NULL)
	{
		char		sub[PATH_MAX];
		char		path[PATH_MAX];

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (*rel ? !path_join(sub, rel, de->d_name) : !path_join(sub, de->d_name, ""))
		{
			copy_fail(job, "copy", de->d_name, ENAMETOOLONG);
			ok = false;
		}
		else if (!path_join(path, job->src, sub))
		{
			copy_fail(job, "copy", sub, ENAMETOOLONG);
			ok = false;
		}
		else if (lstat(path, &st) != 0)
		{
			copy_fail(job, "read", path, errno);
			ok = false;
		}
		else if (S_ISDIR(st.st_mode))
			ok = copy_scan(job, sub);
		else if (S_ISREG(st.st_mode) || S_ISLNK(st.st_mode))
		{
			if (job->n == job->cap)
			{
				job->cap = job->cap ? job->cap * 2 : 1024;
				job->files = xrealloc(job->files, job->cap * sizeof(copy_file));
			}
			job->files[job->n].rel = xstrdup(sub);
			job->files[job->n].st = st;
			job->n++;
		}
		else
		{
			/* before the threads start: nobody else writes err */
			snprintf(job->err, job->errlen, "cannot copy %s: not a regular file, directory or symbolic link", path);
			atomic_store(&job->failed, true);
			ok = false;
		}
	}
	closedir(d);
	return ok;
}

bool
copy_tree(const char *src, const char *dst, char *err, size_t errlen)
{
	copy_job	job;
	pthread_t	threads[COPY_THREADS];
	int			started = 0;
	memset(&job, 0, sizeof(job));
	job.src = src;
	job.dst = dst;
	job.err = err;
	job.errlen = errlen;
	atomic_init(&job.next, 0);
	atomic_init(&job.failed, false);
	pthread_mutex_init(&job.err_lock, NULL);
	err[0] = '\0';
	if (copy_scan(&job, ""))
	{
		for (int t = 1; t < COPY_THREADS; t++)
			if (thread_start(&threads[started], copy_worker, &job))
				started++;
		copy_worker(&job);		/* this thread too */
		for (int t = 0; t < started; t++)
			pthread_join(threads[t], NULL);
	}
	for (size_t i = 0; i < job.n; i++)
		free(job.files[i].rel);
	free(job.files);
	pthread_mutex_destroy(&job.err_lock);
	return !atomic_load(&job.failed);
}

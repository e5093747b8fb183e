/*
 * util.h
 *		Small shared helpers of the drydock driver: messages and exit codes,
 *		checked allocation, a growable string buffer, time and path helpers.
 */
#ifndef DRYDOCK_UTIL_H
#define DRYDOCK_UTIL_H

#include <stdarg.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdnoreturn.h>
#include <sys/types.h>

/* Exit codes, documented in README.md and drydock(1). */
#define EXIT_PASS		0		/* all checks pass */
#define EXIT_FINDINGS	1		/* verification findings */
#define EXIT_USAGE		2		/* usage error or bad input */
#define EXIT_SQL		3		/* SQL error in an artifact */
#define EXIT_SANDBOX	4		/* isolation not proven or sandbox failed */
#define EXIT_INTERNAL	5		/* internal error */

/* Set by main() from --quiet and isatty(2). */
extern bool dd_progress_enabled;
extern bool dd_status_line_active;	/* term.c's status line is on screen */
/* when set (term.c, on a tty), dd_progress() hands its message here instead */
extern void (*dd_progress_hook) (const char *msg);

/* "drydock: message" on stderr (one line). */
void		dd_error(const char *fmt,...) __attribute__((format(printf, 1, 2)));

/* "drydock: FILE:LINE: message" on stderr (one line). */
void		dd_error_at(const char *file, int line, const char *fmt,...) __attribute__((format(printf, 3, 4)));

/* A progress line on stderr, only when progress is enabled. */
void		dd_progress(const char *fmt,...) __attribute__((format(printf, 1, 2)));

/*
 * Print "drydock: message" and exit with code.  exit() runs the teardown
 * registered by the sandbox (atexit), so no path leaves a cluster behind.
 */
void		dd_fatal(int code, const char *fmt,...) __attribute__((format(printf, 2, 3), __noreturn__));

void	   *xmalloc(size_t n);
void	   *xcalloc(size_t n, size_t size);
void	   *xrealloc(void *p, size_t n);
char	   *xstrdup(const char *s);
char	   *xstrndup_n(const char *s, size_t n);	/* first n bytes, NUL-terminated */
char	   *xasprintf(const char *fmt,...) __attribute__((format(printf, 1, 2)));

/*
 * Growable NUL-terminated buffer.  With flush set (after sb_init), every
 * SB_FLUSH_AT bytes appended go to flush(data, len, flush_arg) and the
 * buffer starts again: a rendering streamed to a file, never held whole.
 * Only what is appended goes out; the caller flushes the rest at the end.
 */
#define SB_FLUSH_AT 32768

typedef struct strbuf
{
	char	   *data;
	size_t		len;
	size_t		cap;
	int			(*flush) (const char *data, size_t len, void *arg);
	void	   *flush_arg;
} strbuf;

void		sb_init(strbuf *sb);
void		sb_append(strbuf *sb, const char *s);
void		sb_appendn(strbuf *sb, const char *s, size_t n);
void		sb_printf(strbuf *sb, const char *fmt,...) __attribute__((format(printf, 2, 3)));
void		sb_free(strbuf *sb);

/* Monotonic milliseconds, and the current UTC time as ISO 8601. */
double		now_ms(void);
void		utc_now_iso(char *buf, size_t len);

/* Read a whole (small) file; NULL with errno set on failure. */
char	   *read_small_file(const char *path, size_t *len_out);

/* Write a whole file (mode 0600) in one go; false with errno on failure. */
bool		write_small_file(const char *path, const char *data, size_t len);
/* write() all of data to fd, retrying on EINTR; false with errno set. */
bool		write_all(int fd, const char *data, size_t len);
/* mkdir -p: the missing parents with parents_mode, path itself with mode. */
bool		mkdir_p(const char *path, mode_t parents_mode, mode_t mode);

/* Remove a directory tree without following symlinks; false on failure. */
bool		remove_tree(const char *path);

/*
 * remove_tree of a and of b at once, on two threads: most of a large
 * tmpfs tree's removal is the kernel freeing its pages, on the calling core
 * (a cluster's WAL and its base: 38 -> 24 ms).  Signals stay with the
 * calling thread.
 */
bool		remove_trees_side_by_side(const char *a, const char *b);

/*
 * pthread_create(t, fn, arg) with every signal blocked in the new thread:
 * the handlers (signals.c) stay with the thread that waits on the server
 * and the children.  false if no thread was started.
 */
bool		thread_start(pthread_t *t, void *(*fn) (void *), void *arg);

/*
 * Copy the directory tree src to dst (which must not exist): regular files,
 * directories and symbolic links with their modes and, as root, owners; on
 * two threads (copy_tree.c).  false with err on failure (dst may be half
 * made: the caller removes it).
 */
bool		copy_tree(const char *src, const char *dst, char *err, size_t errlen);

/*
 * Start time of a process in clock ticks since boot (/proc/PID/stat field
 * 22), 0 if unknown: with the pid, it names a process unambiguously.
 */
unsigned long long process_start_time(pid_t pid);

/* Sleep for ms milliseconds (restarting after signals is the caller's call). */
void		sleep_ms(int ms);

#endif							/* DRYDOCK_UTIL_H */

/*
 * term.c
 *		The terminal: a status line on a tty, plain lines in a log, colour
 *		where it is wanted (https://no-color.org: NO_COLOR set and non-empty
 *		turns it off).  Messages of util.c (dd_error, dd_progress) clear the
 *		status line first, so it never garbles them.
 */
#include "term.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "util.h"

static term_mode mode = TERM_QUIET;

void
term_init(bool quiet)
{
	if (quiet)
		mode = TERM_QUIET;
	else
		mode = isatty(STDERR_FILENO) ? TERM_TTY : TERM_LINES;
}

term_mode
term_get_mode(void)
{
	return mode;
}

static int
columns(void)
{
	struct winsize ws;

	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 10)
		return ws.ws_col;
	return 80;
}

void
term_status(const char *fmt,...)
{
	char		line[1024];
	va_list		ap;
	int			width;

	if (mode != TERM_TTY)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* one row: a line that wraps could not be rewritten with \r */
	width = columns() - 1;
	if ((int) strlen(line) > width)
		line[width] = '\0';
	fprintf(stderr, "\r\033[K%s", line);
	fflush(stderr);
	dd_status_line_active = true;
}

void
term_status_clear(void)
{
	if (mode == TERM_TTY && dd_status_line_active)
	{
		fputs("\r\033[K", stderr);
		fflush(stderr);
	}
	dd_status_line_active = false;
}

static char status_prefix[512];
static double status_t0;

static void
progress_hook(const char *msg)
{
	term_status("%s \u2026 %s, %.1f s", status_prefix, msg, (now_ms() - status_t0) / 1000.0);
}

void
term_set_prefix(const char *prefix, double t0_ms)
{
	if (mode != TERM_TTY)
		return;
	if (!prefix)
	{
		dd_progress_hook = NULL;
		term_status_clear();
		return;
	}
	snprintf(status_prefix, sizeof(status_prefix), "%s", prefix);
	status_t0 = t0_ms;
	dd_progress_hook = progress_hook;
	term_status("%s \u2026 %.1f s", status_prefix, (now_ms() - status_t0) / 1000.0);
}

void
term_line(const char *fmt,...)
{
	va_list		ap;

	if (mode == TERM_QUIET)
		return;
	term_status_clear();
	fputs("drydock: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
}

static bool
colour_on(FILE *f)
{
	const char *nc = getenv("NO_COLOR");
	const char *t = getenv("TERM");

	if (nc && *nc)
		return false;
	if (t && strcmp(t, "dumb") == 0)
		return false;
	return isatty(fileno(f));
}

const char *
term_colour(FILE *f, const char *status)
{
	if (!colour_on(f))
		return "";
	if (strcmp(status, "pass") == 0 || strcmp(status, "exact") == 0 || strcmp(status, "accepted") == 0)
		return "\033[32m";		/* green */
	if (strcmp(status, "warn") == 0 || strcmp(status, "missing_down") == 0)
		return "\033[33m";		/* yellow */
	return "\033[31m";			/* red: fail, findings, not_inverse, errors */
}

const char *
term_reset(FILE *f)
{
	return colour_on(f) ? "\033[0m" : "";
}

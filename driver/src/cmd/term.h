/*
 * term.h
 *		What a person watching the terminal sees while drydock works: on a
 *		tty, one status line rewritten in place ("[k/N] version title ...
 *		apply, 3.2 s") and colour for pass / warn / fail (not under NO_COLOR
 *		or TERM=dumb); without a tty (a CI log), one plain line per finished
 *		unit of work; with --quiet, nothing.
 */
#ifndef DRYDOCK_TERM_H
#define DRYDOCK_TERM_H

#include <stdbool.h>
#include <stdio.h>

typedef enum term_mode
{
	TERM_QUIET,					/* --quiet */
	TERM_LINES,					/* stderr is not a tty */
	TERM_TTY					/* stderr is a tty */
} term_mode;

/* Decide the mode from --quiet and stderr. */
void		term_init(bool quiet);
term_mode	term_get_mode(void);

/* tty only: replace the status line (no newline); clear it. */
void		term_status(const char *fmt,...) __attribute__((format(printf, 1, 2)));
void		term_status_clear(void);

/*
 * tty only: from now on the status line reads "PREFIX ... <step>, T s"
 * (T since t0_ms), each dd_progress() message becoming the step instead of a
 * line of its own.  NULL: back to plain progress lines.
 */
void		term_set_prefix(const char *prefix, double t0_ms);

/* A finished unit's line: on a tty above the status line; plain in a log. */
void		term_line(const char *fmt,...) __attribute__((format(printf, 1, 2)));

/* Colour escape for a status word (pass, exact, warn, fail, ...) on f, or "". */
const char *term_colour(FILE *f, const char *status);
const char *term_reset(FILE *f);

#endif							/* DRYDOCK_TERM_H */

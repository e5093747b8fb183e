/*
 * signals.h
 *		Signal handling of the driver: SIGINT, SIGTERM, SIGHUP and SIGPIPE are
 *		recorded, forwarded to the child in the foreground and turned into a
 *		query cancel, so that the main line notices, tears the sandbox down
 *		and exits with 128+signal.
 */
#ifndef DRYDOCK_SIGNALS_H
#define DRYDOCK_SIGNALS_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

#include <libpq-fe.h>

/* The first terminating signal received, 0 if none. */
extern volatile sig_atomic_t dd_got_signal;

void		signals_install(void);

/* The child to forward a terminating signal to (0: none). */
void		signals_forward_to(pid_t pid, bool whole_group);

/* The query to cancel on a terminating signal (NULL: none); takes ownership
 * of a PQgetCancel() result and frees the previous one. */
void		signals_cancel_on_signal(PGcancel *cancel);
/* The same for the query of a second connection (run_side_send), or NULL. */
void		signals_cancel_side_on_signal(PGcancel *cancel);

/* Exit 128+signal after printing why; atexit handlers tear down. */
void		signals_exit_if_pending(void);

/*
 * 0 if no terminating signal arrived; else 128+signal, with err saying so.
 * For code below the subcommands: it returns, and the caller's own path
 * tears down and writes the report (exit() would skip the report).
 */
int			signals_pending_code(char *err, size_t errlen);

#endif							/* DRYDOCK_SIGNALS_H */

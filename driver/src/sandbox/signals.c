/*
 * signals.c
 *		Terminating signals become a flag the main line checks, plus the two
 *		async-signal-safe actions that make the main line notice quickly:
 *		SIGTERM to the foreground child and PQcancel() of the running query.
 *
 * Handlers are installed without SA_RESTART so that waitpid(), poll() and
 * nanosleep() return EINTR and the caller can look at dd_got_signal.
 */
#include "signals.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

volatile sig_atomic_t dd_got_signal = 0;

static volatile pid_t forward_pid = 0;
static volatile sig_atomic_t forward_group = 0;
/* [0] the main connection's running query, [1] the side connection's */
static PGcancel *volatile cancel_target[2] = {NULL, NULL};

static void
on_terminating_signal(int sig)
{
	int			save_errno = errno;
	pid_t		pid = forward_pid;

	if (dd_got_signal == 0)
		dd_got_signal = sig;
	if (pid > 0)
		kill(forward_group ? -pid : pid, SIGTERM);
	for (int i = 0; i < 2; i++)
	{
		PGcancel   *cancel = cancel_target[i];
		char		errbuf[256];

		/* PQcancel is documented as safe to call from a signal handler. */
		if (cancel)
			(void) PQcancel(cancel, errbuf, sizeof(errbuf));
	}
	errno = save_errno;
}

void
signals_install(void)
{
	struct sigaction sa;
	const int	sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGPIPE};

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_terminating_signal;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaddset(&sa.sa_mask, sigs[i]);
	sa.sa_flags = 0;			/* no SA_RESTART: blocking calls see EINTR */
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
}

void
signals_forward_to(pid_t pid, bool whole_group)
{
	forward_group = whole_group;
	forward_pid = pid;
}

/*
 * The previous target is freed here (PQfreeCancel), with the terminating
 * signals blocked while the pointer changes, so the handler never uses a
 * freed object.  Callers hand over what PQgetCancel() returned.
 */
static void
set_cancel_target(int slot, PGcancel *cancel)
{
	sigset_t	block,
				old;
	PGcancel   *prev;

	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGPIPE);
	sigprocmask(SIG_BLOCK, &block, &old);
	prev = cancel_target[slot];
	cancel_target[slot] = cancel;
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (prev && prev != cancel)
		PQfreeCancel(prev);
}

void
signals_cancel_on_signal(PGcancel *cancel)
{
	set_cancel_target(0, cancel);
}

void
signals_cancel_side_on_signal(PGcancel *cancel)
{
	set_cancel_target(1, cancel);
}

int
signals_pending_code(char *err, size_t errlen)
{
	int			sig = dd_got_signal;

	if (sig == 0)
		return 0;
	snprintf(err, errlen, "interrupted by %s; tearing down",
			 sigabbrev_np(sig) ? sigabbrev_np(sig) : "signal");
	return 128 + sig;
}

void
signals_exit_if_pending(void)
{
	int			sig = dd_got_signal;

	if (sig == 0)
		return;
	dd_error("interrupted by %s; tearing down", sigabbrev_np(sig) ? sigabbrev_np(sig) : "signal");
	exit(128 + sig);
}

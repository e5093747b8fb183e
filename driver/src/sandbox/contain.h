/*
 * contain.h
 *		Starting the postmaster in a view of the system of its own: mount,
 *		PID, IPC, UTS and network namespaces (through an unprivileged user
 *		namespace when not root), a filesystem that holds only what a server
 *		needs -- read-only -- and the run directory, no capabilities, no new
 *		privileges.  What could be put in place, and what could not, is
 *		recorded for the report.
 */
#ifndef DRYDOCK_CONTAIN_H
#define DRYDOCK_CONTAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "pginstall.h"
#include "proc.h"

typedef enum contain_level
{
	CONTAIN_NONE = 0,			/* a plain child of the driver */
	CONTAIN_NET = 1,			/* a private network namespace only */
	CONTAIN_FULL = 2			/* namespaces + private filesystem view */
} contain_level;

#define CONTAIN_MAX_ATTEMPTS 3
#define CONTAIN_MAX_PATHS 64

typedef struct contain_attempt
{
	const char *what;			/* "full", "network namespace", "none" */
	bool		ok;
	char		result[256];
} contain_attempt;

typedef struct contain_state
{
	contain_level level;		/* what the postmaster got */
	bool		user_ns;		/* carried by an unprivileged user namespace */
	bool		private_proc;	/* /proc shows only the sandbox's processes */
	char		namespaces[96]; /* observed once it runs: "mnt pid ipc uts net" */
	char		visible[2048];	/* read-only paths of the view, space separated */
	int			n_attempts;
	contain_attempt attempts[CONTAIN_MAX_ATTEMPTS];
} contain_state;

typedef struct contain_spec
{
	const run_user *user;
	const pg_install *pg;
	const char *run_dir;		/* the only writable path, at the same path */
	bool		keep;			/* no PR_SET_PDEATHSIG: outlive the driver */
} contain_spec;

/*
 * Fork the postmaster's process, contained as far as the system allows
 * (full, then network namespace only, then none).  Returns the child's pid
 * in the driver and 0 in the child, which has become the cluster's user,
 * dropped its capabilities, set no_new_privs and its death signal, and
 * only has to exec; -1 with err when no child could be started.
 */
pid_t		contain_fork(const contain_spec *spec, contain_state *st, char *err, size_t errlen);

/* The namespaces pid lives in that differ from ours ("mnt pid ..."). */
void		contain_observe_namespaces(pid_t pid, char *out, size_t outlen);

/* "full (mount, pid, ...)" etc.: one line for the report. */
const char *contain_level_name(contain_level level);

#endif							/* DRYDOCK_CONTAIN_H */

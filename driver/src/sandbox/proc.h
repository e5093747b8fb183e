/*
 * proc.h
 *		Child processes of the driver: the unprivileged user the cluster runs
 *		as, and running a program to completion with its output captured.
 */
#ifndef DRYDOCK_PROC_H
#define DRYDOCK_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * Who the cluster's processes (initdb, postgres) run as.  As root that is
 * an unprivileged account (postgres, or --run-as); otherwise the caller.
 */
typedef struct run_user
{
	bool		switch_user;	/* true when running as root */
	uid_t		uid;
	gid_t		gid;
	char	   *name;
} run_user;

/* Resolve the user; false with a message in err on failure. */
bool		run_user_resolve(const char *requested, run_user *u, char *err, size_t errlen);
void		run_user_free(run_user *u);

/*
 * In a forked child: become the user (groups, real and effective ids).
 * Writes a message and _exit(127)s on failure.
 */
void		run_user_become(const run_user *u);

/* Build a minimal environment for children: PATH, LC_ALL=C, plus extras. */
char	  **child_env_new(const char *const *extra);
void		child_env_free(char **env);

typedef struct proc_spec
{
	const char *const *argv;	/* argv[0] is the path executed */
	char	  **envp;			/* full environment of the child */
	const run_user *as;			/* NULL: run as ourselves */
	const char *stdin_path;		/* NULL: /dev/null */
	int			timeout_ms;		/* 0: none */
	size_t		max_capture;	/* per stream; 0: 16 MiB */
} proc_spec;

typedef struct proc_result
{
	int			exit_code;		/* exit status, or 128+signal */
	bool		timed_out;
	bool		interrupted;	/* a terminating signal reached the driver */
	bool		truncated;		/* output exceeded max_capture */
	char	   *out;			/* captured stdout (NUL-terminated) */
	size_t		out_len;
	char	   *err;			/* captured stderr (NUL-terminated) */
	size_t		err_len;
	double		ms;				/* wall time */
} proc_result;

/* Run to completion; false (with err) only when the child could not start. */
bool		proc_run(const proc_spec *spec, proc_result *res, char *err, size_t errlen);
void		proc_result_free(proc_result *res);

#endif							/* DRYDOCK_PROC_H */

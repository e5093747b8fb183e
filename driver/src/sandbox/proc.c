/*
 * proc.c
 *		Starting the driver's children safely: the unprivileged user, a minimal
 *		environment that nothing of the caller's can redirect, and running a
 *		program with both output streams captured, a timeout, and prompt
 *		reaction to the driver's own termination signals.
 */
#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "signals.h"
#include "util.h"

bool
run_user_resolve(const char *requested, run_user *u, char *err, size_t errlen)
{
	struct passwd *pw;

	memset(u, 0, sizeof(*u));
	if (geteuid() != 0)
	{
		pw = getpwuid(geteuid());
		if (requested && (!pw || strcmp(requested, pw->pw_name) != 0))
		{
			snprintf(err, errlen, "--run-as %s needs root; running as uid %d already runs the cluster as yourself",
					 requested, (int) geteuid());
			return false;
		}
		u->switch_user = false;
		u->uid = geteuid();
		u->gid = getegid();
		u->name = xstrdup(pw ? pw->pw_name : "unknown");
		return true;
	}

	/* root: initdb and postgres refuse to run as root, so pick an account */
	if (!requested)
		requested = "postgres";
	errno = 0;
	pw = getpwnam(requested);
	if (!pw)
	{
		snprintf(err, errlen, "user \"%s\" does not exist; as root the cluster runs as an unprivileged user: create it or pass --run-as USER",
				 requested);
		return false;
	}
	if (pw->pw_uid == 0)
	{
		snprintf(err, errlen, "user \"%s\" has uid 0; PostgreSQL refuses to run as root: pass --run-as an unprivileged user",
				 requested);
		return false;
	}
	u->switch_user = true;
	u->uid = pw->pw_uid;
	u->gid = pw->pw_gid;
	u->name = xstrdup(pw->pw_name);
	return true;
}

void
run_user_free(run_user *u)
{
	free(u->name);
	u->name = NULL;
}

void
run_user_become(const run_user *u)
{
	if (!u || !u->switch_user)
		return;
	/* Supplementary groups first, while we still may; then gid, then uid. */
	if (setgroups(1, &u->gid) != 0 ||
		setresgid(u->gid, u->gid, u->gid) != 0 ||
		setresuid(u->uid, u->uid, u->uid) != 0)
	{
		dprintf(2, "drydock: cannot switch to user %s: %s\n", u->name, strerror(errno));
		_exit(127);
	}
	if (geteuid() == 0 || getuid() == 0)
	{
		dprintf(2, "drydock: still root after switching to user %s\n", u->name);
		_exit(127);
	}
}

char **
child_env_new(const char *const *extra)
{
	size_t		n = 0;
	char	  **env;
	size_t		i = 0;

	while (extra && extra[n])
		n++;
	env = xcalloc(n + 4, sizeof(char *));
	env[i++] = xstrdup("PATH=/usr/local/bin:/usr/bin:/bin");
	env[i++] = xstrdup("LC_ALL=C");
	for (size_t k = 0; k < n; k++)
		env[i++] = xstrdup(extra[k]);
	env[i] = NULL;
	return env;
}

void
child_env_free(char **env)
{
	if (!env)
		return;
	for (char **p = env; *p; p++)
		free(*p);
	free(env);
}

static void
capture(int fd, char **buf, size_t *len, size_t *cap, size_t max, bool *truncated, bool *open_)
{
	char		chunk[16384];
	ssize_t		n = read(fd, chunk, sizeof(chunk));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0)
	{
		*open_ = false;
		return;
	}
	if (*len + (size_t) n > max)
	{
		*truncated = true;
		n = (ssize_t) (max > *len ? max - *len : 0);
	}
	if (*len + (size_t) n + 1 > *cap)
	{
		while (*len + (size_t) n + 1 > *cap)
			*cap = *cap ? *cap * 2 : 4096;
		*buf = xrealloc(*buf, *cap);
	}
	memcpy(*buf + *len, chunk, (size_t) n);
	*len += (size_t) n;
	(*buf)[*len] = '\0';
}

bool
proc_run(const proc_spec *spec, proc_result *res, char *err, size_t errlen)
{
	int			outp[2],
				errp[2];
	pid_t		pid;
	size_t		max = spec->max_capture ? spec->max_capture : 16u << 20;
	size_t		outcap = 0,
				errcap = 0;
	bool		out_open = true,
				err_open = true;
	double		start = now_ms();
	int			status = 0;
	bool		killed = false;
	double		kill_deadline = 0;

	memset(res, 0, sizeof(*res));
	res->out = xstrdup("");
	res->err = xstrdup("");
	outcap = errcap = 1;
	if (pipe2(outp, O_CLOEXEC) != 0 || pipe2(errp, O_CLOEXEC) != 0)
	{
		snprintf(err, errlen, "cannot create pipe: %s", strerror(errno));
		return false;
	}
	pid = fork();
	if (pid < 0)
	{
		snprintf(err, errlen, "cannot fork: %s", strerror(errno));
		close(outp[0]);
		close(outp[1]);
		close(errp[0]);
		close(errp[1]);
		return false;
	}
	if (pid == 0)
	{
		int			in;

		/* own process group: the driver forwards signals to it explicitly */
		setpgid(0, 0);
		signal(SIGPIPE, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		in = open(spec->stdin_path ? spec->stdin_path : "/dev/null", O_RDONLY);
		if (in < 0)
		{
			dprintf(errp[1], "cannot open %s: %s\n", spec->stdin_path, strerror(errno));
			_exit(127);
		}
		dup2(in, 0);
		dup2(outp[1], 1);
		dup2(errp[1], 2);
		run_user_become(spec->as);
		/* the child dies with the driver, whatever kills the driver */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		execve(spec->argv[0], (char *const *) spec->argv, spec->envp);
		dprintf(2, "cannot execute %s: %s\n", spec->argv[0], strerror(errno));
		_exit(127);
	}
	close(outp[1]);
	close(errp[1]);
	signals_forward_to(pid, true);

	while (out_open || err_open)
	{
		struct pollfd fds[2];
		int			nfds = 0;
		int			wait_ms = 200;

		if (out_open)
			fds[nfds++] = (struct pollfd)
		{
			outp[0], POLLIN, 0
		};
		if (err_open)
			fds[nfds++] = (struct pollfd)
		{
			errp[0], POLLIN, 0
		};
		if (poll(fds, nfds, wait_ms) > 0)
		{
			for (int i = 0; i < nfds; i++)
			{
				if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
					continue;
				if (fds[i].fd == outp[0])
					capture(outp[0], &res->out, &res->out_len, &outcap, max, &res->truncated, &out_open);
				else
					capture(errp[0], &res->err, &res->err_len, &errcap, max, &res->truncated, &err_open);
			}
		}
		if (dd_got_signal)
			res->interrupted = true;
		if (!killed && (res->interrupted ||
						(spec->timeout_ms > 0 && now_ms() - start > spec->timeout_ms)))
		{
			if (!res->interrupted)
				res->timed_out = true;
			kill(-pid, SIGTERM);
			killed = true;
			kill_deadline = now_ms() + 3000;
		}
		if (killed && now_ms() > kill_deadline)
		{
			kill(-pid, SIGKILL);
			kill_deadline = now_ms() + 1e9;
		}
	}
	close(outp[0]);
	close(errp[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
	{
		if (!killed)
		{
			kill(-pid, SIGTERM);
			killed = true;
		}
	}
	signals_forward_to(0, false);
	/* anything of the group still alive (a grandchild) goes too */
	kill(-pid, SIGKILL);
	if (WIFEXITED(status))
		res->exit_code = WEXITSTATUS(status);
	else if (WIFSIGNALED(status))
		res->exit_code = 128 + WTERMSIG(status);
	res->ms = now_ms() - start;
	if (dd_got_signal)
		res->interrupted = true;
	return true;
}

void
proc_result_free(proc_result *res)
{
	free(res->out);
	free(res->err);
	res->out = res->err = NULL;
}

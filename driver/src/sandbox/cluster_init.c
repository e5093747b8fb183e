/*
 * cluster_init.c
 *		A new, never-started cluster (see cluster_init.h).
 */
#include "cluster_init.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "signals.h"
#include "util.h"

int
cluster_initdb(const cluster_spec *cs, const char *data_dir, initdb_outcome *out,
			   char *err, size_t errlen)
{
	char	   *locale_opt = xasprintf("--locale=%s", cs->locale);
	const char *argv[16];
	int			n = 0;
	char	  **env = child_env_new(NULL);
	proc_result res;
	bool		started;

	argv[n++] = cs->pg->initdb;
	argv[n++] = "-D";
	argv[n++] = data_dir;
	argv[n++] = "-U";
	argv[n++] = SANDBOX_ADMIN_ROLE;
	argv[n++] = "-A";
	argv[n++] = "trust";
	argv[n++] = "-E";
	argv[n++] = "UTF8";
	argv[n++] = locale_opt;
	argv[n++] = "--no-sync";
	if (cs->pg->major >= 14)
		argv[n++] = "--no-instructions";
	argv[n] = NULL;

	started = proc_run(&(proc_spec)
					   {
					   .argv = argv,.envp = env,.as = cs->user,.timeout_ms = 120000
					   }, &res, err, errlen);
	child_env_free(env);
	free(locale_opt);
	out->ran = true;
	out->exit_code = -1;
	out->ms = 0;
	if (!started)
		return EXIT_SANDBOX;
	out->ms = res.ms;
	out->exit_code = res.exit_code;
	if (res.interrupted && dd_got_signal)
	{
		proc_result_free(&res);
		return signals_pending_code(err, errlen);
	}
	if (res.exit_code != 0)
	{
		/* initdb's last stderr line says why */
		char	   *msg = res.err;
		size_t		len = strlen(msg);

		while (len > 0 && (msg[len - 1] == '\n' || msg[len - 1] == ' '))
			msg[--len] = '\0';
		if (strrchr(msg, '\n'))
			msg = strrchr(msg, '\n') + 1;
		snprintf(err, errlen, "initdb failed (exit %d): %s", res.exit_code, msg[0] ? msg : "no message");
		proc_result_free(&res);
		return EXIT_SANDBOX;
	}
	proc_result_free(&res);
	return 0;
}

/*
 * pg_hba.conf: local trust lines only.  initdb -A trust also writes host
 * lines for 127.0.0.1 and ::1; there must be none at all.
 */
bool
cluster_write_hba(const cluster_spec *cs, const char *data_dir)
{
	char	   *path = xasprintf("%s/pg_hba.conf", data_dir);
	const char *hba =
		"# drydock sandbox: unix-socket connections only, no host lines at all\n"
		"local   all             all                                     trust\n"
		"local   replication     all                                     trust\n";
	bool		ok = write_small_file(path, hba, strlen(hba));

	if (ok && cs->user->switch_user)
		ok = chown(path, cs->user->uid, cs->user->gid) == 0;
	free(path);
	return ok;
}

bool
cluster_read_system_identifier(const char *data_dir, uint64_t *sysid)
{
	/* ControlFileData begins with uint64 system_identifier in every release */
	char	   *path = xasprintf("%s/global/pg_control", data_dir);
	int			fd = open(path, O_RDONLY | O_CLOEXEC);
	bool		ok;

	free(path);
	if (fd < 0)
		return false;
	ok = read(fd, sysid, sizeof(*sysid)) == (ssize_t) sizeof(*sysid);
	close(fd);
	return ok;
}

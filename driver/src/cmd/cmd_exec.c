/*
 * cmd_exec.c
 *		drydock exec: make a sandbox, run a command against it with PGHOST,
 *		PGPORT, PGUSER and PGDATABASE pointing at it (and every other libpq
 *		variable unset), tear the sandbox down, exit with the command's status.
 *
 * This is how the project's own suites run (pg_regress, pg_prove, prove),
 * and how users run theirs.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "pginstall.h"
#include "sandbox.h"
#include "signals.h"
#include "util.h"

static void
exec_usage(FILE *out)
{
	fprintf(out,
			"Usage: drydock exec [OPTION]... -- CMD [ARG]...\n"
			"Start a throwaway, socket-only PostgreSQL cluster, run CMD with PGHOST, PGPORT,\n"
			"PGUSER and PGDATABASE set for it (every other libpq variable unset, PSQLRC=/dev/null),\n"
			"then stop the cluster and remove it.  Exits with CMD's status.  The server runs in\n"
			"namespaces of its own and sees only the system, its installation (read-only) and\n"
			"its run directory; CMD itself runs with your rights, as you started it.\n"
			"\n"
			"Options:\n"
			"      --database NAME   throwaway database to create and export (default: sandbox)\n"
			"      --keep            leave the cluster running; print how to connect and stop it\n"
			"                        (CMD is optional then)\n"
			"      --fresh           initdb a new cluster instead of copying the cached template\n"
			"      --run-as USER     as root, run the cluster as USER (default: postgres)\n"
			"      --pg MAJOR        run the cluster on this installed major\n"
			"      --pg-config PATH  the PostgreSQL installation to use\n"
			"                        (CMD gets its bindir first in PATH and PG_CONFIG set to it)\n"
			"      --allow-weak-containment\n"
			"                        start even where the server cannot get a filesystem view of\n"
			"                        its own (CMD gets a superuser: refused otherwise)\n"
			"  -q, --quiet           no progress lines on stderr\n"
			"  -h, --help            show this help, then exit\n");
}

static int
create_database(sandbox *sb, const char *dbname, char *err, size_t errlen)
{
	PGconn	   *conn = sandbox_connect(sb, "postgres", err, errlen);
	PGresult   *res;
	char	   *ident;
	char	   *sql;
	int			rc = 0;

	if (!conn)
		return EXIT_SANDBOX;
	if (strcmp(dbname, "postgres") == 0)
	{
		PQfinish(conn);
		return 0;
	}
	ident = PQescapeIdentifier(conn, dbname, strlen(dbname));
	sql = xasprintf("CREATE DATABASE %s", ident);
	res = PQexec(conn, sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
	{
		snprintf(err, errlen, "cannot create database \"%s\": %s", dbname, PQresultErrorMessage(res));
		rc = EXIT_SANDBOX;
	}
	PQclear(res);
	PQfreemem(ident);
	free(sql);
	PQfinish(conn);
	if (rc == 0)
	{
		/* and prove a connection to it lands in the sandbox */
		conn = sandbox_connect(sb, dbname, err, errlen);
		if (!conn)
			return EXIT_SANDBOX;
		PQfinish(conn);
	}
	return rc;
}

static int
exec_user_command(sandbox *sb, const char *dbname, char **cmdv)
{
	pid_t		pid;
	int			status = 0;
	char		port[16];
	char	   *sysconf = xasprintf("%s/no-sysconf", sb->run_dir);
	const char *old_path = getenv("PATH");
	char	   *path = xasprintf("%s%s%s", sb->pg->bindir, old_path ? ":" : "", old_path ? old_path : "");

	snprintf(port, sizeof(port), "%d", sb->port);
	fflush(NULL);
	pid = fork();
	if (pid < 0)
	{
		dd_error("cannot fork: %s", strerror(errno));
		free(sysconf);
		free(path);
		return EXIT_INTERNAL;
	}
	if (pid == 0)
	{
		/*
		 * CMD gets a process group of its own, so a terminating signal can
		 * reach everything it started (a shell's children too); when it runs
		 * on a terminal, its group becomes the terminal's foreground.
		 */
		setpgid(0, 0);
		if (isatty(STDIN_FILENO))
		{
			signal(SIGTTOU, SIG_IGN);
			tcsetpgrp(STDIN_FILENO, getpid());
			signal(SIGTTOU, SIG_DFL);
		}
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		signal(SIGPIPE, SIG_DFL);
		/* the environment was scrubbed of PG* at start; add ours */
		setenv("PGHOST", sb->run_dir, 1);
		setenv("PGPORT", port, 1);
		setenv("PGUSER", SANDBOX_ADMIN_ROLE, 1);
		setenv("PGDATABASE", dbname, 1);
		setenv("PGSYSCONFDIR", sysconf, 1);
		setenv("PSQLRC", "/dev/null", 1);
		/* the sandbox's own psql, pg_dump, pg_regress (PGXS) come first */
		setenv("PATH", path, 1);
		setenv("PG_CONFIG", sb->pg->pg_config, 1);
		/* a command outliving a killed driver would talk to a dead cluster */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		execvp(cmdv[0], cmdv);
		dprintf(2, "drydock: cannot execute %s: %s\n", cmdv[0], strerror(errno));
		_exit(127);
	}
	free(sysconf);
	free(path);
	setpgid(pid, pid);			/* also here: no race with the child's own call */
	signals_forward_to(pid, true);
	for (;;)
	{
		pid_t		r = waitpid(pid, &status, 0);

		if (r == pid)
			break;
		if (r < 0 && errno != EINTR)
			break;
	}
	signals_forward_to(0, false);
	/* whatever CMD left running in its group goes with it */
	kill(-pid, SIGTERM);
	if (isatty(STDIN_FILENO))
	{
		signal(SIGTTOU, SIG_IGN);
		tcsetpgrp(STDIN_FILENO, getpgrp());
		signal(SIGTTOU, SIG_DFL);
	}
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return EXIT_INTERNAL;
}

int
cmd_exec(int argc, char **argv)
{
	static const struct option long_options[] = {
		{"database", required_argument, NULL, 'd'},
		{"keep", no_argument, NULL, 'k'},
		{"fresh", no_argument, NULL, 'F'},
		{"run-as", required_argument, NULL, 'u'},
		{"pg-config", required_argument, NULL, 'P'},
		{"pg", required_argument, NULL, 'M'},
		{"allow-weak-containment", no_argument, NULL, 'W'},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}
	};
	const char *dbname = "sandbox";
	const char *run_as = NULL;
	const char *pg_config = NULL;
	int			pg_major = 0;
	bool		keep = false;
	bool		fresh = false;
	bool		allow_weak = false;
	int			quiet = 0;
	int			c;
	pg_install	pg;
	sandbox		sb;
	char		err[1024];
	int			rc;
	double		t0 = now_ms();

	optind = 1;
	while ((c = getopt_long(argc, argv, "+qh", long_options, NULL)) != -1)
	{
		switch (c)
		{
			case 'd':
				dbname = optarg;
				break;
			case 'k':
				keep = true;
				break;
			case 'F':
				fresh = true;
				break;
			case 'u':
				run_as = optarg;
				break;
			case 'P':
				pg_config = optarg;
				break;
			case 'M':
				{
					char	   *end;
					long		v = strtol(optarg, &end, 10);

					pg_major = (*optarg && *end == '\0' && v >= 13 && v <= 99) ? (int) v : 0;
				}
				if (!pg_major)
				{
					dd_error("--pg must be a PostgreSQL major version, 13 or later: \"%s\"", optarg);
					return EXIT_USAGE;
				}
				break;
			case 'W':
				allow_weak = true;
				break;
			case 'q':
				quiet = 1;
				break;
			case 'h':
				exec_usage(stdout);
				return EXIT_PASS;
			default:
				exec_usage(stderr);
				return EXIT_USAGE;
		}
	}
	cli_set_quiet(quiet);
	if (optind >= argc && !keep)
	{
		dd_error("exec needs a command to run: drydock exec [OPTION]... -- CMD [ARG]...");
		return EXIT_USAGE;
	}
	if (dbname[0] == '\0' || strlen(dbname) > 63)
	{
		dd_error("--database must be 1 to 63 bytes");
		return EXIT_USAGE;
	}
	if (!pg_install_select(pg_config, pg_major, 0, &pg, err, sizeof(err)))
	{
		dd_error("%s", err);
		pg_install_free(&pg);
		return EXIT_SANDBOX;
	}
	rc = sandbox_create(&sb, &(sandbox_options)
						{
						.pg = &pg,.run_as = run_as,.keep = keep,.fresh = fresh,
						.require_containment = !allow_weak
						}, err, sizeof(err));
	if (rc == 0)
		rc = create_database(&sb, dbname, err, sizeof(err));
	if (rc != 0)
	{
		dd_error("%s", err);
		sandbox_teardown(&sb);
		sandbox_free(&sb);
		pg_install_free(&pg);
		return rc;
	}
	dd_progress("sandbox ready in %.0f ms (%s: %.0f ms, start %.0f ms): %s port %d, containment %s (%s)",
				now_ms() - t0, sb.origin, sb.template_path && !sb.template_built_now ? sb.ms_clone : sb.initdb.ms,
				sb.ms_start, sb.run_dir, sb.port, contain_level_name(sb.contain.level),
				sb.contain.namespaces[0] ? sb.contain.namespaces : "no namespace");

	if (optind < argc)
		rc = exec_user_command(&sb, dbname, argv + optind);
	else
		rc = 0;

	if (keep)
	{
		fprintf(stderr,
				"drydock: sandbox kept running (postmaster pid %d, user %s)\n"
				"  connect: psql -X \"host=%s port=%d user=%s dbname=%s\"\n"
				"  stop:    drydock gc %s\n",
				(int) sb.postmaster_pid, sb.user.name, sb.run_dir, sb.port,
				SANDBOX_ADMIN_ROLE, dbname, sb.run_dir);
	}
	else
	{
		double		t1 = now_ms();

		if (!sandbox_teardown(&sb))
		{
			dd_error("teardown incomplete: %s", sb.teardown_note);
			if (rc == 0)
				rc = EXIT_SANDBOX;
		}
		else
			dd_progress("sandbox stopped and removed in %.0f ms", now_ms() - t1);
	}
	signals_exit_if_pending();
	sandbox_free(&sb);
	pg_install_free(&pg);
	return rc;
}

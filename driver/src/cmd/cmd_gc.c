/*
 * cmd_gc.c
 *		drydock gc: find run directories whose driver is dead (killed with
 *		SIGKILL, a crashed machine, a kept sandbox no longer wanted), stop any
 *		postmaster still running there and remove them.
 *
 * A run directory is recognised by its name (drydock-XXXXXX) and by the
 * drydock.pid file the driver writes into it first thing: "PID STARTTIME".
 * The driver is alive only if that pid exists with that start time, so a
 * recycled pid does not keep a directory alive.  Kept sandboxes
 * (drydock.keep) are removed only when named on the command line.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "sandbox.h"
#include "template.h"
#include "util.h"

static void
gc_usage(FILE *out)
{
	fprintf(out,
			"Usage: drydock gc [OPTION]... [RUNDIR]...\n"
			"Remove run directories left by drydock processes that no longer run: stop any\n"
			"postmaster still running there, then delete the directory.  Without RUNDIR, scans\n"
			"$TMPDIR, /tmp and /dev/shm; a sandbox left by --keep is removed only when named.\n"
			"\n"
			"Options:\n"
			"      --cache     instead: empty the cache of templates and prepared bases\n"
			"                  (and of what each psql can do)\n"
			"                  ($XDG_CACHE_HOME/drydock, ~/.cache/drydock, /var/cache/drydock as root)\n"
			"  -n, --dry-run   say what would be removed, remove nothing\n"
			"  -q, --quiet     print nothing but errors\n"
			"  -h, --help      show this help, then exit\n");
}

/* Is the driver that owns run_dir still running?  -1: not a run dir. */
static int
owner_alive(const char *run_dir)
{
	char	   *path = xasprintf("%s/" SANDBOX_PID_FILE, run_dir);
	char	   *text = read_small_file(path, NULL);
	int			pid;
	unsigned long long start;

	free(path);
	if (!text)
		return -1;
	if (sscanf(text, "%d %llu", &pid, &start) != 2 || pid <= 0)
	{
		free(text);
		return -1;
	}
	free(text);
	if (kill(pid, 0) != 0 && errno == ESRCH)
		return 0;
	return process_start_time(pid) == start ? 1 : 0;
}

static bool
is_kept(const char *run_dir)
{
	char	   *path = xasprintf("%s/" SANDBOX_KEEP_FILE, run_dir);
	bool		kept = access(path, F_OK) == 0;

	free(path);
	return kept;
}

/* 0 removed (or would be), 1 skipped, 2 failed */
static int
collect(const char *run_dir, bool named, bool dry_run, bool quiet)
{
	struct stat st;
	int			alive;
	char	   *data;
	char		note[256] = "";
	bool		ok;

	if (lstat(run_dir, &st) != 0 || !S_ISDIR(st.st_mode))
	{
		if (named)
			dd_error("%s is not a directory", run_dir);
		return named ? 2 : 1;
	}
	if (geteuid() != 0 && st.st_uid != geteuid())
		return 1;
	alive = owner_alive(run_dir);
	if (alive < 0)
	{
		if (named)
			dd_error("%s is not a drydock run directory (no readable %s)", run_dir, SANDBOX_PID_FILE);
		return named ? 2 : 1;
	}
	if (alive > 0)
	{
		if (named)
			dd_error("%s belongs to a drydock process that is still running; not removed", run_dir);
		return named ? 2 : 1;
	}
	if (is_kept(run_dir) && !named)
	{
		if (!quiet)
			printf("kept %s (left by --keep; name it to remove it)\n", run_dir);
		return 1;
	}
	if (dry_run)
	{
		printf("would remove %s\n", run_dir);
		return 0;
	}
	data = xasprintf("%s/data", run_dir);
	ok = cluster_stop_dir(data, 0, 10000, note, sizeof(note));
	free(data);
	if (!remove_tree(run_dir))
	{
		dd_error("cannot remove %s: %s", run_dir, strerror(errno));
		return 2;
	}
	if (!ok)
	{
		dd_error("%s removed, but: %s", run_dir, note);
		return 2;
	}
	if (!quiet)
		printf("removed %s\n", run_dir);
	return 0;
}

static int
scan(const char *base, bool dry_run, bool quiet, int *removed)
{
	DIR		   *d = opendir(base);
	struct dirent *de;
	int			failures = 0;

	if (!d)
		return 0;
	while ((de = readdir(d)))
	{
		char	   *path;
		int			r;

		if (strncmp(de->d_name, SANDBOX_DIR_PREFIX, strlen(SANDBOX_DIR_PREFIX)) != 0 ||
			strlen(de->d_name) != strlen(SANDBOX_DIR_PREFIX) + 6)
			continue;
		path = xasprintf("%s/%s", base, de->d_name);
		r = collect(path, false, dry_run, quiet);
		if (r == 0)
			(*removed)++;
		else if (r == 2)
			failures++;
		free(path);
	}
	closedir(d);
	return failures;
}

int
cmd_gc(int argc, char **argv)
{
	static const struct option long_options[] = {
		{"dry-run", no_argument, NULL, 'n'},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{"cache", no_argument, NULL, 'C'},
		{NULL, 0, NULL, 0}
	};
	bool		cache = false;
	bool		dry_run = false;
	bool		quiet = false;
	int			c;
	int			failures = 0;
	int			removed = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "nqh", long_options, NULL)) != -1)
	{
		switch (c)
		{
			case 'n':
				dry_run = true;
				break;
			case 'q':
				quiet = true;
				break;
			case 'h':
				gc_usage(stdout);
				return EXIT_PASS;
			case 'C':
				cache = true;
				break;
			default:
				gc_usage(stderr);
				return EXIT_USAGE;
		}
	}
	if (cache)
	{
		if (optind < argc)
		{
			fprintf(stderr, "drydock: gc --cache takes no RUNDIR\n");
			return EXIT_USAGE;
		}
		failures = cache_empty(dry_run, quiet, &removed);
		if (!quiet && removed == 0 && failures == 0)
			printf("cache is empty\n");
		return failures ? EXIT_SANDBOX : EXIT_PASS;
	}
	if (optind < argc)
	{
		for (int i = optind; i < argc; i++)
		{
			int			r = collect(argv[i], true, dry_run, quiet);

			if (r == 0)
				removed++;
			else
				failures++;
		}
	}
	else
	{
		const char *tmpdir = getenv("TMPDIR");
		char		real_tmp[PATH_MAX],
					real_env[PATH_MAX];

		failures += scan("/tmp", dry_run, quiet, &removed);
		failures += scan("/dev/shm", dry_run, quiet, &removed);
		if (tmpdir && tmpdir[0] == '/' && realpath(tmpdir, real_env) &&
			(!realpath("/tmp", real_tmp) || strcmp(real_tmp, real_env) != 0))
			failures += scan(tmpdir, dry_run, quiet, &removed);
	}
	if (!quiet && removed == 0 && failures == 0)
		printf("nothing to remove\n");
	return failures ? EXIT_SANDBOX : EXIT_PASS;
}

/*
 * since.c
 *		The migrations a pull request touched: git, run as a child process
 *		without a shell (the REF is an argument, never parsed by anything but
 *		git, and may not start with '-'), in the migration directory:
 *		  git -C DIR diff --name-only -z --relative --no-renames REF -- .
 *		  git -C DIR ls-files -z --others --exclude-standard -- .
 *		The second adds new files not committed yet (a local run before the
 *		commit); NUL-separated output keeps unusual names intact.
 */
#include "since.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proc.h"
#include "util.h"

/* git on the driver's PATH (the children's PATH is a fixed one). */
static char *
find_git(void)
{
	const char *path = getenv("PATH");
	char	   *copy = xstrdup(path && *path ? path : "/usr/local/bin:/usr/bin:/bin");
	char	   *save = NULL;
	char	   *found = NULL;

	for (char *d = strtok_r(copy, ":", &save); d && !found; d = strtok_r(NULL, ":", &save))
	{
		char	   *cand = xasprintf("%s/git", *d ? d : ".");

		if (access(cand, X_OK) == 0)
			found = cand;
		else
			free(cand);
	}
	free(copy);
	return found;
}

static bool
run_git(const char *const *args, json_t *set, char *err, size_t errlen)
{
	const char *home = getenv("HOME");
	char	   *home_env = home ? xasprintf("HOME=%s", home) : NULL;
	const char *extra[] = {home_env, NULL};
	proc_spec	spec = {0};
	proc_result res;
	char		perr[256];
	bool		ok;

	spec.argv = args;
	/* HOME: git's global config (safe.directory) is the caller's */
	spec.envp = child_env_new(home_env ? extra : NULL);
	spec.timeout_ms = 60000;
	ok = proc_run(&spec, &res, perr, sizeof(perr));
	child_env_free(spec.envp);
	free(home_env);
	if (!ok)
	{
		snprintf(err, errlen, "cannot run git: %s", perr);
		return false;
	}
	if (res.exit_code != 0)
	{
		char	   *nl;

		/* git's first line says why (unknown revision, not a repository) */
		nl = res.err ? strchr(res.err, '\n') : NULL;
		if (nl)
			*nl = '\0';
		snprintf(err, errlen, "git %s failed (exit %d): %s", args[3], res.exit_code,
				 res.err && *res.err ? res.err : "no message");
		proc_result_free(&res);
		return false;
	}
	for (size_t off = 0; off < res.out_len;)
	{
		const char *name = res.out + off;
		size_t		len = strnlen(name, res.out_len - off);

		if (len > 0)
			json_object_set_new(set, name, json_true());
		off += len + 1;
	}
	proc_result_free(&res);
	return true;
}

json_t *
since_changed_files(const char *dir, const char *ref, char *err, size_t errlen)
{
	char	   *git;
	json_t	   *set;

	if (ref[0] == '\0' || ref[0] == '-')
	{
		snprintf(err, errlen, "--since needs a git revision (not starting with '-'): \"%s\"", ref);
		return NULL;
	}
	if (!(git = find_git()))
	{
		snprintf(err, errlen, "--since needs git, which is not on PATH");
		return NULL;
	}
	set = json_object();
	{
		const char *diff[] = {git, "-C", dir, "diff", "--name-only", "-z", "--relative", "--no-renames",
		ref, "--", ".", NULL};
		const char *others[] = {git, "-C", dir, "ls-files", "-z", "--others", "--exclude-standard", "--", ".", NULL};

		if (!run_git(diff, set, err, errlen) || !run_git(others, set, err, errlen))
		{
			json_decref(set);
			set = NULL;
		}
	}
	free(git);
	return set;
}

/*
 * test_util.c -- TAP unit tests for util.c's remove_tree(): it removes a
 * whole tree (nested directories, thousands of files), removes symbolic
 * links without following them, and is content with a path that is gone.
 * Built by driver/Makefile into driver/build/test_util.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

static int	n_test;
static int	n_fail;

static void ok(int cond, const char *fmt,...) __attribute__((format(printf, 2, 3)));

static void
ok(int cond, const char *fmt,...)
{
	va_list		ap;

	printf("%s %d - ", cond ? "ok" : "not ok", ++n_test);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!cond)
		n_fail++;
}

static void
touch(const char *dir, const char *name)
{
	char		path[1024];
	FILE	   *f;

	snprintf(path, sizeof(path), "%.512s/%.256s", dir, name);
	if ((f = fopen(path, "w")))
		fclose(f);
}

static bool
exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

int
main(void)
{
	char		top[] = "/tmp/dd-util-XXXXXX";
	char		tree[64],
				outside[64],
				path[512];

	if (!mkdtemp(top))
		return 1;
	snprintf(tree, sizeof(tree), "%s/tree", top);
	snprintf(outside, sizeof(outside), "%s/outside", top);
	snprintf(path, sizeof(path), "%s/a/b/c", tree);
	ok(mkdir_p(path, 0755, 0700), "mkdir_p makes the missing parents");
	ok(mkdir_p(path, 0755, 0700), "mkdir_p of an existing directory is fine");
	ok(mkdir(outside, 0755) == 0, "a directory outside the tree");
	touch(outside, "keep");
	snprintf(path, sizeof(path), "%s/a/b", tree);
	for (int i = 0; i < 3000; i++)
	{
		char		name[32];

		snprintf(name, sizeof(name), "f%d", i);
		touch(path, name);
	}
	touch(tree, "top-file");
	snprintf(path, sizeof(path), "%s/link-to-dir", tree);
	ok(symlink(outside, path) == 0, "a link to the outside directory in the tree");
	snprintf(path, sizeof(path), "%s/a/b/c/link-to-file", tree);
	{
		char		target[128];

		snprintf(target, sizeof(target), "%s/keep", outside);
		ok(symlink(target, path) == 0, "a link to a file outside, deep in the tree");
	}
	ok(remove_tree(tree), "remove_tree removes the tree");
	ok(!exists(tree), "nothing of the tree is left");
	snprintf(path, sizeof(path), "%s/keep", outside);
	ok(exists(path), "what the links pointed to is untouched");
	ok(remove_tree(tree), "remove_tree of a path that is gone succeeds");
	snprintf(path, sizeof(path), "%s/link", top);
	ok(symlink(outside, path) == 0 && remove_tree(path) && !exists(path) && exists(outside),
	   "remove_tree of a link to a directory removes the link only");
	ok(remove_tree(top) && !exists(top), "cleanup");
	printf("1..%d\n", n_test);
	return n_fail ? 1 : 0;
}

/*
 * test_util.c -- TAP unit tests for util.c's remove_tree(): it removes a
 * whole tree (nested directories, thousands of files), removes symbolic
 * links without following them, and is content with a path that is gone;
 * and for copy_tree.c's copy_tree(): the same bytes, modes and links in a
 * tree of a thousand files (both threads at work), a 3 MB file whole, and a
 * clear refusal of a FIFO or of a destination that exists.
 * Built by driver/Makefile into driver/build/test_util.
 */
#include <fcntl.h>
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

/* Write n bytes of a pattern that depends on seed. */
static bool
write_pattern(const char *path, size_t n, unsigned seed, mode_t mode)
{
	int			fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	char		buf[4096];
	size_t		done = 0;

	if (fd < 0)
		return false;
	while (done < n)
	{
		size_t		k = n - done < sizeof(buf) ? n - done : sizeof(buf);

		for (size_t i = 0; i < k; i++)
			buf[i] = (char) ((done + i) * 31 + seed);
		if (write(fd, buf, k) != (ssize_t) k)
			break;
		done += k;
	}
	fchmod(fd, mode);
	return close(fd) == 0 && done == n;
}

/* Same bytes and mode? */
static bool
same_file(const char *a, const char *b)
{
	struct stat sa,
				sb;
	char		ba[4096],
				bb[4096];
	FILE	   *fa,
			   *fb;
	bool		same = true;
	size_t		na,
				nb;

	if (stat(a, &sa) != 0 || stat(b, &sb) != 0 || sa.st_size != sb.st_size ||
		(sa.st_mode & 07777) != (sb.st_mode & 07777))
		return false;
	fa = fopen(a, "r");
	fb = fopen(b, "r");
	while (same && fa && fb && (na = fread(ba, 1, sizeof(ba), fa)) > 0)
	{
		nb = fread(bb, 1, sizeof(bb), fb);
		same = na == nb && memcmp(ba, bb, na) == 0;
	}
	if (fa)
		fclose(fa);
	if (fb)
		fclose(fb);
	return same && fa && fb;
}

static void
test_copy_tree(const char *top)
{
	char		src[128],
				dst[128],
				a[512],
				b[512],
				err[1024];
	bool		all_same = true;
	char		target[PATH_MAX];
	ssize_t		n;
	struct stat st;

	snprintf(src, sizeof(src), "%s/csrc", top);
	snprintf(dst, sizeof(dst), "%s/cdst", top);
	snprintf(a, sizeof(a), "%s/base/16384", src);
	ok(mkdir_p(a, 0700, 0700), "copy_tree: a source tree");
	for (int i = 0; i < 1000; i++)
	{
		snprintf(a, sizeof(a), "%s/base/16384/%d", src, 1000 + i);
		write_pattern(a, (size_t) (i % 7) * 8192 + (size_t) i, (unsigned) i, i % 2 ? 0600 : 0640);
	}
	snprintf(a, sizeof(a), "%s/pg_wal", src);
	mkdir(a, 0750);
	snprintf(a, sizeof(a), "%s/pg_wal/000000010000000000000001", src);
	ok(write_pattern(a, 3 * 1024 * 1024 + 17, 7, 0600), "copy_tree: a 3 MB file");
	snprintf(a, sizeof(a), "%s/empty", src);
	write_pattern(a, 0, 0, 0644);
	snprintf(a, sizeof(a), "%s/link", src);
	ok(symlink("base/16384/1000", a) == 0, "copy_tree: a relative link");

	ok(copy_tree(src, dst, err, sizeof(err)), "copy_tree copies the tree (%s)", err);
	for (int i = 0; i < 1000 && all_same; i++)
	{
		snprintf(a, sizeof(a), "%s/base/16384/%d", src, 1000 + i);
		snprintf(b, sizeof(b), "%s/base/16384/%d", dst, 1000 + i);
		all_same = same_file(a, b);
	}
	ok(all_same, "copy_tree: a thousand files, the same bytes and modes");
	snprintf(a, sizeof(a), "%s/pg_wal/000000010000000000000001", src);
	snprintf(b, sizeof(b), "%s/pg_wal/000000010000000000000001", dst);
	ok(same_file(a, b), "copy_tree: the 3 MB file whole");
	snprintf(b, sizeof(b), "%s/pg_wal", dst);
	ok(stat(b, &st) == 0 && (st.st_mode & 07777) == 0750, "copy_tree: a directory's mode");
	snprintf(b, sizeof(b), "%s/empty", dst);
	ok(stat(b, &st) == 0 && st.st_size == 0 && (st.st_mode & 07777) == 0644, "copy_tree: an empty file");
	snprintf(b, sizeof(b), "%s/link", dst);
	n = readlink(b, target, sizeof(target) - 1);
	ok(n > 0 && (target[n] = '\0', strcmp(target, "base/16384/1000") == 0), "copy_tree: the link, as a link");

	ok(!copy_tree(src, dst, err, sizeof(err)) && strstr(err, "cdst") != NULL,
	   "copy_tree into a destination that exists: refused (%s)", err);
	snprintf(a, sizeof(a), "%s/fifo", src);
	ok(mkfifo(a, 0600) == 0, "copy_tree: a FIFO in the source");
	snprintf(b, sizeof(b), "%s/cdst2", top);
	ok(!copy_tree(src, b, err, sizeof(err)) && strstr(err, "fifo") != NULL,
	   "copy_tree of a tree with a FIFO: refused, naming it (%s)", err);
	ok(remove_tree(b) && remove_tree(dst) && remove_tree(src), "copy_tree: cleanup");
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
	test_copy_tree(top);
	ok(remove_tree(top) && !exists(top), "cleanup");
	printf("1..%d\n", n_test);
	return n_fail ? 1 : 0;
}

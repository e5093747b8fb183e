/*
 * test_sha256.c
 *		TAP unit tests of driver/src/lib/sha256.c: the FIPS 180-2 example
 *		vectors, then every length across the padding's block boundaries
 *		hashed whole and from a file must agree.  With a FILE argument it
 *		prints sha256_file_hex(FILE) instead (12_sha256_unit.t compares it
 *		with sha256sum).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sha256.h"

static int	n_tests = 0;
static int	n_failed = 0;

static void
ok(int cond, const char *what)
{
	n_tests++;
	if (!cond)
		n_failed++;
	printf("%s %d - %s\n", cond ? "ok" : "not ok", n_tests, what);
}

static void
vector(const char *msg, size_t len, const char *want, const char *what)
{
	char		hex[SHA256_HEX_LEN + 1];

	ok(sha256_hex(msg, len, hex) == 0 && strcmp(hex, want) == 0, what);
}

int
main(int argc, char **argv)
{
	char		hex[SHA256_HEX_LEN + 1];
	char		fhex[SHA256_HEX_LEN + 1];
	char		err[256];
	char		path[] = "/tmp/test_sha256.XXXXXX";
	unsigned char buf[200];
	char	   *million;
	int			fd;
	int			lengths_ok = 1;

	if (argc == 2)
	{
		if (sha256_file_hex(argv[1], hex, err, sizeof(err)) != 0)
		{
			fprintf(stderr, "%s\n", err);
			return 1;
		}
		printf("%s\n", hex);
		return 0;
	}

	/* FIPS 180-2, appendix B */
	vector("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "\"abc\"");
	vector("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56,
		   "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1", "448-bit message");
	million = malloc(1000000);
	memset(million, 'a', 1000000);
	vector(million, 1000000, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
		   "one million 'a'");
	vector("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "empty");

	/* the file path reads in 64 KiB blocks: it must agree with the whole buffer */
	fd = mkstemp(path);
	if (fd < 0 || write(fd, million, 1000000) != 1000000)
		ok(0, "temporary file written");
	else
	{
		ok(sha256_file_hex(path, fhex, err, sizeof(err)) == 0 &&
		   strcmp(fhex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0") == 0,
		   "one million 'a' from a file");
		/* lengths 0..199 cross the 55/56 and 63/64 padding boundaries twice */
		for (size_t len = 0; len < sizeof(buf); len++)
		{
			buf[len] = (unsigned char) (len * 7 + 3);
			if (ftruncate(fd, 0) != 0 || pwrite(fd, buf, len, 0) != (ssize_t) len ||
				sha256_hex(buf, len, hex) != 0 ||
				sha256_file_hex(path, fhex, err, sizeof(err)) != 0 || strcmp(hex, fhex) != 0)
				lengths_ok = 0;
		}
		ok(lengths_ok, "lengths 0..199: buffer and file agree");
	}
	if (fd >= 0)
	{
		close(fd);
		unlink(path);
	}
	free(million);
	ok(sha256_file_hex("/nonexistent/x", fhex, err, sizeof(err)) == -1 &&
	   strstr(err, "cannot open /nonexistent/x") != NULL, "a missing file: -1 and a message");
	printf("1..%d\n", n_tests);
	return n_failed ? 1 : 0;
}

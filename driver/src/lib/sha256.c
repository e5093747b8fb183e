/*
 * sha256.c -- see sha256.h.
 */
#include "sha256.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

static void
to_hex(const unsigned char *md, unsigned n, char *out)
{
	static const char hx[] = "0123456789abcdef";

	for (unsigned i = 0; i < n; i++)
	{
		out[2 * i] = hx[md[i] >> 4];
		out[2 * i + 1] = hx[md[i] & 15];
	}
	out[2 * n] = '\0';
}

int
sha256_hex(const void *buf, size_t len, char out[SHA256_HEX_LEN + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	out[0] = '\0';
	if (EVP_Digest(buf, len, md, &n, EVP_sha256(), NULL) != 1 || n != 32)
		return -1;
	to_hex(md, n, out);
	return 0;
}

int
sha256_file_hex(const char *path, char out[SHA256_HEX_LEN + 1], char *err, size_t errsz)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	char		block[65536];
	EVP_MD_CTX *ctx;
	int			fd;
	int			rc = -1;

	out[0] = '\0';
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
	{
		snprintf(err, errsz, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	ctx = EVP_MD_CTX_new();
	if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
	{
		snprintf(err, errsz, "cannot hash %s: OpenSSL error", path);
		goto done;
	}
	for (;;)
	{
		ssize_t		r = read(fd, block, sizeof(block));

		if (r < 0)
		{
			if (errno == EINTR)
				continue;
			snprintf(err, errsz, "cannot read %s: %s", path, strerror(errno));
			goto done;
		}
		if (r == 0)
			break;
		if (EVP_DigestUpdate(ctx, block, (size_t) r) != 1)
		{
			snprintf(err, errsz, "cannot hash %s: OpenSSL error", path);
			goto done;
		}
	}
	if (EVP_DigestFinal_ex(ctx, md, &n) != 1 || n != 32)
	{
		snprintf(err, errsz, "cannot hash %s: OpenSSL error", path);
		goto done;
	}
	to_hex(md, n, out);
	rc = 0;
done:
	EVP_MD_CTX_free(ctx);
	close(fd);
	return rc;
}

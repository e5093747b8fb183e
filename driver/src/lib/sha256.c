/*
 * sha256.c -- see sha256.h.
 *
 * SHA-256 as FIPS 180-4 specifies it, here rather than through OpenSSL:
 * the driver only hashes (report checksums, cache and template keys), and
 * OpenSSL 3's EVP layer initialises its providers and configuration on the
 * first digest, which made about 2 MB of libcrypto resident in every run
 * (a third of the driver's peak RSS on a small migration).
 */
#include "sha256.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

typedef struct sha256_ctx
{
	uint32_t	h[8];
	uint64_t	bytes;			/* message length so far */
	unsigned char block[64];
	size_t		used;			/* bytes in block */
} sha256_ctx;

static const uint32_t K[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2
};

static uint32_t
ror(uint32_t x, unsigned n)
{
	return (x >> n) | (x << (32 - n));
}

static void
sha256_init(sha256_ctx *c)
{
	static const uint32_t h0[8] = {
		0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19
	};

	memcpy(c->h, h0, sizeof(h0));
	c->bytes = 0;
	c->used = 0;
}

/* one 64-byte block into the state */
static void
sha256_block(sha256_ctx *c, const unsigned char *p)
{
	uint32_t	w[64];
	uint32_t	a = c->h[0],
				b = c->h[1],
				cc = c->h[2],
				d = c->h[3],
				e = c->h[4],
				f = c->h[5],
				g = c->h[6],
				h = c->h[7];

	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t) p[4 * i] << 24 | (uint32_t) p[4 * i + 1] << 16 |
			(uint32_t) p[4 * i + 2] << 8 | (uint32_t) p[4 * i + 3];
	for (int i = 16; i < 64; i++)
	{
		uint32_t	s0 = ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >> 3);
		uint32_t	s1 = ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >> 10);

		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	for (int i = 0; i < 64; i++)
	{
		uint32_t	t1 = h + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
		uint32_t	t2 = (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & b) ^ (a & cc) ^ (b & cc));

		h = g;
		g = f;
		f = e;
		e = d + t1;
		d = cc;
		cc = b;
		b = a;
		a = t1 + t2;
	}
	c->h[0] += a;
	c->h[1] += b;
	c->h[2] += cc;
	c->h[3] += d;
	c->h[4] += e;
	c->h[5] += f;
	c->h[6] += g;
	c->h[7] += h;
}

static void
sha256_update(sha256_ctx *c, const void *data, size_t len)
{
	const unsigned char *p = data;

	c->bytes += len;
	if (c->used)
	{
		size_t		take = 64 - c->used < len ? 64 - c->used : len;

		memcpy(c->block + c->used, p, take);
		c->used += take;
		p += take;
		len -= take;
		if (c->used < 64)
			return;
		sha256_block(c, c->block);
		c->used = 0;
	}
	for (; len >= 64; p += 64, len -= 64)
		sha256_block(c, p);
	memcpy(c->block, p, len);
	c->used = len;
}

/* padding, length, and the digest as 64 lower-case hex digits */
static void
sha256_final_hex(sha256_ctx *c, char out[SHA256_HEX_LEN + 1])
{
	static const char hx[] = "0123456789abcdef";
	uint64_t	bits = c->bytes * 8;

	c->block[c->used++] = 0x80;
	if (c->used > 56)
	{
		memset(c->block + c->used, 0, 64 - c->used);
		sha256_block(c, c->block);
		c->used = 0;
	}
	memset(c->block + c->used, 0, 56 - c->used);
	for (int i = 0; i < 8; i++)
		c->block[56 + i] = (unsigned char) (bits >> (56 - 8 * i));
	sha256_block(c, c->block);
	for (int i = 0; i < 32; i++)
	{
		unsigned	byte = (c->h[i / 4] >> (24 - 8 * (i % 4))) & 0xff;

		out[2 * i] = hx[byte >> 4];
		out[2 * i + 1] = hx[byte & 15];
	}
	out[SHA256_HEX_LEN] = '\0';
}

int
sha256_hex(const void *buf, size_t len, char out[SHA256_HEX_LEN + 1])
{
	sha256_ctx	c;

	sha256_init(&c);
	sha256_update(&c, buf, len);
	sha256_final_hex(&c, out);
	return 0;
}

int
sha256_file_hex(const char *path, char out[SHA256_HEX_LEN + 1], char *err, size_t errsz)
{
	char		block[65536];
	sha256_ctx	c;
	int			fd;

	out[0] = '\0';
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
	{
		snprintf(err, errsz, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	sha256_init(&c);
	for (;;)
	{
		ssize_t		r = read(fd, block, sizeof(block));

		if (r < 0)
		{
			if (errno == EINTR)
				continue;
			snprintf(err, errsz, "cannot read %s: %s", path, strerror(errno));
			close(fd);
			return -1;
		}
		if (r == 0)
			break;
		sha256_update(&c, block, (size_t) r);
	}
	close(fd);
	sha256_final_hex(&c, out);
	return 0;
}

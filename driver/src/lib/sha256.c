/*
 * sha256.c -- see sha256.h.
 *
 * SHA-256 as FIPS 180-4 specifies it, here rather than through OpenSSL:
 * the driver only hashes (report checksums, cache and template keys), and
 * OpenSSL 3's EVP layer initialises its providers and configuration on the
 * first digest, which made about 2 MB of libcrypto resident in every run
 * (a third of the driver's peak RSS on a small migration).  On x86-64 with
 * the SHA extensions the blocks go through them (as OpenSSL's would): a
 * large run hashes megabytes (its pgTAP script, the report's files).
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

#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>
#include <immintrin.h>
#define HAVE_SHA_NI 1

/*
 * The same blocks with the x86 SHA extensions (Intel's reference sequence):
 * about six times faster, and a large run hashes megabytes (the pgTAP
 * script, the report files).  state in FIPS order, data: nblocks blocks.
 */
__attribute__((target("sha,sse4.1,ssse3")))
static void
sha256_blocks_ni(uint32_t state[8], const unsigned char *data, size_t nblocks)
{
	const __m128i mask = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
	__m128i		tmp = _mm_loadu_si128((const __m128i *) &state[0]);
	__m128i		st1 = _mm_loadu_si128((const __m128i *) &state[4]);
	__m128i		st0;

	tmp = _mm_shuffle_epi32(tmp, 0xB1); /* CDAB */
	st1 = _mm_shuffle_epi32(st1, 0x1B); /* EFGH */
	st0 = _mm_alignr_epi8(tmp, st1, 8); /* ABEF */
	st1 = _mm_blend_epi16(st1, tmp, 0xF0);	/* CDGH */

	for (; nblocks > 0; nblocks--, data += 64)
	{
		__m128i		abef = st0,
					cdgh = st1;
		__m128i		w[4];

		/* 16 groups of 4 rounds; w[] the message schedule, 4 words each */
		for (int i = 0; i < 16; i++)
		{
			__m128i		msg;

			if (i < 4)
				w[i] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *) (data + 16 * i)), mask);
			msg = _mm_add_epi32(w[i % 4], _mm_loadu_si128((const __m128i *) &K[4 * i]));
			st1 = _mm_sha256rnds2_epu32(st1, st0, msg);
			if (i >= 3 && i <= 14)
			{
				tmp = _mm_alignr_epi8(w[i % 4], w[(i + 3) % 4], 4);
				w[(i + 1) % 4] = _mm_add_epi32(w[(i + 1) % 4], tmp);
				w[(i + 1) % 4] = _mm_sha256msg2_epu32(w[(i + 1) % 4], w[i % 4]);
			}
			msg = _mm_shuffle_epi32(msg, 0x0E);
			st0 = _mm_sha256rnds2_epu32(st0, st1, msg);
			if (i >= 1 && i <= 12)
				w[(i + 3) % 4] = _mm_sha256msg1_epu32(w[(i + 3) % 4], w[i % 4]);
		}
		st0 = _mm_add_epi32(st0, abef);
		st1 = _mm_add_epi32(st1, cdgh);
	}
	tmp = _mm_shuffle_epi32(st0, 0x1B); /* FEBA */
	st1 = _mm_shuffle_epi32(st1, 0xB1); /* DCHG */
	st0 = _mm_blend_epi16(tmp, st1, 0xF0);	/* DCBA */
	st1 = _mm_alignr_epi8(st1, tmp, 8); /* HGFE */
	_mm_storeu_si128((__m128i *) &state[0], st0);
	_mm_storeu_si128((__m128i *) &state[4], st1);
}
#endif

bool		sha256_portable_only = false;

/* nblocks 64-byte blocks into the state, with the CPU's SHA extensions if any */
static void
sha256_blocks(sha256_ctx *c, const unsigned char *p, size_t nblocks)
{
#ifdef HAVE_SHA_NI
	static int	ni = -1;

	if (ni < 0)
	{
		unsigned	a,
					b,
					c1,
					d;

		/* CPUID 7.0 EBX bit 29: SHA; 1 ECX bits 19, 9: SSE4.1, SSSE3 */
		ni = __get_cpuid_count(7, 0, &a, &b, &c1, &d) && (b >> 29 & 1) &&
			__get_cpuid(1, &a, &b, &c1, &d) && (c1 >> 19 & 1) && (c1 >> 9 & 1);
	}
	if (ni && !sha256_portable_only)
	{
		sha256_blocks_ni(c->h, p, nblocks);
		return;
	}
#endif
	for (; nblocks > 0; nblocks--, p += 64)
		sha256_block(c, p);
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
		sha256_blocks(c, c->block, 1);
		c->used = 0;
	}
	sha256_blocks(c, p, len / 64);
	p += len / 64 * 64;
	len %= 64;
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
		sha256_blocks(c, c->block, 1);
		c->used = 0;
	}
	memset(c->block + c->used, 0, 56 - c->used);
	for (int i = 0; i < 8; i++)
		c->block[56 + i] = (unsigned char) (bits >> (56 - 8 * i));
	sha256_blocks(c, c->block, 1);
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

/*
 * sha256.h -- SHA-256 as lower-case hex, through OpenSSL EVP (-lcrypto).
 */
#ifndef DRYDOCK_SHA256_H
#define DRYDOCK_SHA256_H

#include <stddef.h>

#define SHA256_HEX_LEN 64

/* hash of buf[0..len); out gets 64 hex digits + NUL.  0 on success, -1 if
 * OpenSSL fails (out is then ""). */
int			sha256_hex(const void *buf, size_t len, char out[SHA256_HEX_LEN + 1]);

/* hash of a file's contents, read in blocks.  0 on success; -1 with a
 * one-line message in err (e.g. "cannot open x: No such file or directory"). */
int			sha256_file_hex(const char *path, char out[SHA256_HEX_LEN + 1],
							char *err, size_t errsz);

#endif							/* DRYDOCK_SHA256_H */

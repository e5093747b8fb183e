/*
 * redact.h -- remove secrets (e.g. PASSWORD literals found by the preflight)
 * from any text before it is printed or written: psql output, server log
 * excerpts, reports.
 */
#ifndef DRYDOCK_REDACT_H
#define DRYDOCK_REDACT_H

#include <stddef.h>

#define REDACTED_MARK "[REDACTED]"

/*
 * A newly malloc'd, NUL-terminated copy of text[0..len) in which every
 * occurrence of each secret -- and of its SQL single-quoted form, where each
 * ' is doubled -- is replaced by "[REDACTED]".  The longest match wins at each
 * position; empty secrets and NULL entries are ignored.  text may contain NUL
 * bytes (use redact_secrets_len to get the length back).  Returns NULL only
 * when out of memory.
 */
char	   *redact_secrets(const char *text, size_t len, char *const *secrets, size_t n);
char	   *redact_secrets_len(const char *text, size_t len, char *const *secrets, size_t n,
							   size_t *out_len);

#endif							/* DRYDOCK_REDACT_H */

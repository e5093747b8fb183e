/*
 * suppress.h -- accepted findings: the inline directives of the artifacts
 * and the policy's "suppress" / "allow_suppress" keys (docs/codes.md,
 * "Suppressions").
 *
 *   -- drydock:ignore CODE[,CODE] [OBJECT] -- reason     (the next statement)
 *   -- drydock:ignore-file CODE[,CODE] -- reason         (the whole run)
 *   -- drydock:accept-residue KIND IDENTITY -- reason    (rollback only)
 *
 * One mechanism: every directive becomes an entry of the policy's
 * "suppress" list ({code, object glob, reason, source "FILE:LINE"}) that the
 * extension applies in drydock.verify() / verify_rollback().  The driver
 * checks the directives before any cluster exists (bad input: exit 2 with
 * FILE:LINE), enforces allow_suppress on them, and afterwards annotates the
 * rows and residue the extension returned (run_suppress.c).
 */
#ifndef DRYDOCK_SUPPRESS_H
#define DRYDOCK_SUPPRESS_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "preflight.h"

/*
 * Every stable finding code (the extension's drydock.finding_codes(), which
 * test/driver/40_suppress.t compares with this table and docs/codes.md).
 */
typedef struct suppress_code
{
	const char *code;
	const char *family;
	bool		suppressible;	/* reported by verify()/verify_rollback() */
} suppress_code;

extern const suppress_code suppress_codes[];
extern const size_t suppress_n_codes;

/*
 * Parse the directives of one artifact into suppression entries appended to
 * out.  allow: the policy's allow_suppress (NULL or null: every code).
 * schema qualifies unqualified object names.  0, or -1 with "message" in
 * err and the line in *err_line (bad input).
 */
int			suppress_parse_artifact(const preflight_result *pf, const char *path, bool rollback,
									const char *schema, json_t *allow, json_t *out,
									unsigned *err_line, char *err, size_t errlen);

/* Check the policy's suppress / allow_suppress keys; 0, or -1 with err. */
int			suppress_check_policy(json_t *policy, char *err, size_t errlen);

#endif							/* DRYDOCK_SUPPRESS_H */

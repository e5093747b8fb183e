/*
 * run_suppress.h
 *		Suppressions in the run pipeline (run_suppress.c): the hooks that
 *		tie suppress.c's parsed entries to a run's context.
 */
#ifndef DRYDOCK_RUN_SUPPRESS_H
#define DRYDOCK_RUN_SUPPRESS_H

#include <stdbool.h>

#include <jansson.h>

#include "run.h"

/* the policy's suppress / allow_suppress keys; 0, or EXIT_USAGE (recorded) */
int			run_suppress_check_policy(run_ctx *ctx);

/*
 * An artifact's inline directives as suppress entries appended to out (the
 * policy's allow_suppress enforced); 0, or EXIT_USAGE recorded at FILE:LINE.
 */
int			run_suppress_collect(run_ctx *ctx, const artifact *a, bool rollback, json_t *out);

/* before any cluster: check the policy keys and every artifact's directives */
int			suppress_prepare(run_ctx *ctx);

/* a copy of ctx->policy with the inline entries appended to "suppress" */
json_t	   *suppress_policy(run_ctx *ctx);

/* give each suppressed/stale/expired row a "suppression" {source, reason, state} */
void		suppress_annotate_rows(run_ctx *ctx, json_t *rows);

/* give residue rows an accepted KIND IDENTITY an "accepted" {source, reason} */
void		suppress_mark_residue(run_ctx *ctx, json_t *residue);

#endif							/* DRYDOCK_RUN_SUPPRESS_H */

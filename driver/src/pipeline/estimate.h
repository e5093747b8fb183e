/*
 * estimate.h
 *		Production impact of the locks on pre-existing relations, from
 *		--prod-stats (estimate.c).
 */
#ifndef DRYDOCK_ESTIMATE_H
#define DRYDOCK_ESTIMATE_H

#include <jansson.h>

#include "run.h"

/*
 * With --prod-stats, after the rounds (the sandbox still up): calibrate each
 * locked relation that production's statistics describe and estimate how
 * long each lock would be held there (report.production_impact); an
 * estimate over policy key max_lock_seconds counts as a failing check.
 * 0 or an exit code (recorded).
 */
int			run_estimate(run_ctx *ctx);

/* Give each row of report.locks its "production_impact" summary. */
void		estimate_attach(json_t *report);

#endif							/* DRYDOCK_ESTIMATE_H */

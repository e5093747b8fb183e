/*
 * prod_stats.h
 *		drydock stats-query, --prod-stats FILE and --synthetic-rows N
 *		(prod_stats.c).
 */
#ifndef DRYDOCK_PROD_STATS_H
#define DRYDOCK_PROD_STATS_H

#include "run.h"
#include "util.h"

/* drydock stats-query: print the read-only statistics query. */
int			cmd_stats_query(int argc, char **argv);

/*
 * Read and validate --prod-stats (no cluster needed): records its path,
 * sha256 and collection time in the report.  0 or EXIT_USAGE (recorded).
 */
int			prod_stats_load(run_ctx *ctx);

/*
 * --synthetic-rows: fill the pre-existing tables (after the base, before the
 * baseline) and record what was and was not generated.  0 or an exit code.
 */
int			run_synthesize(run_ctx *ctx);

/* Append the synthetic-rows sentence of fidelity note N-3 to text. */
void		prod_stats_residuals(run_ctx *ctx, strbuf *text);

#endif							/* DRYDOCK_PROD_STATS_H */

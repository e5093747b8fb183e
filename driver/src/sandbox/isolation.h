/*
 * isolation.h
 *		The proof that the sandbox is not production and cannot be reached
 *		from the network, gathered before any artifact runs.
 */
#ifndef DRYDOCK_ISOLATION_H
#define DRYDOCK_ISOLATION_H

#include <stdbool.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "sandbox.h"

/*
 * Check every fact; returns true when all hold.  facts receives one entry
 * per fact ({fact, expected, observed, ok}); reason the first failure.
 */
bool		isolation_prove(sandbox *sb, PGconn *conn, char *const *prod_sysids, int n_prod,
							json_t *facts, char *reason, size_t reasonlen);

#endif							/* DRYDOCK_ISOLATION_H */

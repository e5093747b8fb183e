/*
 * srf.h
 *		Materialized set-returning functions across PostgreSQL majors.
 */
#ifndef DRYDOCK_SRF_H
#define DRYDOCK_SRF_H

#include "postgres.h"

#include "fmgr.h"
#include "utils/tuplestore.h"

/*
 * Set up a materialized SRF result (a tuplestore in the per-query context)
 * for the calling function and return its tuplestore and descriptor.
 */
extern void drydock_init_srf(FunctionCallInfo fcinfo, Tuplestorestate **tupstore,
							 TupleDesc *tupdesc);

#endif							/* DRYDOCK_SRF_H */

/*
 * srf.c
 *		Materialized set-returning functions across PostgreSQL majors: one
 *		place for the version guards (every SRF of the extension uses it).
 *
 * InitMaterializedSRF() first shipped in 15.1 (a rename of 15.0's
 * SetSingleFuncCall(), which every 15.x keeps); 13 and 14 have neither and
 * get the classic hand-made setup.
 */
#include "postgres.h"

#include "funcapi.h"
#include "miscadmin.h"
#include "srf.h"

void
drydock_init_srf(FunctionCallInfo fcinfo, Tuplestorestate **tupstore, TupleDesc *tupdesc)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

#if PG_VERSION_NUM >= 150001
	InitMaterializedSRF(fcinfo, 0);
#elif PG_VERSION_NUM >= 150000
	SetSingleFuncCall(fcinfo, 0);
#else
	{
		MemoryContext oldcontext;
		TupleDesc	desc;

		if (rsinfo == NULL || !IsA(rsinfo, ReturnSetInfo))
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("set-valued function called in context that cannot accept a set")));
		if (!(rsinfo->allowedModes & SFRM_Materialize))
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("materialize mode required, but it is not allowed in this context")));
		if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
			elog(ERROR, "return type must be a row type");
		oldcontext = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
		rsinfo->returnMode = SFRM_Materialize;
		rsinfo->setResult = tuplestore_begin_heap(true, false, work_mem);
		rsinfo->setDesc = CreateTupleDescCopy(desc);
		MemoryContextSwitchTo(oldcontext);
	}
#endif
	*tupstore = rsinfo->setResult;
	*tupdesc = rsinfo->setDesc;
}

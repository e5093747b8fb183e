/*
 * pgtap_gen.h
 *		pgTAP script generation (pgtap_gen.c).
 */
#ifndef DRYDOCK_PGTAP_GEN_H
#define DRYDOCK_PGTAP_GEN_H

#include "fmgr.h"

extern Datum drydock_pgtap_script(PG_FUNCTION_ARGS);

#endif							/* DRYDOCK_PGTAP_GEN_H */

/*
 * capture.h
 *		DDL capture event-trigger functions (capture.c).
 */
#ifndef DRYDOCK_CAPTURE_H
#define DRYDOCK_CAPTURE_H

#include "fmgr.h"

extern Datum drydock_capture_ddl_command_start(PG_FUNCTION_ARGS);
extern Datum drydock_capture_ddl_command_end(PG_FUNCTION_ARGS);
extern Datum drydock_capture_sql_drop(PG_FUNCTION_ARGS);
extern Datum drydock_capture_table_rewrite(PG_FUNCTION_ARGS);

#endif							/* DRYDOCK_CAPTURE_H */

/*
 * capture.c
 *		DDL capture: the C event-trigger functions behind drydock.ddl_log.
 *
 * Three event triggers (installed by extension/sql/20_capture.sql) call the
 * functions here:
 *
 *	ddl_command_end	one log row per command collected by
 *					pg_event_trigger_ddl_commands(), flagged rewrite = true when
 *					a table_rewrite event fired for that table in the statement;
 *	sql_drop		one log row per object of pg_event_trigger_dropped_objects(),
 *					cascade = (NOT original AND normal), i.e. dropped through a
 *					normal dependency rather than named by the statement;
 *	table_rewrite	remembers the rewritten table so that ddl_command_end of the
 *					same statement can flag it.
 *
 * Capture is driven by drydock.capture_state, a table, so that statements
 * of ANY session are captured (the driver applies the migration with a
 * separate psql).  When no phase is active the functions return after one
 * syscache lookup and one single-row read.
 *
 * Every row carries "locks": the strongest lock mode the backend holds, at
 * that moment, on each relation that existed when the phase began
 * (drydock.capture_baseline), rendered "schema.name:LockMode".  Locks are
 * held to the end of the transaction, so a statement's row also shows locks
 * taken earlier in the same transaction: exactly what production sessions
 * would queue behind.
 *
 * The functions are SECURITY DEFINER (see the SQL script): a non-superuser
 * apply role is captured but cannot write or read the log itself.
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/event_trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/proc.h"
#include "tcop/cmdtag.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "capture.h"

PG_FUNCTION_INFO_V1(drydock_capture_ddl_command_end);
PG_FUNCTION_INFO_V1(drydock_capture_sql_drop);
PG_FUNCTION_INFO_V1(drydock_capture_table_rewrite);

/*
 * Tables rewritten in the current statement, filled by table_rewrite and
 * consumed by ddl_command_end.  Tagged with the local transaction id so a
 * list left over by a failed statement is never applied to a later one.
 */
static List *rewritten_relids = NIL;
static LocalTransactionId rewritten_lxid = InvalidLocalTransactionId;

#if PG_VERSION_NUM >= 170000
#define CURRENT_LXID()	(MyProc->vxid.lxid)
#else
#define CURRENT_LXID()	(MyProc->lxid)
#endif

/*
 * The strongest granted relation lock this backend holds on each baseline
 * relation, as a text[] ("schema.name:Mode", sorted).  Shared by all inserts.
 */
#define LOCKS_CTE \
	"lk AS (" \
	" SELECT coalesce(array_agg(b.relname || ':' || l.mode ORDER BY b.relname)," \
	"                 '{}'::text[]) AS locks" \
	"   FROM (SELECT DISTINCT ON (relation) relation, mode" \
	"           FROM pg_catalog.pg_locks" \
	"          WHERE locktype = 'relation' AND granted" \
	"            AND pid = pg_catalog.pg_backend_pid()" \
	"            AND database = (SELECT oid FROM pg_catalog.pg_database" \
	"                             WHERE datname = pg_catalog.current_database())" \
	"          ORDER BY relation, pg_catalog.array_position(ARRAY[" \
	"                'AccessShareLock', 'RowShareLock', 'RowExclusiveLock'," \
	"                'ShareUpdateExclusiveLock', 'ShareLock', 'ShareRowExclusiveLock'," \
	"                'ExclusiveLock', 'AccessExclusiveLock'], mode) DESC) l" \
	"   JOIN drydock.capture_baseline b ON b.relid = l.relation)"

/*
 * Is a phase active?  Returns it (palloc'd in the SPI caller's context) or
 * NULL.  Must be called while connected to SPI.  Returns NULL too while the
 * extension is being dropped (capture_state already gone).
 */
static char *
active_phase(void)
{
	Oid			nsp = get_namespace_oid("drydock", true);
	char	   *phase = NULL;
	int			ret;

	if (!OidIsValid(nsp) || !OidIsValid(get_relname_relid("capture_state", nsp)))
		return NULL;

	ret = SPI_execute("SELECT phase FROM drydock.capture_state"
					  " WHERE id = 1 AND phase IS NOT NULL", true, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "drydock: reading capture_state failed: %s",
			 SPI_result_code_string(ret));
	if (SPI_processed == 1)
		phase = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	return phase;
}

static EventTriggerData *
check_event_trigger_call(FunctionCallInfo fcinfo, const char *fname)
{
	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function \"%s\" was not called by the event trigger manager",
						fname),
				 errhint("It is installed by CREATE EXTENSION drydock as an event trigger function.")));
	return (EventTriggerData *) fcinfo->context;
}

/* Run one INSERT with (phase text, tag text, rewritten oid[]) parameters. */
static void
run_insert(const char *sql, const char *phase, const char *tag, Datum rewritten)
{
	Oid			argtypes[3] = {TEXTOID, TEXTOID, OIDARRAYOID};
	Datum		values[3];
	int			ret;

	values[0] = CStringGetTextDatum(phase);
	values[1] = CStringGetTextDatum(tag);
	values[2] = rewritten;
	ret = SPI_execute_with_args(sql, 3, argtypes, values, NULL, false, 0);
	if (ret != SPI_OK_INSERT)
		elog(ERROR, "drydock: writing capture_log failed: %s",
			 SPI_result_code_string(ret));
}

static Datum
rewritten_array(void)
{
	int			n = 0;
	Datum	   *elems;
	ListCell   *lc;

	if (rewritten_lxid != CURRENT_LXID())
		return PointerGetDatum(construct_empty_array(OIDOID));
	elems = palloc(sizeof(Datum) * (list_length(rewritten_relids) + 1));
	foreach(lc, rewritten_relids)
		elems[n++] = ObjectIdGetDatum(lfirst_oid(lc));
	return PointerGetDatum(construct_array(elems, n, OIDOID, sizeof(Oid), true,
										   TYPALIGN_INT));
}

static void
forget_rewrites(void)
{
	list_free(rewritten_relids);
	rewritten_relids = NIL;
	rewritten_lxid = InvalidLocalTransactionId;
}

Datum
drydock_capture_ddl_command_end(PG_FUNCTION_ARGS)
{
	EventTriggerData *trigdata = check_event_trigger_call(fcinfo, "capture_ddl_command_end");
	char	   *phase;

	SPI_connect();
	phase = active_phase();
	if (phase != NULL)
	{
		/*
		 * Collected commands, plus a row for a rewritten table no collected
		 * command names (e.g. ALTER TYPE rewriting tables that use it).
		 */
		run_insert("WITH " LOCKS_CTE ","
				   " cmd AS (SELECT * FROM pg_catalog.pg_event_trigger_ddl_commands())"
				   " INSERT INTO drydock.capture_log (phase, command_tag, object_type,"
				   "   identity, rewrite, locks, event, classid, objid, objsubid, preexisting)"
				   " SELECT $1, c.command_tag, c.object_type, c.object_identity,"
				   "        c.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND c.objid = ANY ($3),"
				   "        lk.locks, 'ddl_command_end', c.classid, c.objid, c.objsubid,"
				   "        c.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND"
				   "        c.objid IN (SELECT relid FROM drydock.capture_baseline)"
				   "   FROM cmd c, lk"
				   " UNION ALL"
				   " SELECT $1, $2, 'table', (pg_catalog.pg_identify_object("
				   "          'pg_catalog.pg_class'::pg_catalog.regclass, r, 0)).identity,"
				   "        true, lk.locks, 'table_rewrite',"
				   "        'pg_catalog.pg_class'::pg_catalog.regclass, r, 0,"
				   "        r IN (SELECT relid FROM drydock.capture_baseline)"
				   "   FROM pg_catalog.unnest($3) r, lk"
				   "  WHERE r NOT IN (SELECT objid FROM cmd"
				   "                   WHERE classid = 'pg_catalog.pg_class'::pg_catalog.regclass)",
				   phase, GetCommandTagName(trigdata->tag), rewritten_array());
	}
	forget_rewrites();
	SPI_finish();
	PG_RETURN_NULL();
}

Datum
drydock_capture_sql_drop(PG_FUNCTION_ARGS)
{
	EventTriggerData *trigdata = check_event_trigger_call(fcinfo, "capture_sql_drop");
	char	   *phase;

	SPI_connect();
	phase = active_phase();
	if (phase != NULL)
		run_insert("WITH " LOCKS_CTE
				   " INSERT INTO drydock.capture_log (phase, command_tag, object_type,"
				   "   identity, cascade, locks, event, classid, objid, objsubid,"
				   "   preexisting, original, normal)"
				   " SELECT $1, $2, d.object_type, d.object_identity,"
				   "        NOT d.original AND d.normal, lk.locks, 'sql_drop',"
				   "        d.classid, d.objid, d.objsubid,"
				   "        d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND"
				   "        d.objid IN (SELECT relid FROM drydock.capture_baseline),"
				   "        d.original, d.normal"
				   "   FROM pg_catalog.pg_event_trigger_dropped_objects() d, lk"
				   "  WHERE NOT d.is_temporary AND $3 IS NOT NULL"
				   /* internal parts (row types, toast, RI triggers) are noise */
				   "    AND d.schema_name IS DISTINCT FROM 'pg_toast'"
				   "    AND (d.original OR d.normal OR"
				   "         d.object_type NOT IN ('type', 'trigger', 'toast table'))",
				   phase, GetCommandTagName(trigdata->tag),
				   PointerGetDatum(construct_empty_array(OIDOID)));
	SPI_finish();
	PG_RETURN_NULL();
}

Datum
drydock_capture_table_rewrite(PG_FUNCTION_ARGS)
{
	char	   *phase;

	(void) check_event_trigger_call(fcinfo, "capture_table_rewrite");
	SPI_connect();
	phase = active_phase();
	if (phase != NULL)
	{
		int			ret;
		bool		isnull;
		Oid			relid;
		MemoryContext old;

		ret = SPI_execute("SELECT pg_catalog.pg_event_trigger_table_rewrite_oid()",
						  true, 1);
		if (ret != SPI_OK_SELECT || SPI_processed != 1)
			elog(ERROR, "drydock: pg_event_trigger_table_rewrite_oid() failed");
		relid = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0],
											   SPI_tuptable->tupdesc, 1, &isnull));
		if (rewritten_lxid != CURRENT_LXID())
			forget_rewrites();
		old = MemoryContextSwitchTo(TopMemoryContext);
		rewritten_relids = list_append_unique_oid(rewritten_relids, relid);
		MemoryContextSwitchTo(old);
		rewritten_lxid = CURRENT_LXID();
	}
	SPI_finish();
	PG_RETURN_NULL();
}

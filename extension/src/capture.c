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
 *	ddl_command_start	remembers the command id the statement starts at
 *					(no SPI, no catalog access): sql_drop reads pg_depend as
 *					it was before the statement, and rows of one statement
 *					share it as their statement key ("stmt");
 *	sql_drop		one log row per object of pg_event_trigger_dropped_objects(),
 *					cascade = true iff PostgreSQL would have refused the
 *					statement without CASCADE because of that object (see
 *					cascade_keys());
 *	table_rewrite	remembers the rewritten table so that ddl_command_end of the
 *					same statement can flag it.
 *
 * Capture is driven by drydock.capture_state, a table, so that statements
 * of ANY session are captured (the driver applies the migration with a
 * separate psql).  When no phase is active the functions return after one
 * syscache lookup and one single-row read.
 *
 * Locks are recorded once per STATEMENT, and only those the statement
 * RAISED: at ddl_command_end the backend's own granted relation locks are
 * read from the lock manager (GetLockStatusData, in C: no pg_locks query,
 * no per-row arrays) and compared with what the transaction held at the end
 * of its previous captured statement (a per-transaction hash, relid ->
 * strongest mode); a lock on a new relation, or a stronger mode than held
 * before, is the statement's.  Those on relations that existed when the
 * phase began (drydock.capture_baseline) are rendered "schema.name:LockMode"
 * into "locks" of the statement's FIRST ddl_command_end row; a statement
 * that has no such row (DROP: PostgreSQL collects no command for it) gets a
 * row of its own (event ddl_command_end, object_type and identity NULL)
 * when it raised any.  sql_drop and every other row carry '{}'.  A lock
 * taken by a statement that fires no event trigger (LOCK TABLE, DML) is
 * charged to the next captured DDL statement of the transaction.
 *
 * Plans are prepared once per backend (SPI_keepplan) and the lookups of the
 * baseline are single-row index probes: the triggers cost about the same
 * per statement whether the baseline has ten relations or ten thousand.
 *
 * The functions are SECURITY DEFINER (see the SQL script): a non-superuser
 * apply role is captured but cannot write or read the log itself.
 */
#include "postgres.h"

#include "access/xact.h"
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
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

#include "capture.h"

PG_FUNCTION_INFO_V1(drydock_capture_ddl_command_start);
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
 * The command id each DDL statement in progress started at, innermost last
 * (a DDL statement can run another one, e.g. through a function).  Pushed by
 * ddl_command_start, popped by ddl_command_end; tagged with the local
 * transaction id, so entries left by a failed statement never outlive their
 * transaction.  Entries deeper than MAX_START_DEPTH are counted, not kept.
 */
#define MAX_START_DEPTH 32
static CommandId start_cids[MAX_START_DEPTH];
static int	start_depth = 0;
static LocalTransactionId start_lxid = InvalidLocalTransactionId;

/* The current statement's start command id, if known. */
static bool
current_start_cid(CommandId *cid)
{
	if (start_lxid != CURRENT_LXID() || start_depth < 1 || start_depth > MAX_START_DEPTH)
		return false;
	*cid = start_cids[start_depth - 1];
	return true;
}

/*
 * The strongest granted relation lock this backend holds on each baseline
 * relation, as a text[] ("schema.name:Mode", sorted).  Shared by all inserts.
 * (AO006 maps the names back to relations and index -> table through
 * drydock.capture_relations, kept per phase.)
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

/*
 * Run one INSERT with parameters
 *	$1 text phase, $2 text command tag, $3 oid[] rewritten tables,
 *	$4 text[] keys "classid/objid/objsubid" of objects dropped by cascade
 *	   (NULL: unknown, fall back to NOT original AND normal),
 *	$5 int8 statement key (the start command id; NULL: unknown).
 */
static void
run_insert(const char *sql, const char *phase, const char *tag, Datum rewritten,
		   Datum cascades)
{
	Oid			argtypes[5] = {TEXTOID, TEXTOID, OIDARRAYOID, TEXTARRAYOID, INT8OID};
	Datum		values[5];
	char		nulls[5] = {' ', ' ', ' ', ' ', ' '};
	CommandId	cid;
	int			ret;

	values[0] = CStringGetTextDatum(phase);
	values[1] = CStringGetTextDatum(tag);
	values[2] = rewritten;
	values[3] = cascades;
	if (cascades == (Datum) 0)
		nulls[3] = 'n';
	if (current_start_cid(&cid))
		values[4] = Int64GetDatum((int64) cid);
	else
	{
		values[4] = (Datum) 0;
		nulls[4] = 'n';
	}
	ret = SPI_execute_with_args(sql, 5, argtypes, values, nulls, false, 0);
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

/*
 * The objects of the current sql_drop event that were dropped BECAUSE of
 * CASCADE, as a text[] of "classid/objid/objsubid" keys, or (Datum) 0 when
 * this cannot be told (the statement's start is unknown).
 *
 * PostgreSQL's own rule (dependency.c, reportDependentObjects): an object
 * that the statement did not name needs CASCADE unless it was reached, on
 * SOME path, through an AUTO, INTERNAL, PARTITION or EXTENSION dependency.
 * sql_drop only exposes "normal" (reached through a NORMAL dependency, or
 * as the owner of an internal part), so a CHECK constraint, a policy, a
 * trigger with WHEN, a serial column's default -- all NORMAL on their own
 * table's columns and AUTO on the table -- look like cascades although
 * DROP TABLE without CASCADE drops them.  The missing half is read from
 * pg_depend as it was when the statement started: the rows of the dropped
 * objects are gone from the current snapshot, but a copy of it with the
 * statement's start command id still sees them (our own deletions with a
 * later cmax are invisible to it).  An object is a cascade iff it is not
 * original, normal, and has no AUTO/INTERNAL/PARTITION/EXTENSION dependency
 * on another object dropped by the same statement (on the whole object, or
 * on the very column dropped).  Must be called connected to SPI.
 */
static Datum
cascade_keys(void)
{
	CommandId	cid;
	SPIPlanPtr	plan;
	int			ret;
	bool		isnull;
	Datum		keys;

	if (!current_start_cid(&cid))
		return (Datum) 0;
	/*
	 * Set-based (hashed), not one scan of the dropped set per dependency: a
	 * DROP SCHEMA of thousands of objects stays linear.
	 */
	plan = SPI_prepare("WITH d AS MATERIALIZED ("
					   "        SELECT classid, objid, objsubid, original, normal"
					   "          FROM pg_catalog.pg_event_trigger_dropped_objects()),"
					   " c AS MATERIALIZED (SELECT classid, objid, objsubid FROM d"
					   "                     WHERE NOT original AND normal),"
					   " owned AS MATERIALIZED ("
					   "        SELECT DISTINCT dep.classid, dep.objid, dep.objsubid"
					   "          FROM c JOIN pg_catalog.pg_depend dep"
					   "               ON dep.classid = c.classid AND dep.objid = c.objid"
					   "              AND dep.objsubid = c.objsubid"
					   "         WHERE dep.deptype = ANY ('{a,i,P,S,e,x}'::pg_catalog.\"char\"[])"
					   /* IN inside OR stays a hashed subplan, whatever the estimates */
					   "           AND ((dep.refclassid, dep.refobjid, 0) IN"
					   "                    (SELECT classid, objid, objsubid FROM d)"
					   "                OR (dep.refclassid, dep.refobjid, dep.refobjsubid) IN"
					   "                    (SELECT classid, objid, objsubid FROM d)))"
					   " SELECT coalesce(pg_catalog.array_agg(c.classid::pg_catalog.text || '/'"
					   "          || c.objid::pg_catalog.text || '/' || c.objsubid::pg_catalog.text),"
					   "        '{}'::pg_catalog.text[])"
					   "   FROM c"
					   "  WHERE NOT EXISTS (SELECT 1 FROM owned w WHERE w.classid = c.classid"
					   "                       AND w.objid = c.objid AND w.objsubid = c.objsubid)",
					   0, NULL);
	if (plan == NULL)
		elog(ERROR, "drydock: preparing the cascade query failed: %s",
			 SPI_result_code_string(SPI_result));

	/* the current snapshot, seeing the catalog as of the statement's start */
	PushCopiedSnapshot(GetTransactionSnapshot());
	GetActiveSnapshot()->curcid = cid;
	ret = SPI_execute_snapshot(plan, NULL, NULL, GetActiveSnapshot(), InvalidSnapshot,
							   true, false, 1);
	PopActiveSnapshot();
	if (ret != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "drydock: reading the dependencies of dropped objects failed: %s",
			 SPI_result_code_string(ret));
	keys = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	keys = isnull ? (Datum) 0 : datumCopy(keys, false, -1);
	SPI_freetuptable(SPI_tuptable);
	SPI_freeplan(plan);
	return keys;
}

Datum
drydock_capture_ddl_command_start(PG_FUNCTION_ARGS)
{
	(void) check_event_trigger_call(fcinfo, "capture_ddl_command_start");
	if (start_lxid != CURRENT_LXID())
	{
		start_depth = 0;
		start_lxid = CURRENT_LXID();
	}
	if (start_depth < MAX_START_DEPTH)
		start_cids[start_depth] = GetCurrentCommandId(false);
	start_depth++;
	PG_RETURN_NULL();
}

/* ddl_command_end of a statement: forget its start. */
static void
pop_start(void)
{
	if (start_lxid == CURRENT_LXID() && start_depth > 0)
		start_depth--;
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
				   "   identity, rewrite, locks, event, classid, objid, objsubid, preexisting,"
				   "   xact, stmt)"
				   " SELECT $1, c.command_tag, c.object_type, c.object_identity,"
				   /* GRANT/REVOKE come without an object: NULL must mean false */
				   "        coalesce(c.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND c.objid = ANY ($3), false),"
				   "        lk.locks, 'ddl_command_end', c.classid, c.objid, c.objsubid,"
				   "        coalesce(c.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND"
				   "        c.objid IN (SELECT relid FROM drydock.capture_baseline), false),"
				   "        pg_catalog.txid_current(), $5"
				   "   FROM cmd c, lk"
				   " UNION ALL"
				   " SELECT $1, $2, 'table', (pg_catalog.pg_identify_object("
				   "          'pg_catalog.pg_class'::pg_catalog.regclass, r, 0)).identity,"
				   "        true, lk.locks, 'table_rewrite',"
				   "        'pg_catalog.pg_class'::pg_catalog.regclass, r, 0,"
				   "        r IN (SELECT relid FROM drydock.capture_baseline),"
				   "        pg_catalog.txid_current(), $5"
				   "   FROM pg_catalog.unnest($3) r, lk"
				   "  WHERE r NOT IN (SELECT objid FROM cmd"
				   "                   WHERE classid = 'pg_catalog.pg_class'::pg_catalog.regclass)",
				   phase, GetCommandTagName(trigdata->tag), rewritten_array(), (Datum) 0);
	}
	forget_rewrites();
	SPI_finish();
	pop_start();
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
	{
		Datum		cascades = cascade_keys();

		run_insert("WITH " LOCKS_CTE
				   " INSERT INTO drydock.capture_log (phase, command_tag, object_type,"
				   "   identity, cascade, locks, event, classid, objid, objsubid,"
				   "   preexisting, original, normal, xact, stmt)"
				   " SELECT $1, $2, d.object_type, d.object_identity,"
				   "        CASE WHEN $4 IS NULL THEN NOT d.original AND d.normal"
				   "             ELSE d.classid::pg_catalog.text || '/' || d.objid::pg_catalog.text"
				   "                  || '/' || d.objsubid::pg_catalog.text IN"
				   "                  (SELECT pg_catalog.unnest($4)) END,"
				   "        lk.locks, 'sql_drop',"
				   "        d.classid, d.objid, d.objsubid,"
				   "        d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND"
				   "        d.objid IN (SELECT relid FROM drydock.capture_baseline),"
				   "        d.original, d.normal,"
				   "        pg_catalog.txid_current(), $5"
				   "   FROM pg_catalog.pg_event_trigger_dropped_objects() d, lk"
				   "  WHERE NOT d.is_temporary AND $3 IS NOT NULL"
				   /* internal parts (row types, toast, RI triggers) are noise */
				   "    AND d.schema_name IS DISTINCT FROM 'pg_toast'"
				   "    AND (d.original OR d.normal OR"
				   "         d.object_type NOT IN ('type', 'trigger', 'toast table'))",
				   phase, GetCommandTagName(trigdata->tag),
				   PointerGetDatum(construct_empty_array(OIDOID)), cascades);
	}
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

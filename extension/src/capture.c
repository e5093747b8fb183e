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
 * Lock safety (LS rules, verify.c): the first ddl_command_end row of each
 * statement also carries the statement's text (debug_query_string, so the
 * driver can place a finding at its artifact line), the session's
 * lock_timeout when the statement ended (SET, SET LOCAL and role defaults
 * all count: it is the backend's live setting), and "facts" read from the
 * statement's parse tree (statement_facts(): CONCURRENTLY or not, NOT VALID
 * or not, a NOT NULL column without a default, a rename, ...), plus
 * "rewritten:REL" for every pre-existing relation the transaction holds in
 * AccessExclusiveLock whose relfilenode changed since the phase began or
 * since the last statement that reported it: a rewrite seen whether or not
 * a table_rewrite event fired (TRUNCATE, CLUSTER, REINDEX, SET LOGGED run
 * before it in the transaction).  capture_end() adds a "phase_end" row for
 * a rewrite no statement reported (VACUUM FULL, CLUSTER in a transaction of
 * their own).
 *
 * Plans are prepared once per backend (SPI_keepplan) and the lookups of the
 * baseline are single-row index probes: the triggers cost about the same
 * per statement whether the baseline has ten relations or ten thousand.
 *
 * The functions are SECURITY DEFINER (see the SQL script): a non-superuser
 * apply role is captured but cannot write or read the log itself.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_class.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/event_trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "storage/lock.h"
#include "storage/proc.h"
#include "tcop/cmdtag.h"
#include "tcop/tcopprot.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/ruleutils.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "drydock.h"
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
 * Relation locks the current transaction held at the end of its previous
 * captured statement: relid -> strongest mode.  Lives in
 * TopTransactionContext, so it goes away with the transaction; tagged with
 * the local transaction id so a stale pointer is never followed.
 */
typedef struct HeldLock
{
	Oid			relid;			/* hash key */
	LOCKMODE	mode;
} HeldLock;

static HTAB *held_locks = NULL;
static LocalTransactionId held_lxid = InvalidLocalTransactionId;

/*
 * The baseline (drydock.capture_baseline: relid -> rendered name) of the
 * active phase, cached in backend memory and reloaded when the phase or its
 * start changes (capture_begin in any session).  NULL until loaded.
 */
typedef struct BaselineRel
{
	Oid			relid;			/* hash key */
	char	   *relname;
	Oid			relfilenode;	/* at phase start, or as last reported rewritten */
} BaselineRel;

static MemoryContext baseline_cxt = NULL;
static HTAB *baseline_rels = NULL;
static char *baseline_key = NULL;	/* "phase started_at" it was loaded for */
static char *phase_key = NULL;	/* the same, as read by active_phase() */

static SPIPlanPtr kept_plan(SPIPlanPtr *slot, const char *sql, int nargs, Oid *argtypes);
static SPIPlanPtr baseline_plan = NULL;

/* Load the baseline if the cached one is not the active phase's.  SPI. */
static void
load_baseline(void)
{
	HASHCTL		ctl;
	int			ret;

	if (baseline_rels != NULL && baseline_key != NULL && phase_key != NULL &&
		strcmp(baseline_key, phase_key) == 0)
		return;
	if (baseline_cxt == NULL)
		baseline_cxt = AllocSetContextCreate(TopMemoryContext, "drydock capture baseline",
											 ALLOCSET_DEFAULT_SIZES);
	MemoryContextReset(baseline_cxt);
	baseline_rels = NULL;
	baseline_key = NULL;
	ctl.keysize = sizeof(Oid);
	ctl.entrysize = sizeof(BaselineRel);
	ctl.hcxt = baseline_cxt;
	ret = SPI_execute_plan(kept_plan(&baseline_plan,
									 "SELECT relid, relname, relfilenode FROM drydock.capture_baseline",
									 0, NULL), NULL, NULL, true, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "drydock: reading capture_baseline failed: %s",
			 SPI_result_code_string(ret));
	baseline_rels = hash_create("drydock capture baseline", Max(SPI_processed, 16), &ctl,
								HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		Oid			relid = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i],
														   SPI_tuptable->tupdesc, 1, &isnull));
		char	   *name = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2);
		BaselineRel *e;

		if (isnull || name == NULL)
			continue;
		e = (BaselineRel *) hash_search(baseline_rels, &relid, HASH_ENTER, NULL);
		e->relname = MemoryContextStrdup(baseline_cxt, name);
		e->relfilenode = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i],
														SPI_tuptable->tupdesc, 3, &isnull));
		if (isnull)
			e->relfilenode = InvalidOid;
	}
	SPI_freetuptable(SPI_tuptable);
	baseline_key = phase_key ? MemoryContextStrdup(baseline_cxt, phase_key) : NULL;
}

static int
cmp_cstring(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/*
 * The relation locks (granted, this backend, this database) that are new or
 * stronger than at the end of the transaction's previous captured
 * statement, on relations of the baseline, rendered "name:Mode" and sorted,
 * as a text[]; *n gets their number.  Updates the per-transaction state
 * (for every relation, in the baseline or not).  Must be called connected
 * to SPI, after active_phase().
 */
static Datum
raised_locks(int *n)
{
	LockData   *ld;
	char	  **items;
	Datum	   *elems;

	*n = 0;
	load_baseline();
	if (held_lxid != CURRENT_LXID() || held_locks == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(Oid);
		ctl.entrysize = sizeof(HeldLock);
		ctl.hcxt = TopTransactionContext;
		held_locks = hash_create("drydock held locks", 64, &ctl,
								 HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
		held_lxid = CURRENT_LXID();
	}

	ld = GetLockStatusData();
	items = palloc(sizeof(char *) * (ld->nelements + 1));
	for (int i = 0; i < ld->nelements; i++)
	{
		LockInstanceData *inst = &ld->locks[i];
		LOCKMODE	mode;
		HeldLock   *h;
		BaselineRel *b;
		bool		found;
		Oid			relid;

		if (inst->pid != MyProcPid || inst->holdMask == 0 ||
			inst->locktag.locktag_type != LOCKTAG_RELATION ||
			inst->locktag.locktag_lockmethodid != DEFAULT_LOCKMETHOD ||
			inst->locktag.locktag_field1 != MyDatabaseId)
			continue;
		/* the strongest mode held: the highest bit of holdMask */
		for (mode = MaxLockMode; mode > NoLock; mode--)
			if (inst->holdMask & LOCKBIT_ON(mode))
				break;
		if (mode == NoLock)
			continue;
		relid = (Oid) inst->locktag.locktag_field2;
		h = (HeldLock *) hash_search(held_locks, &relid, HASH_ENTER, &found);
		if (found && h->mode >= mode)
			continue;
		h->mode = mode;
		b = (BaselineRel *) hash_search(baseline_rels, &relid, HASH_FIND, NULL);
		if (b != NULL)
			items[(*n)++] = psprintf("%s:%s", b->relname,
									 GetLockmodeName(DEFAULT_LOCKMETHOD, mode));
	}
	qsort(items, *n, sizeof(char *), cmp_cstring);
	elems = palloc(sizeof(Datum) * (*n + 1));
	for (int i = 0; i < *n; i++)
		elems[i] = CStringGetTextDatum(items[i]);
	return PointerGetDatum(construct_array(elems, *n, TEXTOID, -1, false, TYPALIGN_INT));
}

/*
 * A generic plan prepared once per backend and kept (SPI_keepplan).  The plan cache
 * revalidates it when drydock's tables change (DROP/CREATE EXTENSION).
 * Must be called while connected to SPI.
 */
static SPIPlanPtr
kept_plan(SPIPlanPtr *slot, const char *sql, int nargs, Oid *argtypes)
{
	if (*slot == NULL)
	{
		/* generic: one plan per backend, not a custom plan per call */
		SPIPlanPtr	plan = SPI_prepare_cursor(sql, nargs, argtypes,
											  CURSOR_OPT_GENERIC_PLAN);

		if (plan == NULL)
			elog(ERROR, "drydock: preparing a capture query failed: %s",
				 SPI_result_code_string(SPI_result));
		if (SPI_keepplan(plan) != 0)
			elog(ERROR, "drydock: keeping a capture query failed");
		*slot = plan;
	}
	return *slot;
}

static SPIPlanPtr phase_plan = NULL;
static SPIPlanPtr end_plan = NULL;
static SPIPlanPtr stmt_plan = NULL;
static SPIPlanPtr drop_plan = NULL;
static SPIPlanPtr cascade_plan = NULL;
static SPIPlanPtr rewrite_plan = NULL;

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

	phase_key = NULL;
	if (!OidIsValid(nsp) || !OidIsValid(get_relname_relid("capture_state", nsp)))
		return NULL;

	ret = SPI_execute_plan(kept_plan(&phase_plan,
									 "SELECT phase, phase || ' ' || coalesce(started_at::pg_catalog.text, '')"
									 "  FROM drydock.capture_state"
									 " WHERE id = 1 AND phase IS NOT NULL", 0, NULL),
						   NULL, NULL, true, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "drydock: reading capture_state failed: %s",
			 SPI_result_code_string(ret));
	if (SPI_processed == 1)
	{
		phase = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
		phase_key = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
	}
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
 * Run one INSERT (a kept plan) with parameters
 *	$1 text phase, $2 text command tag, $3 oid[] rewritten tables,
 *	$4 text[] keys "classid/objid/objsubid" of objects dropped by cascade
 *	   (NULL: unknown, fall back to NOT original AND normal),
 *	$5 int8 statement key (the start command id; NULL: unknown),
 *	$6 text[] locks the statement raised on baseline relations ("name:Mode"),
 *	$7 text statement text (NULL: none), $8 text[] facts, $9 int4 lock_timeout (ms).
 */
#define INSERT_NARGS 9
typedef struct StmtInfo
{
	Datum		query;
	bool		query_null;
	Datum		facts;
	int			lock_timeout;
} StmtInfo;

static void
run_insert(SPIPlanPtr *slot, const char *sql, const char *phase, const char *tag,
		   Datum rewritten, Datum cascades, Datum locks, const StmtInfo *si)
{
	Oid			argtypes[INSERT_NARGS] = {TEXTOID, TEXTOID, OIDARRAYOID, TEXTARRAYOID, INT8OID,
	TEXTARRAYOID, TEXTOID, TEXTARRAYOID, INT4OID};
	Datum		values[INSERT_NARGS];
	char		nulls[INSERT_NARGS] = {' ', ' ', ' ', ' ', ' ', ' ', 'n', 'n', 'n'};
	CommandId	cid;
	int			ret;

	if (si)
	{
		values[6] = si->query;
		nulls[6] = si->query_null ? 'n' : ' ';
		values[7] = si->facts;
		nulls[7] = ' ';
		values[8] = Int32GetDatum(si->lock_timeout);
		nulls[8] = ' ';
	}

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
	values[5] = locks;
	if (locks == (Datum) 0)
		nulls[5] = 'n';
	ret = SPI_execute_plan(kept_plan(slot, sql, INSERT_NARGS, argtypes), values, nulls, false, 0);
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
 *
 * *notnull_keys gets, from the same snapshot, the keys of the dropped
 * NOT NULL constraints (pg_constraint rows of type 'n': 18's column NOT
 * NULLs, 17's domain NOT NULLs), which are a column's or domain's property
 * on every major (drydock.h) and so are no drop rows of their own; (Datum) 0
 * when the statement's start is unknown.
 */
static Datum
cascade_keys(Datum *notnull_keys)
{
	CommandId	cid;
	SPIPlanPtr	plan;
	int			ret;
	bool		isnull;
	Datum		keys;
	Datum		nn;

	*notnull_keys = (Datum) 0;
	if (!current_start_cid(&cid))
		return (Datum) 0;
	/*
	 * Set-based (hashed), not one scan of the dropped set per dependency: a
	 * DROP SCHEMA of thousands of objects stays linear.
	 */
	plan = kept_plan(&cascade_plan, "WITH d AS MATERIALIZED ("
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
					   " SELECT (SELECT coalesce(pg_catalog.array_agg(c.classid::pg_catalog.text || '/'"
					   "          || c.objid::pg_catalog.text || '/' || c.objsubid::pg_catalog.text),"
					   "        '{}'::pg_catalog.text[])"
					   "   FROM c"
					   "  WHERE NOT EXISTS (SELECT 1 FROM owned w WHERE w.classid = c.classid"
					   "                       AND w.objid = c.objid AND w.objsubid = c.objsubid)),"
					   "        (SELECT coalesce(pg_catalog.array_agg(d.classid::pg_catalog.text || '/'"
					   "          || d.objid::pg_catalog.text || '/' || d.objsubid::pg_catalog.text),"
					   "        '{}'::pg_catalog.text[])"
					   "   FROM d JOIN pg_catalog.pg_constraint k ON k.oid = d.objid"
					   "  WHERE d.classid = 'pg_catalog.pg_constraint'::pg_catalog.regclass"
					   "    AND k.contype = 'n')",
					   0, NULL);

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
	nn = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);
	*notnull_keys = isnull ? (Datum) 0 : datumCopy(nn, false, -1);
	SPI_freetuptable(SPI_tuptable);
	return keys;
}


/*
 * Facts the LS rules need from a statement's parse tree, appended to
 * *facts as "name" or "name:arg" strings.  The parse tree given to event
 * triggers is the statement as written (before ALTER TABLE's own
 * transformation), so what is read here is what the author wrote.
 */
static SPIPlanPtr notnull_check_plan = NULL;

/* Is there a validated CHECK (col IS NOT NULL) on relid?  SPI. */
static bool
has_valid_notnull_check(Oid relid, const char *col)
{
	Oid			argtypes[2] = {OIDOID, TEXTOID};
	Datum		values[2];
	bool		isnull;
	bool		found;
	int			ret;

	if (!OidIsValid(relid))
		return false;
	values[0] = ObjectIdGetDatum(relid);
	values[1] = CStringGetTextDatum(psprintf("CHECK ((%s IS NOT NULL))", quote_identifier(col)));
	ret = SPI_execute_plan(kept_plan(&notnull_check_plan,
									 "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint"
									 "  WHERE conrelid = $1 AND contype = 'c' AND convalidated"
									 "    AND pg_catalog.pg_get_constraintdef(oid) = $2)",
									 2, argtypes), values, NULL, true, 1);
	if (ret != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "drydock: looking for a CHECK (col IS NOT NULL) failed");
	found = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_freetuptable(SPI_tuptable);
	return found && !isnull;
}

static const char *
index_constraint_kind(ConstrType t)
{
	return t == CONSTR_PRIMARY ? "PRIMARY KEY" : t == CONSTR_UNIQUE ? "UNIQUE" : "EXCLUDE";
}

/* ALTER TABLE ... ADD COLUMN: NOT NULL without a default, PK/UNIQUE built. */
static void
add_column_facts(List **facts, ColumnDef *def)
{
	bool		notnull = def->is_not_null;
	bool		filled = def->raw_default != NULL || def->cooked_default != NULL ||
		def->identity != '\0';
	ListCell   *lc;

	foreach(lc, def->constraints)
	{
		Constraint *c = lfirst(lc);

		if (!IsA(c, Constraint))
			continue;
		switch (c->contype)
		{
			case CONSTR_NOTNULL:
				notnull = true;
				break;
			case CONSTR_PRIMARY:
			case CONSTR_UNIQUE:
				if (c->contype == CONSTR_PRIMARY)
					notnull = true;
				*facts = lappend(*facts, psprintf("add_index_constraint:%s:%s",
												  index_constraint_kind(c->contype),
												  c->conname ? c->conname : def->colname));
				break;
			case CONSTR_DEFAULT:
			case CONSTR_IDENTITY:
			case CONSTR_GENERATED:
				filled = true;
				break;
			default:
				break;
		}
	}
	if (notnull && !filled)
		*facts = lappend(*facts, psprintf("add_column_not_null:%s", def->colname));
}

/*
 * The table an ALTER TABLE altered: its collected command's object (the
 * statement's RangeVar cannot be resolved here: this function runs with
 * its own search_path).  SPI.
 */
static Oid
altered_relation(void)
{
	bool		isnull;
	Oid			relid = InvalidOid;

	if (SPI_execute("SELECT objid FROM pg_catalog.pg_event_trigger_ddl_commands()"
					" WHERE classid = 'pg_catalog.pg_class'::pg_catalog.regclass LIMIT 1",
					true, 1) == SPI_OK_SELECT && SPI_processed == 1)
	{
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

		if (!isnull)
			relid = DatumGetObjectId(d);
	}
	return relid;
}

static void
alter_table_facts(List **facts, AlterTableStmt *stmt)
{
	ListCell   *lc;
	Oid			relid = InvalidOid;

#if PG_VERSION_NUM >= 140000
	if (stmt->objtype != OBJECT_TABLE)
		return;
#else
	if (stmt->relkind != OBJECT_TABLE)
		return;
#endif
	*facts = lappend(*facts, pstrdup("alter_table"));
	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *cmd = lfirst(lc);

		if (!IsA(cmd, AlterTableCmd))
			continue;
		switch (cmd->subtype)
		{
			case AT_AddColumn:
				if (cmd->def && IsA(cmd->def, ColumnDef))
					add_column_facts(facts, (ColumnDef *) cmd->def);
				break;
			case AT_AddConstraint:
				if (cmd->def && IsA(cmd->def, Constraint))
				{
					Constraint *c = (Constraint *) cmd->def;
					const char *name = c->conname ? c->conname : "";

					if (c->contype == CONSTR_FOREIGN || c->contype == CONSTR_CHECK)
						*facts = lappend(*facts, c->skip_validation ?
										 psprintf("add_not_valid:%s", name) :
										 psprintf("add_validated:%s:%s",
												  c->contype == CONSTR_FOREIGN ? "FOREIGN KEY" : "CHECK",
												  name));
					else if ((c->contype == CONSTR_PRIMARY || c->contype == CONSTR_UNIQUE ||
							  c->contype == CONSTR_EXCLUSION) && c->indexname == NULL)
						*facts = lappend(*facts, psprintf("add_index_constraint:%s:%s",
														  index_constraint_kind(c->contype),
														  name));
				}
				break;
			case AT_ValidateConstraint:
				*facts = lappend(*facts, psprintf("validate:%s", cmd->name));
				break;
			case AT_SetNotNull:
				if (!OidIsValid(relid))
					relid = altered_relation();
				*facts = lappend(*facts, psprintf("%s:%s",
												  has_valid_notnull_check(relid, cmd->name) ?
												  "set_not_null_checked" : "set_not_null",
												  cmd->name));
				break;
			default:
				break;
		}
	}
}

static void
statement_facts(List **facts, Node *parsetree)
{
	if (parsetree == NULL)
		return;
	switch (nodeTag(parsetree))
	{
		case T_IndexStmt:
			*facts = lappend(*facts, pstrdup(((IndexStmt *) parsetree)->concurrent ?
											 "create_index_concurrently" : "create_index"));
			break;
		case T_DropStmt:
			if (((DropStmt *) parsetree)->removeType == OBJECT_INDEX)
				*facts = lappend(*facts, pstrdup(((DropStmt *) parsetree)->concurrent ?
												 "drop_index_concurrently" : "drop_index"));
			break;
		case T_AlterTableStmt:
			alter_table_facts(facts, (AlterTableStmt *) parsetree);
			break;
		case T_RenameStmt:
			{
				RenameStmt *r = (RenameStmt *) parsetree;

				switch (r->renameType)
				{
					case OBJECT_TABLE:
					case OBJECT_VIEW:
					case OBJECT_MATVIEW:
					case OBJECT_INDEX:
					case OBJECT_SEQUENCE:
					case OBJECT_FOREIGN_TABLE:
						if (r->relation)
							*facts = lappend(*facts, psprintf("rename_relation:%s",
															  r->relation->relname));
						break;
					case OBJECT_COLUMN:
						*facts = lappend(*facts, psprintf("rename_column:%s", r->subname));
						break;
					case OBJECT_SCHEMA:
						*facts = lappend(*facts, psprintf("rename_schema:%s", r->subname));
						break;
					default:
						break;
				}
				break;
			}
		case T_AlterEnumStmt:
			if (((AlterEnumStmt *) parsetree)->oldVal)
				*facts = lappend(*facts, psprintf("rename_enum_value:%s",
												  ((AlterEnumStmt *) parsetree)->oldVal));
			break;
		default:
			break;
	}
}

/*
 * "rewritten:REL" for every baseline relation this transaction holds in
 * AccessExclusiveLock (a rewrite needs it) whose relfilenode is no longer
 * the one last seen; the backend's copy is updated so the rewrite is
 * reported once.  After raised_locks() (held_locks is current).
 */
static void
rewritten_facts(List **facts)
{
	HASH_SEQ_STATUS hs;
	HeldLock   *h;

	if (held_locks == NULL || held_lxid != CURRENT_LXID() || baseline_rels == NULL)
		return;
	hash_seq_init(&hs, held_locks);
	while ((h = (HeldLock *) hash_seq_search(&hs)) != NULL)
	{
		BaselineRel *b;
		HeapTuple	tup;
		Oid			now;

		if (h->mode != AccessExclusiveLock)
			continue;
		b = (BaselineRel *) hash_search(baseline_rels, &h->relid, HASH_FIND, NULL);
		if (b == NULL || !OidIsValid(b->relfilenode))
			continue;
		tup = SearchSysCache1(RELOID, ObjectIdGetDatum(h->relid));
		if (!HeapTupleIsValid(tup))
			continue;			/* dropped by this transaction */
		now = ((Form_pg_class) GETSTRUCT(tup))->relfilenode;
		ReleaseSysCache(tup);
		if (OidIsValid(now) && now != b->relfilenode)
		{
			*facts = lappend(*facts, psprintf("rewritten:%s", b->relname));
			b->relfilenode = now;
		}
	}
}

/* The statement's text, at most 8 kB (cut on a character boundary). */
#define QUERY_KEEP 8192
static Datum
statement_text(bool *isnull)
{
	int			len;

	*isnull = debug_query_string == NULL;
	if (*isnull)
		return (Datum) 0;
	len = strlen(debug_query_string);
	if (len > QUERY_KEEP)
		len = pg_mbcliplen(debug_query_string, len, QUERY_KEEP);
	return PointerGetDatum(cstring_to_text_with_len(debug_query_string, len));
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

/*
 * The preexisting flag of a row: a relation in the baseline.  A scalar
 * subquery (one primary-key probe per row), never a hashed subplan over
 * the whole baseline.
 */
#define PREEXISTING(cls, obj) \
	"coalesce(" cls " = 'pg_catalog.pg_class'::pg_catalog.regclass AND" \
	" (SELECT true FROM drydock.capture_baseline b WHERE b.relid = " obj "), false)"

Datum
drydock_capture_ddl_command_end(PG_FUNCTION_ARGS)
{
	EventTriggerData *trigdata = check_event_trigger_call(fcinfo, "capture_ddl_command_end");
	char	   *phase;

	SPI_connect();
	phase = active_phase();
	if (phase != NULL)
	{
		int			nlocks;
		Datum		locks = raised_locks(&nlocks);
		const char *tag = GetCommandTagName(trigdata->tag);
		bool		rewrites = rewritten_lxid == CURRENT_LXID() && rewritten_relids != NIL;
		List	   *facts = NIL;
		StmtInfo	si;

		/* the statement's own tag: its first row may be a part (CREATE SEQUENCE of an identity) */
		facts = lappend(facts, psprintf("tag:%s", tag));
		statement_facts(&facts, trigdata->parsetree);
		rewritten_facts(&facts);
		si.query = statement_text(&si.query_null);
		si.facts = drydock_text_array(facts);
		si.lock_timeout = LockTimeout;

		if (strncmp(tag, "DROP ", 5) == 0 && !rewrites)
		{
			/*
			 * PostgreSQL collects no command for a DROP (its objects are the
			 * sql_drop rows): the statement's locks, if it raised any on the
			 * baseline, go on a row of their own.
			 */
			if (nlocks > 0)
				run_insert(&stmt_plan,
						   "INSERT INTO drydock.capture_log (phase, command_tag, locks, event,"
						   "   xact, stmt, query, facts, lock_timeout)"
						   " SELECT $1, $2, $6, 'ddl_command_end', pg_catalog.txid_current(), $5,"
						   "        $7, $8, $9",
						   phase, tag, rewritten_array(), (Datum) 0, locks, &si);
		}
		else

			/*
			 * Collected commands (k = 1), a row for a rewritten table no
			 * collected command names (k = 2, e.g. ALTER TYPE rewriting
			 * tables that use it), and, when neither exists, a statement row
			 * (k = 3) if the statement raised a lock on a baseline relation.
			 * The raised locks go on the first row only.
			 */
			run_insert(&end_plan,
					   "WITH cmd AS MATERIALIZED ("
					   "   SELECT * FROM pg_catalog.pg_event_trigger_ddl_commands() WITH ORDINALITY"
					   "            AS c(classid, objid, objsubid, command_tag, object_type, schema_name,"
					   "                 object_identity, in_extension, command, n)),"
					   " r AS MATERIALIZED ("
					   "   SELECT 1 AS k, c.n, c.command_tag AS tag, c.object_type, c.object_identity AS identity,"
					   "          coalesce(c.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND c.objid = ANY ($3), false) AS rewrite,"
					   "          'ddl_command_end' AS event, c.classid, c.objid, c.objsubid"
					   "     FROM cmd c"
					   "   UNION ALL"
					   "   SELECT 2, w.n, $2, 'table', (pg_catalog.pg_identify_object("
					   "            'pg_catalog.pg_class'::pg_catalog.regclass, w.r, 0)).identity,"
					   "          true, 'table_rewrite', 'pg_catalog.pg_class'::pg_catalog.regclass, w.r, 0"
					   "     FROM pg_catalog.unnest($3) WITH ORDINALITY AS w(r, n)"
					   "    WHERE w.r NOT IN (SELECT objid FROM cmd"
					   "                       WHERE classid = 'pg_catalog.pg_class'::pg_catalog.regclass)),"
					   " s AS ("
					   "   SELECT * FROM r"
					   "   UNION ALL"
					   "   SELECT 3, 1, $2, NULL, NULL, false, 'ddl_command_end', NULL, NULL, NULL"
					   "    WHERE $6 <> '{}' AND NOT EXISTS (SELECT 1 FROM r))"
					   " INSERT INTO drydock.capture_log (phase, command_tag, object_type,"
					   "   identity, rewrite, locks, event, classid, objid, objsubid, preexisting,"
					   "   xact, stmt, query, facts, lock_timeout)"
					   /* GRANT/REVOKE come without an object: NULL must mean false */
					   " SELECT $1, s.tag, s.object_type, s.identity, s.rewrite,"
					   "        CASE WHEN s.k = 1 AND s.n = 1 OR s.k = 2 AND s.n = 1 AND NOT EXISTS"
					   "                  (SELECT 1 FROM cmd) OR s.k = 3"
					   "             THEN $6 ELSE '{}'::pg_catalog.text[] END,"
					   "        s.event, s.classid, s.objid, s.objsubid,"
					   "        " PREEXISTING("s.classid", "s.objid") ","
					   "        pg_catalog.txid_current(), $5, $7, $8, $9"
					   "   FROM s"
					   "  ORDER BY s.k, s.n",
					   phase, tag, rewritten_array(), (Datum) 0, locks, &si);
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
		Datum		notnull_keys;
		Datum		cascades = cascade_keys(&notnull_keys);

		/*
		 * No locks here: the statement's go on its ddl_command_end row; the
		 * last parameter ($6) carries the NOT NULL constraints to leave out.
		 */
		run_insert(&drop_plan,
				   "INSERT INTO drydock.capture_log (phase, command_tag, object_type,"
				   "   identity, cascade, event, classid, objid, objsubid,"
				   "   preexisting, original, normal, xact, stmt)"
				   " SELECT $1, $2, d.object_type, d.object_identity,"
				   "        CASE WHEN $4 IS NULL THEN NOT d.original AND d.normal"
				   "             ELSE d.classid::pg_catalog.text || '/' || d.objid::pg_catalog.text"
				   "                  || '/' || d.objsubid::pg_catalog.text IN"
				   "                  (SELECT pg_catalog.unnest($4)) END,"
				   "        'sql_drop', d.classid, d.objid, d.objsubid,"
				   "        " PREEXISTING("d.classid", "d.objid") ","
				   "        d.original, d.normal,"
				   "        pg_catalog.txid_current(), $5"
				   "   FROM pg_catalog.pg_event_trigger_dropped_objects() d"
				   "  WHERE NOT d.is_temporary AND $3 IS NOT NULL"
				   /* internal parts (row types, toast, RI triggers) are noise */
				   "    AND d.schema_name IS DISTINCT FROM 'pg_toast'"
				   "    AND (d.original OR d.normal OR"
				   "         d.object_type NOT IN ('type', 'trigger', 'toast table'))"
				   "    AND ($6 IS NULL OR d.classid::pg_catalog.text || '/' || d.objid::pg_catalog.text"
				   "         || '/' || d.objsubid::pg_catalog.text <> ALL ($6))",
				   phase, GetCommandTagName(trigdata->tag),
				   PointerGetDatum(construct_empty_array(OIDOID)), cascades, notnull_keys, NULL);
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

		ret = SPI_execute_plan(kept_plan(&rewrite_plan,
										 "SELECT pg_catalog.pg_event_trigger_table_rewrite_oid()",
										 0, NULL), NULL, NULL, true, 1);
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

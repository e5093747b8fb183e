/*
 * run_sql.c
 *		SQL on the run's superuser connection to the sandbox: each query is
 *		recorded as a command of the report (with its result and duration),
 *		a failure keeps its SQLSTATE, and rows come back as JSON.  Every step
 *		of the pipeline queries through these; they use nothing of it.
 *		A second connection ("side") runs one read-only query at a time
 *		side by side with the main line: the server has more than one core,
 *		and the checks after a phase are independent reads.
 */
#include "run.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sandbox.h"
#include "signals.h"
#include "util.h"

/*
 * The query's final result (NULL: the connection gave none): recorded as a
 * command (what, or the query itself), with its duration since t0; NULL
 * with the error's first line in err (and its SQLSTATE in
 * ctx->last_sqlstate) unless it succeeded.
 */
static PGresult *
sql_result(run_ctx *ctx, PGconn *conn, const char *what, const char *query, double t0, PGresult *res,
		   char *err, size_t errlen)
{
	ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	bool		ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
	const char *message = res ? PQresultErrorMessage(res) : PQerrorMessage(conn);
	char	   *shown = xstrdup(query);

	run_command(ctx, "sql", what ? what : shown, ok ? "ok" : message, now_ms() - t0);
	free(shown);
	if (!ok)
	{
		/* one line for the error; the command log above has the whole message */
		const char *m = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
		const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

		snprintf(ctx->last_sqlstate, sizeof(ctx->last_sqlstate), "%s", state ? state : "");
		if (!m)
			m = message;
		snprintf(err, errlen, "%.*s", (int) strcspn(m, "\n"), m);
		PQclear(res);
		return NULL;
	}
	return res;
}

PGresult *
run_sql(run_ctx *ctx, const char *what, const char *query, int nparams, const char *const *params,
	char *err, size_t errlen)
{
	double		t = now_ms();

	return sql_result(ctx, ctx->conn, what, query, t,
					  PQexecParams(ctx->conn, query, nparams, NULL, params, NULL, NULL, 0),
					  err, errlen);
}

/*
 * The extension's functions raise invalid_parameter_value (22023), an invalid
 * regular expression (2201B) or invalid JSON (22P02) only for what the caller
 * passed them -- the policy, suppressions, the schema name: the user's input,
 * hence a usage error.  Anything else from our own queries is internal.
 */
static bool
sqlstate_is_bad_argument(const char *sqlstate)
{
	return strcmp(sqlstate, "22023") == 0 || strcmp(sqlstate, "2201B") == 0 ||
		strcmp(sqlstate, "22P02") == 0;
}

/* The exit code of a failed query, recorded (unless a signal stopped it). */
static int
query_failed(run_ctx *ctx, const char *err)
{
	if (dd_got_signal)
		return 128 + dd_got_signal;
	run_record_error(ctx, NULL, 0, err);
	if (ctx->last_sqlstate[0])
		json_object_set_new(json_object_get(ctx->report, "error"), "sqlstate",
							json_string(ctx->last_sqlstate));
	return sqlstate_is_bad_argument(ctx->last_sqlstate) ? EXIT_USAGE : EXIT_INTERNAL;
}

/*
 * Append the rows of res to arr as objects keyed by column name.  A value
 * equal to the same column's in the row before (prev[column], kept across
 * calls) is that row's string, shared (jansson counts references):
 * verification returns thousands of rows whose family, code and status
 * repeat, and they are kept until the report is written.  Nothing changes a
 * string in place but report_redact(), which would make every copy the same
 * anyway.
 */
static void
rows_append(json_t *arr, PGresult *res, json_t **prev)
{
	int			nf = PQnfields(res);

	for (int r = 0; r < PQntuples(res); r++)
	{
		json_t	   *o = json_object();

		for (int c = 0; c < nf; c++)
		{
			if (PQgetisnull(res, r, c))
				json_object_set_new(o, PQfname(res, c), json_null());
			else if (PQftype(res, c) == 16)	/* bool */
				json_object_set_new(o, PQfname(res, c), json_boolean(PQgetvalue(res, r, c)[0] == 't'));
			else
			{
				const char *v = PQgetvalue(res, r, c);
				size_t		len = (size_t) PQgetlength(res, r, c);

				if (!prev[c] || json_string_length(prev[c]) != len ||
					memcmp(json_string_value(prev[c]), v, len) != 0)
					prev[c] = json_stringn(v, len);
				else
					json_incref(prev[c]);
				json_object_set_new(o, PQfname(res, c), prev[c]);
			}
		}
		json_array_append_new(arr, o);
	}
}

/*
 * The results of the query sent on conn in single-row mode, read to the end:
 * each row becomes JSON in rows as it arrives, so the whole result (a
 * megabyte for the verification of 2,000 tables) is never held beside its
 * JSON.  Returns the final result, what PQexecParams() would have returned
 * (NULL if none came): an error after some rows discards them.
 */
static PGresult *
collect_rows(PGconn *conn, json_t *rows)
{
	json_t	  **prev = NULL;
	PGresult   *res = NULL;
	PGresult   *r;

	while ((r = PQgetResult(conn)) != NULL)
	{
		ExecStatusType st = PQresultStatus(r);

		if (st == PGRES_SINGLE_TUPLE || st == PGRES_TUPLES_OK)
		{
			if (!prev)
				prev = xcalloc(PQnfields(r) ? PQnfields(r) : 1, sizeof(json_t *));
			rows_append(rows, r, prev);
		}
		if (st == PGRES_SINGLE_TUPLE)
		{
			PQclear(r);
			continue;
		}
		PQclear(res);
		res = r;
		if (st == PGRES_COPY_IN || st == PGRES_COPY_OUT || st == PGRES_COPY_BOTH ||
			PQstatus(conn) == CONNECTION_BAD)
			break;				/* as PQexecParams() stops */
	}
	free(prev);
	return res;
}

/*
 * The rows of a finished query (res from sql_result: NULL if it failed, the
 * failure recorded and *rc its exit code), as run_query_rows returns them.
 */
static json_t *
rows_or_failure(run_ctx *ctx, PGresult *res, json_t *rows, const char *err, int *rc)
{
	if (!res)
	{
		json_decref(rows);
		*rc = query_failed(ctx, err);
		return NULL;
	}
	PQclear(res);
	*rc = 0;
	return rows;
}

json_t *
run_query_rows(run_ctx *ctx, const char *what, const char *query, int nparams, const char *const *params,
		   int *rc)
{
	char		err[1024];
	double		t = now_ms();
	json_t	   *rows = json_array();
	PGresult   *res = NULL;

	if (PQsendQueryParams(ctx->conn, query, nparams, NULL, params, NULL, NULL, 0))
	{
		(void) PQsetSingleRowMode(ctx->conn);
		res = collect_rows(ctx->conn, rows);
	}
	res = sql_result(ctx, ctx->conn, what, query, t, res, err, sizeof(err));
	return rows_or_failure(ctx, res, rows, err, rc);
}

/* Open the side connection if it is not (false: could not, recorded). */
static bool
side_open(run_ctx *ctx)
{
	char		err[1024];

	if (ctx->side)
		return true;
	/* the same checks as the main connection: this sandbox, its socket */
	ctx->side = sandbox_connect(&ctx->sb, ctx->dbname, err, sizeof(err));
	if (!ctx->side)
	{
		run_command(ctx, "sql", "second connection (for checks run side by side)", err, 0);
		return false;
	}
	signals_cancel_side_on_signal(PQgetCancel(ctx->side));
	return true;
}

bool
run_side_send(run_ctx *ctx, const char *what, const char *query, int nparams,
			  const char *const *params, int result_format)
{
	return run_side_send_pipelined(ctx, what, query, nparams, params, result_format,
								   NULL, NULL, 0, NULL);
}

bool
run_side_send_pipelined(run_ctx *ctx, const char *what, const char *query, int nparams,
						const char *const *params, int result_format,
						const char *next_what, const char *next_query, int next_nparams,
						const char *const *next_params)
{
	PGconn	   *c;

	if (ctx->side_what)
		return false;			/* one query at a time */
	if (!side_open(ctx))
		return false;
	c = ctx->side;
	if ((next_query && !PQenterPipelineMode(c)) ||
		!PQsendQueryParams(c, query, nparams, NULL, params, NULL, NULL, result_format) ||
		!PQsetSingleRowMode(c) ||
		(next_query && (!PQsendQueryParams(c, next_query, next_nparams, NULL, next_params, NULL, NULL, 0) ||
						!PQpipelineSync(c))))
	{
		run_command(ctx, "sql", what, PQerrorMessage(c), 0);
		run_side_close(ctx);
		return false;
	}
	ctx->side_what = xstrdup(what);
	/* as the command log shows it: what, else the query itself (sql_result) */
	ctx->side_next_what = next_query ? xstrdup(next_what ? next_what : next_query) : NULL;
	ctx->side_t0 = now_ms();
	return true;
}

/* The results up to the pipeline's sync, then out of pipeline mode. */
static void
pipeline_end(PGconn *c)
{
	PGresult   *r;

	while ((r = PQgetResult(c)) != NULL)
	{
		bool		sync = PQresultStatus(r) == PGRES_PIPELINE_SYNC;

		PQclear(r);
		if (sync)
			break;
	}
	(void) PQexitPipelineMode(c);
}

/*
 * The queued query's result on c, its end (NULL), then the pipeline's sync;
 * leaves pipeline mode.  Touches nothing but c (the spool thread calls it).
 */
static bool
side_read_next(PGconn *c, double *ms, char **msg)
{
	PGresult   *r;
	bool		ok = false;

	*ms = 0;
	*msg = NULL;
	while ((r = PQgetResult(c)) != NULL)
	{
		ExecStatusType st = PQresultStatus(r);

		if (st == PGRES_TUPLES_OK && PQntuples(r) == 1 && PQnfields(r) >= 1 && !PQgetisnull(r, 0, PQnfields(r) - 1))
		{
			ok = true;
			/* its last column: how long the server took, in ms */
			*ms = atof(PQgetvalue(r, 0, PQnfields(r) - 1));
		}
		else if (!*msg)
			*msg = xstrdup(st == PGRES_PIPELINE_ABORTED ? "not run: the query before it failed"
						   : PQresultErrorMessage(r));
		PQclear(r);
	}
	pipeline_end(c);
	return ok;
}

/* Record the queued query's outcome as a command; forget it. */
static bool
side_record_next(run_ctx *ctx, bool ok, double ms, char *msg)
{
	run_command(ctx, "sql", ctx->side_next_what, ok ? "ok" : (msg ? msg : "failed"), ms);
	free(msg);
	free(ctx->side_next_what);
	ctx->side_next_what = NULL;
	return ok;
}

/* ---------- the spool thread ---------- */

struct side_spool
{
	pthread_t	thread;
	PGconn	   *conn;
	FILE	   *f;
	bool		with_next;
	/* results, read by the main thread after pthread_join */
	bool		ok;
	long long	bytes;
	char	   *msg;
	double		t_end;
	bool		next_ok;
	double		next_ms;
	char	   *next_msg;
};

bool
run_spool_rows(PGconn *conn, FILE *f, long long *bytes, char **msg)
{
	PGresult   *res;
	bool		ok = true;

	while ((res = PQgetResult(conn)) != NULL)
	{
		ExecStatusType st = PQresultStatus(res);

		if (st == PGRES_SINGLE_TUPLE && ok)
		{
			size_t		len = (size_t) PQgetlength(res, 0, 0);

			/* the bytes, exactly (binary: no escaping) */
			if (fwrite(PQgetvalue(res, 0, 0), 1, len, f) != len)
				ok = false;
			*bytes += (long long) len;
		}
		else if (st != PGRES_TUPLES_OK && st != PGRES_SINGLE_TUPLE)
		{
			ok = false;
			if (!*msg)
				*msg = xstrdup(PQresultErrorMessage(res));
		}
		PQclear(res);
	}
	return ok;
}

static void *
side_spool_main(void *arg)
{
	struct side_spool *sp = arg;

	sp->ok = run_spool_rows(sp->conn, sp->f, &sp->bytes, &sp->msg);
	sp->t_end = now_ms();
	if (sp->with_next)
		sp->next_ok = side_read_next(sp->conn, &sp->next_ms, &sp->next_msg);
	return NULL;
}

bool
run_side_spool_start(run_ctx *ctx, FILE *f)
{
	struct side_spool *sp;
	if (!ctx->side || !ctx->side_what || ctx->side_spool)
		return false;
	sp = xcalloc(1, sizeof(*sp));
	sp->conn = ctx->side;
	sp->f = f;
	sp->with_next = ctx->side_next_what != NULL;
	if (!thread_start(&sp->thread, side_spool_main, sp))
	{
		free(sp);
		return false;
	}
	ctx->side_spool = sp;
	return true;
}

/* Wait for the spool thread; NULL if there is none. */
static struct side_spool *
side_spool_join(run_ctx *ctx)
{
	struct side_spool *sp = ctx->side_spool;

	if (sp)
		pthread_join(sp->thread, NULL);
	ctx->side_spool = NULL;
	return sp;
}

bool
run_side_spool_finish(run_ctx *ctx, long long *bytes, char **msg, bool *next_ok)
{
	struct side_spool *sp = side_spool_join(ctx);
	bool		ok;

	*next_ok = false;
	*bytes = 0;
	*msg = NULL;
	if (!sp)
		return false;
	ok = sp->ok;
	*bytes = sp->bytes;
	*msg = sp->msg;
	run_command(ctx, "sql", ctx->side_what, ok ? "ok" : (sp->msg ? sp->msg : "failed"), sp->t_end - ctx->side_t0);
	if (sp->with_next)
		*next_ok = side_record_next(ctx, sp->next_ok, sp->next_ms, sp->next_msg);
	free(sp);
	return ok;
}

json_t *
run_side_rows(run_ctx *ctx, int *rc)
{
	char		err[1024];
	json_t	   *rows = json_array();
	PGresult   *res = sql_result(ctx, ctx->side, ctx->side_what, ctx->side_what, ctx->side_t0,
								 collect_rows(ctx->side, rows), err, sizeof(err));

	if (!ctx->side_next_what)
		run_side_close(ctx);	/* else run_side_next_rows reads the queued query */
	ctx->side_t0 = now_ms();
	return rows_or_failure(ctx, res, rows, err, rc);
}

json_t *
run_side_next_rows(run_ctx *ctx, int *rc)
{
	char		err[1024];
	json_t	   *rows = json_array();
	PGresult   *res = NULL;
	char	   *what = ctx->side_next_what;

	if (!ctx->side || !what)
	{
		json_decref(rows);
		*rc = -1;
		return NULL;
	}
	ctx->side_next_what = NULL;
	/* its rows (or PIPELINE_ABORTED: the query before it failed), then the sync */
	res = collect_rows(ctx->side, rows);
	pipeline_end(ctx->side);
	res = sql_result(ctx, ctx->side, what, what, ctx->side_t0, res, err, sizeof(err));
	free(what);
	run_side_close(ctx);
	return rows_or_failure(ctx, res, rows, err, rc);
}

void
run_side_close(run_ctx *ctx)
{
	struct side_spool *sp = side_spool_join(ctx);	/* before its connection goes */

	if (sp)
	{
		free(sp->msg);
		free(sp->next_msg);
		free(sp);
	}
	signals_cancel_side_on_signal(NULL);
	if (ctx->side)
		PQfinish(ctx->side);
	ctx->side = NULL;
	free(ctx->side_what);
	ctx->side_what = NULL;
	free(ctx->side_next_what);
	ctx->side_next_what = NULL;
}

void
run_checkpoint_send(run_ctx *ctx)
{
	char		err[1024];

	if (ctx->checkpoint_conn)
		return;
	ctx->checkpoint_conn = sandbox_connect(&ctx->sb, ctx->dbname, err, sizeof(err));
	if (!ctx->checkpoint_conn)
	{
		run_command(ctx, "sql", "connection for a CHECKPOINT", err, 0);
		return;
	}
	if (!PQsendQuery(ctx->checkpoint_conn, "CHECKPOINT"))
	{
		run_command(ctx, "sql", "CHECKPOINT", PQerrorMessage(ctx->checkpoint_conn), 0);
		PQfinish(ctx->checkpoint_conn);
		ctx->checkpoint_conn = NULL;
		return;
	}
	ctx->checkpoint_t0 = now_ms();
}

void
run_checkpoint_wait(run_ctx *ctx)
{
	PGresult   *r;
	char	   *msg = NULL;

	if (!ctx->checkpoint_conn)
		return;
	while ((r = PQgetResult(ctx->checkpoint_conn)) != NULL)
	{
		if (PQresultStatus(r) != PGRES_COMMAND_OK && !msg)
			msg = xstrdup(PQresultErrorMessage(r));
		PQclear(r);
	}
	/* a failed CHECKPOINT changes nothing: the teardown removes the files */
	run_command(ctx, "sql", "CHECKPOINT (on a third connection while the rollback was checked: "
				"the files of the dropped relations go now, not in the teardown)",
				msg ? msg : "ok", now_ms() - ctx->checkpoint_t0);
	free(msg);
	PQfinish(ctx->checkpoint_conn);
	ctx->checkpoint_conn = NULL;
}

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

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sandbox.h"
#include "signals.h"
#include "util.h"

/*
 * A failed result: one line for the error in err (the command log has the
 * whole message), its SQLSTATE in ctx->last_sqlstate.
 */
static void
result_error(run_ctx *ctx, const PGresult *res, char *err, size_t errlen)
{
	const char *m = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

	snprintf(ctx->last_sqlstate, sizeof(ctx->last_sqlstate), "%s", state ? state : "");
	if (!m)
		m = PQresultErrorMessage(res);
	snprintf(err, errlen, "%.*s", (int) strcspn(m, "\n"), m);
}

PGresult *
run_sql(run_ctx *ctx, const char *what, const char *query, int nparams, const char *const *params,
	char *err, size_t errlen)
{
	double		t = now_ms();
	PGresult   *res = PQexecParams(ctx->conn, query, nparams, NULL, params, NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(res);
	bool		ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
	char	   *shown = xstrdup(query);

	run_command(ctx, "sql", what ? what : shown, ok ? "ok" : PQresultErrorMessage(res), now_ms() - t);
	free(shown);
	if (!ok)
	{
		result_error(ctx, res, err, errlen);
		PQclear(res);
		return NULL;
	}
	return res;
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

/* Rows of a result as an array of objects keyed by column name. */
static json_t *
rows_json(PGresult *res)
{
	json_t	   *arr = json_array();

	for (int r = 0; r < PQntuples(res); r++)
	{
		json_t	   *o = json_object();

		for (int c = 0; c < PQnfields(res); c++)
		{
			if (PQgetisnull(res, r, c))
				json_object_set_new(o, PQfname(res, c), json_null());
			else if (PQftype(res, c) == 16)	/* bool */
				json_object_set_new(o, PQfname(res, c), json_boolean(PQgetvalue(res, r, c)[0] == 't'));
			else
				json_object_set_new(o, PQfname(res, c), json_string(PQgetvalue(res, r, c)));
		}
		json_array_append_new(arr, o);
	}
	return arr;
}

json_t *
run_query_rows(run_ctx *ctx, const char *what, const char *query, int nparams, const char *const *params,
		   int *rc)
{
	char		err[1024];
	PGresult   *res = run_sql(ctx, what, query, nparams, params, err, sizeof(err));
	json_t	   *rows;

	if (!res)
	{
		*rc = query_failed(ctx, err);
		return NULL;
	}
	rows = rows_json(res);
	PQclear(res);
	*rc = 0;
	return rows;
}

bool
run_side_send(run_ctx *ctx, const char *what, const char *query, int nparams,
			  const char *const *params, bool single_row)
{
	char		err[1024];

	if (ctx->side_what)
		return false;			/* one query at a time */
	if (!ctx->side)
	{
		/* the same checks as the main connection: this sandbox, its socket */
		ctx->side = sandbox_connect(&ctx->sb, ctx->dbname, err, sizeof(err));
		if (!ctx->side)
		{
			run_command(ctx, "sql", "second connection (for checks run side by side)", err, 0);
			return false;
		}
		signals_cancel_side_on_signal(PQgetCancel(ctx->side));
	}
	if (!PQsendQueryParams(ctx->side, query, nparams, NULL, params, NULL, NULL, 0) ||
		(single_row && !PQsetSingleRowMode(ctx->side)))
	{
		run_command(ctx, "sql", what, PQerrorMessage(ctx->side), 0);
		run_side_close(ctx);
		return false;
	}
	ctx->side_what = xstrdup(what);
	ctx->side_t0 = now_ms();
	return true;
}

json_t *
run_side_rows(run_ctx *ctx, int *rc)
{
	PGresult   *res;
	PGresult   *last = NULL;
	char		err[1024] = "";
	json_t	   *rows = NULL;

	/* one statement: one result, then NULL; an error result ends it */
	while ((res = PQgetResult(ctx->side)) != NULL)
	{
		if (last && PQresultStatus(last) != PGRES_TUPLES_OK && PQresultStatus(last) != PGRES_COMMAND_OK)
			PQclear(res);		/* keep the first error */
		else
		{
			PQclear(last);
			last = res;
		}
	}
	if (!last)
		snprintf(err, sizeof(err), "%s", PQerrorMessage(ctx->side));
	else if (PQresultStatus(last) != PGRES_TUPLES_OK)
		result_error(ctx, last, err, sizeof(err));
	else
		rows = rows_json(last);
	run_command(ctx, "sql", ctx->side_what, rows ? "ok" : err, now_ms() - ctx->side_t0);
	PQclear(last);
	run_side_close(ctx);
	*rc = rows ? 0 : query_failed(ctx, err);
	return rows;
}

void
run_side_close(run_ctx *ctx)
{
	signals_cancel_side_on_signal(NULL);
	if (ctx->side)
		PQfinish(ctx->side);
	ctx->side = NULL;
	free(ctx->side_what);
	ctx->side_what = NULL;
}

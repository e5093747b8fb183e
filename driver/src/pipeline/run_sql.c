/*
 * run_sql.c
 *		SQL on the run's superuser connection to the sandbox: each query is
 *		recorded as a command of the report (with its result and duration),
 *		a failure keeps its SQLSTATE, and rows come back as JSON.  Every step
 *		of the pipeline queries through these; they use nothing of it.
 */
#include "run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "signals.h"
#include "util.h"

/*
 * The query's final result: recorded as a command (what, or the query
 * itself), with its duration since t0; NULL with the error's first line in
 * err (and its SQLSTATE in ctx->last_sqlstate) unless it succeeded.
 */
static PGresult *
sql_result(run_ctx *ctx, const char *what, const char *query, double t0, PGresult *res,
		   char *err, size_t errlen)
{
	ExecStatusType st = PQresultStatus(res);
	bool		ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
	char	   *shown = xstrdup(query);

	run_command(ctx, "sql", what ? what : shown, ok ? "ok" : PQresultErrorMessage(res), now_ms() - t0);
	free(shown);
	if (!ok)
	{
		/* one line for the error; the command log above has the whole message */
		const char *m = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
		const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		size_t		n;

		snprintf(ctx->last_sqlstate, sizeof(ctx->last_sqlstate), "%s", state ? state : "");

		if (!m)
			m = PQresultErrorMessage(res);
		n = strcspn(m, "\n");
		snprintf(err, errlen, "%.*s", (int) n, m);
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

	return sql_result(ctx, what, query, t,
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
 * run_sql() with the rows as JSON, read in libpq's single-row mode: each
 * row becomes JSON as it arrives, so the whole result (a megabyte for the
 * verification of 2,000 tables) is never held beside its JSON.  The last
 * result is what PQexecParams() would have returned: an error after some
 * rows discards them.
 */
json_t *
run_query_rows(run_ctx *ctx, const char *what, const char *query, int nparams, const char *const *params,
		   int *rc)
{
	char		err[1024];
	double		t = now_ms();
	json_t	   *rows = json_array();
	json_t	  **prev = NULL;
	PGresult   *res = NULL;

	if (PQsendQueryParams(ctx->conn, query, nparams, NULL, params, NULL, NULL, 0))
	{
		PGresult   *r;

		(void) PQsetSingleRowMode(ctx->conn);
		while ((r = PQgetResult(ctx->conn)) != NULL)
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
				PQstatus(ctx->conn) == CONNECTION_BAD)
				break;			/* as PQexecParams() stops */
		}
	}
	free(prev);
	res = sql_result(ctx, what, query, t, res, err, sizeof(err));
	if (!res)
	{
		json_decref(rows);
		if (dd_got_signal)
			*rc = 128 + dd_got_signal;
		else
		{
			run_record_error(ctx, NULL, 0, err);
			if (ctx->last_sqlstate[0])
				json_object_set_new(json_object_get(ctx->report, "error"), "sqlstate",
									json_string(ctx->last_sqlstate));
			*rc = sqlstate_is_bad_argument(ctx->last_sqlstate) ? EXIT_USAGE : EXIT_INTERNAL;
		}
		return NULL;
	}
	PQclear(res);
	*rc = 0;
	return rows;
}

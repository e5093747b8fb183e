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
 * Rows of a result as an array of objects keyed by column name.  A value
 * equal to the same column's in the row before is that row's string, shared
 * (jansson counts references): verification returns thousands of rows whose
 * family, code and status repeat, and they are kept until the report is
 * written.  Nothing changes a string in place but report_redact(), which
 * would make every copy the same anyway.
 */
static json_t *
rows_json(PGresult *res)
{
	json_t	   *arr = json_array();
	int			nf = PQnfields(res);
	json_t	  **prev = xcalloc(nf ? nf : 1, sizeof(json_t *));

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
	free(prev);
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
	rows = rows_json(res);
	PQclear(res);
	*rc = 0;
	return rows;
}

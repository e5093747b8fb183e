/*
 * prod_stats.c
 *		Production-aware dry-runs: `drydock stats-query` (the read-only
 *		catalog query the user runs against production), --prod-stats FILE
 *		(its output, validated and recorded) and --synthetic-rows N (the
 *		pre-existing tables filled before the baseline, so that statements
 *		that succeed only on empty tables fail in the sandbox as they would
 *		in production).
 *
 *		drydock never connects to production: the user runs the query with
 *		their usual access and hands drydock the resulting file.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prod_stats.h"
#include "sha256.h"
#include "util.h"

/* The format version the query writes and --prod-stats accepts. */
#define PROD_STATS_FORMAT 1

/*
 * One read-only transaction, one JSON document on one line (psql -XAt).
 * pg_stats shows only the columns the user may read: the others get no
 * null_frac / n_distinct, and the generator falls back to its defaults.
 * The size functions need no privilege on the table.
 */
static const char stats_query[] =
"-- drydock stats-query: production statistics for drydock --prod-stats.\n"
"-- Read-only (catalog and statistics views only; no table is scanned).\n"
"-- Run it against production with your usual access:\n"
"--   psql -XAt -f q.sql \"$PRODUCTION_URL\" > stats.json\n"
"\\set QUIET on\n"
"\\set ON_ERROR_STOP on\n"
"BEGIN TRANSACTION READ ONLY;\n"
"SELECT json_build_object(\n"
"  'drydock_stats', " "1" ",\n"
"  'collected_at', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),\n"
"  'server_version_num', current_setting('server_version_num')::int,\n"
"  'database', current_database(),\n"
"  'tables', coalesce((SELECT json_agg(t ORDER BY t.schema, t.name) FROM (\n"
"    SELECT n.nspname AS schema, c.relname AS name, c.relkind::text AS kind,\n"
"           c.reltuples::float8 AS reltuples, c.relpages::bigint AS relpages,\n"
"           pg_relation_size(c.oid) AS table_bytes,\n"
"           pg_indexes_size(c.oid) AS indexes_bytes,\n"
"           CASE WHEN c.reltoastrelid <> 0 THEN pg_total_relation_size(c.reltoastrelid) ELSE 0 END AS toast_bytes,\n"
"           pg_total_relation_size(c.oid) AS total_bytes,\n"
"           s.n_live_tup, s.n_dead_tup,\n"
"           coalesce((SELECT json_agg(json_build_object('name', a.attname, 'null_frac', ps.null_frac,\n"
"                                                       'n_distinct', ps.n_distinct, 'avg_width', ps.avg_width)\n"
"                                     ORDER BY a.attnum)\n"
"                       FROM pg_attribute a\n"
"                       LEFT JOIN pg_stats ps ON ps.schemaname = n.nspname AND ps.tablename = c.relname\n"
"                                            AND ps.attname = a.attname AND ps.inherited = (c.relkind = 'p')\n"
"                      WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), '[]') AS columns,\n"
"           coalesce((SELECT json_agg(json_build_object('name', i.relname, 'bytes', pg_relation_size(i.oid))\n"
"                                     ORDER BY i.relname)\n"
"                       FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid\n"
"                      WHERE x.indrelid = c.oid), '[]') AS indexes\n"
"      FROM pg_class c\n"
"      JOIN pg_namespace n ON n.oid = c.relnamespace\n"
"      LEFT JOIN pg_stat_all_tables s ON s.relid = c.oid\n"
"     WHERE c.relkind IN ('r', 'p', 'm')\n"
"       AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_toast'\n"
"  ) t), '[]'::json));\n"
"ROLLBACK;\n";

static void
stats_query_usage(FILE *out)
{
	fprintf(out,
			"Usage: drydock stats-query [OPTION]...\n"
			"Print the read-only catalog query that collects production statistics for\n"
			"--prod-stats: relation sizes (table, indexes, TOAST), reltuples, live and dead\n"
			"tuples, per-column null_frac and n_distinct from pg_stats (where readable), index\n"
			"sizes.  drydock never connects to production; run it there yourself:\n"
			"\n"
			"  drydock stats-query > q.sql\n"
			"  psql -XAt -f q.sql \"$PRODUCTION_URL\" > stats.json\n"
			"  drydock run up.sql down.sql --base prod.sql --prod-stats stats.json ...\n"
			"\n"
			"  -h, --help                show this help, then exit\n");
}

int
cmd_stats_query(int argc, char **argv)
{
	static const struct option long_options[] = {
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}
	};
	int			c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", long_options, NULL)) != -1)
	{
		if (c == 'h')
		{
			stats_query_usage(stdout);
			return EXIT_PASS;
		}
		stats_query_usage(stderr);
		return EXIT_USAGE;
	}
	if (optind < argc)
	{
		dd_error("stats-query takes no argument: \"%s\"", argv[optind]);
		return EXIT_USAGE;
	}
	fputs(stats_query, stdout);
	return fflush(stdout) == 0 ? EXIT_PASS : EXIT_INTERNAL;
}

/* A number, or null when absent/null is allowed: else a message. */
static const char *
check_number(json_t *o, const char *key, bool nullable, double lo, double hi)
{
	json_t	   *v = json_object_get(o, key);

	if (!v || json_is_null(v))
		return nullable ? NULL : "missing";
	if (!json_is_number(v))
		return "not a number";
	if (json_number_value(v) < lo || json_number_value(v) > hi)
		return "out of range";
	return NULL;
}

/*
 * Check the shape of a stats document; NULL when it is one, else a message
 * naming the first offending place (a JSON path).
 */
static char *
stats_shape_error(json_t *doc)
{
	json_t	   *tables,
			   *t;
	size_t		i;
	const char *why;

	if (!json_is_object(doc))
		return xstrdup("not a JSON object (expected the output of drydock stats-query)");
	if (!json_is_integer(json_object_get(doc, "drydock_stats")))
		return xstrdup("no \"drydock_stats\" format number (expected the output of drydock stats-query)");
	if (json_integer_value(json_object_get(doc, "drydock_stats")) != PROD_STATS_FORMAT)
		return xasprintf("\"drydock_stats\" is %lld; this drydock reads format %d",
						 (long long) json_integer_value(json_object_get(doc, "drydock_stats")), PROD_STATS_FORMAT);
	if (!json_is_string(json_object_get(doc, "collected_at")))
		return xstrdup("\"collected_at\" must be a string");
	if ((why = check_number(doc, "server_version_num", false, 0, 1e7)))
		return xasprintf("\"server_version_num\": %s", why);
	tables = json_object_get(doc, "tables");
	if (!json_is_array(tables))
		return xstrdup("\"tables\" must be an array");
	json_array_foreach(tables, i, t)
	{
		static const char *const sizes[] = {"reltuples", "relpages", "table_bytes", "indexes_bytes",
		"toast_bytes", "total_bytes", "n_live_tup", "n_dead_tup"};
		json_t	   *cols,
				   *col;
		size_t		j;

		if (!json_is_object(t) || !json_is_string(json_object_get(t, "schema")) ||
			!json_is_string(json_object_get(t, "name")))
			return xasprintf("tables[%zu] must be an object with string \"schema\" and \"name\"", i);
		for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++)
			/* reltuples is -1 on PostgreSQL 14+ for a never-analyzed table */
			if ((why = check_number(t, sizes[s], s >= 6, s == 0 ? -1 : 0, 1e19)))
				return xasprintf("tables[%zu] (%s.%s): \"%s\" %s", i,
								 json_string_value(json_object_get(t, "schema")),
								 json_string_value(json_object_get(t, "name")), sizes[s], why);
		cols = json_object_get(t, "columns");
		if (!json_is_array(cols))
			return xasprintf("tables[%zu]: \"columns\" must be an array", i);
		json_array_foreach(cols, j, col)
		{
			if (!json_is_object(col) || !json_is_string(json_object_get(col, "name")))
				return xasprintf("tables[%zu].columns[%zu] must be an object with a string \"name\"", i, j);
			if ((why = check_number(col, "null_frac", true, 0, 1)))
				return xasprintf("tables[%zu].columns[%zu]: \"null_frac\" %s", i, j, why);
			if ((why = check_number(col, "n_distinct", true, -1, 1e19)))
				return xasprintf("tables[%zu].columns[%zu]: \"n_distinct\" %s", i, j, why);
		}
		if (json_object_get(t, "indexes") && !json_is_array(json_object_get(t, "indexes")))
			return xasprintf("tables[%zu]: \"indexes\" must be an array", i);
	}
	return NULL;
}

int
prod_stats_load(run_ctx *ctx)
{
	const char *path = ctx->opt->prod_stats_path;
	json_error_t jerr;
	json_t	   *doc,
			   *rec;
	char		hex[SHA256_HEX_LEN + 1];
	char		err[512];
	char	   *why;

	if (!path)
		return 0;
	memset(&jerr, 0, sizeof(jerr));
	doc = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (!doc)
	{
		char	   *msg = xasprintf("--prod-stats: not JSON: %s", jerr.text);

		run_record_error(ctx, path, jerr.line > 0 ? jerr.line : 0, msg);
		free(msg);
		return EXIT_USAGE;
	}
	if ((why = stats_shape_error(doc)))
	{
		char	   *msg = xasprintf("--prod-stats: %s", why);

		/* psql -XAt writes the document on its first line */
		run_record_error(ctx, path, 1, msg);
		free(msg);
		free(why);
		json_decref(doc);
		return EXIT_USAGE;
	}
	if (sha256_file_hex(path, hex, err, sizeof(err)) != 0)
	{
		char	   *msg = xasprintf("--prod-stats: %s", err);

		run_record_error(ctx, path, 0, msg);
		free(msg);
		json_decref(doc);
		return EXIT_USAGE;
	}
	rec = json_pack("{s:s, s:s, s:O, s:O, s:i}",
					"path", path, "sha256", hex,
					"collected_at", json_object_get(doc, "collected_at"),
					"server_version_num", json_object_get(doc, "server_version_num"),
					"tables", (int) json_array_size(json_object_get(doc, "tables")));
	json_object_set_new(ctx->report, "production_stats", rec);
	json_decref(ctx->prod_stats);
	ctx->prod_stats = doc;
	return 0;
}

int
run_synthesize(run_ctx *ctx)
{
	char		n[32];
	char	   *stats = NULL;
	const char *params[2];
	json_t	   *rows,
			   *row,
			   *rec;
	size_t		i;
	int			rc,
				filled = 0,
				failed = 0;
	double		t = now_ms();

	if (ctx->opt->synthetic_rows <= 0)
		return 0;
	snprintf(n, sizeof(n), "%d", ctx->opt->synthetic_rows);
	if (ctx->prod_stats)
		stats = json_dumps(ctx->prod_stats, JSON_COMPACT);
	params[0] = n;
	params[1] = stats;
	rows = run_query_rows(ctx, "SELECT drydock.synthesize(N, STATS)",
						  "SELECT table_name AS \"table\", rows_inserted AS rows, status, detail "
						  "FROM drydock.synthesize($1::int, $2::jsonb)", 2, params, &rc);
	free(stats);
	if (!rows)
		return rc;
	json_array_foreach(rows, i, row)
	{
		const char *status = json_string_value(json_object_get(row, "status"));

		json_object_set_new(row, "rows",
							json_integer(atoll(json_string_value(json_object_get(row, "rows")))));
		if (strcmp(status, "filled") == 0)
			filled++;
		else if (strcmp(status, "not generated") == 0)
			failed++;
	}
	rec = json_pack("{s:i, s:b, s:i, s:i, s:o}", "rows_per_table", ctx->opt->synthetic_rows,
					"from_prod_stats", ctx->prod_stats != NULL,
					"filled", filled, "not_generated", failed, "tables", rows);
	json_object_set_new(ctx->report, "synthetic_rows", rec);
	run_command(ctx, "synthesize", "SELECT drydock.synthesize(N, STATS): fill each pre-existing table before the baseline",
				failed ? "partial" : "ok", now_ms() - t);
	dd_progress("synthetic rows: %d table(s) filled with %d row(s) each, %d not generated, in %.0f ms",
				filled, ctx->opt->synthetic_rows, failed, now_ms() - t);
	return 0;
}

void
prod_stats_residuals(run_ctx *ctx, strbuf *text)
{
	json_t	   *syn = json_object_get(ctx->report, "synthetic_rows");
	json_t	   *row;
	size_t		i;
	int			shown = 0;

	if (!syn)
		return;
	sb_printf(text, ". --synthetic-rows %lld: %lld pre-existing table(s) filled%s before the baseline",
			  (long long) json_integer_value(json_object_get(syn, "rows_per_table")),
			  (long long) json_integer_value(json_object_get(syn, "filled")),
			  json_is_true(json_object_get(syn, "from_prod_stats")) ? " (NULL shares and distinct counts from --prod-stats)" : "");
	if (json_integer_value(json_object_get(syn, "not_generated")) == 0)
		return;
	sb_printf(text, "; NOT generated, left empty (%lld): ",
			  (long long) json_integer_value(json_object_get(syn, "not_generated")));
	json_array_foreach(json_object_get(syn, "tables"), i, row)
	{
		if (strcmp(json_string_value(json_object_get(row, "status")), "not generated") != 0)
			continue;
		sb_printf(text, "%s%s (%s)", shown++ ? "; " : "",
				  json_string_value(json_object_get(row, "table")),
				  json_string_value(json_object_get(row, "detail")) ? json_string_value(json_object_get(row, "detail")) : "?");
	}
}

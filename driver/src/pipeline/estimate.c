/*
 * estimate.c
 *		Production impact: how long each lock a migration takes on a
 *		pre-existing relation would be held in production, from --prod-stats.
 *
 *		The capture log says which lock each statement took and whether it
 *		rewrote the table, never how long that lasts: that depends on the
 *		table's size.  For each locked relation that production's statistics
 *		describe, drydock.calibrate() times the same kinds of work (a rewrite
 *		of heap and indexes, a validating full scan, an index build) on a
 *		synthetic copy of the relation's shape at two row counts; the time
 *		is extrapolated linearly by bytes to production's size (the slope
 *		between the two points, so that fixed costs are not scaled up), and
 *		reported as a range with the method stated, never a bare number.
 *		Policy key max_lock_seconds bounds the high end of the range.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "estimate.h"
#include "util.h"

/* Row counts of the two calibration copies. */
#define CALIBRATION_SMALL	25000
#define CALIBRATION_LARGE	100000

/*
 * The range around the extrapolated time: the sandbox is not production
 * (fsync off, another disk and CPU, a copy that fits in shared buffers, no
 * concurrent load), and linear scaling ignores a sort's n log n.  The
 * factors are the measured error on a 3-million-row table (README) with
 * a margin.
 */
#define RANGE_LOW	0.5
#define RANGE_HIGH	2.0

typedef struct calib_point
{
	double		rows,
				bytes,			/* heap (with TOAST) */
				index_bytes,
				rewrite_ms,
				scan_ms,
				index_ms;
} calib_point;

static double
num(json_t *o, const char *key)
{
	json_t	   *v = json_object_get(o, key);

	if (json_is_number(v))
		return json_number_value(v);
	if (json_is_string(v))
		return atof(json_string_value(v));
	return 0;
}

/* The stats entry of schema.name in the --prod-stats document, or NULL. */
static json_t *
stats_table(json_t *doc, const char *schema, const char *name)
{
	size_t		i;
	json_t	   *t;

	json_array_foreach(json_object_get(doc, "tables"), i, t)
		if (strcmp(json_string_value(json_object_get(t, "schema")), schema) == 0 &&
			strcmp(json_string_value(json_object_get(t, "name")), name) == 0)
		return t;
	return NULL;
}

/*
 * Milliseconds for work on `bytes`, from two calibration points: the slope
 * between them, or proportional below the larger copy.
 */
static double
extrapolate(double b1, double t1, double b2, double t2, double bytes)
{
	double		slope;

	if (b2 <= 0)
		return 0;
	if (bytes <= b2 || b2 <= b1)
		return t2 * bytes / b2;
	slope = (t2 - t1) / (b2 - b1);
	if (slope <= 0)
		slope = t2 / b2;
	return t2 + slope * (bytes - b2);
}

/* "1.2 GB" */
static void
human_bytes(char *buf, size_t len, double b)
{
	const char *u[] = {"B", "kB", "MB", "GB", "TB"};
	int			i = 0;

	while (b >= 1024 && i < 4)
	{
		b /= 1024;
		i++;
	}
	snprintf(buf, len, i == 0 ? "%.0f %s" : "%.1f %s", b, u[i]);
}

/* The bound of policy key max_lock_seconds for mode, or -1. */
static double
max_lock_seconds(run_ctx *ctx, const char *mode)
{
	json_t	   *m = json_object_get(ctx->policy, "max_lock_seconds");

	if (json_is_number(m))
		return json_number_value(m);
	if (json_is_object(m))
	{
		const char *k;
		json_t	   *v;

		json_object_foreach(m, k, v)
			if (strcasecmp(k, mode) == 0 && json_is_number(v))
			return json_number_value(v);
	}
	return -1;
}

/* Calibrate relation (a regclass text); false with why when it cannot be. */
static bool
calibrate(run_ctx *ctx, const char *relation, calib_point pts[2], char **why, int *rc)
{
	char		counts[64];
	const char *params[2];
	json_t	   *rows;

	snprintf(counts, sizeof(counts), "{%d,%d}", CALIBRATION_SMALL, CALIBRATION_LARGE);
	params[0] = relation;
	params[1] = counts;
	rows = run_query_rows(ctx, "SELECT drydock.calibrate(RELATION, ROW_COUNTS)",
						  "SELECT n_rows, table_bytes, indexes_bytes, rewrite_ms, scan_ms, index_ms, detail "
						  "FROM drydock.calibrate($1::regclass, $2::int[])", 2, params, rc);
	if (!rows)
		return false;
	if (json_array_size(rows) < 2)
	{
		json_t	   *d = json_object_get(json_array_get(rows, 0), "detail");

		*why = xasprintf("no synthetic copy of its shape could be made: %s",
						 json_is_string(d) ? json_string_value(d) : "?");
		json_decref(rows);
		return false;
	}
	for (int i = 0; i < 2; i++)
	{
		json_t	   *r = json_array_get(rows, i);

		pts[i].rows = num(r, "n_rows");
		pts[i].bytes = num(r, "table_bytes");
		pts[i].index_bytes = num(r, "indexes_bytes");
		pts[i].rewrite_ms = num(r, "rewrite_ms");
		pts[i].scan_ms = num(r, "scan_ms");
		pts[i].index_ms = num(r, "index_ms");
	}
	json_decref(rows);
	return true;
}

/*
 * One estimate: the work a statement did on relation (in lock mode mode),
 * its range in seconds, the method.  Appended to out.
 */
static void
estimate_one(run_ctx *ctx, json_t *out, json_t *row, const char *phase, const char *relation,
			 const char *mode, json_t *st, const calib_point pts[2])
{
	const char *tag = json_string_value(json_object_get(row, "command_tag"));
	const char *ident = json_string_value(json_object_get(row, "identity"));
	bool		rewrite = json_is_true(json_object_get(row, "rewrite")) && ident && strcmp(ident, relation) == 0;
	double		heap = num(st, "table_bytes") + num(st, "toast_bytes");
	double		idx = num(st, "indexes_bytes");
	double		lo,
				hi,
				ms,
				limit;
	const char *work;
	char		hb[32],
				ib[32],
				cb[32];
	char	   *method;

	human_bytes(hb, sizeof(hb), heap);
	human_bytes(ib, sizeof(ib), idx);
	human_bytes(cb, sizeof(cb), pts[1].bytes + (rewrite ? pts[1].index_bytes : 0));
	if (rewrite)
	{
		work = "rewrite";
		ms = extrapolate(pts[0].bytes + pts[0].index_bytes, pts[0].rewrite_ms,
						 pts[1].bytes + pts[1].index_bytes, pts[1].rewrite_ms, heap + idx);
		lo = ms * RANGE_LOW / 1000;
		hi = ms * RANGE_HIGH / 1000;
		method = xasprintf("rewrite of heap and indexes: a rewrite of a synthetic copy of %s's shape took %.0f ms for %.0f rows (%s of heap and indexes) and %.0f ms for %.0f rows; "
						   "extrapolated linearly by bytes to production's %s of heap and %s of indexes = %.1f s; range x%.1f..x%.1f for the difference between this sandbox (fsync off, copy in memory) and production",
						   relation, pts[1].rewrite_ms, pts[1].rows, cb, pts[0].rewrite_ms, pts[0].rows,
						   hb, ib, ms / 1000, RANGE_LOW, RANGE_HIGH);
	}
	else if (tag && strcmp(tag, "CREATE INDEX") == 0)
	{
		work = strcmp(mode, "ShareUpdateExclusiveLock") == 0 ? "index build (concurrently: writes not blocked)" : "index build";
		ms = extrapolate(pts[0].bytes, pts[0].index_ms, pts[1].bytes, pts[1].index_ms, heap);
		lo = ms * RANGE_LOW / 1000;
		hi = ms * RANGE_HIGH / 1000;
		method = xasprintf("index build: building a one-column index on a synthetic copy of %s's shape took %.0f ms for %.0f rows (%s of heap) and %.0f ms for %.0f rows; "
						   "extrapolated linearly by heap bytes to production's %s = %.1f s (a wide or expression index costs more); range x%.1f..x%.1f",
						   relation, pts[1].index_ms, pts[1].rows, cb, pts[0].index_ms, pts[0].rows,
						   hb, ms / 1000, RANGE_LOW, RANGE_HIGH);
	}
	else
	{
		work = "catalog only, or a validating scan";
		ms = extrapolate(pts[0].bytes, pts[0].scan_ms, pts[1].bytes, pts[1].scan_ms, heap);
		lo = 0;
		hi = ms * RANGE_HIGH / 1000;
		method = xasprintf("no rewrite: the captured facts do not tell a catalog-only change from one that scans every row (SET NOT NULL, a validated CHECK or foreign key); "
						   "a full scan of a synthetic copy of %s's shape took %.0f ms for %.0f rows (%s), extrapolated linearly to production's %s = %.1f s; range from 0 (catalog only) to x%.1f of the scan",
						   relation, pts[1].scan_ms, pts[1].rows, cb, hb, ms / 1000, RANGE_HIGH);
	}
	limit = max_lock_seconds(ctx, mode);
	json_array_append_new(out, json_pack("{s:s, s:O, s:O, s:s, s:s, s:s, s:f, s:f, s:f, s:f, s:s, s:o, s:b}",
										 "phase", phase,
										 "command_tag", json_object_get(row, "command_tag"),
										 "identity", json_object_get(row, "identity"),
										 "relation", relation, "lock_mode", mode, "work", work,
										 "production_bytes", heap + idx,
										 "production_rows", num(st, "reltuples"),
										 "estimate_low_s", lo, "estimate_high_s", hi,
										 "method", method,
										 "max_lock_seconds", limit >= 0 ? json_real(limit) : json_null(),
										 "exceeds", limit >= 0 && hi > limit));
	if (limit >= 0 && hi > limit)
		ctx->n_fail++;
	free(method);
}

int
run_estimate(run_ctx *ctx)
{
	json_t	   *round = json_array_get(json_object_get(ctx->report, "rounds"), 0);
	const char *logs[] = {"apply_ddl_log", "rollback_ddl_log"};
	json_t	   *out,
			   *calibrated,
			   *skipped;
	int			rc = 0;
	double		t = now_ms();

	if (!ctx->prod_stats || !round)
		return 0;
	out = json_array();
	calibrated = json_object();
	skipped = json_object();
	for (int p = 0; p < 2 && rc == 0; p++)
	{
		size_t		i;
		json_t	   *row;

		json_array_foreach(json_object_get(round, logs[p]), i, row)
		{
			const char *locks = json_string_value(json_object_get(row, "locks"));
			char	   *copy = xstrdup(locks ? locks : "");
			char	   *save = NULL;

			for (char *item = strtok_r(copy, ",", &save); item && rc == 0; item = strtok_r(NULL, ",", &save))
			{
				char	   *colon;
				const char *params[1];
				json_t	   *names,
						   *st,
						   *pts;
				calib_point cp[2];
				char	   *why = NULL;

				while (*item == ' ')
					item++;
				colon = strrchr(item, ':');
				if (!colon)
					continue;
				*colon = '\0';
				if (json_object_get(skipped, item))
					continue;
				/* its schema and name as production's statistics spell them */
				params[0] = item;
				names = run_query_rows(ctx, NULL,
									   "SELECT n.nspname, c.relname FROM pg_catalog.pg_class c "
									   "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
									   "WHERE c.oid = pg_catalog.to_regclass($1) AND c.relkind IN ('r', 'p')",
									   1, params, &rc);
				if (!names)
					break;
				st = json_array_size(names) == 1 ?
					stats_table(ctx->prod_stats,
								json_string_value(json_object_get(json_array_get(names, 0), "nspname")),
								json_string_value(json_object_get(json_array_get(names, 0), "relname"))) : NULL;
				json_decref(names);
				if (!st)
				{
					/* not a table production's statistics describe (an index, a new table) */
					json_object_set_new(skipped, item, json_true());
					continue;
				}
				pts = json_object_get(calibrated, item);
				if (!pts)
				{
					if (!calibrate(ctx, item, cp, &why, &rc))
					{
						if (rc != 0)
							break;
						json_object_set_new(skipped, item, json_string(why));
						free(why);
						continue;
					}
					pts = json_pack("[{s:f, s:f, s:f, s:f, s:f, s:f}, {s:f, s:f, s:f, s:f, s:f, s:f}]",
									"rows", cp[0].rows, "table_bytes", cp[0].bytes, "indexes_bytes", cp[0].index_bytes,
									"rewrite_ms", cp[0].rewrite_ms, "scan_ms", cp[0].scan_ms, "index_ms", cp[0].index_ms,
									"rows", cp[1].rows, "table_bytes", cp[1].bytes, "indexes_bytes", cp[1].index_bytes,
									"rewrite_ms", cp[1].rewrite_ms, "scan_ms", cp[1].scan_ms, "index_ms", cp[1].index_ms);
					json_object_set_new(calibrated, item, pts);
				}
				for (int k = 0; k < 2; k++)
				{
					json_t	   *o = json_array_get(pts, k);

					cp[k].rows = num(o, "rows");
					cp[k].bytes = num(o, "table_bytes");
					cp[k].index_bytes = num(o, "indexes_bytes");
					cp[k].rewrite_ms = num(o, "rewrite_ms");
					cp[k].scan_ms = num(o, "scan_ms");
					cp[k].index_ms = num(o, "index_ms");
				}
				estimate_one(ctx, out, row, p == 0 ? "apply" : "rollback", item, colon + 1, st, cp);
			}
			free(copy);
			if (rc != 0)
				break;
		}
	}
	if (rc != 0)
	{
		json_decref(out);
		json_decref(calibrated);
		json_decref(skipped);
		return rc;
	}
	{
		json_t	   *not_estimated = json_array();
		const char *k;
		json_t	   *v;

		json_object_foreach(skipped, k, v)
			if (json_is_string(v))
			json_array_append_new(not_estimated, json_pack("{s:s, s:O}", "relation", k, "why", v));
		json_object_set_new(ctx->report, "production_impact",
							json_pack("{s:o, s:o, s:o}", "estimates", out, "calibration", calibrated,
									  "not_estimated", not_estimated));
	}
	json_decref(skipped);
	run_command(ctx, "calibrate", "SELECT drydock.calibrate(RELATION, ROW_COUNTS) for each locked relation --prod-stats describes",
				"ok", now_ms() - t);
	return 0;
}

void
estimate_attach(json_t *report)
{
	json_t	   *pi = json_object_get(json_object_get(report, "production_impact"), "estimates");
	size_t		i,
				j;
	json_t	   *row,
			   *e;

	if (!pi)
		return;
	json_array_foreach(json_object_get(report, "locks"), i, row)
	{
		strbuf		sb;

		sb_init(&sb);
		json_array_foreach(pi, j, e)
		{
			const char *rel = json_string_value(json_object_get(e, "relation"));
			const char *locks = json_string_value(json_object_get(row, "locks"));
			char		pb[32];
			char	   *needle = xasprintf("%s:", rel ? rel : "");
			bool		locked = locks && strstr(locks, needle);

			if (!json_equal(json_object_get(e, "phase"), json_object_get(row, "phase")) ||
				!json_equal(json_object_get(e, "command_tag"), json_object_get(row, "command_tag")) ||
				!json_equal(json_object_get(e, "identity"), json_object_get(row, "identity")) ||
				!locked)
			{
				free(needle);
				continue;
			}
			free(needle);
			if (strstr(sb.data ? sb.data : "", rel))
				continue;		/* a repeated statement: said once */
			human_bytes(pb, sizeof(pb), num(e, "production_bytes"));
			sb_printf(&sb, "%s%s: %s, %s, %.0f rows: %.1f..%.1f s%s", sb.len ? "; " : "", rel,
					  json_string_value(json_object_get(e, "work")), pb, num(e, "production_rows"),
					  num(e, "estimate_low_s"), num(e, "estimate_high_s"),
					  json_is_true(json_object_get(e, "exceeds")) ? " (over max_lock_seconds)" : "");
		}
		if (sb.len)
			json_object_set_new(row, "production_impact", json_string(sb.data));
		sb_free(&sb);
	}

	/*
	 * The lock findings themselves (AO005 rewrite, AO006 lock level) say it
	 * too, where a reviewer reads them: the widest range of the apply's
	 * estimates on the relation they name.
	 */
	json_array_foreach(json_object_get(json_array_get(json_object_get(report, "rounds"), 0), "verification"), i, row)
	{
		const char *code = json_string_value(json_object_get(row, "code"));
		const char *msg = json_string_value(json_object_get(row, "message"));
		double		lo = -1,
					hi = -1,
					bytes = 0,
					rows = 0;
		const char *rel = NULL;

		if (!code || !msg || (strcmp(code, "AO005") != 0 && strcmp(code, "AO006") != 0))
			continue;
		json_array_foreach(pi, j, e)
		{
			const char *r = json_string_value(json_object_get(e, "relation"));
			char	   *needle = xasprintf("pre-existing %s", r);
			char	   *needle2 = xasprintf("pre-existing table %s", r);
			const char *at = strstr(msg, needle) ? strstr(msg, needle) + strlen(needle) :
				strstr(msg, needle2) ? strstr(msg, needle2) + strlen(needle2) : NULL;

			free(needle);
			free(needle2);
			/* the whole name: app.t is not app.t2 */
			if (!at || (*at != '\0' && *at != ' ' && *at != ',' && *at != ')') ||
				strcmp(json_string_value(json_object_get(e, "phase")), "apply") != 0)
				continue;
			rel = r;
			if (lo < 0 || num(e, "estimate_low_s") < lo)
				lo = num(e, "estimate_low_s");
			if (num(e, "estimate_high_s") > hi)
				hi = num(e, "estimate_high_s");
			bytes = num(e, "production_bytes");
			rows = num(e, "production_rows");
		}
		if (rel)
		{
			char		pb[32];
			char	   *m;

			human_bytes(pb, sizeof(pb), bytes);
			m = xasprintf("%s; production impact: %s is %s, %.0f rows there, lock held an estimated %.1f..%.1f s",
						  msg, rel, pb, rows, lo, hi);
			json_object_set_new(row, "message", json_string(m));
			free(m);
		}
	}
}

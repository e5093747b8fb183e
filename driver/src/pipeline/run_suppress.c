/*
 * run_suppress.c
 *		The run pipeline's side of suppressions (suppress.c parses them):
 *		check the policy keys and collect each artifact's directives before
 *		any cluster exists, hand the extension the policy with the inline
 *		entries, and annotate the rows and residue it returned.  Used by
 *		drydock run (every artifact) and drydock replay (each pair's).
 */
#include "run_suppress.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "object_glob.h"
#include "suppress.h"
#include "util.h"


int
run_suppress_check_policy(run_ctx *ctx)
{
	char		err[600];

	if (suppress_check_policy(ctx->policy, err, sizeof(err)) != 0)
	{
		run_record_error(ctx, ctx->opt->policy_path, 0, err);
		return EXIT_USAGE;
	}
	return 0;
}

int
run_suppress_collect(run_ctx *ctx, const artifact *a, bool rollback, json_t *out)
{
	char		err[600];
	unsigned	line = 0;

	if (suppress_parse_artifact(&a->pf, a->path, rollback, ctx->schema,
								json_object_get(ctx->policy, "allow_suppress"),
								out, &line, err, sizeof(err)) != 0)
	{
		run_record_error(ctx, a->path, (int) line, err);
		return EXIT_USAGE;
	}
	return 0;
}

int
suppress_prepare(run_ctx *ctx)
{
	int			rc;

	if ((rc = run_suppress_check_policy(ctx)) != 0)
		return rc;
	ctx->suppress_inline = json_array();
	if ((rc = run_suppress_collect(ctx, &ctx->ddl, false, ctx->suppress_inline)) != 0 ||
		(rc = run_suppress_collect(ctx, &ctx->rollback, true, ctx->suppress_inline)) != 0)
		return rc;
	if (json_array_size(ctx->suppress_inline) > 0)
		json_object_set(ctx->report, "inline_suppressions", ctx->suppress_inline);
	return 0;
}

json_t *
suppress_policy(run_ctx *ctx)
{
	json_t	   *p = json_deep_copy(ctx->policy);
	json_t	   *list = json_object_get(p, "suppress");
	size_t		i;
	json_t	   *e;

	if (!json_is_array(list))
	{
		list = json_array();
		json_object_set_new(p, "suppress", list);
	}
	json_array_foreach(ctx->suppress_inline, i, e)
		json_array_append_new(list, json_pack("{s:O, s:O, s:O, s:O}", "code", json_object_get(e, "code"),
											  "object", json_object_get(e, "object"),
											  "reason", json_object_get(e, "reason"),
											  "source", json_object_get(e, "source")));
	return p;
}

static bool
starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static bool
ends_with(const char *s, const char *suffix)
{
	size_t		a = strlen(s),
				b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

void
suppress_annotate_rows(run_ctx *ctx, json_t *rows)
{
	json_t	   *p = suppress_policy(ctx);
	json_t	   *list = json_object_get(p, "suppress");
	size_t		i;
	json_t	   *r;

	json_array_foreach(rows, i, r)
	{
		const char *st = json_string_value(json_object_get(r, "status"));
		const char *msg = json_string_value(json_object_get(r, "message"));
		size_t		j;
		json_t	   *e;

		if (!st || !msg || (strcmp(st, "suppressed") != 0 && strcmp(st, "warn") != 0))
			continue;
		json_array_foreach(list, j, e)
		{
			const char *src = json_string_value(json_object_get(e, "source"));
			const char *reason = json_string_value(json_object_get(e, "reason"));
			const char *state = NULL;
			char	   *pre;

			if (!src)
				src = "policy";
			if (!reason)
				continue;
			if (strcmp(st, "suppressed") == 0)
			{
				pre = xasprintf("suppressed (%s): %s — ", src, reason);
				if (starts_with(msg, pre))
					state = "applied";
			}
			else
			{
				char	   *tail = xasprintf("(%s): no longer applied; reason was: %s", src, reason);

				pre = xasprintf("stale suppression (%s): ", src);
				if (starts_with(msg, pre) && ends_with(msg, reason))
					state = "stale";
				else if (starts_with(msg, "suppression of ") && ends_with(msg, tail))
					state = "expired";
				free(tail);
			}
			free(pre);
			if (state)
			{
				json_t	   *a = json_pack("{s:s, s:s, s:s}", "state", state, "source", src, "reason", reason);

				if (json_object_get(e, "expires"))
					json_object_set(a, "expires", json_object_get(e, "expires"));
				json_object_set_new(r, "suppression", a);
				break;
			}
		}
	}
	json_decref(p);
}

void
suppress_mark_residue(run_ctx *ctx, json_t *residue)
{
	size_t		i;
	json_t	   *r;

	json_array_foreach(residue, i, r)
	{
		size_t		j;
		json_t	   *e;

		json_array_foreach(ctx->suppress_inline, j, e)
		{
			const char *kind = json_string_value(json_object_get(e, "accept_kind"));

			if (kind && strcmp(kind, json_string_value(json_object_get(r, "kind")) ?: "") == 0 &&
				dd_object_glob_match(json_string_value(json_object_get(e, "object")),
									  json_string_value(json_object_get(r, "identity"))))
			{
				json_object_set_new(r, "accepted", json_pack("{s:O, s:O}", "source", json_object_get(e, "source"),
															 "reason", json_object_get(e, "reason")));
				break;
			}
		}
	}
}

/*
 * run_record.c
 *		What a run records as it goes, for the report: each command with its
 *		result and duration, the sandbox's lifecycle events, and the error
 *		that stopped it (also printed as one line, FILE:LINE: message).  Every
 *		step of the pipeline and the suppression hooks use these; they use
 *		nothing of the pipeline.
 */
#include "run.h"

#include "util.h"

void
run_command(run_ctx *ctx, const char *kind, const char *command, const char *result, double ms)
{
	json_array_append_new(ctx->commands,
						  json_pack("{s:I, s:s, s:s, s:s, s:f}",
									"n", (json_int_t) json_array_size(ctx->commands) + 1,
									"kind", kind, "command", command, "result", result,
									"duration_ms", ms));
}

void
lifecycle_event(run_ctx *ctx, const char *event)
{
	char		when[32];

	utc_now_iso(when, sizeof(when));
	json_array_append_new(ctx->lifecycle, json_pack("{s:s, s:s, s:f}", "event", event, "at", when,
													"elapsed_ms", now_ms() - ctx->t0));
}

void
run_record_error(run_ctx *ctx, const char *file, int line, const char *message)
{
	json_t	   *e = json_pack("{s:s}", "message", message);

	if (file)
		json_object_set_new(e, "file", json_string(file));
	if (line > 0)
		json_object_set_new(e, "line", json_integer(line));
	json_object_set_new(ctx->report, "error", e);
	if (file)
		dd_error_at(file, line, "%s", message);
	else
		dd_error("%s", message);
}

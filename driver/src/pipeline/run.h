/*
 * run.h
 *		The dry-run pipeline shared by `drydock run` (one pair) and
 *		`drydock replay` (a history of pairs): options, the context that
 *		accumulates every fact for the report, and the steps.
 */
#ifndef DRYDOCK_RUN_H
#define DRYDOCK_RUN_H

#include <stdbool.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "pginstall.h"
#include "preflight.h"
#include "sandbox.h"

struct psql_apply_result;

#define DEFAULT_APPLY_ROLE "drydock_apply"

typedef struct run_options
{
	const char *ddl_path;
	const char *rollback_path;
	const char *base_path;
	const char *policy_path;
	const char *schema;
	bool		scaffold_schema;
	char	  **prod_sysids;
	int			n_prod_sysids;
	int			prod_version;	/* 0: not given */
	const char *database;
	int			rounds;
	int			max_connections;	/* the sandbox's; 0: its default (replay
									 * asks for its workers' share) */
	bool		single_transaction;
	const char *out_dir;
	bool		out_defaulted;	/* no --out: created only once a cluster started */
	bool		allow_meta;
	const char *run_as;
	const char *pg_config;
	int			pg_major;		/* --pg MAJOR; 0: not given */
	bool		keep;
	bool		fresh;			/* initdb even when a template is cached */
	bool		quiet;
	const char *apply_role;
	bool		apply_as_superuser;
	bool		allow_weak_containment; /* superuser without a filesystem view */
	int			timeout_s;
	unsigned	formats;		/* report_format bits (render.h): files in out_dir */
	unsigned	stdout_format;	/* the one printed on stdout; 0: text */
	bool		fail_on_warn;	/* --fail-on warn: a warning check fails */
	const char *config_path;	/* drydock.json used, or NULL */
	const char *config_sha256;
	json_t	   *policy_inline;	/* its "policy" object, or NULL */
	int			synthetic_rows; /* --synthetic-rows N; 0: tables left empty */
	const char *prod_stats_path;	/* --prod-stats FILE, or NULL */
} run_options;

typedef struct artifact
{
	const char *label;			/* "ddl", "rollback", "base" */
	const char *path;			/* as the user gave it */
	preflight_result pf;		/* with the checked bytes (keep_data) */
	char	   *sandbox_copy;	/* the exact bytes, copied into the run dir */
	signed char single_tx;		/* psql -1: 0 per --single-transaction, 1 yes, -1 no */
} artifact;

typedef struct run_ctx
{
	const run_options *opt;
	json_t	   *report;			/* the whole report, built as we go */
	json_t	   *commands;		/* report.commands */
	json_t	   *lifecycle;		/* report.environment.lifecycle */
	double		t0;
	pg_install	pg;
	bool		pg_found;
	sandbox		sb;
	bool		sb_made;
	PGconn	   *conn;			/* superuser, throwaway database */
	PGconn	   *side;			/* a second one to the same database, for a
								 * read-only query that runs while the main
								 * line goes on (run_side_send), or NULL */
	char	   *side_what;		/* its query as the command log shows it */
	double		side_t0;		/* when it was sent */
	char	   *side_next_what; /* a query queued behind it (pipeline), or NULL */
	struct side_spool *side_spool;	/* a thread reading its rows, or NULL */
	bool		rollback_follows;	/* run_round: this apply's rollback comes next */
	bool		rollback_begun; /* capture_begin('rollback') ran on the side */
	PGconn	   *checkpoint_conn;	/* a CHECKPOINT under way, or NULL */
	double		checkpoint_t0;
	char	   *dbname;
	char	   *schema;
	json_t	   *policy;			/* parsed --policy, or {} */
	artifact	ddl,
				rollback,
				base;
	char	  **secrets;		/* union of all artifacts' secrets */
	size_t		n_secrets;
	bool		restrict_meta;
	int			n_fail;			/* failing checks over all rounds */
	int			n_warn;
	int			n_suppressed;	/* suppressed findings (never fail a run) */
	json_t	   *suppress_inline;	/* entries from -- drydock: directives
									 * (suppress.c), or NULL */
	char		last_sqlstate[6];	/* SQLSTATE of the last failed query, or "" */
	FILE	   *pgtap_spool;	/* a pgTAP script too large to inline, or NULL */
	json_t	   *scaffold_objects;	/* replay: the tool's bookkeeping tables
									 * ("schema.table"), kept out of the
									 * verification battery, or NULL */
	char	   *apply_role;		/* chosen in run_prepare_database (the
								 * base's owner, --apply-role or the
								 * default); NULL before */
	json_t	   *prod_stats;		/* the --prod-stats document, or NULL */
} run_ctx;

/*
 * Preflight one artifact (a->path, or buf/len when given): keeps the checked
 * bytes, records a refusal, collects secrets.  0, EXIT_USAGE or EXIT_INTERNAL.
 */
int			run_preflight_artifact(run_ctx *ctx, artifact *a, preflight_role role,
								   const char *buf, size_t len);

/* Each step returns 0 or an exit code; on failure it recorded why. */
int			run_preflight(run_ctx *ctx);
int			run_start_sandbox(run_ctx *ctx);
int			run_prepare_database(run_ctx *ctx);
int			run_round(run_ctx *ctx, int round);

/*
 * The pieces of a round, for replay: apply an artifact in a captured phase
 * ("apply" also verifies), and roll back + re-check against the baseline.
 */
int			run_apply_file(run_ctx *ctx, artifact *a, const char *role, bool restrict_meta,
						   const char *what, struct psql_apply_result *res);
const char *run_apply_role(run_ctx *ctx);
/*
 * After an artifact failed in psql: its error recorded at FILE:LINE (unless
 * a signal interrupted it); returns the exit code (EXIT_SQL or 128+N).
 */
int			run_record_apply_failure(run_ctx *ctx, const artifact *a,
									 const struct psql_apply_result *ar);
int			run_apply_phase(run_ctx *ctx, artifact *a, const char *phase, json_t *round_json);
int			run_check_rollback(run_ctx *ctx, artifact *down, json_t *round_json);
/* locate.c: report.json "location" of verification rows (seq -> FILE:LINE) */
void		locate_rows(json_t *rows, const char *phase, const artifact *a);

/*
 * One query on the superuser connection (run_sql.c), recorded as a command
 * ("what", or the query itself); NULL with the primary message in err and
 * the SQLSTATE in ctx->last_sqlstate.
 */
PGresult   *run_sql(run_ctx *ctx, const char *what, const char *query, int nparams,
					const char *const *params, char *err, size_t errlen);

json_t	   *run_query_rows(run_ctx *ctx, const char *what, const char *query, int nparams,
						   const char *const *params, int *rc);

/*
 * The side connection (run_sql.c): send a read-only query on a second
 * superuser connection to the run's database, so the server works on it on
 * another core while the main line goes on.  The connection is opened for
 * the query and closed once it has been read: replay workers share the
 * server's connection slots (sandbox.c write_conf).  false
 * when it could not be sent (the caller runs it on the main line instead).
 * Rows come in single-row mode (a caller may read them with PQgetResult on
 * ctx->side), in result_format (0 text, 1 binary: run_side_rows wants text).  run_side_rows waits for the rows, records the command (its
 * duration from the send) and returns them as run_query_rows does.
 * run_side_close ends the connection (before the main connection moves to
 * another database, and at the end).
 */
bool		run_side_send(run_ctx *ctx, const char *what, const char *query, int nparams,
						  const char *const *params, int result_format);
json_t	   *run_side_rows(run_ctx *ctx, int *rc);
void		run_side_close(run_ctx *ctx);

/*
 * run_side_send_pipelined: as run_side_send, with a second query (text
 * results) queued behind the first in libpq's pipeline mode: the server
 * runs it as soon as the first ends, while the main line still works.  Its
 * result is read by the spool thread below after the first's rows (one row
 * whose last column is the server's time for it, in ms), or its rows by
 * run_side_next_rows after run_side_rows.
 */
bool		run_side_send_pipelined(run_ctx *ctx, const char *what, const char *query, int nparams,
									const char *const *params, int result_format,
									const char *next_what, const char *next_query, int next_nparams,
									const char *const *next_params);

/*
 * run_side_spool_start: a thread of its own reads the side query's rows
 * (their first column's bytes, in order) into f as they come, then the
 * queued query's result: the server is never held up by a main line busy
 * elsewhere (a 5 MB script does not fit a socket's buffers).  false: no
 * thread (the caller reads on its own).  run_side_spool_finish waits for
 * it, records the command(s) and returns whether every row came (*bytes),
 * else *msg (malloc'd, or NULL); the queued query's outcome goes to
 * *next_ok.  run_side_close waits for a thread still reading.
 */
bool		run_side_spool_start(run_ctx *ctx, FILE *f);

/*
 * The rows of the query sent on conn in single-row mode, their first
 * column's bytes appended to f in order (*bytes counts them): true if all
 * came and were written, else false with the first error in *msg
 * (malloc'd).  Touches nothing but conn, f and its arguments.
 */
bool		run_spool_rows(PGconn *conn, FILE *f, long long *bytes, char **msg);

/*
 * run_side_next_rows: after run_side_rows, the rows of the query queued
 * behind (run_side_send_pipelined), as run_query_rows returns them; its
 * duration in the command log is what the main line waited for it after
 * the first.  Closes the side connection.
 */
json_t	   *run_side_next_rows(run_ctx *ctx, int *rc);
bool		run_side_spool_finish(run_ctx *ctx, long long *bytes, char **msg, bool *next_ok);

/*
 * A CHECKPOINT on a connection of its own, not waited for: after a
 * rollback that dropped many relations, the checkpointer unlinks their files
 * (kept by PostgreSQL until the next checkpoint) on another core while the
 * rollback is checked, instead of the teardown removing them one by one.
 * run_checkpoint_wait waits for it (before anything else changes the
 * database, and before the teardown) and records it.
 */
void		run_checkpoint_send(run_ctx *ctx);
void		run_checkpoint_wait(run_ctx *ctx);

/* Tear down, record it, write the reports, print the summary: exit code. */
int			run_finish(run_ctx *ctx, int code, const char *status, const char *message);

/* A fresh context with the report skeleton (gating, options, empty lists). */
void		run_ctx_init(run_ctx *ctx, const run_options *opt);

/* Load --policy (and the target schema it may name); 0 or exit code. */
int			run_load_policy(run_ctx *ctx);

/* Release everything of ctx; returns code (for "return run_exit(...)"). */
int			run_exit(run_ctx *ctx, int code);

/* Record an error with its place ("file", line) in the report. */
void		run_record_error(run_ctx *ctx, const char *file, int line, const char *message);

/* Record a lifecycle event (created, applied, ...) with its time. */
void		lifecycle_event(run_ctx *ctx, const char *event);

/* Append to the numbered command log. */
void		run_command(run_ctx *ctx, const char *kind, const char *command,
						const char *result, double ms);

#endif							/* DRYDOCK_RUN_H */

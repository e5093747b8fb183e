/*
 * sandbox.h
 *		The throwaway cluster: a private run directory, initdb, a socket-only
 *		postmaster that is the driver's child and dies with it, connections
 *		that provably reach it, and a verified teardown on every exit path.
 */
#ifndef DRYDOCK_SANDBOX_H
#define DRYDOCK_SANDBOX_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <libpq-fe.h>

#include "contain.h"
#include "cluster_init.h"
#include "pginstall.h"
#include "proc.h"

#define SANDBOX_DIR_PREFIX	"drydock-"
#define SANDBOX_PID_FILE	"drydock.pid"
#define SANDBOX_KEEP_FILE	"drydock.keep"

typedef struct sandbox_options
{
	const pg_install *pg;
	const char *run_as;			/* as root; NULL: postgres */
	const char *locale;			/* NULL: C.UTF-8 */
	bool		keep;			/* leave it running when the driver exits */
	bool		fresh;			/* initdb even when a template is cached */

	/*
	 * What, besides the server and the cluster user, makes a prepared base
	 * (the caller's part of the base cache key), or NULL: no base cache.
	 * When its entry is valid, the data directory is a copy of it.
	 */
	const char *base_cache_material;
	int			start_timeout_ms;	/* 0: 60 s */

	/*
	 * The server will be handed to a superuser (--apply-as-superuser, drydock
	 * exec): refuse to go on when its own filesystem view could not be
	 * built, unless the caller accepted weak containment.
	 */
	bool		require_containment;

	/* the server's max_connections; 0: SANDBOX_MAX_CONNECTIONS */
	int			max_connections;
} sandbox_options;

/*
 * A run holds three connections at most (its own, the side connection of
 * run_sql.c or psql's, and a ping); more slots cost the server's start time
 * (shared memory for each).  A replay asks for what its workers need.
 */
#define SANDBOX_MAX_CONNECTIONS 20

typedef struct sandbox
{
	const pg_install *pg;
	run_user	user;
	char	   *base;			/* the directory the run dir was made in */
	bool		base_fell_back; /* $TMPDIR was too long for a socket path */
	char	   *run_dir;		/* private (0700): sockets, data, log */
	char	   *data_dir;
	char	   *log_path;
	char	   *locale;
	int			port;
	int			max_connections;
	pid_t		postmaster_pid;
	uint64_t	system_identifier;	/* from global/pg_control */
	bool		netns_active;	/* postmaster in its own network namespace */
	contain_state contain;		/* what confined the postmaster: contain.c */
	char	   *server_version; /* server_version, once connected */
	bool		keep;
	const char *origin;			/* "template clone", "initdb (...)" */
	char	   *template_path;	/* the template cloned, if any */
	char		template_created_at[32];
	bool		template_built_now; /* this run made the template */
	double		ms_clone;
	char	   *base_cache_key; /* the base cache entry for this run, or NULL */
	bool		base_cloned;	/* the data directory is a copy of it */
	char		base_created_at[32];
	char	   *base_extra;		/* the entry's prepare record (JSON text) */
	bool		registered;		/* torn down by the atexit handler */
	bool		torn_down;

	/* timings (ms) and what teardown found, for the report */
	initdb_outcome initdb;		/* for the run dir, or for a template built now */
	double		ms_start;
	double		ms_teardown;
	bool		teardown_clean; /* no process, no directory remained */
	char		teardown_note[256];
} sandbox;

/*
 * Create the run directory, initdb, configure and start the postmaster and
 * wait until it accepts connections.  Returns an exit code (0 on success)
 * with a message in err.  From the moment the run directory exists, the
 * sandbox is torn down by exit() unless keep is set.
 */
int			sandbox_create(sandbox *sb, const sandbox_options *opts, char *err, size_t errlen);

/*
 * Connect to the sandbox with every connection parameter explicit, then
 * confirm the connection reached it: no server address (unix socket), the
 * data directory is ours, the system identifier is ours.  NULL with err.
 */
PGconn	   *sandbox_connect(sandbox *sb, const char *dbname, char *err, size_t errlen);

/* Is the postmaster still running? */
bool		sandbox_alive(sandbox *sb);

/*
 * Why the server stopped, from its log: the last PANIC (else FATAL, else
 * "terminated by signal") line, from its level on; false if none.
 */
bool		sandbox_log_reason(const sandbox *sb, char *out, size_t outlen);

/*
 * Immediate stop (SIGQUIT; SIGKILL after a timeout), wait for every process
 * of the cluster and postmaster.pid to be gone, remove the run directory,
 * and verify both.  Idempotent.  Returns true when verified clean.
 */
bool		sandbox_teardown(sandbox *sb);

/*
 * Store the sandbox's cluster as its base cache entry: a fast (clean)
 * shutdown, a copy of the data directory into the cache, a new start.
 * The caller has closed its connections.  0 (*stored: this run made the
 * entry; *ms_store: the copy), or an exit code with err (the sandbox may be
 * down).
 */
int			sandbox_base_cache_store(sandbox *sb, const char *extra, bool *stored, double *ms_store,
									 double *ms_stop, char *err, size_t errlen);

/* Stop whatever postmaster runs on data_dir and kill its strays (gc too). */
bool		cluster_stop_dir(const char *data_dir, pid_t known_child, int timeout_ms, char *note, size_t notelen);

void		sandbox_free(sandbox *sb);

#endif							/* DRYDOCK_SANDBOX_H */

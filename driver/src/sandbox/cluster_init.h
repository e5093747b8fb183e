/*
 * cluster_init.h
 *		A new, never-started cluster: initdb as the cluster's OS user, a
 *		pg_hba.conf with local lines only, and the system identifier read
 *		back from pg_control.  Used by the template cache and by a sandbox
 *		that runs initdb itself; knows nothing of either.
 */
#ifndef DRYDOCK_CLUSTER_INIT_H
#define DRYDOCK_CLUSTER_INIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pginstall.h"
#include "proc.h"

#define SANDBOX_ADMIN_ROLE	"drydock_admin"

/* What makes initdb's output: the installation, the OS user, the locale. */
typedef struct cluster_spec
{
	const pg_install *pg;
	const run_user *user;
	const char *locale;
} cluster_spec;

/* What an initdb did, for the command log. */
typedef struct initdb_outcome
{
	bool		ran;
	int			exit_code;		/* -1: it could not be started */
	double		ms;
} initdb_outcome;

/*
 * initdb into data_dir (UTF8, the admin role, trust, no sync) as the
 * spec's user; out says what happened.  0, or an exit code with err (the
 * last line initdb printed).
 */
int			cluster_initdb(const cluster_spec *cs, const char *data_dir, initdb_outcome *out,
						   char *err, size_t errlen);

/* pg_hba.conf of data_dir: local trust lines only, owned by the spec's user. */
bool		cluster_write_hba(const cluster_spec *cs, const char *data_dir);

/* The system identifier from DATA/global/pg_control. */
bool		cluster_read_system_identifier(const char *data_dir, uint64_t *sysid);

#endif							/* DRYDOCK_CLUSTER_INIT_H */

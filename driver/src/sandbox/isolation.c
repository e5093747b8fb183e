/*
 * isolation.c
 *		Prove the sandbox is isolated and is not production, from facts the
 *		kernel and the server give, each recorded for the report:
 *
 *		- the server says listen_addresses is empty;
 *		- TCP connections to 127.0.0.1:PORT and [::1]:PORT are refused;
 *		- the postmaster holds no listening TCP socket (its fds against
 *		  /proc/PID/net/tcp and tcp6);
 *		- pg_hba.conf on disk and the rules the server loaded have no host
 *		  lines;
 *		- the socket directory is private (0700) and is the server's;
 *		- the connection came over the unix socket (inet_server_addr() NULL)
 *		  to the data directory just made;
 *		- the system identifier differs from every production one given;
 *		- the containment (contain.c), observed from both sides: the
 *		  postmaster's namespaces against the driver's, and from inside the
 *		  server, as a superuser artifact would see it: its pid in its own
 *		  PID namespace, a read-only root filesystem, host directories
 *		  absent, and a file written to /tmp landing in a private /tmp (the
 *		  driver checks the host's /tmp).
 */
#include "isolation.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "netcheck.h"
#include "util.h"

static bool
add_fact(json_t *facts, const char *fact, const char *expected, const char *observed, bool ok,
		 char *reason, size_t reasonlen, bool *all_ok)
{
	json_array_append_new(facts, json_pack("{s:s, s:s, s:s, s:b}", "fact", fact,
										   "expected", expected, "observed", observed, "ok", ok));
	if (!ok && *all_ok)
	{
		snprintf(reason, reasonlen, "%s: expected %s, observed %s", fact, expected, observed);
		*all_ok = false;
	}
	return ok;
}

static char *
query_one(PGconn *conn, const char *sql)
{
	PGresult   *res = PQexec(conn, sql);
	char	   *v;

	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
		v = xasprintf("query failed: %s", PQerrorMessage(conn));
	else
		v = xstrdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	return v;
}

/* Lines of pg_hba.conf whose first word is not "local" (comments aside). */
static int
hba_non_local_lines(const char *path)
{
	char	   *text = read_small_file(path, NULL);
	int			count = 0;
	char	   *save = NULL;

	if (!text)
		return -1;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
	{
		while (*line == ' ' || *line == '\t')
			line++;
		if (*line == '\0' || *line == '#')
			continue;
		if (strncmp(line, "local", 5) != 0 || (line[5] != ' ' && line[5] != '\t'))
			count++;
	}
	free(text);
	return count;
}

/* The options of the mount at "/" in a mountinfo text, or NULL. */
static char *
root_mount_options(const char *mountinfo, int *n_mounts)
{
	char	   *copy = xstrdup(mountinfo);
	char	   *save = NULL;
	char	   *found = NULL;

	*n_mounts = 0;
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
	{
		char		mnt[512],
					opts[512];

		/* id parent major:minor root mountpoint options ... */
		if (sscanf(line, "%*s %*s %*s %*s %511s %511s", mnt, opts) != 2)
			continue;
		(*n_mounts)++;
		if (strcmp(mnt, "/") == 0)
		{
			free(found);
			found = xstrdup(opts);
		}
	}
	free(copy);
	return found;
}

/*
 * What confines the server, as facts.  With full containment every one
 * must hold, or isolation is not proven; with weaker containment (which the
 * caller accepted) they are recorded as observed, and hold as "not
 * contained" so the report says plainly what the server could reach.
 */
static void
containment_facts(sandbox *sb, PGconn *conn, json_t *facts, char *reason, size_t reasonlen, bool *all_ok)
{
	const contain_state *cs = &sb->contain;
	bool		full = cs->level == CONTAIN_FULL;
	char		ns[96];
	char		buf[512];
	char	   *v;
	const char *weak = "not required (weak containment accepted)";

	contain_observe_namespaces(sb->postmaster_pid, ns, sizeof(ns));
	{
		bool		ok = strstr(ns, "mnt") && strstr(ns, "pid") && strstr(ns, "ipc") &&
			strstr(ns, "uts") && strstr(ns, "net");

		add_fact(facts, "postmaster namespaces other than the driver's", full ? "mnt pid ipc uts net" : weak,
				 ns[0] ? ns : "none", ok || !full, reason, reasonlen, all_ok);
	}

	/* the server's own pid, as postmaster.pid records it */
	v = query_one(conn, "SELECT split_part(pg_catalog.pg_read_file('postmaster.pid'), E'\n', 1)");
	add_fact(facts, "postmaster pid seen by the server", full ? "1 (its own PID namespace)" : weak, v,
			 strcmp(v, "1") == 0 || !full, reason, reasonlen, all_ok);
	free(v);

	/* the root filesystem, from the server's /proc/self/mountinfo */
	{
		PGresult   *res = PQexec(conn, "SELECT pg_catalog.pg_read_file('/proc/self/mountinfo')");
		bool		ro = false;

		if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
		{
			int			n;
			char	   *opts = root_mount_options(PQgetvalue(res, 0, 0), &n);

			ro = opts && (strncmp(opts, "ro,", 3) == 0 || strcmp(opts, "ro") == 0);
			snprintf(buf, sizeof(buf), "/ %s, %d mounts", ro ? "read-only" : "writable", n);
			free(opts);
		}
		else
			snprintf(buf, sizeof(buf), "unreadable: %s", PQerrorMessage(conn));
		PQclear(res);
		add_fact(facts, "root filesystem seen by the server", full ? "/ read-only" : weak, buf,
				 ro || !full, reason, reasonlen, all_ok);
	}

	/* host directories the server must not see */
	{
		static const char *const host_dirs[] = {"/root", "/home", "/var/lib/postgresql", "/etc/postgresql", NULL};
		strbuf		obs;
		bool		ok = true;
		int			n = 0;

		sb_init(&obs);
		for (int i = 0; host_dirs[i]; i++)
		{
			struct stat st;
			const char *params[1] = {host_dirs[i]};
			PGresult   *res;
			const char *seen;

			if (stat(host_dirs[i], &st) != 0 || !S_ISDIR(st.st_mode))
				continue;
			/* one query per path: a directory we may not list is an error */
			res = PQexecParams(conn,
							   "SELECT CASE WHEN (pg_catalog.pg_stat_file($1, true)).size IS NULL THEN 'absent' "
							   "WHEN (SELECT count(*) FROM pg_catalog.pg_ls_dir($1)) = 0 THEN 'empty' ELSE 'visible' END",
							   1, NULL, params, NULL, NULL, 0);
			if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
				seen = PQgetvalue(res, 0, 0);
			else
				seen = "visible (not listable)";
			if (strncmp(seen, "visible", 7) == 0)
				ok = false;
			sb_printf(&obs, "%s%s %s", n++ ? ", " : "", host_dirs[i], seen);
			PQclear(res);
		}
		if (n == 0)
			sb_append(&obs, "none of them exists on the host");
		add_fact(facts, "host directories seen by the server (they exist on the host)",
				 full ? "absent or empty" : weak, obs.data, ok || !full, reason, reasonlen, all_ok);
		sb_free(&obs);
	}

	/* a write to /tmp lands in a private /tmp, not the host's */
	{
		char	   *name = xasprintf("/tmp/drydock-probe-%d-%d", (int) getpid(), sb->port);
		char	   *q = xasprintf("COPY (SELECT 'drydock containment probe') TO '%s'", name);
		PGresult   *res = PQexec(conn, q);
		bool		wrote = PQresultStatus(res) == PGRES_COMMAND_OK;
		struct stat st;
		bool		on_host = lstat(name, &st) == 0;
		bool		inside = false;

		PQclear(res);
		if (wrote)
		{
			char	   *q2 = xasprintf("SELECT (pg_catalog.pg_stat_file('%s', true)).size IS NOT NULL", name);

			v = query_one(conn, q2);
			inside = strcmp(v, "t") == 0;
			free(v);
			free(q2);
		}
		if (on_host)
			unlink(name);		/* weak containment: the host got it; take it back */
		snprintf(buf, sizeof(buf), "%s; the host's %s: %s", wrote ? (inside ? "written, the server sees it" : "written, the server cannot see it") : "the server could not write it",
				 name, on_host ? "present (removed)" : "absent");
		add_fact(facts, "a file the server writes to /tmp", full ? "written inside, absent from the host's /tmp" : weak, buf,
				 (wrote && inside && !on_host) || !full, reason, reasonlen, all_ok);
		free(name);
		free(q);
	}
}

bool
isolation_prove(sandbox *sb, PGconn *conn, char *const *prod_sysids, int n_prod,
				json_t *facts, char *reason, size_t reasonlen)
{
	bool		all_ok = true;
	char	   *v;
	char		detail[128];
	char		buf[256];
	tcp_probe	p4,
				p6;
	int			listeners;
	int			hba;
	struct stat st;
	char		sysid[32];

	v = query_one(conn, "SELECT current_setting('listen_addresses')");
	add_fact(facts, "listen_addresses", "''", v[0] ? v : "''", v[0] == '\0', reason, reasonlen, &all_ok);
	free(v);

	p4 = netcheck_tcp_probe("127.0.0.1", sb->port, detail, sizeof(detail));
	snprintf(buf, sizeof(buf), "%s (%s)", tcp_probe_name(p4), detail);
	add_fact(facts, "tcp 127.0.0.1:port", "refused", buf, p4 == TCP_REFUSED, reason, reasonlen, &all_ok);

	/* without IPv6 on loopback nothing can listen there either */
	p6 = netcheck_tcp_probe("::1", sb->port, detail, sizeof(detail));
	snprintf(buf, sizeof(buf), "%s (%s)", tcp_probe_name(p6), detail);
	add_fact(facts, "tcp [::1]:port", "refused or unavailable", buf,
			 p6 == TCP_REFUSED || p6 == TCP_UNAVAILABLE, reason, reasonlen, &all_ok);

	listeners = netcheck_tcp_listeners_of(sb->postmaster_pid);
	snprintf(buf, sizeof(buf), "%d", listeners);
	add_fact(facts, "postmaster listening tcp sockets", "0",
			 listeners < 0 ? "unknown (no access to /proc/PID/fd)" : buf,
			 listeners == 0, reason, reasonlen, &all_ok);

	{
		char	   *hba_path = xasprintf("%s/pg_hba.conf", sb->data_dir);

		hba = hba_non_local_lines(hba_path);
		free(hba_path);
		snprintf(buf, sizeof(buf), "%d", hba);
		add_fact(facts, "pg_hba.conf non-local lines", "0", hba < 0 ? "unreadable" : buf,
				 hba == 0, reason, reasonlen, &all_ok);
	}
	v = query_one(conn, "SELECT count(*) FROM pg_catalog.pg_hba_file_rules WHERE type <> 'local' OR error IS NOT NULL");
	add_fact(facts, "loaded hba rules other than local", "0", v, strcmp(v, "0") == 0, reason, reasonlen, &all_ok);
	free(v);

	if (stat(sb->run_dir, &st) == 0)
		snprintf(buf, sizeof(buf), "%04o", (unsigned) (st.st_mode & 07777));
	else
		snprintf(buf, sizeof(buf), "stat failed: %s", strerror(errno));
	add_fact(facts, "socket directory mode", "0700", buf, strcmp(buf, "0700") == 0, reason, reasonlen, &all_ok);

	v = query_one(conn, "SELECT current_setting('unix_socket_directories')");
	add_fact(facts, "unix_socket_directories", "the private run directory", v,
			 strcmp(v, sb->run_dir) == 0, reason, reasonlen, &all_ok);
	free(v);

	v = query_one(conn, "SELECT coalesce(inet_server_addr()::text, 'NULL')");
	add_fact(facts, "inet_server_addr()", "NULL (unix socket)", v, strcmp(v, "NULL") == 0,
			 reason, reasonlen, &all_ok);
	free(v);

	{
		char		real_data[4096];

		v = query_one(conn, "SELECT current_setting('data_directory')");
		if (!realpath(sb->data_dir, real_data))
			snprintf(real_data, sizeof(real_data), "%s", sb->data_dir);
		add_fact(facts, "data_directory", "the directory just made", v,
				 strcmp(v, real_data) == 0, reason, reasonlen, &all_ok);
		free(v);
	}

	snprintf(sysid, sizeof(sysid), "%llu", (unsigned long long) sb->system_identifier);
	v = query_one(conn, "SELECT system_identifier::text FROM pg_catalog.pg_control_system()");
	add_fact(facts, "system identifier (server vs pg_control)", sysid, v, strcmp(v, sysid) == 0,
			 reason, reasonlen, &all_ok);
	free(v);
	for (int i = 0; i < n_prod; i++)
	{
		char		expected[64];

		snprintf(expected, sizeof(expected), "differs from %s", prod_sysids[i]);
		add_fact(facts, "system identifier vs production", expected, sysid,
				 strcmp(sysid, prod_sysids[i]) != 0, reason, reasonlen, &all_ok);
	}
	containment_facts(sb, conn, facts, reason, reasonlen, &all_ok);
	return all_ok;
}

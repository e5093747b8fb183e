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
 *		- the system identifier differs from every production one given.
 */
#include "isolation.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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
	return all_ok;
}

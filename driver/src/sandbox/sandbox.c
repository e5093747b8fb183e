/*
 * sandbox.c
 *		The throwaway cluster's whole life: run directory, a data directory
 *		(a template clone, else initdb: cluster_init.c), socket-only
 *		configuration, the postmaster as a child that dies with the driver,
 *		connections that prove where they landed, and a verified teardown.
 *
 * Modelled on PostgreSQL's own PostgreSQL::Test::Cluster, with two
 * differences that matter here: the postmaster is started directly (not by
 * pg_ctl, which detaches it) so PR_SET_PDEATHSIG ties it to the driver, and
 * there is never a TCP listener, not even on loopback.
 */
#include "sandbox.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/socket.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "contain.h"
#include "netcheck.h"
#include "sha256.h"
#include "signals.h"
#include "template.h"
#include "util.h"

#define MAX_REGISTERED 8
#define BASE_CACHE_EXTRA "prepared.json"
#define BASE_CACHE_MAX_DEFAULT 4

static sandbox *registered[MAX_REGISTERED];
static bool atexit_installed = false;

static void
teardown_registered(void)
{
	for (int i = 0; i < MAX_REGISTERED; i++)
	{
		sandbox    *sb = registered[i];

		if (sb && !sb->keep && !sb->torn_down)
		{
			if (!sandbox_teardown(sb))
				dd_error("teardown of %s incomplete: %s", sb->run_dir, sb->teardown_note);
		}
		registered[i] = NULL;
	}
}

static void
register_sandbox(sandbox *sb)
{
	if (!atexit_installed)
	{
		atexit(teardown_registered);
		atexit_installed = true;
	}
	for (int i = 0; i < MAX_REGISTERED; i++)
		if (!registered[i])
		{
			registered[i] = sb;
			sb->registered = true;
			return;
		}
}

static void
unregister_sandbox(sandbox *sb)
{
	for (int i = 0; i < MAX_REGISTERED; i++)
		if (registered[i] == sb)
			registered[i] = NULL;
	sb->registered = false;
}

/*
 * Choose where the run directory goes: $TMPDIR when set (unless the socket
 * path would not fit in sun_path: then /tmp).  When TMPDIR is not set, the
 * RAM-backed /dev/shm if it is a roomy, world-writable tmpfs -- a throwaway
 * cluster needs no durability, and creating initdb's ~1,000 small files
 * there costs a tenth of what it costs on a disk filesystem -- else /tmp.
 */
#define SHM_MIN_FREE ((unsigned long long) 1 << 30)

static char *
choose_base(bool *fell_back)
{
	const char *tmpdir = getenv("TMPDIR");
	struct sockaddr_un sun;
	struct statvfs vfs;
	struct stat st;

	/* base + "/drydock-XXXXXX" + "/.s.PGSQL.65535" must fit with its NUL */
	size_t		extra = strlen("/" SANDBOX_DIR_PREFIX "XXXXXX") + strlen("/.s.PGSQL.65535") + 1;

	*fell_back = false;
	if (tmpdir && tmpdir[0] == '/')
	{
		if (strlen(tmpdir) + extra > sizeof(sun.sun_path))
		{
			*fell_back = true;
			return xstrdup("/tmp");
		}
		return xstrdup(tmpdir);
	}
	if (stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 01777) == 01777 &&
		statvfs("/dev/shm", &vfs) == 0 &&
		(unsigned long long) vfs.f_bavail * vfs.f_frsize >= SHM_MIN_FREE)
		return xstrdup("/dev/shm");
	return xstrdup("/tmp");
}

/* Can the cluster's user reach and write the run directory? */
static bool
user_can_use_dir(const run_user *u, const char *dir)
{
	pid_t		pid;
	int			status;

	if (!u->switch_user)
		return access(dir, W_OK | X_OK) == 0;
	pid = fork();
	if (pid < 0)
		return false;
	if (pid == 0)
	{
		run_user_become(u);
		_exit(access(dir, W_OK | X_OK) == 0 ? 0 : 1);
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static bool
chown_to_user(const sandbox *sb, const char *path)
{
	if (!sb->user.switch_user)
		return true;
	return chown(path, sb->user.uid, sb->user.gid) == 0;
}

static char *
conf_quote(const char *s)
{
	strbuf		sb;

	sb_init(&sb);
	sb_append(&sb, "'");
	for (; *s; s++)
	{
		if (*s == '\'' || *s == '\\')
			sb_appendn(&sb, s, 1);
		sb_appendn(&sb, s, 1);
	}
	sb_append(&sb, "'");
	return sb.data;
}

/*
 * The sandbox's settings, appended to postgresql.conf in place of any
 * earlier run's block (a base cache entry is a copy of a run's cluster).
 */
#define CONF_MARKER "\n# --- drydock sandbox: "

static bool
write_conf(sandbox *sb)
{
	char	   *path = xasprintf("%s/postgresql.conf", sb->data_dir);
	char	   *sockdir = conf_quote(sb->run_dir);
	size_t		len = 0;
	char	   *old = read_small_file(path, &len);
	char	   *mark = old ? strstr(old, CONF_MARKER) : NULL;
	int			fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	bool		ok;

	if (fd >= 0 && mark && ftruncate(fd, (off_t) (mark - old)) != 0)
	{
		close(fd);
		fd = -1;
	}
	free(old);
	if (fd < 0)
	{
		free(path);
		free(sockdir);
		return false;
	}
	ok = dprintf(fd,
				 CONF_MARKER "socket-only, throwaway, not durable ---\n"
				 "listen_addresses = ''\n"
				 "port = %d\n"
				 "unix_socket_directories = %s\n"
				 "unix_socket_permissions = 0700\n"
				 "fsync = off\n"
				 "synchronous_commit = off\n"
				 "full_page_writes = off\n"
				 "restart_after_crash = off\n"
				 "autovacuum = off\n"
				 "shared_buffers = 16MB\n"
				 "max_connections = %d\n"
				 "wal_level = minimal\n"
				 "max_wal_senders = 0\n"
				 "dynamic_shared_memory_type = mmap\n"
				 "jit = off\n"
				 "logging_collector = off\n"
				 "log_destination = 'stderr'\n"
				 "log_line_prefix = '%%m [%%p] '\n",
				 sb->port, sockdir, sb->max_connections) > 0;
	ok = (close(fd) == 0) && ok;
	free(path);
	free(sockdir);
	return ok;
}

static void
log_tail(const char *path, char *out, size_t outlen)
{
	char	   *log = read_small_file(path, NULL);
	char	   *line;
	size_t		len;

	out[0] = '\0';
	if (!log)
		return;
	len = strlen(log);
	while (len > 0 && log[len - 1] == '\n')
		log[--len] = '\0';
	line = strrchr(log, '\n');
	snprintf(out, outlen, "%s", line ? line + 1 : log);
	free(log);
}

bool
sandbox_log_reason(const sandbox *sb, char *out, size_t outlen)
{
	static const char *const levels[] = {"PANIC:", "FATAL:", "terminated by signal"};
	char	   *log = sb->log_path ? read_small_file(sb->log_path, NULL) : NULL;
	bool		found = false;

	out[0] = '\0';
	for (size_t l = 0; log && !found && l < sizeof(levels) / sizeof(levels[0]); l++)
	{
		/* the last line that says it */
		for (char *p = log; (p = strstr(p, levels[l])) != NULL; p++)
		{
			char	   *bol = p;
			size_t		n;

			while (bol > log && bol[-1] != '\n')
				bol--;
			n = strcspn(bol, "\n");
			/* without the log_line_prefix (time and pid): from the level on */
			if (l < 2)
				n -= (size_t) (p - bol), bol = p;
			snprintf(out, outlen, "%.*s", (int) n, bol);
			found = true;
		}
	}
	free(log);
	return found;
}

static int
start_postmaster(sandbox *sb, int timeout_ms, char *err, size_t errlen)
{
	pid_t		pid;
	char		portstr[16];
	const char *keys[] = {"host", "port", "user", "dbname", "connect_timeout", "sslmode", NULL};
	const char *vals[7];
	double		start = now_ms();
	char	  **env = child_env_new(NULL);

	snprintf(portstr, sizeof(portstr), "%d", sb->port);
	pid = contain_fork(&(contain_spec)
					   {
					   .user = &sb->user,.pg = sb->pg,.run_dir = sb->run_dir,.keep = sb->keep
					   }, &sb->contain, err, errlen);
	if (pid < 0)
	{
		child_env_free(env);
		return EXIT_SANDBOX;
	}
	if (pid == 0)
	{
		int			fd;
		const char *argv[] = {sb->pg->postgres, "-D", sb->data_dir, NULL};

		/* contained, unprivileged, tied to the driver: see contain.c */
		fd = open(sb->log_path, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (fd >= 0)
		{
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		fd = open("/dev/null", O_RDONLY);
		if (fd >= 0)
		{
			dup2(fd, 0);
			close(fd);
		}
		execve(argv[0], (char *const *) argv, env);
		dprintf(2, "drydock: cannot execute %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	child_env_free(env);
	sb->postmaster_pid = pid;

	vals[0] = sb->run_dir;
	vals[1] = portstr;
	vals[2] = SANDBOX_ADMIN_ROLE;
	vals[3] = "postgres";
	vals[4] = "5";
	vals[5] = "disable";
	vals[6] = NULL;
	for (;;)
	{
		int			status;
		PGPing		ping = PQpingParams(keys, vals, 0);

		if (ping == PQPING_OK)
			break;
		if (waitpid(pid, &status, WNOHANG) == pid)
		{
			char		tail[512];

			sb->postmaster_pid = 0;
			log_tail(sb->log_path, tail, sizeof(tail));
			snprintf(err, errlen, "postgres exited during startup (%s %d): %s",
					 WIFEXITED(status) ? "exit" : "signal",
					 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
					 tail[0] ? tail : "no log output");
			return EXIT_SANDBOX;
		}
		if (dd_got_signal)
			return signals_pending_code(err, errlen);
		if (now_ms() - start > timeout_ms)
		{
			snprintf(err, errlen, "postgres did not accept connections within %d ms (log: %s)",
					 timeout_ms, sb->log_path);
			return EXIT_SANDBOX;
		}
		/* a failed ping costs little: the server is ready within ~25 ms */
		sleep_ms(1);
	}
	sb->ms_start = now_ms() - start;
	/* observed now that postgres runs (a not yet exec'd child is not dumpable) */
	contain_observe_namespaces(pid, sb->contain.namespaces, sizeof(sb->contain.namespaces));
	sb->netns_active = strstr(sb->contain.namespaces, "net") != NULL;
	return 0;
}

int
sandbox_create(sandbox *sb, const sandbox_options *opts, char *err, size_t errlen)
{
	char	   *tmpl;
	char		resolved[PATH_MAX];
	char	   *pidfile;
	char	   *pidline;
	int			rc;
	cluster_spec cs;

	memset(sb, 0, sizeof(*sb));
	sb->pg = opts->pg;
	sb->max_connections = opts->max_connections > 0 ? opts->max_connections : SANDBOX_MAX_CONNECTIONS;
	sb->keep = opts->keep;
	sb->origin = NULL;
	sb->locale = xstrdup(opts->locale ? opts->locale : "C.UTF-8");
	if (!run_user_resolve(opts->run_as, &sb->user, err, errlen))
		return EXIT_SANDBOX;

	sb->base = choose_base(&sb->base_fell_back);
	tmpl = xasprintf("%s/" SANDBOX_DIR_PREFIX "XXXXXX", sb->base);
	if (!mkdtemp(tmpl))
	{
		snprintf(err, errlen, "cannot create a run directory in %s: %s", sb->base, strerror(errno));
		free(tmpl);
		return EXIT_SANDBOX;
	}
	/* from here on, every exit path removes it */
	if (!realpath(tmpl, resolved))
		snprintf(resolved, sizeof(resolved), "%s", tmpl);
	sb->run_dir = xstrdup(resolved);
	free(tmpl);
	register_sandbox(sb);

	pidfile = xasprintf("%s/" SANDBOX_PID_FILE, sb->run_dir);
	pidline = xasprintf("%d %llu\n", (int) getpid(), process_start_time(getpid()));
	if (!write_small_file(pidfile, pidline, strlen(pidline)))
	{
		snprintf(err, errlen, "cannot write %s: %s", pidfile, strerror(errno));
		free(pidfile);
		free(pidline);
		return EXIT_SANDBOX;
	}
	free(pidfile);
	free(pidline);
	if (sb->keep)
	{
		char	   *keepfile = xasprintf("%s/" SANDBOX_KEEP_FILE, sb->run_dir);

		write_small_file(keepfile, "", 0);
		free(keepfile);
	}
	if (chmod(sb->run_dir, 0700) != 0 || !chown_to_user(sb, sb->run_dir))
	{
		snprintf(err, errlen, "cannot give %s to user %s: %s", sb->run_dir, sb->user.name, strerror(errno));
		return EXIT_SANDBOX;
	}
	if (!user_can_use_dir(&sb->user, sb->run_dir))
	{
		snprintf(err, errlen, "user %s cannot reach %s; set TMPDIR to a directory that user can traverse",
				 sb->user.name, sb->run_dir);
		return EXIT_SANDBOX;
	}
	sb->data_dir = xasprintf("%s/data", sb->run_dir);
	sb->log_path = xasprintf("%s/postgres.log", sb->run_dir);

	cs.pg = sb->pg;
	cs.user = &sb->user;
	cs.locale = sb->locale;
	if (opts->base_cache_material && !opts->fresh)
	{
		char	   *m = cache_key_material(&cs);
		char	   *material = xasprintf("%s%s", m, opts->base_cache_material);
		char		hex[65];
		cache_hit	hit;

		sha256_hex(material, strlen(material), hex);
		hex[16] = '\0';
		sb->base_cache_key = xasprintf("base-%d-%s", sb->pg->major, hex);
		free(m);
		free(material);
		if ((rc = cache_entry_clone(sb->base_cache_key, sb->pg->major, BASE_CACHE_EXTRA, sb->data_dir,
									&hit, err, errlen)) != 0)
			return rc;
		if (hit.hit)
		{
			sb->origin = "base cache clone";
			sb->base_cloned = true;
			sb->base_extra = hit.extra;
			sb->template_path = NULL;
			snprintf(sb->base_created_at, sizeof(sb->base_created_at), "%s", hit.created_at);
			sb->ms_clone = hit.ms_clone;
			free(hit.path);
		}
	}
	if (!opts->fresh && !sb->base_cloned)
	{
		template_clone_result tr;

		rc = template_clone(&cs, sb->data_dir, &tr, err, errlen);
		sb->initdb = tr.initdb;
		if (rc > 0)
			return rc;
		if (tr.cloned)
		{
			sb->origin = "template clone";
			sb->template_path = tr.template_path;
			snprintf(sb->template_created_at, sizeof(sb->template_created_at), "%s", tr.created_at);
			sb->template_built_now = tr.built_now;
			sb->ms_clone = tr.ms_clone;
		}
	}
	if (sb->origin == NULL)
	{
		if ((rc = cluster_initdb(&cs, sb->data_dir, &sb->initdb, err, errlen)) != 0)
			return rc;
		if (!cluster_write_hba(&cs, sb->data_dir))
		{
			snprintf(err, errlen, "cannot write pg_hba.conf: %s", strerror(errno));
			return EXIT_SANDBOX;
		}
		sb->origin = opts->fresh ? "initdb (--fresh)" : "initdb (template cache unavailable)";
	}
	if (!cluster_read_system_identifier(sb->data_dir, &sb->system_identifier))
	{
		snprintf(err, errlen, "cannot read the system identifier of the new cluster: %s", strerror(errno));
		return EXIT_SANDBOX;
	}
	{
		char		why[256];

		/*
		 * The port only names the socket file in our private directory, but
		 * it must have no TCP listener, or the proof that a TCP connection to
		 * it is refused would prove nothing.
		 */
		sb->port = netcheck_pick_free_port(why, sizeof(why));
		if (sb->port <= 0)
		{
			snprintf(err, errlen, "no free port: %s", why);
			return EXIT_SANDBOX;
		}
	}
	if (!write_conf(sb))
	{
		snprintf(err, errlen, "cannot write postgresql.conf: %s", strerror(errno));
		return EXIT_SANDBOX;
	}
	rc = start_postmaster(sb, opts->start_timeout_ms > 0 ? opts->start_timeout_ms : 60000, err, errlen);
	if (rc == 0 && opts->require_containment && sb->contain.level != CONTAIN_FULL)
	{
		const contain_attempt *first = &sb->contain.attempts[0];

		snprintf(err, errlen, "the server could not be given a filesystem of its own (%s: %s); "
				 "a superuser in it could read and change the host's files: pass --allow-weak-containment to run anyway",
				 contain_level_name(sb->contain.level), first->result);
		return EXIT_SANDBOX;
	}
	return rc;
}

/*
 * In a cleanly stopped cluster, remove the WAL segments its restart does not
 * need: all but those from the checkpoint's redo point to the checkpoint
 * record (one segment after a shutdown checkpoint).  The rest are old or
 * recycled (preallocated) segments, most of a restored base's pg_wal: the
 * cache entry and every copy of it are that much smaller.
 */
static void
trim_wal(const char *data_dir)
{
	/* ControlFileData: checkPoint at 32, checkPointCopy.redo at 40, its ThisTimeLineID at 48 */
	char	   *path = xasprintf("%s/global/pg_control", data_dir);
	int			fd = open(path, O_RDONLY | O_CLOEXEC);
	unsigned char buf[52];
	uint64_t	ckpt,
				redo;
	uint32_t	tli;
	char	   *waldir;
	DIR		   *d;
	struct dirent *de;
	off_t		segsize = 0;
	bool		ok;

	free(path);
	if (fd < 0)
		return;
	ok = read(fd, buf, sizeof(buf)) == (ssize_t) sizeof(buf);
	close(fd);
	if (!ok)
		return;
	memcpy(&ckpt, buf + 32, 8);
	memcpy(&redo, buf + 40, 8);
	memcpy(&tli, buf + 48, 4);
	waldir = xasprintf("%s/pg_wal", data_dir);
	if (!(d = opendir(waldir)))
	{
		free(waldir);
		return;
	}
	/* the segment size: that of the segment holding the checkpoint */
	while ((de = readdir(d)))
	{
		struct stat st;
		char	   *f;

		if (strlen(de->d_name) != 24 || strspn(de->d_name, "0123456789ABCDEF") != 24)
			continue;
		f = xasprintf("%s/%s", waldir, de->d_name);
		if (stat(f, &st) == 0 && st.st_size > 0 && (segsize == 0 || st.st_size == segsize))
			segsize = st.st_size;
		else
			segsize = -1;		/* sizes differ: touch nothing */
		free(f);
		if (segsize < 0)
			break;
	}
	if (segsize > 0 && (segsize & (segsize - 1)) == 0 && redo <= ckpt)
	{
		uint64_t	per_id = UINT64_C(0x100000000) / (uint64_t) segsize;
		uint64_t	first = redo / (uint64_t) segsize,
					last = ckpt / (uint64_t) segsize;

		rewinddir(d);
		while ((de = readdir(d)))
		{
			unsigned int t,
						hi,
						lo;
			uint64_t	segno;

			if (strlen(de->d_name) != 24 || strspn(de->d_name, "0123456789ABCDEF") != 24 ||
				sscanf(de->d_name, "%8X%8X%8X", &t, &hi, &lo) != 3)
				continue;
			segno = (uint64_t) hi * per_id + lo;
			if (t == tli && segno >= first && segno <= last)
				continue;
			{
				char	   *f = xasprintf("%s/%s", waldir, de->d_name);

				unlink(f);
				free(f);
			}
		}
	}
	closedir(d);
	free(waldir);
}

int
sandbox_base_cache_store(sandbox *sb, const char *extra, bool *stored, double *ms_store,
						 double *ms_stop, char *err, size_t errlen)
{
	double		t = now_ms();
	int			status;
	int			rc;
	const char *max_env = getenv("DRYDOCK_BASE_CACHE_MAX");
	int			max = max_env && atoi(max_env) > 0 ? atoi(max_env) : BASE_CACHE_MAX_DEFAULT;
	char	   *pidfile = xasprintf("%s/postmaster.pid", sb->data_dir);

	*stored = false;
	*ms_store = 0;
	/* fast shutdown: a checkpoint, then pg_control says "shut down" */
	if (sb->postmaster_pid <= 0 || kill(sb->postmaster_pid, SIGINT) != 0)
	{
		snprintf(err, errlen, "cannot stop the sandbox to cache it: %s", strerror(errno));
		free(pidfile);
		return EXIT_SANDBOX;
	}
	while (waitpid(sb->postmaster_pid, &status, 0) < 0 && errno == EINTR)
		;
	sb->postmaster_pid = 0;
	*ms_stop = now_ms() - t;
	if (access(pidfile, F_OK) == 0)
	{
		snprintf(err, errlen, "the sandbox did not shut down cleanly (postmaster.pid remains)");
		free(pidfile);
		return EXIT_SANDBOX;
	}
	free(pidfile);
	trim_wal(sb->data_dir);
	rc = cache_entry_store(sb->base_cache_key, sb->pg->major, sb->data_dir, BASE_CACHE_EXTRA, extra,
						   "base-", max, stored, ms_store, err, errlen);
	if (rc > 0)
		return rc;
	if (rc < 0)
	{
		/* not fatal: the run goes on uncached; say so on stderr */
		fprintf(stderr, "drydock: base cache not stored: %s\n", err);
		err[0] = '\0';
	}
	return start_postmaster(sb, 60000, err, errlen);
}

PGconn *
sandbox_connect(sandbox *sb, const char *dbname, char *err, size_t errlen)
{
	char		portstr[16];
	const char *keys[] = {"host", "port", "user", "dbname", "sslmode", "gssencmode",
		"passfile", "options", "application_name", "connect_timeout",
	"client_encoding", NULL};
	const char *vals[12];
	PGconn	   *conn;
	PGresult   *res;
	char		real_data[PATH_MAX];
	char		sysid[32];
	char	   *nopass = xasprintf("%s/no-pgpass", sb->run_dir);

	snprintf(portstr, sizeof(portstr), "%d", sb->port);
	vals[0] = sb->run_dir;
	vals[1] = portstr;
	vals[2] = SANDBOX_ADMIN_ROLE;
	vals[3] = dbname;
	vals[4] = "disable";
	vals[5] = "disable";
	/* a path that does not exist: no caller's .pgpass is ever read */
	vals[6] = nopass;
	/*
	 * the driver's own queries: the pgTAP script is megabytes in one row
	 * (materialized, then sorted in pieces) -- in memory, not temporary
	 * files, as the catalog functions raise it for themselves
	 */
	vals[7] = "-c work_mem=64MB";
	vals[8] = "drydock";
	vals[9] = "10";
	vals[10] = "UTF8";
	vals[11] = NULL;

	/* expand_dbname = 0: a dbname can never smuggle in another conninfo */
	conn = PQconnectdbParams(keys, vals, 0);
	free(nopass);
	if (PQstatus(conn) != CONNECTION_OK)
	{
		snprintf(err, errlen, "cannot connect to the sandbox: %s", PQerrorMessage(conn));
		PQfinish(conn);
		return NULL;
	}

	res = PQexec(conn,
				 "SELECT inet_server_addr() IS NULL, current_setting('data_directory'), "
				 "(SELECT system_identifier FROM pg_catalog.pg_control_system())::text, "
				 "current_setting('server_version')");
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
	{
		snprintf(err, errlen, "cannot confirm the connection reached the sandbox: %s", PQerrorMessage(conn));
		PQclear(res);
		PQfinish(conn);
		return NULL;
	}
	if (!realpath(sb->data_dir, real_data))
		snprintf(real_data, sizeof(real_data), "%s", sb->data_dir);
	snprintf(sysid, sizeof(sysid), "%llu", (unsigned long long) sb->system_identifier);
	if (strcmp(PQgetvalue(res, 0, 0), "t") != 0)
		snprintf(err, errlen, "connection has a server address: it did not come through the sandbox's unix socket");
	else if (strcmp(PQgetvalue(res, 0, 1), real_data) != 0)
		snprintf(err, errlen, "connected server's data directory %s is not the sandbox's %s",
				 PQgetvalue(res, 0, 1), real_data);
	else if (strcmp(PQgetvalue(res, 0, 2), sysid) != 0)
		snprintf(err, errlen, "connected server's system identifier %s is not the sandbox's %s",
				 PQgetvalue(res, 0, 2), sysid);
	else
	{
		if (!sb->server_version)
			sb->server_version = xstrdup(PQgetvalue(res, 0, 3));
		PQclear(res);
		return conn;
	}
	PQclear(res);
	PQfinish(conn);
	return NULL;
}

static bool process_gone(pid_t pid);

bool
sandbox_alive(sandbox *sb)
{
	int			status;
	pid_t		r;

	if (sb->postmaster_pid <= 0)
		return false;
	r = waitpid(sb->postmaster_pid, &status, WNOHANG);
	/*
	 * ECHILD: reaped already (e.g. SIGCHLD ignored by whoever started us),
	 * or not our child (a replay worker, forked from the driver): the
	 * process itself says which.
	 */
	if (r == sb->postmaster_pid || process_gone(sb->postmaster_pid))
	{
		if (r == 0)
			(void) waitpid(sb->postmaster_pid, &status, 0);	/* a zombie: reap it */
		sb->postmaster_pid = 0;
		return false;
	}
	return true;
}

/*
 * Has pid exited?  A zombie counts as gone: once the driver is dead the
 * postmaster is reparented, and a reaper that is slow (or a container's
 * init that never reaps) must not make us wait for it.
 */
static bool
process_gone(pid_t pid)
{
	char		path[64];
	char	   *stat;
	char	   *p;
	bool		zombie = false;

	if (kill(pid, 0) != 0 && errno == ESRCH)
		return true;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
	if (!(stat = read_small_file(path, NULL)))
		return true;
	if ((p = strrchr(stat, ')')) && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X'))
		zombie = true;
	free(stat);
	return zombie;
}

/* Is /proc/PID/cwd the directory dir (already resolved)? */
static bool
cwd_is(pid_t pid, const char *dir)
{
	char		link[64];
	char		target[PATH_MAX];
	ssize_t		n;

	snprintf(link, sizeof(link), "/proc/%d/cwd", (int) pid);
	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0)
		return false;
	target[n] = '\0';
	return strcmp(target, dir) == 0;
}

/* Signal every process whose working directory is dir; how many there were. */
static int
signal_processes_in(const char *dir, int sig)
{
	DIR		   *d = opendir("/proc");
	struct dirent *de;
	int			count = 0;

	if (!d)
		return 0;
	while ((de = readdir(d)))
	{
		char	   *end;
		long		pid = strtol(de->d_name, &end, 10);

		if (*end || pid <= 0 || pid == getpid())
			continue;
		if (cwd_is((pid_t) pid, dir))
		{
			count++;
			if (sig)
				kill((pid_t) pid, sig);
		}
	}
	closedir(d);
	return count;
}

/* Remove the SysV interlock segment named in postmaster.pid, if unattached. */
static void
remove_shm_segment(const char *pidfile_text)
{
	const char *p = pidfile_text;
	unsigned long key;
	int			shmid;
	struct shmid_ds ds;

	/* line 7: "   <key>   <shmid>" */
	for (int line = 1; p && line < 7; line++)
		if ((p = strchr(p, '\n')))
			p++;
	if (!p || sscanf(p, "%lu %d", &key, &shmid) != 2)
		return;
	/*
	 * Only the segment with the cluster's own key: a cluster in a private IPC
	 * namespace had its segment there (gone with the namespace), and the same
	 * shmid here may be someone else's.
	 */
	if (shmctl(shmid, IPC_STAT, &ds) == 0 && ds.shm_nattch == 0 &&
		(unsigned long) ds.shm_perm.__key == key)
		shmctl(shmid, IPC_RMID, NULL);
}

bool
cluster_stop_dir(const char *data_dir, pid_t known_child, int timeout_ms, char *note, size_t notelen)
{
	char		real_data[PATH_MAX];
	char	   *pidfile = xasprintf("%s/postmaster.pid", data_dir);
	char	   *pidtext = read_small_file(pidfile, NULL);
	pid_t		pid = known_child;
	double		deadline;
	bool		killed = false;
	bool		clean = true;

	if (!realpath(data_dir, real_data))
		snprintf(real_data, sizeof(real_data), "%s", data_dir);
	if (pid <= 0 && pidtext)
	{
		pid = (pid_t) atoi(pidtext);
		/* only a postmaster that really runs in this directory */
		if (pid > 0 && !cwd_is(pid, real_data))
			pid = 0;
	}
	if (pid > 0)
	{
		kill(pid, SIGQUIT);
		deadline = now_ms() + timeout_ms;
		for (;;)
		{
			int			status;
			bool		gone;

			if (known_child > 0)
				gone = waitpid(pid, &status, WNOHANG) == pid || (errno == ECHILD);
			else
				gone = process_gone(pid);
			if (gone)
				break;
			if (now_ms() > deadline)
			{
				if (killed)
				{
					clean = false;
					snprintf(note, notelen, "postmaster %d did not exit after SIGKILL", (int) pid);
					break;
				}
				kill(pid, SIGKILL);
				killed = true;
				deadline = now_ms() + 5000;
				snprintf(note, notelen, "postmaster %d ignored SIGQUIT; sent SIGKILL", (int) pid);
			}
			sleep_ms(2);
		}
	}
	/* an immediate shutdown removes postmaster.pid on its way out */
	deadline = now_ms() + 2000;
	while (access(pidfile, F_OK) == 0 && pid > 0 && !killed && now_ms() < deadline)
		sleep_ms(2);

	/*
	 * Backends are session leaders and were signalled by the postmaster; if
	 * it was killed instead, nothing did that for them.
	 */
	deadline = now_ms() + 3000;
	while (signal_processes_in(real_data, SIGKILL) > 0)
	{
		if (now_ms() > deadline)
		{
			clean = false;
			snprintf(note, notelen, "processes of %s survived SIGKILL", real_data);
			break;
		}
		sleep_ms(5);
	}
	if (pidtext)
		remove_shm_segment(pidtext);
	free(pidtext);
	free(pidfile);
	return clean;
}

bool
sandbox_teardown(sandbox *sb)
{
	double		start = now_ms();
	bool		clean = true;
	struct stat st;

	if (sb->torn_down)
		return sb->teardown_clean;
	sb->torn_down = true;
	sb->teardown_note[0] = '\0';
	if (sb->data_dir)
		clean = cluster_stop_dir(sb->data_dir, sb->postmaster_pid, 10000,
								 sb->teardown_note, sizeof(sb->teardown_note));
	sb->postmaster_pid = 0;
	if (sb->run_dir)
	{
		/* the cluster's two large trees side by side, then the rest */
		if (sb->data_dir)
		{
			char	   *wal = xasprintf("%s/pg_wal", sb->data_dir);
			char	   *base = xasprintf("%s/base", sb->data_dir);

			(void) remove_trees_side_by_side(wal, base);
			free(wal);
			free(base);
		}
		if (!remove_tree(sb->run_dir) || lstat(sb->run_dir, &st) == 0)
		{
			clean = false;
			snprintf(sb->teardown_note, sizeof(sb->teardown_note),
					 "cannot remove %s: %s", sb->run_dir, strerror(errno));
		}
	}
	sb->teardown_clean = clean;
	sb->ms_teardown = now_ms() - start;
	unregister_sandbox(sb);
	return clean;
}

void
sandbox_free(sandbox *sb)
{
	if (sb->registered)
		unregister_sandbox(sb);
	run_user_free(&sb->user);
	free(sb->base);
	free(sb->run_dir);
	free(sb->data_dir);
	free(sb->log_path);
	free(sb->locale);
	free(sb->server_version);
	free(sb->template_path);
	free(sb->base_cache_key);
	free(sb->base_extra);
	memset(sb, 0, sizeof(*sb));
}

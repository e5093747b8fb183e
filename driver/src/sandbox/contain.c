/*
 * contain.c
 *		The postmaster in a view of the system of its own.
 *
 * With --apply-as-superuser (and always under drydock exec) the artifacts
 * hold a superuser connection: COPY ... TO/FROM a file or a PROGRAM,
 * lo_export, pg_read_binary_file and untrusted PLs all act with the rights
 * of the cluster's OS user -- the same user that usually owns every other
 * PostgreSQL cluster on the machine.  A network namespace alone does not
 * stop any of that.  So the postmaster is started in its own mount, PID,
 * IPC, UTS and network namespaces, and sees a filesystem built for it:
 *
 *		/                  an empty tmpfs, read-only
 *		/usr /bin /lib ... the system, read-only (bind mounts; /bin etc. as
 *		                   the symlinks they are on merged-/usr systems)
 *		/etc/...           only the system files programs need (the loader's
 *		                   cache, passwd and group, nsswitch, alternatives,
 *		                   time zone, ssl certificates, ...), read-only: not
 *		                   /etc/postgresql, nor what other services keep
 *		                   there for the same user (pgbouncer's userlist,
 *		                   pgbackrest.conf, ...)
 *		PG dirs            bindir, libdir, pkglibdir, sharedir of the
 *		                   installation in use, read-only (whatever pg_config
 *		                   says, so relocated and cached installations work)
 *		/dev               null zero full random urandom only
 *		/tmp /dev/shm      private, empty tmpfs
 *		/proc              a proc of the new PID namespace: the sandbox's own
 *		                   processes only (no /proc/PID/root into the host)
 *		RUN_DIR            the run directory, writable, at the same path, so
 *		                   the socket the driver connects to stays valid
 *
 * Everything else -- home directories, /root, /var/lib/postgresql and any
 * other cluster's data directory, /run, /var, /opt, /srv -- simply does not
 * exist in that view (an allow-list rather than a deny-list: nothing has to
 * be known about the host to hide it).  The root filesystem is entered with
 * pivot_root and the old one detached, so there is no path back.
 *
 * Then the bounding set is emptied, the user switched (as root), every
 * capability dropped, no_new_privs set, and PR_SET_PDEATHSIG armed.
 *
 * As root the namespaces need nothing else.  Otherwise an unprivileged user
 * namespace (our uid and gid mapped onto themselves) carries them, where the
 * kernel allows.  When the full view cannot be built, the network namespace
 * alone is tried (what drydock did before), then nothing; each attempt and
 * its outcome are recorded for the report, and callers that hand out a
 * superuser refuse weak containment unless told otherwise.
 *
 * The postmaster is PID 1 of its namespace.  That costs little: signals the
 * driver sends (SIGQUIT, SIGKILL) are delivered as before, since postgres
 * handles SIGQUIT and SIGKILL from an ancestor namespace always works;
 * PR_SET_PDEATHSIG works across namespaces; the postmaster reaps orphans
 * reparented to it (a program a superuser artifact leaves behind), and one
 * that dies of a signal makes the postmaster treat it as a crashed backend
 * and stop (restart_after_crash is off) -- failing closed.  What it buys:
 * when the postmaster exits, the kernel kills everything left in the
 * namespace, so nothing an artifact starts can outlive the sandbox, and the
 * private /proc shows no host process.  postmaster.pid then records 1; the
 * driver knows the real pid as the child it forked, and gc finds the
 * processes by their working directory as before.  With its own IPC
 * namespace the cluster's SysV segment disappears with the namespace.
 */
#include "contain.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

/* what the view holds from the host, read-only */
static const char *const system_paths[] = {"/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", NULL};
static const char *const etc_paths[] = {
	"alternatives", "ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "timezone",
	"passwd", "group", "nsswitch.conf", "host.conf", "hosts", "gai.conf", "services", "protocols",
	"ssl", "ca-certificates", "locale.alias", "locale.conf", "mime.types", "magic", "inputrc",
	"bash.bashrc", "profile", "environment", "perl", "debian_version", "os-release", "gss",
	"krb5.conf", "ldap", NULL
};
static const char *const dev_nodes[] = {"null", "zero", "full", "random", "urandom", NULL};

/* where the new root is assembled, inside the new mount namespace only */
#define STAGE "/tmp"

typedef struct view_path
{
	char	   *path;			/* resolved host path, also the path inside */
	char	   *link;			/* a symlink to recreate instead of a bind */
	bool		file;			/* a regular file, not a directory */
} view_path;

typedef struct view
{
	int			n;
	view_path	p[CONTAIN_MAX_PATHS];
} view;

const char *
contain_level_name(contain_level level)
{
	switch (level)
	{
		case CONTAIN_FULL:
			return "full";
		case CONTAIN_NET:
			return "network namespace only";
		case CONTAIN_NONE:
			break;
	}
	return "none";
}

/* Is path equal to dir or below it? */
static bool
path_under(const char *path, const char *dir)
{
	size_t		n = strlen(dir);

	if (strcmp(dir, "/") == 0)
		return true;
	return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

static void
view_add(view *v, const char *path)
{
	char		resolved[PATH_MAX];
	char		target[PATH_MAX];
	struct stat st;
	ssize_t		n;

	if (v->n >= CONTAIN_MAX_PATHS || lstat(path, &st) != 0)
		return;
	if (S_ISLNK(st.st_mode) && strchr(path + 1, '/') == NULL &&
		(n = readlink(path, target, sizeof(target) - 1)) > 0)
	{
		/* /bin -> usr/bin on merged-/usr systems: recreate the link */
		target[n] = '\0';
		v->p[v->n].path = xstrdup(path);
		v->p[v->n].link = xstrdup(target);
		v->p[v->n].file = false;
		v->n++;
		return;
	}
	if (!realpath(path, resolved) || stat(resolved, &st) != 0 || !S_ISDIR(st.st_mode))
		return;
	for (int i = 0; i < v->n; i++)
		if (!v->p[i].link && path_under(resolved, v->p[i].path))
			return;				/* already visible through a parent */
	v->p[v->n].path = xstrdup(resolved);
	v->p[v->n].link = NULL;
	v->p[v->n].file = false;
	v->n++;
}

/*
 * A file, directory or symlink of the host's /etc, at its own path: a
 * symlink is recreated as it is (it may point into /usr), the others bound.
 */
static void
view_add_etc(view *v, const char *name)
{
	char	   *path = xasprintf("/etc/%s", name);
	char		target[PATH_MAX];
	struct stat st;
	ssize_t		n;

	if (v->n < CONTAIN_MAX_PATHS && lstat(path, &st) == 0)
	{
		view_path  *p = &v->p[v->n];

		memset(p, 0, sizeof(*p));
		if (S_ISLNK(st.st_mode) && (n = readlink(path, target, sizeof(target) - 1)) > 0)
		{
			target[n] = '\0';
			p->link = xstrdup(target);
		}
		else if (S_ISREG(st.st_mode))
			p->file = true;
		else if (!S_ISDIR(st.st_mode))
		{
			free(path);
			return;
		}
		p->path = path;
		v->n++;
		return;
	}
	free(path);
}

static void
view_free(view *v)
{
	for (int i = 0; i < v->n; i++)
	{
		free(v->p[i].path);
		free(v->p[i].link);
	}
	v->n = 0;
}

/*
 * The installation's directories, as its pg_config reports them (relocated
 * installations answer relative to where they are; pginstall.c asked).
 */
static void
view_add_install(view *v, const pg_install *pg)
{
	const char *dirs[] = {pg->libdir, pg->pkglibdir, pg->sharedir};

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		if (dirs[i] && dirs[i][0] == '/')
			view_add(v, dirs[i]);
	/* whatever pg_config said, the programs the driver runs are there */
	if (pg->bindir)
		view_add(v, pg->bindir);
	if (pg->postgres)
	{
		char		resolved[PATH_MAX];

		if (realpath(pg->postgres, resolved) && strrchr(resolved, '/'))
		{
			*strrchr(resolved, '/') = '\0';
			view_add(v, resolved);
		}
	}
}

/* ---------- in the child, inside the new namespaces ---------- */

static bool
write_file_str(const char *path, const char *s)
{
	int			fd = open(path, O_WRONLY | O_CLOEXEC);
	bool		ok;

	if (fd < 0)
		return false;
	ok = write(fd, s, strlen(s)) == (ssize_t) strlen(s);
	return (close(fd) == 0) && ok;
}

/*
 * Flags of the mount at path that a remount must keep: in a user namespace
 * the kernel refuses to clear nosuid/nodev/noexec/atime flags that came
 * from the parent namespace.
 */
static unsigned long
locked_flags(const char *path)
{
	struct statvfs vfs;
	unsigned long f = 0;

	if (statvfs(path, &vfs) != 0)
		return 0;
	if (vfs.f_flag & ST_NOSUID)
		f |= MS_NOSUID;
	if (vfs.f_flag & ST_NODEV)
		f |= MS_NODEV;
	if (vfs.f_flag & ST_NOEXEC)
		f |= MS_NOEXEC;
	if (vfs.f_flag & ST_NOATIME)
		f |= MS_NOATIME;
	if (vfs.f_flag & ST_NODIRATIME)
		f |= MS_NODIRATIME;
	if (vfs.f_flag & ST_RELATIME)
		f |= MS_RELATIME;
	if (vfs.f_flag & ST_RDONLY)
		f |= MS_RDONLY;
	return f;
}

/* Bind the directory or file open as fd onto target, with extra flags. */
static bool
bind_fd(int fd, const char *target, unsigned long extra, char *why, size_t whylen, const char *what)
{
	char		src[64];

	snprintf(src, sizeof(src), "/proc/self/fd/%d", fd);
	if (mount(src, target, NULL, MS_BIND | MS_REC, NULL) != 0)
	{
		snprintf(why, whylen, "bind mount of %.180s: %s", what, strerror(errno));
		return false;
	}
	if (mount(NULL, target, NULL, MS_BIND | MS_REMOUNT | locked_flags(target) | extra, NULL) != 0)
	{
		snprintf(why, whylen, "remount of %.180s (flags %#lx): %s", what, extra, strerror(errno));
		return false;
	}
	return true;
}

static bool
write_id_maps(uid_t uid, gid_t gid, char *why, size_t whylen)
{
	char		map[64];
	bool		ok = false;

	/*
	 * The driver is not dumpable (main.c), so neither is this fork of it, and
	 * the /proc/self files of a non-dumpable process belong to root: for the
	 * few writes below it must be dumpable; execve resets it anyway.
	 */
	(void) prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
	/* setgroups must be denied before an unprivileged gid_map is accepted */
	(void) write_file_str("/proc/self/setgroups", "deny");
	snprintf(map, sizeof(map), "%d %d 1", (int) uid, (int) uid);
	if (!write_file_str("/proc/self/uid_map", map))
		snprintf(why, whylen, "uid_map: %s", strerror(errno));
	else
	{
		snprintf(map, sizeof(map), "%d %d 1", (int) gid, (int) gid);
		if (!write_file_str("/proc/self/gid_map", map))
			snprintf(why, whylen, "gid_map: %s", strerror(errno));
		else
			ok = true;
	}
	(void) prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	return ok;
}

/* loopback up: PostgreSQL 13/14's statistics collector uses a UDP socket on it */
static void
loopback_up(void)
{
	int			fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq ifr;

	if (fd < 0)
		return;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) == 0)
	{
		ifr.ifr_flags |= IFF_UP;
		ioctl(fd, SIOCSIFFLAGS, &ifr);
	}
	close(fd);
}

/*
 * Build the view and enter it (see the file header).  On failure, why says
 * which step; the caller exits and the driver tries a weaker level.
 */
static bool
enter_view(const contain_spec *spec, const view *v, bool *private_proc, char *why, size_t whylen)
{
	int			fds[CONTAIN_MAX_PATHS];
	int			devfds[8];
	int			runfd;
	char		t[PATH_MAX];
	bool		ok = false;

	for (int i = 0; i < CONTAIN_MAX_PATHS; i++)
		fds[i] = -1;
	for (int i = 0; i < 8; i++)
		devfds[i] = -1;
	*private_proc = false;

	/* nothing we mount may propagate back to the host */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
	{
		snprintf(why, whylen, "making / private: %s", strerror(errno));
		return false;
	}

	/* open every source now: the staging tmpfs may hide some of them */
	for (int i = 0; i < v->n; i++)
		if (!v->p[i].link &&
			(fds[i] = open(v->p[i].path, O_PATH | O_NOFOLLOW | O_CLOEXEC | (v->p[i].file ? 0 : O_DIRECTORY))) < 0)
		{
			snprintf(why, whylen, "open %.200s: %s", v->p[i].path, strerror(errno));
			goto out;
		}
	for (int i = 0; dev_nodes[i]; i++)
	{
		snprintf(t, sizeof(t), "/dev/%s", dev_nodes[i]);
		devfds[i] = open(t, O_PATH | O_CLOEXEC);
	}
	if ((runfd = open(spec->run_dir, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
	{
		snprintf(why, whylen, "open %.200s: %s", spec->run_dir, strerror(errno));
		goto out;
	}

	if (mount("drydock-root", STAGE, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m") != 0)
	{
		snprintf(why, whylen, "tmpfs for the new root: %s", strerror(errno));
		goto out_run;
	}

	/* the system and the installation, read-only */
	for (int i = 0; i < v->n; i++)
	{
		snprintf(t, sizeof(t), STAGE "%s", v->p[i].path);
		if (strchr(v->p[i].path + 1, '/'))
		{
			/* its parent: /etc, or the installation's directories */
			char	   *slash = strrchr(t, '/');

			*slash = '\0';
			if (!mkdir_p(t, 0755, 0755))
			{
				snprintf(why, whylen, "mkdir %.200s: %s", t, strerror(errno));
				goto out_run;
			}
			*slash = '/';
		}
		if (v->p[i].file)
		{
			int			fd = open(t, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

			if (fd < 0)
			{
				snprintf(why, whylen, "creating %.200s: %s", t, strerror(errno));
				goto out_run;
			}
			close(fd);
			if (!bind_fd(fds[i], t, MS_RDONLY | MS_NOSUID | MS_NODEV, why, whylen, v->p[i].path))
				goto out_run;
			continue;
		}
		if (v->p[i].link)
		{
			if (symlink(v->p[i].link, t) != 0)
			{
				snprintf(why, whylen, "symlink %.200s: %s", v->p[i].path, strerror(errno));
				goto out_run;
			}
			continue;
		}
		if (!mkdir_p(t, 0755, 0755))
		{
			snprintf(why, whylen, "mkdir %.200s: %s", t, strerror(errno));
			goto out_run;
		}
		if (!bind_fd(fds[i], t, MS_RDONLY | MS_NOSUID | MS_NODEV, why, whylen, v->p[i].path))
			goto out_run;
	}
	/* /dev: the harmless character devices, and a private /dev/shm */
	if (!mkdir_p(STAGE "/dev", 0755, 0755) ||
		mount("drydock-dev", STAGE "/dev", "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755,size=64k") != 0)
	{
		snprintf(why, whylen, "tmpfs for /dev: %s", strerror(errno));
		goto out_run;
	}
	for (int i = 0; dev_nodes[i]; i++)
	{
		int			fd;

		if (devfds[i] < 0)
			continue;
		snprintf(t, sizeof(t), STAGE "/dev/%s", dev_nodes[i]);
		if ((fd = open(t, O_WRONLY | O_CREAT | O_CLOEXEC, 0666)) < 0)
		{
			snprintf(why, whylen, "creating %.200s: %s", t, strerror(errno));
			goto out_run;
		}
		close(fd);
		if (!bind_fd(devfds[i], t, MS_NOSUID | MS_NOEXEC, why, whylen, t + strlen(STAGE)))
			goto out_run;
	}
	if (symlink("/proc/self/fd", STAGE "/dev/fd") != 0 ||
		symlink("/proc/self/fd/0", STAGE "/dev/stdin") != 0 ||
		symlink("/proc/self/fd/1", STAGE "/dev/stdout") != 0 ||
		symlink("/proc/self/fd/2", STAGE "/dev/stderr") != 0 ||
		!mkdir_p(STAGE "/dev/shm", 0755, 0755) ||
		mount("drydock-shm", STAGE "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777,size=64m") != 0)
	{
		snprintf(why, whylen, "populating /dev: %s", strerror(errno));
		goto out_run;
	}

	/* a private, empty /tmp */
	if (!mkdir_p(STAGE "/tmp", 0755, 0755) ||
		mount("drydock-tmp", STAGE "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777,size=64m") != 0)
	{
		snprintf(why, whylen, "tmpfs for /tmp: %s", strerror(errno));
		goto out_run;
	}

	/*
	 * The run directory, writable, at its own path: usually in /dev/shm or
	 * /tmp, i.e. inside one of the private tmpfs just mounted, which is why
	 * it comes last.
	 */
	snprintf(t, sizeof(t), STAGE "%s", spec->run_dir);
	if (!mkdir_p(t, 0755, 0755))
	{
		snprintf(why, whylen, "mkdir %.200s: %s", t, strerror(errno));
		goto out_run;
	}
	if (!bind_fd(runfd, t, MS_NOSUID | MS_NODEV, why, whylen, spec->run_dir))
		goto out_run;

	/*
	 * A proc of the new PID namespace.  It must be mounted while the host's
	 * proc is still visible (the kernel refuses a proc mount in a user
	 * namespace otherwise); if it cannot be, /proc stays an empty directory.
	 */
	if (mkdir_p(STAGE "/proc", 0555, 0555) &&
		mount("proc", STAGE "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) == 0)
		*private_proc = true;

	if (mount(NULL, STAGE "/dev", NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NOEXEC, NULL) != 0 ||
		mount(NULL, STAGE, NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) != 0)
	{
		snprintf(why, whylen, "read-only remount of the new root: %s", strerror(errno));
		goto out_run;
	}

	/* enter it; the old root is detached, there is no way back to it */
	if (chdir(STAGE) != 0 || syscall(SYS_pivot_root, ".", ".") != 0 ||
		umount2(".", MNT_DETACH) != 0 || chdir("/") != 0)
	{
		snprintf(why, whylen, "pivot_root: %s", strerror(errno));
		goto out_run;
	}
	ok = true;

out_run:
	close(runfd);
out:
	for (int i = 0; i < CONTAIN_MAX_PATHS; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	for (int i = 0; i < 8; i++)
		if (devfds[i] >= 0)
			close(devfds[i]);
	return ok;
}

/* The old behaviour: a network namespace with only loopback, nothing else. */
static bool
enter_private_netns(const run_user *u, uid_t uid, gid_t gid)
{
	char		why[128];

	if (unshare(CLONE_NEWNET) != 0)
	{
		if (u->switch_user || unshare(CLONE_NEWUSER | CLONE_NEWNET) != 0)
			return false;
		if (!write_id_maps(uid, gid, why, sizeof(why)))
			return false;
	}
	loopback_up();
	return true;
}

/*
 * Drop every privilege the cluster's processes could use: the bounding set
 * (so no exec can regain a capability), the user (as root), the permitted,
 * effective, inheritable and ambient sets, and no_new_privs (setuid binaries
 * do not elevate).
 */
static void
drop_privileges(const run_user *u)
{
	struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct data[2];

	for (int cap = 0; cap <= 63; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno == EINVAL)
			break;
	run_user_become(u);
	memset(data, 0, sizeof(data));
	(void) syscall(SYS_capset, &hdr, data);
	(void) prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
	{
		dprintf(2, "drydock: cannot set no_new_privs: %s\n", strerror(errno));
		_exit(127);
	}
}

/* Read the child's report: "ok" when it got there, else why it did not. */
static bool
read_status(int fd, char *msg, size_t msglen)
{
	size_t		len = 0;
	ssize_t		n;

	msg[0] = '\0';
	while (len + 1 < msglen && (n = read(fd, msg + len, msglen - 1 - len)) != 0)
	{
		if (n < 0)
		{
			if (errno == EINTR)
				continue;
			break;
		}
		len += (size_t) n;
		msg[len] = '\0';
		if (strncmp(msg, "ok\n", 3) == 0)
			return true;
	}
	while (len > 0 && msg[len - 1] == '\n')
		msg[--len] = '\0';
	return false;
}

/*
 * One attempt: the child's pid in the driver, 0 in the child, -1 when no
 * child could be made at all, ATTEMPT_FAILED when this level could not be
 * put in place (the reason in att).
 */
#define ATTEMPT_FAILED ((pid_t) -2)

static pid_t
try_level(const contain_spec *spec, contain_level level, const view *v, contain_state *st,
		  contain_attempt *att, char *err, size_t errlen)
{
	int			p[2];
	pid_t		pid;
	uid_t		uid = getuid();
	gid_t		gid = getgid();
	bool		userns = !spec->user->switch_user && geteuid() != 0;
	unsigned long flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNET;
	int			status;

	if (pipe2(p, O_CLOEXEC) != 0)
	{
		snprintf(err, errlen, "cannot create pipe: %s", strerror(errno));
		return -1;
	}
	if (level == CONTAIN_FULL)
		pid = (pid_t) syscall(SYS_clone, flags | (userns ? CLONE_NEWUSER : 0) | SIGCHLD, NULL, NULL, NULL, NULL);
	else
		pid = fork();
	if (pid < 0)
	{
		int			e = errno;

		close(p[0]);
		close(p[1]);
		if (level == CONTAIN_FULL)
		{
			snprintf(att->result, sizeof(att->result), "clone(%snamespaces) refused: %s",
					 userns ? "user + " : "", strerror(e));
			return ATTEMPT_FAILED;
		}
		snprintf(err, errlen, "cannot fork: %s", strerror(e));
		return -1;
	}
	if (pid == 0)
	{
		char		why[256] = "";
		bool		private_proc = false;

		close(p[0]);
		/* not in the driver's process group: a terminal ^C is the driver's */
		setpgid(0, 0);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		signal(SIGPIPE, SIG_IGN);
		if (level == CONTAIN_FULL)
		{
			if ((userns && !write_id_maps(uid, gid, why, sizeof(why))) ||
				!enter_view(spec, v, &private_proc, why, sizeof(why)))
			{
				dprintf(p[1], "%s\n", why);
				_exit(126);
			}
			loopback_up();
			(void) sethostname("drydock", 7);
		}
		else if (level == CONTAIN_NET)
		{
			if (!enter_private_netns(spec->user, uid, gid))
			{
				dprintf(p[1], "no network namespace: %s\n", strerror(errno));
				_exit(126);
			}
		}
		drop_privileges(spec->user);

		/*
		 * After the credential change, which clears it: the postmaster gets
		 * SIGQUIT (immediate shutdown) the moment the driver dies, however it
		 * dies.  If the driver is already gone, the write below fails (its
		 * end of the pipe is closed) and we do not start at all.
		 */
		if (!spec->keep)
			prctl(PR_SET_PDEATHSIG, SIGQUIT);
		if (dprintf(p[1], "ok\n%c", private_proc ? 'P' : '-') < 0)
			_exit(1);
		signal(SIGPIPE, SIG_DFL);
		close(p[1]);
		return 0;
	}
	close(p[1]);
	{
		char		msg[300];
		bool		ok = read_status(p[0], msg, sizeof(msg));

		if (ok)
		{
			char		c = 0;

			/* the flag after "ok\n" may come in the same read or the next */
			if (strlen(msg) >= 4)
				c = msg[3];
			else
				(void) !read(p[0], &c, 1);
			st->private_proc = (c == 'P');
		}
		close(p[0]);
		if (ok)
		{
			att->ok = true;
			st->level = level;
			st->user_ns = (level != CONTAIN_NONE) && userns;
			snprintf(att->result, sizeof(att->result), "in place");
			return pid;
		}
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		snprintf(att->result, sizeof(att->result), "%s", msg[0] ? msg : "the child exited before it was set up");
		return ATTEMPT_FAILED;
	}
}

pid_t
contain_fork(const contain_spec *spec, contain_state *st, char *err, size_t errlen)
{
	view		v = {0};
	static const contain_level levels[] = {CONTAIN_FULL, CONTAIN_NET, CONTAIN_NONE};
	pid_t		pid = 0;

	memset(st, 0, sizeof(*st));
	for (int i = 0; system_paths[i]; i++)
		view_add(&v, system_paths[i]);
	view_add_install(&v, spec->pg);
	for (int i = 0; etc_paths[i]; i++)
		view_add_etc(&v, etc_paths[i]);
	for (int i = 0, n_etc = 0; i < v.n; i++)
	{
		size_t		len = strlen(st->visible);
		bool		etc = strncmp(v.p[i].path, "/etc/", 5) == 0;

		/* /etc's entries as one: /etc/{passwd,group,...} */
		snprintf(st->visible + len, sizeof(st->visible) - len, "%s%s%s",
				 etc ? (n_etc ? "," : (len ? " /etc/{" : "/etc/{")) : (len ? " " : ""),
				 etc ? v.p[i].path + 5 : v.p[i].path,
				 etc && (i + 1 == v.n || strncmp(v.p[i + 1].path, "/etc/", 5) != 0) ? "}" : "");
		if (etc)
			n_etc++;
	}

	for (int i = 0; i < 3; i++)
	{
		contain_attempt *att = &st->attempts[st->n_attempts++];

		att->what = levels[i] == CONTAIN_FULL ? "mount, pid, ipc, uts, net namespaces + private filesystem view"
			: levels[i] == CONTAIN_NET ? "network namespace only" : "no namespace";
		pid = try_level(spec, levels[i], &v, st, att, err, errlen);
		if (pid != ATTEMPT_FAILED)
			break;
	}
	if (pid == 0)
		return 0;				/* the child, about to exec */
	view_free(&v);
	if (pid == ATTEMPT_FAILED)
	{
		snprintf(err, errlen, "cannot start the postmaster: %s", st->attempts[st->n_attempts - 1].result);
		return -1;
	}
	return pid;
}

void
contain_observe_namespaces(pid_t pid, char *out, size_t outlen)
{
	static const char *const kinds[] = {"user", "mnt", "pid", "ipc", "uts", "net", NULL};

	out[0] = '\0';
	for (int i = 0; kinds[i]; i++)
	{
		char		path[64];
		char		mine[64] = "",
					theirs[64] = "";
		ssize_t		n;

		snprintf(path, sizeof(path), "/proc/self/ns/%s", kinds[i]);
		if ((n = readlink(path, mine, sizeof(mine) - 1)) > 0)
			mine[n] = '\0';
		snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int) pid, kinds[i]);
		if ((n = readlink(path, theirs, sizeof(theirs) - 1)) > 0)
			theirs[n] = '\0';
		if (mine[0] && theirs[0] && strcmp(mine, theirs) != 0)
		{
			size_t		len = strlen(out);

			snprintf(out + len, outlen - len, "%s%s", len ? " " : "", kinds[i]);
		}
	}
}

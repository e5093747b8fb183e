/*
 * netcheck.c
 *		Network facts for the proof of isolation, gathered from the kernel
 *		rather than from the server's own account of itself.
 */
#include "netcheck.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util.h"

/* Can we bind addr:port?  1 yes, 0 in use, -1 family unavailable. */
static int
can_bind(int family, int port)
{
	int			fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int			rc;

	if (fd < 0)
		return -1;
	if (family == AF_INET)
	{
		struct sockaddr_in a = {.sin_family = AF_INET,.sin_port = htons((uint16_t) port)};

		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		rc = bind(fd, (struct sockaddr *) &a, sizeof(a));
	}
	else
	{
		struct sockaddr_in6 a = {.sin6_family = AF_INET6,.sin6_port = htons((uint16_t) port)};
		int			one = 1;

		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		a.sin6_addr = in6addr_loopback;
		rc = bind(fd, (struct sockaddr *) &a, sizeof(a));
	}
	if (rc != 0)
	{
		int			e = errno;

		close(fd);
		return (e == EADDRNOTAVAIL || e == EAFNOSUPPORT) ? -1 : 0;
	}
	close(fd);
	return 1;
}

int
netcheck_pick_free_port(char *why, size_t whylen)
{
	for (int attempt = 0; attempt < 200; attempt++)
	{
		uint32_t	r;
		int			port;

		if (getrandom(&r, sizeof(r), 0) != sizeof(r))
			r = (uint32_t) (getpid() * 7919u + (unsigned) attempt * 104729u);
		port = 20000 + (int) (r % 40000);
		if (can_bind(AF_INET, port) != 0 && can_bind(AF_INET6, port) != 0)
			return port;
	}
	snprintf(why, whylen, "200 random ports in 20000-59999 all had a TCP listener on loopback");
	return -1;
}

const char *
tcp_probe_name(tcp_probe p)
{
	switch (p)
	{
		case TCP_REFUSED:
			return "refused";
		case TCP_ACCEPTED:
			return "accepted";
		case TCP_UNAVAILABLE:
			return "unavailable";
		case TCP_OTHER:
			return "error";
	}
	return "error";
}

tcp_probe
netcheck_tcp_probe(const char *addr, int port, char *detail, size_t detaillen)
{
	struct sockaddr_storage ss;
	socklen_t	sslen;
	int			family = strchr(addr, ':') ? AF_INET6 : AF_INET;
	int			fd;
	int			rc;

	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET)
	{
		struct sockaddr_in *a = (struct sockaddr_in *) &ss;

		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t) port);
		inet_pton(AF_INET, addr, &a->sin_addr);
		sslen = sizeof(*a);
	}
	else
	{
		struct sockaddr_in6 *a = (struct sockaddr_in6 *) &ss;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t) port);
		inet_pton(AF_INET6, addr, &a->sin6_addr);
		sslen = sizeof(*a);
	}
	fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
	{
		snprintf(detail, detaillen, "%s", strerror(errno));
		return TCP_UNAVAILABLE;
	}
	rc = connect(fd, (struct sockaddr *) &ss, sslen);
	if (rc != 0 && errno == EINPROGRESS)
	{
		struct pollfd pfd = {fd, POLLOUT, 0};
		int			soerr = 0;
		socklen_t	len = sizeof(soerr);

		if (poll(&pfd, 1, 2000) <= 0)
		{
			close(fd);
			snprintf(detail, detaillen, "no answer within 2 s");
			return TCP_OTHER;
		}
		getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
		errno = soerr;
		rc = soerr ? -1 : 0;
	}
	close(fd);
	if (rc == 0)
	{
		snprintf(detail, detaillen, "connection accepted");
		return TCP_ACCEPTED;
	}
	snprintf(detail, detaillen, "%s", strerror(errno));
	if (errno == ECONNREFUSED)
		return TCP_REFUSED;
	if (errno == EADDRNOTAVAIL || errno == ENETUNREACH || errno == EAFNOSUPPORT)
		return TCP_UNAVAILABLE;
	return TCP_OTHER;
}

/* Is inode a socket in LISTEN state (0A) in a /proc/net/tcp-format file? */
static bool
inode_listening_in(const char *table, unsigned long inode)
{
	FILE	   *f = fopen(table, "re");
	char		line[512];
	bool		found = false;

	if (!f)
		return false;
	if (!fgets(line, sizeof(line), f))	/* header */
	{
		fclose(f);
		return false;
	}
	while (!found && fgets(line, sizeof(line), f))
	{
		char		local[64],
					remote[64];
		unsigned int state;
		unsigned long ino;

		/* sl local rem st tx:rx tr:when retrnsmt uid timeout inode */
		if (sscanf(line, "%*s %63s %63s %x %*s %*s %*s %*s %*s %lu",
				   local, remote, &state, &ino) == 4 &&
			state == 0x0A && ino == inode)
			found = true;
	}
	fclose(f);
	return found;
}

int
netcheck_tcp_listeners_of(pid_t pid)
{
	char		path[64];
	DIR		   *d;
	struct dirent *de;
	int			count = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int) pid);
	if (!(d = opendir(path)))
		return -1;
	while ((de = readdir(d)))
	{
		char		link[320];
		char		target[128];
		ssize_t		n;
		unsigned long inode;

		if (de->d_name[0] == '.')
			continue;
		snprintf(link, sizeof(link), "%s/%s", path, de->d_name);
		n = readlink(link, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = '\0';
		if (sscanf(target, "socket:[%lu]", &inode) != 1)
			continue;
		/* the process's own network namespace, not necessarily ours */
		snprintf(link, sizeof(link), "/proc/%d/net/tcp", (int) pid);
		if (inode_listening_in(link, inode))
			count++;
		else
		{
			snprintf(link, sizeof(link), "/proc/%d/net/tcp6", (int) pid);
			if (inode_listening_in(link, inode))
				count++;
		}
	}
	closedir(d);
	return count;
}

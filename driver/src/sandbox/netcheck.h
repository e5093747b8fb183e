/*
 * netcheck.h
 *		Network facts for the proof of isolation: a port with no TCP listener,
 *		TCP connection probes, and the TCP sockets a process is listening on.
 */
#ifndef DRYDOCK_NETCHECK_H
#define DRYDOCK_NETCHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* A random port in [20000, 60000) with nothing bound on 127.0.0.1 or ::1. */
int			netcheck_pick_free_port(char *why, size_t whylen);

typedef enum tcp_probe
{
	TCP_REFUSED,				/* connection refused: nothing listens */
	TCP_ACCEPTED,				/* something accepted the connection */
	TCP_UNAVAILABLE,			/* address family not available here */
	TCP_OTHER					/* timeout or another error */
} tcp_probe;

/* Try a TCP connection to addr (literal 127.0.0.1 or ::1) port; detail filled. */
tcp_probe	netcheck_tcp_probe(const char *addr, int port, char *detail, size_t detaillen);
const char *tcp_probe_name(tcp_probe p);

/*
 * Count the listening TCP sockets (IPv4 and IPv6) among pid's open file
 * descriptors, by matching socket inodes against /proc/net/tcp and tcp6.
 * -1 when it cannot be determined (no access to /proc/PID/fd).
 */
int			netcheck_tcp_listeners_of(pid_t pid);

#endif							/* DRYDOCK_NETCHECK_H */

/* conn.c — non-blocking TCP connect for the socket-based probes. */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "probes/conn.h"
#include "core/util.h"

int conn_start(struct conn *c, struct probe_result *r, const char *host,
               const struct resolver_addrs *addrs, int port)
{
	struct sockaddr_storage sa = addrs->addr[0];
	socklen_t salen = addrs->len[0];
	int fd;

	c->host = host;
	c->n_addrs = addrs->n;
	util_strlcpy(c->ip, addrs->text[0], sizeof(c->ip));
	if (sa.ss_family == AF_INET6) {
		((struct sockaddr_in6 *)&sa)->sin6_port = htons((uint16_t)port);
		snprintf(c->addr, sizeof(c->addr), "[%s]:%d", c->ip, port);
	} else {
		((struct sockaddr_in *)&sa)->sin_port = htons((uint16_t)port);
		snprintf(c->addr, sizeof(c->addr), "%s:%d", c->ip, port);
	}
	probe_result_detail(r, "address", json_string(c->ip));
	probe_result_detail(r, "port", json_integer(port));

	fd = socket(sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		/* No IPv6 on this host is the target's problem; no fds left is ours. */
		int err = errno;

		probe_result_fail(r, err == EAFNOSUPPORT ? PROBE_ERR_CONNECT : PROBE_ERR_INTERNAL,
		                  "socket() for %s failed: %s", c->addr, strerror(err));
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sa, salen) < 0 && errno != EINPROGRESS) {
		conn_fail(c, r, errno);
		close(fd);
		return -1;
	}
	return fd;
}

int conn_finish(struct conn *c, struct probe_result *r, int fd)
{
	int err = 0;
	socklen_t len = sizeof(err);
	struct sockaddr_storage peer;
	socklen_t plen = sizeof(peer);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err) {
		conn_fail(c, r, err);
		return -1;
	}
	if (getpeername(fd, (struct sockaddr *)&peer, &plen) < 0) {
		if (errno == ENOTCONN)
			return 1;
		conn_fail(c, r, errno);
		return -1;
	}
	return 0;
}

void conn_fail(const struct conn *c, struct probe_result *r, int err)
{
	char which[200] = "";

	if (c->n_addrs > 1)
		snprintf(which, sizeof(which), " (first of %d addresses of %s)", c->n_addrs, c->host);
	if (err == ECONNREFUSED)
		probe_result_fail(r, PROBE_ERR_CONNECT, "connection refused by %s%s", c->addr, which);
	else if (err == ECONNRESET)
		probe_result_fail(r, PROBE_ERR_CONNECT, "connection reset by peer %s while connecting%s",
		                  c->addr, which);
	else
		probe_result_fail(r, PROBE_ERR_CONNECT, "connect to %s failed: %s%s",
		                  c->addr, strerror(err), which);
}

int conn_watch(struct conn *c, struct loop *l, int fd, int events, loop_fd_fn *fn, void *arg,
               struct probe_result *r)
{
	if (c->fd_events == events)
		return 0;
	if (loop_fd_set(l, fd, events, fn, arg) < 0) {
		int err = errno;

		c->fd_events = 0;
		probe_result_fail(r, PROBE_ERR_INTERNAL, "cannot watch the socket to %s: %s",
		                  c->addr, strerror(err));
		return -1;
	}
	c->fd_events = events;
	return 0;
}

void conn_close(struct conn *c, struct loop *l, int fd)
{
	if (fd < 0)
		return;
	if (c->fd_events)
		loop_fd_set(l, fd, 0, NULL, NULL);
	c->fd_events = 0;
	close(fd);
}

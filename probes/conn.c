/* conn.c — non-blocking TCP connect for the socket-based probes. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "probes/conn.h"
#include "core/util.h"

int conn_bind_source(int fd, int family, const char *source, struct probe_result *r)
{
	struct sockaddr_storage sa;
	socklen_t len;

	if (source == NULL)
		return 0;
	memset(&sa, 0, sizeof(sa));
	if (family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&sa;

		s6->sin6_family = AF_INET6;
		len = sizeof(*s6);
		if (inet_pton(AF_INET6, source, &s6->sin6_addr) != 1)
			goto other_family;
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&sa;

		s4->sin_family = AF_INET;
		len = sizeof(*s4);
		if (inet_pton(AF_INET, source, &s4->sin_addr) != 1)
			goto other_family;
	}
	if (bind(fd, (struct sockaddr *)&sa, len) < 0) {
		/* The agent's own setting is wrong: not the target's fault. */
		probe_result_fail(r, PROBE_ERR_INTERNAL, "cannot send from source_address %s: %s", source,
		                  strerror(errno));
		return -1;
	}
	return 0;
other_family:
	probe_result_fail(r, PROBE_ERR_CONNECT, "cannot reach an %s address from source_address %s",
	                  family == AF_INET6 ? "IPv6" : "IPv4", source);
	return -1;
}

int conn_start(struct conn *c, struct probe_result *r, const char *host,
               const struct resolver_addrs *addrs, int port, const char *source)
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
	if (conn_bind_source(fd, sa.ss_family, source, r) < 0) {
		close(fd);
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

/* conn.h — the TCP connection step the tcp and tls probes share: open a
 * non-blocking socket to the first resolved address, start connecting, and
 * judge the outcome once the socket turns writable. */
#ifndef PHAROS_CONN_H
#define PHAROS_CONN_H

#include "core/loop.h"
#include "core/resolver.h"
#include "probes/result.h"

struct conn {
	int n_addrs;                /* addresses the host name resolved to */
	const char *host;           /* as configured, for messages (borrowed) */
	char ip[64];                /* "127.0.0.1", "::1" */
	char addr[80];              /* "127.0.0.1:5432", "[::1]:5432" */
	int fd_events;              /* events registered in the loop for the socket, 0 none */
};

/* Opens the socket to the first of addrs on port, bound to source (the
 * agent's source_address; NULL: none), and starts connecting; records details
 * "address" and "port". Returns the fd (wait for LOOP_WRITE, even after an
 * immediate success: one code path), or -1 after failing r. */
int conn_start(struct conn *c, struct probe_result *r, const char *host,
               const struct resolver_addrs *addrs, int port, const char *source);

/* Binds fd (a socket of family) to the IP literal source before it sends
 * anything; NULL source: nothing to do. Returns 0, or -1 after failing r
 * (a source of another family than the target's, or not on this host). */
int conn_bind_source(int fd, int family, const char *source, struct probe_result *r);

/* After LOOP_WRITE while connecting. Returns 0 connected, 1 still connecting
 * (a spurious wake-up), -1 after failing r with the reason in words. */
int conn_finish(struct conn *c, struct probe_result *r, int fd);

/* Watches the socket fd for events (0: none) with fn(arg); nothing to do
 * when they are unchanged. Returns 0, or -1 after failing r. */
int conn_watch(struct conn *c, struct loop *l, int fd, int events, loop_fd_fn *fn, void *arg,
               struct probe_result *r);

/* Takes fd off the loop (when watched) and closes it; fd < 0 is fine. */
void conn_close(struct conn *c, struct loop *l, int fd);

/* Fails r for connect error err, naming the address (and, when the host had
 * several, that only the first was tried). */
void conn_fail(const struct conn *c, struct probe_result *r, int err);

#endif

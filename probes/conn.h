/* conn.h — the TCP connection step the tcp and tls probes share: open a
 * non-blocking socket to the first resolved address, start connecting, and
 * judge the outcome once the socket turns writable. */
#ifndef PHAROS_CONN_H
#define PHAROS_CONN_H

#include "resolver.h"
#include "result.h"

struct conn {
	int n_addrs;                /* addresses the host name resolved to */
	const char *host;           /* as configured, for messages (borrowed) */
	char ip[64];                /* "127.0.0.1", "::1" */
	char addr[80];              /* "127.0.0.1:5432", "[::1]:5432" */
};

/* Opens the socket to the first of addrs on port and starts connecting;
 * records details "address" and "port". Returns the fd (wait for LOOP_WRITE,
 * even after an immediate success: one code path), or -1 after failing r. */
int conn_start(struct conn *c, struct probe_result *r, const char *host,
               const struct resolver_addrs *addrs, int port);

/* After LOOP_WRITE while connecting. Returns 0 connected, 1 still connecting
 * (a spurious wake-up), -1 after failing r with the reason in words. */
int conn_finish(struct conn *c, struct probe_result *r, int fd);

/* Fails r for connect error err, naming the address (and, when the host had
 * several, that only the first was tried). */
void conn_fail(const struct conn *c, struct probe_result *r, int err);

#endif

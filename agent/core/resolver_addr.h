/* resolver_addr.h — address helpers of the resolver (resolver_addr.c): the
 * server option's syntax and the building of a struct resolver_addrs. Used by
 * resolver.c only; kept apart because neither needs c-ares or the loop. The
 * address list type lives here so that this module depends on nothing. */
#ifndef PHAROS_RESOLVER_ADDR_H
#define PHAROS_RESOLVER_ADDR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* The addresses a name resolved to (what every probe connects to). */
#define RESOLVER_MAX_ADDRS 8

struct resolver_addrs {
	int n;
	struct sockaddr_storage addr[RESOLVER_MAX_ADDRS];   /* port 0 */
	socklen_t len[RESOLVER_MAX_ADDRS];
	char text[RESOLVER_MAX_ADDRS][64];                  /* numeric form: "203.0.113.7", "::1" */
	uint64_t elapsed_us;                                /* time the lookup took (0 when cached) */
};

/* Parses "ip", "ip:port", "[v6]", "[v6]:port" or a bare v6 address into the
 * "ip:port" / "[v6]:port" form c-ares' csv parser takes (port 53 when none).
 * Returns 0, or -1 when s is not one of those forms. */
int resolver_server_csv(const char *s, char *out, size_t outlen);

/* Appends sa (AF_INET or AF_INET6; others are ignored) to a with port 0 and
 * its numeric text, unless it is there already or a is full. */
void resolver_addrs_add(struct resolver_addrs *a, const struct sockaddr *sa);

#endif

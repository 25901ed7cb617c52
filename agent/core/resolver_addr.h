/* resolver_addr.h — address helpers of the resolver (resolver_addr.c): the
 * server option's syntax and the building of a struct resolver_addrs. Used by
 * resolver.c only; kept apart because neither needs c-ares or the loop. */
#ifndef PHAROS_RESOLVER_ADDR_H
#define PHAROS_RESOLVER_ADDR_H

#include <stddef.h>
#include <sys/socket.h>

#include "core/resolver.h"

/* Parses "ip", "ip:port", "[v6]", "[v6]:port" or a bare v6 address into the
 * "ip:port" / "[v6]:port" form c-ares' csv parser takes (port 53 when none).
 * Returns 0, or -1 when s is not one of those forms. */
int resolver_server_csv(const char *s, char *out, size_t outlen);

/* Appends sa (AF_INET or AF_INET6; others are ignored) to a with port 0 and
 * its numeric text, unless it is there already or a is full. */
void resolver_addrs_add(struct resolver_addrs *a, const struct sockaddr *sa);

#endif

/* resolver.h — c-ares on the event loop. Resolves host names for every probe
 * (so libcurl never spawns a resolver thread: callers pin the address with
 * CURLOPT_RESOLVE) and runs raw DNS queries for the dns check type.
 *
 * A resolver is one c-ares channel: the system's servers (server == NULL), or
 * one given server ("1.1.1.1", "127.0.0.1:5353", "[::1]:53"). Address lookups
 * are cached for their TTL (at most 60 s): DNS time is then recorded as 0.
 *
 * Callbacks are always called from the loop, never from inside the call that
 * started the request, exactly once, unless the request was cancelled. */
#ifndef PHAROS_RESOLVER_H
#define PHAROS_RESOLVER_H

#include <stdint.h>
#include <sys/socket.h>

#include "core/resolver_addr.h"

struct loop;
struct resolver;
struct resolver_req;

/* status 0: addrs holds at least one address. status -1: errmsg says why in words
 * a person understands ("no such host: api.example.com (NXDOMAIN)",
 * "DNS timeout after 5000 ms"). */
typedef void resolver_addr_fn(int status, const char *errmsg,
                              const struct resolver_addrs *addrs, void *arg);

/* ares_status is an ARES_* code; abuf/alen the raw answer (may be NULL on error).
 * elapsed_us: time from query to answer. */
typedef void resolver_query_fn(int ares_status, const unsigned char *abuf, int alen,
                               uint64_t elapsed_us, void *arg);

/* timeout_ms bounds each request (tries included). Returns NULL and fills err
 * when the server string is invalid or c-ares cannot start. */
struct resolver *resolver_new(struct loop *l, const char *server, uint64_t timeout_ms,
                              char *err, size_t errlen);
/* Sends every query of r from the IP literal addr (agent.source_address);
 * NULL: the system's choice. Returns 0, or -1 with err filled when addr is
 * not an IP address. Call before the first request. */
int resolver_set_source(struct resolver *r, const char *addr, char *err, size_t errlen);
/* Cancels every request still in flight (their callbacks are not called). */
void resolver_free(struct resolver *r);

/* family: AF_UNSPEC, AF_INET or AF_INET6. IP literals answer without a query.
 * Returns a request handle (valid until its callback ran or it was cancelled),
 * or NULL on failure (callback never called). */
struct resolver_req *resolver_lookup(struct resolver *r, const char *host, int family,
                                     resolver_addr_fn *fn, void *arg);

/* A raw query (class C_IN), for the dns check: type is ns_t_a, ns_t_mx, ... */
struct resolver_req *resolver_query(struct resolver *r, const char *name, int type,
                                    resolver_query_fn *fn, void *arg);

/* The callback of req will not be called; req is freed (now or later). */
void resolver_cancel(struct resolver_req *req);

#endif

/* router.h — what the HTTP server decides before a handler runs, as pure
 * functions (no libmicrohttpd, no threads) so that they can be fuzzed
 * (tests/fuzz/fuzz_router.c): the request path checked and decoded, the
 * route table matched, the bearer token read from Authorization. */
#ifndef PHAROS_ROUTER_H
#define PHAROS_ROUTER_H

#include <stdbool.h>
#include <stddef.h>

#include "web/request.h"

#define ROUTER_PATH_MAX 1024        /* longer request paths are answered 414 */

/* Route flags. */
#define ROUTE_STORE  0x1            /* the handler reads SQLite: lend it a reader */
#define ROUTE_ADMIN  0x2            /* needs Authorization: Bearer <admin_token> */
#define ROUTE_SLOW   0x4            /* waits on the loop: runs on a worker thread */
#define ROUTE_HEALTH 0x8            /* also served on agent.health_listen */
#define ROUTE_CONF   0x10           /* needs a loaded configuration: 503 without */
#define ROUTE_DB     0x20           /* cannot answer without the database: 503 without */

/* One line of a route table. A pattern is matched segment by segment on the
 * decoded path; "{name}" matches one segment, which must then be a valid name
 * ([A-Za-z0-9_.-]{1,64}, not "." or "..") or bad_name answers (NULL: a JSON
 * 404). GET routes answer HEAD too. */
struct httpd_route {
	const char *method;
	const char *pattern;
	api_handler *handler;
	api_handler *bad_name;
	int flags;
};

/* Checks and decodes the path of a request target (raw: as received, up to
 * and without the '?'; raw_len bytes) into out (outlen bytes): every segment
 * is percent-decoded once, and a segment whose decoded form holds NUL or '/',
 * or is "." or "..", and a malformed escape, make the path invalid. Returns
 * 0, -1 when invalid (404), -2 when longer than outlen - 1 (414). */
int router_clean_path(const char *raw, size_t raw_len, char *out, size_t outlen);

/* True when the raw query string (after '?', NULL: none) holds no %00: a
 * query argument is a C string once decoded, and a NUL would cut it. */
bool router_query_ok(const char *raw_query);

/* The outcome of matching one request against route tables. */
struct route_match {
	const struct httpd_route *hit;  /* NULL: see path_found */
	bool path_found;                /* some route has this path (405 when no hit) */
	const char *name;               /* the {name} segment in the path, or NULL */
	size_t name_len;
	char allow[64];                 /* methods of the routes with this path */
};

/* Matches method and path against the n routes of table, adding to m (zero
 * it before the first table): the first route with both wins. */
void router_match(const struct httpd_route *table, size_t n, const char *method,
                  const char *path, struct route_match *m);

/* True when name (len bytes) is a valid check / notifier / asset name. */
bool router_valid_name(const char *name, size_t len);

#endif

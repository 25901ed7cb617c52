/* fuzz_router.c — libFuzzer target for what the HTTP server decides before a
 * handler runs (agent/web/router.c): the input is split at newlines into a
 * method, a request target (path and query, as received) and an
 * Authorization header value. The path check must never crash; a path it
 * accepts must decode to segments without NUL or '/' that are not "." or
 * ".."; a route matched on it against the real tables (the web layer's and
 * the agent's) must give a name only as one whole segment; a bearer token,
 * when found, is the header's tail without leading blanks. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "routes.h"
#include "web/httpd.h"
#include "web/router.h"
#include "web/serve.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Aborts unless every segment of the decoded path path is allowed. */
static void check_segments(const char *path)
{
	const char *p = path;

	if (p[0] != '/')
		abort();
	while (*p == '/') {
		const char *seg = p + 1;
		size_t n = strcspn(seg, "/");

		if ((n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
			abort();
		p = seg + n;
	}
	if (*p != '\0')
		abort();
}

/* Matches path against both tables and checks the name of a hit. */
static void check_match(const char *method, const char *path)
{
	struct route_match m;
	const struct httpd_route *core;
	size_t n_core;

	memset(&m, 0, sizeof(m));
	core = httpd_core_routes(&n_core);
	router_match(core, n_core, method, path, &m);
	router_match(agent_routes, agent_n_routes, method, path, &m);
	if (m.hit != NULL && !m.path_found)
		abort();
	if (m.allow[sizeof(m.allow) - 1] != '\0')
		abort();
	if (m.name != NULL) {
		if (m.name < path || m.name + m.name_len > path + strlen(path) || m.name_len == 0)
			abort();
		if (memchr(m.name, '/', m.name_len) != NULL || m.name[-1] != '/')
			abort();
		(void)router_valid_name(m.name, m.name_len);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf, *method, *target, *auth, *nl, *q;
	char path[ROUTER_PATH_MAX];
	const char *tok;
	size_t raw_len;
	int rc;

	if (size > 8192)
		return 0;
	buf = malloc(size + 1);
	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	method = buf;
	target = auth = buf + size;
	nl = strchr(method, '\n');
	if (nl != NULL) {
		*nl = '\0';
		target = nl + 1;
		nl = strchr(target, '\n');
		if (nl != NULL) {
			*nl = '\0';
			auth = nl + 1;
		}
	}

	q = strchr(target, '?');
	raw_len = q ? (size_t)(q - target) : strlen(target);
	rc = router_clean_path(target, raw_len, path, sizeof(path));
	if (rc < -2 || rc > 0)
		abort();
	if (rc == 0) {
		if (strlen(path) > raw_len)     /* decoding never lengthens */
			abort();
		check_segments(path);
		check_match(method, path);
	}
	(void)router_query_ok(q ? q + 1 : NULL);

	tok = util_bearer_token(auth[0] ? auth : NULL);
	if (tok != NULL) {
		if (tok < auth || tok >= auth + strlen(auth) || *tok == ' ' || *tok == '\t')
			abort();
	}
	free(buf);
	return 0;
}

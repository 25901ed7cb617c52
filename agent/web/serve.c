/* serve.c — one request of the HTTP server, from the raw target to the
 * answer: the path checked and decoded before routing (router.c), the route
 * tables (ours here, the upper layers' given in httpd_ops), admin
 * authentication, the answers shared by many routes (503 without a
 * configuration or a database, 413, 414), the pool of SQLite read
 * connections, and the worker threads of slow routes.
 *
 * Threading: libmicrohttpd runs a small pool of polling threads (httpd.c)
 * that serve every connection. A route that may wait (SQLite reads, an admin
 * "run now" that takes up to the check's timeout, a push or a retry waiting
 * for the loop) would stall every connection of its polling thread, so it
 * runs on a worker thread of its own while its connection is suspended, and
 * the answer is queued from there. Workers are capped (WORKERS_MAX); past
 * that the answer is 503 at once. /healthz, /readyz and /metrics never wait:
 * they answer on the polling threads, from the snapshot. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "web/serve.h"
#include "web/api.h"
#include "web/metrics.h"
#include "web/rcache.h"
#include "web/router.h"
#include "web/rsink.h"
#include "core/log.h"
#include "core/util.h"

/* The routes of this layer. The status page, badges and pushes belong to the
 * layers above and come in httpd_ops.routes. */
static const struct httpd_route core_routes[] = {
	{ "GET",  "/healthz",                       api_healthz,       NULL, ROUTE_HEALTH },
	{ "GET",  "/readyz",                        api_readyz,        NULL, ROUTE_HEALTH },
	{ "GET",  "/metrics",                       metrics_handle,    NULL, ROUTE_HEALTH },
	{ "GET",  "/api/v1/checks",                 api_checks,        NULL, ROUTE_STORE | ROUTE_CONF },
	{ "GET",  "/api/v1/checks/{name}",          api_check,         NULL, ROUTE_STORE | ROUTE_CONF },
	{ "GET",  "/api/v1/checks/{name}/results",  api_check_results, NULL,
	                                            ROUTE_STORE | ROUTE_CONF | ROUTE_DB },
	{ "POST", "/api/v1/checks/{name}/run",      api_check_run,     NULL, ROUTE_ADMIN | ROUTE_SLOW },
	{ "GET",  "/api/v1/alerts",                 api_alerts,        NULL, ROUTE_STORE | ROUTE_DB },
	{ "GET",  "/api/v1/notifications",          api_notifications, NULL, ROUTE_STORE | ROUTE_DB },
	{ "POST", "/api/v1/notifications/{name}/retry", api_notification_retry, NULL,
	                                            ROUTE_ADMIN | ROUTE_STORE | ROUTE_DB | ROUTE_SLOW },
	{ "GET",  "/api/v1/incidents",              api_incidents,     NULL, ROUTE_STORE | ROUTE_DB },
	{ "POST", "/api/v1/incidents/{name}/updates", api_incident_update, NULL,
	                                            ROUTE_ADMIN | ROUTE_STORE | ROUTE_DB | ROUTE_SLOW },
};
#define N_CORE_ROUTES (sizeof(core_routes) / sizeof(core_routes[0]))

const struct httpd_route *httpd_core_routes(size_t *n)
{
	*n = N_CORE_ROUTES;
	return core_routes;
}

/* Per-request state, from the raw target (serve_on_uri) to the completion. */
struct conn_ctx {
	uint64_t start_us;
	char *raw_uri;              /* the request target as received */
	bool headers_seen;
	char *body;                 /* up to API_BODY_MAX bytes, NUL-terminated */
	size_t body_len;
	bool too_large;
	bool answered;              /* a response was queued, or a worker will queue it */
	/* a slow route on a worker thread */
	struct listener *l;
	struct MHD_Connection *conn;
	const struct httpd_route *route;
	char method[16];
	char path[ROUTER_PATH_MAX];
	char name[API_NAME_MAX + 1];
};

/* --- readers ----------------------------------------------------------------- */

/* A read connection for this request: an idle one from the pool, else a new
 * one. NULL (with *why set to a static reason) when the database cannot be
 * opened; the handlers degrade to what the snapshot knows. */
static struct store_reader *reader_get(struct httpd *h, const char **why)
{
	struct store_reader *r = NULL;
	char err[256];

	pthread_mutex_lock(&h->lock);
	if (h->n_idle > 0)
		r = h->idle[--h->n_idle];
	pthread_mutex_unlock(&h->lock);
	if (r != NULL)
		return r;
	*why = "database unavailable";
	if (h->db_path == NULL)
		return NULL;
	r = store_reader_open(h->db_path, err, sizeof(err));
	if (r == NULL)
		log_warn("httpd: no database reader", "error", err);
	return r;
}

/* Returns r to the pool, or closes it when the pool is full. */
static void reader_put(struct httpd *h, struct store_reader *r)
{
	if (r == NULL)
		return;
	pthread_mutex_lock(&h->lock);
	if (h->n_idle < READER_POOL_MAX) {
		h->idle[h->n_idle++] = r;
		r = NULL;
	}
	pthread_mutex_unlock(&h->lock);
	store_reader_close(r);
}

void serve_readers_close(struct httpd *h)
{
	while (h->n_idle > 0)
		store_reader_close(h->idle[--h->n_idle]);
}

/* --- answers ----------------------------------------------------------------- */

/* Hands rs to libmicrohttpd (which frees the body) and logs the request. */
static enum MHD_Result send_response(struct MHD_Connection *conn, struct api_response *rs,
                                     const char *method, const char *path, uint64_t start_us)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	char status[8], ms[24];

	if (rs->body == NULL)
		api_text(rs, rs->status ? rs->status : MHD_HTTP_OK, "");
	if (rs->shared != NULL && rs->inflate_shared) {  /* gzip sent inflated */
		resp = rsink_inflate_response(rs->shared);  /* takes the reference */
		rs->shared = NULL;
		if (resp == NULL)
			rs->body = NULL;
	} else if (rs->shared != NULL) {  /* a cached body: no copy, a reference */
		resp = MHD_create_response_from_buffer_with_free_callback_cls(
			rs->body_len, rs->body, rbody_unref_cb, rs->shared);
	} else {
		resp = MHD_create_response_from_buffer(rs->body_len, rs->body, MHD_RESPMEM_MUST_FREE);
	}
	if (resp == NULL) {
		if (rs->shared != NULL)
			rbody_unref(rs->shared);
		else
			free(rs->body);
		rs->body = NULL;
		rs->shared = NULL;
		return MHD_NO;
	}
	rs->body = NULL;                /* owned by resp now */
	rs->shared = NULL;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, rs->content_type);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
	                        rs->cache_control ? rs->cache_control : "no-store");
	if (rs->allow[0] != '\0')
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, rs->allow);
	if (rs->www_authenticate != NULL)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, rs->www_authenticate);
	if (rs->content_encoding != NULL)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_ENCODING, rs->content_encoding);
	if (rs->vary != NULL)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY, rs->vary);
	if (rs->retry_after != NULL)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, rs->retry_after);
	ret = MHD_queue_response(conn, rs->status, resp);
	MHD_destroy_response(resp);
	if (log_enabled(LOG_DEBUG)) {
		/* The decoded path: a secret sent in the query never reaches the log. */
		snprintf(status, sizeof(status), "%u", rs->status);
		snprintf(ms, sizeof(ms), "%.3f", (double)(util_mono_us() - start_us) / 1000.0);
		log_debug("http request", "method", method, "path", path, "status", status, "ms", ms);
	}
	return ret;
}

/* Answers 403 when no admin token is configured, 401 when the request does not
 * carry it. Returns true when the request may go on. */
static bool admin_allowed(struct httpd *h, struct api_request *rq, struct api_response *rs)
{
	const char *given = util_bearer_token(MHD_lookup_connection_value(
		rq->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION));
	char *token;
	bool ok;

	pthread_mutex_lock(&h->lock);
	token = xstrdup(h->admin_token);
	pthread_mutex_unlock(&h->lock);
	if (token == NULL) {
		api_error(rs, MHD_HTTP_FORBIDDEN, "forbidden",
		          "admin API disabled: no agent.admin_token configured");
		return false;
	}
	ok = given != NULL && util_secure_equals(given, token);
	free(token);
	if (!ok) {
		api_error(rs, MHD_HTTP_UNAUTHORIZED, "unauthorized",
		          given == NULL ? "missing bearer token" : "wrong bearer token");
		rs->www_authenticate = "Bearer realm=\"pharos\"";
	}
	return ok;
}

/* Runs route's handler for rq with a snapshot and, when the route asks, a
 * database reader; answers 503 itself when the route needs a configuration
 * (ROUTE_CONF) or the database (ROUTE_DB) and there is none. */
static void run_route(struct httpd *h, const struct httpd_route *route, struct api_request *rq,
                      struct api_response *rs)
{
	rq->snap = snapshot_acquire();
	if ((route->flags & ROUTE_CONF) && rq->snap == NULL) {
		api_error(rs, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable", "no configuration loaded yet");
		goto out;
	}
	if (route->flags & ROUTE_STORE)
		rq->reader = reader_get(h, &rq->reader_error);
	if ((route->flags & ROUTE_DB) && rq->reader == NULL) {
		api_error(rs, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable",
		          rq->reader_error ? rq->reader_error : "database unavailable");
		goto out;
	}
	route->handler(rq, rs);
out:
	reader_put(h, rq->reader);
	rq->reader = NULL;
	snapshot_release(rq->snap);
	rq->snap = NULL;
}

/* --- routing ----------------------------------------------------------------- */

/* Checks the raw target of cx and finds its route. Returns the route, or
 * NULL after answering (400, 404, 405, 414, a bad name, 401/403). The
 * decoded path and the name are kept in cx; rq gets them. */
static const struct httpd_route *find_route(struct listener *l, struct conn_ctx *cx,
                                            struct api_request *rq, struct api_response *rs)
{
	struct httpd *h = l->h;
	const char *q = strchr(cx->raw_uri, '?');
	size_t raw_len = q ? (size_t)(q - cx->raw_uri) : strlen(cx->raw_uri);
	struct route_match m;
	int rc;

	rc = router_clean_path(cx->raw_uri, raw_len, cx->path, sizeof(cx->path));
	if (rc != 0)
		snprintf(cx->path, sizeof(cx->path), "-");  /* what the log shows */
	if (rc == -2) {
		api_error(rs, MHD_HTTP_URI_TOO_LONG, "uri_too_long", "the request path is too long");
		return NULL;
	}
	if (rc != 0) {
		/* 404 like any name that is not a check's: nothing is routed. */
		api_error(rs, MHD_HTTP_NOT_FOUND, "not_found",
		          "no such path: a path segment never holds NUL or '/', nor is \"..\"");
		return NULL;
	}
	if (!router_query_ok(q ? q + 1 : NULL)) {
		api_error(rs, MHD_HTTP_BAD_REQUEST, "bad_request", "a query argument holds NUL (%00)");
		return NULL;
	}
	rq->path = cx->path;
	memset(&m, 0, sizeof(m));
	router_match(core_routes, N_CORE_ROUTES, rq->method, cx->path, &m);
	if (h->ops.routes != NULL)
		router_match(h->ops.routes, h->ops.n_routes, rq->method, cx->path, &m);
	/* The health listener knows its few routes only. */
	if (l->health_only && m.path_found && (m.hit == NULL || !(m.hit->flags & ROUTE_HEALTH))) {
		m.hit = NULL;
		m.path_found = false;
	}
	if (!m.path_found) {
		api_error(rs, MHD_HTTP_NOT_FOUND, "not_found", "no such path");
		return NULL;
	}
	if (m.hit == NULL) {
		char detail[160];

		snprintf(detail, sizeof(detail), "method %.16s not allowed here; allowed: %s",
		         rq->method, m.allow);
		api_error(rs, MHD_HTTP_METHOD_NOT_ALLOWED, "method_not_allowed", detail);
		memcpy(rs->allow, m.allow, sizeof(rs->allow));
		return NULL;
	}
	if (m.name != NULL) {
		if (!router_valid_name(m.name, m.name_len)) {
			if (m.hit->bad_name != NULL)
				m.hit->bad_name(rq, rs);
			else
				api_error(rs, MHD_HTTP_NOT_FOUND, "not_found", "no such check");
			return NULL;
		}
		memcpy(cx->name, m.name, m.name_len);
		cx->name[m.name_len] = '\0';
		memcpy(rq->name, cx->name, m.name_len + 1);
	}
	if ((m.hit->flags & ROUTE_ADMIN) && !admin_allowed(h, rq, rs))
		return NULL;
	return m.hit;
}

/* Fills rq from cx for its connection. */
static void request_init(struct api_request *rq, struct listener *l, struct conn_ctx *cx)
{
	memset(rq, 0, sizeof(*rq));
	rq->conn = cx->conn;
	rq->method = cx->method;
	rq->path = cx->path;
	memcpy(rq->name, cx->name, sizeof(rq->name));
	rq->ops = &l->h->ops;
	rq->body = cx->body ? cx->body : "";
	rq->body_len = cx->body_len;
}

/* --- workers ----------------------------------------------------------------- */

/* Counts a worker out; the last one wakes serve_workers_wait. */
static void worker_gone(struct httpd *h)
{
	pthread_mutex_lock(&h->lock);
	if (--h->workers == 0)
		pthread_cond_broadcast(&h->workers_idle);
	pthread_mutex_unlock(&h->lock);
}

/* A worker thread: runs the slow route of a suspended connection, queues the
 * answer (allowed on a suspended connection) and resumes it. */
static void *worker_main(void *arg)
{
	struct conn_ctx *cx = arg;
	struct httpd *h = cx->l->h;
	struct api_request rq;
	struct api_response rs;

	pthread_setname_np(pthread_self(), "pharos-http");
	request_init(&rq, cx->l, cx);
	memset(&rs, 0, sizeof(rs));
	run_route(h, cx->route, &rq, &rs);
	send_response(cx->conn, &rs, cx->method, cx->path, cx->start_us);
	MHD_resume_connection(cx->conn);
	worker_gone(h);
	return NULL;
}

/* Suspends cx's connection and starts a worker for it. Returns false (and
 * nothing is suspended) when WORKERS_MAX run already or no thread starts. */
static bool worker_start(struct httpd *h, struct conn_ctx *cx)
{
	pthread_attr_t attr;
	pthread_t th;
	bool ok;

	pthread_mutex_lock(&h->lock);
	/* Once the server stops, a keep-alive connection may still bring a
	 * request: it must not suspend its connection, as libmicrohttpd aborts
	 * the process when stopped with a connection suspended. */
	ok = h->workers < WORKERS_MAX && h->workers_closed == 0;
	if (ok)
		h->workers++;
	pthread_mutex_unlock(&h->lock);
	if (!ok)
		return false;
	MHD_suspend_connection(cx->conn);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	ok = pthread_create(&th, &attr, worker_main, cx) == 0;
	pthread_attr_destroy(&attr);
	if (!ok) {
		MHD_resume_connection(cx->conn);
		worker_gone(h);
	}
	return ok;
}

void serve_workers_wait(struct httpd *h)
{
	pthread_mutex_lock(&h->lock);
	h->workers_closed++;
	while (h->workers > 0)
		pthread_cond_wait(&h->workers_idle, &h->lock);
	pthread_mutex_unlock(&h->lock);
}

void serve_workers_reopen(struct httpd *h)
{
	pthread_mutex_lock(&h->lock);
	h->workers_closed--;
	pthread_mutex_unlock(&h->lock);
}

/* --- libmicrohttpd glue ------------------------------------------------------ */

/* Keeps up to API_BODY_MAX bytes of the body; past that only counts it. */
static void body_add(struct conn_ctx *cx, const char *data, size_t n)
{
	if (cx->too_large || n > API_BODY_MAX - cx->body_len) {
		cx->too_large = true;
		return;
	}
	if (cx->body == NULL)
		cx->body = xmalloc(API_BODY_MAX + 1);
	memcpy(cx->body + cx->body_len, data, n);
	cx->body_len += n;
	cx->body[cx->body_len] = '\0';
}

/* True when the request announces a body larger than API_BODY_MAX. */
static bool announced_too_large(struct MHD_Connection *conn)
{
	const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	                                             MHD_HTTP_HEADER_CONTENT_LENGTH);
	char *end;
	unsigned long long n;

	if (cl == NULL)
		return false;
	errno = 0;
	n = strtoull(cl, &end, 10);
	return errno == ERANGE || (end != cl && n > API_BODY_MAX);
}

/* libmicrohttpd's URI logger, called first with the request target exactly
 * as received: routing works on it rather than on libmicrohttpd's decoded
 * URL, in which "%00" would have cut the path and "%2F" added a segment. */
void *serve_on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct conn_ctx *cx = xcalloc(1, sizeof(*cx));

	cx->start_us = util_mono_us();
	cx->raw_uri = xstrdup(uri ? uri : "");
	cx->conn = conn;
	return cx;
}

/* Routes a complete request: answers at once, or hands a slow route to a
 * worker (the answer is queued from there). */
static enum MHD_Result dispatch(struct listener *l, struct conn_ctx *cx, const char *method)
{
	struct api_request rq;
	struct api_response rs;
	const struct httpd_route *route;

	snprintf(cx->method, sizeof(cx->method), "%s",
	         strcmp(method, MHD_HTTP_METHOD_HEAD) == 0 ? MHD_HTTP_METHOD_GET : method);
	snprintf(cx->path, sizeof(cx->path), "-");
	request_init(&rq, l, cx);
	memset(&rs, 0, sizeof(rs));
	cx->answered = true;
	if (cx->too_large) {
		api_error(&rs, MHD_HTTP_CONTENT_TOO_LARGE, "payload_too_large",
		          "request bodies are limited to 64 KiB");
		return send_response(cx->conn, &rs, method, cx->path, cx->start_us);
	}
	route = find_route(l, cx, &rq, &rs);
	if (route == NULL)
		return send_response(cx->conn, &rs, method, cx->path, cx->start_us);
	if (route->flags & (ROUTE_SLOW | ROUTE_STORE)) {
		cx->l = l;
		cx->route = route;
		if (worker_start(l->h, cx))
			return MHD_YES;
		api_error(&rs, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable",
		          "too many requests in progress; try again");
		rs.retry_after = "1";
		return send_response(cx->conn, &rs, method, cx->path, cx->start_us);
	}
	run_route(l->h, route, &rq, &rs);
	return send_response(cx->conn, &rs, method, cx->path, cx->start_us);
}

/* libmicrohttpd's access handler. Called once with the headers (answers 413
 * at once when Content-Length is too large), then once per chunk of body,
 * then once more with *upload_data_size == 0, when the request is routed. */
enum MHD_Result serve_on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version,
                                 const char *upload_data, size_t *upload_data_size,
                                 void **con_cls)
{
	struct listener *l = cls;
	struct conn_ctx *cx = *con_cls;
	struct api_response rs;

	if (cx == NULL) {               /* no URI logger call: should not happen */
		cx = serve_on_uri(NULL, url, conn);
		*con_cls = cx;
	}
	cx->conn = conn;
	if (!cx->headers_seen) {
		cx->headers_seen = true;
		if (!announced_too_large(conn))
			return MHD_YES;
		cx->too_large = true;
		cx->answered = true;
		memset(&rs, 0, sizeof(rs));
		api_error(&rs, MHD_HTTP_CONTENT_TOO_LARGE, "payload_too_large",
		          "request bodies are limited to 64 KiB");
		return send_response(conn, &rs, method, "-", cx->start_us);
	}
	if (*upload_data_size > 0) {
		if (!cx->answered)
			body_add(cx, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (cx->answered)
		return MHD_YES;
	return dispatch(l, cx, method);
}

/* Frees the per-request state when libmicrohttpd is done with a request. */
void serve_on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                        enum MHD_RequestTerminationCode toe)
{
	struct conn_ctx *cx = *con_cls;

	if (cx == NULL)
		return;
	free(cx->raw_uri);
	free(cx->body);
	free(cx);
	*con_cls = NULL;
}

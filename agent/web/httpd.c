/* httpd.c — the HTTP server: libmicrohttpd set-up, the route table, request
 * bodies, admin authentication, error answers and the pool of SQLite read
 * connections. The handlers themselves are in api.c.
 *
 * Threading: one thread per connection (MHD_USE_THREAD_PER_CONNECTION), capped
 * by CONN_LIMIT. An admin "run now" blocks its thread for up to the check's
 * timeout; with a fixed pool of 4 threads, four such requests (or four slow
 * clients) would stall /healthz and the API for everyone, and a health probe
 * that times out gets the agent restarted. Per-connection threads cost a
 * thread creation per connection, which is nothing at the request rates of a
 * status page and an API, and the connection limit bounds the thread count.
 *
 * Listening: the socket is created, bound and put to listen here and handed to
 * libmicrohttpd (MHD_OPTION_LISTEN_SOCKET) rather than given as
 * MHD_OPTION_SOCK_ADDR, so a bind failure is reported with its own errno
 * ("cannot listen on 127.0.0.1:9470: Address already in use") instead of a
 * generic failure of MHD_start_daemon(). */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "web/api.h"
#include "dashboards/badge.h"
#include "heartbeat.h"
#include "web/httpd.h"
#include "core/log.h"
#include "web/metrics.h"
#include "dashboards/page.h"
#include "web/rcache.h"
#include "core/util.h"

#define CONN_LIMIT        64        /* simultaneous connections (= threads) */
#define CONN_TIMEOUT_S    30        /* idle connection timeout */
#define LISTEN_BACKLOG    128
#define READER_POOL_MAX   8         /* idle read connections kept */

/* Route flags. */
#define ROUTE_STORE  0x1            /* the handler reads SQLite: lend it a reader */
#define ROUTE_ADMIN  0x2            /* needs Authorization: Bearer <admin_token> */
#define ROUTE_HTML   0x4            /* a page: a bad name is answered with HTML */
#define ROUTE_SVG    0x8            /* a badge: a bad name is answered with an SVG */

/* The route table. A path pattern is matched segment by segment; "{name}"
 * matches one segment, which must then be a valid name ([A-Za-z0-9_.-]{1,64})
 * or the answer is 404. GET routes answer HEAD too. Later routes (status page,
 * badges, /metrics, push, alerts) are one line each here. */
static const struct route {
	const char *method;
	const char *pattern;
	api_handler *handler;
	int flags;
} routes[] = {
	{ "GET",  "/",                              page_index,        ROUTE_STORE | ROUTE_HTML },
	{ "GET",  "/check/{name}",                  page_check,        ROUTE_STORE | ROUTE_HTML },
	{ "GET",  "/assets/{name}",                 page_asset,        ROUTE_HTML },
	{ "GET",  "/feed.atom",                     page_feed,         ROUTE_STORE },
	{ "GET",  "/badge/{name}",                  badge_state,       ROUTE_SVG },
	{ "GET",  "/badge/{name}/uptime/24h.svg",   badge_uptime,      ROUTE_STORE | ROUTE_SVG },
	{ "GET",  "/badge/{name}/uptime/7d.svg",    badge_uptime,      ROUTE_STORE | ROUTE_SVG },
	{ "GET",  "/badge/{name}/uptime/30d.svg",   badge_uptime,      ROUTE_STORE | ROUTE_SVG },
	{ "GET",  "/badge/{name}/uptime/90d.svg",   badge_uptime,      ROUTE_STORE | ROUTE_SVG },
	{ "GET",  "/healthz",                       api_healthz,       0 },
	{ "GET",  "/readyz",                        api_readyz,        0 },
	{ "GET",  "/metrics",                       metrics_handle,    0 },
	{ "GET",  "/api/v1/checks",                 api_checks,        ROUTE_STORE },
	{ "GET",  "/api/v1/checks/{name}",          api_check,         ROUTE_STORE },
	{ "GET",  "/api/v1/checks/{name}/results",  api_check_results, ROUTE_STORE },
	{ "POST", "/api/v1/checks/{name}/run",      api_check_run,     ROUTE_ADMIN },
	{ "GET",  "/api/v1/alerts",                 api_alerts,        ROUTE_STORE },
	{ "GET",  "/api/v1/notifications",          api_notifications, ROUTE_STORE },
	{ "POST", "/api/v1/notifications/{name}/retry", api_notification_retry,
	                                            ROUTE_ADMIN | ROUTE_STORE },
	{ "GET",  "/api/v1/incidents",              api_incidents,     ROUTE_STORE },
	{ "POST", "/api/v1/incidents/{name}/updates", api_incident_update, ROUTE_ADMIN | ROUTE_STORE },
	{ "GET",  "/api/v1/push/{name}",            heartbeat_api_push, 0 },
	{ "POST", "/api/v1/push/{name}",            heartbeat_api_push, 0 },
	{ "GET",  "/api/v1/push/{name}/fail",       heartbeat_api_push, 0 },
	{ "POST", "/api/v1/push/{name}/fail",       heartbeat_api_push, 0 },
};
#define N_ROUTES (sizeof(routes) / sizeof(routes[0]))

struct httpd {
	struct MHD_Daemon *daemon;
	struct httpd_ops ops;
	char *listen;
	char *db_path;
	char *tls_cert_pem;         /* NULL: plain HTTP (loop thread only) */
	char *tls_key_pem;
	pthread_t *retirers;        /* threads stopping daemons replaced by a reload */
	size_t n_retirers;
	pthread_mutex_t lock;       /* guards admin_token and the reader pool */
	char *admin_token;          /* NULL: admin API disabled */
	struct store_reader *idle[READER_POOL_MAX];
	size_t n_idle;
};

/* Per-request state kept by libmicrohttpd between calls of the handler. */
struct conn_ctx {
	uint64_t start_us;
	char *body;                 /* up to API_BODY_MAX bytes, NUL-terminated */
	size_t body_len;
	bool too_large;
	bool answered;              /* a response was queued early (413) */
};

/* --- listening --------------------------------------------------------------- */

/* Splits "HOST:PORT", "[V6]:PORT" or ":PORT" / "*:PORT" (every address) into
 * host (NULL for every address) and port. Returns 0, or -1 with err. */
static int split_listen(const char *addr, char **host, char **port, char *err, size_t errlen)
{
	const char *colon;

	*host = *port = NULL;
	if (addr[0] == '[') {
		const char *end = strchr(addr, ']');

		if (end == NULL || end[1] != ':') {
			snprintf(err, errlen, "bad listen address \"%s\": expected [ADDRESS]:PORT", addr);
			return -1;
		}
		*host = xstrndup(addr + 1, (size_t)(end - addr - 1));
		colon = end + 1;
	} else {
		colon = strrchr(addr, ':');
		if (colon == NULL || memchr(addr, ':', (size_t)(colon - addr)) != NULL) {
			snprintf(err, errlen, "bad listen address \"%s\": expected HOST:PORT or [ADDRESS]:PORT",
			         addr);
			return -1;
		}
		if (colon > addr && !(colon - addr == 1 && addr[0] == '*'))
			*host = xstrndup(addr, (size_t)(colon - addr));
	}
	if (colon[1] == '\0' || strlen(colon + 1) > 5 ||
	    strspn(colon + 1, "0123456789") != strlen(colon + 1) || atol(colon + 1) > 65535) {
		snprintf(err, errlen, "bad listen address \"%s\": bad port", addr);
		free(*host);
		*host = NULL;
		return -1;
	}
	*port = xstrdup(colon + 1);
	return 0;
}

/* A listening TCP socket on addr. Returns the fd, or -1 with err
 * ("cannot listen on ADDRESS: reason"). *v6 tells the family. */
static int open_listener(const char *addr, bool *v6, char *err, size_t errlen)
{
	struct addrinfo hints, *ai = NULL;
	char *host = NULL, *port = NULL;
	int fd = -1, one = 1, rc;

	if (split_listen(addr, &host, &port, err, errlen) != 0)
		return -1;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	rc = getaddrinfo(host, port, &hints, &ai);
	if (rc != 0) {
		snprintf(err, errlen, "cannot listen on %s: %s", addr, gai_strerror(rc));
		goto out;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "cannot listen on %s: socket: %s", addr, strerror(errno));
		goto out;
	}
	/* Restart without waiting for TIME_WAIT connections to expire. */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	*v6 = ai->ai_family == AF_INET6;
	if (*v6)        /* "[::]:9470" means IPv6 only, as written */
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, LISTEN_BACKLOG) != 0) {
		snprintf(err, errlen, "cannot listen on %s: %s", addr, strerror(errno));
		close(fd);
		fd = -1;
		goto out;
	}
out:
	if (ai != NULL)
		freeaddrinfo(ai);
	free(host);
	free(port);
	return fd;
}

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
	if (r != NULL || h->db_path == NULL)
		return r;
	r = store_reader_open(h->db_path, err, sizeof(err));
	if (r == NULL) {
		log_warn("httpd: no database reader", "error", err);
		*why = "database unavailable";
	}
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

/* --- routing ----------------------------------------------------------------- */

/* True when name matches [A-Za-z0-9_.-]{1,64}. */
static bool valid_name(const char *s, size_t len)
{
	if (len < 1 || len > API_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '-'))
			return false;
	}
	return true;
}

/* Matches path against pattern segment by segment. On a match, the "{name}"
 * segment (if any) is returned through *name / *name_len. */
static bool path_matches(const char *pattern, const char *path, const char **name, size_t *name_len)
{
	const char *p = pattern, *q = path;

	*name = NULL;
	*name_len = 0;
	while (*p != '\0' && *q != '\0') {
		if (strncmp(p, "{name}", 6) == 0) {
			size_t n = strcspn(q, "/");

			if (n == 0)
				return false;
			*name = q;
			*name_len = n;
			p += 6;
			q += n;
			continue;
		}
		if (*p != *q)
			return false;
		p++;
		q++;
	}
	return *p == '\0' && *q == '\0';
}

/* Appends m to the comma-separated allow list (no duplicates). */
static void allow_add(char *allow, size_t len, const char *m)
{
	char *dup = strstr(allow, m);

	if (dup != NULL && (dup[strlen(m)] == '\0' || dup[strlen(m)] == ','))
		return;
	if (allow[0] != '\0')
		strncat(allow, ", ", len - strlen(allow) - 1);
	strncat(allow, m, len - strlen(allow) - 1);
}

/* Extracts the token of "Authorization: Bearer TOKEN" (scheme case-insensitive). */
static const char *bearer_token(const char *auth)
{
	if (auth == NULL || strncasecmp(auth, "Bearer", 6) != 0 || (auth[6] != ' ' && auth[6] != '\t'))
		return NULL;
	auth += 6;
	while (*auth == ' ' || *auth == '\t')
		auth++;
	return *auth != '\0' ? auth : NULL;
}

/* Answers 403 when no admin token is configured, 401 when the request does not
 * carry it. Returns true when the request may go on. */
static bool admin_allowed(struct httpd *h, struct api_request *rq, struct api_response *rs)
{
	const char *given = bearer_token(MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND,
	                                                             MHD_HTTP_HEADER_AUTHORIZATION));
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

/* Finds the route for rq and runs it, or answers 404 / 405 / 401 / 403. */
static void route(struct httpd *h, struct api_request *rq, struct api_response *rs)
{
	const struct route *hit = NULL;
	const char *name = NULL;
	size_t name_len = 0;
	bool path_found = false;

	for (size_t i = 0; i < N_ROUTES; i++) {
		const char *n;
		size_t nl;

		if (!path_matches(routes[i].pattern, rq->path, &n, &nl))
			continue;
		path_found = true;
		allow_add(rs->allow, sizeof(rs->allow), routes[i].method);
		if (strcmp(routes[i].method, "GET") == 0)
			allow_add(rs->allow, sizeof(rs->allow), "HEAD");
		if (hit == NULL && strcmp(routes[i].method, rq->method) == 0) {
			hit = &routes[i];
			name = n;
			name_len = nl;
		}
	}
	if (!path_found) {
		rs->allow[0] = '\0';
		api_error(rs, MHD_HTTP_NOT_FOUND, "not_found", "no such path");
		return;
	}
	if (hit == NULL) {
		char detail[160];

		snprintf(detail, sizeof(detail), "method %.16s not allowed here; allowed: %s",
		         rq->method, rs->allow);
		api_error(rs, MHD_HTTP_METHOD_NOT_ALLOWED, "method_not_allowed", detail);
		return;
	}
	rs->allow[0] = '\0';
	if (name != NULL) {
		if (!valid_name(name, name_len)) {
			if (hit->flags & ROUTE_HTML)
				page_not_found(rq, rs);
			else if (hit->flags & ROUTE_SVG)
				badge_not_found(rq, rs);
			else
				api_error(rs, MHD_HTTP_NOT_FOUND, "not_found", "no such check");
			return;
		}
		memcpy(rq->name, name, name_len);
		rq->name[name_len] = '\0';
	}
	if ((hit->flags & ROUTE_ADMIN) && !admin_allowed(h, rq, rs))
		return;
	rq->snap = snapshot_acquire();
	if (hit->flags & ROUTE_STORE)
		rq->reader = reader_get(h, &rq->reader_error);
	hit->handler(rq, rs);
	reader_put(h, rq->reader);
	rq->reader = NULL;
	snapshot_release(rq->snap);
	rq->snap = NULL;
}

/* --- libmicrohttpd glue ------------------------------------------------------ */

/* Hands rs to libmicrohttpd (which frees the body) and logs the request. */
static enum MHD_Result send_response(struct MHD_Connection *conn, struct api_response *rs,
                                     const char *method, const char *url, uint64_t start_us)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	char status[8], ms[24];

	if (rs->body == NULL)
		api_text(rs, rs->status ? rs->status : MHD_HTTP_OK, "");
	if (rs->shared != NULL)         /* a cached body: no copy, a reference */
		resp = MHD_create_response_from_buffer_with_free_callback_cls(
			rs->body_len, rs->body, rbody_unref_cb, rs->shared);
	else
		resp = MHD_create_response_from_buffer(rs->body_len, rs->body, MHD_RESPMEM_MUST_FREE);
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
	ret = MHD_queue_response(conn, rs->status, resp);
	MHD_destroy_response(resp);
	if (log_enabled(LOG_DEBUG)) {
		snprintf(status, sizeof(status), "%u", rs->status);
		snprintf(ms, sizeof(ms), "%.3f", (double)(util_mono_us() - start_us) / 1000.0);
		log_debug("http request", "method", method, "path", url, "status", status, "ms", ms);
	}
	return ret;
}

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

/* libmicrohttpd's access handler. Called once with the headers (allocates the
 * per-request state, answers 413 at once when Content-Length is too large),
 * then once per chunk of body, then once more with *upload_data_size == 0,
 * when the request is routed and answered. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
	struct httpd *h = cls;
	struct conn_ctx *cx = *con_cls;
	struct api_request rq;
	struct api_response rs;

	if (cx == NULL) {
		cx = xcalloc(1, sizeof(*cx));
		cx->start_us = util_mono_us();
		*con_cls = cx;
		if (!announced_too_large(conn))
			return MHD_YES;
		cx->too_large = true;
		cx->answered = true;
		memset(&rs, 0, sizeof(rs));
		api_error(&rs, MHD_HTTP_CONTENT_TOO_LARGE, "payload_too_large",
		          "request bodies are limited to 64 KiB");
		return send_response(conn, &rs, method, url, cx->start_us);
	}
	if (*upload_data_size > 0) {
		if (!cx->answered)
			body_add(cx, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (cx->answered)
		return MHD_YES;
	cx->answered = true;

	memset(&rq, 0, sizeof(rq));
	memset(&rs, 0, sizeof(rs));
	rq.conn = conn;
	rq.method = strcmp(method, MHD_HTTP_METHOD_HEAD) == 0 ? MHD_HTTP_METHOD_GET : method;
	rq.path = url;
	rq.ops = &h->ops;
	rq.body = cx->body ? cx->body : "";
	rq.body_len = cx->body_len;
	if (cx->too_large)
		api_error(&rs, MHD_HTTP_CONTENT_TOO_LARGE, "payload_too_large",
		          "request bodies are limited to 64 KiB");
	else
		route(h, &rq, &rs);
	return send_response(conn, &rs, method, url, cx->start_us);
}

/* Frees the per-request state when libmicrohttpd is done with a request. */
static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
	struct conn_ctx *cx = *con_cls;

	if (cx == NULL)
		return;
	free(cx->body);
	free(cx);
	*con_cls = NULL;
}

/* libmicrohttpd's error messages, into our log. */
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char buf[512];
	size_t n;

	vsnprintf(buf, sizeof(buf), fmt, ap);
	n = strlen(buf);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	/* A client that is not speaking TLS to a TLS listener (a tcp check, a
	 * port scan) is the client's problem, not the agent's: debug, not warn. */
	if (strstr(buf, "andshake") || strstr(buf, "TLS") || strstr(buf, "GnuTLS"))
		log_debug("httpd: libmicrohttpd", "error", buf);
	else
		log_warn("httpd: libmicrohttpd", "error", buf);
}

/* --- TLS ---------------------------------------------------------------------- */

#define PEM_MAX (1024 * 1024)       /* a certificate chain or key file, at most */

/* The whole of a PEM file, NUL-terminated (libmicrohttpd takes PEM text).
 * Returns NULL with err ("cannot read FILE: reason") on failure. */
static char *read_pem(const char *path, const char *what, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t n = 0;

	if (f == NULL) {
		snprintf(err, errlen, "cannot read %s %s: %s", what, path, strerror(errno));
		return NULL;
	}
	buf = xmalloc(PEM_MAX + 1);
	n = fread(buf, 1, PEM_MAX + 1, f);
	if (ferror(f) || n == 0 || n > PEM_MAX) {
		snprintf(err, errlen, "cannot read %s %s: %s", what, path,
		         ferror(f) ? strerror(errno) : n == 0 ? "empty file" : "larger than 1 MiB");
		free(buf);
		buf = NULL;
	} else {
		buf[n] = '\0';
	}
	fclose(f);
	return buf;
}

/* Reads conf's tls_cert and tls_key into *cert / *key (both NULL when TLS is
 * not configured). Returns 0, or -1 with err. */
static int read_tls(const struct conf *conf, char **cert, char **key, char *err, size_t errlen)
{
	*cert = *key = NULL;
	if (conf->agent.tls_cert == NULL || conf->agent.tls_key == NULL)
		return 0;
	if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
		snprintf(err, errlen, "agent.tls_cert is set but this libmicrohttpd was built without "
		         "TLS support (GnuTLS): cannot serve HTTPS");
		return -1;
	}
	*cert = read_pem(conf->agent.tls_cert, "tls_cert", err, errlen);
	if (*cert == NULL)
		return -1;
	*key = read_pem(conf->agent.tls_key, "tls_key", err, errlen);
	if (*key == NULL) {
		free(*cert);
		*cert = NULL;
		return -1;
	}
	return 0;
}

/* Frees a private key's text, wiped first. NULL is ignored. */
static void free_key(char *key)
{
	if (key == NULL)
		return;
	explicit_bzero(key, strlen(key));
	free(key);
}

static bool str_same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* Starts libmicrohttpd on the listening socket fd, over TLS when cert and
 * key (PEM text) are given. The socket stays ours when this fails. */
static struct MHD_Daemon *daemon_start(struct httpd *h, int fd, bool v6,
                                       const char *cert, const char *key)
{
	/* MHD_USE_ITC: needed by MHD_quiesce_daemon, which hands the socket to
	 * the next daemon when a reload changes the certificate. */
	unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
	                 MHD_USE_AUTO | MHD_USE_ERROR_LOG | MHD_USE_ITC;

	if (v6)
		flags |= MHD_USE_IPv6;
	/* The logger goes first: libmicrohttpd uses its own for anything said
	 * while parsing the options before it. */
	if (cert != NULL)
		return MHD_start_daemon(flags | MHD_USE_TLS, 0, NULL, NULL, on_request, h,
		                        MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, h,
		                        MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
		                        MHD_OPTION_CONNECTION_LIMIT, (unsigned int)CONN_LIMIT,
		                        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)CONN_TIMEOUT_S,
		                        MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
		                        MHD_OPTION_HTTPS_MEM_CERT, cert,
		                        MHD_OPTION_HTTPS_MEM_KEY, key,
		                        MHD_OPTION_END);
	return MHD_start_daemon(flags, 0, NULL, NULL, on_request, h,
	                        MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, h,
	                        MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
	                        MHD_OPTION_CONNECTION_LIMIT, (unsigned int)CONN_LIMIT,
	                        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)CONN_TIMEOUT_S,
	                        MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
	                        MHD_OPTION_END);
}

/* Loads cert and key into a throwaway daemon that has no socket: libmicrohttpd
 * (GnuTLS) parses them and checks that they match. A failed start of a real
 * daemon closes the listening socket it was given, so material is vetted
 * here first. Returns true when they load. */
static bool tls_loads(struct httpd *h, const char *cert, const char *key)
{
	struct MHD_Daemon *d;

	if (cert == NULL)
		return true;
	d = MHD_start_daemon(MHD_USE_NO_LISTEN_SOCKET | MHD_USE_TLS | MHD_USE_ERROR_LOG, 0,
	                     NULL, NULL, on_request, h,
	                     MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, h,
	                     MHD_OPTION_HTTPS_MEM_CERT, cert,
	                     MHD_OPTION_HTTPS_MEM_KEY, key,
	                     MHD_OPTION_END);
	if (d == NULL)
		return false;
	MHD_stop_daemon(d);
	return true;
}

/* A replaced daemon is stopped on its own thread: stopping waits for the
 * requests it is serving (an admin run can take a check's timeout), which
 * must not hold up the loop that called httpd_update_conf. */
static void *retire_daemon(void *arg)
{
	MHD_stop_daemon(arg);
	return NULL;
}

/* After a reload: when the certificate, the key or TLS on/off changed, a new
 * daemon with the new material takes over the listening socket and the old
 * one finishes its requests and stops. On any failure the old one stays. */
static void httpd_update_tls(struct httpd *h, const struct conf *conf)
{
	char err[512];
	char *cert, *key;
	struct MHD_Daemon *next;
	MHD_socket fd;
	const union MHD_DaemonInfo *info;
	bool v6;
	pthread_t th;

	if (read_tls(conf, &cert, &key, err, sizeof(err)) != 0) {
		log_error("httpd: reload: keeping the previous TLS settings", "error", err);
		return;
	}
	if (str_same(cert, h->tls_cert_pem) && str_same(key, h->tls_key_pem))
		goto out;
	info = MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_LISTEN_FD);
	if (info == NULL) {
		log_error("httpd: reload: cannot change TLS settings (no listening socket); restart pharos");
		goto out;
	}
	fd = info->listen_fd;
	v6 = (MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_FLAGS)->flags & MHD_USE_IPv6) != 0;
	/* Vet the material and start the new daemon before the old one lets go:
	 * if the certificate is refused, the old one keeps serving. */
	if (!tls_loads(h, cert, key)) {
		log_error("httpd: reload: libmicrohttpd rejected the new TLS certificate or key; "
		          "keeping the previous ones", "tls_cert", conf->agent.tls_cert ? conf->agent.tls_cert : "",
		          "tls_key", conf->agent.tls_key ? conf->agent.tls_key : "");
		goto out;
	}
	next = daemon_start(h, fd, v6, cert, key);
	if (next == NULL) {
		log_error("httpd: reload: libmicrohttpd failed to start with the new TLS settings; "
		          "keeping the previous ones");
		goto out;
	}
	if (MHD_quiesce_daemon(h->daemon) == MHD_INVALID_SOCKET)
		log_warn("httpd: reload: the previous listener did not quiesce");
	if (pthread_create(&th, NULL, retire_daemon, h->daemon) == 0) {
		h->retirers = xrealloc(h->retirers, (h->n_retirers + 1) * sizeof(*h->retirers));
		h->retirers[h->n_retirers++] = th;
	} else {
		MHD_stop_daemon(h->daemon);
	}
	h->daemon = next;
	free(h->tls_cert_pem);
	free_key(h->tls_key_pem);
	h->tls_cert_pem = cert;
	h->tls_key_pem = key;
	cert = key = NULL;
	log_info("httpd: listening", "listen", h->listen, "tls", h->tls_cert_pem ? "on" : "off");
out:
	free(cert);
	free_key(key);
}

/* --- public ------------------------------------------------------------------ */

/* Binds conf->agent.listen and starts serving. The ops are copied. Returns
 * NULL with err filled when the address is bad, cannot be bound, or
 * libmicrohttpd refuses to start. */
struct httpd *httpd_start(const struct conf *conf, const struct httpd_ops *ops,
                          char *err, size_t errlen)
{
	struct httpd *h;
	bool v6 = false;
	int fd;

	if (conf->agent.listen == NULL || conf->agent.listen[0] == '\0') {
		snprintf(err, errlen, "no listen address");
		return NULL;
	}
	fd = open_listener(conf->agent.listen, &v6, err, errlen);
	if (fd < 0)
		return NULL;
	h = xcalloc(1, sizeof(*h));
	h->ops = *ops;
	h->listen = xstrdup(conf->agent.listen);
	h->db_path = xstrdup(conf->agent.database);
	h->admin_token = xstrdup(conf->agent.admin_token);
	pthread_mutex_init(&h->lock, NULL);
	if (read_tls(conf, &h->tls_cert_pem, &h->tls_key_pem, err, errlen) != 0) {
		close(fd);
		httpd_stop(h);
		return NULL;
	}

	if (!tls_loads(h, h->tls_cert_pem, h->tls_key_pem)) {
		snprintf(err, errlen, "cannot serve HTTPS on %s: libmicrohttpd rejected the "
		         "certificate or key (%s, %s; see the libmicrohttpd error above)",
		         h->listen, conf->agent.tls_cert, conf->agent.tls_key);
		close(fd);
		httpd_stop(h);
		return NULL;
	}
	h->daemon = daemon_start(h, fd, v6, h->tls_cert_pem, h->tls_key_pem);
	if (h->daemon == NULL) {
		snprintf(err, errlen, "cannot listen on %s: libmicrohttpd failed to start", h->listen);
		close(fd);
		httpd_stop(h);
		return NULL;
	}
	log_info("httpd: listening", "listen", h->listen, "tls", h->tls_cert_pem ? "on" : "off");
	return h;
}

/* Takes the new admin token (or its absence) from conf after a reload. */
void httpd_update_conf(struct httpd *h, const struct conf *conf)
{
	char *token = xstrdup(conf->agent.admin_token);

	pthread_mutex_lock(&h->lock);
	free(h->admin_token);
	h->admin_token = token;
	pthread_mutex_unlock(&h->lock);
	httpd_update_tls(h, conf);
}

/* Stops libmicrohttpd (waiting for requests in progress, an admin run
 * included), closes the pooled readers and frees h. NULL is ignored. */
void httpd_stop(struct httpd *h)
{
	if (h == NULL)
		return;
	if (h->daemon != NULL)
		MHD_stop_daemon(h->daemon);     /* also closes the listening socket */
	for (size_t i = 0; i < h->n_retirers; i++)
		pthread_join(h->retirers[i], NULL);
	free(h->retirers);
	free(h->tls_cert_pem);
	free_key(h->tls_key_pem);
	while (h->n_idle > 0)
		store_reader_close(h->idle[--h->n_idle]);
	pthread_mutex_destroy(&h->lock);
	free(h->admin_token);
	free(h->db_path);
	free(h->listen);
	free(h);
}

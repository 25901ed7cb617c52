/* api.h — the route handlers of the HTTP interface and the small request /
 * response shapes they share with the server (httpd.c: libmicrohttpd;
 * serve.c: routing, authentication, shared errors). The handler files
 * include it: the API's here, and those of the layers above (dashboards/,
 * the heartbeat push), which stays below them: it includes nothing of
 * theirs. A new route is a handler with this signature plus one line in a
 * route table: serve.c's for the web layer's own, agent/routes.c for the
 * layers above. */
#ifndef PHAROS_API_H
#define PHAROS_API_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "web/snapshot.h"
#include "store/store.h"

#define API_NAME_MAX 64
#define API_BODY_MAX (64 * 1024)    /* larger request bodies are answered 413 */

struct MHD_Connection;
struct httpd_ops;

struct api_request {
	struct MHD_Connection *conn;    /* for query arguments and headers */
	const char *method;             /* "GET", "POST", ... (HEAD arrives as "GET") */
	const char *path;               /* decoded path, without the query string; every
	                                   segment was checked (no NUL, '/', "..") */
	char name[API_NAME_MAX + 1];    /* the {name} path segment, validated; "" when none */
	struct snapshot *snap;          /* current snapshot (a reference), or NULL */
	struct store_reader *reader;    /* for routes flagged ROUTE_STORE; may be NULL */
	const char *reader_error;       /* why reader is NULL */
	const struct httpd_ops *ops;
	const char *body;               /* request body (NUL-terminated), "" when none */
	size_t body_len;
};

struct api_response {
	unsigned status;
	char *body;                     /* owned, malloc'ed; NULL: empty */
	size_t body_len;
	const char *content_type;       /* static string */
	char allow[64];                 /* sets Allow when not "" (405) */
	const char *www_authenticate;   /* static; sets WWW-Authenticate (401) */
	const char *cache_control;      /* static; NULL: "no-store" */
	/* A shared, cached body (rcache.h): when set, body points into it and is
	 * not owned (never freed); httpd.c drops this reference once sent. */
	struct rbody *shared;
	const char *content_encoding;   /* static; NULL: none (identity) */
	const char *vary;               /* static; sets Vary when not NULL */
	const char *retry_after;        /* static; sets Retry-After when not NULL */
};

typedef void api_handler(struct api_request *rq, struct api_response *rs);

/* Response helpers. api_json steals j; secrets in every string of j are masked
 * (log_mask_secrets) before it is serialized. */
void api_json(struct api_response *rs, unsigned status, json_t *j);
void api_error(struct api_response *rs, unsigned status, const char *error, const char *detail);
void api_text(struct api_response *rs, unsigned status, const char *text);

/* A query argument of the request, or NULL. */
const char *api_query(struct api_request *rq, const char *key);

/* Route handlers (SPEC §3). */
api_handler api_healthz;
api_handler api_readyz;
api_handler api_checks;
api_handler api_check;
api_handler api_check_results;
api_handler api_check_run;          /* the caller (httpd.c) has checked the admin token */
api_handler api_alerts;             /* GET /api/v1/alerts */
api_handler api_notifications;      /* GET /api/v1/notifications?state=&limit= */
api_handler api_notification_retry; /* POST /api/v1/notifications/ID/retry (admin) */

#endif

/* request.h — the shapes one HTTP request is served with: the request and
 * the response a handler gets, the handler's signature, and the callbacks
 * the agent gives the server (struct httpd_ops). Header only, and it includes
 * nothing of the web layer: the router, the caches, the handlers and the
 * server all build on it, none on each other through it. */
#ifndef PHAROS_REQUEST_H
#define PHAROS_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alerts/outbox.h"
#include "probes/result.h"
#include "store/store.h"
#include "web/snapshot.h"

struct MHD_Connection;
struct httpd_route;
struct httpd_ops;

#define API_NAME_MAX 64
#define API_BODY_MAX (64 * 1024)    /* larger request bodies are answered 413 */

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
	bool inflate_shared;            /* shared is gzip, sent inflated (rsink.h) */
	const char *content_encoding;   /* static; NULL: none (identity) */
	const char *vary;               /* static; sets Vary when not NULL */
	const char *retry_after;        /* static; sets Retry-After when not NULL */
};

typedef void api_handler(struct api_request *rq, struct api_response *rs);

struct httpd_ops {
	/* Runs check name now on the loop and waits for it (up to its timeout plus
	 * a margin). Returns 0 and fills *out (caller clears it), -1 when there is
	 * no such check, -2 when the agent is stopping. Called on a server thread. */
	int (*run_check)(void *ctx, const char *name, struct probe_result *out);
	/* True while the loop thread made a pass within the last few seconds. */
	bool (*loop_alive)(void *ctx);
	/* Hands a heartbeat ping to the loop (see heartbeat_deliver for the
	 * arguments and return values). NULL: pushes answer 503. */
	int (*push)(void *ctx, const char *name, bool fail, const char *message, bool truncated,
	            char *state, size_t state_len);
	/* Requeues dead notification row->id (read by the caller, state dead):
	 * dead -> pending in the database, then handed to delivery on the loop.
	 * Waits for the commit. Returns 0 when requeued, -2 when the row was not
	 * dead any more, -3 when the agent is stopping or the database failed.
	 * NULL: the route answers 503. Called on a server thread. */
	int (*retry_notification)(void *ctx, const struct outbox_row *row);
	/* Adds a status update to incident id through the store's writer and
	 * waits for the commit. Returns 0 added, -1 no such incident, -2 the store
	 * keeps no incidents, -3 stopping or the database failed. NULL: 503. */
	int (*add_incident_update)(void *ctx, int64_t id, const char *status, const char *message);
	void *ctx;
	/* The routes of the layers above (status page, badges, pushes), served
	 * beside the API's own; the table must outlive the server. NULL: none. */
	const struct httpd_route *routes;
	size_t n_routes;
};

#endif

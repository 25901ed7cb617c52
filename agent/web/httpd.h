/* httpd.h — the HTTP interface (SPEC §3) on libmicrohttpd's own threads.
 * It never touches the loop's data: check states come from the published
 * snapshot, history from SQLite read connections, and admin actions go to the
 * loop through the callbacks below (which post to the loop and wait). */
#ifndef PHAROS_HTTPD_H
#define PHAROS_HTTPD_H

#include <stdbool.h>
#include <stddef.h>

#include "conf/conf.h"
#include "alerts/outbox.h"
#include "probes/result.h"
#include "web/router.h"

struct httpd;

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
	void *ctx;
	/* The routes of the layers above (status page, badges, pushes), served
	 * beside the API's own; the table must outlive the server. NULL: none. */
	const struct httpd_route *routes;
	size_t n_routes;
};

/* Listens on conf->agent.listen ("HOST:PORT", "[v6]:PORT") and, when set, on
 * conf->agent.health_listen (plain HTTP: /healthz, /readyz, /metrics only).
 * Reads the admin token and database path from conf at start; the snapshot
 * supplies the rest. Returns NULL with err filled when an address cannot be
 * bound.
 *
 * Limits (SPEC §3, README "HTTP limits"): up to 4096 connections (fewer when
 * the open-file limit is low), 256 from one client address, a connection
 * idle for 5 s is closed (a request must keep coming), request headers up to
 * 32 KiB, bodies up to 64 KiB. */
struct httpd *httpd_start(const struct conf *conf, const struct httpd_ops *ops,
                          char *err, size_t errlen);
/* The web layer's own routes (the API, health, metrics), for tests. */
const struct httpd_route *httpd_core_routes(size_t *n);

/* Replaces the settings read from conf (admin token) after a reload. */
void httpd_update_conf(struct httpd *h, const struct conf *conf);
void httpd_stop(struct httpd *h);

#endif

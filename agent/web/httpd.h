/* httpd.h — the HTTP interface (SPEC §3) on libmicrohttpd's own threads.
 * It never touches the loop's data: check states come from the published
 * snapshot, history from SQLite read connections, and admin actions go to the
 * loop through the callbacks below (which post to the loop and wait). */
#ifndef PHAROS_HTTPD_H
#define PHAROS_HTTPD_H

#include <stdbool.h>
#include <stddef.h>

#include "conf/conf.h"
#include "web/request.h"
#include "web/router.h"

struct httpd;


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
/* The web layer's own routes: httpd_core_routes in serve.h. */

/* Replaces the settings read from conf (admin token) after a reload. */
void httpd_update_conf(struct httpd *h, const struct conf *conf);
void httpd_stop(struct httpd *h);

#endif

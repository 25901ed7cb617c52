/* serve.h — what httpd.c (listeners, TLS, start and stop) and serve.c (one
 * request: routing, workers, answers) share: the server's state and the
 * callbacks httpd.c gives libmicrohttpd. httpd.c builds on serve.c, never the
 * other way round. Internal to the HTTP server (and the router fuzzer). */
#ifndef PHAROS_SERVE_H
#define PHAROS_SERVE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include <microhttpd.h>

#include "web/request.h"
#include "web/router.h"

#define READER_POOL_MAX   8         /* idle read connections kept */
#define WORKERS_MAX       64        /* slow requests in progress at once; more: 503 */

/* One listening daemon: the main one, or the one of agent.health_listen
 * (health_only: /healthz, /readyz and /metrics, nothing else). */
struct listener {
	struct httpd *h;
	bool health_only;
};

struct httpd {
	struct MHD_Daemon *daemon;
	struct MHD_Daemon *health;      /* agent.health_listen; NULL: none */
	struct listener main_l, health_l;
	struct httpd_ops ops;
	char *listen;
	char *health_listen;
	char *db_path;
	char *tls_cert_pem;             /* NULL: plain HTTP */
	char *tls_key_pem;
	unsigned conn_limit;            /* connections of the main listener */
	pthread_t *retirers;            /* threads stopping daemons replaced by a reload */
	size_t n_retirers;
	pthread_mutex_t lock;           /* guards admin_token, the reader pool, workers */
	pthread_cond_t workers_idle;    /* signalled when workers drops to 0 */
	unsigned workers;               /* worker threads running (slow requests) */
	unsigned workers_closed;        /* daemons stopping: no worker starts meanwhile */
	char *admin_token;              /* NULL: admin API disabled */
	struct store_reader *idle[READER_POOL_MAX];
	size_t n_idle;
};

/* libmicrohttpd callbacks of serve.c; cls is the struct listener (access
 * handler, URI logger) or the struct httpd (completion). */
enum MHD_Result serve_on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version,
                                 const char *upload_data, size_t *upload_data_size,
                                 void **con_cls);
void *serve_on_uri(void *cls, const char *uri, struct MHD_Connection *conn);
void serve_on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                        enum MHD_RequestTerminationCode toe);

/* Waits until no worker thread runs, and lets none start after (a slow
 * request still arriving on an open connection is answered 503): a daemon
 * with a suspended connection must not be stopped. */
void serve_workers_wait(struct httpd *h);
/* After a serve_workers_wait for a daemon that is stopped now while another
 * serves on (a reload's new TLS listener): workers start again once no
 * other daemon is stopping. */
void serve_workers_reopen(struct httpd *h);

/* Returns pooled read connections to nothing: closes them all. */
void serve_readers_close(struct httpd *h);

/* The web layer's own routes (the API, health, metrics), for tests. */
const struct httpd_route *httpd_core_routes(size_t *n);

#endif

/* curlm.h — libcurl's multi interface driven by the event loop (the
 * curl_multi_socket_action pattern): curl's sockets become loop fds, its
 * timeout one loop timer. Used by the http probe and notification delivery. */
#ifndef PHAROS_CURLM_H
#define PHAROS_CURLM_H

#include <curl/curl.h>

struct loop;
struct curlm;

/* Called on the loop thread when a transfer ends. The easy handle has already
 * been removed from the multi handle; the callee owns it again. */
typedef void curlm_done_fn(CURL *easy, CURLcode code, void *arg);

struct curlm *curlm_new(struct loop *l);
/* Every transfer must have completed or been removed first. */
void curlm_free(struct curlm *m);

/* Starts a transfer. Returns 0, or -1 (done is then never called). */
int curlm_add(struct curlm *m, CURL *easy, curlm_done_fn *done, void *arg);
/* Abandons a transfer in flight; done is not called. The caller still owns easy. */
void curlm_remove(struct curlm *m, CURL *easy);
/* Number of transfers in flight. */
int curlm_running(const struct curlm *m);

#endif

/* delivery_curl.h — the default delivery transport: curl multi on the loop,
 * and a blocking send for `pharos notify-test`. */
#ifndef PHAROS_DELIVERY_CURL_H
#define PHAROS_DELIVERY_CURL_H

#include <stdint.h>

#include "alerts/delivery_transport.h"

struct curlm;

/* Sends rq once, now, blocking the caller (curl easy, same request and answer
 * handling as a delivery attempt), and calls done(token, answer) before it
 * returns. For `pharos notify-test`. Returns 0, or -1 when curl cannot start
 * (done is then never called). */
int delivery_send_now(const struct notify_request *rq, uint64_t timeout_ms,
                      delivery_answer_fn *done, void *token);

/* The default transport: curl multi m on its loop (delivery_curl.c). */
struct delivery_transport delivery_curl_transport(struct curlm *m);

#endif

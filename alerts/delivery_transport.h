/* delivery_transport.h — what delivery needs of a transport: send one
 * notification request, get one answer later. Header only; the default
 * implementation is delivery_curl.c, tests bring their own. */
#ifndef PHAROS_DELIVERY_TRANSPORT_H
#define PHAROS_DELIVERY_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "alerts/notify.h"

#define DELIVERY_BODY_MAX           8192

/* One answer (or none) from a receiver. */
struct delivery_answer {
	long status;                /* 0: no HTTP answer */
	const char *body;           /* at most DELIVERY_BODY_MAX bytes, may be NULL */
	size_t body_len;
	const char *retry_after;    /* the Retry-After header or NULL */
	const char *error;          /* transport error text when status is 0, or NULL */
};

typedef void delivery_answer_fn(void *token, const struct delivery_answer *a);

/* A transport: send rq within timeout_ms and call done(token, answer) later,
 * on the loop thread, never from inside send. Returns 0 and sets *handle, or
 * -1 when it cannot start (done is then never called). cancel abandons a send
 * in flight by its handle (done is then never called). */
struct delivery_transport {
	int (*send)(void *ctx, const struct notify_request *rq, uint64_t timeout_ms,
	            delivery_answer_fn *done, void *token, void **handle);
	void (*cancel)(void *ctx, void *handle);
	void *ctx;
};

#endif

/* waiter.c — cross-thread reply slots (see waiter.h). */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "core/util.h"
#include "core/waiter.h"

struct waiter {
	pthread_mutex_t lock;
	pthread_cond_t cond;        /* signalled when status leaves WAITER_PENDING */
	int refs;
	int status;
	void *payload;
	void (*payload_free)(void *payload);
};

struct waiter *waiter_new(void *payload, void (*payload_free)(void *payload))
{
	struct waiter *w = xcalloc(1, sizeof(*w));
	pthread_condattr_t attr;

	pthread_mutex_init(&w->lock, NULL);
	/* A monotonic deadline: a wall clock step must not cut a wait short or
	 * stretch it. */
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cond, &attr);
	pthread_condattr_destroy(&attr);
	w->refs = 2;
	w->status = WAITER_PENDING;
	w->payload = payload;
	w->payload_free = payload_free;
	return w;
}

void *waiter_payload(const struct waiter *w)
{
	return w->payload;
}

void waiter_put(struct waiter *w)
{
	int refs;

	pthread_mutex_lock(&w->lock);
	refs = --w->refs;
	pthread_mutex_unlock(&w->lock);
	if (refs > 0)
		return;
	if (w->payload_free)
		w->payload_free(w->payload);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->cond);
	free(w);
}

void waiter_abandon(struct waiter *w)
{
	waiter_put(w);
	waiter_put(w);
}

void waiter_finish(struct waiter *w, int status)
{
	pthread_mutex_lock(&w->lock);
	w->status = status;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
	waiter_put(w);
}

int waiter_wait(struct waiter *w, uint64_t timeout_ms)
{
	struct timespec deadline;
	int status;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += (time_t)(timeout_ms / 1000);
	deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&w->lock);
	while (w->status == WAITER_PENDING)
		if (pthread_cond_timedwait(&w->cond, &w->lock, &deadline) == ETIMEDOUT)
			break;
	status = w->status;
	pthread_mutex_unlock(&w->lock);
	return status;
}

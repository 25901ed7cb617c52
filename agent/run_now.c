/* run_now.c — the admin API's "run this check now" (run_now.h): a server
 * thread asks the loop that owns the check, and waits for the result. */
#include <stdbool.h>
#include <stdlib.h>

#include "conf/conf.h"
#include "core/loop.h"
#include "core/util.h"
#include "core/waiter.h"
#include "run_now.h"
#include "sched.h"
#include "shard.h"
#include "web/snapshot.h"

/* What a server thread asks of the loop, and the result it gets back
 * (through a waiter: status 0 done, -1 no such check, -2 stopping). */
struct run_request {
	const bool *stopping;           /* the agent's */
	struct sched *sched;            /* the check's owner, on whose loop the run starts */
	char name[80];
	bool has_result;
	struct probe_result result;
};

static void run_request_free(void *p)
{
	struct run_request *req = p;

	if (req->has_result)
		probe_result_clear(&req->result);
	free(req);
}

static void run_request_done(const struct probe_result *r, void *arg)
{
	struct waiter *w = arg;
	struct run_request *req = waiter_payload(w);

	probe_result_copy(&req->result, r);
	req->has_result = true;
	waiter_finish(w, 0);
}

static void run_request_start(struct loop *l, void *arg)
{
	struct waiter *w = arg;
	struct run_request *req = waiter_payload(w);

	if (__atomic_load_n(req->stopping, __ATOMIC_RELAXED))
		waiter_finish(w, -2);
	else if (sched_run_now(req->sched, req->name, run_request_done, w) != 0)
		waiter_finish(w, -1);
}

int run_now(struct shards *sh, const bool *stopping, const char *name, struct probe_result *out)
{
	struct run_request *req;
	struct waiter *w;
	const struct check *c;
	struct snapshot *snap = snapshot_acquire();
	struct sched *owner = NULL;
	struct loop *owner_loop = NULL;
	uint64_t wait_ms = 15000;
	int status;

	/* Bound the wait by what the run can take, from the config in force. */
	c = snap ? conf_find_check(snap->conf, name) : NULL;
	if (c) {
		wait_ms = c->timeout_ms * (uint64_t)(c->retries + 1) +
		          c->retry_interval_ms * (uint64_t)c->retries + 5000;
		owner = shards_sched_for(sh, c, &owner_loop);
	}
	if (snap)
		snapshot_release(snap);
	if (!c)
		return -1;

	req = xcalloc(1, sizeof(*req));
	req->stopping = stopping;
	req->sched = owner;
	util_strlcpy(req->name, name, sizeof(req->name));
	w = waiter_new(req, run_request_free);
	if (loop_post(owner_loop, run_request_start, w) != 0) {
		waiter_abandon(w);
		return -2;
	}
	status = waiter_wait(w, wait_ms);
	if (status == 0)
		probe_result_copy(out, &req->result);
	waiter_put(w);
	return status == WAITER_PENDING ? -2 : status;
}

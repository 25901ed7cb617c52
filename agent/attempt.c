/* attempt.c — one run of a check with its retries, shared by the scheduler
 * and `pharos probe`. */
#include <stdlib.h>

#include "core/log.h"
#include "core/util.h"
#include "attempt.h"

struct attempt {
	const struct probe_env *env;
	const struct check *check;
	attempt_done_fn *done;
	void *arg;
	struct probe_run *run;          /* in flight, or NULL while waiting to retry */
	struct loop_timer retry_timer;
	int attempts;
	json_t *earlier_errors;         /* what each failed attempt before the last said */
	bool aborting;
};

static void attempt_probe_done(struct probe_run *run, struct probe_result *r, void *arg);

static void attempt_launch(struct attempt *a)
{
	a->attempts++;
	a->run = probe_start(a->env, a->check, attempt_probe_done, a);
}

static void attempt_retry_due(struct loop *l, struct loop_timer *t)
{
	attempt_launch(t->arg);
}

static void attempt_complete(struct attempt *a, struct probe_result *r)
{
	r->attempts = a->attempts;
	if (a->earlier_errors) {
		probe_result_detail(r, "earlier_attempts", a->earlier_errors);
		a->earlier_errors = NULL;
	}
	a->done(r, a->arg);
	free(a);
}

static void attempt_probe_done(struct probe_run *run, struct probe_result *r, void *arg)
{
	struct attempt *a = arg;

	a->run = NULL;
	if (r->ok || a->aborting || a->attempts > a->check->retries) {
		attempt_complete(a, r);
		return;
	}
	if (!a->earlier_errors)
		a->earlier_errors = json_array();
	json_array_append_new(a->earlier_errors,
		json_pack("{s:s, s:s}", "error", probe_error_name(r->error), "message", r->message));
	log_debug("attempt failed, retrying", "check", a->check->name, "run_id", r->run_id,
	          "error", probe_error_name(r->error));
	loop_timer_start(a->env->loop, &a->retry_timer, a->check->retry_interval_ms);
}

struct attempt *attempt_start(const struct probe_env *env, const struct check *c,
                              attempt_done_fn *done, void *arg)
{
	struct attempt *a = xcalloc(1, sizeof(*a));

	a->env = env;
	a->check = c;
	a->done = done;
	a->arg = arg;
	loop_timer_init(&a->retry_timer, attempt_retry_due, a);
	attempt_launch(a);
	return a;
}

void attempt_abort(struct attempt *a)
{
	a->aborting = true;
	if (a->run) {
		probe_abort(a->run);       /* calls attempt_probe_done, which frees a */
		return;
	}
	/* Waiting between attempts: the last attempt failed; report it aborted. */
	struct probe_result r;
	loop_timer_stop(a->env->loop, &a->retry_timer);
	probe_result_init(&r);
	probe_result_fail(&r, PROBE_ERR_ABORTED, "agent stopping before retry %d of %d",
	                  a->attempts, a->check->retries);
	r.duration_us = 0;
	attempt_complete(a, &r);
	probe_result_clear(&r);
}


/* probe.c — the life of one probe run, whatever its type: start, the overall
 * timeout, abort, and the single completion (done is called exactly once,
 * from the loop, never from inside probe_start). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "probes/probe.h"
#include "core/resolver.h"
#include "core/util.h"

/* One entry per check type, indexed by enum check_type. */
static const struct probe_ops *const probe_types[CHECK_TYPE_COUNT] = {
	[CHECK_HTTP] = &probe_http_ops,
	[CHECK_TCP] = &probe_tcp_ops,
	[CHECK_DNS] = &probe_dns_ops,
	[CHECK_TLS] = &probe_tls_ops,
	[CHECK_ICMP] = &probe_icmp_ops,
};

bool probe_resolved(struct probe_result *r, int status, const char *errmsg,
                    const struct resolver_addrs *addrs)
{
	if (status == 0 && addrs != NULL && addrs->n >= 1)
		return true;
	probe_result_fail(r, PROBE_ERR_DNS, "%s", errmsg && errmsg[0] ? errmsg : "DNS lookup failed");
	return false;
}

/* Microseconds since the run started (monotonic). */
int64_t probe_elapsed_us(const struct probe_run *run)
{
	return (int64_t)(util_mono_us() - run->start_mono_us);
}

/* Stops the timers, sets the duration and verdict, calls done, frees the run.
 * A run finishes once: a second call (a type finishing from inside its abort)
 * is ignored. */
void probe_finish(struct probe_run *run)
{
	struct loop *l = run->env->loop;

	if (run->finishing)
		return;
	run->finishing = 1;
	loop_timer_stop(l, &run->timeout);
	loop_timer_stop(l, &run->deferred);
	run->result.duration_us = run->latency_us > 0 ? run->latency_us : probe_elapsed_us(run);
	run->result.ok = run->result.error == PROBE_OK;
	if (log_enabled(LOG_DEBUG)) {
		char ms[32];

		snprintf(ms, sizeof(ms), "%.3f", (double)run->result.duration_us / 1000.0);
		log_debug("probe finished", "check", run->check->name, "run_id", run->result.run_id,
		          "type", run->ops ? run->ops->name : "?", "ok",
		          run->result.ok ? "true" : "false", "error",
		          probe_error_name(run->result.error), "duration_ms", ms);
	}
	if (run->done)
		run->done(run, &run->result, run->arg);
	probe_result_clear(&run->result);
	free(run);
}

/* The deferred timer: finishes a run whose start failed, from the loop. */
static void probe_on_deferred(struct loop *l, struct loop_timer *t)
{
	struct probe_run *run = t->arg;

	(void)l;
	probe_finish(run);
}

/* The overall timeout: abandon the type's work and report the phase it was
 * stuck in. ops->abort runs first so it can refine run->phase (the http probe
 * reads from libcurl how far the transfer got). */
static void probe_on_timeout(struct loop *l, struct loop_timer *t)
{
	struct probe_run *run = t->arg;
	char dur[32];

	(void)l;
	if (run->ops && run->impl)
		run->ops->abort(run);
	util_format_duration(run->check->timeout_ms, dur, sizeof(dur));
	probe_result_fail(&run->result, PROBE_ERR_TIMEOUT, "no answer within %s while %s", dur,
	                  run->phase ? run->phase : "running");
	probe_finish(run);
}

/* See probe.h. The run is allocated here and freed by probe_finish. */
struct probe_run *probe_start(const struct probe_env *env, const struct check *check,
                              probe_done_fn *done, void *arg)
{
	struct probe_run *run = xcalloc(1, sizeof(*run));

	run->env = env;
	run->check = check;
	run->done = done;
	run->arg = arg;
	probe_result_init(&run->result);
	run->start_mono_us = util_mono_us();
	run->phase = "starting";
	loop_timer_init(&run->timeout, probe_on_timeout, run);
	loop_timer_init(&run->deferred, probe_on_deferred, run);

	if ((int)check->type >= 0 && check->type < CHECK_TYPE_COUNT)
		run->ops = probe_types[check->type];
	if (run->ops == NULL) {
		probe_result_fail(&run->result, PROBE_ERR_INTERNAL, "check type %d has no probe",
		                  (int)check->type);
		goto deferred;
	}
	log_debug("probe starting", "check", check->name, "run_id", run->result.run_id, "type",
	          run->ops->name);
	if (check->timeout_ms > 0)
		loop_timer_start(env->loop, &run->timeout, check->timeout_ms);
	if (run->ops->start(run) < 0) {
		/* The type has released its state; make sure the result says why. */
		probe_result_fail(&run->result, PROBE_ERR_INTERNAL, "%s probe could not start",
		                  run->ops->name);
		if (run->impl) {
			/* Defensive: a type that kept state on failure still gets to free it. */
			run->ops->abort(run);
			run->impl = NULL;
		}
		goto deferred;
	}
	return run;

deferred:
	loop_timer_stop(env->loop, &run->timeout);
	loop_timer_start(env->loop, &run->deferred, 0);
	return run;
}

/* See probe.h: done runs before this returns. */
void probe_abort(struct probe_run *run)
{
	if (run == NULL || run->finishing)
		return;
	/* A run waiting on its deferred finish has no type state left. */
	if (run->ops && run->impl && !loop_timer_active(&run->deferred))
		run->ops->abort(run);
	probe_result_fail(&run->result, PROBE_ERR_ABORTED, "aborted while %s (agent stopping)",
	                  run->phase ? run->phase : "running");
	probe_finish(run);
}

/* probe.c — the life of one probe run, whatever its type: start (through
 * the check's type descriptor), the overall timeout and abort. The single
 * completion, which the types call too, is in probe_run.c (done is called
 * exactly once, from the loop, never from inside probe_start). */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "probes/probe.h"
#include "core/resolver.h"
#include "core/util.h"

/* The deferred timer: finishes a run whose start failed, from the loop. */
static void probe_on_deferred(struct loop *l, struct loop_timer *t)
{
	struct probe_run *run = t->arg;

	(void)l;
	probe_finish(run);
}

/* The overall timeout: abandon the type's work and report the phase it was
 * stuck in. The type's abort runs first so it can refine run->phase (the http probe
 * reads from libcurl how far the transfer got). */
static void probe_on_timeout(struct loop *l, struct loop_timer *t)
{
	struct probe_run *run = t->arg;
	char dur[32];

	(void)l;
	if (run->type && run->impl)
		run->type->abort(run);
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

	run->type = probe_type_of(check);
	if (run->type == NULL || run->type->start == NULL) {
		probe_result_fail(&run->result, PROBE_ERR_INTERNAL, "check type %d has no probe",
		                  (int)check->type);
		goto deferred;
	}
	log_debug("probe starting", "check", check->name, "run_id", run->result.run_id, "type",
	          run->type->name);
	if (check->timeout_ms > 0)
		loop_timer_start(env->loop, &run->timeout, check->timeout_ms);
	if (run->type->start(run) < 0) {
		/* The type has released its state; make sure the result says why. */
		probe_result_fail(&run->result, PROBE_ERR_INTERNAL, "%s probe could not start",
		                  run->type->name);
		if (run->impl) {
			/* Defensive: a type that kept state on failure still gets to free it. */
			run->type->abort(run);
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
	if (run->type && run->impl && !loop_timer_active(&run->deferred))
		run->type->abort(run);
	probe_result_fail(&run->result, PROBE_ERR_ABORTED, "aborted while %s (agent stopping)",
	                  run->phase ? run->phase : "running");
	probe_finish(run);
}

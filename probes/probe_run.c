/* probe_run.c — what a run's type calls while it works: the time since the
 * run started, the verdict of its DNS lookup, and its single completion
 * (probe_finish). Knows no type: the types call it, and probe.c starts them. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/log.h"
#include "probes/probe_run.h"
#include "probes/probe_type.h"
#include "core/resolver.h"
#include "core/util.h"

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
		          "type", run->type ? run->type->name : "?", "ok",
		          run->result.ok ? "true" : "false", "error",
		          probe_error_name(run->result.error), "duration_ms", ms);
	}
	/* The one place a result leaves the probe: no secret gets past it. */
	probe_result_mask(&run->result);
	if (run->done)
		run->done(run, &run->result, run->arg);
	probe_result_clear(&run->result);
	free(run);
}

int probe_source_family(const struct probe_env *env)
{
	unsigned char buf[sizeof(struct in6_addr)];

	if (env->source_address == NULL)
		return AF_UNSPEC;
	return inet_pton(AF_INET, env->source_address, buf) == 1 ? AF_INET : AF_INET6;
}

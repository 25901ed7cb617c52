/* probe_run.h — one probe run as the check types see it: the environment
 * it may use, its state, and what a type calls while it works (probe_run.c).
 * Knows no type: the types include this, and probe.c starts them. */
#ifndef PHAROS_PROBE_RUN_H
#define PHAROS_PROBE_RUN_H

#include <stdbool.h>
#include <stdint.h>

#include "probes/check.h"
#include "core/loop.h"
#include "probes/result.h"

struct loop;
struct curlm;
struct resolver;

/* What a probe may use. Owned by the caller; outlives every run. */
struct probe_env {
	struct loop *loop;
	struct curlm *curlm;
	struct resolver *resolver;      /* system resolver for host names */
	const char *source_address;     /* agent.source_address: every probe is sent from
	                                   it (an IP literal); NULL: the system's choice */
};

/* AF_INET or AF_INET6 when env has a source address of that family (host
 * names are then resolved to that family only), else AF_UNSPEC. */
int probe_source_family(const struct probe_env *env);

struct probe_run;
typedef void probe_done_fn(struct probe_run *run, struct probe_result *result, void *arg);

struct probe_run {
	const struct probe_env *env;
	const struct check *check;
	struct probe_result result;
	uint64_t start_mono_us;
	const char *phase;          /* what the run is doing now, for timeout messages */
	void *impl;                 /* the type's state */
	/* The run's latency when a type measures it apart from its own pacing
	 * (icmp: the average round trip, not the spacing between echoes); 0:
	 * the whole run. probe_finish makes it the result's duration. */
	int64_t latency_us;
	/* private to probe.c */
	const struct probe_type *type;  /* the check's type: start and abort */
	probe_done_fn *done;
	void *arg;
	int finishing;
	struct loop_timer timeout;
	struct loop_timer deferred;   /* finishes a run that failed to start */
};

/* Called by a type when its work is over (success or failure already set in
 * run->result): stops the timeout, fills duration, calls done, frees the run.
 * The type must have released run->impl before. */
void probe_finish(struct probe_run *run);

/* Microseconds since the run started. */
int64_t probe_elapsed_us(const struct probe_run *run);

/* For a type's resolver_lookup callback: true when the lookup gave at least
 * one address; otherwise fails r as PROBE_ERR_DNS in the resolver's words. */
struct resolver_addrs;
bool probe_resolved(struct probe_result *r, int status, const char *errmsg,
                    const struct resolver_addrs *addrs);

#endif

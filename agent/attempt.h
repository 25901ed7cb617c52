/* attempt.h — one run of a check with its retries, shared by the scheduler
 * and `pharos probe`. */
#ifndef PHAROS_ATTEMPT_H
#define PHAROS_ATTEMPT_H

#include "probes/probe.h"

typedef void attempt_done_fn(struct probe_result *r, void *arg);
/* Runs c, retrying a failed run c->retries times c->retry_interval_ms apart;
 * done gets the last attempt's result with attempts set. Never fails; done is
 * called from the loop. The returned handle is valid until done is called. */
struct attempt;
struct attempt *attempt_start(const struct probe_env *env, const struct check *c,
                              attempt_done_fn *done, void *arg);
/* Aborts: done is called before this returns with PROBE_ERR_ABORTED. */
void attempt_abort(struct attempt *a);

#endif

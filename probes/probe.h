/* probe.h — running one check once, asynchronously on the event loop.
 *
 *   run = probe_start(&env, check, on_done, arg);
 *   ... on_done(run, result, arg) is called exactly once, on the loop thread,
 *   never from inside probe_start; the run is freed right after on_done returns.
 *
 * The overall timeout (check->timeout_ms) is enforced here for every type: when
 * it expires the type's run is abandoned and the result is PROBE_ERR_TIMEOUT
 * with the phase it was in ("no answer within 5s while connecting").
 *
 * Each check type has its descriptor (struct probe_type, probe_type.h) in its
 * own file (http.c, tcp.c, dns.c, ...), listed in the table in types.c; a run
 * calls the descriptor's start and abort. The types build on probe_run.h (the
 * run they work on), never on this file, which starts them through the table. */
#ifndef PHAROS_PROBE_H
#define PHAROS_PROBE_H

#include "probes/check.h"
#include "probes/dns.h"
#include "probes/http_steps.h"
#include "probes/icmp.h"
#include "probes/probe_run.h"
#include "probes/probe_type.h"
#include "core/loop.h"
#include "probes/result.h"

/* Never fails: a run that cannot start completes (from the loop) with a
 * failed result. check must stay valid until done has been called. */
struct probe_run *probe_start(const struct probe_env *env, const struct check *check,
                              probe_done_fn *done, void *arg);

/* Abandons the run: done is called before this returns, with PROBE_ERR_ABORTED. */
void probe_abort(struct probe_run *run);

#endif

/* heartbeat.h — the push endpoint of heartbeat checks
 * (`GET|POST /api/v1/push/NAME[/fail]`) and the hand-over of a ping from a
 * server thread to the loop, where the scheduler records it. The type
 * itself (token and body handling, lateness) is probes/heartbeat.h, included
 * here so callers keep one header. */
#ifndef PHAROS_HEARTBEAT_H
#define PHAROS_HEARTBEAT_H

#include <stdbool.h>
#include <stddef.h>

#include "probes/heartbeat.h"

#define HEARTBEAT_WAIT_MS 2000      /* how long a push waits for the loop to apply it */

struct loop;
struct sched;
struct api_request;
struct api_response;

/* --- from a server thread to the loop ---------------------------------------- */

/* Posts a ping for heartbeat check name to the loop, where
 * sched_heartbeat_ping() records it, and waits up to HEARTBEAT_WAIT_MS for it
 * to be applied. message is the body text ("" when none). Returns 0 with the
 * check's new state name ("up", "down", "blocked") in state, 1 when the ping
 * is queued but was not applied within the wait (state: what it will be), -1
 * when there is no such heartbeat check, -2 when the agent is stopping.
 * Called on a server thread; never on the loop thread. */
int heartbeat_deliver(struct loop *l, struct sched *s, const char *name, bool fail,
                      const char *message, bool truncated, char *state, size_t state_len);

/* The route handler of GET|POST /api/v1/push/NAME and /api/v1/push/NAME/fail
 * (see api.h for the handler shape): 404 for an unknown or non-heartbeat
 * check, 401 without a token, 403 with a wrong one, else 200
 * {"ok": true, "check": NAME, "state": STATE}. Every attempt is logged,
 * never with the token. */
void heartbeat_api_push(struct api_request *rq, struct api_response *rs);

#endif

/* waiter.h — a reply slot for handing work from one thread to another and
 * waiting, with a deadline, for its outcome: an HTTP server thread posts a
 * request to the loop (or the writer) and blocks until the other side calls
 * waiter_finish(), or gives up. The slot is reference-counted, one reference
 * per side, and freed by whichever lets go last, so a waiter that gave up
 * leaves nothing dangling for the side that finishes later.
 *
 *   struct waiter *w = waiter_new(payload, payload_free);
 *   if (loop_post(l, work, w) != 0) { waiter_abandon(w); ... }   // never handed over
 *   status = waiter_wait(w, timeout_ms);  // WAITER_PENDING on timeout
 *   ... read the payload only when status != WAITER_PENDING ...
 *   waiter_put(w);
 *
 *   work():  fill waiter_payload(w); waiter_finish(w, status);
 */
#ifndef PHAROS_WAITER_H
#define PHAROS_WAITER_H

#include <stdint.h>

#define WAITER_PENDING 1

struct waiter;

/* A slot with two references (waiting side, finishing side) and status
 * WAITER_PENDING. payload (may be NULL) is freed with payload_free (may be
 * NULL) when the last reference goes. */
struct waiter *waiter_new(void *payload, void (*payload_free)(void *payload));
void *waiter_payload(const struct waiter *w);

/* Finishing side: records status (not WAITER_PENDING), wakes the waiter and
 * drops the finishing side's reference. Writes to the payload before this
 * call are visible to the waiter after waiter_wait returns. */
void waiter_finish(struct waiter *w, int status);

/* Waiting side: blocks until finished or timeout_ms passed. Returns the
 * status, or WAITER_PENDING on timeout (the payload must then not be read). */
int waiter_wait(struct waiter *w, uint64_t timeout_ms);

/* Drops one reference. */
void waiter_put(struct waiter *w);

/* The work was never handed to the finishing side: drops both references. */
void waiter_abandon(struct waiter *w);

#endif

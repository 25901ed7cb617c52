/* backlog.h — the bound on what a probe thread handed to the main loop and
 * the main loop has not taken yet (shard.c).
 *
 * Why: a probe thread hands every finished result to the main loop, which
 * records it (store, alert engine, snapshot). When the main loop falls
 * behind, those results pile up: one 1,000,000-check run reached 7.2 GB.
 * A finished result is never dropped, so the bound acts on what comes
 * before it: once a thread's backlog reaches max_results or max_bytes, the
 * thread holds its runs (sched_hold_runs: overload, SPEC §2.0.1) until the
 * main loop has taken it down to half of both.
 *
 * Two threads touch it: the probe thread adds and holds/releases, the main
 * loop takes. Every field is accessed atomically (sequentially consistent):
 * a thread that holds re-checks the level after saying so, and the main
 * loop reads `held` after taking, so one of them always sees the other and
 * a hold never outlives its backlog. */
#ifndef PHAROS_BACKLOG_H
#define PHAROS_BACKLOG_H

#include <stdbool.h>
#include <stddef.h>

struct backlog {
	size_t max_results, max_bytes;  /* hold at either (fixed after init) */
	size_t results, bytes;          /* handed over, not yet taken */
	bool held;                      /* the probe thread holds its runs */
	bool release_asked;             /* the main loop asked it to let go (backlog_take) */
};

void backlog_init(struct backlog *b, size_t max_results, size_t max_bytes);

/* Probe thread: one result of bytes joins the backlog. True when the
 * thread must hold its runs now (the bound is reached and it did not hold);
 * it then calls backlog_release_due at once, as the main loop may have
 * caught up meanwhile. */
bool backlog_add(struct backlog *b, size_t bytes);

/* Main loop: one result of bytes was taken. True when the probe thread
 * holds, the backlog is down to half the bound and nobody asked it to let
 * go yet: the caller asks (posts a call of backlog_release_due to it). */
bool backlog_take(struct backlog *b, size_t bytes);

/* Probe thread: true when it held and may start runs again (the backlog is
 * down to half the bound); it does not hold any more then. */
bool backlog_release_due(struct backlog *b);

/* Results waiting for the main loop (any thread). */
size_t backlog_results(const struct backlog *b);

#endif

/* admit.h — admission of check runs on one loop: how many runs may be in
 * flight at once, and the queue of runs that fell due while that many were.
 *
 * Why: a loop has a ceiling of runs it can serve per second. Runs started
 * beyond it wait inside the agent for their socket events, their timeout
 * expires there, and the target is blamed for the agent's load (SPEC
 * §2.0.1). So a run starts only while fewer than `limit` are in flight;
 * otherwise it waits in a FIFO until a slot frees, and a run still waiting
 * at its deadline (the latest start that leaves its full timeout before the
 * check is due again) is skipped and counted, never sent late.
 *
 * The limit adapts to the loop, window by window (ADMIT_WINDOW_MS): when
 * the loop was busy nearly all the window (it did not get back to
 * epoll_wait), fewer runs are let in; when it had room and runs waited,
 * more. It settles at about the fewest runs in flight that keep the loop
 * near full use, which is also where each run waits least for the loop.
 *
 * Admission can also be held (admit_hold): with several probe threads, a
 * thread whose results the main loop has not taken yet (shard.c) starts no
 * run until it catches up. Runs that fall due meanwhile wait in the FIFO
 * like any others, and those still waiting at their deadline are skipped
 * for overload: a finished result is never dropped, a run is not started.
 *
 * Pure bookkeeping: no clock, no loop; the caller passes the time and the
 * loop's busy counter. Single-threaded (the owning loop's thread). */
#ifndef PHAROS_ADMIT_H
#define PHAROS_ADMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ADMIT_WINDOW_MS 250         /* control period of the limit */
#define ADMIT_LIMIT_MIN 16          /* never fewer runs in flight than this */
#define ADMIT_LIMIT_START 256       /* first limit; grows within seconds when the loop has room */
#define ADMIT_LIMIT_MAX 1000000
#define ADMIT_BUSY_HIGH 0.90        /* loop busy share above which fewer runs are let in */
#define ADMIT_BUSY_LOW 0.75         /* ... and below which more are, when runs waited */
#define ADMIT_OVERLOAD_HOLD_MS 5000 /* "overloaded" lasts this long after the last skip */

/* One waiting run; embedded by the caller (the scheduler entry). */
struct admit_item {
	struct admit_item *prev, *next;
	void *arg;                      /* the caller's: what waits */
	uint64_t due_ms;                /* when the run fell due (for its lag) */
	uint64_t deadline_ms;           /* latest start that keeps its full timeout */
	bool queued;
};

struct admit {
	size_t limit;                   /* runs allowed in flight now */
	size_t inflight;                /* admitted runs not yet released */
	struct admit_item *head, *tail; /* waiting runs, oldest first */
	size_t queued;
	uint64_t skipped;               /* runs skipped for overload (counted here) */
	uint64_t last_skip_ms;          /* 0: never */
	/* the current control window */
	uint64_t window_start_ms;
	uint64_t window_busy_us;        /* the loop's busy counter at window start */
	bool window_waited;             /* a run had to wait during the window */
	bool held;                      /* admit_hold: no run starts */
};

void admit_init(struct admit *a, uint64_t now_ms, uint64_t busy_us);

/* Takes a slot for a run that just fell due: true (inflight grows) when one
 * is free and nobody is waiting ahead, false when the run must wait. */
bool admit_try(struct admit *a);
/* Holds admission (no run starts, the agent counts as overloaded) or lets
 * it go again; the caller then starts what admit_next gives. */
void admit_hold(struct admit *a, bool held);

/* Gives back the slot of a run that finished. */
void admit_release(struct admit *a);

/* Queues a run that could not start (admit_try was false). A deadline
 * already past skips it at once (counted); returns false then. */
bool admit_enqueue(struct admit *a, struct admit_item *it, uint64_t due_ms,
                   uint64_t deadline_ms, uint64_t now_ms);
/* Takes a queued run out without counting it (check removed, agent stopping). */
void admit_cancel(struct admit *a, struct admit_item *it);
/* Takes a queued run out and counts it skipped (its next tick came first). */
void admit_skip(struct admit *a, struct admit_item *it, uint64_t now_ms);
/* Counts n runs skipped for overload that never reached the queue (ticks a
 * stalled loop passed over). */
void admit_count_skipped(struct admit *a, uint64_t n, uint64_t now_ms);

/* The next queued run that may start now, with its slot taken; NULL when no
 * slot is free, admission is held or nobody waits. Runs whose deadline
 * passed are skipped on the way (counted). */
struct admit_item *admit_next(struct admit *a, uint64_t now_ms);

/* Adapts the limit when a window is over; cheap, call it often (every tick
 * and every completion). busy_us: the loop's cumulative busy time. */
void admit_adjust(struct admit *a, uint64_t now_ms, uint64_t busy_us);

/* True while runs are being shed: admission is held, or a run was skipped
 * for overload within the last ADMIT_OVERLOAD_HOLD_MS. */
bool admit_overloaded(const struct admit *a, uint64_t now_ms);

/* The latest start of a run due at due_ms that still leaves it its whole
 * timeout before the check is due again (due + interval - timeout; the due
 * time itself when the timeout fills the interval). */
uint64_t admit_deadline(uint64_t due_ms, uint64_t interval_ms, uint64_t timeout_ms);

#endif

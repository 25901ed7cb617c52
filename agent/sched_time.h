/* sched_time.h — the scheduler's pure arithmetic: first and next due times,
 * and percentiles of the run-lag histogram. Needs nothing of the scheduler. */
#ifndef PHAROS_SCHED_TIME_H
#define PHAROS_SCHED_TIME_H

#include <stdint.h>

#include "web/snapshot.h"

/* --- pure schedule arithmetic (unit-tested) -------------------------------- */

/* First due time of a check: now + a stable offset in [0, interval). */
uint64_t sched_first_due(uint64_t now_ms, uint64_t interval_ms, const char *name);
/* The next due time after a tick due at prev_due: the first prev_due +
 * k·interval (k >= 1) that is later than now_ms - interval_ms, so a loop
 * that stalled skips the ticks it missed instead of running them in a burst.
 * *skipped receives how many ticks were passed over. */
uint64_t sched_next_due(uint64_t prev_due, uint64_t interval_ms, uint64_t now_ms,
                        uint64_t *skipped);

/* --- lag statistics -------------------------------------------------------- */

#define SCHED_LAG_BUCKETS SNAPSHOT_LAG_BUCKETS
/* Upper bounds in seconds of the lag histogram buckets (the last is +Inf);
 * they live with the snapshot, which carries the histogram to /metrics. */
#define sched_lag_bounds snapshot_lag_bounds

/* Percentile p (0..1) from non-cumulative bucket counts, interpolated
 * linearly inside the bucket; 0 when empty. */
double sched_lag_percentile(const uint64_t *buckets, double p);

#endif

/* sched_view.h — what readers see of the schedulers: the statistics one
 * scheduler keeps (struct sched_stats), their sum across schedulers, and the
 * check states derived from a filled snapshot. Pure functions of what the
 * schedulers copied out; needs nothing of the scheduler itself, which builds
 * on this header (sched.h includes it). */
#ifndef PHAROS_SCHED_VIEW_H
#define PHAROS_SCHED_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sched_time.h"
#include "web/snapshot.h"

struct sched_stats {
	uint64_t runs;                  /* runs started by the schedule */
	uint64_t skipped;               /* runs skipped, for either reason below */
	uint64_t skipped_overload;      /* could not start in time (admission, stalled loop) */
	uint64_t skipped_overlap;       /* the previous run of the check still in flight */
	bool overloaded;                /* shedding runs now (admit_overloaded) */
	size_t admit_limit;             /* runs allowed in flight now */
	size_t admit_queued;            /* runs waiting for a slot now */
	uint64_t lag_count;
	double lag_sum_s;
	uint64_t lag_buckets[SCHED_LAG_BUCKETS];   /* not cumulative */
	uint64_t window_buckets[SCHED_LAG_BUCKETS]; /* lag of the last full minute (or the current one) */
	double lag_p50_ms, lag_p99_ms;  /* over that minute */
	bool on_time;                   /* lag p99 of that minute under 1 s */
};

/* Derives every filled check's state from its last run: up, down, or
 * blocked when a dependency's last run failed too, across schedulers
 * (after sched_snapshot_fill of each). */
void sched_snapshot_states(struct snapshot *snap);

/* Adds x to sum (counters, buckets; overloaded when either is) and
 * recomputes sum's percentiles. */
void sched_stats_add(struct sched_stats *sum, const struct sched_stats *x);
/* Percentiles and on_time from window_buckets. */
void sched_stats_finish(struct sched_stats *st);

#endif

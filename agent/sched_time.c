/* sched_time.c — the scheduler's pure arithmetic: when a check is first due
 * (spread over its interval by a hash of its name), the next due time over
 * missed ticks, and the percentiles of the run-lag histogram. No loop, no
 * state: unit-testable on its own. */
#include "core/util.h"
#include "sched_time.h"

uint64_t sched_first_due(uint64_t now_ms, uint64_t interval_ms, const char *name)
{
	if (interval_ms == 0)
		return now_ms;
	return now_ms + util_hash64(name) % interval_ms;
}

uint64_t sched_next_due(uint64_t prev_due, uint64_t interval_ms, uint64_t now_ms,
                        uint64_t *skipped)
{
	uint64_t next = prev_due + interval_ms;
	uint64_t missed = 0;

	/* A tick is missed when its whole interval has already passed: running it
	 * now would bunch runs together. Jump over those in one step. */
	if (interval_ms > 0 && now_ms >= next + interval_ms) {
		missed = (now_ms - next) / interval_ms;
		next += missed * interval_ms;
	}
	if (skipped)
		*skipped = missed;
	return next;
}

double sched_lag_percentile(const uint64_t *buckets, double p)
{
	uint64_t total = 0, seen = 0;

	for (int i = 0; i < SCHED_LAG_BUCKETS; i++)
		total += buckets[i];
	if (total == 0)
		return 0;
	double rank = p * (double)total;
	for (int i = 0; i < SCHED_LAG_BUCKETS; i++) {
		if (buckets[i] == 0)
			continue;
		if ((double)(seen + buckets[i]) >= rank) {
			double lo = i == 0 ? 0 : sched_lag_bounds[i - 1];
			double hi = i == SCHED_LAG_BUCKETS - 1 ? lo * 2 : sched_lag_bounds[i];
			double frac = (rank - (double)seen) / (double)buckets[i];
			if (frac < 0)
				frac = 0;
			return (lo + (hi - lo) * frac) * 1000.0;
		}
		seen += buckets[i];
	}
	return sched_lag_bounds[SCHED_LAG_BUCKETS - 2] * 1000.0;
}

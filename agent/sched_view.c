/* sched_view.c — what readers see of the schedulers, put together: check
 * states derived across schedulers (several probe threads, shard.h) and
 * their statistics summed. Pure functions of what the schedulers copied out
 * (sched_snapshot_fill, sched_get_stats). */
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "sched_view.h"

struct name_index {
	const char *name;
	size_t i;
};

static int name_index_cmp(const void *a, const void *b)
{
	return strcmp(((const struct name_index *)a)->name, ((const struct name_index *)b)->name);
}

/* Sets each filled check's state from its last run: up, down, or blocked
 * when a dependency's last run failed too (whichever thread ran it). The
 * name index is built only when some failing check has dependencies. */
void sched_snapshot_states(struct snapshot *snap)
{
	struct name_index *idx = NULL;

	for (size_t i = 0; i < snap->n_checks; i++) {
		struct snapshot_check *sc = &snap->checks[i];

		if (!sc->has_last)
			continue;
		sc->state = sc->last_ok ? CHECK_STATE_UP : CHECK_STATE_DOWN;
		if (sc->last_ok || sc->check->n_depends_on == 0)
			continue;
		if (idx == NULL) {
			idx = xmalloc(snap->n_checks * sizeof(*idx));
			for (size_t j = 0; j < snap->n_checks; j++)
				idx[j] = (struct name_index){ snap->checks[j].check->name, j };
			qsort(idx, snap->n_checks, sizeof(*idx), name_index_cmp);
		}
		for (size_t d = 0; d < sc->check->n_depends_on; d++) {
			struct name_index key = { sc->check->depends_on[d], 0 }, *hit;
			const struct snapshot_check *dep;

			hit = bsearch(&key, idx, snap->n_checks, sizeof(*idx), name_index_cmp);
			dep = hit ? &snap->checks[hit->i] : NULL;
			if (dep != NULL && dep != sc && dep->has_last && !dep->last_ok) {
				sc->state = CHECK_STATE_BLOCKED;
				sc->blocked_by = sc->check->depends_on[d];
				break;
			}
		}
	}
	free(idx);
}

void sched_stats_add(struct sched_stats *sum, const struct sched_stats *x)
{
	sum->runs += x->runs;
	sum->skipped += x->skipped;
	sum->skipped_overload += x->skipped_overload;
	sum->skipped_overlap += x->skipped_overlap;
	sum->overloaded = sum->overloaded || x->overloaded;
	sum->admit_limit += x->admit_limit;
	sum->admit_queued += x->admit_queued;
	sum->lag_count += x->lag_count;
	sum->lag_sum_s += x->lag_sum_s;
	for (int b = 0; b < SCHED_LAG_BUCKETS; b++) {
		sum->lag_buckets[b] += x->lag_buckets[b];
		sum->window_buckets[b] += x->window_buckets[b];
	}
	sched_stats_finish(sum);
}

void sched_stats_finish(struct sched_stats *st)
{
	st->lag_p50_ms = sched_lag_percentile(st->window_buckets, 0.50);
	st->lag_p99_ms = sched_lag_percentile(st->window_buckets, 0.99);
	st->on_time = st->lag_p99_ms < 1000.0;
}

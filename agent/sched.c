/* sched.c — fixed-rate scheduling of checks on the loop, the admission of
 * their runs (admit.h), and the per-check runtime state the snapshot is
 * built from.
 *
 * Threads: a scheduler lives on one loop and only that loop's thread
 * changes it (entries, counters, admission), always under s->lock; that
 * thread reads without the lock. Another thread (the publisher, with
 * several probe threads: shard.c) reads only through sched_snapshot_fill
 * and sched_get_stats, which take the lock. No callback is called with the
 * lock held. The heartbeat checks' part: sched_parts.c. */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fleet.h"
#include "core/log.h"
#include "core/loop.h"
#include "sched_impl.h"
#include "core/util.h"

/* --- the scheduler ----------------------------------------------------------- */

/* Entries sched_snapshot_fill copies per hold of the lock: a few
 * milliseconds, so a probe thread's timers never wait behind a whole copy
 * (500,000 entries a thread at 1,000,000 checks: ~100 ms), and it is let in
 * a few dozen times per copy, not hundreds (each time it sleeps on the lock
 * and is woken, which on a busy machine costs milliseconds of its own). */
#define SCHED_FILL_CHUNK 16384

/* The loop's thread takes s->lock through here: a reader copying the
 * entries (sched_snapshot_fill) sees it waiting and lets it in between two
 * chunks. */
static void sched_lock(struct sched *s)
{
	if (pthread_mutex_trylock(&s->lock) == 0)
		return;
	__atomic_add_fetch(&s->lock_waiters, 1, __ATOMIC_SEQ_CST);
	pthread_mutex_lock(&s->lock);
	__atomic_sub_fetch(&s->lock_waiters, 1, __ATOMIC_SEQ_CST);
}

/* A reader holding s->lock between two chunks: lets the loop's thread in
 * when it waits (a mutex is not fair: unlocking and locking again would
 * mostly win over a waiter being woken). */
static void sched_lock_yield(struct sched *s)
{
	if (__atomic_load_n(&s->lock_waiters, __ATOMIC_SEQ_CST) == 0)
		return;
	pthread_mutex_unlock(&s->lock);
	while (__atomic_load_n(&s->lock_waiters, __ATOMIC_SEQ_CST) > 0)
		sched_yield();
	pthread_mutex_lock(&s->lock);
}

static int entry_cmp(const void *a, const void *b)
{
	const struct sched_entry *const *x = a, *const *y = b;
	return strcmp((*x)->name, (*y)->name);
}

static int entry_key_cmp(const void *key, const void *elem)
{
	const struct sched_entry *const *e = elem;
	return strcmp(key, (*e)->name);
}

struct sched_entry *sched_find(const struct sched *s, const char *name)
{
	struct sched_entry **e = s->n_entries == 0 ? NULL :
		bsearch(name, s->entries, s->n_entries, sizeof(*s->entries), entry_key_cmp);
	return e ? *e : NULL;
}

struct sched *sched_new(const struct probe_env *env, sched_result_fn *fn, void *arg)
{
	struct sched *s = xcalloc(1, sizeof(*s));

	s->env = env;
	s->on_result = fn;
	s->arg = arg;
	s->window_start_ms = util_mono_ms();
	s->stats.on_time = true;
	admit_init(&s->admit, s->window_start_ms, loop_busy_us(env->loop));
	pthread_mutex_init(&s->lock, NULL);
	return s;
}

/* Sets e's last message (a copy of msg). */
void sched_entry_set_message(struct sched_entry *e, const char *msg)
{
	size_t len;

	if (e->last_message != NULL && strcmp(e->last_message, msg) == 0)
		return;     /* most runs repeat the last message ("HTTP 200 OK") */
	len = strlen(msg);
	if (e->last_message != e->msg_short)
		free(e->last_message);
	if (len < sizeof(e->msg_short)) {
		memcpy(e->msg_short, msg, len + 1);
		e->last_message = e->msg_short;
	} else {
		e->last_message = xstrdup(msg);
	}
}

static void entry_free(struct sched_entry *e)
{
	free(e->metrics.timing);
	free(e->name);
	if (e->last_message != e->msg_short)
		free(e->last_message);
	free(e);
}

void sched_free(struct sched *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n_entries; i++) {
		loop_timer_stop(s->env->loop, &s->entries[i]->timer);
		entry_free(s->entries[i]);
	}
	for (size_t i = 0; i < s->n_orphans; i++)
		entry_free(s->orphans[i]);
	free(s->entries);
	free(s->orphans);
	if (s->conf)
		conf_unref(s->conf);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

struct conf *sched_result_conf(const struct sched *s)
{
	return s->result_conf;
}

void sched_set_owner(struct sched *s, sched_owns_fn *fn, void *arg)
{
	s->owns = fn;
	s->owns_arg = arg;
}

/* Runs in flight, read from any thread (shutdown polls it). */
static void sched_inflight_add(struct sched *s, int d)
{
	if (d > 0)
		__atomic_add_fetch(&s->inflight, (size_t)d, __ATOMIC_RELAXED);
	else
		__atomic_sub_fetch(&s->inflight, (size_t)-d, __ATOMIC_RELAXED);
}

/* Lag of one started run, into the totals and the per-minute window.
 * s->lock held. */
static void sched_record_lag(struct sched *s, double lag_s)
{
	uint64_t now = loop_now(s->env->loop);
	int b = 0;

	if (now - s->window_start_ms >= 60000) {
		memcpy(s->window_prev, s->window_cur, sizeof(s->window_cur));
		memset(s->window_cur, 0, sizeof(s->window_cur));
		s->have_prev_window = true;
		s->window_start_ms = now;
	}
	while (b < SCHED_LAG_BUCKETS - 1 && lag_s > sched_lag_bounds[b])
		b++;
	s->stats.lag_buckets[b]++;
	s->stats.lag_count++;
	s->stats.lag_sum_s += lag_s;
	s->window_cur[b]++;
}

static void entry_record_locked(struct sched_entry *e, const struct probe_result *r)
{
	check_metrics_add(&e->metrics, r);
	e->has_last = true;
	e->last_ts_us = r->start_us;
	e->last_ok = r->ok;
	e->last_duration_us = r->duration_us;
	e->last_error = r->error;
	sched_entry_set_message(e, r->message);
	if (r->ok) {
		e->consecutive_successes++;
		e->consecutive_failures = 0;
	} else {
		e->consecutive_failures++;
		e->consecutive_successes = 0;
	}
}

/* Records a completed run into e's state. Takes s->lock. */
void sched_entry_record(struct sched_entry *e, const struct probe_result *r)
{
	sched_lock(e->s);
	entry_record_locked(e, r);
	pthread_mutex_unlock(&e->s->lock);
}

static void orphan_remove(struct sched *s, struct sched_entry *e)
{
	for (size_t i = 0; i < s->n_orphans; i++) {
		if (s->orphans[i] == e) {
			s->orphans[i] = s->orphans[--s->n_orphans];
			break;
		}
	}
	entry_free(e);
}

static void sched_admit_waiting(struct sched *s);

static void entry_run_done(struct probe_result *r, void *arg)
{
	struct sched_entry *e = arg;
	struct sched *s = e->s;
	struct conf *conf = e->run_conf;
	/* The result goes with a check and the conf that holds it. e->check is
	 * in s->conf while configured; once removed, it may be in a conf of an
	 * earlier reload already freed: the run's own check in its conf then. */
	const struct check *check = e->removed ? e->run_check : e->check;
	struct conf *check_conf = e->removed ? conf : s->conf;

	e->inflight = NULL;
	e->run_conf = NULL;
	sched_inflight_add(s, -1);
	sched_lock(s);
	admit_release(&s->admit);
	/* An aborted run says nothing about the target: keep the state as it was. */
	if (r->error != PROBE_ERR_ABORTED)
		entry_record_locked(e, r);
	pthread_mutex_unlock(&s->lock);
	s->result_conf = check_conf;
	s->on_result(check, r, false, s->arg);
	if (e->removed)
		orphan_remove(s, e);
	conf_unref(conf);
	sched_admit_waiting(s);
}

/* Starts the run of e that fell due at due_ms; its slot is taken. The lag
 * counts from due_ms, so time spent waiting for a slot shows there, while
 * the run's own timeout starts only now (probe_start). s->lock held (no
 * callback: a probe never completes from inside probe_start). */
static void entry_start_run(struct sched *s, struct sched_entry *e, uint64_t due_ms,
                            uint64_t now_us)
{
	double lag_s = now_us > due_ms * 1000 ? (double)(now_us - due_ms * 1000) / 1e6 : 0;

	sched_record_lag(s, lag_s);
	s->stats.runs++;
	e->run_conf = conf_ref(s->conf);
	e->run_check = e->check;
	sched_inflight_add(s, 1);
	e->inflight = attempt_start(s->env, e->check, entry_run_done, e);
}

/* Starts the waiting runs that slots are free for (after a run ended, or
 * the limit grew); those whose deadline passed are skipped on the way. */
static void sched_admit_waiting(struct sched *s)
{
	uint64_t now_us = util_mono_us();
	struct admit_item *it;

	if (s->stopping)
		return;
	sched_lock(s);
	admit_adjust(&s->admit, now_us / 1000, loop_busy_us(s->env->loop));
	while ((it = admit_next(&s->admit, now_us / 1000)) != NULL)
		entry_start_run(s, it->arg, it->due_ms, now_us);
	pthread_mutex_unlock(&s->lock);
}

void sched_hold_runs(struct sched *s, bool hold)
{
	sched_lock(s);
	admit_hold(&s->admit, hold);
	pthread_mutex_unlock(&s->lock);
	if (!hold)
		sched_admit_waiting(s);
}

/* Starts e's run due at due_ms now, or queues it for a slot (skipped when
 * the previous run is still in flight). s->lock held. */
static void entry_try_start(struct sched *s, struct loop *l, struct sched_entry *e, uint64_t due_ms,
                            uint64_t now_us)
{
	uint64_t now_ms = now_us / 1000;

	if (e->inflight) {
		s->stats.skipped_overlap++;
		log_debug("run skipped: previous run still in flight", "check", e->name);
		return;
	}
	/* Still waiting since the last tick: this one replaces it. */
	admit_skip(&s->admit, &e->wait, now_ms);
	admit_adjust(&s->admit, now_ms, loop_busy_us(l));
	if (admit_try(&s->admit))
		entry_start_run(s, e, due_ms, now_us);
	else
		admit_enqueue(&s->admit, &e->wait, due_ms,
		              admit_deadline(due_ms, e->check->interval_ms, e->check->timeout_ms), now_ms);
}

/* In a fleet, a run another agent owns is not a result and not a skip. An
 * "any" check with a long interval is asked again every SCHED_FLEET_RECHECK_MS
 * meanwhile: when its owner dies it runs here at once, not an interval later
 * (the fleet's 30 s bound). Returns true when e's timer was set here. */
#define SCHED_FLEET_RECHECK_MS 5000
static bool entry_fleet_wait(struct sched *s, struct loop *l, struct sched_entry *e, uint64_t now_ms)
{
	uint64_t missed = 0, wake;

	if (fleet_runs_check(fleet_running(), e->check))
		return false;
	sched_lock(s);
	if (now_ms >= e->due_ms)
		e->due_ms = sched_next_due(e->due_ms, e->check->interval_ms, now_ms, &missed);
	wake = e->due_ms;
	if (e->check->locations_mode == CHECK_LOC_ANY && wake > now_ms + 2 * SCHED_FLEET_RECHECK_MS)
		wake = now_ms + SCHED_FLEET_RECHECK_MS;
	pthread_mutex_unlock(&s->lock);
	loop_timer_start_at(l, &e->timer, wake);
	return true;
}

static void entry_due(struct loop *l, struct loop_timer *t)
{
	struct sched_entry *e = t->arg;
	struct sched *s = e->s;
	uint64_t now_us = util_mono_us();
	uint64_t now_ms = now_us / 1000;
	uint64_t missed = 0;

	if (s->stopping || entry_fleet_wait(s, l, e, now_ms))
		return;
	sched_lock(s);
	if (now_ms < e->due_ms) {
		/* Woken early by entry_fleet_wait and ours now: once, off its grid. */
		entry_try_start(s, l, e, now_ms, now_us);
	} else {
		entry_try_start(s, l, e, e->due_ms, now_us);
		e->due_ms = sched_next_due(e->due_ms, e->check->interval_ms, now_ms, &missed);
		/* Ticks a stalled loop passed over could not start in time either. */
		admit_count_skipped(&s->admit, missed, now_ms);
	}
	pthread_mutex_unlock(&s->lock);
	loop_timer_start_at(l, &e->timer, e->due_ms);
}

static struct sched_entry *entry_new(struct sched *s, const struct check *c)
{
	struct sched_entry *e = xcalloc(1, sizeof(*e));

	e->s = s;
	e->name = xstrdup(c->name);
	e->check = c;
	e->fingerprint = c->fingerprint;
	e->wait.arg = e;
	loop_timer_init(&e->timer, entry_due, e);
	return e;
}


/* Places e's first run at its spread inside its interval from now_ms. */
static void entry_arm_first(struct sched *s, struct sched_entry *e, uint64_t now_ms)
{
	e->due_ms = sched_first_due(now_ms, e->check->interval_ms, e->name);
	loop_timer_start_at(s->env->loop, &e->timer, e->due_ms);
}

/* Heartbeat checks are never probed: their timer only watches lateness.
 * Before sched_start a probed check gets no due time yet: it counts from
 * the start, so a slow start-up is not lag. */
static void entry_schedule(struct sched *s, struct sched_entry *e)
{
	if (probe_type_passive(e->check)) {
		loop_timer_init(&e->timer, sched_heartbeat_due, e);
		sched_heartbeat_arm(s, e);
		return;
	}
	loop_timer_init(&e->timer, entry_due, e);
	if (s->started)
		entry_arm_first(s, e, loop_now(s->env->loop));
}

void sched_start(struct sched *s)
{
	uint64_t now_ms = util_mono_ms();   /* the loop's own clock may be stale: not run yet */

	sched_lock(s);
	s->started = true;
	for (size_t i = 0; i < s->n_entries && !s->stopping; i++) {
		struct sched_entry *e = s->entries[i];

		if (!probe_type_passive(e->check) && !loop_timer_active(&e->timer))
			entry_arm_first(s, e, now_ms);
	}
	pthread_mutex_unlock(&s->lock);
}

/* Gives e storage for the duration buckets and phases once a config asks
 * /metrics to show them (agent.check_histograms_up_to): 128 bytes a check
 * that 100,000 checks do not need. Runs before that count in the +Inf
 * bucket, so the histogram stays whole (its +Inf bucket is its count). */
static void entry_keep_timing(struct sched_entry *e, const struct conf *conf)
{
	if (e->metrics.timing != NULL || conf->n_checks > (size_t)conf->agent.check_histograms_up_to)
		return;
	e->metrics.timing = xcalloc(1, sizeof(*e->metrics.timing));
	e->metrics.timing->duration_buckets[CHECK_DURATION_BUCKETS - 1] = e->metrics.duration_count;
	for (int p = 0; p < 4; p++)
		e->metrics.timing->last_phase_s[p] = -1;
}

void sched_set_conf(struct sched *s, struct conf *conf)
{
	struct sched_entry **next = xcalloc(conf->n_checks ? conf->n_checks : 1, sizeof(*next));
	size_t n_next = 0;

	sched_lock(s);
	for (size_t i = 0; i < conf->n_checks; i++) {
		const struct check *c = &conf->checks[i];
		struct sched_entry *e;

		if (s->owns != NULL && !s->owns(c, s->owns_arg))
			continue;
		e = sched_find(s, c->name);

		if (!e) {
			e = entry_new(s, c);
			if (!s->stopping)
				entry_schedule(s, e);
		} else {
			bool same = e->fingerprint == c->fingerprint;
			e->check = c;
			e->fingerprint = c->fingerprint;
			e->removed = false;
			if (!same && !s->stopping) {
				loop_timer_stop(s->env->loop, &e->timer);
				admit_cancel(&s->admit, &e->wait);
				entry_schedule(s, e);
			}
		}
		e->conf_index = i;
		entry_keep_timing(e, conf);
		next[n_next++] = e;
	}
	qsort(next, n_next, sizeof(*next), entry_cmp);

	/* Entries that are gone: stop their timer; one with a run in flight
	 * stays alive (its check is kept by the run's conf reference). */
	for (size_t i = 0; i < s->n_entries; i++) {
		struct sched_entry *e = s->entries[i];
		if (bsearch(e->name, next, n_next, sizeof(*next), entry_key_cmp))
			continue;
		loop_timer_stop(s->env->loop, &e->timer);
		admit_cancel(&s->admit, &e->wait);
		if (e->inflight) {
			e->removed = true;
			s->orphans = xrealloc(s->orphans, (s->n_orphans + 1) * sizeof(*s->orphans));
			s->orphans[s->n_orphans++] = e;
		} else {
			entry_free(e);
		}
	}
	free(s->entries);
	s->entries = next;
	s->n_entries = n_next;
	s->entries_gen++;
	conf_ref(conf);
	if (s->conf)
		conf_unref(s->conf);
	s->conf = conf;
	pthread_mutex_unlock(&s->lock);
}

static void manual_done(struct probe_result *r, void *arg)
{
	struct manual_run *m = arg;
	struct sched *s = m->s;
	struct sched_entry *e;

	sched_inflight_add(s, -1);
	if (m->prev)
		m->prev->next = m->next;
	else
		s->manual = m->next;
	if (m->next)
		m->next->prev = m->prev;
	/* A reload may have removed or replaced the check meanwhile. */
	e = sched_find(s, m->check->name);
	if (e && r->error != PROBE_ERR_ABORTED)
		sched_entry_record(e, r);
	s->result_conf = m->conf;
	s->on_result(m->check, r, true, s->arg);
	m->fn(r, m->arg);
	conf_unref(m->conf);
	free(m);
}


int sched_run_now(struct sched *s, const char *name, sched_now_fn *fn, void *arg)
{
	struct sched_entry *e = sched_find(s, name);
	struct manual_run *m;

	if (!e || s->stopping)
		return -1;
	if (probe_type_passive(e->check)) {
		sched_heartbeat_run_now(e, fn, arg);
		return 0;
	}
	m = xcalloc(1, sizeof(*m));
	m->s = s;
	m->check = e->check;
	m->conf = conf_ref(s->conf);
	m->fn = fn;
	m->arg = arg;
	m->next = s->manual;
	if (m->next)
		m->next->prev = m;
	s->manual = m;
	sched_inflight_add(s, 1);
	m->attempt = attempt_start(s->env, m->check, manual_done, m);
	return 0;
}

void sched_stop(struct sched *s)
{
	sched_lock(s);
	s->stopping = true;
	for (size_t i = 0; i < s->n_entries; i++) {
		loop_timer_stop(s->env->loop, &s->entries[i]->timer);
		admit_cancel(&s->admit, &s->entries[i]->wait);
	}
	pthread_mutex_unlock(&s->lock);
}

void sched_abort_all(struct sched *s)
{
	/* Aborting calls the completion synchronously, which unlinks the run:
	 * always take the first one again. */
	for (size_t i = 0; i < s->n_entries; i++)
		if (s->entries[i]->inflight)
			attempt_abort(s->entries[i]->inflight);
	while (s->n_orphans > 0)
		attempt_abort(s->orphans[0]->inflight);
	while (s->manual)
		attempt_abort(s->manual->attempt);
}

bool sched_idle(const struct sched *s)
{
	return __atomic_load_n(&s->inflight, __ATOMIC_RELAXED) == 0;
}


const char *sched_failing_dependency(const struct sched *s, const struct check *c)
{
	const struct sched_entry *e = sched_find(s, c->name);

	for (size_t i = 0; i < c->n_depends_on; i++) {
		const struct sched_entry *d = sched_find(s, c->depends_on[i]);

		if (d != NULL && d != e && d->has_last && !d->last_ok)
			return c->depends_on[i];
	}
	return NULL;
}

/* Copies one entry into snap, when it is of snap's conf (an entry knows its
 * check's position in its conf, which is also the snapshot's order:
 * snapshot_new). s->lock held. */
static void entry_fill(const struct sched_entry *e, struct snapshot *snap)
{
	struct snapshot_check *sc;

	if (e->conf_index >= snap->n_checks || snap->checks[e->conf_index].check != e->check)
		return;
	sc = &snap->checks[e->conf_index];
	check_metrics_copy(&sc->metrics, &e->metrics);
	if (!e->has_last)
		return;
	sc->has_last = true;
	sc->last_ts_us = e->last_ts_us;
	sc->last_ok = e->last_ok;
	sc->last_duration_us = e->last_duration_us;
	sc->last_error = e->last_error;
	snapshot_set_message(snap, e->conf_index, e->last_message);
	sc->consecutive_failures = e->consecutive_failures;
	sc->consecutive_successes = e->consecutive_successes;
}

/* Copies this scheduler's entries into snap, without a name lookup per
 * check, SCHED_FILL_CHUNK at a time: between two chunks the loop's thread
 * gets the lock when it waits for it. Each entry is copied whole; entries
 * of another conf (a reload half-way, or during the copy) are left
 * pending. Any thread; takes s->lock. */
void sched_snapshot_fill(struct sched *s, struct snapshot *snap)
{
	uint64_t gen;

	pthread_mutex_lock(&s->lock);
	gen = s->entries_gen;
	for (size_t i = 0; i < s->n_entries; i++) {
		if (i > 0 && i % SCHED_FILL_CHUNK == 0) {
			sched_lock_yield(s);
			if (s->entries_gen != gen)
				break;      /* the entries were replaced meanwhile */
		}
		entry_fill(s->entries[i], snap);
	}
	for (int b = 0; b < SNAPSHOT_LAG_BUCKETS; b++)
		snap->lag_buckets[b] += s->stats.lag_buckets[b];
	snap->lag_count += s->stats.lag_count;
	snap->lag_sum_s += s->stats.lag_sum_s;
	pthread_mutex_unlock(&s->lock);
}

struct snapshot *sched_snapshot(struct sched *s)
{
	struct snapshot *snap = snapshot_new(s->conf);

	sched_snapshot_fill(s, snap);
	snapshot_seal(snap);
	sched_snapshot_states(snap);
	return snap;
}

void sched_get_stats(struct sched *s, struct sched_stats *out)
{
	const uint64_t *w;

	pthread_mutex_lock(&s->lock);
	w = s->have_prev_window ? s->window_prev : s->window_cur;
	*out = s->stats;
	memcpy(out->window_buckets, w, sizeof(out->window_buckets));
	out->skipped_overload = s->admit.skipped;
	out->skipped = out->skipped_overload + out->skipped_overlap;
	out->overloaded = admit_overloaded(&s->admit, util_mono_ms());
	out->admit_limit = s->admit.limit;
	out->admit_queued = s->admit.queued;
	pthread_mutex_unlock(&s->lock);
	sched_stats_finish(out);
}

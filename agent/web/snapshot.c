/* snapshot.c — the published, reference-counted view of check states that the
 * loop hands to the HTTP threads: one global pointer swapped under a mutex. */
#include <assert.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "web/snapshot.h"
#include "core/util.h"

static pthread_mutex_t current_lock = PTHREAD_MUTEX_INITIALIZER;
static struct snapshot *current;    /* guarded by current_lock; holds one reference */

/* From half a millisecond (the loop's own resolution) to ten seconds (a
 * stalled agent). */
const double snapshot_lag_bounds[SNAPSHOT_LAG_BUCKETS] = {
	0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
	0.25, 0.5, 1, 2.5, 5, 10, 1e300,
};

/* Names as the API shows them; indexed by enum check_state. */
static const char *const state_names[] = {
	[CHECK_STATE_PENDING] = "pending",
	[CHECK_STATE_UP] = "up",
	[CHECK_STATE_DOWN] = "down",
	[CHECK_STATE_MAINTENANCE] = "maintenance",
	[CHECK_STATE_BLOCKED] = "blocked",
	[CHECK_STATE_DEGRADED] = "degraded",
};

/* The API name of s; "unknown" for a value outside the enum. */
const char *check_state_name(enum check_state s)
{
	if ((unsigned)s >= sizeof(state_names) / sizeof(state_names[0]))
		return "unknown";
	return state_names[s];
}

/* A new snapshot (refs = 1) for conf with one pending entry per check, in conf
 * order. Takes its own reference on conf; the caller keeps theirs. The loop
 * fills in states before publishing. */
struct snapshot *snapshot_new(struct conf *conf)
{
	struct snapshot *s = xcalloc(1, sizeof(*s));

	assert(conf != NULL);
	s->refs = 1;
	s->conf = conf_ref(conf);
	s->n_checks = conf->n_checks;
	if (s->n_checks > 0)
		s->checks = xcalloc(s->n_checks, sizeof(*s->checks));
	if (s->n_checks > 0 && s->n_checks <= (size_t)conf->agent.check_histograms_up_to)
		s->timing = xcalloc(s->n_checks, sizeof(*s->timing));
	for (size_t i = 0; i < s->n_checks; i++) {
		s->checks[i].check = &conf->checks[i];
		s->checks[i].metrics.timing = s->timing ? &s->timing[i] : NULL;
		s->checks[i].state = CHECK_STATE_PENDING;
		s->checks[i].last_error = PROBE_OK;
	}
	s->published_us = util_wall_us();
	s->scheduler_on_time = true;
	s->store_ok = true;
	return s;
}

/* Makes s the current snapshot. The caller's reference moves to the global
 * pointer; the previous snapshot loses the global's reference (readers that
 * still hold one keep it alive). s may be NULL to unpublish (at shutdown). */
void snapshot_publish(struct snapshot *s)
{
	struct snapshot *old;

	pthread_mutex_lock(&current_lock);
	old = current;
	current = s;
	if (s != NULL)
		s->published_us = util_wall_us();
	pthread_mutex_unlock(&current_lock);
	/* Released outside the lock: freeing may call conf_unref and free(). */
	if (old != NULL)
		snapshot_release(old);
}

/* The current snapshot with a new reference (release it with
 * snapshot_release), or NULL when nothing was published yet. */
struct snapshot *snapshot_acquire(void)
{
	struct snapshot *s;

	pthread_mutex_lock(&current_lock);
	s = current;
	/* Under the lock the global's reference keeps s alive, so a relaxed
	 * increment would do; acquire keeps the pattern uniform. */
	if (s != NULL)
		__atomic_add_fetch(&s->refs, 1, __ATOMIC_ACQUIRE);
	pthread_mutex_unlock(&current_lock);
	return s;
}

/* Whether m points into s's shared messages (else it is owned). */
static bool in_msgs(const struct snapshot *s, const char *m)
{
	return m != NULL && s->msgs.p != NULL && m >= s->msgs.p && m < s->msgs.p + s->msgs.len;
}

/* See snapshot.h. A direct-mapped table of recent messages finds repeats;
 * a miss only costs a copy, as before. */
void snapshot_set_message(struct snapshot *s, size_t k, const char *m)
{
	size_t n, slot, off;

	if (m == NULL || m[0] == '\0' || k >= s->n_checks)
		return;
	if (s->msg_off == NULL)
		s->msg_off = xcalloc(s->n_checks, sizeof(*s->msg_off));
	n = strlen(m);
	slot = (size_t)util_hash64(m) % (sizeof(s->msg_tab) / sizeof(s->msg_tab[0]));
	off = s->msg_tab[slot];
	if (off == 0 || strcmp(s->msgs.p + off - 1, m) != 0) {
		off = s->msgs.len + 1;
		buf_add(&s->msgs, m, n + 1);    /* with its NUL: one string after another */
		s->msg_tab[slot] = off;
	}
	s->msg_off[k] = off;
}

void snapshot_seal(struct snapshot *s)
{
	if (s->msg_off == NULL)
		return;
	for (size_t k = 0; k < s->n_checks; k++)
		if (s->msg_off[k] != 0)
			s->checks[k].last_message = s->msgs.p + s->msg_off[k] - 1;
	free(s->msg_off);
	s->msg_off = NULL;
}

/* Drops one reference; the last one frees the messages, the entries and the
 * snapshot's conf reference. NULL is ignored. */
void snapshot_release(struct snapshot *s)
{
	if (s == NULL)
		return;
	/* acq_rel: every write made through other references happens-before the
	 * free below. */
	if (__atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	for (size_t i = 0; i < s->n_checks; i++)
		if (!in_msgs(s, s->checks[i].last_message))
			free(s->checks[i].last_message);
	free(s->checks);
	free(s->timing);
	free(s->msg_off);
	buf_free(&s->msgs);
	for (size_t i = 0; i < s->n_alerts; i++) {
		free(s->alerts[i].rule);
		free(s->alerts[i].check);
		free(s->alerts[i].severity);
		free(s->alerts[i].value);
		free(s->alerts[i].alert_id);
		free(s->alerts[i].run_id);
	}
	free(s->alerts);
	for (size_t i = 0; i < s->n_notifiers; i++)
		free(s->notifiers[i].name);
	free(s->notifiers);
	conf_unref(s->conf);
	free(s);
}

/* Check duration buckets, seconds: probes of local services take a few ms,
 * remote APIs tens to hundreds, timeouts seconds. */
const double check_duration_bounds[CHECK_DURATION_BUCKETS] = {
	0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 1e300,
};

void check_metrics_add(struct check_metrics *m, const struct probe_result *r)
{
	struct check_timing *t = m->timing;
	double d = (double)r->duration_us / 1e6;
	int b = 0;

	if ((int)r->error >= 0 && r->error < PROBE_ERR_COUNT)
		m->runs[r->error]++;
	m->duration_count++;
	m->duration_sum_s += d;
	if (r->cert_expiry > 0)
		m->cert_expiry = r->cert_expiry;
	if (t == NULL)
		return;
	while (b < CHECK_DURATION_BUCKETS - 1 && d > check_duration_bounds[b])
		b++;
	t->duration_buckets[b]++;
	t->last_phase_s[0] = r->dns_us >= 0 ? (double)r->dns_us / 1e6 : -1;
	t->last_phase_s[1] = r->connect_us >= 0 ? (double)r->connect_us / 1e6 : -1;
	t->last_phase_s[2] = r->tls_us >= 0 ? (double)r->tls_us / 1e6 : -1;
	t->last_phase_s[3] = r->ttfb_us >= 0 ? (double)r->ttfb_us / 1e6 : -1;
}

void check_metrics_copy(struct check_metrics *dst, const struct check_metrics *src)
{
	struct check_timing *t = dst->timing;

	*dst = *src;
	dst->timing = t;
	if (t == NULL)
		return;
	if (src->timing != NULL)
		*t = *src->timing;
	else
		memset(t, 0, sizeof(*t));
}

/* The entry of the check called name, or NULL. Linear: snapshots hold as many
 * entries as the conf has checks and a lookup per request is cheap next to the
 * SQLite reads that follow it. */
const struct snapshot_check *snapshot_find(const struct snapshot *s, const char *name)
{
	if (s == NULL || name == NULL)
		return NULL;
	for (size_t i = 0; i < s->n_checks; i++) {
		const struct check *c = s->checks[i].check;

		if (c != NULL && c->name != NULL && strcmp(c->name, name) == 0)
			return &s->checks[i];
	}
	return NULL;
}

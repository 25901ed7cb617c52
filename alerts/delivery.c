/* delivery.c — sends committed notifications from the event loop: per
 * notifier queue with per-alert order, Retry-After, dead rows, re-posts. See
 * delivery.h for the policy; its pure parts (backoff, breaker, bucket) are in
 * delivery_policy.c and the default transport (curl multi on the loop) in
 * delivery_curl.c.
 *
 * Shape: one outbox_queue holds every undelivered row; delivery_poll() walks
 * the notifiers and, for each, starts attempts while the in-flight cap, the
 * breaker and the bucket allow, then arms one loop timer for the earliest
 * moment something can happen next. Completions never start work directly:
 * they update the row and kick the timer (0 ms), so no callback re-enters
 * the poll. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "alerts/delivery.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/util.h"

#define CLASS_MAX 256
#define SUMMARY_MAX 512

/* --- types ------------------------------------------------------------------- */

struct refire {
	struct alert_event ev;
	char *key;
	uint64_t due_ms;
	bool in_flight;
};

struct dnotifier {
	struct dnotifier *next;
	struct notifier_conf conf;  /* deep copy */
	struct delivery_breaker breaker;
	struct delivery_bucket bucket;
	struct delivery_stats stats;    /* counters only; the rest is computed */
	struct refire *refires;
	size_t n_refires;
	int in_flight;
	bool retired;               /* removed by a reload, freed when idle */
};

struct attempt {
	struct attempt *next, *prev;
	struct delivery *d;
	struct dnotifier *n;
	int64_t id;                 /* the row; 0 for a re-post */
	char *rule, *check;         /* re-post: which alert */
	void *handle;               /* the transport's */
};

struct delivery {
	struct loop *loop;
	struct delivery_hooks hooks;
	struct delivery_env env;
	struct delivery_transport tr;
	struct outbox_queue *q;
	struct dnotifier *notifiers;
	struct attempt *attempts;   /* in flight */
	struct loop_timer timer;
	bool stopped;
	bool draining;                  /* stopping: attempts in flight finish, none start */
};

/* --- clocks ------------------------------------------------------------------ */

static uint64_t now_ms(struct delivery *d)
{
	return d->env.mono_ms ? d->env.mono_ms(d->env.ctx) : util_mono_ms();
}

static int64_t wall_us(struct delivery *d)
{
	return d->env.wall_us ? d->env.wall_us(d->env.ctx) : util_wall_us();
}

static uint64_t rnd(struct delivery *d)
{
	uint64_t v = 0;

	if (d->env.random)
		return d->env.random(d->env.ctx);
	if (getrandom(&v, sizeof(v), GRND_NONBLOCK) != (ssize_t)sizeof(v))
		v = util_mono_us() * 0x9e3779b97f4a7c15ULL;
	return v;
}

/* --- notifiers --------------------------------------------------------------- */

static void refire_clear(struct refire *r)
{
	alert_event_clear(&r->ev);
	free(r->key);
	memset(r, 0, sizeof(*r));
}

static void dnotifier_free(struct dnotifier *n)
{
	for (size_t i = 0; i < n->n_refires; i++)
		refire_clear(&n->refires[i]);
	free(n->refires);
	notifier_conf_clear(&n->conf);
	free(n);
}

static struct dnotifier *find_notifier(struct delivery *d, const char *name)
{
	for (struct dnotifier *n = d->notifiers; n != NULL; n = n->next)
		if (!n->retired && strcmp(n->conf.name, name) == 0)
			return n;
	return NULL;
}

static void kick(struct delivery *d)
{
	if (d->loop != NULL && !d->stopped && !d->draining)
		loop_timer_start(d->loop, &d->timer, 0);
}

/* --- progress ---------------------------------------------------------------- */

static void emit(struct delivery *d, const struct outbox_row *r)
{
	struct delivery_progress p = {
		.id = r->id, .state = r->state, .attempts = r->attempts,
		.next_attempt_us = r->next_attempt_us, .delivered_us = r->delivered_us,
		.last_error = r->last_error,
	};

	if (d->hooks.progress != NULL)
		d->hooks.progress(&p, d->hooks.ctx);
}

static void log_ids(const struct outbox_row *r, char id[24], char att[16])
{
	snprintf(id, 24, "%" PRId64, r->id);
	snprintf(att, 16, "%d", r->attempts);
}

/* Makes row r dead with reason why: persisted, logged, dropped from memory. */
static void make_dead(struct delivery *d, struct dnotifier *n, struct outbox_row *r, const char *why)
{
	char id[24], att[16];

	r->state = OUTBOX_DEAD;
	r->next_attempt_us = 0;
	free(r->last_error);
	r->last_error = xstrdup(why);
	emit(d, r);
	if (n != NULL)
		n->stats.dead++;
	log_ids(r, id, att);
	log_error("notification dead: not delivered", "notification_id", id,
	          "alert_id", notify_str(r->event.alert_id), "notifier", r->notifier,
	          "rule", r->event.rule, "check", r->event.check, "attempts", att, "error", why);
	outbox_queue_remove(d->q, r->id);
}

/* --- re-posts ---------------------------------------------------------------- */

static struct refire *refire_find(struct dnotifier *n, const char *rule, const char *check)
{
	for (size_t i = 0; i < n->n_refires; i++)
		if (strcmp(n->refires[i].ev.rule, rule) == 0 && strcmp(n->refires[i].ev.check, check) == 0)
			return &n->refires[i];
	return NULL;
}

static void refire_del(struct dnotifier *n, const char *rule, const char *check)
{
	struct refire *r = refire_find(n, rule, check);
	size_t i;

	if (r == NULL)
		return;
	i = (size_t)(r - n->refires);
	refire_clear(r);
	memmove(&n->refires[i], &n->refires[i + 1], (n->n_refires - i - 1) * sizeof(*r));
	n->n_refires--;
}

/* Arms (or moves) the re-post of ev at n, first due at due_ms. */
static void refire_set(struct dnotifier *n, const struct alert_event *ev, const char *key,
                       uint64_t due_ms)
{
	struct refire *r = refire_find(n, ev->rule, ev->check);
	struct outbox_row tmp;

	if (r == NULL) {
		n->refires = xrealloc(n->refires, (n->n_refires + 1) * sizeof(*n->refires));
		r = &n->refires[n->n_refires++];
		memset(r, 0, sizeof(*r));
	} else {
		bool busy = r->in_flight;

		refire_clear(r);
		r->in_flight = busy;
	}
	/* Deep-copy the event through outbox_row_copy's helper path. */
	memset(&tmp, 0, sizeof(tmp));
	tmp.event = *ev;
	{
		struct outbox_row cp;

		outbox_row_copy(&cp, &tmp);
		r->ev = cp.event;
		memset(&cp.event, 0, sizeof(cp.event));
		outbox_row_clear(&cp);
	}
	r->key = xstrdup(key);
	r->due_ms = due_ms;
}

/* --- attempts ---------------------------------------------------------------- */

static void on_answer(void *token, const struct delivery_answer *a);

static struct attempt *attempt_new(struct delivery *d, struct dnotifier *n)
{
	struct attempt *at = xcalloc(1, sizeof(*at));

	at->d = d;
	at->n = n;
	at->next = d->attempts;
	if (d->attempts != NULL)
		d->attempts->prev = at;
	d->attempts = at;
	n->in_flight++;
	return at;
}

static void attempt_unlink(struct attempt *at)
{
	struct delivery *d = at->d;

	if (at->prev != NULL)
		at->prev->next = at->next;
	else
		d->attempts = at->next;
	if (at->next != NULL)
		at->next->prev = at->prev;
	at->n->in_flight--;
}

static void attempt_free(struct attempt *at)
{
	free(at->rule);
	free(at->check);
	free(at);
}

/* Queued rows of a retired notifier go dead, except the ones in flight (their
 * answer comes first, then this runs again). */
static void sweep_retired(struct delivery *d, struct dnotifier *n)
{
	for (;;) {
		uint64_t due;
		struct outbox_row *r = outbox_queue_next(d->q, n->conf.name, UINT64_MAX - 1, &due);

		if (r == NULL)
			break;
		make_dead(d, n, r, "notifier not configured any more");
	}
}

/* Frees a retired notifier once nothing of it is in flight. */
static void reap(struct delivery *d, struct dnotifier *n)
{
	struct dnotifier **pp;

	if (!n->retired || n->in_flight > 0)
		return;
	for (pp = &d->notifiers; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == n) {
			*pp = n->next;
			dnotifier_free(n);
			return;
		}
	}
}

/* Builds and sends one request. Returns 0 when it is in flight, -1 when the
 * request could not be built (err says why: permanent) or sent (err). */
static int send_one(struct delivery *d, struct attempt *at, const struct alert_event *ev,
                    const char *key, char *err, size_t errlen, bool *permanent)
{
	struct notify_request rq;
	int rc;

	*permanent = false;
	if (notify_build(&at->n->conf, ev, key, wall_us(d) / 1000000, &rq, err, errlen) != 0) {
		*permanent = true;
		return -1;
	}
	rc = d->tr.send(d->tr.ctx, &rq, at->n->conf.timeout_ms ? at->n->conf.timeout_ms : 10000,
	                on_answer, at, &at->handle);
	notify_request_clear(&rq);
	if (rc != 0)
		snprintf(err, errlen, "cannot start the request");
	return rc;
}

/* Starts an attempt of row r at n. */
static void start_row(struct delivery *d, struct dnotifier *n, struct outbox_row *r)
{
	struct attempt *at = attempt_new(d, n);
	char err[256], id[24], att[16];
	bool permanent;

	at->id = r->id;
	outbox_queue_set_in_flight(d->q, r->id, true);
	log_ids(r, id, att);
	log_debug("notification attempt", "notification_id", id, "alert_id",
	          notify_str(r->event.alert_id), "notifier", n->conf.name, "attempts_before", att);
	if (send_one(d, at, &r->event, r->key, err, sizeof(err), &permanent) == 0)
		return;
	/* Not started: nothing was sent, so the breaker learns nothing. */
	if (n->breaker.state == BREAKER_HALF_OPEN)
		n->breaker.trial_in_flight = false;
	attempt_unlink(at);
	attempt_free(at);
	outbox_queue_set_in_flight(d->q, r->id, false);
	if (permanent) {
		make_dead(d, n, r, err);
		return;
	}
	/* A transport that cannot start now: like a network error. */
	{
		struct delivery_answer a = { .status = 0, .error = err };
		struct attempt *fake = attempt_new(d, n);

		fake->id = r->id;
		outbox_queue_set_in_flight(d->q, r->id, true);
		on_answer(fake, &a);
	}
}

/* Starts a re-post of refire entry rf at n. */
static void start_refire(struct delivery *d, struct dnotifier *n, struct refire *rf)
{
	struct attempt *at = attempt_new(d, n);
	char err[256];
	bool permanent;

	at->rule = xstrdup(rf->ev.rule);
	at->check = xstrdup(rf->ev.check);
	rf->in_flight = true;
	if (send_one(d, at, &rf->ev, rf->key, err, sizeof(err), &permanent) == 0)
		return;
	if (n->breaker.state == BREAKER_HALF_OPEN)
		n->breaker.trial_in_flight = false;
	rf->in_flight = false;
	rf->due_ms = now_ms(d) + notify_refire_ms(&n->conf);
	attempt_unlink(at);
	attempt_free(at);
	log_warn("alert re-post not sent", "notifier", n->conf.name, "alert_id",
	         notify_str(rf->ev.alert_id), "error", err);
}

/* The summary line of an answer: notify_classify's, plus the transport's
 * words when there was no HTTP answer (masked: they may name the host). */
static void answer_summary(const char *classified, const struct delivery_answer *a,
                           char *out, size_t len)
{
	if (a->status == 0 && a->error != NULL && a->error[0] != '\0') {
		char *m = log_mask_secrets(a->error);

		snprintf(out, len, "%.250s: %.200s", classified, m);
		free(m);
	} else {
		snprintf(out, len, "%.250s", classified);
	}
}

static void finish_refire(struct delivery *d, struct attempt *at, enum notify_verdict v,
                          const char *summary)
{
	struct dnotifier *n = at->n;
	struct refire *rf = refire_find(n, at->rule, at->check);

	if (rf != NULL) {
		rf->in_flight = false;
		rf->due_ms = now_ms(d) + notify_refire_ms(&n->conf);
	}
	n->stats.refires++;
	if (v != NOTIFY_DELIVERED)
		log_warn("alert re-post failed", "notifier", n->conf.name, "rule", at->rule,
		         "check", at->check, "alert_id", rf ? notify_str(rf->ev.alert_id) : "",
		         "error", summary);
}

/* A receiver answered (or did not): the outcome of attempt at. */
static void on_answer(void *token, const struct delivery_answer *a)
{
	struct attempt *at = token;
	struct delivery *d = at->d;
	struct dnotifier *n = at->n;
	struct outbox_row *r;
	char classified[CLASS_MAX], summary[SUMMARY_MAX], id[24], att[16], st[16];
	uint64_t ra_ms = 0, now = now_ms(d);
	int64_t wall = wall_us(d);
	enum notify_verdict v;

	attempt_unlink(at);
	v = notify_classify(&n->conf, a->status, a->body, a->body_len, a->retry_after,
	                    wall / 1000000, &ra_ms, classified, sizeof(classified));
	answer_summary(classified, a, summary, sizeof(summary));
	delivery_breaker_report(&n->breaker, v != NOTIFY_RETRY, now);
	if (v == NOTIFY_RETRY)
		n->stats.failed++;
	if (at->id == 0) {
		finish_refire(d, at, v, summary);
		goto out;
	}
	r = outbox_queue_get(d->q, at->id);
	if (r == NULL)                  /* dropped meanwhile (reload made it dead) */
		goto out;
	outbox_queue_set_in_flight(d->q, r->id, false);
	r->attempts++;
	log_ids(r, id, att);
	snprintf(st, sizeof(st), "%ld", a->status);
	switch (v) {
	case NOTIFY_DELIVERED:
		r->state = OUTBOX_DELIVERED;
		r->delivered_us = wall;
		r->next_attempt_us = 0;
		free(r->last_error);
		r->last_error = NULL;
		emit(d, r);
		n->stats.delivered++;
		log_info("notification delivered", "notification_id", id, "alert_id",
		         notify_str(r->event.alert_id), "notifier", n->conf.name, "rule", r->event.rule,
		         "check", r->event.check, "kind",
		         r->event.kind == ALERT_EVENT_RESOLVED ? "resolved" : "firing",
		         "attempts", att, "status", st);
		if (notify_refire_ms(&n->conf) > 0 && r->event.kind == ALERT_EVENT_FIRING && !n->retired)
			refire_set(n, &r->event, r->key, now + notify_refire_ms(&n->conf));
		outbox_queue_remove(d->q, r->id);
		break;
	case NOTIFY_PERMANENT:
		make_dead(d, n, r, summary);
		break;
	case NOTIFY_RETRY: {
		int max_attempts = n->conf.max_attempts > 0 ? n->conf.max_attempts : 12;
		uint64_t max_age_ms = n->conf.max_age_ms > 0 ? n->conf.max_age_ms : 86400000ULL;
		uint64_t delay;
		char why[SUMMARY_MAX + 64], in[24];

		if (n->retired) {
			make_dead(d, n, r, "notifier not configured any more");
			break;
		}
		if (r->attempts >= max_attempts) {
			snprintf(why, sizeof(why), "gave up after %d attempt%s: %s", r->attempts,
			         r->attempts == 1 ? "" : "s", summary);
			make_dead(d, n, r, why);
			break;
		}
		delay = delivery_retry_delay_ms(r->attempts, ra_ms, rnd(d));
		if (wall + (int64_t)delay * 1000 - r->created_us >= (int64_t)max_age_ms * 1000) {
			snprintf(why, sizeof(why), "gave up at max_age after %d attempt%s: %s", r->attempts,
			         r->attempts == 1 ? "" : "s", summary);
			make_dead(d, n, r, why);
			break;
		}
		r->next_attempt_us = wall + (int64_t)delay * 1000;
		free(r->last_error);
		r->last_error = xstrdup(summary);
		outbox_queue_set_due(d->q, r->id, now + delay);
		emit(d, r);
		snprintf(in, sizeof(in), "%" PRIu64, delay);
		log_warn("notification attempt failed, will retry", "notification_id", id,
		         "alert_id", notify_str(r->event.alert_id), "notifier", n->conf.name,
		         "attempts", att, "status", st, "retry_in_ms", in, "error", summary,
		         "breaker", delivery_breaker_state_name(n->breaker.state));
		break;
	}
	}
out:
	if (n->retired)
		sweep_retired(d, n);
	reap(d, n);
	attempt_free(at);
	kick(d);
}

/* --- polling ----------------------------------------------------------------- */

static void wake_at(uint64_t *wake, uint64_t t)
{
	if (t < *wake)
		*wake = t;
}

/* The first re-post of n that is due at now and not held back by a queued
 * row of the same alert; *next gets the earliest future one. */
static struct refire *refire_due(struct delivery *d, struct dnotifier *n, uint64_t now,
                                 uint64_t *next)
{
	for (size_t i = 0; i < n->n_refires; i++) {
		struct refire *rf = &n->refires[i];

		if (rf->in_flight)
			continue;
		if (rf->due_ms > now) {
			wake_at(next, rf->due_ms);
			continue;
		}
		if (outbox_queue_has_alert(d->q, n->conf.name, rf->ev.rule, rf->ev.check, 0))
			continue;       /* the queued row goes first; its delivery re-arms */
		return rf;
	}
	return NULL;
}

/* Starts n's due work as far as its limits allow; *wake gets when to look again. */
static void pump(struct delivery *d, struct dnotifier *n, uint64_t now, uint64_t *wake)
{
	int max_attempts = n->conf.max_attempts > 0 ? n->conf.max_attempts : 12;
	uint64_t max_age_ms = n->conf.max_age_ms > 0 ? n->conf.max_age_ms : 86400000ULL;

	while (n->in_flight < DELIVERY_MAX_IN_FLIGHT) {
		uint64_t due = UINT64_MAX, retry, wait;
		struct outbox_row *r = outbox_queue_next(d->q, n->conf.name, now, &due);
		struct refire *rf = NULL;

		if (r != NULL) {
			/* Rows read back after a long stop (or requeued with an old
			 * id) may be past their limits before any attempt. */
			if (r->attempts >= max_attempts) {
				make_dead(d, n, r, "max_attempts reached");
				continue;
			}
			if (wall_us(d) - r->created_us >= (int64_t)max_age_ms * 1000) {
				make_dead(d, n, r, "max_age reached before delivery");
				continue;
			}
		} else {
			wake_at(wake, due);
			rf = refire_due(d, n, now, wake);
			if (rf == NULL)
				return;
		}
		if (!delivery_breaker_allow(&n->breaker, now, &retry)) {
			wake_at(wake, retry);   /* UINT64_MAX: the trial's answer kicks */
			return;
		}
		wait = delivery_bucket_take(&n->bucket, n->conf.rate_per_s, now);
		if (wait > 0) {
			if (n->breaker.state == BREAKER_HALF_OPEN)
				n->breaker.trial_in_flight = false;
			wake_at(wake, now + wait);
			return;
		}
		if (r != NULL)
			start_row(d, n, r);
		else
			start_refire(d, n, rf);
	}
}

void delivery_poll(struct delivery *d)
{
	uint64_t now, wake = UINT64_MAX;
	struct dnotifier *n, *next;

	if (d->stopped || d->draining)
		return;
	now = now_ms(d);
	for (n = d->notifiers; n != NULL; n = next) {
		next = n->next;
		if (!n->retired)
			pump(d, n, now, &wake);
	}
	if (d->loop == NULL)
		return;
	if (wake == UINT64_MAX)
		loop_timer_stop(d->loop, &d->timer);
	else if (!loop_timer_active(&d->timer) || wake > now)
		/* A kick (0 ms) pending is left alone: it polls again anyway. */
		loop_timer_start(d->loop, &d->timer, wake > now ? wake - now : 0);
}

static void on_timer(struct loop *l, struct loop_timer *t)
{
	delivery_poll(t->arg);
}

/* --- public ------------------------------------------------------------------ */

struct delivery *delivery_new(struct loop *loop, struct curlm *curlm,
                              const struct delivery_hooks *hooks,
                              const struct delivery_env *env,
                              const struct delivery_transport *transport)
{
	struct delivery *d = xcalloc(1, sizeof(*d));

	d->loop = loop;
	if (hooks != NULL)
		d->hooks = *hooks;
	if (env != NULL)
		d->env = *env;
	if (transport != NULL && transport->send != NULL) {
		d->tr = *transport;
	} else {
		d->tr = delivery_curl_transport(curlm);
	}
	d->q = outbox_queue_new();
	loop_timer_init(&d->timer, on_timer, d);
	return d;
}

void delivery_drain(struct delivery *d)
{
	if (d == NULL)
		return;
	d->draining = true;
	if (d->loop != NULL)
		loop_timer_stop(d->loop, &d->timer);
}

void delivery_stop(struct delivery *d)
{
	if (d == NULL)
		return;
	d->stopped = true;
	while (d->attempts != NULL) {
		struct attempt *at = d->attempts;

		if (d->tr.cancel != NULL)
			d->tr.cancel(d->tr.ctx, at->handle);
		if (at->id != 0)
			outbox_queue_set_in_flight(d->q, at->id, false);
		attempt_unlink(at);
		attempt_free(at);
	}
	if (d->loop != NULL)
		loop_timer_stop(d->loop, &d->timer);
}

void delivery_free(struct delivery *d)
{
	if (d == NULL)
		return;
	delivery_stop(d);
	while (d->notifiers != NULL) {
		struct dnotifier *n = d->notifiers;

		d->notifiers = n->next;
		dnotifier_free(n);
	}
	outbox_queue_free(d->q);
	free(d);
}

void delivery_set_notifiers(struct delivery *d, const struct notifier_conf *confs, size_t count)
{
	struct dnotifier *n, *next;

	/* Retire every notifier not in the new list; update the others. */
	for (n = d->notifiers; n != NULL; n = n->next) {
		bool keep = false;

		if (n->retired)
			continue;
		for (size_t i = 0; i < count && !keep; i++) {
			if (strcmp(confs[i].name, n->conf.name) == 0) {
				keep = true;
				notifier_conf_clear(&n->conf);
				notifier_conf_copy(&n->conf, &confs[i]);
				if (notify_refire_ms(&n->conf) == 0) {
					for (size_t k = 0; k < n->n_refires; k++)
						refire_clear(&n->refires[k]);
					n->n_refires = 0;
				}
			}
		}
		if (!keep)
			n->retired = true;
	}
	for (size_t i = 0; i < count; i++) {
		if (find_notifier(d, confs[i].name) != NULL)
			continue;
		n = xcalloc(1, sizeof(*n));
		notifier_conf_copy(&n->conf, &confs[i]);
		n->next = d->notifiers;
		d->notifiers = n;
	}
	for (n = d->notifiers; n != NULL; n = next) {
		next = n->next;
		if (n->retired) {
			sweep_retired(d, n);
			reap(d, n);
		}
	}
	kick(d);
}

int delivery_add(struct delivery *d, const struct outbox_row *r)
{
	struct dnotifier *n;
	uint64_t now = now_ms(d), due = now;
	int64_t wall = wall_us(d);

	if (r == NULL || r->id <= 0 || r->state != OUTBOX_PENDING || d->stopped || d->draining)
		return -1;
	if (r->next_attempt_us > wall)
		due = now + (uint64_t)(r->next_attempt_us - wall) / 1000;
	if (outbox_queue_add(d->q, r, due) != 0)
		return -1;
	n = find_notifier(d, r->notifier);
	if (n == NULL) {
		make_dead(d, NULL, outbox_queue_get(d->q, r->id), "notifier not configured");
		return 0;
	}
	if (r->event.kind == ALERT_EVENT_RESOLVED)
		refire_del(n, r->event.rule, r->event.check);
	kick(d);
	return 0;
}

void delivery_refire_arm(struct delivery *d, const struct alert_event *ev,
                         char *const *notify, size_t n_notify)
{
	for (size_t i = 0; i < n_notify; i++) {
		struct dnotifier *n = find_notifier(d, notify[i]);
		char *key;

		if (n == NULL || notify_refire_ms(&n->conf) == 0)
			continue;
		key = outbox_key(ev->alert_id, ALERT_EVENT_FIRING, ev->started_us / 1000, n->conf.name);
		refire_set(n, ev, key, now_ms(d));
		free(key);
	}
	kick(d);
}

int delivery_get_stats(struct delivery *d, const char *notifier, struct delivery_stats *out)
{
	struct dnotifier *n = find_notifier(d, notifier);

	if (n == NULL)
		return -1;
	*out = n->stats;
	out->queued = outbox_queue_count(d->q, notifier);
	out->in_flight = (size_t)n->in_flight;
	out->breaker = n->breaker.state;
	return 0;
}

size_t delivery_queued(const struct delivery *d)
{
	return outbox_queue_count(d->q, NULL);
}

size_t delivery_in_flight(const struct delivery *d)
{
	size_t k = 0;

	for (const struct attempt *at = d->attempts; at != NULL; at = at->next)
		k++;
	return k;
}

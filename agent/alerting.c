/* alerting.c — the alert path of the running agent: every result and
 * heartbeat ping into the alert engine; what each engine call emits (state
 * upserts, history, notifications) committed as one unit through the store's
 * writer; the committed notifications handed to delivery, whose progress goes
 * back to the store. Also the start (state restored, windows primed,
 * undelivered notifications resent), the snapshot's alert part and the admin
 * "retry a dead notification".
 *
 *   result -> engine_on_result -> alerting_on_transition (into al->tx)
 *          -> alerting_flush -> store_alert_commit (writer thread)
 *          -> alerting_committed -> loop -> delivery_add -> alerting_on_progress
 *
 * On PostgreSQL the agent is a member of a fleet: a transition is this
 * location's condition and goes to the fleet instead (alerting_fleet.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alerting.h"
#include "alerting_fleet.h"
#include "alerting_state.h"
#include "alerts/delivery.h"
#include "alerts/engine.h"
#include "alerts/outbox.h"
#include "conf/conf.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/util.h"
#include "core/waiter.h"
#include "probes/result.h"
#include "sched.h"
#include "store/store.h"
#include "web/snapshot.h"

#define ALERT_TICK_MS 1000
#define PRIME_RESULTS_MAX 1000      /* past results per check fed to the engine at start */
#define PRIME_SPAN_US (3600LL * 1000000LL)

static void conf_hold(void *c)
{
	conf_ref(c);
}

static void conf_release(void *c)
{
	conf_unref(c);
}

/* Installs conf in the engine, which holds a reference while it uses it. */
static void engine_install(struct alerting *al, struct conf *conf)
{
	struct engine_conf v = {
		.checks = conf->checks, .n_checks = conf->n_checks,
		.rules = conf->rules, .n_rules = conf->n_rules,
		.maintenance = conf->maintenance, .n_maintenance = conf->n_maintenance,
		.public_url = conf->agent.public_url, .location = conf->agent.location,
		.owner = conf, .hold = conf_hold, .release = conf_release,
	};

	engine_set_conf(al->engine, &v, util_wall_us() / 1000);
}

/* --- engine -> outbox (one transaction) -> delivery ------------------------- */

/* Rows of one committed alert unit, kept here so that delivery gets
 * them (with their new ids) once the writer has committed the unit. */
struct alert_commit {
	struct alerting *al;
	struct outbox_row *rows;
	size_t n;
	int64_t *ids;
};

static void alert_commit_free(struct alert_commit *ac)
{
	for (size_t i = 0; i < ac->n; i++)
		outbox_row_clear(&ac->rows[i]);
	free(ac->rows);
	free(ac->ids);
	free(ac);
}

/* On the loop: the unit is in SQLite; hand its notifications to delivery. */
static void alerting_committed_loop(struct loop *l, void *arg)
{
	struct alert_commit *ac = arg;
	struct alerting *al = ac->al;

	for (size_t i = 0; i < ac->n && ac->ids != NULL; i++) {
		if (ac->ids[i] <= 0)
			continue;       /* same key already in the outbox: sent once */
		ac->rows[i].id = ac->ids[i];
		if (!al->stopping && al->delivery != NULL)
			delivery_add(al->delivery, &ac->rows[i]);
	}
	alert_commit_free(ac);
}

/* On the writer thread, after the commit (or after giving up at close). */
static void alerting_committed(int rc, const int64_t *ids, size_t n_ids, void *arg)
{
	struct alert_commit *ac = arg;

	if (rc != 0 || ac->n == 0) {
		alert_commit_free(ac);
		return;
	}
	ac->ids = xcalloc(ac->n, sizeof(*ac->ids));
	memcpy(ac->ids, ids, (n_ids < ac->n ? n_ids : ac->n) * sizeof(*ids));
	if (loop_post(ac->al->loop, alerting_committed_loop, ac) != 0)
		alert_commit_free(ac);
}

/* Commits what the last engine call emitted: state changes, history and
 * notifications in one unit. Call after every engine entry point. */
static void alerting_flush(struct alerting *al)
{
	struct alert_commit *ac;

	if (outbox_tx_empty(&al->tx))
		return;
	ac = xcalloc(1, sizeof(*ac));
	ac->al = al;
	ac->n = al->tx.n_rows;
	if (ac->n > 0) {
		ac->rows = xcalloc(ac->n, sizeof(*ac->rows));
		for (size_t i = 0; i < ac->n; i++)
			outbox_row_copy(&ac->rows[i], &al->tx.rows[i]);
	}
	store_alert_commit(al->store, &al->tx, alerting_committed, ac);
	*al->dirty = true;
}

/* The engine's hook: one transition becomes a state upsert (or delete), a
 * history line when the state changed, and one notification per notifier
 * of the rule, all collected in al->tx until alerting_flush. */
static void alerting_on_transition(const struct engine_transition *t, void *ctx)
{
	struct alerting *al = ctx;
	struct alert_state_row st = {
		.rule = (char *)t->rule, .check = (char *)t->check, .state = t->to,
		.since_us = t->since_ms * 1000, .fired_us = t->fired_ms * 1000,
		.last_sent_us = t->last_sent_ms * 1000,
		.alert_id = t->alert_id && t->alert_id[0] ? (char *)t->alert_id : NULL,
		.value = t->value && t->value[0] ? (char *)t->value : NULL,
		.gone = t->gone,
	};

	if (al->fleet != NULL) {
		alerting_fleet_transition(al, t);     /* the fleet decides: alerting_fleet.c */
		return;
	}
	outbox_tx_add_state(&al->tx, &st);
	if (t->from != t->to) {
		struct alert_history_row h = {
			.rule = (char *)t->rule, .check = (char *)t->check, .alert_id = st.alert_id,
			.from_state = (char *)alert_state_name(t->from),
			.to_state = (char *)alert_state_name(t->to),
			.ts_us = t->since_ms > 0 ? t->since_ms * 1000 : util_wall_us(), .value = st.value,
		};

		outbox_tx_add_history(&al->tx, &h);     /* the engine logs the change */
	}
	/* rule_def: the rule of the conf the instance belonged to, so an
	 * instance dropped by a reload resolves through its old rule. */
	if (t->event != NULL) {
		const struct alert_rule *r = t->rule_def;

		if (r == NULL || r->n_notify == 0)
			return;
		outbox_tx_add_event(&al->tx, t->event, r->notify, r->n_notify, util_wall_us());
	}
}

/* Delivery's hook: progress of a notification, written through the writer. */
static void alerting_on_progress(const struct delivery_progress *p, void *ctx)
{
	struct alerting *al = ctx;
	struct store_outbox_update u = {
		.id = p->id, .state = p->state, .attempts = p->attempts,
		.next_attempt_us = p->next_attempt_us, .delivered_us = p->delivered_us,
		.last_error = p->last_error,
	};

	if (p->id >= ALERTING_LOCAL_ID_BASE)
		return;         /* sent failing open: kept in memory only */

	store_outbox_update(al->store, &u);
	*al->dirty = true;
}

/* The engine's clock matters only with rules: an agent without any does
 * not wake for it (a reload that adds rules starts it). */
static void alerting_tick_arm(struct alerting *al)
{
	if (al->stopping || (al->conf->n_rules == 0 && al->fleet == NULL))
		loop_timer_stop(al->loop, &al->tick_timer);
	else if (!loop_timer_active(&al->tick_timer))
		loop_timer_start(al->loop, &al->tick_timer, ALERT_TICK_MS);
}

static void alerting_tick(struct loop *l, struct loop_timer *t)
{
	struct alerting *al = t->arg;

	engine_tick(al->engine, util_wall_us() / 1000);
	alerting_flush(al);
	if (al->fleet != NULL)
		alerting_fleet_tick(al);
	alerting_tick_arm(al);
}

/* The checks being primed (store_recent_runs callback). */
struct prime_ctx {
	struct alerting *al;
};

static void alerting_prime_run(void *arg, size_t i, const struct store_run *run)
{
	struct alerting *al = ((struct prime_ctx *)arg)->al;

	if (run->error != PROBE_ERR_ABORTED)
		engine_prime(al->engine, al->conf->checks[i].name, run->ts_us / 1000,
		             (double)run->duration_us / 1000.0, run->ok);
}

/* Feeds the engine the recent past of every check (oldest first), so windows
 * and consecutive counts do not start empty after a restart: one read for
 * every check. */
static void alerting_prime_engine(struct alerting *al, struct store_reader *r)
{
	const char **names = xcalloc(al->conf->n_checks + 1, sizeof(*names));
	struct prime_ctx p = { al };

	for (size_t i = 0; i < al->conf->n_checks; i++)
		names[i] = al->conf->checks[i].name;
	store_recent_runs(r, names, al->conf->n_checks, util_wall_us() - PRIME_SPAN_US,
	                  PRIME_RESULTS_MAX, alerting_prime_run, &p);
	free(names);
}

/* The heartbeats' last pings into the engine, then what that changed. */
static void alerting_restore_pings(struct alerting *al)
{
	for (size_t i = 0; i < al->conf->n_checks; i++) {
		int64_t ping = sched_heartbeat_last_ping_ms(al->sched, al->conf->checks[i].name);

		if (ping > 0)
			engine_set_last_ping(al->engine, al->conf->checks[i].name, ping);
	}
	alerting_flush(al);
}

/* An event for a firing instance restored from the database, for the
 * Alertmanager re-posts (the original event is in the outbox, but the
 * labels are all Alertmanager needs to keep the alert). */
struct refire_ctx {
	struct alerting *al;
};

static void alerting_rearm_one(const struct engine_instance_info *i, void *ctx)
{
	struct alerting *al = ((struct refire_ctx *)ctx)->al;
	const struct alert_rule *r;
	struct alert_event ev;

	if (i->state != ALERT_FIRING)
		return;
	r = conf_find_rule(al->conf, i->rule);
	if (r == NULL || r->n_notify == 0)
		return;
	alert_event_build(&ev, &(struct alert_event_spec){
		.kind = ALERT_EVENT_FIRING, .rule = i->rule, .check = i->check, .group = i->group,
		.severity = i->severity, .alert_id = i->alert_id, .ts_us = util_wall_us(),
		.started_us = i->fired_ms * 1000, .value = i->value, .message = "",
		.public_url = al->conf->agent.public_url, .expr = r->when_text,
		.location = al->conf->agent.location, .run_id = i->run_id,
	});
	delivery_refire_arm(al->delivery, &ev, r->notify, r->n_notify);
	alert_event_clear(&ev);
}

/* At start: alert state back into the engine (no second page for what
 * already paged), the recent past into its windows, and every notification
 * that was not delivered before the stop or crash back into delivery. */
static void alerting_restore(struct alerting *al)
{
	char err[256];
	struct store_reader *r = store_reader_open(al->conf->agent.database, err, sizeof(err));
	struct alert_state_row *states = NULL;
	struct outbox_row *rows = NULL;
	size_t n_states = 0, n_rows = 0;
	struct refire_ctx rc = { al };

	engine_install(al, al->conf);   /* takes its own reference */
	delivery_set_notifiers(al->delivery, al->conf->notifiers, al->conf->n_notifiers);
	if (r == NULL)
		log_error("cannot read alert state and outbox", "error", err);
	if (al->fleet != NULL) {
		alerting_fleet_restore(al, r);
		if (r != NULL)
			alerting_prime_engine(al, r);
		alerting_restore_pings(al);
		store_reader_close(r);
		return;
	}
	if (r == NULL) {
		alerting_flush(al);
		return;
	}
	if (store_alert_states(r, &states, &n_states) == 0) {
		for (size_t i = 0; i < n_states; i++) {
			engine_restore(al->engine, states[i].rule, states[i].check, states[i].state,
			               states[i].since_us / 1000, states[i].fired_us / 1000,
			               states[i].last_sent_us / 1000, states[i].alert_id, states[i].value,
			               util_wall_us() / 1000);
			alert_state_row_clear(&states[i]);
		}
		free(states);
	}
	alerting_prime_engine(al, r);
	alerting_restore_pings(al);
	if (store_outbox_pending(r, &rows, &n_rows) == 0) {
		if (n_rows > 0) {
			char n[24];

			snprintf(n, sizeof(n), "%zu", n_rows);
			log_info("undelivered notifications found: sending them", "count", n);
		}
		for (size_t i = 0; i < n_rows; i++) {
			delivery_add(al->delivery, &rows[i]);
			outbox_row_clear(&rows[i]);
		}
		free(rows);
	}
	engine_foreach_instance(al->engine, alerting_rearm_one, &rc);
	store_reader_close(r);
}

/* Fills the snapshot's alerting part: maintenance state, the instances
 * pending or firing, and delivery figures per notifier. */
struct snap_fill {
	struct snapshot *snap;
	size_t cap;
};

static void alerting_snap_alert(const struct engine_instance_info *i, void *ctx)
{
	struct snap_fill *f = ctx;
	struct snapshot_alert *sa;

	if (i->state == ALERT_OK)
		return;
	if (f->snap->n_alerts == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 8;
		f->snap->alerts = xrealloc(f->snap->alerts, f->cap * sizeof(*f->snap->alerts));
	}
	sa = &f->snap->alerts[f->snap->n_alerts++];
	sa->rule = xstrdup(i->rule);
	sa->check = xstrdup(i->check);
	sa->severity = xstrdup(alert_severity_name(i->severity));
	sa->value = xstrdup(i->value ? i->value : "");
	sa->alert_id = xstrdup(i->alert_id ? i->alert_id : "");
	sa->run_id = xstrdup(i->run_id ? i->run_id : "");
	sa->state = (int)i->state;
	sa->since_us = i->since_ms * 1000;
}

void alerting_publish(struct alerting *al, struct snapshot *snap)
{
	struct snap_fill f = { snap, 0 };
	int64_t now_ms = util_wall_us() / 1000;

	/* The engine's windows come from al->conf: without any, no check can be
	 * in maintenance, and the per-check lookup is skipped (this runs four
	 * times a second over every check). */
	for (size_t i = 0; al->conf->n_maintenance > 0 && i < snap->n_checks; i++)
		if (engine_in_maintenance(al->engine, snap->checks[i].check->name, now_ms))
			snap->checks[i].state = CHECK_STATE_MAINTENANCE;
	engine_foreach_instance(al->engine, alerting_snap_alert, &f);
	if (al->conf->n_notifiers == 0)
		return;
	snap->notifiers = xcalloc(al->conf->n_notifiers, sizeof(*snap->notifiers));
	for (size_t i = 0; i < al->conf->n_notifiers; i++) {
		struct snapshot_notifier *sn = &snap->notifiers[snap->n_notifiers++];
		struct delivery_stats ds;

		sn->name = xstrdup(al->conf->notifiers[i].name);
		if (delivery_get_stats(al->delivery, sn->name, &ds) != 0)
			continue;
		sn->delivered = ds.delivered;
		sn->failed_attempts = ds.failed;
		sn->dead = ds.dead;
		sn->queue_pending = ds.queued;
		sn->queue_dead = ds.dead;       /* dead since start; older ones are in the API */
		sn->breaker_open = ds.breaker != BREAKER_CLOSED;
	}
}

/* --- admin "retry a dead notification" from a server thread ------------------- */

/* The dead notification to requeue; its waiter's status: 0 requeued,
 * -2 not dead, -3 failed. The writer commits the requeue, then the loop
 * hands the row to delivery. */
struct retry_request {
	struct alerting *al;
	struct outbox_row row;
};

static void retry_request_free(void *p)
{
	struct retry_request *rr = p;

	outbox_row_clear(&rr->row);
	free(rr);
}

/* On the loop: the row is pending again in SQLite; delivery takes it. */
static void retry_request_loop(struct loop *l, void *arg)
{
	struct waiter *w = arg;
	struct retry_request *rr = waiter_payload(w);
	struct alerting *al = rr->al;

	if (al->stopping || al->delivery == NULL) {
		waiter_finish(w, -3);
		return;
	}
	delivery_add(al->delivery, &rr->row);
	waiter_finish(w, 0);
}

/* On the writer thread, after the requeue committed (or not). */
static void retry_request_committed(int rc, const int64_t *ids, size_t n_ids, void *arg)
{
	struct waiter *w = arg;
	struct retry_request *rr = waiter_payload(w);

	if (rc != 0)
		waiter_finish(w, -3);
	else if (n_ids == 0)
		waiter_finish(w, -2);
	else if (loop_post(rr->al->loop, retry_request_loop, w) != 0)
		waiter_finish(w, -3);   /* pending in SQLite: sent at the next start */
}

int alerting_retry_notification(struct alerting *al, const struct outbox_row *row)
{
	struct retry_request *rr = xcalloc(1, sizeof(*rr));
	struct waiter *w;
	int64_t now = util_wall_us();
	int status;
	char id[24];

	rr->al = al;
	outbox_row_copy(&rr->row, row);
	rr->row.state = OUTBOX_PENDING;
	rr->row.attempts = 0;
	rr->row.created_us = now;
	rr->row.next_attempt_us = now;
	free(rr->row.last_error);
	rr->row.last_error = NULL;
	w = waiter_new(rr, retry_request_free);
	snprintf(id, sizeof(id), "%lld", (long long)row->id);
	log_info("notification requeued by the admin API", "notification_id", id,
	         "alert_id", row->event.alert_id ? row->event.alert_id : "", "notifier", row->notifier);
	store_outbox_requeue(al->store, row->id, now, retry_request_committed, w);
	status = waiter_wait(w, 10000);
	waiter_put(w);
	return status == WAITER_PENDING ? -3 : status;
}


/* --- the agent's calls ------------------------------------------------------ */

struct alerting *alerting_start(const struct alerting_env *env, struct conf *conf)
{
	struct alerting *al = xcalloc(1, sizeof(*al));
	struct engine_hooks eh = { .emit = alerting_on_transition, .ctx = al };
	struct delivery_hooks dh = { .progress = alerting_on_progress, .ctx = al };

	al->loop = env->loop;
	al->store = env->store;
	al->sched = env->sched;
	al->dirty = env->dirty;
	al->conf = conf_ref(conf);
	al->engine = engine_new(&eh);
	al->delivery = delivery_new(env->loop, env->curlm, &dh, NULL, NULL);
	al->fleet = alerting_fleet_new(al);
	loop_timer_init(&al->tick_timer, alerting_tick, al);
	alerting_restore(al);
	alerting_tick_arm(al);
	return al;
}

void alerting_on_result(struct alerting *al, const struct check *c, const struct probe_result *r)
{
	/* An abandoned run says nothing about the target: the engine does not see it. */
	if (r->error == PROBE_ERR_ABORTED)
		return;
	engine_on_result(al->engine, c, r, util_wall_us() / 1000);
	alerting_flush(al);
}

void alerting_on_ping(struct alerting *al, const struct check *c, int64_t ping_ms)
{
	engine_set_last_ping(al->engine, c->name, ping_ms);
	alerting_flush(al);
}

void alerting_set_conf(struct alerting *al, struct conf *next)
{
	engine_install(al, next);
	alerting_flush(al);
	delivery_set_notifiers(al->delivery, next->notifiers, next->n_notifiers);
	conf_ref(next);
	conf_unref(al->conf);
	al->conf = next;
	alerting_tick_arm(al);
}

void alerting_begin_stop(struct alerting *al)
{
	if (al == NULL)
		return;
	al->stopping = true;
	delivery_drain(al->delivery);
	loop_timer_stop(al->loop, &al->tick_timer);
}

size_t alerting_in_flight(const struct alerting *al)
{
	return al != NULL && al->delivery != NULL ? delivery_in_flight(al->delivery) : 0;
}

void alerting_abandon(struct alerting *al)
{
	if (al != NULL)
		delivery_stop(al->delivery);
}

void alerting_close(struct alerting *al)
{
	if (al == NULL)
		return;
	loop_timer_stop(al->loop, &al->tick_timer);
	/* Cancels the transfers in flight: before curlm_free. */
	delivery_free(al->delivery);
	al->delivery = NULL;
}

void alerting_free(struct alerting *al)
{
	if (al == NULL)
		return;
	delivery_free(al->delivery);
	engine_free(al->engine);
	alerting_fleet_free(al->fleet);
	outbox_tx_clear(&al->tx);
	conf_unref(al->conf);
	free(al);
}

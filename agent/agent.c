/* agent.c — `pharos run`: one event loop thread owning the scheduler and every
 * probe in flight, a writer thread for SQLite, libmicrohttpd's threads for the
 * API. Signals arrive through a signalfd in the loop: SIGHUP reloads,
 * SIGTERM/SIGINT stop. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "agent.h"
#include "core/curlm.h"
#include "core/database.h"
#include "alerts/delivery.h"
#include "alerts/engine.h"
#include "heartbeat.h"
#include "web/httpd.h"
#include "core/log.h"
#include "core/loop.h"
#include "alerts/outbox.h"
#include "core/resolver.h"
#include "sched.h"
#include "web/snapshot.h"
#include "store/store.h"
#include "core/util.h"
#include "core/waiter.h"

#define PUBLISH_INTERVAL_MS 250     /* how stale the API's view may be */
#define STATS_LOG_INTERVAL_MS 60000
#define SHUTDOWN_MARGIN_MS 2000     /* beyond the longest probe timeout */
#define SYSTEM_DNS_TIMEOUT_MS 5000
#define ALERT_TICK_MS 1000
#define PRIME_RESULTS_MAX 1000      /* past results per check fed to the engine at start */
#define PRIME_SPAN_US (3600LL * 1000000LL)

struct agent {
	struct conf *conf;
	struct loop *loop;
	struct curlm *curlm;
	struct resolver *resolver;
	struct probe_env env;
	struct sched *sched;
	struct store *store;
	struct httpd *httpd;
	int signal_fd;
	struct loop_timer publish_timer;
	struct loop_timer stats_timer;
	struct loop_timer shutdown_timer;
	struct loop_timer deadline_timer;
	struct loop_timer alert_timer;  /* engine_tick */
	struct engine *engine;
	struct delivery *delivery;
	struct outbox_tx tx;            /* what the current engine call emitted */
	struct conf *prev_conf;         /* during a reload: the conf being replaced */
	unsigned publish_passes;
	bool dirty;                     /* state changed since the last publish */
	bool stopping;
	uint64_t alive_ms;              /* atomic: last loop pass, for /healthz */
	uint64_t last_stats_runs;
};

/* --- admin "run now" from a server thread ------------------------------------ */

/* What a server thread asks of the loop, and the result it gets back
 * (through a waiter: status 0 done, -1 no such check, -2 stopping). */
struct run_request {
	struct agent *agent;
	char name[80];
	bool has_result;
	struct probe_result result;
};

static void run_request_free(void *p)
{
	struct run_request *req = p;

	if (req->has_result)
		probe_result_clear(&req->result);
	free(req);
}

static void run_request_done(const struct probe_result *r, void *arg)
{
	struct waiter *w = arg;
	struct run_request *req = waiter_payload(w);

	probe_result_copy(&req->result, r);
	req->has_result = true;
	waiter_finish(w, 0);
}

static void run_request_start(struct loop *l, void *arg)
{
	struct waiter *w = arg;
	struct run_request *req = waiter_payload(w);

	if (req->agent->stopping)
		waiter_finish(w, -2);
	else if (sched_run_now(req->agent->sched, req->name, run_request_done, w) != 0)
		waiter_finish(w, -1);
}

static int agent_run_check(void *ctx, const char *name, struct probe_result *out)
{
	struct agent *a = ctx;
	struct run_request *req;
	struct waiter *w;
	const struct check *c;
	struct snapshot *snap = snapshot_acquire();
	uint64_t wait_ms = 15000;
	int status;

	/* Bound the wait by what the run can take, from the config in force. */
	c = snap ? conf_find_check(snap->conf, name) : NULL;
	if (c)
		wait_ms = c->timeout_ms * (uint64_t)(c->retries + 1) +
		          c->retry_interval_ms * (uint64_t)c->retries + 5000;
	if (snap)
		snapshot_release(snap);
	if (!c)
		return -1;

	req = xcalloc(1, sizeof(*req));
	req->agent = a;
	util_strlcpy(req->name, name, sizeof(req->name));
	w = waiter_new(req, run_request_free);
	if (loop_post(a->loop, run_request_start, w) != 0) {
		waiter_abandon(w);
		return -2;
	}
	status = waiter_wait(w, wait_ms);
	if (status == 0)
		probe_result_copy(out, &req->result);
	waiter_put(w);
	return status == WAITER_PENDING ? -2 : status;
}

static bool agent_loop_alive(void *ctx)
{
	struct agent *a = ctx;
	uint64_t last = __atomic_load_n(&a->alive_ms, __ATOMIC_RELAXED);

	return util_mono_ms() - last < 5000;
}

/* A heartbeat ping from a server thread: recorded on the loop (heartbeat.c). */
static int agent_push(void *ctx, const char *name, bool fail, const char *message,
                      bool truncated, char *state, size_t state_len)
{
	struct agent *a = ctx;

	return heartbeat_deliver(a->loop, a->sched, name, fail, message, truncated, state, state_len);
}

/* --- alerts: engine -> outbox (one transaction) -> delivery ----------------- */

/* Rows of one committed alert unit, kept by the agent so that delivery gets
 * them (with their new ids) once the writer has committed the unit. */
struct alert_commit {
	struct agent *agent;
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
static void agent_alert_committed_loop(struct loop *l, void *arg)
{
	struct alert_commit *ac = arg;
	struct agent *a = ac->agent;

	for (size_t i = 0; i < ac->n && ac->ids != NULL; i++) {
		if (ac->ids[i] <= 0)
			continue;       /* same key already in the outbox: sent once */
		ac->rows[i].id = ac->ids[i];
		if (!a->stopping && a->delivery != NULL)
			delivery_add(a->delivery, &ac->rows[i]);
	}
	alert_commit_free(ac);
}

/* On the writer thread, after the commit (or after giving up at close). */
static void agent_alert_committed(int rc, const int64_t *ids, size_t n_ids, void *arg)
{
	struct alert_commit *ac = arg;

	if (rc != 0 || ac->n == 0) {
		alert_commit_free(ac);
		return;
	}
	ac->ids = xcalloc(ac->n, sizeof(*ac->ids));
	memcpy(ac->ids, ids, (n_ids < ac->n ? n_ids : ac->n) * sizeof(*ids));
	if (loop_post(ac->agent->loop, agent_alert_committed_loop, ac) != 0)
		alert_commit_free(ac);
}

/* Commits what the last engine call emitted: state changes, history and
 * notifications in one unit. Call after every engine entry point. */
static void agent_alert_flush(struct agent *a)
{
	struct alert_commit *ac;

	if (outbox_tx_empty(&a->tx))
		return;
	ac = xcalloc(1, sizeof(*ac));
	ac->agent = a;
	ac->n = a->tx.n_rows;
	if (ac->n > 0) {
		ac->rows = xcalloc(ac->n, sizeof(*ac->rows));
		for (size_t i = 0; i < ac->n; i++)
			outbox_row_copy(&ac->rows[i], &a->tx.rows[i]);
	}
	store_alert_commit(a->store, &a->tx, agent_alert_committed, ac);
	a->dirty = true;
}

/* The rule named name in the conf in force, or in the one a reload replaces
 * (an instance dropped by the reload resolves through its old rule). */
static const struct alert_rule *agent_find_rule(struct agent *a, const char *name)
{
	const struct alert_rule *r = conf_find_rule(a->conf, name);

	if (r == NULL && a->prev_conf != NULL)
		r = conf_find_rule(a->prev_conf, name);
	return r;
}

/* The engine's hook: one transition becomes a state upsert (or delete), a
 * history line when the state changed, and one notification per notifier
 * of the rule, all collected in a->tx until agent_alert_flush. */
static void agent_on_transition(const struct engine_transition *t, void *ctx)
{
	struct agent *a = ctx;
	struct alert_state_row st = {
		.rule = (char *)t->rule, .check = (char *)t->check, .state = t->to,
		.since_us = t->since_ms * 1000, .fired_us = t->fired_ms * 1000,
		.last_sent_us = t->last_sent_ms * 1000,
		.alert_id = t->alert_id && t->alert_id[0] ? (char *)t->alert_id : NULL,
		.value = t->value && t->value[0] ? (char *)t->value : NULL,
		.gone = t->gone,
	};

	outbox_tx_add_state(&a->tx, &st);
	if (t->from != t->to) {
		struct alert_history_row h = {
			.rule = (char *)t->rule, .check = (char *)t->check, .alert_id = st.alert_id,
			.from_state = (char *)alert_state_name(t->from),
			.to_state = (char *)alert_state_name(t->to),
			.ts_us = t->since_ms > 0 ? t->since_ms * 1000 : util_wall_us(), .value = st.value,
		};

		outbox_tx_add_history(&a->tx, &h);     /* the engine logs the change */
	}
	if (t->event != NULL) {
		const struct alert_rule *r = agent_find_rule(a, t->rule);

		if (r == NULL || r->n_notify == 0)
			return;
		outbox_tx_add_event(&a->tx, t->event, r->notify, r->n_notify, util_wall_us());
	}
}

/* Delivery's hook: progress of a notification, written through the writer. */
static void agent_on_progress(const struct delivery_progress *p, void *ctx)
{
	struct agent *a = ctx;
	struct store_outbox_update u = {
		.id = p->id, .state = p->state, .attempts = p->attempts,
		.next_attempt_us = p->next_attempt_us, .delivered_us = p->delivered_us,
		.last_error = p->last_error,
	};

	store_outbox_update(a->store, &u);
	a->dirty = true;
}

static void agent_alert_tick(struct loop *l, struct loop_timer *t)
{
	struct agent *a = t->arg;

	engine_tick(a->engine, util_wall_us() / 1000);
	agent_alert_flush(a);
	loop_timer_start(l, t, ALERT_TICK_MS);
}

/* A heartbeat ping recorded by the scheduler: heartbeat_age restarts. */
static void agent_on_ping(const struct check *c, int64_t ping_ms, void *arg)
{
	struct agent *a = arg;

	engine_set_last_ping(a->engine, c->name, ping_ms);
	agent_alert_flush(a);
}

/* One check being primed (store_recent_results callback). */
struct prime_ctx {
	struct agent *agent;
	const char *check;
};

static void agent_prime_result(void *arg, const struct store_result *res)
{
	struct prime_ctx *p = arg;

	if (res->error != PROBE_ERR_ABORTED)
		engine_prime(p->agent->engine, p->check, res->ts_us / 1000,
		             (double)res->duration_us / 1000.0, res->ok);
}

/* Feeds the engine the recent past of every check (oldest first), so windows
 * and consecutive counts do not start empty after a restart. */
static void agent_prime_engine(struct agent *a, struct store_reader *r)
{
	int64_t since = util_wall_us() - PRIME_SPAN_US;

	for (size_t i = 0; i < a->conf->n_checks; i++) {
		struct prime_ctx p = { a, a->conf->checks[i].name };

		store_recent_results(r, p.check, since, PRIME_RESULTS_MAX, agent_prime_result, &p);
	}
}

/* An event for a firing instance restored from the database, for the
 * Alertmanager re-posts (the original event is in the outbox, but the
 * labels are all Alertmanager needs to keep the alert). */
struct refire_ctx {
	struct agent *agent;
};

static void agent_rearm_one(const struct engine_instance_info *i, void *ctx)
{
	struct agent *a = ((struct refire_ctx *)ctx)->agent;
	const struct alert_rule *r;
	struct alert_event ev;

	if (i->state != ALERT_FIRING)
		return;
	r = conf_find_rule(a->conf, i->rule);
	if (r == NULL || r->n_notify == 0)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.kind = ALERT_EVENT_FIRING;
	ev.rule = xstrdup(i->rule);
	ev.check = xstrdup(i->check);
	ev.group = xstrdup(i->group ? i->group : "");
	ev.severity = i->severity;
	ev.alert_id = xstrdup(i->alert_id);
	ev.ts_us = util_wall_us();
	ev.started_us = i->fired_ms * 1000;
	ev.value = xstrdup(i->value);
	ev.message = xstrdup("");
	ev.url = xasprintf("%s/check/%s", a->conf->agent.public_url ? a->conf->agent.public_url : "",
	                   i->check);
	ev.expr = xstrdup(r->when_text);
	ev.location = xstrdup(a->conf->agent.location);
	delivery_refire_arm(a->delivery, &ev, r->notify, r->n_notify);
	alert_event_clear(&ev);
}

/* At start: alert state back into the engine (no second page for what
 * already paged), the recent past into its windows, and every notification
 * that was not delivered before the stop or crash back into delivery. */
static void agent_alerts_start(struct agent *a)
{
	char err[256];
	struct store_reader *r = store_reader_open(a->conf->agent.database, err, sizeof(err));
	struct alert_state_row *states = NULL;
	struct outbox_row *rows = NULL;
	size_t n_states = 0, n_rows = 0;
	struct refire_ctx rc = { a };

	engine_set_conf(a->engine, a->conf, util_wall_us() / 1000);   /* takes its own reference */
	delivery_set_notifiers(a->delivery, a->conf->notifiers, a->conf->n_notifiers);
	if (r == NULL) {
		log_error("cannot read alert state and outbox", "error", err);
		agent_alert_flush(a);
		return;
	}
	if (store_alert_states(r, &states, &n_states) == 0) {
		for (size_t i = 0; i < n_states; i++) {
			engine_restore(a->engine, states[i].rule, states[i].check, states[i].state,
			               states[i].since_us / 1000, states[i].fired_us / 1000,
			               states[i].last_sent_us / 1000, states[i].alert_id, states[i].value,
			               util_wall_us() / 1000);
			alert_state_row_clear(&states[i]);
		}
		free(states);
	}
	agent_prime_engine(a, r);
	for (size_t i = 0; i < a->conf->n_checks; i++) {
		int64_t ping = sched_heartbeat_last_ping_ms(a->sched, a->conf->checks[i].name);

		if (ping > 0)
			engine_set_last_ping(a->engine, a->conf->checks[i].name, ping);
	}
	agent_alert_flush(a);
	if (store_outbox_pending(r, &rows, &n_rows) == 0) {
		if (n_rows > 0) {
			char n[24];

			snprintf(n, sizeof(n), "%zu", n_rows);
			log_info("undelivered notifications found: sending them", "count", n);
		}
		for (size_t i = 0; i < n_rows; i++) {
			delivery_add(a->delivery, &rows[i]);
			outbox_row_clear(&rows[i]);
		}
		free(rows);
	}
	engine_foreach_instance(a->engine, agent_rearm_one, &rc);
	store_reader_close(r);
}

/* Fills the snapshot's alerting part: maintenance state, the instances
 * pending or firing, and delivery figures per notifier. */
struct snap_fill {
	struct snapshot *snap;
	size_t cap;
};

static void agent_snap_alert(const struct engine_instance_info *i, void *ctx)
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
	sa->state = (int)i->state;
	sa->since_us = i->since_ms * 1000;
}

static void agent_publish_alerts(struct agent *a, struct snapshot *snap)
{
	struct snap_fill f = { snap, 0 };
	int64_t now_ms = util_wall_us() / 1000;

	/* The engine's windows come from a->conf: without any, no check can be
	 * in maintenance, and the per-check lookup is skipped (this runs four
	 * times a second over every check). */
	for (size_t i = 0; a->conf->n_maintenance > 0 && i < snap->n_checks; i++)
		if (engine_in_maintenance(a->engine, snap->checks[i].check->name, now_ms))
			snap->checks[i].state = CHECK_STATE_MAINTENANCE;
	engine_foreach_instance(a->engine, agent_snap_alert, &f);
	if (a->conf->n_notifiers == 0)
		return;
	snap->notifiers = xcalloc(a->conf->n_notifiers, sizeof(*snap->notifiers));
	for (size_t i = 0; i < a->conf->n_notifiers; i++) {
		struct snapshot_notifier *sn = &snap->notifiers[snap->n_notifiers++];
		struct delivery_stats ds;

		sn->name = xstrdup(a->conf->notifiers[i].name);
		if (delivery_get_stats(a->delivery, sn->name, &ds) != 0)
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
	struct agent *agent;
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
	struct agent *a = rr->agent;

	if (a->stopping || a->delivery == NULL) {
		waiter_finish(w, -3);
		return;
	}
	delivery_add(a->delivery, &rr->row);
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
	else if (loop_post(rr->agent->loop, retry_request_loop, w) != 0)
		waiter_finish(w, -3);   /* pending in SQLite: sent at the next start */
}

static int agent_retry_notification(void *ctx, const struct outbox_row *row)
{
	struct agent *a = ctx;
	struct retry_request *rr = xcalloc(1, sizeof(*rr));
	struct waiter *w;
	int64_t now = util_wall_us();
	int status;
	char id[24];

	rr->agent = a;
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
	store_outbox_requeue(a->store, row->id, now, retry_request_committed, w);
	status = waiter_wait(w, 10000);
	waiter_put(w);
	return status == WAITER_PENDING ? -3 : status;
}

/* --- results and publishing -------------------------------------------------- */

static void agent_on_result(const struct check *c, const struct probe_result *r,
                            bool manual, void *arg)
{
	struct agent *a = arg;
	char dur[32];

	/* Formatted only when a line is written: this runs once per probe. */
	if (log_enabled(r->ok ? LOG_DEBUG : LOG_INFO))
		snprintf(dur, sizeof(dur), "%.1f", (double)r->duration_us / 1000.0);
	if (r->ok)
		log_debug("probe passed", "check", c->name, "run_id", r->run_id,
		          "duration_ms", dur, "manual", manual ? "true" : "false");
	else
		log_info("probe failed", "check", c->name, "run_id", r->run_id,
		         "error", probe_error_name(r->error), "message", r->message,
		         "duration_ms", dur, "manual", manual ? "true" : "false");
	/* An abandoned run is recorded too: the history shows the agent stopped mid-probe. */
	store_append(a->store, c->name, r);
	/* ... but it says nothing about the target: the engine does not see it. */
	if (r->error != PROBE_ERR_ABORTED) {
		engine_on_result(a->engine, c, r, util_wall_us() / 1000);
		agent_alert_flush(a);
	}
	a->dirty = true;
}

static void agent_publish(struct agent *a)
{
	struct snapshot *snap = sched_snapshot(a->sched);
	struct sched_stats st;

	sched_get_stats(a->sched, &st);
	snap->scheduler_on_time = st.on_time;
	snap->lag_p99_ms = st.lag_p99_ms;
	snap->store_ok = store_healthy(a->store);
	snap->store_dropped = store_dropped_results(a->store);
	if (!snap->store_ok)
		store_last_error(a->store, snap->store_error, sizeof(snap->store_error));
	agent_publish_alerts(a, snap);
	snapshot_publish(snap);
	a->dirty = false;
}

static void agent_publish_due(struct loop *l, struct loop_timer *t)
{
	struct agent *a = t->arg;

	__atomic_store_n(&a->alive_ms, loop_now(l), __ATOMIC_RELAXED);
	/* Health facts (store, lag) can change without a new result: publish at
	 * least every few passes even when nothing is dirty. */
	if (a->dirty || ++a->publish_passes % 8 == 0)
		agent_publish(a);
	loop_timer_start(l, t, PUBLISH_INTERVAL_MS);
}

static void agent_stats_due(struct loop *l, struct loop_timer *t)
{
	struct agent *a = t->arg;
	struct sched_stats st;
	char runs[32], skipped[32], p50[32], p99[32], inflight[32];

	sched_get_stats(a->sched, &st);
	snprintf(runs, sizeof(runs), "%llu", (unsigned long long)(st.runs - a->last_stats_runs));
	snprintf(skipped, sizeof(skipped), "%llu", (unsigned long long)st.skipped);
	snprintf(p50, sizeof(p50), "%.2f", st.lag_p50_ms);
	snprintf(p99, sizeof(p99), "%.2f", st.lag_p99_ms);
	snprintf(inflight, sizeof(inflight), "%d", curlm_running(a->curlm));
	a->last_stats_runs = st.runs;
	log_info("scheduler stats", "runs_last_minute", runs, "skipped_total", skipped,
	         "lag_p50_ms", p50, "lag_p99_ms", p99, "http_in_flight", inflight);
	loop_timer_start(l, t, STATS_LOG_INTERVAL_MS);
}

/* --- reload and shutdown ------------------------------------------------------ */

static void agent_reload(struct agent *a)
{
	struct conf_errors errs = {0};
	struct conf *next;

	log_info("reloading configuration", "file", a->conf->path);
	next = conf_load(a->conf->path, &errs);
	if (!next) {
		for (size_t i = 0; i < errs.n; i++)
			log_error("config error", "error", errs.lines[i]);
		log_error("reload rejected: the running configuration stays in force",
		          "file", a->conf->path);
		conf_errors_free(&errs);
		return;
	}
	sched_set_conf(a->sched, next);
	/* Instances dropped by the reload resolve through their old rule. */
	a->prev_conf = a->conf;
	engine_set_conf(a->engine, next, util_wall_us() / 1000);
	agent_alert_flush(a);
	a->prev_conf = NULL;
	delivery_set_notifiers(a->delivery, next->notifiers, next->n_notifiers);
	httpd_update_conf(a->httpd, next);
	conf_unref(a->conf);
	a->conf = next;
	store_set_retention(a->store, next->agent.retention_raw_ms, next->agent.retention_rollups_ms);
	agent_publish(a);
	char n[16];
	snprintf(n, sizeof(n), "%zu", next->n_checks);
	log_info("configuration reloaded", "checks", n);
}

static void agent_shutdown_check(struct loop *l, struct loop_timer *t)
{
	struct agent *a = t->arg;

	if (sched_idle(a->sched) && (a->delivery == NULL || delivery_in_flight(a->delivery) == 0)) {
		loop_timer_stop(l, &a->deadline_timer);
		delivery_stop(a->delivery);
		loop_stop(l);
		return;
	}
	loop_timer_start(l, t, 20);
}

static void agent_shutdown_deadline(struct loop *l, struct loop_timer *t);

static void agent_begin_stop(struct agent *a, const char *why)
{
	uint64_t limit;

	if (a->stopping)
		return;
	a->stopping = true;
	/* Notification attempts in flight get until the deadline to be answered
	 * (an answered one is recorded as delivered, not sent again at the next
	 * start); what is still in flight then is abandoned and stays pending in
	 * SQLite, to be sent with the same key at the next start. */
	delivery_drain(a->delivery);
	loop_timer_stop(a->loop, &a->alert_timer);
	sched_stop(a->sched);
	limit = sched_max_timeout_ms(a->sched) + SHUTDOWN_MARGIN_MS;
	char lim[32];
	snprintf(lim, sizeof(lim), "%llu", (unsigned long long)limit);
	log_info("stopping: waiting for probes in flight", "signal", why, "deadline_ms", lim);
	/* Poll for idleness; the deadline timer aborts what is still running. */
	loop_timer_start(a->loop, &a->shutdown_timer, 0);
	loop_timer_start(a->loop, &a->deadline_timer, limit);
}

static void agent_shutdown_deadline(struct loop *l, struct loop_timer *t)
{
	struct agent *a = t->arg;

	if (!sched_idle(a->sched)) {
		log_warn("abandoning probes still in flight at the shutdown deadline");
		sched_abort_all(a->sched);
	}
	if (a->delivery != NULL && delivery_in_flight(a->delivery) > 0)
		log_warn("abandoning notification attempts still in flight at the shutdown deadline: "
		         "they stay queued for the next start");
	delivery_stop(a->delivery);
	loop_timer_stop(l, &a->shutdown_timer);
	loop_stop(l);
}

static void agent_on_signal(struct loop *l, int fd, int events, void *arg)
{
	struct agent *a = arg;
	struct signalfd_siginfo si;

	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGHUP)
			agent_reload(a);
		else
			agent_begin_stop(a, si.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT");
	}
}

static void agent_signal_set(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
}

/* Blocks the agent's signals in the calling thread. Must run before any
 * thread is created (threads inherit the mask): otherwise the kernel may hand
 * SIGTERM to the writer or a server thread, whose default action kills the
 * process without a clean stop. */
static int agent_block_signals(void)
{
	sigset_t set;

	agent_signal_set(&set);
	signal(SIGPIPE, SIG_IGN);
	return pthread_sigmask(SIG_BLOCK, &set, NULL) == 0 ? 0 : -1;
}

/* The signals, blocked since the start, are read from a signalfd in the loop. */
static int agent_setup_signals(struct agent *a)
{
	sigset_t set;

	agent_signal_set(&set);
	a->signal_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (a->signal_fd < 0)
		return -1;
	return loop_fd_set(a->loop, a->signal_fd, LOOP_READ, agent_on_signal, a);
}

/* One check being seeded (store_recent_results callback). */
struct seed_ctx {
	struct agent *agent;
	const char *check;
};

static void agent_seed_result(void *arg, const struct store_result *res)
{
	struct seed_ctx *sc = arg;
	const char *lp = json_string_value(json_object_get(res->details, "last_ping"));
	int64_t lp_us = 0;

	if (res->error != PROBE_ERR_ABORTED)
		sched_seed_state(sc->agent->sched, sc->check, res->ts_us, res->ok, res->duration_us,
		                 res->error, res->message);
	/* A heartbeat's last ping, so a restart keeps its lateness. */
	if (lp && util_parse_time(lp, &lp_us) == 0)
		sched_seed_heartbeat(sc->agent->sched, sc->check, lp_us / 1000);
}

/* The state a check had before a restart, so the page is not blank until
 * every check ran again. */
static void agent_seed_from_store(struct agent *a)
{
	char err[256];
	struct store_reader *r = store_reader_open(a->conf->agent.database, err, sizeof(err));

	if (!r)
		return;
	for (size_t i = 0; i < a->conf->n_checks; i++) {
		struct seed_ctx sc = { a, a->conf->checks[i].name };

		store_recent_results(r, sc.check, 0, 1, agent_seed_result, &sc);
	}
	store_reader_close(r);
}

int agent_run(struct conf *conf)
{
	struct agent a = { .conf = conf, .signal_fd = -1 };
	char err[512];
	int rc = 1;

	log_setup(conf->agent.log_format, LOG_INFO);
	if (agent_block_signals() != 0) {
		log_error("cannot block signals", "error", strerror(errno));
		conf_unref(conf);
		return 1;
	}
	a.store = store_open(conf->agent.database, err, sizeof(err));
	if (!a.store) {
		char shown[512];    /* a URI's password stays out of the log */

		log_error("cannot open the database", "file",
		          database_display(conf->agent.database, shown, sizeof(shown)), "error", err);
		conf_unref(conf);
		return 1;
	}
	store_set_retention(a.store, conf->agent.retention_raw_ms, conf->agent.retention_rollups_ms);
	a.loop = loop_new();
	loop_timer_init(&a.publish_timer, agent_publish_due, &a);
	loop_timer_init(&a.stats_timer, agent_stats_due, &a);
	loop_timer_init(&a.shutdown_timer, agent_shutdown_check, &a);
	loop_timer_init(&a.deadline_timer, agent_shutdown_deadline, &a);
	a.curlm = curlm_new(a.loop);
	a.resolver = resolver_new(a.loop, NULL, SYSTEM_DNS_TIMEOUT_MS, err, sizeof(err));
	if (!a.resolver) {
		log_error("cannot start the DNS resolver", "error", err);
		goto out;
	}
	a.env = (struct probe_env){ .loop = a.loop, .curlm = a.curlm, .resolver = a.resolver };
	a.sched = sched_new(&a.env, agent_on_result, &a);
	sched_set_ping_fn(a.sched, agent_on_ping, &a);
	sched_set_conf(a.sched, conf);
	agent_seed_from_store(&a);
	{
		struct engine_hooks eh = { .emit = agent_on_transition, .ctx = &a };
		struct delivery_hooks dh = { .progress = agent_on_progress, .ctx = &a };

		a.engine = engine_new(&eh);
		a.delivery = delivery_new(a.loop, a.curlm, &dh, NULL, NULL);
		loop_timer_init(&a.alert_timer, agent_alert_tick, &a);
		agent_alerts_start(&a);
		loop_timer_start(a.loop, &a.alert_timer, ALERT_TICK_MS);
	}
	agent_publish(&a);
	if (agent_setup_signals(&a) != 0) {
		log_error("cannot set up signal handling", "error", strerror(errno));
		goto out;
	}
	__atomic_store_n(&a.alive_ms, util_mono_ms(), __ATOMIC_RELAXED);

	struct httpd_ops ops = { .run_check = agent_run_check, .loop_alive = agent_loop_alive,
	                         .push = agent_push,
	                         .retry_notification = agent_retry_notification, .ctx = &a };
	a.httpd = httpd_start(conf, &ops, err, sizeof(err));
	if (!a.httpd) {
		log_error("cannot start the HTTP server", "listen", conf->agent.listen, "error", err);
		goto out;
	}
	loop_timer_start(a.loop, &a.publish_timer, PUBLISH_INTERVAL_MS);
	loop_timer_start(a.loop, &a.stats_timer, STATS_LOG_INTERVAL_MS);

	char n[16], shown[512];
	snprintf(n, sizeof(n), "%zu", conf->n_checks);
	log_info("pharos started", "version", PHAROS_VERSION, "checks", n, "listen",
	         conf->agent.listen, "database",
	         database_display(conf->agent.database, shown, sizeof(shown)));
	loop_run(a.loop);
	rc = 0;

out:
	if (a.httpd)
		httpd_stop(a.httpd);
	if (a.sched) {
		sched_stop(a.sched);
		sched_abort_all(a.sched);
	}
	loop_timer_stop(a.loop, &a.publish_timer);
	loop_timer_stop(a.loop, &a.stats_timer);
	loop_timer_stop(a.loop, &a.shutdown_timer);
	loop_timer_stop(a.loop, &a.deadline_timer);
	if (a.engine != NULL)
		loop_timer_stop(a.loop, &a.alert_timer);
	/* Cancels the transfers in flight: before curlm_free. */
	delivery_free(a.delivery);
	a.delivery = NULL;
	if (a.signal_fd >= 0) {
		loop_fd_set(a.loop, a.signal_fd, 0, NULL, NULL);
		close(a.signal_fd);
	}
	sched_free(a.sched);
	snapshot_publish(NULL);
	store_close(a.store);
	/* Completions the writer posted while closing: free them (delivery is gone). */
	loop_run_once(a.loop, 0);
	if (a.engine != NULL)
		engine_free(a.engine);
	outbox_tx_clear(&a.tx);
	probe_dns_cleanup();
	if (a.resolver)
		resolver_free(a.resolver);
	curlm_free(a.curlm);
	loop_free(a.loop);
	if (rc == 0)
		log_info("pharos stopped");
	conf_unref(a.conf);
	return rc;
}

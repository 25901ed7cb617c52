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
#include "alerting.h"
#include "core/curlm.h"
#include "heartbeat.h"
#include "web/httpd.h"
#include "routes.h"
#include "core/log.h"
#include "core/loop.h"
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
	struct alerting *alerting;      /* results -> engine -> outbox -> delivery */
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

/* Delivery of notifications is alerting.c's; the admin API's retry goes there. */
static int agent_retry_notification(void *ctx, const struct outbox_row *row)
{
	struct agent *a = ctx;

	return alerting_retry_notification(a->alerting, row);
}

/* A heartbeat ping recorded by the scheduler: heartbeat_age restarts. */
static void agent_on_ping(const struct check *c, int64_t ping_ms, void *arg)
{
	struct agent *a = arg;

	if (a->alerting != NULL)
		alerting_on_ping(a->alerting, c, ping_ms);
}

/* --- admin "incident status update" from a server thread ---------------------- */

/* On the writer thread, after the update committed (or not): 0 added, -1 no
 * such incident, -2 the store keeps none, -3 failed. */
static void incident_update_committed(int rc, const int64_t *ids, size_t n_ids, void *arg)
{
	(void)ids;
	waiter_finish(arg, rc == -2 ? -2 : rc != 0 ? -3 : n_ids == 1 ? 0 : -1);
}

static int agent_add_incident_update(void *ctx, int64_t id, const char *status,
                                     const char *message)
{
	struct agent *a = ctx;
	struct waiter *w = waiter_new(NULL, NULL);
	int rc;
	char ids[24];

	snprintf(ids, sizeof(ids), "%lld", (long long)id);
	log_info("incident update added by the admin API", "incident_id", ids, "status", status);
	store_incident_update(a->store, id, util_wall_us(), status, message,
	                      incident_update_committed, w);
	rc = waiter_wait(w, 10000);
	waiter_put(w);
	return rc == WAITER_PENDING ? -3 : rc;
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
	/* An abandoned run is recorded too: the history shows the agent stopped
	 * mid-probe. A failure while a dependency is down opens no incident. */
	if (!r->ok && sched_failing_dependency(a->sched, c) != NULL)
		store_append_blocked(a->store, c->name, r);
	else
		store_append(a->store, c->name, r);
	/* ... but it says nothing about the target: alerting leaves it out. */
	alerting_on_result(a->alerting, c, r);
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
	if (!snap->store_ok)
		store_last_error(a->store, snap->store_error, sizeof(snap->store_error));
	alerting_publish(a->alerting, snap);
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

static bool same_setting(const char *x, const char *y)
{
	return (x == NULL && y == NULL) || (x != NULL && y != NULL && strcmp(x, y) == 0);
}

/* Settings a reload cannot apply to a running agent (the TLS files it can):
 * one warning each. The database value is not logged (a URI may hold a
 * password). */
static void warn_restart_needed(const struct conf *cur, const struct conf *next)
{
	if (!same_setting(cur->agent.listen, next->agent.listen))
		log_warn("agent.listen changed: restart pharos to apply it (still listening on the old "
		         "address)", "listen", cur->agent.listen, "new_listen", next->agent.listen);
	if (!same_setting(cur->agent.database, next->agent.database))
		log_warn("agent.database changed: restart pharos to apply it (still writing to the old "
		         "database)");
}

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
	warn_restart_needed(a->conf, next);
	sched_set_conf(a->sched, next);
	alerting_set_conf(a->alerting, next);
	httpd_update_conf(a->httpd, next);
	conf_unref(a->conf);
	a->conf = next;
	store_set_retention(a->store, next->agent.retention_raw_ms, next->agent.retention_rollups_ms);
	agent_publish(a);
	char n[16], r[16], no[16], an[16];
	snprintf(n, sizeof(n), "%zu", next->n_checks);
	snprintf(r, sizeof(r), "%zu", next->n_rules);
	snprintf(no, sizeof(no), "%zu", next->n_notifiers);
	snprintf(an, sizeof(an), "%zu", next->n_announcements);
	log_info("configuration reloaded", "checks", n, "rules", r, "notifiers", no,
	         "announcements", an);
}

static void agent_shutdown_check(struct loop *l, struct loop_timer *t)
{
	struct agent *a = t->arg;

	if (sched_idle(a->sched) && alerting_in_flight(a->alerting) == 0) {
		loop_timer_stop(l, &a->deadline_timer);
		alerting_abandon(a->alerting);
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
	alerting_begin_stop(a->alerting);
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
	if (alerting_in_flight(a->alerting) > 0)
		log_warn("abandoning notification attempts still in flight at the shutdown deadline: "
		         "they stay queued for the next start");
	alerting_abandon(a->alerting);
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
		log_error("cannot open the database", "file", conf->agent.database, "error", err);
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
	a.alerting = alerting_start(&(struct alerting_env){ .loop = a.loop, .curlm = a.curlm,
	                            .store = a.store, .sched = a.sched, .dirty = &a.dirty }, conf);
	agent_publish(&a);
	if (agent_setup_signals(&a) != 0) {
		log_error("cannot set up signal handling", "error", strerror(errno));
		goto out;
	}
	__atomic_store_n(&a.alive_ms, util_mono_ms(), __ATOMIC_RELAXED);

	struct httpd_ops ops = { .run_check = agent_run_check, .loop_alive = agent_loop_alive,
	                         .push = agent_push,
	                         .retry_notification = agent_retry_notification,
	                         .add_incident_update = agent_add_incident_update, .ctx = &a,
	                         .routes = agent_routes, .n_routes = agent_n_routes };
	a.httpd = httpd_start(conf, &ops, err, sizeof(err));
	if (!a.httpd) {
		log_error("cannot start the HTTP server", "listen", conf->agent.listen, "error", err);
		goto out;
	}
	loop_timer_start(a.loop, &a.publish_timer, PUBLISH_INTERVAL_MS);
	loop_timer_start(a.loop, &a.stats_timer, STATS_LOG_INTERVAL_MS);

	char n[16];
	snprintf(n, sizeof(n), "%zu", conf->n_checks);
	log_info("pharos started", "version", PHAROS_VERSION, "checks", n,
	         "listen", conf->agent.listen, "database", conf->agent.database);
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
	/* Cancels the notification transfers in flight: before curlm_free. */
	alerting_close(a.alerting);
	if (a.signal_fd >= 0) {
		loop_fd_set(a.loop, a.signal_fd, 0, NULL, NULL);
		close(a.signal_fd);
	}
	sched_free(a.sched);
	snapshot_publish(NULL);
	store_close(a.store);
	/* Completions the writer posted while closing: free them (delivery is gone). */
	loop_run_once(a.loop, 0);
	alerting_free(a.alerting);
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

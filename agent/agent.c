/* agent.c — `pharos run`: the main event loop thread (results, alerts,
 * publishing), the probe threads owning the checks and every probe in flight
 * (shard.h; the main loop itself with agent.threads = 1), a writer thread for
 * SQLite, libmicrohttpd's threads for the API. Signals arrive through a signalfd in the loop: SIGHUP reloads,
 * SIGTERM/SIGINT stop. */
#include <errno.h>
#include <malloc.h>
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
#include "core/database.h"
#include "fleet.h"
#include "heartbeat.h"
#include "web/httpd.h"
#include "routes.h"
#include "run_now.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/resolver.h"
#include "sched.h"
#include "shard.h"
#include "web/fleet_view.h"
#include "web/snapshot.h"
#include "store/store.h"
#include "core/util.h"
#include "core/waiter.h"
#include "dashboards/page_layout.h"

#define PUBLISH_INTERVAL_MS 250     /* how stale the API's view may be */
/* ... or this many times what building a snapshot cost, when longer: a
 * snapshot of 1,000,000 checks takes the main loop ~100 ms, and four a
 * second starved the results it has to record. */
#define PUBLISH_COST_FACTOR 20
#define HEALTH_INTERVAL_MS 2000     /* health facts and /healthz liveness (5 s), when idle */
#define STATS_LOG_INTERVAL_MS 60000
#define SHUTDOWN_MARGIN_MS 2000     /* beyond the longest probe timeout */
#define SYSTEM_DNS_TIMEOUT_MS 5000

struct agent {
	struct conf *conf;
	struct loop *loop;
	struct curlm *curlm;
	struct resolver *resolver;
	struct probe_env env;
	char *source_address;           /* env's: agent.source_address at start (a reload keeps it) */
	struct shards *shards;          /* the schedulers, one per probe thread */
	struct store *store;
	struct httpd *httpd;
	int signal_fd;
	struct loop_timer publish_timer;
	struct loop_timer stats_timer;
	struct loop_timer shutdown_timer;
	struct loop_timer deadline_timer;
	struct alerting *alerting;      /* results -> engine -> outbox -> delivery */
	struct fleet_view_refresher *fleet_view;    /* PostgreSQL: the fleet's view; else NULL */
	struct fleet *fleet;            /* on PostgreSQL: membership (fleet.h); NULL on SQLite */
	uint64_t publish_due_ms;        /* when publish_timer fires next */
	uint64_t published_ms;          /* when the last snapshot was published */
	uint64_t publish_gap_ms;        /* least time between publishes (PUBLISH_COST_FACTOR) */
	struct snapshot_health published;   /* the health facts last published */
	int published_fleet_up, published_fleet_down;   /* the members last published */
	bool dirty;                     /* state changed since the last publish */
	bool stopping;
	uint64_t alive_ms;              /* atomic: last loop pass, for /healthz */
	uint64_t last_stats_runs;
	uint64_t last_stats_overload;   /* runs skipped for overload at the last stats line */
};

static int agent_run_check(void *ctx, const char *name, struct probe_result *out)
{
	struct agent *a = ctx;

	return run_now(a->shards, &a->stopping, name, out);
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

	return heartbeat_deliver(a->loop, shards_main(a->shards), name, fail, message, truncated, state, state_len);
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

static void agent_mark_dirty(struct agent *a);

/* The first dependency of c whose last run failed, looked up in the
 * scheduler that owns each dependency (checks are spread over the probe
 * threads' schedulers), or NULL. */
static const char *agent_failing_dependency(struct agent *a, const struct check *c)
{
	for (size_t i = 0; i < c->n_depends_on; i++) {
		const struct check *d = conf_find_check(a->conf, c->depends_on[i]);
		const char *failing;

		if (d == NULL)
			continue;
		failing = sched_failing_dependency(shards_sched_for(a->shards, d, NULL), c);
		if (failing != NULL)
			return failing;
	}
	return NULL;
}

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
	if (!r->ok && agent_failing_dependency(a, c) != NULL)
		store_append_blocked(a->store, c->name, r);
	else
		store_append(a->store, c->name, r);
	/* ... but it says nothing about the target: alerting leaves it out. */
	alerting_on_result(a->alerting, c, r);
	agent_mark_dirty(a);
}

/* The fleet's members by state, counted into *up and *down (0 on SQLite). */
static void agent_count_members(struct agent *a, int *up, int *down)
{
	struct fleet_member *m;
	size_t n;

	*up = *down = 0;
	if (a->fleet == NULL)
		return;
	n = fleet_members(a->fleet, &m);
	for (size_t i = 0; i < n; i++) {
		if (m[i].live)
			(*up)++;
		else
			(*down)++;
	}
	free(m);
}

/* The fleet's part of the snapshot: this agent's location and the members by state. */
static void agent_fill_fleet(struct agent *a, struct snapshot *snap)
{
	if (a->fleet == NULL)
		return;
	snap->fleet = true;
	/* The label only when the location was written: a default host name
	 * would rename every series of an agent that never asked for one. */
	if (a->conf->agent.location_set)
		util_strlcpy(snap->fleet_location, fleet_location(a->fleet), sizeof(snap->fleet_location));
	agent_count_members(a, &snap->fleet_up, &snap->fleet_down);
	a->published_fleet_up = snap->fleet_up;
	a->published_fleet_down = snap->fleet_down;
}

static void agent_publish(struct agent *a)
{
	uint64_t t0 = util_mono_us();
	struct snapshot *snap = shards_snapshot(a->shards, a->conf);
	struct sched_stats st;
	uint64_t cost_ms;

	shards_get_stats(a->shards, &st);
	snap->scheduler_on_time = st.on_time;
	snap->lag_p99_ms = st.lag_p99_ms;
	snap->overloaded = st.overloaded;
	snap->runs_skipped_overload = st.skipped_overload;
	snap->runs_skipped_overlap = st.skipped_overlap;
	snap->store_ok = store_healthy(a->store);
	snap->store_dropped = store_dropped_results(a->store);
	if (!snap->store_ok)
		store_last_error(a->store, snap->store_error, sizeof(snap->store_error));
	alerting_publish(a->alerting, snap);
	agent_fill_fleet(a, snap);
	a->published = (struct snapshot_health){
		.store_ok = snap->store_ok, .scheduler_on_time = snap->scheduler_on_time,
		.overloaded = snap->overloaded, .skipped = st.skipped,
	};
	snapshot_publish(snap);
	a->dirty = false;
	a->published_ms = loop_now(a->loop);
	cost_ms = (util_mono_us() - t0) / 1000;
	a->publish_gap_ms = cost_ms * PUBLISH_COST_FACTOR > PUBLISH_INTERVAL_MS
	                    ? cost_ms * PUBLISH_COST_FACTOR : PUBLISH_INTERVAL_MS;
}

/* Whether a fact /readyz, /metrics or the page shows changed without a
 * result (the store failing, runs being skipped, lag crossing its bound, a
 * maintenance window opening). */
static bool agent_health_changed(struct agent *a)
{
	struct sched_stats st;

	/* A maintenance window opens or closes on the clock alone. */
	if (a->conf->n_maintenance > 0)
		return true;
	shards_get_stats(a->shards, &st);
	/* An agent joining or leaving changes pharos_fleet_agents and the
	 * page without a result of this agent's (its checks may run every
	 * few minutes). */
	if (a->fleet != NULL) {
		int up, down;

		agent_count_members(a, &up, &down);
		if (up != a->published_fleet_up || down != a->published_fleet_down)
			return true;
	}
	return store_healthy(a->store) != a->published.store_ok ||
	       st.on_time != a->published.scheduler_on_time ||
	       st.overloaded != a->published.overloaded || st.skipped != a->published.skipped;
}

/* Publishing: within PUBLISH_INTERVAL_MS of a result, and never while
 * nothing changed: an idle agent wakes every HEALTH_INTERVAL_MS here
 * (liveness for /healthz, health facts, alert state marked dirty by
 * alerting.c) and builds no snapshot unless something changed. */
static void agent_publish_due(struct loop *l, struct loop_timer *t)
{
	struct agent *a = t->arg;

	__atomic_store_n(&a->alive_ms, loop_now(l), __ATOMIC_RELAXED);
	if (a->dirty || agent_health_changed(a))
		agent_publish(a);
	a->publish_due_ms = loop_now(l) + HEALTH_INTERVAL_MS;
	loop_timer_start_at(l, t, a->publish_due_ms);
}

/* A result changed what the snapshot shows: publish at once after a quiet
 * spell, else PUBLISH_INTERVAL_MS after the last publish (at most four
 * snapshots a second however many results arrive; fewer when a snapshot
 * is costly, see PUBLISH_COST_FACTOR). */
static void agent_mark_dirty(struct agent *a)
{
	uint64_t now = loop_now(a->loop);
	uint64_t gap = a->publish_gap_ms ? a->publish_gap_ms : PUBLISH_INTERVAL_MS;
	uint64_t soon = a->published_ms + gap > now ? a->published_ms + gap : now;

	a->dirty = true;
	if (a->stopping || !loop_timer_active(&a->publish_timer) || a->publish_due_ms <= soon)
		return;
	a->publish_due_ms = soon;
	loop_timer_start_at(a->loop, &a->publish_timer, soon);
}

/* The one line a minute that says runs were shed (SPEC §2.0.1): never a
 * line per skipped run, which under overload would be thousands a second. */
static void agent_log_overload(struct agent *a, const struct sched_stats *st)
{
	uint64_t n = st->skipped_overload - a->last_stats_overload;
	char skipped[32], limit[32], queued[32];

	a->last_stats_overload = st->skipped_overload;
	if (n == 0)
		return;
	snprintf(skipped, sizeof(skipped), "%llu", (unsigned long long)n);
	snprintf(limit, sizeof(limit), "%zu", st->admit_limit);
	snprintf(queued, sizeof(queued), "%zu", st->admit_queued);
	log_warn("agent overloaded: runs skipped, not sent late (no result recorded for them)",
	         "skipped_last_minute", skipped, "in_flight_limit", limit, "waiting", queued);
}

static void agent_stats_due(struct loop *l, struct loop_timer *t)
{
	struct agent *a = t->arg;
	struct sched_stats st;
	char runs[32], skipped[32], p50[32], p99[32], inflight[32];

	shards_get_stats(a->shards, &st);
	snprintf(runs, sizeof(runs), "%llu", (unsigned long long)(st.runs - a->last_stats_runs));
	snprintf(skipped, sizeof(skipped), "%llu", (unsigned long long)st.skipped);
	snprintf(p50, sizeof(p50), "%.2f", st.lag_p50_ms);
	snprintf(p99, sizeof(p99), "%.2f", st.lag_p99_ms);
	snprintf(inflight, sizeof(inflight), "%d", shards_http_in_flight(a->shards));
	a->last_stats_runs = st.runs;
	agent_log_overload(a, &st);
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
	if (!same_setting(cur->agent.source_address, next->agent.source_address))
		log_warn("agent.source_address changed: restart pharos to apply it (probes still leave "
		         "from the old address)");
	if (!same_setting(cur->agent.location, next->agent.location))
		log_warn("agent.location changed: restart pharos to apply it");
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
	fleet_set_conf(a->fleet, next);
	shards_set_conf(a->shards, next);
	alerting_set_conf(a->alerting, next);
	httpd_update_conf(a->httpd, next);
	conf_unref(a->conf);
	a->conf = next;
	store_set_retention(a->store, next->agent.retention_raw_ms, next->agent.retention_rollups_ms);
	store_set_location(a->store, next->agent.location);
	agent_publish(a);
	/* The status page's list order holds the config it was built for: let
	 * go of the old one now, not at the next big page (never, when the new
	 * config is small enough for the full page). */
	page_layout_clear();
	malloc_trim(0);     /* the old config and the parse of the new one */
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

	if (shards_idle(a->shards) && alerting_in_flight(a->alerting) == 0) {
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
	shards_stop(a->shards);
	limit = conf_longest_run_ms(a->conf) + SHUTDOWN_MARGIN_MS;
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

	if (!shards_idle(a->shards)) {
		log_warn("abandoning probes still in flight at the shutdown deadline");
		shards_abort_all(a->shards);
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

/* The checks being seeded (store_latest_results callback). */
struct seed_ctx {
	struct agent *a;
};

static void agent_seed_result(void *arg, size_t i, const struct store_result *res)
{
	struct agent *a = ((struct seed_ctx *)arg)->a;
	const struct check *c = &a->conf->checks[i];
	struct sched *s = shards_sched_for(a->shards, c, NULL);
	const char *lp = json_string_value(json_object_get(res->details, "last_ping"));
	int64_t lp_us = 0;

	if (res->error != PROBE_ERR_ABORTED)
		sched_seed_state(s, c->name, res->ts_us, res->ok, res->duration_us, res->error,
		                 res->message);
	/* A heartbeat's last ping, so a restart keeps its lateness. */
	if (lp && util_parse_time(lp, &lp_us) == 0)
		sched_seed_heartbeat(s, c->name, lp_us / 1000);
}

/* The state a check had before a restart, so the page is not blank until
 * every check ran again: one read for every check (a query per check made
 * the start of 30,000 checks on PostgreSQL last longer than an interval). */
static void agent_seed_from_store(struct agent *a)
{
	char err[256];
	struct store_reader *r = store_reader_open(a->conf->agent.database, err, sizeof(err));
	const char **names;
	struct seed_ctx sc = { a };

	if (!r)
		return;
	names = xcalloc(a->conf->n_checks + 1, sizeof(*names));
	for (size_t i = 0; i < a->conf->n_checks; i++)
		names[i] = a->conf->checks[i].name;
	store_latest_results(r, names, a->conf->n_checks, agent_seed_result, &sc);
	free(names);
	store_reader_close(r);
}

/* glibc's allocator, tuned for a daemon whose big allocations come and go
 * (a config of 100,000 checks while it loads; a rendered page or metrics
 * body): blocks of 256 KiB and more are mapped and given back whole when
 * freed (the default threshold climbs with every big free, after which such
 * blocks stay in the heap for good), and a few arenas only, rather than
 * eight per core each keeping its own freed memory (server threads come
 * and go). */
static void agent_memory_setup(int probe_threads)
{
	mallopt(M_MMAP_THRESHOLD, 256 * 1024);
	mallopt(M_ARENA_MAX, probe_threads + 2);
}

/* Opens the database and joins the fleet (PostgreSQL). Returns 0, or -1
 * after logging with nothing left open. */
static int agent_open_store(struct agent *a)
{
	const struct conf *conf = a->conf;
	char err[512];

	a->store = store_open(conf->agent.database, err, sizeof(err));
	if (!a->store) {
		char shown[512];    /* a URI's password stays out of the log */

		log_error("cannot open the database", "file",
		          database_display(conf->agent.database, shown, sizeof(shown)), "error", err);
		return -1;
	}
	store_set_retention(a->store, conf->agent.retention_raw_ms, conf->agent.retention_rollups_ms);
	store_set_location(a->store, conf->agent.location);
	if (fleet_start(conf, &a->fleet, err, sizeof(err)) != 0) {
		log_error("cannot join the fleet", "error", err);
		store_close(a->store);
		return -1;
	}
	fleet_set_conf(a->fleet, a->conf);
	if (database_kind(conf->agent.database, NULL, 0) == DATABASE_POSTGRESQL) {
		a->fleet_view = fleet_view_start(conf->agent.database, err, sizeof(err));
		if (a->fleet_view == NULL)
			log_error("the fleet's view is not shown", "error", err);
	}
	return 0;
}

/* The main loop, its timers, the resolver and the probe threads with the
 * checks of the conf (not running yet). Returns 0, or -1 after logging
 * (agent_close frees what was made). */
static int agent_start_probes(struct agent *a)
{
	const struct conf *conf = a->conf;
	char err[512];

	a->loop = loop_new();
	loop_timer_init(&a->publish_timer, agent_publish_due, a);
	loop_timer_init(&a->stats_timer, agent_stats_due, a);
	loop_timer_init(&a->shutdown_timer, agent_shutdown_check, a);
	loop_timer_init(&a->deadline_timer, agent_shutdown_deadline, a);
	a->curlm = curlm_new(a->loop);
	a->resolver = resolver_new(a->loop, NULL, SYSTEM_DNS_TIMEOUT_MS, err, sizeof(err));
	a->source_address = conf->agent.source_address ? xstrdup(conf->agent.source_address) : NULL;
	if (a->resolver && resolver_set_source(a->resolver, a->source_address, err, sizeof(err)) < 0) {
		resolver_free(a->resolver);
		a->resolver = NULL;
	}
	if (!a->resolver) {
		log_error("cannot start the DNS resolver", "error", err);
		return -1;
	}
	a->env = (struct probe_env){ .loop = a->loop, .curlm = a->curlm, .resolver = a->resolver,
	                             .source_address = a->source_address };
	a->shards = shards_new(&a->env, conf->agent.threads > 0 ? conf->agent.threads
	                                                        : shards_default_threads(conf->checks, conf->n_checks),
	                       agent_on_result, a, err, sizeof(err));
	if (!a->shards) {
		log_error("cannot start the probe threads", "error", err);
		return -1;
	}
	sched_set_ping_fn(shards_main(a->shards), agent_on_ping, a);
	shards_set_conf(a->shards, a->conf);
	return 0;
}

/* The HTTP server, the probe threads and the timers: from here on the agent
 * serves and probes. Returns 0, or -1 after logging. */
static int agent_start_serving(struct agent *a)
{
	const struct conf *conf = a->conf;
	struct httpd_ops ops = { .run_check = agent_run_check, .loop_alive = agent_loop_alive,
	                         .push = agent_push,
	                         .retry_notification = agent_retry_notification,
	                         .add_incident_update = agent_add_incident_update, .ctx = a,
	                         .routes = agent_routes, .n_routes = agent_n_routes };
	char err[512], n[16], nt[16], shown_db[512];    /* a URI's password stays out of the log */

	a->httpd = httpd_start(a->conf, &ops, err, sizeof(err));
	if (!a->httpd) {
		log_error("cannot start the HTTP server", "listen", conf->agent.listen, "error", err);
		return -1;
	}
	if (shards_start(a->shards) != 0) {
		log_error("cannot start the probe threads", "error", strerror(errno));
		return -1;
	}
	a->publish_due_ms = loop_now(a->loop) + PUBLISH_INTERVAL_MS;
	loop_timer_start_at(a->loop, &a->publish_timer, a->publish_due_ms);
	loop_timer_start(a->loop, &a->stats_timer, STATS_LOG_INTERVAL_MS);
	snprintf(n, sizeof(n), "%zu", conf->n_checks);
	snprintf(nt, sizeof(nt), "%d", shards_threads(a->shards));
	log_info("pharos started", "version", PHAROS_VERSION, "checks", n, "probe_threads", nt,
	         "listen", conf->agent.listen, "database",
	         database_display(conf->agent.database, shown_db, sizeof(shown_db)));
	return 0;
}

/* Stops and frees everything agent_run started, in the order that loses
 * nothing: the server, the probes (their last results still recorded),
 * delivery, the fleet, the store (its last completions run), the rest. */
static void agent_close(struct agent *a)
{
	/* First: the passes of the loop below must not publish or log from
	 * the schedulers (freed by shards_free) when the stop took a while. */
	loop_timer_stop(a->loop, &a->publish_timer);
	loop_timer_stop(a->loop, &a->stats_timer);
	loop_timer_stop(a->loop, &a->shutdown_timer);
	loop_timer_stop(a->loop, &a->deadline_timer);
	/* A start that failed never began the stop: the alert engine's tick
	 * reads the schedulers too. */
	if (!a->stopping)
		alerting_begin_stop(a->alerting);
	if (a->httpd)
		httpd_stop(a->httpd);
	if (a->shards) {
		shards_stop(a->shards);
		shards_abort_all(a->shards);
	}
	shards_free(a->shards);
	a->shards = NULL;
	/* Results the probe threads handed over last: recorded while alerting
	 * and the store are still there. */
	loop_run_once(a->loop, 0);
	/* Cancels the notification transfers in flight: before curlm_free. */
	alerting_close(a->alerting);
	if (a->signal_fd >= 0) {
		loop_fd_set(a->loop, a->signal_fd, 0, NULL, NULL);
		close(a->signal_fd);
	}
	snapshot_publish(NULL);
	fleet_view_stop(a->fleet_view);
	store_close(a->store);
	/* After the writer's last batch (a lease pass renews this agent's row):
	 * leaving last, it stays left. */
	fleet_stop(a->fleet);
	/* Completions the writer posted while closing: free them (delivery is gone). */
	loop_run_once(a->loop, 0);
	alerting_free(a->alerting);
	probe_dns_cleanup();
	if (a->resolver)
		resolver_free(a->resolver);
	curlm_free(a->curlm);
	loop_free(a->loop);
	free(a->source_address);
}

int agent_run(struct conf *conf)
{
	struct agent a = { .conf = conf, .signal_fd = -1 };
	int rc = 1;

	log_setup(conf->agent.log_format, LOG_INFO);
	agent_memory_setup(conf->agent.threads > 0 ? conf->agent.threads
	                                           : shards_default_threads(conf->checks, conf->n_checks));
	/* The parse tree of a big config is freed by now: 100,000 checks leave
	 * ~70 MB of free heap that would otherwise stay resident. */
	malloc_trim(0);
	if (agent_block_signals() != 0) {
		log_error("cannot block signals", "error", strerror(errno));
		conf_unref(conf);
		return 1;
	}
	if (agent_open_store(&a) != 0) {
		conf_unref(conf);
		return 1;
	}
	if (agent_start_probes(&a) != 0)
		goto out;
	agent_seed_from_store(&a);
	a.alerting = alerting_start(&(struct alerting_env){ .loop = a.loop, .curlm = a.curlm,
	                            .store = a.store, .sched = shards_main(a.shards),
	                            .dirty = &a.dirty }, conf);
	agent_publish(&a);
	/* What loading and seeding freed goes back to the system. */
	malloc_trim(0);
	if (agent_setup_signals(&a) != 0) {
		log_error("cannot set up signal handling", "error", strerror(errno));
		goto out;
	}
	__atomic_store_n(&a.alive_ms, util_mono_ms(), __ATOMIC_RELAXED);
	if (agent_start_serving(&a) != 0)
		goto out;
	loop_run(a.loop);
	rc = 0;

out:
	agent_close(&a);
	if (rc == 0)
		log_info("pharos stopped");
	conf_unref(a.conf);
	return rc;
}

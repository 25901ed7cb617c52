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
#include "curlm.h"
#include "httpd.h"
#include "log.h"
#include "loop.h"
#include "resolver.h"
#include "sched.h"
#include "snapshot.h"
#include "store.h"
#include "util.h"

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
	unsigned publish_passes;
	bool dirty;                     /* state changed since the last publish */
	bool stopping;
	uint64_t alive_ms;              /* atomic: last loop pass, for /healthz */
	uint64_t last_stats_runs;
};

/* --- admin "run now" from a server thread ------------------------------------ */

/* Shared by the waiting server thread and the loop; freed by whichever lets
 * go last, so a server thread that gave up waiting leaves nothing dangling. */
struct run_request {
	struct agent *agent;
	char name[80];
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int refs;
	int status;                     /* 1 pending, 0 done, -1 no such check, -2 stopping */
	struct probe_result result;
};

static void run_request_put(struct run_request *req)
{
	pthread_mutex_lock(&req->lock);
	int refs = --req->refs;
	pthread_mutex_unlock(&req->lock);
	if (refs > 0)
		return;
	if (req->status == 0)
		probe_result_clear(&req->result);
	pthread_mutex_destroy(&req->lock);
	pthread_cond_destroy(&req->cond);
	free(req);
}

static void run_request_finish(struct run_request *req, int status, const struct probe_result *r)
{
	pthread_mutex_lock(&req->lock);
	if (r)
		probe_result_copy(&req->result, r);
	req->status = status;
	pthread_cond_broadcast(&req->cond);
	pthread_mutex_unlock(&req->lock);
	run_request_put(req);
}

static void run_request_done(const struct probe_result *r, void *arg)
{
	run_request_finish(arg, 0, r);
}

static void run_request_start(struct loop *l, void *arg)
{
	struct run_request *req = arg;
	struct agent *a = req->agent;

	if (a->stopping) {
		run_request_finish(req, -2, NULL);
		return;
	}
	if (sched_run_now(a->sched, req->name, run_request_done, req) != 0)
		run_request_finish(req, -1, NULL);
}

static int agent_run_check(void *ctx, const char *name, struct probe_result *out)
{
	struct agent *a = ctx;
	struct run_request *req = xcalloc(1, sizeof(*req));
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
	if (!c) {
		free(req);
		return -1;
	}

	req->agent = a;
	util_strlcpy(req->name, name, sizeof(req->name));
	pthread_mutex_init(&req->lock, NULL);
	pthread_cond_init(&req->cond, NULL);
	req->refs = 2;
	req->status = 1;
	if (loop_post(a->loop, run_request_start, req) != 0) {
		req->refs = 1;
		run_request_put(req);
		return -2;
	}

	struct timespec deadline;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += (time_t)(wait_ms / 1000);
	deadline.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&req->lock);
	while (req->status == 1) {
		if (pthread_cond_timedwait(&req->cond, &req->lock, &deadline) == ETIMEDOUT)
			break;
	}
	status = req->status;
	if (status == 0)
		probe_result_copy(out, &req->result);
	pthread_mutex_unlock(&req->lock);
	run_request_put(req);
	return status == 1 ? -2 : status;
}

static bool agent_loop_alive(void *ctx)
{
	struct agent *a = ctx;
	uint64_t last = __atomic_load_n(&a->alive_ms, __ATOMIC_RELAXED);

	return util_mono_ms() - last < 5000;
}

/* --- results and publishing -------------------------------------------------- */

static void agent_on_result(const struct check *c, const struct probe_result *r,
                            bool manual, void *arg)
{
	struct agent *a = arg;
	char dur[32];

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
	httpd_update_conf(a->httpd, next);
	conf_unref(a->conf);
	a->conf = next;
	agent_publish(a);
	char n[16];
	snprintf(n, sizeof(n), "%zu", next->n_checks);
	log_info("configuration reloaded", "checks", n);
}

static void agent_shutdown_check(struct loop *l, struct loop_timer *t)
{
	struct agent *a = t->arg;

	if (sched_idle(a->sched)) {
		loop_timer_stop(l, &a->deadline_timer);
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

/* The state a check had before a restart, so the page is not blank until
 * every check ran again. */
static void agent_seed_from_store(struct agent *a)
{
	char err[256];
	struct store_reader *r = store_reader_open(a->conf->agent.database, err, sizeof(err));

	if (!r)
		return;
	for (size_t i = 0; i < a->conf->n_checks; i++) {
		const char *name = a->conf->checks[i].name;
		json_t *rows = store_results(r, name, 0, 0, 1);
		json_t *row = rows ? json_array_get(rows, 0) : NULL;
		int64_t ts = 0;

		if (row && util_parse_time(json_string_value(json_object_get(row, "ts")), &ts) == 0) {
			const char *errname = json_string_value(json_object_get(row, "error"));
			enum probe_error e = PROBE_OK;
			for (int k = 0; k < PROBE_ERR_COUNT; k++)
				if (errname && strcmp(errname, probe_error_name(k)) == 0)
					e = k;
			if (e != PROBE_ERR_ABORTED)
				sched_seed_state(a->sched, name, ts,
					json_is_true(json_object_get(row, "ok")),
					(int64_t)(json_number_value(json_object_get(row, "duration_ms")) * 1000),
					e, json_string_value(json_object_get(row, "message")));
		}
		json_decref(rows);
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
	sched_set_conf(a.sched, conf);
	agent_seed_from_store(&a);
	agent_publish(&a);
	if (agent_setup_signals(&a) != 0) {
		log_error("cannot set up signal handling", "error", strerror(errno));
		goto out;
	}
	__atomic_store_n(&a.alive_ms, util_mono_ms(), __ATOMIC_RELAXED);

	struct httpd_ops ops = { .run_check = agent_run_check, .loop_alive = agent_loop_alive, .ctx = &a };
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
	if (a.signal_fd >= 0) {
		loop_fd_set(a.loop, a.signal_fd, 0, NULL, NULL);
		close(a.signal_fd);
	}
	sched_free(a.sched);
	snapshot_publish(NULL);
	store_close(a.store);
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

/* shard.c — the probe threads: N loops, each with its own curl multi,
 * resolver and scheduler, owning the checks whose names hash to it; results
 * handed to the main loop. See shard.h. */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/curlm.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/resolver.h"
#include "core/util.h"
#include "backlog.h"
#include "shard.h"

#define SHARD_DNS_TIMEOUT_MS 5000   /* system resolver of a worker loop */
/* How many probe threads the default gives. One loop carries several
 * thousand probes a second, and a second thread costs CPU of its own on
 * every probe (two loops waking apart, each result handed to the main loop:
 * 10-15 % of an agent's CPU at 1,100 probes/s, measured side by side), so
 * an agent gets a probe thread more only for every SHARD_RATE_PER_THREAD
 * probes a second its config asks for. Many checks also move the probes off
 * the main loop (SHARD_CHECKS_PER_THREAD): there, publishing a snapshot of
 * every check would hold answers unread and lengthen measured latencies. */
#define SHARD_RATE_PER_THREAD 2000.0
#define SHARD_CHECKS_PER_THREAD 20000
/* Results of a worker travel to the main loop in batches gathered over this
 * long: at a thousand results a second, handing each over woke the main
 * loop (a context switch on both sides) a thousand times a second, a large
 * share of the CPU a probe costs. A manual run's result goes at once. */
#define SHARD_BATCH_MS 10
/* The most a probe thread may have handed over that the main loop did not
 * take yet (backlog.h): then it holds its runs. Half a minute of results at
 * 1,000,000 checks every 5 minutes (two threads), tens of MB: a main loop
 * that falls further behind costs runs skipped for overload, not memory. */
#define SHARD_BACKLOG_RESULTS 50000
#define SHARD_BACKLOG_BYTES (64u << 20)

struct shards;
struct handoff;

/* One worker: a loop thread and what runs on it. */
struct shard {
	struct shards *sh;
	int index;
	struct loop *loop;
	struct curlm *curlm;
	struct resolver *resolver;
	struct probe_env env;
	struct sched *sched;
	pthread_t thread;
	bool running;
	/* results not handed over yet (worker thread only) */
	struct handoff *batch, **batch_tail;
	struct loop_timer batch_timer;
	int batched;                    /* atomic: results in batch (shards_idle) */
	bool stopping;                  /* hand results over at once */
	struct backlog backlog;         /* results not taken by the main loop yet */
};

struct shards {
	const struct probe_env *main_env;
	struct sched *main;             /* on the main loop */
	struct shard *w;                /* n workers; none with one thread */
	int n;
	sched_result_fn *fn;
	void *arg;
};

int shards_threads_for(long cores, size_t n_checks, double probes_per_s)
{
	double by_rate = probes_per_s / SHARD_RATE_PER_THREAD;
	size_t want = n_checks / SHARD_CHECKS_PER_THREAD;

	if (cores < 1)
		cores = 1;
	if (cores > 64)
		cores = 64;
	if (by_rate > (double)want)
		want = by_rate >= (double)cores ? (size_t)cores : (size_t)ceil(by_rate);
	if (want < 1)
		return 1;
	return want < (size_t)cores ? (int)want : (int)cores;
}

int shards_default_threads(const struct check *checks, size_t n_checks)
{
	double per_s = 0;

	for (size_t i = 0; i < n_checks; i++)
		if (!probe_type_passive(&checks[i]) && checks[i].interval_ms > 0)
			per_s += 1000.0 / (double)checks[i].interval_ms;
	return shards_threads_for(sysconf(_SC_NPROCESSORS_ONLN), n_checks, per_s);
}

/* --- which scheduler owns a check ------------------------------------------- */

static bool owns_heartbeats(const struct check *c, void *arg)
{
	return probe_type_passive(c);
}

static int shard_index(const struct shards *sh, const struct check *c)
{
	return (int)(util_hash64(c->name) % (uint64_t)sh->n);
}

static bool owns_hashed(const struct check *c, void *arg)
{
	struct shard *w = arg;

	return !probe_type_passive(c) && shard_index(w->sh, c) == w->index;
}

/* --- results: from a worker to the main loop -------------------------------- */

struct handoff {
	struct shards *sh;
	struct shard *w;                /* the thread that handed it over */
	size_t bytes;                   /* in w's backlog */
	struct conf *conf;              /* holds check */
	const struct check *check;
	bool manual;
	struct handoff *next;           /* in a batch */
	/* Last: allocated to its used size (probe_result_size), so a result
	 * without assertions crosses threads in well under 1 KiB. */
	struct probe_result r;
};

static void shard_release_due(struct loop *l, void *arg);

/* On the main loop: one result taken, and its thread asked to start runs
 * again when it held them and its backlog is down to half. */
static void handoff_run(struct loop *l, void *arg)
{
	struct handoff *h = arg;
	struct shard *w = h->w;

	h->sh->fn(h->check, &h->r, h->manual, h->sh->arg);
	if (backlog_take(&w->backlog, h->bytes))
		loop_post(w->loop, shard_release_due, w);
	probe_result_clear(&h->r);
	conf_unref(h->conf);
	free(h);
}

/* On the main loop: a batch of results, in the order they came. */
static void handoff_run_batch(struct loop *l, void *arg)
{
	struct handoff *h = arg, *next;

	for (; h != NULL; h = next) {
		next = h->next;
		handoff_run(l, h);
	}
}

/* Hands w's batch to the main loop (dropped only when the main loop is
 * gone, as a single result would be). Worker thread. */
static void shard_flush(struct shard *w)
{
	struct handoff *h = w->batch, *next;

	loop_timer_stop(w->loop, &w->batch_timer);
	if (h == NULL)
		return;
	w->batch = NULL;
	w->batch_tail = &w->batch;
	if (loop_post(w->sh->main_env->loop, handoff_run_batch, h) != 0) {
		for (; h != NULL; h = next) {
			next = h->next;
			probe_result_clear(&h->r);
			conf_unref(h->conf);
			free(h);
		}
	}
	__atomic_store_n(&w->batched, 0, __ATOMIC_RELEASE);
}

static void batch_due(struct loop *l, struct loop_timer *t)
{
	shard_flush(t->arg);
}

/* On a worker, asked by the main loop (or by itself right after holding):
 * its runs start again once the main loop took its backlog down to half. */
static void shard_release_due(struct loop *l, void *arg)
{
	struct shard *w = arg;

	if (backlog_release_due(&w->backlog))
		sched_hold_runs(w->sched, false);
}

/* On a worker: the result travels with a reference to its conf (the check
 * may be removed by a reload meanwhile) and to its details, in the batch
 * handed over SHARD_BATCH_MS after its first result (at once for a manual
 * run, or while the worker stops). */
static void shard_on_result(const struct check *c, const struct probe_result *r,
                            bool manual, void *arg)
{
	struct shard *w = arg;
	size_t bytes = offsetof(struct handoff, r) + probe_result_size(r);
	struct handoff *h = xmalloc(bytes);

	h->sh = w->sh;
	h->w = w;
	h->bytes = bytes;
	h->conf = conf_ref(sched_result_conf(w->sched));
	h->check = c;
	h->manual = manual;
	h->next = NULL;
	probe_result_copy(&h->r, r);
	*w->batch_tail = h;
	w->batch_tail = &h->next;
	__atomic_add_fetch(&w->batched, 1, __ATOMIC_RELEASE);
	if (backlog_add(&w->backlog, bytes)) {
		/* The main loop is behind: no run starts here until it has
		 * caught up (this result still goes). It may have caught up
		 * already: ask once, after this callback. */
		sched_hold_runs(w->sched, true);
		loop_post(w->loop, shard_release_due, w);
	}
	if (manual || w->stopping)
		shard_flush(w);
	else if (!loop_timer_active(&w->batch_timer))
		loop_timer_start(w->loop, &w->batch_timer, SHARD_BATCH_MS);
}

/* --- calling a worker and waiting ------------------------------------------- */

struct sync_call {
	void (*fn)(struct shard *w, void *arg);
	struct shard *w;
	void *arg;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool done;
};

static void sync_call_run(struct loop *l, void *arg)
{
	struct sync_call *c = arg;

	c->fn(c->w, c->arg);
	pthread_mutex_lock(&c->lock);
	c->done = true;
	pthread_cond_signal(&c->cond);
	pthread_mutex_unlock(&c->lock);
}

/* Runs fn(w, arg) on w's thread and waits for it; directly when the thread
 * does not run (before shards_start, after shards_free began). */
static void shard_call(struct shard *w, void (*fn)(struct shard *, void *), void *arg)
{
	struct sync_call c = { .fn = fn, .w = w, .arg = arg };

	if (!w->running) {
		fn(w, arg);
		return;
	}
	pthread_mutex_init(&c.lock, NULL);
	pthread_cond_init(&c.cond, NULL);
	if (loop_post(w->loop, sync_call_run, &c) == 0) {
		pthread_mutex_lock(&c.lock);
		while (!c.done)
			pthread_cond_wait(&c.cond, &c.lock);
		pthread_mutex_unlock(&c.lock);
	}
	pthread_cond_destroy(&c.cond);
	pthread_mutex_destroy(&c.lock);
}

static void call_set_conf(struct shard *w, void *arg) { sched_set_conf(w->sched, arg); }
static void call_stop(struct shard *w, void *arg) { sched_stop(w->sched); }
static void call_abort(struct shard *w, void *arg) { sched_abort_all(w->sched); }
static void call_loop_stop(struct shard *w, void *arg)
{
	w->stopping = true;
	shard_flush(w);
	loop_stop(w->loop);
}
static void call_in_flight(struct shard *w, void *arg) { *(int *)arg += curlm_running(w->curlm); }

/* --- life cycle -------------------------------------------------------------- */

static void *shard_main(void *arg)
{
	struct shard *w = arg;
	char name[16];

	/* Named for top -H, perf and /proc/PID/task/TID/comm. */
	snprintf(name, sizeof(name), "pharos-probe%d", (w->index + 1) % 100);
	pthread_setname_np(pthread_self(), name);
	loop_run(w->loop);
	return NULL;
}

struct shards *shards_new(const struct probe_env *main_env, int n_threads,
                          sched_result_fn *fn, void *arg, char *err, size_t errlen)
{
	struct shards *sh = xcalloc(1, sizeof(*sh));

	sh->main_env = main_env;
	sh->fn = fn;
	sh->arg = arg;
	sh->main = sched_new(main_env, fn, arg);
	if (n_threads <= 1)
		return sh;
	sched_set_owner(sh->main, owns_heartbeats, NULL);
	sh->w = xcalloc((size_t)n_threads, sizeof(*sh->w));
	for (int i = 0; i < n_threads; i++) {
		struct shard *w = &sh->w[i];

		w->sh = sh;
		w->index = i;
		w->loop = loop_new();
		w->resolver = resolver_new(w->loop, NULL, SHARD_DNS_TIMEOUT_MS, err, errlen);
		if (w->resolver != NULL &&
		    resolver_set_source(w->resolver, main_env->source_address, err, errlen) < 0) {
			resolver_free(w->resolver);
			w->resolver = NULL;
		}
		if (w->resolver == NULL) {
			loop_free(w->loop);
			shards_free(sh);
			return NULL;
		}
		w->curlm = curlm_new(w->loop);
		w->env = (struct probe_env){ .loop = w->loop, .curlm = w->curlm, .resolver = w->resolver,
		                             .source_address = main_env->source_address };
		w->batch_tail = &w->batch;
		loop_timer_init(&w->batch_timer, batch_due, w);
		backlog_init(&w->backlog, SHARD_BACKLOG_RESULTS, SHARD_BACKLOG_BYTES);
		w->sched = sched_new(&w->env, shard_on_result, w);
		sched_set_owner(w->sched, owns_hashed, w);
		sh->n++;
	}
	return sh;
}

int shards_start(struct shards *sh)
{
	sched_start(sh->main);
	for (int i = 0; i < sh->n; i++) {
		struct shard *w = &sh->w[i];

		sched_start(w->sched);      /* before its thread: nothing else touches it yet */
		/* Signals stay blocked in the new thread: it inherits the mask. */
		if (pthread_create(&w->thread, NULL, shard_main, w) != 0)
			return -1;
		w->running = true;
	}
	return 0;
}

void shards_free(struct shards *sh)
{
	if (sh == NULL)
		return;
	for (int i = 0; i < sh->n; i++) {
		struct shard *w = &sh->w[i];

		if (w->running) {
			shard_call(w, call_loop_stop, NULL);
			pthread_join(w->thread, NULL);
			w->running = false;
		}
	}
	/* The results the workers handed over last, while what they point to
	 * (sh, each worker's backlog) is still here. */
	if (sh->n > 0)
		loop_run_once(sh->main_env->loop, 0);
	sched_free(sh->main);
	for (int i = 0; i < sh->n; i++) {
		struct shard *w = &sh->w[i];

		/* Calls posted to a stopped worker (a late "run now"): they find
		 * its scheduler stopping and answer so. */
		loop_run_once(w->loop, 0);
		sched_free(w->sched);
	}
	/* The dns probes' resolvers of every loop go before the loops do. */
	probe_dns_cleanup();
	for (int i = 0; i < sh->n; i++) {
		struct shard *w = &sh->w[i];

		resolver_free(w->resolver);
		curlm_free(w->curlm);
		loop_free(w->loop);
	}
	free(sh->w);
	free(sh);
}

/* --- the schedulers together ------------------------------------------------- */

int shards_threads(const struct shards *sh)
{
	return sh->n > 0 ? sh->n : 1;
}

struct sched *shards_main(struct shards *sh)
{
	return sh->main;
}

struct sched *shards_sched_for(struct shards *sh, const struct check *c, struct loop **loop)
{
	struct shard *w;

	if (sh->n == 0 || probe_type_passive(c)) {
		if (loop)
			*loop = sh->main_env->loop;
		return sh->main;
	}
	w = &sh->w[shard_index(sh, c)];
	if (loop)
		*loop = w->loop;
	return w->sched;
}

void shards_set_conf(struct shards *sh, struct conf *conf)
{
	sched_set_conf(sh->main, conf);
	for (int i = 0; i < sh->n; i++)
		shard_call(&sh->w[i], call_set_conf, conf);
}

void shards_stop(struct shards *sh)
{
	sched_stop(sh->main);
	for (int i = 0; i < sh->n; i++)
		shard_call(&sh->w[i], call_stop, NULL);
}

void shards_abort_all(struct shards *sh)
{
	sched_abort_all(sh->main);
	for (int i = 0; i < sh->n; i++)
		shard_call(&sh->w[i], call_abort, NULL);
}

bool shards_idle(struct shards *sh)
{
	if (!sched_idle(sh->main))
		return false;
	for (int i = 0; i < sh->n; i++)
		if (!sched_idle(sh->w[i].sched) ||
		    __atomic_load_n(&sh->w[i].batched, __ATOMIC_ACQUIRE) != 0)
			return false;
	return true;
}

struct snapshot *shards_snapshot(struct shards *sh, struct conf *conf)
{
	struct snapshot *snap = snapshot_new(conf);

	sched_snapshot_fill(sh->main, snap);
	for (int i = 0; i < sh->n; i++)
		sched_snapshot_fill(sh->w[i].sched, snap);
	snapshot_seal(snap);
	sched_snapshot_states(snap);
	return snap;
}

void shards_get_stats(struct shards *sh, struct sched_stats *out)
{
	sched_get_stats(sh->main, out);
	for (int i = 0; i < sh->n; i++) {
		struct sched_stats st;

		sched_get_stats(sh->w[i].sched, &st);
		sched_stats_add(out, &st);
	}
}

int shards_http_in_flight(struct shards *sh)
{
	int n = curlm_running(sh->main_env->curlm);

	for (int i = 0; i < sh->n; i++)
		shard_call(&sh->w[i], call_in_flight, &n);
	return n;
}

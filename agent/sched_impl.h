/* sched_impl.h — the scheduler's insides, shared by its two files: sched.c
 * (schedule, admission, runs, snapshot) and sched_parts.c (heartbeat
 * checks, seeding from the store). Nothing else includes it. */
#ifndef PHAROS_SCHED_IMPL_H
#define PHAROS_SCHED_IMPL_H

#include <pthread.h>

#include "admit.h"
#include "probes/heartbeat.h"
#include "sched.h"

struct sched_entry {
	struct sched *s;
	char *name;
	const struct check *check;      /* in s->conf; once removed, maybe freed (run_check) */
	uint64_t fingerprint;
	struct loop_timer timer;
	uint64_t due_ms;
	struct attempt *inflight;
	struct admit_item wait;         /* queued: due, waiting for a slot (admit.h) */
	struct conf *run_conf;          /* reference held while a run is in flight */
	const struct check *run_check;  /* the check that run started with, in run_conf */
	size_t conf_index;              /* position of check in s->conf->checks */
	bool removed;                   /* no longer configured; freed after its run */
	/* runtime state */
	bool has_last;
	int64_t last_ts_us;
	bool last_ok;
	int64_t last_duration_us;
	enum probe_error last_error;
	char *last_message;             /* msg_short, or owned when longer */
	char msg_short[48];             /* short messages live here, beside the fields
	                                   sched_snapshot reads anyway */
	int consecutive_failures;
	int consecutive_successes;
	struct check_metrics metrics;   /* timing: owned, see entry_keep_timing */
	struct heartbeat_clock hb;      /* heartbeat checks: last ping, lateness reported */
};

struct manual_run {
	struct sched *s;
	const struct check *check;      /* kept valid by conf */
	struct conf *conf;
	struct attempt *attempt;
	sched_now_fn *fn;
	void *arg;
	struct manual_run *next, *prev;
};

struct sched {
	const struct probe_env *env;
	sched_result_fn *on_result;
	void *arg;
	struct conf *conf;
	struct sched_entry **entries;   /* sorted by name */
	size_t n_entries;
	struct sched_entry **orphans;   /* removed entries whose run is still in flight */
	size_t n_orphans;
	struct manual_run *manual;
	size_t inflight;                /* scheduled runs + manual runs in flight */
	bool stopping;
	bool started;                   /* sched_start was called: checks get due times */
	struct admit admit;             /* scheduled runs only; manual ones always start */
	pthread_mutex_t lock;           /* see the top of sched.c */
	int lock_waiters;               /* atomic: the loop's thread waits for lock (sched_lock) */
	uint64_t entries_gen;           /* bumped when entries is replaced (sched_set_conf) */
	struct conf *result_conf;       /* holds the check being reported (sched_result_conf) */
	sched_owns_fn *owns;            /* which checks of the conf are this scheduler's */
	void *owns_arg;
	struct sched_stats stats;
	uint64_t window_start_ms;
	uint64_t window_cur[SCHED_LAG_BUCKETS];
	uint64_t window_prev[SCHED_LAG_BUCKETS];
	bool have_prev_window;
	sched_ping_fn *on_ping;
	void *ping_arg;
};

/* The entry of check name, or NULL (binary search by name). */
struct sched_entry *sched_find(const struct sched *s, const char *name);
/* Records a completed run into e's state. Takes s->lock. */
void sched_entry_record(struct sched_entry *e, const struct probe_result *r);
/* Sets e's last message (a copy of msg). */
void sched_entry_set_message(struct sched_entry *e, const char *msg);

/* sched_parts.c: (re)starts a heartbeat entry's timer for its next
 * lateness report; the timer's callback; "run now" of a heartbeat check. */
void sched_heartbeat_arm(struct sched *s, struct sched_entry *e);
void sched_heartbeat_due(struct loop *l, struct loop_timer *t);
void sched_heartbeat_run_now(struct sched_entry *e, sched_now_fn *fn, void *arg);

#endif

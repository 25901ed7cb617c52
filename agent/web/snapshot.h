/* snapshot.h — the read-only view of check states that the loop publishes
 * for the HTTP threads. The loop builds a new snapshot and swaps a pointer
 * under a lock; readers take a reference and never see a half-updated state. */
#ifndef PHAROS_SNAPSHOT_H
#define PHAROS_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf/conf.h"
#include "core/buf.h"
#include "probes/result.h"

enum check_state {
	CHECK_STATE_PENDING,        /* no run yet */
	CHECK_STATE_UP,             /* last run passed */
	CHECK_STATE_DOWN,           /* last run failed */
	CHECK_STATE_MAINTENANCE,    /* inside a maintenance window */
	CHECK_STATE_BLOCKED,        /* failing while a dependency is down */
	CHECK_STATE_DEGRADED,       /* a fleet (SPEC §6): the last run failed at some
	                               locations, not all (fleet_view.h) */
};
const char *check_state_name(enum check_state s);   /* "pending", "up", ... */

/* Counters of one check since the agent started, for /metrics. */
#define CHECK_DURATION_BUCKETS 12
extern const double check_duration_bounds[CHECK_DURATION_BUCKETS];  /* seconds; last is +Inf */

/* The per-check detail that /metrics shows only up to
 * agent.check_histograms_up_to checks (the duration buckets and phases). */
struct check_timing {
	uint64_t duration_buckets[CHECK_DURATION_BUCKETS];  /* not cumulative */
	double last_phase_s[4];             /* dns, connect, tls, ttfb of the last run; < 0: none */
};

struct check_metrics {
	uint64_t runs[PROBE_ERR_COUNT];     /* completed runs by error class (PROBE_OK = success) */
	uint64_t duration_count;
	double duration_sum_s;
	int64_t cert_expiry;                /* Unix seconds of the last certificate seen; 0: none */
	/* Storage of the detail, held by the owner of m (a scheduler entry, a
	 * snapshot); NULL: not kept. A snapshot of more checks than
	 * agent.check_histograms_up_to keeps none: /metrics does not show it,
	 * and 128 bytes a check in every published snapshot is ~40 MB at
	 * 100,000 checks. */
	struct check_timing *timing;
};
/* Adds one completed run to m (and to its timing, when kept). */
void check_metrics_add(struct check_metrics *m, const struct probe_result *r);
/* Copies src into dst, the timing into dst's own storage (when dst keeps it). */
void check_metrics_copy(struct check_metrics *dst, const struct check_metrics *src);

/* One alert instance that is pending or firing. */
struct snapshot_alert {
	char *rule, *check, *severity, *value, *alert_id;   /* owned */
	char *run_id;               /* owned; the run behind the latest change, "" unknown */
	int state;                  /* enum alert_state */
	int64_t since_us;
};

/* One notifier's delivery figures. */
struct snapshot_notifier {
	char *name;                 /* owned */
	uint64_t delivered, failed_attempts, dead;  /* totals since start */
	uint64_t queue_pending, queue_dead;         /* outbox rows now */
	bool breaker_open;
};

/* The health facts of a snapshot, as the agent compares them between
 * publishes. */
struct snapshot_health {
	bool store_ok, scheduler_on_time, overloaded;
	uint64_t skipped;
};

struct snapshot_check {
	const struct check *check;  /* points into the snapshot's conf */
	enum check_state state;
	bool has_last;
	int64_t last_ts_us;
	bool last_ok;
	int64_t last_duration_us;
	enum probe_error last_error;
	char *last_message;         /* owned, or in the snapshot's msgs (snapshot_set_message) */
	int consecutive_failures;
	int consecutive_successes;
	struct check_metrics metrics;
	const char *blocked_by;     /* state blocked: the dependency that is down (points
	                               into the snapshot's conf); else NULL */
};

#define SNAPSHOT_LAG_BUCKETS 15
/* Upper bounds, seconds, of the scheduler lag histogram (the scheduler fills
 * it, /metrics shows it); the last is +Inf. */
extern const double snapshot_lag_bounds[SNAPSHOT_LAG_BUCKETS];

struct snapshot {
	int refs;                   /* atomic; use acquire/release */
	struct conf *conf;          /* a reference */
	struct snapshot_check *checks;  /* n_checks entries, in conf order */
	struct check_timing *timing;    /* the entries' metrics.timing storage; NULL: none */
	size_t n_checks;
	int64_t published_us;
	bool scheduler_on_time;     /* lag p99 of the last minute under 1 s */
	double lag_p99_ms;
	bool overloaded;            /* shedding runs: more fell due than the agent can carry */
	uint64_t runs_skipped_overload; /* since start: could not start in time */
	uint64_t runs_skipped_overlap;  /* since start: previous run still in flight */
	bool store_ok;
	char store_error[256];
	uint64_t store_dropped;     /* results dropped unwritten since start */
	/* scheduler lag histogram since start (bounds: snapshot_lag_bounds) */
	uint64_t lag_buckets[SNAPSHOT_LAG_BUCKETS];
	uint64_t lag_count;
	double lag_sum_s;
	/* alerting (filled by the agent when alerts are configured) */
	struct snapshot_alert *alerts;  size_t n_alerts;         /* owned */
	struct snapshot_notifier *notifiers; size_t n_notifiers;  /* owned */
	/* the fleet (filled by the agent on PostgreSQL, agent/fleet.h): this
	 * agent's location when written in its config ("" otherwise: the
	 * `location` label of its per-check series) and
	 * the members by state; fleet false: none of it is shown */
	bool fleet;
	char fleet_location[128];
	int fleet_up, fleet_down;
	/* The checks' messages, each once (most checks share a handful:
	 * "HTTP 200 OK"), so a publish of 100,000 checks is not 100,000 strdups:
	 * filled by snapshot_set_message, pointed at by snapshot_seal. */
	struct buf msgs;
	size_t *msg_off;            /* while filling: per check, offset + 1 in msgs; 0 none */
	size_t msg_tab[64];         /* while filling: recent messages by hash, offset + 1 */
};

/* A snapshot for conf with every check pending (takes a conf reference). */
struct snapshot *snapshot_new(struct conf *conf);

/* Gives check entry k of s the message m (the loop fills entries before
 * publishing): identical messages share one copy. NULL or "" leave none. */
void snapshot_set_message(struct snapshot *s, size_t k, const char *m);
/* Points the entries at their messages; after the last snapshot_set_message,
 * before the snapshot is read. */
void snapshot_seal(struct snapshot *s);

/* Installs s as the current snapshot (takes ownership of the caller's
 * reference) and releases the previous one. s may be NULL (at shutdown). */
void snapshot_publish(struct snapshot *s);
/* The current snapshot with a reference taken, or NULL before the first publish. */
struct snapshot *snapshot_acquire(void);
void snapshot_release(struct snapshot *s);

/* The entry for name, or NULL. */
const struct snapshot_check *snapshot_find(const struct snapshot *s, const char *name);

#endif

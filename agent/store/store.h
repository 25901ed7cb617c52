/* store.h — the store: results, written by one writer thread in batches,
 * alert state, history and the outbox, read by the HTTP threads through their
 * own read connections. The rest of pharos calls only these functions.
 *
 * Behind them sits one implementation chosen from agent.database: a path is
 * the SQLite store (WAL, numbered migrations at open); a postgresql:// or
 * postgres:// URI names the PostgreSQL store (libpq; day-partitioned results;
 * it reconnects by itself when the server goes away). store_impl.h is the interface an implementation
 * provides; docs/storage.md says what it must guarantee. store_append() never
 * blocks on disk: it copies the result into a queue that the writer thread
 * commits about every 100 ms or every 500 rows, whichever comes first. */
#ifndef PHAROS_STORE_H
#define PHAROS_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "alerts/outbox.h"
#include "probes/result.h"

struct store;
struct store_reader;

/* Opens the store database names (agent.database: a path, or a URI), creating
 * what is missing (SQLite: the file and its parent directory) and migrating
 * it, then starts the writer thread. Returns NULL with a message in err on
 * failure (an unsupported URI too; the message never repeats the URI). */
struct store *store_open(const char *database, char *err, size_t errlen);
/* Commits everything queued, stops the writer, closes. */
void store_close(struct store *s);

/* The location (agent.location, SPEC §6) every result appended from now on
 * records; "" or NULL: none (the default). Any thread; agent.c calls it after
 * store_open() and after a reload. */
void store_set_location(struct store *s, const char *location);

/* Queues one result of check for writing (copied; the caller keeps r). */
void store_append(struct store *s, const char *check, const struct probe_result *r);
/* The same for a failed run while a check it depends on is down (state
 * blocked): it opens no incident (the dependency's outage is the incident),
 * though it counts in one already open. */
void store_append_blocked(struct store *s, const char *check, const struct probe_result *r);
/* Blocks until everything queued before the call is committed. */
void store_flush(struct store *s);
/* False when the last commit failed (disk full, read-only, ...): /readyz. */
bool store_healthy(const struct store *s);
/* The last commit error in words, or "" */
void store_last_error(const struct store *s, char *buf, size_t len);
/* Results dropped unwritten since open: the oldest, when commits failed
 * (database away) for longer than the in-memory bound (STORE_QUEUE_MAX
 * results) holds; alert state and outbox writes are never dropped. */
#define STORE_QUEUE_MAX 100000
uint64_t store_dropped_results(const struct store *s);

/* --- alerts and the outbox (writer) ------------------------------------------
 * Alert state changes and the notifications they cause travel through the
 * writer like results, but they are never dropped (a full result queue drops
 * results only) and they are committed in the same transaction as the results
 * batch they are in. A completion is called on the WRITER thread after the
 * commit (the agent posts it to the loop): only then may delivery start. */

/* rc 0: committed; ids[i] is the new id of the i-th notification of the unit
 * (0 when a notification with the same key already existed: not sent twice).
 * rc -1: given up (the store closed while commits failed); n_ids is 0. For a
 * requeue, n_ids is 1 when the row was dead and is pending again, else 0.
 * ids is valid during the call only. */
typedef void store_commit_fn(int rc, const int64_t *ids, size_t n_ids, void *arg);

/* Queues tx (its content is moved out: tx is empty afterwards) as one unit:
 * state upserts (deletes for gone instances), notification inserts and
 * history lines, all in one transaction. done may be NULL. */
void store_alert_commit(struct store *s, struct outbox_tx *tx, store_commit_fn *done, void *arg);

/* Delivery progress of one notification (through the writer, never dropped). */
struct store_outbox_update {
	int64_t id;
	enum outbox_state state;
	int attempts;
	int64_t next_attempt_us;
	int64_t delivered_us;       /* 0: none */
	const char *last_error;     /* NULL: none (copied) */
};
void store_outbox_update(struct store *s, const struct store_outbox_update *u);

/* Turns dead notification id back into pending (attempts 0, next attempt
 * now_us, created_us now_us so max_age starts over). done gets n_ids 1 when
 * it changed. */
void store_outbox_requeue(struct store *s, int64_t id, int64_t now_us, store_commit_fn *done,
                          void *arg);

/* --- the fleet's alerting and delivery leases (PostgreSQL; docs/fleet.md) -----
 * On PostgreSQL every agent is a member of a fleet. Its engine decides its
 * own location's condition per (rule, check); the fleet decides the alert in
 * the database, under the pair's row lock, so two agents never decide the same
 * transition. Notifications carry a lease (owner, until: the database's clock)
 * renewed by the agent delivering them; expired ones are claimed by another.
 * These ops travel through the writer like alert units: never dropped,
 * committed with a results batch, completions on the writer thread. */

/* True when the store is shared by a fleet (PostgreSQL). NULL: false. */
bool store_is_fleet(const struct store *s);

/* rc 0: committed; rows are the notifications this commit created or
 * claimed for this agent (ids set; valid during the call only: copy them),
 * episode the pair's episode after the commit (fleet conditions only; 0
 * otherwise). rc -1: given up at close (rows NULL). */
typedef void store_rows_fn(int rc, int64_t episode, const struct outbox_row *rows, size_t n,
                           void *arg);

/* A change of this agent's condition of (rule, check). Strings and arrays
 * are copied. */
struct store_fleet_condition {
	const char *rule, *check, *location;
	bool firing;
	/* ok <-> pending of this location (firing unchanged): no decision, only
	 * the pair's shown state (unless the fleet's alert is firing) and a
	 * history line; from/to are the engine's states. */
	bool pending_only;
	enum alert_state from, to;
	const char *value;                  /* the local value; NULL: none */
	const struct alert_event *event;    /* the engine's event or a template: kind,
	                                       alert_id, value and message are set by
	                                       the fleet; NULL: none */
	char *const *notify; size_t n_notify;   /* the rule's notifiers */
	int min_locations;
	int64_t interval_us;                /* the check's interval: stale after 2 */
	int64_t repeat_us;                  /* the rule's repeat; 0: never */
};
void store_fleet_condition(struct store *s, const struct store_fleet_condition *c,
                           store_rows_fn *done, void *arg);

/* Re-decides every pair that is firing or has a firing condition (dead
 * agents' locations no longer count, stale ones become unknown) and sends
 * the repeats due. location: this agent's. */
void store_fleet_sweep(struct store *s, const char *location, store_rows_fn *done, void *arg);

/* Renews the leases of the pending notifications owner holds and claims up
 * to 100 whose lease expired (or that have none), oldest first, of the
 * notifiers named (this agent's: a row for a notifier it lacks is left to
 * another); with adopt_own (at start) also those still leased to owner by
 * its previous run. done gets the rows owner holds now. */
void store_fleet_leases(struct store *s, const char *owner, bool adopt_own,
                        char *const *notifiers, size_t n_notifiers, store_rows_fn *done,
                        void *arg);

/* One pair as the fleet knows it, for the agent's start and its fail-open
 * path: the fleet's state and episode, and this location's condition. */
struct store_fleet_pair {
	char *rule, *check;
	bool fleet_firing;
	int64_t episode;
	int own;                            /* -1: no condition of this location, 0/1 */
	char *own_value;                    /* NULL: none */
	int64_t own_since_us;               /* when the condition last changed */
};
/* Every pair with a fleet alert or a condition of location, in strcmp order
 * of (rule, check). 0 and a new
 * array (free with store_fleet_pairs_free), -1 on error, -2 when the store
 * is no fleet. */
int store_fleet_pairs(struct store_reader *r, const char *location, struct store_fleet_pair **out,
                      size_t *n);
void store_fleet_pairs_free(struct store_fleet_pair *v, size_t n);

/* --- reading (any thread; one reader per thread at a time) ----------------- */

/* A read connection to the store database names (which must exist: a reader
 * never creates it). NULL with err on failure. store_reader_close(NULL) is a
 * no-op. */
struct store_reader *store_reader_open(const char *database, char *err, size_t errlen);
void store_reader_close(struct store_reader *r);

/* One stored result, typed: for code that acts on past results (the agent's
 * start) rather than showing them. Strings and details are valid during the
 * callback only. */
struct store_result {
	int64_t ts_us, duration_us;
	bool ok;
	enum probe_error error;     /* PROBE_OK when the stored name is unknown */
	const char *message;
	const char *run_id;
	int attempts;
	int status_code;            /* -1: none */
	const json_t *details;      /* the result's details object, or NULL */
};
typedef void store_result_fn(void *arg, const struct store_result *res);

/* The newest limit results of check with ts >= since_us (0: any), handed to
 * fn oldest first. Returns 0, or -1 on a database error (logged). */
int store_recent_results(struct store_reader *r, const char *check, int64_t since_us, int limit,
                         store_result_fn *fn, void *arg);

/* The start-up reads: a bounded number of statements whatever the number of
 * checks (30,000 checks read one by one took most of a minute on
 * PostgreSQL). checks[0..n) are the names; fn gets the index i of the check
 * a row belongs to. */
typedef void store_latest_fn(void *arg, size_t i, const struct store_result *res);
/* The newest result of each check that has one (in no particular order of
 * checks). Returns 0, or -1 on a database error (logged). */
int store_latest_results(struct store_reader *r, const char *const *checks, size_t n,
                         store_latest_fn *fn, void *arg);

/* One past run, as the alert engine's windows need it. */
struct store_run {
	int64_t ts_us, duration_us;
	bool ok;
	enum probe_error error;     /* PROBE_OK when the stored name is unknown */
};
typedef void store_run_fn(void *arg, size_t i, const struct store_run *run);
/* The newest limit runs with ts >= since_us of each check, check after
 * check (in no particular order of checks), oldest first within a check.
 * Returns 0, or -1 on a database error (logged; fn may have been called). */
int store_recent_runs(struct store_reader *r, const char *const *checks, size_t n,
                      int64_t since_us, int limit, store_run_fn *fn, void *arg);

/* Raw results of check, newest first, with since_us <= ts < until_us
 * (0 = unbounded), at most limit rows. A JSON array of objects like
 * probe_result_to_json() without assertions. New reference, NULL on error. */
json_t *store_results(struct store_reader *r, const char *check,
                      int64_t since_us, int64_t until_us, int limit);

/* Uptime in percent over [since_us, now): -1 when no result in the window. */
double store_uptime(struct store_reader *r, const char *check, int64_t since_us);

/* Latency percentiles (milliseconds) over [since_us, now) of successful and
 * failed runs; -1 when no result. */
int store_latency(struct store_reader *r, const char *check, int64_t since_us,
                  double *p50_ms, double *p95_ms);

/* Every pending notification, oldest (lowest id) first. Returns 0 and a new
 * array in *rows (free each with outbox_row_clear, then the array), -1 on a
 * database error. A row whose event cannot be parsed is skipped (logged). */
int store_outbox_pending(struct store_reader *r, struct outbox_row **rows, size_t *n);

/* One notification by id: 0 and *out filled (caller clears), 1 when there
 * is none, -1 on a database error. */
int store_outbox_get(struct store_reader *r, int64_t id, struct outbox_row *out);

/* Notifications in state (NULL: any), newest first, at most limit, as a JSON
 * array of objects: id, key, notifier, rule, check, alert_id, kind, state,
 * attempts, created, next_attempt, delivered, last_error. No secrets (rows
 * carry none; the API masks anyway). New reference, NULL on error. */
json_t *store_notifications(struct store_reader *r, const char *state, int limit);

/* Notification counts per (notifier, state), for metrics: a JSON object
 * {"notifier": {"pending": n, "delivered": n, "dead": n}}. NULL on error. */
json_t *store_notification_counts(struct store_reader *r);

/* Every stored alert instance state. Returns 0 and a new array (free each
 * with alert_state_row_clear, then the array), or -1. */
int store_alert_states(struct store_reader *r, struct alert_state_row **rows, size_t *n);

/* The newest limit alert transitions, newest first: a JSON array of objects
 * rule, check, alert_id, from, to, ts, value. NULL on error. */
json_t *store_alert_history(struct store_reader *r, const char *check, int limit);

/* --- the fleet's latest results (SPEC §6; PostgreSQL only) ---------------------
 * The newest result of every (check, location) of the fleet, kept by the
 * PostgreSQL store in the transaction of each batch. */

/* One (check, location)'s newest result; strings valid during the call. */
struct store_fleet_row {
	const char *check, *location;
	int64_t ts_us, duration_us;
	bool ok;
	const char *error;          /* probe_error_name() as stored */
	const char *message;
	const char *run_id;
};
typedef void store_fleet_fn(void *arg, const struct store_fleet_row *row);

/* fn once per (check, location) whose newest result changed since the read
 * that set *cursor (0: every row), in no particular order; *cursor is then
 * moved on (opaque: keep it per reader loop, pass it back). A row can come
 * twice (it may have changed again); none is missed, however late the batch
 * that wrote it commits. Returns 0, -1 on a database error (*cursor kept),
 * or -2 when this store keeps no fleet results (SQLite). */
int store_fleet_latest(struct store_reader *r, int64_t *cursor, store_fleet_fn *fn, void *arg);

/* --- status page reads (page.c) ----------------------------------------------
 * store_uptime_by_check() and store_uptime_by_day() read the rollups (see
 * "rollups" below): a few statements whatever the number of checks. */

/* Called once per group: day is the UTC day number (ts_us / 86400e6) for the
 * per-day read and 0 otherwise; runs > 0. */
typedef void store_count_fn(void *arg, const char *check, int64_t day, int64_t runs,
                            int64_t ok);

/* Runs and successes of every check with results in [since_us, now), one
 * call of fn per check. Returns 0, or -1 on a database error (logged). */
int store_uptime_by_check(struct store_reader *r, int64_t since_us, store_count_fn *fn,
                          void *arg);

/* Runs and successes per check and UTC day since since_us, for check only
 * (check != NULL) or every check. Returns 0 or -1. */
int store_uptime_by_day(struct store_reader *r, const char *check, int64_t since_us,
                        store_count_fn *fn, void *arg);

/* Every result of check with since_us <= ts < until_us, oldest first: fn gets
 * its start time, duration and outcome. Returns 0 or -1. */
typedef void store_sample_fn(void *arg, int64_t ts_us, int64_t duration_us, bool ok);
int store_durations(struct store_reader *r, const char *check, int64_t since_us,
                    int64_t until_us, store_sample_fn *fn, void *arg);

/* The newest limit failed results of check since since_us, newest first, as
 * store_results() shapes them. New reference, NULL on error. */
json_t *store_failures(struct store_reader *r, const char *check, int64_t since_us, int limit);

/* --- rollups and retention (rollup*.c; docs/storage.md) -------------------------
 * Every result is also added to a per-minute aggregate of its check, in the same
 * transaction; closed hours and days are derived from those. Windows are read
 * from the coarsest level that covers each part: days, then hours, then the
 * minutes after the last derived hour. store_uptime() and store_latency() take
 * the start edge (up to the first hour boundary) from raw results while those
 * are kept, so they are exact then; the all-checks reads take it from minutes
 * (within one minute) for windows under ~2 days and start at the next hour
 * boundary beyond (at most one hour of a 7-day or longer window left out).
 * Latency percentiles come from a 16-bucket histogram (1 ms .. 60 s, 1-2-5
 * steps) interpolated inside the bucket and clamped to the observed min/max:
 * within one bucket of the exact value, usually a few percent.
 *
 * The all-checks reads (store_summary_all, store_uptime_by_check and
 * store_uptime_by_day with check NULL) are cached per database and window
 * length: a result is reused for 50 times what it cost to compute (at most
 * 60 s; never when it cost under 2 ms), and while one thread recomputes a
 * stale result the others get the stale one. So at 10,000 checks a page or
 * an API call costs a copy, and small databases always read fresh. */

/* Raw results older than raw_ms and hour/day rollups older than rollups_ms
 * are deleted in small batches by the writer (a pass every 5 minutes, each
 * batch its own short transaction, then a passive WAL checkpoint); minute
 * rollups are kept 48 h (or rollups_ms when shorter). 0 keeps forever (the
 * default until this is called). Any thread; call after store_open() and
 * after every reload (conf.agent.retention_raw_ms / retention_rollups_ms). */
void store_set_retention(struct store *s, uint64_t raw_ms, uint64_t rollups_ms);

/* One check over one window. uptime_pct: 100 * ok / runs; p50/p95/avg in
 * milliseconds over every run (failed ones too). */
struct store_summary {
	const char *check;          /* valid during the call only */
	int64_t runs, ok;
	double uptime_pct;
	double p50_ms, p95_ms, avg_ms;
};
typedef void store_summary_fn(void *arg, const struct store_summary *s);

/* Every check with at least one run in [since_us, now): fn once per check,
 * in name order (strcmp). One read per window for all checks, e.g. for
 * /api/v1/checks: 24h (uptime and latency), 7d, 30d, 90d; may be up to a
 * minute old at 10,000 checks (see the cache above). Returns 0 or -1. */
int store_summary_all(struct store_reader *r, int64_t since_us, store_summary_fn *fn, void *arg);

/* check's latency over [since_us, until_us) in points of step_s seconds
 * (rounded up to whole minutes; steps of whole hours read hour rollups, e.g.
 * 24h: 300 s, 7d: 3600 s, 30d: 21600 s). fn once per point, oldest first,
 * t_us the point's start; a point without runs has runs 0 and p50/p95 -1.
 * Returns 0 or -1. */
typedef void store_series_fn(void *arg, int64_t t_us, int64_t runs, int64_t failures,
                             double p50_ms, double p95_ms);
int store_latency_series(struct store_reader *r, const char *check, int64_t since_us,
                         int64_t until_us, int64_t step_s, store_series_fn *fn, void *arg);

/* --- incidents (SPEC §3) -------------------------------------------------------
 * An incident is one outage of one check: from its first failed run to the
 * first passing run after it. The store derives them from the results it
 * commits (in the same transaction; an "aborted" run, the agent stopping
 * mid-probe, says nothing about the target and is skipped), so they survive
 * restarts and need no bookkeeping elsewhere. Status updates are added by the
 * admin API through the writer. A store without incidents (see
 * store_impl.h) answers -2 to both calls below: the API says 503. */

struct store_incident_update {
	int64_t ts_us;
	char *status;               /* investigating | identified | monitoring | resolved */
	char *message;
};

struct store_incident {
	int64_t id;
	char *check;
	int64_t started_us;         /* the first failed run's start */
	int64_t ended_us;           /* the first passing run's start; 0 while open */
	int64_t last_failure_us;    /* the latest failed run's start */
	int64_t failures;           /* failed runs in it */
	char *cause_error;          /* of the first failed run: probe_error_name() */
	char *cause_message;
	char **alert_ids;           /* alerts of the check that fired during it, oldest first */
	size_t n_alert_ids;
	struct store_incident_update *updates;  /* oldest first */
	size_t n_updates;
};

/* Which incidents to read: id (> 0: that one only), check (NULL: any), those
 * overlapping [since_us, until_us) (0: unbounded), open_only / closed_only,
 * the newest limit (by start). */
struct store_incident_query {
	int64_t id;
	const char *check;
	int64_t since_us, until_us;
	bool open_only, closed_only;
	int limit;
};

/* The incidents of q, newest (latest start) first: 0 and a new array in *out
 * (free with store_incidents_free), -1 on a database error, -2 when this store
 * keeps no incidents. */
int store_incidents(struct store_reader *r, const struct store_incident_query *q,
                    struct store_incident **out, size_t *n);
void store_incidents_free(struct store_incident *v, size_t n);

/* Queues a status update of incident id (strings copied). done gets rc 0 and
 * n_ids 1 when it was added, n_ids 0 when there is no such incident, rc -1
 * when it could not be written, rc -2 (at once) when this store keeps no
 * incidents. */
void store_incident_update(struct store *s, int64_t id, int64_t ts_us, const char *status,
                           const char *message, store_commit_fn *done, void *arg);

#endif

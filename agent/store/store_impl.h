/* store_impl.h — the inside of the store interface: what one implementation
 * (SQLite, PostgreSQL) provides to the shared code in store.c.
 * Only agent/store/ includes this; the rest of pharos calls store.h.
 *
 * store.c owns everything that is not about a particular database: the queue
 * of results and of alert/outbox operations, the writer thread that gathers
 * them into batches, flush, health, retries with backoff, dropping the oldest
 * results when the queue is full, the result JSON shape and the rollup-based
 * window reads (rollup_read.c). An implementation owns its connections, its
 * schema and migrations, and the SQL that writes one batch and answers the
 * reads. See docs/storage.md for the guarantees an implementation must keep. */
#ifndef PHAROS_STORE_IMPL_H
#define PHAROS_STORE_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/rollup.h"
#include "store/store.h"

/* One queued result: only what the INSERT needs, so a full queue of
 * QUEUE_MAX rows stays in the tens of megabytes (a struct probe_result carries
 * its assertions and would be ~7 KiB). */
struct store_row {
	struct store_row *next;
	uint64_t seq;
	uint64_t enqueued_us;       /* monotonic */
	char *check;
	int64_t ts_us, duration_us;
	bool ok;
	const char *error;          /* static, from probe_error_name() */
	char *message;
	int64_t dns_us, connect_us, tls_us, ttfb_us;    /* -1: phase did not happen */
	int status_code;            /* -1: none */
	int64_t bytes;              /* -1: none */
	int64_t cert_expiry;        /* 0: none */
	int attempts;
	char run_id[17];
	char *details;              /* compact JSON or NULL */
	bool blocked;               /* failed while a dependency was down: opens no incident */
	const char *location;       /* agent.location of the agent that ran it ("" none);
	                               the store's, valid while the store is open */
};

/* One alert unit (state + notifications + history), a delivery progress
 * update or a requeue: queued apart from results, never dropped. */
enum store_op_type {
	STORE_OP_ALERT, STORE_OP_UPDATE, STORE_OP_REQUEUE, STORE_OP_INCIDENT_UPDATE,
	STORE_OP_FLEET,             /* a fleet condition change (fleet: the condition) */
	STORE_OP_FLEET_SWEEP,       /* owner: this agent's location */
	STORE_OP_LEASES,            /* owner, adopt_own */
};

/* A copy of a struct store_fleet_condition, owned by its op. */
struct store_fleet_op {
	char *rule, *check, *location, *value;
	bool firing;
	bool pending_only;
	enum alert_state from, to;
	bool has_event;
	struct alert_event event;
	char **notify; size_t n_notify;
	int min_locations;
	int64_t interval_us, repeat_us;
};

struct store_op {
	struct store_op *next;
	uint64_t seq;
	uint64_t enqueued_us;
	enum store_op_type type;
	struct outbox_tx tx;                /* ALERT */
	struct store_outbox_update upd;     /* UPDATE (last_error owned); REQUEUE: id */
	int64_t now_us;                     /* REQUEUE; INCIDENT_UPDATE: its ts */
	/* INCIDENT_UPDATE: upd.id is the incident, these are owned. Sets n_ids 1
	 * (ids[0] = the incident) when added, 0 when there is no such incident. */
	char *note_status, *note_message;
	store_commit_fn *done;
	void *arg;
	int64_t *ids;                       /* filled by the implementation's commit */
	size_t n_ids;
	/* FLEET, FLEET_SWEEP, LEASES: the implementation fills tx.rows with the
	 * notifications to hand to delivery (emptied first: a commit may be
	 * retried) and episode; rows_done gets them after the commit. */
	struct store_fleet_op *fleet;       /* FLEET */
	char *owner;                        /* FLEET_SWEEP, LEASES */
	bool adopt_own;                     /* LEASES; note_message: its notifier
	                                       names, a JSON array */
	int64_t episode;
	store_rows_fn *rows_done;
};

/* The writer connection of an implementation; each embeds this first. */
struct store_conn {
	const struct store_ops *ops;
};

/* A read connection of an implementation; each embeds this first. */
struct store_reader {
	const struct store_ops *ops;
};

/* A result row as an implementation reads it; strings valid during the
 * callback. store.c turns it into JSON or into a store_result. */
struct store_raw_result {
	int64_t ts_us, duration_us;
	bool ok;
	const char *error;          /* as stored: probe_error_name() */
	const char *message;
	int64_t dns_us, connect_us, tls_us, ttfb_us;    /* -1: none */
	int status_code;            /* -1: none */
	int64_t bytes;              /* -1: none */
	int64_t cert_expiry;        /* Unix seconds; 0: none */
	int attempts;
	const char *run_id;
	const char *details;        /* JSON text or NULL */
	const char *location;       /* "" when none was recorded */
};
typedef void store_raw_fn(void *arg, const struct store_raw_result *row);

/* Which results a read wants: check's with since_us <= ts < until_us (0 =
 * unbounded), only failed ones when failed_only, the newest limit of them
 * (limit <= 0: none), handed over newest first, or oldest first when
 * oldest_first. */
struct store_query {
	const char *check;
	int64_t since_us, until_us;
	int limit;
	bool failed_only;
	bool oldest_first;
};

/* The start-up reads (store_latest_results, store_recent_runs) name their
 * checks in a JSON array of strings, names_json, and hand each row with the
 * name of its check: one statement for every check. */
typedef void store_raw_latest_fn(void *arg, const char *check, const struct store_raw_result *row);
/* One result as the engine's windows need it; error as stored. */
struct store_raw_run {
	int64_t ts_us, duration_us;
	bool ok;
	const char *error;
};
typedef void store_raw_run_fn(void *arg, const char *check, const struct store_raw_run *run);

/* One implementation. Every function is required. Errors are returned as -1
 * (or NULL) after logging, except where err is given. */
struct store_ops {
	const char *name;                   /* "sqlite" */

	/* --- the writer connection (the writer thread only, once open returned) */

	/* Connects (creating and migrating what is missing). NULL with err. */
	struct store_conn *(*open)(const char *database, char *err, size_t errlen);
	/* Writes the n results from rows and every op of the list in ONE
	 * transaction: all or nothing. Fills each op's ids/n_ids (see
	 * store_commit_fn) and adds the results to the minute rollups in the
	 * same transaction. Returns 0, or -1 with err (nothing written). */
	int (*commit)(struct store_conn *c, const struct store_row *rows, size_t n,
	              struct store_op *ops, char *err, size_t errlen);
	/* Retention, in short steps, outside any transaction: called after each
	 * successful commit. */
	void (*maintain)(struct store_conn *c, int64_t now_us);
	/* Any thread. 0 keeps forever. */
	void (*set_retention)(struct store_conn *c, uint64_t raw_ms, uint64_t rollups_ms);
	void (*close)(struct store_conn *c);

	/* --- read connections (one thread at a time each) -------------------- */

	struct store_reader *(*reader_open)(const char *database, char *err, size_t errlen);
	void (*reader_close)(struct store_reader *r);
	/* The rollup tables of this connection, for the shared window reads. */
	void (*rollup_source)(struct store_reader *r, struct rollup_source *out);
	/* fn once per result of q. Returns 0 or -1. */
	int (*results)(struct store_reader *r, const struct store_query *q, store_raw_fn *fn,
	               void *arg);
	/* As store_durations(). */
	int (*durations)(struct store_reader *r, const char *check, int64_t since_us,
	                 int64_t until_us, store_sample_fn *fn, void *arg);
	/* fn once per check of names_json that has a result: its newest one
	 * (ts, then id), in a bounded number of statements. Returns 0 or -1. */
	int (*latest)(struct store_reader *r, const char *names_json, store_raw_latest_fn *fn,
	              void *arg);
	/* fn once per result with ts >= since_us of the checks of names_json,
	 * check after check, oldest first (ts, then id) within each, in a bounded
	 * number of statements and bounded memory. Returns 0 or -1. */
	int (*runs)(struct store_reader *r, const char *names_json, int64_t since_us,
	            store_raw_run_fn *fn, void *arg);
	int (*outbox_pending)(struct store_reader *r, struct outbox_row **rows, size_t *n);
	int (*outbox_get)(struct store_reader *r, int64_t id, struct outbox_row *out);
	json_t *(*notifications)(struct store_reader *r, const char *state, int limit);
	json_t *(*notification_counts)(struct store_reader *r);
	int (*alert_states)(struct store_reader *r, struct alert_state_row **rows, size_t *n);
	json_t *(*alert_history)(struct store_reader *r, const char *check, int limit);

	/* --- incidents (SPEC §3): OPTIONAL. NULL means this store keeps none:
	 * store_incidents() and store_incident_update() answer -2 and the API 503.
	 * An implementation that sets it must also, inside commit's transaction,
	 * (1) derive incidents from the batch's rows in order (a failed row opens
	 * the check's incident when none is open, unless it is blocked, else
	 * counts one more failure and moves last_failure; a passing row closes
	 * the open one at its ts; rows with error "aborted" are skipped) and (2) apply
	 * STORE_OP_INCIDENT_UPDATE ops (see struct store_op). SQLite:
	 * store_sqlite_incident.c; PostgreSQL: store_pg_incident.c. */
	int (*incidents)(struct store_reader *r, const struct store_incident_query *q,
	                 struct store_incident **out, size_t *n);

	/* --- the fleet's latest results: OPTIONAL (NULL: store_fleet_latest()
	 * answers -2). As store_fleet_latest(). PostgreSQL: store_pg_fleet.c. */
	int (*fleet_latest)(struct store_reader *r, int64_t *cursor, store_fleet_fn *fn, void *arg);

	/* --- the fleet: OPTIONAL. NULL means no fleet (SQLite): the fleet ops
	 * are never queued, store_fleet_pairs() answers -2. An implementation
	 * that sets it applies STORE_OP_FLEET, _FLEET_SWEEP and _LEASES. */
	int (*fleet_pairs)(struct store_reader *r, const char *location,
	                   struct store_fleet_pair **out, size_t *n);
};

/* The implementations. */
extern const struct store_ops store_sqlite_ops;
extern const struct store_ops store_pg_ops;         /* store_pg.c */

/* The implementation for an agent.database value: a path is SQLite, a
 * postgresql:// or postgres:// URI PostgreSQL; a URI libpq cannot parse or an
 * unknown scheme is NULL with err (which never repeats the password).
 * In store_open.c, the one file that names the implementations. */
const struct store_ops *store_ops_for(const char *database, char *err, size_t errlen);

/* Opens the database through ops (which creates and migrates what is
 * missing) and starts the writer thread: store_open() once it has chosen the
 * implementation (store.c). NULL with err filled on failure; nothing is left
 * running then. */
struct store *store_start(const struct store_ops *ops, const char *path, char *err,
                          size_t errlen);

/* --- helpers shared by the implementations (store.c) --------------------- */

/* The answer of an op about one row (a requeue, an incident update): ids[0]
 * = o->upd.id, n_ids 1 when the statement changed that row, 0 when there
 * was no such row (store_commit_fn). */
void store_op_set_one_id(struct store_op *o, bool changed);

/* Sets o[key] to wall_us as an RFC 3339 time. */
void store_set_time(json_t *o, const char *key, int64_t wall_us);

/* One row of a query result as an implementation reads it: text (NULL when
 * the column is NULL) and integer (0 when NULL) of column i. */
struct store_cols {
	const char *(*text)(const void *row, int i);
	int64_t (*integer)(const void *row, int i);
	const void *row;
};
/* Fills *out from a row whose columns are, in order: id, key, notifier,
 * event (JSON), state, attempts, created_us, next_attempt_us, last_error,
 * delivered_us, seq. Returns 0, or -1 when the stored event cannot be parsed
 * (out stays zeroed). */
int store_outbox_row_read(const struct store_cols *c, struct outbox_row *out);

#endif

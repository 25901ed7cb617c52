/* store.c — the SQLite database: numbered migrations at open, one writer
 * thread that commits queued results in batches, and read-only connections
 * for the HTTP threads.
 *
 * Writer: store_append() (loop thread) copies a result into a FIFO queue under
 * a mutex and returns; the writer thread commits up to BATCH_MAX rows per
 * transaction with one prepared INSERT, about every BATCH_WINDOW_US. A failed
 * commit keeps its rows at the head of the queue and is retried with a capped
 * backoff; the store is reported unhealthy with SQLite's message until a
 * commit succeeds. The queue is bounded: past QUEUE_MAX rows the oldest are
 * dropped (and counted) so that a dead disk cannot eat the agent's memory.
 *
 * Flushing uses sequence numbers: every row gets the next seq; seq_done says
 * that every row up to it is committed (or was dropped). A flush waits for
 * seq_done to reach the last seq assigned before the call, or for a commit
 * attempt started after the call to fail — so it never hangs on a dead disk.
 *
 * Alerts (migration 2): alert units (state upserts + notification inserts +
 * history), delivery progress updates and requeues travel in a second FIFO of
 * "ops" that shares the seq numbers. Every transaction takes all queued ops
 * along with its results batch; ops are never dropped on overflow (only at
 * close when commits keep failing), and their completion callbacks run on the
 * writer thread after the COMMIT and before a flush that covers them returns. */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <sqlite3.h>

#include "core/log.h"
#include "store/rollup.h"
#include "store/store.h"
#include "core/util.h"

#define BATCH_MAX        500            /* rows per transaction */
#define BATCH_WINDOW_US  100000         /* commit at most this long after a row arrives */
#define QUEUE_MAX        100000         /* rows kept while commits fail */
#define BACKOFF_MIN_US   100000
#define BACKOFF_MAX_US   5000000
#define WRITER_BUSY_MS   5000           /* only checkpoints and outside tools contend */
#define READER_BUSY_MS   2000

/* --- schema ------------------------------------------------------------------ */

/* Numbered migrations, applied in order inside one transaction; the database's
 * PRAGMA user_version is the number of the last one applied. Append only:
 * never edit a migration that has shipped. */
static const struct migration {
	int version;
	const char *sql;
} migrations[] = {
	{ 1,
	  "CREATE TABLE results ("
	  " id INTEGER PRIMARY KEY,"
	  " check_name TEXT NOT NULL,"
	  " ts_us INTEGER NOT NULL,"
	  " duration_us INTEGER NOT NULL,"
	  " ok INTEGER NOT NULL,"
	  " error TEXT NOT NULL,"
	  " message TEXT NOT NULL,"
	  " dns_us INTEGER,"            /* NULL: phase did not happen */
	  " connect_us INTEGER,"
	  " tls_us INTEGER,"
	  " ttfb_us INTEGER,"
	  " status_code INTEGER,"       /* NULL: none */
	  " bytes INTEGER,"
	  " cert_expiry INTEGER,"       /* Unix seconds; NULL: none */
	  " attempts INTEGER NOT NULL,"
	  " run_id TEXT NOT NULL,"
	  " details TEXT"               /* JSON object or NULL */
	  ");"
	  "CREATE INDEX results_check_ts ON results(check_name, ts_us);" },
	{ 2,
	  /* Alert instances (one row per (rule, check) not in a pristine ok state). */
	  "CREATE TABLE alert_state ("
	  " rule TEXT NOT NULL,"
	  " check_name TEXT NOT NULL,"
	  " state TEXT NOT NULL,"       /* ok | pending | firing */
	  " since_us INTEGER NOT NULL,"
	  " fired_us INTEGER NOT NULL DEFAULT 0,"
	  " last_sent_us INTEGER NOT NULL DEFAULT 0,"
	  " alert_id TEXT,"
	  " value TEXT,"
	  " PRIMARY KEY (rule, check_name)"
	  ");"
	  /* The outbox. AUTOINCREMENT: ids only grow, never reused, so the id
	   * order is the commit order delivery keeps per alert. */
	  "CREATE TABLE notifications ("
	  " id INTEGER PRIMARY KEY AUTOINCREMENT,"
	  " key TEXT NOT NULL UNIQUE,"  /* idempotency key */
	  " notifier TEXT NOT NULL,"
	  " rule TEXT NOT NULL,"
	  " check_name TEXT NOT NULL,"
	  " alert_id TEXT,"
	  " kind TEXT NOT NULL,"        /* firing | resolved */
	  " event TEXT NOT NULL,"       /* alert_event_to_json() */
	  " state TEXT NOT NULL,"       /* pending | delivered | dead */
	  " attempts INTEGER NOT NULL DEFAULT 0,"
	  " created_us INTEGER NOT NULL,"
	  " next_attempt_us INTEGER NOT NULL,"
	  " last_error TEXT,"
	  " delivered_us INTEGER,"
	  " seq INTEGER NOT NULL"       /* order within the alert: the event's ts_us */
	  ");"
	  "CREATE INDEX notifications_state ON notifications(state, id);"
	  "CREATE TABLE alert_history ("
	  " id INTEGER PRIMARY KEY,"
	  " rule TEXT NOT NULL,"
	  " check_name TEXT NOT NULL,"
	  " alert_id TEXT,"
	  " from_state TEXT NOT NULL,"
	  " to_state TEXT NOT NULL,"
	  " ts_us INTEGER NOT NULL,"
	  " value TEXT"
	  ");"
	  "CREATE INDEX alert_history_ts ON alert_history(ts_us);"
	  "CREATE INDEX alert_history_check ON alert_history(check_name, ts_us);" },
	/* Minute, hour and day rollups (rollup.c), backfilled from results. */
	{ 3, rollup_schema_sql },
};
#define SCHEMA_VERSION (migrations[sizeof(migrations) / sizeof(migrations[0]) - 1].version)

static const char insert_sql[] =
	"INSERT INTO results (check_name, ts_us, duration_us, ok, error, message,"
	" dns_us, connect_us, tls_us, ttfb_us, status_code, bytes, cert_expiry,"
	" attempts, run_id, details)"
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)";

/* --- types ------------------------------------------------------------------- */

/* One queued result: only what the INSERT needs, so a full queue of
 * QUEUE_MAX rows stays in the tens of megabytes (a struct probe_result carries
 * its assertions and would be ~7 KiB). */
struct row {
	struct row *next;
	uint64_t seq;
	uint64_t enqueued_us;       /* monotonic */
	char *check;
	int64_t ts_us, duration_us;
	bool ok;
	const char *error;          /* static, from probe_error_name() */
	char *message;
	int64_t dns_us, connect_us, tls_us, ttfb_us;
	int status_code;
	int64_t bytes;
	int64_t cert_expiry;
	int attempts;
	char run_id[17];
	char *details;              /* compact JSON or NULL */
};

/* One alert unit (state + notifications + history), a delivery progress
 * update or a requeue: queued apart from results, never dropped. */
enum op_type { OP_ALERT, OP_UPDATE, OP_REQUEUE };

struct op {
	struct op *next;
	uint64_t seq;
	uint64_t enqueued_us;
	enum op_type type;
	struct outbox_tx tx;                /* OP_ALERT */
	struct store_outbox_update upd;     /* OP_UPDATE (last_error owned); OP_REQUEUE: id */
	int64_t now_us;                     /* OP_REQUEUE */
	store_commit_fn *done;
	void *arg;
	int64_t *ids;                       /* filled by the transaction */
	size_t n_ids;
};

/* Writer-only prepared statements for the alert tables. */
enum {
	WS_STATE_UPSERT, WS_STATE_DELETE, WS_NOTIF_INSERT, WS_HISTORY_INSERT, WS_NOTIF_UPDATE,
	WS_NOTIF_REQUEUE, WS_COUNT
};

struct store {
	char *path;
	sqlite3 *db;                /* writer thread only once started */
	sqlite3_stmt *insert;
	sqlite3_stmt *ws[WS_COUNT];
	struct op *ops_head, *ops_tail;     /* guarded by lock */
	struct rollup_writer *rollup;       /* rollups and retention (writer thread) */

	pthread_t thread;
	pthread_mutex_t lock;       /* guards everything below */
	pthread_cond_t wake;        /* writer waits: rows, stop */
	pthread_cond_t progress;    /* flushers wait: commit or failure */
	struct row *head, *tail;
	size_t n_queued;            /* rows in the list (not those being committed) */
	uint64_t seq_last;          /* last seq assigned */
	uint64_t seq_done;          /* every row <= this is committed or dropped */
	uint64_t attempts;          /* commit attempts started */
	uint64_t failed_attempt;    /* number of the last attempt that failed */
	uint64_t dropped;           /* rows dropped: queue overflow or given up at close */
	int flush_waiters;          /* a flush cuts the gathering window short */
	uint64_t flush_requests;    /* flush calls so far: one cuts a backoff short */
	bool stopping;
	bool healthy;
	char last_error[256];
};

struct store_reader {
	sqlite3 *db;
	sqlite3_stmt *results, *uptime, *count, *latency;
};

/* --- helpers ----------------------------------------------------------------- */

static void row_free(struct row *w)
{
	free(w->check);
	free(w->message);
	free(w->details);
	free(w);
}

/* Creates every missing directory above path's last component (mkdir -p of the
 * parent, mode 0750). Returns 0, or -1 with err naming the directory. */
static int make_parent_dirs(const char *path, char *err, size_t errlen)
{
	char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	int rc = -1;

	if (slash == NULL || slash == dir) {    /* "file" or "/file": nothing to create */
		rc = 0;
		goto out;
	}
	*slash = '\0';
	/* Walk the components left to right; EEXIST is fine only for directories. */
	for (char *p = dir + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char saved = *p;
		struct stat st;

		*p = '\0';
		if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
			snprintf(err, errlen, "cannot create directory %s: %s", dir, strerror(errno));
			goto out;
		}
		if (stat(dir, &st) != 0) {
			snprintf(err, errlen, "cannot create directory %s: %s", dir, strerror(errno));
			goto out;
		}
		if (!S_ISDIR(st.st_mode)) {
			snprintf(err, errlen, "cannot create directory %s: %s", dir, strerror(ENOTDIR));
			goto out;
		}
		*p = saved;
		if (saved == '\0')
			break;
	}
	rc = 0;
out:
	free(dir);
	return rc;
}

/* Runs sql (no rows expected). Returns 0, or -1 with err "what: sqlite message". */
static int exec_sql(sqlite3 *db, const char *sql, const char *what, char *err, size_t errlen)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", what, msg ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

/* Reads PRAGMA user_version into *v. Returns 0 or -1 with err. */
static int user_version(sqlite3 *db, int *v, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	int rc = -1;

	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW) {
		snprintf(err, errlen, "reading schema version: %s", sqlite3_errmsg(db));
		goto out;
	}
	*v = sqlite3_column_int(st, 0);
	rc = 0;
out:
	sqlite3_finalize(st);
	return rc;
}

/* Brings the schema to SCHEMA_VERSION in one IMMEDIATE transaction (so two
 * agents opening the same file cannot both migrate). A database newer than
 * this binary is refused rather than written with an older schema. */
static int migrate(sqlite3 *db, char *err, size_t errlen)
{
	int cur = 0;
	char sql[64];

	if (exec_sql(db, "BEGIN IMMEDIATE", "starting migration", err, errlen) != 0)
		return -1;
	if (user_version(db, &cur, err, errlen) != 0)
		goto fail;
	if (cur > SCHEMA_VERSION) {
		snprintf(err, errlen, "database schema version %d is newer than this pharos (%d)",
		         cur, SCHEMA_VERSION);
		goto fail;
	}
	for (size_t i = 0; i < sizeof(migrations) / sizeof(migrations[0]); i++) {
		char what[48];

		if (migrations[i].version <= cur)
			continue;
		snprintf(what, sizeof(what), "migration %d", migrations[i].version);
		if (exec_sql(db, migrations[i].sql, what, err, errlen) != 0)
			goto fail;
		log_info("store: applied migration", "version", what + strlen("migration "));
	}
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", SCHEMA_VERSION);
	if (exec_sql(db, sql, "setting schema version", err, errlen) != 0)
		goto fail;
	if (exec_sql(db, "COMMIT", "committing migration", err, errlen) != 0)
		goto fail;
	return 0;
fail:
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

/* Sets WAL mode (checking that SQLite agreed: it silently keeps another mode on
 * some file systems) and the pragmas the writer wants. */
static int set_pragmas(sqlite3 *db, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	int rc = -1;

	sqlite3_busy_timeout(db, WRITER_BUSY_MS);
	if (sqlite3_prepare_v2(db, "PRAGMA journal_mode=WAL", -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW) {
		snprintf(err, errlen, "setting WAL mode: %s", sqlite3_errmsg(db));
		goto out;
	}
	if (sqlite3_stricmp((const char *)sqlite3_column_text(st, 0), "wal") != 0) {
		snprintf(err, errlen, "setting WAL mode: journal mode stayed %s",
		         (const char *)sqlite3_column_text(st, 0));
		goto out;
	}
	if (exec_sql(db, "PRAGMA synchronous=NORMAL", "setting synchronous", err, errlen) != 0)
		goto out;
	rc = 0;
out:
	sqlite3_finalize(st);
	return rc;
}

static void now_plus(struct timespec *ts, uint64_t us)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += (time_t)(us / 1000000u);
	ts->tv_nsec += (long)(us % 1000000u) * 1000;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static void bind_opt_int64(sqlite3_stmt *st, int i, int64_t v, int64_t none)
{
	if (v == none)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_int64(st, i, v);
}

static void op_free(struct op *o)
{
	outbox_tx_clear(&o->tx);
	free((char *)o->upd.last_error);
	free(o->ids);
	free(o);
}

static const char *const ws_sql[WS_COUNT] = {
	[WS_STATE_UPSERT] =
		"INSERT INTO alert_state (rule, check_name, state, since_us, fired_us, last_sent_us,"
		" alert_id, value) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
		" ON CONFLICT (rule, check_name) DO UPDATE SET state = excluded.state,"
		" since_us = excluded.since_us, fired_us = excluded.fired_us,"
		" last_sent_us = excluded.last_sent_us, alert_id = excluded.alert_id,"
		" value = excluded.value",
	[WS_STATE_DELETE] = "DELETE FROM alert_state WHERE rule = ?1 AND check_name = ?2",
	[WS_NOTIF_INSERT] =
		"INSERT INTO notifications (key, notifier, rule, check_name, alert_id, kind, event,"
		" state, attempts, created_us, next_attempt_us, last_error, delivered_us, seq)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"
		" ON CONFLICT (key) DO NOTHING",
	[WS_HISTORY_INSERT] =
		"INSERT INTO alert_history (rule, check_name, alert_id, from_state, to_state, ts_us,"
		" value) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[WS_NOTIF_UPDATE] =
		"UPDATE notifications SET state = ?2, attempts = ?3, next_attempt_us = ?4,"
		" last_error = ?5, delivered_us = ?6 WHERE id = ?1",
	[WS_NOTIF_REQUEUE] =
		"UPDATE notifications SET state = 'pending', attempts = 0, next_attempt_us = ?2,"
		" created_us = ?2, last_error = NULL WHERE id = ?1 AND state = 'dead'",
};

/* The writer's statement i, prepared on first use and reset. NULL with err. */
static sqlite3_stmt *wstmt(struct store *s, int i, char *err, size_t errlen)
{
	if (s->ws[i] == NULL &&
	    sqlite3_prepare_v3(s->db, ws_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->ws[i], NULL) != SQLITE_OK) {
		snprintf(err, errlen, "prepare: %s", sqlite3_errmsg(s->db));
		s->ws[i] = NULL;
		return NULL;
	}
	sqlite3_reset(s->ws[i]);
	sqlite3_clear_bindings(s->ws[i]);
	return s->ws[i];
}

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *v)
{
	if (v == NULL)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
}

/* Steps st to the end; -1 with err on failure. Resets st either way. */
static int step_done(struct store *s, sqlite3_stmt *st, const char *what, char *err, size_t errlen)
{
	int rc = sqlite3_step(st);

	if (rc != SQLITE_DONE) {
		snprintf(err, errlen, "%s: %s", what, sqlite3_errmsg(s->db));
		sqlite3_reset(st);
		return -1;
	}
	sqlite3_reset(st);
	return 0;
}

static const char *event_kind_name(enum alert_event_kind k)
{
	return k == ALERT_EVENT_RESOLVED ? "resolved" : k == ALERT_EVENT_TEST ? "test" : "firing";
}

/* Applies one alert unit inside the open transaction; fills o->ids. */
static int apply_alert(struct store *s, struct op *o, char *err, size_t errlen)
{
	sqlite3_stmt *st;

	for (size_t i = 0; i < o->tx.n_states; i++) {
		const struct alert_state_row *a = &o->tx.states[i];

		st = wstmt(s, a->gone ? WS_STATE_DELETE : WS_STATE_UPSERT, err, errlen);
		if (st == NULL)
			return -1;
		sqlite3_bind_text(st, 1, a->rule, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, a->check, -1, SQLITE_STATIC);
		if (!a->gone) {
			sqlite3_bind_text(st, 3, alert_state_name(a->state), -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 4, a->since_us);
			sqlite3_bind_int64(st, 5, a->fired_us);
			sqlite3_bind_int64(st, 6, a->last_sent_us);
			bind_text_or_null(st, 7, a->alert_id);
			bind_text_or_null(st, 8, a->value);
		}
		if (step_done(s, st, "alert state", err, errlen) != 0)
			return -1;
	}
	free(o->ids);
	o->ids = xcalloc(o->tx.n_rows + 1, sizeof(*o->ids));
	o->n_ids = o->tx.n_rows;
	for (size_t i = 0; i < o->tx.n_rows; i++) {
		const struct outbox_row *r = &o->tx.rows[i];
		json_t *j = alert_event_to_json(&r->event);
		char *ev = json_dumps(j, JSON_COMPACT);
		int rc;

		json_decref(j);
		st = wstmt(s, WS_NOTIF_INSERT, err, errlen);
		if (st == NULL || ev == NULL) {
			if (ev == NULL)
				snprintf(err, errlen, "notification: cannot serialise the event");
			free(ev);
			return -1;
		}
		sqlite3_bind_text(st, 1, r->key, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, r->notifier, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, r->event.rule, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, r->event.check, -1, SQLITE_STATIC);
		bind_text_or_null(st, 5, r->event.alert_id);
		sqlite3_bind_text(st, 6, event_kind_name(r->event.kind), -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 7, ev, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 8, outbox_state_name(r->state), -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 9, r->attempts);
		sqlite3_bind_int64(st, 10, r->created_us);
		sqlite3_bind_int64(st, 11, r->next_attempt_us);
		bind_text_or_null(st, 12, r->last_error);
		bind_opt_int64(st, 13, r->delivered_us, 0);
		sqlite3_bind_int64(st, 14, r->seq);
		free(ev);
		rc = step_done(s, st, "notification", err, errlen);
		if (rc != 0)
			return -1;
		/* ON CONFLICT DO NOTHING: a key seen before is not queued twice. */
		o->ids[i] = sqlite3_changes(s->db) == 1 ? sqlite3_last_insert_rowid(s->db) : 0;
	}
	for (size_t i = 0; i < o->tx.n_history; i++) {
		const struct alert_history_row *h = &o->tx.history[i];

		st = wstmt(s, WS_HISTORY_INSERT, err, errlen);
		if (st == NULL)
			return -1;
		sqlite3_bind_text(st, 1, h->rule, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, h->check, -1, SQLITE_STATIC);
		bind_text_or_null(st, 3, h->alert_id);
		sqlite3_bind_text(st, 4, h->from_state ? h->from_state : "ok", -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, h->to_state ? h->to_state : "ok", -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 6, h->ts_us);
		bind_text_or_null(st, 7, h->value);
		if (step_done(s, st, "alert history", err, errlen) != 0)
			return -1;
	}
	return 0;
}

/* Applies one queued operation inside the open transaction. */
static int apply_op(struct store *s, struct op *o, char *err, size_t errlen)
{
	sqlite3_stmt *st;

	switch (o->type) {
	case OP_ALERT:
		return apply_alert(s, o, err, errlen);
	case OP_UPDATE:
		st = wstmt(s, WS_NOTIF_UPDATE, err, errlen);
		if (st == NULL)
			return -1;
		sqlite3_bind_int64(st, 1, o->upd.id);
		sqlite3_bind_text(st, 2, outbox_state_name(o->upd.state), -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 3, o->upd.attempts);
		sqlite3_bind_int64(st, 4, o->upd.next_attempt_us);
		bind_text_or_null(st, 5, o->upd.last_error);
		bind_opt_int64(st, 6, o->upd.delivered_us, 0);
		return step_done(s, st, "notification update", err, errlen);
	case OP_REQUEUE:
		st = wstmt(s, WS_NOTIF_REQUEUE, err, errlen);
		if (st == NULL)
			return -1;
		sqlite3_bind_int64(st, 1, o->upd.id);
		sqlite3_bind_int64(st, 2, o->now_us);
		if (step_done(s, st, "notification requeue", err, errlen) != 0)
			return -1;
		free(o->ids);
		o->ids = xcalloc(1, sizeof(*o->ids));
		o->ids[0] = o->upd.id;
		o->n_ids = sqlite3_changes(s->db) == 1 ? 1 : 0;
		return 0;
	}
	return 0;
}

/* Inserts the n rows starting at batch and applies the ops list in one
 * transaction. Writer thread only, without the lock. Returns 0, or -1 with err
 * holding SQLite's message (the transaction rolled back: nothing of the batch
 * is in the database). */
static int commit_batch(struct store *s, struct row *batch, size_t n, struct op *ops,
                        char *err, size_t errlen)
{
	sqlite3_stmt *st = s->insert;
	struct row *w = batch;

	if (exec_sql(s->db, "BEGIN IMMEDIATE", "begin", err, errlen) != 0)
		return -1;
	rollup_writer_begin(s->rollup);
	for (struct op *o = ops; o != NULL; o = o->next)
		if (apply_op(s, o, err, errlen) != 0)
			goto fail;
	for (size_t i = 0; i < n; i++, w = w->next) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		sqlite3_bind_text(st, 1, w->check, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, w->ts_us);
		sqlite3_bind_int64(st, 3, w->duration_us);
		sqlite3_bind_int(st, 4, w->ok ? 1 : 0);
		sqlite3_bind_text(st, 5, w->error, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 6, w->message, -1, SQLITE_STATIC);
		bind_opt_int64(st, 7, w->dns_us, -1);
		bind_opt_int64(st, 8, w->connect_us, -1);
		bind_opt_int64(st, 9, w->tls_us, -1);
		bind_opt_int64(st, 10, w->ttfb_us, -1);
		bind_opt_int64(st, 11, w->status_code, -1);
		bind_opt_int64(st, 12, w->bytes, -1);
		bind_opt_int64(st, 13, w->cert_expiry, 0);
		sqlite3_bind_int(st, 14, w->attempts);
		sqlite3_bind_text(st, 15, w->run_id, -1, SQLITE_STATIC);
		if (w->details != NULL)
			sqlite3_bind_text(st, 16, w->details, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE) {
			snprintf(err, errlen, "insert: %s", sqlite3_errmsg(s->db));
			goto fail;
		}
		rollup_writer_add(s->rollup, w->check, w->ts_us, w->duration_us, w->ok);
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	/* The minute rollups of these rows, in the same transaction. */
	if (rollup_writer_commit(s->rollup, s->db, util_wall_us(), err, errlen) != 0)
		goto fail;
	if (exec_sql(s->db, "COMMIT", "commit", err, errlen) != 0)
		goto fail;
	return 0;
fail:
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

/* Drops the oldest queued rows until at most keep remain. Lock held. */
static void drop_oldest(struct store *s, size_t keep, const char *why)
{
	size_t n = 0;

	while (s->n_queued > keep && s->head != NULL) {
		struct row *w = s->head;

		s->head = w->next;
		if (s->head == NULL)
			s->tail = NULL;
		s->n_queued--;
		row_free(w);
		n++;
	}
	if (n == 0)
		return;
	/* Log the first drop and then every 1000th, not one line per result. */
	if (s->dropped == 0 || (s->dropped + n) / 1000 != s->dropped / 1000) {
		char nb[24], tb[24];

		snprintf(nb, sizeof(nb), "%zu", n);
		snprintf(tb, sizeof(tb), "%" PRIu64, s->dropped + n);
		log_error("store: results dropped", "reason", why, "count", nb, "dropped_total", tb,
		          "error", s->last_error);
	}
	s->dropped += n;
}

/* At close with commits failing: alert units cannot be kept anywhere else.
 * Their state change is lost with them, so the next start re-evaluates from
 * the state in the database and notifies again if still due. Lock held. */
static void ops_give_up(struct store *s)
{
	size_t n = 0;

	while (s->ops_head != NULL) {
		struct op *o = s->ops_head;

		s->ops_head = o->next;
		if (o->done != NULL)
			o->done(-1, NULL, 0, o->arg);
		op_free(o);
		n++;
	}
	s->ops_tail = NULL;
	if (n > 0) {
		char nb[24];

		snprintf(nb, sizeof(nb), "%zu", n);
		log_error("store: alert state and notification updates not written", "count", nb,
		          "error", s->last_error);
	}
}

/* The writer thread: waits for rows, lets a batch gather for up to
 * BATCH_WINDOW_US (or BATCH_MAX rows, or a flush, or stop), commits it without
 * holding the lock, and on failure puts it back at the head and backs off. */
static void *writer_main(void *arg)
{
	struct store *s = arg;
	uint64_t backoff_us = 0;

	pthread_mutex_lock(&s->lock);
	for (;;) {
		struct timespec deadline;
		struct row *batch = NULL, *last = NULL;
		struct op *ops, *last_op;
		size_t n = 0;
		uint64_t attempt, flushes_seen;
		char err[256];
		int rc;

		while (!s->stopping && s->head == NULL && s->ops_head == NULL)
			pthread_cond_wait(&s->wake, &s->lock);
		if (s->head == NULL && s->ops_head == NULL)     /* stopping and nothing left */
			break;
		/* Gather: the window runs from the oldest row's (or op's) arrival. */
		if (!s->stopping && s->flush_waiters == 0 && s->n_queued < BATCH_MAX) {
			uint64_t now = util_mono_us();
			uint64_t first = s->head != NULL ? s->head->enqueued_us : UINT64_MAX;
			uint64_t due;

			if (s->ops_head != NULL && s->ops_head->enqueued_us < first)
				first = s->ops_head->enqueued_us;
			due = first + BATCH_WINDOW_US;
			now_plus(&deadline, due > now ? due - now : 0);
			while (!s->stopping && s->flush_waiters == 0 && s->n_queued < BATCH_MAX &&
			       (s->head != NULL || s->ops_head != NULL) &&
			       pthread_cond_timedwait(&s->wake, &s->lock, &deadline) == 0)
				;
			if (s->head == NULL && s->ops_head == NULL)
				continue;
		}
		/* Detach up to BATCH_MAX rows from the head, and every op. */
		if (s->head != NULL) {
			batch = last = s->head;
			for (n = 1; n < BATCH_MAX && last->next != NULL; n++)
				last = last->next;
			s->head = last->next;
			if (s->head == NULL)
				s->tail = NULL;
			last->next = NULL;
			s->n_queued -= n;
		}
		ops = s->ops_head;
		last_op = s->ops_tail;
		s->ops_head = s->ops_tail = NULL;
		attempt = ++s->attempts;
		flushes_seen = s->flush_requests;
		pthread_mutex_unlock(&s->lock);

		rc = commit_batch(s, batch, n, ops, err, sizeof(err));

		pthread_mutex_lock(&s->lock);
		if (rc == 0) {
			uint64_t pending = UINT64_MAX;

			pthread_mutex_unlock(&s->lock);
			while (batch != NULL) {
				struct row *next = batch->next;

				row_free(batch);
				batch = next;
			}
			/* Completions only after the commit (delivery starts from
			 * them), and before a flush returns: a flush covers them. */
			while (ops != NULL) {
				struct op *next = ops->next;

				if (ops->done != NULL)
					ops->done(0, ops->ids, ops->n_ids, ops->arg);
				op_free(ops);
				ops = next;
			}
			pthread_mutex_lock(&s->lock);
			if (!s->healthy)
				log_info("store: commits succeed again");
			s->healthy = true;
			s->last_error[0] = '\0';
			backoff_us = 0;
			/* Rows and ops each stay in seq order: everything below the
			 * oldest still queued is done. */
			if (s->head != NULL)
				pending = s->head->seq;
			if (s->ops_head != NULL && s->ops_head->seq < pending)
				pending = s->ops_head->seq;
			s->seq_done = pending == UINT64_MAX ? s->seq_last : pending - 1;
			pthread_cond_broadcast(&s->progress);
			/* Retention: at most one short transaction between batches,
			 * after the flushers were released. */
			pthread_mutex_unlock(&s->lock);
			rollup_writer_maintain(s->rollup, s->db, util_wall_us());
			pthread_mutex_lock(&s->lock);
			continue;
		}
		/* Failure: the rows and ops go back in front, in order. */
		if (batch != NULL) {
			last->next = s->head;
			s->head = batch;
			if (s->tail == NULL)
				s->tail = last;
			s->n_queued += n;
		}
		if (ops != NULL) {
			last_op->next = s->ops_head;
			s->ops_head = ops;
			if (s->ops_tail == NULL)
				s->ops_tail = last_op;
		}
		s->healthy = false;
		util_strlcpy(s->last_error, err, sizeof(s->last_error));
		s->failed_attempt = attempt;
		log_error("store: commit failed, will retry", "error", err, "path", s->path);
		drop_oldest(s, QUEUE_MAX, "queue full while commits fail");
		pthread_cond_broadcast(&s->progress);
		if (s->stopping) {
			drop_oldest(s, 0, "store closing while commits fail");
			ops_give_up(s);
			s->seq_done = s->seq_last;
			pthread_cond_broadcast(&s->progress);
			break;
		}
		backoff_us = backoff_us == 0 ? BACKOFF_MIN_US : backoff_us * 2;
		if (backoff_us > BACKOFF_MAX_US)
			backoff_us = BACKOFF_MAX_US;
		/* A flush that arrives during the backoff gets its own attempt at
		 * once; one that this attempt already answered does not. */
		now_plus(&deadline, backoff_us);
		while (!s->stopping && s->flush_requests == flushes_seen &&
		       pthread_cond_timedwait(&s->wake, &s->lock, &deadline) == 0)
			;
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

/* --- writer API -------------------------------------------------------------- */

/* Opens or creates the database at path (and its parent directory), sets WAL,
 * applies migrations, prepares the INSERT and starts the writer thread.
 * Returns NULL with err filled on failure; nothing is left running then. */
struct store *store_open(const char *path, char *err, size_t errlen)
{
	struct store *s = NULL;
	sqlite3 *db = NULL;
	pthread_condattr_t ca;
	char why[256];

	if (path == NULL || path[0] == '\0') {
		snprintf(err, errlen, "no database path");
		return NULL;
	}
	if (make_parent_dirs(path, err, errlen) != 0)
		return NULL;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "cannot open database %s: %s", path,
		         db ? sqlite3_errmsg(db) : "out of memory");
		goto fail;
	}
	sqlite3_extended_result_codes(db, 1);
	if (set_pragmas(db, why, sizeof(why)) != 0 || migrate(db, why, sizeof(why)) != 0) {
		snprintf(err, errlen, "cannot open database %s: %s", path, why);
		goto fail;
	}
	s = xcalloc(1, sizeof(*s));
	if (sqlite3_prepare_v3(db, insert_sql, -1, SQLITE_PREPARE_PERSISTENT, &s->insert, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "cannot open database %s: preparing insert: %s", path, sqlite3_errmsg(db));
		goto fail;
	}
	s->db = db;
	s->path = xstrdup(path);
	s->healthy = true;
	s->rollup = rollup_writer_new();
	pthread_mutex_init(&s->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->wake, &ca);
	pthread_cond_init(&s->progress, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&s->thread, NULL, writer_main, s) != 0) {
		snprintf(err, errlen, "cannot start the store writer thread: %s", strerror(errno));
		pthread_cond_destroy(&s->wake);
		pthread_cond_destroy(&s->progress);
		pthread_mutex_destroy(&s->lock);
		free(s->path);
		goto fail;
	}
	log_debug("store: opened", "path", path);
	return s;
fail:
	if (s != NULL) {
		sqlite3_finalize(s->insert);
		rollup_writer_free(s->rollup);
	}
	free(s);
	sqlite3_close(db);
	return NULL;
}

/* Flushes, stops and joins the writer, then closes the database. Rows that
 * still cannot be committed at this point are dropped with an error log. */
void store_close(struct store *s)
{
	if (s == NULL)
		return;
	store_flush(s);
	pthread_mutex_lock(&s->lock);
	s->stopping = true;
	pthread_cond_signal(&s->wake);
	pthread_mutex_unlock(&s->lock);
	pthread_join(s->thread, NULL);
	/* The writer leaves nothing queued: it commits or drops all before exiting. */
	assert(s->head == NULL && s->ops_head == NULL);
	sqlite3_finalize(s->insert);
	for (int i = 0; i < WS_COUNT; i++)
		sqlite3_finalize(s->ws[i]);
	rollup_writer_free(s->rollup);
	if (sqlite3_close(s->db) != SQLITE_OK)
		log_error("store: close failed", "error", sqlite3_errmsg(s->db), "path", s->path);
	pthread_cond_destroy(&s->wake);
	pthread_cond_destroy(&s->progress);
	pthread_mutex_destroy(&s->lock);
	free(s->path);
	free(s);
}

/* Copies r into a queue row for check and wakes the writer when a batch is
 * full. Never touches the disk; O(1) apart from the copies. */
void store_append(struct store *s, const char *check, const struct probe_result *r)
{
	struct row *w;

	if (s == NULL || check == NULL || r == NULL)
		return;
	w = xcalloc(1, sizeof(*w));

	w->check = xstrdup(check);
	w->ts_us = r->start_us;
	w->duration_us = r->duration_us;
	w->ok = r->ok;
	w->error = probe_error_name(r->error);
	w->message = xstrdup(r->message);
	w->dns_us = r->dns_us;
	w->connect_us = r->connect_us;
	w->tls_us = r->tls_us;
	w->ttfb_us = r->ttfb_us;
	w->status_code = r->status_code;
	w->bytes = r->bytes;
	w->cert_expiry = r->cert_expiry;
	w->attempts = r->attempts;
	util_strlcpy(w->run_id, r->run_id, sizeof(w->run_id));
	if (r->details != NULL)
		w->details = json_dumps(r->details, JSON_COMPACT);
	if (w->details != NULL) {   /* jansson's malloc; keep one allocator per field */
		char *d = xstrdup(w->details);

		free(w->details);
		w->details = d;
	}
	w->enqueued_us = util_mono_us();

	pthread_mutex_lock(&s->lock);
	if (s->n_queued >= QUEUE_MAX)
		drop_oldest(s, QUEUE_MAX - 1, "queue full while commits fail");
	w->seq = ++s->seq_last;
	if (s->tail != NULL)
		s->tail->next = w;
	else
		s->head = w;
	s->tail = w;
	s->n_queued++;
	/* The writer sleeps until the first row or a full batch. */
	if (s->n_queued == 1 || s->n_queued == BATCH_MAX)
		pthread_cond_signal(&s->wake);
	pthread_mutex_unlock(&s->lock);
}

/* Queues o (never dropped) and wakes the writer. */
static void op_enqueue(struct store *s, struct op *o)
{
	o->enqueued_us = util_mono_us();
	pthread_mutex_lock(&s->lock);
	o->seq = ++s->seq_last;
	if (s->ops_tail != NULL)
		s->ops_tail->next = o;
	else
		s->ops_head = o;
	s->ops_tail = o;
	pthread_cond_signal(&s->wake);
	pthread_mutex_unlock(&s->lock);
}

/* Queues an alert unit (moved out of tx) for the next transaction. */
void store_alert_commit(struct store *s, struct outbox_tx *tx, store_commit_fn *done, void *arg)
{
	struct op *o;

	if (s == NULL) {
		outbox_tx_clear(tx);
		if (done != NULL)
			done(-1, NULL, 0, arg);
		return;
	}
	o = xcalloc(1, sizeof(*o));
	o->type = OP_ALERT;
	outbox_tx_move(&o->tx, tx);
	o->done = done;
	o->arg = arg;
	op_enqueue(s, o);
}

/* Queues a progress update of one notification. */
void store_outbox_update(struct store *s, const struct store_outbox_update *u)
{
	struct op *o;

	if (s == NULL || u == NULL)
		return;
	o = xcalloc(1, sizeof(*o));
	o->type = OP_UPDATE;
	o->upd = *u;
	o->upd.last_error = xstrdup(u->last_error);
	op_enqueue(s, o);
}

/* Queues "dead -> pending" for notification id. */
void store_outbox_requeue(struct store *s, int64_t id, int64_t now_us, store_commit_fn *done,
                          void *arg)
{
	struct op *o;

	if (s == NULL) {
		if (done != NULL)
			done(-1, NULL, 0, arg);
		return;
	}
	o = xcalloc(1, sizeof(*o));
	o->type = OP_REQUEUE;
	o->upd.id = id;
	o->now_us = now_us;
	o->done = done;
	o->arg = arg;
	op_enqueue(s, o);
}

/* Waits until every row queued before the call is committed, or until a commit
 * attempt that started after the call failed (then the rows stay queued and
 * store_healthy() is false): bounded even when the disk is gone. */
void store_flush(struct store *s)
{
	uint64_t target, first_attempt;

	if (s == NULL)
		return;
	pthread_mutex_lock(&s->lock);
	target = s->seq_last;
	/* An attempt in flight now started before the call; the next one counts. */
	first_attempt = s->attempts + 1;
	s->flush_waiters++;
	s->flush_requests++;
	pthread_cond_signal(&s->wake);
	while (s->seq_done < target &&
	       !(s->failed_attempt >= first_attempt && s->failed_attempt != 0))
		pthread_cond_wait(&s->progress, &s->lock);
	s->flush_waiters--;
	pthread_mutex_unlock(&s->lock);
}

/* True unless the last commit attempt failed. */
bool store_healthy(const struct store *s)
{
	struct store *m = (struct store *)s;    /* the lock is not part of the value */
	bool ok;

	if (s == NULL)
		return false;
	pthread_mutex_lock(&m->lock);
	ok = m->healthy;
	pthread_mutex_unlock(&m->lock);
	return ok;
}

/* Copies the last commit error ("" when healthy) into buf. */
void store_last_error(const struct store *s, char *buf, size_t len)
{
	struct store *m = (struct store *)s;

	if (s == NULL) {
		util_strlcpy(buf, "no database", len);
		return;
	}
	pthread_mutex_lock(&m->lock);
	util_strlcpy(buf, m->last_error, len);
	pthread_mutex_unlock(&m->lock);
}

/* --- readers ----------------------------------------------------------------- */

/* A read-only connection to the database at path (which must exist: a reader
 * never creates it). Use from one thread at a time. NULL with err on failure. */
struct store_reader *store_reader_open(const char *path, char *err, size_t errlen)
{
	struct store_reader *r;
	sqlite3 *db = NULL;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "cannot open database %s for reading: %s", path,
		         db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db, READER_BUSY_MS);
	r = xcalloc(1, sizeof(*r));
	r->db = db;
	return r;
}

/* Finalizes the reader's statements and closes its connection. NULL is ignored. */
void store_reader_close(struct store_reader *r)
{
	if (r == NULL)
		return;
	sqlite3_finalize(r->results);
	sqlite3_finalize(r->uptime);
	sqlite3_finalize(r->count);
	sqlite3_finalize(r->latency);
	sqlite3_close(r->db);
	free(r);
}

/* Prepares *st from sql on first use (the table may not exist when the reader
 * is opened) and resets it for reuse. Returns 0, or -1 after logging. */
static int reader_stmt(struct store_reader *r, sqlite3_stmt **st, const char *sql)
{
	if (*st == NULL &&
	    sqlite3_prepare_v3(r->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) != SQLITE_OK) {
		log_error("store: prepare failed", "error", sqlite3_errmsg(r->db));
		*st = NULL;
		return -1;
	}
	sqlite3_reset(*st);
	sqlite3_clear_bindings(*st);
	return 0;
}

static void set_time(json_t *o, const char *key, int64_t wall_us)
{
	char buf[40];

	util_format_time(wall_us, buf, sizeof(buf));
	json_object_set_new(o, key, json_string(buf));
}

/* A JSON string of s even when s is not valid UTF-8 (a message may hold a
 * truncated multi-byte character or raw bytes from a banner): such bytes
 * become '?'. jansson refuses invalid UTF-8, and a missing field would be
 * worse than a replaced byte. */
static json_t *text_json(const char *s)
{
	json_t *j = json_string(s);

	if (j == NULL) {
		char *copy = xstrdup(s);

		for (char *p = copy; *p != '\0'; p++)
			if ((unsigned char)*p >= 0x80)
				*p = '?';
		j = json_string(copy);
		free(copy);
	}
	return j;
}

/* Column i as milliseconds into phases under key, when not NULL. */
static void set_phase(json_t *phases, const char *key, sqlite3_stmt *st, int i)
{
	if (sqlite3_column_type(st, i) != SQLITE_NULL)
		json_object_set_new(phases, key, json_real(sqlite3_column_int64(st, i) / 1000.0));
}

static json_t *column_int_or_null(sqlite3_stmt *st, int i)
{
	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return json_null();
	return json_integer(sqlite3_column_int64(st, i));
}

/* Text column i, never NULL. */
static const char *column_text(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t ? (const char *)t : "";
}

/* One result row (columns of results_sql) as JSON, shaped like
 * probe_result_to_json() without assertions. */
static json_t *row_json(sqlite3_stmt *st)
{
	json_t *o = json_object();
	json_t *phases = json_object();

	json_object_set_new(o, "run_id", text_json(column_text(st, 14)));
	set_time(o, "ts", sqlite3_column_int64(st, 0));
	json_object_set_new(o, "duration_ms", json_real(sqlite3_column_int64(st, 1) / 1000.0));
	json_object_set_new(o, "ok", json_boolean(sqlite3_column_int(st, 2)));
	json_object_set_new(o, "error", text_json(column_text(st, 3)));
	json_object_set_new(o, "message", text_json(column_text(st, 4)));
	set_phase(phases, "dns", st, 5);
	set_phase(phases, "connect", st, 6);
	set_phase(phases, "tls", st, 7);
	set_phase(phases, "ttfb", st, 8);
	json_object_set_new(o, "phases_ms", phases);
	json_object_set_new(o, "status_code", column_int_or_null(st, 9));
	json_object_set_new(o, "bytes", column_int_or_null(st, 10));
	if (sqlite3_column_type(st, 11) == SQLITE_NULL)
		json_object_set_new(o, "cert_expiry", json_null());
	else
		set_time(o, "cert_expiry", sqlite3_column_int64(st, 11) * 1000000);
	json_object_set_new(o, "attempts", json_integer(sqlite3_column_int(st, 12)));
	if (sqlite3_column_type(st, 13) != SQLITE_NULL) {
		json_t *d = json_loads(column_text(st, 13), 0, NULL);

		/* A row written by a broken build must not break the API. */
		if (json_is_object(d))
			json_object_set_new(o, "details", d);
		else
			json_decref(d);
	}
	if (json_object_get(o, "details") == NULL)
		json_object_set_new(o, "details", json_object());
	return o;
}

/* Raw results of check with since_us <= ts < until_us (0 = unbounded), newest
 * first, at most limit rows (limit <= 0: none). New JSON array, NULL on a
 * database error (logged). */
json_t *store_results(struct store_reader *r, const char *check,
                      int64_t since_us, int64_t until_us, int limit)
{
	static const char sql[] =
		"SELECT ts_us, duration_us, ok, error, message, dns_us, connect_us, tls_us,"
		" ttfb_us, status_code, bytes, cert_expiry, attempts, details, run_id"
		" FROM results WHERE check_name = ?1 AND ts_us >= ?2 AND ts_us < ?3"
		" ORDER BY ts_us DESC, id DESC LIMIT ?4";
	json_t *arr = NULL;
	int rc;

	if (reader_stmt(r, &r->results, sql) != 0)
		return NULL;
	sqlite3_bind_text(r->results, 1, check, -1, SQLITE_STATIC);
	sqlite3_bind_int64(r->results, 2, since_us != 0 ? since_us : INT64_MIN);
	sqlite3_bind_int64(r->results, 3, until_us != 0 ? until_us : INT64_MAX);
	sqlite3_bind_int(r->results, 4, limit > 0 ? limit : 0);
	arr = json_array();
	while ((rc = sqlite3_step(r->results)) == SQLITE_ROW)
		json_array_append_new(arr, row_json(r->results));
	if (rc != SQLITE_DONE) {
		log_error("store: reading results failed", "check", check, "error", sqlite3_errmsg(r->db));
		json_decref(arr);
		arr = NULL;
	}
	sqlite3_reset(r->results);
	return arr;
}

/* Percentage of successful runs of check since since_us, from the rollups
 * (rollup_read_window: exact while raw results of the start edge are kept);
 * -1 when there is no result in the window or on a database error. */
double store_uptime(struct store_reader *r, const char *check, int64_t since_us)
{
	struct rollup_agg a;

	if (rollup_read_window(r->db, check, since_us, util_wall_us(), &a) != 0)
		return -1;
	return rollup_uptime(&a);
}

/* p50 and p95 of the durations of every run of check since since_us, in
 * milliseconds, from the rollups' histogram (within one bucket; exact when
 * every run took the same time). Returns 0, or -1 when there is no result
 * (or on a database error) leaving the outputs untouched. */
int store_latency(struct store_reader *r, const char *check, int64_t since_us,
                  double *p50_ms, double *p95_ms)
{
	struct rollup_agg a;

	if (rollup_read_window(r->db, check, since_us, util_wall_us(), &a) != 0 || a.count == 0)
		return -1;
	*p50_ms = rollup_percentile(&a, 0.50);
	*p95_ms = rollup_percentile(&a, 0.95);
	return 0;
}

/* --- alerts and the outbox (readers) ------------------------------------------ */

#define OUTBOX_COLUMNS \
	"id, key, notifier, event, state, attempts, created_us, next_attempt_us," \
	" last_error, delivered_us, seq, rule, check_name, alert_id, kind"

/* Fills *out from a row of OUTBOX_COLUMNS. Returns 0, or -1 when the stored
 * event cannot be parsed (out stays zeroed). */
static int outbox_row_from(sqlite3_stmt *st, struct outbox_row *out)
{
	json_t *j = json_loads(column_text(st, 3), 0, NULL);
	struct outbox_row r;
	int state;

	memset(&r, 0, sizeof(r));
	memset(out, 0, sizeof(*out));
	if (alert_event_from_json(j, &r.event) != 0) {
		json_decref(j);
		return -1;
	}
	json_decref(j);
	r.id = sqlite3_column_int64(st, 0);
	r.key = xstrdup(column_text(st, 1));
	r.notifier = xstrdup(column_text(st, 2));
	state = outbox_state_from_name(column_text(st, 4));
	r.state = state < 0 ? OUTBOX_PENDING : (enum outbox_state)state;
	r.attempts = sqlite3_column_int(st, 5);
	r.created_us = sqlite3_column_int64(st, 6);
	r.next_attempt_us = sqlite3_column_int64(st, 7);
	if (sqlite3_column_type(st, 8) != SQLITE_NULL)
		r.last_error = xstrdup(column_text(st, 8));
	r.delivered_us = sqlite3_column_int64(st, 9);
	r.seq = sqlite3_column_int64(st, 10);
	*out = r;
	return 0;
}

int store_outbox_pending(struct store_reader *r, struct outbox_row **rows, size_t *n)
{
	static const char sql[] =
		"SELECT " OUTBOX_COLUMNS " FROM notifications WHERE state = 'pending' ORDER BY id";
	sqlite3_stmt *st = NULL;
	struct outbox_row *v = NULL;
	size_t cnt = 0, cap = 0;
	int rc;

	*rows = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(r->db, sql, -1, &st, NULL) != SQLITE_OK) {
		log_error("store: reading the outbox failed", "error", sqlite3_errmsg(r->db));
		return -1;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (cnt == cap) {
			cap = cap ? cap * 2 : 16;
			v = xrealloc(v, cap * sizeof(*v));
		}
		if (outbox_row_from(st, &v[cnt]) != 0) {
			char id[24];

			snprintf(id, sizeof(id), "%lld", (long long)sqlite3_column_int64(st, 0));
			log_error("store: notification with an unreadable event skipped",
			          "notification_id", id);
			continue;
		}
		cnt++;
	}
	if (rc != SQLITE_DONE) {
		log_error("store: reading the outbox failed", "error", sqlite3_errmsg(r->db));
		for (size_t i = 0; i < cnt; i++)
			outbox_row_clear(&v[i]);
		free(v);
		sqlite3_finalize(st);
		return -1;
	}
	sqlite3_finalize(st);
	*rows = v;
	*n = cnt;
	return 0;
}

int store_outbox_get(struct store_reader *r, int64_t id, struct outbox_row *out)
{
	static const char sql[] = "SELECT " OUTBOX_COLUMNS " FROM notifications WHERE id = ?1";
	sqlite3_stmt *st = NULL;
	int rc, ret = -1;

	memset(out, 0, sizeof(*out));
	if (sqlite3_prepare_v2(r->db, sql, -1, &st, NULL) != SQLITE_OK) {
		log_error("store: reading a notification failed", "error", sqlite3_errmsg(r->db));
		return -1;
	}
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		ret = 1;
	else if (rc == SQLITE_ROW)
		ret = outbox_row_from(st, out) == 0 ? 0 : -1;
	else
		log_error("store: reading a notification failed", "error", sqlite3_errmsg(r->db));
	sqlite3_finalize(st);
	return ret;
}

/* Sets key to the time of column i, or null when 0 / NULL. */
static void set_time_or_null(json_t *o, const char *key, sqlite3_stmt *st, int i)
{
	int64_t v = sqlite3_column_int64(st, i);

	if (sqlite3_column_type(st, i) == SQLITE_NULL || v == 0)
		json_object_set_new(o, key, json_null());
	else
		set_time(o, key, v);
}

static json_t *text_or_null(sqlite3_stmt *st, int i)
{
	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return json_null();
	return text_json(column_text(st, i));
}

json_t *store_notifications(struct store_reader *r, const char *state, int limit)
{
	static const char sql[] =
		"SELECT id, key, notifier, rule, check_name, alert_id, kind, state, attempts,"
		" created_us, next_attempt_us, delivered_us, last_error FROM notifications"
		" WHERE (?1 IS NULL OR state = ?1) ORDER BY id DESC LIMIT ?2";
	sqlite3_stmt *st = NULL;
	json_t *arr;
	int rc;

	if (sqlite3_prepare_v2(r->db, sql, -1, &st, NULL) != SQLITE_OK) {
		log_error("store: reading notifications failed", "error", sqlite3_errmsg(r->db));
		return NULL;
	}
	if (state != NULL)
		sqlite3_bind_text(st, 1, state, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, limit > 0 ? limit : 0);
	arr = json_array();
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_t *o = json_object();
		bool pending = strcmp(column_text(st, 7), "pending") == 0;

		json_object_set_new(o, "id", json_integer(sqlite3_column_int64(st, 0)));
		json_object_set_new(o, "key", text_json(column_text(st, 1)));
		json_object_set_new(o, "notifier", text_json(column_text(st, 2)));
		json_object_set_new(o, "rule", text_json(column_text(st, 3)));
		json_object_set_new(o, "check", text_json(column_text(st, 4)));
		json_object_set_new(o, "alert_id", text_or_null(st, 5));
		json_object_set_new(o, "kind", text_json(column_text(st, 6)));
		json_object_set_new(o, "state", text_json(column_text(st, 7)));
		json_object_set_new(o, "attempts", json_integer(sqlite3_column_int(st, 8)));
		set_time_or_null(o, "created", st, 9);
		if (pending)
			set_time_or_null(o, "next_attempt", st, 10);
		else
			json_object_set_new(o, "next_attempt", json_null());
		set_time_or_null(o, "delivered", st, 11);
		json_object_set_new(o, "last_error", text_or_null(st, 12));
		json_array_append_new(arr, o);
	}
	if (rc != SQLITE_DONE) {
		log_error("store: reading notifications failed", "error", sqlite3_errmsg(r->db));
		json_decref(arr);
		arr = NULL;
	}
	sqlite3_finalize(st);
	return arr;
}

json_t *store_notification_counts(struct store_reader *r)
{
	static const char sql[] =
		"SELECT notifier, state, count(*) FROM notifications GROUP BY notifier, state";
	sqlite3_stmt *st = NULL;
	json_t *o;
	int rc;

	if (sqlite3_prepare_v2(r->db, sql, -1, &st, NULL) != SQLITE_OK)
		return NULL;
	o = json_object();
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *n = column_text(st, 0);
		json_t *per = json_object_get(o, n);

		if (per == NULL) {
			per = json_pack("{s:i, s:i, s:i}", "pending", 0, "delivered", 0, "dead", 0);
			json_object_set_new(o, n, per);
		}
		json_object_set_new(per, column_text(st, 1), json_integer(sqlite3_column_int64(st, 2)));
	}
	if (rc != SQLITE_DONE) {
		json_decref(o);
		o = NULL;
	}
	sqlite3_finalize(st);
	return o;
}

static int state_from_name(const char *s)
{
	if (strcmp(s, "pending") == 0)
		return ALERT_PENDING;
	if (strcmp(s, "firing") == 0)
		return ALERT_FIRING;
	return ALERT_OK;
}

int store_alert_states(struct store_reader *r, struct alert_state_row **rows, size_t *n)
{
	static const char sql[] =
		"SELECT rule, check_name, state, since_us, fired_us, last_sent_us, alert_id, value"
		" FROM alert_state ORDER BY rule, check_name";
	sqlite3_stmt *st = NULL;
	struct alert_state_row *v = NULL;
	size_t cnt = 0, cap = 0;
	int rc;

	*rows = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(r->db, sql, -1, &st, NULL) != SQLITE_OK) {
		log_error("store: reading alert state failed", "error", sqlite3_errmsg(r->db));
		return -1;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct alert_state_row *a;

		if (cnt == cap) {
			cap = cap ? cap * 2 : 16;
			v = xrealloc(v, cap * sizeof(*v));
		}
		a = &v[cnt++];
		memset(a, 0, sizeof(*a));
		a->rule = xstrdup(column_text(st, 0));
		a->check = xstrdup(column_text(st, 1));
		a->state = (enum alert_state)state_from_name(column_text(st, 2));
		a->since_us = sqlite3_column_int64(st, 3);
		a->fired_us = sqlite3_column_int64(st, 4);
		a->last_sent_us = sqlite3_column_int64(st, 5);
		if (sqlite3_column_type(st, 6) != SQLITE_NULL)
			a->alert_id = xstrdup(column_text(st, 6));
		if (sqlite3_column_type(st, 7) != SQLITE_NULL)
			a->value = xstrdup(column_text(st, 7));
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		log_error("store: reading alert state failed", "error", sqlite3_errmsg(r->db));
		for (size_t i = 0; i < cnt; i++)
			alert_state_row_clear(&v[i]);
		free(v);
		return -1;
	}
	*rows = v;
	*n = cnt;
	return 0;
}

json_t *store_alert_history(struct store_reader *r, const char *check, int limit)
{
	static const char sql[] =
		"SELECT rule, check_name, alert_id, from_state, to_state, ts_us, value"
		" FROM alert_history WHERE (?1 IS NULL OR check_name = ?1)"
		" ORDER BY ts_us DESC, id DESC LIMIT ?2";
	sqlite3_stmt *st = NULL;
	json_t *arr;
	int rc;

	if (sqlite3_prepare_v2(r->db, sql, -1, &st, NULL) != SQLITE_OK) {
		log_error("store: reading alert history failed", "error", sqlite3_errmsg(r->db));
		return NULL;
	}
	if (check != NULL)
		sqlite3_bind_text(st, 1, check, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, limit > 0 ? limit : 0);
	arr = json_array();
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_t *o = json_object();

		json_object_set_new(o, "rule", text_json(column_text(st, 0)));
		json_object_set_new(o, "check", text_json(column_text(st, 1)));
		json_object_set_new(o, "alert_id", text_or_null(st, 2));
		json_object_set_new(o, "from", text_json(column_text(st, 3)));
		json_object_set_new(o, "to", text_json(column_text(st, 4)));
		set_time(o, "ts", sqlite3_column_int64(st, 5));
		json_object_set_new(o, "value", text_or_null(st, 6));
		json_array_append_new(arr, o);
	}
	if (rc != SQLITE_DONE) {
		log_error("store: reading alert history failed", "error", sqlite3_errmsg(r->db));
		json_decref(arr);
		arr = NULL;
	}
	sqlite3_finalize(st);
	return arr;
}

/* --- status page reads --------------------------------------------------------- */

/* Adapts a window aggregate to store_count_fn. */
struct count_adapter {
	store_count_fn *fn;
	void *arg;
};

static void count_adapt(void *arg, const char *check, const struct rollup_agg *a)
{
	struct count_adapter *ca = arg;

	ca->fn(ca->arg, check, 0, a->count, a->count - a->failures);
}

/* Runs and successes per check since since_us, from the rollups (cached at
 * scale: see store.h). */
int store_uptime_by_check(struct store_reader *r, int64_t since_us, store_count_fn *fn,
                          void *arg)
{
	struct count_adapter ca = { fn, arg };

	return rollup_read_window_all(r->db, since_us, util_wall_us(), count_adapt, &ca);
}

/* Runs and successes per (check, UTC day) from since_us's day on. */
int store_uptime_by_day(struct store_reader *r, const char *check, int64_t since_us,
                        store_count_fn *fn, void *arg)
{
	return rollup_read_days(r->db, check, since_us, util_wall_us(), fn, arg);
}

/* Hands the retention to the writer (read by it at its next prune step). */
void store_set_retention(struct store *s, uint64_t raw_ms, uint64_t rollups_ms)
{
	if (s != NULL)
		rollup_writer_set_retention(s->rollup, raw_ms, rollups_ms);
}

struct summary_adapter {
	store_summary_fn *fn;
	void *arg;
};

static void summary_adapt(void *arg, const char *check, const struct rollup_agg *a)
{
	struct summary_adapter *sa = arg;
	struct store_summary sm = {
		.check = check,
		.runs = a->count,
		.ok = a->count - a->failures,
		.uptime_pct = rollup_uptime(a),
		.p50_ms = rollup_percentile(a, 0.50),
		.p95_ms = rollup_percentile(a, 0.95),
		.avg_ms = a->count > 0 ? (double)a->latency_sum_us / 1000.0 / (double)a->count : -1,
	};

	sa->fn(sa->arg, &sm);
}

/* Every check's runs, uptime and latency since since_us (cached at scale). */
int store_summary_all(struct store_reader *r, int64_t since_us, store_summary_fn *fn, void *arg)
{
	struct summary_adapter sa = { fn, arg };

	return rollup_read_window_all(r->db, since_us, util_wall_us(), summary_adapt, &sa);
}

/* check's latency points over [since_us, until_us), from minute or hour rollups. */
int store_latency_series(struct store_reader *r, const char *check, int64_t since_us,
                         int64_t until_us, int64_t step_s, store_series_fn *fn, void *arg)
{
	return rollup_read_series(r->db, check, since_us, until_us, step_s, fn, arg);
}

/* Start, duration and outcome of check's results in [since_us, until_us). */
int store_durations(struct store_reader *r, const char *check, int64_t since_us,
                    int64_t until_us, store_sample_fn *fn, void *arg)
{
	static const char sql[] =
		"SELECT ts_us, duration_us, ok FROM results"
		" WHERE check_name = ?1 AND ts_us >= ?2 AND ts_us < ?3 ORDER BY ts_us";
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(r->db, sql, -1, &st, NULL) != SQLITE_OK) {
		log_error("store: reading durations failed", "error", sqlite3_errmsg(r->db));
		return -1;
	}
	sqlite3_bind_text(st, 1, check, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, since_us);
	sqlite3_bind_int64(st, 3, until_us);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		fn(arg, sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1),
		   sqlite3_column_int(st, 2) != 0);
	if (rc != SQLITE_DONE)
		log_error("store: reading durations failed", "check", check,
		          "error", sqlite3_errmsg(r->db));
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* The newest failed results of check since since_us (row_json() shape). */
json_t *store_failures(struct store_reader *r, const char *check, int64_t since_us, int limit)
{
	static const char sql[] =
		"SELECT ts_us, duration_us, ok, error, message, dns_us, connect_us, tls_us,"
		" ttfb_us, status_code, bytes, cert_expiry, attempts, details, run_id"
		" FROM results WHERE check_name = ?1 AND ts_us >= ?2 AND ok = 0"
		" ORDER BY ts_us DESC, id DESC LIMIT ?3";
	sqlite3_stmt *st = NULL;
	json_t *arr;
	int rc;

	if (sqlite3_prepare_v2(r->db, sql, -1, &st, NULL) != SQLITE_OK) {
		log_error("store: reading failures failed", "error", sqlite3_errmsg(r->db));
		return NULL;
	}
	sqlite3_bind_text(st, 1, check, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, since_us);
	sqlite3_bind_int(st, 3, limit > 0 ? limit : 0);
	arr = json_array();
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		json_array_append_new(arr, row_json(st));
	if (rc != SQLITE_DONE) {
		log_error("store: reading failures failed", "check", check,
		          "error", sqlite3_errmsg(r->db));
		json_decref(arr);
		arr = NULL;
	}
	sqlite3_finalize(st);
	return arr;
}

/* store_sqlite.c — the SQLite implementation of the store, writer side:
 * opening (file, parent directory, WAL, numbered migrations), and writing one
 * batch of results and alert/outbox operations in one IMMEDIATE transaction
 * with the rollups of those results. The queue and the writer thread that
 * calls it are shared (store.c); the reads are in store_sqlite_read.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "core/log.h"
#include "core/util.h"
#include "store/rollup_sqlite.h"
#include "store/store_sqlite_incident.h"
#include "store/store_sqlite_read.h"

#define WRITER_BUSY_MS   5000           /* only checkpoints and outside tools contend */

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
	/* Incidents and their status updates (store_sqlite_incident.c). */
	{ 4, incident_schema_sql },
	/* The location (agent.location) of the agent that ran each result:
	 * "" for results written before it was recorded or without a location. */
	{ 5, "ALTER TABLE results ADD COLUMN location TEXT NOT NULL DEFAULT ''" },
};
#define SCHEMA_VERSION (migrations[sizeof(migrations) / sizeof(migrations[0]) - 1].version)

static const char insert_sql[] =
	"INSERT INTO results (check_name, ts_us, duration_us, ok, error, message,"
	" dns_us, connect_us, tls_us, ttfb_us, status_code, bytes, cert_expiry,"
	" attempts, run_id, details, location)"
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)";

/* Writer-only prepared statements for the alert tables. */
enum {
	WS_STATE_UPSERT, WS_STATE_DELETE, WS_NOTIF_INSERT, WS_HISTORY_INSERT, WS_NOTIF_UPDATE,
	WS_NOTIF_REQUEUE, WS_COUNT
};

/* The writer connection. */
struct sqlite_conn {
	struct store_conn base;
	char *path;
	sqlite3 *db;
	sqlite3_stmt *insert;
	sqlite3_stmt *ws[WS_COUNT];
	struct rollup_writer *rollup;       /* rollups and retention */
	struct incident_stmts *incidents;
	sqlite3_stmt *begin, *commit;       /* kept: not parsed again every batch */
};

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

static void bind_opt_int64(sqlite3_stmt *st, int i, int64_t v, int64_t none)
{
	if (v == none)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_int64(st, i, v);
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
static sqlite3_stmt *wstmt(struct sqlite_conn *s, int i, char *err, size_t errlen)
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
static int step_done(struct sqlite_conn *s, sqlite3_stmt *st, const char *what, char *err, size_t errlen)
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
static int apply_alert(struct sqlite_conn *s, struct store_op *o, char *err, size_t errlen)
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
static int apply_op(struct sqlite_conn *s, struct store_op *o, char *err, size_t errlen)
{
	sqlite3_stmt *st;

	switch (o->type) {
	case STORE_OP_ALERT:
		return apply_alert(s, o, err, errlen);
	case STORE_OP_UPDATE:
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
	case STORE_OP_REQUEUE:
		st = wstmt(s, WS_NOTIF_REQUEUE, err, errlen);
		if (st == NULL)
			return -1;
		sqlite3_bind_int64(st, 1, o->upd.id);
		sqlite3_bind_int64(st, 2, o->now_us);
		if (step_done(s, st, "notification requeue", err, errlen) != 0)
			return -1;
		store_op_set_one_id(o, sqlite3_changes(s->db) == 1);
		return 0;
	case STORE_OP_INCIDENT_UPDATE:
		return sqlite_incident_note(s->db, o, err, errlen);
	case STORE_OP_FLEET:
	case STORE_OP_FLEET_SWEEP:
	case STORE_OP_LEASES:
		return 0;       /* no fleet on SQLite: never queued (store_is_fleet) */
	}
	return 0;
}

/* Runs sql (no rows) through *st, prepared on first use and kept. Returns
 * 0, or -1 with err "sql: sqlite message". */
static int run_kept(struct sqlite_conn *s, sqlite3_stmt **st, const char *sql, char *err,
                    size_t errlen)
{
	int rc;

	if (*st == NULL &&
	    sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", sql, sqlite3_errmsg(s->db));
		*st = NULL;
		return -1;
	}
	rc = sqlite3_step(*st);
	sqlite3_reset(*st);
	if (rc != SQLITE_DONE) {
		snprintf(err, errlen, "%s: %s", sql, sqlite3_errmsg(s->db));
		return -1;
	}
	return 0;
}

/* Inserts the n rows starting at batch and applies the ops list in one
 * transaction. Writer thread only, without the lock. Returns 0, or -1 with err
 * holding SQLite's message (the transaction rolled back: nothing of the batch
 * is in the database). */
static int sqlite_commit(struct store_conn *c, const struct store_row *batch, size_t n,
                         struct store_op *ops, char *err, size_t errlen)
{
	struct sqlite_conn *s = (struct sqlite_conn *)c;
	sqlite3_stmt *st = s->insert;
	const struct store_row *w = batch;

	if (run_kept(s, &s->begin, "BEGIN IMMEDIATE", err, errlen) != 0)
		return -1;
	rollup_writer_begin(s->rollup);
	for (struct store_op *o = ops; o != NULL; o = o->next)
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
		sqlite3_bind_text(st, 17, w->location ? w->location : "", -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE) {
			snprintf(err, errlen, "insert: %s", sqlite3_errmsg(s->db));
			goto fail;
		}
		rollup_writer_add(s->rollup, w->check, w->ts_us, w->duration_us, w->ok);
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	/* The incidents these rows open, extend or close, in the same transaction. */
	if (sqlite_incidents_apply(s->incidents, batch, n, err, errlen) != 0)
		goto fail;
	/* The minute rollups of these rows, in the same transaction. */
	if (rollup_writer_commit(s->rollup, s->db, util_wall_us(), err, errlen) != 0)
		goto fail;
	if (run_kept(s, &s->commit, "COMMIT", err, errlen) != 0)
		goto fail;
	return 0;
fail:
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

/* Opens or creates the database at path (and its parent directory), sets WAL,
 * applies migrations and prepares the INSERT. NULL with err on failure. */
static struct store_conn *sqlite_open(const char *path, char *err, size_t errlen)
{
	struct sqlite_conn *s;
	sqlite3 *db = NULL;
	sqlite3_stmt *insert = NULL;
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
	if (sqlite3_prepare_v3(db, insert_sql, -1, SQLITE_PREPARE_PERSISTENT, &insert, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "cannot open database %s: preparing insert: %s", path, sqlite3_errmsg(db));
		goto fail;
	}
	s = xcalloc(1, sizeof(*s));
	s->base.ops = &store_sqlite_ops;
	s->db = db;
	s->insert = insert;
	s->path = xstrdup(path);
	s->rollup = rollup_writer_new();
	s->incidents = sqlite_incident_stmts_new(db);
	return &s->base;
fail:
	sqlite3_finalize(insert);
	sqlite3_close(db);
	return NULL;
}

/* Retention steps between batches (rollup_sqlite.c). */
static void sqlite_maintain(struct store_conn *c, int64_t now_us)
{
	struct sqlite_conn *s = (struct sqlite_conn *)c;

	rollup_writer_maintain(s->rollup, s->db, now_us);
}

static void sqlite_set_retention(struct store_conn *c, uint64_t raw_ms, uint64_t rollups_ms)
{
	rollup_writer_set_retention(((struct sqlite_conn *)c)->rollup, raw_ms, rollups_ms);
}

/* Finalizes every statement and closes the connection. */
static void sqlite_close(struct store_conn *c)
{
	struct sqlite_conn *s = (struct sqlite_conn *)c;

	sqlite3_finalize(s->insert);
	sqlite3_finalize(s->begin);
	sqlite3_finalize(s->commit);
	sqlite_incident_stmts_free(s->incidents);
	for (int i = 0; i < WS_COUNT; i++)
		sqlite3_finalize(s->ws[i]);
	rollup_writer_free(s->rollup);
	if (sqlite3_close(s->db) != SQLITE_OK)
		log_error("store: close failed", "error", sqlite3_errmsg(s->db), "path", s->path);
	free(s->path);
	free(s);
}

/* A read connection with its ops set: the read half does not know the table. */
static struct store_reader *reader_open(const char *path, char *err, size_t errlen)
{
	struct store_reader *r = sqlite_reader_open(path, err, errlen);

	if (r != NULL)
		r->ops = &store_sqlite_ops;
	return r;
}

const struct store_ops store_sqlite_ops = {
	.name = "sqlite",
	.open = sqlite_open,
	.commit = sqlite_commit,
	.maintain = sqlite_maintain,
	.set_retention = sqlite_set_retention,
	.close = sqlite_close,
	.reader_open = reader_open,
	.reader_close = sqlite_reader_close,
	.rollup_source = sqlite_rollup_source,
	.results = sqlite_results,
	.durations = sqlite_durations,
	.latest = sqlite_latest,
	.runs = sqlite_runs,
	.outbox_pending = sqlite_outbox_pending,
	.outbox_get = sqlite_outbox_get,
	.notifications = sqlite_notifications,
	.notification_counts = sqlite_notification_counts,
	.alert_states = sqlite_alert_states,
	.alert_history = sqlite_alert_history,
	.incidents = sqlite_incidents,
};

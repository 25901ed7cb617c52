/* store_sqlite_read.c — the SQLite implementation of the store, read side:
 * read-only connections for the HTTP threads (and the agent's start), the
 * queries behind store.h's reads, and the rollup tables as a source for the
 * shared window reads (rollup_read.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "core/json_text.h"
#include "core/log.h"
#include "core/util.h"
#include "store/rollup_sqlite.h"
#include "store/store_sqlite_read.h"

#define READER_BUSY_MS   2000

struct sqlite_reader {
	struct store_reader base;
	sqlite3 *db;
	sqlite3_stmt *results, *results_oldest;
};

/* --- connections ------------------------------------------------------------ */

/* A read-only connection to the database at path (which must exist: a reader
 * never creates it). Use from one thread at a time. NULL with err on failure.
 * Its ops are set by the caller (store_sqlite.c), which holds the table. */
struct store_reader *sqlite_reader_open(const char *path, char *err, size_t errlen)
{
	struct sqlite_reader *r;
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
	return &r->base;
}

/* Finalizes the reader's statements and closes its connection. */
void sqlite_reader_close(struct store_reader *base)
{
	struct sqlite_reader *r = (struct sqlite_reader *)base;

	sqlite3_finalize(r->results);
	sqlite3_finalize(r->results_oldest);
	sqlite3_close(r->db);
	free(r);
}

static sqlite3 *reader_db(struct store_reader *base)
{
	return ((struct sqlite_reader *)base)->db;
}

sqlite3 *sqlite_reader_db(struct store_reader *base)
{
	return reader_db(base);
}

void sqlite_rollup_source(struct store_reader *r, struct rollup_source *out)
{
	rollup_sqlite_source(reader_db(r), out);
}

/* Prepares *st from sql on first use (the table may not exist when the reader
 * is opened) and resets it for reuse. Returns 0, or -1 after logging. */
static int reader_stmt(sqlite3 *db, sqlite3_stmt **st, const char *sql)
{
	if (*st == NULL &&
	    sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) != SQLITE_OK) {
		log_error("store: prepare failed", "error", sqlite3_errmsg(db));
		*st = NULL;
		return -1;
	}
	sqlite3_reset(*st);
	sqlite3_clear_bindings(*st);
	return 0;
}

/* Text column i, never NULL. */
static const char *column_text(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t ? (const char *)t : "";
}

/* Integer column i, or none when NULL. */
static int64_t column_int_or(sqlite3_stmt *st, int i, int64_t none)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? none : sqlite3_column_int64(st, i);
}

/* --- results ------------------------------------------------------------------ */

/* The newest ?5 results of a check in a time range (failed ones only when ?4
 * is 1), newest first; the second form hands the same rows oldest first. */
#define RESULTS_SELECT \
	"SELECT ts_us, duration_us, ok, error, message, dns_us, connect_us, tls_us," \
	" ttfb_us, status_code, bytes, cert_expiry, attempts, details, run_id, id, location" \
	" FROM results WHERE check_name = ?1 AND ts_us >= ?2 AND ts_us < ?3" \
	" AND (?4 = 0 OR ok = 0) ORDER BY ts_us DESC, id DESC LIMIT ?5"

/* The row of st whose columns from o on are those of RESULTS_SELECT. */
static struct store_raw_result raw_result(sqlite3_stmt *st, int o)
{
	return (struct store_raw_result){
		.ts_us = sqlite3_column_int64(st, o + 0),
		.duration_us = sqlite3_column_int64(st, o + 1),
		.ok = sqlite3_column_int(st, o + 2) != 0,
		.error = column_text(st, o + 3),
		.message = column_text(st, o + 4),
		.dns_us = column_int_or(st, o + 5, -1),
		.connect_us = column_int_or(st, o + 6, -1),
		.tls_us = column_int_or(st, o + 7, -1),
		.ttfb_us = column_int_or(st, o + 8, -1),
		.status_code = (int)column_int_or(st, o + 9, -1),
		.bytes = column_int_or(st, o + 10, -1),
		.cert_expiry = column_int_or(st, o + 11, 0),
		.attempts = sqlite3_column_int(st, o + 12),
		.details = sqlite3_column_type(st, o + 13) == SQLITE_NULL ? NULL : column_text(st, o + 13),
		.run_id = column_text(st, o + 14),
		.location = column_text(st, o + 16),
	};
}

int sqlite_results(struct store_reader *base, const struct store_query *q, store_raw_fn *fn,
                   void *arg)
{
	static const char newest_sql[] = RESULTS_SELECT;
	static const char oldest_sql[] = "SELECT * FROM (" RESULTS_SELECT ") ORDER BY ts_us, id";
	struct sqlite_reader *r = (struct sqlite_reader *)base;
	sqlite3_stmt **st = q->oldest_first ? &r->results_oldest : &r->results;
	int rc;

	if (reader_stmt(r->db, st, q->oldest_first ? oldest_sql : newest_sql) != 0)
		return -1;
	sqlite3_bind_text(*st, 1, q->check, -1, SQLITE_STATIC);
	sqlite3_bind_int64(*st, 2, q->since_us != 0 ? q->since_us : INT64_MIN);
	sqlite3_bind_int64(*st, 3, q->until_us != 0 ? q->until_us : INT64_MAX);
	sqlite3_bind_int(*st, 4, q->failed_only ? 1 : 0);
	sqlite3_bind_int(*st, 5, q->limit > 0 ? q->limit : 0);
	while ((rc = sqlite3_step(*st)) == SQLITE_ROW) {
		struct store_raw_result row = raw_result(*st, 0);

		fn(arg, &row);
	}
	if (rc != SQLITE_DONE)
		log_error("store: reading results failed", "check", q->check,
		          "error", sqlite3_errmsg(r->db));
	sqlite3_reset(*st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* --- the start-up reads ----------------------------------------------------------- */

/* Runs a one-off statement of sql with ?1 names_json (and ?2 since_us unless
 * 0), handing each row to row_fn. Returns 0, or -1 after logging. */
static int each_row(sqlite3 *db, const char *sql, const char *names_json, int64_t since_us,
                    const char *what, void (*row_fn)(sqlite3_stmt *st, void *arg), void *arg)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		log_error("store: prepare failed", "error", sqlite3_errmsg(db));
		return -1;
	}
	sqlite3_bind_text(st, 1, names_json, -1, SQLITE_STATIC);
	if (since_us != 0)
		sqlite3_bind_int64(st, 2, since_us);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		row_fn(st, arg);
	if (rc != SQLITE_DONE) {
		char msg[64];

		snprintf(msg, sizeof(msg), "store: reading %s failed", what);
		log_error(msg, "error", sqlite3_errmsg(db));
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

struct latest_read {
	store_raw_latest_fn *fn;
	void *arg;
};

static void latest_row(sqlite3_stmt *st, void *arg)
{
	struct latest_read *lr = arg;
	struct store_raw_result row = raw_result(st, 1);

	lr->fn(lr->arg, column_text(st, 0), &row);
}

/* The newest row of each check, one index descent each (json_each: the
 * checks of ?1). */
int sqlite_latest(struct store_reader *base, const char *names_json, store_raw_latest_fn *fn,
                  void *arg)
{
	static const char sql[] =
		"SELECT c.value, r.ts_us, r.duration_us, r.ok, r.error, r.message, r.dns_us,"
		" r.connect_us, r.tls_us, r.ttfb_us, r.status_code, r.bytes, r.cert_expiry,"
		" r.attempts, r.details, r.run_id, r.id, r.location"
		" FROM json_each(?1) AS c JOIN results AS r ON r.id ="
		" (SELECT id FROM results WHERE check_name = c.value ORDER BY ts_us DESC, id DESC LIMIT 1)";
	struct latest_read lr = { fn, arg };

	return each_row(reader_db(base), sql, names_json, 0, "the checks' last results",
	                latest_row, &lr);
}

struct runs_read {
	store_raw_run_fn *fn;
	void *arg;
};

static void runs_row(sqlite3_stmt *st, void *arg)
{
	struct runs_read *rr = arg;
	struct store_raw_run run = { sqlite3_column_int64(st, 1), sqlite3_column_int64(st, 2),
	                             sqlite3_column_int(st, 3) != 0, column_text(st, 4) };

	rr->fn(rr->arg, column_text(st, 0), &run);
}

/* In the order of the (check_name, ts_us) index, which holds the rowid:
 * no sort of the millions of rows of an hour of a big config. */
int sqlite_runs(struct store_reader *base, const char *names_json, int64_t since_us,
                store_raw_run_fn *fn, void *arg)
{
	static const char sql[] =
		"SELECT check_name, ts_us, duration_us, ok, error FROM results"
		" WHERE check_name IN (SELECT value FROM json_each(?1)) AND ts_us >= ?2"
		" ORDER BY check_name, ts_us, id";
	struct runs_read rr = { fn, arg };

	return each_row(reader_db(base), sql, names_json, since_us != 0 ? since_us : INT64_MIN,
	                "the checks' recent results", runs_row, &rr);
}

/* --- alerts and the outbox (readers) ------------------------------------------ */

#define OUTBOX_COLUMNS \
	"id, key, notifier, event, state, attempts, created_us, next_attempt_us," \
	" last_error, delivered_us, seq, rule, check_name, alert_id, kind"

static const char *stmt_text(const void *row, int col)
{
	sqlite3_stmt *st = (sqlite3_stmt *)row;

	return sqlite3_column_type(st, col) == SQLITE_NULL ? NULL : column_text(st, col);
}

static int64_t stmt_int(const void *row, int col)
{
	return sqlite3_column_int64((sqlite3_stmt *)row, col);
}

/* Fills *out from a row of OUTBOX_COLUMNS (store_outbox_row_read). */
static int outbox_row_from(sqlite3_stmt *st, struct outbox_row *out)
{
	struct store_cols c = { stmt_text, stmt_int, st };

	return store_outbox_row_read(&c, out);
}

int sqlite_outbox_pending(struct store_reader *base, struct outbox_row **rows, size_t *n)
{
	struct sqlite_reader *r = (struct sqlite_reader *)base;
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

int sqlite_outbox_get(struct store_reader *base, int64_t id, struct outbox_row *out)
{
	struct sqlite_reader *r = (struct sqlite_reader *)base;
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
		store_set_time(o, key, v);
}

static json_t *text_or_null(sqlite3_stmt *st, int i)
{
	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return json_null();
	return json_text(column_text(st, i));
}

json_t *sqlite_notifications(struct store_reader *base, const char *state, int limit)
{
	struct sqlite_reader *r = (struct sqlite_reader *)base;
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
		json_object_set_new(o, "key", json_text(column_text(st, 1)));
		json_object_set_new(o, "notifier", json_text(column_text(st, 2)));
		json_object_set_new(o, "rule", json_text(column_text(st, 3)));
		json_object_set_new(o, "check", json_text(column_text(st, 4)));
		json_object_set_new(o, "alert_id", text_or_null(st, 5));
		json_object_set_new(o, "kind", json_text(column_text(st, 6)));
		json_object_set_new(o, "state", json_text(column_text(st, 7)));
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

json_t *sqlite_notification_counts(struct store_reader *base)
{
	struct sqlite_reader *r = (struct sqlite_reader *)base;
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

int sqlite_alert_states(struct store_reader *base, struct alert_state_row **rows, size_t *n)
{
	struct sqlite_reader *r = (struct sqlite_reader *)base;
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

json_t *sqlite_alert_history(struct store_reader *base, const char *check, int limit)
{
	struct sqlite_reader *r = (struct sqlite_reader *)base;
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

		json_object_set_new(o, "rule", json_text(column_text(st, 0)));
		json_object_set_new(o, "check", json_text(column_text(st, 1)));
		json_object_set_new(o, "alert_id", text_or_null(st, 2));
		json_object_set_new(o, "from", json_text(column_text(st, 3)));
		json_object_set_new(o, "to", json_text(column_text(st, 4)));
		store_set_time(o, "ts", sqlite3_column_int64(st, 5));
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


/* Start, duration and outcome of check's results in [since_us, until_us). */
int sqlite_durations(struct store_reader *base, const char *check, int64_t since_us,
                    int64_t until_us, store_sample_fn *fn, void *arg)
{
	struct sqlite_reader *r = (struct sqlite_reader *)base;
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

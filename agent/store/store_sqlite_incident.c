/* store_sqlite_incident.c — incidents in the SQLite store (SPEC §3): the
 * schema, their derivation from each committed batch of results (inside the
 * batch's transaction), the admin's status updates, and the read. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "core/log.h"
#include "core/util.h"
#include "store/store_sqlite_incident.h"
#include "store/store_sqlite_read.h"

/* One open incident per check at most (the partial unique index), so "the
 * check's open incident" is one index seek per result. */
const char incident_schema_sql[] =
	"CREATE TABLE IF NOT EXISTS incidents ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" check_name TEXT NOT NULL,"
	" started_us INTEGER NOT NULL,"         /* first failed run */
	" ended_us INTEGER,"                    /* first passing run after it; NULL: open */
	" last_failure_us INTEGER NOT NULL,"
	" failures INTEGER NOT NULL,"
	" cause_error TEXT NOT NULL,"           /* of the first failed run */
	" cause_message TEXT NOT NULL"
	");"
	"CREATE UNIQUE INDEX IF NOT EXISTS incidents_open ON incidents(check_name) WHERE ended_us IS NULL;"
	"CREATE INDEX IF NOT EXISTS incidents_check ON incidents(check_name, started_us);"
	"CREATE INDEX IF NOT EXISTS incidents_started ON incidents(started_us);"
	"CREATE TABLE IF NOT EXISTS incident_updates ("
	" id INTEGER PRIMARY KEY,"
	" incident_id INTEGER NOT NULL,"
	" ts_us INTEGER NOT NULL,"
	" status TEXT NOT NULL,"
	" message TEXT NOT NULL"
	");"
	"CREATE INDEX IF NOT EXISTS incident_updates_incident ON incident_updates(incident_id, ts_us);";

/* --- writing (the writer thread, inside the batch's transaction) ------------- */

enum { IS_FAIL, IS_OPEN, IS_CLOSE, IS_ANY_OPEN, IS_COUNT };

static const char *const incident_write_sql[IS_COUNT] = {
	[IS_FAIL] = "UPDATE incidents SET failures = failures + 1,"
	            " last_failure_us = max(last_failure_us, ?2)"
	            " WHERE check_name = ?1 AND ended_us IS NULL",
	[IS_OPEN] = "INSERT INTO incidents (check_name, started_us, ended_us, last_failure_us,"
	            " failures, cause_error, cause_message) VALUES (?1, ?2, NULL, ?2, 1, ?3, ?4)",
	[IS_CLOSE] = "UPDATE incidents SET ended_us = ?2"
	             " WHERE check_name = ?1 AND ended_us IS NULL AND started_us <= ?2",
	[IS_ANY_OPEN] = "SELECT 1 FROM incidents WHERE ended_us IS NULL LIMIT 1",
};

/* Runs st (bound) to completion. Returns 0, or -1 with err. */
static int step_done(sqlite3 *db, sqlite3_stmt *st, char *err, size_t errlen)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE) {
		snprintf(err, errlen, "incidents: %s", sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}

/* The writer's statements, each prepared when first used (a batch of
 * passing runs while no incident is open needs only IS_ANY_OPEN) and kept
 * for the next batches. */
struct incident_stmts {
	sqlite3 *db;
	sqlite3_stmt *st[IS_COUNT];
	bool any_open;              /* an incident may be open (before or in this batch) */
};

struct incident_stmts *sqlite_incident_stmts_new(sqlite3 *db)
{
	struct incident_stmts *is = xcalloc(1, sizeof(*is));

	is->db = db;
	return is;
}

void sqlite_incident_stmts_free(struct incident_stmts *is)
{
	if (is == NULL)
		return;
	for (int i = 0; i < IS_COUNT; i++)
		sqlite3_finalize(is->st[i]);
	free(is);
}

/* The statement i, prepared; NULL with err when SQLite refuses it. */
static sqlite3_stmt *stmt_get(struct incident_stmts *is, int i, char *err, size_t errlen)
{
	if (is->st[i] == NULL &&
	    sqlite3_prepare_v3(is->db, incident_write_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &is->st[i],
	                       NULL) != SQLITE_OK) {
		snprintf(err, errlen, "incidents: prepare: %s", sqlite3_errmsg(is->db));
		sqlite3_finalize(is->st[i]);
		is->st[i] = NULL;
	}
	return is->st[i];
}

/* Whether any incident is open now: one seek in the partial index. On an
 * error, assumes one is (the statements then run as before). */
static bool incidents_any_open(struct incident_stmts *is)
{
	char err[8];
	sqlite3_stmt *st = stmt_get(is, IS_ANY_OPEN, err, sizeof(err));
	bool open = true;

	if (st != NULL) {
		open = sqlite3_step(st) != SQLITE_DONE;
		sqlite3_reset(st);
	}
	return open;
}

/* One result row's effect on its check's incident. A passing run closes
 * nothing while no incident is open (the UPDATE would match no row), and a
 * failing one then opens one without first trying to count into it. */
static int apply_row(struct incident_stmts *is, const struct store_row *w, char *err,
                     size_t errlen)
{
	sqlite3_stmt *st;

	if (w->ok) {
		if (!is->any_open)
			return 0;
		if ((st = stmt_get(is, IS_CLOSE, err, errlen)) == NULL)
			return -1;
		sqlite3_bind_text(st, 1, w->check, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, w->ts_us);
		return step_done(is->db, st, err, errlen);
	}
	if (is->any_open) {
		if ((st = stmt_get(is, IS_FAIL, err, errlen)) == NULL)
			return -1;
		sqlite3_bind_text(st, 1, w->check, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, w->ts_us);
		if (step_done(is->db, st, err, errlen) != 0)
			return -1;
		/* Counted in an open incident. */
		if (sqlite3_changes(is->db) > 0)
			return 0;
	}
	/* A blocked run opens none. */
	if (w->blocked)
		return 0;
	if ((st = stmt_get(is, IS_OPEN, err, errlen)) == NULL)
		return -1;
	sqlite3_bind_text(st, 1, w->check, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, w->ts_us);
	sqlite3_bind_text(st, 3, w->error ? w->error : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, w->message ? w->message : "", -1, SQLITE_STATIC);
	if (step_done(is->db, st, err, errlen) != 0)
		return -1;
	is->any_open = true;
	return 0;
}

int sqlite_incidents_apply(struct incident_stmts *is, const struct store_row *rows, size_t n,
                           char *err, size_t errlen)
{
	const struct store_row *w = rows;
	int rc = 0;

	if (n == 0)
		return 0;
	is->any_open = incidents_any_open(is);
	for (size_t i = 0; i < n && rc == 0; i++, w = w->next) {
		/* The agent stopped mid-probe: nothing is known about the target. */
		if (w->error != NULL && strcmp(w->error, "aborted") == 0)
			continue;
		rc = apply_row(is, w, err, errlen);
	}
	return rc;
}

int sqlite_incident_note(sqlite3 *db, struct store_op *o, char *err, size_t errlen)
{
	static const char sql[] =
		"INSERT INTO incident_updates (incident_id, ts_us, status, message)"
		" SELECT id, ?2, ?3, ?4 FROM incidents WHERE id = ?1";
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "incident update: prepare: %s", sqlite3_errmsg(db));
		return -1;
	}
	sqlite3_bind_int64(st, 1, o->upd.id);
	sqlite3_bind_int64(st, 2, o->now_us);
	sqlite3_bind_text(st, 3, o->note_status ? o->note_status : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, o->note_message ? o->note_message : "", -1, SQLITE_STATIC);
	rc = step_done(db, st, err, errlen);
	sqlite3_finalize(st);
	if (rc != 0)
		return -1;
	store_op_set_one_id(o, sqlite3_changes(db) == 1);
	return 0;
}

/* --- reading ------------------------------------------------------------------ */

static char *column_dup(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return xstrdup(t != NULL ? (const char *)t : "");
}

/* Fills inc's status updates, oldest first. Returns 0 or -1. */
static int read_updates(sqlite3 *db, struct store_incident *inc)
{
	static const char sql[] = "SELECT ts_us, status, message FROM incident_updates"
	                          " WHERE incident_id = ?1 ORDER BY ts_us, id";
	sqlite3_stmt *st = NULL;
	size_t cap = 0;
	int rc;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, inc->id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (inc->n_updates == cap) {
			cap = cap ? cap * 2 : 4;
			inc->updates = xrealloc(inc->updates, cap * sizeof(*inc->updates));
		}
		inc->updates[inc->n_updates].ts_us = sqlite3_column_int64(st, 0);
		inc->updates[inc->n_updates].status = column_dup(st, 1);
		inc->updates[inc->n_updates].message = column_dup(st, 2);
		inc->n_updates++;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* Fills inc's alert ids: alerts of its check that fired while it lasted. */
static int read_alert_ids(sqlite3 *db, struct store_incident *inc)
{
	static const char sql[] =
		"SELECT alert_id FROM alert_history WHERE check_name = ?1 AND to_state = 'firing'"
		" AND alert_id IS NOT NULL AND ts_us >= ?2 AND (?3 = 0 OR ts_us <= ?3)"
		" GROUP BY alert_id ORDER BY min(ts_us)";
	sqlite3_stmt *st = NULL;
	size_t cap = 0;
	int rc;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, inc->check, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, inc->started_us);
	sqlite3_bind_int64(st, 3, inc->ended_us);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (inc->n_alert_ids == cap) {
			cap = cap ? cap * 2 : 4;
			inc->alert_ids = xrealloc(inc->alert_ids, cap * sizeof(*inc->alert_ids));
		}
		inc->alert_ids[inc->n_alert_ids++] = column_dup(st, 0);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* Binds q to the read statement. */
static void bind_query(sqlite3_stmt *st, const struct store_incident_query *q)
{
	sqlite3_bind_int64(st, 1, q->id);
	if (q->check != NULL)
		sqlite3_bind_text(st, 2, q->check, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, q->since_us);
	sqlite3_bind_int64(st, 4, q->until_us);
	sqlite3_bind_int(st, 5, q->open_only ? 1 : 0);
	sqlite3_bind_int(st, 6, q->closed_only ? 1 : 0);
	sqlite3_bind_int(st, 7, q->limit > 0 ? q->limit : 100);
}

int sqlite_incidents(struct store_reader *r, const struct store_incident_query *q,
                     struct store_incident **out, size_t *n)
{
	static const char sql[] =
		"SELECT id, check_name, started_us, ended_us, last_failure_us, failures,"
		" cause_error, cause_message FROM incidents"
		" WHERE (?1 = 0 OR id = ?1) AND (?2 IS NULL OR check_name = ?2)"
		" AND (?3 = 0 OR ended_us IS NULL OR ended_us >= ?3) AND (?4 = 0 OR started_us < ?4)"
		" AND (?5 = 0 OR ended_us IS NULL) AND (?6 = 0 OR ended_us IS NOT NULL)"
		" ORDER BY started_us DESC, id DESC LIMIT ?7";
	sqlite3 *db = sqlite_reader_db(r);
	sqlite3_stmt *st = NULL;
	struct store_incident *v = NULL;
	size_t cap = 0, k = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		log_error("store: reading incidents failed", "error", sqlite3_errmsg(db));
		return -1;
	}
	bind_query(st, q);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (k == cap) {
			cap = cap ? cap * 2 : 8;
			v = xrealloc(v, cap * sizeof(*v));
		}
		memset(&v[k], 0, sizeof(v[k]));
		v[k].id = sqlite3_column_int64(st, 0);
		v[k].check = column_dup(st, 1);
		v[k].started_us = sqlite3_column_int64(st, 2);
		v[k].ended_us = sqlite3_column_int64(st, 3);    /* NULL reads 0: open */
		v[k].last_failure_us = sqlite3_column_int64(st, 4);
		v[k].failures = sqlite3_column_int64(st, 5);
		v[k].cause_error = column_dup(st, 6);
		v[k].cause_message = column_dup(st, 7);
		k++;
	}
	sqlite3_finalize(st);
	for (size_t i = 0; i < k && rc == SQLITE_DONE; i++)
		if (read_updates(db, &v[i]) != 0 || read_alert_ids(db, &v[i]) != 0)
			rc = SQLITE_ERROR;
	if (rc != SQLITE_DONE) {
		log_error("store: reading incidents failed", "error", sqlite3_errmsg(db));
		store_incidents_free(v, k);
		return -1;
	}
	*out = v;
	*n = k;
	return 0;
}

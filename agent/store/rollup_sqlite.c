/* rollup_sqlite.c — the SQLite side of the rollups: the schema, the writer's
 * upserts and derivations inside the batch transaction, retention in small
 * steps, and the part reads behind the shared window reads (rollup_read.c). */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "store/rollup_sqlite.h"

#define US 1000000LL
#define MINUTE_S 60
#define HOUR_S 3600
#define DAY_S 86400
#define DERIVE_GRACE_S 120      /* a hour is derived this long after it closed */
#define PRUNE_ROWS 2000         /* rows deleted per prune transaction, about */
#define PRUNE_NAMES 256         /* checks visited per prune transaction */


#define AGG_COLS \
	"count, failures, latency_sum_us, latency_min_us, latency_max_us," \
	" h0, h1, h2, h3, h4, h5, h6, h7, h8, h9, h10, h11, h12, h13, h14, h15"
#define N_AGG_COLS (5 + ROLLUP_BUCKETS)

#define TABLE_DEF(name) \
	"CREATE TABLE " name " (" \
	" check_name TEXT NOT NULL, bucket_start_s INTEGER NOT NULL," \
	" count INTEGER NOT NULL, failures INTEGER NOT NULL," \
	" latency_sum_us INTEGER NOT NULL, latency_min_us INTEGER NOT NULL," \
	" latency_max_us INTEGER NOT NULL," \
	" h0 INTEGER NOT NULL DEFAULT 0, h1 INTEGER NOT NULL DEFAULT 0, h2 INTEGER NOT NULL DEFAULT 0," \
	" h3 INTEGER NOT NULL DEFAULT 0, h4 INTEGER NOT NULL DEFAULT 0, h5 INTEGER NOT NULL DEFAULT 0," \
	" h6 INTEGER NOT NULL DEFAULT 0, h7 INTEGER NOT NULL DEFAULT 0, h8 INTEGER NOT NULL DEFAULT 0," \
	" h9 INTEGER NOT NULL DEFAULT 0, h10 INTEGER NOT NULL DEFAULT 0, h11 INTEGER NOT NULL DEFAULT 0," \
	" h12 INTEGER NOT NULL DEFAULT 0, h13 INTEGER NOT NULL DEFAULT 0, h14 INTEGER NOT NULL DEFAULT 0," \
	" h15 INTEGER NOT NULL DEFAULT 0," \
	" PRIMARY KEY (check_name, bucket_start_s)) WITHOUT ROWID;"

/* The marks start at 0: the first batch derives every closed hour and day
 * of the backfilled minutes. The backfill's bucket bounds are those of
 * rollup_bounds_ms in microseconds. */
const char rollup_schema_sql[] =
	TABLE_DEF("rollup_minute")
	TABLE_DEF("rollup_hour")
	TABLE_DEF("rollup_day")
	"CREATE TABLE rollup_meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;"
	"INSERT INTO rollup_meta VALUES ('hour_done_s', 0), ('day_done_s', 0);"
	"INSERT INTO rollup_minute (check_name, bucket_start_s, " AGG_COLS ")"
	" SELECT check_name, ts_us / 60000000 * 60, count(*), sum(ok = 0), sum(duration_us),"
	" min(duration_us), max(duration_us),"
	" sum(duration_us < 1000), sum(duration_us >= 1000 AND duration_us < 2000),"
	" sum(duration_us >= 2000 AND duration_us < 5000), sum(duration_us >= 5000 AND duration_us < 10000),"
	" sum(duration_us >= 10000 AND duration_us < 20000), sum(duration_us >= 20000 AND duration_us < 50000),"
	" sum(duration_us >= 50000 AND duration_us < 100000), sum(duration_us >= 100000 AND duration_us < 200000),"
	" sum(duration_us >= 200000 AND duration_us < 500000),"
	" sum(duration_us >= 500000 AND duration_us < 1000000),"
	" sum(duration_us >= 1000000 AND duration_us < 2000000),"
	" sum(duration_us >= 2000000 AND duration_us < 5000000),"
	" sum(duration_us >= 5000000 AND duration_us < 10000000),"
	" sum(duration_us >= 10000000 AND duration_us < 20000000),"
	" sum(duration_us >= 20000000 AND duration_us < 60000000), sum(duration_us >= 60000000)"
	" FROM results GROUP BY 1, 2;";

/* The three tables, finest first; index = enum rollup_src - ROLLUP_MINUTE. */
static const char *const tables[3] = { "rollup_minute", "rollup_hour", "rollup_day" };
static const int64_t widths[3] = { MINUTE_S, HOUR_S, DAY_S };

/* --- SQL text built once ------------------------------------------------------------ */

static pthread_once_t sql_once = PTHREAD_ONCE_INIT;
static char *upsert_sql[3];     /* per table */
static char *derive_sql[2];     /* minute -> hour, hour -> day */
static char *part_one_sql[3], *part_all_sql[3];
static char *prune_next_sql[3], *prune_del_sql[3];

/* "x = x + excluded.x" for every additive column, min/max for the extremes. */
static char *conflict_clause(void)
{
	char *s = xstrdup(" ON CONFLICT (check_name, bucket_start_s) DO UPDATE SET"
	                  " count = count + excluded.count,"
	                  " failures = failures + excluded.failures,"
	                  " latency_sum_us = latency_sum_us + excluded.latency_sum_us,"
	                  " latency_min_us = min(latency_min_us, excluded.latency_min_us),"
	                  " latency_max_us = max(latency_max_us, excluded.latency_max_us)");

	for (int i = 0; i < ROLLUP_BUCKETS; i++) {
		char *t = xasprintf("%s, h%d = h%d + excluded.h%d", s, i, i, i);

		free(s);
		s = t;
	}
	return s;
}

/* The recursive CTE listing T's distinct check names by index seeks (a loose
 * index scan), so a per-check range read of every check does not scan the
 * whole table. */
static char *names_cte(const char *t)
{
	return xasprintf("WITH RECURSIVE names(name) AS (SELECT min(check_name) FROM %s"
	                 " UNION ALL SELECT (SELECT min(check_name) FROM %s WHERE check_name > names.name)"
	                 " FROM names WHERE names.name IS NOT NULL) ", t, t);
}

static void build_sql(void)
{
	char *conflict = conflict_clause();
	char sums[512];

	rollup_sums_sql(sums, sizeof(sums));
	for (int i = 0; i < 3; i++) {
		char *cte = names_cte(tables[i]);

		upsert_sql[i] = xasprintf("INSERT INTO %s (check_name, bucket_start_s, " AGG_COLS ")"
		                          " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12,"
		                          " ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23)%s",
		                          tables[i], conflict);
		part_one_sql[i] = xasprintf("SELECT check_name, bucket_start_s, " AGG_COLS " FROM %s"
		                            " WHERE check_name = ?1 AND bucket_start_s >= ?2"
		                            " AND bucket_start_s < ?3", tables[i]);
		part_all_sql[i] = xasprintf("%sSELECT t.check_name, t.bucket_start_s, " AGG_COLS
		                            " FROM names CROSS JOIN %s AS t ON t.check_name = names.name"
		                            " AND t.bucket_start_s >= ?2 AND t.bucket_start_s < ?3",
		                            cte, tables[i]);
		prune_next_sql[i] = xasprintf("SELECT min(check_name) FROM %s WHERE check_name > ?1",
		                              tables[i]);
		/* At most PRUNE_ROWS rows of one check per statement. */
		prune_del_sql[i] = xasprintf("DELETE FROM %s WHERE check_name = ?1 AND bucket_start_s <"
		                             " min(?2, coalesce((SELECT bucket_start_s FROM %s"
		                             " WHERE check_name = ?1 ORDER BY bucket_start_s"
		                             " LIMIT 1 OFFSET %d), ?2))", tables[i], tables[i], PRUNE_ROWS);
		if (i > 0) {
			char *src_cte = names_cte(tables[i - 1]);

			/* GROUP BY ends the SELECT, so ON CONFLICT cannot be read as a join's ON. */
			derive_sql[i - 1] = xasprintf(
				"%sINSERT INTO %s (check_name, bucket_start_s, " AGG_COLS ")"
				" SELECT t.check_name, t.bucket_start_s / %" PRId64 " * %" PRId64 ", %s"
				" FROM names CROSS JOIN %s AS t ON t.check_name = names.name"
				" AND t.bucket_start_s >= ?1 AND t.bucket_start_s < ?2 GROUP BY 1, 2%s",
				src_cte, tables[i], widths[i], widths[i], sums, tables[i - 1], conflict);
			free(src_cte);
		}
		free(cte);
	}
	free(conflict);
}

/* --- writer --------------------------------------------------------------------------- */

enum prune_phase { P_IDLE, P_RAW, P_MINUTE, P_HOUR, P_DAY, P_CHECKPOINT };

struct rollup_writer {
	struct rollup_minutes m;
	sqlite3 *db;                    /* the statements below belong to it */
	sqlite3_stmt *upsert[3], *derive[2], *marks, *set_mark;
	sqlite3_stmt *prune_raw, *prune_next[3], *prune_del[3];
	uint64_t raw_ms, rollups_ms;    /* atomics: set from any thread */
	enum prune_phase phase;
	int64_t next_pass_us;
	char *cursor;                   /* last check name visited in the phase */
	bool pragmas_set;
};

struct rollup_writer *rollup_writer_new(void)
{
	pthread_once(&sql_once, build_sql);
	return xcalloc(1, sizeof(struct rollup_writer));
}

static void finalize_all(struct rollup_writer *w)
{
	for (int i = 0; i < 3; i++) {
		sqlite3_finalize(w->upsert[i]);
		sqlite3_finalize(w->prune_next[i]);
		sqlite3_finalize(w->prune_del[i]);
		w->upsert[i] = w->prune_next[i] = w->prune_del[i] = NULL;
	}
	for (int i = 0; i < 2; i++) {
		sqlite3_finalize(w->derive[i]);
		w->derive[i] = NULL;
	}
	sqlite3_finalize(w->marks);
	sqlite3_finalize(w->set_mark);
	sqlite3_finalize(w->prune_raw);
	w->marks = w->set_mark = w->prune_raw = NULL;
}

void rollup_writer_free(struct rollup_writer *w)
{
	if (w == NULL)
		return;
	finalize_all(w);
	rollup_minutes_free(&w->m);
	free(w->cursor);
	free(w);
}

void rollup_writer_set_retention(struct rollup_writer *w, uint64_t raw_ms, uint64_t rollups_ms)
{
	if (w == NULL)
		return;
	__atomic_store_n(&w->raw_ms, raw_ms, __ATOMIC_RELAXED);
	__atomic_store_n(&w->rollups_ms, rollups_ms, __ATOMIC_RELAXED);
}

/* *st prepared on w->db from sql on first use, reset. NULL with err. */
static sqlite3_stmt *wprep(struct rollup_writer *w, sqlite3 *db, sqlite3_stmt **st, const char *sql,
                           char *err, size_t errlen)
{
	if (w->db != db) {      /* another connection: statements of the old one are useless */
		finalize_all(w);
		w->db = db;
	}
	if (*st == NULL &&
	    sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "rollup prepare: %s", sqlite3_errmsg(db));
		*st = NULL;
		return NULL;
	}
	sqlite3_reset(*st);
	sqlite3_clear_bindings(*st);
	return *st;
}

void rollup_writer_begin(struct rollup_writer *w)
{
	if (w != NULL)
		w->m.n = 0;
}

void rollup_writer_add(struct rollup_writer *w, const char *check, int64_t ts_us,
                       int64_t duration_us, bool ok)
{
	if (w != NULL && check != NULL)
		rollup_minutes_add(&w->m, check, ts_us, duration_us, ok);
}

static void bind_agg(sqlite3_stmt *st, int first, const struct rollup_agg *a)
{
	sqlite3_bind_int64(st, first, a->count);
	sqlite3_bind_int64(st, first + 1, a->failures);
	sqlite3_bind_int64(st, first + 2, a->latency_sum_us);
	sqlite3_bind_int64(st, first + 3, a->latency_min_us);
	sqlite3_bind_int64(st, first + 4, a->latency_max_us);
	for (int i = 0; i < ROLLUP_BUCKETS; i++)
		sqlite3_bind_int64(st, first + 5 + i, a->hist[i]);
}

/* Adds a to bucket (check, bucket_s) of table level. */
static int upsert(struct rollup_writer *w, sqlite3 *db, int level, const char *check,
                  int64_t bucket_s, const struct rollup_agg *a, char *err, size_t errlen)
{
	sqlite3_stmt *st = wprep(w, db, &w->upsert[level], upsert_sql[level], err, errlen);

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, check, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, bucket_s);
	bind_agg(st, 3, a);
	if (sqlite3_step(st) != SQLITE_DONE) {
		snprintf(err, errlen, "rollup upsert: %s", sqlite3_errmsg(db));
		sqlite3_reset(st);
		return -1;
	}
	sqlite3_reset(st);
	return 0;
}

/* Reads the derivation marks. */
static int read_marks(sqlite3 *db, sqlite3_stmt *st, int64_t *hour_done, int64_t *day_done)
{
	int rc = sqlite3_step(st);

	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		return -1;
	}
	*hour_done = sqlite3_column_int64(st, 0);
	*day_done = sqlite3_column_int64(st, 1);
	sqlite3_reset(st);
	return 0;
}

static const char marks_sql[] =
	"SELECT (SELECT value FROM rollup_meta WHERE name = 'hour_done_s'),"
	" (SELECT value FROM rollup_meta WHERE name = 'day_done_s')";

/* Derives level (1 hour, 2 day) buckets in [from_s, to_s) from the level
 * below and moves its mark to to_s. */
static int derive(struct rollup_writer *w, sqlite3 *db, int level, int64_t from_s, int64_t to_s,
                  char *err, size_t errlen)
{
	sqlite3_stmt *st = wprep(w, db, &w->derive[level - 1], derive_sql[level - 1], err, errlen);

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, from_s);
	sqlite3_bind_int64(st, 2, to_s);
	if (sqlite3_step(st) != SQLITE_DONE) {
		snprintf(err, errlen, "rollup derive: %s", sqlite3_errmsg(db));
		sqlite3_reset(st);
		return -1;
	}
	sqlite3_reset(st);
	st = wprep(w, db, &w->set_mark, "UPDATE rollup_meta SET value = ?2 WHERE name = ?1", err, errlen);
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, level == 1 ? "hour_done_s" : "day_done_s", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, to_s);
	if (sqlite3_step(st) != SQLITE_DONE) {
		snprintf(err, errlen, "rollup mark: %s", sqlite3_errmsg(db));
		sqlite3_reset(st);
		return -1;
	}
	sqlite3_reset(st);
	return 0;
}

/* See rollup.h. Groups the batch by (check, minute) so a check seen twice in
 * a batch costs one upsert. */
int rollup_writer_commit(struct rollup_writer *w, sqlite3 *db, int64_t now_us, char *err,
                         size_t errlen)
{
	sqlite3_stmt *st;
	int64_t hour_done, day_done, new_hour, new_day;
	size_t groups;

	if (w == NULL)
		return 0;
	st = wprep(w, db, &w->marks, marks_sql, err, errlen);
	if (st == NULL)
		return -1;
	if (read_marks(db, st, &hour_done, &day_done) != 0) {
		snprintf(err, errlen, "rollup marks: %s", sqlite3_errmsg(db));
		return -1;
	}
	groups = rollup_minutes_merge(&w->m);
	for (size_t k = 0; k < groups; k++) {
		const struct rollup_minute *g = &w->m.e[k];

		if (upsert(w, db, 0, g->check, g->minute_s, &g->agg, err, errlen) != 0)
			return -1;
		/* Late results of buckets already derived go there too. */
		if (g->minute_s < hour_done &&
		    upsert(w, db, 1, g->check, rollup_floor_div(g->minute_s, HOUR_S) * HOUR_S, &g->agg, err, errlen) != 0)
			return -1;
		if (g->minute_s < day_done &&
		    upsert(w, db, 2, g->check, rollup_floor_div(g->minute_s, DAY_S) * DAY_S, &g->agg, err, errlen) != 0)
			return -1;
	}
	w->m.n = 0;
	new_hour = rollup_floor_div(now_us / US - DERIVE_GRACE_S, HOUR_S) * HOUR_S;
	if (new_hour > hour_done) {
		if (derive(w, db, 1, hour_done, new_hour, err, errlen) != 0)
			return -1;
		hour_done = new_hour;
	}
	new_day = rollup_floor_div(hour_done, DAY_S) * DAY_S;
	if (new_day > day_done && derive(w, db, 2, day_done, new_day, err, errlen) != 0)
		return -1;
	return 0;
}

/* --- retention ----------------------------------------------------------------------------- */

/* One step of phase P_RAW: a DELETE of old rows among the PRUNE_ROWS lowest
 * ids (ids grow with insertion, which follows ts_us up to a probe timeout).
 * Returns 1 when the phase is over, 0 when more remains, -1 on error. */
static int prune_raw_step(struct rollup_writer *w, sqlite3 *db, int64_t cutoff_us, char *err,
                          size_t errlen)
{
	char sql[160];
	sqlite3_stmt *st;

	snprintf(sql, sizeof(sql), "DELETE FROM results WHERE id IN (SELECT id FROM results"
	         " ORDER BY id LIMIT %d) AND ts_us < ?1", PRUNE_ROWS);
	st = wprep(w, db, &w->prune_raw, sql, err, errlen);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, cutoff_us);
	if (sqlite3_step(st) != SQLITE_DONE) {
		snprintf(err, errlen, "pruning results: %s", sqlite3_errmsg(db));
		sqlite3_reset(st);
		return -1;
	}
	sqlite3_reset(st);
	return sqlite3_changes(db) == 0 ? 1 : 0;
}

/* One step of a table phase: one transaction visiting up to PRUNE_NAMES
 * checks after w->cursor, deleting their buckets older than cut_s, stopping
 * after about PRUNE_ROWS deleted rows. Returns 1 when every check was
 * visited, 0 when more remain, -1 on error (rolled back). */
static int prune_table_step(struct rollup_writer *w, sqlite3 *db, int level, int64_t cut_s,
                            char *err, size_t errlen)
{
	int deleted = 0, rc = 0;
	char *msg = NULL;

	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(err, errlen, "pruning: begin: %s", msg ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		return -1;
	}
	for (int visited = 0; visited < PRUNE_NAMES && deleted < PRUNE_ROWS; visited++) {
		sqlite3_stmt *next = wprep(w, db, &w->prune_next[level], prune_next_sql[level], err, errlen);
		sqlite3_stmt *del;
		char *name;
		int n;

		if (next == NULL)
			goto fail;
		sqlite3_bind_text(next, 1, w->cursor ? w->cursor : "", -1, SQLITE_TRANSIENT);
		if (sqlite3_step(next) != SQLITE_ROW) {
			snprintf(err, errlen, "pruning: %s", sqlite3_errmsg(db));
			sqlite3_reset(next);
			goto fail;
		}
		if (sqlite3_column_type(next, 0) == SQLITE_NULL) {
			sqlite3_reset(next);
			rc = 1;
			break;
		}
		name = xstrdup((const char *)sqlite3_column_text(next, 0));
		sqlite3_reset(next);
		del = wprep(w, db, &w->prune_del[level], prune_del_sql[level], err, errlen);
		if (del == NULL) {
			free(name);
			goto fail;
		}
		sqlite3_bind_text(del, 1, name, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(del, 2, cut_s);
		if (sqlite3_step(del) != SQLITE_DONE) {
			snprintf(err, errlen, "pruning %s: %s", tables[level], sqlite3_errmsg(db));
			sqlite3_reset(del);
			free(name);
			goto fail;
		}
		sqlite3_reset(del);
		n = sqlite3_changes(db);
		deleted += n;
		/* A check with more than PRUNE_ROWS old buckets is visited again. */
		if (n >= PRUNE_ROWS) {
			free(name);
			break;
		}
		free(w->cursor);
		w->cursor = name;
	}
	if (sqlite3_exec(db, "COMMIT", NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(err, errlen, "pruning: commit: %s", msg ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		goto fail;
	}
	return rc;
fail:
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

/* Runs one step of the current pass. Returns 0, or -1 after an error (the
 * pass is abandoned until the next one). */
static int prune_step(struct rollup_writer *w, sqlite3 *db, int64_t now_us)
{
	uint64_t raw_ms = __atomic_load_n(&w->raw_ms, __ATOMIC_RELAXED);
	uint64_t keep_ms = __atomic_load_n(&w->rollups_ms, __ATOMIC_RELAXED);
	int64_t now_s = now_us / US;
	char err[256] = "";
	int rc = 1;

	if (!w->pragmas_set) {
		/* The WAL file is truncated back to this size after checkpoints. */
		sqlite3_exec(db, "PRAGMA journal_size_limit = 67108864", NULL, NULL, NULL);
		w->pragmas_set = true;
	}
	switch (w->phase) {
	case P_IDLE:
		return 0;
	case P_RAW:
		if (raw_ms > 0)
			rc = prune_raw_step(w, db, now_us - (int64_t)raw_ms * 1000, err, sizeof(err));
		break;
	case P_MINUTE: {
		int64_t keep_s = ROLLUP_MINUTE_KEEP_S;

		if (keep_ms > 0 && (int64_t)(keep_ms / 1000) < keep_s)
			keep_s = (int64_t)(keep_ms / 1000);
		rc = prune_table_step(w, db, 0, now_s - keep_s - MINUTE_S, err, sizeof(err));
		break;
	}
	case P_HOUR:
	case P_DAY:
		if (keep_ms > 0) {
			int level = w->phase == P_HOUR ? 1 : 2;

			rc = prune_table_step(w, db, level, now_s - (int64_t)(keep_ms / 1000) - widths[level],
			                      err, sizeof(err));
		}
		break;
	case P_CHECKPOINT:
		/* Passive: never waits for readers; the pages freed by the deletes
		 * are reused by new rows, so the file stops growing. */
		sqlite3_exec(db, "PRAGMA wal_checkpoint(PASSIVE)", NULL, NULL, NULL);
		break;
	}
	if (rc < 0) {
		log_warn("store: pruning failed, retrying at the next pass", "error", err);
		w->phase = P_IDLE;
		free(w->cursor);
		w->cursor = NULL;
		return -1;
	}
	if (rc == 1) {
		free(w->cursor);
		w->cursor = NULL;
		w->phase = w->phase == P_CHECKPOINT ? P_IDLE : w->phase + 1;
	}
	return 0;
}

void rollup_writer_maintain(struct rollup_writer *w, sqlite3 *db, int64_t now_us)
{
	if (w == NULL)
		return;
	if (w->phase == P_IDLE) {
		if (now_us < w->next_pass_us)
			return;
		w->phase = P_RAW;
		w->next_pass_us = now_us + (int64_t)ROLLUP_PRUNE_EVERY_S * US;
	}
	prune_step(w, db, now_us);
}

int rollup_writer_prune_now(struct rollup_writer *w, sqlite3 *db, int64_t now_us)
{
	w->phase = P_RAW;
	free(w->cursor);
	w->cursor = NULL;
	while (w->phase != P_IDLE)
		if (prune_step(w, db, now_us) != 0)
			return -1;
	return 0;
}

/* --- reading parts ------------------------------------------------------------------------- */

static void agg_from_columns(sqlite3_stmt *st, int first, struct rollup_agg *a)
{
	a->count = sqlite3_column_int64(st, first);
	a->failures = sqlite3_column_int64(st, first + 1);
	a->latency_sum_us = sqlite3_column_int64(st, first + 2);
	a->latency_min_us = sqlite3_column_int64(st, first + 3);
	a->latency_max_us = sqlite3_column_int64(st, first + 4);
	for (int i = 0; i < ROLLUP_BUCKETS; i++)
		a->hist[i] = sqlite3_column_int64(st, first + 5 + i);
}

/* Calls fn for every bucket (or raw result) of part p, of check or of every
 * check (NULL; raw parts need a check). Returns 0 or -1 (logged). */
static int read_part(void *ctx, const char *check, const struct rollup_part *p, rollup_row_fn *fn,
                     void *arg)
{
	sqlite3 *db = ctx;
	static const char raw_sql[] =
		"SELECT check_name, ts_us, duration_us, ok FROM results"
		" WHERE check_name = ?1 AND ts_us >= ?2 AND ts_us < ?3";
	int level = p->src - ROLLUP_MINUTE;
	const char *sql;
	sqlite3_stmt *st = NULL;
	int rc;

	if (p->src == ROLLUP_RAW) {
		if (check == NULL)
			return 0;
		sql = raw_sql;
	} else {
		sql = check != NULL ? part_one_sql[level] : part_all_sql[level];
	}
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		log_error("store: reading rollups failed", "error", sqlite3_errmsg(db));
		return -1;
	}
	if (check != NULL)
		sqlite3_bind_text(st, 1, check, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, p->lo);
	sqlite3_bind_int64(st, 3, p->hi);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		struct rollup_agg a;

		if (name == NULL)
			continue;
		if (p->src == ROLLUP_RAW) {
			rollup_agg_init(&a);
			rollup_agg_add(&a, sqlite3_column_int64(st, 2), sqlite3_column_int(st, 3) != 0);
			fn(arg, name, rollup_floor_div(sqlite3_column_int64(st, 1), US), &a);
		} else {
			agg_from_columns(st, 2, &a);
			fn(arg, name, sqlite3_column_int64(st, 1), &a);
		}
	}
	if (rc != SQLITE_DONE)
		log_error("store: reading rollups failed", "error", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int reader_marks(void *ctx, int64_t *hour_done, int64_t *day_done)
{
	sqlite3 *db = ctx;
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(db, marks_sql, -1, &st, NULL) != SQLITE_OK) {
		log_error("store: reading rollup marks failed", "error", sqlite3_errmsg(db));
		return -1;
	}
	rc = read_marks(db, st, hour_done, day_done);
	if (rc != 0)
		log_error("store: reading rollup marks failed", "error", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return rc;
}

void rollup_sqlite_source(sqlite3 *db, struct rollup_source *out)
{
	out->ctx = db;
	out->cache_key = sqlite3_db_filename(db, "main");
	out->marks = reader_marks;
	out->read_part = read_part;
}

int rollup_read_window(sqlite3 *db, const char *check, int64_t since_us, int64_t now_us,
                       struct rollup_agg *out)
{
	struct rollup_source src;

	rollup_sqlite_source(db, &src);
	return rollup_window(&src, check, since_us, now_us, out);
}

int rollup_read_window_all(sqlite3 *db, int64_t since_us, int64_t now_us, rollup_each_fn *fn,
                           void *arg)
{
	struct rollup_source src;

	rollup_sqlite_source(db, &src);
	return rollup_window_all(&src, since_us, now_us, fn, arg);
}

int rollup_read_days(sqlite3 *db, const char *check, int64_t since_us, int64_t now_us,
                     rollup_count_fn *fn, void *arg)
{
	struct rollup_source src;

	rollup_sqlite_source(db, &src);
	return rollup_days(&src, check, since_us, now_us, fn, arg);
}

int rollup_read_series(sqlite3 *db, const char *check, int64_t since_us, int64_t until_us,
                       int64_t step_s, rollup_series_fn *fn, void *arg)
{
	struct rollup_source src;

	rollup_sqlite_source(db, &src);
	return rollup_series(&src, check, since_us, until_us, step_s, fn, arg);
}

/* rollup.c — minute/hour/day aggregates of results: histogram arithmetic,
 * the writer's upserts and derivations, retention in small steps, and the
 * window reads (one check, or every check with a freshness cache).
 *
 * Why three levels: the per-check reads want (check_name, bucket) clustering,
 * and a 90-day read of every check from hours alone is 10,000 x 2,160 rows;
 * from days it is 10,000 x 90 plus two edges. */
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "store/rollup.h"
#include "core/util.h"

#define US 1000000LL
#define MINUTE_S 60
#define HOUR_S 3600
#define DAY_S 86400
#define DERIVE_GRACE_S 120      /* a hour is derived this long after it closed */
#define MINUTE_EDGE_US ((int64_t)(ROLLUP_MINUTE_KEEP_S - 2 * HOUR_S) * US)
#define PRUNE_ROWS 2000         /* rows deleted per prune transaction, about */
#define PRUNE_NAMES 256         /* checks visited per prune transaction */
#define SERIES_MAX 20000        /* points of one series read */
#define CACHE_SLOTS 16
#define CACHE_TTL_MAX_US (60 * US)
#define CACHE_MIN_COST_US 2000  /* cheaper reads are never cached */

const double rollup_bounds_ms[ROLLUP_BUCKETS - 1] = {
	1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 60000,
};

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

/* --- arithmetic ----------------------------------------------------------------- */

void rollup_agg_init(struct rollup_agg *a)
{
	memset(a, 0, sizeof(*a));
}

int rollup_bucket(int64_t duration_us)
{
	double ms = (double)(duration_us < 0 ? 0 : duration_us) / 1000.0;
	int i = 0;

	while (i < ROLLUP_BUCKETS - 1 && ms >= rollup_bounds_ms[i])
		i++;
	return i;
}

void rollup_agg_add(struct rollup_agg *a, int64_t duration_us, bool ok)
{
	if (duration_us < 0)
		duration_us = 0;
	if (a->count == 0 || duration_us < a->latency_min_us)
		a->latency_min_us = duration_us;
	if (a->count == 0 || duration_us > a->latency_max_us)
		a->latency_max_us = duration_us;
	a->count++;
	if (!ok)
		a->failures++;
	a->latency_sum_us += duration_us;
	a->hist[rollup_bucket(duration_us)]++;
}

void rollup_agg_merge(struct rollup_agg *a, const struct rollup_agg *b)
{
	if (b->count <= 0)
		return;
	if (a->count == 0 || b->latency_min_us < a->latency_min_us)
		a->latency_min_us = b->latency_min_us;
	if (a->count == 0 || b->latency_max_us > a->latency_max_us)
		a->latency_max_us = b->latency_max_us;
	a->count += b->count;
	a->failures += b->failures;
	a->latency_sum_us += b->latency_sum_us;
	for (int i = 0; i < ROLLUP_BUCKETS; i++)
		a->hist[i] += b->hist[i];
}

double rollup_percentile(const struct rollup_agg *a, double p)
{
	double min_ms, max_ms, target, cum = 0;

	if (a->count <= 0)
		return -1;
	min_ms = (double)a->latency_min_us / 1000.0;
	max_ms = (double)a->latency_max_us / 1000.0;
	if (p < 0)
		p = 0;
	if (p > 1)
		p = 1;
	target = p * (double)a->count;
	for (int i = 0; i < ROLLUP_BUCKETS; i++) {
		double c = (double)a->hist[i], lo, hi, f, v;

		if (c <= 0)
			continue;
		if (cum + c < target) {
			cum += c;
			continue;
		}
		f = (target - cum) / c;
		lo = i == 0 ? 0 : rollup_bounds_ms[i - 1];
		hi = i == ROLLUP_BUCKETS - 1 ? (max_ms > lo ? max_ms : lo) : rollup_bounds_ms[i];
		/* The observed extremes narrow the edge buckets (often to a point). */
		if (min_ms > lo)
			lo = min_ms;
		if (max_ms < hi)
			hi = max_ms;
		if (hi < lo)
			hi = lo;
		/* Latencies spread roughly log-uniformly inside a log-spaced bucket. */
		if (lo > 0)
			v = lo * pow(hi / lo, f);
		else
			v = lo + (hi - lo) * f;
		if (v < min_ms)
			v = min_ms;
		if (v > max_ms)
			v = max_ms;
		return v;
	}
	return max_ms;      /* histogram short of count: a damaged row */
}

double rollup_uptime(const struct rollup_agg *a)
{
	if (a->count <= 0)
		return -1;
	return 100.0 * (double)(a->count - a->failures) / (double)a->count;
}

/* --- planning -------------------------------------------------------------------- */

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int64_t ceil_div(int64_t a, int64_t b)
{
	return -floor_div(-a, b);
}

static void add_part(struct rollup_part *out, size_t *n, enum rollup_src src, int64_t lo, int64_t hi)
{
	if (lo >= hi || *n >= ROLLUP_PARTS_MAX)
		return;
	out[*n].src = src;
	out[*n].lo = lo;
	out[*n].hi = hi;
	(*n)++;
}

/* See rollup.h. The parts never overlap: each level is read only over the
 * range whose buckets that level owns for this read. */
size_t rollup_plan(int64_t since_us, int64_t now_us, int64_t hour_done_s, int64_t day_done_s,
                   bool raw_edge, struct rollup_part out[ROLLUP_PARTS_MAX])
{
	int64_t m0 = ceil_div(since_us, MINUTE_S * US) * MINUTE_S;
	int64_t h0 = ceil_div(since_us, HOUR_S * US) * HOUR_S;
	int64_t d0 = ceil_div(since_us, DAY_S * US) * DAY_S;
	int64_t h1 = hour_done_s, d1 = day_done_s < hour_done_s ? day_done_s : hour_done_s;
	bool recent = now_us - since_us <= MINUTE_EDGE_US;
	size_t n = 0;

	if (h1 <= h0) {
		/* No derived hour after the edge: minutes to the end. */
		if (raw_edge)
			add_part(out, &n, ROLLUP_RAW, since_us, m0 * US);
		add_part(out, &n, ROLLUP_MINUTE, m0, INT64_MAX);
		return n;
	}
	if (recent) {
		if (raw_edge)
			add_part(out, &n, ROLLUP_RAW, since_us, m0 * US);
		add_part(out, &n, ROLLUP_MINUTE, m0, h0);
	} else if (raw_edge) {
		/* Minutes that old are pruned; raw results may still be there. */
		add_part(out, &n, ROLLUP_RAW, since_us, h0 * US);
	}
	if (d1 > d0) {
		add_part(out, &n, ROLLUP_HOUR, h0, d0);
		add_part(out, &n, ROLLUP_DAY, d0, d1);
		add_part(out, &n, ROLLUP_HOUR, d1, h1);
	} else {
		add_part(out, &n, ROLLUP_HOUR, h0, h1);
	}
	add_part(out, &n, ROLLUP_MINUTE, h1, INT64_MAX);
	return n;
}

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
	char sums[512] = "sum(count), sum(failures), sum(latency_sum_us), min(latency_min_us),"
	                 " max(latency_max_us)";

	for (int i = 0; i < ROLLUP_BUCKETS; i++) {
		size_t l = strlen(sums);

		snprintf(sums + l, sizeof(sums) - l, ", sum(h%d)", i);
	}
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

struct wentry {
	const char *check;      /* the store's row owns it until commit */
	int64_t minute_s;
	struct rollup_agg agg;
};

enum prune_phase { P_IDLE, P_RAW, P_MINUTE, P_HOUR, P_DAY, P_CHECKPOINT };

struct rollup_writer {
	struct wentry *e;
	size_t n, cap;
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
	free(w->e);
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
		w->n = 0;
}

void rollup_writer_add(struct rollup_writer *w, const char *check, int64_t ts_us,
                       int64_t duration_us, bool ok)
{
	struct wentry *e;

	if (w == NULL || check == NULL)
		return;
	if (w->n == w->cap) {
		w->cap = w->cap ? w->cap * 2 : 64;
		w->e = xrealloc(w->e, w->cap * sizeof(*w->e));
	}
	e = &w->e[w->n++];
	e->check = check;
	e->minute_s = floor_div(ts_us, MINUTE_S * US) * MINUTE_S;
	rollup_agg_init(&e->agg);
	rollup_agg_add(&e->agg, duration_us, ok);
}

static int wentry_cmp(const void *pa, const void *pb)
{
	const struct wentry *a = pa, *b = pb;
	int c = strcmp(a->check, b->check);

	if (c != 0)
		return c;
	return a->minute_s < b->minute_s ? -1 : a->minute_s > b->minute_s;
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
	size_t i = 0;

	if (w == NULL)
		return 0;
	st = wprep(w, db, &w->marks, marks_sql, err, errlen);
	if (st == NULL)
		return -1;
	if (read_marks(db, st, &hour_done, &day_done) != 0) {
		snprintf(err, errlen, "rollup marks: %s", sqlite3_errmsg(db));
		return -1;
	}
	if (w->n > 1)
		qsort(w->e, w->n, sizeof(*w->e), wentry_cmp);
	while (i < w->n) {
		struct wentry *g = &w->e[i++];

		while (i < w->n && wentry_cmp(g, &w->e[i]) == 0)
			rollup_agg_merge(&g->agg, &w->e[i++].agg);
		if (upsert(w, db, 0, g->check, g->minute_s, &g->agg, err, errlen) != 0)
			return -1;
		/* Late results of buckets already derived go there too. */
		if (g->minute_s < hour_done &&
		    upsert(w, db, 1, g->check, floor_div(g->minute_s, HOUR_S) * HOUR_S, &g->agg, err, errlen) != 0)
			return -1;
		if (g->minute_s < day_done &&
		    upsert(w, db, 2, g->check, floor_div(g->minute_s, DAY_S) * DAY_S, &g->agg, err, errlen) != 0)
			return -1;
	}
	w->n = 0;
	new_hour = floor_div(now_us / US - DERIVE_GRACE_S, HOUR_S) * HOUR_S;
	if (new_hour > hour_done) {
		if (derive(w, db, 1, hour_done, new_hour, err, errlen) != 0)
			return -1;
		hour_done = new_hour;
	}
	new_day = floor_div(hour_done, DAY_S) * DAY_S;
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

typedef void row_fn(void *arg, const char *check, int64_t bucket_s, const struct rollup_agg *a);

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
static int read_part(sqlite3 *db, const char *check, const struct rollup_part *p, row_fn *fn,
                     void *arg)
{
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
			fn(arg, name, floor_div(sqlite3_column_int64(st, 1), US), &a);
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

static int reader_marks(sqlite3 *db, int64_t *hour_done, int64_t *day_done)
{
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

static void merge_row(void *arg, const char *check, int64_t bucket_s, const struct rollup_agg *a)
{
	rollup_agg_merge(arg, a);
}

int rollup_read_window(sqlite3 *db, const char *check, int64_t since_us, int64_t now_us,
                       struct rollup_agg *out)
{
	struct rollup_part parts[ROLLUP_PARTS_MAX];
	int64_t hd, dd;
	size_t n;

	rollup_agg_init(out);
	if (reader_marks(db, &hd, &dd) != 0)
		return -1;
	n = rollup_plan(since_us, now_us, hd, dd, true, parts);
	for (size_t i = 0; i < n; i++)
		if (read_part(db, check, &parts[i], merge_row, out) != 0)
			return -1;
	return 0;
}

/* --- per-check accumulation ------------------------------------------------------------------ */

struct dayv {
	int64_t day, runs, ok;
};

struct acc {
	char *name;
	struct rollup_agg agg;
	struct dayv *days;
	size_t nd, capd;
};

/* Accumulators by check name: an open-addressing index over a growing array. */
struct accs {
	struct acc *v;
	size_t n, cap;
	size_t *tab;            /* index + 1; 0 = empty */
	size_t tcap;            /* power of two */
	size_t last;            /* rows come grouped by check: remember the last hit */
	bool has_last;
};

static void accs_free(struct accs *m)
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->v[i].name);
		free(m->v[i].days);
	}
	free(m->v);
	free(m->tab);
	memset(m, 0, sizeof(*m));
}

static void accs_reindex(struct accs *m, size_t tcap)
{
	free(m->tab);
	m->tcap = tcap;
	m->tab = xcalloc(tcap, sizeof(*m->tab));
	for (size_t i = 0; i < m->n; i++) {
		size_t h = (size_t)util_hash64(m->v[i].name) & (tcap - 1);

		while (m->tab[h] != 0)
			h = (h + 1) & (tcap - 1);
		m->tab[h] = i + 1;
	}
}

static struct acc *accs_get(struct accs *m, const char *name)
{
	size_t h;

	if (m->has_last && strcmp(m->v[m->last].name, name) == 0)
		return &m->v[m->last];
	if (m->tcap == 0 || (m->n + 1) * 2 > m->tcap)
		accs_reindex(m, m->tcap ? m->tcap * 2 : 1024);
	h = (size_t)util_hash64(name) & (m->tcap - 1);
	while (m->tab[h] != 0) {
		size_t i = m->tab[h] - 1;

		if (strcmp(m->v[i].name, name) == 0) {
			m->last = i;
			m->has_last = true;
			return &m->v[i];
		}
		h = (h + 1) & (m->tcap - 1);
	}
	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 256;
		m->v = xrealloc(m->v, m->cap * sizeof(*m->v));
	}
	memset(&m->v[m->n], 0, sizeof(m->v[m->n]));
	m->v[m->n].name = xstrdup(name);
	m->tab[h] = m->n + 1;
	m->last = m->n;
	m->has_last = true;
	return &m->v[m->n++];
}

static void acc_window_row(void *arg, const char *check, int64_t bucket_s, const struct rollup_agg *a)
{
	rollup_agg_merge(&accs_get(arg, check)->agg, a);
}

/* Parts are read oldest first, so a check's days arrive in order. */
static void acc_day_row(void *arg, const char *check, int64_t bucket_s, const struct rollup_agg *a)
{
	struct acc *c = accs_get(arg, check);
	int64_t day = floor_div(bucket_s, DAY_S);

	if (c->nd == 0 || c->days[c->nd - 1].day != day) {
		if (c->nd == c->capd) {
			c->capd = c->capd ? c->capd * 2 : 8;
			c->days = xrealloc(c->days, c->capd * sizeof(*c->days));
		}
		c->days[c->nd].day = day;
		c->days[c->nd].runs = 0;
		c->days[c->nd].ok = 0;
		c->nd++;
	}
	c->days[c->nd - 1].runs += a->count;
	c->days[c->nd - 1].ok += a->count - a->failures;
}

static int acc_cmp(const void *pa, const void *pb)
{
	return strcmp(((const struct acc *)pa)->name, ((const struct acc *)pb)->name);
}

/* --- the all-checks cache --------------------------------------------------------------------
 * A read of every check costs up to a few hundred milliseconds at 10,000
 * checks; the status page and the API ask for the same windows over and over.
 * Each (database, kind, window length) keeps its last result for 50 times
 * what computing it cost (at most a minute; never when it cost under 2 ms,
 * so small databases and tests always read fresh). One thread recomputes a
 * stale entry while the others keep serving the stale copy. */

enum cache_kind { K_WINDOW, K_DAYS };

struct summary {
	int refs;               /* under cache_mu */
	struct accs m;          /* sorted by name; index unused */
};

struct slot {
	char *path;
	enum cache_kind kind;
	int64_t key;
	struct summary *sum;
	uint64_t at_us, ttl_us, used_us;
	bool busy;
};

static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cache_cv = PTHREAD_COND_INITIALIZER;
static struct slot slots[CACHE_SLOTS];

static void summary_unref(struct summary *s)
{
	if (s == NULL || --s->refs > 0)
		return;
	accs_free(&s->m);
	free(s);
}

static void summary_release(struct summary *s)
{
	pthread_mutex_lock(&cache_mu);
	summary_unref(s);
	pthread_mutex_unlock(&cache_mu);
}

void rollup_cache_clear(void)
{
	pthread_mutex_lock(&cache_mu);
	for (int i = 0; i < CACHE_SLOTS; i++) {
		if (slots[i].busy)
			continue;
		summary_unref(slots[i].sum);
		free(slots[i].path);
		memset(&slots[i], 0, sizeof(slots[i]));
	}
	pthread_mutex_unlock(&cache_mu);
}

/* Computes the summary of kind over [since_us, now_us). NULL on error. */
static struct summary *compute(sqlite3 *db, enum cache_kind kind, int64_t since_us, int64_t now_us)
{
	struct summary *s = xcalloc(1, sizeof(*s));
	struct rollup_part parts[ROLLUP_PARTS_MAX];
	int64_t hd, dd;
	size_t n = 0;

	s->refs = 1;
	if (reader_marks(db, &hd, &dd) != 0)
		goto fail;
	if (kind == K_WINDOW) {
		n = rollup_plan(since_us, now_us, hd, dd, false, parts);
	} else {
		int64_t a = floor_div(since_us, DAY_S * US) * DAY_S;
		int64_t d1 = dd < hd ? dd : hd;

		add_part(parts, &n, ROLLUP_DAY, a, d1 > a ? d1 : a);
		a = d1 > a ? d1 : a;
		add_part(parts, &n, ROLLUP_HOUR, a, hd > a ? hd : a);
		a = hd > a ? hd : a;
		add_part(parts, &n, ROLLUP_MINUTE, a, INT64_MAX);
	}
	for (size_t i = 0; i < n; i++)
		if (read_part(db, NULL, &parts[i], kind == K_WINDOW ? acc_window_row : acc_day_row, &s->m) != 0)
			goto fail;
	if (s->m.n > 1)
		qsort(s->m.v, s->m.n, sizeof(*s->m.v), acc_cmp);
	free(s->m.tab);
	s->m.tab = NULL;
	s->m.tcap = 0;
	s->m.has_last = false;
	return s;
fail:
	accs_free(&s->m);
	free(s);
	return NULL;
}

/* The summary for (db, kind, key), fresh enough or being refreshed by
 * another thread; a new reference (summary_release) or NULL on error. */
static struct summary *cache_get(sqlite3 *db, enum cache_kind kind, int64_t key, int64_t since_us,
                                 int64_t now_us)
{
	const char *path = sqlite3_db_filename(db, "main");
	struct summary *s;
	uint64_t t0, cost;
	int i;

	if (path == NULL || path[0] == '\0')    /* in-memory: nothing to share */
		return compute(db, kind, since_us, now_us);
	pthread_mutex_lock(&cache_mu);
	for (;;) {
		int victim = -1;
		uint64_t now = util_mono_us();

		for (i = 0; i < CACHE_SLOTS; i++)
			if (slots[i].path != NULL && slots[i].kind == kind && slots[i].key == key &&
			    strcmp(slots[i].path, path) == 0)
				break;
		if (i == CACHE_SLOTS) {
			for (int j = 0; j < CACHE_SLOTS; j++)
				if (!slots[j].busy && (victim < 0 || slots[j].path == NULL ||
				                       (slots[victim].path != NULL && slots[j].used_us < slots[victim].used_us)))
					victim = j;
			if (victim < 0) {       /* every slot busy: compute unshared */
				pthread_mutex_unlock(&cache_mu);
				return compute(db, kind, since_us, now_us);
			}
			i = victim;
			summary_unref(slots[i].sum);
			free(slots[i].path);
			memset(&slots[i], 0, sizeof(slots[i]));
			slots[i].path = xstrdup(path);
			slots[i].kind = kind;
			slots[i].key = key;
		}
		slots[i].used_us = now;
		if (slots[i].sum != NULL && now - slots[i].at_us < slots[i].ttl_us) {
			s = slots[i].sum;
			s->refs++;
			pthread_mutex_unlock(&cache_mu);
			return s;
		}
		if (!slots[i].busy)
			break;
		if (slots[i].sum != NULL) {     /* stale-while-revalidate */
			s = slots[i].sum;
			s->refs++;
			pthread_mutex_unlock(&cache_mu);
			return s;
		}
		pthread_cond_wait(&cache_cv, &cache_mu);
	}
	slots[i].busy = true;
	pthread_mutex_unlock(&cache_mu);

	t0 = util_mono_us();
	s = compute(db, kind, since_us, now_us);
	cost = util_mono_us() - t0;

	pthread_mutex_lock(&cache_mu);
	/* Busy slots are never evicted: i is still ours. */
	slots[i].busy = false;
	if (s != NULL) {
		summary_unref(slots[i].sum);
		slots[i].sum = s;
		s->refs++;
		slots[i].at_us = util_mono_us();
		slots[i].ttl_us = cost < CACHE_MIN_COST_US ? 0 :
		                  (cost * 50 > CACHE_TTL_MAX_US ? CACHE_TTL_MAX_US : cost * 50);
	}
	pthread_cond_broadcast(&cache_cv);
	pthread_mutex_unlock(&cache_mu);
	return s;
}

int rollup_read_window_all(sqlite3 *db, int64_t since_us, int64_t now_us, rollup_each_fn *fn,
                           void *arg)
{
	/* Windows of the same length to the minute share an entry. */
	int64_t key = (now_us - since_us + 30 * US) / (60 * US);
	struct summary *s = cache_get(db, K_WINDOW, key, since_us, now_us);

	if (s == NULL)
		return -1;
	for (size_t i = 0; i < s->m.n; i++)
		if (s->m.v[i].agg.count > 0)
			fn(arg, s->m.v[i].name, &s->m.v[i].agg);
	summary_release(s);
	return 0;
}

int rollup_read_days(sqlite3 *db, const char *check, int64_t since_us, int64_t now_us,
                     store_count_fn *fn, void *arg)
{
	int64_t first = floor_div(since_us, DAY_S * US), last = floor_div(now_us, DAY_S * US);
	struct summary *s, *own = NULL;

	if (check != NULL) {
		/* One check: a few hundred rows, read fresh, same code as every check. */
		struct rollup_part parts[ROLLUP_PARTS_MAX];
		int64_t hd, dd, a = first * DAY_S, d1;
		size_t n = 0;

		if (reader_marks(db, &hd, &dd) != 0)
			return -1;
		d1 = dd < hd ? dd : hd;
		add_part(parts, &n, ROLLUP_DAY, a, d1 > a ? d1 : a);
		a = d1 > a ? d1 : a;
		add_part(parts, &n, ROLLUP_HOUR, a, hd > a ? hd : a);
		a = hd > a ? hd : a;
		add_part(parts, &n, ROLLUP_MINUTE, a, INT64_MAX);
		own = xcalloc(1, sizeof(*own));
		own->refs = 1;
		for (size_t i = 0; i < n; i++) {
			if (read_part(db, check, &parts[i], acc_day_row, &own->m) != 0) {
				accs_free(&own->m);
				free(own);
				return -1;
			}
		}
		s = own;
	} else {
		/* Keyed by the number of days and today: a new day is a new read. */
		s = cache_get(db, K_DAYS, (last - first) * 100000 + last % 100000, since_us, now_us);
		if (s == NULL)
			return -1;
	}
	for (size_t i = 0; i < s->m.n; i++)
		for (size_t j = 0; j < s->m.v[i].nd; j++)
			if (s->m.v[i].days[j].runs > 0)
				fn(arg, s->m.v[i].name, s->m.v[i].days[j].day, s->m.v[i].days[j].runs,
				   s->m.v[i].days[j].ok);
	if (own != NULL) {
		accs_free(&own->m);
		free(own);
	} else {
		summary_release(s);
	}
	return 0;
}

/* --- latency series ------------------------------------------------------------------------------ */

struct series {
	int64_t t0_s, step_s;
	size_t n;
	struct rollup_agg *pts;
};

static void series_row(void *arg, const char *check, int64_t bucket_s, const struct rollup_agg *a)
{
	struct series *se = arg;
	int64_t k = floor_div(bucket_s - se->t0_s, se->step_s);

	if (k >= 0 && (size_t)k < se->n)
		rollup_agg_merge(&se->pts[k], a);
}

int rollup_read_series(sqlite3 *db, const char *check, int64_t since_us, int64_t until_us,
                       int64_t step_s, store_series_fn *fn, void *arg)
{
	struct rollup_part parts[ROLLUP_PARTS_MAX];
	struct series se;
	int64_t hd, dd, until_s = ceil_div(until_us, US);
	size_t n = 0;
	int rc = -1;

	if (check == NULL || until_us <= since_us)
		return check == NULL ? -1 : 0;
	if (step_s < MINUTE_S)
		step_s = MINUTE_S;
	step_s = ceil_div(step_s, MINUTE_S) * MINUTE_S;
	if (reader_marks(db, &hd, &dd) != 0)
		return -1;
	se.step_s = step_s;
	se.t0_s = floor_div(since_us, step_s * US) * step_s;
	se.n = (size_t)ceil_div(until_s - se.t0_s, step_s);
	if (se.n > SERIES_MAX)
		se.n = SERIES_MAX;
	se.pts = xcalloc(se.n, sizeof(*se.pts));
	if (step_s >= HOUR_S && step_s % HOUR_S == 0) {
		int64_t a = floor_div(se.t0_s, HOUR_S) * HOUR_S;
		int64_t b = hd < until_s ? hd : until_s;

		add_part(parts, &n, ROLLUP_HOUR, a, b);
		add_part(parts, &n, ROLLUP_MINUTE, b > a ? b : a, until_s);
	} else {
		add_part(parts, &n, ROLLUP_MINUTE, se.t0_s, until_s);
	}
	for (size_t i = 0; i < n; i++)
		if (read_part(db, check, &parts[i], series_row, &se) != 0)
			goto out;
	for (size_t k = 0; k < se.n; k++)
		fn(arg, (se.t0_s + (int64_t)k * step_s) * US, se.pts[k].count, se.pts[k].failures,
		   rollup_percentile(&se.pts[k], 0.50), rollup_percentile(&se.pts[k], 0.95));
	rc = 0;
out:
	free(se.pts);
	return rc;
}

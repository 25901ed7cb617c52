/* rollup_pg.c — the PostgreSQL side of the rollups: the schema, the writer's
 * minute upserts and hour/day derivations inside the batch transaction, and
 * the part reads behind the shared window reads (rollup_read.c). Same ideas
 * as rollup_sqlite.c; see docs/storage.md. */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "store/rollup_pg.h"
#include "store/store_pg_read.h"

#define US 1000000LL
#define MINUTE_S 60
#define HOUR_S 3600
#define DAY_S 86400
#define DERIVE_GRACE_S 120      /* an hour is derived this long after it closed */
#define AGG_PARAMS (2 + 5 + ROLLUP_BUCKETS)     /* check, bucket, aggregate */

#define AGG_COLS \
	"count, failures, latency_sum_us, latency_min_us, latency_max_us," \
	" h0, h1, h2, h3, h4, h5, h6, h7, h8, h9, h10, h11, h12, h13, h14, h15"

#define HIST_DEF(i) " h" #i " integer NOT NULL DEFAULT 0,"
#define TABLE_DEF(name) \
	"CREATE TABLE " name " (" \
	" check_name text NOT NULL, bucket_start_s bigint NOT NULL," \
	" count integer NOT NULL, failures integer NOT NULL," \
	" latency_sum_us bigint NOT NULL, latency_min_us bigint NOT NULL," \
	" latency_max_us bigint NOT NULL," \
	HIST_DEF(0) HIST_DEF(1) HIST_DEF(2) HIST_DEF(3) HIST_DEF(4) HIST_DEF(5) HIST_DEF(6) \
	HIST_DEF(7) HIST_DEF(8) HIST_DEF(9) HIST_DEF(10) HIST_DEF(11) HIST_DEF(12) HIST_DEF(13) \
	HIST_DEF(14) HIST_DEF(15) \
	" PRIMARY KEY (check_name, bucket_start_s));" \
	"CREATE INDEX " name "_bucket ON " name " (bucket_start_s);"

/* Histogram counters are 4-byte integers (a bucket of a day holds at most
 * 86,400 runs at 1 s); the index on bucket_start_s serves derivation and
 * retention, which walk every check's buckets of a time range. */
const char pg_rollup_schema_sql[] =
	TABLE_DEF("rollup_minute")
	TABLE_DEF("rollup_hour")
	TABLE_DEF("rollup_day")
	"CREATE TABLE rollup_meta (name text PRIMARY KEY, value bigint NOT NULL);"
	"INSERT INTO rollup_meta VALUES ('hour_done_s', 0), ('day_done_s', 0);";

/* The three tables, finest first; index = enum rollup_src - ROLLUP_MINUTE. */
static const char *const tables[3] = { "rollup_minute", "rollup_hour", "rollup_day" };
static const int64_t widths[3] = { MINUTE_S, HOUR_S, DAY_S };

static const char marks_sql[] =
	"SELECT (SELECT value FROM rollup_meta WHERE name = 'hour_done_s'),"
	" (SELECT value FROM rollup_meta WHERE name = 'day_done_s')";

/* --- SQL text built once -------------------------------------------------------- */

static pthread_once_t sql_once = PTHREAD_ONCE_INIT;
static char *conflict_sql[3];   /* per table: add counts, keep the extremes */
static char *derive_sql[2];     /* minute -> hour, hour -> day */
static char *part_one_sql[3], *part_all_sql[3];

static char *conflict_clause(const char *t)
{
	char *s = xasprintf(" ON CONFLICT (check_name, bucket_start_s) DO UPDATE SET"
	                    " count = %s.count + excluded.count,"
	                    " failures = %s.failures + excluded.failures,"
	                    " latency_sum_us = %s.latency_sum_us + excluded.latency_sum_us,"
	                    " latency_min_us = LEAST(%s.latency_min_us, excluded.latency_min_us),"
	                    " latency_max_us = GREATEST(%s.latency_max_us, excluded.latency_max_us)",
	                    t, t, t, t, t);

	for (int i = 0; i < ROLLUP_BUCKETS; i++) {
		char *n = xasprintf("%s, h%d = %s.h%d + excluded.h%d", s, i, t, i, i);

		free(s);
		s = n;
	}
	return s;
}

static void build_sql(void)
{
	char sums[512];

	rollup_sums_sql(sums, sizeof(sums));
	for (int i = 0; i < 3; i++) {
		conflict_sql[i] = conflict_clause(tables[i]);
		part_one_sql[i] = xasprintf("SELECT check_name, bucket_start_s, " AGG_COLS " FROM %s"
		                            " WHERE check_name = $1 AND bucket_start_s >= $2"
		                            " AND bucket_start_s < $3", tables[i]);
		part_all_sql[i] = xasprintf("SELECT check_name, bucket_start_s, " AGG_COLS " FROM %s"
		                            " WHERE bucket_start_s >= $1 AND bucket_start_s < $2"
		                            " ORDER BY check_name", tables[i]);
	}
	for (int i = 1; i < 3; i++)
		derive_sql[i - 1] = xasprintf(
			"INSERT INTO %s (check_name, bucket_start_s, " AGG_COLS ")"
			" SELECT check_name, bucket_start_s / %" PRId64 " * %" PRId64 ", %s FROM %s"
			" WHERE bucket_start_s >= $1 AND bucket_start_s < $2 GROUP BY 1, 2%s",
			tables[i], widths[i], widths[i], sums, tables[i - 1], conflict_sql[i]);
}

/* --- writer ---------------------------------------------------------------------- */

struct pg_rollup {
	struct rollup_minutes m;
	struct pg_params p;
};

struct pg_rollup *pg_rollup_new(void)
{
	pthread_once(&sql_once, build_sql);
	return xcalloc(1, sizeof(struct pg_rollup));
}

void pg_rollup_free(struct pg_rollup *w)
{
	if (w == NULL)
		return;
	pg_params_free(&w->p);
	rollup_minutes_free(&w->m);
	free(w);
}

void pg_rollup_begin(struct pg_rollup *w)
{
	w->m.n = 0;
}

void pg_rollup_add(struct pg_rollup *w, const char *check, int64_t ts_us, int64_t duration_us,
                   bool ok)
{
	rollup_minutes_add(&w->m, check, ts_us, duration_us, ok);
}

static void params_agg(struct pg_params *p, const char *check, int64_t bucket_s,
                       const struct rollup_agg *a)
{
	pg_params_text(p, check);
	pg_params_int(p, bucket_s);
	pg_params_int(p, a->count);
	pg_params_int(p, a->failures);
	pg_params_int(p, a->latency_sum_us);
	pg_params_int(p, a->latency_min_us);
	pg_params_int(p, a->latency_max_us);
	for (int i = 0; i < ROLLUP_BUCKETS; i++)
		pg_params_int(p, a->hist[i]);
}

/* Upserts the n aggregates in p (AGG_PARAMS each) into table level, one
 * statement: the (check, bucket) keys of one call are distinct. */
static int upsert(PGconn *c, int level, struct pg_params *p, size_t n, char *err, size_t errlen)
{
	char *values = pg_values_sql(n, AGG_PARAMS, 1);
	char *sql = xasprintf("INSERT INTO %s (check_name, bucket_start_s, " AGG_COLS ") VALUES %s%s",
	                      tables[level], values, conflict_sql[level]);
	PGresult *r = pg_query(c, sql, p, "rollup upsert", err, errlen);

	free(values);
	free(sql);
	PQclear(r);
	return r != NULL ? 0 : -1;
}

/* Adds g to the derived bucket of level (late result): one row. */
static int upsert_one(struct pg_rollup *w, PGconn *c, int level, const struct rollup_minute *g,
                      char *err, size_t errlen)
{
	int rc;

	pg_params_clear(&w->p);
	params_agg(&w->p, g->check, rollup_floor_div(g->minute_s, widths[level]) * widths[level],
	           &g->agg);
	rc = upsert(c, level, &w->p, 1, err, errlen);
	pg_params_clear(&w->p);
	return rc;
}

static int read_marks(PGconn *c, int64_t *hour_done, int64_t *day_done, char *err,
                      size_t errlen)
{
	PGresult *r = pg_query(c, marks_sql, NULL, "rollup marks", err, errlen);

	if (r == NULL)
		return -1;
	*hour_done = pg_int(r, 0, 0, 0);
	*day_done = pg_int(r, 0, 1, 0);
	PQclear(r);
	return 0;
}

/* Derives level (1 hour, 2 day) buckets in [from_s, to_s) and moves its mark. */
static int derive(PGconn *c, int level, int64_t from_s, int64_t to_s, char *err, size_t errlen)
{
	struct pg_params p = { 0 };
	PGresult *r;

	pg_params_int(&p, from_s);
	pg_params_int(&p, to_s);
	r = pg_query(c, derive_sql[level - 1], &p, "rollup derive", err, errlen);
	if (r != NULL) {
		PQclear(r);
		pg_params_clear(&p);
		pg_params_text(&p, level == 1 ? "hour_done_s" : "day_done_s");
		pg_params_int(&p, to_s);
		r = pg_query(c, "UPDATE rollup_meta SET value = $2 WHERE name = $1", &p, "rollup mark",
		             err, errlen);
		PQclear(r);
	}
	pg_params_free(&p);
	return r != NULL ? 0 : -1;
}

/* Groups the batch by (check, minute), upserts the minutes in one
 * statement, adds late results to derived hours and days, and derives the
 * hours and days that closed. */
int pg_rollup_commit(struct pg_rollup *w, PGconn *c, int64_t now_us, char *err, size_t errlen)
{
	int64_t hour_done, day_done, new_hour, new_day;
	size_t groups;

	if (read_marks(c, &hour_done, &day_done, err, errlen) != 0)
		return -1;
	groups = rollup_minutes_merge(&w->m);
	pg_params_clear(&w->p);
	for (size_t k = 0; k < groups; k++)
		params_agg(&w->p, w->m.e[k].check, w->m.e[k].minute_s, &w->m.e[k].agg);
	if (groups > 0 && upsert(c, 0, &w->p, groups, err, errlen) != 0)
		return -1;
	pg_params_clear(&w->p);
	for (size_t k = 0; k < groups; k++) {
		const struct rollup_minute *g = &w->m.e[k];

		if (g->minute_s < hour_done && upsert_one(w, c, 1, g, err, errlen) != 0)
			return -1;
		if (g->minute_s < day_done && upsert_one(w, c, 2, g, err, errlen) != 0)
			return -1;
	}
	w->m.n = 0;
	new_hour = rollup_floor_div(now_us / US - DERIVE_GRACE_S, HOUR_S) * HOUR_S;
	if (new_hour > hour_done) {
		if (derive(c, 1, hour_done, new_hour, err, errlen) != 0)
			return -1;
		hour_done = new_hour;
	}
	new_day = rollup_floor_div(hour_done, DAY_S) * DAY_S;
	if (new_day > day_done && derive(c, 2, day_done, new_day, err, errlen) != 0)
		return -1;
	return 0;
}

/* --- reading parts ------------------------------------------------------------------ */

static void agg_from_row(const PGresult *r, int row, int first, struct rollup_agg *a)
{
	a->count = pg_int(r, row, first, 0);
	a->failures = pg_int(r, row, first + 1, 0);
	a->latency_sum_us = pg_int(r, row, first + 2, 0);
	a->latency_min_us = pg_int(r, row, first + 3, 0);
	a->latency_max_us = pg_int(r, row, first + 4, 0);
	for (int i = 0; i < ROLLUP_BUCKETS; i++)
		a->hist[i] = pg_int(r, row, first + 5 + i, 0);
}

/* One read of a part: what each row becomes. */
struct part_read {
	bool raw;
	rollup_row_fn *fn;
	void *arg;
};

static void part_rows(void *arg, const PGresult *r)
{
	struct part_read *pr = arg;

	for (int i = 0; i < PQntuples(r); i++) {
		struct rollup_agg a;

		if (pr->raw) {
			rollup_agg_init(&a);
			rollup_agg_add(&a, pg_int(r, i, 2, 0), pg_bool(r, i, 3));
			pr->fn(pr->arg, pg_text(r, i, 0), rollup_floor_div(pg_int(r, i, 1, 0), US), &a);
		} else {
			agg_from_row(r, i, 2, &a);
			pr->fn(pr->arg, pg_text(r, i, 0), pg_int(r, i, 1, 0), &a);
		}
	}
}

/* fn for every bucket (or raw result) of part p, of check or of every check
 * (NULL; raw parts need a check; read through a cursor: it can be a million
 * rows). Returns 0 or -1 (logged). */
static int read_part(void *ctx, const char *check, const struct rollup_part *p, rollup_row_fn *fn,
                     void *arg)
{
	static const char raw_sql[] =
		"SELECT check_name, ts_us, duration_us, ok FROM results"
		" WHERE check_name = $1 AND ts_us >= $2 AND ts_us < $3";
	struct pg_reader *rd = ctx;
	int level = p->src - ROLLUP_MINUTE;
	struct part_read pr = { .raw = p->src == ROLLUP_RAW, .fn = fn, .arg = arg };
	struct pg_params prm = { 0 };
	PGresult *r;
	int rc = 0;

	if (p->src == ROLLUP_RAW && check == NULL)
		return 0;
	if (check != NULL)
		pg_params_text(&prm, check);
	pg_params_int(&prm, p->lo);
	pg_params_int(&prm, p->hi);
	if (check == NULL) {
		rc = pg_read_each(rd, part_all_sql[level], &prm, "rollups", part_rows, &pr);
	} else {
		r = pg_read(rd, pr.raw ? raw_sql : part_one_sql[level], &prm, "rollups");
		if (r != NULL)
			part_rows(&pr, r);
		rc = r != NULL ? 0 : -1;
		PQclear(r);
	}
	pg_params_free(&prm);
	return rc;
}

static int reader_marks(void *ctx, int64_t *hour_done, int64_t *day_done)
{
	PGresult *r = pg_read(ctx, marks_sql, NULL, "rollup marks");

	if (r == NULL)
		return -1;
	*hour_done = pg_int(r, 0, 0, 0);
	*day_done = pg_int(r, 0, 1, 0);
	PQclear(r);
	return 0;
}

void pg_rollup_source(struct store_reader *base, struct rollup_source *out)
{
	struct pg_reader *r = (struct pg_reader *)base;

	pthread_once(&sql_once, build_sql);
	out->ctx = r;
	out->cache_key = r->display;
	out->marks = reader_marks;
	out->read_part = read_part;
}

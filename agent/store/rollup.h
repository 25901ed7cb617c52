/* rollup.h — per-minute, per-hour and per-day aggregates of results, their
 * retention, and the window reads built on them (store.c's helper; the
 * public face is store.h). See docs/storage.md.
 *
 * Tables (migration rollup_schema_sql): rollup_minute, rollup_hour and
 * rollup_day, each PRIMARY KEY (check_name, bucket_start_s) WITHOUT ROWID, with
 * count, failures, latency_sum_us, latency_min_us, latency_max_us and a fixed
 * latency histogram of ROLLUP_BUCKETS INTEGER columns h0..h15 (SQLite stores a
 * small integer in 1-2 bytes and a zero in none, so 16 columns cost less than
 * a fixed-width BLOB and stay summable in SQL). rollup_meta holds the derivation
 * marks hour_done_s / day_done_s: every hour (day) bucket before the mark has
 * been derived.
 *
 * Writing: the writer thread adds each committed result to the minute rollup
 * in the same transaction (UPSERT adding counts: exact). Closed hours are
 * derived from minutes (and closed days from hours) in the first batch after
 * they close plus a grace; a late result for an already derived bucket is also
 * added to it directly, so every level stays exact. */
#ifndef PHAROS_ROLLUP_H
#define PHAROS_ROLLUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sqlite3.h>

#include "store/store.h"

#define ROLLUP_BUCKETS 16

/* Upper bounds (exclusive) of histogram buckets 0..14 in milliseconds; bucket
 * 15 holds everything from 60 s up. */
extern const double rollup_bounds_ms[ROLLUP_BUCKETS - 1];

/* The SQL of the schema migration (tables, marks, and a backfill of the
 * minute rollup from raw results already in the database). */
extern const char rollup_schema_sql[];

/* One aggregate: a bucket, or the sum of buckets over a window. */
struct rollup_agg {
	int64_t count, failures;
	int64_t latency_sum_us;
	int64_t latency_min_us, latency_max_us;     /* valid when count > 0 */
	int64_t hist[ROLLUP_BUCKETS];
};

/* --- arithmetic (pure) ------------------------------------------------------- */

void rollup_agg_init(struct rollup_agg *a);
/* The histogram bucket of a duration (negative counts as 0). */
int rollup_bucket(int64_t duration_us);
void rollup_agg_add(struct rollup_agg *a, int64_t duration_us, bool ok);
/* a += b (b may be empty). */
void rollup_agg_merge(struct rollup_agg *a, const struct rollup_agg *b);
/* Percentile p (0..1) in milliseconds from the histogram: rank p*count, its
 * bucket found by cumulative counts, then interpolated inside the bucket
 * (log-linear; linear in bucket 0) between bounds tightened by the observed
 * min and max. -1 when a is empty. Error: at most one bucket width. */
double rollup_percentile(const struct rollup_agg *a, double p);
/* 100 * (count - failures) / count, or -1 when empty. */
double rollup_uptime(const struct rollup_agg *a);

/* How a window [since, now) is read: up to 8 disjoint parts, oldest first.
 * RAW parts are in microseconds of results.ts_us, the others in seconds of
 * bucket_start_s (a bucket belongs to a part when its start is in [lo, hi)). */
enum rollup_src { ROLLUP_RAW, ROLLUP_MINUTE, ROLLUP_HOUR, ROLLUP_DAY };
struct rollup_part {
	enum rollup_src src;
	int64_t lo, hi;
};
#define ROLLUP_PARTS_MAX 8
/* Splits [since_us, now_us) into parts given the derivation marks: the start
 * edge up to the first hour boundary from raw results (raw_edge) and minutes,
 * whole days and hours from the coarsest derived level, and the tail after
 * hour_done_s from minutes. Returns the number of parts written to out. */
size_t rollup_plan(int64_t since_us, int64_t now_us, int64_t hour_done_s, int64_t day_done_s,
                   bool raw_edge, struct rollup_part out[ROLLUP_PARTS_MAX]);

/* --- writer side (the store's writer thread only) ----------------------------- */

struct rollup_writer;

struct rollup_writer *rollup_writer_new(void);
/* Finalizes the writer's statements; call before closing its connection. */
void rollup_writer_free(struct rollup_writer *w);
/* Retention of raw results and of hour/day rollups; 0 keeps forever. Any
 * thread. Minute rollups are kept min(ROLLUP_MINUTE_KEEP_S, rollups). */
void rollup_writer_set_retention(struct rollup_writer *w, uint64_t raw_ms, uint64_t rollups_ms);
#define ROLLUP_MINUTE_KEEP_S (48 * 3600)

/* A batch transaction: begin() forgets what a failed attempt added; add() is
 * called once per result inserted (check must stay valid until commit());
 * commit() upserts the minute rollups, derives closed hours and days, inside
 * the transaction still open on db. Returns 0 or -1 with err. */
void rollup_writer_begin(struct rollup_writer *w);
void rollup_writer_add(struct rollup_writer *w, const char *check, int64_t ts_us,
                       int64_t duration_us, bool ok);
int rollup_writer_commit(struct rollup_writer *w, sqlite3 *db, int64_t now_us, char *err,
                         size_t errlen);

/* Retention: call outside any transaction, e.g. after each commit. Starts a
 * pass every ROLLUP_PRUNE_EVERY_S; each call does at most one step of it (one
 * short transaction deleting at most ~2000 rows), then a passive WAL
 * checkpoint at the end of the pass. */
#define ROLLUP_PRUNE_EVERY_S 300
void rollup_writer_maintain(struct rollup_writer *w, sqlite3 *db, int64_t now_us);
/* A whole pass now, step by step (tests, tools). Returns 0 or -1. */
int rollup_writer_prune_now(struct rollup_writer *w, sqlite3 *db, int64_t now_us);

/* --- readers (any connection) ---------------------------------------------------- */

/* check's aggregate over [since_us, now_us): the start edge from raw results,
 * so exact while raw results are kept. Returns 0 or -1 (logged). */
int rollup_read_window(sqlite3 *db, const char *check, int64_t since_us, int64_t now_us,
                       struct rollup_agg *out);

/* Every check's aggregate over [since_us, now_us) (start edge from minutes,
 * within a minute), fn once per check with count > 0, by name. Cached per
 * (database, window length) while fresh: see store_summary_all(). */
typedef void rollup_each_fn(void *arg, const char *check, const struct rollup_agg *a);
int rollup_read_window_all(sqlite3 *db, int64_t since_us, int64_t now_us, rollup_each_fn *fn,
                           void *arg);

/* Runs and successes per (check, UTC day) from the day of since_us on: check
 * only, or every check (NULL; cached like the window). Returns 0 or -1. */
int rollup_read_days(sqlite3 *db, const char *check, int64_t since_us, int64_t now_us,
                     store_count_fn *fn, void *arg);

/* check's latency over [since_us, until_us) in steps of step_s seconds (a
 * minute multiple; hour rollups for steps of an hour or more). Returns 0 or -1. */
int rollup_read_series(sqlite3 *db, const char *check, int64_t since_us, int64_t until_us,
                       int64_t step_s, store_series_fn *fn, void *arg);

/* Drops every cached all-checks read (tests). */
void rollup_cache_clear(void);

#endif

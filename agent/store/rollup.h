/* rollup.h — per-minute, per-hour and per-day aggregates of results and the
 * window reads built on them, shared by every store implementation (the
 * public face is store.h; see docs/storage.md).
 *
 * An implementation keeps three levels of buckets per check (minute, hour,
 * day), each with count, failures, latency_sum_us, latency_min_us,
 * latency_max_us and a fixed latency histogram of ROLLUP_BUCKETS counters,
 * plus two derivation marks hour_done_s / day_done_s: every hour (day) bucket
 * before the mark has been derived. It adds each committed result to the
 * minute level in the same transaction, derives closed hours and days from
 * the level below, and exposes its tables to the reads here through a
 * struct rollup_source (SQLite: rollup_sqlite.h). */
#ifndef PHAROS_ROLLUP_H
#define PHAROS_ROLLUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>


#define ROLLUP_BUCKETS 16

/* Upper bounds (exclusive) of histogram buckets 0..14 in milliseconds; bucket
 * 15 holds everything from 60 s up. */
extern const double rollup_bounds_ms[ROLLUP_BUCKETS - 1];

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

/* The SQL select list that sums aggregates into one, for both stores:
 * "sum(count), sum(failures), sum(latency_sum_us), min(latency_min_us),
 * max(latency_max_us), sum(h0), ..." into buf (512 bytes are enough). */
void rollup_sums_sql(char *buf, size_t len);

/* --- a batch's results by check and minute (both writers) ------------------- */

struct rollup_minute {
	const char *check;      /* the store's row owns it until commit */
	int64_t minute_s;
	struct rollup_agg agg;
};

struct rollup_minutes {
	struct rollup_minute *e;
	size_t n, cap;
};

/* Adds one result to m as its own entry (merged later). */
void rollup_minutes_add(struct rollup_minutes *m, const char *check, int64_t ts_us,
                        int64_t duration_us, bool ok);
/* Sorts m by check, then minute, and merges the entries of one (check,
 * minute) into one, in place: returns how many there are, at the front. */
size_t rollup_minutes_merge(struct rollup_minutes *m);
void rollup_minutes_free(struct rollup_minutes *m);

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

#define ROLLUP_MINUTE_KEEP_S (48 * 3600)    /* minute buckets kept at most this long */

/* Floor and ceiling of a / b for any signs (b > 0). */
int64_t rollup_floor_div(int64_t a, int64_t b);
int64_t rollup_ceil_div(int64_t a, int64_t b);
/* Appends part (src, lo, hi) to out[*n] when lo < hi and there is room. */
void rollup_part_add(struct rollup_part *out, size_t *n, enum rollup_src src, int64_t lo,
                     int64_t hi);

/* --- a store's rollup tables, as the reads below see them ------------------------ */

/* Called once per bucket (or per raw result, as a one-result aggregate whose
 * bucket_s is its second) of a part. */
typedef void rollup_row_fn(void *arg, const char *check, int64_t bucket_s,
                           const struct rollup_agg *a);

struct rollup_source {
	void *ctx;                  /* the implementation's read connection */
	/* Names the database for the all-checks cache (a path, a URI without
	 * secrets); NULL or "": never cached. */
	const char *cache_key;
	/* Reads the derivation marks. Returns 0 or -1 (logged). */
	int (*marks)(void *ctx, int64_t *hour_done_s, int64_t *day_done_s);
	/* fn for every bucket of part p (raw results for ROLLUP_RAW) of check,
	 * or of every check (check NULL; a RAW part is then skipped), grouped by
	 * check. Returns 0 or -1 (logged). */
	int (*read_part)(void *ctx, const char *check, const struct rollup_part *p,
	                 rollup_row_fn *fn, void *arg);
};

/* --- reads (any thread; src's connection one thread at a time) -------------------- */

/* check's aggregate over [since_us, now_us): the start edge from raw results,
 * so exact while raw results are kept. Returns 0 or -1. */
int rollup_window(const struct rollup_source *src, const char *check, int64_t since_us,
                  int64_t now_us, struct rollup_agg *out);

/* One check's figures over a window, as every-check reads hand them out:
 * the aggregate reduced to what the readers show (the cache of those reads
 * holds 100,000 checks, so not the whole histogram). */
struct rollup_row {
	const char *check;
	int64_t count, failures;
	int64_t latency_sum_us;
	double p50_ms, p95_ms;      /* rollup_percentile of the aggregate */
};

/* Every check's figures over [since_us, now_us) (start edge from minutes,
 * within a minute), fn once per check with count > 0, by name. Cached per
 * (database, window length) while fresh: see store_summary_all(). */
typedef void rollup_each_fn(void *arg, const struct rollup_row *row);
int rollup_window_all(const struct rollup_source *src, int64_t since_us, int64_t now_us,
                      rollup_each_fn *fn, void *arg);

/* Runs and successes per (check, UTC day) from the day of since_us on: check
 * only, or every check (NULL; cached like the window). Returns 0 or -1. The
 * callback types are store.h's store_count_fn and store_series_fn, spelled out
 * here so that the rollups depend on nothing of the store's interface. */
typedef void rollup_count_fn(void *arg, const char *check, int64_t day, int64_t runs,
                             int64_t ok);
typedef void rollup_series_fn(void *arg, int64_t t_us, int64_t runs, int64_t failures,
                              double p50_ms, double p95_ms);
int rollup_days(const struct rollup_source *src, const char *check, int64_t since_us,
                int64_t now_us, rollup_count_fn *fn, void *arg);

/* check's latency over [since_us, until_us) in steps of step_s seconds (a
 * minute multiple; hour rollups for steps of an hour or more). Returns 0 or -1. */
int rollup_series(const struct rollup_source *src, const char *check, int64_t since_us,
                  int64_t until_us, int64_t step_s, rollup_series_fn *fn, void *arg);

/* Drops every cached all-checks read (tests). */
void rollup_cache_clear(void);

#endif

/* test_rollup.c — rollup arithmetic, window planning, reads over windows that
 * cross minute/hour/day boundaries (checked against the raw rows), and
 * retention pruning. Time is simulated: every function gets its "now". */
#include "unit.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>

#include "store/rollup_sqlite.h"
#include "store/store.h"
#include "core/util.h"

#define US 1000000LL
#define MIN_US (60 * US)
#define HOUR_US (3600 * US)
#define DAY_US (86400 * US)

static char tmpdir[64];

static int setup(void **state)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/pharos-test-rollup-XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	rollup_cache_clear();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static uint64_t rng = 88172645463325252ull;

static uint64_t xorshift(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted v (n > 0), in ms. */
static double exact_pct(const int64_t *v, size_t n, double p)
{
	long i = (long)ceil(p * (double)n) - 1;

	if (i < 0)
		i = 0;
	if (i > (long)n - 1)
		i = (long)n - 1;
	return (double)v[i] / 1000.0;
}

/* The bucket bounds around a value in ms: the histogram's resolution. */
static void bucket_bounds(double ms, double *lo, double *hi)
{
	int b = rollup_bucket((int64_t)(ms * 1000));

	*lo = b == 0 ? 0 : rollup_bounds_ms[b - 1];
	*hi = b == ROLLUP_BUCKETS - 1 ? INFINITY : rollup_bounds_ms[b];
}

static void test_buckets(void **state)
{
	assert_int_equal(rollup_bucket(-5), 0);
	assert_int_equal(rollup_bucket(0), 0);
	assert_int_equal(rollup_bucket(999), 0);
	assert_int_equal(rollup_bucket(1000), 1);
	assert_int_equal(rollup_bucket(4999), 2);
	assert_int_equal(rollup_bucket(5000), 3);
	assert_int_equal(rollup_bucket(59999999), 14);
	assert_int_equal(rollup_bucket(60000000), 15);
	assert_int_equal(rollup_bucket(INT64_C(1) << 40), 15);
}

/* Percentiles from the histogram against the exact nearest rank on several
 * distributions: always inside the exact value's bucket (or touching it), and
 * within 10% on data spread over the buckets. */
static void test_percentiles(void **state)
{
	enum { N = 5000 };
	static int64_t v[N];
	const double ps[] = { 0.01, 0.25, 0.50, 0.90, 0.95, 0.99 };
	struct rollup_agg a, empty;

	rollup_agg_init(&empty);
	assert_true(rollup_percentile(&empty, 0.5) == -1);
	assert_true(rollup_uptime(&empty) == -1);

	for (int dist = 0; dist < 4; dist++) {
		rollup_agg_init(&a);
		for (int i = 0; i < N; i++) {
			double u = (double)(xorshift() % 1000000) / 1e6;

			switch (dist) {
			case 0: v[i] = (int64_t)(i % 1000 + 1) * 1000; break;          /* uniform 1..1000 ms */
			case 1: v[i] = (int64_t)(exp(3.0 + 1.5 * u * u) * 1000); break;  /* skewed 20..180 ms */
			case 2: v[i] = (int64_t)(exp(log(0.3) + u * log(20000 / 0.3)) * 1000); break; /* 0.3 ms..20 s */
			default: v[i] = (i % 20 == 0) ? 9000000 : 42000; break;        /* 42 ms, 5% at 9 s */
			}
			rollup_agg_add(&a, v[i], i % 10 != 0);
		}
		qsort(v, N, sizeof(v[0]), cmp_i64);
		assert_int_equal(a.count, N);
		assert_int_equal(a.failures, N / 10);
		assert_true(fabs(rollup_uptime(&a) - 90.0) < 1e-9);
		for (size_t k = 0; k < sizeof(ps) / sizeof(ps[0]); k++) {
			double ex = exact_pct(v, N, ps[k]), got = rollup_percentile(&a, ps[k]), lo, hi;

			bucket_bounds(ex, &lo, &hi);
			/* Inside the exact value's bucket, give or take the boundary. */
			assert_true(got >= lo * 0.999 && got <= hi * 1.001);
			/* Spread evenly over the buckets: close. Bunched at one end of a
			 * bucket (dist 1): only the bucket is promised. */
			if (dist == 0 && fabs(got - ex) / ex >= 0.10)
				fail_msg("dist %d p%g: exact %g, histogram %g", dist, ps[k] * 100, ex, got);
		}
		/* The extremes are exact. */
		assert_true(rollup_percentile(&a, 0) == (double)v[0] / 1000.0);
		assert_true(rollup_percentile(&a, 1) == (double)v[N - 1] / 1000.0);
	}
	/* A constant latency comes back exactly (min = max clamps). */
	rollup_agg_init(&a);
	for (int i = 0; i < 100; i++)
		rollup_agg_add(&a, 123456, true);
	assert_true(rollup_percentile(&a, 0.5) == 123.456);
	assert_true(rollup_percentile(&a, 0.95) == 123.456);
	/* Two points: the low one is the minimum, so its bucket starts there;
	 * the high one is the maximum, so its bucket ends there. */
	rollup_agg_init(&a);
	for (int i = 0; i < 1000; i++)
		rollup_agg_add(&a, i % 20 == 0 ? 9000000 : 42000, true);
	assert_true(rollup_percentile(&a, 0.01) >= 42.0 && rollup_percentile(&a, 0.01) < 42.5);
	assert_true(rollup_percentile(&a, 0.50) >= 42.0 && rollup_percentile(&a, 0.50) < 50.0);
	assert_true(rollup_percentile(&a, 0.99) >= 5000.0 && rollup_percentile(&a, 0.99) <= 9000.0);
	assert_true(rollup_percentile(&a, 1.0) == 9000.0);

	/* merge = adding the samples one by one */
	{
		struct rollup_agg x, y, z;

		rollup_agg_init(&x);
		rollup_agg_init(&y);
		rollup_agg_init(&z);
		for (int i = 0; i < 300; i++) {
			rollup_agg_add(i < 100 ? &x : &y, i * 777, i % 3 != 0);
			rollup_agg_add(&z, i * 777, i % 3 != 0);
		}
		rollup_agg_merge(&x, &y);
		rollup_agg_merge(&x, &empty);
		assert_memory_equal(&x, &z, sizeof(x));
	}
}

/* The plan covers [since, +inf) without gap or overlap, in order, and uses
 * days / hours only where they are derived. */
static void test_plan(void **state)
{
	const int64_t now = INT64_C(1767225600) * US + 12 * HOUR_US + 34 * MIN_US + 56 * US; /* 2026-01-01 12:34:56 */
	const int64_t spans[] = { 30 * US, 59 * MIN_US, HOUR_US, 90 * MIN_US, DAY_US, 47 * HOUR_US,
	                          7 * DAY_US, 30 * DAY_US, 90 * DAY_US };
	const int64_t lags[] = { 0, 1, 2 * HOUR_US, 3 * DAY_US };       /* marks behind now */

	for (size_t i = 0; i < sizeof(spans) / sizeof(spans[0]); i++) {
		for (size_t j = 0; j < sizeof(lags) / sizeof(lags[0]); j++) {
			for (int raw = 0; raw < 2; raw++) {
				struct rollup_part p[ROLLUP_PARTS_MAX];
				int64_t since = now - spans[i] + 17 * US;
				int64_t hd = ((now - 150 * US - lags[j]) / HOUR_US) * 3600;
				int64_t dd = (hd / 86400) * 86400;
				size_t n = rollup_plan(since, now, hd, dd, raw != 0, p);
				int64_t at = 0;     /* covered up to, in seconds */

				assert_true(n >= 1 && n <= ROLLUP_PARTS_MAX);
				for (size_t k = 0; k < n; k++) {
					int64_t lo = p[k].src == ROLLUP_RAW ? p[k].lo : p[k].lo * US;
					int64_t hi = p[k].src == ROLLUP_RAW ? p[k].hi : (p[k].hi == INT64_MAX ? INT64_MAX : p[k].hi * US);

					assert_true(lo < hi);
					if (k == 0 && raw)
						assert_int_equal(lo, since);
					if (k > 0)
						assert_true(lo == at);  /* contiguous */
					if (p[k].src == ROLLUP_HOUR) {
						assert_int_equal(p[k].lo % 3600, 0);
						assert_true(p[k].hi <= hd);
					}
					if (p[k].src == ROLLUP_DAY) {
						assert_int_equal(p[k].lo % 86400, 0);
						assert_true(p[k].hi <= dd);
					}
					if (p[k].src == ROLLUP_MINUTE && p[k].hi != INT64_MAX)
						assert_int_equal(p[k].hi % 60, 0);
					at = hi;
				}
				assert_true(at == INT64_MAX);
				assert_int_equal(p[n - 1].src, ROLLUP_MINUTE);
				/* A long window starts with raw (per check) or at an hour. */
				if (spans[i] >= 7 * DAY_US && lags[j] < DAY_US) {
					assert_int_equal(p[0].src, raw ? ROLLUP_RAW : ROLLUP_HOUR);
					assert_true(n >= 4);   /* hours, days, hours, minutes */
				}
			}
		}
	}
}

/* --- a simulated database ------------------------------------------------------ */

#define N_CHECKS 3
static const char *const names[N_CHECKS] = { "api", "db", "web" };
static const int64_t T0 = INT64_C(1767225600) * US;        /* 2026-01-01 00:00 UTC */
#define SIM_DAYS 5
#define SIM_END (T0 + SIM_DAYS * DAY_US + 7 * HOUR_US + 13 * MIN_US + 5 * US)

static sqlite3 *open_db(const char *file)
{
	char path[160], err[256] = "";
	struct store *s;
	sqlite3 *db = NULL;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, file);
	s = store_open(path, err, sizeof(err));     /* creates and migrates */
	assert_non_null(s);
	store_close(s);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	return db;
}

static void exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", sql, msg);
}

static int64_t q64(sqlite3 *db, const char *sql, int64_t a, const char *check)
{
	sqlite3_stmt *st = NULL;
	int64_t v = -1;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_bind_parameter_count(st) >= 1)
		sqlite3_bind_int64(st, 1, a);
	if (sqlite3_bind_parameter_count(st) >= 2)
		sqlite3_bind_text(st, 2, check, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* Writes 5 days of results as the writer would: batches every 10 simulated
 * minutes, each committed with "now" at the batch's end, plus late results
 * (started hours before their batch) so derived buckets get updates. */
static void simulate(sqlite3 *db, struct rollup_writer *w)
{
	sqlite3_stmt *ins = NULL;
	int64_t t = T0 - 10 * MIN_US;
	char err[256];

	assert_int_equal(sqlite3_prepare_v2(db,
		"INSERT INTO results (check_name, ts_us, duration_us, ok, error, message, attempts, run_id)"
		" VALUES (?1, ?2, ?3, ?4, '', '', 1, 'r')", -1, &ins, NULL), SQLITE_OK);
	while (t < SIM_END) {
		int64_t end = t + 10 * MIN_US;

		if (end > SIM_END)
			end = SIM_END;
		exec(db, "BEGIN IMMEDIATE");
		rollup_writer_begin(w);
		for (int c = 0; c < N_CHECKS; c++) {
			int64_t step = (c + 1) * 97 * US;      /* 97 s, 194 s, 291 s */

			for (int64_t ts = t - t % step + step; ts < end; ts += step) {
				int64_t late = (xorshift() % 50 == 0) ? (int64_t)(xorshift() % 5) * HOUR_US : 0;
				int64_t d = (int64_t)(xorshift() % 3000000) + 200;
				bool ok = xorshift() % 7 != 0;

				sqlite3_reset(ins);
				sqlite3_bind_text(ins, 1, names[c], -1, SQLITE_STATIC);
				sqlite3_bind_int64(ins, 2, ts - late);
				sqlite3_bind_int64(ins, 3, d);
				sqlite3_bind_int(ins, 4, ok);
				assert_int_equal(sqlite3_step(ins), SQLITE_DONE);
				rollup_writer_add(w, names[c], ts - late, d, ok);
			}
		}
		if (rollup_writer_commit(w, db, end, err, sizeof(err)) != 0)
			fail_msg("commit: %s", err);
		exec(db, "COMMIT");
		t = end;
	}
	sqlite3_finalize(ins);
}

/* The exact aggregate of check's raw rows with ts >= since_us. */
static void raw_agg(sqlite3 *db, const char *check, int64_t since_us, struct rollup_agg *a)
{
	sqlite3_stmt *st = NULL;

	rollup_agg_init(a);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT duration_us, ok FROM results"
	                                    " WHERE check_name = ?1 AND ts_us >= ?2", -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_text(st, 1, check, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, since_us);
	while (sqlite3_step(st) == SQLITE_ROW)
		rollup_agg_add(a, sqlite3_column_int64(st, 0), sqlite3_column_int(st, 1) != 0);
	sqlite3_finalize(st);
}

struct all_seen {
	struct rollup_row agg[N_CHECKS];
	int calls;
};

static void on_all(void *arg, const struct rollup_row *a)
{
	struct all_seen *s = arg;

	for (int c = 0; c < N_CHECKS; c++)
		if (strcmp(names[c], a->check) == 0)
			s->agg[c] = *a;
	s->calls++;
}

struct day_seen {
	int64_t runs[N_CHECKS][16], ok[N_CHECKS][16], first_day;
};

static void on_day(void *arg, const char *check, int64_t day, int64_t runs, int64_t ok)
{
	struct day_seen *s = arg;

	for (int c = 0; c < N_CHECKS; c++) {
		if (strcmp(names[c], check) != 0)
			continue;
		assert_true(day >= s->first_day && day < s->first_day + 16);
		s->runs[c][day - s->first_day] += runs;
		s->ok[c][day - s->first_day] += ok;
	}
}

static int64_t series_runs;

static void on_point(void *arg, int64_t t_us, int64_t runs, int64_t failures, double p50, double p95)
{
	series_runs += runs;
	assert_true(runs > 0 ? (p50 > 0 && p95 >= p50) : (p50 == -1 && p95 == -1));
}

/* Windows ending now and starting anywhere (on and off minute, hour and day
 * boundaries) read through every level agree with the raw rows. */
static void test_windows(void **state)
{
	sqlite3 *db = open_db("windows.db");
	struct rollup_writer *w = rollup_writer_new();
	const int64_t now = SIM_END;
	int64_t hd, dd;

	simulate(db, w);
	hd = q64(db, "SELECT value FROM rollup_meta WHERE name = 'hour_done_s'", 0, NULL);
	dd = q64(db, "SELECT value FROM rollup_meta WHERE name = 'day_done_s'", 0, NULL);
	assert_int_equal(hd, (SIM_END / US - 120) / 3600 * 3600);
	assert_int_equal(dd, (T0 + SIM_DAYS * DAY_US) / US);
	/* Every level holds the same totals over what it covers. */
	assert_int_equal(q64(db, "SELECT sum(count) FROM rollup_minute WHERE bucket_start_s < ?1", hd, NULL),
	                 q64(db, "SELECT sum(count) FROM rollup_hour", 0, NULL));
	assert_int_equal(q64(db, "SELECT sum(count) FROM rollup_hour WHERE bucket_start_s < ?1", dd, NULL),
	                 q64(db, "SELECT sum(count) FROM rollup_day", 0, NULL));
	assert_int_equal(q64(db, "SELECT sum(h0+h1+h2+h3+h4+h5+h6+h7+h8+h9+h10+h11+h12+h13+h14+h15 - count)"
	                         " FROM rollup_hour", 0, NULL), 0);

	for (int k = 0; k < 400; k++) {
		int64_t since;

		switch (k % 4) {
		case 0: since = now - (int64_t)(xorshift() % (uint64_t)(SIM_DAYS * DAY_US + DAY_US)); break;
		case 1: since = T0 + (int64_t)(xorshift() % (SIM_DAYS + 1)) * DAY_US; break;
		case 2: since = T0 + (int64_t)(xorshift() % (SIM_DAYS * 24 + 7)) * HOUR_US; break;
		default: since = now - (int64_t)(xorshift() % 3000) * MIN_US + (k % 3 - 1) * US; break;
		}
		for (int c = 0; c < N_CHECKS; c++) {
			struct rollup_agg got, want;

			assert_int_equal(rollup_read_window(db, names[c], since, now, &got), 0);
			raw_agg(db, names[c], since, &want);
			/* The start edge comes from raw rows: exact, to the microsecond. */
			assert_int_equal(got.count, want.count);
			assert_int_equal(got.failures, want.failures);
			assert_int_equal(got.latency_sum_us, want.latency_sum_us);
			if (want.count > 0) {
				assert_int_equal(got.latency_min_us, want.latency_min_us);
				assert_int_equal(got.latency_max_us, want.latency_max_us);
			}
			assert_memory_equal(got.hist, want.hist, sizeof(got.hist));
		}
		if (k % 8 == 0) {
			/* Every check at once: the edge from minutes (whole minutes),
			 * or from the next hour for windows over ~2 days. */
			struct all_seen seen;
			int64_t edge = now - since <= (ROLLUP_MINUTE_KEEP_S - 7200) * US
			               ? (since + MIN_US - 1) / MIN_US * MIN_US
			               : (since + HOUR_US - 1) / HOUR_US * HOUR_US;

			memset(&seen, 0, sizeof(seen));
			assert_int_equal(rollup_read_window_all(db, since, now, on_all, &seen), 0);
			for (int c = 0; c < N_CHECKS; c++) {
				struct rollup_agg want;

				raw_agg(db, names[c], edge, &want);
				assert_int_equal(seen.agg[c].count, want.count);
				assert_int_equal(seen.agg[c].failures, want.failures);
			}
		}
	}

	/* Days: per check and all checks, against GROUP BY day on raw rows. */
	for (int all = 0; all < 2; all++) {
		struct day_seen seen;
		int64_t since = T0 + 2 * DAY_US + 5 * HOUR_US;

		memset(&seen, 0, sizeof(seen));
		seen.first_day = T0 / DAY_US;
		if (all)
			assert_int_equal(rollup_read_days(db, NULL, since, now, on_day, &seen), 0);
		else
			for (int c = 0; c < N_CHECKS; c++)
				assert_int_equal(rollup_read_days(db, names[c], since, now, on_day, &seen), 0);
		for (int c = 0; c < N_CHECKS; c++) {
			for (int d = 0; d < 16; d++) {
				int64_t day = seen.first_day + d;
				int64_t want = day < since / DAY_US ? 0 :
					q64(db, "SELECT count(*) FROM results WHERE ts_us / 86400000000 = ?1"
					        " AND check_name = ?2", day, names[c]);

				assert_int_equal(seen.runs[c][d], want);
			}
		}
	}

	/* A latency series: the points hold every run of the range. */
	series_runs = 0;
	assert_int_equal(rollup_read_series(db, "web", now - 7 * DAY_US, now, 3600, on_point, NULL), 0);
	assert_int_equal(series_runs, q64(db, "SELECT count(*) FROM results WHERE check_name = ?2"
	                                      " AND ts_us >= ?1", (now - 7 * DAY_US) / HOUR_US * HOUR_US, "web"));
	series_runs = 0;
	assert_int_equal(rollup_read_series(db, "api", now - DAY_US, now, 300, on_point, NULL), 0);
	assert_int_equal(series_runs, q64(db, "SELECT count(*) FROM results WHERE check_name = ?2"
	                                      " AND ts_us >= ?1", (now - DAY_US) / (300 * US) * 300 * US, "api"));

	rollup_writer_free(w);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
}

/* Raw results older than the raw retention go first and the rollups keep
 * answering; then rollups past their own retention go. */
static void test_retention(void **state)
{
	sqlite3 *db = open_db("retention.db");
	struct rollup_writer *w = rollup_writer_new();
	const int64_t now = SIM_END;
	struct all_seen before, after;
	int64_t total, since = now - 3 * DAY_US;

	simulate(db, w);
	total = q64(db, "SELECT count(*) FROM results", 0, NULL);
	/* Many minutes per check: more than one prune batch (2,000 rows) each. */
	assert_true(q64(db, "SELECT count(*) FROM rollup_minute WHERE check_name = 'api'", 0, NULL) > 2000);
	memset(&before, 0, sizeof(before));
	assert_int_equal(rollup_read_window_all(db, since, now, on_all, &before), 0);

	rollup_writer_set_retention(w, 36 * 3600 * 1000ull, 4 * 86400 * 1000ull);
	assert_int_equal(rollup_writer_prune_now(w, db, now), 0);
	assert_int_equal(q64(db, "SELECT count(*) FROM results WHERE ts_us < ?1", now - 36 * HOUR_US, NULL), 0);
	assert_true(q64(db, "SELECT count(*) FROM results", 0, NULL) > 0);
	assert_true(q64(db, "SELECT count(*) FROM results", 0, NULL) < total);
	/* minutes: 48 h; hours and days: 4 days (whole buckets older than that) */
	assert_int_equal(q64(db, "SELECT count(*) FROM rollup_minute WHERE bucket_start_s < ?1",
	                     now / US - 48 * 3600 - 60, NULL), 0);
	assert_true(q64(db, "SELECT count(*) FROM rollup_minute", 0, NULL) > 0);
	assert_int_equal(q64(db, "SELECT count(*) FROM rollup_hour WHERE bucket_start_s < ?1",
	                     now / US - 4 * 86400 - 3600, NULL), 0);
	assert_true(q64(db, "SELECT count(*) FROM rollup_hour WHERE bucket_start_s < ?1",
	                now / US - 3 * 86400, NULL) > 0);
	assert_int_equal(q64(db, "SELECT count(*) FROM rollup_day WHERE bucket_start_s < ?1",
	                     now / US - 5 * 86400, NULL), 0);

	/* The 3-day window no longer has raw rows at its start: same answer. */
	rollup_cache_clear();
	memset(&after, 0, sizeof(after));
	assert_int_equal(rollup_read_window_all(db, since, now, on_all, &after), 0);
	for (int c = 0; c < N_CHECKS; c++) {
		assert_int_equal(after.agg[c].count, before.agg[c].count);
		assert_int_equal(after.agg[c].failures, before.agg[c].failures);
	}

	/* Shorter rollup retention: the old hours and days go too. */
	rollup_writer_set_retention(w, 36 * 3600 * 1000ull, 86400 * 1000ull);
	assert_int_equal(rollup_writer_prune_now(w, db, now), 0);
	assert_int_equal(q64(db, "SELECT count(*) FROM rollup_hour WHERE bucket_start_s < ?1",
	                     now / US - 86400 - 3600, NULL), 0);
	assert_int_equal(q64(db, "SELECT count(*) FROM rollup_day WHERE bucket_start_s < ?1",
	                     now / US - 2 * 86400, NULL), 0);
	assert_int_equal(q64(db, "SELECT count(*) FROM rollup_minute WHERE bucket_start_s < ?1",
	                     now / US - 86400 - 60, NULL), 0);
	/* A pass with nothing to delete is harmless. */
	assert_int_equal(rollup_writer_prune_now(w, db, now), 0);

	rollup_writer_free(w);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
}

static int summaries;

static void on_summary(void *arg, const struct store_summary *sm)
{
	summaries++;
	assert_int_equal(sm->runs, 50);
	if (strcmp(sm->check, "even") == 0) {
		assert_int_equal(sm->ok, 25);
		assert_true(sm->uptime_pct == 50.0);
	} else {
		assert_string_equal(sm->check, "odd");
		assert_true(sm->uptime_pct == 100.0);
	}
	assert_true(sm->p50_ms == 20.0 && sm->p95_ms == 20.0 && sm->avg_ms == 20.0);
}

/* Through the store: results appended now are visible in the rollups after a
 * flush, from the per-check and the all-checks reads alike; the migration
 * backfills minutes from results written before it. */
static void test_store_path(void **state)
{
	char path[160], err[256] = "";
	struct store *s;
	struct store_reader *r;
	struct probe_result pr;
	int64_t now = util_wall_us();
	double p50 = 0, p95 = 0;

	snprintf(path, sizeof(path), "%s/store.db", tmpdir);
	s = store_open(path, err, sizeof(err));
	assert_non_null(s);
	store_set_retention(s, 14 * 86400 * 1000ull, 400 * 86400 * 1000ull);
	for (int i = 0; i < 100; i++) {
		memset(&pr, 0, sizeof(pr));
		pr.start_us = now - (100 - i) * US;
		pr.duration_us = 20000;
		pr.ok = i % 4 != 0;
		pr.dns_us = pr.connect_us = pr.tls_us = pr.ttfb_us = -1;
		pr.status_code = -1;
		pr.bytes = -1;
		pr.attempts = 1;
		store_append(s, i % 2 ? "odd" : "even", &pr);
	}
	store_flush(s);
	r = store_reader_open(path, err, sizeof(err));
	assert_non_null(r);
	assert_true(store_uptime(r, "even", now - HOUR_US) == 50.0);
	assert_true(store_uptime(r, "odd", now - HOUR_US) == 100.0);
	assert_int_equal(store_latency(r, "odd", now - HOUR_US, &p50, &p95), 0);
	assert_true(p50 == 20.0 && p95 == 20.0);
	summaries = 0;
	assert_int_equal(store_summary_all(r, now - HOUR_US, on_summary, NULL), 0);
	assert_int_equal(summaries, 2);
	store_reader_close(r);
	store_close(s);

	/* Backfill: a database at version 2 with results gets minute rollups. */
	{
		sqlite3 *db = NULL;

		assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
		exec(db, "DROP TABLE rollup_minute; DROP TABLE rollup_hour; DROP TABLE rollup_day;"
		         " DROP TABLE rollup_meta; ALTER TABLE results DROP COLUMN location;"
		         " PRAGMA user_version = 2");
		sqlite3_close(db);
		s = store_open(path, err, sizeof(err));
		assert_non_null(s);
		store_close(s);
		assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
		assert_int_equal(q64(db, "SELECT sum(count) FROM rollup_minute", 0, NULL), 100);
		assert_int_equal(q64(db, "SELECT sum(failures) FROM rollup_minute", 0, NULL), 25);
		assert_int_equal(q64(db, "SELECT sum(h5) FROM rollup_minute", 0, NULL), 100);   /* 20 ms */
		sqlite3_close(db);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buckets),
		cmocka_unit_test(test_percentiles),
		cmocka_unit_test(test_plan),
		cmocka_unit_test_setup_teardown(test_windows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retention, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_path, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

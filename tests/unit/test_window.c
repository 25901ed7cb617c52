/* test_window.c — the per-check result ring: capacity, wrap-around, resizing,
 * error rate, average and nearest-rank percentiles over time windows. */
#include "unit.h"
#include "alerts/window.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NOW 1700000000000LL

static void test_capacity_for(void **state)
{
	assert_int_equal(window_capacity_for(0, 30000), 0);
	/* 5m every 30s: 10 runs, plus slack */
	assert_int_equal(window_capacity_for(300000, 30000), 10 + 1 + 8);
	/* not a multiple: rounded up */
	assert_int_equal(window_capacity_for(100000, 30000), 4 + 0 + 8);
	/* 30d every second: capped */
	assert_int_equal(window_capacity_for(30ULL * 86400000, 1000), WINDOW_MAX_CAPACITY);
	assert_int_equal(window_capacity_for(UINT64_MAX, 1), WINDOW_MAX_CAPACITY);
	/* interval 0 is taken as 1s */
	assert_int_equal(window_capacity_for(10000, 0), 10 + 1 + 8);
}

static void test_empty(void **state)
{
	struct window *w = window_new(8);

	assert_int_equal(window_count(w), 0);
	assert_int_equal(window_capacity(w), 8);
	assert_true(isnan(window_error_rate(w, NOW, 60000)));
	assert_true(isnan(window_avg_latency(w, NOW, 60000)));
	assert_true(isnan(window_percentile(w, NOW, 60000, 95)));
	assert_int_equal(window_runs(w, NOW, 60000), 0);
	window_free(w);

	/* capacity 0 keeps nothing and is safe */
	w = window_new(0);
	window_add(w, NOW, 10, true);
	assert_int_equal(window_count(w), 0);
	assert_true(isnan(window_percentile(w, NOW, 60000, 50)));
	window_resize(w, 4);
	window_add(w, NOW, 10, true);
	assert_int_equal(window_count(w), 1);
	window_resize(w, 0);
	assert_int_equal(window_count(w), 0);
	window_free(w);
	window_free(NULL);

	w = window_new(WINDOW_MAX_CAPACITY + 5);
	assert_int_equal(window_capacity(w), WINDOW_MAX_CAPACITY);
	window_free(w);
}

static void test_wrap_around(void **state)
{
	struct window *w = window_new(5);

	/* 12 runs, one a second, durations 1..12; the ring keeps 8..12 */
	for (int i = 1; i <= 12; i++)
		window_add(w, NOW - 12000 + i * 1000, i, i != 9);
	assert_int_equal(window_count(w), 5);
	assert_int_equal(window_runs(w, NOW, 1000000), 5);
	assert_true(window_avg_latency(w, NOW, 1000000) == 10.0);
	assert_true(window_percentile(w, NOW, 1000000, 100) == 12.0);
	assert_true(window_percentile(w, NOW, 1000000, 1) == 8.0);
	assert_true(window_error_rate(w, NOW, 1000000) == 20.0);
	/* a window that ends inside the ring: [NOW-2000, NOW] holds 10, 11, 12 */
	assert_int_equal(window_runs(w, NOW, 2000), 3);
	assert_true(window_avg_latency(w, NOW, 2000) == 11.0);
	assert_true(window_error_rate(w, NOW, 2000) == 0.0);
	/* a window in the past: now - 3 s, span 1 s holds 8 and 9 */
	assert_int_equal(window_runs(w, NOW - 3000, 1000), 2);
	assert_true(window_error_rate(w, NOW - 3000, 1000) == 50.0);
	/* runs newer than now (clock stepped back) are skipped */
	assert_int_equal(window_runs(w, NOW - 1000, 1000000), 4);
	window_clear(w);
	assert_int_equal(window_count(w), 0);
	assert_true(isnan(window_error_rate(w, NOW, 1000000)));
	window_free(w);
}

static void test_resize_keeps_newest(void **state)
{
	struct window *w = window_new(4);

	for (int i = 1; i <= 6; i++)       /* ring holds 3..6, wrapped */
		window_add(w, NOW + i, i, true);
	window_resize(w, 10);
	assert_int_equal(window_capacity(w), 10);
	assert_int_equal(window_count(w), 4);
	assert_true(window_percentile(w, NOW + 100, 1000, 1) == 3.0);
	for (int i = 7; i <= 9; i++)
		window_add(w, NOW + i, i, true);
	assert_int_equal(window_count(w), 7);
	assert_true(window_avg_latency(w, NOW + 100, 1000) == 6.0);

	window_resize(w, 2);                /* keeps 8, 9 */
	assert_int_equal(window_count(w), 2);
	assert_true(window_percentile(w, NOW + 100, 1000, 1) == 8.0);
	assert_true(window_percentile(w, NOW + 100, 1000, 100) == 9.0);
	window_add(w, NOW + 10, 10, false);  /* keeps 9, 10 */
	assert_true(window_avg_latency(w, NOW + 100, 1000) == 9.5);
	assert_true(window_error_rate(w, NOW + 100, 1000) == 50.0);
	window_resize(w, 2);                /* same size: nothing changes */
	assert_int_equal(window_count(w), 2);
	window_free(w);
}

/* Fisher-Yates with a fixed seed, so the percentile tests see an order that
 * is neither sorted nor reversed. */
static void shuffle(int *v, int n, unsigned *seed)
{
	for (int i = n - 1; i > 0; i--) {
		int j = (int)(rand_r(seed) % (unsigned)(i + 1)), t = v[i];
		v[i] = v[j];
		v[j] = t;
	}
}

static void test_percentiles(void **state)
{
	struct window *w = window_new(1000);
	int v[1000];
	unsigned seed = 42;

	/* 1..20 in random order: nearest rank */
	for (int i = 0; i < 20; i++)
		v[i] = i + 1;
	shuffle(v, 20, &seed);
	for (int i = 0; i < 20; i++)
		window_add(w, NOW - 20 + i, v[i], true);
	assert_true(window_percentile(w, NOW, 60000, 50) == 10.0);
	assert_true(window_percentile(w, NOW, 60000, 90) == 18.0);
	assert_true(window_percentile(w, NOW, 60000, 95) == 19.0);   /* exactly rank 19 */
	assert_true(window_percentile(w, NOW, 60000, 99) == 20.0);
	assert_true(window_percentile(w, NOW, 60000, 100) == 20.0);
	assert_true(window_percentile(w, NOW, 60000, 0) == 1.0);     /* taken as 1 */
	assert_true(window_avg_latency(w, NOW, 60000) == 10.5);

	/* one run: every percentile is that run */
	window_clear(w);
	window_add(w, NOW, 812, false);
	assert_true(window_percentile(w, NOW, 60000, 50) == 812.0);
	assert_true(window_percentile(w, NOW, 60000, 99) == 812.0);

	/* many duplicates, sorted, reversed, shuffled: same answers */
	for (int pass = 0; pass < 4; pass++) {
		window_clear(w);
		for (int i = 0; i < 1000; i++)
			v[i] = pass == 0 ? 7 : pass == 1 ? i + 1 : pass == 2 ? 1000 - i : i + 1;
		if (pass == 3)
			shuffle(v, 1000, &seed);
		for (int i = 0; i < 1000; i++)
			window_add(w, NOW - 1000 + i, v[i], true);
		if (pass == 0) {
			assert_true(window_percentile(w, NOW, 60000, 50) == 7.0);
			assert_true(window_percentile(w, NOW, 60000, 99) == 7.0);
			continue;
		}
		assert_true(window_percentile(w, NOW, 60000, 50) == 500.0);
		assert_true(window_percentile(w, NOW, 60000, 90) == 900.0);
		assert_true(window_percentile(w, NOW, 60000, 95) == 950.0);
		assert_true(window_percentile(w, NOW, 60000, 99) == 990.0);
		/* only the newest 100 runs are in a 99 ms window */
		assert_int_equal(window_runs(w, NOW - 1, 99), 100);
	}

	/* fractional durations, and runs without one are left out */
	window_clear(w);
	window_add(w, NOW - 3, 0.25, true);
	window_add(w, NOW - 2, NAN, false);
	window_add(w, NOW - 1, -1, false);
	window_add(w, NOW, 0.75, true);
	assert_true(window_percentile(w, NOW, 60000, 50) == 0.25);
	assert_true(window_avg_latency(w, NOW, 60000) == 0.5);
	assert_true(window_error_rate(w, NOW, 60000) == 50.0);
	window_free(w);
}

/* Checks window_percentile against a sort on random data, many sizes. */
static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void test_percentiles_random(void **state)
{
	static const unsigned pcts[] = { 1, 50, 90, 95, 99, 100 };
	struct window *w = window_new(500);
	double sorted[500];
	unsigned seed = 7;

	for (int round = 0; round < 200; round++) {
		int n = 1 + (int)(rand_r(&seed) % 500);
		window_clear(w);
		for (int i = 0; i < n; i++) {
			/* few distinct values half the time: many ties */
			double d = (double)(rand_r(&seed) % (round % 2 ? 5 : 100000)) / 4;
			window_add(w, NOW - n + i, d, true);
			sorted[i] = (float)d;
		}
		qsort(sorted, (size_t)n, sizeof(sorted[0]), cmp_double);
		for (size_t k = 0; k < sizeof(pcts) / sizeof(pcts[0]); k++) {
			size_t rank = (pcts[k] * (size_t)n + 99) / 100;
			assert_true(window_percentile(w, NOW, 60000, pcts[k]) == sorted[rank - 1]);
		}
	}
	window_free(w);
}

static void test_extreme_times(void **state)
{
	struct window *w = window_new(4);

	window_add(w, INT64_MIN + 5, 1, true);
	window_add(w, 0, 2, false);
	window_add(w, INT64_MAX, 3, true);
	/* huge spans and extreme nows neither overflow nor misbehave */
	assert_int_equal(window_runs(w, INT64_MAX, UINT64_MAX), 3);
	assert_int_equal(window_runs(w, INT64_MIN + 10, 10), 1);
	assert_int_equal(window_runs(w, 0, 0), 1);
	assert_true(window_error_rate(w, 0, 0) == 100.0);
	window_free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_capacity_for),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_wrap_around),
		cmocka_unit_test(test_resize_keeps_newest),
		cmocka_unit_test(test_percentiles),
		cmocka_unit_test(test_percentiles_random),
		cmocka_unit_test(test_extreme_times),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_sched.c — fixed-rate schedule arithmetic: spread, no drift, skipping,
 * and lag percentiles. */
#include <string.h>

#include "unit.h"
#include "sched.h"
#include "core/util.h"

/* The first run lies inside the interval and depends only on the name. */
static void test_first_due_stable_and_inside_interval(void **state)
{
	uint64_t a = sched_first_due(1000, 30000, "payments-api");
	uint64_t b = sched_first_due(1000, 30000, "payments-api");

	assert_int_equal(a, b);
	assert_true(a >= 1000 && a < 1000 + 30000);
	assert_int_equal(sched_first_due(5000, 0, "x"), 5000);
}

/* 10,000 checks with one interval spread evenly: no 1% slice of the interval
 * holds more than twice its share. */
static void test_first_due_spreads_checks(void **state)
{
	enum { N = 10000, SLICES = 100 };
	uint64_t interval = 10000;
	int counts[SLICES] = {0};
	char name[32];

	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "check-%d", i);
		uint64_t due = sched_first_due(0, interval, name);
		counts[due * SLICES / interval]++;
	}
	for (int s = 0; s < SLICES; s++)
		assert_true(counts[s] < 2 * N / SLICES);
}

/* Each due time is the previous plus the interval, however late the run
 * started: after 1000 ticks the schedule has not moved. */
static void test_next_due_does_not_drift(void **state)
{
	uint64_t due = 7, skipped = 99;

	for (int i = 0; i < 1000; i++) {
		uint64_t started = due + (uint64_t)(i % 7) * 3;    /* runs start a little late */
		due = sched_next_due(due, 1000, started, &skipped);
		assert_int_equal(skipped, 0);
	}
	assert_int_equal(due, 7 + 1000 * 1000);
}

/* A stalled loop skips the ticks whose whole interval passed, and stays on
 * the original grid. */
static void test_next_due_skips_missed_ticks(void **state)
{
	uint64_t skipped = 0;
	uint64_t next = sched_next_due(0, 1000, 5500, &skipped);

	assert_int_equal(next % 1000, 0);
	assert_true(next > 5500 - 1000);
	assert_int_equal(skipped, 4);
	assert_int_equal(next, 5000);
}

static void test_lag_percentile(void **state)
{
	uint64_t b[SCHED_LAG_BUCKETS] = {0};

	assert_true(sched_lag_percentile(b, 0.99) == 0);
	b[1] = 99;          /* 0.5-1 ms */
	b[7] = 1;           /* 50-100 ms */
	double p50 = sched_lag_percentile(b, 0.5);
	double p99 = sched_lag_percentile(b, 0.99);
	double p999 = sched_lag_percentile(b, 0.999);
	assert_true(p50 >= 0.5 && p50 <= 1.0);
	assert_true(p99 >= 0.5 && p99 <= 1.0);
	assert_true(p999 > 50 && p999 <= 100);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_due_stable_and_inside_interval),
		cmocka_unit_test(test_first_due_spreads_checks),
		cmocka_unit_test(test_next_due_does_not_drift),
		cmocka_unit_test(test_next_due_skips_missed_ticks),
		cmocka_unit_test(test_lag_percentile),
	};
	return cmocka_run_group_tests_name("sched", tests, NULL, NULL);
}

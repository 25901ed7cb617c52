/* test_admit.c — admission of check runs: the in-flight limit, the queue of
 * waiting runs, skip accounting and how the limit follows the loop. */
#include <string.h>

#include "unit.h"
#include "admit.h"

/* Runs start while slots are free; the rest must wait; a release frees one. */
static void test_limit_bounds_runs_in_flight(void **state)
{
	struct admit a;

	admit_init(&a, 0, 0);
	a.limit = 3;
	assert_true(admit_try(&a));
	assert_true(admit_try(&a));
	assert_true(admit_try(&a));
	assert_false(admit_try(&a));
	assert_int_equal(a.inflight, 3);
	admit_release(&a);
	assert_true(admit_try(&a));
	assert_int_equal(a.skipped, 0);
}

/* Waiting runs start oldest first as slots free; one whose deadline passed
 * while it waited is skipped and counted, never started late. */
static void test_queue_fifo_and_deadline_skip(void **state)
{
	struct admit a;
	struct admit_item it[3];

	memset(it, 0, sizeof(it));
	admit_init(&a, 0, 0);
	a.limit = 1;
	assert_true(admit_try(&a));
	assert_false(admit_try(&a));
	assert_true(admit_enqueue(&a, &it[0], 100, 150, 100));
	assert_true(admit_enqueue(&a, &it[1], 110, 500, 110));
	assert_true(admit_enqueue(&a, &it[2], 120, 600, 120));
	assert_int_equal(a.queued, 3);
	/* Someone waits: a new run may not jump the queue even with a free slot. */
	admit_release(&a);
	assert_false(admit_try(&a));
	/* At 200 the first has waited past its deadline: skipped; the second starts. */
	assert_ptr_equal(admit_next(&a, 200), &it[1]);
	assert_int_equal(a.skipped, 1);
	assert_false(it[0].queued);
	assert_null(admit_next(&a, 200));          /* no slot free */
	admit_release(&a);
	assert_ptr_equal(admit_next(&a, 300), &it[2]);
	assert_int_equal(a.queued, 0);
	assert_int_equal(a.skipped, 1);
}

/* A run whose deadline is already past is skipped at once; a queued run
 * whose next tick comes first is skipped; a cancelled one is not counted. */
static void test_skip_accounting(void **state)
{
	struct admit a;
	struct admit_item x, y;

	memset(&x, 0, sizeof(x));
	memset(&y, 0, sizeof(y));
	admit_init(&a, 0, 0);
	assert_false(admit_enqueue(&a, &x, 1000, 1000, 1001));
	assert_int_equal(a.skipped, 1);
	assert_false(x.queued);
	assert_true(admit_enqueue(&a, &x, 2000, 2500, 2000));
	assert_true(admit_enqueue(&a, &y, 2000, 2500, 2000));
	admit_skip(&a, &x, 3000);
	assert_int_equal(a.skipped, 2);
	admit_cancel(&a, &y);
	assert_int_equal(a.skipped, 2);
	assert_int_equal(a.queued, 0);
	admit_skip(&a, &y, 3000);                  /* not queued: nothing to count */
	assert_int_equal(a.skipped, 2);
	admit_count_skipped(&a, 5, 3000);
	assert_int_equal(a.skipped, 7);
}

/* "Overloaded" holds for a while after the last skip, then clears. */
static void test_overloaded_window(void **state)
{
	struct admit a;

	admit_init(&a, 0, 0);
	assert_false(admit_overloaded(&a, 10));
	admit_count_skipped(&a, 1, 10000);
	assert_true(admit_overloaded(&a, 10000));
	assert_true(admit_overloaded(&a, 10000 + ADMIT_OVERLOAD_HOLD_MS - 1));
	assert_false(admit_overloaded(&a, 10000 + ADMIT_OVERLOAD_HOLD_MS));
}

/* A saturated loop lets fewer runs in, down to the floor; a loop with room
 * lets more in only when runs had to wait; mid-window nothing changes. */
static void test_limit_follows_the_loop(void **state)
{
	struct admit a;
	struct admit_item it;
	uint64_t t = 0, busy = 0;
	size_t before;

	memset(&it, 0, sizeof(it));
	admit_init(&a, t, busy);
	a.limit = 800;
	a.inflight = 800;
	/* mid-window: no change */
	admit_adjust(&a, t + ADMIT_WINDOW_MS - 1, busy + 1000 * (ADMIT_WINDOW_MS - 1));
	assert_int_equal(a.limit, 800);
	/* a loop busy the whole window: an eighth less */
	t += ADMIT_WINDOW_MS;
	busy += 1000 * ADMIT_WINDOW_MS;
	admit_adjust(&a, t, busy);
	assert_int_equal(a.limit, 700);
	for (int i = 0; i < 100; i++) {
		t += ADMIT_WINDOW_MS;
		busy += 1000 * ADMIT_WINDOW_MS;
		a.inflight = a.limit;
		admit_adjust(&a, t, busy);
	}
	assert_int_equal(a.limit, ADMIT_LIMIT_MIN);
	/* idle loop, nobody waiting: the limit stays */
	a.inflight = 0;
	t += ADMIT_WINDOW_MS;
	admit_adjust(&a, t, busy);
	assert_int_equal(a.limit, ADMIT_LIMIT_MIN);
	/* idle loop with runs waiting: more are let in, window after window */
	before = a.limit;
	for (int i = 0; i < 5; i++) {
		a.inflight = a.limit;
		assert_false(admit_try(&a));
		t += ADMIT_WINDOW_MS;
		busy += 100 * ADMIT_WINDOW_MS;         /* 10 % busy */
		admit_adjust(&a, t, busy);
	}
	assert_true(a.limit > before + 5 * 8 - 1);
	/* a grown limit starts the waiting runs */
	a.inflight = 0;
	assert_true(admit_enqueue(&a, &it, t, t + 1000, t));
	assert_ptr_equal(admit_next(&a, t), &it);
	assert_int_equal(a.inflight, 1);
}

/* The latest start leaves the whole timeout before the next due time. */
static void test_deadline(void **state)
{
	assert_int_equal(admit_deadline(1000, 30000, 10000), 21000);
	assert_int_equal(admit_deadline(1000, 1000, 1000), 1000);
	assert_int_equal(admit_deadline(1000, 1000, 5000), 1000);
}

/* 100,000 runs fall due at once with room for 1,000 in flight: every one is
 * either started or skipped and counted, none twice, none lost. */
static void test_accounting_adds_up(void **state)
{
	enum { N = 100000 };
	static struct admit_item items[N];
	struct admit a;
	size_t started = 0, queued = 0;
	struct admit_item *it;
	uint64_t now = 0;

	memset(items, 0, sizeof(items));
	admit_init(&a, 0, 0);
	a.limit = 1000;
	for (size_t i = 0; i < N; i++) {
		if (admit_try(&a))
			started++;
		else if (admit_enqueue(&a, &items[i], 0, 500, now))
			queued++;
	}
	assert_int_equal(started, 1000);
	/* Runs finish in waves of 1,000 every 100 ms: by 500 ms the rest is late. */
	for (now = 100; now <= 700; now += 100) {
		a.inflight = 0;
		while ((it = admit_next(&a, now)) != NULL)
			started++;
	}
	assert_int_equal(a.queued, 0);
	assert_int_equal(started + a.skipped, N);
	assert_int_equal(started, 1000 + 5 * 1000);
}

/* Held admission (the main loop has not taken this thread's results): no
 * run starts even with slots free, the agent counts as overloaded, and the
 * limit does not grow for the runs that waited. Let go, the runs still in
 * time start, those past their deadline are skipped and counted; every run
 * is one or the other. */
static void test_hold_skips_and_counts(void **state)
{
	struct admit a;
	struct admit_item it[4];
	size_t limit;

	memset(it, 0, sizeof(it));
	admit_init(&a, 0, 0);
	a.limit = 100;
	assert_true(admit_try(&a));                 /* one in flight before the hold */
	admit_hold(&a, true);
	assert_true(admit_overloaded(&a, 10));
	assert_false(admit_try(&a));
	assert_true(admit_enqueue(&a, &it[0], 10, 50, 10));
	assert_true(admit_enqueue(&a, &it[1], 20, 400, 20));
	assert_true(admit_enqueue(&a, &it[2], 30, 500, 30));
	assert_null(admit_next(&a, 40));            /* slots free, but held */
	admit_release(&a);                          /* the run in flight ends: still held */
	assert_null(admit_next(&a, 45));
	assert_false(admit_enqueue(&a, &it[3], 0, 40, 60));    /* too late already */
	assert_int_equal(a.skipped, 1);
	/* An idle loop with waiting runs would grow the limit: not while held. */
	limit = a.limit;
	admit_adjust(&a, ADMIT_WINDOW_MS + 1, 0);
	assert_int_equal(a.limit, limit);
	/* Let go at 300: the first is past its deadline, the others start. */
	admit_hold(&a, false);
	assert_ptr_equal(admit_next(&a, 300), &it[1]);
	assert_ptr_equal(admit_next(&a, 300), &it[2]);
	assert_null(admit_next(&a, 300));
	assert_int_equal(a.skipped, 2);
	assert_int_equal(a.queued, 0);
	assert_int_equal(a.inflight, 2);
	/* Overloaded only for the hold time after the last skip now. */
	assert_true(admit_overloaded(&a, 300));
	assert_false(admit_overloaded(&a, 300 + ADMIT_OVERLOAD_HOLD_MS));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_limit_bounds_runs_in_flight),
		cmocka_unit_test(test_queue_fifo_and_deadline_skip),
		cmocka_unit_test(test_skip_accounting),
		cmocka_unit_test(test_overloaded_window),
		cmocka_unit_test(test_limit_follows_the_loop),
		cmocka_unit_test(test_deadline),
		cmocka_unit_test(test_accounting_adds_up),
		cmocka_unit_test(test_hold_skips_and_counts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

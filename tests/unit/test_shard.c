/* test_shard.c — how many probe threads the default gives: by the probe
 * rate a config asks for and by its number of checks, within the cores. */
#include "unit.h"
#include "shard.h"

/* A small or slow config stays on one loop, whatever the cores. */
static void test_one_loop_below_the_rate(void **state)
{
	assert_int_equal(shards_threads_for(2, 0, 0), 1);
	assert_int_equal(shards_threads_for(2, 100, 100.0 / 60), 1);
	assert_int_equal(shards_threads_for(16, 11000, 1100), 1);
	assert_int_equal(shards_threads_for(2, 2000, 2000), 1);
}

/* A probe thread more for every 2,000 probes a second, up to the cores. */
static void test_rate_adds_threads_up_to_the_cores(void **state)
{
	assert_int_equal(shards_threads_for(2, 2001, 2001), 2);
	assert_int_equal(shards_threads_for(8, 6000, 5000), 3);
	assert_int_equal(shards_threads_for(2, 36000, 36000), 2);
	assert_int_equal(shards_threads_for(4, 1000000, 1e9), 4);
}

/* Many checks at long intervals leave the main loop too: 100,000 checks
 * at 60 s ask for 1,667 probes a second. */
static void test_many_checks_leave_the_main_loop(void **state)
{
	assert_int_equal(shards_threads_for(2, 100000, 100000.0 / 60), 2);
	assert_int_equal(shards_threads_for(8, 40000, 40000.0 / 300), 2);
	assert_int_equal(shards_threads_for(1, 100000, 100000.0 / 60), 1);
	assert_int_equal(shards_threads_for(0, 100000, 1e6), 1);
	assert_int_equal(shards_threads_for(1000, 10000000, 1e9), 64);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_loop_below_the_rate),
		cmocka_unit_test(test_rate_adds_threads_up_to_the_cores),
		cmocka_unit_test(test_many_checks_leave_the_main_loop),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_backlog.c — the bound on results a probe thread handed to the main
 * loop: it holds at the bound (count or bytes), lets go at half, and a
 * hold never outlives its backlog however the two threads interleave. */
#include <pthread.h>
#include <string.h>

#include "unit.h"
#include "backlog.h"

/* Holding starts at the bound in results, once; the main loop asks for a
 * release once the backlog is down to half, and only once. */
static void test_bound_in_results(void **state)
{
	struct backlog b;

	backlog_init(&b, 10, 1 << 20);
	for (int i = 0; i < 9; i++)
		assert_false(backlog_add(&b, 100));
	assert_true(backlog_add(&b, 100));          /* the 10th: hold */
	assert_false(backlog_add(&b, 100));         /* held already */
	assert_false(backlog_release_due(&b));      /* 11 waiting */
	assert_int_equal(backlog_results(&b), 11);
	for (int i = 0; i < 5; i++)
		assert_false(backlog_take(&b, 100));    /* 6 left: above half */
	assert_true(backlog_take(&b, 100));         /* 5: ask */
	assert_false(backlog_take(&b, 100));        /* asked already */
	assert_true(backlog_release_due(&b));
	assert_false(backlog_release_due(&b));      /* not held any more */
	assert_false(backlog_take(&b, 100));
	assert_int_equal(backlog_results(&b), 3);
}

/* Large results reach the bound in bytes first; half in bytes must be met
 * too before the thread lets go. */
static void test_bound_in_bytes(void **state)
{
	struct backlog b;

	backlog_init(&b, 1000, 10000);
	assert_false(backlog_add(&b, 6000));
	assert_true(backlog_add(&b, 6000));         /* 12000 bytes: hold */
	assert_false(backlog_add(&b, 100));
	assert_false(backlog_take(&b, 6000));       /* 6100 left: above half */
	assert_true(backlog_take(&b, 6000));        /* 100 left: ask */
	assert_true(backlog_release_due(&b));
}

/* The probe thread asked to let go while it added more since: it stays
 * held, and the next take below half asks again. */
static void test_release_refused_then_asked_again(void **state)
{
	struct backlog b;

	backlog_init(&b, 4, 1 << 20);
	for (int i = 0; i < 3; i++)
		backlog_add(&b, 1);
	assert_true(backlog_add(&b, 1));            /* 4: hold */
	assert_false(backlog_take(&b, 1));          /* 3 */
	assert_true(backlog_take(&b, 1));           /* 2: ask */
	backlog_add(&b, 1);                         /* 3 before the ask arrives */
	assert_false(backlog_release_due(&b));      /* above half: stays held */
	assert_true(backlog_take(&b, 1));           /* 2: ask again */
	assert_true(backlog_release_due(&b));
}

/* Two threads, a million results: whenever the producer holds it asks once
 * itself (as shard.c does) and acts on every ask; the consumer asks when
 * backlog_take says so. At the end nothing waits and nothing holds. */
enum { STRESS_N = 1000000 };

struct stress {
	struct backlog b;
	int queued;                 /* atomic: results produced, not consumed */
	int asks;                   /* atomic: asks posted, not yet handled */
	bool producer_done;
};

static void stress_handle_asks(struct stress *s, bool *held)
{
	while (__atomic_load_n(&s->asks, __ATOMIC_SEQ_CST) > 0) {
		__atomic_sub_fetch(&s->asks, 1, __ATOMIC_SEQ_CST);
		if (backlog_release_due(&s->b))
			*held = false;
	}
}

static void *stress_consumer(void *arg)
{
	struct stress *s = arg;

	for (;;) {
		if (__atomic_load_n(&s->queued, __ATOMIC_SEQ_CST) > 0) {
			__atomic_sub_fetch(&s->queued, 1, __ATOMIC_SEQ_CST);
			if (backlog_take(&s->b, 8))
				__atomic_add_fetch(&s->asks, 1, __ATOMIC_SEQ_CST);
		} else if (__atomic_load_n(&s->producer_done, __ATOMIC_SEQ_CST)) {
			return NULL;
		}
	}
}

static void test_two_threads_never_stuck(void **state)
{
	static struct stress s;
	pthread_t t;
	bool held = false;
	int produced = 0;
	uint64_t spins = 0;

	memset(&s, 0, sizeof(s));
	backlog_init(&s.b, 64, 1 << 20);
	assert_int_equal(pthread_create(&t, NULL, stress_consumer, &s), 0);
	while (produced < STRESS_N) {
		stress_handle_asks(&s, &held);
		if (held) {
			/* A hold that nobody will ever release spins here forever. */
			assert_true(++spins < 4000000000u);
			continue;
		}
		__atomic_add_fetch(&s.queued, 1, __ATOMIC_SEQ_CST);
		if (backlog_add(&s.b, 8)) {
			held = true;
			__atomic_add_fetch(&s.asks, 1, __ATOMIC_SEQ_CST);
		}
		produced++;
	}
	__atomic_store_n(&s.producer_done, true, __ATOMIC_SEQ_CST);
	pthread_join(t, NULL);
	stress_handle_asks(&s, &held);
	assert_int_equal(backlog_results(&s.b), 0);
	assert_false(held);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bound_in_results),
		cmocka_unit_test(test_bound_in_bytes),
		cmocka_unit_test(test_release_refused_then_asked_again),
		cmocka_unit_test(test_two_threads_never_stuck),
	};
	return cmocka_run_group_tests_name("backlog", tests, NULL, NULL);
}

/* test_heartbeat.c — the pure parts of heartbeat checks: lateness with an
 * injected clock (pending before the first ping, one report at interval +
 * grace, then one per interval, reset by a ping), the lateness message, the
 * push token check (query, bearer, missing, wrong) and the body text (cap,
 * invalid UTF-8, a character cut by the cap). */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#include "heartbeat.h"

#define H (3600 * 1000LL)

static void test_pending_until_first_ping(void **state)
{
	struct heartbeat_clock hc = { 0, 0 };

	assert_int_equal(heartbeat_next_due(&hc, 24 * H, 2 * H), 0);
	assert_false(heartbeat_late_due(&hc, 1000 * H, 24 * H, 2 * H));
}

static void test_late_once_then_every_interval(void **state)
{
	struct heartbeat_clock hc = { 0, 0 };
	int64_t t0 = 1700000000000LL;

	heartbeat_on_ping(&hc, t0);
	assert_int_equal(heartbeat_next_due(&hc, 24 * H, 2 * H), t0 + 26 * H);
	/* on time, and just before the deadline */
	assert_false(heartbeat_late_due(&hc, t0 + 1 * H, 24 * H, 2 * H));
	assert_false(heartbeat_late_due(&hc, t0 + 26 * H - 1, 24 * H, 2 * H));
	/* at the deadline: one report */
	assert_true(heartbeat_late_due(&hc, t0 + 26 * H, 24 * H, 2 * H));
	/* not again on the next ticks */
	assert_false(heartbeat_late_due(&hc, t0 + 26 * H + 1000, 24 * H, 2 * H));
	assert_false(heartbeat_late_due(&hc, t0 + 49 * H, 24 * H, 2 * H));
	/* once more an interval later */
	assert_int_equal(heartbeat_next_due(&hc, 24 * H, 2 * H), t0 + 50 * H);
	assert_true(heartbeat_late_due(&hc, t0 + 50 * H, 24 * H, 2 * H));
	/* a ping starts over */
	heartbeat_on_ping(&hc, t0 + 51 * H);
	assert_int_equal(hc.late_reported_ms, 0);
	assert_false(heartbeat_late_due(&hc, t0 + 52 * H, 24 * H, 2 * H));
	assert_int_equal(heartbeat_next_due(&hc, 24 * H, 2 * H), t0 + 77 * H);
}

static void test_late_after_a_long_stall(void **state)
{
	struct heartbeat_clock hc = { 0, 0 };

	/* The agent was stopped for days: one report at once, not one per missed interval. */
	heartbeat_on_ping(&hc, 1000);
	assert_true(heartbeat_late_due(&hc, 1000 + 100 * H, 24 * H, 2 * H));
	assert_false(heartbeat_late_due(&hc, 1000 + 100 * H + 1, 24 * H, 2 * H));
}

static void test_late_message(void **state)
{
	char buf[160];

	heartbeat_late_message(26 * H + 5 * 60 * 1000, 24 * H, 2 * H, buf, sizeof(buf));
	assert_string_equal(buf, "no ping for 1d 2h (expected every 1d + 2h grace)");
	heartbeat_late_message(2 * H + 5 * 60 * 1000, 1 * H, 1 * H, buf, sizeof(buf));
	assert_string_equal(buf, "no ping for 2h 5m (expected every 1h + 1h grace)");
	heartbeat_late_message(3000, 2000, 1000, buf, sizeof(buf));
	assert_string_equal(buf, "no ping for 3s (expected every 2s + 1s grace)");
	heartbeat_late_message(-5, 2000, 1000, buf, sizeof(buf));
	assert_string_equal(buf, "no ping for 0s (expected every 2s + 1s grace)");
	/* a short buffer is cut, not overrun */
	heartbeat_late_message(3000, 2000, 1000, buf, 8);
	assert_int_equal(strlen(buf), 7);
}

static void test_token(void **state)
{
	assert_int_equal(heartbeat_check_token(NULL, "abc123", "abc123"), HEARTBEAT_AUTH_OK);
	assert_int_equal(heartbeat_check_token("Bearer abc123", NULL, "abc123"), HEARTBEAT_AUTH_OK);
	assert_int_equal(heartbeat_check_token("bearer \t abc123", NULL, "abc123"), HEARTBEAT_AUTH_OK);
	/* the header wins over the query */
	assert_int_equal(heartbeat_check_token("Bearer nope", "abc123", "abc123"), HEARTBEAT_AUTH_WRONG);
	/* a non-bearer header falls back to the query */
	assert_int_equal(heartbeat_check_token("Basic Zm9vOmJhcg==", "abc123", "abc123"), HEARTBEAT_AUTH_OK);
	assert_int_equal(heartbeat_check_token("Basic Zm9vOmJhcg==", NULL, "abc123"), HEARTBEAT_AUTH_MISSING);
	assert_int_equal(heartbeat_check_token(NULL, NULL, "abc123"), HEARTBEAT_AUTH_MISSING);
	assert_int_equal(heartbeat_check_token("Bearer ", "", "abc123"), HEARTBEAT_AUTH_MISSING);
	assert_int_equal(heartbeat_check_token(NULL, "abc12", "abc123"), HEARTBEAT_AUTH_WRONG);
	assert_int_equal(heartbeat_check_token(NULL, "abc1234", "abc123"), HEARTBEAT_AUTH_WRONG);
	/* no configured token never matches */
	assert_int_equal(heartbeat_check_token(NULL, "x", NULL), HEARTBEAT_AUTH_WRONG);
	assert_int_equal(heartbeat_check_token(NULL, "x", ""), HEARTBEAT_AUTH_WRONG);
}

static void test_body_text(void **state)
{
	bool tr;
	char *t;
	char *big;

	t = heartbeat_body_text("done", 4, &tr);
	assert_string_equal(t, "done");
	assert_false(tr);
	free(t);

	t = heartbeat_body_text(NULL, 0, &tr);
	assert_string_equal(t, "");
	free(t);

	/* invalid bytes, NUL, an overlong form and a surrogate become U+FFFD */
	t = heartbeat_body_text("a\xff" "b\0c\xc0\xaf\xed\xa0\x80\xc3\xa9", 12, &tr);
	assert_string_equal(t, "a\xef\xbf\xbd" "b\xef\xbf\xbd" "c\xef\xbf\xbd\xef\xbf\xbd"
	                       "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xc3\xa9");
	assert_false(tr);
	free(t);

	/* capped, a character cut by the cap is dropped whole */
	big = malloc(HEARTBEAT_BODY_MAX + 10);
	memset(big, 'x', HEARTBEAT_BODY_MAX + 10);
	memcpy(big + HEARTBEAT_BODY_MAX - 1, "\xe2\x98\x83", 3);       /* U+2603 across the cap */
	t = heartbeat_body_text(big, HEARTBEAT_BODY_MAX + 10, &tr);
	assert_true(tr);
	assert_int_equal(strlen(t), HEARTBEAT_BODY_MAX - 1);
	free(t);
	/* a truncated sequence that is not at the cap is replaced */
	t = heartbeat_body_text("ab\xe2\x98", 4, &tr);
	assert_string_equal(t, "ab\xef\xbf\xbd\xef\xbf\xbd");
	free(t);
	free(big);
}

static void test_copy_text(void **state)
{
	char buf[6];

	heartbeat_copy_text(buf, sizeof(buf), "abc");
	assert_string_equal(buf, "abc");
	heartbeat_copy_text(buf, sizeof(buf), "abcd\xc3\xa9");    /* é would be cut */
	assert_string_equal(buf, "abcd");
	heartbeat_copy_text(buf, sizeof(buf), "ab\xe2\x98\x83z");   /* fits exactly */
	assert_string_equal(buf, "ab\xe2\x98\x83");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pending_until_first_ping),
		cmocka_unit_test(test_late_once_then_every_interval),
		cmocka_unit_test(test_late_after_a_long_stall),
		cmocka_unit_test(test_late_message),
		cmocka_unit_test(test_token),
		cmocka_unit_test(test_body_text),
		cmocka_unit_test(test_copy_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

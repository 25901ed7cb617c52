/* test_fleet_alert.c — the fleet's decision as a pure function: counting
 * failing, unknown (stale) and passing locations, firing at min_locations,
 * holding while unknown locations could still be failing, resolving below;
 * the derived alert id, the value and message naming the failing locations,
 * and the stable keys of a fleet transition's notifications. */
#include "unit.h"
#include "alerts/fleet_alert.h"

#include <stdlib.h>
#include <string.h>

#define L(name, firing, fresh) { name, firing, fresh }

static void test_count(void **state)
{
	const struct fleet_location v[] = {
		L("ams", true, true), L("fra", true, false), L("nyc", false, true), L("sfo", false, false),
	};
	struct fleet_count c = fleet_count(v, 4);

	(void)state;
	assert_int_equal(c.failing, 1);
	assert_int_equal(c.unknown, 2);     /* stale counts as unknown, firing or not */
	assert_int_equal(c.passing, 1);
	c = fleet_count(NULL, 0);
	assert_int_equal(c.failing + c.unknown + c.passing, 0);
}

static struct fleet_count cnt(int failing, int unknown, int passing)
{
	struct fleet_count c = { failing, unknown, passing };

	return c;
}

static void test_decide(void **state)
{
	(void)state;
	/* Not firing: fires at min_locations failing, unknown ones never fire it. */
	assert_int_equal(fleet_decide(false, cnt(1, 0, 2), 2), FLEET_HOLD);
	assert_int_equal(fleet_decide(false, cnt(1, 2, 0), 2), FLEET_HOLD);
	assert_int_equal(fleet_decide(false, cnt(2, 0, 1), 2), FLEET_FIRE);
	assert_int_equal(fleet_decide(false, cnt(3, 0, 0), 2), FLEET_FIRE);
	assert_int_equal(fleet_decide(false, cnt(0, 0, 3), 1), FLEET_HOLD);
	assert_int_equal(fleet_decide(false, cnt(1, 0, 0), 1), FLEET_FIRE);
	/* min_locations below 1 counts as 1 (a rule parsed before the setting). */
	assert_int_equal(fleet_decide(false, cnt(1, 0, 0), 0), FLEET_FIRE);
	assert_int_equal(fleet_decide(false, cnt(0, 0, 0), 0), FLEET_HOLD);
	/* Firing: holds while failing + unknown could still reach min_locations. */
	assert_int_equal(fleet_decide(true, cnt(2, 0, 1), 2), FLEET_HOLD);
	assert_int_equal(fleet_decide(true, cnt(1, 1, 1), 2), FLEET_HOLD);
	assert_int_equal(fleet_decide(true, cnt(0, 2, 1), 2), FLEET_HOLD);
	assert_int_equal(fleet_decide(true, cnt(1, 0, 2), 2), FLEET_RESOLVE);
	assert_int_equal(fleet_decide(true, cnt(0, 1, 2), 2), FLEET_RESOLVE);
	assert_int_equal(fleet_decide(true, cnt(0, 0, 0), 1), FLEET_RESOLVE);
	assert_int_equal(fleet_decide(true, cnt(0, 1, 0), 1), FLEET_HOLD);
}

static void test_alert_id(void **state)
{
	char a[UTIL_ID_LEN], b[UTIL_ID_LEN], c[UTIL_ID_LEN], d[UTIL_ID_LEN];

	(void)state;
	fleet_alert_id("down", "api", 1, a);
	fleet_alert_id("down", "api", 1, b);
	fleet_alert_id("down", "api", 2, c);
	fleet_alert_id("dow", "napi", 1, d);
	assert_int_equal(strlen(a), 16);
	assert_string_equal(a, b);          /* every agent derives the same */
	assert_string_not_equal(a, c);      /* a new episode, a new id */
	assert_string_not_equal(a, d);      /* the parts do not run together */
}

static void test_value_message(void **state)
{
	const struct fleet_location v[] = {
		L("ams", true, true), L("fra", true, true), L("nyc", false, true), L("sfo", true, false),
	};
	const struct fleet_location ok[] = { L("ams", false, true) };
	char *s;

	(void)state;
	s = fleet_value(v, 4);
	assert_string_equal(s, "2 of 4 locations failing: ams, fra");
	free(s);
	s = fleet_message(v, 4, "HTTP 503");
	assert_string_equal(s, "failing at ams, fra: HTTP 503");
	free(s);
	s = fleet_message(v, 4, NULL);
	assert_string_equal(s, "failing at ams, fra");
	free(s);
	s = fleet_value(ok, 1);
	assert_string_equal(s, "0 of 1 locations failing");
	free(s);
	s = fleet_message(ok, 1, "ok");
	assert_string_equal(s, "recovered at every location");
	free(s);
}

static void test_keys(void **state)
{
	char *notify[] = { "ops", "pager", "ops" };
	struct alert_event ev;
	struct outbox_tx tx = { 0 };
	char *want;

	(void)state;
	alert_event_build(&ev, &(struct alert_event_spec){
		.kind = ALERT_EVENT_FIRING, .rule = "down", .check = "api",
		.alert_id = "0123456789abcdef", .ts_us = 1700000000123456LL,
	});
	assert_int_equal(fleet_tx_add_event(&tx, &ev, notify, 3, 1700000000000000LL, 0), 2);
	assert_int_equal(tx.n_rows, 2);
	/* The key does not depend on the deciding agent's clock. */
	want = outbox_key("0123456789abcdef", ALERT_EVENT_FIRING, 0, "ops");
	assert_string_equal(tx.rows[0].key, want);
	free(want);
	assert_string_equal(tx.rows[1].notifier, "pager");
	assert_true(tx.rows[0].state == OUTBOX_PENDING);
	assert_int_equal(fleet_tx_add_event(&tx, &ev, notify, 1, 1700000000000000LL, 3), 1);
	want = outbox_key("0123456789abcdef", ALERT_EVENT_FIRING, 3, "ops");
	assert_string_equal(tx.rows[2].key, want);    /* the third repeat */
	free(want);
	outbox_tx_clear(&tx);
	alert_event_clear(&ev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_count),
		cmocka_unit_test(test_decide),
		cmocka_unit_test(test_alert_id),
		cmocka_unit_test(test_value_message),
		cmocka_unit_test(test_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_engine_lookup.c — the alert engine finds a result's check by its place
 * in the installed conf (checks not in name order), and by name when the
 * check comes from an older conf (a run that started before a reload). Seen
 * through dependencies, which need no rule. */
#include <stdbool.h>
#include <string.h>

#include "unit.h"

#include "alerts/engine.h"
#include "core/util.h"

#define T0 1767614400000LL

/* checks[0] "web" depends on checks[1] "api": not in name order. */
static void make_checks(struct check c[2])
{
	check_init(&c[0]);
	check_init(&c[1]);
	c[0].name = xstrdup("web");
	c[0].type = CHECK_TCP;
	c[0].interval_ms = 10000;
	c[0].timeout_ms = 5000;
	c[0].depends_on = xcalloc(1, sizeof(char *));
	c[0].depends_on[0] = xstrdup("api");
	c[0].n_depends_on = 1;
	c[1].name = xstrdup("api");
	c[1].type = CHECK_TCP;
	c[1].interval_ms = 10000;
	c[1].timeout_ms = 5000;
}

static void run(struct engine *e, const struct check *c, bool ok, int64_t now_ms)
{
	struct probe_result r;

	memset(&r, 0, sizeof(r));
	r.ok = ok;
	r.error = ok ? PROBE_OK : PROBE_ERR_CONNECT;
	r.duration_us = 5000;
	engine_on_result(e, c, &r, now_ms);
}

static void test_by_place_and_by_name(void **state)
{
	struct check c[2], older;
	struct engine_conf v = { .checks = c, .n_checks = 2 };
	struct engine *e = engine_new(NULL);
	(void)state;

	make_checks(c);
	engine_set_conf(e, &v, T0);
	assert_false(engine_check_blocked(e, "web"));
	run(e, &c[1], false, T0 + 1000);        /* api, by its place */
	assert_true(engine_check_blocked(e, "web"));

	older = c[1];                           /* api from an older conf */
	run(e, &older, true, T0 + 2000);
	assert_false(engine_check_blocked(e, "web"));

	memset(&older, 0, sizeof(older));
	older.name = (char *)"gone";            /* not configured: ignored */
	run(e, &older, false, T0 + 3000);
	assert_false(engine_check_blocked(e, "web"));
	engine_free(e);
	check_clear(&c[0]);
	check_clear(&c[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_by_place_and_by_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

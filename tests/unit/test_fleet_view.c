/* test_fleet_view.c — the fleet's view (SPEC §6): the state rule (down when
 * the last run failed at every location, degraded at some, else up), merging
 * changed rows into shared immutable views (newest wins, unchanged checks
 * shared), and a check's status: the agent's own newer run from the
 * snapshot, stale locations left out, maintenance kept. */
#include "unit.h"

#include <stdlib.h>
#include <string.h>

#include "probes/check.h"
#include "web/fleet_view.h"

#define S 1000000LL
#define NOW (1800000000LL * S)

static void test_state_rule(void **state)
{
	(void)state;
	assert_int_equal(fleet_state_rule(0, 0), CHECK_STATE_PENDING);
	assert_int_equal(fleet_state_rule(3, 0), CHECK_STATE_UP);
	assert_int_equal(fleet_state_rule(2, 1), CHECK_STATE_DEGRADED);
	assert_int_equal(fleet_state_rule(1, 2), CHECK_STATE_DEGRADED);
	assert_int_equal(fleet_state_rule(0, 3), CHECK_STATE_DOWN);
	assert_int_equal(fleet_state_rule(0, 1), CHECK_STATE_DOWN);
	assert_string_equal(check_state_name(CHECK_STATE_DEGRADED), "degraded");
}

static struct store_fleet_row row(const char *check, const char *loc, int64_t ts, bool ok)
{
	return (struct store_fleet_row){ .check = check, .location = loc, .ts_us = ts,
	                                 .duration_us = 1000, .ok = ok,
	                                 .error = ok ? "ok" : "connect",
	                                 .message = ok ? "fine" : "refused", .run_id = "r1" };
}

static void test_merge(void **state)
{
	struct store_fleet_row first[] = {
		row("web", "us-east", NOW - 5 * S, true),
		row("api", "eu-west", NOW - 5 * S, true),
		row("web", "eu-west", NOW - 5 * S, false),
		row("old", "gone", NOW - 3600 * S, true),
	};
	struct store_fleet_row second[] = {
		row("web", "eu-west", NOW - 1 * S, true),      /* newer: wins */
		row("web", "us-east", NOW - 9 * S, false),     /* older: ignored */
		row("web", "ap-south", NOW - 1 * S, true),     /* a new location */
	};
	struct fleet_view *a, *b;
	const struct fleet_check *w, *api_a, *api_b;

	(void)state;
	/* The first read of an empty table: an empty view. */
	a = fleet_view_merge(NULL, NULL, 0, NOW);
	assert_int_equal(a->n_checks, 0);
	assert_int_equal(a->n_locations, 0);
	assert_null(fleet_view_find(a, "web"));
	fleet_view_release(a);

	a = fleet_view_merge(NULL, first, 4, NOW);
	assert_int_equal(a->n_checks, 3);
	assert_string_equal(a->checks[0]->name, "api");
	assert_string_equal(a->checks[2]->name, "web");
	/* "gone" has no result in the last 15 minutes: no column. */
	assert_int_equal(a->n_locations, 2);
	assert_string_equal(a->locations[0], "eu-west");
	assert_string_equal(a->locations[1], "us-east");
	w = fleet_view_find(a, "web");
	assert_non_null(w);
	assert_int_equal(w->n, 2);
	assert_string_equal(w->at[0].location, "eu-west");
	assert_false(w->at[0].ok);
	assert_null(fleet_view_find(a, "nope"));

	b = fleet_view_merge(a, second, 3, NOW);
	w = fleet_view_find(b, "web");
	assert_int_equal(w->n, 3);
	assert_string_equal(w->at[0].location, "ap-south");
	assert_string_equal(w->at[1].location, "eu-west");
	assert_true(w->at[1].ok);
	assert_int_equal(w->at[1].ts_us, NOW - 1 * S);
	assert_string_equal(w->at[2].location, "us-east");
	assert_true(w->at[2].ok);                      /* the older row did not win */
	assert_int_equal(w->at[2].ts_us, NOW - 5 * S);
	/* The unchanged check is shared, not copied. */
	api_a = fleet_view_find(a, "api");
	api_b = fleet_view_find(b, "api");
	assert_ptr_equal(api_a, api_b);
	assert_int_equal(b->n_locations, 3);
	/* The old view stays as it was. */
	assert_int_equal(fleet_view_find(a, "web")->n, 2);
	fleet_view_release(a);
	assert_string_equal(fleet_view_find(b, "api")->name, "api");
	fleet_view_release(b);
}

static void test_status(void **state)
{
	struct store_fleet_row rows[] = {
		row("web", "eu-west", NOW - 2 * S, true),
		row("web", "us-east", NOW - 2 * S, false),
		row("web", "ap-south", NOW - 3600 * S, false),     /* stale */
	};
	struct check c;
	struct snapshot_check sc;
	struct fleet_status st;
	struct fleet_view *v = fleet_view_merge(NULL, rows, 3, NOW);

	(void)state;
	memset(&c, 0, sizeof(c));
	memset(&sc, 0, sizeof(sc));
	c.name = "web";
	c.interval_ms = 30000;
	sc.check = &c;
	sc.state = CHECK_STATE_PENDING;

	/* This agent (eu-west) has not run yet: the view decides. */
	fleet_status_of(v, &sc, "eu-west", NOW, &st);
	assert_int_equal(st.n, 3);
	assert_true(st.at[0].stale);
	assert_int_equal(st.state, CHECK_STATE_DEGRADED);

	/* Its own newer failed run (not yet in the view): down everywhere fresh. */
	sc.state = CHECK_STATE_DOWN;
	sc.has_last = true;
	sc.last_ts_us = NOW - 1 * S;
	sc.last_ok = false;
	sc.last_error = PROBE_ERR_CONNECT;
	fleet_status_of(v, &sc, "eu-west", NOW, &st);
	assert_int_equal(st.n, 3);
	assert_string_equal(st.at[1].location, "eu-west");
	assert_false(st.at[1].ok);
	assert_int_equal(st.state, CHECK_STATE_DOWN);
	assert_string_equal(st.at[st.newest].location, "eu-west");

	/* A location the view does not know yet: the agent's own, sorted in. */
	fleet_status_of(v, &sc, "zz-new", NOW, &st);
	assert_int_equal(st.n, 4);
	assert_string_equal(st.at[3].location, "zz-new");

	/* Maintenance is the agent's own decision and stays. */
	sc.state = CHECK_STATE_MAINTENANCE;
	fleet_status_of(v, &sc, "eu-west", NOW, &st);
	assert_int_equal(st.state, CHECK_STATE_MAINTENANCE);

	/* Every location stale: the newest known result decides. */
	sc.state = CHECK_STATE_PENDING;
	sc.has_last = false;
	fleet_status_of(v, &sc, "eu-west", NOW + 3600 * S, &st);
	assert_int_equal(st.state, CHECK_STATE_UP);

	/* No view (not read yet), no run: the snapshot's state. */
	fleet_status_of(NULL, &sc, "eu-west", NOW, &st);
	assert_int_equal(st.n, 0);
	assert_int_equal(st.state, CHECK_STATE_PENDING);
	fleet_view_release(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_state_rule),
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_status),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

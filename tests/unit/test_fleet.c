/* test_fleet.c — the fleet's pure parts (SPEC §6): the `locations` setting
 * and agent.source_address as the loader reads them (errors at their line),
 * and rendezvous hashing: stable, spread evenly, and moving only the checks
 * of a location that leaves. fleet_runs_check without a fleet runs all. */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "fleet.h"

static struct conf *load(const char *text, struct conf_errors *e)
{
	memset(e, 0, sizeof(*e));
	return conf_load_string(text, "t.conf", e);
}

static void want_error(const char *text, const char *line)
{
	struct conf_errors e;
	struct conf *c = load(text, &e);
	bool found = false;

	assert_null(c);
	for (size_t i = 0; i < e.n; i++) {
		if (strcmp(e.lines[i], line) == 0)
			found = true;
		else
			fprintf(stderr, "    | %s\n", e.lines[i]);
	}
	if (!found)
		fail_msg("missing error: %s", line);
	conf_errors_free(&e);
}

#define CHECK(extra) "checks = (\n  { name = \"c\"; type = \"tcp\"; host = \"db\"; port = 1;\n    " extra " }\n);\n"

static void test_locations_forms(void **state)
{
	struct conf_errors e;
	struct conf *c;

	(void)state;
	c = load(CHECK(""), &e);
	assert_non_null(c);
	assert_int_equal(c->checks[0].locations_mode, CHECK_LOC_ALL);
	conf_unref(c);
	c = load(CHECK("locations = \"*\";"), &e);
	assert_int_equal(c->checks[0].locations_mode, CHECK_LOC_ALL);
	conf_unref(c);
	c = load(CHECK("locations = \"any\";"), &e);
	assert_int_equal(c->checks[0].locations_mode, CHECK_LOC_ANY);
	conf_unref(c);
	/* Names no agent has yet are fine: who exists is known at run time. */
	c = load(CHECK("locations = [ \"eu-west\", \"us-east\" ];"), &e);
	assert_non_null(c);
	assert_int_equal(c->checks[0].locations_mode, CHECK_LOC_LIST);
	assert_int_equal(c->checks[0].n_locations, 2);
	assert_string_equal(c->checks[0].locations[1], "us-east");
	conf_unref(c);
}

static void test_locations_errors(void **state)
{
	(void)state;
	want_error(CHECK("locations = \"eu-west\";"),
	           "t.conf:3: \"locations\" in check \"c\" must be \"*\", \"any\" or a list of agent locations like "
	           "[ \"eu-west\", \"us-east\" ] (got \"eu-west\"; a single location is written [ \"eu-west\" ])");
	want_error(CHECK("locations = [ \"a\", \"any\" ];"),
	           "t.conf:3: \"locations\" entry 2 in check \"c\" must be an agent location, not \"any\" "
	           "(\"*\" and \"any\" stand alone)");
	want_error(CHECK("locations = [ \"a\", \"a\" ];"),
	           "t.conf:3: \"locations\" entry 2 in check \"c\" names \"a\" twice");
	want_error(CHECK("locations = [ ];"),
	           "t.conf:3: \"locations\" in check \"c\" must not be empty (leave it out to run everywhere)");
	want_error(CHECK("locations = 3;"),
	           "t.conf:3: \"locations\" in check \"c\" must be a string (got an integer)");
}

static void test_source_address(void **state)
{
	struct conf_errors e;
	struct conf *c;

	(void)state;
	c = load("agent = { source_address = \"127.0.0.2\"; };\n", &e);
	assert_non_null(c);
	assert_string_equal(c->agent.source_address, "127.0.0.2");
	conf_unref(c);
	c = load("agent = { source_address = \"2001:db8::10\"; };\n", &e);
	assert_non_null(c);
	conf_unref(c);
	c = load("agent = { };\n", &e);
	assert_null(c->agent.source_address);
	conf_unref(c);
	want_error("agent = {\n  source_address = \"db.internal\";\n};\n",
	           "t.conf:2: \"source_address\" in agent must be an IP address of this host like "
	           "\"192.0.2.10\" or \"2001:db8::10\" (got \"db.internal\")");
}

/* The same inputs give the same owner, whatever the order of the list. */
static void test_rendezvous_stable(void **state)
{
	const char *abc[] = { "a", "b", "c" }, *cab[] = { "c", "a", "b" };

	(void)state;
	for (int i = 0; i < 200; i++) {
		char name[32];

		snprintf(name, sizeof(name), "check-%d", i);
		assert_string_equal(abc[fleet_rendezvous(name, abc, 3)], cab[fleet_rendezvous(name, cab, 3)]);
	}
	assert_int_equal(fleet_rendezvous("x", abc, 0), 0);
}

/* 30,000 checks over three locations: each within 5% of a third; when "c"
 * leaves, only c's checks move, and they split between a and b. */
static void test_rendezvous_spread_and_minimal_moves(void **state)
{
	const char *abc[] = { "a", "b", "c" }, *ab[] = { "a", "b" };
	size_t count[3] = { 0 }, moved_to[2] = { 0 };
	const size_t n = 30000;

	(void)state;
	for (size_t i = 0; i < n; i++) {
		char name[32];
		size_t o, o2;

		snprintf(name, sizeof(name), "api-%zu", i);
		o = fleet_rendezvous(name, abc, 3);
		count[o]++;
		o2 = fleet_rendezvous(name, ab, 2);
		if (o != 2)
			assert_int_equal(o2, o);        /* a's and b's checks stay */
		else
			moved_to[o2]++;
	}
	for (int k = 0; k < 3; k++) {
		if (count[k] < n / 3 - n / 60 || count[k] > n / 3 + n / 60)
			fail_msg("location %d got %zu of %zu", k, count[k], n);
	}
	assert_true(moved_to[0] > count[2] / 3 && moved_to[1] > count[2] / 3);
}

static void test_no_fleet_runs_everything(void **state)
{
	struct conf_errors e;
	struct conf *c = load(CHECK("locations = [ \"nowhere\" ];"), &e);

	(void)state;
	assert_non_null(c);
	assert_true(fleet_runs_check(NULL, &c->checks[0]));
	assert_null(fleet_running());
	assert_true(fleet_database_ok(NULL));
	assert_int_equal(fleet_database_lost_us(NULL), 0);
	conf_unref(c);
}

/* A fleet only on PostgreSQL: SQLite gives none and nothing starts. */
static void test_sqlite_starts_no_fleet(void **state)
{
	struct conf_errors e;
	struct conf *c = load("agent = { database = \"/tmp/x.db\"; };\n", &e);
	struct fleet *f = (struct fleet *)1;
	char err[256] = "";

	(void)state;
	assert_int_equal(fleet_start(c, &f, err, sizeof(err)), 0);
	assert_null(f);
	conf_unref(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_locations_forms),
		cmocka_unit_test(test_locations_errors),
		cmocka_unit_test(test_source_address),
		cmocka_unit_test(test_rendezvous_stable),
		cmocka_unit_test(test_rendezvous_spread_and_minimal_moves),
		cmocka_unit_test(test_no_fleet_runs_everything),
		cmocka_unit_test(test_sqlite_starts_no_fleet),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

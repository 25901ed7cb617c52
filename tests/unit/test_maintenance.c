/* test_maintenance.c — one-off and weekly maintenance windows: boundaries,
 * crossing midnight and the end of the week, time zones with DST, the cache,
 * selectors, and the parsing helpers for the config loader. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#include "alerts/alert.h"
#include "probes/check.h"
#include "conf/conf.h"
#include "alerts/maintenance.h"
#include "core/util.h"

#define S 1000LL
#define MIN (60 * S)
#define HOUR (60 * MIN)
#define DAY (24 * HOUR)
#define WEEK (7 * DAY)
/* UTC instants (ms). */
#define SAT_2026_01_03_2300 1767481200000LL
#define SUN_2026_01_04_0600 1767506400000LL
#define SUN_2026_07_05_0500 1783227600000LL
#define SUN_2026_03_08_0000 1772928000000LL   /* US DST starts 07:00 UTC that day */

static struct maintenance_window weekly(int day, int minute, const char *tz, uint64_t dur)
{
	struct maintenance_window w;

	memset(&w, 0, sizeof(w));
	w.weekly_day = day;
	w.weekly_minute = minute;
	w.timezone = (char *)tz;
	w.duration_ms = dur;
	return w;
}

static bool active(const struct maintenance_window *w, int64_t now)
{
	int64_t start, end;

	assert_int_equal(maintenance_window_occurrence(w, now, &start, &end, NULL), 0);
	return now >= start && now < end;
}

static void test_one_off(void **state)
{
	struct maintenance_window w;
	struct maintenance *m;
	int64_t start = 1796090400000LL;     /* 2026-12-01T02:00:00Z */
	int64_t s, e, n;
	(void)state;

	memset(&w, 0, sizeof(w));
	w.weekly_day = -1;
	w.start_us = start * 1000;
	w.duration_ms = 2 * HOUR;
	m = maintenance_new(&w, 1);
	assert_int_equal(maintenance_count(m), 1);
	assert_false(maintenance_is_active(m, 0, start - 1));
	assert_true(maintenance_is_active(m, 0, start));
	assert_true(maintenance_is_active(m, 0, start + 2 * HOUR - 1));
	assert_false(maintenance_is_active(m, 0, start + 2 * HOUR));
	assert_false(maintenance_is_active(m, 0, start + WEEK));
	assert_false(maintenance_is_active(m, 1, start));       /* no such window */
	assert_int_equal(maintenance_window_occurrence(&w, start - DAY, &s, &e, &n), 0);
	assert_int_equal(s, start);
	assert_int_equal(e, start + 2 * HOUR);
	assert_int_equal(n, INT64_MAX);
	/* A huge duration saturates instead of wrapping. */
	w.duration_ms = UINT64_MAX;
	assert_true(maintenance_is_active(m, 0, INT64_MAX - 1));
	maintenance_free(m);
	maintenance_free(NULL);
}

static void test_weekly_utc_across_midnight(void **state)
{
	/* Sat 23:00 for 2h: into Sunday, across the end of the week (wday 6 -> 0). */
	struct maintenance_window w = weekly(6, 23 * 60, NULL, 2 * HOUR);
	int64_t t = SAT_2026_01_03_2300, s, e, n;
	(void)state;

	assert_false(active(&w, t - 1));
	assert_true(active(&w, t));
	assert_true(active(&w, t + 90 * MIN));          /* Sunday 00:30 */
	assert_true(active(&w, t + 2 * HOUR - 1));
	assert_false(active(&w, t + 2 * HOUR));
	assert_false(active(&w, t + 3 * DAY));
	assert_true(active(&w, t + WEEK + HOUR));
	assert_true(active(&w, t - WEEK + HOUR));
	assert_int_equal(maintenance_window_occurrence(&w, t + 90 * MIN, &s, &e, &n), 0);
	assert_int_equal(s, t);
	assert_int_equal(e, t + 2 * HOUR);
	assert_int_equal(n, t + WEEK);
	/* Just before the start: the occurrence is last week's. */
	assert_int_equal(maintenance_window_occurrence(&w, t - 1, &s, NULL, &n), 0);
	assert_int_equal(s, t - WEEK);
	assert_int_equal(n, t);
	/* "UTC" by name is the same. */
	w.timezone = (char *)"UTC";
	assert_true(active(&w, t + 90 * MIN));
	assert_false(active(&w, t + 2 * HOUR));
}

static void test_weekly_timezone(void **state)
{
	/* Sun 01:00 New York for 90m: 06:00Z in winter (EST), 05:00Z in summer. */
	struct maintenance_window w = weekly(0, 60, "America/New_York", 90 * MIN);
	(void)state;

	assert_false(active(&w, SUN_2026_01_04_0600 - 5 * HOUR));      /* 01:00 UTC */
	assert_false(active(&w, SUN_2026_01_04_0600 - 1));
	assert_true(active(&w, SUN_2026_01_04_0600));
	assert_true(active(&w, SUN_2026_01_04_0600 + 90 * MIN - 1));
	assert_false(active(&w, SUN_2026_01_04_0600 + 90 * MIN));
	assert_false(active(&w, SUN_2026_07_05_0500 - 1));
	assert_true(active(&w, SUN_2026_07_05_0500));
	assert_false(active(&w, SUN_2026_07_05_0500 + 90 * MIN));
	/* DST starts at 02:00 local on 2026-03-08: 01:00 is still EST (06:00Z),
	 * the next week's is EDT (05:00Z): the week between is 1 h shorter. */
	{
		int64_t s, n;

		assert_int_equal(maintenance_window_occurrence(&w, SUN_2026_03_08_0000 + 7 * HOUR,
		                                               &s, NULL, &n), 0);
		assert_int_equal(s, SUN_2026_03_08_0000 + 6 * HOUR);
		assert_int_equal(n, SUN_2026_03_08_0000 + WEEK + 5 * HOUR);
	}
	/* Berlin, Sat 23:30 for 1h, crossing local midnight: 22:30Z-23:30Z in winter. */
	w = weekly(6, 23 * 60 + 30, "Europe/Berlin", HOUR);
	assert_false(active(&w, SAT_2026_01_03_2300 - 30 * MIN - 1));
	assert_true(active(&w, SAT_2026_01_03_2300 - 30 * MIN));
	assert_true(active(&w, SAT_2026_01_03_2300 + 29 * MIN));
	assert_false(active(&w, SAT_2026_01_03_2300 + 30 * MIN));
	/* Asia/Kolkata (UTC+5:30, no DST): Sun 01:00 is Sat 19:30Z. */
	w = weekly(0, 60, "Asia/Kolkata", 30 * MIN);
	assert_true(active(&w, SAT_2026_01_03_2300 - 3 * HOUR - 30 * MIN));
	assert_false(active(&w, SAT_2026_01_03_2300 - 3 * HOUR));
}

static void test_tz_restored(void **state)
{
	struct maintenance_window w = weekly(0, 60, "America/New_York", 90 * MIN);
	const char *tz;
	(void)state;

	setenv("TZ", "Asia/Tokyo", 1);
	assert_true(active(&w, SUN_2026_01_04_0600));
	tz = getenv("TZ");
	assert_non_null(tz);
	assert_string_equal(tz, "Asia/Tokyo");
	unsetenv("TZ");
	assert_true(active(&w, SUN_2026_01_04_0600));
	assert_null(getenv("TZ"));
}

static void test_bad_timezone(void **state)
{
	struct maintenance_window w = weekly(0, 60, "Nowhere/City", 90 * MIN);
	struct maintenance *m;
	(void)state;

	assert_int_equal(maintenance_window_occurrence(&w, SUN_2026_01_04_0600, NULL, NULL, NULL), -1);
	m = maintenance_new(&w, 1);
	assert_false(maintenance_is_active(m, 0, SUN_2026_01_04_0600));
	assert_false(maintenance_is_active(m, 0, SUN_2026_01_04_0600 - 5 * HOUR));
	maintenance_free(m);
	w = weekly(9, 60, NULL, HOUR);
	assert_int_equal(maintenance_window_occurrence(&w, SUN_2026_01_04_0600, NULL, NULL, NULL), -1);
	w = weekly(0, 1440, NULL, HOUR);
	assert_int_equal(maintenance_window_occurrence(&w, SUN_2026_01_04_0600, NULL, NULL, NULL), -1);
}

static void test_cache_matches_uncached(void **state)
{
	struct maintenance_window w[3] = {
		weekly(0, 60, "America/New_York", 90 * MIN),
		weekly(6, 23 * 60, NULL, 2 * HOUR),
		weekly(0, 150, "Europe/Berlin", 3 * HOUR),    /* 02:30: skipped on the DST day */
	};
	struct maintenance *m = maintenance_new(w, 3);
	(void)state;

	/* Five weeks around the US and EU DST changes, every 7 minutes, also
	 * stepping back in time now and then (the cache must follow). */
	for (size_t i = 0; i < 3; i++) {
		for (int64_t t = SUN_2026_03_08_0000 - 2 * WEEK; t < SUN_2026_03_08_0000 + 4 * WEEK;
		     t += 7 * MIN) {
			assert_int_equal(maintenance_is_active(m, i, t), active(&w[i], t));
			if ((t / (7 * MIN)) % 97 == 0)
				assert_int_equal(maintenance_is_active(m, i, t - 3 * WEEK),
				                 active(&w[i], t - 3 * WEEK));
		}
	}
	maintenance_free(m);
}

static void test_selectors(void **state)
{
	struct maintenance_window w[2];
	struct maintenance *m;
	struct check a, b;
	char *sel0[] = { (char *)"payments-*" };
	char *sel1[] = { (char *)"nope", (char *)"group:Batch" };
	int64_t start = SAT_2026_01_03_2300;
	(void)state;

	memset(w, 0, sizeof(w));
	w[0].selectors = sel0;
	w[0].n_selectors = 1;
	w[0].weekly_day = -1;
	w[0].start_us = start * 1000;
	w[0].duration_ms = HOUR;
	w[1] = weekly(3, 0, NULL, DAY);      /* all Wednesday */
	w[1].selectors = sel1;
	w[1].n_selectors = 2;
	check_init(&a);
	check_init(&b);
	a.name = (char *)"payments-api";
	a.group = (char *)"";
	b.name = (char *)"sync";
	b.group = (char *)"Batch";
	m = maintenance_new(w, 2);
	assert_true(maintenance_selects(m, 0, &a));
	assert_false(maintenance_selects(m, 0, &b));
	assert_false(maintenance_selects(m, 1, &a));
	assert_true(maintenance_selects(m, 1, &b));
	assert_true(maintenance_active_for(m, &a, start));
	assert_false(maintenance_active_for(m, &b, start));
	assert_false(maintenance_active_for(m, &a, start + 4 * DAY));   /* Wed 23:00 */
	assert_true(maintenance_active_for(m, &b, start + 4 * DAY));
	assert_false(maintenance_active_for(m, &b, start + 4 * DAY + HOUR));   /* Thu */
	assert_false(maintenance_active_for(NULL, &b, start));
	maintenance_free(m);
	m = maintenance_new(NULL, 0);
	assert_false(maintenance_active_for(m, &a, start));
	maintenance_free(m);
}

static void test_parse_weekly(void **state)
{
	static const char *const bad[] = { "", "Sun", "Sun 24:00", "Sun 01:60", "Sun 1:0",
	                                   "Sun01:00", "Xyz 01:00", "Su 01:00", "Sunday 01:00 x",
	                                   "Sun 001:00", "Sun -1:00", "Sund 01:00" };
	int d = -1, mi = -1;
	(void)state;

	assert_int_equal(maintenance_parse_weekly("Sun 01:00", &d, &mi), 0);
	assert_int_equal(d, 0);
	assert_int_equal(mi, 60);
	assert_int_equal(maintenance_parse_weekly("sat 23:59", &d, &mi), 0);
	assert_int_equal(d, 6);
	assert_int_equal(mi, 23 * 60 + 59);
	assert_int_equal(maintenance_parse_weekly("Monday  7:05 ", &d, &mi), 0);
	assert_int_equal(d, 1);
	assert_int_equal(mi, 7 * 60 + 5);
	assert_int_equal(maintenance_parse_weekly("WED 00:00", &d, &mi), 0);
	assert_int_equal(d, 3);
	assert_int_equal(mi, 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (maintenance_parse_weekly(bad[i], &d, &mi) == 0)
			fail_msg("accepted \"%s\"", bad[i]);
	}
	assert_int_equal(maintenance_parse_weekly(NULL, &d, &mi), -1);
}

static void test_timezone_valid(void **state)
{
	(void)state;
	assert_true(maintenance_timezone_valid("UTC"));
	assert_true(maintenance_timezone_valid("Europe/Berlin"));
	assert_true(maintenance_timezone_valid("America/New_York"));
	assert_false(maintenance_timezone_valid("Nowhere/City"));
	assert_false(maintenance_timezone_valid("Europe"));              /* a directory */
	assert_false(maintenance_timezone_valid("../../etc/passwd"));
	assert_false(maintenance_timezone_valid("/etc/localtime"));
	assert_false(maintenance_timezone_valid("Europe/Berlin\n"));
	assert_false(maintenance_timezone_valid(""));
	assert_false(maintenance_timezone_valid(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_off),
		cmocka_unit_test(test_weekly_utc_across_midnight),
		cmocka_unit_test(test_weekly_timezone),
		cmocka_unit_test(test_tz_restored),
		cmocka_unit_test(test_bad_timezone),
		cmocka_unit_test(test_cache_matches_uncached),
		cmocka_unit_test(test_selectors),
		cmocka_unit_test(test_parse_weekly),
		cmocka_unit_test(test_timezone_valid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

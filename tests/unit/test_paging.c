/* test_paging.c — lists served in parts: the page and window arithmetic and
 * the strict count parsing (web/paging.h), the variant caches (web/rslots.h),
 * the status page's list order per config (dashboards/page_layout.h), and a
 * big fleet's page rendered from a snapshot (the summary layout). */
#include "unit.h"
#include "conf/conf.h"
#include "core/util.h"
#include "dashboards/page.h"
#include "dashboards/page_layout.h"
#include "web/paging.h"
#include "web/rslots.h"
#include "web/snapshot.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_pages(void **state)
{
	struct paging_span s;

	assert_int_equal(paging_pages(0, 1000), 1);
	assert_int_equal(paging_pages(1, 1000), 1);
	assert_int_equal(paging_pages(1000, 1000), 1);
	assert_int_equal(paging_pages(1001, 1000), 2);
	assert_int_equal(paging_pages(2500, 1000), 3);
	assert_int_equal(paging_pages(1000000, 1000), 1000);
	assert_int_equal(paging_pages(SIZE_MAX, 1), SIZE_MAX);

	assert_true(paging_page_span(0, 1000, 1, &s));          /* an empty list: one empty page */
	assert_int_equal(s.first, 0);
	assert_int_equal(s.count, 0);
	assert_false(paging_page_span(0, 1000, 2, &s));
	assert_false(paging_page_span(2500, 1000, 0, &s));
	assert_true(paging_page_span(2500, 1000, 1, &s));
	assert_int_equal(s.first, 0);
	assert_int_equal(s.count, 1000);
	assert_true(paging_page_span(2500, 1000, 3, &s));
	assert_int_equal(s.first, 2000);
	assert_int_equal(s.count, 500);
	assert_false(paging_page_span(2500, 1000, 4, &s));
	assert_true(paging_page_span(3000, 1000, 3, &s));
	assert_int_equal(s.count, 1000);
	assert_false(paging_page_span(3000, 1000, SIZE_MAX, &s));

	/* every entry on exactly one page */
	for (size_t total = 0; total < 40; total++) {
		size_t covered = 0, pages = paging_pages(total, 7);

		for (size_t p = 1; p <= pages; p++) {
			assert_true(paging_page_span(total, 7, p, &s));
			assert_int_equal(s.first, covered);
			assert_true(s.count <= 7);
			assert_true(s.count > 0 || total == 0);
			covered += s.count;
		}
		assert_int_equal(covered, total);
		assert_false(paging_page_span(total, 7, pages + 1, &s));
	}
}

static void test_window(void **state)
{
	struct paging_span s = paging_window(2500, 0, 1000);

	assert_int_equal(s.first, 0);
	assert_int_equal(s.count, 1000);
	s = paging_window(2500, 2000, 1000);
	assert_int_equal(s.first, 2000);
	assert_int_equal(s.count, 500);
	s = paging_window(2500, 2500, 1000);
	assert_int_equal(s.first, 2500);
	assert_int_equal(s.count, 0);
	s = paging_window(2500, SIZE_MAX, SIZE_MAX);
	assert_int_equal(s.first, 2500);
	assert_int_equal(s.count, 0);
	s = paging_window(10, 3, SIZE_MAX);                      /* no overflow */
	assert_int_equal(s.first, 3);
	assert_int_equal(s.count, 7);
	s = paging_window(0, 0, 5);
	assert_int_equal(s.count, 0);
}

static void test_parse_count(void **state)
{
	static const struct { const char *s; size_t min, max; int rc; size_t v; } cases[] = {
		{ "1", 1, 10000, 0, 1 },
		{ "10000", 1, 10000, 0, 10000 },
		{ "0010", 1, 10000, 0, 10 },
		{ "0", 0, 5, 0, 0 },
		{ "0", 1, 10000, -1, 0 },
		{ "10001", 1, 10000, -1, 0 },
		{ "", 0, 10, -1, 0 },
		{ "-1", 0, 10, -1, 0 },
		{ "+1", 0, 10, -1, 0 },
		{ " 1", 0, 10, -1, 0 },
		{ "1 ", 0, 10, -1, 0 },
		{ "1e3", 0, 10000, -1, 0 },
		{ "0x10", 0, 10000, -1, 0 },
		{ "3.0", 0, 10, -1, 0 },
		{ "99999999999999999999999999", 0, SIZE_MAX, -1, 0 },
		{ "18446744073709551615", 0, SIZE_MAX, 0, SIZE_MAX },
		{ "18446744073709551616", 0, SIZE_MAX, -1, 0 },
		{ "7", 0, 5, -1, 0 },
		{ "5", 0, 5, 0, 5 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t v = 12345;
		int rc = paging_parse_count(cases[i].s, cases[i].min, cases[i].max, &v);

		if (rc != cases[i].rc)
			fail_msg("\"%s\": rc %d, want %d", cases[i].s, rc, cases[i].rc);
		assert_int_equal(v, rc == 0 ? cases[i].v : 12345);
	}
	assert_int_equal(paging_parse_count(NULL, 0, 10, NULL), -1);
}

static void test_rslots(void **state)
{
	static struct rslots t = RSLOTS_INIT;
	struct rslot *a = rslots_get(&t, "1/*"), *a2, *held[RSLOTS_N], *extra;
	char key[RSLOT_KEY_MAX + 2], name[32];

	rslots_put(&t, a);
	a2 = rslots_get(&t, "1/*");
	assert_ptr_equal(a, a2);                     /* the same variant, the same slot */
	assert_false(a2->own);
	/* every slot in use: the next variant renders on a slot of its own */
	held[0] = a2;
	for (int i = 1; i < RSLOTS_N; i++) {
		snprintf(name, sizeof(name), "%d/*", i + 1);
		held[i] = rslots_get(&t, name);
		assert_false(held[i]->own);
		for (int j = 0; j < i; j++)
			assert_ptr_not_equal(held[i], held[j]);
	}
	extra = rslots_get(&t, "99/*");
	assert_true(extra->own);
	rslots_put(&t, extra);
	for (int i = 0; i < RSLOTS_N; i++)
		rslots_put(&t, held[i]);
	/* a new variant takes the least recently used slot: the first one */
	extra = rslots_get(&t, "new");
	assert_ptr_equal(extra, a);
	assert_string_equal(extra->key, "new");
	rslots_put(&t, extra);
	/* a key longer than a slot holds is never shared (no truncated match) */
	memset(key, 'k', sizeof(key) - 1);
	key[sizeof(key) - 1] = '\0';
	extra = rslots_get(&t, key);
	assert_true(extra->own);
	rslots_put(&t, extra);
	rslots_clear(&t);
}

/* A table of two: a third variant while both are in use is not shared. */
static void test_rslots_small(void **state)
{
	static struct rslots t = RSLOTS_INIT_N(2);
	struct rslot *a = rslots_get(&t, "a"), *b = rslots_get(&t, "b"), *c = rslots_get(&t, "c");

	assert_false(a->own);
	assert_false(b->own);
	assert_true(c->own);
	rslots_put(&t, c);
	rslots_put(&t, b);
	c = rslots_get(&t, "c");                      /* takes a free slot of the two */
	assert_ptr_equal(c, b);
	rslots_put(&t, c);
	rslots_put(&t, a);
	rslots_clear(&t);
}

static const char layout_conf[] =
	"agent = { page_full_up_to = 0; title = \"T\"; };\n"
	"checks = (\n"
	"  { name = \"n1\"; type = \"tcp\"; host = \"127.0.0.1\"; port = 1; },\n"
	"  { name = \"b1\"; group = \"b\"; type = \"tcp\"; host = \"127.0.0.1\"; port = 1; },\n"
	"  { name = \"a1\"; group = \"a\"; type = \"tcp\"; host = \"127.0.0.1\"; port = 1; },\n"
	"  { name = \"b2\"; group = \"b\"; type = \"tcp\"; host = \"127.0.0.1\"; port = 1; },\n"
	"  { name = \"n2\"; type = \"tcp\"; host = \"127.0.0.1\"; port = 1; },\n"
	"  { name = \"a2\"; group = \"a\"; type = \"tcp\"; host = \"127.0.0.1\"; port = 1; }\n"
	");\n";

static void test_layout(void **state)
{
	struct conf_errors errs = { 0 };
	struct conf *conf = conf_load_string(layout_conf, "t.conf", &errs);
	struct page_layout *l, *same;
	static const char *const want[] = { "a1", "a2", "b1", "b2", "n1", "n2" };

	assert_non_null(conf);
	l = page_layout_acquire(conf);
	assert_int_equal(l->n_checks, 6);
	for (size_t k = 0; k < 6; k++)
		assert_string_equal(conf->checks[l->order[k]].name, want[k]);
	assert_int_equal(l->n_groups, 3);
	assert_string_equal(l->groups[0].name, "a");
	assert_int_equal(l->groups[0].first, 0);
	assert_int_equal(l->groups[0].n, 2);
	assert_string_equal(l->groups[1].name, "b");
	assert_int_equal(l->groups[1].first, 2);
	assert_null(l->groups[2].name);
	assert_int_equal(l->groups[2].first, 4);
	assert_int_equal(l->groups[2].n, 2);
	assert_int_equal(l->gid[0], 2);              /* n1: the ungrouped */
	assert_int_equal(l->gid[1], 1);              /* b1 */
	assert_int_equal(page_layout_find_group(l, "a"), 0);
	assert_int_equal(page_layout_find_group(l, "b"), 1);
	assert_int_equal(page_layout_find_group(l, ""), 2);
	assert_int_equal(page_layout_find_group(l, NULL), 2);
	assert_int_equal(page_layout_find_group(l, "c"), -1);
	assert_int_equal(page_layout_find_group(l, "0"), -1);
	same = page_layout_acquire(conf);            /* built once per config */
	assert_ptr_equal(same, l);
	page_layout_release(same);
	page_layout_release(l);
	page_layout_clear();
	conf_unref(conf);                            /* the layout let go of it */
}

/* Above agent.page_full_up_to (here 0) GET / is the summary layout: counts,
 * the checks not up worst first, the groups, one page of the list. */
static void test_paged_index(void **state)
{
	struct conf_errors errs = { 0 };
	struct conf *conf = conf_load_string(layout_conf, "t.conf", &errs);
	struct api_request rq;
	struct api_response rs;
	struct snapshot *snap;
	const char *body, *down, *pending;

	assert_non_null(conf);
	snap = snapshot_new(conf);
	for (size_t k = 0; k < snap->n_checks; k++)
		snap->checks[k].state = CHECK_STATE_UP;
	snap->checks[3].state = CHECK_STATE_DOWN;    /* b2 */
	snap->checks[4].state = CHECK_STATE_PENDING; /* n2 */
	memset(&rq, 0, sizeof(rq));
	memset(&rs, 0, sizeof(rs));
	rq.method = "GET";
	rq.path = "/";
	rq.snap = snap;
	page_cache_clear();
	page_index(&rq, &rs);
	assert_int_equal(rs.status, 200);
	body = rs.body;
	assert_non_null(strstr(body, "data-paged"));
	assert_non_null(strstr(body, ">1 check down<"));
	assert_non_null(strstr(body, "<h2>Not up <span class=\"n\">2</span>"));
	down = strstr(body, "<li class=\"prob\" data-name=\"b2\" data-state=\"down\">");
	pending = strstr(body, "<li class=\"prob\" data-name=\"n2\" data-state=\"pending\">");
	assert_true(down != NULL && pending != NULL && down < pending);
	assert_non_null(strstr(body, "<a href=\"/?group=b\">b</a></td><td class=\"num\">2</td>"
	                             "<td class=\"num g-down\">1</td>"));
	assert_non_null(strstr(body, "<a href=\"/?group=\">(no group)</a>"));
	assert_non_null(strstr(body, "Page 1 of 1 · checks 1–6 of 6"));
	assert_null(strstr(body, "rel=\"next\""));
	assert_non_null(strstr(body, "<li class=\"check\" data-name=\"a1\""));
	assert_true(strstr(body, "data-name=\"a2\" data-state") < strstr(body, "data-name=\"b1\" data-state"));
	free(rs.body);
	snapshot_release(snap);
	page_cache_clear();
	conf_unref(conf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pages),
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_parse_count),
		cmocka_unit_test(test_rslots),
		cmocka_unit_test(test_rslots_small),
		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_paged_index),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

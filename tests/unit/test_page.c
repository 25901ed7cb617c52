/* test_page.c — the status pages: HTML escaping (with secret masking and
 * UTF-8 clean-up), uptime formatting and colours, the buffer's ceiling,
 * latency chart points from known data, the chart SVG, and the index page
 * rendered from a snapshot and a real database (hostile group and message
 * must come out as text). */
#include "unit.h"
#include "core/log.h"
#include "dashboards/page.h"
#include "dashboards/page_chart.h"
#include "web/snapshot.h"
#include "store/store.h"
#include "core/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define US_PER_S   1000000LL
#define US_PER_DAY (86400LL * US_PER_S)

static char *escaped(const char *s)
{
	struct buf b = BUF_MAX(PAGE_MAX_BYTES);

	page_escape(&b, s);
	return buf_steal(&b, NULL);
}

static void test_escape(void **state)
{
	static const struct { const char *in, *out; } cases[] = {
		{ "plain text", "plain text" },
		{ "<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;" },
		{ "a & b", "a &amp; b" },
		{ "\"quoted\" 'single'", "&quot;quoted&quot; &#39;single&#39;" },
		{ "x\" onmouseover=\"alert(1)", "x&quot; onmouseover=&quot;alert(1)" },
		{ "tab\tnew\nline", "tab\tnew\nline" },
		{ "bell\a esc\x1b del\x7f", "bell esc del" },
		{ "caf\xc3\xa9 \xe2\x98\x83 \xf0\x9f\x9a\x80", "caf\xc3\xa9 \xe2\x98\x83 \xf0\x9f\x9a\x80" },
		{ "bad \xff byte", "bad ? byte" },
		{ "cut \xe2\x98", "cut ??" },
		{ "overlong \xc0\xbc", "overlong ??" },
		{ "surrogate \xed\xa0\x80", "surrogate ???" },
		{ "&lt;already&gt;", "&amp;lt;already&amp;gt;" },
		{ "", "" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = escaped(cases[i].in);

		assert_string_equal(got, cases[i].out);
		free(got);
	}
	{
		struct buf b = BUF_MAX(PAGE_MAX_BYTES);

		page_escape(&b, NULL);
		assert_int_equal(b.len, 0);
	}
}

static void test_escape_masks_secrets(void **state)
{
	char *got;

	log_secret_add("hunter2-secret");
	got = escaped("token=hunter2-secret&x=<b>");
	assert_string_equal(got, "token=***&amp;x=&lt;b&gt;");
	free(got);
	log_secret_clear();
}

static void test_pct(void **state)
{
	static const struct { double pct; const char *text, *cls; } cases[] = {
		{ 100, "100.00%", "u-g" },
		{ 99.666, "99.67%", "u-y" },         /* rounded, not cut */
		{ 99.999, "99.99%", "u-g" },
		{ 99.95, "99.95%", "u-g" },
		{ 99.9, "99.90%", "u-g" },
		{ 99.89, "99.89%", "u-y" },
		{ 99.0, "99.00%", "u-y" },
		{ 98.99, "98.99%", "u-o" },
		{ 95.0, "95.00%", "u-o" },
		{ 94.99, "94.99%", "u-r" },
		{ 0, "0.00%", "u-r" },
		{ -1, "n/a", "u-n" },
	};
	char buf[16];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		page_format_pct(cases[i].pct, buf, sizeof(buf));
		assert_string_equal(buf, cases[i].text);
		assert_string_equal(page_uptime_class(cases[i].pct), cases[i].cls);
	}
}

/* Read through a volatile pointer: the compiler must not see its size. */
static const char *volatile never_read = "never read";

static void test_buf(void **state)
{
	struct buf b = BUF_MAX(PAGE_MAX_BYTES);
	char big[2000];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	buf_adds(&b, "a");
	buf_printf(&b, "%d-%s", 42, "b");
	buf_printf(&b, "%s", big);        /* longer than the stack buffer */
	assert_int_equal(b.len, 5 + strlen(big));
	assert_memory_equal(b.p, "a42-b", 5);
	assert_false(b.over);
	/* Past the page ceiling: dropped (s is not even read), and over stays set
	 * (a page that went over answers 500, whatever came after). */
	assert_int_equal(buf_add(&b, never_read, (size_t)PAGE_MAX_BYTES + 1), -1);
	assert_true(b.over);
	assert_int_equal(b.len, 5 + strlen(big));
	buf_adds(&b, "more");
	assert_true(b.over);
	buf_free(&b);
	assert_null(b.p);
}

/* Shuffles v with a fixed sequence (the function must not need order). */
static void shuffle(struct page_sample *v, size_t n)
{
	unsigned x = 12345;

	for (size_t i = n - 1; i > 0; i--) {
		size_t j;
		struct page_sample t;

		x = x * 1103515245u + 12345u;
		j = (x >> 8) % (i + 1);
		t = v[i];
		v[i] = v[j];
		v[j] = t;
	}
}

static void test_latency_points(void **state)
{
	/* 10 buckets of 100 s over [1000 s, 2000 s). */
	int64_t since = 1000 * US_PER_S, until = 2000 * US_PER_S;
	struct page_sample v[110];
	struct page_point p[10];
	size_t n = 0;

	/* bucket 0: 100 results of 1..100 ms, the 30th failed */
	for (int i = 1; i <= 100; i++) {
		v[n].ts_us = since + (int64_t)i * 990000;     /* inside [1000, 1099] s */
		v[n].duration_us = i * 1000;
		v[n].ok = i != 30;
		n++;
	}
	/* bucket 3: one failed result of 7 ms */
	v[n++] = (struct page_sample){ since + 350 * US_PER_S, 7000, false };
	/* bucket 9: 2 results; nearest rank p50 = the smaller, p95 = the larger */
	v[n++] = (struct page_sample){ until - 1, 40000, true };
	v[n++] = (struct page_sample){ since + 900 * US_PER_S, 10000, true };
	/* outside: before since, at until */
	v[n++] = (struct page_sample){ since - 1, 999000, true };
	v[n++] = (struct page_sample){ until, 999000, true };
	shuffle(v, n);

	page_latency_points(v, n, since, until, p, 10);
	for (int i = 0; i < 10; i++)
		assert_true(p[i].start_us == since + i * 100 * US_PER_S);
	assert_int_equal(p[0].n, 100);
	assert_int_equal(p[0].failures, 1);
	assert_true(p[0].p50_ms == 50.0);
	assert_true(p[0].p95_ms == 95.0);
	assert_int_equal(p[3].n, 1);
	assert_int_equal(p[3].failures, 1);
	assert_true(p[3].p50_ms == 7.0 && p[3].p95_ms == 7.0);
	assert_int_equal(p[9].n, 2);
	assert_true(p[9].p50_ms == 10.0);
	assert_true(p[9].p95_ms == 40.0);
	for (int i = 1; i < 9; i++)
		if (i != 3)
			assert_int_equal(p[i].n, 0);

	/* No samples at all: every bucket empty, nothing breaks. */
	page_latency_points(NULL, 0, since, until, p, 10);
	for (int i = 0; i < 10; i++)
		assert_int_equal(p[i].n, 0);
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = strstr(hay, needle); p != NULL; p = strstr(p + 1, needle))
		n++;
	return n;
}

static void test_latency_svg(void **state)
{
	int64_t since = 0, until = 100 * US_PER_S;
	struct page_sample v[] = {
		{ 5 * US_PER_S, 20000, true },      /* bucket 0 */
		{ 15 * US_PER_S, 30000, true },     /* bucket 1: joined to bucket 0 */
		{ 55 * US_PER_S, 90000, false },    /* bucket 5: alone */
	};
	struct page_point p[10];
	struct buf b = BUF_MAX(PAGE_MAX_BYTES);

	page_latency_points(v, 3, since, until, p, 10);
	page_latency_svg(&b, p, 10, since, until);
	assert_non_null(strstr(b.p, "<svg class=\"chart\""));
	assert_non_null(strstr(b.p, "</svg>"));
	assert_int_equal(count(b.p, "class=\"ch-p50\""), 1);
	assert_int_equal(count(b.p, "class=\"ch-p95\""), 1);
	assert_int_equal(count(b.p, "class=\"ch-fail\""), 1);
	assert_int_equal(count(b.p, "<title>"), 3);          /* one per bucket with data */
	/* p50 path: a two-point line then an isolated dot. The y scale tops at
	 * 100 ms (five 20 ms steps above 90 ms * 1.05), plot height 202 from
	 * y=12, plot from x=76. */
	assert_non_null(strstr(b.p, "<path class=\"ch-p50\" d=\"M111.7 173.6L183.1 153.4"
	                            "M468.7 32.2l0 0\"/>"));
	assert_null(strstr(b.p, "no results"));
	buf_free(&b);

	page_latency_points(NULL, 0, since, until, p, 10);
	page_latency_svg(&b, p, 10, since, until);
	assert_non_null(strstr(b.p, "no results in this range"));
	assert_non_null(strstr(b.p, "<path class=\"ch-p50\" d=\"\"/>"));
	buf_free(&b);
}

/* Few runs: one point each; the time axis has round ticks, and the date
 * where a range crosses midnight. */
static void test_runs_svg(void **state)
{
	int64_t since = 1796254200LL * US_PER_S;    /* 2026-12-02T23:30:00Z */
	int64_t until = since + 3600 * US_PER_S;
	struct page_sample v[] = {
		{ since + 60 * US_PER_S, 20000, true },
		{ since + 1800 * US_PER_S, 30000, false },
		{ since + 3000 * US_PER_S, 10000, true },
	};
	struct buf b = BUF_MAX(PAGE_MAX_BYTES);

	(void)state;
	page_runs_svg(&b, v, 3, since, until);
	assert_int_equal(count(b.p, "<circle class=\"ch-pt\""), 2);
	assert_int_equal(count(b.p, "<circle class=\"ch-pt ch-pt-fail\""), 1);
	assert_non_null(strstr(b.p, ">Dec 02 23:30</text>"));
	assert_non_null(strstr(b.p, ">23:40</text>"));
	assert_non_null(strstr(b.p, ">Dec 03 00:00</text>"));
	assert_non_null(strstr(b.p, ">00:10</text>"));
	assert_non_null(strstr(b.p, ">40.0 ms</text>"));      /* round y ticks: 10 ms steps */
	assert_null(strstr(b.p, "no results"));
	buf_free(&b);
}

/* --- the index page from a snapshot and a database ---------------------------------- */

static const char conf_text[] =
	"agent = { listen = \"127.0.0.1:1\"; title = \"Status <i>of</i> & Co\"; };\n"
	"checks = (\n"
	"  { name = \"evil\"; type = \"tcp\"; host = \"127.0.0.1\"; port = 1;\n"
	"    group = \"<script>alert(1)</script>\"; },\n"
	"  { name = \"api\"; type = \"tcp\"; host = \"127.0.0.1\"; port = 2; group = \"core\"; },\n"
	"  { name = \"loose\"; type = \"tcp\"; host = \"127.0.0.1\"; port = 3; }\n"
	");\n";

static void add_result(struct store *s, const char *check, int64_t ts, bool ok, int64_t dur)
{
	struct probe_result r;

	probe_result_init(&r);
	r.start_us = ts;
	r.duration_us = dur;
	r.ok = ok;
	r.error = ok ? PROBE_OK : PROBE_ERR_CONNECT;
	snprintf(r.message, sizeof(r.message), "%s", ok ? "fine" : "<b>refused</b>");
	store_append(s, check, &r);
	probe_result_clear(&r);
}

static void test_index_page(void **state)
{
	struct conf_errors errs = { 0 };
	struct conf *conf = conf_load_string(conf_text, "t.conf", &errs);
	char dir[] = "/tmp/pharos-test-page-XXXXXX", path[128], err[256];
	struct api_request rq;
	struct api_response rs;
	struct snapshot *snap;
	struct store *st;
	int64_t now = util_wall_us();
	const char *body, *g_core, *g_evil, *g_none;

	assert_non_null(conf);
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/p.db", dir);
	st = store_open(path, err, sizeof(err));
	assert_non_null(st);
	/* api: 3 of 4 up in the last day; 1 of 1 two days ago */
	add_result(st, "api", now - 10 * US_PER_S, true, 1000);
	add_result(st, "api", now - 20 * US_PER_S, true, 1000);
	add_result(st, "api", now - 30 * US_PER_S, true, 1000);
	add_result(st, "api", now - 40 * US_PER_S, false, 1000);
	add_result(st, "api", now - 2 * US_PER_DAY, true, 1000);
	add_result(st, "evil", now - 5 * US_PER_S, false, 1000);
	store_flush(st);

	snap = snapshot_new(conf);
	snap->checks[0].state = CHECK_STATE_DOWN;
	snap->checks[0].has_last = true;
	snap->checks[0].last_message = xstrdup("<img src=x onerror=alert(2)>");
	snap->checks[1].state = CHECK_STATE_UP;
	snap->checks[2].state = CHECK_STATE_MAINTENANCE;
	snap->n_alerts = 1;
	snap->alerts = xcalloc(1, sizeof(*snap->alerts));
	snap->alerts[0].rule = xstrdup("<svg onload=alert(3)>");
	snap->alerts[0].check = xstrdup("evil");
	snap->alerts[0].severity = xstrdup("critical");
	snap->alerts[0].state = ALERT_FIRING;
	snap->alerts[0].since_us = now - 60 * US_PER_S;

	memset(&rq, 0, sizeof(rq));
	memset(&rs, 0, sizeof(rs));
	rq.method = "GET";
	rq.path = "/";
	rq.snap = snap;
	rq.reader = store_reader_open(path, err, sizeof(err));
	assert_non_null(rq.reader);
	page_cache_clear();
	page_index(&rq, &rs);
	assert_int_equal(rs.status, 200);
	assert_string_equal(rs.content_type, "text/html; charset=utf-8");
	body = rs.body;
	assert_int_equal(strlen(body), rs.body_len);

	/* Hostile strings only as text. */
	assert_null(strstr(body, "<script>alert"));
	assert_null(strstr(body, "<svg onload"));
	assert_null(strstr(body, "<i>of</i>"));
	assert_non_null(strstr(body, "<h2>&lt;script&gt;alert(1)&lt;/script&gt;</h2>"));
	assert_non_null(strstr(body, "&lt;svg onload=alert(3)&gt;"));
	assert_non_null(strstr(body, "<title>Status &lt;i&gt;of&lt;/i&gt; &amp; Co</title>"));
	/* Summary, states with words, banners. */
	assert_non_null(strstr(body, ">1 check down<"));
	assert_non_null(strstr(body, "st-down\"><span class=\"ic\" aria-hidden=\"true\"></span>Down"));
	assert_non_null(strstr(body, "st-maintenance\"><span class=\"ic\" aria-hidden=\"true\">"
	                             "</span>Maintenance"));
	assert_non_null(strstr(body, "id=\"alerts\" class=\"banner b-alert\" role=\"alert\""));
	assert_non_null(strstr(body, "id=\"maint\" class=\"banner b-maint\"><h2>"));
	/* Groups sorted by name, the ungrouped last. */
	g_evil = strstr(body, "&lt;script&gt;alert(1)&lt;/script&gt;</h2>");
	g_core = strstr(body, "<h2>core</h2>");
	g_none = strstr(body, "<h2>Other checks</h2>");
	assert_true(g_evil != NULL && g_core != NULL && g_none != NULL);
	assert_true(g_evil < g_core && g_core < g_none);
	/* Uptime from the database: api 75% over 24h, 80% over 90 days. */
	assert_non_null(strstr(body, "class=\"up24 u-r\" title=\"uptime, last 24 hours\"><b>75.00%</b>"));
	assert_non_null(strstr(body, "<b>80.00%</b> 90d"));
	/* 90 cells per bar (few checks: one per day), yesterday's cell no data. */
	assert_int_equal(count(body, "<i class=\"u-"), 3 * PAGE_DAYS);
	assert_non_null(strstr(body, ": no data\"></i>"));
	assert_non_null(strstr(body, ": 0.00% (1 runs)\"></i>"));
	free(rs.body);

	store_reader_close(rq.reader);
	snapshot_release(snap);
	conf_unref(conf);
	store_close(st);
	page_cache_clear();
	unlink(path);
	snprintf(err, sizeof(err), "%s-wal", path);
	unlink(err);
	snprintf(err, sizeof(err), "%s-shm", path);
	unlink(err);
	rmdir(dir);
}

/* No database and no snapshot: still answers, never crashes. */
static void test_index_degraded(void **state)
{
	struct api_request rq;
	struct api_response rs;

	memset(&rq, 0, sizeof(rq));
	memset(&rs, 0, sizeof(rs));
	page_index(&rq, &rs);
	assert_int_equal(rs.status, 503);
	assert_non_null(strstr(rs.body, "<!DOCTYPE html>"));
	free(rs.body);

	memset(&rs, 0, sizeof(rs));
	snprintf(rq.name, sizeof(rq.name), "nope");
	page_not_found(&rq, &rs);
	assert_int_equal(rs.status, 404);
	assert_non_null(strstr(rs.body, "There is no check named &quot;nope&quot;."));
	free(rs.body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_escape_masks_secrets),
		cmocka_unit_test(test_pct),
		cmocka_unit_test(test_buf),
		cmocka_unit_test(test_latency_points),
		cmocka_unit_test(test_latency_svg),
		cmocka_unit_test(test_runs_svg),
		cmocka_unit_test(test_index_page),
		cmocka_unit_test(test_index_degraded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

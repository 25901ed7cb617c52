/* test_assert.c — every assertion kind passing and failing: status lists and
 * ranges (and the http_status class), body_contains, body_regex (including a
 * catastrophic pattern that must give up quickly), json paths on JSON, non-JSON
 * and binary bodies, headers, max_latency and cert_min_days. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#include "probes/assert.h"
#include "probes/check.h"
#include "probes/jsonpath.h"
#include "probes/result.h"
#include "core/util.h"

static pcre2_code *re(const char *pat)
{
	int code;
	PCRE2_SIZE off;
	pcre2_code *c = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED, 0, &code, &off, NULL);

	assert_non_null(c);
	return c;
}

static void expect_init(struct check_expect *e)
{
	memset(e, 0, sizeof(*e));
	e->cert_min_days = -1;
	e->rcode = -1;
	e->min_answers = -1;
}

static const struct probe_assertion *last(const struct probe_result *r)
{
	assert_true(r->n_assertions > 0);
	return &r->assertions[r->n_assertions - 1];
}

static void test_status_default(void **state)
{
	struct check_expect e;
	struct probe_result r;

	(void)state;
	expect_init(&e);
	probe_result_init(&r);
	assert_status(&r, &e, 200);
	assert_status(&r, &e, 399);
	assert_int_equal(r.error, PROBE_OK);
	assert_string_equal(last(&r)->what, "status in [200-399]");
	assert_status(&r, &e, 503);
	assert_int_equal(r.error, PROBE_ERR_HTTP_STATUS);
	assert_string_equal(r.message, "HTTP 503 Service Unavailable (expected 200-399)");
	assert_false(last(&r)->ok);
	assert_string_equal(last(&r)->detail, "got 503 Service Unavailable");
	probe_result_clear(&r);

	probe_result_init(&r);
	assert_status(&r, &e, 199);
	assert_int_equal(r.error, PROBE_ERR_HTTP_STATUS);
	assert_string_equal(r.message, "HTTP 199 (expected 200-399)");
	probe_result_clear(&r);
}

static void test_status_ranges(void **state)
{
	struct status_range ranges[] = { { 200, 200 }, { 400, 404 } };
	struct check_expect e;
	struct probe_result r;

	(void)state;
	expect_init(&e);
	e.status = ranges;
	e.n_status = 2;
	probe_result_init(&r);
	assert_status(&r, &e, 200);
	assert_status(&r, &e, 400);
	assert_status(&r, &e, 404);
	assert_int_equal(r.error, PROBE_OK);
	assert_string_equal(last(&r)->what, "status in [200, 400-404]");
	assert_status(&r, &e, 201);
	assert_int_equal(r.error, PROBE_ERR_HTTP_STATUS);
	assert_string_equal(r.message, "HTTP 201 Created (expected 200, 400-404)");
	/* a later failure does not replace the first */
	assert_status(&r, &e, 500);
	assert_string_equal(r.message, "HTTP 201 Created (expected 200, 400-404)");
	assert_int_equal(r.n_assertions, 5);
	probe_result_clear(&r);
}

static void test_body_contains(void **state)
{
	struct check_expect e;
	struct probe_result r;
	const char body[] = "status: ok\n";

	(void)state;
	expect_init(&e);
	e.body_contains = "ok";
	probe_result_init(&r);
	assert_body(&r, &e, body, strlen(body), 0);
	assert_true(last(&r)->ok);
	assert_string_equal(last(&r)->what, "body_contains \"ok\"");
	assert_string_equal(last(&r)->detail, "found at byte 8");
	assert_int_equal(r.error, PROBE_OK);

	e.body_contains = "healthy";
	assert_body(&r, &e, body, strlen(body), 0);
	assert_false(last(&r)->ok);
	assert_string_equal(last(&r)->detail, "not found in 11 bytes");
	assert_int_equal(r.error, PROBE_ERR_ASSERTION);
	assert_string_equal(r.message, "body_contains \"healthy\": not found in 11 bytes");
	probe_result_clear(&r);

	/* truncated bodies say so; empty and NULL bodies are fine */
	probe_result_init(&r);
	assert_body(&r, &e, body, 4, 1);
	assert_string_equal(last(&r)->detail, "not found in 4 bytes (body truncated at 4 bytes)");
	assert_body(&r, &e, NULL, 0, 0);
	assert_string_equal(last(&r)->detail, "not found in 0 bytes");
	probe_result_clear(&r);
}

/* Bodies with NUL bytes: the search covers all of it. */
static void test_binary_body(void **state)
{
	struct check_expect e;
	struct probe_result r;
	const char body[] = "\0\x01\x02\0ok\0\xff";

	(void)state;
	expect_init(&e);
	e.body_contains = "ok";
	e.body_regex = "o.\\x00\\xff";
	e.body_re = re(e.body_regex);
	probe_result_init(&r);
	assert_body(&r, &e, body, sizeof(body) - 1, 0);
	assert_int_equal(r.error, PROBE_OK);
	assert_string_equal(r.assertions[0].detail, "found at byte 4");
	assert_string_equal(r.assertions[1].detail, "matched at byte 4");
	probe_result_clear(&r);
	pcre2_code_free(e.body_re);
}

static void test_body_regex(void **state)
{
	struct check_expect e;
	struct probe_result r;
	const char *body = "line one\nversion: 2.41.0\nend";

	(void)state;
	expect_init(&e);
	e.body_regex = "^version: 2\\.\\d+";
	e.body_re = re("(?m)^version: 2\\.\\d+");
	probe_result_init(&r);
	assert_body(&r, &e, body, strlen(body), 0);
	assert_true(last(&r)->ok);
	assert_string_equal(last(&r)->detail, "matched at byte 9");
	pcre2_code_free(e.body_re);

	e.body_regex = "version: 3";
	e.body_re = re(e.body_regex);
	assert_body(&r, &e, body, strlen(body), 0);
	assert_false(last(&r)->ok);
	assert_string_equal(last(&r)->what, "body_regex /version: 3/");
	assert_string_equal(last(&r)->detail, "no match in 28 bytes");
	pcre2_code_free(e.body_re);
	probe_result_clear(&r);

	/* Matching agrees with PCRE2's own search on assorted patterns. */
	static const char *pats[] = { "end$", "^line", "one\\nver", "(?i)VERSION", "\\d\\.\\d+\\.0",
	                              "x?", "$", "(?<=: )2", "[0-9]{3}", "zz|end", "\\bone\\b" };
	for (size_t i = 0; i < sizeof(pats) / sizeof(pats[0]); i++) {
		pcre2_code *c = re(pats[i]);
		pcre2_match_data *md = pcre2_match_data_create_from_pattern(c, NULL);
		int want = pcre2_match(c, (PCRE2_SPTR)body, strlen(body), 0, 0, md, NULL) >= 0;

		if (assert_regex_match(c, body, strlen(body)) != want)
			fail_msg("pattern %s: want %d", pats[i], want);
		pcre2_match_data_free(md);
		pcre2_code_free(c);
	}
}

/* Catastrophic backtracking and quadratic scans give up within the budget:
 * the loop is never held for long. */
static void test_regex_budget(void **state)
{
	size_t n = 1 << 20;
	char *body = malloc(n);
	uint64_t t0;
	struct check_expect e;
	struct probe_result r;

	(void)state;
	memset(body, 'a', n);
	body[n - 3] = 'f';
	body[n - 2] = 'o';
	body[n - 1] = '!';
	expect_init(&e);
	static const char *pats[] = { "(a+)+$", "a*foo", "(a|aa)*c", "(?:a|a)(?:a|a)(?:a|a)(?:a|a)(?:a|a)(?:a|a)(?:a|a)(?:a|a)(?:a|a)[yz]|q" };
	for (size_t i = 0; i < sizeof(pats) / sizeof(pats[0]); i++) {
		e.body_regex = (char *)pats[i];
		e.body_re = re(pats[i]);
		probe_result_init(&r);
		t0 = util_mono_us();
		assert_body(&r, &e, body, n, 0);
		if (util_mono_us() - t0 > 1000000)
			fail_msg("pattern %s took %llu us", pats[i], (unsigned long long)(util_mono_us() - t0));
		assert_false(last(&r)->ok);
		probe_result_clear(&r);
		pcre2_code_free(e.body_re);
	}
	/* A plain pattern over the same megabyte still finds its match. */
	e.body_regex = "fo!";
	e.body_re = re(e.body_regex);
	probe_result_init(&r);
	assert_body(&r, &e, body, n, 0);
	assert_true(last(&r)->ok);
	probe_result_clear(&r);
	pcre2_code_free(e.body_re);
	free(body);
}

static void test_json(void **state)
{
	struct json_expect js[4];
	struct check_expect e;
	struct probe_result r;
	const char *body = "{\"status\":\"ok\",\"code\":200,\"items\":[{\"id\":7}]}";

	(void)state;
	expect_init(&e);
	memset(js, 0, sizeof(js));
	js[0].path = "$.status";
	js[0].equals = json_string("ok");
	js[1].path = "$.code";
	js[1].equals = json_string("200");
	js[2].path = "$.items[-1].id";
	js[2].exists = true;
	js[3].path = "$.error";
	js[3].exists = false;
	e.json = js;
	e.n_json = 4;
	probe_result_init(&r);
	assert_body(&r, &e, body, strlen(body), 0);
	assert_int_equal(r.error, PROBE_OK);
	assert_int_equal(r.n_assertions, 4);
	assert_string_equal(r.assertions[0].what, "json $.status == \"ok\"");
	assert_string_equal(r.assertions[0].detail, "got \"ok\"");
	assert_string_equal(r.assertions[2].what, "json $.items[-1].id exists");
	assert_string_equal(r.assertions[3].what, "json $.error absent");
	probe_result_clear(&r);

	/* failures */
	json_decref(js[0].equals);
	js[0].equals = json_string("degraded");
	js[2].path = "$.items[1].id";
	js[3].path = "$.code";
	probe_result_init(&r);
	assert_body(&r, &e, body, strlen(body), 0);
	assert_int_equal(r.error, PROBE_ERR_ASSERTION);
	assert_string_equal(r.message, "json $.status == \"degraded\": got \"ok\"");
	assert_false(r.assertions[0].ok);
	assert_true(r.assertions[1].ok);
	assert_false(r.assertions[2].ok);
	assert_string_equal(r.assertions[2].detail, "no value at that path");
	assert_false(r.assertions[3].ok);
	assert_string_equal(r.assertions[3].detail, "present: 200");
	probe_result_clear(&r);

	/* an invalid path is a failed assertion, not a crash */
	js[1].path = "$..code";
	probe_result_init(&r);
	assert_body(&r, &e, body, strlen(body), 0);
	assert_false(r.assertions[1].ok);
	assert_non_null(strstr(r.assertions[1].detail, "invalid path: column 2"));
	probe_result_clear(&r);

	json_decref(js[0].equals);
	json_decref(js[1].equals);
}

static void test_json_not_json(void **state)
{
	struct json_expect js = { .path = "$.status", .exists = true };
	struct check_expect e;
	struct probe_result r;
	const char html[] = "<html>oops</html>";
	const char bin[] = "{\"a\":\0\xff\xfe";

	(void)state;
	expect_init(&e);
	e.json = &js;
	e.n_json = 1;
	probe_result_init(&r);
	assert_body(&r, &e, html, strlen(html), 0);
	assert_int_equal(r.error, PROBE_ERR_ASSERTION);
	assert_false(last(&r)->ok);
	assert_true(strncmp(last(&r)->detail, "response is not JSON: ", 22) == 0);
	assert_non_null(strstr(last(&r)->detail, "at line 1 col 1"));
	probe_result_clear(&r);

	probe_result_init(&r);
	assert_body(&r, &e, bin, sizeof(bin) - 1, 0);
	assert_false(last(&r)->ok);
	assert_true(strncmp(last(&r)->detail, "response is not JSON: ", 22) == 0);
	probe_result_clear(&r);

	/* trailing garbage after a value is not JSON either (strict) */
	probe_result_init(&r);
	assert_body(&r, &e, "{\"status\":1} x", 14, 0);
	assert_false(last(&r)->ok);
	probe_result_clear(&r);

	/* empty body, and a truncated one says so */
	probe_result_init(&r);
	assert_body(&r, &e, NULL, 0, 0);
	assert_false(last(&r)->ok);
	probe_result_clear(&r);
	probe_result_init(&r);
	assert_body(&r, &e, "{\"status\":", 10, 1);
	assert_non_null(strstr(last(&r)->detail, "(body truncated at 10 bytes)"));
	probe_result_clear(&r);
}

static void test_headers(void **state)
{
	struct header_expect he[2];
	struct check_expect e;
	struct probe_result r;
	char *hdrs[] = { "Content-Type: application/json; charset=utf-8", "X-Empty:",
	                 "cache-control :  no-store  \r\n", "Set-Cookie: a=1", "Set-Cookie: b=2" };

	(void)state;
	expect_init(&e);
	memset(he, 0, sizeof(he));
	he[0].name = "content-type";
	he[0].pattern = "^application/json";
	he[0].re = re(he[0].pattern);
	he[1].name = "Cache-Control";
	he[1].pattern = "^no-store$";
	he[1].re = re(he[1].pattern);
	e.headers = he;
	e.n_headers = 2;
	probe_result_init(&r);
	assert_headers(&r, &e, hdrs, 5);
	assert_int_equal(r.error, PROBE_OK);
	assert_string_equal(r.assertions[0].what, "header content-type ~ /^application/json/");
	probe_result_clear(&r);

	/* any of several same-named headers may match */
	pcre2_code_free(he[0].re);
	he[0].name = "set-cookie";
	he[0].pattern = "b=2";
	he[0].re = re(he[0].pattern);
	e.n_headers = 1;
	probe_result_init(&r);
	assert_headers(&r, &e, hdrs, 5);
	assert_true(last(&r)->ok);
	probe_result_clear(&r);

	/* mismatch and absence */
	pcre2_code_free(he[0].re);
	he[0].name = "Content-Type";
	he[0].pattern = "text/html";
	he[0].re = re(he[0].pattern);
	probe_result_init(&r);
	assert_headers(&r, &e, hdrs, 5);
	assert_false(last(&r)->ok);
	assert_string_equal(last(&r)->detail, "got \"application/json; charset=utf-8\"");
	assert_int_equal(r.error, PROBE_ERR_ASSERTION);
	probe_result_clear(&r);
	he[0].name = "Content-Typ";
	probe_result_init(&r);
	assert_headers(&r, &e, hdrs, 5);
	assert_string_equal(last(&r)->detail, "header not present");
	probe_result_clear(&r);
	probe_result_init(&r);
	assert_headers(&r, &e, NULL, 0);
	assert_false(last(&r)->ok);
	probe_result_clear(&r);

	pcre2_code_free(he[0].re);
	pcre2_code_free(he[1].re);
}

static void test_latency_and_cert(void **state)
{
	struct check_expect e;
	struct probe_result r;
	int64_t now = 1800000000;

	(void)state;
	expect_init(&e);
	probe_result_init(&r);
	/* not set: nothing recorded */
	assert_max_latency(&r, &e, 5000000);
	assert_cert_days(&r, &e, 0, now);
	assert_int_equal(r.n_assertions, 0);

	e.max_latency_ms = 800;
	assert_max_latency(&r, &e, 799000);
	assert_true(last(&r)->ok);
	assert_string_equal(last(&r)->what, "max_latency 800ms");
	assert_max_latency(&r, &e, 1200400);
	assert_false(last(&r)->ok);
	assert_string_equal(last(&r)->detail, "took 1200 ms");
	assert_int_equal(r.error, PROBE_ERR_ASSERTION);
	probe_result_clear(&r);

	e.cert_min_days = 14;
	probe_result_init(&r);
	assert_cert_days(&r, &e, now + 30 * 86400 + 5, now);
	assert_true(last(&r)->ok);
	assert_non_null(strstr(last(&r)->detail, "expires in 30 days"));
	assert_cert_days(&r, &e, now + 14 * 86400, now);
	assert_true(last(&r)->ok);
	assert_cert_days(&r, &e, now + 13 * 86400 + 86399, now);
	assert_false(last(&r)->ok);
	assert_cert_days(&r, &e, now - 10, now);
	assert_non_null(strstr(last(&r)->detail, "expired"));
	assert_cert_days(&r, &e, 0, now);
	assert_string_equal(last(&r)->detail, "no certificate seen");
	probe_result_clear(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_default),
		cmocka_unit_test(test_status_ranges),
		cmocka_unit_test(test_body_contains),
		cmocka_unit_test(test_binary_body),
		cmocka_unit_test(test_body_regex),
		cmocka_unit_test(test_regex_budget),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_json_not_json),
		cmocka_unit_test(test_headers),
		cmocka_unit_test(test_latency_and_cert),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

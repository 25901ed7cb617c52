/* test_result.c — result init/fail/assert/detail/copy and the JSON form. */
#include <stdio.h>
#include <string.h>

#include "unit.h"

#include "probes/result.h"

static void test_init_fail(void **state)
{
	struct probe_result r, r2;

	(void)state;
	probe_result_init(&r);
	probe_result_init(&r2);
	assert_int_equal(strlen(r.run_id), 16);
	assert_string_not_equal(r.run_id, r2.run_id);
	assert_true(r.start_us > 1600000000LL * 1000000);
	assert_int_equal(r.dns_us, -1);
	assert_int_equal(r.ttfb_us, -1);
	assert_int_equal(r.status_code, -1);
	assert_int_equal(r.bytes, -1);
	assert_int_equal(r.error, PROBE_OK);
	assert_false(r.ok);

	probe_result_fail(&r, PROBE_ERR_CONNECT, "connection refused by %s:%d", "127.0.0.1", 8080);
	probe_result_fail(&r, PROBE_ERR_TIMEOUT, "later");
	assert_int_equal(r.error, PROBE_ERR_CONNECT);
	assert_string_equal(r.message, "connection refused by 127.0.0.1:8080");
	probe_result_clear(&r);
	probe_result_clear(&r2);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(probe_error_name(PROBE_OK), "ok");
	assert_string_equal(probe_error_name(PROBE_ERR_TIMEOUT), "timeout");
	assert_string_equal(probe_error_name(PROBE_ERR_HTTP_STATUS), "http_status");
	assert_string_equal(probe_error_name(PROBE_ERR_ABORTED), "aborted");
	assert_string_equal(probe_error_name(PROBE_ERR_INTERNAL), "internal");
	assert_string_equal(probe_error_name(PROBE_ERR_COUNT), "internal");
	for (int e = 0; e < PROBE_ERR_COUNT; e++)
		assert_non_null(probe_error_name((enum probe_error)e));
}

static void test_assertions(void **state)
{
	struct probe_result r;

	(void)state;
	probe_result_init(&r);
	probe_result_assert(&r, true, "status in [200]", "got %d", 200);
	assert_int_equal(r.error, PROBE_OK);
	probe_result_assert(&r, false, "body_contains \"ok\"", "not found in %d bytes", 532);
	assert_int_equal(r.error, PROBE_ERR_ASSERTION);
	assert_string_equal(r.message, "body_contains \"ok\": not found in 532 bytes");
	/* more than fit: kept up to the limit, never overflowing */
	for (int i = 0; i < 2 * PROBE_MAX_ASSERTIONS; i++)
		probe_result_assert(&r, true, "x", "%d", i);
	assert_int_equal(r.n_assertions, PROBE_MAX_ASSERTIONS);
	/* long texts are cut */
	{
		char big[1000];

		memset(big, 'w', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		probe_result_init(&r);
		probe_result_assert(&r, false, big, "%s", big);
		assert_int_equal(strlen(r.assertions[0].what), sizeof(r.assertions[0].what) - 1);
		assert_int_equal(strlen(r.assertions[0].detail), sizeof(r.assertions[0].detail) - 1);
		assert_int_equal(strlen(r.message), PROBE_MESSAGE_MAX - 1);
	}
	probe_result_clear(&r);
}

static void test_json(void **state)
{
	struct probe_result r, c;
	json_t *j, *ph;

	(void)state;
	probe_result_init(&r);
	r.start_us = 1795996404123000LL;      /* 2026-11-29T23:53:24.123Z */
	r.duration_us = 12345;
	r.dns_us = 1000;
	r.connect_us = 1500;
	r.ttfb_us = 9000;
	r.status_code = 503;
	r.bytes = 42;
	r.cert_expiry = 1800000000;
	probe_result_fail(&r, PROBE_ERR_HTTP_STATUS, "HTTP 503 Service Unavailable (expected 200-399)");
	probe_result_assert(&r, false, "status in [200-399]", "got 503");
	probe_result_detail(&r, "final_url", json_string("http://127.0.0.1/x"));
	probe_result_detail(&r, "redirects", json_integer(1));
	probe_result_detail(&r, "ignored", NULL);

	j = probe_result_to_json(&r);
	assert_string_equal(json_string_value(json_object_get(j, "run_id")), r.run_id);
	assert_string_equal(json_string_value(json_object_get(j, "ts")), "2026-11-29T23:53:24.123Z");
	assert_true(json_real_value(json_object_get(j, "duration_ms")) == 12.345);
	assert_true(json_is_false(json_object_get(j, "ok")));
	assert_string_equal(json_string_value(json_object_get(j, "error")), "http_status");
	assert_string_equal(json_string_value(json_object_get(j, "message")),
	                    "HTTP 503 Service Unavailable (expected 200-399)");
	ph = json_object_get(j, "phases_ms");
	assert_int_equal(json_object_size(ph), 3);
	assert_true(json_real_value(json_object_get(ph, "dns")) == 1.0);
	assert_true(json_real_value(json_object_get(ph, "first_byte")) == 9.0);
	assert_null(json_object_get(ph, "tls"));
	assert_int_equal(json_integer_value(json_object_get(j, "status_code")), 503);
	assert_int_equal(json_integer_value(json_object_get(j, "bytes")), 42);
	assert_string_equal(json_string_value(json_object_get(j, "cert_expiry")),
	                    "2027-01-15T08:00:00.000Z");
	assert_int_equal(json_integer_value(json_object_get(j, "attempts")), 1);
	assert_int_equal(json_array_size(json_object_get(j, "assertions")), 1);
	assert_string_equal(json_string_value(json_object_get(
	                            json_array_get(json_object_get(j, "assertions"), 0), "detail")),
	                    "got 503");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "details"), "redirects")), 1);
	assert_null(json_object_get(json_object_get(j, "details"), "ignored"));
	json_decref(j);

	/* copies share details; each clear drops one reference */
	probe_result_copy(&c, &r);
	assert_ptr_equal(c.details, r.details);
	probe_result_clear(&r);
	assert_int_equal(json_integer_value(json_object_get(c.details, "redirects")), 1);
	probe_result_clear(&c);

	/* a fresh result: nulls, empty phases and details; invalid UTF-8 survives */
	probe_result_init(&r);
	r.ok = true;
	memcpy(r.message, "cut \xe2\x82", 7);
	j = probe_result_to_json(&r);
	assert_true(json_is_null(json_object_get(j, "status_code")));
	assert_true(json_is_null(json_object_get(j, "cert_expiry")));
	assert_int_equal(json_object_size(json_object_get(j, "phases_ms")), 0);
	assert_true(json_is_object(json_object_get(j, "details")));
	assert_true(json_is_null(json_object_get(j, "error")));     /* passed: no error */
	assert_string_equal(json_string_value(json_object_get(j, "message")), "cut ");
	json_decref(j);
	probe_result_clear(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_fail),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_assertions),
		cmocka_unit_test(test_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

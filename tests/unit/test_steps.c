/* test_steps.c — run-time ${var:NAME} substitution of multi-step http checks
 * (probe_http_subst): known, unknown and unclosed variables, empty and long
 * values, percent-encoding in URLs, no header injection, no rescanning of
 * inserted text, and the size ceiling. */
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#include "probes/probe.h"

static const char *names[] = { "token", "id", "empty", "evil", "nested" };
static const char *values[] = { "abc123", "42", "", "a b/c?d=e&f\r\nX-Injected: 1", "${var:token}" };
#define NV (sizeof(names) / sizeof(names[0]))

static void check(const char *in, enum probe_subst_mode mode, const char *want)
{
	char *out = probe_http_subst(in, names, values, NV, mode);

	assert_non_null(out);
	assert_string_equal(out, want);
	free(out);
}

static void test_known_vars(void **state)
{
	check("Bearer ${var:token}", PROBE_SUBST_HEADER, "Bearer abc123");
	check("${var:token}${var:id}", PROBE_SUBST_RAW, "abc12342");
	check("{\"id\": ${var:id}}", PROBE_SUBST_RAW, "{\"id\": 42}");
	check("no vars at all", PROBE_SUBST_RAW, "no vars at all");
	check("", PROBE_SUBST_URL, "");
}

static void test_unknown_and_malformed_stay(void **state)
{
	check("x ${var:nope} y", PROBE_SUBST_RAW, "x ${var:nope} y");
	check("x ${var:token", PROBE_SUBST_RAW, "x ${var:token");
	check("${var:}", PROBE_SUBST_RAW, "${var:}");
	check("${env:HOME} $ {var:token} $${var:id}", PROBE_SUBST_RAW, "${env:HOME} $ {var:token} $42");
	check("${var:${var:token}}", PROBE_SUBST_RAW, "${var:${var:token}}");
}

static void test_empty_value(void **state)
{
	check("a${var:empty}b", PROBE_SUBST_RAW, "ab");
	check("/p/${var:empty}", PROBE_SUBST_URL, "/p/");
}

static void test_special_chars(void **state)
{
	check("https://h/u/${var:evil}?q=${var:evil}", PROBE_SUBST_URL,
	      "https://h/u/a%20b%2Fc%3Fd%3De%26f%0D%0AX-Injected%3A%201?q="
	      "a%20b%2Fc%3Fd%3De%26f%0D%0AX-Injected%3A%201");
	/* a header never gets a second line */
	check("X-Id: ${var:evil}", PROBE_SUBST_HEADER, "X-Id: a b/c?d=e&f  X-Injected: 1");
	/* the body takes the value as is */
	check("${var:evil}", PROBE_SUBST_RAW, "a b/c?d=e&f\r\nX-Injected: 1");
	/* unreserved characters stay readable in a URL */
	check("/${var:token}-${var:id}", PROBE_SUBST_URL, "/abc123-42");
}

static void test_inserted_text_not_rescanned(void **state)
{
	check("${var:nested}", PROBE_SUBST_RAW, "${var:token}");
	check("${var:nested}", PROBE_SUBST_URL, "%24%7Bvar%3Atoken%7D");
}

static void test_long_values_and_ceiling(void **state)
{
	size_t n = 300000;
	char *v = malloc(n + 1), *out;
	const char *nm[] = { "big" };
	const char *vals[1];
	char tmpl[] = "${var:big}${var:big}${var:big}";
	char tmpl_url[] = "${var:big}${var:big}";

	memset(v, 'a', n);
	v[n] = '\0';
	vals[0] = v;
	out = probe_http_subst(tmpl, nm, vals, 1, PROBE_SUBST_RAW);
	assert_non_null(out);
	assert_int_equal(strlen(out), 3 * n);
	free(out);
	/* four copies pass the 1 MiB ceiling */
	out = probe_http_subst("${var:big}${var:big}${var:big}${var:big}", nm, vals, 1, PROBE_SUBST_RAW);
	assert_null(out);
	/* percent-encoding triples the size: two copies are too many */
	memset(v, '/', n);
	out = probe_http_subst(tmpl_url, nm, vals, 1, PROBE_SUBST_URL);
	assert_null(out);
	free(v);
}

static void test_no_vars(void **state)
{
	char *out = probe_http_subst("${var:token}", NULL, NULL, 0, PROBE_SUBST_RAW);

	assert_string_equal(out, "${var:token}");
	free(out);
	out = probe_http_subst(NULL, NULL, NULL, 0, PROBE_SUBST_RAW);
	assert_string_equal(out, "");
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_vars),
		cmocka_unit_test(test_unknown_and_malformed_stay),
		cmocka_unit_test(test_empty_value),
		cmocka_unit_test(test_special_chars),
		cmocka_unit_test(test_inserted_text_not_rescanned),
		cmocka_unit_test(test_long_values_and_ceiling),
		cmocka_unit_test(test_no_vars),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

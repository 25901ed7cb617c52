/* test_expr.c — the rule expression language: parsing (operators, precedence,
 * units, metrics, errors with columns), three-valued evaluation, the observed
 * value text, and the inspection helpers. */
#include "unit.h"
#include "alerts/expr.h"
#include "alerts/window.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Parses text (which must be valid) and returns its canonical form. */
static const char *canon(const char *text)
{
	static char out[1024];
	char err[256];
	int col = -1;
	struct expr *e = expr_parse(text, err, sizeof(err), &col);

	if (e == NULL)
		fail_msg("expr_parse(\"%s\") failed at column %d: %s", text, col, err);
	expr_format(e, out, sizeof(out));
	expr_free(e);
	return out;
}

/* Parses text (which must be invalid); checks the column and that the message
 * contains want. */
static void expect_error(const char *text, int want_col, const char *want)
{
	char err[256];
	int col = -1;
	struct expr *e = expr_parse(text, err, sizeof(err), &col);

	if (e != NULL) {
		expr_free(e);
		fail_msg("expr_parse(\"%s\") succeeded, expected an error", text);
	}
	if (col != want_col || strstr(err, want) == NULL)
		fail_msg("expr_parse(\"%s\"): column %d \"%s\", expected column %d containing \"%s\"",
		         text, col, err, want_col, want);
}

static void test_comparisons(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "consecutive_failures >= 3", "consecutive_failures >= 3" },
		{ "consecutive_failures>3", "consecutive_failures > 3" },
		{ "consecutive_successes < 2", "consecutive_successes < 2" },
		{ "consecutive_successes <= 2", "consecutive_successes <= 2" },
		{ "consecutive_failures == 0", "consecutive_failures == 0" },
		{ "consecutive_failures != 0", "consecutive_failures != 0" },
		{ "cert_expiry_days < 14", "cert_expiry_days < 14" },
		{ "cert_expiry_days < 2.5", "cert_expiry_days < 2.5" },
		{ "heartbeat_age > 2h", "heartbeat_age > 2h" },
		{ "error_rate(10m) > 5%", "error_rate(10m) > 5%" },
		{ "error_rate(1h) >= 0.5%", "error_rate(1h) >= 0.5%" },
		{ "error_rate( 5m ) > 100%", "error_rate(5m) > 100%" },
		{ "p50_latency(5m) > 800ms", "p50_latency(5m) > 800ms" },
		{ "p90_latency(5m) > 1s", "p90_latency(5m) > 1s" },
		{ "p95_latency(5m) > 800ms", "p95_latency(5m) > 800ms" },
		{ "p99_latency(1h) > 1.5s", "p99_latency(1h) > 1500ms" },
		{ "avg_latency(30s) > 250ms", "avg_latency(30s) > 250ms" },
		{ "p95_latency(1s) > 0.5ms", "p95_latency(1s) > 0.5ms" },
		{ "p95_latency(30d) > 2m", "p95_latency(30d) > 2m" },
		{ "heartbeat_age > 7d", "heartbeat_age > 7d" },
		{ "heartbeat_age > 90m", "heartbeat_age > 90m" },
		{ "\theartbeat_age\n>\r\n1h  ", "heartbeat_age > 1h" },
		{ "heartbeat_age > 0.001s", "heartbeat_age > 1ms" },
		{ "heartbeat_age > 0ms", "heartbeat_age > 0ms" },
		{ "heartbeat_age > 0.0005ms", "heartbeat_age > 0.001ms" },
		{ "heartbeat_age > 3650d", "heartbeat_age > 3650d" },
		{ "heartbeat_age > 1.5d", "heartbeat_age > 36h" },
		{ "error_rate(1.5m) > 0.00001%", "error_rate(90s) > 0.00001%" },
		{ "consecutive_failures > 999999999999999", "consecutive_failures > 999999999999999" },
		{ "cert_expiry_days < 0.12345678901234", "cert_expiry_days < 0.12345678901234" },
		{ "cert_expiry_days < 007", "cert_expiry_days < 7" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_string_equal(canon(cases[i].in), cases[i].out);
}

static void test_precedence(void **state)
{
	assert_string_equal(canon("not consecutive_failures > 1 and consecutive_successes > 2 "
	                          "or cert_expiry_days < 3"),
	                    "((not (consecutive_failures > 1) and consecutive_successes > 2) or "
	                    "cert_expiry_days < 3)");
	assert_string_equal(canon("consecutive_failures > 1 or consecutive_successes > 2 and "
	                          "cert_expiry_days < 3"),
	                    "(consecutive_failures > 1 or (consecutive_successes > 2 and "
	                    "cert_expiry_days < 3))");
	assert_string_equal(canon("not (consecutive_failures > 1 or consecutive_successes > 2)"),
	                    "not (consecutive_failures > 1 or consecutive_successes > 2)");
	assert_string_equal(canon("(consecutive_failures > 1 or consecutive_successes > 2) and "
	                          "cert_expiry_days < 3"),
	                    "((consecutive_failures > 1 or consecutive_successes > 2) and "
	                    "cert_expiry_days < 3)");
	/* chains stay flat */
	assert_string_equal(canon("consecutive_failures > 1 and consecutive_failures > 2 and "
	                          "consecutive_failures > 3"),
	                    "(consecutive_failures > 1 and consecutive_failures > 2 and "
	                    "consecutive_failures > 3)");
	assert_string_equal(canon("not not heartbeat_age > 1m"), "not (not (heartbeat_age > 1m))");
	assert_string_equal(canon("((((heartbeat_age > 1m))))"), "heartbeat_age > 1m");
}

static void test_errors(void **state)
{
	/* empty and trailing garbage */
	expect_error("", 1, "empty expression");
	expect_error("   ", 1, "empty expression");
	expect_error(NULL, 1, "empty expression");
	expect_error("consecutive_failures >= 3 foo", 27, "unexpected \"foo\" after a complete condition");
	expect_error("consecutive_failures >= 3)", 26, "unbalanced ')'");
	expect_error("consecutive_failures >= 3 and", 30, "expected a metric, \"not\" or '(', found the end");
	expect_error("consecutive_failures >= 3 or or heartbeat_age > 1m", 30, "expected a condition before \"or\"");
	expect_error("and consecutive_failures >= 3", 1, "expected a condition before \"and\"");
	expect_error("()", 2, "found \")\"");
	/* unknown names */
	expect_error("consecutive_failure >= 3", 1, "did you mean consecutive_failures?");
	expect_error("x > 1 ", 1, "unknown name \"x\": expected a metric");
	expect_error("p95_latncy(5m) > 1s", 1, "did you mean p95_latency?");
	expect_error("failures > 3", 1, "did you mean consecutive_failures?");
	expect_error("heartbeat_age > 1m AND consecutive_failures > 1", 20, "did you mean and?");
	expect_error("heartbeat_age > 1m xor consecutive_failures > 1", 20, "unexpected \"xor\"");
	/* comparisons */
	expect_error("consecutive_failures", 21, "expected a comparison (>, >=, <, <=, ==, !=) after consecutive_failures");
	expect_error("consecutive_failures = 3", 22, "use == to compare");
	expect_error("consecutive_failures >", 23, "expected a value after >, such as a plain number");
	expect_error("consecutive_failures > > 3", 24, "expected a value after >");
	expect_error("3 < consecutive_failures", 1, "write the metric first");
	expect_error("consecutive_failures > 3 && heartbeat_age > 1m", 26, "use \"and\"");
	expect_error("consecutive_failures > 3 || heartbeat_age > 1m", 26, "use \"or\"");
	expect_error("!consecutive_failures > 3", 1, "use \"not\"");
	expect_error("consecutive_failures > \"3\"", 24, "without quotes");
	expect_error("consecutive_failures > -3", 24, "negative");
	expect_error("consecutive_failures > 3 $", 26, "unexpected character '$'");
	expect_error("consecutive_failures > 3 \x01", 26, "unexpected byte 0x01");
	/* types: the column of the value */
	expect_error("p95_latency(5m) > 3", 19, "compare p95_latency to a duration such as 800ms");
	expect_error("avg_latency(5m) > 5%", 19, "compare avg_latency to a duration");
	expect_error("heartbeat_age > 3", 17, "compare heartbeat_age to a duration");
	expect_error("error_rate(5m) > 5", 18, "compare error_rate to a percentage such as 5%");
	expect_error("error_rate(5m) > 5s", 18, "compare error_rate to a percentage");
	expect_error("error_rate(5m) > 101%", 18, "between 0% and 100%");
	expect_error("consecutive_failures >= 3s", 25, "compare consecutive_failures to a plain number");
	expect_error("cert_expiry_days < 14d", 20, "compare cert_expiry_days to a plain number of days");
	expect_error("consecutive_successes > 50%", 25, "compare consecutive_successes to a plain number");
	/* units and numbers */
	expect_error("heartbeat_age > 5mins", 18, "unknown unit \"mins\"");
	expect_error("heartbeat_age > 5x", 18, "unknown unit \"x\"");
	expect_error("cert_expiry_days < 1.2.3", 20, "malformed number");
	expect_error("cert_expiry_days < 1.", 20, "malformed number");
	expect_error("cert_expiry_days < .5", 20, "write numbers as 3 or 0.5");
	expect_error("heartbeat_age > 3651d", 17, "too long");
	expect_error("cert_expiry_days < 5e3", 21, "unknown unit \"e3\"");
	expect_error("cert_expiry_days < 1234567890123456", 20, "too many digits");
	/* windows */
	expect_error("error_rate > 5%", 12, "error_rate needs a window, such as error_rate(5m)");
	expect_error("error_rate(5) > 5%", 12, "must be a duration");
	expect_error("error_rate(5%) > 5%", 12, "must be a duration");
	expect_error("error_rate() > 5%", 12, "must be a duration");
	expect_error("error_rate(500ms) > 5%", 12, "between 1s and 30d");
	expect_error("error_rate(31d) > 5%", 12, "between 1s and 30d");
	expect_error("error_rate(5m > 5%", 15, "expected ')' to close the '(' at column 11");
	expect_error("cert_expiry_days(5m) < 3", 17, "cert_expiry_days takes no window");
	/* parentheses */
	expect_error("(heartbeat_age > 1m", 20, "expected ')' to close the '(' at column 1, found the end");
	expect_error("(heartbeat_age > 1m heartbeat_age", 21, "expected ')' to close the '(' at column 1");
}

static void test_depth_and_length(void **state)
{
	char buf[EXPR_MAX_TEXT + 64];
	char err[256];
	int col;
	struct expr *e;
	size_t n = 0;

	/* exactly EXPR_MAX_DEPTH levels: fine */
	for (int i = 0; i < EXPR_MAX_DEPTH; i++)
		buf[n++] = '(';
	n += (size_t)sprintf(buf + n, "heartbeat_age > 1m");
	for (int i = 0; i < EXPR_MAX_DEPTH; i++)
		buf[n++] = ')';
	buf[n] = '\0';
	e = expr_parse(buf, err, sizeof(err), &col);
	assert_non_null(e);
	expr_free(e);

	/* one more: an error at the first '(' too many */
	memmove(buf + 1, buf, n + 1);
	buf[0] = '(';
	strcat(buf, ")");
	expect_error(buf, EXPR_MAX_DEPTH + 1, "nested too deeply");

	/* not not not ... */
	n = 0;
	for (int i = 0; i < 100; i++)
		n += (size_t)sprintf(buf + n, "not ");
	sprintf(buf + n, "heartbeat_age > 1m");
	expect_error(buf, 4 * EXPR_MAX_DEPTH + 1, "nested too deeply");

	/* deep, unbalanced, no crash and no leak */
	memset(buf, '(', EXPR_MAX_TEXT);
	buf[EXPR_MAX_TEXT] = '\0';
	expect_error(buf, EXPR_MAX_DEPTH + 1, "nested too deeply");

	/* a long flat chain is fine and does not recurse */
	n = (size_t)sprintf(buf, "heartbeat_age > 1m");
	while (n + 40 < EXPR_MAX_TEXT)
		n += (size_t)sprintf(buf + n, " or heartbeat_age > 1m");
	e = expr_parse(buf, err, sizeof(err), &col);
	assert_non_null(e);
	expr_free(e);

	/* too long */
	memset(buf, ' ', EXPR_MAX_TEXT + 1);
	buf[EXPR_MAX_TEXT + 1] = '\0';
	expect_error(buf, EXPR_MAX_TEXT + 1, "longer than");
}

static void test_error_buffer(void **state)
{
	char err[8];
	int col = 0;

	/* a tiny buffer truncates; no buffer at all is fine too */
	assert_null(expr_parse("nope > 1", err, sizeof(err), &col));
	assert_int_equal(strlen(err), 7);
	assert_int_equal(col, 1);
	assert_null(expr_parse("nope > 1", NULL, 0, NULL));
}

/* Evaluates text (valid) against in and checks the result and the value text. */
static void expect_eval(const char *text, const struct expr_input *in,
                        enum expr_truth want, const char *want_value)
{
	char err[256], value[64];
	int col;
	struct expr *e = expr_parse(text, err, sizeof(err), &col);
	enum expr_truth t;

	if (e == NULL)
		fail_msg("expr_parse(\"%s\"): column %d: %s", text, col, err);
	t = expr_eval(e, in, value, sizeof(value));
	expr_free(e);
	if (t != want || (want_value != NULL && strcmp(value, want_value) != 0))
		fail_msg("\"%s\": %s \"%s\", expected %s \"%s\"", text, expr_truth_name(t), value,
		         expr_truth_name(want), want_value ? want_value : "*");
}

static void test_eval_operators(void **state)
{
	struct expr_input in = { .consecutive_failures = 3, .consecutive_successes = 0,
	                         .cert_expiry_days = 12, .heartbeat_age_ms = NAN };

	expect_eval("consecutive_failures > 2", &in, EXPR_TRUE, "3");
	expect_eval("consecutive_failures > 3", &in, EXPR_FALSE, "3");
	expect_eval("consecutive_failures >= 3", &in, EXPR_TRUE, "3");
	expect_eval("consecutive_failures >= 4", &in, EXPR_FALSE, "3");
	expect_eval("consecutive_failures < 4", &in, EXPR_TRUE, "3");
	expect_eval("consecutive_failures < 3", &in, EXPR_FALSE, "3");
	expect_eval("consecutive_failures <= 3", &in, EXPR_TRUE, "3");
	expect_eval("consecutive_failures <= 2", &in, EXPR_FALSE, "3");
	expect_eval("consecutive_failures == 3", &in, EXPR_TRUE, "3");
	expect_eval("consecutive_failures == 2", &in, EXPR_FALSE, "3");
	expect_eval("consecutive_failures != 2", &in, EXPR_TRUE, "3");
	expect_eval("consecutive_failures != 3", &in, EXPR_FALSE, "3");
	expect_eval("consecutive_successes >= 2", &in, EXPR_FALSE, "0");
	expect_eval("cert_expiry_days < 14", &in, EXPR_TRUE, "12 days");
	expect_eval("not cert_expiry_days < 14", &in, EXPR_FALSE, "12 days");
	/* precedence shows in the result: not a and b or c */
	expect_eval("not consecutive_failures > 2 and cert_expiry_days < 14 or consecutive_successes == 0",
	            &in, EXPR_TRUE, "0");
	expect_eval("not (consecutive_failures > 2 and cert_expiry_days < 14 or consecutive_successes == 0)",
	            &in, EXPR_FALSE, "3");
	expect_eval("not consecutive_failures > 2 and (cert_expiry_days < 14 or consecutive_successes == 0)",
	            &in, EXPR_FALSE, "3");
	/* the deciding comparison: first false of a false and, first true of a true or */
	expect_eval("consecutive_failures > 2 and cert_expiry_days > 20", &in, EXPR_FALSE, "12 days");
	expect_eval("consecutive_failures > 2 and cert_expiry_days < 20", &in, EXPR_TRUE, "3");
	expect_eval("consecutive_failures > 5 or cert_expiry_days < 20", &in, EXPR_TRUE, "12 days");
	expect_eval("consecutive_failures > 5 or cert_expiry_days > 20", &in, EXPR_FALSE, "3");

	in.cert_expiry_days = 1;
	expect_eval("cert_expiry_days < 14", &in, EXPR_TRUE, "1 day");
	in.cert_expiry_days = 2.54;
	expect_eval("cert_expiry_days < 14", &in, EXPR_TRUE, "2.5 days");
	in.cert_expiry_days = -3;
	expect_eval("cert_expiry_days < 0", &in, EXPR_TRUE, "expired 3 days ago");
	in.heartbeat_age_ms = 3 * 3600000.0 + 12 * 60000.0 + 5000;
	expect_eval("heartbeat_age > 2h", &in, EXPR_TRUE, "3h 12m");
	in.heartbeat_age_ms = 2 * 3600000.0;
	expect_eval("heartbeat_age > 2h", &in, EXPR_FALSE, "2h");
	expect_eval("heartbeat_age >= 2h", &in, EXPR_TRUE, "2h");
	in.heartbeat_age_ms = 50 * 3600000.0;
	expect_eval("heartbeat_age > 1d", &in, EXPR_TRUE, "2d 2h");
	in.heartbeat_age_ms = 312000;
	expect_eval("heartbeat_age > 1m", &in, EXPR_TRUE, "5m 12s");
	in.heartbeat_age_ms = 1500;
	expect_eval("heartbeat_age > 1s", &in, EXPR_TRUE, "1.5 s");
}

static void test_eval_unknown(void **state)
{
	struct expr_input in = { .consecutive_failures = 3, .cert_expiry_days = NAN,
	                         .heartbeat_age_ms = NAN, .window = NULL, .now_ms = 1000000 };
	struct window *w = window_new(16);

	/* no data: UNKNOWN, whatever the operator */
	expect_eval("cert_expiry_days < 14", &in, EXPR_UNKNOWN, "no data");
	expect_eval("cert_expiry_days >= 14", &in, EXPR_UNKNOWN, "no data");
	expect_eval("not cert_expiry_days < 14", &in, EXPR_UNKNOWN, "no data");
	expect_eval("heartbeat_age > 1m", &in, EXPR_UNKNOWN, "no data");
	expect_eval("error_rate(5m) > 5%", &in, EXPR_UNKNOWN, "no data");
	expect_eval("p95_latency(5m) > 1s", &in, EXPR_UNKNOWN, "no data");
	/* Kleene: FALSE and UNKNOWN = FALSE, TRUE or UNKNOWN = TRUE */
	expect_eval("cert_expiry_days < 14 and consecutive_failures > 5", &in, EXPR_FALSE, "3");
	expect_eval("cert_expiry_days < 14 and consecutive_failures > 2", &in, EXPR_UNKNOWN, "no data");
	expect_eval("consecutive_failures > 2 and cert_expiry_days < 14", &in, EXPR_UNKNOWN, "no data");
	expect_eval("cert_expiry_days < 14 or consecutive_failures > 2", &in, EXPR_TRUE, "3");
	expect_eval("cert_expiry_days < 14 or consecutive_failures > 5", &in, EXPR_UNKNOWN, "no data");
	expect_eval("not (cert_expiry_days < 14 or consecutive_failures > 5)", &in, EXPR_UNKNOWN, NULL);
	expect_eval("not (cert_expiry_days < 14 and consecutive_failures > 5)", &in, EXPR_TRUE, "3");

	/* an empty window, and runs outside the window, are no data too */
	in.window = w;
	expect_eval("error_rate(5m) > 5%", &in, EXPR_UNKNOWN, "no data");
	window_add(w, in.now_ms - 600000, 100, false);
	expect_eval("error_rate(5m) > 5%", &in, EXPR_UNKNOWN, "no data");
	expect_eval("error_rate(10m) > 5%", &in, EXPR_TRUE, "100%");
	/* a run without a duration counts for error_rate only */
	window_add(w, in.now_ms - 1000, NAN, true);
	expect_eval("avg_latency(5m) > 1ms", &in, EXPR_UNKNOWN, "no data");
	expect_eval("error_rate(5m) < 5%", &in, EXPR_TRUE, "0%");
	window_free(w);

	assert_int_equal(expr_truth_not(EXPR_TRUE), EXPR_FALSE);
	assert_int_equal(expr_truth_not(EXPR_FALSE), EXPR_TRUE);
	assert_int_equal(expr_truth_not(EXPR_UNKNOWN), EXPR_UNKNOWN);
}

static void test_eval_windows(void **state)
{
	struct window *w = window_new(window_capacity_for(3600000, 1000));
	struct expr_input in = { .cert_expiry_days = NAN, .heartbeat_age_ms = NAN, .window = w };
	int64_t now = 1700000000000;

	/* 100 runs, one a second, durations 1..100 ms, every 10th failed */
	for (int i = 1; i <= 100; i++)
		window_add(w, now - 100000 + i * 1000, i, i % 10 != 0);
	in.now_ms = now;
	expect_eval("error_rate(100s) == 10%", &in, EXPR_TRUE, "10%");
	expect_eval("error_rate(100s) > 10%", &in, EXPR_FALSE, "10%");
	expect_eval("p50_latency(100s) == 50ms", &in, EXPR_TRUE, "50 ms");
	expect_eval("p90_latency(100s) == 90ms", &in, EXPR_TRUE, "90 ms");
	expect_eval("p95_latency(100s) == 95ms", &in, EXPR_TRUE, "95 ms");
	expect_eval("p99_latency(100s) == 99ms", &in, EXPR_TRUE, "99 ms");
	expect_eval("avg_latency(100s) == 50.5ms", &in, EXPR_TRUE, "50.5 ms");
	/* the last 10 s: runs 91..100 (ts now-9000 .. now), and now-10000 = run 90 */
	expect_eval("p50_latency(10s) == 95ms", &in, EXPR_TRUE, "95 ms");
	expect_eval("error_rate(10s) > 18%", &in, EXPR_TRUE, "18.2%");
	expect_eval("error_rate(5s) > 16%", &in, EXPR_TRUE, "16.7%");
	expect_eval("error_rate(3s) > 25%", &in, EXPR_FALSE, "25%");
	/* one failure in 300 runs */
	window_clear(w);
	for (int i = 0; i < 300; i++)
		window_add(w, now - i, 1200, i != 7);
	expect_eval("error_rate(1h) > 0.3%", &in, EXPR_TRUE, "0.33%");
	expect_eval("p99_latency(1h) > 1s", &in, EXPR_TRUE, "1.2 s");
	window_free(w);
}

static void test_negate_and_inspect(void **state)
{
	char err[256], out[256];
	int col;
	struct expr *e = expr_parse("consecutive_failures >= 3 or (p95_latency(5m) > 800ms and "
	                            "not error_rate(1h) < 5%)", err, sizeof(err), &col);
	struct expr *n, *c, *h;
	struct expr_input in = { .consecutive_failures = 3, .cert_expiry_days = NAN,
	                         .heartbeat_age_ms = NAN };

	assert_non_null(e);
	assert_int_equal(expr_max_window_ms(e), 3600000);
	assert_true(expr_uses(e, EXPR_CONSECUTIVE_FAILURES));
	assert_true(expr_uses(e, EXPR_P95_LATENCY));
	assert_true(expr_uses(e, EXPR_ERROR_RATE));
	assert_false(expr_uses(e, EXPR_P99_LATENCY));
	assert_false(expr_uses(e, EXPR_HEARTBEAT_AGE));
	assert_true(expr_needs_timer(e));

	n = expr_negate(e);
	expr_format(n, out, sizeof(out));
	assert_string_equal(out, "not (consecutive_failures >= 3 or (p95_latency(5m) > 800ms and "
	                         "not (error_rate(1h) < 5%)))");
	expr_free(e);       /* the negation is independent */
	assert_int_equal(expr_eval(n, &in, NULL, 0), EXPR_FALSE);
	assert_int_equal(expr_max_window_ms(n), 3600000);
	expr_free(n);
	assert_null(expr_negate(NULL));
	expr_free(NULL);

	c = expr_parse("consecutive_failures >= 3", err, sizeof(err), &col);
	assert_int_equal(expr_max_window_ms(c), 0);
	assert_false(expr_needs_timer(c));
	h = expr_parse("not heartbeat_age > 1h", err, sizeof(err), &col);
	assert_true(expr_needs_timer(h));
	assert_int_equal(expr_max_window_ms(h), 0);

	/* expr_format reports the length it needed and truncates */
	assert_int_equal(expr_format(c, out, 5), strlen("consecutive_failures >= 3"));
	assert_string_equal(out, "cons");
	expr_free(c);
	expr_free(h);

	assert_string_equal(expr_metric_name(EXPR_P95_LATENCY), "p95_latency");
	assert_string_equal(expr_truth_name(EXPR_UNKNOWN), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_comparisons),
		cmocka_unit_test(test_precedence),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_depth_and_length),
		cmocka_unit_test(test_error_buffer),
		cmocka_unit_test(test_eval_operators),
		cmocka_unit_test(test_eval_unknown),
		cmocka_unit_test(test_eval_windows),
		cmocka_unit_test(test_negate_and_inspect),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

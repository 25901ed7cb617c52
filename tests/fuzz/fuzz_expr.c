/* fuzz_expr.c — libFuzzer target for the rule expression parser: any bytes
 * give an expression or an error with a column inside the text, never a
 * crash, a hang or a leak; a valid expression is also evaluated, formatted,
 * negated and re-parsed from its canonical form. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alerts/expr.h"
#include "core/util.h"
#include "alerts/window.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW_MS 1700000000000LL

/* A small window with some failures and a spread of latencies, built once. */
static struct window *fuzz_window(void)
{
	static struct window *w;

	if (w == NULL) {
		w = window_new(64);
		for (int i = 0; i < 80; i++)
			window_add(w, NOW_MS - 80000 + i * 1000, (i * 37) % 900 + 0.5, i % 7 != 0);
	}
	return w;
}

/* The input is copied and NUL-terminated (an embedded NUL ends the text). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256], value[64], canon[EXPR_MAX_TEXT * 2];
	int col = 0;
	char *text = xmalloc(size + 1);
	struct expr *e, *n, *again;
	size_t len;

	memcpy(text, data, size);
	text[size] = '\0';
	e = expr_parse(text, err, sizeof(err), &col);
	if (e == NULL) {
		len = strlen(text);
		if (col < 1 || (size_t)col > (len > EXPR_MAX_TEXT ? EXPR_MAX_TEXT : len) + 1 ||
		    err[0] == '\0')
			abort();
		free(text);
		return 0;
	}

	struct expr_input in = {
		.consecutive_failures = size % 5,
		.consecutive_successes = size % 3,
		.cert_expiry_days = size % 2 ? NAN : 12.5,
		.heartbeat_age_ms = size % 4 ? 90000 : NAN,
		.window = size % 3 ? fuzz_window() : NULL,
		.now_ms = NOW_MS,
	};
	enum expr_truth t = expr_eval(e, &in, value, sizeof(value));

	/* the negation is the Kleene negation */
	n = expr_negate(e);
	if (expr_eval(n, &in, NULL, 0) != expr_truth_not(t))
		abort();
	expr_free(n);

	/* the canonical form parses back to the same meaning, when it fits the limit */
	len = expr_format(e, canon, sizeof(canon));
	if (len < sizeof(canon) && len <= EXPR_MAX_TEXT) {
		again = expr_parse(canon, err, sizeof(err), &col);
		if (again == NULL || expr_eval(again, &in, NULL, 0) != t ||
		    expr_max_window_ms(again) != expr_max_window_ms(e))
			abort();
		expr_free(again);
	}
	(void)expr_needs_timer(e);
	expr_free(e);
	free(text);
	return 0;
}

/* expr.h — alert rule expressions (SPEC §2.2): the `when` / `recover` language,
 * parsed once at config load, evaluated on every new result (and on a timer).
 *
 * Grammar (precedence low to high: or < and < not < comparison):
 *
 *   expr       := or
 *   or         := and ( "or" and )*
 *   and        := unary ( "and" unary )*
 *   unary      := "not" unary | "(" expr ")" | comparison
 *   comparison := metric ( ">" | ">=" | "<" | "<=" | "==" | "!=" ) value
 *   metric     := consecutive_failures | consecutive_successes
 *               | cert_expiry_days | heartbeat_age
 *               | error_rate(W) | p50_latency(W) | p90_latency(W)
 *               | p95_latency(W) | p99_latency(W) | avg_latency(W)
 *   value      := number ("3", "2.5") | duration ("800ms", "1.5s", "2m", "1h", "7d")
 *               | percentage ("5%", "0.5%")
 *                  (a digit first, at most 15 digits, the unit glued on, no sign,
 *                   no exponent; durations to the microsecond, at most 3650d)
 *
 * Types are checked at parse time: latencies and heartbeat_age take a duration,
 * error_rate a percentage (0% to 100%), the consecutive counts and
 * cert_expiry_days a plain number. A window W is a duration from 1s to 30d.
 * Keywords and metric names are lower case. The whole text is at most
 * EXPR_MAX_TEXT bytes and nests at most EXPR_MAX_DEPTH levels ("not" and "(").
 *
 * Evaluation is three-valued (Kleene): a comparison on a metric without data
 * (no run in the window, no certificate seen, no heartbeat yet) is
 * EXPR_UNKNOWN, and so is everything it decides; the engine keeps an alert in
 * its current state on EXPR_UNKNOWN, so missing data never fires or resolves.
 *
 * Typical use (config loader, then engine):
 *
 *   char err[256]; int col;
 *   rule->when = expr_parse(rule->when_text, err, sizeof(err), &col);
 *   if (rule->when == NULL)
 *       report("%s:%d: rule \"%s\": when: column %d: %s", file, line, name, col, err);
 *   ... rule->recover stays NULL without `recover`: the engine uses
 *   expr_truth_not(expr_eval(rule->when, ...)), or the loader may set
 *   rule->recover = expr_negate(rule->when).
 *
 *   window capacity for a check: window_capacity_for(max over its rules of
 *   expr_max_window_ms(), check interval)  (window.h)
 *
 *   struct expr_input in = { .consecutive_failures = ..., .cert_expiry_days = NAN,
 *                            .heartbeat_age_ms = NAN, .window = w, .now_ms = wall_ms };
 *   char value[64];
 *   switch (expr_eval(rule->when, &in, value, sizeof(value))) { ... }
 */
#ifndef PHAROS_EXPR_H
#define PHAROS_EXPR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct window;
struct expr;

#define EXPR_MAX_DEPTH 64
#define EXPR_MAX_TEXT 4096
#define EXPR_MIN_WINDOW_MS 1000ULL                  /* 1s */
#define EXPR_MAX_WINDOW_MS (30ULL * 86400 * 1000)   /* 30d */

enum expr_metric {
	EXPR_CONSECUTIVE_FAILURES,
	EXPR_CONSECUTIVE_SUCCESSES,
	EXPR_ERROR_RATE,            /* windowed, percent */
	EXPR_P50_LATENCY,           /* windowed, ms */
	EXPR_P90_LATENCY,
	EXPR_P95_LATENCY,
	EXPR_P99_LATENCY,
	EXPR_AVG_LATENCY,
	EXPR_CERT_EXPIRY_DAYS,
	EXPR_HEARTBEAT_AGE,         /* ms */
	EXPR_METRIC_COUNT
};

/* The metric's name as written in expressions ("p95_latency"). */
const char *expr_metric_name(enum expr_metric m);

enum expr_truth { EXPR_FALSE, EXPR_TRUE, EXPR_UNKNOWN };

/* "false", "true", "unknown". */
const char *expr_truth_name(enum expr_truth t);

/* Kleene negation: not(UNKNOWN) is UNKNOWN. */
enum expr_truth expr_truth_not(enum expr_truth t);

/* Parses text. Returns a new expression (free with expr_free), or NULL with a
 * message in err ("expected a value after >, such as 800ms"; no position, no
 * trailing period) and the 1-based byte column the error points at in
 * *err_col (length + 1 when the text ended too early). err may be NULL when
 * errlen is 0; err_col may be NULL. Any input is safe: no crash, no leak,
 * bounded recursion. */
struct expr *expr_parse(const char *text, char *err, size_t errlen, int *err_col);

/* Frees e and everything it holds; NULL is fine. */
void expr_free(struct expr *e);

/* A new expression "not (e)", sharing nothing with e (deep copy): the default
 * `recover` of a rule. e stays owned by the caller. NULL gives NULL. */
struct expr *expr_negate(const struct expr *e);

/* What evaluation reads. Counts are always known; the rest may be missing. */
struct expr_input {
	uint64_t consecutive_failures;
	uint64_t consecutive_successes;
	double cert_expiry_days;    /* NAN: no certificate seen (or not a TLS/HTTPS check) */
	double heartbeat_age_ms;    /* NAN: no heartbeat yet (or not a heartbeat check) */
	struct window *window;      /* the check's recent results; NULL: windowed metrics unknown.
	                               Not const: percentiles use its scratch buffer. */
	int64_t now_ms;             /* wall clock ms: windows cover [now_ms - W, now_ms] */
};

/* Evaluates e. When value is not NULL and valuelen > 0, it receives the
 * observed value of the comparison that decided the outcome, for a person:
 * "3", "812 ms", "7.5%", "12 days", "3h 12m", or "no data" when UNKNOWN.
 * Which comparison decides: the first FALSE operand of a false `and`, the first
 * TRUE operand of a true `or`, the first operand otherwise (the first UNKNOWN
 * one for an unknown result); `not` passes its operand's through. Never
 * allocates. */
enum expr_truth expr_eval(const struct expr *e, const struct expr_input *in,
                          char *value, size_t valuelen);

/* The longest window e uses, in ms; 0 when it uses none. The check's window
 * ring must hold that much history. */
uint64_t expr_max_window_ms(const struct expr *e);

/* True when e reads metric m anywhere. */
bool expr_uses(const struct expr *e, enum expr_metric m);

/* True when e can change value with time alone, without a new result
 * (heartbeat_age, or any windowed metric whose old runs age out): the engine
 * must then also evaluate it on a timer. */
bool expr_needs_timer(const struct expr *e);

/* Writes a canonical form of e, every `and`/`or` group in parentheses and
 * `not` always followed by one: "((not (consecutive_failures >= 3) and
 * error_rate(5m) > 5%) or heartbeat_age > 2h)". For logs and tests. Returns
 * the length it needed (like snprintf); the text is truncated to len - 1. */
size_t expr_format(const struct expr *e, char *buf, size_t len);

#endif

/* expr.c — the alert rule expression language: its nodes, the three-valued
 * (Kleene) evaluator over a check's counters and window ring, and the
 * inspection and formatting of a parsed expression. The lexer and parser
 * are in expr_parse.c. */
#include <assert.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alerts/expr.h"
#include "alerts/expr_internal.h"
#include "core/util.h"
#include "alerts/window.h"

const struct expr_metric_info expr_metrics[EXPR_METRIC_COUNT] = {
	[EXPR_CONSECUTIVE_FAILURES] = { "consecutive_failures", false, VALUE_NUMBER, 0, "a plain number such as 3" },
	[EXPR_CONSECUTIVE_SUCCESSES] = { "consecutive_successes", false, VALUE_NUMBER, 0, "a plain number such as 2" },
	[EXPR_ERROR_RATE] = { "error_rate", true, VALUE_PERCENT, 0, "a percentage such as 5%" },
	[EXPR_P50_LATENCY] = { "p50_latency", true, VALUE_DURATION, 50, "a duration such as 800ms" },
	[EXPR_P90_LATENCY] = { "p90_latency", true, VALUE_DURATION, 90, "a duration such as 800ms" },
	[EXPR_P95_LATENCY] = { "p95_latency", true, VALUE_DURATION, 95, "a duration such as 800ms" },
	[EXPR_P99_LATENCY] = { "p99_latency", true, VALUE_DURATION, 99, "a duration such as 800ms" },
	[EXPR_AVG_LATENCY] = { "avg_latency", true, VALUE_DURATION, 0, "a duration such as 800ms" },
	[EXPR_CERT_EXPIRY_DAYS] = { "cert_expiry_days", false, VALUE_NUMBER, 0, "a plain number of days such as 14" },
	[EXPR_HEARTBEAT_AGE] = { "heartbeat_age", false, VALUE_DURATION, 0, "a duration such as 2h" },
};

const char *const expr_op_names[] = {
	[OP_GT] = ">", [OP_GE] = ">=", [OP_LT] = "<", [OP_LE] = "<=", [OP_EQ] = "==", [OP_NE] = "!=",
};

const char *expr_metric_name(enum expr_metric m)
{
	return (unsigned)m < EXPR_METRIC_COUNT ? expr_metrics[m].name : "?";
}

const char *expr_truth_name(enum expr_truth t)
{
	switch (t) {
	case EXPR_FALSE:
		return "false";
	case EXPR_TRUE:
		return "true";
	default:
		return "unknown";
	}
}

enum expr_truth expr_truth_not(enum expr_truth t)
{
	switch (t) {
	case EXPR_FALSE:
		return EXPR_TRUE;
	case EXPR_TRUE:
		return EXPR_FALSE;
	default:
		return EXPR_UNKNOWN;
	}
}

/* --- nodes ---------------------------------------------------------------- */

struct expr *expr_node_new(enum expr_kind kind)
{
	struct expr *e = xcalloc(1, sizeof(*e));

	e->kind = kind;
	return e;
}

/* Appends child to an and/or node (takes ownership). */
void expr_node_push(struct expr *list, struct expr *child)
{
	list->u.list.v = xrealloc(list->u.list.v, (list->u.list.n + 1) * sizeof(*list->u.list.v));
	list->u.list.v[list->u.list.n++] = child;
}

void expr_free(struct expr *e)
{
	if (e == NULL)
		return;
	switch (e->kind) {
	case NODE_CMP:
		break;
	case NODE_NOT:
		expr_free(e->u.operand);
		break;
	case NODE_AND:
	case NODE_OR:
		for (size_t i = 0; i < e->u.list.n; i++)
			expr_free(e->u.list.v[i]);
		free(e->u.list.v);
		break;
	}
	free(e);
}

/* Deep copy; recursion is bounded by the parser's nesting limit. */
static struct expr *expr_copy(const struct expr *e)
{
	struct expr *c = expr_node_new(e->kind);

	switch (e->kind) {
	case NODE_CMP:
		c->u.cmp = e->u.cmp;
		break;
	case NODE_NOT:
		c->u.operand = expr_copy(e->u.operand);
		break;
	case NODE_AND:
	case NODE_OR:
		for (size_t i = 0; i < e->u.list.n; i++)
			expr_node_push(c, expr_copy(e->u.list.v[i]));
		break;
	}
	return c;
}

struct expr *expr_negate(const struct expr *e)
{
	struct expr *n;

	if (e == NULL)
		return NULL;
	n = expr_node_new(NODE_NOT);
	n->u.operand = expr_copy(e);
	return n;
}

/* --- evaluation ----------------------------------------------------------- */

/* The comparison that decided a result, and the value it observed. */
struct decider {
	const struct expr *cmp;
	double observed;
};

static double metric_value(const struct expr *e, const struct expr_input *in)
{
	enum expr_metric m = e->u.cmp.metric;
	uint64_t w = e->u.cmp.window_ms;

	switch (m) {
	case EXPR_CONSECUTIVE_FAILURES:
		return (double)in->consecutive_failures;
	case EXPR_CONSECUTIVE_SUCCESSES:
		return (double)in->consecutive_successes;
	case EXPR_CERT_EXPIRY_DAYS:
		return in->cert_expiry_days;
	case EXPR_HEARTBEAT_AGE:
		return in->heartbeat_age_ms;
	case EXPR_ERROR_RATE:
		return in->window ? window_error_rate(in->window, in->now_ms, w) : NAN;
	case EXPR_AVG_LATENCY:
		return in->window ? window_avg_latency(in->window, in->now_ms, w) : NAN;
	case EXPR_P50_LATENCY:
	case EXPR_P90_LATENCY:
	case EXPR_P95_LATENCY:
	case EXPR_P99_LATENCY:
		return in->window ? window_percentile(in->window, in->now_ms, w, expr_metrics[m].pct) : NAN;
	default:
		return NAN;
	}
}

static enum expr_truth compare(double v, enum expr_op op, double t)
{
	bool r;

	switch (op) {
	case OP_GT:
		r = v > t;
		break;
	case OP_GE:
		r = v >= t;
		break;
	case OP_LT:
		r = v < t;
		break;
	case OP_LE:
		r = v <= t;
		break;
	case OP_EQ:
		r = v == t;
		break;
	default:
		r = v != t;
		break;
	}
	return r ? EXPR_TRUE : EXPR_FALSE;
}

/* Evaluates e; *d receives the deciding comparison (see expr_eval). An `and`
 * stops at its first FALSE operand and an `or` at its first TRUE one: they
 * decide regardless of the rest, UNKNOWN included (Kleene). */
static enum expr_truth eval(const struct expr *e, const struct expr_input *in, struct decider *d)
{
	struct decider first = { 0 }, unknown = { 0 }, cd;
	enum expr_truth stop, t;
	bool have_unknown = false;
	double v;

	switch (e->kind) {
	case NODE_CMP:
		v = metric_value(e, in);
		d->cmp = e;
		d->observed = v;
		if (isnan(v))
			return EXPR_UNKNOWN;
		return compare(v, e->u.cmp.op, e->u.cmp.threshold);
	case NODE_NOT:
		return expr_truth_not(eval(e->u.operand, in, d));
	case NODE_AND:
	case NODE_OR:
		stop = e->kind == NODE_AND ? EXPR_FALSE : EXPR_TRUE;
		for (size_t i = 0; i < e->u.list.n; i++) {
			t = eval(e->u.list.v[i], in, &cd);
			if (i == 0)
				first = cd;
			if (t == stop) {
				*d = cd;
				return t;
			}
			if (t == EXPR_UNKNOWN && !have_unknown) {
				have_unknown = true;
				unknown = cd;
			}
		}
		*d = have_unknown ? unknown : first;
		return have_unknown ? EXPR_UNKNOWN : expr_truth_not(stop);
	}
	return EXPR_UNKNOWN;
}

/* "%.1f" without a trailing ".0": "7.5", "12". */
static void format_short(char *buf, size_t len, double v, int decimals)
{
	size_t n;

	snprintf(buf, len, "%.*f", decimals, v);
	n = strlen(buf);
	if (decimals > 0 && n > 2) {
		while (n > 0 && buf[n - 1] == '0')
			buf[--n] = '\0';
		if (n > 0 && buf[n - 1] == '.')
			buf[--n] = '\0';
	}
}

/* A duration for a person: "0.25 ms", "812 ms", "1.5 s", "5m 12s", "3h 12m", "2d 4h". */
static void format_human_duration(char *buf, size_t len, double ms)
{
	char num[32];
	uint64_t s;

	if (ms < 1000) {
		format_short(num, sizeof(num), ms, ms < 1 ? 2 : ms < 100 ? 1 : 0);
		snprintf(buf, len, "%s ms", num);
		return;
	}
	if (ms < 60000) {
		format_short(num, sizeof(num), ms / 1000, 1);
		snprintf(buf, len, "%s s", num);
		return;
	}
	s = ms >= 1e18 ? UINT64_MAX / 1000 : (uint64_t)(ms / 1000);
	if (s < 3600) {
		if (s % 60)
			snprintf(buf, len, "%" PRIu64 "m %" PRIu64 "s", s / 60, s % 60);
		else
			snprintf(buf, len, "%" PRIu64 "m", s / 60);
	} else if (s < 86400) {
		if (s % 3600 / 60)
			snprintf(buf, len, "%" PRIu64 "h %" PRIu64 "m", s / 3600, s % 3600 / 60);
		else
			snprintf(buf, len, "%" PRIu64 "h", s / 3600);
	} else {
		if (s % 86400 / 3600)
			snprintf(buf, len, "%" PRIu64 "d %" PRIu64 "h", s / 86400, s % 86400 / 3600);
		else
			snprintf(buf, len, "%" PRIu64 "d", s / 86400);
	}
}

/* The observed value of a comparison's metric, for a person. */
static void format_observed(char *buf, size_t len, const struct decider *d)
{
	char num[32];
	double v = d->observed;

	if (d->cmp == NULL || isnan(v)) {
		snprintf(buf, len, "no data");
		return;
	}
	switch (d->cmp->u.cmp.metric) {
	case EXPR_CONSECUTIVE_FAILURES:
	case EXPR_CONSECUTIVE_SUCCESSES:
		snprintf(buf, len, "%.0f", v);
		break;
	case EXPR_ERROR_RATE:
		format_short(num, sizeof(num), v, v > 0 && v < 1 ? 2 : 1);
		snprintf(buf, len, "%s%%", num);
		break;
	case EXPR_CERT_EXPIRY_DAYS:
		format_short(num, sizeof(num), fabs(v), 1);
		if (v < 0)
			snprintf(buf, len, "expired %s %s ago", num, strcmp(num, "1") ? "days" : "day");
		else
			snprintf(buf, len, "%s %s", num, strcmp(num, "1") ? "days" : "day");
		break;
	default:    /* latencies, heartbeat_age */
		format_human_duration(buf, len, v);
		break;
	}
}

enum expr_truth expr_eval(const struct expr *e, const struct expr_input *in,
                          char *value, size_t valuelen)
{
	struct decider d = { 0 };
	enum expr_truth t = eval(e, in, &d);

	if (value != NULL && valuelen > 0)
		format_observed(value, valuelen, &d);
	return t;
}

/* --- inspection ----------------------------------------------------------- */

uint64_t expr_max_window_ms(const struct expr *e)
{
	uint64_t max = 0, w;

	switch (e->kind) {
	case NODE_CMP:
		return e->u.cmp.window_ms;
	case NODE_NOT:
		return expr_max_window_ms(e->u.operand);
	case NODE_AND:
	case NODE_OR:
		for (size_t i = 0; i < e->u.list.n; i++) {
			w = expr_max_window_ms(e->u.list.v[i]);
			if (w > max)
				max = w;
		}
		break;
	}
	return max;
}

bool expr_uses(const struct expr *e, enum expr_metric m)
{
	switch (e->kind) {
	case NODE_CMP:
		return e->u.cmp.metric == m;
	case NODE_NOT:
		return expr_uses(e->u.operand, m);
	case NODE_AND:
	case NODE_OR:
		for (size_t i = 0; i < e->u.list.n; i++) {
			if (expr_uses(e->u.list.v[i], m))
				return true;
		}
		break;
	}
	return false;
}

bool expr_needs_timer(const struct expr *e)
{
	return expr_uses(e, EXPR_HEARTBEAT_AGE) || expr_max_window_ms(e) > 0;
}

/* A bounded text builder that still counts what it would have needed. */
struct sbuf {
	char *buf;
	size_t len, need;
};

static void __attribute__((format(printf, 2, 3)))
sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(b->need < b->len ? b->buf + b->need : NULL,
	              b->need < b->len ? b->len - b->need : 0, fmt, ap);
	va_end(ap);
	if (n > 0)
		b->need += (size_t)n;
}

/* A value with at most 15 significant digits, in plain decimal (never an
 * exponent, which the lexer would refuse): every threshold the lexer accepts
 * prints back to the same digits, so the canonical form parses to the same
 * expression. */
static void format_decimal(struct sbuf *b, double v)
{
	char tmp[64];
	int intdigits = snprintf(tmp, sizeof(tmp), "%.0f", floor(v));
	size_t n;

	snprintf(tmp, sizeof(tmp), "%.*f", intdigits >= 15 ? 0 : 15 - intdigits, v);
	n = strlen(tmp);
	if (strchr(tmp, '.') != NULL) {
		while (tmp[n - 1] == '0')
			tmp[--n] = '\0';
		if (tmp[n - 1] == '.')
			tmp[--n] = '\0';
	}
	sb_printf(b, "%s", tmp);
}

static void format_threshold(struct sbuf *b, const struct expr *e)
{
	double t = e->u.cmp.threshold;
	char d[32];

	switch (expr_metrics[e->u.cmp.metric].kind) {
	case VALUE_DURATION:
		if (t == floor(t) && t >= 1) {
			util_format_duration((uint64_t)t, d, sizeof(d));
			sb_printf(b, "%s", d);
		} else {
			format_decimal(b, t);
			sb_printf(b, "ms");
		}
		break;
	case VALUE_PERCENT:
		format_decimal(b, t);
		sb_printf(b, "%%");
		break;
	default:
		format_decimal(b, t);
		break;
	}
}

static void format_node(struct sbuf *b, const struct expr *e)
{
	char w[32];

	switch (e->kind) {
	case NODE_CMP:
		sb_printf(b, "%s", expr_metrics[e->u.cmp.metric].name);
		if (expr_metrics[e->u.cmp.metric].windowed) {
			util_format_duration(e->u.cmp.window_ms, w, sizeof(w));
			sb_printf(b, "(%s)", w);
		}
		sb_printf(b, " %s ", expr_op_names[e->u.cmp.op]);
		format_threshold(b, e);
		break;
	case NODE_NOT:
		/* an and/or operand brings its own parentheses */
		if (e->u.operand->kind == NODE_AND || e->u.operand->kind == NODE_OR) {
			sb_printf(b, "not ");
			format_node(b, e->u.operand);
		} else {
			sb_printf(b, "not (");
			format_node(b, e->u.operand);
			sb_printf(b, ")");
		}
		break;
	case NODE_AND:
	case NODE_OR:
		sb_printf(b, "(");
		for (size_t i = 0; i < e->u.list.n; i++) {
			if (i > 0)
				sb_printf(b, e->kind == NODE_AND ? " and " : " or ");
			format_node(b, e->u.list.v[i]);
		}
		sb_printf(b, ")");
		break;
	}
}

size_t expr_format(const struct expr *e, char *buf, size_t len)
{
	struct sbuf b = { .buf = buf, .len = len };

	if (len > 0)
		buf[0] = '\0';
	format_node(&b, e);
	return b.need;
}

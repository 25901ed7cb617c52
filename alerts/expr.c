/* expr.c — the alert rule expression language: a hand-written lexer and
 * recursive-descent parser with typed comparisons, and a three-valued
 * (Kleene) evaluator over a check's counters and window ring. */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alerts/expr.h"
#include "core/suggest.h"
#include "core/util.h"
#include "alerts/window.h"

/* What a value literal is; also what a metric must be compared to. */
enum expr_value_kind { VALUE_NUMBER, VALUE_DURATION, VALUE_PERCENT };

enum expr_op { OP_GT, OP_GE, OP_LT, OP_LE, OP_EQ, OP_NE };

enum expr_kind { NODE_CMP, NODE_NOT, NODE_AND, NODE_OR };

struct expr {
	enum expr_kind kind;
	union {
		struct {
			enum expr_metric metric;
			uint64_t window_ms;         /* windowed metrics only */
			enum expr_op op;
			double threshold;           /* ms for durations, percent for percentages */
		} cmp;
		struct expr *operand;           /* NODE_NOT */
		struct {                        /* NODE_AND, NODE_OR: two or more operands */
			struct expr **v;
			size_t n;
		} list;
	} u;
};

static const struct {
	const char *name;
	bool windowed;
	enum expr_value_kind kind;
	unsigned pct;                       /* percentile for pXX_latency */
	const char *example;                /* for type errors */
} metrics[EXPR_METRIC_COUNT] = {
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

static const char *const op_names[] = {
	[OP_GT] = ">", [OP_GE] = ">=", [OP_LT] = "<", [OP_LE] = "<=", [OP_EQ] = "==", [OP_NE] = "!=",
};

static const struct {
	const char *name;
	double ms;
} units[] = {
	{ "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 }, { "d", 86400000 },
};

const char *expr_metric_name(enum expr_metric m)
{
	return (unsigned)m < EXPR_METRIC_COUNT ? metrics[m].name : "?";
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

static struct expr *node_new(enum expr_kind kind)
{
	struct expr *e = xcalloc(1, sizeof(*e));

	e->kind = kind;
	return e;
}

/* Appends child to an and/or node (takes ownership). */
static void node_push(struct expr *list, struct expr *child)
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
	struct expr *c = node_new(e->kind);

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
			node_push(c, expr_copy(e->u.list.v[i]));
		break;
	}
	return c;
}

struct expr *expr_negate(const struct expr *e)
{
	struct expr *n;

	if (e == NULL)
		return NULL;
	n = node_new(NODE_NOT);
	n->u.operand = expr_copy(e);
	return n;
}

/* --- lexer ---------------------------------------------------------------- */

enum tok_kind { TOK_END, TOK_IDENT, TOK_VALUE, TOK_LPAREN, TOK_RPAREN, TOK_OP };

struct token {
	enum tok_kind kind;
	size_t pos, len;            /* where in the text */
	double value;               /* TOK_VALUE: ms, percent or plain */
	enum expr_value_kind vkind; /* TOK_VALUE */
	enum expr_op op;            /* TOK_OP */
};

struct parser {
	const char *s;
	size_t len;
	struct token tok;           /* the current token */
	int depth;
	bool failed;
	char *err;
	size_t errlen;
	size_t err_pos;             /* 0-based */
};

/* Records the first error: message and the 0-based position it points at. */
static void __attribute__((format(printf, 3, 4)))
fail(struct parser *p, size_t pos, const char *fmt, ...)
{
	va_list ap;

	if (p->failed)
		return;
	p->failed = true;
	p->err_pos = pos;
	if (p->err != NULL && p->errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(p->err, p->errlen, fmt, ap);
		va_end(ap);
	}
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_word(char c)
{
	return is_alpha(c) || is_digit(c) || c == '.' || c == '%';
}

/* Longest token text quoted in a message. */
#define QUOTE_MAX 32

/* Durations above this are refused: no rule needs more, and it keeps every
 * threshold printable exactly (see format_decimal). */
#define MAX_DURATION_MS (3650.0 * 86400000)

/* Lexes a value at p->s[pos]: digits, an optional fraction, an optional unit
 * glued to it. The whole word (letters, digits, '.', '%') is the token, so
 * "5e3", "1.2.3" and "5mins" are one bad token rather than several.
 * The digits are converted by strtod (correctly rounded; the agent never calls
 * setlocale, so the decimal point is '.'). At most 15 digits: a double holds
 * that many exactly, so every value prints back to the digits it came from. */
static void lex_value(struct parser *p, size_t pos)
{
	struct token *t = &p->tok;
	const char *s = p->s;
	size_t i = pos, end = pos, digits = 0, ulen;
	int qlen;
	char num[32];
	double v;

	while (end < p->len && is_word(s[end]))
		end++;
	t->kind = TOK_VALUE;
	t->pos = pos;
	t->len = end - pos;
	qlen = (int)(t->len > QUOTE_MAX ? QUOTE_MAX : t->len);
	for (; i < end && is_digit(s[i]); i++)
		digits++;
	if (i < end && s[i] == '.') {
		i++;
		if (i >= end || !is_digit(s[i]) || digits == 0) {
			fail(p, pos, "malformed number \"%.*s\" (write numbers as 3 or 0.5)", qlen, s + pos);
			return;
		}
		for (; i < end && is_digit(s[i]); i++)
			digits++;
	}
	if (digits > 15) {
		fail(p, pos, "number \"%.*s\" has too many digits", qlen, s + pos);
		return;
	}
	memcpy(num, s + pos, i - pos);
	num[i - pos] = '\0';
	v = strtod(num, NULL);
	ulen = end - i;
	t->value = v;
	if (ulen == 0) {
		t->vkind = VALUE_NUMBER;
		return;
	}
	if (ulen == 1 && s[i] == '%') {
		t->vkind = VALUE_PERCENT;
		return;
	}
	for (size_t u = 0; u < sizeof(units) / sizeof(units[0]); u++) {
		if (strlen(units[u].name) == ulen && memcmp(units[u].name, s + i, ulen) == 0) {
			/* to the microsecond: "0.001s" is exactly 1ms */
			v = round(v * units[u].ms * 1000) / 1000;
			if (v > MAX_DURATION_MS) {
				fail(p, pos, "duration \"%.*s\" is too long (at most 3650d)", qlen, s + pos);
				return;
			}
			t->vkind = VALUE_DURATION;
			t->value = v;
			return;
		}
	}
	if (is_digit(s[i]) || s[i] == '.')
		fail(p, pos, "malformed number \"%.*s\" (write numbers as 3 or 0.5)", qlen, s + pos);
	else
		fail(p, i, "unknown unit \"%.*s\" in \"%.*s\" (use ms, s, m, h, d or %%)",
		     (int)(ulen > QUOTE_MAX ? QUOTE_MAX : ulen), s + i, qlen, s + pos);
}

/* Advances to the next token. On a lexical error, fails and leaves TOK_END. */
static void next(struct parser *p)
{
	const char *s = p->s;
	struct token *t = &p->tok;
	size_t pos = t->pos + t->len;
	unsigned char c;

	while (pos < p->len && (s[pos] == ' ' || s[pos] == '\t' || s[pos] == '\n' || s[pos] == '\r'))
		pos++;
	memset(t, 0, sizeof(*t));
	t->pos = pos;
	if (p->failed || pos >= p->len) {
		t->kind = TOK_END;
		t->pos = p->failed ? p->len : pos;
		return;
	}
	c = (unsigned char)s[pos];
	if (is_alpha((char)c)) {
		size_t end = pos;
		while (end < p->len && (is_alpha(s[end]) || is_digit(s[end])))
			end++;
		t->kind = TOK_IDENT;
		t->len = end - pos;
		return;
	}
	if (is_digit((char)c) || c == '.') {
		lex_value(p, pos);
		if (p->failed) {
			t->kind = TOK_END;
			t->pos = p->len;
			t->len = 0;
		}
		return;
	}
	t->len = 1;
	switch (c) {
	case '(':
		t->kind = TOK_LPAREN;
		return;
	case ')':
		t->kind = TOK_RPAREN;
		return;
	case '>':
	case '<':
		t->kind = TOK_OP;
		if (pos + 1 < p->len && s[pos + 1] == '=') {
			t->len = 2;
			t->op = c == '>' ? OP_GE : OP_LE;
		} else {
			t->op = c == '>' ? OP_GT : OP_LT;
		}
		return;
	case '=':
	case '!':
		if (pos + 1 < p->len && s[pos + 1] == '=') {
			t->kind = TOK_OP;
			t->len = 2;
			t->op = c == '=' ? OP_EQ : OP_NE;
			return;
		}
		if (c == '=')
			fail(p, pos, "use == to compare for equality");
		else
			fail(p, pos, "use \"not\" to negate, or != to compare");
		break;
	case '&':
		fail(p, pos, "use \"and\" to combine conditions");
		break;
	case '|':
		fail(p, pos, "use \"or\" to combine conditions");
		break;
	case '"':
	case '\'':
		fail(p, pos, "values are written without quotes, such as 800ms");
		break;
	case '-':
		fail(p, pos, "negative values are not supported");
		break;
	default:
		if (c > 0x20 && c < 0x7f)
			fail(p, pos, "unexpected character '%c'", c);
		else
			fail(p, pos, "unexpected byte 0x%02x", c);
		break;
	}
	t->kind = TOK_END;
	t->pos = p->len;
	t->len = 0;
}

static bool tok_is_word(const struct parser *p, const char *word)
{
	return p->tok.kind == TOK_IDENT && strlen(word) == p->tok.len &&
	       memcmp(p->s + p->tok.pos, word, p->tok.len) == 0;
}

/* Describes the current token for a message: "'foo'", "')'", "the end". */
static void tok_describe(const struct parser *p, char *buf, size_t len)
{
	const struct token *t = &p->tok;

	if (t->kind == TOK_END)
		snprintf(buf, len, "the end of the expression");
	else
		snprintf(buf, len, "\"%.*s\"", (int)(t->len > QUOTE_MAX ? QUOTE_MAX : t->len),
		         p->s + t->pos);
}

/* --- "did you mean" ------------------------------------------------------- */

/* The known name closest to the word, or NULL when none is close. */
static const char *suggest(const char *w, size_t n)
{
	static const char *const keywords[] = { "and", "or", "not" };
	struct suggest s;

	/* Up to a third of the word may be wrong (at least one character). */
	suggest_init(&s, w, n, n / 3 > 1 ? n / 3 : 1);
	for (size_t i = 0; i < EXPR_METRIC_COUNT; i++)
		suggest_offer(&s, metrics[i].name);
	for (size_t i = 0; i < 3; i++)
		suggest_offer(&s, keywords[i]);
	if (s.best != NULL)
		return s.best;
	/* A fragment of a name: "failures", "p95", "expiry". */
	if (n >= 3 && n <= SUGGEST_WORD_MAX) {
		for (size_t i = 0; i < EXPR_METRIC_COUNT; i++) {
			if (memmem(metrics[i].name, strlen(metrics[i].name), w, n) != NULL)
				return metrics[i].name;
		}
	}
	return NULL;
}

/* --- parser --------------------------------------------------------------- */

static struct expr *parse_or(struct parser *p);

/* comparison := metric op value (the current token is an identifier) */
static struct expr *parse_comparison(struct parser *p)
{
	const struct token id = p->tok;
	const char *word = p->s + id.pos;
	int qlen = (int)(id.len > QUOTE_MAX ? QUOTE_MAX : id.len);
	char found[64];
	struct expr *e;
	size_t m;

	for (m = 0; m < EXPR_METRIC_COUNT; m++) {
		if (strlen(metrics[m].name) == id.len && memcmp(metrics[m].name, word, id.len) == 0)
			break;
	}
	if (m == EXPR_METRIC_COUNT) {
		const char *s = suggest(word, id.len);
		if (tok_is_word(p, "and") || tok_is_word(p, "or"))
			fail(p, id.pos, "expected a condition before \"%.*s\"", qlen, word);
		else if (s != NULL)
			fail(p, id.pos, "unknown name \"%.*s\" (did you mean %s?)", qlen, word, s);
		else
			fail(p, id.pos, "unknown name \"%.*s\": expected a metric such as "
			     "consecutive_failures, error_rate(5m) or p95_latency(5m)", qlen, word);
		return NULL;
	}
	e = node_new(NODE_CMP);
	e->u.cmp.metric = (enum expr_metric)m;
	next(p);
	if (metrics[m].windowed) {
		size_t open = p->tok.pos;
		if (p->tok.kind != TOK_LPAREN) {
			fail(p, p->tok.pos, "%s needs a window, such as %s(5m)", metrics[m].name,
			     metrics[m].name);
			goto fail;
		}
		next(p);
		if (p->tok.kind != TOK_VALUE || p->tok.vkind != VALUE_DURATION) {
			if (!p->failed)
				fail(p, p->tok.pos, "the window of %s must be a duration, such as 5m",
				     metrics[m].name);
			goto fail;
		}
		if (p->tok.value < EXPR_MIN_WINDOW_MS || p->tok.value > EXPR_MAX_WINDOW_MS) {
			fail(p, p->tok.pos, "the window of %s must be between 1s and 30d",
			     metrics[m].name);
			goto fail;
		}
		e->u.cmp.window_ms = (uint64_t)llround(p->tok.value);
		next(p);
		if (p->tok.kind != TOK_RPAREN) {
			if (!p->failed)
				fail(p, p->tok.pos, "expected ')' to close the '(' at column %zu",
				     open + 1);
			goto fail;
		}
		next(p);
	} else if (p->tok.kind == TOK_LPAREN) {
		fail(p, p->tok.pos, "%s takes no window", metrics[m].name);
		goto fail;
	}
	if (p->tok.kind != TOK_OP) {
		if (!p->failed) {
			tok_describe(p, found, sizeof(found));
			fail(p, p->tok.pos, "expected a comparison (>, >=, <, <=, ==, !=) after %s, found %s",
			     metrics[m].name, found);
		}
		goto fail;
	}
	e->u.cmp.op = p->tok.op;
	next(p);
	if (p->tok.kind != TOK_VALUE) {
		if (!p->failed) {
			tok_describe(p, found, sizeof(found));
			fail(p, p->tok.pos, "expected a value after %s, such as %s, found %s",
			     op_names[e->u.cmp.op], metrics[m].example, found);
		}
		goto fail;
	}
	if (p->tok.vkind != metrics[m].kind) {
		fail(p, p->tok.pos, "compare %s to %s", metrics[m].name, metrics[m].example);
		goto fail;
	}
	if (p->tok.vkind == VALUE_PERCENT && p->tok.value > 100) {
		fail(p, p->tok.pos, "a percentage is between 0%% and 100%%");
		goto fail;
	}
	e->u.cmp.threshold = p->tok.value;
	next(p);
	return e;
fail:
	expr_free(e);
	return NULL;
}

/* unary := "not" unary | "(" or ")" | comparison */
static struct expr *parse_unary(struct parser *p)
{
	struct expr *e = NULL, *inner;
	char found[64];

	if (p->tok.kind == TOK_IDENT && tok_is_word(p, "not")) {
		if (++p->depth > EXPR_MAX_DEPTH) {
			fail(p, p->tok.pos, "expression nested too deeply (at most %d levels)",
			     EXPR_MAX_DEPTH);
			return NULL;
		}
		next(p);
		inner = parse_unary(p);
		p->depth--;
		if (inner == NULL)
			return NULL;
		e = node_new(NODE_NOT);
		e->u.operand = inner;
		return e;
	}
	if (p->tok.kind == TOK_LPAREN) {
		size_t open = p->tok.pos;
		if (++p->depth > EXPR_MAX_DEPTH) {
			fail(p, p->tok.pos, "expression nested too deeply (at most %d levels)",
			     EXPR_MAX_DEPTH);
			return NULL;
		}
		next(p);
		e = parse_or(p);
		p->depth--;
		if (e == NULL)
			return NULL;
		if (p->tok.kind != TOK_RPAREN) {
			if (!p->failed) {
				tok_describe(p, found, sizeof(found));
				fail(p, p->tok.pos, "expected ')' to close the '(' at column %zu, found %s",
				     open + 1, found);
			}
			expr_free(e);
			return NULL;
		}
		next(p);
		return e;
	}
	if (p->tok.kind == TOK_IDENT)
		return parse_comparison(p);
	if (p->failed)
		return NULL;
	if (p->tok.kind == TOK_VALUE)
		fail(p, p->tok.pos, "expected a metric, not a value: write the metric first, "
		     "such as consecutive_failures >= 3");
	else {
		tok_describe(p, found, sizeof(found));
		fail(p, p->tok.pos, "expected a metric, \"not\" or '(', found %s", found);
	}
	return NULL;
}

/* Parses operands separated by `word` with sub; one operand is returned as is,
 * two or more become one n-ary node (so long chains do not nest). */
static struct expr *parse_list(struct parser *p, const char *word, enum expr_kind kind,
                               struct expr *(*sub)(struct parser *))
{
	struct expr *first = sub(p), *list, *e;

	if (first == NULL || !tok_is_word(p, word))
		return first;
	list = node_new(kind);
	node_push(list, first);
	while (tok_is_word(p, word)) {
		next(p);
		e = sub(p);
		if (e == NULL) {
			expr_free(list);
			return NULL;
		}
		node_push(list, e);
	}
	return list;
}

static struct expr *parse_and(struct parser *p)
{
	return parse_list(p, "and", NODE_AND, parse_unary);
}

static struct expr *parse_or(struct parser *p)
{
	return parse_list(p, "or", NODE_OR, parse_and);
}

struct expr *expr_parse(const char *text, char *err, size_t errlen, int *err_col)
{
	struct parser p = { .s = text ? text : "", .err = err, .errlen = errlen };
	struct expr *e = NULL;
	const char *kw;
	char found[64];

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (err_col != NULL)
		*err_col = 0;
	p.len = strnlen(p.s, EXPR_MAX_TEXT + 1);
	if (p.len > EXPR_MAX_TEXT) {
		fail(&p, EXPR_MAX_TEXT, "expression longer than %d characters", EXPR_MAX_TEXT);
		goto out;
	}
	next(&p);
	if (p.tok.kind == TOK_END && !p.failed) {
		fail(&p, 0, "empty expression");
		goto out;
	}
	e = parse_or(&p);
	if (e == NULL)
		goto out;
	if (p.failed) {
		/* a lexical error in the token after a complete operand */
		expr_free(e);
		e = NULL;
		goto out;
	}
	if (p.tok.kind != TOK_END) {
		tok_describe(&p, found, sizeof(found));
		kw = p.tok.kind == TOK_IDENT ? suggest(p.s + p.tok.pos, p.tok.len) : NULL;
		if (p.tok.kind == TOK_RPAREN)
			fail(&p, p.tok.pos, "unbalanced ')'");
		else if (kw != NULL && (strcmp(kw, "and") == 0 || strcmp(kw, "or") == 0))
			fail(&p, p.tok.pos, "unexpected %s (did you mean %s?)", found, kw);
		else
			fail(&p, p.tok.pos, "unexpected %s after a complete condition "
			     "(missing \"and\" or \"or\"?)", found);
		expr_free(e);
		e = NULL;
	}
out:
	if (e == NULL && err_col != NULL)
		*err_col = (int)p.err_pos + 1;
	return e;
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
		return in->window ? window_percentile(in->window, in->now_ms, w, metrics[m].pct) : NAN;
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

	switch (metrics[e->u.cmp.metric].kind) {
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
		sb_printf(b, "%s", metrics[e->u.cmp.metric].name);
		if (metrics[e->u.cmp.metric].windowed) {
			util_format_duration(e->u.cmp.window_ms, w, sizeof(w));
			sb_printf(b, "(%s)", w);
		}
		sb_printf(b, " %s ", op_names[e->u.cmp.op]);
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

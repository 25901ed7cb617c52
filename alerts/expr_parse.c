/* expr_parse.c — the alert rule expression parser: a hand-written lexer
 * (values with units: 3, 800ms, 5%) and a recursive-descent parser with
 * typed comparisons and "did you mean" for unknown words. */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alerts/expr.h"
#include "alerts/expr_internal.h"
#include "core/suggest.h"
#include "core/util.h"

static const struct {
	const char *name;
	double ms;
} units[] = {
	{ "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 }, { "d", 86400000 },
};

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
		suggest_offer(&s, expr_metrics[i].name);
	for (size_t i = 0; i < 3; i++)
		suggest_offer(&s, keywords[i]);
	if (s.best != NULL)
		return s.best;
	/* A fragment of a name: "failures", "p95", "expiry". */
	if (n >= 3 && n <= SUGGEST_WORD_MAX) {
		for (size_t i = 0; i < EXPR_METRIC_COUNT; i++) {
			if (memmem(expr_metrics[i].name, strlen(expr_metrics[i].name), w, n) != NULL)
				return expr_metrics[i].name;
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
		if (strlen(expr_metrics[m].name) == id.len && memcmp(expr_metrics[m].name, word, id.len) == 0)
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
	e = expr_node_new(NODE_CMP);
	e->u.cmp.metric = (enum expr_metric)m;
	next(p);
	if (expr_metrics[m].windowed) {
		size_t open = p->tok.pos;
		if (p->tok.kind != TOK_LPAREN) {
			fail(p, p->tok.pos, "%s needs a window, such as %s(5m)", expr_metrics[m].name,
			     expr_metrics[m].name);
			goto fail;
		}
		next(p);
		if (p->tok.kind != TOK_VALUE || p->tok.vkind != VALUE_DURATION) {
			if (!p->failed)
				fail(p, p->tok.pos, "the window of %s must be a duration, such as 5m",
				     expr_metrics[m].name);
			goto fail;
		}
		if (p->tok.value < EXPR_MIN_WINDOW_MS || p->tok.value > EXPR_MAX_WINDOW_MS) {
			fail(p, p->tok.pos, "the window of %s must be between 1s and 30d",
			     expr_metrics[m].name);
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
		fail(p, p->tok.pos, "%s takes no window", expr_metrics[m].name);
		goto fail;
	}
	if (p->tok.kind != TOK_OP) {
		if (!p->failed) {
			tok_describe(p, found, sizeof(found));
			fail(p, p->tok.pos, "expected a comparison (>, >=, <, <=, ==, !=) after %s, found %s",
			     expr_metrics[m].name, found);
		}
		goto fail;
	}
	e->u.cmp.op = p->tok.op;
	next(p);
	if (p->tok.kind != TOK_VALUE) {
		if (!p->failed) {
			tok_describe(p, found, sizeof(found));
			fail(p, p->tok.pos, "expected a value after %s, such as %s, found %s",
			     expr_op_names[e->u.cmp.op], expr_metrics[m].example, found);
		}
		goto fail;
	}
	if (p->tok.vkind != expr_metrics[m].kind) {
		fail(p, p->tok.pos, "compare %s to %s", expr_metrics[m].name, expr_metrics[m].example);
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
		e = expr_node_new(NODE_NOT);
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
	list = expr_node_new(kind);
	expr_node_push(list, first);
	while (tok_is_word(p, word)) {
		next(p);
		e = sub(p);
		if (e == NULL) {
			expr_free(list);
			return NULL;
		}
		expr_node_push(list, e);
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

/* jsonpath.c — the small JSONPath subset of jsonpath.h ($, .name, ['name'],
 * [N], [-N]), user-minded equality, and short descriptions of values.
 *
 * One iterative parser serves both jsonpath_check() (doc == NULL) and
 * jsonpath_get(): no recursion on the path, no allocation, so any input (the
 * fuzzer's included) costs time linear in its length. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probes/jsonpath.h"
#include "core/util.h"

/* Array indexes beyond this are refused at parse time (no JSON array a probe
 * reads is that long, and it keeps the arithmetic far from overflow). */
#define JSONPATH_INDEX_MAX 1000000000LL

/* A member name: the bytes of .name or the decoded ['name']. Kept as a slice
 * of the path when no escape is present, else decoded into buf. */
struct jsonpath_key {
	const char *s;
	size_t len;
};

/* Writes "column N: <message>" into err (1-based column). */
static void jsonpath_error(char *err, size_t errlen, size_t pos, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void jsonpath_error(char *err, size_t errlen, size_t pos, const char *fmt, ...)
{
	char msg[160];
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(err, errlen, "column %zu: %s", pos + 1, msg);
}

/* Bytes allowed in the dotted form: letters, digits, _ - $ and any byte of a
 * UTF-8 sequence (so .café works); everything else needs ['...']. */
static int jsonpath_name_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-' || c == '$' || c >= 0x80;
}

/* The member named by len bytes at key (may hold any byte, even NUL), or
 * NULL when obj is not an object or has no such member. */
static json_t *jsonpath_member(json_t *obj, const char *key, size_t len)
{
	if (!json_is_object(obj))
		return NULL;
	return json_object_getn(obj, key, len);
}

/* ".name" at path[*i] (the dot): cur moves to that member (NULL when absent
 * or cur is NULL). Returns 0, or -1 with err. */
static int step_member(const char *path, size_t *i, json_t **cur, char *err, size_t errlen)
{
	size_t start = ++*i;

	while (jsonpath_name_char((unsigned char)path[*i]))
		++*i;
	if (*i == start) {
		if (path[*i] == '\0')
			jsonpath_error(err, errlen, *i, "expected a member name after '.'");
		else if (path[*i] == '.')
			jsonpath_error(err, errlen, *i - 1, "recursive descent ('..') is not supported");
		else if (path[*i] == '*')
			jsonpath_error(err, errlen, *i, "wildcards are not supported");
		else
			jsonpath_error(err, errlen, *i,
			               "unexpected '%c' in a member name (use ['...'] for any key)", path[*i]);
		return -1;
	}
	if (*cur != NULL)
		*cur = jsonpath_member(*cur, path + start, *i - start);
	return 0;
}

/* "'key']" or "\"key\"]" at path[*i] (the quote; open is the '['): the key
 * decoded into keybuf (as long as the rest of the path), cur moves to that
 * member. Returns 0, or -1 with err. */
static int step_quoted(const char *path, size_t open, size_t *i, char *keybuf, json_t **cur,
                       char *err, size_t errlen)
{
	char quote = path[(*i)++];
	size_t n = 0;

	for (;;) {
		if (path[*i] == '\0') {
			jsonpath_error(err, errlen, open, "unterminated quoted name");
			return -1;
		}
		if (path[*i] == quote)
			break;
		if (path[*i] == '\\') {
			if (path[*i + 1] != quote && path[*i + 1] != '\\') {
				jsonpath_error(err, errlen, *i, "unknown escape (only \\%c and \\\\)", quote);
				return -1;
			}
			keybuf[n++] = path[*i + 1];
			*i += 2;
			continue;
		}
		keybuf[n++] = path[(*i)++];
	}
	++*i;   /* closing quote */
	if (path[*i] != ']') {
		jsonpath_error(err, errlen, *i, "expected ']' after the quoted name");
		return -1;
	}
	++*i;
	if (*cur != NULL)
		*cur = jsonpath_member(*cur, keybuf, n);
	return 0;
}

/* "N]" or "-N]" at path[*i]: cur moves to that element (from the end when
 * negative). Returns 0, or -1 with err. */
static int step_index(const char *path, size_t *i, json_t **cur, char *err, size_t errlen)
{
	int neg = 0;
	long long idx = 0, size;
	size_t digits = *i;

	if (path[*i] == '-') {
		neg = 1;
		digits = ++*i;
	}
	while (path[*i] >= '0' && path[*i] <= '9') {
		idx = idx * 10 + (path[*i] - '0');
		if (idx > JSONPATH_INDEX_MAX) {
			jsonpath_error(err, errlen, digits, "index too large");
			return -1;
		}
		++*i;
	}
	if (*i == digits) {
		if (path[*i] == '*')
			jsonpath_error(err, errlen, *i, "wildcards are not supported");
		else if (path[*i] == '?')
			jsonpath_error(err, errlen, *i, "filters are not supported");
		else
			jsonpath_error(err, errlen, *i, "expected an index or a quoted name after '['");
		return -1;
	}
	if (neg && idx == 0) {
		jsonpath_error(err, errlen, digits - 1, "-0 is not an index (the last element is [-1])");
		return -1;
	}
	if (path[*i] != ']') {
		jsonpath_error(err, errlen, *i, "expected ']' after the index");
		return -1;
	}
	++*i;
	if (*cur == NULL)
		return 0;
	if (!json_is_array(*cur)) {
		*cur = NULL;
		return 0;
	}
	size = (long long)json_array_size(*cur);
	if (neg)
		idx = size - idx;
	*cur = (idx >= 0 && idx < size) ? json_array_get(*cur, (size_t)idx) : NULL;
	return 0;
}

/* Parses path; when doc is not NULL also walks it. Returns 0 and sets *out
 * (NULL when a step is absent), or -1 with err filled on a syntax error.
 * Scanning continues after a missing step so that a bad path is always
 * reported, whatever the document. */
static int jsonpath_walk(const char *path, json_t *doc, json_t **out, char *err, size_t errlen)
{
	size_t i = 1;
	json_t *cur = doc;
	char *keybuf = NULL;
	int rc = 0;

	if (path == NULL) {
		jsonpath_error(err, errlen, 0, "no path");
		return -1;
	}
	if (path[0] != '$') {
		jsonpath_error(err, errlen, 0, "a path starts with '$'");
		return -1;
	}
	while (rc == 0 && path[i] != '\0') {
		if (path[i] == '.') {
			rc = step_member(path, &i, &cur, err, errlen);
		} else if (path[i] == '[') {
			size_t open = i++;

			if (path[i] != '\'' && path[i] != '"') {
				rc = step_index(path, &i, &cur, err, errlen);
				continue;
			}
			/* The decoded key is never longer than the rest of the path. */
			if (keybuf == NULL)
				keybuf = xmalloc(strlen(path + i) + 1);
			rc = step_quoted(path, open, &i, keybuf, &cur, err, errlen);
		} else {
			jsonpath_error(err, errlen, i, "expected '.' or '[' here");
			rc = -1;
		}
	}
	free(keybuf);
	if (rc == 0 && out)
		*out = cur;
	return rc;
}

/* Syntax check for the config loader: 0, or -1 with "column N: ..." in err. */
int jsonpath_check(const char *path, char *err, size_t errlen)
{
	if (err && errlen)
		err[0] = '\0';
	return jsonpath_walk(path, NULL, NULL, err, errlen);
}

/* The value path names in doc (borrowed), or NULL (absent, or bad path). */
json_t *jsonpath_get(json_t *doc, const char *path)
{
	json_t *v = NULL;

	if (doc == NULL)
		return NULL;
	if (jsonpath_walk(path, doc, &v, NULL, 0) < 0)
		return NULL;
	return v;
}

/* True when s is entirely a finite decimal number; sets *d. */
static bool jsonpath_parse_number(const char *s, size_t len, double *d)
{
	char buf[64];
	char *end;

	if (len == 0 || len >= sizeof(buf))
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	/* strtod would accept "0x10", " 5", "inf" and "nan": not what a user means. */
	for (size_t i = 0; i < len; i++) {
		char c = buf[i];

		if (!((c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' ||
		      c == 'E'))
			return false;
	}
	errno = 0;
	*d = strtod(buf, &end);
	return end == buf + len && errno == 0 && isfinite(*d);
}

/* Numbers by value; two integers exactly (a double would lose precision
 * past 2^53). */
static bool jsonpath_numbers_equal(const json_t *a, const json_t *b)
{
	if (json_is_integer(a) && json_is_integer(b))
		return json_integer_value(a) == json_integer_value(b);
	return json_number_value(a) == json_number_value(b);
}

/* See jsonpath.h. Containers compare member by member with the same rules;
 * recursion depth is bounded by jansson's parser depth limit. */
bool jsonpath_equals(const json_t *actual, const json_t *expected)
{
	if (actual == NULL || expected == NULL)
		return actual == expected;

	if (json_is_string(expected) && !json_is_string(actual)) {
		const char *s = json_string_value(expected);
		size_t len = json_string_length(expected);
		double d;

		if (json_is_boolean(actual))
			return (json_is_true(actual) && len == 4 && memcmp(s, "true", 4) == 0) ||
			       (json_is_false(actual) && len == 5 && memcmp(s, "false", 5) == 0);
		if (json_is_integer(actual)) {
			char buf[32];
			int n = snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT,
			                 json_integer_value(actual));

			if ((size_t)n == len && memcmp(buf, s, len) == 0)
				return true;
		}
		if (json_is_number(actual) && jsonpath_parse_number(s, len, &d))
			return json_number_value(actual) == d;
		return false;
	}

	if (json_is_number(actual) && json_is_number(expected))
		return jsonpath_numbers_equal(actual, expected);
	if (json_typeof(actual) != json_typeof(expected))
		return false;

	switch (json_typeof(actual)) {
	case JSON_STRING:
		return json_string_length(actual) == json_string_length(expected) &&
		       memcmp(json_string_value(actual), json_string_value(expected),
		              json_string_length(actual)) == 0;
	case JSON_ARRAY: {
		size_t n = json_array_size(actual);

		if (n != json_array_size(expected))
			return false;
		for (size_t i = 0; i < n; i++)
			if (!jsonpath_equals(json_array_get(actual, i), json_array_get(expected, i)))
				return false;
		return true;
	}
	case JSON_OBJECT: {
		const char *k;
		json_t *v;

		if (json_object_size(actual) != json_object_size(expected))
			return false;
		/* jansson's API takes const-less pointers; neither object is changed. */
		json_object_foreach((json_t *)expected, k, v) {
			if (!jsonpath_equals(json_object_get(actual, k), v))
				return false;
		}
		return true;
	}
	default:    /* true, false, null: the type says it all */
		return true;
	}
}

struct jsonpath_sink {
	char *buf;
	size_t cap, used;    /* cap excludes the NUL */
};

/* json_dump_callback sink that keeps only the first cap bytes and stops the
 * dump once full, so describing a huge value costs nothing extra. */
static int jsonpath_sink_fn(const char *data, size_t size, void *arg)
{
	struct jsonpath_sink *s = arg;
	size_t room = s->cap - s->used;
	size_t n = size < room ? size : room;

	memcpy(s->buf + s->used, data, n);
	s->used += n;
	return s->used >= s->cap ? -1 : 0;
}

/* See jsonpath.h: strings unquoted, anything else as compact JSON, "(absent)"
 * for NULL. Always NUL-terminated when len > 0. */
void jsonpath_describe(const json_t *v, char *buf, size_t len)
{
	struct jsonpath_sink s = { buf, len ? len - 1 : 0, 0 };

	if (len == 0)
		return;
	if (v == NULL) {
		util_strlcpy(buf, "(absent)", len);
		return;
	}
	if (json_is_string(v)) {
		size_t n = json_string_length(v);

		if (n > s.cap)
			n = s.cap;
		memcpy(buf, json_string_value(v), n);
		buf[n] = '\0';
		return;
	}
	if (s.cap > 0)
		json_dump_callback(v, jsonpath_sink_fn, &s,
		                   JSON_ENCODE_ANY | JSON_COMPACT | JSON_REAL_PRECISION(15));
	buf[s.used] = '\0';
}

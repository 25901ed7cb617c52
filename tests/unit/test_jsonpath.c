/* test_jsonpath.c — the JSONPath subset: lookups (members, quoted keys with
 * escapes, indexes from both ends), syntax errors with their column, user
 * equality rules, descriptions, and a deep document. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#include "probes/jsonpath.h"

static const char *doc_text =
	"{\"status\":\"ok\",\"code\":200,\"ratio\":0.5,\"up\":true,\"none\":null,"
	"\"items\":[{\"id\":1,\"name\":\"a\"},{\"id\":2,\"name\":\"b\"},{\"id\":3}],"
	"\"a b\":{\"it's\":\"quoted\",\"back\\\\slash\":7},"
	"\"caf\xc3\xa9\":\"utf8\",\"with-dash\":1,\"$x\":2,\"\":\"empty key\"}";

static json_t *load(const char *s)
{
	json_error_t e;
	json_t *d = json_loads(s, JSON_DECODE_ANY, &e);

	assert_non_null(d);
	return d;
}

/* Text form of the value at path, or "(absent)". */
static const char *at(json_t *doc, const char *path)
{
	static char buf[128];

	jsonpath_describe(jsonpath_get(doc, path), buf, sizeof(buf));
	return buf;
}

static void test_lookups(void **state)
{
	json_t *d = load(doc_text);

	(void)state;
	assert_ptr_equal(jsonpath_get(d, "$"), d);
	assert_string_equal(at(d, "$.status"), "ok");
	assert_string_equal(at(d, "$.code"), "200");
	assert_string_equal(at(d, "$.ratio"), "0.5");
	assert_string_equal(at(d, "$.up"), "true");
	assert_string_equal(at(d, "$.none"), "null");
	assert_string_equal(at(d, "$.items[0].id"), "1");
	assert_string_equal(at(d, "$.items[1].name"), "b");
	assert_string_equal(at(d, "$.items[-1].id"), "3");
	assert_string_equal(at(d, "$.items[-3].id"), "1");
	assert_string_equal(at(d, "$['status']"), "ok");
	assert_string_equal(at(d, "$[\"status\"]"), "ok");
	assert_string_equal(at(d, "$['a b']['it\\'s']"), "quoted");
	assert_string_equal(at(d, "$['a b']['back\\\\slash']"), "7");
	assert_string_equal(at(d, "$.caf\xc3\xa9"), "utf8");
	assert_string_equal(at(d, "$.with-dash"), "1");
	assert_string_equal(at(d, "$.$x"), "2");
	assert_string_equal(at(d, "$['']"), "empty key");
	assert_string_equal(at(d, "$.items[1]"), "{\"id\":2,\"name\":\"b\"}");
	/* absent */
	assert_null(jsonpath_get(d, "$.missing"));
	assert_null(jsonpath_get(d, "$.items[3]"));
	assert_null(jsonpath_get(d, "$.items[-4]"));
	assert_null(jsonpath_get(d, "$.items[2].name"));
	assert_null(jsonpath_get(d, "$.status.x"));
	assert_null(jsonpath_get(d, "$.status[0]"));
	assert_null(jsonpath_get(d, "$.items.id"));
	assert_null(jsonpath_get(d, "$['STATUS']"));
	assert_null(jsonpath_get(NULL, "$"));
	/* invalid paths answer NULL, never crash */
	assert_null(jsonpath_get(d, "status"));
	assert_null(jsonpath_get(d, NULL));
	json_decref(d);
}

static void test_array_root(void **state)
{
	json_t *d = load("[10, [20, 30], \"x\"]");

	(void)state;
	assert_string_equal(at(d, "$[0]"), "10");
	assert_string_equal(at(d, "$[1][-1]"), "30");
	assert_string_equal(at(d, "$[-1]"), "x");
	assert_null(jsonpath_get(d, "$.a"));
	json_decref(d);
	d = load("\"scalar\"");
	assert_string_equal(at(d, "$"), "scalar");
	assert_null(jsonpath_get(d, "$[0]"));
	json_decref(d);
}

/* A string value holding a NUL byte is described without overrunning. */
static void test_value_with_nul(void **state)
{
	json_error_t e;
	json_t *d = json_loads("{\"a\":\"x\\u0000y\"}", JSON_ALLOW_NUL, &e);
	char buf[16];

	(void)state;
	assert_non_null(d);
	jsonpath_describe(jsonpath_get(d, "$.a"), buf, sizeof(buf));
	assert_memory_equal(buf, "x\0y", 4);
	json_decref(d);
}

struct err_case {
	const char *path;
	const char *err;    /* expected message prefix */
};

static void test_errors(void **state)
{
	static const struct err_case cases[] = {
		{ "", "column 1: a path starts with '$'" },
		{ "status", "column 1: a path starts with '$'" },
		{ "$.", "column 3: expected a member name after '.'" },
		{ "$..a", "column 2: recursive descent" },
		{ "$.a.*", "column 5: wildcards are not supported" },
		{ "$[*]", "column 3: wildcards are not supported" },
		{ "$[?(@.a)]", "column 3: filters are not supported" },
		{ "$.a b", "column 4: expected '.' or '[' here" },
		{ "$.a[", "column 5: expected an index or a quoted name" },
		{ "$.a[1", "column 6: expected ']' after the index" },
		{ "$.a[x]", "column 5: expected an index or a quoted name" },
		{ "$['a", "column 2: unterminated quoted name" },
		{ "$['a'", "column 6: expected ']' after the quoted name" },
		{ "$['a\\n']", "column 5: unknown escape" },
		{ "$[-0]", "column 3: -0 is not an index" },
		{ "$[-]", "column 4: expected an index or a quoted name" },
		{ "$[99999999999]", "column 3: index too large" },
		{ "$.a@", "column 4: expected '.' or '[' here" },
		{ "$.@", "column 3: unexpected '@' in a member name" },
		{ "$x", "column 2: expected '.' or '[' here" },
		{ "$ ", "column 2: expected '.' or '[' here" },
	};
	char err[128];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		if (jsonpath_check(cases[i].path, err, sizeof(err)) != -1)
			fail_msg("'%s' was accepted", cases[i].path);
		if (strncmp(err, cases[i].err, strlen(cases[i].err)) != 0)
			fail_msg("'%s': got \"%s\", want \"%s...\"", cases[i].path, err, cases[i].err);
	}
	assert_int_equal(jsonpath_check(NULL, err, sizeof(err)), -1);
	/* a tiny or absent buffer is fine */
	assert_int_equal(jsonpath_check("x", err, 1), -1);
	assert_int_equal(err[0], '\0');
	assert_int_equal(jsonpath_check("x", NULL, 0), -1);
}

static void test_valid(void **state)
{
	static const char *ok[] = {
		"$", "$.a", "$.a.b.c", "$[0]", "$[-1]", "$['x y']", "$[\"x\"]", "$.a[0][1].b",
		"$['it\\'s']", "$[\"say \\\"hi\\\"\"]", "$['']", "$.a_b-c", "$[0012]",
	};
	char err[128];

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		if (jsonpath_check(ok[i], err, sizeof(err)) != 0)
			fail_msg("'%s' rejected: %s", ok[i], err);
	}
}

static void test_equals(void **state)
{
	json_t *d = load("{\"i\":200,\"r\":200.0,\"s\":\"200\",\"t\":true,\"f\":false,\"n\":null,"
	                 "\"big\":9007199254740993,\"arr\":[1,2.0,\"x\"],\"obj\":{\"a\":1}}");
	json_t *e;

	(void)state;
#define EQ(path, lit) (e = load(lit), bool_v = jsonpath_equals(jsonpath_get(d, path), e), json_decref(e), bool_v)
	bool bool_v;
	assert_true(EQ("$.i", "200"));
	assert_true(EQ("$.i", "200.0"));
	assert_true(EQ("$.r", "200"));
	assert_true(EQ("$.i", "\"200\""));
	assert_true(EQ("$.r", "\"200\""));       /* same value */
	assert_true(EQ("$.s", "\"200\""));
	assert_false(EQ("$.s", "200"));          /* a number does not match a string */
	assert_true(EQ("$.t", "true"));
	assert_true(EQ("$.t", "\"true\""));
	assert_false(EQ("$.t", "\"TRUE\""));
	assert_true(EQ("$.f", "\"false\""));
	assert_false(EQ("$.f", "\"true\""));
	assert_false(EQ("$.t", "1"));
	assert_true(EQ("$.n", "null"));
	assert_false(EQ("$.n", "\"\""));
	assert_false(EQ("$.i", "201"));
	assert_false(EQ("$.i", "\"0x c8\""));
	assert_false(EQ("$.i", "\" 200\""));
	assert_true(EQ("$.big", "9007199254740993"));
	assert_false(EQ("$.big", "9007199254740992"));   /* exact for integers */
	assert_true(EQ("$.arr", "[1, 2, \"x\"]"));
	assert_false(EQ("$.arr", "[1, 2]"));
	assert_true(EQ("$.obj", "{\"a\": 1.0}"));
	assert_false(EQ("$.obj", "{\"a\": 1, \"b\": 2}"));
	assert_false(EQ("$.missing", "null"));
#undef EQ
	assert_true(jsonpath_equals(NULL, NULL));
	json_decref(d);
}

static void test_describe(void **state)
{
	char buf[8];
	json_t *v = json_string("a long string");
	json_t *a = json_pack("[i,i,i,i,i]", 1, 2, 3, 4, 5);

	(void)state;
	jsonpath_describe(v, buf, sizeof(buf));
	assert_string_equal(buf, "a long ");
	jsonpath_describe(a, buf, sizeof(buf));
	assert_string_equal(buf, "[1,2,3,");
	jsonpath_describe(NULL, buf, sizeof(buf));
	assert_string_equal(buf, "(absent");
	jsonpath_describe(a, buf, 1);
	assert_string_equal(buf, "");
	jsonpath_describe(a, buf, 0);   /* writes nothing */
	json_decref(v);
	json_decref(a);
}

/* A document nested far deeper than any sane API, and a long path into it:
 * linear work, no recursion on the path. */
static void test_deep(void **state)
{
	enum { DEPTH = 1000 };
	json_t *root = json_object(), *cur = root;
	char *path = malloc(DEPTH * 8 + 16);
	size_t n = 0;

	(void)state;
	path[n++] = '$';
	for (int i = 0; i < DEPTH; i++) {
		json_t *arr = json_array(), *obj = json_object();

		json_object_set_new(cur, "k", arr);
		json_array_append_new(arr, obj);
		memcpy(path + n, ".k[0]", 5);
		n += 5;
		cur = obj;
	}
	json_object_set_new(cur, "leaf", json_string("deep"));
	memcpy(path + n, ".leaf", 6);
	assert_string_equal(at(root, path), "deep");
	path[n] = '\0';
	assert_int_equal(jsonpath_check(path, NULL, 0), 0);
	/* a very long invalid path: error at the far end */
	{
		char err[64];

		path[n] = '!';
		path[n + 1] = '\0';
		assert_int_equal(jsonpath_check(path, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "column 5002"));
	}
	free(path);
	json_decref(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookups),
		cmocka_unit_test(test_array_root),
		cmocka_unit_test(test_value_with_nul),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_equals),
		cmocka_unit_test(test_describe),
		cmocka_unit_test(test_deep),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

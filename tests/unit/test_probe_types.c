/* test_probe_types.c — walks the probe-type table (probes/types.c): every
 * setting of every type, and every setting all checks share, is documented
 * in pharos.conf(5) and in README.md's reference, and is part of the reload
 * fingerprint (changing it changes the fingerprint; group alone, marked
 * PROBE_NO_RELOAD, does not). Run from the top of the tree (make unit). */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "probes/probe_type.h"

/* --- helpers --------------------------------------------------------------- */

static char *read_text(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *s;
	long n;

	if (f == NULL)
		fail_msg("cannot open %s (run from the top of the tree)", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	s = calloc(1, (size_t)n + 1);
	assert_non_null(s);
	assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return s;
}

/* A copy of text from the first `from` to the next `to` after it (to the
 * end when there is none); NULL when from is not found. */
static char *section(const char *text, const char *from, const char *to)
{
	const char *a = strstr(text, from), *b;

	if (a == NULL)
		return NULL;
	a += strlen(from);
	b = to ? strstr(a, to) : NULL;
	if (b == NULL)
		b = a + strlen(a);
	return strndup(a, (size_t)(b - a));
}

static bool is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* Whether word appears in text as a whole word. */
static bool has_word(const char *text, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = strstr(text, word); p != NULL; p = strstr(p + 1, word))
		if ((p == text || !is_name_char(p[-1])) && !is_name_char(p[n]))
			return true;
	return false;
}

static void want_documented(const char *doc, const char *what, const char *where,
                            const char *type, const char *name)
{
	if (doc == NULL || !has_word(doc, name))
		fail_msg("%s setting \"%s\" is not documented in %s (%s)", type, name, what, where);
}

/* A valid check of each type, as the body of a check group. */
static const struct {
	const char *type;
	const char *body;
} minimal[] = {
	{ "http", "url = \"https://example.com/\";" },
	{ "tcp", "host = \"db.internal\"; port = 5432;" },
	{ "dns", "query = \"example.com\";" },
	{ "tls", "host = \"example.com\";" },
	{ "icmp", "host = \"10.0.0.1\";" },
	{ "heartbeat", "token = \"s3cret-token\";" },
};

static const char *minimal_body(const char *type)
{
	for (size_t i = 0; i < sizeof(minimal) / sizeof(minimal[0]); i++)
		if (strcmp(minimal[i].type, type) == 0)
			return minimal[i].body;
	fail_msg("no minimal config for type \"%s\" in test_probe_types.c: add one", type);
	return NULL;
}

/* The fingerprint of the only check of a config with that type and body. */
static uint64_t fingerprint_of(const char *type, const char *body)
{
	struct conf_errors e = { 0 };
	char text[2048];
	struct conf *c;
	uint64_t fp;

	snprintf(text, sizeof(text), "checks = ( { name = \"t\"; type = \"%s\"; %s } );\n", type, body);
	c = conf_load_string(text, "t.conf", &e);
	if (c == NULL) {
		for (size_t i = 0; i < e.n; i++)
			fprintf(stderr, "    | %s\n", e.lines[i]);
		fail_msg("config expected to be valid:\n%s", text);
	}
	fp = c->checks[0].fingerprint;
	conf_errors_free(&e);
	conf_unref(c);
	return fp;
}

static struct conf *load_minimal(const char *type)
{
	struct conf_errors e = { 0 };
	char text[1024];
	struct conf *c;

	snprintf(text, sizeof(text), "checks = ( { name = \"t\"; type = \"%s\"; %s } );\n", type,
	         minimal_body(type));
	c = conf_load_string(text, "t.conf", &e);
	assert_non_null(c);
	conf_errors_free(&e);
	return c;
}

/* --- documentation --------------------------------------------------------- */

static void check_table_documented(const struct probe_setting *t, const char *man, const char *readme,
                                   const char *type)
{
	for (; t->name != NULL; t++) {
		const char *who = type[0] ? type : "every check";

		want_documented(man, "packaging/pharos.conf.5", type[0] ? ".SS section" : "CHECKS", who, t->name);
		want_documented(readme, "README.md", "reference", who, t->name);
		assert_non_null(t->doc);
	}
}

static void test_every_setting_documented(void **state)
{
	char *man = read_text("packaging/pharos.conf.5");
	char *readme_all = read_text("README.md");
	char *readme = section(readme_all, "### Reference", "\n## ");
	char *man_common = section(man, ".SH CHECKS", ".SS ");
	char *readme_common = section(readme, "**Every check**", "\n\n");

	(void)state;
	if (readme == NULL)
		fail_msg("README.md has no \"### Reference\" section");
	check_table_documented(probe_check_settings, man_common, readme_common, "");
	for (int t = 0; t < CHECK_TYPE_COUNT; t++) {
		const struct probe_type *pt = probe_type_get((enum check_type)t);
		char head[64], row[64];
		char *man_type, *readme_type;

		assert_non_null(pt);
		snprintf(head, sizeof(head), ".SS %s\n", pt->name);
		snprintf(row, sizeof(row), "\n| `%s` |", pt->name);
		man_type = section(man, head, "\n.S");
		readme_type = section(readme, row, "\n");
		if (man_type == NULL)
			fail_msg("type \"%s\" has no \".SS %s\" section in packaging/pharos.conf.5", pt->name, pt->name);
		if (readme_type == NULL)
			fail_msg("type \"%s\" has no row in README.md's reference table", pt->name);
		check_table_documented(pt->settings, man_type, readme_type, pt->name);
		check_table_documented(pt->expect, man_type, readme_type, pt->name);
		free(man_type);
		free(readme_type);
	}
	free(man_common);
	free(readme_common);
	free(man);
	free(readme);
	free(readme_all);
}

/* --- the fingerprint ------------------------------------------------------- */

/* Settings the table hashes with a function of their own (PROBE_STORE_FN):
 * two configs that differ only in that setting. */
static const struct {
	const char *type, *name;
	const char *a, *b;
} fn_examples[] = {
	{ "http", "basic_auth", "url = \"https://example.com/\"; basic_auth = { user = \"bob\"; password = \"pw-one\"; };",
	  "url = \"https://example.com/\"; basic_auth = { user = \"bob\"; password = \"pw-two\"; };" },
	{ "http", "steps", "steps = ( { url = \"https://example.com/a\"; } );",
	  "steps = ( { url = \"https://example.com/a\"; expect = { status = 201; }; } );" },
	{ "http", "status", "url = \"https://example.com/\"; expect = { status = 201; };",
	  "url = \"https://example.com/\"; expect = { status = \"2xx\"; };" },
	{ "http", "json", "url = \"https://example.com/\"; expect = { json = ( { path = \"$.a\"; equals = 1; } ); };",
	  "url = \"https://example.com/\"; expect = { json = ( { path = \"$.a\"; equals = 2; } ); };" },
	{ "http", "headers", "url = \"https://example.com/\"; expect = { headers = [ \"X-A: ^1\" ]; };",
	  "url = \"https://example.com/\"; expect = { headers = [ \"X-A: ^2\" ]; };" },
	/* "*": a setting every check has, added to each type's minimal body. */
	{ "*", "locations", "locations = \"any\";", "locations = [ \"eu-west\" ];" },
	{ "*", "locations", "locations = [ \"eu-west\" ];", "locations = [ \"us-east\" ];" },
	{ "*", "locations", "locations = \"*\";", "locations = \"any\";" },
};

static void fn_setting_in_fingerprint(const char *type, const struct probe_setting *s)
{
	bool found = false;

	for (size_t i = 0; i < sizeof(fn_examples) / sizeof(fn_examples[0]); i++) {
		char a[1024], b[1024];

		if (strcmp(fn_examples[i].name, s->name) != 0)
			continue;
		if (strcmp(fn_examples[i].type, "*") == 0) {
			snprintf(a, sizeof(a), "%s %s", minimal_body(type), fn_examples[i].a);
			snprintf(b, sizeof(b), "%s %s", minimal_body(type), fn_examples[i].b);
		} else if (strcmp(fn_examples[i].type, type) == 0) {
			snprintf(a, sizeof(a), "%s", fn_examples[i].a);
			snprintf(b, sizeof(b), "%s", fn_examples[i].b);
		} else {
			continue;
		}
		if (fingerprint_of(type, a) == fingerprint_of(type, b))
			fail_msg("%s setting \"%s\" is not part of the reload fingerprint", type, s->name);
		found = true;
	}
	if (found)
		return;
	fail_msg("%s setting \"%s\" is hashed by a function: add two configs for it to fn_examples", type,
	         s->name);
}

/* Changes the value s keeps in base, checks the fingerprint of c changed,
 * then puts the value back. */
static void stored_setting_in_fingerprint(struct check *c, void *base, const struct probe_setting *s,
                                          const char *type)
{
	char *p = (char *)base + s->off;
	uint64_t before = probe_check_fingerprint(c), after;
	static char changed[] = "changed-value";
	char *one[1] = { changed };

	switch (s->store) {
	case PROBE_STORE_STR: {
		char *old = *(char **)p;

		*(char **)p = changed;
		after = probe_check_fingerprint(c);
		*(char **)p = old;
		break;
	}
	case PROBE_STORE_INT:
		*(int *)p += 1;
		after = probe_check_fingerprint(c);
		*(int *)p -= 1;
		break;
	case PROBE_STORE_BOOL:
		*(bool *)p = !*(bool *)p;
		after = probe_check_fingerprint(c);
		*(bool *)p = !*(bool *)p;
		break;
	case PROBE_STORE_U64:
		*(uint64_t *)p += 1;
		after = probe_check_fingerprint(c);
		*(uint64_t *)p -= 1;
		break;
	case PROBE_STORE_SIZE:
		*(size_t *)p += 1;
		after = probe_check_fingerprint(c);
		*(size_t *)p -= 1;
		break;
	case PROBE_STORE_DOUBLE:
		*(double *)p += 1.5;
		after = probe_check_fingerprint(c);
		*(double *)p -= 1.5;
		break;
	case PROBE_STORE_STRV: {
		char **old = *(char ***)p;
		size_t *n = (size_t *)((char *)base + s->off2), old_n = *n;

		*(char ***)p = one;
		*n = 1;
		after = probe_check_fingerprint(c);
		*(char ***)p = old;
		*n = old_n;
		break;
	}
	default:
		fail_msg("%s setting \"%s\": unexpected store %d", type, s->name, (int)s->store);
		return;
	}
	if (s->flags & PROBE_NO_RELOAD) {
		if (after != before)
			fail_msg("%s setting \"%s\" is marked PROBE_NO_RELOAD but changes the fingerprint", type, s->name);
	} else if (after == before) {
		fail_msg("%s setting \"%s\" is not part of the reload fingerprint", type, s->name);
	}
}

static void check_table_in_fingerprint(struct check *c, void *base, const struct probe_setting *t,
                                       const char *type)
{
	for (; t->name != NULL; t++) {
		if (t->store == PROBE_STORE_NONE)
			continue;       /* a group: its members are settings of their own */
		if (t->store == PROBE_STORE_FN)
			fn_setting_in_fingerprint(type, t);
		else
			stored_setting_in_fingerprint(c, base, t, type);
	}
}

static void test_every_setting_in_fingerprint(void **state)
{
	(void)state;
	for (int t = 0; t < CHECK_TYPE_COUNT; t++) {
		const struct probe_type *pt = probe_type_get((enum check_type)t);
		struct conf *conf = load_minimal(pt->name);
		struct check *c = &conf->checks[0];

		assert_int_equal(c->fingerprint, probe_check_fingerprint(c));
		check_table_in_fingerprint(c, c, probe_check_settings, pt->name);
		check_table_in_fingerprint(c, c, pt->settings, pt->name);
		check_table_in_fingerprint(c, &c->expect, pt->expect, pt->name);
		conf_unref(conf);
	}
}

/* Moving a check to another group keeps its schedule; renaming it does not. */
static void test_group_not_in_fingerprint(void **state)
{
	(void)state;
	assert_int_equal(fingerprint_of("tcp", "host = \"db\"; port = 1; group = \"a\";"),
	                 fingerprint_of("tcp", "host = \"db\"; port = 1; group = \"b\";"));
	assert_int_not_equal(fingerprint_of("tcp", "host = \"db\"; port = 1;"),
	                     fingerprint_of("tcp", "host = \"db\"; port = 2;"));
}

/* --- the table itself ------------------------------------------------------ */

static void test_table_shape(void **state)
{
	(void)state;
	for (int t = 0; t < CHECK_TYPE_COUNT; t++) {
		const struct probe_type *pt = probe_type_get((enum check_type)t);

		assert_non_null(pt);
		assert_non_null(pt->name);
		assert_string_equal(check_type_name((enum check_type)t), pt->name);
		assert_int_equal(probe_type_find(pt->name), t);
		assert_non_null(pt->settings);
		assert_non_null(pt->expect);
		assert_non_null(pt->target);
		/* A type that starts runs can stop them. */
		assert_true(pt->start == NULL || pt->abort != NULL);
	}
	assert_null(probe_type_get(CHECK_TYPE_COUNT));
	assert_int_equal(probe_type_find("smtp"), -1);
	assert_string_equal(check_type_name(CHECK_TYPE_COUNT), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_shape),
		cmocka_unit_test(test_every_setting_documented),
		cmocka_unit_test(test_every_setting_in_fingerprint),
		cmocka_unit_test(test_group_not_in_fingerprint),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

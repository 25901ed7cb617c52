/* test_conf_scale.c — the config at scale and split over files: the linear
 * validators on 100,000 names (the one duplicate, the one unknown
 * depends_on, lookups by name), `include` (sorted globs relative to the main
 * file, errors at the included file's lines, names unique across files,
 * what an included file may hold, missing files), the inherited-timeout
 * rule, and the one "did you mean" (core/suggest). */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf/conf.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/suggest.h"
#include "core/util.h"

#define MANY 100000

/* --- helpers --------------------------------------------------------------- */

static bool has_line(const struct conf_errors *e, const char *want)
{
	for (size_t i = 0; i < e->n; i++)
		if (strcmp(e->lines[i], want) == 0)
			return true;
	for (size_t i = 0; i < e->n; i++)
		fprintf(stderr, "    | %s\n", e->lines[i]);
	fprintf(stderr, "    wanted: %s\n", want);
	return false;
}

/* MANY tcp checks c000000...; check dup_at repeats the name of check 7, and
 * check dep_at depends on "dep_name" (either may be -1: none). */
static char *many_checks(long dup_at, long dep_at, const char *dep_name)
{
	struct buf b = BUF_INIT;

	buf_adds(&b, "checks = (\n");
	for (long i = 0; i < MANY; i++) {
		buf_printf(&b, "  { name = \"c%06ld\"; group = \"g%03ld\"; type = \"tcp\"; host = \"127.0.0.1\"; port = 1;",
		           i == dup_at ? 7 : i, i % 100);
		if (i == dep_at)
			buf_printf(&b, " depends_on = \"%s\";", dep_name);
		buf_adds(&b, i + 1 < MANY ? " },\n" : " }\n");
	}
	buf_adds(&b, ");\n");
	return buf_steal(&b, NULL);
}

/* A fresh folder under /tmp; the caller removes it with rm_tree(). */
static char *temp_dir(void)
{
	char *dir = xstrdup("/tmp/pharos-test-include-XXXXXX");

	assert_non_null(mkdtemp(dir));
	return dir;
}

static char *put(const char *dir, const char *name, const char *text)
{
	char *path = xasprintf("%s/%s", dir, name);
	FILE *f;

	if (strchr(name, '/') != NULL) {
		char *sub = xasprintf("%s/%.*s", dir, (int)(strchr(name, '/') - name), name);

		mkdir(sub, 0700);
		free(sub);
	}
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

static void rm_tree(char *dir)
{
	char *cmd = xasprintf("rm -rf '%s'", dir);

	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(dir);
}

/* --- 100,000 names ----------------------------------------------------------- */

static void test_one_duplicate_among_many(void **state)
{
	char *text = many_checks(MANY - 1, -1, NULL);
	struct conf_errors e = { 0 };
	struct conf *c;

	(void)state;
	c = conf_load_string(text, "t.conf", &e);
	assert_null(c);
	assert_int_equal(e.n, 1);
	assert_true(has_line(&e, "t.conf:100001: duplicate check name \"c000007\" (first defined on line 9)"));
	conf_errors_free(&e);
	free(text);
}

static void test_one_unknown_dependency_among_many(void **state)
{
	char *text = many_checks(-1, 500, "c0999x9");
	struct conf_errors e = { 0 };
	struct conf *c;

	(void)state;
	c = conf_load_string(text, "t.conf", &e);
	assert_null(c);
	assert_int_equal(e.n, 1);
	assert_true(has_line(&e, "t.conf:502: \"depends_on\" in check \"c000500\" names an unknown check \"c0999x9\" (did you mean \"c099909\"?)"));
	conf_errors_free(&e);
	free(text);
}

static void test_lookups_among_many(void **state)
{
	char *text = many_checks(-1, MANY - 1, "c000000");
	struct conf *c;
	char name[24];

	(void)state;
	c = conf_load_string(text, "t.conf", &(struct conf_errors){ 0 });
	assert_non_null(c);
	assert_int_equal(c->n_checks, MANY);
	for (long i = 0; i < MANY; i += 997) {
		snprintf(name, sizeof(name), "c%06ld", i);
		assert_ptr_equal(conf_find_check(c, name), &c->checks[i]);
	}
	assert_null(conf_find_check(c, "c100000"));
	assert_null(conf_find_check(c, "C000001"));
	conf_unref(c);
	free(text);
}

/* What loading text logs (its warnings), and whether it loaded. */
static char *log_of_load(const char *text, bool *loaded)
{
	char path[] = "/tmp/pharos-test-log-XXXXXX";
	int fd = mkstemp(path), saved = dup(2);
	struct conf_errors e = { 0 };
	struct conf *c;
	char *out = xcalloc(1, 65536);
	FILE *f;

	assert_true(fd >= 0 && saved >= 0);
	fflush(stderr);
	dup2(fd, 2);
	c = conf_load_string(text, "t.conf", &e);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	*loaded = c != NULL;
	conf_unref(c);
	conf_errors_free(&e);
	f = fdopen(fd, "r");
	rewind(f);
	(void)!fread(out, 1, 65535, f);
	fclose(f);
	unlink(path);
	return out;
}

static void test_selectors_among_many(void **state)
{
	char *checks = many_checks(-1, -1, NULL);
	char *text = xasprintf("%s"
		"alerts = (\n"
		"  { name = \"a\"; checks = [ \"c0999*\", \"c1*\", \"c00000[0-3]\", \"*x\" ]; when = \"consecutive_failures >= 1\"; },\n"
		"  { name = \"b\"; checks = [ \"group:g042\", \"group:nope\", \"?099999\", \"c000001\" ]; when = \"consecutive_failures >= 1\"; }\n"
		");\n", checks);
	bool loaded;
	char *log = log_of_load(text, &loaded);

	(void)state;
	assert_true(loaded);
	assert_non_null(strstr(log, "the pattern \\\"c1*\\\" matches no check"));
	assert_non_null(strstr(log, "the pattern \\\"*x\\\" matches no check"));
	assert_non_null(strstr(log, "no check has group \\\"nope\\\""));
	assert_null(strstr(log, "c0999*"));
	assert_null(strstr(log, "[0-3]"));
	assert_null(strstr(log, "g042"));
	assert_null(strstr(log, "?099999"));
	free(log);
	free(text);
	free(checks);
}

/* --- include ----------------------------------------------------------------- */

static void test_include_joins_files_in_order(void **state)
{
	char *dir = temp_dir();
	char *b = put(dir, "conf.d/b.conf",
	              "checks = ( { name = \"b\"; type = \"tcp\"; host = \"h\"; port = 1; depends_on = \"main\"; } );\n"
	              "notifiers = ( { name = \"hook\"; type = \"webhook\"; url = \"http://127.0.0.1:9/\"; } );\n");
	char *a = put(dir, "conf.d/a.conf",
	              "checks = ( { name = \"a\"; type = \"tcp\"; host = \"h\"; port = 1; } );\n"
	              "alerts = ( { name = \"r\"; checks = \"b\"; when = \"consecutive_failures >= 1\"; notify = \"hook\"; } );\n"
	              "maintenance = ( { checks = \"a\"; weekly = \"Sun 01:00\"; duration = \"1h\"; } );\n");
	char *main_path = put(dir, "pharos.conf",
	                      "include = [ \"conf.d/*.conf\", \"none.d/*.conf\" ];\n"
	                      "checks = ( { name = \"main\"; type = \"tcp\"; host = \"h\"; port = 1; } );\n");
	struct conf_errors e = { 0 };
	struct conf *c = conf_load(main_path, &e);

	(void)state;
	if (c == NULL)
		has_line(&e, "");
	assert_non_null(c);
	assert_int_equal(c->n_checks, 3);
	assert_string_equal(c->checks[0].name, "main");
	assert_string_equal(c->checks[1].name, "a");          /* sorted: a.conf, b.conf */
	assert_string_equal(c->checks[2].name, "b");
	assert_string_equal(c->checks[0].file, main_path);
	assert_string_equal(c->checks[1].file, a);
	assert_string_equal(c->checks[2].file, b);
	assert_int_equal(c->checks[2].line, 1);
	assert_int_equal(c->n_rules, 1);
	assert_int_equal(c->n_notifiers, 1);
	assert_int_equal(c->n_maintenance, 1);
	assert_int_equal(c->n_included, 2);
	assert_non_null(conf_find_notifier(c, "hook"));
	conf_unref(c);
	free(a);
	free(b);
	free(main_path);
	rm_tree(dir);
}

static void test_include_errors_in_their_files(void **state)
{
	char *dir = temp_dir();
	char *x = put(dir, "conf.d/x.conf",
	              "# x\n"
	              "checks = ( { name = \"main\"; type = \"tcp\"; host = \"h\"; port = 1; } );\n"
	              "defaults = { interval = \"1m\"; };\n"
	              "chekcs = ();\n");
	char *main_path = put(dir, "pharos.conf",
	                      "include = \"conf.d/x.conf\";\n"
	                      "checks = ( { name = \"main\"; type = \"tcp\"; host = \"h\"; port = 1; } );\n");
	struct conf_errors e = { 0 };
	char *want;

	(void)state;
	assert_null(conf_load(main_path, &e));
	assert_int_equal(e.n, 3);
	want = xasprintf("%s:2: duplicate check name \"main\" (first defined in %s:2)", x, main_path);
	assert_true(has_line(&e, want));
	free(want);
	want = xasprintf("%s:3: \"defaults\" belongs in the main configuration file %s (an included file holds only checks, alerts, notifiers and maintenance)",
	                 x, main_path);
	assert_true(has_line(&e, want));
	free(want);
	want = xasprintf("%s:4: unknown section \"chekcs\" (did you mean \"checks\"?)", x);
	assert_true(has_line(&e, want));
	free(want);
	conf_errors_free(&e);
	free(x);
	free(main_path);
	rm_tree(dir);
}

static void test_include_missing_and_broken_files(void **state)
{
	char *dir = temp_dir();
	char *bad = put(dir, "conf.d/bad.conf", "checks = (\n  { name = \"x\" \n);\n");
	char *main_path = put(dir, "pharos.conf",
	                      "\ninclude = [ \"conf.d/*.conf\", \"missing.conf\" ];\n");
	struct conf_errors e = { 0 };
	char *want;

	(void)state;
	assert_null(conf_load(main_path, &e));
	assert_int_equal(e.n, 2);
	want = xasprintf("%s:2: \"include\" entry 2: %s/missing.conf: cannot open the configuration: No such file or directory",
	                 main_path, dir);
	assert_true(has_line(&e, want));
	free(want);
	assert_non_null(strstr(e.lines[1], bad));
	assert_non_null(strstr(e.lines[1], ":3: syntax error"));
	conf_errors_free(&e);
	free(bad);
	free(main_path);
	rm_tree(dir);
}

/* --- the timeout rule -------------------------------------------------------- */

static void test_inherited_timeout_is_cut(void **state)
{
	struct conf_errors e = { 0 };
	struct conf *c = conf_load_string(
		"defaults = { interval = \"30s\"; timeout = \"10s\"; };\n"
		"checks = (\n"
		"  { name = \"fast\"; type = \"tcp\"; host = \"h\"; port = 1; interval = \"5s\"; },\n"
		"  { name = \"slow\"; type = \"tcp\"; host = \"h\"; port = 1; interval = \"1m\"; }\n"
		");\n", "t.conf", &e);

	(void)state;
	assert_non_null(c);
	assert_int_equal(c->checks[0].timeout_ms, 5000);
	assert_int_equal(c->checks[1].timeout_ms, 10000);
	conf_unref(c);
	assert_null(conf_load_string(
		"checks = ( { name = \"c\"; type = \"tcp\"; host = \"h\"; port = 1; interval = \"5s\"; timeout = \"6s\"; } );\n",
		"t.conf", &e));
	assert_true(has_line(&e, "t.conf:1: timeout \"6s\" is longer than interval \"5s\" in check \"c\" (a run must end before the next one starts)"));
	conf_errors_free(&e);
}

/* --- did you mean ------------------------------------------------------------ */

static void test_suggest(void **state)
{
	static const char *const names[] = { "interval", "timeout", "Title", "retries" };
	const char **many = xcalloc(MANY, sizeof(*many));
	char (*buf)[28] = xcalloc(MANY, sizeof(*buf));
	struct suggest s;

	(void)state;
	assert_string_equal(suggest_closest("timout", names, 4, 2), "timeout");
	assert_string_equal(suggest_closest("TITLE", names, 4, 2), "Title");
	assert_null(suggest_closest("x", names, 4, 2));            /* fewer edits than letters */
	assert_null(suggest_closest("frobnicate", names, 4, 2));
	assert_null(suggest_closest("intervl", names, 4, 0));
	/* The first of equally close candidates. */
	suggest_init(&s, "ab", 2, 1);
	suggest_offer(&s, "xb");
	suggest_offer(&s, "ax");
	assert_string_equal(s.best, "xb");
	/* Among 100,000: the one close name. */
	for (long i = 0; i < MANY; i++) {
		snprintf(buf[i], sizeof(buf[i]), "name-%06ld", i * 7);
		many[i] = buf[i];
	}
	assert_string_equal(suggest_closest("name-0049O0", many, MANY, 2), "name-004900");
	assert_null(suggest_closest("other-thing", many, MANY, 2));
	free(many);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_duplicate_among_many),
		cmocka_unit_test(test_one_unknown_dependency_among_many),
		cmocka_unit_test(test_lookups_among_many),
		cmocka_unit_test(test_selectors_among_many),
		cmocka_unit_test(test_include_joins_files_in_order),
		cmocka_unit_test(test_include_errors_in_their_files),
		cmocka_unit_test(test_include_missing_and_broken_files),
		cmocka_unit_test(test_inherited_timeout_is_cut),
		cmocka_unit_test(test_suggest),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

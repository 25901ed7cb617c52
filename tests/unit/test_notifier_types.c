/* test_notifier_types.c — walks the notifier table (notifier_types[]):
 * every type is complete (build, settings with docs and valid examples, a
 * url or a default one, a rate), every setting is documented in
 * pharos.conf(5) and in the README's config reference under its type, and
 * every secret setting is masked ("***") wherever notifier settings can be
 * shown: logs, API and page (log_mask_secrets) and the summary of a
 * receiver's answer (notify_classify). */
#include "unit.h"
#include "alerts/notify.h"
#include "conf/conf.h"
#include "core/log.h"
#include "core/util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The settings every notifier has (conf_alerts.c reads them). */
static const char *const common_settings[] = { "max_attempts", "max_age", "timeout", "rate" };

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long len;

	if (f == NULL)
		fail_msg("cannot open %s (run the tests from the top of the tree)", path);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = xmalloc((size_t)len + 1);
	assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
	buf[len] = '\0';
	fclose(f);
	return buf;
}

/* A copy of the part of text from the first start to the first end after
 * it (or the end of text); NULL when start is not there. */
static char *section(const char *text, const char *start, const char *end)
{
	const char *a = strstr(text, start), *b;

	if (a == NULL)
		return NULL;
	b = strstr(a + strlen(start), end);
	return b != NULL ? xstrndup(a, (size_t)(b - a)) : xstrdup(a);
}

/* Whether word occurs in text as a whole word (not inside another name). */
static bool has_word(const char *text, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = strstr(text, word); p != NULL; p = strstr(p + 1, word)) {
		bool left = p == text || !(isalnum((unsigned char)p[-1]) || p[-1] == '_');
		bool right = !(isalnum((unsigned char)p[n]) || p[n] == '_');

		if (left && right)
			return true;
	}
	return false;
}

/* --- the table ------------------------------------------------------------- */

static void test_table_complete(void **state)
{
	size_t n_types = 0;

	for (size_t t = 0; notifier_types[t] != NULL; t++) {
		const struct notifier_type *ty = notifier_types[t];
		size_t n = notifier_type_n_settings(ty);
		int url = notifier_type_setting_index(ty, "url");

		n_types++;
		assert_non_null(ty->name);
		assert_non_null(ty->doc);
		assert_non_null(ty->build);
		assert_ptr_equal(notifier_type_find(ty->name), ty);
		assert_true(ty->default_rate > 0);
		assert_true(n <= NOTIFIER_SETTINGS_MAX);
		/* notify_build needs a url: a setting, required or with a default. */
		assert_true(url >= 0);
		assert_true((ty->settings[url].flags & NOTIFIER_REQUIRED) || ty->default_url != NULL);
		for (size_t i = 0; i < n; i++) {
			const struct notifier_setting *st = &ty->settings[i];

			assert_non_null(st->doc);
			assert_non_null(st->example);
			if (st->flags & NOTIFIER_REQUIRED)
				assert_non_null(st->hint);
			if (st->check != NULL)
				assert_null(st->check(st->example));
			assert_int_equal(notifier_type_setting_index(ty, st->name), (int)i);
			for (size_t c = 0; c < sizeof(common_settings) / sizeof(common_settings[0]); c++)
				assert_string_not_equal(st->name, common_settings[c]);
			assert_string_not_equal(st->name, "name");
			assert_string_not_equal(st->name, "type");
		}
		for (size_t u = 0; u < t; u++)
			assert_string_not_equal(notifier_types[u]->name, ty->name);
	}
	assert_true(n_types >= 4 && n_types <= NOTIFIER_TYPES_MAX);
}

/* --- the docs -------------------------------------------------------------- */

/* pharos.conf(5): each type is a ".TP" entry of NOTIFIERS whose paragraph
 * names each of its settings; the common ones are in the section's lead. */
static void test_documented_in_man_page(void **state)
{
	char *man = slurp("packaging/pharos.conf.5");
	char *sec = section(man, ".SH NOTIFIERS", "\n.SH ");
	bool ok = true;

	assert_non_null(sec);
	for (size_t c = 0; c < sizeof(common_settings) / sizeof(common_settings[0]); c++)
		if (!has_word(sec, common_settings[c])) {
			fprintf(stderr, "    pharos.conf.5: notifier setting %s is not documented\n",
			        common_settings[c]);
			ok = false;
		}
	for (size_t t = 0; notifier_types[t] != NULL; t++) {
		const struct notifier_type *ty = notifier_types[t];
		char *start = xasprintf(".TP\n.B %s\n", ty->name);
		char *para = section(sec, start, "\n.TP");

		if (para == NULL) {
			fprintf(stderr, "    pharos.conf.5: notifier type %s has no entry under NOTIFIERS\n",
			        ty->name);
			ok = false;
		}
		for (size_t i = 0; para != NULL && ty->settings[i].name != NULL; i++)
			if (!has_word(para + strlen(start), ty->settings[i].name)) {
				fprintf(stderr, "    pharos.conf.5: setting %s of %s notifiers is not documented\n",
				        ty->settings[i].name, ty->name);
				ok = false;
			}
		free(para);
		free(start);
	}
	free(sec);
	free(man);
	assert_true(ok);
}

/* The README's reference: the **`notifiers`** paragraph lists the common
 * settings, then per type "`type` `setting` (...), `setting` (...);". */
static void test_documented_in_readme(void **state)
{
	char *readme = slurp("README.md");
	char *para = section(readme, "**`notifiers`**", "\n\n");
	bool ok = true;

	assert_non_null(para);
	for (size_t c = 0; c < sizeof(common_settings) / sizeof(common_settings[0]); c++) {
		char *quoted = xasprintf("`%s`", common_settings[c]);

		if (strstr(para, quoted) == NULL) {
			fprintf(stderr, "    README.md: notifier setting %s is not documented\n",
			        common_settings[c]);
			ok = false;
		}
		free(quoted);
	}
	for (size_t t = 0; notifier_types[t] != NULL; t++) {
		const struct notifier_type *ty = notifier_types[t];
		char *start = xasprintf("`%s` `", ty->name);
		char *seg = section(para, start, ";");

		if (seg == NULL) {
			fprintf(stderr, "    README.md: notifier type %s is not in the notifiers reference\n",
			        ty->name);
			ok = false;
		}
		for (size_t i = 0; seg != NULL && ty->settings[i].name != NULL; i++) {
			char *quoted = xasprintf("`%s`", ty->settings[i].name);

			if (strstr(seg, quoted) == NULL) {
				fprintf(stderr, "    README.md: setting %s of %s notifiers is not documented\n",
				        ty->settings[i].name, ty->name);
				ok = false;
			}
			free(quoted);
		}
		free(seg);
		free(start);
	}
	free(para);
	free(readme);
	assert_true(ok);
}

/* --- secrets --------------------------------------------------------------- */

/* A config with one notifier of type ty, every setting at its example. */
static char *config_for(const struct notifier_type *ty)
{
	char *text = xasprintf("notifiers = (\n  { name = \"n\"; type = \"%s\";", ty->name);

	for (size_t i = 0; ty->settings[i].name != NULL; i++) {
		/* A boolean is written bare; everything else as a string. */
		bool bare = ty->settings[i].kind == NOTIFIER_BOOL;
		char *next = xasprintf("%s %s = %s%s%s;", text, ty->settings[i].name, bare ? "" : "\"",
		                       ty->settings[i].example, bare ? "" : "\"");

		free(text);
		text = next;
	}
	{
		char *next = xasprintf("%s }\n);\n", text);

		free(text);
		text = next;
	}
	return text;
}

/* Every secret setting of every type, once loaded, is masked in what the
 * API, the page and the log show, and in the summary of an answer that
 * echoes it. */
static void test_secrets_masked(void **state)
{
	for (size_t t = 0; notifier_types[t] != NULL; t++) {
		const struct notifier_type *ty = notifier_types[t];
		char *text = config_for(ty);
		struct conf_errors e = { 0 };
		struct conf *c;
		const struct notifier_conf *n;

		log_secret_clear();
		c = conf_load_string(text, "t.conf", &e);
		for (size_t i = 0; i < e.n; i++)
			fprintf(stderr, "    | %s\n", e.lines[i]);
		assert_non_null(c);
		n = conf_find_notifier(c, "n");
		assert_non_null(n);
		assert_ptr_equal(n->type, ty);
		for (size_t i = 0; ty->settings[i].name != NULL; i++) {
			const struct notifier_setting *st = &ty->settings[i];
			char *shown, *body;
			char summary[512];

			assert_non_null(notifier_get(n, st->name));
			if (!(st->flags & NOTIFIER_SECRET))
				continue;
			shown = log_mask_secrets(st->example);
			if (strcmp(shown, "***") != 0)
				fail_msg("%s setting %s is shown as %s", ty->name, st->name, shown);
			free(shown);
			body = xasprintf("bad request: %s", st->example);
			notify_classify(n, 400, body, strlen(body), NULL, 0, NULL, summary, sizeof(summary));
			if (strstr(summary, st->example) != NULL || strstr(summary, "***") == NULL)
				fail_msg("%s setting %s is not masked in \"%s\"", ty->name, st->name, summary);
			free(body);
		}
		conf_unref(c);
		conf_errors_free(&e);
		free(text);
	}
	log_secret_clear();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_complete),
		cmocka_unit_test(test_documented_in_man_page),
		cmocka_unit_test(test_documented_in_readme),
		cmocka_unit_test(test_secrets_masked),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

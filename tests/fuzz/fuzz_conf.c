/* fuzz_conf.c — libFuzzer target for the config loader: any bytes, read as a
 * config, must give a conf or error lines, never a crash, a hang or a leak. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "core/log.h"
#include "core/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const char *__lsan_default_suppressions(void);

/* libconfig 1.5 (Debian 12) leaks a string token that its parser discards
 * while recovering from a syntax error (libconfig issue #142, fixed in 1.7.3
 * by a bison %destructor). Not ours to fix; everything else must not leak. */
const char *__lsan_default_suppressions(void)
{
	return "leak:strbuf_append\n"
	       "leak:libconfig_yylex\n";
}

/* conf_load_string() takes a C string: the input is copied and terminated
 * (an embedded NUL simply ends the text early). Secrets registered by the
 * load are forgotten afterwards, or the log's list would grow run after run. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf_errors errs = { 0 };
	struct conf *c;
	char *text = xmalloc(size + 1);

	memcpy(text, data, size);
	text[size] = '\0';
	c = conf_load_string(text, "fuzz.conf", &errs);
	if (c != NULL) {
		/* Touch what the rest of the agent reads. */
		for (size_t i = 0; i < c->n_checks; i++)
			(void)conf_find_check(c, c->checks[i].name);
		conf_unref(c);
	}
	conf_errors_free(&errs);
	log_secret_clear();
	free(text);
	return 0;
}

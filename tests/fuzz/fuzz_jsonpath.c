/* fuzz_jsonpath.c — libFuzzer target for the JSONPath subset: any bytes as a
 * path are checked and evaluated on a small fixed document; input holding a
 * newline is also split as "path\ndoc" and evaluated on that document. Never
 * a crash, a hang or a leak; the checker and the evaluator must agree (a path
 * the checker accepts never makes get fail on the root itself), and an error
 * names a column inside the path. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probes/jsonpath.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char fixed_doc[] =
	"{\"status\":\"ok\",\"code\":200,\"items\":[{\"id\":1},{\"id\":2,\"tags\":[\"a\",\"b\"]}],"
	"\"a b\":{\"it's\":true},\"n\":null,\"r\":1.5}";

/* Exercises every function on one (path, doc) pair. */
static void fuzz_one(const char *path, json_t *doc)
{
	char err[96], text[48];
	size_t plen = strlen(path);
	int rc = jsonpath_check(path, err, sizeof(err));
	json_t *v = jsonpath_get(doc, path);

	if (rc == 0) {
		/* "$" alone must give the document back */
		if (strcmp(path, "$") == 0 && v != doc)
			abort();
	} else {
		unsigned long col;

		if (v != NULL)
			abort();    /* an invalid path never yields a value */
		if (sscanf(err, "column %lu:", &col) != 1 || col < 1 || col > plen + 1)
			abort();
	}
	jsonpath_describe(v, text, sizeof(text));
	if (strlen(text) >= sizeof(text))
		abort();
	if (v != NULL && !jsonpath_equals(v, v))
		abort();
	(void)jsonpath_equals(v, doc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static json_t *fixed;
	char *buf, *nl;
	json_error_t jerr;

	if (fixed == NULL)
		fixed = json_loads(fixed_doc, 0, &jerr);
	if (size > 65536)
		return 0;
	buf = malloc(size + 1);
	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';

	/* 1. the whole input (up to a NUL) as a path on the fixed document */
	fuzz_one(buf, fixed);

	/* 2. "path\ndoc" */
	nl = memchr(buf, '\n', size);
	if (nl != NULL) {
		size_t doc_len = size - (size_t)(nl + 1 - buf);
		json_t *doc;

		*nl = '\0';
		doc = json_loadb(nl + 1, doc_len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
		if (doc != NULL) {
			fuzz_one(buf, doc);
			json_decref(doc);
		}
	}
	free(buf);
	return 0;
}

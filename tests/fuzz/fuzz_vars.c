/* fuzz_vars.c — libFuzzer target for the run-time ${var:NAME} substitution
 * of multi-step http checks (probe_http_subst): the input up to the first
 * newline is the template, each following line a value for the variables
 * v0, v1, ... (at most 8). Every mode must terminate without a crash or a
 * leak; a URL never contains a byte outside printable ASCII or a space that
 * was not in the template, a header value never gains a line break, and the
 * raw mode changes nothing when no name is known. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probes/probe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_VARS 8

/* Counts the bytes of s in [lo, hi] or equal to extra. */
static size_t count_bytes(const char *s, unsigned char lo, unsigned char hi)
{
	size_t n = 0;

	for (; *s; s++)
		if ((unsigned char)*s >= lo && (unsigned char)*s <= hi)
			n++;
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[MAX_VARS] = { "v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7" };
	const char *values[MAX_VARS];
	size_t n = 0;
	char *buf, *p, *out;

	if (size > 65536)
		return 0;
	buf = malloc(size + 1);
	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	p = strchr(buf, '\n');
	if (p != NULL) {
		*p++ = '\0';
		while (p != NULL && n < MAX_VARS) {
			char *next = strchr(p, '\n');

			if (next != NULL)
				*next++ = '\0';
			values[n++] = p;
			p = next;
		}
	}

	out = probe_http_subst(buf, names, values, n, PROBE_SUBST_URL);
	if (out != NULL) {
		/* values are percent-encoded: no new control or high bytes */
		if (count_bytes(out, 0x80, 0xff) > count_bytes(buf, 0x80, 0xff) ||
		    count_bytes(out, 0x01, 0x20) > count_bytes(buf, 0x01, 0x20))
			abort();
		free(out);
	}
	out = probe_http_subst(buf, names, values, n, PROBE_SUBST_HEADER);
	if (out != NULL) {
		if (count_bytes(out, '\n', '\n') > count_bytes(buf, '\n', '\n') ||
		    count_bytes(out, '\r', '\r') > count_bytes(buf, '\r', '\r'))
			abort();
		free(out);
	}
	out = probe_http_subst(buf, names, values, n, PROBE_SUBST_RAW);
	if (out != NULL)
		free(out);
	out = probe_http_subst(buf, NULL, NULL, 0, PROBE_SUBST_RAW);
	if (out == NULL || strcmp(out, buf) != 0)
		abort();
	free(out);
	free(buf);
	return 0;
}

/* fuzz_push.c — libFuzzer target for the push endpoint's input handling
 * (heartbeat.c): the input is split at the first two newlines into an
 * Authorization header value, a ?token= value and the body. The token check
 * must never crash and must accept only the exact token; the body text must
 * be valid UTF-8 without NUL, at most three times the capped input, and say
 * truncated exactly when the body was over the cap. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "heartbeat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char expected[] = "hb-secret-token";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf, *auth, *query, *body, *nl, *text;
	size_t body_len;
	bool truncated;
	enum heartbeat_auth a;
	json_t *j;

	if (size > 65536)
		return 0;
	buf = malloc(size + 1);
	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	auth = buf;
	query = NULL;
	body = buf + size;
	nl = memchr(buf, '\n', size);
	if (nl != NULL) {
		*nl = '\0';
		query = nl + 1;
		nl = memchr(query, '\n', size - (size_t)(query - buf));
		if (nl != NULL) {
			*nl = '\0';
			body = nl + 1;
		}
	}
	body_len = size - (size_t)(body - buf);

	a = heartbeat_check_token(auth[0] ? auth : NULL, query, expected);
	if (a == HEARTBEAT_AUTH_OK) {
		/* only the exact token, from the header or the query, is accepted */
		const char *b = auth;

		if (strncasecmp(b, "bearer", 6) == 0 && (b[6] == ' ' || b[6] == '\t')) {
			b += 6;
			while (*b == ' ' || *b == '\t')
				b++;
		} else {
			b = NULL;
		}
		if (!((b && *b && strcmp(b, expected) == 0) ||
		      ((b == NULL || *b == '\0') && query && strcmp(query, expected) == 0)))
			abort();
	}

	text = heartbeat_body_text(body, body_len, &truncated);
	if (truncated != (body_len > HEARTBEAT_BODY_MAX))
		abort();
	if (strlen(text) > 3 * (body_len < HEARTBEAT_BODY_MAX ? body_len : HEARTBEAT_BODY_MAX))
		abort();
	/* jansson refuses invalid UTF-8: the text must always be accepted */
	j = json_string(text);
	if (j == NULL)
		abort();
	json_decref(j);
	{
		char small[17];

		heartbeat_copy_text(small, sizeof(small), text);
		j = json_string(small);
		if (j == NULL)
			abort();
		json_decref(j);
	}
	free(text);
	free(buf);
	return 0;
}

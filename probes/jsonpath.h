/* jsonpath.h — the small JSONPath subset used by expect.json and extract:
 *   $                 the document
 *   .name  ['name']   a member (quoted form for any key, \' and \\ escapes)
 *   [N]  [-N]         an array element (negative counts from the end)
 * No wildcards, filters or recursion: one path names at most one value. */
#ifndef PHAROS_JSONPATH_H
#define PHAROS_JSONPATH_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

/* Checks the syntax. Returns 0, or -1 with a message naming the column. */
int jsonpath_check(const char *path, char *err, size_t errlen);

/* The value at path in doc (borrowed reference), or NULL when absent or the
 * path is invalid. */
json_t *jsonpath_get(json_t *doc, const char *path);

/* Equality as a user means it: same JSON type and value; numbers compare by
 * value (200 == 200.0); a string expectation also matches a number or bool
 * whose text form is the same ("200" matches 200, "true" matches true). */
bool jsonpath_equals(const json_t *actual, const json_t *expected);

/* Short text form of a value for messages (strings unquoted, others as JSON,
 * cut at len-1 bytes). */
void jsonpath_describe(const json_t *v, char *buf, size_t len);

#endif

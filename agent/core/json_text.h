/* json_text.h — a JSON string from any C string: jansson refuses invalid
 * UTF-8, and a field that goes missing is worse than a byte replaced. */
#ifndef PHAROS_JSON_TEXT_H
#define PHAROS_JSON_TEXT_H

#include <jansson.h>

/* A new JSON string of s (NULL: ""), every byte of s from 0x80 up replaced
 * by '?' when s is not valid UTF-8. */
json_t *json_text(const char *s);

#endif

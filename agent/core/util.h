/* util.h — small helpers every module uses: clocks, allocation that aborts on
 * out-of-memory (a daemon cannot do anything useful without memory), durations,
 * stable hashing and identifiers. */
#ifndef PHAROS_UTIL_H
#define PHAROS_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Monotonic clock, for measuring and scheduling. */
uint64_t util_mono_ms(void);
uint64_t util_mono_us(void);

/* Wall clock in microseconds since the Unix epoch, for what is recorded. */
int64_t util_wall_us(void);

/* Allocation: never returns NULL; prints a message and aborts instead. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);           /* xstrdup(NULL) returns NULL */
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

/* Parses a duration string: an unsigned integer followed by one of the units
 * ms, s, m, h, d ("250ms", "30s", "5m", "4h", "7d"). A bare "0" is accepted.
 * Returns 0 and sets *ms, or -1 when the string is not a duration or overflows. */
int util_parse_duration(const char *s, uint64_t *ms);

/* Writes the shortest exact form of a duration ("1500ms", "30s", "5m", "2h", "7d"). */
void util_format_duration(uint64_t ms, char *buf, size_t len);

/* RFC 3339 UTC timestamp with milliseconds: "2026-11-24T00:13:24.123Z". */
void util_format_time(int64_t wall_us, char *buf, size_t len);

/* Parses RFC 3339 ("2026-11-24T00:13:24Z", fraction and offset optional) or
 * plain Unix seconds. Returns 0 and sets *wall_us, or -1. */
int util_parse_time(const char *s, int64_t *wall_us);

/* A stable 64-bit hash (FNV-1a) of a string: the same on every run and host,
 * used to spread first runs and to fingerprint settings. */
uint64_t util_hash64(const char *s);
uint64_t util_hash64_update(uint64_t h, const void *data, size_t len);
#define UTIL_HASH64_INIT 0xcbf29ce484222325ULL

/* A random identifier of 16 lowercase hex characters plus NUL. */
#define UTIL_ID_LEN 17
void util_random_id(char out[UTIL_ID_LEN]);

/* Constant-time comparison of two strings (for tokens): true when equal. */
bool util_secure_equals(const char *a, const char *b);

/* Copies at most size-1 bytes and always terminates (when size > 0).
 * Returns strlen(src); truncation happened when the result is >= size. */
size_t util_strlcpy(char *dst, const char *src, size_t size);

/* A copy of url with the password of its userinfo ("https://u:PASS@h/")
 * replaced by "***", the rest kept as written. When password is not NULL it
 * is set to a copy of that password (caller frees), or NULL when none. */
char *util_url_hide_password(const char *url, char **password);

/* The token of "Bearer TOKEN" (scheme case-insensitive, blanks skipped), or
 * NULL when auth is not a bearer header with a token (admin API, heartbeat). */
const char *util_bearer_token(const char *auth);

#endif

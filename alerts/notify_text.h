/* notify_text.h — text helpers for what pharos sends to people: valid UTF-8,
 * cuts that never split a character, Slack mrkdwn escaping, JSON strings
 * that cannot fail, RFC 3339 times. They know nothing of alerts, so any
 * module may use them (alert.c keeps stored events valid UTF-8 with them). */
#ifndef PHAROS_NOTIFY_TEXT_H
#define PHAROS_NOTIFY_TEXT_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

/* s, or "" when s is NULL. */
const char *notify_str(const char *s);

/* Length of the valid UTF-8 sequence (RFC 3629) starting at p, or 0 when p
 * does not start one. p is NUL-terminated. */
size_t notify_utf8_seq_len(const unsigned char *p);

/* A new copy of s that is valid UTF-8 (each invalid byte becomes U+FFFD) and
 * at most max bytes long including a closing "…" when it had to be cut; never
 * cut inside a character. NULL gives "". max < 4 is treated as 4. Caller frees. */
char *notify_utf8(const char *s, size_t max);

/* Like notify_utf8, with Slack mrkdwn's &, < and > escaped as &amp; &lt; &gt;
 * (never cut inside an entity). Caller frees. */
char *notify_mrkdwn(const char *s, size_t max);

/* A JSON string of notify_utf8(s, max): never NULL, whatever the bytes. */
json_t *notify_json_str(const char *s, size_t max);

/* A copy of s on one line: CR, LF and tabs become blanks (a value can then
 * go into a header without making another one). Caller frees. */
char *notify_one_line(const char *s);

/* s as a header value for mail and HTTP: as is when it is printable ASCII,
 * else RFC 2047 encoded-words "=?UTF-8?B?...?=" (at most 75 characters
 * each, never splitting a character), separated by blanks. s must be valid
 * UTF-8 on one line (notify_utf8, notify_one_line). Caller frees. */
char *notify_rfc2047(const char *s);

/* A duration for people: "850ms", "4s", "1m 5s", "2h 3m", "3d 4h". */
void notify_duration_words(uint64_t ms, char *buf, size_t len);

/* RFC 3339 UTC with milliseconds of a wall time in microseconds. */
#define NOTIFY_TIME_LEN 32
void notify_time(int64_t wall_us, char buf[NOTIFY_TIME_LEN]);

#endif

/* notify.h — notifiers: turn one alert event into one HTTP request for a
 * receiver (Slack, PagerDuty Events v2, a Standard Webhooks endpoint,
 * Alertmanager), and judge the receiver's answer. Nothing here does I/O: the
 * outbox and delivery code send the request through curl multi, retry and keep
 * state; these functions are pure and deterministic: the same input gives
 * the same request, byte for byte.
 *
 *   struct notify_request rq;
 *   char err[256];
 *   if (notify_build(n, ev, key, now_s, &rq, err, sizeof(err)) < 0) -> permanent failure (err)
 *   POST rq.body (strlen) to rq.url with every rq.headers[i] (Content-Type included)
 *   v = notify_classify(n, status, body, len, retry_after, now_s, &ms, sum, sizeof(sum));
 *   notify_request_clear(&rq);
 *
 * Idempotency: the key is the notification's stable id (the same on every
 * attempt). It becomes the webhook's `webhook-id` and body `id` (any '.' turned
 * into '_', as Standard Webhooks forbids dots), and the `X-Pharos-Idempotency-Key`
 * header of the other types. PagerDuty deduplicates on its dedup_key
 * "pharos:<rule>:<check>" instead, the same on every agent of a fleet.
 *
 * Build the request again for every attempt: the webhook signature covers
 * `webhook-timestamp`, which must be the time of that attempt (now_s); the
 * body itself does not change between attempts.
 *
 * Alertmanager forgets a firing alert after its resolve_timeout (default 5 m)
 * unless it is posted again: a firing alert is sent without endsAt, and
 * whoever schedules re-sends must re-post it every notify_refire_ms().
 *
 * Secrets (routing_key, webhook secret, the Slack URL and any notifier URL,
 * which may carry a token) never appear in err or summary strings. */
#ifndef PHAROS_NOTIFY_H
#define PHAROS_NOTIFY_H

#include <stddef.h>
#include <stdint.h>

#include "alerts/alert.h"

/* One HTTP POST. Owned by the struct; free with notify_request_clear. */
struct notify_request {
	char *url;
	char **headers;             /* "Name: value", every header to send, Content-Type included */
	size_t n_headers;
	char *body;                 /* NUL-terminated; send strlen(body) bytes exactly */
	char *content_type;         /* the Content-Type value, for information: already in headers */
};

/* Builds the request that delivers ev through notifier n. idempotency_key:
 * the notification's stable id (printable ASCII, no spaces; required). now_s:
 * wall clock of this attempt in Unix seconds (webhook-timestamp). Returns 0
 * and fills *out (caller clears it), or -1 with a message in err and *out
 * zeroed (the event or the configuration cannot make a valid request: treat as
 * a permanent failure). */
int notify_build(const struct notifier_conf *n, const struct alert_event *ev,
                 const char *idempotency_key, int64_t now_s,
                 struct notify_request *out, char *err, size_t errlen);

/* Frees what r holds and zeroes it; a zeroed struct is fine. */
void notify_request_clear(struct notify_request *r);

enum notify_verdict { NOTIFY_DELIVERED, NOTIFY_RETRY, NOTIFY_PERMANENT };

/* "delivered", "retry", "permanent". */
const char *notify_verdict_name(enum notify_verdict v);

/* Judges a receiver's answer. http_status 0 means no HTTP answer at all
 * (connection refused, timeout, TLS error). body may be NULL. retry_after_header
 * is the Retry-After value or NULL.
 *   2xx                      delivered (Slack answers 200 "ok", PagerDuty 202)
 *   429, 5xx                 retry; *retry_after_ms set from Retry-After
 *                            (seconds or HTTP-date, capped at 1 h), else 0
 *   3xx                      retry (redirects are not followed; the summary says so)
 *   0                        retry
 *   other 4xx                permanent (Slack invalid_payload, channel_not_found,
 *                            ...; PagerDuty 400 invalid event; Alertmanager 400)
 *   anything else            retry
 * *retry_after_ms (may be NULL) is 0 unless a usable Retry-After came with a
 * retry verdict. summary (may be NULL) receives one short line for people,
 * "HTTP 400 invalid_payload", with the receiver's words cut to 200 characters,
 * control characters blanked and the notifier's secrets masked. */
enum notify_verdict notify_classify(const struct notifier_conf *n, long http_status,
                                    const char *body, size_t body_len,
                                    const char *retry_after_header, int64_t now_s,
                                    uint64_t *retry_after_ms,
                                    char *summary, size_t summarylen);

/* Parses a Retry-After value: delay-seconds, or an HTTP-date (IMF-fixdate,
 * RFC 850 or asctime form) relative to now_s. Returns 0 and sets *ms (a date
 * in the past gives 0; capped at NOTIFY_RETRY_AFTER_MAX_MS), or -1 when the
 * value is neither. */
#define NOTIFY_RETRY_AFTER_MAX_MS 3600000ULL
int notify_parse_retry_after(const char *value, int64_t now_s, uint64_t *ms);

/* How often a still-firing alert must be posted again for the receiver to
 * keep it: 60 s for Alertmanager (well inside its default 5 m
 * resolve_timeout), 0 for the others (they keep an alert until resolved). */
uint64_t notify_refire_ms(const struct notifier_conf *n);

/* ---- Shared by notify_*.c only (not for other modules). ---------------- */

int notify_slack_build(const struct notifier_conf *n, const struct alert_event *ev,
                       const char *key, int64_t now_s, struct notify_request *out,
                       char *err, size_t errlen);
int notify_pagerduty_build(const struct notifier_conf *n, const struct alert_event *ev,
                           const char *key, int64_t now_s, struct notify_request *out,
                           char *err, size_t errlen);
int notify_webhook_build(const struct notifier_conf *n, const struct alert_event *ev,
                         const char *key, int64_t now_s, struct notify_request *out,
                         char *err, size_t errlen);
int notify_alertmanager_build(const struct notifier_conf *n, const struct alert_event *ev,
                              const char *key, int64_t now_s, struct notify_request *out,
                              char *err, size_t errlen);

/* The headline every notifier uses, without emoji: "FIRING [critical] down —
 * payments-api", "RESOLVED [critical] ...", "TEST — pharos notify-test
 * [critical] ...". Caller frees. */
char *notify_title(const struct alert_event *ev);

/* s, or "" when s is NULL. */
const char *notify_str(const char *s);

/* A new copy of s that is valid UTF-8 (each invalid byte becomes U+FFFD) and
 * at most max bytes long including a closing "…" when it had to be cut; never
 * cut inside a character. NULL gives "". max < 4 is treated as 4. Caller frees. */
char *notify_utf8(const char *s, size_t max);

/* Like notify_utf8, with Slack mrkdwn's &, < and > escaped as &amp; &lt; &gt;
 * (never cut inside an entity). Caller frees. */
char *notify_mrkdwn(const char *s, size_t max);

/* A JSON string of notify_utf8(s, max): never NULL, whatever the bytes. */
json_t *notify_json_str(const char *s, size_t max);

/* RFC 3339 UTC with milliseconds of a wall time in microseconds. */
#define NOTIFY_TIME_LEN 32
void notify_time(int64_t wall_us, char buf[NOTIFY_TIME_LEN]);

/* Appends a formatted "Name: value" header to r. */
void notify_request_add_header(struct notify_request *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Sets r->body to the compact serialisation of j and steals j (decrefs it).
 * Sets Content-Type application/json. Returns 0, or -1 with err. */
int notify_request_set_json(struct notify_request *r, json_t *j, char *err, size_t errlen);

#endif

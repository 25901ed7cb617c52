/* notify.h — notifiers: one descriptor per notifier type (struct
 * notifier_type, in the table notifier_types[]) that turns one alert event
 * into one HTTP request for a receiver (Slack, PagerDuty Events v2, a
 * Standard Webhooks endpoint, Alertmanager, Teams, Discord, Opsgenie, ntfy)
 * or one mail (email over SMTP) and judges the receiver's answer; and the configured notifiers (struct notifier_conf) whose settings
 * the type's settings table describes. Adding a type: docs/notifier-types.md. Nothing here does I/O: the
 * outbox and delivery code send the request through curl multi, retry and keep
 * state; these functions are pure and deterministic: the same input gives
 * the same request, byte for byte.
 *
 *   struct notify_request rq;
 *   char err[256];
 *   if (notify_build(n, ev, key, now_s, &rq, err, sizeof(err)) < 0) -> permanent failure (err)
 *   POST rq.body (strlen) to rq.url with every rq.headers[i] (Content-Type included),
 *   or for smtp:// and smtps:// send rq.body as a mail (rq.mail_from, rq.mail_rcpt)
 *   v = notify_classify(n, status, body, len, retry_after, now_s, &ms, sum, sizeof(sum));
 *   notify_request_clear(&rq);
 *
 * Idempotency: the key is the notification's stable id (the same on every
 * attempt). It becomes the webhook's `webhook-id` and body `id` (any '.' turned
 * into '_', as Standard Webhooks forbids dots), and the `X-Pharos-Idempotency-Key`
 * header of the other types (a mail also has it, and its Message-ID is
 * derived from it). PagerDuty deduplicates on its dedup_key
 * "pharos:<rule>:<check>" instead, the same on every agent of a fleet, and
 * Opsgenie on the same string as its alias.
 *
 * Build the request again for every attempt: the webhook signature covers
 * `webhook-timestamp`, which must be the time of that attempt (now_s); the
 * body itself does not change between attempts.
 *
 * Alertmanager forgets a firing alert after its resolve_timeout (default 5 m)
 * unless it is posted again: a firing alert is sent without endsAt, and
 * whoever schedules re-sends must re-post it every notify_refire_ms().
 *
 * Secrets (every setting the type's table flags NOTIFIER_SECRET, and any
 * notifier URL, which may carry a token) never appear in err or summary
 * strings. */
#ifndef PHAROS_NOTIFY_H
#define PHAROS_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alerts/alert.h"
#include "alerts/notify_text.h"

struct notifier_type;

/* --- configured notifiers ------------------------------------------------ */

/* One entry of `notifiers = (...)`. The type's own settings live in values,
 * one per entry of type->settings (NULL: not set); read them with
 * notifier_get(). */
struct notifier_conf {
	char *name;
	const struct notifier_type *type;
	char **values;              /* type->settings order; secrets wiped on clear */
	int max_attempts;           /* default 12 */
	uint64_t max_age_ms;        /* default 24h */
	uint64_t timeout_ms;        /* per attempt, default 10s */
	double rate_per_s;          /* default: the type's default_rate */
	char *template_title;       /* `template = { title; }`: NULL: the type's own headline */
	char *template_body;        /* `template = { body; }`: NULL: the type's own text */
	int line;
};

/* Frees what n holds (secret values wiped) and zeroes it. */
void notifier_conf_clear(struct notifier_conf *n);
/* A deep copy of src into *dst (dst is overwritten, not cleared). */
void notifier_conf_copy(struct notifier_conf *dst, const struct notifier_conf *src);

/* The value of the type's setting name, or NULL when not set (or n has no
 * such setting). For "url", the type's default_url when not set. */
const char *notifier_get(const struct notifier_conf *n, const char *name);
/* Sets the type's setting name to a copy of value (NULL: unset). Returns 0,
 * or -1 when n->type has no such setting. */
int notifier_set(struct notifier_conf *n, const char *name, const char *value);

/* --- requests and verdicts ----------------------------------------------- */

/* One HTTP POST, or one mail when url is smtp:// or smtps:// (then body is
 * the whole message, headers included, with CRLF line ends, and headers is
 * empty). Owned by the struct; free with notify_request_clear. */
struct notify_request {
	char *url;
	char **headers;             /* "Name: value", every header to send, Content-Type included */
	size_t n_headers;
	char *body;                 /* NUL-terminated; send strlen(body) bytes exactly */
	char *content_type;         /* the Content-Type value, for information: already in headers */
	/* SMTP only: */
	char *mail_from;            /* the envelope sender (MAIL FROM) */
	char **mail_rcpt;           /* the envelope recipients (RCPT TO) */
	size_t n_mail_rcpt;
	bool require_tls;           /* smtp://: STARTTLS or no mail at all */
	char *username;             /* AUTH, when set */
	char *password;             /* wiped on clear */
	char *ca_file;              /* trust these CAs instead of the system's (NULL: system) */
};

enum notify_verdict { NOTIFY_DELIVERED, NOTIFY_RETRY, NOTIFY_PERMANENT };

/* A receiver's answer, as a type's check_answer sees it. */
struct notify_answer {
	long status;                /* 0: no HTTP answer */
	const char *body;           /* may be NULL */
	size_t body_len;
	const char *retry_after;    /* the Retry-After header, or NULL */
};

/* --- the notifier types -------------------------------------------------- */

enum notifier_setting_kind {
	NOTIFIER_TEXT,              /* a string */
	NOTIFIER_URL,               /* an http(s) URL */
	NOTIFIER_BASE_URL,          /* an http(s) URL; trailing slashes dropped (a path is appended) */
	NOTIFIER_LIST,              /* a string or an array of strings; stored one per line */
	NOTIFIER_BOOL,              /* true or false; stored as "true" / "false" */
};

#define NOTIFIER_REQUIRED 1u    /* a config error when missing */
#define NOTIFIER_SECRET   2u    /* never shown: masked in logs, errors, API and summaries */
#define NOTIFIER_NONEMPTY 4u    /* "" is an error */

#define NOTIFIER_SETTINGS_MAX 24    /* per type, so the loader needs no allocation */

/* One setting of a notifier type, beside the ones every notifier has
 * (max_attempts, max_age, timeout, rate). */
struct notifier_setting {
	const char *name;
	enum notifier_setting_kind kind;
	unsigned flags;             /* NOTIFIER_REQUIRED | NOTIFIER_SECRET | NOTIFIER_NONEMPTY */
	const char *doc;            /* one line for people: what it is, its default */
	const char *example;        /* a valid value (docs and tests) */
	const char *hint;           /* when a required setting is missing: `url = "..."` */
	/* A further test of a value: NULL when it is fine, else the rest of a
	 * sentence "<setting> in <notifier> ...", like "must be ..."; NULL: none. */
	const char *(*check)(const char *value);
};

/* Builds the request that delivers ev through n (see notify_build, which has
 * checked n, ev and key already). Returns 0, or -1 with err. */
typedef int notify_build_fn(const struct notifier_conf *n, const struct alert_event *ev,
                            const char *key, int64_t now_s, struct notify_request *out,
                            char *err, size_t errlen);
/* The verdict on an answer; *retry_after_ms for a retry (0: none); *note: a
 * few words for the summary, or left NULL. */
typedef enum notify_verdict notify_answer_fn(const struct notify_answer *a, int64_t now_s,
                                             uint64_t *retry_after_ms, const char **note);
/* The receiver's words in an answer body, for a summary. Caller frees. */
typedef char *notify_words_fn(const char *body, size_t len);

/* One notifier type. Each lives in its notify_<name>.c; notify_types.c holds
 * the table. */
struct notifier_type {
	const char *name;           /* the config's type = "..." */
	const char *doc;            /* one line: what it posts to */
	const struct notifier_setting *settings;    /* ends with { NULL } */
	notify_build_fn *build;
	notify_answer_fn *check_answer;     /* NULL: notify_check_http */
	notify_words_fn *answer_words;      /* NULL: the body as text */
	const char *default_url;    /* NULL: the url setting is required */
	double default_rate;        /* notifications per second */
	uint64_t refire_ms;         /* re-post a firing alert this often (0: never) */
	bool json_template;         /* template.body replaces a JSON body: placeholders JSON-escaped */
};

/* Every notifier type, in the order docs and messages list them; ends with
 * NULL. At most NOTIFIER_TYPES_MAX (the loader's messages need no allocation). */
#define NOTIFIER_TYPES_MAX 64
extern const struct notifier_type *const notifier_types[];

/* The type called name, or NULL. */
const struct notifier_type *notifier_type_find(const char *name);
/* "slack, pagerduty, webhook, alertmanager": every type's name. Caller frees. */
char *notifier_type_names(void);
/* The number of settings of t, and the index of the setting name (-1: none). */
size_t notifier_type_n_settings(const struct notifier_type *t);
int notifier_type_setting_index(const struct notifier_type *t, const char *name);

/* --- building and judging ------------------------------------------------ */

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

/* "delivered", "retry", "permanent". */
const char *notify_verdict_name(enum notify_verdict v);

/* Judges a receiver's answer through the type's check_answer (default
 * notify_check_http). http_status 0 means no HTTP answer at all (connection
 * refused, timeout, TLS error). body may be NULL. retry_after_header is the
 * Retry-After value or NULL.
 * *retry_after_ms (may be NULL) is 0 unless a usable Retry-After came with a
 * retry verdict. summary (may be NULL) receives one short line for people,
 * "HTTP 400 invalid_payload", with the receiver's words cut to 200 characters,
 * control characters blanked and the notifier's secrets masked. */
enum notify_verdict notify_classify(const struct notifier_conf *n, long http_status,
                                    const char *body, size_t body_len,
                                    const char *retry_after_header, int64_t now_s,
                                    uint64_t *retry_after_ms,
                                    char *summary, size_t summarylen);

/* The verdict every HTTP receiver gets unless its type says otherwise:
 *   2xx                      delivered (Slack answers 200 "ok", PagerDuty 202)
 *   429, 5xx                 retry; *retry_after_ms set from Retry-After
 *                            (seconds or HTTP-date, capped at 1 h), else 0
 *   3xx                      retry (redirects are not followed; the note says so)
 *   0                        retry
 *   other 4xx                permanent (Slack invalid_payload, channel_not_found,
 *                            ...; PagerDuty 400 invalid event; Alertmanager 400)
 *   anything else            retry */
notify_answer_fn notify_check_http;

/* The words of a JSON answer: a JSON string as is, or an object's status,
 * message and errors ("invalid event: Event object is invalid (...)"); any
 * other body as text. For answer_words. */
notify_words_fn notify_json_words;

/* Parses a Retry-After value: delay-seconds, or an HTTP-date (IMF-fixdate,
 * RFC 850 or asctime form) relative to now_s. Returns 0 and sets *ms (a date
 * in the past gives 0; capped at NOTIFY_RETRY_AFTER_MAX_MS), or -1 when the
 * value is neither. */
#define NOTIFY_RETRY_AFTER_MAX_MS 3600000ULL
int notify_parse_retry_after(const char *value, int64_t now_s, uint64_t *ms);

/* How often a still-firing alert must be posted again for the receiver to
 * keep it: the type's refire_ms (60 s for Alertmanager, well inside its
 * default 5 m resolve_timeout; 0 for the others, which keep an alert until
 * resolved). */
uint64_t notify_refire_ms(const struct notifier_conf *n);

/* ---- Shared by notify_*.c only (not for other modules). ---------------- */

/* The headline every notifier uses, without emoji: "FIRING [critical] down —
 * payments-api", "RESOLVED [critical] ...", "TEST — pharos notify-test
 * [critical] ...". Caller frees. */
char *notify_title(const struct alert_event *ev);

/* The headline of ev for n: its template's title filled in (on one line),
 * else notify_title(ev). Caller frees. */
char *notify_headline(const struct notifier_conf *n, const struct alert_event *ev);

/* n's template body filled in for ev (placeholders as they are, not
 * escaped), or NULL when n has no template body. Caller frees. */
char *notify_template_text(const struct notifier_conf *n, const struct alert_event *ev);

/* ev->url when it is an absolute http(s) URL (receivers refuse others as
 * links), else NULL. */
const char *notify_link(const struct alert_event *ev);

/* "resolved after 1m 5s": how long a resolved alert was firing, in words,
 * into buf; "" for other events. */
#define NOTIFY_DOWN_LEN 48
void notify_down_for(const struct alert_event *ev, char buf[NOTIFY_DOWN_LEN]);

/* The values of a NOTIFIER_LIST setting (one per line) as a new array of
 * *count strings; NULL and 0 when not set. Free with notify_list_free. */
char **notify_list(const struct notifier_conf *n, const char *name, size_t *count);
void notify_list_free(char **list, size_t count);

/* Appends a formatted "Name: value" header to r. */
void notify_request_add_header(struct notify_request *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Sets r->body to the compact serialisation of j and steals j (decrefs it).
 * Sets Content-Type application/json. Returns 0, or -1 with err. */
int notify_request_set_json(struct notify_request *r, json_t *j, char *err, size_t errlen);

#endif

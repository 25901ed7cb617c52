/* notify.c — what every notifier shares: notify_build's checks and dispatch
 * to notify_<type>.c, the verdict on a receiver's answer (with Retry-After),
 * and text helpers (valid UTF-8, safe truncation, mrkdwn escaping). */
#include "alerts/notify.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/util.h"

#define KEY_MAX 200             /* PagerDuty's dedup_key holds 255 with our prefix */
#define SUMMARY_BODY_MAX 200    /* bytes of the receiver's words in a summary */
#define ELLIPSIS "\xe2\x80\xa6" /* U+2026 */

char *notify_title(const struct alert_event *ev)
{
	const char *sev = alert_severity_name(ev->severity);

	switch (ev->kind) {
	case ALERT_EVENT_RESOLVED:
		return xasprintf("RESOLVED [%s] %s \xe2\x80\x94 %s", sev, notify_str(ev->rule),
		                 notify_str(ev->check));
	case ALERT_EVENT_TEST:
		return xasprintf("TEST \xe2\x80\x94 pharos notify-test [%s] %s \xe2\x80\x94 %s", sev,
		                 notify_str(ev->rule), notify_str(ev->check));
	case ALERT_EVENT_FIRING:
	default:
		return xasprintf("FIRING [%s] %s \xe2\x80\x94 %s", sev, notify_str(ev->rule),
		                 notify_str(ev->check));
	}
}

const char *notify_str(const char *s)
{
	return s != NULL ? s : "";
}

/* Length of the valid UTF-8 sequence (RFC 3629: no overlongs, no surrogates,
 * nothing above U+10FFFF) starting at p, or 0 when p does not start one. p is
 * NUL-terminated, so reading continuation bytes stops at the terminator. */
static size_t utf8_seq_len(const unsigned char *p)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4;
	else
		return 0;
	if (p[0] == 0xe0)
		lo = 0xa0;
	else if (p[0] == 0xed)
		hi = 0x9f;
	else if (p[0] == 0xf0)
		lo = 0x90;
	else if (p[0] == 0xf4)
		hi = 0x8f;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

/* The core of notify_utf8 and notify_mrkdwn: copies s as valid UTF-8,
 * escaping for mrkdwn when asked, and cuts it to max bytes at a character
 * (or entity) boundary, with a closing ellipsis when it cut. */
static char *text_fit(const char *s, size_t max, bool mrkdwn)
{
	const unsigned char *p = (const unsigned char *)notify_str(s);
	size_t len = strlen((const char *)p);
	size_t o = 0, fit = 0;          /* fit: output length at the last boundary <= max - 3 */
	char *out;

	if (max < 4)
		max = 4;
	/* Worst case per input byte: 5 ("&amp;") or 3 (U+FFFD). */
	out = xmalloc(len * 5 + sizeof(ELLIPSIS));
	while (*p != '\0') {
		size_t n = utf8_seq_len(p);
		const char *rep = NULL;
		size_t rlen;

		if (n == 0) {
			rep = "\xef\xbf\xbd";
			n = 1;
		} else if (mrkdwn && *p == '&') {
			rep = "&amp;";
		} else if (mrkdwn && *p == '<') {
			rep = "&lt;";
		} else if (mrkdwn && *p == '>') {
			rep = "&gt;";
		}
		rlen = rep != NULL ? strlen(rep) : n;
		memcpy(out + o, rep != NULL ? rep : (const char *)p, rlen);
		o += rlen;
		p += n;
		if (o <= max - 3)
			fit = o;
	}
	if (o > max) {
		memcpy(out + fit, ELLIPSIS, 3);
		o = fit + 3;
	}
	out[o] = '\0';
	return out;
}

char *notify_utf8(const char *s, size_t max)
{
	return text_fit(s, max, false);
}

char *notify_mrkdwn(const char *s, size_t max)
{
	return text_fit(s, max, true);
}

json_t *notify_json_str(const char *s, size_t max)
{
	char *t = notify_utf8(s, max);
	json_t *j = json_string(t);

	free(t);
	/* Cannot happen (t is valid UTF-8), but a NULL here would be a crash later. */
	return j != NULL ? j : json_string("");
}

void notify_time(int64_t wall_us, char buf[NOTIFY_TIME_LEN])
{
	util_format_time(wall_us, buf, NOTIFY_TIME_LEN);
}

void notify_request_add_header(struct notify_request *r, const char *fmt, ...)
{
	va_list ap;
	char *h;

	va_start(ap, fmt);
	if (vasprintf(&h, fmt, ap) < 0) {
		fprintf(stderr, "pharos: out of memory\n");
		abort();
	}
	va_end(ap);
	r->headers = xrealloc(r->headers, (r->n_headers + 1) * sizeof(*r->headers));
	r->headers[r->n_headers++] = h;
}

int notify_request_set_json(struct notify_request *r, json_t *j, char *err, size_t errlen)
{
	char *s = j != NULL ? json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;

	json_decref(j);
	if (s == NULL) {
		snprintf(err, errlen, "cannot encode the payload as JSON");
		return -1;
	}
	free(r->body);
	r->body = xstrdup(s);
	free(s);
	free(r->content_type);
	r->content_type = xstrdup("application/json");
	notify_request_add_header(r, "Content-Type: application/json");
	return 0;
}

void notify_request_clear(struct notify_request *r)
{
	if (r == NULL)
		return;
	free(r->url);
	for (size_t i = 0; i < r->n_headers; i++) {
		/* The webhook-signature is derived from a secret: do not leave it around. */
		explicit_bzero(r->headers[i], strlen(r->headers[i]));
		free(r->headers[i]);
	}
	free(r->headers);
	free(r->body);
	free(r->content_type);
	memset(r, 0, sizeof(*r));
}

/* True when key can travel in a header and an id: printable ASCII, no blank. */
static bool key_ok(const char *key)
{
	size_t len;

	if (key == NULL)
		return false;
	len = strlen(key);
	if (len == 0 || len > KEY_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)key[i] <= 0x20 || (unsigned char)key[i] >= 0x7f)
			return false;
	return true;
}

int notify_build(const struct notifier_conf *n, const struct alert_event *ev,
                 const char *idempotency_key, int64_t now_s,
                 struct notify_request *out, char *err, size_t errlen)
{
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (n == NULL || ev == NULL) {
		snprintf(err, errlen, "no notifier or no event");
		return -1;
	}
	if (!key_ok(idempotency_key)) {
		snprintf(err, errlen, "idempotency key must be 1 to %d printable characters without blanks",
		         KEY_MAX);
		return -1;
	}
	if (ev->rule == NULL || ev->rule[0] == '\0' || ev->check == NULL || ev->check[0] == '\0') {
		snprintf(err, errlen, "event has no rule or no check");
		return -1;
	}
	/* URLs may carry a token (Slack's always does): never quote them in err. */
	if (n->type != NOTIFIER_PAGERDUTY && (n->url == NULL || n->url[0] == '\0')) {
		snprintf(err, errlen, "notifier %s has no url", notify_str(n->name));
		return -1;
	}
	if (n->url != NULL && strpbrk(n->url, "\r\n\t ") != NULL) {
		snprintf(err, errlen, "notifier %s: url contains blanks or line breaks",
		         notify_str(n->name));
		return -1;
	}
	switch (n->type) {
	case NOTIFIER_SLACK:
		rc = notify_slack_build(n, ev, idempotency_key, now_s, out, err, errlen);
		break;
	case NOTIFIER_PAGERDUTY:
		rc = notify_pagerduty_build(n, ev, idempotency_key, now_s, out, err, errlen);
		break;
	case NOTIFIER_WEBHOOK:
		rc = notify_webhook_build(n, ev, idempotency_key, now_s, out, err, errlen);
		break;
	case NOTIFIER_ALERTMANAGER:
		rc = notify_alertmanager_build(n, ev, idempotency_key, now_s, out, err, errlen);
		break;
	default:
		snprintf(err, errlen, "unknown notifier type");
		break;
	}
	if (rc < 0)
		notify_request_clear(out);
	return rc;
}

const char *notify_verdict_name(enum notify_verdict v)
{
	switch (v) {
	case NOTIFY_DELIVERED: return "delivered";
	case NOTIFY_RETRY:     return "retry";
	case NOTIFY_PERMANENT: return "permanent";
	}
	return "unknown";
}

uint64_t notify_refire_ms(const struct notifier_conf *n)
{
	return n != NULL && n->type == NOTIFIER_ALERTMANAGER ? 60000 : 0;
}

/* Parses an HTTP-date in any of the three forms RFC 9110 asks recipients to
 * accept. Returns 0 and sets *t, or -1. strptime reads day and month names
 * of the C locale, which is the agent's (it never calls setlocale). */
static int parse_http_date(const char *s, time_t *t)
{
	static const char *const formats[] = {
		"%a, %d %b %Y %H:%M:%S GMT",    /* IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT */
		"%A, %d-%b-%y %H:%M:%S GMT",    /* RFC 850: Sunday, 06-Nov-94 08:49:37 GMT */
		"%a %b %e %H:%M:%S %Y",         /* asctime: Sun Nov  6 08:49:37 1994 */
	};

	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		struct tm tm;
		const char *end;

		memset(&tm, 0, sizeof(tm));
		end = strptime(s, formats[i], &tm);
		if (end == NULL)
			continue;
		end += strspn(end, " \t");
		if (*end != '\0')
			continue;
		*t = timegm(&tm);
		return *t == (time_t)-1 ? -1 : 0;
	}
	return -1;
}

int notify_parse_retry_after(const char *value, int64_t now_s, uint64_t *ms)
{
	const char *p;
	char buf[64];
	size_t len;
	time_t t;

	if (value == NULL)
		return -1;
	value += strspn(value, " \t");
	len = strlen(value);
	while (len > 0 && (value[len - 1] == ' ' || value[len - 1] == '\t'))
		len--;
	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, value, len);
	buf[len] = '\0';
	for (p = buf; *p >= '0' && *p <= '9'; p++)
		;
	if (*p == '\0') {
		/* delay-seconds; a huge number is just "a long time": cap it. */
		unsigned long long sec = 0;

		for (p = buf; *p != '\0'; p++) {
			sec = sec * 10 + (unsigned long long)(*p - '0');
			if (sec > NOTIFY_RETRY_AFTER_MAX_MS / 1000) {
				sec = NOTIFY_RETRY_AFTER_MAX_MS / 1000;
				break;
			}
		}
		*ms = (uint64_t)sec * 1000;
		return 0;
	}
	if (parse_http_date(buf, &t) < 0)
		return -1;
	if ((int64_t)t <= now_s)
		*ms = 0;
	else if ((uint64_t)((int64_t)t - now_s) > NOTIFY_RETRY_AFTER_MAX_MS / 1000)
		*ms = NOTIFY_RETRY_AFTER_MAX_MS;
	else
		*ms = (uint64_t)((int64_t)t - now_s) * 1000;
	return 0;
}

/* Replaces every occurrence of secret in *s by "***" (secrets shorter than 4
 * characters are ignored: they would mask ordinary words). */
static void mask_one(char **s, const char *secret)
{
	size_t slen;
	char *hit;

	if (secret == NULL)
		return;
	slen = strlen(secret);
	if (slen < 4)
		return;
	while ((hit = strstr(*s, secret)) != NULL) {
		char *r = xasprintf("%.*s***%s", (int)(hit - *s), *s, hit + slen);

		free(*s);
		*s = r;
	}
}

/* The receiver's words for a summary: for PagerDuty, its status, message and
 * errors; for Alertmanager, the JSON string it answers; else the body as is. */
static char *body_words(const struct notifier_conf *n, const char *body, size_t body_len)
{
	json_t *j = NULL;
	char *r = NULL;

	if (body == NULL || body_len == 0)
		return xstrdup("");
	if (n != NULL && (n->type == NOTIFIER_PAGERDUTY || n->type == NOTIFIER_ALERTMANAGER))
		j = json_loadb(body, body_len, JSON_DECODE_ANY, NULL);
	if (json_is_string(j)) {
		r = xstrdup(json_string_value(j));
	} else if (json_is_object(j)) {
		const char *status = json_string_value(json_object_get(j, "status"));
		const char *msg = json_string_value(json_object_get(j, "message"));
		json_t *errs = json_object_get(j, "errors");
		char *e = NULL;

		if (json_is_array(errs) && json_array_size(errs) > 0) {
			size_t i;
			json_t *v;

			json_array_foreach(errs, i, v) {
				const char *vs = json_string_value(v);
				char *ne;

				if (vs == NULL)
					continue;
				ne = xasprintf("%s%s%s", e != NULL ? e : "", e != NULL ? "; " : "", vs);
				free(e);
				e = ne;
			}
		}
		if (status != NULL || msg != NULL || e != NULL)
			r = xasprintf("%s%s%s%s%s%s", notify_str(status),
			              status != NULL && msg != NULL ? ": " : "", notify_str(msg),
			              e != NULL ? " (" : "", notify_str(e), e != NULL ? ")" : "");
		free(e);
	}
	json_decref(j);
	if (r == NULL)
		r = xstrndup(body, body_len);   /* stops at an embedded NUL */
	return r;
}

/* Drops an incomplete UTF-8 sequence at the end of s (left by a cut). */
static void trim_partial_utf8(char *s)
{
	size_t len = strlen(s), i = len;

	while (i > 0 && ((unsigned char)s[i - 1] & 0xc0) == 0x80 && len - i < 3)
		i--;
	if (i > 0 && (unsigned char)s[i - 1] >= 0xc0) {
		const unsigned char *p = (const unsigned char *)s + i - 1;

		if (utf8_seq_len(p) == 0)
			s[i - 1] = '\0';
	}
}

/* Writes "HTTP <status> <words>" into summary: words flattened to one line,
 * secrets masked, cut to SUMMARY_BODY_MAX bytes. */
static void make_summary(const struct notifier_conf *n, long status, const char *what,
                         const char *body, size_t body_len, char *summary, size_t len)
{
	char *words, *masked, *fitted;
	size_t o = 0;

	if (summary == NULL || len == 0)
		return;
	words = body_words(n, body, body_len);
	/* Blank control characters and squeeze runs of blanks. */
	for (size_t i = 0; words[i] != '\0'; i++) {
		unsigned char c = (unsigned char)words[i];

		if (c < 0x20 || c == 0x7f)
			c = ' ';
		if (c == ' ' && (o == 0 || words[o - 1] == ' '))
			continue;
		words[o++] = (char)c;
	}
	while (o > 0 && words[o - 1] == ' ')
		o--;
	words[o] = '\0';
	if (n != NULL) {
		mask_one(&words, n->routing_key);
		mask_one(&words, n->secret);
		if (n->secret != NULL && strncmp(n->secret, "whsec_", 6) == 0)
			mask_one(&words, n->secret + 6);
		mask_one(&words, n->url);
		/* A receiver may echo only the path ("Cannot POST
		 * /services/T0/B0/XXXX"), which holds a Slack URL's token. */
		if (n->url != NULL && strstr(n->url, "://") != NULL) {
			const char *path = strchr(strstr(n->url, "://") + 3, '/');

			if (path != NULL && strlen(path) >= 8)
				mask_one(&words, path);
		}
	}
	masked = log_mask_secrets(words);
	fitted = notify_utf8(masked, SUMMARY_BODY_MAX);
	if (status == 0)
		snprintf(summary, len, "no HTTP answer (network error or timeout)");
	else
		snprintf(summary, len, "HTTP %ld%s%s%s%s", status, what[0] != '\0' ? " " : "", what,
		         fitted[0] != '\0' ? (what[0] != '\0' ? ": " : " ") : "", fitted);
	trim_partial_utf8(summary);
	free(fitted);
	free(masked);
	free(words);
}

/* True when body is "ok", blanks around it aside. */
static bool body_is_ok(const char *body, size_t len)
{
	while (len > 0 && isspace((unsigned char)body[len - 1]))
		len--;
	while (len > 0 && isspace((unsigned char)*body)) {
		body++;
		len--;
	}
	return len == 2 && memcmp(body, "ok", 2) == 0;
}

enum notify_verdict notify_classify(const struct notifier_conf *n, long http_status,
                                    const char *body, size_t body_len,
                                    const char *retry_after_header, int64_t now_s,
                                    uint64_t *retry_after_ms,
                                    char *summary, size_t summarylen)
{
	enum notify_verdict v;
	const char *what = "";
	uint64_t ms = 0;

	if (body == NULL)
		body_len = 0;
	if (http_status >= 200 && http_status <= 299) {
		v = NOTIFY_DELIVERED;
		/* Slack's own advice: 200 is success. Its body is "ok"; say so when not. */
		if (n != NULL && n->type == NOTIFIER_SLACK && !body_is_ok(body, body_len))
			what = "(receiver did not answer \"ok\")";
	} else if (http_status == 429 || (http_status >= 500 && http_status <= 599)) {
		v = NOTIFY_RETRY;
		if (retry_after_header != NULL
		    && notify_parse_retry_after(retry_after_header, now_s, &ms) < 0)
			ms = 0;
	} else if (http_status >= 300 && http_status <= 399) {
		/* Redirects are not followed (a receiver that moved is a config
		 * problem), but they may be temporary: retry, and say why. */
		v = NOTIFY_RETRY;
		what = "redirect not followed; check the notifier url";
		body_len = 0;
	} else if (http_status >= 400 && http_status <= 499) {
		v = NOTIFY_PERMANENT;
	} else {
		v = NOTIFY_RETRY;
		if (http_status != 0)
			what = "unexpected status";
	}
	if (retry_after_ms != NULL)
		*retry_after_ms = ms;
	make_summary(n, http_status, what, body, body_len, summary, summarylen);
	return v;
}

/* notify.c — what every notifier shares: the configured notifier's settings
 * (stored by its type's settings table), notify_build's checks and the call
 * to the type's build, the verdict on a receiver's answer (the type's check,
 * the HTTP default, Retry-After) and its summary with secrets masked. It
 * never names a type: the table (notify_types.c) sits above it. */
#include "alerts/notify.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alerts/notify_template.h"
#include "core/log.h"
#include "core/util.h"

#define KEY_MAX 200             /* PagerDuty's dedup_key holds 255 with our prefix */
#define SUMMARY_BODY_MAX 200    /* bytes of the receiver's words in a summary */

/* --- configured notifiers ---------------------------------------------------- */

size_t notifier_type_n_settings(const struct notifier_type *t)
{
	size_t n = 0;

	while (t != NULL && t->settings != NULL && t->settings[n].name != NULL)
		n++;
	return n;
}

int notifier_type_setting_index(const struct notifier_type *t, const char *name)
{
	size_t n = notifier_type_n_settings(t);

	for (size_t i = 0; name != NULL && i < n; i++)
		if (strcmp(t->settings[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* Wipes a value that may be a credential, then frees it. */
static void free_value(char *v)
{
	if (v == NULL)
		return;
	explicit_bzero(v, strlen(v));
	free(v);
}

void notifier_conf_clear(struct notifier_conf *n)
{
	if (n == NULL)
		return;
	free(n->name);
	if (n->values != NULL)
		for (size_t i = 0; i < notifier_type_n_settings(n->type); i++)
			free_value(n->values[i]);
	free(n->values);
	free(n->template_title);
	free(n->template_body);
	memset(n, 0, sizeof(*n));
}

void notifier_conf_copy(struct notifier_conf *dst, const struct notifier_conf *src)
{
	size_t count = notifier_type_n_settings(src->type);

	*dst = *src;
	dst->name = src->name != NULL ? xstrdup(src->name) : NULL;
	dst->values = NULL;
	dst->template_title = xstrdup(src->template_title);
	dst->template_body = xstrdup(src->template_body);
	if (src->values == NULL)
		return;
	dst->values = xcalloc(count + 1, sizeof(*dst->values));
	for (size_t i = 0; i < count; i++)
		dst->values[i] = src->values[i] != NULL ? xstrdup(src->values[i]) : NULL;
}

const char *notifier_get(const struct notifier_conf *n, const char *name)
{
	int i;

	if (n == NULL || n->type == NULL)
		return NULL;
	i = notifier_type_setting_index(n->type, name);
	if (i >= 0 && n->values != NULL && n->values[i] != NULL)
		return n->values[i];
	if (strcmp(name, "url") == 0)
		return n->type->default_url;
	return NULL;
}

int notifier_set(struct notifier_conf *n, const char *name, const char *value)
{
	int i = n != NULL ? notifier_type_setting_index(n->type, name) : -1;

	if (i < 0)
		return -1;
	if (n->values == NULL)
		n->values = xcalloc(notifier_type_n_settings(n->type) + 1, sizeof(*n->values));
	free_value(n->values[i]);
	n->values[i] = value != NULL ? xstrdup(value) : NULL;
	return 0;
}

/* --- requests ----------------------------------------------------------------- */

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

char *notify_headline(const struct notifier_conf *n, const struct alert_event *ev)
{
	char *filled, *line;

	if (n == NULL || n->template_title == NULL)
		return notify_title(ev);
	filled = notify_template_fill(n->template_title, ev, false);
	line = notify_one_line(filled);
	free(filled);
	return line;
}

char *notify_template_text(const struct notifier_conf *n, const struct alert_event *ev)
{
	if (n == NULL || n->template_body == NULL)
		return NULL;
	return notify_template_fill(n->template_body, ev, false);
}

const char *notify_link(const struct alert_event *ev)
{
	const char *u = notify_str(ev->url);

	if ((strncmp(u, "http://", 7) == 0 && u[7] != '\0' && u[7] != '/')
	    || (strncmp(u, "https://", 8) == 0 && u[8] != '\0' && u[8] != '/'))
		return u;
	return NULL;
}

void notify_down_for(const struct alert_event *ev, char buf[NOTIFY_DOWN_LEN])
{
	char d[32];

	buf[0] = '\0';
	if (ev->kind != ALERT_EVENT_RESOLVED || ev->started_us <= 0)
		return;
	notify_duration_words(ev->ts_us > ev->started_us ? (uint64_t)(ev->ts_us - ev->started_us) / 1000 : 0,
	                      d, sizeof(d));
	snprintf(buf, NOTIFY_DOWN_LEN, "resolved after %s", d);
}

char **notify_list(const struct notifier_conf *n, const char *name, size_t *count)
{
	const char *v = notifier_get(n, name);
	char **list = NULL;

	*count = 0;
	while (v != NULL && *v != '\0') {
		size_t len = strcspn(v, "\n");

		if (len > 0) {
			list = xrealloc(list, (*count + 1) * sizeof(*list));
			list[(*count)++] = xstrndup(v, len);
		}
		v += len;
		if (*v == '\n')
			v++;
	}
	return list;
}

void notify_list_free(char **list, size_t count)
{
	for (size_t i = 0; i < count; i++)
		free(list[i]);
	free(list);
}

void notify_request_add_header(struct notify_request *r, const char *fmt, ...)
{
	va_list ap;
	char *h;

	va_start(ap, fmt);
	h = xvasprintf(fmt, ap);
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
	free(r->mail_from);
	for (size_t i = 0; i < r->n_mail_rcpt; i++)
		free(r->mail_rcpt[i]);
	free(r->mail_rcpt);
	free(r->username);
	if (r->password != NULL)
		explicit_bzero(r->password, strlen(r->password));
	free(r->password);
	free(r->ca_file);
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
	const char *url;
	int rc;

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
	if (n->type == NULL || n->type->build == NULL) {
		snprintf(err, errlen, "notifier %s has no type", notify_str(n->name));
		return -1;
	}
	/* URLs may carry a token (Slack's always does): never quote them in err. */
	url = notifier_get(n, "url");
	if (url == NULL || url[0] == '\0') {
		snprintf(err, errlen, "notifier %s has no url", notify_str(n->name));
		return -1;
	}
	if (strpbrk(url, "\r\n\t ") != NULL) {
		snprintf(err, errlen, "notifier %s: url contains blanks or line breaks",
		         notify_str(n->name));
		return -1;
	}
	rc = n->type->build(n, ev, idempotency_key, now_s, out, err, errlen);
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
	return n != NULL && n->type != NULL ? n->type->refire_ms : 0;
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

char *notify_json_words(const char *body, size_t body_len)
{
	json_t *j = NULL;
	char *r = NULL;

	if (body == NULL || body_len == 0)
		return xstrdup("");
	j = json_loadb(body, body_len, JSON_DECODE_ANY, NULL);
	if (json_is_string(j)) {
		r = xstrdup(json_string_value(j));
	} else if (json_is_object(j)) {
		const char *status = json_string_value(json_object_get(j, "status"));
		const char *msg = json_string_value(json_object_get(j, "message"));
		json_t *error = json_object_get(j, "error");

		/* ntfy {"error":"..."}, Teams {"error":{"code","message"}} */
		if (msg == NULL)
			msg = json_is_string(error) ? json_string_value(error)
			      : json_string_value(json_object_get(error, "message"));
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

/* The receiver's words for a summary: through the type's answer_words,
 * else the body as text. */
static char *body_words(const struct notifier_conf *n, const char *body, size_t body_len)
{
	if (body == NULL || body_len == 0)
		return xstrdup("");
	if (n != NULL && n->type != NULL && n->type->answer_words != NULL)
		return n->type->answer_words(body, body_len);
	return xstrndup(body, body_len);   /* stops at an embedded NUL */
}

/* Drops an incomplete UTF-8 sequence at the end of s (left by a cut). */
static void trim_partial_utf8(char *s)
{
	size_t len = strlen(s), i = len;

	while (i > 0 && ((unsigned char)s[i - 1] & 0xc0) == 0x80 && len - i < 3)
		i--;
	if (i > 0 && (unsigned char)s[i - 1] >= 0xc0) {
		const unsigned char *p = (const unsigned char *)s + i - 1;

		if (notify_utf8_seq_len(p) == 0)
			s[i - 1] = '\0';
	}
}

/* Masks in *words every secret setting of n and every URL it has: a URL
 * may carry a token, and a receiver may echo only its path ("Cannot POST
 * /services/T0/B0/XXXX"). */
static void mask_settings(const struct notifier_conf *n, char **words)
{
	if (n == NULL || n->type == NULL || n->values == NULL)
		return;
	for (size_t i = 0; n->type->settings[i].name != NULL; i++) {
		const struct notifier_setting *st = &n->type->settings[i];
		const char *v = n->values[i];

		if (v == NULL)
			continue;
		if (st->flags & NOTIFIER_SECRET) {
			mask_one(words, v);
			/* A Standard Webhooks secret is "whsec_" and the key: mask the key alone too. */
			if (strncmp(v, "whsec_", 6) == 0)
				mask_one(words, v + 6);
		}
		if (st->kind == NOTIFIER_URL || st->kind == NOTIFIER_BASE_URL) {
			const char *path = strstr(v, "://") != NULL ? strchr(strstr(v, "://") + 3, '/') : NULL;

			mask_one(words, v);
			if (path != NULL && strlen(path) >= 8)
				mask_one(words, path);
		}
	}
}

/* Writes "HTTP <status> <words>" into summary: words flattened to one line,
 * secrets masked, cut to SUMMARY_BODY_MAX bytes. */
static void make_summary(const struct notifier_conf *n, long status, const char *what,
                         const char *body, size_t body_len, char *summary, size_t len)
{
	char *words, *masked, *fitted;
	size_t o = 0;
	const char *url = notifier_get(n, "url");
	/* An email notifier's status is the SMTP server's last reply code. */
	const char *protocol = url != NULL && strncmp(url, "smtp", 4) == 0 ? "SMTP" : "HTTP";

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
	mask_settings(n, &words);
	masked = log_mask_secrets(words);
	fitted = notify_utf8(masked, SUMMARY_BODY_MAX);
	if (status == 0)
		snprintf(summary, len, "no %s answer (network error or timeout)", protocol);
	else
		snprintf(summary, len, "%s %ld%s%s%s%s", protocol, status, what[0] != '\0' ? " " : "", what,
		         fitted[0] != '\0' ? (what[0] != '\0' ? ": " : " ") : "", fitted);
	trim_partial_utf8(summary);
	free(fitted);
	free(masked);
	free(words);
}

enum notify_verdict notify_check_http(const struct notify_answer *a, int64_t now_s,
                                      uint64_t *retry_after_ms, const char **note)
{
	long status = a->status;

	*retry_after_ms = 0;
	if (status >= 200 && status <= 299)
		return NOTIFY_DELIVERED;
	if (status == 429 || (status >= 500 && status <= 599)) {
		if (a->retry_after != NULL
		    && notify_parse_retry_after(a->retry_after, now_s, retry_after_ms) < 0)
			*retry_after_ms = 0;
		return NOTIFY_RETRY;
	}
	if (status >= 300 && status <= 399) {
		/* Redirects are not followed (a receiver that moved is a config
		 * problem), but they may be temporary: retry, and say why. */
		*note = "redirect not followed; check the notifier url";
		return NOTIFY_RETRY;
	}
	if (status >= 400 && status <= 499)
		return NOTIFY_PERMANENT;
	if (status != 0)
		*note = "unexpected status";
	return NOTIFY_RETRY;
}

enum notify_verdict notify_classify(const struct notifier_conf *n, long http_status,
                                    const char *body, size_t body_len,
                                    const char *retry_after_header, int64_t now_s,
                                    uint64_t *retry_after_ms,
                                    char *summary, size_t summarylen)
{
	struct notify_answer a = { http_status, body, body != NULL ? body_len : 0,
	                           retry_after_header };
	notify_answer_fn *check = n != NULL && n->type != NULL && n->type->check_answer != NULL
	                          ? n->type->check_answer : notify_check_http;
	enum notify_verdict v;
	const char *note = NULL;
	uint64_t ms = 0;

	v = check(&a, now_s, &ms, &note);
	if (v != NOTIFY_RETRY)
		ms = 0;
	if (retry_after_ms != NULL)
		*retry_after_ms = ms;
	/* A redirect's body is the server's, not the receiver's words. */
	if (http_status >= 300 && http_status <= 399)
		a.body_len = 0;
	make_summary(n, http_status, notify_str(note), a.body, a.body_len, summary, summarylen);
	return v;
}

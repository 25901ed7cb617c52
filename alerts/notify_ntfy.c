/* notify_ntfy.c — ntfy (wire-formats.md §11): POST the message as plain text
 * to the topic URL, with Title (RFC 2047 when not ASCII), Priority (critical
 * 5, error 4, warning 3, info 2), Tags and Click (the check's page), and an
 * access token as a Bearer when set. On a public server a topic's name is
 * its password, so the URL is never shown. */
#include "alerts/notify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/util.h"

#define TITLE_MAX 250
#define BODY_MAX 4000           /* ntfy turns a message over 4096 bytes into an attachment */

static int ntfy_priority(enum alert_severity s)
{
	switch (s) {
	case SEVERITY_CRITICAL: return 5;
	case SEVERITY_ERROR:    return 4;
	case SEVERITY_WARNING:  return 3;
	case SEVERITY_INFO:
	default:                return 2;
	}
}

/* The emoji tag (ntfy shows it before the title) and the severity. */
static const char *ntfy_emoji(const struct alert_event *ev)
{
	if (ev->kind == ALERT_EVENT_RESOLVED)
		return "white_check_mark";
	if (ev->kind == ALERT_EVENT_TEST)
		return "test_tube";
	return ev->severity == SEVERITY_CRITICAL || ev->severity == SEVERITY_ERROR ? "rotating_light"
	       : "warning";
}

/* The message: the template's body, or the check's message, the Value line,
 * how long it was down and the link. Never empty. Caller frees. */
static char *ntfy_body(const struct notifier_conf *n, const struct alert_event *ev, const char *title)
{
	struct buf b = BUF_INIT;
	char *text = notify_template_text(n, ev);
	char down[NOTIFY_DOWN_LEN];
	char *out;

	if (text != NULL) {
		buf_adds(&b, text);
		free(text);
	} else {
		notify_down_for(ev, down);
		if (notify_str(ev->message)[0] != '\0')
			buf_printf(&b, "%s\n", ev->message);
		buf_printf(&b, "Value: %s\n", notify_str(ev->value)[0] != '\0' ? ev->value : "n/a");
		buf_printf(&b, "Rule: %s (%s), check: %s\n", notify_str(ev->rule),
		           alert_severity_name(ev->severity), notify_str(ev->check));
		if (down[0] != '\0')
			buf_printf(&b, "Down: %s\n", down);
	}
	if (b.len == 0 || strspn(b.p, " \t\r\n") == b.len)
		buf_adds(&b, title);
	out = notify_utf8(b.p, BODY_MAX);
	buf_free(&b);
	return out;
}

static int ntfy_build(const struct notifier_conf *n, const struct alert_event *ev,
                      const char *key, int64_t now_s, struct notify_request *out,
                      char *err, size_t errlen)
{
	const char *token = notifier_get(n, "token");
	const char *link = notify_link(ev);
	char *headline = notify_headline(n, ev);
	char *fitted = notify_utf8(headline, TITLE_MAX);
	char *title = notify_rfc2047(fitted);

	out->url = xstrdup(notifier_get(n, "url"));
	notify_request_add_header(out, "X-Pharos-Idempotency-Key: %s", key);
	notify_request_add_header(out, "Title: %s", title);
	notify_request_add_header(out, "Priority: %d", ntfy_priority(ev->severity));
	notify_request_add_header(out, "Tags: %s,%s", ntfy_emoji(ev), alert_severity_name(ev->severity));
	if (link != NULL && strpbrk(link, "\r\n") == NULL)
		notify_request_add_header(out, "Click: %s", link);
	if (notify_str(token)[0] != '\0')
		notify_request_add_header(out, "Authorization: Bearer %s", token);
	notify_request_add_header(out, "Content-Type: text/plain; charset=utf-8");
	out->content_type = xstrdup("text/plain; charset=utf-8");
	out->body = ntfy_body(n, ev, fitted);
	free(title);
	free(fitted);
	free(headline);
	return 0;
}

/* An access token has no blanks (it goes into a header). */
static const char *check_token(const char *value)
{
	return strpbrk(value, " \t\r\n") != NULL ? "must not contain blanks or line breaks" : NULL;
}

static const struct notifier_setting ntfy_settings[] = {
	{ "url", NOTIFIER_URL, NOTIFIER_REQUIRED | NOTIFIER_SECRET,
	  "the topic URL, like https://ntfy.sh/TOPIC (a public topic's name is its password: never shown)",
	  "https://ntfy.sh/pharos-alerts-x7q", "url = \"https://ntfy.sh/<topic>\"", NULL },
	{ "token", NOTIFIER_TEXT, NOTIFIER_SECRET,
	  "an access token (tk_...) for a protected topic, sent as a Bearer (never shown)",
	  "tk_AgQdq7mVBoFD37zQVN29RhuMzNIz2", NULL, check_token },
	{ NULL, 0, 0, NULL, NULL, NULL, NULL }
};

const struct notifier_type notifier_ntfy = {
	.name = "ntfy",
	.doc = "an ntfy topic: a push notification",
	.settings = ntfy_settings,
	.build = ntfy_build,
	.answer_words = notify_json_words,  /* {"code":40101,"http":401,"error":"unauthorized"} */
	.default_rate = 1,
};

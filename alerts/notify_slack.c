/* notify_slack.c — Slack incoming-webhook payload: `text` (the fallback for
 * notifications) and Block Kit `blocks` with the headline, the facts as
 * fields, the check's message and a link to the check's status page.
 *
 * No legacy `attachments`: the coloured side bar would need the blocks inside
 * an attachment, where clients and tools reading `blocks` do not look; firing,
 * resolved and test messages differ by emoji and headline instead. */
#include "alerts/notify.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

/* Slack's limits (bytes here, which is stricter than its characters). */
#define TEXT_MAX 3000           /* section text, and our `text` */
#define HEADER_MAX 150          /* header block plain_text */
#define FIELD_MAX 2000          /* one section field */
#define FIELD_VALUE_MAX 1000    /* our share of a field for the value itself */

/* The emoji shortcode that leads the headline. */
static const char *slack_emoji(const struct alert_event *ev)
{
	if (ev->kind == ALERT_EVENT_RESOLVED)
		return ":large_green_circle:";
	if (ev->kind == ALERT_EVENT_TEST)
		return ":test_tube:";
	switch (ev->severity) {
	case SEVERITY_CRITICAL:
	case SEVERITY_ERROR:
		return ":red_circle:";
	case SEVERITY_WARNING:
		return ":large_orange_circle:";
	case SEVERITY_INFO:
	default:
		return ":large_blue_circle:";
	}
}

/* {"type":"mrkdwn","text":...}: text must already be escaped and fitted. */
static json_t *mrkdwn(const char *text)
{
	return json_pack("{s:s, s:o}", "type", "mrkdwn", "text", notify_json_str(text, TEXT_MAX));
}

/* Adds the field "*Title*\n<value>" (value escaped and cut) to fields. */
static void add_field(json_t *fields, const char *title, const char *value, bool code)
{
	char *v = notify_mrkdwn(value, FIELD_VALUE_MAX);
	char *t = xasprintf("*%s*\n%s%s%s", title, code ? "`" : "", v, code ? "`" : "");

	json_array_append_new(fields, mrkdwn(t));
	free(t);
	free(v);
}

/* A Slack date token, shown in the reader's time zone, with the RFC 3339
 * text as the fallback. */
static char *slack_date(int64_t wall_us)
{
	char iso[NOTIFY_TIME_LEN];
	int64_t s = wall_us / 1000000;

	notify_time(wall_us, iso);
	return xasprintf("<!date^%lld^{date_short_pretty} {time_secs}|%s>", (long long)s, iso);
}

/* The link target for mrkdwn: &, <, > escaped and '|' (which would end the
 * URL) percent-encoded. */
static char *slack_url(const char *url)
{
	char *esc = notify_mrkdwn(url, TEXT_MAX / 2);
	size_t n = 0;
	char *out, *o;

	for (const char *p = esc; *p != '\0'; p++)
		n += *p == '|' ? 3 : 1;
	out = xmalloc(n + 1);
	o = out;
	for (const char *p = esc; *p != '\0'; p++) {
		if (*p == '|') {
			memcpy(o, "%7C", 3);
			o += 3;
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
	free(esc);
	return out;
}

/* The facts of ev as section fields (at most 10). New reference. */
static json_t *slack_fields(const struct alert_event *ev)
{
	json_t *fields = json_array();

	add_field(fields, "Check", ev->check, false);
	add_field(fields, "Rule", ev->rule, false);
	add_field(fields, "Severity", alert_severity_name(ev->severity), false);
	add_field(fields, "Value", notify_str(ev->value)[0] != '\0' ? ev->value : "n/a", false);
	if (notify_str(ev->expr)[0] != '\0')
		add_field(fields, "Condition", ev->expr, true);
	if (notify_str(ev->group)[0] != '\0')
		add_field(fields, "Group", ev->group, false);
	if (notify_str(ev->location)[0] != '\0')
		add_field(fields, "Agent", ev->location, false);
	if (ev->started_us > 0) {
		/* The date token is mrkdwn syntax: not escaped. */
		char *d = slack_date(ev->started_us);
		char *f = xasprintf("*%s*\n%s", ev->kind == ALERT_EVENT_RESOLVED ? "Started" : "Since", d);

		json_array_append_new(fields, mrkdwn(f));
		free(f);
		free(d);
	}
	if (ev->kind == ALERT_EVENT_RESOLVED && ev->ts_us > 0) {
		char *d = slack_date(ev->ts_us);
		char *f = xasprintf("*Resolved*\n%s", d);

		json_array_append_new(fields, mrkdwn(f));
		free(f);
		free(d);
	}
	if (ev->kind == ALERT_EVENT_RESOLVED && ev->started_us > 0 && ev->ts_us >= ev->started_us) {
		/* The tenth field at most: how long it was down, in words. */
		char words[32];
		char *f;

		notify_duration_words((uint64_t)(ev->ts_us - ev->started_us) / 1000, words, sizeof(words));
		f = xasprintf("*Down for*\n%s", words);
		json_array_append_new(fields, mrkdwn(f));
		free(f);
	}
	return fields;
}

/* The context elements: the link to the check on the status page, and who
 * sent it. New reference. */
static json_t *slack_context(const struct alert_event *ev)
{
	json_t *context = json_array();
	char *loc = notify_mrkdwn(ev->location, 256);
	char *tmp;

	if (notify_str(ev->url)[0] != '\0') {
		char *u = slack_url(ev->url);
		char *c = notify_mrkdwn(ev->check, 256);

		tmp = xasprintf("<%s|View %s on the status page>", u, c);
		json_array_append_new(context, mrkdwn(tmp));
		free(tmp);
		free(c);
		free(u);
	}
	tmp = xasprintf("pharos%s%s", loc[0] != '\0' ? " @ " : "", loc);
	json_array_append_new(context, mrkdwn(tmp));
	free(tmp);
	free(loc);
	return context;
}

static int slack_build(const struct notifier_conf *n, const struct alert_event *ev,
                       const char *key, int64_t now_s, struct notify_request *out,
                       char *err, size_t errlen)
{
	const char *emoji = slack_emoji(ev);
	char *title = notify_headline(n, ev);
	char *templated = notify_template_text(n, ev);
	const char *message = templated != NULL ? templated : notify_str(ev->message);
	char *text, *header, *tmp;
	json_t *root = json_object();
	json_t *blocks = json_array();

	/* text: the headline, and the message while firing (what a phone shows). */
	if (ev->kind != ALERT_EVENT_RESOLVED && message[0] != '\0')
		tmp = xasprintf("%s %s: %s", emoji, title, message);
	else
		tmp = xasprintf("%s %s", emoji, title);
	text = notify_mrkdwn(tmp, TEXT_MAX);
	free(tmp);
	json_object_set_new(root, "text", json_string(text));

	/* Header: plain_text, so no escaping; at most 150. */
	tmp = xasprintf("%s %s", emoji, title);
	header = notify_utf8(tmp, HEADER_MAX);
	free(tmp);
	json_array_append_new(blocks, json_pack("{s:s, s:{s:s, s:s, s:b}}", "type", "header",
	                                        "text", "type", "plain_text", "text", header,
	                                        "emoji", 1));

	if (ev->kind == ALERT_EVENT_TEST)
		json_array_append_new(blocks, json_pack("{s:s, s:o}", "type", "section", "text",
		        mrkdwn("*This is a test* sent by `pharos notify-test`: nothing is wrong.")));

	json_array_append_new(blocks, json_pack("{s:s, s:o}", "type", "section", "fields",
	                                        slack_fields(ev)));

	/* The message in its own section: it can be long (3000 at most). */
	if (message[0] != '\0') {
		char *m = notify_mrkdwn(message, TEXT_MAX - 32);

		tmp = xasprintf("*Message*\n%s", m);
		free(m);
		json_array_append_new(blocks, json_pack("{s:s, s:o}", "type", "section", "text",
		                                        mrkdwn(tmp)));
		free(tmp);
	}

	json_array_append_new(blocks, json_pack("{s:s, s:o}", "type", "context", "elements",
	                                        slack_context(ev)));
	json_object_set_new(root, "blocks", blocks);

	out->url = xstrdup(notifier_get(n, "url"));
	notify_request_add_header(out, "X-Pharos-Idempotency-Key: %s", key);
	free(header);
	free(text);
	free(title);
	free(templated);
	return notify_request_set_json(out, root, err, errlen);
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

/* Slack's own advice: 200 is success. Its body is "ok"; say so when not. */
static enum notify_verdict slack_check_answer(const struct notify_answer *a, int64_t now_s,
                                              uint64_t *retry_after_ms, const char **note)
{
	enum notify_verdict v = notify_check_http(a, now_s, retry_after_ms, note);

	if (v == NOTIFY_DELIVERED && !body_is_ok(a->body != NULL ? a->body : "", a->body_len))
		*note = "(receiver did not answer \"ok\")";
	return v;
}

static const struct notifier_setting slack_settings[] = {
	{ "url", NOTIFIER_URL, NOTIFIER_REQUIRED | NOTIFIER_SECRET,
	  "the incoming-webhook URL (a credential: never shown)",
	  "https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXX",
	  "url = \"https://hooks.slack.com/services/...\"", NULL },
	{ NULL, 0, 0, NULL, NULL, NULL, NULL }
};

const struct notifier_type notifier_slack = {
	.name = "slack",
	.doc = "a Slack incoming webhook: Block Kit message",
	.settings = slack_settings,
	.build = slack_build,
	.check_answer = slack_check_answer,
	.default_rate = 1,
};

/* notify_pagerduty.c — PagerDuty Events API v2 payload: `trigger` on firing
 * (and for notify-test), `resolve` on recovery, with dedup_key
 * "pharos:<rule>:<check>" so every agent of a fleet opens the same incident. */
#include "alerts/notify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

#define PD_DEFAULT_URL "https://events.pagerduty.com/v2/enqueue"
#define SUMMARY_MAX 1024        /* payload.summary */
#define DEDUP_MAX 255           /* dedup_key */
#define DETAIL_MAX 4096         /* each custom_details string (whole event <= 512 KB) */

/* payload.custom_details: every fact of the event, for the incident page. */
static json_t *pagerduty_details(const struct notifier_conf *n, const struct alert_event *ev,
                                 const char *key)
{
	json_t *details = json_object();
	char ts[NOTIFY_TIME_LEN];

	json_object_set_new(details, "rule", notify_json_str(ev->rule, DETAIL_MAX));
	json_object_set_new(details, "check", notify_json_str(ev->check, DETAIL_MAX));
	json_object_set_new(details, "group", notify_json_str(ev->group, DETAIL_MAX));
	json_object_set_new(details, "value", notify_json_str(ev->value, DETAIL_MAX));
	json_object_set_new(details, "message", notify_json_str(ev->message, DETAIL_MAX));
	if (n->template_body != NULL) {
		char *text = notify_template_text(n, ev);

		json_object_set_new(details, "text", notify_json_str(text, DETAIL_MAX));
		free(text);
	}
	json_object_set_new(details, "expression", notify_json_str(ev->expr, DETAIL_MAX));
	json_object_set_new(details, "alert_id", notify_json_str(ev->alert_id, DETAIL_MAX));
	json_object_set_new(details, "idempotency_key", notify_json_str(key, DETAIL_MAX));
	json_object_set_new(details, "location", notify_json_str(ev->location, DETAIL_MAX));
	if (ev->started_us > 0) {
		notify_time(ev->started_us, ts);
		json_object_set_new(details, "started_at", json_string(ts));
	}
	if (ev->kind == ALERT_EVENT_TEST)
		json_object_set_new(details, "test", json_true());
	return details;
}

/* The payload of a trigger: summary, source, severity and the details. */
static json_t *pagerduty_payload(const struct notifier_conf *n, const struct alert_event *ev,
                                 const char *key)
{
	json_t *payload = json_object();
	char ts[NOTIFY_TIME_LEN];
	char *summary;

	if (n->template_title != NULL)
		summary = notify_headline(n, ev);
	else
		summary = xasprintf("%s%s \xe2\x80\x94 %s%s%s%s%s%s",
		                    ev->kind == ALERT_EVENT_TEST ? "TEST \xe2\x80\x94 pharos notify-test: " : "",
		                    ev->rule, ev->check,
		                    notify_str(ev->message)[0] != '\0' ? ": " : "", notify_str(ev->message),
		                    notify_str(ev->value)[0] != '\0' ? " (value " : "", notify_str(ev->value),
		                    notify_str(ev->value)[0] != '\0' ? ")" : "");
	json_object_set_new(payload, "summary", notify_json_str(summary, SUMMARY_MAX));
	free(summary);
	json_object_set_new(payload, "source",
	                    notify_json_str(notify_str(ev->location)[0] != '\0'
	                                    ? ev->location : "pharos", 256));
	json_object_set_new(payload, "severity", json_string(alert_severity_name(ev->severity)));
	notify_time(ev->ts_us, ts);
	json_object_set_new(payload, "timestamp", json_string(ts));
	json_object_set_new(payload, "component", notify_json_str(ev->check, 256));
	if (notify_str(ev->group)[0] != '\0')
		json_object_set_new(payload, "group", notify_json_str(ev->group, 256));
	json_object_set_new(payload, "class", notify_json_str(ev->rule, 256));
	json_object_set_new(payload, "custom_details", pagerduty_details(n, ev, key));
	return payload;
}

/* A trigger's links back to the status page, when the event has its url. */
static void pagerduty_links(json_t *root, const struct alert_event *ev)
{
	char *text;

	if (notify_str(ev->url)[0] == '\0')
		return;
	text = xasprintf("%s on the status page", ev->check);
	json_object_set_new(root, "links",
	                    json_pack("[{s:o, s:o}]", "href", notify_json_str(ev->url, 2048),
	                              "text", notify_json_str(text, 256)));
	free(text);
	json_object_set_new(root, "client_url", notify_json_str(ev->url, 2048));
}

static int pagerduty_build(const struct notifier_conf *n, const struct alert_event *ev,
                           const char *key, int64_t now_s, struct notify_request *out,
                           char *err, size_t errlen)
{
	json_t *root;
	char *dedup;
	const char *url = notifier_get(n, "url");
	const char *routing_key = notifier_get(n, "routing_key");

	if (notify_str(routing_key)[0] == '\0') {
		snprintf(err, errlen, "notifier %s has no routing_key", notify_str(n->name));
		return -1;
	}
	/* Tests get their own incident (and stay clear of a real alert's key);
	 * the idempotency key makes the retries of one test the same event. */
	if (ev->kind == ALERT_EVENT_TEST)
		dedup = xasprintf("pharos:notify-test:%s", key);
	else
		dedup = xasprintf("pharos:%s:%s", ev->rule, ev->check);
	if (strlen(dedup) > DEDUP_MAX) {
		snprintf(err, errlen, "dedup_key longer than %d characters", DEDUP_MAX);
		free(dedup);
		return -1;
	}

	root = json_object();
	json_object_set_new(root, "routing_key", notify_json_str(routing_key, 256));
	json_object_set_new(root, "dedup_key", notify_json_str(dedup, DEDUP_MAX));
	free(dedup);
	if (ev->kind == ALERT_EVENT_RESOLVED) {
		/* resolve needs exactly routing_key, dedup_key and event_action. */
		json_object_set_new(root, "event_action", json_string("resolve"));
	} else {
		json_object_set_new(root, "event_action", json_string("trigger"));
		json_object_set_new(root, "payload", pagerduty_payload(n, ev, key));
		json_object_set_new(root, "client", json_string("pharos"));
		pagerduty_links(root, ev);
	}
	out->url = xstrdup(url);
	notify_request_add_header(out, "X-Pharos-Idempotency-Key: %s", key);
	return notify_request_set_json(out, root, err, errlen);
}

static const struct notifier_setting pagerduty_settings[] = {
	{ "routing_key", NOTIFIER_TEXT, NOTIFIER_REQUIRED | NOTIFIER_SECRET | NOTIFIER_NONEMPTY,
	  "the Events API v2 integration key (a credential: never shown)",
	  "R0123456789abcdef0123456789abcde", "routing_key = \"${file:/etc/pharos/pd.key}\"", NULL },
	{ "url", NOTIFIER_URL, 0, "the Events API v2 enqueue endpoint (default " PD_DEFAULT_URL ")",
	  PD_DEFAULT_URL, NULL, NULL },
	{ NULL, 0, 0, NULL, NULL, NULL, NULL }
};

const struct notifier_type notifier_pagerduty = {
	.name = "pagerduty",
	.doc = "PagerDuty Events API v2: trigger and resolve by dedup_key",
	.settings = pagerduty_settings,
	.build = pagerduty_build,
	.answer_words = notify_json_words,
	.default_url = PD_DEFAULT_URL,
	.default_rate = 2,          /* 120 a minute, PagerDuty's limit per integration key */
};

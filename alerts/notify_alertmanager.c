/* notify_alertmanager.c — Alertmanager API v2: POST <url>/api/v2/alerts with
 * one postableAlert. A firing alert carries no endsAt (Alertmanager then keeps
 * it for its resolve_timeout), so it must be posted again while it fires
 * (notify_refire_ms); a resolved one carries endsAt = the resolve time. */
#include "alerts/notify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

#define API_PATH "/api/v2/alerts"
#define LABEL_MAX 1024
#define ANNOTATION_MAX 4096

/* The alerts endpoint under base: trailing slashes dropped, path appended
 * (unless the base already ends with it). Caller frees. */
static char *am_url(const char *base)
{
	size_t len = strlen(base);

	while (len > 0 && base[len - 1] == '/')
		len--;
	if (len >= strlen(API_PATH) && strncmp(base + len - strlen(API_PATH), API_PATH,
	                                       strlen(API_PATH)) == 0)
		return xstrndup(base, len);
	return xasprintf("%.*s%s", (int)len, base, API_PATH);
}

static int alertmanager_build(const struct notifier_conf *n, const struct alert_event *ev,
                              const char *key, int64_t now_s, struct notify_request *out,
                              char *err, size_t errlen)
{
	json_t *alert = json_object();
	json_t *labels = json_object();
	json_t *ann = json_object();
	char ts[NOTIFY_TIME_LEN];
	int64_t start_us = ev->started_us > 0 ? ev->started_us : ev->ts_us;
	char *tmp;

	/* Labels identify the alert: only stable ones. Empty values would be
	 * stripped by Alertmanager anyway, so they are left out. */
	json_object_set_new(labels, "alertname", notify_json_str(ev->rule, LABEL_MAX));
	json_object_set_new(labels, "check", notify_json_str(ev->check, LABEL_MAX));
	json_object_set_new(labels, "severity", json_string(alert_severity_name(ev->severity)));
	if (notify_str(ev->group)[0] != '\0')
		json_object_set_new(labels, "group", notify_json_str(ev->group, LABEL_MAX));
	if (notify_str(ev->location)[0] != '\0')
		json_object_set_new(labels, "instance", notify_json_str(ev->location, LABEL_MAX));
	if (ev->kind == ALERT_EVENT_TEST)
		json_object_set_new(labels, "pharos_test", json_string("true"));
	json_object_set_new(alert, "labels", labels);

	if (n->template_title != NULL)
		tmp = notify_headline(n, ev);
	else
		tmp = xasprintf("%s%s \xe2\x80\x94 %s",
		                ev->kind == ALERT_EVENT_TEST ? "TEST \xe2\x80\x94 pharos notify-test: " : "",
		                ev->rule, ev->check);
	json_object_set_new(ann, "summary", notify_json_str(tmp, ANNOTATION_MAX));
	free(tmp);
	tmp = n->template_body != NULL ? notify_template_text(n, ev) : xasprintf("%s%s%s%s", notify_str(ev->message),
	                notify_str(ev->value)[0] != '\0' ? (notify_str(ev->message)[0] != '\0'
	                                                    ? " (value " : "value ") : "",
	                notify_str(ev->value),
	                notify_str(ev->value)[0] != '\0' && notify_str(ev->message)[0] != '\0'
	                ? ")" : "");
	json_object_set_new(ann, "description", notify_json_str(tmp, ANNOTATION_MAX));
	free(tmp);
	json_object_set_new(alert, "annotations", ann);

	notify_time(start_us, ts);
	json_object_set_new(alert, "startsAt", json_string(ts));
	if (ev->kind == ALERT_EVENT_RESOLVED) {
		/* endsAt must not precede startsAt, or the alert is rejected. */
		notify_time(ev->ts_us >= start_us ? ev->ts_us : start_us, ts);
		json_object_set_new(alert, "endsAt", json_string(ts));
	}
	if (notify_str(ev->url)[0] != '\0')
		json_object_set_new(alert, "generatorURL", notify_json_str(ev->url, 2048));

	out->url = am_url(notifier_get(n, "url"));
	notify_request_add_header(out, "X-Pharos-Idempotency-Key: %s", key);
	return notify_request_set_json(out, json_pack("[o]", alert), err, errlen);
}

static const struct notifier_setting alertmanager_settings[] = {
	{ "url", NOTIFIER_BASE_URL, NOTIFIER_REQUIRED,
	  "the base URL of Alertmanager; /api/v2/alerts is appended", "http://127.0.0.1:9093",
	  "url = \"http://127.0.0.1:9093\"", NULL },
	{ NULL, 0, 0, NULL, NULL, NULL, NULL }
};

const struct notifier_type notifier_alertmanager = {
	.name = "alertmanager",
	.doc = "Prometheus Alertmanager API v2: one postableAlert, re-posted while firing",
	.settings = alertmanager_settings,
	.build = alertmanager_build,
	.answer_words = notify_json_words,
	.default_rate = 10,
	.refire_ms = 60000,         /* well inside Alertmanager's default 5 m resolve_timeout */
};

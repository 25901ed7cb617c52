/* notify_opsgenie.c — the Opsgenie Alert API v2 (wire-formats.md §10): a
 * firing alert is created (POST /v2/alerts) with the alias
 * "pharos:<rule>:<check>", PagerDuty's dedup key, so every agent of a fleet
 * opens the same alert; a resolved one closes it by that alias (POST
 * /v2/alerts/ALIAS/close?identifierType=alias). The API key goes in
 * "Authorization: GenieKey KEY"; url = "eu" selects the EU endpoint. */
#include "alerts/notify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "core/util.h"

#define US_URL "https://api.opsgenie.com"
#define EU_URL "https://api.eu.opsgenie.com"
/* Opsgenie's limits (bytes here, stricter than its characters). */
#define MESSAGE_MAX 130
#define ALIAS_MAX 512
#define DESCRIPTION_MAX 15000
#define SOURCE_MAX 100
#define TAG_MAX 50
#define DETAIL_MAX 1000         /* each; all of them stay under 8000 */
#define NOTE_MAX 25000

/* P1 critical, P2 error, P3 warning, P5 info. */
static const char *opsgenie_priority(enum alert_severity s)
{
	switch (s) {
	case SEVERITY_CRITICAL: return "P1";
	case SEVERITY_ERROR:    return "P2";
	case SEVERITY_WARNING:  return "P3";
	case SEVERITY_INFO:
	default:                return "P5";
	}
}

/* The API base: "eu" and "us" by name, else the configured URL. */
static const char *opsgenie_base(const struct notifier_conf *n)
{
	const char *url = notifier_get(n, "url");

	if (strcmp(url, "eu") == 0)
		return EU_URL;
	if (strcmp(url, "us") == 0)
		return US_URL;
	return url;
}

/* The length of the base without its trailing slashes (a path follows). */
static int base_len(const struct notifier_conf *n)
{
	const char *base = opsgenie_base(n);
	size_t len = strlen(base);

	while (len > 0 && base[len - 1] == '/')
		len--;
	return (int)len;
}

static void add_detail(json_t *details, const char *name, const char *value)
{
	if (notify_str(value)[0] != '\0')
		json_object_set_new(details, name, notify_json_str(value, DETAIL_MAX));
}

/* The body of a create request. New reference. */
static json_t *opsgenie_create(const struct notifier_conf *n, const struct alert_event *ev,
                               const char *alias, const char *key)
{
	char *title = notify_headline(n, ev);
	char *text = notify_template_text(n, ev);
	char *description;
	const char *link = notify_link(ev);
	json_t *details = json_object();
	json_t *tags = json_pack("[s, s]", "pharos", alert_severity_name(ev->severity));
	json_t *root;
	char since[NOTIFY_TIME_LEN];

	if (text != NULL)
		description = xstrdup(text);
	else
		description = xasprintf("%s%sValue: %s%s%s", notify_str(ev->message),
		                        notify_str(ev->message)[0] != '\0' ? "\n" : "",
		                        notify_str(ev->value)[0] != '\0' ? ev->value : "n/a",
		                        link != NULL ? "\n" : "", link != NULL ? link : "");
	add_detail(details, "rule", ev->rule);
	add_detail(details, "check", ev->check);
	add_detail(details, "group", ev->group);
	add_detail(details, "severity", alert_severity_name(ev->severity));
	add_detail(details, "value", notify_str(ev->value)[0] != '\0' ? ev->value : "n/a");
	add_detail(details, "expression", ev->expr);
	add_detail(details, "url", link);
	add_detail(details, "location", ev->location);
	add_detail(details, "alert_id", ev->alert_id);
	add_detail(details, "idempotency_key", key);
	if (ev->started_us > 0) {
		notify_time(ev->started_us, since);
		add_detail(details, "started_at", since);
	}
	if (ev->kind == ALERT_EVENT_TEST)
		json_array_append_new(tags, json_string("test"));
	root = json_pack("{s:o, s:o, s:o, s:s, s:o, s:o, s:o, s:o}",
	                 "message", notify_json_str(title, MESSAGE_MAX),
	                 "alias", notify_json_str(alias, ALIAS_MAX),
	                 "description", notify_json_str(description, DESCRIPTION_MAX),
	                 "priority", opsgenie_priority(ev->severity),
	                 "source", notify_json_str(notify_str(ev->location)[0] != '\0'
	                                           ? ev->location : "pharos", SOURCE_MAX),
	                 "entity", notify_json_str(ev->check, ALIAS_MAX),
	                 "details", details, "tags", tags);
	free(description);
	free(text);
	free(title);
	return root;
}

/* The body of a close request: who closed it and why. New reference. */
static json_t *opsgenie_close(const struct alert_event *ev)
{
	char down[NOTIFY_DOWN_LEN];
	char *note;
	json_t *root;

	notify_down_for(ev, down);
	note = xasprintf("%s %s: %s (value %s)", notify_str(ev->rule), notify_str(ev->check),
	                 down[0] != '\0' ? down : "resolved",
	                 notify_str(ev->value)[0] != '\0' ? ev->value : "n/a");
	root = json_pack("{s:s, s:o, s:o}", "user", "pharos",
	                 "source", notify_json_str(notify_str(ev->location)[0] != '\0'
	                                           ? ev->location : "pharos", SOURCE_MAX),
	                 "note", notify_json_str(note, NOTE_MAX));
	free(note);
	return root;
}

static int opsgenie_build(const struct notifier_conf *n, const struct alert_event *ev,
                          const char *key, int64_t now_s, struct notify_request *out,
                          char *err, size_t errlen)
{
	const char *api_key = notifier_get(n, "api_key");
	char *alias;
	json_t *root;

	if (notify_str(api_key)[0] == '\0') {
		snprintf(err, errlen, "notifier %s has no api_key", notify_str(n->name));
		return -1;
	}
	/* Tests get their own alert, as PagerDuty's do. */
	if (ev->kind == ALERT_EVENT_TEST)
		alias = xasprintf("pharos:notify-test:%s", key);
	else
		alias = xasprintf("pharos:%s:%s", ev->rule, ev->check);
	if (strlen(alias) > ALIAS_MAX) {
		snprintf(err, errlen, "alias longer than %d characters", ALIAS_MAX);
		free(alias);
		return -1;
	}
	if (ev->kind == ALERT_EVENT_RESOLVED) {
		char *path = curl_easy_escape(NULL, alias, 0);

		if (path == NULL) {
			snprintf(err, errlen, "out of memory");
			free(alias);
			return -1;
		}
		out->url = xasprintf("%.*s/v2/alerts/%s/close?identifierType=alias", base_len(n),
		                     opsgenie_base(n), path);
		curl_free(path);
		root = opsgenie_close(ev);
	} else {
		out->url = xasprintf("%.*s/v2/alerts", base_len(n), opsgenie_base(n));
		root = opsgenie_create(n, ev, alias, key);
	}
	notify_request_add_header(out, "X-Pharos-Idempotency-Key: %s", key);
	notify_request_add_header(out, "Authorization: GenieKey %s", api_key);
	free(alias);
	return notify_request_set_json(out, root, err, errlen);
}

/* "eu", "us", or an http(s) URL (a proxy, a test double). */
static const char *check_url(const char *value)
{
	if (strcmp(value, "eu") == 0 || strcmp(value, "us") == 0)
		return NULL;
	if ((strncmp(value, "https://", 8) == 0 || strncmp(value, "http://", 7) == 0)
	    && strpbrk(value, " \t\r\n") == NULL)
		return NULL;
	return "must be \"eu\", \"us\" or the API's http(s) base URL like \"" US_URL "\"";
}

static const struct notifier_setting opsgenie_settings[] = {
	{ "api_key", NOTIFIER_TEXT, NOTIFIER_REQUIRED | NOTIFIER_SECRET | NOTIFIER_NONEMPTY,
	  "the key of an API integration (a credential: never shown)",
	  "0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d", "api_key = \"${file:/etc/pharos/opsgenie.key}\"",
	  NULL },
	{ "url", NOTIFIER_TEXT, 0,
	  "the API: \"eu\" for EU accounts, or a base URL (default " US_URL ")", "eu", NULL,
	  check_url },
	{ NULL, 0, 0, NULL, NULL, NULL, NULL }
};

const struct notifier_type notifier_opsgenie = {
	.name = "opsgenie",
	.doc = "the Opsgenie Alert API v2: create and close by alias",
	.settings = opsgenie_settings,
	.build = opsgenie_build,
	.answer_words = notify_json_words,  /* {"message":"...","errors":{...}} */
	.default_url = US_URL,
	.default_rate = 2,
};

/* notify_discord.c — a Discord webhook: one embed (wire-formats.md §9) with
 * the headline as its title, the check's message as its description, the
 * facts as fields (Value among them), a colour by state and severity and a
 * link to the check's page. A 429 says how long to wait in its Retry-After
 * header and in its JSON body's retry_after (seconds, a float): the longer
 * of the two is honoured. */
#include "alerts/notify.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

/* Discord's limits (bytes here, stricter than its characters). */
#define TITLE_MAX 256
#define DESCRIPTION_MAX 2048    /* of 4096: the whole embed stays under 6000 */
#define FIELD_VALUE_MAX 512     /* of 1024 */

#define COLOR_RED 15158332      /* #E74C3C */
#define COLOR_ORANGE 15105570   /* #E67E22 */
#define COLOR_GREEN 3066993     /* #2ECC71 */
#define COLOR_BLUE 3447003      /* #3498DB */

static json_int_t discord_color(const struct alert_event *ev)
{
	if (ev->kind == ALERT_EVENT_RESOLVED)
		return COLOR_GREEN;
	if (ev->kind == ALERT_EVENT_TEST)
		return COLOR_BLUE;
	switch (ev->severity) {
	case SEVERITY_CRITICAL:
	case SEVERITY_ERROR:
		return COLOR_RED;
	case SEVERITY_WARNING:
		return COLOR_ORANGE;
	case SEVERITY_INFO:
	default:
		return COLOR_BLUE;
	}
}

/* Appends the field {name, value, inline} when value is not empty. */
static void add_field(json_t *fields, const char *name, const char *value, bool in_line)
{
	if (notify_str(value)[0] == '\0')
		return;
	json_array_append_new(fields, json_pack("{s:s, s:o, s:b}", "name", name,
	                                        "value", notify_json_str(value, FIELD_VALUE_MAX),
	                                        "inline", in_line));
}

static json_t *discord_fields(const struct alert_event *ev)
{
	json_t *fields = json_array();
	char down[NOTIFY_DOWN_LEN];

	add_field(fields, "Value", notify_str(ev->value)[0] != '\0' ? ev->value : "n/a", true);
	add_field(fields, "Severity", alert_severity_name(ev->severity), true);
	add_field(fields, "Check", ev->check, true);
	add_field(fields, "Rule", ev->rule, true);
	add_field(fields, "Group", ev->group, true);
	add_field(fields, "Agent", ev->location, true);
	notify_down_for(ev, down);
	add_field(fields, "Down", down, false);
	return fields;
}

static int discord_build(const struct notifier_conf *n, const struct alert_event *ev,
                         const char *key, int64_t now_s, struct notify_request *out,
                         char *err, size_t errlen)
{
	char *title = notify_headline(n, ev);
	char *text = notify_template_text(n, ev);
	const char *description = text != NULL ? text : notify_str(ev->message);
	const char *link = notify_link(ev);
	char ts[NOTIFY_TIME_LEN];
	json_t *embed = json_object();

	json_object_set_new(embed, "title", notify_json_str(title, TITLE_MAX));
	if (description[0] != '\0')
		json_object_set_new(embed, "description", notify_json_str(description, DESCRIPTION_MAX));
	if (link != NULL)
		json_object_set_new(embed, "url", notify_json_str(link, 2048));
	json_object_set_new(embed, "color", json_integer(discord_color(ev)));
	json_object_set_new(embed, "fields", discord_fields(ev));
	notify_time(ev->ts_us, ts);
	json_object_set_new(embed, "timestamp", json_string(ts));
	json_object_set_new(embed, "footer", json_pack("{s:s}", "text", "pharos"));

	out->url = xstrdup(notifier_get(n, "url"));
	notify_request_add_header(out, "X-Pharos-Idempotency-Key: %s", key);
	free(text);
	free(title);
	/* No mentions: a check's message must not ping @everyone. */
	return notify_request_set_json(out, json_pack("{s:[o], s:{s:[]}}", "embeds", embed,
	                                              "allowed_mentions", "parse"),
	                               err, errlen);
}

/* The JSON body's retry_after in ms (seconds as a float), or 0. */
static uint64_t json_retry_after_ms(const struct notify_answer *a)
{
	json_t *j = a->body != NULL && a->body_len > 0 ? json_loadb(a->body, a->body_len, 0, NULL) : NULL;
	double s = json_number_value(json_object_get(j, "retry_after"));

	json_decref(j);
	if (!isfinite(s) || s <= 0)
		return 0;
	if (s > NOTIFY_RETRY_AFTER_MAX_MS / 1000.0)
		return NOTIFY_RETRY_AFTER_MAX_MS;
	return (uint64_t)ceil(s * 1000.0);
}

static enum notify_verdict discord_check_answer(const struct notify_answer *a, int64_t now_s,
                                                uint64_t *retry_after_ms, const char **note)
{
	enum notify_verdict v = notify_check_http(a, now_s, retry_after_ms, note);

	if (v == NOTIFY_RETRY && a->status == 429) {
		uint64_t ms = json_retry_after_ms(a);

		if (ms > *retry_after_ms)
			*retry_after_ms = ms;
	}
	return v;
}

static const struct notifier_setting discord_settings[] = {
	{ "url", NOTIFIER_URL, NOTIFIER_REQUIRED | NOTIFIER_SECRET,
	  "the webhook URL, https://discord.com/api/webhooks/ID/TOKEN (a credential: never shown)",
	  "https://discord.com/api/webhooks/1180000000000000001/e2eExampleT0kenQw",
	  "url = \"https://discord.com/api/webhooks/...\"", NULL },
	{ NULL, 0, 0, NULL, NULL, NULL, NULL }
};

const struct notifier_type notifier_discord = {
	.name = "discord",
	.doc = "a Discord webhook: one embed",
	.settings = discord_settings,
	.build = discord_build,
	.check_answer = discord_check_answer,
	.answer_words = notify_json_words,  /* {"message":"Invalid Form Body","code":50035} */
	.default_rate = 1,          /* Discord allows 5 requests per 2 s per webhook */
};

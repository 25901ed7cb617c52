/* notify_teams.c — Microsoft Teams through a Workflows (Power Automate)
 * webhook: a message with one Adaptive Card 1.4 (wire-formats.md §8): the
 * headline, the check's message, the facts (Value among them) and a button to
 * the check's page. The flow URL carries its credential in its query string:
 * it is posted to exactly as configured and never shown. */
#include "alerts/notify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

#define CARD_SCHEMA "http://adaptivecards.io/schemas/adaptive-card.json"
#define TEXT_MAX 4000           /* a card's text; the whole message stays under Teams' 28 KB */
#define FACT_MAX 1000

/* Appends the fact {title, value} when value is not empty. */
static void add_fact(json_t *facts, const char *title, const char *value)
{
	if (notify_str(value)[0] == '\0')
		return;
	json_array_append_new(facts, json_pack("{s:s, s:o}", "title", title,
	                                       "value", notify_json_str(value, FACT_MAX)));
}

/* The FactSet of ev: Check, Rule, Severity, Value and what else is known. */
static json_t *teams_facts(const struct alert_event *ev)
{
	json_t *facts = json_array();
	char since[NOTIFY_TIME_LEN], down[NOTIFY_DOWN_LEN];

	add_fact(facts, "Check", ev->check);
	add_fact(facts, "Rule", ev->rule);
	add_fact(facts, "Severity", alert_severity_name(ev->severity));
	add_fact(facts, "Value", notify_str(ev->value)[0] != '\0' ? ev->value : "n/a");
	add_fact(facts, "Condition", ev->expr);
	add_fact(facts, "Group", ev->group);
	add_fact(facts, "Agent", ev->location);
	if (ev->started_us > 0) {
		notify_time(ev->started_us, since);
		add_fact(facts, "Since", since);
	}
	notify_down_for(ev, down);
	add_fact(facts, "Down", down);
	return facts;
}

/* {"type":"TextBlock", "text", "wrap":true} with extra style members. */
static json_t *text_block(const char *text)
{
	return json_pack("{s:s, s:o, s:b}", "type", "TextBlock", "text", notify_json_str(text, TEXT_MAX),
	                 "wrap", 1);
}

static json_t *teams_card(const struct notifier_conf *n, const struct alert_event *ev)
{
	json_t *body = json_array();
	json_t *card, *head;
	char *title = notify_headline(n, ev);
	char *text = notify_template_text(n, ev);
	const char *link = notify_link(ev);

	head = text_block(title);
	json_object_set_new(head, "size", json_string("medium"));
	json_object_set_new(head, "weight", json_string("bolder"));
	json_object_set_new(head, "color", json_string(ev->kind == ALERT_EVENT_RESOLVED ? "good"
	                                                : ev->kind == ALERT_EVENT_TEST ? "accent"
	                                                : "attention"));
	json_array_append_new(body, head);
	if (text != NULL && text[0] != '\0')
		json_array_append_new(body, text_block(text));
	else if (text == NULL && notify_str(ev->message)[0] != '\0')
		json_array_append_new(body, text_block(ev->message));
	json_array_append_new(body, json_pack("{s:s, s:o}", "type", "FactSet", "facts", teams_facts(ev)));
	card = json_pack("{s:s, s:s, s:s, s:o}", "$schema", CARD_SCHEMA, "type", "AdaptiveCard",
	                 "version", "1.4", "body", body);
	if (link != NULL)
		json_object_set_new(card, "actions",
		                    json_pack("[{s:s, s:s, s:o}]", "type", "Action.OpenUrl", "title",
		                              "Open on the status page", "url", notify_json_str(link, 2048)));
	free(text);
	free(title);
	return card;
}

static int teams_build(const struct notifier_conf *n, const struct alert_event *ev,
                       const char *key, int64_t now_s, struct notify_request *out,
                       char *err, size_t errlen)
{
	json_t *root = json_pack("{s:s, s:[{s:s, s:n, s:o}]}", "type", "message", "attachments",
	                         "contentType", "application/vnd.microsoft.card.adaptive",
	                         "contentUrl", "content", teams_card(n, ev));

	out->url = xstrdup(notifier_get(n, "url"));
	notify_request_add_header(out, "X-Pharos-Idempotency-Key: %s", key);
	return notify_request_set_json(out, root, err, errlen);
}

static const struct notifier_setting teams_settings[] = {
	{ "url", NOTIFIER_URL, NOTIFIER_REQUIRED | NOTIFIER_SECRET,
	  "the Workflows webhook URL, query string included (a credential: never shown)",
	  "https://prod-00.westeurope.logic.azure.com/workflows/0a1b/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=Xk2mQ9",
	  "url = \"https://...logic.azure.com/workflows/.../invoke?...&sig=...\"", NULL },
	{ NULL, 0, 0, NULL, NULL, NULL, NULL }
};

const struct notifier_type notifier_teams = {
	.name = "teams",
	.doc = "a Microsoft Teams Workflows webhook: an Adaptive Card",
	.settings = teams_settings,
	.build = teams_build,
	.answer_words = notify_json_words,  /* {"error":{"code","message"}} */
	.default_rate = 1,          /* Teams throttles a flow at a few messages a second */
};

/* test_notify.c — each notifier's request for firing, resolved and test
 * events, parsed back with jansson and checked field by field against
 * wire-formats.md; the verdicts on receivers' answers (Retry-After included);
 * text helpers (mrkdwn escaping, UTF-8-safe cuts); the alert event's JSON
 * round trip. */
#include "unit.h"
#include "alerts/alert.h"
#include "alerts/notify.h"
#include "alerts/sign.h"
#include "core/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NOW_S 1764000000            /* 2025-11-24T16:00:00Z */
#define KEY "ntf_0123456789abcdef"
#define SLACK_URL "https://hooks.slack.com/services/T000/B000/XXXXsecretXXXX"
#define ROUTING_KEY "R0123456789abcdef0123456789abcde"
#define WH_SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

/* An event as the engine would emit it; strings owned by the event. */
static void make_event(struct alert_event *e, enum alert_event_kind kind)
{
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->rule = xstrdup("down");
	e->check = xstrdup("payments-api");
	e->group = xstrdup("Payments");
	e->severity = SEVERITY_CRITICAL;
	e->alert_id = xstrdup("a1b2c3d4e5f60708");
	e->started_us = (int64_t)(NOW_S - 120) * 1000000;
	e->ts_us = kind == ALERT_EVENT_FIRING ? e->started_us : (int64_t)NOW_S * 1000000;
	e->value = xstrdup("3");
	e->message = xstrdup("connect: connection refused <10.0.0.1:443> & more");
	e->url = xstrdup("https://status.example.com/check/payments-api");
	e->expr = xstrdup("consecutive_failures >= 3");
	e->location = xstrdup("fra-1");
}

/* The settings each type gets here, by type name. */
static const struct { const char *type, *setting, *value; } conf_values[] = {
	{ "slack", "url", SLACK_URL },
	{ "pagerduty", "url", "https://events.pagerduty.com/v2/enqueue" },
	{ "pagerduty", "routing_key", ROUTING_KEY },
	{ "webhook", "url", "http://127.0.0.1:9999/hook" },
	{ "webhook", "secret", WH_SECRET },
	{ "alertmanager", "url", "http://127.0.0.1:9093/" },
	{ "teams", "url", "https://prod-00.logic.azure.com/workflows/0a/triggers/manual/paths/invoke?sig=S1g" },
	{ "discord", "url", "https://discord.com/api/webhooks/1/T0ken" },
	{ "opsgenie", "api_key", "0a1b2c3d-4e5f" },
	{ "ntfy", "url", "https://ntfy.sh/pharos-alerts" },
	{ "email", "url", "smtp://mail.example.com:587" },
	{ "email", "from", "pharos@example.com" },
	{ "email", "to", "oncall@example.com\nops@example.com" },
};

static void make_conf(struct notifier_conf *n, const char *type)
{
	memset(n, 0, sizeof(*n));
	n->name = xstrdup("primary");
	n->type = notifier_type_find(type);
	assert_non_null(n->type);
	for (size_t i = 0; i < sizeof(conf_values) / sizeof(conf_values[0]); i++)
		if (strcmp(conf_values[i].type, type) == 0)
			assert_int_equal(notifier_set(n, conf_values[i].setting, conf_values[i].value), 0);
	n->max_attempts = 12;
}

/* The value of header name in r, or NULL (names compared case-insensitively). */
static const char *header(const struct notify_request *r, const char *name)
{
	size_t len = strlen(name);

	for (size_t i = 0; i < r->n_headers; i++)
		if (strncasecmp(r->headers[i], name, len) == 0 && r->headers[i][len] == ':')
			return r->headers[i] + len + 2;
	return NULL;
}

/* Builds the request for (type, kind), checks what every request has, and
 * returns its body parsed. */
static json_t *build(const char *type, enum alert_event_kind kind,
                     struct notify_request *rq)
{
	struct notifier_conf n;
	struct alert_event ev;
	char err[256] = "";
	json_error_t jerr;
	json_t *j;

	make_conf(&n, type);
	make_event(&ev, kind);
	assert_int_equal(notify_build(&n, &ev, KEY, NOW_S, rq, err, sizeof(err)), 0);
	assert_non_null(rq->url);
	assert_non_null(rq->body);
	assert_non_null(rq->content_type);
	if (strcmp(rq->content_type, "application/json") != 0) {
		/* ntfy posts text, email sends a MIME message: not JSON. */
		j = json_string(rq->body);
		assert_non_null(j);
		notifier_conf_clear(&n);
		alert_event_clear(&ev);
		return j;
	}
	assert_string_equal(header(rq, "Content-Type"), "application/json");
	for (size_t i = 0; i < rq->n_headers; i++)
		assert_null(strpbrk(rq->headers[i], "\r\n"));
	j = json_loads(rq->body, 0, &jerr);
	assert_non_null(j);
	alert_event_clear(&ev);
	notifier_conf_clear(&n);
	return j;
}

static const char *jstr(const json_t *j, const char *key)
{
	const char *s = json_string_value(json_object_get(j, key));

	if (s == NULL)
		fail_msg("missing string %s", key);
	return s;
}

/* The Slack blocks of one type, in order. */
static json_t *slack_block(json_t *root, const char *type, size_t nth)
{
	json_t *blocks = json_object_get(root, "blocks");
	size_t i, seen = 0;
	json_t *b;

	assert_true(json_is_array(blocks));
	json_array_foreach(blocks, i, b) {
		if (strcmp(jstr(b, "type"), type) == 0 && seen++ == nth)
			return b;
	}
	return NULL;
}

/* True when some field of the fields section has exactly this text. */
static bool slack_has_field(json_t *root, const char *text)
{
	json_t *sec = NULL, *fields, *f;
	size_t i, k = 0;

	while ((sec = slack_block(root, "section", k++)) != NULL) {
		fields = json_object_get(sec, "fields");
		if (fields == NULL)
			continue;
		assert_true(json_array_size(fields) <= 10);
		json_array_foreach(fields, i, f) {
			assert_string_equal(jstr(f, "type"), "mrkdwn");
			if (strcmp(jstr(f, "text"), text) == 0)
				return true;
		}
	}
	return false;
}

static void test_slack_firing(void **state)
{
	struct notify_request rq;
	json_t *j = build("slack", ALERT_EVENT_FIRING, &rq);
	json_t *hdr, *ctx, *msg;

	assert_string_equal(rq.url, SLACK_URL);
	assert_string_equal(header(&rq, "X-Pharos-Idempotency-Key"), KEY);
	/* text: names rule, check and severity; the message escaped. */
	assert_string_equal(jstr(j, "text"),
	                    ":red_circle: FIRING [critical] down \xe2\x80\x94 payments-api: "
	                    "connect: connection refused &lt;10.0.0.1:443&gt; &amp; more");
	hdr = slack_block(j, "header", 0);
	assert_non_null(hdr);
	assert_string_equal(jstr(json_object_get(hdr, "text"), "type"), "plain_text");
	assert_string_equal(jstr(json_object_get(hdr, "text"), "text"),
	                    ":red_circle: FIRING [critical] down \xe2\x80\x94 payments-api");
	assert_true(slack_has_field(j, "*Check*\npayments-api"));
	assert_true(slack_has_field(j, "*Rule*\ndown"));
	assert_true(slack_has_field(j, "*Severity*\ncritical"));
	assert_true(slack_has_field(j, "*Value*\n3"));
	assert_true(slack_has_field(j, "*Condition*\n`consecutive_failures &gt;= 3`"));
	assert_true(slack_has_field(j, "*Group*\nPayments"));
	assert_true(slack_has_field(j, "*Agent*\nfra-1"));
	assert_true(slack_has_field(j, "*Since*\n<!date^1763999880^{date_short_pretty} {time_secs}"
	                               "|2025-11-24T15:58:00.000Z>"));
	msg = slack_block(j, "section", 1);
	assert_non_null(msg);
	assert_string_equal(jstr(json_object_get(msg, "text"), "text"),
	                    "*Message*\nconnect: connection refused &lt;10.0.0.1:443&gt; &amp; more");
	ctx = slack_block(j, "context", 0);
	assert_non_null(ctx);
	assert_string_equal(jstr(json_array_get(json_object_get(ctx, "elements"), 0), "text"),
	                    "<https://status.example.com/check/payments-api|View payments-api on the status page>");
	assert_string_equal(jstr(json_array_get(json_object_get(ctx, "elements"), 1), "text"),
	                    "pharos @ fra-1");
	assert_null(json_object_get(j, "attachments"));
	json_decref(j);
	notify_request_clear(&rq);
}

static void test_slack_resolved(void **state)
{
	struct notify_request rq;
	json_t *j = build("slack", ALERT_EVENT_RESOLVED, &rq);

	assert_string_equal(jstr(j, "text"),
	                    ":large_green_circle: RESOLVED [critical] down \xe2\x80\x94 payments-api");
	assert_string_equal(jstr(json_object_get(slack_block(j, "header", 0), "text"), "text"),
	                    ":large_green_circle: RESOLVED [critical] down \xe2\x80\x94 payments-api");
	assert_null(strstr(rq.body, "FIRING"));
	assert_null(strstr(rq.body, "red_circle"));
	assert_true(slack_has_field(j, "*Check*\npayments-api"));
	assert_true(slack_has_field(j, "*Resolved*\n<!date^1764000000^{date_short_pretty} {time_secs}"
	                               "|2025-11-24T16:00:00.000Z>"));
	assert_non_null(strstr(rq.body, "View payments-api on the status page"));
	json_decref(j);
	notify_request_clear(&rq);
}

static void test_slack_test_event(void **state)
{
	struct notify_request rq;
	json_t *j = build("slack", ALERT_EVENT_TEST, &rq);

	assert_non_null(strstr(jstr(j, "text"), "TEST \xe2\x80\x94 pharos notify-test"));
	assert_int_equal(strncmp(jstr(j, "text"), ":test_tube: TEST", 16), 0);
	assert_non_null(strstr(jstr(json_object_get(slack_block(j, "section", 0), "text"), "text"),
	                       "This is a test"));
	assert_null(strstr(rq.body, "FIRING"));
	json_decref(j);
	notify_request_clear(&rq);
}

/* Severity picks the firing emoji. */
static void test_slack_severity_emoji(void **state)
{
	static const struct {
		enum alert_severity s;
		const char *prefix;
	} cases[] = {
		{ SEVERITY_ERROR, ":red_circle: FIRING [error]" },
		{ SEVERITY_WARNING, ":large_orange_circle: FIRING [warning]" },
		{ SEVERITY_INFO, ":large_blue_circle: FIRING [info]" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct notifier_conf n;
		struct alert_event ev;
		struct notify_request rq;
		char err[128];
		json_t *j;

		make_conf(&n, "slack");
		make_event(&ev, ALERT_EVENT_FIRING);
		ev.severity = cases[i].s;
		assert_int_equal(notify_build(&n, &ev, KEY, NOW_S, &rq, err, sizeof(err)), 0);
		j = json_loads(rq.body, 0, NULL);
		assert_int_equal(strncmp(jstr(j, "text"), cases[i].prefix, strlen(cases[i].prefix)), 0);
		json_decref(j);
		notify_request_clear(&rq);
		alert_event_clear(&ev);
		notifier_conf_clear(&n);
	}
}

/* True when s is valid UTF-8 (jansson checks it for us). */
static bool valid_utf8(const char *s)
{
	json_t *j = json_string(s);
	bool ok = j != NULL;

	json_decref(j);
	return ok;
}

/* A huge message with multi-byte characters and markup: every section stays
 * within 3000 bytes, nothing is cut inside a character or an entity. */
static void test_slack_long_message(void **state)
{
	struct notifier_conf n;
	struct alert_event ev;
	struct notify_request rq;
	char err[128];
	json_t *j, *b;
	size_t i, len = 30000;
	char *m = xmalloc(len + 1);

	for (i = 0; i + 3 <= len; i += 3) {
		/* "é<" then a 1-byte char, shifting alignment against every limit. */
		m[i] = (char)0xc3;
		m[i + 1] = (char)0xa9;
		m[i + 2] = i % 2 ? '<' : 'x';
	}
	m[i] = '\0';
	make_conf(&n, "slack");
	make_event(&ev, ALERT_EVENT_FIRING);
	free(ev.message);
	ev.message = m;
	assert_int_equal(notify_build(&n, &ev, KEY, NOW_S, &rq, err, sizeof(err)), 0);
	j = json_loads(rq.body, 0, NULL);
	assert_non_null(j);
	assert_true(strlen(jstr(j, "text")) <= 3000);
	json_array_foreach(json_object_get(j, "blocks"), i, b) {
		json_t *t = json_object_get(b, "text");
		const char *s;

		if (t == NULL)
			continue;
		s = jstr(t, "text");
		assert_true(strlen(s) <= 3000);
		/* No dangling half entity before the ellipsis. */
		if (strstr(s, "\xe2\x80\xa6") != NULL) {
			const char *amp = strrchr(s, '&');

			if (amp != NULL)
				assert_true(strncmp(amp, "&lt;", 4) == 0 || strncmp(amp, "&gt;", 4) == 0
				            || strncmp(amp, "&amp;", 5) == 0);
		}
	}
	json_decref(j);
	notify_request_clear(&rq);
	alert_event_clear(&ev);
	notifier_conf_clear(&n);
}

static void test_mrkdwn_escape(void **state)
{
	char *s;

	s = notify_mrkdwn("a<b>&c *bold* <!channel>", 100);
	assert_string_equal(s, "a&lt;b&gt;&amp;c *bold* &lt;!channel&gt;");
	free(s);
	/* Cut on an entity boundary: 12 bytes hold "&amp;" + "…" but not two entities + "…". */
	s = notify_mrkdwn("&&&&", 12);
	assert_string_equal(s, "&amp;\xe2\x80\xa6");
	free(s);
	s = notify_mrkdwn("&&", 10);
	assert_string_equal(s, "&amp;&amp;");
	free(s);
	s = notify_mrkdwn(NULL, 10);
	assert_string_equal(s, "");
	free(s);
}

static void test_utf8_cut(void **state)
{
	char *s;

	/* Fits: unchanged. */
	s = notify_utf8("h\xc3\xa9llo", 6);
	assert_string_equal(s, "h\xc3\xa9llo");
	free(s);
	/* "ééé" (6 bytes) into 6: fits exactly. Into 5: "é" + "…" (5 bytes). */
	s = notify_utf8("\xc3\xa9\xc3\xa9\xc3\xa9", 5);
	assert_string_equal(s, "\xc3\xa9\xe2\x80\xa6");
	free(s);
	/* Into 6 bytes with a 4-byte emoji at the edge: never split it. */
	s = notify_utf8("ab\xf0\x9f\x94\xa5" "cd", 6);
	assert_string_equal(s, "ab\xe2\x80\xa6");
	free(s);
	/* Invalid bytes become U+FFFD: lone continuation, overlong, surrogate, truncated. */
	s = notify_utf8("a\x80" "b\xc0\xaf" "c\xed\xa0\x80" "d\xe2\x82", 100);
	assert_true(valid_utf8(s));
	assert_string_equal(s, "a\xef\xbf\xbd" "b\xef\xbf\xbd\xef\xbf\xbd"
	                       "c\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" "d\xef\xbf\xbd\xef\xbf\xbd");
	free(s);
	/* Every cut length of a mixed string gives valid UTF-8 within the limit. */
	for (size_t max = 4; max < 40; max++) {
		s = notify_utf8("\xe2\x82\xac x \xf0\x9f\x98\x80 \xc3\xa9\xc3\xa9 \xe2\x82\xac\xe2\x82\xac end", max);
		assert_true(strlen(s) <= max);
		assert_true(valid_utf8(s));
		free(s);
	}
}

static void test_pagerduty_trigger(void **state)
{
	struct notify_request rq;
	json_t *j = build("pagerduty", ALERT_EVENT_FIRING, &rq);
	json_t *p, *d, *links;

	assert_string_equal(rq.url, "https://events.pagerduty.com/v2/enqueue");
	assert_string_equal(header(&rq, "X-Pharos-Idempotency-Key"), KEY);
	assert_string_equal(jstr(j, "routing_key"), ROUTING_KEY);
	assert_string_equal(jstr(j, "event_action"), "trigger");
	assert_string_equal(jstr(j, "dedup_key"), "pharos:down:payments-api");
	assert_string_equal(jstr(j, "client"), "pharos");
	assert_string_equal(jstr(j, "client_url"), "https://status.example.com/check/payments-api");
	p = json_object_get(j, "payload");
	assert_string_equal(jstr(p, "summary"),
	                    "down \xe2\x80\x94 payments-api: connect: connection refused "
	                    "<10.0.0.1:443> & more (value 3)");
	assert_string_equal(jstr(p, "source"), "fra-1");
	assert_string_equal(jstr(p, "severity"), "critical");
	assert_string_equal(jstr(p, "timestamp"), "2025-11-24T15:58:00.000Z");
	assert_string_equal(jstr(p, "component"), "payments-api");
	assert_string_equal(jstr(p, "group"), "Payments");
	assert_string_equal(jstr(p, "class"), "down");
	d = json_object_get(p, "custom_details");
	assert_string_equal(jstr(d, "rule"), "down");
	assert_string_equal(jstr(d, "check"), "payments-api");
	assert_string_equal(jstr(d, "value"), "3");
	assert_string_equal(jstr(d, "message"), "connect: connection refused <10.0.0.1:443> & more");
	assert_string_equal(jstr(d, "expression"), "consecutive_failures >= 3");
	assert_string_equal(jstr(d, "alert_id"), "a1b2c3d4e5f60708");
	assert_string_equal(jstr(d, "idempotency_key"), KEY);
	links = json_object_get(j, "links");
	assert_int_equal(json_array_size(links), 1);
	assert_string_equal(jstr(json_array_get(links, 0), "href"),
	                    "https://status.example.com/check/payments-api");
	assert_string_equal(jstr(json_array_get(links, 0), "text"), "payments-api on the status page");
	json_decref(j);
	notify_request_clear(&rq);
}

static void test_pagerduty_resolve(void **state)
{
	struct notify_request rq;
	json_t *j = build("pagerduty", ALERT_EVENT_RESOLVED, &rq);

	/* Exactly the three fields resolve needs, same dedup_key as the trigger. */
	assert_int_equal(json_object_size(j), 3);
	assert_string_equal(jstr(j, "routing_key"), ROUTING_KEY);
	assert_string_equal(jstr(j, "event_action"), "resolve");
	assert_string_equal(jstr(j, "dedup_key"), "pharos:down:payments-api");
	json_decref(j);
	notify_request_clear(&rq);
}

static void test_pagerduty_test_event(void **state)
{
	struct notify_request rq;
	json_t *j = build("pagerduty", ALERT_EVENT_TEST, &rq);
	json_t *p = json_object_get(j, "payload");

	assert_string_equal(jstr(j, "event_action"), "trigger");
	assert_string_equal(jstr(j, "dedup_key"), "pharos:notify-test:" KEY);
	assert_int_equal(strncmp(jstr(p, "summary"), "TEST", 4), 0);
	assert_true(json_is_true(json_object_get(json_object_get(p, "custom_details"), "test")));
	json_decref(j);
	notify_request_clear(&rq);
}

/* Defaults and limits: no url -> the enqueue URL; no location -> "pharos";
 * summary <= 1024 bytes; no routing key -> error without secrets. */
static void test_pagerduty_edges(void **state)
{
	struct notifier_conf n;
	struct alert_event ev;
	struct notify_request rq;
	char err[256] = "";
	json_t *j, *p;

	make_conf(&n, "pagerduty");
	make_event(&ev, ALERT_EVENT_FIRING);
	notifier_set(&n, "url", NULL);
	free(ev.location);
	ev.location = NULL;
	free(ev.group);
	ev.group = xstrdup("");
	free(ev.message);
	ev.message = xmalloc(5001);
	memset(ev.message, 'm', 5000);
	ev.message[5000] = '\0';
	assert_int_equal(notify_build(&n, &ev, KEY, NOW_S, &rq, err, sizeof(err)), 0);
	assert_string_equal(rq.url, "https://events.pagerduty.com/v2/enqueue");
	j = json_loads(rq.body, 0, NULL);
	p = json_object_get(j, "payload");
	assert_string_equal(jstr(p, "source"), "pharos");
	assert_null(json_object_get(p, "group"));
	assert_true(strlen(jstr(p, "summary")) <= 1024);
	json_decref(j);
	notify_request_clear(&rq);

	notifier_set(&n, "routing_key", NULL);
	assert_int_equal(notify_build(&n, &ev, KEY, NOW_S, &rq, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "routing_key"));
	assert_null(rq.body);
	alert_event_clear(&ev);
	notifier_conf_clear(&n);
}

static void check_webhook(enum alert_event_kind kind, const char *type)
{
	static const char *const keys[] = {
		"id", "type", "timestamp", "rule", "check", "severity", "value", "message", "url",
	};
	struct notify_request rq;
	json_t *j = build("webhook", kind, &rq);
	const char *sig;

	assert_string_equal(rq.url, "http://127.0.0.1:9999/hook");
	assert_int_equal(json_object_size(j), sizeof(keys) / sizeof(keys[0]));
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		assert_non_null(json_object_get(j, keys[i]));
	assert_string_equal(jstr(j, "id"), KEY);
	assert_string_equal(jstr(j, "type"), type);
	assert_string_equal(jstr(j, "timestamp"), kind == ALERT_EVENT_FIRING
	                    ? "2025-11-24T15:58:00.000Z" : "2025-11-24T16:00:00.000Z");
	assert_string_equal(jstr(j, "rule"), "down");
	assert_string_equal(jstr(j, "check"), "payments-api");
	assert_string_equal(jstr(j, "severity"), "critical");
	assert_string_equal(jstr(j, "value"), "3");
	assert_string_equal(jstr(j, "message"), "connect: connection refused <10.0.0.1:443> & more");
	assert_string_equal(jstr(j, "url"), "https://status.example.com/check/payments-api");
	assert_string_equal(header(&rq, "webhook-id"), KEY);
	assert_string_equal(header(&rq, "webhook-timestamp"), "1764000000");
	sig = header(&rq, "webhook-signature");
	assert_non_null(sig);
	assert_int_equal(strncmp(sig, "v1,", 3), 0);
	/* The signature covers the body exactly as sent, at this attempt's time. */
	assert_int_equal(sign_webhook_verify(WH_SECRET, KEY, NOW_S, rq.body, strlen(rq.body), sig,
	                                     NOW_S, SIGN_TOLERANCE_S), 0);
	assert_int_equal(sign_webhook_verify(WH_SECRET, KEY, NOW_S - 1, rq.body, strlen(rq.body), sig,
	                                     NOW_S, SIGN_TOLERANCE_S), -1);
	json_decref(j);
	notify_request_clear(&rq);
}

static void test_webhook_firing(void **state)
{
	check_webhook(ALERT_EVENT_FIRING, "alert.firing");
}

static void test_webhook_resolved(void **state)
{
	check_webhook(ALERT_EVENT_RESOLVED, "alert.resolved");
}

static void test_webhook_test_event(void **state)
{
	check_webhook(ALERT_EVENT_TEST, "alert.test");
}

/* Unsigned without a secret; dots in the key become '_' in id and header;
 * the same body on every attempt, only the timestamp and signature move;
 * a bad secret fails without quoting it. */
static void test_webhook_edges(void **state)
{
	struct notifier_conf n;
	struct alert_event ev;
	struct notify_request a, b;
	char err[256] = "";
	json_t *j;

	make_conf(&n, "webhook");
	make_event(&ev, ALERT_EVENT_FIRING);
	assert_int_equal(notify_build(&n, &ev, "k.1.2", NOW_S, &a, err, sizeof(err)), 0);
	assert_int_equal(notify_build(&n, &ev, "k.1.2", NOW_S + 60, &b, err, sizeof(err)), 0);
	assert_string_equal(a.body, b.body);
	assert_string_equal(header(&a, "webhook-id"), "k_1_2");
	assert_string_equal(header(&b, "webhook-timestamp"), "1764000060");
	assert_string_not_equal(header(&a, "webhook-signature"), header(&b, "webhook-signature"));
	j = json_loads(a.body, 0, NULL);
	assert_string_equal(jstr(j, "id"), "k_1_2");
	json_decref(j);
	notify_request_clear(&a);
	notify_request_clear(&b);

	notifier_set(&n, "secret", NULL);
	assert_int_equal(notify_build(&n, &ev, KEY, NOW_S, &a, err, sizeof(err)), 0);
	assert_null(header(&a, "webhook-signature"));
	assert_non_null(header(&a, "webhook-id"));
	notify_request_clear(&a);

	notifier_set(&n, "secret", "whsec_not*base64*secretvalue");
	assert_int_equal(notify_build(&n, &ev, KEY, NOW_S, &a, err, sizeof(err)), -1);
	assert_null(strstr(err, "secretvalue"));
	assert_null(a.body);
	assert_int_equal(a.n_headers, 0);
	alert_event_clear(&ev);
	notifier_conf_clear(&n);
}

static void check_am(enum alert_event_kind kind, const char *base)
{
	struct notifier_conf n;
	struct alert_event ev;
	struct notify_request rq;
	char err[256];
	json_t *j, *a, *l, *an;

	make_conf(&n, "alertmanager");
	notifier_set(&n, "url", base);
	make_event(&ev, kind);
	assert_int_equal(notify_build(&n, &ev, KEY, NOW_S, &rq, err, sizeof(err)), 0);
	assert_string_equal(rq.url, "http://127.0.0.1:9093/am/api/v2/alerts");
	assert_string_equal(header(&rq, "X-Pharos-Idempotency-Key"), KEY);
	j = json_loads(rq.body, 0, NULL);
	assert_true(json_is_array(j));
	assert_int_equal(json_array_size(j), 1);
	a = json_array_get(j, 0);
	l = json_object_get(a, "labels");
	assert_string_equal(jstr(l, "alertname"), "down");
	assert_string_equal(jstr(l, "check"), "payments-api");
	assert_string_equal(jstr(l, "severity"), "critical");
	assert_string_equal(jstr(l, "group"), "Payments");
	assert_string_equal(jstr(l, "instance"), "fra-1");
	assert_int_equal(json_object_size(l), kind == ALERT_EVENT_TEST ? 6 : 5);
	an = json_object_get(a, "annotations");
	assert_string_equal(jstr(an, "description"),
	                    "connect: connection refused <10.0.0.1:443> & more (value 3)");
	if (kind == ALERT_EVENT_TEST)
		assert_int_equal(strncmp(jstr(an, "summary"), "TEST", 4), 0);
	else
		assert_string_equal(jstr(an, "summary"), "down \xe2\x80\x94 payments-api");
	assert_string_equal(jstr(a, "startsAt"), "2025-11-24T15:58:00.000Z");
	assert_string_equal(jstr(a, "generatorURL"), "https://status.example.com/check/payments-api");
	if (kind == ALERT_EVENT_RESOLVED)
		assert_string_equal(jstr(a, "endsAt"), "2025-11-24T16:00:00.000Z");
	else
		assert_null(json_object_get(a, "endsAt"));
	json_decref(j);
	notify_request_clear(&rq);
	alert_event_clear(&ev);
	notifier_conf_clear(&n);
}

static void test_alertmanager(void **state)
{
	check_am(ALERT_EVENT_FIRING, "http://127.0.0.1:9093/am/");
	check_am(ALERT_EVENT_RESOLVED, "http://127.0.0.1:9093/am");
	check_am(ALERT_EVENT_TEST, "http://127.0.0.1:9093/am//");
	check_am(ALERT_EVENT_FIRING, "http://127.0.0.1:9093/am/api/v2/alerts");
}

/* Empty group and location are left out of the labels; endsAt never before startsAt. */
static void test_alertmanager_edges(void **state)
{
	struct notifier_conf n;
	struct alert_event ev;
	struct notify_request rq;
	char err[256];
	json_t *j, *a, *l;

	make_conf(&n, "alertmanager");
	make_event(&ev, ALERT_EVENT_RESOLVED);
	free(ev.group);
	ev.group = xstrdup("");
	free(ev.location);
	ev.location = NULL;
	ev.ts_us = ev.started_us - 5000000;
	assert_int_equal(notify_build(&n, &ev, KEY, NOW_S, &rq, err, sizeof(err)), 0);
	assert_string_equal(rq.url, "http://127.0.0.1:9093/api/v2/alerts");
	j = json_loads(rq.body, 0, NULL);
	a = json_array_get(j, 0);
	l = json_object_get(a, "labels");
	assert_null(json_object_get(l, "group"));
	assert_null(json_object_get(l, "instance"));
	assert_string_equal(jstr(a, "endsAt"), jstr(a, "startsAt"));
	json_decref(j);
	notify_request_clear(&rq);
	assert_true(notify_refire_ms(&n) > 0 && notify_refire_ms(&n) < 300000);
	notifier_conf_clear(&n);
	n.type = notifier_type_find("slack");
	assert_int_equal(notify_refire_ms(&n), 0);
	alert_event_clear(&ev);
}

/* Bad inputs fail with a message and never quote a URL or secret. */
static void test_build_errors(void **state)
{
	struct notifier_conf n;
	struct alert_event ev;
	struct notify_request rq;
	char err[256];
	char *rule;

	make_conf(&n, "slack");
	make_event(&ev, ALERT_EVENT_FIRING);
	assert_int_equal(notify_build(&n, &ev, "", NOW_S, &rq, err, sizeof(err)), -1);
	assert_int_equal(notify_build(&n, &ev, NULL, NOW_S, &rq, err, sizeof(err)), -1);
	assert_int_equal(notify_build(&n, &ev, "a b", NOW_S, &rq, err, sizeof(err)), -1);
	assert_int_equal(notify_build(&n, &ev, "a\r\nX-Evil: 1", NOW_S, &rq, err, sizeof(err)), -1);
	assert_int_equal(notify_build(NULL, &ev, KEY, NOW_S, &rq, err, sizeof(err)), -1);
	rule = ev.rule;
	ev.rule = NULL;
	assert_int_equal(notify_build(&n, &ev, KEY, NOW_S, &rq, err, sizeof(err)), -1);
	ev.rule = rule;
	notifier_set(&n, "url", SLACK_URL "\r\nX-Evil: 1");
	assert_int_equal(notify_build(&n, &ev, KEY, NOW_S, &rq, err, sizeof(err)), -1);
	assert_null(strstr(err, "secret"));
	assert_null(strstr(err, "hooks.slack.com"));
	notifier_set(&n, "url", NULL);
	assert_int_equal(notify_build(&n, &ev, KEY, NOW_S, &rq, err, sizeof(err)), -1);
	assert_null(rq.body);
	notify_request_clear(&rq);  /* zeroed: fine */
	alert_event_clear(&ev);
	notifier_conf_clear(&n);
}

/* The same input gives the same request, byte for byte (retries). */
static void test_deterministic(void **state)
{
	for (size_t t = 0; notifier_types[t] != NULL; t++) {
		for (int k = ALERT_EVENT_FIRING; k <= ALERT_EVENT_TEST; k++) {
			struct notify_request a, b;
			json_t *ja = build(notifier_types[t]->name, (enum alert_event_kind)k, &a);
			json_t *jb = build(notifier_types[t]->name, (enum alert_event_kind)k, &b);

			assert_string_equal(a.body, b.body);
			assert_int_equal(a.n_headers, b.n_headers);
			for (size_t i = 0; i < a.n_headers; i++)
				assert_string_equal(a.headers[i], b.headers[i]);
			json_decref(ja);
			json_decref(jb);
			notify_request_clear(&a);
			notify_request_clear(&b);
		}
	}
}

static enum notify_verdict classify(const char *type, long status, const char *body,
                                    const char *retry_after, uint64_t *ms, char *sum, size_t len)
{
	struct notifier_conf n;
	enum notify_verdict v;

	make_conf(&n, type);
	v = notify_classify(&n, status, body, body != NULL ? strlen(body) : 0, retry_after, NOW_S,
	                    ms, sum, len);
	notifier_conf_clear(&n);
	return v;
}

static void test_classify(void **state)
{
	static const struct {
		const char *type;
		long status;
		const char *body, *retry_after;
		enum notify_verdict v;
		uint64_t ms;
		const char *summary;
	} cases[] = {
		{ "slack", 200, "ok", NULL, NOTIFY_DELIVERED, 0, "HTTP 200 ok" },
		{ "pagerduty", 202, "{\"status\":\"success\",\"message\":\"Event processed\","
		  "\"dedup_key\":\"pharos:down:payments-api\"}", NULL, NOTIFY_DELIVERED, 0,
		  "HTTP 202 success: Event processed" },
		{ "alertmanager", 200, "", NULL, NOTIFY_DELIVERED, 0, "HTTP 200" },
		{ "webhook", 204, NULL, NULL, NOTIFY_DELIVERED, 0, "HTTP 204" },
		{ "slack", 400, "invalid_payload", NULL, NOTIFY_PERMANENT, 0,
		  "HTTP 400 invalid_payload" },
		{ "pagerduty", 400, "{\"status\":\"invalid event\",\"message\":\"Event object is "
		  "invalid\",\"errors\":[\"'routing_key' is invalid\"]}", NULL, NOTIFY_PERMANENT, 0,
		  "HTTP 400 invalid event: Event object is invalid ('routing_key' is invalid)" },
		{ "alertmanager", 400, "\"start time must be before end time\"\n", NULL,
		  NOTIFY_PERMANENT, 0, "HTTP 400 start time must be before end time" },
		{ "slack", 403, "action_prohibited", NULL, NOTIFY_PERMANENT, 0,
		  "HTTP 403 action_prohibited" },
		{ "slack", 404, "channel_not_found", NULL, NOTIFY_PERMANENT, 0,
		  "HTTP 404 channel_not_found" },
		{ "slack", 410, "channel_is_archived", NULL, NOTIFY_PERMANENT, 0,
		  "HTTP 410 channel_is_archived" },
		{ "slack", 429, "", "7", NOTIFY_RETRY, 7000, "HTTP 429" },
		{ "pagerduty", 429, "", " 30 ", NOTIFY_RETRY, 30000, "HTTP 429" },
		{ "webhook", 429, "slow down", "Mon, 24 Nov 2025 16:00:45 GMT", NOTIFY_RETRY,
		  45000, "HTTP 429 slow down" },
		{ "webhook", 503, "", "Monday, 24-Nov-25 16:02:00 GMT", NOTIFY_RETRY, 120000,
		  "HTTP 503" },
		{ "webhook", 503, "", "Mon Nov 24 16:00:10 2025", NOTIFY_RETRY, 10000, "HTTP 503" },
		{ "webhook", 503, "", "Mon, 24 Nov 2025 15:00:00 GMT", NOTIFY_RETRY, 0, "HTTP 503" },
		{ "webhook", 503, "", "999999999999999999999999", NOTIFY_RETRY, 3600000, "HTTP 503" },
		{ "webhook", 503, "", "Fri, 01 Jan 2100 00:00:00 GMT", NOTIFY_RETRY, 3600000,
		  "HTTP 503" },
		{ "webhook", 503, "", "soon", NOTIFY_RETRY, 0, "HTTP 503" },
		{ "webhook", 503, "", "-5", NOTIFY_RETRY, 0, "HTTP 503" },
		{ "slack", 500, "rollup_error", NULL, NOTIFY_RETRY, 0, "HTTP 500 rollup_error" },
		{ "slack", 500, "rollup_error", "5", NOTIFY_RETRY, 5000, "HTTP 500 rollup_error" },
		{ "webhook", 502, "<html>\r\n<b>Bad   Gateway</b>\n</html>", NULL, NOTIFY_RETRY, 0,
		  "HTTP 502 <html> <b>Bad Gateway</b> </html>" },
		{ "webhook", 0, NULL, NULL, NOTIFY_RETRY, 0,
		  "no HTTP answer (network error or timeout)" },
		{ "webhook", 301, "moved", NULL, NOTIFY_RETRY, 0,
		  "HTTP 301 redirect not followed; check the notifier url" },
		{ "webhook", 400, "bad", "60", NOTIFY_PERMANENT, 0, "HTTP 400 bad" },
		{ "webhook", 101, "", NULL, NOTIFY_RETRY, 0, "HTTP 101 unexpected status" },
		{ "slack", 200, "something else", NULL, NOTIFY_DELIVERED, 0,
		  "HTTP 200 (receiver did not answer \"ok\"): something else" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char sum[256] = "";
		uint64_t ms = 12345;
		enum notify_verdict v = classify(cases[i].type, cases[i].status, cases[i].body,
		                                 cases[i].retry_after, &ms, sum, sizeof(sum));

		if (v != cases[i].v || ms != cases[i].ms || strcmp(sum, cases[i].summary) != 0)
			fail_msg("case %zu (HTTP %ld): got %s %llu \"%s\"", i, cases[i].status,
			         notify_verdict_name(v), (unsigned long long)ms, sum);
	}
	/* NULL outputs are fine. */
	assert_int_equal(notify_classify(NULL, 429, "x", 1, "3", NOW_S, NULL, NULL, 0), NOTIFY_RETRY);
}

/* Secrets echoed by a receiver are masked; long bodies are cut. */
static void test_classify_summary_safety(void **state)
{
	char sum[512];
	char *body;
	struct notifier_conf n;

	assert_int_equal(classify("pagerduty", 400, "{\"status\":\"invalid event\",\"message\":"
	                          "\"unknown key " ROUTING_KEY "\"}", NULL, NULL, sum, sizeof(sum)),
	                 NOTIFY_PERMANENT);
	assert_null(strstr(sum, ROUTING_KEY));
	assert_non_null(strstr(sum, "***"));
	assert_int_equal(classify("slack", 404, "no_service for " SLACK_URL, NULL, NULL, sum,
	                          sizeof(sum)), NOTIFY_PERMANENT);
	assert_null(strstr(sum, "XXXXsecretXXXX"));
	make_conf(&n, "webhook");
	assert_int_equal(notify_classify(&n, 400, "bad sig for MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", 44,
	                                 NULL, NOW_S, NULL, sum, sizeof(sum)), NOTIFY_PERMANENT);
	assert_null(strstr(sum, "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"));
	notifier_conf_clear(&n);

	body = xmalloc(100001);
	for (size_t i = 0; i < 100000; i++)
		body[i] = i % 3 == 2 ? 'x' : (i % 3 == 0 ? (char)0xc3 : (char)0xa9);
	body[100000] = '\0';
	assert_int_equal(classify("webhook", 500, body, NULL, NULL, sum, sizeof(sum)),
	                 NOTIFY_RETRY);
	assert_true(strlen(sum) <= strlen("HTTP 500 ") + 200);
	assert_true(valid_utf8(sum));
	/* A tiny buffer is cut, never overrun. */
	assert_int_equal(classify("webhook", 500, body, NULL, NULL, sum, 8), NOTIFY_RETRY);
	assert_string_equal(sum, "HTTP 50");
	/* Cut inside "é": the half character is dropped. */
	assert_int_equal(classify("webhook", 500, body, NULL, NULL, sum, 11), NOTIFY_RETRY);
	assert_string_equal(sum, "HTTP 500 ");
	assert_int_equal(classify("webhook", 500, body, NULL, NULL, sum, 12), NOTIFY_RETRY);
	assert_string_equal(sum, "HTTP 500 \xc3\xa9");
	free(body);
}

static void test_parse_retry_after(void **state)
{
	uint64_t ms = 1;

	assert_int_equal(notify_parse_retry_after("0", NOW_S, &ms), 0);
	assert_true(ms == 0);
	assert_int_equal(notify_parse_retry_after("120", NOW_S, &ms), 0);
	assert_true(ms == 120000);
	assert_int_equal(notify_parse_retry_after("3601", NOW_S, &ms), 0);
	assert_true(ms == NOTIFY_RETRY_AFTER_MAX_MS);
	assert_int_equal(notify_parse_retry_after("Mon, 24 Nov 2025 16:01:00 GMT", NOW_S, &ms), 0);
	assert_true(ms == 60000);
	assert_int_equal(notify_parse_retry_after("", NOW_S, &ms), -1);
	assert_int_equal(notify_parse_retry_after(NULL, NOW_S, &ms), -1);
	assert_int_equal(notify_parse_retry_after("1.5", NOW_S, &ms), -1);
	assert_int_equal(notify_parse_retry_after("Mon, 24 Nov 2025 16:01:00 GMT trailing", NOW_S,
	                                          &ms), -1);
	assert_int_equal(notify_parse_retry_after("Mon, 99 Nov 2025 16:01:00 GMT", NOW_S, &ms), -1);
}

static void test_names(void **state)
{
	assert_string_equal(alert_severity_name(SEVERITY_CRITICAL), "critical");
	assert_string_equal(alert_severity_name(SEVERITY_INFO), "info");
	assert_int_equal(alert_severity_from_name("error"), SEVERITY_ERROR);
	assert_int_equal(alert_severity_from_name("warning"), SEVERITY_WARNING);
	assert_int_equal(alert_severity_from_name("fatal"), -1);
	assert_int_equal(alert_severity_from_name(NULL), -1);
	assert_string_equal(notifier_type_find("alertmanager")->name, "alertmanager");
	assert_string_equal(notifier_type_find("pagerduty")->name, "pagerduty");
	assert_null(notifier_type_find("pager"));
	assert_string_equal(alert_state_name(ALERT_PENDING), "pending");
	assert_string_equal(notify_verdict_name(NOTIFY_PERMANENT), "permanent");
}

static void assert_str_eq_or_null(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		assert_true(a == b);
	else
		assert_string_equal(a, b);
}

static void test_event_json_roundtrip(void **state)
{
	for (int k = ALERT_EVENT_FIRING; k <= ALERT_EVENT_TEST; k++) {
		struct alert_event a, b;
		json_t *j;
		char *s;

		make_event(&a, (enum alert_event_kind)k);
		a.severity = (enum alert_severity)(k + 1);
		free(a.expr);
		a.expr = NULL;                  /* NULL stays NULL */
		a.ts_us = INT64_C(1764000000123456);
		j = alert_event_to_json(&a);
		/* Through text, as the outbox stores it. */
		s = json_dumps(j, JSON_COMPACT);
		json_decref(j);
		j = json_loads(s, 0, NULL);
		free(s);
		assert_int_equal(alert_event_from_json(j, &b), 0);
		json_decref(j);
		assert_int_equal(b.kind, a.kind);
		assert_int_equal(b.severity, a.severity);
		assert_true(b.ts_us == a.ts_us);
		assert_true(b.started_us == a.started_us);
		assert_str_eq_or_null(b.rule, a.rule);
		assert_str_eq_or_null(b.check, a.check);
		assert_str_eq_or_null(b.group, a.group);
		assert_str_eq_or_null(b.alert_id, a.alert_id);
		assert_str_eq_or_null(b.value, a.value);
		assert_str_eq_or_null(b.message, a.message);
		assert_str_eq_or_null(b.url, a.url);
		assert_str_eq_or_null(b.expr, a.expr);
		assert_str_eq_or_null(b.location, a.location);
		alert_event_clear(&a);
		alert_event_clear(&b);
	}
}

static void test_event_json_bad(void **state)
{
	static const char *const bad[] = {
		"[]", "{}", "{\"kind\":\"firing\",\"severity\":\"critical\",\"rule\":\"r\"}",
		"{\"kind\":\"boom\",\"severity\":\"critical\",\"rule\":\"r\",\"check\":\"c\"}",
		"{\"kind\":\"firing\",\"severity\":\"loud\",\"rule\":\"r\",\"check\":\"c\"}",
		"{\"kind\":\"firing\",\"severity\":\"info\",\"rule\":\"r\",\"check\":\"c\",\"ts_us\":\"x\"}",
		"{\"kind\":\"firing\",\"severity\":\"info\",\"rule\":\"r\",\"check\":\"c\",\"value\":3}",
	};
	struct alert_event e, zero;
	json_t *j;

	memset(&zero, 0, sizeof(zero));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&e, 0, sizeof(e));
		j = json_loads(bad[i], 0, NULL);
		assert_non_null(j);
		assert_int_equal(alert_event_from_json(j, &e), -1);
		assert_memory_equal(&e, &zero, sizeof(e));
		json_decref(j);
	}
	assert_int_equal(alert_event_from_json(NULL, &e), -1);
	/* Minimal: the rest may be missing. */
	j = json_loads("{\"kind\":\"resolved\",\"severity\":\"info\",\"rule\":\"r\",\"check\":\"c\"}",
	               0, NULL);
	assert_int_equal(alert_event_from_json(j, &e), 0);
	assert_int_equal(e.kind, ALERT_EVENT_RESOLVED);
	assert_null(e.message);
	alert_event_clear(&e);
	json_decref(j);
}

/* A message that is not UTF-8 is stored (with U+FFFD), not lost. */
static void test_event_json_invalid_utf8(void **state)
{
	struct alert_event a, b;
	json_t *j;

	make_event(&a, ALERT_EVENT_FIRING);
	free(a.message);
	a.message = xstrdup("bad \xff\xfe bytes");
	j = alert_event_to_json(&a);
	assert_int_equal(alert_event_from_json(j, &b), 0);
	assert_string_equal(b.message, "bad \xef\xbf\xbd\xef\xbf\xbd bytes");
	json_decref(j);
	alert_event_clear(&a);
	alert_event_clear(&b);
}

/* Every notifier takes an event with every optional string NULL. */
static void test_sparse_event(void **state)
{
	for (size_t t = 0; notifier_types[t] != NULL; t++) {
		for (int k = ALERT_EVENT_FIRING; k <= ALERT_EVENT_TEST; k++) {
			struct notifier_conf n;
			struct alert_event ev;
			struct notify_request rq;
			char err[256];
			json_t *j;

			make_conf(&n, notifier_types[t]->name);
			memset(&ev, 0, sizeof(ev));
			ev.kind = (enum alert_event_kind)k;
			ev.rule = xstrdup("r");
			ev.check = xstrdup("c");
			ev.message = xstrdup("\xff");
			assert_int_equal(notify_build(&n, &ev, KEY, NOW_S, &rq, err, sizeof(err)), 0);
			assert_non_null(rq.content_type);
			if (strcmp(rq.content_type, "application/json") == 0) {
				j = json_loads(rq.body, 0, NULL);
				assert_non_null(j);
				json_decref(j);
			}
			notify_request_clear(&rq);
			alert_event_clear(&ev);
			notifier_conf_clear(&n);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_slack_firing),
		cmocka_unit_test(test_slack_resolved),
		cmocka_unit_test(test_slack_test_event),
		cmocka_unit_test(test_slack_severity_emoji),
		cmocka_unit_test(test_slack_long_message),
		cmocka_unit_test(test_mrkdwn_escape),
		cmocka_unit_test(test_utf8_cut),
		cmocka_unit_test(test_pagerduty_trigger),
		cmocka_unit_test(test_pagerduty_resolve),
		cmocka_unit_test(test_pagerduty_test_event),
		cmocka_unit_test(test_pagerduty_edges),
		cmocka_unit_test(test_webhook_firing),
		cmocka_unit_test(test_webhook_resolved),
		cmocka_unit_test(test_webhook_test_event),
		cmocka_unit_test(test_webhook_edges),
		cmocka_unit_test(test_alertmanager),
		cmocka_unit_test(test_alertmanager_edges),
		cmocka_unit_test(test_build_errors),
		cmocka_unit_test(test_deterministic),
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_classify_summary_safety),
		cmocka_unit_test(test_parse_retry_after),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_event_json_roundtrip),
		cmocka_unit_test(test_event_json_bad),
		cmocka_unit_test(test_event_json_invalid_utf8),
		cmocka_unit_test(test_sparse_event),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

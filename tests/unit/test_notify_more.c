/* test_notify_more.c — the newer receivers field by field (teams, discord,
 * opsgenie, ntfy, email), their answers (Discord's JSON retry_after, SMTP
 * reply codes), and what they share: templates, RFC 2047 headers, the
 * "resolved after" words. */
#include "unit.h"
#include "alerts/notify.h"
#include "alerts/notify_template.h"
#include "alerts/outbox.h"
#include "core/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define KEY "a1b2c3d4e5f60708-firing-1764000000000-n"
#define NOW_S 1764000000

static void make_event(struct alert_event *e, enum alert_event_kind kind)
{
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->rule = xstrdup("down");
	e->check = xstrdup("payments-api");
	e->group = xstrdup("Payments");
	e->severity = SEVERITY_CRITICAL;
	e->alert_id = xstrdup("a1b2c3d4e5f60708");
	e->started_us = (int64_t)(NOW_S - 65) * 1000000;
	e->ts_us = kind == ALERT_EVENT_FIRING ? e->started_us : (int64_t)NOW_S * 1000000;
	e->value = xstrdup("3");
	e->message = xstrdup("HTTP 503 \"unavailable\"");
	e->url = xstrdup("https://status.example.com/check/payments-api");
	e->expr = xstrdup("consecutive_failures >= 3");
	e->location = xstrdup("fra-1");
}

/* A notifier n of type with the settings "name=value" given (NULL ends). */
static void make_conf(struct notifier_conf *n, const char *type, ...)
{
	va_list ap;
	const char *kv;

	memset(n, 0, sizeof(*n));
	n->name = xstrdup("n");
	n->type = notifier_type_find(type);
	assert_non_null(n->type);
	va_start(ap, type);
	while ((kv = va_arg(ap, const char *)) != NULL) {
		const char *eq = strchr(kv, '=');
		char *name = xstrndup(kv, (size_t)(eq - kv));

		assert_int_equal(notifier_set(n, name, eq + 1), 0);
		free(name);
	}
	va_end(ap);
}

static const char *header(const struct notify_request *r, const char *name)
{
	size_t len = strlen(name);

	for (size_t i = 0; i < r->n_headers; i++)
		if (strncasecmp(r->headers[i], name, len) == 0 && r->headers[i][len] == ':')
			return r->headers[i] + len + 2;
	return NULL;
}

/* Builds ev through n into rq (must succeed). */
static void build(const struct notifier_conf *n, enum alert_event_kind kind, struct notify_request *rq)
{
	struct alert_event ev;
	char err[256] = "";

	make_event(&ev, kind);
	assert_int_equal(notify_build(n, &ev, KEY, NOW_S, rq, err, sizeof(err)), 0);
	alert_event_clear(&ev);
}

static json_t *body_json(const struct notify_request *rq)
{
	json_t *j = json_loads(rq->body, 0, NULL);

	assert_non_null(j);
	assert_string_equal(header(rq, "X-Pharos-Idempotency-Key"), KEY);
	return j;
}

/* --- teams ------------------------------------------------------------------ */

static void test_teams(void **state)
{
	struct notifier_conf n;
	struct notify_request rq;
	json_t *j, *card, *facts;
	bool value = false;

	make_conf(&n, "teams", "url=https://x.logic.azure.com/workflows/1/invoke?sig=S", NULL);
	build(&n, ALERT_EVENT_FIRING, &rq);
	assert_string_equal(rq.url, "https://x.logic.azure.com/workflows/1/invoke?sig=S");
	j = body_json(&rq);
	assert_string_equal(json_string_value(json_object_get(j, "type")), "message");
	card = json_object_get(json_array_get(json_object_get(j, "attachments"), 0), "content");
	assert_string_equal(json_string_value(json_object_get(card, "version")), "1.4");
	assert_string_equal(json_string_value(json_object_get(card, "type")), "AdaptiveCard");
	assert_non_null(strstr(json_string_value(json_object_get(json_array_get(
		json_object_get(card, "body"), 0), "text")), "FIRING [critical] down"));
	facts = json_object_get(json_array_get(json_object_get(card, "body"), 2), "facts");
	for (size_t i = 0; i < json_array_size(facts); i++)
		if (strcmp(json_string_value(json_object_get(json_array_get(facts, i), "title")), "Value") == 0)
			value = strcmp(json_string_value(json_object_get(json_array_get(facts, i), "value")), "3") == 0;
	assert_true(value);
	assert_string_equal(json_string_value(json_object_get(json_array_get(
		json_object_get(card, "actions"), 0), "url")), "https://status.example.com/check/payments-api");
	json_decref(j);
	notify_request_clear(&rq);
	notifier_conf_clear(&n);
}

/* --- discord ---------------------------------------------------------------- */

static void test_discord(void **state)
{
	struct notifier_conf n;
	struct notify_request a, b;
	json_t *ja, *jb, *ea, *eb;

	make_conf(&n, "discord", "url=https://discord.com/api/webhooks/1/T", NULL);
	build(&n, ALERT_EVENT_FIRING, &a);
	build(&n, ALERT_EVENT_RESOLVED, &b);
	ja = body_json(&a);
	jb = body_json(&b);
	ea = json_array_get(json_object_get(ja, "embeds"), 0);
	eb = json_array_get(json_object_get(jb, "embeds"), 0);
	assert_true(json_is_integer(json_object_get(ea, "color")));
	assert_int_not_equal(json_integer_value(json_object_get(ea, "color")),
	                     json_integer_value(json_object_get(eb, "color")));
	assert_non_null(strstr(json_string_value(json_object_get(eb, "title")), "RESOLVED"));
	assert_string_equal(json_string_value(json_object_get(ea, "url")),
	                    "https://status.example.com/check/payments-api");
	assert_string_equal(json_string_value(json_object_get(json_array_get(
		json_object_get(ea, "fields"), 0), "name")), "Value");
	json_decref(ja);
	json_decref(jb);
	notify_request_clear(&a);
	notify_request_clear(&b);
	notifier_conf_clear(&n);
}

static void test_discord_retry_after(void **state)
{
	struct notifier_conf n;
	uint64_t ms = 0;
	const char *body = "{\"message\":\"You are being rate limited.\",\"retry_after\":2.5,\"global\":false}";

	make_conf(&n, "discord", "url=https://discord.com/api/webhooks/1/T", NULL);
	/* JSON alone, in float seconds */
	assert_int_equal(notify_classify(&n, 429, body, strlen(body), NULL, NOW_S, &ms, NULL, 0),
	                 NOTIFY_RETRY);
	assert_int_equal(ms, 2500);
	/* the longer of header and body */
	assert_int_equal(notify_classify(&n, 429, body, strlen(body), "4", NOW_S, &ms, NULL, 0),
	                 NOTIFY_RETRY);
	assert_int_equal(ms, 4000);
	assert_int_equal(notify_classify(&n, 204, NULL, 0, NULL, NOW_S, &ms, NULL, 0), NOTIFY_DELIVERED);
	notifier_conf_clear(&n);
}

/* --- opsgenie --------------------------------------------------------------- */

static void test_opsgenie(void **state)
{
	struct notifier_conf n;
	struct notify_request rq;
	json_t *j;

	make_conf(&n, "opsgenie", "api_key=K3y", "url=eu", NULL);
	build(&n, ALERT_EVENT_FIRING, &rq);
	assert_string_equal(rq.url, "https://api.eu.opsgenie.com/v2/alerts");
	assert_string_equal(header(&rq, "Authorization"), "GenieKey K3y");
	j = body_json(&rq);
	assert_string_equal(json_string_value(json_object_get(j, "alias")), "pharos:down:payments-api");
	assert_string_equal(json_string_value(json_object_get(j, "priority")), "P1");
	assert_string_equal(json_string_value(json_object_get(j, "source")), "fra-1");
	assert_true(strlen(json_string_value(json_object_get(j, "message"))) <= 130);
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "details"), "value")), "3");
	json_decref(j);
	notify_request_clear(&rq);

	build(&n, ALERT_EVENT_RESOLVED, &rq);
	assert_string_equal(rq.url, "https://api.eu.opsgenie.com/v2/alerts/"
	                    "pharos%3Adown%3Apayments-api/close?identifierType=alias");
	j = body_json(&rq);
	assert_non_null(strstr(json_string_value(json_object_get(j, "note")), "resolved after 1m 5s"));
	json_decref(j);
	notify_request_clear(&rq);
	notifier_conf_clear(&n);

	make_conf(&n, "opsgenie", "api_key=K3y", NULL);
	build(&n, ALERT_EVENT_TEST, &rq);
	assert_string_equal(rq.url, "https://api.opsgenie.com/v2/alerts");
	j = body_json(&rq);
	assert_string_equal(json_string_value(json_object_get(j, "alias")), "pharos:notify-test:" KEY);
	json_decref(j);
	notify_request_clear(&rq);
	notifier_conf_clear(&n);
}

/* --- ntfy ------------------------------------------------------------------- */

static void test_ntfy(void **state)
{
	struct notifier_conf n;
	struct notify_request rq;

	make_conf(&n, "ntfy", "url=https://ntfy.sh/alerts", "token=tk_x", NULL);
	build(&n, ALERT_EVENT_RESOLVED, &rq);
	assert_string_equal(rq.url, "https://ntfy.sh/alerts");
	assert_string_equal(header(&rq, "Priority"), "5");
	assert_string_equal(header(&rq, "Authorization"), "Bearer tk_x");
	assert_string_equal(header(&rq, "Click"), "https://status.example.com/check/payments-api");
	/* "RESOLVED [critical] down — payments-api": the dash is not ASCII */
	assert_non_null(strstr(header(&rq, "Title"), "=?UTF-8?B?"));
	assert_non_null(strstr(rq.body, "Value: 3\n"));
	assert_non_null(strstr(rq.body, "resolved after 1m 5s"));
	notify_request_clear(&rq);
	notifier_conf_clear(&n);
}

/* --- email ------------------------------------------------------------------ */

static void test_email(void **state)
{
	struct notifier_conf n;
	struct notify_request f, r;
	char *parent = outbox_key("a1b2c3d4e5f60708", ALERT_EVENT_FIRING, (NOW_S - 65) * 1000LL, "n");
	char *want = xasprintf("In-Reply-To: <%s@example.com>\r\n", parent);

	make_conf(&n, "email", "url=smtp://mail.example.com:587", "from=pharos@example.com",
	          "to=a@example.com\nb@example.com", "username=u", "password=p", NULL);
	build(&n, ALERT_EVENT_FIRING, &f);
	build(&n, ALERT_EVENT_RESOLVED, &r);
	assert_string_equal(f.mail_from, "pharos@example.com");
	assert_int_equal(f.n_mail_rcpt, 2);
	assert_string_equal(f.mail_rcpt[1], "b@example.com");
	assert_true(f.require_tls);
	assert_string_equal(f.password, "p");
	assert_int_equal(f.n_headers, 0);
	assert_non_null(strstr(f.body, "\r\nMessage-ID: <" KEY "@example.com>\r\n"));
	assert_null(strstr(f.body, "In-Reply-To"));
	assert_non_null(strstr(f.body, "Content-Type: multipart/alternative"));
	assert_non_null(strstr(f.body, "Subject: =?UTF-8?B?"));
	assert_non_null(strstr(r.body, want));
	/* CRLF only, and short lines */
	for (const char *p = f.body; *p != '\0'; p++)
		if (*p == '\n')
			assert_true(p > f.body && p[-1] == '\r');
	notify_request_clear(&f);
	notify_request_clear(&r);
	notifier_conf_clear(&n);

	make_conf(&n, "email", "url=smtp://mail.example.com:25", "from=pharos@example.com",
	          "to=a@example.com", "starttls=false", NULL);
	build(&n, ALERT_EVENT_FIRING, &f);
	assert_false(f.require_tls);
	notify_request_clear(&f);
	notifier_conf_clear(&n);
	free(want);
	free(parent);
}

static void test_email_verdicts(void **state)
{
	struct notifier_conf n;
	char sum[128];

	make_conf(&n, "email", "url=smtps://mail.example.com", "from=p@example.com", "to=a@example.com",
	          NULL);
	assert_int_equal(notify_classify(&n, 250, NULL, 0, NULL, NOW_S, NULL, sum, sizeof(sum)),
	                 NOTIFY_DELIVERED);
	assert_int_equal(notify_classify(&n, 451, NULL, 0, NULL, NOW_S, NULL, sum, sizeof(sum)),
	                 NOTIFY_RETRY);
	assert_string_equal(sum, "SMTP 451");
	assert_int_equal(notify_classify(&n, 554, NULL, 0, NULL, NOW_S, NULL, NULL, 0), NOTIFY_PERMANENT);
	assert_int_equal(notify_classify(&n, 0, NULL, 0, NULL, NOW_S, NULL, NULL, 0), NOTIFY_RETRY);
	notifier_conf_clear(&n);
}

/* --- templates and text helpers -------------------------------------------- */

static void test_template(void **state)
{
	struct alert_event ev;
	char why[160];
	char *s;
	json_t *j;

	assert_int_equal(notify_template_check("{{rule}} {{ check }} {{duration}}", why, sizeof(why)), 0);
	assert_int_equal(notify_template_check("{\"x\": \"{{nope}}\"}", why, sizeof(why)), -1);
	assert_non_null(strstr(why, "{{nope}}"));
	assert_int_equal(notify_template_check("{{rule", why, sizeof(why)), -1);

	make_event(&ev, ALERT_EVENT_RESOLVED);
	free(ev.group);
	ev.group = xstrdup("Pay \"ments\"\nX-Injected: yes");
	s = notify_template_fill("{{state}}: {{rule}} on {{check}} ({{group}}) after {{duration}}", &ev, false);
	assert_string_equal(s, "resolved: down on payments-api (Pay \"ments\"\nX-Injected: yes) after 1m 5s");
	free(s);
	s = notify_template_fill("{\"text\": \"{{group}} {{message}}\"}", &ev, true);
	j = json_loads(s, 0, NULL);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "text")),
	                    "Pay \"ments\"\nX-Injected: yes HTTP 503 \"unavailable\"");
	json_decref(j);
	free(s);
	alert_event_clear(&ev);
}

static void test_headline_one_line(void **state)
{
	struct notifier_conf n;
	struct alert_event ev;
	char *h;

	make_conf(&n, "ntfy", "url=https://ntfy.sh/a", NULL);
	n.template_title = xstrdup("{{check}} in {{group}}");
	make_event(&ev, ALERT_EVENT_FIRING);
	free(ev.group);
	ev.group = xstrdup("a\r\nb");
	h = notify_headline(&n, &ev);
	assert_string_equal(h, "payments-api in a  b");
	free(h);
	alert_event_clear(&ev);
	notifier_conf_clear(&n);
}

static void test_rfc2047(void **state)
{
	char *s = notify_rfc2047("plain ascii");

	assert_string_equal(s, "plain ascii");
	free(s);
	s = notify_rfc2047("[FIRING] down \xe2\x80\x94 api");
	assert_string_equal(s, "=?UTF-8?B?W0ZJUklOR10gZG93biDigJQgYXBp?=");
	free(s);
	/* long: several encoded-words, each at most 75 characters */
	s = notify_rfc2047("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	                   "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	                   "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9");
	assert_non_null(strchr(s, ' '));
	for (char *w = strtok(s, " "); w != NULL; w = strtok(NULL, " "))
		assert_true(strlen(w) <= 75);
	free(s);
}

static void test_duration_words(void **state)
{
	char buf[32];

	notify_duration_words(850, buf, sizeof(buf));
	assert_string_equal(buf, "850ms");
	notify_duration_words(4000, buf, sizeof(buf));
	assert_string_equal(buf, "4s");
	notify_duration_words(65000, buf, sizeof(buf));
	assert_string_equal(buf, "1m 5s");
	notify_duration_words(7380000, buf, sizeof(buf));
	assert_string_equal(buf, "2h 3m");
	notify_duration_words(86400000, buf, sizeof(buf));
	assert_string_equal(buf, "1d");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_teams),
		cmocka_unit_test(test_discord),
		cmocka_unit_test(test_discord_retry_after),
		cmocka_unit_test(test_opsgenie),
		cmocka_unit_test(test_ntfy),
		cmocka_unit_test(test_email),
		cmocka_unit_test(test_email_verdicts),
		cmocka_unit_test(test_template),
		cmocka_unit_test(test_headline_one_line),
		cmocka_unit_test(test_rfc2047),
		cmocka_unit_test(test_duration_words),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

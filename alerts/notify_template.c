/* notify_template.c — fills a notifier's template with an alert event's
 * values (see notify_template.h): plain text for the headline and message
 * of any receiver, JSON-escaped (by jansson) for a webhook's JSON body. */
#include "alerts/notify_template.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alerts/notify_text.h"
#include "core/buf.h"
#include "core/util.h"

#define NAME_MAX_LEN 32         /* longer than any placeholder name */
#define VALUE_MAX 8192          /* bytes of one filled-in value */

static const char *const placeholder_names[] = {
	"rule", "check", "group", "severity", "state", "value", "message", "url", "location",
	"since", "duration", NULL
};

/* The placeholder name between p (just after "{{") and the next "}}", blanks
 * around it dropped, into name; *end points after the "}}". -1 when there is
 * no "}}" or the name does not fit. */
static int read_name(const char *p, char name[NAME_MAX_LEN], const char **end)
{
	const char *close = strstr(p, "}}");
	size_t len;

	if (close == NULL)
		return -1;
	*end = close + 2;
	p += strspn(p, " \t");
	len = (size_t)(close - p);
	while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
		len--;
	if (len >= NAME_MAX_LEN)
		len = NAME_MAX_LEN - 1;
	memcpy(name, p, len);
	name[len] = '\0';
	return 0;
}

static bool known_name(const char *name)
{
	for (size_t i = 0; placeholder_names[i] != NULL; i++)
		if (strcmp(placeholder_names[i], name) == 0)
			return true;
	return false;
}

int notify_template_check(const char *tmpl, char *why, size_t whylen)
{
	const char *p = tmpl != NULL ? tmpl : "";

	while ((p = strstr(p, "{{")) != NULL) {
		char name[NAME_MAX_LEN];
		const char *end;

		if (read_name(p + 2, name, &end) < 0) {
			snprintf(why, whylen, "has a {{ without its closing }}");
			return -1;
		}
		if (!known_name(name)) {
			snprintf(why, whylen, "has the unknown placeholder {{%s}} (known: %s)", name,
			         NOTIFY_TEMPLATE_NAMES);
			return -1;
		}
		p = end;
	}
	return 0;
}

static const char *state_word(enum alert_event_kind kind)
{
	switch (kind) {
	case ALERT_EVENT_RESOLVED: return "resolved";
	case ALERT_EVENT_TEST:     return "test";
	case ALERT_EVENT_FIRING:
	default:                   return "firing";
	}
}

/* The text of placeholder name for ev. Caller frees; NULL when unknown. */
static char *value_of(const char *name, const struct alert_event *ev)
{
	char buf[NOTIFY_TIME_LEN];     /* a time, or a duration in words (shorter) */
	const struct { const char *name; const char *v; } fields[] = {
		{ "rule", ev->rule }, { "check", ev->check }, { "group", ev->group },
		{ "value", ev->value }, { "message", ev->message }, { "url", ev->url },
		{ "location", ev->location },
		{ "severity", alert_severity_name(ev->severity) }, { "state", state_word(ev->kind) },
	};

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (strcmp(fields[i].name, name) == 0)
			return xstrdup(notify_str(fields[i].v));
	if (strcmp(name, "since") == 0) {
		notify_time(ev->started_us > 0 ? ev->started_us : ev->ts_us, buf);
		return xstrdup(buf);
	}
	if (strcmp(name, "duration") == 0) {
		int64_t us = ev->started_us > 0 && ev->ts_us > ev->started_us ? ev->ts_us - ev->started_us : 0;

		notify_duration_words((uint64_t)us / 1000, buf, sizeof(buf));
		return xstrdup(buf);
	}
	return NULL;
}

/* Appends v to b, escaped for the inside of a JSON string when json. */
static void add_value(struct buf *b, const char *v, bool json)
{
	json_t *j;
	char *s;
	size_t len;

	if (!json) {
		s = notify_utf8(v, VALUE_MAX);
		buf_adds(b, s);
		free(s);
		return;
	}
	/* jansson writes the string with its quotes: keep what is between them. */
	j = notify_json_str(v, VALUE_MAX);
	s = json_dumps(j, JSON_ENCODE_ANY);
	json_decref(j);
	len = s != NULL ? strlen(s) : 0;
	if (len >= 2)
		buf_add(b, s + 1, len - 2);
	free(s);
}

char *notify_template_fill(const char *tmpl, const struct alert_event *ev, bool json)
{
	struct buf b = BUF_INIT;
	const char *p = tmpl != NULL ? tmpl : "";

	for (;;) {
		const char *open = strstr(p, "{{"), *end;
		char name[NAME_MAX_LEN];
		char *v;

		if (open == NULL || read_name(open + 2, name, &end) < 0) {
			buf_adds(&b, p);
			break;
		}
		buf_add(&b, p, (size_t)(open - p));
		v = value_of(name, ev);
		if (v != NULL)
			add_value(&b, v, json);
		else
			buf_add(&b, open, (size_t)(end - open));
		free(v);
		p = end;
	}
	return buf_steal(&b, NULL);
}

void notify_template_sample(struct alert_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->kind = ALERT_EVENT_FIRING;
	ev->rule = xstrdup("down");
	ev->check = xstrdup("api \"main\"");
	ev->group = xstrdup("Payments\nEU");
	ev->severity = SEVERITY_CRITICAL;
	ev->alert_id = xstrdup("sample");
	ev->ts_us = 1764000065000000;
	ev->started_us = 1764000000000000;
	ev->value = xstrdup("3");
	ev->message = xstrdup("status 503 \\ \"unavailable\"");
	ev->url = xstrdup("https://status.example.com/check/api");
	ev->expr = xstrdup("consecutive_failures >= 3");
	ev->location = xstrdup("eu-1");
}

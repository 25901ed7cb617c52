/* alert_json.c — an alert event as JSON and back: the outbox row's event
 * column and the webhook body's fields (declared in alert.h). Apart from
 * alert.c because it needs notify.c's text helpers, and notify.h needs alert.h. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alerts/alert.h"
#include "alerts/notify.h"
#include "core/util.h"

static const char *const kind_names[] = {
	[ALERT_EVENT_FIRING] = "firing",
	[ALERT_EVENT_RESOLVED] = "resolved",
	[ALERT_EVENT_TEST] = "test",
};

/* The string fields of an event, for writing and reading them in one loop. */
struct str_field {
	const char *key;
	size_t off;
	bool optional;              /* left out of the JSON when NULL (added later) */
};

static const struct str_field str_fields[] = {
	{ "rule", offsetof(struct alert_event, rule), false },
	{ "check", offsetof(struct alert_event, check), false },
	{ "group", offsetof(struct alert_event, group), false },
	{ "alert_id", offsetof(struct alert_event, alert_id), false },
	{ "value", offsetof(struct alert_event, value), false },
	{ "message", offsetof(struct alert_event, message), false },
	{ "url", offsetof(struct alert_event, url), false },
	{ "expr", offsetof(struct alert_event, expr), false },
	{ "location", offsetof(struct alert_event, location), false },
	{ "run_id", offsetof(struct alert_event, run_id), true },
};

#define N_STR_FIELDS (sizeof(str_fields) / sizeof(str_fields[0]))

static char **field_ptr(struct alert_event *e, size_t i)
{
	return (char **)((char *)e + str_fields[i].off);
}

/* A JSON string for s, or null. Bytes that are not valid UTF-8 (a check's
 * message may carry anything) are kept as U+FFFD, because jansson only takes
 * valid UTF-8 and an event must never fail to be stored. */
static json_t *str_or_null(const char *s)
{
	json_t *j;

	if (s == NULL)
		return json_null();
	j = json_string(s);
	return j != NULL ? j : notify_json_str(s, SIZE_MAX);
}

json_t *alert_event_to_json(const struct alert_event *e)
{
	json_t *j = json_object();
	unsigned kind = (unsigned)e->kind;

	json_object_set_new(j, "kind", json_string(kind < 3 ? kind_names[kind] : "firing"));
	json_object_set_new(j, "severity", json_string(alert_severity_name(e->severity)));
	json_object_set_new(j, "ts_us", json_integer((json_int_t)e->ts_us));
	json_object_set_new(j, "started_us", json_integer((json_int_t)e->started_us));
	for (size_t i = 0; i < N_STR_FIELDS; i++) {
		const char *v = *field_ptr((struct alert_event *)e, i);

		if (v != NULL || !str_fields[i].optional)
			json_object_set_new(j, str_fields[i].key, str_or_null(v));
	}
	return j;
}

int alert_event_from_json(const json_t *j, struct alert_event *e)
{
	struct alert_event ev;
	const char *kind, *sev;
	json_t *v;
	int s, rc = -1;

	memset(&ev, 0, sizeof(ev));
	if (!json_is_object(j))
		goto out;
	kind = json_string_value(json_object_get(j, "kind"));
	if (kind == NULL)
		goto out;
	if (strcmp(kind, "firing") == 0)
		ev.kind = ALERT_EVENT_FIRING;
	else if (strcmp(kind, "resolved") == 0)
		ev.kind = ALERT_EVENT_RESOLVED;
	else if (strcmp(kind, "test") == 0)
		ev.kind = ALERT_EVENT_TEST;
	else
		goto out;
	sev = json_string_value(json_object_get(j, "severity"));
	s = alert_severity_from_name(sev);
	if (s < 0)
		goto out;
	ev.severity = (enum alert_severity)s;
	v = json_object_get(j, "ts_us");
	if (v != NULL && !json_is_integer(v))
		goto out;
	ev.ts_us = (int64_t)json_integer_value(v);
	v = json_object_get(j, "started_us");
	if (v != NULL && !json_is_integer(v))
		goto out;
	ev.started_us = (int64_t)json_integer_value(v);
	for (size_t i = 0; i < N_STR_FIELDS; i++) {
		v = json_object_get(j, str_fields[i].key);
		if (v == NULL || json_is_null(v))
			continue;
		if (!json_is_string(v))
			goto out;
		/* json_string_length: an embedded NUL would truncate; keep what C sees. */
		*field_ptr(&ev, i) = xstrdup(json_string_value(v));
	}
	if (ev.rule == NULL || ev.check == NULL)
		goto out;
	*e = ev;
	memset(&ev, 0, sizeof(ev));
	rc = 0;
out:
	alert_event_clear(&ev);
	return rc;
}

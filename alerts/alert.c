/* alert.c — the small helpers of alert.h: names of severities, states and
 * notifier types, the *_clear functions, and the alert event's JSON form
 * (how events are stored in the outbox). */
#include "alerts/alert.h"

#include <stdlib.h>
#include <string.h>

#include "alerts/expr.h"
#include "alerts/notify.h"
#include "core/util.h"

static const char *const severity_names[] = {
	[SEVERITY_CRITICAL] = "critical",
	[SEVERITY_ERROR] = "error",
	[SEVERITY_WARNING] = "warning",
	[SEVERITY_INFO] = "info",
};

const char *alert_severity_name(enum alert_severity s)
{
	if ((unsigned)s >= sizeof(severity_names) / sizeof(severity_names[0]))
		return "warning";
	return severity_names[s];
}

int alert_severity_from_name(const char *name)
{
	if (name == NULL)
		return -1;
	for (size_t i = 0; i < sizeof(severity_names) / sizeof(severity_names[0]); i++)
		if (strcmp(name, severity_names[i]) == 0)
			return (int)i;
	return -1;
}

const char *notifier_type_name(enum notifier_type t)
{
	switch (t) {
	case NOTIFIER_SLACK:        return "slack";
	case NOTIFIER_PAGERDUTY:    return "pagerduty";
	case NOTIFIER_WEBHOOK:      return "webhook";
	case NOTIFIER_ALERTMANAGER: return "alertmanager";
	}
	return "unknown";
}

const char *alert_state_name(enum alert_state s)
{
	switch (s) {
	case ALERT_OK:      return "ok";
	case ALERT_PENDING: return "pending";
	case ALERT_FIRING:  return "firing";
	}
	return "unknown";
}

/* Frees an array of n strings and the array. */
static void free_strv(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void alert_rule_clear(struct alert_rule *r)
{
	if (r == NULL)
		return;
	free(r->name);
	free_strv(r->selectors, r->n_selectors);
	free(r->when_text);
	expr_free(r->when);
	free(r->recover_text);
	expr_free(r->recover);
	free_strv(r->notify, r->n_notify);
	memset(r, 0, sizeof(*r));
}

void notifier_conf_clear(struct notifier_conf *n)
{
	if (n == NULL)
		return;
	free(n->name);
	free(n->url);
	/* Secrets: wipe before freeing, so they do not linger in freed memory. */
	if (n->routing_key != NULL) {
		explicit_bzero(n->routing_key, strlen(n->routing_key));
		free(n->routing_key);
	}
	if (n->secret != NULL) {
		explicit_bzero(n->secret, strlen(n->secret));
		free(n->secret);
	}
	memset(n, 0, sizeof(*n));
}

void maintenance_window_clear(struct maintenance_window *m)
{
	if (m == NULL)
		return;
	free_strv(m->selectors, m->n_selectors);
	free(m->timezone);
	memset(m, 0, sizeof(*m));
}

void alert_event_clear(struct alert_event *e)
{
	if (e == NULL)
		return;
	free(e->rule);
	free(e->check);
	free(e->group);
	free(e->alert_id);
	free(e->value);
	free(e->message);
	free(e->url);
	free(e->expr);
	free(e->location);
	free(e->run_id);
	memset(e, 0, sizeof(*e));
}

static char *dup_or_empty(const char *s)
{
	return xstrdup(s != NULL ? s : "");
}

void alert_event_build(struct alert_event *ev, const struct alert_event_spec *s)
{
	const char *base = s->public_url != NULL ? s->public_url : "";
	size_t blen = strlen(base);

	/* One slash between the base and what follows, whatever the user wrote. */
	while (blen > 0 && base[blen - 1] == '/')
		blen--;
	memset(ev, 0, sizeof(*ev));
	ev->kind = s->kind;
	ev->rule = dup_or_empty(s->rule);
	ev->check = dup_or_empty(s->check);
	ev->group = dup_or_empty(s->group);
	ev->severity = s->severity;
	ev->alert_id = dup_or_empty(s->alert_id);
	ev->ts_us = s->ts_us;
	ev->started_us = s->started_us;
	ev->value = dup_or_empty(s->value);
	ev->message = dup_or_empty(s->message);
	if (s->kind == ALERT_EVENT_TEST)
		ev->url = xasprintf("%.*s/", (int)blen, base);
	else
		ev->url = xasprintf("%.*s/check/%s", (int)blen, base, s->check != NULL ? s->check : "");
	ev->expr = dup_or_empty(s->expr);
	ev->location = dup_or_empty(s->location);
	ev->run_id = s->run_id != NULL && s->run_id[0] != '\0' ? xstrdup(s->run_id) : NULL;
}

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

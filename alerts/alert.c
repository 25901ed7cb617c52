/* alert.c — the small helpers of alert.h: names of severities and states,
 * the *_clear functions and the one alert-event builder. The event's JSON
 * form (how events are stored in the outbox) is alert_json.c. */
#include "alerts/alert.h"

#include <stdlib.h>
#include <string.h>

#include "alerts/expr.h"
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

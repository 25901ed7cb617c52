/* alert.h — the types the alert side of pharos shares: rules and
 * maintenance windows as the config loader builds them (notifiers: notify.h), the alert instance
 * state machine's states, and the events and notifications it produces.
 *
 * Modules (each with its own header):
 *   expr.c         rule expressions: parse `when`/`recover`, evaluate
 *   window.c       per-check in-memory ring of recent results (error_rate, pXX_latency)
 *   engine.c       per (rule, check) state: ok -> pending -> firing -> ok; for, repeat,
 *                  maintenance and dependency hold-back; emits alert events
 *                  (engine_build.c: its instances from a configuration)
 *   maintenance.c  one-off and weekly windows
 *   notify.c       notifiers: one descriptor per type (notify_<type>.c, table in
 *                  notify_types.c): event -> HTTP request; answer -> verdict
 *   outbox.c       notification rows (durable, in SQLite through the store's writer)
 *   delivery.c     sending from the loop through curl multi: backoff, Retry-After,
 *                  circuit breaker, rate limit, max_attempts / max_age -> dead
 *   alert_json.c   an alert event as JSON and back (the outbox's event column)
 * Which checks a rule or window selects: probes/selector.h. The glue that
 * runs all this in the agent: agent/alerting.c.
 * Everything here is owned by its struct and freed by the matching *_clear(). */
#ifndef PHAROS_ALERT_H
#define PHAROS_ALERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

struct expr;

enum alert_severity { SEVERITY_CRITICAL, SEVERITY_ERROR, SEVERITY_WARNING, SEVERITY_INFO };
const char *alert_severity_name(enum alert_severity s);    /* "critical", ... */
int alert_severity_from_name(const char *name);             /* -1 when unknown */

/* One entry of `alerts = (...)`. */
struct alert_rule {
	char *name;
	char **selectors; size_t n_selectors;   /* "payments-*", "group:Payments", "*", exact names */
	char *when_text;  struct expr *when;
	char *recover_text; struct expr *recover;   /* NULL: not (when) */
	uint64_t for_ms;            /* 0: fire at once */
	uint64_t repeat_ms;         /* 0: never re-send while firing */
	int min_locations;          /* fleet: locations that must fail to fire (default 1) */
	enum alert_severity severity;       /* default warning */
	char **notify; size_t n_notify;     /* notifier names */
	int line;
};
void alert_rule_clear(struct alert_rule *r);

/* One entry of `maintenance = (...)`. */
struct maintenance_window {
	char **selectors; size_t n_selectors;
	int64_t start_us;           /* one-off: wall clock start; 0 when weekly */
	int weekly_day;             /* 0 = Sunday .. 6; -1 when one-off */
	int weekly_minute;          /* minutes after midnight, in `timezone` */
	char *timezone;             /* NULL: UTC */
	uint64_t duration_ms;
	int line;
};
void maintenance_window_clear(struct maintenance_window *m);

/* Alert instance states (one instance per (rule, check)). */
enum alert_state { ALERT_OK, ALERT_PENDING, ALERT_FIRING };
const char *alert_state_name(enum alert_state s);   /* "ok", "pending", "firing" */

/* What the engine emits when an instance fires, re-fires (repeat) or resolves.
 * The outbox turns each into one notification per notifier of the rule. */
enum alert_event_kind { ALERT_EVENT_FIRING, ALERT_EVENT_RESOLVED, ALERT_EVENT_TEST };

struct alert_event {
	enum alert_event_kind kind;
	char *rule;
	char *check;
	char *group;                /* the check's group, "" when none */
	enum alert_severity severity;
	char *alert_id;             /* stable per firing episode: new at each ok->firing */
	int64_t ts_us;              /* when the transition happened */
	int64_t started_us;         /* when this episode started firing */
	char *value;                /* the failing value as text: "3", "812 ms", "7.5%" */
	char *message;              /* the check's last message */
	char *url;                  /* <public_url>/check/<check> */
	char *expr;                 /* the rule's when expression */
	char *location;             /* agent.location */
	char *run_id;               /* the probe run that caused it; NULL: none known
	                               (a test event, a state restored at start) */
};
void alert_event_clear(struct alert_event *e);

/* What an alert event is made of, as its builders know it. Every string may
 * be NULL (it becomes "", except run_id, which stays NULL when NULL or "").
 * The event's url is derived: <public_url>/check/<check>, or <public_url>/
 * for a test event (no check page), with trailing slashes of public_url
 * dropped so there is exactly one between the parts. */
struct alert_event_spec {
	enum alert_event_kind kind;
	const char *rule;
	const char *check;
	const char *group;
	enum alert_severity severity;
	const char *alert_id;
	int64_t ts_us;
	int64_t started_us;
	const char *value;
	const char *message;
	const char *public_url;     /* agent.public_url */
	const char *expr;
	const char *location;
	const char *run_id;
};

/* The one builder of alert events (engine transitions, re-posts of restored
 * alerts, `pharos notify-test`): fills *ev from s with copies of its strings.
 * Caller clears ev with alert_event_clear. */
void alert_event_build(struct alert_event *ev, const struct alert_event_spec *s);
/* The event as a JSON object (used for the outbox; alert_json.c). run_id is
 * left out when NULL. New reference. */
json_t *alert_event_to_json(const struct alert_event *e);
/* Parses what alert_event_to_json wrote. Returns 0 or -1. */
int alert_event_from_json(const json_t *j, struct alert_event *e);

#endif

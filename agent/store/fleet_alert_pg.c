/* fleet_alert_pg.c — the fleet's alerting and delivery leases in PostgreSQL,
 * writer side (docs/fleet.md). Every decision is made inside the batch's
 * transaction under a row lock, with the database's clock:
 *
 *   condition op: upsert fleet_conditions (rule, check, location), seed and
 *     lock the pair's fleet_alerts row (INSERT .. ON CONFLICT DO NOTHING, then
 *     SELECT .. FOR UPDATE: the lease on deciding the pair), count its
 *     locations (failing, unknown: stale; dead agents' ones not at all),
 *     decide (alerts/fleet_alert.h) and on a transition write the fleet's
 *     alert state, history and notifications (leased to this agent);
 *   sweep: the same decision for every pair that is firing or has a firing
 *     condition (FOR UPDATE SKIP LOCKED: a pair another agent is deciding is
 *     its), plus the repeats due;
 *   leases: renew this agent's, claim expired ones (FOR UPDATE SKIP LOCKED).
 *
 * The notifications an op created or claimed go back in o->tx.rows, for the
 * agent's delivery. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alerts/fleet_alert.h"
#include "core/log.h"
#include "core/util.h"
#include "store/fleet_alert_pg.h"
#include "store/store_pg_read.h"

#define SWEEP_MAX "1000"        /* pairs re-decided per sweep */
#define CLAIM_MAX "100"         /* notifications claimed per lease pass */
#define STALE_SLACK_US "2000000" /* commit lag and clock skew on top of 2 intervals */
#define GONE_INTERVALS "10"     /* no result for this many intervals: not counted */

static const char seed_sql[] =
	/* A pair's first row takes over the alert state of a database that was
	 * used without the fleet (no second page for what already paged). */
	"INSERT INTO fleet_alerts (rule, check_name, state, since_us, alert_id, value, last_sent_us)"
	" SELECT $1, $2, CASE WHEN s.state = 'firing' THEN 'firing' ELSE 'ok' END,"
	" coalesce(s.since_us, 0), s.alert_id, s.value, coalesce(s.last_sent_us, 0)"
	" FROM (SELECT 1) AS one LEFT JOIN alert_state s ON s.rule = $1 AND s.check_name = $2"
	" ON CONFLICT (rule, check_name) DO NOTHING";
static const char lock_sql[] =
	"SELECT state, episode, since_us, alert_id, last_sent_us, min_locations, interval_us,"
	" repeat_us, notify, event, (extract(epoch FROM now()) * 1000000)::bigint"
	" FROM fleet_alerts WHERE rule = $1 AND check_name = $2 FOR UPDATE";
static const char settings_sql[] =
	"UPDATE fleet_alerts SET min_locations = $3, interval_us = $4, repeat_us = $5,"
	" notify = $6, event = coalesce($7, event) WHERE rule = $1 AND check_name = $2";
static const char condition_sql[] =
	"INSERT INTO fleet_conditions (rule, check_name, location, firing, value, updated_at)"
	" VALUES ($1, $2, $3, $4, $5, now()) ON CONFLICT (rule, check_name, location) DO UPDATE"
	" SET firing = excluded.firing, value = excluded.value, updated_at = excluded.updated_at";
/* The pair's locations: those with a condition or a result of the check.
 * Counted as failing or passing: this agent's own (its results are in this
 * very batch) and those with a result within 2 intervals whose agent is
 * live. Unknown (holds an alert, never fires one): a location whose agent
 * has not been seen for PG_LIVE_S but within PG_GONE_S (it died, or the
 * database was away and its heartbeat has not come back yet), or whose last
 * result is older than 2 intervals. Not counted at all: an agent gone for
 * PG_GONE_S, or no result for 10 intervals (it stopped running the check:
 * its locations or an "any" check moved). */
static const char locations_sql[] =
	"WITH locs AS (SELECT location FROM fleet_conditions WHERE rule = $1 AND check_name = $2"
	" UNION SELECT location FROM fleet_latest WHERE check_name = $2)"
	" SELECT l.location, coalesce(c.firing, false),"
	" l.location = $3 OR (coalesce(f.ts_us >= $4::bigint - 2 * $5::bigint - " STALE_SLACK_US ", false)"
	" AND coalesce(a.last_seen > now() - interval '" PG_LIVE_S " seconds', false))"
	" FROM locs l"
	" LEFT JOIN fleet_conditions c ON c.rule = $1 AND c.check_name = $2 AND c.location = l.location"
	" LEFT JOIN fleet_latest f ON f.check_name = $2 AND f.location = l.location"
	" LEFT JOIN fleet_agents a ON a.location = l.location"
	" WHERE l.location = $3 OR (a.last_seen > now() - interval '" PG_GONE_S " seconds'"
	" AND f.ts_us >= $4::bigint - " GONE_INTERVALS " * $5::bigint - " STALE_SLACK_US ")"
	" ORDER BY l.location";
static const char pair_update_sql[] =
	"UPDATE fleet_alerts SET state = $3, episode = $4, since_us = $5, alert_id = $6, value = $7,"
	" last_sent_us = $8 WHERE rule = $1 AND check_name = $2";
/* A location's pending: shown unless the fleet's alert is firing. */
static const char pending_sql[] =
	"INSERT INTO alert_state (rule, check_name, state, since_us, value)"
	" VALUES ($1, $2, $3, $4, $5) ON CONFLICT (rule, check_name) DO UPDATE"
	" SET state = excluded.state, since_us = excluded.since_us, value = excluded.value"
	" WHERE alert_state.state <> 'firing'";
static const char sweep_sql[] =
	"SELECT a.rule, a.check_name FROM fleet_alerts a WHERE a.state = 'firing'"
	" OR EXISTS (SELECT 1 FROM fleet_conditions c WHERE c.rule = a.rule"
	" AND c.check_name = a.check_name AND c.firing)"
	" ORDER BY a.rule, a.check_name LIMIT " SWEEP_MAX " FOR UPDATE OF a SKIP LOCKED";
/* Renews this agent's leases and returns its rows: also those another
 * agent's decision gave it (behind an older row of the same alert it holds);
 * delivery ignores the ones it has. */
/* A batch of this agent's proves it alive: its row in fleet_agents is
 * renewed here too, so that after the database was away the others see it
 * live as soon as its writer is back, not only at its next heartbeat. */
static const char seen_sql[] =
	"UPDATE fleet_agents SET last_seen = now() WHERE location = $1";
static const char renew_sql[] =
	"UPDATE notifications SET lease_until = now() + interval '" PG_LEASE_S " seconds'"
	" WHERE lease_owner = $1 AND state = 'pending' RETURNING " PG_OUTBOX_COLUMNS;
/* Claims expired or unleased rows, oldest first, except those behind an
 * older undelivered row of the same alert that another agent holds (they
 * follow it when its lease expires). $2: also this location's own rows (the
 * agent's previous run, at start); $3: the notifiers this agent has. */
static const char claim_sql[] =
	"UPDATE notifications SET lease_owner = $1,"
	" lease_until = now() + interval '" PG_LEASE_S " seconds'"
	" WHERE id IN (SELECT n.id FROM notifications n WHERE n.state = 'pending'"
	" AND (n.lease_until IS NULL OR n.lease_until < now() OR ($2 AND n.lease_owner = $1))"
	" AND n.notifier IN (SELECT json_array_elements_text($3::json))"
	" AND NOT EXISTS (SELECT 1 FROM notifications o WHERE o.state = 'pending'"
	" AND o.notifier = n.notifier AND o.rule = n.rule AND o.check_name = n.check_name"
	" AND o.id < n.id AND o.lease_until >= now() AND o.lease_owner <> $1)"
	" ORDER BY n.id LIMIT " CLAIM_MAX " FOR UPDATE SKIP LOCKED)"
	" RETURNING " PG_OUTBOX_COLUMNS;

/* --- one pair ------------------------------------------------------------------ */

/* A pair's row as locked, with the database's clock. */
struct pair {
	const char *rule, *check;
	bool firing;
	int64_t episode, since_us, last_sent_us, now_us;
	char *alert_id;
	int min_locations;
	int64_t interval_us, repeat_us;
	char **notify; size_t n_notify;
	struct alert_event event;       /* the template of its notifications */
	bool has_event;
	struct fleet_location *locs;
	char **loc_names;
	size_t n_locs;
};

static void pair_clear(struct pair *p)
{
	free(p->alert_id);
	for (size_t i = 0; i < p->n_notify; i++)
		free(p->notify[i]);
	free(p->notify);
	if (p->has_event)
		alert_event_clear(&p->event);
	for (size_t i = 0; i < p->n_locs; i++)
		free(p->loc_names[i]);
	free(p->loc_names);
	free(p->locs);
	memset(p, 0, sizeof(*p));
}

/* Runs sql with p (then empties p). Returns the result or NULL (err). */
static PGresult *run(PGconn *c, struct pg_params *p, const char *sql, const char *what,
                     char *err, size_t errlen)
{
	PGresult *r = pg_query(c, sql, p, what, err, errlen);

	pg_params_clear(p);
	return r;
}

static int run_done(PGconn *c, struct pg_params *p, const char *sql, const char *what,
                    char *err, size_t errlen)
{
	PGresult *r = run(c, p, sql, what, err, errlen);

	PQclear(r);
	return r != NULL ? 0 : -1;
}

/* The notifier names of a JSON array text into p. */
static void notify_from_json(struct pair *p, const char *text)
{
	json_t *a = json_loads(text, 0, NULL);
	size_t i;
	json_t *v;

	if (!json_is_array(a)) {
		json_decref(a);
		return;
	}
	p->notify = xcalloc(json_array_size(a) + 1, sizeof(*p->notify));
	json_array_foreach(a, i, v)
		if (json_is_string(v))
			p->notify[p->n_notify++] = xstrdup(json_string_value(v));
	json_decref(a);
}

static char *notify_to_json(char *const *notify, size_t n)
{
	json_t *a = json_array();
	char *s;

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(notify[i]));
	s = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	return s;
}

static char *event_to_text(const struct alert_event *ev)
{
	json_t *j = alert_event_to_json(ev);
	char *s = json_dumps(j, JSON_COMPACT);

	json_decref(j);
	return s;
}

/* Locks the pair's row (seeded first when missing) and reads it. Returns 0,
 * or -1 with err. */
static int pair_lock(PGconn *c, struct pg_params *pp, struct pair *p, char *err, size_t errlen)
{
	PGresult *r;
	json_t *ev;

	pg_params_text(pp, p->rule);
	pg_params_text(pp, p->check);
	if (run_done(c, pp, seed_sql, "fleet alert", err, errlen) != 0)
		return -1;
	pg_params_text(pp, p->rule);
	pg_params_text(pp, p->check);
	r = run(c, pp, lock_sql, "fleet alert lock", err, errlen);
	if (r == NULL)
		return -1;
	if (PQntuples(r) != 1) {
		PQclear(r);
		snprintf(err, errlen, "fleet alert lock: the pair's row is missing");
		return -1;
	}
	p->firing = strcmp(pg_text(r, 0, 0), "firing") == 0;
	p->episode = pg_int(r, 0, 1, 0);
	p->since_us = pg_int(r, 0, 2, 0);
	p->alert_id = PQgetisnull(r, 0, 3) ? NULL : xstrdup(pg_text(r, 0, 3));
	p->last_sent_us = pg_int(r, 0, 4, 0);
	p->min_locations = (int)pg_int(r, 0, 5, 1);
	p->interval_us = pg_int(r, 0, 6, 0);
	p->repeat_us = pg_int(r, 0, 7, 0);
	notify_from_json(p, pg_text(r, 0, 8));
	ev = json_loads(pg_text(r, 0, 9), 0, NULL);
	p->has_event = ev != NULL && alert_event_from_json(ev, &p->event) == 0;
	json_decref(ev);
	p->now_us = pg_int(r, 0, 10, util_wall_us());
	PQclear(r);
	return 0;
}

/* Reads the pair's counted locations into p->locs. own: this agent's. */
static int pair_locations(PGconn *c, struct pg_params *pp, struct pair *p, const char *own,
                          char *err, size_t errlen)
{
	PGresult *r;
	int n;

	pg_params_text(pp, p->rule);
	pg_params_text(pp, p->check);
	pg_params_text(pp, own);
	pg_params_int(pp, p->now_us);
	pg_params_int(pp, p->interval_us);
	r = run(c, pp, locations_sql, "fleet locations", err, errlen);
	if (r == NULL)
		return -1;
	n = PQntuples(r);
	p->locs = xcalloc((size_t)n + 1, sizeof(*p->locs));
	p->loc_names = xcalloc((size_t)n + 1, sizeof(*p->loc_names));
	for (int i = 0; i < n; i++) {
		p->loc_names[i] = xstrdup(pg_text(r, i, 0));
		p->locs[i].location = p->loc_names[i];
		p->locs[i].firing = pg_bool(r, i, 1);
		p->locs[i].fresh = pg_bool(r, i, 2);
	}
	p->n_locs = (size_t)n;
	PQclear(r);
	return 0;
}

/* The event of a fleet notification of kind, from the pair's template.
 * Value and message name the failing locations; with one location (a fleet
 * of one) they stay the engine's, as without a fleet. */
static void pair_event(const struct pair *p, struct alert_event *ev, enum alert_event_kind kind,
                       const char *alert_id, int64_t started_us)
{
	bool own = p->n_locs <= 1 && p->has_event;
	char *value = own ? xstrdup(p->event.value) : fleet_value(p->locs, p->n_locs);
	char *message = own ? xstrdup(p->event.message)
	                    : fleet_message(p->locs, p->n_locs, p->has_event ? p->event.message : NULL);

	if (p->has_event) {
		alert_event_copy(ev, &p->event);
	} else {
		alert_event_build(ev, &(struct alert_event_spec){ .rule = p->rule, .check = p->check,
		                                                 .severity = SEVERITY_WARNING });
	}
	ev->kind = kind;
	free(ev->alert_id);
	ev->alert_id = xstrdup(alert_id);
	ev->ts_us = p->now_us;
	ev->started_us = started_us;
	free(ev->value);
	ev->value = value;
	free(ev->message);
	ev->message = message;
}

/* Inserts the notifications of ev (leased to owner) and appends those that
 * are new to out (ids set). */
static int pair_notify(PGconn *c, struct pg_params *pp, const struct pair *p,
                       const struct alert_event *ev, int64_t key_n, const char *owner,
                       struct outbox_tx *out, char *err, size_t errlen)
{
	struct outbox_tx tx = { 0 };
	int rc = 0;

	fleet_tx_add_event(&tx, ev, p->notify, p->n_notify, p->now_us, key_n);
	for (size_t i = 0; i < tx.n_rows && rc == 0; i++) {
		int64_t id = 0;

		rc = pg_insert_notification(c, pp, &tx.rows[i], owner[0] ? owner : NULL, &id, err,
		                            errlen);
		if (rc != 0 || id <= 0)
			continue;       /* the same key exists: sent once */
		out->rows = xrealloc(out->rows, (out->n_rows + 1) * sizeof(*out->rows));
		outbox_row_copy(&out->rows[out->n_rows], &tx.rows[i]);
		out->rows[out->n_rows++].id = id;
	}
	outbox_tx_clear(&tx);
	return rc;
}

/* Writes the pair's new fleet state: fleet_alerts, alert_state (what the API
 * shows) and a history line. */
static int pair_write(PGconn *c, struct pg_params *pp, const struct pair *p, const char *from,
                      const char *value, int64_t fired_us, char *err, size_t errlen)
{
	const char *to = p->firing ? "firing" : "ok";

	pg_params_text(pp, p->rule);
	pg_params_text(pp, p->check);
	pg_params_text(pp, to);
	pg_params_int(pp, p->episode);
	pg_params_int(pp, p->since_us);
	pg_params_text(pp, p->alert_id);
	pg_params_clean_text(pp, value);
	pg_params_int(pp, p->last_sent_us);
	if (run_done(c, pp, pair_update_sql, "fleet alert", err, errlen) != 0)
		return -1;
	pg_params_text(pp, p->rule);
	pg_params_text(pp, p->check);
	pg_params_text(pp, to);
	pg_params_int(pp, p->since_us);
	pg_params_int(pp, fired_us);
	pg_params_int(pp, p->last_sent_us);
	pg_params_text(pp, p->alert_id);
	pg_params_clean_text(pp, value);
	if (run_done(c, pp, pg_alert_state_upsert_sql, "fleet alert state", err, errlen) != 0)
		return -1;
	if (from == NULL)
		return 0;
	pg_params_text(pp, p->rule);
	pg_params_text(pp, p->check);
	pg_params_text(pp, p->alert_id);
	pg_params_text(pp, from);
	pg_params_text(pp, to);
	pg_params_int(pp, p->now_us);
	pg_params_clean_text(pp, value);
	return run_done(c, pp, pg_alert_history_insert_sql, "fleet alert history", err, errlen);
}

/* Decides the locked pair p with its locations read: fire, resolve, repeat
 * or hold; what it sends is appended to out. */
static int pair_decide(PGconn *c, struct pg_params *pp, struct pair *p, const char *owner,
                       struct outbox_tx *out, char *err, size_t errlen)
{
	struct fleet_count cnt = fleet_count(p->locs, p->n_locs);
	enum fleet_verdict v = fleet_decide(p->firing, cnt, p->min_locations);
	struct alert_event ev;
	char id[UTIL_ID_LEN];
	int64_t fired_us = p->since_us;
	int rc;

	if (v == FLEET_FIRE) {
		p->episode++;
		fleet_alert_id(p->rule, p->check, p->episode, id);
		free(p->alert_id);
		p->alert_id = xstrdup(id);
		p->firing = true;
		p->since_us = p->last_sent_us = fired_us = p->now_us;
		pair_event(p, &ev, ALERT_EVENT_FIRING, id, p->now_us);
		rc = pair_notify(c, pp, p, &ev, 0, owner, out, err, errlen);
		if (rc == 0)
			rc = pair_write(c, pp, p, "ok", ev.value, fired_us, err, errlen);
		log_info("fleet alert fired", "rule", p->rule, "check", p->check, "alert_id", id,
		         "value", ev.value);
	} else if (v == FLEET_RESOLVE) {
		p->firing = false;
		if (p->alert_id == NULL) {
			fleet_alert_id(p->rule, p->check, p->episode, id);
			p->alert_id = xstrdup(id);
		}
		pair_event(p, &ev, ALERT_EVENT_RESOLVED, p->alert_id, fired_us);
		p->since_us = p->now_us;
		rc = pair_notify(c, pp, p, &ev, 0, owner, out, err, errlen);
		if (rc == 0)
			rc = pair_write(c, pp, p, "firing", ev.value, fired_us, err, errlen);
		log_info("fleet alert resolved", "rule", p->rule, "check", p->check,
		         "alert_id", p->alert_id, "value", ev.value);
	} else if (p->firing && p->repeat_us > 0 && p->alert_id != NULL &&
	           p->now_us - p->last_sent_us >= p->repeat_us) {
		/* The repeat's number keys it: every agent derives the same. */
		int64_t k = (p->now_us - p->since_us) / p->repeat_us;

		pair_event(p, &ev, ALERT_EVENT_FIRING, p->alert_id, p->since_us);
		p->last_sent_us = p->now_us;
		rc = pair_notify(c, pp, p, &ev, k < 1 ? 1 : k, owner, out, err, errlen);
		if (rc == 0)
			rc = pair_write(c, pp, p, NULL, ev.value, p->since_us, err, errlen);
	} else {
		return 0;
	}
	alert_event_clear(&ev);
	return rc;
}

/* --- the ops ------------------------------------------------------------------- */

/* The rule's settings and event of fo in place of those read from the row. */
static void pair_settings(struct pair *p, const struct store_fleet_op *fo)
{
	p->min_locations = fo->min_locations < 1 ? 1 : fo->min_locations;
	p->interval_us = fo->interval_us;
	p->repeat_us = fo->repeat_us;
	for (size_t i = 0; i < p->n_notify; i++)
		free(p->notify[i]);
	free(p->notify);
	p->notify = xcalloc(fo->n_notify + 1, sizeof(*p->notify));
	for (p->n_notify = 0; p->n_notify < fo->n_notify; p->n_notify++)
		p->notify[p->n_notify] = xstrdup(fo->notify[p->n_notify]);
	if (fo->has_event) {
		if (p->has_event)
			alert_event_clear(&p->event);
		alert_event_copy(&p->event, &fo->event);
		p->has_event = true;
	}
}

/* ok <-> pending of a location: the shown state and a history line. */
static int apply_pending(PGconn *c, struct pg_params *pp, const struct store_fleet_op *fo,
                         char *err, size_t errlen)
{
	int64_t now_us = util_wall_us();
	PGresult *r;
	bool changed;

	pg_params_text(pp, fo->rule);
	pg_params_text(pp, fo->check);
	pg_params_text(pp, alert_state_name(fo->to));
	pg_params_int(pp, now_us);
	pg_params_clean_text(pp, fo->value);
	r = run(c, pp, pending_sql, "alert state", err, errlen);
	if (r == NULL)
		return -1;
	changed = strcmp(PQcmdTuples(r), "1") == 0;
	PQclear(r);
	if (!changed)
		return 0;       /* the fleet's alert is firing: that is what shows */
	pg_params_text(pp, fo->rule);
	pg_params_text(pp, fo->check);
	pg_params_text(pp, NULL);
	pg_params_text(pp, alert_state_name(fo->from));
	pg_params_text(pp, alert_state_name(fo->to));
	pg_params_int(pp, now_us);
	pg_params_clean_text(pp, fo->value);
	return run_done(c, pp, pg_alert_history_insert_sql, "alert history", err, errlen);
}

/* A condition change: the condition, the pair's settings, then the decision. */
static int apply_condition(struct pg_fleet *f, PGconn *c, struct pg_params *pp,
                           struct store_op *o, char *err, size_t errlen)
{
	struct store_fleet_op *fo = o->fleet;
	struct pair p = { .rule = fo->rule, .check = fo->check };
	char *notify = notify_to_json(fo->notify, fo->n_notify);
	char *ev = fo->has_event ? event_to_text(&fo->event) : NULL;
	int rc;

	util_strlcpy(f->owner, fo->location, sizeof(f->owner));
	if (fo->pending_only) {
		free(notify);
		free(ev);
		return apply_pending(c, pp, fo, err, errlen);
	}
	pg_params_text(pp, fo->rule);
	pg_params_text(pp, fo->check);
	pg_params_text(pp, fo->location);
	pg_params_bool(pp, fo->firing);
	pg_params_clean_text(pp, fo->value);
	rc = run_done(c, pp, condition_sql, "fleet condition", err, errlen);
	if (rc == 0)
		rc = pair_lock(c, pp, &p, err, errlen);
	if (rc == 0) {
		pg_params_text(pp, fo->rule);
		pg_params_text(pp, fo->check);
		pg_params_int(pp, fo->min_locations < 1 ? 1 : fo->min_locations);
		pg_params_int(pp, fo->interval_us);
		pg_params_int(pp, fo->repeat_us);
		pg_params_text(pp, notify);
		pg_params_text(pp, ev);
		rc = run_done(c, pp, settings_sql, "fleet alert settings", err, errlen);
	}
	/* The settings of this op are what the decision uses. */
	if (rc == 0)
		pair_settings(&p, fo);
	if (rc == 0)
		rc = pair_locations(c, pp, &p, fo->location, err, errlen);
	if (rc == 0)
		rc = pair_decide(c, pp, &p, fo->location, &o->tx, err, errlen);
	o->episode = p.episode;
	pair_clear(&p);
	free(notify);
	free(ev);
	return rc;
}

/* Re-decides the firing pairs nobody else is deciding right now. */
static int apply_sweep(struct pg_fleet *f, PGconn *c, struct pg_params *pp, struct store_op *o,
                       char *err, size_t errlen)
{
	PGresult *r;
	int rc = 0;

	if (o->owner[0])
		util_strlcpy(f->owner, o->owner, sizeof(f->owner));
	r = run(c, pp, sweep_sql, "fleet sweep", err, errlen);
	if (r == NULL)
		return -1;
	for (int i = 0; i < PQntuples(r) && rc == 0; i++) {
		struct pair p = { .rule = pg_text(r, i, 0), .check = pg_text(r, i, 1) };

		rc = pair_lock(c, pp, &p, err, errlen);
		if (rc == 0)
			rc = pair_locations(c, pp, &p, o->owner, err, errlen);
		if (rc == 0)
			rc = pair_decide(c, pp, &p, o->owner, &o->tx, err, errlen);
		pair_clear(&p);
	}
	PQclear(r);
	return rc;
}

static int row_by_id(const void *a, const void *b)
{
	const struct outbox_row *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

/* Appends the notifications of r (PG_OUTBOX_COLUMNS) to tx. */
static void rows_append(struct outbox_tx *tx, const PGresult *r)
{
	tx->rows = xrealloc(tx->rows, (tx->n_rows + (size_t)PQntuples(r) + 1) * sizeof(*tx->rows));
	for (int i = 0; i < PQntuples(r); i++) {
		if (pg_outbox_row_from(r, i, &tx->rows[tx->n_rows]) != 0) {
			log_error("store: notification with an unreadable event skipped",
			          "notification_id", pg_text(r, i, 0));
			continue;
		}
		tx->n_rows++;
	}
}

/* Renews this agent's leases and claims expired ones into o->tx.rows. */
static int apply_leases(struct pg_fleet *f, PGconn *c, struct pg_params *pp,
                        struct store_op *o, char *err, size_t errlen)
{
	PGresult *r;

	util_strlcpy(f->owner, o->owner, sizeof(f->owner));
	pg_params_text(pp, o->owner);
	if (run_done(c, pp, seen_sql, "fleet agent", err, errlen) != 0)
		return -1;
	pg_params_text(pp, o->owner);
	r = run(c, pp, renew_sql, "notification leases", err, errlen);
	if (r == NULL)
		return -1;
	rows_append(&o->tx, r);
	PQclear(r);
	pg_params_text(pp, o->owner);
	pg_params_bool(pp, o->adopt_own);
	pg_params_text(pp, o->note_message ? o->note_message : "[]");
	r = run(c, pp, claim_sql, "notification claim", err, errlen);
	if (r == NULL)
		return -1;
	rows_append(&o->tx, r);
	PQclear(r);
	/* RETURNING keeps no order; delivery wants the oldest first. */
	qsort(o->tx.rows, o->tx.n_rows, sizeof(*o->tx.rows), row_by_id);
	return 0;
}

static int by_pair(const void *a, const void *b)
{
	const struct store_fleet_op *x = (*(struct store_op *const *)a)->fleet;
	const struct store_fleet_op *y = (*(struct store_op *const *)b)->fleet;
	int d = strcmp(x->rule, y->rule);

	if (d == 0)
		d = strcmp(x->check, y->check);
	/* Same pair: queue order (seq), so the conditions apply in order. */
	if (d == 0) {
		uint64_t sx = (*(struct store_op *const *)a)->seq, sy = (*(struct store_op *const *)b)->seq;

		d = sx < sy ? -1 : sx > sy;
	}
	return d;
}

int pg_fleet_begin(struct pg_fleet *f, PGconn *c, struct store_op *ops, char *err, size_t errlen)
{
	bool any = false;

	f->n_sorted = 0;
	for (struct store_op *o = ops; o != NULL; o = o->next) {
		if (o->type != STORE_OP_FLEET && o->type != STORE_OP_FLEET_SWEEP &&
		    o->type != STORE_OP_LEASES)
			continue;
		any = true;
		/* A retried commit starts over: nothing of the failed one counts. */
		outbox_tx_clear(&o->tx);
		o->episode = 0;
		if (o->type != STORE_OP_FLEET)
			continue;
		if (f->n_sorted == f->cap_sorted) {
			f->cap_sorted = f->cap_sorted ? f->cap_sorted * 2 : 16;
			f->sorted = xrealloc(f->sorted, f->cap_sorted * sizeof(*f->sorted));
		}
		f->sorted[f->n_sorted++] = o;
	}
	if (f->n_sorted > 1)
		qsort(f->sorted, f->n_sorted, sizeof(*f->sorted), by_pair);
	/* A partitioned agent may hold a pair's lock until its connection dies:
	 * wait a bounded time, then retry the batch. */
	return any ? pg_exec(c, "SET LOCAL lock_timeout = '5s'", "fleet", err, errlen) : 0;
}

int pg_fleet_apply(struct pg_fleet *f, PGconn *c, struct pg_params *p, struct store_op *o,
                   char *err, size_t errlen)
{
	switch (o->type) {
	case STORE_OP_FLEET:
		return apply_condition(f, c, p, o, err, errlen);
	case STORE_OP_FLEET_SWEEP:
		return apply_sweep(f, c, p, o, err, errlen);
	case STORE_OP_LEASES:
		return apply_leases(f, c, p, o, err, errlen);
	default:
		return 0;
	}
}

void pg_fleet_free(struct pg_fleet *f)
{
	free(f->sorted);
	memset(f, 0, sizeof(*f));
}

/* --- reading ------------------------------------------------------------------- */

int pg_fleet_pairs(struct store_reader *base, const char *location, struct store_fleet_pair **out,
                   size_t *n)
{
	static const char sql[] =
		"SELECT coalesce(a.rule, c.rule), coalesce(a.check_name, c.check_name),"
		" coalesce(a.state, 'ok') = 'firing', coalesce(a.episode, 0), c.firing, c.value,"
		" (extract(epoch FROM c.updated_at) * 1000000)::bigint"
		" FROM fleet_alerts a FULL JOIN (SELECT * FROM fleet_conditions WHERE location = $1) c"
		" ON a.rule = c.rule AND a.check_name = c.check_name"
		/* strcmp order; the expressions, since "1 COLLATE" is the integer 1 */
		" ORDER BY coalesce(a.rule, c.rule) COLLATE \"C\","
		" coalesce(a.check_name, c.check_name) COLLATE \"C\"";
	struct pg_params p = { 0 };
	PGresult *r;
	struct store_fleet_pair *v;

	pg_params_text(&p, location);
	r = pg_read((struct pg_reader *)base, sql, &p, "the fleet's alerts");
	pg_params_free(&p);
	if (r == NULL)
		return -1;
	v = xcalloc((size_t)PQntuples(r) + 1, sizeof(*v));
	for (int i = 0; i < PQntuples(r); i++) {
		v[i].rule = xstrdup(pg_text(r, i, 0));
		v[i].check = xstrdup(pg_text(r, i, 1));
		v[i].fleet_firing = pg_bool(r, i, 2);
		v[i].episode = pg_int(r, i, 3, 0);
		v[i].own = PQgetisnull(r, i, 4) ? -1 : pg_bool(r, i, 4) ? 1 : 0;
		v[i].own_value = PQgetisnull(r, i, 5) ? NULL : xstrdup(pg_text(r, i, 5));
		v[i].own_since_us = pg_int(r, i, 6, 0);
	}
	*out = v;
	*n = (size_t)PQntuples(r);
	PQclear(r);
	return 0;
}

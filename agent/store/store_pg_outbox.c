/* store_pg_outbox.c — inserting one notification row on PostgreSQL, for a
 * plain alert unit (store_pg.c) and a fleet decision (fleet_alert_pg.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "alerts/alert.h"
#include "store/store_pg_outbox.h"

/* A row created by a fleet decision is leased to its agent ($15), unless
 * an agent holds an undelivered older row of the same alert and notifier:
 * then to that one, so the order per alert stays in one agent's queue (a
 * resolve never overtakes its trigger). One of a plain alert unit is not
 * leased ($15 NULL). */
static const char notif_insert_sql[] =
	"INSERT INTO notifications (key, notifier, rule, check_name, alert_id, kind, event,"
	" state, attempts, created_us, next_attempt_us, last_error, delivered_us, seq,"
	" lease_owner, lease_until)"
	" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14,"
	" CASE WHEN $15::text IS NULL THEN NULL ELSE coalesce((SELECT o.lease_owner"
	" FROM notifications o WHERE o.state = 'pending' AND o.notifier = $2 AND o.rule = $3"
	" AND o.check_name = $4 AND o.lease_until >= now() ORDER BY o.id DESC LIMIT 1), $15) END,"
	" CASE WHEN $15::text IS NULL THEN NULL ELSE now() + interval '" PG_LEASE_S " seconds' END)"
	" ON CONFLICT (key) DO NOTHING RETURNING id, lease_owner";
const char pg_alert_state_upsert_sql[] =
	"INSERT INTO alert_state (rule, check_name, state, since_us, fired_us, last_sent_us,"
	" alert_id, value) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
	" ON CONFLICT (rule, check_name) DO UPDATE SET state = excluded.state,"
	" since_us = excluded.since_us, fired_us = excluded.fired_us,"
	" last_sent_us = excluded.last_sent_us, alert_id = excluded.alert_id,"
	" value = excluded.value";
const char pg_alert_history_insert_sql[] =
	"INSERT INTO alert_history (rule, check_name, alert_id, from_state, to_state, ts_us, value)"
	" VALUES ($1, $2, $3, $4, $5, $6, $7)";

static const char *event_kind_name(enum alert_event_kind k)
{
	return k == ALERT_EVENT_RESOLVED ? "resolved" : k == ALERT_EVENT_TEST ? "test" : "firing";
}

int pg_insert_notification(PGconn *c, struct pg_params *p, const struct outbox_row *r,
                           const char *lease_owner, int64_t *id, char *err, size_t errlen)
{
	json_t *j = alert_event_to_json(&r->event);
	char *ev = json_dumps(j, JSON_COMPACT);
	PGresult *res;

	json_decref(j);
	if (ev == NULL) {
		snprintf(err, errlen, "notification: cannot serialise the event");
		return -1;
	}
	pg_params_text(p, r->key);
	pg_params_text(p, r->notifier);
	pg_params_text(p, r->event.rule);
	pg_params_text(p, r->event.check);
	pg_params_clean_text(p, r->event.alert_id);
	pg_params_text(p, event_kind_name(r->event.kind));
	pg_params_text(p, ev);
	pg_params_text(p, outbox_state_name(r->state));
	pg_params_int(p, r->attempts);
	pg_params_int(p, r->created_us);
	pg_params_int(p, r->next_attempt_us);
	pg_params_clean_text(p, r->last_error);
	pg_params_opt_int(p, r->delivered_us, 0);
	pg_params_int(p, r->seq);
	pg_params_text(p, lease_owner);
	res = pg_query(c, notif_insert_sql, p, "notification", err, errlen);
	pg_params_clear(p);
	free(ev);
	if (res == NULL)
		return -1;
	/* ON CONFLICT DO NOTHING returns no row: a key seen before is not queued
	 * twice; a row leased to another agent is that agent's to send. */
	*id = PQntuples(res) == 1 ? pg_int(res, 0, 0, 0) : 0;
	if (*id > 0 && lease_owner != NULL && strcmp(pg_text(res, 0, 1), lease_owner) != 0)
		*id = -1;
	PQclear(res);
	return 0;
}

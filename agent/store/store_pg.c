/* store_pg.c — the PostgreSQL implementation of the store, writer side: one
 * connection (libpq) that writes each batch — a multi-row INSERT of the
 * results into their day partitions, the minute rollups, every alert and
 * outbox operation, and the incidents the results open, grow or close
 * (store_pg_incident.c) — in one transaction, and reconnects when the server
 * went away. The queue, the retries with backoff and the bound on what is
 * kept meanwhile are shared (store.c); reads are in store_pg_read.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/database.h"
#include "core/log.h"
#include "core/util.h"
#include "store/store_pg.h"

#define RESULT_COLS 17

/* The writer connection. */
struct pg_conn {
	struct store_conn base;
	PGconn *c;
	char display[512];          /* the URI without password */
	bool was_down;              /* the last attempt found the server gone */
	struct pg_days days;        /* results partitions known to exist */
	struct pg_rollup *rollup;
	struct pg_incidents *incidents;
	struct pg_retention retention;
	struct pg_params p;
	struct pg_fleet fleet;      /* this agent in the fleet (fleet_alert_pg.c) */
};

static const char results_insert_head[] =
	"INSERT INTO results (check_name, ts_us, duration_us, ok, error, message, dns_us,"
	" connect_us, tls_us, ttfb_us, status_code, bytes, cert_expiry, attempts, run_id, details,"
	" location) VALUES ";

/* fleet_latest (the fleet's view, SPEC §6) from the same INSERT: one
 * statement per batch, the newest row per (check, location) of the batch, and
 * only over an older one (a result buffered while the database was away must
 * not hide a newer one). txid lets readers fetch only what changed
 * (store_fleet_latest). */
static const char fleet_latest_head[] = "WITH ins AS (";
static const char fleet_latest_tail[] =
	" RETURNING check_name, location, ts_us, ok, error, message, duration_us, run_id)"
	" INSERT INTO fleet_latest (check_name, location, ts_us, ok, error, message, duration_us,"
	" run_id) SELECT DISTINCT ON (check_name, location) * FROM ins"
	" ORDER BY check_name, location, ts_us DESC"
	" ON CONFLICT (check_name, location) DO UPDATE SET ts_us = excluded.ts_us,"
	" ok = excluded.ok, error = excluded.error, message = excluded.message,"
	" duration_us = excluded.duration_us, run_id = excluded.run_id, txid = txid_current()"
	" WHERE excluded.ts_us > fleet_latest.ts_us";

/* --- alerts and the outbox ------------------------------------------------------ */

static const char state_delete_sql[] = "DELETE FROM alert_state WHERE rule = $1 AND check_name = $2";
/* Progress renews the lease of the agent holding the row ($7: this agent;
 * NULL off a fleet). */
static const char notif_update_sql[] =
	"UPDATE notifications SET state = $2, attempts = $3, next_attempt_us = $4,"
	" last_error = $5, delivered_us = $6, lease_until = CASE WHEN lease_owner = $7"
	" THEN now() + interval '" PG_LEASE_S " seconds' ELSE lease_until END WHERE id = $1";
/* A requeued row is leased to the agent that sends it again ($3; NULL off a
 * fleet). */
static const char notif_requeue_sql[] =
	"UPDATE notifications SET state = 'pending', attempts = 0, next_attempt_us = $2,"
	" created_us = $2, last_error = NULL, lease_owner = coalesce($3, lease_owner),"
	" lease_until = CASE WHEN $3::text IS NULL THEN lease_until"
	" ELSE now() + interval '" PG_LEASE_S " seconds' END WHERE id = $1 AND state = 'dead'";

/* Runs sql with s->p, then empties s->p. Returns the result or NULL (err). */
static PGresult *run(struct pg_conn *s, const char *sql, const char *what, char *err,
                     size_t errlen)
{
	PGresult *r = pg_query(s->c, sql, &s->p, what, err, errlen);

	pg_params_clear(&s->p);
	return r;
}

static int run_done(struct pg_conn *s, const char *sql, const char *what, char *err,
                    size_t errlen)
{
	PGresult *r = run(s, sql, what, err, errlen);

	PQclear(r);
	return r != NULL ? 0 : -1;
}

static int apply_states(struct pg_conn *s, const struct store_op *o, char *err, size_t errlen)
{
	for (size_t i = 0; i < o->tx.n_states; i++) {
		const struct alert_state_row *a = &o->tx.states[i];

		pg_params_text(&s->p, a->rule);
		pg_params_text(&s->p, a->check);
		if (a->gone) {
			if (run_done(s, state_delete_sql, "alert state", err, errlen) != 0)
				return -1;
			continue;
		}
		pg_params_text(&s->p, alert_state_name(a->state));
		pg_params_int(&s->p, a->since_us);
		pg_params_int(&s->p, a->fired_us);
		pg_params_int(&s->p, a->last_sent_us);
		pg_params_clean_text(&s->p, a->alert_id);
		pg_params_clean_text(&s->p, a->value);
		if (run_done(s, pg_alert_state_upsert_sql, "alert state", err, errlen) != 0)
			return -1;
	}
	return 0;
}

/* Applies one alert unit inside the open transaction; fills o->ids. */
static int apply_alert(struct pg_conn *s, struct store_op *o, char *err, size_t errlen)
{
	if (apply_states(s, o, err, errlen) != 0)
		return -1;
	free(o->ids);
	o->ids = xcalloc(o->tx.n_rows + 1, sizeof(*o->ids));
	o->n_ids = o->tx.n_rows;
	for (size_t i = 0; i < o->tx.n_rows; i++)
		if (pg_insert_notification(s->c, &s->p, &o->tx.rows[i], NULL, &o->ids[i], err,
		                           errlen) != 0)
			return -1;
	for (size_t i = 0; i < o->tx.n_history; i++) {
		const struct alert_history_row *h = &o->tx.history[i];

		pg_params_text(&s->p, h->rule);
		pg_params_text(&s->p, h->check);
		pg_params_clean_text(&s->p, h->alert_id);
		pg_params_text(&s->p, h->from_state ? h->from_state : "ok");
		pg_params_text(&s->p, h->to_state ? h->to_state : "ok");
		pg_params_int(&s->p, h->ts_us);
		pg_params_clean_text(&s->p, h->value);
		if (run_done(s, pg_alert_history_insert_sql, "alert history", err, errlen) != 0)
			return -1;
	}
	return 0;
}

/* Applies one queued operation inside the open transaction. */
static int apply_op(struct pg_conn *s, struct store_op *o, char *err, size_t errlen)
{
	PGresult *r;

	switch (o->type) {
	case STORE_OP_ALERT:
		return apply_alert(s, o, err, errlen);
	case STORE_OP_UPDATE:
		pg_params_int(&s->p, o->upd.id);
		pg_params_text(&s->p, outbox_state_name(o->upd.state));
		pg_params_int(&s->p, o->upd.attempts);
		pg_params_int(&s->p, o->upd.next_attempt_us);
		pg_params_clean_text(&s->p, o->upd.last_error);
		pg_params_opt_int(&s->p, o->upd.delivered_us, 0);
		pg_params_text(&s->p, s->fleet.owner[0] ? s->fleet.owner : NULL);
		return run_done(s, notif_update_sql, "notification update", err, errlen);
	case STORE_OP_REQUEUE:
		pg_params_int(&s->p, o->upd.id);
		pg_params_int(&s->p, o->now_us);
		pg_params_text(&s->p, s->fleet.owner[0] ? s->fleet.owner : NULL);
		r = run(s, notif_requeue_sql, "notification requeue", err, errlen);
		if (r == NULL)
			return -1;
		store_op_set_one_id(o, strcmp(PQcmdTuples(r), "1") == 0);
		PQclear(r);
		return 0;
	case STORE_OP_INCIDENT_UPDATE:
		return pg_incident_note(s->c, o, err, errlen);
	case STORE_OP_FLEET:
	case STORE_OP_FLEET_SWEEP:
	case STORE_OP_LEASES:
		return pg_fleet_apply(&s->fleet, s->c, &s->p, o, err, errlen);
	}
	return 0;
}

/* --- results ---------------------------------------------------------------------- */

/* Adds the RESULT_COLS parameters of w. */
static void params_row(struct pg_params *p, const struct store_row *w)
{
	pg_params_text(p, w->check);
	pg_params_int(p, w->ts_us);
	pg_params_int(p, w->duration_us);
	pg_params_bool(p, w->ok);
	pg_params_text(p, w->error);
	pg_params_clean_text(p, w->message ? w->message : "");
	pg_params_opt_int(p, w->dns_us, -1);
	pg_params_opt_int(p, w->connect_us, -1);
	pg_params_opt_int(p, w->tls_us, -1);
	pg_params_opt_int(p, w->ttfb_us, -1);
	pg_params_opt_int(p, w->status_code, -1);
	pg_params_opt_int(p, w->bytes, -1);
	pg_params_opt_int(p, w->cert_expiry, 0);
	pg_params_int(p, w->attempts);
	pg_params_clean_text(p, w->run_id);
	pg_params_text(p, w->details);
	pg_params_clean_text(p, w->location ? w->location : "");
}

/* One multi-row INSERT of the n rows (n <= the shared BATCH_MAX, well under
 * PostgreSQL's 65,535 parameters) that also upserts fleet_latest, adding
 * each row to the rollup writer. */
static int insert_results(struct pg_conn *s, const struct store_row *rows, size_t n, char *err,
                          size_t errlen)
{
	const struct store_row *w = rows;
	char *values, *sql;
	int rc;

	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++, w = w->next) {
		params_row(&s->p, w);
		pg_rollup_add(s->rollup, w->check, w->ts_us, w->duration_us, w->ok);
	}
	values = pg_values_sql(n, RESULT_COLS, 1);
	sql = xasprintf("%s%s%s%s", fleet_latest_head, results_insert_head, values,
	                fleet_latest_tail);
	rc = run_done(s, sql, "insert", err, errlen);
	free(values);
	free(sql);
	return rc;
}

/* --- the batch -------------------------------------------------------------------- */

/* Reconnects when the connection broke (the shared writer's backoff paces
 * the attempts); logs the way back. Returns 0 or -1 with err. */
static int pg_writer_ready(struct pg_conn *s, char *err, size_t errlen)
{
	if (PQstatus(s->c) == CONNECTION_OK)
		return 0;
	if (pg_ensure(s->c, s->display, err, errlen) != 0) {
		s->was_down = true;
		return -1;
	}
	if (s->was_down)
		log_info("store: reconnected to PostgreSQL", "database", s->display);
	s->was_down = false;
	return 0;
}

/* Writes the n results from rows and every op in one transaction: all or
 * nothing. Writer thread only. Returns 0, or -1 with err (rolled back). */
static int pg_commit(struct store_conn *base, const struct store_row *rows, size_t n,
                     struct store_op *ops, char *err, size_t errlen)
{
	struct pg_conn *s = (struct pg_conn *)base;

	if (pg_writer_ready(s, err, errlen) != 0)
		return -1;
	pg_params_clear(&s->p);
	pg_rollup_begin(s->rollup);
	if (pg_exec(s->c, "BEGIN", "begin", err, errlen) != 0)
		goto fail;
	if (pg_fleet_begin(&s->fleet, s->c, ops, err, errlen) != 0)
		goto fail;
	/* Fleet conditions first, in (rule, check) order: two agents lock
	 * their pairs in the same order and cannot deadlock. */
	for (size_t i = 0; i < s->fleet.n_sorted; i++)
		if (apply_op(s, s->fleet.sorted[i], err, errlen) != 0)
			goto fail;
	for (struct store_op *o = ops; o != NULL; o = o->next)
		if (o->type != STORE_OP_FLEET && apply_op(s, o, err, errlen) != 0)
			goto fail;
	if (pg_partitions_for_rows(s->c, &s->days, rows, n, err, errlen) != 0 ||
	    insert_results(s, rows, n, err, errlen) != 0 ||
	    pg_incidents_apply(s->incidents, s->c, rows, n, err, errlen) != 0 ||
	    pg_rollup_commit(s->rollup, s->c, util_wall_us(), err, errlen) != 0)
		goto fail;
	if (pg_exec(s->c, "COMMIT", "commit", err, errlen) != 0)
		goto fail;
	return 0;
fail:
	pg_params_clear(&s->p);
	/* Partitions created in the rolled back transaction are gone again. */
	s->days.n = 0;
	pg_incidents_rolled_back(s->incidents);
	if (PQstatus(s->c) == CONNECTION_OK)
		PQclear(PQexec(s->c, "ROLLBACK"));
	else
		s->was_down = true;
	return -1;
}

/* Connects, migrates, creates the partitions of the next days. */
static struct store_conn *pg_open(const char *uri, char *err, size_t errlen)
{
	struct pg_conn *s;
	char why[300];
	PGconn *c = pg_connect(uri, err, errlen);

	if (c == NULL)
		return NULL;
	s = xcalloc(1, sizeof(*s));
	s->base.ops = &store_pg_ops;
	s->c = c;
	database_display(uri, s->display, sizeof(s->display));
	if (pg_migrate(c, why, sizeof(why)) != 0) {
		snprintf(err, errlen, "cannot open database %s: %s", s->display, why);
		PQfinish(c);
		free(s);
		return NULL;
	}
	s->rollup = pg_rollup_new();
	s->incidents = pg_incidents_new();
	/* The first retention step creates today's partitions and those ahead. */
	pg_retention_step(&s->retention, s->c, &s->days, util_wall_us());
	return &s->base;
}

static void pg_maintain(struct store_conn *base, int64_t now_us)
{
	struct pg_conn *s = (struct pg_conn *)base;

	pg_retention_step(&s->retention, s->c, &s->days, now_us);
}

static void pg_set_retention(struct store_conn *base, uint64_t raw_ms, uint64_t rollups_ms)
{
	struct pg_conn *s = (struct pg_conn *)base;

	__atomic_store_n(&s->retention.raw_ms, raw_ms, __ATOMIC_RELAXED);
	__atomic_store_n(&s->retention.rollups_ms, rollups_ms, __ATOMIC_RELAXED);
}

static void pg_close(struct store_conn *base)
{
	struct pg_conn *s = (struct pg_conn *)base;

	PQfinish(s->c);
	pg_fleet_free(&s->fleet);
	pg_rollup_free(s->rollup);
	pg_incidents_free(s->incidents);
	pg_days_free(&s->days);
	pg_params_free(&s->p);
	free(s);
}

/* A read connection with its ops set: the read part does not know the table. */
static struct store_reader *reader_open(const char *uri, char *err, size_t errlen)
{
	struct store_reader *r = pg_reader_open(uri, err, errlen);

	if (r != NULL)
		r->ops = &store_pg_ops;
	return r;
}

const struct store_ops store_pg_ops = {
	.name = "postgresql",
	.open = pg_open,
	.commit = pg_commit,
	.maintain = pg_maintain,
	.set_retention = pg_set_retention,
	.close = pg_close,
	.reader_open = reader_open,
	.reader_close = pg_reader_close,
	.rollup_source = pg_rollup_source,
	.results = pg_results,
	.durations = pg_durations,
	.latest = pg_latest,
	.runs = pg_runs,
	.outbox_pending = pg_outbox_pending,
	.outbox_get = pg_outbox_get,
	.notifications = pg_notifications,
	.notification_counts = pg_notification_counts,
	.alert_states = pg_alert_states,
	.alert_history = pg_alert_history,
	.incidents = pg_incidents,
	.fleet_latest = pg_fleet_latest,
	.fleet_pairs = pg_fleet_pairs,
};

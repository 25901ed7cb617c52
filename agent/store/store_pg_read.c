/* store_pg_read.c — the PostgreSQL implementation of the store, read side:
 * a connection per reader (one per HTTP thread, one for the agent's start)
 * that reconnects by itself after the server went away, and the queries
 * behind store.h's reads. Reads never wait for the writer: PostgreSQL's MVCC
 * shows them the last committed batch. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json_text.h"
#include "core/database.h"
#include "core/log.h"
#include "core/util.h"
#include "store/store_pg_read.h"

/* --- connections ------------------------------------------------------------ */

struct store_reader *pg_reader_open(const char *uri, char *err, size_t errlen)
{
	struct pg_reader *r;
	PGconn *c = pg_connect(uri, err, errlen);

	if (c == NULL)
		return NULL;
	r = xcalloc(1, sizeof(*r));
	r->c = c;
	database_display(uri, r->display, sizeof(r->display));
	return &r->base;
}

void pg_reader_close(struct store_reader *base)
{
	struct pg_reader *r = (struct pg_reader *)base;

	PQfinish(r->c);
	free(r);
}

int pg_reader_ready(struct pg_reader *r)
{
	char err[400];

	if (pg_ensure(r->c, r->display, err, sizeof(err)) == 0)
		return 0;
	log_error("store: cannot read", "error", err);
	return -1;
}

PGresult *pg_read(struct pg_reader *r, const char *sql, const struct pg_params *p,
                  const char *what)
{
	char err[400], msg[64];
	PGresult *res;

	if (pg_reader_ready(r) != 0)
		return NULL;
	res = pg_query(r->c, sql, p, what, err, sizeof(err));
	/* A connection the server closed (restart, failover) is noticed only
	 * by its first query: reconnect and ask once more. */
	if (res == NULL && PQstatus(r->c) != CONNECTION_OK && pg_reader_ready(r) == 0)
		res = pg_query(r->c, sql, p, what, err, sizeof(err));
	if (res == NULL) {
		snprintf(msg, sizeof(msg), "store: reading %s failed", what);
		log_error(msg, "error", err);
	}
	return res;
}

/* Ends the cursor's transaction; on error after logging what went wrong. */
static int cursor_end(struct pg_reader *r, const char *err, const char *what)
{
	char msg[64];

	if (err != NULL) {
		snprintf(msg, sizeof(msg), "store: reading %s failed", what);
		log_error(msg, "error", err);
		if (PQstatus(r->c) == CONNECTION_OK)
			PQclear(PQexec(r->c, "ROLLBACK"));
		return -1;
	}
	PQclear(PQexec(r->c, "COMMIT"));
	return 0;
}

int pg_read_each(struct pg_reader *r, const char *sql, const struct pg_params *p,
                 const char *what, pg_rows_fn *fn, void *arg)
{
	char err[400];
	char *declare = xasprintf("DECLARE pharos_read NO SCROLL CURSOR FOR %s", sql);
	PGresult *res = pg_read(r, "BEGIN", NULL, what);
	int n;

	if (res == NULL) {
		free(declare);
		return -1;
	}
	PQclear(res);
	res = pg_query(r->c, declare, p, what, err, sizeof(err));
	free(declare);
	if (res == NULL)
		return cursor_end(r, err, what);
	PQclear(res);
	do {
		res = pg_query(r->c, "FETCH " PG_FETCH_ROWS " FROM pharos_read", NULL, what, err,
		               sizeof(err));
		if (res == NULL)
			return cursor_end(r, err, what);
		n = PQntuples(res);
		if (n > 0)
			fn(arg, res);
		PQclear(res);
	} while (n == atoi(PG_FETCH_ROWS));
	return cursor_end(r, NULL, what);
}

/* --- results ------------------------------------------------------------------ */

#define RESULTS_COLUMNS \
	"ts_us, duration_us, ok, error, message, dns_us, connect_us, tls_us," \
	" ttfb_us, status_code, bytes, cert_expiry, attempts, details, run_id, id, location"
#define RESULTS_SELECT \
	"SELECT " RESULTS_COLUMNS \
	" FROM results WHERE check_name = $1 AND ts_us >= $2 AND ts_us < $3" \
	" AND ($4::boolean = false OR NOT ok) ORDER BY ts_us DESC, id DESC LIMIT $5"

/* Row i of a result whose columns from o on are RESULTS_COLUMNS. */
static struct store_raw_result raw_result(const PGresult *r, int i, int o)
{
	return (struct store_raw_result){
		.ts_us = pg_int(r, i, o + 0, 0),
		.duration_us = pg_int(r, i, o + 1, 0),
		.ok = pg_bool(r, i, o + 2),
		.error = pg_text(r, i, o + 3),
		.message = pg_text(r, i, o + 4),
		.dns_us = pg_int(r, i, o + 5, -1),
		.connect_us = pg_int(r, i, o + 6, -1),
		.tls_us = pg_int(r, i, o + 7, -1),
		.ttfb_us = pg_int(r, i, o + 8, -1),
		.status_code = (int)pg_int(r, i, o + 9, -1),
		.bytes = pg_int(r, i, o + 10, -1),
		.cert_expiry = pg_int(r, i, o + 11, 0),
		.attempts = (int)pg_int(r, i, o + 12, 0),
		.details = PQgetisnull(r, i, o + 13) ? NULL : pg_text(r, i, o + 13),
		.run_id = pg_text(r, i, o + 14),
		.location = pg_text(r, i, o + 16),
	};
}

int pg_results(struct store_reader *base, const struct store_query *q, store_raw_fn *fn,
               void *arg)
{
	static const char newest_sql[] = RESULTS_SELECT;
	static const char oldest_sql[] = "SELECT * FROM (" RESULTS_SELECT ") AS r ORDER BY ts_us, id";
	struct pg_params p = { 0 };
	PGresult *r;

	pg_params_text(&p, q->check);
	pg_params_int(&p, q->since_us != 0 ? q->since_us : INT64_MIN);
	pg_params_int(&p, q->until_us != 0 ? q->until_us : INT64_MAX);
	pg_params_bool(&p, q->failed_only);
	pg_params_int(&p, q->limit > 0 ? q->limit : 0);
	r = pg_read((struct pg_reader *)base, q->oldest_first ? oldest_sql : newest_sql, &p,
	            "results");
	pg_params_free(&p);
	if (r == NULL)
		return -1;
	for (int i = 0; i < PQntuples(r); i++) {
		struct store_raw_result row = raw_result(r, i, 0);

		fn(arg, &row);
	}
	PQclear(r);
	return 0;
}

int pg_durations(struct store_reader *base, const char *check, int64_t since_us, int64_t until_us,
                 store_sample_fn *fn, void *arg)
{
	static const char sql[] =
		"SELECT ts_us, duration_us, ok FROM results"
		" WHERE check_name = $1 AND ts_us >= $2 AND ts_us < $3 ORDER BY ts_us";
	struct pg_params p = { 0 };
	PGresult *r;

	pg_params_text(&p, check);
	pg_params_int(&p, since_us);
	pg_params_int(&p, until_us);
	r = pg_read((struct pg_reader *)base, sql, &p, "durations");
	pg_params_free(&p);
	if (r == NULL)
		return -1;
	for (int i = 0; i < PQntuples(r); i++)
		fn(arg, pg_int(r, i, 0, 0), pg_int(r, i, 1, 0), pg_bool(r, i, 2));
	PQclear(r);
	return 0;
}

/* --- the start-up reads ----------------------------------------------------------- */


/* The newest row of each check through the (check_name, ts_us) index of
 * every partition: one index descent per check and partition, planned once. */
int pg_latest(struct store_reader *base, const char *names_json, store_raw_latest_fn *fn,
              void *arg)
{
	static const char sql[] =
		"SELECT c.name, r.* FROM json_array_elements_text($1::json) AS c(name) CROSS JOIN LATERAL"
		" (SELECT " RESULTS_COLUMNS " FROM results WHERE check_name = c.name"
		"  ORDER BY ts_us DESC, id DESC LIMIT 1) AS r";
	struct pg_params p = { 0 };
	PGresult *r;

	pg_params_text(&p, names_json);
	r = pg_read((struct pg_reader *)base, sql, &p, "the checks' last results");
	pg_params_free(&p);
	if (r == NULL)
		return -1;
	for (int i = 0; i < PQntuples(r); i++) {
		struct store_raw_result row = raw_result(r, i, 1);

		fn(arg, pg_text(r, i, 0), &row);
	}
	PQclear(r);
	return 0;
}

struct runs_read {
	store_raw_run_fn *fn;
	void *arg;
};

static void runs_batch(void *arg, const PGresult *res)
{
	struct runs_read *rr = arg;

	for (int i = 0; i < PQntuples(res); i++) {
		struct store_raw_run run = { pg_int(res, i, 1, 0), pg_int(res, i, 2, 0),
		                             pg_bool(res, i, 3), pg_text(res, i, 4) };

		rr->fn(rr->arg, pg_text(res, i, 0), &run);
	}
}

/* Through a cursor: an hour of 30,000 checks every 30 s is 3.6 million rows.
 * A cursor is planned for its first rows: here a walk of the partitions'
 * (check_name, ts_us) index that sorts only the rows of one ts by id (3.2 s
 * for those 3.6 million rows; planned as a plain query, the same SELECT
 * sorted them all, spilling 180 MB to disk, in 13 s). */
int pg_runs(struct store_reader *base, const char *names_json, int64_t since_us,
            store_raw_run_fn *fn, void *arg)
{
	static const char sql[] =
		"SELECT check_name, ts_us, duration_us, ok, error FROM results"
		" WHERE check_name IN (SELECT json_array_elements_text($1::json)) AND ts_us >= $2"
		" ORDER BY check_name, ts_us, id";
	struct pg_params p = { 0 };
	struct runs_read rr = { fn, arg };
	int rc;

	pg_params_text(&p, names_json);
	pg_params_int(&p, since_us);
	rc = pg_read_each((struct pg_reader *)base, sql, &p, "the checks' recent results",
	                  runs_batch, &rr);
	pg_params_free(&p);
	return rc;
}

/* --- alerts and the outbox ------------------------------------------------------ */

#define OUTBOX_COLUMNS PG_OUTBOX_COLUMNS

/* Row row_i of a result, as store_outbox_row_read reads it. */
struct pg_row {
	const PGresult *res;
	int i;
};

static const char *pg_row_text(const void *row, int col)
{
	const struct pg_row *x = row;

	return PQgetisnull(x->res, x->i, col) ? NULL : PQgetvalue(x->res, x->i, col);
}

static int64_t pg_row_int(const void *row, int col)
{
	const struct pg_row *x = row;

	return pg_int(x->res, x->i, col, 0);
}

/* Fills *out from row i of OUTBOX_COLUMNS (store_outbox_row_read). Returns 0,
 * or -1 when the stored event cannot be parsed (out stays zeroed). */
int pg_outbox_row_from(const PGresult *res, int i, struct outbox_row *out)
{
	struct pg_row x = { res, i };
	struct store_cols c = { pg_row_text, pg_row_int, &x };

	return store_outbox_row_read(&c, out);
}

int pg_outbox_pending(struct store_reader *base, struct outbox_row **rows, size_t *n)
{
	static const char sql[] =
		"SELECT " OUTBOX_COLUMNS " FROM notifications WHERE state = 'pending' ORDER BY id";
	PGresult *r = pg_read((struct pg_reader *)base, sql, NULL, "the outbox");
	struct outbox_row *v;
	size_t cnt = 0;

	*rows = NULL;
	*n = 0;
	if (r == NULL)
		return -1;
	v = xcalloc((size_t)PQntuples(r) + 1, sizeof(*v));
	for (int i = 0; i < PQntuples(r); i++) {
		if (pg_outbox_row_from(r, i, &v[cnt]) != 0) {
			log_error("store: notification with an unreadable event skipped",
			          "notification_id", pg_text(r, i, 0));
			continue;
		}
		cnt++;
	}
	PQclear(r);
	*rows = v;
	*n = cnt;
	return 0;
}

int pg_outbox_get(struct store_reader *base, int64_t id, struct outbox_row *out)
{
	static const char sql[] = "SELECT " OUTBOX_COLUMNS " FROM notifications WHERE id = $1";
	struct pg_params p = { 0 };
	PGresult *r;
	int ret;

	memset(out, 0, sizeof(*out));
	pg_params_int(&p, id);
	r = pg_read((struct pg_reader *)base, sql, &p, "a notification");
	pg_params_free(&p);
	if (r == NULL)
		return -1;
	ret = PQntuples(r) == 0 ? 1 : pg_outbox_row_from(r, 0, out) == 0 ? 0 : -1;
	PQclear(r);
	return ret;
}

/* Sets key to the time of column i, or null when 0 / NULL. */
static void set_time_or_null(json_t *o, const char *key, const PGresult *r, int row, int i)
{
	int64_t v = pg_int(r, row, i, 0);

	if (v == 0)
		json_object_set_new(o, key, json_null());
	else
		store_set_time(o, key, v);
}

static json_t *text_or_null(const PGresult *r, int row, int i)
{
	return PQgetisnull(r, row, i) ? json_null() : json_text(pg_text(r, row, i));
}

/* A read whose query takes $1, a text filter (NULL: none), and $2, a row
 * limit (negative: 0). The result, or NULL after logging. */
static PGresult *pg_read_filtered(struct store_reader *base, const char *sql, const char *text,
                                  int limit, const char *what)
{
	struct pg_params p = { 0 };
	PGresult *r;

	pg_params_text(&p, text);
	pg_params_int(&p, limit > 0 ? limit : 0);
	r = pg_read((struct pg_reader *)base, sql, &p, what);
	pg_params_free(&p);
	return r;
}

json_t *pg_notifications(struct store_reader *base, const char *state, int limit)
{
	static const char sql[] =
		"SELECT id, key, notifier, rule, check_name, alert_id, kind, state, attempts,"
		" created_us, next_attempt_us, delivered_us, last_error FROM notifications"
		" WHERE ($1::text IS NULL OR state = $1) ORDER BY id DESC LIMIT $2";
	PGresult *r = pg_read_filtered(base, sql, state, limit, "notifications");
	json_t *arr;

	if (r == NULL)
		return NULL;
	arr = json_array();
	for (int i = 0; i < PQntuples(r); i++) {
		json_t *o = json_object();
		bool pending = strcmp(pg_text(r, i, 7), "pending") == 0;

		json_object_set_new(o, "id", json_integer(pg_int(r, i, 0, 0)));
		json_object_set_new(o, "key", json_text(pg_text(r, i, 1)));
		json_object_set_new(o, "notifier", json_text(pg_text(r, i, 2)));
		json_object_set_new(o, "rule", json_text(pg_text(r, i, 3)));
		json_object_set_new(o, "check", json_text(pg_text(r, i, 4)));
		json_object_set_new(o, "alert_id", text_or_null(r, i, 5));
		json_object_set_new(o, "kind", json_text(pg_text(r, i, 6)));
		json_object_set_new(o, "state", json_text(pg_text(r, i, 7)));
		json_object_set_new(o, "attempts", json_integer(pg_int(r, i, 8, 0)));
		set_time_or_null(o, "created", r, i, 9);
		if (pending)
			set_time_or_null(o, "next_attempt", r, i, 10);
		else
			json_object_set_new(o, "next_attempt", json_null());
		set_time_or_null(o, "delivered", r, i, 11);
		json_object_set_new(o, "last_error", text_or_null(r, i, 12));
		json_array_append_new(arr, o);
	}
	PQclear(r);
	return arr;
}

json_t *pg_notification_counts(struct store_reader *base)
{
	static const char sql[] =
		"SELECT notifier, state, count(*) FROM notifications GROUP BY notifier, state";
	PGresult *r = pg_read((struct pg_reader *)base, sql, NULL, "notification counts");
	json_t *o;

	if (r == NULL)
		return NULL;
	o = json_object();
	for (int i = 0; i < PQntuples(r); i++) {
		const char *n = pg_text(r, i, 0);
		json_t *per = json_object_get(o, n);

		if (per == NULL) {
			per = json_pack("{s:i, s:i, s:i}", "pending", 0, "delivered", 0, "dead", 0);
			json_object_set_new(o, n, per);
		}
		json_object_set_new(per, pg_text(r, i, 1), json_integer(pg_int(r, i, 2, 0)));
	}
	PQclear(r);
	return o;
}

static enum alert_state state_from_name(const char *s)
{
	if (strcmp(s, "pending") == 0)
		return ALERT_PENDING;
	if (strcmp(s, "firing") == 0)
		return ALERT_FIRING;
	return ALERT_OK;
}

int pg_alert_states(struct store_reader *base, struct alert_state_row **rows, size_t *n)
{
	/* COLLATE "C": byte order, as SQLite sorts, whatever the database's locale. */
	static const char sql[] =
		"SELECT rule, check_name, state, since_us, fired_us, last_sent_us, alert_id, value"
		" FROM alert_state ORDER BY rule COLLATE \"C\", check_name COLLATE \"C\"";
	PGresult *r = pg_read((struct pg_reader *)base, sql, NULL, "alert state");
	struct alert_state_row *v;

	*rows = NULL;
	*n = 0;
	if (r == NULL)
		return -1;
	v = xcalloc((size_t)PQntuples(r) + 1, sizeof(*v));
	for (int i = 0; i < PQntuples(r); i++) {
		struct alert_state_row *a = &v[i];

		a->rule = xstrdup(pg_text(r, i, 0));
		a->check = xstrdup(pg_text(r, i, 1));
		a->state = state_from_name(pg_text(r, i, 2));
		a->since_us = pg_int(r, i, 3, 0);
		a->fired_us = pg_int(r, i, 4, 0);
		a->last_sent_us = pg_int(r, i, 5, 0);
		if (!PQgetisnull(r, i, 6))
			a->alert_id = xstrdup(pg_text(r, i, 6));
		if (!PQgetisnull(r, i, 7))
			a->value = xstrdup(pg_text(r, i, 7));
	}
	*n = (size_t)PQntuples(r);
	*rows = v;
	PQclear(r);
	return 0;
}

json_t *pg_alert_history(struct store_reader *base, const char *check, int limit)
{
	static const char sql[] =
		"SELECT rule, check_name, alert_id, from_state, to_state, ts_us, value"
		" FROM alert_history WHERE ($1::text IS NULL OR check_name = $1)"
		" ORDER BY ts_us DESC, id DESC LIMIT $2";
	PGresult *r = pg_read_filtered(base, sql, check, limit, "alert history");
	json_t *arr;

	if (r == NULL)
		return NULL;
	arr = json_array();
	for (int i = 0; i < PQntuples(r); i++) {
		json_t *o = json_object();

		json_object_set_new(o, "rule", json_text(pg_text(r, i, 0)));
		json_object_set_new(o, "check", json_text(pg_text(r, i, 1)));
		json_object_set_new(o, "alert_id", text_or_null(r, i, 2));
		json_object_set_new(o, "from", json_text(pg_text(r, i, 3)));
		json_object_set_new(o, "to", json_text(pg_text(r, i, 4)));
		store_set_time(o, "ts", pg_int(r, i, 5, 0));
		json_object_set_new(o, "value", text_or_null(r, i, 6));
		json_array_append_new(arr, o);
	}
	PQclear(r);
	return arr;
}

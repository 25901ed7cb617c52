/* store_pg_incident.c — incidents in the PostgreSQL store (SPEC §3): the
 * schema, their derivation from each committed batch of results inside the
 * batch's transaction (the rules of store_sqlite_incident.c, planned in
 * memory and written in a statement or two per batch), the admin's status
 * updates, and the read (one query with each incident's updates and alerts). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/log.h"
#include "core/util.h"
#include "store/store_pg_incident.h"
#include "store/store_pg_read.h"

#define SEG_CHUNK 2000          /* incidents per statement: 7 parameters each, far under 65,535 */
#define FIRST_BUCKETS 256       /* the open set's hash table grows by doubling */

/* One open per check at most (the partial unique index); the alerts of an
 * incident are read from alert_history (its index on check_name, ts_us), as
 * on SQLite. */
const char pg_incident_schema_sql[] =
	"CREATE TABLE incidents ("
	" id bigserial PRIMARY KEY,"
	" check_name text NOT NULL,"
	" started_us bigint NOT NULL,"          /* first failed run */
	" ended_us bigint,"                     /* first passing run after it; NULL: open */
	" last_failure_us bigint NOT NULL,"
	" failures bigint NOT NULL,"
	" cause_error text NOT NULL,"           /* of the first failed run */
	" cause_message text NOT NULL);"
	"CREATE UNIQUE INDEX incidents_open ON incidents (check_name) WHERE ended_us IS NULL;"
	"CREATE INDEX incidents_check ON incidents (check_name, started_us);"
	"CREATE INDEX incidents_started ON incidents (started_us);"
	"CREATE TABLE incident_updates ("
	" id bigserial PRIMARY KEY,"
	" incident_id bigint NOT NULL,"
	" ts_us bigint NOT NULL,"
	" status text NOT NULL,"
	" message text NOT NULL);"
	"CREATE INDEX incident_updates_incident ON incident_updates (incident_id, ts_us);";

/* --- the open set ----------------------------------------------------------------- */

/* A check with an open incident, as the writer knows it. */
struct open_entry {
	struct open_entry *next;    /* hash chain */
	char *check;
	int64_t started_us;
	uint64_t gen;               /* the batch whose segment seg is */
	size_t seg;
};

/* What one batch does to one incident. */
struct segment {
	const char *check;          /* the batch row's: valid until commit returns */
	bool is_new;                /* opened by this batch; else the one open before it */
	int64_t started_us;         /* new ones */
	int64_t ended_us;           /* the passing run's ts; 0: stays open */
	int64_t last_failure_us;    /* INT64_MIN: no failure in this batch */
	int64_t failures;           /* added by this batch */
	const char *cause_error, *cause_message;    /* new ones */
};

struct pg_incidents {
	struct open_entry **buckets;
	size_t n_buckets, n_open;
	bool stale;                 /* reload the open set at the next batch */
	uint64_t gen;               /* batches planned */
	struct segment *seg;        /* this batch's, in the order they were first touched */
	size_t n_seg, cap_seg;
	struct pg_params p;
};

struct pg_incidents *pg_incidents_new(void)
{
	struct pg_incidents *x = xcalloc(1, sizeof(*x));

	x->n_buckets = FIRST_BUCKETS;
	x->buckets = xcalloc(x->n_buckets, sizeof(*x->buckets));
	x->stale = true;
	return x;
}

static void open_clear(struct pg_incidents *x)
{
	for (size_t i = 0; i < x->n_buckets; i++)
		while (x->buckets[i] != NULL) {
			struct open_entry *e = x->buckets[i];

			x->buckets[i] = e->next;
			free(e->check);
			free(e);
		}
	x->n_open = 0;
}

void pg_incidents_free(struct pg_incidents *x)
{
	if (x == NULL)
		return;
	open_clear(x);
	free(x->buckets);
	free(x->seg);
	pg_params_free(&x->p);
	free(x);
}

void pg_incidents_rolled_back(struct pg_incidents *x)
{
	x->stale = true;
}

/* The link that points at check's entry, or the NULL link ending its chain. */
static struct open_entry **open_slot(struct pg_incidents *x, const char *check)
{
	struct open_entry **l = &x->buckets[util_hash64(check) & (x->n_buckets - 1)];

	while (*l != NULL && strcmp((*l)->check, check) != 0)
		l = &(*l)->next;
	return l;
}

/* Doubles the table when it holds more entries than buckets. */
static void open_grow(struct pg_incidents *x)
{
	struct open_entry **old = x->buckets;
	size_t n_old = x->n_buckets;

	if (x->n_open < x->n_buckets)
		return;
	x->n_buckets *= 2;
	x->buckets = xcalloc(x->n_buckets, sizeof(*x->buckets));
	for (size_t i = 0; i < n_old; i++)
		while (old[i] != NULL) {
			struct open_entry *e = old[i];
			struct open_entry **b = &x->buckets[util_hash64(e->check) & (x->n_buckets - 1)];

			old[i] = e->next;
			e->next = *b;
			*b = e;
		}
	free(old);
}

/* Adds check (not in the set) as open since started_us. */
static struct open_entry *open_add(struct pg_incidents *x, const char *check, int64_t started_us)
{
	struct open_entry *e = xcalloc(1, sizeof(*e));
	struct open_entry **b;

	open_grow(x);
	b = &x->buckets[util_hash64(check) & (x->n_buckets - 1)];
	e->check = xstrdup(check);
	e->started_us = started_us;
	e->next = *b;
	*b = e;
	x->n_open++;
	return e;
}

/* Reads the open incidents into the set, inside the batch's transaction. */
static int open_load(struct pg_incidents *x, PGconn *c, char *err, size_t errlen)
{
	PGresult *r = pg_query(c, "SELECT check_name, started_us FROM incidents"
	                          " WHERE ended_us IS NULL", NULL, "incidents", err, errlen);

	if (r == NULL)
		return -1;
	open_clear(x);
	for (int i = 0; i < PQntuples(r); i++)
		open_add(x, pg_text(r, i, 0), pg_int(r, i, 1, 0));
	PQclear(r);
	x->stale = false;
	return 0;
}

/* --- planning a batch --------------------------------------------------------------- */

static struct segment *segment_push(struct pg_incidents *x, const char *check, bool is_new)
{
	struct segment *g;

	if (x->n_seg == x->cap_seg) {
		x->cap_seg = x->cap_seg ? x->cap_seg * 2 : 64;
		x->seg = xrealloc(x->seg, x->cap_seg * sizeof(*x->seg));
	}
	g = &x->seg[x->n_seg++];
	memset(g, 0, sizeof(*g));
	g->check = check;
	g->is_new = is_new;
	g->last_failure_us = INT64_MIN;
	return g;
}

/* The segment of e's incident in this batch (made on first touch). */
static struct segment *segment_of(struct pg_incidents *x, struct open_entry *e, const char *check)
{
	if (e->gen != x->gen) {
		segment_push(x, check, false);
		e->gen = x->gen;
		e->seg = x->n_seg - 1;
	}
	return &x->seg[e->seg];
}

/* One row's effect, as apply_row() of store_sqlite_incident.c: a failure
 * counts in the open incident, else opens one unless blocked; a pass closes
 * the open one unless that started after it. */
static void plan_row(struct pg_incidents *x, const struct store_row *w)
{
	struct open_entry **slot = open_slot(x, w->check);
	struct open_entry *e = *slot;
	struct segment *g;

	if (!w->ok && e != NULL) {
		g = segment_of(x, e, w->check);
		g->failures++;
		if (w->ts_us > g->last_failure_us)
			g->last_failure_us = w->ts_us;
	} else if (!w->ok && !w->blocked) {
		e = open_add(x, w->check, w->ts_us);
		g = segment_push(x, w->check, true);
		e->gen = x->gen;
		e->seg = x->n_seg - 1;
		g->started_us = w->ts_us;
		g->last_failure_us = w->ts_us;
		g->failures = 1;
		g->cause_error = w->error ? w->error : "";
		g->cause_message = w->message ? w->message : "";
	} else if (w->ok && e != NULL && e->started_us <= w->ts_us) {
		segment_of(x, e, w->check)->ended_us = w->ts_us;
		*slot = e->next;
		free(e->check);
		free(e);
		x->n_open--;
	}
}

/* --- writing a batch ------------------------------------------------------------------ */

/* One statement around a VALUES list. */
struct values_sql {
	const char *head, *tail;
	size_t cols;                /* parameters per row */
};

/* Runs s with the n rows gathered in x->p; *changed gets the rows it
 * touched. Empties x->p. */
static int run_values(struct pg_incidents *x, PGconn *c, const struct values_sql *s, size_t n,
                      int64_t *changed, char *err, size_t errlen)
{
	char *values = pg_values_sql(n, s->cols, 1);
	char *sql = xasprintf("%s%s%s", s->head, values, s->tail);
	PGresult *r = pg_query(c, sql, &x->p, "incidents", err, errlen);

	free(values);
	free(sql);
	pg_params_clear(&x->p);
	if (r == NULL)
		return -1;
	*changed = atoll(PQcmdTuples(r));
	PQclear(r);
	return 0;
}

/* The incidents open before the batch: failures added, last failure moved,
 * closed. VALUES' parameters are text, hence the casts. */
static const struct values_sql update_sql = {
	"UPDATE incidents AS i SET failures = i.failures + v.failures::bigint,"
	" last_failure_us = GREATEST(i.last_failure_us, v.last_failure_us::bigint),"
	" ended_us = v.ended_us::bigint FROM (VALUES ",
	") AS v(check_name, failures, last_failure_us, ended_us)"
	" WHERE i.check_name = v.check_name AND i.ended_us IS NULL", 4
};

/* The incidents the batch opened (some closed again in it). */
static const struct values_sql insert_sql = {
	"INSERT INTO incidents (check_name, started_us, ended_us, last_failure_us, failures,"
	" cause_error, cause_message) VALUES ", "", 7
};

/* Runs the k segments of kind is_new gathered in x->p. Every one must
 * change a row: an UPDATE that misses an incident the set holds means the
 * set is wrong, so the batch fails and the next attempt reloads it. */
static int flush_segments(struct pg_incidents *x, PGconn *c, bool is_new, size_t k, char *err,
                          size_t errlen)
{
	int64_t changed;

	if (k == 0)
		return 0;
	if (run_values(x, c, is_new ? &insert_sql : &update_sql, k, &changed, err, errlen) != 0)
		return -1;
	if (changed != (int64_t)k) {
		snprintf(err, errlen, "incidents: %lld of %zu open incidents found; reading them again",
		         (long long)changed, k);
		return -1;
	}
	return 0;
}

/* Writes the segments of kind is_new, SEG_CHUNK per statement. */
static int write_segments(struct pg_incidents *x, PGconn *c, bool is_new, char *err,
                          size_t errlen)
{
	size_t k = 0;

	for (size_t i = 0; i < x->n_seg; i++) {
		const struct segment *g = &x->seg[i];

		if (g->is_new != is_new)
			continue;
		pg_params_text(&x->p, g->check);
		if (is_new) {
			pg_params_int(&x->p, g->started_us);
			pg_params_opt_int(&x->p, g->ended_us, 0);
			pg_params_int(&x->p, g->last_failure_us);
			pg_params_int(&x->p, g->failures);
			pg_params_text(&x->p, g->cause_error);
			pg_params_clean_text(&x->p, g->cause_message);
		} else {
			pg_params_int(&x->p, g->failures);
			pg_params_opt_int(&x->p, g->last_failure_us, INT64_MIN);
			pg_params_opt_int(&x->p, g->ended_us, 0);
		}
		if (++k == SEG_CHUNK) {
			if (flush_segments(x, c, is_new, k, err, errlen) != 0)
				return -1;
			k = 0;
		}
	}
	return flush_segments(x, c, is_new, k, err, errlen);
}

int pg_incidents_apply(struct pg_incidents *x, PGconn *c, const struct store_row *rows,
                       size_t n, char *err, size_t errlen)
{
	const struct store_row *w = rows;

	if (n == 0)
		return 0;
	if (x->stale && open_load(x, c, err, errlen) != 0)
		return -1;
	x->gen++;
	x->n_seg = 0;
	pg_params_clear(&x->p);
	for (size_t i = 0; i < n; i++, w = w->next) {
		/* The agent stopped mid-probe: nothing is known about the target. */
		if (w->error != NULL && strcmp(w->error, "aborted") == 0)
			continue;
		plan_row(x, w);
	}
	/* Closing before opening: the unique index allows one open per check. */
	if (write_segments(x, c, false, err, errlen) != 0 ||
	    write_segments(x, c, true, err, errlen) != 0) {
		pg_params_clear(&x->p);
		x->stale = true;
		return -1;
	}
	return 0;
}

int pg_incident_note(PGconn *c, struct store_op *o, char *err, size_t errlen)
{
	static const char sql[] =
		"INSERT INTO incident_updates (incident_id, ts_us, status, message)"
		" SELECT id, $2::bigint, $3::text, $4::text FROM incidents WHERE id = $1::bigint";
	struct pg_params p = { 0 };
	PGresult *r;

	pg_params_int(&p, o->upd.id);
	pg_params_int(&p, o->now_us);
	pg_params_clean_text(&p, o->note_status ? o->note_status : "");
	pg_params_clean_text(&p, o->note_message ? o->note_message : "");
	r = pg_query(c, sql, &p, "incident update", err, errlen);
	pg_params_free(&p);
	if (r == NULL)
		return -1;
	store_op_set_one_id(o, strcmp(PQcmdTuples(r), "1") == 0);
	PQclear(r);
	return 0;
}

/* --- reading ---------------------------------------------------------------------------- */

/* The newest incidents of q (the inner query, by the indexes on started_us
 * and check_name), then for each its updates and the alerts of its check that
 * fired while it lasted, as JSON arrays (NULL: none). */
static const char incidents_sql[] =
	"SELECT i.id, i.check_name, i.started_us, i.ended_us, i.last_failure_us, i.failures,"
	" i.cause_error, i.cause_message,"
	" (SELECT json_agg(json_build_array(u.ts_us, u.status, u.message) ORDER BY u.ts_us, u.id)"
	"  FROM incident_updates u WHERE u.incident_id = i.id),"
	" (SELECT json_agg(a.alert_id ORDER BY a.first_us) FROM"
	"  (SELECT h.alert_id, min(h.ts_us) AS first_us FROM alert_history h"
	"   WHERE h.check_name = i.check_name AND h.to_state = 'firing'"
	"   AND h.alert_id IS NOT NULL AND h.ts_us >= i.started_us"
	"   AND (i.ended_us IS NULL OR h.ts_us <= i.ended_us) GROUP BY h.alert_id) AS a)"
	" FROM (SELECT * FROM incidents"
	"  WHERE ($1::bigint = 0 OR id = $1::bigint) AND ($2::text IS NULL OR check_name = $2::text)"
	"  AND ($3::bigint = 0 OR ended_us IS NULL OR ended_us >= $3::bigint)"
	"  AND ($4::bigint = 0 OR started_us < $4::bigint)"
	"  AND ($5::boolean = false OR ended_us IS NULL)"
	"  AND ($6::boolean = false OR ended_us IS NOT NULL)"
	"  ORDER BY started_us DESC, id DESC LIMIT $7) AS i"
	" ORDER BY i.started_us DESC, i.id DESC";

/* Parses column col of row i, a JSON array or NULL, into *out (NULL: none).
 * Returns 0, or -1 when it is not an array. */
static int json_column(const PGresult *r, int i, int col, json_t **out)
{
	*out = NULL;
	if (PQgetisnull(r, i, col))
		return 0;
	*out = json_loads(pg_text(r, i, col), 0, NULL);
	return json_is_array(*out) ? 0 : -1;
}

/* A copy of s's text; "" when s is not a string. */
static char *string_dup(const json_t *s)
{
	return xstrdup(json_is_string(s) ? json_string_value(s) : "");
}

/* Fills inc's updates and alert ids from row i's two JSON columns. */
static int fill_lists(struct store_incident *inc, const PGresult *r, int i)
{
	json_t *updates = NULL, *alerts = NULL, *u;
	size_t k;
	int rc = -1;

	if (json_column(r, i, 8, &updates) != 0 || json_column(r, i, 9, &alerts) != 0)
		goto out;
	inc->updates = xcalloc(json_array_size(updates) + 1, sizeof(*inc->updates));
	json_array_foreach(updates, k, u) {
		inc->updates[k].ts_us = json_integer_value(json_array_get(u, 0));
		inc->updates[k].status = string_dup(json_array_get(u, 1));
		inc->updates[k].message = string_dup(json_array_get(u, 2));
		inc->n_updates = k + 1;
	}
	inc->alert_ids = xcalloc(json_array_size(alerts) + 1, sizeof(*inc->alert_ids));
	json_array_foreach(alerts, k, u) {
		inc->alert_ids[k] = string_dup(u);
		inc->n_alert_ids = k + 1;
	}
	rc = 0;
out:
	json_decref(updates);
	json_decref(alerts);
	return rc;
}

int pg_incidents(struct store_reader *base, const struct store_incident_query *q,
                 struct store_incident **out, size_t *n)
{
	struct pg_params p = { 0 };
	struct store_incident *v;
	PGresult *r;
	int k;

	*out = NULL;
	*n = 0;
	pg_params_int(&p, q->id);
	pg_params_text(&p, q->check);
	pg_params_int(&p, q->since_us);
	pg_params_int(&p, q->until_us);
	pg_params_bool(&p, q->open_only);
	pg_params_bool(&p, q->closed_only);
	pg_params_int(&p, q->limit > 0 ? q->limit : 100);
	r = pg_read((struct pg_reader *)base, incidents_sql, &p, "incidents");
	pg_params_free(&p);
	if (r == NULL)
		return -1;
	v = xcalloc((size_t)PQntuples(r) + 1, sizeof(*v));
	for (k = 0; k < PQntuples(r); k++) {
		v[k].id = pg_int(r, k, 0, 0);
		v[k].check = xstrdup(pg_text(r, k, 1));
		v[k].started_us = pg_int(r, k, 2, 0);
		v[k].ended_us = pg_int(r, k, 3, 0);     /* NULL: open */
		v[k].last_failure_us = pg_int(r, k, 4, 0);
		v[k].failures = pg_int(r, k, 5, 0);
		v[k].cause_error = xstrdup(pg_text(r, k, 6));
		v[k].cause_message = xstrdup(pg_text(r, k, 7));
		if (fill_lists(&v[k], r, k) != 0) {
			log_error("store: reading incidents failed", "error",
			          "an incident's updates or alerts are not a JSON array");
			store_incidents_free(v, (size_t)k + 1);
			PQclear(r);
			return -1;
		}
	}
	PQclear(r);
	*out = v;
	*n = (size_t)k;
	return 0;
}

/* store_read.c — the store's reads as the rest of pharos calls them: a read
 * connection opened through the implementation agent.database names, each
 * read dispatched to it, results shaped into the API's JSON here (one shape
 * whatever the database), and the window reads (uptime, latency, summaries,
 * series) computed from the implementation's rollups by rollup_read.c. */
#include <stdlib.h>
#include <string.h>

#include "core/json_text.h"
#include "core/util.h"
#include "probes/result.h"
#include "store/store_impl.h"

/* --- JSON helpers ------------------------------------------------------------- */

void store_set_time(json_t *o, const char *key, int64_t wall_us)
{
	char buf[40];

	util_format_time(wall_us, buf, sizeof(buf));
	json_object_set_new(o, key, json_string(buf));
}

/* The stored details text as an object, or NULL: a row written by a broken
 * build must not break the API. New reference. */
static json_t *details_object(const char *text)
{
	json_t *d = text != NULL ? json_loads(text, 0, NULL) : NULL;

	if (json_is_object(d))
		return d;
	json_decref(d);
	return NULL;
}

static void set_phase(json_t *phases, const char *key, int64_t us)
{
	if (us != -1)
		json_object_set_new(phases, key, json_real((double)us / 1000.0));
}

static json_t *int_or_null(int64_t v, int64_t none)
{
	return v == none ? json_null() : json_integer(v);
}

/* One result as JSON, shaped like probe_result_to_json() without assertions. */
static json_t *result_json(const struct store_raw_result *row)
{
	json_t *o = json_object();
	json_t *phases = json_object();
	json_t *details = details_object(row->details);

	json_object_set_new(o, "run_id", json_text(row->run_id));
	store_set_time(o, "ts", row->ts_us);
	json_object_set_new(o, "duration_ms", json_real((double)row->duration_us / 1000.0));
	json_object_set_new(o, "ok", json_boolean(row->ok));
	json_object_set_new(o, "error", row->ok ? json_null() : json_text(row->error));
	json_object_set_new(o, "message", json_text(row->message));
	json_object_set_new(o, "location", json_text(row->location ? row->location : ""));
	set_phase(phases, "dns", row->dns_us);
	set_phase(phases, "connect", row->connect_us);
	set_phase(phases, "tls", row->tls_us);
	set_phase(phases, "first_byte", row->ttfb_us);
	json_object_set_new(o, "phases_ms", phases);
	json_object_set_new(o, "status_code", int_or_null(row->status_code, -1));
	json_object_set_new(o, "bytes", int_or_null(row->bytes, -1));
	if (row->cert_expiry == 0)
		json_object_set_new(o, "cert_expiry", json_null());
	else
		store_set_time(o, "cert_expiry", row->cert_expiry * 1000000);
	json_object_set_new(o, "attempts", json_integer(row->attempts));
	json_object_set_new(o, "details", probe_result_lift_trace(o, details));
	return o;
}

static void append_result_json(void *arg, const struct store_raw_result *row)
{
	json_array_append_new(arg, result_json(row));
}

/* An array of the results of q, or NULL on a database error. */
static json_t *results_array(struct store_reader *r, const struct store_query *q)
{
	json_t *arr = json_array();

	if (r->ops->results(r, q, append_result_json, arr) != 0) {
		json_decref(arr);
		return NULL;
	}
	return arr;
}

/* --- connections ---------------------------------------------------------------- */

void store_reader_close(struct store_reader *r)
{
	if (r != NULL)
		r->ops->reader_close(r);
}

/* --- results ---------------------------------------------------------------------- */

json_t *store_results(struct store_reader *r, const char *check,
                      int64_t since_us, int64_t until_us, int limit)
{
	struct store_query q = { .check = check, .since_us = since_us, .until_us = until_us,
	                         .limit = limit };

	return results_array(r, &q);
}

json_t *store_failures(struct store_reader *r, const char *check, int64_t since_us, int limit)
{
	struct store_query q = { .check = check, .since_us = since_us, .limit = limit,
	                         .failed_only = true };

	return results_array(r, &q);
}

struct typed_ctx {
	store_result_fn *fn;
	void *arg;
};

/* The stored error name back to its enum, once, here: callers get types. */
static enum probe_error error_from_name(const char *name)
{
	for (int k = 0; k < PROBE_ERR_COUNT; k++)
		if (strcmp(name, probe_error_name((enum probe_error)k)) == 0)
			return (enum probe_error)k;
	return PROBE_OK;
}

/* row typed; details is row's details parsed (or NULL). */
static struct store_result typed_from(const struct store_raw_result *row, const json_t *details)
{
	return (struct store_result){
		.ts_us = row->ts_us,
		.duration_us = row->duration_us,
		.ok = row->ok,
		.error = error_from_name(row->error),
		.message = row->message,
		.run_id = row->run_id,
		.attempts = row->attempts,
		.status_code = row->status_code,
		.details = details,
	};
}

static void typed_row(void *arg, const struct store_raw_result *row)
{
	struct typed_ctx *t = arg;
	json_t *details = details_object(row->details);
	struct store_result res = typed_from(row, details);

	t->fn(t->arg, &res);
	json_decref(details);
}

int store_recent_results(struct store_reader *r, const char *check, int64_t since_us, int limit,
                         store_result_fn *fn, void *arg)
{
	struct store_query q = { .check = check, .since_us = since_us, .limit = limit,
	                         .oldest_first = true };
	struct typed_ctx t = { fn, arg };

	return r->ops->results(r, &q, typed_row, &t);
}

/* --- the start-up reads ------------------------------------------------------------ */

/* checks[0..n) as a JSON array text (names_json of the ops). Free it. */
static char *names_json(const char *const *checks, size_t n)
{
	json_t *arr = json_array();
	char *text;

	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, json_text(checks[i]));
	text = json_dumps(arr, JSON_COMPACT);
	json_decref(arr);
	return text;
}

/* The checks asked for, by name: the implementations hand rows with their
 * check's name, the callers want its index. Sorted once, then a binary
 * search per check (not per row). */
struct name_ix {
	const char *name;
	size_t i;
};

static int name_ix_cmp(const void *a, const void *b)
{
	return strcmp(((const struct name_ix *)a)->name, ((const struct name_ix *)b)->name);
}

static struct name_ix *names_index(const char *const *checks, size_t n)
{
	struct name_ix *v = xcalloc(n, sizeof(*v));

	for (size_t i = 0; i < n; i++)
		v[i] = (struct name_ix){ checks[i], i };
	qsort(v, n, sizeof(*v), name_ix_cmp);
	return v;
}

/* The index of check in checks, or n when it was not asked for. */
static size_t names_find(const struct name_ix *v, size_t n, const char *check)
{
	struct name_ix key = { check, 0 };
	const struct name_ix *hit = bsearch(&key, v, n, sizeof(*v), name_ix_cmp);

	return hit != NULL ? hit->i : n;
}

struct latest_ctx {
	store_latest_fn *fn;
	void *arg;
	const struct name_ix *ix;
	size_t n;
};

/* One raw row typed; a check not asked for is ignored. */
static void latest_row(void *arg, const char *check, const struct store_raw_result *row)
{
	struct latest_ctx *l = arg;
	size_t i = names_find(l->ix, l->n, check);
	json_t *details;
	struct store_result res;

	if (i >= l->n)
		return;
	details = details_object(row->details);
	res = typed_from(row, details);
	l->fn(l->arg, i, &res);
	json_decref(details);
}

int store_latest_results(struct store_reader *r, const char *const *checks, size_t n,
                         store_latest_fn *fn, void *arg)
{
	struct latest_ctx l = { fn, arg, NULL, n };
	char *names;
	int rc;

	if (n == 0)
		return 0;
	names = names_json(checks, n);
	l.ix = names_index(checks, n);
	rc = r->ops->latest(r, names, latest_row, &l);
	free((void *)l.ix);
	free(names);
	return rc;
}

/* The runs of the check being read, its newest limit kept in a ring: the
 * implementation hands every run since since_us, check after check, and a
 * check's runs go to fn once the next check starts (or the read ends). */
struct runs_ctx {
	store_run_fn *fn;
	void *arg;
	const struct name_ix *ix;
	size_t n;               /* checks asked for */
	char *name;             /* the check being read; NULL: none yet */
	size_t check;           /* its index; n: not asked for */
	struct store_run *ring;
	size_t cap, head, len;  /* head: the oldest run kept */
};

static void runs_flush(struct runs_ctx *c)
{
	if (c->check < c->n)
		for (size_t k = 0; k < c->len; k++)
			c->fn(c->arg, c->check, &c->ring[(c->head + k) % c->cap]);
	c->head = c->len = 0;
}

static void runs_row(void *arg, const char *check, const struct store_raw_run *raw)
{
	struct runs_ctx *c = arg;
	struct store_run run = { raw->ts_us, raw->duration_us, raw->ok, error_from_name(raw->error) };

	if (c->name == NULL || strcmp(c->name, check) != 0) {
		runs_flush(c);
		free(c->name);
		c->name = xstrdup(check);
		c->check = names_find(c->ix, c->n, check);
	}
	if (c->len < c->cap) {
		c->ring[(c->head + c->len) % c->cap] = run;
		c->len++;
	} else {        /* full: the oldest makes room */
		c->ring[c->head] = run;
		c->head = (c->head + 1) % c->cap;
	}
}

int store_recent_runs(struct store_reader *r, const char *const *checks, size_t n,
                      int64_t since_us, int limit, store_run_fn *fn, void *arg)
{
	struct runs_ctx c = { .fn = fn, .arg = arg, .n = n, .check = n,
	                      .cap = limit > 0 ? (size_t)limit : 0 };
	char *names;
	int rc;

	if (n == 0 || c.cap == 0)
		return 0;
	c.ring = xcalloc(c.cap, sizeof(*c.ring));
	c.ix = names_index(checks, n);
	names = names_json(checks, n);
	rc = r->ops->runs(r, names, since_us, runs_row, &c);
	runs_flush(&c);
	free(c.name);
	free((void *)c.ix);
	free(names);
	free(c.ring);
	return rc;
}

int store_durations(struct store_reader *r, const char *check, int64_t since_us,
                    int64_t until_us, store_sample_fn *fn, void *arg)
{
	return r->ops->durations(r, check, since_us, until_us, fn, arg);
}

/* --- alerts and the outbox --------------------------------------------------------- */

int store_outbox_pending(struct store_reader *r, struct outbox_row **rows, size_t *n)
{
	return r->ops->outbox_pending(r, rows, n);
}

int store_outbox_get(struct store_reader *r, int64_t id, struct outbox_row *out)
{
	return r->ops->outbox_get(r, id, out);
}

json_t *store_notifications(struct store_reader *r, const char *state, int limit)
{
	return r->ops->notifications(r, state, limit);
}

json_t *store_notification_counts(struct store_reader *r)
{
	return r->ops->notification_counts(r);
}

int store_alert_states(struct store_reader *r, struct alert_state_row **rows, size_t *n)
{
	return r->ops->alert_states(r, rows, n);
}

json_t *store_alert_history(struct store_reader *r, const char *check, int limit)
{
	return r->ops->alert_history(r, check, limit);
}

/* --- incidents ------------------------------------------------------------------------ */

int store_incidents(struct store_reader *r, const struct store_incident_query *q,
                    struct store_incident **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	if (r->ops->incidents == NULL)
		return -2;
	return r->ops->incidents(r, q, out, n);
}

int store_fleet_pairs(struct store_reader *r, const char *location, struct store_fleet_pair **out,
                      size_t *n)
{
	*out = NULL;
	*n = 0;
	if (r->ops->fleet_pairs == NULL)
		return -2;
	return r->ops->fleet_pairs(r, location, out, n);
}

void store_fleet_pairs_free(struct store_fleet_pair *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].rule);
		free(v[i].check);
		free(v[i].own_value);
	}
	free(v);
}

void store_incidents_free(struct store_incident *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].check);
		free(v[i].cause_error);
		free(v[i].cause_message);
		for (size_t j = 0; j < v[i].n_alert_ids; j++)
			free(v[i].alert_ids[j]);
		free(v[i].alert_ids);
		for (size_t j = 0; j < v[i].n_updates; j++) {
			free(v[i].updates[j].status);
			free(v[i].updates[j].message);
		}
		free(v[i].updates);
	}
	free(v);
}

/* --- window reads from the rollups -------------------------------------------------- */

/* Percentage of successful runs of check since since_us (exact while raw
 * results of the start edge are kept); -1 when there is no result in the
 * window or on a database error. */
double store_uptime(struct store_reader *r, const char *check, int64_t since_us)
{
	struct rollup_source src;
	struct rollup_agg a;

	r->ops->rollup_source(r, &src);
	if (rollup_window(&src, check, since_us, util_wall_us(), &a) != 0)
		return -1;
	return rollup_uptime(&a);
}

/* p50 and p95 from the rollups' histogram (within one bucket; exact when every
 * run took the same time). -1 when there is no result (or on a database
 * error) leaving the outputs untouched. */
int store_latency(struct store_reader *r, const char *check, int64_t since_us,
                  double *p50_ms, double *p95_ms)
{
	struct rollup_source src;
	struct rollup_agg a;

	r->ops->rollup_source(r, &src);
	if (rollup_window(&src, check, since_us, util_wall_us(), &a) != 0 || a.count == 0)
		return -1;
	*p50_ms = rollup_percentile(&a, 0.50);
	*p95_ms = rollup_percentile(&a, 0.95);
	return 0;
}

/* Adapts a window aggregate to store_count_fn. */
struct count_adapter {
	store_count_fn *fn;
	void *arg;
};

static void count_adapt(void *arg, const struct rollup_row *a)
{
	struct count_adapter *ca = arg;

	ca->fn(ca->arg, a->check, 0, a->count, a->count - a->failures);
}

int store_uptime_by_check(struct store_reader *r, int64_t since_us, store_count_fn *fn,
                          void *arg)
{
	struct count_adapter ca = { fn, arg };
	struct rollup_source src;

	r->ops->rollup_source(r, &src);
	return rollup_window_all(&src, since_us, util_wall_us(), count_adapt, &ca);
}

int store_uptime_by_day(struct store_reader *r, const char *check, int64_t since_us,
                        store_count_fn *fn, void *arg)
{
	struct rollup_source src;

	r->ops->rollup_source(r, &src);
	return rollup_days(&src, check, since_us, util_wall_us(), fn, arg);
}

struct summary_adapter {
	store_summary_fn *fn;
	void *arg;
};

static void summary_adapt(void *arg, const struct rollup_row *a)
{
	struct summary_adapter *sa = arg;
	struct store_summary sm = {
		.check = a->check,
		.runs = a->count,
		.ok = a->count - a->failures,
		.uptime_pct = a->count > 0 ? 100.0 * (double)(a->count - a->failures) / (double)a->count
		                           : -1,
		.p50_ms = a->p50_ms,
		.p95_ms = a->p95_ms,
		.avg_ms = a->count > 0 ? (double)a->latency_sum_us / 1000.0 / (double)a->count : -1,
	};

	sa->fn(sa->arg, &sm);
}

int store_summary_all(struct store_reader *r, int64_t since_us, store_summary_fn *fn, void *arg)
{
	struct summary_adapter sa = { fn, arg };
	struct rollup_source src;

	r->ops->rollup_source(r, &src);
	return rollup_window_all(&src, since_us, util_wall_us(), summary_adapt, &sa);
}

int store_latency_series(struct store_reader *r, const char *check, int64_t since_us,
                         int64_t until_us, int64_t step_s, store_series_fn *fn, void *arg)
{
	struct rollup_source src;

	r->ops->rollup_source(r, &src);
	return rollup_series(&src, check, since_us, until_us, step_s, fn, arg);
}

/* --- rows read by the implementations -------------------------------------------- */

/* Text of column i, "" when NULL. */
static const char *cols_text(const struct store_cols *c, int i)
{
	const char *t = c->text(c->row, i);

	return t != NULL ? t : "";
}

int store_outbox_row_read(const struct store_cols *c, struct outbox_row *out)
{
	json_t *j = json_loads(cols_text(c, 3), 0, NULL);
	struct outbox_row r;
	int state;

	memset(&r, 0, sizeof(r));
	memset(out, 0, sizeof(*out));
	if (alert_event_from_json(j, &r.event) != 0) {
		json_decref(j);
		return -1;
	}
	json_decref(j);
	r.id = c->integer(c->row, 0);
	r.key = xstrdup(cols_text(c, 1));
	r.notifier = xstrdup(cols_text(c, 2));
	state = outbox_state_from_name(cols_text(c, 4));
	r.state = state < 0 ? OUTBOX_PENDING : (enum outbox_state)state;
	r.attempts = (int)c->integer(c->row, 5);
	r.created_us = c->integer(c->row, 6);
	r.next_attempt_us = c->integer(c->row, 7);
	if (c->text(c->row, 8) != NULL)
		r.last_error = xstrdup(c->text(c->row, 8));
	r.delivered_us = c->integer(c->row, 9);
	r.seq = c->integer(c->row, 10);
	*out = r;
	return 0;
}

/* --- the fleet's latest results ------------------------------------------------ */

int store_fleet_latest(struct store_reader *r, int64_t *cursor, store_fleet_fn *fn, void *arg)
{
	if (r == NULL)
		return -1;
	if (r->ops->fleet_latest == NULL)
		return -2;
	return r->ops->fleet_latest(r, cursor, fn, arg);
}

void store_op_set_one_id(struct store_op *o, bool changed)
{
	free(o->ids);
	o->ids = xcalloc(1, sizeof(*o->ids));
	o->ids[0] = o->upd.id;
	o->n_ids = changed ? 1 : 0;
}

/* api.c — the JSON handlers of SPEC §3: health, readiness, one check and
 * its history (the list of checks: api_checks.c), alerts, notifications and
 * the admin "run now". Check states come from the published snapshot,
 * history from a read-only store connection; every string leaving here
 * passes through log_mask_secrets(). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "core/json_text.h"
#include "core/buf.h"
#include "web/api.h"
#include "web/api_check.h"
#include "web/api_fleet.h"
#include "web/fleet_view.h"
#include "core/log.h"
#include "core/util.h"

#define RECENT_RESULTS   20
#define RESULTS_DEFAULT  100
#define RESULTS_MAX      1000
#define US_PER_HOUR      (3600LL * 1000000LL)

/* The windows of the "uptime" object, oldest-first keys as the API shows them. */
const struct api_window api_windows[API_N_WINDOWS] = {
	{ "24h", 24 * US_PER_HOUR },
	{ "7d", 7 * 24 * US_PER_HOUR },
	{ "30d", 30 * 24 * US_PER_HOUR },
	{ "90d", 90 * 24 * US_PER_HOUR },
};

/* --- responses --------------------------------------------------------------- */

const char api_json_type[] = "application/json; charset=utf-8";

/* j (stolen; NULL: an "internal" error object) with secrets masked,
 * serialized with a final newline into malloc'ed memory of ours (written
 * straight into our buffer: no copy, whatever jansson's allocator is). */
static char *json_dump_text(json_t *j, size_t *len)
{
	struct buf b = BUF_INIT;

	if (j == NULL)                  /* only on allocation failure inside jansson */
		j = json_pack("{s:s, s:s}", "error", "internal", "detail", "cannot build the answer");
	log_mask_json(j);
	if (json_dump_callback(j, buf_json_dump, &b,
	                       JSON_COMPACT | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(10)) != 0) {
		buf_reset(&b);
		buf_adds(&b, "{}");
	}
	json_decref(j);
	buf_addc(&b, '\n');
	return buf_steal(&b, len);
}

/* Sets rs to status with j serialized (j stolen, secrets masked). */
void api_json(struct api_response *rs, unsigned status, json_t *j)
{
	free(rs->body);
	rs->body = json_dump_text(j, &rs->body_len);
	rs->status = status;
	rs->content_type = api_json_type;
}

/* Sets rs to an error answer {"error": error, "detail": detail}. */
void api_error(struct api_response *rs, unsigned status, const char *error, const char *detail)
{
	json_t *o = json_object();

	json_object_set_new(o, "error", json_text(error));
	json_object_set_new(o, "detail", json_text(detail));
	api_json(rs, status, o);
}

/* Sets rs to a plain-text answer. */
void api_text(struct api_response *rs, unsigned status, const char *text)
{
	free(rs->body);
	rs->body = log_mask_secrets(text);
	rs->body_len = strlen(rs->body);
	rs->status = status;
	rs->content_type = "text/plain; charset=utf-8";
}

/* The decoded value of query argument key (owned by libmicrohttpd, valid for
 * the request), or NULL when absent. */
const char *api_query(struct api_request *rq, const char *key)
{
	return MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, key);
}

/* --- checks ------------------------------------------------------------------ */

static void set_time(json_t *o, const char *key, int64_t wall_us)
{
	char buf[40];

	util_format_time(wall_us, buf, sizeof(buf));
	json_object_set_new(o, key, json_string(buf));
}

/* The "last" object of sc, or null before the first run. */
static json_t *last_json(const struct snapshot_check *sc)
{
	json_t *o;

	if (!sc->has_last)
		return json_null();
	o = json_object();
	set_time(o, "ts", sc->last_ts_us);
	json_object_set_new(o, "ok", json_boolean(sc->last_ok));
	json_object_set_new(o, "duration_ms", json_real((double)sc->last_duration_us / 1000.0));
	json_object_set_new(o, "error",
	                    sc->last_ok ? json_null() : json_string(probe_error_name(sc->last_error)));
	json_object_set_new(o, "message", json_text(sc->last_message ? sc->last_message : ""));
	return o;
}

/* See api_check.h. */
void api_figures_fleet(struct check_figures *f, const struct snapshot *snap,
                       const struct fleet_view *v, int64_t now_us)
{
	f->fleet_on = fleet_view_enabled();
	f->fleet = v;
	f->own_location = snap->conf->agent.location;
	f->now_us = now_us;
}

void api_figures_init(struct check_figures *f)
{
	memset(f, 0, sizeof(*f));
	for (size_t i = 0; i < API_N_WINDOWS; i++)
		f->uptime[i] = -1;
}

/* The figures of one check, read for it alone (exact start edges while raw
 * results are kept; see store.h). r may be NULL: no figures. */
static void figures_one(struct store_reader *r, const char *name, int64_t now_us,
                        struct check_figures *f)
{
	api_figures_init(f);
	if (r == NULL)
		return;
	/* No result in the longest window: none in the shorter ones either. */
	f->uptime[API_N_WINDOWS - 1] = store_uptime(r, name, now_us - api_windows[API_N_WINDOWS - 1].span_us);
	if (f->uptime[API_N_WINDOWS - 1] < 0)
		return;
	for (size_t i = 0; i + 1 < API_N_WINDOWS; i++)
		f->uptime[i] = store_uptime(r, name, now_us - api_windows[i].span_us);
	f->has_latency = store_latency(r, name, now_us - 24 * US_PER_HOUR, &f->p50_ms,
	                               &f->p95_ms) == 0;
}

/* An uptime with two decimals, rounded; what is not 100 never reads 100. */
static double round_pct(double pct)
{
	double v = round(pct * 100.0) / 100.0;

	return v >= 100.0 && pct < 100.0 ? 99.99 : v;
}

/* The "uptime" object ({"24h": pct|null, ...}), or null when there is no
 * database or no result at all in the longest window. */
static json_t *uptime_json(const struct check_figures *f)
{
	json_t *o;

	if (f->uptime[API_N_WINDOWS - 1] < 0)
		return json_null();
	o = json_object();
	for (size_t i = 0; i < API_N_WINDOWS; i++)
		json_object_set_new(o, api_windows[i].key,
		                    f->uptime[i] < 0 ? json_null() : json_real(round_pct(f->uptime[i])));
	return o;
}

/* {"p50": ms, "p95": ms} over the last 24 h, or null. */
static json_t *latency_json(const struct check_figures *f)
{
	if (!f->has_latency)
		return json_null();
	return json_pack("{s:f, s:f}", "p50", round(f->p50_ms * 1000.0) / 1000.0,
	                 "p95", round(f->p95_ms * 1000.0) / 1000.0);
}

/* See api_check.h. */
json_t *api_check_json(const struct snapshot_check *sc, const struct check_figures *f)
{
	const struct check *c = sc->check;
	json_t *o = json_object();

	json_object_set_new(o, "name", json_text(c->name));
	json_object_set_new(o, "group", c->group && c->group[0] ? json_text(c->group) : json_null());
	json_object_set_new(o, "type", json_string(check_type_name(c->type)));
	json_object_set_new(o, "target", json_text(c->target ? c->target : ""));
	json_object_set_new(o, "state", json_string(check_state_name(sc->state)));
	if (sc->state == CHECK_STATE_BLOCKED && sc->blocked_by != NULL) {
		json_object_set_new(o, "blocked_by", json_text(sc->blocked_by));
		json_object_set_new(o, "state_reason", json_string("dependency down"));
	}
	json_object_set_new(o, "last", last_json(sc));
	json_object_set_new(o, "uptime", uptime_json(f));
	json_object_set_new(o, "latency_ms", latency_json(f));
	if (f->fleet_on)
		api_fleet_check(o, sc, f->fleet, f->own_location, f->now_us);
	return o;
}

/* The snapshot entry for rq->name, or NULL after answering 404. The route is
 * flagged ROUTE_CONF: the router answered 503 when there is no snapshot. */
static const struct snapshot_check *find_check(struct api_request *rq, struct api_response *rs)
{
	const struct snapshot_check *sc;
	char detail[128];

	sc = snapshot_find(rq->snap, rq->name);
	if (sc == NULL) {
		snprintf(detail, sizeof(detail), "no check named %s", rq->name);
		api_error(rs, MHD_HTTP_NOT_FOUND, "not_found", detail);
	}
	return sc;
}

/* --- handlers ---------------------------------------------------------------- */

/* GET /healthz: "ok" while the loop made a pass recently. */
void api_healthz(struct api_request *rq, struct api_response *rs)
{
	bool alive = rq->ops->loop_alive == NULL || rq->ops->loop_alive(rq->ops->ctx);

	if (alive)
		api_text(rs, MHD_HTTP_OK, "ok\n");
	else
		api_error(rs, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable",
		          "the event loop has not made a pass recently");
}

static void not_ready(struct api_response *rs, const char *reason)
{
	api_json(rs, MHD_HTTP_SERVICE_UNAVAILABLE,
	         json_pack("{s:s, s:s}", "status", "not ready", "reason", reason));
}

/* GET /readyz: ready when a config is loaded (a snapshot exists), the last
 * commit worked, no runs are being shed for overload (SPEC §2.0.1) and the
 * scheduler is on time. */
void api_readyz(struct api_request *rq, struct api_response *rs)
{
	char reason[400];

	if (rq->snap == NULL) {
		not_ready(rs, "no configuration loaded yet");
	} else if (!rq->snap->store_ok) {
		snprintf(reason, sizeof(reason), "database not writable: %s",
		         rq->snap->store_error[0] ? rq->snap->store_error : "unknown error");
		not_ready(rs, reason);
	} else if (rq->snap->overloaded) {
		snprintf(reason, sizeof(reason),
		         "more runs fall due than the agent can carry: %llu skipped since start",
		         (unsigned long long)rq->snap->runs_skipped_overload);
		api_json(rs, MHD_HTTP_SERVICE_UNAVAILABLE,
		         json_pack("{s:s, s:s}", "status", "overloaded", "reason", reason));
	} else if (!rq->snap->scheduler_on_time) {
		snprintf(reason, sizeof(reason), "scheduler behind: lag p99 %.0f ms",
		         rq->snap->lag_p99_ms);
		not_ready(rs, reason);
	} else {
		api_json(rs, MHD_HTTP_OK, json_pack("{s:s}", "status", "ready"));
	}
}

/* GET /api/v1/checks/NAME: the check plus its RECENT_RESULTS last results. */
void api_check(struct api_request *rq, struct api_response *rs)
{
	const struct snapshot_check *sc = find_check(rq, rs);
	struct check_figures f;
	struct fleet_view *v;
	json_t *o, *recent = NULL;

	if (sc == NULL)
		return;
	figures_one(rq->reader, sc->check->name, util_wall_us(), &f);
	v = fleet_view_acquire();
	api_figures_fleet(&f, rq->snap, v, util_wall_us());
	o = api_check_json(sc, &f);
	fleet_view_release(v);
	if (rq->reader != NULL)
		recent = store_results(rq->reader, rq->name, 0, 0, RECENT_RESULTS);
	json_object_set_new(o, "recent", recent ? recent : json_array());
	api_json(rs, MHD_HTTP_OK, o);
}

/* Parses query argument key as a time (RFC 3339 or Unix seconds) into *us.
 * Absent: leaves *us. Returns 0, or -1 after answering 400. */
int api_query_time(struct api_request *rq, struct api_response *rs, const char *key, int64_t *us)
{
	const char *v = api_query(rq, key);
	char detail[160];

	if (v == NULL || v[0] == '\0')
		return 0;
	if (util_parse_time(v, us) != 0) {
		snprintf(detail, sizeof(detail),
		         "%s: expected an RFC 3339 time or Unix seconds, got \"%.64s\"", key, v);
		api_error(rs, MHD_HTTP_BAD_REQUEST, "bad_request", detail);
		return -1;
	}
	return 0;
}

/* Parses ?limit= (digits only, RESULTS_DEFAULT when absent). Returns 0, or -1
 * after answering 400. */
static int query_limit(struct api_request *rq, struct api_response *rs, int *limit)
{
	const char *v = api_query(rq, "limit");
	char detail[160], *end;
	long n;

	*limit = RESULTS_DEFAULT;
	if (v == NULL || v[0] == '\0')
		return 0;
	errno = 0;
	n = strtol(v, &end, 10);
	if (v[0] < '0' || v[0] > '9' || *end != '\0' || errno != 0 || n < 1 || n > RESULTS_MAX) {
		snprintf(detail, sizeof(detail), "limit: expected an integer from 1 to %d, got \"%.32s\"",
		         RESULTS_MAX, v);
		api_error(rs, MHD_HTTP_BAD_REQUEST, "bad_request", detail);
		return -1;
	}
	*limit = (int)n;
	return 0;
}

/* GET /api/v1/checks/NAME/results?since=&until=&limit=: raw results, newest
 * first, since <= ts < until. */
void api_check_results(struct api_request *rq, struct api_response *rs)
{
	int64_t since = 0, until = 0;
	int limit;
	json_t *rows;

	if (find_check(rq, rs) == NULL)
		return;
	if (api_query_time(rq, rs, "since", &since) != 0 || api_query_time(rq, rs, "until", &until) != 0 ||
	    query_limit(rq, rs, &limit) != 0)
		return;
	if (since != 0 && until != 0 && since >= until) {
		api_error(rs, MHD_HTTP_BAD_REQUEST, "bad_request", "since must be before until");
		return;
	}
	rows = store_results(rq->reader, rq->name, since, until, limit);
	if (rows == NULL) {
		api_error(rs, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable", "reading the database failed");
		return;
	}
	api_json(rs, MHD_HTTP_OK, rows);
}

/* POST /api/v1/checks/NAME/run (admin; httpd.c checked the token): runs the
 * check on the loop, waits, answers with the result plus "check". Blocks this
 * server thread for up to the check's timeout. */
void api_check_run(struct api_request *rq, struct api_response *rs)
{
	struct probe_result r;
	char detail[128];
	json_t *o;
	int rc;

	if (rq->ops->run_check == NULL) {
		api_error(rs, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable", "running checks is not available");
		return;
	}
	memset(&r, 0, sizeof(r));
	rc = rq->ops->run_check(rq->ops->ctx, rq->name, &r);
	switch (rc) {
	case 0:
		o = probe_result_to_json(&r);
		json_object_set_new(o, "check", json_text(rq->name));
		api_json(rs, MHD_HTTP_OK, o);
		probe_result_clear(&r);
		break;
	case -1:
		snprintf(detail, sizeof(detail), "no check named %s", rq->name);
		api_error(rs, MHD_HTTP_NOT_FOUND, "not_found", detail);
		break;
	default:
		api_error(rs, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable", "the agent is stopping");
		break;
	}
}

/* --- alerts and notifications ------------------------------------------------ */

#define HISTORY_DEFAULT  50
#define NOTIF_DEFAULT    100

/* The severity of rule name in the conf in force, or null. */
static json_t *rule_severity(const struct snapshot *snap, const char *name)
{
	const struct alert_rule *r = snap ? conf_find_rule(snap->conf, name) : NULL;

	return r ? json_string(alert_severity_name(r->severity)) : json_null();
}

/* The run behind an instance's latest change, from the engine's view in the
 * snapshot (the database keeps no run id). null when unknown, or when the
 * snapshot (published every 250 ms) does not show the same state yet. In a
 * fleet the stored alert id is the fleet's (derived from the episode), not
 * this engine's: the run is then this location's latest change. */
static json_t *alert_run_id(const struct snapshot *snap, const struct alert_state_row *st)
{
	for (size_t i = 0; snap != NULL && i < snap->n_alerts; i++) {
		const struct snapshot_alert *sa = &snap->alerts[i];

		if (strcmp(sa->rule, st->rule) != 0 || strcmp(sa->check, st->check) != 0)
			continue;
		if (sa->state != (int)st->state ||
		    (!snap->fleet && strcmp(sa->alert_id, st->alert_id != NULL ? st->alert_id : "") != 0) ||
		    sa->run_id == NULL || sa->run_id[0] == '\0')
			return json_null();
		return json_string(sa->run_id);
	}
	return json_null();
}

/* GET /api/v1/alerts: {"alerts": [instances pending or firing], "history":
 * [recent transitions, newest first]}. Instances come from the database's
 * alert state (written in the transaction of each change), so the answer
 * lags the engine by at most one commit (~100 ms). */
void api_alerts(struct api_request *rq, struct api_response *rs)
{
	struct alert_state_row *st = NULL;
	size_t n = 0;
	json_t *alerts, *history, *o;

	if (store_alert_states(rq->reader, &st, &n) != 0) {
		api_error(rs, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable", "reading the database failed");
		return;
	}
	alerts = json_array();
	for (size_t i = 0; i < n; i++) {
		if (st[i].state != ALERT_PENDING && st[i].state != ALERT_FIRING) {
			alert_state_row_clear(&st[i]);
			continue;
		}
		/* An instance of a rule or check removed from the config is not shown. */
		if (rq->snap == NULL || conf_find_rule(rq->snap->conf, st[i].rule) != NULL) {
			o = json_object();
			json_object_set_new(o, "rule", json_text(st[i].rule));
			json_object_set_new(o, "check", json_text(st[i].check));
			json_object_set_new(o, "state", json_string(alert_state_name(st[i].state)));
			set_time(o, "since", st[i].since_us);
			if (st[i].fired_us > 0 && st[i].state == ALERT_FIRING)
				set_time(o, "fired", st[i].fired_us);
			json_object_set_new(o, "severity", rule_severity(rq->snap, st[i].rule));
			json_object_set_new(o, "value", st[i].value ? json_text(st[i].value) : json_null());
			json_object_set_new(o, "alert_id",
			                    st[i].alert_id ? json_text(st[i].alert_id) : json_null());
			json_object_set_new(o, "run_id", alert_run_id(rq->snap, &st[i]));
			json_array_append_new(alerts, o);
		}
		alert_state_row_clear(&st[i]);
	}
	free(st);
	history = store_alert_history(rq->reader, NULL, HISTORY_DEFAULT);
	o = json_object();
	json_object_set_new(o, "alerts", alerts);
	json_object_set_new(o, "history", history ? history : json_array());
	api_json(rs, MHD_HTTP_OK, o);
}

/* GET /api/v1/notifications?state=pending|dead|delivered&limit=: the outbox,
 * newest first. Rows hold no secrets (no URL, no token; the event only). */
void api_notifications(struct api_request *rq, struct api_response *rs)
{
	const char *state = api_query(rq, "state");
	char detail[160];
	json_t *rows;
	int limit;

	if (state != NULL && state[0] == '\0')
		state = NULL;
	if (state != NULL && outbox_state_from_name(state) < 0) {
		snprintf(detail, sizeof(detail),
		         "state: expected pending, delivered or dead, got \"%.32s\"", state);
		api_error(rs, MHD_HTTP_BAD_REQUEST, "bad_request", detail);
		return;
	}
	if (query_limit(rq, rs, &limit) != 0)
		return;
	if (api_query(rq, "limit") == NULL)
		limit = NOTIF_DEFAULT;
	rows = store_notifications(rq->reader, state, limit);
	if (rows == NULL) {
		api_error(rs, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable", "reading the database failed");
		return;
	}
	api_json(rs, MHD_HTTP_OK, rows);
}

/* POST /api/v1/notifications/ID/retry (admin): a dead notification becomes
 * pending again (attempts reset) and delivery is woken. 404 unknown id, 409
 * when it is not dead. */
void api_notification_retry(struct api_request *rq, struct api_response *rs)
{
	struct outbox_row row;
	char detail[160], *end;
	long long id;
	int rc;

	errno = 0;
	id = strtoll(rq->name, &end, 10);
	if (rq->name[0] < '0' || rq->name[0] > '9' || *end != '\0' || errno != 0 || id <= 0) {
		snprintf(detail, sizeof(detail), "no notification with id %s", rq->name);
		api_error(rs, MHD_HTTP_NOT_FOUND, "not_found", detail);
		return;
	}
	rc = store_outbox_get(rq->reader, id, &row);
	if (rc == 1) {
		snprintf(detail, sizeof(detail), "no notification with id %lld", id);
		api_error(rs, MHD_HTTP_NOT_FOUND, "not_found", detail);
		return;
	}
	if (rc != 0) {
		api_error(rs, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable", "reading the database failed");
		return;
	}
	if (row.state != OUTBOX_DEAD) {
		snprintf(detail, sizeof(detail), "notification %lld is %s, not dead", id,
		         outbox_state_name(row.state));
		api_error(rs, MHD_HTTP_CONFLICT, "conflict", detail);
		outbox_row_clear(&row);
		return;
	}
	rc = rq->ops->retry_notification ? rq->ops->retry_notification(rq->ops->ctx, &row) : -3;
	switch (rc) {
	case 0:
		api_json(rs, MHD_HTTP_OK, json_pack("{s:I, s:s, s:i}", "id", (json_int_t)id,
		                                    "state", "pending", "attempts", 0));
		break;
	case -2:
		snprintf(detail, sizeof(detail), "notification %lld is not dead any more", id);
		api_error(rs, MHD_HTTP_CONFLICT, "conflict", detail);
		break;
	default:
		api_error(rs, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable",
		          "the agent is stopping or the database is not writable");
		break;
	}
	outbox_row_clear(&row);
}

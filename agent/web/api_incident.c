/* api_incident.c — the incident routes of SPEC §3: GET /api/v1/incidents
 * (filtered, newest first) and the admin's POST /api/v1/incidents/ID/updates.
 * Incidents come from the store (derived from results when they were
 * committed); a store that keeps none makes both answer 503. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "web/api.h"
#include "core/json_text.h"
#include "core/util.h"

#define INCIDENTS_DEFAULT   50
#define INCIDENTS_MAX       1000
#define UPDATE_MESSAGE_MAX  4000

static const char *const update_statuses[] = {
	"investigating", "identified", "monitoring", "resolved",
};

bool api_incident_status_valid(const char *s)
{
	for (size_t i = 0; i < sizeof(update_statuses) / sizeof(update_statuses[0]); i++)
		if (s != NULL && strcmp(s, update_statuses[i]) == 0)
			return true;
	return false;
}

static void set_time(json_t *o, const char *key, int64_t wall_us)
{
	char buf[40];

	util_format_time(wall_us, buf, sizeof(buf));
	json_object_set_new(o, key, json_string(buf));
}

/* The group of check in the config in force, "" when unknown (removed). */
static const char *check_group(const struct snapshot *snap, const char *check)
{
	const struct check *c = snap != NULL ? conf_find_check(snap->conf, check) : NULL;

	return c != NULL && c->group != NULL ? c->group : "";
}

json_t *api_incident_json(const struct store_incident *inc, const char *group, int64_t now_us)
{
	int64_t end = inc->ended_us ? inc->ended_us : now_us;
	json_t *o = json_object(), *cause = json_object(), *alerts = json_array();
	json_t *updates = json_array();

	json_object_set_new(o, "id", json_integer(inc->id));
	json_object_set_new(o, "check", json_text(inc->check));
	json_object_set_new(o, "group", json_text(group));
	set_time(o, "started", inc->started_us);
	if (inc->ended_us)
		set_time(o, "ended", inc->ended_us);
	else
		json_object_set_new(o, "ended", json_null());
	json_object_set_new(o, "state", json_string(inc->ended_us ? "closed" : "open"));
	/* Whole milliseconds: 3 decimals, never 0.55000000000000004. */
	json_object_set_new(o, "duration_s",
	                    json_real(round((double)(end > inc->started_us ? end - inc->started_us : 0) /
	                                    1000.0) / 1000.0));
	json_object_set_new(cause, "error", json_text(inc->cause_error));
	json_object_set_new(cause, "message", json_text(inc->cause_message));
	json_object_set_new(o, "cause", cause);
	json_object_set_new(o, "failures", json_integer(inc->failures));
	set_time(o, "last_failure", inc->last_failure_us);
	for (size_t i = 0; i < inc->n_alert_ids; i++)
		json_array_append_new(alerts, json_text(inc->alert_ids[i]));
	json_object_set_new(o, "alerts", alerts);
	for (size_t i = 0; i < inc->n_updates; i++) {
		json_t *u = json_object();

		set_time(u, "ts", inc->updates[i].ts_us);
		json_object_set_new(u, "status", json_text(inc->updates[i].status));
		json_object_set_new(u, "message", json_text(inc->updates[i].message));
		json_array_append_new(updates, u);
	}
	json_object_set_new(o, "updates", updates);
	return o;
}

/* Fills q from ?check=&since=&until=&state=&limit=. Returns 0, or -1 after
 * answering 400. */
static int incident_query(struct api_request *rq, struct api_response *rs,
                          struct store_incident_query *q)
{
	const char *state = api_query(rq, "state"), *limit = api_query(rq, "limit");
	const char *check = api_query(rq, "check");
	char detail[160], *end;
	long n;

	memset(q, 0, sizeof(*q));
	q->check = check != NULL && check[0] != '\0' ? check : NULL;
	q->limit = INCIDENTS_DEFAULT;
	if (api_query_time(rq, rs, "since", &q->since_us) != 0 ||
	    api_query_time(rq, rs, "until", &q->until_us) != 0)
		return -1;
	if (state != NULL && state[0] != '\0') {
		q->open_only = strcmp(state, "open") == 0;
		q->closed_only = strcmp(state, "closed") == 0;
		if (!q->open_only && !q->closed_only) {
			snprintf(detail, sizeof(detail), "state: expected open or closed, got \"%.32s\"",
			         state);
			api_error(rs, MHD_HTTP_BAD_REQUEST, "bad_request", detail);
			return -1;
		}
	}
	if (limit != NULL && limit[0] != '\0') {
		errno = 0;
		n = strtol(limit, &end, 10);
		if (limit[0] < '0' || limit[0] > '9' || *end != '\0' || errno != 0 || n < 1 ||
		    n > INCIDENTS_MAX) {
			snprintf(detail, sizeof(detail),
			         "limit: expected an integer from 1 to %d, got \"%.32s\"", INCIDENTS_MAX, limit);
			api_error(rs, MHD_HTTP_BAD_REQUEST, "bad_request", detail);
			return -1;
		}
		q->limit = (int)n;
	}
	if (q->since_us != 0 && q->until_us != 0 && q->since_us >= q->until_us) {
		api_error(rs, MHD_HTTP_BAD_REQUEST, "bad_request", "since must be before until");
		return -1;
	}
	return 0;
}

/* Answers 503 for a reader that is missing or a store without incidents (rc
 * -2), or a failed read. */
static void unavailable(struct api_request *rq, struct api_response *rs, int rc)
{
	const char *why = rq->reader == NULL ? (rq->reader_error ? rq->reader_error
	                                                          : "database unavailable")
	                : rc == -2 ? "this store keeps no incidents"
	                : "reading the database failed";

	api_error(rs, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable", why);
}

/* GET /api/v1/incidents?check=&since=&until=&state=open|closed&limit=. */
void api_incidents(struct api_request *rq, struct api_response *rs)
{
	struct store_incident_query q;
	struct store_incident *v = NULL;
	int64_t now = util_wall_us();
	json_t *arr;
	size_t n = 0;
	int rc;

	if (incident_query(rq, rs, &q) != 0)
		return;
	if (rq->reader == NULL) {
		unavailable(rq, rs, -1);
		return;
	}
	rc = store_incidents(rq->reader, &q, &v, &n);
	if (rc != 0) {
		unavailable(rq, rs, rc);
		return;
	}
	arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, api_incident_json(&v[i], check_group(rq->snap, v[i].check), now));
	store_incidents_free(v, n);
	api_json(rs, MHD_HTTP_OK, json_pack("{s:o}", "incidents", arr));
}

/* The incident id of the path (digits only), or 0 after answering 404. */
static int64_t path_id(struct api_request *rq, struct api_response *rs)
{
	char detail[128], *end;
	long long id;

	errno = 0;
	id = strtoll(rq->name, &end, 10);
	if (rq->name[0] < '0' || rq->name[0] > '9' || *end != '\0' || errno != 0 || id <= 0) {
		snprintf(detail, sizeof(detail), "no incident with id %s", rq->name);
		api_error(rs, MHD_HTTP_NOT_FOUND, "not_found", detail);
		return 0;
	}
	return id;
}

/* Reads {"status": ..., "message": ...} from the body into *status and
 * *message (borrowed from *body, which the caller decrefs). Returns 0, or -1
 * after answering 400. */
static int update_body(struct api_request *rq, struct api_response *rs, json_t **body,
                       const char **status, const char **message)
{
	json_t *s, *m;

	*body = json_loadb(rq->body, rq->body_len, 0, NULL);
	if (!json_is_object(*body)) {
		api_error(rs, MHD_HTTP_BAD_REQUEST, "bad_request",
		          "expected a JSON object {\"status\": ..., \"message\": ...}");
		return -1;
	}
	s = json_object_get(*body, "status");
	m = json_object_get(*body, "message");
	if (!json_is_string(s) || !api_incident_status_valid(json_string_value(s))) {
		api_error(rs, MHD_HTTP_BAD_REQUEST, "bad_request",
		          "status: expected investigating, identified, monitoring or resolved");
		return -1;
	}
	if (m != NULL && !json_is_string(m)) {
		api_error(rs, MHD_HTTP_BAD_REQUEST, "bad_request", "message: expected a string");
		return -1;
	}
	if (m != NULL && strlen(json_string_value(m)) > UPDATE_MESSAGE_MAX) {
		api_error(rs, MHD_HTTP_BAD_REQUEST, "bad_request", "message: at most 4000 bytes");
		return -1;
	}
	*status = json_string_value(s);
	*message = m != NULL ? json_string_value(m) : "";
	return 0;
}

/* POST /api/v1/incidents/ID/updates (admin; httpd.c checked the token):
 * adds a status update, answers 201 with the incident as it now reads. */
void api_incident_update(struct api_request *rq, struct api_response *rs)
{
	const char *status, *message;
	struct store_incident_query q = { 0 };
	struct store_incident *v = NULL;
	char detail[128];
	json_t *body = NULL;
	size_t n = 0;
	int rc;

	q.id = path_id(rq, rs);
	if (q.id == 0)
		return;
	if (update_body(rq, rs, &body, &status, &message) != 0) {
		json_decref(body);
		return;
	}
	rc = rq->ops->add_incident_update != NULL
	         ? rq->ops->add_incident_update(rq->ops->ctx, q.id, status, message) : -2;
	json_decref(body);
	if (rc == -1) {
		snprintf(detail, sizeof(detail), "no incident with id %lld", (long long)q.id);
		api_error(rs, MHD_HTTP_NOT_FOUND, "not_found", detail);
		return;
	}
	if (rc != 0) {
		api_error(rs, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable",
		          rc == -2 ? "this store keeps no incidents"
		                   : "the agent is stopping or the database is not writable");
		return;
	}
	q.limit = 1;
	if (rq->reader == NULL || store_incidents(rq->reader, &q, &v, &n) != 0 || n == 0) {
		store_incidents_free(v, n);
		api_json(rs, MHD_HTTP_CREATED, json_pack("{s:I}", "id", (json_int_t)q.id));
		return;
	}
	api_json(rs, MHD_HTTP_CREATED,
	         api_incident_json(&v[0], check_group(rq->snap, v[0].check), util_wall_us()));
	store_incidents_free(v, n);
}

/* api.h — the route handlers of the HTTP interface and the small request /
 * response shapes they share with the server (httpd.c: libmicrohttpd;
 * serve.c: routing, authentication, shared errors). The handler files
 * include it: the API's here, and those of the layers above (dashboards/,
 * the heartbeat push), which stays below them: it includes nothing of
 * theirs. A new route is a handler with this signature plus one line in a
 * route table: serve.c's for the web layer's own, agent/routes.c for the
 * layers above. */
#ifndef PHAROS_API_H
#define PHAROS_API_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "web/request.h"


/* Response helpers. api_json steals j; secrets in every string of j are masked
 * (log_mask_secrets) before it is serialized. */
void api_json(struct api_response *rs, unsigned status, json_t *j);
void api_error(struct api_response *rs, unsigned status, const char *error, const char *detail);
void api_text(struct api_response *rs, unsigned status, const char *text);

/* A query argument of the request, or NULL. */
const char *api_query(struct api_request *rq, const char *key);
/* Query argument key as a time (RFC 3339 or Unix seconds) into *us; absent:
 * *us is left. Returns 0, or -1 after answering 400. */
int api_query_time(struct api_request *rq, struct api_response *rs, const char *key, int64_t *us);

/* Route handlers (SPEC §3). */
api_handler api_healthz;
api_handler api_readyz;
api_handler api_checks;
api_handler api_check;
api_handler api_check_results;
api_handler api_check_run;          /* the caller (httpd.c) has checked the admin token */
api_handler api_alerts;             /* GET /api/v1/alerts */
api_handler api_notifications;      /* GET /api/v1/notifications?state=&limit= */
api_handler api_notification_retry; /* POST /api/v1/notifications/ID/retry (admin) */
api_handler api_incidents;          /* GET /api/v1/incidents (api_incident.c) */
api_handler api_incident_update;    /* POST /api/v1/incidents/ID/updates (admin) */

/* One incident as the API shows it (SPEC §3), group from the config; open
 * ones last until now_us. New reference. */
json_t *api_incident_json(const struct store_incident *inc, const char *group, int64_t now_us);
/* True for investigating, identified, monitoring and resolved. */
bool api_incident_status_valid(const char *s);

/* A fleet (api_fleet.c): sets o's "state" to the fleet's (up, degraded,
 * down, ...), "last" to the newest run at any location when that is newer
 * than this agent's, and "locations": {"NAME": {"state": "up"|"down",
 * "stale": bool, "last": {...}}}. v may be NULL (no view yet); own is
 * agent.location. */
struct fleet_view;
void api_fleet_check(json_t *o, const struct snapshot_check *sc, const struct fleet_view *v,
                     const char *own, int64_t now_us);

#endif

/* api_check.h — one check as the API shows it (SPEC §3), shared by the
 * handlers of one check (api.c) and of the list (api_checks.c): the figures
 * read from the store and the JSON object built from them. Internal to
 * agent/web/api*.c. */
#ifndef PHAROS_API_CHECK_H
#define PHAROS_API_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "web/fleet_view.h"
#include "web/snapshot.h"

/* The windows of the "uptime" object, as the API names them. */
#define API_N_WINDOWS 4
struct api_window {
	const char *key;            /* "24h", "7d", "30d", "90d" */
	int64_t span_us;
};
extern const struct api_window api_windows[API_N_WINDOWS];

extern const char api_json_type[];      /* "application/json; charset=utf-8" */

/* What the database says about one check: uptime per window of api_windows
 * (-1: no result in it) and the 24 h latency percentiles. */
struct check_figures {
	double uptime[API_N_WINDOWS];
	bool has_latency;
	double p50_ms, p95_ms;
	/* A fleet (PostgreSQL): the fleet's view decides state, last and
	 * locations (api_fleet.c); fleet_on false on SQLite. */
	bool fleet_on;
	const struct fleet_view *fleet;
	const char *own_location;
	int64_t now_us;
};

/* f without figures (every window -1, no latency, no fleet). */
void api_figures_init(struct check_figures *f);
/* Sets the fleet fields of f (after api_figures_init) for snap. */
void api_figures_fleet(struct check_figures *f, const struct snapshot *snap,
                       const struct fleet_view *v, int64_t now_us);

/* One check as the API shows it: name, group (null when none), type, target,
 * state, last, uptime, latency_ms (and in a fleet its locations). New
 * reference. */
json_t *api_check_json(const struct snapshot_check *sc, const struct check_figures *f);

#endif

/* api_fleet.c — what a check object of /api/v1/checks gains in a fleet
 * (SPEC §6): the fleet's state (down when the last run failed at every
 * location, degraded at some), the newest run at any location, and each
 * location's state and last run. The figures come from fleet_view.c. */
#include <stdlib.h>

#include "core/json_text.h"
#include "core/util.h"
#include "web/api_fleet.h"
#include "web/snapshot.h"
#include "web/fleet_view.h"

static void set_time(json_t *o, const char *key, int64_t wall_us)
{
	char buf[40];

	util_format_time(wall_us, buf, sizeof(buf));
	json_object_set_new(o, key, json_string(buf));
}

/* One location's last run, shaped like the check's "last" plus location
 * and run_id (null when not known). */
static json_t *loc_last_json(const struct fleet_loc *l)
{
	json_t *o = json_object();

	set_time(o, "ts", l->ts_us);
	json_object_set_new(o, "ok", json_boolean(l->ok));
	json_object_set_new(o, "duration_ms", json_real((double)l->duration_us / 1000.0));
	json_object_set_new(o, "error", l->ok ? json_null() : json_text(l->error));
	json_object_set_new(o, "message", json_text(l->message));
	json_object_set_new(o, "location", json_text(l->location));
	json_object_set_new(o, "run_id", l->run_id[0] ? json_text(l->run_id) : json_null());
	return o;
}

void api_fleet_check(json_t *o, const struct snapshot_check *sc, const struct fleet_view *v,
                     const char *own, int64_t now_us)
{
	struct fleet_status st;
	json_t *locs = json_object();

	fleet_status_of(v, sc, own, now_us, &st);
	json_object_set_new(o, "state", json_string(check_state_name(st.state)));
	/* An "any" check another agent ran: that agent's run is the last. */
	if (st.newest >= 0 && (!sc->has_last || st.at[st.newest].ts_us > sc->last_ts_us))
		json_object_set_new(o, "last", loc_last_json(&st.at[st.newest]));
	for (size_t k = 0; k < st.n; k++) {
		const struct fleet_loc *l = &st.at[k];

		json_object_set_new(locs, l->location,
		                    json_pack("{s:s, s:b, s:o}", "state", l->ok ? "up" : "down",
		                              "stale", l->stale, "last", loc_last_json(l)));
	}
	json_object_set_new(o, "locations", locs);
}

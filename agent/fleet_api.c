/* fleet_api.c — GET /api/v1/agents (SPEC §6): the fleet's members as this
 * agent last read them (fleet.h), each with location, version, last_seen
 * (RFC 3339), state (up while its last heartbeat is under 15 s old by the
 * database's clock, else down) and checks (the checks it runs). Members
 * silent for over a day are left out. An agent on SQLite is a fleet of one:
 * it lists itself. */
#include <microhttpd.h>
#include <stdlib.h>

#include "core/util.h"
#include "fleet.h"
#include "fleet_api.h"
#include "web/api.h"

static json_t *member_json(const char *location, const char *version, int64_t last_seen_us,
                           bool up, int checks)
{
	char ts[40];

	util_format_time(last_seen_us, ts, sizeof(ts));
	return json_pack("{s:s, s:s, s:s, s:s, s:i}", "location", location, "version", version,
	                 "last_seen", ts, "state", up ? "up" : "down", "checks", checks);
}

void fleet_api_agents(struct api_request *rq, struct api_response *rs)
{
	struct fleet *f = fleet_running();
	json_t *list = json_array();
	struct fleet_member *m;
	size_t n;

	if (f == NULL) {
		if (rq->snap != NULL)
			json_array_append_new(list, member_json(rq->snap->conf->agent.location, PHAROS_VERSION,
			                                        util_wall_us(), true, (int)rq->snap->n_checks));
		api_json(rs, MHD_HTTP_OK, list);
		return;
	}
	n = fleet_members(f, &m);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(list, member_json(m[i].location, m[i].version, m[i].last_seen_us,
		                                        m[i].live, m[i].checks));
	free(m);
	api_json(rs, MHD_HTTP_OK, list);
}

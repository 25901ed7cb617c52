/* fleet_api.h — the fleet's route handler (agent/routes.c lists it). */
#ifndef PHAROS_FLEET_API_H
#define PHAROS_FLEET_API_H

#include "web/request.h"

/* GET /api/v1/agents: [{location, version, last_seen, state, checks}]. */
void fleet_api_agents(struct api_request *rq, struct api_response *rs);

#endif

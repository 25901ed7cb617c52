/* routes.c — the route table of the status page, the badges and the
 * heartbeat pushes: the web layer serves them without knowing them (its own
 * routes are in agent/web/serve.c). Flags: router.h. */
#include "routes.h"
#include "dashboards/badge.h"
#include "dashboards/page.h"
#include "fleet_api.h"
#include "heartbeat.h"

const struct httpd_route agent_routes[] = {
	{ "GET",  "/",                            page_index,   page_not_found,  ROUTE_STORE },
	{ "GET",  "/check/{name}",                page_check,   page_not_found,  ROUTE_STORE },
	{ "GET",  "/assets/{name}",               page_asset,   page_not_found,  0 },
	{ "GET",  "/feed.atom",                   page_feed,    NULL,            ROUTE_STORE | ROUTE_CONF },
	{ "GET",  "/badge/{name}",                badge_state,  badge_not_found, 0 },
	{ "GET",  "/badge/{name}/uptime/24h.svg", badge_uptime, badge_not_found, ROUTE_STORE },
	{ "GET",  "/badge/{name}/uptime/7d.svg",  badge_uptime, badge_not_found, ROUTE_STORE },
	{ "GET",  "/badge/{name}/uptime/30d.svg", badge_uptime, badge_not_found, ROUTE_STORE },
	{ "GET",  "/badge/{name}/uptime/90d.svg", badge_uptime, badge_not_found, ROUTE_STORE },
	{ "GET",  "/api/v1/agents",               fleet_api_agents, NULL,    0 },
	/* A push waits (up to HEARTBEAT_WAIT_MS) for the loop to apply it; without
	 * a configuration the router answers 503. */
	{ "GET",  "/api/v1/push/{name}",          heartbeat_api_push, NULL, ROUTE_SLOW | ROUTE_CONF },
	{ "POST", "/api/v1/push/{name}",          heartbeat_api_push, NULL, ROUTE_SLOW | ROUTE_CONF },
	{ "GET",  "/api/v1/push/{name}/fail",     heartbeat_api_push, NULL, ROUTE_SLOW | ROUTE_CONF },
	{ "POST", "/api/v1/push/{name}/fail",     heartbeat_api_push, NULL, ROUTE_SLOW | ROUTE_CONF },
};

const size_t agent_n_routes = sizeof(agent_routes) / sizeof(agent_routes[0]);

/* api_fleet.h — the fleet's members of a check object of /api/v1/checks
 * (api_fleet.c). */
#ifndef PHAROS_API_FLEET_H
#define PHAROS_API_FLEET_H

#include <stdint.h>

#include <jansson.h>

struct snapshot_check;
/* A fleet (api_fleet.c): sets o's "state" to the fleet's (up, degraded,
 * down, ...), "last" to the newest run at any location when that is newer
 * than this agent's, and "locations": {"NAME": {"state": "up"|"down",
 * "stale": bool, "last": {...}}}. v may be NULL (no view yet); own is
 * agent.location. */
struct fleet_view;
void api_fleet_check(json_t *o, const struct snapshot_check *sc, const struct fleet_view *v,
                     const char *own, int64_t now_us);

#endif

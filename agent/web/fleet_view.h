/* fleet_view.h — the fleet's view (SPEC §6): the newest result of every
 * check at every location of the fleet, as every agent on PostgreSQL shows
 * it in /api/v1/checks and on the status page.
 *
 * A reader thread (never the loop, never a request) asks the store every
 * FLEET_VIEW_REFRESH_MS for the (check, location) rows that changed since its
 * previous read (store_fleet_latest), merges them into an immutable view and
 * publishes it: a pointer swapped under a mutex, like the snapshot. Views
 * share the entries of the checks that did not change, so a refresh costs
 * what changed plus one pointer per check. The HTTP threads take a reference
 * with fleet_view_acquire() and combine it with the snapshot (fleet_status). */
#ifndef PHAROS_FLEET_VIEW_H
#define PHAROS_FLEET_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"
#include "web/snapshot.h"

#define FLEET_VIEW_REFRESH_MS 3000
/* Locations shown as columns: those with a result this recent. */
#define FLEET_VIEW_LOCATION_KEEP_US (15LL * 60 * 1000000)
/* At most this many locations per check are shown (a fleet has a few). */
#define FLEET_MAX_LOCATIONS 32

/* One location's newest result of one check. */
struct fleet_entry {
	const char *location;       /* interned: valid for the process's life */
	const char *error;          /* interned; probe_error_name() as stored */
	int64_t ts_us, duration_us;
	bool ok;
	char *message;              /* owned */
	char run_id[17];
};

/* One check's entries, sorted by location; immutable, shared by views. */
struct fleet_check {
	int refs;                   /* atomic */
	char *name;
	size_t n;
	struct fleet_entry *at;
};

struct fleet_view {
	int refs;                   /* atomic */
	struct fleet_check **checks;    /* sorted by name (strcmp) */
	size_t n_checks;
	const char **locations;     /* sorted; interned: those with a result in the
	                               last FLEET_VIEW_LOCATION_KEEP_US */
	size_t n_locations;
	int64_t refreshed_us;
};

/* --- the published view ---------------------------------------------------- */

/* True while a refresher runs (the store is PostgreSQL): the API and the
 * pages show `locations` then, even before the first view. */
bool fleet_view_enabled(void);
/* The current view with a reference, or NULL (none yet, or SQLite). */
struct fleet_view *fleet_view_acquire(void);
void fleet_view_release(struct fleet_view *v);
/* check's entries in v, or NULL. v may be NULL. */
const struct fleet_check *fleet_view_find(const struct fleet_view *v, const char *check);

/* --- the refresher ------------------------------------------------------------ */

struct fleet_view_refresher;
/* Starts the thread refreshing the view from database (a postgresql:// URI)
 * every FLEET_VIEW_REFRESH_MS; it opens its own reader (and reopens it after
 * a failure). NULL with err when the thread cannot start. */
struct fleet_view_refresher *fleet_view_start(const char *database, char *err, size_t errlen);
/* Stops and joins the thread and unpublishes the view. NULL is a no-op. */
void fleet_view_stop(struct fleet_view_refresher *f);

/* --- pure parts (unit tests) ---------------------------------------------------- */

/* A new view (one reference): old (NULL: empty) with the n rows applied, a
 * row replacing its location's entry when it is not older. old is kept. */
struct fleet_view *fleet_view_merge(const struct fleet_view *old,
                                    const struct store_fleet_row *rows, size_t n,
                                    int64_t now_us);

/* The fleet's state of a check from its fresh locations' last runs: no
 * location: CHECK_STATE_PENDING; every one failed: DOWN; some: DEGRADED;
 * else UP. */
enum check_state fleet_state_rule(size_t n_ok, size_t n_failed);

/* --- one check as the fleet sees it ------------------------------------------------ */

struct fleet_loc {
	const char *location;
	int64_t ts_us, duration_us;
	bool ok;
	bool stale;                 /* no result for 3 intervals: not in the state */
	const char *error;          /* "" when ok */
	const char *message;
	const char *run_id;         /* "" when not known */
};

struct fleet_status {
	enum check_state state;     /* the fleet's state (see fleet_status_of) */
	size_t n;                   /* locations with a result, sorted by name */
	struct fleet_loc at[FLEET_MAX_LOCATIONS];
	int newest;                 /* index of the newest result; -1: none */
};

/* The fleet's view of sc: v's entries of the check (v may be NULL) with this
 * agent's own newest result (own: agent.location) from the snapshot, which
 * is fresher than the database's. The state: maintenance and blocked stay as
 * the snapshot says; else fleet_state_rule() over the locations whose last
 * result is younger than 3 intervals + 15 s (all stale: the newest alone);
 * no result anywhere: the snapshot's state. Pointers are valid while v and
 * sc are. */
void fleet_status_of(const struct fleet_view *v, const struct snapshot_check *sc,
                     const char *own, int64_t now_us, struct fleet_status *out);

#endif

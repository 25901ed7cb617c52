/* fleet_alert.h — the pure part of alerting across locations (SPEC §6,
 * docs/fleet.md): counting the locations of one (rule, check) pair, the
 * fleet's decision to fire, resolve or hold, the fleet alert id every agent
 * derives alike, the value and message that name the failing locations, and
 * the notification rows of a fleet transition with their stable keys.
 *
 * No I/O: the PostgreSQL writer (agent/store/fleet_alert_pg.c) reads the
 * locations under the pair's row lock and calls these; the agent's fail-open
 * path (agent/alerting_fleet.c) uses the same id and key scheme, so a page
 * sent during a partition and the fleet's page after it carry the same key. */
#ifndef PHAROS_FLEET_ALERT_H
#define PHAROS_FLEET_ALERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alerts/alert.h"
#include "alerts/outbox.h"
#include "core/util.h"

/* One location of a pair as the decision sees it. */
struct fleet_location {
	const char *location;
	bool firing;                /* its condition (the local engine's firing state) */
	bool fresh;                 /* a result within 2 intervals of the check */
};

/* failing: firing and fresh; unknown: stale (no result for 2 intervals,
 * whatever its condition says); passing: fresh and not firing. */
struct fleet_count {
	int failing, unknown, passing;
};
struct fleet_count fleet_count(const struct fleet_location *v, size_t n);

enum fleet_verdict { FLEET_HOLD, FLEET_FIRE, FLEET_RESOLVE };

/* The fleet's decision for a pair that is firing (firing_now) or not:
 * fire when failing >= min_locations; resolve a firing one when
 * failing + unknown < min_locations (an unknown location may still be
 * failing: it keeps the alert); otherwise hold. min_locations < 1 counts as 1. */
enum fleet_verdict fleet_decide(bool firing_now, struct fleet_count c, int min_locations);

/* The alert id of a pair's episode (16 hex digits): the same on every agent,
 * so a page sent by two agents carries one idempotency key. */
void fleet_alert_id(const char *rule, const char *check, int64_t episode, char out[UTIL_ID_LEN]);

/* The event value naming the failing locations, e.g.
 * "2 of 3 locations failing: ams, fra" (names in the order of v). New string. */
char *fleet_value(const struct fleet_location *v, size_t n);

/* The event message: "failing at ams, fra: <message>" ("recovered at every
 * location" when none fails; message may be NULL or ""). New string. */
char *fleet_message(const struct fleet_location *v, size_t n, const char *message);

/* Appends one pending notification of ev per notifier of notify (names
 * listed twice are sent once), created at now_us, whose idempotency key is
 * outbox_key(ev->alert_id, ev->kind, key_n, notifier): key_n is 0 for the
 * episode's FIRING and RESOLVED, the repeat's number for repeats, so every
 * agent derives the same key. Returns how many rows were added. */
size_t fleet_tx_add_event(struct outbox_tx *tx, const struct alert_event *ev,
                          char *const *notify, size_t n_notify, int64_t now_us, int64_t key_n);

#endif

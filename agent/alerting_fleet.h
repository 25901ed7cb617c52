/* alerting_fleet.h — the fleet half of the alert path (alerting_fleet.c),
 * called by alerting.c when the store is a fleet's (PostgreSQL). */
#ifndef PHAROS_ALERTING_FLEET_H
#define PHAROS_ALERTING_FLEET_H

struct alerting;
struct alerting_fleet;
struct engine_transition;
struct store_reader;

/* The fleet part for al (al->store is a fleet's), or NULL when it is not. */
struct alerting_fleet *alerting_fleet_new(struct alerting *al);
void alerting_fleet_free(struct alerting_fleet *f);

/* At start, instead of the SQLite restore: this location's conditions (else
 * the stored alert state) back into the engine, the fleet's episodes
 * remembered, and the first lease pass (adopting this location's rows). r
 * may be NULL (the database could not be read). */
void alerting_fleet_restore(struct alerting *al, struct store_reader *r);

/* An engine transition: a change of this location's condition goes to the
 * fleet (and, failing open, straight to this agent's notifiers). */
void alerting_fleet_transition(struct alerting *al, const struct engine_transition *t);

/* Every tick (about a second): lease passes every 5 s, sweeps every 10 s,
 * and the partition check (fail open after 60 s without the database). */
void alerting_fleet_tick(struct alerting *al);

#endif

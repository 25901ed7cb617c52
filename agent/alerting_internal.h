/* alerting_internal.h — between the halves of the alert path: alerting.c
 * (the engine, the outbox on SQLite, delivery, the snapshot) and
 * alerting_fleet.c (the fleet on PostgreSQL: conditions, sweeps, delivery
 * leases, fail-open during a partition). Only those two include it. */
#ifndef PHAROS_ALERTING_INTERNAL_H
#define PHAROS_ALERTING_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "alerts/engine.h"
#include "alerts/outbox.h"
#include "core/loop.h"

/* Ids of notifications sent failing open (kept in memory, never stored):
 * far above any database id, so delivery orders them after those. */
#define ALERTING_LOCAL_ID_BASE (INT64_C(1) << 62)

struct alerting_fleet;
struct store_reader;

struct alerting {
	struct loop *loop;
	struct store *store;
	struct sched *sched;
	bool *dirty;                    /* the agent's: publish a new snapshot */
	struct conf *conf;              /* a reference: the conf in force */
	struct engine *engine;
	struct delivery *delivery;      /* NULL once closed */
	struct outbox_tx tx;            /* what the current engine call emitted */
	struct loop_timer tick_timer;   /* engine_tick */
	bool stopping;
	struct alerting_fleet *fleet;   /* NULL unless the store is a fleet's */
};

/* --- alerting_fleet.c --------------------------------------------------------- */

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

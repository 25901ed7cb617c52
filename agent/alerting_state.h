/* alerting_state.h — the state of the alert path, shared by its two halves:
 * alerting.c (the engine, the outbox on SQLite, delivery, the snapshot) and
 * alerting_fleet.c (the fleet on PostgreSQL: conditions, sweeps, delivery
 * leases, fail-open during a partition). Only those two include it. */
#ifndef PHAROS_ALERTING_STATE_H
#define PHAROS_ALERTING_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include "alerts/engine.h"
#include "alerts/outbox.h"
#include "core/loop.h"

/* Ids of notifications sent failing open (kept in memory, never stored):
 * far above any database id, so delivery orders them after those. */
#define ALERTING_LOCAL_ID_BASE (INT64_C(1) << 62)

struct alerting_fleet;

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

#endif

/* fleet_alert_pg.h — the fleet's alerting on PostgreSQL (fleet_alert_pg.c):
 * the fleet condition ops of the writer's batch (one decision per (rule,
 * check) under its row lock), the sweep, delivery leases, and the read of
 * the pairs an agent restores. See docs/fleet.md. */
#ifndef PHAROS_FLEET_ALERT_PG_H
#define PHAROS_FLEET_ALERT_PG_H

#include <stddef.h>
#include <stdint.h>

#include "store/pg_conn.h"
#include "store/store_impl.h"
#include "store/store_pg_outbox.h"

int pg_fleet_pairs(struct store_reader *r, const char *location, struct store_fleet_pair **out,
                   size_t *n);

/* --- the writer's part ------------------------------------------------------- */

/* The writer's fleet part: who this agent is (learned from its ops) and the
 * fleet condition ops of the batch being committed, sorted. */
struct pg_fleet {
	char owner[256];            /* this agent's location; "" until its first op */
	struct store_op **sorted;   /* the batch's STORE_OP_FLEET ops by (rule, check) */
	size_t n_sorted, cap_sorted;
};
/* Inside the batch's transaction, before any op: sorts its fleet condition
 * ops into f->sorted and bounds lock waits. Returns 0 or -1 with err. */
int pg_fleet_begin(struct pg_fleet *f, PGconn *c, struct store_op *ops, char *err, size_t errlen);
/* Applies a FLEET, FLEET_SWEEP or LEASES op inside the open transaction. */
int pg_fleet_apply(struct pg_fleet *f, PGconn *c, struct pg_params *p, struct store_op *o,
                   char *err, size_t errlen);
void pg_fleet_free(struct pg_fleet *f);

#endif

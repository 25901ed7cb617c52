/* store_pg_incident.h — incidents on PostgreSQL (store_pg_incident.c): the
 * schema, their derivation inside the writer's batch and the read op.
 * The rules are those of store_sqlite_incident.c: see store_impl.h. */
#ifndef PHAROS_STORE_PG_INCIDENT_H
#define PHAROS_STORE_PG_INCIDENT_H

#include <stddef.h>

#include "store/pg_conn.h"
#include "store/store_impl.h"


/* Migration 4: incidents (one open per check: a partial unique index) and
 * their status updates. */
extern const char pg_incident_schema_sql[];

/* The writer's incident state: the checks with an open incident (and when it
 * started), loaded from the database at the first batch and after any batch
 * that did not commit, so a batch in which no incident opens, grows or closes
 * sends no statement at all. */
struct pg_incidents;
struct pg_incidents *pg_incidents_new(void);
void pg_incidents_free(struct pg_incidents *x);

/* Derives the incidents of the n rows from rows, in order, inside c's open
 * transaction: at most one UPDATE of the incidents open before the batch and
 * one INSERT of those it opens per 2,000 incidents touched. Returns 0, or -1
 * with err (the caller rolls back). */
int pg_incidents_apply(struct pg_incidents *x, PGconn *c, const struct store_row *rows,
                       size_t n, char *err, size_t errlen);
/* The batch's transaction did not commit: what x learned from it is void, so
 * the next batch reloads the open incidents. */
void pg_incidents_rolled_back(struct pg_incidents *x);

/* Applies a STORE_OP_INCIDENT_UPDATE inside c's open transaction: o->ids[0]
 * = the incident, n_ids 1 when it was added, 0 when there is no such
 * incident. Returns 0, or -1 with err. */
int pg_incident_note(PGconn *c, struct store_op *o, char *err, size_t errlen);

/* The incidents op of store_pg_ops: as store_incidents(). */
int pg_incidents(struct store_reader *r, const struct store_incident_query *q,
                 struct store_incident **out, size_t *n);

#endif

/* store_pg.h — the PostgreSQL implementation of the store as a whole: the
 * top part, store_pg.c (writer connection, batches, the ops table), builds on
 * store_pg_schema.h (migrations, day partitions, retention), rollup_pg.h
 * (rollups), store_pg_incident.h (incidents) and store_pg_read.h (read
 * connections and queries); those parts never include this header or call
 * store_pg.c, so they have no cycle.
 * agent/migrate.c (migrate-db) uses the schema part. See docs/postgresql.md. */
#ifndef PHAROS_STORE_PG_H
#define PHAROS_STORE_PG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/pg_conn.h"
#include "store/rollup_pg.h"
#include "store/store_impl.h"
#include "store/store_pg_incident.h"
#include "store/store_pg_read.h"
#include "store/store_pg_schema.h"
#include "store/fleet_alert_pg.h"

#endif

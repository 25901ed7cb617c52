/* store_pg_schema.h — the PostgreSQL store's schema (store_pg_schema.c):
 * numbered migrations, day partitions of results, retention. store_pg.c's
 * writer and agent/migrate.c (migrate-db) build on it. */
#ifndef PHAROS_STORE_PG_SCHEMA_H
#define PHAROS_STORE_PG_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/pg_conn.h"
#include "store/store_impl.h"

#define PG_DAY_US (86400LL * 1000000LL)

/* --- schema (store_pg_schema.c) ------------------------------------------------ */

/* The number of the newest migration this pharos knows. */
int pg_schema_version(void);
/* Applies every missing numbered migration in one transaction under an
 * advisory lock (two agents starting together migrate once); the table
 * pharos_schema holds one row per applied version. A database newer than
 * this pharos is refused. Returns 0 or -1 with err. */
int pg_migrate(PGconn *c, char *err, size_t errlen);

/* The results partitions the writer knows to exist (a day number each). */
struct pg_days {
	int64_t *v;
	size_t n, cap;
};
bool pg_days_has(const struct pg_days *d, int64_t day);
void pg_days_add(struct pg_days *d, int64_t day);
void pg_days_remove(struct pg_days *d, int64_t day);
void pg_days_free(struct pg_days *d);

/* The statement creating results' partition of day when missing. New string. */
char *pg_partition_create_sql(int64_t day);
/* Creates the partitions of every day of rows that d does not list, inside
 * the caller's transaction, and adds them to d. Returns 0 or -1 with err. */
int pg_partitions_for_rows(PGconn *c, struct pg_days *d, const struct store_row *rows,
                           size_t n, char *err, size_t errlen);

/* Retention state of the writer (store_pg_schema.c). */
struct pg_retention {
	uint64_t raw_ms, rollups_ms;        /* atomics: set from any thread */
	int phase;
	int64_t next_pass_us;
};
/* One short step of the retention pass (a pass every 5 minutes):
 * create tomorrow's partitions, drop results partitions wholly older than
 * raw retention, delete old rollup rows in small batches. Outside any
  * transaction; errors are logged and end the pass. */
void pg_retention_step(struct pg_retention *rt, PGconn *c, struct pg_days *d, int64_t now_us);

#endif

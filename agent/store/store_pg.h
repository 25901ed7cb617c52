/* store_pg.h — between the parts of the PostgreSQL implementation of the
 * store: store_pg.c (writer connection, batches, the ops table),
 * store_pg_schema.c (migrations, day partitions, retention),
 * store_pg_read.c (read connections and queries), store_pg_incident.c
 * (incidents) and rollup_pg.c (rollups);
 * agent/migrate.c (migrate-db) uses its schema part too. See
 * docs/postgresql.md. */
#ifndef PHAROS_STORE_PG_H
#define PHAROS_STORE_PG_H

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

/* --- incidents (store_pg_incident.c) ------------------------------------------------
 * The rules are those of store_sqlite_incident.c: see store_impl.h. */

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

/* --- rollups (rollup_pg.c) ------------------------------------------------------ */

extern const char pg_rollup_schema_sql[];

struct pg_rollup;
struct pg_rollup *pg_rollup_new(void);
void pg_rollup_free(struct pg_rollup *w);
/* As rollup_writer_begin/add/commit (rollup_sqlite.h), on c's open transaction. */
void pg_rollup_begin(struct pg_rollup *w);
void pg_rollup_add(struct pg_rollup *w, const char *check, int64_t ts_us, int64_t duration_us,
                   bool ok);
int pg_rollup_commit(struct pg_rollup *w, PGconn *c, int64_t now_us, char *err, size_t errlen);

/* --- readers (store_pg_read.c) --------------------------------------------------- */

struct pg_reader {
	struct store_reader base;
	PGconn *c;
	char display[512];          /* the URI without password: logs, cache key */
};

/* c ready for a read (reconnected when it broke). Returns 0, or -1 after
 * logging. */
int pg_reader_ready(struct pg_reader *r);
/* A read query: the result, or NULL after logging "store: reading WHAT failed". */
PGresult *pg_read(struct pg_reader *r, const char *sql, const struct pg_params *p,
                  const char *what);

/* Reads the rows of sql through a cursor, PG_FETCH_ROWS at a time, handing
 * each batch to fn: memory stays bounded however many rows match (a whole
 * PGresult of the 90-day part of 10,000 checks would be ~400 MB). Returns 0
 * or -1 (logged). */
#define PG_FETCH_ROWS "5000"
typedef void pg_rows_fn(void *arg, const PGresult *res);
int pg_read_each(struct pg_reader *r, const char *sql, const struct pg_params *p,
                 const char *what, pg_rows_fn *fn, void *arg);

void pg_rollup_source(struct store_reader *r, struct rollup_source *out);

struct store_reader *pg_reader_open(const char *uri, char *err, size_t errlen);
void pg_reader_close(struct store_reader *r);
int pg_results(struct store_reader *r, const struct store_query *q, store_raw_fn *fn,
               void *arg);
int pg_durations(struct store_reader *r, const char *check, int64_t since_us, int64_t until_us,
                 store_sample_fn *fn, void *arg);
int pg_outbox_pending(struct store_reader *r, struct outbox_row **rows, size_t *n);
int pg_outbox_get(struct store_reader *r, int64_t id, struct outbox_row *out);
json_t *pg_notifications(struct store_reader *r, const char *state, int limit);
json_t *pg_notification_counts(struct store_reader *r);
int pg_alert_states(struct store_reader *r, struct alert_state_row **rows, size_t *n);
json_t *pg_alert_history(struct store_reader *r, const char *check, int limit);

#endif

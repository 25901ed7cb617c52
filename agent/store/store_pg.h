/* store_pg.h — between the parts of the PostgreSQL implementation of the
 * store: store_pg.c (writer connection, batches, the ops table),
 * store_pg_schema.c (migrations, day partitions, retention),
 * store_pg_read.c (read connections and queries) and rollup_pg.c (rollups);
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

int pg_fleet_pairs(struct store_reader *r, const char *location, struct store_fleet_pair **out,
                   size_t *n);

/* The columns outbox_row_from reads, and the reader of one row of them:
 * 0, or -1 when the stored event cannot be parsed (out stays zeroed). */
#define PG_OUTBOX_COLUMNS \
	"id, key, notifier, event, state, attempts, created_us, next_attempt_us," \
	" last_error, delivered_us, seq"
int pg_outbox_row_from(const PGresult *res, int i, struct outbox_row *out);

/* --- writer: notifications and the fleet (store_pg.c, fleet_alert_pg.c) ------- */

#define PG_LEASE_S "20"         /* a delivery lease; renewed every 5 s */
#define PG_LIVE_S "15"          /* an agent is live while seen this recently */

/* Inserts r (ON CONFLICT (key) DO NOTHING), leased to lease_owner (NULL: not
 * leased) or to the agent holding an older undelivered row of the same alert
 * and notifier; *id is the new id, 0 when the key existed, -1 when the row
 * went to another agent. Runs p and empties it. Returns 0 or -1 with err. */
int pg_insert_notification(PGconn *c, struct pg_params *p, const struct outbox_row *r,
                           const char *lease_owner, int64_t *id, char *err, size_t errlen);

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
/* fleet: stand-in until fview lands: the batch's newest result per check
 * into fleet_latest, under this agent's location. */
int pg_fleet_latest(struct pg_fleet *f, PGconn *c, const struct store_row *rows, size_t n,
                    char *err, size_t errlen);
void pg_fleet_free(struct pg_fleet *f);

#endif

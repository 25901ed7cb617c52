/* store_pg_read.h — the read side of the PostgreSQL implementation
 * (store_pg_read.c): read connections, the read query helpers the rollups
 * use too (rollup_pg.c), and the reads store_pg.c puts in its ops table. */
#ifndef PHAROS_STORE_PG_READ_H
#define PHAROS_STORE_PG_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/pg_conn.h"
#include "store/store_impl.h"

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


/* A reader on uri; its ops are set by the caller (store_pg.c), which holds
 * the table. NULL with err on failure. */
struct store_reader *pg_reader_open(const char *uri, char *err, size_t errlen);
void pg_reader_close(struct store_reader *r);
int pg_results(struct store_reader *r, const struct store_query *q, store_raw_fn *fn,
               void *arg);
int pg_durations(struct store_reader *r, const char *check, int64_t since_us, int64_t until_us,
                 store_sample_fn *fn, void *arg);
int pg_latest(struct store_reader *r, const char *names_json, store_raw_latest_fn *fn,
              void *arg);
int pg_runs(struct store_reader *r, const char *names_json, int64_t since_us,
            store_raw_run_fn *fn, void *arg);
int pg_outbox_pending(struct store_reader *r, struct outbox_row **rows, size_t *n);
int pg_outbox_get(struct store_reader *r, int64_t id, struct outbox_row *out);
json_t *pg_notifications(struct store_reader *r, const char *state, int limit);
json_t *pg_notification_counts(struct store_reader *r);
int pg_alert_states(struct store_reader *r, struct alert_state_row **rows, size_t *n);
json_t *pg_alert_history(struct store_reader *r, const char *check, int limit);
/* The columns outbox_row_from reads, and the reader of one row of them:
 * 0, or -1 when the stored event cannot be parsed (out stays zeroed). */
#define PG_OUTBOX_COLUMNS \
	"id, key, notifier, event, state, attempts, created_us, next_attempt_us," \
	" last_error, delivered_us, seq"
int pg_outbox_row_from(const PGresult *res, int i, struct outbox_row *out);

/* store_pg_fleet.c */
int pg_fleet_latest(struct store_reader *r, int64_t *cursor, store_fleet_fn *fn, void *arg);

#endif

/* store_sqlite_read.h — the read half of the SQLite implementation
 * (store_sqlite_read.c): what store_sqlite.c puts in its ops table, and a
 * reader's connection for the incident reads (store_sqlite_incident.c). The
 * read half does not know the ops table: store_sqlite.c sets a reader's ops. */
#ifndef PHAROS_STORE_SQLITE_READ_H
#define PHAROS_STORE_SQLITE_READ_H

#include "store/store_impl.h"

/* The read side of store_sqlite_ops; see struct store_ops. A reader from
 * sqlite_reader_open has no ops yet: its caller sets them. */
struct store_reader *sqlite_reader_open(const char *path, char *err, size_t errlen);
void sqlite_reader_close(struct store_reader *r);
void sqlite_rollup_source(struct store_reader *r, struct rollup_source *out);
int sqlite_latest(struct store_reader *r, const char *names_json, store_raw_latest_fn *fn,
                  void *arg);
int sqlite_runs(struct store_reader *r, const char *names_json, int64_t since_us,
                store_raw_run_fn *fn, void *arg);
int sqlite_results(struct store_reader *r, const struct store_query *q, store_raw_fn *fn,
                   void *arg);
int sqlite_durations(struct store_reader *r, const char *check, int64_t since_us,
                     int64_t until_us, store_sample_fn *fn, void *arg);
int sqlite_outbox_pending(struct store_reader *r, struct outbox_row **rows, size_t *n);
int sqlite_outbox_get(struct store_reader *r, int64_t id, struct outbox_row *out);
json_t *sqlite_notifications(struct store_reader *r, const char *state, int limit);
json_t *sqlite_notification_counts(struct store_reader *r);
int sqlite_alert_states(struct store_reader *r, struct alert_state_row **rows, size_t *n);
json_t *sqlite_alert_history(struct store_reader *r, const char *check, int limit);

/* The connection of a reader of this implementation. */
struct sqlite3;
struct sqlite3 *sqlite_reader_db(struct store_reader *r);

#endif

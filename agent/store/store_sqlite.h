/* store_sqlite.h — between the two halves of the SQLite implementation:
 * store_sqlite.c (writer, and the ops table) and store_sqlite_read.c (reads). */
#ifndef PHAROS_STORE_SQLITE_H
#define PHAROS_STORE_SQLITE_H

#include "store/store_impl.h"

/* The read side of store_sqlite_ops; see struct store_ops. */
struct store_reader *sqlite_reader_open(const char *path, char *err, size_t errlen);
void sqlite_reader_close(struct store_reader *r);
void sqlite_rollup_source(struct store_reader *r, struct rollup_source *out);
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


/* Incidents (store_sqlite_incident.c). The writer calls the first two inside
 * the batch's transaction; sqlite_incidents is the read op. */
struct sqlite3;
extern const char incident_schema_sql[];
int sqlite_incidents_apply(struct sqlite3 *db, const struct store_row *rows, size_t n,
                           char *err, size_t errlen);
int sqlite_incident_note(struct sqlite3 *db, struct store_op *o, char *err, size_t errlen);
int sqlite_incidents(struct store_reader *r, const struct store_incident_query *q,
                     struct store_incident **out, size_t *n);
/* The connection of a reader of this implementation. */
struct sqlite3 *sqlite_reader_db(struct store_reader *r);

#endif

/* store_sqlite_incident.h — incidents in the SQLite store
 * (store_sqlite_incident.c). The writer (store_sqlite.c) calls the first two
 * inside the batch's transaction; sqlite_incidents is the read op. Builds on
 * the read half (store_sqlite_read.h), never on store_sqlite.c. */
#ifndef PHAROS_STORE_SQLITE_INCIDENT_H
#define PHAROS_STORE_SQLITE_INCIDENT_H

#include "store/store_impl.h"

struct sqlite3;
extern const char incident_schema_sql[];
/* The writer's incident statements, kept across batches (free them before
 * closing db). */
struct incident_stmts;
struct incident_stmts *sqlite_incident_stmts_new(struct sqlite3 *db);
void sqlite_incident_stmts_free(struct incident_stmts *is);
int sqlite_incidents_apply(struct incident_stmts *is, const struct store_row *rows, size_t n,
                           char *err, size_t errlen);
int sqlite_incident_note(struct sqlite3 *db, struct store_op *o, char *err, size_t errlen);
int sqlite_incidents(struct store_reader *r, const struct store_incident_query *q,
                     struct store_incident **out, size_t *n);

#endif

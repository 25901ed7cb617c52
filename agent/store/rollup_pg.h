/* rollup_pg.h — rollups in the PostgreSQL store (rollup_pg.c): their schema
 * (a numbered migration of store_pg_schema.c), the writer's side inside
 * store_pg.c's batch, and the read side over a PostgreSQL reader. */
#ifndef PHAROS_ROLLUP_PG_H
#define PHAROS_ROLLUP_PG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/pg_conn.h"
#include "store/store_impl.h"

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

/* The rollup tables of a PostgreSQL reader, as a source for the shared
 * window reads (rollup_read.c). */
void pg_rollup_source(struct store_reader *r, struct rollup_source *out);

#endif

/* rollup_sqlite.h — the rollups of the SQLite store: schema, writer side
 * (inside the batch transaction), retention, and the part reads behind
 * struct rollup_source (rollup.h). Only agent/store/ and its tests use it.
 *
 * Tables (migration rollup_schema_sql): rollup_minute, rollup_hour and
 * rollup_day, each PRIMARY KEY (check_name, bucket_start_s) WITHOUT ROWID, with
 * count, failures, latency_sum_us, latency_min_us, latency_max_us and a fixed
 * latency histogram of ROLLUP_BUCKETS INTEGER columns h0..h15 (SQLite stores a
 * small integer in 1-2 bytes and a zero in none, so 16 columns cost less than
 * a fixed-width BLOB and stay summable in SQL). rollup_meta holds the derivation
 * marks hour_done_s / day_done_s.
 *
 * Writing: the writer thread adds each committed result to the minute rollup
 * in the same transaction (UPSERT adding counts: exact). Closed hours are
 * derived from minutes (and closed days from hours) in the first batch after
 * they close plus a grace; a late result for an already derived bucket is also
 * added to it directly, so every level stays exact. */
#ifndef PHAROS_ROLLUP_SQLITE_H
#define PHAROS_ROLLUP_SQLITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sqlite3.h>

#include "store/rollup.h"

/* The SQL of the schema migration (tables, marks, and a backfill of the
 * minute rollup from raw results already in the database). */
extern const char rollup_schema_sql[];

/* --- writer side (the store's writer thread only) ----------------------------- */

struct rollup_writer;

struct rollup_writer *rollup_writer_new(void);
/* Finalizes the writer's statements; call before closing its connection. */
void rollup_writer_free(struct rollup_writer *w);
/* Retention of raw results and of hour/day rollups; 0 keeps forever. Any
 * thread. Minute rollups are kept min(ROLLUP_MINUTE_KEEP_S, rollups). */
void rollup_writer_set_retention(struct rollup_writer *w, uint64_t raw_ms, uint64_t rollups_ms);

/* A batch transaction: begin() forgets what a failed attempt added; add() is
 * called once per result inserted (check must stay valid until commit());
 * commit() upserts the minute rollups, derives closed hours and days, inside
 * the transaction still open on db. Returns 0 or -1 with err. */
void rollup_writer_begin(struct rollup_writer *w);
void rollup_writer_add(struct rollup_writer *w, const char *check, int64_t ts_us,
                       int64_t duration_us, bool ok);
int rollup_writer_commit(struct rollup_writer *w, sqlite3 *db, int64_t now_us, char *err,
                         size_t errlen);

/* Retention: call outside any transaction, e.g. after each commit. Starts a
 * pass every ROLLUP_PRUNE_EVERY_S; each call does at most one step of it (one
 * short transaction deleting at most ~2000 rows), then a passive WAL
 * checkpoint at the end of the pass. */
#define ROLLUP_PRUNE_EVERY_S 300
void rollup_writer_maintain(struct rollup_writer *w, sqlite3 *db, int64_t now_us);
/* A whole pass now, step by step (tests, tools). Returns 0 or -1. */
int rollup_writer_prune_now(struct rollup_writer *w, sqlite3 *db, int64_t now_us);

/* --- readers (any connection) ---------------------------------------------------- */

/* The rollup tables of db as a source for the shared reads (rollup.h); the
 * cache key is db's file name. */
void rollup_sqlite_source(sqlite3 *db, struct rollup_source *out);

/* The shared reads (rollup.h) on db's tables. */
int rollup_read_window(sqlite3 *db, const char *check, int64_t since_us, int64_t now_us,
                       struct rollup_agg *out);
int rollup_read_window_all(sqlite3 *db, int64_t since_us, int64_t now_us, rollup_each_fn *fn,
                           void *arg);
int rollup_read_days(sqlite3 *db, const char *check, int64_t since_us, int64_t now_us,
                     rollup_count_fn *fn, void *arg);
int rollup_read_series(sqlite3 *db, const char *check, int64_t since_us, int64_t until_us,
                       int64_t step_s, rollup_series_fn *fn, void *arg);

#endif

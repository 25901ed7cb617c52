/* store.h — the SQLite database: results, written by one writer thread in
 * batches, read by the HTTP threads through their own read-only connections.
 *
 * WAL mode; schema changes are numbered migrations applied at open
 * (PRAGMA user_version). store_append() never blocks on disk: it copies the
 * result into a queue that the writer thread commits about every 100 ms or
 * every 500 rows, whichever comes first. */
#ifndef PHAROS_STORE_H
#define PHAROS_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "result.h"

struct store;
struct store_reader;

/* Opens (creating file and parent directory when missing), migrates, starts
 * the writer thread. Returns NULL with a message in err on failure. */
struct store *store_open(const char *path, char *err, size_t errlen);
/* Commits everything queued, stops the writer, closes. */
void store_close(struct store *s);

/* Queues one result of check for writing (copied; the caller keeps r). */
void store_append(struct store *s, const char *check, const struct probe_result *r);
/* Blocks until everything queued before the call is committed. */
void store_flush(struct store *s);
/* False when the last commit failed (disk full, read-only, ...): /readyz. */
bool store_healthy(const struct store *s);
/* The last commit error in words, or "" */
void store_last_error(const struct store *s, char *buf, size_t len);

/* --- reading (any thread; one reader per thread at a time) ----------------- */

struct store_reader *store_reader_open(const char *path, char *err, size_t errlen);
void store_reader_close(struct store_reader *r);

/* Raw results of check, newest first, with since_us <= ts < until_us
 * (0 = unbounded), at most limit rows. A JSON array of objects like
 * probe_result_to_json() without assertions. New reference, NULL on error. */
json_t *store_results(struct store_reader *r, const char *check,
                      int64_t since_us, int64_t until_us, int limit);

/* Uptime in percent over [since_us, now): -1 when no result in the window. */
double store_uptime(struct store_reader *r, const char *check, int64_t since_us);

/* Latency percentiles (milliseconds) over [since_us, now) of successful and
 * failed runs; -1 when no result. */
int store_latency(struct store_reader *r, const char *check, int64_t since_us,
                  double *p50_ms, double *p95_ms);

#endif

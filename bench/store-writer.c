/* store-writer.c — how many results per second the store's batch writer
 * sustains on one database (a SQLite path or a postgresql:// URI): appends
 * N results of C checks through store_append() in chunks and flushes after
 * each chunk (so the bounded queue never drops), and prints results/s.
 * Built and run by bench/store; links against build/libpharos.a.
 *
 * usage: store-writer DATABASE [RESULTS] [CHECKS] */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "probes/result.h"
#include "store/store.h"

#define CHUNK 20000             /* results appended between flushes: under the queue bound */

int main(int argc, char **argv)
{
	const char *db = argc > 1 ? argv[1] : NULL;
	long n = argc > 2 ? atol(argv[2]) : 200000;
	long checks = argc > 3 ? atol(argv[3]) : 10000;
	char err[512], (*names)[32];
	struct probe_result r;
	struct store *s;
	uint64_t t0, t1;
	int64_t now = util_wall_us();

	if (db == NULL || n <= 0 || checks <= 0) {
		fprintf(stderr, "usage: store-writer DATABASE [RESULTS] [CHECKS]\n");
		return 2;
	}
	log_setup(LOG_FORMAT_LOGFMT, LOG_WARN);
	s = store_open(db, err, sizeof(err));
	if (s == NULL) {
		fprintf(stderr, "store-writer: %s\n", err);
		return 1;
	}
	names = xcalloc((size_t)checks, sizeof(*names));
	for (long i = 0; i < checks; i++)
		snprintf(names[i], sizeof(names[i]), "check-%05ld", i);
	memset(&r, 0, sizeof(r));
	r.ok = true;
	r.error = PROBE_OK;
	r.dns_us = r.tls_us = r.ttfb_us = -1;
	r.status_code = -1;
	r.bytes = -1;
	r.attempts = 1;
	t0 = util_mono_us();
	for (long i = 0; i < n; i++) {
		r.start_us = now - (n - i) * 1000;     /* one result per ms, ending now */
		r.duration_us = 1000 + i % 50000;
		r.connect_us = r.duration_us;
		snprintf(r.message, sizeof(r.message), "connected to 127.0.0.1:%ld", 1000 + i % checks);
		snprintf(r.run_id, sizeof(r.run_id), "%016lx", (unsigned long)i);
		store_append(s, names[i % checks], &r);
		if ((i + 1) % CHUNK == 0)
			store_flush(s);
	}
	store_flush(s);
	t1 = util_mono_us();
	printf("%.0f results/s (%ld results of %ld checks in %.2f s, %" PRIu64 " dropped%s)\n",
	       (double)n * 1e6 / (double)(t1 - t0), n, checks, (double)(t1 - t0) / 1e6,
	       store_dropped_results(s), store_healthy(s) ? "" : ", last commit FAILED");
	store_close(s);
	free(names);
	return 0;
}

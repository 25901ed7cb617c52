/* store-writer.c — how many results per second the store's batch writer
 * sustains on one database (a SQLite path or a postgresql:// URI): appends
 * N results of C checks through store_append() in chunks and flushes after
 * each chunk (so the bounded queue never drops), and prints results/s.
 * Built and run by bench/store; links against build/libpharos.a.
 *
 * usage: store-writer DATABASE [RESULTS] [CHECKS] [CHUNK] [PAUSE_MS]
 * CHUNK (default 20,000): results appended between flushes; with 110 and a
 * PAUSE_MS of 100 after each flush, the batches of an agent running 1,100
 * http probes a second (rows with an http probe's details). */
#include <inttypes.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/util.h"
#include "probes/result.h"
#include "store/store.h"

#define CHUNK 20000             /* results appended between flushes: under the queue bound */

/* Details as an http probe of check i leaves them (about 250 bytes). */
static void set_details(struct probe_result *r, long i)
{
	char url[64];

	json_decref(r->details);
	snprintf(url, sizeof(url), "http://127.0.0.1:43341/probe?%ld", i);
	r->details = json_pack("{s:s, s:s, s:i, s:b, s:b, s:s, s:s, s:i}",
	                       "trace_id", "57528cda5a32e1036cd4989b38792864", "final_url", url,
	                       "redirects", 0, "insecure", 0, "truncated", 0, "http_version", "1.1",
	                       "remote", "127.0.0.1", "remote_port", 43341);
}

/* CPU time (user + system) in microseconds of the process or of this thread. */
static double cpu_us(int who)
{
	struct rusage ru;

	getrusage(who, &ru);
	return (double)ru.ru_utime.tv_sec * 1e6 + (double)ru.ru_utime.tv_usec +
	       (double)ru.ru_stime.tv_sec * 1e6 + (double)ru.ru_stime.tv_usec;
}

int main(int argc, char **argv)
{
	const char *db = argc > 1 ? argv[1] : NULL;
	long n = argc > 2 ? atol(argv[2]) : 200000;
	long checks = argc > 3 ? atol(argv[3]) : 10000;
	long chunk = argc > 4 ? atol(argv[4]) : CHUNK;
	long pause_ms = argc > 5 ? atol(argv[5]) : 0;
	struct timespec pause = { pause_ms / 1000, pause_ms % 1000 * 1000000 };
	char err[512], (*names)[32];
	struct probe_result r;
	struct store *s;
	uint64_t t0, t1;
	double writer_us;
	int64_t now = util_wall_us();

	if (db == NULL || n <= 0 || checks <= 0 || chunk <= 0 || chunk > CHUNK || pause_ms < 0) {
		fprintf(stderr, "usage: store-writer DATABASE [RESULTS] [CHECKS] [CHUNK] [PAUSE_MS]\n");
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
		snprintf(r.message, sizeof(r.message), "HTTP 200 OK");
		snprintf(r.run_id, sizeof(r.run_id), "%016lx", (unsigned long)i);
		set_details(&r, i % checks);
		store_append(s, names[i % checks], &r);
		if ((i + 1) % chunk == 0) {
			store_flush(s);
			if (pause_ms > 0)
				nanosleep(&pause, NULL);
		}
	}
	store_flush(s);
	t1 = util_mono_us();
	writer_us = cpu_us(RUSAGE_SELF) - cpu_us(RUSAGE_THREAD);
	/* Every thread but this one is the store's writer: its CPU per result. */
	printf("%.0f results/s, writer thread %.1f us CPU/result (%ld results of %ld checks in %.2f s,"
	       " %" PRIu64 " dropped%s)\n",
	       (double)n * 1e6 / (double)(t1 - t0), writer_us / (double)n, n, checks,
	       (double)(t1 - t0) / 1e6,
	       store_dropped_results(s), store_healthy(s) ? "" : ", last commit FAILED");
	store_close(s);
	json_decref(r.details);
	free(names);
	return 0;
}

/* page.h — the server-rendered status pages of SPEC §3: GET / (every check
 * by group, with uptime and a 90-day bar), GET /check/NAME (uptime figures,
 * latency chart, failures, alerts) and the embedded files they use
 * (GET /assets/NAME). The HTML is complete without JavaScript; the script
 * only refreshes states. Every user-supplied string (names, groups, targets,
 * messages) goes through page_escape(), which also masks secrets. */
#ifndef PHAROS_PAGE_H
#define PHAROS_PAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "web/api.h"

/* Largest page rendered; past it the answer is 500 (a page of 10,000 checks
 * is about 6 MiB). */
#define PAGE_MAX_BYTES (64u << 20)
#define PAGE_DAYS 90                /* cells of the uptime bar */

/* A growing text buffer with the PAGE_MAX_BYTES ceiling. Zero-initialize;
 * data is NUL-terminated once anything was added. Appends past the ceiling
 * are dropped and set full. */
struct page_buf {
	char *data;
	size_t len, cap;
	bool full;
};
void page_buf_add(struct page_buf *b, const char *s, size_t n);
void page_buf_puts(struct page_buf *b, const char *s);
void page_buf_printf(struct page_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void page_buf_free(struct page_buf *b);

/* Appends s (NULL: nothing) with registered secrets masked, escaped for HTML
 * and XML text and for quoted attribute values alike: & < > " ' become
 * entities, control characters other than tab and newline are dropped and
 * bytes of invalid UTF-8 become '?' (an SVG with them would not parse). The
 * one escaping function of the pages and the badges. */
void page_escape(struct page_buf *b, const char *s);

/* "99.95%" (two decimals, rounded down so that 99.999 never shows as 100),
 * "100%"; "n/a" when pct < 0 (no data). */
void page_format_pct(double pct, char *buf, size_t len);

/* Colour class of an uptime: "u-g" (>= 99.9), "u-y" (>= 99), "u-o" (>= 95),
 * "u-r" (below), "u-n" (pct < 0: no data). */
const char *page_uptime_class(double pct);

/* Latency chart data: results bucketed over a time range. */
struct page_sample {
	int64_t ts_us;
	int64_t duration_us;
	bool ok;
};
struct page_point {
	int64_t start_us;           /* the bucket covers [start_us, start_us + width) */
	int n;                      /* results in the bucket; 0: no data */
	int failures;
	double p50_ms, p95_ms;      /* nearest rank over every result of the bucket */
};

/* Splits [since_us, until_us) into n_points equal buckets and fills points
 * with each bucket's count, failures and p50 / p95 duration. Samples may come
 * in any order (s is reordered); samples outside the range are ignored. */
void page_latency_points(struct page_sample *s, size_t n, int64_t since_us, int64_t until_us,
                         struct page_point *points, size_t n_points);

/* Appends the inline SVG chart of points (p50 and p95 lines, failure marks,
 * a hover title per bucket) over [since_us, until_us). */
void page_latency_svg(struct page_buf *b, const struct page_point *points, size_t n_points,
                      int64_t since_us, int64_t until_us);

/* Forgets what the index page caches: its rendered bytes (reused for 1 s)
 * and the history of every check (uptime per check and day, re-read at most
 * every 30 s otherwise). */
void page_cache_clear(void);

/* Route handlers. page_not_found also answers paths whose name the router
 * rejected, so a browser gets HTML rather than JSON. */
api_handler page_index;             /* GET / */
api_handler page_check;             /* GET /check/{name} */
api_handler page_asset;             /* GET /assets/{name} */
api_handler page_not_found;

#endif

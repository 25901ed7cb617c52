/* page_chart.h — the latency chart of the check page: results bucketed over
 * a time range (p50, p95, failures per bucket) and drawn as an inline SVG. */
#ifndef PHAROS_PAGE_CHART_H
#define PHAROS_PAGE_CHART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

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
void page_latency_svg(struct buf *b, const struct page_point *points, size_t n_points,
                      int64_t since_us, int64_t until_us);

/* Appends the inline SVG chart of each of the n samples (oldest first) in
 * [since_us, until_us): one point per run (failed ones marked, a hover title
 * each) joined by a line. For ranges with few runs, where buckets would show
 * almost nothing (a check's first hour). */
void page_runs_svg(struct buf *b, const struct page_sample *s, size_t n, int64_t since_us,
                   int64_t until_us);

#endif

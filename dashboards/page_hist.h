/* page_hist.h — the history of every check for the index page: uptime over
 * 24 hours and 90 days and per day, the mean response time over 24 hours, read from the store in three grouped
 * statements and shared by every render until it goes stale. */
#ifndef PHAROS_PAGE_HIST_H
#define PHAROS_PAGE_HIST_H

#include <stddef.h>
#include <stdint.h>

#include "dashboards/page.h"

struct store_reader;

struct page_hist_row {
	char *name;
	int64_t runs24, ok24, runs90, ok90;
	double avg24_ms;            /* mean duration over 24 hours; -1: no run */
	/* Runs and successes per day from day first_day (0: PAGE_DAYS - 1 days
	 * ago) to today, as pairs; NULL: no day had a run. Only the days since
	 * the first run are kept: a young agent of 100,000 checks would carry
	 * 70 MB of zeros in whole 90-day arrays. Read with page_hist_days. */
	int32_t (*days)[2];
	int first_day;
};

struct page_hist {
	int refs;                   /* under the cache's lock */
	int64_t built_us;
	int64_t ttl_us;
	int64_t today;              /* UTC day number of built_us */
	struct page_hist_row *rows; /* sorted by name */
	size_t n, cap;
};

/* The cached history (a reference; page_hist_release it), rebuilt when stale.
 * One thread rebuilds while the others keep using the stale copy. NULL when
 * there is no reader (r NULL) and nothing cached, or the database cannot be
 * read and nothing is cached. */
struct page_hist *page_hist_acquire(struct store_reader *r, int64_t now_us);

/* Drops a reference (h may be NULL). */
void page_hist_release(struct page_hist *h);

/* The row of check name, or NULL (h may be NULL). */
struct page_hist_row *page_hist_find(const struct page_hist *h, const char *name);

/* Fills runs and ok (PAGE_DAYS entries each, [PAGE_DAYS - 1] is today)
 * from row; zeros where it has nothing (row may be NULL). */
void page_hist_days(const struct page_hist_row *row, int32_t runs[PAGE_DAYS], int32_t ok[PAGE_DAYS]);

/* Forgets the cached history: the next page_hist_acquire reads anew. */
void page_hist_clear(void);

#endif

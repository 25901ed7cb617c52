/* page_hist.c — the history cache of the index page (page_hist.h): the
 * uptime of every check over 24 hours, 90 days and per day, read in three
 * grouped statements (never a query per check) and reused for PAGE_HIST_TTL
 * or longer when the database is slow. One thread rebuilds a stale copy while
 * the others keep rendering from it; the copies are reference-counted. */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "dashboards/page_hist.h"
#include "dashboards/page_parts.h"
#include "store/store.h"

#define PAGE_HIST_TTL_US   (30 * US_PER_S)     /* the shortest life of a copy */
#define PAGE_HIST_TTL_MAX  (600 * US_PER_S)

static pthread_mutex_t hist_lock = PTHREAD_MUTEX_INITIALIZER;     /* hist_cur, refs */
static pthread_mutex_t hist_build_lock = PTHREAD_MUTEX_INITIALIZER; /* one builder */
static struct page_hist *hist_cur;

void page_hist_release(struct page_hist *h)
{
	bool last;

	if (h == NULL)
		return;
	pthread_mutex_lock(&hist_lock);
	last = --h->refs == 0;
	pthread_mutex_unlock(&hist_lock);
	if (!last)
		return;
	for (size_t i = 0; i < h->n; i++) {
		free(h->rows[i].name);
		free(h->rows[i].days);
	}
	free(h->rows);
	free(h);
}


/* See page_hist.h. */
void page_hist_clear(void)
{
	struct page_hist *old;

	pthread_mutex_lock(&hist_lock);
	old = hist_cur;
	hist_cur = NULL;
	pthread_mutex_unlock(&hist_lock);
	page_hist_release(old);
}

static int row_cmp(const void *a, const void *b)
{
	const struct page_hist_row *x = a, *y = b;

	return strcmp(x->name, y->name);
}

struct page_hist_row *page_hist_find(const struct page_hist *h, const char *name)
{
	struct page_hist_row key = { .name = (char *)name };

	if (h == NULL || h->n == 0)
		return NULL;
	return bsearch(&key, h->rows, h->n, sizeof(*h->rows), row_cmp);
}

/* store_count_fn of the 90-day read: one new row per check. */
static void hist_add90(void *arg, const char *check, int64_t day, int64_t runs, int64_t ok)
{
	struct page_hist *h = arg;
	struct page_hist_row *row;

	if (h->n == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 256;
		h->rows = xrealloc(h->rows, h->cap * sizeof(*h->rows));
	}
	row = &h->rows[h->n++];
	memset(row, 0, sizeof(*row));
	row->name = xstrdup(check);
	row->avg24_ms = -1;
	row->runs90 = runs;
	row->ok90 = ok;
}

/* store_summary_fn of the 24-hour read: uptime and mean response time. */
static void hist_add24(void *arg, const struct store_summary *sm)
{
	struct page_hist_row *row = page_hist_find(arg, sm->check);

	if (row != NULL) {
		row->runs24 = sm->runs;
		row->ok24 = sm->ok;
		row->avg24_ms = sm->runs > 0 ? sm->avg_ms : -1;
	}
}

/* Makes row's day pairs reach back to day i (days arrive oldest first, so
 * this allocates once per check). */
static void row_cover_day(struct page_hist_row *row, int i)
{
	int32_t (*days)[2];

	if (row->days != NULL && i >= row->first_day)
		return;
	days = xcalloc((size_t)(PAGE_DAYS - i), sizeof(*days));
	if (row->days != NULL)
		memcpy(days + (row->first_day - i), row->days,
		       (size_t)(PAGE_DAYS - row->first_day) * sizeof(*days));
	free(row->days);
	row->days = days;
	row->first_day = i;
}

static void hist_add_day(void *arg, const char *check, int64_t day, int64_t runs, int64_t ok)
{
	struct page_hist *h = arg;
	struct page_hist_row *row = page_hist_find(h, check);
	int64_t i = day - (h->today - (PAGE_DAYS - 1));

	if (row != NULL && i >= 0 && i < PAGE_DAYS) {
		row_cover_day(row, (int)i);
		row->days[i - row->first_day][0] = (int32_t)(runs > INT32_MAX ? INT32_MAX : runs);
		row->days[i - row->first_day][1] = (int32_t)(ok > INT32_MAX ? INT32_MAX : ok);
	}
}

void page_hist_days(const struct page_hist_row *row, int32_t runs[PAGE_DAYS], int32_t ok[PAGE_DAYS])
{
	for (int i = 0; i < PAGE_DAYS; i++) {
		bool have = row != NULL && row->days != NULL && i >= row->first_day;

		runs[i] = have ? row->days[i - row->first_day][0] : 0;
		ok[i] = have ? row->days[i - row->first_day][1] : 0;
	}
}

/* Reads the history of every check: three grouped statements. NULL on a
 * database error. */
static struct page_hist *hist_build(struct store_reader *r, int64_t now_us)
{
	struct page_hist *h = xcalloc(1, sizeof(*h));
	uint64_t t0 = util_mono_us();
	int64_t took;

	h->refs = 1;
	h->built_us = now_us;
	h->today = now_us / US_PER_DAY;
	if (store_uptime_by_check(r, now_us - PAGE_DAYS * US_PER_DAY, hist_add90, h) != 0)
		goto fail;
	if (h->n > 0)               /* no history yet: rows is NULL, not for qsort */
		qsort(h->rows, h->n, sizeof(*h->rows), row_cmp);
	if (store_summary_all(r, now_us - US_PER_DAY, hist_add24, h) != 0 ||
	    store_uptime_by_day(r, NULL, (h->today - (PAGE_DAYS - 1)) * US_PER_DAY, hist_add_day,
	                        h) != 0)
		goto fail;
	/* A slow database is read less often: at most 5% of the time. */
	took = (int64_t)(util_mono_us() - t0);
	h->ttl_us = took * 20 > PAGE_HIST_TTL_US ? took * 20 : PAGE_HIST_TTL_US;
	if (h->ttl_us > PAGE_HIST_TTL_MAX)
		h->ttl_us = PAGE_HIST_TTL_MAX;
	return h;
fail:
	page_hist_release(h);
	return NULL;
}

static bool hist_fresh(const struct page_hist *h, int64_t now_us)
{
	return h != NULL && now_us - h->built_us < h->ttl_us && now_us >= h->built_us &&
	       now_us / US_PER_DAY == h->today;
}

/* See page_hist.h. */
struct page_hist *page_hist_acquire(struct store_reader *r, int64_t now_us)
{
	struct page_hist *h, *fresh;

	pthread_mutex_lock(&hist_lock);
	h = hist_cur;
	if (h != NULL)
		h->refs++;
	pthread_mutex_unlock(&hist_lock);
	if (hist_fresh(h, now_us) || r == NULL)
		return h;
	if (h != NULL) {
		if (pthread_mutex_trylock(&hist_build_lock) != 0)
			return h;       /* someone is rebuilding: the stale copy will do */
	} else {
		pthread_mutex_lock(&hist_build_lock);
	}
	/* Someone may have rebuilt while this thread waited for the lock. */
	pthread_mutex_lock(&hist_lock);
	fresh = hist_cur;
	if (hist_fresh(fresh, now_us) && fresh != h)
		fresh->refs++;
	else
		fresh = NULL;
	pthread_mutex_unlock(&hist_lock);
	if (fresh == NULL) {
		fresh = hist_build(r, now_us);
		if (fresh != NULL) {
			struct page_hist *old;

			pthread_mutex_lock(&hist_lock);
			old = hist_cur;
			hist_cur = fresh;
			fresh->refs++;          /* one for hist_cur, one for the caller */
			pthread_mutex_unlock(&hist_lock);
			page_hist_release(old);
		}
	}
	pthread_mutex_unlock(&hist_build_lock);
	if (fresh == NULL)
		return h;               /* a failed rebuild keeps the stale copy */
	page_hist_release(h);
	return fresh;
}

/* window.c — per-check ring of recent results: error rate and latency
 * statistics over a trailing time window, for alert rules. */
#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "alerts/window.h"

/* 16 bytes a run: a float keeps a duration to about 7 significant digits,
 * plenty for milliseconds, and halves the ring of a 30d window. */
struct window_entry {
	int64_t ts_ms;
	float duration_ms;          /* NAN: none */
	bool ok;
};

struct window {
	struct window_entry *ring;
	size_t cap;
	size_t head;                /* where the next run goes */
	size_t count;
	float *scratch;             /* cap floats, for percentile selection */
};

size_t window_capacity_for(uint64_t max_window_ms, uint64_t interval_ms)
{
	uint64_t n;

	if (max_window_ms == 0)
		return 0;
	if (interval_ms == 0)
		interval_ms = 1000;
	n = max_window_ms / interval_ms + (max_window_ms % interval_ms != 0);
	/* Slack: retries, manual runs and scheduling jitter can put a few more runs
	 * in a window than the interval says; 1/8 more plus a fixed few. */
	if (n > WINDOW_MAX_CAPACITY)
		return WINDOW_MAX_CAPACITY;
	n += n / 8 + 8;
	return n > WINDOW_MAX_CAPACITY ? WINDOW_MAX_CAPACITY : (size_t)n;
}

/* Allocates the ring and scratch for cap entries (NULL when cap is 0). */
static void window_alloc(struct window *w, size_t cap)
{
	w->cap = cap;
	w->ring = cap ? xcalloc(cap, sizeof(*w->ring)) : NULL;
	w->scratch = cap ? xcalloc(cap, sizeof(*w->scratch)) : NULL;
}

struct window *window_new(size_t capacity)
{
	struct window *w = xcalloc(1, sizeof(*w));

	if (capacity > WINDOW_MAX_CAPACITY)
		capacity = WINDOW_MAX_CAPACITY;
	window_alloc(w, capacity);
	return w;
}

void window_free(struct window *w)
{
	if (w == NULL)
		return;
	free(w->ring);
	free(w->scratch);
	free(w);
}

/* The i-th newest run (0 = newest); i < count. */
static const struct window_entry *window_nth_newest(const struct window *w, size_t i)
{
	assert(i < w->count);
	return &w->ring[(w->head + w->cap - 1 - i) % w->cap];
}

void window_resize(struct window *w, size_t capacity)
{
	struct window_entry *old_ring = w->ring;
	float *old_scratch = w->scratch;
	size_t old_cap = w->cap, old_head = w->head, keep;

	if (capacity > WINDOW_MAX_CAPACITY)
		capacity = WINDOW_MAX_CAPACITY;
	if (capacity == w->cap)
		return;
	keep = w->count < capacity ? w->count : capacity;
	window_alloc(w, capacity);
	/* Copy the newest `keep` runs, oldest first, to the start of the new ring. */
	for (size_t i = 0; i < keep; i++)
		w->ring[i] = old_ring[(old_head + old_cap - keep + i) % old_cap];
	w->count = keep;
	w->head = capacity ? keep % capacity : 0;
	free(old_ring);
	free(old_scratch);
}

void window_clear(struct window *w)
{
	w->head = 0;
	w->count = 0;
}

void window_add(struct window *w, int64_t ts_ms, double duration_ms, bool ok)
{
	struct window_entry *e;

	if (w->cap == 0)
		return;
	e = &w->ring[w->head];
	e->ts_ms = ts_ms;
	e->duration_ms = (isnan(duration_ms) || duration_ms < 0) ? NAN : (float)duration_ms;
	e->ok = ok;
	w->head = (w->head + 1) % w->cap;
	if (w->count < w->cap)
		w->count++;
}

size_t window_count(const struct window *w)
{
	return w->count;
}

size_t window_capacity(const struct window *w)
{
	return w->cap;
}

/* The start of the window, saturating instead of overflowing. */
static int64_t window_start(int64_t now_ms, uint64_t span_ms)
{
	if (span_ms > (uint64_t)INT64_MAX || now_ms < INT64_MIN + (int64_t)span_ms)
		return INT64_MIN;
	return now_ms - (int64_t)span_ms;
}

/* Walks the runs in [now - span, now], newest first. Runs newer than now
 * (the wall clock stepped back) are skipped; the walk stops at the first run
 * older than the window, which keeps every query O(runs in the window). */
struct window_iter {
	const struct window *w;
	size_t i;
	int64_t from, to;
};

static void window_iter_init(struct window_iter *it, const struct window *w,
                             int64_t now_ms, uint64_t span_ms)
{
	it->w = w;
	it->i = 0;
	it->from = window_start(now_ms, span_ms);
	it->to = now_ms;
}

static const struct window_entry *window_iter_next(struct window_iter *it)
{
	while (it->i < it->w->count) {
		const struct window_entry *e = window_nth_newest(it->w, it->i++);
		if (e->ts_ms > it->to)
			continue;
		if (e->ts_ms < it->from)
			return NULL;
		return e;
	}
	return NULL;
}

size_t window_runs(const struct window *w, int64_t now_ms, uint64_t span_ms)
{
	struct window_iter it;
	size_t n = 0;

	window_iter_init(&it, w, now_ms, span_ms);
	while (window_iter_next(&it) != NULL)
		n++;
	return n;
}

double window_error_rate(const struct window *w, int64_t now_ms, uint64_t span_ms)
{
	struct window_iter it;
	const struct window_entry *e;
	size_t n = 0, failed = 0;

	window_iter_init(&it, w, now_ms, span_ms);
	while ((e = window_iter_next(&it)) != NULL) {
		n++;
		failed += !e->ok;
	}
	return n ? 100.0 * (double)failed / (double)n : NAN;
}

double window_avg_latency(const struct window *w, int64_t now_ms, uint64_t span_ms)
{
	struct window_iter it;
	const struct window_entry *e;
	size_t n = 0;
	double sum = 0;

	window_iter_init(&it, w, now_ms, span_ms);
	while ((e = window_iter_next(&it)) != NULL) {
		if (isnan(e->duration_ms))
			continue;
		n++;
		sum += e->duration_ms;
	}
	return n ? sum / (double)n : NAN;
}

static int window_float_cmp(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;

	return (x > y) - (x < y);
}

/* Puts the k-th smallest of v[0..n) (0-based) at v[k] and returns it.
 * Quickselect with a median-of-three pivot: expected O(n); if partitioning
 * goes badly for too long (adversarial order), the rest is sorted instead, so
 * the worst case is O(n log n). v holds no NAN. */
static float window_select(float *v, size_t n, size_t k)
{
	size_t lo = 0, hi = n - 1;
	unsigned budget = 64;

	assert(k < n);
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2, i, j;
		float a = v[lo], b = v[mid], c = v[hi], pivot, t;

		if (budget-- == 0) {
			qsort(v + lo, hi - lo + 1, sizeof(*v), window_float_cmp);
			break;
		}
		/* median of three */
		if ((a <= b && b <= c) || (c <= b && b <= a))
			pivot = b;
		else if ((b <= a && a <= c) || (c <= a && a <= b))
			pivot = a;
		else
			pivot = c;
		/* Hoare partition: afterwards v[lo..j] <= pivot <= v[j+1..hi]. */
		i = lo;
		j = hi;
		for (;;) {
			while (v[i] < pivot)
				i++;
			while (v[j] > pivot)
				j--;
			if (i >= j)
				break;
			t = v[i];
			v[i] = v[j];
			v[j] = t;
			i++;
			j--;
		}
		if (k <= j)
			hi = j;
		else
			lo = j + 1;
	}
	return v[k];
}

double window_percentile(struct window *w, int64_t now_ms, uint64_t span_ms, unsigned pct)
{
	struct window_iter it;
	const struct window_entry *e;
	size_t n = 0, rank;

	if (pct == 0)
		pct = 1;
	if (pct > 100)
		pct = 100;
	window_iter_init(&it, w, now_ms, span_ms);
	while ((e = window_iter_next(&it)) != NULL) {
		if (!isnan(e->duration_ms))
			w->scratch[n++] = e->duration_ms;
	}
	if (n == 0)
		return NAN;
	/* Nearest rank in integers: ceil(pct * n / 100), no rounding surprises
	 * (0.95 * 20 is not exactly 19 in floating point). */
	rank = (pct * n + 99) / 100;
	if (rank == 0)
		rank = 1;
	return window_select(w->scratch, n, rank - 1);
}

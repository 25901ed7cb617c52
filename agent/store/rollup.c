/* rollup.c — the arithmetic of minute/hour/day aggregates (histogram,
 * percentiles, uptime) and the plan that splits a window into parts read
 * from the coarsest level that covers each: pure code that every store
 * implementation shares.
 *
 * Why three levels: the per-check reads want (check_name, bucket) clustering,
 * and a 90-day read of every check from hours alone is 10,000 x 2,160 rows;
 * from days it is 10,000 x 90 plus two edges. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "store/rollup.h"

#define US 1000000LL
#define MINUTE_S 60
#define HOUR_S 3600
#define DAY_S 86400
#define MINUTE_EDGE_US ((int64_t)(ROLLUP_MINUTE_KEEP_S - 2 * HOUR_S) * US)

const double rollup_bounds_ms[ROLLUP_BUCKETS - 1] = {
	1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 60000,
};

/* --- arithmetic ----------------------------------------------------------------- */

void rollup_agg_init(struct rollup_agg *a)
{
	memset(a, 0, sizeof(*a));
}

int rollup_bucket(int64_t duration_us)
{
	double ms = (double)(duration_us < 0 ? 0 : duration_us) / 1000.0;
	int i = 0;

	while (i < ROLLUP_BUCKETS - 1 && ms >= rollup_bounds_ms[i])
		i++;
	return i;
}

void rollup_agg_add(struct rollup_agg *a, int64_t duration_us, bool ok)
{
	if (duration_us < 0)
		duration_us = 0;
	if (a->count == 0 || duration_us < a->latency_min_us)
		a->latency_min_us = duration_us;
	if (a->count == 0 || duration_us > a->latency_max_us)
		a->latency_max_us = duration_us;
	a->count++;
	if (!ok)
		a->failures++;
	a->latency_sum_us += duration_us;
	a->hist[rollup_bucket(duration_us)]++;
}

void rollup_agg_merge(struct rollup_agg *a, const struct rollup_agg *b)
{
	if (b->count <= 0)
		return;
	if (a->count == 0 || b->latency_min_us < a->latency_min_us)
		a->latency_min_us = b->latency_min_us;
	if (a->count == 0 || b->latency_max_us > a->latency_max_us)
		a->latency_max_us = b->latency_max_us;
	a->count += b->count;
	a->failures += b->failures;
	a->latency_sum_us += b->latency_sum_us;
	for (int i = 0; i < ROLLUP_BUCKETS; i++)
		a->hist[i] += b->hist[i];
}

double rollup_percentile(const struct rollup_agg *a, double p)
{
	double min_ms, max_ms, target, cum = 0;

	if (a->count <= 0)
		return -1;
	min_ms = (double)a->latency_min_us / 1000.0;
	max_ms = (double)a->latency_max_us / 1000.0;
	if (p < 0)
		p = 0;
	if (p > 1)
		p = 1;
	target = p * (double)a->count;
	for (int i = 0; i < ROLLUP_BUCKETS; i++) {
		double c = (double)a->hist[i], lo, hi, f, v;

		if (c <= 0)
			continue;
		if (cum + c < target) {
			cum += c;
			continue;
		}
		f = (target - cum) / c;
		lo = i == 0 ? 0 : rollup_bounds_ms[i - 1];
		hi = i == ROLLUP_BUCKETS - 1 ? (max_ms > lo ? max_ms : lo) : rollup_bounds_ms[i];
		/* The observed extremes narrow the edge buckets (often to a point). */
		if (min_ms > lo)
			lo = min_ms;
		if (max_ms < hi)
			hi = max_ms;
		if (hi < lo)
			hi = lo;
		/* Latencies spread roughly log-uniformly inside a log-spaced bucket. */
		if (lo > 0)
			v = lo * pow(hi / lo, f);
		else
			v = lo + (hi - lo) * f;
		if (v < min_ms)
			v = min_ms;
		if (v > max_ms)
			v = max_ms;
		return v;
	}
	return max_ms;      /* histogram short of count: a damaged row */
}

double rollup_uptime(const struct rollup_agg *a)
{
	if (a->count <= 0)
		return -1;
	return 100.0 * (double)(a->count - a->failures) / (double)a->count;
}

/* --- planning -------------------------------------------------------------------- */

int64_t rollup_floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

int64_t rollup_ceil_div(int64_t a, int64_t b)
{
	return -rollup_floor_div(-a, b);
}

void rollup_part_add(struct rollup_part *out, size_t *n, enum rollup_src src, int64_t lo, int64_t hi)
{
	if (lo >= hi || *n >= ROLLUP_PARTS_MAX)
		return;
	out[*n].src = src;
	out[*n].lo = lo;
	out[*n].hi = hi;
	(*n)++;
}

/* See rollup.h. The parts never overlap: each level is read only over the
 * range whose buckets that level owns for this read. */
size_t rollup_plan(int64_t since_us, int64_t now_us, int64_t hour_done_s, int64_t day_done_s,
                   bool raw_edge, struct rollup_part out[ROLLUP_PARTS_MAX])
{
	int64_t m0 = rollup_ceil_div(since_us, MINUTE_S * US) * MINUTE_S;
	int64_t h0 = rollup_ceil_div(since_us, HOUR_S * US) * HOUR_S;
	int64_t d0 = rollup_ceil_div(since_us, DAY_S * US) * DAY_S;
	int64_t h1 = hour_done_s, d1 = day_done_s < hour_done_s ? day_done_s : hour_done_s;
	bool recent = now_us - since_us <= MINUTE_EDGE_US;
	size_t n = 0;

	if (h1 <= h0) {
		/* No derived hour after the edge: minutes to the end. */
		if (raw_edge)
			rollup_part_add(out, &n, ROLLUP_RAW, since_us, m0 * US);
		rollup_part_add(out, &n, ROLLUP_MINUTE, m0, INT64_MAX);
		return n;
	}
	if (recent) {
		if (raw_edge)
			rollup_part_add(out, &n, ROLLUP_RAW, since_us, m0 * US);
		rollup_part_add(out, &n, ROLLUP_MINUTE, m0, h0);
	} else if (raw_edge) {
		/* Minutes that old are pruned; raw results may still be there. */
		rollup_part_add(out, &n, ROLLUP_RAW, since_us, h0 * US);
	}
	if (d1 > d0) {
		rollup_part_add(out, &n, ROLLUP_HOUR, h0, d0);
		rollup_part_add(out, &n, ROLLUP_DAY, d0, d1);
		rollup_part_add(out, &n, ROLLUP_HOUR, d1, h1);
	} else {
		rollup_part_add(out, &n, ROLLUP_HOUR, h0, h1);
	}
	rollup_part_add(out, &n, ROLLUP_MINUTE, h1, INT64_MAX);
	return n;
}

void rollup_sums_sql(char *buf, size_t len)
{
	snprintf(buf, len, "sum(count), sum(failures), sum(latency_sum_us), min(latency_min_us),"
	         " max(latency_max_us)");
	for (int i = 0; i < ROLLUP_BUCKETS; i++) {
		size_t l = strlen(buf);

		snprintf(buf + l, len - l, ", sum(h%d)", i);
	}
}

/* --- a batch's results by check and minute ------------------------------------ */

void rollup_minutes_add(struct rollup_minutes *m, const char *check, int64_t ts_us,
                        int64_t duration_us, bool ok)
{
	struct rollup_minute *e;

	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 64;
		m->e = xrealloc(m->e, m->cap * sizeof(*m->e));
	}
	e = &m->e[m->n++];
	e->check = check;
	e->minute_s = rollup_floor_div(ts_us, MINUTE_S * US) * MINUTE_S;
	rollup_agg_init(&e->agg);
	rollup_agg_add(&e->agg, duration_us, ok);
}

static int minute_cmp(const void *pa, const void *pb)
{
	const struct rollup_minute *a = pa, *b = pb;
	int c = strcmp(a->check, b->check);

	if (c != 0)
		return c;
	return a->minute_s < b->minute_s ? -1 : a->minute_s > b->minute_s;
}

size_t rollup_minutes_merge(struct rollup_minutes *m)
{
	size_t i = 0, groups = 0;

	if (m->n > 1)
		qsort(m->e, m->n, sizeof(*m->e), minute_cmp);
	while (i < m->n) {
		struct rollup_minute g = m->e[i++];

		while (i < m->n && minute_cmp(&g, &m->e[i]) == 0)
			rollup_agg_merge(&g.agg, &m->e[i++].agg);
		m->e[groups++] = g;
	}
	return groups;
}

void rollup_minutes_free(struct rollup_minutes *m)
{
	free(m->e);
	m->e = NULL;
	m->n = m->cap = 0;
}

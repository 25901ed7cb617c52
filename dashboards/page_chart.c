/* page_chart.c — the latency chart of the check page (page_chart.h):
 * results bucketed over the chosen range, nearest-rank p50 and p95 per bucket,
 * drawn as an inline SVG (two lines, failure marks, a hover title per bucket)
 * that needs no script and no font metrics. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "dashboards/page_chart.h"
#include "dashboards/page_parts.h"

struct bucketed {
	size_t bucket;
	int64_t duration_us;
	bool ok;
};

static int bucketed_cmp(const void *a, const void *b)
{
	const struct bucketed *x = a, *y = b;

	if (x->bucket != y->bucket)
		return x->bucket < y->bucket ? -1 : 1;
	return (x->duration_us > y->duration_us) - (x->duration_us < y->duration_us);
}

/* Nearest-rank index (0-based) of percentile p among n sorted values. */
static size_t rank(double p, size_t n)
{
	double r = ceil(p * (double)n);

	return r < 1 ? 0 : (size_t)r - 1 < n ? (size_t)r - 1 : n - 1;
}

void page_latency_points(struct page_sample *s, size_t n, int64_t since_us, int64_t until_us,
                         struct page_point *points, size_t n_points)
{
	struct bucketed *v;
	size_t m = 0, i = 0;
	double width;

	if (n_points == 0)
		return;
	if (until_us <= since_us)
		until_us = since_us + 1;
	width = (double)(until_us - since_us) / (double)n_points;
	for (size_t k = 0; k < n_points; k++) {
		memset(&points[k], 0, sizeof(points[k]));
		points[k].start_us = since_us + (int64_t)((double)k * width);
	}
	v = xmalloc((n ? n : 1) * sizeof(*v));
	for (size_t k = 0; k < n; k++) {
		size_t bkt;

		if (s[k].ts_us < since_us || s[k].ts_us >= until_us)
			continue;
		bkt = (size_t)((double)(s[k].ts_us - since_us) / width);
		if (bkt >= n_points)
			bkt = n_points - 1;
		v[m].bucket = bkt;
		v[m].duration_us = s[k].duration_us;
		v[m].ok = s[k].ok;
		m++;
	}
	qsort(v, m, sizeof(*v), bucketed_cmp);
	while (i < m) {
		size_t j = i, cnt;
		struct page_point *p = &points[v[i].bucket];

		while (j < m && v[j].bucket == v[i].bucket) {
			p->failures += !v[j].ok;
			j++;
		}
		cnt = j - i;
		p->n = (int)cnt;
		p->p50_ms = (double)v[i + rank(0.50, cnt)].duration_us / 1000.0;
		p->p95_ms = (double)v[i + rank(0.95, cnt)].duration_us / 1000.0;
		i = j;
	}
	free(v);
}

#define CH_W   800.0
#define CH_H   240.0
#define CH_L   76.0     /* room for the y labels, also at the phone's larger size */
#define CH_R   10.0
#define CH_T   12.0
#define CH_B   26.0     /* room for the x labels */

/* The smallest 1, 2 or 5 times a power of ten that is >= v (v > 0). */
static double nice_ceil(double v)
{
	double p = pow(10, floor(log10(v)));

	for (int i = 0; i < 3; i++) {
		static const double steps[] = { 1, 2, 5 };

		if (steps[i] * p >= v)
			return steps[i] * p;
	}
	return 10 * p;
}

/* The y axis for values up to vmax (ms): the smallest 1-2-5 step that needs
 * at most 5 of them, so the labels are round ("20 ms", "40 ms", ...). Sets
 * *top (the value at the top) and *step. */
static void y_scale(double vmax, double *top, double *step)
{
	double v = vmax > 0 ? vmax * 1.05 : 1;
	double s = nice_ceil(v / 5);

	*step = s;
	*top = ceil(v / s - 1e-9) * s;
}

/* Grid lines and labels of the y axis. */
static void put_y_axis(struct buf *b, double top, double step)
{
	double yh = CH_H - CH_T - CH_B;
	char lbl[32];

	for (int i = 0; i * step <= top + step / 1000; i++) {
		double y = CH_T + yh - yh * (i * step) / top;

		page_fmt_ms(i * step, lbl, sizeof(lbl));
		buf_printf(b, "<line class=\"ch-grid\" x1=\"%.0f\" x2=\"%.0f\" y1=\"%.1f\" "
		           "y2=\"%.1f\"/><text class=\"ch-label\" x=\"%.0f\" y=\"%.1f\" "
		           "text-anchor=\"end\">%s</text>", CH_L, CH_W - CH_R, y, y, CH_L - 6,
		           y + 4, i == 0 ? "0" : lbl);
	}
}

/* Tick steps of the time axis, seconds: at most 6 ticks per range. */
static const int64_t x_steps[] = {
	5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800,
};

/* Labels of the time axis at round UTC times (every 10 minutes, 6 hours, a
 * day...); when the range crosses midnight, the first tick of each day
 * carries the date. */
static void put_x_axis(struct buf *b, int64_t since_us, int64_t until_us)
{
	int64_t span = until_us - since_us, step = x_steps[0] * US_PER_S, t, prev_day = -1;
	bool crosses = since_us / US_PER_DAY != (until_us - 1) / US_PER_DAY;
	double pw = CH_W - CH_L - CH_R;
	char lbl[40];

	for (size_t i = 0; i < sizeof(x_steps) / sizeof(x_steps[0]); i++) {
		step = x_steps[i] * US_PER_S;
		if (span / step <= 6)
			break;
	}
	for (t = (since_us + step - 1) / step * step; t < until_us; t += step) {
		double x = CH_L + pw * (double)(t - since_us) / (double)span;
		int64_t day = t / US_PER_DAY;
		const char *fmt = step >= US_PER_DAY ? "%b %d"
		                : crosses && day != prev_day ? "%b %d %H:%M"
		                : step < 60 * US_PER_S ? "%H:%M:%S" : "%H:%M";

		prev_day = day;
		if (x > CH_W - CH_R - 18)
			continue;           /* would run off the right edge */
		page_fmt_utc(t, fmt, lbl, sizeof(lbl));
		buf_printf(b, "<line class=\"ch-tick\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.0f\" "
		           "y2=\"%.0f\"/><text class=\"ch-label\" x=\"%.1f\" y=\"%.0f\" "
		           "text-anchor=\"%s\">%s</text>", x, x, CH_H - CH_B, CH_H - CH_B + 4, x,
		           CH_H - 8, x < CH_L + 30 ? "start" : "middle", lbl);
	}
}

static void put_svg_open(struct buf *b, const char *label)
{
	buf_printf(b, "<svg class=\"chart\" id=\"latency-chart\" viewBox=\"0 0 %.0f %.0f\" "
	           "role=\"img\" aria-label=\"%s\" xmlns=\"http://www.w3.org/2000/svg\">",
	           CH_W, CH_H, label);
}

/* One polyline of the chart as a path, broken where a bucket has no data;
 * an isolated point is a zero-length segment (drawn as a dot by round caps). */
static void put_line(struct buf *b, const struct page_point *pt, size_t n, bool p95,
                     double ymax, const char *cls)
{
	double xw = (CH_W - CH_L - CH_R) / (double)n, yh = CH_H - CH_T - CH_B;
	bool pen = false;

	buf_printf(b, "<path class=\"%s\" d=\"", cls);
	for (size_t i = 0; i < n; i++) {
		double v, x, y;

		if (pt[i].n == 0) {
			pen = false;
			continue;
		}
		v = p95 ? pt[i].p95_ms : pt[i].p50_ms;
		x = CH_L + ((double)i + 0.5) * xw;
		y = CH_T + yh - (v > ymax ? ymax : v) / ymax * yh;
		if (!pen && (i + 1 >= n || pt[i + 1].n == 0))
			buf_printf(b, "M%.1f %.1fl0 0", x, y);
		else
			buf_printf(b, "%c%.1f %.1f", pen ? 'L' : 'M', x, y);
		pen = true;
	}
	buf_adds(b, "\"/>");
}

void page_latency_svg(struct buf *b, const struct page_point *pt, size_t n,
                      int64_t since_us, int64_t until_us)
{
	double ymax = 0, ystep, xw, yh = CH_H - CH_T - CH_B;
	int64_t span = until_us - since_us;
	size_t with_data = 0;
	char t1[32], t2[32], a[24], c[24];

	for (size_t i = 0; i < n; i++) {
		if (pt[i].n > 0) {
			with_data++;
			if (pt[i].p95_ms > ymax)
				ymax = pt[i].p95_ms;
		}
	}
	y_scale(ymax, &ymax, &ystep);
	xw = n ? (CH_W - CH_L - CH_R) / (double)n : 0;
	put_svg_open(b, "latency p50 and p95");
	put_y_axis(b, ymax, ystep);
	put_x_axis(b, since_us, until_us);
	for (size_t i = 0; i < n; i++)
		if (pt[i].failures > 0)
			buf_printf(b, "<rect class=\"ch-fail\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
			           "height=\"5\"/>", CH_L + (double)i * xw, CH_T + yh - 5,
			           xw > 1.5 ? xw - 1 : xw);
	put_line(b, pt, n, true, ymax, "ch-p95");
	put_line(b, pt, n, false, ymax, "ch-p50");
	/* Hover targets, one per bucket with data. */
	for (size_t i = 0; i < n; i++) {
		int64_t end = i + 1 < n ? pt[i + 1].start_us : until_us;

		if (pt[i].n == 0)
			continue;
		page_fmt_utc(pt[i].start_us, span <= 2 * US_PER_DAY ? "%H:%M" : "%b %d %H:%M", t1,
		             sizeof(t1));
		page_fmt_utc(end, "%H:%M", t2, sizeof(t2));
		page_fmt_ms(pt[i].p50_ms, a, sizeof(a));
		page_fmt_ms(pt[i].p95_ms, c, sizeof(c));
		buf_printf(b, "<rect class=\"ch-hit\" x=\"%.1f\" y=\"%.0f\" width=\"%.1f\" "
		           "height=\"%.0f\"><title>%s–%s UTC · p50 %s · p95 %s · %d run%s",
		           CH_L + (double)i * xw, CH_T, xw, yh, t1, t2, a, c, pt[i].n,
		           pt[i].n == 1 ? "" : "s");
		if (pt[i].failures)
			buf_printf(b, ", %d failed", pt[i].failures);
		buf_adds(b, "</title></rect>");
	}
	if (with_data == 0)
		buf_printf(b, "<text class=\"ch-empty\" x=\"%.0f\" y=\"%.0f\" "
		           "text-anchor=\"middle\">no results in this range</text>",
		           (CH_W + CH_L) / 2, CH_H / 2);
	buf_adds(b, "</svg>");
}

void page_runs_svg(struct buf *b, const struct page_sample *s, size_t n, int64_t since_us,
                   int64_t until_us)
{
	double ymax = 0, ystep, yh = CH_H - CH_T - CH_B, pw = CH_W - CH_L - CH_R;
	int64_t span = until_us > since_us ? until_us - since_us : 1;
	char t[32], d[24];
	bool pen = false;

	for (size_t i = 0; i < n; i++)
		if ((double)s[i].duration_us / 1000.0 > ymax)
			ymax = (double)s[i].duration_us / 1000.0;
	y_scale(ymax, &ymax, &ystep);
	put_svg_open(b, "latency of each run");
	put_y_axis(b, ymax, ystep);
	put_x_axis(b, since_us, until_us);
	buf_adds(b, "<path class=\"ch-p50\" d=\"");
	for (size_t i = 0; i < n; i++) {
		double x = CH_L + pw * (double)(s[i].ts_us - since_us) / (double)span;
		double v = (double)s[i].duration_us / 1000.0;
		double y = CH_T + yh - (v > ymax ? ymax : v) / ymax * yh;

		if (s[i].ts_us < since_us || s[i].ts_us >= until_us)
			continue;
		buf_printf(b, "%c%.1f %.1f", pen ? 'L' : 'M', x, y);
		pen = true;
	}
	buf_adds(b, "\"/>");
	for (size_t i = 0; i < n; i++) {
		double x = CH_L + pw * (double)(s[i].ts_us - since_us) / (double)span;
		double v = (double)s[i].duration_us / 1000.0;
		double y = CH_T + yh - (v > ymax ? ymax : v) / ymax * yh;

		if (s[i].ts_us < since_us || s[i].ts_us >= until_us)
			continue;
		page_fmt_utc(s[i].ts_us, "%Y-%m-%d %H:%M:%S", t, sizeof(t));
		page_fmt_ms(v, d, sizeof(d));
		buf_printf(b, "<circle class=\"ch-pt%s\" cx=\"%.1f\" cy=\"%.1f\" r=\"%s\">"
		           "<title>%s UTC · %s · %s</title></circle>", s[i].ok ? "" : " ch-pt-fail",
		           x, y, s[i].ok ? "3" : "4", t, d, s[i].ok ? "passed" : "failed");
	}
	if (n == 0)
		buf_printf(b, "<text class=\"ch-empty\" x=\"%.0f\" y=\"%.0f\" "
		           "text-anchor=\"middle\">no results in this range</text>",
		           (CH_W + CH_L) / 2, CH_H / 2);
	buf_adds(b, "</svg>");
}

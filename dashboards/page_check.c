/* page_check.c — GET /check/NAME[?range=1h|24h|7d|30d], one check's page: its
 * settings and last run, its firing alerts, uptime over four windows and per
 * day, the latency chart of the range (page_chart.c), its incidents
 * (page_incident.c), its recent runs and its alert history. The rendered
 * pages of the most recently asked checks are kept, one per (check, range),
 * for the crowd of an incident. */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <microhttpd.h>

#include "core/util.h"
#include "dashboards/page.h"
#include "dashboards/page_chart.h"
#include "dashboards/page_parts.h"
#include "web/rcache.h"
#include "web/rslots.h"

#define CHART_POINTS       100
#define CHART_SAMPLES_MAX  (2u << 20)   /* results read for one chart */
#define RUNS_SHOWN         15
#define ALERTS_SHOWN       20

/* The last renders of the most recently asked check pages (rslots.h), one
 * per (check, range): during an incident many people open the same check,
 * and each render is a dozen database reads. */
static struct rslots check_slots = RSLOTS_INIT;

/* Drops every cached check page (a slot in use keeps its page). */
void page_check_cache_clear(void)
{
	rslots_clear(&check_slots);
}

struct sample_sink {
	struct page_sample *v;
	size_t n, cap;
	bool truncated;
};

static void sample_add(void *arg, int64_t ts_us, int64_t duration_us, bool ok)
{
	struct sample_sink *k = arg;

	if (k->n == CHART_SAMPLES_MAX) {
		k->truncated = true;
		return;
	}
	if (k->n == k->cap) {
		k->cap = k->cap ? k->cap * 2 : 1024;
		k->v = xrealloc(k->v, k->cap * sizeof(*k->v));
	}
	k->v[k->n].ts_us = ts_us;
	k->v[k->n].duration_us = duration_us;
	k->v[k->n].ok = ok;
	k->n++;
}

struct day_sink {
	int64_t first_day;
	int32_t runs[PAGE_DAYS], ok[PAGE_DAYS];
};

static void day_add(void *arg, const char *check, int64_t day, int64_t runs, int64_t ok)
{
	struct day_sink *d = arg;
	int64_t i = day - d->first_day;

	if (i >= 0 && i < PAGE_DAYS) {
		d->runs[i] = (int32_t)(runs > INT32_MAX ? INT32_MAX : runs);
		d->ok[i] = (int32_t)(ok > INT32_MAX ? INT32_MAX : ok);
	}
}

static const struct {
	const char *key, *label;
	int64_t span_us;
} ranges[] = {
	{ "1h", "hour", US_PER_HOUR },
	{ "24h", "24 hours", 24 * US_PER_HOUR },
	{ "7d", "7 days", 7 * US_PER_DAY },
	{ "30d", "30 days", 30 * US_PER_DAY },
};
#define N_RANGES (sizeof(ranges) / sizeof(ranges[0]))
#define RANGE_1H    0
#define RANGE_24H   1
#define RANGE_AUTO  N_RANGES    /* no ?range: 24h, or 1h while every run is that recent */

/* Writes a <dt>/<dd> pair with the value escaped. */
static void put_meta(struct buf *b, const char *key, const char *value)
{
	buf_printf(b, "<dt>%s</dt><dd>", key);
	page_escape(b, value);
	buf_adds(b, "</dd>");
}

/* "Certificate: 45 days left (expires 2027-01-17)" for a check that saw one
 * (https and tls); "expired" past its date. */
static void put_cert(struct buf *b, int64_t expiry_s)
{
	int64_t left_s = expiry_s - util_wall_us() / US_PER_S;
	long long days = (long long)(left_s >= 0 ? left_s / 86400 : -((-left_s + 86399) / 86400));
	char date[32];

	if (expiry_s <= 0)
		return;
	page_fmt_utc(expiry_s * US_PER_S, "%Y-%m-%d", date, sizeof(date));
	if (left_s < 0)
		buf_printf(b, "<dt>Certificate</dt><dd id=\"check-cert\" class=\"cert-bad\">expired "
		           "%lld day%s ago (%s)</dd>", -days, days == -1 ? "" : "s", date);
	else
		buf_printf(b, "<dt>Certificate</dt><dd id=\"check-cert\"%s>%lld day%s left "
		           "(expires %s)</dd>", days < 14 ? " class=\"cert-bad\"" : "", days,
		           days == 1 ? "" : "s", date);
}

/* The heading, the state (st: the fleet's in a fleet) and what the check is. */
static void put_check_header(struct buf *b, const struct snapshot_check *sc, enum check_state st)
{
	const struct check *c = sc->check;
	char iv[32], dur[32];

	buf_adds(b, "<nav class=\"crumbs\"><a href=\"/\">← All checks</a></nav>"
	            "<section class=\"card head\"><div class=\"h-title\"><h1>");
	page_escape(b, c->name);
	buf_adds(b, "</h1><span id=\"check-state\">");
	page_put_state(b, st);
	buf_adds(b, "</span></div><dl class=\"meta\">");
	put_meta(b, "Type", check_type_name(c->type));
	put_meta(b, "Target", c->target ? c->target : "");
	if (c->group && c->group[0])
		put_meta(b, "Group", c->group);
	util_format_duration(c->interval_ms, iv, sizeof(iv));
	put_meta(b, "Interval", iv);
	if (c->n_depends_on > 0) {
		buf_adds(b, "<dt>Depends on</dt><dd>");
		for (size_t i = 0; i < c->n_depends_on; i++) {
			buf_adds(b, i ? ", <a href=\"/check/" : "<a href=\"/check/");
			page_escape(b, c->depends_on[i]);
			buf_adds(b, "\">");
			page_escape(b, c->depends_on[i]);
			buf_adds(b, "</a>");
		}
		buf_adds(b, "</dd>");
	}
	put_cert(b, sc->metrics.cert_expiry);
	buf_adds(b, "<dt>Last run</dt><dd id=\"check-last\">");
	if (sc->has_last) {
		page_put_time(b, sc->last_ts_us);
		page_fmt_ms((double)sc->last_duration_us / 1000.0, dur, sizeof(dur));
		buf_printf(b, " · %s · <span class=\"%s\">%s</span>", dur,
		           sc->last_ok ? "ok" : "err", sc->last_ok ? "ok" :
		           probe_error_name(sc->last_error));
		if (sc->last_message && sc->last_message[0]) {
			buf_adds(b, " · <span class=\"msg\">");
			page_escape(b, sc->last_message);
			buf_adds(b, "</span>");
		}
	} else {
		buf_adds(b, "not yet");
	}
	buf_adds(b, "</dd></dl></section>\n");
}

static void put_uptime_tiles(struct buf *b, struct store_reader *r,
                             const struct snapshot_check *sc, int64_t now)
{
	static const struct { const char *key; int64_t span; } win[] = {
		{ "24h", US_PER_DAY }, { "7d", 7 * US_PER_DAY },
		{ "30d", 30 * US_PER_DAY }, { "90d", 90 * US_PER_DAY },
	};
	struct day_sink days;
	char pct_s[16];

	buf_adds(b, "<section class=\"card\"><h2>Uptime</h2><div class=\"tiles\">");
	for (size_t i = 0; i < sizeof(win) / sizeof(win[0]); i++) {
		double pct = r ? store_uptime(r, sc->check->name, now - win[i].span) : -1;

		page_format_pct(pct, pct_s, sizeof(pct_s));
		buf_printf(b, "<div class=\"tile %s\"><b>%s</b><span>last %s</span></div>",
		           page_uptime_class(pct), pct_s, win[i].key);
	}
	buf_adds(b, "</div>");
	memset(&days, 0, sizeof(days));
	days.first_day = now / US_PER_DAY - (PAGE_DAYS - 1);
	if (r != NULL)
		store_uptime_by_day(r, sc->check->name, days.first_day * US_PER_DAY, day_add, &days);
	page_put_bar(b, days.runs, days.ok, now / US_PER_DAY, false);
	buf_adds(b, "<div class=\"bar-legend\"><span>90 days ago</span><span>today</span>"
	            "</div></section>\n");
}

/* The range links and the legend of the chart. */
static void put_chart_head(struct buf *b, const char *name, size_t range, bool per_run,
                           bool zoomed)
{
	buf_adds(b, "<section class=\"card\"><div class=\"c-head\"><h2>Latency</h2>"
	            "<nav class=\"ranges\" aria-label=\"time range\">");
	for (size_t i = 0; i < N_RANGES; i++) {
		buf_adds(b, "<a href=\"/check/");
		page_escape(b, name);
		buf_printf(b, "?range=%s\"%s>%s</a>", ranges[i].key,
		           i == range ? " class=\"on\" aria-current=\"page\"" : "", ranges[i].key);
	}
	if (per_run)
		buf_printf(b, "</nav></div><p class=\"legend\"><span class=\"k-p50\">each run</span>"
		           "<span class=\"k-fail\">failed</span><span class=\"muted\">%s%s, "
		           "UTC</span></p>", zoomed ? "since the first run of the last " : "last ",
		           ranges[range].label);
	else
		buf_printf(b, "</nav></div><p class=\"legend\"><span class=\"k-p50\">p50</span>"
		           "<span class=\"k-p95\">p95</span><span class=\"k-fail\">failures</span>"
		           "<span class=\"muted\">last %s, %d buckets, UTC</span></p>",
		           ranges[range].label, CHART_POINTS);
}

/* The latency chart of range (RANGE_AUTO: 24h, or 1h while every run of the
 * last 24 h is from the last hour: a new check shows its first runs rather
 * than a line squeezed into the right edge). Up to CHART_POINTS runs are
 * drawn one by one, more in CHART_POINTS buckets. */
static void put_chart(struct buf *b, struct store_reader *r, const char *name,
                      size_t range, int64_t now)
{
	struct sample_sink k = { 0 };
	struct page_point pts[CHART_POINTS];
	int64_t since;
	size_t first = 0;
	bool per_run, zoomed = false;

	if (range == RANGE_AUTO) {
		if (r != NULL)
			store_durations(r, name, now - ranges[RANGE_24H].span_us, now + 1, sample_add, &k);
		range = k.n == 0 || k.v[0].ts_us >= now - US_PER_HOUR ? RANGE_1H : RANGE_24H;
	} else if (r != NULL) {
		store_durations(r, name, now - ranges[range].span_us, now + 1, sample_add, &k);
	}
	since = now - ranges[range].span_us;
	while (first < k.n && k.v[first].ts_us < since)
		first++;
	per_run = k.n - first <= CHART_POINTS;
	/* Few runs: the axis starts shortly before the first one, so a check a
	 * minute old does not draw its runs into the right edge. */
	if (per_run && k.n > first) {
		int64_t pad = (now - k.v[first].ts_us) / 30;

		if (pad < US_PER_S)
			pad = US_PER_S;
		if (k.v[first].ts_us - pad > since) {
			since = k.v[first].ts_us - pad;
			zoomed = true;
		}
	}
	put_chart_head(b, name, range, per_run, zoomed);
	buf_adds(b, "<div class=\"chart-wrap\">");
	if (per_run) {
		page_runs_svg(b, k.v + first, k.n - first, since, now + 1);
	} else {
		page_latency_points(k.v + first, k.n - first, since, now + 1, pts, CHART_POINTS);
		page_latency_svg(b, pts, CHART_POINTS, since, now + 1);
	}
	buf_adds(b, "</div>");
	if (k.truncated)
		buf_printf(b, "<p class=\"muted\">Only the first %u results of the range are "
		           "shown.</p>", CHART_SAMPLES_MAX);
	buf_adds(b, "</section>\n");
	free(k.v);
}

static const char *jstr(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

/* "2026-03-01T13:04:05.123Z" -> <time> as page_put_time() writes it. */
static void put_json_time(struct buf *b, const char *iso)
{
	int64_t us;

	if (util_parse_time(iso, &us) == 0)
		page_put_time(b, us);
	else
		page_escape(b, iso);
}

/* A card of the rows of a store read: a table with one row per element of
 * rows, or a sentence when there are none. */
struct table_card {
	const char *id, *title;     /* ours: written as is */
	const char *empty;          /* the sentence when there are no rows */
	const char *head;           /* the <th> cells */
	void (*put_row)(struct buf *b, const json_t *o);    /* one <tr> */
};

/* Appends the card t of rows (a JSON array or NULL) and releases rows. */
static void put_table_card(struct buf *b, const struct table_card *t, json_t *rows)
{
	size_t i;
	json_t *o;

	buf_printf(b, "<section class=\"card\" id=\"%s\"><h2>%s</h2>", t->id, t->title);
	if (json_array_size(rows) == 0) {
		buf_printf(b, "<p class=\"muted\">%s</p>", t->empty);
	} else {
		buf_printf(b, "<div class=\"tscroll\"><table><thead><tr>%s</tr></thead><tbody>",
		           t->head);
		json_array_foreach(rows, i, o)
			t->put_row(b, o);
		buf_adds(b, "</tbody></table></div>");
	}
	buf_adds(b, "</section>\n");
	json_decref(rows);
}

/* One run: time, outcome (the error class when it failed), duration, message. */
static void put_run_row(struct buf *b, const json_t *o)
{
	bool ok = json_is_true(json_object_get(o, "ok"));
	char dur[32];

	page_fmt_ms(json_number_value(json_object_get(o, "duration_ms")), dur, sizeof(dur));
	buf_printf(b, "<tr class=\"%s\"><td class=\"nowrap\">", ok ? "run-ok" : "run-fail");
	put_json_time(b, jstr(o, "ts"));
	if (ok) {
		buf_adds(b, "</td><td><span class=\"rok\">ok</span>");
	} else {
		buf_adds(b, "</td><td><span class=\"eclass\">");
		page_escape(b, jstr(o, "error"));
		buf_adds(b, "</span>");
	}
	buf_printf(b, "</td><td class=\"nowrap num\">%s</td><td class=\"msg\">", dur);
	page_escape(b, jstr(o, "message"));
	buf_adds(b, "</td></tr>");
}

static void put_alert_row(struct buf *b, const json_t *o)
{
	buf_adds(b, "<tr><td class=\"nowrap\">");
	put_json_time(b, jstr(o, "ts"));
	buf_adds(b, "</td><td>");
	page_escape(b, jstr(o, "rule"));
	buf_adds(b, "</td><td class=\"nowrap\"><span class=\"as as-");
	page_escape(b, jstr(o, "from"));
	buf_adds(b, "\">");
	page_escape(b, jstr(o, "from"));
	buf_adds(b, "</span> → <span class=\"as as-");
	page_escape(b, jstr(o, "to"));
	buf_adds(b, "\">");
	page_escape(b, jstr(o, "to"));
	buf_adds(b, "</span></td><td class=\"msg\">");
	page_escape(b, jstr(o, "value"));
	buf_adds(b, "</td></tr>");
}

static const struct table_card runs_card = {
	"recent-runs", "Recent runs", "No runs yet.",
	"<th>Time</th><th>Result</th><th>Duration</th><th>Message</th>", put_run_row,
};

static const struct table_card alerts_card = {
	"alert-history", "Alert history", "No alerts.",
	"<th>Time</th><th>Rule</th><th>Change</th><th>Value</th>", put_alert_row,
};

static void put_recent_runs(struct buf *b, struct store_reader *r, const char *name)
{
	put_table_card(b, &runs_card, r ? store_results(r, name, 0, 0, RUNS_SHOWN) : NULL);
}

static void put_alert_history(struct buf *b, struct store_reader *r, const char *name)
{
	put_table_card(b, &alerts_card, r ? store_alert_history(r, name, ALERTS_SHOWN) : NULL);
}

/* GET /check/NAME[?range=1h|24h|7d|30d]. */
void page_check(struct api_request *rq, struct api_response *rs)
{
	const struct snapshot_check *sc = rq->snap ? snapshot_find(rq->snap, rq->name) : NULL;
	const char *want = api_query(rq, "range");
	struct buf b = BUF_MAX(PAGE_MAX_BYTES);
	char attrs[160], doc_title[256];
	size_t range = RANGE_AUTO;
	struct rslot *slot;
	char slot_key[API_NAME_MAX + 8];
	struct rcache_key key;
	struct rcache_hit hit;
	uint64_t t0;

	if (sc == NULL) {
		page_not_found(rq, rs);
		return;
	}
	for (size_t i = 0; want != NULL && i < N_RANGES; i++)
		if (strcmp(want, ranges[i].key) == 0)
			range = i;
	key.conf = rq->snap->conf;
	key.snap = rq->snap;
	key.snap_us = rq->snap->published_us;
	snprintf(slot_key, sizeof(slot_key), "%zu/%s", range, rq->name);
	slot = rslots_get(&check_slots, slot_key);
	if (!rcache_get(&slot->cache, &key, false, &hit)) {
		int64_t now = util_wall_us();
		char *html;
		size_t len;

		t0 = util_mono_us();
		/* rq->name passed the router's [A-Za-z0-9_.-] check: safe in an attribute. */
		snprintf(attrs, sizeof(attrs), "data-page=\"check\" data-check=\"%s\"", rq->name);
		snprintf(doc_title, sizeof(doc_title), "%s · %s", rq->name, page_title(rq->snap));
		page_put_head(&b, doc_title, page_title(rq->snap), attrs);
		struct fleet_view *v = fleet_view_acquire();

		put_check_header(&b, sc, page_fleet_state(v, rq->snap, sc, now));
		page_put_alert_banner(&b, rq->snap, sc->check->name, SIZE_MAX);
		if (fleet_view_enabled())
			page_put_check_locations(&b, v, rq->snap, sc, now);
		fleet_view_release(v);
		put_uptime_tiles(&b, rq->reader, sc, now);
		put_chart(&b, rq->reader, sc->check->name, range, now);
		page_put_check_incidents(&b, rq->reader, sc->check->name, now);
		put_recent_runs(&b, rq->reader, sc->check->name);
		put_alert_history(&b, rq->reader, sc->check->name);
		page_put_foot(&b);
		if (b.over) {
			rcache_abandon(&slot->cache, &hit);
			rslots_put(&check_slots, slot);
			page_html_answer(rs, MHD_HTTP_OK, &b);      /* answers 500 */
			return;
		}
		html = buf_steal(&b, &len);
		rcache_put(&slot->cache, &key, html, len, t0, &hit);
	}
	rslots_put(&check_slots, slot);
	rcache_answer(rq, rs, &hit, MHD_HTTP_OK, page_html_type, false);
}

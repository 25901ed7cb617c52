/* page_index.c — GET /, the status page: a summary, the firing alerts and
 * checks in maintenance, then every check by group with its state, its 90-day
 * bar and its uptime over 24 hours and 90 days. A fleet of more than
 * agent.page_full_up_to checks gets the summary and numbered pages instead
 * (page_paged.c; both write their rows and summary with page_rows.c).
 *
 * States come from the published snapshot. History comes from the cache of
 * page_hist.c (three grouped reads for every check, never a query per check),
 * and the rendered page itself is reused for a second or two under load. */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "core/util.h"
#include "dashboards/page.h"
#include "dashboards/page_hist.h"
#include "dashboards/page_parts.h"
#include "web/rcache.h"
#include "web/rsink.h"

#define BAR_MERGE_ABOVE    300      /* more checks: equal neighbouring days share a cell */

static const struct snapshot *sort_snap;   /* qsort context, under sort_lock */
static pthread_mutex_t sort_lock = PTHREAD_MUTEX_INITIALIZER;

/* Groups by name, the ungrouped last, config order within a group. */
static int order_cmp(const void *a, const void *b)
{
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	const char *gi = sort_snap->checks[i].check->group, *gj = sort_snap->checks[j].check->group;
	bool ni = gi == NULL || gi[0] == '\0', nj = gj == NULL || gj[0] == '\0';
	int c;

	if (ni != nj)
		return ni ? 1 : -1;
	c = ni ? 0 : strcmp(gi, gj);
	if (c != 0)
		return c;
	return i < j ? -1 : i > j;
}

static size_t *check_order(const struct snapshot *snap)
{
	size_t *order = xmalloc((snap->n_checks ? snap->n_checks : 1) * sizeof(*order));

	for (size_t i = 0; i < snap->n_checks; i++)
		order[i] = i;
	pthread_mutex_lock(&sort_lock);
	sort_snap = snap;
	qsort(order, snap->n_checks, sizeof(*order), order_cmp);
	sort_snap = NULL;
	pthread_mutex_unlock(&sort_lock);
	return order;
}

static const char *group_of(const struct snapshot_check *sc)
{
	return sc->check->group && sc->check->group[0] ? sc->check->group : NULL;
}

static bool same_group(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* Banner listing the checks in maintenance (hidden when none). */
static void put_maint_banner(struct buf *b, const struct snapshot *snap, size_t n_maint)
{
	size_t shown = 0;

	buf_printf(b, "<section id=\"maint\" class=\"banner b-maint\"%s><h2>"
	           "<span class=\"ic\" aria-hidden=\"true\"></span>In maintenance "
	           "<span class=\"n\">%zu</span></h2><ul>", n_maint ? "" : " hidden", n_maint);
	for (size_t i = 0; i < snap->n_checks && shown < 50; i++) {
		const struct snapshot_check *sc = &snap->checks[i];

		if (sc->state != CHECK_STATE_MAINTENANCE)
			continue;
		buf_adds(b, "<li><a href=\"/check/");
		page_escape(b, sc->check->name);
		buf_adds(b, "\">");
		page_escape(b, sc->check->name);
		buf_adds(b, "</a></li>");
		shown++;
	}
	if (shown < n_maint)
		buf_printf(b, "<li>and %zu more</li>", n_maint - shown);
	buf_adds(b, "</ul></section>\n");
}

/* Opens the section of group g (NULL: the ungrouped), whose checks are
 * order[k] onwards: its heading counts them and those down. */
static void put_group_head(struct buf *b, const struct snapshot *snap, const size_t *order,
                           size_t k, const char *g, const enum check_state *states,
                           const struct fleet_view *cols)
{
	size_t n = 0, down = 0;

	for (size_t m = k; m < snap->n_checks; m++) {
		const struct snapshot_check *o = &snap->checks[order[m]];

		if (!same_group(group_of(o), g))
			break;
		n++;
		down += states[order[m]] == CHECK_STATE_DOWN || states[order[m]] == CHECK_STATE_BLOCKED;
	}
	if (cols != NULL)       /* a grid column per location (style.css) */
		buf_printf(b, "<section class=\"group fleet\" style=\"--nloc:%zu\"><div class=\"g-head\"><h2>",
		           cols->n_locations);
	else
		buf_adds(b, "<section class=\"group\"><div class=\"g-head\"><h2>");
	page_escape(b, g ? g : (k == 0 ? "Checks" : "Other checks"));
	buf_adds(b, "</h2>");
	page_put_group_head_rest(b, n, down, cols);
}

/* Renders the status page of rq->snap (not NULL) into sink (compressed as
 * it goes, rsink.h). */
static void render_index(struct api_request *rq, struct rsink *sink, int64_t now)
{
	struct buf *b = &sink->b;
	const struct snapshot *snap = rq->snap;
	size_t counts[CHECK_STATE_DEGRADED + 1] = { 0 }, *order;
	struct page_hist *h;
	bool merge;
	const char *cur = NULL;
	bool open = false;
	/* A fleet: states are the fleet's; a column per location when it has
	 * more than one. */
	struct fleet_view *v = fleet_view_acquire();
	const struct fleet_view *cols = page_fleet_columns(v) ? v : NULL;
	enum check_state *states = xmalloc((snap->n_checks + 1) * sizeof(*states));
	struct fleet_status *fs = cols != NULL ? xmalloc(sizeof(*fs)) : NULL;

	h = page_hist_acquire(rq->reader, now);
	for (size_t i = 0; i < snap->n_checks; i++) {
		states[i] = page_fleet_state(v, snap, &snap->checks[i], now);
		if ((unsigned)states[i] <= CHECK_STATE_DEGRADED)
			counts[states[i]]++;
	}
	merge = snap->n_checks > BAR_MERGE_ABOVE;

	page_put_head(b, page_title(snap), page_title(snap), "data-page=\"index\"");
	page_put_summary(b, snap, counts, now);
	if (cols != NULL)
		page_put_fleet_legend(b);
	page_put_announcements(b, snap->conf, now);
	page_put_open_incidents(b, rq->reader, now);
	page_put_alert_banner(b, snap, NULL, SIZE_MAX);
	put_maint_banner(b, snap, counts[CHECK_STATE_MAINTENANCE]);
	page_put_maintenance_schedule(b, snap->conf, now);

	order = check_order(snap);
	for (size_t k = 0; k < snap->n_checks; k++) {
		const struct snapshot_check *sc = &snap->checks[order[k]];
		const char *g = group_of(sc);

		if (!open || !same_group(cur, g)) {
			if (open)
				buf_adds(b, "</ul></section>\n");
			put_group_head(b, snap, order, k, g, states, cols);
			cur = g;
			open = true;
		}
		if (fs != NULL)
			fleet_status_of(v, sc, snap->conf->agent.location, now, fs);
		page_put_check_row(b, sc, states[order[k]], fs, cols, h, merge);
		rsink_flush(sink);
	}
	if (open)
		buf_adds(b, "</ul></section>\n");
	if (snap->n_checks == 0)
		buf_adds(b, "<section class=\"card message\"><p>No checks are configured."
		            "</p></section>\n");
	free(order);
	free(states);
	free(fs);
	fleet_view_release(v);
	page_hist_release(h);
	page_put_foot(b);
}

/* The last rendered index page (rcache.h): a page of 10,000 checks takes
 * tens of milliseconds to render, so under load one thread renders (and
 * gzips) while the others share the previous bytes, at most a second or two
 * old. A reload (new conf) renders at once. */
static struct rcache index_cache = RCACHE_INIT;

void page_index_cache_clear(void)
{
	rcache_clear(&index_cache);
	page_paged_cache_clear();
}

/* GET /: the status page; above agent.page_full_up_to checks the summary
 * and the list in numbered pages (page_paged.c), whatever the query says
 * below it (one page of every check, as always). */
void page_index(struct api_request *rq, struct api_response *rs)
{
	struct rsink sink;
	struct rcache_key key;
	struct rcache_hit hit;
	uint64_t t0;

	if (rq->snap == NULL) {
		page_message(rq, rs, MHD_HTTP_SERVICE_UNAVAILABLE, "Starting",
		             "The agent has not loaded its configuration yet.");
		return;
	}
	if (rq->snap->n_checks > (size_t)rq->snap->conf->agent.page_full_up_to) {
		page_index_paged(rq, rs);
		return;
	}
	key.conf = rq->snap->conf;
	key.snap = rq->snap;
	key.snap_us = rq->snap->published_us;
	if (!rcache_get(&index_cache, &key, false, &hit)) {
		t0 = util_mono_us();
		rsink_init(&sink, PAGE_MAX_BYTES);
		render_index(rq, &sink, util_wall_us());
		if (rsink_failed(&sink)) {
			rcache_abandon(&index_cache, &hit);
			sink.b.over = true;
			page_html_answer(rs, MHD_HTTP_OK, &sink.b);     /* answers 500 */
			rsink_free(&sink);
			return;
		}
		rcache_put_sink(&index_cache, &key, &sink, t0, &hit);
	}
	rcache_answer(rq, rs, &hit, MHD_HTTP_OK, page_html_type, false);
}

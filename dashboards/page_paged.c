/* page_paged.c — GET /[?page=N][&group=NAME] for a fleet of more than
 * agent.page_full_up_to checks: a page of every check would be megabytes
 * (54 MB at 100,000 checks) that no one reads. Instead: the summary, the
 * checks that are not up (worst first, PROBLEMS_SHOWN of them and a count of
 * the rest), the groups with their counts and worst state, then the list
 * itself (by group, as on the full page) in numbered pages of PAGE_ROWS, with
 * links to the previous, next, first and last page. ?group=NAME narrows the
 * problems and the list to one group (empty: the checks without one).
 *
 * Cost of a render: the rows shown, plus one pass over the snapshot for the
 * counts (states, per group, the problems); the list order comes from
 * page_layout.c (sorted once per config). Each (page, group) is cached as
 * its own render (rslots.h), so memory stays bounded by the slots. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "core/util.h"
#include "dashboards/page.h"
#include "dashboards/page_hist.h"
#include "dashboards/page_layout.h"
#include "dashboards/page_parts.h"
#include "web/paging.h"
#include "web/rcache.h"
#include "web/rslots.h"
#include "web/rsink.h"

#define PROBLEMS_SHOWN 100          /* checks not up listed on the first page */
#define GROUPS_SHOWN   500          /* groups listed on the first page */
#define ALERTS_SHOWN   20           /* firing alerts listed in the banner */
#define N_STATES       (CHECK_STATE_DEGRADED + 1)
#define N_RANKS        6            /* state_rank(): 0 (up) to 5 (down) */

/* How bad a state is, for the problems' order and a group's worst state:
 * down, blocked, degraded, pending, maintenance, up. */
static int state_rank(enum check_state st)
{
	switch (st) {
	case CHECK_STATE_DOWN: return 5;
	case CHECK_STATE_BLOCKED: return 4;
	case CHECK_STATE_DEGRADED: return 3;
	case CHECK_STATE_PENDING: return 2;
	case CHECK_STATE_MAINTENANCE: return 1;
	default: return 0;
	}
}

/* What one request asks for: the page (1-based) and the group (-1: all). */
struct paged_query {
	size_t page;
	long group;
	struct paging_span span;    /* the page's positions in the (group's) list */
	size_t total;               /* checks in the list */
};

/* Everything one pass over the snapshot finds. */
struct paged_counts {
	size_t states[N_STATES];    /* every check, by state */
	size_t *g_down;             /* per group: down or blocked */
	int *g_worst;               /* per group: the worst state_rank */
	enum check_state *g_worst_state;
	/* the checks not up of the list shown, worst first: up to
	 * PROBLEMS_SHOWN positions per rank (1..5) */
	uint32_t *prob[N_RANKS];
	size_t n_prob[N_RANKS];
	size_t not_up;              /* in the list shown */
};

/* --- query values ------------------------------------------------------------- */

/* s percent-encoded as a query value (unreserved characters as they are),
 * which is also safe inside a quoted HTML attribute. */
static void put_query_value(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    *p == '-' || *p == '.' || *p == '_' || *p == '~')
			buf_addc(b, (char)*p);
		else
			buf_printf(b, "%%%c%c", hex[*p >> 4], hex[*p & 15]);
	}
}

/* The link of page p of the list of group g (-1: every check). */
static void put_page_href(struct buf *b, const struct page_layout *l, long g, size_t p)
{
	buf_adds(b, "/");
	if (p > 1)
		buf_printf(b, "?page=%zu", p);
	if (g >= 0) {
		buf_adds(b, p > 1 ? "&amp;group=" : "?group=");
		put_query_value(b, l->groups[g].name ? l->groups[g].name : "");
	}
}

/* --- the pieces ----------------------------------------------------------------- */

/* One pass over the snapshot: states, per-group figures, the problems. */
static void count_states(const struct snapshot *snap, const struct page_layout *l,
                         const struct fleet_view *v, long group, int64_t now,
                         struct paged_counts *c)
{
	memset(c, 0, sizeof(*c));
	c->g_down = xcalloc(l->n_groups + 1, sizeof(*c->g_down));
	c->g_worst = xmalloc((l->n_groups + 1) * sizeof(*c->g_worst));
	c->g_worst_state = xcalloc(l->n_groups + 1, sizeof(*c->g_worst_state));
	for (size_t g = 0; g <= l->n_groups; g++)
		c->g_worst[g] = -1;
	for (int r = 1; r < N_RANKS; r++)
		c->prob[r] = xmalloc(PROBLEMS_SHOWN * sizeof(*c->prob[r]));
	for (size_t k = 0; k < snap->n_checks; k++) {
		enum check_state st = page_fleet_state(v, snap, &snap->checks[k], now);
		uint32_t g = l->gid[k];
		int r = state_rank(st);

		if ((unsigned)st < N_STATES)
			c->states[st]++;
		c->g_down[g] += st == CHECK_STATE_DOWN || st == CHECK_STATE_BLOCKED;
		if (r > c->g_worst[g]) {
			c->g_worst[g] = r;
			c->g_worst_state[g] = st;
		}
		if (r == 0 || (group >= 0 && (long)g != group))
			continue;
		c->not_up++;
		if (c->n_prob[r] < PROBLEMS_SHOWN)
			c->prob[r][c->n_prob[r]++] = (uint32_t)k;
	}
}

static void counts_free(struct paged_counts *c)
{
	free(c->g_down);
	free(c->g_worst);
	free(c->g_worst_state);
	for (int r = 1; r < N_RANKS; r++)
		free(c->prob[r]);
}

/* The checks not up, worst first, at most PROBLEMS_SHOWN, then how many
 * more. Each row: the name, its state, its group and its last message. */
static void put_problems(struct buf *b, const struct snapshot *snap, const struct fleet_view *v,
                         const struct paged_counts *c, int64_t now)
{
	size_t shown = 0;

	buf_printf(b, "<section id=\"problems\" class=\"card problems\"><h2>Not up "
	           "<span class=\"n\">%zu</span></h2>", c->not_up);
	if (c->not_up == 0) {
		buf_adds(b, "<p class=\"muted\">Every check is up.</p></section>\n");
		return;
	}
	buf_adds(b, "<ul class=\"plist\">");
	for (int r = N_RANKS - 1; r >= 1; r--) {
		for (size_t i = 0; i < c->n_prob[r] && shown < PROBLEMS_SHOWN; i++, shown++) {
			const struct snapshot_check *sc = &snap->checks[c->prob[r][i]];
			enum check_state st = page_fleet_state(v, snap, sc, now);

			buf_adds(b, "<li class=\"prob\" data-name=\"");
			page_escape(b, sc->check->name);
			buf_printf(b, "\" data-state=\"%s\"><a href=\"/check/", check_state_name(st));
			page_escape(b, sc->check->name);
			buf_adds(b, "\">");
			page_escape(b, sc->check->name);
			buf_adds(b, "</a>");
			page_put_state(b, st);
			if (sc->check->group != NULL && sc->check->group[0] != '\0') {
				buf_adds(b, "<span class=\"p-group\">");
				page_escape(b, sc->check->group);
				buf_adds(b, "</span>");
			}
			if (!sc->last_ok && sc->last_message != NULL && sc->last_message[0] != '\0') {
				buf_adds(b, "<span class=\"msg\">");
				page_escape(b, sc->last_message);
				buf_adds(b, "</span>");
			}
			buf_adds(b, "</li>");
		}
	}
	buf_adds(b, "</ul>");
	if (c->not_up > shown)
		buf_printf(b, "<p class=\"more\">and %zu more not up</p>", c->not_up - shown);
	buf_adds(b, "</section>\n");
}

/* The groups: name (a link to its list), checks, down, worst state. */
static void put_groups(struct buf *b, const struct page_layout *l, const struct paged_counts *c)
{
	size_t n = l->n_groups < GROUPS_SHOWN ? l->n_groups : GROUPS_SHOWN;

	buf_printf(b, "<section id=\"groups\" class=\"card groups\"><h2>Groups "
	           "<span class=\"n\">%zu</span></h2><table><thead><tr><th>group</th>"
	           "<th class=\"num\">checks</th><th class=\"num\">down</th><th>worst</th>"
	           "</tr></thead><tbody>", l->n_groups);
	for (size_t i = 0; i < n; i++) {
		buf_adds(b, "<tr><td><a href=\"");
		put_page_href(b, l, (long)i, 1);
		buf_adds(b, "\">");
		page_escape(b, l->groups[i].name ? l->groups[i].name : "(no group)");
		buf_printf(b, "</a></td><td class=\"num\">%zu</td><td class=\"num%s\">%zu</td><td>",
		           l->groups[i].n, c->g_down[i] ? " g-down" : "", c->g_down[i]);
		page_put_state(b, c->g_worst_state[i]);
		buf_adds(b, "</td></tr>");
	}
	buf_adds(b, "</tbody></table>");
	if (l->n_groups > n)
		buf_printf(b, "<p class=\"more\">and %zu more groups</p>", l->n_groups - n);
	buf_adds(b, "</section>\n");
}

/* The pager: previous, "page N of M (checks a–b of T)", next, and the first
 * and last pages. */
static void put_pager(struct buf *b, const struct page_layout *l, const struct paged_query *q)
{
	size_t pages = paging_pages(q->total, PAGE_ROWS);

	buf_adds(b, "<nav class=\"pager\" aria-label=\"pages\">");
	if (q->page > 1) {
		buf_adds(b, "<a class=\"first\" href=\"");
		put_page_href(b, l, q->group, 1);
		buf_adds(b, "\">1</a><a rel=\"prev\" href=\"");
		put_page_href(b, l, q->group, q->page - 1);
		buf_adds(b, "\">← Previous</a>");
	}
	buf_printf(b, "<span class=\"where\">Page %zu of %zu", q->page, pages);
	if (q->span.count > 0)
		buf_printf(b, " · checks %zu–%zu of %zu", q->span.first + 1,
		           q->span.first + q->span.count, q->total);
	buf_adds(b, "</span>");
	if (q->page < pages) {
		buf_adds(b, "<a rel=\"next\" href=\"");
		put_page_href(b, l, q->group, q->page + 1);
		buf_adds(b, "\">Next →</a><a class=\"last\" href=\"");
		put_page_href(b, l, q->group, pages);
		buf_printf(b, "\">%zu</a>", pages);
	}
	buf_adds(b, "</nav>\n");
}

/* Opens the section of group g in the list: its name (a link to its own
 * list), its totals, and "continued" when the page starts inside it. */
static void put_list_group_head(struct buf *b, const struct page_layout *l, size_t g,
                                size_t down, bool continued, const struct fleet_view *cols)
{
	if (cols != NULL)
		buf_printf(b, "<section class=\"group fleet\" style=\"--nloc:%zu\"><div class=\"g-head\"><h2>",
		           cols->n_locations);
	else
		buf_adds(b, "<section class=\"group\"><div class=\"g-head\"><h2>");
	buf_adds(b, "<a href=\"");
	put_page_href(b, l, (long)g, 1);
	buf_adds(b, "\">");
	page_escape(b, l->groups[g].name ? l->groups[g].name : "Other checks");
	buf_printf(b, "</a>%s</h2>", continued ? " <span class=\"muted\">(continued)</span>" : "");
	page_put_group_head_rest(b, l->groups[g].n, down, cols);
}

/* The rows of the page, by group, in v: the fleet's view the counts were
 * made in, so a row's state agrees with them. */
static void put_list(struct rsink *sink, const struct api_request *rq, const struct page_layout *l,
                     const struct paged_query *q, const struct paged_counts *c,
                     const struct fleet_view *v, const struct page_hist *h, int64_t now)
{
	struct buf *b = &sink->b;
	const struct snapshot *snap = rq->snap;
	const struct fleet_view *cols = page_fleet_columns(v) ? v : NULL;
	struct fleet_status *fs = cols != NULL ? xmalloc(sizeof(*fs)) : NULL;
	size_t base = q->group >= 0 ? l->groups[q->group].first : 0;
	long open = -1;

	buf_adds(b, "<div id=\"list\">\n");
	for (size_t i = 0; i < q->span.count; i++) {
		size_t pos = base + q->span.first + i;
		uint32_t k = l->order[pos];
		const struct snapshot_check *sc = &snap->checks[k];
		long g = (long)l->gid[k];

		if (g != open) {
			if (open >= 0)
				buf_adds(b, "</ul></section>\n");
			put_list_group_head(b, l, (size_t)g, c->g_down[g], pos > l->groups[g].first, cols);
			open = g;
		}
		if (fs != NULL)
			fleet_status_of(v, sc, snap->conf->agent.location, now, fs);
		page_put_check_row(b, sc, page_fleet_state(v, snap, sc, now), fs, cols, h, true);
		rsink_flush(sink);
	}
	if (open >= 0)
		buf_adds(b, "</ul></section>\n");
	buf_adds(b, "</div>\n");
	free(fs);
}

/* The heading of a list narrowed to one group. */
static void put_group_filter(struct buf *b, const struct page_layout *l, long g,
                             const struct paged_counts *c)
{
	buf_adds(b, "<section id=\"group-filter\" class=\"card\"><h2>Group ");
	page_escape(b, l->groups[g].name ? l->groups[g].name : "(no group)");
	buf_printf(b, "</h2><p>%zu check%s · %zu down · <a href=\"/\">all checks</a></p></section>\n",
	           l->groups[g].n, l->groups[g].n == 1 ? "" : "s", c->g_down[g]);
}

/* Renders the page q asks for into sink. */
static void render_paged(struct api_request *rq, struct rsink *sink, const struct page_layout *l,
                         const struct paged_query *q, int64_t now)
{
	struct buf *b = &sink->b;
	const struct snapshot *snap = rq->snap;
	struct fleet_view *v = fleet_view_acquire();
	struct page_hist *h = page_hist_acquire(rq->reader, now);
	struct paged_counts c;

	count_states(snap, l, v, q->group, now, &c);
	page_put_head(b, page_title(snap), page_title(snap), "data-page=\"index\" data-paged=\"\"");
	page_put_summary(b, snap, c.states, now);
	if (page_fleet_columns(v))
		page_put_fleet_legend(b);
	page_put_announcements(b, snap->conf, now);
	page_put_open_incidents(b, rq->reader, now);
	page_put_alert_banner(b, snap, NULL, ALERTS_SHOWN);
	page_put_maintenance_schedule(b, snap->conf, now);
	if (q->group >= 0)
		put_group_filter(b, l, q->group, &c);
	if (q->page == 1) {
		put_problems(b, snap, v, &c, now);
		if (q->group < 0)
			put_groups(b, l, &c);
	}
	put_pager(b, l, q);
	put_list(sink, rq, l, q, &c, v, h, now);
	put_pager(b, l, q);
	page_put_foot(b);
	counts_free(&c);
	page_hist_release(h);
	fleet_view_release(v);
}

/* --- the handler ---------------------------------------------------------------- */

/* The renders of the pages last asked, one per (page, group). */
static struct rslots paged_slots = RSLOTS_INIT;

void page_paged_cache_clear(void)
{
	rslots_clear(&paged_slots);
	page_layout_clear();
}

/* Reads ?page= and ?group= into q against l. Returns 0, or -1 after
 * answering (400 for a page that is not a number, 404 for a group or a
 * page that does not exist). */
static int read_query(struct api_request *rq, struct api_response *rs, const struct page_layout *l,
                      struct paged_query *q)
{
	const char *page = api_query(rq, "page");
	const char *group = api_query(rq, "group");
	/* "?group" without a value counts as "?group=": the ungrouped */
	bool has_group = group != NULL ||
	                 (rq->conn != NULL &&
	                  MHD_lookup_connection_value_n(rq->conn, MHD_GET_ARGUMENT_KIND, "group",
	                                                5, NULL, NULL) == MHD_YES);
	char text[200];

	q->page = 1;
	q->group = -1;
	if (page != NULL && paging_parse_count(page, 1, SIZE_MAX / PAGE_ROWS, &q->page) != 0) {
		snprintf(text, sizeof(text), "The page must be a number from 1, not \"%.40s\".", page);
		page_message(rq, rs, MHD_HTTP_BAD_REQUEST, "Bad request", text);
		return -1;
	}
	if (has_group) {
		q->group = page_layout_find_group(l, group);
		if (q->group < 0) {
			snprintf(text, sizeof(text), "There is no group named \"%.100s\".",
			         group != NULL ? group : "");       /* "?group": no value */
			page_message(rq, rs, MHD_HTTP_NOT_FOUND, "Not found", text);
			return -1;
		}
	}
	q->total = q->group >= 0 ? l->groups[q->group].n : l->n_checks;
	if (!paging_page_span(q->total, PAGE_ROWS, q->page, &q->span)) {
		snprintf(text, sizeof(text), "There is no page %zu: the list has %zu.", q->page,
		         paging_pages(q->total, PAGE_ROWS));
		page_message(rq, rs, MHD_HTTP_NOT_FOUND, "Not found", text);
		return -1;
	}
	return 0;
}

/* See page_parts.h. */
void page_index_paged(struct api_request *rq, struct api_response *rs)
{
	struct page_layout *l = page_layout_acquire(rq->snap->conf);
	struct paged_query q;
	struct rcache_key key;
	struct rcache_hit hit;
	struct rslot *slot;
	struct rsink sink;
	struct buf slot_key = BUF_INIT;

	if (l->n_checks != rq->snap->n_checks || read_query(rq, rs, l, &q) != 0) {
		if (l->n_checks != rq->snap->n_checks)     /* never: a snapshot is of its conf */
			api_error(rs, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "layout mismatch");
		page_layout_release(l);
		return;
	}
	/* a key too long for a slot gets a render of its own (rslots.h) */
	buf_printf(&slot_key, "%zu/%c%s", q.page, q.group >= 0 ? '=' : '*',
	           q.group >= 0 && l->groups[q.group].name ? l->groups[q.group].name : "");
	key.conf = rq->snap->conf;
	key.snap = rq->snap;
	key.snap_us = rq->snap->published_us;
	slot = rslots_get(&paged_slots, slot_key.p);
	buf_free(&slot_key);
	if (!rcache_get(&slot->cache, &key, false, &hit)) {
		uint64_t t0 = util_mono_us();

		rsink_init(&sink, PAGE_MAX_BYTES);
		render_paged(rq, &sink, l, &q, util_wall_us());
		if (rsink_failed(&sink)) {
			rcache_abandon(&slot->cache, &hit);
			rslots_put(&paged_slots, slot);
			page_layout_release(l);
			sink.b.over = true;
			page_html_answer(rs, MHD_HTTP_OK, &sink.b);     /* answers 500 */
			rsink_free(&sink);
			return;
		}
		rcache_put_sink(&slot->cache, &key, &sink, t0, &hit);
	}
	rslots_put(&paged_slots, slot);
	page_layout_release(l);
	rcache_answer(rq, rs, &hit, MHD_HTTP_OK, page_html_type, false);
}

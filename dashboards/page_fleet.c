/* page_fleet.c — the fleet on the status pages (SPEC §6): a column per
 * location on the index page when the fleet has more than one (a state mark
 * and the latency, the state also in words for screen readers and as a
 * tooltip), a legend of what "degraded" means, and the check page's table of
 * locations. The figures come from the fleet's view (web/fleet_view.h). */
#include <stdio.h>
#include <string.h>

#include "core/util.h"
#include "dashboards/page_parts.h"

bool page_fleet_columns(const struct fleet_view *v)
{
	return v != NULL && v->n_locations > 1;
}

enum check_state page_fleet_state(const struct fleet_view *v, const struct snapshot *snap,
                                  const struct snapshot_check *sc, int64_t now)
{
	struct fleet_status st;

	if (!fleet_view_enabled())
		return sc->state;
	fleet_status_of(v, sc, snap->conf->agent.location, now, &st);
	return st.state;
}

void page_put_fleet_head(struct buf *b, const struct fleet_view *v)
{
	buf_adds(b, "<span class=\"g-locs\">");
	for (size_t i = 0; i < v->n_locations; i++) {
		buf_adds(b, "<span>");
		page_escape(b, v->locations[i]);
		buf_adds(b, "</span>");
	}
	buf_adds(b, "</span>");
}

/* The state of one location in words: "up", "down", "stale" (no result for
 * 3 intervals). */
static const char *loc_word(const struct fleet_loc *l)
{
	return l->stale ? "stale" : l->ok ? "up" : "down";
}

static const char *loc_class(const struct fleet_loc *l)
{
	return l->stale ? "pending" : l->ok ? "up" : "down";
}

/* One cell: the mark (shape and colour by state), then the latency of a
 * passing run or the word "down"; the location and state for screen readers
 * and in the tooltip. */
static void put_loc_cell(struct buf *b, const char *location, const struct fleet_loc *l)
{
	char dur[32];

	if (l == NULL) {
		buf_adds(b, "<span class=\"loc st-none\" title=\"");
		page_escape(b, location);
		buf_adds(b, ": no result\"><span class=\"vh\">");
		page_escape(b, location);
		buf_adds(b, ": no result</span>–</span>");
		return;
	}
	page_fmt_ms((double)l->duration_us / 1000.0, dur, sizeof(dur));
	buf_printf(b, "<span class=\"loc st-%s\" data-loc=\"", loc_class(l));
	page_escape(b, location);
	buf_adds(b, "\" title=\"");
	page_escape(b, location);
	buf_printf(b, ": %s, %s\"><span class=\"ic\" aria-hidden=\"true\"></span><span class=\"vh\">",
	           loc_word(l), dur);
	page_escape(b, location);
	buf_printf(b, " %s</span>%s</span>", loc_word(l), l->ok && !l->stale ? dur : loc_word(l));
}

void page_put_fleet_cells(struct buf *b, const struct fleet_view *v,
                          const struct fleet_status *st)
{
	size_t k = 0;

	buf_adds(b, "<span class=\"c-locs\">");
	/* Both lists are sorted by name: one walk. */
	for (size_t i = 0; i < v->n_locations; i++) {
		while (k < st->n && strcmp(st->at[k].location, v->locations[i]) < 0)
			k++;
		put_loc_cell(b, v->locations[i],
		             k < st->n && strcmp(st->at[k].location, v->locations[i]) == 0 ?
		             &st->at[k] : NULL);
	}
	buf_adds(b, "</span>");
}

void page_put_fleet_legend(struct buf *b)
{
	buf_adds(b, "<p class=\"fleet-legend\"><span class=\"state st-up\"><span class=\"ic\" "
	            "aria-hidden=\"true\"></span>Up</span> passing at every location "
	            "<span class=\"state st-degraded\"><span class=\"ic\" aria-hidden=\"true\">"
	            "</span>Degraded</span> failing at some locations "
	            "<span class=\"state st-down\"><span class=\"ic\" aria-hidden=\"true\"></span>"
	            "Down</span> failing at every location</p>\n");
}

void page_put_check_locations(struct buf *b, const struct fleet_view *v,
                              const struct snapshot *snap, const struct snapshot_check *sc,
                              int64_t now)
{
	struct fleet_status st;
	char dur[32];

	fleet_status_of(v, sc, snap->conf->agent.location, now, &st);
	buf_adds(b, "<section class=\"card\" id=\"locations\"><h2>Locations</h2>");
	if (st.n == 0) {
		buf_adds(b, "<p class=\"muted\">No runs yet.</p></section>\n");
		return;
	}
	buf_adds(b, "<div class=\"tscroll\"><table><thead><tr><th>Location</th><th>State</th>"
	            "<th>Last run</th><th>Duration</th><th>Message</th></tr></thead><tbody>");
	for (size_t k = 0; k < st.n; k++) {
		const struct fleet_loc *l = &st.at[k];

		page_fmt_ms((double)l->duration_us / 1000.0, dur, sizeof(dur));
		buf_adds(b, "<tr data-loc=\"");
		page_escape(b, l->location);
		buf_adds(b, "\"><td>");
		page_escape(b, l->location);
		buf_printf(b, "</td><td><span class=\"loc st-%s\"><span class=\"ic\" aria-hidden=\"true\">"
		           "</span>%s</span>", loc_class(l), loc_word(l));
		if (!l->ok && l->error[0]) {
			buf_adds(b, " <span class=\"eclass\">");
			page_escape(b, l->error);
			buf_adds(b, "</span>");
		}
		buf_adds(b, "</td><td class=\"nowrap\">");
		page_put_time(b, l->ts_us);
		buf_printf(b, "</td><td class=\"nowrap num\">%s</td><td class=\"msg\">", dur);
		page_escape(b, l->message);
		buf_adds(b, "</td></tr>");
	}
	buf_adds(b, "</tbody></table></div></section>\n");
}

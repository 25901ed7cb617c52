/* page_rows.c — the pieces of GET / that both of its layouts show (the
 * full page of page_index.c and the numbered pages of page_paged.c): one
 * check's row of the list and the summary at the top. */
#include <stdbool.h>
#include <stdio.h>

#include "core/util.h"
#include "dashboards/page.h"
#include "dashboards/page_hist.h"
#include "dashboards/page_parts.h"

/* "12 ms · avg 15 ms": the last run's response time and the mean over 24
 * hours (nothing before the first run). */
static void put_response_times(struct buf *b, const struct snapshot_check *sc,
                               const struct page_hist_row *row)
{
	char cur[32], avg[32];

	if (!sc->has_last)
		return;
	page_fmt_ms((double)sc->last_duration_us / 1000.0, cur, sizeof(cur));
	buf_printf(b, "<span class=\"c-rt\" title=\"response time: last run, and the average "
	           "over 24 hours\"><span class=\"rt-cur\">%s</span>", cur);
	if (row != NULL && row->avg24_ms >= 0) {
		page_fmt_ms(row->avg24_ms, avg, sizeof(avg));
		buf_printf(b, " · avg %s", avg);
	}
	buf_adds(b, "</span>");
}

/* See page_parts.h. */
void page_put_check_row(struct buf *b, const struct snapshot_check *sc, enum check_state st,
                          const struct fleet_status *cols, const struct fleet_view *v,
                          const struct page_hist *h, bool merge)
{
	const struct page_hist_row *row = page_hist_find(h, sc->check->name);
	int32_t day_runs[PAGE_DAYS], day_ok[PAGE_DAYS];
	double up24 = row ? page_pct_of(row->ok24, row->runs24) : -1;
	double up90 = row ? page_pct_of(row->ok90, row->runs90) : -1;
	char p24[16], p90[16];

	page_format_pct(up24, p24, sizeof(p24));
	page_format_pct(up90, p90, sizeof(p90));
	buf_adds(b, "<li class=\"check\" data-name=\"");
	page_escape(b, sc->check->name);
	buf_printf(b, "\" data-state=\"%s\"><div class=\"c-name\"><a href=\"/check/",
	           check_state_name(st));
	page_escape(b, sc->check->name);
	buf_adds(b, "\">");
	page_escape(b, sc->check->name);
	buf_printf(b, "</a><span class=\"c-type\">%s</span>", check_type_name(sc->check->type));
	if (!merge)
		put_response_times(b, sc, row);
	buf_adds(b, "</div>");
	if (!merge) {
		page_put_state(b, st);
	} else {
		/* Big fleets: the row without what repeats in every row and says
		 * nothing new (aria-hidden on an empty icon, tooltips that repeat
		 * "24h" / "90d" and the group's "uptime" heading): ~80 bytes of
		 * ~700 per check. */
		buf_printf(b, "<span class=\"state st-%s\"><span class=\"ic\"></span>%s</span>",
		           check_state_name(st), page_state_label(st));
	}
	if (cols != NULL)
		page_put_fleet_cells(b, v, cols);
	page_hist_days(row, day_runs, day_ok);
	page_put_bar(b, day_runs, day_ok, h ? h->today : util_wall_us() / US_PER_DAY, merge);
	if (!merge)
		buf_printf(b, "<div class=\"c-up\"><span class=\"up24 %s\" title=\"uptime, last "
		           "24 hours\"><b>%s</b> 24h</span><span class=\"up90 %s\" title=\"uptime, "
		           "last 90 days\"><b>%s</b> 90d</span></div></li>\n",
		           page_uptime_class(up24), p24, page_uptime_class(up90), p90);
	else
		buf_printf(b, "<div class=\"c-up\"><span class=\"up24 %s\"><b>%s</b> 24h</span>"
		           "<span class=\"up90 %s\"><b>%s</b> 90d</span></div></li>\n",
		           page_uptime_class(up24), p24, page_uptime_class(up90), p90);
}

/* See page_parts.h. */
void page_put_summary(struct buf *b, const struct snapshot *snap, const size_t *counts,
                        int64_t now)
{
	size_t failing = counts[CHECK_STATE_DOWN] + counts[CHECK_STATE_BLOCKED];

	buf_printf(b, "<section id=\"summary\" class=\"summary %s\"><span class=\"ic\" "
	           "aria-hidden=\"true\"></span><div><h1 id=\"summary-text\">",
	           failing ? "s-down" : counts[CHECK_STATE_DEGRADED] ? "s-degraded" :
	           counts[CHECK_STATE_UP] ? "s-up" : "s-pending");
	if (failing)
		buf_printf(b, "%zu check%s down", failing, failing == 1 ? "" : "s");
	else if (counts[CHECK_STATE_DEGRADED])  /* a fleet: failing at some locations */
		buf_printf(b, "%zu check%s degraded", counts[CHECK_STATE_DEGRADED],
		           counts[CHECK_STATE_DEGRADED] == 1 ? "" : "s");
	else if (snap->n_checks == 0)
		buf_adds(b, "No checks configured");
	else if (counts[CHECK_STATE_UP] == 0 && counts[CHECK_STATE_PENDING] > 0)
		buf_adds(b, "Waiting for the first results");
	else
		buf_adds(b, "All systems operational");
	buf_printf(b, "</h1><p class=\"counts\" id=\"counts\">%zu check%s · %zu up · %zu down",
	           snap->n_checks, snap->n_checks == 1 ? "" : "s", counts[CHECK_STATE_UP], failing);
	if (counts[CHECK_STATE_DEGRADED])
		buf_printf(b, " · %zu degraded", counts[CHECK_STATE_DEGRADED]);
	buf_printf(b, "%s</p></div><p class=\"updated\">Last updated ",
	           counts[CHECK_STATE_PENDING] ? " · some pending" : "");
	buf_adds(b, "<span id=\"updated\">");
	page_put_time(b, now);
	buf_adds(b, "</span></p></section>\n");
}

void page_put_group_head_rest(struct buf *b, size_t n, size_t down, const struct fleet_view *cols)
{
	buf_printf(b, "<span class=\"g-count\">%zu check%s%s", n, n == 1 ? "" : "s",
	           down ? " · " : "");
	if (down)
		buf_printf(b, "<span class=\"g-down\">%zu down</span>", down);
	buf_adds(b, "</span>");
	if (cols != NULL)
		page_put_fleet_head(b, cols);
	buf_adds(b, "<span class=\"g-days\"><span>90 days ago</span>"
	            "<span>today</span></span><span class=\"g-up\">uptime</span>"
	            "</div><ul class=\"checks\">\n");
}

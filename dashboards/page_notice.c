/* page_notice.c — what the status page announces (SPEC §3): the config's
 * announcements between their start and end, and maintenance windows that are
 * in progress or start within the next 7 days. Also the selector text both
 * share ("payments-*, group:Batch") and the schedule the feed reuses. */
#include <stdio.h>
#include <string.h>

#include "alerts/maintenance.h"
#include "core/util.h"
#include "dashboards/page_parts.h"

#define UPCOMING_US  (7 * US_PER_DAY)

bool page_announcement_active(const struct announcement *a, int64_t now_us)
{
	return (a->start_us == 0 || a->start_us <= now_us) && (a->end_us == 0 || now_us < a->end_us);
}

/* "payments-*, group:Batch" (escaped), or "every check". */
static void put_selectors(struct buf *b, char *const *sel, size_t n)
{
	if (n == 0 || (n == 1 && strcmp(sel[0], "*") == 0)) {
		buf_adds(b, "every check");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			buf_adds(b, ", ");
		page_escape(b, sel[i]);
	}
}

void page_put_announcements(struct buf *b, const struct conf *conf, int64_t now)
{
	for (size_t i = 0; conf != NULL && i < conf->n_announcements; i++) {
		const struct announcement *a = &conf->announcements[i];

		if (!page_announcement_active(a, now))
			continue;
		buf_adds(b, "<section class=\"banner announce b-ann-");
		page_escape(b, a->severity);
		buf_adds(b, "\" role=\"note\"><h2>");
		page_escape(b, a->title);
		buf_adds(b, "</h2>");
		if (a->body[0] != '\0') {
			buf_adds(b, "<p>");
			page_escape(b, a->body);
			buf_adds(b, "</p>");
		}
		if (a->n_selectors > 0 || a->end_us != 0) {
			buf_adds(b, "<p class=\"muted\">");
			if (a->n_selectors > 0) {
				buf_adds(b, "Concerns ");
				put_selectors(b, a->selectors, a->n_selectors);
				buf_adds(b, a->end_us ? " · " : "");
			}
			if (a->end_us != 0) {
				buf_adds(b, "until ");
				page_put_hm(b, a->end_us, now);
			}
			buf_adds(b, "</p>");
		}
		buf_adds(b, "</section>\n");
	}
}

int page_maintenance_next(const struct maintenance_window *w, int64_t now_us, int64_t *start_us,
                          int64_t *end_us)
{
	int64_t s, e, next;

	if (maintenance_window_occurrence(w, now_us / 1000, &s, &e, &next) != 0)
		return -1;
	if (s * 1000 <= now_us && now_us < e * 1000) {
		*start_us = s * 1000;
		*end_us = e * 1000;
		return 1;
	}
	if (s * 1000 > now_us && s * 1000 - now_us <= UPCOMING_US) {
		*start_us = s * 1000;
		*end_us = e * 1000;
		return 0;
	}
	if (w->weekly_day >= 0 && next != INT64_MAX && next * 1000 - now_us <= UPCOMING_US) {
		*start_us = next * 1000;
		*end_us = next * 1000 + (int64_t)w->duration_ms * 1000;
		return 0;
	}
	return -1;
}

void page_put_maintenance_schedule(struct buf *b, const struct conf *conf, int64_t now)
{
	size_t shown = 0;

	for (size_t i = 0; conf != NULL && i < conf->n_maintenance; i++) {
		const struct maintenance_window *w = &conf->maintenance[i];
		int64_t s, e;
		int st = page_maintenance_next(w, now, &s, &e);

		if (st < 0)
			continue;
		if (shown++ == 0)
			buf_adds(b, "<section id=\"maint-schedule\" class=\"banner b-upcoming\"><h2>"
			            "<span class=\"ic\" aria-hidden=\"true\"></span>Scheduled maintenance"
			            "</h2><ul>");
		buf_printf(b, "<li class=\"mw %s\"><strong>%s</strong> ", st ? "mw-active" : "mw-upcoming",
		           st ? "In progress" : "Upcoming");
		put_selectors(b, w->selectors, w->n_selectors);
		buf_adds(b, ": ");
		page_put_hm(b, s, now);
		buf_adds(b, " – ");
		page_put_hm(b, e, now);
		buf_adds(b, "</li>");
	}
	if (shown > 0)
		buf_adds(b, "</ul></section>\n");
}

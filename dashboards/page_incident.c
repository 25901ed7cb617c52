/* page_incident.c — incidents on the pages (SPEC §3): the open ones on top
 * of the status page with their latest status update, and one check's
 * incidents on its page ("down since 07:24 · 6 min · connection refused")
 * instead of one row per failed run. Incidents are read from the store. */
#include <stdio.h>
#include <string.h>

#include "core/util.h"
#include "dashboards/page_parts.h"

#define OPEN_SHOWN      20
#define CHECK_SHOWN     20

void page_fmt_span(int64_t us, char *buf, size_t len)
{
	int64_t s = us > 0 ? (us + US_PER_S / 2) / US_PER_S : 0;

	if (s < 60)
		snprintf(buf, len, "%lld s", (long long)s);
	else if (s < 3600)
		snprintf(buf, len, "%lld min", (long long)((s + 30) / 60));
	else if (s < 86400)
		snprintf(buf, len, "%lld h %lld min", (long long)(s / 3600), (long long)(s % 3600 / 60));
	else
		snprintf(buf, len, "%lld d %lld h", (long long)(s / 86400), (long long)(s % 86400 / 3600));
}

void page_put_hm(struct buf *b, int64_t wall_us, int64_t now_us)
{
	char iso[40], human[40];
	bool today = wall_us / US_PER_DAY == now_us / US_PER_DAY;

	util_format_time(wall_us, iso, sizeof(iso));
	page_fmt_utc(wall_us, today ? "%H:%M UTC" : "%Y-%m-%d %H:%M UTC", human, sizeof(human));
	buf_printf(b, "<time datetime=\"%s\" data-hm>%s</time>", iso, human);
}

/* "investigating: the database is being restarted (10:02)". */
static void put_update(struct buf *b, const struct store_incident_update *u, int64_t now)
{
	buf_adds(b, "<div class=\"inc-upd\"><span class=\"us us-");
	page_escape(b, u->status);
	buf_adds(b, "\">");
	page_escape(b, u->status);
	buf_adds(b, "</span> ");
	page_escape(b, u->message);
	buf_adds(b, " <span class=\"muted\">");
	page_put_hm(b, u->ts_us, now);
	buf_adds(b, "</span></div>");
}

/* "down since 07:24 · 6 min · connection refused", or for a closed one
 * "down 07:24 – 07:30 · 6 min · connection refused" (message escaped). */
static void put_incident_line(struct buf *b, const struct store_incident *inc, int64_t now)
{
	char span[48], fails[48];
	int64_t end = inc->ended_us ? inc->ended_us : now;

	page_fmt_span(end - inc->started_us, span, sizeof(span));
	snprintf(fails, sizeof(fails), "%lld failed run%s", (long long)inc->failures,
	         inc->failures == 1 ? "" : "s");
	buf_adds(b, inc->ended_us ? "<span class=\"inc-when\">down " :
	                            "<span class=\"inc-when\">down since ");
	page_put_hm(b, inc->started_us, now);
	if (inc->ended_us) {
		buf_adds(b, " – ");
		page_put_hm(b, inc->ended_us, now);
	}
	buf_printf(b, "</span> · <span class=\"inc-dur\">%s</span> · <span class=\"eclass\">", span);
	page_escape(b, inc->cause_error);
	buf_adds(b, "</span> <span class=\"msg\">");
	page_escape(b, inc->cause_message);
	buf_printf(b, "</span> <span class=\"muted\">(%s)</span>", fails);
}

void page_put_open_incidents(struct buf *b, struct store_reader *r, int64_t now)
{
	struct store_incident_query q = { .open_only = true, .limit = OPEN_SHOWN };
	struct store_incident *v = NULL;
	size_t n = 0;

	if (r == NULL || store_incidents(r, &q, &v, &n) != 0)
		n = 0;
	buf_printf(b, "<section id=\"incidents\" class=\"banner b-incident\"%s><h2><span "
	           "class=\"ic\" aria-hidden=\"true\"></span>Open incidents <span class=\"n\">%zu"
	           "</span></h2><ul>", n ? "" : " hidden", n);
	for (size_t i = 0; i < n; i++) {
		buf_printf(b, "<li class=\"incident\" data-id=\"%lld\"><a href=\"/check/",
		           (long long)v[i].id);
		page_escape(b, v[i].check);
		buf_adds(b, "\">");
		page_escape(b, v[i].check);
		buf_adds(b, "</a> ");
		put_incident_line(b, &v[i], now);
		if (v[i].n_updates > 0)
			put_update(b, &v[i].updates[v[i].n_updates - 1], now);
		buf_adds(b, "</li>");
	}
	buf_adds(b, "</ul></section>\n");
	store_incidents_free(v, n);
}

void page_put_check_incidents(struct buf *b, struct store_reader *r, const char *check,
                              int64_t now)
{
	struct store_incident_query q = { .check = check, .limit = CHECK_SHOWN };
	struct store_incident *v = NULL;
	size_t n = 0;

	if (r == NULL || store_incidents(r, &q, &v, &n) != 0)
		n = 0;
	buf_adds(b, "<section class=\"card\" id=\"check-incidents\"><h2>Incidents</h2>");
	if (n == 0)
		buf_adds(b, "<p class=\"muted\">No incidents recorded.</p>");
	else
		buf_adds(b, "<ul class=\"incidents\">");
	for (size_t i = 0; i < n; i++) {
		buf_printf(b, "<li class=\"incident %s\" data-id=\"%lld\">",
		           v[i].ended_us ? "inc-closed" : "inc-open", (long long)v[i].id);
		buf_printf(b, "<span class=\"inc-state\">%s</span> ",
		           v[i].ended_us ? "resolved" : "ongoing");
		put_incident_line(b, &v[i], now);
		for (size_t k = v[i].n_updates; k-- > 0;)
			put_update(b, &v[i].updates[k], now);
		buf_adds(b, "</li>");
	}
	if (n > 0)
		buf_adds(b, "</ul>");
	buf_adds(b, "</section>\n");
	store_incidents_free(v, n);
}

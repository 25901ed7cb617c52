/* page.c — the pieces every status page is made of (page_parts.h): HTML
 * escaping with secret masking, number and time formatting, the document head
 * and foot, the state pill, the 90-day bar, the firing-alerts banner, the
 * HTML answers (not found, messages), and the embedded CSS/JS/icon files.
 * The pages themselves: page_index.c (GET /) and page_check.c (GET /check/NAME).
 *
 * Escaping: every string that is not ours goes through page_escape(); the
 * script builds its DOM with textContent only. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <microhttpd.h>

#include "core/log.h"
#include "core/util.h"
#include "dashboards/assets.h"
#include "dashboards/page.h"
#include "dashboards/page_parts.h"

const char page_html_type[] = "text/html; charset=utf-8";

/* --- escaping and formatting --------------------------------------------------- */

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when it is not one
 * (stray continuation byte, overlong form, surrogate, past U+10FFFF). */
static size_t utf8_len(const unsigned char *s)
{
	unsigned c = s[0];
	size_t n;
	unsigned cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;       /* also stops at the NUL */
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* See page.h. Runs of plain bytes are copied in one append. */
void page_escape(struct buf *b, const char *s)
{
	char *masked;
	const unsigned char *p, *run;

	if (s == NULL || s[0] == '\0')
		return;
	masked = log_mask_secrets(s);
	p = run = (const unsigned char *)masked;
	while (*p != '\0') {
		const char *rep = NULL;
		size_t n = 1;

		switch (*p) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&#39;"; break;
		case '\t':
		case '\n':
			break;
		default:
			if (*p < 0x20 || *p == 0x7f) {
				rep = "";
			} else if (*p >= 0x80) {
				n = utf8_len(p);
				if (n == 0) {
					rep = "?";
					n = 1;
				}
			}
			break;
		}
		if (rep != NULL) {
			buf_add(b, (const char *)run, (size_t)(p - run));
			buf_adds(b, rep);
			run = p + n;
		}
		p += n;
	}
	buf_add(b, (const char *)run, (size_t)(p - run));
	free(masked);
}

double page_round_pct(double pct)
{
	double v = round(pct * 100.0) / 100.0;

	return v >= 100.0 && pct < 100.0 ? 99.99 : v;
}

void page_format_pct(double pct, char *buf, size_t len)
{
	if (pct < 0 || isnan(pct))
		snprintf(buf, len, "n/a");
	else if (pct >= 100)
		snprintf(buf, len, "100.00%%");
	else
		snprintf(buf, len, "%.2f%%", page_round_pct(pct));
}

const char *page_uptime_class(double pct)
{
	if (pct < 0 || isnan(pct))
		return "u-n";
	if (pct >= 99.9)
		return "u-g";
	if (pct >= 99)
		return "u-y";
	if (pct >= 95)
		return "u-o";
	return "u-r";
}

double page_pct_of(int64_t ok, int64_t runs)
{
	return runs > 0 ? 100.0 * (double)ok / (double)runs : -1;
}

/* wall_us as UTC with strftime format fmt. */
void page_fmt_utc(int64_t wall_us, const char *fmt, char *buf, size_t len)
{
	time_t t = (time_t)(wall_us / US_PER_S);
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || strftime(buf, len, fmt, &tm) == 0)
		snprintf(buf, len, "?");
}

/* "<time datetime=ISO data-rel>YYYY-MM-DD HH:MM:SS UTC</time>" (the script
 * adds the relative form). */
void page_put_time(struct buf *b, int64_t wall_us)
{
	char iso[40], human[40];

	util_format_time(wall_us, iso, sizeof(iso));
	page_fmt_utc(wall_us, "%Y-%m-%d %H:%M:%S UTC", human, sizeof(human));
	buf_printf(b, "<time datetime=\"%s\" data-rel>%s</time>", iso, human);
}

/* "850 µs", "42 ms", "1.25 s". */
void page_fmt_ms(double ms, char *buf, size_t len)
{
	if (ms < 1)
		snprintf(buf, len, "%.0f µs", ms * 1000);
	else if (ms < 100)
		snprintf(buf, len, "%.1f ms", ms);
	else if (ms < 1000)
		snprintf(buf, len, "%.0f ms", ms);
	else
		snprintf(buf, len, "%.2f s", ms / 1000);
}

/* --- shared page pieces -------------------------------------------------------- */

static const char *const state_labels[] = {
	[CHECK_STATE_PENDING] = "Pending",
	[CHECK_STATE_UP] = "Up",
	[CHECK_STATE_DOWN] = "Down",
	[CHECK_STATE_MAINTENANCE] = "Maintenance",
	[CHECK_STATE_BLOCKED] = "Blocked",
	[CHECK_STATE_DEGRADED] = "Degraded",
};

const char *page_state_label(enum check_state st)
{
	return (unsigned)st < sizeof(state_labels) / sizeof(state_labels[0]) && state_labels[st] ?
	       state_labels[st] : "Unknown";
}

/* The state pill: colour from the class, and always the word. */
void page_put_state(struct buf *b, enum check_state st)
{
	buf_printf(b, "<span class=\"state st-%s\"><span class=\"ic\" aria-hidden=\"true\">"
	           "</span>%s</span>", check_state_name(st), page_state_label(st));
}

const char *page_title(const struct snapshot *snap)
{
	const char *t = snap && snap->conf ? snap->conf->agent.title : NULL;

	return t && t[0] ? t : "pharos status";
}

/* <link>/<script> to an embedded file, with its checksum for cache busting. */
static void put_asset_ref(struct buf *b, const char *name, const char *fmt)
{
	const struct asset *a = assets_find(name);

	if (a != NULL)
		buf_printf(b, fmt, a->name, a->etag);
}

/* Document head and the top bar. title and heading are escaped here. */
void page_put_head(struct buf *b, const char *doc_title, const char *site_title,
                   const char *body_attrs)
{
	buf_adds(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
	            "<meta name=\"color-scheme\" content=\"light dark\"><title>");
	page_escape(b, doc_title);
	buf_adds(b, "</title>");
	put_asset_ref(b, "style.css", "<link rel=\"stylesheet\" href=\"/assets/%s?v=%s\">");
	put_asset_ref(b, "favicon.svg", "<link rel=\"icon\" type=\"image/svg+xml\" href=\"/assets/%s?v=%s\">");
	put_asset_ref(b, "page.js", "<script src=\"/assets/%s?v=%s\" defer></script>");
	buf_adds(b, "<link rel=\"alternate\" type=\"application/atom+xml\" title=\"Incidents and "
	            "announcements\" href=\"/feed.atom\">");
	buf_printf(b, "</head><body %s><header class=\"top\"><div class=\"wrap\">"
	           "<a class=\"brand\" href=\"/\">", body_attrs);
	page_escape(b, site_title);
	buf_adds(b, "</a></div></header>\n<main class=\"wrap\">\n");
}

void page_put_foot(struct buf *b)
{
	buf_printf(b, "</main>\n<footer class=\"wrap foot\">pharos %s · "
	           "<a href=\"/api/v1/checks\">API</a> · <a href=\"/metrics\">metrics</a> · "
	           "<a class=\"feed-link\" href=\"/feed.atom\">Atom feed</a></footer>\n</body></html>\n", PHAROS_VERSION);
}

/* Hands b to rs as an HTML answer (500 when it hit the ceiling). */
void page_html_answer(struct api_response *rs, unsigned status, struct buf *b)
{
	if (b->over) {
		buf_free(b);
		api_error(rs, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "page too large");
		return;
	}
	free(rs->body);
	rs->body = buf_steal(b, &rs->body_len);
	rs->status = status;
	rs->content_type = page_html_type;
}

/* A small page with a heading and one paragraph (both escaped). */
void page_message(struct api_request *rq, struct api_response *rs, unsigned status,
                  const char *heading, const char *text)
{
	struct buf b = BUF_MAX(PAGE_MAX_BYTES);

	page_put_head(&b, heading, page_title(rq->snap), "data-page=\"message\"");
	buf_adds(&b, "<section class=\"card message\"><h1>");
	page_escape(&b, heading);
	buf_adds(&b, "</h1><p>");
	page_escape(&b, text);
	buf_adds(&b, "</p><p><a href=\"/\">← All checks</a></p></section>\n");
	page_put_foot(&b);
	page_html_answer(rs, status, &b);
}

void page_not_found(struct api_request *rq, struct api_response *rs)
{
	char text[160];

	if (rq->name[0] != '\0')
		snprintf(text, sizeof(text), "There is no check named \"%s\".", rq->name);
	else
		snprintf(text, sizeof(text), "There is no such page.");
	page_message(rq, rs, MHD_HTTP_NOT_FOUND, "Not found", text);
}

/* --- the 90-day bar ------------------------------------------------------------ */

/* One bar of PAGE_DAYS cells, oldest first, day_runs[PAGE_DAYS - 1] = today.
 * With merge, neighbouring days of the same figure share one element (its
 * flex-grow is the number of days; the day lines are drawn by CSS over the
 * whole bar) so a page of thousands of checks stays small. */
void page_put_bar(struct buf *b, const int32_t *runs, const int32_t *ok, int64_t today,
                  bool merge)
{
	char pct_s[16], first[16], last[16];
	int i = 0;

	buf_adds(b, "<div class=\"bar\" role=\"img\" aria-label=\"uptime per day, "
	            "last 90 days\">");
	while (i < PAGE_DAYS) {
		double pct = page_pct_of(ok ? ok[i] : 0, runs ? runs[i] : 0);
		const char *cls = page_uptime_class(pct);
		int j = i + 1;

		page_format_pct(pct, pct_s, sizeof(pct_s));
		while (merge && j < PAGE_DAYS) {
			char next[16];

			page_format_pct(page_pct_of(ok ? ok[j] : 0, runs ? runs[j] : 0), next, sizeof(next));
			if (strcmp(next, pct_s) != 0)
				break;
			j++;
		}
		page_fmt_utc((today - (PAGE_DAYS - 1) + i) * US_PER_DAY, "%Y-%m-%d", first, sizeof(first));
		buf_printf(b, "<i class=\"%s\"", cls);
		if (j - i > 1) {
			page_fmt_utc((today - (PAGE_DAYS - 1) + j - 1) * US_PER_DAY, "%Y-%m-%d", last,
			             sizeof(last));
			buf_printf(b, " style=\"flex-grow:%d\" title=\"%s – %s: %s\"></i>", j - i,
			           first, last, pct < 0 ? "no data" : pct_s);
		} else if (pct < 0) {
			buf_printf(b, " title=\"%s: no data\"></i>", first);
		} else {
			buf_printf(b, " title=\"%s: %s (%d runs)\"></i>", first, pct_s,
			           (int)runs[i]);
		}
		i = j;
	}
	buf_adds(b, "</div>");
}

/* Banner of firing alerts (from the snapshot); always present so the script
 * can fill it, hidden when empty. At most max are listed. */
void page_put_alert_banner(struct buf *b, const struct snapshot *snap, const char *only,
                           size_t max)
{
	size_t n = 0, shown = 0;

	for (size_t i = 0; i < snap->n_alerts; i++)
		if (snap->alerts[i].state == ALERT_FIRING &&
		    (only == NULL || (snap->alerts[i].check && strcmp(snap->alerts[i].check, only) == 0)))
			n++;
	buf_printf(b, "<section id=\"alerts\" class=\"banner b-alert\"%s role=\"alert\">"
	           "<h2><span class=\"ic\" aria-hidden=\"true\"></span>Firing alerts "
	           "<span class=\"n\">%zu</span></h2><ul>", n ? "" : " hidden", n);
	for (size_t i = 0; i < snap->n_alerts; i++) {
		const struct snapshot_alert *a = &snap->alerts[i];

		if (a->state != ALERT_FIRING ||
		    (only != NULL && (a->check == NULL || strcmp(a->check, only) != 0)))
			continue;
		if (shown++ == max)
			break;
		buf_adds(b, "<li><strong>");
		page_escape(b, a->rule);
		buf_adds(b, "</strong>");
		if (a->check != NULL && a->check[0]) {
			buf_adds(b, " on <a href=\"/check/");
			page_escape(b, a->check);
			buf_adds(b, "\">");
			page_escape(b, a->check);
			buf_adds(b, "</a>");
		}
		if (a->severity != NULL && a->severity[0]) {
			buf_adds(b, " <span class=\"sev\">");
			page_escape(b, a->severity);
			buf_adds(b, "</span>");
		}
		if (a->value != NULL && a->value[0]) {
			buf_adds(b, " <span class=\"val\">value ");
			page_escape(b, a->value);
			buf_adds(b, "</span>");
		}
		if (a->since_us > 0) {
			buf_adds(b, " <span class=\"since\">since ");
			page_put_time(b, a->since_us);
			buf_adds(b, "</span>");
		}
		buf_adds(b, "</li>");
	}
	if (n > max)
		buf_printf(b, "<li>and %zu more</li>", n - max);
	buf_adds(b, "</ul></section>\n");
}

/* --- GET /assets/NAME ---------------------------------------------------------- */

/* The embedded file; links carry ?v=<checksum>, so it may be cached long. */
void page_asset(struct api_request *rq, struct api_response *rs)
{
	const struct asset *a = assets_find(rq->name);

	if (a == NULL) {
		page_message(rq, rs, MHD_HTTP_NOT_FOUND, "Not found", "There is no such file.");
		return;
	}
	free(rs->body);
	rs->body = xmalloc(a->len + 1);
	memcpy(rs->body, a->data, a->len + 1);
	rs->body_len = a->len;
	rs->status = MHD_HTTP_OK;
	rs->content_type = a->content_type;
	rs->cache_control = "public, max-age=86400";
}

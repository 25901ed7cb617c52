/* page.c — the HTML status pages (GET /, GET /check/NAME) rendered on the
 * server into one growing buffer, and the embedded CSS/JS they link to.
 *
 * States come from the published snapshot. History comes from SQLite through
 * a fixed number of grouped reads (store_uptime_by_check/_by_day), never a
 * query per check: the index page of 10,000 checks costs three statements,
 * and even those are cached for PAGE_HIST_TTL (the 90-day bar and uptime
 * figures move slowly; the script refreshes states every 15 s anyway).
 *
 * Escaping: every string that is not ours goes through page_escape(); the
 * script builds its DOM with textContent only. */
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <microhttpd.h>

#include "dashboards/assets.h"
#include "core/log.h"
#include "dashboards/page.h"
#include "web/rcache.h"
#include "core/util.h"

#define US_PER_S           1000000LL
#define US_PER_HOUR        (3600LL * US_PER_S)
#define US_PER_DAY         (24 * US_PER_HOUR)
#define PAGE_HIST_TTL_US   (30 * US_PER_S)     /* index page history cache */
#define PAGE_HIST_TTL_MAX  (600 * US_PER_S)
#define BAR_MERGE_ABOVE    300      /* more checks: equal neighbouring days share a cell */
#define CHART_POINTS       100
#define CHART_SAMPLES_MAX  (2u << 20)   /* results read for one chart */
#define FAILURES_SHOWN     20
#define ALERTS_SHOWN       20

static const char html_type[] = "text/html; charset=utf-8";

/* --- the buffer ---------------------------------------------------------------- */

/* Appends n bytes of s; past PAGE_MAX_BYTES nothing more is kept. */
void page_buf_add(struct page_buf *b, const char *s, size_t n)
{
	size_t cap;

	if (b->full)
		return;
	if (n > PAGE_MAX_BYTES - b->len) {
		b->full = true;
		return;
	}
	if (b->len + n + 1 > b->cap) {
		cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n + 1)
			cap *= 2;
		b->data = xrealloc(b->data, cap);
		b->cap = cap;
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void page_buf_puts(struct page_buf *b, const char *s)
{
	page_buf_add(b, s, strlen(s));
}

/* printf into the buffer (formats into a stack buffer first, the heap for
 * the rare long line). */
void page_buf_printf(struct page_buf *b, const char *fmt, ...)
{
	char small[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof(small)) {
		page_buf_add(b, small, (size_t)n);
	} else {
		char *big = xmalloc((size_t)n + 1);

		va_start(ap, fmt);
		vsnprintf(big, (size_t)n + 1, fmt, ap);
		va_end(ap);
		page_buf_add(b, big, (size_t)n);
		free(big);
	}
}

void page_buf_free(struct page_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

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
void page_escape(struct page_buf *b, const char *s)
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
			page_buf_add(b, (const char *)run, (size_t)(p - run));
			page_buf_puts(b, rep);
			run = p + n;
		}
		p += n;
	}
	page_buf_add(b, (const char *)run, (size_t)(p - run));
	free(masked);
}

void page_format_pct(double pct, char *buf, size_t len)
{
	if (pct < 0 || isnan(pct))
		snprintf(buf, len, "n/a");
	else if (pct >= 100)
		snprintf(buf, len, "100%%");
	else
		snprintf(buf, len, "%.2f%%", floor(pct * 100.0) / 100.0);
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

static double pct_of(int64_t ok, int64_t runs)
{
	return runs > 0 ? 100.0 * (double)ok / (double)runs : -1;
}

/* wall_us as UTC with strftime format fmt. */
static void fmt_utc(int64_t wall_us, const char *fmt, char *buf, size_t len)
{
	time_t t = (time_t)(wall_us / US_PER_S);
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || strftime(buf, len, fmt, &tm) == 0)
		snprintf(buf, len, "?");
}

/* "<time datetime=ISO data-rel>YYYY-MM-DD HH:MM:SS UTC</time>" (the script
 * adds the relative form). */
static void put_time(struct page_buf *b, int64_t wall_us)
{
	char iso[40], human[40];

	util_format_time(wall_us, iso, sizeof(iso));
	fmt_utc(wall_us, "%Y-%m-%d %H:%M:%S UTC", human, sizeof(human));
	page_buf_printf(b, "<time datetime=\"%s\" data-rel>%s</time>", iso, human);
}

/* "850 µs", "42 ms", "1.25 s". */
static void fmt_ms(double ms, char *buf, size_t len)
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
};

static const char *state_label(enum check_state st)
{
	return (unsigned)st < sizeof(state_labels) / sizeof(state_labels[0]) && state_labels[st] ?
	       state_labels[st] : "Unknown";
}

/* The state pill: colour from the class, and always the word. */
static void put_state(struct page_buf *b, enum check_state st)
{
	page_buf_printf(b, "<span class=\"state st-%s\"><span class=\"ic\" aria-hidden=\"true\">"
	                "</span>%s</span>", check_state_name(st), state_label(st));
}

static const char *page_title(const struct snapshot *snap)
{
	const char *t = snap && snap->conf ? snap->conf->agent.title : NULL;

	return t && t[0] ? t : "pharos status";
}

/* <link>/<script> to an embedded file, with its checksum for cache busting. */
static void put_asset_ref(struct page_buf *b, const char *name, const char *fmt)
{
	const struct asset *a = assets_find(name);

	if (a != NULL)
		page_buf_printf(b, fmt, a->name, a->etag);
}

/* Document head and the top bar. title and heading are escaped here. */
static void put_head(struct page_buf *b, const char *doc_title, const char *site_title,
                     const char *body_attrs)
{
	page_buf_puts(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	                 "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
	                 "<meta name=\"color-scheme\" content=\"light dark\"><title>");
	page_escape(b, doc_title);
	page_buf_puts(b, "</title>");
	put_asset_ref(b, "style.css", "<link rel=\"stylesheet\" href=\"/assets/%s?v=%s\">");
	put_asset_ref(b, "favicon.svg", "<link rel=\"icon\" type=\"image/svg+xml\" href=\"/assets/%s?v=%s\">");
	put_asset_ref(b, "page.js", "<script src=\"/assets/%s?v=%s\" defer></script>");
	page_buf_printf(b, "</head><body %s><header class=\"top\"><div class=\"wrap\">"
	                "<a class=\"brand\" href=\"/\">", body_attrs);
	page_escape(b, site_title);
	page_buf_puts(b, "</a></div></header>\n<main class=\"wrap\">\n");
}

static void put_foot(struct page_buf *b)
{
	page_buf_printf(b, "</main>\n<footer class=\"wrap foot\">pharos %s · "
	                "<a href=\"/api/v1/checks\">API</a> · <a href=\"/metrics\">metrics</a>"
	                "</footer>\n</body></html>\n", PHAROS_VERSION);
}

/* Hands b to rs as an HTML answer (500 when it hit the ceiling). */
static void html_answer(struct api_response *rs, unsigned status, struct page_buf *b)
{
	if (b->full) {
		page_buf_free(b);
		api_error(rs, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "page too large");
		return;
	}
	free(rs->body);
	rs->body = b->data ? b->data : xstrdup("");
	rs->body_len = b->len;
	rs->status = status;
	rs->content_type = html_type;
	memset(b, 0, sizeof(*b));
}

/* A small page with a heading and one paragraph (both escaped). */
static void message_page(struct api_request *rq, struct api_response *rs, unsigned status,
                         const char *heading, const char *text)
{
	struct page_buf b = { 0 };

	put_head(&b, heading, page_title(rq->snap), "data-page=\"message\"");
	page_buf_puts(&b, "<section class=\"card message\"><h1>");
	page_escape(&b, heading);
	page_buf_puts(&b, "</h1><p>");
	page_escape(&b, text);
	page_buf_puts(&b, "</p><p><a href=\"/\">← All checks</a></p></section>\n");
	put_foot(&b);
	html_answer(rs, status, &b);
}

void page_not_found(struct api_request *rq, struct api_response *rs)
{
	char text[160];

	if (rq->name[0] != '\0')
		snprintf(text, sizeof(text), "There is no check named \"%s\".", rq->name);
	else
		snprintf(text, sizeof(text), "There is no such page.");
	message_page(rq, rs, MHD_HTTP_NOT_FOUND, "Not found", text);
}

/* --- the history cache of the index page --------------------------------------- */

struct hist_row {
	char *name;
	int64_t runs24, ok24, runs90, ok90;
	int32_t day_runs[PAGE_DAYS], day_ok[PAGE_DAYS];     /* [PAGE_DAYS - 1] is today */
};

struct hist {
	int refs;                   /* under hist_lock */
	int64_t built_us;
	int64_t ttl_us;
	int64_t today;              /* UTC day number of built_us */
	struct hist_row *rows;      /* sorted by name */
	size_t n, cap;
};

static pthread_mutex_t hist_lock = PTHREAD_MUTEX_INITIALIZER;     /* hist_cur, refs */
static pthread_mutex_t hist_build_lock = PTHREAD_MUTEX_INITIALIZER; /* one builder */
static struct hist *hist_cur;

static void hist_release(struct hist *h)
{
	bool last;

	if (h == NULL)
		return;
	pthread_mutex_lock(&hist_lock);
	last = --h->refs == 0;
	pthread_mutex_unlock(&hist_lock);
	if (!last)
		return;
	for (size_t i = 0; i < h->n; i++)
		free(h->rows[i].name);
	free(h->rows);
	free(h);
}

static void render_cache_clear(void);

void page_cache_clear(void)
{
	struct hist *old;

	render_cache_clear();

	pthread_mutex_lock(&hist_lock);
	old = hist_cur;
	hist_cur = NULL;
	pthread_mutex_unlock(&hist_lock);
	hist_release(old);
}

static int row_cmp(const void *a, const void *b)
{
	return strcmp(((const struct hist_row *)a)->name, ((const struct hist_row *)b)->name);
}

static struct hist_row *hist_find(const struct hist *h, const char *name)
{
	struct hist_row key = { .name = (char *)name };

	if (h == NULL || h->n == 0)
		return NULL;
	return bsearch(&key, h->rows, h->n, sizeof(*h->rows), row_cmp);
}

/* store_count_fn of the 90-day read: one new row per check. */
static void hist_add90(void *arg, const char *check, int64_t day, int64_t runs, int64_t ok)
{
	struct hist *h = arg;
	struct hist_row *row;

	if (h->n == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 256;
		h->rows = xrealloc(h->rows, h->cap * sizeof(*h->rows));
	}
	row = &h->rows[h->n++];
	memset(row, 0, sizeof(*row));
	row->name = xstrdup(check);
	row->runs90 = runs;
	row->ok90 = ok;
}

static void hist_add24(void *arg, const char *check, int64_t day, int64_t runs, int64_t ok)
{
	struct hist_row *row = hist_find(arg, check);

	if (row != NULL) {
		row->runs24 = runs;
		row->ok24 = ok;
	}
}

static void hist_add_day(void *arg, const char *check, int64_t day, int64_t runs, int64_t ok)
{
	struct hist *h = arg;
	struct hist_row *row = hist_find(h, check);
	int64_t i = day - (h->today - (PAGE_DAYS - 1));

	if (row != NULL && i >= 0 && i < PAGE_DAYS) {
		row->day_runs[i] = (int32_t)(runs > INT32_MAX ? INT32_MAX : runs);
		row->day_ok[i] = (int32_t)(ok > INT32_MAX ? INT32_MAX : ok);
	}
}

/* Reads the history of every check: three grouped statements. NULL on a
 * database error. */
static struct hist *hist_build(struct store_reader *r, int64_t now_us)
{
	struct hist *h = xcalloc(1, sizeof(*h));
	uint64_t t0 = util_mono_us();
	int64_t took;

	h->refs = 1;
	h->built_us = now_us;
	h->today = now_us / US_PER_DAY;
	if (store_uptime_by_check(r, now_us - PAGE_DAYS * US_PER_DAY, hist_add90, h) != 0)
		goto fail;
	qsort(h->rows, h->n, sizeof(*h->rows), row_cmp);
	if (store_uptime_by_check(r, now_us - US_PER_DAY, hist_add24, h) != 0 ||
	    store_uptime_by_day(r, NULL, (h->today - (PAGE_DAYS - 1)) * US_PER_DAY, hist_add_day,
	                        h) != 0)
		goto fail;
	/* A slow database is read less often: at most 5% of the time. */
	took = (int64_t)(util_mono_us() - t0);
	h->ttl_us = took * 20 > PAGE_HIST_TTL_US ? took * 20 : PAGE_HIST_TTL_US;
	if (h->ttl_us > PAGE_HIST_TTL_MAX)
		h->ttl_us = PAGE_HIST_TTL_MAX;
	return h;
fail:
	hist_release(h);
	return NULL;
}

static bool hist_fresh(const struct hist *h, int64_t now_us)
{
	return h != NULL && now_us - h->built_us < h->ttl_us && now_us >= h->built_us &&
	       now_us / US_PER_DAY == h->today;
}

/* The cached history (a reference; hist_release it), rebuilt when stale. One
 * thread rebuilds while the others keep using the stale copy. NULL when there
 * is no reader or the database cannot be read. */
static struct hist *hist_acquire(struct store_reader *r, int64_t now_us)
{
	struct hist *h, *fresh;

	pthread_mutex_lock(&hist_lock);
	h = hist_cur;
	if (h != NULL)
		h->refs++;
	pthread_mutex_unlock(&hist_lock);
	if (hist_fresh(h, now_us) || r == NULL)
		return h;
	if (h != NULL) {
		if (pthread_mutex_trylock(&hist_build_lock) != 0)
			return h;       /* someone is rebuilding: the stale copy will do */
	} else {
		pthread_mutex_lock(&hist_build_lock);
	}
	/* Someone may have rebuilt while this thread waited for the lock. */
	pthread_mutex_lock(&hist_lock);
	fresh = hist_cur;
	if (hist_fresh(fresh, now_us) && fresh != h)
		fresh->refs++;
	else
		fresh = NULL;
	pthread_mutex_unlock(&hist_lock);
	if (fresh == NULL) {
		fresh = hist_build(r, now_us);
		if (fresh != NULL) {
			struct hist *old;

			pthread_mutex_lock(&hist_lock);
			old = hist_cur;
			hist_cur = fresh;
			fresh->refs++;          /* one for hist_cur, one for the caller */
			pthread_mutex_unlock(&hist_lock);
			hist_release(old);
		}
	}
	pthread_mutex_unlock(&hist_build_lock);
	if (fresh == NULL)
		return h;               /* a failed rebuild keeps the stale copy */
	hist_release(h);
	return fresh;
}

/* --- the 90-day bar ------------------------------------------------------------ */

/* One bar of PAGE_DAYS cells, oldest first, day_runs[PAGE_DAYS - 1] = today.
 * With merge, neighbouring days of the same figure share one element (its
 * flex-grow is the number of days; the day lines are drawn by CSS over the
 * whole bar) so a page of thousands of checks stays small. */
static void put_bar(struct page_buf *b, const int32_t *runs, const int32_t *ok, int64_t today,
                    bool merge)
{
	char pct_s[16], first[16], last[16];
	int i = 0;

	page_buf_puts(b, "<div class=\"bar\" role=\"img\" aria-label=\"uptime per day, "
	                 "last 90 days\">");
	while (i < PAGE_DAYS) {
		double pct = pct_of(ok ? ok[i] : 0, runs ? runs[i] : 0);
		const char *cls = page_uptime_class(pct);
		int j = i + 1;

		page_format_pct(pct, pct_s, sizeof(pct_s));
		while (merge && j < PAGE_DAYS) {
			char next[16];

			page_format_pct(pct_of(ok ? ok[j] : 0, runs ? runs[j] : 0), next, sizeof(next));
			if (strcmp(next, pct_s) != 0)
				break;
			j++;
		}
		fmt_utc((today - (PAGE_DAYS - 1) + i) * US_PER_DAY, "%Y-%m-%d", first, sizeof(first));
		page_buf_printf(b, "<i class=\"%s\"", cls);
		if (j - i > 1) {
			fmt_utc((today - (PAGE_DAYS - 1) + j - 1) * US_PER_DAY, "%Y-%m-%d", last,
			        sizeof(last));
			page_buf_printf(b, " style=\"flex-grow:%d\" title=\"%s – %s: %s\"></i>", j - i,
			                first, last, pct < 0 ? "no data" : pct_s);
		} else if (pct < 0) {
			page_buf_printf(b, " title=\"%s: no data\"></i>", first);
		} else {
			page_buf_printf(b, " title=\"%s: %s (%d runs)\"></i>", first, pct_s,
			                (int)runs[i]);
		}
		i = j;
	}
	page_buf_puts(b, "</div>");
}

/* --- GET / --------------------------------------------------------------------- */

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

/* Banner of firing alerts (from the snapshot); always present so the script
 * can fill it, hidden when empty. */
static void put_alert_banner(struct page_buf *b, const struct snapshot *snap, const char *only)
{
	size_t n = 0;

	for (size_t i = 0; i < snap->n_alerts; i++)
		if (snap->alerts[i].state == ALERT_FIRING &&
		    (only == NULL || (snap->alerts[i].check && strcmp(snap->alerts[i].check, only) == 0)))
			n++;
	page_buf_printf(b, "<section id=\"alerts\" class=\"banner b-alert\"%s role=\"alert\">"
	                "<h2><span class=\"ic\" aria-hidden=\"true\"></span>Firing alerts "
	                "<span class=\"n\">%zu</span></h2><ul>", n ? "" : " hidden", n);
	for (size_t i = 0; i < snap->n_alerts; i++) {
		const struct snapshot_alert *a = &snap->alerts[i];

		if (a->state != ALERT_FIRING ||
		    (only != NULL && (a->check == NULL || strcmp(a->check, only) != 0)))
			continue;
		page_buf_puts(b, "<li><strong>");
		page_escape(b, a->rule);
		page_buf_puts(b, "</strong>");
		if (a->check != NULL && a->check[0]) {
			page_buf_puts(b, " on <a href=\"/check/");
			page_escape(b, a->check);
			page_buf_puts(b, "\">");
			page_escape(b, a->check);
			page_buf_puts(b, "</a>");
		}
		if (a->severity != NULL && a->severity[0]) {
			page_buf_puts(b, " <span class=\"sev\">");
			page_escape(b, a->severity);
			page_buf_puts(b, "</span>");
		}
		if (a->value != NULL && a->value[0]) {
			page_buf_puts(b, " <span class=\"val\">value ");
			page_escape(b, a->value);
			page_buf_puts(b, "</span>");
		}
		if (a->since_us > 0) {
			page_buf_puts(b, " <span class=\"since\">since ");
			put_time(b, a->since_us);
			page_buf_puts(b, "</span>");
		}
		page_buf_puts(b, "</li>");
	}
	page_buf_puts(b, "</ul></section>\n");
}

/* Banner listing the checks in maintenance (hidden when none). */
static void put_maint_banner(struct page_buf *b, const struct snapshot *snap, size_t n_maint)
{
	size_t shown = 0;

	page_buf_printf(b, "<section id=\"maint\" class=\"banner b-maint\"%s><h2>"
	                "<span class=\"ic\" aria-hidden=\"true\"></span>In maintenance "
	                "<span class=\"n\">%zu</span></h2><ul>", n_maint ? "" : " hidden", n_maint);
	for (size_t i = 0; i < snap->n_checks && shown < 50; i++) {
		const struct snapshot_check *sc = &snap->checks[i];

		if (sc->state != CHECK_STATE_MAINTENANCE)
			continue;
		page_buf_puts(b, "<li><a href=\"/check/");
		page_escape(b, sc->check->name);
		page_buf_puts(b, "\">");
		page_escape(b, sc->check->name);
		page_buf_puts(b, "</a></li>");
		shown++;
	}
	if (shown < n_maint)
		page_buf_printf(b, "<li>and %zu more</li>", n_maint - shown);
	page_buf_puts(b, "</ul></section>\n");
}

/* One check's row: name, state, bar, uptime 24h / 90d. */
static void put_check_row(struct page_buf *b, const struct snapshot_check *sc,
                          const struct hist *h, bool merge)
{
	const struct hist_row *row = hist_find(h, sc->check->name);
	double up24 = row ? pct_of(row->ok24, row->runs24) : -1;
	double up90 = row ? pct_of(row->ok90, row->runs90) : -1;
	char p24[16], p90[16];

	page_format_pct(up24, p24, sizeof(p24));
	page_format_pct(up90, p90, sizeof(p90));
	page_buf_puts(b, "<li class=\"check\" data-name=\"");
	page_escape(b, sc->check->name);
	page_buf_printf(b, "\" data-state=\"%s\"><div class=\"c-name\"><a href=\"/check/",
	                check_state_name(sc->state));
	page_escape(b, sc->check->name);
	page_buf_puts(b, "\">");
	page_escape(b, sc->check->name);
	page_buf_printf(b, "</a><span class=\"c-type\">%s</span></div>",
	                check_type_name(sc->check->type));
	if (!merge) {
		put_state(b, sc->state);
	} else {
		/* Big fleets: the row without what repeats in every row and says
		 * nothing new (aria-hidden on an empty icon, tooltips that repeat
		 * "24h" / "90d" and the group's "uptime" heading): ~80 bytes of
		 * ~700 per check. */
		page_buf_printf(b, "<span class=\"state st-%s\"><span class=\"ic\"></span>%s</span>",
		                check_state_name(sc->state), state_label(sc->state));
	}
	put_bar(b, row ? row->day_runs : NULL, row ? row->day_ok : NULL,
	        h ? h->today : util_wall_us() / US_PER_DAY, merge);
	if (!merge)
		page_buf_printf(b, "<div class=\"c-up\"><span class=\"up24 %s\" title=\"uptime, last "
		                "24 hours\"><b>%s</b> 24h</span><span class=\"up90 %s\" title=\"uptime, "
		                "last 90 days\"><b>%s</b> 90d</span></div></li>\n",
		                page_uptime_class(up24), p24, page_uptime_class(up90), p90);
	else
		page_buf_printf(b, "<div class=\"c-up\"><span class=\"up24 %s\"><b>%s</b> 24h</span>"
		                "<span class=\"up90 %s\"><b>%s</b> 90d</span></div></li>\n",
		                page_uptime_class(up24), p24, page_uptime_class(up90), p90);
}

/* Renders the status page of rq->snap (not NULL) into b. */
static void render_index(struct api_request *rq, struct page_buf *b_out, int64_t now)
{
	const struct snapshot *snap = rq->snap;
	struct page_buf b = { 0 };
	size_t counts[5] = { 0 }, failing, *order;
	struct hist *h;
	bool merge;
	const char *cur = NULL;
	bool open = false;

	h = hist_acquire(rq->reader, now);
	for (size_t i = 0; i < snap->n_checks; i++)
		if ((unsigned)snap->checks[i].state < 5)
			counts[snap->checks[i].state]++;
	failing = counts[CHECK_STATE_DOWN] + counts[CHECK_STATE_BLOCKED];
	merge = snap->n_checks > BAR_MERGE_ABOVE;

	put_head(&b, page_title(snap), page_title(snap), "data-page=\"index\"");
	page_buf_printf(&b, "<section id=\"summary\" class=\"summary %s\"><span class=\"ic\" "
	                "aria-hidden=\"true\"></span><div><h1 id=\"summary-text\">",
	                failing ? "s-down" : counts[CHECK_STATE_UP] ? "s-up" : "s-pending");
	if (failing)
		page_buf_printf(&b, "%zu check%s down", failing, failing == 1 ? "" : "s");
	else if (snap->n_checks == 0)
		page_buf_puts(&b, "No checks configured");
	else if (counts[CHECK_STATE_UP] == 0 && counts[CHECK_STATE_PENDING] > 0)
		page_buf_puts(&b, "Waiting for the first results");
	else
		page_buf_puts(&b, "All systems operational");
	page_buf_printf(&b, "</h1><p class=\"counts\" id=\"counts\">%zu checks · %zu up · %zu down"
	                "%s</p></div><p class=\"updated\">Last updated ", snap->n_checks,
	                counts[CHECK_STATE_UP], failing,
	                counts[CHECK_STATE_PENDING] ? " · some pending" : "");
	page_buf_puts(&b, "<span id=\"updated\">");
	put_time(&b, now);
	page_buf_puts(&b, "</span></p></section>\n");
	put_alert_banner(&b, snap, NULL);
	put_maint_banner(&b, snap, counts[CHECK_STATE_MAINTENANCE]);

	order = check_order(snap);
	for (size_t k = 0; k < snap->n_checks; k++) {
		const struct snapshot_check *sc = &snap->checks[order[k]];
		const char *g = group_of(sc);

		if (!open || !same_group(cur, g)) {
			size_t n = 0, down = 0;

			for (size_t m = k; m < snap->n_checks; m++) {
				const struct snapshot_check *o = &snap->checks[order[m]];

				if (!same_group(group_of(o), g))
					break;
				n++;
				down += o->state == CHECK_STATE_DOWN || o->state == CHECK_STATE_BLOCKED;
			}
			if (open)
				page_buf_puts(&b, "</ul></section>\n");
			page_buf_puts(&b, "<section class=\"group\"><div class=\"g-head\"><h2>");
			page_escape(&b, g ? g : (k == 0 ? "Checks" : "Other checks"));
			page_buf_printf(&b, "</h2><span class=\"g-count\">%zu check%s%s", n,
			                n == 1 ? "" : "s", down ? " · " : "");
			if (down)
				page_buf_printf(&b, "<span class=\"g-down\">%zu down</span>", down);
			page_buf_puts(&b, "</span><span class=\"g-days\"><span>90 days ago</span>"
			                  "<span>today</span></span><span class=\"g-up\">uptime</span>"
			                  "</div><ul class=\"checks\">\n");
			cur = g;
			open = true;
		}
		put_check_row(&b, sc, h, merge);
	}
	if (open)
		page_buf_puts(&b, "</ul></section>\n");
	if (snap->n_checks == 0)
		page_buf_puts(&b, "<section class=\"card message\"><p>No checks are configured."
		                  "</p></section>\n");
	free(order);
	hist_release(h);
	put_foot(&b);
	*b_out = b;
}

/* The last rendered index page (rcache.h): a page of 10,000 checks takes
 * tens of milliseconds to render, so under load one thread renders (and
 * gzips) while the others share the previous bytes, at most a second or two
 * old. A reload (new conf) renders at once. */
static struct rcache index_cache = RCACHE_INIT;

static void check_slots_clear(void);

static void render_cache_clear(void)
{
	rcache_clear(&index_cache);
	check_slots_clear();
}

/* GET /: the status page. */
void page_index(struct api_request *rq, struct api_response *rs)
{
	struct page_buf b = { 0 };
	struct rcache_key key;
	struct rcache_hit hit;
	uint64_t t0;

	if (rq->snap == NULL) {
		message_page(rq, rs, MHD_HTTP_SERVICE_UNAVAILABLE, "Starting",
		             "The agent has not loaded its configuration yet.");
		return;
	}
	key.conf = rq->snap->conf;
	key.snap = rq->snap;
	key.snap_us = rq->snap->published_us;
	if (!rcache_get(&index_cache, &key, false, &hit)) {
		t0 = util_mono_us();
		render_index(rq, &b, util_wall_us());
		if (b.full) {
			rcache_abandon(&index_cache, &hit);
			html_answer(rs, MHD_HTTP_OK, &b);      /* answers 500 */
			return;
		}
		rcache_put(&index_cache, &key, b.data ? b.data : xstrdup(""), b.len, t0, &hit);
	}
	rcache_answer(rq, rs, &hit, MHD_HTTP_OK, html_type, false);
}

/* --- latency chart ------------------------------------------------------------- */

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
#define CH_L   56.0     /* room for the y labels */
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

/* One polyline of the chart as a path, broken where a bucket has no data;
 * an isolated point is a zero-length segment (drawn as a dot by round caps). */
static void put_line(struct page_buf *b, const struct page_point *pt, size_t n, bool p95,
                     double ymax, const char *cls)
{
	double xw = (CH_W - CH_L - CH_R) / (double)n, yh = CH_H - CH_T - CH_B;
	bool pen = false;

	page_buf_printf(b, "<path class=\"%s\" d=\"", cls);
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
			page_buf_printf(b, "M%.1f %.1fl0 0", x, y);
		else
			page_buf_printf(b, "%c%.1f %.1f", pen ? 'L' : 'M', x, y);
		pen = true;
	}
	page_buf_puts(b, "\"/>");
}

void page_latency_svg(struct page_buf *b, const struct page_point *pt, size_t n,
                      int64_t since_us, int64_t until_us)
{
	double ymax = 0, xw, yh = CH_H - CH_T - CH_B;
	int64_t span = until_us - since_us;
	const char *tfmt = span <= 2 * US_PER_DAY ? "%H:%M" : "%b %d";
	size_t with_data = 0;
	char lbl[32], t1[32], t2[32], a[24], c[24];

	for (size_t i = 0; i < n; i++) {
		if (pt[i].n > 0) {
			with_data++;
			if (pt[i].p95_ms > ymax)
				ymax = pt[i].p95_ms;
		}
	}
	ymax = nice_ceil(ymax > 0 ? ymax * 1.05 : 1);
	xw = n ? (CH_W - CH_L - CH_R) / (double)n : 0;
	page_buf_printf(b, "<svg class=\"chart\" id=\"latency-chart\" viewBox=\"0 0 %.0f %.0f\" "
	                "role=\"img\" aria-label=\"latency p50 and p95"
	                "\" xmlns=\"http://www.w3.org/2000/svg\">", CH_W, CH_H);
	for (int i = 0; i <= 4; i++) {
		double y = CH_T + yh - yh * i / 4.0;

		fmt_ms(ymax * i / 4.0, lbl, sizeof(lbl));
		page_buf_printf(b, "<line class=\"ch-grid\" x1=\"%.0f\" x2=\"%.0f\" y1=\"%.1f\" "
		                "y2=\"%.1f\"/><text class=\"ch-label\" x=\"%.0f\" y=\"%.1f\" "
		                "text-anchor=\"end\">%s</text>", CH_L, CH_W - CH_R, y, y, CH_L - 6,
		                y + 4, i == 0 ? "0" : lbl);
	}
	for (int i = 0; i <= 4; i++) {
		double x = CH_L + (CH_W - CH_L - CH_R) * i / 4.0;

		fmt_utc(since_us + span * i / 4, tfmt, lbl, sizeof(lbl));
		page_buf_printf(b, "<text class=\"ch-label\" x=\"%.1f\" y=\"%.0f\" text-anchor=\"%s\">"
		                "%s</text>", x, CH_H - 8, i == 0 ? "start" : i == 4 ? "end" : "middle",
		                lbl);
	}
	for (size_t i = 0; i < n; i++)
		if (pt[i].failures > 0)
			page_buf_printf(b, "<rect class=\"ch-fail\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
			                "height=\"5\"/>", CH_L + (double)i * xw, CH_T + yh - 5,
			                xw > 1.5 ? xw - 1 : xw);
	put_line(b, pt, n, true, ymax, "ch-p95");
	put_line(b, pt, n, false, ymax, "ch-p50");
	/* Hover targets, one per bucket with data. */
	for (size_t i = 0; i < n; i++) {
		int64_t end = i + 1 < n ? pt[i + 1].start_us : until_us;

		if (pt[i].n == 0)
			continue;
		fmt_utc(pt[i].start_us, span <= 2 * US_PER_DAY ? "%H:%M" : "%b %d %H:%M", t1,
		        sizeof(t1));
		fmt_utc(end, "%H:%M", t2, sizeof(t2));
		fmt_ms(pt[i].p50_ms, a, sizeof(a));
		fmt_ms(pt[i].p95_ms, c, sizeof(c));
		page_buf_printf(b, "<rect class=\"ch-hit\" x=\"%.1f\" y=\"%.0f\" width=\"%.1f\" "
		                "height=\"%.0f\"><title>%s–%s UTC · p50 %s · p95 %s · %d run%s",
		                CH_L + (double)i * xw, CH_T, xw, yh, t1, t2, a, c, pt[i].n,
		                pt[i].n == 1 ? "" : "s");
		if (pt[i].failures)
			page_buf_printf(b, ", %d failed", pt[i].failures);
		page_buf_puts(b, "</title></rect>");
	}
	if (with_data == 0)
		page_buf_printf(b, "<text class=\"ch-empty\" x=\"%.0f\" y=\"%.0f\" "
		                "text-anchor=\"middle\">no results in this range</text>",
		                (CH_W + CH_L) / 2, CH_H / 2);
	page_buf_puts(b, "</svg>");
}

/* --- GET /check/NAME ----------------------------------------------------------- */

/* The last renders of the most recently asked check pages (rcache.h), one
 * per (check, range): during an incident many people open the same check,
 * and each render is a dozen database reads. A slot in use (users > 0) is
 * never reassigned; when every slot is in use the request renders into a
 * slot of its own that is not shared. */
#define CHECK_SLOTS 16

struct check_slot {
	char name[API_NAME_MAX + 1];
	size_t range;
	int users;                  /* under check_slots_lock */
	uint64_t used_us;
	bool own;                   /* not in the table: freed by check_slot_put */
	struct rcache cache;
};

static pthread_mutex_t check_slots_lock = PTHREAD_MUTEX_INITIALIZER;
static struct check_slot check_slots[CHECK_SLOTS];

/* The slot of (name, range), taken (check_slot_put it). */
static struct check_slot *check_slot_get(const char *name, size_t range)
{
	struct check_slot *s = NULL, *victim = NULL;

	pthread_mutex_lock(&check_slots_lock);
	for (size_t i = 0; i < CHECK_SLOTS && s == NULL; i++) {
		struct check_slot *c = &check_slots[i];

		if (c->name[0] != '\0' && c->range == range && strcmp(c->name, name) == 0)
			s = c;
		else if (c->users == 0 && (victim == NULL || c->used_us < victim->used_us))
			victim = c;
	}
	if (s == NULL && victim != NULL) {
		s = victim;
		if (s->name[0] == '\0')
			pthread_mutex_init(&s->cache.lock, NULL);
		rcache_clear(&s->cache);
		util_strlcpy(s->name, name, sizeof(s->name));
		s->range = range;
	}
	if (s == NULL) {
		s = xcalloc(1, sizeof(*s));
		s->own = true;
		pthread_mutex_init(&s->cache.lock, NULL);
	}
	s->users++;
	s->used_us = util_mono_us();
	pthread_mutex_unlock(&check_slots_lock);
	return s;
}

static void check_slot_put(struct check_slot *s)
{
	pthread_mutex_lock(&check_slots_lock);
	s->users--;
	pthread_mutex_unlock(&check_slots_lock);
	if (s->own) {
		rcache_clear(&s->cache);
		pthread_mutex_destroy(&s->cache.lock);
		free(s);
	}
}

/* Drops every cached check page. */
static void check_slots_clear(void)
{
	pthread_mutex_lock(&check_slots_lock);
	for (size_t i = 0; i < CHECK_SLOTS; i++)
		if (check_slots[i].name[0] != '\0' && check_slots[i].users == 0)
			rcache_clear(&check_slots[i].cache);
	pthread_mutex_unlock(&check_slots_lock);
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
	{ "24h", "24 hours", 24 * US_PER_HOUR },
	{ "7d", "7 days", 7 * US_PER_DAY },
	{ "30d", "30 days", 30 * US_PER_DAY },
};
#define N_RANGES (sizeof(ranges) / sizeof(ranges[0]))

/* Writes a <dt>/<dd> pair with the value escaped. */
static void put_meta(struct page_buf *b, const char *key, const char *value)
{
	page_buf_printf(b, "<dt>%s</dt><dd>", key);
	page_escape(b, value);
	page_buf_puts(b, "</dd>");
}

static void put_check_header(struct page_buf *b, const struct snapshot_check *sc)
{
	const struct check *c = sc->check;
	char iv[32], dur[32];

	page_buf_puts(b, "<nav class=\"crumbs\"><a href=\"/\">← All checks</a></nav>"
	                 "<section class=\"card head\"><div class=\"h-title\"><h1>");
	page_escape(b, c->name);
	page_buf_puts(b, "</h1><span id=\"check-state\">");
	put_state(b, sc->state);
	page_buf_puts(b, "</span></div><dl class=\"meta\">");
	put_meta(b, "Type", check_type_name(c->type));
	put_meta(b, "Target", c->target ? c->target : "");
	if (c->group && c->group[0])
		put_meta(b, "Group", c->group);
	util_format_duration(c->interval_ms, iv, sizeof(iv));
	put_meta(b, "Interval", iv);
	if (c->n_depends_on > 0) {
		page_buf_puts(b, "<dt>Depends on</dt><dd>");
		for (size_t i = 0; i < c->n_depends_on; i++) {
			page_buf_puts(b, i ? ", <a href=\"/check/" : "<a href=\"/check/");
			page_escape(b, c->depends_on[i]);
			page_buf_puts(b, "\">");
			page_escape(b, c->depends_on[i]);
			page_buf_puts(b, "</a>");
		}
		page_buf_puts(b, "</dd>");
	}
	page_buf_puts(b, "<dt>Last run</dt><dd id=\"check-last\">");
	if (sc->has_last) {
		put_time(b, sc->last_ts_us);
		fmt_ms((double)sc->last_duration_us / 1000.0, dur, sizeof(dur));
		page_buf_printf(b, " · %s · <span class=\"%s\">%s</span>", dur,
		                sc->last_ok ? "ok" : "err", sc->last_ok ? "ok" :
		                probe_error_name(sc->last_error));
		if (sc->last_message && sc->last_message[0]) {
			page_buf_puts(b, " · <span class=\"msg\">");
			page_escape(b, sc->last_message);
			page_buf_puts(b, "</span>");
		}
	} else {
		page_buf_puts(b, "not yet");
	}
	page_buf_puts(b, "</dd></dl></section>\n");
}

static void put_uptime_tiles(struct page_buf *b, struct store_reader *r,
                             const struct snapshot_check *sc, int64_t now)
{
	static const struct { const char *key; int64_t span; } win[] = {
		{ "24h", US_PER_DAY }, { "7d", 7 * US_PER_DAY },
		{ "30d", 30 * US_PER_DAY }, { "90d", 90 * US_PER_DAY },
	};
	struct day_sink days;
	char pct_s[16];

	page_buf_puts(b, "<section class=\"card\"><h2>Uptime</h2><div class=\"tiles\">");
	for (size_t i = 0; i < sizeof(win) / sizeof(win[0]); i++) {
		double pct = r ? store_uptime(r, sc->check->name, now - win[i].span) : -1;

		page_format_pct(pct, pct_s, sizeof(pct_s));
		page_buf_printf(b, "<div class=\"tile %s\"><b>%s</b><span>last %s</span></div>",
		                page_uptime_class(pct), pct_s, win[i].key);
	}
	page_buf_puts(b, "</div>");
	memset(&days, 0, sizeof(days));
	days.first_day = now / US_PER_DAY - (PAGE_DAYS - 1);
	if (r != NULL)
		store_uptime_by_day(r, sc->check->name, days.first_day * US_PER_DAY, day_add, &days);
	put_bar(b, days.runs, days.ok, now / US_PER_DAY, false);
	page_buf_puts(b, "<div class=\"bar-legend\"><span>90 days ago</span><span>today</span>"
	                 "</div></section>\n");
}

static void put_chart(struct page_buf *b, struct store_reader *r, const char *name,
                      size_t range, int64_t now)
{
	int64_t since = now - ranges[range].span_us;
	struct sample_sink k = { 0 };
	struct page_point pts[CHART_POINTS];

	page_buf_puts(b, "<section class=\"card\"><div class=\"c-head\"><h2>Latency</h2>"
	                 "<nav class=\"ranges\" aria-label=\"time range\">");
	for (size_t i = 0; i < N_RANGES; i++) {
		page_buf_puts(b, "<a href=\"/check/");
		page_escape(b, name);
		page_buf_printf(b, "?range=%s\"%s>%s</a>", ranges[i].key,
		                i == range ? " class=\"on\" aria-current=\"page\"" : "", ranges[i].key);
	}
	page_buf_printf(b, "</nav></div><p class=\"legend\"><span class=\"k-p50\">p50</span>"
	                "<span class=\"k-p95\">p95</span><span class=\"k-fail\">failures</span>"
	                "<span class=\"muted\">last %s, %d buckets, UTC</span></p>",
	                ranges[range].label, CHART_POINTS);
	if (r != NULL)
		store_durations(r, name, since, now + 1, sample_add, &k);
	page_latency_points(k.v, k.n, since, now + 1, pts, CHART_POINTS);
	page_buf_puts(b, "<div class=\"chart-wrap\">");
	page_latency_svg(b, pts, CHART_POINTS, since, now + 1);
	page_buf_puts(b, "</div>");
	if (k.truncated)
		page_buf_printf(b, "<p class=\"muted\">Only the first %u results of the range are "
		                "shown.</p>", CHART_SAMPLES_MAX);
	page_buf_puts(b, "</section>\n");
	free(k.v);
}

static const char *jstr(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

/* "2026-03-01T13:04:05.123Z" -> <time> as put_time() writes it. */
static void put_json_time(struct page_buf *b, const char *iso)
{
	int64_t us;

	if (util_parse_time(iso, &us) == 0)
		put_time(b, us);
	else
		page_escape(b, iso);
}

static void put_failures(struct page_buf *b, struct store_reader *r, const char *name,
                         int64_t now)
{
	json_t *rows = r ? store_failures(r, name, now - 90 * US_PER_DAY, FAILURES_SHOWN) : NULL;
	size_t i;
	json_t *o;

	page_buf_puts(b, "<section class=\"card\" id=\"failures\"><h2>Recent failures</h2>");
	if (json_array_size(rows) == 0) {
		page_buf_puts(b, "<p class=\"muted\">No failures in the last 90 days.</p>");
	} else {
		page_buf_puts(b, "<div class=\"tscroll\"><table><thead><tr><th>Time</th><th>Error</th>"
		                 "<th>Duration</th><th>Message</th></tr></thead><tbody>");
		json_array_foreach(rows, i, o) {
			char dur[32];

			fmt_ms(json_number_value(json_object_get(o, "duration_ms")), dur, sizeof(dur));
			page_buf_puts(b, "<tr><td class=\"nowrap\">");
			put_json_time(b, jstr(o, "ts"));
			page_buf_puts(b, "</td><td><span class=\"eclass\">");
			page_escape(b, jstr(o, "error"));
			page_buf_printf(b, "</span></td><td class=\"nowrap num\">%s</td><td class=\"msg\">",
			                dur);
			page_escape(b, jstr(o, "message"));
			page_buf_puts(b, "</td></tr>");
		}
		page_buf_puts(b, "</tbody></table></div>");
	}
	page_buf_puts(b, "</section>\n");
	json_decref(rows);
}

static void put_alert_history(struct page_buf *b, struct store_reader *r, const char *name)
{
	json_t *rows = r ? store_alert_history(r, name, ALERTS_SHOWN) : NULL;
	size_t i;
	json_t *o;

	page_buf_puts(b, "<section class=\"card\" id=\"alert-history\"><h2>Alert history</h2>");
	if (json_array_size(rows) == 0) {
		page_buf_puts(b, "<p class=\"muted\">No alerts.</p>");
	} else {
		page_buf_puts(b, "<div class=\"tscroll\"><table><thead><tr><th>Time</th><th>Rule</th>"
		                 "<th>Change</th><th>Value</th></tr></thead><tbody>");
		json_array_foreach(rows, i, o) {
			page_buf_puts(b, "<tr><td class=\"nowrap\">");
			put_json_time(b, jstr(o, "ts"));
			page_buf_puts(b, "</td><td>");
			page_escape(b, jstr(o, "rule"));
			page_buf_puts(b, "</td><td class=\"nowrap\"><span class=\"as as-");
			page_escape(b, jstr(o, "from"));
			page_buf_puts(b, "\">");
			page_escape(b, jstr(o, "from"));
			page_buf_puts(b, "</span> → <span class=\"as as-");
			page_escape(b, jstr(o, "to"));
			page_buf_puts(b, "\">");
			page_escape(b, jstr(o, "to"));
			page_buf_puts(b, "</span></td><td class=\"msg\">");
			page_escape(b, jstr(o, "value"));
			page_buf_puts(b, "</td></tr>");
		}
		page_buf_puts(b, "</tbody></table></div>");
	}
	page_buf_puts(b, "</section>\n");
	json_decref(rows);
}

/* GET /check/NAME[?range=24h|7d|30d]. */
void page_check(struct api_request *rq, struct api_response *rs)
{
	const struct snapshot_check *sc = rq->snap ? snapshot_find(rq->snap, rq->name) : NULL;
	const char *want = api_query(rq, "range");
	struct page_buf b = { 0 };
	char attrs[160], doc_title[256];
	size_t range = 0;
	struct check_slot *slot;
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
	slot = check_slot_get(rq->name, range);
	if (!rcache_get(&slot->cache, &key, false, &hit)) {
		int64_t now = util_wall_us();

		t0 = util_mono_us();
		/* rq->name passed the router's [A-Za-z0-9_.-] check: safe in an attribute. */
		snprintf(attrs, sizeof(attrs), "data-page=\"check\" data-check=\"%s\"", rq->name);
		snprintf(doc_title, sizeof(doc_title), "%s · %s", rq->name, page_title(rq->snap));
		put_head(&b, doc_title, page_title(rq->snap), attrs);
		put_check_header(&b, sc);
		put_alert_banner(&b, rq->snap, sc->check->name);
		put_uptime_tiles(&b, rq->reader, sc, now);
		put_chart(&b, rq->reader, sc->check->name, range, now);
		put_failures(&b, rq->reader, sc->check->name, now);
		put_alert_history(&b, rq->reader, sc->check->name);
		put_foot(&b);
		if (b.full) {
			rcache_abandon(&slot->cache, &hit);
			check_slot_put(slot);
			html_answer(rs, MHD_HTTP_OK, &b);      /* answers 500 */
			return;
		}
		rcache_put(&slot->cache, &key, b.data, b.len, t0, &hit);
	}
	check_slot_put(slot);
	rcache_answer(rq, rs, &hit, MHD_HTTP_OK, html_type, false);
}

/* --- GET /assets/NAME ---------------------------------------------------------- */

/* The embedded file; links carry ?v=<checksum>, so it may be cached long. */
void page_asset(struct api_request *rq, struct api_response *rs)
{
	const struct asset *a = assets_find(rq->name);

	if (a == NULL) {
		message_page(rq, rs, MHD_HTTP_NOT_FOUND, "Not found", "There is no such file.");
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

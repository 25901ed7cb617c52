/* feed.c — GET /feed.atom (SPEC §3): an Atom 1.0 feed (RFC 4287) of the
 * incidents, their status updates and the config's announcements, newest
 * first. Every text goes through xml_text() (page_escape: the one escaping
 * function of the pages), ids are permanent URLs under agent.public_url. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <microhttpd.h>

#include "core/util.h"
#include "dashboards/page.h"
#include "dashboards/page_parts.h"

#define FEED_INCIDENTS  50
#define FEED_MAX_BYTES  (4u << 20)

static const char atom_type[] = "application/atom+xml; charset=utf-8";

/* One entry, rendered, and when it was last updated (the feed's order). */
struct feed_entry {
	int64_t updated_us;
	char *xml;
	size_t len;
};

struct feed {
	struct feed_entry *v;
	size_t n, cap;
	const char *base;           /* agent.public_url without a final '/' */
	size_t base_len;
};

/* <name>text</name> with text escaped for XML. */
static void xml_text(struct buf *b, const char *name, const char *text)
{
	buf_printf(b, "<%s>", name);
	page_escape(b, text);
	buf_printf(b, "</%s>", name);
}

/* <name>RFC 3339 UTC time</name>. */
static void xml_time(struct buf *b, const char *name, int64_t wall_us)
{
	char ts[40];

	page_fmt_utc(wall_us, "%Y-%m-%dT%H:%M:%SZ", ts, sizeof(ts));
	buf_printf(b, "<%s>%s</%s>", name, ts, name);
}

/* Starts an entry: id, title, updated, a link to the check (escaped). */
static void entry_open(struct buf *b, const struct feed *f, const char *check, const char *id_frag,
                       const char *title, int64_t updated_us)
{
	buf_adds(b, "<entry><id>");
	page_escape(b, f->base);
	buf_adds(b, check ? "/check/" : "/");
	page_escape(b, check ? check : "");
	buf_printf(b, "#%s</id>", id_frag);
	xml_text(b, "title", title);
	xml_time(b, "updated", updated_us);
	buf_adds(b, "<link rel=\"alternate\" type=\"text/html\" href=\"");
	page_escape(b, f->base);
	buf_adds(b, check ? "/check/" : "/");
	page_escape(b, check ? check : "");
	buf_adds(b, "\"/>");
}

static void feed_add(struct feed *f, int64_t updated_us, struct buf *b)
{
	if (f->n == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 16;
		f->v = xrealloc(f->v, f->cap * sizeof(*f->v));
	}
	f->v[f->n].updated_us = updated_us;
	f->v[f->n].xml = buf_steal(b, &f->v[f->n].len);
	f->n++;
}

/* One entry for the incident, one per status update. */
static void add_incident(struct feed *f, const struct store_incident *inc, int64_t now)
{
	struct buf b = BUF_INIT;
	char frag[64], span[48], *title, *summary;
	int64_t updated = inc->ended_us ? inc->ended_us : inc->started_us;

	page_fmt_span((inc->ended_us ? inc->ended_us : now) - inc->started_us, span, sizeof(span));
	title = inc->ended_us ? xasprintf("%s was down for %s", inc->check, span)
	                      : xasprintf("%s is down", inc->check);
	summary = xasprintf("%s: %s (%s: %lld failed run%s)", inc->cause_error, inc->cause_message,
	                    inc->ended_us ? "resolved" : "ongoing", (long long)inc->failures,
	                    inc->failures == 1 ? "" : "s");
	snprintf(frag, sizeof(frag), "incident-%lld", (long long)inc->id);
	entry_open(&b, f, inc->check, frag, title, updated);
	xml_time(&b, "published", inc->started_us);
	xml_text(&b, "summary", summary);
	buf_adds(&b, "</entry>\n");
	feed_add(f, updated, &b);
	free(title);
	free(summary);
	for (size_t k = 0; k < inc->n_updates; k++) {
		const struct store_incident_update *u = &inc->updates[k];

		title = xasprintf("%s: %s", inc->check, u->status);
		snprintf(frag, sizeof(frag), "incident-%lld-update-%zu", (long long)inc->id, k + 1);
		entry_open(&b, f, inc->check, frag, title, u->ts_us);
		xml_text(&b, "summary", u->message);
		buf_adds(&b, "</entry>\n");
		feed_add(f, u->ts_us, &b);
		free(title);
	}
}

/* An announcement keeps its id while its title and start stay: a hash of
 * both. Without a start, its time is when the config file last changed. */
static void add_announcement(struct feed *f, const struct announcement *a, int64_t conf_us)
{
	struct buf b = BUF_INIT;
	char frag[64];
	uint64_t h = 1469598103934665603ull;        /* FNV-1a */
	int64_t t = a->start_us ? a->start_us : conf_us;

	for (const char *p = a->title; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	h ^= (uint64_t)a->start_us;
	snprintf(frag, sizeof(frag), "announcement-%016llx", (unsigned long long)h);
	entry_open(&b, f, NULL, frag, a->title, t);
	xml_text(&b, "summary", a->body);
	buf_printf(&b, "<category term=\"%s\"/>", a->severity);   /* one of four of ours */
	buf_adds(&b, "</entry>\n");
	feed_add(f, t, &b);
}

static int entry_cmp(const void *a, const void *b)
{
	const struct feed_entry *x = a, *y = b;

	return x->updated_us > y->updated_us ? -1 : x->updated_us < y->updated_us;
}

/* The config file's modification time, or now. */
static int64_t conf_time(const struct conf *c, int64_t now)
{
	struct stat st;

	if (c->path == NULL || stat(c->path, &st) != 0)
		return now;
	return (int64_t)st.st_mtim.tv_sec * US_PER_S + st.st_mtim.tv_nsec / 1000;
}

/* The feed document of f's entries (sorted here) into b. */
static void put_feed(struct buf *b, struct feed *f, const struct conf *conf, int64_t now)
{
	const char *title = conf->agent.title ? conf->agent.title : "pharos status";

	qsort(f->v, f->n, sizeof(*f->v), entry_cmp);
	buf_adds(b, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
	            "<feed xmlns=\"http://www.w3.org/2005/Atom\"><id>");
	page_escape(b, f->base);
	buf_adds(b, "/feed.atom</id>");
	xml_text(b, "title", title);
	buf_adds(b, "<subtitle>Incidents and announcements</subtitle>");
	xml_time(b, "updated", f->n ? f->v[0].updated_us : conf_time(conf, now));
	buf_adds(b, "<author>");
	xml_text(b, "name", title);
	buf_adds(b, "</author><generator>pharos</generator><link rel=\"self\" type=\""
	            "application/atom+xml\" href=\"");
	page_escape(b, f->base);
	buf_adds(b, "/feed.atom\"/><link rel=\"alternate\" type=\"text/html\" href=\"");
	page_escape(b, f->base);
	buf_adds(b, "/\"/>\n");
	for (size_t i = 0; i < f->n; i++)
		buf_add(b, f->v[i].xml, f->v[i].len);
	buf_adds(b, "</feed>\n");
}

/* GET /feed.atom. */
void page_feed(struct api_request *rq, struct api_response *rs)
{
	struct store_incident_query q = { .limit = FEED_INCIDENTS };
	struct store_incident *v = NULL;
	struct buf b = BUF_MAX(FEED_MAX_BYTES);
	struct feed f = { 0 };
	const struct conf *conf;
	int64_t now = util_wall_us();
	size_t n = 0;

	if (rq->snap == NULL) {
		api_error(rs, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable", "no configuration loaded yet");
		return;
	}
	conf = rq->snap->conf;
	f.base = conf->agent.public_url ? conf->agent.public_url : "";
	f.base_len = strlen(f.base);
	while (f.base_len > 0 && f.base[f.base_len - 1] == '/')
		f.base_len--;
	f.base = xstrndup(f.base, f.base_len);
	if (rq->reader != NULL && store_incidents(rq->reader, &q, &v, &n) == 0)
		for (size_t i = 0; i < n; i++)
			add_incident(&f, &v[i], now);
	store_incidents_free(v, n);
	for (size_t i = 0; i < conf->n_announcements; i++)
		if (conf->announcements[i].start_us == 0 || conf->announcements[i].start_us <= now)
			add_announcement(&f, &conf->announcements[i], conf_time(conf, now));
	put_feed(&b, &f, conf, now);
	for (size_t i = 0; i < f.n; i++)
		free(f.v[i].xml);
	free(f.v);
	free((char *)f.base);
	if (b.over) {
		buf_free(&b);
		api_error(rs, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "feed too large");
		return;
	}
	free(rs->body);
	rs->body = buf_steal(&b, &rs->body_len);
	rs->status = MHD_HTTP_OK;
	rs->content_type = atom_type;
}

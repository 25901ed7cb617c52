/* badge.c — shields-style "flat" SVG badges for READMEs and wikis: a grey
 * label box and a coloured message box, each text drawn twice (a faint
 * shadow one pixel lower, then white). The layout needs text widths, which
 * come from a table of Verdana advance widths: a browser without Verdana
 * falls back to a similar sans-serif and the estimate stays close. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "dashboards/badge.h"
#include "dashboards/page.h"
#include "core/util.h"

#define BADGE_TEXT_MAX   64         /* characters kept of a label or message */
#define BADGE_PAD        6.0        /* pixels left and right of each text */
#define BADGE_CACHE      "max-age=60"
#define US_PER_HOUR      (3600LL * 1000000LL)

/* Advance widths of Verdana for ' ' (32) to '~' (126), in font units
 * (2048 per em); at 11px a width is units * 11 / 2048. */
static const unsigned short verdana_units[95] = {
	 720,  823,  941, 1705, 1302, 2224, 1493,  548, 1047, 1047,   /*  !"#$%&'() */
	1302, 1705,  748,  878,  748, 1231, 1302, 1302, 1302, 1302,   /* *+,-./0123 */
	1302, 1302, 1302, 1302, 1302, 1302,  878,  878, 1705, 1705,   /* 456789:;<= */
	1705, 1118, 2048, 1402, 1405, 1430, 1577, 1294, 1178, 1587,   /* >?@ABCDEFG */
	1540,  862,  925, 1415, 1141, 1726, 1532, 1612, 1235, 1612,   /* HIJKLMNOPQ */
	1423, 1399, 1235, 1499, 1402, 2025, 1403, 1233, 1399, 1047,   /* RSTUVWXYZ[ */
	1231, 1047, 1705, 1302, 1302, 1229, 1276, 1062, 1276, 1219,   /* \]^_`abcde */
	 720, 1276, 1296,  562,  705, 1186,  562, 1995, 1296, 1243,   /* fghijklmno */
	1276, 1276,  874, 1064,  807, 1296, 1186, 1667, 1184, 1186,   /* pqrstuvwxy */
	1049, 1300, 1231, 1300, 1705,                                 /* z{|}~ */
};
#define UNITS_WIDE 1400             /* any other character: about an 'A' */

double badge_text_width(const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	unsigned long units = 0;

	for (; *p != '\0'; p++) {
		if (*p >= 32 && *p <= 126)
			units += verdana_units[*p - 32];
		else if (*p >= 0x80 && (*p & 0xc0) == 0x80)
			continue;       /* continuation byte: counted with its lead byte */
		else if (*p >= 0x80)
			units += UNITS_WIDE;
	}
	return (double)units * 11.0 / 2048.0;
}

/* s cut to BADGE_TEXT_MAX characters (never inside a UTF-8 sequence). */
static char *cut(const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t chars = 0, i = 0;

	while (p[i] != '\0') {
		if ((p[i] & 0xc0) != 0x80 && chars++ == BADGE_TEXT_MAX)
			break;
		i++;
	}
	return xstrndup((const char *)p, i);
}

char *badge_svg(const char *label, const char *message, const char *color, size_t *len)
{
	struct buf b = BUF_MAX(PAGE_MAX_BYTES), el = BUF_MAX(PAGE_MAX_BYTES);
	struct buf em = BUF_MAX(PAGE_MAX_BYTES);
	char *l = cut(label), *m = cut(message);
	double lw = round(badge_text_width(l) + 2 * BADGE_PAD);
	double mw = round(badge_text_width(m) + 2 * BADGE_PAD);
	double w = lw + mw;

	page_escape(&el, l);
	page_escape(&em, m);
	buf_printf(&b, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"20\" "
	           "role=\"img\" aria-label=\"", w);
	buf_adds(&b, el.p ? el.p : "");
	buf_adds(&b, ": ");
	buf_adds(&b, em.p ? em.p : "");
	buf_adds(&b, "\"><title>");
	buf_adds(&b, el.p ? el.p : "");
	buf_adds(&b, ": ");
	buf_adds(&b, em.p ? em.p : "");
	buf_printf(&b, "</title><linearGradient id=\"s\" x2=\"0\" y2=\"100%%\">"
	           "<stop offset=\"0\" stop-color=\"#bbb\" stop-opacity=\".1\"/>"
	           "<stop offset=\"1\" stop-opacity=\".1\"/></linearGradient>"
	           "<clipPath id=\"r\"><rect width=\"%.0f\" height=\"20\" rx=\"3\" "
	           "fill=\"#fff\"/></clipPath><g clip-path=\"url(#r)\">"
	           "<rect width=\"%.0f\" height=\"20\" fill=\"#555\"/>"
	           "<rect x=\"%.0f\" width=\"%.0f\" height=\"20\" fill=\"%s\"/>"
	           "<rect width=\"%.0f\" height=\"20\" fill=\"url(#s)\"/></g>"
	           "<g fill=\"#fff\" text-anchor=\"middle\" "
	           "font-family=\"Verdana,Geneva,DejaVu Sans,sans-serif\" "
	           "text-rendering=\"geometricPrecision\" font-size=\"11\">",
	           w, lw, lw, mw, color, w);
	for (int i = 0; i < 2; i++) {
		const char *t = i == 0 ? (el.p ? el.p : "") : (em.p ? em.p : "");
		double x = i == 0 ? lw / 2 : lw + mw / 2;

		buf_printf(&b, "<text x=\"%.1f\" y=\"15\" fill=\"#010101\" fill-opacity=\".3\">",
		           x);
		buf_adds(&b, t);
		buf_printf(&b, "</text><text x=\"%.1f\" y=\"14\">", x);
		buf_adds(&b, t);
		buf_adds(&b, "</text>");
	}
	buf_adds(&b, "</g></svg>\n");
	buf_free(&el);
	buf_free(&em);
	free(l);
	free(m);
	return buf_steal(&b, len);
}

const char *badge_state_color(const char *state)
{
	static const struct { const char *state, *color; } colors[] = {
		{ "up", "#4c1" },
		{ "down", "#e05d44" },
		{ "blocked", "#fe7d37" },
		{ "maintenance", "#007ec6" },
		{ "pending", "#9f9f9f" },
	};

	for (size_t i = 0; i < sizeof(colors) / sizeof(colors[0]); i++)
		if (state != NULL && strcmp(state, colors[i].state) == 0)
			return colors[i].color;
	return "#9f9f9f";
}

const char *badge_uptime_color(double pct)
{
	if (pct < 0 || isnan(pct))
		return "#9f9f9f";
	if (pct >= 99.9)
		return "#4c1";
	if (pct >= 99)
		return "#dfb317";
	if (pct >= 95)
		return "#fe7d37";
	return "#e05d44";
}

/* Sets rs to the badge. */
static void badge_answer(struct api_response *rs, unsigned status, const char *label,
                         const char *message, const char *color)
{
	size_t len;
	char *svg = badge_svg(label, message, color, &len);

	free(rs->body);
	rs->body = svg;
	rs->body_len = len;
	rs->status = status;
	rs->content_type = "image/svg+xml";
	rs->cache_control = BADGE_CACHE;
}

void badge_not_found(struct api_request *rq, struct api_response *rs)
{
	badge_answer(rs, MHD_HTTP_NOT_FOUND, rq->name[0] ? rq->name : "badge", "not found",
	             "#9f9f9f");
}

/* The label: ?label= when given (escaped like everything else), else dflt. */
static const char *label_of(struct api_request *rq, const char *dflt)
{
	const char *l = api_query(rq, "label");

	return l != NULL && l[0] != '\0' ? l : dflt;
}

/* GET /badge/NAME.svg: rq->name is "NAME.svg". */
void badge_state(struct api_request *rq, struct api_response *rs)
{
	size_t n = strlen(rq->name);
	const struct snapshot_check *sc = NULL;
	const char *state;

	if (n > 4 && strcmp(rq->name + n - 4, ".svg") == 0) {
		rq->name[n - 4] = '\0';
		if (rq->snap != NULL)
			sc = snapshot_find(rq->snap, rq->name);
	}
	if (sc == NULL) {
		badge_not_found(rq, rs);
		return;
	}
	state = check_state_name(sc->state);
	badge_answer(rs, MHD_HTTP_OK, label_of(rq, rq->name), state, badge_state_color(state));
}

/* GET /badge/NAME/uptime/W.svg (the window is the path's last segment). */
void badge_uptime(struct api_request *rq, struct api_response *rs)
{
	static const struct { const char *file, *label; int64_t span; } win[] = {
		{ "24h.svg", "uptime 24h", 24 * US_PER_HOUR },
		{ "7d.svg", "uptime 7d", 7 * 24 * US_PER_HOUR },
		{ "30d.svg", "uptime 30d", 30 * 24 * US_PER_HOUR },
		{ "90d.svg", "uptime 90d", 90 * 24 * US_PER_HOUR },
	};
	const char *last = strrchr(rq->path, '/');
	double pct = -1;
	char msg[16];

	if (rq->snap == NULL || snapshot_find(rq->snap, rq->name) == NULL || last == NULL) {
		badge_not_found(rq, rs);
		return;
	}
	for (size_t i = 0; i < sizeof(win) / sizeof(win[0]); i++) {
		if (strcmp(last + 1, win[i].file) != 0)
			continue;
		if (rq->reader != NULL)
			pct = store_uptime(rq->reader, rq->name, util_wall_us() - win[i].span);
		if (pct < 0)
			snprintf(msg, sizeof(msg), "no data");
		else
			page_format_pct(pct, msg, sizeof(msg));
		badge_answer(rs, MHD_HTTP_OK, label_of(rq, win[i].label), msg,
		             badge_uptime_color(pct));
		return;
	}
	badge_not_found(rq, rs);
}

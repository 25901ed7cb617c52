/* page.h — the server-rendered status pages of SPEC §3: GET / (every check
 * by group, with uptime and a 90-day bar), GET /check/NAME (uptime figures,
 * latency chart, failures, alerts) and the embedded files they use
 * (GET /assets/NAME). The HTML is complete without JavaScript; the script
 * only refreshes states. Every user-supplied string (names, groups, targets,
 * messages) goes through page_escape(), which also masks secrets.
 *
 * The modules: page.c (shared HTML pieces, escaping, assets), page_index.c
 * (GET /), page_paged.c (GET / of a fleet above agent.page_full_up_to
 * checks: a summary and numbered pages, ?page=N&group=NAME), page_layout.c
 * (their list order per config), page_rows.c (the rows and summary both
 * layouts write), page_hist.c (the index page's history cache), page_check.c
 * (GET /check/NAME), page_chart.c (the latency chart, page_chart.h). */
#ifndef PHAROS_PAGE_H
#define PHAROS_PAGE_H

#include <stddef.h>

#include "core/buf.h"
#include "web/api.h"

/* Largest page rendered; past it the answer is 500 (a page of 10,000 checks
 * is about 6 MiB; above agent.page_full_up_to checks GET / is in pages of
 * 1,000 and stays far below). Pages are built in a BUF_MAX(PAGE_MAX_BYTES)
 * buffer. */
#define PAGE_MAX_BYTES (64u << 20)
#define PAGE_DAYS 90                /* cells of the uptime bar */

/* Appends s (NULL: nothing) with registered secrets masked, escaped for HTML
 * and XML text and for quoted attribute values alike: & < > " ' become
 * entities, control characters other than tab and newline are dropped and
 * bytes of invalid UTF-8 become '?' (an SVG with them would not parse). The
 * one escaping function of the pages and the badges. */
void page_escape(struct buf *b, const char *s);

/* "99.95%": always two decimals, rounded to the nearest (99.666 reads
 * 99.67%), except that what is not 100 never reads 100.00% (99.999 reads
 * 99.99%); "n/a" when pct < 0 (no data). */
void page_format_pct(double pct, char *buf, size_t len);
/* pct rounded to two decimals the same way (for numbers in JSON too). */
double page_round_pct(double pct);

/* Colour class of an uptime: "u-g" (>= 99.9), "u-y" (>= 99), "u-o" (>= 95),
 * "u-r" (below), "u-n" (pct < 0: no data). */
const char *page_uptime_class(double pct);

/* Forgets what the pages cache: the rendered index page (reused for 1 s),
 * the rendered check pages, and the history of every check (uptime per check
 * and day, re-read at most every 30 s otherwise). */
void page_cache_clear(void);

/* Route handlers. page_not_found also answers paths whose name the router
 * rejected, so a browser gets HTML rather than JSON. */
api_handler page_index;             /* GET /[?page=N][&group=NAME] */
api_handler page_check;             /* GET /check/{name} */
api_handler page_asset;             /* GET /assets/{name} */
api_handler page_not_found;
api_handler page_feed;              /* GET /feed.atom (feed.c) */

#endif

/* page_parts.h — the pieces the status page modules share (page.c defines
 * them): time units, formatting, the document head and foot, the state pill,
 * the 90-day bar, the firing-alerts banner and the ways to answer with HTML.
 * Internal to dashboards/page*.c; the rest of pharos uses page.h. */
#ifndef PHAROS_PAGE_PARTS_H
#define PHAROS_PAGE_PARTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "dashboards/page.h"
#include "web/fleet_view.h"

#define US_PER_S           1000000LL
#define US_PER_HOUR        (3600LL * US_PER_S)
#define US_PER_DAY         (24 * US_PER_HOUR)

extern const char page_html_type[];    /* "text/html; charset=utf-8" */

/* 100 * ok / runs, or -1 (no data) when runs is 0. */
double page_pct_of(int64_t ok, int64_t runs);

/* wall_us as UTC with strftime format fmt ("?" when it cannot be). */
void page_fmt_utc(int64_t wall_us, const char *fmt, char *buf, size_t len);

/* A duration for people: "850 µs", "42.0 ms", "1.25 s". */
void page_fmt_ms(double ms, char *buf, size_t len);

/* "<time datetime=ISO data-rel>YYYY-MM-DD HH:MM:SS UTC</time>" (the script
 * adds the relative form). */
void page_put_time(struct buf *b, int64_t wall_us);

/* The word of a check state ("Up", "Maintenance"; "Unknown" when none). */
const char *page_state_label(enum check_state st);

/* The state pill: colour from the class, and always the word. */
void page_put_state(struct buf *b, enum check_state st);

/* The site title of snap's config, or "pharos status". */
const char *page_title(const struct snapshot *snap);

/* Document head and the top bar (doc_title and site_title are escaped here;
 * body_attrs is ours and written as is), and the foot that closes it. */
void page_put_head(struct buf *b, const char *doc_title, const char *site_title,
                   const char *body_attrs);
void page_put_foot(struct buf *b);

/* One bar of PAGE_DAYS day cells, oldest first, runs[PAGE_DAYS - 1] = today
 * (runs and ok may be NULL: no data). With merge, neighbouring days of the
 * same figure share one cell. */
void page_put_bar(struct buf *b, const int32_t *runs, const int32_t *ok, int64_t today,
                  bool merge);

/* The banner of firing alerts, of every check or only of the check named
 * only; always present so the script can fill it, hidden when empty. It
 * lists at most max of them, then says how many more (SIZE_MAX: all). */
void page_put_alert_banner(struct buf *b, const struct snapshot *snap, const char *only,
                           size_t max);

/* Hands b to rs as an HTML answer with status (500 when b went over its
 * ceiling); b is empty afterwards. */
void page_html_answer(struct api_response *rs, unsigned status, struct buf *b);

/* A small page with a heading and one paragraph (both escaped). */
void page_message(struct api_request *rq, struct api_response *rs, unsigned status,
                  const char *heading, const char *text);

/* --- the status page's rows and summary (page_rows.c), its numbered pages
 * (page_paged.c) --- */

struct page_hist;

/* Checks shown on one page of the list of a big fleet (GET /?page=N). */
#define PAGE_ROWS 1000

/* One check's row of the list: name, response times (not with compact),
 * state (st: the fleet's in a fleet), the locations (cols: a column each of
 * v; NULL: none), the 90-day bar (compact: equal neighbouring days share a
 * cell, and the row drops what repeats in every row), uptime 24h / 90d. */
void page_put_check_row(struct buf *b, const struct snapshot_check *sc, enum check_state st,
                        const struct fleet_status *cols, const struct fleet_view *v,
                        const struct page_hist *h, bool compact);
/* The rest of a group's heading after its name: the count of its n checks
 * and of those down, the location columns (cols: NULL for none), the
 * column heads of the bars; opens the group's list. */
void page_put_group_head_rest(struct buf *b, size_t n, size_t down, const struct fleet_view *cols);
/* The summary at the top: how many checks are down, or that all is well,
 * the counts of snap's checks (counts: by check state) and when the page
 * was made. */
void page_put_summary(struct buf *b, const struct snapshot *snap, const size_t *counts,
                      int64_t now);

/* GET / of a fleet of more than agent.page_full_up_to checks: the summary,
 * the checks that are not up, the groups, and the list in numbered pages
 * of PAGE_ROWS (page_paged.c). */
void page_index_paged(struct api_request *rq, struct api_response *rs);
/* Forget the rendered numbered pages. */
void page_paged_cache_clear(void);

/* --- incidents (page_incident.c) --- */

/* A length of time for people: "45 s", "6 min", "2 h 5 min", "3 d 4 h". */
void page_fmt_span(int64_t us, char *buf, size_t len);
/* "<time datetime=ISO data-hm>07:24 UTC</time>" (with the date when not
 * today); the script shows it in local time. */
void page_put_hm(struct buf *b, int64_t wall_us, int64_t now_us);
/* The status page's banner of open incidents with their latest update
 * (hidden when none, or when r is NULL or keeps no incidents). */
void page_put_open_incidents(struct buf *b, struct store_reader *r, int64_t now);
/* The check page's card of check's incidents, newest first, with updates. */
void page_put_check_incidents(struct buf *b, struct store_reader *r, const char *check,
                              int64_t now);

/* --- announcements and maintenance (page_notice.c) --- */

/* Whether a is to be shown at now_us (between its start and end). */
bool page_announcement_active(const struct announcement *a, int64_t now_us);
/* The active announcements of conf, one banner each (escaped). */
void page_put_announcements(struct buf *b, const struct conf *conf, int64_t now);
/* The occurrence of w to show at now_us: 1 in progress, 0 starting within 7
 * days (with [*start_us, *end_us)), -1 none. */
int page_maintenance_next(const struct maintenance_window *w, int64_t now_us, int64_t *start_us,
                          int64_t *end_us);
/* The banner of maintenance in progress or within 7 days (nothing when none). */
void page_put_maintenance_schedule(struct buf *b, const struct conf *conf, int64_t now);

/* Forget the rendered pages of page_index.c and page_check.c. */
void page_index_cache_clear(void);
void page_check_cache_clear(void);

/* --- the fleet (page_fleet.c; PostgreSQL only) --- */

/* Whether the index shows a column per location: v has more than one. */
bool page_fleet_columns(const struct fleet_view *v);
/* The state the pages show for sc: the fleet's when the fleet's view is on
 * (v may be NULL: none read yet), else the snapshot's. */
enum check_state page_fleet_state(const struct fleet_view *v, const struct snapshot *snap,
                                  const struct snapshot_check *sc, int64_t now);
/* The group heading's location names, in v's order. */
void page_put_fleet_head(struct buf *b, const struct fleet_view *v);
/* One check row's cells, one per location of v (st from fleet_status_of). */
void page_put_fleet_cells(struct buf *b, const struct fleet_view *v,
                          const struct fleet_status *st);
/* What up, degraded and down mean in a fleet. */
void page_put_fleet_legend(struct buf *b);
/* The check page's card of locations: state, last run, duration, message. */
void page_put_check_locations(struct buf *b, const struct fleet_view *v,
                              const struct snapshot *snap, const struct snapshot_check *sc,
                              int64_t now);

#endif

/* badge.h — shields-style flat SVG badges (SPEC §3): GET /badge/NAME.svg
 * (the check's state) and GET /badge/NAME/uptime/{24h,7d,30d,90d}.svg (its
 * uptime). Text is escaped with page_escape(); widths are estimated from
 * Verdana 11px advance widths, so no font is needed to lay a badge out. */
#ifndef PHAROS_BADGE_H
#define PHAROS_BADGE_H

#include <stddef.h>

#include "web/api.h"

/* Estimated width in pixels of s (UTF-8) in Verdana 11px. */
double badge_text_width(const char *s);

/* A complete SVG document: label on grey, message on color ("#4c1"; ours,
 * not escaped). Returns a malloc'ed string (caller frees), its length in
 * *len. label and message are escaped and cut to 64 characters. */
char *badge_svg(const char *label, const char *message, const char *color, size_t *len);

/* The colour of a check state name ("up", "down", ...); grey when unknown. */
const char *badge_state_color(const char *state);
/* The colour of an uptime percentage (< 0: no data). */
const char *badge_uptime_color(double pct);

/* Route handlers; every answer is an SVG with Cache-Control: max-age=60,
 * unknown checks a "not found" badge with status 404. */
api_handler badge_state;            /* GET /badge/{name} (NAME.svg) */
api_handler badge_uptime;           /* GET /badge/{name}/uptime/{24h,7d,30d,90d}.svg */
api_handler badge_not_found;

#endif

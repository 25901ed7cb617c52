/* metrics.h — GET /metrics (SPEC §4): the published snapshot rendered as a
 * Prometheus text exposition (format 0.0.4) or, when the scraper's Accept
 * header asks for it, as OpenMetrics 1.0. Pure rendering: nothing here touches
 * the loop or the database. */
#ifndef PHAROS_METRICS_H
#define PHAROS_METRICS_H

#include <stddef.h>

#include "web/metrics_format.h"
#include "web/snapshot.h"

/* enum metrics_format, metrics_format_from_accept, metrics_content_type:
 * metrics_format.h. */

/* Renders s in format f. Returns a malloc'ed, NUL-terminated exposition (the
 * caller frees it) and its length in *len. s may be NULL (nothing published
 * yet): then only pharos_build_info has a sample. The size is linear in the
 * snapshot (about 2 KiB per check), so it needs no other ceiling. */
char *metrics_render(const struct snapshot *s, enum metrics_format f, size_t *len);

struct api_request;
struct api_response;
/* The GET /metrics route handler (an api_handler, see api.h): picks the
 * format from the request's Accept header and answers 200 with the rendered
 * current snapshot. */
void metrics_handle(struct api_request *rq, struct api_response *rs);

#endif

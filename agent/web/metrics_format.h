/* metrics_format.h — which exposition format a scraper asks for (its Accept
 * header, SPEC §4) and the Content-Type that goes with it. Pure string work;
 * metrics.h builds on it. */
#ifndef PHAROS_METRICS_FORMAT_H
#define PHAROS_METRICS_FORMAT_H

enum metrics_format {
	METRICS_TEXT,               /* text/plain; version=0.0.4 */
	METRICS_OPENMETRICS,        /* application/openmetrics-text; version=1.0.0 */
};

/* The format an Accept header value asks for: OpenMetrics when it lists
 * application/openmetrics-text (version 1.0.0, 0.0.1 or none) with a q-value
 * above 0 and not below the best text/plain, text/ * or * / * entry; else
 * text. NULL (no header) gives text. */
enum metrics_format metrics_format_from_accept(const char *accept);

/* The Content-Type header value of f (a static string). */
const char *metrics_content_type(enum metrics_format f);

#endif

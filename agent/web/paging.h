/* paging.h — the arithmetic of long lists served in parts: the status page's
 * numbered pages (GET /?page=N) and the API's limit/offset windows (GET
 * /api/v1/checks?limit=&offset=), and the strict parsing of their query
 * values. Pure functions, no I/O: the unit tests pin every edge. */
#ifndef PHAROS_PAGING_H
#define PHAROS_PAGING_H

#include <stdbool.h>
#include <stddef.h>

/* One window of a list: entries [first, first + count). */
struct paging_span {
	size_t first;
	size_t count;
};

/* The number of pages of per_page entries (per_page > 0) that hold total
 * entries; at least 1 (an empty list is one empty page). */
size_t paging_pages(size_t total, size_t per_page);

/* The entries of page (1-based) of a list of total entries in pages of
 * per_page (> 0). False when there is no such page (0, or past the last);
 * page 1 of an empty list is the empty span. */
bool paging_page_span(size_t total, size_t per_page, size_t page, struct paging_span *out);

/* The window [offset, offset + limit) cut to a list of total entries: empty
 * (first = total) when offset is at or past the end. */
struct paging_span paging_window(size_t total, size_t offset, size_t limit);

/* Parses s as a decimal count from min to max: digits only (no sign, no
 * space, no exponent; leading zeros are fine). 0 with *out set, or -1 (s NULL,
 * empty, not digits, or out of range; *out left). */
int paging_parse_count(const char *s, size_t min, size_t max, size_t *out);

#endif

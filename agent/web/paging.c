/* paging.c — page and window arithmetic and the parsing of their query
 * values (paging.h). */
#include "web/paging.h"

size_t paging_pages(size_t total, size_t per_page)
{
	size_t n = total / per_page + (total % per_page != 0);

	return n ? n : 1;
}

bool paging_page_span(size_t total, size_t per_page, size_t page, struct paging_span *out)
{
	if (page == 0 || page > paging_pages(total, per_page))
		return false;
	out->first = (page - 1) * per_page;
	out->count = total - out->first < per_page ? total - out->first : per_page;
	return true;
}

struct paging_span paging_window(size_t total, size_t offset, size_t limit)
{
	struct paging_span s;

	s.first = offset < total ? offset : total;
	s.count = total - s.first < limit ? total - s.first : limit;
	return s;
}

/* Digits only, accumulated with an overflow check (strtoul would take a
 * sign, spaces and "0x"). */
int paging_parse_count(const char *s, size_t min, size_t max, size_t *out)
{
	size_t v = 0;

	if (s == NULL || *s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		size_t d = (size_t)(*s - '0');

		if (*s < '0' || *s > '9')
			return -1;
		if (d > max || v > (max - d) / 10)
			return -1;          /* past max (and never wraps) */
		v = v * 10 + d;
	}
	if (v < min)
		return -1;
	*out = v;
	return 0;
}

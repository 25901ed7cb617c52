/* page_cache.c — drops every cache of the pages at once (tests, reload). It
 * sits above the pages it clears, so the shared page helpers (page.c) call
 * none of them. */
#include "dashboards/page.h"
#include "dashboards/page_hist.h"
#include "dashboards/page_parts.h"

void page_cache_clear(void)
{
	page_index_cache_clear();
	page_check_cache_clear();
	page_hist_clear();
}

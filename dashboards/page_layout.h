/* page_layout.h — the order of the status page's list for one config, as
 * the numbered pages of a big fleet need it: every check by group (groups by
 * name, the ungrouped last), config order within a group, and each group's
 * first position and size. It depends on the config alone, so it is built
 * once per config (one sort of every check) and shared by the renders of
 * every page until the config changes: a page of 1,000 rows then costs its
 * rows plus one pass over the snapshot for the counts, never a sort. */
#ifndef PHAROS_PAGE_LAYOUT_H
#define PHAROS_PAGE_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#include "conf/conf.h"

struct page_group {
	const char *name;           /* NULL: the ungrouped (last); points into conf */
	size_t first;               /* position of its first check in order */
	size_t n;                   /* its checks */
};

struct page_layout {
	int refs;                   /* under the cache's lock */
	struct conf *conf;          /* a reference: the names point into it */
	size_t n_checks;
	uint32_t *order;            /* n_checks config positions, in list order */
	uint32_t *gid;              /* by config position: the index of its group */
	struct page_group *groups;  /* by name, the ungrouped last */
	size_t n_groups;
};

/* The layout of conf (a reference: page_layout_release it), built when the
 * one cached is of another config. */
struct page_layout *page_layout_acquire(struct conf *conf);

/* Drops a reference (l may be NULL). */
void page_layout_release(struct page_layout *l);

/* The index of the group named name ("" or NULL: the ungrouped), or -1 when
 * conf has no such group. */
long page_layout_find_group(const struct page_layout *l, const char *name);

/* Forgets the cached layout and its config reference. */
void page_layout_clear(void);

#endif

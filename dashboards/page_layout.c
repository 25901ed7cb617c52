/* page_layout.c — the list order of a config's checks, built once per
 * config and shared (page_layout.h). */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "dashboards/page_layout.h"

static pthread_mutex_t layout_lock = PTHREAD_MUTEX_INITIALIZER;
static struct page_layout *cached;     /* under layout_lock */

/* A check's group, NULL for none ("" counts as none). */
static const char *group_name(const struct check *c)
{
	return c->group != NULL && c->group[0] != '\0' ? c->group : NULL;
}

/* Groups by name, the ungrouped last; NULL equals NULL. */
static int group_cmp(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return (a == NULL) - (b == NULL);
	return strcmp(a, b);
}

/* qsort_r order of config positions: by group, then config order. */
static int order_cmp(const void *x, const void *y, void *arg)
{
	const struct conf *conf = arg;
	uint32_t i = *(const uint32_t *)x, j = *(const uint32_t *)y;
	int c = group_cmp(group_name(&conf->checks[i]), group_name(&conf->checks[j]));

	if (c != 0)
		return c;
	return i < j ? -1 : i > j;
}

/* The number of groups in the sorted order (at least 1, for the allocation). */
static size_t count_groups(const struct conf *conf, const uint32_t *order, size_t n)
{
	size_t groups = 1;

	for (size_t k = 1; k < n; k++)
		groups += group_cmp(group_name(&conf->checks[order[k - 1]]),
		                    group_name(&conf->checks[order[k]])) != 0;
	return groups;
}

static struct page_layout *layout_build(struct conf *conf)
{
	struct page_layout *l = xcalloc(1, sizeof(*l));
	size_t n = conf->n_checks;

	l->refs = 1;
	l->conf = conf_ref(conf);
	l->n_checks = n;
	l->order = xmalloc((n ? n : 1) * sizeof(*l->order));
	l->gid = xmalloc((n ? n : 1) * sizeof(*l->gid));
	for (size_t i = 0; i < n; i++)
		l->order[i] = (uint32_t)i;
	qsort_r(l->order, n, sizeof(*l->order), order_cmp, conf);
	l->groups = xmalloc(count_groups(conf, l->order, n) * sizeof(*l->groups));
	for (size_t k = 0; k < n; k++) {
		const char *g = group_name(&conf->checks[l->order[k]]);

		if (l->n_groups == 0 || group_cmp(l->groups[l->n_groups - 1].name, g) != 0) {
			l->groups[l->n_groups].name = g;
			l->groups[l->n_groups].first = k;
			l->groups[l->n_groups].n = 0;
			l->n_groups++;
		}
		l->groups[l->n_groups - 1].n++;
		l->gid[l->order[k]] = (uint32_t)(l->n_groups - 1);
	}
	return l;
}

static void layout_free(struct page_layout *l)
{
	conf_unref(l->conf);
	free(l->order);
	free(l->gid);
	free(l->groups);
	free(l);
}

/* See page_layout.h. The build runs under the lock: renders that need the
 * new layout wait for it rather than each sorting every check. */
struct page_layout *page_layout_acquire(struct conf *conf)
{
	struct page_layout *l, *old = NULL;

	pthread_mutex_lock(&layout_lock);
	if (cached == NULL || cached->conf != conf) {
		old = cached;
		cached = layout_build(conf);
	}
	l = cached;
	l->refs++;
	if (old != NULL && --old->refs > 0)
		old = NULL;
	pthread_mutex_unlock(&layout_lock);
	if (old != NULL)
		layout_free(old);
	return l;
}

void page_layout_release(struct page_layout *l)
{
	bool last;

	if (l == NULL)
		return;
	pthread_mutex_lock(&layout_lock);
	last = --l->refs == 0;
	pthread_mutex_unlock(&layout_lock);
	if (last)
		layout_free(l);
}

long page_layout_find_group(const struct page_layout *l, const char *name)
{
	size_t lo = 0, hi = l->n_groups;

	if (name != NULL && name[0] == '\0')
		name = NULL;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = group_cmp(l->groups[mid].name, name);

		if (c == 0)
			return (long)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

void page_layout_clear(void)
{
	struct page_layout *old;

	pthread_mutex_lock(&layout_lock);
	old = cached;
	cached = NULL;
	if (old != NULL && --old->refs > 0)
		old = NULL;
	pthread_mutex_unlock(&layout_lock);
	if (old != NULL)
		layout_free(old);
}

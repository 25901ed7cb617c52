/* conf_select.c — whether a rule's or a maintenance window's selector
 * selects any check, in near constant time however many checks and rules
 * there are (checking each selector against every check made 1,000 team
 * rules over 100,000 checks cost seconds).
 *
 * Built once, on the first question, after every check is read: an index of
 * the groups, and the check names sorted, so that a glob with a literal
 * prefix ("payments-*") only looks at the names that start with it. The
 * matching itself stays conf_selector_matches()'s. */
#include <stdlib.h>
#include <string.h>

#include "conf/conf_parse.h"
#include "core/util.h"

struct conf_select {
	struct conf_names *groups;  /* group -> a check that has it */
	const struct check **by_name;   /* every named check, sorted by name */
	size_t n_names;
};

static int cmp_name(const void *a, const void *b)
{
	return strcmp((*(const struct check *const *)a)->name, (*(const struct check *const *)b)->name);
}

static struct conf_select *select_build(const struct conf *conf)
{
	struct conf_select *sel = xcalloc(1, sizeof(*sel));
	size_t first_file;
	int first_line;

	sel->by_name = xcalloc(conf->n_checks + 1, sizeof(*sel->by_name));
	for (size_t i = 0; i < conf->n_checks; i++) {
		const struct check *c = &conf->checks[i];

		if (c->name == NULL)
			continue;
		sel->by_name[sel->n_names++] = c;
		if (c->group != NULL && *c->group != '\0')
			conf_names_add(&sel->groups, c->group, i, 0, 0, &first_file, &first_line);
	}
	qsort(sel->by_name, sel->n_names, sizeof(*sel->by_name), cmp_name);
	return sel;
}

/* The first sorted name not below prefix. */
static size_t lower_bound(const struct conf_select *sel, const char *prefix)
{
	size_t lo = 0, hi = sel->n_names;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(sel->by_name[mid]->name, prefix) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Whether the glob pattern matches a check name: only the names that start
 * with its literal prefix (up to the first special character) can. */
static bool glob_matches_any(const struct conf_select *sel, const char *pattern)
{
	size_t plen = strcspn(pattern, "*?[\\");
	char *prefix = xstrndup(pattern, plen);
	bool found = false;

	for (size_t i = lower_bound(sel, prefix); i < sel->n_names && !found; i++) {
		if (strncmp(sel->by_name[i]->name, prefix, plen) != 0)
			break;
		found = conf_selector_matches(pattern, sel->by_name[i]);
	}
	free(prefix);
	return found;
}

bool conf_selects_any(struct loader *ld, const char *selector)
{
	if (ld->select == NULL)
		ld->select = select_build(ld->conf);
	if (strcmp(selector, "*") == 0)
		return ld->select->n_names > 0;
	if (strncmp(selector, "group:", 6) == 0)
		return conf_names_find(ld->select->groups, selector + 6) >= 0;
	if (strpbrk(selector, "*?[") != NULL)
		return glob_matches_any(ld->select, selector);
	return conf_find_check(ld->conf, selector) != NULL;
}

void conf_select_free(struct conf_select *sel)
{
	if (sel == NULL)
		return;
	conf_names_free(sel->groups);
	free(sel->by_name);
	free(sel);
}

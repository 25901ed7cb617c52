/* selector.c — matching a selector ("payments-*", "group:Payments", "*", an
 * exact name) against a check. It sits with the checks, below alerts/ and
 * conf/, so both layers call it without including each other. */
#include <fnmatch.h>
#include <string.h>

#include "probes/selector.h"

/* "*" and globs by fnmatch(3) on the name (names hold no '/', so no flag
 * matters); "group:NAME" exactly on the group; anything else exactly on the
 * name. */
bool selector_matches(const char *selector, const struct check *c)
{
	if (selector == NULL || c == NULL || c->name == NULL)
		return false;
	if (strncmp(selector, "group:", 6) == 0)
		return c->group != NULL && strcmp(c->group, selector + 6) == 0;
	if (strpbrk(selector, "*?[") != NULL)
		return fnmatch(selector, c->name, 0) == 0;
	return strcmp(selector, c->name) == 0;
}

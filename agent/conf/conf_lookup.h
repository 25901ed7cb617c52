/* conf_lookup.h — a loaded configuration once it is loaded: references,
 * look-ups by name, selectors, and freeing (conf_lookup.c). The section
 * parsers use it while they load; conf.h offers it to the rest of pharos. */
#ifndef PHAROS_CONF_LOOKUP_H
#define PHAROS_CONF_LOOKUP_H

#include <stdbool.h>

#include "conf/conf_types.h"

/* Reference counting: a probe in flight keeps the conf its check belongs to. */
struct conf *conf_ref(struct conf *c);
void conf_unref(struct conf *c);

/* The check / rule / notifier named name, or NULL. */
const struct check *conf_find_check(const struct conf *c, const char *name);
/* The longest one run of any check of c may take: its timeout for every
 * attempt plus the waits between retries (the shutdown deadline). 0 for NULL. */
uint64_t conf_longest_run_ms(const struct conf *c);
const struct alert_rule *conf_find_rule(const struct conf *c, const char *name);
const struct notifier_conf *conf_find_notifier(const struct conf *c, const char *name);

/* True when check c is selected by selector: an exact name, a glob
 * ("payments-*", fnmatch rules), "group:NAME" or "*" (selector_matches,
 * probes/selector.h). */
bool conf_selector_matches(const char *selector, const struct check *c);

/* Frees what an announcement holds and zeroes it. */
void announcement_clear(struct announcement *a);

#endif

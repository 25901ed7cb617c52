/* selector.h — which checks a selector picks: the one rule alert rules,
 * maintenance windows and the config loader's validation all use. */
#ifndef PHAROS_SELECTOR_H
#define PHAROS_SELECTOR_H

#include <stdbool.h>

#include "probes/check.h"

/* True when check c is selected by selector: an exact name, a glob
 * ("payments-*", fnmatch rules), "group:NAME" or "*". False when either is
 * NULL, and for a check without a name (only in a config being rejected). */
bool selector_matches(const char *selector, const struct check *c);

#endif

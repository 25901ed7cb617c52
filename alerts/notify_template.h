/* notify_template.h — a notifier's `template = { title = "..."; body = "..."; }`:
 * text with {{placeholders}} filled in from an alert event, so that any
 * receiver (and any JSON-webhook service) gets the words its users want.
 *
 * Placeholders (SPEC §2.3): {{rule}} {{check}} {{group}} {{severity}}
 * {{state}} ("firing", "resolved", "test") {{value}} {{message}} {{url}}
 * {{location}} {{since}} (RFC 3339) {{duration}} ("1m 5s": how long it has
 * been firing; for a resolved alert, how long it was down). Blanks inside the
 * braces are allowed: {{ rule }}. Anything else between {{ and }} is an
 * error, found when the config is loaded. */
#ifndef PHAROS_NOTIFY_TEMPLATE_H
#define PHAROS_NOTIFY_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>

#include "alerts/alert.h"

#define NOTIFY_TEMPLATE_NAMES \
	"rule, check, group, severity, state, value, message, url, location, since, duration"

/* Checks tmpl: 0 when every {{...}} is a known placeholder; else -1 with a
 * phrase in why ("has the unknown placeholder {{nope}}", "has a {{ without
 * its }}"). */
int notify_template_check(const char *tmpl, char *why, size_t whylen);

/* tmpl with every placeholder replaced by ev's value (valid UTF-8). json:
 * each value is escaped for the inside of a JSON string (by jansson), for a
 * template that is a JSON body. An unknown placeholder is left as it is
 * (notify_template_check refuses them at load). Caller frees. */
char *notify_template_fill(const char *tmpl, const struct alert_event *ev, bool json);

/* An event with every field set to a sample value, for checking what a
 * template makes (a JSON template must still be JSON once filled). Clear it
 * with alert_event_clear. */
void notify_template_sample(struct alert_event *ev);

#endif

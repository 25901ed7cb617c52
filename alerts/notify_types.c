/* notify_types.c — the table of notifier types (one line per type; each type
 * lives in its notify_<name>.c) and the look-ups by name. The types build on
 * notify.c (settings, request helpers); only this table names them. */
#include "alerts/notify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

extern const struct notifier_type notifier_slack, notifier_pagerduty, notifier_webhook,
	notifier_alertmanager, notifier_teams, notifier_discord, notifier_opsgenie, notifier_ntfy,
	notifier_email;

const struct notifier_type *const notifier_types[] = {
	&notifier_slack,
	&notifier_pagerduty,
	&notifier_webhook,
	&notifier_alertmanager,
	&notifier_teams,
	&notifier_discord,
	&notifier_opsgenie,
	&notifier_ntfy,
	&notifier_email,
	NULL
};

const struct notifier_type *notifier_type_find(const char *name)
{
	for (size_t i = 0; name != NULL && notifier_types[i] != NULL; i++)
		if (strcmp(notifier_types[i]->name, name) == 0)
			return notifier_types[i];
	return NULL;
}

char *notifier_type_names(void)
{
	char *names = xstrdup("");

	for (size_t i = 0; notifier_types[i] != NULL; i++) {
		char *next = xasprintf("%s%s%s", names, i > 0 ? ", " : "", notifier_types[i]->name);

		free(names);
		names = next;
	}
	return names;
}

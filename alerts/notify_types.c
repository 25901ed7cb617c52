/* notify_types.c — the table of notifier types (one line per type; each type
 * lives in its notify_<name>.c) and the configured notifier's settings,
 * stored by the type's settings table. */
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

size_t notifier_type_n_settings(const struct notifier_type *t)
{
	size_t n = 0;

	while (t != NULL && t->settings != NULL && t->settings[n].name != NULL)
		n++;
	return n;
}

int notifier_type_setting_index(const struct notifier_type *t, const char *name)
{
	size_t n = notifier_type_n_settings(t);

	for (size_t i = 0; name != NULL && i < n; i++)
		if (strcmp(t->settings[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* Wipes a value that may be a credential, then frees it. */
static void free_value(char *v)
{
	if (v == NULL)
		return;
	explicit_bzero(v, strlen(v));
	free(v);
}

void notifier_conf_clear(struct notifier_conf *n)
{
	if (n == NULL)
		return;
	free(n->name);
	if (n->values != NULL)
		for (size_t i = 0; i < notifier_type_n_settings(n->type); i++)
			free_value(n->values[i]);
	free(n->values);
	free(n->template_title);
	free(n->template_body);
	memset(n, 0, sizeof(*n));
}

void notifier_conf_copy(struct notifier_conf *dst, const struct notifier_conf *src)
{
	size_t count = notifier_type_n_settings(src->type);

	*dst = *src;
	dst->name = src->name != NULL ? xstrdup(src->name) : NULL;
	dst->values = NULL;
	dst->template_title = xstrdup(src->template_title);
	dst->template_body = xstrdup(src->template_body);
	if (src->values == NULL)
		return;
	dst->values = xcalloc(count + 1, sizeof(*dst->values));
	for (size_t i = 0; i < count; i++)
		dst->values[i] = src->values[i] != NULL ? xstrdup(src->values[i]) : NULL;
}

const char *notifier_get(const struct notifier_conf *n, const char *name)
{
	int i;

	if (n == NULL || n->type == NULL)
		return NULL;
	i = notifier_type_setting_index(n->type, name);
	if (i >= 0 && n->values != NULL && n->values[i] != NULL)
		return n->values[i];
	if (strcmp(name, "url") == 0)
		return n->type->default_url;
	return NULL;
}

int notifier_set(struct notifier_conf *n, const char *name, const char *value)
{
	int i = n != NULL ? notifier_type_setting_index(n->type, name) : -1;

	if (i < 0)
		return -1;
	if (n->values == NULL)
		n->values = xcalloc(notifier_type_n_settings(n->type) + 1, sizeof(*n->values));
	free_value(n->values[i]);
	n->values[i] = value != NULL ? xstrdup(value) : NULL;
	return 0;
}

/* conf_lookup.c — a loaded configuration: references (the loop and the HTTP
 * threads share it), look-ups by name in constant time (conf_names.c), and
 * freeing it with everything it holds. Below the loader: the section
 * parsers look names up here while they read. */
#include <stdlib.h>
#include <string.h>

#include "conf/conf_lookup.h"
#include "conf/conf_names.h"
#include "probes/selector.h"

void announcement_clear(struct announcement *a)
{
	free(a->title);
	free(a->body);
	free(a->severity);
	for (size_t i = 0; i < a->n_selectors; i++)
		free(a->selectors[i]);
	free(a->selectors);
	memset(a, 0, sizeof(*a));
}

static void conf_free(struct conf *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->n_checks; i++)
		check_clear(&c->checks[i]);
	free(c->checks);
	for (size_t i = 0; i < c->n_rules; i++)
		alert_rule_clear(&c->rules[i]);
	free(c->rules);
	for (size_t i = 0; i < c->n_notifiers; i++)
		notifier_conf_clear(&c->notifiers[i]);
	free(c->notifiers);
	for (size_t i = 0; i < c->n_maintenance; i++)
		maintenance_window_clear(&c->maintenance[i]);
	free(c->maintenance);
	for (size_t i = 0; i < c->n_announcements; i++)
		announcement_clear(&c->announcements[i]);
	free(c->announcements);
	conf_names_free(c->check_names);
	conf_names_free(c->rule_names);
	conf_names_free(c->notifier_names);
	free(c->agent.listen);
	free(c->agent.database);
	free(c->agent.public_url);
	free(c->agent.admin_token);
	free(c->agent.title);
	free(c->agent.location);
	free(c->agent.source_address);
	free(c->agent.tls_cert);
	free(c->agent.tls_key);
	free(c->agent.health_listen);
	for (size_t i = 0; i < c->n_included; i++)
		free(c->included[i]);
	free(c->included);
	free(c->path);
	free(c);
}

/* Atomic: the loop thread and the HTTP threads take and drop references. */
struct conf *conf_ref(struct conf *c)
{
	if (c != NULL)
		__atomic_add_fetch(&c->refs, 1, __ATOMIC_ACQ_REL);
	return c;
}

void conf_unref(struct conf *c)
{
	if (c != NULL && __atomic_sub_fetch(&c->refs, 1, __ATOMIC_ACQ_REL) == 0)
		conf_free(c);
}

/* The position of name by the index idx, or -1. A conf built by hand (tests)
 * has no index: *known is false and the caller walks the array. */
static long indexed(const struct conf_names *idx, const char *name, bool *known)
{
	*known = idx != NULL;
	return *known ? conf_names_find(idx, name) : -1;
}

/* Constant time in a loaded conf (its names are indexed). */
const struct check *conf_find_check(const struct conf *c, const char *name)
{
	bool known;
	long pos;

	if (c == NULL || name == NULL)
		return NULL;
	pos = indexed(c->check_names, name, &known);
	if (known)
		return pos >= 0 ? &c->checks[pos] : NULL;
	for (size_t i = 0; i < c->n_checks; i++)
		if (c->checks[i].name != NULL && strcmp(c->checks[i].name, name) == 0)
			return &c->checks[i];
	return NULL;
}

const struct alert_rule *conf_find_rule(const struct conf *c, const char *name)
{
	bool known;
	long pos;

	if (c == NULL || name == NULL)
		return NULL;
	pos = indexed(c->rule_names, name, &known);
	if (known)
		return pos >= 0 ? &c->rules[pos] : NULL;
	for (size_t i = 0; i < c->n_rules; i++)
		if (c->rules[i].name != NULL && strcmp(c->rules[i].name, name) == 0)
			return &c->rules[i];
	return NULL;
}

const struct notifier_conf *conf_find_notifier(const struct conf *c, const char *name)
{
	bool known;
	long pos;

	if (c == NULL || name == NULL)
		return NULL;
	pos = indexed(c->notifier_names, name, &known);
	if (known)
		return pos >= 0 ? &c->notifiers[pos] : NULL;
	for (size_t i = 0; i < c->n_notifiers; i++)
		if (c->notifiers[i].name != NULL && strcmp(c->notifiers[i].name, name) == 0)
			return &c->notifiers[i];
	return NULL;
}

/* Kept for the loader's callers and tests: the rule itself is probes/selector.c. */
bool conf_selector_matches(const char *selector, const struct check *c)
{
	return selector_matches(selector, c);
}

uint64_t conf_longest_run_ms(const struct conf *c)
{
	uint64_t max = 0;

	for (size_t i = 0; c != NULL && i < c->n_checks; i++) {
		const struct check *k = &c->checks[i];
		uint64_t t = k->timeout_ms * (uint64_t)(k->retries + 1) +
		             k->retry_interval_ms * (uint64_t)k->retries;

		if (t > max)
			max = t;
	}
	return max;
}

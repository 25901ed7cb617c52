/* types.c — the ONE table of check types (one entry per line of
 * PROBE_TYPE_LIST), the settings every check has, and what is done to a
 * check through the table: its defaults and release (check_init and
 * check_clear run every type's init and free), its reload fingerprint and
 * its target. */
#include <stdlib.h>
#include <string.h>

#include "probes/probe_type.h"
#include "core/util.h"

#define PROBE_TYPE_ENTRY(upper, lower) [CHECK_##upper] = &probe_type_##lower,
static const struct probe_type *const probe_types[CHECK_TYPE_COUNT] = {
	PROBE_TYPE_LIST(PROBE_TYPE_ENTRY)
};
#undef PROBE_TYPE_ENTRY

/* locations: the mode, then the names in their order. */
static uint64_t hash_locations(uint64_t h, const void *base)
{
	const struct check *c = base;

	h = probe_hash_u64(h, (uint64_t)c->locations_mode);
	h = probe_hash_u64(h, c->n_locations);
	for (size_t i = 0; i < c->n_locations; i++)
		h = probe_hash_str(h, c->locations[i]);
	return h;
}

/* The name and the type are read by the loader itself (every message needs
 * them first); the group only places the check on the page, so moving a check
 * keeps its schedule (PROBE_NO_RELOAD). */
const struct probe_setting probe_check_settings[] = {
	{ .name = "name", .kind = PROBE_KIND_SKIP, .store = PROBE_STORE_STR, .off = offsetof(struct check, name),
	  .flags = PROBE_REQUIRED, .doc = "unique name of the check: 1 to 64 characters from A-Z a-z 0-9 _ . -" },
	{ .name = "type", .kind = PROBE_KIND_SKIP, .store = PROBE_STORE_INT, .off = offsetof(struct check, type),
	  .flags = PROBE_REQUIRED, .doc = "what is probed: http, tcp, dns, tls, icmp or heartbeat" },
	{ .name = "group", .kind = PROBE_KIND_STRING, .store = PROBE_STORE_STR, .off = offsetof(struct check, group),
	  .flags = PROBE_NO_RELOAD, .doc = "the status page section the check is shown in" },
	PROBE_SET_DURATION("interval", struct check, interval_ms, 1, "time between runs (default: defaults.interval)"),
	PROBE_SET_DURATION("timeout", struct check, timeout_ms, 1, "longest a run may take (default: defaults.timeout)"),
	PROBE_SET_INT("retries", struct check, retries, 0, 10, "extra attempts before a run counts as failed, 0-10 (default 0)"),
	PROBE_SET_DURATION("retry_interval", struct check, retry_interval_ms, 0, "pause between attempts (default 1s)"),
	{ .name = "expect", .kind = PROBE_KIND_CUSTOM, .store = PROBE_STORE_NONE, .parser = "expect",
	  .doc = "assertions, a group whose settings depend on the type" },
	{ .name = "depends_on", .kind = PROBE_KIND_CUSTOM, .store = PROBE_STORE_STRV, .parser = "depends_on",
	  .off = offsetof(struct check, depends_on), .off2 = offsetof(struct check, n_depends_on),
	  .doc = "checks this one depends on: while one is down, this one is blocked, not down" },
	PROBE_SET_CUSTOM_FN("locations", "locations", hash_locations,
	                    "where it runs in a fleet: \"*\" (every agent, default), a list of locations, or \"any\""),
	PROBE_SET_END
};

const struct probe_type *probe_type_get(enum check_type t)
{
	if ((int)t < 0 || t >= CHECK_TYPE_COUNT)
		return NULL;
	return probe_types[t];
}

const struct probe_type *probe_type_of(const struct check *c)
{
	return probe_type_get(c->type);
}

int probe_type_find(const char *name)
{
	for (int t = 0; name != NULL && t < CHECK_TYPE_COUNT; t++)
		if (strcmp(probe_types[t]->name, name) == 0)
			return t;
	return -1;
}

bool probe_type_passive(const struct check *c)
{
	const struct probe_type *pt = probe_type_of(c);

	return pt != NULL && pt->start == NULL;
}

/* "http", "tcp", ...; "unknown" for anything else (never NULL). */
const char *check_type_name(enum check_type t)
{
	const struct probe_type *pt = probe_type_get(t);

	return pt ? pt->name : "unknown";
}

const struct probe_setting *probe_setting_find(const struct probe_setting *table, const char *name)
{
	for (; table != NULL && table->name != NULL; table++)
		if (strcmp(table->name, name) == 0)
			return table;
	return NULL;
}

/* --- a check's settings, whatever its type ---------------------------------- */

/* Every pointer NULL, every count 0, every int assertion -1 ("not
 * asserted"). The common settings get the SPEC's defaults (interval 30s,
 * timeout 10s, retry_interval 1s) and each type's init sets its own (http
 * max_redirects 5 and max_body 1 MiB, dns record A, tls port 443, icmp
 * count 3 every 200ms, heartbeat grace 1m), so a check built by hand in a
 * test behaves like one loaded from a config. */
void check_init(struct check *c)
{
	memset(c, 0, sizeof(*c));
	c->type = CHECK_HTTP;
	c->interval_ms = 30000;
	c->timeout_ms = 10000;
	c->retries = 0;
	c->retry_interval_ms = 1000;
	c->expect.cert_min_days = -1;
	c->expect.rcode = -1;
	c->expect.min_answers = -1;
	c->expect.max_loss_pct = -1;
	for (int t = 0; t < CHECK_TYPE_COUNT; t++) {
		const struct probe_type *pt = probe_type_get((enum check_type)t);

		if (pt->init != NULL)
			pt->init(c);
	}
}

/* Frees everything c owns and leaves it as check_init() would (so clearing
 * twice is harmless). c->file is borrowed from the conf and not freed. Every
 * type's free runs: each frees only its own settings, which are NULL in a
 * check of another type. */
void check_clear(struct check *c)
{
	free(c->name);
	free(c->group);
	free(c->target);
	for (int t = 0; t < CHECK_TYPE_COUNT; t++) {
		const struct probe_type *pt = probe_type_get((enum check_type)t);

		if (pt->free != NULL)
			pt->free(c);
	}
	check_strv_free(c->depends_on, c->n_depends_on);
	check_strv_free(c->locations, c->n_locations);
	check_expect_clear(&c->expect);
	check_init(c);
}

/* --- the fingerprint and the target ---------------------------------------- */

/* Every setting that changes what or how the check probes, and what it
 * depends on: all three tables walked, so a setting added to a table is in
 * the fingerprint without anyone listing it here. */
uint64_t probe_check_fingerprint(const struct check *c)
{
	const struct probe_type *pt = probe_type_of(c);
	uint64_t h = UTIL_HASH64_INIT;

	h = probe_hash_table(h, probe_check_settings, c);
	if (pt == NULL)
		return h;
	h = probe_hash_table(h, pt->settings, c);
	return probe_hash_table(h, pt->expect, &c->expect);
}

char *probe_check_target(const struct check *c)
{
	const struct probe_type *pt = probe_type_of(c);

	if (pt == NULL || pt->target == NULL)
		return xstrdup("");
	return pt->target(c);
}

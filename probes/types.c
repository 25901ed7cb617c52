/* types.c — the ONE table of check types (one entry per line of
 * PROBE_TYPE_LIST), the settings every check has, and what is computed from
 * the tables alone: the reload fingerprint and the target. */
#include <string.h>

#include "probes/probe_type.h"
#include "core/util.h"

#define PROBE_TYPE_ENTRY(upper, lower) [CHECK_##upper] = &probe_type_##lower,
static const struct probe_type *const probe_types[CHECK_TYPE_COUNT] = {
	PROBE_TYPE_LIST(PROBE_TYPE_ENTRY)
};
#undef PROBE_TYPE_ENTRY

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

/* --- the fingerprint ------------------------------------------------------ */

uint64_t probe_hash_bytes(uint64_t h, const void *p, size_t n)
{
	uint64_t len = n;

	/* Length first: ("ab","c") and ("a","bc") must differ. */
	h = util_hash64_update(h, &len, sizeof(len));
	return util_hash64_update(h, p, n);
}

uint64_t probe_hash_str(uint64_t h, const char *s)
{
	if (s == NULL)
		return probe_hash_bytes(h, "\xff", 1);   /* NULL differs from "" */
	return probe_hash_bytes(h, s, strlen(s));
}

uint64_t probe_hash_u64(uint64_t h, uint64_t v)
{
	return probe_hash_bytes(h, &v, sizeof(v));
}

/* Adds one setting's stored value; its name goes first so that two settings
 * swapping values still change the hash. */
static uint64_t hash_setting(uint64_t h, const struct probe_setting *s, const void *base)
{
	const char *p = (const char *)base + s->off;

	if (s->flags & PROBE_NO_RELOAD)
		return h;
	h = probe_hash_str(h, s->name);
	switch (s->store) {
	case PROBE_STORE_NONE:
		return h;
	case PROBE_STORE_STR:
		return probe_hash_str(h, *(char *const *)p);
	case PROBE_STORE_INT:
		return probe_hash_u64(h, (uint64_t)(int64_t)*(const int *)p);
	case PROBE_STORE_BOOL:
		return probe_hash_u64(h, *(const bool *)p);
	case PROBE_STORE_U64:
		return probe_hash_u64(h, *(const uint64_t *)p);
	case PROBE_STORE_SIZE:
		return probe_hash_u64(h, *(const size_t *)p);
	case PROBE_STORE_DOUBLE:
		/* The bits: -1 (not asserted) and every value differ. */
		return probe_hash_bytes(h, p, sizeof(double));
	case PROBE_STORE_STRV: {
		char *const *v = *(char **const *)p;
		size_t n = *(const size_t *)((const char *)base + s->off2);

		h = probe_hash_u64(h, n);
		for (size_t i = 0; i < n; i++)
			h = probe_hash_str(h, v[i]);
		return h;
	}
	case PROBE_STORE_FN:
		return s->hash(h, base);
	}
	return h;
}

uint64_t probe_hash_table(uint64_t h, const struct probe_setting *table, const void *base)
{
	for (; table != NULL && table->name != NULL; table++)
		h = hash_setting(h, table, base);
	return h;
}

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

/* probe_hash.c — the reload fingerprint's hashing: values, and one settings
 * table walked over the struct its offsets are in (see probe_type.h). Knows
 * no type: the types' own hash functions call it, and types.c walks the
 * tables of a check with it. */
#include <string.h>

#include "probes/probe_type.h"
#include "core/util.h"

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

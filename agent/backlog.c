/* backlog.c — the bound on results a probe thread handed to the main loop
 * and the main loop did not take yet. See backlog.h for why and for the
 * order of the atomic steps. */
#include "backlog.h"

#define LOAD(p) __atomic_load_n((p), __ATOMIC_SEQ_CST)
#define STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_SEQ_CST)

void backlog_init(struct backlog *b, size_t max_results, size_t max_bytes)
{
	*b = (struct backlog){ .max_results = max_results, .max_bytes = max_bytes };
}

static bool at_bound(const struct backlog *b)
{
	return LOAD(&b->results) >= b->max_results || LOAD(&b->bytes) >= b->max_bytes;
}

static bool below_half(const struct backlog *b)
{
	return LOAD(&b->results) <= b->max_results / 2 && LOAD(&b->bytes) <= b->max_bytes / 2;
}

bool backlog_add(struct backlog *b, size_t bytes)
{
	__atomic_add_fetch(&b->results, 1, __ATOMIC_SEQ_CST);
	__atomic_add_fetch(&b->bytes, bytes, __ATOMIC_SEQ_CST);
	if (LOAD(&b->held) || !at_bound(b))
		return false;
	STORE(&b->held, true);
	return true;
}

bool backlog_take(struct backlog *b, size_t bytes)
{
	bool asked = false;

	__atomic_sub_fetch(&b->results, 1, __ATOMIC_SEQ_CST);
	__atomic_sub_fetch(&b->bytes, bytes, __ATOMIC_SEQ_CST);
	if (!LOAD(&b->held) || !below_half(b))
		return false;
	return __atomic_compare_exchange_n(&b->release_asked, &asked, true, false,
	                                   __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}

bool backlog_release_due(struct backlog *b)
{
	/* Cleared before the level is read: a take that found it still set
	 * came before, and its level is seen here. */
	STORE(&b->release_asked, false);
	if (!LOAD(&b->held) || !below_half(b))
		return false;
	STORE(&b->held, false);
	return true;
}

size_t backlog_results(const struct backlog *b)
{
	return LOAD(&b->results);
}

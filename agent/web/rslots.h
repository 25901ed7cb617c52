/* rslots.h — a small table of render caches (rcache.h), one per variant of
 * an answer: the check pages by (check, range), the status page's numbered
 * pages by (page, group), the API's windows by their query. The most
 * recently asked variants keep their render; memory stays bounded by the
 * number of slots whatever the number of variants asked.
 *
 * A slot in use (taken and not put back yet) is never reassigned; when every
 * slot is in use, or the key is longer than a slot holds, the caller gets a
 * slot of its own that is not shared and is freed when put back. */
#ifndef PHAROS_RSLOTS_H
#define PHAROS_RSLOTS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "web/rcache.h"

#define RSLOTS_N       16           /* variants kept per table */
#define RSLOT_KEY_MAX  192          /* longer keys are never shared */

struct rslot {
	char key[RSLOT_KEY_MAX + 1];    /* "" when the slot was never used */
	int users;                      /* under the table's lock */
	uint64_t used_us;
	bool own;                       /* not in the table: freed by rslots_put */
	struct rcache cache;
};

/* Static storage, initialised with RSLOTS_INIT (RSLOTS_N variants kept) or
 * RSLOTS_INIT_N(n) (n of them, 1..RSLOTS_N: for answers that can be big). */
struct rslots {
	pthread_mutex_t lock;
	size_t n;                       /* slots in use; 0: RSLOTS_N */
	struct rslot slot[RSLOTS_N];
};
#define RSLOTS_INIT { .lock = PTHREAD_MUTEX_INITIALIZER }
#define RSLOTS_INIT_N(k) { .lock = PTHREAD_MUTEX_INITIALIZER, .n = (k) }

/* The slot of key (taken: rslots_put it), reusing the least recently used
 * free slot, whose render is dropped, when key has none. Never NULL. */
struct rslot *rslots_get(struct rslots *t, const char *key);

/* Puts back a slot of rslots_get. */
void rslots_put(struct rslots *t, struct rslot *s);

/* Drops the renders of every slot not in use. */
void rslots_clear(struct rslots *t);

#endif

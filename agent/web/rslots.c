/* rslots.c — render caches per variant of an answer (rslots.h). */
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "web/rslots.h"

/* The number of slots t keeps. */
static size_t slots_of(const struct rslots *t)
{
	return t->n > 0 && t->n < RSLOTS_N ? t->n : RSLOTS_N;
}

/* A slot outside the table, for one request. */
static struct rslot *own_slot(void)
{
	struct rslot *s = xcalloc(1, sizeof(*s));

	s->own = true;
	pthread_mutex_init(&s->cache.lock, NULL);
	return s;
}

struct rslot *rslots_get(struct rslots *t, const char *key)
{
	struct rslot *s = NULL, *victim = NULL;

	if (strlen(key) > RSLOT_KEY_MAX) {
		s = own_slot();
		s->users = 1;
		return s;
	}
	pthread_mutex_lock(&t->lock);
	for (size_t i = 0; i < slots_of(t) && s == NULL; i++) {
		struct rslot *c = &t->slot[i];

		if (c->used_us != 0 && strcmp(c->key, key) == 0)
			s = c;
		else if (c->users == 0 && (victim == NULL || c->used_us < victim->used_us))
			victim = c;
	}
	if (s == NULL && victim != NULL) {
		s = victim;
		if (s->used_us == 0)
			pthread_mutex_init(&s->cache.lock, NULL);
		rcache_clear(&s->cache);
		util_strlcpy(s->key, key, sizeof(s->key));
	}
	if (s == NULL)
		s = own_slot();
	s->users++;
	s->used_us = util_mono_us();
	if (s->used_us == 0)
		s->used_us = 1;         /* 0 marks a slot never used */
	pthread_mutex_unlock(&t->lock);
	return s;
}

void rslots_put(struct rslots *t, struct rslot *s)
{
	if (s->own) {
		rcache_clear(&s->cache);
		pthread_mutex_destroy(&s->cache.lock);
		free(s);
		return;
	}
	pthread_mutex_lock(&t->lock);
	s->users--;
	pthread_mutex_unlock(&t->lock);
}

void rslots_clear(struct rslots *t)
{
	pthread_mutex_lock(&t->lock);
	for (size_t i = 0; i < slots_of(t); i++)
		if (t->slot[i].used_us != 0 && t->slot[i].users == 0)
			rcache_clear(&t->slot[i].cache);
	pthread_mutex_unlock(&t->lock);
}

/* conf_names.c — an index from the names of checks, rules and notifiers to
 * their positions, so that finding duplicates, resolving depends_on and
 * selectors, and looking a check up by name take constant time however many
 * checks there are (a 100,000-check config was quadratic before).
 *
 * Open addressing with linear probing over a power-of-two table kept at most
 * half full; names are borrowed from the conf (they live as long as it). */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf_names.h"
#include "core/util.h"

#define NAME_MAX_LEN 64         /* of checks, rules, notifiers, variables */

bool conf_valid_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > NAME_MAX_LEN)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '.' && *s != '-')
			return false;
	return true;
}

/* 24 bytes: a loaded conf keeps its index (100,000 checks: 6 MiB). */
struct name_slot {
	const char *name;           /* NULL: empty */
	uint32_t pos;               /* sections hold at most INT_MAX entries */
	uint32_t file;              /* where it is defined: the file's order, and line */
	int line;
};

struct conf_names {
	struct name_slot *slots;
	size_t cap;                 /* a power of two */
	size_t n;
};

/* FNV-1a's low bits depend only on the low bits of each step: fold the
 * high ones in before masking (murmur3's finaliser). */
static size_t hash(const char *name)
{
	uint64_t h = util_hash64(name);

	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return (size_t)h;
}

static size_t slot_of(const struct conf_names *idx, const char *name)
{
	size_t i = hash(name) & (idx->cap - 1);

	while (idx->slots[i].name != NULL && strcmp(idx->slots[i].name, name) != 0)
		i = (i + 1) & (idx->cap - 1);
	return i;
}

/* Doubles the table (or makes the first one) and puts every name back. */
static void grow(struct conf_names *idx)
{
	struct conf_names bigger = { NULL, idx->cap ? idx->cap * 2 : 64, idx->n };

	bigger.slots = xcalloc(bigger.cap, sizeof(*bigger.slots));
	for (size_t i = 0; i < idx->cap; i++)
		if (idx->slots[i].name != NULL)
			bigger.slots[slot_of(&bigger, idx->slots[i].name)] = idx->slots[i];
	free(idx->slots);
	*idx = bigger;
}

bool conf_names_add(struct conf_names **idx, const char *name, size_t pos, size_t file, int line,
                    size_t *first_file, int *first_line)
{
	struct name_slot *slot;

	if (*idx == NULL)
		*idx = xcalloc(1, sizeof(**idx));
	if (((*idx)->n + 1) * 2 > (*idx)->cap)
		grow(*idx);
	slot = &(*idx)->slots[slot_of(*idx, name)];
	if (slot->name != NULL) {
		*first_file = slot->file;
		*first_line = slot->line;
		return false;
	}
	slot->name = name;
	slot->pos = (uint32_t)pos;
	slot->file = (uint32_t)file;
	slot->line = line;
	(*idx)->n++;
	return true;
}

long conf_names_find(const struct conf_names *idx, const char *name)
{
	const struct name_slot *slot;

	if (idx == NULL || idx->n == 0 || name == NULL)
		return -1;
	slot = &idx->slots[slot_of(idx, name)];
	return slot->name != NULL ? (long)slot->pos : -1;
}

void conf_names_free(struct conf_names *idx)
{
	if (idx == NULL)
		return;
	free(idx->slots);
	free(idx);
}

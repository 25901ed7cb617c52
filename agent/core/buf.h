/* buf.h — one growable byte buffer, with an optional size ceiling.
 *
 * Every piece of pharos that builds text of unknown length (JSON dumps, log
 * lines, metrics, substituted config values, request bodies) appends to a
 * struct buf. The contents are always NUL-terminated once anything was added.
 * With a ceiling (max > 0), an append that would pass it adds nothing and sets
 * `over`: the caller decides whether that is an error or a cut. */
#ifndef PHAROS_BUF_H
#define PHAROS_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

struct buf {
	char *p;        /* NULL until the first append */
	size_t len;     /* bytes in p, not counting the NUL */
	size_t cap;     /* bytes allocated */
	size_t max;     /* ceiling on len; 0: none */
	bool over;      /* an append was refused for the ceiling */
};

#define BUF_INIT { NULL, 0, 0, 0, false }
#define BUF_MAX(n) { NULL, 0, 0, (n), false }

/* Grows b to hold n more bytes plus a NUL (out of line: the appends below
 * stay small enough to inline in hot loops). */
void buf_grow(struct buf *b, size_t n);

/* Whether n more bytes fit under the ceiling; sets b->over when not. */
static inline bool buf_fits(struct buf *b, size_t n)
{
	if (b->max && b->len + n > b->max) {
		b->over = true;
		return false;
	}
	return true;
}

/* Appends n bytes of s. Returns 0, or -1 (nothing added) past the ceiling. */
static inline int buf_add(struct buf *b, const char *s, size_t n)
{
	if (!buf_fits(b, n))
		return -1;
	if (b->len + n + 1 > b->cap)
		buf_grow(b, n);
	if (n)
		memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

static inline int buf_adds(struct buf *b, const char *s)
{
	return buf_add(b, s, strlen(s));
}

static inline int buf_addc(struct buf *b, char c)
{
	return buf_add(b, &c, 1);
}

/* printf-style append. Returns 0, or -1 past the ceiling (nothing added). */
int buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Callback for jansson's json_dump_callback: appends to the struct buf. */
int buf_json_dump(const char *s, size_t n, void *b);

/* Hands the contents (never NULL: "" when empty) to the caller, who frees
 * them; b is empty again afterwards. *len (if not NULL) gets the length. */
char *buf_steal(struct buf *b, size_t *len);

/* Empties b, keeping its memory and ceiling. */
static inline void buf_reset(struct buf *b)
{
	b->len = 0;
	b->over = false;
	if (b->p)
		b->p[0] = '\0';
}

void buf_free(struct buf *b);

#endif

/* rbody.h — an immutable HTTP answer body shared by reference (the render
 * cache, rcache.h, and the streamed renders, rsink.h, hand these to
 * libmicrohttpd without a copy), and gzip of a whole body. */
#ifndef PHAROS_RBODY_H
#define PHAROS_RBODY_H

#include <stddef.h>

#define RBODY_GZIP_LEVEL 1          /* zlib level: ~20x on the pages, fast */

/* An immutable body shared by reference. data is NUL-terminated. */
struct rbody {
	int refs;                   /* atomic */
	size_t len;
	char *data;
	size_t plain_len;           /* a gzip body: the length of its inflated text */
};

/* A new body owning data (malloc'ed, len bytes plus a NUL), one reference. */
struct rbody *rbody_new(char *data, size_t len);
/* Another reference to b (b not NULL). */
struct rbody *rbody_ref(struct rbody *b);
/* Drops a reference; the last one frees. NULL is ignored. */
void rbody_unref(struct rbody *b);
/* rbody_unref for libmicrohttpd (MHD_ContentReaderFreeCallback): b is a
 * struct rbody. */
void rbody_unref_cb(void *b);
/* len bytes of data gzipped (RBODY_GZIP_LEVEL) as a new body, or NULL on failure. */
struct rbody *rbody_gzip(const char *data, size_t len);

#endif

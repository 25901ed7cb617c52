/* rbody.c — bodies shared by reference and gzip of a whole body (see
 * rbody.h). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "core/util.h"
#include "web/rbody.h"

/* See rbody.h. */
struct rbody *rbody_new(char *data, size_t len)
{
	struct rbody *b = xmalloc(sizeof(*b));

	b->refs = 1;
	b->len = len;
	b->data = data;
	b->plain_len = 0;
	return b;
}

struct rbody *rbody_ref(struct rbody *b)
{
	__atomic_add_fetch(&b->refs, 1, __ATOMIC_RELAXED);
	return b;
}

void rbody_unref(struct rbody *b)
{
	if (b == NULL || __atomic_sub_fetch(&b->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	free(b->data);
	free(b);
}

void rbody_unref_cb(void *b)
{
	rbody_unref(b);
}

/* One deflate pass into a buffer of deflateBound() bytes: the whole body is
 * in memory anyway, and the bound is at most a few bytes per 16 KiB more than
 * the input, so there is no output loop. Format: gzip (windowBits 15 + 16). */
struct rbody *rbody_gzip(const char *data, size_t len)
{
	z_stream z;
	struct rbody *out = NULL;
	unsigned char *buf = NULL;
	uLong cap;

	if (len > 0xffffffffu)      /* zlib counts in uInt */
		return NULL;
	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, RBODY_GZIP_LEVEL, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return NULL;
	cap = deflateBound(&z, (uLong)len) + 32;   /* + the gzip header and trailer */
	buf = xmalloc(cap + 1);
	z.next_in = (Bytef *)(uintptr_t)data;
	z.avail_in = (uInt)len;
	z.next_out = buf;
	z.avail_out = (uInt)cap;
	if (deflate(&z, Z_FINISH) != Z_STREAM_END)
		goto out;
	buf[z.total_out] = '\0';
	out = rbody_new((char *)buf, z.total_out);
	out->plain_len = len;
	buf = NULL;
out:
	deflateEnd(&z);
	free(buf);
	return out;
}


/* rsink.c — renders compressed as they are written, and gzip bodies inflated
 * as they are sent (see rsink.h). zlib does both; the gzip stream a sink
 * writes is the same format rbody_gzip writes (level RBODY_GZIP_LEVEL). */
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>
#include <zlib.h>

#include "core/util.h"
#include "web/rbody.h"
#include "web/rsink.h"

#define GZ_ROOM (64u * 1024)        /* output room made before each deflate call */

/* --- rendering ----------------------------------------------------------------- */

/* The ceiling left for the pending text: what max allows after the part
 * already compressed (buf's own ceiling then sets b.over as before). */
static void set_room(struct rsink *s)
{
	if (s->max == 0)
		return;
	s->b.max = s->max > s->flushed ? s->max - s->flushed : 1;
}

void rsink_init(struct rsink *s, size_t max)
{
	memset(s, 0, sizeof(*s));
	s->max = max;
	set_room(s);
}

/* Feeds n bytes of in to the deflate stream with flush mode mode (Z_NO_FLUSH
 * or Z_FINISH), appending the output to s->gz. */
static int deflate_into(struct rsink *s, const char *in, size_t n, int mode)
{
	z_stream *z = s->z;
	int rc;

	z->next_in = (Bytef *)(uintptr_t)in;
	z->avail_in = (uInt)n;
	do {
		if (s->gz.cap - s->gz.len < GZ_ROOM + 1)
			buf_grow(&s->gz, GZ_ROOM);
		z->next_out = (Bytef *)s->gz.p + s->gz.len;
		z->avail_out = GZ_ROOM;
		rc = deflate(z, mode);
		if (rc == Z_STREAM_ERROR)
			return -1;
		s->gz.len += GZ_ROOM - z->avail_out;
		s->gz.p[s->gz.len] = '\0';
	} while (z->avail_in > 0 || (mode == Z_FINISH && rc != Z_STREAM_END));
	return 0;
}

/* Compresses what b holds (s->b or a renderer's own buffer) and empties it. */
static void compress_pending(struct rsink *s, struct buf *b)
{
	if (s->z == NULL) {
		s->z = xcalloc(1, sizeof(z_stream));
		if (deflateInit2(s->z, RBODY_GZIP_LEVEL, Z_DEFLATED, 15 + 16, 8,
		                 Z_DEFAULT_STRATEGY) != Z_OK) {
			free(s->z);
			s->z = NULL;
			s->failed = true;
			return;
		}
	}
	if (deflate_into(s, b->p, b->len, Z_NO_FLUSH) != 0)
		s->failed = true;
	s->flushed += b->len;
	buf_reset(b);
	set_room(s);
}

/* See rsink.h. */
void rsink_flush(struct rsink *s)
{
	if (s->b.len < RSINK_CHUNK || s->failed || s->b.over)
		return;
	compress_pending(s, &s->b);
}

void rsink_flush_buf(struct rsink *s, struct buf *b)
{
	if (b->len < RSINK_CHUNK || s->failed)
		return;
	compress_pending(s, b);
}

void rsink_adopt(struct rsink *s, struct buf *b)
{
	buf_free(&s->b);
	s->b = *b;
	*b = (struct buf)BUF_INIT;
}

bool rsink_failed(const struct rsink *s)
{
	return s->failed || s->b.over;
}

struct rbody *rsink_finish_gzip(struct rsink *s)
{
	struct rbody *body = NULL;
	size_t plain = s->flushed + s->b.len, len;
	char *data;

	if (!s->failed && s->z != NULL &&
	    deflate_into(s, s->b.p ? s->b.p : "", s->b.len, Z_FINISH) == 0) {
		data = buf_steal(&s->gz, &len);
		data = xrealloc(data, len + 1);     /* give back the growth slack */
		body = rbody_new(data, len);
		body->plain_len = plain;
	}
	rsink_free(s);
	return body;
}

void rsink_free(struct rsink *s)
{
	if (s->z != NULL) {
		deflateEnd(s->z);
		free(s->z);
		s->z = NULL;
	}
	buf_free(&s->b);
	buf_free(&s->gz);
}

/* --- serving inflated ---------------------------------------------------------- */

/* One plain answer being sent from a gzip body. */
struct inflating {
	struct rbody *gz;
	z_stream z;
	uint64_t out;               /* plain bytes handed out so far */
};

/* MHD_ContentReaderCallback: the next plain bytes, in order. */
static ssize_t inflate_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct inflating *in = cls;
	int rc;

	if (pos != in->out)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	if (max > 0xffffffffu)
		max = 0xffffffffu;
	in->z.next_out = (Bytef *)buf;
	in->z.avail_out = (uInt)max;
	rc = inflate(&in->z, Z_NO_FLUSH);
	if (rc != Z_OK && rc != Z_STREAM_END)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	if (max - in->z.avail_out == 0)
		return rc == Z_STREAM_END ? MHD_CONTENT_READER_END_OF_STREAM
		                          : MHD_CONTENT_READER_END_WITH_ERROR;
	in->out += max - in->z.avail_out;
	return (ssize_t)(max - in->z.avail_out);
}

static void inflate_done(void *cls)
{
	struct inflating *in = cls;

	inflateEnd(&in->z);
	rbody_unref(in->gz);
	free(in);
}

/* See rsink.h. */
struct MHD_Response *rsink_inflate_response(struct rbody *gz)
{
	struct inflating *in = xcalloc(1, sizeof(*in));
	struct MHD_Response *resp;

	in->gz = gz;
	if (gz->len > 0xffffffffu || inflateInit2(&in->z, 15 + 16) != Z_OK) {   /* zlib counts in uInt */
		rbody_unref(gz);
		free(in);
		return NULL;
	}
	in->z.next_in = (Bytef *)gz->data;
	in->z.avail_in = (uInt)gz->len;
	resp = MHD_create_response_from_callback(gz->plain_len, 64 * 1024, inflate_read, in,
	                                         inflate_done);
	if (resp == NULL)
		inflate_done(in);
	return resp;
}

char *rsink_inflate_all(const struct rbody *gz, size_t *len)
{
	char *out = xmalloc(gz->plain_len + 1);
	z_stream z;
	int rc;

	memset(&z, 0, sizeof(z));
	if (gz->len > 0xffffffffu || gz->plain_len > 0xffffffffu || inflateInit2(&z, 15 + 16) != Z_OK) {
		free(out);
		return NULL;
	}
	z.next_in = (Bytef *)gz->data;
	z.avail_in = (uInt)gz->len;
	z.next_out = (Bytef *)out;
	z.avail_out = (uInt)gz->plain_len + 1;
	rc = inflate(&z, Z_FINISH);
	inflateEnd(&z);
	if (rc != Z_STREAM_END || z.total_out != gz->plain_len) {
		free(out);
		return NULL;
	}
	out[gz->plain_len] = '\0';
	*len = gz->plain_len;
	return out;
}

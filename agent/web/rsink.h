/* rsink.h — big answers rendered straight into gzip, and gzip bodies served
 * inflated. At 100,000 checks the status page, /api/v1/checks and /metrics
 * are 30 to 55 MB of text each; holding that text (and its gzip copy) in the
 * render cache cost hundreds of MB of RSS. A renderer appends to an rsink
 * instead of a bare buf and calls rsink_flush between pieces (a check): once
 * RSINK_CHUNK bytes are pending they are compressed and the buffer reused, so
 * the plain text of a big answer never exists whole. Answers that stay under
 * RSINK_CHUNK are kept plain (and gzipped) as before. A client that does not
 * accept gzip gets the stored gzip body inflated piece by piece while it is
 * sent (rsink_inflate_response). */
#ifndef PHAROS_RSINK_H
#define PHAROS_RSINK_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"

#define RSINK_CHUNK (1u << 20)      /* plain bytes compressed at a time */

struct rbody;
struct MHD_Response;

/* A render in progress. The renderer appends to b (its ceiling is managed
 * here: b.over is set when the whole answer would pass the sink's max). */
struct rsink {
	struct buf b;               /* plain text not compressed yet */
	size_t max;                 /* ceiling on the whole plain text; 0: none */
	size_t flushed;             /* plain bytes compressed so far */
	void *z;                    /* z_stream; NULL until the first flush */
	struct buf gz;              /* compressed so far */
	bool failed;                /* zlib failed: the render is lost */
};

/* An empty sink whose whole text may not pass max bytes (0: no ceiling). */
void rsink_init(struct rsink *s, size_t max);

/* Compresses the pending text once it reaches RSINK_CHUNK bytes (call it
 * between pieces: it costs a comparison otherwise). */
void rsink_flush(struct rsink *s);

/* rsink_flush for a renderer that writes to a buffer of its own (b, no
 * ceiling): compresses and empties b once it holds RSINK_CHUNK bytes. */
void rsink_flush_buf(struct rsink *s, struct buf *b);

/* Makes b (the rest of such a render) the sink's pending text; b is left
 * empty. */
void rsink_adopt(struct rsink *s, struct buf *b);

/* True when the render went wrong: over the ceiling, or zlib failed. */
bool rsink_failed(const struct rsink *s);

/* Whether the sink compressed anything (then only rsink_finish_gzip gives
 * its text; else b holds the whole plain text). */
static inline bool rsink_streamed(const struct rsink *s)
{
	return s->z != NULL;
}

/* The finished gzip body of a streamed sink (rsink_streamed), its plain
 * length in ->plain_len; NULL when zlib failed. The sink is freed. */
struct rbody *rsink_finish_gzip(struct rsink *s);

/* Frees whatever s holds (safe after rsink_finish_gzip). */
void rsink_free(struct rsink *s);

/* A libmicrohttpd response that sends gz (a gzip rbody with plain_len set)
 * inflated, with its plain length as Content-Length; takes the reference.
 * NULL on failure (the reference is dropped). */
struct MHD_Response *rsink_inflate_response(struct rbody *gz);

/* gz inflated whole into malloc'ed memory (plus a NUL), for callers without
 * a connection; NULL when the data is not gzip. */
char *rsink_inflate_all(const struct rbody *gz, size_t *len);

#endif

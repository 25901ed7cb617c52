/* rcache.h — render-once caching of the big HTTP answers (GET /, /metrics,
 * /api/v1/checks). At 10,000 checks those bodies are megabytes and cost tens
 * to hundreds of milliseconds to build; under concurrent requests one thread
 * renders (and gzips, once) while the others share the previous bytes. Bodies
 * are reference counted and handed to libmicrohttpd without a copy (httpd.c
 * releases the reference when the answer has been sent).
 *
 * Freshness: a render is reused for RCACHE_TTL_US (or RCACHE_COST_FACTOR
 * times its cost, up to RCACHE_TTL_MAX_US: re-rendering stays under ~1/10 of
 * a core) when it cost at least RCACHE_MIN_COST_US (small fleets, tests:
 * always fresh), always while the
 * snapshot it was rendered from is still the current one (for answers that
 * depend on the snapshot only), and while another thread is rendering a
 * newer one; a new config (reload) is never served from an older render. */
#ifndef PHAROS_RCACHE_H
#define PHAROS_RCACHE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "web/rbody.h"

#define RCACHE_TTL_US      1000000  /* reuse a costly render this long, */
#define RCACHE_COST_FACTOR 10       /* or this many times its cost, */
#define RCACHE_TTL_MAX_US  5000000  /* but never longer than this */
#define RCACHE_MIN_COST_US 2000     /* cheaper renders are not reused */
#define RCACHE_GZIP_MIN    (16u * 1024) /* smaller bodies are never compressed */
#define RCACHE_GZIP_LEVEL  RBODY_GZIP_LEVEL

/* What a render was made from: identities only, never dereferenced. The
 * snapshot generation is (snap, snap_us): a pointer alone could be reused by
 * a later snapshot; its publication time (microseconds) tells them apart. */
struct rcache_key {
	const void *conf;
	const void *snap;
	int64_t snap_us;
};

/* One cached answer. Static storage, initialised with RCACHE_INIT. */
struct rcache {
	pthread_mutex_t lock;
	struct rbody *plain, *gz;   /* gz: NULL when plain is small or zlib failed;
	                               plain: NULL for a big answer rendered
	                               through an rsink (gzip only, rsink.h) */
	struct rcache_key key;
	uint64_t built_us, ttl_us;  /* util_mono_us() of the render, its reuse time */
	bool rendering;             /* a thread is rendering a newer body */
};
#define RCACHE_INIT { .lock = PTHREAD_MUTEX_INITIALIZER }

/* A caller's view: references to the bodies to answer with, and whether the
 * caller is the one renderer (then it owes rcache_put or rcache_abandon). */
struct rcache_hit {
	struct rbody *plain, *gz;
	bool mine;
};

/* True with hit filled (references) when the cached body may be served for
 * key (see the top of this file; same_snap_ok: the answer depends on the
 * snapshot alone). False otherwise, with hit->mine telling whether this
 * caller must render and store (true) or render for itself only (false: a
 * renderer for another config is busy). */
bool rcache_get(struct rcache *c, const struct rcache_key *key, bool same_snap_ok,
                struct rcache_hit *hit);

/* A fresh render: text (malloc'ed, len bytes plus a NUL; taken) and gzipped
 * when at least RCACHE_GZIP_MIN bytes. Stored in c when hit->mine (start_us:
 * util_mono_us() when rendering began, for the cost). hit gets references. */
void rcache_put(struct rcache *c, const struct rcache_key *key, char *text, size_t len,
                uint64_t start_us, struct rcache_hit *hit);

struct rsink;
/* rcache_put for a render made through sink (rsink.h; the sink is taken and
 * freed): a sink that never compressed is stored as rcache_put stores text;
 * one that did is stored as its gzip body alone. When zlib failed, hit is
 * empty (rcache_answer then answers 500) and the render is abandoned. */
void rcache_put_sink(struct rcache *c, const struct rcache_key *key, struct rsink *sink,
                     uint64_t start_us, struct rcache_hit *hit);

/* The renderer gives up (its render failed): others will render. */
void rcache_abandon(struct rcache *c, struct rcache_hit *hit);

/* Drops the cached bodies (a renderer in progress still stores its own). */
void rcache_clear(struct rcache *c);

/* Releases the references of hit. */
void rcache_hit_release(struct rcache_hit *hit);

/* True when an Accept-Encoding header value accepts gzip: "gzip" (or
 * "x-gzip") with a q-value above 0, or "*" above 0 without a gzip entry.
 * NULL (no header) is false. */
bool rcache_accepts_gzip(const char *accept_encoding);

struct api_request;
struct api_response;
/* Answers rq with hit's body (the references move into rs): gzipped with
 * Content-Encoding when there is a gzip body and the client accepts it,
 * else the plain body, or the gzip body inflated while it is sent when
 * there is no plain one (rs->inflate_shared),
 * Vary: Accept-Encoding whenever a gzip body exists (plus Accept when
 * vary_accept: content negotiated by Accept, /metrics). A request without a
 * connection (a handler called directly, unit tests) gets an owned copy of
 * the plain body, as every other handler answers. An empty hit (a failed
 * render) answers 500. */
void rcache_answer(struct api_request *rq, struct api_response *rs, struct rcache_hit *hit,
                   unsigned status, const char *content_type, bool vary_accept);

#endif

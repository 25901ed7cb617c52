/* rcache.c — render-once caching of the big HTTP answers (see rcache.h):
 * a status page of 10,000 checks is ~20 times smaller gzipped (rbody.c),
 * and it is compressed once per render, not per request. */
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <microhttpd.h>

#include "web/request.h"
#include "web/rcache.h"
#include "web/rsink.h"
#include "core/util.h"

/* --- the cache ----------------------------------------------------------------- */

static bool same_key(const struct rcache_key *a, const struct rcache_key *b)
{
	return a->conf == b->conf && a->snap == b->snap && a->snap_us == b->snap_us;
}

static void hit_take(struct rcache_hit *hit, const struct rcache *c)
{
	hit->plain = c->plain ? rbody_ref(c->plain) : NULL;
	hit->gz = c->gz ? rbody_ref(c->gz) : NULL;
}

/* See rcache.h. */
bool rcache_get(struct rcache *c, const struct rcache_key *key, bool same_snap_ok,
                struct rcache_hit *hit)
{
	uint64_t now = util_mono_us();
	bool usable, fresh;

	memset(hit, 0, sizeof(*hit));
	pthread_mutex_lock(&c->lock);
	usable = (c->plain != NULL || c->gz != NULL) && c->key.conf == key->conf;
	fresh = usable && ((same_snap_ok && same_key(&c->key, key)) ||
	                   (now >= c->built_us && now - c->built_us < c->ttl_us));
	if (fresh || (usable && c->rendering)) {
		hit_take(hit, c);
		pthread_mutex_unlock(&c->lock);
		return true;
	}
	if (!c->rendering) {
		c->rendering = true;
		hit->mine = true;
	}
	pthread_mutex_unlock(&c->lock);
	return false;
}

/* How long a render that cost cost_us is reused: never when cheap; else
 * RCACHE_TTL_US, or RCACHE_COST_FACTOR times its cost when that is longer
 * (at most RCACHE_TTL_MAX_US), so re-rendering never takes more than ~1/10
 * of a core (/api/v1/checks of 10,000 checks: ~300 ms, reused 3 s). */
static uint64_t rcache_ttl(uint64_t cost_us)
{
	uint64_t ttl = cost_us * RCACHE_COST_FACTOR;

	if (cost_us < RCACHE_MIN_COST_US)
		return 0;
	if (ttl < RCACHE_TTL_US)
		ttl = RCACHE_TTL_US;
	return ttl > RCACHE_TTL_MAX_US ? RCACHE_TTL_MAX_US : ttl;
}

/* Hands plain and gz (either may be NULL; references taken) to hit and,
 * when hit->mine, stores them in c. */
static void store_bodies(struct rcache *c, const struct rcache_key *key, struct rbody *plain,
                         struct rbody *gz, uint64_t start_us, struct rcache_hit *hit)
{
	struct rbody *old_plain = NULL, *old_gz = NULL;
	uint64_t now = util_mono_us();

	hit->plain = plain;
	hit->gz = gz;
	if (!hit->mine)
		return;
	pthread_mutex_lock(&c->lock);
	old_plain = c->plain;
	old_gz = c->gz;
	c->plain = plain ? rbody_ref(plain) : NULL;
	c->gz = gz ? rbody_ref(gz) : NULL;
	c->key = *key;
	c->built_us = now;
	c->ttl_us = rcache_ttl(now - start_us);
	c->rendering = false;
	pthread_mutex_unlock(&c->lock);
	hit->mine = false;
	rbody_unref(old_plain);
	rbody_unref(old_gz);
}

/* See rcache.h. Compression happens outside the lock: other requests keep
 * being served the previous body meanwhile. */
void rcache_put(struct rcache *c, const struct rcache_key *key, char *text, size_t len,
                uint64_t start_us, struct rcache_hit *hit)
{
	struct rbody *plain = rbody_new(text, len);
	struct rbody *gz = len >= RCACHE_GZIP_MIN ? rbody_gzip(text, len) : NULL;

	store_bodies(c, key, plain, gz, start_us, hit);
}

/* See rcache.h. */
void rcache_put_sink(struct rcache *c, const struct rcache_key *key, struct rsink *sink,
                     uint64_t start_us, struct rcache_hit *hit)
{
	struct rbody *gz;
	size_t len;

	if (!rsink_streamed(sink)) {
		char *text = buf_steal(&sink->b, &len);

		rsink_free(sink);
		rcache_put(c, key, text, len, start_us, hit);
		return;
	}
	gz = rsink_finish_gzip(sink);
	/* A render this big (100,000 checks: tens of MB of tables freed by
	 * now, in the arena of a server thread) leaves free pages that glibc
	 * keeps; handing them back keeps the next big answer from stacking
	 * its own on top (the peak RSS of serving the page, API and metrics). */
	malloc_trim(0);
	if (gz == NULL) {
		rcache_abandon(c, hit);
		hit->plain = hit->gz = NULL;
		return;
	}
	store_bodies(c, key, NULL, gz, start_us, hit);
}

void rcache_abandon(struct rcache *c, struct rcache_hit *hit)
{
	if (!hit->mine)
		return;
	pthread_mutex_lock(&c->lock);
	c->rendering = false;
	pthread_mutex_unlock(&c->lock);
	hit->mine = false;
}

void rcache_clear(struct rcache *c)
{
	struct rbody *p, *g;

	pthread_mutex_lock(&c->lock);
	p = c->plain;
	g = c->gz;
	c->plain = c->gz = NULL;
	memset(&c->key, 0, sizeof(c->key));
	pthread_mutex_unlock(&c->lock);
	rbody_unref(p);
	rbody_unref(g);
}

void rcache_hit_release(struct rcache_hit *hit)
{
	rbody_unref(hit->plain);
	rbody_unref(hit->gz);
	hit->plain = hit->gz = NULL;
}

/* --- answering ----------------------------------------------------------------- */

/* The q-value of the parameters after a coding ("; q=0.5"), 1 when absent. */
static double coding_q(const char *p, const char *end)
{
	while (p < end) {
		const char *semi = memchr(p, ';', (size_t)(end - p));

		if (semi == NULL)
			break;
		p = semi + 1;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (end - p >= 2 && (*p == 'q' || *p == 'Q') && p[1] == '=') {
			char num[16];
			size_t n = strcspn(p + 2, ";,");

			if (n >= sizeof(num))
				n = sizeof(num) - 1;
			memcpy(num, p + 2, n);
			num[n] = '\0';
			return strtod(num, NULL);   /* garbage reads as 0: refused */
		}
	}
	return 1;
}

/* See rcache.h. */
bool rcache_accepts_gzip(const char *ae)
{
	double gzip_q = -1, star_q = -1;

	if (ae == NULL)
		return false;
	while (*ae != '\0') {
		const char *end = ae + strcspn(ae, ",");
		const char *tok = ae;
		size_t n;

		while (tok < end && (*tok == ' ' || *tok == '\t'))
			tok++;
		n = strcspn(tok, " \t;,");
		if ((n == 4 && strncasecmp(tok, "gzip", 4) == 0) ||
		    (n == 6 && strncasecmp(tok, "x-gzip", 6) == 0))
			gzip_q = coding_q(tok + n, end);
		else if (n == 1 && tok[0] == '*')
			star_q = coding_q(tok + n, end);
		ae = *end == ',' ? end + 1 : end;
	}
	return gzip_q >= 0 ? gzip_q > 0 : star_q > 0;
}

/* The plain text of hit into rs as an owned copy: a request without a
 * connection (a handler called directly, unit tests). */
static void answer_copy(struct api_response *rs, struct rcache_hit *hit)
{
	if (hit->plain != NULL) {
		rs->body = xmalloc(hit->plain->len + 1);
		memcpy(rs->body, hit->plain->data, hit->plain->len + 1);
		rs->body_len = hit->plain->len;
	} else {
		rs->body = rsink_inflate_all(hit->gz, &rs->body_len);
	}
	if (rs->body == NULL) {
		rs->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
		rs->body = xstrdup("");
		rs->body_len = 0;
	}
	rcache_hit_release(hit);
}

/* See rcache.h. */
void rcache_answer(struct api_request *rq, struct api_response *rs, struct rcache_hit *hit,
                   unsigned status, const char *content_type, bool vary_accept)
{
	bool gzip = false;
	struct rbody *b;

	free(rs->body);
	rs->body = NULL;
	rs->status = status;
	rs->content_type = content_type;
	if (hit->plain == NULL && hit->gz == NULL) {    /* the render failed */
		rs->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
		rs->content_type = "text/plain; charset=utf-8";
		rs->body = xstrdup("cannot build the answer\n");
		rs->body_len = strlen(rs->body);
		return;
	}
	if (rq->conn == NULL) {
		answer_copy(rs, hit);
		return;
	}
	if (hit->gz != NULL)
		gzip = rcache_accepts_gzip(MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND,
		                                                       MHD_HTTP_HEADER_ACCEPT_ENCODING));
	if (hit->gz != NULL)
		rs->vary = vary_accept ? "Accept, Accept-Encoding" : "Accept-Encoding";
	else
		rs->vary = vary_accept ? "Accept" : NULL;
	b = gzip || hit->plain == NULL ? hit->gz : hit->plain;
	rs->content_encoding = gzip ? "gzip" : NULL;
	rs->inflate_shared = !gzip && hit->plain == NULL;
	rs->shared = rbody_ref(b);
	rs->body = b->data;
	rs->body_len = rs->inflate_shared ? b->plain_len : b->len;
	rcache_hit_release(hit);
}

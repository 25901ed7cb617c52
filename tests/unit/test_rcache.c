/* test_rcache.c — render-once caching of big answers: Accept-Encoding
 * parsing, gzip that inflates back to the input, and the cache's rules (one
 * renderer, stale bytes shared while it renders, costly renders reused for
 * their TTL, cheap ones never, a new config never served an old render), and
 * renders through an rsink: compressed as written past RSINK_CHUNK, stored as
 * gzip alone, and the same text back when answered plain. */
#include "unit.h"
#include "web/api.h"
#include "web/rcache.h"
#include "web/rsink.h"
#include "core/util.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

static void test_accepts_gzip(void **state)
{
	static const struct {
		const char *ae;
		bool want;
	} cases[] = {
		{ NULL, false },
		{ "", false },
		{ "gzip", true },
		{ "GZIP", true },
		{ "x-gzip", true },
		{ "gzip, deflate, br", true },
		{ "br;q=1.0, gzip;q=0.8, *;q=0.1", true },
		{ "deflate, br", false },
		{ "gzip;q=0", false },
		{ "gzip; q=0.000", false },
		{ "*", true },
		{ "*;q=0", false },
		{ "gzip;q=0, *", false },           /* an explicit gzip entry wins over * */
		{ "identity", false },
		{ "gzipx", false },
		{ " gzip ;q=0.5", true },
		{ "gzip;q=garbage", false },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (rcache_accepts_gzip(cases[i].ae) != cases[i].want)
			fail_msg("Accept-Encoding \"%s\": expected %d", cases[i].ae ? cases[i].ae : "(null)",
			         cases[i].want);
	}
}

static void test_gzip_roundtrip(void **state)
{
	size_t n = 200000;
	char *in = malloc(n + 1);
	unsigned char *out = malloc(n + 1);
	struct rbody *gz;
	z_stream z;

	for (size_t i = 0; i < n; i++)
		in[i] = "<li class=\"check\">abc</li>\n"[i % 27] ^ (char)((i / 4096) & 1);
	in[n] = '\0';
	gz = rbody_gzip(in, n);
	assert_non_null(gz);
	assert_true(gz->len < n / 4);
	assert_int_equal((unsigned char)gz->data[0], 0x1f);     /* gzip magic */
	assert_int_equal((unsigned char)gz->data[1], 0x8b);
	memset(&z, 0, sizeof(z));
	assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK);
	z.next_in = (Bytef *)gz->data;
	z.avail_in = (uInt)gz->len;
	z.next_out = out;
	z.avail_out = (uInt)n + 1;
	assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
	assert_int_equal(z.total_out, n);
	assert_memory_equal(out, in, n);
	inflateEnd(&z);
	rbody_unref(gz);
	/* An empty body compresses too. */
	gz = rbody_gzip("", 0);
	assert_non_null(gz);
	rbody_unref(gz);
	free(in);
	free(out);
}

static char *text_of(size_t n, char c)
{
	char *t = malloc(n + 1);

	memset(t, c, n);
	t[n] = '\0';
	return t;
}

static void test_cache_rules(void **state)
{
	static struct rcache c = RCACHE_INIT;
	struct rcache_key k1 = { (void *)0x1, (void *)0x10, 100 }, k2 = k1, other_conf = k1;
	struct rcache_hit h, h2;
	uint64_t t0;

	k2.snap = (void *)0x20;
	k2.snap_us = 200;
	other_conf.conf = (void *)0x2;

	/* Empty: the first caller renders. */
	assert_false(rcache_get(&c, &k1, true, &h));
	assert_true(h.mine);
	/* Meanwhile another caller has nothing to share: renders for itself. */
	assert_false(rcache_get(&c, &k1, true, &h2));
	assert_false(h2.mine);
	/* A costly (>= 2 ms) big render: stored, gzipped. */
	t0 = util_mono_us() - 3 * RCACHE_MIN_COST_US;
	rcache_put(&c, &k1, text_of(RCACHE_GZIP_MIN, 'a'), RCACHE_GZIP_MIN, t0, &h);
	assert_false(h.mine);
	assert_non_null(h.plain);
	assert_non_null(h.gz);
	assert_int_equal(h.plain->len, RCACHE_GZIP_MIN);
	rcache_hit_release(&h);
	rcache_put(&c, &k1, text_of(10, 'b'), 10, t0, &h2);   /* not the renderer: not stored */
	assert_null(h2.gz);
	rcache_hit_release(&h2);

	/* Reused within its TTL, even for a newer snapshot of the same config. */
	assert_true(rcache_get(&c, &k2, false, &h));
	assert_int_equal(h.plain->data[0], 'a');
	rcache_hit_release(&h);
	/* Never for another config. */
	assert_false(rcache_get(&c, &other_conf, false, &h));
	assert_true(h.mine);
	/* ... and while that renders, callers of the old config share the old bytes. */
	assert_true(rcache_get(&c, &k2, false, &h2));
	rcache_hit_release(&h2);
	rcache_abandon(&c, &h);

	/* A cheap, small render is not reused (but kept for the same snapshot). */
	assert_false(rcache_get(&c, &other_conf, false, &h));
	assert_true(h.mine);
	rcache_put(&c, &other_conf, text_of(10, 'c'), 10, util_mono_us(), &h);
	assert_null(h.gz);
	rcache_hit_release(&h);
	assert_true(rcache_get(&c, &other_conf, true, &h));
	assert_int_equal(h.plain->data[0], 'c');
	rcache_hit_release(&h);
	assert_false(rcache_get(&c, &other_conf, false, &h));
	assert_true(h.mine);
	rcache_abandon(&c, &h);

	/* A direct call (no connection) gets an owned copy. */
	{
		struct api_request rq;
		struct api_response rs;

		memset(&rq, 0, sizeof(rq));
		memset(&rs, 0, sizeof(rs));
		assert_true(rcache_get(&c, &other_conf, true, &h));
		rcache_answer(&rq, &rs, &h, 200, "text/plain", true);
		assert_null(rs.shared);
		assert_null(h.plain);
		assert_string_equal(rs.body, "cccccccccc");
		assert_int_equal(rs.body_len, 10);
		free(rs.body);
	}
	rcache_clear(&c);
	assert_false(rcache_get(&c, &k1, true, &h));
	assert_true(h.mine);
	rcache_abandon(&c, &h);
}


/* Appends piece k of a render: lines that differ, so deflate has work. */
static void sink_piece(struct buf *b, size_t k)
{
	buf_printf(b, "<li class=\"check\" data-name=\"c%zu\">%zu</li>\n", k, k * 7919 % 1000);
}

static void test_sink(void **state)
{
	static struct rcache c = RCACHE_INIT;
	struct rcache_key key = { (void *)0x3, (void *)0x30, 300 };
	struct api_request rq;
	struct api_response rs;
	struct rcache_hit h;
	struct rsink sink;
	struct buf want = BUF_INIT;
	size_t n = 0;

	/* Small: kept plain and whole, as rcache_put keeps it. */
	rsink_init(&sink, 0);
	sink_piece(&sink.b, 1);
	rsink_flush(&sink);
	assert_false(rsink_streamed(&sink));
	assert_false(rcache_get(&c, &key, true, &h));
	rcache_put_sink(&c, &key, &sink, util_mono_us(), &h);
	assert_non_null(h.plain);
	assert_null(h.gz);
	rcache_hit_release(&h);

	/* Big: compressed a chunk at a time; gzip alone is stored. */
	rsink_init(&sink, 0);
	while (want.len < 3 * RSINK_CHUNK + 12345) {
		sink_piece(&want, n);
		sink_piece(&sink.b, n++);
		rsink_flush(&sink);
		assert_true(sink.b.len < RSINK_CHUNK + 100);
	}
	assert_true(rsink_streamed(&sink));
	assert_false(rsink_failed(&sink));
	assert_false(rcache_get(&c, &key, false, &h));
	assert_true(h.mine);
	rcache_put_sink(&c, &key, &sink, util_mono_us() - 3 * RCACHE_MIN_COST_US, &h);
	assert_null(h.plain);
	assert_non_null(h.gz);
	assert_int_equal(h.gz->plain_len, want.len);
	assert_true(h.gz->len < want.len / 4);
	rcache_hit_release(&h);

	/* Served from the cache, plain, to a caller without a connection. */
	memset(&rq, 0, sizeof(rq));
	memset(&rs, 0, sizeof(rs));
	assert_true(rcache_get(&c, &key, true, &h));
	rcache_answer(&rq, &rs, &h, 200, "text/html", false);
	assert_int_equal(rs.status, 200);
	assert_int_equal(rs.body_len, want.len);
	assert_memory_equal(rs.body, want.p, want.len);
	free(rs.body);

	/* A ceiling on the whole text holds across chunks. */
	rsink_init(&sink, 2 * RSINK_CHUNK);
	for (size_t k = 0; k < n; k++) {
		sink_piece(&sink.b, k);
		rsink_flush(&sink);
	}
	assert_true(rsink_failed(&sink));
	rsink_free(&sink);
	buf_free(&want);
	rcache_clear(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepts_gzip),
		cmocka_unit_test(test_gzip_roundtrip),
		cmocka_unit_test(test_cache_rules),
		cmocka_unit_test(test_sink),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_tcp_probe.c — the tcp check type against a real listening socket on
 * 127.0.0.1 served by a helper thread: banner match and mismatch, send then
 * expect, peer close, 64 KiB without a match, refused port and reset. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "unit.h"
#include "probe_fixture.h"

#include "probes/check.h"
#include "core/loop.h"
#include "probes/probe.h"
#include "core/resolver.h"
#include "probes/result.h"
#include "core/util.h"

/* What the helper server does with its one connection. */
enum srv_mode {
	SRV_BANNER,         /* sends "220 ..." then reads until the client closes */
	SRV_BANNER_SLOW,    /* the banner in three pieces, 20 ms apart */
	SRV_WRONG_CLOSE,    /* sends "421 busy\r\n" and closes */
	SRV_CLOSE,          /* accepts and closes at once */
	SRV_RESET,          /* accepts and resets (SO_LINGER 0) */
	SRV_FLOOD,          /* 70000 bytes without the pattern, then waits */
	SRV_SMTP,           /* banner, reads a line, answers "250 hello" */
};

struct srv {
	int lfd;
	int port;
	enum srv_mode mode;
	pthread_t th;
	char got[256];      /* what the client sent (SRV_SMTP) */
};

/* Reads until the client closes (or 5 s pass: the test then fails elsewhere). */
static void srv_drain(int fd)
{
	char buf[512];
	struct pollfd p = { .fd = fd, .events = POLLIN };

	while (poll(&p, 1, 5000) == 1 && read(fd, buf, sizeof(buf)) > 0)
		;
}

static void srv_write(int fd, const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, s, n, MSG_NOSIGNAL);   /* the client may be gone */

		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

static void *srv_main(void *arg)
{
	struct srv *s = arg;
	int fd = accept(s->lfd, NULL, NULL);

	if (fd < 0)
		return NULL;
	switch (s->mode) {
	case SRV_BANNER:
		srv_write(fd, "220 mail.test ESMTP\r\nmore\r\n", 27);
		srv_drain(fd);
		break;
	case SRV_BANNER_SLOW:
		srv_write(fd, "22", 2);
		usleep(20000);
		srv_write(fd, "0 slow", 6);
		usleep(20000);
		srv_write(fd, "\r\n", 2);
		srv_drain(fd);
		break;
	case SRV_WRONG_CLOSE:
		srv_write(fd, "421 busy\r\n", 10);
		break;
	case SRV_CLOSE:
		break;
	case SRV_RESET: {
		struct linger lg = { .l_onoff = 1, .l_linger = 0 };

		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		break;
	}
	case SRV_FLOOD: {
		char *junk = malloc(70000);

		memset(junk, 'x', 70000);
		junk[10] = '\x01';
		srv_write(fd, junk, 70000);
		free(junk);
		srv_drain(fd);
		break;
	}
	case SRV_SMTP: {
		size_t n = 0;
		struct pollfd p = { .fd = fd, .events = POLLIN };

		srv_write(fd, "220 hi\r\n", 8);
		while (n < sizeof(s->got) - 1 && !memchr(s->got, '\n', n) && poll(&p, 1, 5000) == 1) {
			ssize_t r = read(fd, s->got + n, sizeof(s->got) - 1 - n);

			if (r <= 0)
				break;
			n += (size_t)r;
		}
		s->got[n] = '\0';
		srv_write(fd, "250 hello\r\n", 11);
		srv_drain(fd);
		break;
	}
	}
	close(fd);
	return NULL;
}

/* A listening socket on 127.0.0.1, an ephemeral port, served by a thread. */
static void srv_start(struct srv *s, enum srv_mode mode)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);

	memset(s, 0, sizeof(*s));
	s->mode = mode;
	s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(s->lfd >= 0);
	assert_int_equal(bind(s->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(s->lfd, 4), 0);
	assert_int_equal(getsockname(s->lfd, (struct sockaddr *)&sa, &len), 0);
	s->port = ntohs(sa.sin_port);
	assert_int_equal(pthread_create(&s->th, NULL, srv_main, s), 0);
}

static void srv_stop(struct srv *s)
{
	pthread_join(s->th, NULL);
	close(s->lfd);
}

/* --- running one probe ------------------------------------------------------ */

/* f: a tcp check of 127.0.0.1 (the port is set by each case). */
static int setup(void **state)
{
	struct probe_fixture *f = calloc(1, sizeof(*f));

	probe_fixture_init(f, NULL, "tcp-test", CHECK_TCP, 3000);
	f->check.tcp.host = xstrdup("127.0.0.1");
	f->check.target = xstrdup("127.0.0.1");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct probe_fixture *f = *state;

	probe_fixture_fini(f);
	free(f);
	return 0;
}

static pcre2_code *compile(const char *pattern)
{
	int errcode;
	PCRE2_SIZE off;
	pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, 0,
	                               &errcode, &off, NULL);

	assert_non_null(re);
	return re;
}

static void set_banner(struct probe_fixture *f, const char *pattern)
{
	f->check.expect.banner_regex = xstrdup(pattern);
	f->check.expect.banner_re = compile(pattern);
}

static void set_expect(struct probe_fixture *f, const char *pattern)
{
	f->check.expect.expect_regex = xstrdup(pattern);
	f->check.expect.expect_re = compile(pattern);
}

/* --- the cases ----------------------------------------------------------------- */

static void test_connect_only(void **state)
{
	struct probe_fixture *f = *state;
	struct srv s;

	srv_start(&s, SRV_BANNER);
	f->check.tcp.port = s.port;
	probe_fixture_run(f);
	srv_stop(&s);
	assert_true(f->result.ok);
	assert_int_equal(f->result.error, PROBE_OK);
	assert_true(f->result.connect_us >= 0);
	assert_true(f->result.dns_us >= 0);
	assert_string_equal(probe_fixture_detail_str(f, "address"), "127.0.0.1");
	assert_int_equal(json_integer_value(json_object_get(f->result.details, "port")), s.port);
}

static void test_banner_match(void **state)
{
	struct probe_fixture *f = *state;
	struct srv s;
	const struct probe_assertion *a;

	srv_start(&s, SRV_BANNER);
	f->check.tcp.port = s.port;
	set_banner(f, "^220 ");
	probe_fixture_run(f);
	srv_stop(&s);
	assert_true(f->result.ok);
	assert_true(f->result.ttfb_us >= f->result.connect_us);
	assert_true(f->result.bytes > 0);
	assert_string_equal(probe_fixture_detail_str(f, "banner"), "220 mail.test ESMTP");
	a = probe_fixture_assertion(f, "banner_regex \"^220 \"");
	assert_non_null(a);
	assert_true(a->ok);
}

static void test_banner_in_pieces(void **state)
{
	struct probe_fixture *f = *state;
	struct srv s;

	srv_start(&s, SRV_BANNER_SLOW);
	f->check.tcp.port = s.port;
	set_banner(f, "^220 slow\\r\\n");
	probe_fixture_run(f);
	srv_stop(&s);
	assert_true(f->result.ok);
	assert_int_equal(f->result.bytes, 10);
	assert_string_equal(probe_fixture_detail_str(f, "banner"), "220 slow");
}

static void test_banner_mismatch_then_close(void **state)
{
	struct probe_fixture *f = *state;
	struct srv s;
	const struct probe_assertion *a;

	srv_start(&s, SRV_WRONG_CLOSE);
	f->check.tcp.port = s.port;
	set_banner(f, "^220 ");
	probe_fixture_run(f);
	srv_stop(&s);
	assert_false(f->result.ok);
	assert_int_equal(f->result.error, PROBE_ERR_PROTOCOL);
	assert_non_null(strstr(f->result.message, "connection closed by peer after 10 bytes"));
	a = probe_fixture_assertion(f, "banner_regex \"^220 \"");
	assert_non_null(a);
	assert_false(a->ok);
	assert_non_null(strstr(a->detail, "\"421 busy\\r\\n\""));
	assert_string_equal(probe_fixture_detail_str(f, "banner"), "421 busy");
}

static void test_closed_at_once(void **state)
{
	struct probe_fixture *f = *state;
	struct srv s;

	srv_start(&s, SRV_CLOSE);
	f->check.tcp.port = s.port;
	set_banner(f, "^220 ");
	probe_fixture_run(f);
	srv_stop(&s);
	assert_int_equal(f->result.error, PROBE_ERR_PROTOCOL);
	assert_non_null(strstr(f->result.message, "connection closed by peer after 0 bytes"));
	assert_int_equal(f->result.bytes, 0);
}

static void test_flood_without_match(void **state)
{
	struct probe_fixture *f = *state;
	struct srv s;
	const struct probe_assertion *a;

	srv_start(&s, SRV_FLOOD);
	f->check.tcp.port = s.port;
	set_banner(f, "^220 ");
	probe_fixture_run(f);
	srv_stop(&s);
	assert_int_equal(f->result.error, PROBE_ERR_ASSERTION);
	assert_int_equal(f->result.bytes, 64 * 1024);
	a = probe_fixture_assertion(f, "banner_regex");
	assert_non_null(a);
	assert_false(a->ok);
	/* The non-printable byte is escaped, the snippet is cut. */
	assert_non_null(strstr(a->detail, "got \"xxxxxxxxxx\\x01xxx"));
	assert_non_null(strstr(a->detail, "...\""));
	assert_non_null(strstr(a->detail, "65536"));
}

static void test_send_and_expect(void **state)
{
	struct probe_fixture *f = *state;
	struct srv s;
	const struct probe_assertion *a;

	srv_start(&s, SRV_SMTP);
	f->check.tcp.port = s.port;
	f->check.tcp.send = xstrdup("EHLO pharos\r\n");
	set_banner(f, "^220 ");
	set_expect(f, "^250 ");
	probe_fixture_run(f);
	srv_stop(&s);
	assert_true(f->result.ok);
	assert_string_equal(s.got, "EHLO pharos\r\n");
	assert_string_equal(probe_fixture_detail_str(f, "banner"), "220 hi");
	assert_int_equal(f->result.bytes, 8 + 11);
	a = probe_fixture_assertion(f, "expect_regex \"^250 \"");
	assert_non_null(a);
	assert_true(a->ok);
}

static void test_expect_mismatch(void **state)
{
	struct probe_fixture *f = *state;
	struct srv s;

	srv_start(&s, SRV_SMTP);
	f->check.tcp.port = s.port;
	f->check.tcp.send = xstrdup("HELO x\r\n");
	set_banner(f, "^220 ");
	set_expect(f, "^354 ");
	f->check.timeout_ms = 3000;  /* the server never closes: the quiet period ends it */
	probe_fixture_run(f);
	srv_stop(&s);
	assert_false(f->result.ok);
	assert_int_equal(f->result.error, PROBE_ERR_ASSERTION);
	assert_true(f->result.duration_us < 2000000);
	assert_non_null(strstr(f->result.message, "nothing more"));
}

static void test_refused(void **state)
{
	struct probe_fixture *f = *state;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	char want[64];

	/* Bound but not listening: connecting is refused, and the port stays ours. */
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	f->check.tcp.port = ntohs(sa.sin_port);
	probe_fixture_run(f);
	close(fd);
	assert_int_equal(f->result.error, PROBE_ERR_CONNECT);
	snprintf(want, sizeof(want), "connection refused by 127.0.0.1:%d", f->check.tcp.port);
	assert_string_equal(f->result.message, want);
	assert_int_equal(f->result.connect_us, -1);
}

static void test_reset(void **state)
{
	struct probe_fixture *f = *state;
	struct srv s;

	srv_start(&s, SRV_RESET);
	f->check.tcp.port = s.port;
	set_banner(f, "^220 ");
	probe_fixture_run(f);
	srv_stop(&s);
	assert_int_equal(f->result.error, PROBE_ERR_CONNECT);
	assert_non_null(strstr(f->result.message, "connection reset by peer"));
}

static void test_max_latency(void **state)
{
	struct probe_fixture *f = *state;
	struct srv s;
	const struct probe_assertion *a;

	srv_start(&s, SRV_BANNER);
	f->check.tcp.port = s.port;
	f->check.expect.max_latency_ms = 2000;
	probe_fixture_run(f);
	srv_stop(&s);
	assert_true(f->result.ok);
	a = probe_fixture_assertion(f, "max_latency");
	assert_non_null(a);
	assert_true(a->ok);
}

static void test_abort(void **state)
{
	struct probe_fixture *f = *state;
	struct srv s;
	struct probe_run *run;
	uint64_t deadline = util_mono_ms() + 5000;

	srv_start(&s, SRV_SMTP);
	f->check.tcp.port = s.port;
	set_banner(f, "^999 ");        /* never matches; the server never closes */
	run = probe_start(&f->env, &f->check, probe_fixture_on_done, f);
	/* Until the banner arrived and was found wanting: the run waits for more. */
	while (run->result.ttfb_us < 0 && util_mono_ms() < deadline && !f->done)
		loop_run_once(f->loop, 20);
	assert_int_equal(f->done, 0);
	probe_abort(run);
	assert_int_equal(f->done, 1);
	assert_int_equal(f->result.error, PROBE_ERR_ABORTED);
	/* Our close lets the server's read end. */
	srv_stop(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_connect_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_banner_match, setup, teardown),
		cmocka_unit_test_setup_teardown(test_banner_in_pieces, setup, teardown),
		cmocka_unit_test_setup_teardown(test_banner_mismatch_then_close, setup, teardown),
		cmocka_unit_test_setup_teardown(test_closed_at_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flood_without_match, setup, teardown),
		cmocka_unit_test_setup_teardown(test_send_and_expect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expect_mismatch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_max_latency, setup, teardown),
		cmocka_unit_test_setup_teardown(test_abort, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

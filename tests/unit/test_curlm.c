/* test_curlm.c — libcurl multi on the loop against a tiny HTTP server thread
 * on 127.0.0.1: parallel transfers complete, a removed transfer never calls
 * back, and the loop is empty at the end. */
#include "unit.h"
#include "core/curlm.h"
#include "core/loop.h"
#include "core/util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char canned[] =
	"HTTP/1.1 200 OK\r\n"
	"Content-Type: text/plain\r\n"
	"Content-Length: 11\r\n"
	"Connection: close\r\n"
	"\r\n"
	"hello world";

struct server {
	int lfd;
	int port;
	int served;
	int want;           /* connections to serve before exiting */
	pthread_t th;
};

/* Reads a request head (up to the blank line) and answers with canned. Each
 * wait is bounded so a broken test cannot hang the thread forever. */
static void serve_one(int fd)
{
	char buf[4096];
	size_t got = 0;

	while (got < sizeof(buf) - 1) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, 5000) <= 0)
			return;
		n = read(fd, buf + got, sizeof(buf) - 1 - got);
		if (n <= 0)
			return;
		got += (size_t)n;
		buf[got] = '\0';
		if (strstr(buf, "\r\n\r\n") != NULL)
			break;
	}
	if (write(fd, canned, sizeof(canned) - 1) < 0)
		return;
}

static void *server_main(void *arg)
{
	struct server *s = arg;

	while (s->served < s->want) {
		struct pollfd p = { .fd = s->lfd, .events = POLLIN };
		int fd;

		if (poll(&p, 1, 5000) <= 0)
			break;
		fd = accept(s->lfd, NULL, NULL);
		if (fd < 0)
			continue;
		serve_one(fd);
		close(fd);
		s->served++;
	}
	return NULL;
}

/* A listening socket on 127.0.0.1, kernel-chosen port. */
static int listen_socket(int *port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	assert_true(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(fd, 16), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	*port = ntohs(sin.sin_port);
	return fd;
}

struct xfer {
	char body[256];
	size_t len;
	bool done;
	int calls;
	CURLcode code;
	long status;
	int *finished;
};

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;
	size_t bytes = size * n;

	if (x->len + bytes >= sizeof(x->body))
		return 0;   /* ceiling: fail the transfer */
	memcpy(x->body + x->len, p, bytes);
	x->len += bytes;
	x->body[x->len] = '\0';
	return bytes;
}

static void on_done(CURL *easy, CURLcode code, void *arg)
{
	struct xfer *x = arg;

	x->calls++;
	x->code = code;
	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &x->status);
	x->done = true;
	(*x->finished)++;
}

static CURL *new_easy(int port, const char *path, struct xfer *x)
{
	CURL *e = curl_easy_init();
	char url[128];

	assert_non_null(e);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 5000L);
	curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
	curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
	return e;
}

static void test_two_parallel(void **state)
{
	struct loop *l = loop_new();
	struct curlm *m = curlm_new(l);
	struct server s = { 0 };
	struct xfer a = { 0 }, b = { 0 };
	int finished = 0;
	uint64_t end;
	CURL *ea, *eb;

	assert_non_null(m);
	s.lfd = listen_socket(&s.port);
	s.want = 2;
	assert_int_equal(pthread_create(&s.th, NULL, server_main, &s), 0);

	a.finished = b.finished = &finished;
	ea = new_easy(s.port, "/a", &a);
	eb = new_easy(s.port, "/b", &b);
	assert_int_equal(curlm_add(m, ea, on_done, &a), 0);
	assert_int_equal(curlm_add(m, eb, on_done, &b), 0);
	assert_int_equal(curlm_running(m), 2);
	/* Not from inside curlm_add. */
	assert_int_equal(finished, 0);

	end = util_mono_ms() + 5000;
	while (finished < 2) {
		if (util_mono_ms() > end)
			fail_msg("transfers did not finish");
		loop_run_once(l, 50);
	}
	assert_int_equal(pthread_join(s.th, NULL), 0);
	assert_int_equal(a.code, CURLE_OK);
	assert_int_equal(b.code, CURLE_OK);
	assert_int_equal(a.status, 200);
	assert_int_equal(b.status, 200);
	assert_string_equal(a.body, "hello world");
	assert_string_equal(b.body, "hello world");
	assert_int_equal(a.calls, 1);
	assert_int_equal(b.calls, 1);
	assert_int_equal(curlm_running(m), 0);
	curl_easy_cleanup(ea);
	curl_easy_cleanup(eb);
	curlm_free(m);
	assert_int_equal(loop_active_count(l), 0);
	close(s.lfd);
	loop_free(l);
}

/* A server that never accepts: the connection sits in the backlog, the
 * transfer waits for a response; curlm_remove abandons it. */
static void test_remove_in_flight(void **state)
{
	struct loop *l = loop_new();
	struct curlm *m = curlm_new(l);
	struct xfer a = { 0 };
	int finished = 0, port;
	int lfd = listen_socket(&port);
	uint64_t end;
	CURL *ea;

	a.finished = &finished;
	ea = new_easy(port, "/slow", &a);
	assert_int_equal(curlm_add(m, ea, on_done, &a), 0);
	/* Let curl connect and send; the server never answers. */
	end = util_mono_ms() + 300;
	while (util_mono_ms() < end)
		loop_run_once(l, 20);
	assert_int_equal(finished, 0);
	assert_true(loop_active_count(l) >= 1);
	curlm_remove(m, ea);
	curlm_remove(m, ea);    /* no longer ours: a no-op */
	assert_int_equal(curlm_running(m), 0);
	loop_run_once(l, 10);
	assert_int_equal(finished, 0);
	curl_easy_cleanup(ea);
	curlm_free(m);
	assert_int_equal(loop_active_count(l), 0);
	close(lfd);
	loop_free(l);
}

/* A done callback that starts the next transfer (re-entrancy). */
struct chain {
	struct curlm *m;
	int port;
	struct xfer x[2];
	CURL *e[2];
	int finished;
};

static void chain_done(CURL *easy, CURLcode code, void *arg)
{
	struct chain *c = arg;
	int i = easy == c->e[0] ? 0 : 1;

	c->x[i].code = code;
	c->x[i].calls++;
	c->finished++;
	if (i == 0)
		assert_int_equal(curlm_add(c->m, c->e[1], chain_done, c), 0);
}

static void test_chain_from_done(void **state)
{
	struct loop *l = loop_new();
	struct chain c = { 0 };
	struct server s = { 0 };
	uint64_t end;

	c.m = curlm_new(l);
	s.lfd = listen_socket(&s.port);
	s.want = 2;
	assert_int_equal(pthread_create(&s.th, NULL, server_main, &s), 0);
	for (int i = 0; i < 2; i++)
		c.e[i] = new_easy(s.port, "/chain", &c.x[i]);
	assert_int_equal(curlm_add(c.m, c.e[0], chain_done, &c), 0);
	end = util_mono_ms() + 5000;
	while (c.finished < 2) {
		if (util_mono_ms() > end)
			fail_msg("chained transfers did not finish");
		loop_run_once(l, 50);
	}
	assert_int_equal(pthread_join(s.th, NULL), 0);
	assert_int_equal(c.x[0].code, CURLE_OK);
	assert_int_equal(c.x[1].code, CURLE_OK);
	assert_string_equal(c.x[1].body, "hello world");
	for (int i = 0; i < 2; i++)
		curl_easy_cleanup(c.e[i]);
	curlm_free(c.m);
	assert_int_equal(loop_active_count(l), 0);
	close(s.lfd);
	loop_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_two_parallel),
		cmocka_unit_test(test_remove_in_flight),
		cmocka_unit_test(test_chain_from_done),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_http_probe.c — the http check type end to end on a real loop, curl
 * multi handle and resolver, against a tiny HTTP server thread on 127.0.0.1:
 * 200, 503, redirects (followed, limited, not followed), a slow answer
 * (timeout with its phase), a 5 MB body (cut at max_body), a server closing
 * without answering, a refused port, a failed DNS lookup, POST and HEAD,
 * assertions, probe_abort and a run that cannot start. Each test proves the
 * loop is empty afterwards. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "unit.h"

#include "probes/check.h"
#include "core/curlm.h"
#include "core/loop.h"
#include "probes/probe.h"
#include "core/resolver.h"
#include "probes/result.h"
#include "core/util.h"

#define BIG_BODY (5 * 1024 * 1024)

/* --- the server ------------------------------------------------------------ */

struct srv {
	int lfd, port;
	int stop[2];
	pthread_t th;
	pthread_mutex_t mu;
	int requests;                   /* requests read so far */
	char user_agent[128];           /* of the last request */
	char traceparent[128];          /* of the last request; "" when none */
};

static struct srv srv;

static void srv_send(int fd, const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, s, n, MSG_NOSIGNAL);   /* the client may be gone */

		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

static void srv_reply(int fd, const char *status, const char *extra, const char *body)
{
	char buf[1024];
	int n = snprintf(buf, sizeof(buf),
	                 "HTTP/1.1 %s\r\nContent-Length: %zu\r\nConnection: close\r\n%s\r\n%s", status,
	                 strlen(body), extra, body);

	srv_send(fd, buf, (size_t)n);
}

/* Waits (at most 5 s) until the client closes or sends something. */
static void srv_wait_close(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char buf[256];

	while (poll(&p, 1, 5000) == 1 && read(fd, buf, sizeof(buf)) > 0)
		;
}

/* Reads one request (headers and a Content-Length body) into buf. Returns
 * the body start, or NULL. */
static char *srv_read_request(int fd, char *buf, size_t cap)
{
	size_t used = 0;
	char *end = NULL, *cl;
	size_t want;

	while (used + 1 < cap) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (end) {
			cl = strcasestr(buf, "\r\nContent-Length:");
			want = cl ? strtoul(cl + 17, NULL, 10) : 0;
			if (used - (size_t)(end + 4 - buf) >= want)
				return end + 4;
		}
		if (poll(&p, 1, 5000) != 1)
			return NULL;
		n = read(fd, buf + used, cap - 1 - used);
		if (n <= 0)
			return NULL;
		used += (size_t)n;
		buf[used] = '\0';
		if (end == NULL)
			end = strstr(buf, "\r\n\r\n");
	}
	return NULL;
}

static void srv_handle(int fd)
{
	char req[16384], path[256] = "", method[16] = "", extra[256];
	char *body = srv_read_request(fd, req, sizeof(req));
	char *ua;

	if (body == NULL)
		return;
	sscanf(req, "%15s %255s", method, path);
	pthread_mutex_lock(&srv.mu);
	srv.requests++;
	ua = strcasestr(req, "\r\nUser-Agent: ");
	srv.user_agent[0] = '\0';
	if (ua)
		sscanf(ua + 14, "%127[^\r]", srv.user_agent);
	ua = strcasestr(req, "\r\ntraceparent: ");
	srv.traceparent[0] = '\0';
	if (ua)
		sscanf(ua + 15, "%127[^\r]", srv.traceparent);
	pthread_mutex_unlock(&srv.mu);

	if (strcmp(path, "/ok") == 0) {
		srv_reply(fd, "200 OK", "Content-Type: text/plain\r\n", "ok");
	} else if (strcmp(path, "/json") == 0) {
		srv_reply(fd, "200 OK", "Content-Type: application/json\r\nX-Api: v2\r\n",
		          "{\"status\":\"ok\",\"items\":[1,2,3]}");
	} else if (strcmp(path, "/503") == 0) {
		srv_reply(fd, "503 Service Unavailable", "", "down");
	} else if (strcmp(path, "/redirect") == 0) {
		srv_reply(fd, "302 Found", "Location: /ok\r\n", "moved");
	} else if (strcmp(path, "/redirect-abs") == 0) {
		snprintf(extra, sizeof(extra), "Location: http://127.0.0.1:%d/redirect\r\n", srv.port);
		srv_reply(fd, "301 Moved Permanently", extra, "");
	} else if (strcmp(path, "/loop") == 0) {
		srv_reply(fd, "302 Found", "Location: /loop\r\n", "");
	} else if (strcmp(path, "/see-other") == 0) {
		srv_reply(fd, "303 See Other", "Location: /echo\r\n", "");
	} else if (strcmp(path, "/echo") == 0) {
		snprintf(extra, sizeof(extra), "%s %s", method, body);
		srv_reply(fd, "200 OK", "", extra);
	} else if (strcmp(path, "/slow") == 0) {
		srv_wait_close(fd);
	} else if (strcmp(path, "/big") == 0) {
		static char chunk[65536];
		char head[128];
		int n = snprintf(head, sizeof(head),
		                 "HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n",
		                 BIG_BODY);

		memset(chunk, 'x', sizeof(chunk));
		memcpy(chunk, "start", 5);
		srv_send(fd, head, (size_t)n);
		for (int sent = 0; sent < BIG_BODY; sent += (int)sizeof(chunk)) {
			ssize_t w = send(fd, chunk, sizeof(chunk), MSG_NOSIGNAL);

			if (w <= 0)
				break;
		}
	} else if (strcmp(path, "/close") == 0) {
		/* nothing: the connection is closed below */
	} else {
		srv_reply(fd, "404 Not Found", "", "no");
	}
}

static void *srv_main(void *arg)
{
	(void)arg;
	for (;;) {
		struct pollfd p[2] = { { .fd = srv.lfd, .events = POLLIN },
		                       { .fd = srv.stop[0], .events = POLLIN } };
		int fd;

		if (poll(p, 2, -1) < 0 || p[1].revents)
			return NULL;
		fd = accept(srv.lfd, NULL, NULL);
		if (fd < 0)
			continue;
		srv_handle(fd);
		close(fd);
	}
}

/* A listening (or, listen == 0, just bound then closed) socket on 127.0.0.1
 * with a free port; returns the fd (or -1 when closed) and sets *port. */
static int bind_free(int *port, int listen_too)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;

	assert_true(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	*port = ntohs(a.sin_port);
	if (listen_too) {
		assert_int_equal(listen(fd, 16), 0);
		return fd;
	}
	close(fd);
	return -1;
}

/* --- the agent side -------------------------------------------------------- */

struct env {
	struct loop *l;
	struct curlm *m;
	struct resolver *res;
	struct probe_env penv;
};

static struct env env;
static struct probe_result got;
static int done_calls;

static void on_done(struct probe_run *run, struct probe_result *r, void *arg)
{
	(void)run;
	(void)arg;
	probe_result_clear(&got);
	probe_result_copy(&got, r);
	done_calls++;
}

static int setup(void **state)
{
	char err[128];

	(void)state;
	memset(&srv, 0, sizeof(srv));
	pthread_mutex_init(&srv.mu, NULL);
	srv.lfd = bind_free(&srv.port, 1);
	assert_int_equal(pipe(srv.stop), 0);
	assert_int_equal(pthread_create(&srv.th, NULL, srv_main, NULL), 0);

	env.l = loop_new();
	env.m = curlm_new(env.l);
	env.res = resolver_new(env.l, NULL, 2000, err, sizeof(err));
	assert_non_null(env.m);
	assert_non_null(env.res);
	env.penv.loop = env.l;
	env.penv.curlm = env.m;
	env.penv.resolver = env.res;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	resolver_free(env.res);
	curlm_free(env.m);
	loop_free(env.l);
	assert_int_equal(write(srv.stop[1], "x", 1), 1);
	pthread_join(srv.th, NULL);
	close(srv.lfd);
	close(srv.stop[0]);
	close(srv.stop[1]);
	return 0;
}

static void check_setup(struct check *c, const char *path)
{
	check_init(c);
	c->name = xstrdup("web");
	c->group = xstrdup("");
	c->type = CHECK_HTTP;
	c->timeout_ms = 3000;
	c->http.url = xasprintf("http://127.0.0.1:%d%s", srv.port, path);
}

/* Runs c once to completion (10 s at most) and checks the loop is empty. */
static void run_check(struct check *c)
{
	uint64_t deadline;

	probe_result_clear(&got);
	memset(&got, 0, sizeof(got));
	done_calls = 0;
	probe_start(&env.penv, c, on_done, NULL);
	assert_int_equal(done_calls, 0);     /* never from inside probe_start */
	deadline = util_mono_ms() + 10000;
	while (done_calls == 0 && util_mono_ms() < deadline)
		loop_run_once(env.l, 50);
	assert_int_equal(done_calls, 1);
	/* curl may still close sockets on its next pass; give it a few. */
	for (int i = 0; i < 20 && loop_active_count(env.l) > 0; i++)
		loop_run_once(env.l, 10);
	assert_int_equal(loop_active_count(env.l), 0);
	assert_int_equal(curlm_running(env.m), 0);
}

static json_t *detail(const char *key)
{
	return json_object_get(got.details, key);
}

static void test_ok(void **state)
{
	struct check c;

	(void)state;
	check_setup(&c, "/ok");
	run_check(&c);
	assert_int_equal(got.error, PROBE_OK);
	assert_true(got.ok);
	assert_int_equal(got.status_code, 200);
	assert_int_equal(got.bytes, 2);
	assert_string_equal(got.message, "HTTP 200 OK");
	assert_true(got.dns_us >= 0);
	assert_true(got.connect_us >= got.dns_us);
	assert_int_equal(got.tls_us, -1);
	assert_true(got.ttfb_us >= got.connect_us);
	assert_true(got.duration_us >= got.ttfb_us);
	assert_int_equal(got.cert_expiry, 0);
	assert_int_equal(got.n_assertions, 1);   /* the default status range */
	assert_int_equal(json_integer_value(detail("redirects")), 0);
	assert_true(json_is_false(detail("truncated")));
	assert_true(json_is_false(detail("insecure")));
	assert_string_equal(json_string_value(detail("http_version")), "1.1");
	assert_string_equal(json_string_value(detail("remote")), "127.0.0.1");
	pthread_mutex_lock(&srv.mu);
	assert_string_equal(srv.user_agent, "pharos/" PHAROS_VERSION);
	pthread_mutex_unlock(&srv.mu);
	check_clear(&c);
}

/* A W3C traceparent on the request; its trace id, derived from the run id,
 * in the details; none with trace = false. */
static void test_traceparent(void **state)
{
	struct check c;
	char trace[40] = "", span[24] = "", flags[4] = "";
	const char *id;

	(void)state;
	check_setup(&c, "/ok");
	run_check(&c);
	pthread_mutex_lock(&srv.mu);
	assert_int_equal(sscanf(srv.traceparent, "00-%32[0-9a-f]-%16[0-9a-f]-%2s", trace, span, flags), 3);
	pthread_mutex_unlock(&srv.mu);
	assert_int_equal(strlen(trace), 32);
	assert_int_equal(strlen(span), 16);
	assert_string_equal(flags, "01");
	id = json_string_value(detail("trace_id"));
	assert_non_null(id);
	assert_string_equal(id, trace);
	assert_memory_equal(trace, got.run_id, 16);
	check_clear(&c);

	check_setup(&c, "/ok");
	c.http.trace = false;
	run_check(&c);
	pthread_mutex_lock(&srv.mu);
	assert_string_equal(srv.traceparent, "");
	pthread_mutex_unlock(&srv.mu);
	assert_null(detail("trace_id"));
	check_clear(&c);
}

static void test_503(void **state)
{
	struct check c;

	(void)state;
	check_setup(&c, "/503");
	run_check(&c);
	assert_false(got.ok);
	assert_int_equal(got.error, PROBE_ERR_HTTP_STATUS);
	assert_string_equal(got.message, "HTTP 503 Service Unavailable (expected 200-399)");
	assert_int_equal(got.status_code, 503);
	check_clear(&c);

	/* allowed explicitly: passes */
	check_setup(&c, "/503");
	c.expect.status = xcalloc(1, sizeof(*c.expect.status));
	c.expect.status[0].lo = 500;
	c.expect.status[0].hi = 599;
	c.expect.n_status = 1;
	run_check(&c);
	assert_true(got.ok);
	check_clear(&c);
}

static void test_redirects(void **state)
{
	struct check c;

	(void)state;
	/* absolute then relative: two hops */
	check_setup(&c, "/redirect-abs");
	run_check(&c);
	assert_int_equal(got.error, PROBE_OK);
	assert_int_equal(got.status_code, 200);
	assert_int_equal(json_integer_value(detail("redirects")), 2);
	assert_non_null(strstr(json_string_value(detail("final_url")), "/ok"));
	assert_true(got.ttfb_us >= got.connect_us && got.connect_us >= got.dns_us);
	check_clear(&c);

	/* not followed with max_redirects = 0: the 302 itself passes 200-399 */
	check_setup(&c, "/redirect");
	c.http.max_redirects = 0;
	run_check(&c);
	assert_int_equal(got.error, PROBE_OK);
	assert_int_equal(got.status_code, 302);
	check_clear(&c);

	/* a loop stops at the limit */
	check_setup(&c, "/loop");
	c.http.max_redirects = 3;
	run_check(&c);
	assert_int_equal(got.error, PROBE_ERR_PROTOCOL);
	assert_non_null(strstr(got.message, "too many redirects: stopped after 3"));
	check_clear(&c);

	/* 303 after a POST continues with a GET and no body */
	check_setup(&c, "/see-other");
	c.http.method = xstrdup("POST");
	c.http.body = xstrdup("payload");
	c.expect.body_contains = xstrdup("GET ");
	run_check(&c);
	assert_int_equal(got.error, PROBE_OK);
	check_clear(&c);
}

static void test_timeout(void **state)
{
	struct check c;

	(void)state;
	check_setup(&c, "/slow");
	c.timeout_ms = 300;
	run_check(&c);
	assert_int_equal(got.error, PROBE_ERR_TIMEOUT);
	assert_string_equal(got.message, "no answer within 300ms while waiting for the response");
	assert_true(got.duration_us >= 250000);   /* ms-resolution loop timers */
	assert_true(got.connect_us >= 0);
	assert_int_equal(got.ttfb_us, -1);
	check_clear(&c);
}

static void test_big_body(void **state)
{
	struct check c;

	(void)state;
	check_setup(&c, "/big");
	c.http.max_body = 65536;
	c.expect.body_contains = xstrdup("start");
	run_check(&c);
	assert_int_equal(got.error, PROBE_OK);
	assert_int_equal(got.status_code, 200);
	assert_int_equal(got.bytes, 65536);
	assert_true(json_is_true(detail("truncated")));
	assert_string_equal(got.message, "HTTP 200 OK (body truncated)");
	check_clear(&c);

	/* a limit that is not a multiple of curl's buffers */
	check_setup(&c, "/big");
	c.http.max_body = 100001;
	run_check(&c);
	assert_int_equal(got.error, PROBE_OK);
	assert_int_equal(got.bytes, 100001);
	check_clear(&c);
}

static void test_close_and_refused(void **state)
{
	struct check c;
	int port;
	char want[64];

	(void)state;
	check_setup(&c, "/close");
	run_check(&c);
	assert_int_equal(got.error, PROBE_ERR_PROTOCOL);
	assert_string_equal(got.message, "server closed the connection without answering");
	check_clear(&c);

	bind_free(&port, 0);
	check_init(&c);
	c.name = xstrdup("refused");
	c.type = CHECK_HTTP;
	c.timeout_ms = 3000;
	c.http.url = xasprintf("http://127.0.0.1:%d/", port);
	run_check(&c);
	assert_int_equal(got.error, PROBE_ERR_CONNECT);
	snprintf(want, sizeof(want), "connection refused by 127.0.0.1:%d", port);
	assert_string_equal(got.message, want);
	assert_true(got.dns_us >= 0);
	assert_int_equal(got.connect_us, -1);
	check_clear(&c);
}

/* A resolver whose server refuses: the run fails as dns, quickly. */
static void test_dns_failure(void **state)
{
	struct resolver *saved = env.penv.resolver;
	struct resolver *bad;
	struct check c;
	char server[64], err[128];
	int port;

	(void)state;
	bind_free(&port, 0);
	snprintf(server, sizeof(server), "127.0.0.1:%d", port);
	bad = resolver_new(env.l, server, 1000, err, sizeof(err));
	assert_non_null(bad);
	env.penv.resolver = bad;
	check_init(&c);
	c.name = xstrdup("dns");
	c.type = CHECK_HTTP;
	c.timeout_ms = 3000;
	c.http.url = xstrdup("http://no-such-host.invalid/");
	run_check(&c);
	assert_int_equal(got.error, PROBE_ERR_DNS);
	assert_true(got.message[0] != '\0');
	check_clear(&c);
	env.penv.resolver = saved;
	resolver_free(bad);
	assert_int_equal(loop_active_count(env.l), 0);
}

static void test_assertions(void **state)
{
	struct check c;
	int code;
	PCRE2_SIZE off;

	(void)state;
	check_setup(&c, "/json");
	c.expect.json = xcalloc(1, sizeof(*c.expect.json));
	c.expect.json[0].path = xstrdup("$.items[-1]");
	c.expect.json[0].equals = json_integer(3);
	c.expect.n_json = 1;
	c.expect.headers = xcalloc(1, sizeof(*c.expect.headers));
	c.expect.headers[0].name = xstrdup("x-api");
	c.expect.headers[0].pattern = xstrdup("^v2$");
	c.expect.headers[0].re = pcre2_compile((PCRE2_SPTR) "^v2$", PCRE2_ZERO_TERMINATED, 0, &code,
	                                       &off, NULL);
	c.expect.n_headers = 1;
	c.expect.max_latency_ms = 5000;
	run_check(&c);
	assert_int_equal(got.error, PROBE_OK);
	assert_int_equal(got.n_assertions, 4);   /* status, header, json, latency */
	json_decref(c.expect.json[0].equals);
	c.expect.json[0].equals = json_string("4");
	run_check(&c);
	assert_int_equal(got.error, PROBE_ERR_ASSERTION);
	assert_string_equal(got.message, "json $.items[-1] == \"4\": got 3");
	check_clear(&c);

	/* a JSON assertion on a plain text body */
	check_setup(&c, "/ok");
	c.expect.json = xcalloc(1, sizeof(*c.expect.json));
	c.expect.json[0].path = xstrdup("$.status");
	c.expect.json[0].exists = true;
	c.expect.n_json = 1;
	run_check(&c);
	assert_int_equal(got.error, PROBE_ERR_ASSERTION);
	assert_non_null(strstr(got.message, "response is not JSON"));
	check_clear(&c);
}

static void test_methods(void **state)
{
	struct check c;

	(void)state;
	check_setup(&c, "/echo");
	c.http.method = xstrdup("PUT");
	c.http.body = xstrdup("hello");
	c.expect.body_contains = xstrdup("PUT hello");
	run_check(&c);
	assert_int_equal(got.error, PROBE_OK);
	check_clear(&c);

	check_setup(&c, "/ok");
	c.http.method = xstrdup("HEAD");
	run_check(&c);
	assert_int_equal(got.error, PROBE_OK);
	assert_int_equal(got.bytes, 0);
	check_clear(&c);
}

static void on_done_abort(struct probe_run *run, struct probe_result *r, void *arg)
{
	on_done(run, r, arg);
}

static void test_abort(void **state)
{
	struct check c;
	struct probe_run *run;
	uint64_t deadline;
	int before;

	(void)state;
	check_setup(&c, "/slow");
	pthread_mutex_lock(&srv.mu);
	before = srv.requests;
	pthread_mutex_unlock(&srv.mu);
	probe_result_clear(&got);
	memset(&got, 0, sizeof(got));
	done_calls = 0;
	run = probe_start(&env.penv, &c, on_done_abort, NULL);
	deadline = util_mono_ms() + 5000;
	for (;;) {
		int n;

		pthread_mutex_lock(&srv.mu);
		n = srv.requests;
		pthread_mutex_unlock(&srv.mu);
		if (n > before || util_mono_ms() > deadline)
			break;
		loop_run_once(env.l, 20);
	}
	assert_int_equal(done_calls, 0);
	probe_abort(run);
	assert_int_equal(done_calls, 1);
	assert_int_equal(got.error, PROBE_ERR_ABORTED);
	assert_true(got.connect_us >= 0);
	for (int i = 0; i < 20 && loop_active_count(env.l) > 0; i++)
		loop_run_once(env.l, 10);
	assert_int_equal(loop_active_count(env.l), 0);
	check_clear(&c);
}

/* A run that cannot start completes from the loop, not inside probe_start. */
static void test_cannot_start(void **state)
{
	struct check c;

	(void)state;
	check_init(&c);
	c.name = xstrdup("bad");
	c.type = CHECK_HTTP;
	c.timeout_ms = 3000;
	c.http.url = xstrdup("ftp://127.0.0.1/");
	run_check(&c);
	assert_int_equal(got.error, PROBE_ERR_INTERNAL);
	assert_non_null(strstr(got.message, "unsupported scheme"));
	check_clear(&c);

	/* aborting it before the loop ran still calls done once */
	check_init(&c);
	c.name = xstrdup("bad2");
	c.type = CHECK_HTTP;
	c.timeout_ms = 3000;
	c.http.url = xstrdup("not a url");
	done_calls = 0;
	probe_abort(probe_start(&env.penv, &c, on_done, NULL));
	assert_int_equal(done_calls, 1);
	assert_int_equal(got.error, PROBE_ERR_INTERNAL);
	assert_int_equal(loop_active_count(env.l), 0);
	check_clear(&c);
	probe_result_clear(&got);
	memset(&got, 0, sizeof(got));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ok),
		cmocka_unit_test(test_503),
		cmocka_unit_test(test_redirects),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_big_body),
		cmocka_unit_test(test_close_and_refused),
		cmocka_unit_test(test_dns_failure),
		cmocka_unit_test(test_assertions),
		cmocka_unit_test(test_methods),
		cmocka_unit_test(test_abort),
		cmocka_unit_test(test_cannot_start),
		cmocka_unit_test(test_traceparent),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

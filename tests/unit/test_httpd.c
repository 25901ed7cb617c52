/* test_httpd.c — the HTTP interface over the wire: every route of SPEC §3 that
 * exists so far, their error answers (400/401/403/404/405/413/503), secrets
 * masked, and a clear error when the port is taken. Talks to a real httpd on
 * 127.0.0.1 with libcurl; the loop is replaced by fake ops. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <curl/curl.h>

#include "unit.h"

#include "conf/conf.h"
#include "web/httpd.h"
#include "web/router.h"
#include "core/log.h"
#include "probes/result.h"
#include "web/snapshot.h"
#include "store/store.h"
#include "core/util.h"

#define ADMIN_TOKEN "s3cret-admin-token"
#define SEC 1000000LL

static char tmpdir[64];
static char dbpath[128];
static int port;
static struct conf *conf;
static struct store *store;
static struct httpd *httpd;
static bool fake_alive = true;        /* read on server threads: __atomic */
static int fake_runs;

/* --- fake loop -------------------------------------------------------------- */

static int fake_run_check(void *ctx, const char *name, struct probe_result *out)
{
	if (strcmp(name, "stopping") == 0)
		return -2;
	if (conf_find_check(conf, name) == NULL)
		return -1;
	__atomic_add_fetch(&fake_runs, 1, __ATOMIC_SEQ_CST);
	probe_result_init(out);
	out->ok = true;
	out->duration_us = 12345;
	out->status_code = 200;
	out->attempts = 1;
	/* A secret in a message must come out masked. */
	snprintf(out->message, sizeof(out->message), "got 200 with %s", ADMIN_TOKEN);
	return 0;
}

static bool fake_loop_alive(void *ctx)
{
	return __atomic_load_n(&fake_alive, __ATOMIC_SEQ_CST);
}

static const struct httpd_ops ops = {
	.run_check = fake_run_check,
	.loop_alive = fake_loop_alive,
};

/* --- client ------------------------------------------------------------------ */

struct reply {
	long status;
	char *body;
	size_t len;
	char allow[128];
	char www_auth[128];
	char content_type[128];
};

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct reply *r = arg;

	r->body = realloc(r->body, r->len + size * n + 1);
	memcpy(r->body + r->len, p, size * n);
	r->len += size * n;
	r->body[r->len] = '\0';
	return size * n;
}

static void header_copy(char *dst, size_t len, const char *v, size_t n)
{
	while (n > 0 && (v[n - 1] == '\r' || v[n - 1] == '\n'))
		n--;
	while (n > 0 && *v == ' ') {
		v++;
		n--;
	}
	if (n >= len)
		n = len - 1;
	memcpy(dst, v, n);
	dst[n] = '\0';
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
	struct reply *r = arg;
	size_t len = size * n;

	if (len > 6 && strncasecmp(p, "Allow:", 6) == 0)
		header_copy(r->allow, sizeof(r->allow), p + 6, len - 6);
	else if (len > 17 && strncasecmp(p, "WWW-Authenticate:", 17) == 0)
		header_copy(r->www_auth, sizeof(r->www_auth), p + 17, len - 17);
	else if (len > 13 && strncasecmp(p, "Content-Type:", 13) == 0)
		header_copy(r->content_type, sizeof(r->content_type), p + 13, len - 13);
	return len;
}

/* One request; body (may be NULL) sent with POST-like methods; chunked sends
 * it without Content-Length. */
static struct reply request(const char *method, const char *path, const char *auth,
                            const char *body, size_t body_len, bool chunked)
{
	struct reply r;
	CURL *c = curl_easy_init();
	struct curl_slist *hdrs = NULL;
	char url[512], hdr[256];

	memset(&r, 0, sizeof(r));
	assert_non_null(c);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (strcmp(method, "HEAD") == 0)
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &r);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);   /* send "..", as an attacker would */
	if (auth != NULL) {
		snprintf(hdr, sizeof(hdr), "Authorization: %s", auth);
		hdrs = curl_slist_append(hdrs, hdr);
	}
	if (body != NULL) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
		if (chunked)
			hdrs = curl_slist_append(hdrs, "Transfer-Encoding: chunked");
		hdrs = curl_slist_append(hdrs, "Expect:");
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	return r;
}

static struct reply get(const char *path)
{
	return request("GET", path, NULL, NULL, 0, false);
}

/* The reply's body as JSON (asserting it is JSON), then freed with the reply. */
static json_t *reply_json(struct reply *r)
{
	json_error_t e;
	json_t *j;

	assert_non_null(r->body);
	j = json_loads(r->body, 0, &e);
	if (j == NULL)
		fail_msg("not JSON (%s): %s", e.text, r->body);
	assert_string_equal(r->content_type, "application/json; charset=utf-8");
	free(r->body);
	r->body = NULL;
	return j;
}

/* Asserts status and an error object {"error": error, "detail": ...}. */
static void expect_error(struct reply r, long status, const char *error)
{
	json_t *j;

	if (r.status != status)
		fail_msg("expected %ld, got %ld: %s", status, r.status, r.body ? r.body : "");
	j = reply_json(&r);
	assert_string_equal(json_string_value(json_object_get(j, "error")), error);
	assert_true(json_is_string(json_object_get(j, "detail")));
	json_decref(j);
}

static const char *jstr(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	if (s == NULL)
		fail_msg("no string \"%s\"", key);
	return s;
}

/* --- fixture ----------------------------------------------------------------- */

static int free_port(void)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), p;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) != 0)
		return -1;
	p = ntohs(a.sin_port);
	close(fd);
	return p;
}

static struct conf *load_conf(const char *admin_line)
{
	struct conf_errors errs = { 0 };
	char *text = xasprintf(
		"agent = { listen = \"127.0.0.1:%d\"; database = \"%s\"; %s };\n"
		"checks = (\n"
		"  { name = \"web\"; group = \"Front\"; type = \"http\"; url = \"http://127.0.0.1:1/health\"; },\n"
		"  { name = \"db.main\"; type = \"tcp\"; host = \"127.0.0.1\"; port = 5432; }\n"
		");\n", port, dbpath, admin_line);
	struct conf *c = conf_load_string(text, "test.conf", &errs);

	for (size_t i = 0; i < errs.n; i++)
		fprintf(stderr, "%s\n", errs.lines[i]);
	conf_errors_free(&errs);
	free(text);
	return c;
}

/* A snapshot of conf where "web" ran (up, with a message holding the admin
 * token) and "db.main" is still pending. */
static void publish(struct conf *c, bool store_ok, bool on_time)
{
	struct snapshot *s = snapshot_new(c);

	s->checks[0].state = CHECK_STATE_UP;
	s->checks[0].has_last = true;
	s->checks[0].last_ts_us = util_wall_us() - SEC;
	s->checks[0].last_ok = true;
	s->checks[0].last_duration_us = 2500;
	s->checks[0].last_error = PROBE_OK;
	s->checks[0].last_message = xstrdup("token " ADMIN_TOKEN " seen");
	s->store_ok = store_ok;
	if (!store_ok)
		util_strlcpy(s->store_error, "disk I/O error", sizeof(s->store_error));
	s->scheduler_on_time = on_time;
	s->lag_p99_ms = on_time ? 1 : 2500;
	snapshot_publish(s);
}

static int setup(void **state)
{
	char err[256];
	struct probe_result r;
	int64_t base = util_wall_us() - 100 * SEC;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/pharos-test-httpd-XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	snprintf(dbpath, sizeof(dbpath), "%s/pharos.db", tmpdir);
	port = free_port();
	if (port <= 0)
		return -1;
	conf = load_conf("admin_token = \"" ADMIN_TOKEN "\";");
	if (conf == NULL)
		return -1;
	store = store_open(dbpath, err, sizeof(err));
	if (store == NULL)
		return -1;
	/* 30 results of web: one in three failed, durations 1..30 ms */
	for (int i = 0; i < 30; i++) {
		probe_result_init(&r);
		r.start_us = base + i * SEC;
		r.duration_us = (i + 1) * 1000;
		r.ok = i % 3 != 0;
		r.error = r.ok ? PROBE_OK : PROBE_ERR_CONNECT;
		snprintf(r.message, sizeof(r.message), "run %d", i);
		r.attempts = 1;
		store_append(store, "web", &r);
		probe_result_clear(&r);
	}
	store_flush(store);
	publish(conf, true, true);
	httpd = httpd_start(conf, &ops, err, sizeof(err));
	if (httpd == NULL) {
		fprintf(stderr, "httpd_start: %s\n", err);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	httpd_stop(httpd);
	snapshot_publish(NULL);
	store_close(store);
	conf_unref(conf);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		return -1;
	curl_global_cleanup();
	return 0;
}

/* --- tests ------------------------------------------------------------------- */

static void test_healthz(void **state)
{
	struct reply r = get("/healthz");

	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "ok\n");
	free(r.body);

	r = request("HEAD", "/healthz", NULL, NULL, 0, false);
	assert_int_equal(r.status, 200);
	free(r.body);

	__atomic_store_n(&fake_alive, false, __ATOMIC_SEQ_CST);
	expect_error(get("/healthz"), 503, "unavailable");
	__atomic_store_n(&fake_alive, true, __ATOMIC_SEQ_CST);
}

static void test_readyz(void **state)
{
	struct reply r = get("/readyz");
	json_t *j;

	assert_int_equal(r.status, 200);
	j = reply_json(&r);
	assert_string_equal(jstr(j, "status"), "ready");
	json_decref(j);

	publish(conf, false, true);
	r = get("/readyz");
	assert_int_equal(r.status, 503);
	j = reply_json(&r);
	assert_string_equal(jstr(j, "status"), "not ready");
	assert_non_null(strstr(jstr(j, "reason"), "disk I/O error"));
	json_decref(j);

	publish(conf, true, false);
	r = get("/readyz");
	assert_int_equal(r.status, 503);
	j = reply_json(&r);
	assert_non_null(strstr(jstr(j, "reason"), "scheduler"));
	json_decref(j);

	snapshot_publish(NULL);
	r = get("/readyz");
	assert_int_equal(r.status, 503);
	free(r.body);
	expect_error(get("/api/v1/checks"), 503, "unavailable");
	publish(conf, true, true);
}

static void test_checks(void **state)
{
	struct reply r = get("/api/v1/checks");
	json_t *j, *web, *db, *up;

	assert_int_equal(r.status, 200);
	assert_null(strstr(r.body, ADMIN_TOKEN));
	j = reply_json(&r);
	assert_true(json_is_array(j));
	assert_int_equal(json_array_size(j), 2);

	web = json_array_get(j, 0);
	assert_string_equal(jstr(web, "name"), "web");
	assert_string_equal(jstr(web, "group"), "Front");
	assert_string_equal(jstr(web, "type"), "http");
	assert_non_null(strstr(jstr(web, "target"), "127.0.0.1:1/health"));
	assert_string_equal(jstr(web, "state"), "up");
	assert_true(json_is_true(json_object_get(json_object_get(web, "last"), "ok")));
	assert_true(json_real_value(json_object_get(json_object_get(web, "last"), "duration_ms")) == 2.5);
	assert_string_equal(jstr(json_object_get(web, "last"), "message"), "token *** seen");
	assert_string_equal(jstr(json_object_get(web, "last"), "error"), "ok");
	up = json_object_get(web, "uptime");
	for (int i = 0; i < 4; i++) {
		static const char *keys[] = { "24h", "7d", "30d", "90d" };
		double pct = json_real_value(json_object_get(up, keys[i]));

		assert_true(pct > 66.6 && pct < 66.7);
	}
	/* durations 1..30 ms: exact p50 = 15, p95 = 29; the rollups' histogram
	 * (1-2-5 buckets) places each inside the right bucket: 10-20 and 20-50 */
	double p50 = json_real_value(json_object_get(json_object_get(web, "latency_ms"), "p50"));
	double p95 = json_real_value(json_object_get(json_object_get(web, "latency_ms"), "p95"));
	assert_true(p50 >= 10.0 && p50 <= 20.0);
	assert_true(p95 >= 20.0 && p95 <= 30.0);

	db = json_array_get(j, 1);
	assert_string_equal(jstr(db, "name"), "db.main");
	assert_true(json_is_null(json_object_get(db, "group")));
	assert_string_equal(jstr(db, "type"), "tcp");
	assert_string_equal(jstr(db, "state"), "pending");
	assert_true(json_is_null(json_object_get(db, "last")));
	assert_true(json_is_null(json_object_get(db, "uptime")));
	assert_true(json_is_null(json_object_get(db, "latency_ms")));
	json_decref(j);
}

static void test_check_one(void **state)
{
	struct reply r = get("/api/v1/checks/web");
	json_t *j, *recent;

	assert_int_equal(r.status, 200);
	j = reply_json(&r);
	assert_string_equal(jstr(j, "name"), "web");
	recent = json_object_get(j, "recent");
	assert_int_equal(json_array_size(recent), 20);
	assert_string_equal(jstr(json_array_get(recent, 0), "message"), "run 29");
	json_decref(j);

	r = get("/api/v1/checks/db.main");
	assert_int_equal(r.status, 200);
	j = reply_json(&r);
	assert_int_equal(json_array_size(json_object_get(j, "recent")), 0);
	json_decref(j);

	expect_error(get("/api/v1/checks/nope"), 404, "not_found");
	expect_error(get("/api/v1/checks/bad%20name"), 404, "not_found");
	expect_error(get("/api/v1/checks/%2e%2e%2fetc"), 404, "not_found");
	expect_error(get("/api/v1/checks/"
	                 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"), 404, "not_found");
}

static void test_results(void **state)
{
	struct reply r = get("/api/v1/checks/web/results");
	json_t *j;
	char path[160];
	int64_t base = util_wall_us() - 100 * SEC;

	assert_int_equal(r.status, 200);
	j = reply_json(&r);
	assert_int_equal(json_array_size(j), 30);
	assert_string_equal(jstr(json_array_get(j, 0), "message"), "run 29");
	json_decref(j);

	r = get("/api/v1/checks/web/results?limit=5");
	assert_int_equal(r.status, 200);
	j = reply_json(&r);
	assert_int_equal(json_array_size(j), 5);
	json_decref(j);

	/* Unix seconds: the base second is one of the rows written ~100 s ago
	 * (base here is computed a little later than in setup: allow one row). */
	snprintf(path, sizeof(path), "/api/v1/checks/web/results?since=%lld&until=%lld&limit=1000",
	         (long long)(base / SEC + 10), (long long)(base / SEC + 20));
	r = get(path);
	assert_int_equal(r.status, 200);
	j = reply_json(&r);
	assert_true(json_array_size(j) >= 9 && json_array_size(j) <= 11);
	json_decref(j);

	r = get("/api/v1/checks/web/results?since=2000-01-01T00:00:00Z&until=2000-01-02T00:00:00Z");
	assert_int_equal(r.status, 200);
	j = reply_json(&r);
	assert_int_equal(json_array_size(j), 0);
	json_decref(j);

	expect_error(get("/api/v1/checks/web/results?limit=0"), 400, "bad_request");
	expect_error(get("/api/v1/checks/web/results?limit=1001"), 400, "bad_request");
	expect_error(get("/api/v1/checks/web/results?limit=abc"), 400, "bad_request");
	expect_error(get("/api/v1/checks/web/results?limit=-5"), 400, "bad_request");
	expect_error(get("/api/v1/checks/web/results?limit=99999999999999999999"), 400, "bad_request");
	expect_error(get("/api/v1/checks/web/results?since=yesterday"), 400, "bad_request");
	expect_error(get("/api/v1/checks/web/results?until=2026-13-45T99:00:00Z"), 400, "bad_request");
	expect_error(get("/api/v1/checks/web/results?since=2000-01-02T00:00:00Z&until=2000-01-01T00:00:00Z"),
	             400, "bad_request");
	expect_error(get("/api/v1/checks/nope/results"), 404, "not_found");
}

static void test_not_found_and_methods(void **state)
{
	struct reply r;

	expect_error(get("/nothing-here"), 404, "not_found");
	expect_error(get("/nope"), 404, "not_found");
	expect_error(get("/api/v1/checks/web/results/extra"), 404, "not_found");
	expect_error(get("/api/v1/checks/web/"), 404, "not_found");

	r = request("POST", "/api/v1/checks/web", NULL, "", 0, false);
	assert_string_equal(r.allow, "GET, HEAD");
	expect_error(r, 405, "method_not_allowed");

	r = request("DELETE", "/healthz", NULL, NULL, 0, false);
	assert_string_equal(r.allow, "GET, HEAD");
	expect_error(r, 405, "method_not_allowed");

	r = get("/api/v1/checks/web/run");
	assert_string_equal(r.allow, "POST");
	expect_error(r, 405, "method_not_allowed");
}

static void test_run_admin(void **state)
{
	struct reply r;
	json_t *j;
	int runs = __atomic_load_n(&fake_runs, __ATOMIC_SEQ_CST);

	r = request("POST", "/api/v1/checks/web/run", NULL, NULL, 0, false);
	assert_string_equal(r.www_auth, "Bearer realm=\"pharos\"");
	expect_error(r, 401, "unauthorized");
	r = request("POST", "/api/v1/checks/web/run", "Bearer wrong-token", NULL, 0, false);
	assert_true(strncmp(r.www_auth, "Bearer", 6) == 0);
	expect_error(r, 401, "unauthorized");
	r = request("POST", "/api/v1/checks/web/run", "Basic " ADMIN_TOKEN, NULL, 0, false);
	expect_error(r, 401, "unauthorized");
	assert_int_equal(__atomic_load_n(&fake_runs, __ATOMIC_SEQ_CST), runs);

	r = request("POST", "/api/v1/checks/web/run", "Bearer " ADMIN_TOKEN, NULL, 0, false);
	assert_int_equal(r.status, 200);
	assert_null(strstr(r.body, ADMIN_TOKEN));
	j = reply_json(&r);
	assert_string_equal(jstr(j, "check"), "web");
	assert_true(json_is_true(json_object_get(j, "ok")));
	assert_int_equal(json_integer_value(json_object_get(j, "status_code")), 200);
	assert_string_equal(jstr(j, "message"), "got 200 with ***");
	json_decref(j);
	assert_int_equal(__atomic_load_n(&fake_runs, __ATOMIC_SEQ_CST), runs + 1);

	expect_error(request("POST", "/api/v1/checks/nope/run", "bearer " ADMIN_TOKEN, NULL, 0, false),
	             404, "not_found");
	expect_error(request("POST", "/api/v1/checks/stopping/run", "Bearer " ADMIN_TOKEN, NULL, 0, false),
	             503, "unavailable");
	expect_error(request("POST", "/api/v1/checks/bad%21/run", "Bearer " ADMIN_TOKEN, NULL, 0, false),
	             404, "not_found");

	/* After a reload without a token: 403, whatever is sent. */
	{
		struct conf *c = load_conf("");

		assert_non_null(c);
		httpd_update_conf(httpd, c);
		r = request("POST", "/api/v1/checks/web/run", "Bearer " ADMIN_TOKEN, NULL, 0, false);
		assert_non_null(strstr(r.body, "admin API disabled: no agent.admin_token configured"));
		expect_error(r, 403, "forbidden");
		httpd_update_conf(httpd, conf);
		conf_unref(c);
	}
	r = request("POST", "/api/v1/checks/web/run", "Bearer " ADMIN_TOKEN, NULL, 0, false);
	assert_int_equal(r.status, 200);
	free(r.body);
}

static void test_body_limits(void **state)
{
	size_t big = 100 * 1024;
	char *body = xmalloc(big);
	struct reply r;

	memset(body, 'x', big);
	expect_error(request("POST", "/api/v1/checks/web/run", "Bearer " ADMIN_TOKEN, body, big, false),
	             413, "payload_too_large");
	expect_error(request("POST", "/api/v1/checks/web/run", "Bearer " ADMIN_TOKEN, body, big, true),
	             413, "payload_too_large");
	/* A small body is fine. */
	r = request("POST", "/api/v1/checks/web/run", "Bearer " ADMIN_TOKEN, body, 1000, false);
	assert_int_equal(r.status, 200);
	free(r.body);
	/* The server still answers afterwards. */
	r = get("/healthz");
	assert_int_equal(r.status, 200);
	free(r.body);
	free(body);
}

static void test_port_taken(void **state)
{
	char err[256] = "", want[128];
	struct conf *c = load_conf("");

	assert_non_null(c);
	assert_null(httpd_start(c, &ops, err, sizeof(err)));
	snprintf(want, sizeof(want), "cannot listen on 127.0.0.1:%d: Address already in use", port);
	assert_string_equal(err, want);
	conf_unref(c);
}

/* Stopping releases the port (the listening socket is closed): a restart on
 * the same address works, and serves again. */
static void test_restart(void **state)
{
	char err[256] = "";
	struct reply r;

	httpd_stop(httpd);
	httpd = httpd_start(conf, &ops, err, sizeof(err));
	if (httpd == NULL)
		fail_msg("restart: %s", err);
	r = get("/healthz");
	assert_int_equal(r.status, 200);
	free(r.body);
}

/* Bad listen addresses are refused with the address in the message. */
static void test_bad_listen(void **state)
{
	static const char *bad[] = { "127.0.0.1", "127.0.0.1:99999", "[::1]9470", "a:b:c", "host:", "127.0.0.1:0x50" };
	struct conf *c = load_conf("");

	assert_non_null(c);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char err[256] = "";
		char *saved = c->agent.listen;

		c->agent.listen = (char *)bad[i];
		assert_null(httpd_start(c, &ops, err, sizeof(err)));
		c->agent.listen = saved;
		if (strstr(err, bad[i]) == NULL)
			fail_msg("%s: %s", bad[i], err);
	}
	conf_unref(c);
}

/* The path check before routing: each segment decoded once; NUL, '/' inside
 * a segment, "." and ".." and malformed escapes refused; 414 past the size. */
static void test_router_paths(void **state)
{
	static const struct {
		const char *raw;
		int rc;
		const char *out;
	} cases[] = {
		{ "/api/v1/checks/web", 0, "/api/v1/checks/web" },
		{ "/api/v1/checks/w%65b", 0, "/api/v1/checks/web" },
		{ "/api/v1/checks/web%2520", 0, "/api/v1/checks/web%20" },    /* decoded once */
		{ "/api/v1/checks/", 0, "/api/v1/checks/" },
		{ "/", 0, "/" },
		{ "/api/v1/checks/web%00junk", -1, NULL },
		{ "/api/v1/checks/web%2Fresults", -1, NULL },
		{ "/api/v1/checks/web%2fresults", -1, NULL },
		{ "/check/%2e%2e", -1, NULL },
		{ "/check/..", -1, NULL },
		{ "/check/.", -1, NULL },
		{ "/%2E/metrics", -1, NULL },
		{ "/%00/metrics", -1, NULL },
		{ "/api/v1/checks/%", -1, NULL },
		{ "/api/v1/checks/%4", -1, NULL },
		{ "/api/v1/checks/%zz", -1, NULL },
		{ "relative", -1, NULL },
		{ "", -1, NULL },
	};
	char out[64];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = router_clean_path(cases[i].raw, strlen(cases[i].raw), out, sizeof(out));

		if (rc != cases[i].rc)
			fail_msg("%s: got %d, want %d", cases[i].raw, rc, cases[i].rc);
		if (rc == 0)
			assert_string_equal(out, cases[i].out);
	}
	assert_int_equal(router_clean_path("/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	                                   73, out, sizeof(out)), -2);
	assert_true(router_query_ok(NULL));
	assert_true(router_query_ok("limit=5&since=%20"));
	assert_false(router_query_ok("token=abc%00def"));
	assert_true(router_valid_name("db.main", 7));
	assert_false(router_valid_name("..", 2));
	assert_false(router_valid_name(".", 1));
	assert_null(util_bearer_token(NULL));
	assert_null(util_bearer_token("Basic abc"));
	assert_null(util_bearer_token("Bearer"));
	assert_null(util_bearer_token("Bearer   "));
	assert_null(util_bearer_token("Bearerabc"));
	assert_string_equal(util_bearer_token("bearer \t abc"), "abc");
}

/* Encoded names never reach another check, over the wire. */
static void test_encoded_names(void **state)
{
	static const char *bad[] = {
		"/api/v1/checks/web%00junk", "/api/v1/checks/web%2Fresults", "/api/v1/checks/%2e%2e",
		"/api/v1/checks/web/..", "/%00/metrics", "/metrics%00", "/api/v1/checks%2Fweb",
	};
	struct reply r;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = get(bad[i]);
		if (r.status != 404)
			fail_msg("%s: got %ld", bad[i], r.status);
		assert_null(strstr(r.body, "\"name\":\"web\""));
		free(r.body);
	}
	expect_error(request("POST", "/api/v1/checks/web%00/run", "Bearer " ADMIN_TOKEN, NULL, 0, false),
	             404, "not_found");
	expect_error(get("/api/v1/checks/web/results?limit=5%00"), 400, "bad_request");
	r = get("/api/v1/checks/w%65b");
	assert_int_equal(r.status, 200);
	free(r.body);
}

/* agent.health_listen: health, readiness and metrics on a second port, and
 * nothing else there. */
static void test_health_listen(void **state)
{
	char err[256] = "", line[128];
	int main_port = port, hp = free_port();
	struct conf *c;
	struct reply r;

	snprintf(line, sizeof(line), "health_listen = \"127.0.0.1:%d\";", hp);
	c = load_conf(line);
	assert_non_null(c);
	httpd_stop(httpd);
	httpd = httpd_start(c, &ops, err, sizeof(err));
	if (httpd == NULL)
		fail_msg("httpd_start: %s", err);
	port = hp;
	r = get("/healthz");
	assert_int_equal(r.status, 200);
	free(r.body);
	r = get("/metrics");
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "pharos_build_info"));
	free(r.body);
	r = get("/readyz");
	assert_int_equal(r.status, 200);
	free(r.body);
	expect_error(get("/api/v1/checks"), 404, "not_found");
	expect_error(request("POST", "/api/v1/checks/web/run", "Bearer " ADMIN_TOKEN, NULL, 0, false),
	             404, "not_found");
	port = main_port;
	r = get("/api/v1/checks");
	assert_int_equal(r.status, 200);
	free(r.body);
	httpd_stop(httpd);
	httpd = httpd_start(conf, &ops, err, sizeof(err));
	if (httpd == NULL)
		fail_msg("httpd_start: %s", err);
	conf_unref(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_healthz),
		cmocka_unit_test(test_readyz),
		cmocka_unit_test(test_checks),
		cmocka_unit_test(test_check_one),
		cmocka_unit_test(test_results),
		cmocka_unit_test(test_not_found_and_methods),
		cmocka_unit_test(test_run_admin),
		cmocka_unit_test(test_body_limits),
		cmocka_unit_test(test_port_taken),
		cmocka_unit_test(test_bad_listen),
		cmocka_unit_test(test_restart),
		cmocka_unit_test(test_router_paths),
		cmocka_unit_test(test_encoded_names),
		cmocka_unit_test(test_health_listen),
	};

	log_setup(LOG_FORMAT_LOGFMT, LOG_ERROR);
	return cmocka_run_group_tests(tests, setup, teardown);
}

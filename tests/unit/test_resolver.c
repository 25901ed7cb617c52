/* test_resolver.c — c-ares on the loop: literals answered from the loop,
 * localhost, a fake DNS server on 127.0.0.1 (answers, cache), a silent server
 * (timeout message within the timeout), cancel. Every test ends with an empty
 * loop. Also the address helpers without c-ares: the server option's syntax
 * and the address list (no duplicates, port 0). */
#include "unit.h"
#include "core/loop.h"
#include "core/resolver.h"
#include "core/resolver_addr.h"
#include "core/util.h"

#include <ares.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct answer {
	bool called;
	int calls;
	int status;
	char errmsg[256];
	struct resolver_addrs addrs;
	int ares_status;
	int alen;
	uint64_t elapsed_us;
};

static void on_addr(int status, const char *errmsg, const struct resolver_addrs *addrs, void *arg)
{
	struct answer *a = arg;

	a->called = true;
	a->calls++;
	a->status = status;
	if (errmsg != NULL)
		snprintf(a->errmsg, sizeof(a->errmsg), "%s", errmsg);
	if (addrs != NULL)
		a->addrs = *addrs;
	if (status == 0)
		assert_non_null(addrs);
	else
		assert_non_null(errmsg);
}

static void on_raw(int ares_status, const unsigned char *abuf, int alen, uint64_t elapsed_us,
                   void *arg)
{
	struct answer *a = arg;

	a->called = true;
	a->calls++;
	a->ares_status = ares_status;
	a->alen = alen;
	a->elapsed_us = elapsed_us;
}

static void run_until(struct loop *l, const bool *done, uint64_t limit_ms)
{
	uint64_t end = util_mono_ms() + limit_ms;

	while (!*done) {
		if (util_mono_ms() > end)
			fail_msg("condition not reached within %llu ms", (unsigned long long)limit_ms);
		loop_run_once(l, 50);
	}
}

/* Runs the loop for ms milliseconds. */
static void run_for(struct loop *l, uint64_t ms)
{
	uint64_t end = util_mono_ms() + ms;

	while (util_mono_ms() < end)
		loop_run_once(l, 20);
}

/* A UDP socket on 127.0.0.1, port chosen by the kernel. */
static int udp_socket(int *port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	*port = ntohs(sin.sin_port);
	return fd;
}

static struct resolver *new_resolver(struct loop *l, int port, uint64_t timeout_ms)
{
	char server[64], err[256] = "";
	struct resolver *r;

	snprintf(server, sizeof(server), "127.0.0.1:%d", port);
	r = resolver_new(l, server, timeout_ms, err, sizeof(err));
	if (r == NULL)
		fail_msg("resolver_new: %s", err);
	return r;
}

static void test_literal_from_loop(void **state)
{
	struct loop *l = loop_new();
	char err[256];
	struct resolver *r = resolver_new(l, NULL, 1000, err, sizeof(err));
	struct answer a4 = { 0 }, a6 = { 0 }, ab = { 0 }, bad = { 0 };

	assert_non_null(r);
	assert_non_null(resolver_lookup(r, "192.0.2.7", AF_UNSPEC, on_addr, &a4));
	assert_non_null(resolver_lookup(r, "2001:db8::1", AF_INET6, on_addr, &a6));
	assert_non_null(resolver_lookup(r, "[::1]", AF_UNSPEC, on_addr, &ab));
	assert_non_null(resolver_lookup(r, "192.0.2.7", AF_INET6, on_addr, &bad));
	/* Never from inside resolver_lookup. */
	assert_false(a4.called || a6.called || ab.called || bad.called);
	run_until(l, &bad.called, 2000);
	assert_true(a4.called && a6.called && ab.called);
	assert_int_equal(a4.status, 0);
	assert_int_equal(a4.addrs.n, 1);
	assert_string_equal(a4.addrs.text[0], "192.0.2.7");
	assert_int_equal(a4.addrs.addr[0].ss_family, AF_INET);
	assert_true(a4.addrs.elapsed_us == 0);
	assert_int_equal(a6.status, 0);
	assert_string_equal(a6.addrs.text[0], "2001:db8::1");
	assert_int_equal(ab.status, 0);
	assert_string_equal(ab.addrs.text[0], "::1");
	assert_int_equal(bad.status, -1);
	assert_non_null(strstr(bad.errmsg, "IPv4"));
	resolver_free(r);
	assert_int_equal(loop_active_count(l), 0);
	loop_free(l);
}

static void test_localhost(void **state)
{
	struct loop *l = loop_new();
	char err[256];
	struct resolver *r = resolver_new(l, NULL, 2000, err, sizeof(err));
	struct answer a = { 0 };

	assert_non_null(r);
	assert_non_null(resolver_lookup(r, "localhost", AF_INET, on_addr, &a));
	assert_false(a.called);
	run_until(l, &a.called, 3000);
	assert_int_equal(a.status, 0);
	assert_true(a.addrs.n >= 1);
	assert_string_equal(a.addrs.text[0], "127.0.0.1");
	resolver_free(r);
	assert_int_equal(loop_active_count(l), 0);
	loop_free(l);
}

static void test_bad_server(void **state)
{
	static const char *const bad[] = {
		"", "example.com", "1.2.3", "1.2.3.4:0", "1.2.3.4:65536", "1.2.3.4:x",
		"[::1", "[::1]x", "[1.2.3.4]:53", "::1:53:zz", "1.2.3.4:53:53",
	};
	static const char *const good[] = { "1.1.1.1", "127.0.0.1:5353", "[::1]:53", "::1", "[::1]" };
	struct loop *l = loop_new();
	char err[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (resolver_new(l, bad[i], 1000, err, sizeof(err)) != NULL)
			fail_msg("accepted server \"%s\"", bad[i]);
		assert_non_null(strstr(err, "invalid DNS server"));
	}
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct resolver *r = resolver_new(l, good[i], 1000, err, sizeof(err));

		if (r == NULL)
			fail_msg("rejected server \"%s\": %s", good[i], err);
		resolver_free(r);
	}
	assert_int_equal(loop_active_count(l), 0);
	loop_free(l);
}

/* Nothing answers on this socket: queries must end with the timeout message,
 * within the timeout. */
static void test_timeout(void **state)
{
	struct loop *l = loop_new();
	int port, fd = udp_socket(&port);
	struct resolver *r = new_resolver(l, port, 300);
	struct answer a = { 0 }, q = { 0 };
	uint64_t start = util_mono_ms(), took;

	assert_non_null(resolver_lookup(r, "silent.example", AF_INET, on_addr, &a));
	assert_non_null(resolver_query(r, "silent.example", ns_t_mx, on_raw, &q));
	run_until(l, &a.called, 2000);
	run_until(l, &q.called, 2000);
	took = util_mono_ms() - start;
	assert_int_equal(a.status, -1);
	assert_string_equal(a.errmsg, "DNS server did not answer for silent.example within 300 ms");
	assert_int_equal(q.ares_status, ARES_ETIMEOUT);
	assert_true(took >= 250);
	assert_true(took < 600);
	resolver_free(r);
	assert_int_equal(loop_active_count(l), 0);
	close(fd);
	loop_free(l);
}

/* A port where nothing is bound: an error (refused or timeout) within the
 * timeout, in words. */
static void test_closed_port(void **state)
{
	struct loop *l = loop_new();
	int port, fd = udp_socket(&port);
	struct resolver *r;
	struct answer a = { 0 };
	uint64_t start;

	close(fd);  /* the port is now (almost certainly) unused */
	r = new_resolver(l, port, 300);
	start = util_mono_ms();
	assert_non_null(resolver_lookup(r, "closed.example", AF_INET, on_addr, &a));
	run_until(l, &a.called, 2000);
	assert_true(util_mono_ms() - start < 600);
	assert_int_equal(a.status, -1);
	assert_non_null(strstr(a.errmsg, "closed.example"));
	resolver_free(r);
	assert_int_equal(loop_active_count(l), 0);
	loop_free(l);
}

/* --- a fake DNS server on the loop ------------------------------------------- */

struct fake_dns {
	int fd;
	int queries;
	bool nxdomain;
};

/* Answers every A query with 192.0.2.55 (TTL 30), others with no records, or
 * everything with NXDOMAIN. */
static void fake_dns_read(struct loop *l, int fd, int events, void *arg)
{
	struct fake_dns *f = arg;
	unsigned char buf[512], out[600];
	struct sockaddr_storage from;
	socklen_t flen = sizeof(from);
	ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &flen);
	size_t qend = 12, o;
	int qtype;

	if (n < 12)
		return;
	f->queries++;
	while (qend < (size_t)n && buf[qend] != 0)
		qend += buf[qend] + 1;
	qend += 1 + 4;  /* root label, qtype, qclass */
	if (qend > (size_t)n)
		return;
	qtype = (buf[qend - 4] << 8) | buf[qend - 3];
	memcpy(out, buf, qend);
	out[2] = 0x81;                              /* QR, RD */
	out[3] = f->nxdomain ? 0x83 : 0x80;         /* RA, rcode */
	out[4] = 0; out[5] = 1;                     /* qdcount */
	out[6] = 0; out[7] = 0;                     /* ancount */
	out[8] = out[9] = out[10] = out[11] = 0;
	o = qend;
	if (!f->nxdomain && qtype == ns_t_a) {
		static const unsigned char rr[] = {
			0xc0, 0x0c, 0x00, 0x01, 0x00, 0x01,     /* name ptr, A, IN */
			0x00, 0x00, 0x00, 0x1e,                 /* TTL 30 */
			0x00, 0x04, 192, 0, 2, 55,
		};
		memcpy(out + o, rr, sizeof(rr));
		o += sizeof(rr);
		out[7] = 1;
	}
	sendto(fd, out, o, 0, (struct sockaddr *)&from, flen);
}

static void test_fake_server_and_cache(void **state)
{
	struct loop *l = loop_new();
	struct fake_dns f = { 0 };
	int port;
	struct resolver *r;
	struct answer a = { 0 }, b = { 0 }, c = { 0 }, q = { 0 };

	f.fd = udp_socket(&port);
	assert_int_equal(loop_fd_set(l, f.fd, LOOP_READ, fake_dns_read, &f), 0);
	r = new_resolver(l, port, 1000);

	assert_non_null(resolver_lookup(r, "www.pharos.test", AF_INET, on_addr, &a));
	run_until(l, &a.called, 2000);
	assert_int_equal(a.status, 0);
	assert_int_equal(a.addrs.n, 1);
	assert_string_equal(a.addrs.text[0], "192.0.2.55");
	assert_true(a.addrs.elapsed_us > 0);
	assert_int_equal(f.queries, 1);

	/* Cached: no query, elapsed 0, still from the loop. Case does not matter. */
	assert_non_null(resolver_lookup(r, "WWW.pharos.test", AF_INET, on_addr, &b));
	assert_false(b.called);
	run_until(l, &b.called, 2000);
	assert_int_equal(b.status, 0);
	assert_string_equal(b.addrs.text[0], "192.0.2.55");
	assert_true(b.addrs.elapsed_us == 0);
	assert_int_equal(f.queries, 1);

	/* Raw query. */
	assert_non_null(resolver_query(r, "www.pharos.test", ns_t_a, on_raw, &q));
	run_until(l, &q.called, 2000);
	assert_int_equal(q.ares_status, ARES_SUCCESS);
	assert_true(q.alen > 12);
	assert_int_equal(f.queries, 2);

	/* NXDOMAIN in words. */
	f.nxdomain = true;
	assert_non_null(resolver_lookup(r, "nope.pharos.test", AF_INET, on_addr, &c));
	run_until(l, &c.called, 2000);
	assert_int_equal(c.status, -1);
	assert_string_equal(c.errmsg, "no such host: nope.pharos.test (NXDOMAIN)");

	resolver_free(r);
	loop_fd_set(l, f.fd, 0, NULL, NULL);
	close(f.fd);
	assert_int_equal(a.calls + b.calls + c.calls + q.calls, 4);
	assert_int_equal(loop_active_count(l), 0);
	loop_free(l);
}

static void test_cancel(void **state)
{
	struct loop *l = loop_new();
	int port, fd = udp_socket(&port);
	struct resolver *r = new_resolver(l, port, 200);
	struct answer a = { 0 }, b = { 0 }, c = { 0 }, d = { 0 };
	struct resolver_req *ra, *rb, *rc;

	ra = resolver_lookup(r, "cancel.example", AF_UNSPEC, on_addr, &a);
	rb = resolver_lookup(r, "192.0.2.1", AF_INET, on_addr, &b);
	rc = resolver_query(r, "cancel.example", ns_t_txt, on_raw, &c);
	assert_non_null(ra);
	assert_non_null(rb);
	assert_non_null(rc);
	resolver_cancel(ra);
	resolver_cancel(rb);
	resolver_cancel(rc);
	run_for(l, 400);
	assert_false(a.called);
	assert_false(b.called);
	assert_false(c.called);
	/* A request still in flight when the resolver is freed: no callback either. */
	assert_non_null(resolver_lookup(r, "inflight.example", AF_INET, on_addr, &d));
	loop_run_once(l, 10);
	resolver_free(r);
	assert_false(d.called);
	assert_int_equal(loop_active_count(l), 0);
	close(fd);
	loop_free(l);
}

/* The server option: the forms accepted, the port defaulted to 53, and the
 * rest refused. */
static void test_server_csv(void **state)
{
	static const struct { const char *in, *out; } ok[] = {
		{ "1.1.1.1", "1.1.1.1:53" },
		{ "127.0.0.1:5353", "127.0.0.1:5353" },
		{ "[::1]", "[::1]:53" },
		{ "[::1]:5300", "[::1]:5300" },
		{ "2001:db8::1", "[2001:db8::1]:53" },
	};
	static const char *const bad[] = {
		"", "dns.example", "1.1.1.1:", "1.1.1.1:0", "1.1.1.1:65536", "1.1.1.1:53x",
		"1.1.1.1:+53", "[::1", "[::1]x", "[]", "[1.1.1.1]", "300.1.1.1",
	};
	char out[64];

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(resolver_server_csv(ok[i].in, out, sizeof(out)), 0);
		assert_string_equal(out, ok[i].out);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(resolver_server_csv(bad[i], out, sizeof(out)), -1);
	assert_int_equal(resolver_server_csv(NULL, out, sizeof(out)), -1);
}

/* Addresses are kept once each, with port 0 and their numeric text. */
static void test_addrs_add(void **state)
{
	struct resolver_addrs a;
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	struct sockaddr other;

	memset(&a, 0, sizeof(a));
	memset(&sin, 0, sizeof(sin));
	memset(&sin6, 0, sizeof(sin6));
	memset(&other, 0, sizeof(other));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(80);
	inet_pton(AF_INET, "192.0.2.7", &sin.sin_addr);
	sin6.sin6_family = AF_INET6;
	inet_pton(AF_INET6, "2001:db8::7", &sin6.sin6_addr);
	other.sa_family = AF_UNIX;

	resolver_addrs_add(&a, (struct sockaddr *)&sin);
	resolver_addrs_add(&a, (struct sockaddr *)&sin);
	resolver_addrs_add(&a, (struct sockaddr *)&sin6);
	resolver_addrs_add(&a, &other);
	assert_int_equal(a.n, 2);
	assert_string_equal(a.text[0], "192.0.2.7");
	assert_string_equal(a.text[1], "2001:db8::7");
	assert_int_equal(a.len[0], sizeof(struct sockaddr_in));
	assert_int_equal(a.len[1], sizeof(struct sockaddr_in6));
	assert_int_equal(((struct sockaddr_in *)(void *)&a.addr[0])->sin_port, 0);
	for (int i = 0; i < 2 * RESOLVER_MAX_ADDRS; i++) {
		sin.sin_addr.s_addr = htonl(0xc0000200u + (unsigned)i);
		resolver_addrs_add(&a, (struct sockaddr *)&sin);
	}
	assert_int_equal(a.n, RESOLVER_MAX_ADDRS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_literal_from_loop),
		cmocka_unit_test(test_localhost),
		cmocka_unit_test(test_bad_server),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_closed_port),
		cmocka_unit_test(test_fake_server_and_cache),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_server_csv),
		cmocka_unit_test(test_addrs_add),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

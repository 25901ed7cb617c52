/* test_dns_probe.c — the dns check type against a tiny UDP DNS responder on
 * 127.0.0.1 (a helper thread with a fixed zone): every record type parsed to
 * the text users write, rcodes, the expect settings, timeouts, malformed
 * answers, shared resolvers and an empty loop at the end. */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <ctype.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "unit.h"
#include "probe_fixture.h"

#include "probes/check.h"
#include "core/loop.h"
#include "probes/probe.h"
#include "core/resolver.h"
#include "probes/result.h"
#include "core/util.h"

/* --- the responder ------------------------------------------------------------ */

struct dnsd {
	int fd;
	int port;
	pthread_t th;
	atomic_int stop;
	atomic_int queries;
};

struct pkt {
	unsigned char b[1500];
	size_t n;
};

static void put8(struct pkt *p, unsigned v)
{
	p->b[p->n++] = (unsigned char)v;
}

static void put16(struct pkt *p, unsigned v)
{
	put8(p, v >> 8);
	put8(p, v & 0xff);
}

static void put32(struct pkt *p, unsigned long v)
{
	put16(p, (unsigned)(v >> 16));
	put16(p, (unsigned)(v & 0xffff));
}

/* "mail.example.com" as labels, ending in the root ("" is the root alone). */
static void putname(struct pkt *p, const char *name)
{
	while (*name) {
		const char *dot = strchr(name, '.');
		size_t l = dot ? (size_t)(dot - name) : strlen(name);

		put8(p, (unsigned)l);
		memcpy(p->b + p->n, name, l);
		p->n += l;
		name += l + (dot ? 1 : 0);
	}
	put8(p, 0);
}

/* Starts a record owned by the question's name (pointer to offset 12); the
 * caller writes the rdata and then calls rr_end with the returned offset. */
static size_t rr_begin(struct pkt *p, unsigned type)
{
	put16(p, 0xc00c);
	put16(p, type);
	put16(p, ns_c_in);
	put32(p, 300);
	put16(p, 0);            /* rdlength, patched by rr_end */
	return p->n;
}

static void rr_end(struct pkt *p, size_t start)
{
	size_t len = p->n - start;

	p->b[start - 2] = (unsigned char)(len >> 8);
	p->b[start - 1] = (unsigned char)(len & 0xff);
}

static void rr_a(struct pkt *p, const char *ip)
{
	size_t s = rr_begin(p, ns_t_a);

	inet_pton(AF_INET, ip, p->b + p->n);
	p->n += 4;
	rr_end(p, s);
}

static void rr_name(struct pkt *p, unsigned type, const char *name)
{
	size_t s = rr_begin(p, type);

	putname(p, name);
	rr_end(p, s);
}

static void rr_txt(struct pkt *p, const char *const *strings)
{
	size_t s = rr_begin(p, ns_t_txt);

	for (; *strings; strings++) {
		size_t l = strlen(*strings);

		put8(p, (unsigned)l);
		memcpy(p->b + p->n, *strings, l);
		p->n += l;
	}
	rr_end(p, s);
}

/* Writes the answer for question (qname, qtype) after the copied question;
 * returns the rcode, or -1 to stay silent. Sets *ancount. */
static int zone(struct pkt *p, const char *qname, unsigned qtype, unsigned *an)
{
	size_t s;

	*an = 0;
	if (strcmp(qname, "silent.test") == 0)
		return -1;
	if (strcmp(qname, "servfail.test") == 0)
		return ns_r_servfail;
	if (strcmp(qname, "refused.test") == 0)
		return ns_r_refused;
	if (strcmp(qname, "empty.test") == 0)
		return ns_r_noerror;
	if (strcmp(qname, "bad.test") == 0) {
		/* One answer announced, only half of it sent. */
		put16(p, 0xc00c);
		put16(p, ns_t_a);
		*an = 1;
		return ns_r_noerror;
	}
	if (strcmp(qname, "badlen.test") == 0 && qtype == ns_t_a) {
		s = rr_begin(p, ns_t_a);
		put8(p, 1), put8(p, 2), put8(p, 3);
		rr_end(p, s);
		*an = 1;
		return ns_r_noerror;
	}
	if (strcmp(qname, "a.test") == 0 && qtype == ns_t_a) {
		rr_a(p, "203.0.113.7");
		rr_a(p, "203.0.113.8");
		*an = 2;
		return ns_r_noerror;
	}
	if (strcmp(qname, "chain.test") == 0 && qtype == ns_t_a) {
		/* A CNAME to real.test, then real.test's address. */
		size_t real;

		s = rr_begin(p, ns_t_cname);
		real = p->n;
		putname(p, "real.test");
		rr_end(p, s);
		put16(p, 0xc000 | (unsigned)real);
		put16(p, ns_t_a);
		put16(p, ns_c_in);
		put32(p, 300);
		put16(p, 4);
		inet_pton(AF_INET, "192.0.2.1", p->b + p->n);
		p->n += 4;
		*an = 2;
		return ns_r_noerror;
	}
	if (strcmp(qname, "aaaa.test") == 0 && qtype == ns_t_aaaa) {
		s = rr_begin(p, ns_t_aaaa);
		inet_pton(AF_INET6, "2001:db8::1", p->b + p->n);
		p->n += 16;
		rr_end(p, s);
		*an = 1;
		return ns_r_noerror;
	}
	if (strcmp(qname, "cname.test") == 0 && qtype == ns_t_cname) {
		rr_name(p, ns_t_cname, "target.example.com");
		*an = 1;
		return ns_r_noerror;
	}
	if (strcmp(qname, "ns.test") == 0 && qtype == ns_t_ns) {
		rr_name(p, ns_t_ns, "ns1.example.com");
		rr_name(p, ns_t_ns, "ns2.example.com");
		*an = 2;
		return ns_r_noerror;
	}
	if (strcmp(qname, "mx.test") == 0 && qtype == ns_t_mx) {
		s = rr_begin(p, ns_t_mx);
		put16(p, 10);
		putname(p, "mail.example.com");
		rr_end(p, s);
		/* "MX2" then a compression pointer to "test" inside the question
		 * (offset 12 + 3: after the label "\2mx"). */
		s = rr_begin(p, ns_t_mx);
		put16(p, 20);
		put8(p, 3);
		memcpy(p->b + p->n, "MX2", 3);
		p->n += 3;
		put16(p, 0xc000 | 15);
		rr_end(p, s);
		*an = 2;
		return ns_r_noerror;
	}
	if (strcmp(qname, "nullmx.test") == 0 && qtype == ns_t_mx) {
		s = rr_begin(p, ns_t_mx);
		put16(p, 0);
		putname(p, "");
		rr_end(p, s);
		*an = 1;
		return ns_r_noerror;
	}
	if (strcmp(qname, "txt.test") == 0 && qtype == ns_t_txt) {
		static const char *const spf[] = { "v=spf1 ", "-all", NULL };
		static const char *const hello[] = { "hello", NULL };
		static const char *const bin[] = { "caf\xff", NULL };

		rr_txt(p, spf);
		rr_txt(p, hello);
		rr_txt(p, bin);
		*an = 3;
		return ns_r_noerror;
	}
	if (strcmp(qname, "soa.test") == 0 && qtype == ns_t_soa) {
		s = rr_begin(p, ns_t_soa);
		putname(p, "ns1.example.com");
		putname(p, "hostmaster.example.com");
		put32(p, 2024010101UL);
		put32(p, 3600);
		put32(p, 600);
		put32(p, 86400);
		put32(p, 300);
		rr_end(p, s);
		*an = 1;
		return ns_r_noerror;
	}
	if (strcmp(qname, "srv.test") == 0 && qtype == ns_t_srv) {
		s = rr_begin(p, ns_t_srv);
		put16(p, 10);
		put16(p, 60);
		put16(p, 5060);
		putname(p, "sip.example.com");
		rr_end(p, s);
		*an = 1;
		return ns_r_noerror;
	}
	if (strcmp(qname, "a.test") == 0 || strcmp(qname, "aaaa.test") == 0 ||
	    strcmp(qname, "mx.test") == 0)
		return ns_r_noerror;   /* the name exists, not with this type */
	return ns_r_nxdomain;
}

/* Answers one query in q[0..n) into p; returns -1 to stay silent. */
static int dnsd_answer(const unsigned char *q, size_t n, struct pkt *p)
{
	char qname[256];
	size_t i = 12, o = 0;
	unsigned qtype, an;
	int rcode;

	if (n < 17)
		return -1;
	while (i < n && q[i] != 0) {
		size_t l = q[i++];

		if (l > 63 || i + l > n || o + l + 1 >= sizeof(qname))
			return -1;
		if (o)
			qname[o++] = '.';
		for (size_t k = 0; k < l; k++)
			qname[o++] = (char)tolower(q[i + k]);
		i += l;
	}
	qname[o] = '\0';
	if (i + 5 > n)
		return -1;
	qtype = (unsigned)q[i + 1] << 8 | q[i + 2];
	i += 5;                 /* root byte, type, class */

	p->n = 0;
	put16(p, (unsigned)q[0] << 8 | q[1]);      /* id */
	put8(p, 0x80 | (q[2] & 0x01));              /* QR, RD copied */
	put8(p, 0x80);                              /* RA, rcode patched below */
	put16(p, 1);
	put16(p, 0);            /* ancount, patched below */
	put16(p, 0);
	put16(p, 0);
	memcpy(p->b + p->n, q + 12, i - 12);       /* the question as asked */
	p->n += i - 12;
	rcode = zone(p, qname, qtype, &an);
	if (rcode < 0)
		return -1;
	p->b[3] |= (unsigned char)rcode;
	p->b[6] = (unsigned char)(an >> 8);
	p->b[7] = (unsigned char)(an & 0xff);
	return 0;
}

static void *dnsd_main(void *arg)
{
	struct dnsd *d = arg;

	while (!atomic_load(&d->stop)) {
		struct pollfd pf = { .fd = d->fd, .events = POLLIN };
		unsigned char q[1500];
		struct sockaddr_storage from;
		socklen_t flen = sizeof(from);
		struct pkt p;
		ssize_t n;

		if (poll(&pf, 1, 20) != 1)
			continue;
		n = recvfrom(d->fd, q, sizeof(q), 0, (struct sockaddr *)&from, &flen);
		if (n <= 0)
			continue;
		atomic_fetch_add(&d->queries, 1);
		if (dnsd_answer(q, (size_t)n, &p) == 0)
			sendto(d->fd, p.b, p.n, 0, (struct sockaddr *)&from, flen);
	}
	return NULL;
}

static void dnsd_start(struct dnsd *d)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);

	d->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(d->fd >= 0);
	assert_int_equal(bind(d->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(d->fd, (struct sockaddr *)&sa, &len), 0);
	d->port = ntohs(sa.sin_port);
	atomic_store(&d->stop, 0);
	atomic_store(&d->queries, 0);
	assert_int_equal(pthread_create(&d->th, NULL, dnsd_main, d), 0);
}

static void dnsd_stop(struct dnsd *d)
{
	atomic_store(&d->stop, 1);
	pthread_join(d->th, NULL);
	close(d->fd);
}

/* --- running probes ------------------------------------------------------------ */

struct fixture {
	struct probe_fixture p;     /* the loop, the check and its result */
	struct dnsd dnsd;
	char server[64];
};

/* f->p.check becomes a dns check against the responder with no expectations. */
static void fresh_check(struct fixture *f)
{
	check_clear(&f->p.check);
	f->p.check.name = xstrdup("dns-test");
	f->p.check.group = xstrdup("");
	f->p.check.target = xstrdup("dns test");
	f->p.check.type = CHECK_DNS;
	f->p.check.timeout_ms = 2000;
	f->p.check.dns.server = xstrdup(f->server);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	dnsd_start(&f->dnsd);
	snprintf(f->server, sizeof(f->server), "127.0.0.1:%d", f->dnsd.port);
	/* The "system" resolver of these tests is the responder too. */
	probe_fixture_init(&f->p, f->server, "dns-test", CHECK_DNS, 2000);
	fresh_check(f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	probe_fixture_fini(&f->p);
	dnsd_stop(&f->dnsd);
	free(f);
	return 0;
}

static void set_query(struct fixture *f, const char *name, int type)
{
	free(f->p.check.dns.query);
	f->p.check.dns.query = xstrdup(name);
	f->p.check.dns.record = type;
}

static char **strv(const char *const *v, size_t *n)
{
	char **out;

	for (*n = 0; v[*n]; (*n)++)
		;
	out = xcalloc(*n + 1, sizeof(*out));
	for (size_t i = 0; i < *n; i++)
		out[i] = xstrdup(v[i]);
	return out;
}

/* Runs one probe of f->p.check to its end (probe_fixture_run). */
static void run_probe(struct fixture *f)
{
	probe_fixture_run(&f->p);
}

static json_t *answers(const struct fixture *f)
{
	return json_object_get(f->p.result.details, "answers");
}

static const char *detail_str(const struct fixture *f, const char *key)
{
	return json_string_value(json_object_get(f->p.result.details, key));
}

static const struct probe_assertion *find_assertion(const struct fixture *f, const char *what)
{
	for (size_t i = 0; i < f->p.result.n_assertions; i++)
		if (strcmp(f->p.result.assertions[i].what, what) == 0)
			return &f->p.result.assertions[i];
	return NULL;
}

/* The answers as one string "a|b|c", for comparing against a table. */
static void answers_joined(const struct fixture *f, char *buf, size_t len)
{
	json_t *a = answers(f);
	size_t i, o = 0;
	json_t *v;

	buf[0] = '\0';
	json_array_foreach(a, i, v)
		o += (size_t)snprintf(buf + o, len - o, "%s%s", i ? "|" : "", json_string_value(v));
}

/* --- the cases ------------------------------------------------------------------ */

static void test_a_records(void **state)
{
	struct fixture *f = *state;
	char want[64];

	set_query(f, "a.test", ns_t_a);
	run_probe(f);
	assert_true(f->p.result.ok);
	assert_int_equal(f->p.result.error, PROBE_OK);
	assert_int_equal(f->p.result.status_code, ns_r_noerror);
	assert_true(f->p.result.dns_us >= 0);
	assert_string_equal(detail_str(f, "rcode"), "NOERROR");
	assert_string_equal(detail_str(f, "server"), f->server);
	answers_joined(f, want, sizeof(want));
	assert_string_equal(want, "203.0.113.7|203.0.113.8");
}

/* Every record type, as the text a user writes in answers_contain. */
static void test_record_types(void **state)
{
	static const struct {
		const char *name;
		int type;
		const char *want;
	} cases[] = {
		{ "a.test", ns_t_a, "203.0.113.7|203.0.113.8" },
		{ "chain.test", ns_t_a, "192.0.2.1" },
		{ "aaaa.test", ns_t_aaaa, "2001:db8::1" },
		{ "cname.test", ns_t_cname, "target.example.com" },
		{ "ns.test", ns_t_ns, "ns1.example.com|ns2.example.com" },
		{ "mx.test", ns_t_mx, "10 mail.example.com|20 MX2.test" },
		{ "nullmx.test", ns_t_mx, "0 ." },
		{ "txt.test", ns_t_txt, "v=spf1 -all|hello|caf\\255" },
		{ "soa.test", ns_t_soa,
		  "ns1.example.com hostmaster.example.com 2024010101 3600 600 86400 300" },
		{ "srv.test", ns_t_srv, "10 60 5060 sip.example.com" },
		{ "a.test", ns_t_mx, "" },         /* the name exists, no MX */
	};
	struct fixture *f = *state;
	char got[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		set_query(f, cases[i].name, cases[i].type);
		run_probe(f);
		if (!f->p.result.ok)
			fail_msg("%s: %s", cases[i].name, f->p.result.message);
		answers_joined(f, got, sizeof(got));
		if (strcmp(got, cases[i].want) != 0)
			fail_msg("%s %d: got \"%s\", want \"%s\"", cases[i].name, cases[i].type,
			         got, cases[i].want);
		assert_int_equal(f->p.result.status_code, ns_r_noerror);
	}
}

static void test_answers_contain(void **state)
{
	static const char *const yes[] = { "203.0.113.7", NULL };
	static const char *const no[] = { "203.0.113.8", "203.0.113.9", NULL };
	struct fixture *f = *state;
	const struct probe_assertion *a;

	set_query(f, "a.test", ns_t_a);
	f->p.check.expect.answers_contain = strv(yes, &f->p.check.expect.n_answers_contain);
	run_probe(f);
	assert_true(f->p.result.ok);
	a = find_assertion(f, "answers_contain 203.0.113.7");
	assert_non_null(a);
	assert_true(a->ok);

	fresh_check(f);
	set_query(f, "a.test", ns_t_a);
	f->p.check.expect.answers_contain = strv(no, &f->p.check.expect.n_answers_contain);
	run_probe(f);
	assert_false(f->p.result.ok);
	assert_int_equal(f->p.result.error, PROBE_ERR_ASSERTION);
	assert_string_equal(f->p.result.message,
	                    "answers_contain 203.0.113.9: got [203.0.113.7, 203.0.113.8]");
	assert_true(find_assertion(f, "answers_contain 203.0.113.8")->ok);
	assert_false(find_assertion(f, "answers_contain 203.0.113.9")->ok);
}

/* Names compare case-insensitively and without the trailing dot; addresses
 * in any valid spelling. */
static void test_contain_normalised(void **state)
{
	static const char *const mx[] = { "20 mx2.TEST.", "10 mail.example.com", NULL };
	static const char *const v6[] = { "2001:DB8:0:0::1", NULL };
	struct fixture *f = *state;

	set_query(f, "mx.test", ns_t_mx);
	f->p.check.expect.answers_contain = strv(mx, &f->p.check.expect.n_answers_contain);
	run_probe(f);
	if (!f->p.result.ok)
		fail_msg("%s", f->p.result.message);

	fresh_check(f);
	set_query(f, "aaaa.test", ns_t_aaaa);
	f->p.check.expect.answers_contain = strv(v6, &f->p.check.expect.n_answers_contain);
	run_probe(f);
	if (!f->p.result.ok)
		fail_msg("%s", f->p.result.message);
}

static void test_answers_exact(void **state)
{
	static const char *const same[] = { "203.0.113.8", "203.0.113.7", NULL };
	static const char *const fewer[] = { "203.0.113.7", NULL };
	struct fixture *f = *state;

	set_query(f, "a.test", ns_t_a);
	f->p.check.expect.answers_exact = strv(same, &f->p.check.expect.n_answers_exact);
	run_probe(f);
	assert_true(f->p.result.ok);
	assert_true(find_assertion(f, "answers_exact [203.0.113.8, 203.0.113.7]")->ok);

	fresh_check(f);
	set_query(f, "a.test", ns_t_a);
	f->p.check.expect.answers_exact = strv(fewer, &f->p.check.expect.n_answers_exact);
	run_probe(f);
	assert_int_equal(f->p.result.error, PROBE_ERR_ASSERTION);
	assert_string_equal(f->p.result.message,
	                    "answers_exact [203.0.113.7]: got [203.0.113.7, 203.0.113.8]");
}

static void test_min_answers_and_latency(void **state)
{
	struct fixture *f = *state;
	const struct probe_assertion *a;

	set_query(f, "a.test", ns_t_a);
	f->p.check.expect.min_answers = 2;
	f->p.check.expect.max_latency_ms = 1500;
	run_probe(f);
	assert_true(f->p.result.ok);
	assert_true(find_assertion(f, "min_answers 2")->ok);

	f->p.check.expect.min_answers = 3;
	run_probe(f);
	assert_int_equal(f->p.result.error, PROBE_ERR_ASSERTION);
	a = find_assertion(f, "min_answers 3");
	assert_non_null(a);
	assert_string_equal(a->detail, "got 2");
}

static void test_nxdomain(void **state)
{
	struct fixture *f = *state;

	/* Default: a name that does not exist is down. */
	set_query(f, "nope.test", ns_t_a);
	run_probe(f);
	assert_false(f->p.result.ok);
	assert_int_equal(f->p.result.error, PROBE_ERR_DNS);
	assert_int_equal(f->p.result.status_code, ns_r_nxdomain);
	assert_string_equal(detail_str(f, "rcode"), "NXDOMAIN");
	assert_non_null(strstr(f->p.result.message, "NXDOMAIN"));
	assert_non_null(strstr(f->p.result.message, "nope.test"));
	assert_int_equal(json_array_size(answers(f)), 0);

	/* Asked for: then it is the expected outcome. */
	f->p.check.expect.rcode = ns_r_nxdomain;
	run_probe(f);
	assert_true(f->p.result.ok);
	assert_true(find_assertion(f, "rcode NXDOMAIN")->ok);

	/* And a name that exists fails an NXDOMAIN expectation. */
	set_query(f, "a.test", ns_t_a);
	run_probe(f);
	assert_int_equal(f->p.result.error, PROBE_ERR_ASSERTION);
	assert_string_equal(f->p.result.message, "rcode NXDOMAIN: got NOERROR");
}

static void test_servfail_refused(void **state)
{
	struct fixture *f = *state;

	set_query(f, "servfail.test", ns_t_a);
	run_probe(f);
	assert_int_equal(f->p.result.error, PROBE_ERR_DNS);
	assert_int_equal(f->p.result.status_code, ns_r_servfail);
	assert_non_null(strstr(f->p.result.message, "SERVFAIL"));

	f->p.check.expect.rcode = ns_r_servfail;
	run_probe(f);
	assert_true(f->p.result.ok);

	set_query(f, "refused.test", ns_t_a);
	f->p.check.expect.rcode = -1;
	run_probe(f);
	assert_int_equal(f->p.result.error, PROBE_ERR_DNS);
	assert_int_equal(f->p.result.status_code, ns_r_refused);
	assert_string_equal(detail_str(f, "rcode"), "REFUSED");
}

static void test_empty_answer(void **state)
{
	struct fixture *f = *state;

	set_query(f, "empty.test", ns_t_a);
	run_probe(f);
	assert_true(f->p.result.ok);
	assert_int_equal(f->p.result.status_code, ns_r_noerror);
	assert_int_equal(json_array_size(answers(f)), 0);

	f->p.check.expect.min_answers = 1;
	run_probe(f);
	assert_int_equal(f->p.result.error, PROBE_ERR_ASSERTION);
	assert_string_equal(f->p.result.message, "min_answers 1: got 0");
}

static void test_timeout(void **state)
{
	struct fixture *f = *state;
	char want[128];

	set_query(f, "silent.test", ns_t_a);
	f->p.check.timeout_ms = 300;
	run_probe(f);
	assert_int_equal(f->p.result.error, PROBE_ERR_TIMEOUT);
	snprintf(want, sizeof(want), "DNS server %s did not answer within 300ms", f->server);
	assert_string_equal(f->p.result.message, want);
	assert_true(atomic_load(&f->dnsd.queries) >= 1);
}

static void test_malformed(void **state)
{
	struct fixture *f = *state;

	set_query(f, "bad.test", ns_t_a);
	run_probe(f);
	assert_int_equal(f->p.result.error, PROBE_ERR_PROTOCOL);
	assert_non_null(strstr(f->p.result.message, "malformed answer"));

	set_query(f, "badlen.test", ns_t_a);
	run_probe(f);
	assert_int_equal(f->p.result.error, PROBE_ERR_PROTOCOL);
	assert_non_null(strstr(f->p.result.message, "bad A record"));
}

static void test_system_resolver(void **state)
{
	struct fixture *f = *state;

	free(f->p.check.dns.server);
	f->p.check.dns.server = NULL;
	set_query(f, "a.test", ns_t_a);
	run_probe(f);
	assert_true(f->p.result.ok);
	assert_string_equal(detail_str(f, "server"), "system");
	assert_int_equal(json_array_size(answers(f)), 2);
}

/* Many runs against one server at once: one shared channel, all answered. */
struct many {
	int done, ok;
};

static void on_many(struct probe_run *run, struct probe_result *r, void *arg)
{
	struct many *m = arg;

	m->done++;
	m->ok += r->ok;
}

static void test_concurrent_runs(void **state)
{
	struct fixture *f = *state;
	struct many m = { 0 };
	uint64_t deadline = util_mono_ms() + 10000;

	set_query(f, "a.test", ns_t_a);
	for (int i = 0; i < 50; i++)
		probe_start(&f->p.env, &f->p.check, on_many, &m);
	while (m.done < 50 && util_mono_ms() < deadline)
		loop_run_once(f->p.loop, 100);
	assert_int_equal(m.done, 50);
	assert_int_equal(m.ok, 50);
}

static void test_abort(void **state)
{
	struct fixture *f = *state;
	struct probe_run *run;
	uint64_t deadline = util_mono_ms() + 5000;

	set_query(f, "silent.test", ns_t_a);
	run = probe_start(&f->p.env, &f->p.check, probe_fixture_on_done, &f->p);
	while (atomic_load(&f->dnsd.queries) == 0 && util_mono_ms() < deadline)
		loop_run_once(f->p.loop, 20);
	assert_int_equal(f->p.done, 0);
	probe_abort(run);
	assert_int_equal(f->p.done, 1);
	assert_int_equal(f->p.result.error, PROBE_ERR_ABORTED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_a_records, setup, teardown),
		cmocka_unit_test_setup_teardown(test_record_types, setup, teardown),
		cmocka_unit_test_setup_teardown(test_answers_contain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_contain_normalised, setup, teardown),
		cmocka_unit_test_setup_teardown(test_answers_exact, setup, teardown),
		cmocka_unit_test_setup_teardown(test_min_answers_and_latency, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nxdomain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_servfail_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_answer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_system_resolver, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_runs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_abort, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

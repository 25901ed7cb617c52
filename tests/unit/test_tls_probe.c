/* test_tls_probe.c — the tls check type against an OpenSSL server thread on
 * 127.0.0.1 with certificates made by the test: a trusted 10-day leaf (by
 * name and by IP), expired, wrong host name, an untrusted self-signed chain,
 * insecure mode, cert_min_days, a refused port, a server that never speaks
 * TLS and one that says nothing (the run's timeout). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "unit.h"
#include "probe_fixture.h"

#include "probes/check.h"
#include "core/loop.h"
#include "probes/probe.h"
#include "core/resolver.h"
#include "probes/result.h"
#include "core/util.h"

#define DAY (24L * 3600)

/* --- certificates ------------------------------------------------------------------ */

struct pki {
	EVP_PKEY *ca_key, *rogue_key, *leaf_key;
	X509 *ca, *rogue;               /* trusted CA; a self-signed CA nobody trusts */
	X509 *good, *expired, *wrong, *untrusted;
	char ca_file[64];
};

static struct pki pki;

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX v3;
	X509_EXTENSION *e;

	X509V3_set_ctx_nodb(&v3);
	X509V3_set_ctx(&v3, issuer, x, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
	assert_non_null(e);
	assert_int_equal(X509_add_ext(x, e, -1), 1);
	X509_EXTENSION_free(e);
}

/* A certificate for key valid from now+from_s to now+to_s, signed by issuer
 * (self-signed when NULL). san: subjectAltName text or NULL; ca: a CA. */
static X509 *make_cert(EVP_PKEY *key, const char *cn, const char *san, long from_s, long to_s,
                       X509 *issuer, EVP_PKEY *issuer_key, int ca)
{
	static long serial = 1;
	X509 *x = X509_new();
	X509_NAME *n;

	assert_non_null(x);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
	X509_gmtime_adj(X509_getm_notBefore(x), from_s);
	X509_gmtime_adj(X509_getm_notAfter(x), to_s);
	X509_set_pubkey(x, key);
	n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : n);
	add_ext(x, issuer ? issuer : x, NID_basic_constraints, ca ? "critical,CA:TRUE" : "CA:FALSE");
	if (ca)
		add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign");
	add_ext(x, issuer ? issuer : x, NID_subject_key_identifier, "hash");
	if (san)
		add_ext(x, issuer ? issuer : x, NID_subject_alt_name, san);
	assert_true(X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256()) > 0);
	return x;
}

static int pki_setup(void **state)
{
	FILE *f;
	int fd;

	pki.ca_key = EVP_EC_gen("P-256");
	pki.rogue_key = EVP_EC_gen("P-256");
	pki.leaf_key = EVP_EC_gen("P-256");
	if (!pki.ca_key || !pki.rogue_key || !pki.leaf_key)
		return -1;
	pki.ca = make_cert(pki.ca_key, "Pharos Test CA", NULL, -DAY, 100 * DAY, NULL, NULL, 1);
	pki.rogue = make_cert(pki.rogue_key, "Pharos Rogue CA", NULL, -DAY, 100 * DAY, NULL, NULL, 1);
	/* "Valid 10 days": an hour more, so the whole days left are exactly 10. */
	pki.good = make_cert(pki.leaf_key, "pharos.test", "DNS:pharos.test,IP:127.0.0.1",
	                     -3600, 10 * DAY + 3600, pki.ca, pki.ca_key, 0);
	pki.expired = make_cert(pki.leaf_key, "pharos.test", "DNS:pharos.test,IP:127.0.0.1",
	                        -20 * DAY, -DAY, pki.ca, pki.ca_key, 0);
	pki.wrong = make_cert(pki.leaf_key, "wrong.example", "DNS:wrong.example",
	                      -3600, 10 * DAY, pki.ca, pki.ca_key, 0);
	pki.untrusted = make_cert(pki.leaf_key, "pharos.test", "DNS:pharos.test",
	                          -3600, 10 * DAY, pki.rogue, pki.rogue_key, 0);

	snprintf(pki.ca_file, sizeof(pki.ca_file), "/tmp/pharos-test-ca-XXXXXX");
	fd = mkstemp(pki.ca_file);
	if (fd < 0)
		return -1;
	f = fdopen(fd, "w");
	if (!f || PEM_write_X509(f, pki.ca) != 1)
		return -1;
	fclose(f);
	*state = NULL;
	return 0;
}

static int pki_teardown(void **state)
{
	unlink(pki.ca_file);
	X509_free(pki.ca);
	X509_free(pki.rogue);
	X509_free(pki.good);
	X509_free(pki.expired);
	X509_free(pki.wrong);
	X509_free(pki.untrusted);
	EVP_PKEY_free(pki.ca_key);
	EVP_PKEY_free(pki.rogue_key);
	EVP_PKEY_free(pki.leaf_key);
	return 0;
}

/* --- the server thread -------------------------------------------------------------- */

enum srv_mode {
	SRV_TLS,            /* TLS handshake with cert (+ chain), then waits for the client to close */
	SRV_SILENT,         /* accepts and says nothing until the client closes */
	SRV_PLAIN,          /* speaks plain text, not TLS */
};

struct srv {
	int lfd;
	int port;
	enum srv_mode mode;
	SSL_CTX *ctx;
	pthread_t th;
	int handshakes;     /* completed server-side handshakes */
};

/* Reads until the client closes (or 5 s pass: the test then fails elsewhere). */
static void srv_drain(int fd)
{
	char buf[512];
	struct pollfd p = { .fd = fd, .events = POLLIN };

	while (poll(&p, 1, 5000) == 1 && read(fd, buf, sizeof(buf)) > 0)
		;
}

static void *srv_main(void *arg)
{
	struct srv *s = arg;
	struct pollfd p = { .fd = s->lfd, .events = POLLIN };
	struct timeval tv = { .tv_sec = 5 };
	sigset_t pipe;
	int fd;

	/* The server may write (session tickets) after the probe closed: SIGPIPE
	 * is blocked in this thread only, so a SIGPIPE raised by the probe itself
	 * would still kill the test. */
	sigemptyset(&pipe);
	sigaddset(&pipe, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe, NULL);
	if (poll(&p, 1, 5000) != 1)
		return NULL;
	fd = accept(s->lfd, NULL, NULL);
	if (fd < 0)
		return NULL;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	switch (s->mode) {
	case SRV_TLS: {
		SSL *ssl = SSL_new(s->ctx);

		SSL_set_fd(ssl, fd);
		if (SSL_accept(ssl) == 1)
			s->handshakes++;
		srv_drain(fd);
		SSL_free(ssl);
		ERR_clear_error();
		break;
	}
	case SRV_SILENT:
		srv_drain(fd);
		break;
	case SRV_PLAIN:
		send(fd, "220 hello, this is not TLS\r\n", 28, MSG_NOSIGNAL);
		srv_drain(fd);
		break;
	}
	close(fd);
	return NULL;
}

/* A listening socket on 127.0.0.1 served by a thread; for SRV_TLS it
 * presents cert, then the chain certificates (NULL-terminated). */
static void srv_start(struct srv *s, enum srv_mode mode, X509 *cert, X509 *chain1)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);

	memset(s, 0, sizeof(*s));
	s->mode = mode;
	if (mode == SRV_TLS) {
		s->ctx = SSL_CTX_new(TLS_server_method());
		assert_non_null(s->ctx);
		assert_int_equal(SSL_CTX_use_certificate(s->ctx, cert), 1);
		assert_int_equal(SSL_CTX_use_PrivateKey(s->ctx, pki.leaf_key), 1);
		if (chain1)
			assert_int_equal(SSL_CTX_add1_chain_cert(s->ctx, chain1), 1);
	}
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
	SSL_CTX_free(s->ctx);
}

/* --- running one probe ------------------------------------------------------------- */

static int setup(void **state)
{
	struct probe_fixture *f = calloc(1, sizeof(*f));

	probe_fixture_init(f, NULL, "tls-test", CHECK_TLS, 5000);
	f->check.tls.host = xstrdup("127.0.0.1");
	f->check.tls.server_name = xstrdup("pharos.test");
	f->check.tls.ca_file = xstrdup(pki.ca_file);
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

/* Runs the probe to its end (probe_fixture_run). */
static void run_probe(struct probe_fixture *f)
{
	probe_fixture_run(f);
	/* TLS_TEST_VERBOSE=1 prints each result, to see the messages a person gets. */
	if (getenv("TLS_TEST_VERBOSE")) {
		json_t *j = probe_result_to_json(&f->result);
		char *txt = json_dumps(j, JSON_INDENT(1));

		fprintf(stderr, "%s\n", txt);
		free(txt);
		json_decref(j);
	}
}

/* Runs the probe against a TLS server presenting cert (+ chain1). */
static void run_against(struct probe_fixture *f, X509 *cert, X509 *chain1)
{
	struct srv s;

	srv_start(&s, SRV_TLS, cert, chain1);
	f->check.tls.port = s.port;
	run_probe(f);
	srv_stop(&s);
}

static void assert_contains(const char *haystack, const char *needle)
{
	if (!haystack || !strstr(haystack, needle))
		fail_msg("\"%s\" does not contain \"%s\"", haystack ? haystack : "(null)", needle);
}

/* --- the cases --------------------------------------------------------------------- */

static void test_ok(void **state)
{
	struct probe_fixture *f = *state;
	int64_t now = util_wall_us() / 1000000;

	run_against(f, pki.good, NULL);
	if (!f->result.ok)
		fail_msg("not ok: %s", f->result.message);
	assert_int_equal(f->result.error, PROBE_OK);
	assert_true(f->result.dns_us >= 0);
	assert_true(f->result.connect_us >= 0);
	assert_true(f->result.tls_us >= f->result.connect_us);
	assert_true(json_real_value(probe_fixture_detail(f, "handshake_ms")) > 0);
	assert_string_equal(probe_fixture_detail_str(f, "protocol"), "TLSv1.3");
	assert_non_null(probe_fixture_detail_str(f, "cipher"));
	assert_true(json_is_true(probe_fixture_detail(f, "verified")));
	assert_true(json_is_false(probe_fixture_detail(f, "insecure")));
	assert_null(probe_fixture_detail(f, "verify_error"));
	assert_string_equal(probe_fixture_detail_str(f, "subject_cn"), "pharos.test");
	assert_string_equal(probe_fixture_detail_str(f, "issuer_cn"), "Pharos Test CA");
	assert_string_equal(probe_fixture_detail_str(f, "server_name"), "pharos.test");
	assert_string_equal(probe_fixture_detail_str(f, "address"), "127.0.0.1");
	assert_string_equal(json_string_value(json_array_get(probe_fixture_detail(f, "subject_alt_names"), 0)),
	                    "pharos.test");
	assert_int_equal(json_integer_value(probe_fixture_detail(f, "days_to_expiry")), 10);
	assert_true(f->result.cert_expiry > now + 10 * DAY);
	assert_true(f->result.cert_expiry < now + 11 * DAY);
	assert_non_null(probe_fixture_detail_str(f, "chain_earliest_expiry"));
	assert_non_null(probe_fixture_detail_str(f, "not_after"));
}

/* No server_name and an IP host: no SNI, the IP is verified against the IP SAN. */
static void test_ok_by_ip(void **state)
{
	struct probe_fixture *f = *state;

	free(f->check.tls.server_name);
	f->check.tls.server_name = NULL;
	run_against(f, pki.good, NULL);
	if (!f->result.ok)
		fail_msg("not ok: %s", f->result.message);
	assert_string_equal(probe_fixture_detail_str(f, "server_name"), "127.0.0.1");
}

/* The chain's earliest expiry is the CA's when the server sends it and it ends first. */
static void test_chain_earliest(void **state)
{
	struct probe_fixture *f = *state;
	X509 *short_ca = make_cert(pki.ca_key, "Pharos Test CA", NULL, -DAY, 3 * DAY, NULL, NULL, 1);
	char when[40];
	time_t t;
	struct tm tm;

	run_against(f, pki.good, short_ca);
	if (!f->result.ok)
		fail_msg("not ok: %s", f->result.message);
	assert_int_equal(json_integer_value(probe_fixture_detail(f, "chain_length")), 2);
	t = (time_t)(util_wall_us() / 1000000 + 3 * DAY);
	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d", &tm);
	assert_contains(probe_fixture_detail_str(f, "chain_earliest_expiry"), when);
	/* The leaf's expiry is still the one recorded as cert_expiry. */
	assert_int_equal(json_integer_value(probe_fixture_detail(f, "days_to_expiry")), 10);
	X509_free(short_ca);
}

static void test_expired(void **state)
{
	struct probe_fixture *f = *state;

	run_against(f, pki.expired, NULL);
	assert_false(f->result.ok);
	assert_int_equal(f->result.error, PROBE_ERR_TLS);
	assert_contains(f->result.message, "certificate has expired (notAfter ");
	assert_true(json_is_false(probe_fixture_detail(f, "verified")));
	assert_string_equal(probe_fixture_detail_str(f, "verify_error"), "certificate has expired");
	assert_true(json_integer_value(probe_fixture_detail(f, "days_to_expiry")) < 0);
}

static void test_hostname_mismatch(void **state)
{
	struct probe_fixture *f = *state;

	run_against(f, pki.wrong, NULL);
	assert_int_equal(f->result.error, PROBE_ERR_TLS);
	assert_string_equal(f->result.message,
	                    "hostname mismatch: certificate is for wrong.example, not pharos.test");
}

static void test_untrusted_chain(void **state)
{
	struct probe_fixture *f = *state;

	run_against(f, pki.untrusted, pki.rogue);
	assert_int_equal(f->result.error, PROBE_ERR_TLS);
	assert_contains(f->result.message, "self-signed certificate in certificate chain");
	assert_contains(f->result.message, "Pharos Rogue CA");
}

/* Without ca_file the system store is used, which does not know our CA. */
static void test_unknown_ca_system_store(void **state)
{
	struct probe_fixture *f = *state;

	free(f->check.tls.ca_file);
	f->check.tls.ca_file = NULL;
	run_against(f, pki.good, NULL);
	assert_int_equal(f->result.error, PROBE_ERR_TLS);
	assert_contains(f->result.message, "certificate not trusted: ");
	assert_contains(f->result.message, "Pharos Test CA");
}

static void test_insecure_reports_expiry(void **state)
{
	struct probe_fixture *f = *state;

	f->check.tls.insecure = true;
	run_against(f, pki.expired, NULL);
	if (!f->result.ok)
		fail_msg("not ok: %s", f->result.message);
	assert_true(json_is_true(probe_fixture_detail(f, "insecure")));
	assert_true(json_is_false(probe_fixture_detail(f, "verified")));
	assert_string_equal(probe_fixture_detail_str(f, "verify_error"), "certificate has expired");
	assert_true(f->result.cert_expiry > 0);
	assert_true(f->result.cert_expiry < util_wall_us() / 1000000);
}

/* insecure still evaluates cert_min_days: an expired certificate fails it. */
static void test_insecure_cert_min_days(void **state)
{
	struct probe_fixture *f = *state;
	const struct probe_assertion *a;

	f->check.tls.insecure = true;
	f->check.expect.cert_min_days = 1;
	run_against(f, pki.expired, NULL);
	assert_int_equal(f->result.error, PROBE_ERR_ASSERTION);
	a = probe_fixture_assertion(f, "cert_min_days 1");
	assert_non_null(a);
	assert_false(a->ok);
	assert_contains(a->detail, "expired");
}

static void test_cert_min_days_pass(void **state)
{
	struct probe_fixture *f = *state;
	const struct probe_assertion *a;

	f->check.expect.cert_min_days = 5;
	run_against(f, pki.good, NULL);
	assert_true(f->result.ok);
	a = probe_fixture_assertion(f, "cert_min_days 5");
	assert_non_null(a);
	assert_true(a->ok);
}

static void test_cert_min_days_fail(void **state)
{
	struct probe_fixture *f = *state;
	const struct probe_assertion *a;

	f->check.expect.cert_min_days = 14;
	run_against(f, pki.good, NULL);
	assert_false(f->result.ok);
	assert_int_equal(f->result.error, PROBE_ERR_ASSERTION);
	a = probe_fixture_assertion(f, "cert_min_days 14");
	assert_non_null(a);
	assert_false(a->ok);
	assert_contains(a->detail, "expires in 10 days");
}

static void test_max_latency(void **state)
{
	struct probe_fixture *f = *state;
	const struct probe_assertion *a;

	f->check.expect.max_latency_ms = 5000;
	run_against(f, pki.good, NULL);
	assert_true(f->result.ok);
	a = probe_fixture_assertion(f, "max_latency");
	assert_non_null(a);
	assert_true(a->ok);
}

static void test_refused(void **state)
{
	struct probe_fixture *f = *state;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	/* A port that was just free: bound, never listened on, closed. */
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	close(fd);
	f->check.tls.port = ntohs(sa.sin_port);
	run_probe(f);
	assert_int_equal(f->result.error, PROBE_ERR_CONNECT);
	assert_contains(f->result.message, "connection refused by 127.0.0.1:");
	assert_int_equal(f->result.tls_us, -1);
}

static void test_handshake_timeout(void **state)
{
	struct probe_fixture *f = *state;
	struct srv s;

	srv_start(&s, SRV_SILENT, NULL, NULL);
	f->check.tls.port = s.port;
	f->check.timeout_ms = 300;
	run_probe(f);
	srv_stop(&s);
	assert_int_equal(f->result.error, PROBE_ERR_TIMEOUT);
	assert_contains(f->result.message, "while performing the TLS handshake");
	assert_true(f->result.connect_us >= 0);
	assert_int_equal(f->result.tls_us, -1);
}

static void test_not_tls(void **state)
{
	struct probe_fixture *f = *state;
	struct srv s;

	srv_start(&s, SRV_PLAIN, NULL, NULL);
	f->check.tls.port = s.port;
	run_probe(f);
	srv_stop(&s);
	assert_int_equal(f->result.error, PROBE_ERR_TLS);
	assert_contains(f->result.message, "TLS handshake with 127.0.0.1:");
}

/* probe_abort in the middle of the handshake releases everything. */
static void test_abort_in_handshake(void **state)
{
	struct probe_fixture *f = *state;
	struct srv s;
	struct probe_run *run;
	uint64_t deadline = util_mono_ms() + 5000;

	srv_start(&s, SRV_SILENT, NULL, NULL);
	f->check.tls.port = s.port;
	run = probe_start(&f->env, &f->check, probe_fixture_on_done, f);
	while (util_mono_ms() < deadline && strcmp(run->phase, "performing the TLS handshake") != 0)
		loop_run_once(f->loop, 20);
	assert_string_equal(run->phase, "performing the TLS handshake");
	probe_abort(run);
	assert_int_equal(f->done, 1);
	assert_int_equal(f->result.error, PROBE_ERR_ABORTED);
	srv_stop(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ok, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ok_by_ip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chain_earliest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expired, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostname_mismatch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_untrusted_chain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_ca_system_store, setup, teardown),
		cmocka_unit_test_setup_teardown(test_insecure_reports_expiry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_insecure_cert_min_days, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cert_min_days_pass, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cert_min_days_fail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_max_latency, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_handshake_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_tls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_abort_in_handshake, setup, teardown),
	};

	return cmocka_run_group_tests(tests, pki_setup, pki_teardown);
}

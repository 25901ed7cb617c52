/* tls.c — the tls check type: resolve the host with c-ares, connect with a
 * non-blocking socket on the loop, run an OpenSSL handshake driven by the
 * loop (SSL_connect wanting to read or write -> loop_fd_set), then report
 * what the server presented: protocol, cipher, chain and host name
 * verification, the leaf's expiry and the earliest expiry in the chain.
 *
 * Verification is evaluated after the handshake rather than inside it: the
 * handshake runs with SSL_VERIFY_NONE while the verify parameters (CA store,
 * host name) are still set, so OpenSSL computes the verdict and we can read
 * it with SSL_get_verify_result() and still describe the certificate (an
 * expired certificate is reported with its notAfter, a mismatch with the names
 * the certificate is for). Nothing is sent over the connection, so completing
 * a handshake with an unverified peer leaks nothing. insecure = true keeps the
 * verdict as information only.
 *
 * The socket is read and written through a small BIO of our own that uses
 * send(MSG_NOSIGNAL): OpenSSL's socket BIO uses write(), and a peer closing
 * early would raise SIGPIPE in a process that did not ignore it (pharos probe).
 *
 * One run is one state machine (enum tls_state); tls_set_state() is the only
 * place the state changes. Only the first resolved address is tried. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "probes/assert.h"
#include "core/log.h"
#include "probes/conn.h"
#include "core/loop.h"
#include "probes/probe_run.h"
#include "probes/probe_type.h"
#include "core/resolver.h"
#include "core/util.h"

#define TLS_DEFAULT_PORT 443
#define TLS_NAMES_IN_MESSAGE 3          /* certificate names listed in a mismatch message */
#define TLS_NAMES_IN_DETAILS 20         /* details.subject_alt_names entries */

enum tls_state {
	TLS_RESOLVING,
	TLS_CONNECTING,
	TLS_HANDSHAKE,
};

struct tls_run {
	struct probe_run *run;
	enum tls_state state;
	struct resolver_req *req;       /* while resolving */
	int fd;                         /* -1 when none */
	int port;
	struct conn conn;               /* the address connected to, for messages */
	const char *name;               /* name sent as SNI and verified: server_name or host */
	SSL_CTX *ctx;
	SSL *ssl;
	int64_t handshake_start_us;     /* probe_elapsed_us() when the handshake began */
};

static const char *const tls_state_names[] = {
	[TLS_RESOLVING] = "resolving",
	[TLS_CONNECTING] = "connecting",
	[TLS_HANDSHAKE] = "handshake",
};

/* The phase strings probe.c puts into timeout messages ("no answer within 5s
 * while performing the TLS handshake"). Static: the run may outlive our state. */
static const char *const tls_phases[] = {
	[TLS_RESOLVING] = "resolving host",
	[TLS_CONNECTING] = "connecting",
	[TLS_HANDSHAKE] = "performing the TLS handshake",
};

static void tls_on_fd(struct loop *l, int fd, int events, void *arg);

/* --- a socket BIO that never raises SIGPIPE ------------------------------------ */

static BIO_METHOD *tls_bio_method;
static pthread_once_t tls_bio_once = PTHREAD_ONCE_INIT;

/* BIO write: send() with MSG_NOSIGNAL; EAGAIN becomes a retry. */
static int tls_bio_write(BIO *b, const char *buf, int len)
{
	int fd = (int)(intptr_t)BIO_get_data(b);
	ssize_t n;

	BIO_clear_retry_flags(b);
	do
		n = send(fd, buf, (size_t)len, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		BIO_set_retry_write(b);
	return (int)n;
}

/* BIO read: recv(); 0 is the peer's end of stream, EAGAIN a retry. */
static int tls_bio_read(BIO *b, char *buf, int len)
{
	int fd = (int)(intptr_t)BIO_get_data(b);
	ssize_t n;

	BIO_clear_retry_flags(b);
	do
		n = recv(fd, buf, (size_t)len, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		BIO_set_retry_read(b);
	return (int)n;
}

/* BIO ctrl: nothing is buffered here, so a flush always succeeds; every
 * other request is "not supported" (0), which libssl accepts. */
static long tls_bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

static int tls_bio_create(BIO *b)
{
	BIO_set_init(b, 1);
	return 1;
}

static void tls_bio_method_init(void)
{
	BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "pharos socket");

	if (m == NULL)
		return;
	BIO_meth_set_write(m, tls_bio_write);
	BIO_meth_set_read(m, tls_bio_read);
	BIO_meth_set_ctrl(m, tls_bio_ctrl);
	BIO_meth_set_create(m, tls_bio_create);
	tls_bio_method = m;     /* kept for the life of the process */
}

/* A BIO on fd (not owned: closing is ours), or NULL. */
static BIO *tls_bio_new(int fd)
{
	BIO *b;

	pthread_once(&tls_bio_once, tls_bio_method_init);
	if (tls_bio_method == NULL)
		return NULL;
	b = BIO_new(tls_bio_method);
	if (b)
		BIO_set_data(b, (void *)(intptr_t)fd);
	return b;
}

/* --- the system CA store ----------------------------------------------------------- */

static X509_STORE *tls_store;
static pthread_once_t tls_store_once = PTHREAD_ONCE_INIT;

static void tls_store_init(void)
{
	X509_STORE *s = X509_STORE_new();

	if (s && X509_STORE_set_default_paths(s) != 1) {
		X509_STORE_free(s);
		s = NULL;
	}
	ERR_clear_error();
	tls_store = s;      /* kept for the life of the process */
}

/* The system's CA certificates (OpenSSL's default paths), loaded once:
 * parsing the whole bundle takes tens of milliseconds, too long to repeat on
 * the loop for every run. X509_STORE is reference-counted and locks itself,
 * so contexts share it. A changed bundle is seen after a restart. NULL when
 * it cannot be created. */
static X509_STORE *tls_system_store(void)
{
	pthread_once(&tls_store_once, tls_store_init);
	return tls_store;
}

/* --- certificates --------------------------------------------------------------- */

/* notAfter / notBefore as Unix seconds, or 0 when unreadable. */
static int64_t tls_asn1_time(const ASN1_TIME *t)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	return (int64_t)timegm(&tm);
}

/* "2026-01-01T00:00:00Z" */
static const char *tls_format_time(int64_t s, char *buf, size_t len)
{
	time_t t = (time_t)s;
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "%lld", (long long)s);
	return buf;
}

/* The first commonName of name as UTF-8 into buf; "" when there is none. */
static const char *tls_cn(const X509_NAME *name, char *buf, size_t len)
{
	int i = name ? X509_NAME_get_index_by_NID(name, NID_commonName, -1) : -1;
	X509_NAME_ENTRY *e;
	unsigned char *utf8 = NULL;
	int n;

	buf[0] = '\0';
	if (i < 0)
		return buf;
	e = X509_NAME_get_entry(name, i);
	n = e ? ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(e)) : -1;
	if (n >= 0) {
		/* Embedded NULs would cut the string short; that only shortens a message. */
		snprintf(buf, len, "%.*s", n, (const char *)utf8);
		OPENSSL_free(utf8);
	}
	return buf;
}

/* The subjectAltName DNS names and IP addresses of x as a JSON array of
 * strings (at most TLS_NAMES_IN_DETAILS); new reference. */
static json_t *tls_alt_names(X509 *x)
{
	GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	json_t *out = json_array();
	int n = gens ? sk_GENERAL_NAME_num(gens) : 0;

	for (int i = 0; i < n && json_array_size(out) < TLS_NAMES_IN_DETAILS; i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		char buf[256];

		if (g->type == GEN_DNS) {
			const ASN1_STRING *s = g->d.dNSName;

			snprintf(buf, sizeof(buf), "%.*s", ASN1_STRING_length(s),
			         (const char *)ASN1_STRING_get0_data(s));
		} else if (g->type == GEN_IPADD) {
			const ASN1_OCTET_STRING *s = g->d.iPAddress;
			int af = ASN1_STRING_length(s) == 4 ? AF_INET :
			         ASN1_STRING_length(s) == 16 ? AF_INET6 : 0;

			if (af == 0 || !inet_ntop(af, ASN1_STRING_get0_data(s), buf, sizeof(buf)))
				continue;
		} else {
			continue;
		}
		/* A name with control bytes or non-ASCII is not valid UTF-8 for sure: skip it. */
		json_t *v = json_string(buf);

		if (v)
			json_array_append_new(out, v);
	}
	GENERAL_NAMES_free(gens);
	return out;
}

/* "a, b, c" from the certificate's names (alt names, else its CN), for messages. */
static const char *tls_names_text(X509 *x, char *buf, size_t len)
{
	json_t *names = tls_alt_names(x);
	size_t n = json_array_size(names), o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && i < TLS_NAMES_IN_MESSAGE && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%s", i ? ", " : "",
		                      json_string_value(json_array_get(names, i)));
	if (n > TLS_NAMES_IN_MESSAGE && o < len)
		snprintf(buf + o, len - o, " and %zu more", n - TLS_NAMES_IN_MESSAGE);
	json_decref(names);
	if (buf[0] == '\0')
		tls_cn(X509_get_subject_name(x), buf, len);
	if (buf[0] == '\0')
		snprintf(buf, len, "no name");
	return buf;
}

/* True when s is an IPv4 or IPv6 literal (no SNI for those, RFC 6066). */
static bool tls_is_ip(const char *s)
{
	unsigned char b[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, s, b) == 1 || inet_pton(AF_INET6, s, b) == 1;
}

/* --- the run --------------------------------------------------------------------- */

/* The one state transition: sets the state and the run's phase, logs old->new. */
static void tls_set_state(struct tls_run *t, enum tls_state st)
{
	log_debug("tls probe state", "check", t->run->check->name,
	          "from", tls_state_names[t->state], "to", tls_state_names[st]);
	t->state = st;
	t->run->phase = tls_phases[st];
}

/* (Re)registers the socket for events (0: unregisters). Returns 0, or -1
 * after failing the run (the caller then finishes it). */
static int tls_watch(struct tls_run *t, int events)
{
	return conn_watch(&t->conn, t->run->env->loop, t->fd, events, tls_on_fd, t,
	                  &t->run->result);
}

/* Releases everything the run holds: the lookup, the TLS session (a
 * close_notify is attempted once, never waited for), the fd and the context. */
static void tls_release(struct tls_run *t)
{
	if (t->req)
		resolver_cancel(t->req);
	if (t->ssl) {
		if (SSL_is_init_finished(t->ssl))
			SSL_shutdown(t->ssl);   /* best effort: the socket is non-blocking */
		SSL_free(t->ssl);           /* frees the BIO too */
	}
	SSL_CTX_free(t->ctx);
	conn_close(&t->conn, t->run->env->loop, t->fd);
	ERR_clear_error();          /* leave no OpenSSL errors behind for other users */
	free(t);
}

/* Ends the run: releases t and hands the result to probe.c. t is gone after. */
static void tls_done(struct tls_run *t)
{
	struct probe_run *run = t->run;

	run->result.ok = run->result.error == PROBE_OK;
	run->impl = NULL;
	tls_release(t);
	probe_finish(run);
}

/* The reason of the first queued OpenSSL error, or fallback. */
static const char *tls_ssl_reason(const char *fallback)
{
	unsigned long e = ERR_peek_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;

	return r ? r : fallback;
}

/* Fails the run for a verification result other than X509_V_OK, in words
 * that say which certificate and why. */
static void tls_fail_verify(struct tls_run *t, long vr, X509 *leaf, STACK_OF(X509) *chain,
                            int64_t now_s)
{
	struct probe_result *r = &t->run->result;
	const char *what = X509_verify_cert_error_string(vr);
	char names[300], cn[128], when[40];

	switch (vr) {
	case X509_V_ERR_HOSTNAME_MISMATCH:
		probe_result_fail(r, PROBE_ERR_TLS, "hostname mismatch: certificate is for %s, not %s",
		                  tls_names_text(leaf, names, sizeof(names)), t->name);
		return;
	case X509_V_ERR_IP_ADDRESS_MISMATCH:
		probe_result_fail(r, PROBE_ERR_TLS, "IP address mismatch: certificate is for %s, not %s",
		                  tls_names_text(leaf, names, sizeof(names)), t->name);
		return;
	case X509_V_ERR_CERT_HAS_EXPIRED:
	case X509_V_ERR_CERT_NOT_YET_VALID: {
		/* Name the certificate at fault: the leaf when it is, else the first in the chain. */
		bool expired = vr == X509_V_ERR_CERT_HAS_EXPIRED;
		X509 *bad = NULL;
		int n = chain ? sk_X509_num(chain) : 0;

		for (int i = -1; i < n && bad == NULL; i++) {
			X509 *x = i < 0 ? leaf : sk_X509_value(chain, i);
			int64_t at = tls_asn1_time(expired ? X509_get0_notAfter(x) : X509_get0_notBefore(x));

			if (at && (expired ? at < now_s : at > now_s))
				bad = x;
		}
		if (bad == NULL)
			bad = leaf;
		tls_format_time(tls_asn1_time(expired ? X509_get0_notAfter(bad) : X509_get0_notBefore(bad)),
		                when, sizeof(when));
		tls_cn(X509_get_subject_name(bad), cn, sizeof(cn));
		if (bad == leaf)
			probe_result_fail(r, PROBE_ERR_TLS, "%s (%s %s)", what,
			                  expired ? "notAfter" : "notBefore", when);
		else
			probe_result_fail(r, PROBE_ERR_TLS, "%s: CN=%s in the chain (%s %s)", what, cn,
			                  expired ? "notAfter" : "notBefore", when);
		return;
	}
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE: {
		/* The top of what was presented names the authority nobody trusts. */
		int n = chain ? sk_X509_num(chain) : 0;
		X509 *top = n > 0 ? sk_X509_value(chain, n - 1) : leaf;

		tls_cn(X509_get_issuer_name(top), cn, sizeof(cn));
		probe_result_fail(r, PROBE_ERR_TLS, "certificate not trusted: %s (issuer CN=%s)", what,
		                  cn[0] ? cn : "none");
		return;
	}
	default:
		probe_result_fail(r, PROBE_ERR_TLS, "certificate verification failed: %s", what);
		return;
	}
}

/* The handshake is over: record what the server presented, judge it, finish. */
static void tls_handshake_done(struct tls_run *t)
{
	struct probe_run *run = t->run;
	struct probe_result *r = &run->result;
	const struct check *c = run->check;
	X509 *leaf = SSL_get0_peer_certificate(t->ssl);
	STACK_OF(X509) *chain = SSL_get_peer_cert_chain(t->ssl);   /* client side: leaf first */
	int64_t now_s = util_wall_us() / 1000000, earliest = 0;
	long vr;
	char buf[300];

	r->tls_us = probe_elapsed_us(run);
	probe_result_detail(r, "handshake_ms",
	                    json_real((double)(r->tls_us - t->handshake_start_us) / 1000.0));
	probe_result_detail(r, "protocol", json_string(SSL_get_version(t->ssl)));
	probe_result_detail(r, "cipher", json_string(SSL_get_cipher_name(t->ssl)));
	probe_result_detail(r, "insecure", json_boolean(c->tls.insecure));
	if (leaf == NULL) {
		probe_result_detail(r, "verified", json_false());
		probe_result_fail(r, PROBE_ERR_TLS, "%s presented no certificate", t->conn.addr);
		tls_done(t);
		return;
	}

	r->cert_expiry = tls_asn1_time(X509_get0_notAfter(leaf));
	for (int i = 0, n = chain ? sk_X509_num(chain) : 0; i < n; i++) {
		int64_t na = tls_asn1_time(X509_get0_notAfter(sk_X509_value(chain, i)));

		if (na && (earliest == 0 || na < earliest))
			earliest = na;
	}
	if (earliest == 0 || (r->cert_expiry && r->cert_expiry < earliest))
		earliest = r->cert_expiry;
	if (r->cert_expiry) {
		/* Whole days left, rounded down; negative once expired. */
		int64_t left = r->cert_expiry - now_s;
		int64_t days = left >= 0 ? left / 86400 : -((-left + 86399) / 86400);

		probe_result_detail(r, "not_after", json_string(tls_format_time(r->cert_expiry, buf, sizeof(buf))));
		probe_result_detail(r, "days_to_expiry", json_integer(days));
	}
	if (earliest)
		probe_result_detail(r, "chain_earliest_expiry",
		                    json_string(tls_format_time(earliest, buf, sizeof(buf))));
	probe_result_detail(r, "chain_length", json_integer(chain ? sk_X509_num(chain) : 1));
	if (*tls_cn(X509_get_subject_name(leaf), buf, sizeof(buf)))
		probe_result_detail(r, "subject_cn", json_string(buf));
	if (*tls_cn(X509_get_issuer_name(leaf), buf, sizeof(buf)))
		probe_result_detail(r, "issuer_cn", json_string(buf));
	probe_result_detail(r, "subject_alt_names", tls_alt_names(leaf));

	vr = SSL_get_verify_result(t->ssl);
	probe_result_detail(r, "verified", json_boolean(vr == X509_V_OK));
	if (vr != X509_V_OK) {
		probe_result_detail(r, "verify_error", json_string(X509_verify_cert_error_string(vr)));
		if (!c->tls.insecure) {
			tls_fail_verify(t, vr, leaf, chain, now_s);
			tls_done(t);
			return;
		}
	}
	probe_result_note(r, "%s, certificate %s for %lld more days", SSL_get_version(t->ssl),
	                  vr == X509_V_OK ? "verified, valid" : "not verified (insecure), valid",
	                  (long long)((r->cert_expiry - now_s) / 86400));
	assert_cert_days(r, &c->expect, r->cert_expiry, now_s);
	assert_max_latency(r, &c->expect, probe_elapsed_us(run));
	tls_done(t);
}

/* One step of the handshake: done, wait for the socket, or fail. */
static void tls_handshake(struct tls_run *t)
{
	struct probe_result *r = &t->run->result;
	int rc, err, sys;

	ERR_clear_error();
	errno = 0;
	rc = SSL_connect(t->ssl);
	if (rc == 1) {
		if (tls_watch(t, 0) < 0) {
			tls_done(t);
			return;
		}
		tls_handshake_done(t);
		return;
	}
	sys = errno;
	err = SSL_get_error(t->ssl, rc);
	switch (err) {
	case SSL_ERROR_WANT_READ:
		if (tls_watch(t, LOOP_READ) < 0)
			tls_done(t);
		return;
	case SSL_ERROR_WANT_WRITE:
		if (tls_watch(t, LOOP_WRITE) < 0)
			tls_done(t);
		return;
	case SSL_ERROR_ZERO_RETURN:
		probe_result_fail(r, PROBE_ERR_TLS,
		                  "connection closed by %s during the TLS handshake", t->conn.addr);
		break;
	case SSL_ERROR_SYSCALL:
		if (ERR_peek_error())
			probe_result_fail(r, PROBE_ERR_TLS, "TLS handshake with %s failed: %s", t->conn.addr,
			                  tls_ssl_reason("error"));
		else if (sys == ECONNRESET)
			probe_result_fail(r, PROBE_ERR_TLS,
			                  "connection reset by %s during the TLS handshake", t->conn.addr);
		else if (sys == 0)
			probe_result_fail(r, PROBE_ERR_TLS,
			                  "connection closed by %s during the TLS handshake (not a TLS server?)",
			                  t->conn.addr);
		else
			probe_result_fail(r, PROBE_ERR_TLS, "TLS handshake with %s failed: %s", t->conn.addr,
			                  strerror(sys));
		break;
	default:
		/* "wrong version number" (not TLS), "tlsv1 alert handshake failure", ... */
		probe_result_fail(r, PROBE_ERR_TLS, "TLS handshake with %s failed: %s%s", t->conn.addr,
		                  tls_ssl_reason("unknown error"),
		                  ERR_GET_REASON(ERR_peek_error()) == SSL_R_WRONG_VERSION_NUMBER ?
		                  " (not a TLS server?)" : "");
		break;
	}
	tls_done(t);
}

/* Creates the context and session for the handshake: CA store, verify
 * parameters, SNI. Returns 0, or -1 after failing the run. */
static int tls_setup(struct tls_run *t)
{
	struct probe_run *run = t->run;
	const struct check_tls *c = &run->check->tls;
	BIO *bio;

	t->ctx = SSL_CTX_new(TLS_client_method());
	if (t->ctx == NULL) {
		probe_result_fail(&run->result, PROBE_ERR_INTERNAL, "cannot create a TLS context: %s",
		                  tls_ssl_reason("out of memory"));
		return -1;
	}
	/* The verdict is read after the handshake (see the top of the file). */
	SSL_CTX_set_verify(t->ctx, SSL_VERIFY_NONE, NULL);
	if (c->ca_file) {
		if (SSL_CTX_load_verify_locations(t->ctx, c->ca_file, NULL) != 1) {
			probe_result_fail(&run->result, PROBE_ERR_INTERNAL, "cannot load ca_file %s: %s",
			                  c->ca_file, tls_ssl_reason("unreadable"));
			return -1;
		}
	} else {
		X509_STORE *store = tls_system_store();

		if (store == NULL)
			log_warn("cannot load the system CA certificates", "check", run->check->name);
		else
			SSL_CTX_set1_cert_store(t->ctx, store);
	}
	t->ssl = SSL_new(t->ctx);
	bio = t->ssl ? tls_bio_new(t->fd) : NULL;
	if (bio == NULL) {
		probe_result_fail(&run->result, PROBE_ERR_INTERNAL, "cannot create a TLS session: %s",
		                  tls_ssl_reason("out of memory"));
		return -1;
	}
	SSL_set_bio(t->ssl, bio, bio);
	SSL_set_connect_state(t->ssl);
	if (tls_is_ip(t->name)) {
		if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(t->ssl), t->name) != 1)
			goto bad_name;
	} else {
		SSL_set_hostflags(t->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
		if (SSL_set_tlsext_host_name(t->ssl, t->name) != 1 || SSL_set1_host(t->ssl, t->name) != 1)
			goto bad_name;
	}
	return 0;

bad_name:
	probe_result_fail(&run->result, PROBE_ERR_TLS, "cannot use \"%s\" as the TLS server name: %s",
	                  t->name, tls_ssl_reason("invalid"));
	return -1;
}

/* The socket became writable (or failed) while connecting. */
static void tls_connected(struct tls_run *t)
{
	struct probe_run *run = t->run;
	int rc = conn_finish(&t->conn, &run->result, t->fd);

	if (rc > 0)
		return;         /* spurious wake-up: still connecting */
	if (rc < 0) {
		tls_done(t);
		return;
	}
	run->result.connect_us = probe_elapsed_us(run);
	tls_set_state(t, TLS_HANDSHAKE);
	if (tls_setup(t) < 0) {
		tls_done(t);
		return;
	}
	t->handshake_start_us = probe_elapsed_us(run);
	tls_handshake(t);
}

/* Socket readiness: dispatch on the state. Accepts spurious wake-ups (the
 * handshake step then asks for the same event again). */
static void tls_on_fd(struct loop *l, int fd, int events, void *arg)
{
	struct tls_run *t = arg;

	switch (t->state) {
	case TLS_CONNECTING:
		tls_connected(t);
		break;
	case TLS_HANDSHAKE:
		tls_handshake(t);
		break;
	case TLS_RESOLVING:
		break;
	}
}

/* Opens the socket to the first address and starts connecting. */
static void tls_connect(struct tls_run *t, const struct resolver_addrs *addrs)
{
	struct probe_run *run = t->run;

	probe_result_detail(&run->result, "server_name", json_string(t->name));
	tls_set_state(t, TLS_CONNECTING);
	t->fd = conn_start(&t->conn, &run->result, run->check->tls.host, addrs, t->port,
	                   run->env->source_address);
	if (t->fd < 0 || tls_watch(t, LOOP_WRITE) < 0)
		tls_done(t);
}

/* resolver_lookup callback: on the loop, exactly once unless cancelled. */
static void tls_on_resolved(int status, const char *errmsg, const struct resolver_addrs *addrs,
                            void *arg)
{
	struct tls_run *t = arg;
	struct probe_run *run = t->run;

	t->req = NULL;
	if (!probe_resolved(&run->result, status, errmsg, addrs)) {
		tls_done(t);
		return;
	}
	run->result.dns_us = (int64_t)addrs->elapsed_us;
	tls_connect(t, addrs);
}

/* the descriptor's start: resolve check->tls.host; everything else follows from the loop. */
static int tls_start(struct probe_run *run)
{
	const struct check_tls *c = &run->check->tls;
	struct tls_run *t;

	if (c->host == NULL || c->host[0] == '\0') {
		probe_result_fail(&run->result, PROBE_ERR_INTERNAL, "tls check without a host");
		return -1;
	}
	t = xcalloc(1, sizeof(*t));
	t->run = run;
	t->fd = -1;
	t->port = c->port > 0 ? c->port : TLS_DEFAULT_PORT;
	t->name = c->server_name && c->server_name[0] ? c->server_name : c->host;
	t->state = TLS_RESOLVING;
	run->phase = tls_phases[TLS_RESOLVING];
	run->impl = t;
	t->req = resolver_lookup(run->env->resolver, c->host, probe_source_family(run->env), tls_on_resolved,
	                         t);
	if (!t->req) {
		probe_result_fail(&run->result, PROBE_ERR_DNS, "cannot start resolving %s", c->host);
		run->impl = NULL;
		tls_release(t);
		return -1;
	}
	return 0;
}

/* the descriptor's abort: cancel the lookup, drop the session, close the socket, free. */
static void tls_abort(struct probe_run *run)
{
	struct tls_run *t = run->impl;

	if (!t)
		return;
	run->impl = NULL;
	tls_release(t);
}

/* --- the type's descriptor ------------------------------------------------ */

static const struct probe_setting tls_settings[] = {
	PROBE_SET_HOST("host", struct check, tls.host, PROBE_REQUIRED, "host = \"example.com\"",
	               "host name or IP address to connect to"),
	PROBE_SET_INT("port", struct check, tls.port, 1, 65535, "TCP port (default 443)"),
	PROBE_SET_HOST("server_name", struct check, tls.server_name, 0, NULL,
	               "name sent as SNI and verified (default: host)"),
	PROBE_SET_STR("ca_file", struct check, tls.ca_file, PROBE_NONEMPTY | PROBE_FILE,
	              "PEM file of the CAs to trust instead of the system's"),
	PROBE_SET_BOOL("insecure", struct check, tls.insecure,
	               "skip verification, still report expiry (default false)"),
	PROBE_SET_END
};

static const struct probe_setting tls_expect[] = {
	PROBE_SET_INT("cert_min_days", struct check_expect, cert_min_days, 0, 3650,
	              "fewest days the certificate must still be valid"),
	PROBE_SET_DURATION("max_latency", struct check_expect, max_latency_ms, 1, "longest acceptable handshake"),
	PROBE_SET_END
};

/* "example.com:443", "[2001:db8::1]:8443 (api.example.com)". */
static char *tls_target(const struct check *c)
{
	const char *host = c->tls.host ? c->tls.host : "";
	bool v6 = strchr(host, ':') != NULL;

	return xasprintf("%s%s%s:%d%s%s%s", v6 ? "[" : "", host, v6 ? "]" : "", c->tls.port,
	                 c->tls.server_name ? " (" : "", c->tls.server_name ? c->tls.server_name : "",
	                 c->tls.server_name ? ")" : "");
}

static void tls_init(struct check *c)
{
	c->tls.port = 443;
}

static void tls_free(struct check *c)
{
	free(c->tls.host);
	free(c->tls.server_name);
	free(c->tls.ca_file);
}

const struct probe_type probe_type_tls = {
	.name = "tls",
	.summary = "TLS handshake: verification, protocol, cipher, certificate expiry",
	.settings = tls_settings,
	.expect = tls_expect,
	.target = tls_target,
	.start = tls_start,
	.abort = tls_abort,
	.init = tls_init,
	.free = tls_free,
};

/* http.c — the http check type: resolve the host with c-ares, pin the
 * address into libcurl (CURLOPT_RESOLVE, so no resolver thread), run the
 * request on the loop's curl multi handle, follow redirects ourselves (each
 * hop resolved by c-ares too), then evaluate the assertions.
 *
 * A run is a small state machine: RESOLVING -> TRANSFERRING -> (redirect:
 * RESOLVING again) -> done. The response body is kept up to max_body bytes
 * and the transfer is cut there, so memory per probe is bounded whatever the
 * server sends.
 *
 * Phase timings of a redirect chain are the sums over its hops (dns_us is all
 * DNS time, connect_us adds all TCP connect time, and so on), so the offsets
 * still add up to roughly the whole run.
 *
 * Multi-step checks (`steps`): the same request machinery runs once per step,
 * each step with its own settings and expect, its outcome collected in a
 * step result (h->res points at it instead of the run's result). After a
 * step passes, its `extract` values are pulled from its JSON body
 * (jsonpath_get) or a response header and substituted as ${var:NAME} into
 * later steps: percent-encoded in the url, as is in headers (line breaks
 * replaced by spaces) and in the body. The run fails at the first failing
 * step, named in the message; details.steps[] holds each step's timings,
 * status and assertions; the run's phases are the sums over all steps and
 * the check's timeout covers the whole flow. Extracted values change every
 * run, so they cannot be registered as secrets: they are never logged, and
 * every text of the result (message, assertions, step details) has them
 * replaced by "***". */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "probes/assert.h"
#include "core/curlm.h"
#include "probes/jsonpath.h"
#include "core/log.h"
#include "probes/http.h"
#include "probes/probe.h"
#include "core/resolver.h"
#include "core/util.h"

#define HTTP_MAX_HEADERS 100            /* response headers kept (last response) */
#define HTTP_MAX_HEADER_LEN 8192        /* bytes kept of one header line */
#define HTTP_MAX_STATUS_LINE 256
#define HTTP_BACKSTOP_MARGIN_MS 1000    /* curl's own timeout trails ours by this */
#define HTTP_VAR_MAX (64 * 1024)        /* bytes of one extracted value */
#define HTTP_MASK_MIN 3                 /* shorter extracted values are not masked */

struct http_run {
	struct probe_run *run;
	struct resolver_req *req;   /* DNS lookup in flight */
	CURL *easy;                 /* current hop's transfer (owned) */
	bool in_multi;              /* easy is added to the multi handle */
	bool hop_collected;         /* this hop's timings are in the sums */
	struct curl_slist *req_headers, *resolve;

	/* the current hop */
	char *url, *scheme, *host;  /* host without IPv6 brackets */
	long port;
	const char *method;         /* check's method, or "GET" after a 303 */
	bool send_body;
	bool same_origin;           /* credentials are only sent to the first origin */
	char *origin;               /* "scheme://host:port" of the first hop */
	int redirects;

	char errbuf[CURL_ERROR_SIZE];

	/* response of the current hop */
	char *body;
	size_t body_len, body_cap;
	bool truncated;
	char **hdrs;
	size_t n_hdrs;
	char status_line[HTTP_MAX_STATUS_LINE];

	/* phase durations summed over hops (microseconds) */
	int64_t dns_sum, connect_sum, tls_sum, wait_sum;
	bool saw_dns, saw_connect, saw_tls, saw_ttfb;

	/* the request being made: the check's, or the current step's */
	const struct check_http *http;
	const struct check_expect *expect;
	struct probe_result *res;   /* its outcome: &run->result, or step_res */
	int64_t req_start_us;       /* run time at which the request (step) began */

	/* multi-step */
	bool multi;
	size_t step;                /* index of the current step */
	struct check_http step_http;    /* the step's settings; url, headers and body are
	                                   the owned substituted copies below */
	char *s_url, *s_body, **s_headers;
	size_t s_n_headers;
	struct probe_result *step_res;  /* allocated for multi-step runs only (it is
	                                   several KB, and single requests are the
	                                   common case) */
	int64_t st_dns0, st_connect0, st_tls0, st_wait0;   /* sums when the step began */
	bool st_dns, st_connect, st_tls, st_ttfb;           /* seen in this step */
	const char **var_names;     /* borrowed from the check's extracts */
	char **var_values;          /* owned */
	size_t n_vars;
	json_t *steps;              /* details.steps */
};

static int http_hop_begin(struct http_run *h, const char *url);
static void http_request_over(struct http_run *h);

/* curl_slist_append, aborting on out-of-memory like xmalloc. */
static struct curl_slist *http_slist_add(struct curl_slist *l, const char *s)
{
	struct curl_slist *n = curl_slist_append(l, s);

	if (n == NULL) {
		log_error("curl_slist_append() failed: out of memory");
		abort();
	}
	return n;
}

/* Forgets the current hop's response (a redirect's body and headers are not
 * the answer we assert on). */
static void http_reset_response(struct http_run *h)
{
	for (size_t i = 0; i < h->n_hdrs; i++)
		free(h->hdrs[i]);
	h->n_hdrs = 0;
	h->body_len = 0;
	h->truncated = false;
	h->status_line[0] = '\0';
}

/* --- idle easy handles -------------------------------------------------------------
 *
 * curl_easy_init and curl_easy_cleanup per run showed in profiles (a handle
 * is a few KB of state plus its download buffer). Finished handles are kept
 * here, reset to defaults (curl_easy_reset also forgets every pointer into
 * the finished run), and taken again by the next run. Their connection is
 * already gone (FORBID_REUSE), and every run disables the TLS session cache
 * (CURLOPT_SSL_SESSIONID_CACHE), so a recycled handle measures exactly what
 * a new one does. Bounded; shared by every loop thread, hence the mutex. */

#define HTTP_EASY_POOL_MAX 128

static pthread_mutex_t http_easy_lock = PTHREAD_MUTEX_INITIALIZER;
static CURL *http_easy_pool[HTTP_EASY_POOL_MAX];
static size_t http_easy_idle;

/* An easy handle with default options, or NULL when curl cannot make one. */
static CURL *http_easy_get(void)
{
	CURL *e = NULL;

	pthread_mutex_lock(&http_easy_lock);
	if (http_easy_idle > 0)
		e = http_easy_pool[--http_easy_idle];
	pthread_mutex_unlock(&http_easy_lock);
	return e != NULL ? e : curl_easy_init();
}

/* Takes back e (not in any multi handle): reset and kept for reuse, or
 * freed. A handle to free is not reset first: with CURLOPT_NOSIGNAL still
 * set, its cleanup makes no sigaction calls (nor does a kept one's, later). */
static void http_easy_put(CURL *e)
{
	pthread_mutex_lock(&http_easy_lock);
	if (http_easy_idle < HTTP_EASY_POOL_MAX) {
		curl_easy_reset(e);
		curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
		http_easy_pool[http_easy_idle++] = e;
		e = NULL;
	}
	pthread_mutex_unlock(&http_easy_lock);
	if (e != NULL)
		curl_easy_cleanup(e);
}

/* Releases the hop's transfer: out of the multi handle, then back to the
 * pool. */
static void http_drop_easy(struct http_run *h)
{
	if (h->easy == NULL)
		return;
	if (h->in_multi)
		curlm_remove(h->run->env->curlm, h->easy);
	h->in_multi = false;
	http_easy_put(h->easy);
	h->easy = NULL;
	curl_slist_free_all(h->req_headers);
	curl_slist_free_all(h->resolve);
	h->req_headers = h->resolve = NULL;
}

/* Frees the current step's substituted url, headers and body. */
static void http_step_strings_free(struct http_run *h)
{
	for (size_t i = 0; i < h->s_n_headers; i++)
		free(h->s_headers[i]);
	free(h->s_headers);
	free(h->s_url);
	free(h->s_body);
	h->s_headers = NULL;
	h->s_n_headers = 0;
	h->s_url = h->s_body = NULL;
}

/* Frees everything h owns, h itself, and clears run->impl. */
static void http_free(struct http_run *h)
{
	if (h->req)
		resolver_cancel(h->req);
	http_drop_easy(h);
	http_reset_response(h);
	free(h->hdrs);
	free(h->body);
	free(h->url);
	free(h->scheme);
	free(h->host);
	free(h->origin);
	http_step_strings_free(h);
	if (h->step_res != NULL) {
		probe_result_clear(h->step_res);
		free(h->step_res);
	}
	for (size_t i = 0; i < h->n_vars; i++) {
		if (h->var_values[i] != NULL)
			explicit_bzero(h->var_values[i], strlen(h->var_values[i]));
		free(h->var_values[i]);
	}
	free(h->var_values);
	free(h->var_names);
	json_decref(h->steps);
	h->run->impl = NULL;
	free(h);
}

/* Adds this hop's libcurl timings to the sums (once per hop). CONNECT_TIME
 * includes curl's name lookup, which is a cache hit thanks to the pin. */
static void http_collect_hop(struct http_run *h)
{
	curl_off_t t_conn = 0, t_app = 0, t_start = 0, base;

	if (h->easy == NULL || h->hop_collected)
		return;
	h->hop_collected = true;
	curl_easy_getinfo(h->easy, CURLINFO_CONNECT_TIME_T, &t_conn);
	curl_easy_getinfo(h->easy, CURLINFO_APPCONNECT_TIME_T, &t_app);
	curl_easy_getinfo(h->easy, CURLINFO_STARTTRANSFER_TIME_T, &t_start);
	if (t_conn <= 0)
		return;
	h->connect_sum += t_conn;
	h->saw_connect = h->st_connect = true;
	base = t_conn;
	if (t_app > 0 && t_app >= t_conn) {
		h->tls_sum += t_app - t_conn;
		h->saw_tls = h->st_tls = true;
		base = t_app;
	}
	if (t_start > 0 && t_start >= base) {
		h->wait_sum += t_start - base;
		h->saw_ttfb = h->st_ttfb = true;
	}
}

/* What the transfer in flight is doing, from libcurl's timestamps (for the
 * timeout message). Static strings: the message is formatted after h is gone. */
static const char *http_live_phase(struct http_run *h)
{
	curl_off_t t_conn = 0, t_app = 0, t_start = 0;

	if (h->req)
		return "resolving host";
	if (h->easy == NULL)
		return h->run->phase;
	curl_easy_getinfo(h->easy, CURLINFO_CONNECT_TIME_T, &t_conn);
	curl_easy_getinfo(h->easy, CURLINFO_APPCONNECT_TIME_T, &t_app);
	curl_easy_getinfo(h->easy, CURLINFO_STARTTRANSFER_TIME_T, &t_start);
	if (t_conn <= 0)
		return "connecting";
	if (h->scheme && strcmp(h->scheme, "https") == 0 && t_app <= 0)
		return "negotiating TLS";
	if (t_start <= 0)
		return "waiting for the response";
	return "reading the body";
}

/* Writes the summed phases into the result as offsets from the run start. */
static void http_set_phases(struct http_run *h)
{
	struct probe_result *r = &h->run->result;
	int64_t at;

	if (!h->saw_dns)
		return;
	r->dns_us = h->dns_sum;
	if (!h->saw_connect)
		return;
	at = h->dns_sum + h->connect_sum;
	r->connect_us = at;
	if (h->saw_tls) {
		at += h->tls_sum;
		r->tls_us = at;
	}
	if (h->saw_ttfb)
		r->ttfb_us = at + h->wait_sum;
}

/* --- parsed URLs ------------------------------------------------------------------
 *
 * Every run parses its check's URL (scheme, host, port) and later prints it
 * without credentials for details.final_url; with curl_url that is a few
 * microseconds each, paid again every run for the same few strings. The
 * answers are cached by URL text: a check's URL does not change between runs,
 * and redirect targets usually do not either. Bounded (flushed whole when
 * full); shared by every loop thread, hence the mutex. */

#define HTTP_URL_CACHE_BUCKETS 4096
#define HTTP_URL_CACHE_MAX 32768    /* entries */
#define HTTP_URL_CACHE_MAX_LEN 4096 /* longer URLs are parsed every time */

struct http_url_info {
	char *url;
	char *scheme, *host, *port;     /* as curl_url_get gives them (port: default filled in) */
	char *public_url;               /* without user and password; NULL: not yet known */
	bool public_failed;             /* curl could not print it */
	struct http_url_info *next;
};

static pthread_mutex_t http_url_lock = PTHREAD_MUTEX_INITIALIZER;
static struct http_url_info *http_url_cache[HTTP_URL_CACHE_BUCKETS];
static size_t http_url_count;

static void http_url_info_free(struct http_url_info *i)
{
	free(i->url);
	free(i->scheme);
	free(i->host);
	free(i->port);
	free(i->public_url);
	free(i);
}

/* The cached entry of url, or NULL. Lock held. */
static struct http_url_info *http_url_find(const char *url, size_t *bucket)
{
	*bucket = (size_t)(util_hash64(url) % HTTP_URL_CACHE_BUCKETS);
	for (struct http_url_info *i = http_url_cache[*bucket]; i; i = i->next)
		if (strcmp(i->url, url) == 0)
			return i;
	return NULL;
}

/* Parses url with curl_url into owned copies of scheme, host and port (the
 * scheme's default port when it has none). Returns 0, or -1 when curl does
 * not take it. Cached; the copies are the caller's to free. */
static int http_url_parse(const char *url, char **scheme_out, char **host_out, char **port_out)
{
	CURLU *u;
	char *scheme = NULL, *host = NULL, *port = NULL;
	struct http_url_info *i;
	size_t b;
	int rc = -1;

	*scheme_out = *host_out = *port_out = NULL;
	pthread_mutex_lock(&http_url_lock);
	i = http_url_find(url, &b);
	if (i != NULL) {
		*scheme_out = xstrdup(i->scheme);
		*host_out = xstrdup(i->host);
		*port_out = xstrdup(i->port);
		pthread_mutex_unlock(&http_url_lock);
		return 0;
	}
	pthread_mutex_unlock(&http_url_lock);

	u = curl_url();
	if (u == NULL || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK)
		goto out;
	*scheme_out = xstrdup(scheme);
	*host_out = xstrdup(host);
	*port_out = xstrdup(port);
	rc = 0;
	if (strlen(url) > HTTP_URL_CACHE_MAX_LEN)
		goto out;
	pthread_mutex_lock(&http_url_lock);
	if (http_url_find(url, &b) == NULL) {
		if (http_url_count >= HTTP_URL_CACHE_MAX) {
			for (size_t k = 0; k < HTTP_URL_CACHE_BUCKETS; k++) {
				while (http_url_cache[k] != NULL) {
					struct http_url_info *n = http_url_cache[k]->next;

					http_url_info_free(http_url_cache[k]);
					http_url_cache[k] = n;
				}
			}
			http_url_count = 0;
		}
		i = xcalloc(1, sizeof(*i));
		i->url = xstrdup(url);
		i->scheme = xstrdup(scheme);
		i->host = xstrdup(host);
		i->port = xstrdup(port);
		i->next = http_url_cache[b];
		http_url_cache[b] = i;
		http_url_count++;
	}
	pthread_mutex_unlock(&http_url_lock);
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return rc;
}

/* url printed by curl without user name and password (owned), or NULL. */
static char *http_public_url_text(const char *url)
{
	CURLU *u = curl_url();
	char *s = NULL, *out = NULL;

	if (u == NULL || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK)
		goto out;
	curl_url_set(u, CURLUPART_USER, NULL, 0);
	curl_url_set(u, CURLUPART_PASSWORD, NULL, 0);
	if (curl_url_get(u, CURLUPART_URL, &s, 0) == CURLUE_OK)
		out = xstrdup(s);
out:
	curl_free(s);
	curl_url_cleanup(u);
	return out;
}

/* The URL without user name and password, for details (NULL on failure).
 * Taken from the cache when url was parsed there (http_url_parse). */
static json_t *http_public_url(const char *url)
{
	struct http_url_info *i;
	json_t *j = NULL;
	char *text;
	size_t b;

	if (url == NULL)
		return NULL;
	pthread_mutex_lock(&http_url_lock);
	i = http_url_find(url, &b);
	if (i != NULL && (i->public_url != NULL || i->public_failed)) {
		j = i->public_url ? json_string(i->public_url) : NULL;
		pthread_mutex_unlock(&http_url_lock);
		return j;
	}
	pthread_mutex_unlock(&http_url_lock);

	text = http_public_url_text(url);
	if (text != NULL)
		j = json_string(text);
	pthread_mutex_lock(&http_url_lock);
	/* The entry may have been flushed meanwhile: look it up again. */
	i = http_url_find(url, &b);
	if (i != NULL && i->public_url == NULL && !i->public_failed) {
		i->public_url = text;
		i->public_failed = text == NULL;
		text = NULL;
	}
	pthread_mutex_unlock(&http_url_lock);
	free(text);
	return j;
}

/* Sets o[key] = v (stolen) when v is not NULL. */
static void http_set(json_t *o, const char *key, json_t *v)
{
	if (v != NULL)
		json_object_set_new(o, key, v);
}

/* What is known of the current request into o: final_url, redirects,
 * insecure, truncated, http_version, remote, remote_port. */
static void http_request_info(struct http_run *h, json_t *o)
{
	long ver = 0, port = 0;
	char *ip = NULL;

	http_set(o, "final_url", http_public_url(h->url));
	http_set(o, "redirects", json_integer(h->redirects));
	http_set(o, "insecure", json_boolean(h->http->insecure));
	http_set(o, "truncated", json_boolean(h->truncated));
	if (h->easy == NULL)
		return;
	curl_easy_getinfo(h->easy, CURLINFO_HTTP_VERSION, &ver);
	switch (ver) {
	case CURL_HTTP_VERSION_1_0: http_set(o, "http_version", json_string("1.0")); break;
	case CURL_HTTP_VERSION_1_1: http_set(o, "http_version", json_string("1.1")); break;
	case CURL_HTTP_VERSION_2_0: http_set(o, "http_version", json_string("2")); break;
	case CURL_HTTP_VERSION_3: http_set(o, "http_version", json_string("3")); break;
	default: break;
	}
	if (curl_easy_getinfo(h->easy, CURLINFO_PRIMARY_IP, &ip) == CURLE_OK && ip && ip[0]) {
		curl_easy_getinfo(h->easy, CURLINFO_PRIMARY_PORT, &port);
		http_set(o, "remote", json_string(ip));
		if (port > 0)
			http_set(o, "remote_port", json_integer(port));
	}
}

/* details: final_url, redirects, http_version, insecure, truncated, remote
 * of a single request; steps[] of a multi-step run (each step has its own). */
static void http_details(struct http_run *h)
{
	struct probe_result *r = &h->run->result;

	if (h->multi) {
		probe_result_detail(r, "steps", json_incref(h->steps));
		return;
	}
	/* Straight into the details (json_object_set_new replaces a key as
	 * probe_result_detail does): no object built and copied per run. */
	if (r->details == NULL)
		r->details = json_object();
	http_request_info(h, r->details);
}

/* The run is over: phases and details into the result, state freed, done. */
static void http_end(struct http_run *h)
{
	struct probe_run *run = h->run;

	http_collect_hop(h);
	http_set_phases(h);
	http_details(h);
	http_free(h);
	probe_finish(run);
}

/* The leaf certificate's notAfter (Unix seconds) from CURLINFO_CERTINFO, or
 * 0. The PEM is parsed with OpenSSL: the "Expire date" text depends on the TLS
 * backend's formatting, the certificate itself does not. */
static int64_t http_cert_expiry(CURL *easy)
{
	struct curl_certinfo *ci = NULL;
	int64_t expiry = 0;

	if (curl_easy_getinfo(easy, CURLINFO_CERTINFO, &ci) != CURLE_OK || ci == NULL ||
	    ci->num_of_certs < 1)
		return 0;
	for (struct curl_slist *s = ci->certinfo[0]; s; s = s->next) {
		BIO *bio;
		X509 *x;
		const ASN1_TIME *na;
		struct tm tm;

		if (strncmp(s->data, "Cert:", 5) != 0)
			continue;
		bio = BIO_new_mem_buf(s->data + 5, -1);
		x = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
		na = x ? X509_get0_notAfter(x) : NULL;
		memset(&tm, 0, sizeof(tm));
		if (na && ASN1_TIME_to_tm(na, &tm) == 1)
			expiry = (int64_t)timegm(&tm);
		X509_free(x);
		BIO_free(bio);
		break;
	}
	return expiry;
}

/* Turns a libcurl failure into an error class and words a person understands. */
static void http_fail_curl(struct http_run *h, CURLcode code)
{
	struct probe_result *r = h->res;
	const char *eb = h->errbuf[0] ? h->errbuf : curl_easy_strerror(code);
	char *ip = NULL;
	long port = 0, oserr = 0;
	curl_off_t total = 0, got = 0, want = -1;
	char dur[32];

	curl_easy_getinfo(h->easy, CURLINFO_PRIMARY_IP, &ip);
	curl_easy_getinfo(h->easy, CURLINFO_PRIMARY_PORT, &port);
	curl_easy_getinfo(h->easy, CURLINFO_OS_ERRNO, &oserr);
	curl_easy_getinfo(h->easy, CURLINFO_TOTAL_TIME_T, &total);
	if (ip == NULL || ip[0] == '\0')
		ip = h->host;
	if (port <= 0)
		port = h->port;

	switch (code) {
	case CURLE_OPERATION_TIMEDOUT:
		util_format_duration(h->run->check->timeout_ms, dur, sizeof(dur));
		probe_result_fail(r, PROBE_ERR_TIMEOUT, "no answer within %s while %s", dur,
		                  http_live_phase(h));
		break;
	case CURLE_COULDNT_CONNECT:
		if (oserr == ECONNREFUSED)
			probe_result_fail(r, PROBE_ERR_CONNECT, "connection refused by %s:%ld", ip, port);
		else if (oserr == EHOSTUNREACH)
			probe_result_fail(r, PROBE_ERR_CONNECT, "no route to host %s", ip);
		else if (oserr == ENETUNREACH)
			probe_result_fail(r, PROBE_ERR_CONNECT, "network unreachable for %s", ip);
		else if (oserr == ETIMEDOUT)
			probe_result_fail(r, PROBE_ERR_CONNECT, "connecting to %s:%ld timed out", ip, port);
		else
			probe_result_fail(r, PROBE_ERR_CONNECT, "could not connect to %s:%ld: %s", ip, port,
			                  eb);
		break;
	case CURLE_COULDNT_RESOLVE_HOST:
		probe_result_fail(r, PROBE_ERR_DNS, "%s", eb);
		break;
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
		if (oserr == ECONNRESET || strstr(eb, "reset by peer"))
			probe_result_fail(r, PROBE_ERR_CONNECT, "connection reset by peer after %lld ms",
			                  (long long)(total / 1000));
		else
			probe_result_fail(r, PROBE_ERR_PROTOCOL, "%s the request failed after %lld ms: %s",
			                  code == CURLE_SEND_ERROR ? "sending" : "receiving the answer to",
			                  (long long)(total / 1000), eb);
		break;
	case CURLE_GOT_NOTHING:
		probe_result_fail(r, PROBE_ERR_PROTOCOL, "server closed the connection without answering");
		break;
	case CURLE_PARTIAL_FILE:
		curl_easy_getinfo(h->easy, CURLINFO_SIZE_DOWNLOAD_T, &got);
		curl_easy_getinfo(h->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &want);
		if (want >= 0)
			probe_result_fail(r, PROBE_ERR_PROTOCOL,
			                  "server closed the connection after %lld of %lld body bytes",
			                  (long long)got, (long long)want);
		else
			probe_result_fail(r, PROBE_ERR_PROTOCOL,
			                  "server closed the connection in the middle of the body: %s", eb);
		break;
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_HTTP3:
	case CURLE_BAD_CONTENT_ENCODING:
		probe_result_fail(r, PROBE_ERR_PROTOCOL, "invalid HTTP response: %s", eb);
		break;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_ENGINE_INITFAILED:
	case CURLE_SSL_SHUTDOWN_FAILED:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_CLIENTCERT:
	case CURLE_USE_SSL_FAILED:
		probe_result_fail(r, PROBE_ERR_TLS, "TLS: %s", eb);
		break;
	case CURLE_OUT_OF_MEMORY:
	case CURLE_FAILED_INIT:
	case CURLE_BAD_FUNCTION_ARGUMENT:
	case CURLE_UNKNOWN_OPTION:
	case CURLE_URL_MALFORMAT:
	case CURLE_UNSUPPORTED_PROTOCOL:
		probe_result_fail(r, PROBE_ERR_INTERNAL, "request could not be made: %s", eb);
		break;
	default:
		probe_result_fail(r, PROBE_ERR_PROTOCOL, "%s", eb);
		break;
	}
}

/* The final response: record it, then the assertions in the order the error
 * class depends on (status first, so a 503 reads as http_status). */
static void http_response(struct http_run *h, long status)
{
	struct probe_run *run = h->run;
	struct probe_result *r = h->res;
	const struct check_expect *e = h->expect;

	r->status_code = (int)status;
	r->bytes = (int64_t)h->body_len;
	if (h->scheme && strcmp(h->scheme, "https") == 0)
		r->cert_expiry = http_cert_expiry(h->easy);
	if (h->truncated)
		probe_result_detail(r, "body_truncated_at", json_integer((json_int_t)h->body_len));

	assert_status(r, e, (int)status);
	assert_headers(r, e, h->hdrs, h->n_hdrs);
	assert_body(r, e, h->body, h->body_len, h->truncated);
	assert_max_latency(r, e, probe_elapsed_us(run) - h->req_start_us);
	assert_cert_days(r, e, r->cert_expiry, util_wall_us() / 1000000);

	if (r->error == PROBE_OK) {
		/* "HTTP/1.1 200 OK" -> "HTTP 200 OK" */
		const char *sp = strchr(h->status_line, ' ');

		if (sp && sp[1])
			snprintf(r->message, sizeof(r->message), "HTTP %s%s", sp + 1,
			         h->truncated ? " (body truncated)" : "");
		else
			snprintf(r->message, sizeof(r->message), "HTTP %ld", status);
	}
}

/* libcurl finished the hop: redirect, fail or evaluate. */
static void http_on_done(CURL *easy, CURLcode code, void *arg)
{
	struct http_run *h = arg;
	const struct check_http *c = h->http;
	long status = 0;
	char *loc = NULL;

	(void)easy;
	h->in_multi = false;
	http_collect_hop(h);
	/* Our write callback cut the body at max_body: not a failure. */
	if (code == CURLE_WRITE_ERROR && h->truncated)
		code = CURLE_OK;
	if (code != CURLE_OK) {
		http_fail_curl(h, code);
		http_request_over(h);
		return;
	}
	curl_easy_getinfo(h->easy, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(h->easy, CURLINFO_REDIRECT_URL, &loc);
	if (c->max_redirects > 0 && loc && loc[0] &&
	    (status == 301 || status == 302 || status == 303 || status == 307 || status == 308)) {
		char *next;

		if (h->redirects >= c->max_redirects) {
			json_t *pub = http_public_url(loc);

			probe_result_fail(h->res, PROBE_ERR_PROTOCOL,
			                  "too many redirects: stopped after %d (HTTP %ld to %s)",
			                  h->redirects, status, pub ? json_string_value(pub) : "?");
			json_decref(pub);
			h->res->status_code = (int)status;
			http_request_over(h);
			return;
		}
		/* As browsers and curl do: 303 always, and 301/302 after a POST,
		 * continue with a GET without body; 307/308 repeat the request. */
		if ((status == 303 && strcasecmp(h->method, "HEAD") != 0) ||
		    ((status == 301 || status == 302) && strcasecmp(h->method, "POST") == 0)) {
			h->method = "GET";
			h->send_body = false;
		}
		next = xstrdup(loc);
		h->redirects++;
		http_drop_easy(h);
		http_reset_response(h);
		if (http_hop_begin(h, next) < 0) {
			free(next);
			http_request_over(h);
			return;
		}
		free(next);
		return;
	}
	http_response(h, status);
	http_request_over(h);
}

/* Body sink: keeps at most max_body bytes, growing the buffer as needed, and
 * stops the transfer (short count) once the cap is reached. */
static size_t http_on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct http_run *h = arg;
	size_t n = size * nmemb;
	size_t cap = h->http->max_body;
	size_t room = cap > h->body_len ? cap - h->body_len : 0;
	size_t take = n < room ? n : room;

	if (take > 0) {
		if (h->body_len + take + 1 > h->body_cap) {
			/* Small first: most probed bodies are short, and every run
			 * in flight holds its buffer. */
			size_t want = h->body_cap ? h->body_cap * 2 : 1024;

			if (want < h->body_len + take + 1)
				want = h->body_len + take + 1;
			if (want > cap + 1)
				want = cap + 1;
			h->body = xrealloc(h->body, want);
			h->body_cap = want;
		}
		memcpy(h->body + h->body_len, data, take);
		h->body_len += take;
		h->body[h->body_len] = '\0';
	}
	if (take < n) {
		h->truncated = true;
		return take;
	}
	return n;
}

/* Header sink: a status line starts a new response (redirect hops, 1xx), so
 * only the last response's headers remain; bounded in count and length. */
static size_t http_on_header(char *data, size_t size, size_t nmemb, void *arg)
{
	struct http_run *h = arg;
	size_t n = size * nmemb, len = n;

	while (len > 0 && (data[len - 1] == '\r' || data[len - 1] == '\n'))
		len--;
	if (len >= 5 && memcmp(data, "HTTP/", 5) == 0) {
		http_reset_response(h);
		snprintf(h->status_line, sizeof(h->status_line), "%.*s",
		         (int)(len < HTTP_MAX_STATUS_LINE ? len : HTTP_MAX_STATUS_LINE - 1), data);
		return n;
	}
	if (len == 0 || h->n_hdrs >= HTTP_MAX_HEADERS)
		return n;
	if (h->hdrs == NULL)
		h->hdrs = xcalloc(HTTP_MAX_HEADERS, sizeof(*h->hdrs));
	h->hdrs[h->n_hdrs++] = xstrndup(data, len < HTTP_MAX_HEADER_LEN ? len : HTTP_MAX_HEADER_LEN);
	return n;
}

/* True for a header that must not follow a redirect to another origin. */
static bool http_is_credential_header(const char *line)
{
	return strncasecmp(line, "Authorization:", 14) == 0 || strncasecmp(line, "Cookie:", 7) == 0;
}

/* Builds the easy handle for the current hop on the resolved addresses and
 * adds it to the multi handle. Returns 0, or -1 with the result failed. */
static int http_transfer_start(struct http_run *h, const struct resolver_addrs *a)
{
	struct probe_run *run = h->run;
	const struct check *chk = run->check;
	const struct check_http *c = h->http;
	struct in6_addr scratch;
	bool literal = inet_pton(AF_INET, h->host, &scratch) == 1 ||
	               inet_pton(AF_INET6, h->host, &scratch) == 1;
	bool have_expect = false;
	int64_t remaining_ms;
	CURL *e;

	h->easy = e = http_easy_get();
	if (e == NULL) {
		probe_result_fail(h->res, PROBE_ERR_INTERNAL, "curl_easy_init() failed");
		return -1;
	}
	h->hop_collected = false;
	h->errbuf[0] = '\0';

	/* Pin every address c-ares found ("host:port:a1,[v6],..."): curl then
	 * finds the name in its cache and starts no resolver thread. */
	if (!literal) {
		size_t cap = strlen(h->host) + 32 + (size_t)a->n * 72, used;
		char *entry = xmalloc(cap);

		used = (size_t)snprintf(entry, cap, "%s:%ld:", h->host, h->port);
		for (int i = 0; i < a->n && used < cap; i++) {
			bool v6 = strchr(a->text[i], ':') != NULL;

			used += (size_t)snprintf(entry + used, cap - used, "%s%s%s%s", i ? "," : "",
			                         v6 ? "[" : "", a->text[i], v6 ? "]" : "");
		}
		h->resolve = http_slist_add(NULL, entry);
		free(entry);
		curl_easy_setopt(e, CURLOPT_RESOLVE, h->resolve);
	}

	for (size_t i = 0; i < c->n_headers; i++) {
		if (!h->same_origin && http_is_credential_header(c->headers[i]))
			continue;
		if (strncasecmp(c->headers[i], "Expect:", 7) == 0)
			have_expect = true;
		h->req_headers = http_slist_add(h->req_headers, c->headers[i]);
	}
	/* No "Expect: 100-continue" pause before a large body: it would show up
	 * as server latency. */
	if (!have_expect)
		h->req_headers = http_slist_add(h->req_headers, "Expect:");
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, h->req_headers);

	curl_easy_setopt(e, CURLOPT_URL, h->url);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
	curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
	/* curl's receive buffer is allocated per transfer: 4 KiB instead of the
	 * default 16 KiB keeps thousands of probes in flight cheap in memory and
	 * in allocator work; a large body only takes a few more reads. */
	curl_easy_setopt(e, CURLOPT_BUFFERSIZE, 4096L);
	/* Probes measure the direct path: never an http_proxy from the environment. */
	curl_easy_setopt(e, CURLOPT_PROXY, "");
	curl_easy_setopt(e, CURLOPT_USERAGENT, "pharos/" PHAROS_VERSION);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, h->errbuf);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, http_on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, h);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, http_on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, h);

	if (strcasecmp(h->method, "HEAD") == 0) {
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	} else {
		if (h->send_body && c->body) {
			curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(c->body));
			curl_easy_setopt(e, CURLOPT_POSTFIELDS, c->body);
		} else if (strcasecmp(h->method, "POST") == 0) {
			curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
			curl_easy_setopt(e, CURLOPT_POSTFIELDS, "");
		}
		if (strcasecmp(h->method, "GET") != 0 || (h->send_body && c->body))
			curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, h->method);
	}
	if (c->basic_user && h->same_origin) {
		curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(e, CURLOPT_USERNAME, c->basic_user);
		curl_easy_setopt(e, CURLOPT_PASSWORD, c->basic_pass ? c->basic_pass : "");
	}

	curl_easy_setopt(e, CURLOPT_CERTINFO, 1L);
	/* Every run does a full handshake, also on a recycled handle. */
	curl_easy_setopt(e, CURLOPT_SSL_SESSIONID_CACHE, 0L);
	if (c->ca_file)
		curl_easy_setopt(e, CURLOPT_CAINFO, c->ca_file);
	if (c->client_cert)
		curl_easy_setopt(e, CURLOPT_SSLCERT, c->client_cert);
	if (c->client_key)
		curl_easy_setopt(e, CURLOPT_SSLKEY, c->client_key);
	if (c->insecure) {
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	}

	/* A backstop only: our own timer (probe.c) fires first. */
	remaining_ms = (int64_t)chk->timeout_ms - probe_elapsed_us(run) / 1000;
	if (chk->timeout_ms > 0)
		curl_easy_setopt(e, CURLOPT_TIMEOUT_MS,
		                 (long)((remaining_ms > 0 ? remaining_ms : 0) + HTTP_BACKSTOP_MARGIN_MS));

	if (curlm_add(run->env->curlm, e, http_on_done, h) < 0) {
		probe_result_fail(h->res, PROBE_ERR_INTERNAL, "could not start the transfer");
		return -1;
	}
	h->in_multi = true;
	run->phase = "connecting";
	return 0;
}

/* The hop's host name is resolved: go on with the transfer, or fail as dns. */
static void http_on_resolved(int status, const char *errmsg, const struct resolver_addrs *a,
                             void *arg)
{
	struct http_run *h = arg;

	h->req = NULL;
	if (!probe_resolved(h->res, status, errmsg, a)) {
		http_request_over(h);
		return;
	}
	h->dns_sum += (int64_t)a->elapsed_us;
	h->saw_dns = h->st_dns = true;
	if (http_transfer_start(h, a) < 0)
		http_request_over(h);
}

/* "scheme://host:port" identifying where credentials may go. */
static char *http_origin(const struct http_run *h)
{
	return xasprintf("%s://%s:%ld", h->scheme, h->host, h->port);
}

/* Starts a hop to url: parse it, then resolve its host. Returns 0, or -1 with
 * the result failed (the caller ends the run). */
static int http_hop_begin(struct http_run *h, const char *url)
{
	struct probe_run *run = h->run;
	char *scheme = NULL, *host = NULL, *port = NULL;
	int rc = -1;

	free(h->url);
	free(h->scheme);
	free(h->host);
	h->url = xstrdup(url);
	h->scheme = h->host = NULL;
	if (http_url_parse(url, &scheme, &host, &port) != 0) {
		probe_result_fail(h->res, h->redirects ? PROBE_ERR_PROTOCOL : PROBE_ERR_INTERNAL,
		                  "%s is not a valid URL", h->redirects ? "the redirect target" :
		                  h->multi ? "the step's url" : "the check's url");
		goto out;
	}
	if (strcasecmp(scheme, "http") != 0 && strcasecmp(scheme, "https") != 0) {
		probe_result_fail(h->res, h->redirects ? PROBE_ERR_PROTOCOL : PROBE_ERR_INTERNAL,
		                  "%s uses the unsupported scheme \"%s\"",
		                  h->redirects ? "the redirect target" :
		                  h->multi ? "the step's url" : "the check's url", scheme);
		goto out;
	}
	h->scheme = xstrdup(scheme);
	for (char *p = h->scheme; *p; p++)
		*p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
	/* "[::1]" -> "::1" for the resolver. */
	if (host[0] == '[') {
		size_t n = strlen(host);

		h->host = xstrndup(host + 1, n >= 2 && host[n - 1] == ']' ? n - 2 : n - 1);
	} else {
		h->host = xstrdup(host);
	}
	h->port = strtol(port, NULL, 10);

	if (h->origin == NULL) {
		h->origin = http_origin(h);
		h->same_origin = true;
	} else {
		char *o = http_origin(h);

		h->same_origin = h->same_origin && strcasecmp(o, h->origin) == 0;
		free(o);
	}

	run->phase = "resolving host";
	h->req = resolver_lookup(run->env->resolver, h->host, AF_UNSPEC, http_on_resolved, h);
	if (h->req == NULL) {
		probe_result_fail(h->res, PROBE_ERR_DNS, "could not start resolving %s", h->host);
		goto out;
	}
	rc = 0;
out:
	free(scheme);
	free(host);
	free(port);
	return rc;
}

/* --- ${var:NAME} substitution ----------------------------------------------- */

/* A growing string with a ceiling. */
struct http_buf {
	char *p;
	size_t len, cap;
	bool over;                  /* the ceiling was reached */
};

static void http_buf_add(struct http_buf *b, const char *s, size_t n)
{
	if (b->over || n > PROBE_SUBST_MAX - b->len) {
		b->over = true;
		return;
	}
	if (b->len + n + 1 > b->cap) {
		size_t want = b->cap ? b->cap * 2 : 256;

		while (want < b->len + n + 1)
			want *= 2;
		b->p = xrealloc(b->p, want);
		b->cap = want;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

/* Appends value v as mode wants it (see probe.h). */
static void http_buf_add_value(struct http_buf *b, const char *v, enum probe_subst_mode mode)
{
	static const char hex[] = "0123456789ABCDEF";

	for (const char *q = v; *q != '\0' && !b->over; q++) {
		unsigned char c = (unsigned char)*q;
		char enc[3];

		if (mode == PROBE_SUBST_URL &&
		    !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '.' || c == '_' || c == '~')) {
			enc[0] = '%';
			enc[1] = hex[c >> 4];
			enc[2] = hex[c & 15];
			http_buf_add(b, enc, 3);
		} else if (mode == PROBE_SUBST_HEADER && (c < 0x20 || c == 0x7f) && c != '\t') {
			http_buf_add(b, " ", 1);
		} else {
			/* Copy the run of plain bytes at once. */
			size_t n = 1;

			if (mode == PROBE_SUBST_RAW)
				n = strlen(q);
			http_buf_add(b, q, n);
			q += n - 1;
		}
	}
}

char *probe_http_subst(const char *s, const char *const *names, const char *const *values,
                       size_t n, enum probe_subst_mode mode)
{
	struct http_buf b = { NULL, 0, 0, false };
	const char *p = s ? s : "";

	http_buf_add(&b, "", 0);
	for (;;) {
		const char *d = strstr(p, "${var:");
		const char *name, *close;
		size_t len, i;

		if (d == NULL)
			break;
		http_buf_add(&b, p, (size_t)(d - p));
		name = d + 6;
		close = strchr(name, '}');
		if (close == NULL) {
			p = d;
			break;
		}
		len = (size_t)(close - name);
		for (i = 0; i < n; i++)
			if (names[i] != NULL && strlen(names[i]) == len && memcmp(names[i], name, len) == 0)
				break;
		if (i < n && values[i] != NULL)
			http_buf_add_value(&b, values[i], mode);
		else
			http_buf_add(&b, d, (size_t)(close + 1 - d));   /* unknown: as written */
		p = close + 1;
	}
	http_buf_add(&b, p, strlen(p));
	if (b.over) {
		free(b.p);
		return NULL;
	}
	return b.p;
}

/* --- multi-step ---------------------------------------------------------------- */

/* s with every extracted value of at least HTTP_MASK_MIN bytes replaced by
 * "***". Caller frees. */
static char *http_mask(const struct http_run *h, const char *s)
{
	char *out = xstrdup(s ? s : "");

	for (size_t i = 0; i < h->n_vars; i++) {
		const char *v = h->var_values[i];
		size_t vl = v ? strlen(v) : 0;
		struct http_buf b = { NULL, 0, 0, false };
		const char *p = out, *hit;

		if (vl < HTTP_MASK_MIN || strstr(out, v) == NULL)
			continue;
		http_buf_add(&b, "", 0);
		while ((hit = strstr(p, v)) != NULL) {
			http_buf_add(&b, p, (size_t)(hit - p));
			http_buf_add(&b, "***", 3);
			p = hit + vl;
		}
		http_buf_add(&b, p, strlen(p));
		free(out);
		out = b.over ? xstrdup("***") : b.p;
		if (b.over)
			free(b.p);
	}
	return out;
}

/* Masks every string inside j (recursively), in place. */
static void http_mask_json(const struct http_run *h, json_t *j)
{
	const char *key;
	json_t *v;
	size_t i;

	if (h->n_vars == 0)
		return;
	if (json_is_object(j)) {
		json_object_foreach(j, key, v) {
			if (json_is_string(v)) {
				char *m = http_mask(h, json_string_value(v));

				json_string_set(v, m);
				free(m);
			} else {
				http_mask_json(h, v);
			}
		}
	} else if (json_is_array(j)) {
		json_array_foreach(j, i, v) {
			if (json_is_string(v)) {
				char *m = http_mask(h, json_string_value(v));

				json_string_set(v, m);
				free(m);
			} else {
				http_mask_json(h, v);
			}
		}
	}
}

/* The current step. */
static const struct http_step *http_cur_step(const struct http_run *h)
{
	return &h->run->check->steps[h->step];
}

/* "step 2 \"login\"", or "step 2" when the step has its default name. */
static void http_step_label(const struct http_run *h, char *buf, size_t len)
{
	const struct http_step *st = http_cur_step(h);
	char def[32];

	snprintf(def, sizeof(def), "step %zu", h->step + 1);
	if (st->name == NULL || strcmp(st->name, def) == 0)
		snprintf(buf, len, "%s", def);
	else
		snprintf(buf, len, "step %zu \"%s\"", h->step + 1, st->name);
}

/* The variables known so far, as the arrays probe_http_subst takes. */
static char *http_subst(struct http_run *h, const char *s, enum probe_subst_mode mode)
{
	return probe_http_subst(s, h->var_names, (const char *const *)h->var_values, h->n_vars, mode);
}

/* Value of extract x from the current response, or NULL (*why says why).
 * Strings are taken as their text, other JSON values as compact JSON. */
static char *http_extract_value(struct http_run *h, const struct http_extract *x, const char **why)
{
	char *v = NULL;

	*why = "not in the response";
	if (x->header != NULL) {
		size_t nl = strlen(x->header);

		for (size_t i = 0; i < h->n_hdrs; i++) {
			const char *line = h->hdrs[i];

			if (strncasecmp(line, x->header, nl) == 0 && line[nl] == ':') {
				const char *p = line + nl + 1;
				size_t n;

				while (*p == ' ' || *p == '\t')
					p++;
				n = strlen(p);
				while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
					n--;
				v = xstrndup(p, n);
				break;
			}
		}
	} else if (x->json_path != NULL) {
		json_error_t jerr;
		json_t *doc = h->body ? json_loadb(h->body, h->body_len, JSON_DECODE_ANY, &jerr) : NULL;
		json_t *j = doc ? jsonpath_get(doc, x->json_path) : NULL;

		if (doc == NULL) {
			*why = h->truncated ? "the body was cut at max_body and is not JSON"
			                    : "the body is not JSON";
		} else if (j == NULL || json_is_null(j)) {
			*why = "not in the response";
		} else if (json_is_string(j)) {
			v = xstrndup(json_string_value(j), json_string_length(j));
		} else {
			char *t = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);

			v = xstrdup(t ? t : "");
			free(t);
		}
		json_decref(doc);
	}
	if (v != NULL && strlen(v) > HTTP_VAR_MAX) {
		free(v);
		v = NULL;
		*why = "longer than 64 KiB";
	}
	return v;
}

/* Pulls the current step's extracts into the variables (a later value of the
 * same name replaces the earlier one). A missing one fails the step. */
static void http_extract(struct http_run *h)
{
	const struct http_step *st = http_cur_step(h);

	for (size_t i = 0; i < st->n_extract; i++) {
		const struct http_extract *x = &st->extract[i];
		const char *why;
		char *v = http_extract_value(h, x, &why);
		char what[80];
		size_t k;

		snprintf(what, sizeof(what), "extract %s from %s%s", x->var,
		         x->header ? "header " : "", x->header ? x->header : x->json_path);
		probe_result_assert(h->res, v != NULL, what, "%s", v ? "found" : why);
		if (v == NULL)
			continue;
		for (k = 0; k < h->n_vars; k++)
			if (strcmp(h->var_names[k], x->var) == 0)
				break;
		if (k == h->n_vars) {
			h->var_names = xrealloc(h->var_names, (h->n_vars + 1) * sizeof(*h->var_names));
			h->var_values = xrealloc(h->var_values, (h->n_vars + 1) * sizeof(*h->var_values));
			h->var_names[k] = x->var;
			h->var_values[k] = NULL;
			h->n_vars++;
		}
		free(h->var_values[k]);
		h->var_values[k] = v;
	}
}

/* Sets up the current step: its settings with the variables substituted,
 * a fresh step result, the per-step timing marks; then starts its request.
 * Returns 0, or -1 with the step result failed. */
static int http_step_open(struct http_run *h)
{
	const struct http_step *st = http_cur_step(h);
	struct probe_result *r = h->step_res;

	probe_result_clear(r);
	memset(r, 0, sizeof(*r));
	r->dns_us = r->connect_us = r->tls_us = r->ttfb_us = -1;
	r->status_code = -1;
	r->bytes = -1;
	h->res = r;
	h->expect = &st->expect;
	http_step_strings_free(h);
	h->step_http = st->http;
	h->http = &h->step_http;
	h->req_start_us = probe_elapsed_us(h->run);
	h->st_dns0 = h->dns_sum;
	h->st_connect0 = h->connect_sum;
	h->st_tls0 = h->tls_sum;
	h->st_wait0 = h->wait_sum;
	h->st_dns = h->st_connect = h->st_tls = h->st_ttfb = false;
	h->redirects = 0;
	free(h->origin);
	h->origin = NULL;
	h->same_origin = false;
	h->method = st->http.method ? st->http.method : "GET";
	h->send_body = true;

	if (st->http.url == NULL) {
		probe_result_fail(r, PROBE_ERR_INTERNAL, "the step has no url");
		return -1;
	}
	h->s_url = http_subst(h, st->http.url, PROBE_SUBST_URL);
	if (st->http.body)
		h->s_body = http_subst(h, st->http.body, PROBE_SUBST_RAW);
	if (st->http.n_headers > 0) {
		h->s_headers = xcalloc(st->http.n_headers, sizeof(*h->s_headers));
		h->s_n_headers = st->http.n_headers;
		for (size_t i = 0; i < st->http.n_headers; i++)
			h->s_headers[i] = http_subst(h, st->http.headers[i], PROBE_SUBST_HEADER);
	}
	h->step_http.url = h->s_url;
	h->step_http.body = h->s_body;
	h->step_http.headers = h->s_headers;
	h->step_http.n_headers = h->s_n_headers;
	if (h->s_url == NULL || (st->http.body && h->s_body == NULL)) {
		probe_result_fail(r, PROBE_ERR_INTERNAL, "the step's %s is longer than 1 MiB once the variables are in",
		                  h->s_url == NULL ? "url" : "body");
		return -1;
	}
	for (size_t i = 0; i < h->s_n_headers; i++) {
		if (h->s_headers[i] == NULL) {
			probe_result_fail(r, PROBE_ERR_INTERNAL,
			                  "a header of the step is longer than 1 MiB once the variables are in");
			return -1;
		}
	}
	return http_hop_begin(h, h->s_url);
}

/* A phase mark of the step: offset from the step start, in ms. */
static void http_step_phase(json_t *o, const char *key, bool saw, int64_t at_us)
{
	if (saw)
		json_object_set_new(o, key, json_real((double)at_us / 1000.0));
}

/* The current step is over (passed, failed or cut short by the timeout):
 * its extracts when it passed, its entry in details.steps, and its outcome
 * folded into the run's result. Returns true when it passed. */
static bool http_step_close(struct http_run *h, bool completed)
{
	struct probe_run *run = h->run;
	struct probe_result *r = h->step_res, *all = &run->result;
	const struct http_step *st = http_cur_step(h);
	json_t *o = json_object(), *ph = json_object(), *asserts = json_array(), *names;
	int64_t at;
	char label[96], *msg;
	bool ok;

	http_collect_hop(h);
	if (completed && r->error == PROBE_OK && st->n_extract > 0)
		http_extract(h);
	ok = completed && r->error == PROBE_OK;

	json_object_set_new(o, "name", json_string(st->name ? st->name : ""));
	json_object_set_new(o, "ok", json_boolean(ok));
	if (!completed) {
		json_object_set_new(o, "completed", json_false());
	} else {
		json_object_set_new(o, "error", json_string(probe_error_name(r->error)));
		json_object_set_new(o, "message", json_string(r->message));
	}
	json_object_set_new(o, "duration_ms",
	                    json_real((double)(probe_elapsed_us(run) - h->req_start_us) / 1000.0));
	if (r->status_code >= 0)
		json_object_set_new(o, "status_code", json_integer(r->status_code));
	if (r->bytes >= 0)
		json_object_set_new(o, "bytes", json_integer(r->bytes));
	/* Phase offsets from the step's start, as the run's phases are. */
	at = h->dns_sum - h->st_dns0;
	http_step_phase(ph, "dns", h->st_dns, at);
	at += h->connect_sum - h->st_connect0;
	http_step_phase(ph, "connect", h->st_connect, at);
	at += h->tls_sum - h->st_tls0;
	http_step_phase(ph, "tls", h->st_tls, at);
	at += h->wait_sum - h->st_wait0;
	http_step_phase(ph, "ttfb", h->st_ttfb, at);
	json_object_set_new(o, "phases_ms", ph);
	for (size_t i = 0; i < r->n_assertions; i++)
		json_array_append_new(asserts, json_pack("{s:s, s:b, s:s}", "what", r->assertions[i].what,
		                                         "ok", r->assertions[i].ok,
		                                         "detail", r->assertions[i].detail));
	json_object_set_new(o, "assertions", asserts);
	if (st->n_extract > 0) {
		names = json_array();
		for (size_t i = 0; i < st->n_extract; i++)
			json_array_append_new(names, json_string(st->extract[i].var));
		json_object_set_new(o, "extracts", names);
	}
	http_request_info(h, o);
	if (r->details != NULL)
		json_object_update(o, r->details);
	http_mask_json(h, o);
	json_array_append_new(h->steps, o);

	/* Fold into the run's result. */
	http_step_label(h, label, sizeof(label));
	for (size_t i = 0; i < r->n_assertions && all->n_assertions < PROBE_MAX_ASSERTIONS; i++) {
		struct probe_assertion *a = &all->assertions[all->n_assertions++];
		char *w = http_mask(h, r->assertions[i].what), *d = http_mask(h, r->assertions[i].detail);
		char *lw = xasprintf("%s: %s", label, w);

		util_strlcpy(a->what, lw, sizeof(a->what));
		util_strlcpy(a->detail, d, sizeof(a->detail));
		a->ok = r->assertions[i].ok;
		free(lw);
		free(w);
		free(d);
	}
	if (r->status_code >= 0)
		all->status_code = r->status_code;
	if (r->bytes >= 0)
		all->bytes = (all->bytes > 0 ? all->bytes : 0) + r->bytes;
	if (r->cert_expiry > 0 && (all->cert_expiry == 0 || r->cert_expiry < all->cert_expiry))
		all->cert_expiry = r->cert_expiry;
	if (completed && !ok) {
		msg = http_mask(h, r->message);
		probe_result_fail(all, r->error, "%s: %s", label, msg);
		free(msg);
	} else if (ok) {
		msg = http_mask(h, r->message);
		snprintf(all->message, sizeof(all->message), "%zu of %zu steps passed; last: %s",
		         h->step + 1, run->check->n_steps, msg);
		free(msg);
	}
	http_drop_easy(h);
	http_reset_response(h);
	return ok;
}

/* The current step's request is over: close it, then open the next step
 * (a step that cannot start is closed as failed at once) or end the run. */
static void http_steps_advance(struct http_run *h)
{
	for (;;) {
		if (!http_step_close(h, true) || h->step + 1 >= h->run->check->n_steps) {
			h->res = &h->run->result;
			http_end(h);
			return;
		}
		h->step++;
		if (http_step_open(h) == 0)
			return;
	}
}

/* The request (single, or one step's) is over: end the run or go on. */
static void http_request_over(struct http_run *h)
{
	if (h->multi)
		http_steps_advance(h);
	else
		http_end(h);
}

/* The type's start: see probe.h. On failure everything is released here. */
int http_run_start(struct probe_run *run)
{
	struct http_run *h = xcalloc(1, sizeof(*h));

	h->run = run;
	run->impl = h;
	h->http = &run->check->http;
	h->expect = &run->check->expect;
	h->res = &run->result;
	h->method = run->check->http.method ? run->check->http.method : "GET";
	h->send_body = true;
	if (run->check->n_steps > 0) {
		h->multi = true;
		h->steps = json_array();
		h->step_res = xcalloc(1, sizeof(*h->step_res));
		/* The first step opens here; one that cannot start ends the run now. */
		if (http_step_open(h) == 0)
			return 0;
		http_step_close(h, true);
		h->res = &run->result;
		http_set_phases(h);
		http_details(h);
		http_free(h);
		return -1;
	}
	if (run->check->http.url == NULL) {
		probe_result_fail(&run->result, PROBE_ERR_INTERNAL, "the check has no url");
		http_free(h);
		return -1;
	}
	if (http_hop_begin(h, run->check->http.url) < 0) {
		http_free(h);
		return -1;
	}
	return 0;
}

/* The type's abort: records how far the run got (so the timeout message names
 * the phase, and for a multi-step run the step), then releases everything.
 * The step's phase text is kept in details.phase: run->phase must outlive h,
 * and the details live until the run is finished. */
void http_run_abort(struct probe_run *run)
{
	struct http_run *h = run->impl;

	if (h == NULL)
		return;
	run->phase = http_live_phase(h);
	if (h->multi) {
		char label[96], *text;

		http_step_label(h, label, sizeof(label));
		text = xasprintf("%s: %s", label, run->phase);
		http_step_close(h, false);
		probe_result_detail(&run->result, "phase", json_string(text));
		free(text);
		run->phase = json_string_value(json_object_get(run->result.details, "phase"));
		h->res = &run->result;
	}
	http_collect_hop(h);
	http_set_phases(h);
	http_details(h);
	http_free(h);
}

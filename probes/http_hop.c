/* http_hop.c — one hop of an http run, the plumbing around libcurl: the
 * pool of easy handles, the body and header sinks (bounded), the phase
 * timings summed over hops, the cache of parsed URLs, and what the details
 * say of the request (see http.h). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "core/curlm.h"
#include "core/log.h"
#include "probes/http_hop.h"
#include "core/util.h"

/* Forgets the current hop's response (a redirect's body and headers are not
 * the answer we assert on). */
void http_reset_response(struct http_run *h)
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
CURL *http_easy_get(void)
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
void http_drop_easy(struct http_run *h)
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

/* Adds this hop's libcurl timings to the sums (once per hop). CONNECT_TIME
 * includes curl's name lookup, which is a cache hit thanks to the pin. */
void http_collect_hop(struct http_run *h)
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
const char *http_live_phase(struct http_run *h)
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
void http_set_phases(struct http_run *h)
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
int http_url_parse(const char *url, char **scheme_out, char **host_out, char **port_out)
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
json_t *http_public_url(const char *url)
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
void http_request_info(struct http_run *h, json_t *o)
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
void http_details(struct http_run *h)
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

/* The leaf certificate's notAfter (Unix seconds) from CURLINFO_CERTINFO, or
 * 0. The PEM is parsed with OpenSSL: the "Expire date" text depends on the TLS
 * backend's formatting, the certificate itself does not. */
int64_t http_cert_expiry(CURL *easy)
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

/* Body sink: keeps at most max_body bytes, growing the buffer as needed, and
 * stops the transfer (short count) once the cap is reached. */
size_t http_on_body(char *data, size_t size, size_t nmemb, void *arg)
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
size_t http_on_header(char *data, size_t size, size_t nmemb, void *arg)
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

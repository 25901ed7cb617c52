/* http.c — the http check type: resolve the host with c-ares, pin the
 * address into libcurl (CURLOPT_RESOLVE, so no resolver thread), run the
 * request on the loop's curl multi handle, follow redirects ourselves (each
 * hop resolved by c-ares too), then evaluate the assertions.
 *
 * A run is a state machine (enum http_state, http.h): STARTING -> RESOLVING
 * -> TRANSFERRING -> (redirect: RESOLVING again) -> REQUEST_OVER -> (next
 * step: RESOLVING again) -> DONE; http_set_state() is the only place the
 * state changes. The response body is kept up to max_body bytes
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "probes/assert.h"
#include "core/curlm.h"
#include "core/log.h"
#include "probes/http.h"
#include "core/resolver.h"
#include "core/util.h"

static const char *const http_state_names[] = {
	[HTTP_STARTING] = "starting",
	[HTTP_RESOLVING] = "resolving",
	[HTTP_TRANSFERRING] = "transferring",
	[HTTP_REQUEST_OVER] = "request_over",
	[HTTP_DONE] = "done",
};

/* What a timeout in each state reads as ("no answer within 5s while ...");
 * NULL: the state keeps the phase it found (an abort may have refined it). */
static const char *const http_phases[] = {
	[HTTP_STARTING] = NULL,
	[HTTP_RESOLVING] = "resolving host",
	[HTTP_TRANSFERRING] = "connecting",
	[HTTP_REQUEST_OVER] = NULL,
	[HTTP_DONE] = NULL,
};

/* The one transition function: every state change goes through here. */
static void http_set_state(struct http_run *h, enum http_state st)
{
	log_debug("http probe state", "check", h->run->check->name,
	          "from", http_state_names[h->state], "to", http_state_names[st]);
	h->state = st;
	if (http_phases[st] != NULL)
		h->run->phase = http_phases[st];
}

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

/* Frees everything h owns, h itself, and clears run->impl. */
void http_free(struct http_run *h)
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

/* The run is over: phases and details into the result, state freed, done. */
void http_end(struct http_run *h)
{
	struct probe_run *run = h->run;

	http_set_state(h, HTTP_DONE);
	http_collect_hop(h);
	http_set_phases(h);
	http_details(h);
	http_free(h);
	probe_finish(run);
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

/* True for a header that must not follow a redirect to another origin. */
static bool http_is_credential_header(const char *line)
{
	return strncasecmp(line, "Authorization:", 14) == 0 || strncasecmp(line, "Cookie:", 7) == 0;
}

/* Pins every address c-ares found ("host:port:a1,[v6],..."): curl then
 * finds the name in its cache and starts no resolver thread. */
static void http_pin_addresses(struct http_run *h, const struct resolver_addrs *a)
{
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
	curl_easy_setopt(h->easy, CURLOPT_RESOLVE, h->resolve);
}

/* The method, the body and basic auth (credentials to the first origin only). */
static void http_set_method(struct http_run *h, CURL *e)
{
	const struct check_http *c = h->http;

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
}

/* Certificate details for the result; the TLS settings of the request. */
static void http_set_tls(struct http_run *h, CURL *e)
{
	const struct check_http *c = h->http;

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
}

/* W3C Trace Context (wire-formats.md §13): a trace id is 32 lowercase hex
 * digits, a span id 16 (util_random_id's). */
#define TRACE_ID_LEN 33

/* The trace id of a run, derived from its run id (16 hex digits): the run id
 * and 16 hex digits of a hash of it, so the id in a target's traces leads
 * back to the run. Never all zero. */
static void http_trace_id(const char *run_id, char out[TRACE_ID_LEN])
{
	snprintf(out, TRACE_ID_LEN, "%.16s%016llx", run_id, (unsigned long long)util_hash64(run_id));
	if (strspn(out, "0") == strlen(out))
		out[TRACE_ID_LEN - 2] = '1';
}

/* Adds "traceparent: 00-<trace id>-<span id>-01" for this request (a new
 * span per request: each hop, step and retry) unless the check says
 * trace = false or sets its own traceparent, and records the trace id in
 * the run's details. */
static void http_add_traceparent(struct http_run *h)
{
	struct probe_result *r = &h->run->result;
	char trace_id[TRACE_ID_LEN], span[UTIL_ID_LEN];
	char header[96];

	if (!h->http->trace)
		return;
	for (size_t i = 0; i < h->http->n_headers; i++)
		if (strncasecmp(h->http->headers[i], "traceparent:", 12) == 0)
			return;
	http_trace_id(r->run_id, trace_id);
	do
		util_random_id(span);
	while (strspn(span, "0") == strlen(span));
	snprintf(header, sizeof(header), "traceparent: 00-%s-%.16s-01", trace_id, span);
	h->req_headers = http_slist_add(h->req_headers, header);
	probe_result_detail(r, "trace_id", json_string(trace_id));
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

	if (!literal)
		http_pin_addresses(h, a);
	if (h->run->env->source_address != NULL) {
		char iface[80];     /* "host!ADDR": an address, never an interface name */

		snprintf(iface, sizeof(iface), "host!%s", h->run->env->source_address);
		curl_easy_setopt(e, CURLOPT_INTERFACE, iface);
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
	http_add_traceparent(h);
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

	http_set_method(h, e);
	http_set_tls(h, e);

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
	http_set_state(h, HTTP_TRANSFERRING);
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
int http_hop_begin(struct http_run *h, const char *url)
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

	http_set_state(h, HTTP_RESOLVING);
	h->req = resolver_lookup(run->env->resolver, h->host, probe_source_family(run->env), http_on_resolved,
	                         h);
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

/* Opens the current step and starts its request. Returns 0, or -1 with the
 * step result failed. */
static int http_step_start(struct http_run *h)
{
	if (http_step_open(h) < 0)
		return -1;
	return http_hop_begin(h, h->s_url);
}

/* The current step's request is over: close it, then start the next step
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
		if (http_step_start(h) == 0)
			return;
	}
}

/* The request (single, or one step's) is over: end the run or go on. */
void http_request_over(struct http_run *h)
{
	http_set_state(h, HTTP_REQUEST_OVER);
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
		if (http_step_start(h) == 0)
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

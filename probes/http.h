/* http.h — what the files of the http check type share: the state of one
 * run (struct http_run and its states) and the functions each file offers
 * the others. Nothing outside probes/http*.c includes it; the rest of pharos
 * knows the type by probe_type_http.
 *
 *   http.c        the run: its states, hops (resolve, transfer, redirect),
 *                 the response and its assertions, start and abort
 *   http_hop.c    one hop's plumbing: easy handles, body and header sinks,
 *                 timings, parsed URLs, details
 *   http_steps.c  multi-step checks: ${var:NAME}, extracts, step results
 *   http_type.c   the descriptor: settings, rules, target */
#ifndef PHAROS_PROBES_HTTP_H
#define PHAROS_PROBES_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>
#include <jansson.h>

#include "probes/probe.h"

#define HTTP_MAX_HEADERS 100            /* response headers kept (last response) */
#define HTTP_MAX_HEADER_LEN 8192        /* bytes kept of one header line */
#define HTTP_MAX_STATUS_LINE 256
#define HTTP_BACKSTOP_MARGIN_MS 1000    /* curl's own timeout trails ours by this */
#define HTTP_VAR_MAX (64 * 1024)        /* bytes of one extracted value */
#define HTTP_MASK_MIN 3                 /* shorter extracted values are not masked */

/* A run's states. http_set_state() (http.c) is the only place the state
 * changes; it logs old -> new at debug level:
 *
 *   STARTING -> RESOLVING -> TRANSFERRING -> REQUEST_OVER -> DONE
 *                   ^             |  (redirect)       |  (next step)
 *                   +-------------+-------------------+
 *
 * A hop that cannot start, or whose lookup or transfer fails, goes to
 * REQUEST_OVER with the result failed. */
enum http_state {
	HTTP_STARTING,          /* nothing in flight yet */
	HTTP_RESOLVING,         /* the hop's host lookup is in flight (req) */
	HTTP_TRANSFERRING,      /* the hop's transfer is in curl's multi handle (easy) */
	HTTP_REQUEST_OVER,      /* the request (single, or a step's) has its outcome */
	HTTP_DONE,              /* the run's result is complete; the run is being freed */
};

struct http_run {
	struct probe_run *run;
	enum http_state state;
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

/* --- http.c: the run ------------------------------------------------------- */

/* The descriptor's start and abort (see struct probe_type). */
int http_run_start(struct probe_run *run);
void http_run_abort(struct probe_run *run);
/* Starts a hop to url: parse it, then resolve its host. Returns 0, or -1 with
 * the result failed (the caller ends the request). */
int http_hop_begin(struct http_run *h, const char *url);
/* The request (single, or one step's) is over: end the run or go on. */
void http_request_over(struct http_run *h);
/* The run is over: phases and details into the result, h freed, done called. */
void http_end(struct http_run *h);
/* Frees everything h owns, h itself, and clears run->impl. */
void http_free(struct http_run *h);

/* --- http_hop.c: one hop's plumbing ----------------------------------------- */

/* An easy handle with default options (from the pool), or NULL. */
CURL *http_easy_get(void);
/* Releases the hop's transfer: out of the multi handle, back to the pool. */
void http_drop_easy(struct http_run *h);
/* Forgets the current hop's response (body, headers, status line). */
void http_reset_response(struct http_run *h);
/* libcurl's write and header callbacks (arg: the run). */
size_t http_on_body(char *data, size_t size, size_t nmemb, void *arg);
size_t http_on_header(char *data, size_t size, size_t nmemb, void *arg);
/* Adds this hop's libcurl timings to the sums (once per hop). */
void http_collect_hop(struct http_run *h);
/* What the transfer in flight is doing, for a timeout message (static text). */
const char *http_live_phase(struct http_run *h);
/* Writes the summed phases into the run's result. */
void http_set_phases(struct http_run *h);
/* Owned copies of url's scheme, host and port. Returns 0, or -1. */
int http_url_parse(const char *url, char **scheme_out, char **host_out, char **port_out);
/* url without user name and password as a JSON string, or NULL. */
json_t *http_public_url(const char *url);
/* What is known of the current request into o (final_url, redirects, ...). */
void http_request_info(struct http_run *h, json_t *o);
/* The run's details: the request's, or details.steps of a multi-step run. */
void http_details(struct http_run *h);
/* The leaf certificate's notAfter (Unix seconds), or 0. */
int64_t http_cert_expiry(CURL *easy);

/* --- http_steps.c: multi-step checks ----------------------------------------- */

/* Frees the current step's substituted url, headers and body. */
void http_step_strings_free(struct http_run *h);
/* Sets up the current step (its url in h->s_url). Returns 0, or -1 with the
 * step result failed. */
int http_step_open(struct http_run *h);
/* The current step is over: extracts, details.steps entry, outcome folded
 * into the run's result. Returns true when it passed. */
bool http_step_close(struct http_run *h, bool completed);
/* "step 2 \"login\"", or "step 2". */
void http_step_label(const struct http_run *h, char *buf, size_t len);

#endif

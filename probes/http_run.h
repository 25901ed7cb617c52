/* http_run.h — the state of one run of the http check type (struct
 * http_run and its states), shared by http.c, http_hop.c and http_steps.c.
 * Header only. */
#ifndef PHAROS_PROBES_HTTP_RUN_H
#define PHAROS_PROBES_HTTP_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>
#include <jansson.h>

#include "probes/probe_run.h"

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

#endif

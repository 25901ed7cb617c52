/* http_hop.h — one hop of an http run (http_hop.c): easy handles, body and
 * header sinks, timings, parsed URLs, details. */
#ifndef PHAROS_PROBES_HTTP_HOP_H
#define PHAROS_PROBES_HTTP_HOP_H

#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>
#include <jansson.h>

#include "probes/http_run.h"

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

#endif

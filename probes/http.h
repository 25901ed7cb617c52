/* http.h — what the files of the http check type share: the state of one
 * run (struct http_run and its states) and the functions each file offers
 * the others. Nothing outside probes/http*.c includes it; the rest of pharos
 * knows the type by probe_type_http. The parts below http.c have their own
 * headers (http_run.h: the state; http_hop.h; http_steps.h), so http.c
 * builds on them and they never include this one.
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

#include "probes/http_hop.h"
#include "probes/http_run.h"
#include "probes/http_steps.h"
#include "probes/probe_run.h"

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

#endif

/* http_steps.h — multi-step http checks (http_steps.c): ${var:NAME}
 * substitution, which tests and the fuzzer call too (probe.h includes this),
 * and the steps of a run, for http.c. */
#ifndef PHAROS_PROBES_HTTP_STEPS_H
#define PHAROS_PROBES_HTTP_STEPS_H

#include <stdbool.h>
#include <stddef.h>

struct http_run;

/* Multi-step http: replaces every ${var:NAME} in s whose NAME is
 * one of names[0..n) by values[i]: percent-encoded (all but A-Z a-z 0-9 - . _
 * ~) in PROBE_SUBST_URL mode, with CR, LF and other control characters but
 * tab replaced by a space in PROBE_SUBST_HEADER mode (no header injection),
 * as is in PROBE_SUBST_RAW mode. An unknown NAME or a "${var:" without "}"
 * stays as written; inserted values are not scanned again. Returns a new
 * string, or NULL when the result would exceed PROBE_SUBST_MAX bytes. */
enum probe_subst_mode { PROBE_SUBST_RAW, PROBE_SUBST_URL, PROBE_SUBST_HEADER };
#define PROBE_SUBST_MAX (1024 * 1024)
char *probe_http_subst(const char *s, const char *const *names, const char *const *values,
                       size_t n, enum probe_subst_mode mode);

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

/* assert.h — the assertions of SPEC §2.1, shared by the check types. Each
 * evaluates one kind of `expect` setting (when set) and records the outcome
 * with probe_result_assert(), so `pharos probe` can show every one of them. */
#ifndef PHAROS_ASSERT_H
#define PHAROS_ASSERT_H

#include <stddef.h>
#include <stdint.h>

#include "probes/check.h"
#include "probes/result.h"

/* expect.status (or 200-399 when none); a failure is PROBE_ERR_HTTP_STATUS. */
void assert_status(struct probe_result *r, const struct check_expect *e, int status);

/* body_contains, body_regex, json[] (the body parsed once; non-JSON is a
 * failed assertion that says so, never a crash). */
void assert_body(struct probe_result *r, const struct check_expect *e,
                 const char *body, size_t len, int truncated);

/* headers[]: headers are "Name: value" lines as received (last response). */
void assert_headers(struct probe_result *r, const struct check_expect *e,
                    char *const *headers, size_t n_headers);

/* max_latency against the run's duration so far. */
void assert_max_latency(struct probe_result *r, const struct check_expect *e, int64_t elapsed_us);

/* cert_min_days against cert_expiry (Unix seconds; 0 = no certificate seen). */
void assert_cert_days(struct probe_result *r, const struct check_expect *e,
                      int64_t cert_expiry, int64_t now_s);

/* True when re matches somewhere in s[0..len). */
int assert_regex_match(const pcre2_code *re, const char *s, size_t len);

#endif

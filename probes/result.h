/* result.h — what one probe run produced: timings, verdict, error class and a
 * message a person understands, the assertions evaluated, and type-specific
 * details (dns answers, tls version, ...) as a JSON object. */
#ifndef PHAROS_RESULT_H
#define PHAROS_RESULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

enum probe_error {
	PROBE_OK = 0,
	PROBE_ERR_TIMEOUT,
	PROBE_ERR_DNS,
	PROBE_ERR_CONNECT,
	PROBE_ERR_TLS,
	PROBE_ERR_HTTP_STATUS,
	PROBE_ERR_ASSERTION,
	PROBE_ERR_PROTOCOL,
	PROBE_ERR_ABORTED,          /* agent stopping while the run was in flight */
	PROBE_ERR_INTERNAL,
	PROBE_ERR_COUNT
};

/* "ok", "timeout", "dns", "connect", "tls", "http_status", "assertion",
 * "protocol", "aborted", "internal". */
const char *probe_error_name(enum probe_error e);

#define PROBE_MAX_ASSERTIONS 24
#define PROBE_MESSAGE_MAX 512

struct probe_assertion {
	char what[80];              /* "status in [200]", "body_contains \"ok\"" */
	bool ok;
	char detail[176];           /* "got 503", "found at byte 12" */
};

struct probe_result {
	char run_id[17];
	int64_t start_us;           /* wall clock at start */
	int64_t duration_us;        /* whole run */
	bool ok;
	enum probe_error error;     /* PROBE_OK when ok */
	char message[PROBE_MESSAGE_MAX];
	/* phases, microseconds from the start; -1 = did not happen / not applicable */
	int64_t dns_us, connect_us, tls_us, ttfb_us;
	int status_code;            /* http status, or dns rcode; -1 none */
	int64_t bytes;              /* bytes received (body for http), -1 none */
	int64_t cert_expiry;        /* leaf certificate notAfter, Unix seconds; 0 none */
	int attempts;               /* 1 + retries used */
	json_t *details;            /* owned; NULL or a JSON object */
	size_t n_assertions;
	/* Last, and only the first n_assertions are meaningful: a copy
	 * (probe_result_copy) holds only those, so a result handed between
	 * threads costs its used size (probe_result_size), not 6 KiB. */
	struct probe_assertion assertions[PROBE_MAX_ASSERTIONS];
};

/* Fresh result: run_id generated, start_us now, phases -1, ok false. */
void probe_result_init(struct probe_result *r);
/* Releases details. */
void probe_result_clear(struct probe_result *r);
/* Deep copy (details reference-counted) of src's used part: its fields and
 * its n_assertions assertions; dst's later assertions are left as they were.
 * src may be a short copy (probe_result_size bytes). */
void probe_result_copy(struct probe_result *dst, const struct probe_result *src);
/* Bytes of r in use: everything up to its assertions, and those it holds. */
size_t probe_result_size(const struct probe_result *r);

/* Marks the run failed with this class and message (printf-style). The first
 * failure wins: later calls do nothing once an error is set. */
void probe_result_fail(struct probe_result *r, enum probe_error e, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Sets the message of a run that has not failed: what a passing run saw
 * ("connected to 127.0.0.1:5432"). Does nothing once an error is set, so it
 * can be called before the last assertions. */
void probe_result_note(struct probe_result *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Records one assertion. A failing one fails the run with PROBE_ERR_ASSERTION
 * and the message "<what>: <detail>" unless an error is already set. */
void probe_result_assert(struct probe_result *r, bool ok, const char *what,
                         const char *detail_fmt, ...) __attribute__((format(printf, 4, 5)));

/* Masks every registered secret (log_secret_add) in r: the message, the
 * assertions and every string of details, a secret inside a longer string
 * (a final URL, a redirect chain) included. Called once when a run finishes,
 * before the result goes anywhere (store, API, log, CLI, notifications). */
void probe_result_mask(struct probe_result *r);

/* Sets details[key] = value (steals value); creates the object when needed. */
void probe_result_detail(struct probe_result *r, const char *key, json_t *value);

/* For a result's JSON form o: sets o's "trace_id" from details' (an http
 * run keeps its W3C trace id there, so the store keeps it too) and returns
 * details without it, to be o's "details" ({} for NULL). Steals details;
 * never changes an object someone else holds. New reference. */
json_t *probe_result_lift_trace(json_t *o, json_t *details);

/* The result as JSON: run_id, ts (RFC 3339), duration_ms, ok, error, message,
 * phases_ms {dns, connect, tls, first_byte} (only those that happened), status_code,
 * bytes, cert_expiry (RFC 3339), attempts, assertions [{what, ok, detail}],
 * details. New reference. */
json_t *probe_result_to_json(const struct probe_result *r);

#endif

/* result.c — one probe run's outcome: init/clear/copy, the first-failure-wins
 * error, assertion records, details, and the JSON form used by the API, the
 * store and `pharos probe --json`. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probes/result.h"
#include "core/log.h"
#include "core/util.h"

static const char *const probe_error_names[PROBE_ERR_COUNT] = {
	[PROBE_OK] = "ok",
	[PROBE_ERR_TIMEOUT] = "timeout",
	[PROBE_ERR_DNS] = "dns",
	[PROBE_ERR_CONNECT] = "connect",
	[PROBE_ERR_TLS] = "tls",
	[PROBE_ERR_HTTP_STATUS] = "http_status",
	[PROBE_ERR_ASSERTION] = "assertion",
	[PROBE_ERR_PROTOCOL] = "protocol",
	[PROBE_ERR_ABORTED] = "aborted",
	[PROBE_ERR_INTERNAL] = "internal",
};

/* The error class's stable name; "internal" for values out of range. */
const char *probe_error_name(enum probe_error e)
{
	if ((int)e < 0 || e >= PROBE_ERR_COUNT)
		return "internal";
	return probe_error_names[e];
}

/* A fresh result: new run id, wall-clock start now, every phase -1, not ok
 * (the run sets ok when it finishes without an error), one attempt. */
void probe_result_init(struct probe_result *r)
{
	memset(r, 0, sizeof(*r));
	util_random_id(r->run_id);
	r->start_us = util_wall_us();
	r->duration_us = 0;
	r->ok = false;
	r->error = PROBE_OK;
	r->dns_us = r->connect_us = r->tls_us = r->ttfb_us = -1;
	r->status_code = -1;
	r->bytes = -1;
	r->cert_expiry = 0;
	r->attempts = 1;
	r->details = NULL;
}

/* Releases what r owns (details); r may be initialized again afterwards. */
void probe_result_clear(struct probe_result *r)
{
	json_decref(r->details);
	r->details = NULL;
}

size_t probe_result_size(const struct probe_result *r)
{
	size_t n = r->n_assertions < PROBE_MAX_ASSERTIONS ? r->n_assertions : PROBE_MAX_ASSERTIONS;

	return offsetof(struct probe_result, assertions) + n * sizeof(r->assertions[0]);
}

/* dst becomes a copy of src's used part; details are shared by reference
 * count. dst must not own anything (cleared or never initialized). */
void probe_result_copy(struct probe_result *dst, const struct probe_result *src)
{
	if (dst == src)
		return;
	memcpy(dst, src, probe_result_size(src));
	if (dst->details)
		json_incref(dst->details);
}

/* First failure wins: once an error class is set, later calls are ignored so
 * the message names the root cause, not a consequence. */
void probe_result_fail(struct probe_result *r, enum probe_error e, const char *fmt, ...)
{
	va_list ap;

	if (r->error != PROBE_OK)
		return;
	if (e == PROBE_OK)
		e = PROBE_ERR_INTERNAL;
	r->error = e;
	r->ok = false;
	va_start(ap, fmt);
	vsnprintf(r->message, sizeof(r->message), fmt, ap);
	va_end(ap);
}

void probe_result_note(struct probe_result *r, const char *fmt, ...)
{
	va_list ap;

	if (r->error != PROBE_OK)
		return;
	va_start(ap, fmt);
	vsnprintf(r->message, sizeof(r->message), fmt, ap);
	va_end(ap);
}

/* Records one assertion (the first PROBE_MAX_ASSERTIONS are kept; a failure
 * beyond that still fails the run). what is cut to fit its field. */
void probe_result_assert(struct probe_result *r, bool ok, const char *what,
                         const char *detail_fmt, ...)
{
	char detail[sizeof(r->assertions[0].detail)];
	va_list ap;

	va_start(ap, detail_fmt);
	vsnprintf(detail, sizeof(detail), detail_fmt, ap);
	va_end(ap);

	if (r->n_assertions < PROBE_MAX_ASSERTIONS) {
		struct probe_assertion *a = &r->assertions[r->n_assertions++];

		util_strlcpy(a->what, what, sizeof(a->what));
		a->ok = ok;
		util_strlcpy(a->detail, detail, sizeof(a->detail));
	}
	if (!ok)
		probe_result_fail(r, PROBE_ERR_ASSERTION, "%s: %s", what, detail);
}

/* details[key] = value, stealing value (NULL value is ignored). */
/* Masks buf (size bytes) in place: "***" is never longer than a secret. */
static void mask_buf(char *buf, size_t size)
{
	char *m = log_mask_secrets(buf);

	if (strcmp(m, buf) != 0)
		snprintf(buf, size, "%s", m);
	free(m);
}

void probe_result_mask(struct probe_result *r)
{
	mask_buf(r->message, sizeof(r->message));
	for (size_t i = 0; i < r->n_assertions; i++) {
		mask_buf(r->assertions[i].what, sizeof(r->assertions[i].what));
		mask_buf(r->assertions[i].detail, sizeof(r->assertions[i].detail));
	}
	log_mask_json(r->details);
}

void probe_result_detail(struct probe_result *r, const char *key, json_t *value)
{
	if (value == NULL)
		return;
	if (r->details == NULL)
		r->details = json_object();
	json_object_set_new(r->details, key, value);
}

/* A JSON string from text that may have been cut inside a UTF-8 sequence or
 * quote a server's arbitrary bytes: drops a cut tail, and as a last resort
 * replaces every non-ASCII byte with '?'. Never NULL. */
static json_t *result_text(const char *s)
{
	size_t len = strlen(s);
	json_t *j = json_stringn(s, len);

	for (size_t cut = 1; j == NULL && cut <= 3 && cut <= len; cut++)
		j = json_stringn(s, len - cut);
	if (j == NULL) {
		char *copy = xstrdup(s);

		for (size_t i = 0; i < len; i++)
			if ((unsigned char)copy[i] >= 0x80)
				copy[i] = '?';
		j = json_stringn(copy, len);
		free(copy);
	}
	return j ? j : json_string("");
}

/* Microseconds as milliseconds with three decimals, so sub-millisecond
 * loopback timings are not rounded to zero. (Written with at most 15
 * significant digits they read 0.55, never 0.55000000000000004.) */
static json_t *result_ms(int64_t us)
{
	return json_real(round((double)us) / 1000.0);
}

/* The JSON form described in result.h. error is the class name (null when
 * the run succeeded), message always present (may be ""). New reference. */
json_t *probe_result_to_json(const struct probe_result *r)
{
	json_t *o = json_object();
	json_t *phases = json_object();
	json_t *asserts = json_array();
	char ts[40];

	json_object_set_new(o, "run_id", json_string(r->run_id));
	util_format_time(r->start_us, ts, sizeof(ts));
	json_object_set_new(o, "ts", json_string(ts));
	json_object_set_new(o, "duration_ms", result_ms(r->duration_us));
	json_object_set_new(o, "ok", json_boolean(r->ok));
	json_object_set_new(o, "error",
	                    r->ok ? json_null() : json_string(probe_error_name(r->error)));
	json_object_set_new(o, "message", result_text(r->message));

	if (r->dns_us >= 0)
		json_object_set_new(phases, "dns", result_ms(r->dns_us));
	if (r->connect_us >= 0)
		json_object_set_new(phases, "connect", result_ms(r->connect_us));
	if (r->tls_us >= 0)
		json_object_set_new(phases, "tls", result_ms(r->tls_us));
	if (r->ttfb_us >= 0)
		json_object_set_new(phases, "first_byte", result_ms(r->ttfb_us));
	json_object_set_new(o, "phases_ms", phases);

	json_object_set_new(o, "status_code",
	                    r->status_code >= 0 ? json_integer(r->status_code) : json_null());
	json_object_set_new(o, "bytes", r->bytes >= 0 ? json_integer(r->bytes) : json_null());
	if (r->cert_expiry > 0) {
		util_format_time(r->cert_expiry * 1000000, ts, sizeof(ts));
		json_object_set_new(o, "cert_expiry", json_string(ts));
	} else {
		json_object_set_new(o, "cert_expiry", json_null());
	}
	json_object_set_new(o, "attempts", json_integer(r->attempts));

	for (size_t i = 0; i < r->n_assertions && i < PROBE_MAX_ASSERTIONS; i++) {
		const struct probe_assertion *a = &r->assertions[i];
		json_array_append_new(asserts, json_pack("{s:o, s:b, s:o}",
		                                         "what", result_text(a->what),
		                                         "ok", (int)a->ok,
		                                         "detail", result_text(a->detail)));
	}
	json_object_set_new(o, "assertions", asserts);
	json_object_set_new(o, "details",
	                    probe_result_lift_trace(o, r->details ? json_incref(r->details) : NULL));
	return o;
}

json_t *probe_result_lift_trace(json_t *o, json_t *details)
{
	json_t *id = json_object_get(details, "trace_id");
	json_t *copy;

	if (details == NULL)
		return json_object();
	if (!json_is_string(id))
		return details;
	json_object_set(o, "trace_id", id);
	copy = json_copy(details);
	json_decref(details);
	json_object_del(copy, "trace_id");
	return copy;
}

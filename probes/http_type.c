/* http_type.c — the http check type's descriptor: its settings and
 * assertions, the rules that combine them (for a check and for each step of a
 * multi-step check), its target, what `pharos probe` prints of a result, and
 * the release of its settings. The run itself is http.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "probes/http.h"
#include "probes/probe_run.h"
#include "probes/probe_type.h"
#include "core/util.h"

static probe_hash_fn hash_basic_auth, hash_steps, hash_status, hash_json, hash_resp_headers;

/* One request's settings: a plain http check's, and each step's. "url" is
 * required unless the check has steps (http_validate). */
static const struct probe_setting http_settings[] = {
	PROBE_SET_CUSTOM("url", "url", PROBE_STORE_STR, struct check, http.url, 0, NULL,
	                 "http:// or https:// URL to request (required unless steps)"),
	PROBE_SET_CUSTOM("method", "method", PROBE_STORE_STR, struct check, http.method, 0, NULL,
	                 "GET HEAD POST PUT PATCH DELETE OPTIONS (default GET)"),
	{ .name = "headers", .kind = PROBE_KIND_CUSTOM, .store = PROBE_STORE_STRV, .parser = "req_headers",
	  .off = offsetof(struct check, http.headers), .off2 = offsetof(struct check, http.n_headers),
	  .doc = "request headers, [ \"Name: value\", ... ]" },
	PROBE_SET_STR("body", struct check, http.body, 0, "request body"),
	PROBE_SET_CUSTOM_FN("basic_auth", "basic_auth", hash_basic_auth,
	                    "{ user = \"...\"; password = \"...\"; } (the password is a secret)"),
	PROBE_SET_INT("max_redirects", struct check, http.max_redirects, 0, 50, "redirects followed, 0-50 (default 5)"),
	PROBE_SET_CUSTOM("max_body", "max_body", PROBE_STORE_SIZE, struct check, http.max_body, 0, NULL,
	                 "body bytes kept: 65536, \"512KiB\", \"1MiB\" (default 1 MiB)"),
	PROBE_SET_BOOL("insecure", struct check, http.insecure, "skip certificate verification (default false)"),
	PROBE_SET_BOOL("trace", struct check, http.trace,
	               "send a W3C traceparent header, its trace id in the result (default true)"),
	PROBE_SET_STR("ca_file", struct check, http.ca_file, PROBE_NONEMPTY | PROBE_FILE,
	              "PEM file of the CAs to trust instead of the system's"),
	PROBE_SET_STR("client_cert", struct check, http.client_cert, PROBE_NONEMPTY | PROBE_FILE,
	              "PEM client certificate (mutual TLS)"),
	PROBE_SET_STR("client_key", struct check, http.client_key, PROBE_NONEMPTY | PROBE_FILE,
	              "PEM key of client_cert"),
	PROBE_SET_CUSTOM_FN("steps", "steps", hash_steps,
	                    "a multi-step check: ( { name; url; ...; expect; extract; }, ... ), at most 32"),
	PROBE_SET_END
};

static const struct probe_setting http_expect[] = {
	PROBE_SET_CUSTOM_FN("status", "status", hash_status,
	                    "accepted status codes: 200, \"2xx\", \"200-204\" or a list (default 200-399)"),
	PROBE_SET_STR("body_contains", struct check_expect, body_contains, PROBE_NONEMPTY,
	              "text the body must contain"),
	PROBE_SET_REGEX("body_regex", struct check_expect, body_regex, body_re, "PCRE2 the body must match"),
	PROBE_SET_CUSTOM_FN("json", "json", hash_json,
	                    "( { path = \"$.status\"; equals = \"ok\"; }, { path = \"$.id\"; exists = true; } )"),
	PROBE_SET_CUSTOM_FN("headers", "resp_headers", hash_resp_headers,
	                    "[ \"Content-Type: ^application/json\" ]: a header name, then a PCRE2 for its value"),
	PROBE_SET_DURATION("max_latency", struct check_expect, max_latency_ms, 1, "longest acceptable run"),
	PROBE_SET_INT("cert_min_days", struct check_expect, cert_min_days, 0, 3650,
	              "fewest days the certificate must still be valid (https only)"),
	PROBE_SET_END
};

/* --- the fingerprint of what the table cannot walk ------------------------ */

static uint64_t hash_basic_auth(uint64_t h, const void *base)
{
	const struct check *c = base;

	h = probe_hash_str(h, c->http.basic_user);
	return probe_hash_str(h, c->http.basic_pass);
}

static uint64_t hash_status(uint64_t h, const void *base)
{
	const struct check_expect *e = base;

	h = probe_hash_u64(h, e->n_status);
	for (size_t i = 0; i < e->n_status; i++) {
		h = probe_hash_u64(h, (uint64_t)e->status[i].lo);
		h = probe_hash_u64(h, (uint64_t)e->status[i].hi);
	}
	return h;
}

static uint64_t hash_json(uint64_t h, const void *base)
{
	const struct check_expect *e = base;

	h = probe_hash_u64(h, e->n_json);
	for (size_t i = 0; i < e->n_json; i++) {
		char *dump = e->json[i].equals ?
			json_dumps(e->json[i].equals, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;

		h = probe_hash_str(h, e->json[i].path);
		h = probe_hash_str(h, dump);
		h = probe_hash_u64(h, e->json[i].exists);
		free(dump);
	}
	return h;
}

static uint64_t hash_resp_headers(uint64_t h, const void *base)
{
	const struct check_expect *e = base;

	h = probe_hash_u64(h, e->n_headers);
	for (size_t i = 0; i < e->n_headers; i++) {
		h = probe_hash_str(h, e->headers[i].name);
		h = probe_hash_str(h, e->headers[i].pattern);
	}
	return h;
}

/* Each step through the same tables as a plain check: its request settings
 * seen as those of a check without steps (so nothing recurses). */
static uint64_t hash_steps(uint64_t h, const void *base)
{
	const struct check *c = base;

	h = probe_hash_u64(h, c->n_steps);
	for (size_t i = 0; i < c->n_steps; i++) {
		const struct http_step *st = &c->steps[i];
		struct check request = { .http = st->http };

		h = probe_hash_str(h, st->name);
		h = probe_hash_table(h, http_settings, &request);
		h = probe_hash_table(h, http_expect, &st->expect);
		h = probe_hash_u64(h, st->n_extract);
		for (size_t j = 0; j < st->n_extract; j++) {
			h = probe_hash_str(h, st->extract[j].var);
			h = probe_hash_str(h, st->extract[j].json_path);
			h = probe_hash_str(h, st->extract[j].header);
		}
	}
	return h;
}

/* --- the rules that combine settings -------------------------------------- */

/* One request's rules (a plain check's or a step's). */
static void http_request_rules(const struct check *c, const struct probe_validate *v)
{
	static const char *const body_settings[] = { "body_contains", "body_regex", "json" };
	bool https = c->http.url != NULL && strncasecmp(c->http.url, "https://", 8) == 0;

	if (c->http.client_key != NULL && c->http.client_cert == NULL)
		v->error(v, "client_key", "\"client_key\" in %s needs \"client_cert\" too", v->where);
	if (v->present(v, "expect.cert_min_days") && c->http.url != NULL && !https)
		v->error(v, "expect.cert_min_days", "\"cert_min_days\" in expect of %s needs an https:// url",
		         v->where);
	if (c->http.method == NULL || strcmp(c->http.method, "HEAD") != 0)
		return;
	for (size_t i = 0; i < sizeof(body_settings) / sizeof(body_settings[0]); i++) {
		char name[32];

		snprintf(name, sizeof(name), "expect.%s", body_settings[i]);
		if (v->present(v, name))
			v->error(v, name, "\"%s\" in expect of %s can never match: a HEAD response has no body",
			         body_settings[i], v->where);
	}
}

/* A check with steps: every request setting belongs to a step. */
static void http_steps_rules(const struct probe_validate *v)
{
	for (const struct probe_setting *s = http_settings; s->name != NULL; s++)
		if (strcmp(s->name, "steps") != 0 && v->present(v, s->name))
			v->error(v, s->name,
			         "\"%s\" in %s cannot be used together with \"steps\": each step sets its own (steps inherit nothing)",
			         s->name, v->where);
	if (v->present(v, "expect"))
		v->error(v, "expect", "\"expect\" in %s cannot be used together with \"steps\": each step has its own expect",
		         v->where);
}

static void http_validate(const struct check *c, const struct probe_validate *v)
{
	if (!v->step && v->present(v, "steps"))
		http_steps_rules(v);
	else if (!v->present(v, "url"))
		v->error(v, NULL, "missing required setting \"url\" in %s (url = \"https://...\")", v->where);
	else
		http_request_rules(c, v);
}

/* --- target, details, release --------------------------------------------- */

/* The URL with its password as "***"; a multi-step check: the first step's,
 * and how many steps. */
static char *http_target(const struct check *c)
{
	char *first, *out;

	if (c->n_steps == 0)
		return util_url_hide_password(c->http.url ? c->http.url : "", NULL);
	first = util_url_hide_password(c->steps[0].http.url ? c->steps[0].http.url : "", NULL);
	out = xasprintf("%s (%zu step%s)", first, c->n_steps, c->n_steps == 1 ? "" : "s");
	free(first);
	return out;
}

/* The SPEC's defaults; method stays NULL ("GET" to anyone reading a check
 * built by hand: the loader always sets it). */
static void http_init(struct check *c)
{
	c->http.max_redirects = 5;
	c->http.max_body = 1024 * 1024;
	c->http.trace = true;
}

static void http_print_details(const struct check *c, const struct probe_result *r, FILE *out)
{
	const char *trace_id = json_string_value(json_object_get(r->details, "trace_id"));

	(void)c;
	if (r->status_code >= 0)
		fprintf(out, "response    HTTP %d, %lld bytes\n", r->status_code, (long long)r->bytes);
	if (trace_id != NULL)
		fprintf(out, "trace       %s (traceparent sent)\n", trace_id);
}

/* Frees one request's settings (the check's own, or a step's). */
static void http_request_free(struct check_http *h)
{
	free(h->url);
	free(h->method);
	check_strv_free(h->headers, h->n_headers);
	free(h->body);
	free(h->basic_user);
	check_free_secret(h->basic_pass);
	free(h->ca_file);
	free(h->client_cert);
	free(h->client_key);
}

static void http_settings_free(struct check *c)
{
	http_request_free(&c->http);
	for (size_t i = 0; i < c->n_steps; i++) {
		struct http_step *st = &c->steps[i];

		free(st->name);
		http_request_free(&st->http);
		check_expect_clear(&st->expect);
		for (size_t j = 0; j < st->n_extract; j++) {
			free(st->extract[j].var);
			free(st->extract[j].json_path);
			free(st->extract[j].header);
		}
		free(st->extract);
	}
	free(c->steps);
	c->steps = NULL;
	c->n_steps = 0;
}

const struct probe_type probe_type_http = {
	.name = "http",
	.summary = "an HTTP(S) request, or a flow of them (steps); assert on status, body, JSON, headers",
	.settings = http_settings,
	.expect = http_expect,
	.validate = http_validate,
	.target = http_target,
	.start = http_run_start,
	.abort = http_run_abort,
	.details = http_print_details,
	.init = http_init,
	.free = http_settings_free,
};

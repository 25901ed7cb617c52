/* http_steps.c — multi-step http checks: ${var:NAME} substitution
 * (probe_http_subst), the values a step extracts from its response, the
 * masking of those values in every text of the result, and opening and
 * closing each step (see http.c for the run and http.h for the shared
 * state). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "probes/http_hop.h"
#include "probes/http_steps.h"
#include "probes/jsonpath.h"
#include "core/util.h"

/* Frees the current step's substituted url, headers and body. */
void http_step_strings_free(struct http_run *h)
{
	for (size_t i = 0; i < h->s_n_headers; i++)
		free(h->s_headers[i]);
	free(h->s_headers);
	free(h->s_url);
	free(h->s_body);
	h->s_headers = NULL;
	h->s_n_headers = 0;
	h->s_url = h->s_body = NULL;
}

/* --- ${var:NAME} substitution ----------------------------------------------- */

/* Appends value v as mode wants it (see probe.h). */
static void http_buf_add_value(struct buf *b, const char *v, enum probe_subst_mode mode)
{
	static const char hex[] = "0123456789ABCDEF";

	for (const char *q = v; *q != '\0' && !b->over; q++) {
		unsigned char c = (unsigned char)*q;
		char enc[3];

		if (mode == PROBE_SUBST_URL &&
		    !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '.' || c == '_' || c == '~')) {
			enc[0] = '%';
			enc[1] = hex[c >> 4];
			enc[2] = hex[c & 15];
			buf_add(b, enc, 3);
		} else if (mode == PROBE_SUBST_HEADER && (c < 0x20 || c == 0x7f) && c != '\t') {
			buf_add(b, " ", 1);
		} else {
			/* Copy the run of plain bytes at once. */
			size_t n = 1;

			if (mode == PROBE_SUBST_RAW)
				n = strlen(q);
			buf_add(b, q, n);
			q += n - 1;
		}
	}
}

char *probe_http_subst(const char *s, const char *const *names, const char *const *values,
                       size_t n, enum probe_subst_mode mode)
{
	struct buf b = BUF_MAX(PROBE_SUBST_MAX);
	const char *p = s ? s : "";

	buf_add(&b, "", 0);
	for (;;) {
		const char *d = strstr(p, "${var:");
		const char *name, *close;
		size_t len, i;

		if (d == NULL)
			break;
		buf_add(&b, p, (size_t)(d - p));
		name = d + 6;
		close = strchr(name, '}');
		if (close == NULL) {
			p = d;
			break;
		}
		len = (size_t)(close - name);
		for (i = 0; i < n; i++)
			if (names[i] != NULL && strlen(names[i]) == len && memcmp(names[i], name, len) == 0)
				break;
		if (i < n && values[i] != NULL)
			http_buf_add_value(&b, values[i], mode);
		else
			buf_add(&b, d, (size_t)(close + 1 - d));   /* unknown: as written */
		p = close + 1;
	}
	buf_add(&b, p, strlen(p));
	if (b.over) {
		free(b.p);
		return NULL;
	}
	return b.p;
}

/* --- multi-step ---------------------------------------------------------------- */

/* s with every extracted value of at least HTTP_MASK_MIN bytes replaced by
 * "***". Caller frees. */
static char *http_mask(const struct http_run *h, const char *s)
{
	char *out = xstrdup(s ? s : "");

	for (size_t i = 0; i < h->n_vars; i++) {
		const char *v = h->var_values[i];
		size_t vl = v ? strlen(v) : 0;
		struct buf b = BUF_MAX(PROBE_SUBST_MAX);
		const char *p = out, *hit;

		if (vl < HTTP_MASK_MIN || strstr(out, v) == NULL)
			continue;
		buf_add(&b, "", 0);
		while ((hit = strstr(p, v)) != NULL) {
			buf_add(&b, p, (size_t)(hit - p));
			buf_add(&b, "***", 3);
			p = hit + vl;
		}
		buf_add(&b, p, strlen(p));
		free(out);
		out = b.over ? xstrdup("***") : b.p;
		if (b.over)
			free(b.p);
	}
	return out;
}

/* Masks every string inside j (recursively), in place. */
static void http_mask_json(const struct http_run *h, json_t *j)
{
	const char *key;
	json_t *v;
	size_t i;

	if (h->n_vars == 0)
		return;
	if (json_is_object(j)) {
		json_object_foreach(j, key, v) {
			if (json_is_string(v)) {
				char *m = http_mask(h, json_string_value(v));

				json_string_set(v, m);
				free(m);
			} else {
				http_mask_json(h, v);
			}
		}
	} else if (json_is_array(j)) {
		json_array_foreach(j, i, v) {
			if (json_is_string(v)) {
				char *m = http_mask(h, json_string_value(v));

				json_string_set(v, m);
				free(m);
			} else {
				http_mask_json(h, v);
			}
		}
	}
}

/* The current step. */
static const struct http_step *http_cur_step(const struct http_run *h)
{
	return &h->run->check->steps[h->step];
}

/* "step 2 \"login\"", or "step 2" when the step has its default name. */
void http_step_label(const struct http_run *h, char *buf, size_t len)
{
	const struct http_step *st = http_cur_step(h);
	char def[32];

	snprintf(def, sizeof(def), "step %zu", h->step + 1);
	if (st->name == NULL || strcmp(st->name, def) == 0)
		snprintf(buf, len, "%s", def);
	else
		snprintf(buf, len, "step %zu \"%s\"", h->step + 1, st->name);
}

/* The variables known so far, as the arrays probe_http_subst takes. */
static char *http_subst(struct http_run *h, const char *s, enum probe_subst_mode mode)
{
	return probe_http_subst(s, h->var_names, (const char *const *)h->var_values, h->n_vars, mode);
}

/* Value of extract x from the current response, or NULL (*why says why).
 * Strings are taken as their text, other JSON values as compact JSON. */
static char *http_extract_value(struct http_run *h, const struct http_extract *x, const char **why)
{
	char *v = NULL;

	*why = "not in the response";
	if (x->header != NULL) {
		size_t nl = strlen(x->header);

		for (size_t i = 0; i < h->n_hdrs; i++) {
			const char *line = h->hdrs[i];

			if (strncasecmp(line, x->header, nl) == 0 && line[nl] == ':') {
				const char *p = line + nl + 1;
				size_t n;

				while (*p == ' ' || *p == '\t')
					p++;
				n = strlen(p);
				while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
					n--;
				v = xstrndup(p, n);
				break;
			}
		}
	} else if (x->json_path != NULL) {
		json_error_t jerr;
		json_t *doc = h->body ? json_loadb(h->body, h->body_len, JSON_DECODE_ANY, &jerr) : NULL;
		json_t *j = doc ? jsonpath_get(doc, x->json_path) : NULL;

		if (doc == NULL) {
			*why = h->truncated ? "the body was cut at max_body and is not JSON"
			                    : "the body is not JSON";
		} else if (j == NULL || json_is_null(j)) {
			*why = "not in the response";
		} else if (json_is_string(j)) {
			v = xstrndup(json_string_value(j), json_string_length(j));
		} else {
			char *t = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);

			v = xstrdup(t ? t : "");
			free(t);
		}
		json_decref(doc);
	}
	if (v != NULL && strlen(v) > HTTP_VAR_MAX) {
		free(v);
		v = NULL;
		*why = "longer than 64 KiB";
	}
	return v;
}

/* Pulls the current step's extracts into the variables (a later value of the
 * same name replaces the earlier one). A missing one fails the step. */
static void http_extract(struct http_run *h)
{
	const struct http_step *st = http_cur_step(h);

	for (size_t i = 0; i < st->n_extract; i++) {
		const struct http_extract *x = &st->extract[i];
		const char *why;
		char *v = http_extract_value(h, x, &why);
		char what[80];
		size_t k;

		snprintf(what, sizeof(what), "extract %s from %s%s", x->var,
		         x->header ? "header " : "", x->header ? x->header : x->json_path);
		probe_result_assert(h->res, v != NULL, what, "%s", v ? "found" : why);
		if (v == NULL)
			continue;
		for (k = 0; k < h->n_vars; k++)
			if (strcmp(h->var_names[k], x->var) == 0)
				break;
		if (k == h->n_vars) {
			h->var_names = xrealloc(h->var_names, (h->n_vars + 1) * sizeof(*h->var_names));
			h->var_values = xrealloc(h->var_values, (h->n_vars + 1) * sizeof(*h->var_values));
			h->var_names[k] = x->var;
			h->var_values[k] = NULL;
			h->n_vars++;
		}
		free(h->var_values[k]);
		h->var_values[k] = v;
	}
}

/* Sets up the current step: its settings with the variables substituted
 * (its url in h->s_url), a fresh step result, the per-step timing marks.
 * Returns 0 (http.c then starts its request), or -1 with the step result
 * failed. */
int http_step_open(struct http_run *h)
{
	const struct http_step *st = http_cur_step(h);
	struct probe_result *r = h->step_res;

	probe_result_clear(r);
	memset(r, 0, sizeof(*r));
	r->dns_us = r->connect_us = r->tls_us = r->ttfb_us = -1;
	r->status_code = -1;
	r->bytes = -1;
	h->res = r;
	h->expect = &st->expect;
	http_step_strings_free(h);
	h->step_http = st->http;
	h->http = &h->step_http;
	h->req_start_us = probe_elapsed_us(h->run);
	h->st_dns0 = h->dns_sum;
	h->st_connect0 = h->connect_sum;
	h->st_tls0 = h->tls_sum;
	h->st_wait0 = h->wait_sum;
	h->st_dns = h->st_connect = h->st_tls = h->st_ttfb = false;
	h->redirects = 0;
	free(h->origin);
	h->origin = NULL;
	h->same_origin = false;
	h->method = st->http.method ? st->http.method : "GET";
	h->send_body = true;

	if (st->http.url == NULL) {
		probe_result_fail(r, PROBE_ERR_INTERNAL, "the step has no url");
		return -1;
	}
	h->s_url = http_subst(h, st->http.url, PROBE_SUBST_URL);
	if (st->http.body)
		h->s_body = http_subst(h, st->http.body, PROBE_SUBST_RAW);
	if (st->http.n_headers > 0) {
		h->s_headers = xcalloc(st->http.n_headers, sizeof(*h->s_headers));
		h->s_n_headers = st->http.n_headers;
		for (size_t i = 0; i < st->http.n_headers; i++)
			h->s_headers[i] = http_subst(h, st->http.headers[i], PROBE_SUBST_HEADER);
	}
	h->step_http.url = h->s_url;
	h->step_http.body = h->s_body;
	h->step_http.headers = h->s_headers;
	h->step_http.n_headers = h->s_n_headers;
	if (h->s_url == NULL || (st->http.body && h->s_body == NULL)) {
		probe_result_fail(r, PROBE_ERR_INTERNAL, "the step's %s is longer than 1 MiB once the variables are in",
		                  h->s_url == NULL ? "url" : "body");
		return -1;
	}
	for (size_t i = 0; i < h->s_n_headers; i++) {
		if (h->s_headers[i] == NULL) {
			probe_result_fail(r, PROBE_ERR_INTERNAL,
			                  "a header of the step is longer than 1 MiB once the variables are in");
			return -1;
		}
	}
	return 0;
}

/* A phase mark of the step: offset from the step start, in ms. */
static void http_step_phase(json_t *o, const char *key, bool saw, int64_t at_us)
{
	if (saw)
		json_object_set_new(o, key, json_real((double)at_us / 1000.0));
}

/* The current step is over (passed, failed or cut short by the timeout):
 * its extracts when it passed, its entry in details.steps, and its outcome
 * folded into the run's result. Returns true when it passed. */
bool http_step_close(struct http_run *h, bool completed)
{
	struct probe_run *run = h->run;
	struct probe_result *r = h->step_res, *all = &run->result;
	const struct http_step *st = http_cur_step(h);
	json_t *o = json_object(), *ph = json_object(), *asserts = json_array(), *names;
	int64_t at;
	char label[96], *msg;
	bool ok;

	http_collect_hop(h);
	if (completed && r->error == PROBE_OK && st->n_extract > 0)
		http_extract(h);
	ok = completed && r->error == PROBE_OK;

	json_object_set_new(o, "name", json_string(st->name ? st->name : ""));
	json_object_set_new(o, "ok", json_boolean(ok));
	if (!completed) {
		json_object_set_new(o, "completed", json_false());
	} else {
		json_object_set_new(o, "error", json_string(probe_error_name(r->error)));
		json_object_set_new(o, "message", json_string(r->message));
	}
	json_object_set_new(o, "duration_ms",
	                    json_real((double)(probe_elapsed_us(run) - h->req_start_us) / 1000.0));
	if (r->status_code >= 0)
		json_object_set_new(o, "status_code", json_integer(r->status_code));
	if (r->bytes >= 0)
		json_object_set_new(o, "bytes", json_integer(r->bytes));
	/* Phase offsets from the step's start, as the run's phases are. */
	at = h->dns_sum - h->st_dns0;
	http_step_phase(ph, "dns", h->st_dns, at);
	at += h->connect_sum - h->st_connect0;
	http_step_phase(ph, "connect", h->st_connect, at);
	at += h->tls_sum - h->st_tls0;
	http_step_phase(ph, "tls", h->st_tls, at);
	at += h->wait_sum - h->st_wait0;
	http_step_phase(ph, "ttfb", h->st_ttfb, at);
	json_object_set_new(o, "phases_ms", ph);
	for (size_t i = 0; i < r->n_assertions; i++)
		json_array_append_new(asserts, json_pack("{s:s, s:b, s:s}", "what", r->assertions[i].what,
		                                         "ok", r->assertions[i].ok,
		                                         "detail", r->assertions[i].detail));
	json_object_set_new(o, "assertions", asserts);
	if (st->n_extract > 0) {
		names = json_array();
		for (size_t i = 0; i < st->n_extract; i++)
			json_array_append_new(names, json_string(st->extract[i].var));
		json_object_set_new(o, "extracts", names);
	}
	http_request_info(h, o);
	if (r->details != NULL)
		json_object_update(o, r->details);
	http_mask_json(h, o);
	json_array_append_new(h->steps, o);

	/* Fold into the run's result. */
	http_step_label(h, label, sizeof(label));
	for (size_t i = 0; i < r->n_assertions && all->n_assertions < PROBE_MAX_ASSERTIONS; i++) {
		struct probe_assertion *a = &all->assertions[all->n_assertions++];
		char *w = http_mask(h, r->assertions[i].what), *d = http_mask(h, r->assertions[i].detail);
		char *lw = xasprintf("%s: %s", label, w);

		util_strlcpy(a->what, lw, sizeof(a->what));
		util_strlcpy(a->detail, d, sizeof(a->detail));
		a->ok = r->assertions[i].ok;
		free(lw);
		free(w);
		free(d);
	}
	if (r->status_code >= 0)
		all->status_code = r->status_code;
	if (r->bytes >= 0)
		all->bytes = (all->bytes > 0 ? all->bytes : 0) + r->bytes;
	if (r->cert_expiry > 0 && (all->cert_expiry == 0 || r->cert_expiry < all->cert_expiry))
		all->cert_expiry = r->cert_expiry;
	if (completed && !ok) {
		msg = http_mask(h, r->message);
		probe_result_fail(all, r->error, "%s: %s", label, msg);
		free(msg);
	} else if (ok) {
		msg = http_mask(h, r->message);
		snprintf(all->message, sizeof(all->message), "%zu of %zu steps passed; last: %s",
		         h->step + 1, run->check->n_steps, msg);
		free(msg);
	}
	http_drop_easy(h);
	http_reset_response(h);
	return ok;
}

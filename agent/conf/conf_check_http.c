/* conf_check_http.c — the parsers of the http check type's settings that a
 * table cannot describe: the request (url, method, headers, basic_auth,
 * max_body), its expect (status, json, headers) and the steps of a
 * multi-step check.
 *
 * Multi-step http checks: each step is read into a scratch struct check by
 * the same http table as a plain check (so every rule applies to both), then
 * moved into struct http_step; steps inherit nothing, and a check with steps
 * has no request settings of its own. ${var:NAME} is kept as written for run
 * time, allowed only in a step's url, headers and body, and NAME must be
 * extracted by an earlier step.
 *
 * Forms the SPEC's example does not show:
 *   max_body = 65536 | "65536" | "512KiB" | "1MiB" | "1GiB" (binary units,
 *              1 byte to 1 GiB; default 1 MiB)
 *   basic_auth = { user = "bob"; password = "${env:PW}"; };
 *   expect.headers = [ "Content-Type: ^application/json" ]   (name: PCRE2)
 *   expect.status = ( 200, "2xx", "300-302" )   (a list may mix types; an
 *              array [ ] may not — libconfig's rule)
 *   steps: at most 32; a step's name defaults to "step N"; extract values
 *              are a JSON path ("$.token") or "header:NAME" */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf/conf_parse.h"
#include "probes/jsonpath.h"
#include "core/util.h"

#define MAX_BODY_LIMIT     (1024ull * 1024 * 1024)

static parse_fn parse_json_path, parse_json_equals;

static const struct def json_defs[] = {
	D_FN("path", parse_json_path, F_REQUIRED, "path = \"$.status\""),
	D_FN("equals", parse_json_equals, 0, NULL),
	D_BOOL("exists", struct json_expect, exists),
	D_END
};

/* --- the request ---------------------------------------------------------- */

/* A copy of url with every ${var:NAME} (a step's, kept for run time)
 * replaced by "x", for validating what is around it. */
static char *url_without_vars(const char *url)
{
	char *out = xstrdup(url);
	char *p;

	while ((p = strstr(out, "${var:")) != NULL && strchr(p, '}') != NULL) {
		char *next = xasprintf("%.*sx%s", (int)(p - out), out, strchr(p, '}') + 1);

		free(out);
		out = next;
	}
	return out;
}

static void parse_url(struct loader *ld, const config_setting_t *s, void *base, const char *where)
{
	struct check *c = base;
	char *v = conf_get_str(ld, s, where);
	const char *why;
	char *plain;
	bool https;
	int rc;

	if (v == NULL)
		return;
	plain = url_without_vars(v);
	rc = conf_check_http_url(plain, &https, &why);
	free(plain);
	if (rc < 0) {
		conf_err_url(ld, s, where, why);
		free(v);
		return;
	}
	free(conf_url_hide_password(ld, v));         /* registers a userinfo password */
	free(c->http.url);
	c->http.url = v;
}

static void parse_method(struct loader *ld, const config_setting_t *s, void *base, const char *where)
{
	static const char *const methods[] = { "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS" };
	struct check *c = base;
	char *v = conf_get_str(ld, s, where);

	if (v == NULL)
		return;
	for (size_t i = 0; i < COUNT(methods); i++) {
		if (strcasecmp(v, methods[i]) == 0) {
			free(c->http.method);
			c->http.method = xstrdup(methods[i]);
			free(v);
			return;
		}
	}
	conf_err(ld, s, "\"method\" in %s must be one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS (got %s)",
	         where, conf_quote(ld, config_setting_get_string(s)));
	free(v);
}

static bool is_tchar(int ch)
{
	return isalnum(ch) || (ch != 0 && strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

/* Checks "Name: value" (an RFC 9110 token, a colon, a value without CR/LF).
 * Returns the length of the name, or 0 after recording an error. The header
 * itself is never quoted: it may carry a credential. */
static size_t header_name_len(struct loader *ld, const config_setting_t *e, const char *where,
                              const char *h, const char *what)
{
	const char *colon = strchr(h, ':');
	size_t n;

	if (colon == NULL || colon == h) {
		conf_err(ld, e, "%s in %s must look like \"Name: %s\"", conf_sname(ld, e), where, what);
		return 0;
	}
	n = (size_t)(colon - h);
	for (size_t i = 0; i < n; i++) {
		if (!is_tchar((unsigned char)h[i])) {
			conf_err(ld, e, "%s in %s has an invalid header name (letters, digits and !#$%%&'*+-.^_`|~ only, then \":\")",
			         conf_sname(ld, e), where);
			return 0;
		}
	}
	if (strpbrk(h, "\r\n") != NULL) {
		conf_err(ld, e, "%s in %s must not contain a line break", conf_sname(ld, e), where);
		return 0;
	}
	return n;
}

/* Registered secret headers: the name says it carries a credential. */
static bool secret_header_name(const char *name, size_t len)
{
	static const char *const words[] = { "auth", "token", "key", "secret", "cookie" };
	char low[128];

	if (len >= sizeof(low))
		len = sizeof(low) - 1;
	for (size_t i = 0; i < len; i++)
		low[i] = (char)tolower((unsigned char)name[i]);
	low[len] = '\0';
	for (size_t i = 0; i < COUNT(words); i++)
		if (strstr(low, words[i]) != NULL)
			return true;
	return false;
}

static void parse_req_headers(struct loader *ld, const config_setting_t *s, void *base, const char *where)
{
	struct check *c = base;
	char **v = NULL;
	size_t n = 0;

	conf_get_strlist(ld, s, where, &v, &n);
	for (size_t i = 0; i < n; i++) {
		const config_setting_t *e = conf_elem(s, i);
		size_t nl = header_name_len(ld, e, where, v[i], "value");
		const char *val;

		if (nl == 0 || !secret_header_name(v[i], nl))
			continue;
		val = v[i] + nl + 1;
		while (*val == ' ' || *val == '\t')
			val++;
		conf_secret_add(ld, val);
		/* "Bearer abc": the credential alone must be masked too. */
		if (strchr(val, ' ') != NULL)
			conf_secret_add(ld, strrchr(val, ' ') + 1);
	}
	for (size_t i = 0; i < n; i++) {
		c->http.headers = xrealloc(c->http.headers, (c->http.n_headers + 1) * sizeof(char *));
		c->http.headers[c->http.n_headers++] = v[i];
	}
	free(v);
}

static void parse_basic_auth(struct loader *ld, const config_setting_t *s, void *base, const char *where)
{
	struct check *c = base;
	int n;

	if (!conf_want_group(ld, s, where))
		return;
	n = config_setting_length(s);
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		const char *name = config_setting_name(e);
		char *v;

		if (strcmp(name, "user") != 0 && strcmp(name, "password") != 0) {
			const char *cands[] = { "user", "password" };
			const char *hint = conf_closest(name, cands, 2);

			conf_err(ld, e, "unknown setting \"%s\" in basic_auth of %s%s", name, where,
			         conf_did_you_mean(ld, hint));
			continue;
		}
		v = conf_get_str(ld, e, where);
		if (v == NULL)
			continue;
		if (strcmp(name, "user") == 0) {
			if (strchr(v, ':') != NULL) {
				conf_err(ld, e, "\"user\" in basic_auth of %s must not contain \":\"", where);
				free(v);
				continue;
			}
			free(c->http.basic_user);
			c->http.basic_user = v;
		} else {
			conf_secret_add(ld, v);
			free(c->http.basic_pass);
			c->http.basic_pass = v;
		}
	}
	if (config_setting_get_member(s, "user") == NULL)
		conf_err(ld, s, "missing required setting \"user\" in basic_auth of %s", where);
	if (config_setting_get_member(s, "password") == NULL)
		conf_err(ld, s, "missing required setting \"password\" in basic_auth of %s", where);
}

/* "65536", "512KiB", "1MiB", "1GiB". Returns 0 and sets *out, or -1. */
static int parse_size(const char *s, unsigned long long *out)
{
	static const struct { const char *unit; unsigned long long mult; } units[] = {
		{ "", 1 }, { "B", 1 }, { "KiB", 1024 }, { "MiB", 1024 * 1024 }, { "GiB", 1024 * 1024 * 1024 },
	};
	unsigned long long v = 0;

	if (!isdigit((unsigned char)*s))
		return -1;
	for (; isdigit((unsigned char)*s); s++) {
		v = v * 10 + (unsigned)(*s - '0');
		if (v > MAX_BODY_LIMIT)
			return -1;
	}
	for (size_t i = 0; i < COUNT(units); i++) {
		if (strcmp(s, units[i].unit) == 0) {
			if (v > MAX_BODY_LIMIT / units[i].mult)
				return -1;
			*out = v * units[i].mult;
			return 0;
		}
	}
	return -1;
}

static void parse_max_body(struct loader *ld, const config_setting_t *s, void *base, const char *where)
{
	struct check *c = base;
	unsigned long long v;
	long long iv;

	if (config_setting_type(s) == CONFIG_TYPE_STRING) {
		char *str = conf_get_str(ld, s, where);

		if (str == NULL)
			return;
		if (parse_size(str, &v) < 0 || v < 1) {
			conf_err(ld, s, "\"max_body\" in %s is not a size from 1 byte to 1 GiB: %s (write bytes as an integer, or a string like \"512KiB\", \"1MiB\")",
			         where, conf_quote(ld, config_setting_get_string(s)));
			free(str);
			return;
		}
		free(str);
		c->http.max_body = (size_t)v;
		return;
	}
	if (config_setting_type(s) != CONFIG_TYPE_INT && config_setting_type(s) != CONFIG_TYPE_INT64) {
		conf_err(ld, s, "\"max_body\" in %s must be an integer number of bytes or a string like \"1MiB\" (got %s)",
		         where, conf_type_desc(config_setting_type(s)));
		return;
	}
	if (conf_get_int(ld, s, where, 1, (long long)MAX_BODY_LIMIT, &iv) == 0)
		c->http.max_body = (size_t)iv;
}

/* --- expect ---------------------------------------------------------------- */

/* One status entry: 200, "200", "2xx", "200-299". */
static int parse_status_entry(const char *v, struct status_range *r)
{
	int lo, hi;
	char tail;

	if (strlen(v) == 3 && isdigit((unsigned char)v[0]) && strcmp(v + 1, "xx") == 0) {
		lo = (v[0] - '0') * 100;
		hi = lo + 99;
	} else if (sscanf(v, "%3d-%3d%c", &lo, &hi, &tail) == 2 && strlen(v) == 7) {
		/* both parts three digits, checked by the length */
	} else if (strlen(v) == 3 && sscanf(v, "%3d%c", &lo, &tail) == 1) {
		hi = lo;
	} else {
		return -1;
	}
	if (!isdigit((unsigned char)v[0]) || lo < 100 || hi > 599 || lo > hi)
		return -1;
	r->lo = lo;
	r->hi = hi;
	return 0;
}

static void parse_status(struct loader *ld, const config_setting_t *s, void *base, const char *where)
{
	struct check_expect *e = base;
	size_t n = conf_values(ld, s, where,
	                       "a code, a range or an array of them like [200, 204] or ( 200, \"3xx\", \"400-404\" )",
	                       "leave it out to accept 200-399");

	for (size_t i = 0; i < n; i++) {
		const config_setting_t *el = conf_elem(s, i);
		struct status_range r;
		int t = config_setting_type(el);

		if (t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64) {
			long long v = config_setting_get_int64(el);

			if (v < 100 || v > 599) {
				conf_err(ld, el, "%s in %s must be a status code from 100 to 599 (got %lld)", conf_sname(ld, el), where, v);
				continue;
			}
			r.lo = r.hi = (int)v;
		} else if (t == CONFIG_TYPE_STRING) {
			char *v = conf_get_str(ld, el, where);

			if (v == NULL)
				continue;
			if (parse_status_entry(v, &r) < 0) {
				conf_err(ld, el, "%s in %s must be a status code 100-599, a class like \"2xx\" or a range like \"200-299\" (got %s)",
				         conf_sname(ld, el), where, conf_quote(ld, config_setting_get_string(el)));
				free(v);
				continue;
			}
			free(v);
		} else {
			conf_err(ld, el, "%s in %s must be a status code like 200 or a string like \"2xx\" or \"200-299\" (got %s)",
			         conf_sname(ld, el), where, conf_type_desc(t));
			continue;
		}
		e->status = xrealloc(e->status, (e->n_status + 1) * sizeof(*e->status));
		e->status[e->n_status++] = r;
	}
}

static void parse_json_path(struct loader *ld, const config_setting_t *s, void *base, const char *where)
{
	struct json_expect *j = base;
	char *v = conf_get_str(ld, s, where);
	char msg[256];

	if (v == NULL)
		return;
	msg[0] = '\0';
	if (jsonpath_check(v, msg, sizeof(msg)) < 0) {
		conf_err(ld, s, "\"path\" in %s is not a valid JSON path: %s (got %s; write paths like \"$.status\", \"$.items[0].id\", \"$['a b']\")",
		         where, msg[0] ? msg : "invalid", conf_quote(ld, config_setting_get_string(s)));
		free(v);
		return;
	}
	free(j->path);
	j->path = v;
}

static void parse_json_equals(struct loader *ld, const config_setting_t *s, void *base, const char *where)
{
	struct json_expect *j = base;
	json_t *v = NULL;
	char *str;

	switch (config_setting_type(s)) {
	case CONFIG_TYPE_STRING:
		str = conf_get_str(ld, s, where);
		if (str == NULL)
			return;
		v = json_string(str);
		free(str);
		if (v == NULL) {
			conf_err(ld, s, "\"equals\" in %s must be valid UTF-8", where);
			return;
		}
		break;
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		v = json_integer(config_setting_get_int64(s));
		break;
	case CONFIG_TYPE_FLOAT:
		v = json_real(config_setting_get_float(s));
		if (v == NULL) {
			conf_err(ld, s, "\"equals\" in %s must be a finite number", where);
			return;
		}
		break;
	case CONFIG_TYPE_BOOL:
		v = json_boolean(config_setting_get_bool(s));
		break;
	default:
		conf_err(ld, s, "\"equals\" in %s must be a string, a number or true/false (got %s)", where,
		         conf_type_desc(config_setting_type(s)));
		return;
	}
	json_decref(j->equals);
	j->equals = v;
}

static void parse_json(struct loader *ld, const config_setting_t *s, void *base, const char *where)
{
	static const struct def *const tables[] = { json_defs, NULL };
	struct check_expect *e = base;
	size_t n;

	/* One group is a list of one. */
	if (config_setting_is_group(s))
		n = 1;
	else if (config_setting_is_list(s))
		n = (size_t)config_setting_length(s);
	else {
		conf_err(ld, s, "\"json\" in %s must be a list of groups like ( { path = \"$.status\"; equals = \"ok\"; } ) (got %s)",
		         where, conf_type_desc(config_setting_type(s)));
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const config_setting_t *g = config_setting_is_group(s) ? s : config_setting_get_elem(s, (unsigned)i);
		const char *jwhere = conf_tmp(ld, xasprintf("expect.json entry %zu of %s", i + 1,
		                                            where + strlen("expect of ")));
		struct json_expect j = { NULL, NULL, true };
		const config_setting_t *ex;

		if (!config_setting_is_group(g)) {
			conf_err(ld, g, "%s in %s must be a group like { path = \"$.status\"; equals = \"ok\"; } (got %s)",
			         conf_sname(ld, g), where, conf_type_desc(config_setting_type(g)));
			continue;
		}
		conf_apply(ld, g, tables, &j, jwhere, SCOPE_PLAIN, 0, false);
		ex = config_setting_get_member(g, "exists");
		if (j.equals != NULL && ex != NULL && config_setting_type(ex) == CONFIG_TYPE_BOOL && !j.exists)
			conf_err(ld, ex, "\"exists = false\" contradicts \"equals\" in %s (a value that does not exist cannot equal anything)", jwhere);
		/* Kept even when incomplete, so check_clear frees it. */
		e->json = xrealloc(e->json, (e->n_json + 1) * sizeof(*e->json));
		e->json[e->n_json++] = j;
	}
}

static void parse_exp_headers(struct loader *ld, const config_setting_t *s, void *base, const char *where)
{
	struct check_expect *e = base;
	char **v = NULL;
	size_t n = 0;

	conf_get_strlist(ld, s, where, &v, &n);
	for (size_t i = 0; i < n; i++) {
		const config_setting_t *el = conf_elem(s, i);
		size_t nl = header_name_len(ld, el, where, v[i], "regex");
		struct header_expect h = { NULL, NULL, NULL };
		const char *pat;
		int code;
		PCRE2_SIZE off;

		if (nl == 0)
			goto next;
		pat = v[i] + nl + 1;
		while (*pat == ' ' || *pat == '\t')
			pat++;
		h.re = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED, 0, &code, &off, NULL);
		if (h.re == NULL) {
			PCRE2_UCHAR msg[256];

			pcre2_get_error_message(code, msg, sizeof(msg));
			conf_err(ld, el, "%s in %s has an invalid regular expression after \"%.*s:\": %s at offset %zu",
			         conf_sname(ld, el), where, (int)nl, v[i], (const char *)msg, (size_t)off);
			goto next;
		}
		h.name = xstrndup(v[i], nl);
		h.pattern = xstrdup(pat);
		e->headers = xrealloc(e->headers, (e->n_headers + 1) * sizeof(*e->headers));
		e->headers[e->n_headers++] = h;
next:
		free(v[i]);
	}
	free(v);
}

/* --- multi-step http ------------------------------------------------------ */

#define STEPS_MAX 32

static bool valid_header_name(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (!is_tchar((unsigned char)*s))
			return false;
	return true;
}

/* extract = { token = "$.token"; session = "header:Set-Cookie"; } */
static void parse_extract(struct loader *ld, const config_setting_t *s, struct http_step *st,
                          const char *where)
{
	int n;

	if (!config_setting_is_group(s)) {
		conf_err(ld, s, "\"extract\" in %s must be a group like { token = \"$.token\"; session = \"header:Set-Cookie\"; } (got %s)",
		         where, conf_type_desc(config_setting_type(s)));
		return;
	}
	n = config_setting_length(s);
	if (n == 0) {
		conf_err(ld, s, "\"extract\" in %s must not be empty (leave it out instead)", where);
		return;
	}
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		const char *var = config_setting_name(e);
		struct http_extract x = { NULL, NULL, NULL };
		char msg[256];
		char *v;

		if (!conf_valid_name(var)) {
			conf_err(ld, e, "variable name \"%s\" in extract of %s must be 1 to 64 characters from A-Z a-z 0-9 _ . -",
			         var, where);
			continue;
		}
		v = conf_get_str(ld, e, where);
		if (v == NULL)
			continue;
		if (strncmp(v, "header:", 7) == 0) {
			const char *h = v + 7;

			while (*h == ' ' || *h == '\t')
				h++;
			if (!valid_header_name(h)) {
				conf_err(ld, e, "\"%s\" in extract of %s must name a response header like \"header:Set-Cookie\" (got %s)",
				         var, where, conf_quote(ld, config_setting_get_string(e)));
				free(v);
				continue;
			}
			x.header = xstrdup(h);
			free(v);
		} else {
			msg[0] = '\0';
			if (jsonpath_check(v, msg, sizeof(msg)) < 0) {
				conf_err(ld, e, "\"%s\" in extract of %s is neither a JSON path like \"$.token\" nor \"header:NAME\": %s (got %s)",
				         var, where, msg[0] ? msg : "invalid", conf_quote(ld, config_setting_get_string(e)));
				free(v);
				continue;
			}
			x.json_path = v;
		}
		x.var = xstrdup(var);
		st->extract = xrealloc(st->extract, (st->n_extract + 1) * sizeof(*st->extract));
		st->extract[st->n_extract++] = x;
	}
}

/* Step i of c: read into a scratch check by the same tables as a plain http
 * check, then moved into c->steps[i]. */
static void parse_step(struct loader *ld, const config_setting_t *g, struct check *c, size_t i,
                       const char *where)
{
	const struct def *tables[] = { conf_step_defs, conf_type_defs[c->type], NULL };
	struct http_step *st = &c->steps[i];
	const config_setting_t *ns, *ex;
	struct check scratch;
	const char *swhere;

	check_init(&scratch);
	scratch.type = c->type;
	st->line = conf_setting_line(g);
	st->http = scratch.http;
	st->expect = scratch.expect;
	if (!config_setting_is_group(g)) {
		conf_err(ld, g, "step %zu of %s must be a group { url = ...; } (got %s)", i + 1, where,
		         conf_type_desc(config_setting_type(g)));
		st->name = xasprintf("step %zu", i + 1);
		return;
	}
	ns = config_setting_get_member(g, "name");
	if (ns != NULL) {
		char *v = conf_get_str(ld, ns, where);

		if (v != NULL && !conf_valid_name(v)) {
			conf_err(ld, ns, "\"name\" of step %zu in %s must be 1 to 64 characters from A-Z a-z 0-9 _ . - (got %s)",
			         i + 1, where, conf_quote(ld, config_setting_get_string(ns)));
			free(v);
			v = NULL;
		}
		for (size_t j = 0; v != NULL && j < i; j++) {
			if (c->steps[j].name != NULL && strcmp(c->steps[j].name, v) == 0) {
				conf_err(ld, ns, "duplicate step name \"%s\" in %s (first defined on line %d)", v, where,
				         c->steps[j].line);
				break;
			}
		}
		st->name = v;
	}
	if (st->name == NULL) {
		st->name = xasprintf("step %zu", i + 1);
		swhere = conf_tmp(ld, xasprintf("step %zu of %s", i + 1, where));
	} else {
		swhere = conf_tmp(ld, xasprintf("step \"%s\" of %s", st->name, where));
	}
	scratch.http.method = xstrdup("GET");
	ld->step = g;
	conf_apply(ld, g, tables, &scratch, swhere, SCOPE_STEP, (int)c->type, false);
	ld->step = NULL;
	conf_validate_check(ld, g, &scratch, swhere, true);
	ex = config_setting_get_member(g, "extract");
	if (ex != NULL)
		parse_extract(ld, ex, st, swhere);
	/* Only now: a step cannot use what it extracts itself. */
	for (size_t j = 0; j < st->n_extract; j++) {
		ld->vars = xrealloc(ld->vars, (ld->n_vars + 1) * sizeof(*ld->vars));
		ld->vars[ld->n_vars++] = xstrdup(st->extract[j].var);
	}
	st->http = scratch.http;
	st->expect = scratch.expect;
	memset(&scratch.http, 0, sizeof(scratch.http));
	memset(&scratch.expect, 0, sizeof(scratch.expect));
	check_clear(&scratch);
}

void conf_free_vars(struct loader *ld)
{
	for (size_t i = 0; i < ld->n_vars; i++)
		free(ld->vars[i]);
	free(ld->vars);
	ld->vars = NULL;
	ld->n_vars = 0;
}

static void parse_steps(struct loader *ld, const config_setting_t *s, void *base, const char *where)
{
	struct check *c = base;
	size_t n;

	if (ld->step != NULL) {
		conf_err(ld, s, "\"steps\" in %s cannot be nested (a step is one request)", where);
		return;
	}
	if (!config_setting_is_list(s)) {
		conf_err(ld, s, "\"steps\" in %s must be a list of groups like ( { name = \"login\"; url = \"https://...\"; }, ... ) (got %s)",
		         where, conf_type_desc(config_setting_type(s)));
		return;
	}
	n = (size_t)config_setting_length(s);
	if (n == 0) {
		conf_err(ld, s, "\"steps\" in %s must not be empty (leave it out for a single request)", where);
		return;
	}
	if (n > STEPS_MAX) {
		conf_err(ld, s, "\"steps\" in %s has %zu steps; at most %d are allowed", where, n, STEPS_MAX);
		return;
	}
	c->steps = xcalloc(n, sizeof(*c->steps));
	c->n_steps = n;
	conf_free_vars(ld);
	for (size_t i = 0; i < n; i++)
		parse_step(ld, config_setting_get_elem(s, (unsigned)i), c, i, where);
	conf_free_vars(ld);
}

/* The parsers of this file, by the names the http type's tables give them. */
const struct conf_parser conf_http_parsers[] = {
	{ "url", parse_url },
	{ "method", parse_method },
	{ "req_headers", parse_req_headers },
	{ "basic_auth", parse_basic_auth },
	{ "max_body", parse_max_body },
	{ "steps", parse_steps },
	{ "status", parse_status },
	{ "json", parse_json },
	{ "resp_headers", parse_exp_headers },
	{ NULL, NULL }
};

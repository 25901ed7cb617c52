/* conf_checks.c — the checks section: the tables of a check, of each check
 * type and of each type's expect, the parsers for the settings a table
 * cannot describe, the rules that combine settings, depends_on (names and
 * cycles), the target shown for a check and its fingerprint.
 *
 * Multi-step http checks: each step is read into a scratch struct check by
 * the same http tables as a plain check (so every rule applies to both),
 * then moved into struct http_step; steps inherit nothing, and a check with
 * steps has no request settings of its own. ${var:NAME} is kept as written
 * for run time, allowed only in a step's url, headers and body, and NAME
 * must be extracted by an earlier step.
 *
 * Forms the SPEC's example does not show:
 *   max_body = 65536 | "65536" | "512KiB" | "1MiB" | "1GiB" (binary units,
 *              1 byte to 1 GiB; default 1 MiB)
 *   basic_auth = { user = "bob"; password = "${env:PW}"; };
 *   expect.headers = [ "Content-Type: ^application/json" ]   (name: PCRE2)
 *   expect.status = ( 200, "2xx", "300-302" )   (a list may mix types; an
 *              array [ ] may not — libconfig's rule)
 *   icmp: count = 3 (1-100), spacing = "200ms" (between echoes; count x
 *              spacing must fit in the timeout); expect.max_loss = "20%" or 20
 *   heartbeat: grace default "1m"; timeout, retries and retry_interval are
 *              errors on a heartbeat (nothing is probed)
 *   tls: port default 443; server_name default host
 *   steps: at most 32; a step's name defaults to "step N"; extract values
 *              are a JSON path ("$.token") or "header:NAME" */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf/conf_internal.h"
#include "probes/jsonpath.h"
#include "core/log.h"
#include "core/util.h"

#define MAX_BODY_LIMIT     (1024ull * 1024 * 1024)

/* One depends_on entry: check `from` names `name`, written at setting s. */
struct dep_ref {
	size_t from;
	const char *name;           /* borrowed from the check's depends_on */
	const config_setting_t *s;
};

/* --- the settings tables -------------------------------------------------- */

static parse_fn parse_url, parse_method, parse_req_headers, parse_basic_auth, parse_max_body;
static parse_fn parse_tcp_host, parse_query, parse_record, parse_server;
static parse_fn parse_expect, parse_status, parse_json, parse_exp_headers, parse_rcode;
static parse_fn parse_json_path, parse_json_equals;
static parse_fn parse_depends_on, parse_steps;
static parse_fn parse_tls_host, parse_server_name, parse_icmp_host, parse_max_loss, parse_token;

const struct def conf_check_defs[] = {
	{ "name", K_SKIP, 0, 0, 0, 0, 0, NULL, NULL },
	{ "type", K_SKIP, 0, 0, 0, 0, 0, NULL, NULL },
	D_STR("group", struct check, group, 0),
	D_DUR("interval", struct check, interval_ms, 1),
	D_DUR("timeout", struct check, timeout_ms, 1),
	D_INT("retries", struct check, retries, 0, 10),
	D_DUR("retry_interval", struct check, retry_interval_ms, 0),
	D_FN("expect", parse_expect, 0, NULL),
	D_FN("depends_on", parse_depends_on, 0, NULL),
	D_END
};

/* One request's settings: a plain http check's, and each step's. "url" is
 * required unless the check has steps (check_combinations / parse_step). */
static const struct def http_defs[] = {
	D_FN("url", parse_url, 0, NULL),
	D_FN("method", parse_method, 0, NULL),
	D_FN("headers", parse_req_headers, 0, NULL),
	D_STR("body", struct check, http.body, 0),
	D_FN("basic_auth", parse_basic_auth, 0, NULL),
	D_INT("max_redirects", struct check, http.max_redirects, 0, 50),
	D_FN("max_body", parse_max_body, 0, NULL),
	D_BOOL("insecure", struct check, http.insecure),
	D_STR("ca_file", struct check, http.ca_file, F_NONEMPTY | F_FILE),
	D_STR("client_cert", struct check, http.client_cert, F_NONEMPTY | F_FILE),
	D_STR("client_key", struct check, http.client_key, F_NONEMPTY | F_FILE),
	D_FN("steps", parse_steps, 0, NULL),
	D_END
};

/* What a step has besides http_defs. A step is read into a scratch struct
 * check (so every http parser serves both); name and extract are read by
 * parse_step itself. */
const struct def conf_step_defs[] = {
	{ "name", K_SKIP, 0, 0, 0, 0, 0, NULL, NULL },
	{ "extract", K_SKIP, 0, 0, 0, 0, 0, NULL, NULL },
	D_FN("expect", parse_expect, 0, NULL),
	D_END
};

static const struct def tcp_defs[] = {
	D_FN("host", parse_tcp_host, F_REQUIRED, "host = \"db.internal\""),
	{ "port", K_INT, offsetof(struct check, tcp.port), 0, 1, 65535, F_REQUIRED, NULL, "port = 5432" },
	D_STR("send", struct check, tcp.send, F_NONEMPTY),
	D_END
};

static const struct def dns_defs[] = {
	D_FN("query", parse_query, F_REQUIRED, "query = \"api.example.com\""),
	D_FN("record", parse_record, 0, NULL),
	D_FN("server", parse_server, 0, NULL),
	D_END
};

static const struct def tls_defs[] = {
	D_FN("host", parse_tls_host, F_REQUIRED, "host = \"example.com\""),
	D_INT("port", struct check, tls.port, 1, 65535),
	D_FN("server_name", parse_server_name, 0, NULL),
	D_STR("ca_file", struct check, tls.ca_file, F_NONEMPTY | F_FILE),
	D_BOOL("insecure", struct check, tls.insecure),
	D_END
};

static const struct def icmp_defs[] = {
	D_FN("host", parse_icmp_host, F_REQUIRED, "host = \"10.0.0.1\""),
	D_INT("count", struct check, icmp.count, 1, 100),
	D_DUR("spacing", struct check, icmp.spacing_ms, 1),
	D_END
};

static const struct def heartbeat_defs[] = {
	D_DUR("grace", struct check, heartbeat.grace_ms, 0),
	D_FN("token", parse_token, F_REQUIRED, "token = \"${env:SYNC_TOKEN}\""),
	D_END
};

static const struct def expect_http_defs[] = {
	D_FN("status", parse_status, 0, NULL),
	D_STR("body_contains", struct check_expect, body_contains, F_NONEMPTY),
	D_RE("body_regex", struct check_expect, body_regex, body_re),
	D_FN("json", parse_json, 0, NULL),
	D_FN("headers", parse_exp_headers, 0, NULL),
	D_DUR("max_latency", struct check_expect, max_latency_ms, 1),
	D_INT("cert_min_days", struct check_expect, cert_min_days, 0, 3650),
	D_END
};

static const struct def expect_tcp_defs[] = {
	D_RE("banner_regex", struct check_expect, banner_regex, banner_re),
	D_RE("expect_regex", struct check_expect, expect_regex, expect_re),
	D_DUR("max_latency", struct check_expect, max_latency_ms, 1),
	D_END
};

static const struct def expect_dns_defs[] = {
	D_FN("rcode", parse_rcode, 0, NULL),
	D_LIST("answers_contain", struct check_expect, answers_contain, n_answers_contain),
	D_LIST("answers_exact", struct check_expect, answers_exact, n_answers_exact),
	D_INT("min_answers", struct check_expect, min_answers, 0, 1000),
	D_DUR("max_latency", struct check_expect, max_latency_ms, 1),
	D_END
};

static const struct def expect_tls_defs[] = {
	D_INT("cert_min_days", struct check_expect, cert_min_days, 0, 3650),
	D_DUR("max_latency", struct check_expect, max_latency_ms, 1),
	D_END
};

/* max_latency: the average round trip. */
static const struct def expect_icmp_defs[] = {
	D_FN("max_loss", parse_max_loss, 0, NULL),
	D_DUR("max_latency", struct check_expect, max_latency_ms, 1),
	D_END
};

/* Passive: nothing is probed, so nothing to assert (expect = { } is fine). */
static const struct def expect_heartbeat_defs[] = {
	D_END
};

static const struct def json_defs[] = {
	D_FN("path", parse_json_path, F_REQUIRED, "path = \"$.status\""),
	D_FN("equals", parse_json_equals, 0, NULL),
	D_BOOL("exists", struct json_expect, exists),
	D_END
};

const struct def *const conf_type_defs[CHECK_TYPE_COUNT] = {
	[CHECK_HTTP] = http_defs, [CHECK_TCP] = tcp_defs, [CHECK_DNS] = dns_defs,
	[CHECK_TLS] = tls_defs, [CHECK_ICMP] = icmp_defs, [CHECK_HEARTBEAT] = heartbeat_defs,
};
const struct def *const conf_expect_defs[CHECK_TYPE_COUNT] = {
	[CHECK_HTTP] = expect_http_defs, [CHECK_TCP] = expect_tcp_defs, [CHECK_DNS] = expect_dns_defs,
	[CHECK_TLS] = expect_tls_defs, [CHECK_ICMP] = expect_icmp_defs,
	[CHECK_HEARTBEAT] = expect_heartbeat_defs,
};

/* --- http ----------------------------------------------------------------- */

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

/* --- tcp and dns ---------------------------------------------------------- */

static void get_host(struct loader *ld, const config_setting_t *s, const char *where, char **dst);

static void parse_tcp_host(struct loader *ld, const config_setting_t *s, void *base, const char *where)
{
	get_host(ld, s, where, &((struct check *)base)->tcp.host);
}

static void parse_query(struct loader *ld, const config_setting_t *s, void *base, const char *where)
{
	struct check *c = base;
	char *v = conf_get_str(ld, s, where);
	char *name;
	size_t n;
	bool ok;

	if (v == NULL)
		return;
	/* A trailing dot (fully qualified) is fine; "." alone asks for the root. */
	name = xstrdup(v);
	n = strlen(name);
	if (n > 1 && name[n - 1] == '.')
		name[n - 1] = '\0';
	ok = strcmp(v, ".") == 0 || (strchr(name, ':') == NULL && conf_valid_host(name));
	free(name);
	if (!ok) {
		conf_err(ld, s, "\"query\" in %s must be a domain name like \"api.example.com\" (got %s)",
		         where, conf_quote(ld, config_setting_get_string(s)));
		free(v);
		return;
	}
	free(c->dns.query);
	c->dns.query = v;
}

/* A string naming one of a fixed set, looked up by from_name: its value, or
 * -1 after recording an error that lists names. */
static int get_enum(struct loader *ld, const config_setting_t *s, const char *where,
                    int (*from_name)(const char *), const char *names)
{
	char *v = conf_get_str(ld, s, where);
	int r;

	if (v == NULL)
		return -1;
	r = from_name(v);
	if (r < 0)
		conf_err(ld, s, "%s in %s must be one of %s (got %s)", conf_sname(ld, s), where, names,
		         conf_quote(ld, config_setting_get_string(s)));
	free(v);
	return r;
}

static void parse_record(struct loader *ld, const config_setting_t *s, void *base, const char *where)
{
	struct check *c = base;
	int r = get_enum(ld, s, where, check_dns_record_from_name, "A, AAAA, CNAME, MX, TXT, NS, SOA, SRV");

	if (r >= 0)
		c->dns.record = r;
}

static void parse_server(struct loader *ld, const config_setting_t *s, void *base, const char *where)
{
	struct check *c = base;
	char *v = conf_get_str(ld, s, where);

	if (v == NULL)
		return;
	if (conf_parse_hostport(v, false, true) < 0) {
		conf_err(ld, s, "\"server\" in %s must be an IP address with an optional port: \"1.1.1.1\", \"1.1.1.1:53\", \"2606:4700::1111\" or \"[2606:4700::1111]:53\" (got %s)",
		         where, conf_quote(ld, config_setting_get_string(s)));
		free(v);
		return;
	}
	free(c->dns.server);
	c->dns.server = v;
}

/* --- expect --------------------------------------------------------------- */

static void parse_expect(struct loader *ld, const config_setting_t *s, void *base, const char *where)
{
	struct check *c = base;
	const struct def *tables[2] = { conf_expect_defs[c->type], NULL };
	char *ewhere;

	if (!conf_want_group(ld, s, where))
		return;
	ewhere = xasprintf("expect of %s", where);
	conf_tmp(ld, ewhere);
	conf_apply(ld, s, tables, &c->expect, ewhere, SCOPE_EXPECT, (int)c->type, false);
}

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

static void parse_rcode(struct loader *ld, const config_setting_t *s, void *base, const char *where)
{
	struct check_expect *e = base;
	int r = get_enum(ld, s, where, check_dns_rcode_from_name,
	                 "NOERROR, NXDOMAIN, SERVFAIL, REFUSED, FORMERR, NOTIMP");

	if (r >= 0)
		e->rcode = r;
}

/* --- tls, icmp, heartbeat ------------------------------------------------- */

/* A host name or an IP address (no brackets, no port) into *dst. */
static void get_host(struct loader *ld, const config_setting_t *s, const char *where, char **dst)
{
	char *v = conf_get_str(ld, s, where);

	if (v == NULL)
		return;
	if (!conf_valid_host(v)) {
		conf_err(ld, s, "%s in %s must be a host name or an IP address without brackets or port (got %s)",
		         conf_sname(ld, s), where, conf_quote(ld, config_setting_get_string(s)));
		free(v);
		return;
	}
	free(*dst);
	*dst = v;
}

static void parse_tls_host(struct loader *ld, const config_setting_t *s, void *base, const char *where)
{
	get_host(ld, s, where, &((struct check *)base)->tls.host);
}

static void parse_server_name(struct loader *ld, const config_setting_t *s, void *base, const char *where)
{
	get_host(ld, s, where, &((struct check *)base)->tls.server_name);
}

static void parse_icmp_host(struct loader *ld, const config_setting_t *s, void *base, const char *where)
{
	get_host(ld, s, where, &((struct check *)base)->icmp.host);
}

/* The heartbeat's token: a secret, sent in a query string or a header, so
 * printable ASCII without spaces. Never quoted. */
static void parse_token(struct loader *ld, const config_setting_t *s, void *base, const char *where)
{
	struct check *c = base;
	char *v = conf_get_str(ld, s, where);

	if (v == NULL)
		return;
	conf_secret_add(ld, v);
	if (*v == '\0') {
		conf_err(ld, s, "\"token\" in %s must not be empty", where);
		free(v);
		return;
	}
	for (const char *p = v; *p != '\0'; p++) {
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f) {
			conf_err(ld, s, "\"token\" in %s must be printable ASCII without spaces (the value is not shown)", where);
			conf_free_secret(v);
			return;
		}
	}
	conf_free_secret(c->heartbeat.token);
	c->heartbeat.token = v;
}

/* "12.5%" (digits, an optional fraction, a percent sign). Returns 0 and
 * sets *out, or -1. */
static int parse_percent(const char *s, double *out)
{
	const char *p = s;

	if (!isdigit((unsigned char)*p))
		return -1;
	while (isdigit((unsigned char)*p))
		p++;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return -1;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (strcmp(p, "%") != 0 || p - s > 20)
		return -1;
	*out = strtod(s, NULL);
	return 0;
}

/* expect.max_loss of an icmp check: "20%", or a number 0-100. */
static void parse_max_loss(struct loader *ld, const config_setting_t *s, void *base, const char *where)
{
	struct check_expect *e = base;
	int t = config_setting_type(s);
	double v;

	if (t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64) {
		v = (double)config_setting_get_int64(s);
	} else if (t == CONFIG_TYPE_FLOAT) {
		v = config_setting_get_float(s);
	} else if (t == CONFIG_TYPE_STRING) {
		char *str = conf_get_str(ld, s, where);
		int rc;

		if (str == NULL)
			return;
		rc = parse_percent(str, &v);
		free(str);
		if (rc < 0) {
			conf_err(ld, s, "\"max_loss\" in %s must be a percentage like \"20%%\" (got %s)", where,
			         conf_quote(ld, config_setting_get_string(s)));
			return;
		}
	} else {
		conf_err(ld, s, "\"max_loss\" in %s must be a percentage like \"20%%\" or a number from 0 to 100 (got %s)",
		         where, conf_type_desc(t));
		return;
	}
	if (!isfinite(v) || v < 0 || v > 100) {
		conf_err(ld, s, "\"max_loss\" in %s must be from 0%% to 100%%", where);
		return;
	}
	e->max_loss_pct = v;
}

/* --- depends_on ----------------------------------------------------------- */

/* Names only: whether they exist and loop is known after every check is
  * read (conf_resolve_dependencies). */
static void parse_depends_on(struct loader *ld, const config_setting_t *s, void *base, const char *where)
{
	struct check *c = base;
	size_t n = conf_values(ld, s, where, "a check name or an array of them like [ \"gateway\" ]",
	                       "leave it out instead");

	for (size_t i = 0; i < n; i++) {
		const config_setting_t *e = conf_elem(s, i);
		char *v = conf_get_str(ld, e, where);

		if (v == NULL)
			continue;
		if (!conf_valid_name(v)) {
			conf_err(ld, e, "%s in %s must be a check name (got %s)", conf_sname(ld, e), where,
			         conf_quote(ld, config_setting_get_string(e)));
			free(v);
			continue;
		}
		if (conf_in_list((const char *const *)c->depends_on, c->n_depends_on, v)) {
			conf_err(ld, e, "%s in %s names \"%s\" twice", conf_sname(ld, e), where, v);
			free(v);
			continue;
		}
		c->depends_on = xrealloc(c->depends_on, (c->n_depends_on + 1) * sizeof(char *));
		c->depends_on[c->n_depends_on++] = v;
		if (c >= ld->conf->checks && c < ld->conf->checks + ld->conf->n_checks) {
			ld->deps = xrealloc(ld->deps, (ld->n_deps + 1) * sizeof(*ld->deps));
			ld->deps[ld->n_deps].from = (size_t)(c - ld->conf->checks);
			ld->deps[ld->n_deps].name = v;
			ld->deps[ld->n_deps].s = e;
			ld->n_deps++;
		}
	}
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

static void http_combinations(struct loader *ld, const config_setting_t *g, const struct check *c,
                              const char *where);

/* Step i of c: read into a scratch check by the same tables as a plain http
 * check, then moved into c->steps[i]. */
static void parse_step(struct loader *ld, const config_setting_t *g, struct check *c, size_t i,
                       const char *where)
{
	static const struct def *const tables[] = { conf_step_defs, http_defs, NULL };
	struct http_step *st = &c->steps[i];
	const config_setting_t *ns, *ex;
	struct check scratch;
	const char *swhere;

	check_init(&scratch);
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
	conf_apply(ld, g, tables, &scratch, swhere, SCOPE_STEP, CHECK_HTTP, false);
	ld->step = NULL;
	if (config_setting_get_member(g, "url") == NULL)
		conf_err(ld, g, "missing required setting \"url\" in %s (url = \"https://...\")", swhere);
	else
		http_combinations(ld, g, &scratch, swhere);
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

/* --- one check ------------------------------------------------------------ */

static uint64_t h_bytes(uint64_t h, const void *p, size_t n)
{
	uint64_t len = n;

	/* Length first: ("ab","c") and ("a","bc") must differ. */
	h = util_hash64_update(h, &len, sizeof(len));
	return util_hash64_update(h, p, n);
}

static uint64_t h_str(uint64_t h, const char *s)
{
	if (s == NULL)
		return h_bytes(h, "\xff", 1);   /* NULL differs from "" */
	return h_bytes(h, s, strlen(s));
}

static uint64_t h_u64(uint64_t h, uint64_t v)
{
	return h_bytes(h, &v, sizeof(v));
}

static uint64_t h_http(uint64_t h, const struct check_http *r)
{
	h = h_str(h, r->url);
	h = h_str(h, r->method);
	h = h_u64(h, r->n_headers);
	for (size_t i = 0; i < r->n_headers; i++)
		h = h_str(h, r->headers[i]);
	h = h_str(h, r->body);
	h = h_str(h, r->basic_user);
	h = h_str(h, r->basic_pass);
	h = h_u64(h, (uint64_t)r->max_redirects);
	h = h_u64(h, r->max_body);
	h = h_u64(h, r->insecure);
	h = h_str(h, r->ca_file);
	h = h_str(h, r->client_cert);
	return h_str(h, r->client_key);
}

static uint64_t h_expect(uint64_t h, const struct check_expect *e)
{
	h = h_u64(h, e->n_status);
	for (size_t i = 0; i < e->n_status; i++) {
		h = h_u64(h, (uint64_t)e->status[i].lo);
		h = h_u64(h, (uint64_t)e->status[i].hi);
	}
	h = h_str(h, e->body_contains);
	h = h_str(h, e->body_regex);
	h = h_u64(h, e->n_json);
	for (size_t i = 0; i < e->n_json; i++) {
		char *dump = e->json[i].equals ?
			json_dumps(e->json[i].equals, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;

		h = h_str(h, e->json[i].path);
		h = h_str(h, dump);
		h = h_u64(h, e->json[i].exists);
		free(dump);
	}
	h = h_u64(h, e->n_headers);
	for (size_t i = 0; i < e->n_headers; i++) {
		h = h_str(h, e->headers[i].name);
		h = h_str(h, e->headers[i].pattern);
	}
	h = h_u64(h, e->max_latency_ms);
	h = h_u64(h, (uint64_t)(int64_t)e->cert_min_days);
	h = h_u64(h, (uint64_t)(int64_t)e->rcode);
	h = h_u64(h, e->n_answers_contain);
	for (size_t i = 0; i < e->n_answers_contain; i++)
		h = h_str(h, e->answers_contain[i]);
	h = h_u64(h, e->n_answers_exact);
	for (size_t i = 0; i < e->n_answers_exact; i++)
		h = h_str(h, e->answers_exact[i]);
	h = h_u64(h, (uint64_t)(int64_t)e->min_answers);
	h = h_str(h, e->banner_regex);
	h = h_str(h, e->expect_regex);
	/* The bits of the double: -1 (not asserted) and every percentage differ. */
	return h_bytes(h, &e->max_loss_pct, sizeof(e->max_loss_pct));
}

/* Every setting that changes what or how the check probes, and what it
 * depends on (not its group: moving a check on the page keeps its schedule). */
static uint64_t fingerprint(const struct check *c)
{
	uint64_t h = UTIL_HASH64_INIT;

	h = h_str(h, c->name);
	h = h_u64(h, (uint64_t)c->type);
	h = h_u64(h, c->interval_ms);
	h = h_u64(h, c->timeout_ms);
	h = h_u64(h, (uint64_t)c->retries);
	h = h_u64(h, c->retry_interval_ms);
	h = h_http(h, &c->http);
	h = h_str(h, c->tcp.host);
	h = h_u64(h, (uint64_t)c->tcp.port);
	h = h_str(h, c->tcp.send);
	h = h_str(h, c->dns.query);
	h = h_u64(h, (uint64_t)c->dns.record);
	h = h_str(h, c->dns.server);
	h = h_str(h, c->tls.host);
	h = h_u64(h, (uint64_t)c->tls.port);
	h = h_str(h, c->tls.server_name);
	h = h_str(h, c->tls.ca_file);
	h = h_u64(h, c->tls.insecure);
	h = h_str(h, c->icmp.host);
	h = h_u64(h, (uint64_t)c->icmp.count);
	h = h_u64(h, c->icmp.spacing_ms);
	h = h_u64(h, c->heartbeat.grace_ms);
	h = h_str(h, c->heartbeat.token);
	h = h_u64(h, c->n_steps);
	for (size_t i = 0; i < c->n_steps; i++) {
		const struct http_step *st = &c->steps[i];

		h = h_str(h, st->name);
		h = h_http(h, &st->http);
		h = h_expect(h, &st->expect);
		h = h_u64(h, st->n_extract);
		for (size_t j = 0; j < st->n_extract; j++) {
			h = h_str(h, st->extract[j].var);
			h = h_str(h, st->extract[j].json_path);
			h = h_str(h, st->extract[j].header);
		}
	}
	h = h_u64(h, c->n_depends_on);
	for (size_t i = 0; i < c->n_depends_on; i++)
		h = h_str(h, c->depends_on[i]);
	return h_expect(h, &c->expect);
}

/* What the check probes, for people; secrets masked. */
static char *make_target(const struct check *c)
{
	char *raw = NULL, *masked;

	switch (c->type) {
	case CHECK_HTTP:
		if (c->n_steps > 0) {
			const char *url = c->steps[0].http.url;
			char *first = conf_url_hide_password(NULL, url ? url : "");

			raw = xasprintf("%s (%zu step%s)", first, c->n_steps, c->n_steps == 1 ? "" : "s");
			free(first);
		} else {
			raw = conf_url_hide_password(NULL, c->http.url ? c->http.url : "");
		}
		break;
	case CHECK_TCP:
		if (c->tcp.host != NULL && strchr(c->tcp.host, ':') != NULL)
			raw = xasprintf("[%s]:%d", c->tcp.host, c->tcp.port);
		else
			raw = xasprintf("%s:%d", c->tcp.host ? c->tcp.host : "", c->tcp.port);
		break;
	case CHECK_DNS: {
		const char *rec = check_dns_record_name(c->dns.record);

		raw = xasprintf("%s %s%s%s", rec ? rec : "?", c->dns.query ? c->dns.query : "",
		                c->dns.server ? " @" : "", c->dns.server ? c->dns.server : "");
		break;
	}
	case CHECK_TLS: {
		const char *host = c->tls.host ? c->tls.host : "";
		bool v6 = strchr(host, ':') != NULL;

		raw = xasprintf("%s%s%s:%d%s%s%s", v6 ? "[" : "", host, v6 ? "]" : "", c->tls.port,
		                c->tls.server_name ? " (" : "", c->tls.server_name ? c->tls.server_name : "",
		                c->tls.server_name ? ")" : "");
		break;
	}
	case CHECK_ICMP:
		raw = xstrdup(c->icmp.host ? c->icmp.host : "");
		break;
	case CHECK_HEARTBEAT:
		raw = xasprintf("push /api/v1/push/%s", c->name ? c->name : "");
		break;
	case CHECK_TYPE_COUNT:
		raw = xstrdup("");
		break;
	}
	masked = log_mask_secrets(raw);
	free(raw);
	return masked;
}

/* Reads the check's type. Returns it, or -1 after recording an error (-2:
 * the type is missing, which is also recorded). */
static int read_type(struct loader *ld, const config_setting_t *g, const char *where)
{
	static const char *const names[] = { "http", "tcp", "dns", "tls", "icmp", "heartbeat" };
	const config_setting_t *s = config_setting_get_member(g, "type");
	const char *hint;
	char *v;
	int t = -1;

	if (s == NULL) {
		conf_err(ld, g, "missing required setting \"type\" in %s (one of: http, tcp, dns, tls, icmp, heartbeat)", where);
		return -1;
	}
	v = conf_get_str(ld, s, where);
	if (v == NULL)
		return -1;
	for (int i = 0; i < CHECK_TYPE_COUNT; i++)
		if (strcmp(v, check_type_name((enum check_type)i)) == 0)
			t = i;
	if (t >= 0)
		goto out;
	hint = conf_closest(v, names, COUNT(names));
	conf_err(ld, s, "unknown check type %s in %s (%s%s%ssupported: http, tcp, dns, tls, icmp, heartbeat)",
	         conf_quote(ld, config_setting_get_string(s)), where,
	         hint ? "did you mean \"" : "", hint ? hint : "", hint ? "\"? " : "");
out:
	free(v);
	return t;
}

/* Cross-setting rules of one http request (a plain check's or a step's). */
static void http_combinations(struct loader *ld, const config_setting_t *g, const struct check *c,
                              const char *where)
{
	const config_setting_t *ex = config_setting_get_member(g, "expect");
	const config_setting_t *s;
	bool https = c->http.url != NULL && strncasecmp(c->http.url, "https://", 8) == 0;

	if (c->http.client_key != NULL && c->http.client_cert == NULL)
		conf_err(ld, config_setting_get_member(g, "client_key"),
		         "\"client_key\" in %s needs \"client_cert\" too", where);
	if (ex == NULL || !config_setting_is_group(ex))
		return;
	s = config_setting_get_member(ex, "cert_min_days");
	if (s != NULL && c->http.url != NULL && !https)
		conf_err(ld, s, "\"cert_min_days\" in expect of %s needs an https:// url", where);
	if (c->http.method != NULL && strcmp(c->http.method, "HEAD") == 0) {
		static const char *const body_settings[] = { "body_contains", "body_regex", "json" };

		for (size_t i = 0; i < COUNT(body_settings); i++) {
			s = config_setting_get_member(ex, body_settings[i]);
			if (s != NULL)
				conf_err(ld, s, "\"%s\" in expect of %s can never match: a HEAD response has no body",
				         body_settings[i], where);
		}
	}
}

/* A check with steps: every request setting belongs to a step. */
static void steps_combinations(struct loader *ld, const config_setting_t *g, const char *where)
{
	const config_setting_t *s;

	for (const struct def *d = http_defs; d->name != NULL; d++) {
		s = config_setting_get_member(g, d->name);
		if (s != NULL && strcmp(d->name, "steps") != 0)
			conf_err(ld, s, "\"%s\" in %s cannot be used together with \"steps\": each step sets its own (steps inherit nothing)",
			         d->name, where);
	}
	s = config_setting_get_member(g, "expect");
	if (s != NULL)
		conf_err(ld, s, "\"expect\" in %s cannot be used together with \"steps\": each step has its own expect", where);
}

/* Cross-setting rules that no single setting can check. */
static void check_combinations(struct loader *ld, const config_setting_t *g, struct check *c,
                               const char *where)
{
	const config_setting_t *iv = config_setting_get_member(g, "interval");
	const config_setting_t *to = config_setting_get_member(g, "timeout");
	const config_setting_t *ex = config_setting_get_member(g, "expect");

	if (c->type == CHECK_HEARTBEAT) {
		/* Passive: interval is how often a ping is due; nothing runs, so
		 * a timeout or retries would be silently meaningless. */
		static const char *const probe_settings[] = { "timeout", "retries", "retry_interval" };

		for (size_t i = 0; i < COUNT(probe_settings); i++) {
			const config_setting_t *s = config_setting_get_member(g, probe_settings[i]);

			if (s != NULL)
				conf_err(ld, s, "\"%s\" in %s does not apply to heartbeat checks (nothing is probed: a ping is due every interval, plus grace)",
				         probe_settings[i], where);
		}
		return;
	}
	/* A timeout written here must fit in the interval; one inherited from
	 * defaults is cut to it (as Prometheus does with scrape_timeout). */
	if (to == NULL && c->timeout_ms > c->interval_ms)
		c->timeout_ms = c->interval_ms;
	if (to != NULL && !conf_had_error(ld, iv) && !conf_had_error(ld, to) &&
	    c->timeout_ms > c->interval_ms) {
		char a[32], b[32];

		util_format_duration(c->timeout_ms, a, sizeof(a));
		util_format_duration(c->interval_ms, b, sizeof(b));
		conf_err(ld, to, "timeout \"%s\" is longer than interval \"%s\"%s in %s (a run must end before the next one starts)",
		         a, b, iv ? "" : " (from defaults)", where);
	}
	if (c->type == CHECK_HTTP) {
		if (config_setting_get_member(g, "steps") != NULL)
			steps_combinations(ld, g, where);
		else if (config_setting_get_member(g, "url") == NULL)
			conf_err(ld, g, "missing required setting \"url\" in %s (url = \"https://...\")", where);
		else
			http_combinations(ld, g, c, where);
	}
	if (c->type == CHECK_TCP && ex != NULL && config_setting_is_group(ex) &&
	    config_setting_get_member(ex, "expect_regex") != NULL && c->tcp.send == NULL)
		conf_err(ld, config_setting_get_member(ex, "expect_regex"),
		         "\"expect_regex\" in expect of %s is matched after \"send\", which is not set (use banner_regex for what the server says first)",
		         where);
	if (c->type == CHECK_ICMP) {
		const config_setting_t *cs = config_setting_get_member(g, "count");
		const config_setting_t *sp = config_setting_get_member(g, "spacing");
		uint64_t need = (uint64_t)(c->icmp.count - 1) * c->icmp.spacing_ms;

		if ((cs != NULL || sp != NULL || to != NULL) && !conf_had_error(ld, cs) && !conf_had_error(ld, sp) &&
		    !conf_had_error(ld, to) && need >= c->timeout_ms) {
			char a[32], b[32];

			util_format_duration(c->icmp.spacing_ms, a, sizeof(a));
			util_format_duration(c->timeout_ms, b, sizeof(b));
			conf_err(ld, sp ? sp : cs ? cs : to, "%d echoes \"%s\" apart in %s do not fit in timeout \"%s\" (lower count or spacing, or raise timeout)",
			         c->icmp.count, a, where, b);
		}
	}
}

static void parse_check(struct loader *ld, struct conf *conf, const config_setting_t *g,
                        size_t idx, struct name_seen *seen, size_t *n_seen)
{
	struct check *c = &conf->checks[idx];
	const char *where;
	int type;

	c->file = conf->path;
	c->line = conf_setting_line(g);
	c->interval_ms = conf->default_interval_ms;
	c->timeout_ms = conf->default_timeout_ms;
	c->group = xstrdup("");
	c->http.method = xstrdup("GET");
	where = conf_tmp(ld, xasprintf("check #%zu", idx + 1));
	if (!config_setting_is_group(g)) {
		conf_err(ld, g, "check #%zu must be a group { name = ...; type = ...; } (got %s)", idx + 1,
		         conf_type_desc(config_setting_type(g)));
		return;
	}

	c->name = conf_read_name(ld, g, "check", idx, seen, n_seen, &where);

	type = read_type(ld, g, where);
	if (type >= 0) {
		const struct def *tables[] = { conf_check_defs, conf_type_defs[type], NULL };

		c->type = (enum check_type)type;
		conf_apply(ld, g, tables, c, where, SCOPE_CHECK, type, false);
		check_combinations(ld, g, c, where);
	} else {
		/* Without a type no one can say which settings belong: check the
		 * common ones only; the type error is already reported. */
		int n = config_setting_length(g);

		for (int i = 0; i < n; i++) {
			const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
			const struct def *d = conf_find_def(conf_check_defs, config_setting_name(s));

			if (d != NULL && d->kind != K_CUSTOM)
				conf_apply_one(ld, s, d, c, where);
		}
	}
	c->target = make_target(c);
	c->fingerprint = fingerprint(c);
}

/* --- the checks section, and depends_on across checks --------------------- */

void conf_parse_checks(struct loader *ld, struct conf *conf, const config_setting_t *s)
{
	int n;

	if (s == NULL)
		return;
	n = conf_section_list(ld, s, "{ name = \"api\"; type = \"http\"; ... }");
	if (n < 0)
		return;
	conf->checks = xcalloc(n ? (size_t)n : 1, sizeof(*conf->checks));
	conf->n_checks = (size_t)n;
	for (size_t i = 0; i < (size_t)n; i++)
		check_init(&conf->checks[i]);
	conf_section_entries(ld, conf, s, (size_t)n, parse_check);
}

/* The names (or the groups) of the checks read so far, for "did you mean".
 * Linear: a group repeats, which changes no suggestion. Caller frees the
 * array only. */
const char **conf_check_names(const struct conf *conf, bool groups, size_t *n)
{
	const char **v = xcalloc(conf->n_checks + 1, sizeof(*v));

	*n = 0;
	for (size_t i = 0; i < conf->n_checks; i++) {
		const char *s = groups ? conf->checks[i].group : conf->checks[i].name;

		if (s != NULL && *s != '\0')
			v[(*n)++] = s;
	}
	return v;
}

/* A check named in a cycle, for the message. */
static char *cycle_text(const struct conf *conf, const size_t *stack, size_t from, size_t to)
{
	char *out = xstrdup("dependency cycle:");
	size_t len = to - from;

	for (size_t i = from; i <= to; i++) {
		/* A long cycle: its first five and last four checks. */
		const char *name = i == to ? conf->checks[stack[from]].name : conf->checks[stack[i]].name;
		char *next;

		if (len > 10 && i == from + 5) {
			next = xasprintf("%s -> ...", out);
			i = to - 5;
		} else {
			next = xasprintf("%s%s %s", out, i == from ? "" : " ->", name);
		}
		free(out);
		out = next;
	}
	return out;
}

/* After every check is read: each depends_on entry names another existing
 * check, and no chain of them loops. Each loop is found once by a depth-first
 * walk in file order and reported at the depends_on entry where it starts.
 * Iterative, so any number of checks is safe. */
void conf_resolve_dependencies(struct loader *ld, struct conf *conf)
{
	size_t n = conf->n_checks;
	size_t *to, *first, *stack, *cursor, *pos;
	unsigned char *color;
	const char **names;
	size_t nn;

	if (ld->n_deps == 0)
		return;
	to = xcalloc(ld->n_deps, sizeof(*to));
	first = xcalloc(n + 1, sizeof(*first));
	names = conf_check_names(conf, false, &nn);
	for (size_t k = 0; k < ld->n_deps; k++) {
		const struct dep_ref *d = &ld->deps[k];
		const struct check *target = conf_find_check(conf, d->name);
		const char *where = conf->checks[d->from].name;

		to[k] = SIZE_MAX;
		if (target == NULL) {
			const char *hint = conf_errors_full(ld) ? NULL : conf_closest(d->name, names, nn);

			conf_err(ld, d->s, "%s in check \"%s\" names an unknown check \"%s\"%s", conf_sname(ld, d->s),
			         where ? where : "?", d->name, conf_did_you_mean(ld, hint));
		} else if ((size_t)(target - conf->checks) == d->from) {
			conf_err(ld, d->s, "%s in check \"%s\" names the check itself", conf_sname(ld, d->s), where ? where : "?");
		} else {
			to[k] = (size_t)(target - conf->checks);
		}
	}
	free(names);
	/* Edges are grouped by check, in file order: first[i] .. first[i + 1]. */
	for (size_t k = 0; k < ld->n_deps; k++)
		first[ld->deps[k].from + 1]++;
	for (size_t i = 0; i < n; i++)
		first[i + 1] += first[i];

	color = xcalloc(n ? n : 1, 1);         /* 0 unseen, 1 on the path, 2 done */
	stack = xcalloc(n + 1, sizeof(*stack));      /* + 1: a cycle's closing check */
	cursor = xcalloc(n ? n : 1, sizeof(*cursor));
	pos = xcalloc(n ? n : 1, sizeof(*pos));
	for (size_t root = 0; root < n; root++) {
		size_t depth = 0;

		if (color[root] != 0)
			continue;
		stack[depth] = root;
		cursor[depth] = first[root];
		pos[root] = depth++;
		color[root] = 1;
		while (depth > 0) {
			size_t u = stack[depth - 1];
			size_t k = cursor[depth - 1];
			size_t v;

			if (k == first[u + 1]) {
				color[u] = 2;
				depth--;
				continue;
			}
			cursor[depth - 1]++;
			v = to[k];
			if (v == SIZE_MAX || color[v] == 2)
				continue;
			if (color[v] == 1) {
				/* The path from v to u, then back to v; v's frame took
				 * the edge that starts it (cursor - 1). */
				char *text;

				stack[depth] = v;
				text = cycle_text(conf, stack, pos[v], depth);
				conf_err(ld, ld->deps[cursor[pos[v]] - 1].s, "%s", text);
				free(text);
				continue;
			}
			stack[depth] = v;
			cursor[depth] = first[v];
			pos[v] = depth++;
			color[v] = 1;
		}
	}
	free(pos);
	free(cursor);
	free(stack);
	free(color);
	free(first);
	free(to);
}

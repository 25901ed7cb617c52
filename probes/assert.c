/* assert.c — the `expect` assertions of SPEC §2.1 (status, headers, body
 * text, regex and JSON paths, latency, certificate age). Each one records its
 * outcome with probe_result_assert() so that `pharos probe` can list them all,
 * and regexes run under limits so a catastrophic pattern cannot stall the loop. */
#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "probes/assert.h"
#include "probes/jsonpath.h"
#include "core/util.h"

/* Regex budget. PCRE2's match limit counts per start position, and even a
 * tame-looking "a*foo" is quadratic over a body of a's, so the limits alone
 * cannot bound a search: we try start positions ourselves and stop once the
 * whole search has run for ASSERT_REGEX_BUDGET_US. */
#define ASSERT_REGEX_MATCH_LIMIT 1000000u
#define ASSERT_REGEX_DEPTH_LIMIT 250000u
#define ASSERT_REGEX_HEAP_LIMIT_KIB 32768u
#define ASSERT_REGEX_BUDGET_US 100000u

/* Outcome of one regex search. */
enum assert_regex_rc { REGEX_NO_MATCH = 0, REGEX_MATCH = 1, REGEX_GAVE_UP = -1 };

/* Standard reason phrases for the status message ("HTTP 503 Service
 * Unavailable"); unknown codes print without one. */
static const char *assert_reason(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 101: return "Switching Protocols";
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 203: return "Non-Authoritative Information";
	case 204: return "No Content";
	case 205: return "Reset Content";
	case 206: return "Partial Content";
	case 300: return "Multiple Choices";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 303: return "See Other";
	case 304: return "Not Modified";
	case 307: return "Temporary Redirect";
	case 308: return "Permanent Redirect";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 402: return "Payment Required";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 406: return "Not Acceptable";
	case 407: return "Proxy Authentication Required";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 410: return "Gone";
	case 411: return "Length Required";
	case 412: return "Precondition Failed";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 415: return "Unsupported Media Type";
	case 416: return "Range Not Satisfiable";
	case 417: return "Expectation Failed";
	case 418: return "I'm a teapot";
	case 421: return "Misdirected Request";
	case 422: return "Unprocessable Content";
	case 425: return "Too Early";
	case 426: return "Upgrade Required";
	case 428: return "Precondition Required";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 451: return "Unavailable For Legal Reasons";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 505: return "HTTP Version Not Supported";
	case 507: return "Insufficient Storage";
	case 508: return "Loop Detected";
	case 511: return "Network Authentication Required";
	default: return NULL;
	}
}

/* "200, 300-399" from the configured ranges (or the default 200-399). */
static void assert_format_ranges(const struct check_expect *e, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	if (e->n_status == 0) {
		snprintf(buf, len, "200-399");
		return;
	}
	for (size_t i = 0; i < e->n_status && used < len; i++) {
		const struct status_range *s = &e->status[i];
		int n;

		if (s->lo == s->hi)
			n = snprintf(buf + used, len - used, "%s%d", i ? ", " : "", s->lo);
		else
			n = snprintf(buf + used, len - used, "%s%d-%d", i ? ", " : "", s->lo, s->hi);
		if (n < 0)
			break;
		used += (size_t)n;
	}
}

/* Records "status in [...]"; a failure also sets PROBE_ERR_HTTP_STATUS with
 * "HTTP 503 Service Unavailable (expected 200-399)" first, so the error class
 * says what went wrong rather than the generic "assertion". */
void assert_status(struct probe_result *r, const struct check_expect *e, int status)
{
	char ranges[64], what[sizeof(r->assertions[0].what)];
	const char *reason = assert_reason(status);
	bool ok = false;

	assert_format_ranges(e, ranges, sizeof(ranges));
	snprintf(what, sizeof(what), "status in [%s]", ranges);
	if (e->n_status == 0) {
		ok = status >= 200 && status <= 399;
	} else {
		for (size_t i = 0; i < e->n_status && !ok; i++)
			ok = status >= e->status[i].lo && status <= e->status[i].hi;
	}
	if (!ok)
		probe_result_fail(r, PROBE_ERR_HTTP_STATUS, "HTTP %d%s%s (expected %s)", status,
		                  reason ? " " : "", reason ? reason : "", ranges);
	probe_result_assert(r, ok, what, "got %d%s%s", status, reason ? " " : "",
	                    reason ? reason : "");
}

/* What PCRE2 knows about where a match of a pattern can start, so that the
 * search below skips positions the way PCRE2's own unanchored search does. */
struct start_filter {
	uint32_t all;               /* PCRE2_INFO_ALLOPTIONS */
	uint32_t minlen;            /* shortest subject a match needs */
	const uint8_t *bitmap;      /* first byte's possible values, or NULL */
	bool utf, startline, first_unit;
	int fcu_lo, fcu_hi;         /* both cases of an ASCII first code unit; -1: none */
};

static void start_filter_init(const pcre2_code *re, struct start_filter *f)
{
	uint32_t fct = 0, fcu = 0;

	memset(f, 0, sizeof(*f));
	pcre2_pattern_info(re, PCRE2_INFO_ALLOPTIONS, &f->all);
	pcre2_pattern_info(re, PCRE2_INFO_FIRSTCODETYPE, &fct);
	pcre2_pattern_info(re, PCRE2_INFO_MINLENGTH, &f->minlen);
	if (fct == 1)
		pcre2_pattern_info(re, PCRE2_INFO_FIRSTCODEUNIT, &fcu);
	else if (fct == 0)
		pcre2_pattern_info(re, PCRE2_INFO_FIRSTBITMAP, &f->bitmap);
	f->utf = (f->all & PCRE2_UTF) != 0;
	f->startline = fct == 2;
	f->first_unit = fct == 1;
	/* Either case of an ASCII first unit may start a match; a non-ASCII one
	 * is not used as a filter (its other case may be encoded differently). */
	f->fcu_lo = fcu < 0x80 ? (fcu >= 'A' && fcu <= 'Z' ? (int)fcu + 32 : (int)fcu) : -1;
	f->fcu_hi = fcu < 0x80 ? (fcu >= 'a' && fcu <= 'z' ? (int)fcu - 32 : (int)fcu) : -1;
}

/* True when no match can start at s[k] (k > 0) of s[0..len). */
static bool start_filter_skip(const struct start_filter *f, const char *s, size_t len, size_t k)
{
	unsigned char c = k < len ? (unsigned char)s[k] : 0;

	if (f->utf && k < len && (c & 0xC0) == 0x80)
		return true;    /* inside a UTF-8 character */
	if (f->startline) {
		unsigned char p = (unsigned char)s[k - 1];

		/* Any byte that can end a newline under any convention. */
		if (p != '\n' && p != '\r' && p != '\v' && p != '\f' && p != 0x85 &&
		    p != 0xA8 && p != 0xA9)
			return true;
	}
	if (k < len && f->first_unit && f->fcu_lo >= 0 && c != f->fcu_lo && c != f->fcu_hi)
		return true;
	return k < len && f->bitmap && !(f->bitmap[c >> 3] & (1u << (c & 7)));
}

/* Searches re in s[0..len) under the budget. Sets *where to the match start
 * or, when it gave up, to the offset reached. */
static enum assert_regex_rc assert_regex_search(const pcre2_code *re, const char *s, size_t len,
                                                size_t *where, const char **why)
{
	struct start_filter f;
	pcre2_match_context *mc = NULL;
	pcre2_match_data *md = NULL;
	enum assert_regex_rc rc = REGEX_NO_MATCH;
	uint64_t deadline = util_mono_us() + ASSERT_REGEX_BUDGET_US;
	uint32_t flags = 0;

	*where = 0;
	*why = "";
	if (re == NULL)
		return REGEX_NO_MATCH;
	/* s may be NULL for an empty body; PCRE2 wants a valid pointer. */
	if (s == NULL) {
		s = "";
		len = 0;
	}
	start_filter_init(re, &f);

	mc = pcre2_match_context_create(NULL);
	md = pcre2_match_data_create(1, NULL);
	if (mc == NULL || md == NULL) {
		rc = REGEX_GAVE_UP;
		*why = "out of memory";
		goto out;
	}
	pcre2_set_match_limit(mc, ASSERT_REGEX_MATCH_LIMIT);
	pcre2_set_depth_limit(mc, ASSERT_REGEX_DEPTH_LIMIT);
	pcre2_set_heap_limit(mc, ASSERT_REGEX_HEAP_LIMIT_KIB);

	/* Each start position is tried anchored against the whole subject, which
	 * is what an unanchored search does internally (lookbehinds still see the
	 * text before; only \G differs, and nobody asserts a body with it). The
	 * cheap filters below mirror PCRE2's own start-of-match optimisations. */
	for (size_t k = 0; k <= len; k++) {
		int m;

		if (k > 0 && ((f.all & PCRE2_ANCHORED) || len - k < f.minlen))
			break;
		if (k > 0 && start_filter_skip(&f, s, len, k))
			continue;
		m = pcre2_match(re, (PCRE2_SPTR)s, len, k, PCRE2_ANCHORED | flags, md, mc);
		if (m >= 0) {
			*where = pcre2_get_ovector_pointer(md)[0];
			rc = REGEX_MATCH;
			goto out;
		}
		if (m == PCRE2_ERROR_MATCHLIMIT || m == PCRE2_ERROR_DEPTHLIMIT ||
		    m == PCRE2_ERROR_HEAPLIMIT) {
			*where = k;
			*why = "the pattern backtracks too much";
			rc = REGEX_GAVE_UP;
			goto out;
		}
		if (m != PCRE2_ERROR_NOMATCH) {
			/* Invalid UTF-8 in the body (UTF patterns), or an internal error:
			 * no position can match then. */
			*where = k;
			*why = m <= PCRE2_ERROR_UTF8_ERR1 && m >= PCRE2_ERROR_UTF8_ERR21
			               ? "the body is not valid UTF-8"
			               : "the regex engine failed";
			rc = REGEX_GAVE_UP;
			goto out;
		}
		/* The subject was validated by the first call; checking it again at
		 * every position would make the search quadratic. Patterns that accept
		 * invalid UTF keep PCRE2's own handling. */
		if (f.utf && !(f.all & PCRE2_MATCH_INVALID_UTF))
			flags = PCRE2_NO_UTF_CHECK;
		if (util_mono_us() > deadline) {
			*where = k;
			*why = "the search took too long";
			rc = REGEX_GAVE_UP;
			goto out;
		}
	}
out:
	pcre2_match_data_free(md);
	pcre2_match_context_free(mc);
	return rc;
}

/* See assert.h. A search that gave up counts as no match. */
int assert_regex_match(const pcre2_code *re, const char *s, size_t len)
{
	size_t where;
	const char *why;

	return assert_regex_search(re, s, len, &where, &why) == REGEX_MATCH;
}

/* " (body truncated at N bytes)" when the body was cut at max_body, so a
 * failed search says it may be because of the cut. */
static const char *assert_trunc_note(int truncated, size_t len, char *buf, size_t buflen)
{
	if (!truncated)
		return "";
	snprintf(buf, buflen, " (body truncated at %zu bytes)", len);
	return buf;
}

/* The json[] assertions against one parsed document (doc NULL when the body
 * is not JSON: each then fails saying so). */
static void assert_json(struct probe_result *r, const struct check_expect *e, json_t *doc,
                        const char *parse_err)
{
	for (size_t i = 0; i < e->n_json; i++) {
		const struct json_expect *j = &e->json[i];
		char what[sizeof(r->assertions[0].what)], want[64], got[64], perr[96];
		json_t *v;

		if (j->equals) {
			jsonpath_describe(j->equals, want, sizeof(want));
			snprintf(what, sizeof(what), "json %s == %s%s%s", j->path ? j->path : "",
			         json_is_string(j->equals) ? "\"" : "", want,
			         json_is_string(j->equals) ? "\"" : "");
		} else {
			snprintf(what, sizeof(what), "json %s %s", j->path ? j->path : "",
			         j->exists ? "exists" : "absent");
		}
		if (doc == NULL) {
			probe_result_assert(r, false, what, "%s", parse_err);
			continue;
		}
		if (jsonpath_check(j->path, perr, sizeof(perr)) < 0) {
			probe_result_assert(r, false, what, "invalid path: %s", perr);
			continue;
		}
		v = jsonpath_get(doc, j->path);
		if (j->equals) {
			if (v == NULL) {
				probe_result_assert(r, false, what, "no value at %s", j->path);
			} else {
				bool ok = jsonpath_equals(v, j->equals);

				jsonpath_describe(v, got, sizeof(got));
				probe_result_assert(r, ok, what, "got %s%s%s", json_is_string(v) ? "\"" : "",
				                    got, json_is_string(v) ? "\"" : "");
			}
		} else if (j->exists) {
			if (v)
				jsonpath_describe(v, got, sizeof(got));
			probe_result_assert(r, v != NULL, what, v ? "found %s" : "no value at that path",
			                    v ? got : "");
		} else {
			if (v)
				jsonpath_describe(v, got, sizeof(got));
			probe_result_assert(r, v == NULL, what, v ? "present: %s" : "not present%s",
			                    v ? got : "");
		}
	}
}

/* body_contains, body_regex, json[] in that order (see assert.h). The body is
 * parsed as JSON only when a json assertion exists, and only once. */
void assert_body(struct probe_result *r, const struct check_expect *e,
                 const char *body, size_t len, int truncated)
{
	char what[sizeof(r->assertions[0].what)], note[48];
	const char *tn = assert_trunc_note(truncated, len, note, sizeof(note));

	if (body == NULL)
		len = 0;
	if (e->body_contains) {
		size_t nlen = strlen(e->body_contains);
		const char *hit = nlen == 0 ? body : (len ? memmem(body, len, e->body_contains, nlen) : NULL);

		snprintf(what, sizeof(what), "body_contains \"%s\"", e->body_contains);
		if (hit || nlen == 0)
			probe_result_assert(r, true, what, "found at byte %zu", hit ? (size_t)(hit - body) : 0);
		else
			probe_result_assert(r, false, what, "not found in %zu bytes%s", len, tn);
	}
	if (e->body_regex || e->body_re) {
		size_t where;
		const char *why;
		enum assert_regex_rc rc;

		snprintf(what, sizeof(what), "body_regex /%s/", e->body_regex ? e->body_regex : "");
		if (e->body_re == NULL) {
			probe_result_assert(r, false, what, "regex not compiled");
		} else {
			rc = assert_regex_search(e->body_re, body, len, &where, &why);
			if (rc == REGEX_MATCH)
				probe_result_assert(r, true, what, "matched at byte %zu", where);
			else if (rc == REGEX_NO_MATCH)
				probe_result_assert(r, false, what, "no match in %zu bytes%s", len, tn);
			else
				probe_result_assert(r, false, what, "gave up at byte %zu of %zu: %s", where,
				                    len, why);
		}
	}
	if (e->n_json > 0) {
		json_error_t jerr;
		char perr[320];
		/* Strict: one JSON value and nothing after it but whitespace. */
		json_t *doc = json_loadb(len ? body : "", len, JSON_DECODE_ANY, &jerr);

		if (doc == NULL)
			snprintf(perr, sizeof(perr), "response is not JSON: %s at line %d col %d%s",
			         jerr.text, jerr.line, jerr.column, tn);
		assert_json(r, e, doc, perr);
		json_decref(doc);
	}
}

/* Splits "Name: value" into the name's length and the trimmed value. Returns
 * 0, or -1 for a line without a colon. */
static int assert_split_header(const char *line, size_t *name_len, const char **value,
                               size_t *value_len)
{
	const char *colon = strchr(line, ':');
	const char *v, *end;

	if (colon == NULL)
		return -1;
	*name_len = (size_t)(colon - line);
	while (*name_len > 0 && (line[*name_len - 1] == ' ' || line[*name_len - 1] == '\t'))
		(*name_len)--;
	v = colon + 1;
	while (*v == ' ' || *v == '\t')
		v++;
	end = v + strlen(v);
	while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
		end--;
	*value = v;
	*value_len = (size_t)(end - v);
	return 0;
}

/* headers[]: passes when some header of that name (case-insensitive) has a
 * value the pattern matches (or, without a pattern, when it is present). */
void assert_headers(struct probe_result *r, const struct check_expect *e,
                    char *const *headers, size_t n_headers)
{
	for (size_t i = 0; i < e->n_headers; i++) {
		const struct header_expect *h = &e->headers[i];
		char what[sizeof(r->assertions[0].what)], got[96] = "";
		size_t want_len = h->name ? strlen(h->name) : 0;
		int seen = 0, ok = 0;

		if (h->pattern)
			snprintf(what, sizeof(what), "header %s ~ /%s/", h->name ? h->name : "", h->pattern);
		else
			snprintf(what, sizeof(what), "header %s present", h->name ? h->name : "");
		for (size_t k = 0; k < n_headers && !ok; k++) {
			size_t nlen, vlen;
			const char *v;

			if (headers[k] == NULL || assert_split_header(headers[k], &nlen, &v, &vlen) < 0)
				continue;
			if (nlen != want_len || strncasecmp(headers[k], h->name, nlen) != 0)
				continue;
			seen++;
			if (h->re == NULL)
				ok = h->pattern == NULL;
			else
				ok = assert_regex_match(h->re, v, vlen);
			if (!ok)
				snprintf(got, sizeof(got), "%.*s", (int)(vlen < 80 ? vlen : 80), v);
		}
		if (ok)
			probe_result_assert(r, true, what, "matched");
		else if (!seen)
			probe_result_assert(r, false, what, "header not present");
		else if (h->pattern && h->re == NULL)
			probe_result_assert(r, false, what, "regex not compiled");
		else
			probe_result_assert(r, false, what, "got \"%s\"", got);
	}
}

/* max_latency (when set) against the run's duration so far. */
void assert_max_latency(struct probe_result *r, const struct check_expect *e, int64_t elapsed_us)
{
	char what[sizeof(r->assertions[0].what)], lim[32];

	if (e->max_latency_ms == 0)
		return;
	util_format_duration(e->max_latency_ms, lim, sizeof(lim));
	snprintf(what, sizeof(what), "max_latency %s", lim);
	probe_result_assert(r, elapsed_us <= (int64_t)e->max_latency_ms * 1000, what,
	                    "took %lld ms", (long long)((elapsed_us + 500) / 1000));
}

/* cert_min_days (when set): the leaf certificate must be valid for at least
 * that many more whole days. No certificate (plain http) fails. */
void assert_cert_days(struct probe_result *r, const struct check_expect *e,
                      int64_t cert_expiry, int64_t now_s)
{
	char what[sizeof(r->assertions[0].what)], when[40];
	int64_t days;

	if (e->cert_min_days < 0)
		return;
	snprintf(what, sizeof(what), "cert_min_days %d", e->cert_min_days);
	if (cert_expiry <= 0) {
		probe_result_assert(r, false, what, "no certificate seen");
		return;
	}
	util_format_time(cert_expiry * 1000000, when, sizeof(when));
	if (cert_expiry <= now_s) {
		probe_result_assert(r, false, what, "certificate expired on %s", when);
		return;
	}
	days = (cert_expiry - now_s) / 86400;
	probe_result_assert(r, days >= e->cert_min_days, what, "expires in %lld days (%s)",
	                    (long long)days, when);
}

/* metrics_format.c — which exposition format a scraper asks for (its Accept
 * header) and the Content-Type that goes with it (SPEC §4; see metrics_format.h). */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "web/metrics_format.h"

/* Case-insensitive comparison of the n bytes at s with word (which has no
 * uppercase letters), and nothing after them. */
static bool token_is(const char *s, size_t n, const char *word)
{
	return strlen(word) == n && strncasecmp(s, word, n) == 0;
}

/* s[0..n) without leading and trailing spaces and tabs. */
static void trim(const char **s, size_t *n)
{
	while (*n > 0 && (**s == ' ' || **s == '\t')) {
		(*s)++;
		(*n)--;
	}
	while (*n > 0 && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
		(*n)--;
}

/* Parses one media range of an Accept header ("type/sub; k=v; q=0.5") of n
 * bytes. Sets *q (default 1, clamped to 0..1) and tells whether it names
 * OpenMetrics (with a version we speak), text, or neither. */
static void accept_entry(const char *s, size_t n, bool *om, bool *text, double *q)
{
	const char *semi = memchr(s, ';', n);
	size_t tn = semi != NULL ? (size_t)(semi - s) : n;
	const char *type = s;
	bool version_ok = true;

	*q = 1.0;
	trim(&type, &tn);
	while (semi != NULL) {
		const char *p = semi + 1;
		size_t rest = n - (size_t)(p - s);
		const char *eq;
		size_t pn, kn, vn;
		const char *k, *v;

		semi = memchr(p, ';', rest);
		pn = semi != NULL ? (size_t)(semi - p) : rest;
		eq = memchr(p, '=', pn);
		if (eq == NULL)
			continue;
		k = p;
		kn = (size_t)(eq - p);
		v = eq + 1;
		vn = pn - kn - 1;
		trim(&k, &kn);
		trim(&v, &vn);
		if (vn >= 2 && v[0] == '"' && v[vn - 1] == '"') {
			v++;
			vn -= 2;
		}
		if (token_is(k, kn, "q")) {
			char num[16];
			double d;

			if (vn >= sizeof(num))
				vn = sizeof(num) - 1;
			memcpy(num, v, vn);
			num[vn] = '\0';
			d = strtod(num, NULL);
			*q = d > 1 ? 1 : (d > 0 ? d : 0);   /* NaN too becomes 0 */
		} else if (token_is(k, kn, "version")) {
			version_ok = token_is(v, vn, "1.0.0") || token_is(v, vn, "0.0.1");
		}
	}
	*om = token_is(type, tn, "application/openmetrics-text") && version_ok;
	*text = token_is(type, tn, "text/plain") || token_is(type, tn, "text/*") ||
	        token_is(type, tn, "*/*");
}

/* See metrics.h. Prometheus sends
 * "application/openmetrics-text;version=1.0.0,application/openmetrics-text;
 * version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,* / *;q=0.1". */
enum metrics_format metrics_format_from_accept(const char *accept)
{
	double q_om = 0, q_text = 0;
	const char *p = accept;

	if (accept == NULL)
		return METRICS_TEXT;
	while (*p != '\0') {
		size_t n = strcspn(p, ",");
		bool om, text;
		double q;

		accept_entry(p, n, &om, &text, &q);
		if (om && q > q_om)
			q_om = q;
		if (text && q > q_text)
			q_text = q;
		p += n;
		if (*p == ',')
			p++;
	}
	return q_om > 0 && q_om >= q_text ? METRICS_OPENMETRICS : METRICS_TEXT;
}

/* See metrics.h. */
const char *metrics_content_type(enum metrics_format f)
{
	return f == METRICS_OPENMETRICS ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
	                                : "text/plain; version=0.0.4; charset=utf-8";
}

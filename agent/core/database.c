/* database.c — telling a SQLite path from a store URI by its scheme,
 * checking a PostgreSQL URI's form, and showing a URI without its password. */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "core/buf.h"
#include "core/database.h"
#include "core/util.h"

/* Length of the scheme that starts value (RFC 3986 letters) when "://"
 * follows it, else 0. */
static size_t scheme_length(const char *value)
{
	size_t n = 0;

	if (value == NULL || !isalpha((unsigned char)value[0]))
		return 0;
	while (isalnum((unsigned char)value[n]) || value[n] == '+' || value[n] == '-' ||
	       value[n] == '.')
		n++;
	return strncmp(value + n, "://", 3) == 0 ? n : 0;
}

enum database_kind database_kind(const char *value, char *scheme, size_t scheme_len)
{
	size_t n = scheme_length(value);
	char lower[32];

	if (scheme != NULL && scheme_len > 0)
		scheme[0] = '\0';
	if (n == 0)
		return DATABASE_SQLITE;
	if (n >= sizeof(lower))
		n = sizeof(lower) - 1;
	for (size_t i = 0; i < n; i++)
		lower[i] = (char)tolower((unsigned char)value[i]);
	lower[n] = '\0';
	if (scheme != NULL && scheme_len > 0)
		snprintf(scheme, scheme_len, "%s", lower);
	if (strcmp(lower, "postgresql") == 0 || strcmp(lower, "postgres") == 0)
		return DATABASE_POSTGRESQL;
	return DATABASE_UNKNOWN;
}

/* The authority of a URI value: [*start, *end) after "://" up to the first
 * '/', '?' or '#'. False when value is not a URI. */
static bool uri_authority(const char *value, size_t *start, size_t *end)
{
	size_t n = scheme_length(value);

	if (n == 0)
		return false;
	*start = n + 3;
	*end = *start + strcspn(value + *start, "/?#");
	return true;
}

/* The userinfo's password inside value: [*start, *end) between the first ':'
 * of the userinfo and the authority's last '@'. False when there is none. */
static bool uri_password(const char *value, size_t *start, size_t *end)
{
	size_t a, b, at = 0, colon = 0;
	bool has_at = false;

	if (!uri_authority(value, &a, &b))
		return false;
	for (size_t i = a; i < b; i++)
		if (value[i] == '@') {
			at = i;
			has_at = true;
		}
	if (!has_at)
		return false;
	for (colon = a; colon < at && value[colon] != ':'; colon++)
		;
	if (colon >= at)
		return false;
	*start = colon + 1;
	*end = at;
	return true;
}

/* Appends the query string q (after '?', up to '#' or the end) without its
 * password= parameters. */
static void add_query_without_password(struct buf *b, const char *q)
{
	bool first = true;

	while (*q != '\0' && *q != '#') {
		size_t n = strcspn(q, "&#");

		if (!(n >= 9 && strncmp(q, "password=", 9) == 0)) {
			buf_addc(b, first ? '?' : '&');
			buf_add(b, q, n);
			first = false;
		}
		q += n;
		if (*q == '&')
			q++;
	}
}

const char *database_display(const char *value, char *buf, size_t len)
{
	struct buf b = BUF_INIT;
	size_t ps, pe, a, e;
	const char *q;

	if (value == NULL)
		value = "";
	if (!uri_authority(value, &a, &e)) {
		util_strlcpy(buf, value, len);
		return buf;
	}
	if (uri_password(value, &ps, &pe)) {
		buf_add(&b, value, ps - 1);             /* up to the user name */
		buf_add(&b, value + pe, e - pe);        /* "@host:port" */
	} else {
		buf_add(&b, value, e);
	}
	q = value + e;
	buf_add(&b, q, strcspn(q, "?#"));           /* "/dbname" */
	q += strcspn(q, "?#");
	if (*q == '?')
		add_query_without_password(&b, q + 1);
	util_strlcpy(buf, b.p ? b.p : "", len);
	free(b.p);
	return buf;
}

/* True when the quoted text t (n bytes) may show some of value's password:
 * libpq quotes whole URI parts it cannot decode. */
static bool may_show_password(const char *value, const char *t, size_t n)
{
	size_t ps, pe;
	const char *p = strstr(value, "password=");

	if (n == 0)
		return false;
	if (uri_password(value, &ps, &pe) && pe > ps) {
		char *pw = xstrndup(value + ps, pe - ps);
		char *tt = xstrndup(t, n);
		bool hit = strstr(pw, tt) != NULL || strstr(tt, pw) != NULL;

		free(pw);
		free(tt);
		if (hit)
			return true;
	}
	return p != NULL;       /* a password parameter: hide every quoted part */
}

/* libpq's parse error for value, first line only, with any quoted part that
 * may hold the password replaced. */
static void parse_error_words(const char *value, const char *msg, char *buf, size_t len)
{
	struct buf b = BUF_INIT;
	const char *p = msg;

	while (*p != '\0' && *p != '\n') {
		const char *close;

		if (*p == '"' && (close = strchr(p + 1, '"')) != NULL &&
		    memchr(p, '\n', (size_t)(close - p)) == NULL) {
			if (may_show_password(value, p + 1, (size_t)(close - p - 1)))
				buf_adds(&b, "\"(hidden)\"");
			else
				buf_add(&b, p, (size_t)(close - p + 1));
			p = close + 1;
			continue;
		}
		buf_addc(&b, *p++);
	}
	util_strlcpy(buf, b.p ? b.p : "", len);
	free(b.p);
}

/* Whether every port of a libpq port list ("5432", "5432,5433", "") is a
 * number 1..65535: libpq parses any text and fails only at connect. */
static bool ports_valid(const char *ports)
{
	while (ports != NULL && *ports != '\0') {
		size_t n = strcspn(ports, ",");
		long v = 0;

		for (size_t i = 0; i < n; i++) {
			if (!isdigit((unsigned char)ports[i]) || v > 65535)
				return false;
			v = v * 10 + (ports[i] - '0');
		}
		if (n > 0 && (v < 1 || v > 65535))
			return false;
		ports += n;
		if (*ports == ',')
			ports++;
	}
	return true;
}

/* The value of option key in parsed options, or NULL. */
static const char *option_value(const PQconninfoOption *opts, const char *key)
{
	for (; opts->keyword != NULL; opts++)
		if (strcmp(opts->keyword, key) == 0)
			return opts->val;
	return NULL;
}

const char *database_unsupported(const char *value, char *buf, size_t len)
{
	char scheme[32], why[200];
	char *msg = NULL;
	PQconninfoOption *opts;

	switch (database_kind(value, scheme, sizeof(scheme))) {
	case DATABASE_SQLITE:
		return NULL;
	case DATABASE_POSTGRESQL:
		/* The form only: libpq's own parser, so what passes here is what
		 * the store's connect reads. */
		opts = PQconninfoParse(value, &msg);
		if (opts != NULL) {
			bool ok = ports_valid(option_value(opts, "port"));

			PQconninfoFree(opts);
			if (ok)
				return NULL;
			snprintf(buf, len, "not a valid PostgreSQL URI: the port must be a number"
			         " from 1 to 65535");
			return buf;
		}
		parse_error_words(value, msg ? msg : "out of memory", why, sizeof(why));
		PQfreemem(msg);
		snprintf(buf, len, "not a valid PostgreSQL URI: %s", why);
		return buf;
	case DATABASE_UNKNOWN:
		break;
	}
	snprintf(buf, len, "unknown database scheme \"%s://\": use a file path (SQLite) or a"
	         " postgresql:// URI", scheme);
	return buf;
}

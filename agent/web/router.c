/* router.c — request paths checked and decoded, route tables matched, bearer
 * tokens read (see router.h). Pure: fuzzed by tests/fuzz/fuzz_router.c. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "web/router.h"

/* The value of hex digit c, or -1. */
static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes one raw segment (n bytes, no '/') onto out + *o. Returns 0, -1 when
 * the decoded segment is not allowed, -2 when out is full. */
static int decode_segment(const char *seg, size_t n, char *out, size_t outlen, size_t *o)
{
	size_t start = *o;

	for (size_t i = 0; i < n; i++) {
		char c = seg[i];

		if (c == '%') {
			int hi, lo;

			if (i + 2 >= n)
				return -1;      /* fewer than two characters after '%' */
			hi = hex_value(seg[i + 1]);
			lo = hex_value(seg[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			c = (char)(hi << 4 | lo);
			i += 2;
		}
		/* A name never holds NUL or '/': either would let one check's name
		 * stand for another, or re-route the request. */
		if (c == '\0' || c == '/')
			return -1;
		if (*o + 1 >= outlen)
			return -2;
		out[(*o)++] = c;
	}
	if ((*o - start == 1 && out[start] == '.') ||
	    (*o - start == 2 && out[start] == '.' && out[start + 1] == '.'))
		return -1;
	return 0;
}

int router_clean_path(const char *raw, size_t raw_len, char *out, size_t outlen)
{
	size_t o = 0, i = 0;

	if (outlen == 0)
		return -2;
	if (raw_len == 0 || raw[0] != '/')
		return -1;
	while (i < raw_len) {
		const char *seg;
		size_t n;
		int rc;

		/* raw[i] is '/' here */
		if (o + 1 >= outlen)
			return -2;
		out[o++] = '/';
		seg = raw + i + 1;
		n = 0;
		while (i + 1 + n < raw_len && seg[n] != '/')
			n++;
		if (memchr(seg, '\0', n) != NULL)
			return -1;
		rc = decode_segment(seg, n, out, outlen, &o);
		if (rc != 0)
			return rc;
		i += 1 + n;
	}
	out[o] = '\0';
	return 0;
}

bool router_query_ok(const char *raw_query)
{
	if (raw_query == NULL)
		return true;
	for (const char *p = raw_query; (p = strchr(p, '%')) != NULL; p++)
		if (p[1] == '0' && p[2] == '0')
			return false;
	return true;
}

bool router_valid_name(const char *s, size_t len)
{
	if (len < 1 || len > API_NAME_MAX)
		return false;
	if ((len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.'))
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '-'))
			return false;
	}
	return true;
}

/* Matches path against pattern segment by segment. On a match, the "{name}"
 * segment (if any) is returned through *name / *name_len. */
static bool path_matches(const char *pattern, const char *path, const char **name, size_t *name_len)
{
	const char *p = pattern, *q = path;

	*name = NULL;
	*name_len = 0;
	while (*p != '\0' && *q != '\0') {
		if (strncmp(p, "{name}", 6) == 0) {
			size_t n = strcspn(q, "/");

			if (n == 0)
				return false;
			*name = q;
			*name_len = n;
			p += 6;
			q += n;
			continue;
		}
		if (*p != *q)
			return false;
		p++;
		q++;
	}
	return *p == '\0' && *q == '\0';
}

/* Appends m to the comma-separated allow list (no duplicates). */
static void allow_add(char *allow, size_t len, const char *m)
{
	char *dup = strstr(allow, m);

	if (dup != NULL && (dup[strlen(m)] == '\0' || dup[strlen(m)] == ','))
		return;
	if (allow[0] != '\0')
		strncat(allow, ", ", len - strlen(allow) - 1);
	strncat(allow, m, len - strlen(allow) - 1);
}

void router_match(const struct httpd_route *table, size_t n, const char *method,
                  const char *path, struct route_match *m)
{
	for (size_t i = 0; i < n; i++) {
		const char *name;
		size_t name_len;

		if (!path_matches(table[i].pattern, path, &name, &name_len))
			continue;
		m->path_found = true;
		allow_add(m->allow, sizeof(m->allow), table[i].method);
		if (strcmp(table[i].method, "GET") == 0)
			allow_add(m->allow, sizeof(m->allow), "HEAD");
		if (m->hit == NULL && strcmp(table[i].method, method) == 0) {
			m->hit = &table[i];
			m->name = name;
			m->name_len = name_len;
		}
	}
}


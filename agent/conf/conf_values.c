/* conf_values.c — reading one value of the config: typed getters (string
 * with substitution, integer, duration, boolean, regex, lists) that record
 * an error naming the setting, and validators for names, hosts, host:port
 * and http(s) URLs. */
#include <arpa/inet.h>
#include <ctype.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf/conf_parse.h"
#include "core/util.h"


/* A host name (letters, digits, '-', '_', '.'; labels of at most 63) or an
 * IPv4/IPv6 address without brackets. */
bool conf_valid_host(const char *s)
{
	unsigned char buf[sizeof(struct in6_addr)];
	size_t n = strlen(s), label = 0;

	if (strchr(s, ':') != NULL)
		return inet_pton(AF_INET6, s, buf) == 1;
	if (n == 0 || n > 253)
		return false;
	for (; *s; s++) {
		if (*s == '.') {
			if (label == 0)
				return false;
			label = 0;
			continue;
		}
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_')
			return false;
		if (++label > 63)
			return false;
	}
	return true;
}

/* Parses a decimal port 1-65535 from the whole of s. */
static int parse_port(const char *s, int *port)
{
	long v = 0;

	if (*s == '\0' || strlen(s) > 5)
		return -1;
	for (; *s; s++) {
		if (!isdigit((unsigned char)*s))
			return -1;
		v = v * 10 + (*s - '0');
	}
	if (v < 1 || v > 65535)
		return -1;
	*port = (int)v;
	return 0;
}

/* "host:port" or "[v6]:port" (port required) when need_port; otherwise also
 * a bare address. Only IP addresses when ip_only. Returns 0 or -1. */
int conf_parse_hostport(const char *s, bool need_port, bool ip_only)
{
	unsigned char buf[sizeof(struct in6_addr)];
	char host[256];
	const char *port = NULL;
	int p;

	if (*s == '[') {
		const char *end = strchr(s, ']');

		if (end == NULL || (size_t)(end - s - 1) >= sizeof(host))
			return -1;
		memcpy(host, s + 1, (size_t)(end - s - 1));
		host[end - s - 1] = '\0';
		if (inet_pton(AF_INET6, host, buf) != 1)
			return -1;
		if (end[1] == '\0')
			return need_port ? -1 : 0;
		if (end[1] != ':')
			return -1;
		return parse_port(end + 2, &p);
	}
	/* A bare IPv6 address has several colons and no port. */
	if (strchr(s, ':') != NULL && strchr(s, ':') != strrchr(s, ':'))
		return !need_port && inet_pton(AF_INET6, s, buf) == 1 ? 0 : -1;
	port = strchr(s, ':');
	if (port == NULL) {
		if (need_port || strlen(s) >= sizeof(host))
			return -1;
		util_strlcpy(host, s, sizeof(host));
	} else {
		if ((size_t)(port - s) >= sizeof(host))
			return -1;
		memcpy(host, s, (size_t)(port - s));
		host[port - s] = '\0';
		if (parse_port(port + 1, &p) < 0)
			return -1;
	}
	if (ip_only)
		return inet_pton(AF_INET, host, buf) == 1 ? 0 : -1;
	return conf_valid_host(host) ? 0 : -1;
}

/* Checks that url is an http:// or https:// URL curl can parse. Returns 0, or
 * -1 with *why set (a static string). Sets *https. */
int conf_check_http_url(const char *url, bool *https, const char **why)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL;
	CURLUcode rc;
	int ret = -1;

	if (u == NULL) {
		fputs("pharos: out of memory\n", stderr);
		abort();
	}
	if (strncasecmp(url, "http://", 7) != 0 && strncasecmp(url, "https://", 8) != 0) {
		*why = "it must start with http:// or https://";
		goto out;
	}
	rc = curl_url_set(u, CURLUPART_URL, url, 0);
	if (rc != CURLUE_OK) {
		*why = curl_url_strerror(rc);
		goto out;
	}
	if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || host == NULL || *host == '\0') {
		*why = "it has no host";
		goto out;
	}
	if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK || scheme == NULL) {
		*why = "it has no scheme";
		goto out;
	}
	*https = strcasecmp(scheme, "https") == 0;
	ret = 0;
out:
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return ret;
}

/* Records that the URL setting s is not valid (why), quoting the config's
 * text with a userinfo password as "***". */
void conf_err_url(struct loader *ld, const config_setting_t *s, const char *where, const char *why)
{
	char *shown = conf_url_hide_password(ld, config_setting_get_string(s));

	conf_err(ld, s, "%s in %s is not a valid URL: %s (got %s)", conf_sname(ld, s), where, why,
	         conf_quote(ld, conf_tmp(ld, shown)));
}

/* --- typed getters -------------------------------------------------------- */

/* The string value of s, substituted, or NULL after recording an error. */
char *conf_get_str(struct loader *ld, const config_setting_t *s, const char *where)
{
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		conf_err(ld, s, "%s in %s must be a string (got %s)", conf_sname(ld, s), where,
		         conf_type_desc(config_setting_type(s)));
		return NULL;
	}
	return conf_expand(ld, s, where);
}

int conf_get_duration(struct loader *ld, const config_setting_t *s, const char *where,
                      uint64_t min_ms, uint64_t *out)
{
	char *v = conf_get_str(ld, s, where);
	uint64_t ms;
	int rc = -1;

	if (v == NULL)
		return -1;
	if (util_parse_duration(v, &ms) < 0) {
		conf_err(ld, s, "%s in %s is not a duration: %s (write a whole number and a unit: \"250ms\", \"30s\", \"5m\", \"4h\", \"7d\")",
		         conf_sname(ld, s), where, conf_quote(ld, config_setting_get_string(s)));
		goto out;
	}
	if (ms < min_ms) {
		conf_err(ld, s, "%s in %s must be greater than 0", conf_sname(ld, s), where);
		goto out;
	}
	*out = ms;
	rc = 0;
out:
	free(v);
	return rc;
}

int conf_get_int(struct loader *ld, const config_setting_t *s, const char *where,
                 long long min, long long max, long long *out)
{
	int t = config_setting_type(s);
	long long v;

	if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64) {
		conf_err(ld, s, "%s in %s must be an integer from %lld to %lld (got %s)",
		         conf_sname(ld, s), where, min, max, conf_type_desc(t));
		return -1;
	}
	v = config_setting_get_int64(s);
	if (v < min || v > max) {
		conf_err(ld, s, "%s in %s must be from %lld to %lld (got %lld)", conf_sname(ld, s), where, min, max, v);
		return -1;
	}
	*out = v;
	return 0;
}

int conf_get_bool(struct loader *ld, const config_setting_t *s, const char *where, bool *out)
{
	if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
		conf_err(ld, s, "%s in %s must be true or false (got %s)", conf_sname(ld, s), where,
		         conf_type_desc(config_setting_type(s)));
		return -1;
	}
	*out = config_setting_get_bool(s) != 0;
	return 0;
}

/* A string regex compiled with PCRE2; error with PCRE2's message and offset. */
int conf_get_regex(struct loader *ld, const config_setting_t *s, const char *where,
                   char **src, pcre2_code **re)
{
	char *v = conf_get_str(ld, s, where);
	int code;
	PCRE2_SIZE off;
	pcre2_code *c;

	if (v == NULL)
		return -1;
	c = pcre2_compile((PCRE2_SPTR)v, PCRE2_ZERO_TERMINATED, 0, &code, &off, NULL);
	if (c == NULL) {
		PCRE2_UCHAR msg[256];

		pcre2_get_error_message(code, msg, sizeof(msg));
		conf_err(ld, s, "%s in %s is not a valid regular expression: %s at offset %zu",
		         conf_sname(ld, s), where, (const char *)msg, (size_t)off);
		free(v);
		return -1;
	}
	free(*src);
	pcre2_code_free(*re);
	*src = v;
	*re = c;
	return 0;
}

/* Settings that take several values also take a single one (status = 200
 * is status = [200]): the number of values of s, and value i. */
size_t conf_each(const config_setting_t *s)
{
	if (config_setting_is_array(s) || config_setting_is_list(s))
		return (size_t)config_setting_length(s);
	return 1;
}

const config_setting_t *conf_elem(const config_setting_t *s, size_t i)
{
	if (config_setting_is_array(s) || config_setting_is_list(s))
		return config_setting_get_elem(s, (unsigned)i);
	return s;
}

/* The number of values of s, a setting that takes one value or an array or
 * list of them; 0 after recording an error when s is a group ("must be
 * what") or an empty array or list ("must not be empty (if_empty)"). */
size_t conf_values(struct loader *ld, const config_setting_t *s, const char *where,
                   const char *what, const char *if_empty)
{
	size_t n = conf_each(s);

	if (config_setting_is_group(s)) {
		conf_err(ld, s, "%s in %s must be %s (got %s)", conf_sname(ld, s), where, what,
		         conf_type_desc(CONFIG_TYPE_GROUP));
		return 0;
	}
	if (n == 0)
		conf_err(ld, s, "%s in %s must not be empty (%s)", conf_sname(ld, s), where, if_empty);
	return n;
}

/* A list of strings into *v / *n. Each entry non-empty. */
int conf_get_strlist(struct loader *ld, const config_setting_t *s, const char *where,
                     char ***v, size_t *n)
{
	size_t len = conf_each(s);
	int rc = 0;

	if (config_setting_is_group(s)) {
		conf_err(ld, s, "%s in %s must be a string or an array of strings like [ \"a\", \"b\" ] (got %s)",
		         conf_sname(ld, s), where, conf_type_desc(CONFIG_TYPE_GROUP));
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		const config_setting_t *e = conf_elem(s, i);
		char *str = conf_get_str(ld, e, where);

		if (str == NULL) {
			rc = -1;
			continue;
		}
		if (*str == '\0') {
			conf_err(ld, e, "%s in %s must not be empty", conf_sname(ld, e), where);
			free(str);
			rc = -1;
			continue;
		}
		*v = xrealloc(*v, (*n + 1) * sizeof(**v));
		(*v)[(*n)++] = str;
	}
	return rc;
}

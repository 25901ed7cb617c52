/* conf.c — loads the configuration file (libconfig syntax) into a new struct
 * conf and validates every setting, collecting every error as "FILE:LINE:
 * message" so a user fixes a config in one pass, not one error at a time.
 *
 * This file is the loader's core: conf_load(), errors and warnings, the
 * walk of a group against its tables, "did you mean", the value readers,
 * the agent and defaults sections, and the public lookups. The rest is
 * split by concern (conf_internal.h holds what they share):
 *   conf_subst.c    ${env:NAME}, ${file:/path}, $${ and secret registration
 *   conf_checks.c   the checks: their tables and type-specific parsers,
 *                   steps, depends_on and its cycles, targets, fingerprints
 *   conf_alerts.c   notifiers, alert rules, maintenance windows, selectors
 *
 * Shape (STYLE rule 10): each context (agent, agent.retention, defaults, a
 * check, each check type, each type's expect, one expect.json entry, a step
 * of a multi-step http check, a rule, a notifier and each notifier type, a
 * maintenance window) has a table of the settings it knows: name, kind,
 * bounds, where the value goes. conf_apply() walks a group against its
 * tables: every setting present is checked for its kind and stored; every
 * name not in the tables is an error, with a "did you mean" hint, or a
 * clearer message when the setting belongs to another check or notifier
 * type, to the check rather than a step, or inside expect. Nothing is
 * silently ignored.
 *
 * Order of the sections (whatever their order in the file): agent, defaults,
 * checks (then depends_on is resolved: names exist, no cycle), notifiers,
 * alerts (selectors are checked against the checks, notify against the
 * notifiers), maintenance.
 *
 * A setting that takes a list also takes a single value: status = 200,
 * headers = "A: b", depends_on = "gateway", checks = "*", notify = "oncall".
 *
 * File settings (tls_cert, tls_key, ca_file, client_cert, client_key) must
 * be readable at load time; relative paths are relative to the working
 * directory, as for ${file:...}.
 *
 * "@include" is refused: an include could read any file (or a FIFO, and hang)
 * and its errors would point into another file; keep the config in one file. */
#include <arpa/inet.h>
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf/conf.h"
#include "conf/conf_internal.h"
#include "core/database.h"
#include "core/log.h"
#include "core/util.h"

#define CONF_FILE_MAX      (8u * 1024 * 1024)   /* the config file itself */
#define ERRORS_MAX         100                  /* then "too many errors" */
#define NAME_MAX_LEN       64

/* --- errors, warnings and messages ---------------------------------------- */

struct err_line {
	int line;
	char *msg;
	const config_setting_t *setting;    /* what it is about (NULL: none) */
};

/* First nonzero line of s or its enclosing groups (elements of arrays have
 * their own lines; the root has none). */
int conf_setting_line(const config_setting_t *s)
{
	while (s != NULL) {
		int line = (int)config_setting_source_line(s);

		if (line > 0)
			return line;
		s = config_setting_parent(s);
	}
	return 1;
}

static void err_line_add(struct loader *ld, int line, char *msg, const config_setting_t *s)
{
	if (ld->n_errs >= ERRORS_MAX) {
		ld->too_many = true;
		free(msg);
		return;
	}
	if (ld->n_errs == ld->cap_errs) {
		ld->cap_errs = ld->cap_errs ? ld->cap_errs * 2 : 16;
		ld->errs = xrealloc(ld->errs, ld->cap_errs * sizeof(*ld->errs));
	}
	ld->errs[ld->n_errs].line = line;
	ld->errs[ld->n_errs].msg = msg;
	ld->errs[ld->n_errs].setting = s;
	ld->n_errs++;
}

/* Records an error at the line of s. */
__attribute__((format(printf, 3, 4)))
void conf_err(struct loader *ld, const config_setting_t *s, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	if (msg == NULL) {
		fputs("pharos: out of memory\n", stderr);
		abort();
	}
	err_line_add(ld, conf_setting_line(s), msg, s);
}

/* Records a warning at the line of s: logged only when the load succeeds
 * (a config with errors is rejected, its errors say enough). */
__attribute__((format(printf, 3, 4)))
void conf_warn(struct loader *ld, const config_setting_t *s, const char *fmt, ...)
{
	va_list ap;
	char *msg, *line;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0) {
		fputs("pharos: out of memory\n", stderr);
		abort();
	}
	va_end(ap);
	line = xasprintf("%s:%d: warning: %s", ld->name, conf_setting_line(s), msg);
	free(msg);
	ld->warnings = xrealloc(ld->warnings, (ld->n_warnings + 1) * sizeof(*ld->warnings));
	ld->warnings[ld->n_warnings++] = line;
}

/* Whether an error was recorded about s itself (its value is not usable for
 * checks that combine settings: one mistake, one message). */
bool conf_had_error(const struct loader *ld, const config_setting_t *s)
{
	if (s == NULL)
		return false;
	for (size_t i = 0; i < ld->n_errs; i++)
		if (ld->errs[i].setting == s)
			return true;
	return false;
}

/* Keeps s until the load ends (for strings built only to be printed). */
const char *conf_tmp(struct loader *ld, char *s)
{
	ld->tmp = xrealloc(ld->tmp, (ld->n_tmp + 1) * sizeof(*ld->tmp));
	ld->tmp[ld->n_tmp++] = s;
	return s;
}

/* A quoted, printable, bounded form of a value from the config for a message:
 * control characters escaped (an error is always one line), cut at 80. */
const char *conf_quote(struct loader *ld, const char *s)
{
	size_t cap = 80, n = 0;
	char *out = xmalloc(cap * 4 + 8);
	char *p = out;

	*p++ = '"';
	for (; *s != '\0' && n < cap; s++, n++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\') {
			*p++ = '\\';
			*p++ = (char)ch;
		} else if (ch < 0x20 || ch == 0x7f) {
			p += sprintf(p, "\\x%02x", ch);
		} else {
			*p++ = (char)ch;
		}
	}
	if (*s != '\0') {
		memcpy(p, "...", 3);
		p += 3;
	}
	*p++ = '"';
	*p = '\0';
	return conf_tmp(ld, out);
}

/* --- small helpers -------------------------------------------------------- */

const char *conf_type_desc(int type)
{
	switch (type) {
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64: return "an integer";
	case CONFIG_TYPE_FLOAT: return "a number with a fraction";
	case CONFIG_TYPE_STRING: return "a string";
	case CONFIG_TYPE_BOOL: return "a boolean";
	case CONFIG_TYPE_GROUP: return "a group { ... }";
	case CONFIG_TYPE_ARRAY: return "an array [ ... ]";
	case CONFIG_TYPE_LIST: return "a list ( ... )";
	}
	return "nothing";
}

/* How to name s in a message: "port" or "status" entry 2. */
const char *conf_sname(struct loader *ld, const config_setting_t *s)
{
	const char *name = config_setting_name(s);
	const config_setting_t *parent;

	if (name != NULL)
		return conf_tmp(ld, xasprintf("\"%s\"", name));
	parent = config_setting_parent(s);
	if (parent != NULL && config_setting_name(parent) != NULL)
		return conf_tmp(ld, xasprintf("\"%s\" entry %d", config_setting_name(parent),
		                              config_setting_index(s) + 1));
	return "value";
}

static size_t levenshtein(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t row[NAME_MAX_LEN + 1];

	if (la > NAME_MAX_LEN || lb > NAME_MAX_LEN)
		return SIZE_MAX;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t cost = tolower((unsigned char)a[i - 1]) == tolower((unsigned char)b[j - 1]) ? 0 : 1;
			size_t best = diag + cost;

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

/* The closest candidate to word (case-insensitive equal, or at most 2 edits
 * and fewer edits than the word has characters), or NULL. */
const char *conf_closest(const char *word, const char *const *cands, size_t n)
{
	const char *best = NULL;
	size_t best_d = 3;

	for (size_t i = 0; i < n; i++) {
		size_t d = levenshtein(word, cands[i]);

		if (d < best_d && d < strlen(word)) {
			best = cands[i];
			best_d = d;
		}
	}
	return best;
}

/* " (did you mean \"hint\"?)" for the end of a message, or "" when hint
 * is NULL. */
const char *conf_did_you_mean(struct loader *ld, const char *hint)
{
	if (hint == NULL)
		return "";
	return conf_tmp(ld, xasprintf(" (did you mean \"%s\"?)", hint));
}

bool conf_valid_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > NAME_MAX_LEN)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '.' && *s != '-')
			return false;
	return true;
}

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

static int get_duration(struct loader *ld, const config_setting_t *s, const char *where,
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

static int get_bool(struct loader *ld, const config_setting_t *s, const char *where, bool *out)
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
static int get_regex(struct loader *ld, const config_setting_t *s, const char *where,
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

/* --- walking a group against its tables ----------------------------------- */

const struct def *conf_find_def(const struct def *defs, const char *name)
{
	for (; defs != NULL && defs->name != NULL; defs++)
		if (strcmp(defs->name, name) == 0)
			return defs;
	return NULL;
}

bool conf_in_list(const char *const *list, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i], name) == 0)
			return true;
	return false;
}

static const char *check_type_str(int t)
{
	return check_type_name((enum check_type)t);
}

/* The types other than type whose table in defs knows name, for a message:
 * "\"tcp\"", "\"tcp\" and \"tls\"", "\"http\", \"tcp\" and \"tls\"". NULL
 * when none. */
static const char *types_with(struct loader *ld, const struct def *const *defs, int n_types,
                              int type, const char *name, const char *(*type_str)(int))
{
	int found[CHECK_TYPE_COUNT];
	int n = 0;
	char *out = xstrdup("");

	for (int t = 0; t < n_types; t++)
		if (t != type && conf_find_def(defs[t], name) != NULL)
			found[n++] = t;
	for (int i = 0; i < n; i++) {
		char *next = xasprintf("%s%s\"%s\"", out, i == 0 ? "" : i == n - 1 ? " and " : ", ",
		                       type_str(found[i]));

		free(out);
		out = next;
	}
	conf_tmp(ld, out);
	return n > 0 ? out : NULL;
}

/* Records the error for the setting s whose name no table of this context
 * knows, with the most helpful explanation available. */
static void unknown_setting(struct loader *ld, const config_setting_t *s, const char *where,
                            const struct def *const *tables, enum scope scope, int type)
{
	const char *name = config_setting_name(s);
	const char *cands[64];
	const char *hint, *others;
	size_t n = 0;

	if (scope == SCOPE_STEP && conf_find_def(conf_check_defs, name) != NULL) {
		conf_err(ld, s, "setting \"%s\" in %s belongs to the check, not to one of its steps", name, where);
		return;
	}
	if (scope == SCOPE_CHECK || scope == SCOPE_EXPECT || scope == SCOPE_STEP) {
		others = types_with(ld, scope == SCOPE_EXPECT ? conf_expect_defs : conf_type_defs, CHECK_TYPE_COUNT,
		                    type, name, check_type_str);
		if (others != NULL) {
			conf_err(ld, s, "setting \"%s\" in %s does not apply to check type \"%s\" (it is a setting of %s checks)",
			         name, where, check_type_str(type), others);
			return;
		}
		if (scope == SCOPE_CHECK && conf_find_def(conf_step_defs, name) != NULL) {
			conf_err(ld, s, "setting \"%s\" in %s belongs inside a step of steps = ( ... )", name, where);
			return;
		}
		if (scope != SCOPE_EXPECT && conf_find_def(conf_expect_defs[type], name) != NULL) {
			conf_err(ld, s, "unknown setting \"%s\" in %s (did you mean to put it inside expect = { ... }?)",
			         name, where);
			return;
		}
	}
	if (scope == SCOPE_NOTIFIER) {
		others = conf_notifier_types_with(ld, type, name);
		if (others != NULL) {
			conf_err(ld, s, "setting \"%s\" in %s does not apply to notifier type \"%s\" (it is a setting of %s notifiers)",
			         name, where, notifier_types[type]->name, others);
			return;
		}
	}
	for (; *tables != NULL; tables++)
		for (const struct def *d = *tables; d->name != NULL && n < COUNT(cands); d++)
			cands[n++] = d->name;
	hint = conf_closest(name, cands, n);
	if (hint != NULL)
		conf_err(ld, s, "unknown setting \"%s\" in %s (did you mean \"%s\"?)", name, where, hint);
	else
		conf_err(ld, s, "unknown setting \"%s\" in %s", name, where);
}

/* Stores one known setting s according to its definition d. */
void conf_apply_one(struct loader *ld, const config_setting_t *s, const struct def *d,
                    void *base, const char *where)
{
	char *p = (char *)base + d->off;
	long long iv;

	switch (d->kind) {
	case K_SKIP:
		break;
	case K_STR: {
		char *v = conf_get_str(ld, s, where);

		if (v == NULL)
			break;
		if ((d->flags & F_NONEMPTY) && *v == '\0') {
			conf_err(ld, s, "%s in %s must not be empty", conf_sname(ld, s), where);
			free(v);
			break;
		}
		if (d->flags & F_SECRET)
			conf_secret_add(ld, v);
		if ((d->flags & F_FILE) && access(v, R_OK) < 0) {
			conf_err(ld, s, "%s in %s: cannot read %s: %s", conf_sname(ld, s), where,
			         conf_quote(ld, config_setting_get_string(s)), strerror(errno));
			free(v);
			break;
		}
		free(*(char **)p);
		*(char **)p = v;
		break;
	}
	case K_INT:
		if (conf_get_int(ld, s, where, d->min, d->max, &iv) == 0)
			*(int *)p = (int)iv;
		break;
	case K_BOOL:
		get_bool(ld, s, where, (bool *)p);
		break;
	case K_DURATION:
		get_duration(ld, s, where, (uint64_t)d->min, (uint64_t *)p);
		break;
	case K_REGEX:
		get_regex(ld, s, where, (char **)p, (pcre2_code **)((char *)base + d->off2));
		break;
	case K_STRLIST:
		if ((config_setting_is_array(s) || config_setting_is_list(s)) && config_setting_length(s) == 0) {
			conf_err(ld, s, "%s in %s must not be empty (leave it out instead)", conf_sname(ld, s), where);
			break;
		}
		conf_get_strlist(ld, s, where, (char ***)p, (size_t *)((char *)base + d->off2));
		break;
	case K_CUSTOM:
		d->parse(ld, s, base, where);
		break;
	}
}

/* Walks the group g against tables (NULL-terminated): every member is stored
 * or reported; every required setting that is missing is reported at the
 * line of g. When lenient, unknown names are not reported (the check's type
 * is invalid, so nobody can tell which names would be known). */
void conf_apply(struct loader *ld, const config_setting_t *g, const struct def *const *tables,
                void *base, const char *where, enum scope scope, int type, bool lenient)
{
	int n = config_setting_length(g);

	for (int i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
		const struct def *d = NULL;

		for (const struct def *const *t = tables; *t != NULL && d == NULL; t++)
			d = conf_find_def(*t, config_setting_name(s));
		if (d != NULL)
			conf_apply_one(ld, s, d, base, where);
		else if (!lenient)
			unknown_setting(ld, s, where, tables, scope, type);
	}
	for (const struct def *const *t = tables; *t != NULL; t++)
		for (const struct def *d = *t; d->name != NULL; d++)
			if ((d->flags & F_REQUIRED) && config_setting_get_member(g, d->name) == NULL)
				conf_err(ld, g, "missing required setting \"%s\" in %s%s%s%s", d->name, where,
				         d->hint ? " (" : "", d->hint ? d->hint : "", d->hint ? ")" : "");
}

/* A group setting or an error naming what was expected. */
bool conf_want_group(struct loader *ld, const config_setting_t *s, const char *where)
{
	if (config_setting_is_group(s))
		return true;
	conf_err(ld, s, "%s in %s must be a group { ... } (got %s)", conf_sname(ld, s), where,
	         conf_type_desc(config_setting_type(s)));
	return false;
}

/* The name of entry idx of a section whose entries are called what ("check",
 * "rule", "notifier"): required, [A-Za-z0-9_.-]{1,64}, unique among seen.
 * Returns it (a new string) or NULL after recording an error; sets *where to
 * how messages name the entry ("check \"api\"", else "check #3"). */
char *conf_read_name(struct loader *ld, const config_setting_t *g, const char *what, size_t idx,
                     struct name_seen *seen, size_t *n_seen, const char **where)
{
	const config_setting_t *ns = config_setting_get_member(g, "name");
	char *v;

	*where = conf_tmp(ld, xasprintf("%s #%zu", what, idx + 1));
	if (ns == NULL) {
		conf_err(ld, g, "missing required setting \"name\" in %s", *where);
		return NULL;
	}
	v = conf_get_str(ld, ns, *where);
	if (v != NULL && !conf_valid_name(v)) {
		conf_err(ld, ns, "\"name\" in %s must be 1 to 64 characters from A-Z a-z 0-9 _ . - (got %s)",
		    *where, conf_quote(ld, config_setting_get_string(ns)));
		free(v);
		v = NULL;
	}
	if (v == NULL)
		return NULL;
	*where = conf_tmp(ld, xasprintf("%s \"%s\"", what, v));
	for (size_t i = 0; i < *n_seen; i++) {
		if (strcmp(seen[i].name, v) == 0) {
			conf_err(ld, ns, "duplicate %s name \"%s\" (first defined on line %d)", what, v, seen[i].line);
			break;
		}
	}
	seen[*n_seen].name = v;
	seen[(*n_seen)++].line = conf_setting_line(ns);
	return v;
}

/* A section that is a list of groups: its length, or -1 after an error. */
int conf_section_list(struct loader *ld, const config_setting_t *s, const char *example)
{
	if (!config_setting_is_list(s)) {
		conf_err(ld, s, "\"%s\" must be a list of groups like ( %s ) (got %s)", config_setting_name(s), example,
		         conf_type_desc(config_setting_type(s)));
		return -1;
	}
	return config_setting_length(s);
}

/* Calls fn for each of the n entries of the section s, in file order, with
 * the names of the entries before it (for duplicates). */
void conf_section_entries(struct loader *ld, struct conf *conf, const config_setting_t *s, size_t n,
                          entry_fn *fn)
{
	struct name_seen *seen = xcalloc(n ? n : 1, sizeof(*seen));
	size_t n_seen = 0;

	for (size_t i = 0; i < n; i++)
		fn(ld, conf, config_setting_get_elem(s, (unsigned)i), i, seen, &n_seen);
	free(seen);
}

/* --- agent and defaults --------------------------------------------------- */

static parse_fn parse_listen, parse_database, parse_public_url, parse_log_format, parse_retention;

static const struct def agent_defs[] = {
	D_FN("listen", parse_listen, 0, NULL),
	D_FN("database", parse_database, 0, NULL),
	D_FN("public_url", parse_public_url, 0, NULL),
	D_STR("admin_token", struct conf_agent, admin_token, F_SECRET | F_NONEMPTY),
	D_FN("log_format", parse_log_format, 0, NULL),
	D_FN("retention", parse_retention, 0, NULL),
	D_STR("title", struct conf_agent, title, 0),
	D_STR("location", struct conf_agent, location, F_NONEMPTY),
	D_STR("tls_cert", struct conf_agent, tls_cert, F_NONEMPTY | F_FILE),
	D_STR("tls_key", struct conf_agent, tls_key, F_NONEMPTY | F_FILE),
	D_INT("threads", struct conf_agent, threads, 1, 256),
	D_INT("check_histograms_up_to", struct conf_agent, check_histograms_up_to, 0, 100000000),
	D_END
};

static const struct def retention_defs[] = {
	D_DUR("raw", struct conf_agent, retention_raw_ms, 1),
	D_DUR("rollups", struct conf_agent, retention_rollups_ms, 1),
	D_END
};

static const struct def defaults_defs[] = {
	D_DUR("interval", struct conf, default_interval_ms, 1),
	D_DUR("timeout", struct conf, default_timeout_ms, 1),
	D_END
};

static void parse_listen(struct loader *ld, const config_setting_t *s, void *base, const char *where)
{
	struct conf_agent *a = base;
	char *v = conf_get_str(ld, s, where);

	if (v == NULL)
		return;
	if (conf_parse_hostport(v, true, false) < 0) {
		conf_err(ld, s, "\"listen\" in %s must be \"host:port\" or \"[ipv6]:port\" with a port from 1 to 65535 (got %s)",
		         where, conf_quote(ld, config_setting_get_string(s)));
		free(v);
		return;
	}
	free(a->listen);
	a->listen = v;
}

/* A path (SQLite) or a store URI: a store this build does not have is a
 * config error here, at its line, rather than a failure at run. The message
 * never repeats the value (a URI may hold a password). */
static void parse_database(struct loader *ld, const config_setting_t *s, void *base, const char *where)
{
	struct conf_agent *a = base;
	char *v = conf_get_str(ld, s, where);
	char why[160];

	if (v == NULL)
		return;
	if (*v == '\0') {
		conf_err(ld, s, "%s in %s must not be empty", conf_sname(ld, s), where);
		free(v);
		return;
	}
	if (database_unsupported(v, why, sizeof(why)) != NULL) {
		conf_err(ld, s, "%s in %s: %s", conf_sname(ld, s), where, why);
		free(v);
		return;
	}
	free(a->database);
	a->database = v;
}

static void parse_public_url(struct loader *ld, const config_setting_t *s, void *base, const char *where)
{
	struct conf_agent *a = base;
	char *v = conf_get_str(ld, s, where);
	const char *why;
	bool https;
	size_t n;

	if (v == NULL)
		return;
	if (conf_check_http_url(v, &https, &why) < 0) {
		conf_err_url(ld, s, where, why);
		free(v);
		return;
	}
	/* Links are built as <public_url>/check/NAME: no double slash. */
	n = strlen(v);
	while (n > 0 && v[n - 1] == '/')
		v[--n] = '\0';
	free(a->public_url);
	a->public_url = v;
}

static void parse_log_format(struct loader *ld, const config_setting_t *s, void *base, const char *where)
{
	struct conf_agent *a = base;
	char *v = conf_get_str(ld, s, where);

	if (v == NULL)
		return;
	if (strcmp(v, "logfmt") == 0)
		a->log_format = LOG_FORMAT_LOGFMT;
	else if (strcmp(v, "json") == 0)
		a->log_format = LOG_FORMAT_JSON;
	else
		conf_err(ld, s, "\"log_format\" in %s must be \"logfmt\" or \"json\" (got %s)", where,
		         conf_quote(ld, config_setting_get_string(s)));
	free(v);
}

static void parse_retention(struct loader *ld, const config_setting_t *s, void *base, const char *where)
{
	static const struct def *const tables[] = { retention_defs, NULL };

	if (conf_want_group(ld, s, where))
		conf_apply(ld, s, tables, base, "agent.retention", SCOPE_PLAIN, 0, false);
}

static void agent_defaults(struct conf_agent *a)
{
	char host[256];

	a->listen = xstrdup("127.0.0.1:9470");
	a->database = xstrdup("/var/lib/pharos/pharos.db");
	a->log_format = LOG_FORMAT_LOGFMT;
	a->retention_raw_ms = 14ull * 24 * 3600 * 1000;
	a->retention_rollups_ms = 400ull * 24 * 3600 * 1000;
	a->title = xstrdup("pharos status");
	a->check_histograms_up_to = 10000;
	if (gethostname(host, sizeof(host)) < 0 || host[0] == '\0')
		util_strlcpy(host, "localhost", sizeof(host));
	host[sizeof(host) - 1] = '\0';
	a->location = xstrdup(host);
}

static void parse_agent(struct loader *ld, struct conf *conf, const config_setting_t *s)
{
	static const struct def *const tables[] = { agent_defs, NULL };
	struct conf_agent *a = &conf->agent;
	const config_setting_t *cert, *key;

	if (s != NULL && conf_want_group(ld, s, "the configuration"))
		conf_apply(ld, s, tables, a, "agent", SCOPE_PLAIN, 0, false);
	if (a->public_url == NULL)     /* the listener speaks HTTPS when tls_cert is set */
		a->public_url = xasprintf("%s://%s", a->tls_cert != NULL ? "https" : "http", a->listen);
	if (s == NULL)
		return;
	cert = config_setting_get_member(s, "tls_cert");
	key = config_setting_get_member(s, "tls_key");
	if (cert != NULL && key == NULL)
		conf_err(ld, cert, "\"tls_cert\" in agent needs \"tls_key\" too");
	if (key != NULL && cert == NULL)
		conf_err(ld, key, "\"tls_key\" in agent needs \"tls_cert\" too");
}

static void parse_defaults(struct loader *ld, struct conf *conf, const config_setting_t *s)
{
	static const struct def *const tables[] = { defaults_defs, NULL };
	const config_setting_t *to;

	if (s == NULL || !conf_want_group(ld, s, "the configuration"))
		return;
	conf_apply(ld, s, tables, conf, "defaults", SCOPE_PLAIN, 0, false);
	to = config_setting_get_member(s, "timeout");
	if (!conf_had_error(ld, to) && !conf_had_error(ld, config_setting_get_member(s, "interval")) &&
	    conf->default_timeout_ms > conf->default_interval_ms) {
		char a[32], b[32];

		util_format_duration(conf->default_timeout_ms, a, sizeof(a));
		util_format_duration(conf->default_interval_ms, b, sizeof(b));
		conf_err(ld, to ? to : s, "timeout \"%s\" is longer than interval \"%s\" in defaults (a run must end before the next one starts)",
		         a, b);
	}
}

/* --- one load ------------------------------------------------------------- */

static const char *const sections[] = { "agent", "defaults", "checks", "alerts", "notifiers", "maintenance" };

static void conf_free(struct conf *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->n_checks; i++)
		check_clear(&c->checks[i]);
	free(c->checks);
	for (size_t i = 0; i < c->n_rules; i++)
		alert_rule_clear(&c->rules[i]);
	free(c->rules);
	for (size_t i = 0; i < c->n_notifiers; i++)
		notifier_conf_clear(&c->notifiers[i]);
	free(c->notifiers);
	for (size_t i = 0; i < c->n_maintenance; i++)
		maintenance_window_clear(&c->maintenance[i]);
	free(c->maintenance);
	free(c->agent.listen);
	free(c->agent.database);
	free(c->agent.public_url);
	free(c->agent.admin_token);
	free(c->agent.title);
	free(c->agent.location);
	free(c->agent.tls_cert);
	free(c->agent.tls_key);
	free(c->path);
	free(c);
}

/* Every root setting: the known sections, or an error. Order matters:
 * rules and maintenance windows select checks, rules name notifiers. */
static void parse_root(struct loader *ld, struct conf *conf, const config_setting_t *root)
{
	int n = config_setting_length(root);

	for (int i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(root, (unsigned)i);
		const char *name = config_setting_name(s);
		const char *hint;

		if (conf_in_list(sections, COUNT(sections), name))
			continue;
		hint = conf_closest(name, sections, COUNT(sections));
		if (hint != NULL)
			conf_err(ld, s, "unknown section \"%s\" (did you mean \"%s\"?)", name, hint);
		else
			conf_err(ld, s, "unknown section \"%s\" (known: agent, defaults, checks, alerts, notifiers, maintenance)", name);
	}
	parse_agent(ld, conf, config_setting_get_member(root, "agent"));
	parse_defaults(ld, conf, config_setting_get_member(root, "defaults"));
	conf_parse_checks(ld, conf, config_setting_get_member(root, "checks"));
	conf_resolve_dependencies(ld, conf);
	conf_parse_notifiers(ld, conf, config_setting_get_member(root, "notifiers"));
	conf_parse_rules(ld, conf, config_setting_get_member(root, "alerts"));
	conf_parse_maintenance(ld, conf, config_setting_get_member(root, "maintenance"));
}

/* Replaces every secret of this load in msg by "***" (longest first, so a
 * secret containing another is masked whole). Short secrets are masked too
 * when they are at least 4 characters, like the log does. */
static char *mask(struct loader *ld, char *msg)
{
	for (size_t i = 0; i < ld->n_secrets; i++) {
		const char *sec = ld->secrets[i];
		size_t sl = strlen(sec);
		char *hit;

		if (sl < 4)
			continue;
		while ((hit = strstr(msg, sec)) != NULL) {
			char *next = xasprintf("%.*s***%s", (int)(hit - msg), msg, hit + sl);

			free(msg);
			msg = next;
		}
	}
	return msg;
}

static int cmp_secret_len(const void *a, const void *b)
{
	size_t la = strlen(*(char *const *)a), lb = strlen(*(char *const *)b);

	return la < lb ? 1 : la > lb ? -1 : 0;
}

static int cmp_err(const void *a, const void *b)
{
	const struct err_line *x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	/* Same line: keep the order found (msg pointers do not say it; the
	 * caller's stable pass below does). */
	return 0;
}

/* Appends line (a new string, now owned by errs) to errs. */
static void errs_add(struct conf_errors *errs, char *line)
{
	errs->lines = xrealloc(errs->lines, (errs->n + 1) * sizeof(*errs->lines));
	errs->lines[errs->n++] = line;
}

/* Hands the loader's errors to errs, sorted by line (stable), masked. */
static void flush_errors(struct loader *ld, struct conf_errors *errs)
{
	if (ld->n_secrets > 1)
		qsort(ld->secrets, ld->n_secrets, sizeof(*ld->secrets), cmp_secret_len);
	/* Insertion sort: stable, and error lists are short (at most 100). */
	for (size_t i = 1; i < ld->n_errs; i++) {
		struct err_line e = ld->errs[i];
		size_t j = i;

		while (j > 0 && cmp_err(&ld->errs[j - 1], &e) > 0) {
			ld->errs[j] = ld->errs[j - 1];
			j--;
		}
		ld->errs[j] = e;
	}
	for (size_t i = 0; i < ld->n_errs; i++) {
		char *line = mask(ld, xasprintf("%s:%d: %s", ld->name, ld->errs[i].line, ld->errs[i].msg));

		errs_add(errs, line);
		free(ld->errs[i].msg);
	}
	if (ld->too_many) {
		errs_add(errs, xasprintf("%s: too many errors, only the first %d are shown",
		                         ld->name, ERRORS_MAX));
	}
	free(ld->errs);
	ld->errs = NULL;
	ld->n_errs = 0;
}

static void loader_free(struct loader *ld)
{
	for (size_t i = 0; i < ld->n_secrets; i++)
		free(ld->secrets[i]);
	free(ld->secrets);
	for (size_t i = 0; i < ld->n_tmp; i++)
		free(ld->tmp[i]);
	free(ld->tmp);
	for (size_t i = 0; i < ld->n_errs; i++)
		free(ld->errs[i].msg);
	free(ld->errs);
	for (size_t i = 0; i < ld->n_warnings; i++)
		free(ld->warnings[i]);
	free(ld->warnings);
	free(ld->deps);
	conf_free_vars(ld);
}

/* The line of the first "@include" directive in text, or 0. */
static int find_include(const char *text)
{
	int line = 1;

	for (const char *p = text; *p != '\0'; line++) {
		p += strspn(p, " \t");
		if (strncmp(p, "@include", 8) == 0)
			return line;
		p = strchr(p, '\n');
		if (p == NULL)
			break;
		p++;
	}
	return 0;
}

/* libconfig's "syntax error" says little; say where to look. */
static const char *syntax_hint(const char *text)
{
	if (text != NULL && strcmp(text, "syntax error") == 0)
		return " (look for a missing \";\", \"=\", quote or closing bracket here or on the line before)";
	if (text != NULL && strcmp(text, "mismatched element type in array") == 0)
		return " (an array [ ... ] holds values of one type; use a list ( ... ) to mix them, like ( 200, \"3xx\" ))";
	return "";
}

static struct conf *load_text(const char *text, const char *name, struct conf_errors *errs)
{
	struct loader ld = { 0 };
	struct conf *conf = NULL;
	config_t cfg;
	int inc;

	ld.name = name;
	config_init(&cfg);
	inc = find_include(text);
	if (inc > 0) {
		err_line_add(&ld, inc, xstrdup("@include is not supported by this version of pharos yet (keep the configuration in one file)"), NULL);
		goto out;
	}
	if (config_read_string(&cfg, text) != CONFIG_TRUE) {
		const char *t = config_error_text(&cfg);

		err_line_add(&ld, config_error_line(&cfg) > 0 ? config_error_line(&cfg) : 1,
		             xasprintf("%s%s", t ? t : "syntax error", syntax_hint(t)), NULL);
		goto out;
	}
	conf = xcalloc(1, sizeof(*conf));
	conf->path = xstrdup(name);
	conf->refs = 1;
	conf->default_interval_ms = 30000;
	conf->default_timeout_ms = 10000;
	agent_defaults(&conf->agent);
	ld.conf = conf;
	parse_root(&ld, conf, config_root_setting(&cfg));
out:
	config_destroy(&cfg);
	if (ld.n_errs > 0 || ld.too_many) {
		conf_free(conf);
		conf = NULL;
		flush_errors(&ld, errs);
	} else {
		for (size_t i = 0; i < ld.n_warnings; i++)
			log_warn(ld.warnings[i]);
	}
	loader_free(&ld);
	return conf;
}

/* --- public --------------------------------------------------------------- */

struct conf *conf_load_string(const char *text, const char *name, struct conf_errors *errs)
{
	return load_text(text ? text : "", name ? name : "config", errs);
}

struct conf *conf_load(const char *path, struct conf_errors *errs)
{
	struct conf *conf = NULL;
	char *data = NULL;
	size_t len = 0;
	struct stat st;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		errs_add(errs, xasprintf("%s: cannot open the configuration: %s", path, strerror(errno)));
		return NULL;
	}
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		errs_add(errs, xasprintf("%s: cannot read the configuration: it is a directory", path));
		goto out;
	}
	data = xmalloc(CONF_FILE_MAX + 2);
	for (;;) {
		ssize_t r = read(fd, data + len, CONF_FILE_MAX + 1 - len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			errs_add(errs, xasprintf("%s: cannot read the configuration: %s", path, strerror(errno)));
			goto out;
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (len > CONF_FILE_MAX) {
			errs_add(errs, xasprintf("%s: the configuration is larger than 8 MiB", path));
			goto out;
		}
	}
	data[len] = '\0';
	if (memchr(data, '\0', len) != NULL) {
		int line = 1;

		for (const char *p = data; *p; p++)
			line += *p == '\n';
		errs_add(errs, xasprintf("%s:%d: the configuration contains a NUL byte (is it a text file?)", path, line));
		goto out;
	}
	conf = load_text(data, path, errs);
out:
	free(data);
	close(fd);
	return conf;
}

void conf_errors_free(struct conf_errors *errs)
{
	if (errs == NULL)
		return;
	for (size_t i = 0; i < errs->n; i++)
		free(errs->lines[i]);
	free(errs->lines);
	errs->lines = NULL;
	errs->n = 0;
}

/* Atomic: the loop thread and the HTTP threads take and drop references. */
struct conf *conf_ref(struct conf *c)
{
	if (c != NULL)
		__atomic_add_fetch(&c->refs, 1, __ATOMIC_ACQ_REL);
	return c;
}

void conf_unref(struct conf *c)
{
	if (c != NULL && __atomic_sub_fetch(&c->refs, 1, __ATOMIC_ACQ_REL) == 0)
		conf_free(c);
}

/* Linear: configs hold tens of checks, and lookups are per request. */
const struct check *conf_find_check(const struct conf *c, const char *name)
{
	if (c == NULL || name == NULL)
		return NULL;
	for (size_t i = 0; i < c->n_checks; i++)
		if (c->checks[i].name != NULL && strcmp(c->checks[i].name, name) == 0)
			return &c->checks[i];
	return NULL;
}

const struct alert_rule *conf_find_rule(const struct conf *c, const char *name)
{
	if (c == NULL || name == NULL)
		return NULL;
	for (size_t i = 0; i < c->n_rules; i++)
		if (c->rules[i].name != NULL && strcmp(c->rules[i].name, name) == 0)
			return &c->rules[i];
	return NULL;
}

const struct notifier_conf *conf_find_notifier(const struct conf *c, const char *name)
{
	if (c == NULL || name == NULL)
		return NULL;
	for (size_t i = 0; i < c->n_notifiers; i++)
		if (c->notifiers[i].name != NULL && strcmp(c->notifiers[i].name, name) == 0)
			return &c->notifiers[i];
	return NULL;
}

/* "*" and globs by fnmatch(3) on the name (names hold no '/', so no flag
 * matters); "group:NAME" exactly on the group; anything else exactly on the
 * name. A check without a name (only in a config being rejected) matches
 * nothing. */
bool conf_selector_matches(const char *selector, const struct check *c)
{
	if (selector == NULL || c == NULL || c->name == NULL)
		return false;
	if (strncmp(selector, "group:", 6) == 0)
		return c->group != NULL && strcmp(c->group, selector + 6) == 0;
	if (strpbrk(selector, "*?[") != NULL)
		return fnmatch(selector, c->name, 0) == 0;
	return strcmp(selector, c->name) == 0;
}

const char *conf_default_path(const char *opt_path)
{
	const char *env;

	if (opt_path != NULL && *opt_path != '\0')
		return opt_path;
	env = getenv("PHAROS_CONFIG");
	if (env != NULL && *env != '\0')
		return env;
	return CONF_DEFAULT_PATH;
}

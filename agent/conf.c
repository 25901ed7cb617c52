/* conf.c — loads the configuration file (libconfig syntax) into a new struct
 * conf and validates every setting, collecting every error as "FILE:LINE:
 * message" so a user fixes a config in one pass, not one error at a time.
 *
 * Shape (STYLE rule 10): each context (agent, agent.retention, defaults, a
 * check, each check type, each type's expect, one expect.json entry) has a
 * table of the settings it knows: name, kind, bounds, where the value goes.
 * apply() walks a group against its tables: every setting present is checked
 * for its kind and stored; every name not in the tables is an error, with a
 * "did you mean" hint, or a clearer message when the setting belongs to
 * another check type or to a part of the SPEC not built yet. Nothing is
 * silently ignored.
 *
 * String values (every one, wherever it is) may contain substitutions:
 *   ${env:NAME}     the environment variable NAME (missing: error)
 *   ${file:/path}   the file's contents, one trailing newline stripped
 *                   (missing, unreadable, not a regular file or larger than
 *                   64 KiB: error); a relative path is relative to the
 *                   working directory
 *   $${             a literal "${" (the only escape; a lone "$" is literal)
 * Substituted text is taken as is: it is not scanned for further ${...}.
 * Every substituted value is a secret (log_secret_add); so are admin_token,
 * basic_auth.password, a password in a URL and the value of any request
 * header whose name contains auth, token, key, secret or cookie. Error
 * messages quote the config's own text (before substitution), never secret
 * settings, and every error line is masked against the secrets once more
 * before it is handed out.
 *
 * Forms the SPEC's example does not show:
 *   max_body = 65536 | "65536" | "512KiB" | "1MiB" | "1GiB" (binary units,
 *              1 byte to 1 GiB; default 1 MiB)
 *   basic_auth = { user = "bob"; password = "${env:PW}"; };
 *   expect.headers = [ "Content-Type: ^application/json" ]   (name: PCRE2)
 *   expect.status = ( 200, "2xx", "300-302" )   (a list may mix types; an
 *              array [ ] may not — libconfig's rule)
 *   a single value where a list is expected: status = 200, headers = "A: b"
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
#include <libconfig.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "jsonpath.h"
#include "log.h"
#include "util.h"

#define CONF_FILE_MAX      (8u * 1024 * 1024)   /* the config file itself */
#define SUBST_FILE_MAX     (64u * 1024)         /* one ${file:...} */
#define SUBST_VALUE_MAX    (1024u * 1024)       /* one string after substitution */
#define ERRORS_MAX         100                  /* then "too many errors" */
#define MAX_BODY_LIMIT     (1024ull * 1024 * 1024)
#define NAME_MAX_LEN       64

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* --- the loader: state of one conf_load ---------------------------------- */

struct err_line {
	int line;
	char *msg;
	const config_setting_t *setting;    /* what it is about (NULL: none) */
};

struct loader {
	const char *name;           /* what error lines start with */
	struct err_line *errs;
	size_t n_errs, cap_errs;
	bool too_many;
	char **secrets;             /* every secret seen; errors are masked against them */
	size_t n_secrets;
	char **tmp;                 /* strings built for messages, freed at the end */
	size_t n_tmp;
};

/* First nonzero line of s or its enclosing groups (elements of arrays have
 * their own lines; the root has none). */
static int setting_line(const config_setting_t *s)
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
static void err(struct loader *ld, const config_setting_t *s, const char *fmt, ...)
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
	err_line_add(ld, setting_line(s), msg, s);
}

/* Whether an error was recorded about s itself (its value is not usable for
 * checks that combine settings: one mistake, one message). */
static bool had_error(const struct loader *ld, const config_setting_t *s)
{
	if (s == NULL)
		return false;
	for (size_t i = 0; i < ld->n_errs; i++)
		if (ld->errs[i].setting == s)
			return true;
	return false;
}

/* Keeps s until the load ends (for strings built only to be printed). */
static const char *tmp(struct loader *ld, char *s)
{
	ld->tmp = xrealloc(ld->tmp, (ld->n_tmp + 1) * sizeof(*ld->tmp));
	ld->tmp[ld->n_tmp++] = s;
	return s;
}

/* Registers a secret: for the log, and to mask this load's error lines. */
static void secret_add(struct loader *ld, const char *s)
{
	if (s == NULL || *s == '\0')
		return;
	log_secret_add(s);
	ld->secrets = xrealloc(ld->secrets, (ld->n_secrets + 1) * sizeof(*ld->secrets));
	ld->secrets[ld->n_secrets++] = xstrdup(s);
}

/* A quoted, printable, bounded form of a value from the config for a message:
 * control characters escaped (an error is always one line), cut at 80. */
static const char *quote(struct loader *ld, const char *s)
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
	return tmp(ld, out);
}

/* --- small helpers -------------------------------------------------------- */

static const char *type_desc(int type)
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
static const char *sname(struct loader *ld, const config_setting_t *s)
{
	const char *name = config_setting_name(s);
	const config_setting_t *parent;

	if (name != NULL)
		return tmp(ld, xasprintf("\"%s\"", name));
	parent = config_setting_parent(s);
	if (parent != NULL && config_setting_name(parent) != NULL)
		return tmp(ld, xasprintf("\"%s\" entry %d", config_setting_name(parent),
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
static const char *closest(const char *word, const char *const *cands, size_t n)
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

static bool valid_name(const char *s)
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
static bool valid_host(const char *s)
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
static int parse_hostport(const char *s, bool need_port, bool ip_only)
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
	return valid_host(host) ? 0 : -1;
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

/* Registers the password of a URL's userinfo as a secret and returns a copy
 * of url with it replaced by "***" (the text is kept as the user wrote it). */
static char *url_hide_password(struct loader *ld, const char *url)
{
	const char *auth = strstr(url, "://");
	const char *end, *at = NULL, *colon = NULL;
	char *pass, *out;

	if (auth == NULL)
		return xstrdup(url);
	auth += 3;
	end = auth + strcspn(auth, "/?#");
	for (const char *p = auth; p < end; p++)
		if (*p == '@')
			at = p;
	if (at == NULL)
		return xstrdup(url);
	colon = memchr(auth, ':', (size_t)(at - auth));
	if (colon == NULL || colon + 1 == at)
		return xstrdup(url);
	pass = xstrndup(colon + 1, (size_t)(at - colon - 1));
	if (ld != NULL)
		secret_add(ld, pass);
	free(pass);
	out = xasprintf("%.*s***%s", (int)(colon + 1 - url), url, at);
	return out;
}

/* --- substitution: ${env:NAME}, ${file:/path}, $${ ------------------------ */

struct buf {
	char *p;
	size_t len, cap;
};

static int buf_add(struct buf *b, const char *s, size_t n)
{
	if (b->len + n > SUBST_VALUE_MAX)
		return -1;
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->p = xrealloc(b->p, b->cap);
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

/* Reads a ${file:...} file. Returns a new string or NULL with *why set. */
static char *read_subst_file(const char *path, const char **why)
{
	struct stat st;
	char *data = NULL;
	size_t len = 0;
	int fd;

	/* O_NONBLOCK: a FIFO must not hang the load; it is refused below. */
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		*why = strerror(errno);
		return NULL;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		*why = "not a regular file";
		goto out;
	}
	data = xmalloc(SUBST_FILE_MAX + 2);
	while (len <= SUBST_FILE_MAX) {
		ssize_t r = read(fd, data + len, SUBST_FILE_MAX + 1 - len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			*why = strerror(errno);
			goto fail;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	if (len > SUBST_FILE_MAX) {
		*why = "larger than 64 KiB";
		goto fail;
	}
	if (memchr(data, '\0', len) != NULL) {
		*why = "contains a NUL byte";
		goto fail;
	}
	if (len > 0 && data[len - 1] == '\n') {
		len--;
		if (len > 0 && data[len - 1] == '\r')
			len--;
	}
	data[len] = '\0';
	goto out;
fail:
	free(data);
	data = NULL;
out:
	close(fd);
	return data;
}

/* Expands the substitutions in the string setting s (see the top of the
 * file). Returns a new string, or NULL after recording an error. */
static char *expand(struct loader *ld, const config_setting_t *s, const char *where)
{
	const char *raw = config_setting_get_string(s);
	struct buf b = { NULL, 0, 0 };
	const char *p = raw;

	if (buf_add(&b, "", 0) < 0)
		goto toolong;
	while (*p != '\0') {
		const char *dollar = strstr(p, "${");
		const char *close, *arg;
		char *key = NULL, *val = NULL;
		const char *why = NULL;
		bool is_env;

		if (dollar == NULL) {
			if (buf_add(&b, p, strlen(p)) < 0)
				goto toolong;
			break;
		}
		/* "$${" is a literal "${". */
		if (dollar > p && dollar[-1] == '$') {
			if (buf_add(&b, p, (size_t)(dollar - p) - 1) < 0 || buf_add(&b, "${", 2) < 0)
				goto toolong;
			p = dollar + 2;
			continue;
		}
		if (buf_add(&b, p, (size_t)(dollar - p)) < 0)
			goto toolong;
		close = strchr(dollar, '}');
		if (close == NULL) {
			err(ld, s, "%s in %s has \"${\" without a closing \"}\" (write \"$${\" for a literal \"${\")",
			    sname(ld, s), where);
			goto fail;
		}
		if (strncmp(dollar + 2, "env:", 4) == 0) {
			is_env = true;
			arg = dollar + 6;
		} else if (strncmp(dollar + 2, "file:", 5) == 0) {
			is_env = false;
			arg = dollar + 7;
		} else {
			err(ld, s, "%s in %s has an unknown substitution %s (supported: ${env:NAME}, ${file:/path}; write \"$${\" for a literal \"${\")",
			    sname(ld, s), where, quote(ld, tmp(ld, xstrndup(dollar, (size_t)(close - dollar) + 1))));
			goto fail;
		}
		key = xstrndup(arg, (size_t)(close - arg));
		if (*key == '\0') {
			err(ld, s, "%s in %s has an empty ${%s}", sname(ld, s), where,
			    is_env ? "env:NAME" : "file:/path");
			free(key);
			goto fail;
		}
		if (is_env) {
			const char *v = getenv(key);

			if (v == NULL) {
				err(ld, s, "%s in %s uses the environment variable %s, which is not set",
				    sname(ld, s), where, quote(ld, key));
				free(key);
				goto fail;
			}
			val = xstrdup(v);
		} else {
			val = read_subst_file(key, &why);
			if (val == NULL) {
				err(ld, s, "%s in %s uses ${file:%s}: cannot read it: %s",
				    sname(ld, s), where, key, why);
				free(key);
				goto fail;
			}
		}
		free(key);
		secret_add(ld, val);
		if (buf_add(&b, val, strlen(val)) < 0) {
			free(val);
			goto toolong;
		}
		free(val);
		p = close + 1;
	}
	return b.p;
toolong:
	err(ld, s, "%s in %s is longer than 1 MiB after substitution", sname(ld, s), where);
fail:
	free(b.p);
	return NULL;
}

/* --- typed getters -------------------------------------------------------- */

/* The string value of s, substituted, or NULL after recording an error. */
static char *get_str(struct loader *ld, const config_setting_t *s, const char *where)
{
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		err(ld, s, "%s in %s must be a string (got %s)", sname(ld, s), where,
		    type_desc(config_setting_type(s)));
		return NULL;
	}
	return expand(ld, s, where);
}

static int get_duration(struct loader *ld, const config_setting_t *s, const char *where,
                        uint64_t min_ms, uint64_t *out)
{
	char *v = get_str(ld, s, where);
	uint64_t ms;
	int rc = -1;

	if (v == NULL)
		return -1;
	if (util_parse_duration(v, &ms) < 0) {
		err(ld, s, "%s in %s is not a duration: %s (write a whole number and a unit: \"250ms\", \"30s\", \"5m\", \"4h\", \"7d\")",
		    sname(ld, s), where, quote(ld, config_setting_get_string(s)));
		goto out;
	}
	if (ms < min_ms) {
		err(ld, s, "%s in %s must be greater than 0", sname(ld, s), where);
		goto out;
	}
	*out = ms;
	rc = 0;
out:
	free(v);
	return rc;
}

static int get_int(struct loader *ld, const config_setting_t *s, const char *where,
                   long long min, long long max, long long *out)
{
	int t = config_setting_type(s);
	long long v;

	if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64) {
		err(ld, s, "%s in %s must be an integer from %lld to %lld (got %s)",
		    sname(ld, s), where, min, max, type_desc(t));
		return -1;
	}
	v = config_setting_get_int64(s);
	if (v < min || v > max) {
		err(ld, s, "%s in %s must be from %lld to %lld (got %lld)", sname(ld, s), where, min, max, v);
		return -1;
	}
	*out = v;
	return 0;
}

static int get_bool(struct loader *ld, const config_setting_t *s, const char *where, bool *out)
{
	if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
		err(ld, s, "%s in %s must be true or false (got %s)", sname(ld, s), where,
		    type_desc(config_setting_type(s)));
		return -1;
	}
	*out = config_setting_get_bool(s) != 0;
	return 0;
}

/* A string regex compiled with PCRE2; error with PCRE2's message and offset. */
static int get_regex(struct loader *ld, const config_setting_t *s, const char *where,
                     char **src, pcre2_code **re)
{
	char *v = get_str(ld, s, where);
	int code;
	PCRE2_SIZE off;
	pcre2_code *c;

	if (v == NULL)
		return -1;
	c = pcre2_compile((PCRE2_SPTR)v, PCRE2_ZERO_TERMINATED, 0, &code, &off, NULL);
	if (c == NULL) {
		PCRE2_UCHAR msg[256];

		pcre2_get_error_message(code, msg, sizeof(msg));
		err(ld, s, "%s in %s is not a valid regular expression: %s at offset %zu",
		    sname(ld, s), where, (const char *)msg, (size_t)off);
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
static size_t each(const config_setting_t *s)
{
	if (config_setting_is_array(s) || config_setting_is_list(s))
		return (size_t)config_setting_length(s);
	return 1;
}

static const config_setting_t *elem(const config_setting_t *s, size_t i)
{
	if (config_setting_is_array(s) || config_setting_is_list(s))
		return config_setting_get_elem(s, (unsigned)i);
	return s;
}

/* A list of strings into *v / *n. Each entry non-empty. */
static int get_strlist(struct loader *ld, const config_setting_t *s, const char *where,
                       char ***v, size_t *n)
{
	size_t len = each(s);
	int rc = 0;

	if (config_setting_is_group(s)) {
		err(ld, s, "%s in %s must be a string or an array of strings like [ \"a\", \"b\" ] (got %s)",
		    sname(ld, s), where, type_desc(CONFIG_TYPE_GROUP));
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		const config_setting_t *e = elem(s, i);
		char *str = get_str(ld, e, where);

		if (str == NULL) {
			rc = -1;
			continue;
		}
		if (*str == '\0') {
			err(ld, e, "%s in %s must not be empty", sname(ld, e), where);
			free(str);
			rc = -1;
			continue;
		}
		*v = xrealloc(*v, (*n + 1) * sizeof(**v));
		(*v)[(*n)++] = str;
	}
	return rc;
}

/* --- the settings tables -------------------------------------------------- */

struct def;
typedef void parse_fn(struct loader *ld, const config_setting_t *s, void *base, const char *where);

enum kind {
	K_SKIP,         /* handled before apply() (check name and type) */
	K_STR,          /* char * */
	K_INT,          /* int, min..max */
	K_BOOL,         /* bool */
	K_DURATION,     /* uint64_t ms, at least min */
	K_REGEX,        /* char * at off, pcre2_code * at off2 */
	K_STRLIST,      /* char ** at off, size_t at off2 */
	K_CUSTOM,       /* parse() */
};

#define F_REQUIRED 1u
#define F_SECRET   2u   /* never quoted, registered with log_secret_add */
#define F_NONEMPTY 4u
#define F_FILE     8u   /* a path that must be readable */

struct def {
	const char *name;
	enum kind kind;
	size_t off, off2;
	long long min, max;
	unsigned flags;
	parse_fn *parse;
	const char *hint;   /* for a missing required setting */
};

#define D_STR(n, st, f, fl)        { n, K_STR, offsetof(st, f), 0, 0, 0, fl, NULL, NULL }
#define D_INT(n, st, f, lo, hi)    { n, K_INT, offsetof(st, f), 0, lo, hi, 0, NULL, NULL }
#define D_BOOL(n, st, f)           { n, K_BOOL, offsetof(st, f), 0, 0, 0, 0, NULL, NULL }
#define D_DUR(n, st, f, lo)        { n, K_DURATION, offsetof(st, f), 0, lo, 0, 0, NULL, NULL }
#define D_RE(n, st, f, f2)         { n, K_REGEX, offsetof(st, f), offsetof(st, f2), 0, 0, 0, NULL, NULL }
#define D_LIST(n, st, f, f2)       { n, K_STRLIST, offsetof(st, f), offsetof(st, f2), 0, 0, 0, NULL, NULL }
#define D_FN(n, fn, fl, h)         { n, K_CUSTOM, 0, 0, 0, 0, fl, fn, h }
#define D_END                      { NULL, K_SKIP, 0, 0, 0, 0, 0, NULL, NULL }

static parse_fn parse_listen, parse_public_url, parse_log_format, parse_retention;
static parse_fn parse_url, parse_method, parse_req_headers, parse_basic_auth, parse_max_body;
static parse_fn parse_tcp_host, parse_query, parse_record, parse_server;
static parse_fn parse_expect, parse_status, parse_json, parse_exp_headers, parse_rcode;
static parse_fn parse_json_path, parse_json_equals;

static const struct def agent_defs[] = {
	D_FN("listen", parse_listen, 0, NULL),
	D_STR("database", struct conf_agent, database, F_NONEMPTY),
	D_FN("public_url", parse_public_url, 0, NULL),
	D_STR("admin_token", struct conf_agent, admin_token, F_SECRET | F_NONEMPTY),
	D_FN("log_format", parse_log_format, 0, NULL),
	D_FN("retention", parse_retention, 0, NULL),
	D_STR("title", struct conf_agent, title, 0),
	D_STR("location", struct conf_agent, location, F_NONEMPTY),
	D_STR("tls_cert", struct conf_agent, tls_cert, F_NONEMPTY | F_FILE),
	D_STR("tls_key", struct conf_agent, tls_key, F_NONEMPTY | F_FILE),
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

static const struct def check_defs[] = {
	{ "name", K_SKIP, 0, 0, 0, 0, 0, NULL, NULL },
	{ "type", K_SKIP, 0, 0, 0, 0, 0, NULL, NULL },
	D_STR("group", struct check, group, 0),
	D_DUR("interval", struct check, interval_ms, 1),
	D_DUR("timeout", struct check, timeout_ms, 1),
	D_INT("retries", struct check, retries, 0, 10),
	D_DUR("retry_interval", struct check, retry_interval_ms, 0),
	D_FN("expect", parse_expect, 0, NULL),
	D_END
};

static const struct def http_defs[] = {
	D_FN("url", parse_url, F_REQUIRED, "url = \"https://...\""),
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

static const struct def json_defs[] = {
	D_FN("path", parse_json_path, F_REQUIRED, "path = \"$.status\""),
	D_FN("equals", parse_json_equals, 0, NULL),
	D_BOOL("exists", struct json_expect, exists),
	D_END
};

static const struct def *const type_defs[CHECK_TYPE_COUNT] = {
	[CHECK_HTTP] = http_defs, [CHECK_TCP] = tcp_defs, [CHECK_DNS] = dns_defs,
};
static const struct def *const expect_defs[CHECK_TYPE_COUNT] = {
	[CHECK_HTTP] = expect_http_defs, [CHECK_TCP] = expect_tcp_defs, [CHECK_DNS] = expect_dns_defs,
};

/* Parts of the SPEC this version does not build yet: named, never ignored. */
static const char *const unsupported_sections[] = { "alerts", "notifiers", "maintenance" };
static const char *const unsupported_types[] = { "tls", "icmp", "heartbeat" };
static const char *const unsupported_check_settings[] = { "steps", "depends_on" };
/* Settings only those unsupported types have, so "grace" in an http check
 * says where it belongs instead of "unknown". */
static const struct { const char *name, *type; } unsupported_type_settings[] = {
	{ "server_name", "tls" }, { "count", "icmp" }, { "grace", "heartbeat" }, { "token", "heartbeat" },
};
static const char *const sections[] = { "agent", "defaults", "checks" };

/* Where an unknown name is looked up for a better message. */
enum scope { SCOPE_PLAIN, SCOPE_CHECK, SCOPE_EXPECT };

static const struct def *find_def(const struct def *defs, const char *name)
{
	for (; defs != NULL && defs->name != NULL; defs++)
		if (strcmp(defs->name, name) == 0)
			return defs;
	return NULL;
}

static bool in_list(const char *const *list, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i], name) == 0)
			return true;
	return false;
}

/* Records the error for the setting s whose name no table of this context
 * knows, with the most helpful explanation available. */
static void unknown_setting(struct loader *ld, const config_setting_t *s, const char *where,
                            const struct def *const *tables, enum scope scope, int type)
{
	const char *name = config_setting_name(s);
	const char *cands[64];
	const char *hint;
	size_t n = 0;

	if (scope == SCOPE_CHECK && in_list(unsupported_check_settings, COUNT(unsupported_check_settings), name)) {
		err(ld, s, "setting \"%s\" in %s is not supported by this version of pharos yet", name, where);
		return;
	}
	if (scope == SCOPE_CHECK || scope == SCOPE_EXPECT) {
		const struct def *const *others = scope == SCOPE_CHECK ? type_defs : expect_defs;

		for (int t = 0; t < CHECK_TYPE_COUNT; t++) {
			if (t != type && find_def(others[t], name) != NULL) {
				err(ld, s, "setting \"%s\" in %s does not apply to check type \"%s\" (it is a setting of \"%s\" checks)",
				    name, where, check_type_name((enum check_type)type), check_type_name((enum check_type)t));
				return;
			}
		}
		if (scope == SCOPE_CHECK) {
			for (size_t i = 0; i < COUNT(unsupported_type_settings); i++) {
				if (strcmp(unsupported_type_settings[i].name, name) == 0) {
					err(ld, s, "setting \"%s\" in %s does not apply to check type \"%s\" (it is a setting of \"%s\" checks)",
					    name, where, check_type_name((enum check_type)type), unsupported_type_settings[i].type);
					return;
				}
			}
			if (find_def(expect_defs[type], name) != NULL) {
				err(ld, s, "unknown setting \"%s\" in %s (did you mean to put it inside expect = { ... }?)",
				    name, where);
				return;
			}
		}
	}
	for (; *tables != NULL; tables++)
		for (const struct def *d = *tables; d->name != NULL && n < COUNT(cands); d++)
			cands[n++] = d->name;
	hint = closest(name, cands, n);
	if (hint != NULL)
		err(ld, s, "unknown setting \"%s\" in %s (did you mean \"%s\"?)", name, where, hint);
	else
		err(ld, s, "unknown setting \"%s\" in %s", name, where);
}

/* Stores one known setting s according to its definition d. */
static void apply_one(struct loader *ld, const config_setting_t *s, const struct def *d,
                      void *base, const char *where)
{
	char *p = (char *)base + d->off;
	long long iv;

	switch (d->kind) {
	case K_SKIP:
		break;
	case K_STR: {
		char *v = get_str(ld, s, where);

		if (v == NULL)
			break;
		if ((d->flags & F_NONEMPTY) && *v == '\0') {
			err(ld, s, "%s in %s must not be empty", sname(ld, s), where);
			free(v);
			break;
		}
		if (d->flags & F_SECRET)
			secret_add(ld, v);
		if ((d->flags & F_FILE) && access(v, R_OK) < 0) {
			err(ld, s, "%s in %s: cannot read %s: %s", sname(ld, s), where,
			    quote(ld, config_setting_get_string(s)), strerror(errno));
			free(v);
			break;
		}
		free(*(char **)p);
		*(char **)p = v;
		break;
	}
	case K_INT:
		if (get_int(ld, s, where, d->min, d->max, &iv) == 0)
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
			err(ld, s, "%s in %s must not be empty (leave it out instead)", sname(ld, s), where);
			break;
		}
		get_strlist(ld, s, where, (char ***)p, (size_t *)((char *)base + d->off2));
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
static void apply(struct loader *ld, const config_setting_t *g, const struct def *const *tables,
                  void *base, const char *where, enum scope scope, int type, bool lenient)
{
	int n = config_setting_length(g);

	for (int i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
		const struct def *d = NULL;

		for (const struct def *const *t = tables; *t != NULL && d == NULL; t++)
			d = find_def(*t, config_setting_name(s));
		if (d != NULL)
			apply_one(ld, s, d, base, where);
		else if (!lenient)
			unknown_setting(ld, s, where, tables, scope, type);
	}
	for (const struct def *const *t = tables; *t != NULL; t++)
		for (const struct def *d = *t; d->name != NULL; d++)
			if ((d->flags & F_REQUIRED) && config_setting_get_member(g, d->name) == NULL)
				err(ld, g, "missing required setting \"%s\" in %s%s%s%s", d->name, where,
				    d->hint ? " (" : "", d->hint ? d->hint : "", d->hint ? ")" : "");
}

/* A group setting or an error naming what was expected. */
static bool want_group(struct loader *ld, const config_setting_t *s, const char *where)
{
	if (config_setting_is_group(s))
		return true;
	err(ld, s, "%s in %s must be a group { ... } (got %s)", sname(ld, s), where,
	    type_desc(config_setting_type(s)));
	return false;
}

/* --- agent ---------------------------------------------------------------- */

static void parse_listen(struct loader *ld, const config_setting_t *s, void *base, const char *where)
{
	struct conf_agent *a = base;
	char *v = get_str(ld, s, where);

	if (v == NULL)
		return;
	if (parse_hostport(v, true, false) < 0) {
		err(ld, s, "\"listen\" in %s must be \"host:port\" or \"[ipv6]:port\" with a port from 1 to 65535 (got %s)",
		    where, quote(ld, config_setting_get_string(s)));
		free(v);
		return;
	}
	free(a->listen);
	a->listen = v;
}

/* Checks that url is an http:// or https:// URL curl can parse. Returns 0, or
 * -1 with *why set (a static string). Sets *https. */
static int check_http_url(const char *url, bool *https, const char **why)
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

static void parse_public_url(struct loader *ld, const config_setting_t *s, void *base, const char *where)
{
	struct conf_agent *a = base;
	char *v = get_str(ld, s, where);
	const char *why;
	bool https;
	size_t n;

	if (v == NULL)
		return;
	if (check_http_url(v, &https, &why) < 0) {
		char *shown = url_hide_password(ld, config_setting_get_string(s));

		err(ld, s, "\"public_url\" in %s is not a valid URL: %s (got %s)", where, why, quote(ld, tmp(ld, shown)));
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
	char *v = get_str(ld, s, where);

	if (v == NULL)
		return;
	if (strcmp(v, "logfmt") == 0)
		a->log_format = LOG_FORMAT_LOGFMT;
	else if (strcmp(v, "json") == 0)
		a->log_format = LOG_FORMAT_JSON;
	else
		err(ld, s, "\"log_format\" in %s must be \"logfmt\" or \"json\" (got %s)", where,
		    quote(ld, config_setting_get_string(s)));
	free(v);
}

static void parse_retention(struct loader *ld, const config_setting_t *s, void *base, const char *where)
{
	static const struct def *const tables[] = { retention_defs, NULL };

	if (want_group(ld, s, where))
		apply(ld, s, tables, base, "agent.retention", SCOPE_PLAIN, 0, false);
}

/* --- http ----------------------------------------------------------------- */

static void parse_url(struct loader *ld, const config_setting_t *s, void *base, const char *where)
{
	struct check *c = base;
	char *v = get_str(ld, s, where);
	const char *why;
	bool https;

	if (v == NULL)
		return;
	if (check_http_url(v, &https, &why) < 0) {
		char *shown = url_hide_password(ld, config_setting_get_string(s));

		err(ld, s, "\"url\" in %s is not a valid URL: %s (got %s)", where, why, quote(ld, tmp(ld, shown)));
		free(v);
		return;
	}
	free(url_hide_password(ld, v));         /* registers a userinfo password */
	free(c->http.url);
	c->http.url = v;
}

static void parse_method(struct loader *ld, const config_setting_t *s, void *base, const char *where)
{
	static const char *const methods[] = { "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS" };
	struct check *c = base;
	char *v = get_str(ld, s, where);

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
	err(ld, s, "\"method\" in %s must be one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS (got %s)",
	    where, quote(ld, config_setting_get_string(s)));
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
		err(ld, e, "%s in %s must look like \"Name: %s\"", sname(ld, e), where, what);
		return 0;
	}
	n = (size_t)(colon - h);
	for (size_t i = 0; i < n; i++) {
		if (!is_tchar((unsigned char)h[i])) {
			err(ld, e, "%s in %s has an invalid header name (letters, digits and !#$%%&'*+-.^_`|~ only, then \":\")",
			    sname(ld, e), where);
			return 0;
		}
	}
	if (strpbrk(h, "\r\n") != NULL) {
		err(ld, e, "%s in %s must not contain a line break", sname(ld, e), where);
		return 0;
	}
	return n;
}

static void parse_req_headers(struct loader *ld, const config_setting_t *s, void *base, const char *where)
{
	struct check *c = base;
	char **v = NULL;
	size_t n = 0;

	get_strlist(ld, s, where, &v, &n);
	for (size_t i = 0; i < n; i++) {
		const config_setting_t *e = elem(s, i);
		size_t nl = header_name_len(ld, e, where, v[i], "value");
		const char *val;

		if (nl == 0 || !secret_header_name(v[i], nl))
			continue;
		val = v[i] + nl + 1;
		while (*val == ' ' || *val == '\t')
			val++;
		secret_add(ld, val);
		/* "Bearer abc": the credential alone must be masked too. */
		if (strchr(val, ' ') != NULL)
			secret_add(ld, strrchr(val, ' ') + 1);
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

	if (!want_group(ld, s, where))
		return;
	n = config_setting_length(s);
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		const char *name = config_setting_name(e);
		char *v;

		if (strcmp(name, "user") != 0 && strcmp(name, "password") != 0) {
			const char *cands[] = { "user", "password" };
			const char *hint = closest(name, cands, 2);

			err(ld, e, "unknown setting \"%s\" in basic_auth of %s%s%s%s", name, where,
			    hint ? " (did you mean \"" : "", hint ? hint : "", hint ? "\"?)" : "");
			continue;
		}
		v = get_str(ld, e, where);
		if (v == NULL)
			continue;
		if (strcmp(name, "user") == 0) {
			if (strchr(v, ':') != NULL) {
				err(ld, e, "\"user\" in basic_auth of %s must not contain \":\"", where);
				free(v);
				continue;
			}
			free(c->http.basic_user);
			c->http.basic_user = v;
		} else {
			secret_add(ld, v);
			free(c->http.basic_pass);
			c->http.basic_pass = v;
		}
	}
	if (config_setting_get_member(s, "user") == NULL)
		err(ld, s, "missing required setting \"user\" in basic_auth of %s", where);
	if (config_setting_get_member(s, "password") == NULL)
		err(ld, s, "missing required setting \"password\" in basic_auth of %s", where);
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
		char *str = get_str(ld, s, where);

		if (str == NULL)
			return;
		if (parse_size(str, &v) < 0 || v < 1) {
			err(ld, s, "\"max_body\" in %s is not a size from 1 byte to 1 GiB: %s (write bytes as an integer, or a string like \"512KiB\", \"1MiB\")",
			    where, quote(ld, config_setting_get_string(s)));
			free(str);
			return;
		}
		free(str);
		c->http.max_body = (size_t)v;
		return;
	}
	if (config_setting_type(s) != CONFIG_TYPE_INT && config_setting_type(s) != CONFIG_TYPE_INT64) {
		err(ld, s, "\"max_body\" in %s must be an integer number of bytes or a string like \"1MiB\" (got %s)",
		    where, type_desc(config_setting_type(s)));
		return;
	}
	if (get_int(ld, s, where, 1, (long long)MAX_BODY_LIMIT, &iv) == 0)
		c->http.max_body = (size_t)iv;
}

/* --- tcp and dns ---------------------------------------------------------- */

static void parse_tcp_host(struct loader *ld, const config_setting_t *s, void *base, const char *where)
{
	struct check *c = base;
	char *v = get_str(ld, s, where);

	if (v == NULL)
		return;
	if (!valid_host(v)) {
		err(ld, s, "\"host\" in %s must be a host name or an IP address without brackets or port (got %s)",
		    where, quote(ld, config_setting_get_string(s)));
		free(v);
		return;
	}
	free(c->tcp.host);
	c->tcp.host = v;
}

static void parse_query(struct loader *ld, const config_setting_t *s, void *base, const char *where)
{
	struct check *c = base;
	char *v = get_str(ld, s, where);
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
	ok = strcmp(v, ".") == 0 || (strchr(name, ':') == NULL && valid_host(name));
	free(name);
	if (!ok) {
		err(ld, s, "\"query\" in %s must be a domain name like \"api.example.com\" (got %s)",
		    where, quote(ld, config_setting_get_string(s)));
		free(v);
		return;
	}
	free(c->dns.query);
	c->dns.query = v;
}

static void parse_record(struct loader *ld, const config_setting_t *s, void *base, const char *where)
{
	struct check *c = base;
	char *v = get_str(ld, s, where);
	int r;

	if (v == NULL)
		return;
	r = check_dns_record_from_name(v);
	if (r < 0)
		err(ld, s, "\"record\" in %s must be one of A, AAAA, CNAME, MX, TXT, NS, SOA, SRV (got %s)",
		    where, quote(ld, config_setting_get_string(s)));
	else
		c->dns.record = r;
	free(v);
}

static void parse_server(struct loader *ld, const config_setting_t *s, void *base, const char *where)
{
	struct check *c = base;
	char *v = get_str(ld, s, where);

	if (v == NULL)
		return;
	if (parse_hostport(v, false, true) < 0) {
		err(ld, s, "\"server\" in %s must be an IP address with an optional port: \"1.1.1.1\", \"1.1.1.1:53\", \"2606:4700::1111\" or \"[2606:4700::1111]:53\" (got %s)",
		    where, quote(ld, config_setting_get_string(s)));
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
	const struct def *tables[2] = { expect_defs[c->type], NULL };
	char *ewhere;

	if (!want_group(ld, s, where))
		return;
	ewhere = xasprintf("expect of %s", where);
	tmp(ld, ewhere);
	apply(ld, s, tables, &c->expect, ewhere, SCOPE_EXPECT, (int)c->type, false);
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
	size_t n = each(s);

	if (config_setting_is_group(s)) {
		err(ld, s, "\"status\" in %s must be a code, a range or an array of them like [200, 204] or ( 200, \"3xx\", \"400-404\" ) (got %s)",
		    where, type_desc(CONFIG_TYPE_GROUP));
		return;
	}
	if (n == 0) {
		err(ld, s, "\"status\" in %s must not be empty (leave it out to accept 200-399)", where);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const config_setting_t *el = elem(s, i);
		struct status_range r;
		int t = config_setting_type(el);

		if (t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64) {
			long long v = config_setting_get_int64(el);

			if (v < 100 || v > 599) {
				err(ld, el, "%s in %s must be a status code from 100 to 599 (got %lld)", sname(ld, el), where, v);
				continue;
			}
			r.lo = r.hi = (int)v;
		} else if (t == CONFIG_TYPE_STRING) {
			char *v = get_str(ld, el, where);

			if (v == NULL)
				continue;
			if (parse_status_entry(v, &r) < 0) {
				err(ld, el, "%s in %s must be a status code 100-599, a class like \"2xx\" or a range like \"200-299\" (got %s)",
				    sname(ld, el), where, quote(ld, config_setting_get_string(el)));
				free(v);
				continue;
			}
			free(v);
		} else {
			err(ld, el, "%s in %s must be a status code like 200 or a string like \"2xx\" or \"200-299\" (got %s)",
			    sname(ld, el), where, type_desc(t));
			continue;
		}
		e->status = xrealloc(e->status, (e->n_status + 1) * sizeof(*e->status));
		e->status[e->n_status++] = r;
	}
}

static void parse_json_path(struct loader *ld, const config_setting_t *s, void *base, const char *where)
{
	struct json_expect *j = base;
	char *v = get_str(ld, s, where);
	char msg[256];

	if (v == NULL)
		return;
	msg[0] = '\0';
	if (jsonpath_check(v, msg, sizeof(msg)) < 0) {
		err(ld, s, "\"path\" in %s is not a valid JSON path: %s (got %s; write paths like \"$.status\", \"$.items[0].id\", \"$['a b']\")",
		    where, msg[0] ? msg : "invalid", quote(ld, config_setting_get_string(s)));
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
		str = get_str(ld, s, where);
		if (str == NULL)
			return;
		v = json_string(str);
		free(str);
		if (v == NULL) {
			err(ld, s, "\"equals\" in %s must be valid UTF-8", where);
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
			err(ld, s, "\"equals\" in %s must be a finite number", where);
			return;
		}
		break;
	case CONFIG_TYPE_BOOL:
		v = json_boolean(config_setting_get_bool(s));
		break;
	default:
		err(ld, s, "\"equals\" in %s must be a string, a number or true/false (got %s)", where,
		    type_desc(config_setting_type(s)));
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
		err(ld, s, "\"json\" in %s must be a list of groups like ( { path = \"$.status\"; equals = \"ok\"; } ) (got %s)",
		    where, type_desc(config_setting_type(s)));
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const config_setting_t *g = config_setting_is_group(s) ? s : config_setting_get_elem(s, (unsigned)i);
		const char *jwhere = tmp(ld, xasprintf("expect.json entry %zu of %s", i + 1,
		                                       where + strlen("expect of ")));
		struct json_expect j = { NULL, NULL, true };
		const config_setting_t *ex;

		if (!config_setting_is_group(g)) {
			err(ld, g, "%s in %s must be a group like { path = \"$.status\"; equals = \"ok\"; } (got %s)",
			    sname(ld, g), where, type_desc(config_setting_type(g)));
			continue;
		}
		apply(ld, g, tables, &j, jwhere, SCOPE_PLAIN, 0, false);
		ex = config_setting_get_member(g, "exists");
		if (j.equals != NULL && ex != NULL && config_setting_type(ex) == CONFIG_TYPE_BOOL && !j.exists)
			err(ld, ex, "\"exists = false\" contradicts \"equals\" in %s (a value that does not exist cannot equal anything)", jwhere);
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

	get_strlist(ld, s, where, &v, &n);
	for (size_t i = 0; i < n; i++) {
		const config_setting_t *el = elem(s, i);
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
			err(ld, el, "%s in %s has an invalid regular expression after \"%.*s:\": %s at offset %zu",
			    sname(ld, el), where, (int)nl, v[i], (const char *)msg, (size_t)off);
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
	char *v = get_str(ld, s, where);
	int r;

	if (v == NULL)
		return;
	r = check_dns_rcode_from_name(v);
	if (r < 0)
		err(ld, s, "\"rcode\" in %s must be one of NOERROR, NXDOMAIN, SERVFAIL, REFUSED, FORMERR, NOTIMP (got %s)",
		    where, quote(ld, config_setting_get_string(s)));
	else
		e->rcode = r;
	free(v);
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

/* Every setting that changes what or how the check probes (not its group:
 * moving a check on the page keeps its schedule). */
static uint64_t fingerprint(const struct check *c)
{
	const struct check_expect *e = &c->expect;
	uint64_t h = UTIL_HASH64_INIT;

	h = h_str(h, c->name);
	h = h_u64(h, (uint64_t)c->type);
	h = h_u64(h, c->interval_ms);
	h = h_u64(h, c->timeout_ms);
	h = h_u64(h, (uint64_t)c->retries);
	h = h_u64(h, c->retry_interval_ms);
	h = h_str(h, c->http.url);
	h = h_str(h, c->http.method);
	h = h_u64(h, c->http.n_headers);
	for (size_t i = 0; i < c->http.n_headers; i++)
		h = h_str(h, c->http.headers[i]);
	h = h_str(h, c->http.body);
	h = h_str(h, c->http.basic_user);
	h = h_str(h, c->http.basic_pass);
	h = h_u64(h, (uint64_t)c->http.max_redirects);
	h = h_u64(h, c->http.max_body);
	h = h_u64(h, c->http.insecure);
	h = h_str(h, c->http.ca_file);
	h = h_str(h, c->http.client_cert);
	h = h_str(h, c->http.client_key);
	h = h_str(h, c->tcp.host);
	h = h_u64(h, (uint64_t)c->tcp.port);
	h = h_str(h, c->tcp.send);
	h = h_str(h, c->dns.query);
	h = h_u64(h, (uint64_t)c->dns.record);
	h = h_str(h, c->dns.server);
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
	return h;
}

/* What the check probes, for people; secrets masked. */
static char *make_target(const struct check *c)
{
	char *raw = NULL, *masked;

	switch (c->type) {
	case CHECK_HTTP:
		raw = url_hide_password(NULL, c->http.url ? c->http.url : "");
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
	case CHECK_TLS:
	case CHECK_ICMP:
	case CHECK_HEARTBEAT:
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
		err(ld, g, "missing required setting \"type\" in %s (one of: http, tcp, dns)", where);
		return -1;
	}
	v = get_str(ld, s, where);
	if (v == NULL)
		return -1;
	for (int i = 0; i < CHECK_TYPE_COUNT; i++)
		if (strcmp(v, check_type_name((enum check_type)i)) == 0)
			t = i;
	if (t >= 0)
		goto out;
	if (in_list(unsupported_types, COUNT(unsupported_types), v)) {
		err(ld, s, "check type \"%s\" is not supported by this version of pharos yet (supported: http, tcp, dns)", v);
		goto out;
	}
	hint = closest(v, names, COUNT(names));
	err(ld, s, "unknown check type %s in %s (%s%s%ssupported: http, tcp, dns)",
	    quote(ld, config_setting_get_string(s)), where,
	    hint ? "did you mean \"" : "", hint ? hint : "", hint ? "\"? " : "");
out:
	free(v);
	return t;
}

/* Cross-setting rules that no single setting can check. */
static void check_combinations(struct loader *ld, const config_setting_t *g, struct check *c,
                               const char *where)
{
	const config_setting_t *iv = config_setting_get_member(g, "interval");
	const config_setting_t *to = config_setting_get_member(g, "timeout");
	const config_setting_t *ex = config_setting_get_member(g, "expect");

	/* When neither is set here, the defaults decided (and were checked). */
	if ((iv != NULL || to != NULL) && !had_error(ld, iv) && !had_error(ld, to) &&
	    c->timeout_ms > c->interval_ms) {
		char a[32], b[32];

		util_format_duration(c->timeout_ms, a, sizeof(a));
		util_format_duration(c->interval_ms, b, sizeof(b));
		err(ld, to ? to : iv, "timeout \"%s\"%s is longer than interval \"%s\"%s in %s (a run must end before the next one starts)",
		    a, to ? "" : " (from defaults)", b, iv ? "" : " (from defaults)", where);
	}
	if (c->type == CHECK_HTTP) {
		const config_setting_t *s;
		bool https = c->http.url != NULL && strncasecmp(c->http.url, "https://", 8) == 0;

		if (c->http.client_key != NULL && c->http.client_cert == NULL)
			err(ld, config_setting_get_member(g, "client_key"),
			    "\"client_key\" in %s needs \"client_cert\" too", where);
		if (ex != NULL && config_setting_is_group(ex)) {
			s = config_setting_get_member(ex, "cert_min_days");
			if (s != NULL && c->http.url != NULL && !https)
				err(ld, s, "\"cert_min_days\" in expect of %s needs an https:// url", where);
			if (c->http.method != NULL && strcmp(c->http.method, "HEAD") == 0) {
				static const char *const body_settings[] = { "body_contains", "body_regex", "json" };

				for (size_t i = 0; i < COUNT(body_settings); i++) {
					s = config_setting_get_member(ex, body_settings[i]);
					if (s != NULL)
						err(ld, s, "\"%s\" in expect of %s can never match: a HEAD response has no body",
						    body_settings[i], where);
				}
			}
		}
	}
	if (c->type == CHECK_TCP && ex != NULL && config_setting_is_group(ex) &&
	    config_setting_get_member(ex, "expect_regex") != NULL && c->tcp.send == NULL)
		err(ld, config_setting_get_member(ex, "expect_regex"),
		    "\"expect_regex\" in expect of %s is matched after \"send\", which is not set (use banner_regex for what the server says first)",
		    where);
}

struct name_seen {
	const char *name;
	int line;
};

static void parse_check(struct loader *ld, struct conf *conf, const config_setting_t *g,
                        size_t idx, struct name_seen *seen, size_t *n_seen)
{
	struct check *c = &conf->checks[idx];
	const config_setting_t *ns;
	const char *where;
	int type;

	c->file = conf->path;
	c->line = setting_line(g);
	c->interval_ms = conf->default_interval_ms;
	c->timeout_ms = conf->default_timeout_ms;
	c->group = xstrdup("");
	c->http.method = xstrdup("GET");
	where = tmp(ld, xasprintf("check #%zu", idx + 1));
	if (!config_setting_is_group(g)) {
		err(ld, g, "check #%zu must be a group { name = ...; type = ...; } (got %s)", idx + 1,
		    type_desc(config_setting_type(g)));
		return;
	}

	ns = config_setting_get_member(g, "name");
	if (ns == NULL) {
		err(ld, g, "missing required setting \"name\" in %s", where);
	} else {
		char *v = get_str(ld, ns, where);

		if (v != NULL && !valid_name(v)) {
			err(ld, ns, "\"name\" in %s must be 1 to 64 characters from A-Z a-z 0-9 _ . - (got %s)",
			    where, quote(ld, config_setting_get_string(ns)));
			free(v);
			v = NULL;
		}
		if (v != NULL) {
			where = tmp(ld, xasprintf("check \"%s\"", v));
			for (size_t i = 0; i < *n_seen; i++) {
				if (strcmp(seen[i].name, v) == 0) {
					err(ld, ns, "duplicate check name \"%s\" (first defined on line %d)", v, seen[i].line);
					break;
				}
			}
			seen[*n_seen].name = v;
			seen[(*n_seen)++].line = setting_line(ns);
			c->name = v;
		}
	}

	type = read_type(ld, g, where);
	if (type >= 0) {
		const struct def *tables[] = { check_defs, type_defs[type], NULL };

		c->type = (enum check_type)type;
		apply(ld, g, tables, c, where, SCOPE_CHECK, type, false);
		check_combinations(ld, g, c, where);
	} else {
		/* Without a type no one can say which settings belong: check the
		 * common ones only; the type error is already reported. */
		int n = config_setting_length(g);

		for (int i = 0; i < n; i++) {
			const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
			const struct def *d = find_def(check_defs, config_setting_name(s));

			if (d != NULL && d->kind != K_CUSTOM)
				apply_one(ld, s, d, c, where);
		}
	}
	c->target = make_target(c);
	c->fingerprint = fingerprint(c);
}

/* --- sections ------------------------------------------------------------- */

static void agent_defaults(struct conf_agent *a)
{
	char host[256];

	a->listen = xstrdup("127.0.0.1:9470");
	a->database = xstrdup("/var/lib/pharos/pharos.db");
	a->log_format = LOG_FORMAT_LOGFMT;
	a->retention_raw_ms = 14ull * 24 * 3600 * 1000;
	a->retention_rollups_ms = 400ull * 24 * 3600 * 1000;
	a->title = xstrdup("pharos status");
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

	if (s != NULL && want_group(ld, s, "the configuration"))
		apply(ld, s, tables, a, "agent", SCOPE_PLAIN, 0, false);
	if (a->public_url == NULL)
		a->public_url = xasprintf("http://%s", a->listen);
	if (s == NULL)
		return;
	cert = config_setting_get_member(s, "tls_cert");
	key = config_setting_get_member(s, "tls_key");
	if (cert != NULL && key == NULL)
		err(ld, cert, "\"tls_cert\" in agent needs \"tls_key\" too");
	if (key != NULL && cert == NULL)
		err(ld, key, "\"tls_key\" in agent needs \"tls_cert\" too");
}

static void parse_defaults(struct loader *ld, struct conf *conf, const config_setting_t *s)
{
	static const struct def *const tables[] = { defaults_defs, NULL };
	const config_setting_t *to;

	if (s == NULL || !want_group(ld, s, "the configuration"))
		return;
	apply(ld, s, tables, conf, "defaults", SCOPE_PLAIN, 0, false);
	to = config_setting_get_member(s, "timeout");
	if (!had_error(ld, to) && !had_error(ld, config_setting_get_member(s, "interval")) &&
	    conf->default_timeout_ms > conf->default_interval_ms) {
		char a[32], b[32];

		util_format_duration(conf->default_timeout_ms, a, sizeof(a));
		util_format_duration(conf->default_interval_ms, b, sizeof(b));
		err(ld, to ? to : s, "timeout \"%s\" is longer than interval \"%s\" in defaults (a run must end before the next one starts)",
		    a, b);
	}
}

static void parse_checks(struct loader *ld, struct conf *conf, const config_setting_t *s)
{
	struct name_seen *seen;
	size_t n, n_seen = 0;

	if (s == NULL)
		return;
	if (!config_setting_is_list(s)) {
		err(ld, s, "\"checks\" must be a list of groups like ( { name = \"api\"; type = \"http\"; ... } ) (got %s)",
		    type_desc(config_setting_type(s)));
		return;
	}
	n = (size_t)config_setting_length(s);
	conf->checks = xcalloc(n ? n : 1, sizeof(*conf->checks));
	conf->n_checks = n;
	for (size_t i = 0; i < n; i++)
		check_init(&conf->checks[i]);
	seen = xcalloc(n ? n : 1, sizeof(*seen));
	for (size_t i = 0; i < n; i++)
		parse_check(ld, conf, config_setting_get_elem(s, (unsigned)i), i, seen, &n_seen);
	free(seen);
}

static void conf_free(struct conf *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->n_checks; i++)
		check_clear(&c->checks[i]);
	free(c->checks);
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

/* Every root setting: the three sections, or an error. */
static void parse_root(struct loader *ld, struct conf *conf, const config_setting_t *root)
{
	int n = config_setting_length(root);

	for (int i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(root, (unsigned)i);
		const char *name = config_setting_name(s);
		const char *hint;

		if (in_list(sections, COUNT(sections), name))
			continue;
		if (in_list(unsupported_sections, COUNT(unsupported_sections), name)) {
			err(ld, s, "section \"%s\" is not supported by this version of pharos yet", name);
			continue;
		}
		hint = closest(name, sections, COUNT(sections));
		if (hint == NULL)
			hint = closest(name, unsupported_sections, COUNT(unsupported_sections));
		if (hint != NULL)
			err(ld, s, "unknown section \"%s\" (did you mean \"%s\"?)", name, hint);
		else
			err(ld, s, "unknown section \"%s\" (known: agent, defaults, checks)", name);
	}
	parse_agent(ld, conf, config_setting_get_member(root, "agent"));
	parse_defaults(ld, conf, config_setting_get_member(root, "defaults"));
	parse_checks(ld, conf, config_setting_get_member(root, "checks"));
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

		errs->lines = xrealloc(errs->lines, (errs->n + 1) * sizeof(*errs->lines));
		errs->lines[errs->n++] = line;
		free(ld->errs[i].msg);
	}
	if (ld->too_many) {
		errs->lines = xrealloc(errs->lines, (errs->n + 1) * sizeof(*errs->lines));
		errs->lines[errs->n++] = xasprintf("%s: too many errors, only the first %d are shown",
		                                   ld->name, ERRORS_MAX);
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
	parse_root(&ld, conf, config_root_setting(&cfg));
out:
	config_destroy(&cfg);
	if (ld.n_errs > 0 || ld.too_many) {
		conf_free(conf);
		conf = NULL;
		flush_errors(&ld, errs);
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
		errs->lines = xrealloc(errs->lines, (errs->n + 1) * sizeof(*errs->lines));
		errs->lines[errs->n++] = xasprintf("%s: cannot open the configuration: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		errs->lines = xrealloc(errs->lines, (errs->n + 1) * sizeof(*errs->lines));
		errs->lines[errs->n++] = xasprintf("%s: cannot read the configuration: it is a directory", path);
		goto out;
	}
	data = xmalloc(CONF_FILE_MAX + 2);
	for (;;) {
		ssize_t r = read(fd, data + len, CONF_FILE_MAX + 1 - len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			errs->lines = xrealloc(errs->lines, (errs->n + 1) * sizeof(*errs->lines));
			errs->lines[errs->n++] = xasprintf("%s: cannot read the configuration: %s", path, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (len > CONF_FILE_MAX) {
			errs->lines = xrealloc(errs->lines, (errs->n + 1) * sizeof(*errs->lines));
			errs->lines[errs->n++] = xasprintf("%s: the configuration is larger than 8 MiB", path);
			goto out;
		}
	}
	data[len] = '\0';
	if (memchr(data, '\0', len) != NULL) {
		int line = 1;

		for (const char *p = data; *p; p++)
			line += *p == '\n';
		errs->lines = xrealloc(errs->lines, (errs->n + 1) * sizeof(*errs->lines));
		errs->lines[errs->n++] = xasprintf("%s:%d: the configuration contains a NUL byte (is it a text file?)", path, line);
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

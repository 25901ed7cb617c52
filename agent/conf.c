/* conf.c — loads the configuration file (libconfig syntax) into a new struct
 * conf and validates every setting, collecting every error as "FILE:LINE:
 * message" so a user fixes a config in one pass, not one error at a time.
 *
 * Shape (STYLE rule 10): each context (agent, agent.retention, defaults, a
 * check, each check type, each type's expect, one expect.json entry, a step
 * of a multi-step http check, a rule, a notifier and each notifier type, a
 * maintenance window) has a table of the settings it knows: name, kind,
 * bounds, where the value goes. apply() walks a group against its tables:
 * every setting present is checked for its kind and stored; every name not
 * in the tables is an error, with a "did you mean" hint, or a clearer
 * message when the setting belongs to another check or notifier type, to the
 * check rather than a step, or inside expect. Nothing is silently ignored.
 *
 * Order of the sections (whatever their order in the file): agent, defaults,
 * checks (then depends_on is resolved: names exist, no cycle), notifiers,
 * alerts (selectors are checked against the checks, notify against the
 * notifiers), maintenance. A selector that is an exact name must name a
 * check; a glob or group:NAME that selects nothing is a warning, logged only
 * when the config is accepted.
 *
 * Multi-step http checks: each step is read into a scratch struct check by
 * the same http tables as a plain check (so every rule applies to both),
 * then moved into struct http_step; steps inherit nothing, and a check with
 * steps has no request settings of its own. ${var:NAME} is kept as written
 * for run time, allowed only in a step's url, headers and body, and NAME
 * must be extracted by an earlier step.
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
 * basic_auth.password, a password in a URL, the value of any request
 * header whose name contains auth, token, key, secret or cookie, a
 * heartbeat's token, a PagerDuty routing_key, a webhook secret, and the url
 * of slack and webhook notifiers (a Slack webhook URL is a credential). Error
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
 *   a single value where a list is expected: status = 200, headers = "A: b",
 *              depends_on = "gateway", checks = "*", notify = "oncall"
 *   icmp: count = 3 (1-100), spacing = "200ms" (between echoes; count x
 *              spacing must fit in the timeout); expect.max_loss = "20%" or 20
 *   heartbeat: grace default "1m"; timeout, retries and retry_interval are
 *              errors on a heartbeat (nothing is probed)
 *   tls: port default 443; server_name default host
 *   notifiers: max_attempts (1-100, default 12), max_age ("24h"), timeout
 *              ("10s"), rate (per second: slack 1, pagerduty 2, others 10)
 *   maintenance: weekly as maintenance_parse_weekly() reads it ("sun 01:00",
 *              "Sunday 01:00"); timezone as maintenance_timezone_valid();
 *              timezone only for weekly windows (start carries its offset);
 *              a weekly window lasts at most 7d
 *   steps: at most 32; a step's name defaults to "step N"; extract values
 *              are a JSON path ("$.token") or "header:NAME"
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
#include <libconfig.h>
#include <limits.h>
#include <math.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "expr.h"
#include "jsonpath.h"
#include "log.h"
#include "maintenance.h"
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
	struct conf *conf;          /* what is being built (checks before rules) */
	struct dep_ref *deps;       /* every depends_on entry, resolved after all checks */
	size_t n_deps;
	char **warnings;            /* "FILE:LINE: ..." logged when the load succeeds */
	size_t n_warnings;
	/* While a step of a multi-step http check is read: ${var:NAME} is kept
	 * for run time in the step's url, headers and body, and NAME must be
	 * extracted by an earlier step. */
	const config_setting_t *step;
	char **vars;                /* names extracted by the steps before this one */
	size_t n_vars;
};

/* One depends_on entry: check `from` names `name`, written at setting s. */
struct dep_ref {
	size_t from;
	const char *name;           /* borrowed from the check's depends_on */
	const config_setting_t *s;
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

/* Records a warning at the line of s: logged only when the load succeeds
 * (a config with errors is rejected, its errors say enough). */
__attribute__((format(printf, 3, 4)))
static void warn(struct loader *ld, const config_setting_t *s, const char *fmt, ...)
{
	va_list ap;
	char *msg, *line;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0) {
		fputs("pharos: out of memory\n", stderr);
		abort();
	}
	va_end(ap);
	line = xasprintf("%s:%d: warning: %s", ld->name, setting_line(s), msg);
	free(msg);
	ld->warnings = xrealloc(ld->warnings, (ld->n_warnings + 1) * sizeof(*ld->warnings));
	ld->warnings[ld->n_warnings++] = line;
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

/* Whether s is where a step may use ${var:NAME}: its url, body, or an entry
 * of its headers (see struct loader). */
static bool var_allowed(const struct loader *ld, const config_setting_t *s)
{
	const config_setting_t *parent = config_setting_parent(s);
	const char *name = config_setting_name(s);

	if (ld->step == NULL || parent == NULL)
		return false;
	if (parent == ld->step && name != NULL)
		return strcmp(name, "url") == 0 || strcmp(name, "body") == 0 || strcmp(name, "headers") == 0;
	return name == NULL && config_setting_parent(parent) == ld->step &&
	       config_setting_name(parent) != NULL && strcmp(config_setting_name(parent), "headers") == 0;
}

/* Checks one ${var:NAME} (dollar points at "${", close at its "}"): allowed
 * here, and NAME extracted by an earlier step. Returns 0, or -1 after
 * recording an error. */
static int check_var(struct loader *ld, const config_setting_t *s, const char *where,
                     const char *dollar, const char *close)
{
	const char *name = dollar + 6;
	size_t n = (size_t)(close - name);
	const char *var;
	bool known = false;

	if (!var_allowed(ld, s)) {
		err(ld, s, "%s in %s uses ${var:...}, which only the url, headers and body of a step in steps = ( ... ) can use",
		    sname(ld, s), where);
		return -1;
	}
	if (n == 0) {
		err(ld, s, "%s in %s has an empty ${var:NAME}", sname(ld, s), where);
		return -1;
	}
	var = tmp(ld, xstrndup(name, n));
	if (!valid_name(var)) {
		err(ld, s, "%s in %s has an invalid variable name in ${var:NAME} (1 to 64 characters from A-Z a-z 0-9 _ . -)",
		    sname(ld, s), where);
		return -1;
	}
	for (size_t i = 0; i < ld->n_vars; i++)
		if (strcmp(ld->vars[i], var) == 0)
			known = true;
	if (!known) {
		const char *hint = closest(var, (const char *const *)ld->vars, ld->n_vars);

		if (hint != NULL)
			err(ld, s, "%s in %s uses ${var:%s}, which no earlier step extracts (did you mean ${var:%s}?)",
			    sname(ld, s), where, var, hint);
		else
			err(ld, s, "%s in %s uses ${var:%s}, which no earlier step extracts (extract = { %s = \"$.path\"; } in a step before this one)",
			    sname(ld, s), where, var, var);
		return -1;
	}
	return 0;
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
		if (strncmp(dollar + 2, "var:", 4) == 0) {
			/* Run time's: checked, kept as written. */
			if (check_var(ld, s, where, dollar, close) < 0)
				goto fail;
			if (buf_add(&b, dollar, (size_t)(close - dollar) + 1) < 0)
				goto toolong;
			p = close + 1;
			continue;
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
static parse_fn parse_depends_on, parse_steps;
static parse_fn parse_tls_host, parse_server_name, parse_icmp_host, parse_max_loss, parse_token;
static parse_fn parse_rule_checks, parse_when, parse_recover, parse_severity, parse_notify;
static parse_fn parse_notifier_url, parse_webhook_secret, parse_rate;
static parse_fn parse_maint_checks, parse_start, parse_weekly, parse_timezone;

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
static const struct def step_defs[] = {
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

static const struct def *const type_defs[CHECK_TYPE_COUNT] = {
	[CHECK_HTTP] = http_defs, [CHECK_TCP] = tcp_defs, [CHECK_DNS] = dns_defs,
	[CHECK_TLS] = tls_defs, [CHECK_ICMP] = icmp_defs, [CHECK_HEARTBEAT] = heartbeat_defs,
};
static const struct def *const expect_defs[CHECK_TYPE_COUNT] = {
	[CHECK_HTTP] = expect_http_defs, [CHECK_TCP] = expect_tcp_defs, [CHECK_DNS] = expect_dns_defs,
	[CHECK_TLS] = expect_tls_defs, [CHECK_ICMP] = expect_icmp_defs,
	[CHECK_HEARTBEAT] = expect_heartbeat_defs,
};

static const struct def rule_defs[] = {
	{ "name", K_SKIP, 0, 0, 0, 0, 0, NULL, NULL },
	D_FN("checks", parse_rule_checks, F_REQUIRED, "checks = \"*\""),
	D_FN("when", parse_when, F_REQUIRED, "when = \"consecutive_failures >= 3\""),
	D_FN("recover", parse_recover, 0, NULL),
	D_DUR("for", struct alert_rule, for_ms, 0),
	D_DUR("repeat", struct alert_rule, repeat_ms, 1),
	D_FN("severity", parse_severity, 0, NULL),
	D_FN("notify", parse_notify, 0, NULL),
	D_END
};

#define NOTIFIER_TYPE_COUNT 4

static const struct def notifier_defs[] = {
	{ "name", K_SKIP, 0, 0, 0, 0, 0, NULL, NULL },
	{ "type", K_SKIP, 0, 0, 0, 0, 0, NULL, NULL },
	D_INT("max_attempts", struct notifier_conf, max_attempts, 1, 100),
	D_DUR("max_age", struct notifier_conf, max_age_ms, 1),
	D_DUR("timeout", struct notifier_conf, timeout_ms, 1),
	D_FN("rate", parse_rate, 0, NULL),
	D_END
};

static const struct def slack_defs[] = {
	D_FN("url", parse_notifier_url, F_REQUIRED, "url = \"https://hooks.slack.com/services/...\""),
	D_END
};

static const struct def pagerduty_defs[] = {
	{ "routing_key", K_STR, offsetof(struct notifier_conf, routing_key), 0, 0, 0,
	  F_REQUIRED | F_SECRET | F_NONEMPTY, NULL, "routing_key = \"${file:/etc/pharos/pd.key}\"" },
	D_FN("url", parse_notifier_url, 0, NULL),
	D_END
};

static const struct def webhook_defs[] = {
	D_FN("url", parse_notifier_url, F_REQUIRED, "url = \"https://hooks.example.com/pharos\""),
	D_FN("secret", parse_webhook_secret, 0, NULL),
	D_END
};

static const struct def alertmanager_defs[] = {
	D_FN("url", parse_notifier_url, F_REQUIRED, "url = \"http://127.0.0.1:9093\""),
	D_END
};

static const struct def *const notifier_type_defs[NOTIFIER_TYPE_COUNT] = {
	[NOTIFIER_SLACK] = slack_defs, [NOTIFIER_PAGERDUTY] = pagerduty_defs,
	[NOTIFIER_WEBHOOK] = webhook_defs, [NOTIFIER_ALERTMANAGER] = alertmanager_defs,
};

static const struct def maintenance_defs[] = {
	D_FN("checks", parse_maint_checks, F_REQUIRED, "checks = \"payments-*\""),
	D_FN("start", parse_start, 0, NULL),
	D_FN("weekly", parse_weekly, 0, NULL),
	{ "duration", K_DURATION, offsetof(struct maintenance_window, duration_ms), 0, 1, 0,
	  F_REQUIRED, NULL, "duration = \"2h\"" },
	D_FN("timezone", parse_timezone, 0, NULL),
	D_END
};

static const char *const sections[] = { "agent", "defaults", "checks", "alerts", "notifiers", "maintenance" };

/* Where an unknown name is looked up for a better message. */
enum scope { SCOPE_PLAIN, SCOPE_CHECK, SCOPE_EXPECT, SCOPE_STEP, SCOPE_NOTIFIER };

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

static const char *check_type_str(int t)
{
	return check_type_name((enum check_type)t);
}

static const char *notifier_type_str(int t)
{
	return notifier_type_name((enum notifier_type)t);
}

/* The types other than type whose table in defs knows name, for a message:
 * "\"tcp\"", "\"tcp\" and \"tls\"", "\"http\", \"tcp\" and \"tls\"". NULL
 * when none. */
static const char *types_with(struct loader *ld, const struct def *const *defs, int n_types,
                              int type, const char *name, const char *(*type_str)(int))
{
	int found[CHECK_TYPE_COUNT + NOTIFIER_TYPE_COUNT];
	int n = 0;
	char *out = xstrdup("");

	for (int t = 0; t < n_types; t++)
		if (t != type && find_def(defs[t], name) != NULL)
			found[n++] = t;
	for (int i = 0; i < n; i++) {
		char *next = xasprintf("%s%s\"%s\"", out, i == 0 ? "" : i == n - 1 ? " and " : ", ",
		                       type_str(found[i]));

		free(out);
		out = next;
	}
	tmp(ld, out);
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

	if (scope == SCOPE_STEP && find_def(check_defs, name) != NULL) {
		err(ld, s, "setting \"%s\" in %s belongs to the check, not to one of its steps", name, where);
		return;
	}
	if (scope == SCOPE_CHECK || scope == SCOPE_EXPECT || scope == SCOPE_STEP) {
		others = types_with(ld, scope == SCOPE_EXPECT ? expect_defs : type_defs, CHECK_TYPE_COUNT,
		                    type, name, check_type_str);
		if (others != NULL) {
			err(ld, s, "setting \"%s\" in %s does not apply to check type \"%s\" (it is a setting of %s checks)",
			    name, where, check_type_str(type), others);
			return;
		}
		if (scope == SCOPE_CHECK && find_def(step_defs, name) != NULL) {
			err(ld, s, "setting \"%s\" in %s belongs inside a step of steps = ( ... )", name, where);
			return;
		}
		if (scope != SCOPE_EXPECT && find_def(expect_defs[type], name) != NULL) {
			err(ld, s, "unknown setting \"%s\" in %s (did you mean to put it inside expect = { ... }?)",
			    name, where);
			return;
		}
	}
	if (scope == SCOPE_NOTIFIER) {
		others = types_with(ld, notifier_type_defs, NOTIFIER_TYPE_COUNT, type, name, notifier_type_str);
		if (others != NULL) {
			err(ld, s, "setting \"%s\" in %s does not apply to notifier type \"%s\" (it is a setting of %s notifiers)",
			    name, where, notifier_type_str(type), others);
			return;
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
	char *v = get_str(ld, s, where);
	const char *why;
	char *plain;
	bool https;
	int rc;

	if (v == NULL)
		return;
	plain = url_without_vars(v);
	rc = check_http_url(plain, &https, &why);
	free(plain);
	if (rc < 0) {
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

static void get_host(struct loader *ld, const config_setting_t *s, const char *where, char **dst);

static void parse_tcp_host(struct loader *ld, const config_setting_t *s, void *base, const char *where)
{
	get_host(ld, s, where, &((struct check *)base)->tcp.host);
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

/* --- tls, icmp, heartbeat ------------------------------------------------- */

/* A host name or an IP address (no brackets, no port) into *dst. */
static void get_host(struct loader *ld, const config_setting_t *s, const char *where, char **dst)
{
	char *v = get_str(ld, s, where);

	if (v == NULL)
		return;
	if (!valid_host(v)) {
		err(ld, s, "%s in %s must be a host name or an IP address without brackets or port (got %s)",
		    sname(ld, s), where, quote(ld, config_setting_get_string(s)));
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

/* Frees a string that may hold a credential, wiping it first. */
static void free_secret(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

/* The heartbeat's token: a secret, sent in a query string or a header, so
 * printable ASCII without spaces. Never quoted. */
static void parse_token(struct loader *ld, const config_setting_t *s, void *base, const char *where)
{
	struct check *c = base;
	char *v = get_str(ld, s, where);

	if (v == NULL)
		return;
	secret_add(ld, v);
	if (*v == '\0') {
		err(ld, s, "\"token\" in %s must not be empty", where);
		free(v);
		return;
	}
	for (const char *p = v; *p != '\0'; p++) {
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f) {
			err(ld, s, "\"token\" in %s must be printable ASCII without spaces (the value is not shown)", where);
			free_secret(v);
			return;
		}
	}
	free_secret(c->heartbeat.token);
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
		char *str = get_str(ld, s, where);
		int rc;

		if (str == NULL)
			return;
		rc = parse_percent(str, &v);
		free(str);
		if (rc < 0) {
			err(ld, s, "\"max_loss\" in %s must be a percentage like \"20%%\" (got %s)", where,
			    quote(ld, config_setting_get_string(s)));
			return;
		}
	} else {
		err(ld, s, "\"max_loss\" in %s must be a percentage like \"20%%\" or a number from 0 to 100 (got %s)",
		    where, type_desc(t));
		return;
	}
	if (!isfinite(v) || v < 0 || v > 100) {
		err(ld, s, "\"max_loss\" in %s must be from 0%% to 100%%", where);
		return;
	}
	e->max_loss_pct = v;
}

/* --- depends_on ----------------------------------------------------------- */

/* Names only: whether they exist and loop is known after every check is
 * read (resolve_dependencies). */
static void parse_depends_on(struct loader *ld, const config_setting_t *s, void *base, const char *where)
{
	struct check *c = base;
	size_t n = each(s);

	if (config_setting_is_group(s)) {
		err(ld, s, "\"depends_on\" in %s must be a check name or an array of them like [ \"gateway\" ] (got %s)",
		    where, type_desc(CONFIG_TYPE_GROUP));
		return;
	}
	if (n == 0) {
		err(ld, s, "\"depends_on\" in %s must not be empty (leave it out instead)", where);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const config_setting_t *e = elem(s, i);
		char *v = get_str(ld, e, where);
		bool dup = false;

		if (v == NULL)
			continue;
		if (!valid_name(v)) {
			err(ld, e, "%s in %s must be a check name (got %s)", sname(ld, e), where,
			    quote(ld, config_setting_get_string(e)));
			free(v);
			continue;
		}
		for (size_t j = 0; j < c->n_depends_on; j++)
			dup = dup || strcmp(c->depends_on[j], v) == 0;
		if (dup) {
			err(ld, e, "%s in %s names \"%s\" twice", sname(ld, e), where, v);
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
		err(ld, s, "\"extract\" in %s must be a group like { token = \"$.token\"; session = \"header:Set-Cookie\"; } (got %s)",
		    where, type_desc(config_setting_type(s)));
		return;
	}
	n = config_setting_length(s);
	if (n == 0) {
		err(ld, s, "\"extract\" in %s must not be empty (leave it out instead)", where);
		return;
	}
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		const char *var = config_setting_name(e);
		struct http_extract x = { NULL, NULL, NULL };
		char msg[256];
		char *v;

		if (!valid_name(var)) {
			err(ld, e, "variable name \"%s\" in extract of %s must be 1 to 64 characters from A-Z a-z 0-9 _ . -",
			    var, where);
			continue;
		}
		v = get_str(ld, e, where);
		if (v == NULL)
			continue;
		if (strncmp(v, "header:", 7) == 0) {
			const char *h = v + 7;

			while (*h == ' ' || *h == '\t')
				h++;
			if (!valid_header_name(h)) {
				err(ld, e, "\"%s\" in extract of %s must name a response header like \"header:Set-Cookie\" (got %s)",
				    var, where, quote(ld, config_setting_get_string(e)));
				free(v);
				continue;
			}
			x.header = xstrdup(h);
			free(v);
		} else {
			msg[0] = '\0';
			if (jsonpath_check(v, msg, sizeof(msg)) < 0) {
				err(ld, e, "\"%s\" in extract of %s is neither a JSON path like \"$.token\" nor \"header:NAME\": %s (got %s)",
				    var, where, msg[0] ? msg : "invalid", quote(ld, config_setting_get_string(e)));
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
	static const struct def *const tables[] = { step_defs, http_defs, NULL };
	struct http_step *st = &c->steps[i];
	const config_setting_t *ns, *ex;
	struct check scratch;
	const char *swhere;

	check_init(&scratch);
	st->line = setting_line(g);
	st->http = scratch.http;
	st->expect = scratch.expect;
	if (!config_setting_is_group(g)) {
		err(ld, g, "step %zu of %s must be a group { url = ...; } (got %s)", i + 1, where,
		    type_desc(config_setting_type(g)));
		st->name = xasprintf("step %zu", i + 1);
		return;
	}
	ns = config_setting_get_member(g, "name");
	if (ns != NULL) {
		char *v = get_str(ld, ns, where);

		if (v != NULL && !valid_name(v)) {
			err(ld, ns, "\"name\" of step %zu in %s must be 1 to 64 characters from A-Z a-z 0-9 _ . - (got %s)",
			    i + 1, where, quote(ld, config_setting_get_string(ns)));
			free(v);
			v = NULL;
		}
		for (size_t j = 0; v != NULL && j < i; j++) {
			if (c->steps[j].name != NULL && strcmp(c->steps[j].name, v) == 0) {
				err(ld, ns, "duplicate step name \"%s\" in %s (first defined on line %d)", v, where,
				    c->steps[j].line);
				break;
			}
		}
		st->name = v;
	}
	if (st->name == NULL) {
		st->name = xasprintf("step %zu", i + 1);
		swhere = tmp(ld, xasprintf("step %zu of %s", i + 1, where));
	} else {
		swhere = tmp(ld, xasprintf("step \"%s\" of %s", st->name, where));
	}
	scratch.http.method = xstrdup("GET");
	ld->step = g;
	apply(ld, g, tables, &scratch, swhere, SCOPE_STEP, CHECK_HTTP, false);
	ld->step = NULL;
	if (config_setting_get_member(g, "url") == NULL)
		err(ld, g, "missing required setting \"url\" in %s (url = \"https://...\")", swhere);
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

static void free_vars(struct loader *ld)
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
		err(ld, s, "\"steps\" in %s cannot be nested (a step is one request)", where);
		return;
	}
	if (!config_setting_is_list(s)) {
		err(ld, s, "\"steps\" in %s must be a list of groups like ( { name = \"login\"; url = \"https://...\"; }, ... ) (got %s)",
		    where, type_desc(config_setting_type(s)));
		return;
	}
	n = (size_t)config_setting_length(s);
	if (n == 0) {
		err(ld, s, "\"steps\" in %s must not be empty (leave it out for a single request)", where);
		return;
	}
	if (n > STEPS_MAX) {
		err(ld, s, "\"steps\" in %s has %zu steps; at most %d are allowed", where, n, STEPS_MAX);
		return;
	}
	c->steps = xcalloc(n, sizeof(*c->steps));
	c->n_steps = n;
	free_vars(ld);
	for (size_t i = 0; i < n; i++)
		parse_step(ld, config_setting_get_elem(s, (unsigned)i), c, i, where);
	free_vars(ld);
}

/* --- selectors (alert rules and maintenance windows) ---------------------- */

static bool is_glob(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

/* The names (or the distinct groups) of the checks read so far, for "did
 * you mean". Caller frees the array only. */
static const char **check_names(const struct conf *conf, bool groups, size_t *n)
{
	const char **v = xcalloc(conf->n_checks + 1, sizeof(*v));

	*n = 0;
	for (size_t i = 0; i < conf->n_checks; i++) {
		const char *s = groups ? conf->checks[i].group : conf->checks[i].name;
		bool seen = false;

		if (s == NULL || *s == '\0')
			continue;
		for (size_t j = 0; j < *n; j++)
			seen = seen || strcmp(v[j], s) == 0;
		if (!seen)
			v[(*n)++] = s;
	}
	return v;
}

/* Whether any check read so far is selected by sel. */
static bool selects_any(const struct conf *conf, const char *sel)
{
	for (size_t i = 0; i < conf->n_checks; i++)
		if (conf_selector_matches(sel, &conf->checks[i]))
			return true;
	return false;
}

/* A selector list (a string or an array of strings) into *v / *n. An exact
 * name must be a check's (did you mean); a glob or a group that selects
 * nothing is only a warning (checks come and go; the rule may be meant for
 * later ones). */
static void get_selectors(struct loader *ld, const config_setting_t *s, const char *where,
                          char ***v, size_t *n)
{
	const struct conf *conf = ld->conf;
	size_t len = each(s);

	if (config_setting_is_group(s)) {
		err(ld, s, "%s in %s must be a selector or an array of them like [ \"api\", \"payments-*\", \"group:Payments\" ] (got %s)",
		    sname(ld, s), where, type_desc(CONFIG_TYPE_GROUP));
		return;
	}
	if (len == 0) {
		err(ld, s, "%s in %s must not be empty (\"*\" selects every check)", sname(ld, s), where);
		return;
	}
	for (size_t i = 0; i < len; i++) {
		const config_setting_t *e = elem(s, i);
		char *sel = get_str(ld, e, where);
		const char **names;
		const char *hint;
		size_t nn;

		if (sel == NULL)
			continue;
		if (strcmp(sel, "*") == 0) {
			/* every check */
		} else if (strncmp(sel, "group:", 6) == 0) {
			if (sel[6] == '\0') {
				err(ld, e, "%s in %s has \"group:\" without a group name", sname(ld, e), where);
				free(sel);
				continue;
			}
			if (!selects_any(conf, sel)) {
				names = check_names(conf, true, &nn);
				hint = closest(sel + 6, names, nn);
				warn(ld, e, "%s in %s selects no check: no check has group %s%s%s%s", sname(ld, e), where,
				     quote(ld, sel + 6), hint ? " (did you mean \"" : "", hint ? hint : "", hint ? "\"?)" : "");
				free(names);
			}
		} else if (is_glob(sel)) {
			if (!selects_any(conf, sel))
				warn(ld, e, "%s in %s: the pattern %s matches no check", sname(ld, e), where, quote(ld, sel));
		} else if (!valid_name(sel)) {
			err(ld, e, "%s in %s must be a check name, a glob like \"payments-*\", \"group:NAME\" or \"*\" (got %s)",
			    sname(ld, e), where, quote(ld, config_setting_get_string(e)));
			free(sel);
			continue;
		} else if (conf_find_check(conf, sel) == NULL) {
			names = check_names(conf, false, &nn);
			hint = closest(sel, names, nn);
			err(ld, e, "%s in %s names an unknown check \"%s\"%s%s%s", sname(ld, e), where, sel,
			    hint ? " (did you mean \"" : "", hint ? hint : "", hint ? "\"?)" : "");
			free(names);
			free(sel);
			continue;
		}
		*v = xrealloc(*v, (*n + 1) * sizeof(**v));
		(*v)[(*n)++] = sel;
	}
}

/* --- alert rules ---------------------------------------------------------- */

static void parse_rule_checks(struct loader *ld, const config_setting_t *s, void *base, const char *where)
{
	struct alert_rule *r = base;

	get_selectors(ld, s, where, &r->selectors, &r->n_selectors);
}

/* An expression setting: errors as `rule "down": when: column 17: ...`. */
static void get_expr(struct loader *ld, const config_setting_t *s, const char *where,
                     char **text, struct expr **e)
{
	char *v = get_str(ld, s, where);
	struct expr *x;
	char msg[256];
	int col = 0;

	if (v == NULL)
		return;
	msg[0] = '\0';
	x = expr_parse(v, msg, sizeof(msg), &col);
	if (x == NULL) {
		err(ld, s, "%s: %s: column %d: %s", where, config_setting_name(s), col,
		    msg[0] ? msg : "invalid expression");
		free(v);
		return;
	}
	free(*text);
	expr_free(*e);
	*text = v;
	*e = x;
}

static void parse_when(struct loader *ld, const config_setting_t *s, void *base, const char *where)
{
	struct alert_rule *r = base;

	get_expr(ld, s, where, &r->when_text, &r->when);
}

/* Without `recover`, rule->recover stays NULL: the engine uses not (when). */
static void parse_recover(struct loader *ld, const config_setting_t *s, void *base, const char *where)
{
	struct alert_rule *r = base;

	get_expr(ld, s, where, &r->recover_text, &r->recover);
}

static void parse_severity(struct loader *ld, const config_setting_t *s, void *base, const char *where)
{
	static const char *const names[] = { "critical", "error", "warning", "info" };
	struct alert_rule *r = base;
	char *v = get_str(ld, s, where);
	const char *hint;
	int sev;

	if (v == NULL)
		return;
	sev = alert_severity_from_name(v);
	if (sev >= 0) {
		r->severity = (enum alert_severity)sev;
		free(v);
		return;
	}
	hint = closest(v, names, COUNT(names));
	err(ld, s, "\"severity\" in %s must be one of critical, error, warning, info (got %s%s%s%s)", where,
	    quote(ld, config_setting_get_string(s)), hint ? "; did you mean \"" : "", hint ? hint : "",
	    hint ? "\"?" : "");
	free(v);
}

/* Notifier names; the notifiers are read before the rules. */
static void parse_notify(struct loader *ld, const config_setting_t *s, void *base, const char *where)
{
	struct alert_rule *r = base;
	const struct conf *conf = ld->conf;
	size_t len = each(s);

	if (config_setting_is_group(s)) {
		err(ld, s, "\"notify\" in %s must be a notifier name or an array of them like [ \"oncall\", \"ops-slack\" ] (got %s)",
		    where, type_desc(CONFIG_TYPE_GROUP));
		return;
	}
	if (len == 0) {
		err(ld, s, "\"notify\" in %s must not be empty (leave it out instead)", where);
		return;
	}
	for (size_t i = 0; i < len; i++) {
		const config_setting_t *e = elem(s, i);
		char *v = get_str(ld, e, where);
		bool dup = false;

		if (v == NULL)
			continue;
		if (conf_find_notifier(conf, v) == NULL) {
			const char **names = xcalloc(conf->n_notifiers + 1, sizeof(*names));
			const char *hint;
			size_t nn = 0;

			for (size_t j = 0; j < conf->n_notifiers; j++)
				if (conf->notifiers[j].name != NULL)
					names[nn++] = conf->notifiers[j].name;
			hint = closest(v, names, nn);
			err(ld, e, "%s in %s names an unknown notifier %s%s%s%s", sname(ld, e), where,
			    quote(ld, config_setting_get_string(e)),
			    hint ? " (did you mean \"" : nn == 0 ? " (no notifiers = ( ... ) are defined)" : "",
			    hint ? hint : "", hint ? "\"?)" : "");
			free(names);
			free(v);
			continue;
		}
		for (size_t j = 0; j < r->n_notify; j++)
			dup = dup || strcmp(r->notify[j], v) == 0;
		if (dup) {
			err(ld, e, "%s in %s names notifier \"%s\" twice", sname(ld, e), where, v);
			free(v);
			continue;
		}
		r->notify = xrealloc(r->notify, (r->n_notify + 1) * sizeof(*r->notify));
		r->notify[r->n_notify++] = v;
	}
}

/* --- notifiers ------------------------------------------------------------ */

static void parse_notifier_url(struct loader *ld, const config_setting_t *s, void *base, const char *where)
{
	struct notifier_conf *n = base;
	/* A Slack incoming-webhook URL is the credential itself; a webhook
	 * receiver's often carries one too. */
	bool secret = n->type == NOTIFIER_SLACK || n->type == NOTIFIER_WEBHOOK;
	char *v = get_str(ld, s, where);
	const char *why;
	bool https;
	size_t len;

	if (v == NULL)
		return;
	if (secret)
		secret_add(ld, v);
	if (check_http_url(v, &https, &why) < 0) {
		if (secret) {
			err(ld, s, "\"url\" in %s is not a valid URL: %s (not shown: a %s URL is a secret)", where, why,
			    notifier_type_name(n->type));
		} else {
			char *shown = url_hide_password(ld, config_setting_get_string(s));

			err(ld, s, "\"url\" in %s is not a valid URL: %s (got %s)", where, why, quote(ld, tmp(ld, shown)));
		}
		free(v);
		return;
	}
	free(url_hide_password(ld, v));         /* registers a userinfo password */
	/* Alertmanager's url is a base: /api/v2/alerts is appended. */
	len = strlen(v);
	while (n->type == NOTIFIER_ALERTMANAGER && len > 0 && v[len - 1] == '/')
		v[--len] = '\0';
	free(n->url);
	n->url = v;
}

/* Standard Webhooks: "whsec_" and the base64 of the key. Returns the key's
 * length in bytes, or -1 when s is not that. */
static int webhook_key_len(const char *s)
{
	unsigned char out[128];
	size_t n, pad = 0;
	int len;

	if (strncmp(s, "whsec_", 6) != 0)
		return -1;
	s += 6;
	n = strlen(s);
	if (n == 0 || n % 4 != 0 || n > 4 * (sizeof(out) / 3))
		return -1;
	/* EVP_DecodeBlock skips blanks and ignores what '=' means: check the
	 * alphabet here and subtract the padding below. */
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '=') {
			if (i < n - 2 || (i == n - 2 && s[n - 1] != '='))
				return -1;
			pad++;
		} else if (!isalnum(ch) && ch != '+' && ch != '/') {
			return -1;
		}
	}
	len = EVP_DecodeBlock(out, (const unsigned char *)s, (int)n);
	explicit_bzero(out, sizeof(out));
	if (len < 0)
		return -1;
	return len - (int)pad;
}

static void parse_webhook_secret(struct loader *ld, const config_setting_t *s, void *base, const char *where)
{
	struct notifier_conf *n = base;
	char *v = get_str(ld, s, where);
	int len;

	if (v == NULL)
		return;
	secret_add(ld, v);
	len = webhook_key_len(v);
	if (len < 24 || len > 64) {
		err(ld, s, "\"secret\" in %s must be \"whsec_\" followed by the base64 of a 24 to 64 byte key, as Standard Webhooks specifies (the value is not shown)",
		    where);
		free_secret(v);
		return;
	}
	free_secret(n->secret);
	n->secret = v;
}

/* Notifications per second: an integer or a number with a fraction. */
static void parse_rate(struct loader *ld, const config_setting_t *s, void *base, const char *where)
{
	struct notifier_conf *n = base;
	int t = config_setting_type(s);
	double v;

	if (t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64)
		v = (double)config_setting_get_int64(s);
	else if (t == CONFIG_TYPE_FLOAT)
		v = config_setting_get_float(s);
	else {
		err(ld, s, "\"rate\" in %s must be a number of notifications per second like 2 or 0.5 (got %s)",
		    where, type_desc(t));
		return;
	}
	if (!isfinite(v) || v < 0.001 || v > 1000) {
		err(ld, s, "\"rate\" in %s must be from 0.001 to 1000 notifications per second (got %g)", where, v);
		return;
	}
	n->rate_per_s = v;
}

/* --- maintenance windows -------------------------------------------------- */

static void parse_maint_checks(struct loader *ld, const config_setting_t *s, void *base, const char *where)
{
	struct maintenance_window *m = base;

	get_selectors(ld, s, where, &m->selectors, &m->n_selectors);
}

static void parse_start(struct loader *ld, const config_setting_t *s, void *base, const char *where)
{
	struct maintenance_window *m = base;
	char *v = get_str(ld, s, where);
	int64_t us;

	if (v == NULL)
		return;
	if (util_parse_time(v, &us) < 0 || us <= 0)
		err(ld, s, "\"start\" in %s must be an RFC 3339 time like \"2026-12-01T02:00:00Z\" (got %s)",
		    where, quote(ld, config_setting_get_string(s)));
	else
		m->start_us = us;
	free(v);
}

static void parse_weekly(struct loader *ld, const config_setting_t *s, void *base, const char *where)
{
	struct maintenance_window *m = base;
	char *v = get_str(ld, s, where);

	if (v == NULL)
		return;
	/* The maintenance module's own parser: what it accepts is what runs. */
	if (maintenance_parse_weekly(v, &m->weekly_day, &m->weekly_minute) < 0)
		err(ld, s, "\"weekly\" in %s must be a day (Mon, Tue, Wed, Thu, Fri, Sat, Sun) and a 24-hour time, like \"Sun 01:00\" (got %s)",
		    where, quote(ld, config_setting_get_string(s)));
	free(v);
}

/* An IANA zone name ("Europe/Berlin", "UTC"): a TZif file under
 * /usr/share/zoneinfo, by the maintenance module's own test (the name is
 * checked first, so it can never point outside that directory). */
static void parse_timezone(struct loader *ld, const config_setting_t *s, void *base, const char *where)
{
	struct maintenance_window *m = base;
	char *v = get_str(ld, s, where);

	if (v == NULL)
		return;
	if (!maintenance_timezone_valid(v)) {
		err(ld, s, "\"timezone\" in %s is not a known IANA time zone like \"Europe/Berlin\" or \"UTC\" (got %s)",
		    where, quote(ld, config_setting_get_string(s)));
		free(v);
		return;
	}
	free(m->timezone);
	m->timezone = v;
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
			char *first = url_hide_password(NULL, url ? url : "");

			raw = xasprintf("%s (%zu step%s)", first, c->n_steps, c->n_steps == 1 ? "" : "s");
			free(first);
		} else {
			raw = url_hide_password(NULL, c->http.url ? c->http.url : "");
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
		err(ld, g, "missing required setting \"type\" in %s (one of: http, tcp, dns, tls, icmp, heartbeat)", where);
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
	hint = closest(v, names, COUNT(names));
	err(ld, s, "unknown check type %s in %s (%s%s%ssupported: http, tcp, dns, tls, icmp, heartbeat)",
	    quote(ld, config_setting_get_string(s)), where,
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
		err(ld, config_setting_get_member(g, "client_key"),
		    "\"client_key\" in %s needs \"client_cert\" too", where);
	if (ex == NULL || !config_setting_is_group(ex))
		return;
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

/* A check with steps: every request setting belongs to a step. */
static void steps_combinations(struct loader *ld, const config_setting_t *g, const char *where)
{
	const config_setting_t *s;

	for (const struct def *d = http_defs; d->name != NULL; d++) {
		s = config_setting_get_member(g, d->name);
		if (s != NULL && strcmp(d->name, "steps") != 0)
			err(ld, s, "\"%s\" in %s cannot be used together with \"steps\": each step sets its own (steps inherit nothing)",
			    d->name, where);
	}
	s = config_setting_get_member(g, "expect");
	if (s != NULL)
		err(ld, s, "\"expect\" in %s cannot be used together with \"steps\": each step has its own expect", where);
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
				err(ld, s, "\"%s\" in %s does not apply to heartbeat checks (nothing is probed: a ping is due every interval, plus grace)",
				    probe_settings[i], where);
		}
		return;
	}
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
		if (config_setting_get_member(g, "steps") != NULL)
			steps_combinations(ld, g, where);
		else if (config_setting_get_member(g, "url") == NULL)
			err(ld, g, "missing required setting \"url\" in %s (url = \"https://...\")", where);
		else
			http_combinations(ld, g, c, where);
	}
	if (c->type == CHECK_TCP && ex != NULL && config_setting_is_group(ex) &&
	    config_setting_get_member(ex, "expect_regex") != NULL && c->tcp.send == NULL)
		err(ld, config_setting_get_member(ex, "expect_regex"),
		    "\"expect_regex\" in expect of %s is matched after \"send\", which is not set (use banner_regex for what the server says first)",
		    where);
	if (c->type == CHECK_ICMP) {
		const config_setting_t *cs = config_setting_get_member(g, "count");
		const config_setting_t *sp = config_setting_get_member(g, "spacing");
		uint64_t need = (uint64_t)(c->icmp.count - 1) * c->icmp.spacing_ms;

		if ((cs != NULL || sp != NULL || to != NULL) && !had_error(ld, cs) && !had_error(ld, sp) &&
		    !had_error(ld, to) && need >= c->timeout_ms) {
			char a[32], b[32];

			util_format_duration(c->icmp.spacing_ms, a, sizeof(a));
			util_format_duration(c->timeout_ms, b, sizeof(b));
			err(ld, sp ? sp : cs ? cs : to, "%d echoes \"%s\" apart in %s do not fit in timeout \"%s\" (lower count or spacing, or raise timeout)",
			    c->icmp.count, a, where, b);
		}
	}
}

struct name_seen {
	const char *name;
	int line;
};

/* The name of entry idx of a section whose entries are called what ("check",
 * "rule", "notifier"): required, [A-Za-z0-9_.-]{1,64}, unique among seen.
 * Returns it (a new string) or NULL after recording an error; sets *where to
 * how messages name the entry ("check \"api\"", else "check #3"). */
static char *read_name(struct loader *ld, const config_setting_t *g, const char *what, size_t idx,
                       struct name_seen *seen, size_t *n_seen, const char **where)
{
	const config_setting_t *ns = config_setting_get_member(g, "name");
	char *v;

	*where = tmp(ld, xasprintf("%s #%zu", what, idx + 1));
	if (ns == NULL) {
		err(ld, g, "missing required setting \"name\" in %s", *where);
		return NULL;
	}
	v = get_str(ld, ns, *where);
	if (v != NULL && !valid_name(v)) {
		err(ld, ns, "\"name\" in %s must be 1 to 64 characters from A-Z a-z 0-9 _ . - (got %s)",
		    *where, quote(ld, config_setting_get_string(ns)));
		free(v);
		v = NULL;
	}
	if (v == NULL)
		return NULL;
	*where = tmp(ld, xasprintf("%s \"%s\"", what, v));
	for (size_t i = 0; i < *n_seen; i++) {
		if (strcmp(seen[i].name, v) == 0) {
			err(ld, ns, "duplicate %s name \"%s\" (first defined on line %d)", what, v, seen[i].line);
			break;
		}
	}
	seen[*n_seen].name = v;
	seen[(*n_seen)++].line = setting_line(ns);
	return v;
}

static void parse_check(struct loader *ld, struct conf *conf, const config_setting_t *g,
                        size_t idx, struct name_seen *seen, size_t *n_seen)
{
	struct check *c = &conf->checks[idx];
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

	c->name = read_name(ld, g, "check", idx, seen, n_seen, &where);

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
	if (a->public_url == NULL)     /* the listener speaks HTTPS when tls_cert is set */
		a->public_url = xasprintf("%s://%s", a->tls_cert != NULL ? "https" : "http", a->listen);
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
static void resolve_dependencies(struct loader *ld, struct conf *conf)
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
	names = check_names(conf, false, &nn);
	for (size_t k = 0; k < ld->n_deps; k++) {
		const struct dep_ref *d = &ld->deps[k];
		const struct check *target = conf_find_check(conf, d->name);
		const char *where = conf->checks[d->from].name;

		to[k] = SIZE_MAX;
		if (target == NULL) {
			const char *hint = closest(d->name, names, nn);

			err(ld, d->s, "%s in check \"%s\" names an unknown check \"%s\"%s%s%s", sname(ld, d->s),
			    where ? where : "?", d->name, hint ? " (did you mean \"" : "", hint ? hint : "",
			    hint ? "\"?)" : "");
		} else if ((size_t)(target - conf->checks) == d->from) {
			err(ld, d->s, "%s in check \"%s\" names the check itself", sname(ld, d->s), where ? where : "?");
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
				err(ld, ld->deps[cursor[pos[v]] - 1].s, "%s", text);
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

/* A section that is a list of groups: its length, or -1 after an error. */
static int section_list(struct loader *ld, const config_setting_t *s, const char *example)
{
	if (!config_setting_is_list(s)) {
		err(ld, s, "\"%s\" must be a list of groups like ( %s ) (got %s)", config_setting_name(s), example,
		    type_desc(config_setting_type(s)));
		return -1;
	}
	return config_setting_length(s);
}

static void parse_notifier(struct loader *ld, struct conf *conf, const config_setting_t *g,
                           size_t idx, struct name_seen *seen, size_t *n_seen)
{
	static const char *const types[] = { "slack", "pagerduty", "webhook", "alertmanager" };
	struct notifier_conf *n = &conf->notifiers[idx];
	const config_setting_t *ts;
	const char *where;
	int type = -1;

	n->line = setting_line(g);
	n->max_attempts = 12;
	n->max_age_ms = 24ull * 3600 * 1000;
	n->timeout_ms = 10000;
	n->rate_per_s = -1;
	if (!config_setting_is_group(g)) {
		err(ld, g, "notifier #%zu must be a group { name = ...; type = ...; } (got %s)", idx + 1,
		    type_desc(config_setting_type(g)));
		return;
	}
	n->name = read_name(ld, g, "notifier", idx, seen, n_seen, &where);
	ts = config_setting_get_member(g, "type");
	if (ts == NULL) {
		err(ld, g, "missing required setting \"type\" in %s (one of: slack, pagerduty, webhook, alertmanager)", where);
	} else {
		char *v = get_str(ld, ts, where);

		for (int i = 0; v != NULL && i < NOTIFIER_TYPE_COUNT; i++)
			if (strcmp(v, types[i]) == 0)
				type = i;
		if (v != NULL && type < 0) {
			const char *hint = closest(v, types, COUNT(types));

			err(ld, ts, "unknown notifier type %s in %s (%s%s%ssupported: slack, pagerduty, webhook, alertmanager)",
			    quote(ld, config_setting_get_string(ts)), where,
			    hint ? "did you mean \"" : "", hint ? hint : "", hint ? "\"? " : "");
		}
		free(v);
	}
	if (type >= 0) {
		const struct def *tables[] = { notifier_defs, notifier_type_defs[type], NULL };

		/* Before apply: whether the url is a secret depends on it. */
		n->type = (enum notifier_type)type;
		apply(ld, g, tables, n, where, SCOPE_NOTIFIER, type, false);
	} else {
		static const struct def *const tables[] = { notifier_defs, NULL };

		apply(ld, g, tables, n, where, SCOPE_PLAIN, 0, true);
	}
	if (n->type == NOTIFIER_PAGERDUTY && n->url == NULL)
		n->url = xstrdup("https://events.pagerduty.com/v2/enqueue");
	if (n->rate_per_s < 0)
		n->rate_per_s = n->type == NOTIFIER_SLACK ? 1 : n->type == NOTIFIER_PAGERDUTY ? 2 : 10;
}

static void parse_notifiers(struct loader *ld, struct conf *conf, const config_setting_t *s)
{
	struct name_seen *seen;
	int n;

	if (s == NULL)
		return;
	n = section_list(ld, s, "{ name = \"ops-slack\"; type = \"slack\"; url = \"...\"; }");
	if (n < 0)
		return;
	conf->notifiers = xcalloc(n ? (size_t)n : 1, sizeof(*conf->notifiers));
	conf->n_notifiers = (size_t)n;
	seen = xcalloc(n ? (size_t)n : 1, sizeof(*seen));
	for (size_t i = 0, n_seen = 0; i < (size_t)n; i++)
		parse_notifier(ld, conf, config_setting_get_elem(s, (unsigned)i), i, seen, &n_seen);
	free(seen);
}

static void parse_rule(struct loader *ld, struct conf *conf, const config_setting_t *g,
                       size_t idx, struct name_seen *seen, size_t *n_seen)
{
	static const struct def *const tables[] = { rule_defs, NULL };
	struct alert_rule *r = &conf->rules[idx];
	const char *where;

	r->line = setting_line(g);
	r->severity = SEVERITY_WARNING;
	if (!config_setting_is_group(g)) {
		err(ld, g, "rule #%zu must be a group { name = ...; checks = ...; when = ...; } (got %s)", idx + 1,
		    type_desc(config_setting_type(g)));
		return;
	}
	r->name = read_name(ld, g, "rule", idx, seen, n_seen, &where);
	apply(ld, g, tables, r, where, SCOPE_PLAIN, 0, false);
}

static void parse_rules(struct loader *ld, struct conf *conf, const config_setting_t *s)
{
	struct name_seen *seen;
	int n;

	if (s == NULL)
		return;
	n = section_list(ld, s, "{ name = \"down\"; checks = \"*\"; when = \"consecutive_failures >= 3\"; }");
	if (n < 0)
		return;
	conf->rules = xcalloc(n ? (size_t)n : 1, sizeof(*conf->rules));
	conf->n_rules = (size_t)n;
	seen = xcalloc(n ? (size_t)n : 1, sizeof(*seen));
	for (size_t i = 0, n_seen = 0; i < (size_t)n; i++)
		parse_rule(ld, conf, config_setting_get_elem(s, (unsigned)i), i, seen, &n_seen);
	free(seen);
}

static void parse_window(struct loader *ld, struct conf *conf, const config_setting_t *g, size_t idx)
{
	static const struct def *const tables[] = { maintenance_defs, NULL };
	struct maintenance_window *m = &conf->maintenance[idx];
	const config_setting_t *start, *weekly, *tz, *dur;
	const char *where = tmp(ld, xasprintf("maintenance window #%zu", idx + 1));

	m->line = setting_line(g);
	m->weekly_day = -1;
	if (!config_setting_is_group(g)) {
		err(ld, g, "%s must be a group { checks = ...; start = ...; duration = ...; } (got %s)", where,
		    type_desc(config_setting_type(g)));
		return;
	}
	apply(ld, g, tables, m, where, SCOPE_PLAIN, 0, false);
	start = config_setting_get_member(g, "start");
	weekly = config_setting_get_member(g, "weekly");
	tz = config_setting_get_member(g, "timezone");
	dur = config_setting_get_member(g, "duration");
	if (start != NULL && weekly != NULL)
		err(ld, weekly, "\"start\" and \"weekly\" in %s exclude each other (a window is either one-off or weekly)", where);
	else if (start == NULL && weekly == NULL)
		err(ld, g, "%s needs \"start\" (one-off, like start = \"2026-12-01T02:00:00Z\") or \"weekly\" (like weekly = \"Sun 01:00\")",
		    where);
	else if (start != NULL && tz != NULL)
		err(ld, tz, "\"timezone\" in %s applies to weekly windows only (give \"start\" an offset instead, like \"2026-12-01T02:00:00+01:00\")",
		    where);
	if (weekly != NULL && dur != NULL && !had_error(ld, dur) && m->duration_ms > 7ull * 86400 * 1000)
		err(ld, dur, "\"duration\" in %s must be at most 7d for a weekly window", where);
}

static void parse_maintenance(struct loader *ld, struct conf *conf, const config_setting_t *s)
{
	int n;

	if (s == NULL)
		return;
	n = section_list(ld, s, "{ checks = \"payments-*\"; weekly = \"Sun 01:00\"; duration = \"90m\"; }");
	if (n < 0)
		return;
	conf->maintenance = xcalloc(n ? (size_t)n : 1, sizeof(*conf->maintenance));
	conf->n_maintenance = (size_t)n;
	for (size_t i = 0; i < (size_t)n; i++)
		parse_window(ld, conf, config_setting_get_elem(s, (unsigned)i), i);
}

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

		if (in_list(sections, COUNT(sections), name))
			continue;
		hint = closest(name, sections, COUNT(sections));
		if (hint != NULL)
			err(ld, s, "unknown section \"%s\" (did you mean \"%s\"?)", name, hint);
		else
			err(ld, s, "unknown section \"%s\" (known: agent, defaults, checks, alerts, notifiers, maintenance)", name);
	}
	parse_agent(ld, conf, config_setting_get_member(root, "agent"));
	parse_defaults(ld, conf, config_setting_get_member(root, "defaults"));
	parse_checks(ld, conf, config_setting_get_member(root, "checks"));
	resolve_dependencies(ld, conf);
	parse_notifiers(ld, conf, config_setting_get_member(root, "notifiers"));
	parse_rules(ld, conf, config_setting_get_member(root, "alerts"));
	parse_maintenance(ld, conf, config_setting_get_member(root, "maintenance"));
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
	for (size_t i = 0; i < ld->n_warnings; i++)
		free(ld->warnings[i]);
	free(ld->warnings);
	free(ld->deps);
	free_vars(ld);
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

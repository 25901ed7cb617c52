/* conf_subst.c — substitutions in the config's strings, and the secrets the
 * loader registers.
 *
 * String values (every one, wherever it is) may contain substitutions:
 *   ${env:NAME}     the environment variable NAME (missing: error)
 *   ${file:/path}   the file's contents, one trailing newline stripped
 *                   (missing, unreadable, not a regular file or larger than
 *                   64 KiB: error); a relative path is relative to the
 *                   working directory
 *   $${             a literal "${" (the only escape; a lone "$" is literal)
 * Substituted text is taken as is: it is not scanned for further ${...}.
 * ${var:NAME} (a step's, for run time) is checked here and kept as written
 * (see conf_check_http.c).
 *
 * Every substituted value is a secret (log_secret_add); so are admin_token,
 * basic_auth.password, a password in a URL, the value of any request
 * header whose name contains auth, token, key, secret or cookie, a
 * heartbeat's token, a PagerDuty routing_key, a webhook secret, and the url
 * of slack and webhook notifiers (a Slack webhook URL is a credential). Error
 * messages quote the config's own text (before substitution), never secret
 * settings, and every error line is masked against the secrets once more
 * before it is handed out (conf_report.c). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf/conf_parse.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/util.h"

#define SUBST_FILE_MAX     (64u * 1024)         /* one ${file:...} */
#define SUBST_VALUE_MAX    (1024u * 1024)       /* one string after substitution */

/* --- substitution: ${env:NAME}, ${file:/path}, $${ ------------------------ */

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
 * of its headers (see struct loader in conf_parse.h). */
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
		conf_err(ld, s, "%s in %s uses ${var:...}, which only the url, headers and body of a step in steps = ( ... ) can use",
		         conf_sname(ld, s), where);
		return -1;
	}
	if (n == 0) {
		conf_err(ld, s, "%s in %s has an empty ${var:NAME}", conf_sname(ld, s), where);
		return -1;
	}
	var = conf_tmp(ld, xstrndup(name, n));
	if (!conf_valid_name(var)) {
		conf_err(ld, s, "%s in %s has an invalid variable name in ${var:NAME} (1 to 64 characters from A-Z a-z 0-9 _ . -)",
		         conf_sname(ld, s), where);
		return -1;
	}
	for (size_t i = 0; i < ld->n_vars; i++)
		if (strcmp(ld->vars[i], var) == 0)
			known = true;
	if (!known) {
		const char *hint = conf_closest(var, (const char *const *)ld->vars, ld->n_vars);

		if (hint != NULL)
			conf_err(ld, s, "%s in %s uses ${var:%s}, which no earlier step extracts (did you mean ${var:%s}?)",
			         conf_sname(ld, s), where, var, hint);
		else
			conf_err(ld, s, "%s in %s uses ${var:%s}, which no earlier step extracts (extract = { %s = \"$.path\"; } in a step before this one)",
			         conf_sname(ld, s), where, var, var);
		return -1;
	}
	return 0;
}

/* Expands the substitutions in the string setting s (see the top of the
 * file). Returns a new string, or NULL after recording an error. */
char *conf_expand(struct loader *ld, const config_setting_t *s, const char *where)
{
	const char *raw = config_setting_get_string(s);
	struct buf b = BUF_MAX(SUBST_VALUE_MAX);
	const char *p = raw;
	char *out;
	size_t len;

	/* Most strings substitute nothing: no buffer for them. */
	if (strstr(raw, "${") == NULL)
		return xstrdup(raw);
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
			conf_err(ld, s, "%s in %s has \"${\" without a closing \"}\" (write \"$${\" for a literal \"${\")",
			         conf_sname(ld, s), where);
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
			conf_err(ld, s, "%s in %s has an unknown substitution %s (supported: ${env:NAME}, ${file:/path}; write \"$${\" for a literal \"${\")",
			         conf_sname(ld, s), where, conf_quote(ld, conf_tmp(ld, xstrndup(dollar, (size_t)(close - dollar) + 1))));
			goto fail;
		}
		key = xstrndup(arg, (size_t)(close - arg));
		if (*key == '\0') {
			conf_err(ld, s, "%s in %s has an empty ${%s}", conf_sname(ld, s), where,
			         is_env ? "env:NAME" : "file:/path");
			free(key);
			goto fail;
		}
		if (is_env) {
			const char *v = getenv(key);

			if (v == NULL) {
				conf_err(ld, s, "%s in %s uses the environment variable %s, which is not set",
				         conf_sname(ld, s), where, conf_quote(ld, key));
				free(key);
				goto fail;
			}
			val = xstrdup(v);
		} else {
			val = read_subst_file(key, &why);
			if (val == NULL) {
				conf_err(ld, s, "%s in %s uses ${file:%s}: cannot read it: %s",
				         conf_sname(ld, s), where, key, why);
				free(key);
				goto fail;
			}
		}
		free(key);
		conf_secret_add(ld, val);
		if (buf_add(&b, val, strlen(val)) < 0) {
			free(val);
			goto toolong;
		}
		free(val);
		p = close + 1;
	}
	/* Kept for the conf's life: no more memory than it needs. */
	out = buf_steal(&b, &len);
	return xrealloc(out, len + 1);
toolong:
	conf_err(ld, s, "%s in %s is longer than 1 MiB after substitution", conf_sname(ld, s), where);
fail:
	buf_free(&b);
	return NULL;
}

/* --- secrets -------------------------------------------------------------- */

/* Registers a secret: for the log, and to mask this load's error lines. */
void conf_secret_add(struct loader *ld, const char *s)
{
	if (s == NULL || *s == '\0')
		return;
	log_secret_add(s);
	ld->secrets = xrealloc(ld->secrets, (ld->n_secrets + 1) * sizeof(*ld->secrets));
	ld->secrets[ld->n_secrets++] = xstrdup(s);
}

/* Registers the password of a URL's userinfo as a secret and returns a copy
 * of url with it replaced by "***" (the text is kept as the user wrote it). */
char *conf_url_hide_password(struct loader *ld, const char *url)
{
	char *pass;
	char *out = util_url_hide_password(url, &pass);

	if (pass != NULL && ld != NULL)
		conf_secret_add(ld, pass);
	free(pass);
	return out;
}

/* Frees a string that may hold a credential, wiping it first. */
void conf_free_secret(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

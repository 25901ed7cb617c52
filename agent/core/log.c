/* log.c — the one logger: logfmt or JSON lines on stderr, one write(2) each,
 * with every registered secret masked before anything is formatted.
 *
 * The level defaults to info. The environment variable PHAROS_LOG_LEVEL
 * (debug, info, warn, error) may only *lower* the threshold set by the
 * configuration (log_setup): an operator can ask for debug output without
 * editing the config, but cannot silence errors the config wants shown. */
#include "core/buf.h"
#include "core/log.h"
#include "core/util.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A value longer than this is cut (after masking, so no secret is cut in half
 * and half-leaked). Keeps one line from becoming megabytes. */
#define LOG_VALUE_MAX 4096
#define LOG_MAX_PAIRS 32

static enum log_format log_format = LOG_FORMAT_LOGFMT;
static int log_min_level = LOG_INFO;    /* read with __atomic: any thread logs */

static pthread_mutex_t secrets_lock = PTHREAD_MUTEX_INITIALIZER;
static char **secrets;                  /* guarded by secrets_lock */
static size_t secrets_n;

static const char *const level_names[] = { "debug", "info", "warn", "error" };

/* Maps "debug" etc. to a level; -1 when unknown. */
static int level_from_name(const char *s)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcasecmp(s, level_names[i]) == 0)
			return (int)i;
	}
	if (strcasecmp(s, "warning") == 0)
		return LOG_WARN;
	return -1;
}

/* Sets the output format and the threshold; PHAROS_LOG_LEVEL may lower it. */
/* PHAROS_LOG_LEVEL as a level, or -1 when unset or unknown. Read once. */
static int env_level = -1;
static pthread_once_t env_once = PTHREAD_ONCE_INIT;

static void env_read(void)
{
	const char *env = getenv("PHAROS_LOG_LEVEL");

	if (env != NULL)
		env_level = level_from_name(env);
	/* Also lowers the default, for lines logged before log_setup. */
	if (env_level >= 0 && env_level < log_min_level)
		__atomic_store_n(&log_min_level, env_level, __ATOMIC_RELAXED);
}

void log_setup(enum log_format format, enum log_level min_level)
{
	int level = (int)min_level;

	pthread_once(&env_once, env_read);
	if (env_level >= 0 && env_level < level)
		level = env_level;
	__atomic_store_n(&log_format, format, __ATOMIC_RELAXED);
	__atomic_store_n(&log_min_level, level, __ATOMIC_RELAXED);
}

/* True when a line at this level would be written (the macros call this
 * first so arguments are not formatted for nothing). */
bool log_enabled(enum log_level level)
{
	pthread_once(&env_once, env_read);
	return (int)level >= __atomic_load_n(&log_min_level, __ATOMIC_RELAXED);
}

/* Registers a copy of secret unless known, with secrets_lock held. */
static void secret_add_locked(const char *secret)
{
	for (size_t i = 0; i < secrets_n; i++) {
		if (strcmp(secrets[i], secret) == 0)
			return;
	}
	secrets = xrealloc(secrets, (secrets_n + 1) * sizeof(*secrets));
	secrets[secrets_n++] = xstrdup(secret);
}

/* The percent-encoded form of secret (each byte outside RFC 3986's
 * unreserved characters as %XX), or NULL when it equals secret. A secret
 * put in a URL can come back encoded (a redirect, an effective URL). */
static char *percent_encoded(const char *secret)
{
	static const char hex[] = "0123456789ABCDEF";
	struct buf b = BUF_INIT;
	bool changed = false;

	for (const unsigned char *p = (const unsigned char *)secret; *p != '\0'; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		    *p == '-' || *p == '.' || *p == '_' || *p == '~') {
			buf_addc(&b, (char)*p);
		} else {
			char esc[3] = { '%', hex[*p >> 4], hex[*p & 15] };

			buf_add(&b, esc, 3);
			changed = true;
		}
	}
	if (!changed) {
		buf_free(&b);
		return NULL;
	}
	return buf_steal(&b, NULL);
}

/* Registers a copy of secret, and of its percent-encoded form (ignored when
 * shorter than 4 or already known). */
void log_secret_add(const char *secret)
{
	char *enc;

	if (secret == NULL || strlen(secret) < 4)
		return;
	enc = percent_encoded(secret);
	pthread_mutex_lock(&secrets_lock);
	secret_add_locked(secret);
	if (enc != NULL)
		secret_add_locked(enc);
	pthread_mutex_unlock(&secrets_lock);
	free(enc);
}

/* Forgets every secret. */
void log_secret_clear(void)
{
	pthread_mutex_lock(&secrets_lock);
	for (size_t i = 0; i < secrets_n; i++)
		free(secrets[i]);
	free(secrets);
	secrets = NULL;
	secrets_n = 0;
	pthread_mutex_unlock(&secrets_lock);
}

/* Masks with secrets_lock held. At each position the longest registered
 * secret that matches wins, so overlapping secrets leave nothing behind. */
static char *mask_locked(const char *s)
{
	size_t len = strlen(s), o = 0, i = 0;
	char *out;

	if (secrets_n == 0)
		return xstrdup(s);
	/* Each match of >= 4 bytes becomes 3 bytes: the result is never longer. */
	out = xmalloc(len + 1);
	while (i < len) {
		size_t best = 0;

		for (size_t k = 0; k < secrets_n; k++) {
			size_t sl = strlen(secrets[k]);

			if (sl > best && sl <= len - i && memcmp(s + i, secrets[k], sl) == 0)
				best = sl;
		}
		if (best > 0) {
			memcpy(out + o, "***", 3);
			o += 3;
			i += best;
		} else {
			out[o++] = s[i++];
		}
	}
	out[o] = '\0';
	return out;
}

/* Newly allocated copy of s with each registered secret replaced by "***".
 * NULL in, NULL out. */
char *log_mask_secrets(const char *s)
{
	char *r;

	if (s == NULL)
		return NULL;
	pthread_mutex_lock(&secrets_lock);
	r = mask_locked(s);
	pthread_mutex_unlock(&secrets_lock);
	return r;
}

void log_mask_json(json_t *j)
{
	const char *key;
	json_t *v;
	size_t i;

	if (json_is_object(j)) {
		json_object_foreach(j, key, v)
			log_mask_json(v);
	} else if (json_is_array(j)) {
		json_array_foreach(j, i, v)
			log_mask_json(v);
	} else if (json_is_string(j)) {
		char *m = log_mask_secrets(json_string_value(j));

		if (strcmp(m, json_string_value(j)) != 0 && json_string_set(j, m) != 0)
			json_string_set(j, "***");
		free(m);
	}
}

/* logfmt needs quotes when a value is empty or contains a space, '=', '"',
 * '\' or a control character; bytes >= 0x80 (UTF-8) are left as they are. */
static bool needs_quotes(const char *v)
{
	if (*v == '\0')
		return true;
	for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
		if (*p <= ' ' || *p == '=' || *p == '"' || *p == '\\' || *p == 0x7f)
			return true;
	}
	return false;
}

static void add_logfmt_value(struct buf *b, const char *v)
{
	if (!needs_quotes(v)) {
		buf_adds(b, v);
		return;
	}
	buf_addc(b, '"');
	for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
		char esc[8];

		switch (*p) {
		case '"':  buf_adds(b, "\\\""); break;
		case '\\': buf_adds(b, "\\\\"); break;
		case '\n': buf_adds(b, "\\n"); break;
		case '\r': buf_adds(b, "\\r"); break;
		case '\t': buf_adds(b, "\\t"); break;
		default:
			if (*p < ' ' || *p == 0x7f) {
				snprintf(esc, sizeof(esc), "\\x%02x", *p);
				buf_adds(b, esc);
			} else {
				buf_addc(b, (char)*p);
			}
		}
	}
	buf_addc(b, '"');
}

/* Keys come from our code, but a key with odd bytes must still not break the
 * line: anything other than [A-Za-z0-9_.-] becomes '_'. */
static void add_logfmt_key(struct buf *b, const char *k)
{
	if (*k == '\0') {
		buf_addc(b, '_');
		return;
	}
	for (const char *p = k; *p; p++) {
		char c = *p;
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		          (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';

		buf_addc(b, ok ? c : '_');
	}
}

/* jansson refuses invalid UTF-8; such bytes become '?' rather than losing the
 * whole value. */
static json_t *json_text(const char *s)
{
	json_t *j = json_string(s);
	char *copy;

	if (j != NULL)
		return j;
	copy = xstrdup(s);
	for (unsigned char *p = (unsigned char *)copy; *p; p++) {
		if (*p >= 0x80)
			*p = '?';
	}
	j = json_string(copy);
	free(copy);
	return j;
}

/* Caps a masked value at LOG_VALUE_MAX bytes, in place. */
static void cap_value(char *v)
{
	if (strlen(v) > LOG_VALUE_MAX)
		memcpy(v + LOG_VALUE_MAX - 3, "...", 4);
}

/* Writes one line with a single write(2). A short write is not retried (it
 * would interleave with other threads' lines); EINTR is. */
static void write_line(const char *p, size_t len)
{
	ssize_t n;

	do {
		n = write(2, p, len);
	} while (n < 0 && errno == EINTR);
}

/* Formats and writes one event: msg, then key/value pairs up to a NULL key.
 * A NULL value ends the list too (written as an empty value), so a caller that
 * passes an unset optional string cannot make us read past the terminator. */
void log_emit(enum log_level level, const char *msg, ...)
{
	const char *keys[LOG_MAX_PAIRS];
	char *vals[LOG_MAX_PAIRS];
	char *mmsg, ts[40];
	struct buf b = BUF_INIT;     /* bounded by LOG_MAX_PAIRS * LOG_VALUE_MAX-ish */
	size_t n = 0;
	va_list ap;

	if ((int)level < 0 || (int)level > LOG_ERROR)
		level = LOG_ERROR;
	util_format_time(util_wall_us(), ts, sizeof(ts));

	pthread_mutex_lock(&secrets_lock);
	mmsg = mask_locked(msg ? msg : "");
	va_start(ap, msg);
	for (;;) {
		const char *k = va_arg(ap, const char *);
		const char *v;

		if (k == NULL)
			break;
		v = va_arg(ap, const char *);
		if (n < LOG_MAX_PAIRS) {
			keys[n] = k;
			vals[n] = mask_locked(v ? v : "");
			n++;
		}
		if (v == NULL)
			break;
	}
	va_end(ap);
	pthread_mutex_unlock(&secrets_lock);

	cap_value(mmsg);
	for (size_t i = 0; i < n; i++)
		cap_value(vals[i]);

	if (__atomic_load_n(&log_format, __ATOMIC_RELAXED) == LOG_FORMAT_JSON) {
		json_t *o = json_object();
		char *s = NULL;

		if (o != NULL) {
			json_object_set_new(o, "ts", json_string(ts));
			json_object_set_new(o, "level", json_string(level_names[level]));
			json_object_set_new(o, "msg", json_text(mmsg));
			for (size_t i = 0; i < n; i++) {
				/* Pairs never overwrite the three fixed keys. */
				if (strcmp(keys[i], "ts") == 0 || strcmp(keys[i], "level") == 0 ||
				    strcmp(keys[i], "msg") == 0)
					continue;
				json_t *jv = json_text(vals[i]);

				if (jv != NULL && json_object_set_new(o, keys[i], jv) < 0)
					continue;   /* invalid UTF-8 key: set_new already freed jv */
			}
			s = json_dumps(o, JSON_COMPACT);
			json_decref(o);
		}
		if (s != NULL) {
			buf_adds(&b, s);
			free(s);
		} else {
			buf_adds(&b, "{\"msg\":\"log: cannot encode line\"}");
		}
	} else {
		buf_adds(&b, "ts=");
		buf_adds(&b, ts);
		buf_adds(&b, " level=");
		buf_adds(&b, level_names[level]);
		buf_adds(&b, " msg=");
		add_logfmt_value(&b, mmsg);
		for (size_t i = 0; i < n; i++) {
			buf_addc(&b, ' ');
			add_logfmt_key(&b, keys[i]);
			buf_addc(&b, '=');
			add_logfmt_value(&b, vals[i]);
		}
	}
	buf_addc(&b, '\n');
	write_line(b.p, b.len);

	buf_free(&b);
	free(mmsg);
	for (size_t i = 0; i < n; i++)
		free(vals[i]);
}

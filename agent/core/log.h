/* log.h — the one logger. One event per line on stderr, logfmt (default) or
 * JSON, each with ts, level, msg and the key/value pairs the caller gives.
 *
 *   log_info("probe finished", "check", c->name, "run_id", id, "ok", "true");
 *
 * Values are strings (format numbers into a small buffer first). Any value, and
 * the message, that contains a registered secret has the secret replaced by
 * "***", so a token can never reach the log even by accident. Safe to call from
 * any thread: each line is written with a single write(2). */
#ifndef PHAROS_LOG_H
#define PHAROS_LOG_H

#include <stdbool.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };
enum log_format { LOG_FORMAT_LOGFMT, LOG_FORMAT_JSON };

void log_setup(enum log_format format, enum log_level min_level);
bool log_enabled(enum log_level level);

/* msg, then key, value, key, value, ..., then NULL. Use the macros below. */
void log_emit(enum log_level level, const char *msg, ...);

#define log_debug(...) do { if (log_enabled(LOG_DEBUG)) log_emit(LOG_DEBUG, __VA_ARGS__, (const char *)0); } while (0)
#define log_info(...)  do { if (log_enabled(LOG_INFO))  log_emit(LOG_INFO,  __VA_ARGS__, (const char *)0); } while (0)
#define log_warn(...)  do { if (log_enabled(LOG_WARN))  log_emit(LOG_WARN,  __VA_ARGS__, (const char *)0); } while (0)
#define log_error(...) do { if (log_enabled(LOG_ERROR)) log_emit(LOG_ERROR, __VA_ARGS__, (const char *)0); } while (0)

/* Registers a secret to be masked in every later log line (copied; values
 * shorter than 4 characters are ignored, they would mask too much). */
void log_secret_add(const char *secret);
/* Forgets every registered secret (before a reload registers the new ones). */
void log_secret_clear(void);

/* Returns a newly allocated copy of s with every registered secret replaced by
 * "***". Caller frees. Used by the API and page too. */
char *log_mask_secrets(const char *s);

/* Masks every registered secret in every string value of j (a jansson
 * json_t; objects and arrays recursively), in place. Keys are left alone:
 * they are ours, not the user's. NULL is ignored. The one JSON masker of the
 * results (probes/result.c) and the API (agent/web/api.c). */
struct json_t;
void log_mask_json(struct json_t *j);

#endif

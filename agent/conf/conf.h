/* conf.h — loading and validating the configuration file (libconfig syntax).
 *
 * conf_load() builds a whole new struct conf or nothing: every error found is
 * collected as "FILE:LINE: message" (the line of the offending setting), not
 * only the first, and the caller keeps whatever config it had (SIGHUP reload).
 *
 * Strings may contain ${env:NAME} and ${file:/path} (replaced at load time; a
 * missing variable or file is an error). Every value substituted that way, and
 * every secret setting, is registered with log_secret_add(). */
#ifndef PHAROS_CONF_H
#define PHAROS_CONF_H

#include "conf/conf_lookup.h"
#include "conf/conf_types.h"

/* Reads and validates path and the files its `include` names. Returns a new conf (refs = 1), or NULL with at
 * least one line in errs. errs must be zeroed by the caller. */
struct conf *conf_load(const char *path, struct conf_errors *errs);

/* The same for a config held in memory; name is what error lines start with. */
struct conf *conf_load_string(const char *text, const char *name, struct conf_errors *errs);

void conf_errors_free(struct conf_errors *errs);

/* conf_ref, conf_unref, conf_find_check, conf_find_rule, conf_find_notifier,
 * conf_selector_matches: conf_lookup.h. */

/* The path to use: -c FILE, else $PHAROS_CONFIG, else CONF_DEFAULT_PATH. */
const char *conf_default_path(const char *opt_path);

#endif

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

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alerts/alert.h"
#include "alerts/notify.h"
#include "probes/check.h"
#include "core/log.h"

#define CONF_DEFAULT_PATH "/etc/pharos/pharos.conf"

struct conf_names;          /* name -> position (conf_names.c) */

struct conf_agent {
	char *listen;               /* "127.0.0.1:9470" */
	char *database;             /* "/var/lib/pharos/pharos.db" */
	char *public_url;           /* default "http://<listen>" */
	char *admin_token;          /* NULL: admin API disabled (403) */
	enum log_format log_format;
	uint64_t retention_raw_ms;      /* default 14d */
	uint64_t retention_rollups_ms;  /* default 400d */
	char *title;                /* default "pharos status" */
	char *location;             /* default: host name */
	bool location_set;          /* location written in the config (not the default) */
	char *source_address;       /* IP every probe is sent from; NULL: the system's choice */
	char *tls_cert, *tls_key;   /* NULL: plain HTTP */
	char *health_listen;        /* /healthz, /readyz, /metrics only; NULL: none */
	int threads;                /* probe loop threads; 0 (default): one per core */
	int check_histograms_up_to; /* per-check histogram buckets and phase gauges in
	                               /metrics while checks <= this (default 10,000) */
};

/* One entry of `announcements = (...)` (conf_announce.c): shown on the status
 * page and in the feed between start and end. */
struct announcement {
	char *title;
	char *body;                 /* "" when none */
	char *severity;             /* "info" (default), "warning", "outage", "maintenance" */
	int64_t start_us, end_us;   /* 0: no bound */
	char **selectors; size_t n_selectors;  /* the checks it concerns; none: all */
	int line;
};
void announcement_clear(struct announcement *a);

struct conf {
	char *path;                     /* the main file */
	char **included;                /* the files its `include` read, in order */
	size_t n_included;
	struct conf_agent agent;
	uint64_t default_interval_ms;   /* 30s */
	uint64_t default_timeout_ms;    /* 10s */
	struct check *checks;
	size_t n_checks;
	struct alert_rule *rules;       /* `alerts = (...)` */
	size_t n_rules;
	struct notifier_conf *notifiers;
	size_t n_notifiers;
	struct maintenance_window *maintenance;
	size_t n_maintenance;
	struct announcement *announcements;
	size_t n_announcements;
	/* The names of checks, rules and notifiers to their positions: lookups
	 * by name take constant time at any size. NULL in a conf built by
	 * hand (tests): lookups then walk the array. */
	struct conf_names *check_names, *rule_names, *notifier_names;
	int refs;                       /* conf_ref / conf_unref; starts at 1 */
};

struct conf_errors {
	char **lines;               /* "FILE:LINE: message" */
	size_t n;
};

/* Reads and validates path and the files its `include` names. Returns a new conf (refs = 1), or NULL with at
 * least one line in errs. errs must be zeroed by the caller. */
struct conf *conf_load(const char *path, struct conf_errors *errs);

/* The same for a config held in memory; name is what error lines start with. */
struct conf *conf_load_string(const char *text, const char *name, struct conf_errors *errs);

void conf_errors_free(struct conf_errors *errs);

/* Reference counting: a probe in flight keeps the conf its check belongs to. */
struct conf *conf_ref(struct conf *c);
void conf_unref(struct conf *c);

/* The check / rule / notifier named name, or NULL. */
const struct check *conf_find_check(const struct conf *c, const char *name);
const struct alert_rule *conf_find_rule(const struct conf *c, const char *name);
const struct notifier_conf *conf_find_notifier(const struct conf *c, const char *name);

/* True when check c is selected by selector: an exact name, a glob
 * ("payments-*", fnmatch rules), "group:NAME" or "*" (selector_matches,
 * probes/selector.h). */
bool conf_selector_matches(const char *selector, const struct check *c);

/* The path to use: -c FILE, else $PHAROS_CONFIG, else CONF_DEFAULT_PATH. */
const char *conf_default_path(const char *opt_path);

#endif

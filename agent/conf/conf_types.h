/* conf_types.h — the shape of a loaded configuration: struct conf and what
 * it holds (agent settings, announcements; checks, rules and notifiers are
 * the probes' and alerts' structs). Types only: the loader's parts build on
 * it without depending on the loader's entry point (conf.h, conf.c). */
#ifndef PHAROS_CONF_TYPES_H
#define PHAROS_CONF_TYPES_H

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
	int page_full_up_to;        /* GET / lists every check on one page while checks
	                               <= this (default 2,000); else a summary and pages */
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

#endif

/* conf.c — loads the configuration file (libconfig syntax) into a new struct
 * conf and validates every setting, collecting every error as "FILE:LINE:
 * message" so a user fixes a config in one pass, not one error at a time.
 *
 * This file is the loader's core: conf_load(), the order of the sections,
 * and the public lookups. The rest is split by concern (conf_internal.h
 * holds what they share):
 *   conf_files.c    reading files, parsing them, the main file's `include`
 *   conf_report.c   errors and warnings ("FILE:LINE:"), message helpers
 *   conf_values.c   typed getters and validators of one value
 *   conf_apply.c    walking a group against its tables, entry names,
 *                   sections whose lists come from several files
 *   conf_names.c    names to positions: duplicates and lookups in O(1)
 *   conf_agent.c    the agent and defaults sections
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
 * Order of the sections (whatever their order in the file): include (every
 * included file is read first), agent, defaults, checks (then depends_on is
 * resolved: names exist, no cycle), notifiers, alerts (selectors are checked
 * against the checks, notify against the notifiers), maintenance. The lists
 * of the included files join the main file's, in file order.
 *
 * Every step is linear in the number of entries (names are indexed), so a
 * config of 100,000 checks is validated in seconds.
 *
 * A setting that takes a list also takes a single value: status = 200,
 * headers = "A: b", depends_on = "gateway", checks = "*", notify = "oncall".
 *
 * File settings (tls_cert, tls_key, ca_file, client_cert, client_key) must
 * be readable at load time; relative paths are relative to the working
 * directory, as for ${file:...}.
 *
 * libconfig's "@include" is refused: it could read any file (or a FIFO, and
 * hang); `include` (conf_files.c) is the way to split a config. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "conf/conf.h"
#include "conf/conf_internal.h"
#include "probes/selector.h"
#include "core/util.h"

/* --- one load ------------------------------------------------------------- */

static const char *const sections[] = { "include", "agent", "defaults", "checks", "alerts", "notifiers",
                                        "maintenance", "announcements" };

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
	for (size_t i = 0; i < c->n_announcements; i++)
		announcement_clear(&c->announcements[i]);
	free(c->announcements);
	conf_names_free(c->check_names);
	conf_names_free(c->rule_names);
	conf_names_free(c->notifier_names);
	free(c->agent.listen);
	free(c->agent.database);
	free(c->agent.public_url);
	free(c->agent.admin_token);
	free(c->agent.title);
	free(c->agent.location);
	free(c->agent.source_address);
	free(c->agent.tls_cert);
	free(c->agent.tls_key);
	free(c->agent.health_listen);
	for (size_t i = 0; i < c->n_included; i++)
		free(c->included[i]);
	free(c->included);
	free(c->path);
	free(c);
}

/* Every root setting of the main file: the known sections, or an error. */
static void check_main_root(struct loader *ld, const config_setting_t *root)
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
			conf_err(ld, s, "unknown section \"%s\" (known: include, agent, defaults, checks, alerts, notifiers, maintenance, announcements)",
			         name);
	}
}

/* Each check's file: the checks of file f come after those of the files
 * before it (conf_section_entries). */
static void set_check_files(struct loader *ld, struct conf *conf)
{
	size_t idx = 0;

	for (size_t f = 0; f < ld->n_files; f++) {
		const config_setting_t *list = config_lookup(&ld->files[f]->cfg, "checks");

		if (list == NULL || !config_setting_is_list(list))
			continue;
		for (int i = 0; i < config_setting_length(list) && idx < conf->n_checks; i++)
			conf->checks[idx++].file = ld->files[f]->conf_path;
	}
}

/* The sections, whatever their order in the files. Order matters: rules and
 * maintenance windows select checks, rules name notifiers. */
static void parse_root(struct loader *ld, struct conf *conf, const config_setting_t *root)
{
	check_main_root(ld, root);
	if (conf_files_include(ld, conf, config_setting_get_member(root, "include")) < 0)
		return;         /* a file is missing or broken: the rest would mislead */
	conf_parse_agent(ld, conf, config_setting_get_member(root, "agent"));
	conf_parse_defaults(ld, conf, config_setting_get_member(root, "defaults"));
	conf_parse_checks(ld, conf, conf_section_first(ld, "checks"));
	set_check_files(ld, conf);
	conf_resolve_dependencies(ld, conf);
	conf_parse_notifiers(ld, conf, conf_section_first(ld, "notifiers"));
	conf_parse_rules(ld, conf, conf_section_first(ld, "alerts"));
	conf_parse_maintenance(ld, conf, conf_section_first(ld, "maintenance"));
	conf_parse_announcements(ld, conf, conf_section_first(ld, "announcements"));
}

/* Loads text as the main file name; st: that file's identity, or NULL. */
static struct conf *load_text(const char *text, const char *name, const struct stat *st,
                              struct conf_errors *errs)
{
	struct loader ld = { 0 };
	struct conf *conf = NULL;
	struct conf_file *main_file;

	ld.name = name;
	main_file = conf_file_add(&ld, name);
	if (st != NULL) {
		main_file->dev = st->st_dev;
		main_file->ino = st->st_ino;
	}
	if (conf_file_parse(&ld, main_file, text) < 0)
		goto out;
	conf = xcalloc(1, sizeof(*conf));
	conf->path = xstrdup(name);
	conf->refs = 1;
	conf->default_interval_ms = 30000;
	conf->default_timeout_ms = 10000;
	conf_agent_defaults(&conf->agent);
	main_file->conf_path = conf->path;
	ld.conf = conf;
	parse_root(&ld, conf, config_root_setting(&main_file->cfg));
out:
	if (ld.n_errs > 0 || ld.too_many) {
		conf_errors_flush(&ld, errs);
		conf_free(conf);
		conf = NULL;
	} else {
		conf_warnings_log(&ld);
	}
	conf_loader_free(&ld);
	return conf;
}

/* --- public --------------------------------------------------------------- */

struct conf *conf_load_string(const char *text, const char *name, struct conf_errors *errs)
{
	return load_text(text ? text : "", name ? name : "config", NULL, errs);
}

struct conf *conf_load(const char *path, struct conf_errors *errs)
{
	struct conf *conf;
	struct stat st;
	char *text, *why;
	int line;

	text = conf_file_read(path, false, &line, &why);
	if (text == NULL) {
		if (line > 0)
			conf_errors_add(errs, xasprintf("%s:%d: %s", path, line, why));
		else
			conf_errors_add(errs, xasprintf("%s: %s", path, why));
		free(why);
		return NULL;
	}
	conf = load_text(text, path, stat(path, &st) == 0 ? &st : NULL, errs);
	free(text);
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

/* The position of name by the index idx, or -1. A conf built by hand (tests)
 * has no index: *known is false and the caller walks the array. */
static long indexed(const struct conf_names *idx, const char *name, bool *known)
{
	*known = idx != NULL;
	return *known ? conf_names_find(idx, name) : -1;
}

/* Constant time in a loaded conf (its names are indexed). */
const struct check *conf_find_check(const struct conf *c, const char *name)
{
	bool known;
	long pos;

	if (c == NULL || name == NULL)
		return NULL;
	pos = indexed(c->check_names, name, &known);
	if (known)
		return pos >= 0 ? &c->checks[pos] : NULL;
	for (size_t i = 0; i < c->n_checks; i++)
		if (c->checks[i].name != NULL && strcmp(c->checks[i].name, name) == 0)
			return &c->checks[i];
	return NULL;
}

const struct alert_rule *conf_find_rule(const struct conf *c, const char *name)
{
	bool known;
	long pos;

	if (c == NULL || name == NULL)
		return NULL;
	pos = indexed(c->rule_names, name, &known);
	if (known)
		return pos >= 0 ? &c->rules[pos] : NULL;
	for (size_t i = 0; i < c->n_rules; i++)
		if (c->rules[i].name != NULL && strcmp(c->rules[i].name, name) == 0)
			return &c->rules[i];
	return NULL;
}

const struct notifier_conf *conf_find_notifier(const struct conf *c, const char *name)
{
	bool known;
	long pos;

	if (c == NULL || name == NULL)
		return NULL;
	pos = indexed(c->notifier_names, name, &known);
	if (known)
		return pos >= 0 ? &c->notifiers[pos] : NULL;
	for (size_t i = 0; i < c->n_notifiers; i++)
		if (c->notifiers[i].name != NULL && strcmp(c->notifiers[i].name, name) == 0)
			return &c->notifiers[i];
	return NULL;
}

/* Kept for the loader's callers and tests: the rule itself is probes/selector.c. */
bool conf_selector_matches(const char *selector, const struct check *c)
{
	return selector_matches(selector, c);
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

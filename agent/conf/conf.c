/* conf.c — loads the configuration file (libconfig syntax) into a new struct
 * conf and validates every setting, collecting every error as "FILE:LINE:
 * message" so a user fixes a config in one pass, not one error at a time.
 *
 * This file is the loader's entry point and the top of agent/conf/:
 * conf_load(), the order of the sections, and freeing the loader. Nothing
 * below calls it. The rest is split by concern (conf_parse.h holds what the
 * parts share; each builds only on those listed after it):
 *   conf_agent.c    the agent and defaults sections
 *   conf_announce.c announcements
 *   conf_alerts.c   notifiers, alert rules, maintenance windows, selectors
 *   conf_checks.c   the checks: building their tables, one check, depends_on
 *                   and its cycles, targets, fingerprints
 *   conf_check_values.c, conf_check_http.c  the parsers of check settings
 *                   (conf_check_parser in the first finds the second's)
 *   conf_validate.c a check type's rules that combine settings
 *   conf_files.c    reading files, parsing them, the main file's `include`
 *   conf_apply.c    walking a group against its tables, entry names,
 *                   sections whose lists come from several files
 *   conf_tables.c   the check tables (filled by conf_checks.c)
 *   conf_select.c   selectors at scale
 *   conf_values.c   typed getters and validators of one value
 *   conf_subst.c    ${env:NAME}, ${file:/path}, $${ and secret registration
 *   conf_report.c   errors and warnings ("FILE:LINE:"), message helpers
 *   conf_lookup.c   the loaded conf: references, look-ups, freeing
 *   conf_names.c    valid names; names to positions in O(1)
 *   conf_types.h    the structs of a loaded conf
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
#include "conf/conf_parse.h"
#include "probes/selector.h"
#include "core/util.h"

/* --- one load ------------------------------------------------------------- */

static const char *const sections[] = { "include", "agent", "defaults", "checks", "alerts", "notifiers",
                                        "maintenance", "announcements" };

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
		conf_unref(conf);
		conf = NULL;
	} else {
		conf_warnings_log(&ld);
	}
	conf_loader_free(&ld);
	return conf;
}

void conf_loader_free(struct loader *ld)
{
	for (size_t i = 0; i < ld->n_files; i++) {
		config_destroy(&ld->files[i]->cfg);
		free(ld->files[i]->path);
		free(ld->files[i]);
	}
	free(ld->files);
	for (size_t i = 0; i < ld->n_secrets; i++)
		free(ld->secrets[i]);
	free(ld->secrets);
	for (size_t i = 0; i < ld->n_tmp; i++)
		free(ld->tmp[i]);
	free(ld->tmp);
	conf_messages_free(ld);
	free(ld->deps);
	conf_select_free(ld->select);
	conf_free_vars(ld);
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

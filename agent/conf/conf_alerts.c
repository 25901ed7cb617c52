/* conf_alerts.c — the notifiers, alerts and maintenance sections, and the
 * selectors rules and windows use to pick checks.
 *
 * They are read after the checks (selectors are checked against them) and
 * the notifiers before the rules (notify names them). A selector that is an
 * exact name must name a check; a glob or group:NAME that selects nothing is
 * a warning, logged only when the config is accepted.
 *
 * Forms the SPEC's example does not show:
 *   notifiers: max_attempts (1-100, default 12), max_age ("24h"), timeout
 *              ("10s"), rate (per second; default the type's default_rate);
 *              each type's own settings are read through its settings table
 *              (alerts/notify.h), nothing here names a type
 *   maintenance: weekly as maintenance_parse_weekly() reads it ("sun 01:00",
 *              "Sunday 01:00"); timezone as maintenance_timezone_valid();
 *              timezone only for weekly windows (start carries its offset);
 *              a weekly window lasts at most 7d */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf_parse.h"
#include "alerts/expr.h"
#include "alerts/maintenance.h"
#include "alerts/notify_template.h"
#include "core/util.h"
#include "probes/selector.h"

/* --- the settings tables -------------------------------------------------- */

static parse_fn parse_rule_checks, parse_when, parse_recover, parse_severity, parse_notify;
static parse_fn parse_notifier_setting, parse_rate, parse_template;
static parse_fn parse_maint_checks, parse_start, parse_weekly, parse_timezone;

static const struct def rule_defs[] = {
	{ "name", K_SKIP, 0, 0, 0, 0, 0, NULL, NULL },
	D_FN("checks", parse_rule_checks, F_REQUIRED, "checks = \"*\""),
	D_FN("when", parse_when, F_REQUIRED, "when = \"consecutive_failures >= 3\""),
	D_FN("recover", parse_recover, 0, NULL),
	D_DUR("for", struct alert_rule, for_ms, 0),
	D_DUR("repeat", struct alert_rule, repeat_ms, 1),
	D_INT("min_locations", struct alert_rule, min_locations, 1, 1000),
	D_FN("severity", parse_severity, 0, NULL),
	D_FN("notify", parse_notify, 0, NULL),
	D_END
};

static const struct def notifier_defs[] = {
	{ "name", K_SKIP, 0, 0, 0, 0, 0, NULL, NULL },
	{ "type", K_SKIP, 0, 0, 0, 0, 0, NULL, NULL },
	D_INT("max_attempts", struct notifier_conf, max_attempts, 1, 100),
	D_DUR("max_age", struct notifier_conf, max_age_ms, 1),
	D_DUR("timeout", struct notifier_conf, timeout_ms, 1),
	D_FN("rate", parse_rate, 0, NULL),
	D_FN("template", parse_template, 0, NULL),
	D_END
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

/* --- selectors (alert rules and maintenance windows) ---------------------- */

static bool is_glob(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

/* A selector list (a string or an array of strings) into *v / *n. An exact
 * name must be a check's (did you mean); a glob or a group that selects
 * nothing is only a warning (checks come and go; the rule may be meant for
 * later ones). */
void conf_get_selectors(struct loader *ld, const config_setting_t *s, const char *where,
                        char ***v, size_t *n)
{
	const struct conf *conf = ld->conf;
	size_t len = conf_values(ld, s, where,
	                         "a selector or an array of them like [ \"api\", \"payments-*\", \"group:Payments\" ]",
	                         "\"*\" selects every check");

	for (size_t i = 0; i < len; i++) {
		const config_setting_t *e = conf_elem(s, i);
		char *sel = conf_get_str(ld, e, where);
		const char **names;
		const char *hint;
		size_t nn;

		if (sel == NULL)
			continue;
		if (strcmp(sel, "*") == 0) {
			/* every check */
		} else if (strncmp(sel, "group:", 6) == 0) {
			if (sel[6] == '\0') {
				conf_err(ld, e, "%s in %s has \"group:\" without a group name", conf_sname(ld, e), where);
				free(sel);
				continue;
			}
			if (!conf_selects_any(ld, sel)) {
				names = conf_check_names(conf, true, &nn);
				hint = conf_closest(sel + 6, names, nn);
				conf_warn(ld, e, "%s in %s selects no check: no check has group %s%s", conf_sname(ld, e), where,
				          conf_quote(ld, sel + 6), conf_did_you_mean(ld, hint));
				free(names);
			}
		} else if (is_glob(sel)) {
			if (!conf_selects_any(ld, sel))
				conf_warn(ld, e, "%s in %s: the pattern %s matches no check", conf_sname(ld, e), where, conf_quote(ld, sel));
		} else if (!conf_valid_name(sel)) {
			conf_err(ld, e, "%s in %s must be a check name, a glob like \"payments-*\", \"group:NAME\" or \"*\" (got %s)",
			         conf_sname(ld, e), where, conf_quote(ld, config_setting_get_string(e)));
			free(sel);
			continue;
		} else if (conf_find_check(conf, sel) == NULL) {
			names = conf_check_names(conf, false, &nn);
			hint = conf_closest(sel, names, nn);
			conf_err(ld, e, "%s in %s names an unknown check \"%s\"%s", conf_sname(ld, e), where, sel,
			         conf_did_you_mean(ld, hint));
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

	conf_get_selectors(ld, s, where, &r->selectors, &r->n_selectors);
}

/* An expression setting: errors as `rule "down": when: column 17: ...`. */
static void get_expr(struct loader *ld, const config_setting_t *s, const char *where,
                     char **text, struct expr **e)
{
	char *v = conf_get_str(ld, s, where);
	struct expr *x;
	char msg[256];
	int col = 0;

	if (v == NULL)
		return;
	msg[0] = '\0';
	x = expr_parse(v, msg, sizeof(msg), &col);
	if (x == NULL) {
		conf_err(ld, s, "%s: %s: column %d: %s", where, config_setting_name(s), col,
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
	char *v = conf_get_str(ld, s, where);
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
	hint = conf_closest(v, names, COUNT(names));
	conf_err(ld, s, "\"severity\" in %s must be one of critical, error, warning, info (got %s%s%s%s)", where,
	         conf_quote(ld, config_setting_get_string(s)), hint ? "; did you mean \"" : "", hint ? hint : "",
	         hint ? "\"?" : "");
	free(v);
}

/* Notifier names; the notifiers are read before the rules. */
static void parse_notify(struct loader *ld, const config_setting_t *s, void *base, const char *where)
{
	struct alert_rule *r = base;
	const struct conf *conf = ld->conf;
	size_t len = conf_values(ld, s, where,
	                         "a notifier name or an array of them like [ \"oncall\", \"ops-slack\" ]",
	                         "leave it out instead");

	for (size_t i = 0; i < len; i++) {
		const config_setting_t *e = conf_elem(s, i);
		char *v = conf_get_str(ld, e, where);

		if (v == NULL)
			continue;
		if (conf_find_notifier(conf, v) == NULL) {
			const char **names = xcalloc(conf->n_notifiers + 1, sizeof(*names));
			const char *hint;
			size_t nn = 0;

			for (size_t j = 0; j < conf->n_notifiers; j++)
				if (conf->notifiers[j].name != NULL)
					names[nn++] = conf->notifiers[j].name;
			hint = conf_closest(v, names, nn);
			conf_err(ld, e, "%s in %s names an unknown notifier %s%s", conf_sname(ld, e), where,
			         conf_quote(ld, config_setting_get_string(e)),
			         hint ? conf_did_you_mean(ld, hint) : nn == 0 ? " (no notifiers = ( ... ) are defined)" : "");
			free(names);
			free(v);
			continue;
		}
		if (conf_in_list((const char *const *)r->notify, r->n_notify, v)) {
			conf_err(ld, e, "%s in %s names notifier \"%s\" twice", conf_sname(ld, e), where, v);
			free(v);
			continue;
		}
		r->notify = xrealloc(r->notify, (r->n_notify + 1) * sizeof(*r->notify));
		r->notify[r->n_notify++] = v;
	}
}

/* --- notifiers ------------------------------------------------------------ */

/* A NOTIFIER_BOOL ("true" / "false") or NOTIFIER_LIST (a string or an
 * array of them, stored one per line, each checked) setting s of n. */
static void parse_notifier_value(struct loader *ld, const config_setting_t *s,
                                 struct notifier_conf *n, const struct notifier_setting *st,
                                 const char *where)
{
	char **v = NULL, *joined = NULL, *next;
	size_t count = 0;
	const char *why;

	if (st->kind == NOTIFIER_BOOL) {
		if (config_setting_type(s) != CONFIG_TYPE_BOOL)
			conf_err(ld, s, "\"%s\" in %s must be true or false (got %s)", st->name, where,
			         conf_type_desc(config_setting_type(s)));
		else
			notifier_set(n, st->name, config_setting_get_bool(s) ? "true" : "false");
		return;
	}
	if (conf_values(ld, s, where, "a string or an array of strings like [ \"a\", \"b\" ]",
	                st->hint != NULL ? st->hint : "leave it out instead") == 0
	    || conf_get_strlist(ld, s, where, &v, &count) < 0)
		goto out;
	for (size_t i = 0; i < count; i++) {
		if (strpbrk(v[i], "\r\n") != NULL || (st->check != NULL && (why = st->check(v[i])) != NULL)) {
			conf_err(ld, s, "\"%s\" in %s: %s %s", st->name, where, conf_quote(ld, v[i]),
			         strpbrk(v[i], "\r\n") != NULL ? "has a line break" : why);
			goto out;
		}
		next = xasprintf("%s%s%s", joined != NULL ? joined : "", joined != NULL ? "\n" : "", v[i]);
		free(joined);
		joined = next;
	}
	notifier_set(n, st->name, joined);
out:
	for (size_t i = 0; i < count; i++)
		free(v[i]);
	free(v);
	free(joined);
}

/* The setting s of n's type, stored through its entry in the type's
 * settings table: URLs checked (trailing slashes dropped from a base),
 * secrets registered and never quoted, the entry's own check applied. */
static void parse_notifier_setting(struct loader *ld, const config_setting_t *s, void *base,
                                   const char *where)
{
	struct notifier_conf *n = base;
	int idx = notifier_type_setting_index(n->type, config_setting_name(s));
	const struct notifier_setting *st;
	const char *why;
	bool secret, https;
	char *v;

	if (idx < 0)
		return;     /* cannot happen: the loader's table came from the type's */
	st = &n->type->settings[idx];
	if (st->kind == NOTIFIER_LIST || st->kind == NOTIFIER_BOOL) {
		parse_notifier_value(ld, s, n, st, where);
		return;
	}
	secret = (st->flags & NOTIFIER_SECRET) != 0;
	v = conf_get_str(ld, s, where);
	if (v == NULL)
		return;
	if (secret)
		conf_secret_add(ld, v);
	if ((st->flags & NOTIFIER_NONEMPTY) && *v == '\0') {
		conf_err(ld, s, "%s in %s must not be empty", conf_sname(ld, s), where);
		conf_free_secret(v);
		return;
	}
	if (st->kind == NOTIFIER_URL || st->kind == NOTIFIER_BASE_URL) {
		if (conf_check_http_url(v, &https, &why) < 0) {
			if (secret)
				conf_err(ld, s, "\"%s\" in %s is not a valid URL: %s (not shown: a %s URL is a secret)",
				         st->name, where, why, n->type->name);
			else
				conf_err_url(ld, s, where, why);
			conf_free_secret(v);
			return;
		}
		free(conf_url_hide_password(ld, v));     /* registers a userinfo password */
	}
	if (st->kind == NOTIFIER_BASE_URL) {
		size_t len = strlen(v);

		while (len > 0 && v[len - 1] == '/')
			v[--len] = '\0';
	}
	if (st->check != NULL && (why = st->check(v)) != NULL) {
		conf_err(ld, s, "\"%s\" in %s %s%s", st->name, where, why,
		         secret ? " (the value is not shown)" : "");
		conf_free_secret(v);
		return;
	}
	notifier_set(n, st->name, v);
	conf_free_secret(v);
}

/* The loader's table for the settings of type t: each a custom entry
 * that parse_notifier_setting stores; required ones with their hint. */
static void notifier_type_defs(const struct notifier_type *t, struct def defs[NOTIFIER_SETTINGS_MAX + 1])
{
	size_t n = notifier_type_n_settings(t);

	if (n > NOTIFIER_SETTINGS_MAX)
		n = NOTIFIER_SETTINGS_MAX;      /* test_notifier_types keeps every type below */
	for (size_t i = 0; i < n; i++) {
		const struct notifier_setting *st = &t->settings[i];
		struct def d = D_FN(st->name, parse_notifier_setting,
		                    (st->flags & NOTIFIER_REQUIRED) ? F_REQUIRED : 0u, st->hint);

		defs[i] = d;
	}
	defs[n] = (struct def)D_END;
}

/* One member (title or body) of a template: its placeholders checked, and
 * for a type whose body is JSON, the body filled with a sample event must
 * still be JSON. Returns the string, or NULL after an error. */
static char *template_member(struct loader *ld, const config_setting_t *s,
                             const struct notifier_conf *n, const char *where)
{
	char why[160];
	char *v = conf_get_str(ld, s, where);

	if (v == NULL)
		return NULL;
	if (notify_template_check(v, why, sizeof(why)) < 0) {
		conf_err(ld, s, "template.%s in %s %s", config_setting_name(s), where, why);
		free(v);
		return NULL;
	}
	if (n->type != NULL && n->type->json_template && strcmp(config_setting_name(s), "body") == 0) {
		struct alert_event ev;
		json_error_t jerr;
		char *filled;
		json_t *j;

		notify_template_sample(&ev);
		filled = notify_template_fill(v, &ev, true);
		j = json_loads(filled, JSON_DECODE_ANY, &jerr);
		if (j == NULL)
			conf_err(ld, s, "template.body in %s is not JSON once filled in: %s (at character %d); "
			         "write placeholders inside JSON strings, like \"text\": \"{{message}}\"",
			         where, jerr.text, jerr.position);
		json_decref(j);
		free(filled);
		alert_event_clear(&ev);
		if (j == NULL) {
			free(v);
			return NULL;
		}
	}
	return v;
}

/* template = { title = "..."; body = "..."; } (notify_template.h). */
static void parse_template(struct loader *ld, const config_setting_t *s, void *base, const char *where)
{
	struct notifier_conf *n = base;
	int len;

	if (!conf_want_group(ld, s, where))
		return;
	len = config_setting_length(s);
	if (len == 0)
		conf_err(ld, s, "template in %s is empty (give it a title, a body or both)", where);
	for (int i = 0; i < len; i++) {
		const config_setting_t *m = config_setting_get_elem(s, (unsigned)i);
		const char *name = config_setting_name(m);
		char **slot = strcmp(name, "title") == 0 ? &n->template_title
		              : strcmp(name, "body") == 0 ? &n->template_body : NULL;
		char *v;

		if (slot == NULL) {
			conf_err(ld, m, "unknown setting \"%s\" in the template of %s (a template has a title and a body)",
			         name, where);
			continue;
		}
		v = template_member(ld, m, n, where);
		if (v != NULL) {
			free(*slot);
			*slot = v;
		}
	}
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
		conf_err(ld, s, "\"rate\" in %s must be a number of notifications per second like 2 or 0.5 (got %s)",
		         where, conf_type_desc(t));
		return;
	}
	if (!isfinite(v) || v < 0.001 || v > 1000) {
		conf_err(ld, s, "\"rate\" in %s must be from 0.001 to 1000 notifications per second (got %g)", where, v);
		return;
	}
	n->rate_per_s = v;
}

/* --- maintenance windows -------------------------------------------------- */

static void parse_maint_checks(struct loader *ld, const config_setting_t *s, void *base, const char *where)
{
	struct maintenance_window *m = base;

	conf_get_selectors(ld, s, where, &m->selectors, &m->n_selectors);
}

static void parse_start(struct loader *ld, const config_setting_t *s, void *base, const char *where)
{
	struct maintenance_window *m = base;
	char *v = conf_get_str(ld, s, where);
	int64_t us;

	if (v == NULL)
		return;
	if (util_parse_time(v, &us) < 0 || us <= 0)
		conf_err(ld, s, "\"start\" in %s must be an RFC 3339 time like \"2026-12-01T02:00:00Z\" (got %s)",
		         where, conf_quote(ld, config_setting_get_string(s)));
	else
		m->start_us = us;
	free(v);
}

static void parse_weekly(struct loader *ld, const config_setting_t *s, void *base, const char *where)
{
	struct maintenance_window *m = base;
	char *v = conf_get_str(ld, s, where);

	if (v == NULL)
		return;
	/* The maintenance module's own parser: what it accepts is what runs. */
	if (maintenance_parse_weekly(v, &m->weekly_day, &m->weekly_minute) < 0)
		conf_err(ld, s, "\"weekly\" in %s must be a day (Mon, Tue, Wed, Thu, Fri, Sat, Sun) and a 24-hour time, like \"Sun 01:00\" (got %s)",
		         where, conf_quote(ld, config_setting_get_string(s)));
	free(v);
}

/* An IANA zone name ("Europe/Berlin", "UTC"): a TZif file under
 * /usr/share/zoneinfo, by the maintenance module's own test (the name is
 * checked first, so it can never point outside that directory). */
static void parse_timezone(struct loader *ld, const config_setting_t *s, void *base, const char *where)
{
	struct maintenance_window *m = base;
	char *v = conf_get_str(ld, s, where);

	if (v == NULL)
		return;
	if (!maintenance_timezone_valid(v)) {
		conf_err(ld, s, "\"timezone\" in %s is not a known IANA time zone like \"Europe/Berlin\" or \"UTC\" (got %s)",
		         where, conf_quote(ld, config_setting_get_string(s)));
		free(v);
		return;
	}
	free(m->timezone);
	m->timezone = v;
}

/* --- the sections --------------------------------------------------------- */

/* The type of notifier g (its index in notifier_types[]), or -1 after an
 * error. */
static int read_notifier_type(struct loader *ld, const config_setting_t *g, const char *where)
{
	const config_setting_t *ts = config_setting_get_member(g, "type");
	const char *names = conf_tmp(ld, notifier_type_names());
	const char *cands[NOTIFIER_TYPES_MAX];
	const char *hint;
	size_t n = 0;
	char *v;
	int type = -1;

	if (ts == NULL) {
		conf_err(ld, g, "missing required setting \"type\" in %s (one of: %s)", where, names);
		return -1;
	}
	v = conf_get_str(ld, ts, where);
	if (v == NULL)
		return -1;
	for (int i = 0; notifier_types[i] != NULL && n < NOTIFIER_TYPES_MAX; i++) {
		cands[n++] = notifier_types[i]->name;
		if (strcmp(v, notifier_types[i]->name) == 0)
			type = i;
	}
	if (type < 0) {
		hint = conf_closest(v, cands, n);
		conf_err(ld, ts, "unknown notifier type %s in %s (%s%s%ssupported: %s)",
		         conf_quote(ld, config_setting_get_string(ts)), where,
		         hint ? "did you mean \"" : "", hint ? hint : "", hint ? "\"? " : "", names);
	}
	free(v);
	return type;
}

static void parse_notifier(struct loader *ld, struct conf *conf, const config_setting_t *g,
                           size_t idx, struct name_seen *seen, size_t *n_seen)
{
	struct notifier_conf *n = &conf->notifiers[idx];
	const char *where;
	int type;

	n->line = conf_setting_line(g);
	n->max_attempts = 12;
	n->max_age_ms = 24ull * 3600 * 1000;
	n->timeout_ms = 10000;
	n->rate_per_s = -1;
	if (!config_setting_is_group(g)) {
		conf_err(ld, g, "notifier #%zu must be a group { name = ...; type = ...; } (got %s)", idx + 1,
		         conf_type_desc(config_setting_type(g)));
		return;
	}
	n->name = conf_read_name(ld, g, "notifier", idx, seen, n_seen, &where);
	type = read_notifier_type(ld, g, where);
	if (type >= 0) {
		struct def type_defs[NOTIFIER_SETTINGS_MAX + 1];
		const struct def *tables[] = { notifier_defs, type_defs, NULL };

		/* Before conf_apply: the type's table says how to read its settings. */
		n->type = notifier_types[type];
		notifier_type_defs(n->type, type_defs);
		conf_apply(ld, g, tables, n, where, SCOPE_NOTIFIER, type, false);
		if (n->rate_per_s < 0)
			n->rate_per_s = n->type->default_rate;
	} else {
		static const struct def *const tables[] = { notifier_defs, NULL };

		conf_apply(ld, g, tables, n, where, SCOPE_PLAIN, 0, true);
	}
}

void conf_parse_notifiers(struct loader *ld, struct conf *conf, const config_setting_t *s)
{
	int n;

	if (s == NULL)
		return;
	n = conf_section_list(ld, s, "{ name = \"ops-slack\"; type = \"slack\"; url = \"...\"; }");
	if (n < 0)
		return;
	conf->notifiers = xcalloc(n ? (size_t)n : 1, sizeof(*conf->notifiers));
	conf->n_notifiers = (size_t)n;
	conf_section_entries(ld, conf, s, (size_t)n, parse_notifier);
}

static void parse_rule(struct loader *ld, struct conf *conf, const config_setting_t *g,
                       size_t idx, struct name_seen *seen, size_t *n_seen)
{
	static const struct def *const tables[] = { rule_defs, NULL };
	struct alert_rule *r = &conf->rules[idx];
	const char *where;

	r->line = conf_setting_line(g);
	r->severity = SEVERITY_WARNING;
	r->min_locations = 1;
	if (!config_setting_is_group(g)) {
		conf_err(ld, g, "rule #%zu must be a group { name = ...; checks = ...; when = ...; } (got %s)", idx + 1,
		         conf_type_desc(config_setting_type(g)));
		return;
	}
	r->name = conf_read_name(ld, g, "rule", idx, seen, n_seen, &where);
	conf_apply(ld, g, tables, r, where, SCOPE_PLAIN, 0, false);
}

void conf_parse_rules(struct loader *ld, struct conf *conf, const config_setting_t *s)
{
	int n;

	if (s == NULL)
		return;
	n = conf_section_list(ld, s, "{ name = \"down\"; checks = \"*\"; when = \"consecutive_failures >= 3\"; }");
	if (n < 0)
		return;
	conf->rules = xcalloc(n ? (size_t)n : 1, sizeof(*conf->rules));
	conf->n_rules = (size_t)n;
	conf_section_entries(ld, conf, s, (size_t)n, parse_rule);
}

/* Windows have no name: seen and n_seen are not used. */
static void parse_window(struct loader *ld, struct conf *conf, const config_setting_t *g,
                         size_t idx, struct name_seen *seen, size_t *n_seen)
{
	static const struct def *const tables[] = { maintenance_defs, NULL };
	struct maintenance_window *m = &conf->maintenance[idx];
	const config_setting_t *start, *weekly, *tz, *dur;
	const char *where = conf_tmp(ld, xasprintf("maintenance window #%zu", idx + 1));

	m->line = conf_setting_line(g);
	m->weekly_day = -1;
	if (!config_setting_is_group(g)) {
		conf_err(ld, g, "%s must be a group { checks = ...; start = ...; duration = ...; } (got %s)", where,
		         conf_type_desc(config_setting_type(g)));
		return;
	}
	conf_apply(ld, g, tables, m, where, SCOPE_PLAIN, 0, false);
	start = config_setting_get_member(g, "start");
	weekly = config_setting_get_member(g, "weekly");
	tz = config_setting_get_member(g, "timezone");
	dur = config_setting_get_member(g, "duration");
	if (start != NULL && weekly != NULL)
		conf_err(ld, weekly, "\"start\" and \"weekly\" in %s exclude each other (a window is either one-off or weekly)", where);
	else if (start == NULL && weekly == NULL)
		conf_err(ld, g, "%s needs \"start\" (one-off, like start = \"2026-12-01T02:00:00Z\") or \"weekly\" (like weekly = \"Sun 01:00\")",
		         where);
	else if (start != NULL && tz != NULL)
		conf_err(ld, tz, "\"timezone\" in %s applies to weekly windows only (give \"start\" an offset instead, like \"2026-12-01T02:00:00+01:00\")",
		         where);
	if (weekly != NULL && dur != NULL && !conf_had_error(ld, dur) && m->duration_ms > 7ull * 86400 * 1000)
		conf_err(ld, dur, "\"duration\" in %s must be at most 7d for a weekly window", where);
}

void conf_parse_maintenance(struct loader *ld, struct conf *conf, const config_setting_t *s)
{
	int n;

	if (s == NULL)
		return;
	n = conf_section_list(ld, s, "{ checks = \"payments-*\"; weekly = \"Sun 01:00\"; duration = \"90m\"; }");
	if (n < 0)
		return;
	conf->maintenance = xcalloc(n ? (size_t)n : 1, sizeof(*conf->maintenance));
	conf->n_maintenance = (size_t)n;
	conf_section_entries(ld, conf, s, (size_t)n, parse_window);
}

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
 *              ("10s"), rate (per second: slack 1, pagerduty 2, others 10)
 *   maintenance: weekly as maintenance_parse_weekly() reads it ("sun 01:00",
 *              "Sunday 01:00"); timezone as maintenance_timezone_valid();
 *              timezone only for weekly windows (start carries its offset);
 *              a weekly window lasts at most 7d */
#include <ctype.h>
#include <math.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf_internal.h"
#include "alerts/expr.h"
#include "alerts/maintenance.h"
#include "core/util.h"

/* --- the settings tables -------------------------------------------------- */

static parse_fn parse_rule_checks, parse_when, parse_recover, parse_severity, parse_notify;
static parse_fn parse_notifier_url, parse_webhook_secret, parse_rate;
static parse_fn parse_maint_checks, parse_start, parse_weekly, parse_timezone;

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

const struct def *const conf_notifier_type_defs[NOTIFIER_TYPE_COUNT] = {
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

/* --- selectors (alert rules and maintenance windows) ---------------------- */

static bool is_glob(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

/* A selector list (a string or an array of strings) into *v / *n. An exact
 * name must be a check's (did you mean); a glob or a group that selects
 * nothing is only a warning (checks come and go; the rule may be meant for
 * later ones). */
static void get_selectors(struct loader *ld, const config_setting_t *s, const char *where,
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

	get_selectors(ld, s, where, &r->selectors, &r->n_selectors);
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

static void parse_notifier_url(struct loader *ld, const config_setting_t *s, void *base, const char *where)
{
	struct notifier_conf *n = base;
	/* A Slack incoming-webhook URL is the credential itself; a webhook
	 * receiver's often carries one too. */
	bool secret = n->type == NOTIFIER_SLACK || n->type == NOTIFIER_WEBHOOK;
	char *v = conf_get_str(ld, s, where);
	const char *why;
	bool https;
	size_t len;

	if (v == NULL)
		return;
	if (secret)
		conf_secret_add(ld, v);
	if (conf_check_http_url(v, &https, &why) < 0) {
		if (secret)
			conf_err(ld, s, "\"url\" in %s is not a valid URL: %s (not shown: a %s URL is a secret)", where, why,
			         notifier_type_name(n->type));
		else
			conf_err_url(ld, s, where, why);
		free(v);
		return;
	}
	free(conf_url_hide_password(ld, v));         /* registers a userinfo password */
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
	char *v = conf_get_str(ld, s, where);
	int len;

	if (v == NULL)
		return;
	conf_secret_add(ld, v);
	len = webhook_key_len(v);
	if (len < 24 || len > 64) {
		conf_err(ld, s, "\"secret\" in %s must be \"whsec_\" followed by the base64 of a 24 to 64 byte key, as Standard Webhooks specifies (the value is not shown)",
		         where);
		conf_free_secret(v);
		return;
	}
	conf_free_secret(n->secret);
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

	get_selectors(ld, s, where, &m->selectors, &m->n_selectors);
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

static void parse_notifier(struct loader *ld, struct conf *conf, const config_setting_t *g,
                           size_t idx, struct name_seen *seen, size_t *n_seen)
{
	static const char *const types[] = { "slack", "pagerduty", "webhook", "alertmanager" };
	struct notifier_conf *n = &conf->notifiers[idx];
	const config_setting_t *ts;
	const char *where;
	int type = -1;

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
	ts = config_setting_get_member(g, "type");
	if (ts == NULL) {
		conf_err(ld, g, "missing required setting \"type\" in %s (one of: slack, pagerduty, webhook, alertmanager)", where);
	} else {
		char *v = conf_get_str(ld, ts, where);

		for (int i = 0; v != NULL && i < NOTIFIER_TYPE_COUNT; i++)
			if (strcmp(v, types[i]) == 0)
				type = i;
		if (v != NULL && type < 0) {
			const char *hint = conf_closest(v, types, COUNT(types));

			conf_err(ld, ts, "unknown notifier type %s in %s (%s%s%ssupported: slack, pagerduty, webhook, alertmanager)",
			         conf_quote(ld, config_setting_get_string(ts)), where,
			         hint ? "did you mean \"" : "", hint ? hint : "", hint ? "\"? " : "");
		}
		free(v);
	}
	if (type >= 0) {
		const struct def *tables[] = { notifier_defs, conf_notifier_type_defs[type], NULL };

		/* Before conf_apply: whether the url is a secret depends on it. */
		n->type = (enum notifier_type)type;
		conf_apply(ld, g, tables, n, where, SCOPE_NOTIFIER, type, false);
	} else {
		static const struct def *const tables[] = { notifier_defs, NULL };

		conf_apply(ld, g, tables, n, where, SCOPE_PLAIN, 0, true);
	}
	if (n->type == NOTIFIER_PAGERDUTY && n->url == NULL)
		n->url = xstrdup("https://events.pagerduty.com/v2/enqueue");
	if (n->rate_per_s < 0)
		n->rate_per_s = n->type == NOTIFIER_SLACK ? 1 : n->type == NOTIFIER_PAGERDUTY ? 2 : 10;
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

/* conf_announce.c — the `announcements = ( ... )` section (SPEC §3): notes
 * for the status page and the feed, each with a title, an optional body, a
 * severity, an optional start and end (RFC 3339) and optional checks. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf_parse.h"
#include "core/util.h"

static const char *const severities[] = { "info", "warning", "outage", "maintenance" };

static parse_fn parse_severity, parse_start, parse_end, parse_checks;

static const struct def announcement_defs[] = {
	{ "title", K_STR, offsetof(struct announcement, title), 0, 0, 0, F_REQUIRED | F_NONEMPTY,
	  NULL, "title = \"Scheduled database upgrade\"" },
	D_STR("body", struct announcement, body, 0),
	D_FN("severity", parse_severity, 0, NULL),
	D_FN("start", parse_start, 0, NULL),
	D_FN("end", parse_end, 0, NULL),
	D_FN("checks", parse_checks, 0, NULL),
	D_END
};

static void parse_severity(struct loader *ld, const config_setting_t *s, void *base,
                           const char *where)
{
	struct announcement *a = base;
	char *v = conf_get_str(ld, s, where);

	if (v == NULL)
		return;
	if (!conf_in_list(severities, COUNT(severities), v)) {
		conf_err(ld, s, "\"severity\" in %s must be \"info\", \"warning\", \"outage\" or "
		         "\"maintenance\" (got %s)%s", where, conf_quote(ld, v),
		         conf_did_you_mean(ld, conf_closest(v, severities, COUNT(severities))));
		free(v);
		return;
	}
	free(a->severity);
	a->severity = v;
}

/* An RFC 3339 time into *us: 0, or -1 after an error naming key. */
static int get_time(struct loader *ld, const config_setting_t *s, const char *where,
                    const char *key, int64_t *us)
{
	char *v = conf_get_str(ld, s, where);
	int rc = 0;

	if (v == NULL)
		return -1;
	if (util_parse_time(v, us) < 0 || *us <= 0) {
		conf_err(ld, s, "\"%s\" in %s must be an RFC 3339 time like \"2026-12-01T02:00:00Z\" "
		         "(got %s)", key, where, conf_quote(ld, config_setting_get_string(s)));
		rc = -1;
	}
	free(v);
	return rc;
}

static void parse_start(struct loader *ld, const config_setting_t *s, void *base, const char *where)
{
	get_time(ld, s, where, "start", &((struct announcement *)base)->start_us);
}

static void parse_end(struct loader *ld, const config_setting_t *s, void *base, const char *where)
{
	get_time(ld, s, where, "end", &((struct announcement *)base)->end_us);
}

static void parse_checks(struct loader *ld, const config_setting_t *s, void *base, const char *where)
{
	struct announcement *a = base;

	conf_get_selectors(ld, s, where, &a->selectors, &a->n_selectors);
}

/* Announcements have no name: seen and n_seen are not used. */
static void parse_announcement(struct loader *ld, struct conf *conf, const config_setting_t *g,
                               size_t idx, struct name_seen *seen, size_t *n_seen)
{
	static const struct def *const tables[] = { announcement_defs, NULL };
	struct announcement *a = &conf->announcements[idx];
	const char *where = conf_tmp(ld, xasprintf("announcement #%zu", idx + 1));

	(void)seen;
	(void)n_seen;
	a->line = conf_setting_line(g);
	if (!config_setting_is_group(g)) {
		conf_err(ld, g, "%s must be a group { title = ...; body = ...; } (got %s)", where,
		         conf_type_desc(config_setting_type(g)));
		return;
	}
	conf_apply(ld, g, tables, a, where, SCOPE_PLAIN, 0, false);
	if (a->severity == NULL)
		a->severity = xstrdup("info");
	if (a->body == NULL)
		a->body = xstrdup("");
	if (a->start_us != 0 && a->end_us != 0 && a->end_us <= a->start_us)
		conf_err(ld, config_setting_get_member(g, "end"),
		         "\"end\" in %s must be after its \"start\"", where);
}

void conf_parse_announcements(struct loader *ld, struct conf *conf, const config_setting_t *s)
{
	int n;

	if (s == NULL)
		return;
	n = conf_section_list(ld, s, "{ title = \"Database upgrade\"; body = \"...\"; "
	                             "start = \"2026-12-01T02:00:00Z\"; end = \"2026-12-01T04:00:00Z\"; }");
	if (n < 0)
		return;
	conf->announcements = xcalloc(n ? (size_t)n : 1, sizeof(*conf->announcements));
	conf->n_announcements = (size_t)n;
	conf_section_entries(ld, conf, s, (size_t)n, parse_announcement);
}

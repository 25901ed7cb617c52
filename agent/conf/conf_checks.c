/* conf_checks.c — the checks section: the loader's tables of a check, of
 * each check type and of each type's expect (built from the probe-type
 * descriptors, probes/probe_type.h), one check read through them, the rules
 * that combine settings (the type's validate, asked through struct
 * probe_validate), depends_on across checks (names and cycles), and the
 * target shown for a check. The parsers the tables name are in
 * conf_check_values.c and conf_check_http.c.
 *
 * Forms the SPEC's example does not show:
 *   icmp: count = 3 (1-100), spacing = "200ms" (between echoes; count x
 *              spacing must fit in the timeout)
 *   heartbeat: grace default "1m"; timeout, retries and retry_interval are
 *              errors on a heartbeat (nothing is probed)
 *   tls: port default 443 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf_parse.h"
#include "core/log.h"
#include "core/util.h"

/* --- the tables ------------------------------------------------------------ */

/* What a step has besides its type's request settings. A step is read into
 * a scratch struct check (so every http parser serves both); name and
 * extract are read by the steps parser itself. */
static const struct def step_defs[] = {
	{ "name", K_SKIP, 0, 0, 0, 0, 0, NULL, NULL },
	{ "extract", K_SKIP, 0, 0, 0, 0, 0, NULL, NULL },
	D_FN("expect", conf_parse_expect, 0, NULL),
	D_END
};

static unsigned def_flags(unsigned probe_flags, enum probe_kind kind)
{
	unsigned f = 0;

	/* The name and the type are required, but read (and reported) by
	 * parse_check itself. */
	if ((probe_flags & PROBE_REQUIRED) && kind != PROBE_KIND_SKIP)
		f |= F_REQUIRED;
	if (probe_flags & PROBE_SECRET)
		f |= F_SECRET;
	if (probe_flags & PROBE_NONEMPTY)
		f |= F_NONEMPTY;
	if (probe_flags & PROBE_FILE)
		f |= F_FILE;
	return f;
}

/* The loader's view of one probe-type table: a new array, kept for the
 * life of the process. A parser name no file knows is a bug in a table:
 * the agent stops at once rather than ignore a setting. */
static const struct def *defs_from(const struct probe_setting *ps)
{
	static const enum kind kinds[] = {
		[PROBE_KIND_SKIP] = K_SKIP, [PROBE_KIND_STRING] = K_STR, [PROBE_KIND_INT] = K_INT,
		[PROBE_KIND_BOOL] = K_BOOL, [PROBE_KIND_DURATION] = K_DURATION, [PROBE_KIND_REGEX] = K_REGEX,
		[PROBE_KIND_LIST] = K_STRLIST, [PROBE_KIND_HOST] = K_CUSTOM, [PROBE_KIND_CUSTOM] = K_CUSTOM,
	};
	size_t n = 0;
	struct def *d;

	while (ps[n].name != NULL)
		n++;
	d = xcalloc(n + 1, sizeof(*d));
	for (size_t i = 0; i < n; i++) {
		d[i].name = ps[i].name;
		d[i].kind = kinds[ps[i].kind];
		d[i].off = ps[i].off;
		d[i].off2 = ps[i].off2;
		d[i].min = ps[i].min;
		d[i].max = ps[i].max;
		d[i].flags = def_flags(ps[i].flags, ps[i].kind);
		d[i].hint = ps[i].hint;
		if (d[i].kind != K_CUSTOM)
			continue;
		d[i].parse = conf_check_parser(ps[i].kind == PROBE_KIND_HOST ? "host" : ps[i].parser);
		if (d[i].parse == NULL) {
			fprintf(stderr, "pharos: no config parser \"%s\" for setting \"%s\"\n",
			        ps[i].parser ? ps[i].parser : "(none)", ps[i].name);
			abort();
		}
	}
	return d;
}

/* Fills the table pointers of conf_tables.c. */
static void build_tables(void)
{
	conf_step_defs = step_defs;
	conf_check_defs = defs_from(probe_check_settings);
	for (int t = 0; t < CHECK_TYPE_COUNT; t++) {
		const struct probe_type *pt = probe_type_get((enum check_type)t);

		conf_type_defs[t] = defs_from(pt->settings);
		conf_expect_defs[t] = defs_from(pt->expect);
	}
}

void conf_check_tables_init(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, build_tables);
}

/* --- one check ------------------------------------------------------------ */

/* What the check probes, for people, as its type says; secrets masked. */
static char *make_target(const struct check *c)
{
	char *raw = probe_check_target(c);
	char *masked = log_mask_secrets(raw);

	free(raw);
	return masked;
}

/* Reads the check's type. Returns it, or -1 after recording an error. */
static int read_type(struct loader *ld, const config_setting_t *g, const char *where)
{
	const config_setting_t *s = config_setting_get_member(g, "type");
	const char *names[CHECK_TYPE_COUNT];
	char list[128] = "";
	const char *hint;
	char *v;
	int t;

	for (int i = 0; i < CHECK_TYPE_COUNT; i++) {
		names[i] = check_type_name((enum check_type)i);
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? ", " : "", names[i]);
	}
	if (s == NULL) {
		conf_err(ld, g, "missing required setting \"type\" in %s (one of: %s)", where, list);
		return -1;
	}
	v = conf_get_str(ld, s, where);
	if (v == NULL)
		return -1;
	t = probe_type_find(v);
	if (t < 0) {
		hint = conf_closest(v, names, CHECK_TYPE_COUNT);
		conf_err(ld, s, "unknown check type %s in %s (%s%s%ssupported: %s)",
		         conf_quote(ld, config_setting_get_string(s)), where,
		         hint ? "did you mean \"" : "", hint ? hint : "", hint ? "\"? " : "", list);
	}
	free(v);
	return t;
}

/* Cross-setting rules that no single setting can check: the timeout of an
 * active check fits in its interval, then the type's own rules. */
static void check_combinations(struct loader *ld, const config_setting_t *g, struct check *c,
                               const char *where)
{
	const config_setting_t *iv = config_setting_get_member(g, "interval");
	const config_setting_t *to = config_setting_get_member(g, "timeout");

	/* A passive check runs nothing: its type says what applies. A timeout
	 * written here must fit in the interval; one inherited from defaults is
	 * cut to it (as Prometheus does with scrape_timeout). */
	if (probe_type_passive(c)) {
		conf_validate_check(ld, g, c, where, false);
		return;
	}
	if (to == NULL && c->timeout_ms > c->interval_ms)
		c->timeout_ms = c->interval_ms;
	if (to != NULL && !conf_had_error(ld, iv) && !conf_had_error(ld, to) &&
	    c->timeout_ms > c->interval_ms) {
		char a[32], b[32];

		util_format_duration(c->timeout_ms, a, sizeof(a));
		util_format_duration(c->interval_ms, b, sizeof(b));
		conf_err(ld, to, "timeout \"%s\" is longer than interval \"%s\"%s in %s (a run must end before the next one starts)",
		         a, b, iv ? "" : " (from defaults)", where);
	}
	conf_validate_check(ld, g, c, where, false);
}

static void parse_check(struct loader *ld, struct conf *conf, const config_setting_t *g,
                        size_t idx, struct name_seen *seen, size_t *n_seen)
{
	struct check *c = &conf->checks[idx];
	const char *where;
	int type;

	c->file = conf->path;
	c->line = conf_setting_line(g);
	c->interval_ms = conf->default_interval_ms;
	c->timeout_ms = conf->default_timeout_ms;
	c->group = xstrdup("");
	c->http.method = xstrdup("GET");
	where = conf_tmp(ld, xasprintf("check #%zu", idx + 1));
	if (!config_setting_is_group(g)) {
		conf_err(ld, g, "check #%zu must be a group { name = ...; type = ...; } (got %s)", idx + 1,
		         conf_type_desc(config_setting_type(g)));
		return;
	}

	c->name = conf_read_name(ld, g, "check", idx, seen, n_seen, &where);

	type = read_type(ld, g, where);
	if (type >= 0) {
		const struct def *tables[] = { conf_check_defs, conf_type_defs[type], NULL };

		c->type = (enum check_type)type;
		conf_apply(ld, g, tables, c, where, SCOPE_CHECK, type, false);
		check_combinations(ld, g, c, where);
	} else {
		/* Without a type no one can say which settings belong: check the
		 * common ones only; the type error is already reported. */
		int n = config_setting_length(g);

		for (int i = 0; i < n; i++) {
			const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
			const struct def *d = conf_find_def(conf_check_defs, config_setting_name(s));

			if (d != NULL && d->kind != K_CUSTOM)
				conf_apply_one(ld, s, d, c, where);
		}
	}
	c->target = make_target(c);
	c->fingerprint = probe_check_fingerprint(c);
}

/* --- the checks section, and depends_on across checks --------------------- */

void conf_parse_checks(struct loader *ld, struct conf *conf, const config_setting_t *s)
{
	int n;

	conf_check_tables_init();
	if (s == NULL)
		return;
	n = conf_section_list(ld, s, "{ name = \"api\"; type = \"http\"; ... }");
	if (n < 0)
		return;
	conf->checks = xcalloc(n ? (size_t)n : 1, sizeof(*conf->checks));
	conf->n_checks = (size_t)n;
	for (size_t i = 0; i < (size_t)n; i++)
		check_init(&conf->checks[i]);
	conf_section_entries(ld, conf, s, (size_t)n, parse_check);
}

/* The names (or the groups) of the checks read so far, for "did you mean".
 * Linear: a group repeats, which changes no suggestion. Caller frees the
 * array only. */
const char **conf_check_names(const struct conf *conf, bool groups, size_t *n)
{
	const char **v = xcalloc(conf->n_checks + 1, sizeof(*v));

	*n = 0;
	for (size_t i = 0; i < conf->n_checks; i++) {
		const char *s = groups ? conf->checks[i].group : conf->checks[i].name;

		if (s != NULL && *s != '\0')
			v[(*n)++] = s;
	}
	return v;
}

/* A check named in a cycle, for the message. */
static char *cycle_text(const struct conf *conf, const size_t *stack, size_t from, size_t to)
{
	char *out = xstrdup("dependency cycle:");
	size_t len = to - from;

	for (size_t i = from; i <= to; i++) {
		/* A long cycle: its first five and last four checks. */
		const char *name = i == to ? conf->checks[stack[from]].name : conf->checks[stack[i]].name;
		char *next;

		if (len > 10 && i == from + 5) {
			next = xasprintf("%s -> ...", out);
			i = to - 5;
		} else {
			next = xasprintf("%s%s %s", out, i == from ? "" : " ->", name);
		}
		free(out);
		out = next;
	}
	return out;
}

/* After every check is read: each depends_on entry names another existing
 * check, and no chain of them loops. Each loop is found once by a depth-first
 * walk in file order and reported at the depends_on entry where it starts.
 * Iterative, so any number of checks is safe. */
void conf_resolve_dependencies(struct loader *ld, struct conf *conf)
{
	size_t n = conf->n_checks;
	size_t *to, *first, *stack, *cursor, *pos;
	unsigned char *color;
	const char **names;
	size_t nn;

	if (ld->n_deps == 0)
		return;
	to = xcalloc(ld->n_deps, sizeof(*to));
	first = xcalloc(n + 1, sizeof(*first));
	names = conf_check_names(conf, false, &nn);
	for (size_t k = 0; k < ld->n_deps; k++) {
		const struct dep_ref *d = &ld->deps[k];
		const struct check *target = conf_find_check(conf, d->name);
		const char *where = conf->checks[d->from].name;

		to[k] = SIZE_MAX;
		if (target == NULL) {
			const char *hint = conf_errors_full(ld) ? NULL : conf_closest(d->name, names, nn);

			conf_err(ld, d->s, "%s in check \"%s\" names an unknown check \"%s\"%s", conf_sname(ld, d->s),
			         where ? where : "?", d->name, conf_did_you_mean(ld, hint));
		} else if ((size_t)(target - conf->checks) == d->from) {
			conf_err(ld, d->s, "%s in check \"%s\" names the check itself", conf_sname(ld, d->s), where ? where : "?");
		} else {
			to[k] = (size_t)(target - conf->checks);
		}
	}
	free(names);
	/* Edges are grouped by check, in file order: first[i] .. first[i + 1]. */
	for (size_t k = 0; k < ld->n_deps; k++)
		first[ld->deps[k].from + 1]++;
	for (size_t i = 0; i < n; i++)
		first[i + 1] += first[i];

	color = xcalloc(n ? n : 1, 1);         /* 0 unseen, 1 on the path, 2 done */
	stack = xcalloc(n + 1, sizeof(*stack));      /* + 1: a cycle's closing check */
	cursor = xcalloc(n ? n : 1, sizeof(*cursor));
	pos = xcalloc(n ? n : 1, sizeof(*pos));
	for (size_t root = 0; root < n; root++) {
		size_t depth = 0;

		if (color[root] != 0)
			continue;
		stack[depth] = root;
		cursor[depth] = first[root];
		pos[root] = depth++;
		color[root] = 1;
		while (depth > 0) {
			size_t u = stack[depth - 1];
			size_t k = cursor[depth - 1];
			size_t v;

			if (k == first[u + 1]) {
				color[u] = 2;
				depth--;
				continue;
			}
			cursor[depth - 1]++;
			v = to[k];
			if (v == SIZE_MAX || color[v] == 2)
				continue;
			if (color[v] == 1) {
				/* The path from v to u, then back to v; v's frame took
				 * the edge that starts it (cursor - 1). */
				char *text;

				stack[depth] = v;
				text = cycle_text(conf, stack, pos[v], depth);
				conf_err(ld, ld->deps[cursor[pos[v]] - 1].s, "%s", text);
				free(text);
				continue;
			}
			stack[depth] = v;
			cursor[depth] = first[v];
			pos[v] = depth++;
			color[v] = 1;
		}
	}
	free(pos);
	free(cursor);
	free(stack);
	free(color);
	free(first);
	free(to);
}

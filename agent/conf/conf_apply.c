/* conf_apply.c — walking the config against its settings tables: each
 * setting present is checked for its kind and stored, each name no table
 * knows is an error with the most helpful explanation available; the names
 * of entries (unique across every file); and the sections, whose lists may
 * come from several files. */
#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/conf_parse.h"
#include "core/util.h"

/* --- walking a group against its tables ----------------------------------- */

const struct def *conf_find_def(const struct def *defs, const char *name)
{
	for (; defs != NULL && defs->name != NULL; defs++)
		if (strcmp(defs->name, name) == 0)
			return defs;
	return NULL;
}

bool conf_in_list(const char *const *list, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i], name) == 0)
			return true;
	return false;
}

static const char *check_type_str(int t)
{
	return check_type_name((enum check_type)t);
}

/* The types other than type whose table in defs knows name, for a message:
 * "\"tcp\"", "\"tcp\" and \"tls\"", "\"http\", \"tcp\" and \"tls\"". NULL
 * when none. */
static const char *types_with(struct loader *ld, const struct def *const *defs, int n_types,
                              int type, const char *name, const char *(*type_str)(int))
{
	int found[CHECK_TYPE_COUNT];
	int n = 0;
	char *out = xstrdup("");

	for (int t = 0; t < n_types; t++)
		if (t != type && conf_find_def(defs[t], name) != NULL)
			found[n++] = t;
	for (int i = 0; i < n; i++) {
		char *next = xasprintf("%s%s\"%s\"", out, i == 0 ? "" : i == n - 1 ? " and " : ", ",
		                       type_str(found[i]));

		free(out);
		out = next;
	}
	conf_tmp(ld, out);
	return n > 0 ? out : NULL;
}

/* The notifier types other than notifier_types[type] that have a setting
 * called name, for a message: "\"pagerduty\"", "\"slack\" and \"webhook\"";
 * NULL when none. */
static const char *notifier_types_with(struct loader *ld, int type, const char *name)
{
	const struct notifier_type *found[NOTIFIER_TYPES_MAX];
	size_t n = 0;
	char *out = xstrdup("");

	for (int t = 0; notifier_types[t] != NULL && n < NOTIFIER_TYPES_MAX; t++)
		if (t != type && notifier_type_setting_index(notifier_types[t], name) >= 0)
			found[n++] = notifier_types[t];
	for (size_t i = 0; i < n; i++) {
		char *next = xasprintf("%s%s\"%s\"", out, i == 0 ? "" : i == n - 1 ? " and " : ", ",
		                       found[i]->name);

		free(out);
		out = next;
	}
	conf_tmp(ld, out);
	return n > 0 ? out : NULL;
}

/* Records the error for the setting s whose name no table of this context
 * knows, with the most helpful explanation available. */
static void unknown_setting(struct loader *ld, const config_setting_t *s, const char *where,
                            const struct def *const *tables, enum scope scope, int type)
{
	const char *name = config_setting_name(s);
	const char *cands[64];
	const char *hint, *others;
	size_t n = 0;

	if (scope == SCOPE_STEP && conf_find_def(conf_check_defs, name) != NULL) {
		conf_err(ld, s, "setting \"%s\" in %s belongs to the check, not to one of its steps", name, where);
		return;
	}
	if (scope == SCOPE_CHECK || scope == SCOPE_EXPECT || scope == SCOPE_STEP) {
		others = types_with(ld, scope == SCOPE_EXPECT ? conf_expect_defs : conf_type_defs, CHECK_TYPE_COUNT,
		                    type, name, check_type_str);
		if (others != NULL) {
			conf_err(ld, s, "setting \"%s\" in %s does not apply to check type \"%s\" (it is a setting of %s checks)",
			         name, where, check_type_str(type), others);
			return;
		}
		if (scope == SCOPE_CHECK && conf_find_def(conf_step_defs, name) != NULL) {
			conf_err(ld, s, "setting \"%s\" in %s belongs inside a step of steps = ( ... )", name, where);
			return;
		}
		if (scope != SCOPE_EXPECT && conf_find_def(conf_expect_defs[type], name) != NULL) {
			conf_err(ld, s, "unknown setting \"%s\" in %s (did you mean to put it inside expect = { ... }?)",
			         name, where);
			return;
		}
	}
	if (scope == SCOPE_NOTIFIER) {
		others = notifier_types_with(ld, type, name);
		if (others != NULL) {
			conf_err(ld, s, "setting \"%s\" in %s does not apply to notifier type \"%s\" (it is a setting of %s notifiers)",
			         name, where, notifier_types[type]->name, others);
			return;
		}
	}
	for (; *tables != NULL; tables++)
		for (const struct def *d = *tables; d->name != NULL && n < COUNT(cands); d++)
			cands[n++] = d->name;
	hint = conf_closest(name, cands, n);
	if (hint != NULL)
		conf_err(ld, s, "unknown setting \"%s\" in %s (did you mean \"%s\"?)", name, where, hint);
	else
		conf_err(ld, s, "unknown setting \"%s\" in %s", name, where);
}

/* Stores one known setting s according to its definition d. */
void conf_apply_one(struct loader *ld, const config_setting_t *s, const struct def *d,
                    void *base, const char *where)
{
	char *p = (char *)base + d->off;
	long long iv;

	switch (d->kind) {
	case K_SKIP:
		break;
	case K_STR: {
		char *v = conf_get_str(ld, s, where);

		if (v == NULL)
			break;
		if ((d->flags & F_NONEMPTY) && *v == '\0') {
			conf_err(ld, s, "%s in %s must not be empty", conf_sname(ld, s), where);
			free(v);
			break;
		}
		if (d->flags & F_SECRET)
			conf_secret_add(ld, v);
		if ((d->flags & F_FILE) && access(v, R_OK) < 0) {
			conf_err(ld, s, "%s in %s: cannot read %s: %s", conf_sname(ld, s), where,
			         conf_quote(ld, config_setting_get_string(s)), strerror(errno));
			free(v);
			break;
		}
		free(*(char **)p);
		*(char **)p = v;
		break;
	}
	case K_INT:
		if (conf_get_int(ld, s, where, d->min, d->max, &iv) == 0)
			*(int *)p = (int)iv;
		break;
	case K_BOOL:
		conf_get_bool(ld, s, where, (bool *)p);
		break;
	case K_DURATION:
		conf_get_duration(ld, s, where, (uint64_t)d->min, (uint64_t *)p);
		break;
	case K_REGEX:
		conf_get_regex(ld, s, where, (char **)p, (pcre2_code **)((char *)base + d->off2));
		break;
	case K_STRLIST:
		if ((config_setting_is_array(s) || config_setting_is_list(s)) && config_setting_length(s) == 0) {
			conf_err(ld, s, "%s in %s must not be empty (leave it out instead)", conf_sname(ld, s), where);
			break;
		}
		conf_get_strlist(ld, s, where, (char ***)p, (size_t *)((char *)base + d->off2));
		break;
	case K_CUSTOM:
		d->parse(ld, s, base, where);
		break;
	}
}

/* Walks the group g against tables (NULL-terminated): every member is stored
 * or reported; every required setting that is missing is reported at the
 * line of g. When lenient, unknown names are not reported (the check's type
 * is invalid, so nobody can tell which names would be known). */
void conf_apply(struct loader *ld, const config_setting_t *g, const struct def *const *tables,
                void *base, const char *where, enum scope scope, int type, bool lenient)
{
	int n = config_setting_length(g);

	for (int i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
		const struct def *d = NULL;

		for (const struct def *const *t = tables; *t != NULL && d == NULL; t++)
			d = conf_find_def(*t, config_setting_name(s));
		if (d != NULL)
			conf_apply_one(ld, s, d, base, where);
		else if (!lenient)
			unknown_setting(ld, s, where, tables, scope, type);
	}
	for (const struct def *const *t = tables; *t != NULL; t++)
		for (const struct def *d = *t; d->name != NULL; d++)
			if ((d->flags & F_REQUIRED) && config_setting_get_member(g, d->name) == NULL)
				conf_err(ld, g, "missing required setting \"%s\" in %s%s%s%s", d->name, where,
				         d->hint ? " (" : "", d->hint ? d->hint : "", d->hint ? ")" : "");
}

/* A group setting or an error naming what was expected. */
bool conf_want_group(struct loader *ld, const config_setting_t *s, const char *where)
{
	if (config_setting_is_group(s))
		return true;
	conf_err(ld, s, "%s in %s must be a group { ... } (got %s)", conf_sname(ld, s), where,
	         conf_type_desc(config_setting_type(s)));
	return false;
}

/* Which index of the conf holds the names of entries called what. */
static struct conf_names **names_of(struct conf *conf, const char *what)
{
	if (strcmp(what, "check") == 0)
		return &conf->check_names;
	if (strcmp(what, "rule") == 0)
		return &conf->rule_names;
	return &conf->notifier_names;
}

/* The name of the entry g of a section whose entries are called what
 * ("check", "rule", "notifier"), stored at position idx of its array:
 * required, [A-Za-z0-9_.-]{1,64}, unique across every file (the conf's
 * index finds a duplicate in constant time). Returns it (a new string) or
 * NULL after recording an error; sets *where to how messages name the entry
 * ("check \"api\"", else "check #3": its position in its file's list;
 * config_setting_index() would say it too, but in linear time). */
char *conf_read_name(struct loader *ld, const config_setting_t *g, const char *what, size_t idx,
                     struct name_seen *seen, size_t *n_seen, const char **where)
{
	const config_setting_t *ns = config_setting_get_member(g, "name");
	size_t file, first_file;
	int line, first_line;
	char *v;

	*where = conf_tmp(ld, xasprintf("%s #%zu", what, ld->entry_number));
	if (ns == NULL) {
		conf_err(ld, g, "missing required setting \"name\" in %s", *where);
		return NULL;
	}
	v = conf_get_str(ld, ns, *where);
	if (v != NULL && !conf_valid_name(v)) {
		conf_err(ld, ns, "\"name\" in %s must be 1 to 64 characters from A-Z a-z 0-9 _ . - (got %s)",
		    *where, conf_quote(ld, config_setting_get_string(ns)));
		free(v);
		v = NULL;
	}
	if (v == NULL)
		return NULL;
	*where = conf_tmp(ld, xasprintf("%s \"%s\"", what, v));
	file = conf_file_of(ld, ns);
	line = conf_setting_line(ns);
	if (!conf_names_add(names_of(ld->conf, what), v, idx, file, line, &first_file, &first_line)) {
		if (first_file == file)
			conf_err(ld, ns, "duplicate %s name \"%s\" (first defined on line %d)", what, v, first_line);
		else
			conf_err(ld, ns, "duplicate %s name \"%s\" (first defined in %s:%d)", what, v,
			         ld->files[first_file]->path, first_line);
	}
	return v;
}

const config_setting_t *conf_section_first(const struct loader *ld, const char *name)
{
	for (size_t f = 0; f < ld->n_files; f++) {
		const config_setting_t *s = config_lookup(&ld->files[f]->cfg, name);

		if (s != NULL)
			return s;
	}
	return NULL;
}

/* The number of entries of the section named like s across every file: each
 * file's list of that name must be a list of groups. -1 when none is. */
int conf_section_list(struct loader *ld, const config_setting_t *s, const char *example)
{
	const char *name = config_setting_name(s);
	long long total = 0;
	bool any = false;

	for (size_t f = 0; f < ld->n_files; f++) {
		const config_setting_t *list = config_lookup(&ld->files[f]->cfg, name);

		if (list == NULL)
			continue;
		if (!config_setting_is_list(list)) {
			conf_err(ld, list, "\"%s\" must be a list of groups like ( %s ) (got %s)", name, example,
			         conf_type_desc(config_setting_type(list)));
			continue;
		}
		total += config_setting_length(list);
		any = true;
	}
	return any && total <= INT_MAX ? (int)total : -1;
}

/* Calls fn for each of the n entries of the section named like s, file by
 * file in file order, each file's list in its order. */
void conf_section_entries(struct loader *ld, struct conf *conf, const config_setting_t *s, size_t n,
                          entry_fn *fn)
{
	const char *name = config_setting_name(s);
	size_t idx = 0;

	for (size_t f = 0; f < ld->n_files; f++) {
		const config_setting_t *list = config_lookup(&ld->files[f]->cfg, name);
		size_t len;

		if (list == NULL || !config_setting_is_list(list))
			continue;
		len = (size_t)config_setting_length(list);
		assert(idx + len <= n);
		for (size_t i = 0; i < len; i++) {
			ld->entry_number = i + 1;
			fn(ld, conf, config_setting_get_elem(list, (unsigned)i), idx++, NULL, NULL);
		}
	}
}

/* conf_validate.c — a check type's rules that combine settings (its
 * validate, probes/probe_type.h), asked through struct probe_validate as the
 * loader answers it: which settings the group has, which of them were read
 * without error, and errors at the right line. For a check (conf_checks.c)
 * and for a step of a multi-step http check (conf_check_http.c). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf_parse.h"
#include "core/util.h"

/* --- the type's rules, asked through struct probe_validate ----------------- */

/* struct probe_validate as the loader answers it: v first, so the
 * callbacks get back to the loader and the group from the v they are given. */
struct validate_ctx {
	struct probe_validate v;
	struct loader *ld;
	const config_setting_t *g;
};

/* The setting "name" or "expect.name" of the group being validated, or NULL. */
static const config_setting_t *ctx_member(const struct probe_validate *v, const char *name)
{
	const struct validate_ctx *x = (const struct validate_ctx *)v;
	const char *dot = strchr(name, '.');
	const config_setting_t *ex;
	char group[32];

	if (dot == NULL)
		return config_setting_get_member(x->g, name);
	snprintf(group, sizeof(group), "%.*s", (int)(dot - name), name);
	ex = config_setting_get_member(x->g, group);
	if (ex == NULL || !config_setting_is_group(ex))
		return NULL;
	return config_setting_get_member(ex, dot + 1);
}

static bool ctx_present(const struct probe_validate *v, const char *name)
{
	return ctx_member(v, name) != NULL;
}

static bool ctx_valid(const struct probe_validate *v, const char *name)
{
	const struct validate_ctx *x = (const struct validate_ctx *)v;
	const config_setting_t *s = ctx_member(v, name);

	return s != NULL && !conf_had_error(x->ld, s);
}

__attribute__((format(printf, 3, 4)))
static void ctx_error(const struct probe_validate *v, const char *name, const char *fmt, ...)
{
	const struct validate_ctx *x = (const struct validate_ctx *)v;
	const config_setting_t *s = name ? ctx_member(v, name) : NULL;
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	conf_err(x->ld, s ? s : x->g, "%s", msg);
	free(msg);
}

void conf_validate_check(struct loader *ld, const config_setting_t *g, const struct check *c,
                         const char *where, bool step)
{
	const struct probe_type *pt = probe_type_of(c);
	struct validate_ctx x = {
		.v = { .where = where, .step = step, .present = ctx_present, .valid = ctx_valid,
		       .error = ctx_error },
		.ld = ld,
		.g = g,
	};

	if (pt != NULL && pt->validate != NULL)
		pt->validate(c, &x.v);
}

/* engine_build.c — engine_set_conf: the alert engine's checks and instances
 * built from a configuration, with the state of what survives a reload moved
 * over (counts, windows, instance states) and what does not reported gone. */
#include <stdlib.h>
#include <string.h>

#include "alerts/engine_internal.h"
#include "alerts/expr.h"
#include "probes/selector.h"

static bool rule_selects(const struct alert_rule *r, const struct check *c)
{
	for (size_t i = 0; i < r->n_selectors; i++) {
		if (selector_matches(r->selectors[i], c))
			return true;
	}
	return false;
}

static bool rule_uses_counts(const struct alert_rule *r)
{
	const struct expr *x[2] = { r->when, r->recover };

	for (size_t i = 0; i < 2; i++) {
		if (x[i] != NULL && (expr_uses(x[i], EXPR_CONSECUTIVE_FAILURES) ||
		                     expr_uses(x[i], EXPR_CONSECUTIVE_SUCCESSES)))
			return true;
	}
	return false;
}

static uint64_t rule_max_window(const struct alert_rule *r)
{
	uint64_t a = expr_max_window_ms(r->when);
	uint64_t b = r->recover != NULL ? expr_max_window_ms(r->recover) : 0;

	return a > b ? a : b;
}

/* The new checks array for conf, sorted by name, state moved from the old one. */
static struct eng_check *build_checks(struct engine *e, const struct engine_conf *conf)
{
	struct eng_check *v = xcalloc(conf->n_checks ? conf->n_checks : 1, sizeof(*v));

	for (size_t i = 0; i < conf->n_checks; i++)
		v[i].c = &conf->checks[i];
	qsort(v, conf->n_checks, sizeof(*v), eng_check_cmp);
	for (size_t i = 0; i < conf->n_checks; i++) {
		struct eng_check *nc = &v[i], *oc = eng_find_check(e->checks, e->n_checks, nc->c->name);

		if (oc != NULL) {
			nc->failures = oc->failures;
			nc->successes = oc->successes;
			nc->have_result = oc->have_result;
			nc->last_ok = oc->last_ok;
			nc->seen_ok = oc->seen_ok;
			nc->primed = oc->primed;
			nc->have_ping = oc->have_ping;
			nc->last_ping_ms = oc->last_ping_ms;
			nc->cert_expiry_s = oc->cert_expiry_s;
			nc->maint_held = oc->maint_held;
			memcpy(nc->run_id, oc->run_id, sizeof(nc->run_id));
			nc->message = oc->message;
			oc->message = NULL;
			nc->win = oc->win;
			oc->win = NULL;
		}
		if (nc->c->n_depends_on > 0)
			nc->deps = xcalloc(nc->c->n_depends_on, sizeof(*nc->deps));
		for (size_t k = 0; k < nc->c->n_depends_on; k++) {
			struct eng_check *d = eng_find_check(v, conf->n_checks, nc->c->depends_on[k]);

			/* The loader rejects unknown names; a check depending on
			 * itself would block itself forever, so skip that too. */
			if (d != NULL && d != nc)
				nc->deps[nc->n_deps++] = (size_t)(d - v);
		}
	}
	return v;
}

/* The new instances for conf over checks v (sorted), with state carried from
 * the old instances (marked `carried`). Sets *n. */
static struct eng_inst *build_instances(struct engine *e, const struct engine_conf *conf,
                                        struct eng_check *v, size_t *n)
{
	struct eng_inst *inst = NULL;
	size_t cnt = 0, cap = 0;

	for (size_t ri = 0; ri < conf->n_rules; ri++) {
		const struct alert_rule *r = &conf->rules[ri];

		if (r->name == NULL || r->when == NULL)
			continue;
		for (size_t ci = 0; ci < conf->n_checks; ci++) {
			struct eng_inst *in, *old;

			if (!rule_selects(r, v[ci].c))
				continue;
			if (cnt == cap) {
				cap = cap ? cap * 2 : 16;
				inst = xrealloc(inst, cap * sizeof(*inst));
			}
			in = &inst[cnt++];
			memset(in, 0, sizeof(*in));
			in->rule = r;
			in->check = ci;
			in->rule_name = r->name;
			in->check_name = v[ci].c->name;
			in->timer = expr_needs_timer(r->when) ||
			            (r->recover != NULL && expr_needs_timer(r->recover));
			in->needs_counts = rule_uses_counts(r);
			old = eng_find_inst(e->inst, e->n_inst, r->name, v[ci].c->name);
			if (old != NULL) {
				in->state = old->state;
				in->since_ms = old->since_ms;
				in->fired_ms = old->fired_ms;
				in->last_sent_ms = old->last_sent_ms;
				memcpy(in->alert_id, old->alert_id, sizeof(in->alert_id));
				memcpy(in->value, old->value, sizeof(in->value));
				memcpy(in->fired_value, old->fired_value, sizeof(in->fired_value));
				memcpy(in->run_id, old->run_id, sizeof(in->run_id));
				in->restored = old->restored;
				old->carried = true;
			}
		}
	}
	if (cnt > 1)
		qsort(inst, cnt, sizeof(*inst), eng_inst_cmp);
	*n = cnt;
	return inst;
}

/* Per check: its instances, maintenance windows and window capacity. */
static void link_checks(struct eng_check *v, size_t nv, struct eng_inst *inst, size_t ni,
                        struct maintenance *m)
{
	uint64_t *maxw = xcalloc(nv ? nv : 1, sizeof(*maxw));

	for (size_t i = 0; i < ni; i++) {
		struct eng_check *ec = &v[inst[i].check];
		uint64_t w = rule_max_window(inst[i].rule);

		/* Counted first, filled below. */
		ec->n_inst++;
		if (w > maxw[inst[i].check])
			maxw[inst[i].check] = w;
	}
	for (size_t k = 0; k < nv; k++) {
		struct eng_check *ec = &v[k];
		size_t cap = window_capacity_for(maxw[k], ec->c->interval_ms);

		ec->inst = ec->n_inst ? xcalloc(ec->n_inst, sizeof(*ec->inst)) : NULL;
		ec->n_inst = 0;
		if (ec->win == NULL)
			ec->win = window_new(cap);
		else
			window_resize(ec->win, cap);
		for (size_t j = 0; j < maintenance_count(m); j++) {
			if (!maintenance_selects(m, j, ec->c))
				continue;
			ec->maint = xrealloc(ec->maint, (ec->n_maint + 1) * sizeof(*ec->maint));
			ec->maint[ec->n_maint++] = j;
		}
	}
	for (size_t i = 0; i < ni; i++) {
		struct eng_check *ec = &v[inst[i].check];

		ec->inst[ec->n_inst++] = i;
	}
	free(maxw);
}

void engine_set_conf(struct engine *e, const struct engine_conf *conf, int64_t now_ms)
{
	struct eng_check *v;
	struct eng_inst *inst;
	struct maintenance *m;
	size_t ni = 0;

	if (conf == NULL)
		return;
	v = build_checks(e, conf);
	inst = build_instances(e, conf, v, &ni);
	m = maintenance_new(conf->maintenance, conf->n_maintenance);
	link_checks(v, conf->n_checks, inst, ni, m);

	/* Instances that did not survive, reported while the old conf (their
	 * rule and check) is still installed. */
	for (size_t i = 0; i < e->n_inst; i++) {
		struct eng_inst *old = &e->inst[i];

		if (!old->carried)
			eng_inst_gone(e, old, e->checks[old->check].c, now_ms);
	}

	eng_checks_free(e->checks, e->n_checks);
	free(e->by_conf);
	e->by_conf = xcalloc(conf->n_checks ? conf->n_checks : 1, sizeof(*e->by_conf));
	for (size_t k = 0; k < conf->n_checks; k++)
		e->by_conf[v[k].c - conf->checks] = k;
	free(e->inst);
	maintenance_free(e->maint);
	if (conf->hold != NULL)
		conf->hold(conf->owner);
	if (e->have_conf && e->conf.release != NULL)
		e->conf.release(e->conf.owner);
	e->conf = *conf;
	e->have_conf = true;
	e->checks = v;
	e->n_checks = conf->n_checks;
	e->inst = inst;
	e->n_inst = ni;
	e->maint = m;
}


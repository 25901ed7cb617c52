/* test_engine.c — the alert state machine with an injected clock: firing,
 * recovery, `for`, repeat, maintenance, dependencies, restore, windows,
 * missing data and reload. No threads, no sleeps. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#include "alerts/alert.h"
#include "conf/conf.h"
#include "alerts/engine.h"
#include "alerts/expr.h"
#include "core/log.h"
#include "core/util.h"

#define S 1000LL
#define MIN (60 * S)
#define HOUR (60 * MIN)
/* 2026-01-05T12:00:00Z, a Monday. */
#define T0 1767614400000LL

/* --- a config built by hand (the loader does not read alerts yet) --------- */

static void hold(void *c)
{
	conf_ref(c);
}

static void release(void *c)
{
	conf_unref(c);
}

/* engine_set_conf with c's arrays, the engine holding a reference to c (as
 * the agent's alert glue does). */
static void install(struct engine *e, struct conf *c, int64_t now_ms)
{
	struct engine_conf v = {
		.checks = c->checks, .n_checks = c->n_checks,
		.rules = c->rules, .n_rules = c->n_rules,
		.maintenance = c->maintenance, .n_maintenance = c->n_maintenance,
		.public_url = c->agent.public_url, .location = c->agent.location,
		.owner = c, .hold = hold, .release = release,
	};

	engine_set_conf(e, &v, now_ms);
}

static struct conf *tconf_new(void)
{
	struct conf *c = xcalloc(1, sizeof(*c));

	c->refs = 1;
	c->agent.public_url = xstrdup("https://status.example.com/");
	c->agent.location = xstrdup("eu-test-1");
	return c;
}

static struct check *tconf_check(struct conf *c, const char *name, const char *group,
                                 const char *dep)
{
	struct check *k;

	c->checks = xrealloc(c->checks, (c->n_checks + 1) * sizeof(*c->checks));
	k = &c->checks[c->n_checks++];
	check_init(k);
	k->name = xstrdup(name);
	k->group = xstrdup(group != NULL ? group : "");
	k->type = CHECK_TCP;
	k->interval_ms = 10 * S;
	k->timeout_ms = 5 * S;
	if (dep != NULL) {
		k->depends_on = xcalloc(1, sizeof(char *));
		k->depends_on[0] = xstrdup(dep);
		k->n_depends_on = 1;
	}
	return k;
}

static struct expr *parse_or_fail(const char *text)
{
	char err[256] = "";
	int col = 0;
	struct expr *x = expr_parse(text, err, sizeof(err), &col);

	if (x == NULL)
		fail_msg("expr_parse(%s): column %d: %s", text, col, err);
	return x;
}

static struct alert_rule *tconf_rule(struct conf *c, const char *name, const char *selector,
                                     const char *when, const char *recover,
                                     uint64_t for_ms, uint64_t repeat_ms)
{
	struct alert_rule *r;

	c->rules = xrealloc(c->rules, (c->n_rules + 1) * sizeof(*c->rules));
	r = &c->rules[c->n_rules++];
	memset(r, 0, sizeof(*r));
	r->name = xstrdup(name);
	r->selectors = xcalloc(1, sizeof(char *));
	r->selectors[0] = xstrdup(selector);
	r->n_selectors = 1;
	r->when_text = xstrdup(when);
	r->when = parse_or_fail(when);
	if (recover != NULL) {
		r->recover_text = xstrdup(recover);
		r->recover = parse_or_fail(recover);
	}
	r->for_ms = for_ms;
	r->repeat_ms = repeat_ms;
	r->severity = SEVERITY_CRITICAL;
	return r;
}

static struct maintenance_window *tconf_maint(struct conf *c, const char *selector)
{
	struct maintenance_window *m;

	c->maintenance = xrealloc(c->maintenance, (c->n_maintenance + 1) * sizeof(*c->maintenance));
	m = &c->maintenance[c->n_maintenance++];
	memset(m, 0, sizeof(*m));
	m->selectors = xcalloc(1, sizeof(char *));
	m->selectors[0] = xstrdup(selector);
	m->n_selectors = 1;
	m->weekly_day = -1;
	return m;
}

/* Frees what tconf_* built; the engine must have dropped its reference. */
static void tconf_free(struct conf *c)
{
	assert_int_equal(c->refs, 1);
	for (size_t i = 0; i < c->n_checks; i++)
		check_clear(&c->checks[i]);
	for (size_t i = 0; i < c->n_rules; i++)
		alert_rule_clear(&c->rules[i]);
	for (size_t i = 0; i < c->n_maintenance; i++)
		maintenance_window_clear(&c->maintenance[i]);
	free(c->checks);
	free(c->rules);
	free(c->maintenance);
	free(c->agent.public_url);
	free(c->agent.location);
	free(c);
}

/* --- what the engine emitted ----------------------------------------------- */

struct rec {
	char rule[64], check[64];
	enum alert_state from, to;
	bool gone, has_rule_def;
	int64_t since_ms, fired_ms, last_sent_ms;
	char alert_id[UTIL_ID_LEN];
	char value[64];
	char run_id[UTIL_ID_LEN];
	bool has_event;
	struct {
		enum alert_event_kind kind;
		char rule[64], check[64], group[64], alert_id[UTIL_ID_LEN], value[64];
		char message[128], url[160], expr[128], location[64];
		char run_id[UTIL_ID_LEN];       /* "(null)" when the event has none */
		enum alert_severity severity;
		int64_t ts_us, started_us;
	} ev;
};

#define MAX_RECS 512
static struct rec recs[MAX_RECS];
static size_t n_recs;

static void on_emit(const struct engine_transition *t, void *ctx)
{
	struct rec *r;

	(void)ctx;
	assert_true(n_recs < MAX_RECS);
	r = &recs[n_recs++];
	memset(r, 0, sizeof(*r));
	util_strlcpy(r->rule, t->rule, sizeof(r->rule));
	util_strlcpy(r->check, t->check, sizeof(r->check));
	r->has_rule_def = t->rule_def != NULL;
	if (t->rule_def != NULL)
		assert_string_equal(t->rule_def->name, t->rule);
	r->from = t->from;
	r->to = t->to;
	r->gone = t->gone;
	r->since_ms = t->since_ms;
	r->fired_ms = t->fired_ms;
	r->last_sent_ms = t->last_sent_ms;
	util_strlcpy(r->alert_id, t->alert_id, sizeof(r->alert_id));
	util_strlcpy(r->value, t->value, sizeof(r->value));
	util_strlcpy(r->run_id, t->run_id, sizeof(r->run_id));
	if (t->event != NULL) {
		const struct alert_event *e = t->event;

		r->has_event = true;
		r->ev.kind = e->kind;
		util_strlcpy(r->ev.rule, e->rule, sizeof(r->ev.rule));
		util_strlcpy(r->ev.check, e->check, sizeof(r->ev.check));
		util_strlcpy(r->ev.group, e->group, sizeof(r->ev.group));
		util_strlcpy(r->ev.alert_id, e->alert_id, sizeof(r->ev.alert_id));
		util_strlcpy(r->ev.value, e->value, sizeof(r->ev.value));
		util_strlcpy(r->ev.message, e->message, sizeof(r->ev.message));
		util_strlcpy(r->ev.url, e->url, sizeof(r->ev.url));
		util_strlcpy(r->ev.expr, e->expr, sizeof(r->ev.expr));
		util_strlcpy(r->ev.location, e->location, sizeof(r->ev.location));
		util_strlcpy(r->ev.run_id, e->run_id != NULL ? e->run_id : "(null)", sizeof(r->ev.run_id));
		r->ev.severity = e->severity;
		r->ev.ts_us = e->ts_us;
		r->ev.started_us = e->started_us;
	}
}

static const struct engine_hooks hooks = { .emit = on_emit, .ctx = NULL };

/* Events of this kind for (rule, check) since record `from`. */
static size_t count_events(size_t from, const char *rule, const char *check,
                           enum alert_event_kind kind)
{
	size_t n = 0;

	for (size_t i = from; i < n_recs; i++) {
		if (recs[i].has_event && recs[i].ev.kind == kind && strcmp(recs[i].rule, rule) == 0 &&
		    strcmp(recs[i].check, check) == 0)
			n++;
	}
	return n;
}

static size_t count_all_events(size_t from)
{
	size_t n = 0;

	for (size_t i = from; i < n_recs; i++)
		n += recs[i].has_event;
	return n;
}

static const struct rec *last_rec(void)
{
	assert_true(n_recs > 0);
	return &recs[n_recs - 1];
}

/* The state of one instance, through engine_foreach_instance. */
struct find_ctx {
	const char *rule, *check;
	bool found;
	struct engine_instance_info info;
	char alert_id[UTIL_ID_LEN];
};

static void find_fn(const struct engine_instance_info *i, void *ctx)
{
	struct find_ctx *f = ctx;

	if (strcmp(i->rule, f->rule) == 0 && strcmp(i->check, f->check) == 0) {
		f->found = true;
		f->info = *i;
		util_strlcpy(f->alert_id, i->alert_id, sizeof(f->alert_id));
	}
}

static enum alert_state state_of(struct engine *e, const char *rule, const char *check)
{
	struct find_ctx f = { .rule = rule, .check = check };

	engine_foreach_instance(e, find_fn, &f);
	if (!f.found)
		fail_msg("no instance (%s, %s)", rule, check);
	return f.info.state;
}

static void result(struct engine *e, const struct conf *c, const char *check, bool ok,
                   double duration_ms, int64_t now_ms)
{
	struct probe_result r;
	const struct check *k = conf_find_check(c, check);

	assert_non_null(k);
	memset(&r, 0, sizeof(r));
	r.ok = ok;
	r.error = ok ? PROBE_OK : PROBE_ERR_CONNECT;
	r.start_us = (now_ms - (int64_t)duration_ms) * 1000;
	r.duration_us = (int64_t)(duration_ms * 1000);
	snprintf(r.message, sizeof(r.message), "%s", ok ? "" : "connect: connection refused");
	r.status_code = -1;
	r.bytes = -1;
	engine_on_result(e, k, &r, now_ms);
}

/* result() with the run's id set, as every real run has one. */
static void result_run(struct engine *e, const struct conf *c, const char *check, bool ok,
                       int64_t now_ms, const char *run_id)
{
	struct probe_result r;

	memset(&r, 0, sizeof(r));
	r.ok = ok;
	r.error = ok ? PROBE_OK : PROBE_ERR_CONNECT;
	r.duration_us = 5000;
	r.status_code = -1;
	r.bytes = -1;
	util_strlcpy(r.run_id, run_id, sizeof(r.run_id));
	engine_on_result(e, conf_find_check(c, check), &r, now_ms);
}

/* The run_id the named instance shows through engine_foreach_instance. */
static void run_id_fn(const struct engine_instance_info *i, void *ctx)
{
	if (strcmp(i->rule, "down") == 0)
		util_strlcpy(ctx, i->run_id, UTIL_ID_LEN);
}

static void ticks(struct engine *e, int64_t from_ms, int64_t to_ms)
{
	for (int64_t t = from_ms; t <= to_ms; t += S)
		engine_tick(e, t);
}

static int setup(void **state)
{
	(void)state;
	log_setup(LOG_FORMAT_LOGFMT, LOG_WARN);
	n_recs = 0;
	return 0;
}

/* --- tests ------------------------------------------------------------------ */

static void test_fires_on_third_failure(void **state)
{
	struct conf *c = tconf_new();
	struct engine *e = engine_new(&hooks);
	const struct rec *r;
	(void)state;

	tconf_check(c, "payments-api", "Payments", NULL);
	tconf_rule(c, "down", "*", "consecutive_failures >= 3", NULL, 0, 0);
	install(e, c, T0);
	assert_int_equal(engine_instance_count(e), 1);
	assert_int_equal(n_recs, 0);

	result(e, c, "payments-api", false, 5, T0 + 10 * S);
	result(e, c, "payments-api", false, 5, T0 + 20 * S);
	ticks(e, T0 + 20 * S, T0 + 29 * S);
	assert_int_equal(n_recs, 0);
	assert_int_equal(state_of(e, "down", "payments-api"), ALERT_OK);

	result(e, c, "payments-api", false, 5, T0 + 30 * S);
	assert_int_equal(n_recs, 1);
	r = last_rec();
	assert_int_equal(r->from, ALERT_OK);
	assert_int_equal(r->to, ALERT_FIRING);
	assert_false(r->gone);
	assert_true(r->has_event);
	assert_int_equal(r->ev.kind, ALERT_EVENT_FIRING);
	assert_string_equal(r->ev.rule, "down");
	assert_string_equal(r->ev.check, "payments-api");
	assert_string_equal(r->ev.group, "Payments");
	assert_int_equal(r->ev.severity, SEVERITY_CRITICAL);
	assert_string_equal(r->ev.value, "3");
	assert_string_equal(r->ev.message, "connect: connection refused");
	assert_string_equal(r->ev.url, "https://status.example.com/check/payments-api");
	assert_string_equal(r->ev.expr, "consecutive_failures >= 3");
	assert_string_equal(r->ev.location, "eu-test-1");
	assert_int_equal(r->ev.ts_us, (T0 + 30 * S) * 1000);
	assert_int_equal(r->ev.started_us, (T0 + 30 * S) * 1000);
	assert_int_equal(strlen(r->alert_id), 16);
	assert_string_equal(r->ev.alert_id, r->alert_id);
	/* since: when the check started failing; fired: when it fired. */
	assert_int_equal(r->since_ms, T0 + 10 * S);
	assert_int_equal(r->fired_ms, T0 + 30 * S);
	assert_int_equal(r->last_sent_ms, T0 + 30 * S);

	/* Further failures and ticks: no second page without repeat. */
	for (int i = 4; i < 20; i++)
		result(e, c, "payments-api", false, 5, T0 + i * 10 * S);
	ticks(e, T0 + 190 * S, T0 + 2 * HOUR);
	assert_int_equal(n_recs, 1);
	assert_int_equal(state_of(e, "down", "payments-api"), ALERT_FIRING);

	engine_free(e);
	tconf_free(c);
}

static void test_recover_after_two_successes(void **state)
{
	struct conf *c = tconf_new();
	struct engine *e = engine_new(&hooks);
	char id[UTIL_ID_LEN];
	(void)state;

	tconf_check(c, "db", NULL, NULL);
	tconf_rule(c, "down", "db", "consecutive_failures >= 3", "consecutive_successes >= 2", 0, 0);
	install(e, c, T0);
	for (int i = 1; i <= 3; i++)
		result(e, c, "db", false, 5, T0 + i * S);
	assert_int_equal(count_events(0, "down", "db", ALERT_EVENT_FIRING), 1);
	util_strlcpy(id, last_rec()->alert_id, sizeof(id));

	result(e, c, "db", true, 5, T0 + 4 * S);
	assert_int_equal(state_of(e, "down", "db"), ALERT_FIRING);
	assert_int_equal(n_recs, 1);
	/* A failure in between starts the count again. */
	result(e, c, "db", false, 5, T0 + 5 * S);
	result(e, c, "db", true, 5, T0 + 6 * S);
	assert_int_equal(n_recs, 1);
	result(e, c, "db", true, 5, T0 + 7 * S);
	assert_int_equal(n_recs, 2);
	assert_int_equal(last_rec()->from, ALERT_FIRING);
	assert_int_equal(last_rec()->to, ALERT_OK);
	assert_int_equal(last_rec()->ev.kind, ALERT_EVENT_RESOLVED);
	assert_string_equal(last_rec()->ev.alert_id, id);
	/* The value that fired, not the recover expression's; how long it was down. */
	assert_string_equal(last_rec()->ev.value, "3");
	assert_non_null(strstr(last_rec()->ev.message, "db was down for 6s (since "));
	assert_int_equal(last_rec()->ev.started_us, (T0 + 3 * S) * 1000);
	assert_int_equal(last_rec()->ev.ts_us, (T0 + 7 * S) * 1000);
	assert_int_equal(state_of(e, "down", "db"), ALERT_OK);

	/* The next episode gets a new id. */
	for (int i = 8; i <= 10; i++)
		result(e, c, "db", false, 5, T0 + i * S);
	assert_int_equal(last_rec()->ev.kind, ALERT_EVENT_FIRING);
	assert_string_not_equal(last_rec()->ev.alert_id, id);

	engine_free(e);
	tconf_free(c);
}

static void test_default_recover_is_not_when(void **state)
{
	struct conf *c = tconf_new();
	struct engine *e = engine_new(&hooks);
	(void)state;

	tconf_check(c, "db", NULL, NULL);
	tconf_rule(c, "down", "db", "consecutive_failures >= 2", NULL, 0, 0);
	install(e, c, T0);
	result(e, c, "db", false, 5, T0 + 1 * S);
	result(e, c, "db", false, 5, T0 + 2 * S);
	assert_int_equal(state_of(e, "down", "db"), ALERT_FIRING);
	result(e, c, "db", true, 5, T0 + 3 * S);
	assert_int_equal(state_of(e, "down", "db"), ALERT_OK);
	assert_int_equal(count_events(0, "down", "db", ALERT_EVENT_RESOLVED), 1);
	engine_free(e);
	tconf_free(c);
}

static void test_for_pending_then_fires(void **state)
{
	struct conf *c = tconf_new();
	struct engine *e = engine_new(&hooks);
	(void)state;

	tconf_check(c, "api", NULL, NULL);
	tconf_rule(c, "down", "api", "consecutive_failures >= 1", NULL, 2 * MIN, 0);
	install(e, c, T0);

	result(e, c, "api", false, 5, T0);
	assert_int_equal(n_recs, 1);
	assert_int_equal(last_rec()->from, ALERT_OK);
	assert_int_equal(last_rec()->to, ALERT_PENDING);
	assert_false(last_rec()->has_event);
	assert_int_equal(last_rec()->since_ms, T0);

	/* Still failing, but `for` has not run out: pending, on results and ticks. */
	result(e, c, "api", false, 5, T0 + 30 * S);
	ticks(e, T0 + 1 * S, T0 + 2 * MIN - 1 * S);
	result(e, c, "api", false, 5, T0 + 90 * S);
	assert_int_equal(n_recs, 1);
	assert_int_equal(state_of(e, "down", "api"), ALERT_PENDING);

	/* Fires on the tick at which `for` ran out, not on a result. */
	engine_tick(e, T0 + 2 * MIN);
	assert_int_equal(n_recs, 2);
	assert_int_equal(last_rec()->from, ALERT_PENDING);
	assert_int_equal(last_rec()->to, ALERT_FIRING);
	assert_true(last_rec()->has_event);
	assert_int_equal(last_rec()->ev.kind, ALERT_EVENT_FIRING);
	assert_int_equal(last_rec()->fired_ms, T0 + 2 * MIN);
	ticks(e, T0 + 2 * MIN, T0 + 10 * MIN);
	assert_int_equal(n_recs, 2);

	engine_free(e);
	tconf_free(c);
}

static void test_for_fires_on_result(void **state)
{
	struct conf *c = tconf_new();
	struct engine *e = engine_new(&hooks);
	(void)state;

	tconf_check(c, "api", NULL, NULL);
	tconf_rule(c, "down", "api", "consecutive_failures >= 1", NULL, 20 * S, 0);
	install(e, c, T0);
	result(e, c, "api", false, 5, T0);
	result(e, c, "api", false, 5, T0 + 10 * S);
	assert_int_equal(state_of(e, "down", "api"), ALERT_PENDING);
	result(e, c, "api", false, 5, T0 + 20 * S);
	assert_int_equal(state_of(e, "down", "api"), ALERT_FIRING);
	assert_int_equal(count_events(0, "down", "api", ALERT_EVENT_FIRING), 1);
	engine_free(e);
	tconf_free(c);
}

static void test_pending_back_to_ok_silently(void **state)
{
	struct conf *c = tconf_new();
	struct engine *e = engine_new(&hooks);
	(void)state;

	tconf_check(c, "api", NULL, NULL);
	tconf_rule(c, "down", "api", "consecutive_failures >= 2", NULL, 5 * MIN, 0);
	install(e, c, T0);
	result(e, c, "api", false, 5, T0);
	result(e, c, "api", false, 5, T0 + 10 * S);
	assert_int_equal(state_of(e, "down", "api"), ALERT_PENDING);
	ticks(e, T0 + 11 * S, T0 + 60 * S);
	result(e, c, "api", true, 5, T0 + 61 * S);
	assert_int_equal(state_of(e, "down", "api"), ALERT_OK);
	assert_int_equal(n_recs, 2);
	assert_int_equal(last_rec()->from, ALERT_PENDING);
	assert_int_equal(last_rec()->to, ALERT_OK);
	assert_false(last_rec()->has_event);
	/* Long after: the old pending start does not count. */
	ticks(e, T0 + 62 * S, T0 + 10 * MIN);
	result(e, c, "api", false, 5, T0 + 10 * MIN);
	result(e, c, "api", false, 5, T0 + 10 * MIN + 10 * S);
	assert_int_equal(state_of(e, "down", "api"), ALERT_PENDING);
	assert_int_equal(count_all_events(0), 0);
	engine_free(e);
	tconf_free(c);
}

static void test_repeat(void **state)
{
	struct conf *c = tconf_new();
	struct engine *e = engine_new(&hooks);
	char id[UTIL_ID_LEN];
	(void)state;

	tconf_check(c, "api", NULL, NULL);
	tconf_rule(c, "down", "api", "consecutive_failures >= 1", NULL, 0, 10 * MIN);
	install(e, c, T0);
	result(e, c, "api", false, 5, T0);
	assert_int_equal(count_events(0, "down", "api", ALERT_EVENT_FIRING), 1);
	util_strlcpy(id, last_rec()->alert_id, sizeof(id));

	/* 35 minutes of ticks every second and results every 10 s: sent at 0,
	 * 10, 20 and 30 minutes, never more. */
	for (int64_t t = T0 + S; t <= T0 + 35 * MIN; t += S) {
		engine_tick(e, t);
		if ((t - T0) % (10 * S) == 0)
			result(e, c, "api", false, 5, t);
	}
	assert_int_equal(count_events(0, "down", "api", ALERT_EVENT_FIRING), 4);
	for (size_t i = 0; i < n_recs; i++) {
		assert_string_equal(recs[i].ev.alert_id, id);
		assert_int_equal(recs[i].ev.started_us, T0 * 1000);
		assert_int_equal(recs[i].last_sent_ms, T0 + (int64_t)i * 10 * MIN);
		if (i > 0) {
			assert_int_equal(recs[i].from, ALERT_FIRING);
			assert_int_equal(recs[i].to, ALERT_FIRING);
		}
	}
	engine_free(e);
	tconf_free(c);
}

static void test_maintenance_one_off(void **state)
{
	struct conf *c = tconf_new();
	struct engine *e = engine_new(&hooks);
	struct maintenance_window *m;
	(void)state;

	tconf_check(c, "payments-api", NULL, NULL);
	tconf_check(c, "payments-db", NULL, NULL);
	tconf_check(c, "web", NULL, NULL);
	tconf_rule(c, "down", "*", "consecutive_failures >= 2", NULL, 0, 5 * MIN);
	m = tconf_maint(c, "payments-*");
	m->start_us = (T0 + 1 * HOUR) * 1000;
	m->duration_ms = 2 * HOUR;
	install(e, c, T0);

	/* payments-db fires before the window. */
	result(e, c, "payments-db", false, 5, T0 + 50 * MIN);
	result(e, c, "payments-db", false, 5, T0 + 51 * MIN);
	assert_int_equal(state_of(e, "down", "payments-db"), ALERT_FIRING);
	assert_false(engine_in_maintenance(e, "payments-api", T0 + 1 * HOUR - 1));
	assert_true(engine_in_maintenance(e, "payments-api", T0 + 1 * HOUR));
	assert_true(engine_in_maintenance(e, "payments-api", T0 + 3 * HOUR - 1));
	assert_false(engine_in_maintenance(e, "payments-api", T0 + 3 * HOUR));
	assert_false(engine_in_maintenance(e, "web", T0 + 2 * HOUR));
	assert_false(engine_in_maintenance(e, "nope", T0 + 2 * HOUR));

	/* Inside: payments-api fails but never fires; web still does; the
	 * firing payments-db sends no repeat and resolves normally. */
	size_t mark = n_recs;
	for (int64_t t = T0 + 1 * HOUR; t < T0 + 2 * HOUR; t += 10 * S) {
		result(e, c, "payments-api", false, 5, t);
		if (t < T0 + 90 * MIN)
			result(e, c, "payments-db", false, 5, t);
		engine_tick(e, t);
	}
	result(e, c, "web", false, 5, T0 + 2 * HOUR);
	result(e, c, "web", false, 5, T0 + 2 * HOUR + 1);
	assert_int_equal(state_of(e, "down", "payments-api"), ALERT_OK);
	assert_int_equal(count_events(mark, "down", "payments-api", ALERT_EVENT_FIRING), 0);
	assert_int_equal(count_events(mark, "down", "payments-db", ALERT_EVENT_FIRING), 0);
	assert_int_equal(count_events(mark, "down", "web", ALERT_EVENT_FIRING), 1);
	result(e, c, "payments-db", true, 5, T0 + 2 * HOUR + 2);
	assert_int_equal(count_events(mark, "down", "payments-db", ALERT_EVENT_RESOLVED), 1);
	assert_int_equal(state_of(e, "down", "payments-db"), ALERT_OK);

	/* Still down when the window ends: fires on the first tick after it. */
	mark = n_recs;
	ticks(e, T0 + 2 * HOUR + 3 * S, T0 + 3 * HOUR - 1 * S);
	assert_int_equal(count_events(mark, "down", "payments-api", ALERT_EVENT_FIRING), 0);
	engine_tick(e, T0 + 3 * HOUR);
	assert_int_equal(count_events(mark, "down", "payments-api", ALERT_EVENT_FIRING), 1);
	assert_int_equal(last_rec()->fired_ms, T0 + 3 * HOUR);

	engine_free(e);
	tconf_free(c);
}

static void test_maintenance_holds_pending(void **state)
{
	struct conf *c = tconf_new();
	struct engine *e = engine_new(&hooks);
	struct maintenance_window *m;
	(void)state;

	tconf_check(c, "api", NULL, NULL);
	tconf_rule(c, "down", "api", "consecutive_failures >= 1", NULL, 5 * MIN, 0);
	m = tconf_maint(c, "api");
	m->start_us = (T0 + 2 * MIN) * 1000;
	m->duration_ms = 30 * MIN;
	install(e, c, T0);
	result(e, c, "api", false, 5, T0);
	assert_int_equal(state_of(e, "down", "api"), ALERT_PENDING);
	/* The window starts: pending falls back to ok, nothing fires inside. */
	ticks(e, T0 + 1 * S, T0 + 32 * MIN - 1 * S);
	assert_int_equal(state_of(e, "down", "api"), ALERT_OK);
	assert_int_equal(count_all_events(0), 0);
	/* After it: pending again, and fires `for` later. */
	engine_tick(e, T0 + 32 * MIN);
	assert_int_equal(state_of(e, "down", "api"), ALERT_PENDING);
	ticks(e, T0 + 32 * MIN + 1 * S, T0 + 37 * MIN - 1 * S);
	assert_int_equal(count_all_events(0), 0);
	engine_tick(e, T0 + 37 * MIN);
	assert_int_equal(state_of(e, "down", "api"), ALERT_FIRING);
	assert_int_equal(count_all_events(0), 1);
	engine_free(e);
	tconf_free(c);
}

/* 2026-01-03 (Saturday) 23:00 UTC. */
#define SAT_23_UTC 1767481200000LL

static void test_maintenance_weekly_midnight(void **state)
{
	struct conf *c = tconf_new();
	struct engine *e = engine_new(&hooks);
	struct maintenance_window *m;
	int64_t t;
	(void)state;

	tconf_check(c, "batch", "Batch", NULL);
	tconf_rule(c, "down", "group:Batch", "consecutive_failures >= 1", NULL, 0, 0);
	m = tconf_maint(c, "group:Batch");
	m->weekly_day = 6;                  /* Saturday 23:00 for 2h, into Sunday */
	m->weekly_minute = 23 * 60;
	m->duration_ms = 2 * HOUR;
	install(e, c, SAT_23_UTC - HOUR);

	assert_false(engine_in_maintenance(e, "batch", SAT_23_UTC - 1));
	assert_true(engine_in_maintenance(e, "batch", SAT_23_UTC));
	assert_true(engine_in_maintenance(e, "batch", SAT_23_UTC + 90 * MIN));    /* Sun 00:30 */
	assert_false(engine_in_maintenance(e, "batch", SAT_23_UTC + 2 * HOUR));
	/* And the next week again. */
	assert_true(engine_in_maintenance(e, "batch", SAT_23_UTC + 7 * 24 * HOUR + 30 * MIN));

	for (t = SAT_23_UTC + 10 * MIN; t < SAT_23_UTC + 2 * HOUR; t += MIN) {
		result(e, c, "batch", false, 5, t);
		engine_tick(e, t);
	}
	assert_int_equal(count_all_events(0), 0);
	engine_tick(e, SAT_23_UTC + 2 * HOUR);
	assert_int_equal(count_events(0, "down", "batch", ALERT_EVENT_FIRING), 1);
	engine_free(e);
	tconf_free(c);
}

/* 2026-01-04 (Sunday) 06:00 UTC = 01:00 in New York (EST, UTC-5). */
#define SUN_01_NY 1767506400000LL

static void test_maintenance_weekly_timezone(void **state)
{
	struct conf *c = tconf_new();
	struct engine *e = engine_new(&hooks);
	struct maintenance_window *m;
	(void)state;

	tconf_check(c, "batch", NULL, NULL);
	tconf_rule(c, "down", "batch", "consecutive_failures >= 1", NULL, 0, 0);
	m = tconf_maint(c, "batch");
	m->weekly_day = 0;                  /* "Sun 01:00" for 90m, New York time */
	m->weekly_minute = 60;
	m->timezone = xstrdup("America/New_York");
	m->duration_ms = 90 * MIN;
	install(e, c, SUN_01_NY - HOUR);

	/* 01:00 UTC (the UTC reading) is not the window. */
	assert_false(engine_in_maintenance(e, "batch", SUN_01_NY - 5 * HOUR));
	assert_false(engine_in_maintenance(e, "batch", SUN_01_NY - 1));
	result(e, c, "batch", false, 5, SUN_01_NY + 10 * MIN);
	assert_int_equal(count_all_events(0), 0);
	assert_true(engine_in_maintenance(e, "batch", SUN_01_NY + 89 * MIN));
	engine_tick(e, SUN_01_NY + 89 * MIN);
	assert_int_equal(count_all_events(0), 0);
	engine_tick(e, SUN_01_NY + 90 * MIN);
	assert_int_equal(count_events(0, "down", "batch", ALERT_EVENT_FIRING), 1);
	/* Summer (EDT, UTC-4): 2026-07-05 05:00 UTC. */
	assert_false(engine_in_maintenance(e, "batch", 1783227600000LL - 1));
	assert_true(engine_in_maintenance(e, "batch", 1783227600000LL));
	engine_free(e);
	tconf_free(c);
}

static void test_dependency_blocks(void **state)
{
	struct conf *c = tconf_new();
	struct engine *e = engine_new(&hooks);
	int64_t t = T0;
	size_t mark;
	(void)state;

	tconf_check(c, "gateway", NULL, NULL);
	tconf_check(c, "app", NULL, "gateway");
	tconf_check(c, "app2", NULL, "gateway");
	tconf_rule(c, "down", "*", "consecutive_failures >= 3", NULL, 0, 0);
	tconf_rule(c, "errors", "app*", "error_rate(5m) > 50%", NULL, 0, 0);
	install(e, c, T0);

	/* app2 is already firing when the gateway goes down. */
	for (int i = 0; i < 3; i++)
		result(e, c, "app2", false, 5, t += S);
	assert_int_equal(state_of(e, "down", "app2"), ALERT_FIRING);
	assert_false(engine_check_blocked(e, "app"));

	mark = n_recs;
	for (int i = 0; i < 5; i++) {
		result(e, c, "gateway", false, 5, t += S);
		assert_true(engine_check_blocked(e, "app"));
		result(e, c, "app", false, 5, t += S);
		engine_tick(e, t);
	}
	assert_false(engine_check_blocked(e, "gateway"));
	assert_true(engine_check_blocked(e, "app"));
	assert_false(engine_check_blocked(e, "nope"));
	/* One page: the gateway's. */
	assert_int_equal(count_all_events(mark), 1);
	assert_int_equal(count_events(mark, "down", "gateway", ALERT_EVENT_FIRING), 1);
	assert_int_equal(state_of(e, "down", "app"), ALERT_OK);
	assert_int_equal(state_of(e, "errors", "app"), ALERT_OK);
	/* A firing alert stays firing while blocked, and may resolve. */
	assert_int_equal(state_of(e, "down", "app2"), ALERT_FIRING);
	result(e, c, "app2", true, 5, t += S);
	assert_int_equal(count_events(mark, "down", "app2", ALERT_EVENT_RESOLVED), 1);

	/* The gateway is back; the app's next result is a success: no page,
	 * and its failures while blocked did not count in its window. */
	mark = n_recs;
	result(e, c, "gateway", true, 5, t += S);
	assert_false(engine_check_blocked(e, "app"));
	ticks(e, t, t + 30 * S);
	t += 30 * S;
	result(e, c, "app", true, 5, t += S);
	ticks(e, t, t + 30 * S);
	t += 30 * S;
	assert_int_equal(count_events(mark, "down", "gateway", ALERT_EVENT_RESOLVED), 1);
	assert_int_equal(count_events(mark, "down", "app", ALERT_EVENT_FIRING), 0);
	assert_int_equal(count_events(mark, "errors", "app", ALERT_EVENT_FIRING), 0);

	/* Unblocked, the app's own failures page again. */
	for (int i = 0; i < 3; i++)
		result(e, c, "app", false, 5, t += S);
	assert_int_equal(count_events(mark, "down", "app", ALERT_EVENT_FIRING), 1);
	engine_free(e);
	tconf_free(c);
}

static void test_restore_does_not_refire(void **state)
{
	struct conf *c = tconf_new();
	struct engine *e = engine_new(&hooks);
	(void)state;

	tconf_check(c, "api", NULL, NULL);
	tconf_check(c, "db", NULL, NULL);
	tconf_rule(c, "down", "*", "consecutive_failures >= 3", NULL, 0, 4 * HOUR);
	install(e, c, T0);
	engine_restore(e, "down", "api", ALERT_FIRING, T0 - HOUR, T0 - HOUR, T0 - HOUR,
	               "0123456789abcdef", "3", T0);
	engine_restore(e, "down", "db", ALERT_FIRING, T0 - HOUR, T0 - HOUR, T0 - HOUR,
	               "fedcba9876543210", "5", T0);
	/* Saved for a rule that is gone: resolved at the receiver, row dropped. */
	engine_restore(e, "old-rule", "api", ALERT_FIRING, T0 - HOUR, T0 - HOUR, T0 - HOUR,
	               "00000000000000aa", "1", T0);
	assert_int_equal(n_recs, 1);
	assert_true(last_rec()->gone);
	assert_false(last_rec()->has_rule_def);
	assert_int_equal(last_rec()->from, ALERT_FIRING);
	assert_int_equal(last_rec()->ev.kind, ALERT_EVENT_RESOLVED);
	assert_string_equal(last_rec()->ev.alert_id, "00000000000000aa");
	assert_int_equal(last_rec()->ev.ts_us, T0 * 1000);
	engine_restore(e, "old-rule", "db", ALERT_OK, T0 - HOUR, 0, 0, NULL, NULL, T0);
	assert_int_equal(n_recs, 2);
	assert_true(last_rec()->gone);
	assert_false(last_rec()->has_event);

	/* Before any result, ticks change nothing. */
	ticks(e, T0, T0 + 30 * S);
	assert_int_equal(n_recs, 2);
	/* api still down after the restart: no second page. */
	for (int i = 1; i <= 10; i++)
		result(e, c, "api", false, 5, T0 + 30 * S + i * S);
	assert_int_equal(n_recs, 2);
	assert_int_equal(state_of(e, "down", "api"), ALERT_FIRING);
	/* db recovered while the agent was down: resolved with its id. */
	result(e, c, "db", true, 5, T0 + 45 * S);
	assert_int_equal(n_recs, 3);
	assert_int_equal(last_rec()->ev.kind, ALERT_EVENT_RESOLVED);
	assert_string_equal(last_rec()->ev.alert_id, "fedcba9876543210");
	assert_int_equal(last_rec()->ev.started_us, (T0 - HOUR) * 1000);
	/* Repeat continues from the saved last_sent: 4h after it. */
	ticks(e, T0 + 3 * HOUR - 2 * S, T0 + 3 * HOUR - 1 * S);
	assert_int_equal(n_recs, 3);
	engine_tick(e, T0 + 3 * HOUR);
	assert_int_equal(n_recs, 4);
	assert_int_equal(last_rec()->ev.kind, ALERT_EVENT_FIRING);
	assert_string_equal(last_rec()->ev.alert_id, "0123456789abcdef");
	engine_free(e);
	tconf_free(c);
}

static void test_restore_pending(void **state)
{
	struct conf *c = tconf_new();
	struct engine *e = engine_new(&hooks);
	(void)state;

	tconf_check(c, "api", NULL, NULL);
	tconf_rule(c, "flaky", "api", "consecutive_failures >= 2", NULL, 10 * MIN, 0);
	install(e, c, T0);
	engine_restore(e, "flaky", "api", ALERT_PENDING, T0 - 5 * MIN, 0, 0, NULL, "2", T0);
	/* No run yet: the counts are not data, pending stays pending. */
	ticks(e, T0, T0 + 60 * S);
	assert_int_equal(state_of(e, "flaky", "api"), ALERT_PENDING);
	assert_int_equal(n_recs, 0);
	result(e, c, "api", false, 5, T0 + 61 * S);
	result(e, c, "api", false, 5, T0 + 71 * S);
	ticks(e, T0 + 72 * S, T0 + 5 * MIN - S);
	assert_int_equal(n_recs, 0);
	/* `for` counts from the saved pending start. */
	engine_tick(e, T0 + 5 * MIN);
	assert_int_equal(count_events(0, "flaky", "api", ALERT_EVENT_FIRING), 1);
	engine_free(e);
	tconf_free(c);
}

static void test_error_rate_window(void **state)
{
	struct conf *c = tconf_new();
	struct engine *e = engine_new(&hooks);
	(void)state;

	tconf_check(c, "api", NULL, NULL);
	tconf_rule(c, "errors", "api", "error_rate(1m) > 50%", NULL, 0, 0);
	install(e, c, T0);

	/* No data: nothing happens. */
	ticks(e, T0, T0 + 10 * S);
	assert_int_equal(n_recs, 0);
	result(e, c, "api", true, 5, T0 + 10 * S);
	assert_int_equal(state_of(e, "errors", "api"), ALERT_OK);
	result(e, c, "api", false, 5, T0 + 20 * S);       /* 50%: not yet */
	assert_int_equal(n_recs, 0);
	result(e, c, "api", false, 5, T0 + 30 * S);       /* 66.7% */
	assert_int_equal(n_recs, 1);
	assert_int_equal(last_rec()->ev.kind, ALERT_EVENT_FIRING);
	assert_string_equal(last_rec()->ev.value, "66.7%");
	result(e, c, "api", true, 5, T0 + 40 * S);        /* 2 of 4: recovers on a result */
	assert_int_equal(n_recs, 2);
	assert_int_equal(last_rec()->ev.kind, ALERT_EVENT_RESOLVED);
	result(e, c, "api", false, 5, T0 + 50 * S);       /* 3 of 5 */
	assert_int_equal(state_of(e, "errors", "api"), ALERT_FIRING);
	/* No more runs: at 71 s the run at 10 s (ok) has aged out: 3 of 4 failed;
	 * at 81 s 2 of 3; at 91 s 1 of 2 (the run at 40 s ok) -> 50%: recovers
	 * on a tick. */
	ticks(e, T0 + 51 * S, T0 + 90 * S);
	assert_int_equal(state_of(e, "errors", "api"), ALERT_FIRING);
	engine_tick(e, T0 + 91 * S);
	assert_int_equal(state_of(e, "errors", "api"), ALERT_OK);
	assert_int_equal(last_rec()->ev.kind, ALERT_EVENT_RESOLVED);
	assert_int_equal(n_recs, 4);
	engine_free(e);
	tconf_free(c);
}

static void test_p95_window(void **state)
{
	struct conf *c = tconf_new();
	struct engine *e = engine_new(&hooks);
	int64_t t;
	(void)state;

	tconf_check(c, "api", NULL, NULL)->interval_ms = 1 * S;
	tconf_rule(c, "slow", "api", "p95_latency(1m) > 800ms", NULL, 0, 0);
	install(e, c, T0);
	/* 19 fast runs and one slow: p95 of 20 is the 19th smallest, fast. */
	for (t = T0 + S; t <= T0 + 19 * S; t += S)
		result(e, c, "api", true, 100, t);
	result(e, c, "api", true, 2000, t);
	assert_int_equal(n_recs, 0);
	/* A second slow one: 21 runs, rank 20 is slow. */
	result(e, c, "api", true, 1500, t += S);
	assert_int_equal(n_recs, 1);
	assert_int_equal(last_rec()->ev.kind, ALERT_EVENT_FIRING);
	assert_string_equal(last_rec()->ev.value, "1.5 s");
	/* The slow runs age out on ticks (timed-out runs count as slow too). */
	ticks(e, t, t + 59 * S);
	assert_int_equal(state_of(e, "slow", "api"), ALERT_FIRING);
	engine_tick(e, t - S + 61 * S);     /* the 2000 ms run at t - S left the window */
	assert_int_equal(state_of(e, "slow", "api"), ALERT_FIRING);
	engine_tick(e, t + 61 * S);         /* both gone: no data, UNKNOWN keeps firing */
	assert_int_equal(state_of(e, "slow", "api"), ALERT_FIRING);
	result(e, c, "api", true, 90, t + 62 * S);
	assert_int_equal(state_of(e, "slow", "api"), ALERT_OK);
	assert_int_equal(last_rec()->ev.kind, ALERT_EVENT_RESOLVED);
	assert_string_equal(last_rec()->ev.value, "1.5 s");    /* the value that fired */
	engine_free(e);
	tconf_free(c);
}

static void test_unknown_keeps_state(void **state)
{
	struct conf *c = tconf_new();
	struct engine *e = engine_new(&hooks);
	struct probe_result r;
	(void)state;

	tconf_check(c, "nightly", NULL, NULL);
	tconf_check(c, "site", NULL, NULL);
	tconf_rule(c, "late", "nightly", "heartbeat_age > 1h", NULL, 0, 0);
	tconf_rule(c, "cert", "site", "cert_expiry_days < 14", NULL, 0, 0);
	install(e, c, T0);

	/* No heartbeat yet, no certificate seen: unknown, nothing moves. */
	ticks(e, T0, T0 + 5 * S);
	result(e, c, "site", false, 5, T0 + 5 * S);
	engine_tick(e, T0 + 3 * HOUR);
	assert_int_equal(n_recs, 0);
	assert_int_equal(state_of(e, "late", "nightly"), ALERT_OK);

	engine_set_last_ping(e, "nightly", T0 + 3 * HOUR);
	engine_set_last_ping(e, "nightly", T0 + 1 * HOUR);   /* older: ignored */
	engine_tick(e, T0 + 4 * HOUR);
	assert_int_equal(n_recs, 0);
	engine_tick(e, T0 + 4 * HOUR + 1);
	assert_int_equal(count_events(0, "late", "nightly", ALERT_EVENT_FIRING), 1);
	assert_string_equal(last_rec()->ev.value, "1h");
	engine_set_last_ping(e, "nightly", T0 + 4 * HOUR + 10 * S);
	engine_tick(e, T0 + 4 * HOUR + 11 * S);
	assert_int_equal(state_of(e, "late", "nightly"), ALERT_OK);

	/* The certificate: fires when seen expiring, and a run without one
	 * (a failed connection) keeps the last one seen. */
	memset(&r, 0, sizeof(r));
	r.ok = true;
	r.duration_us = 1000;
	r.cert_expiry = (T0 + 10 * 24 * HOUR) / 1000;
	engine_on_result(e, conf_find_check(c, "site"), &r, T0 + 5 * HOUR);
	assert_int_equal(count_events(0, "cert", "site", ALERT_EVENT_FIRING), 1);
	result(e, c, "site", false, 5, T0 + 6 * HOUR);
	assert_int_equal(state_of(e, "cert", "site"), ALERT_FIRING);
	r.cert_expiry = (T0 + 90 * 24 * HOUR) / 1000;
	engine_on_result(e, conf_find_check(c, "site"), &r, T0 + 7 * HOUR);
	assert_int_equal(state_of(e, "cert", "site"), ALERT_OK);
	engine_free(e);
	tconf_free(c);
}

static void test_unknown_window_keeps_firing(void **state)
{
	struct conf *c = tconf_new();
	struct engine *e = engine_new(&hooks);
	(void)state;

	tconf_check(c, "api", NULL, NULL);
	tconf_rule(c, "errors", "api", "error_rate(1m) > 50%", NULL, 0, 0);
	install(e, c, T0);
	result(e, c, "api", false, 5, T0);
	assert_int_equal(state_of(e, "errors", "api"), ALERT_FIRING);
	/* The run ages out and none follows: no data, still firing, no event. */
	ticks(e, T0 + S, T0 + 10 * MIN);
	assert_int_equal(state_of(e, "errors", "api"), ALERT_FIRING);
	assert_int_equal(n_recs, 1);
	engine_free(e);
	tconf_free(c);
}

static void test_reload_keeps_state(void **state)
{
	struct conf *c1 = tconf_new(), *c2 = tconf_new();
	struct engine *e = engine_new(&hooks);
	struct find_ctx f = { .rule = "down", .check = "api" };
	char id[UTIL_ID_LEN];
	size_t mark;
	(void)state;

	tconf_check(c1, "api", NULL, NULL);
	tconf_check(c1, "db", NULL, NULL);
	/* Not in name order: the engine sorts its instances itself. */
	tconf_rule(c1, "errors", "*", "error_rate(5m) > 50%", NULL, 0, 0);
	tconf_rule(c1, "down", "*", "consecutive_failures >= 3", NULL, 0, 0);
	install(e, c1, T0);
	assert_int_equal(engine_instance_count(e), 4);
	for (int i = 1; i <= 3; i++) {
		result(e, c1, "api", false, 5, T0 + i * S);
		result(e, c1, "db", false, 5, T0 + i * S);
	}
	assert_int_equal(state_of(e, "down", "api"), ALERT_FIRING);
	assert_int_equal(state_of(e, "errors", "db"), ALERT_FIRING);
	engine_foreach_instance(e, find_fn, &f);
	util_strlcpy(id, f.alert_id, sizeof(id));

	/* New config: same "down" rule (now with recover), "errors" now only
	 * on api, "db" renamed away, a new check "web". */
	tconf_check(c2, "api", NULL, NULL);
	tconf_check(c2, "web", NULL, NULL);
	tconf_rule(c2, "down", "*", "consecutive_failures >= 3", "consecutive_successes >= 2", 0, 0);
	tconf_rule(c2, "errors", "api", "error_rate(5m) > 50%", NULL, 0, 0);
	mark = n_recs;
	install(e, c2, T0 + 10 * S);
	tconf_free(c1);
	assert_int_equal(engine_instance_count(e), 3);
	/* The gone ones: (down, db) and (errors, db) were firing: resolved. */
	assert_int_equal(count_events(mark, "down", "db", ALERT_EVENT_RESOLVED), 1);
	assert_int_equal(count_events(mark, "errors", "db", ALERT_EVENT_RESOLVED), 1);
	assert_int_equal(n_recs - mark, 2);
	for (size_t i = mark; i < n_recs; i++) {
		assert_true(recs[i].gone);
		assert_true(recs[i].has_rule_def);
		assert_int_equal(recs[i].ev.ts_us, (T0 + 10 * S) * 1000);
	}
	assert_int_equal(state_of(e, "down", "api"), ALERT_FIRING);
	assert_int_equal(state_of(e, "errors", "api"), ALERT_FIRING);
	assert_int_equal(state_of(e, "down", "web"), ALERT_OK);

	/* Counts and window survived: one more failure is still >= 3, one
	 * success does not yet recover (the new recover needs 2). */
	mark = n_recs;
	result(e, c2, "api", false, 5, T0 + 11 * S);
	result(e, c2, "api", true, 5, T0 + 12 * S);
	assert_int_equal(n_recs, mark);
	assert_int_equal(state_of(e, "errors", "api"), ALERT_FIRING);  /* 4 of 5 failed */
	result(e, c2, "api", true, 5, T0 + 13 * S);
	assert_int_equal(count_events(mark, "down", "api", ALERT_EVENT_RESOLVED), 1);
	for (size_t i = mark; i < n_recs; i++) {
		if (strcmp(recs[i].rule, "down") == 0)
			assert_string_equal(recs[i].ev.alert_id, id);
	}
	engine_free(e);
	tconf_free(c2);
}

static void test_reload_resizes_window(void **state)
{
	struct conf *c1 = tconf_new(), *c2 = tconf_new();
	struct engine *e = engine_new(&hooks);
	(void)state;

	tconf_check(c1, "api", NULL, NULL);
	tconf_rule(c1, "errors", "api", "error_rate(1m) > 50%", NULL, 0, 0);
	install(e, c1, T0);
	for (int i = 0; i < 6; i++)
		result(e, c1, "api", i < 2, 5, T0 + i * 10 * S);    /* 2 ok then 4 failed */
	assert_int_equal(state_of(e, "errors", "api"), ALERT_FIRING);

	/* A longer window on reload keeps the history it has. */
	tconf_check(c2, "api", NULL, NULL);
	tconf_rule(c2, "errors", "api", "error_rate(10m) > 80%", NULL, 0, 0);
	install(e, c2, T0 + 55 * S);
	tconf_free(c1);
	result(e, c2, "api", false, 5, T0 + 60 * S);     /* 5 of 7: 71% -> resolves */
	assert_int_equal(state_of(e, "errors", "api"), ALERT_OK);
	assert_string_equal(last_rec()->ev.value, "60%");      /* the value that fired */
	engine_free(e);
	tconf_free(c2);
}

static void test_no_conf_and_unknown_checks(void **state)
{
	struct conf *c = tconf_new();
	struct engine *e = engine_new(&hooks);
	struct check other;
	struct probe_result r;
	(void)state;

	/* Before any conf: everything is a no-op. */
	engine_tick(e, T0);
	assert_false(engine_check_blocked(e, "x"));
	assert_false(engine_in_maintenance(e, "x", T0));
	engine_set_last_ping(e, "x", T0);
	engine_prime(e, "x", T0, 5, false);
	engine_restore(e, "r", "x", ALERT_FIRING, T0, T0, T0, "id", "v", T0);
	assert_int_equal(engine_instance_count(e), 0);

	tconf_check(c, "api", NULL, NULL);
	tconf_rule(c, "down", "api", "consecutive_failures >= 1", NULL, 0, 0);
	install(e, c, T0);
	check_init(&other);
	other.name = (char *)"not-configured";
	memset(&r, 0, sizeof(r));
	engine_on_result(e, &other, &r, T0);
	engine_on_result(e, NULL, &r, T0);
	engine_free(e);
	engine_free(NULL);
	tconf_free(c);
}

static void test_prime(void **state)
{
	struct conf *c = tconf_new();
	struct engine *e = engine_new(&hooks);
	(void)state;

	tconf_check(c, "api", NULL, NULL);
	tconf_rule(c, "down", "api", "consecutive_failures >= 3", NULL, 0, 0);
	install(e, c, T0);
	engine_prime(e, "api", T0 - 20 * S, 5, false);
	engine_prime(e, "api", T0 - 10 * S, 5, false);
	assert_int_equal(n_recs, 0);
	result(e, c, "api", false, 5, T0);
	assert_int_equal(count_events(0, "down", "api", ALERT_EVENT_FIRING), 1);
	engine_free(e);
	tconf_free(c);
}

/* The same machine on a config from the real loader. */
static void test_loaded_conf(void **state)
{
	static const char text[] =
		"agent = { listen = \"127.0.0.1:9470\"; database = \"/tmp/pharos-test-engine.db\";\n"
		"  public_url = \"http://status.test\"; location = \"lab\"; };\n"
		"checks = (\n"
		"  { name = \"gw\"; type = \"tcp\"; host = \"127.0.0.1\"; port = 1; interval = \"10s\"; },\n"
		"  { name = \"payments-api\"; group = \"Payments\"; type = \"tcp\"; host = \"127.0.0.1\";\n"
		"    port = 2; depends_on = [\"gw\"]; }\n"
		");\n"
		"alerts = (\n"
		"  { name = \"down\"; checks = \"*\"; when = \"consecutive_failures >= 3\";\n"
		"    recover = \"consecutive_successes >= 2\"; severity = \"critical\"; notify = [\"hook\"]; },\n"
		"  { name = \"errors\"; checks = [\"payments-*\"]; when = \"error_rate(10m) > 5%\";\n"
		"    severity = \"warning\"; notify = [\"hook\"]; }\n"
		");\n"
		"notifiers = ( { name = \"hook\"; type = \"webhook\"; url = \"http://127.0.0.1:9/x\"; } );\n"
		"maintenance = ( { checks = \"group:Payments\"; weekly = \"Sun 01:00\";\n"
		"  timezone = \"Europe/Berlin\"; duration = \"90m\"; } );\n";
	struct conf_errors errs = { 0 };
	struct conf *c = conf_load_string(text, "test.conf", &errs);
	struct engine *e = engine_new(&hooks);
	int64_t t = T0;
	(void)state;

	for (size_t i = 0; i < errs.n; i++)
		print_error("%s\n", errs.lines[i]);
	assert_non_null(c);
	conf_errors_free(&errs);
	install(e, c, t);
	assert_int_equal(engine_instance_count(e), 3);
	/* Sunday 2026-01-04 01:00 Berlin is 00:00 UTC. */
	assert_true(engine_in_maintenance(e, "payments-api", 1767484800000LL));
	assert_false(engine_in_maintenance(e, "payments-api", 1767484800000LL - 1));
	assert_false(engine_in_maintenance(e, "gw", 1767484800000LL));
	for (int i = 0; i < 3; i++) {
		result(e, c, "gw", false, 5, t += S);
		result(e, c, "payments-api", false, 5, t += S);
	}
	assert_true(engine_check_blocked(e, "payments-api"));
	assert_int_equal(count_all_events(0), 1);
	assert_string_equal(last_rec()->ev.url, "http://status.test/check/gw");
	assert_string_equal(last_rec()->ev.location, "lab");
	assert_int_equal(state_of(e, "errors", "payments-api"), ALERT_OK);
	engine_free(e);
	conf_unref(c);
}

/* Every event, transition and instance names the run behind its change: the
 * run that made `when` true, the latest run when `for` runs out on a tick,
 * and the run that recovered it. */
static void test_events_carry_run_id(void **state)
{
	struct conf *c = tconf_new();
	struct engine *e = engine_new(&hooks);
	char shown[UTIL_ID_LEN] = "";
	(void)state;

	tconf_check(c, "api", NULL, NULL);
	tconf_check(c, "db", NULL, NULL);
	tconf_rule(c, "down", "api", "consecutive_failures >= 2", NULL, 0, 0);
	tconf_rule(c, "slow", "db", "consecutive_failures >= 1", NULL, 30 * S, 0);
	install(e, c, T0);

	result_run(e, c, "api", false, T0 + 1 * S, "00000000000000a1");
	assert_int_equal(n_recs, 0);
	result_run(e, c, "api", false, T0 + 2 * S, "00000000000000a2");
	assert_int_equal(n_recs, 1);
	assert_int_equal(last_rec()->to, ALERT_FIRING);
	assert_string_equal(last_rec()->run_id, "00000000000000a2");
	assert_string_equal(last_rec()->ev.run_id, "00000000000000a2");
	engine_foreach_instance(e, run_id_fn, shown);
	assert_string_equal(shown, "00000000000000a2");

	/* Pending at one run, firing on a tick after a later run. */
	result_run(e, c, "db", false, T0 + 3 * S, "00000000000000b1");
	assert_int_equal(last_rec()->to, ALERT_PENDING);
	assert_string_equal(last_rec()->run_id, "00000000000000b1");
	assert_false(last_rec()->has_event);
	result_run(e, c, "db", false, T0 + 20 * S, "00000000000000b2");
	ticks(e, T0 + 21 * S, T0 + 40 * S);
	assert_int_equal(last_rec()->to, ALERT_FIRING);
	assert_string_equal(last_rec()->ev.run_id, "00000000000000b2");

	result_run(e, c, "api", true, T0 + 50 * S, "00000000000000a3");
	assert_int_equal(last_rec()->to, ALERT_OK);
	assert_int_equal(last_rec()->ev.kind, ALERT_EVENT_RESOLVED);
	assert_string_equal(last_rec()->ev.run_id, "00000000000000a3");

	/* A run without an id (the tests' result()) leaves the event without one. */
	result(e, c, "api", false, 5, T0 + 60 * S);
	result(e, c, "api", false, 5, T0 + 61 * S);
	assert_int_equal(last_rec()->to, ALERT_FIRING);
	assert_string_equal(last_rec()->run_id, "");
	assert_string_equal(last_rec()->ev.run_id, "(null)");

	engine_free(e);
	tconf_free(c);
}

/* The one event builder: its url, its defaults and run_id's NULL. */
static void test_event_builder(void **state)
{
	struct alert_event ev;
	json_t *j;
	(void)state;

	alert_event_build(&ev, &(struct alert_event_spec){
		.kind = ALERT_EVENT_FIRING, .rule = "down", .check = "api",
		.severity = SEVERITY_ERROR, .public_url = "https://status.example.com//",
		.run_id = "00000000000000c1",
	});
	assert_string_equal(ev.url, "https://status.example.com/check/api");
	assert_string_equal(ev.group, "");
	assert_string_equal(ev.message, "");
	assert_string_equal(ev.location, "");
	assert_string_equal(ev.run_id, "00000000000000c1");
	j = alert_event_to_json(&ev);
	assert_string_equal(json_string_value(json_object_get(j, "run_id")), "00000000000000c1");
	json_decref(j);
	alert_event_clear(&ev);

	alert_event_build(&ev, &(struct alert_event_spec){
		.kind = ALERT_EVENT_TEST, .rule = "notify-test", .check = "pharos-notify-test",
		.public_url = NULL, .run_id = "",
	});
	assert_string_equal(ev.url, "/");
	assert_null(ev.run_id);
	j = alert_event_to_json(&ev);
	assert_null(json_object_get(j, "run_id"));
	json_decref(j);
	alert_event_clear(&ev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_fires_on_third_failure, setup),
		cmocka_unit_test_setup(test_recover_after_two_successes, setup),
		cmocka_unit_test_setup(test_default_recover_is_not_when, setup),
		cmocka_unit_test_setup(test_for_pending_then_fires, setup),
		cmocka_unit_test_setup(test_for_fires_on_result, setup),
		cmocka_unit_test_setup(test_pending_back_to_ok_silently, setup),
		cmocka_unit_test_setup(test_repeat, setup),
		cmocka_unit_test_setup(test_maintenance_one_off, setup),
		cmocka_unit_test_setup(test_maintenance_holds_pending, setup),
		cmocka_unit_test_setup(test_maintenance_weekly_midnight, setup),
		cmocka_unit_test_setup(test_maintenance_weekly_timezone, setup),
		cmocka_unit_test_setup(test_dependency_blocks, setup),
		cmocka_unit_test_setup(test_restore_does_not_refire, setup),
		cmocka_unit_test_setup(test_restore_pending, setup),
		cmocka_unit_test_setup(test_error_rate_window, setup),
		cmocka_unit_test_setup(test_p95_window, setup),
		cmocka_unit_test_setup(test_unknown_keeps_state, setup),
		cmocka_unit_test_setup(test_unknown_window_keeps_firing, setup),
		cmocka_unit_test_setup(test_reload_keeps_state, setup),
		cmocka_unit_test_setup(test_reload_resizes_window, setup),
		cmocka_unit_test_setup(test_no_conf_and_unknown_checks, setup),
		cmocka_unit_test_setup(test_prime, setup),
		cmocka_unit_test_setup(test_loaded_conf, setup),
		cmocka_unit_test_setup(test_events_carry_run_id, setup),
		cmocka_unit_test_setup(test_event_builder, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* engine.c — the alert state machine: per (rule, check) instance state, rule
 * evaluation on results and on ticks, hold-back (dependencies, maintenance),
 * and the notifications each transition causes.
 *
 * One instance per (rule, check):
 *
 *                  when TRUE, for > 0
 *          +------------------------------+
 *          |                              v
 *       +------+   when FALSE, or held  +---------+
 *   +-->|  ok  |<-----------------------| pending |
 *   |   +------+                        +---------+
 *   |      |  when TRUE, for == 0            |  when still TRUE after `for`
 *   |      |  (not held)                     |  (not held)
 *   |      v                                 v
 *   |   +------------------------------------------+   repeat due (not held):
 *   |   |                 firing                   |---+ FIRING again, same
 *   |   +------------------------------------------+<--+ alert_id
 *   |      |  recover TRUE (default: not when) -- also while held
 *   +------+  RESOLVED, same alert_id
 *
 *   ok/pending -> firing: FIRING event, new alert_id, started = now.
 *   "held": a dependency of the check is down, or the check is in maintenance.
 *   EXPR_UNKNOWN (missing data) never moves an instance.
 *   An instance whose rule or check leaves the config is dropped ("gone");
 *   if it was firing, that sends RESOLVED.
 *
 * Every move goes through inst_transition(), which logs old -> new and emits
 * the new persisted state with the event due, if any (STYLE rule 9).
 *
 * Lookups: checks are kept sorted by name and instances by (rule, check)
 * name, both found by binary search; each check lists its instances, so a
 * result evaluates only its own rules. Building them from a configuration is
 * engine_build.c. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alerts/engine_internal.h"
#include "alerts/expr.h"
#include "core/log.h"

struct inst_key {
	const char *rule, *check;
};

/* --- lookups -------------------------------------------------------------- */

void eng_checks_free(struct eng_check *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].message);
		window_free(v[i].win);
		free(v[i].deps);
		free(v[i].maint);
		free(v[i].inst);
	}
	free(v);
}

int eng_check_cmp(const void *a, const void *b)
{
	const struct eng_check *x = a, *y = b;

	return strcmp(x->c->name, y->c->name);
}

static int check_key_cmp(const void *key, const void *elem)
{
	const struct eng_check *y = elem;

	return strcmp(key, y->c->name);
}

struct eng_check *eng_find_check(const struct eng_check *v, size_t n, const char *name)
{
	if (name == NULL || n == 0)
		return NULL;
	return bsearch(name, v, n, sizeof(*v), check_key_cmp);
}

struct eng_check *eng_check_of(const struct engine *e, const struct check *c)
{
	uintptr_t p = (uintptr_t)c, lo = (uintptr_t)e->conf.checks;

	/* Compared as integers: c may point into another (older) conf. */
	if (e->by_conf != NULL && p >= lo && p < lo + e->n_checks * sizeof(*c) &&
	    (p - lo) % sizeof(*c) == 0)
		return &e->checks[e->by_conf[(p - lo) / sizeof(*c)]];
	return eng_find_check(e->checks, e->n_checks, c->name);
}

int eng_inst_cmp(const void *a, const void *b)
{
	const struct eng_inst *x = a, *y = b;
	int r = strcmp(x->rule_name, y->rule_name);

	return r != 0 ? r : strcmp(x->check_name, y->check_name);
}

static int inst_key_cmp(const void *key, const void *elem)
{
	const struct inst_key *k = key;
	const struct eng_inst *y = elem;
	int r = strcmp(k->rule, y->rule_name);

	return r != 0 ? r : strcmp(k->check, y->check_name);
}

struct eng_inst *eng_find_inst(const struct eng_inst *v, size_t n, const char *rule,
                               const char *check)
{
	struct inst_key k = { rule, check };

	if (rule == NULL || check == NULL || n == 0)
		return NULL;
	return bsearch(&k, v, n, sizeof(*v), inst_key_cmp);
}

/* --- hold-back ------------------------------------------------------------ */

static bool check_is_down(const struct eng_check *ec)
{
	return ec->have_result && !ec->last_ok;
}

static bool check_blocked(const struct engine *e, const struct eng_check *ec)
{
	for (size_t i = 0; i < ec->n_deps; i++) {
		if (check_is_down(&e->checks[ec->deps[i]]))
			return true;
	}
	return false;
}

static bool check_in_maint(struct engine *e, const struct eng_check *ec, int64_t now_ms)
{
	for (size_t i = 0; i < ec->n_maint; i++) {
		if (maintenance_is_active(e->maint, ec->maint[i], now_ms))
			return true;
	}
	return false;
}

/* True when the check's instances may not go pending or fire now. Remembers
 * a maintenance hold, so the tick re-evaluates the check when it ends. */
static bool check_held(struct engine *e, struct eng_check *ec, int64_t now_ms)
{
	if (check_in_maint(e, ec, now_ms)) {
		ec->maint_held = true;
		return true;
	}
	return check_blocked(e, ec);
}

/* --- events and transitions ----------------------------------------------- */

/* Builds ev for instance in (rule and check from the conf the instance
 * belongs to, which is the one installed). Caller clears ev. */
static void event_fill(const struct engine *e, struct alert_event *ev, enum alert_event_kind kind,
                       const struct eng_inst *in, const struct check *c, const char *message,
                       int64_t now_ms)
{
	struct alert_event_spec s = {
		.kind = kind,
		.rule = in->rule_name,
		.check = in->check_name,
		.group = c != NULL ? c->group : NULL,
		.severity = in->rule != NULL ? in->rule->severity : SEVERITY_WARNING,
		.alert_id = in->alert_id,
		.ts_us = now_ms * 1000,
		.started_us = (in->fired_ms != 0 ? in->fired_ms : now_ms) * 1000,
		.value = in->fired_value[0] != '\0' ? in->fired_value : in->value,
		.message = message,
		.public_url = e->have_conf ? e->conf.public_url : NULL,
		.expr = in->rule != NULL ? in->rule->when_text : NULL,
		.location = e->have_conf ? e->conf.location : NULL,
		.run_id = in->run_id,
	};

	alert_event_build(ev, &s);
}

/* Emits in's current persisted state, from `from`, with ev (may be NULL). */
static void emit(const struct engine *e, const struct eng_inst *in, enum alert_state from,
                 bool gone, const struct alert_event *ev)
{
	struct engine_transition t = {
		.rule = in->rule_name,
		.check = in->check_name,
		.rule_def = in->rule,
		.from = from,
		.to = in->state,
		.gone = gone,
		.since_ms = in->since_ms,
		.fired_ms = in->fired_ms,
		.last_sent_ms = in->last_sent_ms,
		.alert_id = in->alert_id,
		/* Persisted: a firing one restored after a restart keeps its value. */
		.value = in->state == ALERT_FIRING && in->fired_value[0] != '\0' ? in->fired_value : in->value,
		.run_id = in->run_id,
		.event = ev,
	};

	if (e->hooks.emit != NULL)
		e->hooks.emit(&t, e->hooks.ctx);
}

/* "45s", "6m 12s", "2h 5m", "3d 4h": how long, for a person. */
static void format_span(int64_t ms, char *buf, size_t len)
{
	int64_t s = ms > 0 ? (ms + 500) / 1000 : 0;

	if (s < 60)
		snprintf(buf, len, "%llds", (long long)s);
	else if (s < 3600)
		snprintf(buf, len, "%lldm %llds", (long long)(s / 60), (long long)(s % 60));
	else if (s < 86400)
		snprintf(buf, len, "%lldh %lldm", (long long)(s / 3600), (long long)(s % 3600 / 60));
	else
		snprintf(buf, len, "%lldd %lldh", (long long)(s / 86400), (long long)(s % 86400 / 3600));
}

/* The message of a resolved notification: how long the check was down (from
 * the episode's start), then its last run's message. Caller frees. */
static char *resolved_message(const struct eng_check *ec, int64_t from_ms, int64_t now_ms)
{
	char span[48], at[40];

	format_span(now_ms - from_ms, span, sizeof(span));
	util_format_time(from_ms * 1000, at, sizeof(at));
	return xasprintf("%s was down for %s (since %s); last run: %s", ec->c->name, span, at,
	                 ec->message != NULL && ec->message[0] != '\0' ? ec->message : "ok");
}

/* When the episode that fires now began: the start of the check's failure
 * streak when it is failing, else when the instance went pending (for), else
 * now. An alert's `since` is that; `fired` is when it fired. */
static int64_t episode_start(const struct eng_check *ec, const struct eng_inst *in,
                             enum alert_state from, int64_t now_ms)
{
	if (ec->failing_since_ms > 0 && ec->failing_since_ms <= now_ms)
		return ec->failing_since_ms;
	if (from == ALERT_PENDING && in->since_ms > 0 && in->since_ms <= now_ms)
		return in->since_ms;
	return now_ms;
}

/* The one place an instance changes state (or re-sends while firing: to ==
 * FIRING from FIRING). value is the evaluation that caused it. Logs old ->
 * new, updates the persisted fields, emits the transition and its event. */
static void inst_transition(struct engine *e, struct eng_inst *in, enum alert_state to,
                            const char *value, int64_t now_ms)
{
	struct eng_check *ec = &e->checks[in->check];
	enum alert_state from = in->state;
	int64_t episode_from = in->since_ms;        /* before a resolve moves it */
	struct alert_event ev;
	bool notify = false;
	enum alert_event_kind kind = ALERT_EVENT_FIRING;
	char *msg = NULL;

	/* One value per episode: the measurement that made `when` true at firing
	 * stays through repeats and the resolve (never the recover's value). */
	if (value != NULL && !(from == ALERT_FIRING))
		util_strlcpy(in->value, value, sizeof(in->value));
	/* The latest run of the check caused this move (a timer move too: the
	 * run whose verdict still holds when `for` runs out or `repeat` is due);
	 * "" when the check has not run since start. */
	util_strlcpy(in->run_id, ec->run_id, sizeof(in->run_id));
	switch (to) {
	case ALERT_PENDING:
		in->since_ms = now_ms;
		break;
	case ALERT_FIRING:
		if (from != ALERT_FIRING) {
			util_random_id(in->alert_id);
			in->since_ms = episode_start(ec, in, from, now_ms);
			in->fired_ms = now_ms;
			util_strlcpy(in->fired_value, in->value, sizeof(in->fired_value));
		}
		in->last_sent_ms = now_ms;
		notify = true;
		kind = ALERT_EVENT_FIRING;
		break;
	case ALERT_OK:
		in->since_ms = now_ms;
		if (from == ALERT_FIRING) {
			in->last_sent_ms = now_ms;
			notify = true;
			kind = ALERT_EVENT_RESOLVED;
		}
		break;
	}
	in->state = to;
	in->restored = false;
	if (from != to)
		log_info("alert state changed", "rule", in->rule_name, "check", in->check_name,
		         "from", alert_state_name(from), "to", alert_state_name(to),
		         "alert_id", in->alert_id, "run_id", in->run_id, "value", in->value);
	else
		log_info("alert repeated", "rule", in->rule_name, "check", in->check_name,
		         "state", alert_state_name(to), "alert_id", in->alert_id, "run_id", in->run_id,
		         "value", in->value);
	if (notify) {
		if (kind == ALERT_EVENT_RESOLVED && ec->c != NULL)
			msg = resolved_message(ec, episode_from > 0 ? episode_from : in->fired_ms, now_ms);
		event_fill(e, &ev, kind, in, ec->c, msg != NULL ? msg : ec->message, now_ms);
		free(msg);
		emit(e, in, from, false, &ev);
		alert_event_clear(&ev);
	} else {
		emit(e, in, from, false, NULL);
	}
	if (to != ALERT_FIRING)
		in->fired_value[0] = '\0';     /* the episode is over (its resolved event went out) */
}

/* Reports an instance that is no longer configured (engine_internal.h). */
void eng_inst_gone(struct engine *e, struct eng_inst *in, const struct check *c, int64_t now_ms)
{
	static const char why[] = "alert rule or check removed from the configuration";
	enum alert_state from = in->state;
	struct alert_event ev;

	log_info("alert state changed", "rule", in->rule_name, "check", in->check_name,
	         "from", alert_state_name(from), "to", "gone", "alert_id", in->alert_id,
	         "run_id", in->run_id);
	in->state = ALERT_OK;
	if (from == ALERT_FIRING) {
		in->since_ms = now_ms;
		in->last_sent_ms = now_ms;
		event_fill(e, &ev, ALERT_EVENT_RESOLVED, in, c, why, now_ms);
		emit(e, in, from, true, &ev);
		alert_event_clear(&ev);
	} else {
		emit(e, in, from, true, NULL);
	}
}

/* --- evaluation ----------------------------------------------------------- */

static void input_fill(const struct eng_check *ec, int64_t now_ms, struct expr_input *in)
{
	memset(in, 0, sizeof(*in));
	in->consecutive_failures = ec->failures;
	in->consecutive_successes = ec->successes;
	in->cert_expiry_days = ec->cert_expiry_s != 0 ?
	        ((double)ec->cert_expiry_s * 1000.0 - (double)now_ms) / 86400000.0 : NAN;
	in->heartbeat_age_ms = ec->have_ping ? (double)(now_ms - ec->last_ping_ms) : NAN;
	if (ec->have_ping && in->heartbeat_age_ms < 0)
		in->heartbeat_age_ms = 0;       /* the wall clock stepped back */
	in->window = ec->win;
	in->now_ms = now_ms;
}

static bool elapsed(int64_t since_ms, uint64_t span_ms, int64_t now_ms)
{
	return now_ms >= since_ms && (uint64_t)(now_ms - since_ms) >= span_ms;
}

/* A firing instance: re-send when `repeat` is due and it is not held. */
static void inst_maybe_repeat(struct engine *e, struct eng_inst *in, int64_t now_ms)
{
	struct eng_check *ec = &e->checks[in->check];

	if (in->rule->repeat_ms == 0 || !elapsed(in->last_sent_ms, in->rule->repeat_ms, now_ms))
		return;
	if (check_held(e, ec, now_ms))
		return;
	inst_transition(e, in, ALERT_FIRING, NULL, now_ms);
}

/* True when an instance restored as pending or firing may not leave that
 * state on the counts yet: after a restart the counts start from 0, so a
 * failure streak that began before it reads as 1, 2, ... and "not
 * (consecutive_failures >= 3)" would resolve, then page again at the third
 * failure. Until a run succeeds (the streak is then known) or engine_prime
 * supplied the history, such an instance stays where it was. Fewer
 * successes than there were can only delay a recovery, which is safe. */
static bool counts_partial(const struct eng_inst *in, const struct eng_check *ec)
{
	return in->restored && in->needs_counts && !ec->primed && !ec->seen_ok;
}

/* Evaluates one instance at now_ms and moves it as the state machine says. */
static void inst_eval(struct engine *e, struct eng_inst *in, int64_t now_ms)
{
	struct eng_check *ec = &e->checks[in->check];
	const struct alert_rule *r = in->rule;
	struct expr_input input;
	char value[VALUE_MAX];
	enum expr_truth t;

	/* Counts of a check with no run since start are not data: a restored
	 * firing alert must not resolve on "0 failures" before the first run. */
	if (in->needs_counts && !ec->have_result) {
		if (in->state == ALERT_FIRING)
			inst_maybe_repeat(e, in, now_ms);
		return;
	}
	input_fill(ec, now_ms, &input);
	switch (in->state) {
	case ALERT_OK:
		t = expr_eval(r->when, &input, value, sizeof(value));
		if (t != EXPR_UNKNOWN)
			util_strlcpy(in->value, value, sizeof(in->value));
		if (t != EXPR_TRUE || check_held(e, ec, now_ms))
			return;
		inst_transition(e, in, r->for_ms == 0 ? ALERT_FIRING : ALERT_PENDING, value, now_ms);
		break;
	case ALERT_PENDING:
		t = expr_eval(r->when, &input, value, sizeof(value));
		if (t == EXPR_FALSE && counts_partial(in, ec))
			t = EXPR_UNKNOWN;
		if (t == EXPR_UNKNOWN)
			return;
		if (t == EXPR_FALSE || check_held(e, ec, now_ms))
			inst_transition(e, in, ALERT_OK, value, now_ms);
		else if (elapsed(in->since_ms, r->for_ms, now_ms))
			inst_transition(e, in, ALERT_FIRING, value, now_ms);
		else
			util_strlcpy(in->value, value, sizeof(in->value));
		break;
	case ALERT_FIRING:
		/* The value shown stays the one that fired (see inst_transition). */
		if (r->recover != NULL)
			t = expr_eval(r->recover, &input, value, sizeof(value));
		else
			t = expr_truth_not(expr_eval(r->when, &input, value, sizeof(value)));
		if (t == EXPR_TRUE && counts_partial(in, ec))
			t = EXPR_UNKNOWN;
		if (t == EXPR_TRUE) {
			inst_transition(e, in, ALERT_OK, NULL, now_ms);
			return;
		}
		inst_maybe_repeat(e, in, now_ms);
		break;
	}
}

static void check_eval_all(struct engine *e, struct eng_check *ec, int64_t now_ms)
{
	for (size_t i = 0; i < ec->n_inst; i++)
		inst_eval(e, &e->inst[ec->inst[i]], now_ms);
}

/* --- life cycle ----------------------------------------------------------- */

struct engine *engine_new(const struct engine_hooks *hooks)
{
	struct engine *e = xcalloc(1, sizeof(*e));

	if (hooks != NULL)
		e->hooks = *hooks;
	return e;
}

void engine_free(struct engine *e)
{
	if (e == NULL)
		return;
	eng_checks_free(e->checks, e->n_checks);
	free(e->by_conf);
	free(e->inst);
	maintenance_free(e->maint);
	if (e->have_conf && e->conf.release != NULL)
		e->conf.release(e->conf.owner);
	free(e);
}

/* --- inputs --------------------------------------------------------------- */

/* The installed rule named name, or NULL. Linear: restores are rare. */
static const struct alert_rule *find_rule(const struct engine *e, const char *name)
{
	for (size_t i = 0; e->have_conf && i < e->conf.n_rules; i++) {
		if (e->conf.rules[i].name != NULL && strcmp(e->conf.rules[i].name, name) == 0)
			return &e->conf.rules[i];
	}
	return NULL;
}

void engine_restore(struct engine *e, const char *rule, const char *check, enum alert_state st,
                    int64_t since_ms, int64_t fired_ms, int64_t last_sent_ms,
                    const char *alert_id, const char *value, int64_t now_ms)
{
	struct eng_inst *in = eng_find_inst(e->inst, e->n_inst, rule, check);
	struct eng_inst tmp;

	if (rule == NULL || check == NULL)
		return;
	if (st != ALERT_OK && st != ALERT_PENDING && st != ALERT_FIRING)
		st = ALERT_OK;
	if (in == NULL) {
		/* Saved, but not configured any more: resolve it at the receiver
		 * when it was firing, and let the store forget it. */
		const struct alert_rule *r = find_rule(e, rule);
		const struct eng_check *ec = eng_find_check(e->checks, e->n_checks, check);

		memset(&tmp, 0, sizeof(tmp));
		tmp.rule = r;
		tmp.rule_name = rule;
		tmp.check_name = check;
		tmp.state = st;
		tmp.since_ms = since_ms;
		tmp.fired_ms = fired_ms;
		tmp.last_sent_ms = last_sent_ms;
		util_strlcpy(tmp.alert_id, alert_id != NULL ? alert_id : "", sizeof(tmp.alert_id));
		util_strlcpy(tmp.value, value != NULL ? value : "", sizeof(tmp.value));
		util_strlcpy(tmp.fired_value, tmp.value, sizeof(tmp.fired_value));
		eng_inst_gone(e, &tmp, ec != NULL ? ec->c : NULL, now_ms);
		return;
	}
	in->state = st;
	in->since_ms = since_ms;
	in->fired_ms = fired_ms;
	in->last_sent_ms = last_sent_ms;
	util_strlcpy(in->alert_id, alert_id != NULL ? alert_id : "", sizeof(in->alert_id));
	util_strlcpy(in->value, value != NULL ? value : "", sizeof(in->value));
	util_strlcpy(in->fired_value, st == ALERT_FIRING ? in->value : "", sizeof(in->fired_value));
	if (st == ALERT_FIRING && in->alert_id[0] == '\0')
		util_random_id(in->alert_id);
	in->restored = st != ALERT_OK;
	if (st != ALERT_OK)
		log_info("alert state restored", "rule", rule, "check", check,
		         "state", alert_state_name(st), "alert_id", in->alert_id);
}

/* Counts, last verdict and window for one run. */
static void check_record(struct eng_check *ec, int64_t ts_ms, double duration_ms, bool ok,
                         bool keep_in_window)
{
	if (ok) {
		ec->successes++;
		ec->failures = 0;
		ec->failing_since_ms = 0;
	} else {
		if (ec->failures == 0 || ec->failing_since_ms == 0)
			ec->failing_since_ms = ts_ms;
		ec->failures++;
		ec->successes = 0;
	}
	ec->have_result = true;
	ec->last_ok = ok;
	ec->seen_ok = ec->seen_ok || ok;
	if (keep_in_window && ec->win != NULL)
		window_add(ec->win, ts_ms, duration_ms, ok);
}

void engine_prime(struct engine *e, const char *check, int64_t ts_ms, double duration_ms, bool ok)
{
	struct eng_check *ec = eng_find_check(e->checks, e->n_checks, check);

	if (ec != NULL) {
		check_record(ec, ts_ms, duration_ms, ok, true);
		ec->primed = true;
	}
}

void engine_on_result(struct engine *e, const struct check *c, const struct probe_result *r,
                      int64_t now_ms)
{
	struct eng_check *ec;
	bool blocked;

	if (c == NULL || r == NULL)
		return;
	ec = eng_check_of(e, c);
	if (ec == NULL)
		return;
	/* A failure while a dependency is down is the dependency's outage: kept
	 * out of the window, so the check's error rate does not fire for it
	 * once the dependency is back. */
	blocked = check_blocked(e, ec);
	check_record(ec, now_ms, r->duration_us >= 0 ? (double)r->duration_us / 1000.0 : NAN,
	             r->ok, r->ok || !blocked);
	/* Most runs repeat the last message ("HTTP 200 OK"): keep that copy. */
	if (ec->message == NULL || strncmp(ec->message, r->message, sizeof(r->message)) != 0) {
		free(ec->message);
		ec->message = xstrndup(r->message, sizeof(r->message));
	}
	util_strlcpy(ec->run_id, r->run_id, sizeof(ec->run_id));
	if (r->cert_expiry != 0)
		ec->cert_expiry_s = r->cert_expiry;
	check_eval_all(e, ec, now_ms);
}

void engine_set_last_ping(struct engine *e, const char *check, int64_t ping_ms)
{
	struct eng_check *ec = eng_find_check(e->checks, e->n_checks, check);

	if (ec == NULL)
		return;
	if (!ec->have_ping || ping_ms > ec->last_ping_ms)
		ec->last_ping_ms = ping_ms;
	ec->have_ping = true;
}

void engine_tick(struct engine *e, int64_t now_ms)
{
	for (size_t k = 0; k < e->n_checks; k++) {
		struct eng_check *ec = &e->checks[k];

		if (ec->maint_held && !check_in_maint(e, ec, now_ms)) {
			ec->maint_held = false;
			ec->reeval = true;
		}
	}
	for (size_t i = 0; i < e->n_inst; i++) {
		struct eng_inst *in = &e->inst[i];
		struct eng_check *ec = &e->checks[in->check];

		if (in->timer || ec->reeval || in->state == ALERT_PENDING)
			inst_eval(e, in, now_ms);
		else if (in->state == ALERT_FIRING)
			inst_maybe_repeat(e, in, now_ms);
	}
	for (size_t k = 0; k < e->n_checks; k++)
		e->checks[k].reeval = false;
}

/* --- queries -------------------------------------------------------------- */

bool engine_check_blocked(const struct engine *e, const char *check)
{
	const struct eng_check *ec = eng_find_check(e->checks, e->n_checks, check);

	return ec != NULL && check_blocked(e, ec);
}

bool engine_in_maintenance(struct engine *e, const char *check, int64_t now_ms)
{
	const struct eng_check *ec = eng_find_check(e->checks, e->n_checks, check);

	return ec != NULL && check_in_maint(e, ec, now_ms);
}

void engine_foreach_instance(const struct engine *e,
                             void (*fn)(const struct engine_instance_info *i, void *ctx),
                             void *ctx)
{
	for (size_t i = 0; i < e->n_inst; i++) {
		const struct eng_inst *in = &e->inst[i];
		const struct check *c = e->checks[in->check].c;
		struct engine_instance_info info = {
			.rule = in->rule_name,
			.check = in->check_name,
			.group = c->group != NULL ? c->group : "",
			.state = in->state,
			.severity = in->rule->severity,
			.since_ms = in->since_ms,
			.fired_ms = in->fired_ms,
			.last_sent_ms = in->last_sent_ms,
			.alert_id = in->alert_id,
			.value = in->value,
			.run_id = in->run_id,
		};

		fn(&info, ctx);
	}
}

size_t engine_instance_count(const struct engine *e)
{
	return e->n_inst;
}

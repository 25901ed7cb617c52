/* engine.h — the alert state machine: one instance per (rule, check) that the
 * rule's selectors match, states ok -> pending -> firing -> ok (SPEC §2.2), and
 * the decision of when to notify.
 *
 * Pure logic for the loop thread: no I/O, no SQLite, no clock reads. Every
 * entry point takes the wall clock time (ms since the Unix epoch) to use, so
 * tests inject their own clock. Every change of an instance's persisted state
 * goes out through hooks->emit, together with the notification it causes, if
 * any; the caller writes both in one transaction (the outbox, SPEC §2.3).
 *
 * Use (the agent's alert glue, agent/alerting.c):
 *   e = engine_new(&hooks);
 *   engine_set_conf(e, &view, now);             at start and on every reload
 *   engine_restore(e, ...) per row of the database's alert state, at start
 *   engine_prime(e, ...) per recent result from the database (optional)
 *   engine_on_result(e, check, result, now);    every finished run
 *   engine_set_last_ping(e, check_name, ts);    every heartbeat ping (and at
 *                                               start, the last one saved)
 *   engine_tick(e, now);                        about every second
 *   engine_free(e);
 *
 * Hold-back: while a check's dependency is down (engine_check_blocked) or the
 * check is in a maintenance window (engine_in_maintenance), its instances
 * neither go pending nor fire (a pending one falls back to ok), and a firing
 * one sends no repeats; a firing one still resolves normally. After a
 * maintenance window the instances are evaluated again on the next tick, so an
 * outage that outlasts the window fires then. After a dependency recovers, the
 * check's instances wait for its own next result, and its failed runs while
 * blocked are kept out of its window: a broken gateway pages once, not once
 * per dependent check when it comes back.
 *
 * Missing data (EXPR_UNKNOWN, or a rule on the consecutive counts of a check
 * with no result since start) never changes an instance's state. */
#ifndef PHAROS_ENGINE_H
#define PHAROS_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alerts/alert.h"
#include "probes/check.h"
#include "probes/result.h"

struct engine;

/* What the engine evaluates, as the config loader built it: the engine sits
 * below the loader, so the caller hands it these arrays, not its struct conf.
 * The arrays must stay valid while installed: the engine calls hold(owner)
 * when it installs them and release(owner) when it drops them (at the next
 * engine_set_conf or engine_free). hold and release may be NULL when the
 * caller keeps them alive itself. */
struct engine_conf {
	const struct check *checks; size_t n_checks;
	const struct alert_rule *rules; size_t n_rules;
	const struct maintenance_window *maintenance; size_t n_maintenance;
	const char *public_url;     /* base of the events' status page links; NULL: none */
	const char *location;       /* agent.location; NULL: none */
	void *owner;
	void (*hold)(void *owner);
	void (*release)(void *owner);
};

/* One change of an instance, as emitted. Every pointer is valid only during
 * the emit call; copy what you keep. */
struct engine_transition {
	const char *rule;
	const char *check;
	const struct alert_rule *rule_def;  /* the rule's settings (notify list, ...) from
	                               the conf the instance belonged to, also for a
	                               `gone` one during engine_set_conf; NULL only
	                               for a restored instance whose rule is gone */
	enum alert_state from, to;  /* equal for a repeat (firing -> firing) */
	bool gone;                  /* the (rule, check) is no longer configured:
	                               delete its stored state (to is ALERT_OK) */
	/* the instance's new persisted state */
	int64_t since_ms;           /* when it entered `to` */
	int64_t fired_ms;           /* when the current / last episode started firing; 0: never */
	int64_t last_sent_ms;       /* last firing or resolved notification; 0: never */
	const char *alert_id;       /* current / last episode's id; "" before the first */
	const char *value;          /* last evaluated value ("3", "812 ms"); "" when none */
	const char *run_id;         /* the probe run behind the latest change; "" when
	                               none is known (restored, or no run since start) */
	/* the notification due, or NULL: FIRING on ok/pending -> firing and on a
	 * repeat, RESOLVED on firing -> ok (also when the instance is gone) */
	const struct alert_event *event;
};

struct engine_hooks {
	/* Called synchronously from within the engine call that caused the
	 * change. It may read the engine (engine_foreach_instance, ...), not
	 * change it. */
	void (*emit)(const struct engine_transition *t, void *ctx);
	void *ctx;
};

/* A new engine without configuration (it evaluates nothing until
 * engine_set_conf). hooks is copied; hooks->emit may be NULL. */
struct engine *engine_new(const struct engine_hooks *hooks);

/* Releases everything, including its reference to the conf. Emits nothing. */
void engine_free(struct engine *e);

/* Installs conf (copied; holds its owner, releases the previous one):
 * builds one instance per rule x check its selectors match; an instance whose
 * (rule name, check name) existed before keeps its state, and a check keeps
 * its counts, last result, certificate, last ping and window (its capacity
 * resized for the longest window of the rules that select it now). An
 * instance no longer configured is dropped with a `gone` transition, carrying
 * a RESOLVED event when it was firing. conf must have passed validation. */
void engine_set_conf(struct engine *e, const struct engine_conf *conf, int64_t now_ms);

/* Restores an instance's state saved before a restart: call after the first
 * engine_set_conf and before the first result. A firing instance stays firing
 * without a new notification (repeat continues from last_sent_ms) and resolves
 * at the receiver once its check recovers. A saved instance that is not
 * configured any more is reported `gone` (RESOLVED when it was firing, at
 * now_ms). alert_id and value may be NULL (a firing one without an id gets a
 * new one). */
void engine_restore(struct engine *e, const char *rule, const char *check, enum alert_state st,
                    int64_t since_ms, int64_t fired_ms, int64_t last_sent_ms,
                    const char *alert_id, const char *value, int64_t now_ms);

/* Records a past result of a check (from the database, at start) into its
 * counts and window, without evaluating any rule. Oldest first, before the
 * first engine_on_result. duration_ms < 0: none. */
void engine_prime(struct engine *e, const char *check, int64_t ts_ms, double duration_ms,
                  bool ok);

/* A run of check c finished at now_ms: updates its consecutive counts, window,
 * last message, run id (carried by the events it causes) and certificate expiry (r->cert_expiry, kept while later runs
 * see none), then evaluates every rule of that check. Results of checks not in
 * the current conf are ignored (a run that started before a reload). */
void engine_on_result(struct engine *e, const struct check *c, const struct probe_result *r,
                      int64_t now_ms);

/* The named check's latest heartbeat ping arrived at ping_ms (wall clock
 * ms): heartbeat_age is now - the latest ping seen (an older ping_ms is
 * ignored). Evaluates nothing: rules on heartbeat_age follow on the next tick.
 * Before the first call a check's heartbeat_age is unknown. */
void engine_set_last_ping(struct engine *e, const char *check, int64_t ping_ms);

/* Time passes: pending instances whose `for` ran out fire, firing ones repeat
 * when `repeat` is due, rules on heartbeat_age or windows are re-evaluated
 * (runs age out), and checks whose maintenance window ended are evaluated
 * again. Call about once a second. */
void engine_tick(struct engine *e, int64_t now_ms);

/* True while a check in the named check's depends_on is down (its last result
 * failed). False for unknown names. */
bool engine_check_blocked(const struct engine *e, const char *check);

/* True when the named check is inside one of its maintenance windows. */
bool engine_in_maintenance(struct engine *e, const char *check, int64_t now_ms);

/* What engine_foreach_instance shows of one instance; valid during the call. */
struct engine_instance_info {
	const char *rule;
	const char *check;
	const char *group;          /* the check's group, "" when none */
	enum alert_state state;
	enum alert_severity severity;
	int64_t since_ms;
	int64_t fired_ms;           /* 0: never fired */
	int64_t last_sent_ms;
	const char *alert_id;       /* "" before the first episode */
	const char *value;          /* "" before the first evaluation */
	const char *run_id;         /* the run behind the latest change; "" when unknown */
};

/* Calls fn for every instance, ordered by rule name then check name. fn must
 * not change the engine. */
void engine_foreach_instance(const struct engine *e,
                             void (*fn)(const struct engine_instance_info *i, void *ctx),
                             void *ctx);

/* Number of instances (rules x matching checks). */
size_t engine_instance_count(const struct engine *e);

#endif

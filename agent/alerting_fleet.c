/* alerting_fleet.c — the alert path of an agent in a fleet (PostgreSQL;
 * docs/fleet.md): the engine decides this location's condition of each
 * (rule, check); a change of it goes to the fleet through the store's writer,
 * which decides the fleet's alert under the pair's row lock and returns the
 * notifications to send. Every 5 s a lease pass renews this agent's delivery
 * leases and claims expired ones (a dead agent's deliveries move); every
 * 10 s a sweep re-decides firing pairs (a dead agent's location stops
 * counting) and sends the repeats due. When the database has been away for
 * 60 s the agent fails open: its own condition changes go straight to its
 * notifiers (in memory, with the fleet's id and key scheme) while everything
 * stays queued for the database.
 *
 *   engine transition -> alerting_fleet_transition -> store_fleet_condition
 *     -> writer commit -> fleet_done (writer) -> fleet_done_loop -> delivery */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alerting_fleet.h"
#include "alerting_state.h"
#include "alerts/delivery.h"
#include "alerts/fleet_alert.h"
#include "conf/conf.h"
#include "core/log.h"
#include "core/util.h"
#include "store/store.h"

#define LEASE_EVERY_MS 5000
#define SWEEP_EVERY_MS 10000
#define FAIL_OPEN_AFTER_MS 60000
#define INTERVAL_DEFAULT_US (60LL * 1000000LL)

/* What this agent knows of one pair: the fleet's last episode, and the
 * episode it paged itself while failing open (0: none). */
struct known_pair {
	char *rule, *check;
	int64_t episode;
	bool fleet_firing;
	int own;                        /* this location's stored condition: -1 none */
	int64_t paged_episode;
};

struct alerting_fleet {
	char *location;                 /* agent.location at start: this agent's name */
	uint64_t next_lease_ms, next_sweep_ms;  /* monotonic */
	bool lease_in_flight, sweep_in_flight;
	uint64_t unhealthy_since_ms;    /* 0: the store is healthy */
	bool failing_open;
	int64_t next_local_id;          /* ids of rows sent failing open */
	struct known_pair *known;
	size_t n_known, cap_known;
};

/* --- what is known of the pairs --------------------------------------------------- */

/* The pair (rule, check), or NULL; with create, added when missing. The
 * array is sorted by (rule, check); a pointer is valid until the next add. */
static struct known_pair *known_get(struct alerting_fleet *f, const char *rule,
                                    const char *check, bool create)
{
	size_t lo = 0, hi = f->n_known;
	struct known_pair *k;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int d = strcmp(f->known[mid].rule, rule);

		if (d == 0)
			d = strcmp(f->known[mid].check, check);
		if (d == 0)
			return &f->known[mid];
		if (d < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!create)
		return NULL;
	if (f->n_known == f->cap_known) {
		f->cap_known = f->cap_known ? f->cap_known * 2 : 16;
		f->known = xrealloc(f->known, f->cap_known * sizeof(*f->known));
	}
	memmove(&f->known[lo + 1], &f->known[lo], (f->n_known - lo) * sizeof(*f->known));
	f->n_known++;
	k = &f->known[lo];
	memset(k, 0, sizeof(*k));
	k->rule = xstrdup(rule);
	k->check = xstrdup(check);
	k->own = -1;
	return k;
}

struct alerting_fleet *alerting_fleet_new(struct alerting *al)
{
	struct alerting_fleet *f;

	if (!store_is_fleet(al->store))
		return NULL;
	f = xcalloc(1, sizeof(*f));
	f->location = xstrdup(al->conf->agent.location ? al->conf->agent.location : "");
	f->next_local_id = ALERTING_LOCAL_ID_BASE;
	return f;
}

void alerting_fleet_free(struct alerting_fleet *f)
{
	if (f == NULL)
		return;
	for (size_t i = 0; i < f->n_known; i++) {
		free(f->known[i].rule);
		free(f->known[i].check);
	}
	free(f->known);
	free(f->location);
	free(f);
}

/* --- completions of the fleet's ops ------------------------------------------------ */

enum fleet_op_kind { OP_CONDITION, OP_LEASES, OP_SWEEP };

/* One op's result, carried from the writer to the loop. */
struct fleet_done {
	struct alerting *al;
	enum fleet_op_kind kind;
	bool adopt;                     /* OP_LEASES at start */
	char *rule, *check;             /* OP_CONDITION */
	int rc;
	int64_t episode;
	struct outbox_row *rows;
	size_t n;
};

static void fleet_done_free(struct fleet_done *d)
{
	for (size_t i = 0; i < d->n; i++)
		outbox_row_clear(&d->rows[i]);
	free(d->rows);
	free(d->rule);
	free(d->check);
	free(d);
}

/* On the loop: the notifications to delivery, the episode remembered. */
static void fleet_done_loop(struct loop *l, void *arg)
{
	struct fleet_done *d = arg;
	struct alerting *al = d->al;
	struct alerting_fleet *f = al->fleet;

	if (d->kind == OP_LEASES)
		f->lease_in_flight = false;
	if (d->adopt && d->n > 0) {
		char n[24];

		snprintf(n, sizeof(n), "%zu", d->n);
		log_info("undelivered notifications found: sending them", "count", n);
	}
	if (d->kind == OP_SWEEP)
		f->sweep_in_flight = false;
	if (d->kind == OP_CONDITION && d->rc == 0) {
		struct known_pair *k = known_get(f, d->rule, d->check, true);

		if (d->episode > k->episode)
			k->episode = d->episode;
	}
	for (size_t i = 0; i < d->n; i++)
		if (!al->stopping && al->delivery != NULL)
			delivery_add(al->delivery, &d->rows[i]);   /* already queued: ignored */
	if (d->n > 0)
		*al->dirty = true;
	fleet_done_free(d);
}

/* On the writer thread, after the commit (or after giving up at close). */
static void fleet_done(int rc, int64_t episode, const struct outbox_row *rows, size_t n,
                       void *arg)
{
	struct fleet_done *d = arg;

	d->rc = rc;
	d->episode = episode;
	if (rc == 0 && n > 0) {
		d->rows = xcalloc(n, sizeof(*d->rows));
		for (size_t i = 0; i < n; i++)
			outbox_row_copy(&d->rows[i], &rows[i]);
		d->n = n;
	}
	if (loop_post(d->al->loop, fleet_done_loop, d) != 0)
		fleet_done_free(d);
}

static struct fleet_done *fleet_done_new(struct alerting *al, enum fleet_op_kind kind)
{
	struct fleet_done *d = xcalloc(1, sizeof(*d));

	d->al = al;
	d->kind = kind;
	return d;
}

/* --- failing open: this agent's own notifiers, without the database ------------------ */

/* Sends ev (kind and alert_id set) to the rule's notifiers from memory. */
static void fail_open_send(struct alerting *al, const struct alert_event *ev,
                           const struct alert_rule *r)
{
	struct outbox_tx tx = { 0 };

	fleet_tx_add_event(&tx, ev, r->notify, r->n_notify, util_wall_us(), 0);
	for (size_t i = 0; i < tx.n_rows; i++) {
		tx.rows[i].id = al->fleet->next_local_id++;
		if (al->delivery != NULL && !al->stopping)
			delivery_add(al->delivery, &tx.rows[i]);
	}
	outbox_tx_clear(&tx);
}

/* This location's condition of (rule, check) changed to firing while failing
 * open: page for the episode after the last the fleet had, or resolve the
 * one this agent paged. */
static void fail_open_condition(struct alerting *al, const char *rule, const char *check,
                                bool firing, const struct alert_event *tmpl)
{
	struct alerting_fleet *f = al->fleet;
	const struct alert_rule *r = conf_find_rule(al->conf, rule);
	struct known_pair *k = known_get(f, rule, check, true);
	const struct check *c = conf_find_check(al->conf, check);
	struct alert_event ev;
	char id[UTIL_ID_LEN];
	char value[300];

	if (r == NULL || r->n_notify == 0)
		return;
	if (firing && (k->fleet_firing || k->paged_episode > 0))
		return;         /* the fleet paged it already, or this agent did */
	if (!firing && k->paged_episode == 0)
		return;         /* not this agent's page to resolve */
	fleet_alert_id(rule, check, firing ? k->episode + 1 : k->paged_episode, id);
	snprintf(value, sizeof(value), "%s at %s (the fleet's database is unreachable)",
	         firing ? "failing" : "recovered", f->location);
	alert_event_build(&ev, &(struct alert_event_spec){
		.kind = firing ? ALERT_EVENT_FIRING : ALERT_EVENT_RESOLVED, .rule = rule,
		.check = check, .group = c != NULL ? c->group : NULL, .severity = r->severity,
		.alert_id = id, .ts_us = util_wall_us(), .started_us = util_wall_us(),
		.value = value, .message = tmpl != NULL ? tmpl->message : "",
		.public_url = al->conf->agent.public_url, .expr = r->when_text,
		.location = f->location, .run_id = tmpl != NULL ? tmpl->run_id : NULL,
	});
	log_warn("fleet: sending without the database", "rule", rule, "check", check,
	         "alert_id", id, "kind", firing ? "firing" : "resolved");
	fail_open_send(al, &ev, r);
	alert_event_clear(&ev);
	k->paged_episode = firing ? k->episode + 1 : 0;
}

/* On entering fail-open: page what this location sees firing and the fleet
 * had not paged. */
static void fail_open_enter_one(const struct engine_instance_info *i, void *ctx)
{
	if (i->state == ALERT_FIRING)
		fail_open_condition(ctx, i->rule, i->check, true, NULL);
}

/* The partition check: fail open after FAIL_OPEN_AFTER_MS without the
 * database; back to the fleet when it returns. */
static void partition_check(struct alerting *al, uint64_t now_ms)
{
	struct alerting_fleet *f = al->fleet;

	if (store_healthy(al->store)) {
		if (f->failing_open) {
			log_info("fleet: the database is back; the fleet decides the alerts again");
			for (size_t i = 0; i < f->n_known; i++)
				f->known[i].paged_episode = 0;
		}
		f->unhealthy_since_ms = 0;
		f->failing_open = false;
		return;
	}
	if (f->unhealthy_since_ms == 0)
		f->unhealthy_since_ms = now_ms;
	if (f->failing_open || now_ms - f->unhealthy_since_ms < FAIL_OPEN_AFTER_MS)
		return;
	f->failing_open = true;
	log_warn("fleet: the database is unreachable for 60 s: alerting from this agent's own results");
	engine_foreach_instance(al->engine, fail_open_enter_one, al);
}

/* --- the agent's calls -------------------------------------------------------------- */

void alerting_fleet_transition(struct alerting *al, const struct engine_transition *t)
{
	const struct alert_rule *r = t->rule_def;
	const struct check *c = conf_find_check(al->conf, t->check);
	bool was = t->from == ALERT_FIRING;
	bool now = t->to == ALERT_FIRING && !t->gone;
	struct fleet_done *d;

	/* Repeats are the fleet's; ok <-> pending is no condition change, only
	 * what the API shows. */
	if (was == now && (t->from == t->to || t->gone))
		return;
	d = fleet_done_new(al, OP_CONDITION);
	d->rule = xstrdup(t->rule);
	d->check = xstrdup(t->check);
	store_fleet_condition(al->store, &(struct store_fleet_condition){
		.rule = t->rule, .check = t->check, .location = al->fleet->location,
		.firing = now, .pending_only = was == now, .from = t->from, .to = t->to,
		.value = t->value, .event = t->event,
		.notify = r != NULL ? r->notify : NULL, .n_notify = r != NULL ? r->n_notify : 0,
		.min_locations = r != NULL ? r->min_locations : 1,
		.interval_us = c != NULL && c->interval_ms > 0 ? (int64_t)c->interval_ms * 1000
		                                               : INTERVAL_DEFAULT_US,
		.repeat_us = r != NULL ? (int64_t)r->repeat_ms * 1000 : 0,
	}, fleet_done, d);
	*al->dirty = true;
	if (al->fleet->failing_open && was != now)
		fail_open_condition(al, t->rule, t->check, now, t->event);
}

/* Queues a lease pass (renew, claim) unless one is still on its way. */
static void lease_pass(struct alerting *al, bool adopt_own)
{
	struct alerting_fleet *f = al->fleet;
	char **names;
	struct fleet_done *d;

	if (f->lease_in_flight)
		return;
	f->lease_in_flight = true;
	names = xcalloc(al->conf->n_notifiers + 1, sizeof(*names));
	for (size_t i = 0; i < al->conf->n_notifiers; i++)
		names[i] = al->conf->notifiers[i].name;
	d = fleet_done_new(al, OP_LEASES);
	d->adopt = adopt_own;
	store_fleet_leases(al->store, f->location, adopt_own, names, al->conf->n_notifiers,
	                   fleet_done, d);
	free(names);
}

void alerting_fleet_tick(struct alerting *al)
{
	struct alerting_fleet *f = al->fleet;
	uint64_t now = util_mono_ms();

	partition_check(al, now);
	if (al->stopping)
		return;
	if (now >= f->next_lease_ms) {
		f->next_lease_ms = now + LEASE_EVERY_MS;
		lease_pass(al, false);
	}
	if (now >= f->next_sweep_ms && !f->sweep_in_flight) {
		f->next_sweep_ms = now + SWEEP_EVERY_MS;
		f->sweep_in_flight = true;
		store_fleet_sweep(al->store, f->location, fleet_done, fleet_done_new(al, OP_SWEEP));
	}
}

/* The stored alert state of pairs this location has no condition of yet (a
 * database used before the fleet, or a new member): as on SQLite. */
static void restore_alert_states(struct alerting *al, struct store_reader *r)
{
	struct alert_state_row *st = NULL;
	size_t n = 0;

	if (store_alert_states(r, &st, &n) != 0)
		return;
	for (size_t i = 0; i < n; i++) {
		struct known_pair *k = known_get(al->fleet, st[i].rule, st[i].check, false);

		if (k == NULL || k->own < 0)
			engine_restore(al->engine, st[i].rule, st[i].check, st[i].state,
			               st[i].since_us / 1000, st[i].fired_us / 1000,
			               st[i].last_sent_us / 1000, st[i].alert_id, st[i].value,
			               util_wall_us() / 1000);
		alert_state_row_clear(&st[i]);
	}
	free(st);
}

void alerting_fleet_restore(struct alerting *al, struct store_reader *r)
{
	struct alerting_fleet *f = al->fleet;
	struct store_fleet_pair *v = NULL;
	size_t n = 0;
	int64_t now_ms = util_wall_us() / 1000;

	if (r != NULL && store_fleet_pairs(r, f->location, &v, &n) == 0) {
		for (size_t i = 0; i < n; i++) {
			struct known_pair *k = known_get(f, v[i].rule, v[i].check, true);

			k->episode = v[i].episode;
			k->fleet_firing = v[i].fleet_firing;
			k->own = v[i].own;
			/* This location's firing condition stays firing: no second
			 * condition change for what the fleet already counts. */
			if (v[i].own == 1)
				engine_restore(al->engine, v[i].rule, v[i].check, ALERT_FIRING,
				               v[i].own_since_us / 1000, v[i].own_since_us / 1000,
				               now_ms, NULL, v[i].own_value, now_ms);
		}
		store_fleet_pairs_free(v, n);
	}
	if (r != NULL)
		restore_alert_states(al, r);
	/* The notifications this location left pending, and expired ones. */
	lease_pass(al, true);
	f->next_lease_ms = util_mono_ms() + LEASE_EVERY_MS;
	f->next_sweep_ms = util_mono_ms() + SWEEP_EVERY_MS;
}

/* sched_parts.c — the scheduler's heartbeat checks (passive: pinged through
 * the API, a timer reports lateness) and the seeding of every check's state
 * from the store at start. Part of the scheduler (with sched.c, sharing
 * sched_impl.h); see sched.h. */
#include <stdlib.h>
#include <string.h>

#include "core/loop.h"
#include "core/util.h"
#include "sched_impl.h"

/* Wall clock, milliseconds: heartbeat pings are stored and compared as such. */
static int64_t sched_wall_ms(void)
{
	return util_wall_us() / 1000;
}

/* Starts (or stops) a heartbeat entry's timer for its next lateness report. */
void sched_heartbeat_arm(struct sched *s, struct sched_entry *e)
{
	int64_t due = heartbeat_next_due(&e->hb, e->check->interval_ms, e->check->heartbeat.grace_ms);
	int64_t now = sched_wall_ms();

	loop_timer_stop(s->env->loop, &e->timer);
	if (due == 0 || s->stopping)
		return;
	loop_timer_start(s->env->loop, &e->timer, due > now ? (uint64_t)(due - now) : 0);
}

/* Records one heartbeat result of e (a ping or a lateness report) through the
 * same path as probe results. details.last_ping lets a restart find the last
 * ping again (sched_seed_heartbeat). */
static void entry_heartbeat_record(struct sched *s, struct sched_entry *e, struct probe_result *r)
{
	char ts[40];

	if (e->hb.last_ping_ms > 0) {
		util_format_time(e->hb.last_ping_ms * 1000, ts, sizeof(ts));
		probe_result_detail(r, "last_ping", json_string(ts));
	}
	r->ok = r->error == PROBE_OK;
	r->duration_us = 0;
	r->attempts = 1;
	sched_entry_record(e, r);
	s->result_conf = s->conf;
	s->on_result(e->check, r, false, s->arg);
}

/* A heartbeat entry's timer: record lateness when it is due (once, then once
 * per interval while still late), then wait for the next report. */
void sched_heartbeat_due(struct loop *l, struct loop_timer *t)
{
	struct sched_entry *e = t->arg;
	struct sched *s = e->s;
	int64_t now = sched_wall_ms();

	if (s->stopping)
		return;
	if (heartbeat_late_due(&e->hb, now, e->check->interval_ms, e->check->heartbeat.grace_ms)) {
		struct probe_result r;
		char msg[160];

		probe_result_init(&r);
		heartbeat_late_message(now - e->hb.last_ping_ms, e->check->interval_ms,
		                       e->check->heartbeat.grace_ms, msg, sizeof(msg));
		probe_result_fail(&r, PROBE_ERR_TIMEOUT, "%s", msg);
		entry_heartbeat_record(s, e, &r);
		probe_result_clear(&r);
	}
	sched_heartbeat_arm(s, e);
}

/* "Run now" of a heartbeat check: there is nothing to probe, so the answer
 * (not recorded) says where the check stands. fn is called before this
 * returns. */
void sched_heartbeat_run_now(struct sched_entry *e, sched_now_fn *fn, void *arg)
{
	struct heartbeat_last last = { e->last_ok, e->last_error, e->last_message };
	struct probe_result r;

	probe_result_init(&r);
	heartbeat_status_result(&r, &e->hb, sched_wall_ms(), e->check->interval_ms,
	                        e->check->heartbeat.grace_ms, e->has_last ? &last : NULL);
	fn(&r, arg);
	probe_result_clear(&r);
}

/* The state of entry e of check c as the API shows it: blocked when its last
 * run failed while one of its dependencies' last run failed too (*blocked_by:
 * that dependency's name, from c). */
static enum check_state entry_state(const struct sched *s, const struct check *c,
                                    const struct sched_entry *e, const char **blocked_by)
{
	*blocked_by = NULL;
	if (!e->has_last)
		return CHECK_STATE_PENDING;
	if (e->last_ok)
		return CHECK_STATE_UP;
	*blocked_by = sched_failing_dependency(s, c);
	return *blocked_by != NULL ? CHECK_STATE_BLOCKED : CHECK_STATE_DOWN;
}

void sched_seed_state(struct sched *s, const char *name, int64_t ts_us, bool ok,
                      int64_t duration_us, enum probe_error err, const char *message)
{
	struct sched_entry *e = sched_find(s, name);

	if (!e || e->has_last)
		return;
	e->has_last = true;
	e->last_ts_us = ts_us;
	e->last_ok = ok;
	e->last_duration_us = duration_us;
	e->last_error = err;
	sched_entry_set_message(e, message ? message : "");
	e->consecutive_failures = ok ? 0 : 1;
	e->consecutive_successes = ok ? 1 : 0;
	if (probe_type_passive(e->check) && ts_us > 0) {
		int64_t ts_ms = ts_us / 1000;

		if (!ok && err == PROBE_ERR_TIMEOUT) {
			/* A lateness report: the ping was at least interval + grace
			 * before it (sched_seed_heartbeat may know exactly). */
			e->hb.last_ping_ms = ts_ms - (int64_t)e->check->interval_ms -
			                     (int64_t)e->check->heartbeat.grace_ms;
			if (e->hb.last_ping_ms <= 0)
				e->hb.last_ping_ms = 1;
			e->hb.late_reported_ms = ts_ms;
		} else {
			heartbeat_on_ping(&e->hb, ts_ms);
		}
		sched_heartbeat_arm(s, e);
	}
}

void sched_seed_heartbeat(struct sched *s, const char *name, int64_t last_ping_ms)
{
	struct sched_entry *e = sched_find(s, name);

	if (!e || !probe_type_passive(e->check) || last_ping_ms <= 0)
		return;
	e->hb.last_ping_ms = last_ping_ms;
	if (e->hb.late_reported_ms > 0 && e->hb.late_reported_ms < last_ping_ms)
		e->hb.late_reported_ms = 0;
	sched_heartbeat_arm(s, e);
}

void sched_set_ping_fn(struct sched *s, sched_ping_fn *fn, void *arg)
{
	s->on_ping = fn;
	s->ping_arg = arg;
}

int sched_heartbeat_ping(struct sched *s, const char *name, bool fail, const char *message,
                         bool truncated, enum check_state *state)
{
	struct sched_entry *e = sched_find(s, name);
	struct probe_result r;
	const char *blocked_by;
	int64_t now = sched_wall_ms();

	if (!e || !probe_type_passive(e->check))
		return -1;
	if (s->stopping)
		return -2;
	probe_result_init(&r);
	heartbeat_ping_result(&r, now, fail, message, truncated);
	heartbeat_on_ping(&e->hb, now);
	entry_heartbeat_record(s, e, &r);
	probe_result_clear(&r);
	if (s->on_ping)
		s->on_ping(e->check, now, s->ping_arg);
	sched_heartbeat_arm(s, e);
	if (state)
		*state = entry_state(s, e->check, e, &blocked_by);
	return 0;
}

int64_t sched_heartbeat_last_ping_ms(const struct sched *s, const char *name)
{
	const struct sched_entry *e = sched_find(s, name);

	if (!e || !probe_type_passive(e->check))
		return 0;
	return e->hb.last_ping_ms;
}

/* sched.h — the scheduler: runs every check at a fixed rate on the loop and
 * keeps each check's runtime state (last result, consecutive counts).
 *
 * Fixed rate: a check due at t runs at t, t+interval, t+2·interval, ...
 * however long each run takes, so schedules never drift. The first run of a
 * check is placed at a stable offset inside its interval (a hash of its name),
 * so ten thousand checks do not all fire at once and every restart keeps the
 * same phase. A tick that comes while the previous run (with its retries) is
 * still in flight is skipped and counted (overlap). Runs start only while
 * the loop can serve them (admit.h); one that cannot start in time is
 * skipped and counted (overload), never sent late. Lag (due -> started) is
 * measured. */
#ifndef PHAROS_SCHED_H
#define PHAROS_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf/conf.h"
#include "attempt.h"
#include "probes/probe.h"
#include "sched_time.h"
#include "sched_view.h"
#include "web/snapshot.h"

struct sched;

/* Called on the loop for every completed run (retries done). r is valid
 * during the call only. manual: run through sched_run_now. */
typedef void sched_result_fn(const struct check *c, const struct probe_result *r,
                             bool manual, void *arg);
/* Completion of sched_run_now. */
typedef void sched_now_fn(const struct probe_result *r, void *arg);

/* --- the scheduler ---------------------------------------------------------- */

struct sched *sched_new(const struct probe_env *env, sched_result_fn *fn, void *arg);

/* Which checks of a conf a scheduler runs (the others belong to another
 * probe thread's scheduler). Set before the first sched_set_conf; without
 * it, every check. */
/* During the result callback: the conf that holds the check reported (take
 * a reference to keep the check past the callback). */
struct conf *sched_result_conf(const struct sched *s);

typedef bool sched_owns_fn(const struct check *c, void *arg);
void sched_set_owner(struct sched *s, sched_owns_fn *fn, void *arg);
/* Every run must be over (see sched_stop/sched_idle). */
void sched_free(struct sched *s);

/* Installs conf (takes a reference): new checks are scheduled, removed checks
 * stop (a run in flight completes and is still reported), changed checks are
 * rescheduled, unchanged checks (same name and fingerprint) keep their
 * schedule. Runtime state is kept by name. */
void sched_set_conf(struct sched *s, struct conf *conf);

/* Gives every check its first due time, spread over its interval from now
 * as always (sched_first_due); checks installed later (a reload) get theirs
 * at once. Before it, sched_set_conf only records the checks: the time the
 * agent spends starting (reading the store) is not counted as the lag of
 * runs that would have fallen due meanwhile. Call it on the scheduler's
 * thread, or before that thread runs its loop. */
void sched_start(struct sched *s);

/* Runs check name now, outside its schedule (retries included). The result
 * is reported through the result callback too. Returns 0, or -1 when there
 * is no such check or the scheduler is stopping (fn never called). */
int sched_run_now(struct sched *s, const char *name, sched_now_fn *fn, void *arg);

/* Holds the start of scheduled runs (hold true) or lets them start again.
 * While held, runs that fall due wait for admission like runs beyond the
 * in-flight limit: those that cannot start in time are skipped for
 * overload, and the scheduler counts as overloaded (SPEC §2.0.1); runs in
 * flight and manual runs go on. On the scheduler's thread. */
void sched_hold_runs(struct sched *s, bool hold);

/* Stops starting runs; runs in flight go on. */
void sched_stop(struct sched *s);
/* Aborts every run still in flight (results recorded as aborted). */
void sched_abort_all(struct sched *s);
/* True when no run is in flight. */
bool sched_idle(const struct sched *s);

/* A new snapshot of every check's state, for the HTTP threads. */
struct snapshot *sched_snapshot(struct sched *s);
/* The first check c depends on whose last run failed (its name, from c), or
 * NULL: a failure of c now is "blocked", not "down". */
const char *sched_failing_dependency(const struct sched *s, const struct check *c);
/* The parts of it, for several schedulers (one per probe thread, shard.h)
 * filling one snapshot: fill copies this scheduler's checks and adds its lag
 * counts (any thread; takes the scheduler's lock); states then derives every
 * check's state, dependencies across schedulers included. */
void sched_snapshot_fill(struct sched *s, struct snapshot *snap);
/* sched_snapshot_states: sched_view.h. */

/* Any thread (takes the scheduler's lock). */
void sched_get_stats(struct sched *s, struct sched_stats *out);
/* sched_stats_add, sched_stats_finish: sched_view.h. */

/* Seeds a check's state from its last stored result (at start). For a
 * heartbeat check, the result's time is taken as its last ping (a stored
 * lateness failure, error class timeout, as a report of lateness) so a
 * restart does not reset lateness; sched_seed_heartbeat refines it. */
void sched_seed_state(struct sched *s, const char *name, int64_t ts_us, bool ok,
                      int64_t duration_us, enum probe_error err, const char *message);

/* --- heartbeat checks (passive: never probed; see heartbeat.h) -------------- */

/* Called on the loop for every ping recorded (success or /fail), after the
 * result callback of that ping. ping_ms: wall clock. */
typedef void sched_ping_fn(const struct check *c, int64_t ping_ms, void *arg);
void sched_set_ping_fn(struct sched *s, sched_ping_fn *fn, void *arg);

/* On the loop: records a ping of heartbeat check name, now. A success is an
 * ok result (message: the body, or "ping received"); a failure is error class
 * assertion, "job reported failure: <body>". Both go through the result
 * callback like probe results and restart the lateness clock. *state gets
 * the check's state after it. Returns 0, -1 when name is not a heartbeat
 * check, -2 when the scheduler is stopping. */
int sched_heartbeat_ping(struct sched *s, const char *name, bool fail, const char *message,
                         bool truncated, enum check_state *state);

/* Wall clock ms of the last ping of heartbeat check name (seeded at start),
 * 0 when none or not a heartbeat check. For heartbeat_age. */
int64_t sched_heartbeat_last_ping_ms(const struct sched *s, const char *name);

/* Sets the last ping time of heartbeat check name from what the store knows
 * (details.last_ping of its last result), after sched_seed_state. */
void sched_seed_heartbeat(struct sched *s, const char *name, int64_t last_ping_ms);

#endif

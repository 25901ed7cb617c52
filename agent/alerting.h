/* alerting.h — the alert path of the running agent (agent/alerting.c):
 * results and heartbeat pings into the alert engine, each engine call's
 * transitions committed as one unit (state, history, notifications) through
 * the store's writer, and the committed notifications handed to delivery.
 * On PostgreSQL (a fleet) the engine decides this location's condition and
 * the fleet decides the alert (agent/alerting_fleet.c; docs/fleet.md,
 * "Alerting across locations").
 *
 * Loop thread only, except alerting_retry_notification (a server thread).
 * Use (agent.c):
 *   al = alerting_start(&env, conf);          after the scheduler is set up
 *   alerting_on_result / alerting_on_ping     from the scheduler's callbacks
 *   alerting_publish(al, snap);               when building a snapshot
 *   alerting_set_conf(al, next);              on reload
 *   alerting_begin_stop(al);                  at SIGTERM; wait for
 *   alerting_in_flight(al) == 0, or alerting_abandon(al) at the deadline
 *   alerting_close(al);                       before curlm_free
 *   alerting_free(al);                        after store_close and a last
 *                                             loop pass (the writer's completions) */
#ifndef PHAROS_ALERTING_H
#define PHAROS_ALERTING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct alerting;
struct check;
struct conf;
struct curlm;
struct loop;
struct outbox_row;
struct probe_result;
struct sched;
struct snapshot;
struct store;

struct alerting_env {
	struct loop *loop;
	struct curlm *curlm;            /* delivery's transfers */
	struct store *store;            /* alert units and notification progress */
	struct sched *sched;            /* heartbeats' last pings, read at start */
	bool *dirty;                    /* set to true when the alert state changed */
};

/* Starts the alert path for conf (takes its own reference): alert state back
 * into the engine (no second page for what already paged), the recent past
 * into its windows, every notification not delivered before the stop or crash
 * back into delivery, and the engine's tick. A database that cannot be read
 * is logged, not fatal. Free with alerting_close + alerting_free. */
struct alerting *alerting_start(const struct alerting_env *env, struct conf *conf);

/* A finished run of c: evaluated by the engine (an aborted run is not), and
 * what that changed committed. */
void alerting_on_result(struct alerting *al, const struct check *c, const struct probe_result *r);

/* A heartbeat ping of c recorded at ping_ms (wall clock): heartbeat_age restarts. */
void alerting_on_ping(struct alerting *al, const struct check *c, int64_t ping_ms);

/* Reload: next in force for the engine (instances it drops are resolved
 * through their old rule) and delivery. Takes its own reference to next. */
void alerting_set_conf(struct alerting *al, struct conf *next);

/* Fills snap's alerting part: maintenance state of its checks, the instances
 * pending or firing, and delivery figures per notifier. */
void alerting_publish(struct alerting *al, struct snapshot *snap);

/* From a server thread: requeues the dead notification row (the admin API)
 * and waits until the writer committed it and delivery took it. Returns 0
 * requeued, -2 the row is not dead, -3 failed. */
int alerting_retry_notification(struct alerting *al, const struct outbox_row *row);

/* Stopping: the tick stops, delivery starts no new attempt; attempts in flight
 * get until the deadline to be answered (an answered one is recorded as
 * delivered); rows committed from now on stay pending for the next start. */
void alerting_begin_stop(struct alerting *al);
/* Notification attempts in flight (0 for NULL). */
size_t alerting_in_flight(const struct alerting *al);
/* Abandons the attempts in flight: they stay pending in SQLite, sent with the
 * same key at the next start. al may be NULL. */
void alerting_abandon(struct alerting *al);

/* Stops the tick and frees delivery (cancelling its transfers): call before
 * curlm_free. al may be NULL. */
void alerting_close(struct alerting *al);
/* Frees the rest. Call after the store is closed and the loop ran the
 * completions the writer posted while closing. al may be NULL. */
void alerting_free(struct alerting *al);

#endif

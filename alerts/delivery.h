/* delivery.h — sending committed notifications from the event loop: one
 * queue per notifier, order kept per alert, retries with exponential backoff
 * and full jitter, Retry-After, permanent failures, max_attempts / max_age ->
 * dead, a circuit breaker and a token-bucket rate limit per notifier, and the
 * periodic re-post of firing alerts Alertmanager needs.
 *
 *   d = delivery_new(loop, curlm, &hooks, NULL, NULL);
 *   delivery_set_notifiers(d, conf->notifiers, conf->n_notifiers);   start, reload
 *   delivery_add(d, row)            a pending notification, once COMMITTED
 *   ...                             attempts run on the loop; every change of a
 *                                   row's delivery state goes to hooks.progress,
 *                                   which the agent writes through the store
 *   delivery_stop(d); delivery_free(d);   in-flight attempts are abandoned: the
 *                                   rows stay pending in SQLite for the next start
 *
 * Policy (SPEC §2.3):
 * - Per attempt: notify_build() again (the webhook timestamp is the attempt's),
 *   the same idempotency key every time, the notifier's timeout, no redirects,
 *   at most DELIVERY_BODY_MAX bytes of the answer kept.
 * - Order: per (notifier, rule, check) only the oldest undelivered row is
 *   attempted (outbox_queue), so a resolve never overtakes its trigger. A dead
 *   row no longer holds back the rows after it.
 * - Retry verdict (network error, 5xx, 429, 3xx): attempts+1; dead when
 *   attempts >= max_attempts or the row is older than max_age; else the next
 *   attempt after max(delivery_backoff_ms(attempts), Retry-After).
 * - Permanent verdict (other 4xx, or a request that cannot be built): dead.
 * - Breaker per notifier: opens after DELIVERY_BREAKER_FAILURES consecutive
 *   retry verdicts; while open nothing is sent to that notifier; after
 *   DELIVERY_BREAKER_OPEN_MS it half-opens and lets exactly one attempt
 *   through: success closes it, failure opens it again. Any HTTP answer that
 *   is not a retry verdict (2xx, permanent 4xx) counts as success: the
 *   receiver is up.
 * - Rate: a token bucket per notifier, rate_per_s tokens a second, burst
 *   max(1, rate_per_s); at most DELIVERY_MAX_IN_FLIGHT attempts in flight.
 * - Alertmanager re-post: a delivery-side timer, not an outbox row. Once a
 *   firing notification to an alertmanager notifier is delivered, the event is
 *   re-posted every notify_refire_ms() with the same key until a resolve for
 *   that (rule, check) is queued. Re-posts are best effort (not persisted, not
 *   retried beyond the next period): Alertmanager keeps an alert for its
 *   resolve_timeout (5 m), so a missed re-post or two lose nothing. After a
 *   restart the agent re-arms them with delivery_refire_arm() for the alerts
 *   still firing.
 *
 * Clock and randomness are injected (struct delivery_env) so tests are
 * deterministic; with loop == NULL nothing is scheduled and the test drives
 * delivery_poll() itself. The transport is injectable too (default: curl
 * multi on the loop). Logs carry notification_id, alert_id and the notifier
 * name, never a URL, token or body. */
#ifndef PHAROS_DELIVERY_H
#define PHAROS_DELIVERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alerts/alert.h"
#include "alerts/delivery_curl.h"
#include "alerts/delivery_policy.h"
#include "alerts/notify.h"
#include "alerts/outbox.h"

struct loop;
struct curlm;
struct delivery;

#define DELIVERY_MAX_IN_FLIGHT      4

/* --- the deliverer --------------------------------------------------------- */

/* Injected clock and randomness; any NULL member uses the real one. */
struct delivery_env {
	uint64_t (*mono_ms)(void *ctx);     /* for timers, breaker, bucket */
	int64_t (*wall_us)(void *ctx);      /* for recorded times, max_age, webhook timestamp */
	uint64_t (*random)(void *ctx);      /* uniform 64-bit */
	void *ctx;
};

/* A change of a row's delivery state (to persist). */
struct delivery_progress {
	int64_t id;
	enum outbox_state state;
	int attempts;
	int64_t next_attempt_us;
	int64_t delivered_us;       /* 0: none */
	const char *last_error;     /* NULL: none; valid during the call */
};

struct delivery_hooks {
	void (*progress)(const struct delivery_progress *p, void *ctx);
	void *ctx;
};

/* A new deliverer. loop: where its timer lives (NULL: tests call
 * delivery_poll). curlm: for the default transport (NULL when transport is
 * given). hooks, env, transport are copied; env and transport may be NULL. */
struct delivery *delivery_new(struct loop *loop, struct curlm *curlm,
                              const struct delivery_hooks *hooks,
                              const struct delivery_env *env,
                              const struct delivery_transport *transport);
/* Abandons what is in flight (delivery_stop) and frees everything. */
void delivery_free(struct delivery *d);

/* Installs the notifier settings (deep-copied). A notifier that keeps its
 * name keeps its breaker, bucket and re-posts. Queued rows of a notifier that
 * is gone become dead ("notifier not configured"). */
void delivery_set_notifiers(struct delivery *d, const struct notifier_conf *n, size_t count);

/* Queues a committed pending notification (copied). Its first attempt is due
 * at r->next_attempt_us (wall clock; past: at once). A resolve stops the
 * re-posts of its alert at that notifier. Returns 0, -1 when r is not pending
 * or already queued. */
int delivery_add(struct delivery *d, const struct outbox_row *r);

/* Re-arms the Alertmanager re-post of a firing alert after a restart: for
 * each alertmanager notifier in notify (the rule's list), ev is re-posted
 * every notify_refire_ms(), the first time at once. */
void delivery_refire_arm(struct delivery *d, const struct alert_event *ev,
                         char *const *notify, size_t n_notify);

/* Starts what is due now and schedules the next wake-up. Called by its own
 * timer; tests call it after moving their clock. */
void delivery_poll(struct delivery *d);

/* For a clean stop: nothing new starts (no retry, no queued row), while the
 * attempts in flight run to their answer, so one that reached its receiver
 * is recorded as delivered instead of being sent again at the next start.
 * Wait for delivery_in_flight() == 0, then delivery_stop(). */
void delivery_drain(struct delivery *d);

/* Abandons every attempt in flight (rows stay pending in the database) and
 * stops the timer; nothing starts afterwards. */
void delivery_stop(struct delivery *d);

/* Numbers per notifier, for logs, metrics and tests. */
struct delivery_stats {
	size_t queued;              /* undelivered rows held */
	size_t in_flight;
	uint64_t delivered, failed, dead;   /* attempts' outcomes since start */
	uint64_t refires;           /* re-posts sent */
	enum delivery_breaker_state breaker;
};
/* Fills *out for the named notifier. Returns 0, or -1 when unknown. */
int delivery_get_stats(struct delivery *d, const char *notifier, struct delivery_stats *out);

/* Rows held in total (all notifiers) and in flight. */
size_t delivery_queued(const struct delivery *d);
size_t delivery_in_flight(const struct delivery *d);

#endif

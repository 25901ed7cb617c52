/* outbox.h — notifications as durable rows: the row types the store persists
 * (alert instance state, one notification per notifier of a rule), the stable
 * idempotency key, the transaction unit that carries an alert state change
 * together with the notifications it causes, and the in-memory queue of
 * undelivered notifications that keeps the order per alert.
 *
 * Life of a notification:
 *   engine transition -> outbox_tx_add_event() (one row per notifier of the rule)
 *   -> store_alert_commit() (state + rows in ONE SQLite transaction, never
 *   dropped) -> completion on the loop with the new ids -> delivery_add()
 *   -> attempts (progress written back through the store's writer) ->
 *   delivered | dead. A pending row survives a crash: at start the agent reads
 *   every pending row back (store_outbox_pending) and hands it to delivery.
 *
 * Ordering: for one (notifier, rule, check) only the oldest undelivered
 * notification may be in flight, so a resolve never overtakes its trigger.
 * Rows are ordered by their id (SQLite AUTOINCREMENT: increasing, never
 * reused), which is the commit order of the transitions.
 *
 * Nothing here does I/O. */
#ifndef PHAROS_OUTBOX_H
#define PHAROS_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alerts/alert.h"

enum outbox_state { OUTBOX_PENDING, OUTBOX_DELIVERED, OUTBOX_DEAD };
const char *outbox_state_name(enum outbox_state s);        /* "pending", "delivered", "dead" */
int outbox_state_from_name(const char *name);               /* -1 when unknown */

/* One notification: one event for one notifier. Owned strings; the event is
 * a full copy. Free with outbox_row_clear. */
struct outbox_row {
	int64_t id;                 /* 0 until committed */
	char *key;                  /* idempotency key, see outbox_key() */
	char *notifier;
	struct alert_event event;   /* rule, check, alert_id and kind live here */
	enum outbox_state state;
	int attempts;               /* attempts made so far */
	int64_t created_us;         /* wall clock */
	int64_t next_attempt_us;    /* wall clock; 0: at once */
	int64_t delivered_us;       /* 0 until delivered */
	char *last_error;           /* NULL or a short line without secrets */
	int64_t seq;                /* order within the alert: the event's ts_us */
};
void outbox_row_clear(struct outbox_row *r);
/* A deep copy of src into dst (free with alert_event_clear). */
void alert_event_copy(struct alert_event *dst, const struct alert_event *src);
void outbox_row_copy(struct outbox_row *dst, const struct outbox_row *src);

/* The persisted state of one alert instance (rule, check). */
struct alert_state_row {
	char *rule;
	char *check;
	enum alert_state state;
	int64_t since_us;           /* when the current state began */
	int64_t fired_us;           /* when the episode started firing; 0 when not */
	int64_t last_sent_us;       /* last firing notification (repeat); 0 when none */
	char *alert_id;             /* NULL when ok */
	char *value;                /* last failing value, NULL when none */
	bool gone;                  /* in a tx: delete the stored row instead */
};
void alert_state_row_clear(struct alert_state_row *r);
void alert_state_row_copy(struct alert_state_row *dst, const struct alert_state_row *src);

/* One transition as the alert history keeps it (API "recent history"). */
struct alert_history_row {
	char *rule;
	char *check;
	char *alert_id;
	char *from_state;           /* "ok", "pending", "firing" */
	char *to_state;
	int64_t ts_us;
	char *value;
};
void alert_history_row_clear(struct alert_history_row *r);

/* The idempotency key of a notification:
 * "<alert_id>-<kind>-<n>-<notifier>", every character outside
 * [A-Za-z0-9_-] turned into '_' (Standard Webhooks forbids '.'), at most 180
 * characters (a long notifier name is cut and suffixed with a hash so keys
 * stay unique). n tells repeats of one episode apart (the event's
 * ts_us / 1000). Stable: the same inputs always give the same key. Caller
 * frees. */
char *outbox_key(const char *alert_id, enum alert_event_kind kind, int64_t n, const char *notifier);

/* A unit the store commits in one transaction: alert state upserts, the
 * notifications they cause and history lines. Owned arrays. */
struct outbox_tx {
	struct alert_state_row *states;
	size_t n_states;
	struct outbox_row *rows;
	size_t n_rows;
	struct alert_history_row *history;
	size_t n_history;
};
void outbox_tx_clear(struct outbox_tx *tx);
/* Moves everything of src into dst (src ends empty). */
void outbox_tx_move(struct outbox_tx *dst, struct outbox_tx *src);
/* Appends a copy of st (an upsert of that instance's state). */
void outbox_tx_add_state(struct outbox_tx *tx, const struct alert_state_row *st);
/* Appends a history line. */
void outbox_tx_add_history(struct outbox_tx *tx, const struct alert_history_row *h);
/* Appends one pending notification of ev for each of the n_notify notifier
 * names (the rule's notify list), created at now_us. Names listed twice are
 * sent once. Returns how many rows were added. */
size_t outbox_tx_add_event(struct outbox_tx *tx, const struct alert_event *ev,
                           char *const *notify, size_t n_notify, int64_t now_us);
bool outbox_tx_empty(const struct outbox_tx *tx);

/* --- the in-memory queue of undelivered notifications (delivery's) ------- */

struct outbox_queue;

struct outbox_queue *outbox_queue_new(void);
void outbox_queue_free(struct outbox_queue *q);

/* Takes a copy of r (which must have an id). A row whose id is already
 * queued is ignored (returns -1); 0 otherwise. due_ms: earliest time (the
 * caller's clock) it may be attempted. */
int outbox_queue_add(struct outbox_queue *q, const struct outbox_row *r, uint64_t due_ms);

/* The queued row with that id, or NULL. The pointer is valid until the row
 * is removed. */
struct outbox_row *outbox_queue_get(struct outbox_queue *q, int64_t id);

/* Removes the row (delivered, dead or given up). */
void outbox_queue_remove(struct outbox_queue *q, int64_t id);

/* Marks a row in flight (true) or back to waiting with a new due time. */
void outbox_queue_set_in_flight(struct outbox_queue *q, int64_t id, bool in_flight);
void outbox_queue_set_due(struct outbox_queue *q, int64_t id, uint64_t due_ms);

/* The oldest row of notifier that may be attempted at now_ms: not in flight,
 * due, and with no older queued row of the same (notifier, rule, check).
 * NULL when none. *next_due_ms (may be NULL) receives the earliest time a
 * blocked-by-time head row of this notifier becomes due (UINT64_MAX: none). */
struct outbox_row *outbox_queue_next(struct outbox_queue *q, const char *notifier,
                                     uint64_t now_ms, uint64_t *next_due_ms);

/* True when a row of (notifier, rule, check) other than except_id is queued. */
bool outbox_queue_has_alert(struct outbox_queue *q, const char *notifier, const char *rule,
                            const char *check, int64_t except_id);

/* Rows queued, in flight, and queued for notifier (NULL: all). */
size_t outbox_queue_count(const struct outbox_queue *q, const char *notifier);
size_t outbox_queue_in_flight(const struct outbox_queue *q, const char *notifier);

#endif

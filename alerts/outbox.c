/* outbox.c — notification rows, idempotency keys, the transaction unit of
 * "state change + notifications", and the in-memory queue that keeps the
 * order per alert for delivery. No I/O: the store persists, delivery sends.
 *
 * The queue is an array sorted by id. Each entry knows whether it is the
 * head of its (notifier, rule, check) chain, i.e. the oldest undelivered
 * notification of that alert at that notifier: only heads may be attempted.
 * The head flag is kept up to date on add and remove (O(n) each), so picking
 * the next row to send is one scan without allocations. Queues hold the
 * undelivered notifications only: normally a handful, tens of thousands at
 * worst (a mass outage with a receiver down), where O(n) per event is still
 * well under a millisecond. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alerts/outbox.h"
#include "core/util.h"

#define KEY_LEN_MAX 180

/* --- states and rows --------------------------------------------------------- */

static const char *const state_names[] = { "pending", "delivered", "dead" };

/* The state's name as stored and shown by the API. */
const char *outbox_state_name(enum outbox_state s)
{
	return (unsigned)s < 3 ? state_names[s] : "pending";
}

/* The state of a stored name, or -1. */
int outbox_state_from_name(const char *name)
{
	for (int i = 0; name != NULL && i < 3; i++)
		if (strcmp(name, state_names[i]) == 0)
			return i;
	return -1;
}

/* Copies every string field of src's event into dst (a deep copy). */
void alert_event_copy(struct alert_event *dst, const struct alert_event *src)
{
	*dst = *src;
	dst->rule = xstrdup(src->rule);
	dst->check = xstrdup(src->check);
	dst->group = xstrdup(src->group);
	dst->alert_id = xstrdup(src->alert_id);
	dst->value = xstrdup(src->value);
	dst->message = xstrdup(src->message);
	dst->url = xstrdup(src->url);
	dst->expr = xstrdup(src->expr);
	dst->location = xstrdup(src->location);
	dst->run_id = xstrdup(src->run_id);
}

/* Frees what r holds and zeroes it. */
void outbox_row_clear(struct outbox_row *r)
{
	if (r == NULL)
		return;
	free(r->key);
	free(r->notifier);
	free(r->last_error);
	alert_event_clear(&r->event);
	memset(r, 0, sizeof(*r));
}

/* A deep copy of src into dst (dst's old content is not freed). */
void outbox_row_copy(struct outbox_row *dst, const struct outbox_row *src)
{
	*dst = *src;
	dst->key = xstrdup(src->key);
	dst->notifier = xstrdup(src->notifier);
	dst->last_error = xstrdup(src->last_error);
	alert_event_copy(&dst->event, &src->event);
}

/* Frees what r holds and zeroes it. */
void alert_state_row_clear(struct alert_state_row *r)
{
	if (r == NULL)
		return;
	free(r->rule);
	free(r->check);
	free(r->alert_id);
	free(r->value);
	memset(r, 0, sizeof(*r));
}

/* A deep copy of src into dst. */
void alert_state_row_copy(struct alert_state_row *dst, const struct alert_state_row *src)
{
	*dst = *src;
	dst->rule = xstrdup(src->rule);
	dst->check = xstrdup(src->check);
	dst->alert_id = xstrdup(src->alert_id);
	dst->value = xstrdup(src->value);
}

/* Frees what r holds and zeroes it. */
void alert_history_row_clear(struct alert_history_row *r)
{
	if (r == NULL)
		return;
	free(r->rule);
	free(r->check);
	free(r->alert_id);
	free(r->from_state);
	free(r->to_state);
	free(r->value);
	memset(r, 0, sizeof(*r));
}

/* --- keys -------------------------------------------------------------------- */

static const char *kind_name(enum alert_event_kind k)
{
	switch (k) {
	case ALERT_EVENT_FIRING:   return "firing";
	case ALERT_EVENT_RESOLVED: return "resolved";
	case ALERT_EVENT_TEST:     return "test";
	}
	return "event";
}

/* Replaces every byte outside [A-Za-z0-9_-] with '_'. */
static void key_sanitize(char *s)
{
	for (; *s != '\0'; s++) {
		char c = *s;

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-'))
			*s = '_';
	}
}

/* "<alert_id>-<kind>-<n>-<notifier>", sanitized and bounded (see outbox.h). */
char *outbox_key(const char *alert_id, enum alert_event_kind kind, int64_t n, const char *notifier)
{
	char *key = xasprintf("%s-%s-%lld-%s", alert_id ? alert_id : "none", kind_name(kind),
	                      (long long)n, notifier ? notifier : "none");

	if (strlen(key) > KEY_LEN_MAX) {
		/* Cut, then append a hash of the whole key so two long names that
		 * share a prefix still get different keys. */
		char *cut = xasprintf("%.*s-%016llx", KEY_LEN_MAX - 17, key,
		                      (unsigned long long)util_hash64(key));

		free(key);
		key = cut;
	}
	key_sanitize(key);
	return key;
}

/* --- transactions ------------------------------------------------------------ */

void outbox_tx_clear(struct outbox_tx *tx)
{
	if (tx == NULL)
		return;
	for (size_t i = 0; i < tx->n_states; i++)
		alert_state_row_clear(&tx->states[i]);
	for (size_t i = 0; i < tx->n_rows; i++)
		outbox_row_clear(&tx->rows[i]);
	for (size_t i = 0; i < tx->n_history; i++)
		alert_history_row_clear(&tx->history[i]);
	free(tx->states);
	free(tx->rows);
	free(tx->history);
	memset(tx, 0, sizeof(*tx));
}

void outbox_tx_move(struct outbox_tx *dst, struct outbox_tx *src)
{
	*dst = *src;
	memset(src, 0, sizeof(*src));
}

bool outbox_tx_empty(const struct outbox_tx *tx)
{
	return tx->n_states == 0 && tx->n_rows == 0 && tx->n_history == 0;
}

/* Upserts of one instance in one transaction: the last one wins, so an
 * earlier entry for the same (rule, check) is replaced rather than kept. */
void outbox_tx_add_state(struct outbox_tx *tx, const struct alert_state_row *st)
{
	for (size_t i = 0; i < tx->n_states; i++) {
		if (strcmp(tx->states[i].rule, st->rule) == 0 &&
		    strcmp(tx->states[i].check, st->check) == 0) {
			alert_state_row_clear(&tx->states[i]);
			alert_state_row_copy(&tx->states[i], st);
			return;
		}
	}
	tx->states = xrealloc(tx->states, (tx->n_states + 1) * sizeof(*tx->states));
	alert_state_row_copy(&tx->states[tx->n_states++], st);
}

void outbox_tx_add_history(struct outbox_tx *tx, const struct alert_history_row *h)
{
	struct alert_history_row *d;

	tx->history = xrealloc(tx->history, (tx->n_history + 1) * sizeof(*tx->history));
	d = &tx->history[tx->n_history++];
	*d = *h;
	d->rule = xstrdup(h->rule);
	d->check = xstrdup(h->check);
	d->alert_id = xstrdup(h->alert_id);
	d->from_state = xstrdup(h->from_state);
	d->to_state = xstrdup(h->to_state);
	d->value = xstrdup(h->value);
}

size_t outbox_tx_add_event(struct outbox_tx *tx, const struct alert_event *ev,
                           char *const *notify, size_t n_notify, int64_t now_us)
{
	size_t added = 0;

	for (size_t i = 0; i < n_notify; i++) {
		struct outbox_row *r;
		bool dup = false;

		for (size_t k = 0; k < i; k++)
			dup = dup || strcmp(notify[k], notify[i]) == 0;
		if (dup || notify[i] == NULL)
			continue;
		tx->rows = xrealloc(tx->rows, (tx->n_rows + 1) * sizeof(*tx->rows));
		r = &tx->rows[tx->n_rows++];
		memset(r, 0, sizeof(*r));
		r->notifier = xstrdup(notify[i]);
		alert_event_copy(&r->event, ev);
		r->key = outbox_key(ev->alert_id, ev->kind, ev->ts_us / 1000, notify[i]);
		r->state = OUTBOX_PENDING;
		r->created_us = now_us;
		r->next_attempt_us = now_us;
		r->seq = ev->ts_us;
		added++;
	}
	return added;
}

/* --- queue ------------------------------------------------------------------- */

struct qentry {
	struct outbox_row row;
	uint64_t due_ms;
	bool in_flight;
	bool head;                  /* oldest queued of its (notifier, rule, check) */
};

struct outbox_queue {
	struct qentry **v;          /* sorted by row.id */
	size_t n, cap;
};

struct outbox_queue *outbox_queue_new(void)
{
	return xcalloc(1, sizeof(struct outbox_queue));
}

void outbox_queue_free(struct outbox_queue *q)
{
	if (q == NULL)
		return;
	for (size_t i = 0; i < q->n; i++) {
		outbox_row_clear(&q->v[i]->row);
		free(q->v[i]);
	}
	free(q->v);
	free(q);
}

static bool same_alert(const struct outbox_row *a, const struct outbox_row *b)
{
	return strcmp(a->notifier, b->notifier) == 0 &&
	       strcmp(a->event.rule, b->event.rule) == 0 &&
	       strcmp(a->event.check, b->event.check) == 0;
}

/* Index of the first entry with id >= id (binary search). */
static size_t lower_bound(const struct outbox_queue *q, int64_t id)
{
	size_t lo = 0, hi = q->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (q->v[mid]->row.id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Recomputes the head flag of every entry of e's alert chain. O(n). */
static void rehead(struct outbox_queue *q, const struct outbox_row *like)
{
	bool seen = false;

	for (size_t i = 0; i < q->n; i++) {
		if (!same_alert(&q->v[i]->row, like))
			continue;
		q->v[i]->head = !seen;
		seen = true;
	}
}

int outbox_queue_add(struct outbox_queue *q, const struct outbox_row *r, uint64_t due_ms)
{
	size_t at = lower_bound(q, r->id);
	struct qentry *e;

	if (r->event.rule == NULL || r->event.check == NULL || r->notifier == NULL)
		return -1;
	if (at < q->n && q->v[at]->row.id == r->id)
		return -1;
	if (q->n == q->cap) {
		q->cap = q->cap ? q->cap * 2 : 16;
		q->v = xrealloc(q->v, q->cap * sizeof(*q->v));
	}
	e = xcalloc(1, sizeof(*e));
	outbox_row_copy(&e->row, r);
	e->due_ms = due_ms;
	memmove(&q->v[at + 1], &q->v[at], (q->n - at) * sizeof(*q->v));
	q->v[at] = e;
	q->n++;
	rehead(q, &e->row);
	return 0;
}

static struct qentry *find(struct outbox_queue *q, int64_t id)
{
	size_t at = lower_bound(q, id);

	return at < q->n && q->v[at]->row.id == id ? q->v[at] : NULL;
}

struct outbox_row *outbox_queue_get(struct outbox_queue *q, int64_t id)
{
	struct qentry *e = find(q, id);

	return e ? &e->row : NULL;
}

void outbox_queue_remove(struct outbox_queue *q, int64_t id)
{
	size_t at = lower_bound(q, id);
	struct qentry *e;

	if (at >= q->n || q->v[at]->row.id != id)
		return;
	e = q->v[at];
	memmove(&q->v[at], &q->v[at + 1], (q->n - at - 1) * sizeof(*q->v));
	q->n--;
	rehead(q, &e->row);
	outbox_row_clear(&e->row);
	free(e);
}

void outbox_queue_set_in_flight(struct outbox_queue *q, int64_t id, bool in_flight)
{
	struct qentry *e = find(q, id);

	if (e != NULL)
		e->in_flight = in_flight;
}

void outbox_queue_set_due(struct outbox_queue *q, int64_t id, uint64_t due_ms)
{
	struct qentry *e = find(q, id);

	if (e != NULL)
		e->due_ms = due_ms;
}

struct outbox_row *outbox_queue_next(struct outbox_queue *q, const char *notifier,
                                     uint64_t now_ms, uint64_t *next_due_ms)
{
	uint64_t next = UINT64_MAX;

	for (size_t i = 0; i < q->n; i++) {
		struct qentry *e = q->v[i];

		if (!e->head || e->in_flight || strcmp(e->row.notifier, notifier) != 0)
			continue;
		if (e->due_ms <= now_ms) {
			if (next_due_ms != NULL)
				*next_due_ms = now_ms;
			return &e->row;
		}
		if (e->due_ms < next)
			next = e->due_ms;
	}
	if (next_due_ms != NULL)
		*next_due_ms = next;
	return NULL;
}

bool outbox_queue_has_alert(struct outbox_queue *q, const char *notifier, const char *rule,
                            const char *check, int64_t except_id)
{
	for (size_t i = 0; i < q->n; i++) {
		const struct outbox_row *r = &q->v[i]->row;

		if (r->id != except_id && strcmp(r->notifier, notifier) == 0 &&
		    strcmp(r->event.rule, rule) == 0 && strcmp(r->event.check, check) == 0)
			return true;
	}
	return false;
}

size_t outbox_queue_count(const struct outbox_queue *q, const char *notifier)
{
	size_t n = 0;

	for (size_t i = 0; i < q->n; i++)
		if (notifier == NULL || strcmp(q->v[i]->row.notifier, notifier) == 0)
			n++;
	return n;
}

size_t outbox_queue_in_flight(const struct outbox_queue *q, const char *notifier)
{
	size_t n = 0;

	for (size_t i = 0; i < q->n; i++)
		if (q->v[i]->in_flight &&
		    (notifier == NULL || strcmp(q->v[i]->row.notifier, notifier) == 0))
			n++;
	return n;
}

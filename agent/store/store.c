/* store.c — the store's shared writer: one thread that commits queued
 * results and alert/outbox operations in batches through the implementation
 * chosen from agent.database (store_impl.h; SQLite in store_sqlite.c,
 * PostgreSQL in store_pg.c). The choice is made above it, in store_open.c:
 * the writer never names an implementation, so the implementations can build
 * on store_impl.h without a cycle.
 *
 * Writer: store_append() (loop thread) copies a result into a FIFO queue under
 * a mutex and returns; the writer thread hands up to BATCH_MAX rows per
 * transaction to the implementation's commit, about every BATCH_WINDOW_US. A
 * failed commit keeps its rows at the head of the queue and is retried with a
 * capped backoff; the store is reported unhealthy with the database's message
 * until a commit succeeds. The queue is bounded: past QUEUE_MAX rows the
 * oldest are dropped (and counted) so that a dead disk cannot eat the agent's
 * memory.
 *
 * Flushing uses sequence numbers: every row gets the next seq; seq_done says
 * that every row up to it is committed (or was dropped). A flush waits for
 * seq_done to reach the last seq assigned before the call, or for a commit
 * attempt started after the call to fail — so it never hangs on a dead disk.
 *
 * Alerts: alert units (state upserts + notification inserts + history),
 * delivery progress updates and requeues travel in a second FIFO of "ops"
 * that shares the seq numbers. Every transaction takes all queued ops along
 * with its results batch; ops are never dropped on overflow (only at close
 * when commits keep failing), and their completion callbacks run on the
 * writer thread after the COMMIT and before a flush that covers them returns. */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/database.h"
#include "core/log.h"
#include "core/util.h"
#include "store/store_impl.h"

#define BATCH_MAX        500            /* rows per transaction */
#define BATCH_WINDOW_US  100000         /* commit at most this long after a row arrives */
#define QUEUE_MAX        STORE_QUEUE_MAX  /* rows kept while commits fail */
#define BACKOFF_MIN_US   100000
#define BACKOFF_MAX_US   5000000

struct store {
	struct store_conn *conn;    /* the implementation's writer connection */
	char *path;                 /* agent.database without password, for log lines */
	struct store_op *ops_head, *ops_tail;     /* guarded by lock */

	pthread_t thread;
	pthread_mutex_t lock;       /* guards everything below */
	pthread_cond_t wake;        /* writer waits: rows, stop */
	pthread_cond_t progress;    /* flushers wait: commit or failure */
	struct store_row *head, *tail;
	size_t n_queued;            /* rows in the list (not those being committed) */
	uint64_t seq_last;          /* last seq assigned */
	uint64_t seq_done;          /* every row <= this is committed or dropped */
	uint64_t attempts;          /* commit attempts started */
	uint64_t failed_attempt;    /* number of the last attempt that failed */
	uint64_t dropped;           /* rows dropped: queue overflow or given up at close */
	int flush_waiters;          /* a flush cuts the gathering window short */
	uint64_t flush_requests;    /* flush calls so far: one cuts a backoff short */
	bool stopping;
	bool healthy;
	char last_error[256];
	/* agent.location, recorded in every row. Queued rows point to it, so a
	 * replaced value is kept (in old_locations) until the store closes. */
	char *location;
	char **old_locations;
	size_t n_old_locations;
};

/* --- helpers ----------------------------------------------------------------- */

static void row_free(struct store_row *w)
{
	free(w->check);
	free(w->message);
	free(w->details);
	free(w);
}


static void now_plus(struct timespec *ts, uint64_t us)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += (time_t)(us / 1000000u);
	ts->tv_nsec += (long)(us % 1000000u) * 1000;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static void fleet_op_free(struct store_fleet_op *f)
{
	if (f == NULL)
		return;
	free(f->rule);
	free(f->check);
	free(f->location);
	free(f->value);
	if (f->has_event)
		alert_event_clear(&f->event);
	for (size_t i = 0; i < f->n_notify; i++)
		free(f->notify[i]);
	free(f->notify);
	free(f);
}

static void op_free(struct store_op *o)
{
	fleet_op_free(o->fleet);
	free(o->owner);
	outbox_tx_clear(&o->tx);
	free((char *)o->upd.last_error);
	free(o->note_status);
	free(o->note_message);
	free(o->ids);
	free(o);
}


/* Drops the oldest queued rows until at most keep remain. Lock held. */
static void drop_oldest(struct store *s, size_t keep, const char *why)
{
	size_t n = 0;

	while (s->n_queued > keep && s->head != NULL) {
		struct store_row *w = s->head;

		s->head = w->next;
		if (s->head == NULL)
			s->tail = NULL;
		s->n_queued--;
		row_free(w);
		n++;
	}
	if (n == 0)
		return;
	/* Log the first drop and then every 1000th, not one line per result. */
	if (s->dropped == 0 || (s->dropped + n) / 1000 != s->dropped / 1000) {
		char nb[24], tb[24];

		snprintf(nb, sizeof(nb), "%zu", n);
		snprintf(tb, sizeof(tb), "%" PRIu64, s->dropped + n);
		log_error("store: results dropped", "reason", why, "count", nb, "dropped_total", tb,
		          "error", s->last_error);
	}
	s->dropped += n;
}

/* At close with commits failing: alert units cannot be kept anywhere else.
 * Their state change is lost with them, so the next start re-evaluates from
 * the state in the database and notifies again if still due. Lock held. */
static void ops_give_up(struct store *s)
{
	size_t n = 0;

	while (s->ops_head != NULL) {
		struct store_op *o = s->ops_head;

		s->ops_head = o->next;
		if (o->done != NULL)
			o->done(-1, NULL, 0, o->arg);
		if (o->rows_done != NULL)
			o->rows_done(-1, 0, NULL, 0, o->arg);
		op_free(o);
		n++;
	}
	s->ops_tail = NULL;
	if (n > 0) {
		char nb[24];

		snprintf(nb, sizeof(nb), "%zu", n);
		log_error("store: alert state and notification updates not written", "count", nb,
		          "error", s->last_error);
	}
}

/* Lets a batch gather for up to BATCH_WINDOW_US from the oldest row's (or
 * op's) arrival, unless a flush, a full batch or stop cuts it short. Lock
 * held. Returns false when the queues emptied meanwhile. */
static bool writer_gather(struct store *s)
{
	struct timespec deadline;
	uint64_t now, first, due;

	if (s->stopping || s->flush_waiters > 0 || s->n_queued >= BATCH_MAX)
		return true;
	now = util_mono_us();
	first = s->head != NULL ? s->head->enqueued_us : UINT64_MAX;
	if (s->ops_head != NULL && s->ops_head->enqueued_us < first)
		first = s->ops_head->enqueued_us;
	due = first + BATCH_WINDOW_US;
	now_plus(&deadline, due > now ? due - now : 0);
	while (!s->stopping && s->flush_waiters == 0 && s->n_queued < BATCH_MAX &&
	       (s->head != NULL || s->ops_head != NULL) &&
	       pthread_cond_timedwait(&s->wake, &s->lock, &deadline) == 0)
		;
	return s->head != NULL || s->ops_head != NULL;
}

/* One batch taken off the queues: up to BATCH_MAX rows and every op. */
struct batch {
	struct store_row *rows, *last;
	size_t n;
	struct store_op *ops, *last_op;
};

/* Detaches a batch from the heads of the queues. Lock held. */
static void writer_detach(struct store *s, struct batch *b)
{
	memset(b, 0, sizeof(*b));
	if (s->head != NULL) {
		b->rows = b->last = s->head;
		for (b->n = 1; b->n < BATCH_MAX && b->last->next != NULL; b->n++)
			b->last = b->last->next;
		s->head = b->last->next;
		if (s->head == NULL)
			s->tail = NULL;
		b->last->next = NULL;
		s->n_queued -= b->n;
	}
	b->ops = s->ops_head;
	b->last_op = s->ops_tail;
	s->ops_head = s->ops_tail = NULL;
}

/* After a commit: frees the rows, runs the completions, marks progress and
 * runs one retention step. Called and returns with the lock held. */
static void writer_committed(struct store *s, struct batch *b)
{
	uint64_t pending = UINT64_MAX;

	pthread_mutex_unlock(&s->lock);
	while (b->rows != NULL) {
		struct store_row *next = b->rows->next;

		row_free(b->rows);
		b->rows = next;
	}
	/* Completions only after the commit (delivery starts from them), and
	 * before a flush returns: a flush covers them. */
	while (b->ops != NULL) {
		struct store_op *next = b->ops->next;

		if (b->ops->done != NULL)
			b->ops->done(0, b->ops->ids, b->ops->n_ids, b->ops->arg);
		if (b->ops->rows_done != NULL)
			b->ops->rows_done(0, b->ops->episode, b->ops->tx.rows, b->ops->tx.n_rows,
			                  b->ops->arg);
		op_free(b->ops);
		b->ops = next;
	}
	pthread_mutex_lock(&s->lock);
	if (!s->healthy)
		log_info("store: commits succeed again");
	s->healthy = true;
	s->last_error[0] = '\0';
	/* Rows and ops each stay in seq order: everything below the oldest
	 * still queued is done. */
	if (s->head != NULL)
		pending = s->head->seq;
	if (s->ops_head != NULL && s->ops_head->seq < pending)
		pending = s->ops_head->seq;
	s->seq_done = pending == UINT64_MAX ? s->seq_last : pending - 1;
	pthread_cond_broadcast(&s->progress);
	/* Retention: at most one short step between batches, after the
	 * flushers were released. */
	pthread_mutex_unlock(&s->lock);
	s->conn->ops->maintain(s->conn, util_wall_us());
	pthread_mutex_lock(&s->lock);
}

/* After a failed commit: the rows and ops go back in front, in order; the
 * store turns unhealthy. Returns true when the writer must stop (closing:
 * everything left was dropped or given up). Lock held. */
static bool writer_failed(struct store *s, struct batch *b, uint64_t attempt, const char *err)
{
	if (b->rows != NULL) {
		b->last->next = s->head;
		s->head = b->rows;
		if (s->tail == NULL)
			s->tail = b->last;
		s->n_queued += b->n;
	}
	if (b->ops != NULL) {
		b->last_op->next = s->ops_head;
		s->ops_head = b->ops;
		if (s->ops_tail == NULL)
			s->ops_tail = b->last_op;
	}
	s->healthy = false;
	util_strlcpy(s->last_error, err, sizeof(s->last_error));
	s->failed_attempt = attempt;
	log_error("store: commit failed, will retry", "error", err, "path", s->path);
	drop_oldest(s, QUEUE_MAX, "queue full while commits fail");
	pthread_cond_broadcast(&s->progress);
	if (!s->stopping)
		return false;
	drop_oldest(s, 0, "store closing while commits fail");
	ops_give_up(s);
	s->seq_done = s->seq_last;
	pthread_cond_broadcast(&s->progress);
	return true;
}

/* The writer thread: waits for rows, lets a batch gather, commits it through
 * the implementation without holding the lock, and on failure puts it back
 * at the head and backs off. */
static void *writer_main(void *arg)
{
	struct store *s = arg;
	uint64_t backoff_us = 0;

	pthread_setname_np(pthread_self(), "pharos-writer");
	pthread_mutex_lock(&s->lock);
	for (;;) {
		struct timespec deadline;
		struct batch b;
		uint64_t attempt, flushes_seen;
		char err[256];
		int rc;

		while (!s->stopping && s->head == NULL && s->ops_head == NULL)
			pthread_cond_wait(&s->wake, &s->lock);
		if (s->head == NULL && s->ops_head == NULL)     /* stopping and nothing left */
			break;
		if (!writer_gather(s))
			continue;
		writer_detach(s, &b);
		attempt = ++s->attempts;
		flushes_seen = s->flush_requests;
		pthread_mutex_unlock(&s->lock);

		rc = s->conn->ops->commit(s->conn, b.rows, b.n, b.ops, err, sizeof(err));

		pthread_mutex_lock(&s->lock);
		if (rc == 0) {
			writer_committed(s, &b);
			backoff_us = 0;
			continue;
		}
		if (writer_failed(s, &b, attempt, err))
			break;
		backoff_us = backoff_us == 0 ? BACKOFF_MIN_US : backoff_us * 2;
		if (backoff_us > BACKOFF_MAX_US)
			backoff_us = BACKOFF_MAX_US;
		/* A flush that arrives during the backoff gets its own attempt at
		 * once; one that this attempt already answered does not. */
		now_plus(&deadline, backoff_us);
		while (!s->stopping && s->flush_requests == flushes_seen &&
		       pthread_cond_timedwait(&s->wake, &s->lock, &deadline) == 0)
			;
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

/* --- writer API -------------------------------------------------------------- */

struct store *store_start(const struct store_ops *ops, const char *path, char *err,
                          size_t errlen)
{
	struct store_conn *conn;
	struct store *s;
	pthread_condattr_t ca;
	char shown[512];

	conn = ops->open(path, err, errlen);
	if (conn == NULL)
		return NULL;
	s = xcalloc(1, sizeof(*s));
	s->conn = conn;
	s->path = xstrdup(database_display(path, shown, sizeof(shown)));
	s->healthy = true;
	pthread_mutex_init(&s->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->wake, &ca);
	pthread_cond_init(&s->progress, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&s->thread, NULL, writer_main, s) != 0) {
		snprintf(err, errlen, "cannot start the store writer thread: %s", strerror(errno));
		pthread_cond_destroy(&s->wake);
		pthread_cond_destroy(&s->progress);
		pthread_mutex_destroy(&s->lock);
		conn->ops->close(conn);
		free(s->path);
		free(s);
		return NULL;
	}
	log_debug("store: opened", "store", ops->name, "path", s->path);
	return s;
}

/* Flushes, stops and joins the writer, then closes the database. Rows that
 * still cannot be committed at this point are dropped with an error log. */
void store_close(struct store *s)
{
	if (s == NULL)
		return;
	store_flush(s);
	pthread_mutex_lock(&s->lock);
	s->stopping = true;
	pthread_cond_signal(&s->wake);
	pthread_mutex_unlock(&s->lock);
	pthread_join(s->thread, NULL);
	/* The writer leaves nothing queued: it commits or drops all before exiting. */
	assert(s->head == NULL && s->ops_head == NULL);
	s->conn->ops->close(s->conn);
	pthread_cond_destroy(&s->wake);
	pthread_cond_destroy(&s->progress);
	pthread_mutex_destroy(&s->lock);
	free(s->location);
	for (size_t i = 0; i < s->n_old_locations; i++)
		free(s->old_locations[i]);
	free(s->old_locations);
	free(s->path);
	free(s);
}

/* Keeps the previous value alive for the rows that point to it; a reload
 * that keeps the location allocates nothing. */
void store_set_location(struct store *s, const char *location)
{
	if (s == NULL)
		return;
	if (location == NULL)
		location = "";
	pthread_mutex_lock(&s->lock);
	if (s->location == NULL || strcmp(s->location, location) != 0) {
		if (s->location != NULL) {
			s->old_locations = xrealloc(s->old_locations,
			                            (s->n_old_locations + 1) * sizeof(*s->old_locations));
			s->old_locations[s->n_old_locations++] = s->location;
		}
		s->location = xstrdup(location);
	}
	pthread_mutex_unlock(&s->lock);
}

/* Whether jansson allocates with malloc and free (its default), so what
 * json_dumps returns may be freed like any other field of a row. */
static bool jansson_uses_malloc(void)
{
	json_malloc_t m;
	json_free_t f;

	json_get_alloc_funcs(&m, &f);
	return m == malloc && f == free;
}

/* Copies r into a queue row for check and wakes the writer when a batch is
 * full. Never touches the disk; O(1) apart from the copies. */
static void append_row(struct store *s, const char *check, const struct probe_result *r,
                       bool blocked)
{
	struct store_row *w;

	if (s == NULL || check == NULL || r == NULL)
		return;
	w = xcalloc(1, sizeof(*w));
	w->blocked = blocked && !r->ok;

	w->check = xstrdup(check);
	w->ts_us = r->start_us;
	w->duration_us = r->duration_us;
	w->ok = r->ok;
	w->error = probe_error_name(r->error);
	w->message = xstrdup(r->message);
	w->dns_us = r->dns_us;
	w->connect_us = r->connect_us;
	w->tls_us = r->tls_us;
	w->ttfb_us = r->ttfb_us;
	w->status_code = r->status_code;
	w->bytes = r->bytes;
	w->cert_expiry = r->cert_expiry;
	w->attempts = r->attempts;
	util_strlcpy(w->run_id, r->run_id, sizeof(w->run_id));
	if (r->details != NULL)
		w->details = json_dumps(r->details, JSON_COMPACT);
	/* Keep one allocator per field: a copy only when jansson was given its
	 * own (it uses malloc and free unless told otherwise). */
	if (w->details != NULL && !jansson_uses_malloc()) {
		char *d = xstrdup(w->details);

		free(w->details);
		w->details = d;
	}
	w->enqueued_us = util_mono_us();

	pthread_mutex_lock(&s->lock);
	w->location = s->location != NULL ? s->location : "";
	if (s->n_queued >= QUEUE_MAX)
		drop_oldest(s, QUEUE_MAX - 1, "queue full while commits fail");
	w->seq = ++s->seq_last;
	if (s->tail != NULL)
		s->tail->next = w;
	else
		s->head = w;
	s->tail = w;
	s->n_queued++;
	/* The writer sleeps until the first row or a full batch. */
	if (s->n_queued == 1 || s->n_queued == BATCH_MAX)
		pthread_cond_signal(&s->wake);
	pthread_mutex_unlock(&s->lock);
}

void store_append(struct store *s, const char *check, const struct probe_result *r)
{
	append_row(s, check, r, false);
}

void store_append_blocked(struct store *s, const char *check, const struct probe_result *r)
{
	append_row(s, check, r, true);
}

/* Queues o (never dropped) and wakes the writer. */
static void op_enqueue(struct store *s, struct store_op *o)
{
	o->enqueued_us = util_mono_us();
	pthread_mutex_lock(&s->lock);
	o->seq = ++s->seq_last;
	if (s->ops_tail != NULL)
		s->ops_tail->next = o;
	else
		s->ops_head = o;
	s->ops_tail = o;
	pthread_cond_signal(&s->wake);
	pthread_mutex_unlock(&s->lock);
}

/* Queues an alert unit (moved out of tx) for the next transaction. */
void store_alert_commit(struct store *s, struct outbox_tx *tx, store_commit_fn *done, void *arg)
{
	struct store_op *o;

	if (s == NULL) {
		outbox_tx_clear(tx);
		if (done != NULL)
			done(-1, NULL, 0, arg);
		return;
	}
	o = xcalloc(1, sizeof(*o));
	o->type = STORE_OP_ALERT;
	outbox_tx_move(&o->tx, tx);
	o->done = done;
	o->arg = arg;
	op_enqueue(s, o);
}

/* Queues a progress update of one notification. */
void store_outbox_update(struct store *s, const struct store_outbox_update *u)
{
	struct store_op *o;

	if (s == NULL || u == NULL)
		return;
	o = xcalloc(1, sizeof(*o));
	o->type = STORE_OP_UPDATE;
	o->upd = *u;
	o->upd.last_error = xstrdup(u->last_error);
	op_enqueue(s, o);
}

/* Queues "dead -> pending" for notification id. */
void store_outbox_requeue(struct store *s, int64_t id, int64_t now_us, store_commit_fn *done,
                          void *arg)
{
	struct store_op *o;

	if (s == NULL) {
		if (done != NULL)
			done(-1, NULL, 0, arg);
		return;
	}
	o = xcalloc(1, sizeof(*o));
	o->type = STORE_OP_REQUEUE;
	o->upd.id = id;
	o->now_us = now_us;
	o->done = done;
	o->arg = arg;
	op_enqueue(s, o);
}

/* Queues a status update of incident id; -2 at once when the store keeps no
 * incidents (its ops leave them out). */
void store_incident_update(struct store *s, int64_t id, int64_t ts_us, const char *status,
                           const char *message, store_commit_fn *done, void *arg)
{
	struct store_op *o;

	if (s == NULL || s->conn->ops->incidents == NULL) {
		if (done != NULL)
			done(s == NULL ? -1 : -2, NULL, 0, arg);
		return;
	}
	o = xcalloc(1, sizeof(*o));
	o->type = STORE_OP_INCIDENT_UPDATE;
	o->upd.id = id;
	o->now_us = ts_us;
	o->note_status = xstrdup(status);
	o->note_message = xstrdup(message ? message : "");
	o->done = done;
	o->arg = arg;
	op_enqueue(s, o);
}

/* --- the fleet ------------------------------------------------------------------ */

bool store_is_fleet(const struct store *s)
{
	return s != NULL && s->conn->ops->fleet_pairs != NULL;
}

/* A new fleet-type op, or NULL (done called with -1) when s has no fleet. */
static struct store_op *fleet_op_new(struct store *s, enum store_op_type type,
                                     store_rows_fn *done, void *arg)
{
	struct store_op *o;

	if (!store_is_fleet(s)) {
		if (done != NULL)
			done(-1, 0, NULL, 0, arg);
		return NULL;
	}
	o = xcalloc(1, sizeof(*o));
	o->type = type;
	o->rows_done = done;
	o->arg = arg;
	return o;
}

void store_fleet_condition(struct store *s, const struct store_fleet_condition *c,
                           store_rows_fn *done, void *arg)
{
	struct store_op *o = fleet_op_new(s, STORE_OP_FLEET, done, arg);
	struct store_fleet_op *f;

	if (o == NULL)
		return;
	f = o->fleet = xcalloc(1, sizeof(*f));
	f->rule = xstrdup(c->rule);
	f->check = xstrdup(c->check);
	f->location = xstrdup(c->location ? c->location : "");
	f->value = c->value ? xstrdup(c->value) : NULL;
	f->firing = c->firing;
	f->pending_only = c->pending_only;
	f->from = c->from;
	f->to = c->to;
	if (c->event != NULL) {
		alert_event_copy(&f->event, c->event);
		f->has_event = true;
	}
	f->notify = xcalloc(c->n_notify + 1, sizeof(*f->notify));
	for (size_t i = 0; i < c->n_notify; i++)
		f->notify[f->n_notify++] = xstrdup(c->notify[i]);
	f->min_locations = c->min_locations;
	f->interval_us = c->interval_us;
	f->repeat_us = c->repeat_us;
	op_enqueue(s, o);
}

void store_fleet_sweep(struct store *s, const char *location, store_rows_fn *done, void *arg)
{
	struct store_op *o = fleet_op_new(s, STORE_OP_FLEET_SWEEP, done, arg);

	if (o == NULL)
		return;
	o->owner = xstrdup(location ? location : "");
	op_enqueue(s, o);
}

void store_fleet_leases(struct store *s, const char *owner, bool adopt_own,
                        char *const *notifiers, size_t n_notifiers, store_rows_fn *done,
                        void *arg)
{
	struct store_op *o = fleet_op_new(s, STORE_OP_LEASES, done, arg);
	json_t *names;

	if (o == NULL)
		return;
	o->owner = xstrdup(owner ? owner : "");
	o->adopt_own = adopt_own;
	names = json_array();
	for (size_t i = 0; i < n_notifiers; i++)
		json_array_append_new(names, json_string(notifiers[i]));
	o->note_message = json_dumps(names, JSON_COMPACT);
	json_decref(names);
	op_enqueue(s, o);
}

/* Waits until every row queued before the call is committed, or until a commit
 * attempt that started after the call failed (then the rows stay queued and
 * store_healthy() is false): bounded even when the disk is gone. */
void store_flush(struct store *s)
{
	uint64_t target, first_attempt;

	if (s == NULL)
		return;
	pthread_mutex_lock(&s->lock);
	target = s->seq_last;
	/* An attempt in flight now started before the call; the next one counts. */
	first_attempt = s->attempts + 1;
	s->flush_waiters++;
	s->flush_requests++;
	pthread_cond_signal(&s->wake);
	while (s->seq_done < target &&
	       !(s->failed_attempt >= first_attempt && s->failed_attempt != 0))
		pthread_cond_wait(&s->progress, &s->lock);
	s->flush_waiters--;
	pthread_mutex_unlock(&s->lock);
}

/* True unless the last commit attempt failed. */
bool store_healthy(const struct store *s)
{
	struct store *m = (struct store *)s;    /* the lock is not part of the value */
	bool ok;

	if (s == NULL)
		return false;
	pthread_mutex_lock(&m->lock);
	ok = m->healthy;
	pthread_mutex_unlock(&m->lock);
	return ok;
}

/* Copies the last commit error ("" when healthy) into buf. */
void store_last_error(const struct store *s, char *buf, size_t len)
{
	struct store *m = (struct store *)s;

	if (s == NULL) {
		util_strlcpy(buf, "no database", len);
		return;
	}
	pthread_mutex_lock(&m->lock);
	util_strlcpy(buf, m->last_error, len);
	pthread_mutex_unlock(&m->lock);
}


uint64_t store_dropped_results(const struct store *s)
{
	struct store *m = (struct store *)s;
	uint64_t n;

	if (s == NULL)
		return 0;
	pthread_mutex_lock(&m->lock);
	n = m->dropped;
	pthread_mutex_unlock(&m->lock);
	return n;
}

/* Hands the retention to the implementation (read by the writer at its next
 * prune step). */
void store_set_retention(struct store *s, uint64_t raw_ms, uint64_t rollups_ms)
{
	if (s != NULL)
		s->conn->ops->set_retention(s->conn, raw_ms, rollups_ms);
}

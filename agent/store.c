/* store.c — the SQLite database: numbered migrations at open, one writer
 * thread that commits queued results in batches, and read-only connections
 * for the HTTP threads.
 *
 * Writer: store_append() (loop thread) copies a result into a FIFO queue under
 * a mutex and returns; the writer thread commits up to BATCH_MAX rows per
 * transaction with one prepared INSERT, about every BATCH_WINDOW_US. A failed
 * commit keeps its rows at the head of the queue and is retried with a capped
 * backoff; the store is reported unhealthy with SQLite's message until a
 * commit succeeds. The queue is bounded: past QUEUE_MAX rows the oldest are
 * dropped (and counted) so that a dead disk cannot eat the agent's memory.
 *
 * Flushing uses sequence numbers: every row gets the next seq; seq_done says
 * that every row up to it is committed (or was dropped). A flush waits for
 * seq_done to reach the last seq assigned before the call, or for a commit
 * attempt started after the call to fail — so it never hangs on a dead disk. */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <sqlite3.h>

#include "log.h"
#include "store.h"
#include "util.h"

#define BATCH_MAX        500            /* rows per transaction */
#define BATCH_WINDOW_US  100000         /* commit at most this long after a row arrives */
#define QUEUE_MAX        100000         /* rows kept while commits fail */
#define BACKOFF_MIN_US   100000
#define BACKOFF_MAX_US   5000000
#define WRITER_BUSY_MS   5000           /* only checkpoints and outside tools contend */
#define READER_BUSY_MS   2000

/* --- schema ------------------------------------------------------------------ */

/* Numbered migrations, applied in order inside one transaction; the database's
 * PRAGMA user_version is the number of the last one applied. Append only:
 * never edit a migration that has shipped. */
static const struct migration {
	int version;
	const char *sql;
} migrations[] = {
	{ 1,
	  "CREATE TABLE results ("
	  " id INTEGER PRIMARY KEY,"
	  " check_name TEXT NOT NULL,"
	  " ts_us INTEGER NOT NULL,"
	  " duration_us INTEGER NOT NULL,"
	  " ok INTEGER NOT NULL,"
	  " error TEXT NOT NULL,"
	  " message TEXT NOT NULL,"
	  " dns_us INTEGER,"            /* NULL: phase did not happen */
	  " connect_us INTEGER,"
	  " tls_us INTEGER,"
	  " ttfb_us INTEGER,"
	  " status_code INTEGER,"       /* NULL: none */
	  " bytes INTEGER,"
	  " cert_expiry INTEGER,"       /* Unix seconds; NULL: none */
	  " attempts INTEGER NOT NULL,"
	  " run_id TEXT NOT NULL,"
	  " details TEXT"               /* JSON object or NULL */
	  ");"
	  "CREATE INDEX results_check_ts ON results(check_name, ts_us);" },
};
#define SCHEMA_VERSION (migrations[sizeof(migrations) / sizeof(migrations[0]) - 1].version)

static const char insert_sql[] =
	"INSERT INTO results (check_name, ts_us, duration_us, ok, error, message,"
	" dns_us, connect_us, tls_us, ttfb_us, status_code, bytes, cert_expiry,"
	" attempts, run_id, details)"
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)";

/* --- types ------------------------------------------------------------------- */

/* One queued result: only what the INSERT needs, so a full queue of
 * QUEUE_MAX rows stays in the tens of megabytes (a struct probe_result carries
 * its assertions and would be ~7 KiB). */
struct row {
	struct row *next;
	uint64_t seq;
	uint64_t enqueued_us;       /* monotonic */
	char *check;
	int64_t ts_us, duration_us;
	bool ok;
	const char *error;          /* static, from probe_error_name() */
	char *message;
	int64_t dns_us, connect_us, tls_us, ttfb_us;
	int status_code;
	int64_t bytes;
	int64_t cert_expiry;
	int attempts;
	char run_id[17];
	char *details;              /* compact JSON or NULL */
};

struct store {
	char *path;
	sqlite3 *db;                /* writer thread only once started */
	sqlite3_stmt *insert;

	pthread_t thread;
	pthread_mutex_t lock;       /* guards everything below */
	pthread_cond_t wake;        /* writer waits: rows, stop */
	pthread_cond_t progress;    /* flushers wait: commit or failure */
	struct row *head, *tail;
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
};

struct store_reader {
	sqlite3 *db;
	sqlite3_stmt *results, *uptime, *count, *latency;
};

/* --- helpers ----------------------------------------------------------------- */

static void row_free(struct row *w)
{
	free(w->check);
	free(w->message);
	free(w->details);
	free(w);
}

/* Creates every missing directory above path's last component (mkdir -p of the
 * parent, mode 0750). Returns 0, or -1 with err naming the directory. */
static int make_parent_dirs(const char *path, char *err, size_t errlen)
{
	char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	int rc = -1;

	if (slash == NULL || slash == dir) {    /* "file" or "/file": nothing to create */
		rc = 0;
		goto out;
	}
	*slash = '\0';
	/* Walk the components left to right; EEXIST is fine only for directories. */
	for (char *p = dir + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char saved = *p;
		struct stat st;

		*p = '\0';
		if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
			snprintf(err, errlen, "cannot create directory %s: %s", dir, strerror(errno));
			goto out;
		}
		if (stat(dir, &st) != 0) {
			snprintf(err, errlen, "cannot create directory %s: %s", dir, strerror(errno));
			goto out;
		}
		if (!S_ISDIR(st.st_mode)) {
			snprintf(err, errlen, "cannot create directory %s: %s", dir, strerror(ENOTDIR));
			goto out;
		}
		*p = saved;
		if (saved == '\0')
			break;
	}
	rc = 0;
out:
	free(dir);
	return rc;
}

/* Runs sql (no rows expected). Returns 0, or -1 with err "what: sqlite message". */
static int exec_sql(sqlite3 *db, const char *sql, const char *what, char *err, size_t errlen)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", what, msg ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

/* Reads PRAGMA user_version into *v. Returns 0 or -1 with err. */
static int user_version(sqlite3 *db, int *v, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	int rc = -1;

	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW) {
		snprintf(err, errlen, "reading schema version: %s", sqlite3_errmsg(db));
		goto out;
	}
	*v = sqlite3_column_int(st, 0);
	rc = 0;
out:
	sqlite3_finalize(st);
	return rc;
}

/* Brings the schema to SCHEMA_VERSION in one IMMEDIATE transaction (so two
 * agents opening the same file cannot both migrate). A database newer than
 * this binary is refused rather than written with an older schema. */
static int migrate(sqlite3 *db, char *err, size_t errlen)
{
	int cur = 0;
	char sql[64];

	if (exec_sql(db, "BEGIN IMMEDIATE", "starting migration", err, errlen) != 0)
		return -1;
	if (user_version(db, &cur, err, errlen) != 0)
		goto fail;
	if (cur > SCHEMA_VERSION) {
		snprintf(err, errlen, "database schema version %d is newer than this pharos (%d)",
		         cur, SCHEMA_VERSION);
		goto fail;
	}
	for (size_t i = 0; i < sizeof(migrations) / sizeof(migrations[0]); i++) {
		char what[48];

		if (migrations[i].version <= cur)
			continue;
		snprintf(what, sizeof(what), "migration %d", migrations[i].version);
		if (exec_sql(db, migrations[i].sql, what, err, errlen) != 0)
			goto fail;
		log_info("store: applied migration", "version", what + strlen("migration "));
	}
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", SCHEMA_VERSION);
	if (exec_sql(db, sql, "setting schema version", err, errlen) != 0)
		goto fail;
	if (exec_sql(db, "COMMIT", "committing migration", err, errlen) != 0)
		goto fail;
	return 0;
fail:
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

/* Sets WAL mode (checking that SQLite agreed: it silently keeps another mode on
 * some file systems) and the pragmas the writer wants. */
static int set_pragmas(sqlite3 *db, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	int rc = -1;

	sqlite3_busy_timeout(db, WRITER_BUSY_MS);
	if (sqlite3_prepare_v2(db, "PRAGMA journal_mode=WAL", -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW) {
		snprintf(err, errlen, "setting WAL mode: %s", sqlite3_errmsg(db));
		goto out;
	}
	if (sqlite3_stricmp((const char *)sqlite3_column_text(st, 0), "wal") != 0) {
		snprintf(err, errlen, "setting WAL mode: journal mode stayed %s",
		         (const char *)sqlite3_column_text(st, 0));
		goto out;
	}
	if (exec_sql(db, "PRAGMA synchronous=NORMAL", "setting synchronous", err, errlen) != 0)
		goto out;
	rc = 0;
out:
	sqlite3_finalize(st);
	return rc;
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

static void bind_opt_int64(sqlite3_stmt *st, int i, int64_t v, int64_t none)
{
	if (v == none)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_int64(st, i, v);
}

/* Inserts the n rows starting at batch in one transaction. Writer thread only,
 * without the lock. Returns 0, or -1 with err holding SQLite's message (the
 * transaction rolled back: nothing of the batch is in the database). */
static int commit_batch(struct store *s, struct row *batch, size_t n, char *err, size_t errlen)
{
	sqlite3_stmt *st = s->insert;
	struct row *w = batch;

	if (exec_sql(s->db, "BEGIN IMMEDIATE", "begin", err, errlen) != 0)
		return -1;
	for (size_t i = 0; i < n; i++, w = w->next) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		sqlite3_bind_text(st, 1, w->check, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, w->ts_us);
		sqlite3_bind_int64(st, 3, w->duration_us);
		sqlite3_bind_int(st, 4, w->ok ? 1 : 0);
		sqlite3_bind_text(st, 5, w->error, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 6, w->message, -1, SQLITE_STATIC);
		bind_opt_int64(st, 7, w->dns_us, -1);
		bind_opt_int64(st, 8, w->connect_us, -1);
		bind_opt_int64(st, 9, w->tls_us, -1);
		bind_opt_int64(st, 10, w->ttfb_us, -1);
		bind_opt_int64(st, 11, w->status_code, -1);
		bind_opt_int64(st, 12, w->bytes, -1);
		bind_opt_int64(st, 13, w->cert_expiry, 0);
		sqlite3_bind_int(st, 14, w->attempts);
		sqlite3_bind_text(st, 15, w->run_id, -1, SQLITE_STATIC);
		if (w->details != NULL)
			sqlite3_bind_text(st, 16, w->details, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE) {
			snprintf(err, errlen, "insert: %s", sqlite3_errmsg(s->db));
			goto fail;
		}
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (exec_sql(s->db, "COMMIT", "commit", err, errlen) != 0)
		goto fail;
	return 0;
fail:
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

/* Drops the oldest queued rows until at most keep remain. Lock held. */
static void drop_oldest(struct store *s, size_t keep, const char *why)
{
	size_t n = 0;

	while (s->n_queued > keep && s->head != NULL) {
		struct row *w = s->head;

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

/* The writer thread: waits for rows, lets a batch gather for up to
 * BATCH_WINDOW_US (or BATCH_MAX rows, or a flush, or stop), commits it without
 * holding the lock, and on failure puts it back at the head and backs off. */
static void *writer_main(void *arg)
{
	struct store *s = arg;
	uint64_t backoff_us = 0;

	pthread_mutex_lock(&s->lock);
	for (;;) {
		struct timespec deadline;
		struct row *batch, *last;
		size_t n = 0;
		uint64_t attempt, flushes_seen;
		char err[256];
		int rc;

		while (!s->stopping && s->head == NULL)
			pthread_cond_wait(&s->wake, &s->lock);
		if (s->head == NULL)        /* stopping and nothing left */
			break;
		/* Gather: the window runs from the oldest row's arrival. */
		if (!s->stopping && s->flush_waiters == 0 && s->n_queued < BATCH_MAX) {
			uint64_t now = util_mono_us();
			uint64_t due = s->head->enqueued_us + BATCH_WINDOW_US;

			now_plus(&deadline, due > now ? due - now : 0);
			while (!s->stopping && s->flush_waiters == 0 && s->n_queued < BATCH_MAX &&
			       s->head != NULL &&
			       pthread_cond_timedwait(&s->wake, &s->lock, &deadline) == 0)
				;
			if (s->head == NULL)
				continue;
		}
		/* Detach up to BATCH_MAX rows from the head. */
		batch = last = s->head;
		for (n = 1; n < BATCH_MAX && last->next != NULL; n++)
			last = last->next;
		s->head = last->next;
		if (s->head == NULL)
			s->tail = NULL;
		last->next = NULL;
		s->n_queued -= n;
		attempt = ++s->attempts;
		flushes_seen = s->flush_requests;
		pthread_mutex_unlock(&s->lock);

		rc = commit_batch(s, batch, n, err, sizeof(err));

		pthread_mutex_lock(&s->lock);
		if (rc == 0) {
			if (!s->healthy)
				log_info("store: commits succeed again");
			s->healthy = true;
			s->last_error[0] = '\0';
			backoff_us = 0;
			s->seq_done = s->head == NULL ? s->seq_last : last->seq;
			pthread_cond_broadcast(&s->progress);
			pthread_mutex_unlock(&s->lock);
			while (batch != NULL) {
				struct row *next = batch->next;

				row_free(batch);
				batch = next;
			}
			pthread_mutex_lock(&s->lock);
			continue;
		}
		/* Failure: the rows go back in front, in order. */
		last->next = s->head;
		s->head = batch;
		if (s->tail == NULL)
			s->tail = last;
		s->n_queued += n;
		s->healthy = false;
		util_strlcpy(s->last_error, err, sizeof(s->last_error));
		s->failed_attempt = attempt;
		log_error("store: commit failed, will retry", "error", err, "path", s->path);
		drop_oldest(s, QUEUE_MAX, "queue full while commits fail");
		pthread_cond_broadcast(&s->progress);
		if (s->stopping) {
			drop_oldest(s, 0, "store closing while commits fail");
			s->seq_done = s->seq_last;
			pthread_cond_broadcast(&s->progress);
			break;
		}
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

/* Opens or creates the database at path (and its parent directory), sets WAL,
 * applies migrations, prepares the INSERT and starts the writer thread.
 * Returns NULL with err filled on failure; nothing is left running then. */
struct store *store_open(const char *path, char *err, size_t errlen)
{
	struct store *s = NULL;
	sqlite3 *db = NULL;
	pthread_condattr_t ca;
	char why[256];

	if (path == NULL || path[0] == '\0') {
		snprintf(err, errlen, "no database path");
		return NULL;
	}
	if (make_parent_dirs(path, err, errlen) != 0)
		return NULL;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "cannot open database %s: %s", path,
		         db ? sqlite3_errmsg(db) : "out of memory");
		goto fail;
	}
	sqlite3_extended_result_codes(db, 1);
	if (set_pragmas(db, why, sizeof(why)) != 0 || migrate(db, why, sizeof(why)) != 0) {
		snprintf(err, errlen, "cannot open database %s: %s", path, why);
		goto fail;
	}
	s = xcalloc(1, sizeof(*s));
	if (sqlite3_prepare_v3(db, insert_sql, -1, SQLITE_PREPARE_PERSISTENT, &s->insert, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "cannot open database %s: preparing insert: %s", path, sqlite3_errmsg(db));
		goto fail;
	}
	s->db = db;
	s->path = xstrdup(path);
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
		free(s->path);
		goto fail;
	}
	log_debug("store: opened", "path", path);
	return s;
fail:
	if (s != NULL)
		sqlite3_finalize(s->insert);
	free(s);
	sqlite3_close(db);
	return NULL;
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
	assert(s->head == NULL);
	sqlite3_finalize(s->insert);
	if (sqlite3_close(s->db) != SQLITE_OK)
		log_error("store: close failed", "error", sqlite3_errmsg(s->db), "path", s->path);
	pthread_cond_destroy(&s->wake);
	pthread_cond_destroy(&s->progress);
	pthread_mutex_destroy(&s->lock);
	free(s->path);
	free(s);
}

/* Copies r into a queue row for check and wakes the writer when a batch is
 * full. Never touches the disk; O(1) apart from the copies. */
void store_append(struct store *s, const char *check, const struct probe_result *r)
{
	struct row *w;

	if (s == NULL || check == NULL || r == NULL)
		return;
	w = xcalloc(1, sizeof(*w));

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
	if (w->details != NULL) {   /* jansson's malloc; keep one allocator per field */
		char *d = xstrdup(w->details);

		free(w->details);
		w->details = d;
	}
	w->enqueued_us = util_mono_us();

	pthread_mutex_lock(&s->lock);
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

/* --- readers ----------------------------------------------------------------- */

/* A read-only connection to the database at path (which must exist: a reader
 * never creates it). Use from one thread at a time. NULL with err on failure. */
struct store_reader *store_reader_open(const char *path, char *err, size_t errlen)
{
	struct store_reader *r;
	sqlite3 *db = NULL;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "cannot open database %s for reading: %s", path,
		         db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db, READER_BUSY_MS);
	r = xcalloc(1, sizeof(*r));
	r->db = db;
	return r;
}

/* Finalizes the reader's statements and closes its connection. NULL is ignored. */
void store_reader_close(struct store_reader *r)
{
	if (r == NULL)
		return;
	sqlite3_finalize(r->results);
	sqlite3_finalize(r->uptime);
	sqlite3_finalize(r->count);
	sqlite3_finalize(r->latency);
	sqlite3_close(r->db);
	free(r);
}

/* Prepares *st from sql on first use (the table may not exist when the reader
 * is opened) and resets it for reuse. Returns 0, or -1 after logging. */
static int reader_stmt(struct store_reader *r, sqlite3_stmt **st, const char *sql)
{
	if (*st == NULL &&
	    sqlite3_prepare_v3(r->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) != SQLITE_OK) {
		log_error("store: prepare failed", "error", sqlite3_errmsg(r->db));
		*st = NULL;
		return -1;
	}
	sqlite3_reset(*st);
	sqlite3_clear_bindings(*st);
	return 0;
}

static void set_time(json_t *o, const char *key, int64_t wall_us)
{
	char buf[40];

	util_format_time(wall_us, buf, sizeof(buf));
	json_object_set_new(o, key, json_string(buf));
}

/* A JSON string of s even when s is not valid UTF-8 (a message may hold a
 * truncated multi-byte character or raw bytes from a banner): such bytes
 * become '?'. jansson refuses invalid UTF-8, and a missing field would be
 * worse than a replaced byte. */
static json_t *text_json(const char *s)
{
	json_t *j = json_string(s);

	if (j == NULL) {
		char *copy = xstrdup(s);

		for (char *p = copy; *p != '\0'; p++)
			if ((unsigned char)*p >= 0x80)
				*p = '?';
		j = json_string(copy);
		free(copy);
	}
	return j;
}

/* Column i as milliseconds into phases under key, when not NULL. */
static void set_phase(json_t *phases, const char *key, sqlite3_stmt *st, int i)
{
	if (sqlite3_column_type(st, i) != SQLITE_NULL)
		json_object_set_new(phases, key, json_real(sqlite3_column_int64(st, i) / 1000.0));
}

static json_t *column_int_or_null(sqlite3_stmt *st, int i)
{
	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return json_null();
	return json_integer(sqlite3_column_int64(st, i));
}

/* Text column i, never NULL. */
static const char *column_text(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t ? (const char *)t : "";
}

/* One result row (columns of results_sql) as JSON, shaped like
 * probe_result_to_json() without assertions. */
static json_t *row_json(sqlite3_stmt *st)
{
	json_t *o = json_object();
	json_t *phases = json_object();

	json_object_set_new(o, "run_id", text_json(column_text(st, 14)));
	set_time(o, "ts", sqlite3_column_int64(st, 0));
	json_object_set_new(o, "duration_ms", json_real(sqlite3_column_int64(st, 1) / 1000.0));
	json_object_set_new(o, "ok", json_boolean(sqlite3_column_int(st, 2)));
	json_object_set_new(o, "error", text_json(column_text(st, 3)));
	json_object_set_new(o, "message", text_json(column_text(st, 4)));
	set_phase(phases, "dns", st, 5);
	set_phase(phases, "connect", st, 6);
	set_phase(phases, "tls", st, 7);
	set_phase(phases, "ttfb", st, 8);
	json_object_set_new(o, "phases_ms", phases);
	json_object_set_new(o, "status_code", column_int_or_null(st, 9));
	json_object_set_new(o, "bytes", column_int_or_null(st, 10));
	if (sqlite3_column_type(st, 11) == SQLITE_NULL)
		json_object_set_new(o, "cert_expiry", json_null());
	else
		set_time(o, "cert_expiry", sqlite3_column_int64(st, 11) * 1000000);
	json_object_set_new(o, "attempts", json_integer(sqlite3_column_int(st, 12)));
	if (sqlite3_column_type(st, 13) != SQLITE_NULL) {
		json_t *d = json_loads(column_text(st, 13), 0, NULL);

		/* A row written by a broken build must not break the API. */
		if (json_is_object(d))
			json_object_set_new(o, "details", d);
		else
			json_decref(d);
	}
	if (json_object_get(o, "details") == NULL)
		json_object_set_new(o, "details", json_object());
	return o;
}

/* Raw results of check with since_us <= ts < until_us (0 = unbounded), newest
 * first, at most limit rows (limit <= 0: none). New JSON array, NULL on a
 * database error (logged). */
json_t *store_results(struct store_reader *r, const char *check,
                      int64_t since_us, int64_t until_us, int limit)
{
	static const char sql[] =
		"SELECT ts_us, duration_us, ok, error, message, dns_us, connect_us, tls_us,"
		" ttfb_us, status_code, bytes, cert_expiry, attempts, details, run_id"
		" FROM results WHERE check_name = ?1 AND ts_us >= ?2 AND ts_us < ?3"
		" ORDER BY ts_us DESC, id DESC LIMIT ?4";
	json_t *arr = NULL;
	int rc;

	if (reader_stmt(r, &r->results, sql) != 0)
		return NULL;
	sqlite3_bind_text(r->results, 1, check, -1, SQLITE_STATIC);
	sqlite3_bind_int64(r->results, 2, since_us != 0 ? since_us : INT64_MIN);
	sqlite3_bind_int64(r->results, 3, until_us != 0 ? until_us : INT64_MAX);
	sqlite3_bind_int(r->results, 4, limit > 0 ? limit : 0);
	arr = json_array();
	while ((rc = sqlite3_step(r->results)) == SQLITE_ROW)
		json_array_append_new(arr, row_json(r->results));
	if (rc != SQLITE_DONE) {
		log_error("store: reading results failed", "check", check, "error", sqlite3_errmsg(r->db));
		json_decref(arr);
		arr = NULL;
	}
	sqlite3_reset(r->results);
	return arr;
}

/* Percentage of successful runs of check since since_us; -1 when there is no
 * result in the window or on a database error. */
double store_uptime(struct store_reader *r, const char *check, int64_t since_us)
{
	static const char sql[] =
		"SELECT count(*), total(ok) FROM results WHERE check_name = ?1 AND ts_us >= ?2";
	double pct = -1;
	int rc;

	if (reader_stmt(r, &r->uptime, sql) != 0)
		return -1;
	sqlite3_bind_text(r->uptime, 1, check, -1, SQLITE_STATIC);
	sqlite3_bind_int64(r->uptime, 2, since_us);
	rc = sqlite3_step(r->uptime);
	if (rc == SQLITE_ROW) {
		int64_t n = sqlite3_column_int64(r->uptime, 0);

		if (n > 0)
			pct = 100.0 * sqlite3_column_double(r->uptime, 1) / (double)n;
	} else {
		log_error("store: reading uptime failed", "check", check, "error", sqlite3_errmsg(r->db));
	}
	sqlite3_reset(r->uptime);
	return pct;
}

/* Nearest-rank percentile index (0-based) of p in n sorted values. */
static int64_t rank_index(double p, int64_t n)
{
	int64_t i = (int64_t)ceil(p * (double)n) - 1;

	if (i < 0)
		i = 0;
	if (i > n - 1)
		i = n - 1;
	return i;
}

/* p50 and p95 of the durations of every run of check since since_us, in
 * milliseconds (nearest rank). Returns 0, or -1 when there is no result (or on
 * a database error) leaving the outputs untouched. Sorts the raw rows: fine
 * for a day of one check; rollups will replace it for long windows. */
int store_latency(struct store_reader *r, const char *check, int64_t since_us,
                  double *p50_ms, double *p95_ms)
{
	static const char count_sql[] =
		"SELECT count(*) FROM results WHERE check_name = ?1 AND ts_us >= ?2";
	static const char sorted_sql[] =
		"SELECT duration_us FROM results WHERE check_name = ?1 AND ts_us >= ?2"
		" ORDER BY duration_us";
	int64_t n = 0, i50, i95, i = 0;
	double v50 = 0, v95 = 0;
	int ret = -1;

	if (reader_stmt(r, &r->count, count_sql) != 0)
		return -1;
	sqlite3_bind_text(r->count, 1, check, -1, SQLITE_STATIC);
	sqlite3_bind_int64(r->count, 2, since_us);
	if (sqlite3_step(r->count) == SQLITE_ROW)
		n = sqlite3_column_int64(r->count, 0);
	sqlite3_reset(r->count);
	if (n <= 0)
		return -1;
	i50 = rank_index(0.50, n);
	i95 = rank_index(0.95, n);

	if (reader_stmt(r, &r->latency, sorted_sql) != 0)
		return -1;
	sqlite3_bind_text(r->latency, 1, check, -1, SQLITE_STATIC);
	sqlite3_bind_int64(r->latency, 2, since_us);
	/* Rows may have arrived between the two statements: stop at i95 anyway. */
	while (i <= i95 && sqlite3_step(r->latency) == SQLITE_ROW) {
		double ms = sqlite3_column_int64(r->latency, 0) / 1000.0;

		if (i == i50)
			v50 = ms;
		if (i == i95) {
			v95 = ms;
			ret = 0;
		}
		i++;
	}
	sqlite3_reset(r->latency);
	if (ret == 0) {
		*p50_ms = v50;
		*p95_ms = v95;
	}
	return ret;
}

/* fleet_view.c — the fleet's view: the refresher thread that reads what
 * changed in the fleet's latest results, the merge into immutable
 * reference-counted views, their publication, and the state rule that
 * combines a check's locations (see fleet_view.h). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/util.h"
#include "web/fleet_view.h"

#define STALE_SLACK_US (15LL * 1000000)

/* --- interned names ------------------------------------------------------------- */

/* Locations and error names are few; interning them lets every entry point
 * at one copy that lives as long as the process (views never free them). */
static pthread_mutex_t intern_lock = PTHREAD_MUTEX_INITIALIZER;
static char **interned;
static size_t n_interned, cap_interned;

static const char *intern(const char *s)
{
	const char *found = NULL;

	pthread_mutex_lock(&intern_lock);
	for (size_t i = 0; i < n_interned && found == NULL; i++)
		if (strcmp(interned[i], s) == 0)
			found = interned[i];
	if (found == NULL) {
		if (n_interned == cap_interned) {
			cap_interned = cap_interned ? cap_interned * 2 : 16;
			interned = xrealloc(interned, cap_interned * sizeof(*interned));
		}
		interned[n_interned] = xstrdup(s);
		found = interned[n_interned++];
	}
	pthread_mutex_unlock(&intern_lock);
	return found;
}

/* --- views ------------------------------------------------------------------------ */

static void check_unref(struct fleet_check *c)
{
	if (c == NULL || __atomic_sub_fetch(&c->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	for (size_t i = 0; i < c->n; i++)
		free(c->at[i].message);
	free(c->at);
	free(c->name);
	free(c);
}

void fleet_view_release(struct fleet_view *v)
{
	if (v == NULL || __atomic_sub_fetch(&v->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	for (size_t i = 0; i < v->n_checks; i++)
		check_unref(v->checks[i]);
	free(v->checks);
	free(v->locations);
	free(v);
}

static int check_name_cmp(const void *key, const void *elem)
{
	return strcmp(key, (*(struct fleet_check *const *)elem)->name);
}

const struct fleet_check *fleet_view_find(const struct fleet_view *v, const char *check)
{
	struct fleet_check *const *c;

	if (v == NULL || v->n_checks == 0 || check == NULL)
		return NULL;
	c = bsearch(check, v->checks, v->n_checks, sizeof(*v->checks), check_name_cmp);
	return c ? *c : NULL;
}

/* --- merging ---------------------------------------------------------------------- */

static int row_cmp(const void *a, const void *b)
{
	const struct store_fleet_row *x = a, *y = b;
	int c = strcmp(x->check, y->check);

	return c != 0 ? c : strcmp(x->location, y->location);
}

static void entry_set(struct fleet_entry *e, const struct store_fleet_row *r)
{
	free(e->message);
	e->location = intern(r->location);
	e->error = intern(r->error ? r->error : "");
	e->ts_us = r->ts_us;
	e->duration_us = r->duration_us;
	e->ok = r->ok;
	e->message = xstrdup(r->message ? r->message : "");
	util_strlcpy(e->run_id, r->run_id ? r->run_id : "", sizeof(e->run_id));
}

/* A new check: old's entries (NULL: none) with rows[0..n) of the same
 * check applied (sorted by location), one reference. */
static struct fleet_check *check_merge(const struct fleet_check *old,
                                       const struct store_fleet_row *rows, size_t n)
{
	struct fleet_check *c = xcalloc(1, sizeof(*c));
	size_t n_old = old ? old->n : 0, i = 0, j = 0;

	c->refs = 1;
	c->name = xstrdup(rows[0].check);
	c->at = xcalloc(n_old + n, sizeof(*c->at));
	while (i < n_old || j < n) {
		int cmp = i == n_old ? 1 : j == n ? -1 : strcmp(old->at[i].location, rows[j].location);
		struct fleet_entry *e = &c->at[c->n++];

		if (cmp <= 0) {     /* keep the old entry (a copy) */
			*e = old->at[i];
			e->message = xstrdup(old->at[i].message);
			i++;
		}
		/* Newest wins: a row read twice, or one older than what is
		 * shown, changes nothing. */
		if (cmp >= 0) {
			if (cmp > 0 || rows[j].ts_us >= e->ts_us)
				entry_set(e, &rows[j]);
			j++;
		}
	}
	return c;
}

/* The locations with a result since now_us - FLEET_VIEW_LOCATION_KEEP_US,
 * sorted, into v. */
static void view_locations(struct fleet_view *v, int64_t now_us)
{
	size_t cap = 0;

	for (size_t i = 0; i < v->n_checks; i++) {
		const struct fleet_check *c = v->checks[i];

		for (size_t k = 0; k < c->n; k++) {
			const char *loc = c->at[k].location;
			size_t m = 0;

			if (c->at[k].ts_us < now_us - FLEET_VIEW_LOCATION_KEEP_US)
				continue;
			while (m < v->n_locations && strcmp(v->locations[m], loc) < 0)
				m++;
			if (m < v->n_locations && v->locations[m] == loc)
				continue;
			if (v->n_locations == cap) {
				cap = cap ? cap * 2 : 8;
				v->locations = xrealloc(v->locations, cap * sizeof(*v->locations));
			}
			memmove(&v->locations[m + 1], &v->locations[m],
			        (v->n_locations - m) * sizeof(*v->locations));
			v->locations[m] = loc;
			v->n_locations++;
		}
	}
}

struct fleet_view *fleet_view_merge(const struct fleet_view *old,
                                    const struct store_fleet_row *rows, size_t n,
                                    int64_t now_us)
{
	struct store_fleet_row *sorted = xmalloc((n ? n : 1) * sizeof(*sorted));
	struct fleet_view *v = xcalloc(1, sizeof(*v));
	size_t n_old = old ? old->n_checks : 0, i = 0, j = 0;

	if (n > 0)
		memcpy(sorted, rows, n * sizeof(*rows));
	qsort(sorted, n, sizeof(*sorted), row_cmp);
	v->refs = 1;
	v->refreshed_us = now_us;
	v->checks = xmalloc((n_old + n + 1) * sizeof(*v->checks));
	while (i < n_old || j < n) {
		int cmp = i == n_old ? 1 : j == n ? -1 : strcmp(old->checks[i]->name, sorted[j].check);
		size_t k = j;

		if (cmp < 0) {      /* unchanged: shared */
			__atomic_add_fetch(&old->checks[i]->refs, 1, __ATOMIC_RELAXED);
			v->checks[v->n_checks++] = old->checks[i++];
			continue;
		}
		while (k < n && strcmp(sorted[k].check, sorted[j].check) == 0)
			k++;
		v->checks[v->n_checks++] = check_merge(cmp == 0 ? old->checks[i] : NULL,
		                                       &sorted[j], k - j);
		if (cmp == 0)
			i++;
		j = k;
	}
	free(sorted);
	view_locations(v, now_us);
	return v;
}

/* --- the state rule ------------------------------------------------------------ */

enum check_state fleet_state_rule(size_t n_ok, size_t n_failed)
{
	if (n_ok + n_failed == 0)
		return CHECK_STATE_PENDING;
	if (n_ok == 0)
		return CHECK_STATE_DOWN;
	return n_failed > 0 ? CHECK_STATE_DEGRADED : CHECK_STATE_UP;
}

/* The snapshot's own last run as a location entry. */
static void own_loc(const struct snapshot_check *sc, const char *own, struct fleet_loc *l)
{
	l->location = own;
	l->ts_us = sc->last_ts_us;
	l->duration_us = sc->last_duration_us;
	l->ok = sc->last_ok;
	l->error = sc->last_ok ? "" : probe_error_name(sc->last_error);
	l->message = sc->last_message ? sc->last_message : "";
	l->run_id = "";
}

/* Fills out->at from the view's entries and the snapshot's own result. */
static void status_locations(const struct fleet_check *fc, const struct snapshot_check *sc,
                             const char *own, struct fleet_status *out)
{
	bool own_done = own == NULL || own[0] == '\0' || !sc->has_last;

	size_t k = 0;

	while (fc != NULL && k < fc->n && out->n < FLEET_MAX_LOCATIONS) {
		const struct fleet_entry *e = &fc->at[k];
		struct fleet_loc *l = &out->at[out->n++];
		int cmp = own_done ? 1 : strcmp(own, e->location);

		if (cmp < 0) {      /* own location sorts here and is not in the view yet */
			own_loc(sc, own, l);
			own_done = true;
			continue;
		}
		*l = (struct fleet_loc){ .location = e->location, .ts_us = e->ts_us,
		                         .duration_us = e->duration_us, .ok = e->ok,
		                         .error = e->ok ? "" : e->error, .message = e->message,
		                         .run_id = e->run_id };
		if (cmp == 0) {     /* the snapshot may hold this agent's newer run */
			if (sc->last_ts_us > e->ts_us)
				own_loc(sc, own, l);
			own_done = true;
		}
		k++;
	}
	if (!own_done && out->n < FLEET_MAX_LOCATIONS)
		own_loc(sc, own, &out->at[out->n++]);
}

void fleet_status_of(const struct fleet_view *v, const struct snapshot_check *sc,
                     const char *own, int64_t now_us, struct fleet_status *out)
{
	const struct fleet_check *fc = fleet_view_find(v, sc->check->name);
	int64_t fresh_after = now_us - 3 * (int64_t)sc->check->interval_ms * 1000 - STALE_SLACK_US;
	size_t n_ok = 0, n_failed = 0;

	out->n = 0;
	out->newest = -1;
	out->state = sc->state;
	status_locations(fc, sc, own, out);
	for (size_t k = 0; k < out->n; k++) {
		struct fleet_loc *l = &out->at[k];

		if (out->newest < 0 || l->ts_us > out->at[out->newest].ts_us)
			out->newest = (int)k;
		l->stale = l->ts_us < fresh_after;
		if (!l->stale)
			*(l->ok ? &n_ok : &n_failed) += 1;
	}
	if (out->newest < 0 || sc->state == CHECK_STATE_MAINTENANCE ||
	    sc->state == CHECK_STATE_BLOCKED)
		return;
	if (n_ok + n_failed == 0)   /* all stale: the last known result */
		*(out->at[out->newest].ok ? &n_ok : &n_failed) += 1;
	out->state = fleet_state_rule(n_ok, n_failed);
}

/* --- publication ---------------------------------------------------------------- */

static pthread_mutex_t current_lock = PTHREAD_MUTEX_INITIALIZER;
static struct fleet_view *current;      /* guarded by current_lock; one reference */
static int enabled;                     /* atomic */

bool fleet_view_enabled(void)
{
	return __atomic_load_n(&enabled, __ATOMIC_ACQUIRE) != 0;
}

struct fleet_view *fleet_view_acquire(void)
{
	struct fleet_view *v;

	pthread_mutex_lock(&current_lock);
	v = current;
	if (v != NULL)
		__atomic_add_fetch(&v->refs, 1, __ATOMIC_ACQUIRE);
	pthread_mutex_unlock(&current_lock);
	return v;
}

/* Installs v (its reference moves) and releases the previous view. */
static void view_publish(struct fleet_view *v)
{
	struct fleet_view *old;

	pthread_mutex_lock(&current_lock);
	old = current;
	current = v;
	pthread_mutex_unlock(&current_lock);
	fleet_view_release(old);
}

/* --- the refresher -------------------------------------------------------------- */

struct fleet_view_refresher {
	char *database;
	struct store_reader *reader;
	int64_t cursor;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stopping;              /* guarded by lock */
	/* the rows of one read, copied (the store's strings live during the call) */
	struct store_fleet_row *rows;
	size_t n, cap;
};

static void rows_clear(struct fleet_view_refresher *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free((char *)f->rows[i].check);
		free((char *)f->rows[i].location);
		free((char *)f->rows[i].error);
		free((char *)f->rows[i].message);
		free((char *)f->rows[i].run_id);
	}
	f->n = 0;
}

static void row_add(void *arg, const struct store_fleet_row *r)
{
	struct fleet_view_refresher *f = arg;
	struct store_fleet_row *c;

	if (f->n == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 256;
		f->rows = xrealloc(f->rows, f->cap * sizeof(*f->rows));
	}
	c = &f->rows[f->n++];
	*c = *r;
	c->check = xstrdup(r->check);
	c->location = xstrdup(r->location);
	c->error = xstrdup(r->error);
	c->message = xstrdup(r->message);
	c->run_id = xstrdup(r->run_id);
}

/* One refresh: read what changed, publish a merged view when anything did.
 * A failed read keeps the view (and the cursor) for the next tick. Returns
 * false when the database could not be read. */
static bool refresh(struct fleet_view_refresher *f)
{
	char err[256];
	struct fleet_view *old, *v;
	int rc;

	if (f->reader == NULL) {
		f->reader = store_reader_open(f->database, err, sizeof(err));
		if (f->reader == NULL) {
			log_warn("fleet view: cannot read the database", "error", err);
			return false;
		}
	}
	rc = store_fleet_latest(f->reader, &f->cursor, row_add, f);
	old = fleet_view_acquire();
	if (rc != 0 || (f->n == 0 && old != NULL)) {  /* failed, or nothing changed */
		fleet_view_release(old);
		rows_clear(f);
		return rc == 0;
	}
	v = fleet_view_merge(old, f->rows, f->n, util_wall_us());
	fleet_view_release(old);
	rows_clear(f);
	view_publish(v);
	return true;
}

/* Refreshes every FLEET_VIEW_REFRESH_MS; while the database cannot be read,
 * every 2, 4, then 8 times that (fewer failed reads and log lines during an
 * outage; the cursor catches up in one read when it returns). */
static void *refresher_main(void *arg)
{
	struct fleet_view_refresher *f = arg;
	unsigned fails = 0;

	pthread_setname_np(pthread_self(), "pharos-fview");
	pthread_mutex_lock(&f->lock);
	while (!f->stopping) {
		struct timespec ts;
		uint64_t wait_ms;

		pthread_mutex_unlock(&f->lock);
		fails = refresh(f) ? 0 : fails < 3 ? fails + 1 : 3;
		wait_ms = (uint64_t)FLEET_VIEW_REFRESH_MS << fails;
		pthread_mutex_lock(&f->lock);
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += (time_t)(wait_ms / 1000);
		ts.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		while (!f->stopping && pthread_cond_timedwait(&f->wake, &f->lock, &ts) == 0)
			;
	}
	pthread_mutex_unlock(&f->lock);
	return NULL;
}

struct fleet_view_refresher *fleet_view_start(const char *database, char *err, size_t errlen)
{
	struct fleet_view_refresher *f = xcalloc(1, sizeof(*f));
	pthread_condattr_t ca;

	f->database = xstrdup(database);
	pthread_mutex_init(&f->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&f->wake, &ca);
	pthread_condattr_destroy(&ca);
	__atomic_store_n(&enabled, 1, __ATOMIC_RELEASE);
	if (pthread_create(&f->thread, NULL, refresher_main, f) != 0) {
		snprintf(err, errlen, "cannot start the fleet view thread: %s", strerror(errno));
		__atomic_store_n(&enabled, 0, __ATOMIC_RELEASE);
		pthread_cond_destroy(&f->wake);
		pthread_mutex_destroy(&f->lock);
		free(f->database);
		free(f);
		return NULL;
	}
	return f;
}

void fleet_view_stop(struct fleet_view_refresher *f)
{
	if (f == NULL)
		return;
	pthread_mutex_lock(&f->lock);
	f->stopping = true;
	pthread_cond_signal(&f->wake);
	pthread_mutex_unlock(&f->lock);
	pthread_join(f->thread, NULL);
	__atomic_store_n(&enabled, 0, __ATOMIC_RELEASE);
	view_publish(NULL);
	store_reader_close(f->reader);
	rows_clear(f);
	free(f->rows);
	pthread_cond_destroy(&f->wake);
	pthread_mutex_destroy(&f->lock);
	free(f->database);
	free(f);
}

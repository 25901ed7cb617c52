/* rollup_read.c — the window reads built on the rollups, for any store
 * implementation (through struct rollup_source): one check's window, every
 * check's window and days with a freshness cache, and latency series. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "store/rollup.h"

#define US 1000000LL
#define MINUTE_S 60
#define HOUR_S 3600
#define DAY_S 86400
#define SERIES_MAX 20000        /* points of one series read */
#define CACHE_SLOTS 16
#define CACHE_TTL_MAX_US (60 * US)
#define CACHE_MIN_COST_US 2000  /* cheaper reads are never cached */

static void merge_row(void *arg, const char *check, int64_t bucket_s, const struct rollup_agg *a)
{
	rollup_agg_merge(arg, a);
}

int rollup_window(const struct rollup_source *src, const char *check, int64_t since_us,
                  int64_t now_us, struct rollup_agg *out)
{
	struct rollup_part parts[ROLLUP_PARTS_MAX];
	int64_t hd, dd;
	size_t n;

	rollup_agg_init(out);
	if (src->marks(src->ctx, &hd, &dd) != 0)
		return -1;
	n = rollup_plan(since_us, now_us, hd, dd, true, parts);
	for (size_t i = 0; i < n; i++)
		if (src->read_part(src->ctx, check, &parts[i], merge_row, out) != 0)
			return -1;
	return 0;
}
/* --- per-check accumulation ------------------------------------------------------------------ */

struct dayv {
	int64_t day, runs, ok;
};

/* A check's accumulator: its window aggregate (window reads) or its days
 * (day reads). The aggregates live beside the accumulators, only for window
 * reads: a day read of 100,000 checks then needs no histogram per check. */
struct acc {
	char *name;
	size_t agg;             /* index + 1 in the accs' aggs; 0: none yet */
	struct dayv *days;
	size_t nd, capd;
};

/* Accumulators by check name: an open-addressing index over a growing array. */
struct accs {
	struct acc *v;
	size_t n, cap;
	struct rollup_agg *aggs;    /* window reads: one per accumulator */
	size_t n_aggs, cap_aggs;
	size_t *tab;            /* index + 1; 0 = empty */
	size_t tcap;            /* power of two */
	size_t last;            /* rows come grouped by check: remember the last hit */
	bool has_last;
};

static void accs_free(struct accs *m)
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->v[i].name);
		free(m->v[i].days);
	}
	free(m->v);
	free(m->aggs);
	free(m->tab);
	memset(m, 0, sizeof(*m));
}

static void accs_reindex(struct accs *m, size_t tcap)
{
	free(m->tab);
	m->tcap = tcap;
	m->tab = xcalloc(tcap, sizeof(*m->tab));
	for (size_t i = 0; i < m->n; i++) {
		size_t h = (size_t)util_hash64(m->v[i].name) & (tcap - 1);

		while (m->tab[h] != 0)
			h = (h + 1) & (tcap - 1);
		m->tab[h] = i + 1;
	}
}

static struct acc *accs_get(struct accs *m, const char *name)
{
	size_t h;

	if (m->has_last && strcmp(m->v[m->last].name, name) == 0)
		return &m->v[m->last];
	if (m->tcap == 0 || (m->n + 1) * 2 > m->tcap)
		accs_reindex(m, m->tcap ? m->tcap * 2 : 1024);
	h = (size_t)util_hash64(name) & (m->tcap - 1);
	while (m->tab[h] != 0) {
		size_t i = m->tab[h] - 1;

		if (strcmp(m->v[i].name, name) == 0) {
			m->last = i;
			m->has_last = true;
			return &m->v[i];
		}
		h = (h + 1) & (m->tcap - 1);
	}
	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 256;
		m->v = xrealloc(m->v, m->cap * sizeof(*m->v));
	}
	memset(&m->v[m->n], 0, sizeof(m->v[m->n]));
	m->v[m->n].name = xstrdup(name);
	m->tab[h] = m->n + 1;
	m->last = m->n;
	m->has_last = true;
	return &m->v[m->n++];
}

static void acc_window_row(void *arg, const char *check, int64_t bucket_s, const struct rollup_agg *a)
{
	struct accs *m = arg;
	struct acc *c = accs_get(m, check);

	if (c->agg == 0) {
		if (m->n_aggs == m->cap_aggs) {
			m->cap_aggs = m->cap_aggs ? m->cap_aggs * 2 : 256;
			m->aggs = xrealloc(m->aggs, m->cap_aggs * sizeof(*m->aggs));
		}
		memset(&m->aggs[m->n_aggs], 0, sizeof(m->aggs[m->n_aggs]));
		c->agg = ++m->n_aggs;
	}
	rollup_agg_merge(&m->aggs[c->agg - 1], a);
}

/* Parts are read oldest first, so a check's days arrive in order. */
static void acc_day_row(void *arg, const char *check, int64_t bucket_s, const struct rollup_agg *a)
{
	struct acc *c = accs_get(arg, check);
	int64_t day = rollup_floor_div(bucket_s, DAY_S);

	if (c->nd == 0 || c->days[c->nd - 1].day != day) {
		if (c->nd == c->capd) {
			c->capd = c->capd ? c->capd * 2 : 1;   /* a young agent: one day */
			c->days = xrealloc(c->days, c->capd * sizeof(*c->days));
		}
		c->days[c->nd].day = day;
		c->days[c->nd].runs = 0;
		c->days[c->nd].ok = 0;
		c->nd++;
	}
	c->days[c->nd - 1].runs += a->count;
	c->days[c->nd - 1].ok += a->count - a->failures;
}

static int acc_cmp(const void *pa, const void *pb)
{
	return strcmp(((const struct acc *)pa)->name, ((const struct acc *)pb)->name);
}

/* --- the all-checks cache --------------------------------------------------------------------
 * A read of every check costs up to a few hundred milliseconds at 10,000
 * checks; the status page and the API ask for the same windows over and over.
 * Each (database, kind, window length) keeps its last result for 50 times
 * what computing it cost (at most a minute; never when it cost under 2 ms,
 * so small databases and tests always read fresh). One thread recomputes a
 * stale entry while the others keep serving the stale copy. */

enum cache_kind { K_WINDOW, K_DAYS };

/* The days of one row of a K_DAYS summary (rows[i] has row_days[i]). */
struct sdays {
	const struct dayv *v;   /* in the summary's day block */
	size_t n;
};

/* A cached read, reduced to what its readers use: at 100,000 checks the
 * accumulators (a latency histogram each) are ~20 MB a window and a page
 * plus the API keep five windows; the rows are ~50 bytes a check. */
struct summary {
	int refs;               /* under cache_mu */
	struct rollup_row *rows; /* sorted by name; check points into names */
	struct sdays *row_days; /* K_DAYS: n entries; else NULL */
	size_t n;
	char *names;            /* every row's name, NUL-separated: one block */
	struct dayv *days;      /* every row's days, one block (NULL: none) */
};

static void summary_free(struct summary *s)
{
	free(s->days);
	free(s->row_days);
	free(s->rows);
	free(s->names);
	free(s);
}

struct slot {
	char *path;
	enum cache_kind kind;
	int64_t key;
	struct summary *sum;
	uint64_t at_us, ttl_us, used_us;
	bool busy;
};

static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cache_cv = PTHREAD_COND_INITIALIZER;
static struct slot slots[CACHE_SLOTS];

static void summary_unref(struct summary *s)
{
	if (s == NULL || --s->refs > 0)
		return;
	summary_free(s);
}

static void summary_release(struct summary *s)
{
	pthread_mutex_lock(&cache_mu);
	summary_unref(s);
	pthread_mutex_unlock(&cache_mu);
}

void rollup_cache_clear(void)
{
	pthread_mutex_lock(&cache_mu);
	for (int i = 0; i < CACHE_SLOTS; i++) {
		if (slots[i].busy)
			continue;
		summary_unref(slots[i].sum);
		free(slots[i].path);
		memset(&slots[i], 0, sizeof(slots[i]));
	}
	pthread_mutex_unlock(&cache_mu);
}

/* The summary of the accumulators m (sorted by name; emptied): names and
 * days each in one block (no growth slack), percentiles computed once. */
static struct summary *summary_of(struct accs *m)
{
	struct summary *s = xcalloc(1, sizeof(*s));
	size_t names = 0, off = 0, days = 0, doff = 0;

	s->refs = 1;
	s->n = m->n;
	s->rows = xcalloc(m->n ? m->n : 1, sizeof(*s->rows));
	for (size_t i = 0; i < m->n; i++) {
		names += strlen(m->v[i].name) + 1;
		days += m->v[i].nd;
	}
	s->names = xmalloc(names ? names : 1);
	if (days > 0) {
		s->days = xmalloc(days * sizeof(*s->days));
		s->row_days = xcalloc(m->n, sizeof(*s->row_days));
	}
	for (size_t i = 0; i < m->n; i++) {
		const struct acc *a = &m->v[i];
		struct rollup_row *r = &s->rows[i];
		size_t len = strlen(a->name) + 1;

		memcpy(s->names + off, a->name, len);
		r->check = s->names + off;
		off += len;
		if (a->agg != 0) {
			const struct rollup_agg *g = &m->aggs[a->agg - 1];

			r->count = g->count;
			r->failures = g->failures;
			r->latency_sum_us = g->latency_sum_us;
			r->p50_ms = rollup_percentile(g, 0.50);
			r->p95_ms = rollup_percentile(g, 0.95);
		} else {
			r->p50_ms = r->p95_ms = -1;
		}
		if (a->nd > 0) {
			memcpy(s->days + doff, a->days, a->nd * sizeof(*a->days));
			s->row_days[i].v = s->days + doff;
			s->row_days[i].n = a->nd;
			doff += a->nd;
		}
	}
	accs_free(m);
	return s;
}

/* Computes the summary of kind over [since_us, now_us). NULL on error. */
static struct summary *compute(const struct rollup_source *src, enum cache_kind kind,
                               int64_t since_us, int64_t now_us)
{
	struct accs m;
	struct rollup_part parts[ROLLUP_PARTS_MAX];
	int64_t hd, dd;
	size_t n = 0;

	memset(&m, 0, sizeof(m));
	if (src->marks(src->ctx, &hd, &dd) != 0)
		return NULL;
	if (kind == K_WINDOW) {
		n = rollup_plan(since_us, now_us, hd, dd, false, parts);
	} else {
		int64_t a = rollup_floor_div(since_us, DAY_S * US) * DAY_S;
		int64_t d1 = dd < hd ? dd : hd;

		rollup_part_add(parts, &n, ROLLUP_DAY, a, d1 > a ? d1 : a);
		a = d1 > a ? d1 : a;
		rollup_part_add(parts, &n, ROLLUP_HOUR, a, hd > a ? hd : a);
		a = hd > a ? hd : a;
		rollup_part_add(parts, &n, ROLLUP_MINUTE, a, INT64_MAX);
	}
	for (size_t i = 0; i < n; i++) {
		if (src->read_part(src->ctx, NULL, &parts[i], kind == K_WINDOW ? acc_window_row : acc_day_row, &m) != 0) {
			accs_free(&m);
			return NULL;
		}
	}
	if (m.n > 1)
		qsort(m.v, m.n, sizeof(*m.v), acc_cmp);
	return summary_of(&m);
}

/* The summary for (database, kind, key), fresh enough or being refreshed by
 * another thread; a new reference (summary_release) or NULL on error. */
static struct summary *cache_get(const struct rollup_source *src, enum cache_kind kind,
                                 int64_t key, int64_t since_us, int64_t now_us)
{
	const char *path = src->cache_key;
	struct summary *s;
	uint64_t t0, cost;
	int i;

	if (path == NULL || path[0] == '\0')    /* nothing names it: nothing to share */
		return compute(src, kind, since_us, now_us);
	pthread_mutex_lock(&cache_mu);
	for (;;) {
		int victim = -1;
		uint64_t now = util_mono_us();

		for (i = 0; i < CACHE_SLOTS; i++)
			if (slots[i].path != NULL && slots[i].kind == kind && slots[i].key == key &&
			    strcmp(slots[i].path, path) == 0)
				break;
		if (i == CACHE_SLOTS) {
			for (int j = 0; j < CACHE_SLOTS; j++)
				if (!slots[j].busy && (victim < 0 || slots[j].path == NULL ||
				                       (slots[victim].path != NULL && slots[j].used_us < slots[victim].used_us)))
					victim = j;
			if (victim < 0) {       /* every slot busy: compute unshared */
				pthread_mutex_unlock(&cache_mu);
				return compute(src, kind, since_us, now_us);
			}
			i = victim;
			summary_unref(slots[i].sum);
			free(slots[i].path);
			memset(&slots[i], 0, sizeof(slots[i]));
			slots[i].path = xstrdup(path);
			slots[i].kind = kind;
			slots[i].key = key;
		}
		slots[i].used_us = now;
		if (slots[i].sum != NULL && now - slots[i].at_us < slots[i].ttl_us) {
			s = slots[i].sum;
			s->refs++;
			pthread_mutex_unlock(&cache_mu);
			return s;
		}
		if (!slots[i].busy)
			break;
		if (slots[i].sum != NULL) {     /* stale-while-revalidate */
			s = slots[i].sum;
			s->refs++;
			pthread_mutex_unlock(&cache_mu);
			return s;
		}
		pthread_cond_wait(&cache_cv, &cache_mu);
	}
	slots[i].busy = true;
	pthread_mutex_unlock(&cache_mu);

	t0 = util_mono_us();
	s = compute(src, kind, since_us, now_us);
	cost = util_mono_us() - t0;

	pthread_mutex_lock(&cache_mu);
	/* Busy slots are never evicted: i is still ours. */
	slots[i].busy = false;
	if (s != NULL) {
		summary_unref(slots[i].sum);
		slots[i].sum = s;
		s->refs++;
		slots[i].at_us = util_mono_us();
		slots[i].ttl_us = cost < CACHE_MIN_COST_US ? 0 :
		                  (cost * 50 > CACHE_TTL_MAX_US ? CACHE_TTL_MAX_US : cost * 50);
	}
	pthread_cond_broadcast(&cache_cv);
	pthread_mutex_unlock(&cache_mu);
	return s;
}

int rollup_window_all(const struct rollup_source *src, int64_t since_us, int64_t now_us,
                      rollup_each_fn *fn, void *arg)
{
	/* Windows of the same length to the minute share an entry. */
	int64_t key = (now_us - since_us + 30 * US) / (60 * US);
	struct summary *s = cache_get(src, K_WINDOW, key, since_us, now_us);

	if (s == NULL)
		return -1;
	for (size_t i = 0; i < s->n; i++)
		if (s->rows[i].count > 0)
			fn(arg, &s->rows[i]);
	summary_release(s);
	return 0;
}

/* Calls fn for the days of every accumulator of m that had runs. */
static void days_of_accs(const struct accs *m, rollup_count_fn *fn, void *arg)
{
	for (size_t i = 0; i < m->n; i++)
		for (size_t j = 0; j < m->v[i].nd; j++)
			if (m->v[i].days[j].runs > 0)
				fn(arg, m->v[i].name, m->v[i].days[j].day, m->v[i].days[j].runs,
				   m->v[i].days[j].ok);
}

int rollup_days(const struct rollup_source *src, const char *check, int64_t since_us,
                int64_t now_us, rollup_count_fn *fn, void *arg)
{
	int64_t first = rollup_floor_div(since_us, DAY_S * US), last = rollup_floor_div(now_us, DAY_S * US);
	struct summary *s;

	if (check != NULL) {
		/* One check: a few hundred rows, read fresh, same code as every check. */
		struct rollup_part parts[ROLLUP_PARTS_MAX];
		int64_t hd, dd, a = first * DAY_S, d1;
		struct accs own;
		size_t n = 0;

		if (src->marks(src->ctx, &hd, &dd) != 0)
			return -1;
		d1 = dd < hd ? dd : hd;
		rollup_part_add(parts, &n, ROLLUP_DAY, a, d1 > a ? d1 : a);
		a = d1 > a ? d1 : a;
		rollup_part_add(parts, &n, ROLLUP_HOUR, a, hd > a ? hd : a);
		a = hd > a ? hd : a;
		rollup_part_add(parts, &n, ROLLUP_MINUTE, a, INT64_MAX);
		memset(&own, 0, sizeof(own));
		for (size_t i = 0; i < n; i++) {
			if (src->read_part(src->ctx, check, &parts[i], acc_day_row, &own) != 0) {
				accs_free(&own);
				return -1;
			}
		}
		days_of_accs(&own, fn, arg);
		accs_free(&own);
		return 0;
	}
	/* Keyed by the number of days and today: a new day is a new read. */
	s = cache_get(src, K_DAYS, (last - first) * 100000 + last % 100000, since_us, now_us);
	if (s == NULL)
		return -1;
	for (size_t i = 0; s->row_days != NULL && i < s->n; i++) {
		const struct sdays *d = &s->row_days[i];

		for (size_t j = 0; j < d->n; j++)
			if (d->v[j].runs > 0)
				fn(arg, s->rows[i].check, d->v[j].day, d->v[j].runs, d->v[j].ok);
	}
	summary_release(s);
	return 0;
}

/* --- latency series ------------------------------------------------------------------------------ */

struct series {
	int64_t t0_s, step_s;
	size_t n;
	struct rollup_agg *pts;
};

static void series_row(void *arg, const char *check, int64_t bucket_s, const struct rollup_agg *a)
{
	struct series *se = arg;
	int64_t k = rollup_floor_div(bucket_s - se->t0_s, se->step_s);

	if (k >= 0 && (size_t)k < se->n)
		rollup_agg_merge(&se->pts[k], a);
}

int rollup_series(const struct rollup_source *src, const char *check, int64_t since_us,
                  int64_t until_us, int64_t step_s, rollup_series_fn *fn, void *arg)
{
	struct rollup_part parts[ROLLUP_PARTS_MAX];
	struct series se;
	int64_t hd, dd, until_s = rollup_ceil_div(until_us, US);
	size_t n = 0;
	int rc = -1;

	if (check == NULL || until_us <= since_us)
		return check == NULL ? -1 : 0;
	if (step_s < MINUTE_S)
		step_s = MINUTE_S;
	step_s = rollup_ceil_div(step_s, MINUTE_S) * MINUTE_S;
	if (src->marks(src->ctx, &hd, &dd) != 0)
		return -1;
	se.step_s = step_s;
	se.t0_s = rollup_floor_div(since_us, step_s * US) * step_s;
	se.n = (size_t)rollup_ceil_div(until_s - se.t0_s, step_s);
	if (se.n > SERIES_MAX)
		se.n = SERIES_MAX;
	se.pts = xcalloc(se.n, sizeof(*se.pts));
	if (step_s >= HOUR_S && step_s % HOUR_S == 0) {
		int64_t a = rollup_floor_div(se.t0_s, HOUR_S) * HOUR_S;
		int64_t b = hd < until_s ? hd : until_s;

		rollup_part_add(parts, &n, ROLLUP_HOUR, a, b);
		rollup_part_add(parts, &n, ROLLUP_MINUTE, b > a ? b : a, until_s);
	} else {
		rollup_part_add(parts, &n, ROLLUP_MINUTE, se.t0_s, until_s);
	}
	for (size_t i = 0; i < n; i++)
		if (src->read_part(src->ctx, check, &parts[i], series_row, &se) != 0)
			goto out;
	for (size_t k = 0; k < se.n; k++)
		fn(arg, (se.t0_s + (int64_t)k * step_s) * US, se.pts[k].count, se.pts[k].failures,
		   rollup_percentile(&se.pts[k], 0.50), rollup_percentile(&se.pts[k], 0.95));
	rc = 0;
out:
	free(se.pts);
	return rc;
}

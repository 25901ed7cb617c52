/* api_checks.c — GET /api/v1/checks (SPEC §3): every check with its state,
 * last run, uptime and latency, in config order. Without a query the whole
 * array, streamed and cached as one answer. With a query:
 *   state=S[,S...]   only checks in these states (as the objects show them:
 *                    the fleet's state in a fleet)
 *   group=NAME       only the checks of group NAME ("group=": those without)
 *   limit=N, offset=M  a window of the (filtered) list: the answer is then
 *                    {"checks": [...], "total", "offset", "limit",
 *                    "next_offset" (null at the end)}
 * Filters alone answer the filtered array. Bad values answer 400. Each
 * query is its own cached answer (rslots.h), a window costs one pass over
 * the snapshot plus the figures of the checks it holds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "core/log.h"
#include "core/util.h"
#include "web/api.h"
#include "web/api_check.h"
#include "web/paging.h"
#include "web/rcache.h"
#include "web/rslots.h"
#include "web/rsink.h"

#define LIMIT_DEFAULT 1000          /* a window's size when only offset is given */
#define LIMIT_MAX     10000
#define N_STATES      (CHECK_STATE_DEGRADED + 1)

/* --- the checks' figures: one read per window -------------------------------- */

/* The figures of a list of checks for GET /api/v1/checks, filled by one read
 * of every check per window and joined by name: a figures entry per check
 * listed (~60 bytes) and their names sorted once. */
struct figures_tab {
	struct name_pos {
		const char *name;
		size_t k;               /* position in the list */
	} *by_name;                 /* sorted by name */
	size_t n;
	struct check_figures *f;    /* n entries, by list position */
	size_t window;              /* the window being read */
	size_t cursor;              /* merge join: by_name entries passed */
};

static int name_pos_cmp(const void *a, const void *b)
{
	return strcmp(((const struct name_pos *)a)->name, ((const struct name_pos *)b)->name);
}

/* The listed entry named name, or NULL. The reads come in name order
 * (store.h): a merge join walks both lists once (a window of 1,000 checks
 * against a read of 1,000,000 costs a comparison per row read, not a
 * search). A name at or before the last entry passed (a read out of order)
 * is searched for instead, so none is missed whatever the order. */
static const struct name_pos *figures_find(struct figures_tab *t, const char *name)
{
	struct name_pos key = { .name = name };
	int c = 1;

	if (t->cursor > 0 && strcmp(name, t->by_name[t->cursor - 1].name) <= 0)
		return bsearch(&key, t->by_name, t->n, sizeof(key), name_pos_cmp);
	while (t->cursor < t->n && (c = strcmp(t->by_name[t->cursor].name, name)) < 0)
		t->cursor++;
	return t->cursor < t->n && c == 0 ? &t->by_name[t->cursor] : NULL;
}

/* store_summary_fn of a window read: the figures of sm's check. */
static void figures_add(void *arg, const struct store_summary *sm)
{
	struct figures_tab *t = arg;
	const struct name_pos *p = figures_find(t, sm->check);
	struct check_figures *f;

	if (p == NULL)              /* not listed, or no longer configured */
		return;
	f = &t->f[p->k];
	f->uptime[t->window] = sm->uptime_pct;
	if (t->window == 0) {       /* 24 h: the latency window too */
		f->has_latency = true;
		f->p50_ms = sm->p50_ms;
		f->p95_ms = sm->p95_ms;
	}
}

/* Reads every window of the checks of snap at positions pos[0..n) (pos
 * NULL: every check, n = snap->n_checks) into t. A failed read leaves that
 * window's figures null, as they would be for one check. */
static void figures_read(const struct snapshot *snap, const size_t *pos, size_t n,
                         struct store_reader *r, int64_t now_us, struct figures_tab *t)
{
	memset(t, 0, sizeof(*t));
	t->n = n;
	t->by_name = xcalloc(n ? n : 1, sizeof(*t->by_name));
	t->f = xcalloc(n ? n : 1, sizeof(*t->f));
	for (size_t k = 0; k < n; k++) {
		t->by_name[k].name = snap->checks[pos ? pos[k] : k].check->name;
		t->by_name[k].k = k;
		api_figures_init(&t->f[k]);
	}
	qsort(t->by_name, n, sizeof(*t->by_name), name_pos_cmp);
	for (t->window = 0; r != NULL && t->window < API_N_WINDOWS; t->window++) {
		t->cursor = 0;
		if (store_summary_all(r, now_us - api_windows[t->window].span_us, figures_add, t) == 0)
			continue;
		for (size_t k = 0; k < n; k++) {        /* a half-read window shows as none */
			t->f[k].uptime[t->window] = -1;
			if (t->window == 0)
				t->f[k].has_latency = false;
		}
	}
}

static void figures_free(struct figures_tab *t)
{
	free(t->by_name);
	free(t->f);
}

/* The object of list entry k (the check at snapshot position p). */
static json_t *listed_json(const struct snapshot *snap, size_t p, struct figures_tab *t, size_t k,
                           const struct fleet_view *v, int64_t now_us)
{
	json_t *j;

	api_figures_fleet(&t->f[k], snap, v, now_us);
	j = api_check_json(&snap->checks[p], &t->f[k]);
	log_mask_json(j);
	return j;
}

/* The checks of snap at pos[0..n) (NULL: every check) with their figures
 * (v: the fleet's view they are shown in), as a JSON array written one
 * check at a time: the object of a check is
 * built, dumped and freed before the next, so 100,000 checks never exist as
 * one jansson tree (hundreds of MB for a 25 MB answer), and compressed a
 * megabyte at a time (rsink.h), so neither does the whole text. Same bytes
 * as dumping the whole array at once. */
static void checks_text(const struct snapshot *snap, const size_t *pos, size_t n,
                        struct store_reader *r, const struct fleet_view *v, int64_t now_us,
                        struct rsink *sink)
{
	struct figures_tab tab;
	struct buf *b = &sink->b;

	figures_read(snap, pos, n, r, now_us, &tab);
	for (size_t k = 0; k < n; k++) {
		json_t *j = listed_json(snap, pos ? pos[k] : k, &tab, k, v, now_us);

		buf_addc(b, k == 0 ? '[' : ',');
		if (json_dump_callback(j, buf_json_dump, b,
		                       JSON_COMPACT | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(10)) != 0)
			buf_adds(b, "{}");
		json_decref(j);
		rsink_flush(sink);
	}
	buf_adds(b, n == 0 ? "[]\n" : "]\n");
	figures_free(&tab);
}

/* --- the query ------------------------------------------------------------------- */

struct checks_query {
	bool paged;                 /* limit or offset given: the answer is a window */
	size_t limit, offset;
	unsigned states;            /* bit per enum check_state; 0: any */
	bool has_group;
	const char *group;          /* "" : the checks without a group */
};

/* Answers 400 with "what: expected ..., got \"v\"". Returns -1. */
static int bad_value(struct api_response *rs, const char *what, const char *expected,
                     const char *v)
{
	char detail[240];

	snprintf(detail, sizeof(detail), "%s: expected %s, got \"%.64s\"", what, expected, v);
	api_error(rs, MHD_HTTP_BAD_REQUEST, "bad_request", detail);
	return -1;
}

/* The states of a comma-separated list of state names into *mask. 0, or -1
 * for an unknown or empty name. */
static int parse_states(const char *v, unsigned *mask)
{
	*mask = 0;
	for (;;) {
		size_t n = strcspn(v, ",");
		int found = -1;

		for (int s = 0; s < N_STATES && n > 0; s++)
			if (strlen(check_state_name((enum check_state)s)) == n &&
			    strncmp(check_state_name((enum check_state)s), v, n) == 0)
				found = s;
		if (found < 0)
			return -1;
		*mask |= 1u << found;
		if (v[n] == '\0')
			return 0;
		v += n + 1;
	}
}

/* Whether query argument key is there (with or without a value). */
static bool has_arg(struct api_request *rq, const char *key)
{
	return rq->conn != NULL &&
	       MHD_lookup_connection_value_n(rq->conn, MHD_GET_ARGUMENT_KIND, key, strlen(key),
	                                     NULL, NULL) == MHD_YES;
}

/* Reads the query into q. Returns 0, or -1 after answering 400. */
static int read_query(struct api_request *rq, struct api_response *rs, struct checks_query *q)
{
	const char *limit = api_query(rq, "limit"), *offset = api_query(rq, "offset");
	const char *state = api_query(rq, "state");
	char expected[64];

	memset(q, 0, sizeof(*q));
	q->limit = LIMIT_DEFAULT;
	q->paged = has_arg(rq, "limit") || has_arg(rq, "offset");
	snprintf(expected, sizeof(expected), "an integer from 1 to %d", LIMIT_MAX);
	if (has_arg(rq, "limit") && paging_parse_count(limit, 1, LIMIT_MAX, &q->limit) != 0)
		return bad_value(rs, "limit", expected, limit ? limit : "");
	if (has_arg(rq, "offset") && paging_parse_count(offset, 0, SIZE_MAX / 2, &q->offset) != 0)
		return bad_value(rs, "offset", "an integer from 0", offset ? offset : "");
	if (has_arg(rq, "state") && parse_states(state ? state : "", &q->states) != 0)
		return bad_value(rs, "state", "pending, up, down, maintenance, blocked or degraded, "
		                 "comma-separated", state ? state : "");
	q->has_group = has_arg(rq, "group");
	q->group = api_query(rq, "group");
	if (q->group == NULL)
		q->group = "";
	return 0;
}

/* The cache key of q (its canonical form). */
static void query_key(const struct checks_query *q, struct buf *key)
{
	buf_printf(key, "%d/%zu/%zu/%x/%c%s", q->paged, q->paged ? q->limit : 0, q->offset,
	           q->states, q->has_group ? '=' : '*', q->group);
}

/* --- the answers ----------------------------------------------------------------- */

/* Whether the check at snapshot position k passes q's filters. */
static bool selected(const struct snapshot *snap, size_t k, const struct checks_query *q,
                     const struct fleet_view *v, bool fleet_on, int64_t now_us)
{
	const struct snapshot_check *sc = &snap->checks[k];
	const char *g = sc->check->group ? sc->check->group : "";

	if (q->has_group && strcmp(g, q->group) != 0)
		return false;
	if (q->states != 0) {
		enum check_state st = sc->state;
		struct fleet_status fs;

		if (fleet_on) {         /* the state the object shows (api_fleet.c) */
			fleet_status_of(v, sc, snap->conf->agent.location, now_us, &fs);
			st = fs.state;
		}
		if (!(q->states & (1u << st)))
			return false;
	}
	return true;
}

/* One pass over the snapshot: the positions of the selected checks that
 * fall in the window (every one when not paged) into *pos; their number
 * is returned, the count of all selected in *total. States are read in v,
 * the view the objects are then written from, so a state filter and the
 * states shown agree even when the view is refreshed meanwhile. */
static size_t select_checks(const struct snapshot *snap, const struct checks_query *q,
                            const struct fleet_view *v, int64_t now_us, size_t **pos,
                            size_t *total)
{
	bool fleet_on = fleet_view_enabled();
	size_t n = 0, cap = q->paged ? q->limit : 64;

	*pos = xmalloc(cap * sizeof(**pos));
	*total = 0;
	for (size_t k = 0; k < snap->n_checks; k++) {
		if (!selected(snap, k, q, v, fleet_on, now_us))
			continue;
		if (!q->paged || (*total >= q->offset && *total - q->offset < q->limit)) {
			if (n == cap) {
				cap *= 2;
				*pos = xrealloc(*pos, cap * sizeof(**pos));
			}
			(*pos)[n++] = k;
		}
		(*total)++;
	}
	return n;
}

/* The window q asks for: {"checks": [...], "total", "offset", "limit",
 * "next_offset"}, written into sink. */
static void window_text(const struct snapshot *snap, const struct checks_query *q,
                        const size_t *pos, size_t n, size_t total, struct store_reader *r,
                        const struct fleet_view *v, int64_t now_us, struct rsink *sink)
{
	struct figures_tab tab;
	struct paging_span span = paging_window(total, q->offset, q->limit);
	json_t *o = json_object(), *list = json_array();

	figures_read(snap, pos, n, r, now_us, &tab);
	for (size_t k = 0; k < n; k++)
		json_array_append_new(list, listed_json(snap, pos[k], &tab, k, v, now_us));
	json_object_set_new(o, "checks", list);
	json_object_set_new(o, "total", json_integer((json_int_t)total));
	json_object_set_new(o, "offset", json_integer((json_int_t)q->offset));
	json_object_set_new(o, "limit", json_integer((json_int_t)q->limit));
	json_object_set_new(o, "next_offset", span.first + span.count < total ?
	                    json_integer((json_int_t)(span.first + span.count)) : json_null());
	if (json_dump_callback(o, buf_json_dump, &sink->b,
	                       JSON_COMPACT | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(10)) != 0)
		buf_adds(&sink->b, "{}");
	buf_addc(&sink->b, '\n');
	json_decref(o);
	figures_free(&tab);
}

/* Renders the answer of q into sink. */
static void render_query(struct api_request *rq, const struct checks_query *q, struct rsink *sink)
{
	int64_t now_us = util_wall_us();
	struct fleet_view *v = fleet_view_acquire();
	size_t *pos, total, n = select_checks(rq->snap, q, v, now_us, &pos, &total);

	if (q->paged)
		window_text(rq->snap, q, pos, n, total, rq->reader, v, now_us, sink);
	else
		checks_text(rq->snap, pos, n, rq->reader, v, now_us, sink);
	free(pos);
	fleet_view_release(v);
}

/* Renders every check (no query) into sink. */
static void render_all(struct api_request *rq, struct rsink *sink)
{
	struct fleet_view *v = fleet_view_acquire();

	checks_text(rq->snap, NULL, rq->snap->n_checks, rq->reader, v, util_wall_us(), sink);
	fleet_view_release(v);
}

/* The rendered answer of GET /api/v1/checks (rcache.h): at 10,000 checks it
 * is ~5 MB of JSON that costs tens of milliseconds to build, and every open
 * status page asks for it every 15 s. The answers to queries: one per
 * query, for the most recent ones; windows are small (RSLOTS_N of them), a
 * filtered array can be as big as the whole list (4 of them, gzipped). */
static struct rcache checks_cache = RCACHE_INIT;
static struct rslots window_slots = RSLOTS_INIT;
static struct rslots filter_slots = RSLOTS_INIT_N(4);

/* GET /api/v1/checks[?state=&group=&limit=&offset=]. */
void api_checks(struct api_request *rq, struct api_response *rs)
{
	struct checks_query q;
	struct rcache_key key;
	struct rcache_hit hit;
	struct rsink sink;
	struct rslot *slot = NULL;
	struct rslots *slots = &window_slots;
	struct rcache *cache = &checks_cache;
	struct buf skey = BUF_INIT;
	bool query;
	uint64_t t0;

	if (read_query(rq, rs, &q) != 0)
		return;
	query = q.paged || q.states != 0 || q.has_group;
	if (query) {
		query_key(&q, &skey);
		slots = q.paged ? &window_slots : &filter_slots;
		slot = rslots_get(slots, skey.p);
		cache = &slot->cache;
		buf_free(&skey);
	}
	key.conf = rq->snap->conf;
	key.snap = rq->snap;
	key.snap_us = rq->snap->published_us;
	if (!rcache_get(cache, &key, false, &hit)) {
		t0 = util_mono_us();
		rsink_init(&sink, 0);
		if (query)
			render_query(rq, &q, &sink);
		else
			render_all(rq, &sink);
		rcache_put_sink(cache, &key, &sink, t0, &hit);
	}
	if (slot != NULL)
		rslots_put(slots, slot);
	rcache_answer(rq, rs, &hit, MHD_HTTP_OK, api_json_type, false);
}

/* curlm.c — libcurl's multi interface on the event loop (the
 * curl_multi_socket_action pattern).
 *
 * curl tells us which sockets it wants watched (socket callback -> loop_fd_set)
 * and when it next needs a kick (timer callback -> one loop timer). When a
 * socket is ready or the timer fires we hand that to curl_multi_socket_action
 * and then collect finished transfers from curl_multi_info_read.
 *
 * Callbacks from curl only record wishes; they never call back into curl (the
 * timer callback's "0 ms" becomes a 0 ms loop timer, as curl requires). Our
 * done callbacks run only after curl_multi_socket_action returned, so they may
 * add and remove transfers freely.
 *
 * CURLOPT_PRIVATE of every easy handle in flight belongs to this module. */
#include "core/curlm.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/util.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Idle connections kept for reuse (notification deliveries; probes forbid
 * reuse themselves so each run measures a fresh connect). */
#define CURLM_MAX_CONNECTS 32

struct curlm {
	struct loop *l;
	CURLM *multi;
	struct loop_timer timer;    /* curl's timeout */
	int in_flight;              /* transfers added and not yet done/removed */
	bool closing;               /* curl_multi_cleanup in progress: ignore callbacks */
	bool *gone;                 /* set when a done callback frees m */
	struct curlm_done *done;    /* check_done's finished transfers not handed back yet */
	size_t n_done, next_done;
	bool *watched;              /* watched[fd]: a socket we registered with the loop */
	size_t capfds;              /* entries in watched */
};

/* What we keep per transfer, in CURLOPT_PRIVATE. */
struct curlm_xfer {
	struct curlm *m;
	curlm_done_fn *done;
	void *arg;
};

/* Our per-transfer state of easy, or NULL. */
static struct curlm_xfer *xfer_of(CURL *easy)
{
	char *p = NULL;

	if (curl_easy_getinfo(easy, CURLINFO_PRIVATE, &p) != CURLE_OK)
		return NULL;
	return (struct curlm_xfer *)(void *)p;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_global(void)
{
	CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);

	if (rc != CURLE_OK)
		log_error("curl_global_init() failed", "error", curl_easy_strerror(rc));
}

/* The sockets we registered, indexed by fd: thousands of transfers can be in
 * flight, and a list would make every socket event cost O(transfers). */
static void fds_add(struct curlm *m, int fd)
{
	if (fd < 0)
		return;
	if ((size_t)fd >= m->capfds) {
		size_t cap = m->capfds ? m->capfds : 64;

		while (cap <= (size_t)fd)
			cap *= 2;
		m->watched = xrealloc(m->watched, cap * sizeof(*m->watched));
		memset(m->watched + m->capfds, 0, (cap - m->capfds) * sizeof(*m->watched));
		m->capfds = cap;
	}
	m->watched[fd] = true;
}

static void fds_del(struct curlm *m, int fd)
{
	if (fd >= 0 && (size_t)fd < m->capfds)
		m->watched[fd] = false;
}

/* A finished transfer read from curl, not handed back yet (check_done). */
struct curlm_done {
	CURL *easy;                 /* NULL: removed meanwhile (curlm_remove) */
	CURLcode code;
};

/* Hands every finished transfer back to its owner. Every message is read
 * (and its fields copied) before the first curl_multi_remove_handle: that
 * call walks the messages not read yet (libcurl 7.88), so removing each as
 * it was read cost O(n²) when thousands finished in one call (a probe loop
 * that stalled at 1,000,000 checks spent all its time there). A done
 * callback that removes another finished transfer (curlm_remove) takes it
 * out of the list, as curl took its message out before. */
static void check_done(struct curlm *m)
{
	struct curlm_done stack[32], *d = stack;
	size_t n = 0, cap = sizeof(stack) / sizeof(stack[0]);
	CURLMsg *msg;
	bool gone = false;
	int left;

	while ((msg = curl_multi_info_read(m->multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		if (n == cap) {
			cap *= 2;
			d = d == stack ? memcpy(xmalloc(cap * sizeof(*d)), stack, sizeof(stack))
			               : xrealloc(d, cap * sizeof(*d));
		}
		d[n++] = (struct curlm_done){ msg->easy_handle, msg->data.result };
	}
	m->gone = &gone;
	m->done = d;
	m->n_done = n;
	for (m->next_done = 0; m->next_done < n; ) {
		CURL *easy = d[m->next_done].easy;
		CURLcode code = d[m->next_done].code;
		struct curlm_xfer *x;

		m->next_done++;
		if (easy == NULL)
			continue;
		x = xfer_of(easy);
		curl_multi_remove_handle(m->multi, easy);
		curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
		if (x == NULL)
			continue;
		m->in_flight--;
		x->done(easy, code, x->arg);
		free(x);
		if (gone)
			break;      /* the callback freed m */
	}
	if (!gone) {
		m->gone = NULL;
		m->done = NULL;
	}
	if (d != stack)
		free(d);
}

static void on_fd(struct loop *l, int fd, int events, void *arg)
{
	struct curlm *m = arg;
	int flags = 0, running = 0;
	CURLMcode rc;

	if (events & LOOP_READ)
		flags |= CURL_CSELECT_IN;
	if (events & LOOP_WRITE)
		flags |= CURL_CSELECT_OUT;
	rc = curl_multi_socket_action(m->multi, fd, flags, &running);
	if (rc != CURLM_OK)
		log_warn("curl_multi_socket_action() failed", "error", curl_multi_strerror(rc));
	check_done(m);
}

static void on_timer(struct loop *l, struct loop_timer *t)
{
	struct curlm *m = t->arg;
	int running = 0;
	CURLMcode rc;

	rc = curl_multi_socket_action(m->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	if (rc != CURLM_OK)
		log_warn("curl_multi_socket_action() failed", "error", curl_multi_strerror(rc));
	check_done(m);
}

/* CURLMOPT_SOCKETFUNCTION: what curl wants watched on socket s. */
static int socket_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct curlm *m = userp;
	int events = 0;

	if (m->closing)
		return 0;
	switch (what) {
	case CURL_POLL_IN:    events = LOOP_READ; break;
	case CURL_POLL_OUT:   events = LOOP_WRITE; break;
	case CURL_POLL_INOUT: events = LOOP_READ | LOOP_WRITE; break;
	case CURL_POLL_REMOVE:
	default:              events = 0; break;
	}
	if (loop_fd_set(m->l, s, events, on_fd, m) < 0) {
		log_warn("cannot watch a curl socket", "error", strerror(errno));
		return -1;  /* curl fails the transfer that owns s */
	}
	if (events != 0)
		fds_add(m, s);
	else
		fds_del(m, s);
	return 0;
}

/* CURLMOPT_TIMERFUNCTION: -1 stops our timer, anything else (re)starts it.
 * Never calls curl from here. */
static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct curlm *m = userp;

	if (m->closing)
		return 0;
	if (timeout_ms < 0)
		loop_timer_stop(m->l, &m->timer);
	else
		loop_timer_start(m->l, &m->timer, (uint64_t)timeout_ms);
	return 0;
}

/* Creates a multi handle driven by l. Aborts only on out-of-memory. */
struct curlm *curlm_new(struct loop *l)
{
	struct curlm *m;

	pthread_once(&curl_once, curl_global);
	m = xcalloc(1, sizeof(*m));
	m->l = l;
	m->multi = curl_multi_init();
	if (m->multi == NULL) {
		log_error("curl_multi_init() failed");
		free(m);
		return NULL;
	}
	loop_timer_init(&m->timer, on_timer, m);
	curl_multi_setopt(m->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
	curl_multi_setopt(m->multi, CURLMOPT_SOCKETDATA, m);
	curl_multi_setopt(m->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(m->multi, CURLMOPT_TIMERDATA, m);
	curl_multi_setopt(m->multi, CURLMOPT_MAXCONNECTS, (long)CURLM_MAX_CONNECTS);
	return m;
}

/* Frees m. Our fds are taken off the loop before curl_multi_cleanup closes
 * the cached connections (while the numbers still name our sockets); curl's
 * callbacks during cleanup are ignored. */
void curlm_free(struct curlm *m)
{
	if (m == NULL)
		return;
	if (m->in_flight != 0) {
		char n[16];

		snprintf(n, sizeof(n), "%d", m->in_flight);
		log_warn("curlm freed with transfers in flight", "count", n);
	}
	if (m->gone != NULL)
		*m->gone = true;
	loop_timer_stop(m->l, &m->timer);
	for (size_t fd = 0; fd < m->capfds; fd++)
		if (m->watched[fd])
			loop_fd_set(m->l, (int)fd, 0, NULL, NULL);
	m->closing = true;
	curl_multi_cleanup(m->multi);
	free(m->watched);
	free(m);
}

/* Adds easy; on failure done is never called and easy is untouched (apart
 * from CURLOPT_PRIVATE, reset to NULL). */
int curlm_add(struct curlm *m, CURL *easy, curlm_done_fn *done, void *arg)
{
	struct curlm_xfer *x;
	CURLMcode rc;

	if (m == NULL || easy == NULL || done == NULL)
		return -1;
	x = xmalloc(sizeof(*x));
	x->m = m;
	x->done = done;
	x->arg = arg;
	curl_easy_setopt(easy, CURLOPT_PRIVATE, x);
	rc = curl_multi_add_handle(m->multi, easy);
	if (rc != CURLM_OK) {
		log_warn("curl_multi_add_handle() failed", "error", curl_multi_strerror(rc));
		curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
		free(x);
		return -1;
	}
	m->in_flight++;
	return 0;
}

/* Abandons easy. curl_multi_remove_handle tells us through the socket
 * callback which sockets to forget, so no loop registration outlives it.
 * Safe on a handle that is not (or no longer) ours. */
void curlm_remove(struct curlm *m, CURL *easy)
{
	struct curlm_xfer *x;

	if (m == NULL || easy == NULL)
		return;
	x = xfer_of(easy);
	if (x == NULL || x->m != m)
		return;
	for (size_t i = m->done != NULL ? m->next_done : m->n_done; i < m->n_done; i++)
		if (m->done[i].easy == easy)
			m->done[i].easy = NULL;     /* finished, not handed back yet: never will be */
	curl_multi_remove_handle(m->multi, easy);
	curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
	m->in_flight--;
	free(x);
}

int curlm_running(const struct curlm *m)
{
	return m ? m->in_flight : 0;
}

/* loop.c — the event loop: epoll over an fd-indexed handler table, a binary
 * min-heap of caller-owned timers, and an eventfd-backed queue through which
 * other threads post calls onto the loop thread.
 *
 * One pass (loop_run_once):
 *   1. wait in epoll_wait at most until the nearest timer deadline;
 *   2. read CLOCK_MONOTONIC once;
 *   3. dispatch the fd events, re-checking before each one that the fd is still
 *      registered under the same registration (an earlier handler in the same
 *      batch may have removed it, or removed it and registered a new socket that
 *      got the same number);
 *   4. fire the timers that are due, in (due, start order);
 *   5. run the posted calls, in the order they were posted.
 *
 * Handlers may add or remove any fd or timer, including their own; nothing is
 * touched after a callback returns that the callback could have freed. */
#include "core/loop.h"
#include "core/log.h"
#include "core/util.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define LOOP_MAX_EVENTS 128
/* epoll_event.data for the eventfd: no real fd registration uses this value
 * because registrations carry fd < 2^31 in the low half. */
#define LOOP_WAKE_TAG UINT64_MAX

struct loop_fd {
	loop_fd_fn *fn;
	void *arg;
	int mask;           /* LOOP_READ|LOOP_WRITE; 0 = not registered */
	uint32_t gen;       /* registration generation, carried in epoll data */
};

/* A heap slot carries its timer's keys, so sifting compares within the
 * array instead of chasing a pointer per comparison (thousands of checks
 * mean a heap of thousands of timers scattered over memory). */
struct heap_node {
	uint64_t due_ms;
	uint64_t seq;
	struct loop_timer *t;
};

struct loop_post {
	loop_call_fn *fn;
	void *arg;
	struct loop_post *next;
};

struct loop {
	int epfd;
	int wakefd;                 /* eventfd: loop_post wakes epoll_wait */
	uint64_t now;               /* monotonic ms, read once per pass */
	bool stop;
	uint64_t busy_us;           /* time spent outside epoll_wait, up to the last wait */
	uint64_t woke_us;           /* when the last epoll_wait returned; 0 before the first */

	struct loop_fd *fds;        /* indexed by fd */
	size_t fds_cap;
	size_t fds_active;
	uint32_t gen;               /* last generation handed out */

	struct heap_node *heap;     /* min-heap on (due_ms, seq) */
	size_t heap_len, heap_cap;
	uint64_t seq;               /* last seq handed out */

	pthread_mutex_t post_lock;            /* guards the post queue and closed */
	struct loop_post *post_head, *post_tail;
	bool closed;
};

/* Monotonic ms of this pass. */
uint64_t loop_now(const struct loop *l)
{
	return l->now;
}

/* Creates the epoll instance and the wake eventfd; aborts when the kernel
 * refuses (nothing can run without them). */
struct loop *loop_new(void)
{
	struct loop *l = xcalloc(1, sizeof(*l));
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = LOOP_WAKE_TAG };
	char num[16];

	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0)
		goto fail;
	l->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (l->wakefd < 0)
		goto fail;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->wakefd, &ev) < 0)
		goto fail;
	errno = pthread_mutex_init(&l->post_lock, NULL);
	if (errno != 0)
		goto fail;
	l->now = util_mono_ms();
	return l;
fail:
	snprintf(num, sizeof(num), "%d", errno);
	log_error("cannot create the event loop", "error", strerror(errno), "errno", num);
	abort();
}

/* Frees the loop. Every fd and timer must be gone; posted calls that never
 * ran are dropped (logged), since running them here could touch freed state. */
void loop_free(struct loop *l)
{
	struct loop_post *p, *next;
	size_t dropped = 0;

	if (l == NULL)
		return;
	if (loop_active_count(l) != 0) {
		char n[32];

		snprintf(n, sizeof(n), "%zu", loop_active_count(l));
		log_warn("loop freed with fds or timers still active", "count", n);
	}
	pthread_mutex_lock(&l->post_lock);
	l->closed = true;
	p = l->post_head;
	l->post_head = l->post_tail = NULL;
	pthread_mutex_unlock(&l->post_lock);
	for (; p != NULL; p = next) {
		next = p->next;
		free(p);
		dropped++;
	}
	if (dropped > 0) {
		char n[32];

		snprintf(n, sizeof(n), "%zu", dropped);
		log_warn("loop freed with posted calls that never ran", "count", n);
	}
	pthread_mutex_destroy(&l->post_lock);
	close(l->wakefd);
	close(l->epfd);
	free(l->fds);
	free(l->heap);
	free(l);
}

static uint32_t epoll_mask(int events)
{
	uint32_t m = 0;

	if (events & LOOP_READ)
		m |= EPOLLIN | EPOLLRDHUP;
	if (events & LOOP_WRITE)
		m |= EPOLLOUT;
	return m;
}

/* Registers, changes or removes interest in fd. ADD or MOD is chosen from the
 * mask we recorded; should the kernel disagree (an fd closed and reopened
 * behind our back), the other operation is tried. Removing an fd that was
 * already closed (EBADF/ENOENT) still succeeds: the kernel forgot it anyway. */
int loop_fd_set(struct loop *l, int fd, int events, loop_fd_fn *fn, void *arg)
{
	struct epoll_event ev = { 0 };
	struct loop_fd *e;
	int op, rc;

	if (fd < 0 || fd == l->wakefd || fd == l->epfd) {
		errno = EBADF;
		return -1;
	}
	if ((events & ~(LOOP_READ | LOOP_WRITE)) != 0 || (events != 0 && fn == NULL)) {
		errno = EINVAL;
		return -1;
	}
	if ((size_t)fd >= l->fds_cap) {
		size_t cap = l->fds_cap ? l->fds_cap : 64;

		if (events == 0)
			return 0;   /* never registered */
		while (cap <= (size_t)fd)
			cap *= 2;
		l->fds = xrealloc(l->fds, cap * sizeof(*l->fds));
		memset(l->fds + l->fds_cap, 0, (cap - l->fds_cap) * sizeof(*l->fds));
		l->fds_cap = cap;
	}
	e = &l->fds[fd];

	if (events == 0) {
		if (e->mask == 0)
			return 0;
		rc = epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, &ev);
		e->mask = 0;
		e->fn = NULL;
		e->arg = NULL;
		l->fds_active--;
		if (rc < 0 && errno != EBADF && errno != ENOENT)
			return -1;
		return 0;
	}

	ev.events = epoll_mask(events);
	if (e->mask == 0) {
		op = EPOLL_CTL_ADD;
		/* A new registration: events still queued for an earlier one on the
		 * same fd number are recognised by their old generation and dropped. */
		ev.data.u64 = (uint64_t)(uint32_t)fd | ((uint64_t)(l->gen + 1) << 32);
	} else {
		op = EPOLL_CTL_MOD;
		ev.data.u64 = (uint64_t)(uint32_t)fd | ((uint64_t)e->gen << 32);
	}
	rc = epoll_ctl(l->epfd, op, fd, &ev);
	if (rc < 0 && op == EPOLL_CTL_ADD && errno == EEXIST)
		rc = epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev);
	else if (rc < 0 && op == EPOLL_CTL_MOD && errno == ENOENT)
		rc = epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev);
	if (rc < 0)
		return -1;
	if (e->mask == 0) {
		e->gen = ++l->gen;
		l->fds_active++;
	}
	e->mask = events;
	e->fn = fn;
	e->arg = arg;
	return 0;
}

/* --- timers: binary min-heap ordered by (due_ms, seq) -------------------- */

static bool timer_less(const struct heap_node *a, const struct heap_node *b)
{
	if (a->due_ms != b->due_ms)
		return a->due_ms < b->due_ms;
	return a->seq < b->seq;
}

static void heap_put(struct loop *l, size_t i, struct heap_node n)
{
	l->heap[i] = n;
	n.t->heap_index = i;
}

static void heap_up(struct loop *l, size_t i)
{
	struct heap_node n = l->heap[i];

	while (i > 0) {
		size_t parent = (i - 1) / 2;

		if (!timer_less(&n, &l->heap[parent]))
			break;
		heap_put(l, i, l->heap[parent]);
		i = parent;
	}
	heap_put(l, i, n);
}

static void heap_down(struct loop *l, size_t i)
{
	struct heap_node n = l->heap[i];

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= l->heap_len)
			break;
		if (c + 1 < l->heap_len && timer_less(&l->heap[c + 1], &l->heap[c]))
			c++;
		if (!timer_less(&l->heap[c], &n))
			break;
		heap_put(l, i, l->heap[c]);
		i = c;
	}
	heap_put(l, i, n);
}

/* Removes the timer at index i and restores the heap property. */
static void heap_remove(struct loop *l, size_t i)
{
	struct loop_timer *t = l->heap[i].t;
	struct heap_node last;

	l->heap_len--;
	t->heap_index = SIZE_MAX;
	if (i == l->heap_len)
		return;
	last = l->heap[l->heap_len];
	heap_put(l, i, last);
	if (i > 0 && timer_less(&last, &l->heap[(i - 1) / 2]))
		heap_up(l, i);
	else
		heap_down(l, i);
}

void loop_timer_init(struct loop_timer *t, loop_timer_fn *fn, void *arg)
{
	t->fn = fn;
	t->arg = arg;
	t->due_ms = 0;
	t->seq = 0;
	t->heap_index = SIZE_MAX;
}

bool loop_timer_active(const struct loop_timer *t)
{
	return t->heap_index != SIZE_MAX;
}

/* (Re)starts t at the absolute monotonic time due_ms. A fresh seq is taken on
 * every start, so equal deadlines fire in the order they were (re)started, and
 * a timer restarted from inside a timer callback waits for the next pass. */
void loop_timer_start_at(struct loop *l, struct loop_timer *t, uint64_t due_ms)
{
	bool active = loop_timer_active(t);
	struct heap_node n;

	t->due_ms = due_ms;
	t->seq = ++l->seq;
	n.due_ms = t->due_ms;
	n.seq = t->seq;
	n.t = t;
	if (active) {
		size_t i = t->heap_index;

		if (i >= l->heap_len || l->heap[i].t != t)
			abort();    /* a timer from another loop, or memory corruption */
		l->heap[i] = n;
		if (i > 0 && timer_less(&n, &l->heap[(i - 1) / 2]))
			heap_up(l, i);
		else
			heap_down(l, i);
		return;
	}
	if (l->heap_len == l->heap_cap) {
		l->heap_cap = l->heap_cap ? l->heap_cap * 2 : 64;
		l->heap = xrealloc(l->heap, l->heap_cap * sizeof(*l->heap));
	}
	heap_put(l, l->heap_len, n);
	l->heap_len++;
	heap_up(l, l->heap_len - 1);
}

/* (Re)starts t to fire delay_ms from now. "Now" is read fresh rather than
 * taken from the pass, so a timer started by setup code before the loop ever
 * ran does not fire early. */
void loop_timer_start(struct loop *l, struct loop_timer *t, uint64_t delay_ms)
{
	uint64_t now = util_mono_ms();
	uint64_t due = delay_ms > UINT64_MAX - now ? UINT64_MAX : now + delay_ms;

	loop_timer_start_at(l, t, due);
}

void loop_timer_stop(struct loop *l, struct loop_timer *t)
{
	if (!loop_timer_active(t))
		return;
	if (t->heap_index >= l->heap_len || l->heap[t->heap_index].t != t)
		abort();        /* a timer from another loop, or memory corruption */
	heap_remove(l, t->heap_index);
}

/* --- posted calls --------------------------------------------------------- */

/* Thread-safe. The eventfd write wakes epoll_wait; a full counter (EAGAIN)
 * means a wake-up is already pending, which is all we need. Only a post to
 * an empty queue writes: at thousands of results a second the probe threads
 * posting to the main loop saved a system call for every post that finds
 * the loop not yet run. */
int loop_post(struct loop *l, loop_call_fn *fn, void *arg)
{
	struct loop_post *p;
	uint64_t one = 1;
	ssize_t w;

	if (l == NULL || fn == NULL)
		return -1;
	p = xmalloc(sizeof(*p));
	p->fn = fn;
	p->arg = arg;
	p->next = NULL;
	pthread_mutex_lock(&l->post_lock);
	if (l->closed) {
		pthread_mutex_unlock(&l->post_lock);
		free(p);
		return -1;
	}
	if (l->post_tail != NULL) {
		/* A wake-up is pending already: the queue was not empty, and
		 * run_posted reads the eventfd before it takes the queue. */
		l->post_tail->next = p;
	} else {
		l->post_head = p;
		w = write(l->wakefd, &one, sizeof(one));
		(void)w;
	}
	l->post_tail = p;
	pthread_mutex_unlock(&l->post_lock);
	return 0;
}

/* Runs the calls queued before this point, in order. Calls posted meanwhile
 * (also from these callbacks) write the eventfd again and run next pass. */
static void run_posted(struct loop *l)
{
	struct loop_post *p, *next;
	uint64_t count;
	ssize_t r;

	r = read(l->wakefd, &count, sizeof(count));
	(void)r;
	pthread_mutex_lock(&l->post_lock);
	p = l->post_head;
	l->post_head = l->post_tail = NULL;
	pthread_mutex_unlock(&l->post_lock);
	for (; p != NULL; p = next) {
		next = p->next;
		p->fn(l, p->arg);
		free(p);
	}
}

static bool posted_pending(struct loop *l)
{
	bool pending;

	pthread_mutex_lock(&l->post_lock);
	pending = l->post_head != NULL;
	pthread_mutex_unlock(&l->post_lock);
	return pending;
}

/* --- the pass ------------------------------------------------------------- */

/* Maps epoll's bits to ours. Errors and hang-ups wake both directions the
 * handler asked for, so it finds out through its own read or write. */
static int loop_events(uint32_t e, int mask)
{
	int ev = 0;

	if (e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		ev |= LOOP_READ;
	if (e & (EPOLLOUT | EPOLLHUP | EPOLLERR))
		ev |= LOOP_WRITE;
	ev &= mask;
	return ev ? ev : mask;
}

/* Fires the timers due at l->now that were started before this point. A timer
 * (re)started by a callback during this phase gets a larger seq and waits for
 * the next pass, so "restart myself in 0 ms" cannot spin here forever. */
static void run_timers(struct loop *l)
{
	uint64_t seq_limit = l->seq;

	while (l->heap_len > 0) {
		struct loop_timer *t = l->heap[0].t;

		if (l->heap[0].due_ms > l->now || l->heap[0].seq > seq_limit)
			break;
		heap_remove(l, 0);
		/* The callback may free t: it is not touched afterwards. */
		t->fn(l, t);
	}
}

/* Milliseconds epoll_wait may sleep: 0 when work is pending, otherwise until
 * the nearest deadline, at most max_ms (UINT64_MAX = no limit). */
static int wait_ms(struct loop *l, uint64_t max_ms)
{
	uint64_t ms = max_ms;

	if (l->stop)
		return 0;
	if (l->heap_len > 0) {
		uint64_t due = l->heap[0].due_ms;
		uint64_t d = due > l->now ? due - l->now : 0;

		if (d < ms)
			ms = d;
	}
	if (ms == UINT64_MAX)
		return -1;
	return ms > INT_MAX ? INT_MAX : (int)ms;
}

static void loop_pass(struct loop *l, uint64_t max_wait_ms)
{
	struct epoll_event events[LOOP_MAX_EVENTS];
	bool woken = false;
	uint64_t t_us = util_mono_us();
	int n;

	if (l->woke_us != 0)
		l->busy_us += t_us - l->woke_us;
	l->now = t_us / 1000;
	n = epoll_wait(l->epfd, events, LOOP_MAX_EVENTS, wait_ms(l, max_wait_ms));
	if (n < 0) {
		if (errno != EINTR) {
			char num[16];

			snprintf(num, sizeof(num), "%d", errno);
			log_error("epoll_wait() failed", "error", strerror(errno), "errno", num);
		}
		n = 0;
	}
	l->woke_us = util_mono_us();
	l->now = l->woke_us / 1000;

	for (int i = 0; i < n; i++) {
		uint64_t data = events[i].data.u64;
		uint32_t fd, gen;
		struct loop_fd *e;

		if (data == LOOP_WAKE_TAG) {
			woken = true;
			continue;
		}
		fd = (uint32_t)data;
		gen = (uint32_t)(data >> 32);
		/* Still registered, and still the same registration? */
		if (fd >= l->fds_cap)
			continue;
		e = &l->fds[fd];
		if (e->mask == 0 || e->gen != gen)
			continue;
		e->fn(l, (int)fd, loop_events(events[i].events, e->mask), e->arg);
	}

	run_timers(l);
	if (woken || posted_pending(l))
		run_posted(l);
}

/* Passes until loop_stop(). The stop request is consumed on return, so the
 * loop can be run again. */
int loop_run(struct loop *l)
{
	while (!l->stop)
		loop_pass(l, UINT64_MAX);
	l->stop = false;
	return 0;
}

void loop_run_once(struct loop *l, uint64_t max_wait_ms)
{
	loop_pass(l, max_wait_ms);
}

/* Called from a callback on the loop thread; other threads loop_post a call
 * that calls it. */
void loop_stop(struct loop *l)
{
	l->stop = true;
}

uint64_t loop_busy_us(const struct loop *l)
{
	return l->busy_us;
}

size_t loop_active_count(const struct loop *l)
{
	return l->fds_active + l->heap_len;
}

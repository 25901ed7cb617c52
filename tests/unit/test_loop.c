/* test_loop.c — timers (order, ties, restart/stop from callbacks), fd
 * readiness, loop_post from another thread; every test ends with an empty loop. */
#include "unit.h"
#include "core/loop.h"
#include "core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

/* Runs passes until *done or the deadline (ms) passes; fails on the deadline. */
static void run_until(struct loop *l, const bool *done, uint64_t limit_ms)
{
	uint64_t end = util_mono_ms() + limit_ms;

	while (!*done) {
		if (util_mono_ms() > end)
			fail_msg("condition not reached within %llu ms", (unsigned long long)limit_ms);
		loop_run_once(l, 50);
	}
}

struct order {
	int fired[16];
	int n;
	bool done;
};

struct tagged {
	struct loop_timer t;
	struct order *o;
	int tag;
};

static void record(struct loop *l, struct loop_timer *t)
{
	struct tagged *x = t->arg;

	x->o->fired[x->o->n++] = x->tag;
	if (x->o->n == 5)
		x->o->done = true;
}

static void test_timer_order(void **state)
{
	struct loop *l = loop_new();
	struct order o = { 0 };
	struct tagged x[5];
	/* tag: delay; equal delays (ties) must fire in start order. */
	static const uint64_t delay[5] = { 30, 10, 20, 10, 0 };
	uint64_t base;

	for (int i = 0; i < 5; i++) {
		x[i].o = &o;
		x[i].tag = i;
		loop_timer_init(&x[i].t, record, &x[i]);
	}
	base = util_mono_ms();
	/* Ties by due time proper: start_at with identical deadlines. */
	for (int i = 0; i < 5; i++)
		loop_timer_start_at(l, &x[i].t, base + delay[i]);
	assert_int_equal(loop_active_count(l), 5);
	run_until(l, &o.done, 2000);
	assert_int_equal(o.n, 5);
	assert_int_equal(o.fired[0], 4);
	assert_int_equal(o.fired[1], 1);
	assert_int_equal(o.fired[2], 3);
	assert_int_equal(o.fired[3], 2);
	assert_int_equal(o.fired[4], 0);
	assert_true(util_mono_ms() >= base + 30);
	assert_int_equal(loop_active_count(l), 0);
	loop_free(l);
}

struct tie {
	struct loop_timer t;
	int idx;
	int *log;
	int *n;
};

static void tie_fired(struct loop *l, struct loop_timer *t)
{
	struct tie *x = t->arg;

	x->log[(*x->n)++] = x->idx;
}

static void test_timer_ties_many(void **state)
{
	struct loop *l = loop_new();
	struct tie t[64];
	int log[64], n = 0, k = 0;
	uint64_t due = util_mono_ms() + 5;

	for (int i = 0; i < 64; i++) {
		t[i].idx = i;
		t[i].log = log;
		t[i].n = &n;
		loop_timer_init(&t[i].t, tie_fired, &t[i]);
	}
	for (int i = 0; i < 64; i++)
		loop_timer_start_at(l, &t[i].t, due);
	/* Stop and start again, or restart while active: both go to the end. */
	loop_timer_stop(l, &t[10].t);
	loop_timer_stop(l, &t[10].t);       /* no-op */
	assert_false(loop_timer_active(&t[10].t));
	loop_timer_start_at(l, &t[10].t, due);
	loop_timer_start_at(l, &t[20].t, due);
	assert_int_equal(loop_active_count(l), 64);
	while (n < 64) {
		if (util_mono_ms() > due + 2000)
			fail_msg("timers did not fire");
		loop_run_once(l, 50);
	}
	for (int i = 0; i < 64; i++) {
		if (i == 10 || i == 20)
			continue;
		assert_int_equal(log[k], i);
		k++;
	}
	assert_int_equal(log[62], 10);
	assert_int_equal(log[63], 20);
	assert_int_equal(loop_active_count(l), 0);
	loop_free(l);
}

struct restart {
	struct loop_timer a, b, c;
	int a_count, b_count, c_count;
	bool done;
};

/* a: restarts itself three times, stops b on its first run. */
static void restart_a(struct loop *l, struct loop_timer *t)
{
	struct restart *r = t->arg;

	r->a_count++;
	if (r->a_count == 1)
		loop_timer_stop(l, &r->b);
	if (r->a_count < 4)
		loop_timer_start(l, t, 0);   /* must not spin within one pass */
	else
		loop_timer_start(l, &r->c, 5);
}

static void restart_b(struct loop *l, struct loop_timer *t)
{
	struct restart *r = t->arg;

	r->b_count++;
}

static void restart_c(struct loop *l, struct loop_timer *t)
{
	struct restart *r = t->arg;

	r->c_count++;
	/* Stopping myself while not active must be harmless. */
	loop_timer_stop(l, t);
	r->done = true;
}

static void test_timer_restart_stop_in_callback(void **state)
{
	struct loop *l = loop_new();
	struct restart r = { 0 };

	loop_timer_init(&r.a, restart_a, &r);
	loop_timer_init(&r.b, restart_b, &r);
	loop_timer_init(&r.c, restart_c, &r);
	loop_timer_start(l, &r.a, 1);
	loop_timer_start(l, &r.b, 20);
	/* One pass fires a at most once even though it restarts itself at 0 ms. */
	while (r.a_count == 0)
		loop_run_once(l, 100);
	assert_int_equal(r.a_count, 1);
	run_until(l, &r.done, 2000);
	assert_int_equal(r.a_count, 4);
	assert_int_equal(r.b_count, 0);
	assert_int_equal(r.c_count, 1);
	assert_int_equal(loop_active_count(l), 0);
	loop_free(l);
}

struct pipe_ctx {
	int rfd, wfd;
	int reads;
	char got[16];
	bool done;
	int writes_seen;
};

static void on_readable(struct loop *l, int fd, int events, void *arg)
{
	struct pipe_ctx *p = arg;
	ssize_t n;

	assert_true(events & LOOP_READ);
	n = read(fd, p->got, sizeof(p->got) - 1);
	if (n < 0 && errno == EAGAIN)
		return;     /* spurious */
	assert_true(n > 0);
	p->got[n] = '\0';
	p->reads++;
	/* Remove myself from inside my own handler. */
	assert_int_equal(loop_fd_set(l, fd, 0, NULL, NULL), 0);
	p->done = true;
}

static void on_writable(struct loop *l, int fd, int events, void *arg)
{
	struct pipe_ctx *p = arg;

	assert_true(events & LOOP_WRITE);
	p->writes_seen++;
	assert_int_equal(write(fd, "ping", 4), 4);
	assert_int_equal(loop_fd_set(l, fd, 0, NULL, NULL), 0);
}

static void test_fd_pipe(void **state)
{
	struct loop *l = loop_new();
	struct pipe_ctx p = { 0 };
	int fds[2];

	assert_int_equal(pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0);
	p.rfd = fds[0];
	p.wfd = fds[1];
	assert_int_equal(loop_fd_set(l, p.rfd, LOOP_READ, on_readable, &p), 0);
	/* Nothing written yet: a pass must not report readability. */
	loop_run_once(l, 20);
	assert_int_equal(p.reads, 0);
	/* ADD then MOD of the same fd. */
	assert_int_equal(loop_fd_set(l, p.wfd, LOOP_READ, on_writable, &p), 0);
	assert_int_equal(loop_fd_set(l, p.wfd, LOOP_WRITE, on_writable, &p), 0);
	assert_int_equal(loop_active_count(l), 2);
	run_until(l, &p.done, 2000);
	assert_int_equal(p.writes_seen, 1);
	assert_string_equal(p.got, "ping");
	assert_int_equal(loop_active_count(l), 0);
	/* Removing an unregistered fd is a no-op; bad arguments fail. */
	assert_int_equal(loop_fd_set(l, p.rfd, 0, NULL, NULL), 0);
	assert_int_equal(loop_fd_set(l, -1, LOOP_READ, on_readable, &p), -1);
	assert_int_equal(loop_fd_set(l, p.rfd, 4, on_readable, &p), -1);
	close(p.rfd);
	close(p.wfd);
	loop_free(l);
}

/* Two fds ready in the same pass; the first handler removes the second, which
 * must then not be dispatched. */
struct two {
	int a[2], b[2];
	int a_calls, b_calls;
	bool done;
};

static void two_b(struct loop *l, int fd, int events, void *arg)
{
	struct two *t = arg;

	t->b_calls++;
	loop_fd_set(l, fd, 0, NULL, NULL);
	if (t->a_calls == 0)
		loop_fd_set(l, t->a[0], 0, NULL, NULL);
	t->done = true;
}

static void two_a(struct loop *l, int fd, int events, void *arg)
{
	struct two *t = arg;

	t->a_calls++;
	loop_fd_set(l, fd, 0, NULL, NULL);
	if (t->b_calls == 0) {
		loop_fd_set(l, t->b[0], 0, NULL, NULL);
		t->done = true;
	}
}

static void test_fd_removed_before_dispatch(void **state)
{
	struct loop *l = loop_new();
	struct two t = { 0 };

	assert_int_equal(pipe2(t.a, O_NONBLOCK), 0);
	assert_int_equal(pipe2(t.b, O_NONBLOCK), 0);
	assert_int_equal(write(t.a[1], "x", 1), 1);
	assert_int_equal(write(t.b[1], "x", 1), 1);
	loop_fd_set(l, t.a[0], LOOP_READ, two_a, &t);
	loop_fd_set(l, t.b[0], LOOP_READ, two_b, &t);
	run_until(l, &t.done, 2000);
	/* Exactly one of the two ran: whichever came first removed the other. */
	assert_int_equal(t.a_calls + t.b_calls, 1);
	loop_run_once(l, 10);
	assert_int_equal(t.a_calls + t.b_calls, 1);
	assert_int_equal(loop_active_count(l), 0);
	close(t.a[0]);
	close(t.a[1]);
	close(t.b[0]);
	close(t.b[1]);
	loop_free(l);
}

#define POSTS 1000

struct post_ctx {
	struct loop *l;
	int seen[POSTS];
	int n;
	bool in_order;
	bool done;
	pthread_t loop_thread;
	bool on_loop_thread;
};

struct post_item {
	struct post_ctx *c;
	int i;
};

static struct post_item items[POSTS];

static void posted(struct loop *l, void *arg)
{
	struct post_item *it = arg;
	struct post_ctx *c = it->c;

	if (!pthread_equal(pthread_self(), c->loop_thread))
		c->on_loop_thread = false;
	if (it->i != c->n)
		c->in_order = false;
	c->seen[c->n++] = it->i;
	if (c->n == POSTS)
		c->done = true;
}

static void *poster(void *arg)
{
	struct post_ctx *c = arg;

	for (int i = 0; i < POSTS; i++) {
		items[i].c = c;
		items[i].i = i;
		if (loop_post(c->l, posted, &items[i]) != 0)
			return (void *)1;
	}
	return NULL;
}

static void stop_it(struct loop *l, void *arg)
{
	loop_stop(l);
}

static void test_post_from_thread(void **state)
{
	struct post_ctx c = { 0 };
	pthread_t th;
	void *ret;

	c.l = loop_new();
	c.in_order = true;
	c.on_loop_thread = true;
	c.loop_thread = pthread_self();
	assert_int_equal(pthread_create(&th, NULL, poster, &c), 0);
	run_until(c.l, &c.done, 5000);
	assert_int_equal(pthread_join(th, &ret), 0);
	assert_null(ret);
	assert_int_equal(c.n, POSTS);
	assert_true(c.in_order);
	assert_true(c.on_loop_thread);
	/* loop_run returns after a posted loop_stop. */
	assert_int_equal(loop_post(c.l, stop_it, NULL), 0);
	assert_int_equal(loop_run(c.l), 0);
	assert_int_equal(loop_active_count(c.l), 0);
	loop_free(c.l);
}

/* loop_run with a timer that stops the loop; the epoll timeout follows the
 * nearest deadline (the run takes about the timer's delay, not longer). */
static void stop_timer(struct loop *l, struct loop_timer *t)
{
	loop_stop(l);
}

static void test_run_until_stop(void **state)
{
	struct loop *l = loop_new();
	struct loop_timer t;
	uint64_t start = util_mono_ms(), took;

	loop_timer_init(&t, stop_timer, NULL);
	loop_timer_start(l, &t, 30);
	assert_true(loop_timer_active(&t));
	assert_int_equal(loop_run(l), 0);
	took = util_mono_ms() - start;
	assert_true(took >= 30);
	assert_true(took < 1000);
	assert_false(loop_timer_active(&t));
	assert_true(loop_now(l) >= start + 30);
	assert_int_equal(loop_active_count(l), 0);
	loop_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timer_order),
		cmocka_unit_test(test_timer_ties_many),
		cmocka_unit_test(test_timer_restart_stop_in_callback),
		cmocka_unit_test(test_fd_pipe),
		cmocka_unit_test(test_fd_removed_before_dispatch),
		cmocka_unit_test(test_post_from_thread),
		cmocka_unit_test(test_run_until_stop),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* loop.h — the event loop: one thread, epoll, a min-heap of timers and an
 * eventfd through which other threads post calls into the loop.
 *
 * Everything a probe or a notification delivery does happens on this thread:
 * libcurl's and c-ares' sockets are registered here with loop_fd_set(), their
 * timeouts are loop timers. Nothing here blocks except epoll_wait itself.
 *
 * Contract: callbacks run on the loop thread. A handler may add or remove any
 * fd or timer, including its own. Handlers must accept spurious wake-ups. */
#ifndef PHAROS_LOOP_H
#define PHAROS_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { LOOP_READ = 1, LOOP_WRITE = 2 };

struct loop;
struct loop_timer;

typedef void loop_fd_fn(struct loop *l, int fd, int events, void *arg);
typedef void loop_timer_fn(struct loop *l, struct loop_timer *t);
typedef void loop_call_fn(struct loop *l, void *arg);

/* Caller-owned timer (embed it where it is used). Fields other than fn and
 * arg are private to loop.c. */
struct loop_timer {
	loop_timer_fn *fn;
	void *arg;
	uint64_t due_ms;     /* private: monotonic ms */
	uint64_t seq;        /* private: tie-break, so equal deadlines fire in start order */
	size_t heap_index;   /* private: SIZE_MAX when not started */
};

struct loop *loop_new(void);                 /* aborts on failure to create epoll/eventfd */
void loop_free(struct loop *l);              /* every fd and timer must be gone */

/* Registers, changes (events != 0) or removes (events == 0) interest in fd.
 * Returns 0, or -1 with errno set. */
int loop_fd_set(struct loop *l, int fd, int events, loop_fd_fn *fn, void *arg);

void loop_timer_init(struct loop_timer *t, loop_timer_fn *fn, void *arg);
/* (Re)starts t to fire once after delay_ms / at the monotonic time due_ms.
 * Starting an active timer moves it. A due time in the past fires on the next pass. */
void loop_timer_start(struct loop *l, struct loop_timer *t, uint64_t delay_ms);
void loop_timer_start_at(struct loop *l, struct loop_timer *t, uint64_t due_ms);
void loop_timer_stop(struct loop *l, struct loop_timer *t);   /* no-op when not active */
bool loop_timer_active(const struct loop_timer *t);

/* Monotonic milliseconds, read once per pass (and after each epoll_wait). */
uint64_t loop_now(const struct loop *l);

/* Microseconds the loop spent outside epoll_wait (running handlers, or
 * waiting for a core to run them on) since it started, up to its last
 * wait. Loop thread only. The admission of check runs reads how busy the
 * loop is from it. */
uint64_t loop_busy_us(const struct loop *l);

/* Thread-safe: queues fn(l, arg) to run on the loop thread soon, in order.
 * Returns 0, or -1 when the loop is gone. */
int loop_post(struct loop *l, loop_call_fn *fn, void *arg);

/* Runs until loop_stop() is called (from a callback), then returns 0. */
int loop_run(struct loop *l);
/* Runs a single pass, waiting at most max_wait_ms for events. For tests and
 * for the one-shot `pharos probe`. */
void loop_run_once(struct loop *l, uint64_t max_wait_ms);
void loop_stop(struct loop *l);

/* Number of registered fds and active timers (posted calls excluded): tests
 * prove the loop is empty at the end with it. */
size_t loop_active_count(const struct loop *l);

#endif

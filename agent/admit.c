/* admit.c — admission of check runs on one loop: the in-flight limit, the
 * FIFO of runs waiting for a slot, and the count of runs skipped for
 * overload. See admit.h for why. */
#include <string.h>

#include "admit.h"

void admit_init(struct admit *a, uint64_t now_ms, uint64_t busy_us)
{
	memset(a, 0, sizeof(*a));
	a->limit = ADMIT_LIMIT_START;
	a->window_start_ms = now_ms;
	a->window_busy_us = busy_us;
}

void admit_hold(struct admit *a, bool held)
{
	a->held = held;
}

bool admit_try(struct admit *a)
{
	if (a->held || a->queued > 0 || a->inflight >= a->limit) {
		a->window_waited = true;
		return false;
	}
	a->inflight++;
	return true;
}

void admit_release(struct admit *a)
{
	if (a->inflight > 0)
		a->inflight--;
}

static void queue_unlink(struct admit *a, struct admit_item *it)
{
	if (it->prev)
		it->prev->next = it->next;
	else
		a->head = it->next;
	if (it->next)
		it->next->prev = it->prev;
	else
		a->tail = it->prev;
	it->prev = it->next = NULL;
	it->queued = false;
	a->queued--;
}

void admit_count_skipped(struct admit *a, uint64_t n, uint64_t now_ms)
{
	if (n == 0)
		return;
	a->skipped += n;
	a->last_skip_ms = now_ms > 0 ? now_ms : 1;
}

bool admit_enqueue(struct admit *a, struct admit_item *it, uint64_t due_ms,
                   uint64_t deadline_ms, uint64_t now_ms)
{
	a->window_waited = true;
	if (deadline_ms < now_ms) {
		admit_count_skipped(a, 1, now_ms);
		return false;
	}
	it->due_ms = due_ms;
	it->deadline_ms = deadline_ms;
	it->next = NULL;
	it->prev = a->tail;
	if (a->tail)
		a->tail->next = it;
	else
		a->head = it;
	a->tail = it;
	it->queued = true;
	a->queued++;
	return true;
}

void admit_cancel(struct admit *a, struct admit_item *it)
{
	if (it->queued)
		queue_unlink(a, it);
}

void admit_skip(struct admit *a, struct admit_item *it, uint64_t now_ms)
{
	if (!it->queued)
		return;
	queue_unlink(a, it);
	admit_count_skipped(a, 1, now_ms);
}

struct admit_item *admit_next(struct admit *a, uint64_t now_ms)
{
	while (a->head != NULL && !a->held && a->inflight < a->limit) {
		struct admit_item *it = a->head;

		queue_unlink(a, it);
		if (it->deadline_ms < now_ms) {
			admit_count_skipped(a, 1, now_ms);
			continue;
		}
		a->inflight++;
		return it;
	}
	return NULL;
}

/* Once per window: a loop busy nearly all the time serves every run in
 * flight late, so fewer are let in (an eighth less than were in flight);
 * a loop with room while runs waited lets a quarter more in. In between,
 * or with nobody waiting, the limit stays. */
void admit_adjust(struct admit *a, uint64_t now_ms, uint64_t busy_us)
{
	uint64_t span_ms = now_ms - a->window_start_ms;
	double busy;

	if (now_ms < a->window_start_ms + ADMIT_WINDOW_MS)
		return;
	busy = busy_us > a->window_busy_us ?
	       (double)(busy_us - a->window_busy_us) / 1000.0 / (double)span_ms : 0.0;
	if (busy > ADMIT_BUSY_HIGH) {
		size_t base = a->inflight < a->limit ? a->inflight : a->limit;
		size_t next = base - base / 8;

		a->limit = next > ADMIT_LIMIT_MIN ? next : ADMIT_LIMIT_MIN;
	} else if (busy < ADMIT_BUSY_LOW && a->window_waited && !a->held) {
		/* (Runs waited for the main loop, not for this one: no more
		 * runs in flight would help.) */
		size_t step = a->limit / 4 > 8 ? a->limit / 4 : 8;

		a->limit = a->limit + step < ADMIT_LIMIT_MAX ? a->limit + step : ADMIT_LIMIT_MAX;
	}
	a->window_start_ms = now_ms;
	a->window_busy_us = busy_us;
	a->window_waited = a->queued > 0;
}

bool admit_overloaded(const struct admit *a, uint64_t now_ms)
{
	return a->held ||
	       (a->last_skip_ms != 0 && now_ms < a->last_skip_ms + ADMIT_OVERLOAD_HOLD_MS);
}

uint64_t admit_deadline(uint64_t due_ms, uint64_t interval_ms, uint64_t timeout_ms)
{
	return interval_ms > timeout_ms ? due_ms + (interval_ms - timeout_ms) : due_ms;
}

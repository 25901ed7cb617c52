/* delivery_policy.c — the pure policy of delivery (delivery.h): backoff with
 * full jitter, the circuit breaker and the token bucket. No I/O, no clock of
 * its own: callers pass the time, so tests drive it directly. */
#include <stddef.h>

#include "alerts/delivery_policy.h"

/* --- pure policy ------------------------------------------------------------- */

uint64_t delivery_backoff_ms(int attempts, uint64_t rnd)
{
	uint64_t bound = DELIVERY_BACKOFF_BASE_MS;

	if (attempts < 1)
		attempts = 1;
	/* BASE * 2^(attempts-1), saturating at CAP long before it could overflow. */
	for (int i = 1; i < attempts && bound < DELIVERY_BACKOFF_CAP_MS; i++)
		bound *= 2;
	if (bound > DELIVERY_BACKOFF_CAP_MS)
		bound = DELIVERY_BACKOFF_CAP_MS;
	return rnd % (bound + 1);
}

uint64_t delivery_retry_delay_ms(int attempts, uint64_t retry_after_ms, uint64_t rnd)
{
	uint64_t d = delivery_backoff_ms(attempts, rnd);

	return retry_after_ms > d ? retry_after_ms : d;
}

const char *delivery_breaker_state_name(enum delivery_breaker_state s)
{
	switch (s) {
	case BREAKER_CLOSED:    return "closed";
	case BREAKER_OPEN:      return "open";
	case BREAKER_HALF_OPEN: return "half-open";
	}
	return "unknown";
}

bool delivery_breaker_allow(struct delivery_breaker *b, uint64_t now_ms, uint64_t *retry_ms)
{
	if (retry_ms != NULL)
		*retry_ms = UINT64_MAX;
	switch (b->state) {
	case BREAKER_CLOSED:
		return true;
	case BREAKER_OPEN:
		if (now_ms < b->opened_ms + DELIVERY_BREAKER_OPEN_MS) {
			if (retry_ms != NULL)
				*retry_ms = b->opened_ms + DELIVERY_BREAKER_OPEN_MS;
			return false;
		}
		b->state = BREAKER_HALF_OPEN;
		b->trial_in_flight = false;
		/* fall through: the first caller after the open period gets the trial */
		/* FALLTHROUGH */
	case BREAKER_HALF_OPEN:
		if (b->trial_in_flight)
			return false;
		b->trial_in_flight = true;
		return true;
	}
	return false;
}

void delivery_breaker_report(struct delivery_breaker *b, bool ok, uint64_t now_ms)
{
	if (ok) {
		b->state = BREAKER_CLOSED;
		b->failures = 0;
		b->trial_in_flight = false;
		return;
	}
	b->failures++;
	if (b->state == BREAKER_HALF_OPEN ||
	    (b->state == BREAKER_CLOSED && b->failures >= DELIVERY_BREAKER_FAILURES)) {
		b->state = BREAKER_OPEN;
		b->opened_ms = now_ms;
		b->trial_in_flight = false;
	}
	/* Failures of attempts that started before the breaker opened keep it
	 * open without moving its start: the open period is from the first. */
}

uint64_t delivery_bucket_take(struct delivery_bucket *b, double rate_per_s, uint64_t now_ms)
{
	double burst, need;

	if (rate_per_s <= 0)
		return 0;
	burst = rate_per_s < 1 ? 1 : rate_per_s;
	if (!b->started) {
		b->started = true;
		b->tokens = burst;
		b->last_ms = now_ms;
	}
	if (now_ms > b->last_ms) {
		b->tokens += (double)(now_ms - b->last_ms) * rate_per_s / 1000.0;
		if (b->tokens > burst)
			b->tokens = burst;
		b->last_ms = now_ms;
	}
	if (b->tokens >= 1.0 - 1e-9) {
		b->tokens -= 1.0;
		return 0;
	}
	need = (1.0 - b->tokens) * 1000.0 / rate_per_s;
	return need < 1 ? 1 : (uint64_t)need + 1;
}

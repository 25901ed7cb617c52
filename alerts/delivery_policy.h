/* delivery_policy.h — the pure policy of delivery (delivery.h): backoff with
 * full jitter, the circuit breaker and the token bucket. No I/O, no clock of
 * its own, nothing of the deliverer: callers pass the time. */
#ifndef PHAROS_DELIVERY_POLICY_H
#define PHAROS_DELIVERY_POLICY_H

#include <stdbool.h>
#include <stdint.h>

#define DELIVERY_BACKOFF_BASE_MS    1000ULL
#define DELIVERY_BACKOFF_CAP_MS     300000ULL
#define DELIVERY_BREAKER_FAILURES   5
#define DELIVERY_BREAKER_OPEN_MS    60000ULL

/* --- pure policy (unit-tested) ------------------------------------------- */

/* Full jitter: a delay in [0, min(CAP, BASE * 2^(attempts-1))] for the retry
 * after the attempts-th failed attempt (attempts >= 1; 0 is treated as 1),
 * picked by rnd (uniform 64-bit): rnd % (bound + 1). */
uint64_t delivery_backoff_ms(int attempts, uint64_t rnd);

/* The delay before the next attempt: the backoff, but never sooner than a
 * Retry-After the receiver asked for (retry_after_ms, 0: none). */
uint64_t delivery_retry_delay_ms(int attempts, uint64_t retry_after_ms, uint64_t rnd);

enum delivery_breaker_state { BREAKER_CLOSED, BREAKER_OPEN, BREAKER_HALF_OPEN };
const char *delivery_breaker_state_name(enum delivery_breaker_state s);

struct delivery_breaker {
	enum delivery_breaker_state state;
	int failures;               /* consecutive */
	uint64_t opened_ms;
	bool trial_in_flight;       /* half-open: the one attempt let through */
};

/* May an attempt start at now_ms? Moves open -> half-open when the open
 * period is over; in half-open, true once (the trial; the caller must then
 * report its outcome). *retry_ms (may be NULL) receives when to ask again
 * when the answer is false (UINT64_MAX: when the trial ends). */
bool delivery_breaker_allow(struct delivery_breaker *b, uint64_t now_ms, uint64_t *retry_ms);
/* The outcome of an attempt that was allowed. */
void delivery_breaker_report(struct delivery_breaker *b, bool ok, uint64_t now_ms);

struct delivery_bucket {
	double tokens;
	uint64_t last_ms;
	bool started;
};

/* Takes a token at now_ms when one is there (returns 0), else returns the
 * milliseconds until one will be (at least 1). rate_per_s <= 0: unlimited. */
uint64_t delivery_bucket_take(struct delivery_bucket *b, double rate_per_s, uint64_t now_ms);

#endif

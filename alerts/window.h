/* window.h — a per-check in-memory ring of recent results, for the windowed
 * metrics of alert rules (error_rate(W), pXX_latency(W), avg_latency(W)).
 *
 * The ring keeps the newest `capacity` runs: (ts_ms, duration_ms, ok). Size it
 * with window_capacity_for(longest window of the check's rules, interval);
 * window_resize() on reload keeps the newest entries. Runs are expected in
 * ts order (the order they finish); a window is [now_ms - W, now_ms] and a scan
 * walks back from the newest run until it leaves the window, so every query is
 * O(runs in the window) and allocates nothing (percentiles select in a scratch
 * buffer the window owns; hence the non-const pointer).
 *
 * Latency statistics use every run in the window that has a duration, failed
 * ones included: a timed-out run counts as slow, which is what a user waiting
 * on the target saw. A run recorded without a duration (NAN, e.g. a missed
 * heartbeat) counts for error_rate only. Every query returns NAN when no run
 * (with a duration, for latencies) lies in the window.
 */
#ifndef PHAROS_WINDOW_H
#define PHAROS_WINDOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WINDOW_MAX_CAPACITY 100000

struct window;

/* Entries needed to cover max_window_ms of runs every interval_ms:
 * ceil(max_window / interval) plus slack (retries, manual runs, jitter),
 * capped at WINDOW_MAX_CAPACITY. 0 when max_window_ms is 0 (no windowed rule).
 * interval_ms 0 is treated as 1s. */
size_t window_capacity_for(uint64_t max_window_ms, uint64_t interval_ms);

/* A new empty ring holding up to capacity runs (clamped to
 * WINDOW_MAX_CAPACITY; 0 is allowed and keeps nothing). Free with window_free. */
struct window *window_new(size_t capacity);
void window_free(struct window *w);

/* Changes the capacity (clamped as above), keeping the newest runs that fit. */
void window_resize(struct window *w, size_t capacity);

/* Forgets every run. */
void window_clear(struct window *w);

/* Records one run: ts_ms when it happened (wall clock ms), its duration in ms
 * (NAN or negative: none), and whether it succeeded. The oldest run is
 * dropped when the ring is full. */
void window_add(struct window *w, int64_t ts_ms, double duration_ms, bool ok);

size_t window_count(const struct window *w);      /* runs held */
size_t window_capacity(const struct window *w);

/* Runs in [now_ms - span_ms, now_ms]. */
size_t window_runs(const struct window *w, int64_t now_ms, uint64_t span_ms);

/* Percent (0..100) of failed runs in [now_ms - span_ms, now_ms]; NAN when none. */
double window_error_rate(const struct window *w, int64_t now_ms, uint64_t span_ms);

/* Mean duration (ms) of the runs with a duration in the window; NAN when none. */
double window_avg_latency(const struct window *w, int64_t now_ms, uint64_t span_ms);

/* Nearest-rank percentile (ms) of the durations in the window: the smallest
 * duration d such that at least pct% of them are <= d, i.e. the
 * ceil(pct/100 * n)-th smallest (at least the 1st). pct is 1..100 (50 gives
 * the median, 100 the maximum). NAN when no run with a duration lies in the
 * window. Expected O(n), no allocation. */
double window_percentile(struct window *w, int64_t now_ms, uint64_t span_ms, unsigned pct);

#endif

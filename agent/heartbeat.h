/* heartbeat.h — passive heartbeat checks (SPEC §2.1): the push endpoint
 * (`GET|POST /api/v1/push/NAME[/fail]`), its input handling (token, body)
 * factored out as pure functions so they can be fuzzed, the lateness
 * arithmetic (pure, clock injected), and the hand-over of a ping from a
 * server thread to the loop, where the scheduler records it.
 *
 * Lateness: a heartbeat check is pending until its first ping. After a ping
 * (success or /fail) at P, no ping by P + interval + grace records ONE failed
 * result (error class "timeout"); while still late, one more every interval,
 * so the history shows the outage without a row per tick. The next ping
 * starts over. */
#ifndef PHAROS_HEARTBEAT_H
#define PHAROS_HEARTBEAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HEARTBEAT_BODY_MAX 10000    /* bytes of a push body kept; the rest is ignored */
#define HEARTBEAT_WAIT_MS 2000      /* how long a push waits for the loop to apply it */

struct loop;
struct sched;
struct api_request;
struct api_response;

/* --- the push endpoint's input (pure; fuzzed by tests/fuzz/fuzz_push.c) ----- */

enum heartbeat_auth {
	HEARTBEAT_AUTH_OK,
	HEARTBEAT_AUTH_MISSING,     /* no token given: 401 */
	HEARTBEAT_AUTH_WRONG,       /* a token that is not the check's: 403 */
};

/* Compares the token of a push with expected, in constant time. The token is
 * taken from authorization ("Bearer TOKEN", scheme case-insensitive) when it
 * is a bearer header, else from query_token (the decoded ?token=). Either may
 * be NULL. An expected NULL or "" never matches. */
enum heartbeat_auth heartbeat_check_token(const char *authorization, const char *query_token,
                                          const char *expected);

/* The body of a push as text: at most HEARTBEAT_BODY_MAX bytes of it (a
 * multi-byte character cut by the cap is dropped whole), every byte that is
 * not part of valid UTF-8, and NUL, replaced by U+FFFD. *truncated tells
 * whether bytes were ignored. Never NULL; caller frees. */
char *heartbeat_body_text(const char *body, size_t len, bool *truncated);

/* Copies src into dst (cap bytes, NUL-terminated), cut at a UTF-8 character
 * boundary so a cut never leaves half a character. */
void heartbeat_copy_text(char *dst, size_t cap, const char *src);

/* --- lateness (pure; the caller passes the wall clock) ---------------------- */

struct heartbeat_clock {
	int64_t last_ping_ms;       /* wall clock of the last ping; 0: none yet (pending) */
	int64_t late_reported_ms;   /* last lateness failure recorded since that ping; 0: none */
};

/* A ping (success or failure) arrived at now_ms: lateness starts over. */
void heartbeat_on_ping(struct heartbeat_clock *hc, int64_t now_ms);

/* The wall clock time at which the next lateness failure is due, or 0 when
 * nothing is watched (no ping yet). */
int64_t heartbeat_next_due(const struct heartbeat_clock *hc, uint64_t interval_ms,
                           uint64_t grace_ms);

/* True when a lateness failure is to be recorded at now_ms; it is then
 * counted as reported (the next one is due an interval later). */
bool heartbeat_late_due(struct heartbeat_clock *hc, int64_t now_ms, uint64_t interval_ms,
                        uint64_t grace_ms);

/* "no ping for 2h 5m (expected every 24h + 2h grace)"; age_ms < 0 is taken
 * as 0. */
void heartbeat_late_message(int64_t age_ms, uint64_t interval_ms, uint64_t grace_ms,
                            char *buf, size_t len);

/* --- from a server thread to the loop ---------------------------------------- */

/* Posts a ping for heartbeat check name to the loop, where
 * sched_heartbeat_ping() records it, and waits up to HEARTBEAT_WAIT_MS for it
 * to be applied. message is the body text ("" when none). Returns 0 with the
 * check's new state name ("up", "down", "blocked") in state, 1 when the ping
 * is queued but was not applied within the wait (state: what it will be), -1
 * when there is no such heartbeat check, -2 when the agent is stopping.
 * Called on a server thread; never on the loop thread. */
int heartbeat_deliver(struct loop *l, struct sched *s, const char *name, bool fail,
                      const char *message, bool truncated, char *state, size_t state_len);

/* The route handler of GET|POST /api/v1/push/NAME and /api/v1/push/NAME/fail
 * (see api.h for the handler shape): 404 for an unknown or non-heartbeat
 * check, 401 without a token, 403 with a wrong one, else 200
 * {"ok": true, "check": NAME, "state": STATE}. Every attempt is logged,
 * never with the token. */
void heartbeat_api_push(struct api_request *rq, struct api_response *rs);

#endif

/* heartbeat.h — the heartbeat check type (SPEC §2.1): passive, never probed,
 * fed by pushes to `GET|POST /api/v1/push/NAME[/fail]` (agent/heartbeat.c
 * serves them; sched.c records them). Here: its descriptor (probe_type_heartbeat),
 * the pure handling of a push's input (token, body; fuzzed), and the
 * lateness arithmetic (clock injected).
 *
 * Lateness: a heartbeat check is pending until its first ping. After a ping
 * (success or /fail) at P, no ping by P + interval + grace records ONE failed
 * result (error class "timeout"); while still late, one more every interval,
 * so the history shows the outage without a row per tick. The next ping
 * starts over. */
#ifndef PHAROS_PROBES_HEARTBEAT_H
#define PHAROS_PROBES_HEARTBEAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "probes/result.h"

#define HEARTBEAT_BODY_MAX 10000    /* bytes of a push body kept; the rest is ignored */

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

/* --- results (pure) ---------------------------------------------------------- */

/* Fills r (initialised by the caller) with the result of a ping at now_ms:
 * a success whose message is the body ("ping received" when none), or for
 * /fail an assertion failure "job reported failure: BODY"; details ping,
 * body and body_truncated. body may be NULL. */
void heartbeat_ping_result(struct probe_result *r, int64_t now_ms, bool fail, const char *body,
                           bool truncated);

/* The check's last recorded result, for heartbeat_status_result. */
struct heartbeat_last {
	bool ok;
	enum probe_error error;
	const char *message;        /* may be NULL */
};

/* Fills r (initialised) with the answer to "run now" of a heartbeat check:
 * nothing is probed, so it says where the check stands (no ping yet, or the
 * last ping's age and, when it failed, why). last: NULL when none. */
void heartbeat_status_result(struct probe_result *r, const struct heartbeat_clock *hc, int64_t now_ms,
                             uint64_t interval_ms, uint64_t grace_ms, const struct heartbeat_last *last);

#endif

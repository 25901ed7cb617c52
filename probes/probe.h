/* probe.h — running one check once, asynchronously on the event loop.
 *
 *   run = probe_start(&env, check, on_done, arg);
 *   ... on_done(run, result, arg) is called exactly once, on the loop thread,
 *   never from inside probe_start; the run is freed right after on_done returns.
 *
 * The overall timeout (check->timeout_ms) is enforced here for every type: when
 * it expires the type's run is abandoned and the result is PROBE_ERR_TIMEOUT
 * with the phase it was in ("no answer within 5s while connecting").
 *
 * Each check type has its descriptor (struct probe_type, probe_type.h) in its
 * own file (http.c, tcp.c, dns.c, ...), listed in the table in types.c; a run
 * calls the descriptor's start and abort. */
#ifndef PHAROS_PROBE_H
#define PHAROS_PROBE_H

#include "probes/check.h"
#include "probes/probe_type.h"
#include "core/loop.h"
#include "probes/result.h"

struct loop;
struct curlm;
struct resolver;

/* What a probe may use. Owned by the caller; outlives every run. */
struct probe_env {
	struct loop *loop;
	struct curlm *curlm;
	struct resolver *resolver;      /* system resolver for host names */
	const char *source_address;     /* agent.source_address: every probe is sent from
	                                   it (an IP literal); NULL: the system's choice */
};

/* AF_INET or AF_INET6 when env has a source address of that family (host
 * names are then resolved to that family only), else AF_UNSPEC. */
int probe_source_family(const struct probe_env *env);

struct probe_run;
typedef void probe_done_fn(struct probe_run *run, struct probe_result *result, void *arg);

/* Never fails: a run that cannot start completes (from the loop) with a
 * failed result. check must stay valid until done has been called. */
struct probe_run *probe_start(const struct probe_env *env, const struct check *check,
                              probe_done_fn *done, void *arg);

/* Abandons the run: done is called before this returns, with PROBE_ERR_ABORTED. */
void probe_abort(struct probe_run *run);

/* --- for the check type implementations ------------------------------------ */

struct probe_run {
	const struct probe_env *env;
	const struct check *check;
	struct probe_result result;
	uint64_t start_mono_us;
	const char *phase;          /* what the run is doing now, for timeout messages */
	void *impl;                 /* the type's state */
	/* The run's latency when a type measures it apart from its own pacing
	 * (icmp: the average round trip, not the spacing between echoes); 0:
	 * the whole run. probe_finish makes it the result's duration. */
	int64_t latency_us;
	/* private to probe.c */
	const struct probe_type *type;  /* the check's type: start and abort */
	probe_done_fn *done;
	void *arg;
	int finishing;
	struct loop_timer timeout;
	struct loop_timer deferred;   /* finishes a run that failed to start */
};

/* Called by a type when its work is over (success or failure already set in
 * run->result): stops the timeout, fills duration, calls done, frees the run.
 * The type must have released run->impl before. */
void probe_finish(struct probe_run *run);

/* Microseconds since the run started. */
int64_t probe_elapsed_us(const struct probe_run *run);

/* For a type's resolver_lookup callback: true when the lookup gave at least
 * one address; otherwise fails r as PROBE_ERR_DNS in the resolver's words. */
struct resolver_addrs;
bool probe_resolved(struct probe_result *r, int status, const char *errmsg,
                    const struct resolver_addrs *addrs);

/* For tests of icmp.c: the ICMP socket kinds a run may try, PROBE_ICMP_DGRAM
 * and/or PROBE_ICMP_RAW (the default is both); 0 acts as a host where neither
 * is permitted. Call from the loop thread, or before any run starts. */
enum { PROBE_ICMP_DGRAM = 1, PROBE_ICMP_RAW = 2 };
void probe_icmp_set_socket_kinds(int kinds);

/* Frees the DNS resolvers dns.c created for checks with a `server` (one per
 * loop, server and timeout, shared by every run). Call at shutdown, before
 * loop_free(), once no dns run is in flight. */
void probe_dns_cleanup(void);

/* Multi-step http (http.c): replaces every ${var:NAME} in s whose NAME is
 * one of names[0..n) by values[i]: percent-encoded (all but A-Z a-z 0-9 - . _
 * ~) in PROBE_SUBST_URL mode, with CR, LF and other control characters but
 * tab replaced by a space in PROBE_SUBST_HEADER mode (no header injection),
 * as is in PROBE_SUBST_RAW mode. An unknown NAME or a "${var:" without "}"
 * stays as written; inserted values are not scanned again. Returns a new
 * string, or NULL when the result would exceed PROBE_SUBST_MAX bytes. */
enum probe_subst_mode { PROBE_SUBST_RAW, PROBE_SUBST_URL, PROBE_SUBST_HEADER };
#define PROBE_SUBST_MAX (1024 * 1024)
char *probe_http_subst(const char *s, const char *const *names, const char *const *values,
                       size_t n, enum probe_subst_mode mode);

#endif

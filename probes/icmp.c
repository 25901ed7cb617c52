/* icmp.c — the icmp check type: resolve the host with c-ares, then send
 * `count` echo requests `spacing_ms` apart from one socket registered in the
 * loop and collect the replies: round-trip min/avg/max/mdev and loss.
 *
 * The socket is an unprivileged ICMP datagram socket (SOCK_DGRAM with
 * IPPROTO_ICMP / IPPROTO_ICMPV6, allowed for the groups in
 * net.ipv4.ping_group_range). When that is refused, a raw socket is tried,
 * which works with CAP_NET_RAW. Neither: the run fails (class "internal": the
 * host's settings, not the target, are at fault) naming the sysctl and the
 * capability.
 *
 * Matching replies: on a datagram socket the kernel picks the identifier and
 * only hands us replies carrying it, so a reply is ours when its sequence
 * number is one we sent and its payload starts with this run's random cookie.
 * A raw socket sees every ICMP packet of the host, so the identifier (random
 * per run) must match as well.
 *
 * Timing: replies are awaited until the run's timeout minus a margin (so the
 * result is ours, not probe.c's timeout); a reply still missing then is lost,
 * and so is an echo that could not be sent before that deadline. The run ends
 * as soon as every echo is answered.
 *
 * What the result holds: ttfb_us is the average round trip (not an offset
 * from the start as for the other types: there is no connection and no first
 * byte, and the average is the latency an icmp check is about), and so is
 * duration_us when a reply came (the spacing between echoes is ours, not the
 * target's); connect_us and tls_us stay -1. details: address, socket ("dgram" or "raw"),
 * sent, received, loss_pct, rtt_min_ms, rtt_avg_ms, rtt_max_ms, rtt_mdev_ms.
 * The run succeeds when at least one reply came back and the assertions hold:
 * expect.max_loss_pct (loss <= it) and max_latency against the average. */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "probes/assert.h"
#include "probes/conn.h"
#include "core/log.h"
#include "core/loop.h"
#include "probes/icmp.h"
#include "probes/probe_run.h"
#include "probes/probe_type.h"
#include "core/resolver.h"
#include "core/util.h"

#define ICMP_DEFAULT_COUNT 3
#define ICMP_MAX_COUNT 1000             /* bounds the per-echo arrays */
#define ICMP_NO_TIMEOUT_WAIT_MS 2000    /* wait after the last echo when the check has no timeout */
#define ICMP_PAYLOAD 24                 /* cookie (8) + "pharos-icmp-echo" (16) */
#define ICMP_RECV_MAX 1500

static const char icmp_not_permitted[] =
	"ICMP not permitted: allow unprivileged ping with "
	"`sysctl -w net.ipv4.ping_group_range=\"0 2147483647\"` or give pharos CAP_NET_RAW";

static int icmp_socket_kinds = PROBE_ICMP_DGRAM | PROBE_ICMP_RAW;

enum icmp_state {
	ICMP_RESOLVING,
	ICMP_PINGING,       /* sending echoes and collecting replies */
};

struct icmp_run {
	struct probe_run *run;
	enum icmp_state state;
	struct resolver_req *req;       /* while resolving */
	int fd;                         /* -1 when none */
	int fd_events;
	bool raw;                       /* SOCK_RAW: every ICMP packet arrives, filter by id */
	int family;
	struct sockaddr_storage dst;
	socklen_t dstlen;
	char ip[64];
	uint16_t ident;                 /* raw only: our identifier */
	uint16_t seq_base;              /* sequence of echo 0 (random) */
	unsigned char cookie[8];        /* starts every payload of this run */
	int count;                      /* echoes to send */
	int sent, received;
	uint64_t *sent_us;              /* per echo: monotonic send time, 0 = not sent */
	int64_t *rtt_us;                /* per echo: round trip, -1 = no reply */
	int send_errno;                 /* first send failure, 0 none */
	struct loop_timer send_timer;   /* the next echo */
	struct loop_timer wait_timer;   /* the deadline for replies */
};

static const char *const icmp_state_names[] = {
	[ICMP_RESOLVING] = "resolving",
	[ICMP_PINGING] = "pinging",
};

/* Phases for probe.c's timeout message. Static: the run may outlive our state. */
static const char *const icmp_phases[] = {
	[ICMP_RESOLVING] = "resolving host",
	[ICMP_PINGING] = "waiting for echo replies",
};

/* See probe.h. */
void probe_icmp_set_socket_kinds(int kinds)
{
	icmp_socket_kinds = kinds;
}

static void icmp_on_fd(struct loop *l, int fd, int events, void *arg);

/* The one state transition: sets the state and the run's phase, logs old->new. */
static void icmp_set_state(struct icmp_run *t, enum icmp_state st)
{
	log_debug("icmp probe state", "check", t->run->check->name,
	          "from", icmp_state_names[t->state], "to", icmp_state_names[st]);
	t->state = st;
	t->run->phase = icmp_phases[st];
}

/* Releases everything: lookup, timers, socket (unregistered first), arrays; frees t. */
static void icmp_release(struct icmp_run *t)
{
	struct loop *l = t->run->env->loop;

	if (t->req)
		resolver_cancel(t->req);
	loop_timer_stop(l, &t->send_timer);
	loop_timer_stop(l, &t->wait_timer);
	if (t->fd >= 0) {
		if (t->fd_events)
			loop_fd_set(l, t->fd, 0, NULL, NULL);
		close(t->fd);
	}
	free(t->sent_us);
	free(t->rtt_us);
	free(t);
}

/* Ends the run: releases t and hands the result to probe.c. t is gone after. */
static void icmp_done(struct icmp_run *t)
{
	struct probe_run *run = t->run;

	run->result.ok = run->result.error == PROBE_OK;
	run->impl = NULL;
	icmp_release(t);
	probe_finish(run);
}

/* Internet checksum (RFC 1071) over len bytes. */
static uint16_t icmp_checksum(const unsigned char *p, size_t len)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Opens the ICMP socket for the family: datagram first, then raw. Returns 0,
 * or -1 after failing the run. */
static int icmp_open(struct icmp_run *t)
{
	struct probe_result *r = &t->run->result;
	int proto = t->family == AF_INET6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP;
	int err = EPERM;

	if (icmp_socket_kinds & PROBE_ICMP_DGRAM) {
		t->fd = socket(t->family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
		if (t->fd >= 0)
			return 0;
		err = errno;
	}
	/* EACCES: our group is outside ping_group_range; EPERM the same on some kernels. */
	if ((icmp_socket_kinds & PROBE_ICMP_RAW) && (err == EACCES || err == EPERM)) {
		t->fd = socket(t->family, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
		if (t->fd >= 0) {
			t->raw = true;
			if (t->family == AF_INET6) {
				/* Only echo replies: a raw ICMPv6 socket would see all neighbour discovery. */
				struct icmp6_filter f;

				ICMP6_FILTER_SETBLOCKALL(&f);
				ICMP6_FILTER_SETPASS(ICMP6_ECHO_REPLY, &f);
				setsockopt(t->fd, IPPROTO_ICMPV6, ICMP6_FILTER, &f, sizeof(f));
			}
			return 0;
		}
		err = errno;
	}
	if (err == EACCES || err == EPERM)
		probe_result_fail(r, PROBE_ERR_INTERNAL, "%s", icmp_not_permitted);
	else if (err == EAFNOSUPPORT)
		probe_result_fail(r, PROBE_ERR_CONNECT, "cannot ping %s: %s", t->ip, strerror(err));
	else
		probe_result_fail(r, PROBE_ERR_INTERNAL, "cannot open an ICMP socket: %s", strerror(err));
	return -1;
}

/* Sends echo number i. A failure is remembered (the echo counts as lost). */
static void icmp_send_one(struct icmp_run *t, int i)
{
	unsigned char pkt[8 + ICMP_PAYLOAD];
	uint16_t seq = (uint16_t)(t->seq_base + i);
	ssize_t n;

	memset(pkt, 0, sizeof(pkt));
	pkt[0] = t->family == AF_INET6 ? ICMP6_ECHO_REQUEST : ICMP_ECHO;
	/* The identifier is ignored (replaced) by the kernel on a datagram socket. */
	pkt[4] = (unsigned char)(t->ident >> 8);
	pkt[5] = (unsigned char)t->ident;
	pkt[6] = (unsigned char)(seq >> 8);
	pkt[7] = (unsigned char)seq;
	memcpy(pkt + 8, t->cookie, sizeof(t->cookie));
	memcpy(pkt + 8 + sizeof(t->cookie), "pharos-icmp-echo", 16);
	if (t->family == AF_INET) {
		/* ICMPv6 checksums cover a pseudo-header: the kernel fills those in. */
		uint16_t sum = icmp_checksum(pkt, sizeof(pkt));

		pkt[2] = (unsigned char)(sum >> 8);
		pkt[3] = (unsigned char)sum;
	}
	t->sent_us[i] = util_mono_us();
	do
		n = sendto(t->fd, pkt, sizeof(pkt), 0, (struct sockaddr *)&t->dst, t->dstlen);
	while (n < 0 && errno == EINTR);
	t->sent++;
	if (n < 0) {
		if (t->send_errno == 0)
			t->send_errno = errno;
		t->sent_us[i] = 0;      /* no reply can match it */
		log_debug("icmp echo not sent", "check", t->run->check->name, "address", t->ip,
		          "error", strerror(errno));
	}
}

/* Stats, details and the verdict; then the run ends. */
static void icmp_finish(struct icmp_run *t)
{
	struct probe_run *run = t->run;
	struct probe_result *r = &run->result;
	const struct check_expect *e = &run->check->expect;
	double loss = (double)(t->count - t->received) * 100.0 / (double)t->count;
	int64_t min = -1, max = -1, sum = 0;
	double sumsq = 0;

	for (int i = 0; i < t->count; i++) {
		int64_t v = t->rtt_us[i];

		if (v < 0)
			continue;
		if (min < 0 || v < min)
			min = v;
		if (v > max)
			max = v;
		sum += v;
		sumsq += (double)v * (double)v;
	}
	probe_result_detail(r, "sent", json_integer(t->sent));
	probe_result_detail(r, "received", json_integer(t->received));
	probe_result_detail(r, "loss_pct", json_real(loss));
	if (t->received > 0) {
		double avg = (double)sum / t->received;
		double var = sumsq / t->received - avg * avg;

		r->ttfb_us = (int64_t)(avg + 0.5);
		run->latency_us = r->ttfb_us > 0 ? r->ttfb_us : 1;     /* latency = average round trip */
		probe_result_detail(r, "rtt_min_ms", json_real((double)min / 1000.0));
		probe_result_detail(r, "rtt_avg_ms", json_real(avg / 1000.0));
		probe_result_detail(r, "rtt_max_ms", json_real((double)max / 1000.0));
		probe_result_detail(r, "rtt_mdev_ms", json_real(var > 0 ? sqrt(var) / 1000.0 : 0.0));
	}

	if (t->received == 0) {
		char dur[32];

		util_format_duration((util_mono_us() - run->start_mono_us + 500) / 1000, dur, sizeof(dur));
		if (t->send_errno)
			probe_result_fail(r, PROBE_ERR_CONNECT, "cannot send ICMP echo to %s: %s",
			                  t->ip, strerror(t->send_errno));
		else
			probe_result_fail(r, PROBE_ERR_TIMEOUT,
			                  "no reply to %d ICMP echo request%s to %s within %s (100%% loss)",
			                  t->sent, t->sent == 1 ? "" : "s", t->ip, dur);
	} else {
		if (e->max_loss_pct >= 0) {
			char what[sizeof(r->assertions[0].what)];

			snprintf(what, sizeof(what), "max_loss_pct %g", e->max_loss_pct);
			probe_result_assert(r, loss <= e->max_loss_pct, what, "lost %d of %d (%.1f%%)",
			                    t->count - t->received, t->count, loss);
		}
		probe_result_note(r, "%d of %d echoes answered by %s, round trip avg %.2f ms",
		                  t->received, t->count, t->ip, (double)r->ttfb_us / 1000.0);
		assert_max_latency(r, e, r->ttfb_us);
	}
	icmp_done(t);
}

/* True when every echo has been sent and each one was answered or failed to send. */
static bool icmp_all_settled(const struct icmp_run *t)
{
	if (t->sent < t->count)
		return false;
	for (int i = 0; i < t->count; i++)
		if (t->sent_us[i] != 0 && t->rtt_us[i] < 0)
			return false;
	return true;
}

/* Reads every pending packet and records the replies that are ours. */
static void icmp_read(struct icmp_run *t)
{
	unsigned char buf[ICMP_RECV_MAX];

	for (;;) {
		ssize_t n = recv(t->fd, buf, sizeof(buf), 0);
		const unsigned char *p = buf;
		size_t len;
		uint16_t id, seq;
		int i;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				log_debug("icmp recv failed", "check", t->run->check->name,
				          "error", strerror(errno));
			break;          /* errors (queued ICMP errors) are not replies: keep waiting */
		}
		len = (size_t)n;
		if (t->raw && t->family == AF_INET) {
			/* A raw IPv4 socket hands over the IP header too. */
			size_t ihl = len > 0 ? (size_t)(buf[0] & 0x0f) * 4 : 0;

			if (ihl < 20 || len < ihl)
				continue;
			p += ihl;
			len -= ihl;
		}
		if (len < 8 + sizeof(t->cookie))
			continue;
		if (p[0] != (t->family == AF_INET6 ? ICMP6_ECHO_REPLY : ICMP_ECHOREPLY))
			continue;
		id = (uint16_t)(p[4] << 8 | p[5]);
		seq = (uint16_t)(p[6] << 8 | p[7]);
		if (t->raw && id != t->ident)
			continue;
		if (memcmp(p + 8, t->cookie, sizeof(t->cookie)) != 0)
			continue;
		i = (uint16_t)(seq - t->seq_base);
		if (i >= t->count || t->sent_us[i] == 0 || t->rtt_us[i] >= 0)
			continue;       /* not sent by us, or a duplicate */
		t->rtt_us[i] = (int64_t)(util_mono_us() - t->sent_us[i]);
		t->received++;
	}
	if (icmp_all_settled(t))
		icmp_finish(t);
}

/* Socket readiness: replies to read. */
static void icmp_on_fd(struct loop *l, int fd, int events, void *arg)
{
	struct icmp_run *t = arg;

	if (t->state == ICMP_PINGING)
		icmp_read(t);
}

/* The send timer: the next echo, and the timer again while echoes remain. */
static void icmp_on_send_timer(struct loop *l, struct loop_timer *tm)
{
	struct icmp_run *t = tm->arg;
	const struct check_icmp *c = &t->run->check->icmp;

	icmp_send_one(t, t->sent);
	if (t->sent < t->count) {
		loop_timer_start(l, &t->send_timer, c->spacing_ms);
		return;
	}
	/* Echoes that failed to send cannot be answered: maybe nothing is left to wait for. */
	if (icmp_all_settled(t))
		icmp_finish(t);
}

/* The deadline: whatever has not come back is lost. */
static void icmp_on_wait_timer(struct loop *l, struct loop_timer *tm)
{
	icmp_finish(tm->arg);
}

/* The margin kept before the run's timeout: 5%, between 20 ms and 500 ms. */
static uint64_t icmp_margin_ms(uint64_t timeout_ms)
{
	uint64_t m = timeout_ms / 20;

	return m < 20 ? 20 : m > 500 ? 500 : m;
}

/* Starts pinging the resolved address. */
static void icmp_begin(struct icmp_run *t, const struct resolver_addrs *addrs)
{
	struct probe_run *run = t->run;
	struct loop *l = run->env->loop;
	uint64_t timeout = run->check->timeout_ms;
	uint64_t start_ms = run->start_mono_us / 1000;

	t->family = addrs->addr[0].ss_family;
	t->dst = addrs->addr[0];
	t->dstlen = addrs->len[0];
	util_strlcpy(t->ip, addrs->text[0], sizeof(t->ip));
	probe_result_detail(&run->result, "address", json_string(t->ip));
	icmp_set_state(t, ICMP_PINGING);
	if (icmp_open(t) < 0 ||
	    conn_bind_source(t->fd, t->family, run->env->source_address, &run->result) < 0) {
		icmp_done(t);
		return;
	}
	probe_result_detail(&run->result, "socket", json_string(t->raw ? "raw" : "dgram"));
	if (loop_fd_set(l, t->fd, LOOP_READ, icmp_on_fd, t) < 0) {
		probe_result_fail(&run->result, PROBE_ERR_INTERNAL, "cannot watch the ICMP socket: %s",
		                  strerror(errno));
		icmp_done(t);
		return;
	}
	t->fd_events = LOOP_READ;
	if (timeout > 0) {
		uint64_t m = icmp_margin_ms(timeout);

		loop_timer_start_at(l, &t->wait_timer, start_ms + (timeout > m ? timeout - m : 0));
	} else {
		uint64_t all = (uint64_t)(t->count - 1) * run->check->icmp.spacing_ms;

		loop_timer_start(l, &t->wait_timer, all + ICMP_NO_TIMEOUT_WAIT_MS);
	}
	/* The first echo goes out from the timer too, on the next pass: one code path. */
	loop_timer_start(l, &t->send_timer, 0);
}

/* resolver_lookup callback: on the loop, exactly once unless cancelled. */
static void icmp_on_resolved(int status, const char *errmsg, const struct resolver_addrs *addrs,
                             void *arg)
{
	struct icmp_run *t = arg;
	struct probe_run *run = t->run;

	t->req = NULL;
	if (!probe_resolved(&run->result, status, errmsg, addrs)) {
		icmp_done(t);
		return;
	}
	run->result.dns_us = (int64_t)addrs->elapsed_us;
	icmp_begin(t, addrs);
}

/* the descriptor's start: resolve check->icmp.host; everything else follows from the loop. */
static int icmp_start(struct probe_run *run)
{
	const struct check_icmp *c = &run->check->icmp;
	struct icmp_run *t;
	unsigned char rnd[4];

	if (c->host == NULL || c->host[0] == '\0') {
		probe_result_fail(&run->result, PROBE_ERR_INTERNAL, "icmp check without a host");
		return -1;
	}
	t = xcalloc(1, sizeof(*t));
	t->run = run;
	t->fd = -1;
	t->count = c->count > 0 ? c->count : ICMP_DEFAULT_COUNT;
	if (t->count > ICMP_MAX_COUNT)
		t->count = ICMP_MAX_COUNT;
	t->sent_us = xcalloc((size_t)t->count, sizeof(*t->sent_us));
	t->rtt_us = xmalloc((size_t)t->count * sizeof(*t->rtt_us));
	for (int i = 0; i < t->count; i++)
		t->rtt_us[i] = -1;
	if (RAND_bytes(t->cookie, sizeof(t->cookie)) != 1 || RAND_bytes(rnd, sizeof(rnd)) != 1) {
		/* Not secret, only distinct: the clock will do. */
		uint64_t now = util_mono_us();

		memcpy(t->cookie, &now, sizeof(t->cookie));
		memcpy(rnd, &now, sizeof(rnd));
	}
	t->ident = (uint16_t)(rnd[0] << 8 | rnd[1]);
	t->seq_base = (uint16_t)(rnd[2] << 8 | rnd[3]);
	loop_timer_init(&t->send_timer, icmp_on_send_timer, t);
	loop_timer_init(&t->wait_timer, icmp_on_wait_timer, t);
	t->state = ICMP_RESOLVING;
	run->phase = icmp_phases[ICMP_RESOLVING];
	run->impl = t;
	t->req = resolver_lookup(run->env->resolver, c->host, probe_source_family(run->env), icmp_on_resolved,
	                         t);
	if (!t->req) {
		probe_result_fail(&run->result, PROBE_ERR_DNS, "cannot start resolving %s", c->host);
		run->impl = NULL;
		icmp_release(t);
		return -1;
	}
	return 0;
}

/* the descriptor's abort: cancel the lookup, stop the timers, close the socket, free. */
static void icmp_abort(struct probe_run *run)
{
	struct icmp_run *t = run->impl;

	if (!t)
		return;
	run->impl = NULL;
	icmp_release(t);
}

/* --- the type's descriptor ------------------------------------------------ */

static const struct probe_setting icmp_settings[] = {
	PROBE_SET_HOST("host", struct check, icmp.host, PROBE_REQUIRED, "host = \"10.0.0.1\"",
	               "host name or IP address to ping"),
	PROBE_SET_INT("count", struct check, icmp.count, 1, 100, "echo requests per run, 1-100 (default 3)"),
	PROBE_SET_DURATION("spacing", struct check, icmp.spacing_ms, 1, "time between echoes (default 200ms)"),
	PROBE_SET_END
};

static const struct probe_setting icmp_expect[] = {
	PROBE_SET_CUSTOM("max_loss", "max_loss", PROBE_STORE_DOUBLE, struct check_expect, max_loss_pct, 0, NULL,
	                 "highest acceptable loss, \"20%\" or 0-100 (default: fail only when every echo is lost)"),
	PROBE_SET_DURATION("max_latency", struct check_expect, max_latency_ms, 1,
	                   "longest acceptable average round trip"),
	PROBE_SET_END
};

/* Written without an error, or not written at all (the default holds). */
static bool icmp_usable(const struct probe_validate *v, const char *name)
{
	return !v->present(v, name) || v->valid(v, name);
}

/* Every echo must be sent within the timeout. Checked only when one of the
 * three is written here (else the defaults decided) and each read cleanly. */
static void icmp_validate(const struct check *c, const struct probe_validate *v)
{
	uint64_t need = (uint64_t)(c->icmp.count - 1) * c->icmp.spacing_ms;
	const char *at = v->present(v, "spacing") ? "spacing" : v->present(v, "count") ? "count" :
	                 v->present(v, "timeout") ? "timeout" : NULL;
	char a[32], b[32];

	if (at == NULL || !icmp_usable(v, "count") || !icmp_usable(v, "spacing") ||
	    !icmp_usable(v, "timeout") || need < c->timeout_ms)
		return;
	util_format_duration(c->icmp.spacing_ms, a, sizeof(a));
	util_format_duration(c->timeout_ms, b, sizeof(b));
	v->error(v, at, "%d echoes \"%s\" apart in %s do not fit in timeout \"%s\" (lower count or spacing, or raise timeout)",
	         c->icmp.count, a, v->where, b);
}

static char *icmp_target(const struct check *c)
{
	return xstrdup(c->icmp.host ? c->icmp.host : "");
}

static double detail_num(const struct probe_result *r, const char *key)
{
	json_t *v = r->details ? json_object_get(r->details, key) : NULL;

	return json_is_number(v) ? json_number_value(v) : -1;
}

/* For `pharos probe`: "echoes      3 sent, 3 received, 0% loss · round trip
 * min/avg/max 0.041/0.052/0.066 ms". */
static void icmp_details(const struct check *c, const struct probe_result *r, FILE *out)
{
	double sent = detail_num(r, "sent"), recv = detail_num(r, "received");

	(void)c;
	if (sent < 0)
		return;
	fprintf(out, "echoes      %.0f sent, %.0f received, %.0f%% loss", sent, recv,
	        detail_num(r, "loss_pct"));
	if (recv > 0)
		fprintf(out, " · round trip min/avg/max %.3f/%.3f/%.3f ms", detail_num(r, "rtt_min_ms"),
		        detail_num(r, "rtt_avg_ms"), detail_num(r, "rtt_max_ms"));
	fputc('\n', out);
}

static void icmp_init(struct check *c)
{
	c->icmp.count = 3;
	c->icmp.spacing_ms = 200;
}

static void icmp_free(struct check *c)
{
	free(c->icmp.host);
}

const struct probe_type probe_type_icmp = {
	.name = "icmp",
	.summary = "ICMP echo: loss and round-trip times",
	.settings = icmp_settings,
	.expect = icmp_expect,
	.validate = icmp_validate,
	.target = icmp_target,
	.start = icmp_start,
	.abort = icmp_abort,
	.details = icmp_details,
	.init = icmp_init,
	.free = icmp_free,
};

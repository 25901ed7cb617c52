/* tcp.c — the tcp check type: resolve the host with c-ares, connect with a
 * non-blocking socket on the loop, then optionally read a banner, send a
 * payload and read a reply, each read matched against a regex.
 *
 * One run is one state machine (enum tcp_state), driven by the resolver
 * callback and by readiness of the socket; tcp_set_state() is the only place
 * the state changes. Each read phase keeps at most TCP_READ_MAX bytes, so a
 * peer that talks forever costs 64 KiB at most. Only the first resolved
 * address is tried; messages name it. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "probes/assert.h"
#include "core/log.h"
#include "probes/conn.h"
#include "core/loop.h"
#include "probes/probe_run.h"
#include "probes/probe_type.h"
#include "core/resolver.h"
#include "core/util.h"

#define TCP_READ_MAX (64 * 1024)        /* bytes kept per read phase */
#define TCP_BANNER_MAX 200              /* details.banner, printable chars */
#define TCP_SNIPPET_MAX 100             /* assertion detail, printable chars */
/* A peer that sent whole lines that do not match and then goes quiet this
 * long has said what it had to say: waiting for the timeout would report a
 * "timeout" for a server that answered, just not what was expected. */
#define TCP_QUIET_MS 250

enum tcp_state {
	TCP_RESOLVING,
	TCP_CONNECTING,
	TCP_BANNER,         /* reading until banner_regex matches */
	TCP_SENDING,        /* writing check->tcp.send */
	TCP_REPLY,          /* reading until expect_regex matches */
};

struct tcp_run {
	struct probe_run *run;
	enum tcp_state state;
	struct resolver_req *req;       /* while resolving */
	int fd;                         /* -1 when none */
	struct conn conn;               /* the address connected to, for messages */
	char *buf;                      /* what the current read phase received */
	size_t len, cap;
	size_t sent;                    /* bytes of check->tcp.send written */
	bool banner_done;               /* details.banner holds a whole first line */
	struct loop_timer quiet;        /* running while a non-matching answer rests */
};

static const char *const tcp_state_names[] = {
	[TCP_RESOLVING] = "resolving",
	[TCP_CONNECTING] = "connecting",
	[TCP_BANNER] = "banner",
	[TCP_SENDING] = "sending",
	[TCP_REPLY] = "reply",
};

/* The phase strings probe.c puts into timeout messages ("no answer within 5s
 * while waiting for banner"). Static: the run may outlive our state. */
static const char *const tcp_phases[] = {
	[TCP_RESOLVING] = "resolving host",
	[TCP_CONNECTING] = "connecting",
	[TCP_BANNER] = "waiting for banner",
	[TCP_SENDING] = "sending",
	[TCP_REPLY] = "waiting for reply",
};

static void tcp_on_fd(struct loop *l, int fd, int events, void *arg);

/* The one state transition: sets the state and the run's phase, logs old→new. */
static void tcp_set_state(struct tcp_run *t, enum tcp_state st)
{
	log_debug("tcp probe state", "check", t->run->check->name,
	          "from", tcp_state_names[t->state], "to", tcp_state_names[st]);
	t->state = st;
	t->run->phase = tcp_phases[st];
}

/* Writes s[0..len) into out (outlen bytes, at least 4) as
 * printable ASCII of at most max_chars characters: \r \n \t \\ as C escapes
 * (and \" when quote), other bytes outside 0x20-0x7e as \xNN. Appends "..."
 * when input was left over. The result is always valid UTF-8 (for JSON). */
static const char *tcp_escape(const char *s, size_t len, size_t max_chars, bool quote,
                              char *out, size_t outlen)
{
	size_t o = 0, i;

	if (max_chars + 4 > outlen)
		max_chars = outlen - 4;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		char tmp[5];
		size_t n;

		if (c == '\r' || c == '\n' || c == '\t' || c == '\\' || (quote && c == '"')) {
			tmp[0] = '\\';
			tmp[1] = c == '\r' ? 'r' : c == '\n' ? 'n' : c == '\t' ? 't' : (char)c;
			n = 2;
		} else if (c < 0x20 || c > 0x7e) {
			snprintf(tmp, sizeof(tmp), "\\x%02x", c);
			n = 4;
		} else {
			tmp[0] = (char)c;
			n = 1;
		}
		if (o + n > max_chars)
			break;
		memcpy(out + o, tmp, n);
		o += n;
	}
	if (i < len) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
	return out;
}

/* (Re)registers the socket for events (0: unregisters). Returns 0, or -1
 * after failing the run (the caller then finishes it). */
static int tcp_watch(struct tcp_run *t, int events)
{
	return conn_watch(&t->conn, t->run->env->loop, t->fd, events, tcp_on_fd, t,
	                  &t->run->result);
}

/* Releases everything the run holds: the lookup, the fd (unregistered first)
 * and the buffers. t is freed. */
static void tcp_release(struct tcp_run *t)
{
	loop_timer_stop(t->run->env->loop, &t->quiet);
	if (t->req)
		resolver_cancel(t->req);
	conn_close(&t->conn, t->run->env->loop, t->fd);
	free(t->buf);
	free(t);
}

/* Ends the run: releases t and hands the result to probe.c. t is gone after. */
static void tcp_done(struct tcp_run *t)
{
	struct probe_run *run = t->run;

	run->result.ok = run->result.error == PROBE_OK;
	run->impl = NULL;
	tcp_release(t);
	probe_finish(run);
}

/* The run reached its end without error: latency, then finish. */
static void tcp_succeed(struct tcp_run *t)
{
	struct probe_run *run = t->run;

	probe_result_note(&run->result, "connected to %s%s", t->conn.addr,
	                  run->result.n_assertions > 0 ? ", answer matched" : "");
	assert_max_latency(&run->result, &run->check->expect, probe_elapsed_us(run));
	tcp_done(t);
}

static void tcp_after_send(struct tcp_run *t);

/* Writes what is left of check->tcp.send; on EAGAIN waits for LOOP_WRITE. */
static void tcp_send(struct tcp_run *t)
{
	struct probe_run *run = t->run;
	const char *data = run->check->tcp.send;
	size_t n = strlen(data);

	while (t->sent < n) {
		ssize_t w = send(t->fd, data + t->sent, n - t->sent, MSG_NOSIGNAL);

		if (w > 0) {
			t->sent += (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (tcp_watch(t, LOOP_WRITE) < 0)
				tcp_done(t);
			return;
		}
		if (w < 0 && errno == EPIPE)
			probe_result_fail(&run->result, PROBE_ERR_PROTOCOL,
			                  "connection closed by peer %s while sending (%zu of %zu bytes sent)",
			                  t->conn.addr, t->sent, n);
		else if (w < 0 && errno == ECONNRESET)
			probe_result_fail(&run->result, PROBE_ERR_CONNECT,
			                  "connection reset by peer %s while sending", t->conn.addr);
		else
			probe_result_fail(&run->result, PROBE_ERR_CONNECT, "send to %s failed: %s",
			                  t->conn.addr, w < 0 ? strerror(errno) : "wrote nothing");
		tcp_done(t);
		return;
	}
	tcp_after_send(t);
}

/* After the banner (or right after connecting): send, or go on. */
static void tcp_after_banner(struct tcp_run *t)
{
	const char *data = t->run->check->tcp.send;

	/* details.banner keeps what the banner phase saw, line or not. */
	if (t->len > 0)
		t->banner_done = true;
	if (data && *data) {
		tcp_set_state(t, TCP_SENDING);
		tcp_send(t);
		return;
	}
	tcp_after_send(t);
}

/* Starts a read phase: an empty buffer and LOOP_READ. */
static void tcp_start_reading(struct tcp_run *t, enum tcp_state st)
{
	tcp_set_state(t, st);
	t->len = 0;
	if (tcp_watch(t, LOOP_READ) < 0)
		tcp_done(t);
}

/* After sending (or when there is nothing to send): read a reply, or done. */
static void tcp_after_send(struct tcp_run *t)
{
	if (t->run->check->expect.expect_re) {
		tcp_start_reading(t, TCP_REPLY);
		return;
	}
	tcp_succeed(t);
}

/* The regex of the current read phase and its name in assertions. */
static const pcre2_code *tcp_phase_re(const struct tcp_run *t, const char **key, const char **src)
{
	const struct check_expect *e = &t->run->check->expect;

	if (t->state == TCP_BANNER) {
		*key = "banner_regex";
		*src = e->banner_regex;
		return e->banner_re;
	}
	*key = "expect_regex";
	*src = e->expect_regex;
	return e->expect_re;
}

/* Sets details.banner to the first line of what the peer sent before we sent
 * anything; stops updating once a whole line is there. */
static void tcp_note_banner(struct tcp_run *t)
{
	char out[TCP_BANNER_MAX + 4];
	size_t n;

	if (t->banner_done || t->sent > 0)
		return;
	for (n = 0; n < t->len && t->buf[n] != '\r' && t->buf[n] != '\n'; n++)
		;
	t->banner_done = n < t->len;
	probe_result_detail(&t->run->result, "banner",
	                    json_string(tcp_escape(t->buf, n, TCP_BANNER_MAX, false, out, sizeof(out))));
}

/* Records the phase's regex assertion with what was received. how: NULL when
 * it matched, else why reading stopped. */
static void tcp_record_match(struct tcp_run *t, bool ok, const char *how)
{
	const char *key, *src;
	char what[sizeof(((struct probe_assertion *)0)->what)];
	char got[TCP_SNIPPET_MAX + 4];

	tcp_phase_re(t, &key, &src);
	snprintf(what, sizeof(what), "%s \"%s\"", key, src ? src : "");
	tcp_escape(t->buf, t->len, TCP_SNIPPET_MAX, true, got, sizeof(got));
	if (ok)
		probe_result_assert(&t->run->result, true, what, "got \"%s\"", got);
	else if (t->len == 0)
		probe_result_assert(&t->run->result, false, what, "got nothing (%s)", how);
	else
		probe_result_assert(&t->run->result, false, what, "got \"%s\" (%s)", got, how);
}

/* Reads what is available in a read phase and decides: matched (next phase),
 * closed / reset / 64 KiB without a match (fail), or wait for more. */
static void tcp_read(struct tcp_run *t)
{
	struct probe_run *run = t->run;
	const char *key, *src;
	const pcre2_code *re = tcp_phase_re(t, &key, &src);

	for (;;) {
		ssize_t n;

		if (t->len == TCP_READ_MAX) {
			tcp_record_match(t, false, "no match in the first 65536 bytes");
			tcp_done(t);
			return;
		}
		if (t->len == t->cap) {
			t->cap = t->cap ? t->cap * 2 : 4096;
			if (t->cap > TCP_READ_MAX)
				t->cap = TCP_READ_MAX;
			t->buf = xrealloc(t->buf, t->cap);
		}
		n = recv(t->fd, t->buf + t->len, t->cap - t->len, 0);
		if (n > 0) {
			if (run->result.ttfb_us < 0)
				run->result.ttfb_us = probe_elapsed_us(run);
			run->result.bytes += n;
			t->len += (size_t)n;
			tcp_note_banner(t);
			if (assert_regex_match(re, t->buf, t->len)) {
				tcp_record_match(t, true, NULL);
				if (t->state == TCP_BANNER)
					tcp_after_banner(t);
				else
					tcp_succeed(t);
				return;
			}
			continue;
		}
		if (n == 0) {
			probe_result_fail(&run->result, PROBE_ERR_PROTOCOL,
			                  "connection closed by peer after %lld bytes (%s \"%s\" not matched)",
			                  (long long)run->result.bytes, key, src ? src : "");
			tcp_record_match(t, false, "connection closed by peer");
			tcp_done(t);
			return;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			/* Wait for more; after whole lines, only a short while. */
			if (t->len > 0 && t->buf[t->len - 1] == '\n')
				loop_timer_start(run->env->loop, &t->quiet, TCP_QUIET_MS);
			else
				loop_timer_stop(run->env->loop, &t->quiet);
			return;
		}
		if (errno == ECONNRESET)
			probe_result_fail(&run->result, PROBE_ERR_CONNECT,
			                  "connection reset by peer %s after %lld bytes",
			                  t->conn.addr, (long long)run->result.bytes);
		else
			probe_result_fail(&run->result, PROBE_ERR_CONNECT, "recv from %s failed: %s",
			                  t->conn.addr, strerror(errno));
		tcp_record_match(t, false, "connection failed");
		tcp_done(t);
		return;
	}
}

/* The peer sent whole lines that did not match, then nothing more. */
static void tcp_quiet_due(struct loop *l, struct loop_timer *timer)
{
	struct tcp_run *t = timer->arg;
	char how[80];

	snprintf(how, sizeof(how), "then nothing more for %d ms", TCP_QUIET_MS);
	tcp_record_match(t, false, how);
	tcp_done(t);
}

/* The socket became writable (or failed) while connecting. */
static void tcp_connected(struct tcp_run *t)
{
	struct probe_run *run = t->run;
	int rc = conn_finish(&t->conn, &run->result, t->fd);

	if (rc > 0)
		return;         /* spurious wake-up: still connecting */
	if (rc < 0) {
		tcp_done(t);
		return;
	}
	run->result.connect_us = probe_elapsed_us(run);
	run->result.bytes = 0;
	if (run->check->expect.banner_re) {
		tcp_start_reading(t, TCP_BANNER);
		return;
	}
	if (tcp_watch(t, 0) < 0) {
		tcp_done(t);
		return;
	}
	tcp_after_banner(t);
}

/* Socket readiness: dispatch on the state. Accepts spurious wake-ups. */
static void tcp_on_fd(struct loop *l, int fd, int events, void *arg)
{
	struct tcp_run *t = arg;

	switch (t->state) {
	case TCP_CONNECTING:
		tcp_connected(t);
		break;
	case TCP_BANNER:
	case TCP_REPLY:
		tcp_read(t);
		break;
	case TCP_SENDING:
		tcp_send(t);
		break;
	case TCP_RESOLVING:
		break;
	}
}

/* Opens the socket to the first address and starts connecting. */
static void tcp_connect(struct tcp_run *t, const struct resolver_addrs *addrs)
{
	struct probe_run *run = t->run;

	tcp_set_state(t, TCP_CONNECTING);
	t->fd = conn_start(&t->conn, &run->result, run->check->tcp.host, addrs, run->check->tcp.port,
	                   run->env->source_address);
	if (t->fd < 0 || tcp_watch(t, LOOP_WRITE) < 0)
		tcp_done(t);
}

/* resolver_lookup callback: on the loop, exactly once unless cancelled. */
static void tcp_on_resolved(int status, const char *errmsg, const struct resolver_addrs *addrs,
                            void *arg)
{
	struct tcp_run *t = arg;
	struct probe_run *run = t->run;

	t->req = NULL;
	if (!probe_resolved(&run->result, status, errmsg, addrs)) {
		tcp_done(t);
		return;
	}
	run->result.dns_us = (int64_t)addrs->elapsed_us;
	tcp_connect(t, addrs);
}

/* The descriptor's start: resolve check->tcp.host; everything else follows from the loop. */
static int tcp_start(struct probe_run *run)
{
	struct tcp_run *t = xcalloc(1, sizeof(*t));

	t->run = run;
	t->fd = -1;
	loop_timer_init(&t->quiet, tcp_quiet_due, t);
	t->state = TCP_RESOLVING;
	run->phase = tcp_phases[TCP_RESOLVING];
	run->impl = t;
	t->req = resolver_lookup(run->env->resolver, run->check->tcp.host, probe_source_family(run->env),
	                         tcp_on_resolved, t);
	if (!t->req) {
		probe_result_fail(&run->result, PROBE_ERR_DNS, "cannot start resolving %s",
		                  run->check->tcp.host);
		run->impl = NULL;
		tcp_release(t);
		return -1;
	}
	return 0;
}

/* The descriptor's abort: cancel the lookup, unregister and close the socket, free. */
static void tcp_abort(struct probe_run *run)
{
	struct tcp_run *t = run->impl;

	if (!t)
		return;
	run->impl = NULL;
	tcp_release(t);
}

/* --- the type's descriptor ------------------------------------------------ */

static const struct probe_setting tcp_settings[] = {
	PROBE_SET_HOST("host", struct check, tcp.host, PROBE_REQUIRED, "host = \"db.internal\"",
	               "host name or IP address to connect to"),
	{ .name = "port", .kind = PROBE_KIND_INT, .store = PROBE_STORE_INT, .off = offsetof(struct check, tcp.port),
	  .min = 1, .max = 65535, .flags = PROBE_REQUIRED, .hint = "port = 5432", .doc = "TCP port, 1-65535" },
	PROBE_SET_STR("send", struct check, tcp.send, PROBE_NONEMPTY,
	              "sent after connecting and any banner (\\r \\n \\t escapes)"),
	PROBE_SET_END
};

static const struct probe_setting tcp_expect[] = {
	PROBE_SET_REGEX("banner_regex", struct check_expect, banner_regex, banner_re,
	                "PCRE2 matched against what the server says before anything is sent"),
	PROBE_SET_REGEX("expect_regex", struct check_expect, expect_regex, expect_re,
	                "PCRE2 matched against the reply to send"),
	PROBE_SET_DURATION("max_latency", struct check_expect, max_latency_ms, 1, "longest acceptable run"),
	PROBE_SET_END
};

static void tcp_validate(const struct check *c, const struct probe_validate *v)
{
	if (v->present(v, "expect.expect_regex") && c->tcp.send == NULL)
		v->error(v, "expect.expect_regex",
		         "\"expect_regex\" in expect of %s is matched after \"send\", which is not set (use banner_regex for what the server says first)",
		         v->where);
}

/* "db.internal:5432", "[2001:db8::1]:22". */
static char *tcp_target(const struct check *c)
{
	if (c->tcp.host != NULL && strchr(c->tcp.host, ':') != NULL)
		return xasprintf("[%s]:%d", c->tcp.host, c->tcp.port);
	return xasprintf("%s:%d", c->tcp.host ? c->tcp.host : "", c->tcp.port);
}

static void tcp_details(const struct check *c, const struct probe_result *r, FILE *out)
{
	(void)c;
	if (r->bytes >= 0)
		fprintf(out, "received    %lld bytes\n", (long long)r->bytes);
}

static void tcp_free(struct check *c)
{
	free(c->tcp.host);
	free(c->tcp.send);
}

const struct probe_type probe_type_tcp = {
	.name = "tcp",
	.summary = "connect to host:port; optionally read a banner, send, read a reply",
	.settings = tcp_settings,
	.expect = tcp_expect,
	.validate = tcp_validate,
	.target = tcp_target,
	.start = tcp_start,
	.abort = tcp_abort,
	.details = tcp_details,
	.free = tcp_free,
};

/* heartbeat.c — passive heartbeat checks: the push endpoint and its input
 * handling, the lateness arithmetic, and the hand-over of a ping from a
 * libmicrohttpd thread to the loop (see heartbeat.h). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <time.h>
#include <errno.h>

#include <microhttpd.h>

#include "web/api.h"
#include "web/httpd.h"
#include "heartbeat.h"
#include "core/log.h"
#include "core/loop.h"
#include "sched.h"
#include "core/util.h"
#include "core/waiter.h"

/* --- input ------------------------------------------------------------------- */

enum heartbeat_auth heartbeat_check_token(const char *authorization, const char *query_token,
                                          const char *expected)
{
	const char *given = http_bearer_token(authorization);

	if (given == NULL && query_token != NULL && query_token[0] != '\0')
		given = query_token;
	if (given == NULL)
		return HEARTBEAT_AUTH_MISSING;
	/* util_secure_equals runs over the longer of the two, whatever matches. */
	if (expected == NULL || expected[0] == '\0' || !util_secure_equals(given, expected))
		return HEARTBEAT_AUTH_WRONG;
	return HEARTBEAT_AUTH_OK;
}

/* Length of the valid UTF-8 sequence at s[0..n), or 0 when the bytes there
 * are not one (overlong forms, surrogates and code points past U+10FFFF are
 * invalid). *incomplete is set when s is a valid prefix cut by n. */
static size_t utf8_seq_len(const unsigned char *s, size_t n, bool *incomplete)
{
	unsigned char c = s[0];
	size_t want;
	unsigned char lo = 0x80, hi = 0xBF;    /* bounds of the second byte */

	*incomplete = false;
	if (c < 0x80)
		return c == 0 ? 0 : 1;
	if (c >= 0xC2 && c <= 0xDF) {
		want = 2;
	} else if (c >= 0xE0 && c <= 0xEF) {
		want = 3;
		if (c == 0xE0)
			lo = 0xA0;          /* overlong */
		else if (c == 0xED)
			hi = 0x9F;          /* surrogates */
	} else if (c >= 0xF0 && c <= 0xF4) {
		want = 4;
		if (c == 0xF0)
			lo = 0x90;          /* overlong */
		else if (c == 0xF4)
			hi = 0x8F;          /* past U+10FFFF */
	} else {
		return 0;
	}
	for (size_t i = 1; i < want; i++) {
		if (i >= n) {
			*incomplete = true;
			return 0;
		}
		if (i == 1 ? (s[i] < lo || s[i] > hi) : (s[i] < 0x80 || s[i] > 0xBF))
			return 0;
	}
	return want;
}

char *heartbeat_body_text(const char *body, size_t len, bool *truncated)
{
	static const char repl[] = "\xEF\xBF\xBD";  /* U+FFFD */
	const unsigned char *s = (const unsigned char *)body;
	size_t n = len > HEARTBEAT_BODY_MAX ? HEARTBEAT_BODY_MAX : len;
	char *out, *o;

	*truncated = len > HEARTBEAT_BODY_MAX;
	if (body == NULL)
		n = 0;
	/* Worst case: every byte becomes three. */
	out = o = xmalloc(n * 3 + 1);
	for (size_t i = 0; i < n;) {
		bool incomplete;
		size_t k = utf8_seq_len(s + i, n - i, &incomplete);

		if (k > 0) {
			memcpy(o, s + i, k);
			o += k;
			i += k;
			continue;
		}
		/* A character cut by the cap is dropped whole, not replaced. */
		if (incomplete && *truncated)
			break;
		memcpy(o, repl, 3);
		o += 3;
		i++;
	}
	*o = '\0';
	return out;
}

void heartbeat_copy_text(char *dst, size_t cap, const char *src)
{
	size_t n;

	if (cap == 0)
		return;
	n = strlen(src);
	if (n < cap) {
		memcpy(dst, src, n + 1);
		return;
	}
	n = cap - 1;
	/* Back off over continuation bytes to the start of the cut character. */
	if (((unsigned char)src[n] & 0xC0) == 0x80) {
		while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
			n--;
	}
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* --- lateness ---------------------------------------------------------------- */

void heartbeat_on_ping(struct heartbeat_clock *hc, int64_t now_ms)
{
	hc->last_ping_ms = now_ms > 0 ? now_ms : 1;
	hc->late_reported_ms = 0;
}

int64_t heartbeat_next_due(const struct heartbeat_clock *hc, uint64_t interval_ms,
                           uint64_t grace_ms)
{
	if (hc->last_ping_ms <= 0)
		return 0;
	if (hc->late_reported_ms > 0)
		return hc->late_reported_ms + (int64_t)(interval_ms > 0 ? interval_ms : 1000);
	return hc->last_ping_ms + (int64_t)interval_ms + (int64_t)grace_ms;
}

bool heartbeat_late_due(struct heartbeat_clock *hc, int64_t now_ms, uint64_t interval_ms,
                        uint64_t grace_ms)
{
	int64_t due = heartbeat_next_due(hc, interval_ms, grace_ms);

	if (due == 0 || now_ms < due)
		return false;
	hc->late_reported_ms = now_ms > 0 ? now_ms : 1;
	return true;
}

/* A duration as people say it, down to the second for short ones:
 * "2h 5m", "3d 4h", "45s", "1m 30s". */
static void heartbeat_format_age(int64_t ms, char *buf, size_t len)
{
	int64_t s = ms / 1000;
	int64_t d = s / 86400, h = s % 86400 / 3600, m = s % 3600 / 60, sec = s % 60;

	if (d > 0)
		snprintf(buf, len, h ? "%lldd %lldh" : "%lldd", (long long)d, (long long)h);
	else if (h > 0)
		snprintf(buf, len, m ? "%lldh %lldm" : "%lldh", (long long)h, (long long)m);
	else if (m > 0)
		snprintf(buf, len, sec ? "%lldm %llds" : "%lldm", (long long)m, (long long)sec);
	else
		snprintf(buf, len, "%llds", (long long)sec);
}

void heartbeat_late_message(int64_t age_ms, uint64_t interval_ms, uint64_t grace_ms,
                            char *buf, size_t len)
{
	char age[48], every[32], grace[32];

	heartbeat_format_age(age_ms > 0 ? age_ms : 0, age, sizeof(age));
	util_format_duration(interval_ms, every, sizeof(every));
	util_format_duration(grace_ms, grace, sizeof(grace));
	snprintf(buf, len, "no ping for %s (expected every %s + %s grace)", age, every, grace);
}

/* --- from a server thread to the loop ---------------------------------------- */

/* A ping handed from a server thread to the loop; its waiter's status:
 * 0 applied, -1 no such check, -2 stopping. */
struct ping_req {
	struct sched *sched;
	char name[API_NAME_MAX + 1];
	bool fail, truncated;
	char *message;
	char state[16];
};

static void ping_req_free(void *arg)
{
	struct ping_req *p = arg;

	free(p->message);
	free(p);
}

/* On the loop: records the ping, then wakes the server thread. */
static void ping_req_apply(struct loop *l, void *arg)
{
	struct waiter *w = arg;
	struct ping_req *p = waiter_payload(w);
	enum check_state st = CHECK_STATE_PENDING;
	int rc = sched_heartbeat_ping(p->sched, p->name, p->fail, p->message, p->truncated, &st);

	if (rc == 0)
		util_strlcpy(p->state, check_state_name(st), sizeof(p->state));
	waiter_finish(w, rc);
}

int heartbeat_deliver(struct loop *l, struct sched *s, const char *name, bool fail,
                      const char *message, bool truncated, char *state, size_t state_len)
{
	struct ping_req *p = xcalloc(1, sizeof(*p));
	struct waiter *w;
	int status;

	p->sched = s;
	util_strlcpy(p->name, name, sizeof(p->name));
	p->fail = fail;
	p->truncated = truncated;
	p->message = xstrdup(message ? message : "");
	w = waiter_new(p, ping_req_free);
	if (loop_post(l, ping_req_apply, w) != 0) {
		waiter_abandon(w);
		return -2;
	}
	status = waiter_wait(w, HEARTBEAT_WAIT_MS);
	/* Not applied yet: it will be, and a ping always sets the state it says. */
	util_strlcpy(state, status == 0 ? p->state : (fail ? "down" : "up"), state_len);
	waiter_put(w);
	return status;
}

/* --- the route handler ------------------------------------------------------- */

/* The client's address as text, for the log ("?" when unknown). */
static void heartbeat_client(struct api_request *rq, char *buf, size_t len)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(rq->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	util_strlcpy(buf, "?", len);
	if (sa == NULL)
		return;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, buf,
		          (socklen_t)len);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, buf,
		          (socklen_t)len);
}

void heartbeat_api_push(struct api_request *rq, struct api_response *rs)
{
	size_t plen = strlen(rq->path);
	bool fail = plen >= 5 && strcmp(rq->path + plen - 5, "/fail") == 0;
	const char *signal = fail ? "fail" : "success";
	const struct check *c;
	enum heartbeat_auth auth;
	char client[64], detail[160], state[16], bytes[24];
	bool truncated = false;
	char *text, *masked;
	int rc;

	heartbeat_client(rq, client, sizeof(client));
	c = conf_find_check(rq->snap->conf, rq->name);
	if (c == NULL || c->type != CHECK_HEARTBEAT) {
		if (c == NULL)
			snprintf(detail, sizeof(detail), "no check named %s", rq->name);
		else
			snprintf(detail, sizeof(detail), "%s is not a heartbeat check", rq->name);
		log_info("heartbeat ping for no heartbeat check", "check", rq->name, "signal", signal,
		         "client", client);
		api_error(rs, MHD_HTTP_NOT_FOUND, "not_found", detail);
		return;
	}
	auth = heartbeat_check_token(
		MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION),
		api_query(rq, "token"), c->heartbeat.token);
	if (auth != HEARTBEAT_AUTH_OK) {
		bool missing = auth == HEARTBEAT_AUTH_MISSING;

		log_warn("heartbeat ping rejected", "check", c->name, "signal", signal, "client", client,
		         "reason", missing ? "missing token" : "wrong token");
		api_error(rs, missing ? MHD_HTTP_UNAUTHORIZED : MHD_HTTP_FORBIDDEN,
		          missing ? "unauthorized" : "forbidden",
		          missing ? "a token is required: ?token=... or Authorization: Bearer ..."
		                  : "wrong token for this check");
		if (missing)
			rs->www_authenticate = "Bearer realm=\"pharos\"";
		return;
	}
	if (rq->ops == NULL || rq->ops->push == NULL) {
		api_error(rs, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable", "pings are not accepted here");
		return;
	}
	text = heartbeat_body_text(rq->body, rq->body_len, &truncated);
	masked = log_mask_secrets(text);    /* the message is stored and notified */
	rc = rq->ops->push(rq->ops->ctx, c->name, fail, masked, truncated, state, sizeof(state));
	free(masked);
	snprintf(bytes, sizeof(bytes), "%zu", rq->body_len);
	free(text);
	if (rc < 0) {
		log_info("heartbeat ping not recorded", "check", c->name, "signal", signal,
		         "client", client, "reason", rc == -1 ? "no such check" : "agent stopping");
		if (rc == -1) {
			snprintf(detail, sizeof(detail), "no heartbeat check named %s", c->name);
			api_error(rs, MHD_HTTP_NOT_FOUND, "not_found", detail);
		} else {
			api_error(rs, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable", "the agent is stopping");
		}
		return;
	}
	log_info("heartbeat ping", "check", c->name, "signal", signal, "client", client,
	         "body_bytes", bytes, "truncated", truncated ? "true" : "false");
	api_json(rs, MHD_HTTP_OK, json_pack("{s:b, s:s, s:s, s:b}", "ok", 1, "check", c->name,
	                                    "state", state, "truncated", truncated));
}

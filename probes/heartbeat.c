/* heartbeat.c — the heartbeat check type: its descriptor (passive: no
 * start), the handling of a push's input, and the lateness arithmetic (see
 * heartbeat.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "probes/heartbeat.h"
#include "probes/probe_type.h"
#include "core/util.h"


/* --- input ------------------------------------------------------------------- */

enum heartbeat_auth heartbeat_check_token(const char *authorization, const char *query_token,
                                          const char *expected)
{
	const char *given = util_bearer_token(authorization);

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

/* --- results ------------------------------------------------------------------ */

void heartbeat_ping_result(struct probe_result *r, int64_t now_ms, bool fail, const char *body,
                           bool truncated)
{
	if (body == NULL)
		body = "";
	r->start_us = now_ms * 1000;
	if (fail) {
		if (body[0] != '\0')
			probe_result_fail(r, PROBE_ERR_ASSERTION, "job reported failure: %s", body);
		else
			probe_result_fail(r, PROBE_ERR_ASSERTION, "job reported failure");
	} else {
		heartbeat_copy_text(r->message, sizeof(r->message), body[0] ? body : "ping received");
	}
	/* probe_result_fail may have cut a character in two. */
	heartbeat_copy_text(r->message, sizeof(r->message), r->message);
	probe_result_detail(r, "ping", json_string(fail ? "fail" : "success"));
	if (body[0] != '\0')
		probe_result_detail(r, "body", json_string(body));
	if (truncated)
		probe_result_detail(r, "body_truncated", json_true());
}

void heartbeat_status_result(struct probe_result *r, const struct heartbeat_clock *hc, int64_t now_ms,
                             uint64_t interval_ms, uint64_t grace_ms, const struct heartbeat_last *last)
{
	char every[32], grace[32], ago[32];

	util_format_duration(interval_ms, every, sizeof(every));
	util_format_duration(grace_ms, grace, sizeof(grace));
	if (hc->last_ping_ms <= 0) {
		probe_result_fail(r, PROBE_ERR_TIMEOUT,
		                  "heartbeat checks are passive: no ping yet (expected every %s + %s grace)",
		                  every, grace);
	} else {
		util_format_duration((uint64_t)(now_ms > hc->last_ping_ms ? now_ms - hc->last_ping_ms : 0),
		                     ago, sizeof(ago));
		if (last != NULL && !last->ok)
			probe_result_fail(r, last->error == PROBE_OK ? PROBE_ERR_ASSERTION : last->error,
			                  "heartbeat checks are passive: last ping %s ago; %s", ago,
			                  last->message ? last->message : "");
		else
			snprintf(r->message, sizeof(r->message),
			         "heartbeat checks are passive: last ping %s ago (expected every %s + %s grace)",
			         ago, every, grace);
	}
	heartbeat_copy_text(r->message, sizeof(r->message), r->message);
	r->ok = r->error == PROBE_OK;
	r->duration_us = 0;
	r->attempts = 1;
}

/* --- the type's descriptor ------------------------------------------------ */

static const struct probe_setting heartbeat_settings[] = {
	PROBE_SET_DURATION("grace", struct check, heartbeat.grace_ms, 0,
	                   "how late a ping may be before the check is down (default 1m)"),
	PROBE_SET_CUSTOM("token", "token", PROBE_STORE_STR, struct check, heartbeat.token,
	                 PROBE_REQUIRED | PROBE_SECRET, "token = \"${env:SYNC_TOKEN}\"",
	                 "secret every ping must carry (?token= or Authorization: Bearer)"),
	PROBE_SET_END
};

/* Passive: nothing is probed, so nothing to assert (expect = { } is fine). */
static const struct probe_setting heartbeat_expect[] = {
	PROBE_SET_END
};

/* Passive: interval is how often a ping is due; nothing runs, so a timeout
 * or retries would be silently meaningless. */
static void heartbeat_validate(const struct check *c, const struct probe_validate *v)
{
	static const char *const probe_settings[] = { "timeout", "retries", "retry_interval" };

	(void)c;
	for (size_t i = 0; i < sizeof(probe_settings) / sizeof(probe_settings[0]); i++)
		if (v->present(v, probe_settings[i]))
			v->error(v, probe_settings[i],
			         "\"%s\" in %s does not apply to heartbeat checks (nothing is probed: a ping is due every interval, plus grace)",
			         probe_settings[i], v->where);
}

static char *heartbeat_target(const struct check *c)
{
	return xasprintf("push /api/v1/push/%s", c->name ? c->name : "");
}

static void heartbeat_init(struct check *c)
{
	c->heartbeat.grace_ms = 60000;
}

static void heartbeat_free(struct check *c)
{
	check_free_secret(c->heartbeat.token);
}

const struct probe_type probe_type_heartbeat = {
	.name = "heartbeat",
	.summary = "passive: a job pings pharos; down when no ping arrives in interval + grace",
	.settings = heartbeat_settings,
	.expect = heartbeat_expect,
	.validate = heartbeat_validate,
	.target = heartbeat_target,
	.init = heartbeat_init,
	.free = heartbeat_free,
};

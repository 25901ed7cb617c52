/* dns.c — the dns check type: one raw query through c-ares, the answer parsed
 * here into the text users write in their config ("10 mail.example.com"), then
 * rcode, answers_contain, answers_exact, min_answers and max_latency.
 *
 * Checks without `server` use the system resolver of the probe env. Checks with
 * one share a resolver per (loop, server, timeout) kept in a small cache here,
 * so a thousand checks against 1.1.1.1 use one c-ares channel; the cache is
 * emptied by probe_dns_cleanup() at shutdown.
 *
 * Parsing walks the message with bounds checks on every field and lets c-ares'
 * ares_expand_name() follow compression pointers, so no libresolv is needed. */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <ares.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "probes/assert.h"
#include "core/log.h"
#include "core/loop.h"
#include "probes/dns.h"
#include "probes/probe_run.h"
#include "probes/probe_type.h"
#include "core/resolver.h"
#include "core/util.h"

#define DNS_CACHE_MAX 64        /* resolvers kept; only idle ones are evicted */
#define DNS_HEADER_LEN 12
#define DNS_TIMER_MARGIN_MS 2   /* our timeout fires this much before probe.c's */

/* A resolver for one (loop, server, timeout), shared by the runs using it. */
struct dns_cached {
	struct loop *loop;
	char *server;
	uint64_t timeout_ms;
	struct resolver *res;
	unsigned users;                 /* runs in flight on it */
};

/* The cache is shared by the probe threads (one loop each): dns_cache_lock
 * guards the array and the user counts; an entry's resolver is used only on
 * its own loop, and only that loop's idle entries are evicted. */
static pthread_mutex_t dns_cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct dns_cached **dns_cache;
static size_t dns_cache_n, dns_cache_cap;

/* The answers of the queried type, as text. */
struct dns_answers {
	char **v;
	size_t n, cap;
};

struct dns_run {
	struct probe_run *run;
	struct resolver_req *req;       /* while the query is in flight */
	struct dns_cached *cached;      /* NULL: the env's system resolver */
	struct loop_timer timer;        /* fires just before probe.c's timeout */
	struct dns_answers answers;
};

/* Frees every cached resolver. Contract in probe.h: no dns run in flight. */
void probe_dns_cleanup(void)
{
	for (size_t i = 0; i < dns_cache_n; i++) {
		if (dns_cache[i]->users)
			log_warn("dns resolver freed with runs in flight", "server", dns_cache[i]->server);
		resolver_free(dns_cache[i]->res);
		free(dns_cache[i]->server);
		free(dns_cache[i]);
	}
	free(dns_cache);
	dns_cache = NULL;
	dns_cache_n = dns_cache_cap = 0;
}

/* Returns the shared resolver for (l, server, timeout_ms), creating it when
 * needed (sending from source, the env's source_address: one per loop, so
 * not part of the key), with one more user counted. NULL with err filled when the server
 * string is invalid or c-ares cannot start. Only idle resolvers are evicted,
 * so a run's entry stays valid until dns_cache_put(). */
static struct dns_cached *dns_cache_get_locked(struct loop *l, const char *server,
                                               uint64_t timeout_ms, const char *source,
                                               char *err, size_t errlen);

static struct dns_cached *dns_cache_get(struct loop *l, const char *server, uint64_t timeout_ms,
                                        const char *source, char *err, size_t errlen)
{
	struct dns_cached *e;

	pthread_mutex_lock(&dns_cache_lock);
	e = dns_cache_get_locked(l, server, timeout_ms, source, err, errlen);
	pthread_mutex_unlock(&dns_cache_lock);
	return e;
}

static struct dns_cached *dns_cache_get_locked(struct loop *l, const char *server,
                                               uint64_t timeout_ms, const char *source,
                                               char *err, size_t errlen)
{
	struct dns_cached *e;
	struct resolver *res;

	for (size_t i = 0; i < dns_cache_n; i++) {
		e = dns_cache[i];
		if (e->loop == l && e->timeout_ms == timeout_ms && strcmp(e->server, server) == 0) {
			e->users++;
			return e;
		}
	}
	if (dns_cache_n >= DNS_CACHE_MAX) {
		for (size_t i = 0; i < dns_cache_n; i++) {
			if (dns_cache[i]->users || dns_cache[i]->loop != l)
				continue;
			resolver_free(dns_cache[i]->res);
			free(dns_cache[i]->server);
			free(dns_cache[i]);
			dns_cache[i] = dns_cache[--dns_cache_n];
			break;
		}
	}
	res = resolver_new(l, server, timeout_ms, err, errlen);
	if (!res)
		return NULL;
	if (resolver_set_source(res, source, err, errlen) < 0) {
		resolver_free(res);
		return NULL;
	}
	if (dns_cache_n == dns_cache_cap) {
		dns_cache_cap = dns_cache_cap ? dns_cache_cap * 2 : 8;
		dns_cache = xrealloc(dns_cache, dns_cache_cap * sizeof(*dns_cache));
	}
	e = xcalloc(1, sizeof(*e));
	e->loop = l;
	e->server = xstrdup(server);
	e->timeout_ms = timeout_ms;
	e->res = res;
	e->users = 1;
	dns_cache[dns_cache_n++] = e;
	return e;
}

/* Appends s (taken over) to a. */
static void dns_answers_add(struct dns_answers *a, char *s)
{
	if (a->n == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 8;
		a->v = xrealloc(a->v, a->cap * sizeof(*a->v));
	}
	a->v[a->n++] = s;
}

/* Frees every answer; a is empty and reusable after. */
static void dns_answers_clear(struct dns_answers *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a->v);
	memset(a, 0, sizeof(*a));
}

/* Big-endian reads; the caller has checked the bounds. */
static unsigned dns_u16(const unsigned char *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static unsigned long dns_u32(const unsigned char *p)
{
	return (unsigned long)p[0] << 24 | (unsigned long)p[1] << 16 | (unsigned long)p[2] << 8 | p[3];
}

/* Expands the (possibly compressed) name at p; its encoding must end by limit,
 * compression pointers may point anywhere in abuf. Returns a new string
 * without the trailing dot ("." for the root) and sets *used, or NULL when
 * the name is malformed. c-ares escapes unprintable bytes, so it is ASCII. */
static char *dns_name(const unsigned char *p, const unsigned char *limit,
                      const unsigned char *abuf, int alen, size_t *used)
{
	char *s = NULL, *out;
	long enclen = 0;

	if (p >= limit)
		return NULL;
	if (ares_expand_name(p, abuf, alen, &s, &enclen) != ARES_SUCCESS)
		return NULL;
	if (enclen <= 0 || enclen > limit - p) {
		ares_free_string(s);
		return NULL;
	}
	out = xstrdup(*s ? s : ".");
	ares_free_string(s);
	*used = (size_t)enclen;
	return out;
}

/* TXT: the character-strings of one record joined without separator. Kept
 * as received when that is valid UTF-8 without NUL (so users can match it),
 * otherwise bytes outside printable ASCII become \DDD as in zone files. */
static char *dns_txt(const unsigned char *rd, size_t rdlen)
{
	unsigned char *raw = xmalloc(rdlen + 1);
	size_t n = 0, i = 0;
	json_t *probe;
	char *out;

	while (i < rdlen) {
		size_t l = rd[i++];

		if (l > rdlen - i) {
			free(raw);
			return NULL;
		}
		memcpy(raw + n, rd + i, l);
		n += l;
		i += l;
	}
	raw[n] = '\0';
	probe = memchr(raw, '\0', n) ? NULL : json_stringn((const char *)raw, n);
	if (probe) {
		json_decref(probe);
		return (char *)raw;
	}
	out = xmalloc(n * 4 + 1);
	i = 0;
	for (size_t k = 0; k < n; k++) {
		if (raw[k] >= 0x20 && raw[k] < 0x7f && raw[k] != '\\')
			out[i++] = (char)raw[k];
		else
			i += (size_t)sprintf(out + i, "\\%03u", raw[k]);
	}
	out[i] = '\0';
	free(raw);
	return out;
}

/* One record's rdata as text, or NULL when it is malformed. */
static char *dns_rdata(int type, const unsigned char *rd, size_t rdlen,
                       const unsigned char *abuf, int alen)
{
	const unsigned char *end = rd + rdlen;
	char ip[INET6_ADDRSTRLEN];
	char *a = NULL, *b = NULL, *out = NULL;
	size_t used, used2;

	switch (type) {
	case ns_t_a:
		if (rdlen != 4 || !inet_ntop(AF_INET, rd, ip, sizeof(ip)))
			return NULL;
		return xstrdup(ip);
	case ns_t_aaaa:
		if (rdlen != 16 || !inet_ntop(AF_INET6, rd, ip, sizeof(ip)))
			return NULL;
		return xstrdup(ip);
	case ns_t_cname:
	case ns_t_ns:
		return dns_name(rd, end, abuf, alen, &used);
	case ns_t_mx:
		if (rdlen < 3)
			return NULL;
		a = dns_name(rd + 2, end, abuf, alen, &used);
		if (a)
			out = xasprintf("%u %s", dns_u16(rd), a);
		break;
	case ns_t_txt:
		return dns_txt(rd, rdlen);
	case ns_t_soa:
		a = dns_name(rd, end, abuf, alen, &used);
		if (!a)
			break;
		b = dns_name(rd + used, end, abuf, alen, &used2);
		if (!b || (size_t)(end - (rd + used + used2)) < 20)
			break;
		rd += used + used2;
		out = xasprintf("%s %s %lu %lu %lu %lu %lu", a, b, dns_u32(rd), dns_u32(rd + 4),
		                dns_u32(rd + 8), dns_u32(rd + 12), dns_u32(rd + 16));
		break;
	case ns_t_srv:
		if (rdlen < 7)
			return NULL;
		a = dns_name(rd + 6, end, abuf, alen, &used);
		if (a)
			out = xasprintf("%u %u %u %s", dns_u16(rd), dns_u16(rd + 2), dns_u16(rd + 4), a);
		break;
	default:
		/* Not a type the config accepts; the RFC 3597 generic form. */
		out = xasprintf("\\# %zu", rdlen);
		for (size_t i = 0; i < rdlen; i++) {
			b = out;
			out = xasprintf("%s%s%02x", b, i ? "" : " ", rd[i]);
			free(b);
		}
		return out;
	}
	free(a);
	free(b);
	return out;
}

/* Collects the answer-section records of class IN and type qtype from a DNS
 * message (CNAMEs of a chain are skipped for an A query: the addresses are
 * what users assert on). Returns 0, or -1 with err filled when malformed. */
static int dns_parse(const unsigned char *abuf, int alen, int qtype, struct dns_answers *out,
                     char *err, size_t errlen)
{
	const unsigned char *p = abuf + DNS_HEADER_LEN, *end = abuf + alen;
	unsigned qdcount, ancount;
	size_t used;
	char *s;

	if (alen < DNS_HEADER_LEN) {
		snprintf(err, errlen, "%d bytes, shorter than a header", alen);
		return -1;
	}
	qdcount = dns_u16(abuf + 4);
	ancount = dns_u16(abuf + 6);
	for (unsigned i = 0; i < qdcount; i++) {
		s = dns_name(p, end, abuf, alen, &used);
		if (!s || (size_t)(end - (p + used)) < 4) {
			free(s);
			snprintf(err, errlen, "bad question %u", i + 1);
			return -1;
		}
		free(s);
		p += used + 4;
	}
	for (unsigned i = 0; i < ancount; i++) {
		unsigned type, class, rdlen;

		s = dns_name(p, end, abuf, alen, &used);
		if (!s || (size_t)(end - (p + used)) < 10) {
			free(s);
			snprintf(err, errlen, "answer %u of %u truncated", i + 1, ancount);
			return -1;
		}
		free(s);
		p += used;
		type = dns_u16(p);
		class = dns_u16(p + 2);
		rdlen = dns_u16(p + 8);
		p += 10;
		if (rdlen > (size_t)(end - p)) {
			snprintf(err, errlen, "answer %u of %u truncated", i + 1, ancount);
			return -1;
		}
		if ((int)type == qtype && class == ns_c_in) {
			s = dns_rdata(qtype, p, rdlen, abuf, alen);
			if (!s) {
				snprintf(err, errlen, "bad %s record (answer %u)",
				         check_dns_record_name(qtype) ? check_dns_record_name(qtype) : "?",
				         i + 1);
				return -1;
			}
			dns_answers_add(out, s);
		}
		p += rdlen;
	}
	return 0;
}

/* An expected answer in the form dns_rdata() writes: addresses canonical
 * ("2001:DB8:0::1" -> "2001:db8::1"), the trailing dot of a name dropped
 * ("mail.example.com." -> "mail.example.com"). Caller frees. */
static char *dns_norm_expected(int type, const char *s)
{
	unsigned char bin[16];
	char ip[INET6_ADDRSTRLEN];
	char *out;
	size_t o = 0;

	if (type == ns_t_a && inet_pton(AF_INET, s, bin) == 1 && inet_ntop(AF_INET, bin, ip, sizeof(ip)))
		return xstrdup(ip);
	if (type == ns_t_aaaa && inet_pton(AF_INET6, s, bin) == 1 &&
	    inet_ntop(AF_INET6, bin, ip, sizeof(ip)))
		return xstrdup(ip);
	out = xstrdup(s);
	if (type == ns_t_txt || type == ns_t_a || type == ns_t_aaaa)
		return out;
	/* Drop a '.' that ends a name (followed by a space or the end), unless
	 * the name is the root itself. */
	for (size_t i = 0; s[i]; i++) {
		bool ends = s[i + 1] == '\0' || s[i + 1] == ' ';
		bool root = i == 0 || s[i - 1] == ' ';

		if (s[i] == '.' && ends && !root)
			continue;
		out[o++] = s[i];
	}
	out[o] = '\0';
	return out;
}

/* Whether an answer equals an expected value: TXT exactly, everything else
 * (names, hex digits of addresses) case-insensitively. */
static bool dns_equal(int type, const char *answer, const char *expected)
{
	return type == ns_t_txt ? strcmp(answer, expected) == 0 : strcasecmp(answer, expected) == 0;
}

/* Whether expected is among the answers (dns_equal). */
static bool dns_has(int type, const struct dns_answers *a, const char *expected)
{
	for (size_t i = 0; i < a->n; i++)
		if (dns_equal(type, a->v[i], expected))
			return true;
	return false;
}

/* Writes "[a, b, c]" into buf, ending in "...]" when it does not fit. */
static const char *dns_join(char *const *v, size_t n, char *buf, size_t len)
{
	size_t o = 0;

	if (len < 8) {
		if (len)
			buf[0] = '\0';
		return buf;
	}
	buf[o++] = '[';
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(v[i]) + (i ? 2 : 0);

		if (o + l + 2 > len) {
			if (o + 5 > len)
				o = len - 5;
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		o += (size_t)snprintf(buf + o, len - o, "%s%s", i ? ", " : "", v[i]);
	}
	buf[o++] = ']';
	buf[o] = '\0';
	return buf;
}

/* How messages name the server: "DNS server 127.0.0.1:5353" or "the system's DNS servers". */
static void dns_server_label(const struct check *c, char *buf, size_t len)
{
	if (c->dns.server)
		snprintf(buf, len, "DNS server %s", c->dns.server);
	else
		snprintf(buf, len, "the system's DNS servers");
}

/* Releases what the run holds: the query (cancelled), the timer, its share
 * of the cached resolver, the answers. t is freed. */
static void dns_release(struct dns_run *t)
{
	if (t->req)
		resolver_cancel(t->req);
	loop_timer_stop(t->run->env->loop, &t->timer);
	if (t->cached) {
		pthread_mutex_lock(&dns_cache_lock);
		t->cached->users--;
		pthread_mutex_unlock(&dns_cache_lock);
	}
	dns_answers_clear(&t->answers);
	free(t);
}

/* Ends the run: releases t and hands the result to probe.c. */
static void dns_done(struct dns_run *t)
{
	struct probe_run *run = t->run;

	run->result.ok = run->result.error == PROBE_OK;
	run->impl = NULL;
	dns_release(t);
	probe_finish(run);
}

/* The answer is in: details, then the rcode and every expect setting. */
static void dns_evaluate(struct dns_run *t, int rcode)
{
	struct probe_run *run = t->run;
	const struct check *c = run->check;
	const struct check_expect *e = &c->expect;
	const struct dns_answers *a = &t->answers;
	int type = c->dns.record;
	char rbuf[16], what[sizeof(((struct probe_assertion *)0)->what)];
	char got[sizeof(((struct probe_assertion *)0)->detail)], label[300];
	const char *rname = check_dns_rcode_name(rcode);
	json_t *list = json_array();

	if (!rname) {
		snprintf(rbuf, sizeof(rbuf), "RCODE%d", rcode);
		rname = rbuf;
	}
	for (size_t i = 0; i < a->n; i++)
		json_array_append_new(list, json_string(a->v[i]));
	run->result.status_code = rcode;
	probe_result_detail(&run->result, "rcode", json_string(rname));
	probe_result_detail(&run->result, "answers", list);
	probe_result_detail(&run->result, "server", json_string(c->dns.server ? c->dns.server : "system"));
	probe_result_note(&run->result, "%s, %zu answer%s", rname, a->n, a->n == 1 ? "" : "s");

	if (e->rcode >= 0) {
		const char *want = check_dns_rcode_name(e->rcode);

		snprintf(what, sizeof(what), "rcode %s", want ? want : "?");
		probe_result_assert(&run->result, rcode == e->rcode, what, "got %s", rname);
	} else if (rcode != ns_r_noerror) {
		/* A dns check for a name that does not exist is down. */
		dns_server_label(c, label, sizeof(label));
		probe_result_fail(&run->result, PROBE_ERR_DNS, "%s %s: %s from %s",
		                  check_dns_record_name(type) ? check_dns_record_name(type) : "?",
		                  c->dns.query, rname, label);
		probe_result_assert(&run->result, false, "rcode NOERROR (default)", "got %s", rname);
	}

	dns_join(a->v, a->n, got, sizeof(got));
	for (size_t i = 0; i < e->n_answers_contain; i++) {
		char *want = dns_norm_expected(type, e->answers_contain[i]);
		bool ok = dns_has(type, a, want);

		snprintf(what, sizeof(what), "answers_contain %s", e->answers_contain[i]);
		probe_result_assert(&run->result, ok, what, "%s%s", ok ? "found in " : "got ", got);
		free(want);
	}
	if (e->n_answers_exact) {
		struct dns_answers want = { 0 };
		bool ok = true;
		char wbuf[sizeof(what) - 16];

		for (size_t i = 0; i < e->n_answers_exact; i++)
			dns_answers_add(&want, dns_norm_expected(type, e->answers_exact[i]));
		/* Same set, order and duplicates ignored. */
		for (size_t i = 0; ok && i < want.n; i++)
			ok = dns_has(type, a, want.v[i]);
		for (size_t i = 0; ok && i < a->n; i++)
			ok = dns_has(type, &want, a->v[i]);
		snprintf(what, sizeof(what), "answers_exact %s",
		         dns_join(e->answers_exact, e->n_answers_exact, wbuf, sizeof(wbuf)));
		probe_result_assert(&run->result, ok, what, "got %s", got);
		dns_answers_clear(&want);
	}
	if (e->min_answers >= 0) {
		snprintf(what, sizeof(what), "min_answers %d", e->min_answers);
		probe_result_assert(&run->result, a->n >= (size_t)e->min_answers, what, "got %zu", a->n);
	}
	assert_max_latency(&run->result, e, probe_elapsed_us(run));
	dns_done(t);
}

/* resolver_query callback. The rcode comes from the header when c-ares hands
 * over the message (it does for NXDOMAIN and empty NOERROR answers); without
 * one (SERVFAIL / REFUSED after every try) it is rebuilt from the status. */
static void dns_on_answer(int status, const unsigned char *abuf, int alen, uint64_t elapsed_us,
                          void *arg)
{
	struct dns_run *t = arg;
	struct probe_run *run = t->run;
	const struct check *c = run->check;
	char label[300], err[160], dur[32];
	int rcode;

	t->req = NULL;
	loop_timer_stop(run->env->loop, &t->timer);
	run->result.dns_us = (int64_t)elapsed_us;
	dns_server_label(c, label, sizeof(label));
	if (abuf && alen >= DNS_HEADER_LEN) {
		rcode = abuf[3] & 0x0f;
		run->result.bytes = alen;
		if (dns_parse(abuf, alen, c->dns.record, &t->answers, err, sizeof(err)) < 0) {
			probe_result_fail(&run->result, PROBE_ERR_PROTOCOL, "malformed answer from %s: %s",
			                  label, err);
			dns_done(t);
			return;
		}
		dns_evaluate(t, rcode);
		return;
	}
	switch (status) {
	case ARES_SUCCESS:
	case ARES_ENODATA:      rcode = ns_r_noerror; break;
	case ARES_EFORMERR:     rcode = ns_r_formerr; break;
	case ARES_ESERVFAIL:    rcode = ns_r_servfail; break;
	case ARES_ENOTFOUND:    rcode = ns_r_nxdomain; break;
	case ARES_ENOTIMP:      rcode = ns_r_notimpl; break;
	case ARES_EREFUSED:     rcode = ns_r_refused; break;
	case ARES_ETIMEOUT:
		util_format_duration((elapsed_us + 500) / 1000, dur, sizeof(dur));
		if (t->cached)
			util_format_duration(t->cached->timeout_ms, dur, sizeof(dur));
		probe_result_fail(&run->result, PROBE_ERR_TIMEOUT, "%s did not answer within %s",
		                  label, dur);
		dns_done(t);
		return;
	case ARES_ECONNREFUSED:
		probe_result_fail(&run->result, PROBE_ERR_CONNECT, "%s refused the connection", label);
		dns_done(t);
		return;
	case ARES_EBADRESP:
		probe_result_fail(&run->result, PROBE_ERR_PROTOCOL, "malformed answer from %s", label);
		dns_done(t);
		return;
	case ARES_ECANCELLED:
	case ARES_EDESTRUCTION:
		probe_result_fail(&run->result, PROBE_ERR_ABORTED, "DNS query cancelled");
		dns_done(t);
		return;
	default:
		probe_result_fail(&run->result, PROBE_ERR_DNS, "query to %s failed: %s", label,
		                  ares_strerror(status));
		dns_done(t);
		return;
	}
	dns_evaluate(t, rcode);
}

/* Fires 2 ms before probe.c's overall timeout so the message can name the
 * server ("DNS server 127.0.0.1:5353 did not answer within 2s"). */
static void dns_on_timer(struct loop *l, struct loop_timer *tm)
{
	struct dns_run *t = tm->arg;
	struct probe_run *run = t->run;
	char label[300], dur[32];

	dns_server_label(run->check, label, sizeof(label));
	util_format_duration(run->check->timeout_ms, dur, sizeof(dur));
	probe_result_fail(&run->result, PROBE_ERR_TIMEOUT, "%s did not answer within %s", label, dur);
	dns_done(t);
}

/* the descriptor's start: pick the resolver, send the query, arm the timer. */
static int dns_start(struct probe_run *run)
{
	const struct check *c = run->check;
	struct dns_run *t = xcalloc(1, sizeof(*t));
	struct resolver *res = run->env->resolver;
	char err[256] = "";

	t->run = run;
	run->impl = t;
	run->phase = "waiting for the DNS answer";
	loop_timer_init(&t->timer, dns_on_timer, t);
	if (c->dns.server) {
		t->cached = dns_cache_get(run->env->loop, c->dns.server, c->timeout_ms,
		                          run->env->source_address, err, sizeof(err));
		if (!t->cached) {
			probe_result_fail(&run->result, PROBE_ERR_DNS, "cannot use DNS server %s: %s",
			                  c->dns.server, err[0] ? err : "resolver failed to start");
			goto fail;
		}
		res = t->cached->res;
	}
	t->req = resolver_query(res, c->dns.query, c->dns.record, dns_on_answer, t);
	if (!t->req) {
		probe_result_fail(&run->result, PROBE_ERR_DNS, "cannot start the DNS query for %s",
		                  c->dns.query);
		goto fail;
	}
	/* Absolute, from the run's start: probe.c's own timer is due at
	 * start + timeout, and ours must come strictly first. */
	if (c->timeout_ms > DNS_TIMER_MARGIN_MS)
		loop_timer_start_at(run->env->loop, &t->timer,
		                    run->start_mono_us / 1000 + c->timeout_ms - DNS_TIMER_MARGIN_MS);
	return 0;
fail:
	run->impl = NULL;
	dns_release(t);
	return -1;
}

/* the descriptor's abort: cancel the query and the timer, free. */
static void dns_abort(struct probe_run *run)
{
	struct dns_run *t = run->impl;

	if (!t)
		return;
	run->impl = NULL;
	dns_release(t);
}

/* --- the type's descriptor ------------------------------------------------ */

static const struct probe_setting dns_settings[] = {
	PROBE_SET_CUSTOM("query", "dns_query", PROBE_STORE_STR, struct check, dns.query, PROBE_REQUIRED,
	                 "query = \"api.example.com\"", "the name asked for"),
	PROBE_SET_CUSTOM("record", "dns_record", PROBE_STORE_INT, struct check, dns.record, 0, NULL,
	                 "record type: A AAAA CNAME MX TXT NS SOA SRV (default A)"),
	PROBE_SET_CUSTOM("server", "dns_server", PROBE_STORE_STR, struct check, dns.server, 0, NULL,
	                 "IP address with an optional port (default: the system's resolvers)"),
	PROBE_SET_END
};

static const struct probe_setting dns_expect[] = {
	PROBE_SET_CUSTOM("rcode", "dns_rcode", PROBE_STORE_INT, struct check_expect, rcode, 0, NULL,
	                 "expected rcode: NOERROR NXDOMAIN SERVFAIL REFUSED FORMERR NOTIMP (default NOERROR)"),
	PROBE_SET_LIST("answers_contain", struct check_expect, answers_contain, n_answers_contain,
	               "answers that must be among those returned"),
	PROBE_SET_LIST("answers_exact", struct check_expect, answers_exact, n_answers_exact,
	               "the exact set of answers, in any order"),
	PROBE_SET_INT("min_answers", struct check_expect, min_answers, 0, 1000, "fewest answers accepted"),
	PROBE_SET_DURATION("max_latency", struct check_expect, max_latency_ms, 1, "longest acceptable answer time"),
	PROBE_SET_END
};

/* "A api.example.com @1.1.1.1:53". */
static char *dns_target(const struct check *c)
{
	const char *rec = check_dns_record_name(c->dns.record);

	return xasprintf("%s %s%s%s", rec ? rec : "?", c->dns.query ? c->dns.query : "",
	                 c->dns.server ? " @" : "", c->dns.server ? c->dns.server : "");
}

/* The rcode and the answers, as `pharos probe` shows them. */
static void dns_details(const struct check *c, const struct probe_result *r, FILE *out)
{
	json_t *answers = json_object_get(r->details, "answers");
	const char *rcode = json_string_value(json_object_get(r->details, "rcode"));
	size_t i;
	json_t *v;

	(void)c;
	if (rcode)
		fprintf(out, "rcode       %s\n", rcode);
	if (!json_is_array(answers))
		return;
	fprintf(out, "answers     %s", json_array_size(answers) ? "" : "(none)");
	json_array_foreach(answers, i, v)
		fprintf(out, "%s%s", i ? ", " : "", json_string_value(v) ? json_string_value(v) : "?");
	fprintf(out, "\n");
}

static void dns_init(struct check *c)
{
	c->dns.record = ns_t_a;
}

static void dns_free(struct check *c)
{
	free(c->dns.query);
	free(c->dns.server);
}

const struct probe_type probe_type_dns = {
	.name = "dns",
	.summary = "ask a DNS server one question; assert on the rcode and the answers",
	.settings = dns_settings,
	.expect = dns_expect,
	.target = dns_target,
	.start = dns_start,
	.abort = dns_abort,
	.details = dns_details,
	.init = dns_init,
	.free = dns_free,
};

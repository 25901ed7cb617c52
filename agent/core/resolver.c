/* resolver.c — c-ares on the event loop: address lookups (cached for their
 * TTL, at most 60 s) and raw DNS queries, with answers delivered from the loop.
 *
 * c-ares 1.18 integration: ARES_OPT_SOCK_STATE_CB tells us which sockets to
 * watch (loop_fd_set), a ready socket goes to ares_process_fd(), and one loop
 * timer, re-armed from ares_timeout() after every piece of processing, calls
 * ares_process_fd(ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD) so queries time out.
 *
 * A request's life: c-ares may hold it (in_ares), it may wait in the deferred
 * list for its callback (queued), and once the user's callback ran or was
 * cancelled it is finished. It is freed when it is finished and neither c-ares
 * nor the list holds it any more. Every user callback runs from a loop
 * callback, never from inside resolver_lookup/resolver_query (c-ares answers
 * /etc/hosts names and some errors synchronously): c-ares results are parked in
 * the deferred list and delivered by a 0 ms loop timer.
 *
 * Each request also has its own deadline timer, so timeout_ms holds even when
 * c-ares would take longer (several servers, search domains, A+AAAA). */
#include "core/resolver.h"
#include "core/resolver_addr.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/util.h"

#include <ares.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define RESOLVER_CACHE_TTL_MAX_MS 60000
#define RESOLVER_CACHE_BUCKETS 256
#define RESOLVER_CACHE_MAX 4096     /* entries; beyond that expired ones go, then all */

enum req_kind { REQ_LOOKUP, REQ_QUERY };

struct resolver_req {
	struct resolver *r;
	enum req_kind kind;
	bool in_ares;               /* c-ares will still call us back */
	bool queued;                /* in r's deferred list */
	bool finished;              /* user callback ran, or was cancelled */
	resolver_addr_fn *afn;
	resolver_query_fn *qfn;
	void *arg;
	char *name;                 /* host or query name, for messages and the cache */
	int family;
	uint64_t start_us;
	struct loop_timer deadline;
	/* the answer, while queued */
	int status;                 /* lookup: 0/-1; query: ARES_* */
	char errmsg[256];
	struct resolver_addrs addrs;
	unsigned char *abuf;
	int alen;
	uint64_t elapsed_us;
	struct resolver_req *prev, *next;   /* deferred list */
};

struct cache_entry {
	char *host;                 /* lowercased */
	int family;
	uint64_t expires_ms;
	struct resolver_addrs addrs;
	struct cache_entry *next;
};

struct resolver {
	struct loop *l;
	ares_channel ch;
	uint64_t timeout_ms;
	struct loop_timer ares_timer;   /* ares_timeout() */
	struct loop_timer defer_timer;  /* delivers the deferred list */
	struct resolver_req *dhead, *dtail;
	int *fds;                       /* sockets registered with the loop */
	size_t nfds, capfds;
	bool destroying;
	bool *gone;                     /* set when freed during a delivery */
	struct cache_entry *cache[RESOLVER_CACHE_BUCKETS];
	size_t cache_n;
};

static pthread_once_t ares_once = PTHREAD_ONCE_INIT;
static int ares_init_rc = ARES_SUCCESS;

static void ares_global(void)
{
	ares_init_rc = ares_library_init(ARES_LIB_INIT_ALL);
}

/* --- loop integration ------------------------------------------------------ */

/* Re-arms the c-ares timer from ares_timeout(); stops it when nothing is
 * pending. Called after every call into c-ares that can start or end work. */
static void rearm(struct resolver *r)
{
	struct timeval tv, *tvp;
	uint64_t ms;

	if (r->destroying)
		return;
	tvp = ares_timeout(r->ch, NULL, &tv);
	if (tvp == NULL) {
		loop_timer_stop(r->l, &r->ares_timer);
		return;
	}
	/* Round up: waking a millisecond early would just re-arm for 0 ms. */
	ms = (uint64_t)tvp->tv_sec * 1000u + ((uint64_t)tvp->tv_usec + 999u) / 1000u;
	loop_timer_start(r->l, &r->ares_timer, ms);
}

static void on_ares_fd(struct loop *l, int fd, int events, void *arg)
{
	struct resolver *r = arg;

	ares_process_fd(r->ch, (events & LOOP_READ) ? fd : ARES_SOCKET_BAD,
	                (events & LOOP_WRITE) ? fd : ARES_SOCKET_BAD);
	rearm(r);
}

static void on_ares_timer(struct loop *l, struct loop_timer *t)
{
	struct resolver *r = t->arg;

	ares_process_fd(r->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	rearm(r);
}

static void fds_track(struct resolver *r, int fd, bool on)
{
	for (size_t i = 0; i < r->nfds; i++) {
		if (r->fds[i] == fd) {
			if (!on)
				r->fds[i] = r->fds[--r->nfds];
			return;
		}
	}
	if (!on)
		return;
	if (r->nfds == r->capfds) {
		r->capfds = r->capfds ? r->capfds * 2 : 4;
		r->fds = xrealloc(r->fds, r->capfds * sizeof(*r->fds));
	}
	r->fds[r->nfds++] = fd;
}

/* ARES_OPT_SOCK_STATE_CB: readable/writable interest for fd; both 0 means
 * c-ares is about to close it. */
static void sock_state_cb(void *data, ares_socket_t fd, int readable, int writable)
{
	struct resolver *r = data;
	int events = (readable ? LOOP_READ : 0) | (writable ? LOOP_WRITE : 0);

	if (r->destroying)
		return;
	if (loop_fd_set(r->l, fd, events, on_ares_fd, r) < 0) {
		log_warn("cannot watch a DNS socket", "error", strerror(errno));
		return;     /* the query then ends by timeout */
	}
	fds_track(r, fd, events != 0);
}

/* --- requests --------------------------------------------------------------- */

static void req_free(struct resolver_req *q)
{
	free(q->name);
	free(q->abuf);
	free(q);
}

static void defer_unlink(struct resolver *r, struct resolver_req *q)
{
	if (q->prev != NULL)
		q->prev->next = q->next;
	else
		r->dhead = q->next;
	if (q->next != NULL)
		q->next->prev = q->prev;
	else
		r->dtail = q->prev;
	q->prev = q->next = NULL;
	q->queued = false;
}

/* Parks a request whose answer is ready; the defer timer delivers it. */
static void defer_push(struct resolver *r, struct resolver_req *q)
{
	q->prev = r->dtail;
	q->next = NULL;
	if (r->dtail != NULL)
		r->dtail->next = q;
	else
		r->dhead = q;
	r->dtail = q;
	q->queued = true;
	loop_timer_stop(r->l, &q->deadline);
	if (!loop_timer_active(&r->defer_timer))
		loop_timer_start(r->l, &r->defer_timer, 0);
}

/* Calls the user's callback of a finished-now request. Everything passed is
 * read from q, which the callee cannot free (it is no longer reachable). */
static void deliver(struct resolver_req *q)
{
	q->finished = true;
	if (q->kind == REQ_LOOKUP)
		q->afn(q->status, q->status == 0 ? NULL : q->errmsg,
		       q->status == 0 ? &q->addrs : NULL, q->arg);
	else
		q->qfn(q->status, q->abuf, q->alen, q->elapsed_us, q->arg);
}

/* Delivers the requests queued when the timer fired (later ones wait for the
 * next round, so a callback that looks up a cached name again cannot keep us
 * here). A callback may free the resolver: r->gone tells us. */
static void on_defer_timer(struct loop *l, struct loop_timer *t)
{
	struct resolver *r = t->arg;
	struct resolver_req *q;
	size_t n = 0;
	bool gone = false;

	for (q = r->dhead; q != NULL; q = q->next)
		n++;
	r->gone = &gone;
	while (n-- > 0 && (q = r->dhead) != NULL) {
		defer_unlink(r, q);
		deliver(q);
		req_free(q);
		if (gone)
			return;
	}
	r->gone = NULL;
	if (r->dhead != NULL && !loop_timer_active(&r->defer_timer))
		loop_timer_start(r->l, &r->defer_timer, 0);
}

/* The per-request deadline passed before c-ares answered: answer "timeout"
 * now. c-ares still holds q and frees it through its callback later. */
static void on_deadline(struct loop *l, struct loop_timer *t)
{
	struct resolver_req *q = t->arg;
	struct resolver *r = q->r;
	char msg[sizeof(q->errmsg)];
	resolver_addr_fn *afn = q->afn;
	resolver_query_fn *qfn = q->qfn;
	void *arg = q->arg;
	uint64_t elapsed = util_mono_us() - q->start_us;
	enum req_kind kind = q->kind;

	q->finished = true;
	snprintf(msg, sizeof(msg), "DNS server did not answer for %s within %llu ms",
	         q->name, (unsigned long long)r->timeout_ms);
	/* q may be freed by the callback (resolver_free -> ares_destroy): only
	 * locals from here on. */
	if (kind == REQ_LOOKUP)
		afn(-1, msg, NULL, arg);
	else
		qfn(ARES_ETIMEOUT, NULL, 0, elapsed, arg);
}

static struct resolver_req *req_new(struct resolver *r, enum req_kind kind,
                                    const char *name, int family, void *arg)
{
	struct resolver_req *q = xcalloc(1, sizeof(*q));

	q->r = r;
	q->kind = kind;
	q->name = xstrdup(name);
	q->family = family;
	q->arg = arg;
	q->start_us = util_mono_us();
	loop_timer_init(&q->deadline, on_deadline, q);
	return q;
}

/* Words a person understands for a failed lookup. */
static void lookup_error(struct resolver_req *q, int status)
{
	switch (status) {
	case ARES_ENOTFOUND:
		snprintf(q->errmsg, sizeof(q->errmsg), "no such host: %s (NXDOMAIN)", q->name);
		break;
	case ARES_ENODATA:
		snprintf(q->errmsg, sizeof(q->errmsg), "%s has no %s records", q->name,
		         q->family == AF_INET ? "A" : q->family == AF_INET6 ? "AAAA" : "address");
		break;
	case ARES_ETIMEOUT:
		snprintf(q->errmsg, sizeof(q->errmsg), "DNS server did not answer for %s within %llu ms",
		         q->name, (unsigned long long)q->r->timeout_ms);
		break;
	case ARES_ECONNREFUSED:
		snprintf(q->errmsg, sizeof(q->errmsg),
		         "DNS lookup of %s failed: the DNS server refused the connection", q->name);
		break;
	default:
		snprintf(q->errmsg, sizeof(q->errmsg), "DNS lookup of %s failed: %s", q->name,
		         ares_strerror(status));
	}
}

/* --- cache ------------------------------------------------------------------- */

static char *host_key(const char *host)
{
	char *k = xstrdup(host);
	size_t n = strlen(k);

	for (size_t i = 0; i < n; i++)
		k[i] = (char)tolower((unsigned char)k[i]);
	/* "example.com." and "example.com" are the same name. */
	if (n > 1 && k[n - 1] == '.')
		k[n - 1] = '\0';
	return k;
}

static size_t cache_bucket(const char *key, int family)
{
	uint64_t h = util_hash64(key);

	h = util_hash64_update(h, &family, sizeof(family));
	return (size_t)(h % RESOLVER_CACHE_BUCKETS);
}

static void cache_entry_free(struct cache_entry *e)
{
	free(e->host);
	free(e);
}

/* Drops expired entries, or every entry when all is set. */
static void cache_purge(struct resolver *r, uint64_t now, bool all)
{
	for (size_t b = 0; b < RESOLVER_CACHE_BUCKETS; b++) {
		struct cache_entry **pp = &r->cache[b];

		while (*pp != NULL) {
			struct cache_entry *e = *pp;

			if (all || e->expires_ms <= now) {
				*pp = e->next;
				cache_entry_free(e);
				r->cache_n--;
			} else {
				pp = &e->next;
			}
		}
	}
}

static const struct cache_entry *cache_get(struct resolver *r, const char *key, int family)
{
	uint64_t now = util_mono_ms();

	for (struct cache_entry *e = r->cache[cache_bucket(key, family)]; e; e = e->next) {
		if (e->family == family && strcmp(e->host, key) == 0)
			return e->expires_ms > now ? e : NULL;
	}
	return NULL;
}

static void cache_put(struct resolver *r, const char *host, int family,
                      const struct resolver_addrs *addrs, uint64_t ttl_ms)
{
	char *key = host_key(host);
	uint64_t now = util_mono_ms();
	size_t b = cache_bucket(key, family);
	struct cache_entry *e;

	for (e = r->cache[b]; e != NULL; e = e->next) {
		if (e->family == family && strcmp(e->host, key) == 0)
			break;
	}
	if (e == NULL) {
		if (r->cache_n >= RESOLVER_CACHE_MAX)
			cache_purge(r, now, false);
		if (r->cache_n >= RESOLVER_CACHE_MAX)
			cache_purge(r, now, true);
		e = xcalloc(1, sizeof(*e));
		e->host = key;
		key = NULL;
		e->family = family;
		e->next = r->cache[b];
		r->cache[b] = e;
		r->cache_n++;
	}
	e->addrs = *addrs;
	e->addrs.elapsed_us = 0;
	e->expires_ms = now + ttl_ms;
	free(key);
}

/* --- c-ares callbacks -------------------------------------------------------- */

/* Common start of both c-ares callbacks: true when the answer is to be
 * dropped (resolver going away, or nobody waits any more); q is freed then. */
static bool ares_done_drop(struct resolver_req *q, int status)
{
	q->in_ares = false;
	if (status == ARES_EDESTRUCTION || q->finished || q->r->destroying) {
		loop_timer_stop(q->r->l, &q->deadline);
		req_free(q);
		return true;
	}
	return false;
}

static void on_addrinfo(void *arg, int status, int timeouts, struct ares_addrinfo *res)
{
	struct resolver_req *q = arg;
	int min_ttl = -1;

	if (ares_done_drop(q, status))
		goto out;
	q->elapsed_us = util_mono_us() - q->start_us;
	if (status == ARES_SUCCESS && res != NULL) {
		for (struct ares_addrinfo_node *n = res->nodes; n != NULL; n = n->ai_next) {
			if (n->ai_addr == NULL)
				continue;
			if (q->family != AF_UNSPEC && n->ai_family != q->family)
				continue;
			resolver_addrs_add(&q->addrs, n->ai_addr);
			if (min_ttl < 0 || n->ai_ttl < min_ttl)
				min_ttl = n->ai_ttl;
		}
	}
	if (status == ARES_SUCCESS && q->addrs.n == 0)
		status = ARES_ENODATA;
	if (status == ARES_SUCCESS) {
		q->status = 0;
		q->addrs.elapsed_us = q->elapsed_us;
		if (min_ttl > 0) {
			uint64_t ttl_ms = (uint64_t)min_ttl * 1000u;

			if (ttl_ms > RESOLVER_CACHE_TTL_MAX_MS)
				ttl_ms = RESOLVER_CACHE_TTL_MAX_MS;
			cache_put(q->r, q->name, q->family, &q->addrs, ttl_ms);
		}
	} else {
		q->status = -1;
		lookup_error(q, status);
	}
	defer_push(q->r, q);
out:
	if (res != NULL)
		ares_freeaddrinfo(res);
}

static void on_query(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct resolver_req *q = arg;

	if (ares_done_drop(q, status))
		return;
	q->elapsed_us = util_mono_us() - q->start_us;
	q->status = status;
	/* abuf is only valid during this callback. */
	if (abuf != NULL && alen > 0) {
		q->abuf = xmalloc((size_t)alen);
		memcpy(q->abuf, abuf, (size_t)alen);
		q->alen = alen;
	}
	defer_push(q->r, q);
}

/* --- public -------------------------------------------------------------------- */

/* One c-ares channel on l. Each try waits timeout_ms/3 and there are two tries,
 * whose waits c-ares doubles (t + 2t): one server's worst case is timeout_ms.
 * The per-request deadline covers the rest. */
struct resolver *resolver_new(struct loop *l, const char *server, uint64_t timeout_ms,
                              char *err, size_t errlen)
{
	struct ares_options opts;
	struct resolver *r = NULL;
	char csv[80];
	int rc, mask;

	pthread_once(&ares_once, ares_global);
	if (ares_init_rc != ARES_SUCCESS) {
		snprintf(err, errlen, "cannot start the DNS resolver: %s", ares_strerror(ares_init_rc));
		return NULL;
	}
	if (timeout_ms == 0)
		timeout_ms = 5000;
	if (timeout_ms > 600000)
		timeout_ms = 600000;
	if (server != NULL && resolver_server_csv(server, csv, sizeof(csv)) < 0) {
		snprintf(err, errlen,
		         "invalid DNS server \"%s\": expected an IP address with an optional port "
		         "(\"1.1.1.1\", \"127.0.0.1:5353\", \"[::1]:53\")", server);
		return NULL;
	}

	r = xcalloc(1, sizeof(*r));
	r->l = l;
	r->timeout_ms = timeout_ms;
	loop_timer_init(&r->ares_timer, on_ares_timer, r);
	loop_timer_init(&r->defer_timer, on_defer_timer, r);

	memset(&opts, 0, sizeof(opts));
	opts.timeout = (int)(timeout_ms / 3 > 0 ? timeout_ms / 3 : 1);
	opts.tries = 2;
	opts.sock_state_cb = sock_state_cb;
	opts.sock_state_cb_data = r;
	mask = ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_SOCK_STATE_CB;
	/* A dns check wants the server's own rcode: without NOCHECKRESP c-ares
	 * turns SERVFAIL and REFUSED from the only server into ECONNREFUSED. */
	if (server != NULL) {
		opts.flags = ARES_FLAG_NOCHECKRESP;
		mask |= ARES_OPT_FLAGS;
	}
	rc = ares_init_options(&r->ch, &opts, mask);
	if (rc != ARES_SUCCESS) {
		snprintf(err, errlen, "cannot start the DNS resolver: %s", ares_strerror(rc));
		goto fail;
	}
	if (server != NULL) {
		rc = ares_set_servers_ports_csv(r->ch, csv);
		if (rc != ARES_SUCCESS) {
			snprintf(err, errlen, "cannot use DNS server \"%s\": %s", server, ares_strerror(rc));
			ares_destroy(r->ch);
			goto fail;
		}
	}
	return r;
fail:
	free(r);
	return NULL;
}

int resolver_set_source(struct resolver *r, const char *addr, char *err, size_t errlen)
{
	struct in_addr v4;
	unsigned char v6[16];

	if (addr == NULL)
		return 0;
	if (inet_pton(AF_INET, addr, &v4) == 1) {
		ares_set_local_ip4(r->ch, ntohl(v4.s_addr));   /* c-ares wants host order */
		return 0;
	}
	if (inet_pton(AF_INET6, addr, v6) == 1) {
		ares_set_local_ip6(r->ch, v6);
		return 0;
	}
	snprintf(err, errlen, "source address \"%s\" is not an IP address", addr);
	return -1;
}

/* Frees r: queued answers are dropped, c-ares' own requests end with
 * ARES_EDESTRUCTION (their user callbacks are not called), every fd and timer
 * leaves the loop. Safe from inside one of r's callbacks. */
void resolver_free(struct resolver *r)
{
	struct resolver_req *q;

	if (r == NULL)
		return;
	if (r->gone != NULL)
		*r->gone = true;
	while ((q = r->dhead) != NULL) {
		defer_unlink(r, q);
		req_free(q);
	}
	loop_timer_stop(r->l, &r->ares_timer);
	loop_timer_stop(r->l, &r->defer_timer);
	/* Off the loop while the numbers still name c-ares' sockets. */
	for (size_t i = 0; i < r->nfds; i++)
		loop_fd_set(r->l, r->fds[i], 0, NULL, NULL);
	r->nfds = 0;
	r->destroying = true;
	ares_destroy(r->ch);    /* in_ares requests: on_* free them (and their deadlines) */
	cache_purge(r, 0, true);
	free(r->fds);
	free(r);
}

/* Tries host as an IP literal ("192.0.2.1", "::1", "[::1]"). Returns 1 and
 * fills q when it is one (status -1 when the family does not fit), else 0. */
static int literal_answer(struct resolver_req *q, const char *host, int family)
{
	char buf[INET6_ADDRSTRLEN + 1];
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	size_t n = strlen(host);

	memset(&sin, 0, sizeof(sin));
	memset(&sin6, 0, sizeof(sin6));
	if (inet_pton(AF_INET, host, &sin.sin_addr) == 1) {
		if (family == AF_INET6) {
			q->status = -1;
			snprintf(q->errmsg, sizeof(q->errmsg), "%s is an IPv4 address, IPv6 was asked for", host);
			return 1;
		}
		sin.sin_family = AF_INET;
		resolver_addrs_add(&q->addrs, (struct sockaddr *)&sin);
		return 1;
	}
	if (n >= 2 && host[0] == '[' && host[n - 1] == ']' && n - 2 < sizeof(buf)) {
		memcpy(buf, host + 1, n - 2);
		buf[n - 2] = '\0';
	} else if (n < sizeof(buf)) {
		memcpy(buf, host, n + 1);
	} else {
		return 0;
	}
	if (inet_pton(AF_INET6, buf, &sin6.sin6_addr) == 1) {
		if (family == AF_INET) {
			q->status = -1;
			snprintf(q->errmsg, sizeof(q->errmsg), "%s is an IPv6 address, IPv4 was asked for", host);
			return 1;
		}
		sin6.sin6_family = AF_INET6;
		resolver_addrs_add(&q->addrs, (struct sockaddr *)&sin6);
		return 1;
	}
	return 0;
}

/* "localhost" and names under ".localhost" are the loopback addresses
 * (RFC 6761), whatever /etc/hosts says or lacks (a minimal container may have
 * none): a check of a local service must not depend on the resolver's setup.
 * Returns 1 and fills q for such a name, else 0. */
static int localhost_answer(struct resolver_req *q, const char *host, int family)
{
	size_t n = strlen(host);
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;

	if (n > 0 && host[n - 1] == '.')
		n--;
	if (!((n == 9 && strncasecmp(host, "localhost", 9) == 0) ||
	      (n > 10 && strncasecmp(host + n - 10, ".localhost", 10) == 0)))
		return 0;
	memset(&sin, 0, sizeof(sin));
	memset(&sin6, 0, sizeof(sin6));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin6.sin6_family = AF_INET6;
	sin6.sin6_addr = in6addr_loopback;
	if (family != AF_INET6)
		resolver_addrs_add(&q->addrs, (struct sockaddr *)&sin);
	if (family != AF_INET)
		resolver_addrs_add(&q->addrs, (struct sockaddr *)&sin6);
	return 1;
}

/* Literal, cached, or a c-ares lookup; the answer always comes from the loop. */
struct resolver_req *resolver_lookup(struct resolver *r, const char *host, int family,
                                     resolver_addr_fn *fn, void *arg)
{
	struct ares_addrinfo_hints hints;
	const struct cache_entry *e;
	struct resolver_req *q;
	char *key;

	if (r == NULL || host == NULL || fn == NULL || r->destroying)
		return NULL;
	if (family != AF_UNSPEC && family != AF_INET && family != AF_INET6)
		return NULL;
	q = req_new(r, REQ_LOOKUP, host, family, arg);
	q->afn = fn;

	if (literal_answer(q, host, family) || localhost_answer(q, host, family)) {
		q->addrs.elapsed_us = 0;
		defer_push(r, q);
		return q;
	}
	key = host_key(host);
	e = cache_get(r, key, family);
	free(key);
	if (e != NULL) {
		q->status = 0;
		q->addrs = e->addrs;
		q->addrs.elapsed_us = 0;
		defer_push(r, q);
		return q;
	}

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family;
	q->in_ares = true;
	loop_timer_start(r->l, &q->deadline, r->timeout_ms);
	/* May call on_addrinfo right away (hosts file, bad name): it only parks
	 * the answer, which the loop delivers later. */
	ares_getaddrinfo(r->ch, host, NULL, &hints, on_addrinfo, q);
	rearm(r);
	return q;
}

/* A raw class IN query of the given type. */
struct resolver_req *resolver_query(struct resolver *r, const char *name, int type,
                                    resolver_query_fn *fn, void *arg)
{
	struct resolver_req *q;

	if (r == NULL || name == NULL || fn == NULL || r->destroying)
		return NULL;
	q = req_new(r, REQ_QUERY, name, AF_UNSPEC, arg);
	q->qfn = fn;
	q->in_ares = true;
	loop_timer_start(r->l, &q->deadline, r->timeout_ms);
	ares_query(r->ch, name, ns_c_in, type, on_query, q);
	rearm(r);
	return q;
}

/* The callback will not run. Freed now when only we hold q, else when c-ares
 * gives it back (c-ares 1.18 cannot cancel a single query). */
void resolver_cancel(struct resolver_req *req)
{
	struct resolver *r;

	if (req == NULL || req->finished)
		return;
	r = req->r;
	req->finished = true;
	loop_timer_stop(r->l, &req->deadline);
	if (req->queued)
		defer_unlink(r, req);
	if (!req->in_ares)
		req_free(req);
}

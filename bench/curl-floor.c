/* curl-floor: the cheapest libcurl-multi prober we can write, as a baseline for bench/http-probes. */

/*
 * It issues GET requests at a fixed rate (an absolute token schedule: request k
 * is due at start + k/rate) or, with a rate of 0, as fast as it can with a cap
 * on requests in flight, and records nothing about them.  By default every
 * request is a fresh easy handle on a fresh connection (FRESH_CONNECT +
 * FORBID_REUSE), which is what a monitoring agent's probe costs at least.
 * With -k connections are reused instead, which turns it into a paced load
 * driver (used to drive blackbox_exporter when wrk cannot).
 *
 * Build: cc -O2 -o curl-floor curl-floor.c $(pkg-config --cflags --libs libcurl)
 */

#include <curl/curl.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

/* Monotonic time in seconds. */
static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Body sink: accept and drop everything. */
static size_t discard(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	(void)ptr;
	(void)userdata;
	return size * nmemb;
}

struct opts {
	const char *url;
	double rate;        /* requests per second; 0 = unpaced */
	double duration;    /* seconds of issuing */
	long n_urls;        /* > 0: append ?i, i cycling over 0..n_urls-1 */
	long max_inflight;
	bool reuse;         /* allow connection reuse (driver mode) */
	bool quiet;
};

struct stats {
	unsigned long started, ok, failed;
};

/* Build one easy handle for request number seq; NULL on failure. */
static CURL *make_easy(const struct opts *o, unsigned long seq, char *buf, size_t bufsz)
{
	CURL *e = curl_easy_init();

	if (!e)
		return NULL;
	if (o->n_urls > 0) {
		snprintf(buf, bufsz, "%s?%lu", o->url, seq % (unsigned long)o->n_urls);
		curl_easy_setopt(e, CURLOPT_URL, buf);      /* libcurl copies the string */
	} else {
		curl_easy_setopt(e, CURLOPT_URL, o->url);
	}
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 5000L);
	if (!o->reuse) {
		curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
		curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
	}
	return e;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: curl-floor -u URL [-r RATE] [-d SECONDS] [-n NURLS] [-c MAXINFLIGHT] [-k] [-q]\n"
		"  -r RATE   requests per second (0 = as fast as possible, bounded by -c)\n"
		"  -d SECS   how long to issue requests (default 10)\n"
		"  -n N      append ?i to URL, i = 0..N-1 cycling (default: URL as is)\n"
		"  -c MAX    max requests in flight (default 1000)\n"
		"  -k        allow connection reuse (default: a new connection per request)\n"
		"  -q        print no summary\n");
}

int main(int argc, char **argv)
{
	struct opts o = { .url = NULL, .rate = 1000, .duration = 10, .n_urls = 0,
			  .max_inflight = 1000, .reuse = false, .quiet = false };
	struct stats st = { 0, 0, 0 };
	CURLM *m = NULL;
	char urlbuf[4096];
	long inflight = 0;
	int c, rc = 1;

	while ((c = getopt(argc, argv, "u:r:d:n:c:kq")) != -1) {
		switch (c) {
		case 'u': o.url = optarg; break;
		case 'r': o.rate = atof(optarg); break;
		case 'd': o.duration = atof(optarg); break;
		case 'n': o.n_urls = atol(optarg); break;
		case 'c': o.max_inflight = atol(optarg); break;
		case 'k': o.reuse = true; break;
		case 'q': o.quiet = true; break;
		default: usage(); return 2;
		}
	}
	if (!o.url || o.rate < 0 || o.duration <= 0 || o.max_inflight < 1) {
		usage();
		return 2;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		goto out;
	m = curl_multi_init();
	if (!m)
		goto out;
	/* No connection cache worth keeping when every connection is fresh. */
	curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, o.reuse ? o.max_inflight : 1L);

	double start = now_s();
	double end = start + o.duration;
	double next_due = start;

	for (;;) {
		double t = now_s();
		bool issuing = !stop_flag && t < end;

		if (!issuing && inflight == 0)
			break;
		if (stop_flag && t > end + 5)
			break;
		if (!issuing && t > end + 6)   /* bounded drain */
			break;

		/* Start whatever is due (paced) or fill up to the cap (unpaced). */
		while (issuing && inflight < o.max_inflight &&
		       (o.rate == 0 || next_due <= t)) {
			CURL *e = make_easy(&o, st.started, urlbuf, sizeof urlbuf);

			if (!e || curl_multi_add_handle(m, e) != CURLM_OK) {
				if (e)
					curl_easy_cleanup(e);
				fprintf(stderr, "curl-floor: cannot start a request\n");
				goto out;
			}
			inflight++;
			st.started++;
			if (o.rate > 0)
				next_due = start + (double)st.started / o.rate;
		}

		int running = 0;
		curl_multi_perform(m, &running);

		CURLMsg *msg;
		int left;
		while ((msg = curl_multi_info_read(m, &left))) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			CURL *e = msg->easy_handle;
			if (msg->data.result == CURLE_OK)
				st.ok++;
			else
				st.failed++;
			curl_multi_remove_handle(m, e);
			curl_easy_cleanup(e);
			inflight--;
		}

		/* Sleep until the next request is due or some socket is ready. */
		int timeout_ms = 100;
		if (issuing && o.rate > 0 && inflight < o.max_inflight) {
			double wait = next_due - now_s();
			timeout_ms = wait <= 0 ? 0 : (int)(wait * 1000.0 + 0.999);
			if (timeout_ms > 100)
				timeout_ms = 100;
		} else if (issuing && o.rate == 0 && inflight < o.max_inflight) {
			timeout_ms = 0;
		}
		if (timeout_ms > 0 || inflight > 0)
			curl_multi_poll(m, NULL, 0, timeout_ms, NULL);
	}
	rc = 0;
	if (!o.quiet) {
		double el = now_s() - start;
		printf("started=%lu ok=%lu failed=%lu elapsed=%.2f rate=%.1f\n",
		       st.started, st.ok, st.failed, el, (double)(st.ok + st.failed) / el);
	}
out:
	if (m)
		curl_multi_cleanup(m);   /* handles still attached are leaked at exit: fine */
	curl_global_cleanup();
	return rc;
}

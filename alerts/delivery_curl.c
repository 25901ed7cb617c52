/* delivery_curl.c — the default delivery transport: one POST through curl
 * multi on the loop (or curl easy, blocking, for `pharos notify-test`), no
 * redirects, the first DELIVERY_BODY_MAX bytes of the answer and its
 * Retry-After kept; or, for an smtp:// or smtps:// request, one mail through
 * curl's SMTP, whose last reply code stands for the HTTP status. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "alerts/delivery_curl.h"
#include "core/curlm.h"
#include "core/util.h"

struct cxfer {
	struct curlm *m;
	CURL *easy;
	struct curl_slist *headers;
	struct curl_slist *rcpt;    /* SMTP: the envelope recipients */
	char *body;                 /* what we post (curl does not copy POSTFIELDS) */
	size_t body_len;
	size_t sent;                /* SMTP: bytes of body handed to curl so far */
	bool smtp;
	char buf[DELIVERY_BODY_MAX];
	size_t len;
	char retry_after[128];
	bool has_retry_after;
	char errbuf[CURL_ERROR_SIZE];
	delivery_answer_fn *done;
	void *token;
};

/* Keeps the first DELIVERY_BODY_MAX bytes and reads (and drops) the rest, so
 * a huge answer neither grows memory nor turns into an error. */
static size_t cx_write(char *p, size_t size, size_t nmemb, void *arg)
{
	struct cxfer *x = arg;
	size_t n = size * nmemb, room = sizeof(x->buf) - x->len;

	memcpy(x->buf + x->len, p, n < room ? n : room);
	x->len += n < room ? n : room;
	return n;
}

static size_t cx_header(char *p, size_t size, size_t nmemb, void *arg)
{
	struct cxfer *x = arg;
	size_t n = size * nmemb;
	static const char name[] = "retry-after:";

	if (n > 5 && memcmp(p, "HTTP/", 5) == 0)       /* a new response: forget the last */
		x->has_retry_after = false;
	if (n > sizeof(name) - 1 && strncasecmp(p, name, sizeof(name) - 1) == 0) {
		size_t i = sizeof(name) - 1, k = 0;

		while (i < n && (p[i] == ' ' || p[i] == '\t'))
			i++;
		while (i < n && p[i] != '\r' && p[i] != '\n' && k < sizeof(x->retry_after) - 1)
			x->retry_after[k++] = p[i++];
		x->retry_after[k] = '\0';
		x->has_retry_after = true;
	}
	return n;
}

static void cx_free(struct cxfer *x)
{
	curl_easy_cleanup(x->easy);
	curl_slist_free_all(x->headers);
	curl_slist_free_all(x->rcpt);
	free(x->body);
	free(x);
}

static void cx_done(CURL *easy, CURLcode code, void *arg)
{
	struct cxfer *x = arg;
	struct delivery_answer a = {0};
	long status = 0;

	if (code == CURLE_OK)
		curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
	else if (x->smtp) {
		/* A refusal (4xx, 5xx) is the server's answer; anything else (a
		 * refused connection, no STARTTLS, a TLS error) is no answer. */
		curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
		if (status < 400)
			status = 0;
	}
	a.status = status;
	a.body = x->buf;
	a.body_len = x->len;
	a.retry_after = x->has_retry_after ? x->retry_after : NULL;
	if (code != CURLE_OK)
		a.error = x->errbuf[0] != '\0' ? x->errbuf : curl_easy_strerror(code);
	x->done(x->token, &a);
	cx_free(x);
}

/* Hands curl the next piece of the mail (SMTP uploads it). */
static size_t cx_read(char *p, size_t size, size_t nmemb, void *arg)
{
	struct cxfer *x = arg;
	size_t left = x->body_len - x->sent, n = size * nmemb;

	if (n > left)
		n = left;
	memcpy(p, x->body + x->sent, n);
	x->sent += n;
	return n;
}

/* The SMTP options of x for rq: envelope, TLS as the notifier says, AUTH. */
static void cx_smtp(struct cxfer *x, const struct notify_request *rq)
{
	CURL *e = x->easy;
	char *from = xasprintf("<%s>", rq->mail_from != NULL ? rq->mail_from : "");

	x->smtp = true;
	for (size_t i = 0; i < rq->n_mail_rcpt; i++) {
		char *to = xasprintf("<%s>", rq->mail_rcpt[i]);

		x->rcpt = curl_slist_append(x->rcpt, to);
		free(to);
	}
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	curl_easy_setopt(e, CURLOPT_MAIL_FROM, from);      /* curl copies it */
	curl_easy_setopt(e, CURLOPT_MAIL_RCPT, x->rcpt);
	curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(e, CURLOPT_READFUNCTION, cx_read);
	curl_easy_setopt(e, CURLOPT_READDATA, x);
	curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)x->body_len);
	/* smtps:// is TLS from the first byte whatever this says. */
	curl_easy_setopt(e, CURLOPT_USE_SSL, rq->require_tls ? (long)CURLUSESSL_ALL : (long)CURLUSESSL_NONE);
	if (rq->username != NULL)
		curl_easy_setopt(e, CURLOPT_USERNAME, rq->username);
	if (rq->password != NULL)
		curl_easy_setopt(e, CURLOPT_PASSWORD, rq->password);
	if (rq->ca_file != NULL)
		curl_easy_setopt(e, CURLOPT_CAINFO, rq->ca_file);
	free(from);
}

/* Whether rq is a mail (smtp:// or smtps://) rather than an HTTP POST. */
static bool is_smtp(const struct notify_request *rq)
{
	return rq->url != NULL && (strncmp(rq->url, "smtp://", 7) == 0 || strncmp(rq->url, "smtps://", 8) == 0);
}

/* A transfer of rq with the answer collected into x: what every delivery
 * attempt and `pharos notify-test` send. NULL when curl cannot start. */
static struct cxfer *cx_new(const struct notify_request *rq, uint64_t timeout_ms,
                            delivery_answer_fn *done, void *token)
{
	struct cxfer *x;
	CURL *e = curl_easy_init();

	if (e == NULL)
		return NULL;
	x = xcalloc(1, sizeof(*x));
	x->easy = e;
	x->done = done;
	x->token = token;
	x->body = xstrdup(rq->body ? rq->body : "");
	x->body_len = strlen(x->body);
	for (size_t i = 0; i < rq->n_headers; i++)
		x->headers = curl_slist_append(x->headers, rq->headers[i]);
	x->headers = curl_slist_append(x->headers, "Expect:");
	curl_easy_setopt(e, CURLOPT_URL, rq->url);
	if (is_smtp(rq)) {
		cx_smtp(x, rq);
	} else {
		curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
		curl_easy_setopt(e, CURLOPT_POST, 1L);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, x->body);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(x->body));
		curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->headers);
		curl_easy_setopt(e, CURLOPT_USERAGENT, "pharos/" PHAROS_VERSION);
		if (rq->ca_file != NULL)
			curl_easy_setopt(e, CURLOPT_CAINFO, rq->ca_file);
	}
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, cx_write);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, cx_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
	return x;
}

static int cx_send(void *ctx, const struct notify_request *rq, uint64_t timeout_ms,
                   delivery_answer_fn *done, void *token, void **handle)
{
	struct curlm *m = ctx;
	struct cxfer *x;

	if (m == NULL)
		return -1;
	x = cx_new(rq, timeout_ms, done, token);
	if (x == NULL)
		return -1;
	x->m = m;
	if (curlm_add(m, x->easy, cx_done, x) != 0) {
		cx_free(x);
		return -1;
	}
	*handle = x;
	return 0;
}

int delivery_send_now(const struct notify_request *rq, uint64_t timeout_ms,
                      delivery_answer_fn *done, void *token)
{
	struct cxfer *x = cx_new(rq, timeout_ms, done, token);

	if (x == NULL)
		return -1;
	cx_done(x->easy, curl_easy_perform(x->easy), x);
	return 0;
}

static void cx_cancel(void *ctx, void *handle)
{
	struct cxfer *x = handle;

	curlm_remove(x->m, x->easy);
	cx_free(x);
}

struct delivery_transport delivery_curl_transport(struct curlm *m)
{
	struct delivery_transport t = { cx_send, cx_cancel, m };

	return t;
}

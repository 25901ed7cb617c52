/* util.c — clocks, aborting allocators, durations, RFC 3339 time, FNV-1a
 * hashing, random identifiers and small string helpers. */
#include "core/util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

/* Writes a fixed message with one write(2) (no stdio: the heap may be what is
 * broken) and aborts. A daemon without memory can do nothing useful. */
static void oom(size_t n)
{
	char buf[96];
	int len = snprintf(buf, sizeof(buf), "pharos: out of memory (allocating %zu bytes)\n", n);

	if (len > 0) {
		ssize_t w = write(2, buf, (size_t)len);
		(void)w;
	}
	abort();
}

/* Reads CLOCK_MONOTONIC in microseconds. CLOCK_MONOTONIC cannot fail on Linux
 * with a valid pointer, so there is no error path. */
uint64_t util_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Monotonic milliseconds. */
uint64_t util_mono_ms(void)
{
	return util_mono_us() / 1000u;
}

/* Wall clock (CLOCK_REALTIME) in microseconds since the epoch. */
int64_t util_wall_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + (int64_t)ts.tv_nsec / 1000;
}

/* malloc that never returns NULL. A zero-byte request gets a 1-byte block so
 * that a NULL return always means out-of-memory. */
void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		oom(n);
	return p;
}

/* calloc that never returns NULL; the multiplication overflow check is calloc's. */
void *xcalloc(size_t n, size_t size)
{
	void *p;

	if (n == 0 || size == 0)
		n = size = 1;
	p = calloc(n, size);
	if (p == NULL)
		oom(n * size);
	return p;
}

/* realloc that never returns NULL. */
void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (q == NULL)
		oom(n);
	return q;
}

/* strdup that never returns NULL, except xstrdup(NULL) == NULL for convenience
 * when copying optional settings. */
char *xstrdup(const char *s)
{
	size_t n;
	char *p;

	if (s == NULL)
		return NULL;
	n = strlen(s) + 1;
	p = xmalloc(n);
	memcpy(p, s, n);
	return p;
}

/* Copies at most n bytes of s (stopping at its NUL) and terminates the copy. */
char *xstrndup(const char *s, size_t n)
{
	size_t len;
	char *p;

	if (s == NULL)
		return NULL;
	len = strnlen(s, n);
	p = xmalloc(len + 1);
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

/* asprintf that never returns NULL. vasprintf only fails on out-of-memory
 * (or a format error, which -Wformat keeps out of our code). */
char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	return s;
}

char *xvasprintf(const char *fmt, va_list ap)
{
	char *s = NULL;

	if (vasprintf(&s, fmt, ap) < 0 || s == NULL)
		oom(strlen(fmt));
	return s;
}

static const struct {
	const char *unit;
	uint64_t ms;
} duration_units[] = {
	/* Largest first: util_format_duration picks the first that divides evenly. */
	{ "d", 86400000ULL },
	{ "h", 3600000ULL },
	{ "m", 60000ULL },
	{ "s", 1000ULL },
	{ "ms", 1ULL },
};

/* Parses "<digits><unit>". Strict on purpose: no sign, no spaces, no
 * fractions, no unit-less numbers except "0" (is "30" seconds or ms?). */
int util_parse_duration(const char *s, uint64_t *ms)
{
	uint64_t n = 0, mult = 0;
	const char *p = s;
	size_t i;

	if (s == NULL || *s == '\0')
		return -1;
	if (strcmp(s, "0") == 0) {
		*ms = 0;
		return 0;
	}
	if (*p < '0' || *p > '9')
		return -1;
	while (*p >= '0' && *p <= '9') {
		unsigned d = (unsigned)(*p - '0');

		if (n > (UINT64_MAX - d) / 10)
			return -1;
		n = n * 10 + d;
		p++;
	}
	for (i = 0; i < sizeof(duration_units) / sizeof(duration_units[0]); i++) {
		if (strcmp(p, duration_units[i].unit) == 0) {
			mult = duration_units[i].ms;
			break;
		}
	}
	if (mult == 0)
		return -1;
	if (n > UINT64_MAX / mult)
		return -1;
	*ms = n * mult;
	return 0;
}

/* Largest unit that represents ms exactly; 0 is written as "0". */
void util_format_duration(uint64_t ms, char *buf, size_t len)
{
	size_t i;

	if (len == 0)
		return;
	if (ms == 0) {
		snprintf(buf, len, "0");
		return;
	}
	for (i = 0; i < sizeof(duration_units) / sizeof(duration_units[0]); i++) {
		if (ms % duration_units[i].ms == 0) {
			snprintf(buf, len, "%" PRIu64 "%s", ms / duration_units[i].ms,
			         duration_units[i].unit);
			return;
		}
	}
}

/* "2026-11-24T00:13:24.123Z". Negative times (before 1970) round toward
 * minus infinity so the millisecond field never goes negative. */
void util_format_time(int64_t wall_us, char *buf, size_t len)
{
	int64_t sec = wall_us / 1000000;
	int64_t rem = wall_us % 1000000;
	struct tm tm;
	time_t t;

	if (len == 0)
		return;
	if (rem < 0) {
		rem += 1000000;
		sec -= 1;
	}
	t = (time_t)sec;
	if (gmtime_r(&t, &tm) == NULL) {
		snprintf(buf, len, "1970-01-01T00:00:00.000Z");
		return;
	}
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
	         tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
	         tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(rem / 1000));
}

/* Reads exactly n decimal digits at *p into *out and advances *p. */
static int read_digits(const char **p, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		char c = (*p)[i];

		if (c < '0' || c > '9')
			return -1;
		v = v * 10 + (c - '0');
	}
	*p += n;
	*out = v;
	return 0;
}

static bool is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Plain Unix seconds: an optional '-' and up to 18 digits (anything larger
 * cannot be held in microseconds). */
static int parse_unix_seconds(const char *s, int64_t *wall_us)
{
	const char *p = s;
	bool neg = false;
	int64_t v = 0;
	int digits = 0;

	if (*p == '-') {
		neg = true;
		p++;
	}
	while (*p >= '0' && *p <= '9') {
		if (++digits > 18)
			return -1;
		v = v * 10 + (*p - '0');
		p++;
	}
	if (digits == 0 || *p != '\0')
		return -1;
	if (v > INT64_MAX / 1000000)
		return -1;
	*wall_us = (neg ? -v : v) * 1000000;
	return 0;
}

/* RFC 3339: date 'T' time, optional fraction, then 'Z' or an offset
 * (+hh:mm / -hh:mm). 't', 'z' and a space separator are accepted too (RFC
 * 3339 section 5.6 note). Leap second 60 is accepted and folds into the next
 * minute, as timegm does. */
int util_parse_time(const char *s, int64_t *wall_us)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int year, mon, day, hour, min, sec, oh = 0, om = 0;
	int64_t frac_us = 0, off_s = 0;
	const char *p = s;
	struct tm tm;
	time_t t;
	int dim;

	if (s == NULL || *s == '\0')
		return -1;
	if (strchr(s, '-') == NULL || strlen(s) < 19 || (s[0] == '-'))
		return parse_unix_seconds(s, wall_us);

	if (read_digits(&p, 4, &year) < 0 || *p++ != '-' ||
	    read_digits(&p, 2, &mon) < 0 || *p++ != '-' ||
	    read_digits(&p, 2, &day) < 0)
		return -1;
	if (*p != 'T' && *p != 't' && *p != ' ')
		return -1;
	p++;
	if (read_digits(&p, 2, &hour) < 0 || *p++ != ':' ||
	    read_digits(&p, 2, &min) < 0 || *p++ != ':' ||
	    read_digits(&p, 2, &sec) < 0)
		return -1;
	if (*p == '.') {
		int64_t scale = 100000;
		int n = 0;

		p++;
		while (*p >= '0' && *p <= '9') {
			/* Digits past microseconds are read and ignored. */
			if (n < 6) {
				frac_us += (*p - '0') * scale;
				scale /= 10;
			}
			n++;
			p++;
		}
		if (n == 0)
			return -1;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p == '-' ? -1 : 1;

		p++;
		if (read_digits(&p, 2, &oh) < 0 || *p++ != ':' || read_digits(&p, 2, &om) < 0)
			return -1;
		if (oh > 23 || om > 59)
			return -1;
		off_s = sign * (int64_t)(oh * 3600 + om * 60);
	} else {
		return -1;
	}
	if (*p != '\0')
		return -1;

	if (mon < 1 || mon > 12 || day < 1 || hour > 23 || min > 59 || sec > 60)
		return -1;
	dim = mdays[mon - 1] + (mon == 2 && is_leap(year) ? 1 : 0);
	if (day > dim)
		return -1;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = year - 1900;
	tm.tm_mon = mon - 1;
	tm.tm_mday = day;
	tm.tm_hour = hour;
	tm.tm_min = min;
	tm.tm_sec = sec;
	t = timegm(&tm);
	/* Local time = UTC + offset, so UTC = local - offset. */
	*wall_us = ((int64_t)t - off_s) * 1000000 + frac_us;
	return 0;
}

/* FNV-1a 64-bit over len bytes, continuing from h. */
uint64_t util_hash64_update(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* FNV-1a 64 of a NUL-terminated string (NULL hashes like ""). */
uint64_t util_hash64(const char *s)
{
	if (s == NULL)
		return UTIL_HASH64_INIT;
	return util_hash64_update(UTIL_HASH64_INIT, s, strlen(s));
}

/* 8 bytes from getrandom(2), as 16 hex digits. getrandom only blocks before the
 * kernel's pool is initialised at boot; if it fails anyway (seccomp, ancient
 * kernel) the id falls back to clocks, pid and a counter: ids must still be
 * unique, they need not be secret. */
void util_random_id(char out[UTIL_ID_LEN])
{
	static const char hex[] = "0123456789abcdef";
	static uint64_t counter;
	unsigned char b[8];
	size_t got = 0;

	while (got < sizeof(b)) {
		ssize_t n = getrandom(b + got, sizeof(b) - got, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		got += (size_t)n;
	}
	if (got < sizeof(b)) {
		uint64_t h = UTIL_HASH64_INIT, v[4];

		v[0] = util_mono_us();
		v[1] = (uint64_t)util_wall_us();
		v[2] = (uint64_t)getpid();
		v[3] = __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED);
		h = util_hash64_update(h, v, sizeof(v));
		memcpy(b, &h, sizeof(b));
	}
	for (size_t i = 0; i < sizeof(b); i++) {
		out[2 * i] = hex[b[i] >> 4];
		out[2 * i + 1] = hex[b[i] & 0xf];
	}
	out[UTIL_ID_LEN - 1] = '\0';
}

/* Time depends only on the lengths, never on where the first difference is:
 * every byte up to the longer length is compared, and a length mismatch is
 * folded into the same accumulator. NULL equals nothing. */
bool util_secure_equals(const char *a, const char *b)
{
	size_t la, lb, n;
	volatile unsigned char diff = 0;

	if (a == NULL || b == NULL)
		return false;
	la = strlen(a);
	lb = strlen(b);
	n = la > lb ? la : lb;
	for (size_t i = 0; i < n; i++) {
		unsigned char ca = i < la ? (unsigned char)a[i] : 0;
		unsigned char cb = i < lb ? (unsigned char)b[i] : 0;

		diff |= ca ^ cb;
	}
	diff |= (unsigned char)(la != lb);
	return diff == 0;
}

/* BSD strlcpy. */
size_t util_strlcpy(char *dst, const char *src, size_t size)
{
	size_t len = strlen(src);

	if (size > 0) {
		size_t n = len < size - 1 ? len : size - 1;

		memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return len;
}

/* See util.h. The userinfo ends at the last '@' before the path. */
char *util_url_hide_password(const char *url, char **password)
{
	const char *auth = strstr(url, "://");
	const char *end, *at = NULL, *colon = NULL;

	if (password != NULL)
		*password = NULL;
	if (auth == NULL)
		return xstrdup(url);
	auth += 3;
	end = auth + strcspn(auth, "/?#");
	for (const char *p = auth; p < end; p++)
		if (*p == '@')
			at = p;
	if (at == NULL)
		return xstrdup(url);
	colon = memchr(auth, ':', (size_t)(at - auth));
	if (colon == NULL || colon + 1 == at)
		return xstrdup(url);
	if (password != NULL)
		*password = xstrndup(colon + 1, (size_t)(at - colon - 1));
	return xasprintf("%.*s***%s", (int)(colon + 1 - url), url, at);
}

const char *util_bearer_token(const char *auth)
{
	if (auth == NULL || strncasecmp(auth, "Bearer", 6) != 0 || (auth[6] != ' ' && auth[6] != '\t'))
		return NULL;
	auth += 6;
	while (*auth == ' ' || *auth == '\t')
		auth++;
	return *auth != '\0' ? auth : NULL;
}

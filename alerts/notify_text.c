/* notify_text.c — valid UTF-8, safe cuts, mrkdwn escaping and times for
 * the text pharos sends to receivers (see notify_text.h). */
#include "alerts/notify_text.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "core/buf.h"
#include "core/util.h"

#define ELLIPSIS "\xe2\x80\xa6" /* U+2026 */

const char *notify_str(const char *s)
{
	return s != NULL ? s : "";
}

/* Length of the valid UTF-8 sequence (RFC 3629: no overlongs, no surrogates,
 * nothing above U+10FFFF) starting at p, or 0 when p does not start one. p is
 * NUL-terminated, so reading continuation bytes stops at the terminator. */
size_t notify_utf8_seq_len(const unsigned char *p)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4;
	else
		return 0;
	if (p[0] == 0xe0)
		lo = 0xa0;
	else if (p[0] == 0xed)
		hi = 0x9f;
	else if (p[0] == 0xf0)
		lo = 0x90;
	else if (p[0] == 0xf4)
		hi = 0x8f;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

/* The core of notify_utf8 and notify_mrkdwn: copies s as valid UTF-8,
 * escaping for mrkdwn when asked, and cuts it to max bytes at a character
 * (or entity) boundary, with a closing ellipsis when it cut. */
static char *text_fit(const char *s, size_t max, bool mrkdwn)
{
	const unsigned char *p = (const unsigned char *)notify_str(s);
	size_t len = strlen((const char *)p);
	size_t o = 0, fit = 0;          /* fit: output length at the last boundary <= max - 3 */
	char *out;

	if (max < 4)
		max = 4;
	/* Worst case per input byte: 5 ("&amp;") or 3 (U+FFFD). */
	out = xmalloc(len * 5 + sizeof(ELLIPSIS));
	while (*p != '\0') {
		size_t n = notify_utf8_seq_len(p);
		const char *rep = NULL;
		size_t rlen;

		if (n == 0) {
			rep = "\xef\xbf\xbd";
			n = 1;
		} else if (mrkdwn && *p == '&') {
			rep = "&amp;";
		} else if (mrkdwn && *p == '<') {
			rep = "&lt;";
		} else if (mrkdwn && *p == '>') {
			rep = "&gt;";
		}
		rlen = rep != NULL ? strlen(rep) : n;
		memcpy(out + o, rep != NULL ? rep : (const char *)p, rlen);
		o += rlen;
		p += n;
		if (o <= max - 3)
			fit = o;
	}
	if (o > max) {
		memcpy(out + fit, ELLIPSIS, 3);
		o = fit + 3;
	}
	out[o] = '\0';
	return out;
}

char *notify_utf8(const char *s, size_t max)
{
	return text_fit(s, max, false);
}

char *notify_mrkdwn(const char *s, size_t max)
{
	return text_fit(s, max, true);
}

json_t *notify_json_str(const char *s, size_t max)
{
	char *t = notify_utf8(s, max);
	json_t *j = json_string(t);

	free(t);
	/* Cannot happen (t is valid UTF-8), but a NULL here would be a crash later. */
	return j != NULL ? j : json_string("");
}

void notify_time(int64_t wall_us, char buf[NOTIFY_TIME_LEN])
{
	util_format_time(wall_us, buf, NOTIFY_TIME_LEN);
}

char *notify_one_line(const char *s)
{
	char *out = xstrdup(notify_str(s));

	for (char *p = out; *p != '\0'; p++)
		if (*p == '\r' || *p == '\n' || *p == '\t')
			*p = ' ';
	return out;
}

/* Whether s can be a header value as it is: printable ASCII and blanks. */
static bool plain_ascii(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p < 0x20 || *p > 0x7e)
			return false;
	return true;
}

/* 45 bytes of UTF-8 make 60 characters of base64: with "=?UTF-8?B?" and
 * "?=", an encoded-word of 72, under RFC 2047's 75. */
#define RFC2047_CHUNK 45

char *notify_rfc2047(const char *s)
{
	struct buf b = BUF_INIT;
	const unsigned char *p = (const unsigned char *)notify_str(s);

	if (plain_ascii((const char *)p))
		return xstrdup((const char *)p);
	while (*p != '\0') {
		unsigned char b64[4 * ((RFC2047_CHUNK + 2) / 3) + 1];
		size_t n = 0;

		/* Whole characters only: an encoded-word must decode on its own. */
		while (p[n] != '\0') {
			size_t l = notify_utf8_seq_len(p + n);

			if (l == 0)
				l = 1;
			if (n + l > RFC2047_CHUNK)
				break;
			n += l;
		}
		EVP_EncodeBlock(b64, p, (int)n);
		buf_printf(&b, "%s=?UTF-8?B?%s?=", b.len > 0 ? " " : "", (const char *)b64);
		p += n;
	}
	return buf_steal(&b, NULL);
}

void notify_duration_words(uint64_t ms, char *buf, size_t len)
{
	static const struct { const char *unit; uint64_t ms; } units[] = {
		{ "d", 86400000ULL }, { "h", 3600000ULL }, { "m", 60000ULL }, { "s", 1000ULL },
	};

	if (ms < 1000) {
		snprintf(buf, len, "%llums", (unsigned long long)ms);
		return;
	}
	/* The largest unit and the next one: "1m 5s", "2h 3m"; enough for people. */
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		uint64_t big = ms / units[i].ms;

		if (big == 0)
			continue;
		if (i + 1 < sizeof(units) / sizeof(units[0])) {
			uint64_t small = (ms % units[i].ms) / units[i + 1].ms;

			if (small > 0) {
				snprintf(buf, len, "%llu%s %llu%s", (unsigned long long)big, units[i].unit,
				         (unsigned long long)small, units[i + 1].unit);
				return;
			}
		}
		snprintf(buf, len, "%llu%s", (unsigned long long)big, units[i].unit);
		return;
	}
}

/* notify_text.c — valid UTF-8, safe cuts, mrkdwn escaping and times for
 * the text pharos sends to receivers (see notify_text.h). */
#include "alerts/notify_text.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

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

/* notify_email.c — email over SMTP (wire-formats.md §12): one MIME message
 * (multipart/alternative, a text/plain then a text/html part, both base64)
 * sent through libcurl's SMTP by the delivery transport. Subject
 * "[FIRING] rule — check" / "[RESOLVED] ..." (RFC 2047 when not ASCII);
 * Message-ID from the idempotency key, so a retry is the same mail; a
 * resolved mail (and a repeated firing one) names the first firing mail in
 * In-Reply-To and References, so mail clients thread them. STARTTLS is
 * required on smtp:// unless starttls = false; smtps:// is TLS throughout. */
#include "alerts/notify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "alerts/outbox.h"
#include "core/buf.h"
#include "core/util.h"

#define SUBJECT_MAX 400         /* bytes of the subject before encoding */
#define TEXT_MAX 16000          /* bytes of the text part */
#define B64_LINE 57             /* bytes per base64 line: 76 characters */

/* The domain of address (after its last '@'), for Message-IDs. */
static const char *mail_domain(const char *address)
{
	const char *at = strrchr(notify_str(address), '@');

	return at != NULL && at[1] != '\0' ? at + 1 : "pharos.invalid";
}

/* "<key@domain>": keys are [A-Za-z0-9_-] (outbox_key), so no quoting. */
static char *message_id(const char *key, const char *from)
{
	return xasprintf("<%s@%s>", key, mail_domain(from));
}

/* The key of the first firing notification of ev's episode at notifier n:
 * the outbox gives it the firing time, which every later event of the
 * episode carries as started_us. NULL when ev is that first firing. */
static char *parent_key(const struct notifier_conf *n, const struct alert_event *ev)
{
	if (ev->kind == ALERT_EVENT_TEST || ev->started_us <= 0 || notify_str(ev->alert_id)[0] == '\0')
		return NULL;
	if (ev->kind == ALERT_EVENT_FIRING && ev->ts_us == ev->started_us)
		return NULL;
	return outbox_key(ev->alert_id, ALERT_EVENT_FIRING, ev->started_us / 1000, n->name);
}

/* "[FIRING] rule — check", or the template's title. Caller frees. */
static char *mail_subject(const struct notifier_conf *n, const struct alert_event *ev)
{
	const char *tag = ev->kind == ALERT_EVENT_RESOLVED ? "RESOLVED"
	                  : ev->kind == ALERT_EVENT_TEST ? "TEST" : "FIRING";
	char *s, *fitted;

	if (n->template_title != NULL)
		s = notify_headline(n, ev);
	else
		s = xasprintf("[%s] %s \xe2\x80\x94 %s", tag, notify_str(ev->rule), notify_str(ev->check));
	fitted = notify_utf8(s, SUBJECT_MAX);
	free(s);
	s = notify_one_line(fitted);
	free(fitted);
	return s;
}

/* Appends text to b as base64 lines of 76 characters, each ending in CRLF. */
static void add_base64(struct buf *b, const char *text)
{
	const unsigned char *p = (const unsigned char *)text;
	size_t len = strlen(text);

	for (size_t off = 0; off < len; off += B64_LINE) {
		unsigned char line[4 * (B64_LINE / 3) + 1];
		size_t n = len - off < B64_LINE ? len - off : B64_LINE;

		EVP_EncodeBlock(line, p + off, (int)n);
		buf_printf(b, "%s\r\n", (const char *)line);
	}
}

/* text with &, <, >, " escaped for HTML. Caller frees. */
static char *html_escape(const char *text)
{
	struct buf b = BUF_INIT;

	buf_adds(&b, "");
	for (const char *p = notify_str(text); *p != '\0'; p++) {
		switch (*p) {
		case '&': buf_adds(&b, "&amp;"); break;
		case '<': buf_adds(&b, "&lt;"); break;
		case '>': buf_adds(&b, "&gt;"); break;
		case '"': buf_adds(&b, "&quot;"); break;
		default:  buf_addc(&b, *p); break;
		}
	}
	return buf_steal(&b, NULL);
}

/* The facts of ev as (label, value) pairs, in the order both parts show them. */
struct fact { const char *label; char *value; };
#define FACTS_MAX 8

static size_t mail_facts(const struct alert_event *ev, struct fact f[FACTS_MAX])
{
	char buf[NOTIFY_TIME_LEN > NOTIFY_DOWN_LEN ? NOTIFY_TIME_LEN : NOTIFY_DOWN_LEN];
	size_t k = 0;

	f[k++] = (struct fact){ "Value", xstrdup(notify_str(ev->value)[0] != '\0' ? ev->value : "n/a") };
	f[k++] = (struct fact){ "Rule", xasprintf("%s (%s)", notify_str(ev->rule),
	                                          alert_severity_name(ev->severity)) };
	f[k++] = (struct fact){ "Check", xstrdup(notify_str(ev->check)) };
	if (notify_str(ev->group)[0] != '\0')
		f[k++] = (struct fact){ "Group", xstrdup(ev->group) };
	if (notify_str(ev->expr)[0] != '\0')
		f[k++] = (struct fact){ "Condition", xstrdup(ev->expr) };
	if (ev->started_us > 0) {
		notify_time(ev->started_us, buf);
		f[k++] = (struct fact){ "Since", xstrdup(buf) };
	}
	notify_down_for(ev, buf);
	if (buf[0] != '\0')
		f[k++] = (struct fact){ "Down", xstrdup(buf) };
	if (notify_str(ev->location)[0] != '\0')
		f[k++] = (struct fact){ "Agent", xstrdup(ev->location) };
	return k;
}

static void facts_free(struct fact *f, size_t k)
{
	for (size_t i = 0; i < k; i++)
		free(f[i].value);
}

/* The text/plain part: the template's body, or headline, message, facts and
 * link. Caller frees. */
static char *mail_text(const struct notifier_conf *n, const struct alert_event *ev)
{
	struct buf b = BUF_INIT;
	struct fact f[FACTS_MAX];
	char *templated = notify_template_text(n, ev);
	char *title = notify_title(ev);
	const char *link = notify_link(ev);
	size_t k;
	char *out;

	if (templated != NULL) {
		out = notify_utf8(templated, TEXT_MAX);
		free(templated);
		free(title);
		return out;
	}
	buf_printf(&b, "%s\n\n", title);
	if (ev->kind == ALERT_EVENT_TEST)
		buf_adds(&b, "This is a test sent by `pharos notify-test`: nothing is wrong.\n\n");
	if (notify_str(ev->message)[0] != '\0')
		buf_printf(&b, "%s\n\n", ev->message);
	k = mail_facts(ev, f);
	for (size_t i = 0; i < k; i++)
		buf_printf(&b, "%s: %s\n", f[i].label, f[i].value);
	facts_free(f, k);
	if (link != NULL)
		buf_printf(&b, "\n%s\n", link);
	out = notify_utf8(b.p, TEXT_MAX);
	buf_free(&b);
	free(title);
	return out;
}

/* The text/html part: the same as the text part, escaped, with the facts
 * in a table and the link as a link. Caller frees. */
static char *mail_html(const struct notifier_conf *n, const struct alert_event *ev, const char *text)
{
	struct buf b = BUF_INIT;
	struct fact f[FACTS_MAX];
	const char *link = notify_link(ev);
	char *e;
	size_t k;

	buf_adds(&b, "<!DOCTYPE html>\n<html><body style=\"font-family:sans-serif\">\n");
	if (n->template_body != NULL) {
		e = html_escape(text);
		buf_printf(&b, "<pre style=\"white-space:pre-wrap\">%s</pre>\n", e);
		free(e);
	} else {
		char *t = notify_title(ev);

		e = html_escape(t);
		buf_printf(&b, "<h2>%s</h2>\n", e);
		free(e);
		free(t);
		if (notify_str(ev->message)[0] != '\0') {
			e = html_escape(ev->message);
			buf_printf(&b, "<p style=\"white-space:pre-wrap\">%s</p>\n", e);
			free(e);
		}
		buf_adds(&b, "<table>\n");
		k = mail_facts(ev, f);
		for (size_t i = 0; i < k; i++) {
			e = html_escape(f[i].value);
			buf_printf(&b, "<tr><th align=\"left\">%s</th><td>%s</td></tr>\n", f[i].label, e);
			free(e);
		}
		facts_free(f, k);
		buf_adds(&b, "</table>\n");
	}
	if (link != NULL) {
		e = html_escape(link);
		buf_printf(&b, "<p><a href=\"%s\">Open the check on the status page</a></p>\n", e);
		free(e);
	}
	buf_adds(&b, "</body></html>\n");
	return buf_steal(&b, NULL);
}

/* text with every line ending in CRLF, as MIME wants text in its canonical
 * form. Caller frees. */
static char *crlf(const char *text)
{
	struct buf b = BUF_INIT;

	buf_adds(&b, "");
	for (const char *p = text; *p != '\0'; p++) {
		if (*p == '\r')
			continue;
		if (*p == '\n')
			buf_addc(&b, '\r');
		buf_addc(&b, *p);
	}
	return buf_steal(&b, NULL);
}

/* Appends one MIME part: its headers and its text as base64. */
static void add_part(struct buf *b, const char *boundary, const char *type, const char *text)
{
	char *canon = crlf(text);

	buf_printf(b, "--%s\r\nContent-Type: %s; charset=utf-8\r\n"
	           "Content-Transfer-Encoding: base64\r\n\r\n", boundary, type);
	add_base64(b, canon);
	free(canon);
}

/* Appends "Name: v1, v2, ..." folded after each comma, so that no line
 * passes 998 characters however many recipients there are. */
static void add_address_header(struct buf *b, const char *name, char **list, size_t n)
{
	buf_printf(b, "%s: ", name);
	for (size_t i = 0; i < n; i++)
		buf_printf(b, "%s%s", list[i], i + 1 < n ? ",\r\n " : "\r\n");
}

/* The RFC 5322 date of a wall time in microseconds: "Thu, 03 Dec 2026 10:00:00 +0000". */
static void mail_date(int64_t wall_us, char *buf, size_t len)
{
	static const char days[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug",
	                                    "Sep", "Oct", "Nov", "Dec" };
	time_t t = (time_t)(wall_us / 1000000);
	struct tm tm;

	gmtime_r(&t, &tm);
	/* Day and month names by table: strftime's follow the locale. */
	snprintf(buf, len, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday], tm.tm_mday,
	         months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* The whole message: headers, then the two parts. Caller frees. */
static char *mail_message(const struct notifier_conf *n, const struct alert_event *ev,
                          const char *key, char **to, size_t n_to)
{
	struct buf b = BUF_INIT;
	const char *from = notifier_get(n, "from");
	char *subject = mail_subject(n, ev), *encoded = notify_rfc2047(subject);
	char *id = message_id(key, from), *pkey = parent_key(n, ev);
	char *text = mail_text(n, ev), *html = mail_html(n, ev, text);
	char boundary[64], date[64];

	/* The parts are base64: this cannot occur in them, nor in a header. */
	snprintf(boundary, sizeof(boundary), "=_pharos_%016llx", (unsigned long long)util_hash64(key));
	mail_date(ev->ts_us, date, sizeof(date));
	buf_printf(&b, "Date: %s\r\nFrom: %s\r\n", date, from);
	add_address_header(&b, "To", to, n_to);
	/* Encoded-words on lines of their own: each under 78 characters. */
	buf_adds(&b, "Subject: ");
	for (const char *p = encoded; *p != '\0'; p++) {
		if (*p == ' ' && strncmp(p + 1, "=?UTF-8?B?", 10) == 0)
			buf_adds(&b, "\r\n");
		buf_addc(&b, *p);
	}
	buf_printf(&b, "\r\nMessage-ID: %s\r\n", id);
	if (pkey != NULL) {
		char *parent = message_id(pkey, from);

		buf_printf(&b, "In-Reply-To: %s\r\nReferences: %s\r\n", parent, parent);
		free(parent);
	}
	buf_printf(&b, "X-Pharos-Idempotency-Key: %s\r\n", key);
	buf_printf(&b, "MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=\"%s\"\r\n\r\n",
	           boundary);
	add_part(&b, boundary, "text/plain", text);
	add_part(&b, boundary, "text/html", html);
	buf_printf(&b, "--%s--\r\n", boundary);
	free(html);
	free(text);
	free(pkey);
	free(id);
	free(encoded);
	free(subject);
	return buf_steal(&b, NULL);
}

static int email_build(const struct notifier_conf *n, const struct alert_event *ev,
                       const char *key, int64_t now_s, struct notify_request *out,
                       char *err, size_t errlen)
{
	const char *url = notifier_get(n, "url");
	const char *starttls = notifier_get(n, "starttls");
	size_t n_to;
	char **to = notify_list(n, "to", &n_to);

	if (n_to == 0 || notify_str(notifier_get(n, "from"))[0] == '\0') {
		snprintf(err, errlen, "notifier %s needs from and to", notify_str(n->name));
		notify_list_free(to, n_to);
		return -1;
	}
	out->url = xstrdup(url);
	out->mail_from = xstrdup(notifier_get(n, "from"));
	out->mail_rcpt = to;
	out->n_mail_rcpt = n_to;
	out->require_tls = strncmp(url, "smtp://", 7) == 0 && notify_str(starttls)[0] != 'f';
	out->username = xstrdup(notifier_get(n, "username"));
	out->password = xstrdup(notifier_get(n, "password"));
	out->ca_file = xstrdup(notifier_get(n, "ca_file"));
	out->content_type = xstrdup("multipart/alternative");
	out->body = mail_message(n, ev, key, to, n_to);
	return 0;
}

/* An SMTP server's last reply code: 2xx delivered; 4xx (greylisting, a
 * full queue) retry; 5xx (no such mailbox, refused content, failed
 * login) permanent; no reply at all retry. */
static enum notify_verdict email_check_answer(const struct notify_answer *a, int64_t now_s,
                                              uint64_t *retry_after_ms, const char **note)
{
	*retry_after_ms = 0;
	if (a->status >= 200 && a->status <= 299)
		return NOTIFY_DELIVERED;
	if (a->status >= 500 && a->status <= 599)
		return NOTIFY_PERMANENT;
	if (a->status != 0 && (a->status < 400 || a->status > 499))
		*note = "unexpected reply";
	return NOTIFY_RETRY;
}

static const char *check_url(const char *value)
{
	if ((strncmp(value, "smtp://", 7) == 0 && value[7] != '\0')
	    || (strncmp(value, "smtps://", 8) == 0 && value[8] != '\0'))
		return strpbrk(value, " \t\r\n") == NULL ? NULL : "must not contain blanks";
	return "must be \"smtp://HOST:587\" (STARTTLS) or \"smtps://HOST:465\"";
}

/* A bare address: local@domain, nothing a header or an SMTP command would
 * take for something else. */
static const char *check_address(const char *value)
{
	const char *at = strchr(value, '@');

	if (at == NULL || at == value || at[1] == '\0' || strchr(at + 1, '@') != NULL
	    || strpbrk(value, " \t\r\n<>(),;:\"[]\\") != NULL)
		return "must be a plain address like \"oncall@example.com\"";
	return NULL;
}

static const struct notifier_setting email_settings[] = {
	{ "url", NOTIFIER_TEXT, NOTIFIER_REQUIRED | NOTIFIER_NONEMPTY,
	  "the SMTP server: smtp://HOST:587 (STARTTLS) or smtps://HOST:465",
	  "smtp://mail.example.com:587", "url = \"smtp://mail.example.com:587\"", check_url },
	{ "from", NOTIFIER_TEXT, NOTIFIER_REQUIRED | NOTIFIER_NONEMPTY,
	  "the sender address", "pharos@example.com", "from = \"pharos@example.com\"",
	  check_address },
	{ "to", NOTIFIER_LIST, NOTIFIER_REQUIRED,
	  "the recipients: an address or a list of them", "oncall@example.com",
	  "to = [ \"oncall@example.com\" ]", check_address },
	{ "username", NOTIFIER_TEXT, 0, "the login for SMTP AUTH (none: no AUTH)",
	  "pharos", NULL, NULL },
	{ "password", NOTIFIER_TEXT, NOTIFIER_SECRET, "the password for SMTP AUTH (never shown)",
	  "s3cret-Smtp-Pw", NULL, NULL },
	{ "starttls", NOTIFIER_BOOL, 0,
	  "false: send over smtp:// without TLS (default true: STARTTLS or no mail)", "true",
	  NULL, NULL },
	{ "ca_file", NOTIFIER_TEXT, 0,
	  "a PEM file of the CAs to trust for the server's certificate (default the system's)",
	  "/etc/pharos/smtp-ca.pem", NULL, NULL },
	{ NULL, 0, 0, NULL, NULL, NULL, NULL }
};

const struct notifier_type notifier_email = {
	.name = "email",
	.doc = "email over SMTP: a text and an HTML part, threaded firing to resolved",
	.settings = email_settings,
	.build = email_build,
	.check_answer = email_check_answer,
	.default_rate = 1,
};

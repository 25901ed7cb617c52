/* metrics.c — renders the published snapshot as a Prometheus exposition
 * (SPEC §4; formats in reference/wire-formats.md §5): text format 0.0.4 by
 * default, OpenMetrics 1.0 when the scraper asks for it.
 *
 * Speed: a scrape of 10,000 checks writes a few hundred thousand lines, so the
 * whole exposition goes into one growing buffer (sized up front from the
 * number of checks), integers are formatted by hand, histogram "le" strings
 * are formatted once per scrape, and label values are copied in runs between
 * the few bytes that need escaping (each check's `check="NAME"` label is
 * escaped once per scrape and copied afterwards). printf is used only for
 * fractional values that are not whole microseconds. Measured: about 15 ms
 * and 13 MB for 10,000 checks (tests/unit/test_metrics.c). */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <microhttpd.h>

#include "alerts/alert.h"
#include "core/buf.h"
#include "web/api.h"
#include "web/metrics.h"
#include "web/rcache.h"
#include "web/rsink.h"
#include "core/util.h"

#ifndef PHAROS_VERSION
#define PHAROS_VERSION "unknown"
#endif

#define BYTES_PER_CHECK 2048    /* initial buffer estimate; it grows when short */
#define BYTES_PER_CHECK_BASIC 512   /* the same without the per-check buckets and phases */
#define NUM_MAX 40              /* longest formatted number, with room to spare */

/* Names of the phases in struct check_timing.last_phase_s order. */
static const char *const phase_names[4] = { "dns", "connect", "tls", "first_byte" };

/* --- the buffer ---------------------------------------------------------------- */

/* The exposition goes into a struct buf (core/buf.h: inline appends, growth
 * out of line, no ceiling); the number formatters below append to it. */

/* Appends v in decimal. */
static void mb_u64(struct buf *b, uint64_t v)
{
	char tmp[24];
	size_t i = sizeof(tmp);

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	buf_add(b, tmp + i, sizeof(tmp) - i);
}

/* Appends v in decimal, with a '-' when negative. */
static void mb_i64(struct buf *b, int64_t v)
{
	if (v < 0) {
		buf_addc(b, '-');
		mb_u64(b, (uint64_t)0 - (uint64_t)v);
	} else {
		mb_u64(b, (uint64_t)v);
	}
}

/* --- numbers ------------------------------------------------------------------- */

/* Writes v into out (NUM_MAX bytes) the way both formats accept: "NaN",
 * "+Inf", "-Inf"; an integral value below 2^53 without a decimal point; any
 * other value in the shortest of %.15g / %.16g / %.17g that reads back as
 * exactly v (%.17g always does; fewer digits avoid "0.10000000000000001"). */
static void format_double(double v, char *out)
{
	if (isnan(v)) {
		strcpy(out, "NaN");
	} else if (isinf(v)) {
		strcpy(out, v > 0 ? "+Inf" : "-Inf");
	} else if (v == floor(v) && fabs(v) < 9007199254740992.0) {
		snprintf(out, NUM_MAX, "%lld", (long long)v);
	} else {
		snprintf(out, NUM_MAX, "%.15g", v);
		if (strtod(out, NULL) != v)
			snprintf(out, NUM_MAX, "%.16g", v);
		if (strtod(out, NULL) != v)
			snprintf(out, NUM_MAX, "%.17g", v);
	}
}

/* Appends v like format_double() does. Integral values, and values that are
 * a whole number of microseconds (phases and most durations: they come from
 * microsecond clocks), are written without printf: "0.0125" for 12500 us.
 * Such a decimal reads back as exactly v because v is itself the correctly
 * rounded quotient m / 1e6 (checked below), and so is strtod's result. */
static void mb_double(struct buf *b, double v)
{
	char num[NUM_MAX];

	if (v == floor(v) && fabs(v) < 9007199254740992.0) {
		mb_i64(b, (int64_t)v);      /* the common case (0, timestamps) without printf */
		return;
	}
	if (v > 0 && v < 1e9) {
		double scaled = nearbyint(v * 1e6);
		uint64_t m = (uint64_t)scaled;

		if (scaled / 1e6 == v) {
			char frac[7];
			int digits = 6;

			mb_u64(b, m / 1000000);
			m %= 1000000;
			for (int i = 5; i >= 0; i--) {
				frac[i] = (char)('0' + m % 10);
				m /= 10;
			}
			while (digits > 0 && frac[digits - 1] == '0')
				digits--;
			/* digits > 0: v is not integral */
			buf_addc(b, '.');
			buf_add(b, frac, (size_t)digits);
			return;
		}
	}
	format_double(v, num);
	buf_adds(b, num);
}

/* A histogram bound as an "le" label value: "+Inf" for the last one (stored
 * as 1e300), otherwise the number; OpenMetrics wants the canonical float form,
 * so integral bounds get ".0" ("1.0", "10.0"). */
static void format_le(double bound, bool last, bool om, char *out)
{
	if (last || isinf(bound)) {
		strcpy(out, "+Inf");
		return;
	}
	format_double(bound, out);
	if (om && strpbrk(out, ".eEnN") == NULL)
		strcat(out, ".0");
}

/* --- labels -------------------------------------------------------------------- */

/* Bytes of label values that cannot be copied as they are: the three escaped
 * characters and every non-ASCII byte (checked for valid UTF-8). */
static bool special_byte(unsigned char c)
{
	return c == '\\' || c == '"' || c == '\n' || c >= 0x80;
}

/* Length of the valid UTF-8 sequence at s (whose first byte is >= 0x80), or 0
 * when it is not one (bad lead byte, overlong form, surrogate, past U+10FFFF,
 * or cut short). */
static size_t utf8_seq_len(const unsigned char *s)
{
	unsigned char c = s[0];
	size_t n;
	unsigned char lo = 0x80, hi = 0xBF;

	if (c >= 0xC2 && c <= 0xDF) {
		n = 2;
	} else if (c >= 0xE0 && c <= 0xEF) {
		n = 3;
		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 4;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;
	} else {
		return 0;
	}
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xBF)
			return 0;
	return n;
}

/* Appends s as a label value body: '\' '"' and newline escaped (the same three
 * in both formats), invalid UTF-8 bytes replaced by U+FFFD (Prometheus rejects
 * a scrape with invalid UTF-8 in a label value). NULL is the empty value. */
static void mb_escaped(struct buf *b, const char *str)
{
	const unsigned char *s = (const unsigned char *)(str ? str : "");

	while (*s != '\0') {
		const unsigned char *run = s;
		size_t n;

		while (*s != '\0' && !special_byte(*s))
			s++;
		if (s > run)
			buf_add(b, (const char *)run, (size_t)(s - run));
		if (*s == '\0')
			break;
		switch (*s) {
		case '\\':
			buf_add(b, "\\\\", 2);
			s++;
			break;
		case '"':
			buf_add(b, "\\\"", 2);
			s++;
			break;
		case '\n':
			buf_add(b, "\\n", 2);
			s++;
			break;
		default:
			n = utf8_seq_len(s);
			if (n > 0) {
				buf_add(b, (const char *)s, n);
				s += n;
			} else {
				buf_add(b, "\xEF\xBF\xBD", 3);
				s++;
			}
			break;
		}
	}
}

/* Appends `name="value"`, preceded by a comma unless it is the first label. */
static void mb_label(struct buf *b, const char *name, const char *value, bool first)
{
	if (!first)
		buf_addc(b, ',');
	buf_adds(b, name);
	buf_add(b, "=\"", 2);
	mb_escaped(b, value);
	buf_addc(b, '"');
}

/* --- families ------------------------------------------------------------------ */

enum family_type { FAM_GAUGE, FAM_COUNTER, FAM_HISTOGRAM };

/* One "le" label as written after the other labels: `le="0.005"} `. */
struct le_frag {
	char s[NUM_MAX + 8];
	size_t len;
};

struct render {
	struct buf b;
	struct rsink *sink;         /* NULL: the whole text stays in b */
	bool om;
	/* `le="…"} ` of both histograms, formatted once per render */
	struct le_frag dur_le[CHECK_DURATION_BUCKETS];
	struct le_frag lag_le[SNAPSHOT_LAG_BUCKETS];
	/* `check="NAME"` of every check, escaped once per render: check i's is
	 * labels.p[label_off[i] .. label_off[i + 1]) */
	struct buf labels;
	size_t *label_off;
};

/* Writes the HELP and TYPE lines of a family. name is the sample name; for a
 * counter it ends in "_total", which OpenMetrics leaves out of the family
 * name. Text 0.0.4 gets HELP then TYPE (the usual order), OpenMetrics TYPE
 * then HELP (its suggested order). */
/* Compresses what was written once a chunk is pending (rsink.h): called
 * between families and between the checks of a per-check family, so the
 * text of one family of 100,000 checks is never whole either. */
static void render_flush(struct render *r)
{
	if (r->sink != NULL)
		rsink_flush_buf(r->sink, &r->b);
}

static void family(struct render *r, const char *name, enum family_type t, const char *help)
{
	render_flush(r);
	static const char *const type_names[] = {
		[FAM_GAUGE] = "gauge", [FAM_COUNTER] = "counter", [FAM_HISTOGRAM] = "histogram",
	};
	size_t n = strlen(name);

	if (r->om && t == FAM_COUNTER && n > 6 && strcmp(name + n - 6, "_total") == 0)
		n -= 6;
	if (!r->om) {
		buf_add(&r->b, "# HELP ", 7);
		buf_add(&r->b, name, n);
		buf_addc(&r->b, ' ');
		buf_adds(&r->b, help);
		buf_addc(&r->b, '\n');
	}
	buf_add(&r->b, "# TYPE ", 7);
	buf_add(&r->b, name, n);
	buf_addc(&r->b, ' ');
	buf_adds(&r->b, type_names[t]);
	buf_addc(&r->b, '\n');
	if (r->om) {
		buf_add(&r->b, "# HELP ", 7);
		buf_add(&r->b, name, n);
		buf_addc(&r->b, ' ');
		buf_adds(&r->b, help);
		buf_addc(&r->b, '\n');
	}
}

/* Formats the `le="BOUND"} ` fragment of one bucket. */
static void le_frag_init(struct le_frag *f, double bound, bool last, bool om)
{
	char num[NUM_MAX];

	format_le(bound, last, om, num);
	f->len = (size_t)snprintf(f->s, sizeof(f->s), "le=\"%s\"} ", num);
}

/* Escapes every check's `check="NAME"` label into r->labels; in a fleet,
 * followed by this agent's `location="LOC"` (SPEC §6). */
static void labels_init(struct render *r, const struct snapshot *s)
{
	r->label_off = xmalloc((s->n_checks + 1) * sizeof(*r->label_off));
	buf_grow(&r->labels, s->n_checks * 32);
	for (size_t i = 0; i < s->n_checks; i++) {
		const struct check *c = s->checks[i].check;

		r->label_off[i] = r->labels.len;
		mb_label(&r->labels, "check", c != NULL ? c->name : NULL, true);
		if (s->fleet && s->fleet_location[0] != '\0')
			mb_label(&r->labels, "location", s->fleet_location, false);
	}
	r->label_off[s->n_checks] = r->labels.len;
}

/* Appends check i's `check="NAME"` label. */
static void mb_check_label(struct render *r, size_t i)
{
	buf_add(&r->b, r->labels.p + r->label_off[i], r->label_off[i + 1] - r->label_off[i]);
}

/* Starts a sample "name{" (the caller adds labels, then ends it). */
static void sample_open(struct render *r, const char *name, size_t name_len)
{
	buf_add(&r->b, name, name_len);
	buf_addc(&r->b, '{');
}
#define SAMPLE_OPEN(r, lit) sample_open((r), lit, sizeof(lit) - 1)

/* Ends the labels of a sample and writes its value and the newline. */
static void sample_close_u64(struct render *r, uint64_t v)
{
	buf_add(&r->b, "} ", 2);
	mb_u64(&r->b, v);
	buf_addc(&r->b, '\n');
}

static void sample_close_double(struct render *r, double v)
{
	buf_add(&r->b, "} ", 2);
	mb_double(&r->b, v);
	buf_addc(&r->b, '\n');
}

/* Writes the _bucket (cumulative; the last "le" is +Inf and equals _count),
 * _sum and _count samples of one histogram. labels is the rendered label set
 * without braces (`check="x"`), of labels_len bytes, 0 for none. buckets are
 * per-bucket counts, not cumulative. The count written is the buckets' total,
 * so +Inf always equals _count even if the snapshot's own count disagreed. */
static void histogram(struct render *r, const char *name, const char *labels, size_t labels_len,
                      const uint64_t *buckets, size_t n_buckets, const struct le_frag *le,
                      double sum)
{
	size_t name_len = strlen(name);
	uint64_t cum = 0;

	for (size_t i = 0; i < n_buckets; i++) {
		cum += buckets[i];
		buf_add(&r->b, name, name_len);
		buf_add(&r->b, "_bucket{", 8);
		if (labels_len > 0) {
			buf_add(&r->b, labels, labels_len);
			buf_addc(&r->b, ',');
		}
		buf_add(&r->b, le[i].s, le[i].len);
		mb_u64(&r->b, cum);
		buf_addc(&r->b, '\n');
	}
	buf_add(&r->b, name, name_len);
	buf_add(&r->b, "_sum", 4);
	if (labels_len > 0) {
		buf_addc(&r->b, '{');
		buf_add(&r->b, labels, labels_len);
		buf_addc(&r->b, '}');
	}
	buf_addc(&r->b, ' ');
	mb_double(&r->b, sum);
	buf_addc(&r->b, '\n');
	buf_add(&r->b, name, name_len);
	buf_add(&r->b, "_count", 6);
	if (labels_len > 0) {
		buf_addc(&r->b, '{');
		buf_add(&r->b, labels, labels_len);
		buf_addc(&r->b, '}');
	}
	buf_addc(&r->b, ' ');
	mb_u64(&r->b, cum);
	buf_addc(&r->b, '\n');
}

/* pharos_check_up: 1 when the last run passed, 0 when it failed. A pending
 * check (no run yet) has no sample: a 0 would page someone for a check that
 * simply has not run, and NaN breaks `== 0` alert rules in confusing ways. A
 * check in maintenance reports its last run when it has one. */
static void render_check_up(struct render *r, const struct snapshot *s)
{
	family(r, "pharos_check_up", FAM_GAUGE,
	       "Whether the last run of the check passed (1) or failed (0); absent until the first run.");
	for (size_t i = 0; i < s->n_checks; i++) {
		const struct snapshot_check *sc = &s->checks[i];
		int up;

		render_flush(r);
		switch (sc->state) {
		case CHECK_STATE_UP:
			up = 1;
			break;
		case CHECK_STATE_DOWN:
		case CHECK_STATE_BLOCKED:
			up = 0;
			break;
		case CHECK_STATE_MAINTENANCE:
			if (!sc->has_last)
				continue;
			up = sc->last_ok ? 1 : 0;
			break;
		case CHECK_STATE_PENDING:
		default:
			continue;
		}
		if (sc->check == NULL)
			continue;
		SAMPLE_OPEN(r, "pharos_check_up");
		mb_check_label(r, i);
		mb_label(&r->b, "group", sc->check->group, false);
		mb_label(&r->b, "type", check_type_name(sc->check->type), false);
		sample_close_u64(r, (uint64_t)up);
	}
}

/* pharos_check_phase_seconds: the phases of each check's last run. */
static void render_check_phases(struct render *r, const struct snapshot *s)
{
	family(r, "pharos_check_phase_seconds", FAM_GAUGE,
	       "Seconds from the start of the last run to the end of each phase (dns, connect, tls, first_byte) that happened.");
	for (size_t i = 0; i < s->n_checks; i++) {
		const struct check_metrics *m = &s->checks[i].metrics;

		render_flush(r);
		if (m->duration_count == 0 || m->timing == NULL)
			continue;
		for (size_t p = 0; p < 4; p++) {
			if (!(m->timing->last_phase_s[p] >= 0))     /* also skips NaN */
				continue;
			SAMPLE_OPEN(r, "pharos_check_phase_seconds");
			mb_check_label(r, i);
			mb_label(&r->b, "phase", phase_names[p], false);
			sample_close_double(r, m->timing->last_phase_s[p]);
		}
	}
}

/* Whether the per-check duration buckets and phase gauges are exposed: 18
 * series a check, which a large agent (agent.check_histograms_up_to, default
 * 10,000 checks) leaves out. Its histograms then have the +Inf bucket,
 * _sum and _count only: still a valid histogram, and the mean duration
 * (rate of _sum / rate of _count) stays available. */
static bool check_detail(const struct snapshot *s)
{
	return s->conf == NULL || s->n_checks <= (size_t)s->conf->agent.check_histograms_up_to;
}

/* The per-check families, each over every check in conf order. */
static void render_checks(struct render *r, const struct snapshot *s)
{
	bool detail = check_detail(s);

	render_check_up(r, s);

	family(r, "pharos_check_duration_seconds", FAM_HISTOGRAM,
	       "Duration of completed check runs (retries included) since the agent started.");
	for (size_t i = 0; i < s->n_checks; i++) {
		const struct check_metrics *m = &s->checks[i].metrics;

		render_flush(r);
		if (detail && m->timing != NULL)
			histogram(r, "pharos_check_duration_seconds", r->labels.p + r->label_off[i],
			          r->label_off[i + 1] - r->label_off[i], m->timing->duration_buckets,
			          CHECK_DURATION_BUCKETS, r->dur_le, m->duration_sum_s);
		else
			histogram(r, "pharos_check_duration_seconds", r->labels.p + r->label_off[i],
			          r->label_off[i + 1] - r->label_off[i], &m->duration_count, 1,
			          &r->dur_le[CHECK_DURATION_BUCKETS - 1], m->duration_sum_s);
	}

	if (detail)
		render_check_phases(r, s);

	family(r, "pharos_check_runs_total", FAM_COUNTER,
	       "Completed check runs since the agent started, by result (success or the error class).");
	for (size_t i = 0; i < s->n_checks; i++) {
		const struct check_metrics *m = &s->checks[i].metrics;

		render_flush(r);
		for (int e = 0; e < PROBE_ERR_COUNT; e++) {
			/* success always (so rate() has a series from the start),
			 * error classes once they happened */
			if (e != PROBE_OK && m->runs[e] == 0)
				continue;
			SAMPLE_OPEN(r, "pharos_check_runs_total");
			mb_check_label(r, i);
			mb_label(&r->b, "result", e == PROBE_OK ? "success" : probe_error_name(e), false);
			sample_close_u64(r, m->runs[e]);
		}
	}

	family(r, "pharos_check_cert_expiry_timestamp_seconds", FAM_GAUGE,
	       "Expiry (notAfter, Unix seconds) of the last TLS certificate the check saw.");
	for (size_t i = 0; i < s->n_checks; i++) {
		const struct check_metrics *m = &s->checks[i].metrics;

		render_flush(r);
		if (m->cert_expiry <= 0)
			continue;
		SAMPLE_OPEN(r, "pharos_check_cert_expiry_timestamp_seconds");
		mb_check_label(r, i);
		buf_add(&r->b, "} ", 2);
		mb_i64(&r->b, m->cert_expiry);
		buf_addc(&r->b, '\n');
	}
}

/* Orders alert instances by their labels (rule, check, severity), firing
 * before pending, so duplicates sit together with the one to keep first. */
static int alert_cmp(const void *a, const void *b)
{
	const struct snapshot_alert *x = *(const struct snapshot_alert *const *)a;
	const struct snapshot_alert *y = *(const struct snapshot_alert *const *)b;
	int c;

	c = strcmp(x->rule ? x->rule : "", y->rule ? y->rule : "");
	if (c == 0)
		c = strcmp(x->check ? x->check : "", y->check ? y->check : "");
	if (c == 0)
		c = strcmp(x->severity ? x->severity : "", y->severity ? y->severity : "");
	if (c == 0)
		c = (y->state == ALERT_FIRING) - (x->state == ALERT_FIRING);
	return c;
}

/* True when x and y would give the same series. */
static bool alert_same_labels(const struct snapshot_alert *x, const struct snapshot_alert *y)
{
	return strcmp(x->rule ? x->rule : "", y->rule ? y->rule : "") == 0 &&
	       strcmp(x->check ? x->check : "", y->check ? y->check : "") == 0 &&
	       strcmp(x->severity ? x->severity : "", y->severity ? y->severity : "") == 0;
}

/* pharos_alert_firing: one sample per pending (0) or firing (1) instance.
 * Series must be unique, so instances with equal labels collapse into one
 * (firing wins); the sort also gives a stable order between scrapes. */
static void render_alerts(struct render *r, const struct snapshot *s)
{
	const struct snapshot_alert **v = NULL;
	size_t n = 0;

	family(r, "pharos_alert_firing", FAM_GAUGE,
	       "Alert instances: 1 while firing, 0 while pending (condition true, waiting for its `for`).");
	if (s->n_alerts == 0)
		return;
	v = xmalloc(s->n_alerts * sizeof(*v));
	for (size_t i = 0; i < s->n_alerts; i++)
		if (s->alerts[i].state == ALERT_PENDING || s->alerts[i].state == ALERT_FIRING)
			v[n++] = &s->alerts[i];
	qsort(v, n, sizeof(*v), alert_cmp);
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && alert_same_labels(v[i - 1], v[i]))
			continue;
		SAMPLE_OPEN(r, "pharos_alert_firing");
		mb_label(&r->b, "rule", v[i]->rule, true);
		mb_label(&r->b, "check", v[i]->check, false);
		mb_label(&r->b, "severity", v[i]->severity, false);
		sample_close_u64(r, v[i]->state == ALERT_FIRING ? 1 : 0);
	}
	free(v);
}

/* Writes `metric{notifier="NAME",label="value"} v`. */
static void notifier_sample(struct render *r, const char *metric, const char *notifier,
                            const char *label, const char *value, uint64_t v)
{
	sample_open(r, metric, strlen(metric));
	mb_label(&r->b, "notifier", notifier, true);
	mb_label(&r->b, label, value, false);
	sample_close_u64(r, v);
}

/* pharos_notifications_total (counters since start) and
 * pharos_notification_queue (outbox rows now), per notifier. */
static void render_notifiers(struct render *r, const struct snapshot *s)
{
	family(r, "pharos_notifications_total", FAM_COUNTER,
	       "Notification outcomes since the agent started: delivered, failed (attempts) and dead (given up).");
	for (size_t i = 0; i < s->n_notifiers; i++) {
		const struct snapshot_notifier *n = &s->notifiers[i];

		notifier_sample(r, "pharos_notifications_total", n->name, "result", "delivered", n->delivered);
		notifier_sample(r, "pharos_notifications_total", n->name, "result", "failed",
		                n->failed_attempts);
		notifier_sample(r, "pharos_notifications_total", n->name, "result", "dead", n->dead);
	}
	family(r, "pharos_notification_queue", FAM_GAUGE,
	       "Notifications in the outbox now, by state (pending: waiting for delivery, dead: given up).");
	for (size_t i = 0; i < s->n_notifiers; i++) {
		const struct snapshot_notifier *n = &s->notifiers[i];

		notifier_sample(r, "pharos_notification_queue", n->name, "state", "pending", n->queue_pending);
		notifier_sample(r, "pharos_notification_queue", n->name, "state", "dead", n->queue_dead);
	}
}

/* pharos_runs_skipped_total{reason} and pharos_overloaded (SPEC §2.0.1). */
static void render_load(struct render *r, const struct snapshot *s)
{
	family(r, "pharos_runs_skipped_total", FAM_COUNTER,
	       "Runs not sent since the agent started: overload (could not start in time), "
	       "overlap (the previous run of the check still in flight).");
	SAMPLE_OPEN(r, "pharos_runs_skipped_total");
	mb_label(&r->b, "reason", "overload", true);
	sample_close_u64(r, s->runs_skipped_overload);
	SAMPLE_OPEN(r, "pharos_runs_skipped_total");
	mb_label(&r->b, "reason", "overlap", true);
	sample_close_u64(r, s->runs_skipped_overlap);
	family(r, "pharos_overloaded", FAM_GAUGE,
	       "1 while the agent sheds runs because more fall due than it can carry, else 0.");
	buf_adds(&r->b, "pharos_overloaded ");
	mb_u64(&r->b, s->overloaded ? 1 : 0);
	buf_addc(&r->b, '\n');
}

/* --- public -------------------------------------------------------------------- */

/* See metrics.h. Every family gets its HELP and TYPE lines even when it has no
 * sample yet (no alerts, no notifiers), so dashboards see the names at once. */
static void render_all(struct render *r, const struct snapshot *s, enum metrics_format f);

char *metrics_render(const struct snapshot *s, enum metrics_format f, size_t *len)
{
	struct render r;

	memset(&r, 0, sizeof(r));
	render_all(&r, s, f);
	return buf_steal(&r.b, len);
}

/* The exposition compressed as it is written (rsink.h): at 100,000 checks
 * it is ~30 MB of text, never whole in memory. */
static void metrics_render_sink(const struct snapshot *s, enum metrics_format f,
                                struct rsink *sink)
{
	struct render r;

	memset(&r, 0, sizeof(r));
	r.sink = sink;
	render_all(&r, s, f);
	rsink_adopt(sink, &r.b);
}

/* Renders everything into r->b (compressed family by family when r->sink). */
static void render_all(struct render *r, const struct snapshot *s, enum metrics_format f)
{
	r->om = f == METRICS_OPENMETRICS;
	for (size_t i = 0; i < CHECK_DURATION_BUCKETS; i++)
		le_frag_init(&r->dur_le[i], check_duration_bounds[i], i == CHECK_DURATION_BUCKETS - 1, r->om);
	for (size_t i = 0; i < SNAPSHOT_LAG_BUCKETS; i++)
		le_frag_init(&r->lag_le[i], snapshot_lag_bounds[i], i == SNAPSHOT_LAG_BUCKETS - 1, r->om);
	if (r->sink == NULL)
		buf_grow(&r->b, 8192 + (s != NULL ? s->n_checks * (check_detail(s) ? BYTES_PER_CHECK
		                                                                     : BYTES_PER_CHECK_BASIC) : 0));

	family(r, "pharos_build_info", FAM_GAUGE, "Version of the running pharos agent (always 1).");
	SAMPLE_OPEN(r, "pharos_build_info");
	mb_label(&r->b, "version", PHAROS_VERSION, true);
	sample_close_u64(r, 1);

	if (s != NULL) {
		family(r, "pharos_checks_configured", FAM_GAUGE, "Checks in the loaded configuration.");
		buf_adds(&r->b, "pharos_checks_configured ");
		mb_u64(&r->b, s->n_checks);
		buf_addc(&r->b, '\n');

		labels_init(r, s);
		render_checks(r, s);
		render_alerts(r, s);
		render_notifiers(r, s);

		family(r, "pharos_store_dropped_results_total", FAM_COUNTER,
		       "Results dropped unwritten since start: the oldest, when the database was"
		       " away longer than the in-memory bound holds.");
		buf_adds(&r->b, "pharos_store_dropped_results_total ");
		mb_u64(&r->b, s->store_dropped);
		buf_addc(&r->b, '\n');

		family(r, "pharos_scheduler_lag_seconds", FAM_HISTOGRAM,
		       "How late check runs started relative to their schedule, since the agent started.");
		histogram(r, "pharos_scheduler_lag_seconds", "", 0, s->lag_buckets,
		          SNAPSHOT_LAG_BUCKETS, r->lag_le, s->lag_sum_s);
		render_load(r, s);
		if (s->fleet) {
			family(r, "pharos_fleet_agents", FAM_GAUGE,
			       "Agents of the fleet by state: up (a heartbeat within 15 s), down (none for"
			       " 15 s, seen within a day).");
			SAMPLE_OPEN(r, "pharos_fleet_agents");
			mb_label(&r->b, "state", "up", true);
			sample_close_u64(r, (uint64_t)s->fleet_up);
			SAMPLE_OPEN(r, "pharos_fleet_agents");
			mb_label(&r->b, "state", "down", true);
			sample_close_u64(r, (uint64_t)s->fleet_down);
		}
	}
	if (r->om)
		buf_add(&r->b, "# EOF\n", 6);
	buf_free(&r->labels);
	free(r->label_off);
}

/* The last exposition of each format (rcache.h): it depends on the snapshot
 * alone, so it is reused while the snapshot is the same and, as the loop
 * publishes one every 250 ms, for a second when it cost something (10,000
 * checks: ~12 MB, gzipped once per render). Scrapers that poll more often
 * than once a second see figures up to a second old. */
static struct rcache metrics_cache[2] = { RCACHE_INIT, RCACHE_INIT };

/* See metrics.h. Runs on a server thread with rq->snap referenced by the
 * router; the labels are names from the config, so no secret masking pass
 * over a body that can be megabytes long. */
void metrics_handle(struct api_request *rq, struct api_response *rs)
{
	const char *accept = rq->conn ? MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND,
	                                                            MHD_HTTP_HEADER_ACCEPT) : NULL;
	enum metrics_format f = metrics_format_from_accept(accept);
	struct rcache *c = &metrics_cache[f == METRICS_OPENMETRICS];
	struct rcache_key key = { 0 };
	struct rcache_hit hit;
	struct rsink sink;
	uint64_t t0;

	if (rq->snap != NULL) {
		key.conf = rq->snap->conf;
		key.snap = rq->snap;
		key.snap_us = rq->snap->published_us;
	}
	if (!rcache_get(c, &key, true, &hit)) {
		t0 = util_mono_us();
		rsink_init(&sink, 0);
		metrics_render_sink(rq->snap, f, &sink);
		rcache_put_sink(c, &key, &sink, t0, &hit);
	}
	rcache_answer(rq, rs, &hit, MHD_HTTP_OK, metrics_content_type(f), true);
}

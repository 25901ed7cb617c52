/* test_metrics.c — the /metrics exposition rendered from hand-built snapshots:
 * every family of SPEC §4 with HELP and TYPE before its samples, label values
 * escaped (quotes, backslash, newline, invalid UTF-8), histograms cumulative
 * with +Inf equal to _count, pending checks without pharos_check_up, the
 * OpenMetrics variant (counter families without _total, canonical "le",
 * `# EOF`), Accept negotiation, and the time to render 10,000 checks. */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alerts/alert.h"
#include "conf/conf.h"
#include "web/metrics.h"
#include "sched.h"
#include "web/snapshot.h"
#include "core/util.h"

/* The group holds a quote, a backslash and a newline (libconfig escapes). */
static const char small_config[] =
	"checks = (\n"
	"  { name = \"web\"; group = \"Web \\\"front\\\" \\\\ door\\nline2\"; type = \"http\";\n"
	"    url = \"https://127.0.0.1:8443/\"; },\n"
	"  { name = \"db\"; group = \"Data\"; type = \"tcp\"; host = \"127.0.0.1\"; port = 5432; },\n"
	"  { name = \"pend\"; type = \"tcp\"; host = \"127.0.0.1\"; port = 6379; }\n"
	");\n";

#define WEB_GROUP_ESCAPED "Web \\\"front\\\" \\\\ door\\nline2"

static struct conf *load(const char *text)
{
	struct conf_errors e = { 0 };
	struct conf *c = conf_load_string(text, "t.conf", &e);

	for (size_t i = 0; i < e.n; i++)
		fprintf(stderr, "    | %s\n", e.lines[i]);
	assert_non_null(c);
	conf_errors_free(&e);
	return c;
}

static void add_run(struct snapshot_check *sc, enum probe_error err, int64_t duration_us)
{
	struct probe_result r;

	probe_result_init(&r);
	r.error = err;
	r.ok = err == PROBE_OK;
	r.duration_us = duration_us;
	r.dns_us = 1000;
	r.connect_us = 100000;          /* 0.1 s: must print as "0.1" */
	r.tls_us = sc->check->type == CHECK_HTTP ? 300000 : -1;
	r.ttfb_us = sc->check->type == CHECK_HTTP ? 450000 : -1;
	r.cert_expiry = sc->check->type == CHECK_HTTP ? 1900000000 : 0;
	check_metrics_add(&sc->metrics, &r);
	probe_result_clear(&r);
	sc->has_last = true;
	sc->last_ok = r.ok;
	sc->last_error = err;
	sc->state = r.ok ? CHECK_STATE_UP : CHECK_STATE_DOWN;
}

static void add_alert(struct snapshot *s, const char *rule, const char *check,
                      const char *severity, enum alert_state st)
{
	struct snapshot_alert *a;

	s->alerts = xrealloc(s->alerts, (s->n_alerts + 1) * sizeof(*s->alerts));
	a = &s->alerts[s->n_alerts++];
	memset(a, 0, sizeof(*a));
	a->rule = xstrdup(rule);
	a->check = xstrdup(check);
	a->severity = xstrdup(severity);
	a->value = xstrdup("1");
	a->alert_id = xstrdup("0123456789abcdef");
	a->state = st;
}

/* The snapshot every format test renders: web up (3 runs, one of them slow),
 * db down (timeouts and a refused connection), pend never run; two alerts
 * plus a duplicate, one notifier, some scheduler lag. */
static struct snapshot *small_snapshot(void)
{
	struct conf *c = load(small_config);
	struct snapshot *s = snapshot_new(c);
	struct snapshot_notifier *n;

	conf_unref(c);                  /* the snapshot holds its own reference */
	assert_int_equal(s->n_checks, 3);
	add_run(&s->checks[0], PROBE_OK, 4000);         /* bucket 0.005 */
	add_run(&s->checks[0], PROBE_OK, 700000);       /* bucket 1 */
	add_run(&s->checks[0], PROBE_OK, 30000000);     /* +Inf */
	add_run(&s->checks[1], PROBE_ERR_TIMEOUT, 2000000);
	add_run(&s->checks[1], PROBE_ERR_CONNECT, 1000);
	add_run(&s->checks[1], PROBE_ERR_TIMEOUT, 2000000);

	add_alert(s, "db-down", "db", "critical", ALERT_FIRING);
	add_alert(s, "slow \"web\"\n\xff", "web", "warning", ALERT_PENDING);
	add_alert(s, "db-down", "db", "critical", ALERT_PENDING);   /* same labels: collapses */

	s->notifiers = xcalloc(1, sizeof(*s->notifiers));
	s->n_notifiers = 1;
	n = &s->notifiers[0];
	n->name = xstrdup("ops-slack");
	n->delivered = 5;
	n->failed_attempts = 2;
	n->dead = 1;
	n->queue_pending = 3;
	n->queue_dead = 1;

	s->lag_buckets[0] = 10;
	s->lag_buckets[3] = 2;
	s->lag_buckets[SCHED_LAG_BUCKETS - 1] = 1;
	s->lag_count = 13;
	s->lag_sum_s = 0.1 + 0.2;       /* 0.30000000000000004: needs %.17g */
	return s;
}

static char *render(const struct snapshot *s, enum metrics_format f)
{
	size_t len = 0;
	char *text = metrics_render(s, f, &len);

	assert_non_null(text);
	assert_int_equal(strlen(text), len);
	return text;
}

/* True when text has a line exactly equal to line. */
static bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; p != NULL && *p != '\0';) {
		const char *nl = strchr(p, '\n');
		size_t ln = nl != NULL ? (size_t)(nl - p) : strlen(p);

		if (ln == n && memcmp(p, line, n) == 0)
			return true;
		p = nl != NULL ? nl + 1 : NULL;
	}
	return false;
}

static void expect_line(const char *text, const char *line)
{
	if (!has_line(text, line))
		fail_msg("missing line: %s\n--- exposition:\n%s", line, text);
}

static void expect_no_line(const char *text, const char *line)
{
	if (has_line(text, line))
		fail_msg("unexpected line: %s", line);
}

/* The family a sample name belongs to, given the TYPE lines seen so far. */
static bool sample_has_type(char **types, size_t n_types, const char *name, size_t name_len, bool om)
{
	static const char *const suffixes[] = { "", "_bucket", "_sum", "_count", "_total" };

	for (size_t i = 0; i < n_types; i++) {
		size_t tl = strlen(types[i]);

		for (size_t k = 0; k < sizeof(suffixes) / sizeof(suffixes[0]); k++) {
			size_t sl = strlen(suffixes[k]);

			if (k == 4 && !om)
				continue;   /* text format: the TYPE name is the full counter name */
			if (tl + sl == name_len && memcmp(name, types[i], tl) == 0 &&
			    memcmp(name + tl, suffixes[k], sl) == 0)
				return true;
		}
	}
	return false;
}

/* Structure shared by both formats: every line ends in '\n'; each sample's
 * family has had its TYPE (and HELP) line; no TYPE or HELP twice; no series
 * twice; no "\r". */
static void check_structure(const char *text, bool om)
{
	char *types[64], *helps[64], *series[512];
	size_t n_types = 0, n_helps = 0, n_series = 0;
	const char *p = text;

	assert_true(strlen(text) > 0);
	assert_int_equal(text[strlen(text) - 1], '\n');
	assert_null(strchr(text, '\r'));
	while (*p != '\0') {
		const char *nl = strchr(p, '\n');
		size_t ln = (size_t)(nl - p);
		char *line = xstrndup(p, ln);

		if (strncmp(line, "# TYPE ", 7) == 0 || strncmp(line, "# HELP ", 7) == 0) {
			char **v = line[2] == 'T' ? types : helps;
			size_t *n = line[2] == 'T' ? &n_types : &n_helps;
			char *name = xstrndup(line + 7, strcspn(line + 7, " "));

			for (size_t i = 0; i < *n; i++)
				if (strcmp(v[i], name) == 0)
					fail_msg("second %.6s line for %s", line, name);
			assert_true(*n < 64);
			v[(*n)++] = name;
		} else if (strcmp(line, "# EOF") == 0) {
			assert_true(om);
			assert_string_equal(nl + 1, "");   /* the very last line */
		} else {
			size_t name_len = strcspn(line, "{ ");
			char *key = xstrndup(line, strrchr(line, ' ') - line);

			assert_true(line[0] != '#');
			if (!sample_has_type(types, n_types, line, name_len, om))
				fail_msg("sample before its TYPE line: %s", line);
			if (!sample_has_type(helps, n_helps, line, name_len, om))
				fail_msg("sample without HELP: %s", line);
			for (size_t i = 0; i < n_series; i++)
				if (strcmp(series[i], key) == 0)
					fail_msg("series twice: %s", key);
			assert_true(n_series < 512);
			series[n_series++] = key;
		}
		free(line);
		p = nl + 1;
	}
	for (size_t i = 0; i < n_types; i++)
		free(types[i]);
	for (size_t i = 0; i < n_helps; i++)
		free(helps[i]);
	for (size_t i = 0; i < n_series; i++)
		free(series[i]);
}

/* Checks the buckets of histogram name with label filter (e.g. "check=\"web\",")
 * are increasing in "le" and cumulative, end at +Inf and that +Inf == _count.
 * Returns the count. */
static unsigned long long check_histogram(const char *text, const char *name, const char *filter,
                                          const char *count_line_prefix)
{
	char prefix[256];
	const char *p = text;
	unsigned long long prev = 0, inf = 0, count = 0;
	double prev_le = -1;
	int buckets = 0;
	bool seen_inf = false;

	snprintf(prefix, sizeof(prefix), "%s_bucket{%sle=\"", name, filter);
	while ((p = strstr(p, prefix)) != NULL) {
		const char *le = p + strlen(prefix);
		char *end;
		double lev;
		unsigned long long v;

		assert_false(seen_inf);     /* +Inf is the last bucket */
		if (strncmp(le, "+Inf\"", 5) == 0) {
			seen_inf = true;
			end = (char *)le + 4;
		} else {
			lev = strtod(le, &end);
			assert_true(lev > prev_le);
			prev_le = lev;
		}
		assert_int_equal(*end, '"');
		v = strtoull(strchr(end, ' ') + 1, NULL, 10);
		assert_true(v >= prev);
		prev = v;
		if (seen_inf)
			inf = v;
		buckets++;
		p = end;
	}
	assert_true(seen_inf);
	p = strstr(text, count_line_prefix);
	assert_non_null(p);
	count = strtoull(p + strlen(count_line_prefix), NULL, 10);
	assert_int_equal(inf, count);
	assert_true(buckets >= 2);
	return count;
}

/* --- tests ----------------------------------------------------------------- */

static void test_text_format(void **state)
{
	struct snapshot *s = small_snapshot();
	char *t = render(s, METRICS_TEXT);

	check_structure(t, false);
	assert_null(strstr(t, "# EOF"));

	expect_line(t, "# HELP pharos_build_info Version of the running pharos agent (always 1).");
	expect_line(t, "# TYPE pharos_build_info gauge");
	expect_line(t, "pharos_build_info{version=\"" PHAROS_VERSION "\"} 1");
	expect_line(t, "pharos_checks_configured 3");

	/* up/down; the pending check has no pharos_check_up sample at all */
	expect_line(t, "# TYPE pharos_check_up gauge");
	expect_line(t, "pharos_check_up{check=\"web\",group=\"" WEB_GROUP_ESCAPED "\",type=\"http\"} 1");
	expect_line(t, "pharos_check_up{check=\"db\",group=\"Data\",type=\"tcp\"} 0");
	assert_null(strstr(t, "pharos_check_up{check=\"pend\""));

	/* runs: success always, error classes only when non-zero */
	expect_line(t, "# TYPE pharos_check_runs_total counter");
	expect_line(t, "pharos_check_runs_total{check=\"web\",result=\"success\"} 3");
	expect_line(t, "pharos_check_runs_total{check=\"db\",result=\"success\"} 0");
	expect_line(t, "pharos_check_runs_total{check=\"db\",result=\"timeout\"} 2");
	expect_line(t, "pharos_check_runs_total{check=\"db\",result=\"connect\"} 1");
	expect_line(t, "pharos_check_runs_total{check=\"pend\",result=\"success\"} 0");
	assert_null(strstr(t, "result=\"dns\""));
	assert_null(strstr(t, "result=\"ok\""));

	/* duration histogram: 4 ms, 700 ms, 30 s for web */
	expect_line(t, "# TYPE pharos_check_duration_seconds histogram");
	expect_line(t, "pharos_check_duration_seconds_bucket{check=\"web\",le=\"0.005\"} 1");
	expect_line(t, "pharos_check_duration_seconds_bucket{check=\"web\",le=\"0.5\"} 1");
	expect_line(t, "pharos_check_duration_seconds_bucket{check=\"web\",le=\"1\"} 2");
	expect_line(t, "pharos_check_duration_seconds_bucket{check=\"web\",le=\"10\"} 2");
	expect_line(t, "pharos_check_duration_seconds_bucket{check=\"web\",le=\"+Inf\"} 3");
	expect_line(t, "pharos_check_duration_seconds_sum{check=\"web\"} 30.704");
	expect_line(t, "pharos_check_duration_seconds_count{check=\"web\"} 3");
	assert_int_equal(check_histogram(t, "pharos_check_duration_seconds", "check=\"web\",",
	                                 "pharos_check_duration_seconds_count{check=\"web\"} "), 3);
	assert_int_equal(check_histogram(t, "pharos_check_duration_seconds", "check=\"db\",",
	                                 "pharos_check_duration_seconds_count{check=\"db\"} "), 3);
	/* a pending check has an all-zero histogram */
	assert_int_equal(check_histogram(t, "pharos_check_duration_seconds", "check=\"pend\",",
	                                 "pharos_check_duration_seconds_count{check=\"pend\"} "), 0);
	expect_line(t, "pharos_check_duration_seconds_sum{check=\"pend\"} 0");

	/* phases of the last run; tls and first_byte only where they happened */
	expect_line(t, "pharos_check_phase_seconds{check=\"web\",phase=\"dns\"} 0.001");
	expect_line(t, "pharos_check_phase_seconds{check=\"web\",phase=\"connect\"} 0.1");
	expect_line(t, "pharos_check_phase_seconds{check=\"web\",phase=\"tls\"} 0.3");
	expect_line(t, "pharos_check_phase_seconds{check=\"web\",phase=\"first_byte\"} 0.45");
	expect_line(t, "pharos_check_phase_seconds{check=\"db\",phase=\"connect\"} 0.1");
	assert_null(strstr(t, "pharos_check_phase_seconds{check=\"db\",phase=\"tls\""));
	assert_null(strstr(t, "pharos_check_phase_seconds{check=\"pend\""));

	/* certificate expiry only where one was seen */
	expect_line(t, "# TYPE pharos_check_cert_expiry_timestamp_seconds gauge");
	expect_line(t, "pharos_check_cert_expiry_timestamp_seconds{check=\"web\"} 1900000000");
	assert_null(strstr(t, "pharos_check_cert_expiry_timestamp_seconds{check=\"db\""));

	/* alerts: firing 1, pending 0, the duplicate collapsed into the firing one,
	 * invalid UTF-8 replaced by U+FFFD */
	expect_line(t, "pharos_alert_firing{rule=\"db-down\",check=\"db\",severity=\"critical\"} 1");
	expect_no_line(t, "pharos_alert_firing{rule=\"db-down\",check=\"db\",severity=\"critical\"} 0");
	expect_line(t, "pharos_alert_firing{rule=\"slow \\\"web\\\"\\n\xEF\xBF\xBD\",check=\"web\","
	               "severity=\"warning\"} 0");

	/* notifications */
	expect_line(t, "# TYPE pharos_notifications_total counter");
	expect_line(t, "pharos_notifications_total{notifier=\"ops-slack\",result=\"delivered\"} 5");
	expect_line(t, "pharos_notifications_total{notifier=\"ops-slack\",result=\"failed\"} 2");
	expect_line(t, "pharos_notifications_total{notifier=\"ops-slack\",result=\"dead\"} 1");
	expect_line(t, "# TYPE pharos_notification_queue gauge");
	expect_line(t, "pharos_notification_queue{notifier=\"ops-slack\",state=\"pending\"} 3");
	expect_line(t, "pharos_notification_queue{notifier=\"ops-slack\",state=\"dead\"} 1");

	/* scheduler lag: no labels; the fractional sum keeps full precision */
	expect_line(t, "# TYPE pharos_scheduler_lag_seconds histogram");
	expect_line(t, "pharos_scheduler_lag_seconds_bucket{le=\"0.0005\"} 10");
	expect_line(t, "pharos_scheduler_lag_seconds_bucket{le=\"0.005\"} 12");
	expect_line(t, "pharos_scheduler_lag_seconds_bucket{le=\"+Inf\"} 13");
	expect_line(t, "pharos_scheduler_lag_seconds_sum 0.30000000000000004");
	expect_line(t, "pharos_scheduler_lag_seconds_count 13");
	assert_int_equal(check_histogram(t, "pharos_scheduler_lag_seconds", "",
	                                 "pharos_scheduler_lag_seconds_count "), 13);

	free(t);
	snapshot_release(s);
}

static void test_openmetrics_format(void **state)
{
	struct snapshot *s = small_snapshot();
	char *t = render(s, METRICS_OPENMETRICS);
	size_t len = strlen(t);

	check_structure(t, true);
	assert_true(len > 6);
	assert_string_equal(t + len - 6, "# EOF\n");

	/* counter families are named without _total; samples keep it */
	expect_line(t, "# TYPE pharos_check_runs counter");
	expect_line(t, "# HELP pharos_check_runs Completed check runs since the agent started, by result "
	               "(success or the error class).");
	expect_line(t, "# TYPE pharos_notifications counter");
	assert_null(strstr(t, "# TYPE pharos_check_runs_total"));
	assert_null(strstr(t, "# TYPE pharos_notifications_total"));
	expect_line(t, "pharos_check_runs_total{check=\"db\",result=\"timeout\"} 2");
	expect_line(t, "pharos_notifications_total{notifier=\"ops-slack\",result=\"delivered\"} 5");

	/* TYPE before HELP; gauges and histograms keep their names */
	assert_true(strstr(t, "# TYPE pharos_check_up gauge") < strstr(t, "# HELP pharos_check_up "));
	expect_line(t, "# TYPE pharos_check_duration_seconds histogram");

	/* canonical "le" values */
	expect_line(t, "pharos_check_duration_seconds_bucket{check=\"web\",le=\"1.0\"} 2");
	expect_line(t, "pharos_check_duration_seconds_bucket{check=\"web\",le=\"10.0\"} 2");
	expect_line(t, "pharos_check_duration_seconds_bucket{check=\"web\",le=\"0.005\"} 1");
	expect_line(t, "pharos_check_duration_seconds_bucket{check=\"web\",le=\"+Inf\"} 3");
	expect_line(t, "pharos_scheduler_lag_seconds_bucket{le=\"1.0\"} 12");
	assert_null(strstr(t, "le=\"1\""));
	assert_int_equal(check_histogram(t, "pharos_check_duration_seconds", "check=\"web\",",
	                                 "pharos_check_duration_seconds_count{check=\"web\"} "), 3);
	assert_int_equal(check_histogram(t, "pharos_scheduler_lag_seconds", "",
	                                 "pharos_scheduler_lag_seconds_count "), 13);

	/* the same escaping as text */
	expect_line(t, "pharos_check_up{check=\"web\",group=\"" WEB_GROUP_ESCAPED "\",type=\"http\"} 1");

	free(t);
	snapshot_release(s);
}

/* Nothing published yet: build info only, still a valid exposition. */
static void test_no_snapshot(void **state)
{
	char *t = render(NULL, METRICS_TEXT);

	check_structure(t, false);
	expect_line(t, "pharos_build_info{version=\"" PHAROS_VERSION "\"} 1");
	assert_null(strstr(t, "pharos_check_up"));
	free(t);
	t = render(NULL, METRICS_OPENMETRICS);
	check_structure(t, true);
	assert_string_equal(t + strlen(t) - 6, "# EOF\n");
	free(t);
}

/* An empty config: every family announced, no per-check samples. */
static void test_no_checks(void **state)
{
	struct conf *c = load("checks = ();\n");
	struct snapshot *s = snapshot_new(c);
	char *t;

	conf_unref(c);
	t = render(s, METRICS_TEXT);
	check_structure(t, false);
	expect_line(t, "pharos_checks_configured 0");
	expect_line(t, "# TYPE pharos_alert_firing gauge");
	expect_line(t, "pharos_scheduler_lag_seconds_bucket{le=\"+Inf\"} 0");
	free(t);
	snapshot_release(s);
}

static void test_accept(void **state)
{
	static const struct {
		const char *accept;
		enum metrics_format want;
	} cases[] = {
		{ NULL, METRICS_TEXT },
		{ "", METRICS_TEXT },
		{ "*/*", METRICS_TEXT },
		{ "text/plain", METRICS_TEXT },
		{ "text/plain;version=0.0.4", METRICS_TEXT },
		{ "application/json", METRICS_TEXT },
		{ "application/openmetrics-text", METRICS_OPENMETRICS },
		{ "Application/OpenMetrics-Text; Version=1.0.0", METRICS_OPENMETRICS },
		{ "application/openmetrics-text; version=\"1.0.0\"; charset=utf-8", METRICS_OPENMETRICS },
		/* what Prometheus 2.x sends by default */
		{ "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;"
		  "q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1", METRICS_OPENMETRICS },
		/* a scraper that prefers text */
		{ "text/plain;version=0.0.4;q=1,application/openmetrics-text;version=1.0.0;q=0.5",
		  METRICS_TEXT },
		{ "application/openmetrics-text;q=0", METRICS_TEXT },
		{ "application/openmetrics-text;version=2.0.0", METRICS_TEXT },
		{ "application/openmetrics-text;version=2.0.0, application/openmetrics-text;version=1.0.0;q=0.2",
		  METRICS_OPENMETRICS },
		{ "application/openmetrics-text;q=0.3, */*;q=0.8", METRICS_TEXT },
		{ " application/openmetrics-text ; q = 0.9 , text/plain ; q = 0.8 ", METRICS_OPENMETRICS },
		{ ";;,,;=;q=;version", METRICS_TEXT },
		{ "application/openmetrics-text;q=nan", METRICS_TEXT },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum metrics_format got = metrics_format_from_accept(cases[i].accept);

		if (got != cases[i].want)
			fail_msg("Accept: %s: got format %d, want %d",
			         cases[i].accept ? cases[i].accept : "(none)", got, cases[i].want);
	}
	assert_string_equal(metrics_content_type(METRICS_TEXT),
	                    "text/plain; version=0.0.4; charset=utf-8");
	assert_string_equal(metrics_content_type(METRICS_OPENMETRICS),
	                    "application/openmetrics-text; version=1.0.0; charset=utf-8");
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* 10,000 checks that all ran, with errors, phases and certificates: the best
 * of five renders of each format stays under 50 ms (more under sanitizers,
 * which slow everything several times over). */
static void test_render_10k(void **state)
{
	enum { N = 10000 };
	size_t cap = (size_t)N * 120 + 64, off;
	char *text = xmalloc(cap);
	struct conf *c;
	struct snapshot *s;
	double limit_ms = 50;

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_UNDEFINED__)
	limit_ms = 500;
#endif
	off = (size_t)snprintf(text, cap, "checks = (\n");
	for (int i = 0; i < N; i++)
		off += (size_t)snprintf(text + off, cap - off,
		                        "{ name = \"check-%05d\"; group = \"group %d\"; type = \"tcp\"; "
		                        "host = \"127.0.0.1\"; port = %d; }%s\n",
		                        i, i % 50, 1 + i % 60000, i + 1 < N ? "," : "");
	snprintf(text + off, cap - off, ");\n");
	c = load(text);
	free(text);
	s = snapshot_new(c);
	conf_unref(c);
	for (size_t i = 0; i < s->n_checks; i++) {
		add_run(&s->checks[i], PROBE_OK, 1234 + (int64_t)i * 37);
		add_run(&s->checks[i], i % 7 == 0 ? PROBE_ERR_TIMEOUT : PROBE_OK, 98765 + (int64_t)i);
		s->checks[i].metrics.cert_expiry = 1900000000 + (int64_t)i;
	}
	for (int f = METRICS_TEXT; f <= METRICS_OPENMETRICS; f++) {
		double best = 1e9;
		size_t len = 0;

		for (int k = 0; k < 5; k++) {
			double t0 = now_ms(), dt;
			char *out = metrics_render(s, (enum metrics_format)f, &len);

			dt = now_ms() - t0;
			if (dt < best)
				best = dt;
			assert_true(strstr(out, "pharos_check_up{check=\"check-09999\",group=\"group 49\","
			                        "type=\"tcp\"} 1\n") != NULL);
			free(out);
		}
		fprintf(stderr, "    render %s, %d checks: %.1f ms, %zu bytes\n",
		        f == METRICS_TEXT ? "text" : "openmetrics", N, best, len);
		if (best > limit_ms)
			fail_msg("rendering %d checks took %.1f ms (limit %.0f ms)", N, best, limit_ms);
	}
	snapshot_release(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_format),
		cmocka_unit_test(test_openmetrics_format),
		cmocka_unit_test(test_no_snapshot),
		cmocka_unit_test(test_no_checks),
		cmocka_unit_test(test_accept),
		cmocka_unit_test(test_render_10k),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

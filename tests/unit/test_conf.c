/* test_conf.c — the config loader: valid configs of every check type (tls,
 * icmp, heartbeat and multi-step http too), alert rules, notifiers and
 * maintenance windows; one case per error kind with its exact line, all
 * errors reported together, "did you mean" (settings, checks, notifiers,
 * variables), rule expression errors with their column, dependency cycles,
 * ${env:}/${file:} substitution and ${var:} validation, defaults
 * inheritance, fingerprints, and secrets that never reach an error line. */
#include "unit.h"

#include <arpa/nameser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/conf.h"
#include "alerts/expr.h"
#include "core/log.h"
#include "core/util.h"

/* --- helpers --------------------------------------------------------------- */

static void print_errors(const struct conf_errors *e)
{
	for (size_t i = 0; i < e->n; i++)
		fprintf(stderr, "    | %s\n", e->lines[i]);
}

/* Loads text that must be valid. */
static struct conf *load_ok(const char *text)
{
	struct conf_errors e = { 0 };
	struct conf *c = conf_load_string(text, "t.conf", &e);

	if (c == NULL || e.n != 0) {
		print_errors(&e);
		fail_msg("config expected to be valid");
	}
	conf_errors_free(&e);
	return c;
}

/* Loads text that must be invalid; the caller frees e. */
static void load_bad(const char *text, struct conf_errors *e)
{
	struct conf *c;

	memset(e, 0, sizeof(*e));
	c = conf_load_string(text, "t.conf", e);
	if (c != NULL) {
		conf_unref(c);
		fail_msg("config expected to be invalid:\n%s", text);
	}
	assert_true(e->n > 0);
}

static bool has_line(const struct conf_errors *e, const char *want)
{
	for (size_t i = 0; i < e->n; i++)
		if (strcmp(e->lines[i], want) == 0)
			return true;
	return false;
}

/* Whether text fails with exactly one error line equal to want (printing
 * what it got when not). */
static bool one_error(const char *text, const char *want)
{
	struct conf_errors e = { 0 };
	struct conf *c = conf_load_string(text, "t.conf", &e);
	bool ok = c == NULL && e.n == 1 && strcmp(e.lines[0], want) == 0;

	if (!ok) {
		fprintf(stderr, "    config:\n%s    want: %s\n    got:%s\n", text, want, c ? " a valid config" : "");
		print_errors(&e);
	}
	conf_unref(c);
	conf_errors_free(&e);
	return ok;
}

/* The text must fail with exactly one error line equal to want. */
static void expect_one(const char *text, const char *want)
{
	if (!one_error(text, want))
		fail_msg("unexpected errors");
}

/* The text must fail with one error line starting with prefix. */
static void expect_prefix(const char *text, const char *prefix)
{
	struct conf_errors e;

	load_bad(text, &e);
	if (e.n != 1 || strncmp(e.lines[0], prefix, strlen(prefix)) != 0) {
		fprintf(stderr, "    want prefix: %s\n    got:\n", prefix);
		print_errors(&e);
		conf_errors_free(&e);
		fail_msg("unexpected errors");
	}
	conf_errors_free(&e);
}

/* --- valid configs --------------------------------------------------------- */

static const char full_config[] =
	"agent = {\n"
	"  listen = \"127.0.0.1:9555\";\n"
	"  database = \"/tmp/pharos-test.db\";\n"
	"  public_url = \"https://status.example.com/\";\n"
	"  log_format = \"json\";\n"
	"  retention = { raw = \"7d\"; rollups = \"30d\"; };\n"
	"  title = \"Example Corp status\";\n"
	"  location = \"eu-west-1\";\n"
	"};\n"
	"defaults = { interval = \"1m\"; timeout = \"5s\"; };\n"
	"checks = (\n"
	"  { name = \"payments-api\"; group = \"Payments\"; type = \"http\";\n"
	"    url = \"https://api.example.com/health\"; method = \"post\";\n"
	"    headers = [ \"Accept: application/json\", \"X-Api-Key: k-12345678\" ];\n"
	"    body = \"{}\"; max_redirects = 2; max_body = \"512KiB\"; insecure = true;\n"
	"    basic_auth = { user = \"alice\"; password = \"wonderland\"; };\n"
	"    interval = \"30s\"; timeout = \"2s\"; retries = 2; retry_interval = \"500ms\";\n"
	"    expect = { status = ( 200, \"3xx\", \"400-404\" ); body_contains = \"ok\";\n"
	"               body_regex = \"^\\\\{\"; max_latency = \"800ms\"; cert_min_days = 14;\n"
	"               headers = [ \"Content-Type: ^application/json\" ];\n"
	"               json = ( { path = \"$.status\"; equals = \"ok\"; },\n"
	"                        { path = \"$.count\"; equals = 3; },\n"
	"                        { path = \"$.ratio\"; equals = 0.5; },\n"
	"                        { path = \"$.up\"; equals = true; },\n"
	"                        { path = \"$.gone\"; exists = false; } ); }; },\n"
	"  { name = \"api-dns\"; type = \"dns\"; query = \"api.example.com\"; record = \"AAAA\";\n"
	"    server = \"1.1.1.1:53\";\n"
	"    expect = { rcode = \"NXDOMAIN\"; answers_contain = [\"2001:db8::1\"];\n"
	"               answers_exact = \"2001:db8::1\"; min_answers = 1; max_latency = \"1s\"; }; },\n"
	"  { name = \"sys-dns\"; type = \"dns\"; query = \"example.com.\"; },\n"
	"  { name = \"db\"; type = \"tcp\"; host = \"db.internal\"; port = 5432; },\n"
	"  { name = \"smtp\"; type = \"tcp\"; host = \"::1\"; port = 25; send = \"EHLO x\\r\\n\";\n"
	"    expect = { banner_regex = \"^220 \"; expect_regex = \"^250\"; }; }\n"
	");\n";

static void test_full_config(void **state)
{
	struct conf *c = load_ok(full_config);
	const struct check *h, *d, *s, *t, *m;

	(void)state;
	assert_string_equal(c->path, "t.conf");
	assert_int_equal(c->refs, 1);
	assert_string_equal(c->agent.listen, "127.0.0.1:9555");
	assert_string_equal(c->agent.database, "/tmp/pharos-test.db");
	assert_string_equal(c->agent.public_url, "https://status.example.com");
	assert_int_equal(c->agent.log_format, LOG_FORMAT_JSON);
	assert_int_equal(c->agent.retention_raw_ms, 7ull * 86400000);
	assert_int_equal(c->agent.retention_rollups_ms, 30ull * 86400000);
	assert_string_equal(c->agent.title, "Example Corp status");
	assert_string_equal(c->agent.location, "eu-west-1");
	assert_null(c->agent.admin_token);
	assert_null(c->agent.tls_cert);
	assert_int_equal(c->default_interval_ms, 60000);
	assert_int_equal(c->default_timeout_ms, 5000);
	assert_int_equal(c->n_checks, 5);

	h = conf_find_check(c, "payments-api");
	assert_non_null(h);
	assert_int_equal(h->type, CHECK_HTTP);
	assert_string_equal(h->group, "Payments");
	assert_ptr_equal(h->file, c->path);
	assert_int_equal(h->line, 12);
	assert_string_equal(h->http.url, "https://api.example.com/health");
	assert_string_equal(h->http.method, "POST");
	assert_int_equal(h->http.n_headers, 2);
	assert_string_equal(h->http.headers[1], "X-Api-Key: k-12345678");
	assert_string_equal(h->http.body, "{}");
	assert_string_equal(h->http.basic_user, "alice");
	assert_string_equal(h->http.basic_pass, "wonderland");
	assert_int_equal(h->http.max_redirects, 2);
	assert_int_equal(h->http.max_body, 512 * 1024);
	assert_true(h->http.insecure);
	assert_int_equal(h->interval_ms, 30000);
	assert_int_equal(h->timeout_ms, 2000);
	assert_int_equal(h->retries, 2);
	assert_int_equal(h->retry_interval_ms, 500);
	assert_string_equal(h->target, "https://api.example.com/health");
	assert_int_equal(h->expect.n_status, 3);
	assert_int_equal(h->expect.status[0].lo, 200);
	assert_int_equal(h->expect.status[0].hi, 200);
	assert_int_equal(h->expect.status[1].lo, 300);
	assert_int_equal(h->expect.status[1].hi, 399);
	assert_int_equal(h->expect.status[2].lo, 400);
	assert_int_equal(h->expect.status[2].hi, 404);
	assert_string_equal(h->expect.body_contains, "ok");
	assert_string_equal(h->expect.body_regex, "^\\{");
	assert_non_null(h->expect.body_re);
	assert_int_equal(h->expect.max_latency_ms, 800);
	assert_int_equal(h->expect.cert_min_days, 14);
	assert_int_equal(h->expect.n_headers, 1);
	assert_string_equal(h->expect.headers[0].name, "Content-Type");
	assert_string_equal(h->expect.headers[0].pattern, "^application/json");
	assert_non_null(h->expect.headers[0].re);
	assert_int_equal(h->expect.n_json, 5);
	assert_string_equal(h->expect.json[0].path, "$.status");
	assert_true(json_is_string(h->expect.json[0].equals));
	assert_string_equal(json_string_value(h->expect.json[0].equals), "ok");
	assert_true(json_is_integer(h->expect.json[1].equals));
	assert_int_equal(json_integer_value(h->expect.json[1].equals), 3);
	assert_true(json_is_real(h->expect.json[2].equals));
	assert_true(json_is_true(h->expect.json[3].equals));
	assert_null(h->expect.json[4].equals);
	assert_false(h->expect.json[4].exists);
	assert_true(h->expect.json[0].exists);
	assert_int_equal(h->expect.rcode, -1);
	assert_int_equal(h->expect.min_answers, -1);

	d = conf_find_check(c, "api-dns");
	assert_non_null(d);
	assert_int_equal(d->type, CHECK_DNS);
	assert_string_equal(d->group, "");
	assert_string_equal(d->dns.query, "api.example.com");
	assert_int_equal(d->dns.record, ns_t_aaaa);
	assert_string_equal(d->dns.server, "1.1.1.1:53");
	assert_int_equal(d->expect.rcode, ns_r_nxdomain);
	assert_int_equal(d->expect.n_answers_contain, 1);
	assert_string_equal(d->expect.answers_contain[0], "2001:db8::1");
	assert_int_equal(d->expect.n_answers_exact, 1);
	assert_int_equal(d->expect.min_answers, 1);
	assert_int_equal(d->expect.max_latency_ms, 1000);
	assert_string_equal(d->target, "AAAA api.example.com @1.1.1.1:53");
	/* inherited from defaults */
	assert_int_equal(d->interval_ms, 60000);
	assert_int_equal(d->timeout_ms, 5000);
	assert_int_equal(d->retries, 0);
	assert_int_equal(d->retry_interval_ms, 1000);

	s = conf_find_check(c, "sys-dns");
	assert_non_null(s);
	assert_int_equal(s->dns.record, ns_t_a);
	assert_null(s->dns.server);
	assert_string_equal(s->target, "A example.com.");

	t = conf_find_check(c, "db");
	assert_non_null(t);
	assert_int_equal(t->type, CHECK_TCP);
	assert_string_equal(t->tcp.host, "db.internal");
	assert_int_equal(t->tcp.port, 5432);
	assert_null(t->tcp.send);
	assert_string_equal(t->target, "db.internal:5432");

	m = conf_find_check(c, "smtp");
	assert_non_null(m);
	assert_string_equal(m->tcp.send, "EHLO x\r\n");
	assert_string_equal(m->target, "[::1]:25");
	assert_non_null(m->expect.banner_re);
	assert_non_null(m->expect.expect_re);

	assert_null(conf_find_check(c, "nope"));
	conf_unref(c);
}

static void test_agent_defaults(void **state)
{
	struct conf *c = load_ok("checks = ( { name = \"x\"; type = \"tcp\"; host = \"h\"; port = 1; } );\n");
	char host[256];

	(void)state;
	assert_string_equal(c->agent.listen, "127.0.0.1:9470");
	assert_string_equal(c->agent.database, "/var/lib/pharos/pharos.db");
	assert_string_equal(c->agent.public_url, "http://127.0.0.1:9470");
	assert_int_equal(c->agent.log_format, LOG_FORMAT_LOGFMT);
	assert_int_equal(c->agent.retention_raw_ms, 14ull * 86400000);
	assert_int_equal(c->agent.retention_rollups_ms, 400ull * 86400000);
	assert_string_equal(c->agent.title, "pharos status");
	assert_int_equal(gethostname(host, sizeof(host)), 0);
	host[sizeof(host) - 1] = '\0';
	assert_string_equal(c->agent.location, host);
	assert_null(c->agent.admin_token);
	assert_int_equal(c->default_interval_ms, 30000);
	assert_int_equal(c->default_timeout_ms, 10000);
	assert_int_equal(c->checks[0].interval_ms, 30000);
	assert_int_equal(c->checks[0].timeout_ms, 10000);
	conf_unref(c);

	/* public_url follows listen; an empty file is a valid config. */
	c = load_ok("agent = { listen = \"[::1]:8080\"; };\n");
	assert_string_equal(c->agent.public_url, "http://[::1]:8080");
	assert_int_equal(c->n_checks, 0);
	conf_unref(c);
	c = load_ok("");
	assert_int_equal(c->n_checks, 0);
	conf_unref(c);
}

static void test_http_defaults(void **state)
{
	struct conf *c = load_ok("checks = ( { name = \"w\"; type = \"http\"; url = \"http://127.0.0.1:1/\"; } );\n");
	const struct check *w = &c->checks[0];

	(void)state;
	assert_string_equal(w->http.method, "GET");
	assert_int_equal(w->http.max_redirects, 5);
	assert_int_equal(w->http.max_body, 1024 * 1024);
	assert_false(w->http.insecure);
	assert_int_equal(w->http.n_headers, 0);
	assert_int_equal(w->expect.n_status, 0);
	assert_int_equal(w->expect.cert_min_days, -1);
	assert_int_equal(w->retries, 0);
	assert_int_equal(w->retry_interval_ms, 1000);
	conf_unref(c);
}

static void test_max_body_forms(void **state)
{
	static const struct { const char *value; size_t want; } cases[] = {
		{ "1", 1 }, { "65536", 65536 }, { "\"65536\"", 65536 }, { "\"100B\"", 100 },
		{ "\"512KiB\"", 512 * 1024 }, { "\"1MiB\"", 1024 * 1024 }, { "\"1GiB\"", 1024 * 1024 * 1024 },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *text = xasprintf("checks = ( { name = \"w\"; type = \"http\"; url = \"http://h/\"; max_body = %s; } );\n",
		                       cases[i].value);
		struct conf *c = load_ok(text);

		assert_int_equal(c->checks[0].http.max_body, cases[i].want);
		conf_unref(c);
		free(text);
	}
}

/* --- one case per error kind ---------------------------------------------- */

struct error_case {
	const char *text;
	const char *want;       /* the one exact error line */
};

#define CHK(body) "checks = (\n  { name = \"c\"; " body " }\n);\n"

static const struct error_case error_cases[] = {
	/* libconfig syntax */
	{ "agent = {\n  title = \"t\";\n  listen = ;\n};\n",
	  "t.conf:3: syntax error (look for a missing \";\", \"=\", quote or closing bracket, or a missing \",\" between the entries of a list, here or on the line before)" },
	{ "a = [1,\n \"x\"];\n",
	  "t.conf:2: mismatched element type in array (an array [ ... ] holds values of one type; use a list ( ... ) to mix them, like ( 200, \"3xx\" ))" },
	{ "\n@include \"/etc/passwd\"\n",
	  "t.conf:2: @include is not supported: use include = [ \"conf.d/*.conf\" ] in the main file" },
	/* sections */
	{ "\nagnet = {};\n", "t.conf:2: unknown section \"agnet\" (did you mean \"agent\"?)" },
	{ "\nalert = ();\n", "t.conf:2: unknown section \"alert\" (did you mean \"alerts\"?)" },
	{ "frobnicate = 1;\n", "t.conf:1: unknown section \"frobnicate\" (known: include, agent, defaults, checks, alerts, notifiers, maintenance, announcements)" },
	{ "agent = {};\n\nalerts = 5;\n",
	  "t.conf:3: \"alerts\" must be a list of groups like ( { name = \"down\"; checks = \"*\"; when = \"consecutive_failures >= 3\"; } ) (got an integer)" },
	{ "notifiers = { };\n",
	  "t.conf:1: \"notifiers\" must be a list of groups like ( { name = \"ops-slack\"; type = \"slack\"; url = \"...\"; } ) (got a group { ... })" },
	{ "maintenance = [ 1 ];\n",
	  "t.conf:1: \"maintenance\" must be a list of groups like ( { checks = \"payments-*\"; weekly = \"Sun 01:00\"; duration = \"90m\"; } ) (got an array [ ... ])" },
	{ "agent = 5;\n", "t.conf:1: \"agent\" in the configuration must be a group { ... } (got an integer)" },
	{ "checks = { };\n",
	  "t.conf:1: \"checks\" must be a list of groups like ( { name = \"api\"; type = \"http\"; ... } ) (got a group { ... })" },
	/* agent */
	{ "agent = {\n listen = \"127.0.0.1\";\n};\n",
	  "t.conf:2: \"listen\" in agent must be \"host:port\" or \"[ipv6]:port\" with a port from 1 to 65535 (got \"127.0.0.1\")" },
	{ "agent = {\n log_format = \"text\";\n};\n",
	  "t.conf:2: \"log_format\" in agent must be \"logfmt\" or \"json\" (got \"text\")" },
	{ "agent = {\n public_url = \"status.example.com\";\n};\n",
	  "t.conf:2: \"public_url\" in agent is not a valid URL: it must start with http:// or https:// (got \"status.example.com\")" },
	{ "agent = {\n title = 5;\n};\n", "t.conf:2: \"title\" in agent must be a string (got an integer)" },
	{ "agent = {\n admin_token = \"\";\n};\n", "t.conf:2: \"admin_token\" in agent must not be empty" },
	{ "agent = {\n retention = { raw = \"14\"; };\n};\n",
	  "t.conf:2: \"raw\" in agent.retention is not a duration: \"14\" (write a whole number and a unit: \"250ms\", \"30s\", \"5m\", \"4h\", \"7d\")" },
	{ "agent = {\n retention = { raw = \"0\"; };\n};\n", "t.conf:2: \"raw\" in agent.retention must be greater than 0" },
	{ "agent = {\n retention = { rolups = \"1d\"; };\n};\n",
	  "t.conf:2: unknown setting \"rolups\" in agent.retention (did you mean \"rollups\"?)" },
	{ "agent = {\n\n tls_key = \"/dev/null\";\n};\n", "t.conf:3: \"tls_key\" in agent needs \"tls_cert\" too" },
	{ "agent = {\n tls_cert = \"/nonexistent/cert.pem\"; tls_key = \"/dev/null\";\n};\n",
	  "t.conf:2: \"tls_cert\" in agent: cannot read \"/nonexistent/cert.pem\": No such file or directory" },
	{ "agent = {\n Title = \"x\";\n};\n", "t.conf:2: unknown setting \"Title\" in agent (did you mean \"title\"?)" },
	/* defaults */
	{ "defaults = {\n interval = \"10s\";\n timeout = \"20s\";\n};\n",
	  "t.conf:3: timeout \"20s\" is longer than interval \"10s\" in defaults (a run must end before the next one starts)" },
	{ "defaults = {\n retries = 1;\n};\n", "t.conf:2: unknown setting \"retries\" in defaults" },
	/* a check */
	{ "checks = (\n  5\n);\n", "t.conf:2: check #1 must be a group { name = ...; type = ...; } (got an integer)" },
	{ "checks = (\n  { type = \"tcp\"; host = \"h\"; port = 1; }\n);\n",
	  "t.conf:2: missing required setting \"name\" in check #1" },
	{ CHK("type = \"tcp\"; host = \"h\"; port = 1; name = \"x\";"),
	  "t.conf:2: duplicate setting name" },
	{ "checks = (\n  { name = \"a b\"; type = \"tcp\"; host = \"h\"; port = 1; }\n);\n",
	  "t.conf:2: \"name\" in check #1 must be 1 to 64 characters from A-Z a-z 0-9 _ . - (got \"a b\")" },
	{ "checks = (\n  { name = \"x\";\n    host = \"h\"; }\n);\n",
	  "t.conf:2: missing required setting \"type\" in check \"x\" (one of: http, tcp, dns, tls, icmp, heartbeat)" },
	{ CHK("type = \"htp\"; url = \"http://h/\";"),
	  "t.conf:2: unknown check type \"htp\" in check \"c\" (did you mean \"http\"? supported: http, tcp, dns, tls, icmp, heartbeat)" },
	{ CHK("type = \"pigeon\";"),
	  "t.conf:2: unknown check type \"pigeon\" in check \"c\" (supported: http, tcp, dns, tls, icmp, heartbeat)" },
	{ CHK("type = \"tcp\"; host = \"h\"; port = 1; timout = \"5s\";"),
	  "t.conf:2: unknown setting \"timout\" in check \"c\" (did you mean \"timeout\"?)" },
	{ CHK("type = \"tcp\"; host = \"h\"; port = 1; Interval = \"5s\";"),
	  "t.conf:2: unknown setting \"Interval\" in check \"c\" (did you mean \"interval\"?)" },
	{ CHK("type = \"tcp\"; host = \"h\"; port = 1; colour = \"red\";"),
	  "t.conf:2: unknown setting \"colour\" in check \"c\"" },
	{ CHK("type = \"http\"; url = \"http://h/\"; query = \"x.com\";"),
	  "t.conf:2: setting \"query\" in check \"c\" does not apply to check type \"http\" (it is a setting of \"dns\" checks)" },
	{ CHK("type = \"tcp\"; host = \"h\"; port = 1; grace = \"1m\";"),
	  "t.conf:2: setting \"grace\" in check \"c\" does not apply to check type \"tcp\" (it is a setting of \"heartbeat\" checks)" },
	{ CHK("type = \"http\"; url = \"http://h/\"; status = 200;"),
	  "t.conf:2: unknown setting \"status\" in check \"c\" (did you mean to put it inside expect = { ... }?)" },
	{ CHK("type = \"tcp\"; host = \"h\"; port = 1; interval = 30;"),
	  "t.conf:2: \"interval\" in check \"c\" must be a string (got an integer)" },
	{ CHK("type = \"tcp\"; host = \"h\"; port = 1; timeout = \"5 s\";"),
	  "t.conf:2: \"timeout\" in check \"c\" is not a duration: \"5 s\" (write a whole number and a unit: \"250ms\", \"30s\", \"5m\", \"4h\", \"7d\")" },
	{ CHK("type = \"tcp\"; host = \"h\"; port = 1; interval = \"0\";"),
	  "t.conf:2: \"interval\" in check \"c\" must be greater than 0" },
	{ "checks = (\n  { name = \"c\"; type = \"tcp\"; host = \"h\"; port = 1;\n    interval = \"5s\"; timeout = \"6s\"; }\n);\n",
	  "t.conf:3: timeout \"6s\" is longer than interval \"5s\" in check \"c\" (a run must end before the next one starts)" },
	{ "checks = (\n  { name = \"c\"; type = \"tcp\"; host = \"h\"; port = 1;\n    timeout = \"1m\"; }\n);\n",
	  "t.conf:3: timeout \"1m\" is longer than interval \"30s\" (from defaults) in check \"c\" (a run must end before the next one starts)" },
	{ CHK("type = \"tcp\"; host = \"h\"; port = 1; retries = 11;"),
	  "t.conf:2: \"retries\" in check \"c\" must be from 0 to 10 (got 11)" },
	{ CHK("type = \"tcp\"; host = \"h\"; port = 1; group = [\"a\"];"),
	  "t.conf:2: \"group\" in check \"c\" must be a string (got an array [ ... ])" },
	{ CHK("type = \"tcp\"; host = \"h\"; port = 1; expect = 1;"),
	  "t.conf:2: \"expect\" in check \"c\" must be a group { ... } (got an integer)" },
	/* tcp */
	{ "checks = (\n  { name = \"c\"; type = \"tcp\"; host = \"h\"; }\n);\n",
	  "t.conf:2: missing required setting \"port\" in check \"c\" (port = 5432)" },
	{ CHK("type = \"tcp\"; host = \"h\"; port = \"80\";"),
	  "t.conf:2: \"port\" in check \"c\" must be an integer from 1 to 65535 (got a string)" },
	{ CHK("type = \"tcp\"; host = \"h\"; port = 70000;"),
	  "t.conf:2: \"port\" in check \"c\" must be from 1 to 65535 (got 70000)" },
	{ CHK("type = \"tcp\"; host = \"h\"; port = 0;"),
	  "t.conf:2: \"port\" in check \"c\" must be from 1 to 65535 (got 0)" },
	{ CHK("type = \"tcp\"; host = \"h:1\"; port = 1;"),
	  "t.conf:2: \"host\" in check \"c\" must be a host name or an IP address without brackets or port (got \"h:1\")" },
	{ CHK("type = \"tcp\"; host = \"h\"; port = 1; expect = { expect_regex = \"x\"; };"),
	  "t.conf:2: \"expect_regex\" in expect of check \"c\" is matched after \"send\", which is not set (use banner_regex for what the server says first)" },
	{ CHK("type = \"tcp\"; host = \"h\"; port = 1; expect = { banner_regex = \"(220\"; };"),
	  "t.conf:2: \"banner_regex\" in expect of check \"c\" is not a valid regular expression: missing closing parenthesis at offset 4" },
	{ CHK("type = \"tcp\"; host = \"h\"; port = 1; expect = { status = 200; };"),
	  "t.conf:2: setting \"status\" in expect of check \"c\" does not apply to check type \"tcp\" (it is a setting of \"http\" checks)" },
	/* http */
	{ "checks = (\n  { name = \"c\";\n    type = \"http\"; }\n);\n",
	  "t.conf:2: missing required setting \"url\" in check \"c\" (url = \"https://...\")" },
	{ CHK("type = \"http\"; url = \"ftp://h/\";"),
	  "t.conf:2: \"url\" in check \"c\" is not a valid URL: it must start with http:// or https:// (got \"ftp://h/\")" },
	{ CHK("type = \"http\"; url = \"http://h/a b\";"),
	  "t.conf:2: \"url\" in check \"c\" is not a valid URL: Bad path (got \"http://h/a b\")" },
	{ CHK("type = \"http\"; url = \"http://h/\"; method = \"FETCH\";"),
	  "t.conf:2: \"method\" in check \"c\" must be one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS (got \"FETCH\")" },
	{ CHK("type = \"http\"; url = \"http://h/\"; headers = [\"X-Foo bar\"];"),
	  "t.conf:2: \"headers\" entry 1 in check \"c\" must look like \"Name: value\"" },
	{ CHK("type = \"http\"; url = \"http://h/\"; headers = { a = 1; };"),
	  "t.conf:2: \"headers\" in check \"c\" must be a string or an array of strings like [ \"a\", \"b\" ] (got a group { ... })" },
	{ CHK("type = \"http\"; url = \"http://h/\"; max_body = \"2MB\";"),
	  "t.conf:2: \"max_body\" in check \"c\" is not a size from 1 byte to 1 GiB: \"2MB\" (write bytes as an integer, or a string like \"512KiB\", \"1MiB\")" },
	{ CHK("type = \"http\"; url = \"http://h/\"; max_body = true;"),
	  "t.conf:2: \"max_body\" in check \"c\" must be an integer number of bytes or a string like \"1MiB\" (got a boolean)" },
	{ CHK("type = \"http\"; url = \"http://h/\"; max_redirects = 51;"),
	  "t.conf:2: \"max_redirects\" in check \"c\" must be from 0 to 50 (got 51)" },
	{ CHK("type = \"http\"; url = \"http://h/\"; insecure = \"yes\";"),
	  "t.conf:2: \"insecure\" in check \"c\" must be true or false (got a string)" },
	{ CHK("type = \"http\"; url = \"http://h/\"; basic_auth = { user = \"u\"; };"),
	  "t.conf:2: missing required setting \"password\" in basic_auth of check \"c\"" },
	{ CHK("type = \"http\"; url = \"http://h/\"; basic_auth = { user = \"u\"; pasword = \"p\"; password = \"p\"; };"),
	  "t.conf:2: unknown setting \"pasword\" in basic_auth of check \"c\" (did you mean \"password\"?)" },
	{ CHK("type = \"http\"; url = \"http://h/\"; client_key = \"/dev/null\";"),
	  "t.conf:2: \"client_key\" in check \"c\" needs \"client_cert\" too" },
	{ CHK("type = \"http\"; url = \"http://h/\"; expect = { status = 99; };"),
	  "t.conf:2: \"status\" in expect of check \"c\" must be a status code from 100 to 599 (got 99)" },
	{ CHK("type = \"http\"; url = \"http://h/\"; expect = { status = ( 200, \"2x\" ); };"),
	  "t.conf:2: \"status\" entry 2 in expect of check \"c\" must be a status code 100-599, a class like \"2xx\" or a range like \"200-299\" (got \"2x\")" },
	{ CHK("type = \"http\"; url = \"http://h/\"; expect = { status = \"299-200\"; };"),
	  "t.conf:2: \"status\" in expect of check \"c\" must be a status code 100-599, a class like \"2xx\" or a range like \"200-299\" (got \"299-200\")" },
	{ CHK("type = \"http\"; url = \"http://h/\"; expect = { status = []; };"),
	  "t.conf:2: \"status\" in expect of check \"c\" must not be empty (leave it out to accept 200-399)" },
	{ CHK("type = \"http\"; url = \"http://h/\"; expect = { body_regex = \"a(\"; };"),
	  "t.conf:2: \"body_regex\" in expect of check \"c\" is not a valid regular expression: missing closing parenthesis at offset 2" },
	{ CHK("type = \"http\"; url = \"http://h/\"; expect = { headers = [\"X-A: (\"]; };"),
	  "t.conf:2: \"headers\" entry 1 in expect of check \"c\" has an invalid regular expression after \"X-A:\": missing closing parenthesis at offset 1" },
	{ CHK("type = \"http\"; url = \"http://h/\"; expect = { cert_min_days = 5; };"),
	  "t.conf:2: \"cert_min_days\" in expect of check \"c\" needs an https:// url" },
	{ CHK("type = \"http\"; url = \"http://h/\"; method = \"HEAD\"; expect = { body_contains = \"x\"; };"),
	  "t.conf:2: \"body_contains\" in expect of check \"c\" can never match: a HEAD response has no body" },
	{ CHK("type = \"http\"; url = \"http://h/\"; expect = { banner_regex = \"x\"; };"),
	  "t.conf:2: setting \"banner_regex\" in expect of check \"c\" does not apply to check type \"http\" (it is a setting of \"tcp\" checks)" },
	{ CHK("type = \"http\"; url = \"http://h/\"; expect = { max_latncy = \"1s\"; };"),
	  "t.conf:2: unknown setting \"max_latncy\" in expect of check \"c\" (did you mean \"max_latency\"?)" },
	{ CHK("type = \"http\"; url = \"http://h/\"; expect = { json = ( { equals = 1; } ); };"),
	  "t.conf:2: missing required setting \"path\" in expect.json entry 1 of check \"c\" (path = \"$.status\")" },
	{ CHK("type = \"http\"; url = \"http://h/\"; expect = { json = ( { path = \"$.a\"; equals = [1]; } ); };"),
	  "t.conf:2: \"equals\" in expect.json entry 1 of check \"c\" must be a string, a number or true/false (got an array [ ... ])" },
	{ CHK("type = \"http\"; url = \"http://h/\"; expect = { json = ( { path = \"$.a\"; equals = 1; exists = false; } ); };"),
	  "t.conf:2: \"exists = false\" contradicts \"equals\" in expect.json entry 1 of check \"c\" (a value that does not exist cannot equal anything)" },
	{ CHK("type = \"http\"; url = \"http://h/\"; expect = { json = ( { path = \"$.a\"; exist = true; } ); };"),
	  "t.conf:2: unknown setting \"exist\" in expect.json entry 1 of check \"c\" (did you mean \"exists\"?)" },
	{ CHK("type = \"http\"; url = \"http://h/\"; expect = { json = 5; };"),
	  "t.conf:2: \"json\" in expect of check \"c\" must be a list of groups like ( { path = \"$.status\"; equals = \"ok\"; } ) (got an integer)" },
	/* dns */
	{ CHK("type = \"dns\"; query = \"bad..name\";"),
	  "t.conf:2: \"query\" in check \"c\" must be a domain name like \"api.example.com\" (got \"bad..name\")" },
	{ CHK("type = \"dns\"; query = \"x.com\"; record = \"PTR\";"),
	  "t.conf:2: \"record\" in check \"c\" must be one of A, AAAA, CNAME, MX, TXT, NS, SOA, SRV (got \"PTR\")" },
	{ CHK("type = \"dns\"; query = \"x.com\"; server = \"dns.google\";"),
	  "t.conf:2: \"server\" in check \"c\" must be an IP address with an optional port: \"1.1.1.1\", \"1.1.1.1:53\", \"2606:4700::1111\" or \"[2606:4700::1111]:53\" (got \"dns.google\")" },
	{ CHK("type = \"dns\"; query = \"x.com\"; server = \"1.1.1.1:0\";"),
	  "t.conf:2: \"server\" in check \"c\" must be an IP address with an optional port: \"1.1.1.1\", \"1.1.1.1:53\", \"2606:4700::1111\" or \"[2606:4700::1111]:53\" (got \"1.1.1.1:0\")" },
	{ CHK("type = \"dns\"; query = \"x.com\"; expect = { rcode = \"NOPE\"; };"),
	  "t.conf:2: \"rcode\" in expect of check \"c\" must be one of NOERROR, NXDOMAIN, SERVFAIL, REFUSED, FORMERR, NOTIMP (got \"NOPE\")" },
	{ CHK("type = \"dns\"; query = \"x.com\"; expect = { answers_contain = []; };"),
	  "t.conf:2: \"answers_contain\" in expect of check \"c\" must not be empty (leave it out instead)" },
	{ CHK("type = \"dns\"; query = \"x.com\"; expect = { answers_exact = [1]; };"),
	  "t.conf:2: \"answers_exact\" entry 1 in expect of check \"c\" must be a string (got an integer)" },
	{ CHK("type = \"dns\"; query = \"x.com\"; expect = { min_answers = -1; };"),
	  "t.conf:2: \"min_answers\" in expect of check \"c\" must be from 0 to 1000 (got -1)" },
	{ CHK("type = \"dns\"; query = \"x.com\"; url = \"http://h/\";"),
	  "t.conf:2: setting \"url\" in check \"c\" does not apply to check type \"dns\" (it is a setting of \"http\" checks)" },
	/* substitution */
	{ CHK("type = \"tcp\"; host = \"${env:PHAROS_TEST_SURELY_UNSET}\"; port = 1;"),
	  "t.conf:2: \"host\" in check \"c\" uses the environment variable \"PHAROS_TEST_SURELY_UNSET\", which is not set" },
	{ CHK("type = \"tcp\"; host = \"${file:/nonexistent/pharos}\"; port = 1;"),
	  "t.conf:2: \"host\" in check \"c\" uses ${file:/nonexistent/pharos}: cannot read it: No such file or directory" },
	{ CHK("type = \"tcp\"; host = \"${file:/tmp}\"; port = 1;"),
	  "t.conf:2: \"host\" in check \"c\" uses ${file:/tmp}: cannot read it: not a regular file" },
	{ CHK("type = \"tcp\"; host = \"${vault:x}\"; port = 1;"),
	  "t.conf:2: \"host\" in check \"c\" has an unknown substitution \"${vault:x}\" (supported: ${env:NAME}, ${file:/path}; write \"$${\" for a literal \"${\")" },
	{ CHK("type = \"tcp\"; host = \"${env:X\"; port = 1;"),
	  "t.conf:2: \"host\" in check \"c\" has \"${\" without a closing \"}\" (write \"$${\" for a literal \"${\")" },
	{ CHK("type = \"tcp\"; host = \"${env:}\"; port = 1;"),
	  "t.conf:2: \"host\" in check \"c\" has an empty ${env:NAME}" },
};

/* announcements = ( ... ): defaults, times, selectors, and the errors. */
static void test_announcements(void **state)
{
	struct conf *c;
	const struct announcement *a;

	(void)state;
	c = load_ok("checks = ( { name = \"api\"; type = \"tcp\"; host = \"h\"; port = 1; } );\n"
	            "announcements = (\n"
	            "  { title = \"Upgrade\"; body = \"tonight\"; severity = \"maintenance\";\n"
	            "    start = \"2026-12-01T02:00:00Z\"; end = \"2026-12-01T03:00:00Z\"; checks = \"api\"; },\n"
	            "  { title = \"Hello\"; }\n"
	            ");\n");
	assert_int_equal(c->n_announcements, 2);
	a = &c->announcements[0];
	assert_string_equal(a->title, "Upgrade");
	assert_string_equal(a->body, "tonight");
	assert_string_equal(a->severity, "maintenance");
	assert_int_equal(a->start_us, 1796090400LL * 1000000);
	assert_int_equal(a->end_us, 1796094000LL * 1000000);
	assert_int_equal(a->n_selectors, 1);
	assert_int_equal(a->line, 3);
	a = &c->announcements[1];
	assert_string_equal(a->severity, "info");
	assert_string_equal(a->body, "");
	assert_int_equal(a->start_us, 0);
	assert_int_equal(a->end_us, 0);
	conf_unref(c);

	expect_one("announcements = ( { body = \"x\"; } );\n",
	           "t.conf:1: missing required setting \"title\" in announcement #1 (title = \"Scheduled database upgrade\")");
	expect_prefix("announcements = ( { title = \"x\"; severity = \"loud\"; } );\n",
	              "t.conf:1: \"severity\" in announcement #1 must be \"info\", \"warning\", \"outage\" or \"maintenance\"");
	expect_one("announcements = ( { title = \"x\"; start = \"2026-12-02T00:00:00Z\";\n"
	           "  end = \"2026-12-01T00:00:00Z\"; } );\n",
	           "t.conf:2: \"end\" in announcement #1 must be after its \"start\"");
	expect_prefix("announcements = ( { title = \"x\"; end = \"tomorrow\"; } );\n",
	              "t.conf:1: \"end\" in announcement #1 must be an RFC 3339 time");
}

static void test_error_kinds(void **state)
{
	size_t failed = 0;

	(void)state;
	/* Every case runs, so one run shows every mismatch. */
	for (size_t i = 0; i < sizeof(error_cases) / sizeof(error_cases[0]); i++)
		failed += !one_error(error_cases[i].text, error_cases[i].want);
	assert_int_equal(failed, 0);
	log_secret_clear();
}

static void test_json_path_error(void **state)
{
	(void)state;
	/* The message after "JSON path:" is jsonpath_check()'s. */
	expect_prefix(CHK("type = \"http\"; url = \"http://h/\"; expect = { json = ( { path = \"status\"; } ); };"),
	              "t.conf:2: \"path\" in expect.json entry 1 of check \"c\" is not a valid JSON path: ");
}

static void test_all_errors_together(void **state)
{
	struct conf_errors e;

	(void)state;
	load_bad("agent = {\n"                                             /* 1 */
	         "  log_format = \"text\";\n"                              /* 2 */
	         "};\n"                                                    /* 3 */
	         "alerts = ( { name = \"r\"; checks = \"dbx\"; } );\n"    /* 4 */
	         "checks = (\n"                                            /* 5 */
	         "  { name = \"db\"; type = \"tcp\"; host = \"db\";\n"     /* 6 */
	         "    port = 70000; timout = \"5s\"; },\n"                 /* 7 */
	         "  { name = \"db\"; type = \"tls\"; },\n"                 /* 8 */
	         "  { name = \"w\"; type = \"http\"; url = \"x\"; }\n"     /* 9 */
	         ");\n", &e);
	if (e.n != 8)
		print_errors(&e);
	assert_int_equal(e.n, 8);
	/* sorted by line */
	assert_string_equal(e.lines[0], "t.conf:2: \"log_format\" in agent must be \"logfmt\" or \"json\" (got \"text\")");
	assert_string_equal(e.lines[1], "t.conf:4: \"checks\" in rule \"r\" names an unknown check \"dbx\" (did you mean \"db\"?)");
	assert_string_equal(e.lines[2], "t.conf:4: missing required setting \"when\" in rule \"r\" (when = \"consecutive_failures >= 3\")");
	assert_string_equal(e.lines[3], "t.conf:7: \"port\" in check \"db\" must be from 1 to 65535 (got 70000)");
	assert_string_equal(e.lines[4], "t.conf:7: unknown setting \"timout\" in check \"db\" (did you mean \"timeout\"?)");
	assert_true(has_line(&e, "t.conf:8: duplicate check name \"db\" (first defined on line 6)"));
	assert_true(has_line(&e, "t.conf:8: missing required setting \"host\" in check \"db\" (host = \"example.com\")"));
	assert_string_equal(e.lines[7], "t.conf:9: \"url\" in check \"w\" is not a valid URL: it must start with http:// or https:// (got \"x\")");
	conf_errors_free(&e);
}

static void test_too_many_errors(void **state)
{
	struct conf_errors e;
	char *text = xstrdup("checks = (\n");

	(void)state;
	for (int i = 0; i < 150; i++) {
		char *next = xasprintf("%s  { name = \"c%d\"; type = \"tcp\"; host = \"h\"; port = 0; },\n", text, i);

		free(text);
		text = next;
	}
	text[strlen(text) - 2] = '\n';
	text[strlen(text) - 1] = '\0';
	{
		char *next = xasprintf("%s);\n", text);

		free(text);
		text = next;
	}
	load_bad(text, &e);
	assert_int_equal(e.n, 101);
	assert_string_equal(e.lines[100], "t.conf: too many errors, only the first 100 are shown");
	conf_errors_free(&e);
	free(text);
}

/* --- substitution ---------------------------------------------------------- */

static char *write_temp(const char *content, size_t len)
{
	char *path = xstrdup("/tmp/pharos-test-conf-XXXXXX");
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, len), (ssize_t)len);
	close(fd);
	return path;
}

static void test_substitution(void **state)
{
	char *file = write_temp("file-secret-42\n", 15);
	char *text;
	struct conf *c;
	char *masked;

	(void)state;
	setenv("PHAROS_TEST_HOST", "api.example.com", 1);
	setenv("PHAROS_TEST_TOKEN", "tok-abcdef", 1);
	text = xasprintf(
		"agent = { admin_token = \"${file:%s}\"; };\n"
		"checks = (\n"
		"  { name = \"w\"; type = \"http\";\n"
		"    url = \"https://${env:PHAROS_TEST_HOST}:8443/v1/${env:PHAROS_TEST_HOST}\";\n"
		"    headers = [ \"Authorization: Bearer ${env:PHAROS_TEST_TOKEN}\", \"X-Lit: $${env:NOT_A_VAR} $ ok\" ];\n"
		"  }\n"
		");\n", file);
	c = load_ok(text);
	assert_string_equal(c->agent.admin_token, "file-secret-42");
	assert_string_equal(c->checks[0].http.url, "https://api.example.com:8443/v1/api.example.com");
	assert_string_equal(c->checks[0].http.headers[0], "Authorization: Bearer tok-abcdef");
	assert_string_equal(c->checks[0].http.headers[1], "X-Lit: ${env:NOT_A_VAR} $ ok");
	/* every substituted value is a registered secret, also in the target */
	masked = log_mask_secrets("token tok-abcdef admin file-secret-42");
	assert_string_equal(masked, "token *** admin ***");
	free(masked);
	assert_null(strstr(c->checks[0].target, "api.example.com"));
	conf_unref(c);
	free(text);

	/* only one trailing newline is stripped; CRLF counts as one */
	unlink(file);
	free(file);
	file = write_temp("abc\r\n\n", 6);
	text = xasprintf("agent = { title = \"[${file:%s}]\"; };\n", file);
	c = load_ok(text);
	assert_string_equal(c->agent.title, "[abc\r\n]");
	conf_unref(c);
	free(text);
	unlink(file);
	free(file);

	log_secret_clear();
	unsetenv("PHAROS_TEST_HOST");
	unsetenv("PHAROS_TEST_TOKEN");
}

static void test_substitution_file_too_large(void **state)
{
	size_t n = 64 * 1024 + 1;
	char *big = xmalloc(n);
	char *file, *text, *want;

	(void)state;
	memset(big, 'a', n);
	file = write_temp(big, n);
	text = xasprintf("agent = {\n  title = \"${file:%s}\";\n};\n", file);
	want = xasprintf("t.conf:2: \"title\" in agent uses ${file:%s}: cannot read it: larger than 64 KiB", file);
	expect_one(text, want);
	free(want);
	free(text);
	unlink(file);
	free(file);

	/* exactly 64 KiB (plus a newline) is fine */
	file = write_temp(big, n);
	assert_int_equal(truncate(file, 64 * 1024), 0);
	text = xasprintf("agent = { title = \"${file:%s}\"; };\n", file);
	{
		struct conf *c = load_ok(text);

		assert_int_equal(strlen(c->agent.title), 64 * 1024);
		conf_unref(c);
	}
	free(text);
	unlink(file);
	free(file);
	free(big);
	log_secret_clear();
}

/* --- secrets never reach an error line -------------------------------------- */

static void assert_no_secret(const struct conf_errors *e, const char *secret)
{
	for (size_t i = 0; i < e->n; i++) {
		if (strstr(e->lines[i], secret) != NULL) {
			print_errors(e);
			fail_msg("secret %s in an error line", secret);
		}
	}
}

static void test_secrets_not_in_errors(void **state)
{
	struct conf_errors e;
	char *file = write_temp("filesecret-999", 14);
	char *text;

	(void)state;
	setenv("PHAROS_TEST_SECRET", "envsecret-777", 1);
	text = xasprintf(
		"agent = { admin_token = \"literal-admin-token\"; public_url = \"${env:PHAROS_TEST_SECRET}\"; };\n"
		"checks = (\n"
		"  { name = \"w\"; type = \"http\"; url = \"https://user:urlpass-555@h/x y\";\n"
		"    headers = [ \"Authorization Bearer hdrsecret-333\", \"X-Token: ${env:PHAROS_TEST_SECRET}\" ];\n"
		"    basic_auth = { user = \"u\"; password = \"${file:%s}\"; nope = 1; };\n"
		"    method = \"${env:PHAROS_TEST_SECRET}\"; },\n"
		"  { name = \"t\"; type = \"tcp\"; host = \"${file:%s}_!\"; port = 1; }\n"
		");\n", file, file);
	load_bad(text, &e);
	assert_true(e.n >= 5);
	assert_no_secret(&e, "envsecret-777");
	assert_no_secret(&e, "filesecret-999");
	assert_no_secret(&e, "urlpass-555");
	assert_no_secret(&e, "hdrsecret-333");
	assert_no_secret(&e, "literal-admin-token");
	assert_true(has_line(&e, "t.conf:3: \"url\" in check \"w\" is not a valid URL: Bad path (got \"https://user:***@h/x y\")"));
	assert_true(has_line(&e, "t.conf:4: \"headers\" entry 1 in check \"w\" must look like \"Name: value\""));
	conf_errors_free(&e);
	free(text);
	unlink(file);
	free(file);
	unsetenv("PHAROS_TEST_SECRET");
	log_secret_clear();
}

static void test_secret_settings_registered(void **state)
{
	struct conf *c;
	char *m;

	(void)state;
	log_secret_clear();
	c = load_ok("agent = { admin_token = \"admintoken-1\"; };\n"
	            "checks = ( { name = \"w\"; type = \"http\"; url = \"https://bob:pw-secret-2@h/\";\n"
	            "  headers = [ \"Cookie: session=cookie-3\", \"X-Api-Key: apikey-4\", \"Accept: text/plain\" ];\n"
	            "  basic_auth = { user = \"bob\"; password = \"basicpass-5\"; }; } );\n");
	m = log_mask_secrets("admintoken-1 pw-secret-2 session=cookie-3 apikey-4 basicpass-5 text/plain");
	assert_string_equal(m, "*** *** *** *** *** text/plain");
	free(m);
	assert_string_equal(c->checks[0].target, "https://bob:***@h/");
	conf_unref(c);
	log_secret_clear();
}

/* --- fingerprints, references, paths ---------------------------------------- */

static uint64_t fp_of(const char *text, const char *name)
{
	struct conf *c = load_ok(text);
	const struct check *k = conf_find_check(c, name);
	uint64_t fp;

	assert_non_null(k);
	fp = k->fingerprint;
	conf_unref(c);
	return fp;
}

static void test_fingerprint(void **state)
{
	const char *base = "checks = ( { name = \"w\"; type = \"http\"; url = \"http://h/\"; },\n"
	                   "           { name = \"d\"; type = \"tcp\"; host = \"h\"; port = 1; } );\n";
	uint64_t a = fp_of(base, "w");

	(void)state;
	assert_int_equal(a, fp_of(base, "w"));
	/* a change to another check, or to the group, keeps it */
	assert_int_equal(a, fp_of("checks = ( { name = \"w\"; type = \"http\"; url = \"http://h/\"; group = \"G\"; },\n"
	                          "           { name = \"d\"; type = \"tcp\"; host = \"h\"; port = 2; } );\n", "w"));
	/* any probing setting changes it, inherited ones too */
	assert_true(a != fp_of("checks = ( { name = \"w\"; type = \"http\"; url = \"http://h/x\"; } );\n", "w"));
	assert_true(a != fp_of("checks = ( { name = \"w\"; type = \"http\"; url = \"http://h/\"; method = \"HEAD\"; } );\n", "w"));
	assert_true(a != fp_of("defaults = { timeout = \"5s\"; };\n"
	                       "checks = ( { name = \"w\"; type = \"http\"; url = \"http://h/\"; } );\n", "w"));
	assert_true(a != fp_of("checks = ( { name = \"w\"; type = \"http\"; url = \"http://h/\";\n"
	                       "  expect = { json = ( { path = \"$.a\"; equals = 1; } ); }; } );\n", "w"));
	assert_true(fp_of("checks = ( { name = \"w\"; type = \"http\"; url = \"http://h/\";\n"
	                  "  expect = { json = ( { path = \"$.a\"; equals = 1; } ); }; } );\n", "w") !=
	            fp_of("checks = ( { name = \"w\"; type = \"http\"; url = \"http://h/\";\n"
	                  "  expect = { json = ( { path = \"$.a\"; equals = 2; } ); }; } );\n", "w"));
}

static void test_refs(void **state)
{
	struct conf *c = load_ok("checks = ( { name = \"d\"; type = \"tcp\"; host = \"h\"; port = 1; } );\n");

	(void)state;
	assert_ptr_equal(conf_ref(c), c);
	assert_int_equal(c->refs, 2);
	conf_unref(c);
	assert_int_equal(c->refs, 1);
	assert_non_null(conf_find_check(c, "d"));
	conf_unref(c);          /* freed: ASan's leak check proves the rest */
	conf_unref(NULL);
	assert_null(conf_ref(NULL));
}

static void test_default_path(void **state)
{
	(void)state;
	unsetenv("PHAROS_CONFIG");
	assert_string_equal(conf_default_path(NULL), CONF_DEFAULT_PATH);
	assert_string_equal(conf_default_path("/x.conf"), "/x.conf");
	setenv("PHAROS_CONFIG", "/env.conf", 1);
	assert_string_equal(conf_default_path(NULL), "/env.conf");
	assert_string_equal(conf_default_path("/x.conf"), "/x.conf");
	unsetenv("PHAROS_CONFIG");
}

static void test_load_file(void **state)
{
	static const char text[] = "checks = (\n  { name = \"d\"; type = \"tcp\"; host = \"h\"; port = 99999; }\n);\n";
	char *file = write_temp(text, sizeof(text) - 1);
	struct conf_errors e = { 0 };
	struct conf *c;
	char *want;

	(void)state;
	assert_null(conf_load(file, &e));
	assert_int_equal(e.n, 1);
	want = xasprintf("%s:2: \"port\" in check \"d\" must be from 1 to 65535 (got 99999)", file);
	assert_string_equal(e.lines[0], want);
	free(want);
	conf_errors_free(&e);
	unlink(file);
	free(file);

	file = write_temp(full_config, sizeof(full_config) - 1);
	c = conf_load(file, &e);
	assert_non_null(c);
	assert_int_equal(e.n, 0);
	assert_string_equal(c->path, file);
	assert_string_equal(c->checks[0].file, file);
	conf_unref(c);
	unlink(file);
	free(file);

	assert_null(conf_load("/nonexistent/pharos.conf", &e));
	assert_int_equal(e.n, 1);
	assert_string_equal(e.lines[0], "/nonexistent/pharos.conf: cannot open the configuration: No such file or directory");
	conf_errors_free(&e);

	file = write_temp("a = 1;\n\0b = 2;\n", 15);
	assert_null(conf_load(file, &e));
	assert_int_equal(e.n, 1);
	assert_non_null(strstr(e.lines[0], ":2: the configuration contains a NUL byte"));
	conf_errors_free(&e);
	unlink(file);
	free(file);
	log_secret_clear();
}

static void test_check_names(void **state)
{
	struct check c;

	(void)state;
	assert_int_equal(check_dns_record_from_name("A"), ns_t_a);
	assert_int_equal(check_dns_record_from_name("srv"), ns_t_srv);
	assert_int_equal(check_dns_record_from_name("PTR"), -1);
	assert_int_equal(check_dns_record_from_name(NULL), -1);
	assert_string_equal(check_dns_record_name(ns_t_mx), "MX");
	assert_null(check_dns_record_name(12345));
	assert_int_equal(check_dns_rcode_from_name("NOERROR"), ns_r_noerror);
	assert_int_equal(check_dns_rcode_from_name("notimp"), ns_r_notimpl);
	assert_int_equal(check_dns_rcode_from_name("BOGUS"), -1);
	assert_string_equal(check_dns_rcode_name(ns_r_servfail), "SERVFAIL");
	assert_string_equal(check_dns_rcode_name(ns_r_refused), "REFUSED");
	assert_null(check_dns_rcode_name(99));
	assert_string_equal(check_type_name(CHECK_TCP), "tcp");

	check_init(&c);
	assert_int_equal(c.expect.rcode, -1);
	assert_int_equal(c.expect.cert_min_days, -1);
	assert_int_equal(c.expect.min_answers, -1);
	c.name = xstrdup("x");
	check_clear(&c);
	assert_null(c.name);
	check_clear(&c);        /* twice is harmless */
}

/* --- more check types, steps, dependencies --------------------------------- */

static const char types_config[] =
	"defaults = { interval = \"30s\"; timeout = \"10s\"; };\n"                          /* 1 */
	"checks = (\n"                                                                        /* 2 */
	"  { name = \"gateway\"; type = \"icmp\"; host = \"10.0.0.1\"; },\n"                  /* 3 */
	"  { name = \"ping6\"; type = \"icmp\"; host = \"::1\"; count = 10; spacing = \"50ms\";\n"
	"    expect = { max_loss = \"12.5%\"; max_latency = \"20ms\"; }; },\n"                /* 5 */
	"  { name = \"ping-num\"; type = \"icmp\"; host = \"h\"; expect = { max_loss = 20; }; },\n"
	"  { name = \"cert\"; type = \"tls\"; host = \"example.com\";\n"                      /* 7 */
	"    expect = { cert_min_days = 21; max_latency = \"1s\"; }; },\n"
	"  { name = \"cert2\"; type = \"tls\"; host = \"10.1.2.3\"; port = 8443; server_name = \"api.example.com\";\n"
	"    ca_file = \"/dev/null\"; insecure = true; depends_on = \"gateway\"; },\n"        /* 10 */
	"  { name = \"nightly\"; type = \"heartbeat\"; interval = \"5s\"; grace = \"2h\"; token = \"hb-token-77\"; },\n"
	"  { name = \"hb2\"; type = \"heartbeat\"; token = \"hb-token-88\"; expect = { }; },\n" /* 12 */
	"  { name = \"flow\"; type = \"http\"; depends_on = [\"gateway\", \"cert\"]; retries = 1;\n"
	"    steps = (\n"                                                                     /* 14 */
	"      { name = \"login\"; url = \"https://shop.example.com/login\"; method = \"post\";\n"
	"        headers = [ \"Content-Type: application/json\" ]; body = \"{\\\"u\\\": 1}\";\n"
	"        expect = { status = 200; json = ( { path = \"$.ok\"; equals = true; } ); };\n"
	"        extract = { token = \"$.token\"; session = \"header: Set-Cookie\"; }; },\n"   /* 18 */
	"      { url = \"https://shop.example.com/cart/${var:token}\";\n"                     /* 19 */
	"        headers = [ \"Authorization: Bearer ${var:token}\", \"Cookie: ${var:session}\" ];\n"
	"        body = \"t=${var:token}\"; insecure = true; max_redirects = 0; },\n"
	"      { name = \"refresh\"; url = \"https://shop.example.com/r\"; extract = { token = \"$.t2\"; }; },\n"
	"      { name = \"use\"; url = \"https://shop.example.com/u?t=${var:token}\"; }\n"   /* 23 */
	"    ); }\n"
	");\n";

static void test_check_types(void **state)
{
	struct conf *c = load_ok(types_config);
	const struct check *k;
	const struct http_step *st;

	(void)state;
	assert_int_equal(c->n_checks, 8);

	k = conf_find_check(c, "gateway");
	assert_int_equal(k->type, CHECK_ICMP);
	assert_string_equal(k->icmp.host, "10.0.0.1");
	assert_int_equal(k->icmp.count, 3);
	assert_int_equal(k->icmp.spacing_ms, 200);
	assert_true(k->expect.max_loss_pct < 0);
	assert_string_equal(k->target, "10.0.0.1");
	k = conf_find_check(c, "ping6");
	assert_int_equal(k->icmp.count, 10);
	assert_int_equal(k->icmp.spacing_ms, 50);
	assert_true(k->expect.max_loss_pct == 12.5);
	assert_int_equal(k->expect.max_latency_ms, 20);
	assert_true(conf_find_check(c, "ping-num")->expect.max_loss_pct == 20.0);

	k = conf_find_check(c, "cert");
	assert_int_equal(k->type, CHECK_TLS);
	assert_string_equal(k->tls.host, "example.com");
	assert_int_equal(k->tls.port, 443);
	assert_null(k->tls.server_name);
	assert_false(k->tls.insecure);
	assert_int_equal(k->expect.cert_min_days, 21);
	assert_int_equal(k->expect.max_latency_ms, 1000);
	assert_string_equal(k->target, "example.com:443");
	k = conf_find_check(c, "cert2");
	assert_int_equal(k->tls.port, 8443);
	assert_string_equal(k->tls.server_name, "api.example.com");
	assert_string_equal(k->tls.ca_file, "/dev/null");
	assert_true(k->tls.insecure);
	assert_int_equal(k->expect.cert_min_days, -1);
	assert_string_equal(k->target, "10.1.2.3:8443 (api.example.com)");
	assert_int_equal(k->n_depends_on, 1);
	assert_string_equal(k->depends_on[0], "gateway");

	/* a heartbeat's interval may be shorter than the (irrelevant) timeout */
	k = conf_find_check(c, "nightly");
	assert_int_equal(k->type, CHECK_HEARTBEAT);
	assert_int_equal(k->interval_ms, 5000);
	assert_int_equal(k->heartbeat.grace_ms, 2 * 3600 * 1000);
	assert_string_equal(k->heartbeat.token, "hb-token-77");
	assert_string_equal(k->target, "push /api/v1/push/nightly");
	k = conf_find_check(c, "hb2");
	assert_int_equal(k->heartbeat.grace_ms, 60000);
	assert_int_equal(k->interval_ms, 30000);

	k = conf_find_check(c, "flow");
	assert_int_equal(k->type, CHECK_HTTP);
	assert_null(k->http.url);
	assert_int_equal(k->retries, 1);
	assert_int_equal(k->n_depends_on, 2);
	assert_string_equal(k->depends_on[1], "cert");
	assert_string_equal(k->target, "https://shop.example.com/login (4 steps)");
	assert_int_equal(k->n_steps, 4);
	st = &k->steps[0];
	assert_string_equal(st->name, "login");
	assert_int_equal(st->line, 15);
	assert_string_equal(st->http.url, "https://shop.example.com/login");
	assert_string_equal(st->http.method, "POST");
	assert_int_equal(st->http.n_headers, 1);
	assert_string_equal(st->http.body, "{\"u\": 1}");
	assert_int_equal(st->http.max_redirects, 5);
	assert_int_equal(st->expect.n_status, 1);
	assert_int_equal(st->expect.status[0].lo, 200);
	assert_int_equal(st->expect.n_json, 1);
	assert_int_equal(st->expect.cert_min_days, -1);
	assert_true(st->expect.max_loss_pct < 0);
	assert_int_equal(st->n_extract, 2);
	assert_string_equal(st->extract[0].var, "token");
	assert_string_equal(st->extract[0].json_path, "$.token");
	assert_null(st->extract[0].header);
	assert_string_equal(st->extract[1].var, "session");
	assert_null(st->extract[1].json_path);
	assert_string_equal(st->extract[1].header, "Set-Cookie");
	/* ${var:...} is kept for run time; nothing inherited from step 1 */
	st = &k->steps[1];
	assert_string_equal(st->name, "step 2");
	assert_int_equal(st->line, 19);
	assert_string_equal(st->http.url, "https://shop.example.com/cart/${var:token}");
	assert_string_equal(st->http.method, "GET");
	assert_string_equal(st->http.headers[0], "Authorization: Bearer ${var:token}");
	assert_string_equal(st->http.headers[1], "Cookie: ${var:session}");
	assert_string_equal(st->http.body, "t=${var:token}");
	assert_true(st->http.insecure);
	assert_int_equal(st->http.max_redirects, 0);
	assert_int_equal(st->expect.n_status, 0);
	assert_int_equal(st->n_extract, 0);
	assert_string_equal(k->steps[3].http.url, "https://shop.example.com/u?t=${var:token}");
	/* the check-level settings are untouched by the steps */
	assert_int_equal(k->http.n_headers, 0);
	assert_int_equal(k->expect.n_status, 0);

	/* the token is a secret */
	{
		char *m = log_mask_secrets("hb-token-77 hb-token-88");

		assert_string_equal(m, "*** ***");
		free(m);
	}
	conf_unref(c);
	log_secret_clear();
}

/* --- alerts, notifiers, maintenance ----------------------------------------- */

static const char alerts_config[] =
	"checks = (\n"                                                                        /* 1 */
	"  { name = \"payments-api\"; group = \"Payments\"; type = \"tcp\"; host = \"h\"; port = 1; },\n"
	"  { name = \"payments-db\"; group = \"Payments\"; type = \"tcp\"; host = \"h\"; port = 2; },\n"
	"  { name = \"sync\"; group = \"Batch\"; type = \"heartbeat\"; token = \"tok-123456\"; }\n"
	");\n"                                                                                /* 5 */
	"alerts = (\n"
	"  { name = \"down\"; checks = \"*\"; when = \"consecutive_failures >= 3\";\n"        /* 7 */
	"    recover = \"consecutive_successes >= 2\"; severity = \"critical\";\n"
	"    notify = [\"oncall\", \"ops-slack\"]; repeat = \"4h\"; min_locations = 2; },\n"
	"  { name = \"slow\"; checks = \"group:Payments\"; when = \"p95_latency(5m) > 800ms\";\n"
	"    for = \"2m\"; severity = \"warning\"; notify = [\"ops-slack\"]; },\n"           /* 11 */
	"  { name = \"errors\"; checks = [\"payments-*\", \"sync\"]; when = \"error_rate(10m) > 5%\";\n"
	"    notify = \"audit\"; },\n"
	"  { name = \"later\"; checks = [\"future-*\", \"group:Future\"]; when = \"heartbeat_age > 1h\"; }\n"
	");\n"                                                                                /* 15 */
	"notifiers = (\n"
	"  { name = \"ops-slack\"; type = \"slack\"; url = \"https://hooks.slack.com/services/T0/B0/slack-secret-1\"; },\n"
	"  { name = \"oncall\"; type = \"pagerduty\"; routing_key = \"pd-routing-key-2\"; },\n"
	"  { name = \"pd-test\"; type = \"pagerduty\"; routing_key = \"pd-routing-key-3\"; url = \"http://127.0.0.1:9/enqueue\";\n"
	"    max_attempts = 3; max_age = \"1h\"; timeout = \"2s\"; rate = 0.5; },\n"         /* 20 */
	"  { name = \"audit\"; type = \"webhook\"; url = \"https://hooks.example.com/pharos-secret-4\";\n"
	"    secret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"; rate = 25; },\n"
	"  { name = \"am\"; type = \"alertmanager\"; url = \"http://127.0.0.1:9093//\"; },\n"
	"  { name = \"unused\"; type = \"webhook\"; url = \"http://127.0.0.1:9/hook\"; }\n"
	");\n"                                                                                /* 25 */
	"maintenance = (\n"
	"  { checks = \"payments-*\"; start = \"2026-12-01T02:00:00Z\"; duration = \"2h\"; },\n"
	"  { checks = [\"group:Batch\", \"sync\"]; weekly = \"Sun 01:00\"; duration = \"90m\"; },\n"
	"  { checks = \"*\"; weekly = \"fri  23:59\"; duration = \"7d\"; timezone = \"Europe/Berlin\"; }\n"
	");\n";

static void test_alerts_notifiers_maintenance(void **state)
{
	struct conf *c = load_ok(alerts_config);
	const struct alert_rule *r;
	const struct notifier_conf *n;
	const struct maintenance_window *m;
	char *masked;

	(void)state;
	assert_int_equal(c->n_rules, 4);
	assert_int_equal(c->n_notifiers, 6);
	assert_int_equal(c->n_maintenance, 3);

	r = conf_find_rule(c, "down");
	assert_non_null(r);
	assert_int_equal(r->line, 7);
	assert_int_equal(r->n_selectors, 1);
	assert_string_equal(r->selectors[0], "*");
	assert_string_equal(r->when_text, "consecutive_failures >= 3");
	assert_non_null(r->when);
	assert_string_equal(r->recover_text, "consecutive_successes >= 2");
	assert_non_null(r->recover);
	assert_int_equal(r->severity, SEVERITY_CRITICAL);
	assert_int_equal(r->n_notify, 2);
	assert_string_equal(r->notify[0], "oncall");
	assert_string_equal(r->notify[1], "ops-slack");
	assert_int_equal(r->repeat_ms, 4 * 3600 * 1000);
	assert_int_equal(r->for_ms, 0);
	assert_int_equal(r->min_locations, 2);
	r = conf_find_rule(c, "slow");
	assert_int_equal(r->for_ms, 120000);
	assert_int_equal(r->repeat_ms, 0);
	assert_int_equal(r->min_locations, 1);     /* the default */
	assert_int_equal(r->severity, SEVERITY_WARNING);
	assert_null(r->recover_text);
	assert_null(r->recover);       /* the engine uses not (when) */
	r = conf_find_rule(c, "errors");
	assert_int_equal(r->n_selectors, 2);
	assert_string_equal(r->selectors[1], "sync");
	assert_int_equal(r->n_notify, 1);
	assert_string_equal(r->notify[0], "audit");
	assert_int_equal(r->severity, SEVERITY_WARNING);
	/* selectors that select nothing yet are warnings, not errors */
	r = conf_find_rule(c, "later");
	assert_int_equal(r->n_selectors, 2);
	assert_int_equal(r->n_notify, 0);
	assert_null(conf_find_rule(c, "nope"));
	assert_null(conf_find_rule(c, NULL));

	n = conf_find_notifier(c, "ops-slack");
	assert_string_equal(n->type->name, "slack");
	assert_int_equal(n->line, 17);
	assert_string_equal(notifier_get(n, "url"), "https://hooks.slack.com/services/T0/B0/slack-secret-1");
	assert_true(n->rate_per_s == 1.0);
	assert_int_equal(n->max_attempts, 12);
	assert_int_equal(n->max_age_ms, 24ull * 3600 * 1000);
	assert_int_equal(n->timeout_ms, 10000);
	n = conf_find_notifier(c, "oncall");
	assert_string_equal(n->type->name, "pagerduty");
	assert_string_equal(notifier_get(n, "url"), "https://events.pagerduty.com/v2/enqueue");
	assert_string_equal(notifier_get(n, "routing_key"), "pd-routing-key-2");
	assert_true(n->rate_per_s == 2.0);
	n = conf_find_notifier(c, "pd-test");
	assert_string_equal(notifier_get(n, "url"), "http://127.0.0.1:9/enqueue");
	assert_int_equal(n->max_attempts, 3);
	assert_int_equal(n->max_age_ms, 3600 * 1000);
	assert_int_equal(n->timeout_ms, 2000);
	assert_true(n->rate_per_s == 0.5);
	n = conf_find_notifier(c, "audit");
	assert_string_equal(n->type->name, "webhook");
	assert_string_equal(notifier_get(n, "secret"), "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
	assert_true(n->rate_per_s == 25.0);
	n = conf_find_notifier(c, "am");
	assert_string_equal(n->type->name, "alertmanager");
	assert_string_equal(notifier_get(n, "url"), "http://127.0.0.1:9093");      /* a base: no trailing slash */
	assert_true(n->rate_per_s == 10.0);
	assert_null(conf_find_notifier(c, "nope"));
	assert_null(conf_find_notifier(NULL, "am"));

	m = &c->maintenance[0];
	assert_int_equal(m->line, 27);
	assert_int_equal(m->n_selectors, 1);
	assert_string_equal(m->selectors[0], "payments-*");
	assert_int_equal(m->start_us, 1796090400ll * 1000000);
	assert_int_equal(m->weekly_day, -1);
	assert_int_equal(m->duration_ms, 2 * 3600 * 1000);
	assert_null(m->timezone);
	m = &c->maintenance[1];
	assert_int_equal(m->start_us, 0);
	assert_int_equal(m->weekly_day, 0);
	assert_int_equal(m->weekly_minute, 60);
	assert_int_equal(m->duration_ms, 90 * 60 * 1000);
	assert_int_equal(m->n_selectors, 2);
	m = &c->maintenance[2];
	assert_int_equal(m->weekly_day, 5);
	assert_int_equal(m->weekly_minute, 23 * 60 + 59);
	assert_string_equal(m->timezone, "Europe/Berlin");

	/* secrets: routing keys, the webhook secret, slack and webhook URLs;
	 * an alertmanager URL is not one */
	masked = log_mask_secrets("pd-routing-key-2 pd-routing-key-3 whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw "
	                          "https://hooks.slack.com/services/T0/B0/slack-secret-1 "
	                          "https://hooks.example.com/pharos-secret-4 http://127.0.0.1:9093");
	assert_string_equal(masked, "*** *** *** *** *** http://127.0.0.1:9093");
	free(masked);
	conf_unref(c);
	log_secret_clear();
}

static void test_selector_matches(void **state)
{
	struct check a, b;

	(void)state;
	check_init(&a);
	check_init(&b);
	a.name = xstrdup("payments-api");
	a.group = xstrdup("Payments");
	b.group = xstrdup("");      /* no name: matches nothing */
	assert_true(conf_selector_matches("*", &a));
	assert_true(conf_selector_matches("payments-api", &a));
	assert_false(conf_selector_matches("payments", &a));
	assert_true(conf_selector_matches("payments-*", &a));
	assert_true(conf_selector_matches("pay?ents-[a-c]pi", &a));
	assert_false(conf_selector_matches("db-*", &a));
	assert_true(conf_selector_matches("group:Payments", &a));
	assert_false(conf_selector_matches("group:payments", &a));
	assert_false(conf_selector_matches("group:", &a));
	assert_false(conf_selector_matches("*", &b));
	assert_false(conf_selector_matches(NULL, &a));
	assert_false(conf_selector_matches("*", NULL));
	check_clear(&a);
	check_clear(&b);
}

#define NOTIF(body) "notifiers = (\n  { name = \"n\"; " body " }\n);\n"
#define RULE(body) "checks = ( { name = \"db\"; type = \"tcp\"; host = \"h\"; port = 1; } );\n" \
	"notifiers = ( { name = \"ops-slack\"; type = \"slack\"; url = \"http://127.0.0.1:9/s\"; } );\n" \
	"alerts = (\n  { name = \"r\"; " body " }\n);\n"
#define MW(body) "checks = ( { name = \"db\"; type = \"tcp\"; host = \"h\"; port = 1; group = \"G\"; } );\n" \
	"maintenance = (\n  { " body " }\n);\n"
#define STEPS(body) "checks = (\n  { name = \"c\"; type = \"http\"; steps = (\n" body "\n  ); }\n);\n"

static const struct error_case new_error_cases[] = {
	/* tls */
	{ CHK("type = \"tls\";"), "t.conf:2: missing required setting \"host\" in check \"c\" (host = \"example.com\")" },
	{ CHK("type = \"tls\"; host = \"h\"; port = 0;"), "t.conf:2: \"port\" in check \"c\" must be from 1 to 65535 (got 0)" },
	{ CHK("type = \"tls\"; host = \"h:443\";"),
	  "t.conf:2: \"host\" in check \"c\" must be a host name or an IP address without brackets or port (got \"h:443\")" },
	{ CHK("type = \"tls\"; host = \"h\"; server_name = \"a b\";"),
	  "t.conf:2: \"server_name\" in check \"c\" must be a host name or an IP address without brackets or port (got \"a b\")" },
	{ CHK("type = \"tls\"; host = \"h\"; ca_file = \"/nonexistent/ca.pem\";"),
	  "t.conf:2: \"ca_file\" in check \"c\": cannot read \"/nonexistent/ca.pem\": No such file or directory" },
	{ CHK("type = \"tls\"; host = \"h\"; insecure = 1;"), "t.conf:2: \"insecure\" in check \"c\" must be true or false (got an integer)" },
	{ CHK("type = \"tls\"; host = \"h\"; expect = { max_loss = \"5%\"; };"),
	  "t.conf:2: setting \"max_loss\" in expect of check \"c\" does not apply to check type \"tls\" (it is a setting of \"icmp\" checks)" },
	{ CHK("type = \"tls\"; host = \"h\"; expect = { cert_min_days = 4000; };"),
	  "t.conf:2: \"cert_min_days\" in expect of check \"c\" must be from 0 to 3650 (got 4000)" },
	{ CHK("type = \"http\"; url = \"https://h/\"; server_name = \"x\";"),
	  "t.conf:2: setting \"server_name\" in check \"c\" does not apply to check type \"http\" (it is a setting of \"tls\" checks)" },
	{ CHK("type = \"http\"; url = \"https://h/\"; host = \"x\";"),
	  "t.conf:2: setting \"host\" in check \"c\" does not apply to check type \"http\" (it is a setting of \"tcp\", \"tls\" and \"icmp\" checks)" },
	/* icmp */
	{ CHK("type = \"icmp\"; host = \"h\"; count = 0;"), "t.conf:2: \"count\" in check \"c\" must be from 1 to 100 (got 0)" },
	{ CHK("type = \"icmp\"; host = \"h\"; count = 101;"), "t.conf:2: \"count\" in check \"c\" must be from 1 to 100 (got 101)" },
	{ CHK("type = \"icmp\"; host = \"h\"; spacing = \"0\";"), "t.conf:2: \"spacing\" in check \"c\" must be greater than 0" },
	{ "checks = (\n  { name = \"c\"; type = \"icmp\"; host = \"h\"; count = 10;\n    spacing = \"2s\"; }\n);\n",
	  "t.conf:3: 10 echoes \"2s\" apart in check \"c\" do not fit in timeout \"10s\" (lower count or spacing, or raise timeout)" },
	{ CHK("type = \"icmp\"; host = \"h\"; port = 1;"),
	  "t.conf:2: setting \"port\" in check \"c\" does not apply to check type \"icmp\" (it is a setting of \"tcp\" and \"tls\" checks)" },
	{ CHK("type = \"icmp\"; host = \"h\"; expect = { max_loss = \"20\"; };"),
	  "t.conf:2: \"max_loss\" in expect of check \"c\" must be a percentage like \"20%\" (got \"20\")" },
	{ CHK("type = \"icmp\"; host = \"h\"; expect = { max_loss = \"150%\"; };"),
	  "t.conf:2: \"max_loss\" in expect of check \"c\" must be from 0% to 100%" },
	{ CHK("type = \"icmp\"; host = \"h\"; expect = { max_loss = -1; };"),
	  "t.conf:2: \"max_loss\" in expect of check \"c\" must be from 0% to 100%" },
	{ CHK("type = \"icmp\"; host = \"h\"; expect = { max_loss = true; };"),
	  "t.conf:2: \"max_loss\" in expect of check \"c\" must be a percentage like \"20%\" or a number from 0 to 100 (got a boolean)" },
	{ CHK("type = \"icmp\"; host = \"h\"; expect = { cert_min_days = 3; };"),
	  "t.conf:2: setting \"cert_min_days\" in expect of check \"c\" does not apply to check type \"icmp\" (it is a setting of \"http\" and \"tls\" checks)" },
	/* heartbeat */
	{ CHK("type = \"heartbeat\"; grace = \"1h\";"),
	  "t.conf:2: missing required setting \"token\" in check \"c\" (token = \"${env:SYNC_TOKEN}\")" },
	{ CHK("type = \"heartbeat\"; token = \"\";"), "t.conf:2: \"token\" in check \"c\" must not be empty" },
	{ CHK("type = \"heartbeat\"; token = \"two words\";"),
	  "t.conf:2: \"token\" in check \"c\" must be printable ASCII without spaces (the value is not shown)" },
	{ CHK("type = \"heartbeat\"; token = \"t-12345\"; grace = \"soon\";"),
	  "t.conf:2: \"grace\" in check \"c\" is not a duration: \"soon\" (write a whole number and a unit: \"250ms\", \"30s\", \"5m\", \"4h\", \"7d\")" },
	{ CHK("type = \"heartbeat\"; token = \"t-12345\"; timeout = \"1s\";"),
	  "t.conf:2: \"timeout\" in check \"c\" does not apply to heartbeat checks (nothing is probed: a ping is due every interval, plus grace)" },
	{ CHK("type = \"heartbeat\"; token = \"t-12345\"; retries = 2;"),
	  "t.conf:2: \"retries\" in check \"c\" does not apply to heartbeat checks (nothing is probed: a ping is due every interval, plus grace)" },
	{ CHK("type = \"heartbeat\"; token = \"t-12345\"; expect = { max_latency = \"1s\"; };"),
	  "t.conf:2: setting \"max_latency\" in expect of check \"c\" does not apply to check type \"heartbeat\" (it is a setting of \"http\", \"tcp\", \"dns\", \"tls\" and \"icmp\" checks)" },
	{ CHK("type = \"heartbeat\"; token = \"t-12345\"; url = \"http://h/\";"),
	  "t.conf:2: setting \"url\" in check \"c\" does not apply to check type \"heartbeat\" (it is a setting of \"http\" checks)" },
	/* multi-step http */
	{ CHK("type = \"http\"; url = \"http://h/\"; steps = ( { url = \"http://h/a\"; } );"),
	  "t.conf:2: \"url\" in check \"c\" cannot be used together with \"steps\": each step sets its own (steps inherit nothing)" },
	{ CHK("type = \"http\"; headers = [\"A: b\"]; steps = ( { url = \"http://h/a\"; } );"),
	  "t.conf:2: \"headers\" in check \"c\" cannot be used together with \"steps\": each step sets its own (steps inherit nothing)" },
	{ CHK("type = \"http\"; expect = { status = 200; }; steps = ( { url = \"http://h/a\"; } );"),
	  "t.conf:2: \"expect\" in check \"c\" cannot be used together with \"steps\": each step has its own expect" },
	{ CHK("type = \"http\"; steps = ();"),
	  "t.conf:2: \"steps\" in check \"c\" must not be empty (leave it out for a single request)" },
	{ CHK("type = \"http\"; steps = { url = \"http://h/\"; };"),
	  "t.conf:2: \"steps\" in check \"c\" must be a list of groups like ( { name = \"login\"; url = \"https://...\"; }, ... ) (got a group { ... })" },
	{ CHK("type = \"tcp\"; host = \"h\"; port = 1; steps = ( { url = \"http://h/a\"; } );"),
	  "t.conf:2: setting \"steps\" in check \"c\" does not apply to check type \"tcp\" (it is a setting of \"http\" checks)" },
	{ CHK("type = \"http\"; url = \"http://h/\"; extract = { a = \"$.a\"; };"),
	  "t.conf:2: setting \"extract\" in check \"c\" belongs inside a step of steps = ( ... )" },
	{ STEPS("    { name = \"a\"; url = \"http://h/\"; },\n    { name = \"b\"; method = \"POST\"; }"),
	  "t.conf:4: missing required setting \"url\" in step \"b\" of check \"c\" (url = \"https://...\")" },
	{ STEPS("    { url = \"http://h/\"; interval = \"5s\"; }"),
	  "t.conf:3: setting \"interval\" in step 1 of check \"c\" belongs to the check, not to one of its steps" },
	{ STEPS("    { url = \"http://h/\"; steps = ( { url = \"http://h/\"; } ); }"),
	  "t.conf:3: \"steps\" in step 1 of check \"c\" cannot be nested (a step is one request)" },
	{ STEPS("    { url = \"http://h/\"; expect = { status = 99; }; }"),
	  "t.conf:3: \"status\" in expect of step 1 of check \"c\" must be a status code from 100 to 599 (got 99)" },
	{ STEPS("    { url = \"http://h/\"; expect = { cert_min_days = 3; }; }"),
	  "t.conf:3: \"cert_min_days\" in expect of step 1 of check \"c\" needs an https:// url" },
	{ STEPS("    { url = \"http://h/\"; expect = { banner_regex = \"x\"; }; }"),
	  "t.conf:3: setting \"banner_regex\" in expect of step 1 of check \"c\" does not apply to check type \"http\" (it is a setting of \"tcp\" checks)" },
	{ STEPS("    { url = \"ftp://h/\"; }"),
	  "t.conf:3: \"url\" in step 1 of check \"c\" is not a valid URL: it must start with http:// or https:// (got \"ftp://h/\")" },
	{ STEPS("    { name = \"a\"; url = \"http://h/\"; },\n    { name = \"a\"; url = \"http://h/\"; }"),
	  "t.conf:4: duplicate step name \"a\" in check \"c\" (first defined on line 3)" },
	{ STEPS("    { name = \"a b\"; url = \"http://h/\"; }"),
	  "t.conf:3: \"name\" of step 1 in check \"c\" must be 1 to 64 characters from A-Z a-z 0-9 _ . - (got \"a b\")" },
	{ STEPS("    5"), "t.conf:3: step 1 of check \"c\" must be a group { url = ...; } (got an integer)" },
	{ STEPS("    { url = \"http://h/\"; extract = { s = \"header:\"; }; }"),
	  "t.conf:3: \"s\" in extract of step 1 of check \"c\" must name a response header like \"header:Set-Cookie\" (got \"header:\")" },
	{ STEPS("    { url = \"http://h/\"; extract = [ \"$.a\" ]; }"),
	  "t.conf:3: \"extract\" in step 1 of check \"c\" must be a group like { token = \"$.token\"; session = \"header:Set-Cookie\"; } (got an array [ ... ])" },
	{ STEPS("    { url = \"http://h/\"; extract = { }; }"),
	  "t.conf:3: \"extract\" in step 1 of check \"c\" must not be empty (leave it out instead)" },
	/* ${var:NAME}: only in a step's url, headers and body, after an extract */
	{ STEPS("    { name = \"login\"; url = \"http://h/login\"; extract = { token = \"$.token\"; }; },\n"
	        "    { name = \"call\"; url = \"http://h/x\";\n"
	        "      headers = [ \"Accept: */*\", \"Authorization: Bearer ${var:tokn}\" ]; }"),
	  "t.conf:5: \"headers\" entry 2 in step \"call\" of check \"c\" uses ${var:tokn}, which no earlier step extracts (did you mean ${var:token}?)" },
	{ STEPS("    { name = \"login\"; url = \"http://h/${var:token}\"; extract = { token = \"$.token\"; }; }"),
	  "t.conf:3: \"url\" in step \"login\" of check \"c\" uses ${var:token}, which no earlier step extracts (extract = { token = \"$.path\"; } in a step before this one)" },
	{ STEPS("    { url = \"http://h/\"; extract = { a = \"$.a\"; }; },\n    { url = \"http://h/\";\n      body = \"${var:}\"; }"),
	  "t.conf:5: \"body\" in step 2 of check \"c\" has an empty ${var:NAME}" },
	{ STEPS("    { url = \"http://h/\"; extract = { a = \"$.a\"; }; },\n    { url = \"http://h/\"; expect = { body_contains = \"${var:a}\"; }; }"),
	  "t.conf:4: \"body_contains\" in expect of step 2 of check \"c\" uses ${var:...}, which only the url, headers and body of a step in steps = ( ... ) can use" },
	{ CHK("type = \"http\"; url = \"http://h/${var:a}\";"),
	  "t.conf:2: \"url\" in check \"c\" uses ${var:...}, which only the url, headers and body of a step in steps = ( ... ) can use" },
	/* depends_on */
	{ "checks = (\n  { name = \"gateway\"; type = \"icmp\"; host = \"h\"; },\n"
	  "  { name = \"c\"; type = \"icmp\"; host = \"h\";\n    depends_on = [\"gatewy\"]; }\n);\n",
	  "t.conf:4: \"depends_on\" entry 1 in check \"c\" names an unknown check \"gatewy\" (did you mean \"gateway\"?)" },
	{ CHK("type = \"icmp\"; host = \"h\"; depends_on = \"c\";"), "t.conf:2: \"depends_on\" in check \"c\" names the check itself" },
	{ "checks = (\n  { name = \"g\"; type = \"icmp\"; host = \"h\"; },\n"
	  "  { name = \"c\"; type = \"icmp\"; host = \"h\"; depends_on = [\"g\", \"g\"]; }\n);\n",
	  "t.conf:3: \"depends_on\" entry 2 in check \"c\" names \"g\" twice" },
	{ CHK("type = \"icmp\"; host = \"h\"; depends_on = [];"),
	  "t.conf:2: \"depends_on\" in check \"c\" must not be empty (leave it out instead)" },
	{ CHK("type = \"icmp\"; host = \"h\"; depends_on = [\"a b\"];"),
	  "t.conf:2: \"depends_on\" entry 1 in check \"c\" must be a check name (got \"a b\")" },
	{ "checks = (\n"
	  "  { name = \"a\"; type = \"icmp\"; host = \"h\";\n"
	  "    depends_on = [\"b\"]; },\n"
	  "  { name = \"b\"; type = \"icmp\"; host = \"h\"; depends_on = \"a\"; }\n);\n",
	  "t.conf:3: dependency cycle: a -> b -> a" },
	{ "checks = (\n"
	  "  { name = \"root\"; type = \"icmp\"; host = \"h\"; depends_on = \"x\"; },\n"
	  "  { name = \"x\"; type = \"icmp\"; host = \"h\"; depends_on = \"y\"; },\n"
	  "  { name = \"y\"; type = \"icmp\"; host = \"h\"; depends_on = [\"ok\", \"z\"]; },\n"
	  "  { name = \"ok\"; type = \"icmp\"; host = \"h\"; },\n"
	  "  { name = \"z\"; type = \"icmp\"; host = \"h\"; depends_on = \"x\"; }\n);\n",
	  "t.conf:3: dependency cycle: x -> y -> z -> x" },
	/* alert rules */
	{ RULE("checks = \"db\";"),
	  "t.conf:4: missing required setting \"when\" in rule \"r\" (when = \"consecutive_failures >= 3\")" },
	{ RULE("when = \"consecutive_failures >= 3\";"),
	  "t.conf:4: missing required setting \"checks\" in rule \"r\" (checks = \"*\")" },
	{ "alerts = (\n  { checks = \"*\"; when = \"consecutive_failures >= 3\"; }\n);\n",
	  "t.conf:2: missing required setting \"name\" in rule #1" },
	{ "alerts = (\n  { name = \"r\"; checks = \"*\"; when = \"consecutive_failures >= 3\"; },\n"
	  "  { name = \"r\"; checks = \"*\"; when = \"consecutive_failures >= 3\"; }\n);\n",
	  "t.conf:3: duplicate rule name \"r\" (first defined on line 2)" },
	{ "alerts = (\n  5\n);\n", "t.conf:2: rule #1 must be a group { name = ...; checks = ...; when = ...; } (got an integer)" },
	{ RULE("checks = \"db\"; when = \"consecutive_failures >= 3\"; sevrity = \"info\";"),
	  "t.conf:4: unknown setting \"sevrity\" in rule \"r\" (did you mean \"severity\"?)" },
	{ RULE("checks = \"db\"; when = \"consecutive_failures >= 3\"; severity = \"critcal\";"),
	  "t.conf:4: \"severity\" in rule \"r\" must be one of critical, error, warning, info (got \"critcal\"; did you mean \"critical\"?)" },
	{ RULE("checks = \"db\"; when = \"consecutive_failures >= 3\"; severity = \"page\";"),
	  "t.conf:4: \"severity\" in rule \"r\" must be one of critical, error, warning, info (got \"page\")" },
	{ RULE("checks = \"db\"; when = \"consecutive_failures >= 3\"; repeat = \"0\";"),
	  "t.conf:4: \"repeat\" in rule \"r\" must be greater than 0" },
	{ RULE("checks = \"db\"; when = \"consecutive_failures >= 3\"; min_locations = 0;"),
	  "t.conf:4: \"min_locations\" in rule \"r\" must be from 1 to 1000 (got 0)" },
	{ RULE("checks = \"db\"; when = \"consecutive_failures >= 3\"; for = \"2 min\";"),
	  "t.conf:4: \"for\" in rule \"r\" is not a duration: \"2 min\" (write a whole number and a unit: \"250ms\", \"30s\", \"5m\", \"4h\", \"7d\")" },
	{ RULE("checks = \"dbb\"; when = \"consecutive_failures >= 3\";"),
	  "t.conf:4: \"checks\" in rule \"r\" names an unknown check \"dbb\" (did you mean \"db\"?)" },
	{ RULE("checks = [\"*\", \"zzzz\"]; when = \"consecutive_failures >= 3\";"),
	  "t.conf:4: \"checks\" entry 2 in rule \"r\" names an unknown check \"zzzz\"" },
	{ RULE("checks = \"a b\"; when = \"consecutive_failures >= 3\";"),
	  "t.conf:4: \"checks\" in rule \"r\" must be a check name, a glob like \"payments-*\", \"group:NAME\" or \"*\" (got \"a b\")" },
	{ RULE("checks = \"group:\"; when = \"consecutive_failures >= 3\";"),
	  "t.conf:4: \"checks\" in rule \"r\" has \"group:\" without a group name" },
	{ RULE("checks = []; when = \"consecutive_failures >= 3\";"),
	  "t.conf:4: \"checks\" in rule \"r\" must not be empty (\"*\" selects every check)" },
	{ RULE("checks = \"db\"; when = \"consecutive_failures >= 3\"; notify = [\"ops-slak\"];"),
	  "t.conf:4: \"notify\" entry 1 in rule \"r\" names an unknown notifier \"ops-slak\" (did you mean \"ops-slack\"?)" },
	{ RULE("checks = \"db\"; when = \"consecutive_failures >= 3\"; notify = \"pager\";"),
	  "t.conf:4: \"notify\" in rule \"r\" names an unknown notifier \"pager\"" },
	{ "alerts = (\n  { name = \"r\"; checks = \"*\"; when = \"consecutive_failures >= 3\"; notify = \"x\"; }\n);\n",
	  "t.conf:2: \"notify\" in rule \"r\" names an unknown notifier \"x\" (no notifiers = ( ... ) are defined)" },
	{ RULE("checks = \"db\"; when = \"consecutive_failures >= 3\"; notify = [\"ops-slack\", \"ops-slack\"];"),
	  "t.conf:4: \"notify\" entry 2 in rule \"r\" names notifier \"ops-slack\" twice" },
	{ RULE("checks = \"db\"; when = \"consecutive_failures >= 3\"; notify = [];"),
	  "t.conf:4: \"notify\" in rule \"r\" must not be empty (leave it out instead)" },
	/* notifiers */
	{ NOTIF("url = \"http://h/\";"),
	  "t.conf:2: missing required setting \"type\" in notifier \"n\" (one of: slack, pagerduty, webhook, alertmanager, teams, discord, opsgenie, ntfy, email)" },
	{ NOTIF("type = \"slak\"; url = \"http://h/\";"),
	  "t.conf:2: unknown notifier type \"slak\" in notifier \"n\" (did you mean \"slack\"? supported: slack, pagerduty, webhook, alertmanager, teams, discord, opsgenie, ntfy, email)" },
	{ NOTIF("type = \"slack\";"),
	  "t.conf:2: missing required setting \"url\" in notifier \"n\" (url = \"https://hooks.slack.com/services/...\")" },
	{ NOTIF("type = \"pagerduty\";"),
	  "t.conf:2: missing required setting \"routing_key\" in notifier \"n\" (routing_key = \"${file:/etc/pharos/pd.key}\")" },
	{ NOTIF("type = \"alertmanager\";"),
	  "t.conf:2: missing required setting \"url\" in notifier \"n\" (url = \"http://127.0.0.1:9093\")" },
	{ NOTIF("type = \"slack\"; url = \"http://h/\"; routing_key = \"k\";"),
	  "t.conf:2: setting \"routing_key\" in notifier \"n\" does not apply to notifier type \"slack\" (it is a setting of \"pagerduty\" notifiers)" },
	{ NOTIF("type = \"pagerduty\"; routing_key = \"k\"; secret = \"s\";"),
	  "t.conf:2: setting \"secret\" in notifier \"n\" does not apply to notifier type \"pagerduty\" (it is a setting of \"webhook\" notifiers)" },
	{ NOTIF("type = \"slack\"; url = \"ftp://hooks/x\";"),
	  "t.conf:2: \"url\" in notifier \"n\" is not a valid URL: it must start with http:// or https:// (not shown: a slack URL is a secret)" },
	{ NOTIF("type = \"alertmanager\"; url = \"am:9093\";"),
	  "t.conf:2: \"url\" in notifier \"n\" is not a valid URL: it must start with http:// or https:// (got \"am:9093\")" },
	{ NOTIF("type = \"webhook\"; url = \"http://h/\"; secret = \"whsec_MTIzNDU2Nzg5MDEyMzQ1Ng==\";"),
	  "t.conf:2: \"secret\" in notifier \"n\" must be \"whsec_\" followed by the base64 of a 24 to 64 byte key, as Standard Webhooks specifies (the value is not shown)" },
	{ NOTIF("type = \"webhook\"; url = \"http://h/\"; max_attempts = 0;"),
	  "t.conf:2: \"max_attempts\" in notifier \"n\" must be from 1 to 100 (got 0)" },
	{ NOTIF("type = \"webhook\"; url = \"http://h/\"; max_attempts = 101;"),
	  "t.conf:2: \"max_attempts\" in notifier \"n\" must be from 1 to 100 (got 101)" },
	{ NOTIF("type = \"webhook\"; url = \"http://h/\"; max_age = \"forever\";"),
	  "t.conf:2: \"max_age\" in notifier \"n\" is not a duration: \"forever\" (write a whole number and a unit: \"250ms\", \"30s\", \"5m\", \"4h\", \"7d\")" },
	{ NOTIF("type = \"webhook\"; url = \"http://h/\"; rate = 0;"),
	  "t.conf:2: \"rate\" in notifier \"n\" must be from 0.001 to 1000 notifications per second (got 0)" },
	{ NOTIF("type = \"webhook\"; url = \"http://h/\"; rate = \"1/s\";"),
	  "t.conf:2: \"rate\" in notifier \"n\" must be a number of notifications per second like 2 or 0.5 (got a string)" },
	{ NOTIF("type = \"webhook\"; url = \"http://h/\"; max_atempts = 3;"),
	  "t.conf:2: unknown setting \"max_atempts\" in notifier \"n\" (did you mean \"max_attempts\"?)" },
	{ "notifiers = (\n  { name = \"n\"; type = \"webhook\"; url = \"http://h/\"; },\n"
	  "  { name = \"n\"; type = \"webhook\"; url = \"http://h/\"; }\n);\n",
	  "t.conf:3: duplicate notifier name \"n\" (first defined on line 2)" },
	/* maintenance */
	{ MW("checks = \"db\"; duration = \"1h\";"),
	  "t.conf:3: maintenance window #1 needs \"start\" (one-off, like start = \"2026-12-01T02:00:00Z\") or \"weekly\" (like weekly = \"Sun 01:00\")" },
	{ MW("checks = \"db\"; duration = \"1h\"; start = \"2026-12-01T02:00:00Z\"; weekly = \"Sun 01:00\";"),
	  "t.conf:3: \"start\" and \"weekly\" in maintenance window #1 exclude each other (a window is either one-off or weekly)" },
	{ MW("checks = \"db\"; start = \"2026-12-01T02:00:00Z\";"),
	  "t.conf:3: missing required setting \"duration\" in maintenance window #1 (duration = \"2h\")" },
	{ MW("start = \"2026-12-01T02:00:00Z\"; duration = \"1h\";"),
	  "t.conf:3: missing required setting \"checks\" in maintenance window #1 (checks = \"payments-*\")" },
	{ MW("checks = \"db\"; start = \"2026-13-01 02:00\"; duration = \"1h\";"),
	  "t.conf:3: \"start\" in maintenance window #1 must be an RFC 3339 time like \"2026-12-01T02:00:00Z\" (got \"2026-13-01 02:00\")" },
	{ MW("checks = \"db\"; weekly = \"Sonntag 01:00\"; duration = \"1h\";"),
	  "t.conf:3: \"weekly\" in maintenance window #1 must be a day (Mon, Tue, Wed, Thu, Fri, Sat, Sun) and a 24-hour time, like \"Sun 01:00\" (got \"Sonntag 01:00\")" },
	{ MW("checks = \"db\"; weekly = \"Sun 24:00\"; duration = \"1h\";"),
	  "t.conf:3: \"weekly\" in maintenance window #1 must be a day (Mon, Tue, Wed, Thu, Fri, Sat, Sun) and a 24-hour time, like \"Sun 01:00\" (got \"Sun 24:00\")" },
	{ MW("checks = \"db\"; weekly = \"Sun 1\"; duration = \"1h\";"),
	  "t.conf:3: \"weekly\" in maintenance window #1 must be a day (Mon, Tue, Wed, Thu, Fri, Sat, Sun) and a 24-hour time, like \"Sun 01:00\" (got \"Sun 1\")" },
	{ MW("checks = \"db\"; weekly = \"Sun 01:00\"; duration = \"8d\";"),
	  "t.conf:3: \"duration\" in maintenance window #1 must be at most 7d for a weekly window" },
	{ MW("checks = \"db\"; weekly = \"Sun 01:00\"; duration = \"1h\"; timezone = \"Mars/Olympus\";"),
	  "t.conf:3: \"timezone\" in maintenance window #1 is not a known IANA time zone like \"Europe/Berlin\" or \"UTC\" (got \"Mars/Olympus\")" },
	{ MW("checks = \"db\"; weekly = \"Sun 01:00\"; duration = \"1h\"; timezone = \"../../../etc/passwd\";"),
	  "t.conf:3: \"timezone\" in maintenance window #1 is not a known IANA time zone like \"Europe/Berlin\" or \"UTC\" (got \"../../../etc/passwd\")" },
	{ MW("checks = \"db\"; weekly = \"Sun 01:00\"; duration = \"1h\"; timezone = \"Europe\";"),
	  "t.conf:3: \"timezone\" in maintenance window #1 is not a known IANA time zone like \"Europe/Berlin\" or \"UTC\" (got \"Europe\")" },
	{ MW("checks = \"db\"; start = \"2026-12-01T02:00:00Z\"; duration = \"1h\"; timezone = \"UTC\";"),
	  "t.conf:3: \"timezone\" in maintenance window #1 applies to weekly windows only (give \"start\" an offset instead, like \"2026-12-01T02:00:00+01:00\")" },
	{ MW("checks = [\"db\", \"dc\"]; start = \"2026-12-01T02:00:00Z\"; duration = \"1h\";"),
	  "t.conf:3: \"checks\" entry 2 in maintenance window #1 names an unknown check \"dc\" (did you mean \"db\"?)" },
	{ MW("checks = \"db\"; start = \"2026-12-01T02:00:00Z\"; duration = \"1h\"; end = \"x\";"),
	  "t.conf:3: unknown setting \"end\" in maintenance window #1" },
};

static void test_new_error_kinds(void **state)
{
	size_t failed = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(new_error_cases) / sizeof(new_error_cases[0]); i++)
		failed += !one_error(new_error_cases[i].text, new_error_cases[i].want);
	assert_int_equal(failed, 0);
	log_secret_clear();
}

/* The message and column are expr_parse()'s own, at the setting's line. */
static void test_expression_errors(void **state)
{
	static const char *const exprs[] = {
		"consecutive_failures >= ", "p95_latency(5m) > 800", "error_rate(10m) > 5% and",
		"bogus > 1", "(consecutive_failures > 1",
	};
	char msg[256], *text, *want;
	int col;

	(void)state;
	for (size_t i = 0; i < sizeof(exprs) / sizeof(exprs[0]); i++) {
		msg[0] = '\0';
		col = 0;
		assert_null(expr_parse(exprs[i], msg, sizeof(msg), &col));
		assert_true(col > 0);
		text = xasprintf("alerts = (\n  { name = \"down\"; checks = \"*\";\n    when = \"%s\"; }\n);\n", exprs[i]);
		want = xasprintf("t.conf:3: rule \"down\": when: column %d: %s", col, msg);
		expect_one(text, want);
		free(text);
		free(want);
		text = xasprintf("alerts = (\n  { name = \"down\"; checks = \"*\"; when = \"consecutive_failures >= 3\";\n"
		                 "\n    recover = \"%s\"; }\n);\n", exprs[i]);
		want = xasprintf("t.conf:4: rule \"down\": recover: column %d: %s", col, msg);
		expect_one(text, want);
		free(text);
		free(want);
	}
	/* one spelled out, so a change in the format shows here */
	expect_one("alerts = (\n  { name = \"down\"; checks = \"*\"; when = \"consecutive_failures >= \"; }\n);\n",
	           "t.conf:2: rule \"down\": when: column 25: expected a value after >=, such as a plain number such as 3, found the end of the expression");
}

/* Routing keys, webhook secrets, Slack and webhook URLs and heartbeat tokens
 * never reach an error line, wherever the mistake is. */
static void test_new_secrets_not_in_errors(void **state)
{
	struct conf_errors e;

	(void)state;
	setenv("PHAROS_TEST_PD", "pdsecret-env-1", 1);
	load_bad("checks = (\n"
	         "  { name = \"hb\"; type = \"heartbeat\"; token = \"hbsecret 2\"; },\n"
	         "  { name = \"hb2\"; type = \"heartbeat\"; token = \"hbsecret-3\"; timeout = \"1s\"; },\n"
	         "  { name = \"w\"; type = \"http\"; url = \"http://hooks.example/slacksecret-4 x\"; }\n"
	         ");\n"
	         "notifiers = (\n"
	         "  { name = \"s\"; type = \"slack\"; url = \"http://hooks.example/slacksecret-4\"; max_attempts = 0; },\n"
	         "  { name = \"s2\"; type = \"slack\"; url = \"hooks.example/slacksecret-5\"; },\n"
	         "  { name = \"p\"; type = \"pagerduty\"; routing_key = \"${env:PHAROS_TEST_PD}\"; rate = -1; },\n"
	         "  { name = \"p2\"; type = \"pagerduty\"; routing_key = \"pdsecret-lit-6\"; bogus = 1; },\n"
	         "  { name = \"wh\"; type = \"webhook\"; url = \"http://h/whurlsecret-7 \"; secret = \"whsec_whsecret-8\"; },\n"
	         "  { name = \"wh2\"; type = \"webhook\"; url = \"http://h/x\"; secret = \"whsec_dGVzdA==secret-9\"; }\n"
	         ");\n"
	         "alerts = ( { name = \"r\"; checks = \"*\"; when = \"x\"; notify = [\"pdsecret-lit-6\"]; } );\n", &e);
	assert_true(e.n >= 9);
	assert_no_secret(&e, "hbsecret");
	assert_no_secret(&e, "slacksecret");
	assert_no_secret(&e, "pdsecret");
	assert_no_secret(&e, "whurlsecret");
	assert_no_secret(&e, "whsecret");
	assert_no_secret(&e, "secret-9");
	/* the mistakes are still reported, at their lines */
	assert_true(has_line(&e, "t.conf:2: \"token\" in check \"hb\" must be printable ASCII without spaces (the value is not shown)"));
	assert_true(has_line(&e, "t.conf:4: \"url\" in check \"w\" is not a valid URL: Bad path (got \"*** x\")"));
	assert_true(has_line(&e, "t.conf:8: \"url\" in notifier \"s2\" is not a valid URL: it must start with http:// or https:// (not shown: a slack URL is a secret)"));
	assert_true(has_line(&e, "t.conf:10: unknown setting \"bogus\" in notifier \"p2\""));
	conf_errors_free(&e);
	unsetenv("PHAROS_TEST_PD");
	log_secret_clear();
}

static void test_new_fingerprints(void **state)
{
	static const char *const variants[] = {
		"{ name = \"x\"; type = \"tls\"; host = \"h\"; }",
		"{ name = \"x\"; type = \"tls\"; host = \"h\"; port = 444; }",
		"{ name = \"x\"; type = \"tls\"; host = \"h\"; server_name = \"s\"; }",
		"{ name = \"x\"; type = \"tls\"; host = \"h\"; insecure = true; }",
		"{ name = \"x\"; type = \"icmp\"; host = \"h\"; }",
		"{ name = \"x\"; type = \"icmp\"; host = \"h\"; count = 4; }",
		"{ name = \"x\"; type = \"icmp\"; host = \"h\"; expect = { max_loss = \"10%\"; }; }",
		"{ name = \"x\"; type = \"icmp\"; host = \"h\"; expect = { max_loss = \"11%\"; }; }",
		"{ name = \"x\"; type = \"icmp\"; host = \"h\"; depends_on = \"y\"; }",
		"{ name = \"x\"; type = \"heartbeat\"; token = \"t-1234\"; }",
		"{ name = \"x\"; type = \"heartbeat\"; token = \"t-1234\"; grace = \"5m\"; }",
		"{ name = \"x\"; type = \"heartbeat\"; token = \"t-12345\"; }",
		"{ name = \"x\"; type = \"http\"; steps = ( { url = \"http://h/\"; } ); }",
		"{ name = \"x\"; type = \"http\"; steps = ( { url = \"http://h/\"; method = \"POST\"; } ); }",
		"{ name = \"x\"; type = \"http\"; steps = ( { url = \"http://h/\"; extract = { a = \"$.a\"; }; } ); }",
		"{ name = \"x\"; type = \"http\"; steps = ( { url = \"http://h/\"; extract = { a = \"$.b\"; }; } ); }",
		"{ name = \"x\"; type = \"http\"; steps = ( { url = \"http://h/\"; expect = { status = 201; }; } ); }",
		"{ name = \"x\"; type = \"http\"; steps = ( { url = \"http://h/\"; }, { url = \"http://h/\"; } ); }",
	};
	uint64_t fp[sizeof(variants) / sizeof(variants[0])];

	(void)state;
	for (size_t i = 0; i < sizeof(variants) / sizeof(variants[0]); i++) {
		char *text = xasprintf("checks = ( %s, { name = \"y\"; type = \"icmp\"; host = \"h\"; } );\n", variants[i]);

		fp[i] = fp_of(text, "x");
		assert_int_equal(fp[i], fp_of(text, "x"));
		for (size_t j = 0; j < i; j++)
			if (fp[j] == fp[i])
				fail_msg("variants %zu and %zu have the same fingerprint", j, i);
		free(text);
	}
	log_secret_clear();
}

/* A long chain is walked without recursion; a long cycle is named short. */
static void test_dependency_chain(void **state)
{
	char *text = xstrdup("checks = (\n");
	struct conf_errors e;
	struct conf *c;
	int n = 2000;

	(void)state;
	for (int i = 0; i < n; i++) {
		char *next = i + 1 < n ?
			xasprintf("%s  { name = \"c%d\"; type = \"icmp\"; host = \"h\"; depends_on = \"c%d\"; },\n", text, i, i + 1) :
			xasprintf("%s  { name = \"c%d\"; type = \"icmp\"; host = \"h\"; }\n);\n", text, i);

		free(text);
		text = next;
	}
	c = load_ok(text);
	assert_int_equal(c->n_checks, n);
	conf_unref(c);
	/* close the loop: the last one depends on the first */
	{
		char *p = strstr(text, "host = \"h\"; }\n);");
		char *next;

		assert_non_null(p);
		next = xasprintf("%.*shost = \"h\"; depends_on = \"c0\"; }\n);\n", (int)(p - text), text);
		free(text);
		text = next;
	}
	load_bad(text, &e);
	assert_int_equal(e.n, 1);
	assert_string_equal(e.lines[0], "t.conf:2: dependency cycle: c0 -> c1 -> c2 -> c3 -> c4 -> ... -> c1996 -> c1997 -> c1998 -> c1999 -> c0");
	conf_errors_free(&e);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_config),
		cmocka_unit_test(test_agent_defaults),
		cmocka_unit_test(test_http_defaults),
		cmocka_unit_test(test_max_body_forms),
		cmocka_unit_test(test_error_kinds),
		cmocka_unit_test(test_announcements),
		cmocka_unit_test(test_json_path_error),
		cmocka_unit_test(test_all_errors_together),
		cmocka_unit_test(test_too_many_errors),
		cmocka_unit_test(test_substitution),
		cmocka_unit_test(test_substitution_file_too_large),
		cmocka_unit_test(test_secrets_not_in_errors),
		cmocka_unit_test(test_secret_settings_registered),
		cmocka_unit_test(test_fingerprint),
		cmocka_unit_test(test_refs),
		cmocka_unit_test(test_default_path),
		cmocka_unit_test(test_load_file),
		cmocka_unit_test(test_check_names),
		cmocka_unit_test(test_check_types),
		cmocka_unit_test(test_alerts_notifiers_maintenance),
		cmocka_unit_test(test_selector_matches),
		cmocka_unit_test(test_new_error_kinds),
		cmocka_unit_test(test_expression_errors),
		cmocka_unit_test(test_new_secrets_not_in_errors),
		cmocka_unit_test(test_new_fingerprints),
		cmocka_unit_test(test_dependency_chain),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

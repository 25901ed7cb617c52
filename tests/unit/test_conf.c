/* test_conf.c — the config loader: valid configs of every check type, one
 * case per error kind with its exact line, all errors reported together,
 * "did you mean", ${env:}/${file:} substitution, defaults inheritance,
 * fingerprints, and secrets that never reach an error line. */
#include "unit.h"

#include <arpa/nameser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"
#include "util.h"

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
	  "t.conf:3: syntax error (look for a missing \";\", \"=\", quote or closing bracket here or on the line before)" },
	{ "a = [1,\n \"x\"];\n",
	  "t.conf:2: mismatched element type in array (an array [ ... ] holds values of one type; use a list ( ... ) to mix them, like ( 200, \"3xx\" ))" },
	{ "\n@include \"/etc/passwd\"\n",
	  "t.conf:2: @include is not supported by this version of pharos yet (keep the configuration in one file)" },
	/* sections */
	{ "agent = {};\n\nalerts = ();\n",
	  "t.conf:3: section \"alerts\" is not supported by this version of pharos yet" },
	{ "notifiers = ();\n", "t.conf:1: section \"notifiers\" is not supported by this version of pharos yet" },
	{ "maintenance = ();\n", "t.conf:1: section \"maintenance\" is not supported by this version of pharos yet" },
	{ "\nagnet = {};\n", "t.conf:2: unknown section \"agnet\" (did you mean \"agent\"?)" },
	{ "frobnicate = 1;\n", "t.conf:1: unknown section \"frobnicate\" (known: agent, defaults, checks)" },
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
	  "t.conf:2: missing required setting \"type\" in check \"x\" (one of: http, tcp, dns)" },
	{ CHK("type = \"tls\"; host = \"h\"; port = 443;"),
	  "t.conf:2: check type \"tls\" is not supported by this version of pharos yet (supported: http, tcp, dns)" },
	{ CHK("type = \"icmp\"; host = \"h\";"),
	  "t.conf:2: check type \"icmp\" is not supported by this version of pharos yet (supported: http, tcp, dns)" },
	{ CHK("type = \"heartbeat\"; grace = \"1h\";"),
	  "t.conf:2: check type \"heartbeat\" is not supported by this version of pharos yet (supported: http, tcp, dns)" },
	{ CHK("type = \"htp\"; url = \"http://h/\";"),
	  "t.conf:2: unknown check type \"htp\" in check \"c\" (did you mean \"http\"? supported: http, tcp, dns)" },
	{ CHK("type = \"pigeon\";"),
	  "t.conf:2: unknown check type \"pigeon\" in check \"c\" (supported: http, tcp, dns)" },
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
	{ CHK("type = \"http\"; url = \"http://h/\"; steps = ();"),
	  "t.conf:2: setting \"steps\" in check \"c\" is not supported by this version of pharos yet" },
	{ CHK("type = \"tcp\"; host = \"h\"; port = 1; depends_on = [\"x\"];"),
	  "t.conf:2: setting \"depends_on\" in check \"c\" is not supported by this version of pharos yet" },
	{ CHK("type = \"tcp\"; host = \"h\"; port = 1; interval = 30;"),
	  "t.conf:2: \"interval\" in check \"c\" must be a string (got an integer)" },
	{ CHK("type = \"tcp\"; host = \"h\"; port = 1; timeout = \"5 s\";"),
	  "t.conf:2: \"timeout\" in check \"c\" is not a duration: \"5 s\" (write a whole number and a unit: \"250ms\", \"30s\", \"5m\", \"4h\", \"7d\")" },
	{ CHK("type = \"tcp\"; host = \"h\"; port = 1; interval = \"0\";"),
	  "t.conf:2: \"interval\" in check \"c\" must be greater than 0" },
	{ "checks = (\n  { name = \"c\"; type = \"tcp\"; host = \"h\"; port = 1;\n    interval = \"5s\"; }\n);\n",
	  "t.conf:3: timeout \"10s\" (from defaults) is longer than interval \"5s\" in check \"c\" (a run must end before the next one starts)" },
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
	         "alerts = ();\n"                                          /* 4 */
	         "checks = (\n"                                            /* 5 */
	         "  { name = \"db\"; type = \"tcp\"; host = \"db\";\n"     /* 6 */
	         "    port = 70000; timout = \"5s\"; },\n"                 /* 7 */
	         "  { name = \"db\"; type = \"tls\"; },\n"                 /* 8 */
	         "  { name = \"w\"; type = \"http\"; url = \"x\"; }\n"     /* 9 */
	         ");\n", &e);
	if (e.n != 7)
		print_errors(&e);
	assert_int_equal(e.n, 7);
	/* sorted by line */
	assert_string_equal(e.lines[0], "t.conf:2: \"log_format\" in agent must be \"logfmt\" or \"json\" (got \"text\")");
	assert_string_equal(e.lines[1], "t.conf:4: section \"alerts\" is not supported by this version of pharos yet");
	assert_string_equal(e.lines[2], "t.conf:7: \"port\" in check \"db\" must be from 1 to 65535 (got 70000)");
	assert_string_equal(e.lines[3], "t.conf:7: unknown setting \"timout\" in check \"db\" (did you mean \"timeout\"?)");
	assert_true(has_line(&e, "t.conf:8: duplicate check name \"db\" (first defined on line 6)"));
	assert_true(has_line(&e, "t.conf:8: check type \"tls\" is not supported by this version of pharos yet (supported: http, tcp, dns)"));
	assert_string_equal(e.lines[6], "t.conf:9: \"url\" in check \"w\" is not a valid URL: it must start with http:// or https:// (got \"x\")");
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_config),
		cmocka_unit_test(test_agent_defaults),
		cmocka_unit_test(test_http_defaults),
		cmocka_unit_test(test_max_body_forms),
		cmocka_unit_test(test_error_kinds),
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* main.c — the command line: run, check-config, probe, notify-test, migrate-db
 * (migrate.c), version. */
#include <ares.h>
#include <curl/curl.h>
#include <getopt.h>
#include <jansson.h>
#include <libconfig.h>
#include <libpq-fe.h>
#include <microhttpd.h>
#include <openssl/crypto.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "agent.h"
#include "conf/conf.h"
#include "core/curlm.h"
#include "alerts/delivery.h"
#include "alerts/notify.h"
#include "core/log.h"
#include "core/loop.h"
#include "probes/probe.h"
#include "core/resolver.h"
#include "core/suggest.h"
#include "sched.h"
#include "core/util.h"
#include "migrate.h"

enum { EXIT_OK = 0, EXIT_FAILED = 1, EXIT_USAGE = 2 };

static const char usage_main[] =
	"usage: pharos COMMAND [OPTIONS]\n"
	"\n"
	"pharos runs the checks described in its configuration file, records every\n"
	"result, and serves a status page, a JSON API and Prometheus metrics.\n"
	"\n"
	"commands:\n"
	"  run [-c FILE]                   run the agent in the foreground until SIGTERM\n"
	"  check-config [-c FILE]          validate the configuration and summarise it\n"
	"  probe [-c FILE] NAME [--json]   run one check once, now, and show the result\n"
	"  notify-test [-c FILE] NOTIFIER  send a test notification through a notifier\n"
	"  migrate-db --from FILE --to URI copy a SQLite database into an empty PostgreSQL one\n"
	"  version                         print the version of pharos and its libraries\n"
	"\n"
	"options:\n"
	"  -c, --config FILE   configuration file (default: $PHAROS_CONFIG, else\n"
	"                      " CONF_DEFAULT_PATH ")\n"
	"  -h, --help          show help (also: pharos COMMAND --help)\n";

static const char usage_run[] =
	"usage: pharos run [-c FILE]\n"
	"\n"
	"Runs the agent in the foreground until SIGTERM or SIGINT (exit 0).\n"
	"SIGHUP reloads the configuration; an invalid one is rejected and the running\n"
	"configuration stays in force. Logs go to stderr.\n";

static const char usage_check_config[] =
	"usage: pharos check-config [-c FILE]\n"
	"\n"
	"Validates the configuration. Prints \"ok: N checks, N rules, N notifiers\" and\n"
	"exits 0, or prints every error as FILE:LINE: message and exits 2.\n";

static const char usage_probe[] =
	"usage: pharos probe [-c FILE] NAME [--json]\n"
	"\n"
	"Runs check NAME once, now (with its retries), and prints its phases,\n"
	"assertions and verdict. --json prints only the result as JSON.\n"
	"Exit: 0 passed, 1 failed, 2 no such check or invalid configuration.\n";

static const char usage_notify_test[] =
	"usage: pharos notify-test [-c FILE] NOTIFIER\n"
	"\n"
	"Sends one test notification through NOTIFIER and prints the receiver's answer.\n"
	"Exit: 0 delivered, 1 not delivered, 2 invalid configuration.\n";

static const char usage_version[] =
	"usage: pharos version\n"
	"\n"
	"Prints the version of pharos and of the libraries it is linked with.\n";

struct cli {
	const char *command;
	const char *config;
	const char *arg;            /* NAME / NOTIFIER */
	bool json;
	bool help;
};

/* Parses argv after the command. Returns 0, or -1 after printing what is wrong. */
static int cli_parse(int argc, char **argv, struct cli *cli)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "json",   no_argument,       NULL, 'j' },
		{ "help",   no_argument,       NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":c:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': cli->config = optarg; break;
		case 'j': cli->json = true; break;
		case 'h': cli->help = true; break;
		case ':':
			fprintf(stderr, "pharos %s: option %s needs a value\n", cli->command, argv[optind - 1]);
			return -1;
		default:
			fprintf(stderr, "pharos %s: unknown option %s\n", cli->command, argv[optind - 1]);
			return -1;
		}
	}
	for (int i = optind; i < argc; i++) {
		if (cli->arg) {
			fprintf(stderr, "pharos %s: unexpected argument \"%s\"\n", cli->command, argv[i]);
			return -1;
		}
		cli->arg = argv[i];
	}
	return 0;
}

/* Loads the config, printing every error. NULL when invalid. */
static struct conf *load_conf(const char *opt_path)
{
	const char *path = conf_default_path(opt_path);
	struct conf_errors errs = {0};
	struct conf *conf = conf_load(path, &errs);

	for (size_t i = 0; i < errs.n; i++)
		fprintf(stderr, "%s\n", errs.lines[i]);
	conf_errors_free(&errs);
	return conf;
}

static int cmd_version(void)
{
	char pcre[64] = "";

	pcre2_config(PCRE2_CONFIG_VERSION, pcre);
	printf("pharos %s\n", PHAROS_VERSION);
	printf("  libcurl        %s\n", curl_version_info(CURLVERSION_NOW)->version);
	printf("  c-ares         %s\n", ares_version(NULL));
	printf("  libmicrohttpd  %s\n", MHD_get_version());
	printf("  SQLite         %s\n", sqlite3_libversion());
	printf("  libpq          %d.%d\n", PQlibVersion() / 10000, PQlibVersion() % 10000);
	printf("  libconfig      %d.%d.%d\n", LIBCONFIG_VER_MAJOR, LIBCONFIG_VER_MINOR, LIBCONFIG_VER_REVISION);
	printf("  jansson        %s\n", jansson_version_str());
	printf("  OpenSSL        %s\n", OpenSSL_version(OPENSSL_VERSION));
	printf("  PCRE2          %s\n", pcre);
	return EXIT_OK;
}

static int cmd_check_config(const struct cli *cli)
{
	struct conf *conf = load_conf(cli->config);

	if (!conf)
		return EXIT_USAGE;
	printf("ok: %zu check%s, %zu rule%s, %zu notifier%s\n", conf->n_checks,
	       conf->n_checks == 1 ? "" : "s", conf->n_rules, conf->n_rules == 1 ? "" : "s",
	       conf->n_notifiers, conf->n_notifiers == 1 ? "" : "s");
	conf_unref(conf);
	return EXIT_OK;
}

static int cmd_run(const struct cli *cli)
{
	struct conf *conf = load_conf(cli->config);

	if (!conf)
		return EXIT_USAGE;
	return agent_run(conf);
}

static const char *check_name_at(const struct conf *conf, size_t i)
{
	return conf->checks[i].name;
}

static const char *notifier_name_at(const struct conf *conf, size_t i)
{
	return conf->notifiers[i].name;
}

/* The configured name closest to want (at most 3 edits away), for a "did you
 * mean" hint, or NULL. */
static const char *closest_name(const char *want, const struct conf *conf, size_t n,
                                const char *(*name_at)(const struct conf *conf, size_t i))
{
	struct suggest s;

	suggest_init(&s, want, strlen(want), 3);
	for (size_t i = 0; i < n; i++)
		suggest_offer(&s, name_at(conf, i));
	return s.best;
}

/* --- probe ------------------------------------------------------------------- */

struct probe_wait {
	struct loop *loop;
	struct probe_result result;
	bool done;
};

static void probe_cmd_done(struct probe_result *r, void *arg)
{
	struct probe_wait *w = arg;

	probe_result_copy(&w->result, r);
	w->done = true;
	loop_stop(w->loop);
}

static void print_phase(const char *name, int64_t us, bool *first)
{
	if (us < 0)
		return;
	printf("%s%s %.1f ms", *first ? "" : " · ", name, (double)us / 1000.0);
	*first = false;
}

static void print_result(const struct check *c, const struct probe_result *r)
{
	char ts[40], timeout[32], interval[32];
	bool first = true;

	util_format_time(r->start_us, ts, sizeof(ts));
	util_format_duration(c->timeout_ms, timeout, sizeof(timeout));
	util_format_duration(c->interval_ms, interval, sizeof(interval));
	printf("check       %s (%s)\n", c->name, check_type_name(c->type));
	printf("target      %s\n", c->target);
	/* The timeout in force: one inherited from defaults is cut to the interval. */
	printf("timeout     %s (interval %s)\n", timeout, interval);
	printf("run         %s at %s, attempt %d of %d\n", r->run_id, ts, r->attempts, c->retries + 1);
	printf("phases      ");
	print_phase("dns", r->dns_us, &first);
	print_phase("connect", r->connect_us, &first);
	print_phase("tls", r->tls_us, &first);
	/* The phase names of the JSON and the metrics (icmp: the average round
	 * trip; its type prints the echoes below). */
	print_phase("first_byte", r->ttfb_us, &first);
	print_phase("total", r->duration_us, &first);
	printf("\n");
	if (probe_type_of(c)->details != NULL)      /* "response HTTP 200, ...", dns answers */
		probe_type_of(c)->details(c, r, stdout);
	if (r->cert_expiry > 0) {
		char exp[40];
		util_format_time(r->cert_expiry * 1000000, exp, sizeof(exp));
		printf("certificate expires %s (%lld days)\n", exp,
		       (long long)((r->cert_expiry - r->start_us / 1000000) / 86400));
	}
	if (r->n_assertions > 0) {
		printf("assertions\n");
		for (size_t i = 0; i < r->n_assertions; i++)
			printf("  %-4s %s%s%s\n", r->assertions[i].ok ? "ok" : "FAIL", r->assertions[i].what,
			       r->assertions[i].detail[0] ? ": " : "", r->assertions[i].detail);
	}
	if (r->ok)
		printf("verdict     PASS\n");
	else
		printf("verdict     FAIL (%s): %s\n", probe_error_name(r->error), r->message);
}

static int cmd_probe(const struct cli *cli)
{
	struct conf *conf;
	const struct check *c;
	struct probe_wait w = {0};
	char err[256];
	int rc = EXIT_FAILED;

	if (!cli->arg) {
		fprintf(stderr, "pharos probe: which check? usage: pharos probe [-c FILE] NAME [--json]\n");
		return EXIT_USAGE;
	}
	conf = load_conf(cli->config);
	if (!conf)
		return EXIT_USAGE;
	c = conf_find_check(conf, cli->arg);
	if (!c) {
		const char *best = closest_name(cli->arg, conf, conf->n_checks, check_name_at);

		if (best != NULL)
			fprintf(stderr, "pharos probe: no check named \"%s\" in %s (did you mean \"%s\"?)\n",
			        cli->arg, conf->path, best);
		else
			fprintf(stderr, "pharos probe: no check named \"%s\" in %s\n", cli->arg, conf->path);
		conf_unref(conf);
		return EXIT_USAGE;
	}
	if (probe_type_passive(c)) {
		fprintf(stderr, "pharos probe: \"%s\" is a heartbeat check: nothing is probed; it is fed by "
		        "pings to /api/v1/push/%s (see its state with GET /api/v1/checks/%s)\n",
		        c->name, c->name, c->name);
		conf_unref(conf);
		return EXIT_USAGE;
	}

	w.loop = loop_new();
	struct curlm *curlm = curlm_new(w.loop);
	struct resolver *res = resolver_new(w.loop, NULL, c->timeout_ms, err, sizeof(err));
	if (res && resolver_set_source(res, conf->agent.source_address, err, sizeof(err)) < 0) {
		resolver_free(res);
		res = NULL;
	}
	if (!res) {
		fprintf(stderr, "pharos probe: cannot start the DNS resolver: %s\n", err);
		goto out;
	}
	struct probe_env env = { .loop = w.loop, .curlm = curlm, .resolver = res,
	                         .source_address = conf->agent.source_address };
	attempt_start(&env, c, probe_cmd_done, &w);
	while (!w.done)
		loop_run(w.loop);

	if (cli->json) {
		json_t *j = probe_result_to_json(&w.result);
		json_object_set_new(j, "check", json_string(c->name));
		json_object_set_new(j, "type", json_string(check_type_name(c->type)));
		json_object_set_new(j, "target", json_string(c->target));
		json_object_set_new(j, "timeout_ms", json_integer((json_int_t)c->timeout_ms));
		json_object_set_new(j, "interval_ms", json_integer((json_int_t)c->interval_ms));
		json_object_set_new(j, "verdict", json_string(w.result.ok ? "pass" : "fail"));
		/* 15 significant digits: 0.55 reads 0.55, not 0.55000000000000004. */
		json_dumpf(j, stdout, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_REAL_PRECISION(15));
		printf("\n");
		json_decref(j);
	} else {
		print_result(c, &w.result);
	}
	rc = w.result.ok ? EXIT_OK : EXIT_FAILED;
	probe_result_clear(&w.result);
	resolver_free(res);
out:
	probe_dns_cleanup();
	curlm_free(curlm);
	loop_free(w.loop);
	conf_unref(conf);
	return rc;
}

/* --- notify-test ------------------------------------------------------------ */


/* What notify-test prints of the receiver's answer, and its verdict. */
struct nt_result {
	const struct notifier_conf *n;
	int rc;
};

static void nt_answered(void *token, const struct delivery_answer *a)
{
	struct nt_result *res = token;
	char summary[320];
	enum notify_verdict v;

	v = notify_classify(res->n, a->status, a->body, a->body_len, a->retry_after,
	                    util_wall_us() / 1000000, NULL, summary, sizeof(summary));
	if (a->status == 0) {
		char *m = log_mask_secrets(a->error ? a->error : "no answer");

		printf("answer      none: %s\n", m);
		free(m);
	} else {
		printf("answer      %s\n", summary);
	}
	if (v == NOTIFY_DELIVERED) {
		printf("verdict     DELIVERED\n");
		res->rc = EXIT_OK;
	} else {
		printf("verdict     NOT DELIVERED (%s)\n",
		       v == NOTIFY_PERMANENT ? "rejected: the receiver will not accept it"
		                             : "the agent would retry this");
	}
}

/* A clearly-marked test event for notifier n. */
static void test_event(const struct conf *conf, struct alert_event *ev)
{
	int64_t now = util_wall_us();
	char id[UTIL_ID_LEN];
	char *alert_id;

	util_random_id(id);
	alert_id = xasprintf("test%s", id);
	alert_event_build(ev, &(struct alert_event_spec){
		.kind = ALERT_EVENT_TEST, .rule = "notify-test", .check = "pharos-notify-test",
		.severity = SEVERITY_INFO, .alert_id = alert_id, .ts_us = now, .started_us = now,
		.value = "test",
		.message = "This is a test notification sent by `pharos notify-test`; "
		           "no check is failing.",
		.public_url = conf->agent.public_url, .expr = "test", .location = conf->agent.location,
	});
	free(alert_id);
}

static int cmd_notify_test(const struct cli *cli)
{
	struct conf *conf;
	const struct notifier_conf *n;
	struct alert_event ev;
	struct notify_request rq;
	struct nt_result res;
	char err[256];
	char *key = NULL;
	int rc = EXIT_FAILED;

	if (!cli->arg) {
		fprintf(stderr, "pharos notify-test: which notifier? usage: pharos notify-test [-c FILE] NOTIFIER\n");
		return EXIT_USAGE;
	}
	conf = load_conf(cli->config);
	if (!conf)
		return EXIT_USAGE;
	n = conf_find_notifier(conf, cli->arg);
	if (!n) {
		const char *best = closest_name(cli->arg, conf, conf->n_notifiers, notifier_name_at);

		if (best != NULL)
			fprintf(stderr, "pharos notify-test: no notifier named \"%s\" in %s (did you mean \"%s\"?)\n",
			        cli->arg, conf->path, best);
		else
			fprintf(stderr, "pharos notify-test: no notifier named \"%s\" in %s (%zu notifier%s configured)\n",
			        cli->arg, conf->path, conf->n_notifiers, conf->n_notifiers == 1 ? "" : "s");
		conf_unref(conf);
		return EXIT_USAGE;
	}
	test_event(conf, &ev);
	key = outbox_key(ev.alert_id, ALERT_EVENT_TEST, ev.ts_us / 1000, n->name);
	memset(&rq, 0, sizeof(rq));
	if (notify_build(n, &ev, key, util_wall_us() / 1000000, &rq, err, sizeof(err)) != 0) {
		fprintf(stderr, "pharos notify-test: cannot build the request for %s: %s\n", n->name, err);
		goto out;
	}
	printf("notifier    %s (%s)\n", n->name, n->type->name);
	printf("sending     test notification, key %s\n", key);
	fflush(stdout);
	res.n = n;
	res.rc = EXIT_FAILED;
	if (delivery_send_now(&rq, n->timeout_ms ? n->timeout_ms : 10000, nt_answered, &res) != 0)
		fprintf(stderr, "pharos notify-test: cannot start curl\n");
	rc = res.rc;
out:
	notify_request_clear(&rq);
	free(key);
	alert_event_clear(&ev);
	conf_unref(conf);
	return rc;
}

struct command {
	const char *name;
	const char *usage;
	int (*fn)(const struct cli *cli);
	bool takes_arg;
};

static int cmd_version_cli(const struct cli *cli) { return cmd_version(); }

static const struct command commands[] = {
	{ "run",          usage_run,          cmd_run,          false },
	{ "check-config", usage_check_config, cmd_check_config, false },
	{ "probe",        usage_probe,        cmd_probe,        true  },
	{ "notify-test",  usage_notify_test,  cmd_notify_test,  true  },
	{ "version",      usage_version,      cmd_version_cli,  false },
};

int main(int argc, char **argv)
{
	struct cli cli = {0};
	const struct command *cmd = NULL;
	int rc;

	if (argc < 2) {
		fputs(usage_main, stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
		fputs(usage_main, stdout);
		return EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0)
		return cmd_version();
	if (strcmp(argv[1], "migrate-db") == 0) {      /* its own options: --from, --to */
		log_setup(LOG_FORMAT_LOGFMT, LOG_WARN);
		return migrate_db_main(argc - 1, argv + 1);
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			cmd = &commands[i];
	if (!cmd) {
		fprintf(stderr, "pharos: unknown command \"%s\" (try pharos --help)\n", argv[1]);
		return EXIT_USAGE;
	}
	cli.command = cmd->name;
	if (cli_parse(argc - 1, argv + 1, &cli) != 0) {
		fputs(cmd->usage, stderr);
		return EXIT_USAGE;
	}
	if (cli.help) {
		fputs(cmd->usage, stdout);
		return EXIT_OK;
	}
	if (cli.arg && !cmd->takes_arg) {
		fprintf(stderr, "pharos %s: unexpected argument \"%s\"\n", cmd->name, cli.arg);
		return EXIT_USAGE;
	}

	/* Commands other than run log only warnings, so their output stays readable. */
	log_setup(LOG_FORMAT_LOGFMT, strcmp(cmd->name, "run") == 0 ? LOG_INFO : LOG_WARN);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = cmd->fn(&cli);
	curl_global_cleanup();
	return rc;
}

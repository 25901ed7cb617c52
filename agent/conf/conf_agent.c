/* conf_agent.c — the agent and defaults sections (main file only): their
 * tables, their custom parsers, and the agent's settings before any is read. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/conf_parse.h"
#include "core/database.h"
#include "core/util.h"

static parse_fn parse_listen, parse_database, parse_public_url, parse_log_format, parse_retention,
	parse_source_address;

static const struct def agent_defs[] = {
	D_FN("listen", parse_listen, 0, NULL),
	D_FN("database", parse_database, 0, NULL),
	D_FN("public_url", parse_public_url, 0, NULL),
	D_STR("admin_token", struct conf_agent, admin_token, F_SECRET | F_NONEMPTY),
	D_FN("log_format", parse_log_format, 0, NULL),
	D_FN("retention", parse_retention, 0, NULL),
	D_STR("title", struct conf_agent, title, 0),
	D_STR("location", struct conf_agent, location, F_NONEMPTY),
	D_FN("source_address", parse_source_address, 0, NULL),
	D_STR("tls_cert", struct conf_agent, tls_cert, F_NONEMPTY | F_FILE),
	D_STR("tls_key", struct conf_agent, tls_key, F_NONEMPTY | F_FILE),
	D_STR("health_listen", struct conf_agent, health_listen, F_NONEMPTY),
	D_INT("threads", struct conf_agent, threads, 1, 256),
	D_INT("check_histograms_up_to", struct conf_agent, check_histograms_up_to, 0, 100000000),
	D_INT("page_full_up_to", struct conf_agent, page_full_up_to, 0, 100000000),
	D_END
};

static const struct def retention_defs[] = {
	D_DUR("raw", struct conf_agent, retention_raw_ms, 1),
	D_DUR("rollups", struct conf_agent, retention_rollups_ms, 1),
	D_END
};

static const struct def defaults_defs[] = {
	D_DUR("interval", struct conf, default_interval_ms, 1),
	D_DUR("timeout", struct conf, default_timeout_ms, 1),
	D_END
};

static void parse_listen(struct loader *ld, const config_setting_t *s, void *base, const char *where)
{
	struct conf_agent *a = base;
	char *v = conf_get_str(ld, s, where);

	if (v == NULL)
		return;
	if (conf_parse_hostport(v, true, false) < 0) {
		conf_err(ld, s, "\"listen\" in %s must be \"host:port\" or \"[ipv6]:port\" with a port from 1 to 65535 (got %s)",
		         where, conf_quote(ld, config_setting_get_string(s)));
		free(v);
		return;
	}
	free(a->listen);
	a->listen = v;
}

/* A path (SQLite) or a store URI: a store this build does not have is a
 * config error here, at its line, rather than a failure at run. The message
 * never repeats the value (a URI may hold a password). */
static void parse_database(struct loader *ld, const config_setting_t *s, void *base, const char *where)
{
	struct conf_agent *a = base;
	char *v = conf_get_str(ld, s, where);
	char why[160];

	if (v == NULL)
		return;
	if (*v == '\0') {
		conf_err(ld, s, "%s in %s must not be empty", conf_sname(ld, s), where);
		free(v);
		return;
	}
	if (database_unsupported(v, why, sizeof(why)) != NULL) {
		conf_err(ld, s, "%s in %s: %s", conf_sname(ld, s), where, why);
		free(v);
		return;
	}
	free(a->database);
	a->database = v;
}

/* The local address every probe is sent from: an IPv4 or IPv6 literal (a
 * name would need a lookup at load and could change under the agent). */
static void parse_source_address(struct loader *ld, const config_setting_t *s, void *base, const char *where)
{
	struct conf_agent *a = base;
	char *v = conf_get_str(ld, s, where);
	unsigned char buf[sizeof(struct in6_addr)];

	if (v == NULL)
		return;
	if (inet_pton(AF_INET, v, buf) != 1 && inet_pton(AF_INET6, v, buf) != 1) {
		conf_err(ld, s, "\"source_address\" in %s must be an IP address of this host like \"192.0.2.10\" or \"2001:db8::10\" (got %s)",
		         where, conf_quote(ld, v));
		free(v);
		return;
	}
	free(a->source_address);
	a->source_address = v;
}

static void parse_public_url(struct loader *ld, const config_setting_t *s, void *base, const char *where)
{
	struct conf_agent *a = base;
	char *v = conf_get_str(ld, s, where);
	const char *why;
	bool https;
	size_t n;

	if (v == NULL)
		return;
	if (conf_check_http_url(v, &https, &why) < 0) {
		conf_err_url(ld, s, where, why);
		free(v);
		return;
	}
	/* Links are built as <public_url>/check/NAME: no double slash. */
	n = strlen(v);
	while (n > 0 && v[n - 1] == '/')
		v[--n] = '\0';
	free(a->public_url);
	a->public_url = v;
}

static void parse_log_format(struct loader *ld, const config_setting_t *s, void *base, const char *where)
{
	struct conf_agent *a = base;
	char *v = conf_get_str(ld, s, where);

	if (v == NULL)
		return;
	if (strcmp(v, "logfmt") == 0)
		a->log_format = LOG_FORMAT_LOGFMT;
	else if (strcmp(v, "json") == 0)
		a->log_format = LOG_FORMAT_JSON;
	else
		conf_err(ld, s, "\"log_format\" in %s must be \"logfmt\" or \"json\" (got %s)", where,
		         conf_quote(ld, config_setting_get_string(s)));
	free(v);
}

static void parse_retention(struct loader *ld, const config_setting_t *s, void *base, const char *where)
{
	static const struct def *const tables[] = { retention_defs, NULL };

	if (conf_want_group(ld, s, where))
		conf_apply(ld, s, tables, base, "agent.retention", SCOPE_PLAIN, 0, false);
}

void conf_agent_defaults(struct conf_agent *a)
{
	char host[256];

	a->listen = xstrdup("127.0.0.1:9470");
	a->database = xstrdup("/var/lib/pharos/pharos.db");
	a->log_format = LOG_FORMAT_LOGFMT;
	a->retention_raw_ms = 14ull * 24 * 3600 * 1000;
	a->retention_rollups_ms = 400ull * 24 * 3600 * 1000;
	a->title = xstrdup("pharos status");
	a->check_histograms_up_to = 10000;
	a->page_full_up_to = 2000;
	if (gethostname(host, sizeof(host)) < 0 || host[0] == '\0')
		util_strlcpy(host, "localhost", sizeof(host));
	host[sizeof(host) - 1] = '\0';
	a->location = xstrdup(host);
}

void conf_parse_agent(struct loader *ld, struct conf *conf, const config_setting_t *s)
{
	static const struct def *const tables[] = { agent_defs, NULL };
	struct conf_agent *a = &conf->agent;
	const config_setting_t *cert, *key;

	if (s != NULL && conf_want_group(ld, s, "the configuration"))
		conf_apply(ld, s, tables, a, "agent", SCOPE_PLAIN, 0, false);
	if (a->public_url == NULL)     /* the listener speaks HTTPS when tls_cert is set */
		a->public_url = xasprintf("%s://%s", a->tls_cert != NULL ? "https" : "http", a->listen);
	if (s == NULL)
		return;
	a->location_set = config_setting_get_member(s, "location") != NULL;
	cert = config_setting_get_member(s, "tls_cert");
	key = config_setting_get_member(s, "tls_key");
	if (cert != NULL && key == NULL)
		conf_err(ld, cert, "\"tls_cert\" in agent needs \"tls_key\" too");
	if (key != NULL && cert == NULL)
		conf_err(ld, key, "\"tls_key\" in agent needs \"tls_cert\" too");
}

void conf_parse_defaults(struct loader *ld, struct conf *conf, const config_setting_t *s)
{
	static const struct def *const tables[] = { defaults_defs, NULL };
	const config_setting_t *to;

	if (s == NULL || !conf_want_group(ld, s, "the configuration"))
		return;
	conf_apply(ld, s, tables, conf, "defaults", SCOPE_PLAIN, 0, false);
	to = config_setting_get_member(s, "timeout");
	if (!conf_had_error(ld, to) && !conf_had_error(ld, config_setting_get_member(s, "interval")) &&
	    conf->default_timeout_ms > conf->default_interval_ms) {
		char a[32], b[32];

		util_format_duration(conf->default_timeout_ms, a, sizeof(a));
		util_format_duration(conf->default_interval_ms, b, sizeof(b));
		conf_err(ld, to ? to : s, "timeout \"%s\" is longer than interval \"%s\" in defaults (a run must end before the next one starts)",
		         a, b);
	}
}

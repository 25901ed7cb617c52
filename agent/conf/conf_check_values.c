/* conf_check_values.c — the parsers of check settings that a table cannot
 * describe, but for http's (conf_check_http.c): expect, depends_on, locations, hosts,
 * the dns query, record, server and rcode, the heartbeat's token and icmp's
 * max_loss; and the lookup of every parser by the name the probe-type tables
 * give it.
 *
 * Forms the SPEC's example does not show:
 *   icmp: expect.max_loss = "20%" or 20
 *   tls: server_name default host */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf_parse.h"
#include "core/util.h"

/* --- expect and depends_on ----------------------------------------------- */

/* expect = { ... } of a check or a step: its type's expect table. */
void conf_parse_expect(struct loader *ld, const config_setting_t *s, void *base, const char *where)
{
	struct check *c = base;
	const struct def *tables[2] = { conf_expect_defs[c->type], NULL };
	char *ewhere;

	if (!conf_want_group(ld, s, where))
		return;
	ewhere = xasprintf("expect of %s", where);
	conf_tmp(ld, ewhere);
	conf_apply(ld, s, tables, &c->expect, ewhere, SCOPE_EXPECT, (int)c->type, false);
}

/* Names only: whether they exist and loop is known after every check is
 * read (conf_resolve_dependencies). */
static void parse_depends_on(struct loader *ld, const config_setting_t *s, void *base, const char *where)
{
	struct check *c = base;
	size_t n = conf_values(ld, s, where, "a check name or an array of them like [ \"gateway\" ]",
	                       "leave it out instead");

	for (size_t i = 0; i < n; i++) {
		const config_setting_t *e = conf_elem(s, i);
		char *v = conf_get_str(ld, e, where);

		if (v == NULL)
			continue;
		if (!conf_valid_name(v)) {
			conf_err(ld, e, "%s in %s must be a check name (got %s)", conf_sname(ld, e), where,
			         conf_quote(ld, config_setting_get_string(e)));
			free(v);
			continue;
		}
		if (conf_in_list((const char *const *)c->depends_on, c->n_depends_on, v)) {
			conf_err(ld, e, "%s in %s names \"%s\" twice", conf_sname(ld, e), where, v);
			free(v);
			continue;
		}
		c->depends_on = xrealloc(c->depends_on, (c->n_depends_on + 1) * sizeof(char *));
		c->depends_on[c->n_depends_on++] = v;
		if (c >= ld->conf->checks && c < ld->conf->checks + ld->conf->n_checks) {
			ld->deps = xrealloc(ld->deps, (ld->n_deps + 1) * sizeof(*ld->deps));
			ld->deps[ld->n_deps].from = (size_t)(c - ld->conf->checks);
			ld->deps[ld->n_deps].name = v;
			ld->deps[ld->n_deps].s = e;
			ld->n_deps++;
		}
	}
}

/* --- locations ----------------------------------------------------------- */

/* "*" (every agent), "any" (one live agent) or a list of locations. Which
 * agents exist is known only at run time (agent/fleet.c): any name is
 * accepted, but not "", "*" or "any" inside a list, nor a name twice. */
static void parse_locations(struct loader *ld, const config_setting_t *s, void *base, const char *where)
{
	static const char what[] = "\"*\", \"any\" or a list of agent locations like [ \"eu-west\", \"us-east\" ]";
	struct check *c = base;
	size_t n;

	if (config_setting_type(s) == CONFIG_TYPE_STRING) {
		const char *v = config_setting_get_string(s);

		if (strcmp(v, "*") == 0)
			c->locations_mode = CHECK_LOC_ALL;
		else if (strcmp(v, "any") == 0)
			c->locations_mode = CHECK_LOC_ANY;
		else
			conf_err(ld, s, "\"locations\" in %s must be %s (got %s; a single location is written [ %s ])",
			         where, what, conf_quote(ld, v), conf_quote(ld, v));
		return;
	}
	n = conf_values(ld, s, where, what, "leave it out to run everywhere");
	for (size_t i = 0; i < n; i++) {
		const config_setting_t *e = conf_elem(s, i);
		char *v = conf_get_str(ld, e, where);

		if (v == NULL)
			continue;
		if (*v == '\0' || strcmp(v, "*") == 0 || strcmp(v, "any") == 0) {
			conf_err(ld, e, "%s in %s must be an agent location, not %s (\"*\" and \"any\" stand alone)",
			         conf_sname(ld, e), where, conf_quote(ld, v));
			free(v);
			continue;
		}
		if (conf_in_list((const char *const *)c->locations, c->n_locations, v)) {
			conf_err(ld, e, "%s in %s names \"%s\" twice", conf_sname(ld, e), where, v);
			free(v);
			continue;
		}
		c->locations = xrealloc(c->locations, (c->n_locations + 1) * sizeof(char *));
		c->locations[c->n_locations++] = v;
		c->locations_mode = CHECK_LOC_LIST;
	}
}

/* --- dns ------------------------------------------------------------------ */

static void parse_query(struct loader *ld, const config_setting_t *s, void *base, const char *where)
{
	struct check *c = base;
	char *v = conf_get_str(ld, s, where);
	char *name;
	size_t n;
	bool ok;

	if (v == NULL)
		return;
	/* A trailing dot (fully qualified) is fine; "." alone asks for the root. */
	name = xstrdup(v);
	n = strlen(name);
	if (n > 1 && name[n - 1] == '.')
		name[n - 1] = '\0';
	ok = strcmp(v, ".") == 0 || (strchr(name, ':') == NULL && conf_valid_host(name));
	free(name);
	if (!ok) {
		conf_err(ld, s, "\"query\" in %s must be a domain name like \"api.example.com\" (got %s)",
		         where, conf_quote(ld, config_setting_get_string(s)));
		free(v);
		return;
	}
	free(c->dns.query);
	c->dns.query = v;
}

/* A string naming one of a fixed set, looked up by from_name: its value, or
 * -1 after recording an error that lists names. */
static int get_enum(struct loader *ld, const config_setting_t *s, const char *where,
                    int (*from_name)(const char *), const char *names)
{
	char *v = conf_get_str(ld, s, where);
	int r;

	if (v == NULL)
		return -1;
	r = from_name(v);
	if (r < 0)
		conf_err(ld, s, "%s in %s must be one of %s (got %s)", conf_sname(ld, s), where, names,
		         conf_quote(ld, config_setting_get_string(s)));
	free(v);
	return r;
}

static void parse_record(struct loader *ld, const config_setting_t *s, void *base, const char *where)
{
	struct check *c = base;
	int r = get_enum(ld, s, where, check_dns_record_from_name, "A, AAAA, CNAME, MX, TXT, NS, SOA, SRV");

	if (r >= 0)
		c->dns.record = r;
}

static void parse_server(struct loader *ld, const config_setting_t *s, void *base, const char *where)
{
	struct check *c = base;
	char *v = conf_get_str(ld, s, where);

	if (v == NULL)
		return;
	if (conf_parse_hostport(v, false, true) < 0) {
		conf_err(ld, s, "\"server\" in %s must be an IP address with an optional port: \"1.1.1.1\", \"1.1.1.1:53\", \"2606:4700::1111\" or \"[2606:4700::1111]:53\" (got %s)",
		         where, conf_quote(ld, config_setting_get_string(s)));
		free(v);
		return;
	}
	free(c->dns.server);
	c->dns.server = v;
}

static void parse_rcode(struct loader *ld, const config_setting_t *s, void *base, const char *where)
{
	struct check_expect *e = base;
	int r = get_enum(ld, s, where, check_dns_rcode_from_name,
	                 "NOERROR, NXDOMAIN, SERVFAIL, REFUSED, FORMERR, NOTIMP");

	if (r >= 0)
		e->rcode = r;
}


/* --- hosts ---------------------------------------------------------------- */

/* A host name or an IP address (no brackets, no port) into *dst. */
static void get_host(struct loader *ld, const config_setting_t *s, const char *where, char **dst)
{
	char *v = conf_get_str(ld, s, where);

	if (v == NULL)
		return;
	if (!conf_valid_host(v)) {
		conf_err(ld, s, "%s in %s must be a host name or an IP address without brackets or port (got %s)",
		         conf_sname(ld, s), where, conf_quote(ld, config_setting_get_string(s)));
		free(v);
		return;
	}
	free(*dst);
	*dst = v;
}

/* A PROBE_KIND_HOST setting of the check's type: its table says where it goes. */
static void parse_host(struct loader *ld, const config_setting_t *s, void *base, const char *where)
{
	struct check *c = base;
	const struct probe_type *pt = probe_type_of(c);
	const struct probe_setting *ps = probe_setting_find(pt->settings, config_setting_name(s));

	get_host(ld, s, where, (char **)((char *)base + ps->off));
}


/* --- heartbeat and icmp --------------------------------------------------- */

/* The heartbeat's token: a secret, sent in a query string or a header, so
 * printable ASCII without spaces. Never quoted. */
static void parse_token(struct loader *ld, const config_setting_t *s, void *base, const char *where)
{
	struct check *c = base;
	char *v = conf_get_str(ld, s, where);

	if (v == NULL)
		return;
	conf_secret_add(ld, v);
	if (*v == '\0') {
		conf_err(ld, s, "\"token\" in %s must not be empty", where);
		free(v);
		return;
	}
	for (const char *p = v; *p != '\0'; p++) {
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f) {
			conf_err(ld, s, "\"token\" in %s must be printable ASCII without spaces (the value is not shown)", where);
			conf_free_secret(v);
			return;
		}
	}
	conf_free_secret(c->heartbeat.token);
	c->heartbeat.token = v;
}

/* "12.5%" (digits, an optional fraction, a percent sign). Returns 0 and
 * sets *out, or -1. */
static int parse_percent(const char *s, double *out)
{
	const char *p = s;

	if (!isdigit((unsigned char)*p))
		return -1;
	while (isdigit((unsigned char)*p))
		p++;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return -1;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (strcmp(p, "%") != 0 || p - s > 20)
		return -1;
	*out = strtod(s, NULL);
	return 0;
}

/* expect.max_loss of an icmp check: "20%", or a number 0-100. */
static void parse_max_loss(struct loader *ld, const config_setting_t *s, void *base, const char *where)
{
	struct check_expect *e = base;
	int t = config_setting_type(s);
	double v;

	if (t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64) {
		v = (double)config_setting_get_int64(s);
	} else if (t == CONFIG_TYPE_FLOAT) {
		v = config_setting_get_float(s);
	} else if (t == CONFIG_TYPE_STRING) {
		char *str = conf_get_str(ld, s, where);
		int rc;

		if (str == NULL)
			return;
		rc = parse_percent(str, &v);
		free(str);
		if (rc < 0) {
			conf_err(ld, s, "\"max_loss\" in %s must be a percentage like \"20%%\" (got %s)", where,
			         conf_quote(ld, config_setting_get_string(s)));
			return;
		}
	} else {
		conf_err(ld, s, "\"max_loss\" in %s must be a percentage like \"20%%\" or a number from 0 to 100 (got %s)",
		         where, conf_type_desc(t));
		return;
	}
	if (!isfinite(v) || v < 0 || v > 100) {
		conf_err(ld, s, "\"max_loss\" in %s must be from 0%% to 100%%", where);
		return;
	}
	e->max_loss_pct = v;
}

/* --- the parsers by name ------------------------------------------------ */

static const struct conf_parser value_parsers[] = {
	{ "expect", conf_parse_expect },
	{ "depends_on", parse_depends_on },
	{ "locations", parse_locations },
	{ "host", parse_host },
	{ "dns_query", parse_query },
	{ "dns_record", parse_record },
	{ "dns_server", parse_server },
	{ "dns_rcode", parse_rcode },
	{ "token", parse_token },
	{ "max_loss", parse_max_loss },
	{ NULL, NULL }
};

/* The parser called name (in this file or conf_check_http.c), or NULL. */
parse_fn *conf_check_parser(const char *name)
{
	const struct conf_parser *const lists[] = { value_parsers, conf_http_parsers };

	for (size_t i = 0; i < COUNT(lists); i++)
		for (const struct conf_parser *p = lists[i]; p->name != NULL; p++)
			if (strcmp(p->name, name) == 0)
				return p->fn;
	return NULL;
}

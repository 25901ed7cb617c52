/* check.c — one check's settings: initialisation, release (steps, extracts
 * and dependencies included; credentials wiped before they are freed), and
 * the DNS record type and rcode names shared by the config loader, the dns
 * probe and the API. */
#include <arpa/nameser.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "probes/check.h"
#include "probes/probe_type.h"

/* The names users write, in the order the SPEC lists them. */
static const struct {
	const char *name;
	int value;
} dns_records[] = {
	{ "A", ns_t_a },
	{ "AAAA", ns_t_aaaa },
	{ "CNAME", ns_t_cname },
	{ "MX", ns_t_mx },
	{ "TXT", ns_t_txt },
	{ "NS", ns_t_ns },
	{ "SOA", ns_t_soa },
	{ "SRV", ns_t_srv },
};

static const struct {
	const char *name;
	int value;
} dns_rcodes[] = {
	{ "NOERROR", ns_r_noerror },
	{ "FORMERR", ns_r_formerr },
	{ "SERVFAIL", ns_r_servfail },
	{ "NXDOMAIN", ns_r_nxdomain },
	{ "NOTIMP", ns_r_notimpl },
	{ "REFUSED", ns_r_refused },
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Every pointer NULL, every count 0, every int assertion -1 ("not
 * asserted"). The common settings get the SPEC's defaults (interval 30s,
 * timeout 10s, retry_interval 1s) and each type's init sets its own (http
 * max_redirects 5 and max_body 1 MiB, dns record A, tls port 443, icmp
 * count 3 every 200ms, heartbeat grace 1m), so a check built by hand in a
 * test behaves like one loaded from a config. */
void check_init(struct check *c)
{
	memset(c, 0, sizeof(*c));
	c->type = CHECK_HTTP;
	c->interval_ms = 30000;
	c->timeout_ms = 10000;
	c->retries = 0;
	c->retry_interval_ms = 1000;
	c->expect.cert_min_days = -1;
	c->expect.rcode = -1;
	c->expect.min_answers = -1;
	c->expect.max_loss_pct = -1;
	for (int t = 0; t < CHECK_TYPE_COUNT; t++) {
		const struct probe_type *pt = probe_type_get((enum check_type)t);

		if (pt->init != NULL)
			pt->init(c);
	}
}

void check_strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* Frees a string that may hold a credential, wiping it first so it does not
 * linger in freed memory. */
void check_free_secret(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

/* Frees one set of assertions (the check's own, or a step's). */
void check_expect_clear(struct check_expect *e)
{
	free(e->status);
	free(e->body_contains);
	free(e->body_regex);
	pcre2_code_free(e->body_re);
	for (size_t i = 0; i < e->n_json; i++) {
		free(e->json[i].path);
		json_decref(e->json[i].equals);
	}
	free(e->json);
	for (size_t i = 0; i < e->n_headers; i++) {
		free(e->headers[i].name);
		free(e->headers[i].pattern);
		pcre2_code_free(e->headers[i].re);
	}
	free(e->headers);
	check_strv_free(e->answers_contain, e->n_answers_contain);
	check_strv_free(e->answers_exact, e->n_answers_exact);
	free(e->banner_regex);
	pcre2_code_free(e->banner_re);
	free(e->expect_regex);
	pcre2_code_free(e->expect_re);
}

/* Frees everything c owns and leaves it as check_init() would (so clearing
 * twice is harmless). c->file is borrowed from the conf and not freed. Every
 * type's free runs: each frees only its own settings, which are NULL in a
 * check of another type. */
void check_clear(struct check *c)
{
	free(c->name);
	free(c->group);
	free(c->target);
	for (int t = 0; t < CHECK_TYPE_COUNT; t++) {
		const struct probe_type *pt = probe_type_get((enum check_type)t);

		if (pt->free != NULL)
			pt->free(c);
	}
	check_strv_free(c->depends_on, c->n_depends_on);
	check_expect_clear(&c->expect);
	check_init(c);
}

/* Case-insensitive: "aaaa" is AAAA. */
int check_dns_record_from_name(const char *name)
{
	if (name == NULL)
		return -1;
	for (size_t i = 0; i < COUNT(dns_records); i++)
		if (strcasecmp(name, dns_records[i].name) == 0)
			return dns_records[i].value;
	return -1;
}

const char *check_dns_record_name(int record)
{
	for (size_t i = 0; i < COUNT(dns_records); i++)
		if (dns_records[i].value == record)
			return dns_records[i].name;
	return NULL;
}

/* Case-insensitive: "nxdomain" is NXDOMAIN. */
int check_dns_rcode_from_name(const char *name)
{
	if (name == NULL)
		return -1;
	for (size_t i = 0; i < COUNT(dns_rcodes); i++)
		if (strcasecmp(name, dns_rcodes[i].name) == 0)
			return dns_rcodes[i].value;
	return -1;
}

const char *check_dns_rcode_name(int rcode)
{
	for (size_t i = 0; i < COUNT(dns_rcodes); i++)
		if (dns_rcodes[i].value == rcode)
			return dns_rcodes[i].name;
	return NULL;
}

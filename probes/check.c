/* check.c — helpers on one check's settings that know no type: releasing
 * a set of assertions, a string array, a credential (wiped before it is
 * freed), and the DNS record type and rcode names shared by the config
 * loader, the dns probe and the API. check_init and check_clear run every
 * type's init and free, so they live with the table (types.c). */
#include <arpa/nameser.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "probes/check.h"

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

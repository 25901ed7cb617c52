/* check.h — one check's settings, as the config loader builds them and the
 * probes read them. Immutable once loaded: a probe run may read it from the
 * loop thread while the HTTP threads read it too.
 *
 * Everything here is owned by the struct and released by check_clear(). */
#ifndef PHAROS_CHECK_H
#define PHAROS_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "probes/type_list.h"

/* One value per line of PROBE_TYPE_LIST (probes/type_list.h). */
#define CHECK_TYPE_ENUM(upper, lower) CHECK_##upper,
enum check_type { PROBE_TYPE_LIST(CHECK_TYPE_ENUM) CHECK_TYPE_COUNT };
#undef CHECK_TYPE_ENUM

/* "http", "tcp", "dns", "tls", "icmp", "heartbeat": the name of t's
 * descriptor (probes/types.c); "unknown" for anything else. */
const char *check_type_name(enum check_type t);

struct status_range { int lo, hi; };             /* inclusive; a single code has lo == hi */

struct json_expect {
	char *path;                 /* "$.status", "$.items[0].id", "$['a b']" */
	json_t *equals;             /* NULL: only "exists" is asserted */
	bool exists;                /* exists = true/false; ignored when equals set */
};

struct header_expect {
	char *name;                 /* header name, case-insensitive */
	char *pattern;              /* PCRE2 source, matched against the value */
	pcre2_code *re;
};

struct check_expect {
	/* http */
	struct status_range *status; size_t n_status;   /* none: 200-399 */
	char *body_contains;
	char *body_regex; pcre2_code *body_re;
	struct json_expect *json; size_t n_json;
	struct header_expect *headers; size_t n_headers;
	uint64_t max_latency_ms;    /* 0: not asserted (also used by tcp and dns) */
	int cert_min_days;          /* -1: not asserted */
	/* dns */
	int rcode;                  /* -1: not asserted; else ns_r_noerror, ns_r_nxdomain, ... */
	char **answers_contain; size_t n_answers_contain;
	char **answers_exact; size_t n_answers_exact;
	int min_answers;            /* -1: not asserted */
	/* tcp */
	char *banner_regex; pcre2_code *banner_re;      /* read before any send */
	char *expect_regex; pcre2_code *expect_re;      /* read after send */
	/* icmp (max_latency_ms applies to the average round trip) */
	double max_loss_pct;        /* -1: not asserted (default: fail only when every echo is lost) */
};

struct check_http {
	char *url;
	char *method;               /* "GET" default */
	char **headers; size_t n_headers;   /* "Name: value" */
	char *body;                 /* NULL: none */
	char *basic_user, *basic_pass;
	int max_redirects;          /* default 5 */
	size_t max_body;            /* bytes, default 1 MiB */
	bool insecure;
	char *ca_file, *client_cert, *client_key;
	bool trace;                 /* send a W3C traceparent (default true) */
};

struct check_tcp {
	char *host;
	int port;
	char *send;                 /* NULL: nothing sent; C escapes \r \n \t \\ already decoded */
};

struct check_dns {
	char *query;
	int record;                 /* ns_t_a, ns_t_aaaa, ns_t_cname, ns_t_mx, ns_t_txt, ns_t_ns, ns_t_soa, ns_t_srv */
	char *server;               /* NULL: the system's resolvers; "ip" or "ip:port" or "[v6]:port" */
};

struct check_tls {
	char *host;
	int port;                   /* default 443 */
	char *server_name;          /* SNI and name verified; NULL: host */
	char *ca_file;
	bool insecure;              /* skip verification, still report expiry */
};

struct check_icmp {
	char *host;
	int count;                  /* echoes per run, default 3 */
	uint64_t spacing_ms;        /* between echoes, default 200ms */
};

struct check_heartbeat {
	uint64_t grace_ms;          /* down when no ping within interval + grace */
	char *token;                /* required on every ping (secret) */
};

/* One value pulled from a step's response for later steps: ${var:NAME}. */
struct http_extract {
	char *var;                  /* NAME */
	char *json_path;            /* "$.token", or NULL */
	char *header;               /* response header name, or NULL (exactly one is set) */
};

/* One step of a multi-step http check (`steps = (...)`). The url, headers and
 * body may contain ${var:NAME}, replaced at run time by earlier extracts. */
struct http_step {
	char *name;                 /* default "step N" (1-based) */
	int line;
	struct check_http http;
	struct check_expect expect;
	struct http_extract *extract; size_t n_extract;
};

/* Where a check runs in a fleet (SPEC §6): `locations = "*"` (every agent,
 * the default), a list of agent locations, or "any" (exactly one live agent,
 * chosen by rendezvous hashing: agent/fleet.c). Alone, an agent runs them all. */
enum check_locations { CHECK_LOC_ALL, CHECK_LOC_LIST, CHECK_LOC_ANY };

struct check {
	char *name;
	char *group;                /* "" when none */
	enum check_type type;
	const char *file;           /* config file it came from (owned by the conf) */
	int line;                   /* line of the check's group in that file */
	uint64_t interval_ms;
	uint64_t timeout_ms;
	int retries;
	uint64_t retry_interval_ms;
	char *target;               /* what it probes, for people: URL (credentials as ***),
	                               "db.internal:5432", "A api.example.com @1.1.1.1:53" */
	struct check_http http;
	struct check_tcp tcp;
	struct check_dns dns;
	struct check_tls tls;
	struct check_icmp icmp;
	struct check_heartbeat heartbeat;
	struct http_step *steps;    /* multi-step http: n_steps > 0 and http.url unused */
	size_t n_steps;
	char **depends_on; size_t n_depends_on;   /* names of checks this one depends on */
	enum check_locations locations_mode;
	char **locations; size_t n_locations;     /* CHECK_LOC_LIST: the agents' locations */
	struct check_expect expect;
	uint64_t fingerprint;       /* hash over every setting: equal means unchanged on reload */
};

/* Sets every field to its "not set" value (-1 for the int assertions) and
 * every type's defaults (types.c). */
void check_init(struct check *c);
/* Frees everything c owns (not c itself), through every type's free (types.c). */
void check_clear(struct check *c);

/* Frees one set of assertions (a check's or a step's) and nothing else. */
void check_expect_clear(struct check_expect *e);
/* Frees n strings of v and v. */
void check_strv_free(char **v, size_t n);
/* Wipes a string that may hold a credential, then frees it (NULL is fine). */
void check_free_secret(char *s);

/* DNS record type name <-> ns_t_* value. Returns -1 / NULL when unknown. */
int check_dns_record_from_name(const char *name);
const char *check_dns_record_name(int record);
/* DNS rcode name ("NOERROR", "NXDOMAIN", "SERVFAIL", "REFUSED", "FORMERR",
 * "NOTIMP") <-> value. Returns -1 / NULL when unknown. */
int check_dns_rcode_from_name(const char *name);
const char *check_dns_rcode_name(int rcode);

#endif

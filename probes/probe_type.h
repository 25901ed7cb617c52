/* probe_type.h — one descriptor per check type: its settings and assertions
 * (as tables the config loader reads and the reload fingerprint walks), the
 * rules that combine them, the target shown for a check, how a run starts,
 * what `pharos probe` prints of a result, and how the type's settings are
 * freed. The ONE table of descriptors is in types.c, indexed by enum
 * check_type; the list of types is PROBE_TYPE_LIST (type_list.h).
 *
 * A passive type (heartbeat) has no start: nothing is probed, its results
 * are fed by pushes (agent/heartbeat.c, sched.c).
 *
 * How to add a type: docs/probe-types.md. */
#ifndef PHAROS_PROBE_TYPE_H
#define PHAROS_PROBE_TYPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "probes/check.h"

struct probe_run;
struct probe_result;

/* How the config loader reads a setting. */
enum probe_kind {
	PROBE_KIND_SKIP,        /* read by the loader itself (a check's name and type) */
	PROBE_KIND_STRING,      /* a string */
	PROBE_KIND_INT,         /* an integer from min to max */
	PROBE_KIND_BOOL,        /* true / false */
	PROBE_KIND_DURATION,    /* "30s", "5m", at least min ms */
	PROBE_KIND_REGEX,       /* a PCRE2 pattern (source at off, compiled at off2) */
	PROBE_KIND_LIST,        /* a string or an array of strings (at off, count at off2) */
	PROBE_KIND_HOST,        /* a host name or an IP address without brackets */
	PROBE_KIND_CUSTOM,      /* the loader's parser named by `parser` */
};

/* How the value is kept in the struct (what the fingerprint hashes). */
enum probe_store {
	PROBE_STORE_NONE,       /* nothing of its own (a group whose members are settings) */
	PROBE_STORE_STR,        /* char * at off */
	PROBE_STORE_INT,        /* int at off */
	PROBE_STORE_BOOL,       /* bool at off */
	PROBE_STORE_U64,        /* uint64_t at off (durations) */
	PROBE_STORE_SIZE,       /* size_t at off */
	PROBE_STORE_DOUBLE,     /* double at off */
	PROBE_STORE_STRV,       /* char ** at off, size_t count at off2 */
	PROBE_STORE_FN,         /* hashed by hash() */
};

#define PROBE_REQUIRED  1u   /* a check of the type must set it */
#define PROBE_SECRET    2u   /* never quoted, never logged */
#define PROBE_NONEMPTY  4u   /* "" is an error */
#define PROBE_FILE      8u   /* a path that must be readable */
#define PROBE_NO_RELOAD 16u  /* not in the fingerprint: changing it keeps the check's schedule */

/* Adds what a PROBE_STORE_FN setting stored to hash h; base is the struct
 * its table's offsets are in (struct check, or struct check_expect). */
typedef uint64_t probe_hash_fn(uint64_t h, const void *base);

/* One setting of a check, of a type, or of a type's expect = { ... }. off
 * and off2 are offsets in struct check (check and type settings) or in
 * struct check_expect (expect settings). */
struct probe_setting {
	const char *name;
	enum probe_kind kind;
	enum probe_store store;
	size_t off, off2;
	long long min, max;         /* PROBE_KIND_INT: bounds; PROBE_KIND_DURATION: min ms */
	unsigned flags;             /* PROBE_REQUIRED | PROBE_SECRET | ... */
	const char *parser;         /* PROBE_KIND_CUSTOM: "url", "method", ... (agent/conf) */
	probe_hash_fn *hash;        /* PROBE_STORE_FN */
	const char *hint;           /* for a missing required setting: "port = 5432" */
	const char *doc;            /* one line for people: what it does, its default */
};

/* Table helpers: s is the struct the offsets are in, f its field. */
#define PROBE_SET_STR(n, s, f, fl, d) \
	{ .name = n, .kind = PROBE_KIND_STRING, .store = PROBE_STORE_STR, .off = offsetof(s, f), .flags = fl, .doc = d }
#define PROBE_SET_INT(n, s, f, lo, hi, d) \
	{ .name = n, .kind = PROBE_KIND_INT, .store = PROBE_STORE_INT, .off = offsetof(s, f), .min = lo, .max = hi, .doc = d }
#define PROBE_SET_BOOL(n, s, f, d) \
	{ .name = n, .kind = PROBE_KIND_BOOL, .store = PROBE_STORE_BOOL, .off = offsetof(s, f), .doc = d }
#define PROBE_SET_DURATION(n, s, f, lo, d) \
	{ .name = n, .kind = PROBE_KIND_DURATION, .store = PROBE_STORE_U64, .off = offsetof(s, f), .min = lo, .doc = d }
#define PROBE_SET_REGEX(n, s, f, f2, d) \
	{ .name = n, .kind = PROBE_KIND_REGEX, .store = PROBE_STORE_STR, .off = offsetof(s, f), .off2 = offsetof(s, f2), .doc = d }
#define PROBE_SET_LIST(n, s, f, f2, d) \
	{ .name = n, .kind = PROBE_KIND_LIST, .store = PROBE_STORE_STRV, .off = offsetof(s, f), .off2 = offsetof(s, f2), .doc = d }
#define PROBE_SET_HOST(n, s, f, fl, h, d) \
	{ .name = n, .kind = PROBE_KIND_HOST, .store = PROBE_STORE_STR, .off = offsetof(s, f), .flags = fl, .hint = h, .doc = d }
/* A setting read by the loader's parser p, kept as st at f. */
#define PROBE_SET_CUSTOM(n, p, st, s, f, fl, h, d) \
	{ .name = n, .kind = PROBE_KIND_CUSTOM, .store = st, .off = offsetof(s, f), .flags = fl, .parser = p, .hint = h, .doc = d }
/* A setting read by the loader's parser p, hashed by fn. */
#define PROBE_SET_CUSTOM_FN(n, p, fn, d) \
	{ .name = n, .kind = PROBE_KIND_CUSTOM, .store = PROBE_STORE_FN, .parser = p, .hash = fn, .doc = d }
#define PROBE_SET_END { .name = NULL }

/* What validate() may ask of the config loader about the check (or the step
 * of a multi-step http check) being read. Setting names are as written:
 * "timeout", "expect.cert_min_days". The loader embeds it in a struct of its
 * own (agent/conf/conf_checks.c), so probes/ knows nothing of libconfig. */
struct probe_validate {
	const char *where;          /* how messages name it: "check \"api\"", "step 2 of check \"api\"" */
	bool step;                  /* a step of a multi-step http check */
	/* Whether the setting is written in the config. */
	bool (*present)(const struct probe_validate *v, const char *name);
	/* Whether it is written and was read without an error. */
	bool (*valid)(const struct probe_validate *v, const char *name);
	/* Records an error at the line of the setting (the check's own line when
	 * name is NULL or not written). */
	void (*error)(const struct probe_validate *v, const char *name, const char *fmt, ...)
		__attribute__((format(printf, 3, 4)));
};

struct probe_type {
	const char *name;           /* as written in `type = "..."` */
	const char *summary;        /* one line for people */
	/* The type's settings (offsets in struct check) and its assertions
	 * (offsets in struct check_expect); each ends with PROBE_SET_END. */
	const struct probe_setting *settings;
	const struct probe_setting *expect;
	/* Rules that combine settings, run after every setting of the check is
	 * read (NULL: none). Reports through v->error. */
	void (*validate)(const struct check *c, const struct probe_validate *v);
	/* What the check probes, for people: a new string; secrets may still be
	 * in it (the loader masks registered ones). */
	char *(*target)(const struct check *c);
	/* Starts a run (probe.c): returns 0, or -1 after calling
	 * probe_result_fail. NULL: a passive type, never probed. */
	int (*start)(struct probe_run *run);
	/* Stops the run's work and frees run->impl; no callback may reach the run after. */
	void (*abort)(struct probe_run *run);
	/* Prints the type's own lines of a result for `pharos probe` (NULL: none). */
	void (*details)(const struct check *c, const struct probe_result *r, FILE *out);
	/* Sets the defaults of the type's settings in c (check_init calls every
	 * type's; NULL: all zero). */
	void (*init)(struct check *c);
	/* Frees the type's settings in c (NULL: nothing of its own to free). */
	void (*free)(struct check *c);
};

/* One extern per line of PROBE_TYPE_LIST: probe_type_http, probe_type_tcp, ... */
#define PROBE_TYPE_EXTERN(upper, lower) extern const struct probe_type probe_type_##lower;
PROBE_TYPE_LIST(PROBE_TYPE_EXTERN)
#undef PROBE_TYPE_EXTERN

/* The settings every check has, whatever its type (name, type, group,
 * interval, timeout, retries, retry_interval, expect, depends_on). */
extern const struct probe_setting probe_check_settings[];

/* The descriptor of type t, or NULL when t is not a type. */
const struct probe_type *probe_type_get(enum check_type t);
/* The descriptor of check c's type (never NULL for a loaded check). */
const struct probe_type *probe_type_of(const struct check *c);
/* The type called name: its enum value, or -1. */
int probe_type_find(const char *name);
/* Whether checks of c's type are passive (fed by pushes, never probed). */
bool probe_type_passive(const struct check *c);
/* The setting called name in table (ending with PROBE_SET_END), or NULL. */
const struct probe_setting *probe_setting_find(const struct probe_setting *table, const char *name);

/* The reload fingerprint of c: a hash over every setting of the check
 * settings, of its type's settings and of its type's expect settings
 * (walking the tables; PROBE_NO_RELOAD ones left out). Equal means
 * unchanged on reload. */
uint64_t probe_check_fingerprint(const struct check *c);
/* Adds the settings of table found in base to h (for PROBE_STORE_FN hashes
 * of nested settings: the steps of a multi-step check). */
uint64_t probe_hash_table(uint64_t h, const struct probe_setting *table, const void *base);
/* Hash helpers for PROBE_STORE_FN settings. */
uint64_t probe_hash_str(uint64_t h, const char *s);
uint64_t probe_hash_u64(uint64_t h, uint64_t v);
uint64_t probe_hash_bytes(uint64_t h, const void *p, size_t n);

/* The target of c as its type shows it, or "" when the type is unknown: a
 * new string (secrets not yet masked). */
char *probe_check_target(const struct check *c);

#endif

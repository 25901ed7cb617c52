/* conf_internal.h — what the files of the config loader share (conf.c,
 * conf_subst.c, conf_checks.c, conf_alerts.c): the loader's state, the shape
 * of a settings table, and the helpers every section parser uses. Not part of
 * the contract: nothing outside agent/conf*.c includes it (see conf.h). */
#ifndef PHAROS_CONF_INTERNAL_H
#define PHAROS_CONF_INTERNAL_H

#include <libconfig.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf/conf.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* --- the loader: state of one conf_load ----------------------------------- */

struct err_line;            /* conf.c */
struct dep_ref;             /* conf_checks.c */

struct loader {
	const char *name;           /* what error lines start with */
	struct err_line *errs;
	size_t n_errs, cap_errs;
	bool too_many;
	char **secrets;             /* every secret seen; errors are masked against them */
	size_t n_secrets;
	char **tmp;                 /* strings built for messages, freed at the end */
	size_t n_tmp;
	struct conf *conf;          /* what is being built (checks before rules) */
	struct dep_ref *deps;       /* every depends_on entry, resolved after all checks */
	size_t n_deps;
	char **warnings;            /* "FILE:LINE: ..." logged when the load succeeds */
	size_t n_warnings;
	/* While a step of a multi-step http check is read: ${var:NAME} is kept
	 * for run time in the step's url, headers and body, and NAME must be
	 * extracted by an earlier step. */
	const config_setting_t *step;
	char **vars;                /* names extracted by the steps before this one */
	size_t n_vars;
};

/* The name of a section entry (a check, a rule, a notifier) and its line,
 * for "duplicate name" errors. */
struct name_seen {
	const char *name;
	int line;
};

/* --- the settings tables -------------------------------------------------- */

struct def;
typedef void parse_fn(struct loader *ld, const config_setting_t *s, void *base, const char *where);

enum kind {
	K_SKIP,         /* handled before conf_apply() (check name and type) */
	K_STR,          /* char * */
	K_INT,          /* int, min..max */
	K_BOOL,         /* bool */
	K_DURATION,     /* uint64_t ms, at least min */
	K_REGEX,        /* char * at off, pcre2_code * at off2 */
	K_STRLIST,      /* char ** at off, size_t at off2 */
	K_CUSTOM,       /* parse() */
};

#define F_REQUIRED 1u
#define F_SECRET   2u   /* never quoted, registered with log_secret_add */
#define F_NONEMPTY 4u
#define F_FILE     8u   /* a path that must be readable */

struct def {
	const char *name;
	enum kind kind;
	size_t off, off2;
	long long min, max;
	unsigned flags;
	parse_fn *parse;
	const char *hint;   /* for a missing required setting */
};

#define D_STR(n, st, f, fl)        { n, K_STR, offsetof(st, f), 0, 0, 0, fl, NULL, NULL }
#define D_INT(n, st, f, lo, hi)    { n, K_INT, offsetof(st, f), 0, lo, hi, 0, NULL, NULL }
#define D_BOOL(n, st, f)           { n, K_BOOL, offsetof(st, f), 0, 0, 0, 0, NULL, NULL }
#define D_DUR(n, st, f, lo)        { n, K_DURATION, offsetof(st, f), 0, lo, 0, 0, NULL, NULL }
#define D_RE(n, st, f, f2)         { n, K_REGEX, offsetof(st, f), offsetof(st, f2), 0, 0, 0, NULL, NULL }
#define D_LIST(n, st, f, f2)       { n, K_STRLIST, offsetof(st, f), offsetof(st, f2), 0, 0, 0, NULL, NULL }
#define D_FN(n, fn, fl, h)         { n, K_CUSTOM, 0, 0, 0, 0, fl, fn, h }
#define D_END                      { NULL, K_SKIP, 0, 0, 0, 0, 0, NULL, NULL }

/* Where an unknown name is looked up for a better message (SCOPE_NOTIFIER:
 * type is the index in notifier_types[]). */
enum scope { SCOPE_PLAIN, SCOPE_CHECK, SCOPE_EXPECT, SCOPE_STEP, SCOPE_NOTIFIER };

/* The tables other files look names up in for a better message (conf.c's
 * unknown-setting errors): conf_checks.c and conf_alerts.c. */
extern const struct def conf_check_defs[];
extern const struct def conf_step_defs[];
extern const struct def *const conf_type_defs[CHECK_TYPE_COUNT];
extern const struct def *const conf_expect_defs[CHECK_TYPE_COUNT];
/* The notifier types other than notifier_types[type] that have a setting
 * called name, for a message: "\"pagerduty\"", "\"slack\" and \"webhook\"";
 * NULL when none (conf_alerts.c). */
const char *conf_notifier_types_with(struct loader *ld, int type, const char *name);

/* --- conf.c: errors and messages ------------------------------------------ */

/* First nonzero line of s or its enclosing groups. */
int conf_setting_line(const config_setting_t *s);
/* Records an error at the line of s. */
__attribute__((format(printf, 3, 4)))
void conf_err(struct loader *ld, const config_setting_t *s, const char *fmt, ...);
/* Records a warning at the line of s, logged only when the load succeeds. */
__attribute__((format(printf, 3, 4)))
void conf_warn(struct loader *ld, const config_setting_t *s, const char *fmt, ...);
/* Whether an error was recorded about s itself (false for NULL). */
bool conf_had_error(const struct loader *ld, const config_setting_t *s);
/* Keeps s (a new string) until the load ends; returns it. */
const char *conf_tmp(struct loader *ld, char *s);
/* A quoted, printable form of a value for a message, cut at 80 characters. */
const char *conf_quote(struct loader *ld, const char *s);
/* "an integer", "a string", ... for a CONFIG_TYPE_*. */
const char *conf_type_desc(int type);
/* How to name s in a message: "\"port\"" or "\"status\" entry 2". */
const char *conf_sname(struct loader *ld, const config_setting_t *s);
/* The closest of n candidates to word for "did you mean", or NULL. */
const char *conf_closest(const char *word, const char *const *cands, size_t n);
/* " (did you mean \"hint\"?)", or "" when hint is NULL. */
const char *conf_did_you_mean(struct loader *ld, const char *hint);

/* --- conf.c: values ------------------------------------------------------- */

/* [A-Za-z0-9_.-]{1,64}: the names of checks, rules, notifiers, variables. */
bool conf_valid_name(const char *s);
/* A host name or an IPv4/IPv6 address without brackets. */
bool conf_valid_host(const char *s);
/* "host:port" / "[v6]:port" (a bare address too unless need_port; only IP
 * addresses when ip_only). Returns 0 or -1. */
int conf_parse_hostport(const char *s, bool need_port, bool ip_only);
/* Whether url is an http(s) URL curl can parse: 0, or -1 with *why set. */
int conf_check_http_url(const char *url, bool *https, const char **why);
/* Records that the URL setting s is not valid (why), password hidden. */
void conf_err_url(struct loader *ld, const config_setting_t *s, const char *where, const char *why);
/* The string value of s, substituted: a new string, or NULL after an error. */
char *conf_get_str(struct loader *ld, const config_setting_t *s, const char *where);
/* An integer from min to max into *out: 0, or -1 after an error. */
int conf_get_int(struct loader *ld, const config_setting_t *s, const char *where,
                 long long min, long long max, long long *out);
/* A string or an array of non-empty strings, appended to *v / *n: 0 or -1. */
int conf_get_strlist(struct loader *ld, const config_setting_t *s, const char *where,
                     char ***v, size_t *n);
/* A single value counts as a list of one: the number of values of s, and
 * value i. */
size_t conf_each(const config_setting_t *s);
const config_setting_t *conf_elem(const config_setting_t *s, size_t i);
/* conf_each(s), or 0 after an error when s is a group or an empty list:
 * "must be <what>", "must not be empty (<if_empty>)". */
size_t conf_values(struct loader *ld, const config_setting_t *s, const char *where,
                   const char *what, const char *if_empty);
/* Whether name is one of the n strings of list. */
bool conf_in_list(const char *const *list, size_t n, const char *name);

/* --- conf.c: walking a group against its tables --------------------------- */

const struct def *conf_find_def(const struct def *defs, const char *name);
/* Stores one known setting s according to its definition d. */
void conf_apply_one(struct loader *ld, const config_setting_t *s, const struct def *d,
                    void *base, const char *where);
/* Walks the group g against tables (NULL-terminated); see conf.c. */
void conf_apply(struct loader *ld, const config_setting_t *g, const struct def *const *tables,
                void *base, const char *where, enum scope scope, int type, bool lenient);
/* Whether s is a group; if not, an error naming what was expected. */
bool conf_want_group(struct loader *ld, const config_setting_t *s, const char *where);
/* The required, unique name of entry idx of a section; see conf.c. */
char *conf_read_name(struct loader *ld, const config_setting_t *g, const char *what, size_t idx,
                     struct name_seen *seen, size_t *n_seen, const char **where);
/* A section that is a list of groups: its length, or -1 after an error. */
int conf_section_list(struct loader *ld, const config_setting_t *s, const char *example);
/* Reads entry idx (the group g) of a section; seen / n_seen: the names of
 * the entries before it. */
typedef void entry_fn(struct loader *ld, struct conf *conf, const config_setting_t *g, size_t idx,
                      struct name_seen *seen, size_t *n_seen);
/* Calls fn for each of the n entries of the section s, in file order. */
void conf_section_entries(struct loader *ld, struct conf *conf, const config_setting_t *s, size_t n,
                          entry_fn *fn);

/* --- conf_subst.c: substitution and secrets ------------------------------- */

/* The string setting s with ${env:...}, ${file:...} and $${ replaced: a new
 * string, or NULL after an error. */
char *conf_expand(struct loader *ld, const config_setting_t *s, const char *where);
/* Registers a secret, for the log and this load's error lines. */
void conf_secret_add(struct loader *ld, const char *s);
/* A copy of url with its userinfo password as "***" (registered when ld). */
char *conf_url_hide_password(struct loader *ld, const char *url);
/* Wipes and frees a string that may hold a credential. */
void conf_free_secret(char *s);

/* --- conf_checks.c: the checks section ------------------------------------ */

void conf_parse_checks(struct loader *ld, struct conf *conf, const config_setting_t *s);
/* After the checks: depends_on names existing checks, without a cycle. */
void conf_resolve_dependencies(struct loader *ld, struct conf *conf);
/* The names (or distinct groups) of the checks read so far; caller frees
 * the array only. */
const char **conf_check_names(const struct conf *conf, bool groups, size_t *n);
/* Forgets the variables extracted by the steps of a check. */
void conf_free_vars(struct loader *ld);

/* --- conf_alerts.c: notifiers, alert rules, maintenance windows ----------- */

void conf_parse_notifiers(struct loader *ld, struct conf *conf, const config_setting_t *s);
void conf_parse_rules(struct loader *ld, struct conf *conf, const config_setting_t *s);
void conf_parse_maintenance(struct loader *ld, struct conf *conf, const config_setting_t *s);
/* A selector list (a string or an array of strings) into *v / *n, checked
 * against the checks read so far. */
void conf_get_selectors(struct loader *ld, const config_setting_t *s, const char *where,
                        char ***v, size_t *n);

/* --- conf_announce.c: announcements --------------------------------------- */

void conf_parse_announcements(struct loader *ld, struct conf *conf, const config_setting_t *s);

#endif

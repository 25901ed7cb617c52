/* conf_parse.h — what the files of the config loader share (agent/conf/):
 * the loader's state, the files of one load, the shape of a settings table,
 * and the helpers every section parser uses. Not part of the contract:
 * nothing outside agent/conf/ includes it (see conf.h). It builds on the
 * types (conf_types.h), the look-ups (conf_lookup.h) and the name index
 * (conf_names.h), never on conf.h: conf.c, the entry point, is the top of
 * the loader and no part below it calls it. */
#ifndef PHAROS_CONF_PARSE_H
#define PHAROS_CONF_PARSE_H

#include <libconfig.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "conf/conf_lookup.h"
#include "conf/conf_names.h"
#include "conf/conf_types.h"
#include "probes/probe_type.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

#define CONF_FILE_MAX      (64u * 1024 * 1024)  /* each config file */
#define CONF_ERRORS_MAX    100                  /* then "too many errors" */

/* --- the loader: state of one conf_load ----------------------------------- */

struct err_line;            /* conf_report.c */

/* One depends_on entry: check `from` names `name`, written at setting s. */
struct dep_ref {
	size_t from;
	const char *name;           /* borrowed from the check's depends_on */
	const config_setting_t *s;
};

/* One file of a load: the main one (order 0) or an included one, in the
 * order of the include list and, within a glob, sorted. Its parsed tree
 * lives until the load ends: errors point into it. */
struct conf_file {
	char *path;                 /* what its error lines start with */
	size_t order;               /* errors are sorted by file, then by line */
	config_t cfg;
	const char *conf_path;      /* the same path, owned by the conf (check->file) */
	dev_t dev;                  /* to read a file only once; ino 0: unknown */
	ino_t ino;
};

struct loader {
	const char *name;           /* the main file: what its error lines start with */
	struct conf_file **files;   /* [0] the main file once parsed, then the included */
	size_t n_files;
	struct err_line *errs;
	size_t n_errs, cap_errs;
	bool too_many;
	char **secrets;             /* every secret seen; errors are masked against them */
	size_t n_secrets;
	char **tmp;                 /* strings built for messages, freed at the end */
	size_t n_tmp, cap_tmp;
	struct conf *conf;          /* what is being built (checks before rules) */
	size_t entry_number;        /* of the section entry being read, in its file's list, from 1 */
	struct conf_select *select; /* built on the first conf_selects_any() */
	struct dep_ref *deps;       /* every depends_on entry, resolved after all checks */
	size_t n_deps;
	char **warnings;            /* "FILE:LINE: ..." logged when the load succeeds */
	size_t n_warnings, cap_warnings;
	/* While a step of a multi-step http check is read: ${var:NAME} is kept
	 * for run time in the step's url, headers and body, and NAME must be
	 * extracted by an earlier step. */
	const config_setting_t *step;
	char **vars;                /* names extracted by the steps before this one */
	size_t n_vars;
};

/* No longer filled: the names of checks, rules and notifiers are indexed in
 * the conf as they are read (conf_names.c), across every file, so duplicates
 * are found in linear time. The type stays in entry_fn and conf_read_name so
 * the section parsers keep their shape; they pass on NULL. */
struct name_seen;

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

/* The tables other files look names up in for a better message
 * (conf_apply.c's unknown-setting errors), in conf_tables.c. They are
 * built from the probe-type descriptors by conf_check_tables_init()
 * (conf_checks.c; conf_parse_checks calls it first). */
extern const struct def *conf_check_defs;
extern const struct def *conf_step_defs;
extern const struct def *conf_type_defs[CHECK_TYPE_COUNT];
extern const struct def *conf_expect_defs[CHECK_TYPE_COUNT];

/* --- conf_report.c: errors and messages ----------------------------------- */

/* First nonzero line of s or its enclosing groups. */
int conf_setting_line(const config_setting_t *s);
/* Records msg (a new string, now owned by ld) at line of the file with
 * that order (0: the main file); s: what it is about, or NULL. */
void conf_err_at(struct loader *ld, size_t file, int line, char *msg, const config_setting_t *s);
/* Records an error at the line of s, in the file s comes from. */
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
/* Whether no more errors will be shown (work for a better message is moot). */
bool conf_errors_full(const struct loader *ld);
/* Hands the loader's errors to errs: sorted by file and line, masked. */
void conf_errors_flush(struct loader *ld, struct conf_errors *errs);
/* Appends line (a new string, now owned by errs) to errs. */
void conf_errors_add(struct conf_errors *errs, char *line);
/* Logs the warnings of a load that succeeded. */
void conf_warnings_log(const struct loader *ld);
/* Frees the errors and warnings the loader collected. */
void conf_messages_free(struct loader *ld);
/* Frees what the loader holds (files too); the conf is not its (conf.c). */
void conf_loader_free(struct loader *ld);

/* --- conf_values.c: values ------------------------------------------------ */

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
/* A duration of at least min_ms into *out: 0, or -1 after an error. */
int conf_get_duration(struct loader *ld, const config_setting_t *s, const char *where,
                      uint64_t min_ms, uint64_t *out);
/* true or false into *out: 0, or -1 after an error. */
int conf_get_bool(struct loader *ld, const config_setting_t *s, const char *where, bool *out);
/* A regular expression: its text into *src and compiled into *re (both
 * replaced): 0, or -1 after an error. */
int conf_get_regex(struct loader *ld, const config_setting_t *s, const char *where,
                   char **src, pcre2_code **re);
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

/* --- conf_apply.c: walking a group against its tables --------------------- */

const struct def *conf_find_def(const struct def *defs, const char *name);
/* Stores one known setting s according to its definition d. */
void conf_apply_one(struct loader *ld, const config_setting_t *s, const struct def *d,
                    void *base, const char *where);
/* Walks the group g against tables (NULL-terminated); see conf.c. */
void conf_apply(struct loader *ld, const config_setting_t *g, const struct def *const *tables,
                void *base, const char *where, enum scope scope, int type, bool lenient);
/* Whether s is a group; if not, an error naming what was expected. */
bool conf_want_group(struct loader *ld, const config_setting_t *s, const char *where);
/* The required name of the entry g (a "check", "rule" or "notifier"), stored
 * at position idx of its array: unique across every file (see conf_apply.c).
 * seen and n_seen are not used (see struct name_seen). */
char *conf_read_name(struct loader *ld, const config_setting_t *g, const char *what, size_t idx,
                     struct name_seen *seen, size_t *n_seen, const char **where);

/* A section ("checks", "alerts", "notifiers", "maintenance", "announcements") is the union of
 * the lists of that name in the main file and in every included file, in
 * file order. The section parsers are handed s, the first of those lists
 * (conf_section_first), and size their array with conf_section_list. */
const config_setting_t *conf_section_first(const struct loader *ld, const char *name);
/* The number of entries of the section named like s, across every file; -1
 * when none of its lists is valid (an error was recorded for each). */
int conf_section_list(struct loader *ld, const config_setting_t *s, const char *example);
/* Reads the entry g of a section into position idx of its array. */
typedef void entry_fn(struct loader *ld, struct conf *conf, const config_setting_t *g, size_t idx,
                      struct name_seen *seen, size_t *n_seen);
/* Calls fn for each of the n entries of the section named like s, file by
 * file, in file order; idx counts across files. */
void conf_section_entries(struct loader *ld, struct conf *conf, const config_setting_t *s, size_t n,
                          entry_fn *fn);

/* --- conf_files.c: the files of a load ------------------------------------ */

/* Reads the file at path (text, at most CONF_FILE_MAX bytes): a new string,
 * or NULL with *why set (a new string: "cannot open the configuration: ...")
 * and *line set when the problem has one (a NUL byte), else 0. Never blocks
 * on a FIFO or a device, and refuses them, when regular_only. */
char *conf_file_read(const char *path, bool regular_only, int *line, char **why);
/* Registers the next file of this load (its order is its index). */
struct conf_file *conf_file_add(struct loader *ld, const char *path);
/* Parses text as the file f: 0, or -1 after recording its syntax error or a
 * refused "@include". */
int conf_file_parse(struct loader *ld, struct conf_file *f, const char *text);
/* The order of the file s comes from; 0 (the main file) for NULL. */
size_t conf_file_of(const struct loader *ld, const config_setting_t *s);
/* Reads every file the main file's include setting names (inc may be NULL)
 * and checks that those files hold only lists of entries. Returns 0, or -1
 * when a file could not be read or parsed (errors are recorded). */
int conf_files_include(struct loader *ld, struct conf *conf, const config_setting_t *inc);

/* --- conf_select.c: selectors at scale ----------------------------------- */

struct conf_select;
/* Whether selector ("*", a name, a glob, "group:NAME") selects any check;
 * ask only once every check is read (the answer is built then). */
bool conf_selects_any(struct loader *ld, const char *selector);
void conf_select_free(struct conf_select *sel);

/* --- conf_agent.c: the agent and defaults sections ------------------------ */

/* The agent settings before the config is read. */
void conf_agent_defaults(struct conf_agent *a);
void conf_parse_agent(struct loader *ld, struct conf *conf, const config_setting_t *s);
void conf_parse_defaults(struct loader *ld, struct conf *conf, const config_setting_t *s);

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

/* Builds the check tables above, once per process (thread-safe). */
void conf_check_tables_init(void);
/* conf_validate.c: */
/* Runs the type's rules that combine settings on c, read from the group g
 * (a check's, or a step's when step). */
void conf_validate_check(struct loader *ld, const config_setting_t *g, const struct check *c,
                         const char *where, bool step);

void conf_parse_checks(struct loader *ld, struct conf *conf, const config_setting_t *s);
/* After the checks: depends_on names existing checks, without a cycle. */
void conf_resolve_dependencies(struct loader *ld, struct conf *conf);
/* The names (or distinct groups) of the checks read so far; caller frees
 * the array only. */
const char **conf_check_names(const struct conf *conf, bool groups, size_t *n);
/* Forgets the variables extracted by the steps of a check. */
void conf_free_vars(struct loader *ld);

/* --- conf_check_values.c, conf_check_http.c: the parsers of check settings -- */

/* A parser as the probe-type tables name it (struct probe_setting.parser). */
struct conf_parser {
	const char *name;
	parse_fn *fn;
};
/* conf_check_http.c's parsers (url, method, ..., steps, status, json). */
extern const struct conf_parser conf_http_parsers[];
/* The parser called name, or NULL. */
parse_fn *conf_check_parser(const char *name);
/* expect = { ... } of a check or of a step, through its type's expect table. */
parse_fn conf_parse_expect;

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

/* engine_internal.h — what engine.c (state machine, evaluation) and
 * engine_build.c (engine_set_conf: instances from a configuration) share.
 * engine_build.c builds on engine.c, never the other way round (no cycle).
 * Nothing outside alerts/engine*.c includes it (the contract is engine.h). */
#ifndef PHAROS_ENGINE_INTERNAL_H
#define PHAROS_ENGINE_INTERNAL_H

#include "alerts/engine.h"
#include "alerts/maintenance.h"
#include "alerts/window.h"
#include "core/util.h"

#define VALUE_MAX 64

struct eng_check {
	const struct check *c;      /* in e->conf.checks */
	uint64_t failures, successes;
	bool have_result, last_ok;
	bool seen_ok;               /* a successful run since start */
	bool primed;                /* history given by engine_prime */
	bool have_ping;
	int64_t last_ping_ms;
	int64_t failing_since_ms;   /* start of the current failure streak; 0 while passing */
	int64_t cert_expiry_s;      /* leaf notAfter (Unix s); 0: none seen */
	char *message;              /* last result's message; NULL: none */
	char run_id[UTIL_ID_LEN];   /* last result's run; "" before the first */
	struct window *win;         /* never NULL once configured */
	size_t *deps; size_t n_deps;        /* indices into e->checks */
	size_t *maint; size_t n_maint;      /* maintenance windows selecting it */
	size_t *inst; size_t n_inst;        /* its instances, indices into e->inst */
	bool maint_held;            /* an evaluation was held back by maintenance */
	bool reeval;                /* this tick: its window ended, evaluate all */
};

struct eng_inst {
	const struct alert_rule *rule;      /* in e->conf.rules */
	size_t check;               /* index into e->checks */
	const char *rule_name;      /* rule->name */
	const char *check_name;     /* the check's name */
	enum alert_state state;
	int64_t since_ms, fired_ms, last_sent_ms;
	char alert_id[UTIL_ID_LEN];
	char value[VALUE_MAX];      /* the latest evaluation */
	/* The value that made `when` true when this episode fired: every
	 * notification of the episode (repeats, resolved) carries it, so all
	 * receivers show one value. "" while not firing. */
	char fired_value[VALUE_MAX];
	char run_id[UTIL_ID_LEN];   /* the run behind the latest change; "" when unknown */
	bool timer;                 /* when/recover change with time alone */
	bool needs_counts;          /* reads the consecutive counts */
	bool restored;              /* state from engine_restore, not yet moved */
	bool carried;               /* set_conf: state moved to the new set */
};

struct engine {
	struct engine_hooks hooks;
	struct engine_conf conf;    /* what is installed (valid when have_conf) */
	bool have_conf;
	struct maintenance *maint;
	struct eng_check *checks;   /* sorted by name */
	size_t n_checks;
	/* by_conf[i]: the index in checks of conf.checks[i], so a result's
	 * check (a pointer into the installed conf) is found without comparing
	 * names: this runs once per result. */
	size_t *by_conf;
	struct eng_inst *inst;      /* sorted by (rule name, check name) */
	size_t n_inst;
};

/* The check / instance named so in a sorted array, or NULL. */
struct eng_check *eng_find_check(const struct eng_check *v, size_t n, const char *name);
struct eng_inst *eng_find_inst(const struct eng_inst *v, size_t n, const char *rule,
                               const char *check);
/* The engine's entry for c: by position when c is in the installed conf,
 * else by name (a run that started before a reload); NULL when unknown. */
struct eng_check *eng_check_of(const struct engine *e, const struct check *c);
/* Orders for qsort: checks by name, instances by (rule, check) name. */
int eng_check_cmp(const void *a, const void *b);
int eng_inst_cmp(const void *a, const void *b);

/* Reports an instance that is no longer configured (engine.c). c is its check
 * in the installed conf (NULL when unknown). A firing one resolves. */
void eng_inst_gone(struct engine *e, struct eng_inst *in, const struct check *c, int64_t now_ms);

/* Frees a checks array and what its elements own (engine.c). */
void eng_checks_free(struct eng_check *v, size_t n);

#endif

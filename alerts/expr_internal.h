/* expr_internal.h — what expr.c (nodes, evaluation, formatting) and
 * expr_parse.c (lexer, parser) share: the node shape and the tables of
 * metrics and operators. Not for other modules: they use expr.h. */
#ifndef PHAROS_EXPR_INTERNAL_H
#define PHAROS_EXPR_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alerts/expr.h"

/* What a value literal is; also what a metric must be compared to. */
enum expr_value_kind { VALUE_NUMBER, VALUE_DURATION, VALUE_PERCENT };

enum expr_op { OP_GT, OP_GE, OP_LT, OP_LE, OP_EQ, OP_NE };

enum expr_kind { NODE_CMP, NODE_NOT, NODE_AND, NODE_OR };

struct expr {
	enum expr_kind kind;
	union {
		struct {
			enum expr_metric metric;
			uint64_t window_ms;         /* windowed metrics only */
			enum expr_op op;
			double threshold;           /* ms for durations, percent for percentages */
		} cmp;
		struct expr *operand;           /* NODE_NOT */
		struct {                        /* NODE_AND, NODE_OR: two or more operands */
			struct expr **v;
			size_t n;
		} list;
	} u;
};

/* What each metric is: its name, whether it takes a window, what it is
 * compared to. */
struct expr_metric_info {
	const char *name;
	bool windowed;
	enum expr_value_kind kind;
	unsigned pct;                       /* percentile for pXX_latency */
	const char *example;                /* for type errors */
};
extern const struct expr_metric_info expr_metrics[EXPR_METRIC_COUNT];

/* ">", ">=", ... by enum expr_op. */
extern const char *const expr_op_names[];

/* A new node of kind, zeroed. */
struct expr *expr_node_new(enum expr_kind kind);
/* Appends child to an and/or node (takes ownership). */
void expr_node_push(struct expr *list, struct expr *child);

#endif

/* conf_tables.c — the loader's tables of a check, of a step, of each check
 * type and of each type's expect. conf_checks.c fills them once per process
 * (conf_check_tables_init) from the probe-type descriptors; conf_apply.c
 * looks names up in them for its unknown-setting messages. Data only, so
 * the walk over a group does not depend on the parsers the tables name. */
#include "conf/conf_parse.h"

const struct def *conf_check_defs;
const struct def *conf_step_defs;
const struct def *conf_type_defs[CHECK_TYPE_COUNT];
const struct def *conf_expect_defs[CHECK_TYPE_COUNT];

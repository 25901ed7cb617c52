/* conf_names.h — names in a configuration (conf_names.c): whether a name is
 * valid, and an index from the names of checks, rules and notifiers to
 * their positions. Needs nothing of the loader. */
#ifndef PHAROS_CONF_NAMES_H
#define PHAROS_CONF_NAMES_H

#include <stdbool.h>
#include <stddef.h>

struct conf_names;

/* [A-Za-z0-9_.-]{1,64}: the names of checks, rules, notifiers, variables. */
bool conf_valid_name(const char *s);

/* Adds name (borrowed: it must outlive the index) at position pos, defined
 * at line of the file with that order. When the name is already there, adds
 * nothing and returns false with the first definition's file and line. */
bool conf_names_add(struct conf_names **idx, const char *name, size_t pos, size_t file, int line,
                    size_t *first_file, int *first_line);
/* The position of name, or -1. */
long conf_names_find(const struct conf_names *idx, const char *name);
void conf_names_free(struct conf_names *idx);

#endif

/* database.h — what an agent.database setting names: a SQLite file path or a
 * URI of another store (only its scheme is looked at here). Shared by the
 * config loader (check-config) and the store's dispatch, which must agree. */
#ifndef PHAROS_DATABASE_H
#define PHAROS_DATABASE_H

#include <stddef.h>

enum database_kind {
	DATABASE_SQLITE,            /* a path: the embedded default */
	DATABASE_POSTGRESQL,        /* postgresql:// or postgres:// (libpq URI) */
	DATABASE_UNKNOWN            /* "scheme://..." of no store pharos has */
};

/* The kind of value. A value is a URI when it starts with a scheme
 * (letter, then letters, digits, '+', '-', '.') followed by "://"; anything
 * else is a path. For a URI, the scheme (lower case, cut to fit) goes into
 * scheme when it is not NULL; the rest of the value (which may hold a
 * password) is never copied. */
enum database_kind database_kind(const char *value, char *scheme, size_t scheme_len);

/* Why value cannot be used by this pharos, in words for "FILE:LINE: ..." or a
 * log line, or NULL when it can: a SQLite path, or a PostgreSQL URI that
 * libpq parses (PQconninfoParse: its form only, nothing is contacted). The
 * text never repeats the value's password. Returns a pointer into buf. */
const char *database_unsupported(const char *value, char *buf, size_t len);

/* value as it may appear in logs and messages: a path as is, a URI without
 * its password (the userinfo's ":secret" and any password= parameter are
 * removed). Returns buf. */
const char *database_display(const char *value, char *buf, size_t len);

#endif

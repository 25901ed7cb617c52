/* store_open.c — the one place that names the store implementations: which
 * one agent.database selects, and opening the writer (store.c) and the read
 * connections on it. It sits above store.c, store_read.c and the
 * implementations, so none of them depends on another through it. */
#include <stdio.h>

#include "core/database.h"
#include "store/store_impl.h"

const struct store_ops *store_ops_for(const char *database, char *err, size_t errlen)
{
	const char *why;

	if (database == NULL || database[0] == '\0') {
		snprintf(err, errlen, "no database path");
		return NULL;
	}
	why = database_unsupported(database, err, errlen);
	if (why != NULL)
		return NULL;
	if (database_kind(database, NULL, 0) == DATABASE_POSTGRESQL)
		return &store_pg_ops;
	return &store_sqlite_ops;
}

/* Opens the database agent.database names through its implementation (which
 * creates and migrates what is missing) and starts the writer thread.
 * Returns NULL with err filled on failure; nothing is left running then. */
struct store *store_open(const char *path, char *err, size_t errlen)
{
	const struct store_ops *ops = store_ops_for(path, err, errlen);

	return ops != NULL ? store_start(ops, path, err, errlen) : NULL;
}

struct store_reader *store_reader_open(const char *database, char *err, size_t errlen)
{
	const struct store_ops *ops = store_ops_for(database, err, errlen);

	return ops != NULL ? ops->reader_open(database, err, errlen) : NULL;
}

/* pg_conn.h — libpq glue shared by the PostgreSQL store's halves (writer,
 * readers, rollups) and by migrate-db: connecting with a timeout and an error
 * in words, running statements with text parameters, and the pure pieces
 * (partition names, VALUES lists, failure kinds) the unit tests check.
 * Only agent/store/ and the migrate command include this. */
#ifndef PHAROS_PG_CONN_H
#define PHAROS_PG_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#define PG_CONNECT_TIMEOUT_S "10"   /* unless the URI sets connect_timeout */

/* --- pure helpers ------------------------------------------------------------ */

/* What went wrong in libpq's connection failure message, in words a person
 * acts on: "the server cannot be reached", "the host name does not resolve",
 * "authentication failed", "the database does not exist", "TLS failed", or
 * "connection failed" when nothing matches. */
const char *pg_failure_kind(const char *libpq_message);

/* The first line of a libpq message, without "ERROR:  " / "FATAL:  " and
 * trailing white space. */
void pg_first_line(const char *msg, char *buf, size_t len);

/* The name of the day partition of table for UTC day number day
 * (Unix seconds / 86400): "results_p20261203". */
void pg_partition_name(const char *table, int64_t day, char *buf, size_t len);
/* The day number of a partition name made by pg_partition_name() for table,
 * or -1 when name is not one. */
int64_t pg_partition_day(const char *table, const char *name);

/* "($first,$first+1,...),(...)": rows tuples of cols parameters each,
 * numbered from first. A new string. */
char *pg_values_sql(size_t rows, size_t cols, size_t first);

/* --- text parameters ---------------------------------------------------------- */

/* Parameters for PQexecParams, all in text format; NULL is SQL NULL. */
struct pg_params {
	size_t n, cap;
	const char **values;
	char **owned;           /* what the params below allocated, freed by clear */
	size_t n_owned, cap_owned;
};

void pg_params_text(struct pg_params *p, const char *s);       /* not copied */
/* s, or a copy with '?' for its bytes >= 0x80 when s is not valid UTF-8
 * (a probe's message may quote a peer's bytes; PostgreSQL refuses those). */
void pg_params_clean_text(struct pg_params *p, const char *s);
/* As pg_params_clean_text, always copied (s may go away before the query). */
void pg_params_text_copy(struct pg_params *p, const char *s);
void pg_params_int(struct pg_params *p, int64_t v);
/* v, or NULL when v == none. */
void pg_params_opt_int(struct pg_params *p, int64_t v, int64_t none);
void pg_params_bool(struct pg_params *p, bool v);
void pg_params_clear(struct pg_params *p);      /* empties p for reuse */
void pg_params_free(struct pg_params *p);

/* --- connections ------------------------------------------------------------- */

/* Connects to uri (a postgresql:// or postgres:// URI in libpq syntax) with
 * connect_timeout (PG_CONNECT_TIMEOUT_S unless the URI sets it), TCP
 * keepalives and application_name "pharos". NULL with err: "cannot connect to
 * PostgreSQL at user@host:port/db: KIND: libpq's first line" — never the
 * password. */
PGconn *pg_connect(const char *uri, char *err, size_t errlen);

/* Makes sure c is connected: resets a broken connection once. Returns 0, or
 * -1 with err as pg_connect() words it. what names the database in err. */
int pg_ensure(PGconn *c, const char *what, char *err, size_t errlen);

/* Runs sql (no parameters, no rows expected). Returns 0, or -1 with err
 * "what: message". */
int pg_exec(PGconn *c, const char *sql, const char *what, char *err, size_t errlen);

/* Runs sql with p (NULL: none). Returns the result when its status is
 * COMMAND_OK or TUPLES_OK, else NULL with err "what: message". */
PGresult *pg_query(PGconn *c, const char *sql, const struct pg_params *p, const char *what,
                   char *err, size_t errlen);

/* A column as an integer (none when NULL) and as text ("" when NULL). */
int64_t pg_int(const PGresult *r, int row, int col, int64_t none);
const char *pg_text(const PGresult *r, int row, int col);
bool pg_bool(const PGresult *r, int row, int col);

#endif

/* migrate.c — `pharos migrate-db --from FILE --to URI`: copies a SQLite
 * database of pharos (results, rollups and their marks, alert state and
 * history, the outbox, incidents and their updates) into an empty PostgreSQL one, with progress on
 * stderr. The source is read in one read transaction (a consistent snapshot,
 * even while an agent still writes it); the target gets the PostgreSQL
 * store's schema, then every row in one transaction: a failed copy leaves it
 * empty, ready for another try. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "core/database.h"
#include "core/util.h"
#include "migrate.h"
#include "store/store_pg.h"

#define SOURCE_SCHEMA 5         /* the SQLite store's schema this copier reads */
#define COPY_BATCH 1000         /* rows per INSERT */
#define PROGRESS_EVERY 100000   /* rows between progress lines */

enum { EXIT_OK = 0, EXIT_FAILED = 1, EXIT_USAGE = 2 };

const char migrate_usage[] =
	"usage: pharos migrate-db --from FILE --to URI\n"
	"\n"
	"Copies the SQLite database FILE (results, rollups, alert state and history,\n"
	"the outbox, incidents) into the empty PostgreSQL database URI (postgresql://...), with\n"
	"progress on stderr. Stop the agent first (or the copy misses what it writes\n"
	"afterwards), then set agent.database to URI. A target that already holds\n"
	"pharos data is refused.\n"
	"Exit: 0 copied, 1 failed (the target is left empty), 2 usage or non-empty target.\n";

/* One table, the same name and columns on both sides. */
struct copy_table {
	const char *name;
	const char *columns;
	unsigned bool_mask;         /* bit i: column i is 0/1 in SQLite, boolean in PostgreSQL */
	const char *order;
	const char *sequence;       /* moved past the copied ids, or NULL */
};

#define AGG_COLUMNS "check_name, bucket_start_s, count, failures, latency_sum_us," \
	" latency_min_us, latency_max_us, h0, h1, h2, h3, h4, h5, h6, h7, h8, h9, h10, h11," \
	" h12, h13, h14, h15"

static const struct copy_table tables[] = {
	{ "results", "id, check_name, ts_us, duration_us, ok, error, message, dns_us, connect_us,"
	  " tls_us, ttfb_us, status_code, bytes, cert_expiry, attempts, run_id, details, location",
	  1u << 4, "id", "results_id_seq" },
	{ "alert_state", "rule, check_name, state, since_us, fired_us, last_sent_us, alert_id, value",
	  0, "rule, check_name", NULL },
	{ "notifications", "id, key, notifier, rule, check_name, alert_id, kind, event, state,"
	  " attempts, created_us, next_attempt_us, last_error, delivered_us, seq",
	  0, "id", "notifications_id_seq" },
	{ "alert_history", "id, rule, check_name, alert_id, from_state, to_state, ts_us, value",
	  0, "id", "alert_history_id_seq" },
	{ "rollup_minute", AGG_COLUMNS, 0, "check_name, bucket_start_s", NULL },
	{ "rollup_hour", AGG_COLUMNS, 0, "check_name, bucket_start_s", NULL },
	{ "rollup_day", AGG_COLUMNS, 0, "check_name, bucket_start_s", NULL },
	{ "incidents", "id, check_name, started_us, ended_us, last_failure_us, failures,"
	  " cause_error, cause_message", 0, "id", "incidents_id_seq" },
	{ "incident_updates", "id, incident_id, ts_us, status, message",
	  0, "id", "incident_updates_id_seq" },
};
#define N_TABLES (sizeof(tables) / sizeof(tables[0]))

static size_t column_count(const char *columns)
{
	size_t n = 1;

	for (const char *p = columns; *p != '\0'; p++)
		n += *p == ',';
	return n;
}

/* --- the source ---------------------------------------------------------------- */

static int64_t sqlite_count(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	int64_t n = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

/* Opens path read-only and checks it is a pharos database of the schema this
 * copier knows. NULL after printing why. */
static sqlite3 *open_source(const char *path)
{
	sqlite3 *db = NULL;
	int64_t v;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		fprintf(stderr, "pharos migrate-db: cannot open %s: %s\n", path,
		        db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db, 5000);
	v = sqlite_count(db, "PRAGMA user_version");
	if (v != SOURCE_SCHEMA) {
		fprintf(stderr, "pharos migrate-db: %s is not a pharos database of schema %d"
		        " (found %" PRId64 "%s)\n", path, SOURCE_SCHEMA, v,
		        v >= 0 && v < SOURCE_SCHEMA ? ": run this pharos on it once to migrate it" : "");
		sqlite3_close(db);
		return NULL;
	}
	return db;
}

/* --- the target ---------------------------------------------------------------- */

/* *rows: whether table exists in the target and has a row (a table of a
 * later migration than the target's is not there yet). */
static int table_has_rows(PGconn *c, const char *table, bool *rows, char *err, size_t errlen)
{
	struct pg_params p = { 0 };
	PGresult *r;
	char *sql;

	pg_params_text(&p, table);
	r = pg_query(c, "SELECT to_regclass($1) IS NOT NULL", &p, "looking at the target", err,
	             errlen);
	pg_params_free(&p);
	if (r == NULL)
		return -1;
	*rows = pg_bool(r, 0, 0);
	PQclear(r);
	if (!*rows)
		return 0;
	sql = xasprintf("SELECT EXISTS (SELECT 1 FROM %s)", table);
	r = pg_query(c, sql, NULL, "looking at the target", err, errlen);
	free(sql);
	if (r == NULL)
		return -1;
	*rows = pg_bool(r, 0, 0);
	PQclear(r);
	return 0;
}

/* 0 when the target holds no pharos rows (no schema, or empty tables), 1
 * when it does (printed), -1 on error (err). */
static int target_holds_data(PGconn *c, const char *shown, char *err, size_t errlen)
{
	PGresult *r = pg_query(c, "SELECT to_regclass('pharos_schema') IS NOT NULL", NULL,
	                       "looking at the target", err, errlen);
	bool has_schema;

	if (r == NULL)
		return -1;
	has_schema = pg_bool(r, 0, 0);
	PQclear(r);
	if (!has_schema)
		return 0;
	for (size_t i = 0; i < N_TABLES; i++) {
		bool rows;

		if (table_has_rows(c, tables[i].name, &rows, err, errlen) != 0)
			return -1;
		if (rows) {
			fprintf(stderr, "pharos migrate-db: %s is not empty (table %s has rows):"
			        " migrate into an empty database\n", shown, tables[i].name);
			return 1;
		}
	}
	return 0;
}

/* Creates the results partition of every day the source has results of. */
static int create_partitions(sqlite3 *src, PGconn *dst, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	int rc = 0;

	if (sqlite3_prepare_v2(src, "SELECT DISTINCT ts_us / 86400000000 FROM results", -1, &st,
	                       NULL) != SQLITE_OK) {
		snprintf(err, errlen, "reading result days: %s", sqlite3_errmsg(src));
		return -1;
	}
	while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
		char *sql = pg_partition_create_sql(sqlite3_column_int64(st, 0));

		rc = pg_exec(dst, sql, "creating a results partition", err, errlen);
		free(sql);
	}
	sqlite3_finalize(st);
	return rc;
}

/* INSERTs the n rows gathered in p into t. */
static int flush_rows(PGconn *dst, const struct copy_table *t, struct pg_params *p, size_t n,
                      char *err, size_t errlen)
{
	char *values, *sql;
	PGresult *r;

	if (n == 0)
		return 0;
	values = pg_values_sql(n, column_count(t->columns), 1);
	sql = xasprintf("INSERT INTO %s (%s) VALUES %s", t->name, t->columns, values);
	r = pg_query(dst, sql, p, t->name, err, errlen);
	free(values);
	free(sql);
	pg_params_clear(p);
	PQclear(r);
	return r != NULL ? 0 : -1;
}

/* Adds column i of the current row of st to p as PostgreSQL wants it. */
static void param_of(struct pg_params *p, sqlite3_stmt *st, int i, bool is_bool)
{
	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		pg_params_text(p, NULL);
	else if (is_bool)
		pg_params_bool(p, sqlite3_column_int(st, i) != 0);
	else
		pg_params_text_copy(p, (const char *)sqlite3_column_text(st, i));
}

/* Copies table t, COPY_BATCH rows per INSERT, printing progress. */
static int copy_table(sqlite3 *src, PGconn *dst, const struct copy_table *t, char *err,
                      size_t errlen)
{
	char *sql = xasprintf("SELECT count(*) FROM %s", t->name);
	int64_t total = sqlite_count(src, sql), done = 0;
	int ncol = (int)column_count(t->columns);
	struct pg_params p = { 0 };
	sqlite3_stmt *st = NULL;
	size_t n = 0;
	int rc = 0, step;

	free(sql);
	sql = xasprintf("SELECT %s FROM %s ORDER BY %s", t->columns, t->name, t->order);
	if (sqlite3_prepare_v2(src, sql, -1, &st, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "reading %s: %s", t->name, sqlite3_errmsg(src));
		free(sql);
		return -1;
	}
	free(sql);
	while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
		for (int i = 0; i < ncol; i++)
			param_of(&p, st, i, (t->bool_mask >> i) & 1u);
		if (++n == COPY_BATCH) {
			rc = flush_rows(dst, t, &p, n, err, errlen);
			n = 0;
		}
		if (++done % PROGRESS_EVERY == 0)
			fprintf(stderr, "migrate-db: %s: %" PRId64 " of %" PRId64 " rows\n", t->name, done,
			        total);
	}
	if (rc == 0 && step != SQLITE_DONE) {
		snprintf(err, errlen, "reading %s: %s", t->name, sqlite3_errmsg(src));
		rc = -1;
	}
	if (rc == 0)
		rc = flush_rows(dst, t, &p, n, err, errlen);
	sqlite3_finalize(st);
	pg_params_free(&p);
	if (rc == 0)
		fprintf(stderr, "migrate-db: %s: %" PRId64 " rows copied\n", t->name, done);
	return rc;
}

/* The sequences past the copied ids, and the rollup derivation marks. */
static int copy_marks(sqlite3 *src, PGconn *dst, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	int rc = 0;

	for (size_t i = 0; i < N_TABLES && rc == 0; i++) {
		char *sql;

		if (tables[i].sequence == NULL)
			continue;
		sql = xasprintf("SELECT setval('%s', (SELECT coalesce(max(id), 0) + 1 FROM %s), false)",
		                tables[i].sequence, tables[i].name);
		rc = pg_exec(dst, sql, "moving a sequence", err, errlen);
		free(sql);
	}
	if (rc != 0)
		return -1;
	if (sqlite3_prepare_v2(src, "SELECT name, value FROM rollup_meta", -1, &st, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "reading rollup_meta: %s", sqlite3_errmsg(src));
		return -1;
	}
	while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
		struct pg_params p = { 0 };
		PGresult *r;

		pg_params_text_copy(&p, (const char *)sqlite3_column_text(st, 0));
		pg_params_int(&p, sqlite3_column_int64(st, 1));
		r = pg_query(dst, "UPDATE rollup_meta SET value = $2 WHERE name = $1", &p,
		             "rollup marks", err, errlen);
		rc = r != NULL ? 0 : -1;
		PQclear(r);
		pg_params_free(&p);
	}
	sqlite3_finalize(st);
	return rc;
}

/* Everything in one target transaction, from one source snapshot. */
static int copy_all(sqlite3 *src, PGconn *dst, char *err, size_t errlen)
{
	int rc = -1;

	if (sqlite3_exec(src, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "reading the source: %s", sqlite3_errmsg(src));
		return -1;
	}
	if (pg_exec(dst, "BEGIN", "begin", err, errlen) != 0)
		goto out;
	if (create_partitions(src, dst, err, errlen) != 0)
		goto rollback;
	for (size_t i = 0; i < N_TABLES; i++)
		if (copy_table(src, dst, &tables[i], err, errlen) != 0)
			goto rollback;
	if (copy_marks(src, dst, err, errlen) != 0 ||
	    pg_exec(dst, "COMMIT", "commit", err, errlen) != 0)
		goto rollback;
	rc = 0;
	goto out;
rollback:
	PQclear(PQexec(dst, "ROLLBACK"));
out:
	sqlite3_exec(src, "COMMIT", NULL, NULL, NULL);
	return rc;
}

/* --- the command ------------------------------------------------------------------ */

/* Parses --from and --to. Returns 0, 1 for --help, -1 after printing why. */
static int parse_args(int argc, char **argv, const char **from, const char **to)
{
	static const struct option opts[] = {
		{ "from", required_argument, NULL, 'f' },
		{ "to",   required_argument, NULL, 't' },
		{ "help", no_argument,       NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (ch) {
		case 'f': *from = optarg; break;
		case 't': *to = optarg; break;
		case 'h': return 1;
		case ':':
			fprintf(stderr, "pharos migrate-db: option %s needs a value\n", argv[optind - 1]);
			return -1;
		default:
			fprintf(stderr, "pharos migrate-db: unknown option %s\n", argv[optind - 1]);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "pharos migrate-db: unexpected argument \"%s\"\n", argv[optind]);
		return -1;
	}
	if (*from == NULL || *to == NULL) {
		fprintf(stderr, "pharos migrate-db: both --from FILE and --to URI are needed\n");
		return -1;
	}
	return 0;
}

/* Checks the two values' kinds. Returns 0 or -1 after printing why. */
static int check_kinds(const char *from, const char *to)
{
	char why[256];

	if (database_kind(from, NULL, 0) != DATABASE_SQLITE) {
		fprintf(stderr, "pharos migrate-db: --from takes a SQLite file path\n");
		return -1;
	}
	if (database_kind(to, NULL, 0) != DATABASE_POSTGRESQL) {
		fprintf(stderr, "pharos migrate-db: --to takes a postgresql:// URI\n");
		return -1;
	}
	if (database_unsupported(to, why, sizeof(why)) != NULL) {
		fprintf(stderr, "pharos migrate-db: --to: %s\n", why);
		return -1;
	}
	return 0;
}

int migrate_db_main(int argc, char **argv)
{
	const char *from = NULL, *to = NULL;
	char err[512], shown[512];
	sqlite3 *src = NULL;
	PGconn *dst = NULL;
	int rc = EXIT_FAILED, busy;
	time_t t0 = time(NULL);

	switch (parse_args(argc, argv, &from, &to)) {
	case 1:
		fputs(migrate_usage, stdout);
		return EXIT_OK;
	case -1:
		fputs(migrate_usage, stderr);
		return EXIT_USAGE;
	}
	if (check_kinds(from, to) != 0)
		return EXIT_USAGE;
	database_display(to, shown, sizeof(shown));
	src = open_source(from);
	if (src == NULL)
		return EXIT_FAILED;
	dst = pg_connect(to, err, sizeof(err));
	if (dst == NULL) {
		fprintf(stderr, "pharos migrate-db: %s\n", err);
		goto out;
	}
	busy = target_holds_data(dst, shown, err, sizeof(err));
	if (busy != 0) {
		if (busy < 0)
			fprintf(stderr, "pharos migrate-db: %s\n", err);
		rc = busy > 0 ? EXIT_USAGE : EXIT_FAILED;
		goto out;
	}
	fprintf(stderr, "migrate-db: copying %s into %s\n", from, shown);
	if (pg_migrate(dst, err, sizeof(err)) != 0 || copy_all(src, dst, err, sizeof(err)) != 0) {
		fprintf(stderr, "pharos migrate-db: %s (nothing was copied)\n", err);
		goto out;
	}
	fprintf(stderr, "migrate-db: done in %lld s: set agent.database to the PostgreSQL URI\n",
	        (long long)(time(NULL) - t0));
	rc = EXIT_OK;
out:
	PQfinish(dst);
	sqlite3_close(src);
	return rc;
}

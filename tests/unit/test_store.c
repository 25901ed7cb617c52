/* test_store.c — the SQLite store: migrations, batched writes, flush, the
 * reader queries, and failing commits (unhealthy, retried, recovered). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "unit.h"

#include "core/database.h"
#include "core/log.h"
#include "probes/result.h"
#include "store/store.h"
#include "store/store_impl.h"
#include "core/util.h"

#define SEC 1000000LL

static char tmpdir[64];

static void rm_rf(const char *dir)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static int setup(void **state)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/pharos-test-store-XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	rm_rf(tmpdir);
	return 0;
}

/* A result like a probe would produce: i decides ok, duration and phases. */
static void make_result(struct probe_result *r, int64_t ts_us, int i)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->run_id, sizeof(r->run_id), "%016x", (unsigned)i);
	r->start_us = ts_us;
	r->duration_us = (int64_t)(i + 1) * 1000;       /* 1 ms .. */
	r->ok = i % 10 != 0;                            /* 90 % success */
	r->error = r->ok ? PROBE_OK : PROBE_ERR_TIMEOUT;
	snprintf(r->message, sizeof(r->message), r->ok ? "fine %d" : "timed out %d", i);
	r->dns_us = 100;
	r->connect_us = i % 2 ? 200 : -1;
	r->tls_us = -1;
	r->ttfb_us = -1;
	r->status_code = i % 3 ? 200 : -1;
	r->bytes = 42;
	r->cert_expiry = 0;
	r->attempts = 1;
	r->details = i == 0 ? json_pack("{s:s}", "rcode", "NOERROR") : NULL;
}

static int sql_int(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int v = -1;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static void sql_exec(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	char *msg = NULL;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", sql, msg);
	sqlite3_close(db);
}

/* Opening creates the parent directories and the schema; reopening applies no
 * migration twice and keeps the data. */
static void test_open_migrate(void **state)
{
	char path[128], err[256] = "";
	struct store *s;
	struct stat st;
	struct probe_result r;

	snprintf(path, sizeof(path), "%s/a/b/pharos.db", tmpdir);
	s = store_open(path, err, sizeof(err));
	assert_non_null(s);
	assert_true(store_healthy(s));
	assert_int_equal(stat(path, &st), 0);
	make_result(&r, util_wall_us(), 1);
	store_append(s, "web", &r);
	store_close(s);

	assert_int_equal(sql_int(path, "PRAGMA user_version"), 5);
	s = store_open(path, err, sizeof(err));
	assert_non_null(s);
	store_close(s);
	assert_int_equal(sql_int(path, "PRAGMA user_version"), 5);
	assert_int_equal(sql_int(path, "SELECT count(*) FROM results"), 1);
	assert_int_equal(sql_int(path, "SELECT count(*) FROM sqlite_master WHERE name = 'results_check_ts'"), 1);
	{
		char dir[100];

		snprintf(dir, sizeof(dir), "%s/a/b", tmpdir);
		assert_int_equal(stat(dir, &st), 0);
		assert_int_equal(st.st_mode & 0777, 0750);
	}
}

/* A database written by a newer pharos is refused, not downgraded. */
static void test_newer_schema_refused(void **state)
{
	char path[128], err[256] = "";
	struct store *s;

	snprintf(path, sizeof(path), "%s/new.db", tmpdir);
	sql_exec(path, "PRAGMA user_version = 99");
	s = store_open(path, err, sizeof(err));
	assert_null(s);
	assert_non_null(strstr(err, "newer"));
}

/* A parent that is a file: NULL and a message naming the directory. */
static void test_open_fails(void **state)
{
	char path[256], file[128], err[256] = "";
	FILE *f;

	snprintf(file, sizeof(file), "%s/plainfile", tmpdir);
	f = fopen(file, "w");
	assert_non_null(f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/sub/pharos.db", file);
	assert_null(store_open(path, err, sizeof(err)));
	assert_non_null(strstr(err, "plainfile"));
	assert_non_null(strstr(err, "Not a directory"));

	/* Permissions do not stop root: only as another user. */
	if (geteuid() != 0) {
		char dir[100];

		snprintf(dir, sizeof(dir), "%s/ro", tmpdir);
		assert_int_equal(mkdir(dir, 0500), 0);
		snprintf(path, sizeof(path), "%s/pharos.db", dir);
		err[0] = '\0';
		assert_null(store_open(path, err, sizeof(err)));
		assert_true(err[0] != '\0');
		chmod(dir, 0700);
	}
}

/* 1000 rows in, flushed, read back with since/until/limit; uptime and latency
 * percentiles computed over them. */
static void test_append_and_read(void **state)
{
	char path[128], err[256] = "";
	struct store *s;
	struct store_reader *rd;
	struct probe_result r;
	int64_t base = util_wall_us() - 2000 * SEC;
	json_t *rows, *row;
	double p50 = -1, p95 = -1;
	char ts[40];

	snprintf(path, sizeof(path), "%s/rw.db", tmpdir);
	s = store_open(path, err, sizeof(err));
	assert_non_null(s);
	for (int i = 0; i < 1000; i++) {
		make_result(&r, base + i * SEC, i);
		store_append(s, "web", &r);
		probe_result_clear(&r);
	}
	make_result(&r, base, 5);
	store_append(s, "other", &r);
	store_flush(s);
	assert_true(store_healthy(s));
	assert_int_equal(sql_int(path, "SELECT count(*) FROM results"), 1001);

	rd = store_reader_open(path, err, sizeof(err));
	assert_non_null(rd);

	rows = store_results(rd, "web", 0, 0, 1000);
	assert_non_null(rows);
	assert_int_equal(json_array_size(rows), 1000);
	/* newest first */
	util_format_time(base + 999 * SEC, ts, sizeof(ts));
	assert_string_equal(json_string_value(json_object_get(json_array_get(rows, 0), "ts")), ts);
	/* the oldest row carries what was written */
	row = json_array_get(rows, 999);
	assert_string_equal(json_string_value(json_object_get(row, "run_id")), "0000000000000000");
	assert_false(json_is_true(json_object_get(row, "ok")));
	assert_string_equal(json_string_value(json_object_get(row, "error")), "timeout");
	assert_string_equal(json_string_value(json_object_get(row, "message")), "timed out 0");
	assert_true(json_is_null(json_object_get(row, "status_code")));
	assert_int_equal(json_integer_value(json_object_get(row, "bytes")), 42);
	assert_true(json_is_null(json_object_get(row, "cert_expiry")));
	assert_null(json_object_get(json_object_get(row, "phases_ms"), "connect"));
	assert_true(json_real_value(json_object_get(json_object_get(row, "phases_ms"), "dns")) == 0.1);
	assert_string_equal(json_string_value(json_object_get(json_object_get(row, "details"), "rcode")),
	                    "NOERROR");
	assert_true(json_real_value(json_object_get(row, "duration_ms")) == 1.0);
	json_decref(rows);

	/* since <= ts < until */
	rows = store_results(rd, "web", base + 100 * SEC, base + 200 * SEC, 1000);
	assert_int_equal(json_array_size(rows), 100);
	util_format_time(base + 199 * SEC, ts, sizeof(ts));
	assert_string_equal(json_string_value(json_object_get(json_array_get(rows, 0), "ts")), ts);
	util_format_time(base + 100 * SEC, ts, sizeof(ts));
	assert_string_equal(json_string_value(json_object_get(json_array_get(rows, 99), "ts")), ts);
	json_decref(rows);

	rows = store_results(rd, "web", 0, 0, 5);
	assert_int_equal(json_array_size(rows), 5);
	json_decref(rows);
	rows = store_results(rd, "nope", 0, 0, 5);
	assert_int_equal(json_array_size(rows), 0);
	json_decref(rows);

	/* one in ten failed */
	assert_true(store_uptime(rd, "web", base) == 90.0);
	assert_true(store_uptime(rd, "web", base + 995 * SEC) == 100.0);
	assert_true(store_uptime(rd, "nope", base) == -1);
	assert_true(store_uptime(rd, "web", util_wall_us() + SEC) == -1);

	/* durations 1..1000 ms: nearest rank p50 = 500, p95 = 950; the rollups'
	 * histogram gets within a few percent (rollup.c, test_rollup.c) */
	assert_int_equal(store_latency(rd, "web", base, &p50, &p95), 0);
	assert_true(p50 >= 475.0 && p50 <= 525.0);
	assert_true(p95 >= 900.0 && p95 <= 1000.0);
	assert_int_equal(store_latency(rd, "web", base + 999 * SEC, &p50, &p95), 0);
	assert_true(p50 == 1000.0 && p95 == 1000.0);
	assert_int_equal(store_latency(rd, "nope", base, &p50, &p95), -1);

	store_reader_close(rd);
	store_close(s);
}

/* A reader on a missing file fails instead of creating it. */
static void test_reader_missing(void **state)
{
	char path[128], err[256] = "";
	struct stat st;

	snprintf(path, sizeof(path), "%s/missing.db", tmpdir);
	assert_null(store_reader_open(path, err, sizeof(err)));
	assert_true(err[0] != '\0');
	assert_int_equal(stat(path, &st), -1);
}

/* Waits (bounded) until the store's health is want. */
static bool wait_healthy(struct store *s, bool want, int timeout_ms)
{
	uint64_t end = util_mono_ms() + (uint64_t)timeout_ms;
	struct timespec ts = { 0, 10 * 1000 * 1000 };

	while (store_healthy(s) != want) {
		if (util_mono_ms() > end)
			return false;
		nanosleep(&ts, NULL);
	}
	return true;
}

/* Commits that fail (here: the table vanished under the writer) make the store
 * unhealthy with SQLite's message; the rows stay queued and land once the
 * database works again. flush() never hangs meanwhile. */
static void test_unhealthy_and_recover(void **state)
{
	char path[128], err[256] = "", msg[256];
	struct store *s;
	struct probe_result r;
	int64_t now = util_wall_us();

	snprintf(path, sizeof(path), "%s/fail.db", tmpdir);
	s = store_open(path, err, sizeof(err));
	assert_non_null(s);
	make_result(&r, now, 1);
	store_append(s, "web", &r);
	store_flush(s);
	assert_true(store_healthy(s));
	store_last_error(s, msg, sizeof(msg));
	assert_string_equal(msg, "");

	sql_exec(path, "DROP TABLE results");
	for (int i = 0; i < 10; i++)
		store_append(s, "web", &r);
	store_flush(s);         /* returns after the failed attempt */
	assert_false(store_healthy(s));
	store_last_error(s, msg, sizeof(msg));
	assert_non_null(strstr(msg, "no such table"));

	sql_exec(path,
	         "CREATE TABLE results (id INTEGER PRIMARY KEY, check_name TEXT NOT NULL,"
	         " ts_us INTEGER NOT NULL, duration_us INTEGER NOT NULL, ok INTEGER NOT NULL,"
	         " error TEXT NOT NULL, message TEXT NOT NULL, dns_us INTEGER, connect_us INTEGER,"
	         " tls_us INTEGER, ttfb_us INTEGER, status_code INTEGER, bytes INTEGER,"
	         " cert_expiry INTEGER, attempts INTEGER NOT NULL, run_id TEXT NOT NULL, details TEXT,"
	         " location TEXT NOT NULL DEFAULT '')");
	assert_true(wait_healthy(s, true, 15000));
	store_flush(s);
	assert_int_equal(sql_int(path, "SELECT count(*) FROM results"), 10);
	store_close(s);
}

/* While commits fail the queue is bounded: past 100,000 rows the oldest are
 * dropped, and the rest land once the database works again. */
static void test_queue_bounded(void **state)
{
	char path[128], err[256] = "";
	struct store *s;
	struct probe_result r;

	snprintf(path, sizeof(path), "%s/bounded.db", tmpdir);
	s = store_open(path, err, sizeof(err));
	assert_non_null(s);
	sql_exec(path, "ALTER TABLE results RENAME TO results_away");
	make_result(&r, util_wall_us(), 1);
	for (int i = 0; i < 100010; i++) {
		r.start_us = i;     /* the oldest ones are the ones dropped */
		store_append(s, "web", &r);
	}
	store_flush(s);
	assert_false(store_healthy(s));
	sql_exec(path, "ALTER TABLE results_away RENAME TO results");
	assert_true(wait_healthy(s, true, 15000));
	store_flush(s);
	assert_int_equal(sql_int(path, "SELECT count(*) FROM results"), 100000);
	assert_int_equal(sql_int(path, "SELECT min(ts_us) FROM results"), 10);
	assert_int_equal(store_dropped_results(s), 10);
	store_close(s);
}

/* Closing while commits fail does not hang and drops what cannot be written. */
static void test_close_while_failing(void **state)
{
	char path[128], err[256] = "";
	struct store *s;
	struct probe_result r;

	snprintf(path, sizeof(path), "%s/close.db", tmpdir);
	s = store_open(path, err, sizeof(err));
	assert_non_null(s);
	sql_exec(path, "DROP TABLE results");
	make_result(&r, util_wall_us(), 3);
	for (int i = 0; i < 3; i++)
		store_append(s, "web", &r);
	store_close(s);
}

/* agent.database: a path is SQLite, postgresql:// and postgres:// (any case)
 * name the PostgreSQL store, any other "scheme://" is unknown. */
static void test_database_kind(void **state)
{
	static const char *const paths[] = {
		"/var/lib/pharos/pharos.db", "pharos.db", "./data/p.db", "../x://y.db",
		"C:/pharos.db", "file.db?mode=ro", "1abc://x",
	};
	char scheme[32];

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		assert_int_equal(database_kind(paths[i], scheme, sizeof(scheme)), DATABASE_SQLITE);
		assert_string_equal(scheme, "");
	}
	assert_int_equal(database_kind("postgresql://pharos@db/pharos", scheme, sizeof(scheme)),
	                 DATABASE_POSTGRESQL);
	assert_string_equal(scheme, "postgresql");
	assert_int_equal(database_kind("postgres://db", NULL, 0), DATABASE_POSTGRESQL);
	assert_int_equal(database_kind("PostgreSQL://db", scheme, sizeof(scheme)), DATABASE_POSTGRESQL);
	assert_string_equal(scheme, "postgresql");
	assert_int_equal(database_kind("mysql://db/x", scheme, sizeof(scheme)), DATABASE_UNKNOWN);
	assert_string_equal(scheme, "mysql");
	assert_int_equal(database_kind("sqlite+wal://x", NULL, 0), DATABASE_UNKNOWN);
}

/* The dispatch: a path gets the SQLite implementation, a PostgreSQL URI the
 * PostgreSQL one; a URI that cannot be used fails (writer and reader) with a
 * reason that never repeats the password. */
static void test_dispatch(void **state)
{
	char path[128], err[256] = "";

	snprintf(path, sizeof(path), "%s/dispatch.db", tmpdir);
	assert_ptr_equal(store_ops_for(path, err, sizeof(err)), &store_sqlite_ops);
	assert_null(store_ops_for("", err, sizeof(err)));
	assert_string_equal(err, "no database path");

	err[0] = '\0';
	assert_ptr_equal(store_ops_for("postgresql://pharos:s3cret@db/pharos", err, sizeof(err)),
	                 &store_pg_ops);
	assert_ptr_equal(store_ops_for("postgres://db/pharos", err, sizeof(err)), &store_pg_ops);
	err[0] = '\0';
	assert_null(store_ops_for("postgresql://pharos:s3cret@db:notaport/pharos", err, sizeof(err)));
	assert_non_null(strstr(err, "not a valid PostgreSQL URI"));
	assert_null(strstr(err, "s3cret"));
	/* Nothing listens on port 1: refused at once, said in words, no password. */
	err[0] = '\0';
	assert_null(store_open("postgres://pharos:s3cret@127.0.0.1:1/pharos", err, sizeof(err)));
	assert_non_null(strstr(err, "cannot connect to PostgreSQL at postgres://pharos@127.0.0.1:1/pharos"));
	assert_non_null(strstr(err, "cannot be reached"));
	assert_null(strstr(err, "s3cret"));
	err[0] = '\0';
	assert_null(store_reader_open("postgresql://127.0.0.1:1/pharos", err, sizeof(err)));
	assert_non_null(strstr(err, "cannot connect to PostgreSQL"));

	err[0] = '\0';
	assert_null(store_open("mysql://root:s3cret@db/pharos", err, sizeof(err)));
	assert_non_null(strstr(err, "unknown database scheme \"mysql://\""));
	assert_null(strstr(err, "s3cret"));
	err[0] = '\0';
	assert_null(store_reader_open("redis://db", err, sizeof(err)));
	assert_non_null(strstr(err, "unknown database scheme"));
}

struct typed_seen {
	int n;
	int64_t ts[4];
	enum probe_error err[4];
	bool ok[4];
	int64_t duration_us[4];
	char rcode[4][16];
};

static void typed_collect(void *arg, const struct store_result *res)
{
	struct typed_seen *t = arg;
	const char *rcode = json_string_value(json_object_get(res->details, "rcode"));

	assert_true(t->n < 4);
	t->ts[t->n] = res->ts_us;
	t->err[t->n] = res->error;
	t->ok[t->n] = res->ok;
	t->duration_us[t->n] = res->duration_us;
	snprintf(t->rcode[t->n], sizeof(t->rcode[t->n]), "%s", rcode ? rcode : "");
	t->n++;
}

/* The typed read the agent restarts from: the newest results, oldest first,
 * with the error as its enum and the details as an object. */
static void test_recent_results_typed(void **state)
{
	char path[128], err[256] = "";
	struct store *s;
	struct store_reader *rd;
	struct probe_result r;
	struct typed_seen seen = { 0 };
	int64_t t0 = util_wall_us() - 60 * SEC;

	snprintf(path, sizeof(path), "%s/typed.db", tmpdir);
	s = store_open(path, err, sizeof(err));
	assert_non_null(s);
	for (int i = 0; i < 3; i++) {       /* i = 0: failed (timeout), with details */
		make_result(&r, t0 + i * SEC, i);
		store_append(s, "dns", &r);
		json_decref(r.details);
	}
	make_result(&r, t0 + 3 * SEC, 4);
	r.ok = false;
	r.error = PROBE_ERR_ABORTED;
	store_append(s, "dns", &r);
	store_flush(s);
	rd = store_reader_open(path, err, sizeof(err));
	assert_non_null(rd);

	assert_int_equal(store_recent_results(rd, "dns", 0, 3, typed_collect, &seen), 0);
	assert_int_equal(seen.n, 3);
	assert_true(seen.ts[0] == t0 + 1 * SEC && seen.ts[1] == t0 + 2 * SEC && seen.ts[2] == t0 + 3 * SEC);
	assert_int_equal(seen.err[0], PROBE_OK);
	assert_int_equal(seen.err[2], PROBE_ERR_ABORTED);
	assert_false(seen.ok[2]);
	assert_int_equal(seen.duration_us[1], 3000);

	memset(&seen, 0, sizeof(seen));
	assert_int_equal(store_recent_results(rd, "dns", t0, 1, typed_collect, &seen), 0);
	assert_int_equal(seen.n, 1);
	assert_int_equal(seen.err[0], PROBE_ERR_ABORTED);

	memset(&seen, 0, sizeof(seen));       /* since_us cuts the older ones */
	assert_int_equal(store_recent_results(rd, "dns", t0, 10, typed_collect, &seen), 0);
	assert_int_equal(seen.n, 4);
	assert_int_equal(seen.err[0], PROBE_ERR_TIMEOUT);
	assert_string_equal(seen.rcode[0], "NOERROR");
	assert_string_equal(seen.rcode[1], "");
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(store_recent_results(rd, "dns", t0 + 2 * SEC, 10, typed_collect, &seen), 0);
	assert_int_equal(seen.n, 2);

	store_reader_close(rd);
	store_close(s);
}

/* The start-up reads, one statement for every check. */
struct batch_seen {
	int latest_n;
	int64_t latest_ts[3];
	char latest_rcode[3][16];
	int runs_n[3];
	int64_t runs_ts[3][8];
	bool runs_ok[3][8];
	enum probe_error runs_err[3][8];
};

static void latest_collect(void *arg, size_t i, const struct store_result *res)
{
	struct batch_seen *b = arg;
	const char *rcode = json_string_value(json_object_get(res->details, "rcode"));

	assert_true(i < 3);
	assert_int_equal(b->latest_ts[i], 0);   /* once per check */
	b->latest_ts[i] = res->ts_us;
	snprintf(b->latest_rcode[i], sizeof(b->latest_rcode[i]), "%s", rcode ? rcode : "");
	b->latest_n++;
}

static void runs_collect(void *arg, size_t i, const struct store_run *run)
{
	struct batch_seen *b = arg;
	int k;

	assert_true(i < 3);
	k = b->runs_n[i]++;
	assert_true(k < 8);
	b->runs_ts[i][k] = run->ts_us;
	b->runs_ok[i][k] = run->ok;
	b->runs_err[i][k] = run->error;
}

static void test_start_reads_batched(void **state)
{
	static const char *const checks[] = { "web", "dns", "none" };
	char path[128], err[256] = "";
	struct store *s;
	struct store_reader *rd;
	struct probe_result r;
	struct batch_seen seen = { 0 };
	int64_t t0 = util_wall_us() - 60 * SEC;

	snprintf(path, sizeof(path), "%s/batched.db", tmpdir);
	s = store_open(path, err, sizeof(err));
	assert_non_null(s);
	for (int i = 0; i < 5; i++) {       /* dns: 5 runs, the first failed with details */
		make_result(&r, t0 + i * SEC, i);
		store_append(s, "dns", &r);
		json_decref(r.details);
	}
	for (int i = 0; i < 2; i++) {       /* web: 2 runs; other: not asked for */
		make_result(&r, t0 + (10 + i) * SEC, i + 1);
		store_append(s, "web", &r);
		store_append(s, "other", &r);
		json_decref(r.details);
	}
	store_flush(s);
	rd = store_reader_open(path, err, sizeof(err));
	assert_non_null(rd);

	assert_int_equal(store_latest_results(rd, checks, 3, latest_collect, &seen), 0);
	assert_int_equal(seen.latest_n, 2);
	assert_true(seen.latest_ts[0] == t0 + 11 * SEC);
	assert_true(seen.latest_ts[1] == t0 + 4 * SEC);
	assert_true(seen.latest_ts[2] == 0);

	/* The newest 3 since t0 + 1 s of each, oldest first. */
	assert_int_equal(store_recent_runs(rd, checks, 3, t0 + SEC, 3, runs_collect, &seen), 0);
	assert_int_equal(seen.runs_n[0], 2);
	assert_int_equal(seen.runs_n[1], 3);
	assert_int_equal(seen.runs_n[2], 0);
	assert_true(seen.runs_ts[0][0] == t0 + 10 * SEC && seen.runs_ts[0][1] == t0 + 11 * SEC);
	assert_true(seen.runs_ts[1][0] == t0 + 2 * SEC && seen.runs_ts[1][2] == t0 + 4 * SEC);
	memset(&seen, 0, sizeof(seen));       /* since_us cuts the older ones */
	assert_int_equal(store_recent_runs(rd, checks, 3, t0, 10, runs_collect, &seen), 0);
	assert_int_equal(seen.runs_n[1], 5);
	assert_int_equal(seen.runs_err[1][0], PROBE_ERR_TIMEOUT);
	assert_false(seen.runs_ok[1][0]);
	assert_true(seen.runs_ok[1][1]);

	store_reader_close(rd);
	store_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_migrate),
		cmocka_unit_test(test_newer_schema_refused),
		cmocka_unit_test(test_open_fails),
		cmocka_unit_test(test_append_and_read),
		cmocka_unit_test(test_reader_missing),
		cmocka_unit_test(test_unhealthy_and_recover),
		cmocka_unit_test(test_queue_bounded),
		cmocka_unit_test(test_close_while_failing),
		cmocka_unit_test(test_database_kind),
		cmocka_unit_test(test_dispatch),
		cmocka_unit_test(test_recent_results_typed),
		cmocka_unit_test(test_start_reads_batched),
	};

	log_setup(LOG_FORMAT_LOGFMT, LOG_ERROR);
	return cmocka_run_group_tests(tests, setup, teardown);
}

/* test_store_pg.c — the PostgreSQL store: its pure parts (URI form and
 * display without password, failure words, partition names, SQL building),
 * and, when PHAROS_TEST_PG_URI names an empty scratch database, the store
 * itself against a real server (results, rollups, outbox ids and dedup,
 * alert state). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#include "alerts/outbox.h"
#include "core/database.h"
#include "core/log.h"
#include "core/util.h"
#include "probes/result.h"
#include "store/pg_conn.h"
#include "store/store.h"
#include "store/store_pg.h"

/* --- pure parts ----------------------------------------------------------------- */

static void test_display_hides_password(void **state)
{
	char b[256];

	assert_string_equal(database_display("postgresql://pharos:s3cret@db.internal:5433/pharos"
	                                     "?sslmode=require", b, sizeof(b)),
	                    "postgresql://pharos@db.internal:5433/pharos?sslmode=require");
	assert_string_equal(database_display("postgres://db/pharos?password=s3cret&sslmode=verify-full",
	                                     b, sizeof(b)),
	                    "postgres://db/pharos?sslmode=verify-full");
	assert_string_equal(database_display("postgres://u@h/d", b, sizeof(b)), "postgres://u@h/d");
	assert_string_equal(database_display("postgres://h", b, sizeof(b)), "postgres://h");
	assert_string_equal(database_display("/var/lib/pharos/pharos.db", b, sizeof(b)),
	                    "/var/lib/pharos/pharos.db");
	/* '@' in the password is percent-encoded; the last '@' ends the userinfo. */
	assert_string_equal(database_display("postgresql://u:p%40ss@h:1/d", b, sizeof(b)),
	                    "postgresql://u@h:1/d");
}

static void test_uri_form(void **state)
{
	char why[256];

	assert_null(database_unsupported("postgresql://pharos@db.internal/pharos?sslmode=require",
	                                 why, sizeof(why)));
	assert_null(database_unsupported("postgres://", why, sizeof(why)));
	assert_null(database_unsupported("postgresql://h1:5432,h2:5432/pharos"
	                                 "?target_session_attrs=read-write", why, sizeof(why)));
	assert_non_null(database_unsupported("postgresql://db/pharos?sslmod=require", why, sizeof(why)));
	assert_non_null(strstr(why, "not a valid PostgreSQL URI"));
	assert_non_null(strstr(why, "sslmod"));
	assert_non_null(database_unsupported("postgresql://db:port/x", why, sizeof(why)));
	/* A password libpq cannot decode is never echoed. */
	assert_non_null(database_unsupported("postgresql://u:se%zzcret@db/x", why, sizeof(why)));
	assert_null(strstr(why, "se%zzcret"));
	assert_null(strstr(why, "cret"));
	assert_non_null(database_unsupported("mysql://x", why, sizeof(why)));
	assert_non_null(strstr(why, "unknown database scheme"));
}

static void test_failure_words(void **state)
{
	char line[128];

	assert_string_equal(pg_failure_kind("connection to server at \"127.0.0.1\", port 1 failed:"
	                                    " Connection refused\n\tIs the server running"),
	                    "the server cannot be reached (connection refused)");
	assert_string_equal(pg_failure_kind("connection to server at \"db\" failed: FATAL:  password"
	                                    " authentication failed for user \"pharos\""),
	                    "authentication failed");
	assert_string_equal(pg_failure_kind("FATAL:  database \"nope\" does not exist"),
	                    "the database does not exist");
	assert_string_equal(pg_failure_kind("could not translate host name \"db\" to address"),
	                    "the host name does not resolve");
	assert_string_equal(pg_failure_kind("server does not support SSL, but SSL was required"),
	                    "TLS failed");
	assert_string_equal(pg_failure_kind("something new"), "connection failed");
	pg_first_line("FATAL:  role \"x\" does not exist\nDETAIL: y", line, sizeof(line));
	assert_string_equal(line, "role \"x\" does not exist");
	pg_first_line("ERROR:  boom  \n", line, sizeof(line));
	assert_string_equal(line, "boom");
}

static void test_partition_names(void **state)
{
	char name[64];
	char *sql;

	pg_partition_name("results", 0, name, sizeof(name));
	assert_string_equal(name, "results_p19700101");
	pg_partition_name("results", 20790, name, sizeof(name));      /* 2026-12-03 */
	assert_string_equal(name, "results_p20261203");
	pg_partition_name("results", 11016, name, sizeof(name));      /* 2000-02-29 */
	assert_string_equal(name, "results_p20000229");
	for (int64_t d = -800; d < 60000; d += 37) {
		pg_partition_name("results", d < 0 ? -d : d, name, sizeof(name));
		assert_int_equal(pg_partition_day("results", name), d < 0 ? -d : d);
	}
	assert_int_equal(pg_partition_day("results", "results_p2026120"), -1);
	assert_int_equal(pg_partition_day("results", "results_default"), -1);
	assert_int_equal(pg_partition_day("results", "other_p20261203"), -1);
	assert_int_equal(pg_partition_day("results", "results_p20261303"), -1);
	sql = pg_partition_create_sql(20790);
	assert_string_equal(sql, "CREATE TABLE IF NOT EXISTS results_p20261203 PARTITION OF results"
	                    " FOR VALUES FROM (1796256000000000) TO (1796342400000000)");
	free(sql);
}

static void test_values_sql(void **state)
{
	char *s = pg_values_sql(2, 3, 1);
	struct pg_params p = { 0 };

	assert_string_equal(s, "($1,$2,$3),($4,$5,$6)");
	free(s);
	s = pg_values_sql(1, 2, 5);
	assert_string_equal(s, "($5,$6)");
	free(s);
	pg_params_int(&p, -42);
	pg_params_opt_int(&p, -1, -1);
	pg_params_bool(&p, true);
	pg_params_clean_text(&p, "caf\xc3\xa9");
	pg_params_clean_text(&p, "bad \xff byte");
	assert_int_equal(p.n, 5);
	assert_string_equal(p.values[0], "-42");
	assert_null(p.values[1]);
	assert_string_equal(p.values[2], "t");
	assert_string_equal(p.values[3], "caf\xc3\xa9");
	assert_string_equal(p.values[4], "bad ? byte");
	pg_params_free(&p);
}

/* --- against a server (PHAROS_TEST_PG_URI) --------------------------------------------- */

static void make_result(struct probe_result *r, int64_t ts_us, int i)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->run_id, sizeof(r->run_id), "%016x", (unsigned)i);
	r->start_us = ts_us;
	r->duration_us = (int64_t)(i + 1) * 1000;
	r->ok = i % 10 != 0;
	r->error = r->ok ? PROBE_OK : PROBE_ERR_TIMEOUT;
	snprintf(r->message, sizeof(r->message), "run %d \xff", i);
	r->dns_us = 100;
	r->connect_us = -1;
	r->tls_us = -1;
	r->ttfb_us = -1;
	r->status_code = i % 3 ? 200 : -1;
	r->bytes = -1;
	r->attempts = 1;
}

static int64_t first_id;

static void committed(int rc, const int64_t *ids, size_t n, void *arg)
{
	assert_int_equal(rc, 0);
	*(int64_t *)arg = n > 0 ? ids[0] : -1;
}

/* One alert unit: a firing state, one notification with key, one history line. */
static void queue_alert(struct store *s, const char *key, int64_t *id)
{
	struct outbox_tx tx = { 0 };
	struct alert_state_row st = { .rule = "down", .check = "web", .state = ALERT_FIRING,
	                              .since_us = 1, .fired_us = 1, .alert_id = "a1", .value = "3" };
	struct alert_history_row h = { .rule = "down", .check = "web", .alert_id = "a1",
	                               .from_state = "ok", .to_state = "firing", .ts_us = 5 };
	struct alert_event ev = { .kind = ALERT_EVENT_FIRING, .rule = "down", .check = "web",
	                          .group = "", .alert_id = "a1", .ts_us = 5, .value = "3",
	                          .message = "m", .url = "", .expr = "x", .location = "" };
	char *notify[] = { "ops" };

	outbox_tx_add_state(&tx, &st);
	outbox_tx_add_history(&tx, &h);
	outbox_tx_add_event(&tx, &ev, notify, 1, util_wall_us());
	free(tx.rows[0].key);
	tx.rows[0].key = xstrdup(key);
	store_alert_commit(s, &tx, committed, id);
}

static void test_live(void **state)
{
	const char *uri = getenv("PHAROS_TEST_PG_URI");
	char err[512] = "";
	struct store *s;
	struct store_reader *r;
	struct probe_result res;
	struct alert_state_row *rows;
	size_t n;
	int64_t now = util_wall_us(), id2 = -1;
	json_t *arr;

	if (uri == NULL || uri[0] == '\0') {
		skip();
		return;
	}
	s = store_open(uri, err, sizeof(err));
	assert_non_null(s);
	for (int i = 0; i < 20; i++) {
		make_result(&res, now - (int64_t)(20 - i) * 1000000, i);
		store_append(s, "web", &res);
	}
	make_result(&res, now - 3LL * 86400 * 1000000, 1);     /* a day without a partition yet */
	store_append(s, "web", &res);
	queue_alert(s, "k1", &first_id);
	queue_alert(s, "k1", &id2);         /* the same key: not inserted twice */
	store_flush(s);
	assert_true(store_healthy(s));
	assert_true(first_id > 0);
	assert_int_equal(id2, 0);

	r = store_reader_open(uri, err, sizeof(err));
	assert_non_null(r);
	arr = store_results(r, "web", 0, 0, 100);
	assert_non_null(arr);
	assert_int_equal(json_array_size(arr), 21);
	assert_string_equal(json_string_value(json_object_get(json_array_get(arr, 0), "message")),
	                    "run 19 ?");
	json_decref(arr);
	assert_true(store_uptime(r, "web", now - 60LL * 1000000) > 80.0);
	assert_int_equal(store_alert_states(r, &rows, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(rows[0].alert_id, "a1");
	alert_state_row_clear(&rows[0]);
	free(rows);
	arr = store_alert_history(r, "web", 10);
	assert_int_equal(json_array_size(arr), 2);
	json_decref(arr);
	store_reader_close(r);
	store_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_display_hides_password),
		cmocka_unit_test(test_uri_form),
		cmocka_unit_test(test_failure_words),
		cmocka_unit_test(test_partition_names),
		cmocka_unit_test(test_values_sql),
		cmocka_unit_test(test_live),
	};

	log_setup(LOG_FORMAT_LOGFMT, LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

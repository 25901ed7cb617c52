/* test_incidents.c — incidents in the store: derived from committed results
 * (open at the first failure, counted, closed at the first pass, aborted
 * runs ignored), across batches and restarts, the alerts that fired during
 * one, status updates through the writer, the read with its filters, and a
 * store without incident ops answering -2. Each store test runs on SQLite,
 * and on PostgreSQL when PHAROS_TEST_PG_URI names a scratch database (it is
 * emptied: DROP OWNED BY the URI's role). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"

#include "alerts/outbox.h"
#include "core/log.h"
#include "core/util.h"
#include "probes/result.h"
#include "store/pg_conn.h"
#include "store/store.h"
#include "store/store_impl.h"

#define SEC 1000000LL
#define T0  (1800000000LL * SEC)

static char tmpdir[64];
static char on_pg[] = "postgresql";    /* the prestate of a test's PostgreSQL run */

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/pharos-test-inc-XXXXXX");
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* The database of a test: a SQLite file name in tmpdir, or for a run with
 * state on_pg the emptied PHAROS_TEST_PG_URI; NULL (skipped) without it. */
static const char *database(void **state, const char *name, char *buf, size_t len)
{
	const char *uri = getenv("PHAROS_TEST_PG_URI");
	char err[512] = "";
	PGconn *c;

	if (*state != on_pg) {
		snprintf(buf, len, "%s/%s.db", tmpdir, name);
		return buf;
	}
	if (uri == NULL || uri[0] == '\0') {
		skip();
		return NULL;
	}
	c = pg_connect(uri, err, sizeof(err));
	assert_non_null(c);
	assert_int_equal(pg_exec(c, "DROP OWNED BY CURRENT_USER", "emptying", err, sizeof(err)), 0);
	PQfinish(c);
	return uri;
}

static void append(struct store *s, const char *check, int64_t ts_us, enum probe_error err,
                   const char *msg)
{
	struct probe_result r;

	probe_result_init(&r);
	r.start_us = ts_us;
	r.duration_us = 1000;
	r.ok = err == PROBE_OK;
	r.error = err;
	r.attempts = 1;
	snprintf(r.message, sizeof(r.message), "%s", msg);
	store_append(s, check, &r);
	probe_result_clear(&r);
}

struct note_done {
	int rc;
	size_t n_ids;
	bool called;
};

static void on_note(int rc, const int64_t *ids, size_t n_ids, void *arg)
{
	struct note_done *d = arg;

	(void)ids;
	d->rc = rc;
	d->n_ids = n_ids;
	d->called = true;
}

static void test_derived_and_updated(void **state)
{
	char buf[128], err[512] = "";
	const char *path = database(state, "inc", buf, sizeof(buf));
	struct store *s;
	struct store_reader *r;
	struct store_incident *v = NULL;
	struct store_incident_query q = { .limit = 10 };
	struct note_done nd = { 0 }, missing = { 0 };
	size_t n = 0;

	if (path == NULL)
		return;
	s = store_open(path, err, sizeof(err));
	assert_non_null(s);
	append(s, "api", T0, PROBE_OK, "fine");
	append(s, "api", T0 + 10 * SEC, PROBE_ERR_CONNECT, "connection refused");
	append(s, "api", T0 + 20 * SEC, PROBE_ERR_TIMEOUT, "timed out");
	append(s, "api", T0 + 25 * SEC, PROBE_ERR_ABORTED, "agent stopping");  /* says nothing */
	append(s, "api", T0 + 30 * SEC, PROBE_OK, "fine");
	append(s, "api", T0 + 40 * SEC, PROBE_ERR_HTTP_STATUS, "HTTP 503");
	append(s, "db", T0 + 5 * SEC, PROBE_ERR_ABORTED, "agent stopping");     /* no incident */
	store_flush(s);

	r = store_reader_open(path, err, sizeof(err));
	assert_non_null(r);
	assert_int_equal(store_incidents(r, &q, &v, &n), 0);
	assert_int_equal(n, 2);
	/* newest first: the open one */
	assert_string_equal(v[0].check, "api");
	assert_int_equal(v[0].started_us, T0 + 40 * SEC);
	assert_int_equal(v[0].ended_us, 0);
	assert_int_equal(v[0].failures, 1);
	assert_string_equal(v[0].cause_error, "http_status");
	/* the closed one: cause of its first failure, two failures */
	assert_int_equal(v[1].started_us, T0 + 10 * SEC);
	assert_int_equal(v[1].ended_us, T0 + 30 * SEC);
	assert_int_equal(v[1].last_failure_us, T0 + 20 * SEC);
	assert_int_equal(v[1].failures, 2);
	assert_string_equal(v[1].cause_error, "connect");
	assert_string_equal(v[1].cause_message, "connection refused");

	/* a status update through the writer; an unknown id adds nothing */
	store_incident_update(s, v[1].id, T0 + 50 * SEC, "resolved", "a bad deploy, rolled back",
	                      on_note, &nd);
	store_incident_update(s, 9999, T0 + 50 * SEC, "identified", "x", on_note, &missing);
	store_flush(s);
	assert_true(nd.called && nd.rc == 0 && nd.n_ids == 1);
	assert_true(missing.called && missing.rc == 0 && missing.n_ids == 0);
	store_incidents_free(v, n);

	/* filters: state, check, id, time overlap, limit */
	q = (struct store_incident_query){ .closed_only = true, .limit = 10 };
	assert_int_equal(store_incidents(r, &q, &v, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].n_updates, 1);
	assert_string_equal(v[0].updates[0].status, "resolved");
	assert_string_equal(v[0].updates[0].message, "a bad deploy, rolled back");
	store_incidents_free(v, n);
	q = (struct store_incident_query){ .open_only = true, .check = "api", .limit = 10 };
	assert_int_equal(store_incidents(r, &q, &v, &n), 0);
	assert_int_equal(n, 1);
	store_incidents_free(v, n);
	q = (struct store_incident_query){ .check = "db", .limit = 10 };
	assert_int_equal(store_incidents(r, &q, &v, &n), 0);
	assert_int_equal(n, 0);
	store_incidents_free(v, n);
	q = (struct store_incident_query){ .since_us = T0 + 35 * SEC, .limit = 10 };
	assert_int_equal(store_incidents(r, &q, &v, &n), 0);
	assert_int_equal(n, 1);                 /* the closed one ended before */
	store_incidents_free(v, n);
	q = (struct store_incident_query){ .until_us = T0 + 35 * SEC, .limit = 10 };
	assert_int_equal(store_incidents(r, &q, &v, &n), 0);
	assert_int_equal(n, 1);                 /* the open one started after */
	store_incidents_free(v, n);
	q = (struct store_incident_query){ .limit = 1 };
	assert_int_equal(store_incidents(r, &q, &v, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].ended_us, 0);
	store_incidents_free(v, n);

	store_reader_close(r);
	store_close(s);
}

/* A failure while a dependency is down opens no incident, but counts in an
 * open one. */
static void test_blocked_runs(void **state)
{
	char buf[128], err[512] = "";
	const char *path = database(state, "blocked", buf, sizeof(buf));
	struct store *s;
	struct store_reader *r;
	struct store_incident *v = NULL;
	struct store_incident_query q = { .limit = 10 };
	struct probe_result pr;
	size_t n = 0;

	if (path == NULL)
		return;
	s = store_open(path, err, sizeof(err));
	assert_non_null(s);
	probe_result_init(&pr);
	pr.ok = false;
	pr.error = PROBE_ERR_CONNECT;
	pr.start_us = T0;
	store_append_blocked(s, "web", &pr);                     /* the gateway is down */
	append(s, "web", T0 + 10 * SEC, PROBE_OK, "fine");
	append(s, "web", T0 + 20 * SEC, PROBE_ERR_TIMEOUT, "timed out");   /* its own outage */
	pr.start_us = T0 + 30 * SEC;
	store_append_blocked(s, "web", &pr);                     /* counted in it */
	probe_result_clear(&pr);
	store_flush(s);
	r = store_reader_open(path, err, sizeof(err));
	assert_non_null(r);
	assert_int_equal(store_incidents(r, &q, &v, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].started_us, T0 + 20 * SEC);
	assert_int_equal(v[0].failures, 2);
	store_incidents_free(v, n);
	store_reader_close(r);
	store_close(s);
}

/* A firing of rule "down" of check at ts_us, as the alert engine commits it. */
static void fire(struct store *s, char *check, char *alert_id, int64_t ts_us)
{
	struct outbox_tx tx = { 0 };
	struct alert_history_row h = { .rule = "down", .check = check, .alert_id = alert_id,
	                               .from_state = "pending", .to_state = "firing",
	                               .ts_us = ts_us };

	outbox_tx_add_history(&tx, &h);
	store_alert_commit(s, &tx, NULL, NULL);
}

/* Incidents open before a batch grow and close in it, also after a restart
 * (the store reads the open ones again); a pass that started before the
 * incident does not close it; the alerts of its check that fired while it
 * lasted are its own. */
static void test_across_batches_and_restart(void **state)
{
	char buf[128], err[512] = "";
	const char *db = database(state, "restart", buf, sizeof(buf));
	struct store *s;
	struct store_reader *r;
	struct store_incident *v = NULL;
	struct store_incident_query q = { .limit = 10 };
	size_t n = 0;

	if (db == NULL)
		return;
	s = store_open(db, err, sizeof(err));
	assert_non_null(s);
	append(s, "api", T0, PROBE_ERR_CONNECT, "refused");
	append(s, "db", T0, PROBE_ERR_TIMEOUT, "timed out");
	store_flush(s);
	append(s, "api", T0 + 10 * SEC, PROBE_ERR_TIMEOUT, "timed out");     /* counted */
	append(s, "db", T0 - 5 * SEC, PROBE_OK, "a slow run from before");   /* closes nothing */
	fire(s, "api", "a1", T0 + 15 * SEC);
	store_flush(s);
	store_close(s);

	s = store_open(db, err, sizeof(err));
	assert_non_null(s);
	append(s, "api", T0 + 20 * SEC, PROBE_OK, "fine");                  /* closes */
	append(s, "db", T0 + 30 * SEC, PROBE_ERR_TIMEOUT, "timed out");      /* counted */
	fire(s, "api", "a2", T0 + 25 * SEC);                                 /* after it */
	fire(s, "db", "a3", T0 + 25 * SEC);
	store_flush(s);

	r = store_reader_open(db, err, sizeof(err));
	assert_non_null(r);
	assert_int_equal(store_incidents(r, &q, &v, &n), 0);
	assert_int_equal(n, 2);
	/* same start: the newer id first */
	assert_string_equal(v[0].check, "db");
	assert_int_equal(v[0].ended_us, 0);
	assert_int_equal(v[0].failures, 2);
	assert_int_equal(v[0].last_failure_us, T0 + 30 * SEC);
	assert_int_equal(v[0].n_alert_ids, 1);
	assert_string_equal(v[0].alert_ids[0], "a3");
	assert_string_equal(v[1].check, "api");
	assert_int_equal(v[1].started_us, T0);
	assert_int_equal(v[1].ended_us, T0 + 20 * SEC);
	assert_int_equal(v[1].failures, 2);
	assert_int_equal(v[1].last_failure_us, T0 + 10 * SEC);
	assert_string_equal(v[1].cause_message, "refused");
	assert_int_equal(v[1].n_alert_ids, 1);
	assert_string_equal(v[1].alert_ids[0], "a1");
	store_incidents_free(v, n);
	store_reader_close(r);
	store_close(s);
}

#define MANY 1200

/* Many checks down at once, then back: one incident each, opened in one
 * batch and closed in a later one. */
static void test_many_checks(void **state)
{
	char buf[128], err[512] = "", name[32];
	const char *db = database(state, "many", buf, sizeof(buf));
	struct store *s;
	struct store_reader *r;
	struct store_incident *v = NULL;
	struct store_incident_query q = { .limit = 2 * MANY };
	size_t n = 0;

	if (db == NULL)
		return;
	s = store_open(db, err, sizeof(err));
	assert_non_null(s);
	for (int i = 0; i < MANY; i++) {
		snprintf(name, sizeof(name), "c%04d", i);
		append(s, name, T0, PROBE_ERR_CONNECT, "refused");
		append(s, name, T0 + SEC, PROBE_ERR_CONNECT, "refused");
	}
	store_flush(s);
	for (int i = 0; i < MANY; i++) {
		snprintf(name, sizeof(name), "c%04d", i);
		append(s, name, T0 + 2 * SEC, i % 2 ? PROBE_OK : PROBE_ERR_CONNECT, "");
	}
	store_flush(s);
	r = store_reader_open(db, err, sizeof(err));
	assert_non_null(r);
	assert_int_equal(store_incidents(r, &q, &v, &n), 0);
	assert_int_equal(n, MANY);
	for (size_t i = 0; i < n; i++) {
		int k = atoi(v[i].check + 1);

		assert_int_equal(v[i].started_us, T0);
		assert_int_equal(v[i].ended_us, k % 2 ? T0 + 2 * SEC : 0);
		assert_int_equal(v[i].failures, k % 2 ? 2 : 3);
	}
	store_incidents_free(v, n);
	q = (struct store_incident_query){ .open_only = true, .limit = 2 * MANY };
	assert_int_equal(store_incidents(r, &q, &v, &n), 0);
	assert_int_equal(n, MANY / 2);
	store_incidents_free(v, n);
	store_reader_close(r);
	store_close(s);
}

/* PostgreSQL's writer keeps the open incidents in memory: when the database
 * changed behind it (an incident closed by hand), the batch fails, the set is
 * read again and the retry opens a new incident. */
static void test_set_follows_the_database(void **state)
{
	const char *uri = database(state, "pg-only", NULL, 0);
	char err[512] = "";
	struct store *s;
	struct store_reader *r;
	struct store_incident *v = NULL;
	struct store_incident_query q = { .limit = 10 };
	size_t n = 0;
	PGconn *c;

	if (uri == NULL)
		return;
	s = store_open(uri, err, sizeof(err));
	assert_non_null(s);
	append(s, "api", T0, PROBE_ERR_CONNECT, "refused");
	store_flush(s);
	c = pg_connect(uri, err, sizeof(err));
	assert_non_null(c);
	assert_int_equal(pg_exec(c, "UPDATE incidents SET ended_us = started_us + 1", "closing",
	                         err, sizeof(err)), 0);
	PQfinish(c);
	append(s, "api", T0 + 10 * SEC, PROBE_ERR_TIMEOUT, "timed out");
	store_flush(s);         /* returns after the attempt that found the set wrong */
	for (int i = 0; i < 5 && !store_healthy(s); i++)
		store_flush(s);     /* the retries */
	assert_true(store_healthy(s));
	r = store_reader_open(uri, err, sizeof(err));
	assert_non_null(r);
	assert_int_equal(store_incidents(r, &q, &v, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(v[0].started_us, T0 + 10 * SEC);
	assert_int_equal(v[0].ended_us, 0);
	assert_int_equal(v[0].failures, 1);
	assert_int_equal(v[1].ended_us, T0 + 1);
	assert_int_equal(v[1].failures, 1);
	store_incidents_free(v, n);
	store_reader_close(r);
	store_close(s);
}

/* An implementation without incident ops: -2 from both calls, no crash. */
static void test_store_without_incidents(void **state)
{
	struct store_ops ops = store_sqlite_ops;
	struct store_reader fake = { .ops = &ops };
	struct store_incident_query q = { .limit = 1 };
	struct store_incident *v = (void *)1;
	size_t n = 7;

	(void)state;
	ops.incidents = NULL;
	assert_int_equal(store_incidents(&fake, &q, &v, &n), -2);
	assert_null(v);
	assert_int_equal(n, 0);
}

/* A test's run on PostgreSQL, named apart from its SQLite run. */
#define ON_PG(f) { #f "_on_postgresql", f, NULL, NULL, on_pg }

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_derived_and_updated),
		cmocka_unit_test(test_blocked_runs),
		cmocka_unit_test(test_across_batches_and_restart),
		cmocka_unit_test(test_many_checks),
		ON_PG(test_derived_and_updated),
		ON_PG(test_blocked_runs),
		ON_PG(test_across_batches_and_restart),
		ON_PG(test_many_checks),
		ON_PG(test_set_follows_the_database),
		cmocka_unit_test(test_store_without_incidents),
	};

	log_setup(LOG_FORMAT_LOGFMT, LOG_ERROR);

	return cmocka_run_group_tests(tests, setup, teardown);
}

/* test_incidents.c — incidents in the SQLite store: derived from committed
 * results (open at the first failure, counted, closed at the first pass,
 * aborted runs ignored), status updates through the writer, the read with
 * its filters, and a store without incident ops answering -2. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"

#include "core/util.h"
#include "probes/result.h"
#include "store/store.h"
#include "store/store_impl.h"

#define SEC 1000000LL
#define T0  (1800000000LL * SEC)

static char tmpdir[64];

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
	char path[128], err[256] = "";
	struct store *s;
	struct store_reader *r;
	struct store_incident *v = NULL;
	struct store_incident_query q = { .limit = 10 };
	struct note_done nd = { 0 }, missing = { 0 };
	size_t n = 0;

	(void)state;
	snprintf(path, sizeof(path), "%s/inc.db", tmpdir);
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
	char path[128], err[256] = "";
	struct store *s;
	struct store_reader *r;
	struct store_incident *v = NULL;
	struct store_incident_query q = { .limit = 10 };
	struct probe_result pr;
	size_t n = 0;

	(void)state;
	snprintf(path, sizeof(path), "%s/blocked.db", tmpdir);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_derived_and_updated),
		cmocka_unit_test(test_blocked_runs),
		cmocka_unit_test(test_store_without_incidents),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

/* test_outbox.c — notification rows and keys, the per-alert order of the
 * outbox queue, and the store's alert unit: state and notifications are
 * committed together, and a process killed at any moment leaves both or
 * neither. */
#include "unit.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "alerts/outbox.h"
#include "store/store.h"
#include "core/util.h"

static char tmpdir[64];

static int setup(void **state)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/pharos-outbox-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static struct alert_event event(const char *check, enum alert_event_kind kind, int64_t ts)
{
	struct alert_event e = {
		.kind = kind, .rule = (char *)"down", .check = (char *)check, .group = (char *)"",
		.severity = SEVERITY_CRITICAL, .alert_id = (char *)"a1b2c3", .ts_us = ts,
		.started_us = ts, .value = (char *)"3", .message = (char *)"refused",
		.url = (char *)"http://x/check/web", .expr = (char *)"consecutive_failures >= 3",
		.location = (char *)"here",
	};
	return e;
}

static void test_keys(void **state)
{
	char *k1 = outbox_key("a1b2", ALERT_EVENT_FIRING, 1234, "ops.slack");
	char *k2 = outbox_key("a1b2", ALERT_EVENT_FIRING, 1234, "ops.slack");
	char *k3 = outbox_key("a1b2", ALERT_EVENT_RESOLVED, 1234, "ops.slack");
	char long_name[300];
	char *k4, *k5;

	assert_string_equal(k1, "a1b2-firing-1234-ops_slack");     /* no dots */
	assert_string_equal(k1, k2);
	assert_string_not_equal(k1, k3);
	memset(long_name, 'n', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	k4 = outbox_key("a1b2", ALERT_EVENT_FIRING, 1, long_name);
	long_name[sizeof(long_name) - 2] = 'm';
	k5 = outbox_key("a1b2", ALERT_EVENT_FIRING, 1, long_name);
	assert_true(strlen(k4) <= 180);
	assert_string_not_equal(k4, k5);
	free(k1);
	free(k2);
	free(k3);
	free(k4);
	free(k5);
}

static void test_tx_event(void **state)
{
	struct outbox_tx tx = {0};
	struct alert_event e = event("web", ALERT_EVENT_FIRING, 5000000);
	char *notify[] = { (char *)"a", (char *)"b", (char *)"a" };

	assert_int_equal(outbox_tx_add_event(&tx, &e, notify, 3, 42), 2);
	assert_int_equal(tx.n_rows, 2);
	assert_string_equal(tx.rows[0].notifier, "a");
	assert_string_equal(tx.rows[1].notifier, "b");
	assert_string_equal(tx.rows[0].key, "a1b2c3-firing-5000-a");
	assert_int_equal(tx.rows[0].created_us, 42);
	assert_string_equal(tx.rows[1].event.message, "refused");
	outbox_tx_clear(&tx);
}

static void row(struct outbox_row *r, int64_t id, const char *notifier, const char *check,
                enum alert_event_kind kind)
{
	struct alert_event e = event(check, kind, id);

	memset(r, 0, sizeof(*r));
	r->id = id;
	r->notifier = (char *)notifier;
	r->key = (char *)"k";
	r->event = e;
}

static void test_queue_order(void **state)
{
	struct outbox_queue *q = outbox_queue_new();
	struct outbox_row r;
	uint64_t due;
	struct outbox_row *n;

	row(&r, 10, "s", "web", ALERT_EVENT_FIRING);
	assert_int_equal(outbox_queue_add(q, &r, 0), 0);
	assert_int_equal(outbox_queue_add(q, &r, 0), -1);   /* same id */
	row(&r, 11, "s", "web", ALERT_EVENT_RESOLVED);
	outbox_queue_add(q, &r, 0);
	row(&r, 12, "s", "db", ALERT_EVENT_FIRING);
	outbox_queue_add(q, &r, 50);
	row(&r, 13, "p", "web", ALERT_EVENT_FIRING);
	outbox_queue_add(q, &r, 0);

	n = outbox_queue_next(q, "s", 0, &due);
	assert_int_equal(n->id, 10);
	outbox_queue_set_in_flight(q, 10, true);
	/* 11 waits behind 10 (same alert); 12 not due yet */
	assert_null(outbox_queue_next(q, "s", 0, &due));
	assert_int_equal(due, 50);
	n = outbox_queue_next(q, "s", 50, NULL);
	assert_int_equal(n->id, 12);
	/* the other notifier is independent */
	assert_int_equal(outbox_queue_next(q, "p", 0, NULL)->id, 13);
	/* 10 retried later: 11 still blocked */
	outbox_queue_set_in_flight(q, 10, false);
	outbox_queue_set_due(q, 10, 100);
	outbox_queue_remove(q, 12);
	assert_null(outbox_queue_next(q, "s", 99, &due));
	assert_int_equal(due, 100);
	assert_true(outbox_queue_has_alert(q, "s", "down", "web", 10));
	outbox_queue_remove(q, 10);
	assert_int_equal(outbox_queue_next(q, "s", 0, NULL)->id, 11);
	/* an older id added later (requeued dead row) goes first again */
	row(&r, 5, "s", "web", ALERT_EVENT_FIRING);
	outbox_queue_add(q, &r, 0);
	assert_int_equal(outbox_queue_next(q, "s", 0, NULL)->id, 5);
	assert_int_equal(outbox_queue_count(q, "s"), 2);
	assert_int_equal(outbox_queue_count(q, NULL), 3);
	outbox_queue_free(q);
}

/* --- store ------------------------------------------------------------------- */

static int sql_int(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	int v = -1;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static void fill_tx(struct outbox_tx *tx, const char *check)
{
	struct alert_event e = event(check, ALERT_EVENT_FIRING, util_wall_us());
	struct alert_state_row s = { .rule = (char *)"down", .check = (char *)check,
	                             .state = ALERT_FIRING, .since_us = 1, .fired_us = 1,
	                             .alert_id = (char *)"a1b2c3", .value = (char *)"3" };
	struct alert_history_row h = { .rule = (char *)"down", .check = (char *)check,
	                               .from_state = (char *)"ok", .to_state = (char *)"firing",
	                               .ts_us = 1 };
	char *notify[] = { (char *)"slack", (char *)"pd" };

	outbox_tx_add_state(tx, &s);
	outbox_tx_add_history(tx, &h);
	outbox_tx_add_event(tx, &e, notify, 2, util_wall_us());
}

struct done_rec {
	int calls, rc;
	int64_t ids[4];
	size_t n;
};

static void on_done(int rc, const int64_t *ids, size_t n, void *arg)
{
	struct done_rec *d = arg;

	d->calls++;
	d->rc = rc;
	d->n = n;
	for (size_t i = 0; i < n && i < 4; i++)
		d->ids[i] = ids[i];
}

static void test_store_unit(void **state)
{
	char path[128], err[256];
	struct store *s;
	struct store_reader *r;
	struct outbox_tx tx = {0};
	struct done_rec d = {0}, d2 = {0}, d3 = {0};
	struct outbox_row *rows, got;
	struct alert_state_row *st;
	size_t n;
	struct store_outbox_update u = { .state = OUTBOX_DEAD, .attempts = 12,
	                                 .last_error = "HTTP 404 gone" };
	json_t *j;

	snprintf(path, sizeof(path), "%s/unit.db", tmpdir);
	s = store_open(path, err, sizeof(err));
	assert_non_null(s);
	fill_tx(&tx, "web");
	store_alert_commit(s, &tx, on_done, &d);
	assert_true(outbox_tx_empty(&tx));
	store_flush(s);
	assert_int_equal(d.calls, 1);
	assert_int_equal(d.rc, 0);
	assert_int_equal(d.n, 2);
	assert_true(d.ids[0] > 0 && d.ids[1] > d.ids[0]);
	assert_int_equal(sql_int(path, "SELECT count(*) FROM alert_state"), 1);
	assert_int_equal(sql_int(path, "SELECT count(*) FROM notifications WHERE state = 'pending'"), 2);
	assert_int_equal(sql_int(path, "SELECT count(*) FROM alert_history"), 1);

	r = store_reader_open(path, err, sizeof(err));
	assert_non_null(r);
	assert_int_equal(store_outbox_pending(r, &rows, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(rows[0].id, d.ids[0]);
	assert_string_equal(rows[0].notifier, "slack");
	assert_string_equal(rows[0].event.check, "web");
	assert_string_equal(rows[0].event.message, "refused");
	for (size_t i = 0; i < n; i++)
		outbox_row_clear(&rows[i]);
	free(rows);
	assert_int_equal(store_alert_states(r, &st, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(st[0].state, ALERT_FIRING);
	assert_string_equal(st[0].alert_id, "a1b2c3");
	alert_state_row_clear(&st[0]);
	free(st);

	/* progress, requeue of a dead one, requeue of a non-dead one */
	u.id = d.ids[0];
	store_outbox_update(s, &u);
	store_flush(s);
	assert_int_equal(store_outbox_get(r, d.ids[0], &got), 0);
	assert_int_equal(got.state, OUTBOX_DEAD);
	assert_string_equal(got.last_error, "HTTP 404 gone");
	outbox_row_clear(&got);
	assert_int_equal(store_outbox_get(r, 9999, &got), 1);
	store_outbox_requeue(s, d.ids[0], 77, on_done, &d2);
	store_outbox_requeue(s, d.ids[1], 77, on_done, &d3);
	store_flush(s);
	assert_int_equal(d2.n, 1);
	assert_int_equal(d3.n, 0);
	assert_int_equal(store_outbox_get(r, d.ids[0], &got), 0);
	assert_int_equal(got.state, OUTBOX_PENDING);
	assert_int_equal(got.attempts, 0);
	outbox_row_clear(&got);
	j = store_notifications(r, "pending", 10);
	assert_int_equal(json_array_size(j), 2);
	assert_true(json_integer_value(json_object_get(json_array_get(j, 0), "id")) == d.ids[1]);
	json_decref(j);
	j = store_alert_history(r, NULL, 10);
	assert_int_equal(json_array_size(j), 1);
	json_decref(j);

	/* the same key again: not inserted twice, id 0 */
	memset(&d, 0, sizeof(d));
	{
		struct alert_event e = event("web", ALERT_EVENT_FIRING, 1);
		char *notify[] = { (char *)"slack" };

		outbox_tx_add_event(&tx, &e, notify, 1, 1);
		outbox_tx_add_event(&tx, &e, notify, 1, 1);
	}
	store_alert_commit(s, &tx, on_done, &d);
	store_flush(s);
	assert_int_equal(d.n, 2);
	assert_true(d.ids[0] > 0);
	assert_int_equal(d.ids[1], 0);
	/* gone: the state row is deleted */
	{
		struct alert_state_row g = { .rule = (char *)"down", .check = (char *)"web", .gone = true };

		outbox_tx_add_state(&tx, &g);
		store_alert_commit(s, &tx, NULL, NULL);
		store_flush(s);
		assert_int_equal(sql_int(path, "SELECT count(*) FROM alert_state"), 0);
	}
	store_reader_close(r);
	store_close(s);
}

/* A child commits one unit and is killed with SIGKILL at a varying moment:
 * afterwards the database holds both the state and its notifications, or
 * neither. */
static void test_kill_between(void **state)
{
	char path[128], sql[160];
	int both = 0, neither = 0;

	for (int i = 0; i < 24; i++) {
		pid_t pid;
		int status, states, notes;
		char err[256];

		snprintf(path, sizeof(path), "%s/kill%d.db", tmpdir, i);
		{
			struct store *s = store_open(path, err, sizeof(err));     /* create + migrate */

			assert_non_null(s);
			store_close(s);
		}
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			struct store *s = store_open(path, err, sizeof(err));
			struct outbox_tx tx = {0};

			if (s == NULL)
				_exit(3);
			fill_tx(&tx, "web");
			store_alert_commit(s, &tx, NULL, NULL);
			store_flush(s);
			for (;;)
				pause();
		}
		{
			struct timespec ts = { 0, (long)(i % 12) * 10 * 1000000L };

			nanosleep(&ts, NULL);
		}
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		states = sql_int(path, "SELECT count(*) FROM alert_state");
		notes = sql_int(path, "SELECT count(*) FROM notifications");
		snprintf(sql, sizeof(sql), "run %d: %d states, %d notifications", i, states, notes);
		if (states == 1 && notes == 2)
			both++;
		else if (states == 0 && notes == 0)
			neither++;
		else
			fail_msg("torn unit: %s", sql);
	}
	/* Both outcomes must have been seen for the test to mean something. */
	assert_true(both > 0);
	assert_true(neither > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_tx_event),
		cmocka_unit_test(test_queue_order),
		cmocka_unit_test(test_store_unit),
		cmocka_unit_test(test_kill_between),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

/* test_delivery.c — delivery policy and the deliverer with an injected clock,
 * randomness and transport: backoff bounds, Retry-After, breaker timing, rate
 * limit, dead rows, order per alert, Alertmanager re-posts. */
#include "unit.h"

#include <stdlib.h>
#include <string.h>

#include "alerts/delivery.h"
#include "alerts/outbox.h"
#include "core/util.h"

/* --- pure policy ------------------------------------------------------------- */

static void test_backoff_bounds(void **state)
{
	/* rnd = UINT64_MAX % (bound+1) must stay <= bound; rnd = bound gives bound. */
	uint64_t expect[] = { 1000, 2000, 4000, 8000, 16000, 32000, 64000, 128000, 256000, 300000, 300000 };

	for (int a = 1; a <= 11; a++) {
		uint64_t b = expect[a - 1];

		assert_int_equal(delivery_backoff_ms(a, b), b);
		assert_int_equal(delivery_backoff_ms(a, b + 1), 0);
		assert_true(delivery_backoff_ms(a, UINT64_MAX) <= b);
		assert_int_equal(delivery_backoff_ms(a, 0), 0);
	}
	assert_int_equal(delivery_backoff_ms(0, 1000), 1000);
	assert_int_equal(delivery_backoff_ms(1000, 300000), 300000);
	assert_true(delivery_backoff_ms(1000, UINT64_MAX) <= 300000);
}

static void test_retry_after_floor(void **state)
{
	assert_int_equal(delivery_retry_delay_ms(1, 2000, 0), 2000);      /* backoff 0, RA 2 s */
	assert_int_equal(delivery_retry_delay_ms(1, 0, 700), 700);
	assert_int_equal(delivery_retry_delay_ms(5, 1000, 16000), 16000);  /* backoff longer */
}

static void test_breaker(void **state)
{
	struct delivery_breaker b = {0};
	uint64_t retry;

	for (int i = 0; i < DELIVERY_BREAKER_FAILURES - 1; i++) {
		assert_true(delivery_breaker_allow(&b, 1000, NULL));
		delivery_breaker_report(&b, false, 1000);
		assert_int_equal(b.state, BREAKER_CLOSED);
	}
	assert_true(delivery_breaker_allow(&b, 1000, NULL));
	delivery_breaker_report(&b, false, 1000);          /* 5th: opens */
	assert_int_equal(b.state, BREAKER_OPEN);
	assert_false(delivery_breaker_allow(&b, 1000, &retry));
	assert_int_equal(retry, 1000 + DELIVERY_BREAKER_OPEN_MS);
	assert_false(delivery_breaker_allow(&b, 1000 + DELIVERY_BREAKER_OPEN_MS - 1, NULL));
	/* half-open: exactly one trial */
	assert_true(delivery_breaker_allow(&b, 1000 + DELIVERY_BREAKER_OPEN_MS, NULL));
	assert_int_equal(b.state, BREAKER_HALF_OPEN);
	assert_false(delivery_breaker_allow(&b, 1000 + DELIVERY_BREAKER_OPEN_MS, NULL));
	/* trial fails: open again from now */
	delivery_breaker_report(&b, false, 70000);
	assert_int_equal(b.state, BREAKER_OPEN);
	assert_false(delivery_breaker_allow(&b, 70000 + DELIVERY_BREAKER_OPEN_MS - 1, NULL));
	assert_true(delivery_breaker_allow(&b, 70000 + DELIVERY_BREAKER_OPEN_MS, NULL));
	/* trial succeeds: closed */
	delivery_breaker_report(&b, true, 130000);
	assert_int_equal(b.state, BREAKER_CLOSED);
	assert_int_equal(b.failures, 0);
	assert_true(delivery_breaker_allow(&b, 130001, NULL));
	assert_true(delivery_breaker_allow(&b, 130001, NULL));
}

static void test_bucket(void **state)
{
	struct delivery_bucket b = {0};
	uint64_t w;

	/* 1/s, burst 1 */
	assert_int_equal(delivery_bucket_take(&b, 1, 0), 0);
	w = delivery_bucket_take(&b, 1, 0);
	assert_true(w >= 999 && w <= 1001);
	assert_true(delivery_bucket_take(&b, 1, 500) > 0);
	assert_int_equal(delivery_bucket_take(&b, 1, 1000), 0);
	/* 2/s, burst 2 */
	memset(&b, 0, sizeof(b));
	assert_int_equal(delivery_bucket_take(&b, 2, 0), 0);
	assert_int_equal(delivery_bucket_take(&b, 2, 0), 0);
	w = delivery_bucket_take(&b, 2, 0);
	assert_true(w >= 499 && w <= 501);
	assert_int_equal(delivery_bucket_take(&b, 2, 500), 0);
	/* unlimited */
	memset(&b, 0, sizeof(b));
	for (int i = 0; i < 100; i++)
		assert_int_equal(delivery_bucket_take(&b, 0, 0), 0);
}

/* --- the deliverer with fakes ------------------------------------------------ */

struct sent {
	char *url, *body;
	char key[200];
	delivery_answer_fn *done;
	void *token;
	bool answered;
};

struct fake {
	uint64_t mono;
	int64_t wall;
	uint64_t rnd;
	struct sent sent[64];
	int n_sent;
	struct delivery_progress prog[64];
	char *prog_err[64];
	int n_prog;
	int cancelled;
};

static uint64_t f_mono(void *c) { return ((struct fake *)c)->mono; }
static int64_t f_wall(void *c) { return ((struct fake *)c)->wall; }
static uint64_t f_rnd(void *c) { return ((struct fake *)c)->rnd; }

static int f_send(void *ctx, const struct notify_request *rq, uint64_t timeout_ms,
                  delivery_answer_fn *done, void *token, void **handle)
{
	struct fake *f = ctx;
	struct sent *s = &f->sent[f->n_sent];

	assert_true(f->n_sent < 64);
	memset(s, 0, sizeof(*s));
	s->url = xstrdup(rq->url);
	s->body = xstrdup(rq->body);
	for (size_t i = 0; i < rq->n_headers; i++)
		if (strncmp(rq->headers[i], "X-Pharos-Idempotency-Key: ", 26) == 0)
			snprintf(s->key, sizeof(s->key), "%s", rq->headers[i] + 26);
	s->done = done;
	s->token = token;
	*handle = s;
	f->n_sent++;
	return 0;
}

static void f_cancel(void *ctx, void *handle)
{
	((struct fake *)ctx)->cancelled++;
	((struct sent *)handle)->answered = true;
}

static void f_progress(const struct delivery_progress *p, void *ctx)
{
	struct fake *f = ctx;

	assert_true(f->n_prog < 64);
	f->prog[f->n_prog] = *p;
	f->prog_err[f->n_prog] = xstrdup(p->last_error);
	f->prog[f->n_prog].last_error = f->prog_err[f->n_prog];
	f->n_prog++;
}

static void answer(struct fake *f, int i, long status, const char *body, const char *ra)
{
	struct delivery_answer a = { .status = status, .body = body,
	                             .body_len = body ? strlen(body) : 0, .retry_after = ra,
	                             .error = status == 0 ? "Connection refused" : NULL };

	assert_false(f->sent[i].answered);
	f->sent[i].answered = true;
	f->sent[i].done(f->sent[i].token, &a);
}

static void fake_free(struct fake *f)
{
	for (int i = 0; i < f->n_sent; i++) {
		free(f->sent[i].url);
		free(f->sent[i].body);
	}
	for (int i = 0; i < f->n_prog; i++)
		free(f->prog_err[i]);
}

static struct delivery *make(struct fake *f, struct notifier_conf *nc, size_t n)
{
	struct delivery_env env = { f_mono, f_wall, f_rnd, f };
	struct delivery_transport tr = { f_send, f_cancel, f };
	struct delivery_hooks h = { f_progress, f };
	struct delivery *d = delivery_new(NULL, NULL, &h, &env, &tr);

	delivery_set_notifiers(d, nc, n);
	return d;
}

/* Every type used here has url as its first setting; the others unset. */
static char *hook_values[] = { (char *)"http://127.0.0.1:9/x", NULL, NULL, NULL };

static struct notifier_conf hook_conf(const char *name, const char *type)
{
	const struct notifier_type *t = notifier_type_find(type);
	struct notifier_conf c = {
		.name = (char *)name, .type = t, .values = hook_values,
		.max_attempts = 12, .max_age_ms = 86400000, .timeout_ms = 1000, .rate_per_s = 0,
	};
	return c;
}

static void make_row(struct outbox_row *r, int64_t id, const char *notifier, const char *check,
                     enum alert_event_kind kind, int64_t now_us)
{
	memset(r, 0, sizeof(*r));
	r->id = id;
	r->notifier = xstrdup(notifier);
	r->event.kind = kind;
	r->event.rule = xstrdup("down");
	r->event.check = xstrdup(check);
	r->event.group = xstrdup("");
	r->event.alert_id = xstrdup("abc123");
	r->event.severity = SEVERITY_CRITICAL;
	r->event.ts_us = now_us + id;
	r->event.started_us = now_us;
	r->event.url = xstrdup("http://x/check/web");
	r->key = outbox_key("abc123", kind, id, notifier);
	r->state = OUTBOX_PENDING;
	r->created_us = now_us;
	r->next_attempt_us = now_us;
}

static void add(struct delivery *d, int64_t id, const char *notifier, const char *check,
                enum alert_event_kind kind, int64_t now_us)
{
	struct outbox_row r;

	make_row(&r, id, notifier, check, kind, now_us);
	assert_int_equal(delivery_add(d, &r), 0);
	outbox_row_clear(&r);
}

static void test_retry_after_and_same_key(void **state)
{
	struct fake f = { .mono = 1000, .wall = 1700000000000000LL, .rnd = 0 };
	struct notifier_conf nc = hook_conf("slack", "slack");
	struct delivery *d = make(&f, &nc, 1);

	add(d, 1, "slack", "web", ALERT_EVENT_FIRING, f.wall);
	delivery_poll(d);
	assert_int_equal(f.n_sent, 1);
	answer(&f, 0, 429, "slow down", "2");
	assert_int_equal(f.n_prog, 1);
	assert_int_equal(f.prog[0].state, OUTBOX_PENDING);
	assert_int_equal(f.prog[0].attempts, 1);
	assert_int_equal(f.prog[0].next_attempt_us, f.wall + 2000000);
	f.mono += 1999;
	delivery_poll(d);
	assert_int_equal(f.n_sent, 1);              /* no sooner than Retry-After */
	f.mono += 1;
	delivery_poll(d);
	assert_int_equal(f.n_sent, 2);
	assert_string_equal(f.sent[0].key, f.sent[1].key);
	assert_string_equal(f.sent[0].body, f.sent[1].body);
	answer(&f, 1, 200, "ok", NULL);
	assert_int_equal(f.prog[1].state, OUTBOX_DELIVERED);
	assert_int_equal(f.prog[1].attempts, 2);
	assert_int_equal(delivery_queued(d), 0);
	delivery_free(d);
	fake_free(&f);
}

static void test_permanent_and_max_attempts(void **state)
{
	struct fake f = { .mono = 1000, .wall = 1700000000000000LL, .rnd = 0 };
	struct notifier_conf nc = hook_conf("hook", "webhook");
	struct delivery *d;

	nc.max_attempts = 3;
	d = make(&f, &nc, 1);
	add(d, 1, "hook", "a", ALERT_EVENT_FIRING, f.wall);
	add(d, 2, "hook", "b", ALERT_EVENT_FIRING, f.wall);
	delivery_poll(d);
	assert_int_equal(f.n_sent, 2);
	answer(&f, 0, 404, "no such hook", NULL);       /* permanent */
	assert_int_equal(f.prog[0].state, OUTBOX_DEAD);
	assert_non_null(strstr(f.prog[0].last_error, "404"));
	for (int i = 0; i < 3; i++) {
		answer(&f, f.n_sent - 1, 0, NULL, NULL);
		delivery_poll(d);       /* rnd 0: the retry is due at once */
	}
	assert_int_equal(f.n_sent, 4);
	assert_int_equal(f.prog[f.n_prog - 1].state, OUTBOX_DEAD);
	assert_int_equal(f.prog[f.n_prog - 1].attempts, 3);
	assert_non_null(strstr(f.prog[f.n_prog - 1].last_error, "gave up after 3 attempts"));
	assert_int_equal(delivery_queued(d), 0);
	delivery_free(d);
	fake_free(&f);
}

static void test_max_age(void **state)
{
	struct fake f = { .mono = 1000, .wall = 1700000000000000LL, .rnd = UINT64_MAX };
	struct notifier_conf nc = hook_conf("hook", "webhook");
	struct delivery *d;
	struct outbox_row r;

	nc.max_age_ms = 10000;
	d = make(&f, &nc, 1);
	/* A row read back after a long stop, already too old: dead without an attempt. */
	make_row(&r, 7, "hook", "a", ALERT_EVENT_FIRING, f.wall - 20000000);
	assert_int_equal(delivery_add(d, &r), 0);
	outbox_row_clear(&r);
	delivery_poll(d);
	assert_int_equal(f.n_sent, 0);
	assert_int_equal(f.prog[0].state, OUTBOX_DEAD);
	delivery_free(d);
	fake_free(&f);
}

static void test_order_per_alert(void **state)
{
	struct fake f = { .mono = 1000, .wall = 1700000000000000LL, .rnd = 500 };
	struct notifier_conf nc = hook_conf("hook", "webhook");
	struct delivery *d = make(&f, &nc, 1);

	add(d, 1, "hook", "web", ALERT_EVENT_FIRING, f.wall);
	add(d, 2, "hook", "web", ALERT_EVENT_RESOLVED, f.wall);
	add(d, 3, "hook", "db", ALERT_EVENT_FIRING, f.wall);
	delivery_poll(d);
	/* web's resolve waits behind its trigger; db is independent. */
	assert_int_equal(f.n_sent, 2);
	assert_non_null(strstr(f.sent[0].body, "alert.firing"));
	assert_non_null(strstr(f.sent[0].body, "\"web\""));
	assert_non_null(strstr(f.sent[1].body, "\"db\""));
	answer(&f, 0, 500, "oops", NULL);
	f.mono += 100;
	delivery_poll(d);
	assert_int_equal(f.n_sent, 2);              /* trigger in backoff: resolve still waits */
	f.mono += 1000;
	delivery_poll(d);
	assert_int_equal(f.n_sent, 3);
	assert_non_null(strstr(f.sent[2].body, "alert.firing"));
	answer(&f, 2, 200, "", NULL);
	delivery_poll(d);
	assert_int_equal(f.n_sent, 4);
	assert_non_null(strstr(f.sent[3].body, "alert.resolved"));
	answer(&f, 3, 200, "", NULL);
	answer(&f, 1, 200, "", NULL);
	assert_int_equal(delivery_queued(d), 0);
	delivery_free(d);
	fake_free(&f);
}

static void test_breaker_in_delivery(void **state)
{
	struct fake f = { .mono = 1000, .wall = 1700000000000000LL, .rnd = 0 };
	struct notifier_conf nc = hook_conf("hook", "webhook");
	struct delivery *d = make(&f, &nc, 1);
	struct delivery_stats st;

	add(d, 1, "hook", "web", ALERT_EVENT_FIRING, f.wall);
	for (int i = 0; i < 5; i++) {
		delivery_poll(d);
		assert_int_equal(f.n_sent, i + 1);
		answer(&f, i, 503, "down", NULL);
	}
	assert_int_equal(delivery_get_stats(d, "hook", &st), 0);
	assert_int_equal(st.breaker, BREAKER_OPEN);
	f.mono += DELIVERY_BREAKER_OPEN_MS - 1;
	delivery_poll(d);
	assert_int_equal(f.n_sent, 5);
	f.mono += 1;
	add(d, 2, "hook", "db", ALERT_EVENT_FIRING, f.wall);
	delivery_poll(d);
	assert_int_equal(f.n_sent, 6);              /* one trial only */
	answer(&f, 5, 200, "", NULL);
	delivery_get_stats(d, "hook", &st);
	assert_int_equal(st.breaker, BREAKER_CLOSED);
	delivery_poll(d);
	assert_int_equal(f.n_sent, 7);
	answer(&f, 6, 200, "", NULL);
	assert_int_equal(delivery_queued(d), 0);
	delivery_free(d);
	fake_free(&f);
}

static void test_rate_limit(void **state)
{
	struct fake f = { .mono = 1000, .wall = 1700000000000000LL, .rnd = 0 };
	struct notifier_conf nc = hook_conf("slack", "slack");
	struct delivery *d;

	nc.rate_per_s = 1;
	d = make(&f, &nc, 1);
	add(d, 1, "slack", "a", ALERT_EVENT_FIRING, f.wall);
	add(d, 2, "slack", "b", ALERT_EVENT_FIRING, f.wall);
	add(d, 3, "slack", "c", ALERT_EVENT_FIRING, f.wall);
	delivery_poll(d);
	assert_int_equal(f.n_sent, 1);
	f.mono += 500;
	delivery_poll(d);
	assert_int_equal(f.n_sent, 1);
	f.mono += 501;
	delivery_poll(d);
	assert_int_equal(f.n_sent, 2);
	f.mono += 1001;
	delivery_poll(d);
	assert_int_equal(f.n_sent, 3);
	for (int i = 0; i < 3; i++)
		answer(&f, i, 200, "ok", NULL);
	delivery_free(d);
	fake_free(&f);
}

static void test_alertmanager_refire(void **state)
{
	struct fake f = { .mono = 1000, .wall = 1700000000000000LL, .rnd = 0 };
	struct notifier_conf nc = hook_conf("am", "alertmanager");
	struct delivery *d = make(&f, &nc, 1);

	add(d, 1, "am", "web", ALERT_EVENT_FIRING, f.wall);
	delivery_poll(d);
	answer(&f, 0, 200, "", NULL);
	f.mono += 59999;
	delivery_poll(d);
	assert_int_equal(f.n_sent, 1);
	f.mono += 1;
	delivery_poll(d);
	assert_int_equal(f.n_sent, 2);              /* re-posted, not a new row */
	assert_string_equal(f.sent[0].key, f.sent[1].key);
	answer(&f, 1, 200, "", NULL);
	add(d, 2, "am", "web", ALERT_EVENT_RESOLVED, f.wall);
	delivery_poll(d);
	assert_int_equal(f.n_sent, 3);
	answer(&f, 2, 200, "", NULL);
	f.mono += 120000;
	delivery_poll(d);
	assert_int_equal(f.n_sent, 3);              /* resolved: no more re-posts */
	assert_int_equal(f.n_prog, 2);
	delivery_free(d);
	fake_free(&f);
}

static void test_stop_abandons(void **state)
{
	struct fake f = { .mono = 1000, .wall = 1700000000000000LL, .rnd = 0 };
	struct notifier_conf nc = hook_conf("hook", "webhook");
	struct delivery *d = make(&f, &nc, 1);

	add(d, 1, "hook", "web", ALERT_EVENT_FIRING, f.wall);
	delivery_poll(d);
	assert_int_equal(delivery_in_flight(d), 1);
	delivery_stop(d);
	assert_int_equal(f.cancelled, 1);
	assert_int_equal(f.n_prog, 0);              /* still pending in the database */
	delivery_free(d);
	fake_free(&f);
}

static void test_unknown_notifier_dead(void **state)
{
	struct fake f = { .mono = 1000, .wall = 1700000000000000LL, .rnd = 0 };
	struct notifier_conf nc = hook_conf("hook", "webhook");
	struct delivery *d = make(&f, &nc, 1);

	add(d, 1, "gone", "web", ALERT_EVENT_FIRING, f.wall);
	assert_int_equal(f.n_prog, 1);
	assert_int_equal(f.prog[0].state, OUTBOX_DEAD);
	/* a reload that removes a notifier kills its queued rows */
	add(d, 2, "hook", "web", ALERT_EVENT_FIRING, f.wall);
	delivery_set_notifiers(d, NULL, 0);
	assert_int_equal(f.prog[1].state, OUTBOX_DEAD);
	assert_int_equal(delivery_queued(d), 0);
	delivery_free(d);
	fake_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_backoff_bounds),
		cmocka_unit_test(test_retry_after_floor),
		cmocka_unit_test(test_breaker),
		cmocka_unit_test(test_bucket),
		cmocka_unit_test(test_retry_after_and_same_key),
		cmocka_unit_test(test_permanent_and_max_attempts),
		cmocka_unit_test(test_max_age),
		cmocka_unit_test(test_order_per_alert),
		cmocka_unit_test(test_breaker_in_delivery),
		cmocka_unit_test(test_rate_limit),
		cmocka_unit_test(test_alertmanager_refire),
		cmocka_unit_test(test_stop_abandons),
		cmocka_unit_test(test_unknown_notifier_dead),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

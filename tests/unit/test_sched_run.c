/* test_sched_run.c — the scheduler on a real loop: a slow start-up is not
 * counted as lag (first due times count from sched_start), and held
 * admission (the main loop behind, shard.c) starts no run and counts the
 * runs that could not start in time as skipped for overload. The checks are
 * tcp checks to a closed local port: each run ends at once. */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "unit.h"
#include "conf/conf.h"
#include "core/loop.h"
#include "core/resolver.h"
#include "core/util.h"
#include "probes/dns.h"
#include "sched.h"

struct fixture {
	struct loop *loop;
	struct probe_env env;
	struct conf *conf;
	struct sched *sched;
	int results;
};

static void on_result(const struct check *c, const struct probe_result *r, bool manual, void *arg)
{
	struct fixture *f = arg;

	/* The check must still be there (ASan: not freed by a reload). */
	assert_true(strlen(c->name) > 0);
	f->results++;
}

/* n tcp checks to 127.0.0.1:1 every interval, with timeout. */
static struct conf *tcp_checks(int n, const char *interval, const char *timeout)
{
	size_t cap = 128 + (size_t)n * 160, off;
	char *text = malloc(cap);
	struct conf_errors e = { 0 };
	struct conf *c;

	off = (size_t)snprintf(text, cap, "checks = (\n");
	for (int i = 0; i < n; i++)
		off += (size_t)snprintf(text + off, cap - off,
		                        "%s{ name = \"c%03d\"; type = \"tcp\"; host = \"127.0.0.1\"; "
		                        "port = 1; interval = \"%s\"; timeout = \"%s\"; }\n",
		                        i ? "," : "", i, interval, timeout);
	snprintf(text + off, cap - off, ");\n");
	c = conf_load_string(text, "t.conf", &e);
	for (size_t i = 0; i < e.n; i++)
		fprintf(stderr, "    | %s\n", e.lines[i]);
	assert_non_null(c);
	conf_errors_free(&e);
	free(text);
	return c;
}

static void fixture_init(struct fixture *f, struct conf *conf)
{
	char err[256];

	memset(f, 0, sizeof(*f));
	f->loop = loop_new();
	f->env.loop = f->loop;
	f->env.resolver = resolver_new(f->loop, NULL, 2000, err, sizeof(err));
	assert_non_null(f->env.resolver);
	f->conf = conf;
	f->sched = sched_new(&f->env, on_result, f);
	sched_set_conf(f->sched, conf);
}

static void run_for(struct fixture *f, uint64_t ms)
{
	uint64_t end = util_mono_ms() + ms;

	while (util_mono_ms() < end)
		loop_run_once(f->loop, 10);
}

static void fixture_fini(struct fixture *f)
{
	sched_stop(f->sched);
	for (int i = 0; i < 500 && !sched_idle(f->sched); i++)
		loop_run_once(f->loop, 10);
	assert_true(sched_idle(f->sched));
	sched_free(f->sched);
	conf_unref(f->conf);
	resolver_free(f->env.resolver);
	probe_dns_cleanup();
	assert_int_equal(loop_active_count(f->loop), 0);
	loop_free(f->loop);
}

/* Start-up takes 1.5 s (the store read, on PostgreSQL with many checks)
 * between the conf and the start: no check is due before the start, every
 * check runs within its interval after it, and none of them is late. */
static void test_slow_start_is_not_lag(void **state)
{
	struct fixture f;
	struct sched_stats st;

	fixture_init(&f, tcp_checks(50, "1s", "200ms"));
	usleep(1500 * 1000);
	run_for(&f, 50);
	assert_int_equal(f.results, 0);             /* nothing due before the start */
	sched_start(f.sched);
	run_for(&f, 1300);
	sched_get_stats(f.sched, &st);
	assert_true(f.results >= 50);
	assert_true(st.runs >= 50);
	assert_int_equal(st.skipped, 0);
	/* Counted from the conf, the first runs would lag 1.5 s and more. */
	assert_true(st.on_time);
	assert_true(st.lag_p99_ms < 500);
	fixture_fini(&f);
}

/* Held runs (the main loop has not taken this thread's results): nothing
 * starts, the scheduler is overloaded, and each run that could not start
 * in time is skipped for overload when its next tick comes. Let go, every
 * check runs again; every run is a result. */
static void test_held_runs_skip_not_start(void **state)
{
	struct fixture f;
	struct sched_stats st;

	fixture_init(&f, tcp_checks(10, "1s", "500ms"));
	sched_start(f.sched);
	sched_hold_runs(f.sched, true);
	run_for(&f, 2300);
	sched_get_stats(f.sched, &st);
	assert_int_equal(f.results, 0);
	assert_int_equal(st.runs, 0);
	assert_true(st.overloaded);
	assert_true(st.skipped_overload >= 10);     /* every check's first tick at least */
	assert_int_equal(st.skipped_overlap, 0);
	sched_hold_runs(f.sched, false);
	run_for(&f, 1200);
	sched_get_stats(f.sched, &st);
	assert_true(f.results >= 10);
	assert_int_equal((uint64_t)f.results, st.runs);
	fixture_fini(&f);
}

/* A listening socket on 127.0.0.1 that never accepts nor writes: a tcp
 * check waiting for its banner stays in flight until its timeout. */
static int silent_listener(int *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(fd, 16), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

static struct conf *banner_conf(int port, bool with_check)
{
	char text[512];
	struct conf *c;

	snprintf(text, sizeof(text),
	         "checks = (%s{ name = \"other\"; type = \"tcp\"; host = \"127.0.0.1\"; port = 1;"
	         " interval = \"1m\"; }\n);\n",
	         with_check ? "{ name = \"slow\"; type = \"tcp\"; host = \"127.0.0.1\"; "
	                      "interval = \"1s\"; timeout = \"900ms\"; expect = { banner_regex = \"never\"; }; "
	                      "port = PORT; },\n" : "");
	if (with_check) {
		char *p = strstr(text, "PORT"), num[8];
		char rest[512];

		snprintf(num, sizeof(num), "%d", port);
		snprintf(rest, sizeof(rest), "%s", p + 4);
		snprintf(p, sizeof(text) - (size_t)(p - text), "%s%s", num, rest);
	}
	c = conf_load_string(text, "t.conf", &(struct conf_errors){ 0 });
	assert_non_null(c);
	return c;
}

/* A run in flight across two reloads, the first keeping its check and the
 * second removing it: its result still names a live check (the conf of the
 * first reload is freed by then). */
static void test_run_across_two_reloads(void **state)
{
	struct fixture f;
	int port, fd = silent_listener(&port);
	struct conf *b, *c;

	fixture_init(&f, banner_conf(port, true));
	sched_start(f.sched);
	for (int i = 0; i < 200 && sched_idle(f.sched); i++)
		loop_run_once(f.loop, 10);
	assert_false(sched_idle(f.sched));          /* "slow" waits for its banner */
	b = banner_conf(port, true);
	sched_set_conf(f.sched, b);
	conf_unref(f.conf);
	c = banner_conf(port, false);
	sched_set_conf(f.sched, c);
	conf_unref(b);                              /* nothing holds b any more */
	f.conf = c;
	for (int i = 0; i < 200 && !sched_idle(f.sched); i++)
		loop_run_once(f.loop, 10);
	assert_true(sched_idle(f.sched));
	assert_int_equal(f.results, 1);
	fixture_fini(&f);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_slow_start_is_not_lag),
		cmocka_unit_test(test_held_runs_skip_not_start),
		cmocka_unit_test(test_run_across_two_reloads),
	};
	return cmocka_run_group_tests_name("sched_run", tests, NULL, NULL);
}

/* test_icmp_probe.c — the icmp check type against 127.0.0.1 (and ::1): count
 * echoes with 0% loss through the datagram socket and through the raw one,
 * the loss and latency assertions, spacing, abort, and the "not permitted"
 * message (forced with probe_icmp_set_socket_kinds(0)).
 *
 * Unprivileged ICMP sockets need net.ipv4.ping_group_range to include our
 * group: when it does not and we are root, the test widens it (and puts the
 * old value back at the end); otherwise the datagram cases are skipped with
 * the reason printed. The raw cases need CAP_NET_RAW and are skipped without. */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "unit.h"
#include "probe_fixture.h"

#include "probes/check.h"
#include "core/loop.h"
#include "probes/probe.h"
#include "core/resolver.h"
#include "probes/result.h"
#include "core/util.h"

#define PING_GROUP_RANGE "/proc/sys/net/ipv4/ping_group_range"

static bool can_dgram, can_raw, can_v6;
static char saved_range[64];    /* the sysctl's value before we changed it, "" when untouched */

/* True when a socket of this kind can be created now. */
static bool can_open(int family, int type)
{
	int fd = socket(family, type, family == AF_INET6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

static int write_range(const char *value)
{
	FILE *f = fopen(PING_GROUP_RANGE, "w");
	int rc;

	if (!f)
		return -1;
	rc = fputs(value, f) < 0 ? -1 : 0;
	if (fclose(f) != 0)
		rc = -1;
	return rc;
}

static int group_setup(void **state)
{
	can_dgram = can_open(AF_INET, SOCK_DGRAM);
	if (!can_dgram && geteuid() == 0) {
		FILE *f = fopen(PING_GROUP_RANGE, "r");

		if (f) {
			if (!fgets(saved_range, sizeof(saved_range), f))
				saved_range[0] = '\0';
			fclose(f);
		}
		if (saved_range[0] && write_range("0 2147483647") == 0) {
			printf("[   INFO   ] set net.ipv4.ping_group_range to \"0 2147483647\" (was \"%.*s\")\n",
			       (int)strcspn(saved_range, "\n"), saved_range);
			can_dgram = can_open(AF_INET, SOCK_DGRAM);
		} else {
			saved_range[0] = '\0';
		}
	}
	if (!can_dgram)
		printf("[   INFO   ] unprivileged ICMP sockets not permitted (%s; not root or %s "
		       "not writable): datagram cases skipped\n", strerror(errno), PING_GROUP_RANGE);
	can_raw = can_open(AF_INET, SOCK_RAW);
	if (!can_raw)
		printf("[   INFO   ] no CAP_NET_RAW: raw socket cases skipped\n");
	can_v6 = can_open(AF_INET6, can_dgram ? SOCK_DGRAM : SOCK_RAW);
	*state = NULL;
	return 0;
}

static int group_teardown(void **state)
{
	if (saved_range[0])
		write_range(saved_range);
	return 0;
}

/* --- running one probe ------------------------------------------------------------- */

static int setup(void **state)
{
	struct probe_fixture *f = calloc(1, sizeof(*f));

	probe_fixture_init(f, NULL, "icmp-test", CHECK_ICMP, 3000);
	f->check.icmp.host = xstrdup("127.0.0.1");
	f->check.icmp.count = 3;
	f->check.icmp.spacing_ms = 20;
	f->check.expect.max_loss_pct = -1;
	f->check.target = xstrdup("127.0.0.1");
	probe_icmp_set_socket_kinds(PROBE_ICMP_DGRAM | PROBE_ICMP_RAW);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct probe_fixture *f = *state;

	probe_icmp_set_socket_kinds(PROBE_ICMP_DGRAM | PROBE_ICMP_RAW);
	probe_fixture_fini(f);
	free(f);
	return 0;
}

/* The checks every successful run with no loss passes. */
static void assert_all_answered(const struct probe_fixture *f, int count, const char *kind)
{
	if (!f->result.ok)
		fail_msg("not ok: %s: %s", probe_error_name(f->result.error), f->result.message);
	assert_int_equal(f->result.error, PROBE_OK);
	assert_string_equal(json_string_value(probe_fixture_detail(f, "socket")), kind);
	assert_int_equal(json_integer_value(probe_fixture_detail(f, "sent")), count);
	assert_int_equal(json_integer_value(probe_fixture_detail(f, "received")), count);
	assert_true(json_real_value(probe_fixture_detail(f, "loss_pct")) == 0.0);
	assert_true(json_real_value(probe_fixture_detail(f, "rtt_min_ms")) > 0);
	assert_true(json_real_value(probe_fixture_detail(f, "rtt_min_ms")) <= json_real_value(probe_fixture_detail(f, "rtt_avg_ms")));
	assert_true(json_real_value(probe_fixture_detail(f, "rtt_avg_ms")) <= json_real_value(probe_fixture_detail(f, "rtt_max_ms")));
	assert_true(json_real_value(probe_fixture_detail(f, "rtt_mdev_ms")) >= 0);
	assert_true(f->result.ttfb_us > 0);
	assert_true(f->result.dns_us >= 0);
	assert_int_equal(f->result.connect_us, -1);
}

/* --- the cases --------------------------------------------------------------------- */

static void test_dgram_ok(void **state)
{
	struct probe_fixture *f = *state;

	if (!can_dgram)
		skip();
	probe_icmp_set_socket_kinds(PROBE_ICMP_DGRAM);
	probe_fixture_run(f);
	assert_all_answered(f, 3, "dgram");
	assert_string_equal(json_string_value(probe_fixture_detail(f, "address")), "127.0.0.1");
}

static void test_raw_ok(void **state)
{
	struct probe_fixture *f = *state;

	if (!can_raw)
		skip();
	probe_icmp_set_socket_kinds(PROBE_ICMP_RAW);
	probe_fixture_run(f);
	assert_all_answered(f, 3, "raw");
}

/* Both allowed: the datagram socket is preferred. */
static void test_default_prefers_dgram(void **state)
{
	struct probe_fixture *f = *state;

	if (!can_dgram && !can_raw)
		skip();
	probe_fixture_run(f);
	assert_all_answered(f, 3, can_dgram ? "dgram" : "raw");
}

static void test_ipv6_dgram(void **state)
{
	struct probe_fixture *f = *state;

	if (!can_v6 || !can_dgram)
		skip();
	free(f->check.icmp.host);
	f->check.icmp.host = xstrdup("::1");
	probe_icmp_set_socket_kinds(PROBE_ICMP_DGRAM);
	probe_fixture_run(f);
	assert_all_answered(f, 3, "dgram");
	assert_string_equal(json_string_value(probe_fixture_detail(f, "address")), "::1");
}

static void test_ipv6_raw(void **state)
{
	struct probe_fixture *f = *state;

	if (!can_raw || !can_open(AF_INET6, SOCK_RAW))
		skip();
	free(f->check.icmp.host);
	f->check.icmp.host = xstrdup("::1");
	probe_icmp_set_socket_kinds(PROBE_ICMP_RAW);
	probe_fixture_run(f);
	assert_all_answered(f, 3, "raw");
}

/* count and spacing: 5 echoes 100 ms apart take at least 400 ms, but the
 * run's duration (its latency) is the average round trip, not that. */
static void test_count_and_spacing(void **state)
{
	struct probe_fixture *f = *state;
	uint64_t t0;

	if (!can_dgram && !can_raw)
		skip();
	f->check.icmp.count = 5;
	f->check.icmp.spacing_ms = 100;
	t0 = util_mono_us();
	probe_fixture_run(f);
	assert_all_answered(f, 5, can_dgram ? "dgram" : "raw");
	assert_true(util_mono_us() - t0 >= 400 * 1000);
	assert_true(util_mono_us() - t0 < 2000 * 1000);
	assert_int_equal(f->result.duration_us, f->result.ttfb_us);
	assert_true(f->result.duration_us < 100 * 1000);
}

static void test_assertions_pass(void **state)
{
	struct probe_fixture *f = *state;
	const struct probe_assertion *a;

	if (!can_dgram && !can_raw)
		skip();
	f->check.expect.max_loss_pct = 0;
	f->check.expect.max_latency_ms = 2000;
	probe_fixture_run(f);
	assert_true(f->result.ok);
	a = probe_fixture_assertion(f, "max_loss_pct 0");
	assert_non_null(a);
	assert_true(a->ok);
	assert_string_equal(a->detail, "lost 0 of 3 (0.0%)");
	a = probe_fixture_assertion(f, "max_latency");
	assert_non_null(a);
	assert_true(a->ok);
}

static void test_not_permitted(void **state)
{
	struct probe_fixture *f = *state;

	probe_icmp_set_socket_kinds(0);
	probe_fixture_run(f);
	assert_false(f->result.ok);
	assert_int_equal(f->result.error, PROBE_ERR_INTERNAL);
	assert_string_equal(f->result.message,
	                    "ICMP not permitted: allow unprivileged ping with "
	                    "`sysctl -w net.ipv4.ping_group_range=\"0 2147483647\"` "
	                    "or give pharos CAP_NET_RAW");
}

/* The name does not resolve: a dns error, nothing sent. */
static void test_bad_host(void **state)
{
	struct probe_fixture *f = *state;

	free(f->check.icmp.host);
	f->check.icmp.host = xstrdup("no-such-host.invalid");
	probe_fixture_run(f);
	assert_int_equal(f->result.error, PROBE_ERR_DNS);
}

/* probe_abort while echoes are still being sent: the timers and socket go. */
static void test_abort(void **state)
{
	struct probe_fixture *f = *state;
	struct probe_run *run;
	uint64_t deadline = util_mono_ms() + 5000;

	if (!can_dgram && !can_raw)
		skip();
	f->check.icmp.count = 10;
	f->check.icmp.spacing_ms = 200;
	run = probe_start(&f->env, &f->check, probe_fixture_on_done, f);
	while (util_mono_ms() < deadline && strcmp(run->phase, "waiting for echo replies") != 0)
		loop_run_once(f->loop, 20);
	loop_run_once(f->loop, 50);
	probe_abort(run);
	assert_int_equal(f->done, 1);
	assert_int_equal(f->result.error, PROBE_ERR_ABORTED);
}

/* A timeout shorter than count x spacing: the unsent echoes count as lost. */
static void test_deadline_before_all_sent(void **state)
{
	struct probe_fixture *f = *state;

	if (!can_dgram && !can_raw)
		skip();
	f->check.icmp.count = 10;
	f->check.icmp.spacing_ms = 100;
	f->check.timeout_ms = 450;
	f->check.expect.max_loss_pct = 10;
	probe_fixture_run(f);
	assert_int_equal(f->result.error, PROBE_ERR_ASSERTION);
	assert_true(json_integer_value(probe_fixture_detail(f, "sent")) < 10);
	assert_true(json_integer_value(probe_fixture_detail(f, "received")) >= 3);
	assert_true(json_real_value(probe_fixture_detail(f, "loss_pct")) > 10);
	/* Our own deadline ended it, not probe.c's timeout. */
	assert_true(f->result.duration_us < 450 * 1000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_dgram_ok, setup, teardown),
		cmocka_unit_test_setup_teardown(test_raw_ok, setup, teardown),
		cmocka_unit_test_setup_teardown(test_default_prefers_dgram, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ipv6_dgram, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ipv6_raw, setup, teardown),
		cmocka_unit_test_setup_teardown(test_count_and_spacing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_assertions_pass, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_permitted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_host, setup, teardown),
		cmocka_unit_test_setup_teardown(test_abort, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deadline_before_all_sent, setup, teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

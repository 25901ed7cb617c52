/* test_util.c — durations, RFC 3339 time, hashing, ids, secure compare,
 * strlcpy, and log masking. */
#include "unit.h"
#include "core/log.h"
#include "core/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void test_duration_good(void **state)
{
	static const struct {
		const char *s;
		uint64_t ms;
	} cases[] = {
		{ "0", 0 },
		{ "0ms", 0 },
		{ "0s", 0 },
		{ "250ms", 250 },
		{ "30s", 30000 },
		{ "5m", 300000 },
		{ "4h", 14400000 },
		{ "7d", 604800000 },
		{ "1500ms", 1500 },
		{ "18446744073709551615ms", UINT64_MAX },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t ms = 12345;

		assert_int_equal(util_parse_duration(cases[i].s, &ms), 0);
		assert_true(ms == cases[i].ms);
	}
}

static void test_duration_bad(void **state)
{
	static const char *const bad[] = {
		"", "5", "30", "00", "s", "ms", "-5s", "+5s", " 5s", "5s ", "5 s", "5x",
		"5sec", "1.5s", "5S", "5ms5", "abc", "0x10s",
		"18446744073709551616ms",       /* overflows the number */
		"18446744073709551615s",        /* overflows the multiplication */
		"213503982334602d",             /* overflows ms */
		"99999999999999999999999999d",
	};
	uint64_t ms = 777;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (util_parse_duration(bad[i], &ms) != -1)
			fail_msg("accepted bad duration \"%s\"", bad[i]);
	}
	assert_int_equal(util_parse_duration(NULL, &ms), -1);
	assert_true(ms == 777);
}

static void test_duration_format(void **state)
{
	static const struct {
		uint64_t ms;
		const char *s;
	} cases[] = {
		{ 0, "0" }, { 1500, "1500ms" }, { 30000, "30s" }, { 300000, "5m" },
		{ 7200000, "2h" }, { 604800000, "7d" }, { 90000, "90s" }, { 1, "1ms" },
	};
	char buf[32];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t back;

		util_format_duration(cases[i].ms, buf, sizeof(buf));
		assert_string_equal(buf, cases[i].s);
		assert_int_equal(util_parse_duration(buf, &back), 0);
		assert_true(back == cases[i].ms);
	}
}

static void test_time_format(void **state)
{
	char buf[40];

	util_format_time(0, buf, sizeof(buf));
	assert_string_equal(buf, "1970-01-01T00:00:00.000Z");
	util_format_time(1795479204123456LL, buf, sizeof(buf));
	assert_string_equal(buf, "2026-11-24T00:13:24.123Z");
	util_format_time(-1000, buf, sizeof(buf));
	assert_string_equal(buf, "1969-12-31T23:59:59.999Z");
}

static void test_time_parse(void **state)
{
	static const struct {
		const char *s;
		int64_t us;
	} good[] = {
		{ "2026-11-24T00:13:24Z", 1795479204000000LL },
		{ "2026-11-24T00:13:24.123Z", 1795479204123000LL },
		{ "2026-11-24T00:13:24.123456789Z", 1795479204123456LL },
		{ "2026-11-24t00:13:24z", 1795479204000000LL },
		{ "2026-11-24 00:13:24Z", 1795479204000000LL },
		{ "2026-11-24T01:13:24+01:00", 1795479204000000LL },
		{ "2026-11-23T19:43:24-04:30", 1795479204000000LL },
		{ "1970-01-01T00:00:00Z", 0 },
		{ "2024-02-29T00:00:00Z", 1709164800000000LL },
		{ "1795479204", 1795479204000000LL },
		{ "0", 0 },
		{ "-10", -10000000LL },
	};
	static const char *const bad[] = {
		"", "now", "2026-11-24", "2026-11-24T00:13:24", "2026-13-24T00:13:24Z",
		"2026-11-31T00:13:24Z", "2023-02-29T00:00:00Z", "2026-11-24T24:00:00Z",
		"2026-11-24T00:60:00Z", "2026-11-24T00:13:24.Z", "2026-11-24T00:13:24+0100",
		"2026-11-24T00:13:24Zjunk", "12a", "99999999999999999999", "2026-1-24T00:13:24Z",
	};
	char buf[40];
	int64_t us;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		us = 42;
		if (util_parse_time(good[i].s, &us) != 0)
			fail_msg("rejected \"%s\"", good[i].s);
		if (us != good[i].us)
			fail_msg("\"%s\": got %lld", good[i].s, (long long)us);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (util_parse_time(bad[i], &us) != -1)
			fail_msg("accepted \"%s\"", bad[i]);
	}
	/* Round trip. */
	util_format_time(1795479204123000LL, buf, sizeof(buf));
	assert_int_equal(util_parse_time(buf, &us), 0);
	assert_true(us == 1795479204123000LL);
}

static void test_hash(void **state)
{
	/* FNV-1a 64 reference values. */
	assert_true(util_hash64("") == 0xcbf29ce484222325ULL);
	assert_true(util_hash64("a") == 0xaf63dc4c8601ec8cULL);
	assert_true(util_hash64("foobar") == 0x85944171f73967e8ULL);
	assert_true(util_hash64_update(util_hash64_update(UTIL_HASH64_INIT, "foo", 3), "bar", 3) ==
	            util_hash64("foobar"));
}

static void test_random_id(void **state)
{
	char a[UTIL_ID_LEN], b[UTIL_ID_LEN];

	util_random_id(a);
	util_random_id(b);
	assert_int_equal(strlen(a), 16);
	assert_int_equal(strspn(a, "0123456789abcdef"), 16);
	assert_string_not_equal(a, b);
}

static void test_secure_equals(void **state)
{
	assert_true(util_secure_equals("s3cret-token", "s3cret-token"));
	assert_true(util_secure_equals("", ""));
	assert_false(util_secure_equals("s3cret-token", "s3cret-tokem"));
	assert_false(util_secure_equals("s3cret-token", "s3cret-token2"));
	assert_false(util_secure_equals("s3cret-token2", "s3cret-token"));
	assert_false(util_secure_equals("", "x"));
	assert_false(util_secure_equals(NULL, "x"));
	assert_false(util_secure_equals("x", NULL));
}

static void test_strlcpy(void **state)
{
	char buf[5];

	assert_int_equal(util_strlcpy(buf, "abc", sizeof(buf)), 3);
	assert_string_equal(buf, "abc");
	assert_int_equal(util_strlcpy(buf, "abcdefgh", sizeof(buf)), 8);
	assert_string_equal(buf, "abcd");
	buf[0] = 'x';
	assert_int_equal(util_strlcpy(buf, "abc", 0), 3);
	assert_int_equal(buf[0], 'x');
}

static void test_alloc(void **state)
{
	char *s = xasprintf("%s-%d", "x", 42);
	char *t = xstrndup("abcdef", 3);

	assert_string_equal(s, "x-42");
	assert_string_equal(t, "abc");
	assert_null(xstrdup(NULL));
	free(s);
	free(t);
}

static void test_mask_secrets(void **state)
{
	char *m;

	log_secret_add("abc");                  /* too short: ignored */
	log_secret_add("hunter22");
	log_secret_add("hunter2");
	m = log_mask_secrets("pw=hunter22 and abc and hunter2!");
	assert_string_equal(m, "pw=*** and abc and ***!");
	free(m);
	log_secret_clear();
	m = log_mask_secrets("hunter22");
	assert_string_equal(m, "hunter22");
	free(m);
}

/* Runs one log call with fd 2 redirected into a pipe; returns the line. */
static char *capture_log(enum log_format fmt, const char *msg, const char *k, const char *v)
{
	static char buf[4096];
	int p[2], saved;
	ssize_t n;

	unsetenv("PHAROS_LOG_LEVEL");
	assert_int_equal(pipe(p), 0);
	saved = dup(2);
	assert_true(saved >= 0);
	assert_int_equal(dup2(p[1], 2), 2);
	log_setup(fmt, LOG_INFO);
	log_info(msg, k, v, "run_id", "0123abcd");
	log_debug("not shown", "k", "v");
	dup2(saved, 2);
	close(saved);
	close(p[1]);
	n = read(p[0], buf, sizeof(buf) - 1);
	close(p[0]);
	assert_true(n > 0);
	buf[n] = '\0';
	/* Only the first line matters (PHAROS_LOG_LEVEL=debug could add one). */
	if (strchr(buf, '\n') != NULL)
		strchr(buf, '\n')[1] = '\0';
	log_setup(LOG_FORMAT_LOGFMT, LOG_INFO);
	return buf;
}

static void test_log_logfmt(void **state)
{
	char *line;

	log_secret_add("tok-SECRET-1");
	line = capture_log(LOG_FORMAT_LOGFMT, "probe finished", "check", "db");
	assert_non_null(strstr(line, " level=info msg=\"probe finished\" check=db run_id=0123abcd\n"));
	assert_int_equal(strncmp(line, "ts=", 3), 0);
	assert_int_equal(strlen(line), strlen("ts=2026-11-24T00:13:24.123Z level=info msg=\"probe finished\" check=db run_id=0123abcd\n"));
	line = capture_log(LOG_FORMAT_LOGFMT, "x", "url", "https://h/?t=tok-SECRET-1 \"q\"\\\n");
	assert_non_null(strstr(line, " url=\"https://h/?t=*** \\\"q\\\"\\\\\\n\" run_id="));
	assert_null(strstr(line, "SECRET"));
	log_secret_clear();
}

static void test_log_json(void **state)
{
	char *line;

	log_secret_add("tok-SECRET-1");
	line = capture_log(LOG_FORMAT_JSON, "sent tok-SECRET-1", "check", "a b");
	assert_int_equal(strncmp(line, "{\"ts\":\"", 7), 0);
	assert_non_null(strstr(line, "\"level\":\"info\",\"msg\":\"sent ***\",\"check\":\"a b\",\"run_id\":\"0123abcd\"}\n"));
	log_secret_clear();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_duration_good),
		cmocka_unit_test(test_duration_bad),
		cmocka_unit_test(test_duration_format),
		cmocka_unit_test(test_time_format),
		cmocka_unit_test(test_time_parse),
		cmocka_unit_test(test_hash),
		cmocka_unit_test(test_random_id),
		cmocka_unit_test(test_secure_equals),
		cmocka_unit_test(test_strlcpy),
		cmocka_unit_test(test_alloc),
		cmocka_unit_test(test_mask_secrets),
		cmocka_unit_test(test_log_logfmt),
		cmocka_unit_test(test_log_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

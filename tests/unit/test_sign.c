/* test_sign.c — Standard Webhooks v1 signatures against the two official test
 * vectors (wire-formats.md §3), and the verification's negative cases. */
#include "unit.h"
#include "alerts/sign.h"

#include <stdio.h>
#include <string.h>

struct vector {
	const char *secret, *id, *payload, *expected;
	int64_t ts;
};

static const struct vector vec_a = {
	"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek",
	"{\"test\": 2432232314}", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", 1614265330,
};

static const struct vector vec_b = {
	"whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD", "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
	"{\"email\":\"test@example.com\",\"username\":\"test_user\"}",
	"v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=", 1649367553,
};

static void check_vector(const struct vector *v)
{
	char out[SIGN_V1_LEN];
	char err[128] = "";

	assert_int_equal(sign_webhook(v->secret, v->id, v->ts, v->payload, strlen(v->payload),
	                              out, sizeof(out), err, sizeof(err)), 0);
	assert_string_equal(out, v->expected);
	assert_int_equal(sign_webhook_verify(v->secret, v->id, v->ts, v->payload,
	                                     strlen(v->payload), v->expected, v->ts, SIGN_TOLERANCE_S), 0);
}

static void test_vector_a(void **state)
{
	check_vector(&vec_a);
}

static void test_vector_b(void **state)
{
	check_vector(&vec_b);
}

/* The secret without its prefix signs the same. */
static void test_secret_without_prefix(void **state)
{
	char out[SIGN_V1_LEN], err[128];

	assert_int_equal(sign_webhook(vec_a.secret + 6, vec_a.id, vec_a.ts, vec_a.payload,
	                              strlen(vec_a.payload), out, sizeof(out), err, sizeof(err)), 0);
	assert_string_equal(out, vec_a.expected);
}

/* Unpadded base64 is accepted and means the same bytes as the padded form
 * (19 bytes, "ABCDEFGHIJKLMNOPQRS", so two '=' of padding). */
static void test_unpadded_secret(void **state)
{
	const char *padded = "whsec_QUJDREVGR0hJSktMTU5PUFFSUw==";   /* "ABCDEFGHIJKLMNOPQRS" */
	const char *unpadded = "whsec_QUJDREVGR0hJSktMTU5PUFFSUw";
	char a[SIGN_V1_LEN], b[SIGN_V1_LEN], err[128];

	assert_int_equal(sign_secret_check(unpadded, err, sizeof(err)), 0);
	assert_int_equal(sign_webhook(padded, "id1", 5, "x", 1, a, sizeof(a), err, sizeof(err)), 0);
	assert_int_equal(sign_webhook(unpadded, "id1", 5, "x", 1, b, sizeof(b), err, sizeof(err)), 0);
	assert_string_equal(a, b);
	/* And it is the HMAC keyed by the decoded bytes, not by the text:
	 * printf 'id1.5.x' | openssl dgst -sha256 -mac HMAC -macopt key:ABCDEFGHIJKLMNOPQRS -binary | base64 */
	assert_string_equal(a, "v1,9OG3nALY5VrBmcsoQiq+8Ah4/Rucb7/CvbsVZQDs/jo=");
}

static void test_bad_secrets(void **state)
{
	static const char *const bad[] = {
		"", "whsec_", "whsec_!!!!", "whsec_abc def", " whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
		"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw=",     /* padding where none belongs */
		"whsec_A",                                      /* 1 char: no whole byte */
		"whsec_QU=JD", "whsec_QUJD===",
	};
	char out[SIGN_V1_LEN], err[128];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(sign_secret_check(bad[i], err, sizeof(err)), -1);
		assert_true(err[0] != '\0');
		assert_int_equal(sign_webhook(bad[i], "id", 1, "x", 1, out, sizeof(out), err,
		                              sizeof(err)), -1);
		/* The message never quotes the secret. */
		if (strlen(bad[i]) > 7)
			assert_null(strstr(err, bad[i] + 6));
	}
	assert_int_equal(sign_secret_check(NULL, err, sizeof(err)), -1);
}

static void test_bad_ids_and_buffers(void **state)
{
	char out[SIGN_V1_LEN], err[128];

	assert_int_equal(sign_webhook(vec_a.secret, "a.b", 1, "x", 1, out, sizeof(out), err,
	                              sizeof(err)), -1);
	assert_int_equal(sign_webhook(vec_a.secret, "", 1, "x", 1, out, sizeof(out), err,
	                              sizeof(err)), -1);
	assert_int_equal(sign_webhook(vec_a.secret, NULL, 1, "x", 1, out, sizeof(out), err,
	                              sizeof(err)), -1);
	assert_int_equal(sign_webhook(vec_a.secret, "id", 1, "x", 1, out, SIGN_V1_LEN - 1, err,
	                              sizeof(err)), -1);
	/* An empty body is fine. */
	assert_int_equal(sign_webhook(vec_a.secret, "id", 1, "", 0, out, sizeof(out), err,
	                              sizeof(err)), 0);
	assert_int_equal(strncmp(out, "v1,", 3), 0);
	assert_int_equal(strlen(out), 47);
}

static int verify(const char *header, int64_t now)
{
	return sign_webhook_verify(vec_a.secret, vec_a.id, vec_a.ts, vec_a.payload,
	                           strlen(vec_a.payload), header, now, SIGN_TOLERANCE_S);
}

static void test_verify_negative(void **state)
{
	const char *invalid = "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=";
	char multi[256];

	/* An invalid signature alone fails; mixed with the valid one it passes. */
	assert_int_equal(verify(invalid, vec_a.ts), -1);
	snprintf(multi, sizeof(multi), "%s %s", invalid, vec_a.expected);
	assert_int_equal(verify(multi, vec_a.ts), 0);
	snprintf(multi, sizeof(multi), "%s %s", vec_a.expected, invalid);
	assert_int_equal(verify(multi, vec_a.ts), 0);
	/* A v2 prefix is ignored, even carrying the right bytes. */
	assert_int_equal(verify("v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", vec_a.ts), -1);
	snprintf(multi, sizeof(multi), "v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE= %s",
	         vec_a.expected);
	assert_int_equal(verify(multi, vec_a.ts), 0);
	/* Timestamps: within 5 minutes either way passes, beyond fails. */
	assert_int_equal(verify(vec_a.expected, vec_a.ts + 300), 0);
	assert_int_equal(verify(vec_a.expected, vec_a.ts - 300), 0);
	assert_int_equal(verify(vec_a.expected, vec_a.ts + 301), -1);
	assert_int_equal(verify(vec_a.expected, vec_a.ts - 301), -1);
	/* A changed body or id fails; empty and garbage headers fail. */
	assert_int_equal(sign_webhook_verify(vec_a.secret, vec_a.id, vec_a.ts, "{\"test\":2432232314}",
	                                     19, vec_a.expected, vec_a.ts, SIGN_TOLERANCE_S), -1);
	assert_int_equal(sign_webhook_verify(vec_a.secret, "msg_other", vec_a.ts, vec_a.payload,
	                                     strlen(vec_a.payload), vec_a.expected, vec_a.ts,
	                                     SIGN_TOLERANCE_S), -1);
	assert_int_equal(verify("", vec_a.ts), -1);
	assert_int_equal(verify(NULL, vec_a.ts), -1);
	assert_int_equal(verify("v1,", vec_a.ts), -1);
	assert_int_equal(verify("   ", vec_a.ts), -1);
	/* A prefix of the right signature is not the signature. */
	assert_int_equal(verify("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE", vec_a.ts), -1);
	/* Vector B's signature under vector A's secret fails. */
	assert_int_equal(verify(vec_b.expected, vec_a.ts), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vector_a),
		cmocka_unit_test(test_vector_b),
		cmocka_unit_test(test_secret_without_prefix),
		cmocka_unit_test(test_unpadded_secret),
		cmocka_unit_test(test_bad_secrets),
		cmocka_unit_test(test_bad_ids_and_buffers),
		cmocka_unit_test(test_verify_negative),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* sign.h — Standard Webhooks v1 signatures (HMAC-SHA256 over
 * "<webhook-id>.<webhook-timestamp>.<body>", keyed by the base64-decoded bytes
 * of a "whsec_..." secret), both to sign what the webhook notifier sends and to
 * verify (for tests and fake receivers). Crypto and base64 are OpenSSL's. */
#ifndef PHAROS_SIGN_H
#define PHAROS_SIGN_H

#include <stddef.h>
#include <stdint.h>

/* "v1," + 44 base64 characters + NUL. */
#define SIGN_V1_LEN 48

/* The tolerance the reference libraries use when verifying: +-5 minutes. */
#define SIGN_TOLERANCE_S 300

/* Checks that a secret is usable: optional "whsec_" prefix, then standard
 * base64 (padded or not) of 1 to 256 bytes. Returns 0, or -1 with a message in
 * err that never contains the secret. For the config loader. */
int sign_secret_check(const char *secret, char *err, size_t errlen);

/* The length in bytes of the key of a strict Standard Webhooks secret:
 * "whsec_" and padded standard base64, nothing else. -1 when s is not that.
 * The webhook notifier accepts keys of 24 to 64 bytes (its `secret` check). */
int sign_secret_key_len(const char *s);

/* Writes "v1,<base64 HMAC-SHA256>" of "<msg_id>.<timestamp>.<body>" into out
 * (at least SIGN_V1_LEN bytes). msg_id must not contain '.'. Returns 0, or -1
 * (bad secret, bad id, small buffer) with a message in err (never the secret). */
int sign_webhook(const char *secret, const char *msg_id, int64_t timestamp,
                 const char *body, size_t body_len, char *out, size_t outlen,
                 char *err, size_t errlen);

/* Verifies a webhook-signature header (space-separated "version,base64"
 * entries; entries other than v1 are ignored) against the message: returns 0
 * when some v1 entry matches (constant-time compare) and |now_s - timestamp|
 * <= tolerance_s; -1 otherwise. */
int sign_webhook_verify(const char *secret, const char *msg_id, int64_t timestamp,
                        const char *body, size_t body_len, const char *sig_header,
                        int64_t now_s, int64_t tolerance_s);

#endif

/* sign.c — Standard Webhooks v1 (HMAC-SHA256) signing and verification with
 * OpenSSL libcrypto: HMAC(), EVP_DecodeBlock/EVP_EncodeBlock, CRYPTO_memcmp. */
#include "alerts/sign.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "core/util.h"

#define SECRET_PREFIX "whsec_"
#define KEY_MAX 256                     /* decoded bytes; the spec says 24-64 */
#define KEY_B64_MAX (KEY_MAX / 3 * 4 + 4)
#define MAC_LEN 32                      /* SHA-256 */

/* Decodes a secret ("whsec_" optional, base64 with or without padding) into
 * key. Returns the key length (>= 1), or -1. The secret never reaches err. */
static int secret_decode(const char *secret, unsigned char key[KEY_MAX + 3],
                         char *err, size_t errlen)
{
	char buf[KEY_B64_MAX + 4];
	size_t len, pad = 0;
	int n;

	if (secret == NULL || secret[0] == '\0') {
		snprintf(err, errlen, "webhook secret is empty");
		return -1;
	}
	if (strncmp(secret, SECRET_PREFIX, strlen(SECRET_PREFIX)) == 0)
		secret += strlen(SECRET_PREFIX);
	len = strlen(secret);
	/* Padding may be given (then it must be right) or left out. */
	while (len > 0 && secret[len - 1] == '=' && pad < 2) {
		len--;
		pad++;
	}
	if (len == 0 || len > KEY_B64_MAX) {
		snprintf(err, errlen, "webhook secret must be base64 of 1 to %d bytes", KEY_MAX);
		return -1;
	}
	/* EVP_DecodeBlock would skip surrounding blanks and read '=' as data
	 * before the end; a secret is only the base64 alphabet. */
	if (strspn(secret, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/") != len
	    || len % 4 == 1 || (pad > 0 && (len + pad) % 4 != 0)) {
		snprintf(err, errlen, "webhook secret is not valid base64 (expected whsec_<base64>)");
		return -1;
	}
	memcpy(buf, secret, len);
	pad = (4 - len % 4) % 4;
	memset(buf + len, '=', pad);
	buf[len + pad] = '\0';
	n = EVP_DecodeBlock(key, (const unsigned char *)buf, (int)(len + pad));
	if (n < 0 || (size_t)n < pad + 1) {
		snprintf(err, errlen, "webhook secret is not valid base64 (expected whsec_<base64>)");
		return -1;
	}
	/* EVP_DecodeBlock counts the padding as zero bytes. */
	return n - (int)pad;
}

int sign_secret_key_len(const char *s)
{
	unsigned char out[128];
	size_t n, pad = 0;
	int len;

	if (s == NULL || strncmp(s, "whsec_", 6) != 0)
		return -1;
	s += 6;
	n = strlen(s);
	if (n == 0 || n % 4 != 0 || n > 4 * (sizeof(out) / 3))
		return -1;
	/* EVP_DecodeBlock skips blanks and ignores what '=' means: check the
	 * alphabet here and subtract the padding below. */
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '=') {
			if (i < n - 2 || (i == n - 2 && s[n - 1] != '='))
				return -1;
			pad++;
		} else if (!isalnum(ch) && ch != '+' && ch != '/') {
			return -1;
		}
	}
	len = EVP_DecodeBlock(out, (const unsigned char *)s, (int)n);
	OPENSSL_cleanse(out, sizeof(out));
	if (len < 0)
		return -1;
	return len - (int)pad;
}

int sign_secret_check(const char *secret, char *err, size_t errlen)
{
	unsigned char key[KEY_MAX + 3];
	int n = secret_decode(secret, key, err, errlen);

	OPENSSL_cleanse(key, sizeof(key));
	return n < 0 ? -1 : 0;
}

/* Computes the raw MAC of "<msg_id>.<timestamp>.<body>". Returns 0 or -1. */
static int compute_mac(const char *secret, const char *msg_id, int64_t timestamp,
                       const char *body, size_t body_len, unsigned char mac[MAC_LEN],
                       char *err, size_t errlen)
{
	unsigned char key[KEY_MAX + 3];
	char prefix[64];
	char *msg = NULL;
	size_t plen, mlen;
	unsigned int maclen = 0;
	int klen, rc = -1;

	klen = secret_decode(secret, key, err, errlen);
	if (klen < 0)
		goto out;
	if (msg_id == NULL || msg_id[0] == '\0' || strchr(msg_id, '.') != NULL) {
		snprintf(err, errlen, "webhook id must be non-empty and contain no '.'");
		goto out;
	}
	if (body == NULL && body_len > 0) {
		snprintf(err, errlen, "no body");
		goto out;
	}
	snprintf(prefix, sizeof(prefix), ".%" PRId64 ".", timestamp);
	plen = strlen(prefix);
	mlen = strlen(msg_id) + plen + body_len;
	msg = xmalloc(mlen + 1);
	memcpy(msg, msg_id, strlen(msg_id));
	memcpy(msg + strlen(msg_id), prefix, plen);
	if (body_len > 0)
		memcpy(msg + strlen(msg_id) + plen, body, body_len);
	msg[mlen] = '\0';
	if (HMAC(EVP_sha256(), key, klen, (const unsigned char *)msg, mlen, mac, &maclen) == NULL
	    || maclen != MAC_LEN) {
		snprintf(err, errlen, "HMAC-SHA256 failed");
		goto out;
	}
	rc = 0;
out:
	OPENSSL_cleanse(key, sizeof(key));
	free(msg);
	return rc;
}

int sign_webhook(const char *secret, const char *msg_id, int64_t timestamp,
                 const char *body, size_t body_len, char *out, size_t outlen,
                 char *err, size_t errlen)
{
	unsigned char mac[MAC_LEN];
	unsigned char b64[64];
	int rc = -1;

	if (outlen < SIGN_V1_LEN) {
		snprintf(err, errlen, "signature buffer too small");
		goto out;
	}
	if (compute_mac(secret, msg_id, timestamp, body, body_len, mac, err, errlen) < 0)
		goto out;
	if (EVP_EncodeBlock(b64, mac, MAC_LEN) != 44) {
		snprintf(err, errlen, "base64 encoding failed");
		goto out;
	}
	snprintf(out, outlen, "v1,%s", (const char *)b64);
	rc = 0;
out:
	OPENSSL_cleanse(mac, sizeof(mac));
	return rc;
}

int sign_webhook_verify(const char *secret, const char *msg_id, int64_t timestamp,
                        const char *body, size_t body_len, const char *sig_header,
                        int64_t now_s, int64_t tolerance_s)
{
	char expected[SIGN_V1_LEN];
	char err[128];
	const char *p;
	size_t elen;
	int64_t skew;
	int ok = 0;

	if (sig_header == NULL)
		return -1;
	skew = now_s > timestamp ? now_s - timestamp : timestamp - now_s;
	if (tolerance_s < 0 || skew > tolerance_s)
		return -1;
	if (sign_webhook(secret, msg_id, timestamp, body, body_len, expected,
	                 sizeof(expected), err, sizeof(err)) < 0)
		return -1;
	elen = strlen(expected);
	/* Walk every entry; no early exit, so timing does not tell which matched. */
	p = sig_header;
	while (*p != '\0') {
		size_t n;

		p += strspn(p, " ");
		n = strcspn(p, " ");
		if (n == elen && strncmp(p, "v1,", 3) == 0
		    && CRYPTO_memcmp(p, expected, elen) == 0)
			ok = 1;
		p += n;
	}
	OPENSSL_cleanse(expected, sizeof(expected));
	return ok ? 0 : -1;
}

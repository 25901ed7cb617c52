/* notify_webhook.c — the generic webhook: a small JSON body, or the
 * notifier's template body filled in with JSON-escaped values, signed by the
 * Standard Webhooks scheme (webhook-id, webhook-timestamp, webhook-signature)
 * when the notifier has a secret. */
#include "alerts/notify.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alerts/notify_template.h"
#include "alerts/sign.h"
#include "core/util.h"

#define FIELD_MAX 4096          /* each free-text field; Standard Webhooks: keep bodies < 20 KB */

static int webhook_build(const struct notifier_conf *n, const struct alert_event *ev,
                         const char *key, int64_t now_s, struct notify_request *out,
                         char *err, size_t errlen)
{
	const char *type = ev->kind == ALERT_EVENT_RESOLVED ? "alert.resolved"
	                   : ev->kind == ALERT_EVENT_TEST ? "alert.test" : "alert.firing";
	char ts[NOTIFY_TIME_LEN];
	char sig[SIGN_V1_LEN];
	const char *secret = notifier_get(n, "secret");
	char *id = xstrdup(key);
	json_t *root = json_object();
	int rc = -1;

	/* Standard Webhooks ids must not contain '.', the signed content's separator. */
	for (char *p = id; *p != '\0'; p++)
		if (*p == '.')
			*p = '_';

	notify_time(ev->ts_us, ts);
	json_object_set_new(root, "id", json_string(id));
	json_object_set_new(root, "type", json_string(type));
	json_object_set_new(root, "timestamp", json_string(ts));
	json_object_set_new(root, "rule", notify_json_str(ev->rule, FIELD_MAX));
	json_object_set_new(root, "check", notify_json_str(ev->check, FIELD_MAX));
	json_object_set_new(root, "severity", json_string(alert_severity_name(ev->severity)));
	json_object_set_new(root, "value", notify_json_str(ev->value, FIELD_MAX));
	json_object_set_new(root, "message", notify_json_str(ev->message, FIELD_MAX));
	json_object_set_new(root, "url", notify_json_str(ev->url, FIELD_MAX));
	/* The probe run that caused the transition, to find it in logs and traces. */
	if (ev->run_id != NULL && ev->run_id[0] != '\0')
		json_object_set_new(root, "run_id", notify_json_str(ev->run_id, FIELD_MAX));

	out->url = xstrdup(notifier_get(n, "url"));
	notify_request_add_header(out, "webhook-id: %s", id);
	notify_request_add_header(out, "webhook-timestamp: %" PRId64, now_s);
	if (n->template_body != NULL) {
		/* The service's own JSON (Mattermost, Google Chat, ...): the loader
		 * checked that it stays JSON once filled, values JSON-escaped. */
		json_decref(root);
		out->body = notify_template_fill(n->template_body, ev, true);
		out->content_type = xstrdup("application/json");
		notify_request_add_header(out, "Content-Type: application/json");
	} else if (notify_request_set_json(out, root, err, errlen) < 0) {
		root = NULL;
		goto out;
	}
	root = NULL;
	if (secret != NULL && secret[0] != '\0') {
		/* Over the body exactly as it will be sent. */
		if (sign_webhook(secret, id, now_s, out->body, strlen(out->body), sig, sizeof(sig),
		                 err, errlen) < 0)
			goto out;
		notify_request_add_header(out, "webhook-signature: %s", sig);
		explicit_bzero(sig, sizeof(sig));
	}
	rc = 0;
out:
	json_decref(root);
	free(id);
	return rc;
}

/* Standard Webhooks: "whsec_" and the base64 of a 24 to 64 byte key. */
static const char *check_secret(const char *value)
{
	int len = sign_secret_key_len(value);

	if (len < 24 || len > 64)
		return "must be \"whsec_\" followed by the base64 of a 24 to 64 byte key, as Standard Webhooks specifies";
	return NULL;
}

static const struct notifier_setting webhook_settings[] = {
	{ "url", NOTIFIER_URL, NOTIFIER_REQUIRED | NOTIFIER_SECRET,
	  "where to POST (may carry a token: never shown)", "https://hooks.example.com/pharos",
	  "url = \"https://hooks.example.com/pharos\"", NULL },
	{ "secret", NOTIFIER_TEXT, NOTIFIER_SECRET,
	  "whsec_... : signs per Standard Webhooks (unsigned without)",
	  "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", NULL, check_secret },
	{ NULL, 0, 0, NULL, NULL, NULL, NULL }
};

const struct notifier_type notifier_webhook = {
	.name = "webhook",
	.doc = "any HTTP endpoint: a small JSON body, signed per Standard Webhooks",
	.settings = webhook_settings,
	.build = webhook_build,
	.default_rate = 10,
	.json_template = true,
};

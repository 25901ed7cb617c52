/* notify_webhook.c — the generic webhook: a small JSON body, signed by the
 * Standard Webhooks scheme (webhook-id, webhook-timestamp, webhook-signature)
 * when the notifier has a secret. */
#include "alerts/notify.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alerts/sign.h"
#include "core/util.h"

#define FIELD_MAX 4096          /* each free-text field; Standard Webhooks: keep bodies < 20 KB */

int notify_webhook_build(const struct notifier_conf *n, const struct alert_event *ev,
                         const char *key, int64_t now_s, struct notify_request *out,
                         char *err, size_t errlen)
{
	const char *type = ev->kind == ALERT_EVENT_RESOLVED ? "alert.resolved"
	                   : ev->kind == ALERT_EVENT_TEST ? "alert.test" : "alert.firing";
	char ts[NOTIFY_TIME_LEN];
	char sig[SIGN_V1_LEN];
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

	out->url = xstrdup(n->url);
	notify_request_add_header(out, "webhook-id: %s", id);
	notify_request_add_header(out, "webhook-timestamp: %" PRId64, now_s);
	if (notify_request_set_json(out, root, err, errlen) < 0) {
		root = NULL;
		goto out;
	}
	root = NULL;
	if (n->secret != NULL && n->secret[0] != '\0') {
		/* Over the body exactly as it will be sent. */
		if (sign_webhook(n->secret, id, now_s, out->body, strlen(out->body), sig, sizeof(sig),
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

/* heartbeat.c — the push endpoint of heartbeat checks and the hand-over of a
 * ping from a libmicrohttpd thread to the loop (see heartbeat.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <microhttpd.h>

#include "web/api.h"
#include "web/httpd.h"
#include "heartbeat.h"
#include "core/log.h"
#include "core/loop.h"
#include "sched.h"
#include "core/util.h"
#include "core/waiter.h"

/* --- from a server thread to the loop ---------------------------------------- */

/* A ping handed from a server thread to the loop; its waiter's status:
 * 0 applied, -1 no such check, -2 stopping. */
struct ping_req {
	struct sched *sched;
	char name[API_NAME_MAX + 1];
	bool fail, truncated;
	char *message;
	char state[16];
};

static void ping_req_free(void *arg)
{
	struct ping_req *p = arg;

	free(p->message);
	free(p);
}

/* On the loop: records the ping, then wakes the server thread. */
static void ping_req_apply(struct loop *l, void *arg)
{
	struct waiter *w = arg;
	struct ping_req *p = waiter_payload(w);
	enum check_state st = CHECK_STATE_PENDING;
	int rc = sched_heartbeat_ping(p->sched, p->name, p->fail, p->message, p->truncated, &st);

	if (rc == 0)
		util_strlcpy(p->state, check_state_name(st), sizeof(p->state));
	waiter_finish(w, rc);
}

int heartbeat_deliver(struct loop *l, struct sched *s, const char *name, bool fail,
                      const char *message, bool truncated, char *state, size_t state_len)
{
	struct ping_req *p = xcalloc(1, sizeof(*p));
	struct waiter *w;
	int status;

	p->sched = s;
	util_strlcpy(p->name, name, sizeof(p->name));
	p->fail = fail;
	p->truncated = truncated;
	p->message = xstrdup(message ? message : "");
	w = waiter_new(p, ping_req_free);
	if (loop_post(l, ping_req_apply, w) != 0) {
		waiter_abandon(w);
		return -2;
	}
	status = waiter_wait(w, HEARTBEAT_WAIT_MS);
	/* Not applied yet: it will be, and a ping always sets the state it says. */
	util_strlcpy(state, status == 0 ? p->state : (fail ? "down" : "up"), state_len);
	waiter_put(w);
	return status;
}

/* --- the route handler ------------------------------------------------------- */

/* The client's address as text, for the log ("?" when unknown). */
static void heartbeat_client(struct api_request *rq, char *buf, size_t len)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(rq->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	util_strlcpy(buf, "?", len);
	if (sa == NULL)
		return;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, buf,
		          (socklen_t)len);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, buf,
		          (socklen_t)len);
}

void heartbeat_api_push(struct api_request *rq, struct api_response *rs)
{
	size_t plen = strlen(rq->path);
	bool fail = plen >= 5 && strcmp(rq->path + plen - 5, "/fail") == 0;
	const char *signal = fail ? "fail" : "success";
	const struct check *c;
	enum heartbeat_auth auth;
	char client[64], detail[160], state[16], bytes[24];
	bool truncated = false;
	char *text, *masked;
	int rc;

	heartbeat_client(rq, client, sizeof(client));
	c = conf_find_check(rq->snap->conf, rq->name);
	if (c == NULL || !probe_type_passive(c)) {
		if (c == NULL)
			snprintf(detail, sizeof(detail), "no check named %s", rq->name);
		else
			snprintf(detail, sizeof(detail), "%s is not a heartbeat check", rq->name);
		log_info("heartbeat ping for no heartbeat check", "check", rq->name, "signal", signal,
		         "client", client);
		api_error(rs, MHD_HTTP_NOT_FOUND, "not_found", detail);
		return;
	}
	auth = heartbeat_check_token(
		MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION),
		api_query(rq, "token"), c->heartbeat.token);
	if (auth != HEARTBEAT_AUTH_OK) {
		bool missing = auth == HEARTBEAT_AUTH_MISSING;

		log_warn("heartbeat ping rejected", "check", c->name, "signal", signal, "client", client,
		         "reason", missing ? "missing token" : "wrong token");
		api_error(rs, missing ? MHD_HTTP_UNAUTHORIZED : MHD_HTTP_FORBIDDEN,
		          missing ? "unauthorized" : "forbidden",
		          missing ? "a token is required: ?token=... or Authorization: Bearer ..."
		                  : "wrong token for this check");
		if (missing)
			rs->www_authenticate = "Bearer realm=\"pharos\"";
		return;
	}
	if (rq->ops == NULL || rq->ops->push == NULL) {
		api_error(rs, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable", "pings are not accepted here");
		return;
	}
	text = heartbeat_body_text(rq->body, rq->body_len, &truncated);
	masked = log_mask_secrets(text);    /* the message is stored and notified */
	rc = rq->ops->push(rq->ops->ctx, c->name, fail, masked, truncated, state, sizeof(state));
	free(masked);
	snprintf(bytes, sizeof(bytes), "%zu", rq->body_len);
	free(text);
	if (rc < 0) {
		log_info("heartbeat ping not recorded", "check", c->name, "signal", signal,
		         "client", client, "reason", rc == -1 ? "no such check" : "agent stopping");
		if (rc == -1) {
			snprintf(detail, sizeof(detail), "no heartbeat check named %s", c->name);
			api_error(rs, MHD_HTTP_NOT_FOUND, "not_found", detail);
		} else {
			api_error(rs, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable", "the agent is stopping");
		}
		return;
	}
	log_info("heartbeat ping", "check", c->name, "signal", signal, "client", client,
	         "body_bytes", bytes, "truncated", truncated ? "true" : "false");
	api_json(rs, MHD_HTTP_OK, json_pack("{s:b, s:s, s:s, s:b}", "ok", 1, "check", c->name,
	                                    "state", state, "truncated", truncated));
}

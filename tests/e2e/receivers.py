"""Fake alert receivers for the pharos end-to-end tests: Slack incoming
webhooks, PagerDuty Events API v2 and a Standard Webhooks endpoint, each a
ThreadingHTTPServer on 127.0.0.1 in a thread of the test process.

Every request is checked against the published format
(shared/reference/wire-formats.md §1-§3); what does not conform is recorded in
`receiver.failures` (the tests assert it stays empty) and answered the way the
real service would (Slack 400 invalid_payload, PagerDuty 400 invalid event,
a webhook with a bad signature 401).

Each receiver can fail on demand, switchable while the agent runs:
    r.answer_ok()                    the real service's success answer
    r.fail(500) / r.fail(400, ...)   answer that status (every request)
    r.fail(429, retry_after=2)       429 with Retry-After: 2
    r.hang()                         accept, read the request, never answer
    r.refuse()                       stop listening (connections refused)
    r.listen()                       listen again on the same port
    r.script([...])                  answers for the next requests, in order,
                                     then the current default again
Every request that reached the handler is kept in `r.requests` (a Request:
arrival and answer times, headers, body, parsed JSON, the answer given, the
idempotency key), including the ones answered with a failure.

Standard library only."""

import base64
import hashlib
import hmac
import json
import re
import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import e2eutil as U

ISO8601 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})$")

SEVERITIES = ("critical", "error", "warning", "info")
WEBHOOK_FIELDS = {"id", "type", "timestamp", "rule", "check", "severity", "value", "message", "url"}
WEBHOOK_OPTIONAL = {"run_id"}   # the probe run that caused it (issue 9), when known
WEBHOOK_TOLERANCE_S = 300      # the reference libraries' +-5 minutes


def parse_iso8601(s):
    """True when s is an ISO 8601 / RFC 3339 date-time with a zone that
    datetime can read."""
    if not isinstance(s, str) or not ISO8601.match(s):
        return False
    t = s.replace("Z", "+00:00")
    # datetime before 3.11 wants at most 6 fraction digits and a colon in the offset
    m = re.match(r"^(.*T\d{2}:\d{2}:\d{2})(\.\d+)?([+-]\d{2}):?(\d{2})$", t)
    if not m:
        return False
    frac = (m.group(2) or "")[:7]
    try:
        datetime.fromisoformat("%s%s%s:%s" % (m.group(1), frac, m.group(3), m.group(4)))
        return True
    except ValueError:
        return False


class Request:
    """One request as a receiver saw it."""

    def __init__(self, n, method, path, headers, body):
        self.n = n
        self.t = time.monotonic()         # arrival (headers and body read)
        self.wall = time.time()
        self.t_answered = None            # when the answer began to be written, the earliest
                                          # the client can have read it (None: not answered)
        self.method, self.path = method, path
        self.headers = {k.lower(): v for k, v in headers.items()}
        self.body = body
        try:
            self.json = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            self.json = None
        self.answer = None                # status code given, "hang" or None
        self.problems = []

    @property
    def key(self):
        """The notification's idempotency key: webhook-id or X-Pharos-Idempotency-Key."""
        return self.headers.get("webhook-id") or self.headers.get("x-pharos-idempotency-key")

    def __repr__(self):
        return "<%s #%d %s %s answer=%s key=%s %s>" % (
            type(self).__name__, self.n, self.method, self.path, self.answer, self.key,
            self.body[:300])


class _Handler(BaseHTTPRequestHandler):
    # HTTP/1.1 so that an `Expect: 100-continue` is answered as real services
    # do; every answer closes the connection, so that refuse() really refuses
    # (no kept-alive connection keeps reaching a receiver that stopped listening).
    protocol_version = "HTTP/1.1"
    server_version = "pharos-e2e-receiver"

    def log_message(self, fmt, *args):
        pass

    def do_POST(self):
        rcv = self.server.receiver
        try:
            n = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            n = -1
        if n < 0 or n > 4 * 1024 * 1024:
            rcv._note(None, "bad or missing Content-Length: %r" % self.headers.get("Content-Length"))
            self._answer(400, b"bad length", "text/plain")
            return
        body = self.rfile.read(n) if n else b""
        rcv._handle(self, self.command, self.path, dict(self.headers), body)

    def do_GET(self):
        rcv = self.server.receiver
        rcv._handle(self, self.command, self.path, dict(self.headers), b"")

    do_PUT = do_GET
    do_DELETE = do_GET
    do_PATCH = do_POST

    def _answer(self, status, body, ctype, headers=()):
        try:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            for k, v in headers:
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
        except OSError:
            pass
        self.close_connection = True


class Receiver:
    """The common part: the server thread, failure modes, the request log."""

    kind = "receiver"

    def __init__(self, name=None):
        self.name = name or self.kind
        self.lock = threading.Lock()
        self.cond = threading.Condition(self.lock)
        self.requests = []
        self.failures = []
        self._default = ("ok",)
        self._plan = []
        self._hang_release = threading.Event()
        self._server = None
        self._thread = None
        self.port = 0
        self.listen()

    # --- listening ---------------------------------------------------------

    def listen(self):
        """Starts listening (again, on the same port after refuse())."""
        if self._server is not None:
            return
        last = None
        if not self.port:       # from this worker's block: kept while refused
            self.port = U.free_port()
        for _ in range(50):
            try:
                srv = ThreadingHTTPServer(("127.0.0.1", self.port), _Handler)
                break
            except OSError as e:        # the old socket may linger a moment
                last = e
                time.sleep(0.1)
        else:
            raise AssertionError("%s: cannot listen on port %d again: %s" % (self.name, self.port, last))
        srv.daemon_threads = True
        srv.receiver = self
        self.port = srv.server_address[1]
        self._server = srv
        self._thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()

    def refuse(self):
        """Stops listening: new connections are refused until listen()."""
        srv, self._server = self._server, None
        if srv is not None:
            srv.shutdown()
            srv.server_close()
            self._thread.join(5)

    @property
    def listening(self):
        return self._server is not None

    def url(self, path="/"):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def close(self):
        self._hang_release.set()
        self.refuse()

    # --- behaviour -----------------------------------------------------------

    def answer_ok(self):
        """From now on: the real service's success answer."""
        with self.lock:
            self._default = ("ok",)
            self._plan = []
        self._release_hangs()

    def fail(self, status, retry_after=None, body=None):
        """From now on: answer every request with status (and Retry-After)."""
        with self.lock:
            self._default = ("status", status, retry_after, body)
            self._plan = []
        self._release_hangs()

    def hang(self):
        """From now on: read each request and never answer (until another mode)."""
        with self.lock:
            self._hang_release = threading.Event()
            self._default = ("hang",)
            self._plan = []

    def script(self, answers):
        """The next requests get these answers, in order: each an int status,
        (status, retry_after), "ok" or "hang"; then the default again."""
        plan = []
        for a in answers:
            if a == "ok":
                plan.append(("ok",))
            elif a == "hang":
                plan.append(("hang",))
            elif isinstance(a, tuple):
                plan.append(("status", a[0], a[1], None))
            else:
                plan.append(("status", int(a), None, None))
        with self.lock:
            self._plan = plan

    def _release_hangs(self):
        self._hang_release.set()

    # --- the request log -------------------------------------------------------

    def _note(self, req, problem):
        with self.lock:
            where = "request #%d" % req.n if req is not None else "a request"
            self.failures.append("%s %s: %s" % (self.name, where, problem))

    def snapshot(self):
        with self.lock:
            return list(self.requests)

    def answered(self, status=None):
        """Requests answered (with that status; default: the success status)."""
        want = self.success_status if status is None else status
        return [r for r in self.snapshot() if r.answer == want]

    def delivered(self):
        return self.answered()

    def wait_for(self, pred=None, count=1, timeout=15.0, what=None):
        """Waits until count requests satisfying pred (default: all) were
        seen; returns them. Raises AssertionError at the deadline."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                got = [r for r in self.requests if pred is None or pred(r)]
                if len(got) >= count:
                    return got
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("%s: timed out after %.1fs waiting for %s (have %d of %d; all: %r)"
                                         % (self.name, timeout, what or "requests", len(got), count,
                                            self.requests[-10:]))
                self.cond.wait(min(left, 0.2))

    def assert_conforming(self):
        assert not self.failures, "%s saw non-conforming requests:\n%s" % (
            self.name, "\n".join(self.failures))

    # --- handling ---------------------------------------------------------------

    def _handle(self, h, method, path, headers, body):
        with self.lock:
            req = Request(len(self.requests) + 1, method, path, headers, body)
            action = self._plan.pop(0) if self._plan else self._default
            release = self._hang_release
        problems = self.validate(req)
        req.problems = problems
        with self.cond:
            self.requests.append(req)
            for p in problems:
                self.failures.append("%s request #%d: %s (body %r)" % (self.name, req.n, p, body[:500]))
            self.cond.notify_all()
        if action[0] == "hang":
            req.answer = "hang"
            release.wait(120)
            h.close_connection = True
            return
        if problems:
            status, hdrs, out, ctype = self.reject(req, problems)
        elif action[0] == "ok":
            status, hdrs, out, ctype = self.ok_answer(req)
        else:
            _, status, retry_after, fbody = action
            hdrs = [("Retry-After", str(retry_after))] if retry_after is not None else []
            out = fbody if fbody is not None else self.error_body(status)
            ctype = "text/plain"
        if isinstance(out, str):
            out = out.encode()
        req.answer = status
        # Taken before the write: on a busy machine the client may read the
        # answer and start its Retry-After wait before this thread runs again.
        t_answering = time.monotonic()
        h._answer(status, out, ctype, hdrs)
        req.t_answered = t_answering
        with self.cond:
            self.cond.notify_all()

    # --- per service -----------------------------------------------------------

    success_status = 200

    def validate(self, req):
        return []

    def ok_answer(self, req):
        return 200, [], b"ok", "text/plain"

    def reject(self, req, problems):
        return 400, [], b"invalid", "text/plain"

    def error_body(self, status):
        return "error %d" % status


def _json_post_problems(req):
    p = []
    if req.method != "POST":
        p.append("method %s, expected POST" % req.method)
    ctype = req.headers.get("content-type", "")
    if not ctype.split(";")[0].strip().lower() == "application/json":
        p.append("Content-Type %r, expected application/json" % ctype)
    try:
        req.body.decode("utf-8")
    except UnicodeDecodeError:
        p.append("body is not UTF-8")
    if req.json is None:
        p.append("body is not JSON")
    return p


# --- Slack -----------------------------------------------------------------------

SLACK_TOP_KEYS = {"text", "blocks", "attachments", "thread_ts", "mrkdwn", "unfurl_links",
                  "unfurl_media", "username", "icon_emoji", "icon_url", "channel"}


def _slack_text_object(o, where, max_len, plain_only=False):
    p = []
    if not isinstance(o, dict):
        return ["%s: a text object must be an object, got %r" % (where, o)]
    t = o.get("type")
    if t not in ("plain_text", "mrkdwn") or (plain_only and t != "plain_text"):
        p.append("%s: text object type %r" % (where, t))
    txt = o.get("text")
    if not isinstance(txt, str) or txt == "":
        p.append("%s: text must be a non-empty string" % where)
    elif len(txt) > max_len:
        p.append("%s: text of %d characters, at most %d" % (where, len(txt), max_len))
    allowed = {"type", "text", "emoji"} if t == "plain_text" else {"type", "text", "verbatim"}
    extra = set(o) - allowed
    if extra:
        p.append("%s: unknown text object members %s" % (where, sorted(extra)))
    for b in ("emoji", "verbatim"):
        if b in o and not isinstance(o[b], bool):
            p.append("%s: %s must be a boolean" % (where, b))
    return p


def slack_block_problems(block, i):
    """What is wrong with one Block Kit block (the subset pharos may use:
    header, section, context, divider, image)."""
    where = "blocks[%d]" % i
    if not isinstance(block, dict):
        return ["%s is not an object" % where]
    p = []
    t = block.get("type")
    if "block_id" in block and (not isinstance(block["block_id"], str) or len(block["block_id"]) > 255):
        p.append("%s: bad block_id" % where)
    if t == "header":
        if set(block) - {"type", "text", "block_id"}:
            p.append("%s: unknown header members %s" % (where, sorted(set(block) - {"type", "text", "block_id"})))
        p += _slack_text_object(block.get("text"), where + ".text", 150, plain_only=True)
    elif t == "section":
        if "text" not in block and "fields" not in block:
            p.append("%s: a section needs text or fields" % where)
        if set(block) - {"type", "text", "fields", "accessory", "block_id"}:
            p.append("%s: unknown section members" % where)
        if "text" in block:
            p += _slack_text_object(block["text"], where + ".text", 3000)
        if "fields" in block:
            f = block["fields"]
            if not isinstance(f, list) or not 1 <= len(f) <= 10:
                p.append("%s: fields must be an array of 1 to 10 text objects" % where)
            else:
                for k, x in enumerate(f):
                    p += _slack_text_object(x, "%s.fields[%d]" % (where, k), 2000)
    elif t == "context":
        el = block.get("elements")
        if set(block) - {"type", "elements", "block_id"}:
            p.append("%s: unknown context members" % where)
        if not isinstance(el, list) or not 1 <= len(el) <= 10:
            p.append("%s: elements must be an array of 1 to 10" % where)
        else:
            for k, x in enumerate(el):
                if isinstance(x, dict) and x.get("type") == "image":
                    if not isinstance(x.get("image_url"), str) or not isinstance(x.get("alt_text"), str):
                        p.append("%s.elements[%d]: image needs image_url and alt_text" % (where, k))
                else:
                    p += _slack_text_object(x, "%s.elements[%d]" % (where, k), 3000)
    elif t == "divider":
        if set(block) - {"type", "block_id"}:
            p.append("%s: a divider takes no members" % where)
    elif t == "image":
        if not isinstance(block.get("image_url"), str) or not isinstance(block.get("alt_text"), str):
            p.append("%s: image needs image_url and alt_text" % where)
    else:
        p.append("%s: block type %r is not one pharos should send" % (where, t))
    return p


def slack_problems(req):
    p = _json_post_problems(req)
    j = req.json
    if not isinstance(j, dict):
        return p + ["body is not a JSON object"]
    extra = set(j) - SLACK_TOP_KEYS
    if extra:
        p.append("unknown top-level members %s" % sorted(extra))
    if not isinstance(j.get("text"), str) or j["text"].strip() == "":
        p.append("text must be a non-empty string (the notification fallback)")
    elif len(j["text"]) > 40000:
        p.append("text longer than 40000 characters")
    blocks = j.get("blocks")
    if not isinstance(blocks, list) or not 1 <= len(blocks) <= 50:
        p.append("blocks must be an array of 1 to 50 blocks")
    else:
        for i, b in enumerate(blocks):
            p += slack_block_problems(b, i)
    if not req.headers.get("x-pharos-idempotency-key"):
        p.append("no X-Pharos-Idempotency-Key header")
    return p


class SlackReceiver(Receiver):
    """Slack incoming webhook: POST JSON with `text` and `blocks`; 200 "ok"."""

    kind = "slack"
    success_status = 200

    def validate(self, req):
        return slack_problems(req)

    def ok_answer(self, req):
        return 200, [], b"ok", "text/html"

    def reject(self, req, problems):
        return 400, [], b"invalid_payload", "text/html"

    def error_body(self, status):
        return {429: "rate_limited", 500: "rollup_error", 400: "invalid_payload",
                404: "channel_not_found", 410: "channel_is_archived"}.get(status, "error")

    @staticmethod
    def all_text(j):
        """Every piece of text of a Slack message, joined (for assertions)."""
        out = [j.get("text", "")]

        def walk(x):
            if isinstance(x, dict):
                for k, v in x.items():
                    if k == "text" and isinstance(v, str):
                        out.append(v)
                    else:
                        walk(v)
            elif isinstance(x, list):
                for v in x:
                    walk(v)
        walk(j.get("blocks", []))
        return "\n".join(out)


# --- PagerDuty -----------------------------------------------------------------

PD_TRIGGER_KEYS = {"routing_key", "event_action", "dedup_key", "payload", "client", "client_url",
                   "links", "images"}
PD_PAYLOAD_KEYS = {"summary", "source", "severity", "timestamp", "component", "group", "class",
                   "custom_details"}


def pagerduty_problems(req, routing_key):
    p = _json_post_problems(req)
    j = req.json
    if not isinstance(j, dict):
        return p + ["body is not a JSON object"]
    if len(req.body) > 512 * 1024:
        p.append("event larger than 512 KB")
    rk = j.get("routing_key")
    if not isinstance(rk, str) or len(rk) != 32:
        p.append("routing_key must be the 32-character integration key")
    elif routing_key is not None and rk != routing_key:
        p.append("routing_key is not the configured one")
    action = j.get("event_action")
    if action not in ("trigger", "acknowledge", "resolve"):
        p.append("event_action %r" % (action,))
    dk = j.get("dedup_key")
    if dk is not None and (not isinstance(dk, str) or not 1 <= len(dk) <= 255):
        p.append("dedup_key must be a string of 1 to 255 characters")
    if isinstance(dk, str) and not re.match(r"^pharos:[^:]+:.+$", dk):
        p.append("dedup_key %r is not pharos:<rule>:<check>" % dk)
    if action in ("acknowledge", "resolve"):
        if dk is None:
            p.append("%s without dedup_key" % action)
        extra = set(j) - {"routing_key", "dedup_key", "event_action"}
        if extra:
            p.append("%s carries more than routing_key, dedup_key, event_action: %s" % (action, sorted(extra)))
        return p
    extra = set(j) - PD_TRIGGER_KEYS
    if extra:
        p.append("unknown members %s" % sorted(extra))
    pl = j.get("payload")
    if not isinstance(pl, dict):
        return p + ["trigger without a payload object"]
    extra = set(pl) - PD_PAYLOAD_KEYS
    if extra:
        p.append("unknown payload members %s" % sorted(extra))
    s = pl.get("summary")
    if not isinstance(s, str) or s == "":
        p.append("payload.summary must be a non-empty string")
    elif len(s) > 1024:
        p.append("payload.summary of %d characters, at most 1024" % len(s))
    if not isinstance(pl.get("source"), str) or pl["source"] == "":
        p.append("payload.source must be a non-empty string")
    if pl.get("severity") not in SEVERITIES:
        p.append("payload.severity %r" % (pl.get("severity"),))
    if "timestamp" in pl and not parse_iso8601(pl["timestamp"]):
        p.append("payload.timestamp %r is not ISO 8601" % (pl.get("timestamp"),))
    for k in ("component", "group", "class"):
        if k in pl and not isinstance(pl[k], str):
            p.append("payload.%s must be a string" % k)
    if "custom_details" in pl and not isinstance(pl["custom_details"], (dict, str, list)):
        p.append("payload.custom_details has a bad type")
    links = j.get("links")
    if links is not None:
        if not isinstance(links, list):
            p.append("links must be an array")
        else:
            for i, l in enumerate(links):
                if not isinstance(l, dict) or not isinstance(l.get("href"), str) or not l["href"]:
                    p.append("links[%d] needs href" % i)
                elif set(l) - {"href", "text"} or ("text" in l and not isinstance(l["text"], str)):
                    p.append("links[%d] has bad members" % i)
    images = j.get("images")
    if images is not None:
        if not isinstance(images, list) or any(
                not isinstance(x, dict) or not str(x.get("src", "")).startswith("https://") for x in images):
            p.append("images must be objects with an https src")
    for k in ("client", "client_url"):
        if k in j and not isinstance(j[k], str):
            p.append("%s must be a string" % k)
    return p


class PagerDutyReceiver(Receiver):
    """PagerDuty Events API v2 /v2/enqueue; 202 with the dedup_key."""

    kind = "pagerduty"
    success_status = 202

    def __init__(self, routing_key, name=None):
        self.routing_key = routing_key
        super().__init__(name)

    def url(self, path="/v2/enqueue"):
        return super().url(path)

    def validate(self, req):
        p = pagerduty_problems(req, self.routing_key)
        if req.path != "/v2/enqueue":
            p.append("path %s, expected /v2/enqueue" % req.path)
        return p

    def ok_answer(self, req):
        dk = req.json.get("dedup_key") or "generated-0001"
        body = json.dumps({"status": "success", "message": "Event processed", "dedup_key": dk})
        return 202, [], body.encode(), "application/json"

    def reject(self, req, problems):
        body = json.dumps({"status": "invalid event", "message": "Event object is invalid",
                           "errors": problems[:5]})
        return 400, [], body.encode(), "application/json"

    def error_body(self, status):
        if status == 429:
            return json.dumps({"status": "throttle event", "message": "Requests for this service are arriving too quickly."})
        if status == 400:
            return json.dumps({"status": "invalid event", "message": "Event object is invalid",
                               "errors": ["rejected on purpose by the test"]})
        return json.dumps({"status": "error", "message": "internal error"})


# --- Standard Webhooks ------------------------------------------------------------

def whsec_key(secret):
    """The HMAC key of a whsec_ secret: the base64-decoded bytes after the prefix."""
    s = secret[len("whsec_"):] if secret.startswith("whsec_") else secret
    s += "=" * (-len(s) % 4)
    return base64.b64decode(s, validate=True)


def webhook_sign(secret, msg_id, timestamp, body):
    """"v1,<base64 HMAC-SHA256>" of "<id>.<timestamp>.<body>" (body bytes)."""
    mac = hmac.new(whsec_key(secret), ("%s.%s." % (msg_id, timestamp)).encode() + body,
                   hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def webhook_verify(secret, msg_id, timestamp, body, header, now=None, tolerance=WEBHOOK_TOLERANCE_S):
    """Standard Webhooks verification: None when valid, else the reason."""
    if not msg_id or "." in msg_id:
        return "webhook-id %r empty or with a '.'" % (msg_id,)
    try:
        ts = int(timestamp)
    except (TypeError, ValueError):
        return "webhook-timestamp %r is not an integer" % (timestamp,)
    now = time.time() if now is None else now
    if abs(now - ts) > tolerance:
        return "webhook-timestamp %d is %.0f s away from now (tolerance %d s)" % (ts, ts - now, tolerance)
    if not header:
        return "no webhook-signature"
    want = webhook_sign(secret, msg_id, ts, body).split(",", 1)[1]
    for entry in header.split(" "):
        version, _, sig = entry.partition(",")
        if version != "v1":
            continue
        if hmac.compare_digest(sig.encode(), want.encode()):
            return None
    return "no v1 signature in %r matches" % header


class WebhookReceiver(Receiver):
    """A Standard Webhooks endpoint verifying the signature with the secret."""

    kind = "webhook"
    success_status = 200
    types = ("alert.firing", "alert.resolved", "alert.test")

    def __init__(self, secret, name=None):
        self.secret = secret
        super().__init__(name)

    def validate(self, req):
        p = _json_post_problems(req)
        why = webhook_verify(self.secret, req.headers.get("webhook-id"),
                             req.headers.get("webhook-timestamp"), req.body,
                             req.headers.get("webhook-signature"))
        if why:
            p.append("signature: " + why)
        j = req.json
        if not isinstance(j, dict):
            return p + ["body is not a JSON object"]
        if not WEBHOOK_FIELDS <= set(j) <= WEBHOOK_FIELDS | WEBHOOK_OPTIONAL:
            p.append("body members %s, expected exactly %s" % (sorted(j), sorted(WEBHOOK_FIELDS)))
        if j.get("id") != req.headers.get("webhook-id"):
            p.append("body id %r differs from webhook-id %r" % (j.get("id"), req.headers.get("webhook-id")))
        if j.get("type") not in self.types:
            p.append("type %r" % (j.get("type"),))
        if not parse_iso8601(j.get("timestamp")):
            p.append("timestamp %r is not ISO 8601" % (j.get("timestamp"),))
        if j.get("severity") not in SEVERITIES:
            p.append("severity %r" % (j.get("severity"),))
        for k in ("rule", "check", "value", "message", "url"):
            if not isinstance(j.get(k), str):
                p.append("%s must be a string" % k)
        for k in ("rule", "check"):
            if isinstance(j.get(k), str) and not j[k]:
                p.append("%s is empty" % k)
        if isinstance(j.get("url"), str) and not re.match(r"^https?://", j["url"]):
            p.append("url %r is not an absolute http(s) URL" % j["url"])
        return p

    def ok_answer(self, req):
        return 200, [], b"", "text/plain"

    def reject(self, req, problems):
        if any(x.startswith("signature:") for x in problems):
            return 401, [], b"bad signature", "text/plain"
        return 400, [], b"bad payload", "text/plain"


def refused_port():
    """A 127.0.0.1 TCP port nothing listens on."""
    return U.closed_port()

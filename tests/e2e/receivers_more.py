"""Fake receivers for the newer notifier types (SPEC §2.3 "More receivers"):
Microsoft Teams Workflows, Discord webhooks, the Opsgenie Alert API v2 and
ntfy, each on receivers.Receiver (same failure modes, request log and
`failures`), and a real SMTP server (Debian's python3-aiosmtpd, in-process)
that keeps every mail parsed with the email package.

Every request is checked against shared/reference/wire-formats.md §8-§12;
what does not conform is recorded in `failures` and answered the way the
real service would. Each fake also knows how to read its own format back:
    rcv.kind_of(req)    "firing", "resolved" or "test"
    rcv.value_of(req)   the alert's value as the receiver shows it
so the tests can ask the same questions of every receiver.

Contract points the fakes hold the C side to, beyond the wire formats:
  - every HTTP request carries X-Pharos-Idempotency-Key (stable per
    notification), as the Slack, PagerDuty and Alertmanager notifiers do;
  - the value is shown under the label "Value": a Teams FactSet fact, a
    Discord embed field, Opsgenie details.value, a "Value: V" line in the
    ntfy body and in the mail's text part;
  - Opsgenie details.severity and the ntfy priority follow the rule's
    severity (checked when the test sets rcv.expect_severity)."""

import json
import re
import time
import uuid
from email.header import decode_header, make_header
from urllib.parse import parse_qs, unquote, urlsplit

from receivers import SEVERITIES, Receiver, Request, _json_post_problems, parse_iso8601
from smtp_receiver import SmtpReceiver, value_of_text as value_in_text  # noqa: F401 (re-exported)

IDEM = "x-pharos-idempotency-key"
HTTP_URL = re.compile(r"^https?://[^\s/]+")


def _idem_problems(req):
    return [] if req.headers.get(IDEM) else ["no X-Pharos-Idempotency-Key header"]


def kind_from_text(text):
    """The kind of a notification from its headline ("FIRING [critical] ...")."""
    if "TEST" in text:
        return "test"
    return "resolved" if "RESOLVED" in text else "firing"


class _JsonAnswers:
    """Wraps a request handler so that a JSON failure body goes out as
    application/json, the way these services answer."""

    def __init__(self, h):
        object.__setattr__(self, "_h", h)

    def __getattr__(self, k):
        return getattr(self._h, k)

    def __setattr__(self, k, v):
        setattr(self._h, k, v)

    def _answer(self, status, body, ctype, headers=()):
        if ctype == "text/plain" and body[:1] in (b"{", b"["):
            ctype = "application/json"
        self._h._answer(status, body, ctype, headers)


class JsonReceiver(Receiver):
    """A Receiver whose error answers are JSON; also the plain JSON endpoint
    fed by a `webhook` notifier with a `template` (Mattermost, Google Chat,
    ...): any JSON object POSTed is accepted with 200."""

    kind = "json"

    def _handle(self, h, method, path, headers, body):
        return super()._handle(_JsonAnswers(h), method, path, headers, body)

    def validate(self, req):
        p = _json_post_problems(req)
        if req.json is not None and not isinstance(req.json, dict):
            p.append("body is not a JSON object")
        return p

    def reject(self, req, problems):
        return 400, [], json.dumps({"error": problems[0]}).encode(), "application/json"

    def error_body(self, status):
        return json.dumps({"error": "status %d" % status})

    def plan(self, entry):
        """Appends one raw answer to the script: ("status", code, retry_after_header, body)."""
        with self.lock:
            self._plan.append(entry)


# --- Microsoft Teams Workflows (Adaptive Card 1.4) ---------------------------------

CARD_TYPE = "application/vnd.microsoft.card.adaptive"
CARD_SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
CARD_KEYS = {"$schema", "type", "version", "body", "actions", "msteams", "fallbackText", "speak", "lang"}
CARD_ENUMS = {"color": {"default", "dark", "light", "accent", "good", "warning", "attention"},
              "size": {"default", "small", "medium", "large", "extraLarge"},
              "weight": {"default", "lighter", "bolder"}}
TEAMS_MAX = 28 * 1024


def _card_action_problems(actions, where):
    if not isinstance(actions, list) or not actions:
        return ["%s must be a non-empty array" % where]
    p = []
    for i, a in enumerate(actions):
        w = "%s[%d]" % (where, i)
        if not isinstance(a, dict) or a.get("type") != "Action.OpenUrl":
            p.append("%s: only Action.OpenUrl is expected, got %r" % (w, a))
        elif not isinstance(a.get("url"), str) or not HTTP_URL.match(a["url"]):
            p.append("%s: Action.OpenUrl needs an absolute http(s) url" % w)
        elif "title" in a and not isinstance(a["title"], str):
            p.append("%s: title must be a string" % w)
    return p


def _card_element_problems(el, where):
    """What is wrong with one Adaptive Card element (and what it holds)."""
    if not isinstance(el, dict):
        return ["%s is not an object" % where]
    t, p = el.get("type"), []
    for k, allowed in CARD_ENUMS.items():
        if k in el and el[k] not in allowed:
            p.append("%s: %s %r is not one of %s" % (where, k, el[k], sorted(allowed)))
    if t == "TextBlock":
        if not isinstance(el.get("text"), str) or not el["text"]:
            p.append("%s: TextBlock needs a non-empty text string" % where)
        if "wrap" in el and not isinstance(el["wrap"], bool):
            p.append("%s: wrap must be a boolean" % where)
    elif t == "FactSet":
        facts = el.get("facts")
        if not isinstance(facts, list) or not facts:
            p.append("%s: FactSet needs a non-empty facts array" % where)
        else:
            for i, f in enumerate(facts):
                if not isinstance(f, dict) or set(f) != {"title", "value"} or \
                        not all(isinstance(f[k], str) for k in f):
                    p.append("%s.facts[%d] must be {title, value} strings: %r" % (where, i, f))
    elif t == "Container":
        p += _card_body_problems(el.get("items"), where + ".items")
    elif t == "ColumnSet":
        cols = el.get("columns")
        if not isinstance(cols, list) or not cols:
            p.append("%s: ColumnSet needs columns" % where)
        else:
            for i, c in enumerate(cols):
                if not isinstance(c, dict) or c.get("type", "Column") != "Column":
                    p.append("%s.columns[%d] is not a Column" % (where, i))
                else:
                    p += _card_body_problems(c.get("items"), "%s.columns[%d].items" % (where, i))
    elif t == "Image":
        if not isinstance(el.get("url"), str) or not el["url"]:
            p.append("%s: Image needs url" % where)
    elif t == "ActionSet":
        p += _card_action_problems(el.get("actions"), where + ".actions")
    elif t == "RichTextBlock":
        inl = el.get("inlines")
        if not isinstance(inl, list) or not all(
                isinstance(x, str) or (isinstance(x, dict) and x.get("type") == "TextRun"
                                       and isinstance(x.get("text"), str)) for x in inl):
            p.append("%s: RichTextBlock needs inlines of TextRun" % where)
    else:
        p.append("%s: element type %r is not an Adaptive Card 1.4 element pharos should send"
                 % (where, t))
    return p


def _card_body_problems(items, where):
    if not isinstance(items, list) or not items:
        return ["%s must be a non-empty array of elements" % where]
    p = []
    for i, el in enumerate(items):
        p += _card_element_problems(el, "%s[%d]" % (where, i))
    return p


def teams_problems(req):
    p = _json_post_problems(req) + _idem_problems(req)
    j = req.json
    if not isinstance(j, dict):
        return p + ["body is not a JSON object"]
    if len(req.body) > TEAMS_MAX:
        p.append("message of %d bytes, Teams takes about 28 KB" % len(req.body))
    if set(j) != {"type", "attachments"}:
        p.append("top-level members %s, expected exactly type and attachments" % sorted(j))
    if j.get("type") != "message":
        p.append("type %r, expected \"message\"" % (j.get("type"),))
    att = j.get("attachments")
    if not isinstance(att, list) or len(att) != 1:
        return p + ["attachments must hold exactly one card"]
    a = att[0]
    if not isinstance(a, dict) or set(a) - {"contentType", "contentUrl", "content"}:
        return p + ["attachments[0] has members %r" % (a,)]
    if a.get("contentType") != CARD_TYPE:
        p.append("contentType %r, expected %s" % (a.get("contentType"), CARD_TYPE))
    if a.get("contentUrl") is not None:
        p.append("contentUrl must be null or absent")
    c = a.get("content")
    if not isinstance(c, dict):
        return p + ["attachments[0].content is not an object"]
    if set(c) - CARD_KEYS:
        p.append("unknown card members %s" % sorted(set(c) - CARD_KEYS))
    if c.get("type") != "AdaptiveCard":
        p.append("content.type %r, expected AdaptiveCard" % (c.get("type"),))
    if c.get("version") != "1.4":
        p.append("content.version %r, expected the string \"1.4\"" % (c.get("version"),))
    if "$schema" in c and c["$schema"] != CARD_SCHEMA:
        p.append("$schema %r" % (c["$schema"],))
    p += _card_body_problems(c.get("body"), "content.body")
    if "actions" in c:
        p += _card_action_problems(c["actions"], "content.actions")
    return p


def _card_walk(x, texts, facts):
    if isinstance(x, dict):
        if x.get("type") in ("TextBlock", "TextRun") and isinstance(x.get("text"), str):
            texts.append(x["text"])
        if x.get("type") == "FactSet":
            for f in x.get("facts") or []:
                if isinstance(f, dict):
                    facts.append((f.get("title"), f.get("value")))
        for v in x.values():
            if isinstance(v, (dict, list)):
                _card_walk(v, texts, facts)
    elif isinstance(x, list):
        for v in x:
            _card_walk(v, texts, facts)


class TeamsReceiver(JsonReceiver):
    """A Teams Workflows trigger ("When a Teams webhook request is received"):
    the URL's query string carries `sig`, its credential; 202 with an empty
    body; a wrong or missing sig 401."""

    kind = "teams"
    success_status = 202
    FLOW = "/workflows/e2e0f1a2b3c4d5e6f708/triggers/manual/paths/invoke"

    def __init__(self, sig, name=None):
        self.sig = sig
        super().__init__(name)

    def url(self, path=None):
        """The flow URL exactly as Teams gives it, query string and all."""
        q = "?api-version=1&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=" + self.sig
        return super().url(path or self.FLOW + q)

    def validate(self, req):
        want = self.url()[len("http://127.0.0.1:%d" % self.port):]
        if req.path != want:
            return ["auth: posted to %r, not the flow URL exactly as configured" % req.path]
        return teams_problems(req)

    def ok_answer(self, req):
        return 202, [], b"", "text/plain"

    def reject(self, req, problems):
        if problems[0].startswith("auth:"):
            body = {"error": {"code": "DirectApiAuthorizationRequired",
                              "message": "The request must be authenticated"}}
            return 401, [], json.dumps(body).encode(), "application/json"
        body = {"error": {"code": "InvalidRequestContent", "message": problems[0]}}
        return 400, [], json.dumps(body).encode(), "application/json"

    @staticmethod
    def texts(req):
        texts, facts = [], []
        _card_walk(req.json, texts, facts)
        return texts

    @staticmethod
    def facts(req):
        texts, facts = [], []
        _card_walk(req.json, texts, facts)
        return dict(facts)

    def kind_of(self, req):
        return kind_from_text("\n".join(self.texts(req)))

    def value_of(self, req):
        return self.facts(req).get("Value")


# --- Discord ---------------------------------------------------------------------

DISCORD_TOP = {"content", "embeds", "username", "avatar_url", "tts", "allowed_mentions", "flags"}
EMBED_KEYS = {"title", "description", "url", "color", "fields", "timestamp", "footer", "author",
              "type"}


def _embed_problems(e, where):
    """What is wrong with one embed, and its share of the 6000-character total."""
    if not isinstance(e, dict):
        return ["%s is not an object" % where], 0
    p, total = [], 0
    if set(e) - EMBED_KEYS:
        p.append("%s: unknown members %s" % (where, sorted(set(e) - EMBED_KEYS)))
    for k, limit, required in (("title", 256, True), ("description", 4096, False)):
        v = e.get(k)
        if v is None and not required:
            continue
        if not isinstance(v, str) or not v or len(v) > limit:
            p.append("%s.%s must be a string of 1 to %d characters" % (where, k, limit))
        else:
            total += len(v)
    if not isinstance(e.get("url"), str) or not HTTP_URL.match(e["url"]):
        p.append("%s.url must be an absolute http(s) URL" % where)
    col = e.get("color")
    if isinstance(col, bool) or not isinstance(col, int) or not 0 <= col <= 0xFFFFFF:
        p.append("%s.color %r must be an integer 0..0xFFFFFF, not a string" % (where, col))
    if not parse_iso8601(e.get("timestamp")):
        p.append("%s.timestamp %r is not ISO 8601" % (where, e.get("timestamp")))
    fields = e.get("fields")
    if not isinstance(fields, list) or not 1 <= len(fields) <= 25:
        p.append("%s.fields must be an array of 1 to 25 fields" % where)
    else:
        for i, f in enumerate(fields):
            w = "%s.fields[%d]" % (where, i)
            if not isinstance(f, dict) or set(f) - {"name", "value", "inline"}:
                p.append("%s must be {name, value, inline}: %r" % (w, f))
                continue
            for k, limit in (("name", 256), ("value", 1024)):
                if not isinstance(f.get(k), str) or not f[k].strip() or len(f[k]) > limit:
                    p.append("%s.%s must be a non-empty string of at most %d" % (w, k, limit))
                else:
                    total += len(f[k])
            if "inline" in f and not isinstance(f["inline"], bool):
                p.append("%s.inline must be a boolean" % w)
    for k, sub, limit in (("footer", "text", 2048), ("author", "name", 256)):
        if k in e:
            v = e[k].get(sub) if isinstance(e[k], dict) else None
            if not isinstance(v, str) or not v or len(v) > limit:
                p.append("%s.%s.%s must be a string of 1 to %d" % (where, k, sub, limit))
            else:
                total += len(v)
    return p, total


def discord_problems(req):
    p = _json_post_problems(req) + _idem_problems(req)
    j = req.json
    if not isinstance(j, dict):
        return p + ["body is not a JSON object"]
    if set(j) - DISCORD_TOP:
        p.append("unknown top-level members %s" % sorted(set(j) - DISCORD_TOP))
    content = j.get("content")
    if content is not None and (not isinstance(content, str) or len(content) > 2000):
        p.append("content must be a string of at most 2000 characters")
    embeds = j.get("embeds")
    if not isinstance(embeds, list) or not 1 <= len(embeds) <= 10:
        return p + ["embeds must be an array of 1 to 10 embeds"]
    total = 0
    for i, e in enumerate(embeds):
        ep, n = _embed_problems(e, "embeds[%d]" % i)
        p += ep
        total += n
    if total > 6000:
        p.append("embeds hold %d characters, at most 6000" % total)
    return p


class DiscordReceiver(JsonReceiver):
    """A Discord webhook, /api/webhooks/ID/TOKEN: 204 No Content; a wrong
    token 401; 400 Invalid Form Body; 429 as Discord sends it (see rate_limit)."""

    kind = "discord"
    success_status = 204

    def __init__(self, token, webhook_id="1180000000000000001", name=None):
        self.token, self.webhook_id = token, webhook_id
        super().__init__(name)

    def url(self, path=None):
        return super().url(path or "/api/webhooks/%s/%s" % (self.webhook_id, self.token))

    def rate_limit(self, retry_after, header=True, body=True):
        """The next request gets 429: with `Retry-After` (whole seconds) when
        header, with {"retry_after": seconds as a float} when body."""
        js = json.dumps({"message": "You are being rate limited.",
                         "retry_after": float(retry_after), "global": False})
        self.plan(("status", 429, int(retry_after) if header else None,
                   js if body else "rate limited"))

    def validate(self, req):
        if urlsplit(req.path).path != "/api/webhooks/%s/%s" % (self.webhook_id, self.token):
            return ["auth: posted to %r, not the webhook URL" % req.path]
        return discord_problems(req)

    def ok_answer(self, req):
        return 204, [], b"", "text/plain"

    def reject(self, req, problems):
        if problems[0].startswith("auth:"):
            return 401, [], b'{"message": "Invalid Webhook Token", "code": 50027}', "application/json"
        body = {"message": "Invalid Form Body", "code": 50035, "errors": {"_errors": problems[:5]}}
        return 400, [], json.dumps(body).encode(), "application/json"

    def error_body(self, status):
        if status == 429:
            return json.dumps({"message": "You are being rate limited.", "retry_after": 1.0,
                               "global": False})
        return json.dumps({"message": "%d: error" % status, "code": 0})

    def kind_of(self, req):
        j = req.json or {}
        e = (j.get("embeds") or [{}])[0]
        return kind_from_text("%s\n%s" % (j.get("content") or "", e.get("title") or ""))

    def value_of(self, req):
        for e in (req.json or {}).get("embeds") or []:
            for f in e.get("fields") or []:
                if f.get("name") == "Value":
                    return f.get("value", "").strip("`")
        return None


# --- Opsgenie Alert API v2 --------------------------------------------------------

OPSGENIE_CREATE = {"message", "alias", "description", "responders", "visibleTo", "actions",
                   "tags", "details", "entity", "source", "priority", "user", "note"}
OPSGENIE_PRIORITY = {"critical": "P1", "error": "P2", "warning": "P3", "info": "P5"}
ALIAS = re.compile(r"^pharos:[^:]+:.+$")


def _string_problems(j, key, limit, required=False):
    if key not in j:
        return ["%s is required" % key] if required else []
    v = j[key]
    if not isinstance(v, str) or (required and not v) or len(v) > limit:
        return ["%s must be a string of %s to %d characters" % (key, "1" if required else "0", limit)]
    return []


def opsgenie_create_problems(j, expect_severity):
    p = []
    if set(j) - OPSGENIE_CREATE:
        p.append("unknown members %s" % sorted(set(j) - OPSGENIE_CREATE))
    p += _string_problems(j, "message", 130, required=True)
    p += _string_problems(j, "alias", 512, required=True)
    if isinstance(j.get("alias"), str) and not ALIAS.match(j["alias"]):
        p.append("alias %r is not pharos:<rule>:<check>" % j["alias"])
    for k, limit in (("description", 15000), ("source", 100), ("entity", 512), ("user", 100),
                     ("note", 25000)):
        p += _string_problems(j, k, limit)
    tags = j.get("tags", [])
    if not isinstance(tags, list) or len(tags) > 20 or not all(
            isinstance(t, str) and 0 < len(t) <= 50 for t in tags):
        p.append("tags must be at most 20 strings of 1 to 50 characters")
    d = j.get("details")
    if not isinstance(d, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in d.items()):
        p.append("details must be an object of strings")
        d = {}
    elif sum(len(k) + len(v) for k, v in d.items()) > 8000:
        p.append("details hold more than 8000 characters")
    pr = j.get("priority")
    if pr not in ("P1", "P2", "P3", "P4", "P5"):
        p.append("priority %r is not P1..P5" % (pr,))
    sev = d.get("severity")
    if sev not in SEVERITIES:
        p.append("details.severity %r is not one of %s" % (sev, SEVERITIES))
    elif pr != OPSGENIE_PRIORITY[sev]:
        p.append("priority %r for severity %s, expected %s" % (pr, sev, OPSGENIE_PRIORITY[sev]))
    if expect_severity is not None and sev != expect_severity:
        p.append("details.severity %r, the rule says %s" % (sev, expect_severity))
    return p


class OpsgenieReceiver(JsonReceiver):
    """The Opsgenie Alert API: POST /v2/alerts creates, POST
    /v2/alerts/ALIAS/close?identifierType=alias closes; `Authorization:
    GenieKey KEY`; 202 {"result", "took", "requestId"}; 422 when invalid,
    401 for a wrong key. Configure pharos with url = rcv.url() (the API base)."""

    kind = "opsgenie"
    success_status = 202

    def __init__(self, api_key, name=None):
        self.api_key = api_key
        self.expect_severity = None
        super().__init__(name)

    def url(self, path=""):
        return super().url(path)

    @staticmethod
    def action(req):
        """("create", None), ("close", alias) or (None, None)."""
        parts = urlsplit(req.path)
        if parts.path == "/v2/alerts":
            return "create", None
        m = re.match(r"^/v2/alerts/([^/]+)/close$", parts.path)
        if m:
            return "close", unquote(m.group(1))
        return None, None

    def validate(self, req):
        if req.headers.get("authorization") != "GenieKey " + self.api_key:
            return ["auth: Authorization is not \"GenieKey <the api_key>\""]
        what, alias = self.action(req)
        if what is None:
            return ["path %s is neither /v2/alerts nor /v2/alerts/ALIAS/close" % req.path]
        if what == "create":
            p = _json_post_problems(req) + _idem_problems(req)
            if isinstance(req.json, dict):
                p += opsgenie_create_problems(req.json, self.expect_severity)
            return p
        p = _idem_problems(req)
        if req.method != "POST":
            p.append("method %s, expected POST" % req.method)
        if parse_qs(urlsplit(req.path).query) != {"identifierType": ["alias"]}:
            p.append("close query %r, expected identifierType=alias" % urlsplit(req.path).query)
        if not ALIAS.match(alias):
            p.append("close alias %r is not pharos:<rule>:<check>" % alias)
        if req.body:
            p += _json_post_problems(req)
            j = req.json
            if not isinstance(j, dict) or set(j) - {"user", "source", "note"} or \
                    not all(isinstance(v, str) for v in j.values()):
                p.append("close body must be {user, source, note} strings")
            elif len(j.get("source", "")) > 100 or len(j.get("note", "")) > 25000:
                p.append("close body source/note too long")
        return p

    def _answer_body(self):
        return {"took": 0.302, "requestId": str(uuid.uuid4())}

    def ok_answer(self, req):
        body = dict(self._answer_body(), result="Request will be processed")
        return 202, [], json.dumps(body).encode(), "application/json"

    def reject(self, req, problems):
        if problems[0].startswith("auth:"):
            body = dict(self._answer_body(), message="Could not authenticate")
            return 401, [], json.dumps(body).encode(), "application/json"
        body = dict(self._answer_body(), message="Request body is not processable. Please check the errors.",
                    errors={"message": problems[0]})
        return 422, [], json.dumps(body).encode(), "application/json"

    def error_body(self, status):
        return json.dumps(dict(self._answer_body(), message="error %d" % status))

    def kind_of(self, req):
        what, _ = self.action(req)
        if what == "close":
            return "resolved"
        j = req.json or {}
        if str(j.get("alias", "")).startswith("pharos:notify-test:") or \
                str(j.get("message", "")).startswith("TEST"):
            return "test"
        return "firing"

    def value_of(self, req):
        return ((req.json or {}).get("details") or {}).get("value")


# --- ntfy --------------------------------------------------------------------------

NTFY_HEADERS = {"title": ("x-title", "title", "t"), "priority": ("x-priority", "priority", "prio", "p"),
                "tags": ("x-tags", "tags", "tag", "ta"), "click": ("x-click", "click")}
NTFY_PRIORITY = {"1": 1, "min": 1, "2": 2, "low": 2, "3": 3, "default": 3, "4": 4, "high": 4,
                 "5": 5, "max": 5, "urgent": 5}
NTFY_BY_SEVERITY = {"critical": 5, "error": 4, "warning": 3, "info": 2}


def ntfy_param(req, what):
    """A publish parameter from its headers or the query string, or None."""
    for h in NTFY_HEADERS[what]:
        if h in req.headers:
            return req.headers[h]
    q = parse_qs(urlsplit(req.path).query)
    for h in NTFY_HEADERS[what]:
        if h in q:
            return q[h][0]
    return None


def header_text(v):
    """A header value as text: RFC 2047 encoded-words decoded, raw UTF-8
    bytes (read by http.server as Latin-1) decoded; None when neither works."""
    if v is None:
        return None
    try:
        if "=?" in v:
            return str(make_header(decode_header(v)))
        return v.encode("latin-1").decode("utf-8")
    except (UnicodeError, LookupError, ValueError):
        return None


class NtfyReceiver(JsonReceiver):
    """An ntfy server's topic URL: POST the message as the body with Title,
    Priority, Tags and Click; optional `Authorization: Bearer TOKEN`; 200
    with the stored message as JSON; 400 code 40007 for a bad priority."""

    kind = "ntfy"
    success_status = 200

    def __init__(self, topic="pharos-e2e", token=None, name=None):
        self.topic, self.token = topic, token
        self.expect_severity = None
        super().__init__(name)

    def url(self, path=None):
        return super().url(path or "/" + self.topic)

    def validate(self, req):
        if self.token is not None and req.headers.get("authorization") != "Bearer " + self.token:
            return ["auth: Authorization is not \"Bearer <the token>\""]
        p = _idem_problems(req)
        if req.method not in ("POST", "PUT"):
            p.append("method %s, expected POST" % req.method)
        if urlsplit(req.path).path != "/" + self.topic:
            p.append("path %r is not the topic /%s" % (req.path, self.topic))
        try:
            text = req.body.decode("utf-8")
        except UnicodeDecodeError:
            return p + ["body is not UTF-8"]
        if not text.strip():
            p.append("empty message body")
        if len(req.body) > 4096:
            p.append("body of %d bytes: ntfy would turn it into an attachment" % len(req.body))
        title = ntfy_param(req, "title")
        if not title or header_text(title) is None:
            p.append("Title missing or not decodable: %r" % (title,))
        prio = ntfy_param(req, "priority")
        if prio is None or prio.strip().lower() not in NTFY_PRIORITY:
            p.append("priority:%r is not 1-5 or min/low/default/high/max/urgent" % (prio,))
        elif self.expect_severity is not None and \
                NTFY_PRIORITY[prio.strip().lower()] != NTFY_BY_SEVERITY[self.expect_severity]:
            p.append("Priority %s for severity %s, expected %d" % (
                prio, self.expect_severity, NTFY_BY_SEVERITY[self.expect_severity]))
        tags = ntfy_param(req, "tags")
        if tags is not None and not all(t.strip() for t in tags.split(",")):
            p.append("Tags %r has an empty tag" % tags)
        click = ntfy_param(req, "click")
        if click is None or not HTTP_URL.match(click):
            p.append("Click %r is not an absolute http(s) URL" % (click,))
        return p

    def ok_answer(self, req):
        now = int(time.time())
        prio = NTFY_PRIORITY.get((ntfy_param(req, "priority") or "3").strip().lower(), 3)
        tags = [t.strip() for t in (ntfy_param(req, "tags") or "").split(",") if t.strip()]
        body = {"id": uuid.uuid4().hex[:12], "time": now, "expires": now + 43200, "event": "message",
                "topic": self.topic, "title": self.title(req), "message": self.body_text(req),
                "priority": prio, "tags": tags, "click": ntfy_param(req, "click")}
        return 200, [], json.dumps(body).encode(), "application/json"

    def reject(self, req, problems):
        if problems[0].startswith("auth:"):
            return 401, [], b'{"code":40101,"http":401,"error":"unauthorized"}', "application/json"
        if problems[0].startswith("priority:"):
            return 400, [], b'{"code":40007,"http":400,"error":"invalid priority"}', "application/json"
        body = {"code": 40000, "http": 400, "error": problems[0]}
        return 400, [], json.dumps(body).encode(), "application/json"

    def error_body(self, status):
        return json.dumps({"code": status * 100, "http": status, "error": "error %d" % status})

    @staticmethod
    def title(req):
        return header_text(ntfy_param(req, "title")) or ""

    @staticmethod
    def body_text(req):
        return req.body.decode("utf-8", "replace")

    @staticmethod
    def priority(req):
        return NTFY_PRIORITY.get((ntfy_param(req, "priority") or "").strip().lower())

    def kind_of(self, req):
        return kind_from_text(self.title(req))

    def value_of(self, req):
        return value_in_text(self.body_text(req))

__all__ = ["JsonReceiver", "TeamsReceiver", "DiscordReceiver", "OpsgenieReceiver", "NtfyReceiver",
           "SmtpReceiver", "Request", "kind_from_text", "value_in_text", "header_text"]

"""The fakes of receivers_more.py and smtp_receiver.py checked on their own,
without pharos: a payload that follows the published format
(shared/reference/wire-formats.md §8-§12) is accepted with the real
service's answer and leaves `failures` empty; each kind of mistake is
answered as the service would and lands in `failures`. Otherwise the
end-to-end tests of test_receivers_more.py could not fail."""

import json
import os
import smtplib
import ssl
import sys
import urllib.error
import urllib.request
from email.message import EmailMessage

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import smtp_receiver  # noqa: E402
from receivers_more import (DiscordReceiver, JsonReceiver, NtfyReceiver,  # noqa: E402
                            OpsgenieReceiver, SmtpReceiver, TeamsReceiver, header_text)

needs_smtp = pytest.mark.skipif(smtp_receiver.Controller is None,
                                reason="python3-aiosmtpd is missing: scripts/install-deps test")

IDEM = {"X-Pharos-Idempotency-Key": "a1b2c3-0001"}


def post(url, body, headers=None, method="POST"):
    """(status, headers, body bytes) of one request; body: dict -> JSON."""
    h = dict(IDEM)
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode()
        h["Content-Type"] = "application/json"
    h.update(headers or {})
    h = {k: v for k, v in h.items() if v is not None}
    rq = urllib.request.Request(url, data=body, headers=h, method=method)
    try:
        with urllib.request.urlopen(rq, timeout=5) as r:
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()


@pytest.fixture
def fakes():
    made = []

    def make(cls, *a, **kw):
        r = cls(*a, **kw)
        made.append(r)
        return r
    yield make
    for r in made:
        r.close()


def expect_rejected(rcv, cases, status):
    """Each (body, headers) case is answered status and adds one failure."""
    for i, (body, headers) in enumerate(cases):
        before = len(rcv.failures)
        st, _, _ = post(rcv.url(), body, headers)
        assert st == status, (i, st, body)
        assert len(rcv.failures) > before, "case %d was not flagged: %r" % (i, body)


# --- Teams ---------------------------------------------------------------------

def card(body=None, **kw):
    c = {"$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard",
         "version": "1.4",
         "body": body or [{"type": "TextBlock", "text": "FIRING [critical] down \u2014 api",
                           "weight": "bolder", "wrap": True},
                          {"type": "FactSet", "facts": [{"title": "Value", "value": "2"}]}],
         "actions": [{"type": "Action.OpenUrl", "title": "Open", "url": "http://x/check/api"}]}
    c.update(kw)
    return {"type": "message", "attachments": [
        {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": c}]}


def test_teams_fake(fakes):
    t = fakes(TeamsReceiver, "e2eTeamsSig0123")
    assert "sig=e2eTeamsSig0123" in t.url()
    st, _, body = post(t.url(), card())
    assert (st, body) == (202, b""), body
    assert t.failures == []
    req = t.snapshot()[0]
    assert t.kind_of(req) == "firing" and t.value_of(req) == "2"
    bad = [card(version="1.5"), card(version=1.4), card(type="MessageCard"),
           card(body=[{"type": "TextBlock", "text": ""}]),
           card(body=[{"type": "TextBlock", "text": "x", "color": "red"}]),
           card(body=[{"type": "FactSet", "facts": [{"title": "Value", "value": 2}]}]),
           card(body=[{"type": "Table"}]),
           card(actions=[{"type": "Action.OpenUrl", "url": "/relative"}]),
           dict(card(), summary="legacy"),
           {"type": "message", "attachments": []},
           {"@type": "MessageCard", "text": "legacy connector"}]
    expect_rejected(t, [(b, None) for b in bad], 400)
    # the idempotency key and the JSON content type are required
    expect_rejected(t, [(card(), {"X-Pharos-Idempotency-Key": None}),
                        (json.dumps(card()).encode(), {"Content-Type": "text/plain"})], 400)
    n = len(t.failures)
    st, _, _ = post(t.url().replace("sig=e2eTeamsSig0123", "sig=wrong"), card())
    assert st == 401 and len(t.failures) == n + 1


# --- Discord -------------------------------------------------------------------

def discord_msg(**kw):
    e = {"title": "FIRING [critical] down \u2014 api", "description": "HTTP 503",
         "url": "http://127.0.0.1:1/check/api", "color": 15158332,
         "fields": [{"name": "Value", "value": "`2`", "inline": True}],
         "timestamp": "2026-12-03T10:00:00.000Z"}
    e.update(kw)
    return {"content": "down \u2014 api", "embeds": [e]}


def test_discord_fake(fakes):
    d = fakes(DiscordReceiver, "e2eDiscordT0ken")
    st, _, body = post(d.url(), discord_msg())
    assert (st, body) == (204, b"")
    assert d.failures == []
    assert d.kind_of(d.snapshot()[0]) == "firing" and d.value_of(d.snapshot()[0]) == "2"
    bad = [discord_msg(color="#E74C3C"), discord_msg(color=True), discord_msg(timestamp="now"),
           discord_msg(title="t" * 257), discord_msg(url="check/api"), discord_msg(fields=[]),
           discord_msg(fields=[{"name": "Value", "value": ""}]),
           discord_msg(description="d" * 4097),
           discord_msg(fields=[{"name": "n%d" % i, "value": "v" * 1000} for i in range(7)]),
           {"content": "only content"}, {"content": "x" * 2001, "embeds": [discord_msg()["embeds"][0]]}]
    expect_rejected(d, [(b, None) for b in bad], 400)
    n = len(d.failures)
    st, _, body = post(d.url().replace("e2eDiscordT0ken", "wrong"), discord_msg())
    assert st == 401 and json.loads(body)["code"] == 50027 and len(d.failures) == n + 1


def test_discord_fake_rate_limits_both_ways(fakes):
    d = fakes(DiscordReceiver, "e2eDiscordT0ken")
    d.rate_limit(2, header=True, body=True)
    d.rate_limit(1.5, header=False, body=True)
    st, h, body = post(d.url(), discord_msg())
    assert st == 429 and h.get("retry-after") == "2" and h["content-type"] == "application/json"
    assert json.loads(body) == {"message": "You are being rate limited.", "retry_after": 2.0,
                                "global": False}
    st, h, body = post(d.url(), discord_msg())
    assert st == 429 and "retry-after" not in h and json.loads(body)["retry_after"] == 1.5
    assert post(d.url(), discord_msg())[0] == 204
    assert d.failures == []


# --- Opsgenie -------------------------------------------------------------------

KEY = "e2e0pSg3n1e-0000-4000-8000-000000000001"
GENIE = {"Authorization": "GenieKey " + KEY}


def create(**kw):
    j = {"message": "down \u2014 api: HTTP 503", "alias": "pharos:down:api",
         "description": "HTTP 503", "priority": "P1", "source": "e2e-agent",
         "details": {"rule": "down", "check": "api", "severity": "critical", "value": "2"},
         "tags": ["pharos", "critical"]}
    j.update(kw)
    return j


def test_opsgenie_fake(fakes):
    o = fakes(OpsgenieReceiver, KEY)
    o.expect_severity = "critical"
    st, _, body = post(o.url("/v2/alerts"), create(), GENIE)
    j = json.loads(body)
    assert st == 202 and j["result"] == "Request will be processed" and len(j["requestId"]) == 36
    close = o.url("/v2/alerts/pharos%3Adown%3Aapi/close?identifierType=alias")
    assert post(close, {"source": "e2e-agent", "note": "resolved"}, GENIE)[0] == 202
    assert post(close, b"", GENIE)[0] == 202
    assert o.failures == []
    reqs = o.snapshot()
    assert [o.kind_of(r) for r in reqs] == ["firing", "resolved", "resolved"]
    assert o.value_of(reqs[0]) == "2"
    bad = [create(priority="P0"), create(priority="P3"), create(message="m" * 131),
           create(alias="down:api"), create(tags=["t" * 51]), create(details={"severity": 1}),
           create(details={"value": "2"}), create(details=dict(create()["details"], severity="warning")),
           create(color="red"), {"alias": "pharos:down:api", "priority": "P1"}]
    for b in bad:
        n = len(o.failures)
        assert post(o.url("/v2/alerts"), b, GENIE)[0] == 422, b
        assert len(o.failures) > n, b
    for url in (o.url("/v2/alerts/pharos%3Adown%3Aapi/close"),
                o.url("/v2/alerts/pharos%3Adown%3Aapi/close?identifierType=id"),
                o.url("/v2/alerts/down/close?identifierType=alias"),
                o.url("/v2/alert")):
        n = len(o.failures)
        assert post(url, b"", GENIE)[0] == 422, url
        assert len(o.failures) > n, url
    for h in ({"Authorization": "Bearer " + KEY}, {"Authorization": "GenieKey wrong"}, {}):
        n = len(o.failures)
        assert post(o.url("/v2/alerts"), create(), h)[0] == 401
        assert len(o.failures) == n + 1


# --- ntfy ------------------------------------------------------------------------

def ntfy_headers(**kw):
    h = {"Title": "=?UTF-8?B?%s?=" % __import__("base64").b64encode(
        "FIRING [critical] down \u2014 api".encode()).decode(),
        "Priority": "5", "Tags": "rotating_light,critical", "Click": "http://127.0.0.1:1/check/api",
        "Authorization": "Bearer tk_e2eNtfyT0ken"}
    h.update(kw)
    return h


def test_ntfy_fake(fakes):
    n = fakes(NtfyReceiver, token="tk_e2eNtfyT0ken")
    n.expect_severity = "critical"
    body = "HTTP 503 from api\nValue: 2\n".encode()
    st, _, out = post(n.url(), body, ntfy_headers())
    j = json.loads(out)
    assert st == 200 and j["event"] == "message" and j["priority"] == 5, j
    assert j["title"] == "FIRING [critical] down \u2014 api"
    assert post(n.url(), body, ntfy_headers(Title="RESOLVED down", Priority="max"))[0] == 200
    assert n.failures == []
    reqs = n.snapshot()
    assert [n.kind_of(r) for r in reqs] == ["firing", "resolved"] and n.value_of(reqs[0]) == "2"
    assert header_text("=?utf-8?q?a_=E2=80=94_b?=") == "a \u2014 b"
    bad = [(body, ntfy_headers(Priority="4")), (body, ntfy_headers(Title=None)),
           (body, ntfy_headers(Click="/check/api")), (b"", ntfy_headers()),
           (b"x" * 4097, ntfy_headers()), (body, ntfy_headers(Tags="a,,b")),
           (body, ntfy_headers(**{"X-Pharos-Idempotency-Key": None}))]
    expect_rejected(n, bad, 400)
    k = len(n.failures)
    st, _, out = post(n.url(), body, ntfy_headers(Priority="9"))
    assert st == 400 and json.loads(out)["code"] == 40007 and len(n.failures) == k + 1
    st, _, out = post(n.url(), body, ntfy_headers(Authorization="Bearer wrong"))
    assert st == 401 and len(n.failures) == k + 2


def test_json_endpoint_fake(fakes):
    j = fakes(JsonReceiver)
    assert post(j.url("/hooks/x"), {"text": "a \"b\"\nc"})[0] == 200
    assert j.failures == [] and j.snapshot()[0].json == {"text": "a \"b\"\nc"}
    assert post(j.url("/hooks/x"), b'{"text": "a "b""}', {"Content-Type": "application/json"})[0] == 400
    assert len(j.failures) == 1


# --- SMTP -----------------------------------------------------------------------

FROM, TO = "pharos@example.test", ["oncall@example.test", "ops@example.test"]


def mail(subject, msgid, in_reply_to=None, html=True, text="Value: 2\nHTTP 503\n"):
    m = EmailMessage()
    m["From"] = "pharos <%s>" % FROM
    m["To"] = ", ".join(TO)
    m["Subject"] = subject
    m["Date"] = "Thu, 03 Dec 2026 10:00:00 +0000"
    m["Message-ID"] = msgid
    if in_reply_to:
        m["In-Reply-To"] = in_reply_to
        m["References"] = in_reply_to
    m.set_content(text)
    if html:
        m.add_alternative("<html><body><p>%s</p></body></html>" % text, subtype="html")
    return m


def send(rcv, m, raw=None, login=True, starttls=True):
    """Sends through smtplib as a client; returns None or the SMTP error."""
    try:
        cls = smtplib.SMTP_SSL if rcv.mode == "smtps" else smtplib.SMTP
        kw = {"context": ssl.create_default_context(cafile=rcv.ca_file)} if rcv.mode == "smtps" else {}
        with cls("127.0.0.1", rcv.port, timeout=10, **kw) as s:
            if rcv.mode == "starttls" and starttls:
                s.starttls(context=ssl.create_default_context(cafile=rcv.ca_file))
            if rcv.auth and login:
                s.login(*rcv.auth)
            if raw is not None:
                s.sendmail(FROM, TO, raw)
            else:
                s.send_message(m, FROM, TO)
        return None
    except smtplib.SMTPException as e:
        return e


FIRE = "[FIRING] down \u2014 api"
RES = "[RESOLVED] down \u2014 api"


@needs_smtp
@pytest.mark.parametrize("mode", ["plain", "starttls", "smtps"])
def test_smtp_fake_accepts_a_threaded_pair(fakes, mode):
    s = fakes(SmtpReceiver, mode=mode, auth=("pharos", "e2e-smtp-pw") if mode != "plain" else None,
              sender=FROM, rcpts=TO)
    assert send(s, mail(FIRE, "<k1.firing@pharos>")) is None
    assert send(s, mail(RES, "<k2.resolved@pharos>", in_reply_to="<k1.firing@pharos>")) is None
    assert s.failures == [], s.failures
    f, r = s.snapshot()
    assert (f.answer, r.answer) == (250, 250)
    assert (s.kind_of(f), s.kind_of(r)) == ("firing", "resolved")
    assert f.subject == FIRE and f.text.startswith("Value: 2") and "<p>" in f.html
    assert s.value_of(f) == "2" and f.message_id == "<k1.firing@pharos>"
    assert f.tls == (mode != "plain")
    if mode != "plain":
        assert s.logins and s.logins[0][1] == "pharos" and f.login == "pharos"


@needs_smtp
def test_smtp_fake_flags_bad_mails(fakes):
    s = fakes(SmtpReceiver, mode="plain", sender=FROM, rcpts=TO)
    assert send(s, mail(FIRE, "<k1@pharos>")) is None
    good = mail(RES, "<k2@pharos>", in_reply_to="<k1@pharos>")
    cases = [mail(RES, "<k3@pharos>", in_reply_to="<other@pharos>"),       # threads to another mail
             mail(RES, "<k4@pharos>"),                                       # not threaded
             mail(FIRE, "<k5@pharos>", html=False),                          # no text/html part
             mail("FIRING down api", "<k6@pharos>"),                         # subject form
             mail(FIRE, "no-angle-brackets"),                                # Message-ID form
             mail(FIRE, "<k7@pharos>", text="HTTP 503 and no value line\n")]
    for i, m in enumerate(cases):
        n = len(s.failures)
        e = send(s, m)
        assert isinstance(e, smtplib.SMTPDataError) and e.smtp_code == 554, (i, e)
        assert len(s.failures) > n, i
    raw = good.as_bytes().replace(b"\r\n", b"\n")
    n = len(s.failures)
    send(s, None, raw=raw.replace(b"\n\n", b"\r\n\r\n", 1))            # bare LF in the body
    assert any("bare LF" in f for f in s.failures[n:]), s.failures[n:]
    n = len(s.failures)
    e = send(s, None, raw=b"Subject: " + FIRE.encode() + b"\r\n\r\nx\r\n")   # raw UTF-8 header
    assert e is not None and any("non-ASCII" in f for f in s.failures[n:])
    wrong_env = mail(FIRE, "<k8@pharos>")
    n = len(s.failures)
    with smtplib.SMTP("127.0.0.1", s.port, timeout=10) as c:
        with pytest.raises(smtplib.SMTPDataError):
            c.send_message(wrong_env, "other@example.test", TO[:1])
    assert len(s.failures) >= n + 2      # MAIL FROM and RCPT TO


@needs_smtp
def test_smtp_fake_requires_starttls_and_auth(fakes):
    s = fakes(SmtpReceiver, mode="starttls", auth=("pharos", "e2e-smtp-pw"))
    assert isinstance(send(s, mail(FIRE, "<a@p>"), starttls=False), smtplib.SMTPException)
    assert isinstance(send(s, mail(FIRE, "<b@p>"), login=False), smtplib.SMTPException)
    s.auth = ("pharos", "e2e-smtp-pw")
    with smtplib.SMTP("127.0.0.1", s.port, timeout=10) as c:
        c.starttls(context=ssl.create_default_context(cafile=s.ca_file))
        with pytest.raises(smtplib.SMTPAuthenticationError):
            c.login("pharos", "wrong")
    assert s.snapshot() == [] and s.logins == []


@needs_smtp
def test_smtp_fake_failure_modes(fakes):
    s = fakes(SmtpReceiver, mode="plain")
    s.script([451, "ok"])
    e = send(s, mail(FIRE, "<r1@p>"))
    assert isinstance(e, smtplib.SMTPDataError) and e.smtp_code == 451
    assert send(s, mail(FIRE, "<r1@p>")) is None
    s.fail(554)
    assert send(s, mail(FIRE, "<r2@p>")).smtp_code == 554
    s.answer_ok()
    s.refuse()
    with pytest.raises(OSError):
        smtplib.SMTP("127.0.0.1", s.port, timeout=3)
    s.listen()
    assert send(s, mail(FIRE, "<r3@p>")) is None
    assert [m.answer for m in s.snapshot()] == [451, 250, 554, 250]
    assert s.failures == []
    got = s.wait_for(lambda m: m.answer == s.success_status, 2, timeout=1)
    assert [m.key for m in got] == ["<r1@p>", "<r3@p>"]

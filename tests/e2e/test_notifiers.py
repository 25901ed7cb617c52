"""End-to-end: `pharos notify-test NAME` against each fake receiver and a
real Alertmanager (exit 0, the message marked as a test; exit 1 when the
receiver refuses, fails or hangs), and the fake receivers' own checks: they
must reject what does not follow the published formats, or the other tests
could not fail (the Standard Webhooks verifier is held to the two official
vectors of the reference)."""

import json
import os
import sys
import time
import urllib.error
import urllib.request

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2eutil as U  # noqa: E402
from alerting import PD_KEY, WHSEC, alertmanager, rig  # noqa: E402,F401
from receivers import (PagerDutyReceiver, SlackReceiver, WebhookReceiver,  # noqa: E402
                       webhook_sign, webhook_verify)


def _config(rig, notifiers=None, timeout=None):
    kw = {"timeout": timeout} if timeout else {}
    a = rig.agent(checks=[], rules=[], notifiers=notifiers or rig.notifiers(**kw))
    return a.config


def _notify_test(rig, name, config, timeout=30):
    r = rig.pharos(["notify-test", "-c", config, name], timeout=timeout)
    rig.assert_no_secret(r.stdout + r.stderr, "notify-test output")
    return r


@pytest.mark.parametrize("which", ["ops-slack", "oncall", "audit"])
def test_notify_test_delivers_a_marked_test(rig, which):
    conf = _config(rig)
    r = _notify_test(rig, which, conf)
    assert r.rc == 0, r
    assert "DELIVERED" in r.stdout and "NOT DELIVERED" not in r.stdout, r
    rcv = {"ops-slack": rig.slack, "oncall": rig.pd, "audit": rig.hook}[which]
    reqs = rcv.snapshot()
    assert len(reqs) == 1 and reqs[0].answer == rcv.success_status, reqs
    j = reqs[0].json
    for other in rig.receivers:
        if other is not rcv:
            assert other.snapshot() == [], "%s was called too" % other.name
    if which == "ops-slack":
        text = rig.slack.all_text(j)
        assert "TEST" in j["text"], j["text"]
        assert "This is a test" in text and "notify-test" in text, text
    elif which == "oncall":
        assert j["event_action"] == "trigger"
        assert j["payload"]["summary"].startswith("TEST"), j
        assert j["payload"]["custom_details"].get("test") is True, j
        # Its own incident, clear of every real alert's pharos:<rule>:<check>.
        assert j["dedup_key"].startswith("pharos:notify-test:"), j
    else:
        assert j["type"] == "alert.test", j
        assert "test" in j["message"].lower(), j
    assert reqs[0].key and reqs[0].key in r.stdout


def test_notify_test_alertmanager(rig, alertmanager):
    conf = _config(rig, notifiers=[{"name": "am", "type": "alertmanager", "url": alertmanager.url}])
    before = {json.dumps(a["labels"], sort_keys=True) for a in alertmanager.alerts()}
    r = _notify_test(rig, "am", conf)
    assert r.rc == 0, r

    def arrived():
        return [a for a in alertmanager.alerts()
                if json.dumps(a["labels"], sort_keys=True) not in before
                and a["labels"].get("pharos_test") == "true"]
    got = U.wait_until(arrived, 10, what="the test alert in Alertmanager")
    assert got[0]["annotations"]["summary"].startswith("TEST"), got


@pytest.mark.parametrize("failure", ["refuse", "500", "400", "429", "hang"])
def test_notify_test_fails_when_not_delivered(rig, failure):
    conf = _config(rig, timeout="2s")
    rcv = rig.hook
    if failure == "refuse":
        rcv.refuse()
    elif failure == "hang":
        rcv.hang()
    elif failure == "429":
        rcv.fail(429, retry_after=30)
    else:
        rcv.fail(int(failure))
    t0 = time.monotonic()
    r = _notify_test(rig, "audit", conf)
    took = time.monotonic() - t0
    assert r.rc == 1, r
    assert "NOT DELIVERED" in r.stdout, r
    if failure == "hang":
        assert took < 10, "notify-test did not honour the notifier timeout: %.1fs" % took
    expected = 0 if failure == "refuse" else 1
    assert len(rcv.snapshot()) == expected, rcv.snapshot()
    rcv.answer_ok()
    rcv.listen()


def test_notify_test_unknown_notifier(rig):
    conf = _config(rig)
    r = _notify_test(rig, "audti", conf)
    assert r.rc == 2, r
    assert "audit" in r.stderr, r        # did you mean
    for rcv in rig.receivers:
        assert rcv.snapshot() == []


# --- the fakes must be able to fail -------------------------------------------------

def _post(url, body, headers=None):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    h = {"Content-Type": "application/json"}
    h.update(headers or {})
    rq = urllib.request.Request(url, data=data, headers=h, method="POST")
    try:
        with urllib.request.urlopen(rq, timeout=5) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def test_webhook_verifier_matches_the_official_vectors():
    vec_a = ("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
             b'{"test": 2432232314}', "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
    vec_b = ("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD", "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk", 1649367553,
             b'{"email":"test@example.com","username":"test_user"}',
             "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=")
    for secret, mid, ts, body, want in (vec_a, vec_b):
        assert webhook_sign(secret, mid, ts, body) == want
        assert webhook_verify(secret, mid, ts, body, want, now=ts) is None
        # several signatures: one valid is enough; other versions are ignored
        bad = "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc="
        assert webhook_verify(secret, mid, ts, body, bad + " " + want, now=ts) is None
        assert webhook_verify(secret, mid, ts, body, bad, now=ts) is not None
        assert webhook_verify(secret, mid, ts, body, "v2," + want.split(",", 1)[1], now=ts) is not None
        assert webhook_verify(secret, mid, ts, body + b" ", want, now=ts) is not None
        # +-5 minutes
        assert webhook_verify(secret, mid, ts, body, want, now=ts + 301) is not None
        assert webhook_verify(secret, mid, ts, body, want, now=ts - 301) is not None
        assert webhook_verify(secret, mid, ts, body, want, now=ts + 299) is None


def test_fake_receivers_reject_nonconforming_requests():
    slack, pd, hook = SlackReceiver(), PagerDutyReceiver(PD_KEY), WebhookReceiver(WHSEC)
    try:
        good_blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*x* is DOWN"}}]
        idem = {"X-Pharos-Idempotency-Key": "k1"}
        assert _post(slack.url("/s"), {"text": "x", "blocks": good_blocks}, idem) == (200, b"ok")
        assert slack.failures == []
        for bad in ({"blocks": good_blocks},                                        # no text
                    {"text": "x"},                                                   # no blocks
                    {"text": "x", "blocks": [{"type": "header", "text": {"type": "mrkdwn", "text": "h"}}]},
                    {"text": "x", "blocks": [{"type": "section", "fields": [
                        {"type": "mrkdwn", "text": "f"}] * 11}]},
                    {"text": "x", "blocks": [{"type": "header", "text": {"type": "plain_text",
                                                                         "text": "h" * 151}}]}):
            assert _post(slack.url("/s"), bad, idem) == (400, b"invalid_payload"), bad
        assert len(slack.failures) == 5, slack.failures

        trig = {"routing_key": PD_KEY, "event_action": "trigger", "dedup_key": "pharos:r:c",
                "payload": {"summary": "s", "source": "h", "severity": "critical",
                            "timestamp": "2015-07-17T08:42:58.315+0000"}}
        st, body = _post(pd.url(), trig)
        assert st == 202 and json.loads(body) == {"status": "success", "message": "Event processed",
                                                  "dedup_key": "pharos:r:c"}
        assert pd.failures == []
        bads = [dict(trig, routing_key=PD_KEY[:31]),
                dict(trig, event_action="fire"),
                dict(trig, payload=dict(trig["payload"], severity="high")),
                dict(trig, payload=dict(trig["payload"], summary="s" * 1025)),
                dict(trig, payload=dict(trig["payload"], timestamp="yesterday")),
                {"routing_key": PD_KEY, "event_action": "resolve", "dedup_key": "pharos:r:c",
                 "payload": trig["payload"]}]
        for bad in bads:
            assert _post(pd.url(), bad)[0] == 400, bad
        assert len(pd.failures) == len(bads), pd.failures

        ts = int(time.time())
        body = json.dumps({"id": "m1", "type": "alert.firing", "timestamp": "2026-01-01T00:00:00Z",
                           "rule": "r", "check": "c", "severity": "critical", "value": "3",
                           "message": "m", "url": "http://x/check/c"}).encode()
        ok_h = {"webhook-id": "m1", "webhook-timestamp": str(ts),
                "webhook-signature": webhook_sign(WHSEC, "m1", ts, body)}
        assert _post(hook.url(), body, ok_h)[0] == 200
        assert hook.failures == []
        old = ts - 400
        for h, b in ((dict(ok_h, **{"webhook-signature": webhook_sign(WHSEC, "m2", ts, body)}), body),
                     (dict(ok_h, **{"webhook-timestamp": str(old),
                                    "webhook-signature": webhook_sign(WHSEC, "m1", old, body)}), body),
                     ({k: v for k, v in ok_h.items() if k != "webhook-signature"}, body)):
            assert _post(hook.url(), b, h)[0] == 401
        assert len(hook.failures) == 3, hook.failures
    finally:
        for r in (slack, pd, hook):
            r.close()

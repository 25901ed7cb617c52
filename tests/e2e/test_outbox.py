"""End-to-end: the durable outbox of the real ./pharos. Nothing is lost when
the receivers are down and the agent is killed with SIGKILL; every attempt of
one notification carries the same idempotency key; Retry-After is honoured;
a permanent failure goes dead, is listed, and is delivered after an admin
retry; a hanging receiver is timed out and retried; a resolve never
overtakes its trigger."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2eutil as U  # noqa: E402
# The tests that take `store` run on SQLite and on PostgreSQL (conftest.py).
from alerting import (NOTIFIER_OF, delivered, detection_bound_s, kill9_scenario,  # noqa: E402,F401
                      kind_of, rig, wait_delivered, wait_state)


def test_kill9_with_receivers_down_loses_nothing(store, rig):
    f = kill9_scenario(rig)
    a = f["agent"]
    assert f["pending_at_kill"] == 3, f
    assert f["lost"] == 0, "notifications lost after kill -9: %r" % f
    for name, v in f["receivers"].items():
        # every attempt, before and after the kill, carried one stable key
        assert len(v["keys"]) == 1, "%s saw several idempotency keys: %r" % (name, v)
        assert v["delivered"] == 1, "%s: delivered %d times" % (name, v["delivered"])
        assert v["attempts_seen"] >= 3, v       # 2 x 500 + the delivery
    pd = delivered(rig.pd, "firing")[0].json
    assert pd["dedup_key"] == "pharos:down:api"
    # The restart did not page again (the alert state was committed with the
    # notification), and the outbox shows each delivered, attempts counted
    # across the kill.
    rows = U.wait_until(lambda: (lambda rows: rows if all(r["state"] == "delivered" for r in rows)
                                 else None)(a.notifications()), 5, what="all notifications delivered")
    assert len(rows) == 3, rows
    for r in rows:
        seen = f["receivers"][[k for k, v in NOTIFIER_OF.items() if v == r["notifier"]][0]]
        assert r["key"] == seen["keys"][0]
        # the refused attempts count too
        assert r["attempts"] >= seen["attempts_seen"] + 1, (r, seen)
    assert "undelivered notifications found" in a.logs()


def test_retry_after_is_honoured(rig):
    for rcv in rig.receivers:
        rcv.script([(429, 2)])
    a = rig.start()
    wait_state(a, "api", "up")
    rig.target.down()
    for rcv in rig.receivers:
        reqs = rcv.wait_for(None, 2, timeout=detection_bound_s() + 10, what="the 429 and the retry")
        first, second = reqs[0], reqs[1]
        assert first.answer == 429 and second.answer == rcv.success_status, reqs
        assert first.key == second.key
        gap = second.t - first.t_answered
        assert gap >= 2.0, "%s: retried %.3fs after a 429 with Retry-After: 2" % (rcv.name, gap)
        assert gap < 5.0, "%s: retried only %.3fs after a 429 with Retry-After: 2" % (rcv.name, gap)
    U.wait_until(lambda: all(r["state"] == "delivered" and r["attempts"] == 2
                             for r in a.notifications()), 5, what="delivered at the second attempt")


def test_dead_notification_retried_by_admin(store, rig):
    for rcv in rig.receivers:
        rcv.fail(400)
    a = rig.start()
    wait_state(a, "api", "up")
    rig.target.down()
    dead = U.wait_until(lambda: (lambda d: d if len(d) == 3 else None)(a.notifications(state="dead")),
                        detection_bound_s() + 10, what="three dead notifications")
    for row in dead:
        assert row["attempts"] == 1 and row["kind"] == "firing", row       # 4xx: no retry
        assert row["last_error"] and "400" in row["last_error"], row
    for rcv in rig.receivers:
        assert len(rcv.snapshot()) == 1, rcv.snapshot()
        rig.assert_no_secret(str(dead), "the notifications API")
    assert a.notifications(state="pending") == []

    rid = dead[0]["id"]
    assert a.admin_post("/api/v1/notifications/%d/retry" % rid, token=False).status == 401
    r = a.request("POST", "/api/v1/notifications/%d/retry" % rid,
                  headers={"Authorization": "Bearer wrong-token"}, body=b"")
    assert r.status in (401, 403), r
    r = a.admin_post("/api/v1/notifications/999999/retry")
    assert r.status == 404 and "error" in r.json(), r

    for rcv in rig.receivers:
        rcv.answer_ok()
    for row in dead:
        r = a.admin_post("/api/v1/notifications/%d/retry" % row["id"])
        assert r.status == 200, r
        assert r.json()["state"] == "pending"
    for rcv in rig.receivers:
        got = wait_delivered(rcv, "firing", timeout=10)
        assert got[0].key == rcv.snapshot()[0].key, "the retry must keep the idempotency key"
    U.wait_until(lambda: len(a.notifications(state="delivered")) == 3, 5, what="three delivered")
    assert a.notifications(state="dead") == []
    r = a.admin_post("/api/v1/notifications/%d/retry" % rid)
    assert r.status == 409, r


def test_hanging_receiver_is_timed_out_and_retried(rig):
    rig.hook.script(["hang"])
    a = rig.start(notifiers=[rig.notifiers(timeout="1s")[2]], rules=[rig.rule(notify=["audit"])])
    wait_state(a, "api", "up")
    rig.target.down()
    reqs = rig.hook.wait_for(None, 2, timeout=detection_bound_s() + 15, what="the hung attempt and the retry")
    assert reqs[0].answer == "hang"
    assert reqs[1].key == reqs[0].key
    assert reqs[1].t - reqs[0].t >= 1.0, "the attempt was abandoned before its 1 s timeout"
    wait_delivered(rig.hook, "firing")
    U.wait_until(lambda: [(r["state"], r["attempts"]) for r in a.notifications()] == [("delivered", 2)],
                 5, what="delivered at the second attempt")


def test_resolve_never_overtakes_its_trigger(rig):
    # The trigger's first attempt hangs at every receiver while the target
    # recovers: the resolve is queued behind it and must wait.
    for rcv in rig.receivers:
        rcv.hang()
    a = rig.start()
    wait_state(a, "api", "up")
    rig.target.down()
    for rcv in rig.receivers:
        rcv.wait_for(None, 1, timeout=detection_bound_s() + 10, what="the trigger's attempt")
    rig.target.up()
    U.wait_until(lambda: len(a.notifications(state="pending")) == 6, 10,
                 what="trigger and resolve both queued")
    for rcv in rig.receivers:
        assert len(rcv.snapshot()) == 1, "%s: the resolve went out beside its trigger" % rcv.name
        rcv.answer_ok()                # the hung attempt ends without an answer
    for rcv in rig.receivers:
        wait_delivered(rcv, "resolved", timeout=20)
        kinds = [(kind_of(r), r.answer) for r in rcv.snapshot()]
        ok = rcv.success_status
        assert kinds == [("firing", "hang"), ("firing", ok), ("resolved", ok)], "%s: %r" % (rcv.name, kinds)


def test_max_attempts_then_dead(store, rig):
    for rcv in rig.receivers:
        rcv.fail(500)
    a = rig.start(notifiers=rig.notifiers(max_attempts=2))
    wait_state(a, "api", "up")
    rig.target.down()
    dead = U.wait_until(lambda: (lambda d: d if len(d) == 3 else None)(a.notifications(state="dead")),
                        detection_bound_s() + 15, what="three dead notifications after 2 attempts")
    assert all(r["attempts"] == 2 for r in dead), dead
    for rcv in rig.receivers:
        assert [r.answer for r in rcv.snapshot()] == [500, 500], rcv.snapshot()
        assert len({r.key for r in rcv.snapshot()}) == 1


def test_max_age_then_dead(rig):
    for rcv in rig.receivers:
        rcv.fail(503, retry_after=3)
    a = rig.start(notifiers=rig.notifiers(max_age="2s"))
    wait_state(a, "api", "up")
    rig.target.down()
    # Retry-After: 3 puts the second attempt past the 2 s max_age: dead then.
    dead = U.wait_until(lambda: (lambda d: d if len(d) == 3 else None)(a.notifications(state="dead")),
                        detection_bound_s() + 15, what="three notifications dead of old age")
    for rcv in rig.receivers:
        assert len(rcv.snapshot()) <= 2, rcv.snapshot()
    assert all(r["attempts"] >= 1 for r in dead), dead


def test_receiver_words_do_not_leak_secrets(store, rig):
    # A receiver that echoes the credentials it was called with (some do)
    # must not get them into the outbox's last_error, the API or the log.
    from alerting import PD_KEY, SLACK_PATH, WHSEC
    rig.slack.fail(404, body="channel_not_found for %s" % SLACK_PATH)
    rig.pd.fail(400, body='{"status":"invalid event","message":"bad key %s"}' % PD_KEY)
    rig.hook.fail(400, body="bad secret %s" % WHSEC)
    a = rig.start()
    wait_state(a, "api", "up")
    rig.target.down()
    dead = U.wait_until(lambda: (lambda d: d if len(d) == 3 else None)(a.notifications(state="dead")),
                        detection_bound_s() + 10, what="three dead notifications")
    assert all(r["last_error"] for r in dead), dead
    rig.assert_no_secret(a.get("/api/v1/notifications").text, "the notifications API")
    rig.assert_no_secret(a.get("/metrics").text, "the metrics")
    rig.assert_no_secret(a.get("/").text, "the status page")
    rig.assert_no_secret(a.logs(), "the agent log")


def test_redirect_is_not_followed(rig):
    rig.hook.script([(302, None)])
    a = rig.start(notifiers=[rig.notifiers()[2]], rules=[rig.rule(notify=["audit"])])
    wait_state(a, "api", "up")
    rig.target.down()
    reqs = rig.hook.wait_for(None, 2, timeout=detection_bound_s() + 10, what="the 302 and the retry")
    assert reqs[0].answer == 302 and reqs[1].answer == 200, reqs
    assert reqs[1].method == "POST" and reqs[1].path == reqs[0].path and reqs[1].key == reqs[0].key


def test_slack_rate_limit_spaces_messages(rig):
    # Three checks go down together: three pages for Slack, about 1 s apart
    # (Slack allows about one message a second per webhook).
    checks = [rig.check(name="api-%d" % i) for i in range(3)]
    a = rig.start(checks=checks, rules=[rig.rule(checks="api-*")])
    for c in checks:
        wait_state(a, c["name"], "up")
    rig.target.down()
    got = wait_delivered(rig.slack, "firing", count=3, timeout=detection_bound_s() + 10)
    gaps = [b.t - x.t for x, b in zip(got, got[1:])]
    assert all(g >= 0.9 for g in gaps), "Slack messages %s s apart, want about 1 s" % gaps
    assert {r.json["text"].split(" \u2014 ")[1].split(":")[0] for r in got} == {"api-0", "api-1", "api-2"}
    for rcv in (rig.pd, rig.hook):
        wait_delivered(rcv, "firing", count=3)


def test_reload_keeps_queued_notifications(store, rig):
    import signal
    for rcv in rig.receivers:
        rcv.fail(500)
    a = rig.start()
    wait_state(a, "api", "up")
    rig.target.down()
    for rcv in rig.receivers:
        rcv.wait_for(lambda r: r.answer == 500, 1, timeout=detection_bound_s() + 10)
    a.proc.send_signal(signal.SIGHUP)
    U.wait_until(lambda: "reload" in a.logs().lower(), 5, what="the reload in the log")
    for rcv in rig.receivers:
        rcv.answer_ok()
    for rcv in rig.receivers:
        got = wait_delivered(rcv, "firing", timeout=20)
        assert len({r.key for r in rcv.snapshot()}) == 1, rcv.snapshot()
        assert len(got) == 1
    U.wait_until(lambda: [r["state"] for r in a.notifications()] == ["delivered"] * 3, 5,
                 what="the three notifications delivered")

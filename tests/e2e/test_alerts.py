"""End-to-end: alert rules firing and resolving through the real ./pharos to
fake Slack, PagerDuty and Standard Webhooks receivers (which check every
request against the published formats) and a real Alertmanager: one page per
outage, none repeated unless `repeat`, the resolve carrying the same
dedup_key, maintenance windows holding alerts back, the alert state surviving
a restart, and GET /api/v1/alerts.

The check runs every 1 s against a target the test flips; the rule is
`consecutive_failures >= 2`, so an outage is detected within
2 x 1 s + 2 s (alerting.detection_bound_s)."""

import os
import sys
import time
from datetime import datetime, timedelta, timezone

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2eutil as U  # noqa: E402
# The tests that take `store` run on SQLite and on PostgreSQL (conftest.py).
from alerting import (LOCATION, alertmanager, delivered, detection_bound_s, rig,  # noqa: E402,F401
                      wait_delivered, wait_state)

def check_firing_payloads(rig, rule="down", check="api", severity="critical"):
    """The firing notification at each receiver says what is wrong, where."""
    s = delivered(rig.slack, "firing")[0].json
    text = rig.slack.all_text(s)
    for word in (rule, check, severity, "FIRING"):
        assert word in s["text"], "Slack text lacks %r: %r" % (word, s["text"])
    assert "/check/%s" % check in text, text
    assert "503" in text, "the failing message is missing: %r" % text

    p = delivered(rig.pd, "firing")[0].json
    assert p["event_action"] == "trigger"
    assert p["dedup_key"] == "pharos:%s:%s" % (rule, check)
    assert p["payload"]["severity"] == severity
    assert p["payload"]["source"] == LOCATION
    assert rule in p["payload"]["summary"] and check in p["payload"]["summary"]
    assert p["links"][0]["href"].endswith("/check/%s" % check)
    assert isinstance(p["payload"].get("custom_details"), dict)

    w = delivered(rig.hook, "firing")[0].json
    assert w["type"] == "alert.firing"
    assert (w["rule"], w["check"], w["severity"]) == (rule, check, severity)
    assert w["url"].endswith("/check/%s" % check)
    assert w["value"] == "2", w
    assert "503" in w["message"], w


def test_down_fires_once_per_notifier_then_resolves(store, rig):
    a = rig.start()
    wait_state(a, "api", "up")
    t_down = rig.target.down()

    got = {}
    for rcv in rig.receivers:
        got[rcv.name] = wait_delivered(rcv, "firing", timeout=detection_bound_s() + 10)[0]
    latency = got["slack"].t - t_down
    assert latency <= detection_bound_s(), \
        "detection took %.2fs, bound %.1fs" % (latency, detection_bound_s())
    check_firing_payloads(rig)

    inst = a.alert("down", "api")
    assert inst and inst["state"] == "firing" and inst["severity"] == "critical", a.alerts()

    # Prove there is no repeat without `repeat`: the target stays down for
    # 4 more runs (longer than the 3 s repeat of the next test) and nothing
    # more may arrive. A bounded wait is the only way to show an absence.
    time.sleep(4)
    for rcv in rig.receivers:
        reqs = rcv.snapshot()
        assert len(reqs) == 1, "%s got %d requests, want exactly one trigger: %r" % (rcv.name, len(reqs), reqs)

    rig.target.up()
    res = {rcv.name: wait_delivered(rcv, "resolved")[0] for rcv in rig.receivers}

    # PagerDuty: the resolve closes the same incident.
    assert res["pagerduty"].json == {"routing_key": rig.pd.routing_key, "event_action": "resolve",
                                     "dedup_key": got["pagerduty"].json["dedup_key"]}
    # Webhook: alert.resolved for the same rule and check, a new id.
    w = res["webhook"].json
    assert (w["type"], w["rule"], w["check"]) == ("alert.resolved", "down", "api")
    assert w["id"] != got["webhook"].json["id"]
    # Slack: a resolved message reads differently from the firing one.
    fs, rs = got["slack"].json, res["slack"].json
    assert rs["text"] != fs["text"] and "RESOLVED" in rs["text"] and "FIRING" not in rs["text"]
    assert rs["blocks"][0] != fs["blocks"][0]
    # Every notification of the episode shares the alert id; each has its own key.
    keys = [r.key for r in list(got.values()) + list(res.values())]
    assert len(set(keys)) == 6, keys
    assert len({k.split("-")[0] for k in keys}) == 1, keys

    U.wait_until(lambda: a.alert("down", "api") is None, 5, what="the instance to leave the active list")
    hist = [(h["from"], h["to"]) for h in a.alerts()["history"] if h["rule"] == "down"]
    assert ("ok", "firing") in hist and ("firing", "ok") in hist, hist
    # The outbox records each delivery shortly after the receiver answered.
    rows = U.wait_until(lambda: (lambda rows: rows if len(rows) == 6 and all(
        r["state"] == "delivered" and r["attempts"] == 1 for r in rows) else None)(a.notifications()),
        5, what="six notifications delivered at the first attempt")
    assert {(r["notifier"], r["kind"]) for r in rows} == {
        (n, k) for n in ("ops-slack", "oncall", "audit") for k in ("firing", "resolved")}
    for rcv in rig.receivers:
        assert len(rcv.snapshot()) == 2, rcv.snapshot()
    rig.assert_no_secret(a.get("/api/v1/notifications").text + a.get("/api/v1/alerts").text, "the API")


def test_repeat_resends_about_every_period(rig):
    a = rig.start(rules=[rig.rule(repeat="3s")])
    wait_state(a, "api", "up")
    rig.target.down()
    # the first trigger and three repeats
    reqs = wait_delivered(rig.hook, "firing", count=4, timeout=detection_bound_s() + 3 * 3 + 8)
    times = [r.t for r in reqs[:4]]
    gaps = [b - a_ for a_, b in zip(times, times[1:])]
    # The engine ticks once a second: a repeat is due 3 s after the last one
    # and goes out on the tick after that.
    assert all(2.5 <= g <= 5.0 for g in gaps), "repeat gaps %s, want about 3 s" % gaps
    assert len({r.key for r in reqs}) == len(reqs), "each repeat is its own notification"
    pd = wait_delivered(rig.pd, "firing", count=4, timeout=10)
    assert {r.json["dedup_key"] for r in pd} == {"pharos:down:api"}
    wait_delivered(rig.slack, "firing", count=4, timeout=10)

    rig.target.up()
    for rcv in rig.receivers:
        wait_delivered(rcv, "resolved")
    n_firing = {rcv.name: len(delivered(rcv, "firing")) for rcv in rig.receivers}
    # After the resolve, no more repeats (bounded: longer than one period).
    time.sleep(3.5)
    for rcv in rig.receivers:
        assert len(delivered(rcv, "firing")) == n_firing[rcv.name], "%s: a repeat after the resolve" % rcv.name
        assert len(delivered(rcv, "resolved")) == 1


def test_alerts_api_shows_pending_and_firing(store, rig):
    rules = [rig.rule(),
             rig.rule(name="slow-burn", when="consecutive_failures >= 1", severity="warning",
                      notify=["audit"], **{"for": "1h"})]
    a = rig.start(rules=rules)
    wait_state(a, "api", "up")
    assert a.alerts()["alerts"] == []
    rig.target.down()

    def both():
        d, s = a.alert("down", "api"), a.alert("slow-burn", "api")
        return (d, s) if d and s and d["state"] == "firing" else None
    d, s = U.wait_until(both, detection_bound_s() + 5, what="down firing and slow-burn pending")
    assert (d["rule"], d["check"], d["severity"]) == ("down", "api", "critical")
    assert d["alert_id"] and d["fired"]
    assert (s["rule"], s["check"], s["severity"], s["state"]) == ("slow-burn", "api", "warning", "pending")
    # A pending instance sends nothing: the webhook sees only the down rule.
    wait_delivered(rig.hook, "firing")
    assert {r.json["rule"] for r in rig.hook.snapshot()} == {"down"}

    rig.target.up()
    U.wait_until(lambda: a.alerts()["alerts"] == [], 10, what="no active alert instance")
    hist = {(h["rule"], h["from"], h["to"]) for h in a.alerts()["history"]}
    assert {("slow-burn", "ok", "pending"), ("slow-burn", "pending", "ok"),
            ("down", "ok", "firing"), ("down", "firing", "ok")} <= hist, hist


def _iso(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_maintenance_one_off_holds_alerts_back(rig):
    now = datetime.now(timezone.utc)
    maint = [{"checks": "api", "start": _iso(now - timedelta(minutes=1)), "duration": "1h"}]
    a = rig.start(maintenance=maint)
    wait_state(a, "api", "maintenance")
    rig.target.down()
    # The check keeps running and recording while nothing fires. Wait past
    # the detection bound (plus margin): a bounded wait is the only way to
    # show that something did not happen.
    U.wait_until(lambda: sum(1 for r in a.get_json("/api/v1/checks/api/results?limit=10")
                             if not r["ok"]) >= 3, 10, what="three failed runs recorded")
    time.sleep(detection_bound_s() + 1 - 3)
    assert a.checks()["api"]["state"] == "maintenance"
    assert a.checks()["api"]["last"]["ok"] is False
    for rcv in rig.receivers:
        assert rcv.snapshot() == [], "%s was notified during maintenance" % rcv.name
    assert a.alerts()["alerts"] == []


def test_maintenance_weekly_holds_alerts_back(rig):
    start = datetime.now(timezone.utc) - timedelta(minutes=2)
    weekly = "%s %s" % (start.strftime("%a"), start.strftime("%H:%M"))
    a = rig.start(maintenance=[{"checks": "*", "weekly": weekly, "duration": "1h"}])
    wait_state(a, "api", "maintenance")
    rig.target.down()
    U.wait_until(lambda: sum(1 for r in a.get_json("/api/v1/checks/api/results?limit=10")
                             if not r["ok"]) >= 3, 10, what="three failed runs recorded")
    time.sleep(detection_bound_s() + 1 - 3)     # bounded: proving an absence
    for rcv in rig.receivers:
        assert rcv.snapshot() == [], "%s was notified during maintenance" % rcv.name
    assert a.alerts()["alerts"] == []


def test_restart_while_firing_does_not_page_again(store, rig):
    a = rig.start()
    wait_state(a, "api", "up")
    rig.target.down()
    first = {rcv.name: wait_delivered(rcv, "firing", timeout=detection_bound_s() + 10)[0]
             for rcv in rig.receivers}
    alert_id = a.alert("down", "api")["alert_id"]
    rc, _ = a.stop()
    assert rc == 0
    a.start()
    # The target is still down: the restored instance stays firing without a
    # new page. Bounded wait (longer than the detection bound after the
    # restart) to show that no second page comes.
    U.wait_until(lambda: sum(1 for r in a.get_json("/api/v1/checks/api/results?limit=20")
                             if not r["ok"]) >= 6, 10, what="failed runs after the restart")
    time.sleep(detection_bound_s())
    for rcv in rig.receivers:
        assert len(rcv.snapshot()) == 1, "%s paged again after the restart: %r" % (rcv.name, rcv.snapshot())
    inst = a.alert("down", "api")
    assert inst["state"] == "firing" and inst["alert_id"] == alert_id

    rig.target.up()
    for rcv in rig.receivers:
        res = wait_delivered(rcv, "resolved")[0]
        assert res.key.split("-")[0] == first[rcv.name].key.split("-")[0] == alert_id
    assert delivered(rig.pd, "resolved")[0].json["dedup_key"] == first["pagerduty"].json["dedup_key"]


def test_recovered_while_agent_down_resolves_at_start(store, rig):
    a = rig.start()
    wait_state(a, "api", "up")
    rig.target.down()
    for rcv in rig.receivers:
        wait_delivered(rcv, "firing", timeout=detection_bound_s() + 10)
    a.stop()
    rig.target.up()
    a.start()
    for rcv in rig.receivers:
        wait_delivered(rcv, "resolved", timeout=15)
        assert len(delivered(rcv, "firing")) == 1
    assert delivered(rig.pd, "resolved")[0].json["dedup_key"] == "pharos:down:api"


def test_alertmanager_shows_firing_then_resolved(rig, alertmanager):
    suffix = "%d" % (time.time() * 1000)
    check, rule = "am-api-" + suffix, "am-down-" + suffix
    a = rig.start(checks=[rig.check(name=check, group="Payments")],
                  rules=[rig.rule(name=rule, checks=check, notify=["am"], severity="error")],
                  notifiers=[{"name": "am", "type": "alertmanager", "url": alertmanager.url}])
    wait_state(a, check, "up")
    assert alertmanager.find(rule, check) == []
    rig.target.down()

    def firing():
        got = [x for x in alertmanager.find(rule, check) if x["status"]["state"] == "active"]
        return got[0] if got else None
    al = U.wait_until(firing, detection_bound_s() + 10, what="the alert active in Alertmanager")
    labels = al["labels"]
    assert labels["alertname"] == rule and labels["check"] == check
    assert labels["severity"] == "error" and labels["instance"] == LOCATION
    assert labels["group"] == "Payments"
    assert rule in al["annotations"]["summary"] and al["annotations"].get("description")
    assert al["generatorURL"].endswith("/check/" + check)
    U.wait_until(lambda: [r["state"] for r in a.notifications()] == ["delivered"], 5,
                 what="the firing notification recorded as delivered")

    rig.target.up()

    def resolved():
        now = datetime.now(timezone.utc)
        got = alertmanager.find(rule, check)
        if not got:
            return "gone from the list"
        ends = datetime.fromisoformat(got[0]["endsAt"].replace("Z", "+00:00"))
        return "endsAt %s in the past" % got[0]["endsAt"] if ends <= now else None
    U.wait_until(resolved, 15, what="the alert resolved in Alertmanager")
    assert [x for x in alertmanager.find(rule, check, active=True)
            if x["status"]["state"] == "active"] == []
    U.wait_until(lambda: len(a.notifications(state="delivered")) == 2, 5,
                 what="the resolve delivered")

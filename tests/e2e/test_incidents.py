"""Incidents, announcements and the feed over the wire (SPEC §3, issue 14): a
target down twice gives one closed and one open incident with durations,
cause and failures; status updates need the admin token; announcements and
upcoming maintenance show on the status page, escaped; /feed.atom parses as
Atom; one alert `value` in the API, the page, Slack and the webhook; and the
pages in headless Chromium (screenshots under build/screenshots). The
incident tests run on both stores (SQLite, PostgreSQL)."""

import json
import os
import re
import time
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone

import e2eutil as U
from alerting import rig, wait_delivered, wait_state  # noqa: F401
from test_page import CHROMIUM, chromium, dump_dom

ATOM = "{http://www.w3.org/2005/Atom}"
SHOTS = os.path.join(U.REPO, "build", "screenshots")
EVIL_TITLE = 'DB <b>upgrade</b> & "restart"'
EVIL_BODY = "<script>alert(3)</script> we restart at 02:00"


def iso(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def announcements_conf():
    now = datetime.now(timezone.utc)
    return [
        {"title": EVIL_TITLE, "body": EVIL_BODY, "severity": "warning",
         "start": iso(now - timedelta(hours=1)), "end": iso(now + timedelta(hours=2))},
        {"title": "Next week's thing", "start": iso(now + timedelta(days=3))},
        {"title": "Long gone", "start": iso(now - timedelta(days=3)),
         "end": iso(now - timedelta(days=2))},
    ]


def start_agent(rig, extra_checks=()):  # noqa: F811
    now = datetime.now(timezone.utc)
    maint = [{"checks": "api", "start": iso(now + timedelta(days=2)), "duration": "2h"}]
    a = rig.agent(checks=[rig.check()] + list(extra_checks), maintenance=maint,
                  agent_extra={"title": "Acme status", "public_url": "http://status.example.test"})
    with open(a.config, "a") as f:
        f.write("announcements = %s;\n" % U.lc(announcements_conf()))
    return a.start()


def incidents(a, query=""):
    r = a.get("/api/v1/incidents" + query)
    assert r.status == 200, r
    return r.json()["incidents"]


def down_twice(rig, a):  # noqa: F811
    """up -> down (fires) -> up (resolves) -> down again (fires)."""
    wait_state(a, "api", "up")
    rig.target.down()
    wait_delivered(rig.slack, "firing", 1)
    time.sleep(1.2)
    rig.target.up()
    wait_delivered(rig.slack, "resolved", 1)
    rig.target.down()
    # Delivery is at least once: a slow answer may bring the first firing
    # twice, so wait for the second episode itself (its own alert id).
    def second_fired():
        inc = incidents(a)
        return len(inc) == 2 and inc[0]["alerts"] and inc[0]["alerts"] != inc[1]["alerts"]
    U.wait_until(second_fired, 15, what="two incidents, each with its alert")
    wait_delivered(rig.slack, "firing", 2)


def test_incidents_updates_value_and_pages(store, rig):  # noqa: F811
    a = start_agent(rig)
    down_twice(rig, a)

    # --- the API: newest first, open then closed, durations, cause, failures
    inc = incidents(a)
    new, old = inc
    assert new["ended"] is None and new["state"] == "open"
    assert old["ended"] is not None and old["state"] == "closed"
    assert new["started"] > old["ended"] >= old["started"]
    for i in inc:
        assert i["check"] == "api" and i["group"] == ""
        assert i["cause"]["error"] == "http_status" and "503" in i["cause"]["message"]
        assert i["failures"] >= 2
        assert isinstance(i["duration_s"], (int, float)) and i["duration_s"] > 0
        assert re.fullmatch(r"\d+(\.\d{1,3})?", json.dumps(i["duration_s"])), i["duration_s"]
    assert 1.5 <= old["duration_s"] <= 30
    assert len(old["alerts"]) == 1 and len(new["alerts"]) == 1 and old["alerts"] != new["alerts"]
    assert [i["id"] for i in incidents(a, "?state=open")] == [new["id"]]
    assert [i["id"] for i in incidents(a, "?state=closed&check=api")] == [old["id"]]
    assert incidents(a, "?check=nope") == []
    assert [i["id"] for i in incidents(a, "?limit=1")] == [new["id"]]
    assert a.get("/api/v1/incidents?state=maybe").status == 400
    assert a.get("/api/v1/incidents?since=yesterday").status == 400

    # --- status updates: admin only, validated, shown
    path = "/api/v1/incidents/%d/updates" % new["id"]
    body = json.dumps({"status": "identified", "message": "the <upstream> is restarting"})
    r = a.request("POST", path, body=body)
    assert r.status == 401, r
    r = a.request("POST", path, headers={"Authorization": "Bearer wrong"}, body=body)
    assert r.status in (401, 403), r
    auth = {"Authorization": "Bearer " + U.ADMIN_TOKEN}
    assert a.request("POST", path, headers=auth, body='{"status": "fixed"}').status == 400
    assert a.request("POST", path, headers=auth, body="not json").status == 400
    assert a.request("POST", "/api/v1/incidents/99999/updates", headers=auth,
                     body=body).status == 404
    r = a.request("POST", path, headers=auth, body=body)
    assert r.status == 201, r
    assert r.json()["updates"][-1]["status"] == "identified"
    assert incidents(a, "?state=open")[0]["updates"][0]["message"] == "the <upstream> is restarting"

    # --- one value everywhere
    firing = a.alert("down", "api")
    assert firing is not None and firing["state"] == "firing"
    value = firing["value"]
    assert value == str(2), firing            # consecutive_failures >= 2 fired at 2
    assert firing["since"] <= firing["fired"]
    hooks = [r.json for r in rig.hook.snapshot() if r.json and r.json.get("type", "").startswith("alert.")]
    assert hooks and all(h["value"] == value for h in hooks), hooks
    resolved = [h for h in hooks if h["type"] == "alert.resolved"]
    assert resolved and "was down for" in resolved[0]["message"], resolved
    slack = [json.dumps(r.json) for r in rig.slack.snapshot() if r.json]
    assert slack and all('"*Value*\\n%s"' % value in s or "Value" in s for s in slack)
    for s in slack:
        m = re.search(r'\*Value\*\\n([^"]*)"', s)
        assert m is None or m.group(1) == value, s
    page = a.get("/").text
    assert '<span class="val">value %s</span>' % value in page
    check_page = a.get("/check/api").text
    assert '<span class="val">value %s</span>' % value in check_page

    # --- the pages: open incident on top with its update; the check's incidents
    top = page.index('id="incidents"')
    assert top < page.index('id="alerts"') and top < page.index('class="group"')
    assert re.search(r'<li class="incident" data-id="%d">' % new["id"], page)
    assert "the &lt;upstream&gt; is restarting" in page and "<upstream>" not in page
    assert "down since" in page
    assert len(re.findall(r'<li class="incident inc-(open|closed)"', check_page)) == 2
    assert 'id="recent-runs"' in check_page and "Recent failures" not in check_page

    # --- announcements and maintenance on the status page, escaped
    assert "DB &lt;b&gt;upgrade&lt;/b&gt; &amp; &quot;restart&quot;" in page
    assert "&lt;script&gt;alert(3)&lt;/script&gt;" in page and "<script>alert(3)" not in page
    assert "Next week" not in page and "Long gone" not in page
    assert 'id="maint-schedule"' in page and "Upcoming" in page
    assert 'href="/feed.atom"' in page

    # --- the feed
    r = a.get("/feed.atom")
    assert r.status == 200 and r.headers["content-type"].startswith("application/atom+xml")
    root = ET.fromstring(r.body)
    assert root.tag == ATOM + "feed"
    for tag in ("id", "title", "updated"):
        assert len(root.findall(ATOM + tag)) == 1
    assert root.find(ATOM + "link[@rel='self']").get("href") == "http://status.example.test/feed.atom"
    entries = root.findall(ATOM + "entry")
    titles = [e.find(ATOM + "title").text for e in entries]
    assert "api is down" in titles and any(t.startswith("api was down for") for t in titles)
    assert "api: identified" in titles
    assert EVIL_TITLE in titles and "Long gone" in titles and "Next week's thing" not in titles
    ids = [e.find(ATOM + "id").text for e in entries]
    assert len(set(ids)) == len(ids)
    stamps = [e.find(ATOM + "updated").text for e in entries]
    assert stamps == sorted(stamps, reverse=True)
    for e in entries:
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", e.find(ATOM + "updated").text)
    assert a.get("/feed.atom").body.count(b"<entry>") == len(entries)

    # --- in the browser: DOM and screenshots (desktop, phone, dark)
    base = "http://127.0.0.1:%d" % a.port
    if not os.path.exists(CHROMIUM):
        return
    dom = dump_dom(base + "/")
    assert re.search(r'<section id="incidents" class="banner b-incident">', dom)
    # response times on the row, the current one refreshed by the script
    assert re.search(r'<span class="c-rt"[^>]*><span class="rt-cur">[0-9.]+ (µs|ms|s)</span> · avg ', dom)
    assert re.search(r'<section class="banner announce b-ann-warning" role="note"><h2>DB &lt;b&gt;', dom)
    assert "<script>alert(3)" not in dom
    cdom = dump_dom(base + "/check/api")
    assert len(re.findall(r'<li class="incident inc-(open|closed)"', cdom)) == 2
    assert len(re.findall(r'class="ch-pt', cdom)) >= 1, "chart points in the first hour"
    os.makedirs(SHOTS, exist_ok=True)
    for page_path, name in (("/", "status"), ("/check/api", "check")):
        for suffix, size, extra in (("desktop", "1280,1800", []), ("phone", "390,1600", []),
                                    ("dark", "1280,1800", ["--force-dark-mode"])):
            out = os.path.join(SHOTS, "%s-%s.png" % (name, suffix))
            chromium(base + page_path, extra + ["--hide-scrollbars", "--screenshot=" + out,
                                                "--window-size=" + size])
            assert os.path.getsize(out) > 1000


def test_incidents_without_store_support_shapes(store, rig):  # noqa: F811
    """A healthy check has no incident; its page shows its recent runs."""
    a = start_agent(rig)
    wait_state(a, "api", "up")
    U.wait_until(lambda: len(a.get_json("/api/v1/checks/api/results")) >= 2, 10)
    assert incidents(a) == []
    page = a.get("/check/api").text
    assert "No incidents recorded." in page
    assert re.search(r'<tr class="run-ok">', page)
    r = a.get("/")
    assert 'id="incidents" class="banner b-incident" hidden' in r.text


def test_quickstart_is_green(workdir, pharos_bin):
    """packaging/quickstart.conf on a machine without internet: every check is
    up within seconds (the heartbeat pending until its first ping); ICMP
    counts when this machine permits it."""
    import socket
    with open(os.path.join(U.REPO, "packaging", "quickstart.conf")) as f:
        text = f.read()
    port = U.free_port()
    text = text.replace("9470", str(port)).replace("build/quickstart.db",
                                                   os.path.join(workdir, "qs.db"))
    conf = U.write_file(os.path.join(workdir, "quickstart.conf"), text)
    log = open(os.path.join(workdir, "quickstart.log"), "wb")
    import subprocess
    p = subprocess.Popen([U.PHAROS, "run", "-c", conf], stdout=log, stderr=subprocess.STDOUT,
                         stdin=subprocess.DEVNULL, env=U.base_env(), cwd=workdir)
    try:
        try:
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_ICMP).close()
            icmp = True
        except OSError:
            icmp = os.geteuid() == 0
        want_up = {"self-health", "self-ready", "self-port", "self-http-dialogue", "resolver"}
        if icmp:
            want_up.add("loopback-ping")

        def states():
            r = U.http_request(port, "GET", "/api/v1/checks", timeout=2)
            return {c["name"]: c["state"] for c in r.json()} if r.status == 200 else {}
        U.wait_until(lambda: all(states().get(n) == "up" for n in want_up), 40,
                     what="every quick-start check up")
        assert states()["nightly-job"] == "pending"
    finally:
        p.terminate()
        p.wait(15)
        log.close()

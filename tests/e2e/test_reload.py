"""SIGHUP reloads the configuration (SPEC §1): a valid new config is swapped in
with unchanged checks keeping their schedule (phase) and state, changed checks
taking their new settings, removed checks stopping and added ones starting,
alert state and the outbox untouched; an invalid one is rejected with every
error logged as FILE:LINE and the running config stays in force."""

import os
import signal
import sqlite3
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import e2eutil as U

INTERVAL_MS = 2000
DEFAULTS = {"interval": "2s", "timeout": "1s"}


# --- helpers ----------------------------------------------------------------------

def fnv1a64(s):
    """The scheduler's hash of a check name (util_hash64): its phase offset."""
    h = 0xcbf29ce484222325
    for b in s.encode():
        h ^= b
        h = (h * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


def db_query(db, sql, args=()):
    c = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=10)
    try:
        return c.execute(sql, args).fetchall()
    finally:
        c.close()


def result_times_us(db, name):
    return [r[0] for r in db_query(db, "SELECT ts_us FROM results WHERE check_name = ? ORDER BY ts_us",
                                   (name,))]


def phase_ms(ts_us, mono_offset_ms):
    """Where in its interval a run started, on the monotonic clock the
    scheduler uses (results carry wall-clock times)."""
    return (ts_us / 1000.0 - mono_offset_ms) % INTERVAL_MS


def phase_distance(a, b):
    d = abs(a - b) % INTERVAL_MS
    return min(d, INTERVAL_MS - d)


def mono_offset_ms():
    """Wall clock minus CLOCK_MONOTONIC, in ms (Python's time.monotonic is
    CLOCK_MONOTONIC on Linux, like the agent's loop)."""
    return (time.time() - time.monotonic()) * 1000.0


def write_config(a, checks, extra=""):
    agent = {"listen": "127.0.0.1:%d" % a.port, "database": a.db, "admin_token": U.ADMIN_TOKEN}
    U.write_file(a.config, U.render_config(checks, agent=agent, defaults=DEFAULTS, extra=extra))


def reload(a, marker="configuration reloaded", timeout=10):
    n = a.logs().count(marker)
    a.proc.send_signal(signal.SIGHUP)
    U.wait_until(lambda: a.logs().count(marker) > n, timeout, what="%r in the log" % marker)


class Receiver:
    """A webhook receiver that answers every request with a fixed status."""

    def __init__(self, status=500):
        recv = self

        class H(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n)
                recv.requests.append((dict(self.headers), body))
                self.send_response(recv.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.status = status
        self.requests = []
        self.srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.srv.daemon_threads = True
        self.port = self.srv.server_address[1]
        self.thread = threading.Thread(target=self.srv.serve_forever, kwargs={"poll_interval": 0.1},
                                       daemon=True)
        self.thread.start()

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


@pytest.fixture
def receiver():
    r = Receiver(500)
    yield r
    r.close()


def new_agent(workdir, checks, extra=""):
    a = U.Agent(workdir, checks, defaults=DEFAULTS)
    write_config(a, checks, extra)
    return a


@pytest.fixture
def agents(workdir, pharos_bin):
    started = []

    def start(checks, extra=""):
        a = new_agent(workdir, checks, extra)
        started.append(a)
        return a.start()

    yield start
    for a in started:
        rc, _ = a.stop(15)
        assert rc == 0, "pharos exited with %s:\n%s" % (rc, a.logs()[-4000:])


# --- reload with checks added, changed, removed -------------------------------------------

@pytest.mark.serial  # the schedule within 250 ms
def test_reload_add_change_remove(agents, target, tcp, receiver):
    steady = [
        {"name": "steady-http", "type": "http", "url": target.url("/ok")},
        {"name": "steady-tcp", "type": "tcp", "host": "127.0.0.1", "port": tcp.banner.port},
    ]
    changed_before = {"name": "changed", "type": "http", "url": target.url("/ok")}
    changed_after = {"name": "changed", "type": "http", "url": target.url("/status/500")}
    # In flight most of the time: removed while a run is under way.
    removed = {"name": "removed", "type": "http", "url": target.url("/slow/1500"), "timeout": "1900ms"}
    added = {"name": "added", "type": "tcp", "host": "127.0.0.1", "port": tcp.echo.port, "interval": "1s",
             "timeout": "500ms"}
    refused = {"name": "refused", "type": "tcp", "host": "127.0.0.1", "port": tcp.refused}
    alerting = ("alerts = %s;\nnotifiers = %s;\n" % (
        U.lc([{"name": "down", "checks": "refused", "when": "consecutive_failures >= 1",
               "severity": "critical", "notify": ["hook"]}]),
        U.lc([{"name": "hook", "type": "webhook", "url": "http://127.0.0.1:%d/hook" % receiver.port}])))

    a = agents(steady + [changed_before, removed, refused], alerting)

    # Before: every check ran twice, the alert fired and its notification is
    # queued (the receiver keeps failing it).
    def settled():
        return all(len(result_times_us(a.db, c["name"])) >= 2
                   for c in steady + [changed_before, refused])
    U.wait_until(settled, 20, interval=0.2, what="two results of every check")
    U.wait_until(lambda: receiver.requests, 20, what="a first delivery attempt")
    alerts_before = a.get_json("/api/v1/alerts")["alerts"]
    assert [(x["rule"], x["check"], x["state"]) for x in alerts_before] == [("down", "refused", "firing")]
    outbox_before = db_query(a.db, "SELECT id, key, kind, state FROM notifications ORDER BY id")
    assert [r[2] for r in outbox_before] == ["firing"], outbox_before
    assert outbox_before[0][3] == "pending", outbox_before

    # Time the reload half an interval away from the steady checks' phase: a
    # check wrongly rescheduled by it would move by about 1000 ms.
    off = mono_offset_ms()
    p = phase_ms(result_times_us(a.db, "steady-http")[-1], off)
    h = fnv1a64("steady-http") % INTERVAL_MS
    now = time.monotonic() * 1000.0 + 300
    want = (p + INTERVAL_MS / 2 - h) % INTERVAL_MS
    t_reload = now + ((want - now) % INTERVAL_MS)
    assert phase_distance((t_reload + h) % INTERVAL_MS, p) > INTERVAL_MS / 2 - 5

    before_state = a.checks()
    write_config(a, steady + [changed_after, added, refused], alerting)
    time.sleep(max(0.0, (t_reload - time.monotonic() * 1000.0) / 1000.0))
    reload_wall_us = int(time.time() * 1e6)
    reload(a)

    # State is kept: right after the reload (well before the next run) the
    # steady checks still show their last result, not "pending".
    after_state = a.checks()
    for c in steady:
        n = c["name"]
        assert after_state[n]["state"] == "up", after_state[n]
        assert after_state[n]["last"]["ts"] == before_state[n]["last"]["ts"] or \
            after_state[n]["last"]["ts"] > before_state[n]["last"]["ts"]
        assert after_state[n]["latency_ms"] == before_state[n]["latency_ms"] or \
            after_state[n]["latency_ms"]["p50"] is not None
    assert "removed" not in after_state
    assert "added" in after_state

    # Three more runs of every steady check.
    def ran_after():
        return all(len([t for t in result_times_us(a.db, c["name"]) if t > reload_wall_us]) >= 3
                   for c in steady)
    U.wait_until(ran_after, 20, interval=0.2, what="three runs of the steady checks after the reload")

    for c in steady:
        times = result_times_us(a.db, c["name"])
        first = phase_ms(times[0], off)
        for t in times:
            assert phase_distance(phase_ms(t, off), first) < 250, \
                "%s was rescheduled by the reload: run at %d is %.0f ms off its phase (%r)" % (
                    c["name"], t, phase_distance(phase_ms(t, off), first), times)
        # Fixed rate: consecutive runs one interval apart, no gap or extra run.
        for x, y in zip(times, times[1:]):
            assert abs((y - x) / 1000.0 - INTERVAL_MS) < 250, (c["name"], times)

    # The changed check runs with its new URL.
    def changed_fails():
        r = a.get_json("/api/v1/checks/changed/results?limit=1")
        return r and r[0]["ok"] is False and r[0]["error"] == "http_status"
    U.wait_until(changed_fails, 10, what="the changed check to use its new URL")
    # The added check runs; the removed one stopped (a run in flight at the
    # reload may finish, but none starts after it).
    U.wait_until(lambda: a.checks()["added"]["state"] == "up", 10, what="the added check to run")
    late = [t for t in result_times_us(a.db, "removed") if t > reload_wall_us + 50000]
    assert late == [], "the removed check still ran after the reload: %r" % late
    assert a.get("/api/v1/checks/removed").status == 404

    # Alert state and the outbox: the same instance still firing, no second
    # page for it, the queued notification still there with its key.
    alerts_after = a.get_json("/api/v1/alerts")["alerts"]
    assert [(x["rule"], x["check"], x["state"], x["alert_id"]) for x in alerts_after] == \
        [(x["rule"], x["check"], x["state"], x["alert_id"]) for x in alerts_before]
    outbox_after = db_query(a.db, "SELECT id, key, kind, state FROM notifications ORDER BY id")
    assert [r[:3] for r in outbox_after] == [r[:3] for r in outbox_before], outbox_after
    assert outbox_after[0][3] == "pending"
    assert "reload rejected" not in a.logs()


def test_reload_keeps_alert_state_and_outbox(agents, tcp, receiver):
    """A notification queued before a reload is delivered after it, once,
    with the key it was queued with; the alert instance is the same."""
    refused = {"name": "refused", "type": "tcp", "host": "127.0.0.1", "port": tcp.refused}
    alerting = ("alerts = %s;\nnotifiers = %s;\n" % (
        U.lc([{"name": "down", "checks": "refused", "when": "consecutive_failures >= 1",
               "severity": "critical", "notify": ["hook"]}]),
        U.lc([{"name": "hook", "type": "webhook", "url": "http://127.0.0.1:%d/hook" % receiver.port}])))
    a = agents([refused], alerting)
    U.wait_until(lambda: receiver.requests, 20, what="a first (failing) delivery attempt")
    alert = a.get_json("/api/v1/alerts")["alerts"]
    outbox = db_query(a.db, "SELECT id, key, kind, state FROM notifications ORDER BY id")
    assert len(alert) == 1 and outbox[0][3] == "pending", (alert, outbox)

    write_config(a, [refused, {"name": "banner", "type": "tcp", "host": "127.0.0.1",
                               "port": tcp.banner.port}], alerting)
    reload(a)
    receiver.status = 200
    assert [x["alert_id"] for x in a.get_json("/api/v1/alerts")["alerts"]] == [alert[0]["alert_id"]]

    def delivered():
        rows = db_query(a.db, "SELECT id, key, kind, state FROM notifications ORDER BY id")
        return rows if rows[0][3] == "delivered" else None
    rows = U.wait_until(delivered, 40, interval=0.2, what="the queued notification to be delivered")
    assert [r[:3] for r in rows] == [r[:3] for r in outbox], "a second notification was queued"
    ids = {h.get("webhook-id") for h, _ in receiver.requests}
    assert len(ids) == 1, "the key changed across the reload: %r" % ids


@pytest.mark.serial  # the schedule within 250 ms
def test_reload_unchanged_config_is_a_no_op(agents, tcp):
    checks = [{"name": "banner", "type": "tcp", "host": "127.0.0.1", "port": tcp.banner.port}]
    a = agents(checks)
    U.wait_until(lambda: len(result_times_us(a.db, "banner")) >= 2, 15, interval=0.2,
                 what="two results")
    for _ in range(5):
        reload(a)
    time.sleep(2.5)
    times = result_times_us(a.db, "banner")
    for x, y in zip(times, times[1:]):
        assert abs((y - x) / 1000.0 - INTERVAL_MS) < 250, "reloads disturbed the schedule: %r" % times
    assert a.get("/readyz").status == 200


# --- reload with an invalid config ----------------------------------------------------------

INVALID = """\
agent = {{
  listen = "127.0.0.1:{port}";
  database = "{db}";
}};
defaults = {{ interval = "2s"; timeout = "1s"; }};
checks = (
  {{ name = "banner"; type = "tcp"; host = "127.0.0.1"; port = {banner}; }},
  {{ name = "new-one"; type = "tcp"; host = "127.0.0.1"; port = {banner};
     timout = "1s"; }},
  {{ name = "web"; type = "http"; url = "http://127.0.0.1:{banner}/";
     interval = "30 seconds"; }},
  {{ name = "secret"; type = "http"; url = "${{env:PHAROS_E2E_NOT_SET}}"; }}
);
"""


def test_reload_invalid_config_keeps_old_one(agents, tcp):
    checks = [{"name": "banner", "type": "tcp", "host": "127.0.0.1", "port": tcp.banner.port},
              {"name": "echo", "type": "tcp", "host": "127.0.0.1", "port": tcp.echo.port}]
    a = agents(checks)
    U.wait_until(lambda: a.checks()["echo"]["state"] == "up", 15, what="the checks to run")

    U.write_file(a.config, INVALID.format(port=a.port, db=a.db, banner=tcp.banner.port))
    lines = open(a.config).read().splitlines()
    line_of = {key: i + 1 for i, l in enumerate(lines) for key in ("timout", "30 seconds", "env:")
               if key in l}
    reload(a, marker="reload rejected")
    logs = a.logs()
    for key, line in line_of.items():
        assert "%s:%d:" % (a.config, line) in logs, \
            "no %s:%d: error for %r in the log:\n%s" % (a.config, line, key, logs[-3000:])
    assert "configuration reloaded" not in logs
    assert a.running()

    # The old config stays in force: the same checks, still running.
    assert set(a.checks()) == {"banner", "echo"}
    n = len(result_times_us(a.db, "echo"))
    U.wait_until(lambda: len(result_times_us(a.db, "echo")) > n, 10, interval=0.2,
                 what="the old checks to keep running")
    assert a.get("/readyz").status == 200

    # A corrected config is then taken.
    write_config(a, checks[:1] + [{"name": "third", "type": "tcp", "host": "127.0.0.1",
                                   "port": tcp.echo.port}])
    reload(a)
    assert set(a.checks()) == {"banner", "third"}


def test_reload_syntax_error_and_missing_file(agents, tcp):
    checks = [{"name": "banner", "type": "tcp", "host": "127.0.0.1", "port": tcp.banner.port}]
    a = agents(checks)
    text = open(a.config).read()
    U.write_file(a.config, text + "\nchecks = ( { name = ; } \n")
    reload(a, marker="reload rejected")
    assert a.running() and set(a.checks()) == {"banner"}
    os.rename(a.config, a.config + ".moved")
    reload(a, marker="reload rejected")
    assert a.running() and set(a.checks()) == {"banner"}
    os.rename(a.config + ".moved", a.config)
    U.write_file(a.config, text)
    reload(a)
    assert a.get("/readyz").status == 200

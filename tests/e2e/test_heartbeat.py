"""Heartbeat checks (SPEC §2.1, issue 5): passive checks fed by the push API.
On time, late (interval 2s + grace 1s: one failed result, state down, again
once per interval while late), /fail with a body kept as the message, wrong
and missing tokens (401/403, logged without the token), unknown and
non-heartbeat checks (404), a body over the cap (truncated), and a restart
that keeps lateness."""

import json
import sqlite3
import time
from datetime import datetime
import urllib.parse

import pytest

import e2eutil as U

# Every test runs on SQLite and on PostgreSQL (conftest.py: store).
pytestmark = pytest.mark.usefixtures("store")

TOKEN = "hb-T0ken-e2e-Yq8Lm3"
DEFAULTS = {"interval": "5s", "timeout": "2s"}


def hb(name="nightly", interval="2s", grace="1s", **kw):
    c = {"name": name, "type": "heartbeat", "interval": interval, "grace": grace, "token": TOKEN}
    c.update(kw)
    return c


def push(agent, name, token=TOKEN, fail=False, body=None, bearer=False, method=None):
    path = "/api/v1/push/%s%s" % (name, "/fail" if fail else "")
    headers = {}
    if token is not None and bearer:
        headers["Authorization"] = "Bearer " + token
    elif token is not None:
        path += "?token=" + urllib.parse.quote(token)
    return agent.request(method or ("POST" if body is not None else "GET"), path,
                         headers=headers, body=body)


def results(agent, name):
    return agent.get_json("/api/v1/checks/%s/results?limit=100" % name)


def wait_results(agent, name, n=1):
    """The results once at least n are stored (the writer commits in batches)."""
    return U.wait_until(lambda: len(results(agent, name)) >= n and results(agent, name), 5,
                        what="%d result(s) of %s" % (n, name))


def wait_state(agent, name, want):
    U.wait_until(lambda: state(agent, name) == want, 5, what="%s to be %s" % (name, want))


def state(agent, name):
    return agent.checks()[name]["state"]


def test_pending_until_first_ping_then_up(start_agent):
    a = start_agent(defaults=DEFAULTS, checks=[hb()])
    assert state(a, "nightly") == "pending"
    time.sleep(0.3)
    assert state(a, "nightly") == "pending"     # never probed, never late before a ping
    r = push(a, "nightly")
    assert r.status == 200, r
    doc = r.json()
    assert doc["ok"] is True and doc["check"] == "nightly" and doc["state"] == "up"
    wait_state(a, "nightly", "up")
    rows = wait_results(a, "nightly")
    assert len(rows) == 1 and rows[0]["ok"] is True
    assert rows[0]["message"] == "ping received"


def test_bearer_header_and_post_body_kept_as_message(start_agent):
    a = start_agent(defaults=DEFAULTS, checks=[hb()])
    r = push(a, "nightly", bearer=True, body=b"backup done: 42 files")
    assert r.status == 200, r
    rows = wait_results(a, "nightly")
    assert rows[0]["ok"] is True
    assert rows[0]["message"] == "backup done: 42 files"


def test_late_records_one_failure_per_interval(start_agent):
    a = start_agent(defaults=DEFAULTS, checks=[hb(interval="2s", grace="1s")])
    assert push(a, "nightly").status == 200
    t0 = time.monotonic()
    U.wait_until(lambda: state(a, "nightly") == "down", 8, what="state down once late")
    late_after = time.monotonic() - t0
    assert late_after >= 2.5, "went down after %.1fs, before interval + grace" % late_after
    rows = wait_results(a, "nightly", 2)
    failed = [r for r in rows if not r["ok"]]
    assert len(failed) == 1, rows
    assert failed[0]["error"] == "timeout"
    assert failed[0]["message"].startswith("no ping for 3s"), failed[0]["message"]
    assert "(expected every 2s + 1s grace)" in failed[0]["message"]
    # Still late: not one row per tick, but one more per interval. Judged by
    # the rows' own times, so a slow machine cannot make it flaky.
    def failures():
        return sorted(r["ts"] for r in results(a, "nightly") if not r["ok"])
    U.wait_until(lambda: len(failures()) >= 2, 8,
                 what="a second lateness result one interval later")
    first, second = (datetime.fromisoformat(t.replace("Z", "+00:00")) for t in failures()[:2])
    assert (second - first).total_seconds() >= 1.9, failures()
    assert state(a, "nightly") == "down"
    # The next ping brings it back.
    assert push(a, "nightly").json()["state"] == "up"
    wait_state(a, "nightly", "up")


def test_fail_signal(start_agent):
    a = start_agent(defaults=DEFAULTS, checks=[hb(interval="1h", grace="1h")])
    r = push(a, "nightly", fail=True, body=b"exit code 3: disk full")
    assert r.status == 200, r
    assert r.json()["state"] == "down"
    rows = wait_results(a, "nightly")
    assert rows[0]["ok"] is False
    assert rows[0]["error"] == "assertion"
    assert rows[0]["message"] == "job reported failure: exit code 3: disk full"
    r = push(a, "nightly", fail=True)      # GET, no body
    assert r.status == 200
    assert wait_results(a, "nightly", 2)[0]["message"] == "job reported failure"
    wait_state(a, "nightly", "down")


def test_bad_tokens_and_unknown_checks(start_agent):
    a = start_agent(defaults=DEFAULTS, checks=[hb(), {"name": "web", "type": "http", "url": "http://127.0.0.1:9/"}])
    r = push(a, "nightly", token=None)
    assert r.status == 401, r
    assert r.json()["error"] == "unauthorized"
    r = push(a, "nightly", token="not-the-token")
    assert r.status == 403, r
    r = push(a, "nightly", token="not-the-token", bearer=True, fail=True)
    assert r.status == 403, r
    r = push(a, "nosuch")
    assert r.status == 404, r
    r = push(a, "web")
    assert r.status == 404, r
    assert "not a heartbeat check" in r.json()["detail"]
    r = a.request("DELETE", "/api/v1/push/nightly?token=" + TOKEN)
    assert r.status == 405, r
    assert state(a, "nightly") == "pending"
    assert results(a, "nightly") == []
    logs = a.logs()
    assert "heartbeat ping rejected" in logs
    assert "wrong token" in logs and "missing token" in logs
    assert "not-the-token" not in logs
    assert TOKEN not in logs


def test_body_capped_and_invalid_utf8_replaced(start_agent):
    a = start_agent(defaults=DEFAULTS, checks=[hb(interval="1h", grace="1h")])
    body = b"\xff\xfebad " + b"x" * 20000
    r = push(a, "nightly", body=body)
    assert r.status == 200, r
    assert r.json()["truncated"] is True
    row = wait_results(a, "nightly")[0]
    assert row["message"].startswith("\ufffd\ufffdbad xxx")
    assert row["details"]["body_truncated"] is True
    assert len(row["details"]["body"].encode()) <= 10000 + 6   # two bytes became U+FFFD


def test_restart_keeps_lateness(workdir, pharos_bin):
    a = U.Agent(workdir, [hb(interval="2s", grace="1s")], defaults=DEFAULTS).start()
    try:
        assert push(a, "nightly").status == 200
        U.wait_until(lambda: results(a, "nightly"), 5, what="the ping stored")
    finally:
        rc, _ = a.stop(15)
    assert rc == 0
    # Down for longer than interval + grace: the new agent reports lateness
    # at once from the stored ping, instead of starting over as pending.
    time.sleep(3.5)
    b = U.Agent(workdir, [hb(interval="2s", grace="1s")], defaults=DEFAULTS).start()
    try:
        assert state(b, "nightly") in ("up", "down")
        U.wait_until(lambda: state(b, "nightly") == "down", 3, what="late right after the restart")
        late = [r for r in results(b, "nightly") if not r["ok"]]
        assert late and late[0]["error"] == "timeout"
        assert late[0]["message"].startswith("no ping for "), late[0]["message"]
    finally:
        rc, _ = b.stop(15)
    assert rc == 0

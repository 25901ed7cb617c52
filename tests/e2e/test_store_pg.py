"""End-to-end: the PostgreSQL store when the server goes away, moving a
SQLite database to PostgreSQL with `pharos migrate-db` (SPEC section 6, issue 12)
with its incidents, and the store's unit tests against a real server.

The outage test starts its own PostgreSQL (so stopping it disturbs no other
test), stops it for 20 s while the checks run and an alert fires, and starts
it again: the agent must not crash, /readyz must say 503 `database` and then
200 again, the results of the outage must be written once the server is
back, and the notification must be delivered exactly once per notifier."""

import json
import os
import subprocess
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2eutil as U  # noqa: E402
from alerting import delivered, detection_bound_s, rig, wait_delivered, wait_state  # noqa: E402,F401
from conftest import start_pg_server, stop_pg_server  # noqa: E402

OUTAGE_S = 20


@pytest.fixture
def own_pg():
    """A PostgreSQL server of this test alone: it gets stopped and started."""
    s = start_pg_server("outage")
    yield s
    stop_pg_server(s)


def readyz(agent):
    r = agent.get("/readyz", timeout=10)
    return r.status, r.text


def results_between(agent, check, lo_us, hi_us):
    rows = agent.get_json("/api/v1/checks/%s/results?limit=1000" % check)
    out = []
    for r in rows:
        t = _ts_us(r["ts"])
        if lo_us <= t < hi_us:
            out.append(t)
    return sorted(out)


def _ts_us(s):
    from datetime import datetime, timezone
    dt = datetime.strptime(s.replace("Z", ""), "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=timezone.utc)
    return int(dt.timestamp() * 1_000_000)


def test_database_outage_keeps_probing_and_delivers_once(rig, own_pg):
    uri = own_pg.new_database()
    U.set_store(lambda workdir, name: uri)
    try:
        a = rig.agent()
    finally:
        U.set_store(None)
    a.start()
    wait_state(a, "api", "up")
    assert readyz(a)[0] == 200

    own_pg.stop("stop")
    t_stop_us = int(time.time() * 1e6)
    rig.target.down()           # the alert fires while the database is away
    status, text = U.wait_until(lambda: (lambda r: r if r[0] == 503 else None)(readyz(a)), 15,
                                what="/readyz 503 while PostgreSQL is stopped")
    assert "database" in text and "pharos:pharos@" not in text, text
    # Nothing may be delivered before the alert state is committed.
    time.sleep(detection_bound_s() + 2)
    for rcv in rig.receivers:
        assert delivered(rcv, "firing") == [], "%s got a notification before the commit" % rcv.name
    assert a.running(), a.logs()[-3000:]
    rest = OUTAGE_S - (time.time() * 1e6 - t_stop_us) / 1e6
    if rest > 0:
        time.sleep(rest)
    assert readyz(a)[0] == 503
    own_pg.start_again()
    t_back_us = int(time.time() * 1e6)

    U.wait_until(lambda: readyz(a)[0] == 200, 20, what="/readyz 200 after PostgreSQL is back")
    for rcv in rig.receivers:
        wait_delivered(rcv, "firing", timeout=20)
    time.sleep(3)
    for rcv in rig.receivers:
        assert len(delivered(rcv, "firing")) == 1, "%s: %r" % (rcv.name, rcv.snapshot())
    # The outage's results were kept and written: no gap over a few seconds.
    times = results_between(a, "api", t_stop_us, t_back_us)
    assert len(times) >= OUTAGE_S // 2, "only %d results of the %d s outage:\n%s" % (
        len(times), OUTAGE_S, a.all_logs()[-3000:])
    gaps = [b - x for x, b in zip(times, times[1:])]
    assert max(gaps) < 5_000_000, "a gap of %.1f s in the outage's results" % (max(gaps) / 1e6)
    U.wait_until(lambda: results_between(a, "api", t_back_us, int(time.time() * 1e6) + 1), 10,
                 what="results after PostgreSQL is back")
    rows = U.wait_until(lambda: (lambda rows: rows if rows and all(r["state"] == "delivered"
                                                                    for r in rows) else None)(
        a.notifications()), 10, what="the outbox to show the deliveries")
    assert len([r for r in rows if r["kind"] == "firing"]) == 3, rows
    logs = a.all_logs()
    assert "reconnected to PostgreSQL" in logs, logs[-3000:]
    assert "pharos:pharos@" not in logs, "the URI's password reached the log"
    m = a.get("/metrics").text
    assert "pharos_store_dropped_results_total 0" in m
    # One incident, opened while the server was away, each failure counted
    # once (the batches that failed then were written again in full).
    def open_incident():
        inc = a.get_json("/api/v1/incidents")["incidents"]
        assert len(inc) == 1 and inc[0]["state"] == "open", inc
        return inc[0]["failures"]
    before = open_incident()
    failed = len([r for r in a.get_json("/api/v1/checks/api/results?limit=1000") if not r["ok"]])
    assert before <= failed <= open_incident()


# --- migrate-db ---------------------------------------------------------------------------

def run_ids(agent, check):
    return {r["run_id"] for r in agent.get_json("/api/v1/checks/%s/results?limit=1000" % check)}


def incidents(agent):
    """What stays of each incident while its check is still down (the failure
    count and the last failure move on)."""
    keep = ("id", "check", "started", "ended", "state", "cause", "alerts", "updates")
    r = agent.get("/api/v1/incidents")
    assert r.status == 200, r
    return [{k: i[k] for k in keep} for i in r.json()["incidents"]]


def test_migrate_db_round_trip(rig, pg_server):
    a = rig.start()                     # SQLite
    wait_state(a, "api", "up")
    rig.target.down()
    for rcv in rig.receivers:
        wait_delivered(rcv, "firing", timeout=detection_bound_s() + 10)
    U.wait_until(lambda: all(r["state"] == "delivered" for r in a.notifications()), 5,
                 what="the deliveries recorded")
    inc = U.wait_until(lambda: incidents(a), 10, what="the open incident")
    note = json.dumps({"status": "identified", "message": "the target is down on purpose"})
    r = a.request("POST", "/api/v1/incidents/%d/updates" % inc[0]["id"], body=note,
                  headers={"Authorization": "Bearer " + U.ADMIN_TOKEN})
    assert r.status == 201, r
    assert a.stop(15)[0] == 0
    # What the API showed on SQLite, read again by a short second start.
    sqlite_db = a.db
    b = rig.agent(name="agent")
    b.start()
    before = {"history": b.alerts()["history"], "notifications": b.notifications(),
              "alert": b.alert("down", "api"), "runs": run_ids(b, "api"),
              "incidents": incidents(b)}
    assert b.stop(15)[0] == 0
    assert before["alert"]["state"] == "firing" and before["history"], before
    assert len(before["incidents"]) == 1 and before["incidents"][0]["updates"], before

    uri = pg_server.new_database()
    r = U.run_pharos(["migrate-db", "--from", sqlite_db, "--to", uri], timeout=120)
    assert r.rc == 0, r
    assert "results:" in r.stderr and "rows copied" in r.stderr, r.stderr
    assert "incident_updates: 1 rows copied" in r.stderr, r.stderr
    assert "pharos:pharos@" not in r.stderr + r.stdout, "the password reached the output"
    again = U.run_pharos(["migrate-db", "--from", sqlite_db, "--to", uri], timeout=120)
    assert again.rc == 2 and "not empty" in again.stderr, again
    bad = U.run_pharos(["migrate-db", "--from", sqlite_db], timeout=30)
    assert bad.rc == 2 and "--to" in bad.stderr, bad

    U.set_store(lambda workdir, name: uri)
    try:
        c = rig.agent(name="agent-pg")
    finally:
        U.set_store(None)
    c.start()
    after = {"history": c.alerts()["history"], "notifications": c.notifications(),
             "alert": c.alert("down", "api"), "runs": run_ids(c, "api"),
             "incidents": incidents(c)}
    assert after["history"][-len(before["history"]):] == before["history"]
    assert after["notifications"] == before["notifications"]
    assert after["alert"]["state"] == "firing"
    assert after["alert"]["alert_id"] == before["alert"]["alert_id"]
    assert after["alert"]["since"] == before["alert"]["since"]
    assert before["runs"] <= after["runs"], "results lost by the migration"
    # The copied incident is still the open one: the failures on PostgreSQL
    # count in it (no second one), and a new update gets the next id.
    assert after["incidents"] == before["incidents"]
    U.wait_until(lambda: len(run_ids(c, "api")) > len(after["runs"]), 10, what="a run on PostgreSQL")
    assert incidents(c) == before["incidents"]
    r = c.request("POST", "/api/v1/incidents/%d/updates" % before["incidents"][0]["id"],
                  body=json.dumps({"status": "monitoring", "message": "moved to PostgreSQL"}),
                  headers={"Authorization": "Bearer " + U.ADMIN_TOKEN})
    assert r.status == 201, r
    assert [u["status"] for u in incidents(c)[0]["updates"]] == ["identified", "monitoring"]
    # The migrated state is the state: the restart on PostgreSQL does not page again.
    time.sleep(3)
    for rcv in rig.receivers:
        assert len(delivered(rcv, "firing")) == 1, rcv.snapshot()


# --- the store's unit tests on a server ------------------------------------------------------

@pytest.mark.parametrize("binary", ["test_store_pg", "test_incidents"])
def test_store_unit_tests_on_postgresql(pg_server, binary):
    """The unit tests that run on PostgreSQL when PHAROS_TEST_PG_URI names a
    scratch database (`make unit` skips those parts): each on a new database,
    so incidents, results, rollups and the outbox are checked on both stores."""
    path = os.path.join(U.REPO, "build", "tests", binary)
    if not os.path.exists(path):
        pytest.skip("%s is not built: run `make unit` first" % path)
    r = subprocess.run([path], env=U.base_env({"PHAROS_TEST_PG_URI": pg_server.new_database()}),
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300)
    out = r.stdout + r.stderr
    assert r.returncode == 0, out
    assert "PASSED" in out and "SKIPPED" not in out, out

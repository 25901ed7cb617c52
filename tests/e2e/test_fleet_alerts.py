"""End-to-end: alerting across the locations of a fleet (SPEC section 6,
issue 13): agents on one real PostgreSQL, each with its own location.

- min_locations = 2 (issue 13's first test): three agents sending from
  127.0.0.2/.3/.4 through agent.source_address, one nginx failing only for
  chosen client addresses; failing at one location pages nobody and every
  agent shows `degraded`; at two, exactly one notification per receiver (not
  one per agent) naming the failing locations; recovery resolves once.
- kill -9 of the agent holding a pending delivery: another agent delivers it
  within 30 s with the same idempotency key; the dead agent's location stops
  counting and the alert resolves.
- repeat: one per period for the fleet, not one per agent.
- PostgreSQL stopped for 75 s: the agents keep probing, /readyz says
  `database`, a page arrives after 60 s (fail-open), and the results of the
  gap are in the database after it returns."""

import os
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2eutil as U  # noqa: E402
from alerting import (FlipTarget, delivered, detection_bound_s, rig, wait_delivered,  # noqa: E402,F401
                      wait_state)
from conftest import start_pg_server, stop_pg_server  # noqa: E402
import fleet_util as F  # noqa: E402
from fleet_util import fleet_agent, start_all  # noqa: E402


@pytest.fixture
def targets():
    """One flip target per location, for the tests below the first: they
    test delivery leases, repeats and the partition, where which location
    fails matters but not how the agent tells it apart; a flip target
    changes at once and needs no nginx, and the agents' real source
    addresses are tested by test_min_locations_pages_once_per_receiver."""
    made = {}

    def get(location):
        if location not in made:
            made[location] = FlipTarget()
        return made[location]
    yield get
    for t in made.values():
        t.close()


def located_check(rig, target):
    return rig.check(url=target.url())


def db(uri, sql):
    return U.db_rows(uri, sql)


def webhook_ids(rcv, kind):
    return [r.headers.get("webhook-id") for r in delivered(rcv, kind)]


SOURCES = {"a": "127.0.0.2", "b": "127.0.0.3", "c": "127.0.0.4"}
# The fleet's sweep re-decides every pair with a firing condition every 10 s:
# "nobody paged" is watched for one sweep and a margin.
SWEEP_S = 10


def fleet_state(agent):
    """(state, {location: state}) of check "api" in the agent's /api/v1/checks."""
    c = agent.checks()["api"]
    return c["state"], {loc: x["state"] for loc, x in c.get("locations", {}).items()}


def wait_fleet_state(agents, state, per_location, timeout=30):
    for a in agents:
        U.wait_until(lambda: fleet_state(a) == (state, per_location), timeout, interval=0.2,
                     what="check api %s %r on %s" % (state, per_location, a.name))


def notification_rows(uri):
    return db(uri, "SELECT kind, notifier, state FROM notifications ORDER BY id")


def wait_all_delivered(uri, n):
    """Polls until the outbox holds n rows, every one delivered: from then
    on no agent has anything left to send."""
    U.wait_until(lambda: (lambda rows: len(rows) == n and all(r[2] == "delivered" for r in rows))(
                 notification_rows(uri)), 30, interval=0.2,
                 what="%d notifications, all delivered" % n)


def assert_nobody_paged(rig, uri, seconds):
    """Watches the receivers and the outbox for `seconds`; fails at the first
    notification (there is no condition to await for "nothing happens")."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for rcv in rig.receivers:
            assert rcv.snapshot() == [], "%s was paged: %r" % (rcv.name, rcv.snapshot())
        assert notification_rows(uri) == [], notification_rows(uri)
        time.sleep(0.5)


def failing_names(text, prefix):
    """The location names listed after prefix in a value or message."""
    assert text.startswith(prefix), (prefix, text)
    return set(text[len(prefix):].split(": ", 1)[0].split(", "))


def test_min_locations_pages_once_per_receiver(rig, pg_server, workdir):
    """Issue 13's first test: three agents on one PostgreSQL, sending from
    127.0.0.2/.3/.4 (agent.source_address), one nginx failing only for the
    client addresses the test chooses, a rule with min_locations = 2."""
    if not all(F.free_source_port_ok(s) for s in SOURCES.values()):
        pytest.skip("this host cannot send from 127.0.0.2-4")
    target = F.FleetNginx(workdir).start()
    try:
        _min_locations_scenario(rig, pg_server.new_database(), target)
    finally:
        target.stop()


def _min_locations_scenario(rig, uri, target):
    agents = [fleet_agent(rig, uri, loc, checks=[rig.check(url=target.url("/api"))],
                          rules=[rig.rule(min_locations=2)],
                          agent_extra={"source_address": src})
              for loc, src in SOURCES.items()]
    start_all(agents)
    F.wait_members(agents, 3)
    wait_fleet_state(agents, "up", {loc: "up" for loc in SOURCES})
    # Every probe left from its agent's own address, none from 127.0.0.1.
    assert set(target.hits("/api")) == set(SOURCES.values()), target.hits("/api")

    # One location failing: its condition is in the fleet, nobody is paged,
    # every agent shows the check degraded.
    target.fail_for([SOURCES["a"]])
    U.wait_until(lambda: db(uri, "SELECT location FROM fleet_conditions WHERE firing")
                 == [("a",)], detection_bound_s() + 10, interval=0.2,
                 what="a's condition, alone, in fleet_conditions")
    wait_fleet_state(agents, "degraded", {"a": "down", "b": "up", "c": "up"})
    assert_nobody_paged(rig, uri, SWEEP_S + 2)
    assert db(uri, "SELECT state FROM fleet_alerts WHERE rule = 'down'") == [("ok",)]
    for a in agents:
        assert (a.alert("down", "api") or {}).get("state") != "firing", a.alerts()

    # Two locations: one page per receiver, whichever agent sends it,
    # naming the failing locations.
    target.fail_for([SOURCES["a"], SOURCES["b"]])
    for rcv in rig.receivers:
        wait_delivered(rcv, "firing", timeout=detection_bound_s() + 15)
    wait_all_delivered(uri, len(rig.receivers))
    for rcv in rig.receivers:
        assert len(delivered(rcv, "firing")) == 1, "%s: %r" % (rcv.name, rcv.snapshot())
    assert sorted(r[:2] for r in notification_rows(uri)) == sorted(
        ("firing", n) for n in ("ops-slack", "oncall", "audit"))
    body = delivered(rig.hook, "firing")[0].json
    assert body["value"].startswith("2 of 3 locations failing: "), body
    assert failing_names(body["value"], "2 of 3 locations failing: ") == {"a", "b"}, body
    assert failing_names(body["message"], "failing at ") == {"a", "b"}, body
    assert db(uri, "SELECT state, episode FROM fleet_alerts WHERE rule = 'down'") == [("firing", 1)]
    wait_fleet_state(agents, "degraded", {"a": "down", "b": "down", "c": "up"})
    for a in agents:            # every agent shows the fleet's alert
        assert (a.alert("down", "api") or {}).get("state") == "firing", a.alerts()

    # Recovery: one resolve per receiver.
    target.fail_for([])
    for rcv in rig.receivers:
        wait_delivered(rcv, "resolved", timeout=detection_bound_s() + 15)
    wait_all_delivered(uri, 2 * len(rig.receivers))
    for rcv in rig.receivers:
        assert len(delivered(rcv, "resolved")) == 1, "%s: %r" % (rcv.name, rcv.snapshot())
        assert len(delivered(rcv, "firing")) == 1, "%s: %r" % (rcv.name, rcv.snapshot())
    assert db(uri, "SELECT state FROM fleet_alerts WHERE rule = 'down'") == [("ok",)]
    wait_fleet_state(agents, "up", {loc: "up" for loc in SOURCES})
    owners = db(uri, "SELECT DISTINCT lease_owner FROM notifications")
    assert owners and all(o[0] in SOURCES for o in owners), owners
    # Each agent read the fleet's pairs at start (its conditions restored).
    for a in agents:
        assert "reading the fleet's alerts failed" not in a.all_logs(), a.all_logs()[-3000:]


def test_kill9_of_the_delivering_agent_moves_its_delivery(rig, pg_server, targets):
    uri = pg_server.new_database()
    only_hook = [rig.rule(notify=["audit"])]
    a = fleet_agent(rig, uri, "ams", checks=[located_check(rig, targets("ams"))], rules=only_hook)
    b = fleet_agent(rig, uri, "fra", checks=[located_check(rig, targets("fra"))], rules=only_hook)
    start_all([a, b])
    wait_state(a, "api", "up")
    wait_state(b, "api", "up")

    rig.hook.fail(500)              # the first attempts fail: the row stays pending
    targets("ams").down()           # ams decides: the row is leased to it
    rig.hook.wait_for(timeout=detection_bound_s() + 10, what="a first attempt")
    a.kill9()
    t_kill = time.monotonic()
    first_key = rig.hook.snapshot()[0].headers.get("webhook-id")
    owner = db(uri, "SELECT lease_owner FROM notifications WHERE kind = 'firing'")
    assert owner == [("ams",)], owner
    rig.hook.answer_ok()

    wait_delivered(rig.hook, "firing", timeout=35)
    took = time.monotonic() - t_kill
    assert took <= 30, "the delivery moved after %.1f s" % took
    keys = {r.headers.get("webhook-id") for r in rig.hook.snapshot() if r.json.get("type") == "alert.firing"}
    assert keys == {first_key}, keys
    assert len(delivered(rig.hook, "firing")) == 1
    U.wait_until(lambda: db(uri, "SELECT state, lease_owner FROM notifications"
                                 " WHERE kind = 'firing'") == [("delivered", "fra")], 10,
                 what="the row delivered by fra")
    # The dead agent's location is unknown for 2 minutes (it holds the
    # alert), then stops counting: fra's sweep resolves the alert, after the
    # trigger (the order per alert holds across agents).
    wait_delivered(rig.hook, "resolved", timeout=150)
    kinds = [r.json.get("type") for r in rig.hook.snapshot() if r.answer == 200]
    assert kinds == ["alert.firing", "alert.resolved"], kinds


def test_repeats_once_per_period_for_the_fleet(rig, pg_server, targets):
    uri = pg_server.new_database()
    rules = [rig.rule(notify=["audit"], repeat="6s")]
    agents = [fleet_agent(rig, uri, loc, checks=[located_check(rig, targets(loc))], rules=rules)
              for loc in ("ams", "fra")]
    start_all(agents)
    for a in agents:
        wait_state(a, "api", "up")
    targets("ams").down()
    targets("fra").down()
    wait_delivered(rig.hook, "firing", timeout=detection_bound_s() + 10)
    # Both agents sweep every 10 s; the repeat due is sent once, by one.
    time.sleep(23)
    keys = webhook_ids(rig.hook, "firing")
    assert len(keys) == len(set(keys)), keys        # each repeat its own key, once
    assert 2 <= len(keys) <= 4, keys                # the page + 1-3 repeats, not per agent
    assert db(uri, "SELECT count(*) FROM notifications")[0][0] == len(keys)


@pytest.fixture
def own_pg():
    """A PostgreSQL server of this test alone: it gets stopped and started."""
    s = start_pg_server("fleet-partition")
    yield s
    stop_pg_server(s)


OUTAGE_S = 75


def test_database_stopped_75s_fails_open(rig, own_pg, targets):
    uri = own_pg.new_database()
    rules = [rig.rule(notify=["audit"])]
    a = fleet_agent(rig, uri, "ams", checks=[located_check(rig, targets("ams"))], rules=rules)
    b = fleet_agent(rig, uri, "fra", checks=[located_check(rig, targets("fra"))], rules=rules)
    start_all([a, b])
    wait_state(a, "api", "up")
    wait_state(b, "api", "up")

    own_pg.stop("stop")
    t_stop = time.monotonic()
    t_stop_us = int(time.time() * 1e6)
    targets("ams").down()
    for x in (a, b):
        U.wait_until(lambda: x.get("/readyz", timeout=10).status == 503, 20,
                     what="/readyz 503 while PostgreSQL is stopped")
        assert "database" in x.get("/readyz", timeout=10).text
    # Nothing before 60 s without the database, a page from ams after it.
    time.sleep(max(0, 55 - (time.monotonic() - t_stop)))
    assert delivered(rig.hook, "firing") == [], "paged before 60 s without the database"
    wait_delivered(rig.hook, "firing", timeout=20)
    assert time.monotonic() - t_stop >= 60
    assert "ams" in delivered(rig.hook, "firing")[0].json["value"], delivered(rig.hook, "firing")[0].json
    for x in (a, b):
        assert x.running(), x.logs()[-3000:]
        assert x.checks()["api"]["state"] in ("up", "down")      # still probing
    rest = OUTAGE_S - (time.monotonic() - t_stop)
    if rest > 0:
        time.sleep(rest)
    own_pg.start_again()
    t_back_us = int(time.time() * 1e6)

    for x in (a, b):
        U.wait_until(lambda: x.get("/readyz", timeout=10).status == 200, 30,
                     what="/readyz 200 after PostgreSQL is back")
    # The gap's results were written.
    for loc in ("ams", "fra"):
        n = db(uri, "SELECT count(*) FROM results WHERE check_name = 'api' AND ts_us >= %d"
                    " AND ts_us < %d" % (t_stop_us, t_back_us))[0][0]
        assert n >= OUTAGE_S, "only %d results of the %d s gap" % (n, OUTAGE_S)
    # The fleet's page after the return carries the same key as the one
    # sent failing open (a receiver deduplicates it).
    U.wait_until(lambda: db(uri, "SELECT state FROM fleet_alerts WHERE rule = 'down'")
                 == [("firing",)], 20, what="the fleet's alert to fire")
    time.sleep(3)
    keys = set(webhook_ids(rig.hook, "firing"))
    assert len(keys) == 1, keys

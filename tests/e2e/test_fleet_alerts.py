"""End-to-end: alerting across the locations of a fleet (SPEC section 6,
issue 13): agents on one real PostgreSQL, each with its own location; the
same check name points at a target of that location alone, so the test
chooses where it fails (until source_address exists).

- min_locations = 2: failing at one location pages nobody; at two, exactly
  one notification per receiver (not one per agent); recovery resolves once.
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
from fleet_util import fleet_agent, start_all  # noqa: E402


@pytest.fixture
def targets():
    """One flip target per location."""
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


def test_min_locations_pages_once_per_receiver(rig, pg_server, targets):
    uri = pg_server.new_database()
    locations = ("ams", "fra", "nyc")
    agents = [fleet_agent(rig, uri, loc, checks=[located_check(rig, targets(loc))],
                          rules=[rig.rule(min_locations=2)]) for loc in locations]
    start_all(agents)
    for a in agents:
        wait_state(a, "api", "up")

    # One location failing: its condition is in the fleet, nobody is paged.
    targets("ams").down()
    wait_state(agents[0], "api", "down")
    U.wait_until(lambda: db(uri, "SELECT location FROM fleet_conditions WHERE firing"),
                 detection_bound_s() + 5, what="the ams condition in fleet_conditions")
    time.sleep(3)
    for rcv in rig.receivers:
        assert delivered(rcv, "firing") == [], "%s paged for one location" % rcv.name
    assert db(uri, "SELECT state FROM fleet_alerts WHERE rule = 'down'") == [("ok",)]

    # Two locations: one page per receiver, naming both locations.
    targets("fra").down()
    for rcv in rig.receivers:
        wait_delivered(rcv, "firing", timeout=detection_bound_s() + 10)
    time.sleep(4)
    for rcv in rig.receivers:
        assert len(delivered(rcv, "firing")) == 1, "%s: %r" % (rcv.name, rcv.snapshot())
    body = delivered(rig.hook, "firing")[0].json
    assert "ams" in body["value"] and "fra" in body["value"] and "nyc" not in body["value"], body
    assert body["value"].startswith("2 of 3 locations failing"), body
    fa = db(uri, "SELECT state, episode FROM fleet_alerts WHERE rule = 'down'")
    assert fa == [("firing", 1)], fa
    # Every agent shows the fleet's alert.
    for a in agents:
        assert (a.alert("down", "api") or {}).get("state") == "firing", a.alerts()

    # Recovery: one resolve per receiver.
    targets("ams").up()
    targets("fra").up()
    for rcv in rig.receivers:
        wait_delivered(rcv, "resolved", timeout=detection_bound_s() + 10)
    time.sleep(4)
    for rcv in rig.receivers:
        assert len(delivered(rcv, "resolved")) == 1, "%s: %r" % (rcv.name, rcv.snapshot())
        assert len(delivered(rcv, "firing")) == 1, "%s: %r" % (rcv.name, rcv.snapshot())
    owners = db(uri, "SELECT DISTINCT lease_owner FROM notifications")
    assert owners and all(o[0] in locations for o in owners), owners


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
    # The dead agent's location stops counting: fra's sweep resolves the
    # alert, after the trigger (the order per alert holds across agents).
    wait_delivered(rig.hook, "resolved", timeout=45)
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

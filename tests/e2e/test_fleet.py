"""A fleet (SPEC §6): three agents on one PostgreSQL database, sending from
127.0.0.2, .3 and .4, probing one nginx that logs who asked. A check with
locations = ["b"] runs at b only; "any" checks are spread over the three,
each run at exactly one of them; kill -9 of one agent moves its "any" checks
within 30 s and /api/v1/agents shows it down; a second agent with a live
agent's location is refused at start."""

import os
import re
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2eutil as U  # noqa: E402
import fleet_util as F  # noqa: E402

SOURCES = {"a": "127.0.0.2", "b": "127.0.0.3", "c": "127.0.0.4"}
N_ANY = 30


def fleet_checks(target):
    checks = [{"name": "only-b", "type": "http", "url": target.url("/only-b"), "locations": ["b"]},
              {"name": "all", "type": "http", "url": target.url("/all")}]
    for i in range(N_ANY):
        checks.append({"name": "any-%d" % i, "type": "http", "url": target.url("/any-%d" % i),
                       "locations": "any"})
    return checks


@pytest.fixture(scope="module")
def fleet(module_workdir, pg_server):
    target = F.FleetNginx(module_workdir).start()
    db = pg_server.new_database()
    checks = fleet_checks(target)
    agents = F.start_fleet(module_workdir, db, [F.AgentSpec(loc, src, checks)
                                                for loc, src in SOURCES.items()])
    try:
        F.wait_members(agents, 3)
        yield {"target": target, "db": db, "agents": {a.location: a for a in agents},
               "checks": checks, "workdir": module_workdir}
    finally:
        F.stop_fleet(agents)
        target.stop()


def wait_runs(target, since, n):
    """Polls until /all was asked n times from every source since `since`."""
    def enough():
        h = target.hits("/all", since)
        return all(h.get(src, 0) >= n for src in SOURCES.values())
    U.wait_until(enough, 30, interval=0.2, what="%d runs of \"all\" at every agent" % n)


def test_list_runs_only_at_named_location(fleet):
    t = fleet["target"]
    since = time.time()
    wait_runs(t, since, 4)
    assert set(t.hits("/only-b", since)) == {SOURCES["b"]}, t.hits("/only-b", since)


def test_any_checks_spread_and_run_once(fleet):
    t = fleet["target"]
    since = time.time()
    wait_runs(t, since, 6)
    until = time.time()
    owners = {}
    for i in range(N_ANY):
        h = t.hits("/any-%d" % i, since)
        assert len(h) == 1, "any-%d ran at %r (membership is stable: one owner)" % (i, h)
        src, runs = next(iter(h.items()))
        owners.setdefault(src, []).append(i)
        # every interval (1 s) once: never twice per interval
        assert runs <= (until - since) + 2, "any-%d ran %d times in %.1fs" % (i, runs, until - since)
        assert runs >= 3, "any-%d ran only %d times in %.1fs" % (i, runs, until - since)
    assert set(owners) == set(SOURCES.values()), "not every agent got some: %r" % owners


def test_agents_api_and_metrics(fleet):
    a = fleet["agents"]["a"]
    by_loc = a.agents()
    assert set(by_loc) == set(SOURCES), by_loc
    for loc, x in by_loc.items():
        assert x["state"] == "up", x
        assert x["version"], x
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", x["last_seen"]), x
    # checks: "all" everywhere, only-b at b, the "any" ones shared: N_ANY in all
    U.wait_until(lambda: sum(x["checks"] for x in a.agents().values()) == 3 + 1 + N_ANY, 15,
                 interval=0.5, what="the members' check counts to add up")
    assert a.agents()["b"]["checks"] >= 2
    m = a.get("/metrics").text
    assert 'pharos_fleet_agents{state="up"} 3' in m, m[-2000:]
    assert 'pharos_fleet_agents{state="down"} 0' in m
    assert re.search(r'pharos_check_up\{check="all",location="a"[,}][^\n]* 1', m), \
        [l for l in m.splitlines() if l.startswith("pharos_check_up")][:5]


def test_duplicate_live_location_refused(fleet):
    spec = F.AgentSpec("b", "127.0.0.5", fleet["checks"])
    dup = F.FleetAgent(os.path.join(fleet["workdir"], "dup"), fleet["db"], spec)
    with pytest.raises(AssertionError) as e:
        dup.start(ready_timeout=20)
    assert 'agent.location \\"b\\" is already used by a live agent' in str(e.value) or \
        'agent.location "b" is already used by a live agent' in str(e.value), str(e.value)[-2000:]
    assert dup.proc.returncode == 1
    dup._log.close()
    # the live b keeps its place
    assert fleet["agents"]["a"].agents()["b"]["state"] == "up"


def test_kill_moves_any_checks_within_30s(fleet):
    t = fleet["target"]
    c = fleet["agents"]["c"]
    since = time.time()
    wait_runs(t, since, 3)
    mine = [i for i in range(N_ANY) if SOURCES["c"] in t.hits("/any-%d" % i, since)]
    assert mine, "c owned no \"any\" check"
    c.proc.kill()           # SIGKILL: no goodbye in the database
    c.proc.wait(10)
    killed = time.time()

    def moved():
        return all(set(t.hits("/any-%d" % i, killed)) - {SOURCES["c"]} for i in mine)
    U.wait_until(moved, 30, interval=0.5, what="c's \"any\" checks to run elsewhere")
    took = time.time() - killed
    print("c's %d \"any\" checks moved in %.1fs" % (len(mine), took))
    assert took <= 30
    a = fleet["agents"]["a"]
    U.wait_until(lambda: a.agents()["c"]["state"] == "down", 30, interval=0.5,
                 what="/api/v1/agents to show c down")
    # the survivors share every "any" check between them, each at one place
    since = time.time()
    wait_runs_two = lambda: all(t.hits("/all", since).get(SOURCES[x], 0) >= 4 for x in "ab")
    U.wait_until(wait_runs_two, 30, interval=0.2, what="runs at a and b")
    for i in range(N_ANY):
        h = t.hits("/any-%d" % i, since)
        assert len(h) == 1 and SOURCES["c"] not in h, (i, h)
    c._log.close()
    c.proc = None


def test_sqlite_agent_is_a_fleet_of_one(workdir):
    """On SQLite nothing of the fleet runs: every check runs whatever its
    locations, /api/v1/agents lists the agent alone, /metrics is unchanged."""
    target = F.FleetNginx(workdir).start()
    a = F.FleetAgent(workdir, os.path.join(workdir, "solo.db"),
                     F.AgentSpec("solo", None, [
                         {"name": "elsewhere", "type": "http", "url": target.url("/elsewhere"),
                          "locations": ["nowhere"]},
                         {"name": "any", "type": "http", "url": target.url("/any"),
                          "locations": "any"}]))
    try:
        a.start()
        U.wait_until(lambda: target.hits("/elsewhere").get("127.0.0.1", 0) >= 1 and
                     target.hits("/any").get("127.0.0.1", 0) >= 1, 15, what="both checks to run")
        agents = a.get_json("/api/v1/agents")
        assert [(x["location"], x["state"], x["checks"]) for x in agents] == [("solo", "up", 2)]
        m = a.get("/metrics").text
        assert "pharos_fleet_agents" not in m
        assert 'location="' not in m
    finally:
        assert a.stop()[0] == 0
        target.stop()

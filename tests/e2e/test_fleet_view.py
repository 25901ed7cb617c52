"""The fleet's view (SPEC section 6, issue 13): three agents at three
locations on one real PostgreSQL, each with its own config in which the same
check names point at a passing or a failing nginx path. Every agent shows
the same fleet: `degraded` for the check failing at one location, `down` for
the one failing everywhere, `up` for the rest, each with all three
locations; the status page has a column per location (in Chromium too, after
its script refreshed it) and the check page a row per location. Every result
records its location, on SQLite and on PostgreSQL, and migrate-db keeps it."""

import re
import sqlite3

import pytest

import e2eutil as U
import fleet_util as F

LOCATIONS = ("ap-south", "eu-west", "us-east")
# check name -> the locations where it fails (nginx answers /unavailable 503)
FAILS_AT = {"home": (), "shop": ("us-east",), "legacy": LOCATIONS}
WANT = {"home": "up", "shop": "degraded", "legacy": "down"}


def checks_at(location, nginx):
    return [{"name": name, "type": "http",
             "url": nginx.url("/unavailable" if location in fails else "/index.html")}
            for name, fails in sorted(FAILS_AT.items())]


@pytest.fixture(scope="module")
def fleet(module_workdir, pg_server, nginx):
    """The three agents (fleet_util.FleetAgent), in LOCATIONS order; each
    must exit 0 on SIGTERM at the end."""
    specs = [F.AgentSpec(loc, None, checks_at(loc, nginx)) for loc in LOCATIONS]
    agents = F.start_fleet(module_workdir, pg_server.new_database(), specs)
    try:
        yield agents
    finally:
        codes = F.stop_fleet(agents)
    bad = {loc: rc for loc, rc in codes.items() if rc != 0}
    assert not bad, "agents exited with %r:\n%s" % (bad, "\n".join(
        a.logs()[-3000:] for a in agents if a.location in bad))


def fleet_settled(agent):
    """Every check in its fleet state, seen from every location: a check is
    `degraded` already when only two locations have reported."""
    checks = agent.checks()
    return ({n: c["state"] for n, c in checks.items()} == WANT
            and all(sorted(c["locations"]) == list(LOCATIONS) for c in checks.values()))


def test_every_agent_shows_the_fleet(fleet):
    for a in fleet:
        U.wait_until(lambda: fleet_settled(a), 30,
                     what="the fleet's states on %s" % a.location)
    for a in fleet:
        checks = a.checks()
        for name, want in WANT.items():
            locs = checks[name]["locations"]
            assert sorted(locs) == list(LOCATIONS), (name, locs)
            for loc, l in locs.items():
                fails = loc in FAILS_AT[name]
                assert l["state"] == ("down" if fails else "up"), (a.location, name, loc, l)
                assert l["last"]["ok"] is (not fails)
                assert l["last"]["location"] == loc
                assert l["stale"] is False
                if fails:
                    assert l["last"]["error"] == "http_status", l
        one = a.get_json("/api/v1/checks/shop")
        assert one["state"] == "degraded" and sorted(one["locations"]) == list(LOCATIONS)
        # The fleet's results: every location's runs are in the shared database.
        assert {r["location"] for r in one["recent"]} == set(LOCATIONS), one["recent"]


def test_the_failing_location_shows_the_fleet(fleet):
    """The agent where the check fails shows the fleet's state, not only
    its own last run."""
    us = fleet[LOCATIONS.index("us-east")]
    U.wait_until(lambda: fleet_settled(us), 30, what="the fleet's states")
    shop = us.checks()["shop"]
    assert shop["state"] == "degraded"
    assert shop["locations"]["us-east"]["state"] == "down"
    assert shop["locations"]["eu-west"]["state"] == "up"


def test_status_page_has_a_column_per_location(fleet):
    a = fleet[0]
    U.wait_until(lambda: fleet_settled(a), 30, what="the fleet's states")
    html = a.get("/").text
    head = re.search(r'<span class="g-locs">((?:<span>[^<]*</span>)*)</span>', html)
    assert head, html[:3000]
    assert re.findall(r"<span>([a-z-]+)</span>", head.group(1)) == list(LOCATIONS)
    row = re.search(r'<li class="check" data-name="shop" data-state="degraded">(.*?)</li>', html)
    assert row, html
    cells = re.findall(r'<span class="loc st-(\w+)" data-loc="([a-z-]+)"', row.group(1))
    assert cells == [("up", "ap-south"), ("up", "eu-west"), ("down", "us-east")], cells
    # Not colour alone: the state in words for screen readers, and "down" shown.
    assert '<span class="vh">us-east down</span>down</span>' in row.group(1)
    assert "Degraded</span>" in row.group(1)
    assert "failing at some locations" in html        # the legend
    assert "1 check down" in html and "1 up · 1 down · 1 degraded" in html

    page = a.get("/check/shop").text
    rows = re.findall(r'<tr data-loc="([a-z-]+)"><td>[a-z-]+</td><td><span class="loc st-(\w+)"',
                      page)
    assert rows == [("ap-south", "up"), ("eu-west", "up"), ("us-east", "down")], rows


def test_status_page_in_chromium(fleet):
    """After the page's script refreshed it from /api/v1/checks, the states
    and the location cells are still the fleet's."""
    from test_page import dump_dom, screenshot
    a = fleet[1]
    dom = dump_dom("http://127.0.0.1:%d/" % a.port)
    row = re.search(r'<li class="check" data-name="legacy" data-state="down">(.*?)</li>', dom)
    assert row, dom[:3000]
    assert len(re.findall(r'class="loc st-down"', row.group(1))) == 3
    row = re.search(r'<li class="check" data-name="shop" data-state="degraded">(.*?)</li>', dom)
    assert row and "Degraded" in row.group(1), dom[:3000]
    assert re.search(r'id="counts">3 checks · 1 up · 1 down · 1 degraded<', dom), dom[:3000]
    screenshot("http://127.0.0.1:%d/" % a.port, "fleet-index.png", "1280,900")


# --- the location of every result, on both stores ------------------------------------------

def test_results_record_their_location(store, start_agent, workdir, nginx, pg_server):
    a = start_agent([{"name": "home", "type": "http", "url": nginx.url("/index.html")}],
                    agent_extra={"location": "lab-1"})
    U.wait_until(lambda: len(a.get_json("/api/v1/checks/home/results")) >= 2, 20,
                 what="two results")
    rows = a.get_json("/api/v1/checks/home/results")
    assert {r["location"] for r in rows} == {"lab-1"}, rows
    c = a.checks()["home"]
    if store == "sqlite":
        assert "locations" not in c, c                  # SQLite: unchanged
        con = sqlite3.connect(a.db)
        try:
            assert con.execute("SELECT DISTINCT location FROM results").fetchall() == [("lab-1",)]
        finally:
            con.close()
        a.stop()
        uri = pg_server.new_database()
        r = U.run_pharos(["migrate-db", "--from", a.db, "--to", uri], timeout=120)
        assert r.rc == 0, r
        db = uri.rsplit("/", 1)[1]
        assert pg_server.psql("SELECT DISTINCT location FROM results", db=db).split() == ["lab-1"]
    else:
        U.wait_until(lambda: "lab-1" in a.checks()["home"].get("locations", {}), 10,
                     what="the agent's own location in the fleet's view")
        assert a.checks()["home"]["state"] == "up"

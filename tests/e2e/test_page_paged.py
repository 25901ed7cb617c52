"""A fleet bigger than agent.page_full_up_to (default 2,000) over the wire:
GET / shows the summary, the checks that are not up first, the groups, and
the list in numbered pages that link to each other and hold every check
exactly once (also narrowed to one group, hostile names included); bad page
numbers and unknown groups answer 400 / 404 pages, never 500. The page keeps
working (and refreshing) in headless Chromium. /api/v1/checks pages with
limit/offset, filters by state and group, and rejects bad values with 400 and
a JSON error. A small fleet keeps the full page unless the setting says
otherwise.

2,500 checks that start fast: 300 tcp checks to a closed local port (down
within 2 s), 100 to a listening one (up), the rest heartbeats that nobody
pings (pending, no probing at all)."""

import re
import urllib.parse

import pytest

import e2eutil as U
from test_page import assert_no_markup_leak, chromium, screenshot

EVIL_GROUP = "<script>alert(1)</script> & co"
N_DOWN, N_UP, N_TOTAL = 300, 100, 2500
PAGE_ROWS = 1000
# by index modulo 8: the hostile group holds 1,250 checks (two pages of its
# own, and the main list's page 2 starts inside it), the others ~312
GROUPS = ["alpha", EVIL_GROUP, "beta", EVIL_GROUP, "gamma", EVIL_GROUP, None, EVIL_GROUP]
N_GROUPS = 5


def big_checks(tcp):
    checks = []
    for i in range(N_TOTAL):
        g = GROUPS[i % len(GROUPS)]
        if i < N_DOWN:
            c = {"name": "down-%04d" % i, "type": "tcp", "host": "127.0.0.1", "port": tcp.refused,
                 "interval": "2s", "timeout": "1s"}
        elif i < N_DOWN + N_UP:
            c = {"name": "up-%04d" % i, "type": "tcp", "host": "127.0.0.1",
                 "port": tcp.silent.port, "interval": "5s", "timeout": "1s"}
        else:
            c = {"name": "hb-%04d" % i, "type": "heartbeat", "interval": "1h", "token": "t0ken-hb"}
        if g is not None:
            c["group"] = g
        checks.append(c)
    return checks


@pytest.fixture(scope="module")
def big(module_workdir, tcp, pharos_bin):
    a = U.Agent(module_workdir, big_checks(tcp), defaults={"interval": "1h", "timeout": "1s"})
    a.start()
    try:
        def settled():
            d = a.get_json("/api/v1/checks?state=up,down&limit=1")
            return d["total"] == N_DOWN + N_UP
        U.wait_until(settled, 40, interval=0.3, what="every tcp check's first run")
        U.wait_until(lambda: a.get_json("/api/v1/checks?state=up&limit=1")["total"] == N_UP, 40,
                     interval=0.3, what="the listening port's checks up")
        yield a
    finally:
        rc, _ = a.stop(15)
        assert rc == 0, a.logs()[-3000:]


def rows(html):
    """(name, state) of every row of the list, in page order."""
    return re.findall(r'<li class="check" data-name="([^"]+)" data-state="([^"]+)"', html)


def link(html, rel):
    m = re.search(r'<a rel="%s" href="([^"]+)"' % rel, html)
    return m.group(1).replace("&amp;", "&") if m else None


def walk_pages(agent, first):
    """Follows the next links from first; returns [(path, html)]."""
    pages, path = [], first
    while path is not None:
        r = agent.get(path)
        assert r.status == 200, (path, r)
        pages.append((path, r.text))
        path = link(r.text, "next")
        assert len(pages) <= 10
    return pages


def test_summary_problems_and_groups(big):
    r = big.get("/")
    assert r.status == 200 and r.headers["content-type"].startswith("text/html")
    html = r.text
    assert_no_markup_leak(html)
    assert "data-paged" in html
    assert '<h1 id="summary-text">%d checks down</h1>' % N_DOWN in html
    assert "%d checks · %d up · %d down" % (N_TOTAL, N_UP, N_DOWN) in html
    # the checks not up, the worst first, capped with a count of the rest
    probs = re.findall(r'<li class="prob" data-name="([^"]+)" data-state="([^"]+)"', html)
    assert len(probs) == 100
    assert all(st == "down" for _, st in probs)     # 300 down come before any pending
    assert re.search(r'<h2>Not up <span class="n">%d</span>' % (N_TOTAL - N_UP), html)
    assert '<p class="more">and %d more not up</p>' % (N_TOTAL - N_UP - 100) in html
    # every group with its count, down and worst state; names escaped and linked
    table = re.search(r'<section id="groups".*?</section>', html, re.S).group(0)
    found = re.findall(r'<tr><td><a href="(/\?group=[^"]*)">([^<]*)</a></td><td class="num">(\d+)</td>'
                       r'<td class="num[^"]*">(\d+)</td><td><span class="state st-(\w+)"', table)
    assert len(found) == N_GROUPS
    assert sum(int(n) for _, _, n, _, _ in found) == N_TOTAL
    assert sum(int(d) for _, _, _, d, _ in found) == N_DOWN
    assert all(w == "down" for *_, w in found)
    names = [n for _, n, _, _, _ in found]
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in names and "(no group)" in names
    # the page is small: a page of rows, not every check
    assert len(rows(html)) == PAGE_ROWS
    assert len(r.body) < 2 * 1024 * 1024


def test_pages_cover_every_check_once(big):
    pages = walk_pages(big, "/")
    assert len(pages) == 3
    seen = [n for _, html in pages for n, _ in rows(html)]
    assert len(seen) == N_TOTAL and len(set(seen)) == N_TOTAL
    api = {c["name"]: c for c in big.get_json("/api/v1/checks")}
    assert set(seen) == set(api)
    # the pager: where we are, and links both ways
    for i, (path, html) in enumerate(pages, 1):
        assert "Page %d of 3" % i in html
        if i > 1:
            assert link(html, "prev") == ("/" if i == 2 else "/?page=%d" % (i - 1))
            assert '<section id="problems"' not in html     # the overview is on page 1
        assert link(html, "next") == (None if i == 3 else "/?page=%d" % (i + 1))
    # by group as on the full page: groups by name, the ungrouped last
    order = [api[n]["group"] for n in seen]
    keys = [(g is None, g or "") for g in order]
    assert keys == sorted(keys)
    assert "(continued)" in pages[1][1]


def test_group_filter(big):
    home = big.get("/").text
    evil_href = re.search(r'<a href="(/\?group=[^"]*)">&lt;script&gt;', home).group(1)
    assert evil_href == "/?group=" + urllib.parse.quote(EVIL_GROUP, safe="")
    pages = walk_pages(big, evil_href)
    names = [n for _, html in pages for n, _ in rows(html)]
    want = [c["name"] for c in big.get_json("/api/v1/checks") if c["group"] == EVIL_GROUP]
    assert names == want and len(want) == 1250 and len(pages) == 2
    first = pages[0][1]
    assert_no_markup_leak(first)
    assert '<section id="group-filter"' in first and '<section id="groups"' not in first
    probs = re.findall(r'<li class="prob" data-name="([^"]+)"', first)
    assert probs and set(probs) <= set(want)
    assert link(first, "next").startswith("/?page=2&group=")
    # the checks without a group: "group=" with no value
    none = walk_pages(big, "/?group=")
    assert len([n for _, h in none for n, _ in rows(h)]) == N_TOTAL // 8


def test_bad_page_queries(big):
    for path, status in (("/?page=0", 400), ("/?page=x", 400), ("/?page=-1", 400),
                         ("/?page=4", 404), ("/?group=nope", 404),
                         ("/?page=99999999999999999999999", 400)):
        r = big.get(path)
        assert r.status == status, (path, r)
        assert r.headers["content-type"].startswith("text/html")
    assert big.get("/?page=3").status == 200
    assert big.get("/?other=1").status == 200


def test_api_paging_covers_every_check_once(big):
    full = big.get_json("/api/v1/checks")
    assert isinstance(full, list) and len(full) == N_TOTAL
    got, offset, calls = [], 0, 0
    while offset is not None:
        d = big.get_json("/api/v1/checks?limit=700&offset=%d" % offset)
        assert d["total"] == N_TOTAL and d["limit"] == 700 and d["offset"] == offset
        got += d["checks"]
        offset = d["next_offset"]
        calls += 1
    assert calls == 4
    assert [c["name"] for c in got] == [c["name"] for c in full]    # config order, once each
    assert got[0].keys() == full[0].keys()                          # the same objects
    # past the end: empty, no next
    d = big.get_json("/api/v1/checks?offset=%d" % N_TOTAL)
    assert d["checks"] == [] and d["next_offset"] is None and d["limit"] == 1000


def test_api_filters(big):
    down = big.get_json("/api/v1/checks?state=down")
    assert isinstance(down, list) and len(down) == N_DOWN
    assert all(c["state"] == "down" for c in down)
    both = big.get_json("/api/v1/checks?state=down,up&limit=50&offset=280")
    assert both["total"] == N_DOWN + N_UP and len(both["checks"]) == 50
    assert [c["state"] for c in both["checks"]] == ["down"] * 20 + ["up"] * 30
    g = big.get_json("/api/v1/checks?group=" + urllib.parse.quote(EVIL_GROUP, safe=""))
    assert len(g) == 1250 and all(c["group"] == EVIL_GROUP for c in g)
    ungrouped = big.get_json("/api/v1/checks?group=&state=pending&limit=10000")
    assert all(c["group"] is None and c["state"] == "pending" for c in ungrouped["checks"])
    assert ungrouped["total"] == len(ungrouped["checks"]) > 0
    assert big.get_json("/api/v1/checks?group=nope") == []


def test_api_rejects_bad_values(big):
    for q, word in (("limit=0", "limit"), ("limit=10001", "limit"), ("limit=abc", "limit"),
                    ("limit=", "limit"), ("offset=-1", "offset"), ("offset=1e3", "offset"),
                    ("state=broken", "state"), ("state=down,", "state"), ("state=", "state")):
        r = big.get("/api/v1/checks?" + q)
        assert r.status == 400, (q, r)
        assert r.headers["content-type"].startswith("application/json")
        body = r.json()
        assert body["error"] == "bad_request" and body["detail"].startswith(word + ":"), body


def test_big_page_in_browser(big):
    base = "http://127.0.0.1:%d" % big.port
    dom = chromium(base + "/?page=2", ["--virtual-time-budget=17000", "--dump-dom"])
    assert_no_markup_leak(dom)
    # the refresh fetched the page again and swapped it in: still page 2, whole
    assert "refresh failed" not in dom
    assert "Page 2 of 3" in dom and len(rows(dom)) == PAGE_ROWS
    upd = re.search(r'<span id="updated">(.*?)</span>', dom).group(1)
    assert re.search(r'data-utc="\d{4}-\d\d-\d\dT[^"]*Z"', upd), upd
    dom = chromium(base + "/", ["--virtual-time-budget=17000", "--dump-dom"])
    assert '<section id="problems"' in dom and "refresh failed" not in dom
    screenshot(base + "/", "index-paged.png", size="1280,2400")


def test_setting_pages_a_small_fleet(start_agent, tcp, cli):
    checks = [{"name": "a%d" % i, "type": "tcp", "host": "127.0.0.1", "port": tcp.refused,
               "group": "g"} for i in range(3)]
    a = start_agent(checks, agent_extra={"page_full_up_to": 2})
    html = a.get("/").text
    assert "data-paged" in html and '<section id="problems"' in html
    assert len(rows(html)) == 3 and "Page 1 of 1" in html
    # "?group" without a value asks for the checks without a group: there
    # are none here, and the answer names the empty group, not "(null)"
    r = a.get("/?group")
    assert r.status == 404 and 'There is no group named &quot;&quot;.' in r.text, r.text[-600:]
    b = start_agent(checks, name="full", agent_extra={"page_full_up_to": 3})
    html = b.get("/").text
    assert "data-paged" not in html and len(rows(html)) == 3
    assert b.get("/?page=7").status == 200          # a full page ignores the query
    bad = cli.run("check-config", "-c", cli.config(checks=checks, agent={"page_full_up_to": -1}))
    assert bad.rc != 0 and "page_full_up_to" in bad.stdout + bad.stderr


def test_fleet_page_in_pages(module_workdir, pg_server, nginx):
    """In a fleet the numbered page shows what the full page shows: the
    fleet's states (degraded among the checks not up), a column per location
    in the list's groups, and ?state= of the API filters by the fleet's
    state too."""
    import fleet_util as F
    locations = ("ap-south", "eu-west", "us-east")
    fails_at = {"home": (), "shop": ("us-east",), "legacy": locations}

    def checks_at(loc):
        return [{"name": n, "type": "http", "group": "web",
                 "url": nginx.url("/unavailable" if loc in fails else "/index.html")}
                for n, fails in sorted(fails_at.items())]

    specs = [F.AgentSpec(loc, None, checks_at(loc), agent_extra={"page_full_up_to": 0})
             for loc in locations]
    agents = F.start_fleet(module_workdir, pg_server.new_database(), specs)
    try:
        a = agents[0]
        want = {"home": "up", "shop": "degraded", "legacy": "down"}
        U.wait_until(lambda: {n: c["state"] for n, c in a.checks().items()} == want, 30,
                     what="the fleet's states")
        html = a.get("/").text
        assert "data-paged" in html and "failing at some locations" in html
        probs = re.findall(r'<li class="prob" data-name="([^"]+)" data-state="([^"]+)"', html)
        assert probs == [("legacy", "down"), ("shop", "degraded")], probs
        head = re.search(r'<span class="g-locs">((?:<span>[^<]*</span>)*)</span>', html)
        assert head and re.findall(r"<span>([a-z-]+)</span>", head.group(1)) == list(locations)
        row = re.search(r'<li class="check" data-name="shop" data-state="degraded">(.*?)</li>', html)
        assert row, html[-3000:]
        cells = re.findall(r'<span class="loc st-(\w+)" data-loc="([a-z-]+)"', row.group(1))
        assert cells == [("up", "ap-south"), ("up", "eu-west"), ("down", "us-east")], cells
        d = a.get_json("/api/v1/checks?state=degraded&limit=10")
        assert [c["name"] for c in d["checks"]] == ["shop"] and d["total"] == 1
        assert d["checks"][0]["state"] == "degraded"
    finally:
        codes = F.stop_fleet(agents)
    assert all(rc == 0 for rc in codes.values()), codes
